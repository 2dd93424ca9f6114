//! Requests signed with a ledger identity: putting a block, reading a key envelope,
//! publishing one, and changing an item's reader list.
//!
//! The partner node that forwards a request is not trusted to speak for a party: the party
//! signs the action itself with its ledger account (sr25519, as on chain) and every replica
//! checks the signature and asks the [`AccessPolicy`](super::AccessPolicy) whether that
//! account may do it.
//!
//! The signature is over
//!
//! ```text
//! "dt-ledger/offchain-request/v2" || genesis hash (32 bytes) || SCALE(action, timestamp_ms, nonce)
//! ```
//!
//! The domain prefix keeps these signatures apart from transactions and feed entries signed
//! by the same account; the genesis hash keeps a request signed for one chain (a test
//! network) from being accepted by the replicas of another. Replay is stopped twice: a
//! replica refuses a request whose timestamp is more than [`MAX_CLOCK_SKEW_MS`] from its
//! clock, and remembers the requests it accepted within that window ([`ReplayGuard`]),
//! refusing them a second time.
//!
//! A block put ([`Action::PutBlock`]) is idempotent (the block is content-addressed and
//! charged once), so it is not remembered: it is accepted for [`MAX_PUT_AGE_MS`] after it
//! was signed, long enough for the node that took it to offer it again to replicas that
//! missed it.

use std::{
	collections::HashMap,
	sync::Mutex,
	time::{SystemTime, UNIX_EPOCH},
};

use codec::{Decode, Encode};
use sp_core::{sr25519, Pair as _};
use sp_crypto_hashing::blake2_256;

use super::{acl::AclChange, ItemId};
use crate::{content_id::Cid, GenesisHash};

/// What a signed request is over, before the genesis hash and the request's encoding.
pub const AUTH_DOMAIN: &[u8] = b"dt-ledger/offchain-request/v2";

/// How far a request's timestamp may be from a replica's clock, in milliseconds.
pub const MAX_CLOCK_SKEW_MS: u64 = 120_000;

/// How long after it was signed a block put is accepted, in milliseconds: longer than the
/// node that took it keeps offering it to replicas that missed it (about 8.5 minutes).
pub const MAX_PUT_AGE_MS: u64 = 15 * 60_000;

/// What a party asks for.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub enum Action {
	/// Read the key envelope `envelope` of `item` (a reader on its access list).
	ReadEnvelope {
		/// The item.
		item: ItemId,
		/// The envelope's content id.
		envelope: Cid,
	},
	/// Publish the key envelope `envelope` of a new version of `item` (a manager).
	WriteEnvelope {
		/// The item.
		item: ItemId,
		/// The envelope's content id.
		envelope: Cid,
	},
	/// Change the reader list of an item (a manager).
	ChangeAcl(AclChange),
	/// Store the block `block` (a member), charged to the signer's organisation until the
	/// chain refers to it.
	PutBlock {
		/// The block's content id.
		block: Cid,
	},
	/// Read the newest key envelope of `item` (a reader on its access list): a feed epoch's
	/// one envelope, which the reader knows by the epoch alone.
	ReadLatestEnvelope {
		/// The item.
		item: ItemId,
	},
	/// Read the entries of a feed above Public (an account cleared for the feed's level).
	/// Checked by the node that serves the read; replicas copy feeds among themselves.
	ReadFeed {
		/// The feed.
		feed: dt_primitives::feed::FeedId,
	},
}

impl Action {
	/// The item the action is about; `None` for a block put or a feed read.
	pub fn item(&self) -> Option<&ItemId> {
		match self {
			Self::ReadEnvelope { item, .. }
			| Self::WriteEnvelope { item, .. }
			| Self::ReadLatestEnvelope { item } => Some(item),
			Self::ChangeAcl(change) => Some(&change.item),
			Self::PutBlock { .. } | Self::ReadFeed { .. } => None,
		}
	}
}

/// An [`Action`] signed by a ledger account.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct SignedAction {
	/// What is asked.
	pub action: Action,
	/// The ledger account asking.
	pub signer: sr25519::Public,
	/// When it was signed, in milliseconds since the Unix epoch.
	pub timestamp_ms: u64,
	/// Random, so that two identical requests in one millisecond differ.
	pub nonce: [u8; 16],
	/// The signer's signature; see the module documentation.
	pub signature: sr25519::Signature,
}

