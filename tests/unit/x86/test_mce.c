// SPDX-License-Identifier: MIT
/*
 * test_mce.c - machine-check banks: KVM_X86_GET_MCE_CAP_SUPPORTED,
 * KVM_X86_SETUP_MCE, the bank MSRs and KVM_X86_SET_MCE (mce.c).
 */
#include <errno.h>
#include <string.h>

#include "harness.h"

#define MCG_CAP		0x179
#define MCG_STATUS	0x17a
#define MCG_CTL		0x17b
#define MC_CTL(i)	(0x400 + 4 * (i))
#define MC_STATUS(i)	(0x401 + 4 * (i))
#define MC_ADDR(i)	(0x402 + 4 * (i))
#define MC_MISC(i)	(0x403 + 4 * (i))
#define CTL_P		(1ULL << 8)
#define SER_P		(1ULL << 24)
#define VAL		(1ULL << 63)
#define OVER		(1ULL << 62)
#define UC		(1ULL << 61)

struct msrs1 {
	struct kvm_msrs h;
	struct kvm_msr_entry e[1];
};

static uint64_t get(struct harness *h, uint32_t index)
{
	struct msrs1 m = { .h.nmsrs = 1, .e[0].index = index };

	assert_int_equal(h_vcpu(h, KVM_GET_MSRS, &m), 1);
	return m.e[0].data;
}

/* Number of MSRs written: 1 or 0. */
static long set(struct harness *h, uint32_t index, uint64_t val)
{
	struct msrs1 m = { .h.nmsrs = 1, .e[0].index = index, .e[0].data = val };

	return h_vcpu(h, KVM_SET_MSRS, &m);
}

static long setup_mce(struct harness *h, uint64_t cap)
{
	return h_vcpu(h, KVM_X86_SETUP_MCE, &cap);
}

static void test_setup(void **state)
{
	struct harness *h = *state;
	struct msrs1 m = { .h.nmsrs = 1, .e[0].index = MC_CTL(10) };
	uint64_t sup = 0;

	assert_int_equal(h_sys(KVM_X86_GET_MCE_CAP_SUPPORTED, &sup), 0);
	assert_int_equal(sup, CTL_P | SER_P);
	assert_int_equal(h_sys(KVM_X86_GET_MCE_CAP_SUPPORTED, BAD_PTR), -EFAULT);
	/* A new vCPU: every bank, no MCG_CTL. */
	assert_int_equal(get(h, MCG_CAP), 32);
	assert_int_equal(get(h, MC_CTL(31)), 0);

	assert_int_equal(setup_mce(h, 0), -EINVAL);
	assert_int_equal(setup_mce(h, 33), -EINVAL);
	assert_int_equal(setup_mce(h, 10 | (1ULL << 9)), -EINVAL);
	assert_int_equal(h_vcpu(h, KVM_X86_SETUP_MCE, BAD_PTR), -EFAULT);
	/* QEMU's choice: MCG_CTL_P | MCG_SER_P, 10 banks. */
	assert_int_equal(setup_mce(h, CTL_P | SER_P | 10 | 0x30000), 0);
	assert_int_equal(get(h, MCG_CAP), CTL_P | SER_P | 10 | 0x30000);
	assert_int_equal(get(h, MCG_CTL), ~0ULL);
	assert_int_equal(get(h, MC_CTL(0)), ~0ULL);
	assert_int_equal(get(h, MC_CTL(9)), ~0ULL);
	assert_int_equal(get(h, MC_STATUS(9)), 0);
	assert_int_equal(h_vcpu(h, KVM_GET_MSRS, &m), 0);	/* no bank 10 */
	assert_int_equal(set(h, MC_CTL(10), 0), 0);

	/* What QEMU writes at reset. */
	assert_int_equal(set(h, MCG_STATUS, 0), 1);
	assert_int_equal(set(h, MCG_CTL, ~0ULL), 1);
	assert_int_equal(set(h, MC_CTL(3), ~0ULL), 1);
	assert_int_equal(set(h, MC_STATUS(3), 0), 1);
	assert_int_equal(set(h, MC_ADDR(3), 0x1234), 1);
	assert_int_equal(set(h, MC_MISC(3), 0x5678), 1);
	assert_int_equal(get(h, MC_ADDR(3)), 0x1234);
	assert_int_equal(get(h, MC_MISC(3)), 0x5678);
	/* MCi_CTL: all ones or zero, bits 10 and 0 excepted. */
	assert_int_equal(set(h, MC_CTL(3), 5), 0);
	assert_int_equal(set(h, MC_CTL(3), ~(1ULL << 10)), 1);
	assert_int_equal(set(h, MC_CTL(3), ~1ULL), 1);
	assert_int_equal(set(h, MC_CTL(3), 0), 1);
	assert_int_equal(set(h, MCG_CTL, 1), 0);
}

