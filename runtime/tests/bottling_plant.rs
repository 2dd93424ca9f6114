//! The on-chain steps of the bottling-plant scenario, in order, against the real runtime
//! with the four-partner genesis: a fill-level sensor breaks and the device agent replaces
//! it in one transaction, the maintainer registers the maintenance report on the new
//! sensor's element, the auditor reads the trail, and a party without clearance is refused.
//! A program call travels from the maintainer to the device along the way.

use dt_primitives::{
	access::{Confidentiality, ElementId, Grantee, Permission, Role, TwinId},
	content_id::{raw_sha256_content_id, ContentId},
	feed::{Checkpoint, FeedId, ValueRange},
	program::{
		Argument, ParameterDeclaration, ParameterType, ParameterValue, ProgramArguments,
		ProgramParameters,
	},
};
use dt_runtime::{
	genesis_config_presets::{dev_encryption_keys, local_testnet_genesis},
	Access, AccountId, Documents, Feeds, Programs, Runtime, RuntimeCall, RuntimeEvent,
	RuntimeGenesisConfig, RuntimeOrigin, System, TwinSpec,
};
use frame_support::{
	assert_noop, assert_ok,
	dispatch::{DispatchErrorWithPostInfo, DispatchResultWithPostInfo},
	traits::Hooks,
	BoundedVec,
};
use pallet_dt_feeds::{FeedRegistration, FeedStatus};
use pallet_dt_programs::{CallStatus, Outcome};
use pallet_dt_twin_spec::{DocumentHeader, NewElement};
use serde_json::Value;
use sp_keyring::Sr25519Keyring::{self, Alice, Bob, Charlie, Dave, Eve, Ferdie};
use sp_runtime::traits::Dispatchable;

// The parties, as in the local four-partner consortium.
const MANUFACTURER: Sr25519Keyring = Alice;
const OWNER: Sr25519Keyring = Bob;
const MAINTAINER: Sr25519Keyring = Charlie;
const AUDITOR: Sr25519Keyring = Dave;
/// The plant's device agent: a member of the owner's organisation with the Device role.
const DEVICE: Sr25519Keyring = Ferdie;
/// A member of the owner's organisation without any role on the twin.
const CLERK: Sr25519Keyring = Eve;

fn account(party: Sr25519Keyring) -> AccountId {
	party.to_account_id()
}

fn bounded<S: frame_support::traits::Get<u32>>(text: &str) -> BoundedVec<u8, S> {
	text.as_bytes().to_vec().try_into().expect("short enough")
}

fn id(text: &str) -> ElementId {
	bounded(text)
}

fn cid(content: &str) -> ContentId {
	raw_sha256_content_id(&sp_io::hashing::sha2_256(content.as_bytes()))
		.to_vec()
		.try_into()
		.unwrap()
}

fn dispatch(party: Sr25519Keyring, call: impl Into<RuntimeCall>) -> DispatchResultWithPostInfo {
	call.into().dispatch(RuntimeOrigin::signed(account(party)))
}

fn error_of(result: DispatchResultWithPostInfo) -> sp_runtime::DispatchError {
	let Err(DispatchErrorWithPostInfo { error, .. }) = result else {
		panic!("expected the call to fail, it succeeded")
	};
	error
}

fn module_error(result: DispatchResultWithPostInfo) -> &'static str {
	match error_of(result) {
		sp_runtime::DispatchError::Module(error) => error.message.expect("named error"),
		other => panic!("expected a pallet error, got {other:?}"),
	}
}

/// Objects of `patch` overwrite those of `base`, key by key.
fn merge(base: &mut Value, patch: Value) {
	match (base, patch) {
		(Value::Object(base), Value::Object(patch)) => {
			for (key, value) in patch {
				merge(base.entry(key).or_insert(Value::Null), value);
			}
		},
		(base, patch) => *base = patch,
	}
}

fn local_consortium() -> sp_io::TestExternalities {
	let mut config = serde_json::to_value(RuntimeGenesisConfig::default()).unwrap();
	merge(&mut config, local_testnet_genesis());
	let mut ext = sp_io::TestExternalities::default();
	ext.execute_with(|| {
		frame_support::genesis_builder_helper::build_state::<RuntimeGenesisConfig>(
			serde_json::to_vec(&config).unwrap(),
		)
		.expect("the local testnet genesis builds");
	});
	ext
}

fn next_block() {
	let next = System::block_number() + 1;
	System::set_block_number(next);
	Programs::on_initialize(next);
}