/// Why a signed request was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
	/// The signature does not verify with the signer's key.
	#[error("the signature of {signer} does not verify over the request")]
	BadSignature {
		/// The claimed signer.
		signer: sr25519::Public,
	},
	/// The timestamp is too far from the replica's clock.
	#[error(
		"the request was signed at {timestamp_ms} ms, more than {MAX_CLOCK_SKEW_MS} ms from \
		 this replica's clock ({now_ms} ms); sign it again"
	)]
	Stale {
		/// The request's timestamp.
		timestamp_ms: u64,
		/// The replica's clock.
		now_ms: u64,
	},
	/// The same signed request was already accepted.
	#[error("this signed request was already used; sign a new one")]
	Replayed,
	/// A block put signed too long ago (or ahead).
	#[error(
		"the block put was signed at {timestamp_ms} ms, more than {MAX_PUT_AGE_MS} ms before \
		 (or {MAX_CLOCK_SKEW_MS} ms after) this replica's clock ({now_ms} ms); sign it again"
	)]
	StalePut {
		/// The request's timestamp.
		timestamp_ms: u64,
		/// The replica's clock.
		now_ms: u64,
	},
	/// The ledger does not allow the signer to do this.
	#[error("{signer} is not allowed to {what}")]
	NotAllowed {
		/// The signer.
		signer: sr25519::Public,
		/// What it asked for.
		what: &'static str,
	},
}

/// Milliseconds since the Unix epoch by this machine's clock.
pub fn now_ms() -> u64 {
	SystemTime::now()
		.duration_since(UNIX_EPOCH)
		.map_or(0, |since| since.as_millis() as u64)
}

impl SignedAction {
	/// Signs `action` for the chain `genesis` with `pair` now, with a fresh random nonce.
	pub fn sign(action: Action, pair: &sr25519::Pair, genesis: &GenesisHash) -> Self {
		let mut nonce = [0u8; 16];
		// Without system randomness the nonce is only a tie-breaker: the timestamp and the
		// replay guard still stop replays within one replica.
		let _ = getrandom::fill(&mut nonce);
		Self::sign_at(action, pair, genesis, now_ms(), nonce)
	}

	/// Signs `action` for the chain `genesis` with `pair` at a given time and nonce.
	pub fn sign_at(
		action: Action,
		pair: &sr25519::Pair,
		genesis: &GenesisHash,
		timestamp_ms: u64,
		nonce: [u8; 16],
	) -> Self {
		let message = signing_message(genesis, &action, timestamp_ms, &nonce);
		Self { action, signer: pair.public(), timestamp_ms, nonce, signature: pair.sign(&message) }
	}

	/// The id of this signed request: the hash of what was signed, but the chain.
	pub fn id(&self) -> [u8; 32] {
		let mut request = AUTH_DOMAIN.to_vec();
		(&self.action, self.timestamp_ms, &self.nonce).encode_to(&mut request);
		blake2_256(&request)
	}

	/// Checks the signature alone, as made for the chain `genesis`: over the signing message,
	/// or over the message wrapped in `<Bytes>` … `</Bytes>`, which is how a browser extension
	/// (Polkadot.js and those implementing its injection interface) signs raw bytes, so that
	/// a party may sign store requests with the key its extension keeps. Wrapped or not, what
	/// is signed opens with the request domain and names the chain.
	pub fn verify_signature(&self, genesis: &GenesisHash) -> Result<(), AuthError> {
		let message = signing_message(genesis, &self.action, self.timestamp_ms, &self.nonce);
		if sr25519::Pair::verify(&self.signature, &message, &self.signer)
			|| sr25519::Pair::verify(&self.signature, wrapped_bytes(&message), &self.signer)
		{
			Ok(())
		} else {
			Err(AuthError::BadSignature { signer: self.signer })
		}
	}
}

