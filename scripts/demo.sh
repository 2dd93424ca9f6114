#!/usr/bin/env bash
# The bottling-plant scenario, step by step, on the four-partner local consortium: the
# owner creates the plant's twin from the manufacturer's AML file and shares it; the device
# agent, connected to the plant's PLC over OPC UA (dt-plc, signed and encrypted), streams
# the fill-level sensor; the sensor breaks and is exchanged at the PLC, and the agent
# replaces it on chain by itself; the maintainer files the maintenance report; each party
# then looks at the twin with `dt`, seeing what its role allows and nothing more.
#
#   scripts/demo.sh            build, run the scenario, stop everything
#   scripts/demo.sh --keep     leave the consortium, the PLC and the agent running at the end
#   scripts/demo.sh --release  run it on release builds (what a real partner runs; slower to
#                              build the first time, far faster to run)
#
# Environment: CARGO_TARGET_DIR (default $HOME/.cache/dt-ledger/target), DT_DEMO_DIR (default
# a new temporary directory), DT_BASE_PORT (default 31333; the PLC listens on it + 200),
# DT_RPC_PORT (default 9944).
set -euo pipefail

cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/dt-ledger/target}"
demo_dir="${DT_DEMO_DIR:-$(mktemp -d -t dt-ledger-demo.XXXXXX)}"
rpc_base="${DT_RPC_PORT:-9944}"
keep=false
build_args=()
for option in "$@"; do
	case "$option" in
		--keep) keep=true ;;
		--release) build_args=(--release) ;;
		*)
			echo "demo.sh: unknown option '$option' (use --keep and/or --release)" >&2
			exit 2
			;;
	esac
done

scripts/setup.sh
echo "building dt-node, dt, dt-agent and dt-plc (the first build takes about half an hour)"
bin=$(scripts/build.sh "${build_args[@]+"${build_args[@]}"}" | tail -n 1)

bold() { printf '\n\033[1m%s\033[0m\n' "$*"; }
# `as_party NAME ARGS...`: runs dt as that party, on that party's own node.
declare -A node_of=([manufacturer]=0 [owner]=1 [maintainer]=2 [auditor]=3)
as_party() {
	local party=$1
	shift
	printf '\033[2m%s$ dt %s\033[0m\n' "$party" "$*"
	DT_KEYSTORE="$demo_dir/$party-keys" DT_PASSPHRASE="demo passphrase" \
		"$bin/dt" --node "ws://127.0.0.1:$((rpc_base + node_of[$party]))" "$@"
}
# The same, printing only the JSON field given as the last argument (for ids).
field_of() {
	local party=$1 field=${*: -1}
	shift
	DT_KEYSTORE="$demo_dir/$party-keys" DT_PASSPHRASE="demo passphrase" \
		"$bin/dt" --node "ws://127.0.0.1:$((rpc_base + node_of[$party]))" --json "${@:1:$#-1}" |
		sed -n "s/^  \"$field\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}$/\1/p" | head -1
}

network_pid=""
agent_pid=""
plc_pid=""
watch_pid=""
stop_all() {
	trap - INT TERM EXIT
	if ! $keep; then
		for pid in $watch_pid $agent_pid $plc_pid; do kill "$pid" 2>/dev/null || true; done
		[ -n "$network_pid" ] && kill "$network_pid" 2>/dev/null || true
		wait 2>/dev/null || true
		echo "stopped; everything the demo wrote is in $demo_dir"
	fi
}
trap stop_all INT TERM EXIT

bold "== The consortium: four partners, each with a chain node and an off-chain store node"
DT_NETWORK_DIR="$demo_dir/chain" DT_NODE_BIN="$bin/dt-node" DT_BASE_PORT="${DT_BASE_PORT:-31333}" \
	DT_RPC_PORT="$rpc_base" scripts/local-network.sh --purge &
network_pid=$!
for _ in $(seq 1 180); do
	if DT_KEYSTORE="$demo_dir/probe" "$bin/dt" --node "ws://127.0.0.1:$rpc_base" twin list >/dev/null 2>&1; then
		break
	fi
	sleep 1
done
sleep 6

