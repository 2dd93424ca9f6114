//! What the benchmarks share: the bottling plant's twin on a `--dev` chain (made by Alice)
//! and its feeds, written by Bob's device.

use dt_client::{twin_import, Client};
use dt_primitives::{
	access::{Confidentiality, Grantee, Role},
	feed::FeedId,
};
use dt_runtime::{RuntimeCall, RuntimeEvent};
use sp_core::{sr25519, Pair as _};

/// The plant's specification the twin is made from, and the element the feeds belong to.
pub const PLANT_AML: &str = include_str!("../../../../scripts/demo/bottling-plant.aml");
pub const ELEMENT: &str = "filling-station-1";

pub type Error = Box<dyn std::error::Error>;

/// The agent's feeds as the forwarding benchmarks run them: buffers in `data_dir`, flushed
/// every 50 ms, batches of up to 8,192 entries every 100 ms, no checkpoints to speak of.
#[allow(dead_code)] // not every benchmark runs the agent's feeds
pub fn agent_feeds(
	node: &str,
	twin: u32,
	data_dir: std::path::PathBuf,
) -> dt_agent::feeds::FeedConfig {
	dt_agent::feeds::FeedConfig {
		node: node.to_owned(),
		twin,
		data_dir,
		sample_interval: std::time::Duration::from_millis(50),
		flush_interval: std::time::Duration::from_millis(50),
		batch_interval: std::time::Duration::from_millis(100),
		max_batch: 8192,
		checkpoint_interval: std::time::Duration::from_secs(3600),
		register_missing: false,
		confidentiality: Confidentiality::Public,
		readings_log: None,
	}
}

/// The plant's twin, made by its owner (Alice), with Bob as its device.
pub struct Plant {
	pub owner: sr25519::Pair,
	pub device: sr25519::Pair,
	pub twin: u32,
}

impl Plant {
	pub async fn set_up(client: &Client) -> Result<Plant, Error> {
		let owner = sr25519::Pair::from_string("//Alice", None)?;
		let device = sr25519::Pair::from_string("//Bob", None)?;
		let twin = create_twin(client, &owner).await?;
		let grant = RuntimeCall::Access(pallet_dt_access::Call::grant_role {
			twin,
			grantee: Grantee::Account(device.public().into()),
			role: Role::Device,
		});
		succeeded(&client.submit(&owner, grant).await?, "grant the device role")?;
		Ok(Plant { owner, device, twin })
	}
}

/// A twin of the plant made by `owner`; its id.
pub async fn create_twin(client: &Client, owner: &sr25519::Pair) -> Result<u32, Error> {
	let import = twin_import(&dt_aml::AmlTree::parse_str(PLANT_AML)?)?;
	let created = client.submit(owner, import.create_call()).await?;
	succeeded(&created, "create the twin")?;
	let twin = created_twin(&created)?;
	for call in import.import_calls(twin) {
		succeeded(&client.submit(owner, call).await?, "import the twin's elements")?;
	}
	Ok(twin)
}

/// The id of the twin that `created` (a finalized `create_twin`) made.
pub fn created_twin(created: &dt_client::Finalized) -> Result<u32, Error> {
	created
		.events
		.iter()
		.find_map(|event| match event {
			RuntimeEvent::TwinSpec(pallet_dt_twin_spec::Event::TwinCreated { twin, .. }) => {
				Some(*twin)
			},
			_ => None,
		})
		.ok_or_else(|| "no TwinCreated event".into())
}

pub async fn register_feed(
	client: &Client,
	owner: &sr25519::Pair,
	device: &sr25519::Pair,
	twin: u32,
	confidentiality: Confidentiality,
) -> Result<FeedId, Error> {
	let register = RuntimeCall::Feeds(pallet_dt_feeds::Call::register_feed {
		twin,
		element: bounded(ELEMENT)?,
		registration: pallet_dt_feeds::FeedRegistration {
			owner: device.public().into(),
			schema: bounded(dt_client::reading::DECIMAL_READING_SCHEMA)?,
			unit: bounded("mm")?,
			nominal_interval_ms: 1,
			expected_range: None,
			confidentiality,
		},
	});
	let registered = client.submit(owner, register).await?;
	succeeded(&registered, "register a feed")?;
	registered
		.events
		.iter()
		.find_map(|event| match event {
			RuntimeEvent::Feeds(pallet_dt_feeds::Event::FeedRegistered { feed, .. }) => Some(*feed),
			_ => None,
		})
		.ok_or_else(|| "no FeedRegistered event".into())
}

pub fn bounded<B: TryFrom<Vec<u8>>>(text: &str) -> Result<B, Error> {
	text.as_bytes()
		.to_vec()
		.try_into()
		.map_err(|_| format!("{text:?} is too long").into())
}

pub fn succeeded(finalized: &dt_client::Finalized, what: &str) -> Result<(), Error> {
	finalized
		.result()
		.map_err(|e| format!("cannot {what}: {}", dt_client::dispatch_error_name(&e)).into())
}
