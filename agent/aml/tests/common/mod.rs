//! Helpers shared by the integration tests.

#![allow(dead_code)]

use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;

use dt_aml::{first_difference, AmlTree};

/// `shared/aml`, which lies beside the repository root (locally and in CI alike).
pub fn shared_aml_dir() -> PathBuf {
	let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/aml");
	assert!(dir.is_dir(), "shared AML test files not found at {}", dir.display());
	dir
}

/// All `.aml` files in `shared/aml`, sorted.
pub fn shared_aml_files() -> Vec<PathBuf> {
	let mut files: Vec<PathBuf> = std::fs::read_dir(shared_aml_dir())
		.expect("shared/aml is readable")
		.map(|entry| entry.expect("directory entry").path())
		.filter(|path| path.extension().is_some_and(|ext| ext.eq_ignore_ascii_case("aml")))
		.collect();
	files.sort();
	assert!(!files.is_empty(), "no .aml files in shared/aml");
	files
}

pub fn parse_file(path: &PathBuf) -> AmlTree {
	let file = File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
	AmlTree::parse(BufReader::new(file)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Panics with the first structural difference between two documents.
pub fn assert_same_element_tree(expected: &str, actual: &str) {
	if let Some(difference) =
		first_difference(expected.as_bytes(), actual.as_bytes()).expect("both parse")
	{
		let shown: String = actual.chars().take(3000).collect();
		panic!("documents differ {difference}\n--- actual (start) ---\n{shown}");
	}
}

/// IDs of a node's children.
pub fn child_ids(tree: &AmlTree, id: &str) -> Vec<String> {
	tree.get(id)
		.unwrap_or_else(|| panic!("no node {id}"))
		.children()
		.map(|c| c.id().to_string())
		.collect()
}

/// Writes a generated CAEX plant: `lines` production lines of `machines_per_line` machines,
/// each machine with two interfaces, attributes, a role and a link, so the file has
/// `lines * (1 + 3 * machines_per_line)` ID-carrying elements and about 600 bytes per machine.
/// With `namespaced`, it is CAEX 3.0 in the CAEX namespace, otherwise CAEX 2.15 without.
pub fn write_generated_plant(
	out: &mut impl std::io::Write,
	lines: usize,
	machines_per_line: usize,
	namespaced: bool,
) -> std::io::Result<()> {
	let root_attributes = if namespaced {
		r#"SchemaVersion="3.0" xmlns="http://www.dke.de/CAEX" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance""#
	} else {
		r#"SchemaVersion="2.15" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance""#
	};
	writeln!(out, "\u{FEFF}<?xml version=\"1.0\" encoding=\"utf-8\"?>")?;
	writeln!(out, "<CAEXFile FileName=\"generated.aml\" {root_attributes}>")?;
	writeln!(out, "\t<!-- generated for dt-aml tests -->")?;
	writeln!(out, "\t<AdditionalInformation AutomationMLVersion=\"2.0\" />")?;
	writeln!(out, "\t<InstanceHierarchy Name=\"GeneratedPlant\">")?;
	writeln!(out, "\t\t<Version>1.0</Version>")?;
	for line in 0..lines {
		writeln!(out, "\t\t<InternalElement Name=\"Line{line}\" ID=\"line-{line}\">")?;
		writeln!(out, "\t\t\t<Attribute Name=\"Throughput\" AttributeDataType=\"xs:double\" Unit=\"1/h\"><Value>1200.5</Value></Attribute>")?;
		for machine in 0..machines_per_line {
			let id = format!("m-{line}-{machine}");
			writeln!(out, "\t\t\t<InternalElement Name=\"Machine {line}.{machine}\" ID=\"{id}\" RefBaseSystemUnitPath=\"Lib/Machine\">")?;
			writeln!(out, "\t\t\t\t<Attribute Name=\"Serial\" AttributeDataType=\"xs:string\"><Value>SN-{id} &amp; &lt;rev&gt;</Value></Attribute>")?;
			writeln!(out, "\t\t\t\t<Attribute Name=\"Notes\"><Value><![CDATA[<calibrated> & checked]]></Value></Attribute>")?;
			writeln!(out, "\t\t\t\t<ExternalInterface Name=\"Power\" ID=\"{id}-power\" RefBaseClassPath=\"Lib/Power\" />")?;
			writeln!(out, "\t\t\t\t<ExternalInterface Name=\"Data\" ID=\"{id}-data\" RefBaseClassPath=\"Lib/Data\" />")?;
			writeln!(out, "\t\t\t\t<SupportedRoleClass RefRoleClassPath=\"Roles/Machine\" />")?;
			writeln!(out, "\t\t\t</InternalElement>")?;
		}
		writeln!(out, "\t\t\t<InternalLink Name=\"Feed{line}\" RefPartnerSideA=\"m-{line}-0:Data\" RefPartnerSideB=\"line-{line}:Data\" />")?;
		writeln!(out, "\t\t</InternalElement>")?;
	}
	writeln!(out, "\t</InstanceHierarchy>")?;
	writeln!(out, "\t<SystemUnitClassLib Name=\"Lib\">")?;
	writeln!(out, "\t\t<SystemUnitClass Name=\"Machine\">")?;
	writeln!(out, "\t\t\t<ExternalInterface Name=\"Power\" ID=\"lib-machine-power\" RefBaseClassPath=\"Lib/Power\" />")?;
	writeln!(out, "\t\t</SystemUnitClass>")?;
	writeln!(out, "\t</SystemUnitClassLib>")?;
	writeln!(out, "</CAEXFile>")?;
	Ok(())
}

/// [`write_generated_plant`] into a string.
pub fn generated_plant(lines: usize, machines_per_line: usize, namespaced: bool) -> String {
	let mut out = Vec::new();
	write_generated_plant(&mut out, lines, machines_per_line, namespaced)
		.expect("writing to memory");
	String::from_utf8(out).expect("generated text is UTF-8")
}
