//! The key epochs of the device's encrypted feeds.
//!
//! A feed above Public is written in epochs ([`EpochEncryptor`]). An epoch starts with the
//! readers the chain clears for the feed's level on its twin at that moment
//! ([`dt_client::readers`]): their accounts become the epoch's reader list in the store (one
//! quorum change, `ReplaceReaders`, on the epoch's own item), a fresh key is sealed for
//! their registered RSA keys and published as the epoch's envelope, and only then is an
//! entry encrypted under it. The key never leaves the encryptor otherwise and dies with the
//! agent: every start of the agent begins a new epoch.
//!
//! [`FeedEpochs`] asks [`readers`] again whenever a finalized block carried an event of the
//! access control or of the consortium ([`watch_access`]); if the readers changed, the next
//! entry built starts a new epoch, so a reader who lost clearance gets nothing built after
//! the agent saw that block.
//!
//! An epoch number is claimed by setting its reader list from version 0; a number whose
//! list is set already (an earlier run that stopped between claiming and writing) is
//! skipped, so epoch numbers only grow and no two keys share one.

use std::{
	collections::{BTreeMap, HashMap},
	time::{Duration, Instant},
};

use crate::reconnect::{pause, Backoff};
use codec::Encode;
use dt_client::{hex_string, readers::cleared_readers, Client, ClientError};
use dt_offchain::{
	content_id::Cid,
	crypto::{EpochEncryptor, KeyId, ReaderPublicKey},
	network::{feed_epoch_item, AclChange, AclOp, Action, SignedAction},
	GenesisHash,
};
use dt_primitives::{
	access::{Confidentiality, TwinId},
	feed::FeedId,
};
use dt_runtime::{AccountId, RuntimeEvent};
use jsonrpsee::rpc_params;
use serde::Deserialize;
use sp_core::sr25519;
use tokio::sync::watch;

/// How many epoch numbers past the last known one are tried before giving up.
const CLAIM_ATTEMPTS: u32 = 16;
/// How long after an epoch could not start it is tried again, unless access changes first.
const RETRY_AFTER: Duration = Duration::from_secs(30);

/// The node's codes (docs/rpc.md): a list change that does not fit the list, and a node
/// without the store's network.
const LIST_CONFLICT: i32 = 7305;
const NO_STORE_NETWORK: i32 = 7306;

/// Why an epoch could not start; the feed's readings wait in the buffer meanwhile.
#[derive(Debug, thiserror::Error)]
pub enum EpochError {
	#[error(transparent)]
	Client(#[from] ClientError),
	#[error(
		"feed {feed} is {level:?}: its readings are encrypted, and no account cleared for that \
		 level on twin {twin} has a usable encryption key on chain; they wait until one has"
	)]
	NoReaders { feed: FeedId, level: Confidentiality, twin: TwinId },
	#[error(
		"feed {feed} is {level:?}: its readings are encrypted, and the node has no store network \
		 to keep the readers' key envelopes (start dt-node with --store-listen as a partner \
		 node of the consortium); they wait in the buffer"
	)]
	NoStoreNetwork { feed: FeedId, level: Confidentiality },
	#[error("feed {feed}: epochs {first} to {last} are all taken in the store")]
	NoFreeEpoch { feed: FeedId, first: u32, last: u32 },
	#[error("feed {feed}: {source}")]
	Crypto {
		feed: FeedId,
		#[source]
		source: dt_offchain::crypto::CryptoError,
	},
}

/// Who an epoch's key is sealed for: each reader's account and key.
pub type ReaderSet = BTreeMap<AccountId, KeyId>;

/// A reader an epoch key is sealed for.
pub type Reader = (AccountId, ReaderPublicKey);

/// One running epoch of one feed.
pub struct Epoch {
	pub encryptor: EpochEncryptor,
	pub readers: ReaderSet,
}

impl Epoch {
	/// Whether the epoch's key was sealed for exactly `now`.
	pub fn sealed_for(&self, now: &[Reader]) -> bool {
		self.readers == reader_set(now)
	}
}

/// The running epochs of the agent's encrypted feeds, and when their readers are due to be
/// checked again.
pub struct FeedEpochs {
	/// Each feed's epoch, with the count of access changes its readers were last checked at.
	running: HashMap<FeedId, (Epoch, u64)>,
	/// Feeds whose epoch could not start: not before the instant, unless access changed
	/// since (the count then).
	retry: HashMap<FeedId, (Instant, u64)>,
	/// How many finalized blocks so far may have changed the readers ([`watch_access`]).
	access_seen: watch::Receiver<u64>,
}

