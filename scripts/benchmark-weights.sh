#!/usr/bin/env bash
# Measures the weights of the project's pallets against the wasm runtime and writes each
# pallet's weights.rs from scripts/weight-template.hbs.
#
#   scripts/benchmark-weights.sh                  every project pallet
#   scripts/benchmark-weights.sh pallet_dt_consortium
#
# Builds dt-node with the `runtime-benchmarks` feature (a larger build: the benchmarking
# CLI brings its own dependencies). Run it on the reference machine after changing a call.
set -euo pipefail

cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/dt-ledger/target}"
steps="${DT_BENCH_STEPS:-50}"
repeat="${DT_BENCH_REPEAT:-20}"

declare -A weight_files=(
	[pallet_dt_consortium]=pallets/consortium/src/weights.rs
	[pallet_dt_access]=pallets/access/src/weights.rs
	[pallet_dt_twin_spec]=pallets/twin-spec/src/weights.rs
	[pallet_dt_documents]=pallets/documents/src/weights.rs
	[pallet_dt_feeds]=pallets/feeds/src/weights.rs
	[pallet_dt_programs]=pallets/programs/src/weights.rs
	[pallet_dt_availability]=pallets/availability/src/weights.rs
)
pallets=("$@")
((${#pallets[@]})) || pallets=("${!weight_files[@]}")

scripts/setup.sh
# The benchmarking CLI carries a test runtime for `benchmark storage`, which dt-node does
# not offer; its wasm build cannot find that crate in this workspace, so skip it.
export SKIP_FRAME_STORAGE_ACCESS_TEST_RUNTIME_WASM_BUILD=1
echo "building dt-node with runtime-benchmarks"
cargo build --locked -p dt-node --features runtime-benchmarks
node_bin="$CARGO_TARGET_DIR/debug/dt-node"

for pallet in "${pallets[@]}"; do
	output="${weight_files[$pallet]:-}"
	if [ -z "$output" ]; then
		echo "unknown pallet $pallet; known: ${!weight_files[*]}" >&2
		exit 1
	fi
	echo "benchmarking $pallet ($steps steps, $repeat repeats) -> $output"
	"$node_bin" benchmark pallet --chain dev --pallet "$pallet" --extrinsic '*' \
		--steps "$steps" --repeat "$repeat" --wasm-execution compiled \
		--template scripts/weight-template.hbs --output "$output"
done
