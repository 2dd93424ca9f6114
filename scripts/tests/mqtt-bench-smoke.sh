#!/usr/bin/env bash
# A short run of the MQTT forwarding benchmark (agent/dt-agent/examples/mqtt_bench.rs)
# against a throw-away mosquitto and `dt-node --dev`, so the harness behind
# docs/performance.md keeps working; its figures come from release builds, never from here.
# Uses the debug example that the suite's test build compiled.
set -euo pipefail

cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/dt-ledger/target}"
bin="$(scripts/build.sh | tail -n 1)"
bench="$CARGO_TARGET_DIR/debug/examples/mqtt_bench"
[ -x "$bench" ] || cargo build --locked -p dt-agent --example mqtt_bench >&2

. scripts/dev-node.sh
start_dev_node "$bin/dt-node" mqtt-smoke

# The broker: anonymous, on a free port of 127.0.0.1, keeping every reading for the agent's
# session while it is away (the backlog run), run as this user (started by root, mosquitto
# would switch to the user `mosquitto`).
broker_dir=$(mktemp -d -t dt-mqtt-smoke.XXXXXX)
broker_port=$(free_port)
cat >"$broker_dir/mosquitto.conf" <<CONF
listener $broker_port 127.0.0.1
allow_anonymous true
max_queued_messages 0
user $(id -un)
log_dest file $broker_dir/mosquitto.log
CONF
mosquitto=$(command -v mosquitto || echo /usr/sbin/mosquitto)
"$mosquitto" -c "$broker_dir/mosquitto.conf" &
broker_pid=$!
trap 'kill $broker_pid $node_pid 2>/dev/null || true; wait $broker_pid $node_pid 2>/dev/null || true; rm -rf "$broker_dir" "$node_log"' EXIT
for _ in $(seq 1 50); do
	python3 -c "import socket; socket.create_connection(('127.0.0.1', $broker_port), 1)" 2>/dev/null && break
	sleep 0.2
done

if ! output=$("$bench" "ws://127.0.0.1:$rpc_port" "127.0.0.1:$broker_port" 2000 2>&1); then
	echo "$output"
	echo "--- mosquitto log ---"
	cat "$broker_dir/mosquitto.log"
	echo "--- dt-node log ---"
	tail -40 "$node_log"
	exit 1
fi
echo "$output"
for line in "live, published" "live, forwarded" "backlog, forwarded"; do
	grep -q "^$line" <<<"$output" || { echo "no '$line' figure"; exit 1; }
done
echo "ok   the MQTT forwarding benchmark runs (2000 readings)"
