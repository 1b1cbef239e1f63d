// SPDX-License-Identifier: MIT
/*
 * test_state.c - vCPU state ioctls: regs, sregs, sregs2, fpu, xsave,
 * xcrs, debug registers, events, mp_state, interrupts, translate.
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

/* --- regs ------------------------------------------------------------- */

static void test_regs_roundtrip(void **state)
{
	struct harness *h = *state;
	static const uint64_t rflags_in[] = { 0, 2, 0x202, 0x3f7fd7, ~0ULL & 0x3fffff };
	struct kvm_regs in, out;
	size_t i, k;

	for (i = 0; i < sizeof(rflags_in) / sizeof(rflags_in[0]); i++) {
		uint64_t *w = (uint64_t *)&in;

		for (k = 0; k < sizeof(in) / 8; k++)
			w[k] = 0x1111111111111111ULL * (k + 1) + i;
		in.rflags = rflags_in[i];
		assert_int_equal(h_vcpu(h, KVM_SET_REGS, &in), 0);
		assert_int_equal(h_vcpu(h, KVM_GET_REGS, &out), 0);
		in.rflags |= 2;	/* reserved bit 1 always reads as 1 */
		assert_memory_equal(&in, &out, sizeof(in));
	}
}

static void test_regs_reset_state(void **state)
{
	struct harness *h = *state;
	struct kvm_regs r;

	assert_int_equal(h_vcpu(h, KVM_GET_REGS, &r), 0);
	assert_int_equal(r.rip, 0xfff0);
	assert_int_equal(r.rflags, 2);
	assert_int_equal(r.rdx, 0x600);
}

static void test_set_regs_drops_pending_exception(void **state)
{
	struct harness *h = *state;
	struct kvm_regs r;

	h->vcpu.arch.cpu.ev.exc_pending = true;
	assert_int_equal(h_vcpu(h, KVM_GET_REGS, &r), 0);
	assert_int_equal(h_vcpu(h, KVM_SET_REGS, &r), 0);
	assert_false(h->vcpu.arch.cpu.ev.exc_pending);
}

/* --- sregs ------------------------------------------------------------ */

static void set_seg(struct kvm_segment *s, uint16_t sel, uint8_t type, bool code64)
{
	memset(s, 0, sizeof(*s));
	s->selector = sel;
	s->limit = 0xffffffff;
	s->type = type;
	s->s = 1;
	s->present = 1;
	s->g = 1;
	s->l = code64;
	s->db = !code64;
}

/* A 64-bit long-mode sregs image. */
static void long_mode_sregs(struct harness *h, struct kvm_sregs *s)
{
	assert_int_equal(h_vcpu(h, KVM_GET_SREGS, s), 0);
	set_seg(&s->cs, 8, 11, true);
	set_seg(&s->ds, 16, 3, false);
	s->es = s->ss = s->fs = s->gs = s->ds;
	s->fs.base = 0x7000;
	s->gs.unusable = 1;
	s->cr0 = X86_CR0_PE | X86_CR0_PG | (1 << 16);
	s->cr4 = X86_CR4_PAE;
	s->cr3 = 0x9000;
	s->efer = X86_EFER_LME | X86_EFER_LMA | X86_EFER_SCE;
	s->gdt.base = 0x500;
	s->gdt.limit = 0x27;
	s->idt.base = 0x1000;
	s->idt.limit = 0xfff;
	s->cr2 = 0xdead000;
	s->cr8 = 7;
}

static void test_sregs_roundtrip(void **state)
{
	struct harness *h = *state;
	struct kvm_sregs in, out;

	long_mode_sregs(h, &in);
	assert_int_equal(h_vcpu(h, KVM_SET_SREGS, &in), 0);
	assert_int_equal(h_vcpu(h, KVM_GET_SREGS, &out), 0);
	assert_memory_equal(&in, &out, sizeof(in));
	/* The engine's view matches. */
	assert_int_equal(h->vcpu.arch.cpu.seg[X86_FS].base, 0x7000);
	assert_true(h->vcpu.arch.cpu.seg[X86_GS].attr & X86_SEG_UNUSABLE);
	assert_true(h->vcpu.arch.cpu.seg[X86_CS].attr & X86_SEG_L);
}

