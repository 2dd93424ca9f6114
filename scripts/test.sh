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

step "setup"
scripts/setup.sh

step "build dt-node with its wasm runtime"
cargo build --locked -p dt-node

step "unit tests (pallets, primitives, libraries, node)"
cargo test --locked --workspace --exclude dt-node
cargo test --locked -p dt-node --bins

step "benchmarks run as tests against the mock runtime"
cargo test --locked -p pallet-dt-consortium --features runtime-benchmarks benchmarking

step "multi-node integration tests (real dt-node processes on 127.0.0.1)"
cargo test --locked -p dt-node --test local_consortium --test governance -- --test-threads 1

step "Polkadot.js client against a dt-node --dev"
scripts/polkadotjs-check.sh

step "all tests passed"
