//! What a replica does with one request, whoever sent it (a partner over the network, or
//! this node itself): the store's rules in one place, blocking on the disk, no networking.

use std::{
	collections::{BTreeSet, HashMap},
	path::Path,
	sync::{Arc, Mutex, PoisonError},
};

use dt_primitives::feed::FeedId;
use libp2p::PeerId;

use super::{
	acl::{AclError, AclStore, Prepared, PREPARE_LEASE_MS},
	auth::{now_ms, Action, AuthError, ReplayGuard, SignedAction},
	partners::AccessPolicy,
	placement::PlacementKey,
	protocol::{Refusal, Request, Response},
	NodeError,
};
use crate::{
	block_store::{BlockStore, BlockStoreError},
	content_id::{verify, Cid},
	crypto::Envelope,
	feed::{Appended, FeedError, FeedKey, FeedStore, SignedBatch, StoreError as FeedStoreError},
	uploads::{UploadError, UploadLimits, Uploads},
	GenesisHash,
};

/// How long a feed subscription lasts unless renewed, in milliseconds.
pub const SUBSCRIPTION_LEASE_MS: u64 = 30_000;

/// Most feed batches one [`Request::FeedBatches`] answer carries.
pub const MAX_BATCHES_PER_ANSWER: usize = 64;

/// The stores of one node and the rules it applies to requests.
pub struct Replica {
	/// Sealed chunks and manifests: ciphertext, served to any partner.
	pub(crate) blocks: BlockStore,
	/// Key envelopes: served only to readers on the item's list.
	pub(crate) envelopes: BlockStore,
	/// Items' reader lists.
	pub(crate) acls: AclStore,
	/// Feed logs, of the feeds replicated here and of those this node follows.
	pub(crate) feeds: FeedStore,
	/// The blocks put here that the chain does not refer to yet, charged to their
	/// organisations.
	pub(crate) uploads: Uploads,
	policy: Arc<dyn AccessPolicy>,
	replay: ReplayGuard,
	/// Who asked to be pushed each feed's new batches, and until when (milliseconds since
	/// the Unix epoch). Kept in memory: subscribers renew well within
	/// [`SUBSCRIPTION_LEASE_MS`], so they are back soon after this node restarts, and the
	/// ones that went away drop out.
	subscribers: Mutex<HashMap<FeedId, HashMap<PeerId, u64>>>,
}

/// A request's answer, and what the node must do on the network because of it.
pub struct Handled {
	/// The answer.
	pub response: Response,
	/// Announce this node as a provider of the key (it now stores it).
	pub provide: Option<PlacementKey>,
	/// Push this stored batch to these subscribers.
	pub notify: Option<(FeedId, SignedBatch, Vec<PeerId>)>,
}

impl From<Response> for Handled {
	fn from(response: Response) -> Self {
		Self { response, provide: None, notify: None }
	}
}

fn internal(error: impl std::fmt::Display) -> Response {
	Response::refused(Refusal::Internal, error)
}

fn unauthorized(error: AuthError) -> Response {
	let reason = match error {
		AuthError::Replayed => Refusal::Replayed,
		_ => Refusal::Unauthorized,
	};
	Response::refused(reason, error)
}

fn acl_refusal(error: AclError) -> Response {
	match error {
		AclError::Io { .. } | AclError::Corrupt { .. } => internal(error),
		AclError::Busy { .. } | AclError::WrongVersion { .. } | AclError::NotPrepared => {
			Response::refused(Refusal::Conflict, error)
		},
		_ => Response::refused(Refusal::Invalid, error),
	}
}

impl Replica {
	/// Opens the stores under `data_dir`: `blocks/`, `envelopes/`, `acl/`, `feeds/`,
	/// `uploads/`, for the chain `genesis` (the signatures it accepts are made for it).
	pub fn open(
		data_dir: &Path,
		genesis: GenesisHash,
		limits: UploadLimits,
		policy: Arc<dyn AccessPolicy>,
	) -> Result<Self, NodeError> {
		Ok(Self {
			blocks: BlockStore::open(data_dir.join("blocks"))?,
			envelopes: BlockStore::open(data_dir.join("envelopes"))?,
			acls: AclStore::open(data_dir.join("acl"))?,
			feeds: FeedStore::open(data_dir.join("feeds"))?,
			uploads: Uploads::open(data_dir.join("uploads"), limits)?,
			policy,
			replay: ReplayGuard::new(genesis),
			subscribers: Mutex::new(HashMap::new()),
		})
	}

