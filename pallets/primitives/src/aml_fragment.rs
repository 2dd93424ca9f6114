//! Runtime validation of one AML element fragment, as the twin-spec pallet stores it.
//!
//! A twin's AutomationML (CAEX) document lives on chain as a tree of nodes, one entry per
//! element, each holding the element's own XML *fragment* with its child nodes cut out (see
//! `docs/aml-element-tree.md`; the off-chain crate `dt-aml` splits documents that way). The
//! runtime cannot trust the client that submits a fragment: a fragment that is not
//! well-formed, carries the wrong ID or hides an ID-carrying element would corrupt the
//! document that every party re-assembles from the chain. So [`validate_fragment`] checks
//! every submitted fragment with a small, strict tokenizer: `no_std`, no allocation, one pass
//! over the input (O(n) time, no recursion), and no panic on any input.
//!
//! # What is checked
//!
//! * Size: 1 to [`MAX_FRAGMENT_LEN`] bytes; UTF-8 only; every character is an XML 1.0
//!   `Char` (no control characters other than tab, line feed and carriage return).
//! * Exactly one element and nothing before or after it: no XML declaration, DOCTYPE,
//!   comment, processing instruction, CDATA section, text or even whitespace outside the
//!   root (dt-aml stores fragments trimmed).
//! * Well-formedness: XML names, start tags with `name="value"` or `name='value'` attributes
//!   separated by whitespace, no duplicate attribute, no `<` in attribute values, end tags
//!   matching their start tags, comments without `--` inside, CDATA sections closed, no
//!   `]]>` in text, nesting at most [`MAX_DEPTH`] elements deep and at most
//!   [`MAX_ATTRIBUTES`] attributes per element.
//! * References: only the five predefined entities (`&lt; &gt; &amp; &apos; &quot;`) and
//!   character references to XML characters, in text and attribute values alike, so that no
//!   fragment depends on a DTD. DOCTYPE declarations are rejected everywhere.
//! * The root's `ID` attribute (after XML attribute-value normalisation: references
//!   resolved, literal tab/CR/LF turned into spaces) equals the expected ID
//!   ([`FragmentId::Element`]); a structural node ([`FragmentId::Structural`], e.g. a
//!   CAEX 2.15 `InstanceHierarchy`) has no `ID`. An `ID` is never empty.
//! * No descendant element carries an `ID` attribute: ID-carrying elements are nodes of
//!   their own.
//! * The children marker `<?dt-children?>` occurs at most once, only as a direct child of
//!   the root, and exactly in that spelling. Other processing instructions are allowed inside
//!   the root, as in dt-aml, except ones whose target is `xml` in any case (the XML
//!   declaration is reserved).
//!
//! Namespace declarations (`xmlns`, `xmlns:p`) are ordinary attributes here, as they are in
//! dt-aml: prefixes are not resolved, because a fragment takes the bindings in scope where
//! it sits in the document.
//!
//! # Intentional differences from `dt_aml::Fragment::parse`
//!
//! This validator is stricter in a few places where dt-aml's quick-xml reader is lenient;
//! none of them occurs in well-formed XML, so every fragment dt-aml produces from a
//! well-formed document passes (the tests check every file of the example corpus, `docs/examples/aml`):
//!
//! * surrounding whitespace is rejected (`Fragment::parse` trims it; stored fragments are
//!   already trimmed);
//! * names must follow the XML `Name` production, characters must be XML `Char`s (also for
//!   character references, e.g. `&#1;`), `<` in attribute values and `]]>` in text are
//!   rejected;
//! * the children marker must be spelled exactly `<?dt-children?>` (dt-aml's exporter cuts
//!   the marker out by that length, so `<?dt-children x?>` would break re-assembly);
//! * at most [`MAX_DEPTH`] nested elements (dt-aml: 4096 for whole documents) and
//!   [`MAX_ATTRIBUTES`] attributes per element, to bound the runtime's work;
//! * fragments longer than [`MAX_FRAGMENT_LEN`] are rejected.

/// Largest accepted fragment, in bytes.
///
/// 64 KiB is far above what a CAEX element without its child nodes needs (the largest
/// fragment of the example files in `docs/examples/aml` has about 10 KiB: a class library
/// without IDs), while bounding the validation work and the
/// storage a single entry can take.
pub const MAX_FRAGMENT_LEN: usize = 64 * 1024;

/// Deepest accepted nesting of elements inside a fragment, the root counting as 1.
///
/// Child nodes are separate fragments, so a fragment only nests attributes and the like;
/// CAEX attribute nesting rarely exceeds a handful of levels.
pub const MAX_DEPTH: usize = 64;

/// Most attributes (namespace declarations included) accepted on one element. Bounds the
/// duplicate-attribute check, which compares each attribute with the earlier ones.
pub const MAX_ATTRIBUTES: usize = 64;

/// The processing instruction that marks where a node's child nodes go.
pub const CHILDREN_MARKER: &[u8] = b"<?dt-children?>";

const CHILDREN_MARKER_TARGET: &[u8] = b"dt-children";

/// What the root of a fragment must say about its ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FragmentId<'a> {
	/// The root carries `ID="<id>"` with exactly these (UTF-8) bytes after normalisation.
	Element(&'a [u8]),
	/// A structural node (an ID-less container such as a CAEX 2.15 `InstanceHierarchy`, or
	/// the document root): the fragment's root carries no `ID` attribute.
	Structural,
	/// Either of the above for a node keyed by these bytes: the root carries exactly this
	/// `ID`, or none (then the node is structural). What the twin-spec pallet checks, since
	/// a call names the node by its key only.
	ElementOrStructural(&'a [u8]),
}

/// What a valid fragment looks like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FragmentInfo<'a> {
	/// The root element's qualified name, e.g. `InternalElement` or `caex:InternalElement`.
	pub root_name: &'a str,
	/// The root element's local name (after the prefix, if any).
	pub root_local_name: &'a str,
	/// Whether the fragment contains the children marker `<?dt-children?>`.
	pub has_children_marker: bool,
	/// Whether the root is an empty-element tag `<X .../>`.
	pub self_closing: bool,
	/// The fragment's length in bytes.
	pub len: usize,
}

