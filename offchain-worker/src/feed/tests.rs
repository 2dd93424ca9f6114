//! Tests of the feed module: the rules a replica applies (pure), then the persistent log.

use sp_core::{sr25519, Pair as _};

use super::*;

mod durability;
mod log_tests;
mod validation_tests;

const FEED: FeedId = 7;
const T0: u64 = 1_700_000_000_000;
/// The chain the feeds of these tests are on.
const GENESIS: crate::GenesisHash = [3; 32];

/// The device's key on that chain.
fn key() -> FeedKey {
	FeedKey { owner: device().public(), genesis: GENESIS }
}

fn device() -> sr25519::Pair {
	sr25519::Pair::from_seed(&[1; 32])
}

fn stranger() -> sr25519::Pair {
	sr25519::Pair::from_seed(&[2; 32])
}

/// `count` entries from `writer`, one millisecond apart from `start_ms`, each carrying its
/// index as payload.
fn entries(writer: &mut FeedWriter, count: usize, start_ms: u64) -> Vec<Entry> {
	(0..count)
		.map(|i| writer.next_entry(start_ms + i as u64, None, (i as u32).to_le_bytes().to_vec()))
		.collect()
}

/// A batch of `count` entries signed by the device.
fn signed(writer: &mut FeedWriter, count: usize, start_ms: u64) -> SignedBatch {
	SignedBatch::sign(entries(writer, count, start_ms), &device(), &GENESIS)
}
