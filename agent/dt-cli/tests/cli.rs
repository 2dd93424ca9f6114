//! `dt` as a process against a real `dt-node` (dev chain: Alice is the only partner, Bob a
//! member of her organisation, Charlie nobody): keys, a twin created from CandyFactory.aml,
//! roles granted and revoked, and every error path the parties meet first (bad file, wrong
//! passphrase, unknown twin, no permission, not a member). The harness is in `common`.

mod common;

use common::{candy_factory, Dt, Node};
use serde_json::Value;

#[test]
fn dt_drives_a_twin_on_a_real_node() {
	let dir = tempfile::tempdir().unwrap();
	let node = Node::start(dir.path());
	let dt = Dt { node: &node, keystore: dir.path().join("keys") };

	// Keys first (no node needed); RSA-3072 generation is the slow part, so three keys only.
	let alice = dt.json(&["key", "import", "alice", "--suri", "//Alice"]);
	assert_eq!(alice["account"], "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY");
	dt.ok(&["key", "import", "bob", "--suri", "//Bob"]);
	dt.ok(&["key", "import", "charlie", "--suri", "//Charlie"]);
	let keys = dt.json(&["key", "list"]);
	assert_eq!(keys.as_array().unwrap().len(), 3, "{keys}");
	let shown = dt.ok(&["key", "show", "alice"]);
	assert!(shown.contains("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"), "{shown}");
	assert!(shown.contains(alice["rsa_fingerprint"].as_str().unwrap()), "{shown}");
	let again = dt.fails(&["key", "import", "alice", "--suri", "//Bob"]);
	assert!(again.contains("exists already"), "{again}");
	assert!(dt.fails(&["key", "show", "nobody"]).contains("no key named nobody"));

	dt.wait_for_node();
	assert_eq!(dt.json(&["twin", "list"]), Value::Array(vec![]));

	// Bad files are refused before anything is sent.
	let missing = dt.fails(&["twin", "create", "/nonexistent/plant.aml", "--as", "alice"]);
	assert!(missing.contains("cannot read the AML file /nonexistent/plant.aml"), "{missing}");
	let not_aml = dir.path().join("notes.aml");
	std::fs::write(&not_aml, "these are not the droids").unwrap();
	let error = dt.fails(&["twin", "create", not_aml.to_str().unwrap(), "--as", "alice"]);
	assert!(error.contains("is not a usable AML file"), "{error}");

	let candy = candy_factory();
	let candy_path = candy.to_str().unwrap();
	// A wrong passphrase changes nothing.
	let key_file = dir.path().join("keys/alice.json");
	let before = std::fs::read(&key_file).unwrap();
	let wrong = dt.fails_with("not it", &["twin", "create", candy_path, "--as", "alice"]);
	assert!(wrong.contains("wrong passphrase for key alice"), "{wrong}");
	assert_eq!(std::fs::read(&key_file).unwrap(), before);
	assert_eq!(dt.json(&["twin", "list"]), Value::Array(vec![]));

	// The twin, created from the file, comes back byte for byte.
	let created = dt.json(&["twin", "create", candy_path, "--as", "alice"]);
	let twin = created["twin"].as_u64().expect("a twin id");
	let twins = dt.json(&["twin", "list"]);
	assert_eq!(twins[0]["twin"], twin);
	assert_eq!(twins[0]["importing"], false);
	assert_eq!(twins[0]["elements"], created["elements"]);
	let twin_arg = twin.to_string();
	let aml = dt.ok(&["twin", "aml", &twin_arg]);
	assert_eq!(aml, std::fs::read_to_string(&candy).unwrap());
	let out_file = dir.path().join("copy.aml");
	dt.ok(&["twin", "aml", &twin_arg, "-o", out_file.to_str().unwrap()]);
	assert_eq!(std::fs::read_to_string(&out_file).unwrap(), aml);
	let tree = dt.ok(&["twin", "show", &twin_arg]);
	assert!(tree.lines().count() > 5 && tree.lines().any(|l| l.starts_with("  ")), "{tree}");

	// Unknown twins.
	for command in [["twin", "aml", "999"], ["twin", "show", "999"]] {
		let error = dt.fails(&command);
		assert!(error.contains("twin 999 does not exist"), "{error}");
	}
	let error = dt.fails(&["access", "roles", "999", "//Bob"]);
	assert!(error.contains("twin 999 does not exist"), "{error}");

	// Roles: Alice (owner) grants Bob maintainer; Bob may not grant; Charlie is no member.
	let granted = dt.ok(&["access", "grant", &twin_arg, "bob", "maintainer", "--as", "alice"]);
	assert!(granted.contains("granted maintainer"), "{granted}");
	let roles = dt.json(&["access", "roles", &twin_arg, "//Bob"]);
	assert_eq!(roles["roles"], serde_json::json!(["maintainer"]));
	let alice_roles = dt.json(&["access", "roles", &twin_arg, "alice"]);
	assert_eq!(alice_roles["roles"], serde_json::json!(["owner"]));
	let error = dt.fails(&["access", "grant", &twin_arg, "//Bob", "auditor", "--as", "bob"]);
	assert!(error.contains("refused by the chain: access.NotAccessManager"), "{error}");
	let error = dt.fails(&["access", "grant", &twin_arg, "//Bob", "auditor", "--as", "charlie"]);
	assert!(error.contains("the node refused to grant the role"), "{error}");
	assert!(error.contains("not a member"), "{error}");
	let error = dt.fails(&["access", "grant", &twin_arg, "//Bob", "boss", "--as", "alice"]);
	assert!(error.contains("unknown role"), "{error}");
	dt.ok(&["access", "revoke", &twin_arg, "//Bob", "maintainer", "--as", "alice"]);
	let roles = dt.json(&["access", "roles", &twin_arg, "//Bob"]);
	assert_eq!(roles["roles"], serde_json::json!([]));

	// Repeated IDs: refused with the place and the option; repaired with the option, every
	// change reported and the copy's own link following the copy.
	let copied = dir.path().join("copied.aml");
	std::fs::write(&copied, COPIED_STATION).unwrap();
	let copied_path = copied.to_str().unwrap();
	let twins_before = dt.json(&["twin", "list"]);
	let error = dt.fails(&["twin", "create", copied_path, "--as", "alice"]);
	assert!(error.contains("line 8, column"), "{error}");
	assert!(error.contains("element ID \"station\" occurs twice"), "{error}");
	assert!(error.contains("--repair-duplicate-ids"), "{error}");
	assert_eq!(dt.json(&["twin", "list"]), twins_before, "a refused file creates nothing");
	let repaired =
		dt.json(&["twin", "create", copied_path, "--repair-duplicate-ids", "--as", "alice"]);
	let repairs: Vec<&str> = repaired["repairs"]
		.as_array()
		.unwrap()
		.iter()
		.map(|r| r.as_str().unwrap())
		.collect();
	assert_eq!(
		repairs,
		[
			"line 8: <InternalElement> ID \"station\" repeats an earlier ID; now \"station_2\"",
			"line 9: <InternalElement> ID \"sensor\" repeats an earlier ID; now \"sensor_2\"",
			"line 10: RefPartnerSideA \"sensor:Out\" follows the renamed element: \"sensor_2:Out\"",
		]
	);
	let repaired_twin = repaired["twin"].to_string();
	let aml = dt.ok(&["twin", "aml", &repaired_twin]);
	assert!(aml.contains(r#"<InternalLink Name="L" RefPartnerSideA="sensor_2:Out"/>"#), "{aml}");
	assert_eq!(
		std::fs::read_to_string(&copied).unwrap(),
		COPIED_STATION,
		"the file is left as it was"
	);
}

/// A line whose second station was copied from the first with its IDs, as engineering
/// tools write when an instance is copied.
const COPIED_STATION: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<CAEXFile FileName="copied.aml" SchemaVersion="2.15">
  <InstanceHierarchy Name="Line">
    <InternalElement Name="Station1" ID="station">
      <InternalElement Name="Sensor" ID="sensor"/>
      <InternalLink Name="L" RefPartnerSideA="sensor:Out"/>
    </InternalElement>
    <InternalElement Name="Station2" ID="station">
      <InternalElement Name="Sensor" ID="sensor"/>
      <InternalLink Name="L" RefPartnerSideA="sensor:Out"/>
    </InternalElement>
  </InstanceHierarchy>
</CAEXFile>
"#;