static void test_sregs_reset_state(void **state)
{
	struct harness *h = *state;
	struct kvm_sregs s;

	assert_int_equal(h_vcpu(h, KVM_GET_SREGS, &s), 0);
	assert_int_equal(s.cs.selector, 0xf000);
	assert_int_equal(s.cs.base, 0xffff0000);
	assert_int_equal(s.cs.type, 11);
	assert_int_equal(s.cr0, 0x60000010);
	/* vCPU 0 is the BSP: APIC enabled at the default base. */
	assert_int_equal(s.apic_base, 0xfee00900);
}

enum { F_CR0, F_CR4, F_EFER, F_CSL, F_CR3, F_APIC };
static const struct sregs_case {
	const char *what;
	int field;
	uint64_t value;
} bad_sregs[] = {
	{ "PG without PE", F_CR0, X86_CR0_PG },
	{ "NW without CD", F_CR0, X86_CR0_PE | X86_CR0_NW },
	{ "CR0 bit 32", F_CR0, X86_CR0_PE | (1ULL << 32) },
	{ "long mode without PAE", F_CR4, 0 },
	{ "CR4 reserved bit 15", F_CR4, X86_CR4_PAE | (1 << 15) },
	{ "CR4.SMEP, not implemented", F_CR4, X86_CR4_PAE | (1 << 20) },
	{ "CR4 bit 32", F_CR4, X86_CR4_PAE | (1ULL << 32) },
	{ "LME+PG without LMA", F_EFER, X86_EFER_LME },
	{ "CR3 beyond MAXPHYADDR", F_CR3, 1ULL << 41 },
	{ "APIC base reserved bit 0", F_APIC, 0xfee00901 },
	{ "APIC EXTD without EN", F_APIC, 0xfee00400 },
	{ "APIC base above MAXPHYADDR", F_APIC, (1ULL << 45) | 0x900 },
};

static const struct sregs_case bad_sregs_legacy[] = {
	{ "LMA without paging", F_EFER, X86_EFER_LMA },
	{ "CS.L outside long mode", F_CSL, 1 },
};

static void apply_case(struct kvm_sregs *s, const struct sregs_case *c)
{
	switch (c->field) {
	case F_CR0: s->cr0 = c->value; break;
	case F_CR4: s->cr4 = c->value; break;
	case F_EFER: s->efer = c->value; break;
	case F_CSL: s->cs.l = c->value; break;
	case F_CR3: s->cr3 = c->value; break;
	case F_APIC: s->apic_base = c->value; break;
	}
}

static void test_sregs_invalid(void **state)
{
	struct harness *h = *state;
	struct kvm_sregs good, s, after;
	size_t i;

	long_mode_sregs(h, &good);
	for (i = 0; i < sizeof(bad_sregs) / sizeof(bad_sregs[0]); i++) {
		s = good;
		apply_case(&s, &bad_sregs[i]);
		if (h_vcpu(h, KVM_SET_SREGS, &s) != -EINVAL)
			fail_msg("accepted: %s", bad_sregs[i].what);
	}
	assert_int_equal(h_vcpu(h, KVM_GET_SREGS, &good), 0);
	for (i = 0; i < sizeof(bad_sregs_legacy) / sizeof(bad_sregs_legacy[0]); i++) {
		s = good;
		apply_case(&s, &bad_sregs_legacy[i]);
		if (h_vcpu(h, KVM_SET_SREGS, &s) != -EINVAL)
			fail_msg("accepted: %s", bad_sregs_legacy[i].what);
	}
	/* Nothing was applied. */
	assert_int_equal(h_vcpu(h, KVM_GET_SREGS, &after), 0);
	assert_memory_equal(&good, &after, sizeof(good));
}

