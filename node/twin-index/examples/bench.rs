//! The twin index's query latency at size:
//! `cargo run --release -p dt-twin-index --example bench -- [TWINS] [ELEMENTS_PER_TWIN] [QUERIES]`
//! (default 10 twins × 10,000 elements, 100 queries of each kind). See docs/performance.md.

fn main() {
	let mut args = std::env::args().skip(1).map(|arg| {
		arg.parse::<u64>().unwrap_or_else(|_| {
			eprintln!("usage: bench [TWINS] [ELEMENTS_PER_TWIN] [QUERIES] (numbers, not {arg:?})");
			std::process::exit(2)
		})
	});
	let twins = args.next().unwrap_or(10) as u32;
	let per_twin = args.next().unwrap_or(10_000) as u32;
	let queries = args.next().unwrap_or(100) as usize;
	let dir = tempfile::tempdir().expect("a temporary directory");
	eprintln!("filling an index with {twins} twins × {per_twin} elements ...");
	match dt_twin_index::bench::run(dir.path(), twins, per_twin, queries) {
		Ok(report) => print!("{report}"),
		Err(e) => {
			eprintln!("bench failed: {e}");
			std::process::exit(1)
		},
	}
}
