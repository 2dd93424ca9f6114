//! What the twin-spec pallet stores and what its calls take.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use dt_primitives::{
	access::{Confidentiality, ElementId},
	aml_fragment::{FragmentError, HeaderError},
	program::{DeclarationError, ProgramParameters},
};
use frame_support::{
	traits::Get, BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
};
use scale_info::TypeInfo;

/// Identifies an external data source within its twin. Ids are never reused within a twin.
pub type SourceId = u32;

/// A twin: who created it and the state of its specification.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
pub struct TwinInfo<AccountId, BlockNumber> {
	/// The account that created the twin; it got the Owner role and imports the document.
	pub creator: AccountId,
	/// The block in which the twin was created.
	pub created_at: BlockNumber,
	/// The root element of the specification, once imported.
	pub root: Option<ElementId>,
	/// How many elements the specification has.
	pub element_count: u32,
	/// True while the creator is still importing the document in chunks; nobody can edit
	/// the specification until the import is complete.
	pub importing: bool,
	/// How many external data sources the twin references.
	pub source_count: u32,
	/// The id the next external data source gets.
	pub next_source_id: SourceId,
}

/// The text of the AML document around its root element, kept verbatim.
#[derive(
	CloneNoBound,
	DebugNoBound,
	PartialEqNoBound,
	EqNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[scale_info(skip_type_params(MaxLength))]
#[codec(mel_bound())]
pub struct DocumentHeader<MaxLength: Get<u32>> {
	/// Everything before the root element: byte order mark, XML declaration, comments.
	pub prolog: BoundedVec<u8, MaxLength>,
	/// Everything after the root element.
	pub epilog: BoundedVec<u8, MaxLength>,
}

impl<MaxLength: Get<u32>> Default for DocumentHeader<MaxLength> {
	fn default() -> Self {
		DocumentHeader { prolog: Default::default(), epilog: Default::default() }
	}
}

/// One element to add to a specification, as the client split it off the AML document.
#[derive(
	CloneNoBound,
	DebugNoBound,
	PartialEqNoBound,
	EqNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[scale_info(skip_type_params(MaxFragmentLength))]
#[codec(mel_bound())]
pub struct NewElement<MaxFragmentLength: Get<u32>> {
	/// The element's id: its `ID` attribute, or a structural path for an element without ID.
	pub id: ElementId,
	/// The parent element; `None` only for the document's root element.
	pub parent: Option<ElementId>,
	/// The sibling it follows; `None` to make it the parent's first child.
	pub previous_sibling: Option<ElementId>,
	/// The element's own XML without its child elements (see `docs/aml-element-tree.md`).
	pub fragment: BoundedVec<u8, MaxFragmentLength>,
}

/// What the last change of an element was.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	serde::Serialize,
	serde::Deserialize,
)]
pub enum ChangeKind {
	/// Added as part of the twin's document import.
	Imported,
	/// Inserted into the specification.
	Inserted,
	/// Its fragment was replaced.
	FragmentReplaced,
	/// Its confidentiality level was set.
	ConfidentialitySet,
}

/// One element of a specification: its place in the tree and its history. The fragment is
/// kept apart (`Fragments`), so moving neighbours never reads or writes it.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
pub struct ElementNode<AccountId, BlockNumber> {
	/// The parent element; `None` for the root.
	pub parent: Option<ElementId>,
	/// The sibling before it.
	pub previous_sibling: Option<ElementId>,
	/// The sibling after it (derived: kept so inserting and removing touch only neighbours).
	pub next_sibling: Option<ElementId>,
	/// Its first child (derived, for the same reason).
	pub first_child: Option<ElementId>,
	/// Distance from the root (the root has depth 0).
	pub depth: u32,
	/// Who may read it.
	pub confidentiality: Confidentiality,
	/// Counts the changes of this element, starting at 1.
	pub version: u32,
	/// What its last change was.
	pub last_change: ChangeKind,
	/// The block of its last change.
	pub changed_at: BlockNumber,
	/// The author of its last change.
	pub changed_by: AccountId,
	/// The block of the change before, if any: reading the element at that block gives its
	/// previous version, which is how its history is walked back.
	pub previous_change_at: Option<BlockNumber>,
	/// How many programs are declared on it.
	pub program_count: u32,
	/// How many external data sources are attached to it.
	pub source_count: u32,
	/// How many child elements it has (at most `MaxChildrenPerElement`).
	pub child_count: u32,
	/// How many program declarations take their parameters and safety bounds from its AML.
	/// While any does, changing or removing it needs the right to declare programs.
	pub describes_programs: u32,
}

