// SPDX-License-Identifier: MIT
/*
 * hello - the smallest useful KVM program.
 *
 * Creates a VM with 64 KiB of RAM, copies in a real-mode guest that writes
 * "Hello from a skvm guest\n" to I/O port 0x3f8 one byte at a time and
 * halts, and prints what the guest wrote.  It uses nothing but
 * <linux/kvm.h>, so it runs as is on the kernel's /dev/kvm and under
 *
 *	skvm exec ./hello
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/kvm.h>

#define MEM_SIZE	0x10000
#define CODE_GPA	0x1000
#define SERIAL_PORT	0x3f8

/*
 * The guest, assembled into this program's .rodata and copied to CODE_GPA.
 * An absolute guest address is (label - guest_start + CODE_GPA).
 */
extern const unsigned char guest_start[], guest_end[];
__asm__(".pushsection .rodata\n"
	".hidden guest_start\n"
	".hidden guest_end\n"
	"guest_start:\n"
	".code16\n"
	"	mov $(guest_msg - guest_start + 0x1000), %si\n"
	"	mov $0x3f8, %dx\n"
	"1:	lodsb\n"
	"	test %al, %al\n"
	"	jz 2f\n"
	"	outb %al, %dx\n"
	"	jmp 1b\n"
	"2:	hlt\n"
	"guest_msg:\n"
	"	.asciz \"Hello from a skvm guest\\n\"\n"
	"guest_end:\n"
	".code64\n"
	".popsection\n");

static void die(const char *what)
{
	fprintf(stderr, "hello: %s: %s\n", what, strerror(errno));
	exit(1);
}

int main(void)
{
	struct kvm_userspace_memory_region region;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_run *run;
	int kvm, vm, vcpu, run_size;
	uint8_t *mem;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		die("open /dev/kvm");
	if (ioctl(kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
		die("KVM_GET_API_VERSION");
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		die("KVM_CREATE_VM");

	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap guest memory");
	memcpy(mem + CODE_GPA, guest_start, guest_end - guest_start);
	region = (struct kvm_userspace_memory_region){
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = MEM_SIZE,
		.userspace_addr = (uintptr_t)mem,
	};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		die("KVM_SET_USER_MEMORY_REGION");

	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		die("KVM_CREATE_VCPU");
	run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size < (int)sizeof(*run))
		die("KVM_GET_VCPU_MMAP_SIZE");
	run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		die("mmap kvm_run");

	/* Real mode with CS at 0: the vCPU resets with CS base 0xffff0000. */
	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		die("KVM_GET_SREGS");
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
		die("KVM_SET_SREGS");
	memset(&regs, 0, sizeof(regs));
	regs.rip = CODE_GPA;
	regs.rflags = 0x2;		/* bit 1 is always set */
	if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		die("KVM_SET_REGS");

	for (;;) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0)
			die("KVM_RUN");
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			if (run->io.direction == KVM_EXIT_IO_OUT &&
			    run->io.port == SERIAL_PORT)
				fwrite((char *)run + run->io.data_offset,
				       run->io.size, run->io.count, stdout);
			break;
		case KVM_EXIT_HLT:
			fflush(stdout);
			return 0;
		default:
			fprintf(stderr, "hello: unexpected exit reason %u\n",
				run->exit_reason);
			return 1;
		}
	}
}
