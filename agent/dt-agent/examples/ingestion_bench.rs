//! Feed ingestion through a dt-node's RPC: encrypted against plaintext, in samples per
//! second.
//!
//! A device agent's path for each batch: build the entries (linked by hash), encrypt each
//! reading under the epoch key (the encrypted feed only), sign the batch, send it with
//! `feed_append` and wait for the node's acknowledgement (its validation and fsync
//! included). One feed is public and written in plaintext, the other confidential and
//! encrypted; both take the same readings in the same batches, alternately, so the machine's
//! load weighs on both alike.
//!
//! ```text
//! dt-node --dev --tmp --rpc-port 9944 &
//! cargo run --release -p dt-agent --example ingestion_bench -- ws://127.0.0.1:9944 [SAMPLES [BATCH]]
//! ```
//!
//! It needs a `--dev` chain (Alice creates a twin and registers the two feeds for Bob's
//! device); the key envelope is not published (the node checks only that every entry of a
//! confidential feed is encrypted), so a node without the store's network measures the same.

use std::time::{Duration, Instant};

use dt_client::{reading::encode_reading, twin_import, Client};
use dt_offchain::{
	crypto::{EpochEncryptor, ReaderPublicKey},
	feed::{FeedWriter, SignedBatch},
};
use dt_primitives::{
	access::{Confidentiality, Grantee, Role},
	feed::FeedId,
};
use dt_runtime::{RuntimeCall, RuntimeEvent};
use jsonrpsee::rpc_params;
use sp_core::{sr25519, Pair as _};

/// The plant's specification the twin is made from, and the element the feeds belong to.
const PLANT_AML: &str = include_str!("../../../scripts/demo/bottling-plant.aml");
const ELEMENT: &str = "filling-station-1";
/// The reader the epoch key is sealed for (Alice's development key).
const READER_KEY: &[u8] = include_bytes!("../../../runtime/res/dev-keys/alice.der");

type Error = Box<dyn std::error::Error>;

#[tokio::main]
async fn main() -> Result<(), Error> {
	let mut args = std::env::args().skip(1);
	let node = args.next().unwrap_or_else(|| "ws://127.0.0.1:9944".into());
	let samples: usize = args.next().map_or(Ok(200_000), |n| n.parse())?;
	let batch: usize = args.next().map_or(Ok(1_000), |n| n.parse())?;
	if batch == 0 || samples < batch {
		return Err("SAMPLES must be at least BATCH, and BATCH at least 1".into());
	}
	let client = Client::connect(&node).await?;
	let owner = sr25519::Pair::from_string("//Alice", None)?;
	let device = sr25519::Pair::from_string("//Bob", None)?;
	let genesis: [u8; 32] = client.block_hash(0).await?.ok_or("no genesis block")?.into();

	let twin = create_twin(&client, &owner).await?;
	let grant = RuntimeCall::Access(pallet_dt_access::Call::grant_role {
		twin,
		grantee: Grantee::Account(device.public().into()),
		role: Role::Device,
	});
	succeeded(&client.submit(&owner, grant).await?, "grant the device role")?;
	let plain = register_feed(&client, &owner, &device, twin, Confidentiality::Public).await?;
	let sealed =
		register_feed(&client, &owner, &device, twin, Confidentiality::Confidential).await?;

	let reader = ReaderPublicKey::from_der(READER_KEY)?;
	let (mut encryptor, _envelope) = EpochEncryptor::start(sealed, 0, 0, &[reader])?;
	let mut writers = [FeedWriter::new(plain, None), FeedWriter::new(sealed, None)];
	let mut spent = [Duration::ZERO; 2];
	let mut clock = 1_800_000_000_000u64;
	println!("{samples} samples per feed in batches of {batch}, through {node}");
	for round in 0..samples / batch {
		let readings: Vec<Vec<u8>> = (0..batch)
			.map(|i| encode_reading(&format!("{}.{}", 240 + (round + i) % 20, i % 10)))
			.collect::<Result<_, _>>()?;
		clock += batch as u64;
		for (which, writer) in writers.iter_mut().enumerate() {
			let started = Instant::now();
			let mut entries = Vec::with_capacity(batch);
			for (offset, reading) in readings.iter().enumerate() {
				let timestamp = clock + offset as u64;
				let entry = if which == 0 {
					writer.next_entry(timestamp, None, reading.clone())
				} else {
					let payload = encryptor.seal(writer.next_sequence(), reading)?;
					writer.next_entry(timestamp, Some(0), payload)
				};
				entries.push(entry);
			}
			let feed = [plain, sealed][which];
			append(&client, feed, SignedBatch::sign(entries, &device, &genesis)).await?;
			spent[which] += started.elapsed();
		}
	}
	let total = (samples / batch * batch) as f64;
	let rate = |spent: Duration| total / spent.as_secs_f64();
	let (plain_rate, sealed_rate) = (rate(spent[0]), rate(spent[1]));
	println!("plaintext (public feed {plain}):        {plain_rate:>10.0} samples/s");
	println!("encrypted (confidential feed {sealed}): {sealed_rate:>10.0} samples/s");
	println!(
		"encryption costs {:.1} % of the plaintext rate",
		100.0 * (1.0 - sealed_rate / plain_rate)
	);
	Ok(())
}

async fn create_twin(client: &Client, owner: &sr25519::Pair) -> Result<u32, Error> {
	let import = twin_import(&dt_aml::AmlTree::parse_str(PLANT_AML)?)?;
	let created = client.submit(owner, import.create_call()).await?;
	succeeded(&created, "create the twin")?;
	let twin = created
		.events
		.iter()
		.find_map(|event| match event {
			RuntimeEvent::TwinSpec(pallet_dt_twin_spec::Event::TwinCreated { twin, .. }) => {
				Some(*twin)
			},
			_ => None,
		})
		.ok_or("no TwinCreated event")?;
	for call in import.import_calls(twin) {
		succeeded(&client.submit(owner, call).await?, "import the twin's elements")?;
	}
	Ok(twin)
}

async fn register_feed(
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

fn bounded<B: TryFrom<Vec<u8>>>(text: &str) -> Result<B, Error> {
	text.as_bytes()
		.to_vec()
		.try_into()
		.map_err(|_| format!("{text:?} is too long").into())
}

async fn append(client: &Client, feed: FeedId, batch: SignedBatch) -> Result<(), Error> {
	let hex = format!("0x{}", hex::encode(codec::Encode::encode(&batch)));
	let _answer: serde_json::Value = client.request("feed_append", rpc_params![feed, hex]).await?;
	Ok(())
}

fn succeeded(finalized: &dt_client::Finalized, what: &str) -> Result<(), Error> {
	finalized
		.result()
		.map_err(|e| format!("cannot {what}: {}", dt_client::dispatch_error_name(&e)).into())
}
