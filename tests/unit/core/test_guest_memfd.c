// SPDX-License-Identifier: MIT
/*
 * Unit tests of guest_memfd and memory attributes (virt/kvm/guest_memfd.c):
 * creation and binding rules with KVM's errno, and a real-mode guest whose
 * reads and writes follow a page between its shared backing (the VMM's
 * memory) and its private one (the guest_memfd) as the attribute flips,
 * see a punched hole read back as zeros, and exit with
 * KVM_EXIT_MEMORY_FAULT on private memory that has no guest_memfd.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>
#include <linux/falloc.h>
#include <linux/kvm.h>

#include "skvm.h"
#include "kvm_compat.h"

#define MEM 0x10000
#define DATA 0x3000

static int create_gmem(int vm, uint64_t size, uint64_t flags)
{
	struct kvm_create_guest_memfd g = { .size = size, .flags = flags };
	int fd = skvm_ioctl(vm, KVM_CREATE_GUEST_MEMFD, &g);

	return fd < 0 ? -errno : fd;
}

static int region2(int vm, uint32_t slot, uint32_t flags, uint64_t gpa,
		   uint64_t size, void *hva, int gmem, uint64_t off)
{
	struct kvm_userspace_memory_region2 m = {
		.slot = slot, .flags = flags, .guest_phys_addr = gpa,
		.memory_size = size, .userspace_addr = (uint64_t)(uintptr_t)hva,
		.guest_memfd = (uint32_t)gmem, .guest_memfd_offset = off,
	};

	return skvm_ioctl(vm, KVM_SET_USER_MEMORY_REGION2, &m) ? -errno : 0;
}

static int attrs(int vm, uint64_t addr, uint64_t size, uint64_t a, uint64_t flags)
{
	struct kvm_memory_attributes m = {
		.address = addr, .size = size, .attributes = a, .flags = flags,
	};

	return skvm_ioctl(vm, KVM_SET_MEMORY_ATTRIBUTES, &m) ? -errno : 0;
}

static void test_rules(void **state)
{
	int kvm = skvm_open(O_RDWR), vm, pvm, gmem, p[2];
	uint8_t *mem = mmap(NULL, MEM, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_int_equal(pipe(p), 0);
	assert_int_equal(skvm_ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_VM_TYPES), 3);
	assert_int_equal(skvm_ioctl(kvm, KVM_CREATE_VM, 2), -1);
	assert_int_equal(errno, EINVAL);
	vm = skvm_ioctl(kvm, KVM_CREATE_VM, KVM_X86_DEFAULT_VM);
	pvm = skvm_ioctl(kvm, KVM_CREATE_VM, KVM_X86_SW_PROTECTED_VM);
	assert_true(vm >= 0 && pvm >= 0);
	assert_int_equal(skvm_ioctl(vm, KVM_CHECK_EXTENSION, KVM_CAP_GUEST_MEMFD), 0);
	assert_int_equal(skvm_ioctl(pvm, KVM_CHECK_EXTENSION, KVM_CAP_GUEST_MEMFD), 1);
	assert_int_equal(skvm_ioctl(vm, KVM_CHECK_EXTENSION, KVM_CAP_MEMORY_ATTRIBUTES), 0);
	assert_int_equal(skvm_ioctl(pvm, KVM_CHECK_EXTENSION, KVM_CAP_MEMORY_ATTRIBUTES),
			 KVM_MEMORY_ATTRIBUTE_PRIVATE);

	assert_int_equal(create_gmem(pvm, 0, 0), -EINVAL);
	assert_int_equal(create_gmem(pvm, 4097, 0), -EINVAL);
	assert_int_equal(create_gmem(pvm, MEM, 1), -EINVAL);
	gmem = create_gmem(pvm, MEM, 0);
	assert_true(gmem >= 0);
	assert_int_equal(fcntl(gmem, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	/* the VMM cannot map private memory, nor issue ioctls on it */
	assert_true(mmap(NULL, 4096, PROT_READ, MAP_SHARED, gmem, 0) == MAP_FAILED);
	assert_int_equal(errno, ENODEV);
	assert_int_equal(skvm_ioctl(gmem, KVM_RUN, 0), -1);
	assert_int_equal(errno, ENOTTY);

	/* slots: only protected VMs, only their own guest_memfd, in range */
	assert_int_equal(region2(vm, 0, KVM_MEM_GUEST_MEMFD, 0, MEM, mem, gmem, 0), -EINVAL);
	assert_int_equal(region2(pvm, 0, KVM_MEM_GUEST_MEMFD, 0, MEM, mem, p[0], 0), -EINVAL);
	assert_int_equal(region2(pvm, 0, KVM_MEM_GUEST_MEMFD, 0, MEM, mem, gmem, 8), -EINVAL);
	assert_int_equal(region2(pvm, 0, KVM_MEM_GUEST_MEMFD, 0, MEM, mem, gmem, 4096), -EINVAL);
	assert_int_equal(region2(pvm, 0, KVM_MEM_GUEST_MEMFD | KVM_MEM_READONLY, 0,
				 MEM, mem, gmem, 0), -EINVAL);
	assert_int_equal(region2(pvm, 0, KVM_MEM_GUEST_MEMFD, 0, MEM / 2, mem, gmem, 0), 0);
	/* the same guest_memfd range cannot back two slots */
	assert_int_equal(region2(pvm, 1, KVM_MEM_GUEST_MEMFD, MEM, MEM / 2, mem + MEM / 2,
				 gmem, 4096), -EEXIST);
	assert_int_equal(region2(pvm, 1, KVM_MEM_GUEST_MEMFD, MEM, MEM / 2, mem + MEM / 2,
				 gmem, MEM / 2), 0);
	/* a guest_memfd slot does not move, nor lose its guest_memfd */
	assert_int_equal(region2(pvm, 1, KVM_MEM_GUEST_MEMFD, 4 * MEM, MEM / 2,
				 mem + MEM / 2, gmem, MEM / 2), -EINVAL);
	assert_int_equal(region2(pvm, 1, 0, MEM, MEM / 2, mem + MEM / 2, gmem, 0), -EINVAL);

	/* attributes */
	assert_int_equal(attrs(pvm, 0, 4096, KVM_MEMORY_ATTRIBUTE_PRIVATE, 1), -EINVAL);
	assert_int_equal(attrs(pvm, 0, 4096, 1, 0), -EINVAL);
	assert_int_equal(attrs(pvm, 0, 0, KVM_MEMORY_ATTRIBUTE_PRIVATE, 0), -EINVAL);
	assert_int_equal(attrs(pvm, 512, 4096, KVM_MEMORY_ATTRIBUTE_PRIVATE, 0), -EINVAL);
	assert_int_equal(attrs(pvm, ~0ULL & ~4095ULL, 8192, KVM_MEMORY_ATTRIBUTE_PRIVATE, 0),
			 -EINVAL);
	assert_int_equal(attrs(vm, 0, 4096, KVM_MEMORY_ATTRIBUTE_PRIVATE, 0), -EINVAL);
	assert_int_equal(attrs(pvm, 0, 4096, KVM_MEMORY_ATTRIBUTE_PRIVATE, 0), 0);
	assert_int_equal(attrs(pvm, 0, 4096, 0, 0), 0);
	close(gmem);
	close(vm);
	close(pvm);
	close(kvm);
	close(p[0]);
	close(p[1]);
	munmap(mem, MEM);
}

