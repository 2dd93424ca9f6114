//! Checking and opening a feed's entries as a party, trusting no node.
//!
//! A node serves each entry with the proof its owner signed ([`EntryView::proof`]). Every
//! entry a client shows goes through a [`FeedVerifier`] first: the owner's signature over
//! the entry's batch, the entry's place in that batch, its link to the entry before it,
//! and any checkpoint the owner anchored for it on chain. So a node that alters, drops or
//! reorders entries, after the last checkpoint as much as before it, is caught; the one
//! thing it can still do unnoticed is serve a log that ends early, at the end of a signed
//! batch (entries after the last anchored checkpoint that it pretends not to have).
//!
//! Entries of a feed above Public are encrypted per epoch ([`dt_offchain::crypto`]);
//! [`EpochKeys`] fetches each epoch's key envelope from the store with a request the
//! party signs, and opens it with the party's RSA key. A party that was not cleared when
//! an epoch started is not on its reader list: [`FeedReadError::NotAReader`] says so.

use std::collections::BTreeMap;

use codec::Encode;
use dt_client::{Client, ClientError};
use dt_offchain::{
	crypto::{CryptoError, Envelope, EpochDecryptor, ReaderPrivateKey},
	feed::{Checkpoint, Entry, FeedKey, ProofError, StoredEntry},
	network::{feed_epoch_item, Action, SignedAction},
	GenesisHash,
};
use dt_primitives::feed::{EntryHash, FeedId};
use dt_runtime::AccountId;
use jsonrpsee::rpc_params;
use sp_core::{sr25519, Pair as _};

pub use dt_offchain::feed::EntryView;

/// The node's error code for a read of a non-public feed by someone not cleared for it.
const READ_NOT_ALLOWED: i32 = 7208;
/// The node's error code for a signed request the store does not allow (not a reader).
const NOT_ALLOWED: i32 = 7302;

/// Why an entry a node served cannot be shown.
#[derive(Debug, thiserror::Error)]
pub enum FeedReadError {
	/// The node's answer is not an entry at all.
	#[error("entry {sequence} of feed {feed} as served is malformed: {reason}")]
	Malformed { feed: FeedId, sequence: u64, reason: String },
	/// The entry, or its proof, is not what the feed's owner signed.
	#[error(
		"entry {sequence} of feed {feed} is not what its owner signed ({reason}): the node \
		 serving it altered it"
	)]
	NotSigned { feed: FeedId, sequence: u64, reason: ProofError },
	/// The entry does not carry the hash of the entry before it, or entries are missing
	/// between them.
	#[error(
		"entry {sequence} of feed {feed} does not follow entry {previous} as served: the node \
		 left out, reordered or changed entries in between"
	)]
	BrokenChain { feed: FeedId, sequence: u64, previous: u64 },
	/// The entry differs from the checkpoint its owner anchored on chain for it (its hash
	/// or its timestamp).
	#[error(
		"entry {sequence} of feed {feed} differs from the checkpoint anchored on chain for it: \
		 the node serving it altered the feed's history"
	)]
	CheckpointMismatch { feed: FeedId, sequence: u64 },
	/// The served log ends inside a batch its owner signed: later entries were withheld.
	#[error(
		"feed {feed} as served ends at entry {sequence}, inside a batch its owner signed with \
		 {missing} more entries: the node is withholding them"
	)]
	EndsInsideBatch { feed: FeedId, sequence: u64, missing: u32 },
	/// The feed is above Public and no party was given to read it as.
	#[error(
		"feed {feed} is {level}: nodes serve its entries only to a party cleared for that level \
		 (or its device), and their readings are sealed for those parties; read it as one with \
		 --as KEY"
	)]
	NeedsParty { feed: FeedId, level: &'static str },
	/// The party may not read the feed (its level is above its clearance).
	#[error("{account} may not read feed {feed}: {reason}")]
	NotCleared { feed: FeedId, account: String, reason: String },
	/// The party is not among the readers the epoch's key was sealed for.
	#[error(
		"{account} cannot read epoch {epoch} of feed {feed}: its key was sealed for the readers \
		 cleared when the epoch started, and {account} was not one of them ({reason})"
	)]
	NotAReader { feed: FeedId, epoch: u32, account: String, reason: String },
	/// The payload does not open under its epoch's key.
	#[error("entry {sequence} of feed {feed}: {source}")]
	Undecryptable { feed: FeedId, sequence: u64, source: CryptoError },
	/// The node could not be asked.
	#[error(transparent)]
	Client(#[from] ClientError),
}

