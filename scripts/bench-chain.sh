#!/usr/bin/env bash
# Measures the chain as the parties feel it (agent/dt-agent/examples/chain_bench/): on the
# four-partner `local` consortium (scripts/local-network.sh, on loopback, fresh chain data),
# transactions are submitted to the manufacturer's node and watched on the maintainer's:
#
#   1. sharing latency: a remark, an element insertion, a document registration, one every
#      500 ms, 300 samples each; submission -> in a best block and -> finalized, p50/p95/p99;
#      the program-call round trip: 100 calls, one every 5 s, from submission on the
#      manufacturer's node to the device agent's outcome finalized (the agent on the
#      maintainer's node);
#   2. bursts well beyond a block: 5,000 remarks from four accounts, 2,000 from one, 4,000
#      element insertions, 2,000 insertions of ten elements each (20,000 elements), 4,000
#      document registrations, 4,000 feed checkpoints and 6,000 of
#      the three in turn (the mix) from four; accepted, refused, finalized, lost, failed,
#      finalized per second, finality lag;
#   3. feed ingestion: 100,000 readings into a public and a confidential feed through the
#      manufacturer's node, in signed batches of 1,000 (agent/dt-agent/examples/ingestion_bench.rs).
#
#   scripts/bench-chain.sh            release build (the figures of docs/performance.md)
#   scripts/bench-chain.sh --debug    debug build
#
# Environment: CARGO_TARGET_DIR (default $HOME/.cache/dt-ledger/target), DT_NODE_ARGS (more
# arguments for every node, e.g. "--pool-type fork-aware" or "-ltxpool=debug"),
# DT_BENCH_FEATURES (cargo features for the build, e.g. dt-node/runtime-benchmarks to reuse
# what scripts/benchmark-weights.sh built: the same calls and weights, plus the benchmarking
# code), DT_BENCH_KEEP=1 keeps the consortium's chain data and logs, DT_BENCH_ONLY (an
# extended regular expression: only the measurements whose title matches run, e.g.
# "remarks from four|insertions" for the bursts that compare insertions with remarks).
set -euo pipefail

cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/dt-ledger/target}"
mode=release
case "${1:-}" in
	"") ;;
	--debug) mode=debug ;;
	*)
		echo "bench-chain.sh: unknown option '$1' (use --debug, or nothing for a release build)" >&2
		exit 2
		;;
esac

profile_args=()
[ "$mode" = release ] && profile_args=(--release)
if [ -n "${DT_BENCH_FEATURES:-}" ]; then
	profile_args+=(--features "$DT_BENCH_FEATURES")
	# As scripts/benchmark-weights.sh builds it (the benchmarking CLI's test runtime).
	export SKIP_FRAME_STORAGE_ACCESS_TEST_RUNTIME_WASM_BUILD=1
fi
# What scripts/build.sh builds, with the workspace's features, plus the benchmark: one
# invocation, so nothing compiles twice and nothing stale runs.
cargo build --locked --workspace --bins --example chain_bench --example ingestion_bench \
	"${profile_args[@]+"${profile_args[@]}"}" >&2
bin="$CARGO_TARGET_DIR/$mode"
bench="$bin/examples/chain_bench"

. scripts/dev-node.sh # free_port
network_dir=$(mktemp -d -t dt-ledger-bench-chain.XXXXXX)
base_port=$(free_port)
rpc_port=$(free_port)
prometheus_port=$(free_port)
echo "four partners ($mode build${DT_BENCH_FEATURES:+, features $DT_BENCH_FEATURES}): chain data and logs in $network_dir; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg) before the start"
# Each node takes the port given and the three above it (the store: base + 100 and above).
DT_NODE_BIN="$bin/dt-node" DT_NETWORK_DIR="$network_dir" DT_BASE_PORT=$base_port \
	DT_RPC_PORT=$rpc_port DT_PROMETHEUS_PORT=$prometheus_port scripts/local-network.sh >"$network_dir/network.out" 2>&1 &
network=$!
stop() {
	kill "$network" 2>/dev/null || true
	wait "$network" 2>/dev/null || true
	if [ "${DT_BENCH_KEEP:-}" = 1 ]; then
		echo "kept $network_dir"
	else
		rm -rf "$network_dir"
	fi
}
trap stop EXIT
for _ in $(seq 1 180); do
	grep -q "the consortium finalizes blocks" "$network_dir/network.out" && break
	kill -0 "$network" 2>/dev/null || { cat "$network_dir/network.out"; exit 1; }
	sleep 1
done
grep -q "the consortium finalizes blocks" "$network_dir/network.out" ||
	{ echo "the consortium finalized nothing within 180 s"; cat "$network_dir/network.out"; exit 1; }
manufacturer="ws://127.0.0.1:$rpc_port"
maintainer="ws://127.0.0.1:$((rpc_port + 2))"

status=0
# Runs one measurement: its title, then the benchmark's arguments after the two nodes.
measure() {
	local title=$1
	shift
	[[ -z "${DT_BENCH_ONLY:-}" || "$title" =~ $DT_BENCH_ONLY ]] || return 0
	echo
	echo "== $title ($mode build): $bench $1 $manufacturer $maintainer ${*:2}"
	"$bench" "$1" "$manufacturer" "$maintainer" "${@:2}" || status=1
	echo "   load: $(cut -d' ' -f1-3 /proc/loadavg)"
}
measure "sharing latency of a remark" latency 300 500 remark
measure "sharing latency of an element insertion" latency 300 500 insert
measure "sharing latency of a document registration" latency 300 500 document
# The device agent of //Bob on the maintainer's node runs the calls //Alice makes on the
# manufacturer's; one call every 5 s, more than the agent's claim and report take, so the
# figures are the chain's and not a queue's.
measure "program-call round trip" roundtrip 100 5000
measure "burst of 5,000 remarks from four accounts" burst 4 1250 remark
measure "burst of 2,000 remarks from one account" burst 1 2000 remark
measure "burst of 4,000 element insertions from four accounts" burst 4 1000 insert
measure "burst of 2,000 insertions of ten elements from four accounts" burst 4 500 insert-batch
measure "burst of 4,000 document registrations from four accounts" burst 4 1000 document
measure "burst of 4,000 feed checkpoints from four accounts" burst 4 1000 checkpoint
measure "burst of 6,000 twin writes from four accounts, the mix" burst 4 1500 mix
ingestion="feed ingestion into the manufacturer's node, replicated to the partners"
if [[ -z "${DT_BENCH_ONLY:-}" || "$ingestion" =~ $DT_BENCH_ONLY ]]; then
	echo
	echo "== $ingestion ($mode build): $bin/examples/ingestion_bench $manufacturer 100000 1000"
	"$bin/examples/ingestion_bench" "$manufacturer" 100000 1000 || status=1
	echo "   load: $(cut -d' ' -f1-3 /proc/loadavg)"
fi
exit $status
