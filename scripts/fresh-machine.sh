#!/usr/bin/env bash
# Reproduces a new user's first run as far as one machine allows: a clean clone of this
# repository's HEAD into a new directory (with no ../shared or anything else beside it), a
# new empty CARGO_TARGET_DIR, scripts/setup.sh, then the README's test command. Prints how
# long the first build and the whole run took; that is where the README's figures come from.
#
#   scripts/fresh-machine.sh           remove the clone and its build cache at the end
#   scripts/fresh-machine.sh --keep    leave them (several GB) for a look
#
# What it cannot reproduce: packages already installed on this machine stay installed
# (scripts/tests/setup-detection.sh tests what setup.sh decides on a bare machine), and
# uncommitted changes are not in the clone.
set -euo pipefail

source_repo=$(cd "$(dirname "$0")/.." && pwd)
keep=false
case "${1:-}" in
	"") ;;
	--keep) keep=true ;;
	*)
		echo "fresh-machine.sh: unknown option '$1' (use --keep, or nothing)" >&2
		exit 2
		;;
esac

if [ -n "$(git -C "$source_repo" status --porcelain --untracked-files=no)" ]; then
	echo "note: $source_repo has uncommitted changes; the clone holds HEAD only" >&2
fi

work=$(mktemp -d -t dt-ledger-fresh.XXXXXX)
clone=$work/dt-ledger
export CARGO_TARGET_DIR=$work/target
log=$work/run.log
cleanup() {
	if $keep; then
		echo "kept: the clone in $clone, its build cache in $CARGO_TARGET_DIR, the log in $log"
	else
		cp "$log" "${TMPDIR:-/tmp}/dt-ledger-fresh-machine.log" 2>/dev/null || true
		rm -rf "$work"
		echo "removed $work; the log is in ${TMPDIR:-/tmp}/dt-ledger-fresh-machine.log"
	fi
}
trap cleanup EXIT

git clone --quiet --no-hardlinks "$source_repo" "$clone"
echo "clone of $(git -C "$clone" rev-parse --short HEAD) in $clone; nothing beside it:"
ls -A "$work"
mkdir -p "$CARGO_TARGET_DIR"
echo "empty build cache: $CARGO_TARGET_DIR"

started=$SECONDS
(cd "$clone" && scripts/setup.sh && scripts/test.sh) 2>&1 | tee "$log"
total=$((SECONDS - started))

echo
echo "fresh-machine run of $(git -C "$clone" rev-parse --short HEAD) on $(nproc) cores:"
grep -E '^ +[0-9]+s  ' "$log" || true
echo "whole run (setup, first build, every test): $((total / 60)) min $((total % 60)) s"
