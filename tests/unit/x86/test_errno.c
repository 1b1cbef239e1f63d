// SPDX-License-Identifier: MIT
/*
 * test_errno.c - one table of x86 ioctls with the result KVM gives, run on
 * skvm's arch layer and, where the machine has it, on /dev/kvm: the second
 * run proves the table is KVM's, the first that skvm matches it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

struct row {
	const char *what;
	enum target t;
	unsigned long req;
	/* Fill the argument (a zeroed 8 KiB buffer) from the vCPU's state. */
	void *(*arg)(struct backend *b, void *buf);
	long want;	/* >= 0 result or -errno */
};

static void *bad(struct backend *b, void *buf)
{
	return BAD_PTR;
}

static void *zero(struct backend *b, void *buf)
{
	return buf;
}

static void *val_high_tss(struct backend *b, void *buf)
{
	return (void *)0xfffff000UL;
}

static void *val_63(struct backend *b, void *buf)
{
	return (void *)63UL;
}

static void *val_64(struct backend *b, void *buf)
{
	return (void *)64UL;
}

static void *dbg_unknown_bit(struct backend *b, void *buf)
{
	struct kvm_guest_debug *d = buf;

	memset(d, 0, sizeof(*d));
	d->control = KVM_GUESTDBG_ENABLE | 0x8000;
	return d;
}

static void *dbg_inject_twice(struct backend *b, void *buf)
{
	struct kvm_guest_debug *d = buf;

	memset(d, 0, sizeof(*d));
	d->control = KVM_GUESTDBG_INJECT_DB;
	b->ioctl(b, VCPU, KVM_SET_GUEST_DEBUG, d);
	d->control = KVM_GUESTDBG_INJECT_BP;
	return d;
}

static void *sregs2_bad_flags(struct backend *b, void *buf)
{
	struct kvm_sregs2 *s = buf;

	b->ioctl(b, VCPU, KVM_GET_SREGS2, s);
	s->flags = 2;
	return s;
}

static void *sregs2_pdptrs_no_pae(struct backend *b, void *buf)
{
	struct kvm_sregs2 *s = buf;

	b->ioctl(b, VCPU, KVM_GET_SREGS2, s);
	s->flags = KVM_SREGS2_FLAGS_PDPTRS_VALID;
	return s;
}

static void *sregs_pg_no_pe(struct backend *b, void *buf)
{
	struct kvm_sregs *s = buf;

	b->ioctl(b, VCPU, KVM_GET_SREGS, s);
	s->cr0 = X86_CR0_PG;
	return s;
}

static void *sregs_lma_no_pg(struct backend *b, void *buf)
{
	struct kvm_sregs *s = buf;

	b->ioctl(b, VCPU, KVM_GET_SREGS, s);
	s->efer = X86_EFER_LMA | X86_EFER_LME;
	return s;
}

static void *sregs_csl(struct backend *b, void *buf)
{
	struct kvm_sregs *s = buf;

	b->ioctl(b, VCPU, KVM_GET_SREGS, s);
	s->cs.l = 1;
	return s;
}

static void *sregs_same(struct backend *b, void *buf)
{
	struct kvm_sregs *s = buf;

	b->ioctl(b, VCPU, KVM_GET_SREGS, s);
	return s;
}

static void *dbg_flags(struct backend *b, void *buf)
{
	struct kvm_debugregs *d = buf;

	b->ioctl(b, VCPU, KVM_GET_DEBUGREGS, d);
	d->flags = 1;
	return d;
}

static void *dbg_dr7_high(struct backend *b, void *buf)
{
	struct kvm_debugregs *d = buf;

	b->ioctl(b, VCPU, KVM_GET_DEBUGREGS, d);
	d->dr7 = 1ULL << 33;
	return d;
}

static void *events_flag(struct backend *b, void *buf)
{
	struct kvm_vcpu_events *e = buf;

	b->ioctl(b, VCPU, KVM_GET_VCPU_EVENTS, e);
	e->flags = 1u << 9;
	return e;
}

static void *events_nmi_exc(struct backend *b, void *buf)
{
	struct kvm_vcpu_events *e = buf;

	b->ioctl(b, VCPU, KVM_GET_VCPU_EVENTS, e);
	e->exception.injected = 1;
	e->exception.nr = 2;
	return e;
}

static void *mp_halted(struct backend *b, void *buf)
{
	((struct kvm_mp_state *)buf)->mp_state = KVM_MP_STATE_HALTED;
	return buf;
}

static void *mp_bogus(struct backend *b, void *buf)
{
	((struct kvm_mp_state *)buf)->mp_state = 77;
	return buf;
}

static void *irq_256(struct backend *b, void *buf)
{
	((struct kvm_interrupt *)buf)->irq = 256;
	return buf;
}

static void *msrs_256(struct backend *b, void *buf)
{
	((struct kvm_msrs *)buf)->nmsrs = 256;
	return buf;
}

