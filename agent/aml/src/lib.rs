//! AutomationML (CAEX) documents as element trees, as the dt-ledger chain stores them.
//!
//! Off-chain library (std) used by the `dt` client, the device agent and tests: it reads
//! real AML files (CAEX 2.15 and 3.0, with or without the CAEX namespace, UTF-8 with or
//! without BOM, comments, CDATA, character and predefined entity references), splits them
//! into nodes, edits the tree by ID and writes the document back.
//!
//! # The representation
//!
//! The chain keeps one entry per node: `(twin, id) -> { parent, previous sibling, fragment }`
//! plus one [`DocumentHeader`] per twin (the text around the root element). A node is an
//! element of the document; its [`Fragment`] is the element's own XML (start tag, attributes,
//! all content that is not a node) with its child nodes cut out.
//!
//! **Which elements are nodes.** Every element with an `ID` attribute. In addition, a few
//! elements without ID must be nodes for the tree to have a place for everything; these
//! *structural* nodes get a path-like ID such as `/CAEXFile/InstanceHierarchy[Plant]`
//! (see `synthetic_id`) that is never written into the document:
//!
//! 1. the root element (`CAEXFile`), so the document is one tree and the header is only the
//!    prolog/epilog text;
//! 2. every element without ID that contains an ID-carrying element: an `InstanceHierarchy`
//!    in CAEX 2.15, class libraries and classes holding `ExternalInterface`s,
//!    a `RoleRequirements` holding an `ExternalInterface`, ...;
//! 3. an element without ID that lies *between* two child nodes of the same parent (e.g. a
//!    `RoleClassLib` between an `InstanceHierarchy` and a `SystemUnitClassLib` that are nodes).
//!
//! Rules 2 and 3 guarantee that a node's parent node is its XML parent element, and that a
//! node's child nodes form one contiguous run among its XML children. So one marker per
//! fragment says exactly where the children go, and sibling order among child nodes (the
//! chain's "previous sibling") is the whole ordering information that is needed: the export
//! reproduces the original order of ID-carrying and other children exactly. The alternative,
//! keeping ID-less containers inside the nearest ID-carrying ancestor's fragment, needs
//! several numbered slots per fragment and a slot number per child, which the chain's
//! (parent, previous sibling) record cannot express; it would also put whole class libraries
//! into the root's fragment.
//!
//! **Where children go.** A fragment may contain the processing instruction
//! `<?dt-children?>` ([`CHILDREN_MARKER`]) as a direct child of its root; the child nodes are
//! written there. Without it they go just before the root's end tag. The importer places the
//! marker wherever a node had children, and for a node without children at the CAEX place
//! (before `SupportedRoleClass`, `InternalLink`, `RoleRequirements`, `MappingObject`), so a
//! child inserted later lands where the schema wants it. A processing instruction is
//! well-formed XML, ignored by XML tools, and cannot be mistaken for CAEX content.
//!
//! **Namespaces.** A fragment cut out of a namespaced document (e.g. CAEX 3.0 with
//! `xmlns="http://www.dke.de/CAEX"`) gets the declarations it uses copied onto its root, so
//! it can be read alone. The export leaves out declarations that repeat the binding already
//! in scope, so the output declares namespaces where the source did. A fragment without a
//! declaration takes the binding in scope at its place, as if its text were pasted there.
//!
//! **What is not kept.** Whitespace, comments and processing instructions *between* two
//! child nodes (everything else is kept verbatim in some fragment or the header). Text other
//! than whitespace between two child nodes is rejected ([`AmlError::MixedContent`]); CAEX
//! has no such mixed content. Entities other than the five predefined ones are rejected, so
//! fragments never need a DTD.
//!
//! # Using it
//!
//! ```
//! use dt_aml::{AmlTree, Fragment};
//!
//! let aml = r#"<CAEXFile FileName="x.aml" SchemaVersion="2.15">
//!   <InstanceHierarchy Name="Plant">
//!     <InternalElement Name="Tank" ID="tank-1"/>
//!   </InstanceHierarchy>
//! </CAEXFile>"#;
//! let mut tree = AmlTree::parse_str(aml)?;
//! let hierarchy = "/CAEXFile/InstanceHierarchy[Plant]";
//! assert_eq!(tree.get("tank-1").unwrap().parent().unwrap().id(), hierarchy);
//!
//! let pump = Fragment::parse(r#"<InternalElement Name="Pump" ID="pump-1"/>"#)?;
//! tree.insert("pump-1", Some(hierarchy), Some("tank-1"), pump)?;
//! assert!(tree.to_xml_string()?.contains(r#"<InternalElement Name="Pump" ID="pump-1"/>"#));
//! # Ok::<(), dt_aml::AmlError>(())
//! ```
//!
//! The full design note is `docs/aml-element-tree.md` in the repository.

mod equivalence;
mod error;
pub mod examples;
mod export;
mod fragment;
pub mod generated;
mod namespaces;
mod position;
pub mod program;
mod reader;
mod repair;
mod synthetic_id;
mod tree;
mod xml_checks;

pub use equivalence::{equal_as_element_trees, first_difference, Difference};
pub use error::{AmlError, Position, Result};
pub use fragment::{Fragment, CHILDREN_MARKER, CHILDREN_MARKER_TARGET};
pub use reader::{parse_snippet, MAX_DEPTH};
pub use repair::{repair_duplicate_ids, IdRepair, RepairedDocument};
pub use synthetic_id::structural_path;
pub use tree::{AmlTree, DocumentHeader, DocumentOrder, NodeRecord, NodeRef};
