//! Compares two XML documents as element trees.
//!
//! "Equal" means: the same elements in the same order, with the same namespace-resolved
//! names, the same attributes (compared as a set, by namespace-resolved name and normalised
//! value) and the same text (references resolved, CDATA taken as text, leading and trailing
//! whitespace ignored, whitespace-only text ignored). Not compared: comments, processing
//! instructions, the XML declaration, DOCTYPE, attribute order and quoting, namespace
//! prefixes and where namespaces are declared. This is the equality the round-trip tests
//! and `dt` use to check an export against its source.
//!
//! Both documents are streamed side by side, so comparing large files needs little memory.

use std::collections::VecDeque;
use std::io::BufRead;

use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

use crate::error::{AmlError, Result};
use crate::fragment::read_attributes_with;
use crate::namespaces::{declared_prefix, split_qname, NamespaceScopes};
use crate::position::TrackedReader;
use crate::xml_checks::{resolve_entity_reference, unescaped_attribute_value};

/// Where two documents first differ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Difference {
	/// Element path in the left document, e.g. `/CAEXFile/InstanceHierarchy[Plant]/InternalElement[Tank]`.
	pub path: String,
	pub left: String,
	pub right: String,
}

impl std::fmt::Display for Difference {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		write!(f, "at {}: left has {}, right has {}", self.path, self.left, self.right)
	}
}

/// The first difference between two documents compared as element trees, or `None` if they
/// are equal in that sense (see module docs).
pub fn first_difference<A: BufRead, B: BufRead>(left: A, right: B) -> Result<Option<Difference>> {
	let mut left = CanonicalReader::new(left);
	let mut right = CanonicalReader::new(right);
	loop {
		let a = left.next_item()?;
		let b = right.next_item()?;
		if a != b {
			return Ok(Some(Difference {
				path: left.path(),
				left: a.describe(),
				right: b.describe(),
			}));
		}
		if a == Item::EndOfDocument {
			return Ok(None);
		}
	}
}

/// Whether two documents are equal as element trees.
pub fn equal_as_element_trees<A: BufRead, B: BufRead>(left: A, right: B) -> Result<bool> {
	Ok(first_difference(left, right)?.is_none())
}

/// (namespace URI, local name)
type Name = (String, String);

#[derive(Debug, PartialEq, Eq)]
enum Item {
	Start { name: Name, attributes: Vec<(Name, String)> },
	Text(String),
	End,
	EndOfDocument,
}

impl Item {
	fn describe(&self) -> String {
		fn name((uri, local): &Name) -> String {
			if uri.is_empty() {
				local.clone()
			} else {
				format!("{{{uri}}}{local}")
			}
		}
		match self {
			Item::Start { name: element, attributes } => {
				let attributes: Vec<String> = attributes
					.iter()
					.map(|(key, value)| format!(" {}=\"{value}\"", name(key)))
					.collect();
				format!("<{}{}>", name(element), attributes.concat())
			},
			Item::Text(text) => format!("text \"{text}\""),
			Item::End => "an end tag".into(),
			Item::EndOfDocument => "the end of the document".into(),
		}
	}
}

/// Turns a document into the stream of [`Item`]s that equality is defined on.
struct CanonicalReader<R: BufRead> {
	reader: Reader<TrackedReader<R>>,
	buf: Vec<u8>,
	scopes: NamespaceScopes,
	text: String,
	/// Items read ahead, each with the change it makes to `path` once it is handed out.
	queue: VecDeque<(Item, PathChange)>,
	path: Vec<String>,
}

enum PathChange {
	Enter(String),
	Leave,
	Keep,
}

impl<R: BufRead> CanonicalReader<R> {
	fn new(input: R) -> Self {
		CanonicalReader {
			reader: Reader::from_reader(TrackedReader::new(input)),
			buf: Vec::new(),
			scopes: NamespaceScopes::default(),
			text: String::new(),
			queue: VecDeque::new(),
			path: Vec::new(),
		}
	}

	fn path(&self) -> String {
		if self.path.is_empty() {
			"/".into()
		} else {
			self.path.iter().map(|step| format!("/{step}")).collect()
		}
	}

