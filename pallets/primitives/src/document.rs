//! How the chain numbers documents, their versions and their annotations.

/// Identifies a document, across all twins. Ids are never reused.
pub type DocumentId = u64;

/// The number of a version of a document, from 0 (the version registered with it).
pub type VersionNumber = u32;

/// The position of an annotation among those of one version, from 0.
pub type AnnotationIndex = u32;
