//! Reads of twins' program calls for nodes, clients and device agents, as a runtime API.
//!
//! On an archive node these can be called at any block, which is how a queue's past state
//! is read.

use crate::{CallId, CallRecord};
use alloc::vec::Vec;
use codec::Codec;
use dt_primitives::access::TwinId;

sp_api::decl_runtime_apis! {
	/// What a node, client or device agent needs to read a twin's program calls at a block.
	pub trait ProgramsApi<AccountId: Codec, BlockNumber: Codec> {
		/// A twin's unfinished calls in the order they were queued: the claimed ones, then
		/// the pending ones, the next the device will claim first.
		fn pending_calls(twin: TwinId) -> Vec<CallRecord<AccountId, BlockNumber>>;

		/// A twin's calls, finished ones included, by id: at most `limit` (and at most
		/// [`crate::MAX_CALLS_PER_PAGE`]) of those with an id above `after`.
		fn calls_of_twin(
			twin: TwinId,
			after: Option<CallId>,
			limit: u32,
		) -> Vec<CallRecord<AccountId, BlockNumber>>;

		/// A call with its status, finished or not.
		fn call(call: CallId) -> Option<CallRecord<AccountId, BlockNumber>>;
	}
}
