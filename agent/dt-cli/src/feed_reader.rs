//! How `dt` reads a feed: page by page from the store's node, every entry checked against
//! its owner's signature, the hash chain and the anchored checkpoints before it is shown
//! ([`crate::feed_read`]), and decrypted with the party's key when the feed is above
//! Public. Reads of such a feed are signed by the party, so the node serves them only to
//! accounts cleared for the feed's level.

use crate::feed_read::{
	read_refusal, signed_read, EntryView, EpochKeys, FeedReadError, FeedVerifier,
};
use crate::{
	documents::readers::level_name, feeds::Feed, keystore, keystore::Keystore, unlock_key,
};
use anyhow::{anyhow, bail, Context, Result};
use dt_client::{Client, ClientError};
use dt_offchain::{
	crypto::ReaderPrivateKey,
	feed::{Entry, StoredEntry},
	GenesisHash,
};
use dt_primitives::{access::Confidentiality, feed::FeedId};
use dt_runtime::{AccountId, BlockNumber};
use jsonrpsee::{core::client::Subscription, rpc_params};
use pallet_dt_feeds::CheckpointRecord;
use rsa::pkcs8::EncodePrivateKey;
use serde_json::Value;
use sp_core::{sr25519, Pair as _};
use std::collections::BTreeSet;

/// Entries asked for per `feed_range` request: well under the client's 10 MB answer limit
/// for readings of a few hundred bytes (each entry's proof adds about 1 KB of JSON).
/// Larger payloads (up to 64 KiB each) make the node's answer too large; the page then
/// shrinks until it fits.
const PAGE: u32 = 1024;

/// JSON-RPC's code for an answer larger than the server sends.
const OVERSIZED_RESPONSE: i32 = -32008;

/// A party's keys unlocked: its account signs (reads, requests), its RSA key opens what was
/// sealed for it (document versions, feed epochs).
pub struct Party {
	pub account: AccountId,
	pub pair: sr25519::Pair,
	pub private_key: ReaderPrivateKey,
}

impl Party {
	/// The stored key `name`, decrypted.
	pub fn unlock(keystore: &Keystore, name: &str) -> Result<Party> {
		let keystore::UnlockedKey { pair, rsa, .. } = unlock_key(keystore, name)?;
		let der = rsa.to_pkcs8_der().context("encoding the RSA private key")?;
		let private_key = ReaderPrivateKey::from_der(der.as_bytes())
			.map_err(|e| anyhow!("the RSA key of {name} is unusable: {e}"))?;
		Ok(Party { account: pair.public().into(), pair, private_key })
	}
}

/// An entry checked and, if the party can, decrypted.
pub struct Shown {
	pub entry: EntryView,
	/// The reading's bytes, or why the party cannot read them.
	pub reading: Result<Vec<u8>, String>,
}

/// Reads one feed for one party (or for anyone, if the feed is public).
pub struct FeedReader<'a> {
	store: &'a Client,
	feed: FeedId,
	level: Confidentiality,
	genesis: GenesisHash,
	party: Option<&'a Party>,
	verifier: FeedVerifier,
	keys: Option<EpochKeys<'a>>,
	/// The epochs [`Self::walk`] met whose key was not sealed for the party.
	unopened: BTreeSet<u32>,
	/// The checkpoints anchored for the feed that entries must match (none unless asked).
	anchored: Vec<CheckpointRecord<BlockNumber>>,
}

