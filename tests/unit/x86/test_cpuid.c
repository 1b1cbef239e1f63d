// SPDX-License-Identifier: MIT
/*
 * test_cpuid.c - KVM_GET_SUPPORTED_CPUID against the engine's list,
 * KVM_SET_CPUID(2)/KVM_GET_CPUID2, and the guest's CPUID instruction.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

struct cpuid_buf {
	struct kvm_cpuid2 c;
	struct kvm_cpuid_entry2 e[KVM_MAX_CPUID_ENTRIES + 8];
};

static struct cpuid_buf *supported(void)
{
	struct cpuid_buf *b = calloc(1, sizeof(*b));

	b->c.nent = KVM_MAX_CPUID_ENTRIES;
	assert_int_equal(h_sys(KVM_GET_SUPPORTED_CPUID, b), 0);
	return b;
}

static const struct kvm_cpuid_entry2 *find(const struct cpuid_buf *b,
					   uint32_t fn, uint32_t idx)
{
	uint32_t i;

	for (i = 0; i < b->c.nent; i++)
		if (b->e[i].function == fn && b->e[i].index == idx)
			return &b->e[i];
	return NULL;
}

/* Nothing advertised that the engine does not implement. */
static void test_supported_subset_of_engine(void **state)
{
	struct cpuid_buf *b = supported();
	uint32_t i, r[4];

	assert_true(b->c.nent > 4);
	for (i = 0; i < b->c.nent; i++) {
		const struct kvm_cpuid_entry2 *e = &b->e[i];

		if (e->function >= 0x40000000 && e->function < 0x50000000)
			continue;
		if (!x86_cpu_implemented_cpuid(e->function, e->index, r))
			fail_msg("leaf %#x.%u advertised, not implemented",
				 e->function, e->index);
		if (e->function == 1) {	/* APIC, x2APIC: lapic.c's, not the engine's */
			r[2] |= 1u << 21;
			r[3] |= 1u << 9;
		}
		if ((e->eax & ~r[0]) || (e->ebx & ~r[1]) || (e->ecx & ~r[2]) ||
		    (e->edx & ~r[3]))
			fail_msg("leaf %#x.%u: bits beyond the engine's",
				 e->function, e->index);
		assert_int_equal(e->padding[0] | e->padding[1] | e->padding[2], 0);
	}
	free(b);
}

static void test_supported_shape(void **state)
{
	struct cpuid_buf *b = supported();
	const struct kvm_cpuid_entry2 *e;
	static const uint32_t indexed[] = { 4, 7, 0xb, 0xd };
	uint32_t i;

	/* Indexed leaves carry the flag, others not. */
	for (i = 0; i < b->c.nent; i++) {
		bool idx = false;
		size_t k;

		for (k = 0; k < sizeof(indexed) / sizeof(indexed[0]); k++)
			idx |= b->e[i].function == indexed[k];
		assert_int_equal(!!(b->e[i].flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX), idx);
	}
	/* Unimplemented leaves are left out. */
	assert_null(find(b, 2, 0));
	assert_null(find(b, 0xc, 0));
	/* Subleaves: leaf 4 and 0xb up to their terminating entry. */
	assert_non_null(find(b, 4, 2));
	assert_null(find(b, 4, 3));
	assert_non_null(find(b, 0xb, 2));
	assert_non_null(find(b, 0xd, 2));
	/* Per-vCPU bits are never "supported". */
	e = find(b, 1, 0);
	assert_non_null(e);
	assert_int_equal(e->ecx & (1u << 27), 0);	/* OSXSAVE */
	/* x2APIC is emulated by lapic.c whatever the engine: always there. */
	assert_int_not_equal(e->ecx & (1u << 21), 0);
	assert_int_not_equal(e->edx & (1u << 9), 0);	/* APIC, likewise */
	e = find(b, 7, 0);
	assert_int_equal(e->ecx & (1u << 4), 0);	/* OSPKE */
	/* The PV signature, with the PV features implemented. */
	e = find(b, 0x40000000, 0);
	assert_non_null(e);
	assert_int_equal(e->eax, 0x40000001);
	assert_memory_equal(&e->ebx, "KVMK", 4);
	assert_memory_equal(&e->ecx, "VMKV", 4);
	assert_memory_equal(&e->edx, "M\0\0\0", 4);
	e = find(b, 0x40000001, 0);
	assert_non_null(e);
	/* NOP_IO_DELAY, PV_SCHED_YIELD, ASYNC_PF, ASYNC_PF_INT, PV_EOI,
	 * PV_SEND_IPI, kvmclock: CLOCKSOURCE, CLOCKSOURCE2, STABLE_BIT;
	 * STEAL_TIME (5) if schedstat */
	assert_int_equal(e->eax & ~(1u << 5), 1u << 1 | 1u << 13 | 1u << 4 | 1u << 14 |
			 1u << 6 | 1u << 11 | 1u << 0 | 1u << 3 | 1u << 24);
	assert_int_equal(e->ebx | e->ecx | e->edx, 0);
	assert_non_null(find(b, 0x80000008, 0));
	free(b);
}