fn signing_message(
	genesis: &GenesisHash,
	action: &Action,
	timestamp_ms: u64,
	nonce: &[u8; 16],
) -> Vec<u8> {
	let mut message = AUTH_DOMAIN.to_vec();
	message.extend_from_slice(genesis);
	(action, timestamp_ms, nonce).encode_to(&mut message);
	message
}

/// `message` as browser extensions sign raw bytes: between `<Bytes>` and `</Bytes>`, so that
/// no raw signature they give can pass for a transaction's.
fn wrapped_bytes(message: &[u8]) -> Vec<u8> {
	[b"<Bytes>".as_slice(), message, b"</Bytes>".as_slice()].concat()
}

/// The signed requests a replica accepted recently, to refuse them a second time.
///
/// Entries are kept for twice the clock skew window, after which the timestamp check alone
/// refuses them. The memory is lost at restart; a request replayed to a restarted replica
/// within the window is accepted once more, which for an envelope read gives nothing to a
/// party without a reader's private key, and for an access-list change does nothing since
/// the change names the version it applies to.
#[derive(Debug)]
pub struct ReplayGuard {
	/// The chain whose requests are accepted.
	genesis: GenesisHash,
	seen: Mutex<HashMap<[u8; 32], u64>>,
}

impl ReplayGuard {
	/// A guard for the requests signed for the chain `genesis`.
	pub fn new(genesis: GenesisHash) -> Self {
		Self { genesis, seen: Mutex::new(HashMap::new()) }
	}

	/// The chain whose requests are accepted.
	pub fn genesis(&self) -> &GenesisHash {
		&self.genesis
	}

	/// Checks a block put: signed for this chain, within [`MAX_PUT_AGE_MS`] (and no further
	/// ahead than [`MAX_CLOCK_SKEW_MS`]). Not remembered: a put is idempotent.
	pub fn admit_put(&self, request: &SignedAction, now_ms: u64) -> Result<(), AuthError> {
		let timestamp_ms = request.timestamp_ms;
		if timestamp_ms.saturating_add(MAX_PUT_AGE_MS) < now_ms
			|| timestamp_ms > now_ms.saturating_add(MAX_CLOCK_SKEW_MS)
		{
			return Err(AuthError::StalePut { timestamp_ms, now_ms });
		}
		request.verify_signature(&self.genesis)
	}

