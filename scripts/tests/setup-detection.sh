#!/usr/bin/env bash
# Tests what scripts/setup.sh decides to install, against fake dpkg-query, ldconfig and id
# on a PATH that holds only what the script needs: each case describes a machine and the
# packages setup.sh must plan for it (or the error it must stop with).
set -euo pipefail
cd "$(dirname "$0")/../.."

sandbox=$(mktemp -d -t dt-ledger-setup-test.XXXXXX)
trap 'rm -rf "$sandbox"' EXIT
failures=0

# A PATH with the real tools setup.sh uses, the stand-ins for the tools it may look for
# (protoc, clang, ...), and fakes of dpkg-query, ldconfig and id driven by the variables
# FAKE_PACKAGES (installed Debian packages), FAKE_LIBRARIES (the linker cache) and FAKE_UID.
machine() {
	local bin=$sandbox/$1
	shift
	rm -rf "$bin"
	mkdir -p "$bin"
	for tool in bash sed awk grep cat dirname mktemp rm wc; do
		ln -s "$(command -v "$tool")" "$bin/$tool"
	done
	for tool in "$@"; do
		printf '#!/bin/sh\nexit 0\n' >"$bin/$tool"
		chmod +x "$bin/$tool"
	done
	cat >"$bin/dpkg-query" <<'FAKE'
#!/bin/sh
# dpkg-query -W -f='${Status}' PACKAGE
package=$(eval echo \${$#})
for installed in $FAKE_PACKAGES; do
	[ "$installed" = "$package" ] && { printf 'install ok installed'; exit 0; }
done
echo "dpkg-query: no packages found matching $package" >&2
exit 1
FAKE
	cat >"$bin/ldconfig" <<'FAKE'
#!/bin/sh
# ldconfig -p: the linker cache, one library per line as ldconfig prints it
echo "$(echo $FAKE_LIBRARIES | wc -w) libs found in cache \`/etc/ld.so.cache'"
for library in $FAKE_LIBRARIES; do
	printf '\t%s (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/%s\n' "$library" "$library"
done
FAKE
	printf '#!/bin/sh\necho "${FAKE_UID:-0}"\n' >"$bin/id"
	chmod +x "$bin/dpkg-query" "$bin/ldconfig" "$bin/id"
	echo "$bin"
}

# expect_plan NAME PATH "EXPECTED PACKAGES": setup.sh --plan must print exactly these.
expect_plan() {
	local name=$1 path=$2 expected=$3 planned
	planned=$(PATH=$path bash scripts/setup.sh --plan | tr '\n' ' ' | sed 's/ $//')
	if [ "$planned" = "$expected" ]; then
		echo "ok   setup.sh plans [$expected]: $name"
	else
		echo "FAIL setup.sh plans [$planned], expected [$expected]: $name"
		failures=$((failures + 1))
	fi
}

all_tools=(protoc clang cc c++ make pkg-config node npm curl python3 mosquitto chromium)

# The machine the fresh-machine run met: clang brings the versioned libclang only.
path=$(machine versioned "${all_tools[@]}")
FAKE_PACKAGES="clang libclang1-14 libclang-cpp14" \
	FAKE_LIBRARIES="libclang-14.so.13 libclang-14.so.1 libclang-cpp.so.14" \
	expect_plan "only the versioned libclang (libclang-14.so.13, libclang-cpp.so.14)" "$path" "libclang-dev"

FAKE_PACKAGES="clang libclang-dev" FAKE_LIBRARIES="libclang-14.so.1 libclang.so" \
	expect_plan "libclang-dev installed" "$path" ""

FAKE_PACKAGES="clang" FAKE_LIBRARIES="libclang-14.so.1 libclang.so" \
	expect_plan "an unversioned libclang.so from elsewhere in the linker cache" "$path" ""

path=$(machine bare)
FAKE_PACKAGES="" FAKE_LIBRARIES="" expect_plan "a bare machine" "$path" \
	"protobuf-compiler clang libclang-dev build-essential pkg-config nodejs npm curl python3 mosquitto chromium"

path=$(machine no-cxx protoc clang cc make pkg-config node npm curl python3 mosquitto chromium)
FAKE_PACKAGES="libclang-dev" FAKE_LIBRARIES="libclang.so" \
	expect_plan "a C compiler but no C++ compiler" "$path" "build-essential"

# Not root, no sudo: stop before anything else, naming what is missing.
path=$(machine no-sudo "${all_tools[@]}")
if output=$(FAKE_UID=1000 FAKE_PACKAGES="clang" FAKE_LIBRARIES="libclang-14.so.13" \
	PATH=$path bash scripts/setup.sh 2>&1); then
	echo "FAIL setup.sh succeeded without root, sudo or libclang-dev"
	failures=$((failures + 1))
elif grep -q "not root and no sudo: install libclang-dev yourself" <<<"$output"; then
	echo "ok   setup.sh without root or sudo stops and names libclang-dev"
else
	echo "FAIL setup.sh without root or sudo said: $output"
	failures=$((failures + 1))
fi

[ "$failures" -eq 0 ] || { echo "$failures setup detection case(s) failed" >&2; exit 1; }