/*
 * Real mode at 0x1000: read [ds:bx] and OUT it to port 0x80, forever; at
 * 0x1100: write 0x5a to [ds:bx], then go read.
 */
static const uint8_t code_read[] = {
	0x8a, 0x07,		/* mov al, [bx] */
	0xe6, 0x80,		/* out 0x80, al */
	0xeb, 0xfa,		/* jmp 0x1000 */
};
static const uint8_t code_write[] = {
	0xc6, 0x07, 0x5a,	/* mov byte [bx], 0x5a */
	0xe9, 0xfa, 0xfe,	/* jmp 0x1000 */
};

struct guest {
	int kvm, vm, vcpu, gmem;
	struct kvm_run *run;
	uint8_t *mem, *other;
};

static void guest_enter(struct guest *g, uint64_t rip, uint64_t ds_base)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = rip, .rbx = 0, .rsp = 0x8000, .rflags = 2 };

	assert_int_equal(skvm_ioctl(g->vcpu, KVM_GET_SREGS, &sregs), 0);
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	sregs.ds.base = ds_base;
	sregs.ds.selector = (uint16_t)(ds_base >> 4);
	assert_int_equal(skvm_ioctl(g->vcpu, KVM_SET_SREGS, &sregs), 0);
	assert_int_equal(skvm_ioctl(g->vcpu, KVM_SET_REGS, &regs), 0);
}