fn element(
	id_text: &str,
	parent: Option<&str>,
	previous: Option<&str>,
	xml: &str,
) -> NewElement<<Runtime as pallet_dt_twin_spec::Config>::MaxFragmentLength> {
	NewElement {
		id: id(id_text),
		parent: parent.map(id),
		previous_sibling: previous.map(id),
		fragment: bounded(xml),
	}
}

const NEW_SENSOR: &str = r#"<InternalElement Name="FillLevelSensor" ID="fill-sensor-2">
	<Attribute Name="SerialNumber"><Value>FLS-2026-0815</Value></Attribute>
</InternalElement>"#;

/// The bottling line with one filler and its fill-level sensor, created by the owner.
fn create_plant() -> TwinId {
	let twin = pallet_dt_twin_spec::NextTwinId::<Runtime>::get();
	let elements = vec![
		element(
			"/CAEXFile",
			None,
			None,
			r#"<CAEXFile FileName="plant.aml" SchemaVersion="3.0"><?dt-children?></CAEXFile>"#,
		),
		element(
			"line",
			Some("/CAEXFile"),
			None,
			r#"<InstanceHierarchy Name="BottlingLine" ID="line"><?dt-children?></InstanceHierarchy>"#,
		),
		element(
			"filler",
			Some("line"),
			None,
			r#"<InternalElement Name="Filler" ID="filler"><Attribute Name="Speed" Unit="bottles/min"/><?dt-children?></InternalElement>"#,
		),
		element(
			"fill-sensor",
			Some("filler"),
			None,
			r#"<InternalElement Name="FillLevelSensor" ID="fill-sensor"><?dt-children?></InternalElement>"#,
		),
		element(
			"fill-sensor-port",
			Some("fill-sensor"),
			None,
			r#"<ExternalInterface Name="Out" ID="fill-sensor-port"/>"#,
		),
		element(
			"conveyor",
			Some("line"),
			Some("filler"),
			r#"<InternalElement Name="Conveyor" ID="conveyor"/>"#,
		),
	];
	assert_ok!(dispatch(
		OWNER,
		pallet_dt_twin_spec::Call::<Runtime>::create_twin {
			header: DocumentHeader::default(),
			elements: elements.try_into().unwrap(),
			complete: true,
		}
	));
	twin
}

fn fill_level_feed(owner: Sr25519Keyring) -> pallet_dt_feeds::FeedRegistrationOf<Runtime> {
	FeedRegistration {
		owner: account(owner),
		schema: bounded("application/vnd.dt.fill-level+json"),
		unit: bounded("mm"),
		nominal_interval_ms: 100,
		expected_range: Some(ValueRange { min: 1800, max: 2200, decimals: 1 }),
		confidentiality: Confidentiality::Internal,
	}
}

fn checkpoint(sequence: u64) -> Checkpoint {
	Checkpoint {
		sequence,
		entry_hash: [sequence as u8; 32],
		timestamp: 1_764_000_000_000 + sequence * 100,
	}
}

fn register_document(
	party: Sr25519Keyring,
	twin: TwinId,
	title: &str,
	confidentiality: Confidentiality,
	element: Option<&str>,
) -> DispatchResultWithPostInfo {
	dispatch(
		party,
		pallet_dt_documents::Call::<Runtime>::register_document {
			twin,
			title: bounded(title),
			media_type: bounded("application/pdf"),
			size: 1_234,
			content_id: cid(title),
			key_envelope: cid(&format!("{title} envelope")),
			confidentiality,
			element: element.map(id),
		},
	)
}

fn grant(twin: TwinId, party: Sr25519Keyring, role: Role) {
	assert_ok!(dispatch(
		OWNER,
		pallet_dt_access::Call::<Runtime>::grant_role {
			twin,
			grantee: Grantee::Account(account(party)),
			role,
		}
	));
}

fn events() -> Vec<RuntimeEvent> {
	System::events().into_iter().map(|record| record.event).collect()
}

fn fill_volume_program() -> ProgramParameters {
	vec![ParameterDeclaration {
		name: bounded("volume"),
		kind: ParameterType::Decimal { decimals: 1 },
		min: Some(2500),
		max: Some(15005),
		allowed: Default::default(),
		unit: bounded("ml"),
	}]
	.try_into()
	.unwrap()
}

fn volume(tenths_of_ml: i128) -> ProgramArguments {
	vec![Argument { name: bounded("volume"), value: ParameterValue::Decimal(tenths_of_ml) }]
		.try_into()
		.unwrap()
}