	/// Checks the signature (for this chain) and the timestamp of `request` and that it was
	/// not accepted before, then remembers it.
	pub fn admit(&self, request: &SignedAction, now_ms: u64) -> Result<(), AuthError> {
		if request.timestamp_ms.abs_diff(now_ms) > MAX_CLOCK_SKEW_MS {
			return Err(AuthError::Stale { timestamp_ms: request.timestamp_ms, now_ms });
		}
		request.verify_signature(&self.genesis)?;
		let mut seen = self.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
		seen.retain(|_, expires| *expires > now_ms);
		let expires = request.timestamp_ms.saturating_add(2 * MAX_CLOCK_SKEW_MS);
		if seen.insert(request.id(), expires).is_some() {
			return Err(AuthError::Replayed);
		}
		Ok(())
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn read(item: u8) -> Action {
		Action::ReadEnvelope { item: ItemId([item; 32]), envelope: Cid::of(b"envelope") }
	}

	const GENESIS: GenesisHash = [7; 32];

	/// A request signed as a browser extension signs raw bytes (`<Bytes>` around the message).
	fn signed_by_extension(
		action: Action,
		pair: &sr25519::Pair,
		genesis: &GenesisHash,
		wrap: impl Fn(&[u8]) -> Vec<u8>,
	) -> SignedAction {
		let mut request = SignedAction::sign_at(action, pair, &GENESIS, now_ms(), [9; 16]);
		let message =
			signing_message(genesis, &request.action, request.timestamp_ms, &request.nonce);
		request.signature = pair.sign(&wrap(&message));
		request
	}

	#[test]
	fn extension_signatures_are_accepted_for_their_chain_only() {
		let alice = sr25519::Pair::from_string("//Alice", None).unwrap();
		let wrapped = signed_by_extension(read(1), &alice, &GENESIS, wrapped_bytes);
		assert_eq!(wrapped.verify_signature(&GENESIS), Ok(()));
		// The same request signed by the extension for another chain.
		let elsewhere = signed_by_extension(read(1), &alice, &[8; 32], wrapped_bytes);
		assert!(matches!(
			elsewhere.verify_signature(&GENESIS),
			Err(AuthError::BadSignature { .. })
		));
		// Half a wrapping, or another one, is not the extension's.
		let others: [fn(&[u8]) -> Vec<u8>; 3] = [
			|m: &[u8]| [b"<Bytes>".as_slice(), m].concat(),
			|m: &[u8]| [m, b"</Bytes>".as_slice()].concat(),
			|m: &[u8]| [b"<Bytes> ".as_slice(), m, b" </Bytes>".as_slice()].concat(),
		];
		for wrap in others {
			let request = signed_by_extension(read(1), &alice, &GENESIS, wrap);
			assert!(matches!(
				request.verify_signature(&GENESIS),
				Err(AuthError::BadSignature { .. })
			));
		}
		// Another action under the extension's signature.
		let mut forged = signed_by_extension(read(1), &alice, &GENESIS, wrapped_bytes);
		forged.action = read(2);
		assert!(matches!(forged.verify_signature(&GENESIS), Err(AuthError::BadSignature { .. })));
	}

	#[test]
	fn signed_requests_are_checked_once() {
		let alice = sr25519::Pair::from_string("//Alice", None).unwrap();
		let guard = ReplayGuard::new(GENESIS);
		let now = now_ms();
		let request = SignedAction::sign_at(read(1), &alice, &GENESIS, now, [1; 16]);
		guard.admit(&request, now).unwrap();
		assert_eq!(guard.admit(&request, now + 10), Err(AuthError::Replayed));

		// Another action under the same signature.
		let mut forged = SignedAction::sign_at(read(1), &alice, &GENESIS, now, [2; 16]);
		forged.action = read(2);
		assert!(matches!(guard.admit(&forged, now), Err(AuthError::BadSignature { .. })));

		// Another signer claimed.
		let bob = sr25519::Pair::from_string("//Bob", None).unwrap();
		let mut claimed = SignedAction::sign_at(read(1), &alice, &GENESIS, now, [3; 16]);
		claimed.signer = bob.public();
		assert!(matches!(guard.admit(&claimed, now), Err(AuthError::BadSignature { .. })));

		// Too old, or from the future.
		let old =
			SignedAction::sign_at(read(1), &alice, &GENESIS, now - MAX_CLOCK_SKEW_MS - 1, [4; 16]);
		assert!(matches!(guard.admit(&old, now), Err(AuthError::Stale { .. })));
		let future =
			SignedAction::sign_at(read(1), &alice, &GENESIS, now + MAX_CLOCK_SKEW_MS + 1, [5; 16]);
		assert!(matches!(guard.admit(&future, now), Err(AuthError::Stale { .. })));
	}

	/// A request signed for another chain (a test network's genesis) is refused, and its
	/// id is that of the same request for this chain, so it cannot be told apart by replay.
	#[test]
	fn a_request_signed_for_another_chain_is_refused() {
		let alice = sr25519::Pair::from_string("//Alice", None).unwrap();
		let guard = ReplayGuard::new(GENESIS);
		let now = now_ms();
		let test_chain = SignedAction::sign_at(read(1), &alice, &[8; 32], now, [1; 16]);
		assert!(matches!(guard.admit(&test_chain, now), Err(AuthError::BadSignature { .. })));
		let put = Action::PutBlock { block: Cid::of(b"block") };
		let test_chain = SignedAction::sign_at(put.clone(), &alice, &[8; 32], now, [2; 16]);
		assert!(matches!(guard.admit_put(&test_chain, now), Err(AuthError::BadSignature { .. })));
		let ours = SignedAction::sign_at(put, &alice, &GENESIS, now, [2; 16]);
		assert_eq!(guard.admit_put(&ours, now), Ok(()));
		// Puts are idempotent: the same one again is fine, within its age.
		assert_eq!(guard.admit_put(&ours, now + MAX_PUT_AGE_MS), Ok(()));
		assert!(matches!(
			guard.admit_put(&ours, now + MAX_PUT_AGE_MS + 1),
			Err(AuthError::StalePut { .. })
		));
	}
}
