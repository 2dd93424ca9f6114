//! Malformed and hostile input gives clear errors (with line and column), never a panic.

use dt_aml::{parse_snippet, AmlError, AmlTree, Position, MAX_DEPTH};

fn parse_error(input: &str) -> AmlError {
	AmlTree::parse_str(input).expect_err("input must be rejected")
}

fn at(line: u64, column: u64) -> Position {
	Position { line, column }
}

#[test]
fn mismatched_end_tag_reports_line_and_column() {
	let err = parse_error(
		"<CAEXFile>\n  <InstanceHierarchy Name=\"P\">\n  </InstanceHierarch>\n</CAEXFile>",
	);
	match err {
		AmlError::Malformed { at: position, ref message } => {
			assert_eq!(position, at(3, 3), "{err}");
			assert!(message.contains("InstanceHierarchy"), "{message}");
		},
		other => panic!("unexpected {other}"),
	}
}

#[test]
fn line_and_column_survive_a_bom_and_multibyte_text() {
	let err = parse_error(
		"\u{FEFF}<CAEXFile>\n<Description>Füllstand</Description><x y='1' y='2'/>\n</CAEXFile>",
	);
	assert!(matches!(err, AmlError::Malformed { at: p, .. } if p == at(2, 37)), "{err}");
}

#[test]
fn unclosed_document_names_the_open_element() {
	let err = parse_error("<CAEXFile>\n  <InstanceHierarchy Name=\"P\">\n");
	assert!(
		matches!(&err, AmlError::Malformed { message, .. } if message.contains("InstanceHierarchy")),
		"{err}"
	);
}

#[test]
fn duplicate_ids_name_the_id_and_its_place() {
	let err = parse_error(
        "<CAEXFile>\n<InstanceHierarchy Name=\"P\">\n<InternalElement ID=\"a\"/>\n  <InternalElement ID=\"a\"/>\n</InstanceHierarchy>\n</CAEXFile>",
    );
	assert!(
		matches!(&err, AmlError::DuplicateIdInDocument { id, at: p } if id == "a" && *p == at(4, 3)),
		"{err}"
	);
}

#[test]
fn unknown_entities_are_rejected_with_their_name() {
	let err = parse_error("<CAEXFile>\n<Description>a&nbsp;b</Description></CAEXFile>");
	assert!(
		matches!(&err, AmlError::UnknownEntity { name, at: p } if name == "nbsp" && *p == at(2, 15)),
		"{err}"
	);
	let err = parse_error("<CAEXFile><x a='&nbsp;'/></CAEXFile>");
	assert!(matches!(err, AmlError::Malformed { .. }), "{err}");
}

#[test]
fn non_utf8_encodings_are_refused() {
	let err = AmlTree::parse(&b"\xFF\xFE<\x00a\x00/\x00>\x00"[..]).unwrap_err();
	assert!(
		matches!(&err, AmlError::UnsupportedEncoding { encoding } if encoding == "UTF-16"),
		"{err}"
	);
	let err = parse_error("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><CAEXFile/>");
	assert!(
		matches!(&err, AmlError::UnsupportedEncoding { encoding } if encoding == "ISO-8859-1"),
		"{err}"
	);
	let err = AmlTree::parse(&b"<CAEXFile>\n<D>\xFF</D></CAEXFile>"[..]).unwrap_err();
	assert!(matches!(err, AmlError::Malformed { .. }), "{err}");
}

#[test]
fn text_between_child_nodes_is_mixed_content() {
	let err = parse_error("<CAEXFile><InstanceHierarchy Name='P'><InternalElement ID='a'/>loose text<InternalElement ID='b'/></InstanceHierarchy></CAEXFile>");
	assert!(matches!(&err, AmlError::MixedContent { text, .. } if text == "loose text"), "{err}");
}

#[test]
fn structural_mistakes() {
	assert!(matches!(parse_error(""), AmlError::NoRootElement));
	assert!(matches!(parse_error("<!-- only a comment -->"), AmlError::NoRootElement));
	assert!(matches!(parse_error("<a/><b/>"), AmlError::Malformed { .. }));
	assert!(matches!(parse_error("text<a/>"), AmlError::Malformed { .. }));
	assert!(matches!(parse_error("<a><b ID=''/></a>"), AmlError::EmptyId { .. }));
	assert!(matches!(
		parse_error("<a><?dt-children?></a>"),
		AmlError::ReservedProcessingInstruction { .. }
	));
	assert!(matches!(parse_error("<a><!-- bad -- comment --></a>"), AmlError::Malformed { .. }));
	assert!(matches!(parse_error("<a><b></a>"), AmlError::Malformed { .. }));
	assert!(matches!(parse_error("<a x='1></a>"), AmlError::Malformed { .. }));
}

