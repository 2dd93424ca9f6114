//! # Availability pallet
//!
//! Which partner nodes hold a verified copy of each item of the off-chain store that the
//! chain refers to: document versions (encrypted content and key envelope), annotations and
//! sensor feeds ([`StoredItem`]). The chain records only content ids and checkpoints; the
//! bytes live on the partners' nodes. Each partner node follows the finalized chain, fetches
//! the items it is a replica of, checks them against what the chain records, keeps them and
//! then says so here, so anyone can see how many partners hold each item and which.
//!
//! ## Calls
//!
//! - [`Pallet::attest_availability`]: a partner node states that it holds some items. It is
//!   not signed by an account (nodes have none) but authorized
//!   ([`frame_support::pallet_prelude::Authorize`], run by the runtime's
//!   `frame_system::AuthorizeCall` extension): the attestation must be signed with the
//!   ed25519 key embedded in the node's peer id, which the consortium must have registered
//!   as a partner node ([`Config::PartnerNodes`]); every item must be one the chain refers
//!   to ([`Config::Items`]); the attestation must be recent ([`Config::AttestationLongevity`])
//!   and bring at least one item the node was not yet recorded to hold, so replaying it has
//!   no effect. Refusals are transaction validity errors; the custom codes are in
//!   [`refusal`].
//!
//! ## Reads
//!
//! [`Pallet::holders`]: the partner nodes recorded to hold an item, with the block of their
//! attestation; nodes no longer registered as partners are left out. Also offered to nodes
//! and clients as the [`runtime_api::AvailabilityApi`].

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use dt_primitives::availability::{Attestation, StoredItem};
pub use pallet::*;
pub use weights::WeightInfo;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
pub mod runtime_api;
#[cfg(test)]
mod tests;
pub mod weights;

use alloc::vec::Vec;

/// The consortium's partner nodes, by libp2p peer id.
pub trait PartnerNodes {
	/// Whether `peer_id` is registered as a partner node.
	fn is_partner_node(peer_id: &[u8]) -> bool;
}

/// The off-chain items the chain refers to.
pub trait ReferencedItems {
	/// Whether the chain records `item` (a registered document version or annotation, a
	/// registered feed).
	fn is_referenced(item: &StoredItem) -> bool;
}

/// What the benchmarks need from the runtime: a partner node and items to attest.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper {
	/// Registers `peer_id` as a partner node.
	fn register_partner_node(peer_id: Vec<u8>);
	/// Makes the chain refer to a distinct item for each `index`, and returns it.
	fn referenced_item(index: u32) -> StoredItem;
}

/// The custom codes of `InvalidTransaction::Custom` with which an attestation is refused.
pub mod refusal {
	/// An attested item is not one the chain refers to.
	pub const UNKNOWN_ITEM: u8 = 1;
	/// The node is already recorded to hold every attested item.
	pub const NOTHING_NEW: u8 = 2;
	/// The attestation lists no item.
	pub const NO_ITEMS: u8 = 3;
	/// The node's peer id does not embed an ed25519 key, so nothing it signs can be checked.
	pub const NOT_AN_ED25519_PEER_ID: u8 = 4;
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::pallet_prelude::*;
	use frame_system::pallet_prelude::*;
	use sp_core::ed25519;
	use sp_runtime::traits::Saturating;

	/// A partner node's peer id.
	pub type PeerIdOf<T> = BoundedVec<u8, <T as Config>::MaxPeerIdLength>;

	/// The items of one attestation.
	pub type AttestedItemsOf<T> = BoundedVec<StoredItem, <T as Config>::MaxItemsPerAttestation>;

	/// An attestation as this runtime takes it.
	pub type AttestationOf<T> = Attestation<PeerIdOf<T>, AttestedItemsOf<T>, BlockNumberFor<T>>;

	/// The storage layout this code reads and writes. A change to it comes with a migration
	/// (`VersionedMigration`) from the previous version, listed in the runtime.
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(0);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The consortium's partner nodes: only they may attest.
		type PartnerNodes: PartnerNodes;

		/// The items the chain refers to: only they may be attested.
		type Items: ReferencedItems;

		/// Longest peer id, as the consortium bounds it.
		#[pallet::constant]
		type MaxPeerIdLength: Get<u32>;

		/// Most items in one attestation.
		#[pallet::constant]
		type MaxItemsPerAttestation: Get<u32>;

		/// For how many blocks after the block it names an attestation is accepted.
		#[pallet::constant]
		type AttestationLongevity: Get<BlockNumberFor<Self>>;

