#!/usr/bin/env bash
# A short run of the chain benchmark (agent/dt-agent/examples/chain_bench/) against a
# throw-away `dt-node --dev`, so the harness behind docs/performance.md keeps working: a few
# latency samples, and bursts of remarks, element insertions (one by one and ten to a
# transaction), document registrations,
# checkpoints and the mix of the three, which must lose nothing; three program calls run by
# the device agent and reported back.
# Its figures come from scripts/bench-chain.sh on release builds, never from here. Uses the
# debug example that the suite's test build compiled (`cargo test --workspace --no-run`).
set -euo pipefail

cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/dt-ledger/target}"
bin="$(scripts/build.sh | tail -n 1)"
bench="$CARGO_TARGET_DIR/debug/examples/chain_bench"
[ -x "$bench" ] || cargo build --locked --workspace --bins --example chain_bench >&2

. scripts/dev-node.sh
start_dev_node "$bin/dt-node" chain-smoke
url="ws://127.0.0.1:$rpc_port"

# Runs the benchmark with "$@" and fails, with the node's log, unless it printed `expected`.
run() {
	local expected=$1
	shift
	if ! output=$("$bench" "$@" 2>&1) || ! grep -q "^$expected" <<<"$output"; then
		echo "$output"
		echo "--- no line '$expected'; dt-node log ---"
		tail -40 "$node_log"
		exit 1
	fi
	echo "$output"
}
run "submitted → finalized: p50" latency "$url" "$url" 5 200
run "lost: 0 " burst "$url" "$url" 2 300 remark
for workload in insert insert-batch document checkpoint mix; do
	run "failed: 0 " burst "$url" "$url" 2 100 "$workload"
	grep -q "^lost: 0 " <<<"$output" || { echo "$workload transactions were lost"; exit 1; }
done
run "completed: 3 of 3" roundtrip "$url" "$url" 3 1000
echo "ok   the chain benchmark runs (latency; 600 remarks, 200 each of insertions, batches of ten insertions, documents, checkpoints and the mix on --dev, none lost; 3 program calls completed)"
