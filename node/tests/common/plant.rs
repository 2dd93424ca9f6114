//! A small bottling plant as a twin on a `--dev` chain: one filler that declares the
//! program `SetFillVolume` (250.0 to 1500.5 ml), owned by Alice, with Bob as its device.

use dt_client::Client;
use dt_primitives::{
	access::{ElementId, Grantee, Role, TwinId},
	program::{Argument, ParameterDeclaration, ParameterType, ParameterValue, ProgramArguments},
};
use dt_runtime::RuntimeCall;
use pallet_dt_twin_spec::{DocumentHeader, NewElement};
use sp_keyring::Sr25519Keyring;

/// The twin's owner (the dev chain's only organisation admin).
pub const OWNER: Sr25519Keyring = Sr25519Keyring::Alice;
/// The device's account: a member of the same organisation, granted the Device role.
pub const DEVICE: Sr25519Keyring = Sr25519Keyring::Bob;
/// The filler's element id and its program.
pub const FILLER: &str = "filler";
pub const SET_FILL_VOLUME: &str = "SetFillVolume";

pub fn bounded<S: sp_runtime::traits::Get<u32>>(text: &str) -> sp_runtime::BoundedVec<u8, S> {
	text.as_bytes().to_vec().try_into().unwrap()
}

pub fn id(text: &str) -> ElementId {
	bounded(text)
}

/// `SetFillVolume` on the filler with this volume, in tenths of a millilitre.
pub fn set_fill_volume(twin: TwinId, tenths_of_ml: i128) -> RuntimeCall {
	let arguments: ProgramArguments =
		vec![Argument { name: bounded("volume"), value: ParameterValue::Decimal(tenths_of_ml) }]
			.try_into()
			.unwrap();
	RuntimeCall::Programs(pallet_dt_programs::Call::call_program {
		twin,
		element: id(FILLER),
		program: bounded(SET_FILL_VOLUME),
		arguments,
	})
}

/// Submits `call` as `party` and asserts that it succeeded.
pub async fn submit_ok(
	client: &Client,
	party: Sr25519Keyring,
	call: RuntimeCall,
) -> dt_client::Finalized {
	let finalized = client.submit(&party.pair(), call).await.expect("submitted and finalized");
	assert_eq!(finalized.result(), Ok(()), "events: {:?}", finalized.events);
	finalized
}

