#!/usr/bin/env bash
# A short run of the feed-ingestion benchmark (agent/dt-agent/examples/ingestion_bench.rs)
# against a throw-away `dt-node --dev`, so the harness behind docs/performance.md keeps
# working; its figures come from release builds, never from here. Uses the debug example
# that the suite's test build compiled (`cargo test --workspace --no-run` builds examples).
set -euo pipefail

cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/dt-ledger/target}"
bin="$(scripts/build.sh | tail -n 1)"
bench="$CARGO_TARGET_DIR/debug/examples/ingestion_bench"
[ -x "$bench" ] || cargo build --locked -p dt-agent --example ingestion_bench >&2

. scripts/dev-node.sh
start_dev_node "$bin/dt-node" ingestion-smoke

if ! output=$("$bench" "ws://127.0.0.1:$rpc_port" 2000 500 2>&1); then
	echo "$output"
	echo "--- dt-node log ---"
	tail -40 "$node_log"
	exit 1
fi
echo "$output"
for line in "plaintext (public feed" "encrypted (confidential feed"; do
	grep -q "^$line" <<<"$output" || { echo "no '$line' figure"; exit 1; }
done
echo "ok   the feed-ingestion benchmark runs (plaintext and encrypted, 2000 samples each)"