/// The entry, its served hash and its proof, or why the node's answer is not one.
fn to_stored(view: &EntryView) -> Result<StoredEntry, FeedReadError> {
	view.to_stored().map_err(|reason| FeedReadError::Malformed {
		feed: view.feed,
		sequence: view.sequence,
		reason,
	})
}

/// Checks the entries of one feed as they are read, in order of sequence number.
#[derive(Clone, Debug)]
pub struct FeedVerifier {
	feed: FeedId,
	key: FeedKey,
	/// The anchored checkpoints, by sequence number.
	checkpoints: BTreeMap<u64, Checkpoint>,
	/// The last entry checked, and its hash.
	last: Option<(u64, EntryHash)>,
}

impl FeedVerifier {
	/// A verifier of `feed`, owned by `owner` on the chain with genesis `genesis`, with the
	/// checkpoints its owner anchored.
	pub fn new(
		feed: FeedId,
		owner: &AccountId,
		genesis: GenesisHash,
		checkpoints: impl IntoIterator<Item = Checkpoint>,
	) -> Self {
		let raw: [u8; 32] = owner.clone().into();
		Self {
			feed,
			key: FeedKey { owner: sr25519::Public::from_raw(raw), genesis },
			checkpoints: checkpoints.into_iter().map(|c| (c.sequence, c)).collect(),
			last: None,
		}
	}

	/// Checks the next entry read: signed by the owner, right after the last one checked
	/// (if any), matching its checkpoint (if one is anchored for it).
	pub fn check(&mut self, view: &EntryView) -> Result<StoredEntry, FeedReadError> {
		let stored = to_stored(view)?;
		let sequence = stored.entry.sequence;
		if stored.entry.feed != self.feed {
			return Err(FeedReadError::Malformed {
				feed: self.feed,
				sequence,
				reason: format!("it is an entry of feed {}", stored.entry.feed),
			});
		}
		stored.verify(&self.key).map_err(|reason| FeedReadError::NotSigned {
			feed: self.feed,
			sequence,
			reason,
		})?;
		if let Some((previous, previous_hash)) = self.last {
			if sequence != previous.saturating_add(1) || stored.entry.previous != previous_hash {
				return Err(FeedReadError::BrokenChain { feed: self.feed, sequence, previous });
			}
		}
		if self.checkpoints.get(&sequence).is_some_and(|anchored| {
			anchored.entry_hash != stored.hash || anchored.timestamp != stored.entry.timestamp
		}) {
			return Err(FeedReadError::CheckpointMismatch { feed: self.feed, sequence });
		}
		self.last = Some((sequence, stored.hash));
		Ok(stored)
	}

	/// Checks that `last`, the last entry a node served as the end of the feed's log, ends
	/// its signed batch: a log legitimately ends only where a batch does.
	pub fn check_end(&self, last: &StoredEntry) -> Result<(), FeedReadError> {
		let missing = last.proof.leaves.saturating_sub(last.proof.index.saturating_add(1));
		if missing > 0 {
			return Err(FeedReadError::EndsInsideBatch {
				feed: self.feed,
				sequence: last.entry.sequence,
				missing,
			});
		}
		Ok(())
	}

	/// Forgets the last entry checked: the next one read need not follow it.
	pub fn restart(&mut self) {
		self.last = None;
	}
}

/// The hex of a request, signed by `reader` for the chain `genesis`, to read `feed`: what
/// the node's feed reads take as `signedRead` for a feed above Public. Each is used once.
pub fn signed_read(feed: FeedId, reader: &sr25519::Pair, genesis: &GenesisHash) -> String {
	let request = SignedAction::sign(Action::ReadFeed { feed }, reader, genesis);
	dt_client::hex_string(&request.encode())
}

