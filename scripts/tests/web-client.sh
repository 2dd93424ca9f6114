#!/usr/bin/env bash
# The parties' web client (agent/web): its unit tests (vitest: the store's formats, opened
# and sealed as dt-offchain does), then the pages in a real browser: built, served on a free
# port of 127.0.0.1 and driven in Debian's Chromium against a throw-away `dt-node --dev`
# (agent/web/test/browser). The screenshots are kept in agent/web/test-artifacts/.
set -euo pipefail

cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/dt-ledger/target}"
bin="$(scripts/build.sh | tail -n 1)"
command -v chromium >/dev/null || { echo "no chromium: run scripts/setup.sh"; exit 1; }

(cd agent/web && npm ci --no-audit --no-fund --loglevel=error && npm run build --silent >/dev/null)
(cd agent/web && npx vitest run)
echo "ok   the web client's unit tests pass"

. scripts/dev-node.sh
start_dev_node "$bin/dt-node" web-client

# A twin to show: the demo's bottling plant, created by Alice with dt.
keys=$(mktemp -d -t dt-web-keys.XXXXXX)
web_pid=""
web_log=""
cleanup() {
	kill $web_pid $node_pid 2>/dev/null || true
	wait $web_pid $node_pid 2>/dev/null || true
	rm -rf "$node_log" "$web_log" "$keys"
}
trap cleanup EXIT
dt() { DT_KEYSTORE="$keys" DT_PASSPHRASE=web-client "$bin/dt" --node "ws://127.0.0.1:$rpc_port" "$@"; }
dt key import alice --suri //Alice >/dev/null
twin=$(dt --json twin create scripts/demo/bottling-plant.aml --as alice | sed -n 's/^  "twin": \([0-9]*\),\{0,1\}$/\1/p')
[ -n "$twin" ] || { echo "dt twin create printed no twin id"; exit 1; }

web_port=$(free_port)
web_log=$(mktemp -t dt-web-preview.XXXXXX.log)
(cd agent/web && exec ./node_modules/.bin/vite preview --host 127.0.0.1 --port "$web_port" --strictPort) >"$web_log" 2>&1 &
web_pid=$!
for _ in $(seq 1 60); do
	curl -sf "http://127.0.0.1:$web_port/" >/dev/null && break
	kill -0 "$web_pid" 2>/dev/null || { echo "the web client's server exited:"; cat "$web_log"; exit 1; }
	sleep 0.5
done

if ! (cd agent/web && DT_WEB_URL="http://127.0.0.1:$web_port/" DT_NODE_WS="ws://127.0.0.1:$rpc_port" \
	DT_WEB_ARTIFACTS="$PWD/test-artifacts" DT_TWIN="$twin" node --test test/browser/*.test.mjs); then
	echo "--- dt-node log ---"
	tail -40 "$node_log"
	exit 1
fi
echo "ok   the web client's pages work in Chromium against dt-node (screenshots in agent/web/test-artifacts)"