	/// Answers `request` from partner `from`. Blocking.
	pub fn handle(&self, from: PeerId, request: Request) -> Handled {
		match request {
			Request::Ping => Response::Ok.into(),
			Request::PutBlock { request, bytes } => self.put_block(&request, &bytes),
			Request::RepairBlock(bytes) => self.repair_block(&bytes),
			Request::GetBlock(cid) => self.get_block(&cid).into(),
			Request::PutEnvelope { request, bytes } => self.put_envelope(&request, &bytes),
			Request::GetEnvelope(request) => self.get_envelope(&request).into(),
			Request::GetAcl(item) => match self.acls.state(&item) {
				Ok(state) => Response::Acl(state.acl).into(),
				Err(error) => acl_refusal(error).into(),
			},
			Request::PrepareAcl(request) => self.prepare_acl(&request).into(),
			Request::CommitAcl(request) => self.commit_acl(&request).into(),
			Request::AbortAcl(request) => self.abort_acl(&request).into(),
			Request::AppendFeed { feed, batch } => self.append_feed(feed, batch, true),
			Request::FeedNotify { feed, batch } => self.append_feed(feed, batch, false),
			Request::FeedBatches { feed, from: first, max } => {
				self.feed_batches(feed, first, max as usize).into()
			},
			Request::FeedHead(feed) => match self.feeds.head(feed) {
				Ok(head) => Response::FeedHead(head).into(),
				Err(error) => internal(error).into(),
			},
			Request::SubscribeFeed(feed) => {
				if self.policy.feed_owner(feed).is_none() {
					return Response::refused(Refusal::NotFound, format!("no feed {feed}")).into();
				}
				let until = now_ms() + SUBSCRIPTION_LEASE_MS;
				self.subscribers_lock().entry(feed).or_default().insert(from, until);
				Response::Ok.into()
			},
			Request::UnsubscribeFeed(feed) => {
				if let Some(peers) = self.subscribers_lock().get_mut(&feed) {
					peers.remove(&from);
				}
				Response::Ok.into()
			},
		}
	}