/// Everything up to the broken sensor: the twin with its parties, the old sensor's feed
/// with two checkpoints, the confidential blueprint and the program the filler offers.
struct Plant {
	twin: TwinId,
	old_feed: FeedId,
	blueprint: u64,
}

fn plant_before_the_failure() -> Plant {
	for (member, key, private_key) in [
		(DEVICE, dev_encryption_keys::FERDIE, include_str!("../res/dev-keys/ferdie.pem")),
		(CLERK, dev_encryption_keys::EVE, include_str!("../res/dev-keys/eve.pem")),
	] {
		// The member proves it holds the key; its admin submits both.
		use rsa::pkcs8::DecodePrivateKey;
		let private_key = rsa::PrivateKey::from_pkcs8_pem(private_key).unwrap();
		let message = pallet_dt_consortium::Pallet::<Runtime>::key_proof_message(&account(member));
		let key_proof =
			dt_primitives::encryption_key::sign_key_proof(&private_key, &message).unwrap();
		assert_ok!(dispatch(
			OWNER,
			pallet_dt_consortium::Call::<Runtime>::add_member {
				who: account(member),
				encryption_key: key.to_vec(),
				key_proof,
			}
		));
	}
	let twin = create_plant();
	grant(twin, MANUFACTURER, Role::Manufacturer);
	grant(twin, MAINTAINER, Role::Maintainer);
	grant(twin, AUDITOR, Role::Auditor);
	grant(twin, DEVICE, Role::Device);
	// The agent may rewrite the filler's part of the specification when hardware changes,
	// nothing else.
	let mut device = pallet_dt_access::default_permissions(Role::Device);
	device.push(Permission::WriteSpecification(Some(id("filler"))));
	assert_ok!(dispatch(
		OWNER,
		pallet_dt_access::Call::<Runtime>::set_role_permissions {
			twin,
			role: Role::Device,
			permissions: device.try_into().unwrap(),
		}
	));

	let old_feed = pallet_dt_feeds::NextFeedId::<Runtime>::get();
	assert_ok!(dispatch(
		DEVICE,
		pallet_dt_feeds::Call::<Runtime>::register_feed {
			twin,
			element: id("fill-sensor"),
			registration: fill_level_feed(DEVICE),
		}
	));
	for sequence in [100, 200] {
		assert_ok!(dispatch(
			DEVICE,
			pallet_dt_feeds::Call::<Runtime>::anchor_checkpoint {
				feed: old_feed,
				checkpoint: checkpoint(sequence),
			}
		));
	}

	let blueprint = pallet_dt_documents::NextDocumentId::<Runtime>::get();
	assert_ok!(register_document(
		OWNER,
		twin,
		"Filler blueprint",
		Confidentiality::Secret,
		Some("filler")
	));
	assert_ok!(dispatch(
		OWNER,
		pallet_dt_twin_spec::Call::<Runtime>::declare_program {
			twin,
			element: id("filler"),
			program: bounded("SetFillVolume"),
			parameters: fill_volume_program(),
			described_by: id("filler"),
		}
	));
	Plant { twin, old_feed, blueprint }
}

fn replace_sensor(
	party: Sr25519Keyring,
	plant: &Plant,
	new_fragment: &str,
	final_checkpoint: Checkpoint,
) -> DispatchResultWithPostInfo {
	dispatch(
		party,
		pallet_dt_feeds::Call::<Runtime>::replace_sensor {
			twin: plant.twin,
			old_element: id("fill-sensor"),
			new_element: id("fill-sensor-2"),
			max_removed: 2,
			new_element_fragment: bounded(new_fragment),
			old_feed: plant.old_feed,
			registration: fill_level_feed(DEVICE),
			final_checkpoint: Some(final_checkpoint),
		},
	)
}

