#!/usr/bin/env bash
# Builds the parties' web client (agent/web) and serves it on 127.0.0.1, printing the page's
# address for a node: open it in a browser. The page talks to the node over its WebSocket
# RPC; dt-node accepts pages served from 127.0.0.1 and localhost by default (--rpc-cors).
#
# Usage: scripts/web.sh [--port PORT] [--node ws://HOST:PORT]   (defaults: 8080, ws://127.0.0.1:9944)
# Ctrl-C stops the server.
set -euo pipefail

cd "$(dirname "$0")/../agent/web"
port=8080
node=ws://127.0.0.1:9944
while [ $# -gt 0 ]; do
	case "$1" in
	--port)
		port="${2:?--port needs a number}"
		shift 2
		;;
	--node)
		node="${2:?--node needs ws://HOST:PORT}"
		shift 2
		;;
	*)
		echo "web.sh: unknown argument '$1' (usage: scripts/web.sh [--port PORT] [--node ws://HOST:PORT])" >&2
		exit 2
		;;
	esac
done
if ! [[ "$port" =~ ^[0-9]+$ ]] || [ "$port" -lt 1 ] || [ "$port" -gt 65535 ]; then
	echo "web.sh: --port must be a TCP port, not '$port'" >&2
	exit 2
fi
if ! [[ "$node" =~ ^wss?:// ]]; then
	echo "web.sh: --node must be a WebSocket address like ws://127.0.0.1:9944, not '$node'" >&2
	exit 2
fi

npm ci --no-audit --no-fund --loglevel=error
npm run build --silent >/dev/null
echo "web client: http://127.0.0.1:$port/?node=$node"
exec npx vite preview --host 127.0.0.1 --port "$port" --strictPort
