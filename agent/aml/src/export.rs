//! Export: re-assembles the AML document from the header and the nodes.
//!
//! Each node's fragment is written with its child nodes at its children marker (or before
//! its end tag), in sibling order. Consecutive child nodes are separated by the whitespace
//! that precedes the marker, so an imported pretty-printed document comes out with its
//! original layout; a marker without children is dropped together with that whitespace.
//! Namespace declarations that a fragment carries only to stand alone (the same binding is
//! already in scope at its place) are left out, so the output declares namespaces where the
//! original did.
//!
//! The walk uses an explicit stack, so deep trees cannot overflow the call stack, and writes
//! through a `BufWriter`, so memory stays at the tree plus a small buffer.

use std::borrow::Cow;
use std::io::{BufWriter, Write};

use quick_xml::events::BytesStart;

use crate::error::{AmlError, Result};
use crate::fragment::Fragment;
use crate::namespaces::{declared_prefix, Binding, NamespaceScopes};
use crate::tree::{AmlTree, NodeRef};
use crate::xml_checks::unescaped_attribute_value;

enum Step<'t> {
	Enter(NodeRef<'t>),
	Separator(&'t str),
	/// The rest of a parent's fragment after its children, including its end tag.
	Leave(Cow<'t, str>),
}

impl AmlTree {
	/// Writes the whole AML document.
	pub fn to_xml<W: Write>(&self, output: W) -> Result<()> {
		let root = self.root().ok_or(AmlError::NoRootElement)?;
		let mut out = BufWriter::new(output);
		out.write_all(self.header().prolog.as_bytes())?;
		let mut scopes = NamespaceScopes::default();
		let mut steps = vec![Step::Enter(root)];
		while let Some(step) = steps.pop() {
			match step {
				Step::Enter(node) => enter(node, &mut scopes, &mut steps, &mut out)?,
				Step::Separator(text) => out.write_all(text.as_bytes())?,
				Step::Leave(text) => {
					out.write_all(text.as_bytes())?;
					scopes.pop();
				},
			}
		}
		out.write_all(self.header().epilog.as_bytes())?;
		out.flush()?;
		Ok(())
	}

	/// The whole AML document as a string.
	pub fn to_xml_string(&self) -> Result<String> {
		let mut bytes = Vec::new();
		self.to_xml(&mut bytes)?;
		// Every piece written is a `str`, so the result is UTF-8.
		String::from_utf8(bytes).map_err(|e| AmlError::InvalidFragment { reason: e.to_string() })
	}
}

fn enter<'t, W: Write>(
	node: NodeRef<'t>,
	scopes: &mut NamespaceScopes,
	steps: &mut Vec<Step<'t>>,
	out: &mut W,
) -> Result<()> {
	let fragment = node.fragment();
	let has_children = node.first_child().is_some();
	let (start_tag, kept_declarations) = start_tag_in_scope(fragment, scopes, has_children);
	out.write_all(start_tag.as_bytes())?;
	let (before, after) = fragment.around_children();
	if !has_children {
		let before = if fragment.has_children_marker() { before.trim_end() } else { before };
		out.write_all(before.as_bytes())?;
		out.write_all(after.as_bytes())?;
		return Ok(());
	}
	out.write_all(before.as_bytes())?;
	scopes.push(kept_declarations);
	let separator =
		if fragment.has_children_marker() { &before[before.trim_end().len()..] } else { "" };
	let after = if fragment.is_self_closing() {
		Cow::Owned(format!("</{}>", fragment.name()))
	} else {
		Cow::Borrowed(after)
	};
	steps.push(Step::Leave(after));
	let mut child = node.last_child();
	while let Some(current) = child {
		steps.push(Step::Enter(current));
		child = current.previous_sibling();
		if child.is_some() && !separator.is_empty() {
			steps.push(Step::Separator(separator));
		}
	}
	Ok(())
}

/// The fragment's start tag as it must appear at its place: without namespace declarations
/// that repeat the binding in scope, and opened (`<X>`) if an empty-element root gets
/// children. Also returns the declarations kept, which are in scope for the children.
fn start_tag_in_scope<'f>(
	fragment: &'f Fragment,
	scopes: &NamespaceScopes,
	open_for_children: bool,
) -> (Cow<'f, str>, Vec<Binding>) {
	let raw = fragment.start_tag();
	let self_closing = fragment.is_self_closing();
	let content_end = raw.len() - if self_closing { 2 } else { 1 };
	let content = raw.get(1..content_end).unwrap_or("");
	let tag = BytesStart::from_content(content, fragment.name().len());

	let mut kept_attributes = Vec::new();
	let mut kept_declarations = Vec::new();
	let mut dropped_any = false;
	for attribute in tag.attributes() {
		let Ok(attribute) = attribute else {
			// Validated fragments have well-formed attributes; keep such a tag untouched.
			return (Cow::Borrowed(raw), Vec::new());
		};
		if let Some(prefix) = declared_prefix(attribute.key.0) {
			let uri = unescaped_attribute_value(&attribute).unwrap_or_default();
			if scopes.resolve(prefix).unwrap_or("") == uri {
				dropped_any = true;
				continue;
			}
			kept_declarations.push(Binding { prefix: prefix.to_string(), uri });
		}
		kept_attributes.push(attribute);
	}
	let reopen = self_closing && open_for_children;
	if !dropped_any && !reopen {
		return (Cow::Borrowed(raw), kept_declarations);
	}
	let mut tag = String::with_capacity(raw.len());
	tag.push('<');
	tag.push_str(fragment.name());
	for attribute in kept_attributes {
		let quote = if attribute.value.contains('"') { '\'' } else { '"' };
		tag.push(' ');
		tag.push_str(attribute.key.0);
		tag.push('=');
		tag.push(quote);
		tag.push_str(&attribute.value);
		tag.push(quote);
	}
	// Keep the space some writers put before `/>`, so untouched layouts come out unchanged.
	tag.push_str(&content[content.trim_end().len()..]);
	tag.push_str(if self_closing && !open_for_children { "/>" } else { ">" });
	(Cow::Owned(tag), kept_declarations)
}