/* Run to the next OUT: the byte, or -(exit reason). */
static int guest_out(struct guest *g)
{
	assert_int_equal(skvm_ioctl(g->vcpu, KVM_RUN, 0), 0);
	if (g->run->exit_reason != KVM_EXIT_IO)
		return -(int)g->run->exit_reason;
	return ((uint8_t *)g->run)[g->run->io.data_offset];
}

static void test_private_shared_guest(void **state)
{
	struct guest g;
	struct kvm_memory_fault_exit *mf;

	g.kvm = skvm_open(O_RDWR);
	g.vm = skvm_ioctl(g.kvm, KVM_CREATE_VM, KVM_X86_SW_PROTECTED_VM);
	g.mem = mmap(NULL, MEM, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	g.other = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	memcpy(g.mem + 0x1000, code_read, sizeof(code_read));
	memcpy(g.mem + 0x1100, code_write, sizeof(code_write));
	g.mem[DATA] = 0x11;
	g.gmem = create_gmem(g.vm, MEM, 0);
	assert_true(g.gmem >= 0);
	assert_int_equal(region2(g.vm, 0, KVM_MEM_GUEST_MEMFD, 0, MEM, g.mem, g.gmem, 0), 0);
	/* a plain slot at 0x20000, no guest_memfd */
	assert_int_equal(region2(g.vm, 1, 0, 0x20000, 4096, g.other, -1, 0), 0);
	g.other[0] = 0x22;
	g.vcpu = skvm_ioctl(g.vm, KVM_CREATE_VCPU, 0);
	g.run = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, g.vcpu, 0);
	assert_true(g.run != MAP_FAILED);

	/* shared: the VMM's memory */
	guest_enter(&g, 0x1000, DATA);
	assert_int_equal(guest_out(&g), 0x11);
	/* private: the guest_memfd, zero until written */
	assert_int_equal(attrs(g.vm, DATA, 4096, KVM_MEMORY_ATTRIBUTE_PRIVATE, 0), 0);
	assert_int_equal(guest_out(&g), 0);
	guest_enter(&g, 0x1100, DATA);
	assert_int_equal(guest_out(&g), 0x5a);
	assert_int_equal(g.mem[DATA], 0x11);	/* the shared page is untouched */
	/* back to shared and private again: each backing kept its byte */
	assert_int_equal(attrs(g.vm, DATA, 4096, 0, 0), 0);
	assert_int_equal(guest_out(&g), 0x11);
	assert_int_equal(attrs(g.vm, 0, MEM, KVM_MEMORY_ATTRIBUTE_PRIVATE, 0), 0);
	assert_int_equal(attrs(g.vm, 0x1000, 0x1000, 0, 0), 0);	/* code shared */
	assert_int_equal(guest_out(&g), 0x5a);
	/* punching a hole in the guest_memfd frees the private page */
	assert_int_equal(fallocate(g.gmem, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				   DATA, 4096), 0);
	assert_int_equal(guest_out(&g), 0);

	/* private memory with nothing to back it: KVM_EXIT_MEMORY_FAULT */
	assert_int_equal(attrs(g.vm, 0x20000, 4096, KVM_MEMORY_ATTRIBUTE_PRIVATE, 0), 0);
	guest_enter(&g, 0x1000, 0x20000);
	assert_int_equal(guest_out(&g), -KVM_EXIT_MEMORY_FAULT);
	mf = kvm_run_memory_fault(g.run);
	assert_int_equal(mf->gpa, 0x20000);
	assert_int_equal(mf->size, 4096);
	assert_int_equal(mf->flags, KVM_MEMORY_EXIT_FLAG_PRIVATE);
	/* the VMM converts it to shared; the same instruction completes */
	assert_int_equal(attrs(g.vm, 0x20000, 4096, 0, 0), 0);
	assert_int_equal(guest_out(&g), 0x22);

	munmap(g.run, 3 * 4096);
	close(g.vcpu);
	close(g.gmem);
	close(g.vm);
	close(g.kvm);
	munmap(g.mem, MEM);
	munmap(g.other, 4096);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_private_shared_guest),
	};

	return cmocka_run_group_tests_name("guest_memfd", tests, NULL, NULL);
}
