//! What the documents pallet stores and what its reads return.

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use dt_primitives::{
	access::{Confidentiality, ElementId, TwinId},
	content_id::{ContentId, ContentIdError},
};
use frame_support::{traits::Get, BoundedVec};
use scale_info::TypeInfo;

pub use dt_primitives::document::{AnnotationIndex, DocumentId, VersionNumber};

/// A registered document: what it is, where it belongs and whether it is still current.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
#[scale_info(skip_type_params(MaxTitle, MaxMediaType))]
#[codec(mel_bound(AccountId: MaxEncodedLen, BlockNumber: MaxEncodedLen))]
pub struct Document<AccountId, BlockNumber, MaxTitle: Get<u32>, MaxMediaType: Get<u32>> {
	/// The twin the document belongs to.
	pub twin: TwinId,
	/// Its title, non-empty UTF-8.
	pub title: BoundedVec<u8, MaxTitle>,
	/// Its media type (`type/subtype`, ASCII), e.g. `application/pdf`.
	pub media_type: BoundedVec<u8, MaxMediaType>,
	/// Who may read it: readers need clearance for this level.
	pub confidentiality: Confidentiality,
	/// The element of the twin's specification it documents; `None` for the whole twin.
	pub element: Option<ElementId>,
	/// Who registered it.
	pub registered_by: AccountId,
	/// The block in which it was registered.
	pub registered_at: BlockNumber,
	/// Who retired it and when; a retired document keeps its history but takes no versions.
	pub retired: Option<(AccountId, BlockNumber)>,
	/// How many versions it has (at least 1).
	pub version_count: VersionNumber,
}

/// One version of a document: its encrypted content in the off-chain store.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
pub struct Version<AccountId, BlockNumber> {
	/// The content id of the encrypted document.
	pub content_id: ContentId,
	/// The content id of the key envelope: the document key, sealed for each reader.
	pub key_envelope: ContentId,
	/// The size of the plain document, in bytes.
	pub size: u64,
	/// Who added this version.
	pub author: AccountId,
	/// The block in which it was added.
	pub added_at: BlockNumber,
	/// How many annotations it has.
	pub annotation_count: AnnotationIndex,
}

/// An annotation of a document version: its encrypted content in the off-chain store.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
pub struct Annotation<AccountId, BlockNumber> {
	/// The content id of the encrypted annotation.
	pub content_id: ContentId,
	/// Who wrote it.
	pub author: AccountId,
	/// The block in which it was added.
	pub added_at: BlockNumber,
}

/// A document as the reads return it.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct DocumentRecord<AccountId, BlockNumber> {
	/// Its id.
	pub id: DocumentId,
	/// The twin it belongs to.
	pub twin: TwinId,
	/// Its title.
	pub title: Vec<u8>,
	/// Its media type.
	pub media_type: Vec<u8>,
	/// Its confidentiality level.
	pub confidentiality: Confidentiality,
	/// The element it documents, if any.
	pub element: Option<ElementId>,
	/// Who registered it.
	pub registered_by: AccountId,
	/// When.
	pub registered_at: BlockNumber,
	/// Who retired it and when, if retired.
	pub retired: Option<(AccountId, BlockNumber)>,
	/// How many versions it has.
	pub version_count: VersionNumber,
}

/// A version with its annotations, as [`DocumentHistory`] lists it.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct VersionRecord<AccountId, BlockNumber> {
	/// Its number.
	pub number: VersionNumber,
	/// The version.
	pub version: Version<AccountId, BlockNumber>,
	/// Its annotations, in the order they were added.
	pub annotations: Vec<Annotation<AccountId, BlockNumber>>,
}

/// A document with all its versions and their annotations.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct DocumentHistory<AccountId, BlockNumber> {
	/// The document.
	pub document: DocumentRecord<AccountId, BlockNumber>,
	/// Its versions, oldest first.
	pub versions: Vec<VersionRecord<AccountId, BlockNumber>>,
}

/// Why the runtime rejected a content id (wraps the reason for the error type).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct ContentIdRejection(pub ContentIdError);

impl frame_support::traits::PalletError for ContentIdRejection {
	const MAX_ENCODED_SIZE: usize = 1;
}