/// Turns a node's refusal of a feed read into [`FeedReadError::NotCleared`].
pub fn read_refusal(feed: FeedId, reader: &AccountId, error: ClientError) -> FeedReadError {
	match error {
		ClientError::Call { code: READ_NOT_ALLOWED, message, .. } => {
			FeedReadError::NotCleared { feed, account: reader.to_string(), reason: message }
		},
		other => FeedReadError::Client(other),
	}
}

/// A party's keys to the epochs of one feed, fetched from the store as needed.
pub struct EpochKeys<'a> {
	client: &'a Client,
	feed: FeedId,
	reader: &'a sr25519::Pair,
	private_key: &'a ReaderPrivateKey,
	genesis: GenesisHash,
	opened: BTreeMap<u32, EpochDecryptor>,
}

impl<'a> EpochKeys<'a> {
	/// The keys of `feed` for the party signing with `reader` and opening with
	/// `private_key`, read through `client`'s node (which needs the store's network).
	pub fn new(
		client: &'a Client,
		feed: FeedId,
		reader: &'a sr25519::Pair,
		private_key: &'a ReaderPrivateKey,
		genesis: GenesisHash,
	) -> Self {
		Self { client, feed, reader, private_key, genesis, opened: BTreeMap::new() }
	}

	/// The reading of `entry`: its payload as it is, or decrypted under its epoch's key.
	pub async fn open(&mut self, entry: &Entry) -> Result<Vec<u8>, FeedReadError> {
		let Some(epoch) = entry.epoch else { return Ok(entry.payload.clone()) };
		if !self.opened.contains_key(&epoch) {
			let decryptor = self.fetch(epoch).await?;
			self.opened.insert(epoch, decryptor);
		}
		let decryptor = &self.opened[&epoch];
		decryptor.open(entry.sequence, &entry.payload).map_err(|source| {
			FeedReadError::Undecryptable { feed: self.feed, sequence: entry.sequence, source }
		})
	}