	fn subscribers_lock(&self) -> std::sync::MutexGuard<'_, HashMap<FeedId, HashMap<PeerId, u64>>> {
		self.subscribers.lock().unwrap_or_else(PoisonError::into_inner)
	}

	/// The chain whose signatures this replica accepts.
	pub fn genesis(&self) -> &GenesisHash {
		self.replay.genesis()
	}

	/// A member's block: its signed put names these bytes, is recent and made for this
	/// chain, and the member's organisation has room for it in its quota.
	fn put_block(&self, request: &SignedAction, bytes: &[u8]) -> Handled {
		let Action::PutBlock { block } = &request.action else {
			return Response::refused(Refusal::Invalid, "not a block put").into();
		};
		if let Err(mismatch) = verify(block, bytes) {
			return Response::refused(Refusal::Invalid, mismatch).into();
		}
		let now = now_ms();
		if let Err(error) = self.replay.admit_put(request, now) {
			return unauthorized(error).into();
		}
		let Some(organisation) = self.policy.organisation_of(&request.signer) else {
			let what = "put blocks: it is no member of the consortium";
			return unauthorized(AuthError::NotAllowed { signer: request.signer, what }).into();
		};
		match self.uploads.put(&self.blocks, organisation, bytes, now) {
			Ok(cid) => Handled {
				response: Response::Ok,
				provide: Some(PlacementKey::block(&cid)),
				notify: None,
			},
			Err(error @ UploadError::QuotaExceeded { .. }) => {
				Response::refused(Refusal::QuotaExceeded, error).into()
			},
			Err(error @ UploadError::Blocks(BlockStoreError::TooLarge { .. })) => {
				Response::refused(Refusal::Invalid, error).into()
			},
			Err(error) => internal(error).into(),
		}
	}

	/// A good copy of a block this replica held and found damaged (it quarantined it), or
	/// still has pending: nothing new is stored this way.
	fn repair_block(&self, bytes: &[u8]) -> Handled {
		let cid = Cid::of(bytes);
		let known = self.uploads.is_pending(&cid) || self.blocks.was_quarantined(&cid);
		if !known {
			let message = format!("this replica holds no damaged copy of {cid} to repair");
			return Response::refused(Refusal::Unauthorized, message).into();
		}
		match self.blocks.put(bytes) {
			Ok(cid) => Handled {
				response: Response::Ok,
				provide: Some(PlacementKey::block(&cid)),
				notify: None,
			},
			Err(error @ BlockStoreError::TooLarge { .. }) => {
				Response::refused(Refusal::Invalid, error).into()
			},
			Err(error) => internal(error).into(),
		}
	}

	/// Reads a block from `store`, quarantining a damaged copy so that it is fetched again.
	fn read_verified(store: &BlockStore, cid: &Cid) -> Result<Vec<u8>, Response> {
		match store.get(cid) {
			Ok(Some(bytes)) => Ok(bytes),
			Ok(None) => Err(Response::refused(Refusal::NotFound, format!("no block {cid}"))),
			Err(error @ BlockStoreError::Corrupted { .. }) => {
				log::warn!(target: "dt-offchain", "{error}; quarantining it");
				if let Err(quarantine) = store.quarantine(cid) {
					log::warn!(target: "dt-offchain", "cannot quarantine {cid}: {quarantine}");
				}
				Err(Response::refused(Refusal::Corrupted, error))
			},
			Err(error) => Err(internal(error)),
		}
	}

	fn get_block(&self, cid: &Cid) -> Response {
		match Self::read_verified(&self.blocks, cid) {
			Ok(bytes) => Response::Block(bytes),
			Err(refusal) => refusal,
		}
	}

	fn put_envelope(&self, request: &SignedAction, bytes: &[u8]) -> Handled {
		let Action::WriteEnvelope { item, envelope } = &request.action else {
			return Response::refused(Refusal::Invalid, "not an envelope publication").into();
		};
		if let Err(mismatch) = verify(envelope, bytes) {
			return Response::refused(Refusal::Invalid, mismatch).into();
		}
		if let Err(error) = self.replay.admit(request, now_ms()) {
			return unauthorized(error).into();
		}
		if !self.policy.may_manage(&request.signer, item) {
			let error = AuthError::NotAllowed {
				signer: request.signer,
				what: "publish key envelopes of this item",
			};
			return unauthorized(error).into();
		}
		let parsed = match Envelope::from_bytes(bytes) {
			Ok(parsed) => parsed,
			Err(error) => return Response::refused(Refusal::Invalid, error).into(),
		};
		let state = match self.acls.state(item) {
			Ok(state) => state,
			Err(error) => return acl_refusal(error).into(),
		};
		// Revocation is only real if new versions are sealed for the current readers alone.
		let allowed: BTreeSet<_> = state
			.acl
			.readers
			.iter()
			.filter_map(|reader| self.policy.reader_key(reader))
			.map(|key| key.id())
			.collect();
		if let Some(foreign) = parsed.recipients().iter().find(|r| !allowed.contains(&r.key_id)) {
			let message = format!(
				"envelope {envelope} is sealed for key {:?}, which belongs to no reader on \
				 version {} of the item's list",
				foreign.key_id, state.acl.version
			);
			return Response::refused(Refusal::Invalid, message).into();
		}
		if let Err(error) = self.envelopes.put(bytes) {
			return internal(error).into();
		}
		let recorded = self.acls.update(item, |state| {
			if !state.envelopes.contains(envelope) {
				state.envelopes.push(*envelope);
			}
			Ok(())
		});
		match recorded {
			Ok(()) => Handled {
				response: Response::Ok,
				provide: Some(PlacementKey::item(item)),
				notify: None,
			},
			Err(error) => acl_refusal(error).into(),
		}
	}

	/// Serves a key envelope of an item to a reader on its committed list: the one named
	/// ([`Action::ReadEnvelope`]) or the newest ([`Action::ReadLatestEnvelope`]).
	fn get_envelope(&self, request: &SignedAction) -> Response {
		let (item, named) = match &request.action {
			Action::ReadEnvelope { item, envelope } => (item, Some(envelope)),
			Action::ReadLatestEnvelope { item } => (item, None),
			_ => return Response::refused(Refusal::Invalid, "not an envelope read"),
		};
		if let Err(error) = self.replay.admit(request, now_ms()) {
			return unauthorized(error);
		}
		let state = match self.acls.state(item) {
			Ok(state) => state,
			Err(error) => return acl_refusal(error),
		};
		if !state.acl.is_reader(&request.signer) {
			let what = "read key envelopes of this item: not on its reader list";
			return unauthorized(AuthError::NotAllowed { signer: request.signer, what });
		}
		let envelope = match named {
			Some(envelope) if state.envelopes.contains(envelope) => envelope,
			Some(envelope) => {
				return Response::refused(Refusal::NotFound, format!("no envelope {envelope} here"))
			},
			None => match state.envelopes.last() {
				Some(newest) => newest,
				None => {
					return Response::refused(
						Refusal::NotFound,
						format!("no envelope of item {item} here yet"),
					)
				},
			},
		};
		match Self::read_verified(&self.envelopes, envelope) {
			Ok(bytes) => Response::Envelope(bytes),
			Err(refusal) => refusal,
		}
	}

	/// The checks every replica makes before it prepares or applies a change.
	fn authorize_change<'a>(
		&self,
		request: &'a SignedAction,
	) -> Result<&'a super::AclChange, Response> {
		let Action::ChangeAcl(change) = &request.action else {
			return Err(acl_refusal(AclError::NotAChange));
		};
		self.replay.admit(request, now_ms()).map_err(unauthorized)?;
		if !self.policy.may_manage(&request.signer, &change.item) {
			let what = "change the reader list of this item";
			return Err(unauthorized(AuthError::NotAllowed { signer: request.signer, what }));
		}
		Ok(change)
	}

	fn prepare_acl(&self, request: &SignedAction) -> Response {
		let change = match self.authorize_change(request) {
			Ok(change) => change,
			Err(refusal) => return refusal,
		};
		let now = now_ms();
		let prepared = self.acls.update(&change.item, |state| {
			if let Some(pending) = &state.prepared {
				if pending.expires_ms > now && pending.change.id() != request.id() {
					return Err(AclError::Busy { until_ms: pending.expires_ms });
				}
			}
			if change.base_version != state.acl.version {
				return Err(AclError::WrongVersion {
					base_version: change.base_version,
					current: state.acl.version,
				});
			}
			state.acl.apply(&change.op)?;
			state.prepared =
				Some(Prepared { change: request.clone(), expires_ms: now + PREPARE_LEASE_MS });
			Ok(())
		});
		match prepared {
			Ok(()) => Response::Ok,
			Err(error) => acl_refusal(error),
		}
	}

	fn commit_acl(&self, request: &SignedAction) -> Response {
		let Action::ChangeAcl(change) = &request.action else {
			return acl_refusal(AclError::NotAChange);
		};
		let prepared_here = match self.acls.state(&change.item) {
			Ok(state) => state.prepared.is_some_and(|p| p.change.id() == request.id()),
			Err(error) => return acl_refusal(error),
		};
		// A replica that missed the prepare (it was unreachable) applies the decision of the
		// quorum if it can: same checks as a prepare, and nothing else pending.
		if !prepared_here {
			if let Err(refusal) = self.authorize_change(request) {
				return refusal;
			}
		} else if let Err(error) = request.verify_signature(self.genesis()) {
			return unauthorized(error);
		}
		let now = now_ms();
		let committed = self.acls.update(&change.item, |state| {
			let ours = state.prepared.as_ref().is_some_and(|p| p.change.id() == request.id());
			if !ours {
				if let Some(pending) = &state.prepared {
					if pending.expires_ms > now {
						return Err(AclError::Busy { until_ms: pending.expires_ms });
					}
				}
			}
			if change.base_version != state.acl.version {
				return Err(AclError::WrongVersion {
					base_version: change.base_version,
					current: state.acl.version,
				});
			}
			state.acl = state.acl.apply(&change.op)?;
			state.prepared = None;
			Ok(state.acl.clone())
		});
		match committed {
			Ok(acl) => Response::Acl(acl),
			Err(error) => acl_refusal(error),
		}
	}

	fn abort_acl(&self, request: &SignedAction) -> Response {
		let Action::ChangeAcl(change) = &request.action else {
			return acl_refusal(AclError::NotAChange);
		};
		if let Err(error) = request.verify_signature(self.genesis()) {
			return unauthorized(error);
		}
		let aborted = self.acls.update(&change.item, |state| {
			if state.prepared.as_ref().is_some_and(|p| p.change.id() == request.id()) {
				state.prepared = None;
			}
			Ok(())
		});
		match aborted {
			Ok(()) => Response::Ok,
			Err(error) => acl_refusal(error),
		}
	}

	/// Validates and stores a feed batch. An append (`fan_out`) is new writing: the feed
	/// must be active on chain and its owner a member, and what is new is pushed to this
	/// replica's subscribers. A batch pushed here by a replica is history the feed's owner
	/// signed (while the feed was active, or the replicas would not have taken it): it is
	/// checked against the owner's signature alone, and not pushed on.
	fn append_feed(&self, feed: FeedId, batch: SignedBatch, fan_out: bool) -> Handled {
		let owner = if fan_out {
			let Some(owner) = self.policy.feed_appender(feed) else {
				let message = match self.policy.feed_owner(feed) {
					Some(_) => format!(
						"feed {feed} takes no more entries: it is closed or replaced on chain, \
						 or its owner is no longer a member of the consortium"
					),
					None => format!("the ledger has no feed {feed}"),
				};
				let reason = match self.policy.feed_owner(feed) {
					Some(_) => Refusal::Unauthorized,
					None => Refusal::NotFound,
				};
				return Response::refused(reason, message).into();
			};
			owner
		} else {
			let Some(owner) = self.policy.feed_owner(feed) else {
				let message = format!("the ledger has no feed {feed}");
				return Response::refused(Refusal::NotFound, message).into();
			};
			owner
		};
		let key = FeedKey { owner, genesis: *self.genesis() };
		match self.feeds.append(feed, &key, batch.clone()) {
			Ok(Appended::Stored { head, .. }) => {
				let now = now_ms();
				let subscribers: Vec<PeerId> = match self.subscribers_lock().get_mut(&feed) {
					Some(peers) => {
						peers.retain(|_, until| *until > now);
						peers.keys().copied().collect()
					},
					None => Vec::new(),
				};
				let notify =
					(fan_out && !subscribers.is_empty()).then_some((feed, batch, subscribers));
				Handled {
					response: Response::FeedHead(Some(head)),
					provide: Some(PlacementKey::feed(feed)),
					notify,
				}
			},
			Ok(Appended::AlreadyStored { head }) => Response::FeedHead(Some(head)).into(),
			Err(FeedStoreError::Rejected { reason: FeedError::Gap { expected, .. }, .. }) => {
				let message = format!("feed {feed} continues at entry {expected}");
				Response::refused(Refusal::FeedGap { expected }, message).into()
			},
			Err(error @ FeedStoreError::Rejected { .. }) => {
				Response::refused(Refusal::Invalid, error).into()
			},
			Err(error) => internal(error).into(),
		}
	}

	fn feed_batches(&self, feed: FeedId, from: u64, max: usize) -> Response {
		match self.feeds.signed_batches(feed, from, max.min(MAX_BATCHES_PER_ANSWER)) {
			Ok(mut batches) => {
				// Keep the answer within one message.
				let mut size = 0usize;
				let budget = super::protocol::MAX_MESSAGE_BYTES as usize / 2;
				let keep = batches
					.iter()
					.take_while(|batch| {
						size += codec::Encode::encoded_size(*batch);
						size <= budget
					})
					.count()
					.max(1);
				batches.truncate(keep);
				Response::FeedBatches(batches)
			},
			Err(error) => internal(error),
		}
	}
}