/// Why a fragment was rejected.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	codec::Encode,
	codec::Decode,
	codec::DecodeWithMemTracking,
	codec::MaxEncodedLen,
	scale_info::TypeInfo,
)]
pub enum FragmentError {
	/// The fragment has no bytes.
	Empty,
	/// The fragment is longer than [`MAX_FRAGMENT_LEN`].
	TooLong,
	/// The fragment is not valid UTF-8.
	NotUtf8,
	/// A character that XML does not allow (a control character, U+FFFE, U+FFFF).
	InvalidChar,
	/// The input ends inside a tag, comment, CDATA section or processing instruction, or
	/// before the root element is closed.
	UnexpectedEnd,
	/// A tag is not well-formed (e.g. `<a b>` or missing whitespace between attributes).
	MalformedTag,
	/// An element, attribute or processing-instruction name is not an XML name.
	InvalidName,
	/// An attribute lacks `=` or a quoted value, or its value contains `<`.
	MalformedAttribute,
	/// An element carries the same attribute twice.
	DuplicateAttribute,
	/// An element carries more than [`MAX_ATTRIBUTES`] attributes.
	TooManyAttributes,
	/// An end tag does not match the open element (or there is none).
	MismatchedEndTag,
	/// A second element after the root element.
	MultipleRoots,
	/// Text, whitespace, a comment, CDATA or a processing instruction before or after the
	/// root element.
	ContentOutsideRoot,
	/// A comment contains `--` or is not closed by `-->`.
	MalformedComment,
	/// `]]>` in text.
	CDataEndInText,
	/// `&` not starting a well-formed reference `&name;`, `&#digits;` or `&#xhex;`.
	MalformedReference,
	/// An entity other than the five predefined ones.
	UnknownEntity,
	/// A character reference to a code point that is not an XML character.
	InvalidCharReference,
	/// A DOCTYPE declaration.
	DoctypeNotAllowed,
	/// An XML declaration, or another processing instruction with the reserved target `xml`.
	XmlDeclarationNotAllowed,
	/// A processing instruction that is not closed properly or lacks whitespace after its
	/// target.
	MalformedProcessingInstruction,
	/// A processing instruction with target `dt-children` not spelled `<?dt-children?>`.
	MalformedChildrenMarker,
	/// The children marker is not a direct child of the root element.
	MisplacedChildrenMarker,
	/// The children marker occurs more than once.
	DuplicateChildrenMarker,
	/// Elements nested deeper than [`MAX_DEPTH`].
	TooDeep,
	/// The root carries an `ID` other than the expected one.
	IdMismatch,
	/// The root of a non-structural node carries no `ID`.
	MissingId,
	/// The root of a structural node carries an `ID`.
	UnexpectedId,
	/// An `ID` attribute with an empty value.
	EmptyId,
	/// A descendant of the root carries an `ID`; it must be a node of its own.
	IdCarryingChild,
}

impl FragmentError {
	/// A short English description, for logs and error messages.
	pub fn as_str(&self) -> &'static str {
		use FragmentError::*;
		match self {
			Empty => "the fragment is empty",
			TooLong => "the fragment is too long",
			NotUtf8 => "the fragment is not UTF-8",
			InvalidChar => "a character not allowed in XML",
			UnexpectedEnd => "the fragment ends too early",
			MalformedTag => "a malformed tag",
			InvalidName => "an invalid XML name",
			MalformedAttribute => "a malformed attribute",
			DuplicateAttribute => "a duplicate attribute",
			TooManyAttributes => "too many attributes on one element",
			MismatchedEndTag => "an end tag that does not match its start tag",
			MultipleRoots => "more than one root element",
			ContentOutsideRoot => "content outside the root element",
			MalformedComment => "a malformed comment",
			CDataEndInText => "`]]>` in text",
			MalformedReference => "a malformed entity or character reference",
			UnknownEntity => "an entity other than the five predefined ones",
			InvalidCharReference => "a character reference to an invalid character",
			DoctypeNotAllowed => "a DOCTYPE declaration",
			XmlDeclarationNotAllowed => "an XML declaration",
			MalformedProcessingInstruction => "a malformed processing instruction",
			MalformedChildrenMarker => "the children marker must read <?dt-children?>",
			MisplacedChildrenMarker => "the children marker is not a direct child of the root",
			DuplicateChildrenMarker => "more than one children marker",
			TooDeep => "elements nested too deeply",
			IdMismatch => "the root's ID differs from the node's ID",
			MissingId => "the root element has no ID",
			UnexpectedId => "a structural node's root carries an ID",
			EmptyId => "an empty ID",
			IdCarryingChild => "a descendant element carries an ID",
		}
	}
}

/// Checks `fragment` against the fragment contract (see the module docs) for a node whose
/// ID is `expected_id`. Never panics; does not allocate.
pub fn validate_fragment<'a>(
	fragment: &'a [u8],
	expected_id: FragmentId<'_>,
) -> Result<FragmentInfo<'a>, FragmentError> {
	if fragment.is_empty() {
		return Err(FragmentError::Empty);
	}
	if fragment.len() > MAX_FRAGMENT_LEN {
		return Err(FragmentError::TooLong);
	}
	let text = core::str::from_utf8(fragment).map_err(|_| FragmentError::NotUtf8)?;
	if !text.chars().all(is_xml_char) {
		return Err(FragmentError::InvalidChar);
	}
	Tokenizer::new(text, expected_id).run()
}

struct Tokenizer<'a, 'e> {
	text: &'a str,
	bytes: &'a [u8],
	pos: usize,
	expected_id: FragmentId<'e>,
	/// Name ranges (start, end) of the open elements; `depth` of them are live.
	stack: [(usize, usize); MAX_DEPTH],
	depth: usize,
	root_name: Option<(usize, usize)>,
	root_closed: bool,
	self_closing: bool,
	marker: bool,
}

