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
		/// The documents of a twin, by id, retired ones included. With a `reader`, only those
		/// it is cleared to read.
		fn documents_of_twin(
			twin: TwinId,
			reader: Option<AccountId>,
		) -> Vec<DocumentRecord<AccountId, BlockNumber>>;

		/// The documents of a twin attached to one element, by id. With a `reader`, only
		/// those it is cleared to read.
		fn documents_of_element(
			twin: TwinId,
			element: ElementId,
			reader: Option<AccountId>,
		) -> Vec<DocumentRecord<AccountId, BlockNumber>>;

		/// A document with all its versions, oldest first, and their annotations. With a
		/// `reader`, `None` unless it is cleared to read the document.
		fn document_with_history(
			document: DocumentId,
			reader: Option<AccountId>,
		) -> Option<DocumentHistory<AccountId, BlockNumber>>;

		/// Whether `who` may manage the document's readers in the off-chain store: it may
		/// add versions of the document or manage its twin's access, and is cleared for its
		/// confidentiality level. Answers for the one document, without scanning twins.
		fn may_manage_readers(document: DocumentId, who: AccountId) -> bool;
	}
}
