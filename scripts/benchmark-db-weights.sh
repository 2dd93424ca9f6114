#!/usr/bin/env bash
# Measures the runtime's database weights (what one read and one write of the chain's state
# cost) with `dt-node benchmark storage` on a partner node's RocksDB and writes
# runtime/src/db_weights.rs, which the runtime's `DbWeight`, and so every call's weight, uses.
#
#   scripts/benchmark-db-weights.sh                     on a consortium it fills itself
#   scripts/benchmark-db-weights.sh BASE_PATH [CHAIN]   on a stopped node's chain data
#
# A fresh chain's state is a few kilobytes in the operating system's cache and would give
# figures no partner sees later. So without arguments the script starts the four-partner
# `local` consortium (scripts/local-consortium.sh), fills its state the way
# scripts/bench-chain.sh's bursts do (4,000 element insertions, 4,000 document
# registrations, 4,000 feed checkpoints from four accounts), stops it and measures the
# manufacturer's database. BASE_PATH is instead the --base-path of a stopped node of CHAIN
# (default `local`) whose state is real.
#
# Every key of the state at the best block is read; then every key is written with a new
# value, 1,000 keys to a commit as a block's import commits its writes together; the
# weights are the average per key times 1.1. Uses the release build with runtime-benchmarks that
# scripts/benchmark-weights.sh and scripts/bench-chain.sh share.
set -euo pipefail

cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/dt-ledger/target}"
base_path=${1:-}
chain=${2:-local}
if [ -n "$base_path" ] && [ ! -d "$base_path/chains" ]; then
	echo "benchmark-db-weights.sh: $base_path is not a node's --base-path (it has no chains/)" >&2
	exit 2
fi
export SKIP_FRAME_STORAGE_ACCESS_TEST_RUNTIME_WASM_BUILD=1
# As scripts/benchmark-weights.sh builds it (one build for it and scripts/bench-chain.sh).
cargo build --locked --release --workspace --bins --example chain_bench --example ingestion_bench \
	--features dt-node/runtime-benchmarks >&2
bin="$CARGO_TARGET_DIR/release"

if [ -z "$base_path" ]; then
	. scripts/local-consortium.sh
	start_local_consortium "$bin" db-weights
	manufacturer="ws://127.0.0.1:$consortium_rpc"
	maintainer="ws://127.0.0.1:$((consortium_rpc + 2))"
	for workload in insert document checkpoint; do
		echo "filling the state: 4,000 of $workload from four accounts"
		"$bin/examples/chain_bench" burst "$manufacturer" "$maintainer" 4 1000 "$workload"
	done
	# Stopped, so the benchmark alone opens the database; the EXIT trap deletes it.
	kill "$consortium_pid"
	wait "$consortium_pid" || true
	base_path="$consortium_dir/chain/manufacturer"
fi

header=$(mktemp)
trap 'rm -f "$header"; if declare -F stop_local_consortium >/dev/null; then stop_local_consortium; fi' EXIT
echo "//! Host: a release build of dt-node, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg) at the start." >"$header"
"$bin/dt-node" benchmark storage --chain "$chain" --base-path "$base_path" --state-version 1 \
	--batch-size 1000 --mul 1.1 --template-path scripts/db-weight-template.hbs --header "$header" \
	--weight-path runtime/src/db_weights.rs
