//! Reads of twins for nodes and clients, as a runtime API.
//!
//! The node's `twin_*` RPC methods call it at the block the client asks for; on an archive
//! node that can be any block, which is how a twin's past documents and an element's
//! history are read.

use crate::{ElementRecord, ExternalSourceRecord, ProgramRecord, TwinInfo};
use alloc::vec::Vec;
use codec::Codec;
use dt_primitives::access::{ElementId, TwinId};

sp_api::decl_runtime_apis! {
	/// What a node or client needs to read a twin's specification at a block.
	pub trait TwinSpecApi<AccountId: Codec, BlockNumber: Codec> {
		/// Every twin with its summary.
		fn twins() -> Vec<(TwinId, TwinInfo<AccountId, BlockNumber>)>;

		/// The text before and after the root element of a twin's document.
		fn document_header(twin: TwinId) -> Option<(Vec<u8>, Vec<u8>)>;

		/// Up to `limit` elements in document order after `after` (from the root if `None`).
		/// With a `reader`, elements it is not cleared for are left out with their subtrees.
		/// A page may be shorter than `limit` (it carries at most about 1 MiB of fragments);
		/// an empty page means the end of the document.
		fn elements(
			twin: TwinId,
			after: Option<ElementId>,
			limit: u32,
			reader: Option<AccountId>,
		) -> Vec<ElementRecord<AccountId, BlockNumber>>;

		/// One element with its fragment.
		fn element(twin: TwinId, id: ElementId) -> Option<ElementRecord<AccountId, BlockNumber>>;

		/// The twin's external data sources.
		fn external_sources(twin: TwinId) -> Vec<ExternalSourceRecord<AccountId>>;

		/// The programs declared in the twin's specification.
		fn programs(twin: TwinId) -> Vec<ProgramRecord<AccountId>>;
	}
}
