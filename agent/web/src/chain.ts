// The connection to a partner's dt-node: @polkadot/api, told what it cannot learn from the
// runtime's metadata: the consortium's membership check carries no data, and the node's own
// RPC methods (rpc-definitions.ts).

import { ApiPromise, WsProvider } from '@polkadot/api';
import { rpc } from './rpc-definitions';

/** How long to wait for a node before telling the user it is unreachable. */
const CONNECT_TIMEOUT_MS = 15_000;

export class NodeUnreachable extends Error {
  constructor(readonly url: string) {
    super(`no dt-node answers at ${url}: is it running, with its RPC on that port?`);
  }
}

/** Connects to the node at `url` (ws://HOST:PORT) and waits until the API is ready. */
export async function connect(url: string): Promise<ApiPromise> {
  // No automatic reconnection while connecting: an unreachable node is reported, not retried.
  const provider = new WsProvider(url, false);
  const connected = provider.connect().then(() =>
    ApiPromise.create({
      provider,
      signedExtensions: { CheckMembership: { extrinsic: {}, payload: {} } },
      rpc,
      noInitWarn: true,
    }),
  );
  // A refused connection is reported at once; a node that never answers, after the timeout.
  const refused = new Promise<never>((_, reject) => {
    provider.on('error', () => reject(new NodeUnreachable(url)));
  });
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new NodeUnreachable(url)), CONNECT_TIMEOUT_MS),
  );
  try {
    return await Promise.race([connected, refused, timeout]);
  } catch (error) {
    await provider.disconnect().catch(() => undefined);
    throw error instanceof NodeUnreachable ? error : new NodeUnreachable(url);
  }
}

/** The runtime the node runs, as the page shows it. */
export function runtimeName(api: ApiPromise): string {
  const version = api.runtimeVersion;
  return `${version.specName.toString()} spec version ${version.specVersion.toNumber()}`;
}
