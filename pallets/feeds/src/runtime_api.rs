//! Reads of twins' sensor feeds for nodes and clients, as a runtime API.
//!
//! On an archive node these can be called at any block, which is how a feed's past state
//! is read.

use crate::{CheckpointIndex, CheckpointRecord, FeedId, FeedRecord};
use alloc::vec::Vec;
use codec::Codec;
use dt_primitives::access::{ElementId, TwinId};

sp_api::decl_runtime_apis! {
	/// What a node or client needs to read a twin's sensor feeds at a block.
	pub trait FeedsApi<AccountId: Codec, BlockNumber: Codec> {
		/// The feeds of a twin, by id, closed ones included, each with its latest checkpoint.
		/// With a `reader`, only the feeds it is cleared to read.
		fn feeds_of_twin(
			twin: TwinId,
			reader: Option<AccountId>,
		) -> Vec<FeedRecord<AccountId, BlockNumber>>;

		/// The feeds of a twin attached to one element, by id, closed ones included. With a
		/// `reader`, only the feeds it is cleared to read.
		fn feeds_of_element(
			twin: TwinId,
			element: ElementId,
			reader: Option<AccountId>,
		) -> Vec<FeedRecord<AccountId, BlockNumber>>;

		/// A feed with its latest checkpoint.
		fn feed(feed: FeedId) -> Option<FeedRecord<AccountId, BlockNumber>>;

		/// Up to `limit` checkpoints of a feed (at most `MAX_CHECKPOINTS_PER_READ`), in the
		/// order they were anchored, from the one at `from_index`.
		fn checkpoints(
			feed: FeedId,
			from_index: CheckpointIndex,
			limit: u32,
		) -> Vec<CheckpointRecord<BlockNumber>>;
	}
}