static void test_sregs_cr4_follows_guest_cpuid(void **state)
{
	struct harness *h = *state;
	struct {
		struct kvm_cpuid2 c;
		struct kvm_cpuid_entry2 e[1];
	} cp = { .c.nent = 1 };
	struct kvm_sregs s;

	assert_int_equal(h_vcpu(h, KVM_GET_SREGS, &s), 0);
	s.cr4 = 1 << 16;	/* FSGSBASE: implemented by the engine */
	assert_int_equal(h_vcpu(h, KVM_SET_SREGS, &s), 0);
	/* A guest CPUID without FSGSBASE makes the bit reserved. */
	cp.e[0].function = 7;
	cp.e[0].flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
	assert_int_equal(h_vcpu(h, KVM_SET_CPUID2, &cp), 0);
	assert_int_equal(h_vcpu(h, KVM_SET_SREGS, &s), -EINVAL);
	cp.e[0].ebx = 1;
	assert_int_equal(h_vcpu(h, KVM_SET_CPUID2, &cp), 0);
	assert_int_equal(h_vcpu(h, KVM_SET_SREGS, &s), 0);
}

static void test_sregs_interrupt_bitmap(void **state)
{
	struct harness *h = *state;
	struct kvm_sregs s;
	struct kvm_vcpu_events ev;

	assert_int_equal(h_vcpu(h, KVM_GET_SREGS, &s), 0);
	assert_int_equal(s.interrupt_bitmap[0] | s.interrupt_bitmap[1] |
			 s.interrupt_bitmap[2] | s.interrupt_bitmap[3], 0);
	/* The lowest set bit is queued as the injected interrupt. */
	s.interrupt_bitmap[2] = (1ULL << 3) | (1ULL << 9);
	s.interrupt_bitmap[3] = 1;
	assert_int_equal(h_vcpu(h, KVM_SET_SREGS, &s), 0);
	assert_int_equal(h_vcpu(h, KVM_GET_VCPU_EVENTS, &ev), 0);
	assert_true(ev.interrupt.injected);
	assert_int_equal(ev.interrupt.nr, 128 + 3);
	assert_int_equal(h_vcpu(h, KVM_GET_SREGS, &s), 0);
	assert_int_equal(s.interrupt_bitmap[2], 1ULL << 3);
	assert_int_equal(s.interrupt_bitmap[3], 0);
}

/* --- sregs2 ----------------------------------------------------------- */

static void pae_sregs2(struct harness *h, struct kvm_sregs2 *s)
{
	assert_int_equal(h_vcpu(h, KVM_GET_SREGS2, s), 0);
	s->cr0 = X86_CR0_PE | X86_CR0_PG;
	s->cr4 = X86_CR4_PAE;
	s->cr3 = 0x3000;
	s->efer = 0;
}

static void test_sregs2_flags(void **state)
{
	struct harness *h = *state;
	struct kvm_sregs2 s;
	static const uint64_t bad_flags[] = { 2, 4, 1ULL << 63, 3 };
	size_t i;

	assert_int_equal(h_vcpu(h, KVM_GET_SREGS2, &s), 0);
	assert_int_equal(s.flags, 0);	/* no PAE paging at reset */
	for (i = 0; i < sizeof(bad_flags) / sizeof(bad_flags[0]); i++) {
		s.flags = bad_flags[i];
		assert_int_equal(h_vcpu(h, KVM_SET_SREGS2, &s), -EINVAL);
	}
	/* PDPTRS_VALID needs PAE paging in the new state. */
	s.flags = KVM_SREGS2_FLAGS_PDPTRS_VALID;
	assert_int_equal(h_vcpu(h, KVM_SET_SREGS2, &s), -EINVAL);
}