static void *msrs_partial(struct backend *b, void *buf)
{
	struct kvm_msrs *m = buf;

	m->nmsrs = 3;
	m->entries[0].index = 0x174;	/* SYSENTER_CS */
	m->entries[1].index = 0xc0000081;	/* STAR */
	m->entries[2].index = 0xdeadbeef;
	return m;
}

static void *msr_list_small(struct backend *b, void *buf)
{
	((struct kvm_msr_list *)buf)->nmsrs = 1;
	return buf;
}

static void *cpuid_nent0(struct backend *b, void *buf)
{
	((struct kvm_cpuid2 *)buf)->nent = 0;
	return buf;
}

static void *cpuid_nent1(struct backend *b, void *buf)
{
	((struct kvm_cpuid2 *)buf)->nent = 1;
	return buf;
}

static void *cpuid_too_many(struct backend *b, void *buf)
{
	((struct kvm_cpuid2 *)buf)->nent = KVM_MAX_CPUID_ENTRIES + 1;
	return buf;
}

static void *xcrs_flags(struct backend *b, void *buf)
{
	struct kvm_xcrs *x = buf;

	b->ioctl(b, VCPU, KVM_GET_XCRS, x);
	x->flags = 1;
	return x;
}

static void *xcrs_no_x87(struct backend *b, void *buf)
{
	struct kvm_xcrs *x = buf;

	b->ioctl(b, VCPU, KVM_GET_XCRS, x);
	x->xcrs[0].value = 2;
	return x;
}

static const struct row rows[] = {
	/* system fd */
	{ "MSR list, bad pointer", SYS, KVM_GET_MSR_INDEX_LIST, bad, -EFAULT },
	{ "MSR list, too small", SYS, KVM_GET_MSR_INDEX_LIST, msr_list_small, -E2BIG },
	{ "feature MSR list, bad pointer", SYS, KVM_GET_MSR_FEATURE_INDEX_LIST, bad, -EFAULT },
	{ "supported CPUID, nent 0", SYS, KVM_GET_SUPPORTED_CPUID, cpuid_nent0, -E2BIG },
	{ "supported CPUID, nent 1", SYS, KVM_GET_SUPPORTED_CPUID, cpuid_nent1, -E2BIG },
	{ "supported CPUID, bad pointer", SYS, KVM_GET_SUPPORTED_CPUID, bad, -EFAULT },
	{ "feature MSRs, bad pointer", SYS, KVM_GET_MSRS, bad, -EFAULT },
	{ "unknown system ioctl", SYS, 0xaeff, zero, -EINVAL },
	/* VM fd */
	{ "TSS above 4G-12K", VM, KVM_SET_TSS_ADDR, val_high_tss, -EINVAL },
	{ "identity map after vCPU", VM, KVM_SET_IDENTITY_MAP_ADDR, zero, -EINVAL },
	{ "NR_MMU_PAGES below 64", VM, KVM_SET_NR_MMU_PAGES, val_63, -EINVAL },
	{ "NR_MMU_PAGES 64", VM, KVM_SET_NR_MMU_PAGES, val_64, 0 },
	{ "GET_NR_MMU_PAGES (removed)", VM, KVM_GET_NR_MMU_PAGES, zero, -ENOTTY },
	{ "unknown VM ioctl", VM, 0xaeff, zero, -ENOTTY },
	/* vCPU fd: bad pointers */
	{ "GET_REGS, bad pointer", VCPU, KVM_GET_REGS, bad, -EFAULT },
	{ "SET_REGS, bad pointer", VCPU, KVM_SET_REGS, bad, -EFAULT },
	{ "GET_SREGS, bad pointer", VCPU, KVM_GET_SREGS, bad, -EFAULT },
	{ "SET_SREGS2, bad pointer", VCPU, KVM_SET_SREGS2, bad, -EFAULT },
	{ "GET_FPU, bad pointer", VCPU, KVM_GET_FPU, bad, -EFAULT },
	{ "SET_VCPU_EVENTS, bad pointer", VCPU, KVM_SET_VCPU_EVENTS, bad, -EFAULT },
	{ "GET_MSRS, bad pointer", VCPU, KVM_GET_MSRS, bad, -EFAULT },
	{ "SET_CPUID2, bad pointer", VCPU, KVM_SET_CPUID2, bad, -EFAULT },
	{ "TRANSLATE, bad pointer", VCPU, KVM_TRANSLATE, bad, -EFAULT },
	/* vCPU fd: validation */
	{ "SREGS2 unknown flag", VCPU, KVM_SET_SREGS2, sregs2_bad_flags, -EINVAL },
	{ "SREGS2 PDPTRs without PAE", VCPU, KVM_SET_SREGS2, sregs2_pdptrs_no_pae, -EINVAL },
	{ "SREGS PG without PE", VCPU, KVM_SET_SREGS, sregs_pg_no_pe, -EINVAL },
	{ "SREGS LMA without paging", VCPU, KVM_SET_SREGS, sregs_lma_no_pg, -EINVAL },
	{ "SREGS CS.L outside long mode", VCPU, KVM_SET_SREGS, sregs_csl, -EINVAL },
	{ "SREGS unchanged", VCPU, KVM_SET_SREGS, sregs_same, 0 },
	{ "DEBUGREGS flags", VCPU, KVM_SET_DEBUGREGS, dbg_flags, -EINVAL },
	{ "DEBUGREGS DR7[63:32]", VCPU, KVM_SET_DEBUGREGS, dbg_dr7_high, -EINVAL },
	{ "VCPU_EVENTS unknown flag", VCPU, KVM_SET_VCPU_EVENTS, events_flag, -EINVAL },
	{ "VCPU_EVENTS NMI vector as exception", VCPU, KVM_SET_VCPU_EVENTS, events_nmi_exc, -EINVAL },
	{ "MP_STATE HALTED without irqchip", VCPU, KVM_SET_MP_STATE, mp_halted, -EINVAL },
	{ "MP_STATE bogus", VCPU, KVM_SET_MP_STATE, mp_bogus, -EINVAL },
	{ "INTERRUPT 256", VCPU, KVM_INTERRUPT, irq_256, -EINVAL },
	{ "GET_MSRS nmsrs 256", VCPU, KVM_GET_MSRS, msrs_256, -E2BIG },
	{ "GET_MSRS stops at unknown", VCPU, KVM_GET_MSRS, msrs_partial, 2 },
	{ "SET_MSRS stops at unknown", VCPU, KVM_SET_MSRS, msrs_partial, 2 },
	{ "SET_CPUID2 too many", VCPU, KVM_SET_CPUID2, cpuid_too_many, -E2BIG },
	{ "GET_CPUID2 empty table", VCPU, KVM_GET_CPUID2, cpuid_nent0, 0 },
	{ "XCRS flags", VCPU, KVM_SET_XCRS, xcrs_flags, -EINVAL },
	{ "XCR0 without x87", VCPU, KVM_SET_XCRS, xcrs_no_x87, -EINVAL },
	{ "GUEST_DEBUG, bad pointer", VCPU, KVM_SET_GUEST_DEBUG, bad, -EFAULT },
	{ "GUEST_DEBUG unknown control bit", VCPU, KVM_SET_GUEST_DEBUG, dbg_unknown_bit, 0 },
	{ "GUEST_DEBUG inject with one queued", VCPU, KVM_SET_GUEST_DEBUG, dbg_inject_twice, -EBUSY },
	{ "unknown vCPU ioctl", VCPU, 0xaeff, zero, -EINVAL },
};

