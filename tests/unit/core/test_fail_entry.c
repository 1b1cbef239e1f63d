// SPDX-License-Identifier: MIT
/*
 * KVM_EXIT_FAIL_ENTRY: KVM_SET_SREGS accepts a 64-bit code segment with
 * both L and D set, which hardware refuses to enter (Intel SDM Vol. 3,
 * 27.3.1.2); KVM_RUN then reports a failed entry with VMX's "invalid guest
 * state" reason.  (This machine's reference /dev/kvm emulates the guest
 * and runs it anyway, so this is a unit test, not an ABI diff.)
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
#include <linux/kvm.h>

#include "skvm.h"

#define MEM 0x10000

static void test_long_mode_cs_l_and_d(void **state)
{
	int kvm = skvm_open(O_RDWR), vm = skvm_ioctl(kvm, KVM_CREATE_VM, 0), vcpu;
	uint8_t *mem = mmap(NULL, MEM, PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct kvm_userspace_memory_region m = {
		.memory_size = MEM, .userspace_addr = (uint64_t)(uintptr_t)mem,
	};
	uint64_t *pml4 = (uint64_t *)(mem + 0x1000), *pdpt = (uint64_t *)(mem + 0x2000);
	uint64_t *pd = (uint64_t *)(mem + 0x3000);
	struct kvm_regs regs = { .rip = 0x8000, .rflags = 2 };
	struct kvm_sregs sregs;
	struct kvm_run *run;

	assert_int_equal(skvm_ioctl(vm, KVM_SET_USER_MEMORY_REGION, &m), 0);
	vcpu = skvm_ioctl(vm, KVM_CREATE_VCPU, 0);
	run = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	assert_true(run != MAP_FAILED);
	/* identity-map 2 MiB, HLT at 0x8000 */
	pml4[0] = 0x2000 | 3;
	pdpt[0] = 0x3000 | 3;
	pd[0] = 0x80 | 3;
	mem[0x8000] = 0xf4;
	assert_int_equal(skvm_ioctl(vcpu, KVM_GET_SREGS, &sregs), 0);
	sregs.cr3 = 0x1000;
	sregs.cr4 = 1u << 5;			/* PAE */
	sregs.cr0 = 0x80000011;			/* PG, ET, PE */
	sregs.efer = (1u << 8) | (1u << 10);	/* LME, LMA */
	sregs.cs = (struct kvm_segment){ .selector = 8, .limit = 0xffffffff,
		.type = 11, .present = 1, .s = 1, .l = 1, .g = 1, .db = 0 };
	sregs.ds = sregs.es = sregs.ss = (struct kvm_segment){ .selector = 16,
		.limit = 0xffffffff, .type = 3, .present = 1, .s = 1, .g = 1, .db = 1 };
	assert_int_equal(skvm_ioctl(vcpu, KVM_SET_SREGS, &sregs), 0);
	assert_int_equal(skvm_ioctl(vcpu, KVM_SET_REGS, &regs), 0);
	/* a valid 64-bit CS enters and halts */
	assert_int_equal(skvm_ioctl(vcpu, KVM_RUN, 0), 0);
	assert_int_equal(run->exit_reason, KVM_EXIT_HLT);

	/* L and D together: accepted by KVM_SET_SREGS, refused at entry */
	sregs.cs.db = 1;
	assert_int_equal(skvm_ioctl(vcpu, KVM_SET_SREGS, &sregs), 0);
	assert_int_equal(skvm_ioctl(vcpu, KVM_SET_REGS, &regs), 0);
	assert_int_equal(skvm_ioctl(vcpu, KVM_RUN, 0), 0);
	assert_int_equal(run->exit_reason, KVM_EXIT_FAIL_ENTRY);
	assert_int_equal(run->fail_entry.hardware_entry_failure_reason, 0x80000021);
	/* nothing ran */
	assert_int_equal(skvm_ioctl(vcpu, KVM_GET_REGS, &regs), 0);
	assert_int_equal(regs.rip, 0x8000);

	munmap(run, 3 * 4096);
	close(vcpu);
	close(vm);
	close(kvm);
	munmap(mem, MEM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_long_mode_cs_l_and_d),
	};

	return cmocka_run_group_tests_name("fail_entry", tests, NULL, NULL);
}
