#!/usr/bin/env bash
# Starts the four partners of the `local` consortium (Manufacturer/Alice, Owner/Bob,
# Maintainer/Charlie, Auditor/Dave) on loopback, each a validator with its own ports and
# base path, and stops them all on Ctrl-C.
#
#   scripts/local-network.sh            keep the chain data between runs
#   scripts/local-network.sh --purge    start from genesis again
#   scripts/local-network.sh --release  run release builds (what a real partner runs)
#
# Each node also opens the off-chain store's network on DT_BASE_PORT + 100 + i, knowing the
# other partners' store addresses, so documents and feeds are replicated among them.
#
# The RPC ports listen on 127.0.0.1 only, so they serve unsafe methods too (the store's
# writes, author_insertKey, ...): browsers may call them only from the origins dt-node
# allows by default (http(s)://localhost:*, http(s)://127.0.0.1:*, https://polkadot.js.org),
# never from any web page the user happens to open. DT_RPC_CORS names the origins instead
# (comma-separated) if a web client is served from elsewhere.
#
# Environment: CARGO_TARGET_DIR (default $HOME/.cache/dt-ledger/target),
# DT_NETWORK_DIR (default $HOME/.local/share/dt-ledger/local), DT_BASE_PORT (default 30333),
# DT_RPC_PORT (default 9944), DT_NODE_BIN (a dt-node binary to use instead of building one),
# DT_RPC_CORS (the browser origins to allow instead of dt-node's defaults), DT_PROMETHEUS_PORT
# (default 9615), DT_NODE_ARGS (more arguments for every node, e.g. "-ltxpool=debug"),
# DT_WEB_PORT (the port the printed web-client addresses name, default 8080).
set -euo pipefail

cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/dt-ledger/target}"
network_dir="${DT_NETWORK_DIR:-$HOME/.local/share/dt-ledger/local}"
base_port="${DT_BASE_PORT:-30333}"
rpc_base="${DT_RPC_PORT:-9944}"
node_bin="${DT_NODE_BIN:-}"
rpc_cors="${DT_RPC_CORS:-}"
prometheus_base="${DT_PROMETHEUS_PORT:-9615}"
read -r -a extra_args <<<"${DT_NODE_ARGS:-}"
if [ "$rpc_cors" = all ] || [ "$rpc_cors" = "*" ]; then
	echo "local-network.sh: DT_RPC_CORS=$rpc_cors would let any web page call the nodes' unsafe methods; name the origins" >&2
	exit 2
fi

purge=false
build_args=()
for option in "$@"; do
	case "$option" in
		--purge) purge=true ;;
		--release) build_args=(--release) ;;
		*)
			echo "local-network.sh: unknown option '$option' (use --purge and/or --release)" >&2
			exit 2
			;;
	esac
done
$purge && rm -rf "$network_dir"

if [ -z "$node_bin" ]; then
	scripts/setup.sh
	echo "building dt-node, dt and dt-agent (the first build takes about half an hour; later ones a few minutes)"
	node_bin="$(scripts/build.sh "${build_args[@]+"${build_args[@]}"}" | tail -n 1)/dt-node"
fi

partners=(manufacturer:alice owner:bob maintainer:charlie auditor:dave)
# The peer ids of --node-key 00..01 to 00..04, registered as the partners' nodes in the
# chain spec (the chain and the off-chain store use the same node key).
peer_ids=(12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp
	12D3KooWHdiAxVd8uMQR1hGWXccidmfCwLqcMpGwR6QcTP6QRMuD
	12D3KooWSCufgHzV4fCwRijfH2k3abrpAJxTKxEvN1FDuRXA2U9x
	12D3KooWSsChzF81YDUKpe9Uk5AHV5oqAaXAcWNSPYgoLauUk4st)
bootnode_peer=${peer_ids[0]}
pids=()

