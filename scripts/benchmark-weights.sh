#!/usr/bin/env bash
# Measures the weights of the project's pallets against the wasm runtime and writes each
# pallet's weights.rs from scripts/weight-template.hbs.
#
#   scripts/benchmark-weights.sh                        every project pallet, release build
#   scripts/benchmark-weights.sh pallet_dt_consortium   one pallet
#   scripts/benchmark-weights.sh --debug ...            a debug build of dt-node (quicker to
#                                                       build; its host functions are slower,
#                                                       so the weights are too high)
#
# Builds dt-node with the `runtime-benchmarks` feature (a larger build: the benchmarking
# CLI brings its own dependencies). Run it on the reference machine after changing a call;
# each weights.rs names the machine and the build it was measured with.
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
mode=release
if [ "${1:-}" = --debug ]; then
	mode=debug
	shift
fi
pallets=("$@")
((${#pallets[@]})) || pallets=("${!weight_files[@]}")
for pallet in "${pallets[@]}"; do
	if [ -z "${weight_files[$pallet]:-}" ]; then
		echo "unknown pallet '$pallet'; known: ${!weight_files[*]} (and the option --debug)" >&2
		exit 2
	fi
done

scripts/setup.sh
# The benchmarking CLI carries a test runtime for `benchmark storage`, which dt-node does
# not offer; its wasm build cannot find that crate in this workspace, so skip it.
export SKIP_FRAME_STORAGE_ACCESS_TEST_RUNTIME_WASM_BUILD=1
echo "building dt-node ($mode) with runtime-benchmarks"
profile_args=()
[ "$mode" = release ] && profile_args=(--release)
# The same invocation as `DT_BENCH_FEATURES=dt-node/runtime-benchmarks scripts/bench-chain.sh`:
# the workspace's features unify alike, so one build serves the weights and the chain's
# benchmark (building dt-node alone would compile most dependencies again).
cargo build --locked --workspace --bins --example chain_bench --example ingestion_bench \
	--features dt-node/runtime-benchmarks "${profile_args[@]+"${profile_args[@]}"}"
node_bin="$CARGO_TARGET_DIR/$mode/dt-node"

# The template's {{header}}: what the figures were measured with.
header=$(mktemp)
trap 'rm -f "$header"' EXIT
echo "//! Host: a $mode build of dt-node, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg) at the start." >"$header"
for pallet in "${pallets[@]}"; do
	output="${weight_files[$pallet]}"
	echo "benchmarking $pallet ($steps steps, $repeat repeats, $mode dt-node) -> $output"
	"$node_bin" benchmark pallet --chain dev --pallet "$pallet" --extrinsic '*' \
		--steps "$steps" --repeat "$repeat" --wasm-execution compiled \
		--template scripts/weight-template.hbs --header "$header" --output "$output"
done
