// SPDX-License-Identifier: MIT
/*
 * test_msr.c - MSR index lists, KVM_GET/SET_MSRS, feature MSRs, the
 * guest's RDMSR/WRMSR path and the TSC.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "harness.h"

static int setup(void **state)
{
	*state = harness_new();
	return 0;
}

static int teardown(void **state)
{
	harness_free(*state);
	return 0;
}

struct msrs1 {
	struct kvm_msrs h;
	struct kvm_msr_entry e[1];
};

static long get1(struct harness *h, uint32_t index, uint64_t *val)
{
	struct msrs1 m = { .h.nmsrs = 1, .e[0].index = index };
	long r = h_vcpu(h, KVM_GET_MSRS, &m);

	*val = m.e[0].data;
	return r;
}

static long set1(struct harness *h, uint32_t index, uint64_t val)
{
	struct msrs1 m = { .h.nmsrs = 1, .e[0].index = index, .e[0].data = val };

	return h_vcpu(h, KVM_SET_MSRS, &m);
}

static struct kvm_msr_list *index_list(unsigned long req)
{
	struct kvm_msr_list probe = { .nmsrs = 0 }, *l;

	assert_int_equal(h_sys(req, &probe), -E2BIG);
	assert_true(probe.nmsrs > 0);
	l = calloc(1, sizeof(*l) + probe.nmsrs * sizeof(uint32_t));
	l->nmsrs = probe.nmsrs;
	assert_int_equal(h_sys(req, l), 0);
	assert_int_equal(l->nmsrs, probe.nmsrs);
	return l;
}

static void test_index_list_e2big(void **state)
{
	struct kvm_msr_list *l = index_list(KVM_GET_MSR_INDEX_LIST);
	struct kvm_msr_list small = { .nmsrs = l->nmsrs - 1 };

	/* Too small: -E2BIG, and nmsrs says how many there are. */
	assert_int_equal(h_sys(KVM_GET_MSR_INDEX_LIST, &small), -E2BIG);
	assert_int_equal(small.nmsrs, l->nmsrs);
	assert_int_equal(h_sys(KVM_GET_MSR_INDEX_LIST, BAD_PTR), -EFAULT);
	assert_int_equal(h_sys(KVM_GET_MSR_FEATURE_INDEX_LIST, BAD_PTR), -EFAULT);
	free(l);
}

/* Every listed MSR can be read, and the value read can be written back. */
static void test_every_listed_msr_gets_and_sets(void **state)
{
	struct harness *h = *state;
	struct kvm_msr_list *l = index_list(KVM_GET_MSR_INDEX_LIST);
	uint64_t v;
	uint32_t i, j;

	for (i = 0; i < l->nmsrs; i++) {
		for (j = 0; j < i; j++)
			if (l->indices[j] == l->indices[i])
				fail_msg("MSR %#x listed twice", l->indices[i]);
		if (get1(h, l->indices[i], &v) != 1)
			fail_msg("MSR %#x listed but not readable", l->indices[i]);
		if (set1(h, l->indices[i], v) != 1)
			fail_msg("MSR %#x listed but %#llx does not write back",
				 l->indices[i], (unsigned long long)v);
	}
	free(l);
}

/* The whole list in one KVM_GET_MSRS, written back in one KVM_SET_MSRS. */
static void test_bulk_save_restore(void **state)
{
	struct harness *h = *state;
	struct kvm_msr_list *l = index_list(KVM_GET_MSR_INDEX_LIST);
	struct kvm_msrs *m = calloc(1, sizeof(*m) + l->nmsrs * sizeof(struct kvm_msr_entry));
	uint32_t i;

	m->nmsrs = l->nmsrs;
	for (i = 0; i < l->nmsrs; i++)
		m->entries[i].index = l->indices[i];
	assert_int_equal(h_vcpu(h, KVM_GET_MSRS, m), l->nmsrs);
	assert_int_equal(h_vcpu(h, KVM_SET_MSRS, m), l->nmsrs);
	free(m);
	free(l);
}

