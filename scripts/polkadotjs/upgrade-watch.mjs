// An unmodified Polkadot.js client follows dt-node through a runtime upgrade: connected
// before it, it must report the new spec version by itself (it re-reads the metadata when
// the node announces the upgrade) and go on reading the chain's storage.
//
//   node upgrade-watch.mjs ws://127.0.0.1:9944 SPEC_VERSION
import { ApiPromise, WsProvider } from '@polkadot/api';
import { check, fail } from './report.mjs';

const url = process.argv[2];
const expected = Number(process.argv[3]);
const TIMEOUT_MS = 600_000;

if (!url || !Number.isInteger(expected)) fail('usage: node upgrade-watch.mjs WS_URL SPEC_VERSION');
const timer = setTimeout(() => fail(`spec version ${expected} not seen within ${TIMEOUT_MS / 1000} s`), TIMEOUT_MS);

const api = await ApiPromise.create({
  provider: new WsProvider(url),
  signedExtensions: { CheckMembership: { extrinsic: {}, payload: {} } },
  noInitWarn: true,
});
const before = api.runtimeVersion.specVersion.toNumber();
check(before < expected, `connected at spec version ${before}`);

// The client's own view, which it updates on the node's runtime-version notification.
await new Promise((resolve) => {
  const poll = setInterval(() => {
    if (api.runtimeVersion.specVersion.toNumber() === expected) {
      clearInterval(poll);
      resolve();
    }
  }, 250);
});
check(true, `the client reports spec version ${expected} after the upgrade`);

const number = await api.query.system.number();
check(number.toNumber() > 0, `storage reads with the new metadata (system.number ${number})`);
const organisations = await api.query.consortium.organisations.entries();
check(organisations.length > 0, `the consortium's storage decodes (${organisations.length} organisations)`);
const version = await api.rpc.state.getRuntimeVersion();
check(version.specVersion.toNumber() === expected, `the node reports spec version ${version.specVersion}`);

clearTimeout(timer);
await api.disconnect();
process.exit(0);