static void test_guest_access(void **state)
{
	struct harness *h = *state;
	struct x86_cpu *cpu = &h->vcpu.arch.cpu;
	uint64_t v;

	assert_int_equal(setup_mce(h, CTL_P | 2), 0);
	assert_int_equal(cpu->ops->rdmsr(cpu, MC_CTL(1), &v), 0);
	assert_int_equal(v, ~0ULL);
	assert_int_equal(cpu->ops->rdmsr(cpu, MC_CTL(2), &v), -1);
	/* Only the host puts an error into MCi_STATUS; the guest clears it. */
	assert_int_equal(cpu->ops->wrmsr(cpu, MC_STATUS(1), VAL), -1);
	assert_int_equal(set(h, MC_STATUS(1), VAL), 1);
	assert_int_equal(cpu->ops->wrmsr(cpu, MC_STATUS(1), 0), 0);
	assert_int_equal(get(h, MC_STATUS(1)), 0);
}

static long set_mce(struct harness *h, uint8_t bank, uint64_t status,
		    uint64_t addr)
{
	struct kvm_x86_mce mce = {
		.bank = bank, .status = status, .addr = addr, .misc = 7,
		.mcg_status = 5,
	};

	return h_vcpu(h, KVM_X86_SET_MCE, &mce);
}

static void test_inject(void **state)
{
	struct harness *h = *state;
	struct x86_cpu *cpu = &h->vcpu.arch.cpu;

	assert_int_equal(setup_mce(h, CTL_P | 2), 0);
	assert_int_equal(set_mce(h, 2, VAL, 0), -EINVAL);
	assert_int_equal(set_mce(h, 0, 1, 0), -EINVAL);
	assert_int_equal(h_vcpu(h, KVM_X86_SET_MCE, BAD_PTR), -EFAULT);

	/* Corrected: logged, no exception; a second one overflows. */
	assert_int_equal(set_mce(h, 0, VAL | 1, 0x1000), 0);
	assert_int_equal(get(h, MC_STATUS(0)), VAL | 1);
	assert_int_equal(get(h, MC_ADDR(0)), 0x1000);
	assert_int_equal(get(h, MC_MISC(0)), 7);
	assert_false(cpu->ev.exc_pending);
	assert_int_equal(set_mce(h, 0, VAL | 2, 0x2000), 0);
	assert_int_equal(get(h, MC_STATUS(0)), VAL | OVER | 2);

	/* Uncorrected with CR4.MCE clear: shutdown at the next KVM_RUN. */
	assert_int_equal(set_mce(h, 1, VAL | UC, 0x3000), 0);
	assert_true(h->vcpu.arch.shutdown_pending);
	assert_int_equal(get(h, MC_STATUS(1)), 0);
	h->vcpu.arch.shutdown_pending = false;

	/* Uncorrected, CR4.MCE set: bank, MCG_STATUS, and a pending #MC. */
	cpu->cr4 |= 1ULL << 6;
	assert_int_equal(set_mce(h, 1, VAL | UC, 0x3000), 0);
	assert_false(h->vcpu.arch.shutdown_pending);
	assert_int_equal(get(h, MC_STATUS(1)), VAL | UC);
	assert_int_equal(get(h, MC_ADDR(1)), 0x3000);
	assert_int_equal(get(h, MCG_STATUS), 5);	/* MCIP among them */
	assert_true(cpu->ev.exc_pending);
	assert_int_equal(cpu->ev.exc_nr, 18);
	assert_false(cpu->ev.exc_has_error);
	/* A corrected error never replaces an uncorrected one. */
	assert_int_equal(set_mce(h, 1, VAL | 3, 0), 0);
	assert_int_equal(get(h, MC_STATUS(1)), VAL | OVER | UC);
	/* A second #MC while MCIP is set: shutdown. */
	cpu->ev.exc_pending = false;
	assert_int_equal(set_mce(h, 0, VAL | UC, 0), 0);
	assert_true(h->vcpu.arch.shutdown_pending);
	h->vcpu.arch.shutdown_pending = false;

	/* Reporting off in MCG_CTL or in the bank: nothing happens. */
	assert_int_equal(set(h, MCG_STATUS, 0), 1);
	assert_int_equal(set(h, MC_STATUS(0), 0), 1);
	assert_int_equal(set(h, MCG_CTL, 0), 1);
	assert_int_equal(set_mce(h, 0, VAL | UC, 0), 0);
	assert_int_equal(get(h, MC_STATUS(0)), 0);
	assert_int_equal(set(h, MCG_CTL, ~0ULL), 1);
	assert_int_equal(set(h, MC_CTL(0), 0), 1);
	assert_int_equal(set_mce(h, 0, VAL | UC, 0), 0);
	assert_int_equal(get(h, MC_STATUS(0)), 0);
	assert_false(cpu->ev.exc_pending);
	assert_false(h->vcpu.arch.shutdown_pending);
}

static void test_shutdown_exit(void **state)
{
	struct harness *h = *state;

	assert_int_equal(setup_mce(h, 1), 0);
	assert_int_equal(set_mce(h, 0, VAL | UC, 0), 0);
	assert_int_equal(h_run(h), 0);
	assert_int_equal(h->run->exit_reason, KVM_EXIT_SHUTDOWN);
	assert_false(h->vcpu.arch.shutdown_pending);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, harness_setup, harness_teardown)
		T(test_setup),
		T(test_guest_access),
		T(test_inject),
		T(test_shutdown_exit),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
