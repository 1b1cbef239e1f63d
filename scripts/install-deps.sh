#!/bin/bash
# Install what building and testing skvm needs, from Debian's packages.
# Idempotent: does nothing when every package is already installed, unless
# --update is given (CI always refreshes the package lists first).
set -euo pipefail

packages=(
	# build
	gcc libc6-dev make pkg-config meson ninja-build python3 binutils
	libzydis-dev libzycore-dev liburcu-dev
	# tests
	libcmocka-dev
	# the KVM selftests, built at test time from the kernel source
	linux-source-6.1 linux-libc-dev xz-utils rsync bc flex bison perl
	# the default guest of `skvm run`
	linux-image-cloud-amd64
	# tests/qemu: QEMU -accel kvm under `skvm exec` (about a minute)
	qemu-system-x86
	# sanitizer and clang builds
	clang libclang-rt-14-dev
)

update=0
[[ ${1:-} == --update ]] && update=1

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q 'install ok installed' || missing+=("$p")
done

if [[ $update == 0 && ${#missing[@]} == 0 ]]; then
	echo "install-deps: all ${#packages[@]} packages present"
	exit 0
fi

sudo=()
[[ $(id -u) == 0 ]] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update
"${sudo[@]}" apt-get install -y --no-install-recommends "${packages[@]}"
