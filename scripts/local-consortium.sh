# Sourced by the scripts that need a throw-away four-partner `local` consortium
# (scripts/tests/web-client.sh, scripts/benchmark-db-weights.sh):
# `start_local_consortium BIN_DIR NAME` starts scripts/local-network.sh with the dt-node in
# BIN_DIR, a temporary chain directory and free ports of 127.0.0.1, waits until the
# consortium finalizes blocks (or fails with its logs), and stops the four nodes and deletes
# their data when the script exits. It sets
# `consortium_rpc` (the first partner's RPC port; partner i listens on consortium_rpc + i),
# `consortium_pid` and `consortium_dir`.

# The first of `count` consecutive free ports of 127.0.0.1 (plus the same block 100 above,
# which local-network.sh gives the off-chain store), below the kernel's ephemeral range
# (32768 and up) that the local ports of the nodes' outgoing connections come from.
free_port_block() {
	python3 - "$1" <<'PY'
import random, socket, sys
count = int(sys.argv[1])
def free(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False
for _ in range(200):
    base = random.randrange(10000, 32768 - 100 - count)
    if all(free(p) for p in list(range(base, base + count)) + list(range(base + 100, base + 100 + count))):
        print(base)
        sys.exit(0)
sys.exit("no block of free ports found")
PY
}

start_local_consortium() {
	local bin=$1 name=$2
	consortium_dir=$(mktemp -d -t "dt-consortium-$name.XXXXXX")
	consortium_rpc=$(free_port_block 4)
	: >"$consortium_dir/local-network.log"
	DT_NODE_BIN="$bin/dt-node" DT_NETWORK_DIR="$consortium_dir/chain" DT_BASE_PORT="$(free_port_block 4)" \
		DT_RPC_PORT="$consortium_rpc" DT_PROMETHEUS_PORT="$(free_port_block 4)" \
		scripts/local-network.sh >"$consortium_dir/local-network.log" 2>&1 &
	consortium_pid=$!
	trap stop_local_consortium EXIT
	for _ in $(seq 1 180); do
		grep -q 'the consortium finalizes blocks' "$consortium_dir/local-network.log" && return 0
		if ! kill -0 "$consortium_pid" 2>/dev/null; then
			echo "the local consortium stopped before finalizing:"
			cat "$consortium_dir/local-network.log"
			tail -n 20 "$consortium_dir"/chain/*.log
			exit 1
		fi
		sleep 1
	done
	echo "the local consortium finalized nothing within 180 s:"
	tail -n 20 "$consortium_dir"/chain/*.log
	exit 1
}

stop_local_consortium() {
	# local-network.sh stops its nodes on TERM.
	kill "$consortium_pid" 2>/dev/null || true
	wait "$consortium_pid" 2>/dev/null || true
	rm -rf "$consortium_dir"
}