impl<'a> FeedReader<'a> {
	/// A reader of `record`'s feed from `store`, with the chain read through `chain`, as
	/// `party` if given (it signs reads of a feed above Public and opens its encrypted
	/// entries); with `checkpoints`, every entry that has one must match it.
	pub async fn new(
		chain: &Client,
		store: &'a Client,
		record: &Feed,
		party: Option<&'a Party>,
		checkpoints: bool,
	) -> Result<FeedReader<'a>> {
		let feed = record.id;
		let level = record.confidentiality;
		if level != Confidentiality::Public && party.is_none() {
			return Err(FeedReadError::NeedsParty { feed, level: level_name(level) }.into());
		}
		let genesis: GenesisHash = chain
			.block_hash(0)
			.await?
			.ok_or_else(|| anyhow!("the node has no genesis block"))?
			.into();
		let anchored = if checkpoints { all_checkpoints(chain, feed).await? } else { Vec::new() };
		let verifier = FeedVerifier::new(
			feed,
			&record.owner,
			genesis,
			anchored.iter().map(|record| record.checkpoint),
		);
		let keys = party
			.map(|party| EpochKeys::new(store, feed, &party.pair, &party.private_key, genesis));
		let unopened = BTreeSet::new();
		Ok(FeedReader { store, feed, level, genesis, party, verifier, keys, unopened, anchored })
	}

	/// The signed request a read of this feed needs (none for a public feed).
	fn signed(&self) -> Option<String> {
		match (self.level, self.party) {
			(Confidentiality::Public, _) | (_, None) => None,
			(_, Some(party)) => Some(signed_read(self.feed, &party.pair, &self.genesis)),
		}
	}

	fn refused(&self, error: ClientError) -> anyhow::Error {
		match self.party {
			Some(party) => read_refusal(self.feed, &party.account, error).into(),
			None => error.into(),
		}
	}

	/// Checks `entry` (after the last one checked, if any) and opens it.
	async fn show(&mut self, entry: EntryView) -> Result<(Shown, StoredEntry)> {
		let stored = self.verifier.check(&entry)?;
		let reading = match &mut self.keys {
			Some(keys) => keys.open(&stored.entry).await,
			None if stored.entry.epoch.is_some() => Err(FeedReadError::Malformed {
				feed: self.feed,
				sequence: stored.entry.sequence,
				reason: "encrypted, and no key to open it (give --as KEY)".into(),
			}),
			None => Ok(stored.entry.payload.clone()),
		};
		let reading = match reading {
			Ok(bytes) => Ok(bytes),
			// Unreadable for this party is shown as such; a node's tampering is an error.
			Err(error @ (FeedReadError::NotAReader { .. } | FeedReadError::Malformed { .. })) => {
				Err(error.to_string())
			},
			Err(error) => return Err(error.into()),
		};
		Ok((Shown { entry, reading }, stored))
	}

	/// The feed's latest entry, checked: it must end its signed batch.
	pub async fn latest(&mut self) -> Result<Option<Shown>> {
		let latest: Option<EntryView> = self
			.store
			.request("feed_latest", rpc_params![self.feed, self.signed()])
			.await
			.map_err(|e| self.refused(e))?;
		let Some(entry) = latest else { return Ok(None) };
		let (shown, stored) = self.show(entry).await?;
		self.verifier.check_end(&stored)?;
		Ok(Some(shown))
	}

	/// The next entries with sequence numbers in `[from, to)` as served, unchecked: as many
	/// as fit one answer.
	pub async fn page(&self, from: u64, to: u64) -> Result<Vec<EntryView>> {
		let mut limit = PAGE;
		loop {
			let answer = self
				.store
				.request("feed_range", rpc_params![self.feed, from, to, limit, self.signed()])
				.await;
			match answer {
				Ok(page) => return Ok(page),
				// An answer over the size limit (the node's, or this client's): fewer entries.
				Err(ClientError::Call { code: OVERSIZED_RESPONSE, .. }) if limit > 1 => {
					limit = (limit / 8).max(1)
				},
				Err(error @ ClientError::Call { .. }) => return Err(self.refused(error)),
				Err(_) if limit > 1 => limit = (limit / 8).max(1),
				Err(error) => bail!("cannot read entry {from} of feed {}: {error}", self.feed),
			}
		}
	}

	/// Entries with sequence numbers in `[from, to)`, each checked against the one before.
	/// If the log ends before `to`, its last entry must end its signed batch.
	pub async fn range(&mut self, from: u64, to: u64) -> Result<Vec<Shown>> {
		let mut shown = Vec::new();
		self.verifier.restart();
		let mut next = from;
		let mut last = None;
		while next < to {
			let page = self.page(next, to).await?;
			if page.is_empty() {
				break;
			}
			for entry in page {
				next = entry.sequence.saturating_add(1);
				let (entry, stored) = self.show(entry).await?;
				shown.push(entry);
				last = Some(stored);
			}
		}
		if let Some(last) = last.filter(|_| next < to) {
			self.verifier.check_end(&last)?;
		}
		Ok(shown)
	}

	/// Entries timestamped in `[since, until)`: the first found by time, the rest by
	/// sequence, so that entries sharing a millisecond are never split between pages.
	pub async fn range_by_time(&mut self, since: u64, until: u64) -> Result<Vec<Shown>> {
		if since >= until {
			bail!("--since must be before --until");
		}
		let first: Vec<EntryView> = self
			.store
			.request("feed_rangeByTime", rpc_params![self.feed, since, until, 1, self.signed()])
			.await
			.map_err(|e| self.refused(e))?;
		let Some(first) = first.first() else { return Ok(Vec::new()) };
		let mut shown = Vec::new();
		self.verifier.restart();
		let mut next = first.sequence;
		loop {
			let page = self.page(next, next.saturating_add(PAGE as u64)).await?;
			let Some(last) = page.last() else { return Ok(shown) };
			next = last.sequence + 1;
			for entry in page {
				if entry.timestamp >= until {
					return Ok(shown);
				}
				shown.push(self.show(entry).await?.0);
			}
		}
	}

	/// Subscribes to the feed's new entries; each item goes through [`Self::follow_item`].
	pub async fn subscribe(&self) -> Result<Subscription<Value>> {
		self.store
			.subscribe("feed_subscribe", rpc_params![self.feed, self.signed()], "feed_unsubscribe")
			.await
			.map_err(|e| self.refused(e))
	}

	/// Checks and opens one entry of a subscription.
	pub async fn follow_item(&mut self, entry: EntryView) -> Result<Shown> {
		Ok(self.show(entry).await?.0)
	}

	/// Walks the whole log from entry 0, calling `seen` with each entry checked; stops at
	/// the first entry that fails its checks and returns that error with the count so far.
	pub async fn walk(&mut self) -> (u64, Result<()>) {
		self.unopened.clear();
		self.verifier.restart();
		let mut next = 0u64;
		let mut last = None;
		loop {
			let page = match self.page(next, u64::MAX).await {
				Ok(page) => page,
				Err(error) => return (next, Err(error)),
			};
			if page.is_empty() {
				break;
			}
			for entry in page {
				if entry.sequence != next {
					let error = anyhow!(
						"the store skips from entry {next} to entry {}: the log has a gap",
						entry.sequence
					);
					return (next, Err(error));
				}
				let stored = match self.verifier.check(&entry) {
					Ok(stored) => stored,
					Err(error) => return (next, Err(error.into())),
				};
				if let Err(error) = self.open_if_sealed_for_party(&stored.entry).await {
					return (next, Err(error.into()));
				}
				last = Some(stored);
				next += 1;
			}
		}
		let ends = last.map_or(Ok(()), |last| self.verifier.check_end(&last));
		(next, ends.map_err(Into::into))
	}
}

