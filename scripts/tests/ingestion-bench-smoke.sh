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

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
rpc_port=$(free_port)
p2p_port=$(free_port)
log=$(mktemp -t dt-node-ingestion-smoke.XXXXXX.log)
"$bin/dt-node" --dev --tmp --rpc-port "$rpc_port" --listen-addr "/ip4/127.0.0.1/tcp/$p2p_port" \
	--no-prometheus --no-telemetry --no-mdns >"$log" 2>&1 &
node_pid=$!
trap 'kill $node_pid 2>/dev/null || true; wait $node_pid 2>/dev/null || true; rm -f "$log"' EXIT

for _ in $(seq 1 120); do
	if curl -s -H 'Content-Type: application/json' \
		-d '{"id":1,"jsonrpc":"2.0","method":"system_health","params":[]}' \
		"http://127.0.0.1:$rpc_port" | grep -q '"result"'; then
		break
	fi
	kill -0 "$node_pid" 2>/dev/null || { echo "dt-node --dev exited:"; tail -30 "$log"; exit 1; }
	sleep 1
done

if ! output=$("$bench" "ws://127.0.0.1:$rpc_port" 2000 500 2>&1); then
	echo "$output"
	echo "--- dt-node log ---"
	tail -40 "$log"
	exit 1
fi
echo "$output"
for line in "plaintext (public feed" "encrypted (confidential feed"; do
	grep -q "^$line" <<<"$output" || { echo "no '$line' figure"; exit 1; }
done
echo "ok   the feed-ingestion benchmark runs (plaintext and encrypted, 2000 samples each)"
