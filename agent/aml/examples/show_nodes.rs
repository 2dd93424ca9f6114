//! Prints the nodes of an AML file as the chain would store them.
//!
//! `cargo run -p dt-aml --example show_nodes -- path/to/file.aml`

use std::fs::File;
use std::io::BufReader;

fn main() -> Result<(), Box<dyn std::error::Error>> {
	let path = std::env::args().nth(1).ok_or("usage: show_nodes FILE.aml")?;
	let tree = dt_aml::AmlTree::parse(BufReader::new(File::open(&path)?))?;
	for record in tree.records() {
		println!(
			"== {}\n   parent: {}\n   previous sibling: {}\n{}\n",
			record.id,
			record.parent.as_deref().unwrap_or("-"),
			record.previous_sibling.as_deref().unwrap_or("-"),
			record.fragment.as_str()
		);
	}
	Ok(())
}