impl FeedReader<'_> {
	/// The checkpoints anchored for the feed that its entries are checked against.
	pub fn anchored(&self) -> &[CheckpointRecord<BlockNumber>] {
		&self.anchored
	}

	/// The epochs the last [`Self::walk`] met whose key was not sealed for the party: their
	/// entries were checked, not opened.
	pub fn unopened(&self) -> &BTreeSet<u32> {
		&self.unopened
	}

	/// Opens `entry` with the party's key if it is encrypted and the party has one: a payload
	/// that does not open is an error; an epoch not sealed for the party is noted, not one.
	async fn open_if_sealed_for_party(&mut self, entry: &Entry) -> Result<(), FeedReadError> {
		let (Some(keys), Some(epoch)) = (self.keys.as_mut(), entry.epoch) else { return Ok(()) };
		if self.unopened.contains(&epoch) {
			return Ok(());
		}
		match keys.open(entry).await {
			Ok(_) => Ok(()),
			Err(FeedReadError::NotAReader { .. }) => {
				self.unopened.insert(epoch);
				Ok(())
			},
			Err(error) => Err(error),
		}
	}
}

/// Every checkpoint anchored for `feed`, in order.
pub async fn all_checkpoints(
	client: &Client,
	feed: FeedId,
) -> Result<Vec<CheckpointRecord<BlockNumber>>> {
	let mut all = Vec::new();
	let mut from = 0u32;
	loop {
		let page: Vec<CheckpointRecord<BlockNumber>> = client
			.runtime_api(
				"FeedsApi_checkpoints",
				(feed, from, pallet_dt_feeds::MAX_CHECKPOINTS_PER_READ),
				None,
			)
			.await?;
		let Some(last) = page.last() else { return Ok(all) };
		from = last.index + 1;
		all.extend(page);
	}
}