#[test]
fn the_bottling_plant_scenario_on_chain() {
	local_consortium().execute_with(|| {
		System::set_block_number(1);
		let plant = plant_before_the_failure();
		let twin = plant.twin;
		next_block();

		// Bottles overflow; the sensor is broken. Attempts that must change nothing: the
		// auditor may not touch the specification, a malformed description of the new
		// sensor is refused, and so is a final checkpoint behind the anchored ones.
		let state = sp_io::storage::root(sp_runtime::StateVersion::V1);
		assert_eq!(
			module_error(replace_sensor(AUDITOR, &plant, NEW_SENSOR, checkpoint(300))),
			"NotAuthorized"
		);
		assert_eq!(
			module_error(replace_sensor(
				DEVICE,
				&plant,
				"<InternalElement ID=\"fill-sensor-2\">",
				checkpoint(300)
			)),
			"InvalidFragment"
		);
		assert_eq!(
			module_error(replace_sensor(DEVICE, &plant, NEW_SENSOR, checkpoint(150))),
			"CheckpointNotForward"
		);
		assert_eq!(sp_io::storage::root(sp_runtime::StateVersion::V1), state);

		// 1. The device agent replaces the sensor in one transaction.
		System::reset_events();
		assert_ok!(replace_sensor(DEVICE, &plant, NEW_SENSOR, checkpoint(300)));
		let new_feed = plant.old_feed + 1;
		assert!(!TwinSpec::element_exists(twin, &id("fill-sensor")));
		assert!(!TwinSpec::element_exists(twin, &id("fill-sensor-port")));
		let new_sensor = TwinSpec::element_record(twin, id("fill-sensor-2")).expect("inserted");
		assert_eq!(new_sensor.node.parent, Some(id("filler")));
		assert_eq!(new_sensor.node.changed_by, account(DEVICE));
		let old = Feeds::feed(plant.old_feed).unwrap();
		assert!(
			matches!(old.status, FeedStatus::Closed { replaced_by: Some(feed), .. } if feed == new_feed)
		);
		assert_eq!(old.latest_checkpoint.unwrap().checkpoint, checkpoint(300));
		let new = Feeds::feed(new_feed).unwrap();
		assert_eq!((new.element, new.status), (id("fill-sensor-2"), FeedStatus::Active));
		// The owner sees the change as events of one transaction.
		let events = events();
		assert!(events.contains(
			&pallet_dt_twin_spec::Event::<Runtime>::ElementReplaced {
				twin,
				old: id("fill-sensor"),
				new: id("fill-sensor-2"),
				removed: 2,
				author: account(DEVICE),
			}
			.into()
		));
		assert!(events.contains(
			&pallet_dt_feeds::Event::<Runtime>::SensorReplaced {
				twin,
				old_element: id("fill-sensor"),
				new_element: id("fill-sensor-2"),
				old_feed: plant.old_feed,
				new_feed,
				by: account(DEVICE),
			}
			.into()
		));
		next_block();

		// 2. The new sensor's readings stream off-chain; the agent anchors them.
		assert_ok!(dispatch(
			DEVICE,
			pallet_dt_feeds::Call::<Runtime>::anchor_checkpoint {
				feed: new_feed,
				checkpoint: checkpoint(1)
			}
		));
		// The closed feed takes no more checkpoints.
		assert_eq!(
			module_error(dispatch(
				DEVICE,
				pallet_dt_feeds::Call::<Runtime>::anchor_checkpoint {
					feed: plant.old_feed,
					checkpoint: checkpoint(400)
				}
			)),
			"FeedClosed"
		);

		// 3. The maintainer registers the maintenance report on the new sensor's element.
		let report = pallet_dt_documents::NextDocumentId::<Runtime>::get();
		assert_ok!(register_document(
			MAINTAINER,
			twin,
			"Maintenance report: fill-level sensor replaced",
			Confidentiality::Confidential,
			Some("fill-sensor-2")
		));
		// Not on the old sensor's element: it is gone.
		assert_eq!(
			module_error(register_document(
				MAINTAINER,
				twin,
				"Late note",
				Confidentiality::Internal,
				Some("fill-sensor")
			)),
			"UnknownElement"
		);
		next_block();

		// 4. The manufacturer analyses the broken sensor's last readings: the old feed's
		// checkpoints are all still there.
		let anchored: Vec<u64> = Feeds::checkpoints(plant.old_feed, 0, 10)
			.into_iter()
			.map(|record| record.checkpoint.sequence)
			.collect();
		assert_eq!(anchored, [100, 200, 300]);
		let manufacturer_sees: Vec<FeedId> =
			Feeds::feeds_of_twin(twin, Some(&account(MANUFACTURER)))
				.iter()
				.map(|f| f.id)
				.collect();
		assert_eq!(manufacturer_sees, [plant.old_feed, new_feed]);

		// 5. The auditor reads the trail: the report on the new sensor, both feeds, and
		// annotates the report.
		let on_new_sensor =
			Documents::documents_of_element(twin, &id("fill-sensor-2"), Some(&account(AUDITOR)));
		assert_eq!(on_new_sensor.iter().map(|d| d.id).collect::<Vec<_>>(), [report]);
		assert_eq!(on_new_sensor[0].registered_by, account(MAINTAINER));
		assert_ok!(dispatch(
			AUDITOR,
			pallet_dt_documents::Call::<Runtime>::annotate {
				document: report,
				version: 0,
				content_id: cid("audit finding: replacement documented"),
			}
		));
		let history = Documents::document_with_history(report, Some(&account(AUDITOR))).unwrap();
		assert_eq!(history.versions[0].annotations[0].author, account(AUDITOR));
		// The auditor is cleared for confidential data, not for the secret blueprint.
		assert!(
			Documents::document_with_history(plant.blueprint, Some(&account(AUDITOR))).is_none()
		);

		// 6. A party without clearance is refused: the clerk has no role on the twin.
		let clerk = account(CLERK);
		assert!(Documents::documents_of_twin(twin, Some(&clerk)).is_empty());
		assert!(Feeds::feeds_of_twin(twin, Some(&clerk)).is_empty());
		assert_eq!(
			module_error(dispatch(
				CLERK,
				pallet_dt_documents::Call::<Runtime>::annotate {
					document: plant.blueprint,
					version: 0,
					content_id: cid("clerk's note"),
				}
			)),
			"NotAuthorized"
		);
		assert_eq!(
			module_error(register_document(
				CLERK,
				twin,
				"Forged report",
				Confidentiality::Internal,
				Some("fill-sensor-2")
			)),
			"NotAuthorized"
		);
		assert_eq!(Access::clearance_of(twin, &clerk), None);
	});
}

