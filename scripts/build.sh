#!/usr/bin/env bash
# Builds the three programs a partner runs (dt-node, dt, dt-agent) in one cargo invocation
# for the whole workspace, so cargo resolves the features the test suite resolves and
# compiles every crate once for both; the scripts and the node tests all build them this
# way, so each serves the others' cache (scripts/check-features.sh checks it).
#
#   scripts/build.sh            debug profile: for development, tests and trying things out
#   scripts/build.sh --release  release profile: for real partners and for benchmarks
#
# Prints the directory holding the binaries as its last line of standard output.
# Environment: CARGO_TARGET_DIR (default $HOME/.cache/dt-ledger/target); DT_CARGO_MESSAGES,
# a file to which cargo's JSON messages are appended (scripts/test.sh prunes the cache by them).
set -euo pipefail

cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/dt-ledger/target}"

profile=debug
case "${1:-}" in
	"") ;;
	--release) profile=release ;;
	*)
		echo "build.sh: unknown option '$1' (use --release, or nothing for a debug build)" >&2
		exit 2
		;;
esac

args=(--locked --workspace --bins)
[ "$profile" = release ] && args+=(--release)
if [ -n "${DT_CARGO_MESSAGES:-}" ]; then
	cargo build "${args[@]}" --message-format=json-render-diagnostics >>"$DT_CARGO_MESSAGES"
else
	cargo build "${args[@]}" >&2
fi
echo "$CARGO_TARGET_DIR/$profile"