#[cfg(test)]
mod tests {
	use sp_core::{sr25519, Pair as _};

	use super::*;
	use crate::{
		crypto::{test_keys, DocumentKey, ReaderPrivateKey, ReaderPublicKey},
		feed::{FeedWriter, SignedBatch},
		network::{acl::AclOp, AclChange, ItemId},
	};
	use dt_primitives::OrganisationId;

	struct Policy {
		manager: sr25519::Public,
		keys: Vec<(sr25519::Public, ReaderPublicKey)>,
		device: sr25519::Public,
	}

	impl AccessPolicy for Policy {
		fn may_manage(&self, account: &sr25519::Public, _: &ItemId) -> bool {
			*account == self.manager
		}
		fn reader_key(&self, account: &sr25519::Public) -> Option<ReaderPublicKey> {
			self.keys.iter().find(|(a, _)| a == account).map(|(_, key)| key.clone())
		}
		fn feed_owner(&self, feed: FeedId) -> Option<sr25519::Public> {
			(feed == 1 || feed == 3).then_some(self.device)
		}
		/// Feed 3 is closed on chain.
		fn feed_appender(&self, feed: FeedId) -> Option<sr25519::Public> {
			(feed == 1).then_some(self.device)
		}
		/// Alice and Bob are members; Eve is not.
		fn organisation_of(&self, account: &sr25519::Public) -> Option<OrganisationId> {
			if *account == pair("//Alice").public() {
				Some(1)
			} else if *account == pair("//Bob").public() {
				Some(2)
			} else {
				None
			}
		}
	}