static void test_supported_sizes(void **state)
{
	struct cpuid_buf *full = supported(), *b = calloc(1, sizeof(*b));

	b->c.nent = 0;
	assert_int_equal(h_sys(KVM_GET_SUPPORTED_CPUID, b), -E2BIG);
	b->c.nent = full->c.nent - 1;
	assert_int_equal(h_sys(KVM_GET_SUPPORTED_CPUID, b), -E2BIG);
	assert_int_equal(b->c.nent, full->c.nent - 1);	/* left as given */
	b->c.nent = full->c.nent;
	assert_int_equal(h_sys(KVM_GET_SUPPORTED_CPUID, b), 0);
	assert_memory_equal(b->e, full->e, full->c.nent * sizeof(b->e[0]));
	/* More than the maximum is capped, not refused. */
	b->c.nent = KVM_MAX_CPUID_ENTRIES + 8;
	assert_int_equal(h_sys(KVM_GET_SUPPORTED_CPUID, b), 0);
	assert_int_equal(b->c.nent, full->c.nent);
	assert_int_equal(h_sys(KVM_GET_SUPPORTED_CPUID, BAD_PTR), -EFAULT);
	free(full);
	free(b);
}

static void test_set_get_cpuid2(void **state)
{
	struct harness *h = *state;
	struct cpuid_buf *s = supported(), *g = calloc(1, sizeof(*g));

	assert_int_equal(h_vcpu(h, KVM_SET_CPUID2, s), 0);
	/* Too small: -E2BIG with nent set to the table size. */
	g->c.nent = 1;
	assert_int_equal(h_vcpu(h, KVM_GET_CPUID2, g), -E2BIG);
	assert_int_equal(g->c.nent, s->c.nent);
	g->c.nent = KVM_MAX_CPUID_ENTRIES;
	assert_int_equal(h_vcpu(h, KVM_GET_CPUID2, g), 0);
	assert_int_equal(g->c.nent, s->c.nent);
	/* Dynamic bits aside, the table comes back as set. */
	assert_int_equal(find(g, 0x80000008, 0)->eax, find(s, 0x80000008, 0)->eax);
	assert_int_equal(find(g, 0, 0)->ebx, find(s, 0, 0)->ebx);

	/* Too many entries. */
	s->c.nent = KVM_MAX_CPUID_ENTRIES + 1;
	assert_int_equal(h_vcpu(h, KVM_SET_CPUID2, s), -E2BIG);
	/* Empty table is allowed. */
	s->c.nent = 0;
	assert_int_equal(h_vcpu(h, KVM_SET_CPUID2, s), 0);
	g->c.nent = 4;
	assert_int_equal(h_vcpu(h, KVM_GET_CPUID2, g), 0);
	assert_int_equal(g->c.nent, 0);
	free(s);
	free(g);
}

static void test_cpuid_frozen_after_run(void **state)
{
	struct harness *h = *state;
	struct cpuid_buf *s = supported();

	assert_int_equal(h_vcpu(h, KVM_SET_CPUID2, s), 0);
	/* immediate_exit does not enter the guest: CPUID still free. */
	h->run->immediate_exit = 1;
	assert_int_equal(h_run(h), -EINTR);
	h->run->immediate_exit = 0;
	assert_false(h->vcpu.arch.ran);
	assert_int_equal(h_run(h), 0);	/* the fake halts */
	/* After KVM_RUN: identical is fine, anything else -EINVAL. */
	assert_int_equal(h_vcpu(h, KVM_SET_CPUID2, s), 0);
	s->e[0].eax ^= 1;
	assert_int_equal(h_vcpu(h, KVM_SET_CPUID2, s), -EINVAL);
	s->e[0].eax ^= 1;
	s->c.nent--;
	assert_int_equal(h_vcpu(h, KVM_SET_CPUID2, s), -EINVAL);
	free(s);
}