bold "== Every party's keys; the RSA keys documents are encrypted to go on chain"
for entry in manufacturer://Alice owner://Bob maintainer://Charlie auditor://Dave; do
	party=${entry%%:*}
	as_party "$party" key import "$party" --suri "${entry#*:}" >/dev/null
	as_party "$party" key register "$party"
done
as_party owner key import plant-agent --suri //Ferdie >/dev/null
as_party owner member add plant-agent --as owner

bold "== 1. The owner creates the plant's twin from the manufacturer's AML file"
twin=$(field_of owner twin create scripts/demo/bottling-plant.aml --as owner twin)
as_party owner twin show "$twin"
as_party owner twin declare-program "$twin" filling-station-1 SetFillVolume \
	--parameters-from set-fill-volume-1 --as owner
for grant in //Alice:manufacturer //Charlie:maintainer //Dave:auditor plant-agent:device; do
	as_party owner access grant "$twin" "${grant%%:*}" "${grant##*:}" --as owner
done
# The device registers the confidential fill-level feed: it must be cleared for it.
as_party owner access permissions "$twin" device --add write-spec:filling-station-1 \
	read:confidential --as owner
printf '%%PDF-1.7\nFiller valve geometry: confidential to the owner.\n' >"$demo_dir/filler-blueprint.pdf"
blueprint=$(field_of owner doc upload "$twin" "$demo_dir/filler-blueprint.pdf" \
	--title "Filler blueprint" --element filling-station-1 --confidentiality secret --as owner document)
as_party owner doc show "$twin" "$blueprint" --as owner

bold "== The owner watches the twin (notifications in $demo_dir/owner-watch.log)"
DT_KEYSTORE="$demo_dir/owner-keys" "$bin/dt" --node "ws://127.0.0.1:$((rpc_base + 1))" \
	watch "$twin" >"$demo_dir/owner-watch.log" 2>/dev/null &
watch_pid=$!

bold "== 2. The plant's PLC serves the line over OPC UA; the device agent streams the"
bold "   fill-level sensor, encrypted for the parties cleared for confidential data"
plc_port=$((${DT_BASE_PORT:-31333} + 200))
printf 'plc-demo-password\n' >"$demo_dir/plc-password"
# The PLC's console: the sensor breaks after 20 s and the maintainer exchanges it there.
(sleep 20 && echo "exchange filling-station-1") |
	"$bin/dt-plc" --port "$plc_port" --pki "$demo_dir/plc-pki" --station filling-station-1 \
		--user dt-agent --password-file "$demo_dir/plc-password" >"$demo_dir/plc.log" 2>&1 &
plc_pid=$!
for _ in $(seq 1 100); do [ -f "$demo_dir/plc-pki/own/cert.der" ] && break; sleep 0.1; done
cat >"$demo_dir/plant-opcua.toml" <<EOF
# The plant's PLC as the agent reaches it (see agent/dt-agent/devices/bottling-plant-opcua.toml).
[opcua]
endpoint = "opc.tcp://127.0.0.1:$plc_port/"
security_policy = "Basic256Sha256"
security_mode = "SignAndEncrypt"
pki_dir = "agent-pki"
server_certificate = "plc-pki/own/cert.der"
username = "dt-agent"
password = { file = "plc-password" }
publishing_interval = "250ms"

[[sensor]]
station = "filling-station-1"
element = "fill-level-sensor-1"
serial = "FLS-0001"
unit = "mm"
min = 240.0
max = 260.0
node = "ns=2;s=filling-station-1.FillLevel"
sampling = "250ms"

[[program]]
element = "filling-station-1"
name = "SetFillVolume"
object = "ns=2;s=filling-station-1"
method = "ns=2;s=filling-station-1.SetFillVolume"
arguments = ["volume:Double"]
timeout = "5s"

[[exchange]]
station = "filling-station-1"
node = "ns=2;s=filling-station-1.SensorSerial"
element = "fill-level-sensor-1-{serial}"
fragment = '<InternalElement Name="FillLevelSensor" ID="{element}"><Attribute Name="SerialNumber"><Value>{serial}</Value></Attribute><Attribute Name="FillLevel" Unit="mm"/></InternalElement>'