#[test]
fn deep_nesting_is_cut_off_without_overflowing_the_stack() {
	let depth = MAX_DEPTH + 10;
	let doc = format!("{}{}", "<a>".repeat(depth), "</a>".repeat(depth));
	assert!(matches!(parse_error(&doc), AmlError::TooDeep { limit, .. } if limit == MAX_DEPTH));
	// Just below the limit, a chain of ID-carrying elements works and exports again.
	let depth = MAX_DEPTH - 1;
	let doc: String =
		(0..depth).map(|i| format!("<e ID='n{i}'>")).collect::<String>() + &"</e>".repeat(depth);
	let tree = AmlTree::parse_str(&doc).unwrap();
	assert_eq!(tree.len(), depth);
	assert_eq!(tree.to_xml_string().unwrap(), doc);
}

#[test]
fn many_unnamed_fillers_stay_linear() {
	// 20,000 ID-less siblings between two child nodes all become filler nodes with suffixes.
	let doc = format!("<r><a ID='1'/>{}<a ID='2'/></r>", "<f/>".repeat(20_000));
	let tree = AmlTree::parse_str(&doc).unwrap();
	assert_eq!(tree.len(), 20_003);
	assert!(tree.contains("/r/f#20000"));
	assert_eq!(tree.to_xml_string().unwrap(), doc);
}

#[test]
fn snippet_errors() {
	assert!(matches!(parse_snippet("".as_bytes(), Some("p"), None), Err(AmlError::NoRootElement)));
	let err = parse_snippet("<a ID='x'>\n<b ID='x'/></a>".as_bytes(), Some("p"), None).unwrap_err();
	assert!(matches!(err, AmlError::DuplicateIdInDocument { at: p, .. } if p == at(2, 1)));
}

#[test]
fn export_of_an_empty_tree_is_an_error() {
	let mut tree = AmlTree::parse_str("<CAEXFile/>").unwrap();
	tree.remove("/CAEXFile").unwrap();
	assert!(matches!(tree.to_xml_string(), Err(AmlError::NoRootElement)));
}

#[test]
fn prefixes_no_declaration_binds_are_refused_where_they_are_used() {
	let err = parse_error(
		"<CAEXFile>\n<InstanceHierarchy Name=\"P\">\n<InternalElement ID=\"a\" xsi:type=\"t\"/>\n</InstanceHierarchy>\n</CAEXFile>",
	);
	assert!(
		matches!(&err, AmlError::UnboundPrefix { prefix, at: p } if prefix == "xsi" && *p == at(3, 1)),
		"{err}"
	);
	let err = parse_error("<CAEXFile><p:Extra/></CAEXFile>");
	assert!(matches!(&err, AmlError::UnboundPrefix { prefix, .. } if prefix == "p"), "{err}");
	// A declaration binds its prefix for the element and what it contains, and `xml` is
	// always bound.
	AmlTree::parse_str(
		"<CAEXFile xmlns:p=\"urn:p\"><p:Extra xml:lang=\"de\"><p:Inner p:a=\"1\"/></p:Extra></CAEXFile>",
	)
	.unwrap();
	let err = parse_snippet(&b"<InternalElement ID=\"s\" xsi:type=\"t\"/>"[..], Some("p"), None)
		.expect_err("a snippet declares its prefixes");
	assert!(matches!(&err, AmlError::UnboundPrefix { prefix, .. } if prefix == "xsi"), "{err}");
}

#[test]
fn a_doctype_or_processing_instruction_around_the_root_is_refused() {
	for document in [
		"<?xml version=\"1.0\"?>\n<!DOCTYPE CAEXFile [<!ENTITY x \"y\">]>\n<CAEXFile/>",
		"<?xml-stylesheet href=\"steal.xsl\"?>\n<CAEXFile/>",
		"<CAEXFile/>\n<?pi after?>",
	] {
		let err = parse_error(document);
		assert!(matches!(err, AmlError::NotAllowedAroundRoot { .. }), "{document}: {err}");
	}
	// Inside the root they stay part of the fragments.
	AmlTree::parse_str("<CAEXFile><?pi inside?></CAEXFile>").unwrap();
}