static void test_cpuid_rejects_vaddr_bits(void **state)
{
	struct harness *h = *state;
	struct {
		struct kvm_cpuid2 c;
		struct kvm_cpuid_entry2 e[1];
	} b = { .c.nent = 1, .e[0].function = 0x80000008 };
	static const struct {
		uint32_t eax;
		long r;
	} rows[] = {
		{ 0x3028, 0 }, { 0x3928, 0 }, { 0x0028, 0 },
		{ 0x2028, -EINVAL }, { 0x4028, -EINVAL },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		b.e[0].eax = rows[i].eax;
		assert_int_equal(h_vcpu(h, KVM_SET_CPUID2, &b), rows[i].r);
	}
}

static void test_set_cpuid_v1(void **state)
{
	struct harness *h = *state;
	struct {
		struct kvm_cpuid c;
		struct kvm_cpuid_entry e[2];
	} b = { .c.nent = 2 };
	struct cpuid_buf *g = calloc(1, sizeof(*g));

	b.e[0].function = 0;
	b.e[0].eax = 1;
	b.e[1].function = 1;
	b.e[1].edx = 0x55;
	assert_int_equal(h_vcpu(h, KVM_SET_CPUID, &b), 0);
	g->c.nent = 8;
	assert_int_equal(h_vcpu(h, KVM_GET_CPUID2, g), 0);
	assert_int_equal(g->c.nent, 2);
	assert_int_equal(g->e[1].function, 1);
	assert_int_equal(g->e[1].edx & 0x55, 0x55);
	assert_int_equal(g->e[1].flags, 0);
	b.c.nent = KVM_MAX_CPUID_ENTRIES + 1;
	assert_int_equal(h_vcpu(h, KVM_SET_CPUID, &b), -E2BIG);
	free(g);
}

static void guest_cpuid(struct harness *h, uint32_t leaf, uint32_t sub, uint32_t out[4])
{
	struct x86_cpu *cpu = &h->vcpu.arch.cpu;

	cpu->ops->cpuid(cpu, leaf, sub, out);
}

/* The engine's CPUID instruction, with KVM's dynamic bits. */
static void test_guest_cpuid(void **state)
{
	struct harness *h = *state;
	struct cpuid_buf *s = supported();
	struct x86_cpu *cpu = &h->vcpu.arch.cpu;
	uint32_t out[4], basic[4];

	/* No table: zeros. */
	guest_cpuid(h, 0, 0, out);
	assert_int_equal(out[0] | out[1] | out[2] | out[3], 0);

	assert_int_equal(h_vcpu(h, KVM_SET_CPUID2, s), 0);
	guest_cpuid(h, 1, 0, out);
	assert_int_equal(out[2] & (1u << 27), 0);	/* CR4.OSXSAVE clear */
	assert_true(out[3] & (1u << 9));		/* APIC enabled */
	cpu->cr4 |= X86_CR4_OSXSAVE;
	cpu->apic_base &= ~X86_APIC_BASE_ENABLE;
	guest_cpuid(h, 1, 0, out);
	assert_true(out[2] & (1u << 27));
	assert_int_equal(out[3] & (1u << 9), 0);

	/* Subleaves: significant index. */
	guest_cpuid(h, 4, 1, out);
	assert_int_equal(out[0], 0x122);
	/* 0xb beyond its last subleaf: ECX echoes the subleaf. */
	guest_cpuid(h, 0xb, 7, out);
	assert_int_equal(out[2], 7);
	/* Intel: a leaf above the maximum answers as the highest basic leaf. */
	guest_cpuid(h, 0xd, 0, basic);
	guest_cpuid(h, 0x20, 0, out);
	assert_memory_equal(out, basic, sizeof(out));
	guest_cpuid(h, 0x80000009, 0, out);
	assert_memory_equal(out, basic, sizeof(out));
	/* A missing leaf below the maximum is zeros. */
	guest_cpuid(h, 2, 0, out);
	assert_int_equal(out[0] | out[1] | out[2] | out[3], 0);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_supported_subset_of_engine),
		T(test_supported_shape),
		T(test_supported_sizes),
		T(test_set_get_cpuid2),
		T(test_cpuid_frozen_after_run),
		T(test_cpuid_rejects_vaddr_bits),
		T(test_set_cpuid_v1),
		T(test_guest_cpuid),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
