# Sourced by the scripts that need a throw-away `dt-node --dev` (scripts/polkadotjs-check.sh,
# scripts/tests/ingestion-bench-smoke.sh, scripts/tests/mqtt-bench-smoke.sh):
# `start_dev_node BINARY NAME` starts it on free ports of 127.0.0.1 with a temporary base
# path, waits until its RPC answers (or fails with the node's log), and stops it and
# deletes its log when the script exits. It sets
# `rpc_port`, `node_pid` and `node_log`.

# A free port of 127.0.0.1 below the kernel's ephemeral range (32768 and up), where the
# local ports of outgoing connections come from: a port 0 probe's port may be taken by a
# connection among the nodes before the node binds it.
free_port() {
	python3 - <<'PY'
import random, socket, sys
for _ in range(200):
    port = random.randrange(10000, 32768)
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
    print(port)
    sys.exit(0)
sys.exit("no free port of 127.0.0.1 found below 32768")
PY
}

start_dev_node() {
	local binary=$1 name=$2 p2p_port
	rpc_port=$(free_port)
	p2p_port=$(free_port)
	node_log=$(mktemp -t "dt-node-$name.XXXXXX.log")
	"$binary" --dev --tmp --rpc-port "$rpc_port" --listen-addr "/ip4/127.0.0.1/tcp/$p2p_port" \
		--no-prometheus --no-telemetry --no-mdns >"$node_log" 2>&1 &
	node_pid=$!
	trap 'kill $node_pid 2>/dev/null || true; wait $node_pid 2>/dev/null || true; rm -f "$node_log"' EXIT
	for _ in $(seq 1 120); do
		if curl -s -H 'Content-Type: application/json' \
			-d '{"id":1,"jsonrpc":"2.0","method":"system_health","params":[]}' \
			"http://127.0.0.1:$rpc_port" | grep -q '"result"'; then
			return 0
		fi
		kill -0 "$node_pid" 2>/dev/null || { echo "dt-node --dev exited:"; tail -30 "$node_log"; exit 1; }
		sleep 1
	done
	echo "dt-node --dev did not answer on port $rpc_port within 120 s:"
	tail -30 "$node_log"
	exit 1
}