static void run_table(struct backend *b)
{
	void *buf = malloc(8192);
	size_t i;
	int bad_rows = 0;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		long r;

		memset(buf, 0, 8192);
		r = b->ioctl(b, rows[i].t, rows[i].req, rows[i].arg(b, buf));
		if (r != rows[i].want) {
			print_error("%s: %s: got %ld, want %ld\n", b->name,
				    rows[i].what, r, rows[i].want);
			bad_rows++;
		}
	}
	free(buf);
	assert_int_equal(bad_rows, 0);
}

/* KVM_RUN rules that need no guest code. */
static void run_rules(struct backend *b)
{
	struct kvm_run *run = b->run;

	run->exit_reason = 0x77;
	run->immediate_exit = 1;
	assert_int_equal(b->ioctl(b, VCPU, KVM_RUN, NULL), -EINTR);
	assert_int_equal(run->exit_reason, 0x77);	/* untouched */
	run->kvm_valid_regs = 1 << 8;
	assert_int_equal(b->ioctl(b, VCPU, KVM_RUN, NULL), -EINVAL);
	run->kvm_valid_regs = KVM_SYNC_X86_VALID_FIELDS;
	assert_int_equal(b->ioctl(b, VCPU, KVM_RUN, NULL), -EINTR);
	assert_int_equal(run->s.regs.regs.rip, 0xfff0);
	assert_int_equal(run->s.regs.sregs.cs.selector, 0xf000);
	assert_int_equal(run->apic_base, 0xfee00900);
	run->kvm_valid_regs = 0;
	run->cr8 = 16;
	assert_int_equal(b->ioctl(b, VCPU, KVM_RUN, NULL), -EINVAL);
	run->cr8 = 0;
	run->immediate_exit = 0;
}

static void test_skvm(void **state)
{
	struct backend *b = backend_skvm();

	run_table(b);
	run_rules(b);
	backend_free(b);
}

static void test_reference_kvm(void **state)
{
	struct backend *b = backend_kvm();

	if (!b)
		skip();
	run_table(b);
	run_rules(b);
	backend_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_skvm),
		cmocka_unit_test(test_reference_kvm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