impl<'a, 'e> Tokenizer<'a, 'e> {
	fn new(text: &'a str, expected_id: FragmentId<'e>) -> Self {
		Tokenizer {
			text,
			bytes: text.as_bytes(),
			pos: 0,
			expected_id,
			stack: [(0, 0); MAX_DEPTH],
			depth: 0,
			root_name: None,
			root_closed: false,
			self_closing: false,
			marker: false,
		}
	}

	fn run(mut self) -> Result<FragmentInfo<'a>, FragmentError> {
		while self.pos < self.bytes.len() {
			if self.byte(self.pos) == Some(b'<') {
				match self.byte(self.pos + 1) {
					Some(b'/') => self.end_tag()?,
					Some(b'?') => self.processing_instruction()?,
					Some(b'!') => self.markup_declaration()?,
					Some(_) => self.start_tag()?,
					None => return Err(FragmentError::UnexpectedEnd),
				}
			} else {
				self.char_data()?;
			}
		}
		let Some((start, end)) = self.root_name.filter(|_| self.root_closed) else {
			return Err(FragmentError::UnexpectedEnd);
		};
		let root_name = self.text.get(start..end).ok_or(FragmentError::InvalidName)?;
		let root_local_name = match root_name.split_once(':') {
			Some((_, local)) => local,
			None => root_name,
		};
		Ok(FragmentInfo {
			root_name,
			root_local_name,
			has_children_marker: self.marker,
			self_closing: self.self_closing,
			len: self.bytes.len(),
		})
	}

	fn byte(&self, at: usize) -> Option<u8> {
		self.bytes.get(at).copied()
	}

	fn starts_with(&self, at: usize, prefix: &[u8]) -> bool {
		self.bytes.get(at..).is_some_and(|rest| rest.starts_with(prefix))
	}

	/// Position of the first `needle` at or after `from`.
	fn find(&self, from: usize, needle: &[u8]) -> Option<usize> {
		let rest = self.bytes.get(from..)?;
		rest.windows(needle.len()).position(|w| w == needle).map(|i| from + i)
	}

	fn skip_whitespace(&self, mut at: usize) -> usize {
		while matches!(self.byte(at), Some(b' ' | b'\t' | b'\r' | b'\n')) {
			at += 1;
		}
		at
	}

	/// End of the XML name starting at `at`, or `InvalidName` if there is none.
	/// Like [`Self::name_end`], but a name missing because the input ended is reported as
	/// the truncation it is.
	fn name_end_before_eof(&self, at: usize) -> Result<usize, FragmentError> {
		self.name_end(at).map_err(|e| {
			if self.byte(at).is_none() {
				FragmentError::UnexpectedEnd
			} else {
				e
			}
		})
	}

	fn name_end(&self, at: usize) -> Result<usize, FragmentError> {
		let rest = self.text.get(at..).ok_or(FragmentError::InvalidName)?;
		let mut end = at;
		for (i, c) in rest.char_indices() {
			let ok = if i == 0 { is_name_start_char(c) } else { is_name_char(c) };
			if !ok {
				break;
			}
			end = at + i + c.len_utf8();
		}
		if end == at {
			Err(FragmentError::InvalidName)
		} else {
			Ok(end)
		}
	}

	fn slice(&self, start: usize, end: usize) -> &'a [u8] {
		self.bytes.get(start..end).unwrap_or(&[])
	}

	/// Text between markup: only inside the root; references and `]]>` checked.
	fn char_data(&mut self) -> Result<(), FragmentError> {
		let start = self.pos;
		let end = self.find(start, b"<").unwrap_or(self.bytes.len());
		if self.depth == 0 {
			return Err(FragmentError::ContentOutsideRoot);
		}
		let data = self.slice(start, end);
		if data.windows(3).any(|w| w == b"]]>") {
			return Err(FragmentError::CDataEndInText);
		}
		let mut i = 0;
		while i < data.len() {
			if data.get(i) == Some(&b'&') {
				let (_, next) = reference(data, i)?;
				i = next;
			} else {
				i += 1;
			}
		}
		self.pos = end;
		Ok(())
	}

	fn start_tag(&mut self) -> Result<(), FragmentError> {
		if self.root_closed {
			return Err(FragmentError::MultipleRoots);
		}
		let is_root = self.root_name.is_none();
		let name_start = self.pos + 1;
		let name_end = self.name_end(name_start)?;
		let mut attributes = [(0usize, 0usize); MAX_ATTRIBUTES];
		let mut count = 0usize;
		let mut has_id = false;
		let mut at = name_end;
		let self_closing = loop {
			let after_space = self.skip_whitespace(at);
			match self.byte(after_space) {
				None => return Err(FragmentError::UnexpectedEnd),
				Some(b'>') => {
					at = after_space + 1;
					break false;
				},
				Some(b'/') => match self.byte(after_space + 1) {
					Some(b'>') => {
						at = after_space + 2;
						break true;
					},
					None => return Err(FragmentError::UnexpectedEnd),
					Some(_) => return Err(FragmentError::MalformedTag),
				},
				Some(_) if after_space == at => return Err(FragmentError::MalformedTag),
				Some(_) => {},
			}
			// An attribute.
			let attr_start = after_space;
			let attr_end = self.name_end(attr_start).map_err(|_| FragmentError::MalformedTag)?;
			let attr_name = self.slice(attr_start, attr_end);
			if attributes
				.get(..count)
				.unwrap_or(&[])
				.iter()
				.any(|&(s, e)| self.slice(s, e) == attr_name)
			{
				return Err(FragmentError::DuplicateAttribute);
			}
			match attributes.get_mut(count) {
				Some(slot) => *slot = (attr_start, attr_end),
				None => return Err(FragmentError::TooManyAttributes),
			}
			count += 1;
			let eq = self.skip_whitespace(attr_end);
			match self.byte(eq) {
				Some(b'=') => {},
				None => return Err(FragmentError::UnexpectedEnd),
				Some(_) => return Err(FragmentError::MalformedAttribute),
			}
			let quote_at = self.skip_whitespace(eq + 1);
			let quote = match self.byte(quote_at) {
				Some(q @ (b'"' | b'\'')) => q,
				None => return Err(FragmentError::UnexpectedEnd),
				Some(_) => return Err(FragmentError::MalformedAttribute),
			};
			let value_start = quote_at + 1;
			let value_end = self.find(value_start, &[quote]).ok_or(FragmentError::UnexpectedEnd)?;
			let value = self.slice(value_start, value_end);
			if value.contains(&b'<') {
				return Err(FragmentError::MalformedAttribute);
			}
			if attr_name == b"ID" {
				has_id = true;
				self.check_id(value, is_root)?;
			} else {
				check_attribute_value(value)?;
			}
			at = value_end + 1;
		};
		if is_root && !has_id && matches!(self.expected_id, FragmentId::Element(_)) {
			return Err(FragmentError::MissingId);
		}
		if is_root {
			self.root_name = Some((name_start, name_end));
			self.self_closing = self_closing;
		}
		if self_closing {
			self.root_closed |= is_root;
		} else {
			let slot = self.stack.get_mut(self.depth).ok_or(FragmentError::TooDeep)?;
			*slot = (name_start, name_end);
			self.depth += 1;
		}
		self.pos = at;
		Ok(())
	}

	fn check_id(&self, raw_value: &[u8], is_root: bool) -> Result<(), FragmentError> {
		if raw_value.is_empty() {
			return Err(FragmentError::EmptyId);
		}
		if !is_root {
			check_attribute_value(raw_value)?;
			return Err(FragmentError::IdCarryingChild);
		}
		match self.expected_id {
			FragmentId::Structural => {
				check_attribute_value(raw_value)?;
				Err(FragmentError::UnexpectedId)
			},
			FragmentId::Element(expected) | FragmentId::ElementOrStructural(expected) => {
				let mut matched = 0usize;
				let mut equal = true;
				normalized_value(raw_value, |piece| {
					let end = matched.saturating_add(piece.len());
					if equal && expected.get(matched..end) == Some(piece) {
						matched = end;
					} else {
						equal = false;
					}
				})?;
				if equal && matched == expected.len() {
					Ok(())
				} else {
					Err(FragmentError::IdMismatch)
				}
			},
		}
	}

	fn end_tag(&mut self) -> Result<(), FragmentError> {
		let name_start = self.pos + 2;
		let name_end = self.name_end_before_eof(name_start)?;
		let close = self.skip_whitespace(name_end);
		match self.byte(close) {
			Some(b'>') => {},
			None => return Err(FragmentError::UnexpectedEnd),
			Some(_) => return Err(FragmentError::MalformedTag),
		}
		let Some(top) = self.depth.checked_sub(1) else {
			return Err(FragmentError::MismatchedEndTag);
		};
		let &(open_start, open_end) = self.stack.get(top).ok_or(FragmentError::MismatchedEndTag)?;
		if self.slice(open_start, open_end) != self.slice(name_start, name_end) {
			return Err(FragmentError::MismatchedEndTag);
		}
		self.depth = top;
		if top == 0 {
			self.root_closed = true;
		}
		self.pos = close + 1;
		Ok(())
	}

	fn processing_instruction(&mut self) -> Result<(), FragmentError> {
		let target_start = self.pos + 2;
		let target_end = self.name_end_before_eof(target_start)?;
		let target = self.slice(target_start, target_end);
		if target.eq_ignore_ascii_case(b"xml") {
			return Err(FragmentError::XmlDeclarationNotAllowed);
		}
		let close = self.find(target_end, b"?>").ok_or(FragmentError::UnexpectedEnd)?;
		if close != target_end
			&& !matches!(self.byte(target_end), Some(b' ' | b'\t' | b'\r' | b'\n'))
		{
			return Err(FragmentError::MalformedProcessingInstruction);
		}
		if target == CHILDREN_MARKER_TARGET {
			if close != target_end {
				return Err(FragmentError::MalformedChildrenMarker);
			}
			if self.depth != 1 {
				return Err(FragmentError::MisplacedChildrenMarker);
			}
			if self.marker {
				return Err(FragmentError::DuplicateChildrenMarker);
			}
			self.marker = true;
		} else if self.depth == 0 {
			return Err(FragmentError::ContentOutsideRoot);
		}
		self.pos = close + 2;
		Ok(())
	}

	/// `<!--`, `<![CDATA[` or `<!DOCTYPE`.
	fn markup_declaration(&mut self) -> Result<(), FragmentError> {
		let at = self.pos;
		let end = if self.starts_with(at, b"<!--") {
			let dashes = self.find(at + 4, b"--").ok_or(FragmentError::UnexpectedEnd)?;
			match self.byte(dashes + 2) {
				Some(b'>') => dashes + 3,
				None => return Err(FragmentError::UnexpectedEnd),
				Some(_) => return Err(FragmentError::MalformedComment),
			}
		} else if self.starts_with(at, b"<![CDATA[") {
			self.find(at + 9, b"]]>").ok_or(FragmentError::UnexpectedEnd)? + 3
		} else if self.starts_with(at, b"<!DOCTYPE") {
			return Err(FragmentError::DoctypeNotAllowed);
		} else if b"<!DOCTYPE".starts_with(self.bytes.get(at..).unwrap_or(&[]))
			|| b"<![CDATA[".starts_with(self.bytes.get(at..).unwrap_or(&[]))
			|| b"<!--".starts_with(self.bytes.get(at..).unwrap_or(&[]))
		{
			return Err(FragmentError::UnexpectedEnd);
		} else {
			return Err(FragmentError::MalformedTag);
		};
		if self.depth == 0 {
			return Err(FragmentError::ContentOutsideRoot);
		}
		self.pos = end;
		Ok(())
	}
}

