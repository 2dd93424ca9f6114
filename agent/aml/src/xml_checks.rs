//! Small checks on XML tokens shared by the document reader, the fragment validator and the
//! structural comparison.
//!
//! Fragments must stand alone, so they may not depend on a DTD: only the five predefined
//! entities and character references are accepted, in text and in attribute values alike.

use quick_xml::events::attributes::Attribute;
use quick_xml::events::BytesRef;
use quick_xml::XmlVersion;

const PREDEFINED_ENTITIES: [&str; 5] = ["lt", "gt", "amp", "apos", "quot"];

/// Ok if `reference` (the `x` of `&x;`) needs no DTD; otherwise the entity's name.
pub(crate) fn check_entity_reference(reference: &BytesRef<'_>) -> Result<(), String> {
	let name: &str = reference;
	if reference.is_char_ref() {
		return match reference.resolve_char_ref() {
			Ok(Some(_)) => Ok(()),
			_ => Err(name.to_string()),
		};
	}
	if PREDEFINED_ENTITIES.contains(&name) {
		Ok(())
	} else {
		Err(name.to_string())
	}
}

/// The text a reference stands for (empty for references [`check_entity_reference`] rejects).
pub(crate) fn resolve_entity_reference(reference: &BytesRef<'_>) -> String {
	if let Ok(Some(c)) = reference.resolve_char_ref() {
		return c.to_string();
	}
	let name: &str = reference;
	match name {
		"lt" => "<",
		"gt" => ">",
		"amp" => "&",
		"apos" => "'",
		"quot" => "\"",
		_ => "",
	}
	.to_string()
}

/// An attribute's value as the XML spec defines it (references resolved, whitespace
/// normalised), or a message naming the attribute when the value is not self-contained.
pub(crate) fn unescaped_attribute_value(attribute: &Attribute<'_>) -> Result<String, String> {
	attribute
		.normalized_value(XmlVersion::Implicit1_0)
		.map(|value| value.into_owned())
		.map_err(|e| format!("attribute {}: {e}", attribute.key.0))
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn only_predefined_and_character_references_pass() {
		for ok in ["amp", "lt", "gt", "apos", "quot", "#65", "#x41"] {
			assert!(check_entity_reference(&BytesRef::new(ok)).is_ok(), "{ok}");
		}
		for bad in ["nbsp", "#xZZ", "#0"] {
			assert!(check_entity_reference(&BytesRef::new(bad)).is_err(), "{bad}");
		}
		assert_eq!(resolve_entity_reference(&BytesRef::new("#x41")), "A");
		assert_eq!(resolve_entity_reference(&BytesRef::new("amp")), "&");
	}
}