static const struct msr_case {
	uint32_t index;
	uint64_t value;
	bool ok;		/* host-initiated write accepted */
	uint64_t readback;	/* when ok */
} msr_cases[] = {
	{ 0xc0000081, 0x0023001000000000ULL, true, 0x0023001000000000ULL },	/* STAR */
	{ 0xc0000082, 0xffffffff81000000ULL, true, 0xffffffff81000000ULL },	/* LSTAR */
	{ 0xc0000082, 0x0000800000000000ULL, false, 0 },	/* non-canonical */
	{ 0xc0000083, 0x1000, true, 0x1000 },			/* CSTAR */
	{ 0xc0000084, 0x47700, true, 0x47700 },			/* SFMASK */
	{ 0xc0000100, 0x7fff12345000ULL, true, 0x7fff12345000ULL },	/* FS_BASE */
	{ 0xc0000101, 0xffff800000000000ULL, true, 0xffff800000000000ULL },
	{ 0xc0000102, 0x8000000000000000ULL, false, 0 },	/* KERNEL_GS non-canonical */
	{ 0x174, 0x10, true, 0x10 },				/* SYSENTER_CS */
	{ 0x175, 0x0000900000000000ULL, true, 0xffff900000000000ULL },	/* canonicalised */
	{ 0x277, 0x0007040600070406ULL, true, 0x0007040600070406ULL },	/* PAT */
	{ 0x277, 0x0000000000000002ULL, false, 0 },		/* PAT type 2 */
	{ 0x277, 0x0800000000000000ULL, false, 0 },		/* PAT type 8 */
	{ 0xc0000080, 0xd01, true, 0x901 },			/* EFER: LMA kept clear */
	{ 0xc0000080, 1ULL << 15, false, 0 },			/* EFER reserved */
	{ 0x1b, 0xfee00d00, false, 0 },				/* x2APIC not in CPUID */
	{ 0x1b, 0xfec00800, true, 0xfec00800 },			/* APIC moved */
	{ 0x1b, 0xfee00000, true, 0xfee00000 },			/* APIC disabled */
	{ 0x2ff, 0xc06, true, 0xc06 },				/* MTRRdefType */
	{ 0x2ff, 0x1006, false, 0 },				/* reserved bit */
	{ 0x2ff, 0x802, false, 0 },				/* type 2 */
	{ 0x250, 0x0606060606060606ULL, true, 0x0606060606060606ULL },
	{ 0x26f, 0x0606060606060307ULL, false, 0 },		/* type 3 */
	{ 0x200, 0xc0000006, true, 0xc0000006 },		/* physBase0 */
	{ 0x200, 0x1000000006ULL, false, 0 },			/* bit 36: no CPUID, MAXPHYADDR 36 */
	{ 0x201, 0xfc0000800ULL, true, 0xfc0000800ULL },	/* physMask0 */
	{ 0x201, 0xfc0000801ULL, false, 0 },			/* reserved low bit */
	{ 0x20f, 0xf00000800ULL, true, 0xf00000800ULL },	/* physMask7 */
	{ 0x210, 0, false, 0 },					/* no 9th range */
	{ 0xfe, 0x508, true, 0x508 },				/* MTRRcap: same value */
	{ 0xfe, 0x50a, false, 0 },				/* MTRRcap is read-only */
	{ 0x17b, 0, true, 0 },					/* MCG_CTL 0 */
	{ 0x17b, ~0ULL, false, 0 },				/* no MCG_CTL_P */
	{ 0x17a, 5, true, 5 },					/* MCG_STATUS */
	{ 0x1a0, 0x1801, true, 0x1801 },			/* MISC_ENABLE */
	{ 0x8b, 0x2500000000ULL, true, 0x2500000000ULL },	/* UCODE_REV */
	{ 0x10a, 1, true, 1 },					/* ARCH_CAPABILITIES */
	{ 0x10a, 1ULL << 30, false, 0 },			/* unsupported bit */
	{ 0xc0000103, 0x1234, true, 0x1234 },			/* TSC_AUX */
	{ 0xc0000103, 1ULL << 32, false, 0 },
	{ 0x3b, 12345, true, 12345 },				/* TSC_ADJUST */
	{ 0x12345678, 0, false, 0 },				/* unknown */
};

