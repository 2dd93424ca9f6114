//! # Documents pallet
//!
//! The document registry of Digital Twins. The documents themselves (manuals, certificates,
//! maintenance reports, blueprints) live encrypted in the off-chain store; the chain keeps
//! what the parties must agree on: which documents a twin has, their title and media type,
//! their confidentiality level, the element of the twin's specification they document, and
//! for every version the content id of the encrypted bytes and of the key envelope (the
//! document key sealed for its readers), so any reader can check that what it fetched is
//! what was registered. Annotations (comments, approvals, findings) are encrypted off-chain
//! content too, attached to one version.
//!
//! Documents are never deleted: [`Pallet::retire_document`] marks one obsolete and keeps its
//! versions and annotations; a retired document takes no new versions.
//!
//! ## Calls
//!
//! - [`Pallet::register_document`]: a new document of a twin with its first version (0).
//!   Needs the twin's `AddDocuments` permission.
//! - [`Pallet::add_version`]: the next version of a document. Needs `VersionDocuments`.
//! - [`Pallet::annotate`]: an annotation of one version. Needs `AnnotateDocuments`.
//! - [`Pallet::retire_document`]: marks a document obsolete. Needs `VersionDocuments`.
//! - [`Pallet::attach_to_element`]: attaches a document to an element of the twin's
//!   specification, or to the twin as a whole. Needs `VersionDocuments`.
//!
//! Every call is authorized by the twin's access control ([`Config::Authorize`]) and, in
//! addition, needs clearance for the document's confidentiality level: nobody writes to a
//! document they may not read. Content ids are checked by
//! [`dt_primitives::content_id::validate_content_id`]; twins and elements are checked
//! through [`Config::Elements`]. Each change is an event naming the twin, the document and
//! its author.
//!
//! ## Reads
//!
//! [`Pallet::documents_of_twin`], [`Pallet::documents_of_element`],
//! [`Pallet::document_with_history`] and [`Pallet::may_manage_readers`] (who may change a
//! document's reader list in the off-chain store), also offered to nodes and clients as the
//! [`runtime_api::DocumentsApi`].

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

pub mod migrations;
pub mod runtime_api;
mod types;
pub mod weights;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;

use dt_primitives::access::{ElementId, TwinElements, TwinId};

/// What the benchmarks need from the runtime.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId> {
	/// Makes `who` a member of the consortium, so the twin's access control recognises it.
	fn make_member(who: &AccountId);

	/// Creates a twin owned by `owner` (a member), with its access control and at least one
	/// element, and returns the twin and that element.
	fn create_twin(owner: &AccountId) -> (TwinId, ElementId);
}