/// Creates the plant's twin, declares the filler's program and makes Bob its device.
pub async fn set_up(client: &Client) -> TwinId {
	let twin: TwinId = client
		.runtime_api::<Vec<(TwinId, pallet_dt_twin_spec::TwinInfo<dt_runtime::AccountId, u32>)>>(
			"TwinSpecApi_twins",
			(),
			None,
		)
		.await
		.unwrap()
		.len() as TwinId;
	let elements: Vec<NewElement<_>> = vec![
		NewElement {
			id: id("/CAEXFile"),
			parent: None,
			previous_sibling: None,
			fragment: bounded(r#"<CAEXFile FileName="plant.aml"><?dt-children?></CAEXFile>"#),
		},
		NewElement {
			id: id(FILLER),
			parent: Some(id("/CAEXFile")),
			previous_sibling: None,
			fragment: bounded(r#"<InternalElement Name="Filler" ID="filler"/>"#),
		},
	];
	let create = RuntimeCall::TwinSpec(pallet_dt_twin_spec::Call::create_twin {
		header: DocumentHeader::default(),
		elements: elements.try_into().unwrap(),
		complete: true,
	});
	submit_ok(client, OWNER, create).await;
	declare_and_grant(client, twin).await;
	twin
}

/// The filler's fill-level sensor (with a port below it) in [`set_up_with_sensor`]'s twin.
pub const FILL_SENSOR: &str = "fill-sensor";
pub const FILL_SENSOR_PORT: &str = "fill-sensor-port";

/// The plant as [`set_up`] makes it, but the filler holds a fill-level sensor (and the
/// sensor a port).
pub async fn set_up_with_sensor(client: &Client) -> TwinId {
	let twin = next_twin(client).await;
	let elements: Vec<NewElement<_>> = vec![
		NewElement {
			id: id("/CAEXFile"),
			parent: None,
			previous_sibling: None,
			fragment: bounded(r#"<CAEXFile FileName="plant.aml"><?dt-children?></CAEXFile>"#),
		},
		NewElement {
			id: id(FILLER),
			parent: Some(id("/CAEXFile")),
			previous_sibling: None,
			fragment: bounded(
				r#"<InternalElement Name="Filler" ID="filler"><?dt-children?></InternalElement>"#,
			),
		},
		NewElement {
			id: id(FILL_SENSOR),
			parent: Some(id(FILLER)),
			previous_sibling: None,
			fragment: bounded(
				r#"<InternalElement Name="FillLevelSensor" ID="fill-sensor"><?dt-children?></InternalElement>"#,
			),
		},
		NewElement {
			id: id(FILL_SENSOR_PORT),
			parent: Some(id(FILL_SENSOR)),
			previous_sibling: None,
			fragment: bounded(r#"<ExternalInterface Name="Out" ID="fill-sensor-port"/>"#),
		},
	];
	let create = RuntimeCall::TwinSpec(pallet_dt_twin_spec::Call::create_twin {
		header: DocumentHeader::default(),
		elements: elements.try_into().unwrap(),
		complete: true,
	});
	submit_ok(client, OWNER, create).await;
	declare_and_grant(client, twin).await;
	twin
}

/// Lets the device rewrite the filler's part of the specification, as the owner does when
/// the agent is to replace sensors by itself.
pub async fn allow_sensor_replacement(client: &Client, twin: TwinId) {
	let mut device = pallet_dt_access::default_permissions(Role::Device);
	device.push(dt_primitives::access::Permission::WriteSpecification(Some(id(FILLER))));
	let permissions = RuntimeCall::Access(pallet_dt_access::Call::set_role_permissions {
		twin,
		role: Role::Device,
		permissions: device.try_into().unwrap(),
	});
	submit_ok(client, OWNER, permissions).await;
}

/// The id the next twin gets.
async fn next_twin(client: &Client) -> TwinId {
	client
		.runtime_api::<Vec<(TwinId, pallet_dt_twin_spec::TwinInfo<dt_runtime::AccountId, u32>)>>(
			"TwinSpecApi_twins",
			(),
			None,
		)
		.await
		.unwrap()
		.len() as TwinId
}

/// Declares the filler's `SetFillVolume` and makes Bob the twin's device.
async fn declare_and_grant(client: &Client, twin: TwinId) {
	let parameters = vec![ParameterDeclaration {
		name: bounded("volume"),
		kind: ParameterType::Decimal { decimals: 1 },
		min: Some(2500),
		max: Some(15005),
		allowed: Default::default(),
		unit: bounded("ml"),
	}];
	let declare = RuntimeCall::TwinSpec(pallet_dt_twin_spec::Call::declare_program {
		twin,
		element: id(FILLER),
		program: bounded(SET_FILL_VOLUME),
		parameters: parameters.try_into().unwrap(),
		described_by: id(FILLER),
	});
	submit_ok(client, OWNER, declare).await;
	let grant = RuntimeCall::Access(pallet_dt_access::Call::grant_role {
		twin,
		grantee: Grantee::Account(DEVICE.to_account_id()),
		role: Role::Device,
	});
	submit_ok(client, OWNER, grant).await;
}

/// Registers a public feed of decimal readings in mm on the filler, owned by the device
/// (Bob), as the owner; returns its id. Public, so that its entries may be plaintext: a feed
/// above Public takes only entries encrypted under its key epochs.
pub async fn register_feed(client: &Client, twin: TwinId) -> dt_primitives::feed::FeedId {
	let register = RuntimeCall::Feeds(pallet_dt_feeds::Call::register_feed {
		twin,
		element: id(FILLER),
		registration: pallet_dt_feeds::FeedRegistration {
			owner: DEVICE.to_account_id(),
			schema: bounded(dt_client::reading::DECIMAL_READING_SCHEMA),
			unit: bounded("mm"),
			nominal_interval_ms: 1000,
			expected_range: None,
			confidentiality: dt_primitives::access::Confidentiality::Public,
		},
	});
	let registered = submit_ok(client, OWNER, register).await;
	registered
		.events
		.iter()
		.find_map(|event| match event {
			dt_runtime::RuntimeEvent::Feeds(pallet_dt_feeds::Event::FeedRegistered {
				feed,
				..
			}) => Some(*feed),
			_ => None,
		})
		.expect("the feed is registered")
}

/// Registers an internal document on `twin` as `party`, its first version of `size` bytes
/// stored as `content` with its key envelope `envelope`; returns its id.
pub async fn register_document(
	client: &Client,
	party: Sr25519Keyring,
	twin: TwinId,
	size: u64,
	content: &dt_offchain::content_id::Cid,
	envelope: &dt_offchain::content_id::Cid,
) -> pallet_dt_documents::DocumentId {
	let level = dt_primitives::access::Confidentiality::Internal;
	register_document_at(client, party, twin, level, size, content, envelope).await
}

/// Registers a document of confidentiality `level` on `twin` as `party`, as
/// [`register_document`] does; returns its id.
pub async fn register_document_at(
	client: &Client,
	party: Sr25519Keyring,
	twin: TwinId,
	level: dt_primitives::access::Confidentiality,
	size: u64,
	content: &dt_offchain::content_id::Cid,
	envelope: &dt_offchain::content_id::Cid,
) -> pallet_dt_documents::DocumentId {
	let content_id =
		|cid: &dt_offchain::content_id::Cid| cid.as_bytes().to_vec().try_into().unwrap();
	let register = RuntimeCall::Documents(pallet_dt_documents::Call::register_document {
		twin,
		title: bounded("Filler wiring diagram"),
		media_type: bounded("application/pdf"),
		size,
		content_id: content_id(content),
		key_envelope: content_id(envelope),
		confidentiality: level,
		element: None,
	});
	let registered = submit_ok(client, party, register).await;
	registered
		.events
		.iter()
		.find_map(|event| match event {
			dt_runtime::RuntimeEvent::Documents(
				pallet_dt_documents::Event::DocumentRegistered { document, .. },
			) => Some(*document),
			_ => None,
		})
		.expect("the document is registered")
}