stop_all() {
	trap - INT TERM EXIT
	if ((${#pids[@]})); then
		echo
		echo "stopping the consortium..."
		kill "${pids[@]}" 2>/dev/null || true
		wait "${pids[@]}" 2>/dev/null || true
	fi
	echo "stopped; chain data kept in $network_dir (use --purge to start afresh)"
}
trap stop_all INT TERM EXIT

mkdir -p "$network_dir"
printf '\n%-13s %-8s %-24s %-24s %-32s %s\n' PARTNER ACCOUNT P2P STORE RPC "LOG"
for index in "${!partners[@]}"; do
	name="${partners[$index]%%:*}"
	account="${partners[$index]##*:}"
	p2p=$((base_port + index))
	rpc=$((rpc_base + index))
	store=$((base_port + 100 + index))
	prometheus=$((prometheus_base + index))
	node_key=$(printf '%064x' $((index + 1)))
	args=(--chain local --"$account" --name "$name"
		--base-path "$network_dir/$name"
		--node-key "$node_key"
		--listen-addr "/ip4/127.0.0.1/tcp/$p2p"
		--rpc-port "$rpc"
		--prometheus-port "$prometheus"
		--no-mdns --no-telemetry
		--store-listen "/ip4/127.0.0.1/tcp/$store")
	for other in "${!partners[@]}"; do
		if [ "$other" -ne "$index" ]; then
			args+=(--store-bootnode "/ip4/127.0.0.1/tcp/$((base_port + 100 + other))/p2p/${peer_ids[$other]}")
		fi
	done
	if [ "$index" -gt 0 ]; then
		args+=(--bootnodes "/ip4/127.0.0.1/tcp/$base_port/p2p/$bootnode_peer")
	fi
	if [ -n "$rpc_cors" ]; then
		args+=(--rpc-cors "$rpc_cors")
	fi
	args+=("${extra_args[@]+"${extra_args[@]}"}")
	"$node_bin" "${args[@]}" >"$network_dir/$name.log" 2>&1 &
	pids+=($!)
	printf '%-13s %-8s %-24s %-24s %-32s %s\n' "$name" "$account" "127.0.0.1:$p2p" "127.0.0.1:$store" "ws://127.0.0.1:$rpc" "$network_dir/$name.log"
done

echo
echo "Polkadot.js Apps: https://polkadot.js.org/apps/?rpc=ws://127.0.0.1:$rpc_base"
web_port="${DT_WEB_PORT:-8080}"
echo "Web client (serve it with scripts/web.sh --port $web_port), each party on its own node:"
for index in "${!partners[@]}"; do
	printf '  %-13s http://127.0.0.1:%s/?node=ws://127.0.0.1:%s\n' "${partners[$index]%%:*}" "$web_port" "$((rpc_base + index))"
done
echo "Prometheus metrics: http://127.0.0.1:$prometheus_base/metrics ($((prometheus_base + 1)), $((prometheus_base + 2)), $((prometheus_base + 3)) for the others)"
echo "waiting for the first finalized block..."
for _ in $(seq 1 120); do
	if finalized=$(curl -s -H 'Content-Type: application/json' \
		-d '{"id":1,"jsonrpc":"2.0","method":"chain_getFinalizedHead","params":[]}' \
		"http://127.0.0.1:$rpc_base" 2>/dev/null) && [ -n "$finalized" ]; then
		number=$(curl -s -H 'Content-Type: application/json' \
			-d "{\"id\":1,\"jsonrpc\":\"2.0\",\"method\":\"chain_getHeader\",\"params\":[$(echo "$finalized" | sed -n 's/.*"result":\("[^"]*"\).*/\1/p')]}" \
			"http://127.0.0.1:$rpc_base" | sed -n 's/.*"number":"\(0x[0-9a-f]*\)".*/\1/p')
		if [ -n "$number" ] && [ "$((number))" -gt 0 ]; then
			echo "the consortium finalizes blocks (#$((number)) so far). Ctrl-C stops all four nodes."
			break
		fi
	fi
	for pid in "${pids[@]}"; do
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "a node exited; see the logs above" >&2
			exit 1
		fi
	done
	sleep 1
done
wait "${pids[@]}"
