#!/usr/bin/env bash
# The parties' web client (agent/web): its unit tests (vitest: the store's formats, opened
# and sealed as dt-offchain does; the key files of `dt key export`), then the pages in a real
# browser: built, served on a free port of 127.0.0.1 and driven in Debian's Chromium against
# a throw-away four-partner `local` consortium (agent/web/test/browser): the bottling-plant
# scenario, each party on its own partner's node (scenario.test.mjs), then each view. The
# screenshots are kept in agent/web/test-artifacts/.
set -euo pipefail

cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/dt-ledger/target}"
# DT_BIN_DIR: a directory holding dt-node, dt and dt-agent built already (else they are built).
bin="${DT_BIN_DIR:-$(scripts/build.sh | tail -n 1)}"
command -v chromium >/dev/null || { echo "no chromium: run scripts/setup.sh"; exit 1; }

(cd agent/web && npm ci --no-audit --no-fund --loglevel=error && npm run build --silent >/dev/null)
(cd agent/web && npx vitest run)
echo "ok   the web client's unit tests pass"

. scripts/dev-node.sh
. scripts/local-consortium.sh
start_local_consortium "$bin" web-client
manufacturer_ws="ws://127.0.0.1:$consortium_rpc"
owner_ws="ws://127.0.0.1:$((consortium_rpc + 1))"
maintainer_ws="ws://127.0.0.1:$((consortium_rpc + 2))"
auditor_ws="ws://127.0.0.1:$((consortium_rpc + 3))"

keys=$(mktemp -d -t dt-web-keys.XXXXXX)
web_pid=""
web_log=""
agent_pid=""
cleanup() {
	kill $web_pid $agent_pid 2>/dev/null || true
	wait $web_pid $agent_pid 2>/dev/null || true
	stop_local_consortium
	rm -rf "$web_log" "$keys"
}
trap cleanup EXIT
passphrase='correct horse web client'
dt() { DT_KEYSTORE="$keys" DT_PASSPHRASE="$passphrase" "$bin/dt" --node "$manufacturer_ws" "$@"; }
# The scenario's parties, as in scripts/demo.sh: the owner (Bob) creates the bottling plant's
# twin and grants the manufacturer (Alice), the maintainer (Charlie) and the auditor (Dave)
# their roles; Eve is an outsider. Each is the admin of its organisation with its RSA key
# registered; the pages import what `dt key export` writes.
mkdir "$keys/export"
for party in alice:Alice bob:Bob charlie:Charlie dave:Dave eve:Eve; do
	dt key import "${party%%:*}" --suri "//${party##*:}" >/dev/null
	dt key export "${party%%:*}" --out "$keys/export" >/dev/null
	[ "${party%%:*}" = eve ] || dt key register "${party%%:*}" >/dev/null
done
twin=$(dt --json twin create scripts/demo/bottling-plant.aml --as bob | sed -n 's/^  "twin": \([0-9]*\),\{0,1\}$/\1/p')
[ -n "$twin" ] || { echo "dt twin create printed no twin id"; exit 1; }
for grant in alice:manufacturer charlie:maintainer dave:auditor; do
	dt access grant "$twin" "${grant%%:*}" "${grant##*:}" --as bob >/dev/null
done
# A proposal to vote on: the manufacturer's admin proposes the upgrade fixture (spec 101).
upgrade_code="$CARGO_TARGET_DIR/debug/wbuild/dt-runtime/dt_runtime_upgrade_fixture.rs.wasm"
dt consortium propose-upgrade "$upgrade_code" --as alice >/dev/null
# Documents: the owner uploads an inspection report on the first fill-level sensor (2.5 MB:
# three chunks) and annotates it, and a secret blueprint only the owner may read.
json_number() { sed -n "s/^  \"$1\": \([0-9]*\),\{0,1\}\$/\1/p"; }
head -c 2500000 /dev/urandom >"$keys/inspection-report.bin"
document=$(dt --json doc upload "$twin" "$keys/inspection-report.bin" --title 'Inspection report' \
	--element fill-level-sensor-1 --confidentiality confidential --as bob | json_number document)
annotation='Checked after the sensor swap'
dt doc annotate "$twin" "$document" "$annotation" --as bob >/dev/null
echo 'the blueprint' >"$keys/blueprint.txt"
secret_document=$(dt --json doc upload "$twin" "$keys/blueprint.txt" --title Blueprint --confidentiality secret \
	--as bob | json_number document)
[ -n "$document" ] && [ -n "$secret_document" ] || { echo "dt doc upload printed no document id"; exit 1; }
# A program to call from the page: the station's SetFillVolume with its AML's bounds.
dt twin declare-program "$twin" filling-station-1 SetFillVolume --parameters-from set-fill-volume-1 \
	--as bob >/dev/null