	const GENESIS: GenesisHash = [42; 32];

	fn pair(seed: &str) -> sr25519::Pair {
		sr25519::Pair::from_string(seed, None).unwrap()
	}

	fn replica() -> (tempfile::TempDir, Replica) {
		let dir = tempfile::tempdir().unwrap();
		let policy = Policy {
			manager: pair("//Alice").public(),
			keys: vec![
				(pair("//Bob").public(), test_keys::bob().public_key().clone()),
				(pair("//Charlie").public(), test_keys::charlie().public_key().clone()),
			],
			device: pair("//Dave").public(),
		};
		let limits = UploadLimits { quota_bytes: 1_000, grace_ms: 60_000 };
		let replica = Replica::open(dir.path(), GENESIS, limits, Arc::new(policy)).unwrap();
		(dir, replica)
	}

	const ITEM: ItemId = ItemId([9; 32]);

	fn refusal(handled: Handled) -> Refusal {
		match handled.response {
			Response::Refused { reason, .. } => reason,
			other => panic!("expected a refusal, got {other:?}"),
		}
	}

	fn change(base_version: u64, reader: &str, signer: &str) -> SignedAction {
		let op = AclOp::AddReader(pair(reader).public());
		SignedAction::sign(
			Action::ChangeAcl(AclChange { item: ITEM, base_version, op }),
			&pair(signer),
			&GENESIS,
		)
	}

