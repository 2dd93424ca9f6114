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

use dt_client::{reading::encode_reading, Client};
use dt_offchain::{
	crypto::{EpochEncryptor, ReaderPublicKey},
	feed::{FeedWriter, SignedBatch},
};
use dt_primitives::{access::Confidentiality, feed::FeedId};
use jsonrpsee::rpc_params;

/// The reader the epoch key is sealed for (Alice's development key).
const READER_KEY: &[u8] = include_bytes!("../../../runtime/res/dev-keys/alice.der");

#[path = "bench_plant/mod.rs"]
mod bench_plant;
use bench_plant::{register_feed, Error, Plant};

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
	let genesis: [u8; 32] = client.block_hash(0).await?.ok_or("no genesis block")?.into();

	let Plant { owner, device, twin } = Plant::set_up(&client).await?;
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

async fn append(client: &Client, feed: FeedId, batch: SignedBatch) -> Result<(), Error> {
	let hex = format!("0x{}", hex::encode(codec::Encode::encode(&batch)));
	let _answer: serde_json::Value = client.request("feed_append", rpc_params![feed, hex]).await?;
	Ok(())
}
