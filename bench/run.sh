#!/bin/sh
# SPDX-License-Identifier: MIT
#
# bench/run.sh [skvm-bench options]
#
# Builds the benchmark programs (and skvm itself, if it builds) and prints
# the table: guest instructions per second under skvm, QEMU TCG, native
# and this host's /dev/kvm, then the exit and interrupt latencies on skvm
# and /dev/kvm.  BUILD=dir picks the build directory (default build/).
# Options go to skvm-bench, e.g. --only crc32,sort --time 2; LATENCY=0
# skips the latencies, LATENCY_ONLY=1 prints only them.
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
status=0
if [ "${LATENCY_ONLY:-0}" = 0 ]; then
	"$build/bench/skvm-bench" "$@" || status=$?
fi

# Latency: a PIO exit round trip and irqfd -> guest handler, on skvm and
# on this host's /dev/kvm, side by side (docs/bench.md, "Latency").  The
# reference device is a slow emulator: few iterations there.
# LATENCY=0 skips it; LAT_SKVM / LAT_KVM are skvm-bench-latency options.
[ "${LATENCY:-1}" = 0 ] && exit $status
no_kvm=0
for a in "$@"; do [ "$a" = --no-kvm ] && no_kvm=1; done
lat_skvm=${LAT_SKVM:--p 20000 -i 1000}
lat_kvm=${LAT_KVM:--p 300 -i 50 -s 2000}
skvm_out="" kvm_out=""
if [ -x "$build/skvm" ]; then
	# shellcheck disable=SC2086
	skvm_out=$("$build/skvm" exec "$build/bench/skvm-bench-latency" $lat_skvm) ||
		{ echo "warning: skvm-bench-latency failed under skvm" >&2; skvm_out=fail; }
fi
if [ $no_kvm = 0 ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	# shellcheck disable=SC2086
	kvm_out=$("$build/bench/skvm-bench-latency" $lat_kvm) ||
		{ echo "warning: skvm-bench-latency failed on /dev/kvm" >&2; kvm_out=fail; }
fi
printf '%s\n--\n%s\n' "$skvm_out" "$kvm_out" | awk '
	$0 == "--" { col = 2; next }
	$0 == "fail" { failed[col + 0] = 1; next }
	{
		for (i = 2; i <= NF; i++) { split($i, kv, "="); v[col + 0, $1, kv[1]] = kv[2] }
	}
	function cell(c, m) {
		if (failed[c]) return sprintf("%24s", "fail")
		if (!((c, m, "median_ns") in v)) return sprintf("%24s", "n/a")
		return sprintf("%13.2f (%8.2f)", v[c, m, "median_ns"] / 1000, v[c, m, "mean_ns"] / 1000)
	}
	function n(c, m) { return ((c, m, "n") in v) ? v[c, m, "n"] : "-" }
	END {
		printf "\n%-20s %24s %24s\n", "latency, us", "skvm median (mean)", "KVM* median (mean)"
		printf "%-20s %s %s\n", "PIO exit round trip", cell(0, "pio"), cell(2, "pio")
		printf "%-20s %s %s\n", "irqfd -> handler", cell(0, "irqfd"), cell(2, "irqfd")
		printf "  skvm n=%s/%s  KVM* n=%s/%s (pio/irqfd)\n", n(0, "pio"), n(0, "irqfd"), n(2, "pio"), n(2, "irqfd")
	}'
exit $status
