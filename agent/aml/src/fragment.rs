//! One node's own XML: a standalone element without its child nodes.
//!
//! A [`Fragment`] is what the chain stores per element. Its contract (also checked by the
//! runtime's tokenizer) is:
//!
//! * one well-formed XML element, nothing before or after it (no XML declaration, no
//!   DOCTYPE, no comment outside the root);
//! * the root's `ID` attribute is the node's ID, or the root has no `ID` at all for a
//!   *structural* node (see the crate docs);
//! * no descendant element carries an `ID` attribute: ID-carrying elements are nodes of
//!   their own;
//! * at most one [`CHILDREN_MARKER`] (`<?dt-children?>`), and only as a direct child of the
//!   root: the node's child nodes are written there, in sibling order. Without the marker
//!   they are written just before the root's end tag (an empty-element root `<X/>` is
//!   expanded to `<X>...</X>`);
//! * only the five predefined entities and character references, so that no DTD is needed;
//! * every namespace prefix it uses is declared in it: the importer copies the declarations
//!   in scope in the source document onto the root (and refuses a document that uses a
//!   prefix nothing declares), and the runtime refuses a fragment with an unbound prefix. A
//!   fragment that leaves the default namespace undeclared takes the one in scope where it
//!   sits in the document, exactly as if its text were pasted there.

use std::collections::BTreeSet;

use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

use crate::error::{AmlError, Result};
use crate::namespaces::{declared_prefix, lookup, split_qname, Binding};
use crate::position::position_in;
use crate::xml_checks::{check_entity_reference, unescaped_attribute_value};

/// Target of the processing instruction that marks where a fragment's child nodes go.
pub const CHILDREN_MARKER_TARGET: &str = "dt-children";
/// The marker itself, as stored in fragments.
pub const CHILDREN_MARKER: &str = "<?dt-children?>";

/// CAEX children that the schemas place after the nested ExternalInterface/InternalElement
/// sequence. A fragment without child nodes gets its marker before the first of these, so
/// that a child inserted later lands where the schema wants it.
const CAEX_AFTER_NESTED_ELEMENTS: [&str; 4] =
	["SupportedRoleClass", "InternalLink", "RoleRequirements", "MappingObject"];

/// A node's XML fragment, validated against the fragment contract (see module docs).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Fragment {
	xml: String,
	id: Option<String>,
	qname_len: usize,
	start_tag_len: usize,
	self_closing: bool,
	/// Byte offset of the root's end tag; equals `xml.len()` for an empty-element root.
	end_tag_start: usize,
	marker: Option<usize>,
}

impl Fragment {
	/// Validates `xml` as a fragment and keeps it as it is (surrounding whitespace trimmed).
	///
	/// Use this for fragments read back from the chain. For fragments a user writes, prefer
	/// [`crate::parse_snippet`], which also splits out nested ID-carrying elements and places
	/// the children marker.
	pub fn parse(xml: &str) -> Result<Fragment> {
		let xml = xml.trim();
		let analysis = analyze(xml)?;
		Ok(Self::from_analysis(xml.to_string(), analysis))
	}

	/// Adds a children marker at the CAEX position (before SupportedRoleClass, InternalLink,
	/// RoleRequirements or MappingObject) if the fragment has no marker and has such a child.
	/// Fragments without those children are returned unchanged: their children go last.
	pub fn with_caex_children_slot(self) -> Fragment {
		if self.marker.is_some() {
			return self;
		}
		let Ok(analysis) = analyze(&self.xml) else {
			return self;
		};
		match insert_default_marker(&self.xml, &analysis) {
			Some(xml) => Fragment::parse(&xml).unwrap_or(self),
			None => self,
		}
	}

