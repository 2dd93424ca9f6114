//! Feed append throughput, in signed samples per second.
//!
//! Each sample is a 16-byte reading (timestamp and value). Every figure includes building
//! and hashing the entries, the device's signature, the replica's validation (hashes and
//! signature check) and the fsync before the append is acknowledged.
//!
//! `cargo run --release -p dt-offchain --example feed_bench [directory]`: the directory
//! (default: a temporary one) decides which disk is measured.

use std::time::{Duration, Instant};

use dt_offchain::feed::{FeedKey, FeedStore, FeedWriter, SignedBatch};
use sp_core::{sr25519, Pair as _};

const FEED: u64 = 1;

fn main() -> Result<(), Box<dyn std::error::Error>> {
	let scratch = tempfile::tempdir()?;
	let root = std::env::args_os()
		.nth(1)
		.map_or_else(|| scratch.path().to_path_buf(), Into::into);
	let store = FeedStore::open(&root)?;
	let key = sr25519::Pair::from_seed(&[7; 32]);
	let genesis = [1; 32];
	let owner = FeedKey { owner: key.public(), genesis };
	let mut writer = FeedWriter::new(FEED, store.head(FEED)?.as_ref());
	let mut clock = 1_700_000_000_000u64;

	println!(
		"feed append throughput in {} (signing, validation and fsync included)",
		root.display()
	);
	for (batch_size, batches) in [(1usize, 2_000usize), (100, 300), (1_000, 100)] {
		let started = Instant::now();
		for _ in 0..batches {
			let entries = (0..batch_size)
				.map(|i| {
					clock += 1;
					let value = (i as f64).sin();
					let mut sample = clock.to_le_bytes().to_vec();
					sample.extend_from_slice(&value.to_le_bytes());
					writer.next_entry(clock, None, sample)
				})
				.collect();
			store.append(FEED, &owner, SignedBatch::sign(entries, &key, &genesis))?;
		}
		report(batch_size, batch_size * batches, started.elapsed());
	}
	Ok(())
}

fn report(batch_size: usize, samples: usize, elapsed: Duration) {
	let per_second = samples as f64 / elapsed.as_secs_f64();
	let per_append = elapsed / (samples / batch_size) as u32;
	println!(
		"batch of {batch_size:>5}: {samples:>7} samples in {:>7.3} s = {per_second:>10.0} samples/s \
		 ({per_append:.2?} per acknowledged append)",
		elapsed.as_secs_f64()
	);
}