		/// Weights of the calls.
		type WeightInfo: WeightInfo;

		/// Sets up partner nodes and items for the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper;
	}

	/// The partner nodes that hold each item, with the block of the attestation that
	/// recorded it.
	#[pallet::storage]
	pub type Holders<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		StoredItem,
		Blake2_128Concat,
		PeerIdOf<T>,
		BlockNumberFor<T>,
	>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A partner node holds these items, checked against the chain; only the items it was
		/// not yet recorded to hold are listed.
		AvailabilityAttested { node: PeerIdOf<T>, items: AttestedItemsOf<T> },
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Records that the partner node `attestation.node` holds `attestation.items`.
		///
		/// Authorized by the node's `signature` over
		/// [`Attestation::signing_payload`] (see the pallet's documentation), not by an
		/// account.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::attest_availability(attestation.items.len() as u32))]
		#[pallet::authorize(Pallet::<T>::authorize_attestation)]
		#[pallet::weight_of_authorize(
			T::WeightInfo::authorize_attest_availability(attestation.items.len() as u32)
		)]
		pub fn attest_availability(
			origin: OriginFor<T>,
			attestation: AttestationOf<T>,
			signature: ed25519::Signature,
		) -> DispatchResult {
			ensure_authorized(origin)?;
			// The signature was checked when the call was authorized.
			let _ = signature;
			let now = frame_system::Pallet::<T>::block_number();
			let node = attestation.node;
			let mut new_items = attestation.items;
			new_items.retain(|item| !Holders::<T>::contains_key(item, &node));
			for item in &new_items {
				Holders::<T>::insert(item, &node, now);
			}
			Self::deposit_event(Event::AvailabilityAttested { node, items: new_items });
			Ok(())
		}
	}

	impl<T: Config> Pallet<T> {
		/// Checks an attestation before it enters the pool and again before it is applied.
		fn authorize_attestation(
			_source: TransactionSource,
			attestation: &AttestationOf<T>,
			signature: &ed25519::Signature,
		) -> TransactionValidityWithRefund {
			let Attestation { node, items, at } = attestation;
			if items.is_empty() {
				return Err(InvalidTransaction::Custom(refusal::NO_ITEMS).into());
			}
			let now = frame_system::Pallet::<T>::block_number();
			if *at > now {
				return Err(InvalidTransaction::Future.into());
			}
			let expires = at.saturating_add(T::AttestationLongevity::get());
			if expires <= now {
				return Err(InvalidTransaction::Stale.into());
			}
			if !T::PartnerNodes::is_partner_node(node) {
				return Err(InvalidTransaction::BadSigner.into());
			}
			let Some(key) = dt_primitives::availability::ed25519_key_of_peer_id(node) else {
				return Err(InvalidTransaction::Custom(refusal::NOT_AN_ED25519_PEER_ID).into());
			};
			let genesis: [u8; 32] =
				frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero())
					.as_ref()
					.try_into()
					.map_err(|_| InvalidTransaction::BadProof)?;
			let payload = attestation.signing_payload(&genesis);
			if !sp_io::crypto::ed25519_verify(signature, &payload, &ed25519::Public::from_raw(key))
			{
				return Err(InvalidTransaction::BadProof.into());
			}
			if let Some(_unknown) = items.iter().find(|item| !T::Items::is_referenced(item)) {
				return Err(InvalidTransaction::Custom(refusal::UNKNOWN_ITEM).into());
			}
			if items.iter().all(|item| Holders::<T>::contains_key(item, node)) {
				return Err(InvalidTransaction::Custom(refusal::NOTHING_NEW).into());
			}
			let remaining: u64 = expires.saturating_sub(now).try_into().unwrap_or(u64::MAX);
			let validity = ValidTransaction::with_tag_prefix("DtAvailability")
				.and_provides((node, items))
				.longevity(remaining)
				.propagate(true)
				.build()?;
			Ok((validity, Weight::zero()))
		}

		/// The partner nodes recorded to hold `item`, each with the block of its attestation;
		/// nodes no longer registered as partners are left out.
		pub fn holders(item: &StoredItem) -> Vec<(Vec<u8>, BlockNumberFor<T>)> {
			Holders::<T>::iter_prefix(item)
				.filter(|(node, _)| T::PartnerNodes::is_partner_node(node))
				.map(|(node, at)| (node.into_inner(), at))
				.collect()
		}
	}
}