	/// Builds the fragment of an element cut out of a document.
	///
	/// `raw` is the element's text without its child nodes, `slot` the byte offset in `raw`
	/// where they were, and `inherited` the namespace bindings in scope outside the element.
	pub(crate) fn from_extracted(
		raw: String,
		slot: Option<usize>,
		inherited: &[Binding],
	) -> Result<Fragment> {
		let analysis = analyze(&raw)?;
		let declarations = missing_declarations(&analysis, inherited);
		if declarations.is_empty() && slot.is_none() && analysis.default_slot.is_none() {
			return Ok(Self::from_analysis(raw, analysis));
		}
		let mut xml =
			String::with_capacity(raw.len() + declarations.len() + CHILDREN_MARKER.len() + 16);
		let declarations_at = analysis.declarations_insertion_point;
		xml.push_str(&raw[..declarations_at]);
		xml.push_str(&declarations);
		match slot {
			Some(slot) => {
				xml.push_str(&raw[declarations_at..slot]);
				xml.push_str(CHILDREN_MARKER);
				xml.push_str(&raw[slot..]);
			},
			None => xml.push_str(&raw[declarations_at..]),
		}
		if slot.is_none() {
			let reanalysed = analyze(&xml)?;
			if let Some(with_marker) = insert_default_marker(&xml, &reanalysed) {
				xml = with_marker;
			}
		}
		let analysis = analyze(&xml)?;
		Ok(Self::from_analysis(xml, analysis))
	}

	fn from_analysis(xml: String, a: Analysis) -> Fragment {
		Fragment {
			xml,
			id: a.id,
			qname_len: a.qname_len,
			start_tag_len: a.start_tag_len,
			self_closing: a.self_closing,
			end_tag_start: a.end_tag_start,
			marker: a.marker,
		}
	}

	/// The fragment's XML text.
	pub fn as_str(&self) -> &str {
		&self.xml
	}

	/// The fragment's XML bytes, as stored on chain.
	pub fn as_bytes(&self) -> &[u8] {
		self.xml.as_bytes()
	}

	pub fn into_string(self) -> String {
		self.xml
	}

	/// The root's `ID` attribute; `None` for a structural node.
	pub fn id(&self) -> Option<&str> {
		self.id.as_deref()
	}

	/// The root element's qualified name, e.g. `InternalElement` or `caex:InternalElement`.
	pub fn name(&self) -> &str {
		self.xml.get(1..1 + self.qname_len).unwrap_or("")
	}

	/// Whether the fragment marks where its child nodes go.
	pub fn has_children_marker(&self) -> bool {
		self.marker.is_some()
	}

	/// The root's start tag, `<...>` or `<.../>`.
	pub(crate) fn start_tag(&self) -> &str {
		&self.xml[..self.start_tag_len]
	}

	pub(crate) fn is_self_closing(&self) -> bool {
		self.self_closing
	}

	/// The root's content around the place of its child nodes: (before, after); `after`
	/// ends with the root's end tag (empty for an empty-element root).
	pub(crate) fn around_children(&self) -> (&str, &str) {
		match self.marker {
			Some(m) => (&self.xml[self.start_tag_len..m], &self.xml[m + CHILDREN_MARKER.len()..]),
			None if self.self_closing => ("", ""),
			None => {
				(&self.xml[self.start_tag_len..self.end_tag_start], &self.xml[self.end_tag_start..])
			},
		}
	}
}

/// What one tokenizer pass learns about a fragment.
#[derive(Debug, Default)]
struct Analysis {
	id: Option<String>,
	qname_len: usize,
	start_tag_len: usize,
	self_closing: bool,
	end_tag_start: usize,
	marker: Option<usize>,
	/// Where declarations are added to the root start tag (after its last attribute).
	declarations_insertion_point: usize,
	/// (start of the whitespace before it, start) of the first CAEX "after nested" child.
	default_slot: Option<(usize, usize)>,
	uses_default_namespace: bool,
	used_prefixes: BTreeSet<String>,
	root_declared: BTreeSet<String>,
}

fn invalid(xml: &str, offset: usize, reason: impl std::fmt::Display) -> AmlError {
	AmlError::InvalidFragment {
		reason: format!("{reason} (at {} of the fragment)", position_in(xml, offset)),
	}
}