static void test_msr_rules(void **state)
{
	struct harness *h = *state;
	uint64_t v;
	size_t i;

	for (i = 0; i < sizeof(msr_cases) / sizeof(msr_cases[0]); i++) {
		const struct msr_case *c = &msr_cases[i];
		long r = set1(h, c->index, c->value);

		if (r != (c->ok ? 1 : 0))
			fail_msg("MSR %#x <- %#llx: got %ld", c->index,
				 (unsigned long long)c->value, r);
		if (!c->ok)
			continue;
		assert_int_equal(get1(h, c->index, &v), 1);
		if (v != c->readback)
			fail_msg("MSR %#x: read %#llx, want %#llx", c->index,
				 (unsigned long long)v, (unsigned long long)c->readback);
	}
}

/* api.rst: processing stops at the first MSR that fails; nmsrs >= 256 is E2BIG. */
static void test_msrs_partial_and_limits(void **state)
{
	struct harness *h = *state;
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e[4];
	} m = { .h.nmsrs = 4 };
	struct kvm_msrs *big;

	m.e[0].index = 0xc0000081;
	m.e[1].index = 0x174;
	m.e[2].index = 0xdeadbeef;
	m.e[3].index = 0xc0000082;
	m.e[3].data = 0x77;
	assert_int_equal(h_vcpu(h, KVM_GET_MSRS, &m), 2);
	assert_int_equal(h_vcpu(h, KVM_SET_MSRS, &m), 2);
	assert_int_equal(h->vcpu.arch.cpu.lstar, 0);	/* not reached */

	m.h.nmsrs = 0;
	assert_int_equal(h_vcpu(h, KVM_GET_MSRS, &m), 0);
	big = calloc(1, sizeof(*big) + 256 * sizeof(struct kvm_msr_entry));
	big->nmsrs = 256;
	assert_int_equal(h_vcpu(h, KVM_GET_MSRS, big), -E2BIG);
	big->nmsrs = 255;
	big->entries[0].index = 0x10;
	assert_int_equal(h_vcpu(h, KVM_GET_MSRS, big), 1);
	free(big);
	/* Entries out of reach: EFAULT. */
	{
		char *p = mmap(NULL, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		struct kvm_msrs *edge = (void *)(p + PAGE_SIZE - sizeof(struct kvm_msrs));

		assert_true(p != MAP_FAILED);
		assert_int_equal(mprotect(p + PAGE_SIZE, PAGE_SIZE, PROT_NONE), 0);
		edge->nmsrs = 1;
		assert_int_equal(h_vcpu(h, KVM_GET_MSRS, edge), -EFAULT);
		munmap(p, 2 * PAGE_SIZE);
	}
}

static void test_feature_msrs(void **state)
{
	struct kvm_msr_list *l = index_list(KVM_GET_MSR_FEATURE_INDEX_LIST);
	struct msrs1 m = { .h.nmsrs = 1 };
	uint32_t i;

	for (i = 0; i < l->nmsrs; i++) {
		m.e[0].index = l->indices[i];
		assert_int_equal(h_sys(KVM_GET_MSRS, &m), 1);
	}
	m.e[0].index = 0x10a;
	assert_int_equal(h_sys(KVM_GET_MSRS, &m), 1);
	assert_true(m.e[0].data & 1);	/* RDCL_NO */
	m.e[0].index = 0x1b;	/* not a feature MSR */
	assert_int_equal(h_sys(KVM_GET_MSRS, &m), 0);
	free(l);
}