	#[test]
	fn envelopes_are_stored_only_from_managers_and_for_readers_on_the_list() {
		let (_dir, replica) = replica();
		let from = PeerId::random();
		let prepare = change(0, "//Bob", "//Alice");
		assert_eq!(
			replica.handle(from, Request::PrepareAcl(prepare.clone())).response,
			Response::Ok
		);
		assert!(matches!(
			replica.handle(from, Request::CommitAcl(prepare)).response,
			Response::Acl(_)
		));

		let for_bob = Envelope::seal(
			&DocumentKey::generate().unwrap(),
			&[test_keys::bob().public_key().clone()],
		)
		.unwrap()
		.to_bytes();
		let for_charlie = Envelope::seal(
			&DocumentKey::generate().unwrap(),
			&[test_keys::charlie().public_key().clone()],
		)
		.unwrap()
		.to_bytes();
		let publish = |bytes: &[u8], signer: &str| {
			let action = Action::WriteEnvelope { item: ITEM, envelope: Cid::of(bytes) };
			Request::PutEnvelope {
				request: SignedAction::sign(action, &pair(signer), &GENESIS),
				bytes: bytes.to_vec(),
			}
		};
		// Bytes that are not the envelope the request names.
		let mismatched = match publish(&for_bob, "//Alice") {
			Request::PutEnvelope { request, .. } => {
				Request::PutEnvelope { request, bytes: for_charlie.clone() }
			},
			_ => unreachable!(),
		};
		assert_eq!(refusal(replica.handle(from, mismatched)), Refusal::Invalid);
		// Not a manager; sealed for Charlie, who is not on the list; not an envelope at all.
		assert_eq!(
			refusal(replica.handle(from, publish(&for_bob, "//Bob"))),
			Refusal::Unauthorized
		);
		assert_eq!(
			refusal(replica.handle(from, publish(&for_charlie, "//Alice"))),
			Refusal::Invalid
		);
		assert_eq!(
			refusal(replica.handle(from, publish(b"DTE1 junk", "//Alice"))),
			Refusal::Invalid
		);
		assert!(!replica.envelopes.has(&Cid::of(&for_charlie)).unwrap());
		assert_eq!(replica.handle(from, publish(&for_bob, "//Alice")).response, Response::Ok);

		let read = |envelope: Cid, signer: &str| {
			let action = Action::ReadEnvelope { item: ITEM, envelope };
			Request::GetEnvelope(SignedAction::sign(action, &pair(signer), &GENESIS))
		};
		assert_eq!(
			replica.handle(from, read(Cid::of(&for_bob), "//Bob")).response,
			Response::Envelope(for_bob.clone())
		);
		assert_eq!(
			refusal(replica.handle(from, read(Cid::of(&for_bob), "//Charlie"))),
			Refusal::Unauthorized
		);
		assert_eq!(
			refusal(replica.handle(from, read(Cid::of(b"other"), "//Bob"))),
			Refusal::NotFound
		);
		// Another kind of signed request where a read is expected.
		let wrong = Request::GetEnvelope(change(1, "//Charlie", "//Alice"));
		assert_eq!(refusal(replica.handle(from, wrong)), Refusal::Invalid);
	}

	#[test]
	fn a_feed_epoch_gets_its_readers_at_once_and_each_reads_the_newest_envelope() {
		let (_dir, replica) = replica();
		let from = PeerId::random();
		let readers = vec![pair("//Charlie").public(), pair("//Bob").public()];
		let set = SignedAction::sign(
			Action::ChangeAcl(AclChange {
				item: ITEM,
				base_version: 0,
				op: AclOp::ReplaceReaders(readers),
			}),
			&pair("//Alice"),
			&GENESIS,
		);
		assert_eq!(replica.handle(from, Request::PrepareAcl(set.clone())).response, Response::Ok);
		let Response::Acl(list) = replica.handle(from, Request::CommitAcl(set)).response else {
			panic!("the list was not committed");
		};
		assert_eq!(list.version, 1);
		assert!(
			list.is_reader(&pair("//Bob").public()) && list.is_reader(&pair("//Charlie").public())
		);

		let latest = |signer: &str| {
			let action = Action::ReadLatestEnvelope { item: ITEM };
			Request::GetEnvelope(SignedAction::sign(action, &pair(signer), &GENESIS))
		};
		assert_eq!(refusal(replica.handle(from, latest("//Bob"))), Refusal::NotFound, "none yet");
		let sealed = |readers: &[&ReaderPrivateKey]| {
			let keys: Vec<_> = readers.iter().map(|key| key.public_key().clone()).collect();
			Envelope::seal(&DocumentKey::generate().unwrap(), &keys).unwrap().to_bytes()
		};
		let publish = |bytes: &[u8]| {
			let action = Action::WriteEnvelope { item: ITEM, envelope: Cid::of(bytes) };
			let request = SignedAction::sign(action, &pair("//Alice"), &GENESIS);
			replica
				.handle(from, Request::PutEnvelope { request, bytes: bytes.to_vec() })
				.response
		};
		let first = sealed(&[test_keys::bob(), test_keys::charlie()]);
		let second = sealed(&[test_keys::bob()]);
		assert_eq!(publish(&first), Response::Ok);
		assert_eq!(publish(&second), Response::Ok);
		for reader in ["//Bob", "//Charlie"] {
			assert_eq!(
				replica.handle(from, latest(reader)).response,
				Response::Envelope(second.clone()),
				"{reader} gets the newest"
			);
		}
		assert_eq!(refusal(replica.handle(from, latest("//Eve"))), Refusal::Unauthorized);
		assert_eq!(refusal(replica.handle(from, latest("//Alice"))), Refusal::Unauthorized);
	}