fn analyze(xml: &str) -> Result<Analysis> {
	let mut reader = Reader::from_str(xml);
	reader.config_mut().check_comments = true;
	let mut a = Analysis::default();
	let mut depth = 0usize;
	let mut root_closed = false;
	let mut whitespace_start: Option<usize> = None;
	loop {
		let start = offset(reader.buffer_position());
		let event = reader.read_event().map_err(|e| AmlError::Malformed {
			at: position_in(xml, offset(reader.error_position())),
			message: format!("{e} (in a fragment)"),
		})?;
		let end = offset(reader.buffer_position());
		let pending_whitespace = whitespace_start.take();
		match event {
			Event::Eof => break,
			Event::Decl(_) | Event::DocType(_) => {
				return Err(invalid(
					xml,
					start,
					"a fragment cannot contain an XML declaration or DOCTYPE",
				));
			},
			Event::Start(ref tag) | Event::Empty(ref tag) => {
				let is_empty = matches!(event, Event::Empty(_));
				if root_closed || (depth == 0 && start != 0) {
					return Err(invalid(xml, start, "a fragment must be exactly one element"));
				}
				let is_root = depth == 0;
				let attributes = read_attributes(xml, start, tag)?;
				note_names(&mut a, tag.name().0, &attributes);
				if is_root {
					a.id = attributes.id;
					a.root_declared = attributes.declared;
					a.qname_len = tag.name().0.len();
					a.start_tag_len = end;
					a.self_closing = is_empty;
					a.end_tag_start = xml.len();
					a.declarations_insertion_point = 1 + tag.trim_end().len();
				} else {
					if let Some(id) = attributes.id {
						return Err(invalid(
                            xml,
                            start,
                            format!(
                                "descendant <{}> carries ID \"{id}\"; ID-carrying elements are separate nodes",
                                tag.name().0
                            ),
                        ));
					}
					let local = split_qname(tag.name().0).1;
					if depth == 1
						&& a.default_slot.is_none()
						&& CAEX_AFTER_NESTED_ELEMENTS.contains(&local)
					{
						a.default_slot = Some((pending_whitespace.unwrap_or(start), start));
					}
				}
				if is_empty {
					root_closed |= is_root;
				} else {
					depth += 1;
				}
			},
			Event::End(_) => {
				depth = depth.saturating_sub(1);
				if depth == 0 {
					root_closed = true;
					a.end_tag_start = start;
				}
			},
			Event::Text(ref text) => {
				if depth == 0 {
					return Err(invalid(xml, start, "a fragment must be exactly one element"));
				}
				if depth == 1 && text.trim().is_empty() {
					whitespace_start = Some(pending_whitespace.unwrap_or(start));
				}
			},
			Event::GeneralRef(ref reference) => {
				check_entity_reference(reference).map_err(|name| AmlError::UnknownEntity {
					at: position_in(xml, start),
					name,
				})?;
				if depth == 0 {
					return Err(invalid(xml, start, "a fragment must be exactly one element"));
				}
			},
			Event::PI(ref pi) if pi.target() == CHILDREN_MARKER_TARGET => {
				if depth != 1 {
					return Err(invalid(
						xml,
						start,
						"the children marker must be a direct child of the root",
					));
				}
				if a.marker.is_some() {
					return Err(invalid(
						xml,
						start,
						"a fragment can have only one children marker",
					));
				}
				a.marker = Some(start);
			},
			Event::CData(_) | Event::Comment(_) | Event::PI(_) => {
				if depth == 0 {
					return Err(invalid(xml, start, "a fragment must be exactly one element"));
				}
			},
		}
	}
	if !root_closed {
		return Err(if xml.trim().is_empty() {
			AmlError::InvalidFragment { reason: "the fragment is empty".into() }
		} else {
			invalid(xml, xml.len(), "the root element is not closed")
		});
	}
	Ok(a)
}

fn offset(position: u64) -> usize {
	usize::try_from(position).unwrap_or(usize::MAX)
}

/// The attributes of one start tag that matter here.
pub(crate) struct TagAttributes {
	pub(crate) id: Option<String>,
	pub(crate) name: Option<String>,
	pub(crate) declared: BTreeSet<String>,
	pub(crate) declarations: Vec<Binding>,
	pub(crate) attribute_prefixes: Vec<String>,
}