/// Checks the references in an attribute value.
fn check_attribute_value(raw: &[u8]) -> Result<(), FragmentError> {
	normalized_value(raw, |_| {})
}

/// Feeds the normalised value of an attribute (XML 1.0 §3.3.3 for CDATA attributes:
/// references resolved, literal CR LF / CR / LF / tab each turned into one space) to `sink`
/// piece by piece, checking its references.
fn normalized_value(raw: &[u8], mut sink: impl FnMut(&[u8])) -> Result<(), FragmentError> {
	let mut i = 0;
	let mut run_start = 0;
	while let Some(&b) = raw.get(i) {
		match b {
			b'&' | b'\t' | b'\r' | b'\n' => {
				sink(raw.get(run_start..i).unwrap_or(&[]));
				if b == b'&' {
					let (c, next) = reference(raw, i)?;
					let mut buf = [0u8; 4];
					sink(c.encode_utf8(&mut buf).as_bytes());
					i = next;
				} else {
					sink(b" ");
					i += if b == b'\r' && raw.get(i + 1) == Some(&b'\n') { 2 } else { 1 };
				}
				run_start = i;
			},
			_ => i += 1,
		}
	}
	sink(raw.get(run_start..).unwrap_or(&[]));
	Ok(())
}

/// Parses the reference starting with `&` at `at`; returns the character it stands for and
/// the position after its `;`.
fn reference(data: &[u8], at: usize) -> Result<(char, usize), FragmentError> {
	let body_start = at + 1;
	let rest = data.get(body_start..).unwrap_or(&[]);
	let len = rest.iter().position(|&b| b == b';').ok_or(FragmentError::MalformedReference)?;
	let body = rest.get(..len).unwrap_or(&[]);
	let next = body_start + len + 1;
	let c = match body {
		b"lt" => '<',
		b"gt" => '>',
		b"amp" => '&',
		b"apos" => '\'',
		b"quot" => '"',
		[b'#', b'x', hex @ ..] => char_reference(hex, 16)?,
		[b'#', decimal @ ..] => char_reference(decimal, 10)?,
		name => {
			// A well-formed entity name that is not predefined needs a DTD.
			let valid_name = core::str::from_utf8(name).is_ok_and(|name| {
				let mut chars = name.chars();
				chars.next().is_some_and(is_name_start_char) && chars.all(is_name_char)
			});
			return Err(if valid_name {
				FragmentError::UnknownEntity
			} else {
				FragmentError::MalformedReference
			});
		},
	};
	Ok((c, next))
}