	#[test]
	fn one_pending_change_at_a_time_until_commit_abort_or_lease_end() {
		let (_dir, replica) = replica();
		let from = PeerId::random();
		let bob = change(0, "//Bob", "//Alice");
		let charlie = change(0, "//Charlie", "//Alice");
		assert_eq!(replica.handle(from, Request::PrepareAcl(bob.clone())).response, Response::Ok);
		// A competing change is refused, as prepare and as commit.
		assert_eq!(
			refusal(replica.handle(from, Request::PrepareAcl(charlie.clone()))),
			Refusal::Conflict
		);
		assert_eq!(
			refusal(replica.handle(from, Request::CommitAcl(change(0, "//Charlie", "//Alice")))),
			Refusal::Conflict
		);
		// Nothing changed for readers meanwhile.
		assert_eq!(replica.acls.state(&ITEM).unwrap().acl.version, 0);
		// Abort frees it. A refused request was used up: the manager signs the change again.
		assert_eq!(replica.handle(from, Request::AbortAcl(bob)).response, Response::Ok);
		assert_eq!(refusal(replica.handle(from, Request::PrepareAcl(charlie))), Refusal::Replayed);
		let charlie = change(0, "//Charlie", "//Alice");
		assert_eq!(
			replica.handle(from, Request::PrepareAcl(charlie.clone())).response,
			Response::Ok
		);
		// A lease that ran out (its node crashed) frees it too.
		replica
			.acls
			.update(&ITEM, |state| {
				state.prepared.as_mut().unwrap().expires_ms = 0;
				Ok(())
			})
			.unwrap();
		let dave = change(0, "//Dave", "//Alice");
		assert_eq!(replica.handle(from, Request::PrepareAcl(dave.clone())).response, Response::Ok);
		match replica.handle(from, Request::CommitAcl(dave)).response {
			Response::Acl(acl) => {
				assert_eq!((acl.version, acl.readers), (1, vec![pair("//Dave").public()]))
			},
			other => panic!("{other:?}"),
		}
		// Charlie's prepared change lost its lease: committing it now is refused, and so is
		// any change still naming version 0.
		assert_ne!(replica.handle(from, Request::CommitAcl(charlie)).response, Response::Ok);
		let stale = change(0, "//Bob", "//Alice");
		assert_eq!(refusal(replica.handle(from, Request::PrepareAcl(stale))), Refusal::Conflict);
		let stale = change(0, "//Bob", "//Alice");
		assert_eq!(refusal(replica.handle(from, Request::CommitAcl(stale))), Refusal::Conflict);
		// A replayed prepare is refused as such.
		let fresh = change(1, "//Bob", "//Alice");
		assert_eq!(replica.handle(from, Request::PrepareAcl(fresh.clone())).response, Response::Ok);
		assert_eq!(refusal(replica.handle(from, Request::PrepareAcl(fresh))), Refusal::Replayed);
	}

	#[test]
	fn feed_batches_are_checked_and_gaps_reported() {
		let (_dir, replica) = replica();
		let from = PeerId::random();
		let device = pair("//Dave");
		let mut writer = FeedWriter::new(1, None);
		let first = SignedBatch::sign(vec![writer.next_entry(1, None, vec![1])], &device, &GENESIS);
		let second =
			SignedBatch::sign(vec![writer.next_entry(2, None, vec![2])], &device, &GENESIS);
		let unknown = Request::AppendFeed { feed: 2, batch: first.clone() };
		assert_eq!(refusal(replica.handle(from, unknown)), Refusal::NotFound);
		let gap = Request::AppendFeed { feed: 1, batch: second.clone() };
		assert_eq!(refusal(replica.handle(from, gap)), Refusal::FeedGap { expected: 0 });
		let forged = SignedBatch::sign(first.entries.clone(), &pair("//Alice"), &GENESIS);
		assert_eq!(
			refusal(replica.handle(from, Request::AppendFeed { feed: 1, batch: forged })),
			Refusal::Invalid
		);
		for batch in [first, second] {
			let handled = replica.handle(from, Request::AppendFeed { feed: 1, batch });
			assert!(matches!(handled.response, Response::FeedHead(Some(_))));
		}
		match replica
			.handle(from, Request::FeedBatches { feed: 1, from: 1, max: 10 })
			.response
		{
			Response::FeedBatches(batches) => assert_eq!(batches.len(), 1),
			other => panic!("{other:?}"),
		}
	}