// `register_document` takes a document's metadata and first version as separate arguments
// (eight), like the extrinsic clients build; the pallet macro repeats them in generated code.
#[allow(clippy::too_many_arguments)]
#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use dt_primitives::{
		access::{AccessDenied, Action, Authorize, Confidentiality},
		content_id::{validate_content_id, ContentId},
	};
	use frame_support::pallet_prelude::*;
	use frame_system::pallet_prelude::*;

	/// A document as stored.
	pub type DocumentOf<T> = Document<
		<T as frame_system::Config>::AccountId,
		BlockNumberFor<T>,
		<T as Config>::MaxTitleLength,
		<T as Config>::MaxMediaTypeLength,
	>;

	/// A version as stored.
	pub type VersionOf<T> = Version<<T as frame_system::Config>::AccountId, BlockNumberFor<T>>;

	/// An annotation as stored.
	pub type AnnotationOf<T> =
		Annotation<<T as frame_system::Config>::AccountId, BlockNumberFor<T>>;

	/// The log target of this pallet.
	pub const LOG_TARGET: &str = "runtime::dt-documents";

	/// The storage layout this code reads and writes; [`crate::migrations`] lead to it.
	#[cfg(not(feature = "upgrade-fixture"))]
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(0);
	#[cfg(feature = "upgrade-fixture")]
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(1);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// The twins' access control.
		type Authorize: Authorize<Self::AccountId>;

		/// The twins and the elements of their specifications.
		type Elements: TwinElements;

		/// Longest document title, in bytes.
		#[pallet::constant]
		type MaxTitleLength: Get<u32>;

		/// Longest media type, in bytes.
		#[pallet::constant]
		type MaxMediaTypeLength: Get<u32>;

		/// Most versions of one document.
		#[pallet::constant]
		type MaxVersionsPerDocument: Get<u32>;

		/// Most annotations of one version.
		#[pallet::constant]
		type MaxAnnotationsPerVersion: Get<u32>;

		/// Most documents of one twin (retired ones included).
		#[pallet::constant]
		type MaxDocumentsPerTwin: Get<u32>;

		/// Weights of this pallet's calls.
		type WeightInfo: WeightInfo;

		/// Prepares accounts and twins for the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: crate::BenchmarkHelper<Self::AccountId>;
	}

	/// The id the next document will get. Ids are never reused.
	#[pallet::storage]
	pub type NextDocumentId<T: Config> = StorageValue<_, DocumentId, ValueQuery>;

	/// The documents.
	#[pallet::storage]
	pub type Documents<T: Config> = StorageMap<_, Twox64Concat, DocumentId, DocumentOf<T>>;

	/// The versions of each document, numbered from 0.
	#[pallet::storage]
	pub type Versions<T: Config> =
		StorageDoubleMap<_, Twox64Concat, DocumentId, Twox64Concat, VersionNumber, VersionOf<T>>;

	/// The annotations of each version, numbered from 0.
	#[pallet::storage]
	pub type Annotations<T: Config> = StorageNMap<
		_,
		(
			NMapKey<Twox64Concat, DocumentId>,
			NMapKey<Twox64Concat, VersionNumber>,
			NMapKey<Twox64Concat, AnnotationIndex>,
		),
		AnnotationOf<T>,
	>;

	/// Which documents each twin has.
	#[pallet::storage]
	pub type TwinDocuments<T: Config> =
		StorageDoubleMap<_, Twox64Concat, TwinId, Twox64Concat, DocumentId, ()>;

	/// How many documents each twin has (retired ones included).
	#[pallet::storage]
	pub type TwinDocumentCount<T: Config> = StorageMap<_, Twox64Concat, TwinId, u32, ValueQuery>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A document was registered with its first version (0).
		DocumentRegistered {
			twin: TwinId,
			document: DocumentId,
			confidentiality: Confidentiality,
			author: T::AccountId,
		},
		/// A version was added to a document.
		DocumentVersionAdded {
			twin: TwinId,
			document: DocumentId,
			version: VersionNumber,
			author: T::AccountId,
		},
		/// A version of a document was annotated.
		DocumentAnnotated {
			twin: TwinId,
			document: DocumentId,
			version: VersionNumber,
			annotation: AnnotationIndex,
			author: T::AccountId,
		},
		/// A document was retired: it is obsolete and takes no new versions.
		DocumentRetired { twin: TwinId, document: DocumentId, author: T::AccountId },
		/// A document was attached to an element (`None`: to the whole twin).
		DocumentAttached {
			twin: TwinId,
			document: DocumentId,
			element: Option<ElementId>,
			author: T::AccountId,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// No twin has this id.
		UnknownTwin,
		/// The twin's specification has no element with this id.
		UnknownElement,
		/// No document has this id.
		UnknownDocument,
		/// The document has no version with this number.
		UnknownVersion,
		/// The twin's access control does not allow the caller this action.
		NotAuthorized,
		/// The caller is not cleared to read data of the document's confidentiality level.
		InsufficientClearance,
		/// A content id or key envelope was rejected; the inner value says why.
		InvalidContentId(ContentIdRejection),
		/// A title must be non-empty UTF-8.
		InvalidTitle,
		/// A media type must be ASCII `type/subtype`, both parts non-empty tokens.
		InvalidMediaType,
		/// The document is retired: it takes no new versions and cannot be changed.
		DocumentRetired,
		/// The document is already retired.
		AlreadyRetired,
		/// The twin has `MaxDocumentsPerTwin` documents already.
		TooManyDocuments,
		/// The document has `MaxVersionsPerDocument` versions already.
		TooManyVersions,
		/// The version has `MaxAnnotationsPerVersion` annotations already.
		TooManyAnnotations,
		/// Document ids are exhausted.
		DocumentIdsExhausted,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(T::MaxVersionsPerDocument::get() > 0, "MaxVersionsPerDocument must allow one");
			assert!(T::MaxDocumentsPerTwin::get() > 0, "MaxDocumentsPerTwin must allow one");
			assert!(T::MaxTitleLength::get() > 0, "MaxTitleLength must allow a title");
			assert!(T::MaxMediaTypeLength::get() >= 3, "MaxMediaTypeLength must allow `a/b`");
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Registers a document of `twin` with its first version (0): the content id of the
		/// encrypted document and of its key envelope, and its plain size. `element` attaches
		/// it to an element of the twin's specification. Needs `AddDocuments` on the twin and
		/// clearance for `confidentiality`.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::register_document())]
		pub fn register_document(
			origin: OriginFor<T>,
			twin: TwinId,
			title: BoundedVec<u8, T::MaxTitleLength>,
			media_type: BoundedVec<u8, T::MaxMediaTypeLength>,
			size: u64,
			content_id: ContentId,
			key_envelope: ContentId,
			confidentiality: Confidentiality,
			element: Option<ElementId>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(T::Elements::twin_exists(twin), Error::<T>::UnknownTwin);
			Self::authorize(twin, &who, Action::AddDocument, confidentiality)?;
			ensure!(
				!title.is_empty() && core::str::from_utf8(&title).is_ok(),
				Error::<T>::InvalidTitle
			);
			ensure!(media_type_is_valid(&media_type), Error::<T>::InvalidMediaType);
			check_content_id::<T>(&content_id)?;
			check_content_id::<T>(&key_envelope)?;
			if let Some(element) = &element {
				ensure!(T::Elements::element_exists(twin, element), Error::<T>::UnknownElement);
			}
			let count = TwinDocumentCount::<T>::get(twin);
			ensure!(count < T::MaxDocumentsPerTwin::get(), Error::<T>::TooManyDocuments);
			let document = NextDocumentId::<T>::get();
			let next = document.checked_add(1).ok_or(Error::<T>::DocumentIdsExhausted)?;
			let now = frame_system::Pallet::<T>::block_number();
			NextDocumentId::<T>::put(next);
			TwinDocumentCount::<T>::insert(twin, count + 1);
			TwinDocuments::<T>::insert(twin, document, ());
			Documents::<T>::insert(
				document,
				Document {
					twin,
					title,
					media_type,
					confidentiality,
					element,
					registered_by: who.clone(),
					registered_at: now,
					retired: None,
					version_count: 1,
				},
			);
			Versions::<T>::insert(
				document,
				0,
				Version {
					content_id,
					key_envelope,
					size,
					author: who.clone(),
					added_at: now,
					annotation_count: 0,
				},
			);
			Self::deposit_event(Event::DocumentRegistered {
				twin,
				document,
				confidentiality,
				author: who,
			});
			Ok(())
		}

		/// Adds the next version of a document. Needs `VersionDocuments` on its twin and
		/// clearance for its level; refused on retired documents.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::add_version())]
		pub fn add_version(
			origin: OriginFor<T>,
			document: DocumentId,
			size: u64,
			content_id: ContentId,
			key_envelope: ContentId,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut info = Documents::<T>::get(document).ok_or(Error::<T>::UnknownDocument)?;
			Self::authorize(info.twin, &who, Action::VersionDocument, info.confidentiality)?;
			ensure!(info.retired.is_none(), Error::<T>::DocumentRetired);
			check_content_id::<T>(&content_id)?;
			check_content_id::<T>(&key_envelope)?;
			let version = info.version_count;
			ensure!(version < T::MaxVersionsPerDocument::get(), Error::<T>::TooManyVersions);
			info.version_count = version + 1;
			let twin = info.twin;
			Documents::<T>::insert(document, info);
			Versions::<T>::insert(
				document,
				version,
				Version {
					content_id,
					key_envelope,
					size,
					author: who.clone(),
					added_at: frame_system::Pallet::<T>::block_number(),
					annotation_count: 0,
				},
			);
			Self::deposit_event(Event::DocumentVersionAdded {
				twin,
				document,
				version,
				author: who,
			});
			Ok(())
		}

		/// Annotates one version of a document (retired documents too: their history can
		/// still be discussed). Needs `AnnotateDocuments` on its twin and clearance for its
		/// level.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::annotate())]
		pub fn annotate(
			origin: OriginFor<T>,
			document: DocumentId,
			version: VersionNumber,
			content_id: ContentId,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let info = Documents::<T>::get(document).ok_or(Error::<T>::UnknownDocument)?;
			Self::authorize(info.twin, &who, Action::AnnotateDocument, info.confidentiality)?;
			let mut stored =
				Versions::<T>::get(document, version).ok_or(Error::<T>::UnknownVersion)?;
			check_content_id::<T>(&content_id)?;
			let annotation = stored.annotation_count;
			ensure!(
				annotation < T::MaxAnnotationsPerVersion::get(),
				Error::<T>::TooManyAnnotations
			);
			stored.annotation_count = annotation + 1;
			Versions::<T>::insert(document, version, stored);
			Annotations::<T>::insert(
				(document, version, annotation),
				Annotation {
					content_id,
					author: who.clone(),
					added_at: frame_system::Pallet::<T>::block_number(),
				},
			);
			Self::deposit_event(Event::DocumentAnnotated {
				twin: info.twin,
				document,
				version,
				annotation,
				author: who,
			});
			Ok(())
		}

		/// Marks a document obsolete; its versions and annotations stay. Needs
		/// `VersionDocuments` on its twin and clearance for its level.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::retire_document())]
		pub fn retire_document(origin: OriginFor<T>, document: DocumentId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut info = Documents::<T>::get(document).ok_or(Error::<T>::UnknownDocument)?;
			Self::authorize(info.twin, &who, Action::VersionDocument, info.confidentiality)?;
			ensure!(info.retired.is_none(), Error::<T>::AlreadyRetired);
			info.retired = Some((who.clone(), frame_system::Pallet::<T>::block_number()));
			let twin = info.twin;
			Documents::<T>::insert(document, info);
			Self::deposit_event(Event::DocumentRetired { twin, document, author: who });
			Ok(())
		}

		/// Attaches a document to an element of its twin's specification, or to the whole
		/// twin (`None`). Needs `VersionDocuments` on its twin and clearance for its level;
		/// refused on retired documents.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::attach_to_element())]
		pub fn attach_to_element(
			origin: OriginFor<T>,
			document: DocumentId,
			element: Option<ElementId>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut info = Documents::<T>::get(document).ok_or(Error::<T>::UnknownDocument)?;
			Self::authorize(info.twin, &who, Action::VersionDocument, info.confidentiality)?;
			ensure!(info.retired.is_none(), Error::<T>::DocumentRetired);
			if let Some(element) = &element {
				ensure!(
					T::Elements::element_exists(info.twin, element),
					Error::<T>::UnknownElement
				);
			}
			info.element = element.clone();
			let twin = info.twin;
			Documents::<T>::insert(document, info);
			Self::deposit_event(Event::DocumentAttached { twin, document, element, author: who });
			Ok(())
		}
	}

	impl<T: Config> Pallet<T> {
		/// Checks that `who` may do `action` on `twin` and read data of `level` there.
		fn authorize(
			twin: TwinId,
			who: &T::AccountId,
			action: Action<'_>,
			level: Confidentiality,
		) -> DispatchResult {
			let denied = |denied, not_permitted: Error<T>| -> DispatchError {
				match denied {
					AccessDenied::UnknownTwin => Error::<T>::UnknownTwin.into(),
					AccessDenied::NotPermitted => not_permitted.into(),
				}
			};
			T::Authorize::authorize(twin, who, action)
				.map_err(|reason| denied(reason, Error::<T>::NotAuthorized))?;
			T::Authorize::authorize(twin, who, Action::Read(level))
				.map_err(|reason| denied(reason, Error::<T>::InsufficientClearance))
		}

		/// Whether `who` may manage the readers of `document` in the off-chain store (change
		/// its reader list, publish the key envelope of a version): it may add versions of
		/// the document or manage its twin's access, and in either case is cleared for the
		/// document's confidentiality level. One document's record is read, whatever the
		/// number of twins and documents.
		pub fn may_manage_readers(document: DocumentId, who: &T::AccountId) -> bool {
			let Some(info) = Documents::<T>::get(document) else { return false };
			let level = info.confidentiality;
			Self::authorize(info.twin, who, Action::VersionDocument, level).is_ok()
				|| Self::authorize(info.twin, who, Action::ManageAccess, level).is_ok()
		}

		/// The documents of a twin, by id, retired ones included. With a `reader`, only those
		/// it is cleared to read.
		pub fn documents_of_twin(
			twin: TwinId,
			reader: Option<&T::AccountId>,
		) -> Vec<DocumentRecord<T::AccountId, BlockNumberFor<T>>> {
			let clearance = Self::reader_clearance(twin, reader);
			let mut records: Vec<_> = TwinDocuments::<T>::iter_key_prefix(twin)
				.filter_map(|document| {
					Documents::<T>::get(document)
						.filter(|info| clearance.reaches(info.confidentiality))
						.map(|info| record::<T>(document, info))
				})
				.collect();
			records.sort_by_key(|record| record.id);
			records
		}

		/// The documents of a twin attached to one element, by id. With a `reader`, only
		/// those it is cleared to read.
		pub fn documents_of_element(
			twin: TwinId,
			element: &ElementId,
			reader: Option<&T::AccountId>,
		) -> Vec<DocumentRecord<T::AccountId, BlockNumberFor<T>>> {
			let mut records = Self::documents_of_twin(twin, reader);
			records.retain(|record| record.element.as_ref() == Some(element));
			records
		}

		/// A document with all its versions, oldest first, and their annotations. With a
		/// `reader`, `None` unless it is cleared to read the document.
		pub fn document_with_history(
			document: DocumentId,
			reader: Option<&T::AccountId>,
		) -> Option<DocumentHistory<T::AccountId, BlockNumberFor<T>>> {
			let info = Documents::<T>::get(document)?;
			if !Self::reader_clearance(info.twin, reader).reaches(info.confidentiality) {
				return None;
			}
			let version_count = info.version_count;
			let versions = (0..version_count)
				.filter_map(|number| {
					let version = Versions::<T>::get(document, number)?;
					let annotations = (0..version.annotation_count)
						.filter_map(|index| Annotations::<T>::get((document, number, index)))
						.collect();
					Some(VersionRecord { number, version, annotations })
				})
				.collect();
			Some(DocumentHistory { document: record::<T>(document, info), versions })
		}

		fn reader_clearance(twin: TwinId, reader: Option<&T::AccountId>) -> ReaderClearance {
			match reader {
				None => ReaderClearance::Unfiltered,
				Some(reader) => {
					// Public means public to the consortium, not to anyone who asks.
					if T::Authorize::authorize(twin, reader, Action::Read(Confidentiality::Public))
						.is_err()
					{
						return ReaderClearance::Nothing;
					}
					ReaderClearance::UpTo(T::Authorize::clearance(twin, reader))
				},
			}
		}
	}

	/// What a read leaves out.
	enum ReaderClearance {
		/// Nothing: the node reads for itself.
		Unfiltered,
		/// What lies above this level; public data is left in even without clearance.
		UpTo(Option<Confidentiality>),
		/// Everything: the reader is not part of the consortium.
		Nothing,
	}

	impl ReaderClearance {
		fn reaches(&self, level: Confidentiality) -> bool {
			match self {
				ReaderClearance::Unfiltered => true,
				ReaderClearance::UpTo(clearance) => {
					level == Confidentiality::Public || Some(level) <= *clearance
				},
				ReaderClearance::Nothing => false,
			}
		}
	}

	fn record<T: Config>(
		id: DocumentId,
		info: DocumentOf<T>,
	) -> DocumentRecord<T::AccountId, BlockNumberFor<T>> {
		DocumentRecord {
			id,
			twin: info.twin,
			title: info.title.into_inner(),
			media_type: info.media_type.into_inner(),
			confidentiality: info.confidentiality,
			element: info.element,
			registered_by: info.registered_by,
			registered_at: info.registered_at,
			retired: info.retired,
			version_count: info.version_count,
		}
	}

	fn check_content_id<T: Config>(content_id: &ContentId) -> DispatchResult {
		validate_content_id(content_id)
			.map(|_| ())
			.map_err(|reason| Error::<T>::InvalidContentId(ContentIdRejection(reason)).into())
	}

	/// A media type: ASCII `type/subtype`, each part a non-empty RFC 6838 token
	/// (letters, digits and `!#$&-^_.+`).
	pub(crate) fn media_type_is_valid(media_type: &[u8]) -> bool {
		let token = |part: &[u8]| {
			!part.is_empty()
				&& part
					.iter()
					.all(|byte| byte.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(byte))
		};
		let mut parts = media_type.splitn(2, |byte| *byte == b'/');
		match (parts.next(), parts.next()) {
			(Some(kind), Some(subtype)) => token(kind) && token(subtype),
			_ => false,
		}
	}
}
