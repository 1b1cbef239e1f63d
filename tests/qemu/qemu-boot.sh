#!/bin/bash
# qemu-boot.sh SKVM INITRD [QEMU OPTIONS...] - run unmodified QEMU with
# -accel kvm under `skvm exec`, booting the host's /boot/vmlinuz-* with
# skvm's initramfs, and check the console: the kernel's banner, then the
# line printed by /init, then the power-off.
#
# Skipped (77) without qemu-system-x86_64 or a /boot/vmlinuz-*.
# SKVM_QEMU_TIMEOUT (seconds, default 600) bounds the run.
set -u
skvm=$1 initrd=$2
shift 2
want='skvm: guest userspace reached'

qemu=$(command -v qemu-system-x86_64) || {
	echo "skipped: qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)"
	exit 77
}
kernel=$(ls -1 /boot/vmlinuz-*-cloud-* 2>/dev/null | sort -V | tail -n 1)
[[ -n $kernel ]] || kernel=$(ls -1 /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1)
if [[ -z $kernel || ! -r $kernel ]]; then
	echo "skipped: no readable /boot/vmlinuz-* (apt-get install linux-image-cloud-amd64)"
	exit 77
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
start=$SECONDS
timeout "${SKVM_QEMU_TIMEOUT:-600}" "$skvm" exec "$qemu" -accel kvm \
	-nographic -no-reboot -m 256 -kernel "$kernel" -initrd "$initrd" \
	-append "console=ttyS0 panic=-1" "$@" </dev/null >"$log" 2>&1
status=$?
tr -d '\r' <"$log" | grep -v "host doesn't support requested feature" | tail -n 30
echo "qemu-boot: $* exit ${status} after $((SECONDS - start)) s"
for line in 'Linux version' 'Run /init as init process' "$want" 'reboot: Power down'; do
	if ! grep -q "$line" "$log"; then
		echo "qemu-boot: missing on the console: $line"
		exit 1
	fi
done
if [[ $status != 0 ]]; then
	echo "qemu-boot: QEMU did not exit cleanly"
	exit 1
fi
exit 0
