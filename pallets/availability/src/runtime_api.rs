//! Which partner nodes hold an off-chain item, as a runtime API for nodes and clients.

use crate::StoredItem;
use alloc::vec::Vec;
use codec::Codec;

sp_api::decl_runtime_apis! {
	/// What a node or client needs to see where an off-chain item is kept.
	pub trait AvailabilityApi<BlockNumber: Codec> {
		/// The partner nodes (peer ids) recorded to hold `item`, each with the block of its
		/// attestation; nodes no longer registered as partners are left out.
		fn holders(item: StoredItem) -> Vec<(Vec<u8>, BlockNumber)>;
	}
}