fn char_reference(digits: &[u8], radix: u32) -> Result<char, FragmentError> {
	if digits.is_empty() {
		return Err(FragmentError::MalformedReference);
	}
	let mut code: u32 = 0;
	for &d in digits {
		let digit = (d as char).to_digit(radix).ok_or(FragmentError::MalformedReference)?;
		code = code
			.checked_mul(radix)
			.and_then(|c| c.checked_add(digit))
			.ok_or(FragmentError::InvalidCharReference)?;
	}
	char::from_u32(code)
		.filter(|&c| is_xml_char(c))
		.ok_or(FragmentError::InvalidCharReference)
}

/// XML 1.0 `Char` (surrogates cannot occur in a `char`).
fn is_xml_char(c: char) -> bool {
	matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// XML 1.0 (fifth edition) `NameStartChar`.
fn is_name_start_char(c: char) -> bool {
	matches!(c,
		':' | 'A'..='Z' | '_' | 'a'..='z' | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}' |
		'\u{F8}'..='\u{2FF}' | '\u{370}'..='\u{37D}' | '\u{37F}'..='\u{1FFF}' |
		'\u{200C}'..='\u{200D}' | '\u{2070}'..='\u{218F}' | '\u{2C00}'..='\u{2FEF}' |
		'\u{3001}'..='\u{D7FF}' | '\u{F900}'..='\u{FDCF}' | '\u{FDF0}'..='\u{FFFD}' |
		'\u{10000}'..='\u{EFFFF}')
}

