#!/usr/bin/env bash
# Measures dt-aml on a generated ~30 MB AML file: parse, export and compare times and the
# process's peak memory. Prints figures only; nothing is asserted about timing.
#
# Usage: agent/aml/scripts/bench-large-file.sh   (from anywhere inside the repository)
# Uses its own target directory so it does not wait on other builds in the workspace.
set -euo pipefail
crate_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
repo_root="$(cd "$crate_dir/../.." && pwd)"
cd "$repo_root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/dt-ledger/aml-target}"
echo "Building dt-aml (release) and generating a ~30 MB file..."
cargo test --release -p dt-aml --test large_documents -- --ignored --nocapture large_file_time_and_memory
