#!/usr/bin/env bash
# Installs what building and testing dt-ledger needs on a fresh Debian/Ubuntu machine.
# Idempotent: run it as often as you like; it only installs what is missing.
set -euo pipefail

log() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

cd "$(dirname "$0")/.."

# System packages: protoc (libp2p protobufs), clang/libclang (RocksDB bindings),
# a C/C++ toolchain, Node.js/npm for the Polkadot.js client test, and curl and python3
# that the scripts use to probe nodes and pick free ports.
need_apt=()
command -v protoc >/dev/null || need_apt+=(protobuf-compiler)
command -v clang >/dev/null || need_apt+=(clang)
ldconfig -p 2>/dev/null | grep -q libclang || need_apt+=(libclang-dev)
command -v cc >/dev/null || need_apt+=(build-essential)
command -v pkg-config >/dev/null || need_apt+=(pkg-config)
command -v node >/dev/null || need_apt+=(nodejs)
command -v npm >/dev/null || need_apt+=(npm)
command -v curl >/dev/null || need_apt+=(curl)
command -v python3 >/dev/null || need_apt+=(python3)
if ((${#need_apt[@]})); then
	log "installing ${need_apt[*]}"
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO="sudo"
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
else
	log "system packages present"
fi

# Rust: rust-toolchain.toml pins the toolchain, the wasm targets and rust-src; rustup
# installs whatever of it is missing on first use.
if ! command -v rustup >/dev/null; then
	echo "rustup is required (https://rustup.rs); install it, then run this script again" >&2
	exit 1
fi
toolchain=$(sed -n 's/^channel *= *"\(.*\)"/\1/p' rust-toolchain.toml)
rustup toolchain install "$toolchain" --profile minimal >/dev/null 2>&1 || true
rustup target add --toolchain "$toolchain" wasm32v1-none wasm32-unknown-unknown >/dev/null 2>&1
rustup component add --toolchain "$toolchain" rust-src >/dev/null 2>&1
log "rust $toolchain with wasm32v1-none, wasm32-unknown-unknown and rust-src ready"
