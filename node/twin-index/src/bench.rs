//! The index's query latency over a filled database: `examples/bench.rs` measures it at full
//! size (docs/performance.md), a unit test runs it small so that the harness keeps working.

use crate::{
	BlockWrite, ChangeRow, ElementOp, ElementRow, IndexError, IndexStore, TrailQuery, TwinRow,
};
use std::{path::Path, time::Instant};

/// Latencies of one kind of query, in microseconds.
#[derive(Debug, Clone)]
pub struct Latency {
	pub what: &'static str,
	pub p50_us: u64,
	pub p99_us: u64,
	pub max_us: u64,
}

/// What a run measured.
#[derive(Debug, Clone)]
pub struct Report {
	pub elements: u64,
	pub changes: u64,
	pub fill_secs: f64,
	pub file_bytes: u64,
	pub latencies: Vec<Latency>,
}

impl std::fmt::Display for Report {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		writeln!(
			f,
			"{} elements, {} changes, filled in {:.1} s, {:.1} MiB",
			self.elements,
			self.changes,
			self.fill_secs,
			self.file_bytes as f64 / (1024.0 * 1024.0)
		)?;
		for latency in &self.latencies {
			writeln!(
				f,
				"{:<48} p50 {:>8.2} ms  p99 {:>8.2} ms  max {:>8.2} ms",
				latency.what,
				latency.p50_us as f64 / 1000.0,
				latency.p99_us as f64 / 1000.0,
				latency.max_us as f64 / 1000.0
			)?;
		}
		Ok(())
	}
}

/// A small deterministic generator (xorshift), so runs are comparable.
struct Random(u64);

impl Random {
	fn below(&mut self, n: u64) -> u64 {
		self.0 ^= self.0 << 13;
		self.0 ^= self.0 >> 7;
		self.0 ^= self.0 << 17;
		self.0 % n.max(1)
	}
}

/// Fills an index under `dir` with `twins` twins of `per_twin` elements each (an element
/// tree ten wide per level, every element also a change in its twin's trail), then runs
/// `queries` queries of each kind.
pub fn run(dir: &Path, twins: u32, per_twin: u32, queries: usize) -> Result<Report, IndexError> {
	let path = dir.join("bench-index.sqlite");
	let store = IndexStore::open(&path, [1; 32])?;
	store.start_at(&BlockWrite { number: 0, ..Default::default() })?;
	let started = Instant::now();
	let per_block = 1000u32;
	let mut number = 0;
	for twin in 0..twins {
		let mut element = 0;
		while element < per_twin {
			number += 1;
			let mut block = BlockWrite { number, hash: [number as u8; 32], ..Default::default() };
			if element == 0 {
				block.element_ops.push(ElementOp::Twin(TwinRow {
					id: twin,
					creator: format!("5Creator{twin}"),
					created_block: number,
				}));
			}
			for index in element..(element + per_block).min(per_twin) {
				block.element_ops.push(ElementOp::Put(ElementRow {
					twin,
					id: format!("t{twin}-e{index}"),
					parent: (index > 0).then(|| format!("t{twin}-e{}", (index - 1) / 10)),
					tag: "InternalElement".into(),
					name: Some(format!("Station {} Sensor {index}", index % 97)),
					confidentiality: (index % 4) as u8,
					changed_block: number,
				}));
				block.changes.push(ChangeRow {
					twin,
					event_index: index - element,
					time_ms: Some(1_700_000_000_000 + u64::from(number) * 2000),
					who: Some(format!("5Author{}", index % 5)),
					event: if index % 10 == 0 {
						"twinSpec.FragmentReplaced"
					} else {
						"twinSpec.ElementInserted"
					}
					.into(),
					summary: format!("element t{twin}-e{index} inserted"),
					detail: format!("{{\"element\":\"t{twin}-e{index}\"}}"),
				});
			}
			store.write_block(&block)?;
			element += per_block;
		}
	}
	let fill_secs = started.elapsed().as_secs_f64();
	let mut random = Random(0x2545_f491_4f6c_dd1d);
	let total = u64::from(twins) * u64::from(per_twin);
	let mut latencies = Vec::new();
	let mut measure =
		|what: &'static str, query: &mut dyn FnMut(&mut Random) -> Result<usize, IndexError>| {
			let mut times = Vec::with_capacity(queries);
			for _ in 0..queries {
				let start = Instant::now();
				query(&mut random)?;
				times.push(start.elapsed().as_micros() as u64);
			}
			times.sort_unstable();
			let at = |fraction: f64| times[((times.len() - 1) as f64 * fraction).round() as usize];
			latencies.push(Latency { what, p50_us: at(0.5), p99_us: at(0.99), max_us: at(1.0) });
			Ok::<(), IndexError>(())
		};
	measure("searchElements: one match among all (full scan)", &mut |random| {
		let n = random.below(u64::from(per_twin));
		let (rows, _) = store.search_elements(&format!("sensor {n}0"), None, None, None, 100)?;
		Ok(rows.len())
	})?;
	measure("searchElements: no match (full scan)", &mut |random| {
		let (rows, _) = store.search_elements(
			&format!("pump-{}", random.below(1000)),
			None,
			None,
			None,
			100,
		)?;
		Ok(rows.len())
	})?;
	measure("searchElements: common text, page of 100", &mut |random| {
		let (rows, _) = store.search_elements(
			&format!("station {}", random.below(97)),
			None,
			None,
			None,
			100,
		)?;
		Ok(rows.len())
	})?;
	measure("searchElements: one twin, with a reader's clearance", &mut |random| {
		let twin = random.below(u64::from(twins)) as u32;
		let clearance = |_twin: u32| Some(1u8);
		let (rows, _) = store.search_elements(
			&format!("sensor {}", random.below(u64::from(per_twin))),
			Some(twin),
			Some(&clearance),
			None,
			100,
		)?;
		Ok(rows.len())
	})?;
	measure("searchTwins: substring", &mut |random| {
		let (rows, _) =
			store.search_twins(&format!("{}", random.below(u64::from(twins))), None, 100)?;
		Ok(rows.len())
	})?;
	measure("twinTrail: page of 100 at a cursor", &mut |random| {
		let twin = random.below(u64::from(twins)) as u32;
		let (rows, _) = store.trail(&TrailQuery {
			twin,
			after: Some((twin * per_twin.div_ceil(per_block) + random.below(10) as u32, 0)),
			limit: 100,
			..Default::default()
		})?;
		Ok(rows.len())
	})?;
	measure("twinTrail: one event kind and signer, page of 100", &mut |random| {
		let twin = random.below(u64::from(twins)) as u32;
		let (rows, _) = store.trail(&TrailQuery {
			twin,
			events: vec!["twinSpec.FragmentReplaced".into()],
			who: Some(format!("5Author{}", random.below(5))),
			limit: 100,
			..Default::default()
		})?;
		Ok(rows.len())
	})?;
	let file_bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0)
		+ std::fs::metadata(path.with_extension("sqlite-wal"))
			.map(|m| m.len())
			.unwrap_or(0);
	Ok(Report {
		elements: store.element_count()?,
		changes: total,
		fill_secs,
		file_bytes,
		latencies,
	})
}