	fn put(bytes: &[u8], signer: &str, genesis: &GenesisHash) -> Request {
		let action = Action::PutBlock { block: Cid::of(bytes) };
		Request::PutBlock {
			request: SignedAction::sign(action, &pair(signer), genesis),
			bytes: bytes.to_vec(),
		}
	}

	/// Blocks come only from members' signed puts, made for this chain, within their
	/// organisation's quota (1000 bytes here); a repair only for a block held already.
	#[test]
	fn blocks_are_taken_only_from_members_within_their_quota() {
		let (_dir, replica) = replica();
		let from = PeerId::random();
		// Nobody's signature, a non-member's, a signature for another chain, bytes that are
		// not the block the request names.
		let stranger = Request::RepairBlock(vec![1; 100]);
		assert_eq!(refusal(replica.handle(from, stranger)), Refusal::Unauthorized);
		assert_eq!(
			refusal(replica.handle(from, put(&[1; 100], "//Eve", &GENESIS))),
			Refusal::Unauthorized
		);
		assert_eq!(
			refusal(replica.handle(from, put(&[1; 100], "//Alice", &[0; 32]))),
			Refusal::Unauthorized
		);
		let swapped = match put(&[1; 100], "//Alice", &GENESIS) {
			Request::PutBlock { request, .. } => Request::PutBlock { request, bytes: vec![2; 100] },
			_ => unreachable!(),
		};
		assert_eq!(refusal(replica.handle(from, swapped)), Refusal::Invalid);
		assert!(!replica.blocks.has(&Cid::of(&[1; 100])).unwrap());

		// A member, up to its organisation's quota; the other organisation is unaffected.
		let ok = replica.handle(from, put(&[1; 600], "//Alice", &GENESIS));
		assert_eq!(ok.response, Response::Ok);
		assert_eq!(
			replica.handle(from, put(&[1; 600], "//Alice", &GENESIS)).response,
			Response::Ok
		);
		assert_eq!(
			refusal(replica.handle(from, put(&[2; 600], "//Alice", &GENESIS))),
			Refusal::QuotaExceeded
		);
		assert!(!replica.blocks.has(&Cid::of(&[2; 600])).unwrap());
		assert_eq!(replica.handle(from, put(&[2; 600], "//Bob", &GENESIS)).response, Response::Ok);

		// A damaged copy, quarantined, is repaired from a good one.
		let cid = Cid::of(&[1; 600]);
		std::fs::write(replica.blocks.path_of(&cid), b"damaged").unwrap();
		assert_eq!(refusal(replica.handle(from, Request::GetBlock(cid))), Refusal::Corrupted);
		assert_eq!(replica.handle(from, Request::RepairBlock(vec![1; 600])).response, Response::Ok);
		assert_eq!(
			replica.handle(from, Request::GetBlock(cid)).response,
			Response::Block(vec![1; 600])
		);
	}

	/// A closed feed (or one whose owner left the consortium) takes no new appends; its
	/// history still moves between replicas; a batch signed for another chain is refused.
	#[test]
	fn closed_feeds_take_no_appends_and_foreign_chains_no_entries() {
		let (_dir, replica) = replica();
		let from = PeerId::random();
		let device = pair("//Dave");
		let mut writer = FeedWriter::new(3, None);
		let entry = writer.next_entry(1, None, vec![1]);
		let batch = SignedBatch::sign(vec![entry.clone()], &device, &GENESIS);
		let append = Request::AppendFeed { feed: 3, batch: batch.clone() };
		assert_eq!(refusal(replica.handle(from, append)), Refusal::Unauthorized);
		let pushed = replica.handle(from, Request::FeedNotify { feed: 3, batch });
		assert!(matches!(pushed.response, Response::FeedHead(Some(_))));

		let mut writer = FeedWriter::new(1, None);
		let test_chain =
			SignedBatch::sign(vec![writer.next_entry(1, None, vec![1])], &device, &[0; 32]);
		let append = Request::AppendFeed { feed: 1, batch: test_chain };
		assert_eq!(refusal(replica.handle(from, append)), Refusal::Invalid);
	}
}
