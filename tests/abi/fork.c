// SPDX-License-Identifier: MIT
/*
 * fork - a VM belongs to the process (mm) that created it.  In a forked
 * child, ioctls on the inherited VM and vCPU fds fail with EIO, while the
 * /dev/kvm fd still works, including creating a VM of the child's own.
 * The parent's VM is unaffected.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "abi.h"

GUEST_CODE(fk,
	".code16\n"
	"	mov $0x77, %al\n"
	"	outb %al, $0xe9\n"
	"	hlt\n");

static void child(struct vm *v)
{
	struct kvm_regs r;
	int vm, vcpu;

	tr("# child");
	chk("child: KVM_GET_API_VERSION", ioctl(v->sys, KVM_GET_API_VERSION, 0));
	chk("child: KVM_CHECK_EXTENSION KVM_CAP_USER_MEMORY > 0",
	    ioctl(v->sys, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY) > 0);
	chk("child: VM fd KVM_CHECK_EXTENSION",
	    ioctl(v->fd, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY));
	chk("child: VM fd KVM_CREATE_VCPU 1", ioctl(v->fd, KVM_CREATE_VCPU, 1));
	chk("child: vCPU fd KVM_GET_REGS", ioctl(v->vcpu, KVM_GET_REGS, &r));
	chk("child: vCPU fd KVM_RUN", ioctl(v->vcpu, KVM_RUN, 0));
	vm = chk_ok("child: KVM_CREATE_VM", ioctl(v->sys, KVM_CREATE_VM, 0));
	if (vm >= 0) {
		vcpu = chk_ok("child: new VM KVM_CREATE_VCPU 0",
			      ioctl(vm, KVM_CREATE_VCPU, 0));
		if (vcpu >= 0) {
			chk("child: new vCPU KVM_GET_REGS",
			    ioctl(vcpu, KVM_GET_REGS, &r));
			close(vcpu);
		}
		close(vm);
	}
	chk("child: close inherited vCPU fd", close(v->vcpu));
	chk("child: close inherited VM fd", close(v->fd));
	fflush(stdout);
	_exit(0);
}

int main(void)
{
	struct vm v;
	pid_t pid;
	int status;

	vm_create(&v, 0x10000);
	vm_load(&v, GUEST_CODE_GPA, fk_start, fk_end - fk_start);
	vm_setup_real(&v, GUEST_CODE_GPA);
	vm_run(&v);

	fflush(stdout);
	pid = fork();
	die_unless(pid >= 0, "fork");
	if (pid == 0)
		child(&v);
	die_unless(waitpid(pid, &status, 0) == pid, "waitpid");
	tr("# parent");
	tr("child exited=%d status=%d", WIFEXITED(status),
	   WEXITSTATUS(status));
	vm_run_to_hlt(&v, 8);
	print_regs(&v);
	vm_destroy(&v);
	return 0;
}
