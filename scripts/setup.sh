#!/bin/bash
# README command 1: install the dependencies, build skvm into build/, and
# run the bundled example KVM program under `skvm exec`.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
[[ -f build/build.ninja ]] || meson setup build
ninja -C build

echo
echo "+ build/skvm exec build/examples/hello/hello"
build/skvm exec build/examples/hello/hello
