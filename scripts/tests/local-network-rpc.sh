#!/usr/bin/env bash
# Tests how scripts/local-network.sh exposes the nodes' RPC, against a fake dt-node that
# records its command line: the nodes serve unsafe methods (the store's writes, key
# insertion) on their loopback ports, so no node may let every browser origin call them
# (`--rpc-cors all`); DT_RPC_CORS names the origins to allow, and "all" is refused.
set -euo pipefail
cd "$(dirname "$0")/../.."

sandbox=$(mktemp -d -t dt-ledger-local-network-test.XXXXXX)
trap 'rm -rf "$sandbox"' EXIT
failures=0

cat >"$sandbox/dt-node" <<FAKE
#!/bin/sh
# Records its arguments, one per line, and exits: local-network.sh then stops, saying a
# node exited.
printf '%s\n' "\$@" >"$sandbox/args.\$\$"
FAKE
chmod +x "$sandbox/dt-node"

# Runs local-network.sh with the fake node and `$@` as extra environment; prints its output.
run() {
	rm -f "$sandbox"/args.*
	env DT_NODE_BIN="$sandbox/dt-node" DT_NETWORK_DIR="$sandbox/network" \
		DT_RPC_PORT=1 "$@" scripts/local-network.sh 2>&1 || true
}

fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

# Every node started, none with CORS open to every origin, none with other origins.
run >"$sandbox/out"
started=$(ls "$sandbox"/args.* 2>/dev/null | wc -l)
[ "$started" -eq 4 ] || fail "expected 4 nodes, $started started: $(cat "$sandbox/out")"
for args in "$sandbox"/args.*; do
	grep -qx -- '--rpc-port' "$args" || fail "a node without --rpc-port"
	if grep -qx -- '--rpc-cors' "$args"; then
		fail "a node allows origins by default: $(grep -A1 -x -- '--rpc-cors' "$args" | tail -n 1)"
	fi
	if grep -qx -- '--rpc-external\|--unsafe-rpc-external' "$args"; then
		fail "a node's RPC listens beyond loopback"
	fi
done

# Named origins are passed on.
run DT_RPC_CORS=http://localhost:5173 >"$sandbox/out"
for args in "$sandbox"/args.*; do
	[ "$(grep -A1 -x -- '--rpc-cors' "$args" | tail -n 1)" = http://localhost:5173 ] ||
		fail "DT_RPC_CORS was not passed on"
done

# Every origin is refused before any node starts.
for everyone in all '*'; do
	out=$(run DT_RPC_CORS="$everyone")
	if ls "$sandbox"/args.* >/dev/null 2>&1; then
		fail "DT_RPC_CORS=$everyone started nodes"
	fi
	echo "$out" | grep -q "unsafe methods" || fail "DT_RPC_CORS=$everyone was not explained: $out"
done

if [ "$failures" -gt 0 ]; then
	echo "0 passed, $failures failed"
	exit 1
fi
echo "4 passed, 0 failed"