static void test_sregs2_pdptrs(void **state)
{
	struct harness *h = *state;
	struct kvm_sregs2 s, out;
	uint64_t table[4] = { 0x1001, 0x2001, 0x3001, 0x4001 };
	int i;

	/* With the flag: PDPTRs come from the caller. */
	pae_sregs2(h, &s);
	s.flags = KVM_SREGS2_FLAGS_PDPTRS_VALID;
	for (i = 0; i < 4; i++)
		s.pdptrs[i] = 0xa000 + i * 0x1000 + 1;
	assert_int_equal(h_vcpu(h, KVM_SET_SREGS2, &s), 0);
	assert_int_equal(h_vcpu(h, KVM_GET_SREGS2, &out), 0);
	assert_memory_equal(&s, &out, sizeof(s));

	/* Without it: loaded from the table at CR3. */
	memcpy(fake_guest_mem + 0x3000, table, sizeof(table));
	s.flags = 0;
	assert_int_equal(h_vcpu(h, KVM_SET_SREGS2, &s), 0);
	assert_int_equal(h_vcpu(h, KVM_GET_SREGS2, &out), 0);
	assert_int_equal(out.flags, KVM_SREGS2_FLAGS_PDPTRS_VALID);
	assert_memory_equal(out.pdptrs, table, sizeof(table));
	/* KVM_SET_SREGS loads them too. */
	table[0] = 0x5001;
	memcpy(fake_guest_mem + 0x3000, table, sizeof(table));
	{
		struct kvm_sregs s1;

		assert_int_equal(h_vcpu(h, KVM_GET_SREGS, &s1), 0);
		assert_int_equal(h_vcpu(h, KVM_SET_SREGS, &s1), 0);
	}
	assert_int_equal(h->vcpu.arch.cpu.pdptr[0], 0x5001);
}

/* --- fpu, xsave, xcrs ------------------------------------------------- */

static void test_fpu_roundtrip(void **state)
{
	struct harness *h = *state;
	struct kvm_fpu in, out;
	int i;

	assert_int_equal(h_vcpu(h, KVM_GET_FPU, &in), 0);
	assert_int_equal(in.fcw, 0x37f);
	assert_int_equal(in.mxcsr, 0x1f80);
	for (i = 0; i < 8; i++)
		memset(in.fpr[i], 0x10 + i, 10);
	for (i = 0; i < 16; i++)
		memset(in.xmm[i], 0x40 + i, 16);
	in.fcw = 0x27f;
	in.fsw = 0x3800;
	in.ftwx = 0x81;
	in.last_opcode = 0x7ff;
	in.last_ip = 0x123456789aULL;
	in.last_dp = 0xfedcba98ULL;
	in.mxcsr = 0x9fc0;
	assert_int_equal(h_vcpu(h, KVM_SET_FPU, &in), 0);
	assert_int_equal(h_vcpu(h, KVM_GET_FPU, &out), 0);
	assert_memory_equal(&in, &out, sizeof(in));
}

static void test_xsave(void **state)
{
	struct harness *h = *state;
	struct kvm_xsave *x = calloc(1, sizeof(*x)), *y = calloc(1, sizeof(*y));
	struct kvm_fpu f;
	uint64_t bv;

	assert_int_equal(h_vcpu(h, KVM_GET_XSAVE, x), 0);
	memcpy(&bv, (uint8_t *)x->region + 512, 8);
	assert_int_equal(bv, 3);
	/* Legacy area changes show through KVM_GET_FPU. */
	((uint8_t *)x->region)[160] = 0x5a;	/* XMM0 byte 0 */
	assert_int_equal(h_vcpu(h, KVM_SET_XSAVE, x), 0);
	assert_int_equal(h_vcpu(h, KVM_GET_FPU, &f), 0);
	assert_int_equal(f.xmm[0][0], 0x5a);
	assert_int_equal(h_vcpu(h, KVM_GET_XSAVE2, y), 0);
	assert_memory_equal(x, y, sizeof(*x));
	/* A component nobody implements, and MXCSR reserved bits. */
	bv = 1ULL << 9;
	memcpy((uint8_t *)x->region + 512, &bv, 8);
	assert_int_equal(h_vcpu(h, KVM_SET_XSAVE, x), -EINVAL);
	bv = 3;
	memcpy((uint8_t *)x->region + 512, &bv, 8);
	x->region[6] = 0x10000;	/* MXCSR */
	assert_int_equal(h_vcpu(h, KVM_SET_XSAVE, x), -EINVAL);
	/* SSE absent from XSTATE_BV: XMM registers in their initial state. */
	x->region[6] = 0x1f80;
	bv = 1;
	memcpy((uint8_t *)x->region + 512, &bv, 8);
	assert_int_equal(h_vcpu(h, KVM_SET_XSAVE, x), 0);
	assert_int_equal(h_vcpu(h, KVM_GET_FPU, &f), 0);
	assert_int_equal(f.xmm[0][0], 0);
	free(x);
	free(y);
}

