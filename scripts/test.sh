#!/usr/bin/env bash
# Runs the whole dt-ledger test suite: setup, build, unit tests, benchmark tests, the
# multi-node integration tests on loopback and the Polkadot.js client check.
#
# Environment: CARGO_TARGET_DIR (default $HOME/.cache/dt-ledger/target, reused as a cache).
set -euo pipefail

cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/dt-ledger/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
started=$SECONDS

step() { printf '\n\033[1m==> %s\033[0m (%ds)\n' "$*" "$((SECONDS - started))"; }

# Every test run's output also goes to a log, so the totals can be printed at the end.
results=$(mktemp -t dt-ledger-test-results.XXXXXX)
trap 'rm -f "$results"' EXIT
tests() { "$@" 2>&1 | tee -a "$results"; }

step "setup"
scripts/setup.sh

step "build dt-node with its wasm runtime"
cargo build --locked -p dt-node

step "unit tests (pallets, primitives, libraries, node)"
tests cargo test --locked --workspace --exclude dt-node
tests cargo test --locked -p dt-node --bins

step "benchmarks run as tests against the mock runtime"
tests cargo test --locked -p pallet-dt-consortium -p pallet-dt-access -p pallet-dt-twin-spec -p pallet-dt-documents -p pallet-dt-feeds -p pallet-dt-programs -p pallet-dt-availability --features runtime-benchmarks benchmarking

step "multi-node integration tests (real dt-node processes on 127.0.0.1)"
# Every file in node/tests/ is one integration test; they run one at a time because each
# starts its own nodes and the machine may have only two cores.
tests cargo test --locked -p dt-node --test '*' -- --test-threads 1

step "the scripts parse"
for script in scripts/*.sh .ci/run; do bash -n "$script"; done

step "Polkadot.js client against a dt-node --dev"
tests scripts/polkadotjs-check.sh

step "all tests passed"
passed=$(awk '/^test result: ok\./ { sum += $4 } END { print sum + 0 }' "$results")
checks=$(grep -c '^ok   ' "$results" || true)
echo "$((passed + checks)) passed, 0 failed"
