//! Reads of twins' documents for nodes and clients, as a runtime API.
//!
//! On an archive node these can be called at any block, which is how a document's past
//! state is read.

use crate::{DocumentHistory, DocumentId, DocumentRecord};
use alloc::vec::Vec;
use codec::Codec;
use dt_primitives::access::{ElementId, TwinId};

sp_api::decl_runtime_apis! {
	/// What a node or client needs to read a twin's documents at a block.
	pub trait DocumentsApi<AccountId: Codec, BlockNumber: Codec> {
		/// The documents of a twin, by id, retired ones included.
		fn documents_of_twin(twin: TwinId) -> Vec<DocumentRecord<AccountId, BlockNumber>>;

		/// The documents of a twin attached to one element, by id.
		fn documents_of_element(
			twin: TwinId,
			element: ElementId,
		) -> Vec<DocumentRecord<AccountId, BlockNumber>>;

		/// A document with all its versions, oldest first, and their annotations.
		fn document_with_history(
			document: DocumentId,
		) -> Option<DocumentHistory<AccountId, BlockNumber>>;
	}
}
