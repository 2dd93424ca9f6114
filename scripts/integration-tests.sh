#!/usr/bin/env bash
# Runs the workspace's integration test binaries (every crate's tests/*.rs), DT_TEST_JOBS of
# them (default 2) side by side.
#
# These tests spend most of their time waiting for blocks, finality and replication on real
# processes, not computing: one binary at a time leaves a two-core machine about half idle,
# so two side by side take about half the time. Inside a binary the tests that start nodes
# still take turns (node/tests/common: one_at_a_time). The binaries known to take longest
# (LONGEST_FIRST) start first, so that no long one is left to run alone at the end.
#
# Each binary runs in its crate's directory, as `cargo test` runs it. Its output is printed
# whole when it ends, so the outputs of binaries running side by side never interleave.
# Every binary runs even if one fails; the script then names the failed ones and exits 1.
#
# Usage: scripts/integration-tests.sh [NAME...]   (only the test binaries with these names)
# Environment: CARGO_TARGET_DIR (default $HOME/.cache/dt-ledger/target), DT_TEST_JOBS.
set -euo pipefail

cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/dt-ledger/target}"
jobs="${DT_TEST_JOBS:-2}"
if ! [[ "$jobs" =~ ^[1-9][0-9]*$ ]]; then
	echo "DT_TEST_JOBS must be a positive number, not '$jobs'" >&2
	exit 2
fi
# Longest first, as measured on two cores (seconds, two side by side): agent_feeds 257,
# bottling_plant_scenario 255, cli_twin_edit 176, agent_programs 167, cli_ledger 150,
# cli_documents 141, availability 118; every other binary takes under 100 s.
LONGEST_FIRST="agent_feeds bottling_plant_scenario cli_twin_edit agent_programs cli_ledger
	cli_documents availability"

# The scenario's runtime upgrade follows the chain with an unmodified Polkadot.js client.
(cd scripts/polkadotjs && npm ci --no-audit --no-fund --loglevel=error)

work=$(mktemp -d -t dt-ledger-integration.XXXXXX)
trap 'rm -rf "$work"' EXIT

# The test binaries (already built by the caller, or built now): "dir name exe" per line,
# LONGEST_FIRST first, then the others in cargo's order.
cargo test --locked --workspace --test '*' --no-run --message-format=json-render-diagnostics \
	| python3 -c '
import json, os, sys
longest_first, wanted = sys.argv[1].split(), set(sys.argv[2:])
binaries = []
for line in sys.stdin:
    message = json.loads(line)
    if message.get("reason") != "compiler-artifact" or message["target"]["kind"] != ["test"]:
        continue
    name = message["target"]["name"]
    if wanted and name not in wanted:
        continue
    directory = os.path.dirname(message["manifest_path"])
    rank = longest_first.index(name) if name in longest_first else len(longest_first)
    binaries.append((rank, directory, name, message["executable"]))
for _, directory, name, executable in sorted(binaries, key=lambda binary: binary[0]):
    print(directory, name, executable)
' "$LONGEST_FIRST" "$@" >"$work/binaries"
if [ ! -s "$work/binaries" ]; then
	echo "no integration test binary${*:+ named $*}" >&2
	exit 2
fi
echo "$(wc -l <"$work/binaries") test binaries, $jobs at a time"

# Runs one binary; prints its output when it ends and records "status seconds name".
run_binary() {
	local directory=$1 name=$2 executable=$3 started=$SECONDS status=0
	(cd "$directory" && "$executable") >"$work/$name.log" 2>&1 || status=$?
	local seconds=$((SECONDS - started))
	{
		flock 9
		printf '\n--- %s (%s, %d s, exit %d)\n' "$name" "${directory#"$PWD"/}" "$seconds" "$status"
		cat "$work/$name.log"
		echo "$status $seconds $name" >>"$work/results"
	} 9>"$work/print.lock"
}

while read -r directory name executable; do
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
		wait -n || true
	done
	run_binary "$directory" "$name" "$executable" &
done <"$work/binaries"
wait

echo
echo "integration test binaries (seconds, exit status):"
sort -k2,2nr "$work/results" | awk '{ printf "%6d  %3d  %s\n", $2, $1, $3 }'
failed=$(awk '$1 != 0 { print $3 }' "$work/results")
if [ -n "$failed" ]; then
	echo "failed: $(echo $failed)" >&2
	exit 1
fi