	fn next_item(&mut self) -> Result<Item> {
		loop {
			if let Some((item, change)) = self.queue.pop_front() {
				match change {
					PathChange::Enter(step) => self.path.push(step),
					PathChange::Leave => {
						self.path.pop();
					},
					PathChange::Keep => {},
				}
				return Ok(item);
			}
			self.buf.clear();
			let start = self.reader.buffer_position();
			self.reader.get_mut().forget_before(start);
			let event = match self.reader.read_event_into(&mut self.buf) {
				Ok(event) => event.into_owned(),
				Err(e) => {
					let at =
						self.reader.get_ref().position_of(self.reader.error_position().max(start));
					return Err(AmlError::Malformed { at, message: e.to_string() });
				},
			};
			match event {
				Event::Text(text) => self.text.push_str(&text),
				Event::CData(cdata) => self.text.push_str(&cdata),
				Event::GeneralRef(reference) => {
					self.text.push_str(&resolve_entity_reference(&reference))
				},
				Event::Comment(_) | Event::PI(_) | Event::Decl(_) | Event::DocType(_) => {},
				Event::Start(tag) => {
					self.flush_text();
					let item = self.start(&tag, start)?;
					self.queue.push_back(item);
				},
				Event::Empty(tag) => {
					self.flush_text();
					let item = self.start(&tag, start)?;
					self.queue.push_back(item);
					self.end();
				},
				Event::End(_) => {
					self.flush_text();
					self.end();
				},
				Event::Eof => {
					self.flush_text();
					self.queue.push_back((Item::EndOfDocument, PathChange::Keep));
				},
			}
		}
	}

	fn flush_text(&mut self) {
		let trimmed = self.text.trim();
		if !trimmed.is_empty() {
			self.queue.push_back((Item::Text(trimmed.to_string()), PathChange::Keep));
		}
		self.text.clear();
	}

	fn start(&mut self, tag: &BytesStart<'_>, start: u64) -> Result<(Item, PathChange)> {
		let declared = read_attributes_with(tag, |message| AmlError::Malformed {
			at: self.reader.get_ref().position_of(start),
			message,
		})?;
		self.scopes.push(declared.declarations);
		let (prefix, local) = split_qname(tag.name().0);
		let name = (self.scopes.resolve(prefix).unwrap_or("").to_string(), local.to_string());
		let mut attributes = Vec::new();
		for attribute in tag.attributes().flatten() {
			let key = attribute.key.0;
			if declared_prefix(key).is_some() {
				continue;
			}
			let (prefix, local) = split_qname(key);
			// Unprefixed attributes are in no namespace, whatever the default namespace is.
			let uri =
				if prefix.is_empty() { "" } else { self.scopes.resolve(prefix).unwrap_or(prefix) };
			let value = unescaped_attribute_value(&attribute).unwrap_or_default();
			attributes.push(((uri.to_string(), local.to_string()), value));
		}
		attributes.sort();
		let step = match declared.name {
			Some(n) => format!("{local}[{n}]"),
			None => local.to_string(),
		};
		Ok((Item::Start { name, attributes }, PathChange::Enter(step)))
	}

	fn end(&mut self) {
		self.scopes.pop();
		self.queue.push_back((Item::End, PathChange::Leave));
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn diff(a: &str, b: &str) -> Option<Difference> {
		first_difference(a.as_bytes(), b.as_bytes()).unwrap()
	}

	#[test]
	fn ignores_layout_quoting_attribute_order_and_prefixes() {
		let a = "<?xml version='1.0'?>\n<r xmlns='urn:c'>\n  <e b='2' a=\"1\">x &amp; y</e>\n  <!-- note -->\n</r>";
		let b = "<c:r xmlns:c='urn:c'><c:e a='1' b='2'><![CDATA[x & y]]></c:e></c:r>";
		assert_eq!(diff(a, b), None);
	}

	#[test]
	fn finds_changed_values_names_and_order() {
		assert!(diff("<r><e a='1'/></r>", "<r><e a='2'/></r>").is_some());
		assert!(diff("<r><e/><f/></r>", "<r><f/><e/></r>").is_some());
		assert!(diff("<r><e>x</e></r>", "<r><e>y</e></r>").is_some());
		assert!(diff("<r xmlns='urn:a'/>", "<r xmlns='urn:b'/>").is_some());
		let d = diff("<r><e Name='Tank'><x/></e></r>", "<r><e Name='Tank'/></r>").unwrap();
		assert_eq!(d.path, "/r/e[Tank]/x");
	}
}