	async fn fetch(&self, epoch: u32) -> Result<EpochDecryptor, FeedReadError> {
		let account = AccountId::from(self.reader.public()).to_string();
		let not_a_reader = |reason: String| FeedReadError::NotAReader {
			feed: self.feed,
			epoch,
			account: account.clone(),
			reason,
		};
		let item = feed_epoch_item(self.feed, epoch);
		let request =
			SignedAction::sign(Action::ReadLatestEnvelope { item }, self.reader, &self.genesis);
		let answer: Result<String, ClientError> = self
			.client
			.request("store_getEnvelope", rpc_params![dt_client::hex_string(&request.encode())])
			.await;
		let bytes = match answer {
			Ok(text) => hex::decode(text.trim_start_matches("0x")).map_err(|e| {
				FeedReadError::Malformed {
					feed: self.feed,
					sequence: 0,
					reason: format!("the envelope of epoch {epoch} is not hex: {e}"),
				}
			})?,
			Err(ClientError::Call { code: NOT_ALLOWED, message, .. }) => {
				return Err(not_a_reader(message))
			},
			Err(other) => return Err(other.into()),
		};
		let envelope = Envelope::from_bytes(&bytes).map_err(|e| FeedReadError::Malformed {
			feed: self.feed,
			sequence: 0,
			reason: format!("the envelope of epoch {epoch}: {e}"),
		})?;
		EpochDecryptor::open_envelope(self.feed, epoch, &envelope, self.private_key).map_err(
			|error| match error {
				CryptoError::NotARecipient { .. } => not_a_reader(error.to_string()),
				other => not_a_reader(format!("its envelope does not open: {other}")),
			},
		)
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use dt_offchain::feed::{FeedWriter, SignedBatch};
	use sp_core::crypto::Ss58Codec;

	const FEED: FeedId = 4;
	const GENESIS: GenesisHash = [9; 32];

	fn device() -> sr25519::Pair {
		sr25519::Pair::from_string("//Bob", None).unwrap()
	}

	fn view(stored: &StoredEntry) -> EntryView {
		EntryView::from(stored.clone())
	}

	/// Two signed batches of 3 and 4 entries, as served.
	fn served() -> Vec<EntryView> {
		let mut writer = FeedWriter::new(FEED, None);
		[3, 4]
			.into_iter()
			.flat_map(|count| {
				let entries =
					(0..count).map(|i| writer.next_entry(1_000 + i, None, vec![i as u8])).collect();
				StoredEntry::all_of(SignedBatch::sign(entries, &device(), &GENESIS))
			})
			.map(|stored| view(&stored))
			.collect()
	}

	fn verifier(checkpoints: Vec<Checkpoint>) -> FeedVerifier {
		FeedVerifier::new(FEED, &AccountId::from(device().public()), GENESIS, checkpoints)
	}

	#[test]
	fn an_honest_log_passes_entry_by_entry_and_ends_with_a_batch() {
		let served = served();
		let checkpoint = served[2].to_stored().unwrap().entry.checkpoint();
		let mut verifier = verifier(vec![checkpoint]);
		let checked: Vec<StoredEntry> =
			served.iter().map(|entry| verifier.check(entry).unwrap()).collect();
		verifier.check_end(&checked[6]).unwrap();
		verifier.check_end(&checked[2]).unwrap();
		assert!(matches!(
			verifier.check_end(&checked[5]),
			Err(FeedReadError::EndsInsideBatch { sequence: 5, missing: 1, .. })
		));
		assert!(matches!(
			verifier.check_end(&checked[3]),
			Err(FeedReadError::EndsInsideBatch { missing: 3, .. })
		));
	}

	#[test]
	fn altered_reordered_missing_and_foreign_entries_are_caught() {
		let served = served();
		let check_all = |entries: &[EntryView]| {
			let mut verifier = verifier(Vec::new());
			entries.iter().try_for_each(|entry| verifier.check(entry).map(|_| ()))
		};
		let mut altered = served.clone();
		altered[4].payload = "0x07".into();
		assert!(matches!(
			check_all(&altered),
			Err(FeedReadError::NotSigned { sequence: 4, reason: ProofError::HashMismatch, .. })
		));
		// The hash served made to fit the altered entry: the signature still does not.
		let mut rehashed = altered.clone();
		let entry = rehashed[4].to_stored().unwrap().entry;
		rehashed[4].hash = dt_client::hex_string(&entry.hash());
		assert!(matches!(
			check_all(&rehashed),
			Err(FeedReadError::NotSigned { sequence: 4, reason: ProofError::BadSignature, .. })
		));
		let mut missing = served.clone();
		missing.remove(3);
		assert!(matches!(
			check_all(&missing),
			Err(FeedReadError::BrokenChain { sequence: 4, previous: 2, .. })
		));
		let mut swapped = served.clone();
		swapped.swap(4, 5);
		assert!(matches!(check_all(&swapped), Err(FeedReadError::BrokenChain { .. })));
		let mut stranger = served.clone();
		stranger[1].proof.signer =
			AccountId::from(sr25519::Pair::from_string("//Eve", None).unwrap().public())
				.to_ss58check();
		assert!(matches!(
			check_all(&stranger),
			Err(FeedReadError::NotSigned { reason: ProofError::WrongSigner { .. }, .. })
		));
		let mut other_feed = served.clone();
		other_feed[0].feed = FEED + 1;
		assert!(matches!(check_all(&other_feed), Err(FeedReadError::Malformed { .. })));
		let mut garbled = served.clone();
		garbled[0].proof.path[0] = "0xzz".into();
		assert!(matches!(check_all(&garbled), Err(FeedReadError::Malformed { sequence: 0, .. })));
	}

	#[test]
	fn entries_must_match_their_anchored_checkpoints() {
		let served = served();
		let mut checkpoint = served[2].to_stored().unwrap().entry.checkpoint();
		checkpoint.timestamp += 1;
		let mut verifier = verifier(vec![checkpoint]);
		verifier.check(&served[0]).unwrap();
		verifier.check(&served[1]).unwrap();
		assert!(matches!(
			verifier.check(&served[2]),
			Err(FeedReadError::CheckpointMismatch { sequence: 2, .. })
		));
	}
}