/* The engine's RDMSR/WRMSR: failures are #GP (-1). */
static void test_guest_msr_access(void **state)
{
	struct harness *h = *state;
	struct x86_cpu *cpu = &h->vcpu.arch.cpu;
	uint64_t v;

	assert_int_equal(cpu->ops->rdmsr(cpu, 0x12345678, &v), -1);
	assert_int_equal(cpu->ops->wrmsr(cpu, 0x12345678, 0), -1);
	/* Read-only from the guest's side, and CPUID-gated. */
	assert_int_equal(cpu->ops->wrmsr(cpu, 0x10a, 0), -1);
	assert_int_equal(cpu->ops->rdmsr(cpu, 0x10a, &v), -1);
	assert_int_equal(cpu->ops->wrmsr(cpu, 0x179, 0), -1);
	/* The guest's microcode-revision write is ignored. */
	assert_int_equal(cpu->ops->wrmsr(cpu, 0x8b, 0), 0);
	assert_int_equal(cpu->ops->rdmsr(cpu, 0x8b, &v), 0);
	assert_int_equal(v, 0x100000000ULL);
	/* TSC_AUX needs RDTSCP or RDPID in the guest's CPUID. */
	assert_int_equal(cpu->ops->wrmsr(cpu, 0xc0000103, 1), -1);
	assert_int_equal(cpu->ops->rdmsr(cpu, 0x17, &v), 0);	/* PLATFORM_ID */
	/* AMD's SYSCFG, TSEG and configuration MSRs read as zero, as KVM. */
	{
		static const uint32_t zero[] = { 0x199, 0xc0010010, 0xc001001f,
			0xc0010055, 0xc0010058, 0xc0010112, 0xc0010113,
			0xc0011022, 0xc001102a, 0xc001102c };

		for (size_t i = 0; i < sizeof(zero) / sizeof(zero[0]); i++) {
			v = 1;
			assert_int_equal(cpu->ops->rdmsr(cpu, zero[i], &v), 0);
			assert_int_equal(v, 0);
		}
	}
	assert_int_equal(cpu->ops->wrmsr(cpu, 0xc0010010, 0), -1);
	assert_int_equal(cpu->ops->wrmsr(cpu, 0x1d9, 1), -1);	/* DEBUGCTL */
	assert_int_equal(cpu->ops->wrmsr(cpu, 0x1d9, 0), 0);
	/* The guest cannot go from x2APIC back to xAPIC; the host can. */
	cpu->apic_base = 0xfee00d00;
	assert_int_equal(cpu->ops->wrmsr(cpu, 0x1b, 0xfee00900), -1);
}

