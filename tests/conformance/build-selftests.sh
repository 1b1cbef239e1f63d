#!/bin/bash
# Build the Linux 6.1 KVM selftests (x86_64) from Debian's linux-source-6.1.
#
#   build-selftests.sh TARBALL WORKDIR COMPAT_H STAMP
#
# Extracts only the parts of the tree the selftests need into WORKDIR,
# installs the UAPI headers there (the selftests include them from the
# tree's usr/include), and builds every x86_64 selftest into WORKDIR/out.
# Each step is skipped when its result is already there, so a rebuild
# costs a few seconds.  Nothing from the tree is ever copied into the repo.
#
# Without the tarball it writes a stamp saying so and exits 0: the tests
# then skip.
set -euo pipefail

# Paths become absolute: make runs in other directories.
tarball=$(realpath -m "$1")
work=$(realpath -m "$2")
compat=$(realpath "$3")
stamp=$(realpath -m "$4")
src=$work/linux-source-6.1
out=$work/out

mkdir -p "$work"
if [[ ! -f $tarball ]]; then
	echo "build-selftests: $tarball not found (apt-get install linux-source-6.1)"
	echo missing > "$stamp"
	exit 0
fi

if [[ ! -f $work/.extracted ]]; then
	rm -rf "$src"
	echo "build-selftests: extracting $tarball"
	tar -C "$work" -xJf "$tarball" \
		linux-source-6.1/Makefile linux-source-6.1/scripts \
		linux-source-6.1/include linux-source-6.1/arch/x86 \
		linux-source-6.1/tools linux-source-6.1/usr
	touch "$work/.extracted"
fi

if [[ ! -f $src/usr/include/linux/kvm.h ]]; then
	echo "build-selftests: make headers_install"
	make -s -C "$src" ARCH=x86_64 INSTALL_HDR_PATH=usr headers_install
fi

# The forced-include header is not a make dependency: rebuild everything
# when it changes.
sum=$(sha256sum "$compat" | cut -d' ' -f1)
if [[ ! -f $out/.compat && -d $out ]] ||
   [[ -f $out/.compat && $(cat "$out/.compat") != "$sum" ]]; then
	rm -rf "$out"
fi
mkdir -p "$out"
echo "$sum" > "$out/.compat"

jobs=$(nproc 2>/dev/null || echo 2)
echo "build-selftests: make -j$jobs (x86_64 KVM selftests)"
make -s -C "$src/tools/testing/selftests/kvm" -j"$jobs" \
	EXTRA_CFLAGS="-include $compat" OUTPUT="$out" >/dev/null
echo ok > "$stamp"
