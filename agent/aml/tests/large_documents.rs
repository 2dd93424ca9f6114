//! Generated documents: a 50,000-element round trip in every test run, and an ignored
//! measurement of time and peak memory for a ~30 MB file (see `scripts/bench-large-file.sh`).

mod common;

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::time::Instant;

use common::{assert_same_element_tree, generated_plant, write_generated_plant};
use dt_aml::{equal_as_element_trees, AmlTree};

/// 50 lines of 333 machines with 2 interfaces each: 50 * (1 + 3 * 333) = 50,000 ID elements.
const LINES: usize = 50;
const MACHINES_PER_LINE: usize = 333;

#[test]
fn fifty_thousand_elements_round_trip() {
	for namespaced in [false, true] {
		let original = generated_plant(LINES, MACHINES_PER_LINE, namespaced);
		let tree = AmlTree::parse_str(&original).unwrap();
		let id_nodes = tree.iter().filter(|node| !node.is_structural()).count();
		assert_eq!(id_nodes, 50_000 + 1, "50,000 plant elements plus the library interface");
		let exported = tree.to_xml_string().unwrap();
		assert_same_element_tree(&original, &exported);
		assert!(exported == original, "the generated layout is reproduced exactly");

		// Spot checks on the structure the chain will see.
		let machine = tree.get("m-7-100").unwrap();
		assert_eq!(machine.parent().unwrap().id(), "line-7");
		assert_eq!(machine.previous_sibling().unwrap().id(), "m-7-99");
		let interfaces: Vec<_> = machine.children().map(|c| c.id().to_string()).collect();
		assert_eq!(interfaces, ["m-7-100-power", "m-7-100-data"]);
		if namespaced {
			assert!(machine.fragment().as_str().contains(r#"xmlns="http://www.dke.de/CAEX""#));
		}
	}
}

/// Run with `scripts/bench-large-file.sh` (release build); prints figures, asserts no timing.
#[test]
#[ignore = "measurement: ~30 MB file, run in release via scripts/bench-large-file.sh"]
fn large_file_time_and_memory() {
	let dir = std::env::temp_dir().join(format!("dt-aml-bench-{}", std::process::id()));
	std::fs::create_dir_all(&dir).unwrap();
	let input = dir.join("large.aml");
	let output = dir.join("large-exported.aml");
	{
		let mut out = BufWriter::new(File::create(&input).unwrap());
		write_generated_plant(&mut out, 200, 270, true).unwrap();
		out.flush().unwrap();
	}
	let size = std::fs::metadata(&input).unwrap().len();
	let baseline = peak_memory_kib();

	let started = Instant::now();
	let tree = AmlTree::parse(BufReader::new(File::open(&input).unwrap())).unwrap();
	let parse_time = started.elapsed();
	let after_parse = peak_memory_kib();

	let started = Instant::now();
	tree.to_xml(File::create(&output).unwrap()).unwrap();
	let export_time = started.elapsed();
	let after_export = peak_memory_kib();

	let started = Instant::now();
	let equal = equal_as_element_trees(
		BufReader::new(File::open(&input).unwrap()),
		BufReader::new(File::open(&output).unwrap()),
	)
	.unwrap();
	let compare_time = started.elapsed();

	println!("input:   {:.1} MB, {} nodes", size as f64 / 1e6, tree.len());
	println!("parse:   {:.2} s", parse_time.as_secs_f64());
	println!("export:  {:.2} s", export_time.as_secs_f64());
	println!(
		"compare: {:.2} s (streamed, element trees equal: {equal})",
		compare_time.as_secs_f64()
	);
	match (baseline, after_parse, after_export) {
		(Some(base), Some(parse), Some(export)) => println!(
			"peak RSS: {:.1} MB before parsing, {:.1} MB after parsing, {:.1} MB after export",
			base as f64 / 1024.0,
			parse as f64 / 1024.0,
			export as f64 / 1024.0
		),
		_ => println!("peak RSS: not available on this platform"),
	}
	drop(tree);
	std::fs::remove_dir_all(&dir).unwrap();
	assert!(equal);
}

/// Peak resident set size of this process (Linux `VmHWM`), in KiB.
fn peak_memory_kib() -> Option<u64> {
	let status = std::fs::read_to_string("/proc/self/status").ok()?;
	let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
	line.split_whitespace().nth(1)?.parse().ok()
}