/// XML 1.0 (fifth edition) `NameChar`.
fn is_name_char(c: char) -> bool {
	is_name_start_char(c)
		|| matches!(c, '-' | '.' | '0'..='9' | '\u{B7}' | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
}

#[cfg(test)]
mod tests {
	extern crate std;

	use super::*;
	use std::{format, string::String, vec::Vec};
	use FragmentError::*;

	const E1: FragmentId<'static> = FragmentId::Element(b"e1");
	const S: FragmentId<'static> = FragmentId::Structural;

	fn check<'a>(xml: &'a str, id: FragmentId<'_>) -> Result<FragmentInfo<'a>, FragmentError> {
		validate_fragment(xml.as_bytes(), id)
	}

	fn err(xml: &str, id: FragmentId<'_>) -> FragmentError {
		match check(xml, id) {
			Ok(info) => panic!("accepted {xml:?}: {info:?}"),
			Err(e) => e,
		}
	}

	#[test]
	fn accepts_element_and_reports_its_shape() {
		let xml = r#"<caex:InternalElement Name="Tank" ID="e1" xmlns:caex="http://www.dke.de/CAEX">
	<Attribute Name="Volume"><Value>2&lt;3 &amp; &#x41;&#66;</Value></Attribute>
	<?dt-children?>
	<SupportedRoleClass RefRoleClassPath="r"/>
</caex:InternalElement>"#;
		let info = check(xml, E1).unwrap();
		assert_eq!(info.root_name, "caex:InternalElement");
		assert_eq!(info.root_local_name, "InternalElement");
		assert!(info.has_children_marker);
		assert!(!info.self_closing);
		assert_eq!(info.len, xml.len());

		let info = check("<InternalElement ID='e1'/>", E1).unwrap();
		assert!(info.self_closing && !info.has_children_marker);
		assert_eq!(info.root_local_name, "InternalElement");
	}

	#[test]
	fn accepts_structural_nodes_without_id() {
		let xml = "<InstanceHierarchy Name=\"Plant\" xmlns=\"http://www.dke.de/CAEX\">\n  \
		           <Version>1</Version>\n  <?dt-children?>\n</InstanceHierarchy>";
		let info = check(xml, S).unwrap();
		assert_eq!(info.root_local_name, "InstanceHierarchy");
		assert!(info.has_children_marker);
		assert_eq!(err(xml, E1), MissingId);
		assert_eq!(err("<CAEXFile ID='e1'/>", S), UnexpectedId);
		let either = FragmentId::ElementOrStructural(b"e1");
		assert!(check("<CAEXFile ID='e1'/>", either).is_ok());
		assert!(check("<CAEXFile Name='x'><a/></CAEXFile>", either).is_ok());
		assert_eq!(err("<CAEXFile ID='e2'/>", either), IdMismatch);
		assert_eq!(err("<CAEXFile ID=''/>", either), EmptyId);
		assert_eq!(err("<CAEXFile><a ID='e1'/></CAEXFile>", either), IdCarryingChild);
	}

	#[test]
	fn accepts_comments_cdata_pis_and_unicode_inside_the_root() {
		for ok in [
			"<a ID='e1'><!-- a comment - with dash --></a>",
			"<a ID='e1'><![CDATA[<not> &markup; ]]></a>",
			"<a ID='e1'><?vendor some data?><?empty?></a>",
			"<Größe ID=\"e1\" Maß='1'>ä €</Größe >",
			"<a ID='e1'>\t\r\n<b c = 'd' e=\"f\"/></a>",
			"<a ID='e1' v='&quot;&apos;&gt;'>]]</a>",
		] {
			assert!(check(ok, E1).is_ok(), "rejected {ok:?}: {:?}", check(ok, E1));
		}
	}

	#[test]
	fn id_is_compared_after_normalisation() {
		assert!(check("<a ID='a&amp;b'/>", FragmentId::Element(b"a&b")).is_ok());
		assert!(check("<a ID='&#x41;&#66;'/>", FragmentId::Element(b"AB")).is_ok());
		assert!(check("<a ID='x\ty\r\nz'/>", FragmentId::Element(b"x y z")).is_ok());
		assert!(check("<a ID='x&#10;y'/>", FragmentId::Element(b"x\ny")).is_ok());
		assert!(check("<a ID='é'/>", FragmentId::Element("é".as_bytes())).is_ok());
		assert_eq!(err("<a ID='e12'/>", E1), IdMismatch);
		assert_eq!(err("<a ID='e'/>", E1), IdMismatch);
		assert_eq!(err("<a ID='E1'/>", E1), IdMismatch);
		assert_eq!(err("<a ID=' e1'/>", E1), IdMismatch);
		assert_eq!(err("<a ID='e1'/>", FragmentId::Element(b"")), IdMismatch);
		assert_eq!(err("<a Id='e1'/>", E1), MissingId);
		assert_eq!(err("<a p:ID='e1' xmlns:p='u'/>", E1), MissingId);
	}

	#[test]
	fn rejects_every_error_variant() {
		let cases: &[(&[u8], FragmentId<'static>, FragmentError)] = &[
			(b"", E1, Empty),
			(b"<a ID='e1'>\xff</a>", E1, NotUtf8),
			(b"<a ID='e1'>\x01</a>", E1, InvalidChar),
			("<a ID='e1'>\u{FFFE}</a>".as_bytes(), E1, InvalidChar),
			(b"<a ID='e1'>", E1, UnexpectedEnd),
			(b"<a ID='e1'", E1, UnexpectedEnd),
			(b"<a ID='e1", E1, UnexpectedEnd),
			(b"<a ID='e1'><b/>", E1, UnexpectedEnd),
			(b"<a ID='e1'><!-- x", E1, UnexpectedEnd),
			(b"<a ID='e1'><![CDATA[x", E1, UnexpectedEnd),
			(b"<a ID='e1'><?pi x", E1, UnexpectedEnd),
			(b"<a ID='e1'></a", E1, UnexpectedEnd),
			(b"<a ID='e1'><", E1, UnexpectedEnd),
			(b"<a ID='e1'b='c'/>", E1, MalformedTag),
			(b"<a ID='e1'/ >", E1, MalformedTag),
			(b"<a ID='e1'><!ELEMENT a></a>", E1, MalformedTag),
			(b"<a ID='e1'></a x>", E1, MalformedTag),
			(b"<1a ID='e1'/>", E1, InvalidName),
			(b"< a ID='e1'/>", E1, InvalidName),
			(b"<a ID='e1'></ a>", E1, InvalidName),
			(b"<a ID='e1'><?1pi?></a>", E1, InvalidName),
			(b"<a ID='e1' b/>", E1, MalformedAttribute),
			(b"<a ID='e1' b=c/>", E1, MalformedAttribute),
			(b"<a ID='e1' b='<'/>", E1, MalformedAttribute),
			(b"<a ID='e1' b='1' b='2'/>", E1, DuplicateAttribute),
			(b"<a ID='e1' ID='e1'/>", E1, DuplicateAttribute),
			(b"<a ID='e1'></b>", E1, MismatchedEndTag),
			(b"<a ID='e1'><b></a></b>", E1, MismatchedEndTag),
			(b"<a ID='e1'/></a>", E1, MismatchedEndTag),
			(b"</a>", E1, MismatchedEndTag),
			(b"<a ID='e1'/><b/>", E1, MultipleRoots),
			(b"<a ID='e1'></a><a ID='e1'></a>", E1, MultipleRoots),
			(b" <a ID='e1'/>", E1, ContentOutsideRoot),
			(b"<a ID='e1'/>\n", E1, ContentOutsideRoot),
			(b"x<a ID='e1'/>", E1, ContentOutsideRoot),
			(b"<!-- c --><a ID='e1'/>", E1, ContentOutsideRoot),
			(b"<a ID='e1'/><?pi?>", E1, ContentOutsideRoot),
			(b"<a ID='e1'/><![CDATA[x]]>", E1, ContentOutsideRoot),
			("\u{FEFF}<a ID='e1'/>".as_bytes(), E1, ContentOutsideRoot),
			(b"<a ID='e1'><!-- a -- b --></a>", E1, MalformedComment),
			(b"<a ID='e1'><!-- a ---></a>", E1, MalformedComment),
			(b"<a ID='e1'>a ]]> b</a>", E1, CDataEndInText),
			(b"<a ID='e1'>a & b</a>", E1, MalformedReference),
			(b"<a ID='e1'>&amp</a>", E1, MalformedReference),
			(b"<a ID='e1'>&;</a>", E1, MalformedReference),
			(b"<a ID='e1'>&#;</a>", E1, MalformedReference),
			(b"<a ID='e1'>&#X41;</a>", E1, MalformedReference),
			(b"<a ID='e1'>&#x4G;</a>", E1, MalformedReference),
			(b"<a ID='e1' b='&'/>", E1, MalformedReference),
			(b"<a ID='e1'>&nbsp;</a>", E1, UnknownEntity),
			(b"<a ID='e1' b='&nbsp;'/>", E1, UnknownEntity),
			(b"<a ID='e1'>&#0;</a>", E1, InvalidCharReference),
			(b"<a ID='e1'>&#1;</a>", E1, InvalidCharReference),
			(b"<a ID='e1'>&#xD800;</a>", E1, InvalidCharReference),
			(b"<a ID='e1'>&#x110000;</a>", E1, InvalidCharReference),
			(b"<a ID='e1'>&#99999999999999;</a>", E1, InvalidCharReference),
			(b"<!DOCTYPE a><a ID='e1'/>", E1, DoctypeNotAllowed),
			(b"<a ID='e1'><!DOCTYPE a></a>", E1, DoctypeNotAllowed),
			(b"<?xml version='1.0'?><a ID='e1'/>", E1, XmlDeclarationNotAllowed),
			(b"<a ID='e1'><?XML x?></a>", E1, XmlDeclarationNotAllowed),
			(b"<a ID='e1'><?pi?x?></a>", E1, MalformedProcessingInstruction),
			(b"<a ID='e1'><?dt-children ?></a>", E1, MalformedChildrenMarker),
			(b"<a ID='e1'><?dt-children x?></a>", E1, MalformedChildrenMarker),
			(b"<a ID='e1'><b><?dt-children?></b></a>", E1, MisplacedChildrenMarker),
			(b"<?dt-children?><a ID='e1'/>", E1, MisplacedChildrenMarker),
			(b"<a ID='e1'/><?dt-children?>", E1, MisplacedChildrenMarker),
			(b"<a ID='e1'><?dt-children?><?dt-children?></a>", E1, DuplicateChildrenMarker),
			(b"<a ID='e2'/>", E1, IdMismatch),
			(b"<a Name='x'/>", E1, MissingId),
			(b"<a ID='e1'/>", S, UnexpectedId),
			(b"<a ID=''/>", E1, EmptyId),
			(b"<a ID=''/>", S, EmptyId),
			(b"<a ID='e1'><b ID=''/></a>", E1, EmptyId),
			(b"<a ID='e1'><b ID='e2'/></a>", E1, IdCarryingChild),
			(b"<a><b><c ID='e2'/></b></a>", S, IdCarryingChild),
		];
		for (xml, id, expected) in cases {
			assert_eq!(
				validate_fragment(xml, *id),
				Err(*expected),
				"{:?}",
				String::from_utf8_lossy(xml)
			);
			assert!(!expected.as_str().is_empty());
		}
	}

	#[test]
	fn size_bounds() {
		let mut xml = String::from("<a ID='e1'>");
		while xml.len() < MAX_FRAGMENT_LEN - 4 {
			xml.push('x');
		}
		xml.push_str("</a>");
		assert_eq!(xml.len(), MAX_FRAGMENT_LEN);
		assert!(check(&xml, E1).is_ok());
		xml.insert(11, 'y');
		assert_eq!(err(&xml, E1), TooLong);
	}

	#[test]
	fn depth_bound() {
		let nested = |depth: usize| {
			let mut xml = String::from("<a ID='e1'>");
			for _ in 1..depth {
				xml.push_str("<b>");
			}
			for _ in 1..depth {
				xml.push_str("</b>");
			}
			xml.push_str("</a>");
			xml
		};
		assert!(check(&nested(MAX_DEPTH), E1).is_ok());
		assert_eq!(err(&nested(MAX_DEPTH + 1), E1), TooDeep);
		// Empty-element tags do not nest.
		let mut flat = String::from("<a ID='e1'>");
		for _ in 0..1000 {
			flat.push_str("<b/>");
		}
		flat.push_str("</a>");
		assert!(check(&flat, E1).is_ok());
	}

	#[test]
	fn attribute_count_bound() {
		let with = |n: usize| {
			let mut xml = String::from("<a ID='e1'");
			for i in 1..n {
				xml.push_str(&format!(" a{i}='v'"));
			}
			xml.push_str("/>");
			xml
		};
		assert!(check(&with(MAX_ATTRIBUTES), E1).is_ok());
		assert_eq!(err(&with(MAX_ATTRIBUTES + 1), E1), TooManyAttributes);
	}

	/// xorshift64*: deterministic, good enough to mutate inputs.
	struct Rng(u64);

	impl Rng {
		fn next(&mut self) -> u64 {
			self.0 ^= self.0 >> 12;
			self.0 ^= self.0 << 25;
			self.0 ^= self.0 >> 27;
			self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
		}

		fn below(&mut self, n: usize) -> usize {
			if n == 0 {
				0
			} else {
				(self.next() % n as u64) as usize
			}
		}
	}

	#[test]
	fn never_panics_on_random_or_mutated_input() {
		let seeds: &[&[u8]] = &[
			b"<a ID='e1'><b c=\"d\">t&amp;&#x41;</b><?dt-children?><!-- c --><![CDATA[x]]></a>",
			"<p:Größe ID='é' xmlns:p='u'><?pi d?></p:Größe>".as_bytes(),
			b"<InstanceHierarchy Name='P'>\n\t<Version>1</Version>\n</InstanceHierarchy>",
		];
		let alphabet: &[u8] = b"<>/?!-[]&#;='\" \t\nxaIDCT:\xc3\xa9\xff\x00";
		let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
		let mut accepted = 0;
		for round in 0..50_000 {
			let mut input: Vec<u8> = if round % 5 == 0 {
				(0..rng.below(64)).map(|_| alphabet[rng.below(alphabet.len())]).collect()
			} else {
				seeds[rng.below(seeds.len())].to_vec()
			};
			for _ in 0..1 + rng.below(4) {
				let at = rng.below(input.len() + 1);
				match rng.below(4) {
					0 => input.insert(at, alphabet[rng.below(alphabet.len())]),
					1 if at < input.len() => {
						input.remove(at);
					},
					2 if at < input.len() => input[at] = rng.next() as u8,
					_ => {
						let end = at + rng.below(input.len() - at + 1);
						let copy = input[at..end].to_vec();
						let to = rng.below(input.len() + 1);
						input.splice(to..to, copy);
					},
				}
			}
			for id in
				[E1, S, FragmentId::Element("é".as_bytes()), FragmentId::ElementOrStructural(b"e1")]
			{
				if let Ok(info) = validate_fragment(&input, id) {
					accepted += 1;
					assert_eq!(info.len, input.len());
					// Whatever passes here, dt-aml reads the same way.
					let xml = core::str::from_utf8(&input).unwrap();
					let parsed = dt_aml::Fragment::parse(xml)
						.unwrap_or_else(|e| panic!("dt-aml rejects accepted {xml:?}: {e}"));
					let parsed_id = parsed.id().map(str::as_bytes);
					match id {
						FragmentId::Element(id) => assert_eq!(parsed_id, Some(id)),
						FragmentId::Structural => assert_eq!(parsed_id, None),
						FragmentId::ElementOrStructural(id) => {
							assert!(parsed_id.is_none_or(|parsed| parsed == id))
						},
					}
					assert_eq!(info.root_name, parsed.name());
					assert_eq!(info.has_children_marker, parsed.has_children_marker());
				}
			}
		}
		std::println!("{accepted} accepted (input, expectation) pairs");
		// The mutations are mild enough that some inputs stay valid.
		assert!(accepted > 0);
	}

	#[test]
	fn every_fragment_dt_aml_makes_from_the_example_files_passes() {
		let mut files = 0;
		let mut nodes = 0;
		let mut largest = 0;
		for path in dt_aml::examples::example_files() {
			let text = std::fs::read_to_string(&path).unwrap();
			let tree = dt_aml::AmlTree::parse_str(&text)
				.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
			files += 1;
			for node in tree.iter() {
				let fragment = node.fragment();
				let expected = if node.is_structural() {
					FragmentId::Structural
				} else {
					FragmentId::Element(node.id().as_bytes())
				};
				let info = validate_fragment(fragment.as_bytes(), expected).unwrap_or_else(|e| {
					panic!(
						"{}: node {} rejected: {e:?}\n{}",
						path.display(),
						node.id(),
						fragment.as_str()
					)
				});
				assert_eq!(info.root_name, fragment.name());
				assert_eq!(info.has_children_marker, fragment.has_children_marker());
				// The wrong expectation is rejected.
				let wrong = if node.is_structural() {
					FragmentId::Element(b"no-such-id")
				} else {
					FragmentId::Structural
				};
				assert!(validate_fragment(fragment.as_bytes(), wrong).is_err());
				largest = largest.max(fragment.as_bytes().len());
				nodes += 1;
			}
		}
		assert!(files >= 5, "found only {files} .aml files in {}", dt_aml::examples::corpus_dir().display());
		std::println!("{files} files, {nodes} fragments, largest {largest} bytes");
		assert!(largest <= MAX_FRAGMENT_LEN);
	}

	#[test]
	fn agrees_with_dt_aml_on_hand_written_fragments() {
		let both_accept = [
			"<a ID='e1'><b/>text<!-- c --><![CDATA[x]]><?pi?><?dt-children?></a>",
			"<a ID='e1' xmlns='urn:x' xmlns:p='urn:p' p:b='1'><p:c>&lt;&#x41;</p:c></a>",
			"<a ID='a&amp;b'/>",
		];
		for xml in both_accept {
			let parsed = dt_aml::Fragment::parse(xml).unwrap();
			let id = match parsed.id() {
				Some(id) => FragmentId::Element(id.as_bytes()),
				None => FragmentId::Structural,
			};
			let info = validate_fragment(xml.as_bytes(), id).unwrap();
			assert_eq!(info.root_name, parsed.name());
			assert_eq!(info.has_children_marker, parsed.has_children_marker());
		}
		let both_reject = [
			"",
			"<a ID='e1'/><b/>",
			"<?xml version='1.0'?><a ID='e1'/>",
			"<!-- c --><a ID='e1'/>",
			"<!DOCTYPE a><a ID='e1'/>",
			"<a ID='e1'/>text",
			"<a ID='e1'>",
			"<a ID='e1'></b>",
			"<a ID='e1'><b ID='e2'/></a>",
			"<a ID='e1'>&nbsp;</a>",
			"<a ID='e1' N='&nbsp;'/>",
			"<a ID=''/>",
			"<a ID='e1' b='1' b='2'/>",
			"<a ID='e1'><?dt-children?><?dt-children?></a>",
			"<a ID='e1'><b><?dt-children?></b></a>",
			"<a ID='e1'>&#0;</a>",
			"<a ID='e1'><!-- a -- b --></a>",
		];
		for xml in both_reject {
			assert!(dt_aml::Fragment::parse(xml).is_err(), "dt-aml accepted {xml:?}");
			for id in [E1, S] {
				assert!(check(xml, id).is_err(), "accepted {xml:?}");
			}
		}
	}
}
