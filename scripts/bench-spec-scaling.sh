#!/usr/bin/env bash
# Shows that inserting and removing an AML element costs the same in a twin of 10 and of
# 10,000 elements: runs the twin-spec pallet's insert_element and remove_element
# benchmarks on the wasm runtime at both sizes and prints the measured times, storage
# reads/writes and the difference.
#
#   scripts/bench-spec-scaling.sh            (DT_NODE_BIN=path to skip the build)
#
# The benchmarks' component `e` is the number of elements in the twin; `d` (the element's
# depth) is held at its deepest, `b` (fragment padding) and `n` (removed subtree size) at
# their lowest and, in a second series, at their highest value. The chain's state holds 10,000 elements in both cases (another twin
# holds the rest), as a real chain with many twins would.
set -euo pipefail

cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/dt-ledger/target}"
repeat="${DT_BENCH_REPEAT:-20}"
node_bin="${DT_NODE_BIN:-}"
if [ -z "$node_bin" ]; then
	scripts/setup.sh
	export SKIP_FRAME_STORAGE_ACCESS_TEST_RUNTIME_WASM_BUILD=1
	echo "building dt-node with runtime-benchmarks"
	cargo build --locked -p dt-node --features runtime-benchmarks
	node_bin="$CARGO_TARGET_DIR/debug/dt-node"
fi

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
# Each run: the extrinsic, its components' lowest and highest values (e first, then the
# depth d, held at the deepest level the runtime allows: 64 for an insertion, 63 for the
# removal of an element with children), a name.
runs=(
	"insert_element 10,64,0 10000,64,0 insert_element"
	"insert_element 10,64,60000 10000,64,60000 insert_element_60k_fragment"
	"remove_element 10,63,1 10000,63,1 remove_element"
	"remove_element 10,63,500 10000,63,500 remove_element_500_subtree"
)
for run in "${runs[@]}"; do
	read -r extrinsic low high name <<<"$run"
	echo "benchmarking $name at 10 and 10,000 elements ($repeat repeats)"
	# Two steps: e at its lowest and highest value, the other component held fixed.
	"$node_bin" benchmark pallet --chain dev --pallet pallet_dt_twin_spec \
		--extrinsic "$extrinsic" --steps 2 --repeat "$repeat" --wasm-execution compiled \
		--low "$low" --high "$high" \
		--json-file "$out/$name.json" >"$out/$name.log" 2>&1 || {
		cat "$out/$name.log" >&2
		exit 1
	}
done

python3 - "$out" <<'PY'
import json, statistics, sys
out = sys.argv[1]
worst = 0.0
for extrinsic in ("insert_element", "insert_element_60k_fragment", "remove_element", "remove_element_500_subtree"):
    results = json.load(open(f"{out}/{extrinsic}.json"))[0]
    # The runner varies one component at a time and holds the others at their highest
    # value; keep the series in which `e` (elements in the twin) varies.
    def series(runs):
        groups = {}
        for run in runs:
            components = dict(run["components"])
            others = tuple(sorted((k, v) for k, v in components.items() if k != "e"))
            groups.setdefault(others, {}).setdefault(components["e"], []).append(run)
        others, by_size = max(groups.items(), key=lambda item: len(item[1]))
        return others, by_size
    others, times = series(results["time_results"])
    _, db = series(results["db_results"])
    small, large = min(times), max(times)
    time = {size: statistics.median(r["extrinsic_time"] for r in times[size]) for size in (small, large)}
    held = ", ".join(f"{k} = {v}" for k, v in others)
    for size in (small, large):
        run = db[size][0]
        print(f"{extrinsic}: {size:>6} elements ({held}): {time[size] / 1000:8.1f} us, "
              f"{run['reads']} reads, {run['writes']} writes")
    difference = abs(time[large] - time[small]) / time[small] * 100
    worst = max(worst, difference)
    print(f"{extrinsic}: difference {difference:.1f} %")
print(f"largest difference: {worst:.1f} % (target: below 10 %)")
sys.exit(0 if worst < 10 else 1)
PY