static void test_xcrs(void **state)
{
	struct harness *h = *state;
	struct kvm_xcrs x;
	struct {
		struct kvm_cpuid2 c;
		struct kvm_cpuid_entry2 e[64];
	} cp = { .c.nent = 64 };
	static const struct {
		uint64_t xcr0;
		long expect;
	} rows[] = {
		{ 1, 0 }, { 3, 0 }, { 7, 0 },
		{ 0, -EINVAL },		/* x87 must stay enabled */
		{ 2, -EINVAL },
		{ 5, -EINVAL },		/* AVX without SSE */
		{ 0xf, -EINVAL },	/* not enumerated */
	};
	size_t i;

	assert_int_equal(h_vcpu(h, KVM_GET_XCRS, &x), 0);
	assert_int_equal(x.nr_xcrs, 1);
	assert_int_equal(x.xcrs[0].xcr, 0);
	assert_int_equal(x.xcrs[0].value, 1);
	/* Before KVM_SET_CPUID2 only x87 is valid, as with KVM. */
	x.xcrs[0].value = 3;
	assert_int_equal(h_vcpu(h, KVM_SET_XCRS, &x), -EINVAL);

	assert_int_equal(h_sys(KVM_GET_SUPPORTED_CPUID, &cp), 0);
	assert_int_equal(h_vcpu(h, KVM_SET_CPUID2, &cp), 0);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		x.xcrs[0].value = rows[i].xcr0;
		assert_int_equal(h_vcpu(h, KVM_SET_XCRS, &x), rows[i].expect);
	}
	x.xcrs[0].value = 7;
	assert_int_equal(h_vcpu(h, KVM_SET_XCRS, &x), 0);
	memset(&x, 0, sizeof(x));
	assert_int_equal(h_vcpu(h, KVM_GET_XCRS, &x), 0);
	assert_int_equal(x.xcrs[0].value, 7);
	/* CPUID.0xd.0 EBX follows XCR0. */
	memset(&cp, 0, sizeof(cp));
	cp.c.nent = 64;
	assert_int_equal(h_vcpu(h, KVM_GET_CPUID2, &cp), 0);
	for (i = 0; i < cp.c.nent; i++)
		if (cp.e[i].function == 0xd && cp.e[i].index == 0)
			assert_int_equal(cp.e[i].ebx, 832);
	x.flags = 1;
	assert_int_equal(h_vcpu(h, KVM_SET_XCRS, &x), -EINVAL);
	x.flags = 0;
	x.nr_xcrs = KVM_MAX_XCRS + 1;
	assert_int_equal(h_vcpu(h, KVM_SET_XCRS, &x), -EINVAL);
}

/* --- debug registers -------------------------------------------------- */

static void test_debugregs(void **state)
{
	struct harness *h = *state;
	struct kvm_debugregs in, out;

	assert_int_equal(h_vcpu(h, KVM_GET_DEBUGREGS, &in), 0);
	assert_int_equal(in.dr6, 0xffff0ff0);
	assert_int_equal(in.dr7, 0x400);
	in.db[0] = 0x1000;
	in.db[1] = 0xffffffff81000000ULL;
	in.db[2] = 3;
	in.db[3] = 4;
	in.dr6 = 0xffff4ff1;
	in.dr7 = 0x00f0040f;
	assert_int_equal(h_vcpu(h, KVM_SET_DEBUGREGS, &in), 0);
	assert_int_equal(h_vcpu(h, KVM_GET_DEBUGREGS, &out), 0);
	assert_memory_equal(&in, &out, sizeof(in));

	out.flags = 1;
	assert_int_equal(h_vcpu(h, KVM_SET_DEBUGREGS, &out), -EINVAL);
	out.flags = 0;
	out.dr6 = 1ULL << 32;
	assert_int_equal(h_vcpu(h, KVM_SET_DEBUGREGS, &out), -EINVAL);
	out.dr6 = 0xffff0ff0;
	out.dr7 = 1ULL << 40;
	assert_int_equal(h_vcpu(h, KVM_SET_DEBUGREGS, &out), -EINVAL);
}

