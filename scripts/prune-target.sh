#!/usr/bin/env bash
# Removes from the build cache what the last run no longer built, so a cache that is kept
# between runs (CI's) does not grow without bound: every compiled unit (libraries, test
# binaries, build scripts and their fingerprints) of a profile directory that no cargo
# invocation of the run reported, and the incremental caches when incremental compilation
# is off. The wasm runtime's own build (wbuild/) is left alone.
#
#   scripts/prune-target.sh MESSAGES [--dry-run]
#
# MESSAGES: a file with the JSON messages (--message-format=json...) of every cargo
# invocation of the run; units are recognised by the hashes in their file names.
# Environment: CARGO_TARGET_DIR (default $HOME/.cache/dt-ledger/target).
set -euo pipefail

messages=${1:?usage: prune-target.sh MESSAGES [--dry-run]}
dry_run=${2:-}
target_dir="${CARGO_TARGET_DIR:-$HOME/.cache/dt-ledger/target}"
[ -s "$messages" ] || {
	echo "prune-target.sh: $messages holds no cargo messages; nothing removed" >&2
	exit 0
}

python3 - "$messages" "$target_dir" "$dry_run" "${CARGO_INCREMENTAL:-}" <<'PY'
import json, os, re, shutil, sys

messages, target_dir, dry_run, incremental = sys.argv[1], sys.argv[2], sys.argv[3] == "--dry-run", sys.argv[4]
HASH = re.compile(r"-([0-9a-f]{16})(?:\.|$)")

used = set()          # unit hashes the run built or found fresh
profiles = set()      # profile directories the run used (debug, release, ...)
uplifted = set()      # (device, inode) of binaries cargo copied out of deps/ by hard link
for line in open(messages, errors="replace"):
    if not line.startswith("{"):
        continue
    try:
        message = json.loads(line)
    except ValueError:
        continue
    paths = list(message.get("filenames") or [])
    for key in ("executable", "out_dir"):
        if message.get(key):
            paths.append(message[key])
    for path in paths:
        relative = os.path.relpath(path, target_dir)
        if relative.startswith(".."):
            continue
        parts = relative.split(os.sep)
        profiles.add(parts[0])
        hashes = [found.group(1) for found in map(HASH.search, parts[1:3]) if found]
        used.update(hashes)
        if not hashes and os.path.exists(path):
            stat = os.stat(path)
            uplifted.add((stat.st_dev, stat.st_ino))

# An uplifted binary names no hash; its original in deps/ (the same inode) does.
for profile in profiles:
    deps = os.path.join(target_dir, profile, "deps")
    for name in os.listdir(deps) if os.path.isdir(deps) else []:
        stat = os.stat(os.path.join(deps, name))
        found = HASH.search(name)
        if found and (stat.st_dev, stat.st_ino) in uplifted:
            used.add(found.group(1))

if not used:
    print("prune-target.sh: the messages name no built unit; nothing removed", file=sys.stderr)
    sys.exit(0)

def size(path):
    if os.path.isfile(path) or os.path.islink(path):
        return os.lstat(path).st_size
    return sum(os.lstat(os.path.join(root, name)).st_size
               for root, _, names in os.walk(path) for name in names)

removed, freed = 0, 0
for profile in sorted(profiles):
    base = os.path.join(target_dir, profile)
    stale = []
    for folder in ("deps", "build", ".fingerprint"):
        directory = os.path.join(base, folder)
        if not os.path.isdir(directory):
            continue
        for name in os.listdir(directory):
            found = HASH.search(name)
            if found and found.group(1) not in used:
                stale.append(os.path.join(directory, name))
    if incremental == "0" and os.path.isdir(os.path.join(base, "incremental")):
        stale.append(os.path.join(base, "incremental"))
    for path in stale:
        freed += size(path)
        removed += 1
        if not dry_run:
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.remove(path)
verb = "would remove" if dry_run else "removed"
print(f"prune-target.sh: {verb} {removed} stale entries ({freed / 2**20:.0f} MiB) "
      f"from {', '.join(sorted(profiles))}; {len(used)} units kept")
PY