/* KVM_X86_SET_MSR_FILTER's validation, one row per rule. */
static void test_msr_filter_rules(void **state)
{
	struct harness *h = *state;
	static uint8_t ones[KVM_MSR_FILTER_MAX_BITMAP_SIZE + 8];
	struct kvm_msr_filter f;
	const struct {
		const char *name;
		uint32_t flags, rflags, nmsrs;
		void *bitmap;
		long want;
	} rows[] = {
		{ "unknown filter flag", 2, 1, 1, ones, -EINVAL },
		{ "default deny, no range", KVM_MSR_FILTER_DEFAULT_DENY, 0, 0, ones, -EINVAL },
		{ "default allow, no range", 0, 0, 0, ones, 0 },
		{ "range without read or write", 0, 0, 1, ones, -EINVAL },
		{ "unknown range flag", 0, 4 | 1, 1, ones, -EINVAL },
		{ "bitmap above 0x600 bytes", 0, 1, 0x600 * 8 + 1, ones, -EINVAL },
		{ "bitmap of 0x600 bytes", 0, 1, 0x600 * 8, ones, 0 },
		{ "bad bitmap pointer", 0, 1, 1, BAD_PTR, -EFAULT },
		{ "default deny with a range", KVM_MSR_FILTER_DEFAULT_DENY, 3, 1, ones, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		memset(&f, 0, sizeof(f));
		f.flags = rows[i].flags;
		f.ranges[3].flags = rows[i].rflags;
		f.ranges[3].nmsrs = rows[i].nmsrs;
		f.ranges[3].bitmap = rows[i].bitmap;
		if (h_vm(h, KVM_X86_SET_MSR_FILTER, &f) != rows[i].want)
			fail_msg("%s: %ld", rows[i].name,
				 h_vm(h, KVM_X86_SET_MSR_FILTER, &f));
	}
	assert_int_equal(h_vm(h, KVM_X86_SET_MSR_FILTER, BAD_PTR), -EFAULT);
}

/*
 * Guest accesses against a filter: the first range covering the access
 * decides, then the default; x2APIC MSRs always pass; host accesses are
 * never filtered.  Denied or failed accesses exit to user space only for
 * the reasons KVM_CAP_X86_USER_SPACE_MSR enabled.
 */
static void test_msr_filter_guest(void **state)
{
	struct harness *h = *state;
	struct x86_cpu *cpu = &h->vcpu.arch.cpu;
	static uint8_t deny_0x10[1] = { 0xfe }, allow_all[8] = { 0xff };
	struct kvm_msr_filter f = { .flags = KVM_MSR_FILTER_DEFAULT_DENY };
	struct kvm_enable_cap cap = { .cap = KVM_CAP_X86_USER_SPACE_MSR };
	uint64_t v;

	f.ranges[0] = (struct kvm_msr_filter_range) {
		.flags = KVM_MSR_FILTER_READ, .base = 0x10, .nmsrs = 1,
		.bitmap = deny_0x10 };
	f.ranges[1] = (struct kvm_msr_filter_range) {
		.flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE,
		.base = 0x10, .nmsrs = 64, .bitmap = allow_all };
	assert_int_equal(h_vm(h, KVM_X86_SET_MSR_FILTER, &f), 0);
	assert_int_equal(cpu->ops->msr_check(cpu, 0x10, false), -1);
	assert_int_equal(cpu->ops->msr_check(cpu, 0x10, true), 0);
	assert_int_equal(cpu->ops->msr_check(cpu, 0x11, false), 0);
	assert_int_equal(cpu->ops->msr_check(cpu, 0xc0000080, false), -1);
	assert_int_equal(cpu->ops->msr_check(cpu, 0x808, true), 0);
	assert_int_equal(get1(h, 0x10, &v), 1);		/* host: not filtered */

	cap.args[0] = 8;
	assert_int_equal(kvm_arch_vm_enable_cap(&h->kvm, &cap), -EINVAL);
	cap.args[0] = KVM_MSR_EXIT_REASON_FILTER | KVM_MSR_EXIT_REASON_UNKNOWN;
	assert_int_equal(kvm_arch_vm_enable_cap(&h->kvm, &cap), 0);
	assert_int_equal(cpu->ops->msr_check(cpu, 0x10, false), X86_MSR_EXIT);
	assert_int_equal(h->vcpu.arch.msr_exit_reason, KVM_MSR_EXIT_REASON_FILTER);
	assert_int_equal(cpu->ops->rdmsr(cpu, 0x12345678, &v), X86_MSR_EXIT);
	assert_int_equal(h->vcpu.arch.msr_exit_reason, KVM_MSR_EXIT_REASON_UNKNOWN);
	/* A known MSR with a bad value is INVAL, not enabled: #GP. */
	assert_int_equal(cpu->ops->wrmsr(cpu, 0x1d9, 1), -1);
	cap.args[0] = KVM_MSR_EXIT_REASON_INVAL;
	assert_int_equal(kvm_arch_vm_enable_cap(&h->kvm, &cap), 0);
	assert_int_equal(cpu->ops->wrmsr(cpu, 0x1d9, 1), X86_MSR_EXIT);
	assert_int_equal(h->vcpu.arch.msr_exit_reason, KVM_MSR_EXIT_REASON_INVAL);

	/* No range: the filter is off again. */
	memset(&f, 0, sizeof(f));
	assert_int_equal(h_vm(h, KVM_X86_SET_MSR_FILTER, &f), 0);
	assert_int_equal(cpu->ops->msr_check(cpu, 0x10, false), 0);
}

/* IA32_POWER_CTL is kept as written, by the host and the guest. */
static void test_power_ctl(void **state)
{
	struct harness *h = *state;
	struct x86_cpu *cpu = &h->vcpu.arch.cpu;
	uint64_t v;

	assert_int_equal(cpu->ops->wrmsr(cpu, 0x1fc, 0x1234), 0);
	assert_int_equal(get1(h, 0x1fc, &v), 1);
	assert_int_equal(v, 0x1234);
}

/*
 * MSR_PLATFORM_INFO: written by the host only; the guest reads it unless
 * KVM_CAP_MSR_PLATFORM_INFO was disabled, then RDMSR is a #GP.
 */
static void test_platform_info(void **state)
{
	struct harness *h = *state;
	struct x86_cpu *cpu = &h->vcpu.arch.cpu;
	struct kvm_enable_cap cap = { .cap = KVM_CAP_MSR_PLATFORM_INFO };
	uint64_t v;

	assert_int_equal(set1(h, 0xce, 0xff00), 1);
	assert_int_equal(cpu->ops->rdmsr(cpu, 0xce, &v), 0);
	assert_int_equal(v, 0xff00);
	assert_int_equal(cpu->ops->wrmsr(cpu, 0xce, 0), -1);
	assert_int_equal(kvm_arch_vm_enable_cap(&h->kvm, &cap), 0);
	assert_int_equal(cpu->ops->rdmsr(cpu, 0xce, &v), -1);
	assert_int_equal(get1(h, 0xce, &v), 1);
	cap.args[0] = 1;
	assert_int_equal(kvm_arch_vm_enable_cap(&h->kvm, &cap), 0);
	assert_int_equal(cpu->ops->rdmsr(cpu, 0xce, &v), 0);
}

/*
 * IA32_SMBASE (0x9e) is the host's only: guest RDMSR/WRMSR are #GP.
 * MSR_SMI_COUNT (0x34) counts the SMIs taken; the guest may read it.
 */
static void test_smm_msrs(void **state)
{
	struct harness *h = *state;
	struct x86_cpu *cpu = &h->vcpu.arch.cpu;
	uint64_t v;

	assert_int_equal(get1(h, 0x9e, &v), 1);
	assert_int_equal(v, 0x30000);		/* power-on SMBASE */
	assert_int_equal(set1(h, 0x9e, 0x1000000), 1);
	assert_int_equal(cpu->smbase, 0x1000000);
	assert_int_equal(cpu->ops->rdmsr(cpu, 0x9e, &v), -1);
	assert_int_equal(cpu->ops->wrmsr(cpu, 0x9e, 0), -1);
	assert_int_equal(cpu->smbase, 0x1000000);

	cpu->smi_count = 3;
	assert_int_equal(cpu->ops->rdmsr(cpu, 0x34, &v), 0);
	assert_int_equal(v, 3);
	assert_int_equal(cpu->ops->wrmsr(cpu, 0x34, 0), -1);
	assert_int_equal(set1(h, 0x34, 7), 1);
	assert_int_equal(cpu->smi_count, 7);
}

static void test_tsc(void **state)
{
	struct harness *h = *state;
	struct x86_cpu *cpu = &h->vcpu.arch.cpu;
	uint64_t t0, t1, adj;
	long khz = h_vcpu(h, KVM_GET_TSC_KHZ, NULL);

	assert_true(khz > 100000);	/* > 100 MHz */
	/* Freshly created: close to zero (one offset for the VM). */
	assert_int_equal(get1(h, 0x10, &t0), 1);
	assert_true(t0 < (uint64_t)khz * 1000 * 60);
	/* Host write sets the counter, leaves TSC_ADJUST. */
	assert_int_equal(set1(h, 0x10, 1ULL << 40), 1);
	assert_int_equal(get1(h, 0x10, &t1), 1);
	assert_true(t1 >= 1ULL << 40 && t1 - (1ULL << 40) < (uint64_t)khz * 1000);
	assert_int_equal(get1(h, 0x3b, &adj), 1);
	assert_int_equal(adj, 0);
	/* Guest write moves TSC_ADJUST by the same amount (SDM 17.17.3). */
	assert_int_equal(cpu->ops->wrmsr(cpu, 0x10, (1ULL << 40) + 1000000000ULL), 0);
	assert_int_equal(get1(h, 0x3b, &adj), 1);
	assert_true((int64_t)adj > 900000000LL && (int64_t)adj <= 1000000000LL);
	/* Guest write of TSC_ADJUST moves the TSC. */
	t0 = cpu->ops->rdtsc(cpu);
	assert_int_equal(cpu->ops->wrmsr(cpu, 0x3b, adj + (1ULL << 41)), 0);
	t1 = cpu->ops->rdtsc(cpu);
	assert_true(t1 - t0 >= 1ULL << 41);

	/* KVM_SET_TSC_KHZ: 0 and the host rate are fine, others not (no scaling). */
	assert_int_equal(h_vcpu(h, KVM_SET_TSC_KHZ, (void *)0), 0);
	assert_int_equal(h_vcpu(h, KVM_SET_TSC_KHZ, (void *)(unsigned long)khz), 0);
	assert_int_equal(h_vcpu(h, KVM_SET_TSC_KHZ, (void *)(unsigned long)(khz / 2)), -EINVAL);
	assert_int_equal(h_vcpu(h, KVM_GET_TSC_KHZ, NULL), khz);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_index_list_e2big),
		T(test_every_listed_msr_gets_and_sets),
		T(test_bulk_save_restore),
		T(test_msr_rules),
		T(test_smm_msrs),
		T(test_msrs_partial_and_limits),
		T(test_feature_msrs),
		T(test_guest_msr_access),
		T(test_tsc),
		T(test_msr_filter_rules),
		T(test_msr_filter_guest),
		T(test_power_ctl),
		T(test_platform_info),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