impl FeedEpochs {
	/// No epoch yet; readers checked again as `access_seen` counts changes.
	pub fn new(access_seen: watch::Receiver<u64>) -> Self {
		FeedEpochs { running: HashMap::new(), retry: HashMap::new(), access_seen }
	}

	/// The epoch of `feed` to seal with now: the running one if it is sealed for exactly the
	/// readers cleared now (asked again only after access may have changed), otherwise a new
	/// one above `after` from entry `first_sequence` on. `None` while none can start (the
	/// reason is logged; tried again after [`RETRY_AFTER`] or the next access change).
	pub async fn current(
		&mut self,
		client: &Client,
		device: &sr25519::Pair,
		genesis: &GenesisHash,
		feed: &EpochFeed,
		after: Option<u32>,
		first_sequence: u64,
	) -> Result<Option<&mut Epoch>, ClientError> {
		let changes = *self.access_seen.borrow();
		let id = feed.feed;
		let checked = self.running.get(&id).map(|(_, checked)| *checked);
		if checked == Some(changes) {
			return Ok(self.running.get_mut(&id).map(|(epoch, _)| epoch));
		}
		if self
			.retry
			.get(&id)
			.is_some_and(|(until, at)| Instant::now() < *until && *at == changes)
		{
			return Ok(None);
		}
		let readers = readers(client, feed.twin, feed.level).await?;
		if let Some((epoch, checked)) = self.running.get_mut(&id) {
			if epoch.sealed_for(&readers) {
				*checked = changes;
				return Ok(self.running.get_mut(&id).map(|(epoch, _)| epoch));
			}
		}
		// Readers came or went: nothing more is sealed under the old key.
		self.running.remove(&id);
		match start(client, device, genesis, feed, after, first_sequence, &readers).await {
			Ok(epoch) => {
				self.retry.remove(&id);
				let (epoch, _) = self.running.entry(id).or_insert((epoch, changes));
				Ok(Some(epoch))
			},
			Err(EpochError::Client(error)) => Err(error),
			Err(error) => {
				log::warn!("{error}; trying again in {RETRY_AFTER:?} or when access changes");
				self.retry.insert(id, (Instant::now() + RETRY_AFTER, changes));
				Ok(None)
			},
		}
	}

	/// Ends `feed`'s epoch: the next entry starts a new one.
	pub fn end(&mut self, feed: FeedId) {
		self.running.remove(&feed);
	}
}

fn reader_set(readers: &[Reader]) -> ReaderSet {
	readers.iter().map(|(account, key)| (account.clone(), key.id())).collect()
}

/// The accounts cleared to read `level` on `twin` that have a usable encryption key; those
/// without one are logged and left out.
pub async fn readers(
	client: &Client,
	twin: TwinId,
	level: Confidentiality,
) -> Result<Vec<Reader>, ClientError> {
	let mut readers = Vec::new();
	for cleared in cleared_readers(client, twin, level).await? {
		let key = cleared.encryption_key.as_deref().map(ReaderPublicKey::from_der);
		match key {
			Some(Ok(key)) => readers.push((cleared.account, key)),
			Some(Err(e)) => log::warn!(
				"{} may read {level:?} data of twin {twin}, but its encryption key is unusable \
				 ({e}): feed epochs are not sealed for it",
				cleared.account
			),
			None => log::warn!(
				"{} may read {level:?} data of twin {twin}, but has no encryption key on chain: \
				 feed epochs are not sealed for it",
				cleared.account
			),
		}
	}
	Ok(readers)
}

/// What an epoch is for: one feed of one level on one twin.
pub struct EpochFeed {
	pub feed: FeedId,
	pub level: Confidentiality,
	pub twin: TwinId,
}