[envelope.programs.SetFillVolume]
volume = { min = 250.0, max = 950.0 }
EOF
DT_AGENT_KEY=//Ferdie "$bin/dt-agent" --node "ws://127.0.0.1:$((rpc_base + 1))" --twin "$twin" \
	--device "$demo_dir/plant-opcua.toml" --register-feeds --feed-confidentiality confidential \
	--sample-interval 250ms --checkpoint-interval 5s \
	--data-dir "$demo_dir/agent-data" 2>"$demo_dir/agent.log" &
agent_pid=$!
sleep 10
as_party maintainer feed list "$twin"

echo "waiting for the exchanged sensor to be replaced on chain by the agent..."
new_element=""
for _ in $(seq 1 180); do
	new_element=$(DT_KEYSTORE="$demo_dir/maintainer-keys" "$bin/dt" --node "ws://127.0.0.1:$((rpc_base + 2))" \
		--json feed list "$twin" | grep -o '"element": "fill-level-sensor-1-[^"]*"' | head -1 |
		sed 's/.*: "\(.*\)"/\1/' || true)
	[ -n "$new_element" ] && break
	sleep 1
done
[ -n "$new_element" ] || { echo "the agent did not replace the sensor; see $demo_dir/agent.log" >&2; exit 1; }
sleep 4
grep "exchanged\|replaced" "$demo_dir/agent.log" || true
as_party maintainer feed list "$twin"

bold "== 3. The maintainer uploads the maintenance report, attached to the new sensor"
printf 'Fill-level sensor FLS-1001 failed (stuck); exchanged. Bottles no longer overflow.\n' \
	>"$demo_dir/maintenance-report.txt"
report=$(field_of maintainer doc upload "$twin" "$demo_dir/maintenance-report.txt" \
	--title "Maintenance report: fill-level sensor" --element "$new_element" \
	--confidentiality confidential --as maintainer document)
as_party maintainer doc show "$twin" "$report" --as maintainer
as_party maintainer program call "$twin" filling-station-1 SetFillVolume volume=2000.0 --as maintainer || true
as_party maintainer program call "$twin" filling-station-1 SetFillVolume volume=500.0 --wait --as maintainer

bold "== 4a. The owner was notified"
sleep 8
cat "$demo_dir/owner-watch.log"

bold "== 4b. The manufacturer analyses the broken sensor's last readings"
old_feed=$(DT_KEYSTORE="$demo_dir/manufacturer-keys" "$bin/dt" --node "ws://127.0.0.1:$rpc_base" \
	--json feed list "$twin" | awk '
		/"element":/ { element = $2 }
		/"feed":/ { feed = $2 }
		/^    }/ { if (element == "\"fill-level-sensor-1\",") print feed; element = ""; feed = "" }' |
	tr -d ',' | head -1)
as_party manufacturer feed latest "$old_feed" --as manufacturer
as_party manufacturer feed range "$old_feed" --since "$(($(date +%s) - 3600))000" --until now \
	--as manufacturer | tail -10

bold "== 4c. The auditor reads the trail, verifies it, reads the report"
as_party auditor audit "$twin"
as_party auditor verify "$twin" --as auditor
as_party auditor doc list "$twin" --as auditor
as_party auditor doc download "$twin" "$report" -o "$demo_dir/report-read-by-auditor.txt" --as auditor
cat "$demo_dir/report-read-by-auditor.txt"

bold "== 4d. Nobody reads what their role does not allow: the auditor and the blueprint"
as_party auditor doc download "$twin" "$blueprint" -o "$demo_dir/blueprint-read-by-auditor.pdf" --as auditor ||
	echo "(refused, as it should be)"

bold "== Done"
echo "Everything the demo wrote (keys, logs, downloads) is in $demo_dir"
if $keep; then
	echo "The consortium (ws://127.0.0.1:$rpc_base..$((rpc_base + 3))), the PLC"
	echo "(opc.tcp://127.0.0.1:$plc_port/) and the agent keep running;"
	echo "stop them with: kill $network_pid $agent_pid $plc_pid $watch_pid"
	echo "Web client (serve it with scripts/web.sh), each party on its own node:"
	for party in manufacturer owner maintainer auditor; do
		printf '  %-13s http://127.0.0.1:%s/?node=ws://127.0.0.1:%s\n' "$party" "${DT_WEB_PORT:-8080}" "$((rpc_base + node_of[$party]))"
	done
fi
