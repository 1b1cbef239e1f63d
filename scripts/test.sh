#!/bin/bash
# README command 2: build if needed and run every test (all suites), then
# print one summary line.  Extra arguments go to `meson test` (e.g.
# --suite unit).  Exits with meson test's status.
set -uo pipefail
cd "$(dirname "$0")/.."

[[ -f build/build.ninja ]] || meson setup build || exit 1
ninja -C build || exit 1
meson test -C build --print-errorlogs --num-processes 2 "$@"
status=$?

# meson's own summary, as one plain line: expected failures count as
# passes (they are checked: an unexpected pass fails).
python3 - build/meson-logs/testlog.json <<'PY'
import json, sys
passed = failed = skipped = 0
for line in open(sys.argv[1]):
    r = json.loads(line)["result"]
    if r in ("OK", "EXPECTEDFAIL"):
        passed += 1
    elif r == "SKIP":
        skipped += 1
    else:
        failed += 1
print(f"summary: {passed} passed, {failed} failed, {skipped} skipped")
PY
exit $status
