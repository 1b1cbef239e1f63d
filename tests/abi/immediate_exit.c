// SPDX-License-Identifier: MIT
/*
 * immediate_exit - with kvm_run.immediate_exit set, KVM_RUN returns -1
 * with EINTR and exit reason KVM_EXIT_INTR without running the guest
 * (Documentation/virt/kvm/api.rst, "immediate_exit").  A pending I/O
 * exit is completed first: the IN data the client supplied reaches the
 * register even though the guest does not run further.  api.rst (under
 * KVM_RUN's exit reasons): "the kernel side will first finish incomplete
 * operations and then check for pending signals ... userspace can
 * re-enter the guest with an unmasked signal pending or with the
 * immediate_exit field set to complete pending operations without
 * allowing any further instructions to be executed."
 *
 * The kernel does not write kvm_run.exit_reason on this path (x86's
 * kvm_arch_vcpu_ioctl_run returns before entering the guest), so the
 * reason left from the previous exit is still there; the transcript
 * records that, on hardware KVM as on the kernel here.
 */
#include <errno.h>
#include <sys/ioctl.h>

#include "abi.h"

GUEST_CODE(ie,
	".code16\n"
	"	mov $0x42, %al\n"
	"	outb %al, $0xe9\n"
	"	inb $0xe9, %al\n"
	"	mov %ax, %bx\n"
	"	hlt\n");

int main(void)
{
	struct vm v;

	vm_create(&v, 0x10000);
	vm_load(&v, GUEST_CODE_GPA, ie_start, ie_end - ie_start);
	vm_setup_real(&v, GUEST_CODE_GPA);

	tr("# immediate_exit before the guest ever ran");
	v.run->immediate_exit = 1;
	vm_run(&v);
	print_regs(&v);

	tr("# run to the OUT, then to the IN");
	v.run->immediate_exit = 0;
	vm_run(&v);
	vm_run(&v);
	*((uint8_t *)v.run + v.run->io.data_offset) = 0x99;

	tr("# immediate_exit with the IN pending: it completes, guest stays");
	v.run->immediate_exit = 1;
	vm_run(&v);
	print_regs(&v);

	v.run->immediate_exit = 0;
	vm_run_to_hlt(&v, 8);
	print_regs(&v);
	vm_destroy(&v);
	return 0;
}