/// Reads a start tag's attributes, checking each value (entities, duplicates).
pub(crate) fn read_attributes_with<F>(tag: &BytesStart<'_>, fail: F) -> Result<TagAttributes>
where
	F: Fn(String) -> AmlError,
{
	let mut out = TagAttributes {
		id: None,
		name: None,
		declared: BTreeSet::new(),
		declarations: Vec::new(),
		attribute_prefixes: Vec::new(),
	};
	for attribute in tag.attributes() {
		let attribute =
			attribute.map_err(|e| fail(format!("bad attribute in <{}>: {e}", tag.name().0)))?;
		let key = attribute.key.0;
		let value = unescaped_attribute_value(&attribute).map_err(&fail)?;
		if let Some(prefix) = declared_prefix(key) {
			out.declared.insert(prefix.to_string());
			out.declarations.push(Binding { prefix: prefix.to_string(), uri: value });
			continue;
		}
		match key {
			"ID" => out.id = Some(value),
			"Name" => out.name = Some(value),
			_ => {},
		}
		let (prefix, _) = split_qname(key);
		if !prefix.is_empty() {
			out.attribute_prefixes.push(prefix.to_string());
		}
	}
	Ok(out)
}

fn read_attributes(xml: &str, start: usize, tag: &BytesStart<'_>) -> Result<TagAttributes> {
	let attributes = read_attributes_with(tag, |message| AmlError::Malformed {
		at: position_in(xml, start),
		message: format!("{message} (in a fragment)"),
	})?;
	if attributes.id.as_deref() == Some("") {
		return Err(AmlError::EmptyId {
			at: position_in(xml, start),
			element: tag.name().0.to_string(),
		});
	}
	Ok(attributes)
}

fn note_names(a: &mut Analysis, qname: &str, attributes: &TagAttributes) {
	let (prefix, _) = split_qname(qname);
	if prefix.is_empty() {
		a.uses_default_namespace = true;
	} else {
		a.used_prefixes.insert(prefix.to_string());
	}
	a.used_prefixes.extend(attributes.attribute_prefixes.iter().cloned());
}

/// Declarations to add to the root so the fragment is interpretable on its own.
fn missing_declarations(a: &Analysis, inherited: &[Binding]) -> String {
	let mut out = String::new();
	if a.uses_default_namespace && !a.root_declared.contains("") {
		if let Some(uri) = lookup(inherited, "").filter(|uri| !uri.is_empty()) {
			out.push_str(&format!(" xmlns=\"{}\"", quick_xml::escape::escape(uri)));
		}
	}
	for prefix in &a.used_prefixes {
		if prefix == "xml" || a.root_declared.contains(prefix) {
			continue;
		}
		if let Some(uri) = lookup(inherited, prefix) {
			out.push_str(&format!(" xmlns:{prefix}=\"{}\"", quick_xml::escape::escape(uri)));
		}
	}
	out
}

/// `xml` with a marker at the CAEX default place, or `None` if it needs none.
///
/// The whitespace before the element is repeated after the marker, so the exporter (which
/// trims the whitespace before an unused marker) reproduces the original layout.
fn insert_default_marker(xml: &str, a: &Analysis) -> Option<String> {
	if a.marker.is_some() {
		return None;
	}
	let (whitespace_start, element_start) = a.default_slot?;
	let mut out = String::with_capacity(xml.len() + CHILDREN_MARKER.len() + 16);
	out.push_str(&xml[..element_start]);
	out.push_str(CHILDREN_MARKER);
	out.push_str(&xml[whitespace_start..element_start]);
	out.push_str(&xml[element_start..]);
	Some(out)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn accepts_a_plain_element() {
		let f = Fragment::parse(
			r#"  <InternalElement Name="Tank" ID="t1"><Attribute Name="Volume"/></InternalElement>  "#,
		)
		.unwrap();
		assert_eq!(f.id(), Some("t1"));
		assert_eq!(f.name(), "InternalElement");
		assert!(!f.has_children_marker());
		assert!(f.as_str().starts_with("<InternalElement"));
		assert_eq!(f.around_children().1, "</InternalElement>");
	}

	#[test]
	fn structural_fragment_has_no_id() {
		let f = Fragment::parse(
			r#"<InstanceHierarchy Name="Plant"><Version>1</Version></InstanceHierarchy>"#,
		)
		.unwrap();
		assert_eq!(f.id(), None);
	}

	#[test]
	fn rejects_id_carrying_descendants() {
		let err = Fragment::parse(
			r#"<InternalElement ID="a"><ExternalInterface ID="b"/></InternalElement>"#,
		)
		.unwrap_err();
		assert!(err.to_string().contains("\"b\""), "{err}");
	}

	#[test]
	fn rejects_two_roots_prolog_and_text() {
		for bad in [
			"<a ID='1'/><b/>",
			"<?xml version='1.0'?><a ID='1'/>",
			"<!-- c --><a ID='1'/>",
			"<a ID='1'/>text",
			"",
			"<a ID='1'>",
		] {
			assert!(Fragment::parse(bad).is_err(), "accepted {bad:?}");
		}
	}

	#[test]
	fn rejects_unknown_entities_and_empty_ids() {
		assert!(matches!(
			Fragment::parse("<a ID='1'>&nbsp;</a>"),
			Err(AmlError::UnknownEntity { .. })
		));
		assert!(matches!(
			Fragment::parse("<a ID='1' N='&nbsp;'/>"),
			Err(AmlError::Malformed { .. })
		));
		assert!(matches!(Fragment::parse("<a ID=''/>"), Err(AmlError::EmptyId { .. })));
		assert!(Fragment::parse("<a ID='1'>&amp;&#x41;&lt;</a>").is_ok());
	}

	#[test]
	fn marker_only_once_and_directly_under_the_root() {
		assert!(Fragment::parse("<a ID='1'><?dt-children?></a>").unwrap().has_children_marker());
		assert!(Fragment::parse("<a ID='1'><?dt-children?><?dt-children?></a>").is_err());
		assert!(Fragment::parse("<a ID='1'><b><?dt-children?></b></a>").is_err());
	}

	#[test]
	fn malformed_fragment_reports_line_and_column() {
		let err = Fragment::parse("<a ID='1'>\n  <b></c>\n</a>").unwrap_err();
		match err {
			AmlError::Malformed { at, .. } => assert_eq!((at.line, at.column), (2, 6)),
			other => panic!("unexpected {other:?}"),
		}
	}

	#[test]
	fn caex_slot_goes_before_supported_role_class() {
		let f = Fragment::parse(
            "<InternalElement ID=\"x\">\n\t<Attribute Name=\"a\"/>\n\t<SupportedRoleClass RefRoleClassPath=\"r\"/>\n</InternalElement>",
        )
        .unwrap()
        .with_caex_children_slot();
		assert_eq!(
            f.as_str(),
            "<InternalElement ID=\"x\">\n\t<Attribute Name=\"a\"/>\n\t<?dt-children?>\n\t<SupportedRoleClass RefRoleClassPath=\"r\"/>\n</InternalElement>"
        );
		let (before, after) = f.around_children();
		assert!(before.ends_with("<Attribute Name=\"a\"/>\n\t"));
		assert!(after.starts_with("\n\t<SupportedRoleClass"));
	}

	#[test]
	fn extraction_copies_used_namespace_declarations() {
		let inherited = vec![
			Binding { prefix: "".into(), uri: "http://www.dke.de/CAEX".into() },
			Binding {
				prefix: "xsi".into(),
				uri: "http://www.w3.org/2001/XMLSchema-instance".into(),
			},
			Binding { prefix: "v".into(), uri: "urn:vendor".into() },
		];
		let f = Fragment::from_extracted(
			r#"<InternalElement ID="a" v:x="1"/>"#.into(),
			None,
			&inherited,
		)
		.unwrap();
		assert_eq!(
			f.as_str(),
			r#"<InternalElement ID="a" v:x="1" xmlns="http://www.dke.de/CAEX" xmlns:v="urn:vendor"/>"#
		);
	}

	#[test]
	fn extraction_places_the_marker_at_the_slot() {
		let raw =
			"<InstanceHierarchy Name=\"P\">\n  <Version>1</Version>\n  \n</InstanceHierarchy>"
				.to_string();
		let slot = raw.find("\n</").unwrap();
		let f = Fragment::from_extracted(raw, Some(slot), &[]).unwrap();
		assert_eq!(
            f.as_str(),
            "<InstanceHierarchy Name=\"P\">\n  <Version>1</Version>\n  <?dt-children?>\n</InstanceHierarchy>"
        );
	}
}
