// A real Polkadot.js client against dt-node: reads the metadata and the consortium's
// storage, submits signed extrinsics (a remark, a twin) and waits for their finality, reads
// the twin back through a runtime API and the node's twin_getAml, and checks that an
// account of no organisation is refused by the pool.
//
//   node check.mjs ws://127.0.0.1:9944     (a `dt-node --dev` node)
import { ApiPromise, WsProvider } from '@polkadot/api';
import { check, fail } from './report.mjs';
import { Keyring } from '@polkadot/keyring';

const url = process.argv[2] ?? 'ws://127.0.0.1:9944';
const TIMEOUT_MS = 120_000;

const timer = setTimeout(() => fail(`no result within ${TIMEOUT_MS / 1000} s`), TIMEOUT_MS);

const provider = new WsProvider(url);
const api = await ApiPromise.create({
  provider,
  // The membership check carries no data in the transaction or in the signed payload.
  signedExtensions: { CheckMembership: { extrinsic: {}, payload: {} } },
  noInitWarn: true,
});

const pallets = api.runtimeMetadata.asLatest.pallets.map((p) => p.name.toString());
check(pallets.includes('Consortium'), `metadata lists the Consortium pallet (${pallets.join(', ')})`);
check(api.runtimeVersion.specName.toString() === 'dt-ledger', 'runtime reports spec name dt-ledger');

const keyring = new Keyring({ type: 'sr25519' });
const alice = keyring.addFromUri('//Alice');
const ferdie = keyring.addFromUri('//Ferdie');

const member = await api.query.consortium.members(alice.address);
check(member.isSome, 'Alice is a member of the consortium (consortium.members)');
const organisationId = member.unwrap().organisation.toNumber();
const organisation = await api.query.consortium.organisations(organisationId);
check(organisation.isSome, `Alice's organisation ${organisationId} exists`);
console.log(`     organisation name: ${organisation.unwrap().name.toUtf8()}`);

const key = await api.call.consortiumApi.encryptionKey(alice.address);
check(key.isSome && key.unwrap().length > 384,
  `runtime API consortiumApi.encryptionKey returns Alice's RSA key (${key.unwrap().length} bytes)`);
const partnerNodes = await api.call.consortiumApi.partnerNodes();
check(partnerNodes.length === 0, 'a --dev chain registers no partner node (runtime API consortiumApi.partnerNodes)');

const finalized = await new Promise((resolve, reject) => {
  api.tx.system
    .remark('written by Polkadot.js')
    .signAndSend(alice, ({ status, dispatchError, events }) => {
      if (dispatchError) reject(new Error(`dispatch error: ${dispatchError.toString()}`));
      if (status.isFinalized) {
        const success = events.some(({ event }) => api.events.system.ExtrinsicSuccess.is(event));
        resolve({ block: status.asFinalized.toHex(), success });
      }
    })
    .catch(reject);
}).catch((e) => fail(`Alice's remark: ${e.message}`));
check(finalized.success, `Alice's signed remark finalized in ${finalized.block}`);

// A twin: created with a signed extrinsic, read back through the runtime API and the
// node's own twin_getAml RPC method.
const twinId = (await api.query.twinSpec.nextTwinId()).toNumber();
const elements = [
  { id: '/CAEXFile', parent: null, previousSibling: null,
    fragment: '<CAEXFile FileName="js.aml" SchemaVersion="3.0"><?dt-children?></CAEXFile>' },
  { id: 'plant-js', parent: '/CAEXFile', previousSibling: null,
    fragment: '<InstanceHierarchy Name="Plant" ID="plant-js"/>' },
];
const created = await new Promise((resolve, reject) => {
  api.tx.twinSpec
    .createTwin({ prolog: '', epilog: '' }, elements, true)
    .signAndSend(alice, ({ status, dispatchError }) => {
      if (dispatchError) reject(new Error(`dispatch error: ${dispatchError.toString()}`));
      if (status.isFinalized) resolve(status.asFinalized.toHex());
    })
    .catch(reject);
}).catch((e) => fail(`Alice's createTwin: ${e.message}`));
check(created, `twinSpec.createTwin by Alice finalized in ${created}`);
const twins = await api.call.twinSpecApi.twins();
check(twins.some(([id]) => id.toNumber() === twinId), `runtime API twinSpecApi.twins lists twin ${twinId}`);
// The node's own methods go through the provider: Polkadot.js has no decoration for them.
const aml = await provider.send('twin_getAml', [twinId, null]);
check(aml.includes('<InstanceHierarchy Name="Plant" ID="plant-js"/>') && aml.startsWith('<CAEXFile'),
  `twin_getAml returns the AML document (${aml.length} bytes)`);
const roles = await api.call.accessApi.rolesOf(twinId, alice.address);
check(roles.length === 1 && roles[0].isOwner, 'runtime API accessApi.rolesOf: the creator is Owner');

const refusal = await api.tx.system
  .remark('from outside')
  .signAndSend(ferdie)
  .then(() => null, (e) => e.message);
check(refusal !== null && refusal.includes('Invalid signing address'),
  `Ferdie (no organisation) is refused by the pool: ${refusal}`);

clearTimeout(timer);
await api.disconnect();
console.log('polkadot.js check passed');