/// The kind of an external data source.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	serde::Serialize,
	serde::Deserialize,
)]
pub enum SourceKind {
	/// A web page or HTTP API.
	Web,
	/// An OPC UA server.
	OpcUa,
	/// An MQTT topic.
	Mqtt,
	/// A database.
	Database,
	/// A file on a shared drive or in a repository.
	File,
	/// Anything else.
	Other,
}

/// A reference to data that lives outside the chain and the store.
#[derive(
	CloneNoBound,
	DebugNoBound,
	PartialEqNoBound,
	EqNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[scale_info(skip_type_params(MaxUriLength, MaxDescriptionLength))]
#[codec(mel_bound(AccountId: MaxEncodedLen))]
pub struct ExternalSource<AccountId, MaxUriLength: Get<u32>, MaxDescriptionLength: Get<u32>>
where
	AccountId: Clone + core::fmt::Debug + PartialEq + Eq,
{
	/// The element it describes; `None` for the whole twin.
	pub element: Option<ElementId>,
	/// Where the data is, e.g. `opc.tcp://plant:4840/filler` (ASCII, with a scheme).
	pub uri: BoundedVec<u8, MaxUriLength>,
	/// What the data is, for people (UTF-8).
	pub description: BoundedVec<u8, MaxDescriptionLength>,
	/// What kind of source it is.
	pub kind: SourceKind,
	/// Who added it.
	pub added_by: AccountId,
}

/// A program the device offers on an element, with its parameters and their safety bounds.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
pub struct ProgramDeclaration<AccountId> {
	/// The parameters a call must give, with their bounds.
	pub parameters: ProgramParameters,
	/// The element whose AML the parameters and bounds were taken from (often the element
	/// that offers the program). The declaration is anchored there: changing that element
	/// needs the right to declare programs.
	pub described_by: ElementId,
	/// Who declared it.
	pub declared_by: AccountId,
}

/// An element as the runtime API returns it.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct ElementRecord<AccountId, BlockNumber> {
	/// Its id.
	pub id: ElementId,
	/// Its place in the tree and its history.
	pub node: ElementNode<AccountId, BlockNumber>,
	/// Its XML fragment.
	pub fragment: alloc::vec::Vec<u8>,
}

/// Why the runtime rejected a fragment (wraps the validator's reason for the error type).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct FragmentRejection(pub FragmentError);

impl frame_support::traits::PalletError for FragmentRejection {
	const MAX_ENCODED_SIZE: usize = 1;
}

/// Why the runtime rejected a document header (wraps the validator's reason for the error
/// type).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct HeaderRejection(pub HeaderError);

impl frame_support::traits::PalletError for HeaderRejection {
	const MAX_ENCODED_SIZE: usize = 1;
}

/// Why the runtime rejected a program declaration (wraps the reason for the error type).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct DeclarationRejection(pub DeclarationError);

impl frame_support::traits::PalletError for DeclarationRejection {
	const MAX_ENCODED_SIZE: usize = 1;
}

/// An external data source as the runtime API returns it.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct ExternalSourceRecord<AccountId> {
	/// Its id within the twin.
	pub id: SourceId,
	/// The element it describes; `None` for the whole twin.
	pub element: Option<ElementId>,
	/// Where the data is.
	pub uri: alloc::vec::Vec<u8>,
	/// What the data is.
	pub description: alloc::vec::Vec<u8>,
	/// What kind of source it is.
	pub kind: SourceKind,
	/// Who added it.
	pub added_by: AccountId,
}

/// A program declaration as the runtime API returns it.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct ProgramRecord<AccountId> {
	/// The element that offers it.
	pub element: ElementId,
	/// Its name.
	pub name: dt_primitives::access::ProgramName,
	/// Its parameters and their bounds.
	pub parameters: ProgramParameters,
	/// The element whose AML describes the parameters and bounds.
	pub described_by: ElementId,
	/// Who declared it.
	pub declared_by: AccountId,
}
