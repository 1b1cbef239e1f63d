// SPDX-License-Identifier: MIT
/*
 * fd_lifetime - KVM object fds are ordinary fds: dup, dup2 and
 * fcntl(F_DUPFD_CLOEXEC) give working copies; the VM lives while any fd
 * on it, or on one of its vCPUs, is open; a closed fd is EBADF.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "abi.h"

#define HIGH_FD		200

GUEST_CODE(fl,
	".code16\n"
	"	mov $0x5a, %al\n"
	"	outb %al, $0xe9\n"
	"	hlt\n");

int main(void)
{
	struct vm v;
	int d1, d2, d3, vcpu1;

	vm_create(&v, 0x10000);
	vm_load(&v, GUEST_CODE_GPA, fl_start, fl_end - fl_start);
	vm_setup_real(&v, GUEST_CODE_GPA);

	d1 = chk_ok("dup VM fd", dup(v.fd));
	d2 = chk("dup2 VM fd to 200", dup2(v.fd, HIGH_FD));
	d3 = chk_ok("fcntl F_DUPFD_CLOEXEC VM fd",
		    fcntl(v.fd, F_DUPFD_CLOEXEC, HIGH_FD));
	chk("F_GETFD dup", fcntl(d1, F_GETFD));
	chk("F_GETFD dup2", fcntl(d2, F_GETFD));
	chk("F_GETFD F_DUPFD_CLOEXEC", fcntl(d3, F_GETFD));
	chk("dup: KVM_CHECK_EXTENSION KVM_CAP_USER_MEMORY",
	    ioctl(d1, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY));
	chk("dup2: KVM_CREATE_VCPU 0 (exists)", ioctl(d2, KVM_CREATE_VCPU, 0));

	chk("close VM fd", close(v.fd));
	chk("F_GETFD closed VM fd", fcntl(v.fd, F_GETFD));
	chk("ioctl closed VM fd", ioctl(v.fd, KVM_CHECK_EXTENSION, 0));
	vcpu1 = chk_ok("F_DUPFD_CLOEXEC copy: KVM_CREATE_VCPU 1",
		       ioctl(d3, KVM_CREATE_VCPU, 1));

	tr("# close every VM fd; the vCPU fds keep the VM alive");
	chk("close dup", close(d1));
	chk("close dup2", close(d2));
	chk("close F_DUPFD_CLOEXEC copy", close(d3));
	vm_run_to_hlt(&v, 8);
	print_regs(&v);
	if (vcpu1 >= 0) {
		struct kvm_regs r;

		chk("vCPU 1 KVM_GET_REGS", ioctl(vcpu1, KVM_GET_REGS, &r));
		chk("close vCPU 1", close(vcpu1));
		chk("F_GETFD closed vCPU 1", fcntl(vcpu1, F_GETFD));
	}
	d1 = chk_ok("dup vCPU fd", dup(v.vcpu));
	chk("close vCPU fd", close(v.vcpu));
	chk("dup of vCPU: KVM_GET_REGS", ioctl(d1, KVM_GET_REGS, &(struct kvm_regs){ 0 }));
	chk("close dup of vCPU", close(d1));
	chk("F_GETFD closed vCPU", fcntl(v.vcpu, F_GETFD));
	chk("ioctl closed vCPU", ioctl(v.vcpu, KVM_RUN, 0));
	tr("# kvm_run stays mapped after its fd is closed");
	tr("kvm_run exit_reason=%u", v.run->exit_reason);
	v.fd = v.vcpu = -1;
	vm_destroy(&v);
	return 0;
}
