// Reading a feed's entries from the node: pages by time, the live subscription, and the
// payloads of an encrypted feed opened in the page with the epoch keys sealed for the
// signed-in party (dt-offchain's crypto/feed_cipher.rs: AES-256-GCM, nonce epoch ‖ sequence).

import type { ApiPromise } from '@polkadot/api';
import { hexToU8a, u8aToHex } from '@polkadot/util';
import { FormatError, buffer, concat, u32le, u64le, utf8 } from '../crypto/bytes';
import { importDocumentKey } from '../crypto/chunks';
import { open as openEnvelope } from '../crypto/envelope';
import type { Session } from '../session';
import { signRequest } from './request';

const FEED_AAD = utf8('dt-ledger/feed-payload/v1');
/** Entries per page of a history read. */
const PAGE = 5000;

/** An entry as the node serves it (docs/rpc.md, `feed_*`). */
export interface Entry {
  feed: number;
  sequence: number;
  timestamp: number;
  /** BLAKE2-256 of the entry's SCALE encoding, 0x-hex, as the node serves it. */
  hash: string;
  previous: Uint8Array;
  epoch: number | null;
  payload: Uint8Array;
  /** The owner's signature over the entry's batch, and the entry's place in it. */
  proof: EntryProof;
}

export interface EntryProof {
  signer: string;
  signature: Uint8Array;
  leaves: number;
  index: number;
  path: Uint8Array[];
}

type Json = Record<string, any>;

const pageOf = (entries: Json[]): Entry[] => entries.map(toEntry);

const toEntry = (entry: Json): Entry => ({
  feed: Number(entry.feed),
  sequence: Number(entry.sequence),
  timestamp: Number(entry.timestamp),
  hash: String(entry.hash),
  previous: hexToU8a(entry.previous),
  epoch: entry.epoch === null || entry.epoch === undefined ? null : Number(entry.epoch),
  payload: hexToU8a(entry.payload),
  proof: {
    signer: String(entry.proof?.signer),
    signature: hexToU8a(entry.proof?.signature),
    leaves: Number(entry.proof?.leaves),
    index: Number(entry.proof?.index),
    path: ((entry.proof?.path ?? []) as string[]).map((hash) => hexToU8a(hash)),
  },
});

/** A feed's reader in the page: signs its reads (each used once) and opens sealed payloads. */
export class FeedReader {
  private readonly keys = new Map<number, Promise<CryptoKey>>();

  constructor(
    private readonly api: ApiPromise,
    readonly feed: number,
    private readonly you: Session | null,
    private readonly encrypted: boolean,
  ) {}

  /** A signed ReadFeed for a feed above Public; public feeds are read without. */
  private async signedRead(): Promise<string | null> {
    if (!this.encrypted || !this.you) return null;
    return u8aToHex(await signRequest({ readFeed: { feed: BigInt(this.feed) } }, this.you.signer, this.api.genesisHash.toU8a()));
  }

  /** Entries timestamped in [fromMs, toMs), every page, each handed to `onPage` as it comes. */
  async byTime(fromMs: number, toMs: number, onPage: (entries: Entry[]) => void = () => undefined): Promise<Entry[]> {
    const all: Entry[] = [];
    // The first page by time; then on by sequence number, which pages unambiguously even
    // where many entries share a millisecond.
    let page = pageOf(await this.api.rpc.feed.rangeByTime.raw<Json[]>(this.feed, fromMs, toMs, PAGE, await this.signedRead()));
    for (;;) {
      const inWindow = page.filter((entry) => entry.timestamp < toMs);
      all.push(...inWindow);
      onPage(inWindow);
      // A page may hold fewer entries than asked (the node caps it near 4 MiB): only an
      // empty page, or one reaching past the window, ends the read.
      if (page.length === 0 || inWindow.length < page.length) return all;
      const next = page[page.length - 1].sequence + 1;
      page = pageOf(await this.api.rpc.feed.range.raw<Json[]>(this.feed, next, next + PAGE, PAGE, await this.signedRead()));
    }
  }

  /** Entries with sequence numbers in [from, to): one page, possibly fewer than asked. */
  async range(from: number, to: number): Promise<Entry[]> {
    return pageOf(await this.api.rpc.feed.range.raw<Json[]>(this.feed, from, to, PAGE, await this.signedRead()));
  }

  /** The newest entry, or null while the log is empty. */
  async latest(): Promise<Entry | null> {
    const entry = await this.api.rpc.feed.latest.raw<Json | null>(this.feed, await this.signedRead());
    return entry ? toEntry(entry) : null;
  }

  /** Calls `onEntry` with every new entry; `onLag` if the node dropped some. Returns the stop. */
  async follow(onEntry: (entry: Entry) => void, onLag: (resumeFrom: number, message: string) => void): Promise<() => void> {
    return this.api.rpc.feed.subscribe.raw(this.feed, await this.signedRead(), (json: Json) => {
      if (json && json.lagged) onLag(Number(json.lagged.resumeFrom), String(json.lagged.message));
      else if (json) onEntry(toEntry(json));
    });
  }

  /** The entry's plain payload: as stored for a public feed, opened with its epoch's key otherwise. */
  async payload(entry: Entry): Promise<Uint8Array> {
    if (entry.epoch === null) {
      if (this.encrypted) throw new FormatError(`entry ${entry.sequence} of an encrypted feed is in plaintext`);
      return entry.payload;
    }
    const key = await this.epochKey(entry.epoch);
    const nonce = concat(u32le(entry.epoch), u64le(entry.sequence));
    const aad = concat(FEED_AAD, u64le(this.feed), u64le(entry.sequence), u32le(entry.epoch));
    try {
      return new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: buffer(nonce), additionalData: buffer(aad) }, key, buffer(entry.payload)));
    } catch {
      throw new FormatError(`entry ${entry.sequence} does not open with the key of epoch ${entry.epoch}`);
    }
  }

  private epochKey(epoch: number): Promise<CryptoKey> {
    let key = this.keys.get(epoch);
    if (!key) {
      key = this.fetchEpochKey(epoch);
      // A failure is not cached: the party may be added to the epoch's readers later.
      key.catch(() => this.keys.delete(epoch));
      this.keys.set(epoch, key);
    }
    return key;
  }

  private async fetchEpochKey(epoch: number): Promise<CryptoKey> {
    const you = this.you;
    if (!you) throw new FormatError('sign in to open an encrypted feed');
    const item = (await this.api.rpc.store.feedEpochItem(this.feed, epoch)).toU8a();
    const request = await signRequest({ readLatestEnvelope: { item } }, you.signer, this.api.genesisHash.toU8a());
    const envelope = (await this.api.rpc.store.getEnvelope(u8aToHex(request))).toU8a(true);
    const key = await openEnvelope(envelope, you.rsa.privateKey, you.rsa.publicKeyDer);
    return importDocumentKey(key, 'decrypt');
  }
}
