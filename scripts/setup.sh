#!/usr/bin/env bash
# Installs what building and testing dt-ledger needs on a fresh Debian/Ubuntu machine.
# Idempotent: run it as often as you like; it only installs what is missing.
#
# Every check tests for exactly what the build uses: a Debian package by dpkg-query where
# one exists, otherwise the exact file or command. A name that merely resembles it (the
# versioned libclang-14.so.13 that clang itself brings, say) does not count.
#
#   scripts/setup.sh            install what is missing (needs root, sudo or apt)
#   scripts/setup.sh --check    only report what is missing; exit 1 if anything is
#   scripts/setup.sh --plan     print the Debian packages it would install, one per line
set -euo pipefail

log() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
fail() {
	printf '\033[1m[setup]\033[0m error: %s\n' "$*" >&2
	exit 1
}

mode=install
case "${1:-}" in
	"") ;;
	--check) mode=check ;;
	--plan) mode=plan ;;
	*) fail "unknown option '$1' (use --check or --plan, or nothing)" ;;
esac

cd "$(dirname "$0")/.."

# True when the Debian package is installed (dpkg-query reports "install ok installed").
package_installed() {
	[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

# True when the linker cache lists exactly this shared object (not a versioned sibling).
library_present() {
	ldconfig -p 2>/dev/null | awk -v lib="$1" '$1 == lib { found = 1 } END { exit !found }'
}

# libclang: clang-sys (RocksDB's bindgen) loads the unversioned libclang.so, which only
# the development package brings; libclang1 and clang bring libclang-N.so.M only.
libclang_present() {
	package_installed libclang-dev || library_present libclang.so
}

# What is missing, as "Debian package|what the build needs it for".
missing=()
command -v protoc >/dev/null || missing+=("protobuf-compiler|protoc, for libp2p's protobuf definitions")
command -v clang >/dev/null || missing+=("clang|clang, for RocksDB's bindings")
libclang_present || missing+=("libclang-dev|libclang.so, which clang-sys loads to generate RocksDB's bindings")
{ command -v cc >/dev/null && command -v c++ >/dev/null && command -v make >/dev/null; } ||
	missing+=("build-essential|a C and C++ toolchain (cc, c++, make) for RocksDB and ring")
command -v pkg-config >/dev/null || missing+=("pkg-config|pkg-config, for crates that find system libraries")
command -v node >/dev/null || missing+=("nodejs|Node.js, for the Polkadot.js client check")
command -v npm >/dev/null || missing+=("npm|npm, to install the Polkadot.js client check's packages")
command -v curl >/dev/null || missing+=("curl|curl, which the scripts use to probe nodes")
command -v python3 >/dev/null || missing+=("python3|python3, which the scripts use to pick free ports")
# The broker is started by the tests as a plain program; Debian's package also enables a
# system service, which the tests neither need nor use.
{ package_installed mosquitto || command -v mosquitto >/dev/null; } || missing+=("mosquitto|mosquitto, the MQTT broker the device-connector tests start")
# Debian's browser, which the web client's tests drive (puppeteer-core, no browser download).
{ package_installed chromium || command -v chromium >/dev/null; } || missing+=("chromium|chromium, the browser the web client's tests drive")

packages=()
for entry in "${missing[@]+"${missing[@]}"}"; do packages+=("${entry%%|*}"); done

if [ "$mode" = plan ]; then
	for package in "${packages[@]+"${packages[@]}"}"; do echo "$package"; done
	exit 0
fi

if ((${#missing[@]})); then
	for entry in "${missing[@]}"; do log "missing: ${entry#*|} (Debian package ${entry%%|*})"; done
	[ "$mode" = check ] && exit 1
	SUDO=()
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null ||
			fail "not root and no sudo: install ${packages[*]} yourself, then run this script again"
		SUDO=(sudo)
	fi
	command -v apt-get >/dev/null ||
		fail "no apt-get on this machine: install the equivalent of ${packages[*]} yourself, then run this script again"
	log "installing ${packages[*]}"
	"${SUDO[@]+"${SUDO[@]}"}" apt-get update -qq
	DEBIAN_FRONTEND=noninteractive "${SUDO[@]+"${SUDO[@]}"}" apt-get install -y -qq "${packages[@]}" >/dev/null
	libclang_present || fail "libclang-dev was installed but libclang.so is still not in the linker cache"
else
	log "system packages present"
fi

# Rust: rust-toolchain.toml pins the toolchain, the wasm targets and rust-src; rustup
# installs whatever of it is missing on first use.
command -v rustup >/dev/null || fail "rustup is required (https://rustup.rs); install it, then run this script again"
toolchain=$(sed -n 's/^channel *= *"\(.*\)"/\1/p' rust-toolchain.toml)
if [ "$mode" = check ]; then
	targets=$(rustup target list --installed --toolchain "$toolchain" 2>/dev/null || true)
	for target in wasm32v1-none wasm32-unknown-unknown; do
		grep -qx "$target" <<<"$targets" || fail "missing: the rust target $target (rustup target add $target)"
	done
	log "rust $toolchain with its wasm targets present"
	exit 0
fi
rustup toolchain install "$toolchain" --profile minimal >/dev/null 2>&1 || true
rustup target add --toolchain "$toolchain" wasm32v1-none wasm32-unknown-unknown >/dev/null 2>&1
rustup component add --toolchain "$toolchain" rust-src >/dev/null 2>&1
log "rust $toolchain with wasm32v1-none, wasm32-unknown-unknown and rust-src ready"
