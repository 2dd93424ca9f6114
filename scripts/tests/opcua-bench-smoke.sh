#!/usr/bin/env bash
# A short run of the OPC UA forwarding benchmark (agent/dt-agent/examples/opcua_bench.rs,
# its OPC UA server in the same process) against a throw-away `dt-node --dev`, so the
# harness behind docs/performance.md keeps working; its figures come from release builds,
# never from here. Uses the debug example that the suite's test build compiled.
set -euo pipefail

cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/dt-ledger/target}"
bin="$(scripts/build.sh | tail -n 1)"
bench="$CARGO_TARGET_DIR/debug/examples/opcua_bench"
[ -x "$bench" ] || cargo build --locked -p dt-agent --example opcua_bench >&2

. scripts/dev-node.sh
start_dev_node "$bin/dt-node" opcua-smoke

# 12,000 readings/s: more than the 1000 values one publication may carry every 100 ms, so
# the run also shows that the agent takes them over several publications, losing none.
if ! output=$("$bench" "ws://127.0.0.1:$rpc_port" 5000 12000 encrypt 2>&1); then
	echo "$output"
	echo "--- dt-node log ---"
	tail -40 "$node_log"
	exit 1
fi
echo "$output"
for line in "offered:" "forwarded:" "dropped by the server's queues: 0"; do
	grep -q "^$line" <<<"$output" || { echo "no '$line' line"; exit 1; }
done
echo "ok   the OPC UA forwarding benchmark runs (5000 readings at 12,000/s over SignAndEncrypt, none lost)"
