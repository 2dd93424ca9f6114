// The project's own RPC methods (docs/rpc.md), declared to @polkadot/api so that `api.rpc.store`
// and `api.rpc.feed` are typed and encode their parameters like the built-in methods: the
// store's, reader lists' and feeds' methods the pages use (the node serves more). Results
// that are JSON structures are read with `.raw` (the `Json` codec turns arrays into maps).

import type { AugmentedRpc } from '@polkadot/rpc-core/types';
import type { Bytes, Json, Text, u32, u64 } from '@polkadot/types-codec';
import type { H256 } from '@polkadot/types/interfaces/runtime';
import type { Observable } from '@polkadot/types/types';

export const rpc = {
  twin: {
    parseSnippet: {
      description: 'An AML snippet split into the elements insertElements takes, as dt twin insert does',
      params: [
        { name: 'snippet', type: 'Text' },
        { name: 'parent', type: 'Text' },
        { name: 'after', type: 'Option<Text>' },
      ],
      type: 'Json',
    },
    elementHistory: {
      description: 'Every version of an element, newest first',
      params: [
        { name: 'twin', type: 'u64' },
        { name: 'element', type: 'Text' },
        { name: 'at', type: 'Option<Hash>' },
      ],
      type: 'Json',
    },
  },
  index: {
    twinTrail: {
      description: "A twin's change trail from the node's index, one page",
      params: [
        { name: 'twin', type: 'u64' },
        { name: 'options', type: 'Json' },
      ],
      type: 'Json',
    },
    searchTwins: {
      description: 'Twins whose id, creator or root element contains the query',
      params: [
        { name: 'query', type: 'Text' },
        { name: 'options', type: 'Json' },
      ],
      type: 'Json',
    },
    searchElements: {
      description: 'Current elements whose id or Name contains the query',
      params: [
        { name: 'query', type: 'Text' },
        { name: 'options', type: 'Json' },
      ],
      type: 'Json',
    },
  },
  store: {
    getBlock: {
      description: 'A block of the off-chain store by content id (text)',
      params: [{ name: 'cid', type: 'Text' }],
      type: 'Bytes',
    },
    documentItem: {
      description: "The item of a document's reader list and key envelopes",
      params: [{ name: 'document', type: 'u64' }],
      type: 'H256',
    },
    acl: {
      description: "An item's committed reader list: { version, readers }",
      params: [{ name: 'item', type: 'H256' }],
      type: 'Json',
    },
    getEnvelope: {
      description: 'A key envelope, for a reader on the list (a signed ReadEnvelope request)',
      params: [{ name: 'signedAction', type: 'Bytes' }],
      type: 'Bytes',
    },
    putBlock: {
      description: 'Stores a block (unsafe: a node on localhost)',
      params: [
        { name: 'bytes', type: 'Bytes' },
        { name: 'signedAction', type: 'Bytes' },
      ],
      type: 'Text',
    },
    changeAcl: {
      description: "Changes an item's reader list (unsafe)",
      params: [{ name: 'signedAction', type: 'Bytes' }],
      type: 'Json',
    },
    putEnvelope: {
      description: "Publishes an item's key envelope on its replicas (unsafe)",
      params: [
        { name: 'envelope', type: 'Bytes' },
        { name: 'signedAction', type: 'Bytes' },
      ],
      type: 'Json',
    },
    feedEpochItem: {
      description: "The item of one key epoch of an encrypted feed",
      params: [
        { name: 'feed', type: 'u64' },
        { name: 'epoch', type: 'u32' },
      ],
      type: 'H256',
    },
  },
  feed: {
    latest: {
      description: "A feed's latest entry, or null",
      params: [
        { name: 'feed', type: 'u64' },
        { name: 'signedRead', type: 'Option<Bytes>' },
      ],
      type: 'Json',
    },
    range: {
      description: 'Entries with sequence in [from, to), one page',
      params: [
        { name: 'feed', type: 'u64' },
        { name: 'from', type: 'u64' },
        { name: 'to', type: 'u64' },
        { name: 'limit', type: 'Option<u32>' },
        { name: 'signedRead', type: 'Option<Bytes>' },
      ],
      type: 'Json',
    },
    rangeByTime: {
      description: 'Entries timestamped in [fromMs, toMs), one page',
      params: [
        { name: 'feed', type: 'u64' },
        { name: 'fromMs', type: 'u64' },
        { name: 'toMs', type: 'u64' },
        { name: 'limit', type: 'Option<u32>' },
        { name: 'signedRead', type: 'Option<Bytes>' },
      ],
      type: 'Json',
    },
    subscribe: {
      description: 'New entries of a feed, in order (feed_entry notifications)',
      params: [
        { name: 'feed', type: 'u64' },
        { name: 'signedRead', type: 'Option<Bytes>' },
      ],
      pubsub: ['entry', 'subscribe', 'unsubscribe'],
      type: 'Json',
    },
  },
};

declare module '@polkadot/rpc-core/types/jsonrpc' {
  interface RpcInterface {
    twin: {
      parseSnippet: AugmentedRpc<(snippet: Text | string, parent: Text | string, after: string | null) => Observable<Json>>;
      elementHistory: AugmentedRpc<(twin: u64 | number, element: Text | string, at: string | null) => Observable<Json>>;
    };
    index: {
      twinTrail: AugmentedRpc<(twin: u64 | number, options: Record<string, unknown>) => Observable<Json>>;
      searchTwins: AugmentedRpc<(query: Text | string, options: Record<string, unknown>) => Observable<Json>>;
      searchElements: AugmentedRpc<(query: Text | string, options: Record<string, unknown>) => Observable<Json>>;
    };
    store: {
      getBlock: AugmentedRpc<(cid: Text | string) => Observable<Bytes>>;
      documentItem: AugmentedRpc<(document: u64 | number) => Observable<H256>>;
      acl: AugmentedRpc<(item: H256 | Uint8Array | string) => Observable<Json>>;
      getEnvelope: AugmentedRpc<(signedAction: Bytes | string) => Observable<Bytes>>;
      putBlock: AugmentedRpc<(bytes: string, signedAction: string) => Observable<Text>>;
      changeAcl: AugmentedRpc<(signedAction: string) => Observable<Json>>;
      putEnvelope: AugmentedRpc<(envelope: string, signedAction: string) => Observable<Json>>;
      feedEpochItem: AugmentedRpc<(feed: u64 | number, epoch: u32 | number) => Observable<H256>>;
    };
    feed: {
      latest: AugmentedRpc<(feed: u64 | number, signedRead: string | null) => Observable<Json>>;
      range: AugmentedRpc<(feed: u64 | number, from: u64 | number, to: u64 | number, limit: number | null, signedRead: string | null) => Observable<Json>>;
      rangeByTime: AugmentedRpc<(feed: u64 | number, fromMs: u64 | number, toMs: u64 | number, limit: number | null, signedRead: string | null) => Observable<Json>>;
      subscribe: AugmentedRpc<(feed: u64 | number, signedRead: string | null) => Observable<Json>>;
    };
  }
}
