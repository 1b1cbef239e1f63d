#!/bin/sh
# SPDX-License-Identifier: MIT
#
# bench/run.sh [skvm-bench options]
#
# Builds the benchmark programs (and skvm itself, if it builds) and prints
# the table: guest instructions per second under skvm, QEMU TCG, native
# and this host's /dev/kvm.  BUILD=dir picks the build directory (default
# build/).  Options go to skvm-bench, e.g. --only crc32,sort --time 2.
# See docs/bench.md.
set -e
src=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$src/build}

if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" "$src" >/dev/null
fi
ninja -C "$build" bench-programs >/dev/null
if ! ninja -C "$build" >/dev/null 2>&1; then
	echo "warning: the full build failed; the skvm column may be stale or empty" >&2
fi

echo "commit $(git -C "$src" describe --always --dirty 2>/dev/null || echo unknown)"
exec "$build/bench/skvm-bench" "$@"
