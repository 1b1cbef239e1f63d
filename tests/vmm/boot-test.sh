#!/bin/bash
# boot-test.sh MODE SKVM_VMM [SKVM] - boot the default guest (the host's
# /boot/vmlinuz-* and skvm-initrd.cpio) to its /init and check that it
# printed its line and powered off.  MODE is "kvm" (the kernel's /dev/kvm)
# or "skvm" (under `skvm exec`).
#
# Minutes to an hour on an emulating /dev/kvm: skipped (77) unless
# SKVM_BOOT_TEST=1.  SKVM_BOOT_TIMEOUT (seconds, default 3600) bounds it.
set -u
mode=$1 vmm=$2 skvm=${3:-}
want='skvm: guest userspace reached'

if [[ ${SKVM_BOOT_TEST:-0} != 1 ]]; then
	echo "skipped: set SKVM_BOOT_TEST=1 to boot a kernel"
	exit 77
fi
if ! compgen -G '/boot/vmlinuz-*' >/dev/null; then
	echo "skipped: no /boot/vmlinuz-* (apt-get install linux-image-cloud-amd64)"
	exit 77
fi
cmd=("$vmm")
case $mode in
kvm)
	if [[ ! -w /dev/kvm ]]; then
		echo "skipped: no usable /dev/kvm"
		exit 77
	fi
	# Without VMX/SVM, KVM emulates every instruction, and its emulator
	# cannot execute INT3 in long mode: Linux stops at its INT3 self-test
	# (docs/vmm.md, "Measured").
	if ! grep -qwE 'vmx|svm' /proc/cpuinfo; then
		echo "skipped: the host CPU has no VMX/SVM"
		exit 77
	fi ;;
skvm)	cmd=("$skvm" exec "$vmm") ;;
*)	echo "bad mode $mode"; exit 2 ;;
esac

log=$(mktemp)
trap 'rm -f "$log"' EXIT
start=$SECONDS
timeout "${SKVM_BOOT_TIMEOUT:-3600}" "${cmd[@]}" </dev/null >"$log" 2>&1
status=$?
tr -d '\r' <"$log" | tail -n 40
echo "boot-test: ${mode}: exit ${status} after $((SECONDS - start)) s"
if ! grep -q "$want" "$log"; then
	echo "boot-test: the guest did not reach /init"
	exit 1
fi
if [[ $status != 0 ]] || ! grep -q 'skvm-vmm: guest powered off' "$log"; then
	echo "boot-test: the guest did not power off cleanly"
	exit 1
fi
exit 0
