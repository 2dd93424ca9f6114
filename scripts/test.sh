#!/usr/bin/env bash
# Runs the whole dt-ledger test suite: setup, build, unit tests, benchmark tests, the
# multi-node integration tests on loopback, the Polkadot.js client check and the web client in
# Chromium.
#
# The binaries and the tests are built for the whole workspace, so cargo resolves the same
# features for both and compiles every crate once (scripts/check-features.sh checks it);
# every test step then runs what that build produced.
#
# Environment: CARGO_TARGET_DIR (default $HOME/.cache/dt-ledger/target, reused as a cache).
# With CI set, incremental compilation is off and, at the end, whatever the run no longer
# built is removed from the cache (scripts/prune-target.sh), so the cache stays small.
set -euo pipefail

cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/dt-ledger/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
[ -n "${CI:-}" ] && export CARGO_INCREMENTAL=0
started=$SECONDS
durations=()

step_name=""
step_started=$SECONDS
step() {
	[ -n "$step_name" ] && durations+=("$(printf '%6ds  %s' "$((SECONDS - step_started))" "$step_name")")
	step_name="$*"
	step_started=$SECONDS
	printf '\n\033[1m==> %s\033[0m (%ds)\n' "$*" "$((SECONDS - started))"
}

# Every test run's output also goes to a log, so the totals can be printed at the end;
# every cargo invocation's JSON messages go to another, so the cache can be pruned.
results=$(mktemp -t dt-ledger-test-results.XXXXXX)
export DT_CARGO_MESSAGES
DT_CARGO_MESSAGES=$(mktemp -t dt-ledger-cargo-messages.XXXXXX)
trap 'rm -f "$results" "$DT_CARGO_MESSAGES"' EXIT
tests() { "$@" 2>&1 | tee -a "$results"; }
# Builds with cargo, recording what it built (the human diagnostics still go to stderr).
build() { cargo "$@" --message-format=json-render-diagnostics >>"$DT_CARGO_MESSAGES"; }

step "setup"
scripts/setup.sh

step "the binaries and the tests resolve the same features"
scripts/check-features.sh

step "build dt-node (with its wasm runtime), dt, dt-agent and dt-plc"
scripts/build.sh >/dev/null

step "build the tests"
build test --locked --workspace --no-run

step "unit tests (pallets, primitives, libraries, node)"
tests cargo test --locked --workspace --lib --bins
tests cargo test --locked --workspace --doc

step "benchmarks run as tests against the mock runtime"
build test --locked -p pallet-dt-consortium -p pallet-dt-access -p pallet-dt-twin-spec -p pallet-dt-documents -p pallet-dt-feeds -p pallet-dt-programs -p pallet-dt-availability --features runtime-benchmarks --no-run
tests cargo test --locked -p pallet-dt-consortium -p pallet-dt-access -p pallet-dt-twin-spec -p pallet-dt-documents -p pallet-dt-feeds -p pallet-dt-programs -p pallet-dt-availability --features runtime-benchmarks benchmarking

step "integration tests (libraries, dt, and real dt-node processes on 127.0.0.1)"
# Two test binaries side by side (they mostly wait for blocks); inside a binary, the tests
# that start nodes take turns (node/tests/common: one_at_a_time).
tests scripts/integration-tests.sh

step "the scripts parse, setup.sh detects exactly what is missing, local-network.sh keeps its RPC closed to other origins"
for script in scripts/*.sh scripts/tests/*.sh .ci/run; do bash -n "$script"; done
tests scripts/tests/setup-detection.sh
tests scripts/tests/local-network-rpc.sh

step "Polkadot.js client against a dt-node --dev"
tests scripts/polkadotjs-check.sh

step "the web client: unit tests, and its pages in Chromium against a four-partner consortium"
tests scripts/tests/web-client.sh

step "a short run of the feed-ingestion benchmark against a dt-node --dev"
tests scripts/tests/ingestion-bench-smoke.sh

step "a short run of the chain benchmark against a dt-node --dev"
tests scripts/tests/chain-bench-smoke.sh

step "a short run of the MQTT forwarding benchmark against mosquitto and a dt-node --dev"
tests scripts/tests/mqtt-bench-smoke.sh

step "a short run of the OPC UA forwarding benchmark against a dt-node --dev"
tests scripts/tests/opcua-bench-smoke.sh

if [ -n "${CI:-}" ]; then
	step "prune the build cache"
	scripts/prune-target.sh "$DT_CARGO_MESSAGES"
fi

step "all tests passed"
passed=$(awk '/^test result: ok\./ { sum += $4 } END { print sum + 0 }' "$results")
checks=$(grep -c '^ok   ' "$results" || true)
echo "$((passed + checks)) passed, 0 failed in $((SECONDS - started)) s"
printf '%s\n' "${durations[@]}"
