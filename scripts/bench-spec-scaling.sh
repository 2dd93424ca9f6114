#!/usr/bin/env bash
# Shows that inserting and removing an AML element costs the same in a twin of 10 and of
# 10,000 elements: runs the twin-spec pallet's insert_element and remove_element
# benchmarks on the wasm runtime at both sizes and prints the measured times, storage
# reads/writes and the difference.
#
#   scripts/bench-spec-scaling.sh            (DT_NODE_BIN=path to skip the build)
#
# The benchmarks' component `e` is the number of elements in the twin; `b` (fragment
# padding) and `n` (removed subtree size) stay at their minimum.
set -euo pipefail

cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/dt-ledger/target}"
repeat="${DT_BENCH_REPEAT:-50}"
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
for extrinsic in insert_element remove_element; do
	echo "benchmarking $extrinsic at 10 and 10,000 elements ($repeat repeats)"
	# Two steps per component: its lowest and its highest value.
	"$node_bin" benchmark pallet --chain dev --pallet pallet_dt_twin_spec \
		--extrinsic "$extrinsic" --steps 2 --repeat "$repeat" --wasm-execution compiled \
		--json-file "$out/$extrinsic.json" >"$out/$extrinsic.log" 2>&1 || {
		cat "$out/$extrinsic.log" >&2
		exit 1
	}
done

python3 - "$out" <<'PY'
import json, statistics, sys
out = sys.argv[1]
worst = 0.0
for extrinsic in ("insert_element", "remove_element"):
    results = json.load(open(f"{out}/{extrinsic}.json"))[0]
    by_size = {}
    for run in results["db_results"]:
        components = dict(run["components"])
        # Only the runs with every other component at its minimum.
        if any(value != 0 and name != "e" and not (name == "n" and value == 1)
               for name, value in components.items()):
            continue
        by_size.setdefault(components["e"], []).append(run)
    sizes = sorted(by_size)
    small, large = sizes[0], sizes[-1]
    def figures(runs):
        return (statistics.median(r["extrinsic_time"] for r in runs),
                runs[0]["reads"], runs[0]["writes"])
    (t_small, r_small, w_small), (t_large, r_large, w_large) = figures(by_size[small]), figures(by_size[large])
    difference = abs(t_large - t_small) / t_small * 100
    worst = max(worst, difference)
    print(f"{extrinsic}: {small:>6} elements: {t_small / 1000:8.1f} us, {r_small} reads, {w_small} writes")
    print(f"{extrinsic}: {large:>6} elements: {t_large / 1000:8.1f} us, {r_large} reads, {w_large} writes")
    print(f"{extrinsic}: difference {difference:.1f} %")
print(f"largest difference: {worst:.1f} % (target: below 10 %)")
sys.exit(0 if worst < 10 else 1)
PY
