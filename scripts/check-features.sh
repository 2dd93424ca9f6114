#!/usr/bin/env bash
# Checks that the binaries (scripts/build.sh: the workspace's binaries) and the test suite
# (cargo test --workspace) resolve the same features for every crate, so a cold build
# compiles each crate once for both. Names every crate whose features differ; the usual
# fix is to enable the feature in the workspace dependency (Cargo.toml) for every member.
set -euo pipefail
cd "$(dirname "$0")/.."

features() {
	cargo tree --locked --workspace --target all --prefix none -f '{p} [{f}]' "$@" |
		sed 's/ (\*)$//' | sort -u
}
binaries=$(mktemp) tests=$(mktemp)
trap 'rm -f "$binaries" "$tests"' EXIT
features -e no-dev >"$binaries"
features >"$tests"
python3 - "$binaries" "$tests" <<'PY'
import re, sys

def resolved(path):
    crates = {}
    for line in open(path):
        match = re.match(r'(\S+ v\S+)(?: \(.*?\))? \[(.*)\]$', line.strip())
        if match:
            crates.setdefault(match.group(1), set()).add(match.group(2))
    return crates

binaries, tests = resolved(sys.argv[1]), resolved(sys.argv[2])
differ = sorted(crate for crate in binaries if crate in tests and binaries[crate] != tests[crate])
for crate in differ:
    print(f"{crate}: binaries {sorted(binaries[crate])}, tests {sorted(tests[crate])}")
if differ:
    print(f"{len(differ)} crate(s) would be compiled twice, once for the binaries and once for the tests",
          file=sys.stderr)
    sys.exit(1)
print(f"the binaries and the tests resolve the same features for all {len(binaries)} crates")
PY