# The feeds and the program's device: the plant's device agent (//Ferdie, a member of Owner
# with the Device role) streams both stations' simulated fill-level sensors into Internal
# feeds, each 100 readings per second, sealed under key epochs for the parties cleared for
# them (Bob among them). Then the second station's sensor is exchanged (SIGUSR1): the agent
# replaces its element and feed on chain, so the old sensor's feed is closed.
dt key import plant-agent --suri //Ferdie >/dev/null
dt member add plant-agent --as bob >/dev/null
dt access grant "$twin" plant-agent device --as bob >/dev/null
dt access permissions "$twin" device --add write-spec:filling-station-2 --as bob >/dev/null
DT_AGENT_KEY=//Ferdie "$bin/dt-agent" --node "$owner_ws" --twin "$twin" \
	--station filling-station-2 --sensor filling-station-2=fill-level-sensor-2 \
	--station filling-station-1 --sensor filling-station-1=fill-level-sensor-1 \
	--sample-interval 10ms --register-feeds --feed-confidentiality internal \
	--data-dir "$keys/agent-data" >"$keys/agent.log" 2>&1 &
agent_pid=$!
# `feed_of ELEMENT [closed]`: the id of the element's active (or closed) feed, if any.
feed_of() {
	dt --json feed list "$twin" | python3 -c '
import json, sys
element, closed = sys.argv[1], len(sys.argv) > 2
for feed in json.load(sys.stdin)["feeds"]:
    if feed["element"] == element and feed["active"] != closed:
        print(feed["feed"])
        break' "$@"
}
wait_for_feed() {
	local found=""
	for _ in $(seq 1 90); do
		found=$(feed_of "$@")
		[ -n "$found" ] && { echo "$found"; return 0; }
		kill -0 "$agent_pid" 2>/dev/null || { echo "dt-agent exited:" >&2; cat "$keys/agent.log" >&2; exit 1; }
		sleep 1
	done
	echo "no feed for $* within 90 s:" >&2
	cat "$keys/agent.log" >&2
	exit 1
}
feed=$(wait_for_feed fill-level-sensor-1)
wait_for_feed fill-level-sensor-2 >/dev/null
sleep 3
kill -USR1 "$agent_pid"
closed_feed=$(wait_for_feed fill-level-sensor-2 closed)
# The new sensor's element, which the agent inserted in the exchange (an active feed on it).
new_sensor=$(dt --json feed list "$twin" | python3 -c '
import json, sys
print(next(feed["element"] for feed in json.load(sys.stdin)["feeds"]
           if feed["active"] and feed["element"].startswith("fill-level-sensor-2-")))')

web_port=$(free_port)
web_log=$(mktemp -t dt-web-preview.XXXXXX.log)
(cd agent/web && exec ./node_modules/.bin/vite preview --host 127.0.0.1 --port "$web_port" --strictPort) >"$web_log" 2>&1 &
web_pid=$!
for _ in $(seq 1 60); do
	curl -sf "http://127.0.0.1:$web_port/" >/dev/null && break
	kill -0 "$web_pid" 2>/dev/null || { echo "the web client's server exited:"; cat "$web_log"; exit 1; }
	sleep 0.5
done

# The owner's partner looks at the chain through its own node.
# Screenshots of this run only: none left from an earlier one to mislead.
rm -rf agent/web/test-artifacts
if ! (cd agent/web && DT_WEB_URL="http://127.0.0.1:$web_port/" DT_NODE_WS="$owner_ws" \
	DT_WEB_ARTIFACTS="$PWD/test-artifacts" DT_TWIN="$twin" DT_WEB_KEYS="$keys/export" \
	DT_WEB_PASSPHRASE="$passphrase" DT_UPGRADE_CODE="$upgrade_code" DT_DOCUMENT="$document" \
	DT_DOCUMENT_FILE="$keys/inspection-report.bin" DT_ANNOTATION="$annotation" \
	DT_SECRET_DOCUMENT="$secret_document" DT_FEED="$feed" DT_BIN="$bin/dt" DT_KEYSTORE="$keys" \
	DT_MANUFACTURER_WS="$manufacturer_ws" DT_MAINTAINER_WS="$maintainer_ws" DT_AUDITOR_WS="$auditor_ws" \
	DT_CLOSED_FEED="$closed_feed" DT_NEW_SENSOR="$new_sensor" \
	node --test --test-concurrency=1 test/browser/*.test.mjs); then
	echo "--- the owner's node's log ---"
	tail -40 "$consortium_dir/chain/owner.log"
	exit 1
fi
echo "ok   the web client's pages work in Chromium against the four-partner consortium (screenshots in agent/web/test-artifacts)"
