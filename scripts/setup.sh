#!/bin/bash
# README command 1: install the dependencies, build skvm into build/, run
# the bundled example KVM program under `skvm exec`, then the main job:
# `skvm run` boots Debian's cloud kernel with skvm's own VMM to the bundled
# /init, which reports and powers the guest off.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
[[ -f build/build.ninja ]] || meson setup build
ninja -C build

echo
echo "+ build/skvm exec build/examples/hello/hello"
build/skvm exec build/examples/hello/hello

echo
echo "+ build/skvm run    # Linux to userspace and back, on skvm's KVM"
build/skvm run </dev/null
