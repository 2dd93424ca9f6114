//! Throughput of storing and reading encrypted documents, against raw AES-256-GCM, and the
//! peak memory of a 1 GiB document.
//!
//! ```text
//! cargo run --release -p dt-offchain --example document_bench            # all cases
//! cargo run --release -p dt-offchain --example document_bench -- --quick # without 1 GiB
//! ```
//!
//! Put = wrap the key for two readers (RSA-OAEP 3072), encrypt, hash and store every block
//! durably (fsync per block); get = unwrap the key, fetch and verify every block, decrypt.
//! The store lives in a temporary directory under `$TMPDIR` (or `DT_BENCH_DIR`), so the
//! figures include that disk's fsync cost. Everything runs on one thread.

use std::{
	io::{self, Read},
	time::{Duration, Instant},
};

use aes_gcm::{
	aead::{generic_array::GenericArray, AeadInPlace, KeyInit},
	Aes256Gcm,
};
use dt_offchain::{
	block_store::BlockStore,
	crypto::{ReaderPrivateKey, ReaderPublicKey, CHUNK_SIZE},
	documents::{open_document, put_document},
};

const ALICE_PEM: &[u8] = include_bytes!("../../runtime/res/dev-keys/alice.pem");
const BOB_DER: &[u8] = include_bytes!("../../runtime/res/dev-keys/bob.der");

const KIB: u64 = 1 << 10;
const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

/// `len` bytes cycling through a fixed pseudo-random buffer: a large input that costs
/// nothing to produce and never sits in memory.
struct Input {
	pattern: Vec<u8>,
	offset: usize,
	left: u64,
}

impl Input {
	fn new(len: u64) -> Self {
		let mut state = 0x9e37_79b9_7f4a_7c15u64;
		let pattern = (0..CHUNK_SIZE + 7)
			.map(|_| {
				state ^= state << 13;
				state ^= state >> 7;
				state ^= state << 17;
				state as u8
			})
			.collect();
		Self { pattern, offset: 0, left: len }
	}
}

impl Read for Input {
	fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
		let n = out.len().min(self.left as usize).min(self.pattern.len() - self.offset);
		out[..n].copy_from_slice(&self.pattern[self.offset..self.offset + n]);
		self.offset = (self.offset + n) % self.pattern.len();
		self.left -= n as u64;
		Ok(n)
	}
}

/// Reads to the end, discarding, and returns the byte count.
fn drain(mut reader: impl Read) -> io::Result<u64> {
	let mut buffer = vec![0u8; 256 * 1024];
	let mut total = 0;
	loop {
		match reader.read(&mut buffer)? {
			0 => return Ok(total),
			n => total += n as u64,
		}
	}
}

fn mb_per_s(bytes: u64, time: Duration) -> f64 {
	bytes as f64 / 1e6 / time.as_secs_f64()
}

/// Peak resident set size of this process so far, from `/proc/self/status`.
fn peak_rss_kib() -> Option<u64> {
	let status = std::fs::read_to_string("/proc/self/status").ok()?;
	let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
	line.split_whitespace().nth(1)?.parse().ok()
}

/// Raw AES-256-GCM over `len` bytes in memory, in chunks of `CHUNK_SIZE`: the ceiling.
fn raw_aes_gcm(len: u64) -> Duration {
	let cipher = Aes256Gcm::new(GenericArray::from_slice(&[7u8; 32]));
	let mut buffer = vec![0x5au8; CHUNK_SIZE.min(len as usize)];
	let start = Instant::now();
	let mut left = len;
	let mut index = 0u64;
	while left > 0 {
		let n = left.min(CHUNK_SIZE as u64) as usize;
		let mut nonce = [0u8; 12];
		nonce[..8].copy_from_slice(&index.to_be_bytes());
		let tag = cipher
			.encrypt_in_place_detached(GenericArray::from_slice(&nonce), b"", &mut buffer[..n])
			.expect("a chunk is far below the GCM limit");
		std::hint::black_box(tag);
		left -= n as u64;
		index += 1;
	}
	start.elapsed()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
	let quick = std::env::args().any(|arg| arg == "--quick");
	let alice = ReaderPrivateKey::from_file_contents(ALICE_PEM)?;
	let readers = [alice.public_key().clone(), ReaderPublicKey::from_der(BOB_DER)?];
	let parent = std::env::var_os("DT_BENCH_DIR")
		.map(Into::into)
		.unwrap_or_else(std::env::temp_dir);
	let dir = tempfile::tempdir_in(parent)?;
	let store = BlockStore::open(dir.path())?;
	println!("store: {}; chunk size {} KiB; one thread", dir.path().display(), CHUNK_SIZE / 1024);
	println!(
		"{:>9} {:>5} {:>12} {:>12} {:>12} {:>12} {:>14}",
		"size", "runs", "put ms/op", "put MB/s", "get ms/op", "get MB/s", "raw GCM MB/s"
	);

	let mut cases = vec![(KIB, 200), (MIB, 20), (100 * MIB, 1)];
	if !quick {
		cases.push((GIB, 1));
	}
	for (size, runs) in cases {
		let mut put_time = Duration::ZERO;
		let mut get_time = Duration::ZERO;
		for _ in 0..runs {
			let start = Instant::now();
			let stored = put_document(&store, Input::new(size), &readers)?;
			put_time += start.elapsed();

			let start = Instant::now();
			let read = drain(open_document(&store, &stored.content_id, &alice)?)?;
			get_time += start.elapsed();
			assert_eq!(read, size);
		}
		let total = size * runs;
		let raw = raw_aes_gcm(total.max(64 * MIB));
		let label = match size {
			s if s >= GIB => format!("{} GiB", s / GIB),
			s if s >= MIB => format!("{} MiB", s / MIB),
			s => format!("{} KiB", s / KIB),
		};
		println!(
			"{label:>9} {runs:>5} {:>12.2} {:>12.1} {:>12.2} {:>12.1} {:>14.1}",
			put_time.as_secs_f64() * 1e3 / runs as f64,
			mb_per_s(total, put_time),
			get_time.as_secs_f64() * 1e3 / runs as f64,
			mb_per_s(total, get_time),
			mb_per_s(total.max(64 * MIB), raw),
		);
		if let Some(peak) = peak_rss_kib() {
			println!("{:>9} peak RSS of the process so far: {:.1} MiB", "", peak as f64 / 1024.0);
		}
	}
	Ok(())
}