/* --- events ----------------------------------------------------------- */

static void test_vcpu_events_roundtrip(void **state)
{
	struct harness *h = *state;
	struct kvm_vcpu_events in, out;

	assert_int_equal(h_vcpu(h, KVM_GET_VCPU_EVENTS, &in), 0);
	assert_int_equal(in.flags, KVM_VCPUEVENT_VALID_NMI_PENDING |
			 KVM_VCPUEVENT_VALID_SHADOW | KVM_VCPUEVENT_VALID_SMM);
	in.exception.injected = 1;
	in.exception.nr = 14;
	in.exception.has_error_code = 1;
	in.exception.error_code = 6;
	in.interrupt.injected = 1;
	in.interrupt.nr = 0x31;
	in.interrupt.shadow = KVM_X86_SHADOW_INT_STI;
	in.nmi.injected = 0;
	in.nmi.pending = 1;
	in.nmi.masked = 1;
	assert_int_equal(h_vcpu(h, KVM_SET_VCPU_EVENTS, &in), 0);
	assert_int_equal(h_vcpu(h, KVM_GET_VCPU_EVENTS, &out), 0);
	assert_memory_equal(&in, &out, sizeof(in));
	/* The engine's encoding of the shadow differs from KVM's. */
	assert_int_equal(h->vcpu.arch.cpu.ev.int_shadow, X86_SHADOW_STI);

	/* Without VALID_SHADOW / VALID_NMI_PENDING those fields are kept. */
	in.flags = 0;
	in.interrupt.shadow = KVM_X86_SHADOW_INT_MOV_SS;
	in.nmi.pending = 0;
	assert_int_equal(h_vcpu(h, KVM_SET_VCPU_EVENTS, &in), 0);
	assert_int_equal(h_vcpu(h, KVM_GET_VCPU_EVENTS, &out), 0);
	assert_int_equal(out.interrupt.shadow, KVM_X86_SHADOW_INT_STI);
	assert_int_equal(out.nmi.pending, 1);
}

static void test_vcpu_events_invalid(void **state)
{
	struct harness *h = *state;
	struct kvm_vcpu_events base, e;
	static const struct {
		const char *what;
		uint32_t flags;
		uint8_t exc_injected, exc_nr;
	} rows[] = {
		{ "unknown flag", 1u << 7, 0, 0 },
		{ "payload without the capability", KVM_VCPUEVENT_VALID_PAYLOAD, 0, 0 },
		{ "triple fault without the capability", KVM_VCPUEVENT_VALID_TRIPLE_FAULT, 0, 0 },
		{ "exception vector 32", 0, 1, 32 },
		{ "NMI as exception", 0, 1, 2 },
	};
	size_t i;

	assert_int_equal(h_vcpu(h, KVM_GET_VCPU_EVENTS, &base), 0);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		e = base;
		e.flags = rows[i].flags;
		e.exception.injected = rows[i].exc_injected;
		e.exception.nr = rows[i].exc_nr;
		if (h_vcpu(h, KVM_SET_VCPU_EVENTS, &e) != -EINVAL)
			fail_msg("accepted: %s", rows[i].what);
	}
	/* A pending exception with vector > 31 is ignored without payloads. */
	e = base;
	e.exception.pending = 1;
	e.exception.nr = 40;
	assert_int_equal(h_vcpu(h, KVM_SET_VCPU_EVENTS, &e), 0);
}