/// Starts the next epoch of `feed` for `readers`, above `after` (the highest epoch the
/// feed's log or an earlier run used); its first entry will be `first_sequence`.
pub async fn start(
	client: &Client,
	device: &sr25519::Pair,
	genesis: &GenesisHash,
	feed: &EpochFeed,
	after: Option<u32>,
	first_sequence: u64,
	readers: &[Reader],
) -> Result<Epoch, EpochError> {
	if readers.is_empty() {
		return Err(EpochError::NoReaders { feed: feed.feed, level: feed.level, twin: feed.twin });
	}
	let first = after.map_or(0, |epoch| epoch.saturating_add(1));
	let last = first.saturating_add(CLAIM_ATTEMPTS - 1);
	let mut claimed = None;
	for candidate in first..=last {
		if claim(client, device, genesis, feed, candidate, readers).await? {
			claimed = Some(candidate);
			break;
		}
	}
	let epoch = claimed.ok_or(EpochError::NoFreeEpoch { feed: feed.feed, first, last })?;
	let keys: Vec<ReaderPublicKey> = readers.iter().map(|(_, key)| key.clone()).collect();
	let (encryptor, envelope) = EpochEncryptor::start(feed.feed, epoch, first_sequence, &keys)
		.map_err(|source| EpochError::Crypto { feed: feed.feed, source })?;
	let bytes = envelope.to_bytes();
	let publish = SignedAction::sign(
		Action::WriteEnvelope {
			item: feed_epoch_item(feed.feed, epoch),
			envelope: Cid::of(&bytes),
		},
		device,
		genesis,
	);
	let _receipt: serde_json::Value = client
		.request(
			"store_putEnvelope",
			rpc_params![hex_string(&bytes), hex_string(&publish.encode())],
		)
		.await
		.map_err(|e| no_network(e, feed))?;
	log::info!(
		"feed {}: epoch {epoch} from entry {first_sequence} on, sealed for {} reader(s)",
		feed.feed,
		readers.len()
	);
	Ok(Epoch { encryptor, readers: reader_set(readers) })
}

#[derive(Deserialize)]
struct AclView {
	version: u64,
}

/// Sets the reader list of epoch `epoch` of the feed if no one has; `false` if it is taken.
async fn claim(
	client: &Client,
	device: &sr25519::Pair,
	genesis: &GenesisHash,
	feed: &EpochFeed,
	epoch: u32,
	readers: &[Reader],
) -> Result<bool, EpochError> {
	let item = feed_epoch_item(feed.feed, epoch);
	let list: AclView = client
		.request("store_acl", rpc_params![hex_string(&item.0)])
		.await
		.map_err(|e| no_network(e, feed))?;
	if list.version != 0 {
		return Ok(false);
	}
	let accounts = readers
		.iter()
		.map(|(account, _)| sr25519::Public::from_raw(account.clone().into()));
	let change = Action::ChangeAcl(AclChange {
		item,
		base_version: 0,
		op: AclOp::ReplaceReaders(accounts.collect()),
	});
	let signed = SignedAction::sign(change, device, genesis);
	match client
		.request::<serde_json::Value>("store_changeAcl", rpc_params![hex_string(&signed.encode())])
		.await
	{
		Ok(_) => Ok(true),
		// Another change got there first: the number is taken.
		Err(error) if error.code() == Some(LIST_CONFLICT) => Ok(false),
		Err(error) => Err(no_network(error, feed)),
	}
}

fn no_network(error: ClientError, feed: &EpochFeed) -> EpochError {
	match error.code() {
		Some(NO_STORE_NETWORK) => EpochError::NoStoreNetwork { feed: feed.feed, level: feed.level },
		_ => EpochError::Client(error),
	}
}

/// Whether a finalized event may change who is cleared to read a twin's data: anything the
/// access control or the consortium did (grants, roles, members, organisations, keys).
pub fn may_change_readers(event: &RuntimeEvent) -> bool {
	matches!(event, RuntimeEvent::Access(_) | RuntimeEvent::Consortium(_))
}

/// Follows the node's finalized blocks and counts those that may change the readers of the
/// twin's feeds into `changes`, reconnecting with backoff; a reconnection counts as a
/// change too (blocks may have gone by unseen). Ends when `shutdown` turns true.
pub async fn watch_access(
	node: String,
	changes: watch::Sender<u64>,
	mut shutdown: watch::Receiver<bool>,
) {
	let mut backoff = Backoff::default();
	loop {
		let followed = async {
			let client = Client::connect(&node).await?;
			let mut blocks = client.finalized_events().await?;
			changes.send_modify(|count| *count += 1);
			loop {
				let block = blocks.next().await?;
				if block.events.iter().any(may_change_readers) {
					log::debug!(
						"block {}: the readers of encrypted feeds may have changed",
						block.number
					);
					changes.send_modify(|count| *count += 1);
				}
			}
			#[allow(unreachable_code)]
			Ok::<(), ClientError>(())
		};
		let outcome = tokio::select! {
			outcome = followed => outcome,
			_ = shutdown.wait_for(|stop| *stop) => return,
		};
		let wait = backoff.next_wait();
		if let Err(e) = outcome {
			log::warn!("access changes: {e}; following again in {wait:?}");
		}
		if !pause(wait, &mut shutdown).await {
			return;
		}
	}
}
