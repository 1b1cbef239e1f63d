#!/bin/bash
# Record the golden transcripts in tests/abi/expected/ from the kernel's
# /dev/kvm.  abi_diff compares skvm against them where /dev/kvm is absent.
#   tests/abi/record-expected.sh BUILDDIR
set -euo pipefail
build=${1:?usage: $0 BUILDDIR}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$here/expected"
for exe in "$build"/tests/abi/abi_*; do
	[[ -f $exe && -x $exe && $exe != */abi_diff ]] || continue
	name=${exe##*/abi_}
	status=0
	"$exe" > "$here/expected/$name.txt" || status=$?
	echo "exit status $status" >> "$here/expected/$name.txt"
	echo "$name: exit status $status"
done
