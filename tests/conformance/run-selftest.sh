#!/bin/bash
# Run one KVM selftest under `skvm exec`, or natively with --native.
#
#   run-selftest.sh LAUNCHER|--native STAMP SELFTEST [ARGS...]
#
# Exit status follows meson: 0 pass, 77 skip, anything else a failure.
# A selftest that skips itself (kselftest's KSFT_SKIP, 4) is a skip.
set -uo pipefail

launcher=$1
stamp=$2
bin=$3
shift 3

if [[ $(cat "$stamp" 2>/dev/null) != ok ]]; then
	echo "selftests not built (see build-selftests.sh output)"
	exit 77
fi
if [[ ! -x $bin ]]; then
	echo "$bin: not built"
	exit 1
fi

if [[ $launcher == --native ]]; then
	if ! [[ -r /dev/kvm && -w /dev/kvm ]]; then
		echo "/dev/kvm absent or not usable: native reference skipped"
		exit 77
	fi
	"$bin" "$@"
else
	if [[ ! -x $launcher ]]; then
		echo "$launcher: skvm launcher not built"
		exit 77
	fi
	"$launcher" exec "$bin" "$@"
fi
rc=$?
[[ $rc == 4 ]] && exit 77
exit $rc
