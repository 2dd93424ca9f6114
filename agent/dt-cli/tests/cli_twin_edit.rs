//! `dt twin insert | remove | confidentiality | source-* | declare-program | remove-program`
//! against a real `dt-node --dev`, on the example bottling plant: every change lands in the
//! chain's specification, and refusals (unknown element, no role, malformed snippet) change
//! nothing; `dt access permissions` and `dt member` on the same chain.

mod common;

use common::{Dt, Node};
use std::path::PathBuf;

fn bottling_plant() -> PathBuf {
	PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/demo/bottling-plant.aml")
}

#[test]
fn dt_edits_a_twins_specification_permissions_and_members() {
	let dir = tempfile::tempdir().unwrap();
	let node = Node::start(dir.path());
	let dt = Dt { node: &node, keystore: dir.path().join("keys") };
	dt.ok(&["key", "import", "alice", "--suri", "//Alice"]);
	dt.ok(&["key", "import", "bob", "--suri", "//Bob"]);
	dt.wait_for_node();

	let created = dt.json(&["twin", "create", bottling_plant().to_str().unwrap(), "--as", "alice"]);
	let twin = created["twin"].as_u64().unwrap().to_string();

	// Programs come with the safety bounds their AML declares.
	let declared = dt.json(&[
		"twin",
		"declare-program",
		&twin,
		"set-fill-volume-1",
		"SetFillVolume",
		"--as",
		"alice",
	]);
	assert_eq!(declared["parameters"], serde_json::json!(["volume: decimal/1"]));
	let error =
		dt.fails(&["twin", "declare-program", &twin, "no-such-element", "Run", "--as", "alice"]);
	assert!(error.contains("has no element no-such-element"), "{error}");
	dt.ok(&[
		"twin",
		"remove-program",
		&twin,
		"set-fill-volume-1",
		"SetFillVolume",
		"--as",
		"alice",
	]);
	// Declared on the station the device runs it on, with the interface's parameters.
	let declared = dt.json(&[
		"twin",
		"declare-program",
		&twin,
		"filling-station-2",
		"SetFillVolume",
		"--parameters-from",
		"set-fill-volume-2",
		"--as",
		"alice",
	]);
	assert_eq!(declared["element"], "filling-station-2");
	assert_eq!(declared["parameters"], serde_json::json!(["volume: decimal/1"]));
	let error = dt.fails(&[
		"twin",
		"declare-program",
		&twin,
		"filling-station-2",
		"Run",
		"--parameters-from",
		"nowhere",
		"--as",
		"alice",
	]);
	assert!(error.contains("has no element nowhere"), "{error}");

	// A snippet with a nested element becomes two elements, in place.
	let snippet = r#"<InternalElement Name="Capper" ID="capper"><InternalElement Name="TorqueSensor" ID="torque-sensor"/></InternalElement>"#;
	let inserted = dt.json(&[
		"twin",
		"insert",
		&twin,
		"--xml",
		snippet,
		"--parent",
		"bottling-line",
		"--after",
		"filling-station-2",
		"--as",
		"alice",
	]);
	assert_eq!(inserted["inserted"], serde_json::json!(["capper", "torque-sensor"]));
	let aml = dt.ok(&["twin", "aml", &twin]);
	let capper = aml.find(r#"ID="capper""#).expect("the capper is in the AML");
	assert!(aml.find(r#"ID="filling-station-2""#).unwrap() < capper);
	assert!(aml.find(r#"ID="torque-sensor""#).unwrap() > capper);

	// Refusals change nothing.
	let error = dt.fails(&[
		"twin", "insert", &twin, "--xml", "<Broken", "--parent", "conveyor", "--as", "alice",
	]);
	assert!(error.contains("not an insertable AML element"), "{error}");
	let snippet = r#"<InternalElement Name="Extra" ID="extra"/>"#;
	let error = dt
		.fails(&["twin", "insert", &twin, "--xml", snippet, "--parent", "conveyor", "--as", "bob"]);
	assert!(error.contains("refused by the chain: twinSpec."), "{error}");
	// A snippet goes in all or none: its inner element's id is taken, so its outer element
	// is not inserted either.
	let snippet = r#"<InternalElement Name="Extra" ID="extra"><InternalElement Name="Copy" ID="conveyor"/></InternalElement>"#;
	let error = dt.fails(&[
		"twin",
		"insert",
		&twin,
		"--xml",
		snippet,
		"--parent",
		"bottling-line",
		"--as",
		"alice",
	]);
	assert!(
		error.contains("none of the 2 elements was inserted")
			&& error.contains("twinSpec.DuplicateElement"),
		"{error}"
	);
	let error = dt.fails(&["twin", "remove", &twin, "ghost", "--as", "alice"]);
	assert!(error.contains("has no element ghost"), "{error}");
	let error = dt.fails(&["twin", "remove", "99", "capper", "--as", "alice"]);
	assert!(error.contains("twin 99 does not exist"), "{error}");
	assert_eq!(dt.ok(&["twin", "aml", &twin]), aml);

	let removed = dt.json(&["twin", "remove", &twin, "capper", "--as", "alice"]);
	assert_eq!(removed["removed"].as_array().unwrap().len(), 2, "{removed}");
	assert!(!dt.ok(&["twin", "aml", &twin]).contains("torque-sensor"));

	// Confidentiality levels.
	dt.ok(&["twin", "confidentiality", &twin, "conveyor", "secret", "--as", "alice"]);
	let error = dt.fails(&["twin", "confidentiality", &twin, "conveyor", "top", "--as", "alice"]);
	assert!(error.contains("unknown level"), "{error}");

	// External sources.
	dt.ok(&[
		"twin",
		"source-add",
		&twin,
		"opc.tcp://plant.example:4840/line",
		"--element",
		"conveyor",
		"--kind",
		"opc-ua",
		"--description",
		"line controller",
		"--as",
		"alice",
	]);
	let sources = dt.json(&["twin", "sources", &twin]);
	assert_eq!(sources[0]["uri"], "opc.tcp://plant.example:4840/line");
	assert_eq!(sources[0]["kind"], "opcua");
	let id = sources[0]["id"].as_u64().unwrap().to_string();
	dt.ok(&["twin", "source-remove", &twin, &id, "--as", "alice"]);
	assert_eq!(dt.json(&["twin", "sources", &twin]), serde_json::json!([]));

	// A role's permissions: the device may rewrite the first station's part, nothing else.
	let device = dt.json(&["access", "permissions", &twin, "device"]);
	assert!(device["permissions"].as_array().unwrap().contains(&"run-programs".into()), "{device}");
	let changed = dt.json(&[
		"access",
		"permissions",
		&twin,
		"device",
		"--add",
		"write-spec:filling-station-1",
		"--remove",
		"register-feeds",
		"--as",
		"alice",
	]);
	let permissions = changed["permissions"].as_array().unwrap();
	assert!(permissions.contains(&"write-spec:filling-station-1".into()), "{changed}");
	assert!(!permissions.contains(&"register-feeds".into()), "{changed}");
	assert_eq!(
		dt.json(&["access", "permissions", &twin, "device"])["permissions"],
		changed["permissions"]
	);
	let error = dt.fails(&[
		"access",
		"permissions",
		&twin,
		"device",
		"--add",
		"manage-access",
		"--as",
		"bob",
	]);
	assert!(error.contains("refused by the chain: access.NotAccessManager"), "{error}");
	let error =
		dt.fails(&["access", "permissions", &twin, "device", "--add", "fly", "--as", "alice"]);
	assert!(error.contains("unknown permission"), "{error}");
	let error = dt.fails(&["access", "permissions", &twin, "device", "--add", "manage-access"]);
	assert!(error.contains("needs --as"), "{error}");

	// Members: Alice (her organisation's admin) adds Dave with his RSA key; Bob may not.
	dt.ok(&["key", "import", "dave", "--suri", "//Dave"]);
	let dave = dt.json(&["member", "show", "dave"]);
	assert_eq!(dave["organisation"], serde_json::Value::Null);
	let error = dt.fails(&["member", "add", "dave", "--as", "bob"]);
	assert!(error.contains("refused by the chain: consortium."), "{error}");
	let error = dt.fails(&["member", "add", "//Ferdie", "--as", "alice"]);
	assert!(error.contains("--rsa-key"), "{error}");
	// An admin cannot put another party's key on an account: Dave's public key and the
	// proof Dave made for his own account do not serve for Ferdie's.
	let dave_proof = dt.json(&["key", "proof", "dave"]);
	let dave_der = dir.path().join("dave.der");
	let dave_proof_file = dir.path().join("dave.proof");
	std::fs::write(&dave_der, hex::decode(dave_proof["rsa_public_key"].as_str().unwrap()).unwrap())
		.unwrap();
	std::fs::write(&dave_proof_file, dave_proof["key_proof"].as_str().unwrap()).unwrap();
	let (der, proof) = (dave_der.to_str().unwrap(), dave_proof_file.to_str().unwrap());
	let add_with_daves_key =
		|who| ["member", "add", who, "--rsa-key", der, "--key-proof", proof, "--as", "alice"];
	let error = dt.fails(&add_with_daves_key("//Ferdie"));
	assert!(error.contains("refused by the chain: consortium.KeyProofInvalid"), "{error}");
	// With the proof he made on his side, the admin adds Dave by address and key file.
	let dave_address = dave_proof["account"].as_str().unwrap();
	dt.ok(&add_with_daves_key(dave_address));
	dt.ok(&["member", "remove", "dave", "--as", "alice"]);
	dt.ok(&["member", "add", "dave", "--as", "alice"]);
	let dave_key = dt.json(&["key", "show", "dave"]);
	let dave = dt.json(&["member", "show", "dave"]);
	assert_eq!(dave["organisation"], 0);
	assert_eq!(dave["encryption_key"], dave_key["rsa_public_key"]);
	dt.ok(&["access", "grant", &twin, "dave", "owner", "--as", "alice"]);
	assert_eq!(dt.json(&["access", "roles", &twin, "dave"])["roles"], serde_json::json!(["owner"]));
	dt.ok(&["member", "remove", "dave", "--as", "alice"]);
	assert_eq!(dt.json(&["member", "show", "dave"])["organisation"], serde_json::Value::Null);
	// Added again, Dave gets none of the roles he held before he was removed.
	dt.ok(&["member", "add", "dave", "--as", "alice"]);
	assert_eq!(dt.json(&["access", "roles", &twin, "dave"])["roles"], serde_json::json!([]));
	let error = dt.fails(&["access", "grant", &twin, "bob", "auditor", "--as", "dave"]);
	assert!(error.contains("refused by the chain: access.NotAccessManager"), "{error}");
}
