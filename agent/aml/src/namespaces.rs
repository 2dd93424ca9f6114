//! Namespace declarations in scope while walking a document.
//!
//! Only the mapping from prefix to URI matters here: fragments cut out of a namespaced
//! document get the declarations they use copied onto their root (see `fragment`), the
//! exporter drops declarations that repeat what is already in scope, and the structural
//! comparison resolves names to (URI, local name). All three walk elements in document
//! order, so one stack with a mark per open element serves them all.

/// A namespace declaration: `xmlns="uri"` has the prefix "" (the default namespace).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Binding {
	pub(crate) prefix: String,
	pub(crate) uri: String,
}

/// Declarations of all open elements, innermost last.
#[derive(Default, Debug)]
pub(crate) struct NamespaceScopes {
	bindings: Vec<Binding>,
	/// `bindings.len()` when each open element was entered.
	marks: Vec<usize>,
}

impl NamespaceScopes {
	/// Enters an element that declares `declared`.
	pub(crate) fn push(&mut self, declared: impl IntoIterator<Item = Binding>) {
		self.marks.push(self.bindings.len());
		self.bindings.extend(declared);
	}

	/// Leaves the innermost element.
	pub(crate) fn pop(&mut self) {
		if let Some(mark) = self.marks.pop() {
			self.bindings.truncate(mark);
		}
	}

	/// Number of bindings that were visible just outside the open element at `depth` (0 = root).
	pub(crate) fn len_outside(&self, depth: usize) -> usize {
		self.marks.get(depth).copied().unwrap_or(self.bindings.len())
	}

	/// The bindings visible where `len` was taken, outermost first.
	pub(crate) fn visible(&self, len: usize) -> &[Binding] {
		&self.bindings[..len.min(self.bindings.len())]
	}

	/// URI bound to `prefix` now.
	pub(crate) fn resolve(&self, prefix: &str) -> Option<&str> {
		lookup(&self.bindings, prefix)
	}
}

/// URI bound to `prefix` in `bindings` (innermost declaration wins).
pub(crate) fn lookup<'b>(bindings: &'b [Binding], prefix: &str) -> Option<&'b str> {
	bindings.iter().rev().find(|b| b.prefix == prefix).map(|b| b.uri.as_str())
}

/// The namespace prefix declared by an attribute key, if it is a declaration:
/// `xmlns` declares "", `xmlns:p` declares "p".
pub(crate) fn declared_prefix(attribute_key: &str) -> Option<&str> {
	if attribute_key == "xmlns" {
		Some("")
	} else {
		attribute_key.strip_prefix("xmlns:")
	}
}

/// Splits a qualified name into (prefix, local name); the prefix is "" when absent.
pub(crate) fn split_qname(qname: &str) -> (&str, &str) {
	match qname.split_once(':') {
		Some((prefix, local)) => (prefix, local),
		None => ("", qname),
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn binding(prefix: &str, uri: &str) -> Binding {
		Binding { prefix: prefix.into(), uri: uri.into() }
	}

	#[test]
	fn inner_declarations_shadow_and_are_dropped_on_pop() {
		let mut scopes = NamespaceScopes::default();
		scopes.push([binding("", "urn:a"), binding("x", "urn:x")]);
		scopes.push([binding("", "urn:b")]);
		let outer = scopes.len_outside(1);
		assert_eq!(scopes.resolve(""), Some("urn:b"));
		assert_eq!(lookup(scopes.visible(outer), ""), Some("urn:a"));
		scopes.pop();
		assert_eq!(scopes.resolve(""), Some("urn:a"));
		assert_eq!(scopes.resolve("y"), None);
	}

	#[test]
	fn recognises_declarations_and_prefixes() {
		assert_eq!(declared_prefix("xmlns"), Some(""));
		assert_eq!(declared_prefix("xmlns:xsi"), Some("xsi"));
		assert_eq!(declared_prefix("xmlnsfoo"), None);
		assert_eq!(split_qname("caex:InternalElement"), ("caex", "InternalElement"));
		assert_eq!(split_qname("InternalElement"), ("", "InternalElement"));
	}
}
