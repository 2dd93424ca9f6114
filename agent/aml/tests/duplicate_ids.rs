//! A real file whose IDs repeat (copied interfaces, as the AutomationML Editor writes them):
//! refused as it is, with the place; repaired, every later copy renamed and nothing else
//! in the file touched.

use dt_aml::{repair_duplicate_ids, AmlError, AmlTree, IdRepair};

const REPEATED: [&str; 4] = [
	"7ab1bde4-e5f3-4ff7-9598-15625dd416fb",
	"eb4dd986-8342-4c63-82de-b559bef30f24",
	"e9080c41-ebe2-4792-8b40-f7432be8aaaf",
	"737791db-44b9-41cc-b0a2-deb6e5237120",
];

fn master_file() -> String {
	let path = dt_aml::examples::example_file("duplicate-ids/MasterDatei.aml");
	std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_real_file_is_refused_at_the_first_repeated_id() {
	match AmlTree::parse_str(&master_file()) {
		Err(AmlError::DuplicateIdInDocument { at, id }) => {
			assert_eq!((at.line, id.as_str()), (328, REPEATED[0]));
		},
		other => panic!("expected a duplicate-ID refusal, got {other:?}"),
	}
}

#[test]
fn the_repair_renames_the_later_copies_and_touches_nothing_else() {
	let original = master_file();
	let mut guids = 0;
	let repaired = repair_duplicate_ids(&original, || {
		guids += 1;
		format!("00000000-0000-4000-8000-{guids:012}")
	})
	.unwrap();

	let renamed: Vec<(u64, &str)> = repaired
		.repairs
		.iter()
		.map(|repair| match repair {
			IdRepair::Renamed { line, old, .. } => (*line, old.as_str()),
			other => panic!("nothing in this file refers to the copies: {other}"),
		})
		.collect();
	assert_eq!(
		renamed,
		[(328, REPEATED[0]), (329, REPEATED[1]), (511, REPEATED[2]), (512, REPEATED[3])]
	);

	let tree = AmlTree::parse_str(&repaired.text).expect("the repaired file reads");
	for (n, id) in REPEATED.iter().enumerate() {
		assert!(tree.get(id).is_some(), "the first {id} keeps its ID");
		assert!(tree.get(&format!("00000000-0000-4000-8000-{:012}", n + 1)).is_some());
	}
	// Only the four ID values changed: the same lines, identical but for those.
	let changed: Vec<usize> = original
		.lines()
		.zip(repaired.text.lines())
		.enumerate()
		.filter(|(_, (before, after))| before != after)
		.map(|(index, _)| index + 1)
		.collect();
	assert_eq!(changed, [328, 329, 511, 512]);
	assert_eq!(original.lines().count(), repaired.text.lines().count());
}