/* The smi fields: KVM_SMI makes one pending, SMM state round-trips. */
static void test_vcpu_events_smm(void **state)
{
	struct harness *h = *state;
	struct x86_events *ev = &h->vcpu.arch.cpu.ev;
	struct kvm_vcpu_events e;

	assert_int_equal(h_vcpu(h, KVM_GET_VCPU_EVENTS, &e), 0);
	assert_int_equal(e.smi.smm | e.smi.pending | e.smi.smm_inside_nmi, 0);
	assert_int_equal(h_vcpu(h, KVM_SMI, NULL), 0);
	assert_int_equal(h_vcpu(h, KVM_GET_VCPU_EVENTS, &e), 0);
	assert_int_equal(e.smi.pending, 1);
	assert_true(ev->smi_pending);

	e.flags = KVM_VCPUEVENT_VALID_SMM;
	e.smi.smm = 1;
	e.smi.pending = 0;
	e.smi.smm_inside_nmi = 1;
	assert_int_equal(h_vcpu(h, KVM_SET_VCPU_EVENTS, &e), 0);
	assert_true(ev->smm && ev->smm_inside_nmi && !ev->smi_pending);
	assert_int_equal(h_vcpu(h, KVM_GET_VCPU_EVENTS, &e), 0);
	assert_int_equal(e.smi.smm, 1);
	assert_int_equal(e.smi.smm_inside_nmi, 1);
	assert_int_equal(e.smi.pending, 0);
	assert_int_equal(e.smi.latched_init, 0);	/* no in-kernel LAPIC */

	/* without VALID_SMM the smi fields are ignored */
	e.flags = 0;
	e.smi.smm = 0;
	e.smi.pending = 1;
	assert_int_equal(h_vcpu(h, KVM_SET_VCPU_EVENTS, &e), 0);
	assert_true(ev->smm && !ev->smi_pending);

	/* leaving SMM drops smm_inside_nmi with it */
	e.flags = KVM_VCPUEVENT_VALID_SMM;
	e.smi.smm = 0;
	e.smi.pending = 1;
	e.smi.smm_inside_nmi = 1;
	assert_int_equal(h_vcpu(h, KVM_SET_VCPU_EVENTS, &e), 0);
	assert_true(!ev->smm && !ev->smm_inside_nmi && ev->smi_pending);
}

static void test_vcpu_events_soft_exception_hidden(void **state)
{
	struct harness *h = *state;
	struct kvm_vcpu_events e;

	h->vcpu.arch.cpu.ev.exc_injected = true;
	h->vcpu.arch.cpu.ev.exc_nr = 3;	/* #BP */
	assert_int_equal(h_vcpu(h, KVM_GET_VCPU_EVENTS, &e), 0);
	assert_int_equal(e.exception.injected, 0);
	h->vcpu.arch.cpu.ev.exc_injected = false;
	h->vcpu.arch.cpu.ev.exc_pending = true;
	h->vcpu.arch.cpu.ev.exc_nr = 13;
	assert_int_equal(h_vcpu(h, KVM_GET_VCPU_EVENTS, &e), 0);
	assert_int_equal(e.exception.injected, 1);	/* conflated */
	assert_int_equal(e.exception.pending, 1);
}

/* --- mp_state, interrupts, translate ---------------------------------- */

static void test_mp_state(void **state)
{
	struct harness *h = *state;
	struct kvm_mp_state mp;
	static const uint32_t rejected[] = {
		KVM_MP_STATE_UNINITIALIZED, KVM_MP_STATE_INIT_RECEIVED,
		KVM_MP_STATE_HALTED, KVM_MP_STATE_SIPI_RECEIVED,
		KVM_MP_STATE_AP_RESET_HOLD, 42,
	};
	size_t i;

	assert_int_equal(h_vcpu(h, KVM_GET_MP_STATE, &mp), 0);
	assert_int_equal(mp.mp_state, KVM_MP_STATE_RUNNABLE);
	assert_int_equal(h_vcpu(h, KVM_SET_MP_STATE, &mp), 0);
	/* No in-kernel APIC: only RUNNABLE, as KVM. */
	for (i = 0; i < sizeof(rejected) / sizeof(rejected[0]); i++) {
		mp.mp_state = rejected[i];
		assert_int_equal(h_vcpu(h, KVM_SET_MP_STATE, &mp), -EINVAL);
	}
}

