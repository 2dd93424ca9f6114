#!/usr/bin/env bash
# Starts a throw-away `dt-node --dev` and runs scripts/polkadotjs/check.mjs against it.
set -euo pipefail

cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/dt-ledger/target}"
node_bin="$(scripts/build.sh | tail -n 1)/dt-node"

(cd scripts/polkadotjs && npm ci --no-audit --no-fund --loglevel=error)

rpc_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
p2p_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
log=$(mktemp -t dt-node-polkadotjs.XXXXXX.log)
"$node_bin" --dev --tmp --rpc-port "$rpc_port" --listen-addr "/ip4/127.0.0.1/tcp/$p2p_port" \
	--no-prometheus --no-telemetry --no-mdns >"$log" 2>&1 &
node_pid=$!
trap 'kill $node_pid 2>/dev/null || true; wait $node_pid 2>/dev/null || true' EXIT

for _ in $(seq 1 120); do
	if curl -s -H 'Content-Type: application/json' \
		-d '{"id":1,"jsonrpc":"2.0","method":"system_health","params":[]}' \
		"http://127.0.0.1:$rpc_port" | grep -q '"result"'; then
		break
	fi
	kill -0 "$node_pid" 2>/dev/null || { echo "dt-node --dev exited:"; tail -30 "$log"; exit 1; }
	sleep 1
done

if ! node scripts/polkadotjs/check.mjs "ws://127.0.0.1:$rpc_port"; then
	echo "--- dt-node log ---"
	tail -40 "$log"
	exit 1
fi
rm -f "$log"