#[test]
fn a_program_call_travels_from_the_maintainer_to_the_device() {
	local_consortium().execute_with(|| {
		System::set_block_number(1);
		let plant = plant_before_the_failure();
		let twin = plant.twin;
		let call_program = |party, tenths| {
			dispatch(
				party,
				pallet_dt_programs::Call::<Runtime>::call_program {
					twin,
					element: id("filler"),
					program: bounded("SetFillVolume"),
					arguments: volume(tenths),
				},
			)
		};
		// 2 l is outside the declared 250..1500.5 ml: it never reaches the queue.
		assert_noop!(
			call_program(MAINTAINER, 20_000),
			pallet_dt_programs::Error::<Runtime>::InvalidArguments(
				pallet_dt_programs::ArgumentRejection(
					dt_primitives::program::ArgumentError::AboveMaximum(0)
				)
			)
		);
		assert_eq!(module_error(call_program(AUDITOR, 5_000)), "NotAuthorized");

		let call = pallet_dt_programs::NextCallId::<Runtime>::get();
		assert_ok!(call_program(MAINTAINER, 5_000));
		assert_eq!(Programs::pending_calls(twin).iter().map(|c| c.id).collect::<Vec<_>>(), [call]);
		// Only the device runs programs.
		let claim =
			|party| dispatch(party, pallet_dt_programs::Call::<Runtime>::claim_call { call });
		assert_eq!(module_error(claim(MAINTAINER)), "NotAuthorized");
		assert_ok!(claim(DEVICE));
		next_block();
		assert_ok!(dispatch(
			DEVICE,
			pallet_dt_programs::Call::<Runtime>::report_outcome {
				call,
				outcome: Outcome::Completed,
				result: bounded("fill volume set to 500.0 ml"),
			}
		));
		assert!(Programs::pending_calls(twin).is_empty());
		let finished = Programs::call(call).unwrap();
		assert!(matches!(finished.call.status, CallStatus::Completed { .. }));
		assert_eq!(finished.call.caller, account(MAINTAINER));
	});
}

/// pallet_session declares a rotation's block full: a session ends only when it has a
/// validator change to report or to apply, or new session keys are due.
#[test]
fn sessions_end_only_with_something_to_change() {
	use dt_runtime::configs::{RotateOnChange, SESSIONS_PER_KEY_ROTATION, SESSION_PERIOD};
	use pallet_session::ShouldEndSession;
	local_consortium().execute_with(|| {
		let boundary = SESSION_PERIOD;
		assert!(!RotateOnChange::should_end_session(boundary), "nothing to change");
		assert!(
			RotateOnChange::should_end_session(SESSION_PERIOD * SESSIONS_PER_KEY_ROTATION),
			"session keys are due"
		);
		// Governance changed the validators: the next boundary reports them, not a block
		// before it.
		pallet_dt_consortium::ValidatorsChanged::<Runtime>::put(true);
		assert!(!RotateOnChange::should_end_session(boundary + 1));
		assert!(RotateOnChange::should_end_session(boundary));
		// Reported and queued: the boundary after applies them.
		pallet_dt_consortium::ValidatorsChanged::<Runtime>::put(false);
		pallet_session::QueuedChanged::<Runtime>::put(true);
		assert!(RotateOnChange::should_end_session(boundary * 2));
	});
}