static void test_interrupt_and_nmi(void **state)
{
	struct harness *h = *state;
	struct kvm_interrupt irq = { .irq = 256 };
	struct kvm_vcpu_events e;

	assert_int_equal(h_vcpu(h, KVM_INTERRUPT, &irq), -EINVAL);
	irq.irq = 0x20;
	assert_int_equal(h_vcpu(h, KVM_INTERRUPT, &irq), 0);
	irq.irq = 0x21;	/* replaces the queued one, as KVM does */
	assert_int_equal(h_vcpu(h, KVM_INTERRUPT, &irq), 0);
	assert_int_equal(h_vcpu(h, KVM_NMI, NULL), 0);
	assert_int_equal(h_vcpu(h, KVM_GET_VCPU_EVENTS, &e), 0);
	assert_true(e.interrupt.injected);
	assert_int_equal(e.interrupt.nr, 0x21);
	assert_true(e.nmi.pending);
}

static void test_translate(void **state)
{
	struct harness *h = *state;
	struct kvm_translation tr = { .linear_address = 0x1234 };

	assert_int_equal(h_vcpu(h, KVM_TRANSLATE, &tr), 0);
	assert_int_equal(tr.physical_address, 0x1234);
	assert_true(tr.valid);
	/* KVM always says writeable, supervisor. */
	assert_int_equal(tr.writeable, 1);
	assert_int_equal(tr.usermode, 0);
	tr.linear_address = 0x40000000;
	assert_int_equal(h_vcpu(h, KVM_TRANSLATE, &tr), 0);
	assert_false(tr.valid);
	assert_int_equal(tr.physical_address, ~0ULL);
}

static void test_bad_pointers(void **state)
{
	struct harness *h = *state;
	static const unsigned long reqs[] = {
		KVM_GET_REGS, KVM_SET_REGS, KVM_GET_SREGS, KVM_SET_SREGS,
		KVM_GET_SREGS2, KVM_SET_SREGS2, KVM_GET_FPU, KVM_SET_FPU,
		KVM_GET_XSAVE, KVM_SET_XSAVE, KVM_GET_XCRS, KVM_SET_XCRS,
		KVM_GET_DEBUGREGS, KVM_SET_DEBUGREGS, KVM_GET_VCPU_EVENTS,
		KVM_SET_VCPU_EVENTS, KVM_GET_MP_STATE, KVM_SET_MP_STATE,
		KVM_INTERRUPT, KVM_TRANSLATE, KVM_GET_MSRS, KVM_SET_MSRS,
		KVM_SET_CPUID, KVM_SET_CPUID2, KVM_GET_CPUID2,
	};
	size_t i;

	for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++)
		if (h_vcpu(h, reqs[i], BAD_PTR) != -EFAULT)
			fail_msg("ioctl %#lx: no EFAULT", reqs[i]);
	assert_int_equal(h_vcpu(h, 0xaeff, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_regs_roundtrip),
		T(test_regs_reset_state),
		T(test_set_regs_drops_pending_exception),
		T(test_sregs_roundtrip),
		T(test_sregs_reset_state),
		T(test_sregs_invalid),
		T(test_sregs_cr4_follows_guest_cpuid),
		T(test_sregs_interrupt_bitmap),
		T(test_sregs2_flags),
		T(test_sregs2_pdptrs),
		T(test_fpu_roundtrip),
		T(test_xsave),
		T(test_xcrs),
		T(test_debugregs),
		T(test_vcpu_events_roundtrip),
		T(test_vcpu_events_invalid),
		T(test_vcpu_events_smm),
		T(test_vcpu_events_soft_exception_hidden),
		T(test_mp_state),
		T(test_interrupt_and_nmi),
		T(test_translate),
		T(test_bad_pointers),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
