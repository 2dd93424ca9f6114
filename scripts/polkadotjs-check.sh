#!/usr/bin/env bash
# Starts a throw-away `dt-node --dev` and runs scripts/polkadotjs/check.mjs against it.
set -euo pipefail

cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/dt-ledger/target}"
node_bin="$(scripts/build.sh | tail -n 1)/dt-node"

(cd scripts/polkadotjs && npm ci --no-audit --no-fund --loglevel=error)

. scripts/dev-node.sh
start_dev_node "$node_bin" polkadotjs

if ! node scripts/polkadotjs/check.mjs "ws://127.0.0.1:$rpc_port"; then
	echo "--- dt-node log ---"
	tail -40 "$node_log"
	exit 1
fi
