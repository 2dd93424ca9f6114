//! The one error type of the crate.
//!
//! Parse errors carry the line and column (1-based, columns counted in characters) of the
//! offending input, so a user can open the file at that place. Tree errors name the element
//! IDs involved, because that is what the caller passed in and what the chain stores.

use std::fmt;

/// A place in a text: 1-based line and 1-based column (counted in Unicode scalar values).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
	pub line: u64,
	pub column: u64,
}

impl fmt::Display for Position {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		write!(f, "line {}, column {}", self.line, self.column)
	}
}

/// Everything that can go wrong while reading, editing or writing an AML element tree.
#[derive(Debug, thiserror::Error)]
pub enum AmlError {
	#[error("I/O error: {0}")]
	Io(#[from] std::io::Error),

	#[error("malformed XML at {at}: {message}")]
	Malformed { at: Position, message: String },

	#[error("unsupported encoding \"{encoding}\": only UTF-8 AML documents are supported; re-save the file as UTF-8")]
	UnsupportedEncoding { encoding: String },

	#[error("{at}: entity reference \"&{name};\" is not one of the five predefined XML entities or a character reference; replace it with the text it stands for")]
	UnknownEntity { at: Position, name: String },

	#[error("{at}: element ID \"{id}\" occurs twice in the document; every ID must be unique")]
	DuplicateIdInDocument { at: Position, id: String },

	#[error("{at}: element <{element}> has an empty ID attribute")]
	EmptyId { at: Position, element: String },

	#[error("{at}: text \"{text}\" lies between two child elements that become separate tree nodes; mixed content there cannot be placed and is not valid CAEX")]
	MixedContent { at: Position, text: String },

	#[error("{at}: the processing instruction <?{target}?> is reserved by dt-aml to mark where child nodes go")]
	ReservedProcessingInstruction { at: Position, target: String },

	#[error("{at}: the namespace prefix \"{prefix}\" is not declared; declare it (xmlns:{prefix}=\"...\") on this element or one that contains it")]
	UnboundPrefix { at: Position, prefix: String },

	#[error("{at}: {what} is not allowed around the root element (the chain keeps only the XML declaration, comments and whitespace there); remove it")]
	NotAllowedAroundRoot { at: Position, what: String },

	#[error("{at}: elements are nested deeper than {limit} levels")]
	TooDeep { at: Position, limit: usize },

	#[error("the document has no root element")]
	NoRootElement,

	#[error("invalid fragment: {reason}")]
	InvalidFragment { reason: String },

	#[error("program parameter {parameter:?}: {reason}")]
	InvalidProgramParameter { parameter: String, reason: String },

	#[error("element ID \"{id}\" already exists in the tree")]
	DuplicateId { id: String },

	#[error("no element with ID \"{id}\" in the tree")]
	UnknownNode { id: String },

	#[error("cannot insert \"{id}\": parent \"{parent}\" is not in the tree")]
	UnknownParent { id: String, parent: String },

	#[error("cannot insert \"{id}\": previous sibling \"{previous_sibling}\" is not in the tree")]
	UnknownPreviousSibling { id: String, previous_sibling: String },

	#[error("cannot insert \"{id}\": \"{previous_sibling}\" is not a child of {}", parent.as_deref().map_or_else(|| "the document (it is not the root)".to_string(), |p| format!("\"{p}\"")))]
	SiblingNotUnderParent { id: String, previous_sibling: String, parent: Option<String> },

	#[error(
		"cannot insert \"{id}\" without a parent: the document already has the root \"{root}\""
	)]
	RootExists { id: String, root: String },

	#[error("fragment for \"{id}\" carries {}; a node's fragment must carry its own ID (or none, for a structural node)", found.as_deref().map_or_else(|| "no ID attribute".to_string(), |f| format!("ID \"{f}\"")))]
	IdMismatch { id: String, found: Option<String> },
}

/// Shorthand used throughout the crate.
pub type Result<T, E = AmlError> = std::result::Result<T, E>;
