// SPDX-License-Identifier: MIT
/*
 * cpuid.c - CPUID: what skvm supports (KVM_GET_SUPPORTED_CPUID), what a
 * vCPU's guest sees (KVM_SET_CPUID2 / KVM_GET_CPUID2) and how the engine's
 * CPUID instruction is answered from that table.
 *
 * The supported list is derived from x86_cpu_implemented_cpuid(): nothing
 * is advertised that the engine does not execute.  The guest table is kept
 * as user space gave it, plus the bits KVM updates at run time (see
 * cpuid_update_runtime()).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/kvm_para.h>

#include "kvmclock.h"
#include "lapic.h"
#include "x86.h"

#define KVM_CPUID_SIGNATURE_LEAF 0x40000000u
#define KVM_CPUID_FEATURES_LEAF 0x40000001u

/* ------------------------------------------------------------------------ */

/*
 * Leaves whose ECX input selects a subleaf (KVM's list of indexed
 * functions): their entries carry KVM_CPUID_FLAG_SIGNIFCANT_INDEX.
 */
static bool cpuid_function_is_indexed(uint32_t fn)
{
	switch (fn) {
	case 4: case 7: case 0xb: case 0xd: case 0xf: case 0x10: case 0x12:
	case 0x14: case 0x17: case 0x18: case 0x1d: case 0x1e: case 0x1f:
	case 0x24: case 0x8000001d: case 0x80000020:
		return true;
	}
	return false;
}

struct cpuid_array {
	struct kvm_cpuid_entry2 *e;
	unsigned int nent, maxnent;
};

static int cpuid_add(struct cpuid_array *a, uint32_t fn, uint32_t idx,
		     const uint32_t r[4])
{
	struct kvm_cpuid_entry2 *e;

	if (a->nent >= a->maxnent)
		return -E2BIG;
	e = &a->e[a->nent++];
	memset(e, 0, sizeof(*e));
	e->function = fn;
	e->index = idx;
	e->flags = cpuid_function_is_indexed(fn) ? KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0;
	e->eax = r[CPUID_EAX];
	e->ebx = r[CPUID_EBX];
	e->ecx = r[CPUID_ECX];
	e->edx = r[CPUID_EDX];
	return 0;
}

/*
 * One supported leaf as the engine implements it, minus the bits that KVM
 * computes per vCPU and so never reports as supported (OSXSAVE, OSPKE),
 * plus the APIC and x2APIC, which the local APIC (lapic.c, not the
 * engine) provides: KVM reports them whatever the host has, as it
 * emulates the APIC itself.
 */
static bool supported_leaf(uint32_t fn, uint32_t idx, uint32_t r[4])
{
	memset(r, 0, 4 * sizeof(r[0]));
	if (!x86_cpu_implemented_cpuid(fn, idx, r))
		return false;
	if (fn == 1) {
		r[CPUID_ECX] &= ~(1u << X86_FEATURE_OSXSAVE.bit);
		r[CPUID_ECX] |= 1u << X86_FEATURE_X2APIC.bit;
		r[CPUID_EDX] |= 1u << X86_FEATURE_APIC.bit;
	}
	if (fn == 7 && idx == 0)
		r[CPUID_ECX] &= ~(1u << X86_FEATURE_OSPKE.bit);
	return true;
}

/* Subleaves of an indexed leaf, as many as the leaf says exist. */
static int cpuid_add_indexed(struct cpuid_array *a, uint32_t fn,
			     const uint32_t r0[4])
{
	uint32_t r[4];
	uint32_t i, max = 63;
	uint64_t xcr0 = 0;
	int ret;

	ret = cpuid_add(a, fn, 0, r0);
	if (ret)
		return ret;
	if (fn == 7)
		max = r0[CPUID_EAX] < 63 ? r0[CPUID_EAX] : 63;
	if (fn == 0xd)
		xcr0 = r0[CPUID_EAX] | ((uint64_t)r0[CPUID_EDX] << 32);
	/* Leaf 4 and 0x8000001d end with a null cache type, 0xb with level type 0. */
	if ((fn == 4 || fn == 0x8000001d) && !(r0[CPUID_EAX] & 0x1f))
		return 0;
	if ((fn == 0xb || fn == 0x1f) && !(r0[CPUID_ECX] & 0xff00))
		return 0;

	for (i = 1; i <= max; i++) {
		if (fn == 0xd && i >= 2 && !(xcr0 & (1ULL << i)))
			continue;
		if (!supported_leaf(fn, i, r)) {
			if (fn == 0xd || fn == 7)
				continue;
			break;
		}
		ret = cpuid_add(a, fn, i, r);
		if (ret)
			return ret;
		if ((fn == 4 || fn == 0x8000001d) && !(r[CPUID_EAX] & 0x1f))
			break;
		if ((fn == 0xb || fn == 0x1f) && !(r[CPUID_ECX] & 0xff00))
			break;
	}
	return 0;
}

/* All leaves from base to the maximum that base's EAX reports. */
static int cpuid_add_range(struct cpuid_array *a, uint32_t base)
{
	uint32_t r[4], fn, max;
	int ret;

	if (!supported_leaf(base, 0, r))
		return 0;
	max = r[CPUID_EAX];
	if (max < base || max - base > 0xff)
		max = base;
	for (fn = base; fn <= max; fn++) {
		if (!supported_leaf(fn, 0, r))
			continue;
		if (cpuid_function_is_indexed(fn))
			ret = cpuid_add_indexed(a, fn, r);
		else
			ret = cpuid_add(a, fn, 0, r);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * KVM's paravirtual leaves (Documentation/virt/kvm/x86/cpuid.rst): the
 * "KVMKVMKVM" signature, and the feature leaf with only what skvm
 * implements: kvmclock (both MSR pairs, and the stable bit of its pages),
 * PV_SCHED_YIELD (KVM_HC_SCHED_YIELD), ASYNC_PF and ASYNC_PF_INT
 * (pv_async_pf.c), PV_EOI (MSR_KVM_PV_EOI_EN) and PV_SEND_IPI
 * (KVM_HC_SEND_IPI), and steal time when the host keeps schedstat
 * (kvmclock.c).
 */
static int cpuid_add_kvm_leaves(struct cpuid_array *a)
{
	static const char sig[12] = "KVMKVMKVM\0\0\0";
	uint32_t r[4] = { KVM_CPUID_FEATURES_LEAF, 0, 0, 0 };
	int ret;

	memcpy(&r[CPUID_EBX], sig, 4);
	memcpy(&r[CPUID_ECX], sig + 4, 4);
	memcpy(&r[CPUID_EDX], sig + 8, 4);
	ret = cpuid_add(a, KVM_CPUID_SIGNATURE_LEAF, 0, r);
	if (ret)
		return ret;
	memset(r, 0, sizeof(r));
	/* NOP_IO_DELAY: a hint (port 0x80 delays buy nothing), as KVM */
	r[CPUID_EAX] = 1u << KVM_FEATURE_NOP_IO_DELAY |
		       1u << KVM_FEATURE_PV_SCHED_YIELD |
		       1u << KVM_FEATURE_ASYNC_PF | 1u << KVM_FEATURE_ASYNC_PF_INT |
		       1u << KVM_FEATURE_PV_EOI | 1u << KVM_FEATURE_PV_SEND_IPI |
		       1u << KVM_FEATURE_CLOCKSOURCE |
		       1u << KVM_FEATURE_CLOCKSOURCE2 |
		       1u << KVM_FEATURE_CLOCKSOURCE_STABLE_BIT;
	if (kvm_steal_time_supported())
		r[CPUID_EAX] |= 1u << KVM_FEATURE_STEAL_TIME;
	return cpuid_add(a, KVM_CPUID_FEATURES_LEAF, 0, r);
}

static int cpuid_fill_supported(struct cpuid_array *a)
{
	int ret;

	ret = cpuid_add_range(a, 0);
	if (!ret)
		ret = cpuid_add_range(a, 0x80000000u);
	if (!ret)
		ret = cpuid_add_kvm_leaves(a);
	return ret;
}

/*
 * KVM_GET_SUPPORTED_CPUID: nent < 1 is -E2BIG; nent is capped at
 * KVM_MAX_CPUID_ENTRIES; too small a buffer is -E2BIG with nent left as
 * the caller gave it (api.rst 4.46, as KVM does).
 */
long kvm_dev_ioctl_get_supported_cpuid(void *argp)
{
	struct kvm_cpuid2 hdr, *uarg = argp;
	struct cpuid_array a = { 0 };
	long r;

	r = -EFAULT;
	if (copy_from_user(&hdr, uarg, sizeof(hdr)))
		goto out;
	r = -E2BIG;
	if (hdr.nent < 1)
		goto out;
	a.maxnent = hdr.nent;
	if (a.maxnent > KVM_MAX_CPUID_ENTRIES)
		a.maxnent = KVM_MAX_CPUID_ENTRIES;
	r = -ENOMEM;
	a.e = calloc(a.maxnent, sizeof(*a.e));
	if (!a.e)
		goto out;
	r = cpuid_fill_supported(&a);
	if (r)
		goto out;
	r = -EFAULT;
	if (copy_to_user(uarg->entries, a.e, a.nent * sizeof(*a.e)))
		goto out;
	hdr.nent = a.nent;
	if (copy_to_user(uarg, &hdr, sizeof(hdr)))
		goto out;
	r = 0;
out:
	free(a.e);
	return r;
}

/* --- Queries on the supported set -------------------------------------- */

static bool bit_in(const uint32_t r[4], struct cpuid_bit f)
{
	return (r[f.reg] >> f.bit) & 1;
}

bool kvm_cpu_cap_has(struct cpuid_bit f)
{
	uint32_t r[4];

	return supported_leaf(f.leaf, f.subleaf, r) && bit_in(r, f);
}

uint64_t kvm_supported_xcr0(void)
{
	uint32_t r[4];

	if (!kvm_cpu_cap_has(X86_FEATURE_XSAVE) || !supported_leaf(0xd, 0, r))
		return XFEATURE_MASK_FP | XFEATURE_MASK_SSE;
	return r[CPUID_EAX] | ((uint64_t)r[CPUID_EDX] << 32) | XFEATURE_MASK_FP;
}

/* Legacy area + XSAVE header, then each enabled component at its offset. */
uint32_t xstate_required_size(uint64_t xcr0)
{
	uint32_t size = 512 + 64, r[4];
	int i;

	for (i = 2; i < 64; i++) {
		if (!(xcr0 & (1ULL << i)) || !supported_leaf(0xd, i, r))
			continue;
		if (r[CPUID_EAX] + r[CPUID_EBX] > size)
			size = r[CPUID_EAX] + r[CPUID_EBX];
	}
	return size;
}

/* --- The guest's table ------------------------------------------------- */

/*
 * KVM's lookup: the first entry of the function whose index matches, or
 * that does not mark its index significant.
 */
static struct kvm_cpuid_entry2 *cpuid_entry_find(struct kvm_cpuid_entry2 *e,
						 int nent, uint32_t fn,
						 uint32_t idx)
{
	int i;

	for (i = 0; i < nent; i++) {
		if (e[i].function != fn)
			continue;
		if (!(e[i].flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) || e[i].index == idx)
			return &e[i];
	}
	return NULL;
}

static struct kvm_cpuid_entry2 *kvm_find_cpuid_entry(struct kvm_vcpu *vcpu,
						     uint32_t fn, uint32_t idx)
{
	return cpuid_entry_find(vcpu->arch.cpuid_entries, vcpu->arch.cpuid_nent,
				fn, idx);
}

static uint32_t *entry_reg(struct kvm_cpuid_entry2 *e, int reg)
{
	switch (reg) {
	case CPUID_EAX:
		return &e->eax;
	case CPUID_EBX:
		return &e->ebx;
	case CPUID_ECX:
		return &e->ecx;
	default:
		return &e->edx;
	}
}

static void entry_change(struct kvm_cpuid_entry2 *e, struct cpuid_bit f, bool set)
{
	uint32_t *reg = entry_reg(e, f.reg);

	if (set)
		*reg |= 1u << f.bit;
	else
		*reg &= ~(1u << f.bit);
}

bool guest_cpuid_has(struct kvm_vcpu *vcpu, struct cpuid_bit f)
{
	struct kvm_cpuid_entry2 *e = kvm_find_cpuid_entry(vcpu, f.leaf, f.subleaf);

	return e && ((*entry_reg(e, f.reg) >> f.bit) & 1);
}

/*
 * Without KVM_CAP_ENFORCE_PV_FEATURE_CPUID every PV feature works, as with
 * KVM; with it, only those the guest's CPUID 0x40000001 EAX lists.
 */
bool guest_pv_has(struct kvm_vcpu *vcpu, unsigned int feature)
{
	struct kvm_cpuid_entry2 *e;

	if (!vcpu->arch.pv_cpuid_enforce)
		return true;
	e = kvm_find_cpuid_entry(vcpu, KVM_CPUID_FEATURES_LEAF, 0);
	return e && ((e->eax >> feature) & 1);
}

bool guest_has_mwait(struct kvm_vcpu *vcpu)
{
	if (vcpu->kvm->arch.disabled_quirks & KVM_X86_QUIRK_MISC_ENABLE_NO_MWAIT)
		return vcpu->arch.misc_enable & MISC_ENABLE_MWAIT;
	return guest_cpuid_has(vcpu, X86_FEATURE_MWAIT);
}

int cpuid_maxphyaddr(struct kvm_vcpu *vcpu)
{
	struct kvm_cpuid_entry2 *e = kvm_find_cpuid_entry(vcpu, 0x80000000u, 0);

	if (!e || e->eax < 0x80000008u)
		return 36;
	e = kvm_find_cpuid_entry(vcpu, 0x80000008u, 0);
	return e ? (int)(e->eax & 0xff) : 36;
}

/*
 * The bits KVM recomputes from vCPU state (cpuid.c, "runtime" update):
 * OSXSAVE mirrors CR4.OSXSAVE, APIC mirrors APIC_BASE.EN, OSPKE mirrors
 * CR4.PKE, and CPUID.0xd.0 EBX is the XSAVE size for the current XCR0.
 * With KVM_X86_QUIRK_MISC_ENABLE_NO_MWAIT disabled, MONITOR mirrors
 * IA32_MISC_ENABLE.ENABLE_MONITOR_FSM too.
 */
static void cpuid_update_runtime(struct kvm_vcpu *vcpu,
				 struct kvm_cpuid_entry2 *e, int nent)
{
	struct x86_cpu *cpu = vcpu_cpu(vcpu);
	struct kvm_cpuid_entry2 *best;

	best = cpuid_entry_find(e, nent, 1, 0);
	if (best) {
		if (kvm_cpu_cap_has(X86_FEATURE_XSAVE))
			entry_change(best, X86_FEATURE_OSXSAVE,
				     cpu->cr4 & X86_CR4_OSXSAVE);
		entry_change(best, X86_FEATURE_APIC,
			     cpu->apic_base & X86_APIC_BASE_ENABLE);
		if (vcpu->kvm->arch.disabled_quirks &
		    KVM_X86_QUIRK_MISC_ENABLE_NO_MWAIT)
			entry_change(best, X86_FEATURE_MWAIT,
				     vcpu->arch.misc_enable & MISC_ENABLE_MWAIT);
	}
	best = cpuid_entry_find(e, nent, 7, 0);
	if (best && best->function == 7 && kvm_cpu_cap_has(X86_FEATURE_OSPKE))
		entry_change(best, X86_FEATURE_OSPKE, cpu->cr4 & X86_CR4_PKE);
	best = cpuid_entry_find(e, nent, 0xd, 0);
	if (best)
		best->ebx = xstate_required_size(cpu->xcr0);
}

/*
 * Linux 6.x refuses to change CPUID once the vCPU has run: a second
 * KVM_SET_CPUID2 succeeds only when it is identical to the first.
 */
static int cpuid_check_equal(struct kvm_vcpu *vcpu, struct kvm_cpuid_entry2 *e,
			     int nent)
{
	struct kvm_cpuid_entry2 *o = vcpu->arch.cpuid_entries;
	int i;

	if (nent != vcpu->arch.cpuid_nent)
		return -EINVAL;
	for (i = 0; i < nent; i++) {
		if (e[i].function != o[i].function || e[i].index != o[i].index ||
		    e[i].flags != o[i].flags || e[i].eax != o[i].eax ||
		    e[i].ebx != o[i].ebx || e[i].ecx != o[i].ecx ||
		    e[i].edx != o[i].edx)
			return -EINVAL;
	}
	return 0;
}

/* KVM accepts only 48- or 57-bit (or unreported) linear addresses. */
static int cpuid_check(struct kvm_cpuid_entry2 *e, int nent)
{
	struct kvm_cpuid_entry2 *best = cpuid_entry_find(e, nent, 0x80000008u, 0);
	int vaddr_bits;

	if (best) {
		vaddr_bits = (best->eax >> 8) & 0xff;
		if (vaddr_bits != 48 && vaddr_bits != 57 && vaddr_bits != 0)
			return -EINVAL;
	}
	return 0;
}

/* Takes ownership of e on success. */
static int kvm_set_cpuid(struct kvm_vcpu *vcpu, struct kvm_cpuid_entry2 *e,
			 int nent)
{
	int r;

	cpuid_update_runtime(vcpu, e, nent);
	if (vcpu->arch.ran) {
		r = cpuid_check_equal(vcpu, e, nent);
		if (!r)
			free(e);
		return r;
	}
	r = cpuid_check(e, nent);
	if (r)
		return r;
	free(vcpu->arch.cpuid_entries);
	vcpu->arch.cpuid_entries = e;
	vcpu->arch.cpuid_nent = nent;
	if (vcpu->arch.apic)
		kvm_lapic_set_tsc_deadline_mode(vcpu->arch.apic,
			guest_cpuid_has(vcpu, X86_FEATURE_TSC_DEADLINE_TIMER));
	kvm_x86_state_changed(vcpu);
	return 0;
}

int kvm_vcpu_ioctl_set_cpuid2(struct kvm_vcpu *vcpu, void *argp)
{
	struct kvm_cpuid2 hdr, *uarg = argp;
	struct kvm_cpuid_entry2 *e = NULL;
	int r;

	r = -EFAULT;
	if (copy_from_user(&hdr, uarg, sizeof(hdr)))
		goto out;
	r = -E2BIG;
	if (hdr.nent > KVM_MAX_CPUID_ENTRIES)
		goto out;
	if (hdr.nent) {
		r = -ENOMEM;
		e = calloc(hdr.nent, sizeof(*e));
		if (!e)
			goto out;
		r = -EFAULT;
		if (copy_from_user(e, uarg->entries, hdr.nent * sizeof(*e)))
			goto out;
	}
	r = kvm_set_cpuid(vcpu, e, hdr.nent);
	if (!r)
		e = NULL;
out:
	free(e);
	return r;
}

/* The original KVM_SET_CPUID: entries without index and flags. */
int kvm_vcpu_ioctl_set_cpuid(struct kvm_vcpu *vcpu, void *argp)
{
	struct kvm_cpuid hdr, *uarg = argp;
	struct kvm_cpuid_entry *e1 = NULL;
	struct kvm_cpuid_entry2 *e = NULL;
	unsigned int i;
	int r;

	r = -EFAULT;
	if (copy_from_user(&hdr, uarg, sizeof(hdr)))
		goto out;
	r = -E2BIG;
	if (hdr.nent > KVM_MAX_CPUID_ENTRIES)
		goto out;
	if (hdr.nent) {
		r = -ENOMEM;
		e1 = calloc(hdr.nent, sizeof(*e1));
		e = calloc(hdr.nent, sizeof(*e));
		if (!e1 || !e)
			goto out;
		r = -EFAULT;
		if (copy_from_user(e1, uarg->entries, hdr.nent * sizeof(*e1)))
			goto out;
	}
	for (i = 0; i < hdr.nent; i++) {
		e[i].function = e1[i].function;
		e[i].eax = e1[i].eax;
		e[i].ebx = e1[i].ebx;
		e[i].ecx = e1[i].ecx;
		e[i].edx = e1[i].edx;
	}
	r = kvm_set_cpuid(vcpu, e, hdr.nent);
	if (!r)
		e = NULL;
out:
	free(e1);
	free(e);
	return r;
}

/*
 * KVM_GET_CPUID2: nent is set to the table size; a smaller buffer is
 * -E2BIG.  (Linux 6.1 left nent untouched on success; later kernels, and
 * the reference device, report the size either way.)
 */
int kvm_vcpu_ioctl_get_cpuid2(struct kvm_vcpu *vcpu, void *argp)
{
	struct kvm_cpuid2 hdr, *uarg = argp;
	uint32_t nent = vcpu->arch.cpuid_nent;
	int r;

	r = -EFAULT;
	if (copy_from_user(&hdr, uarg, sizeof(hdr)))
		goto out;
	cpuid_update_runtime(vcpu, vcpu->arch.cpuid_entries, nent);
	r = 0;
	if (hdr.nent < nent)
		r = -E2BIG;
	else if (copy_to_user(uarg->entries, vcpu->arch.cpuid_entries,
			      nent * sizeof(struct kvm_cpuid_entry2)))
		r = -EFAULT;
	hdr.nent = nent;
	if (copy_to_user(uarg, &hdr, sizeof(hdr)))
		r = -EFAULT;
out:
	return r;
}

void kvm_cpuid_free(struct kvm_vcpu *vcpu)
{
	free(vcpu->arch.cpuid_entries);
	vcpu->arch.cpuid_entries = NULL;
	vcpu->arch.cpuid_nent = 0;
}

/* --- The CPUID instruction --------------------------------------------- */

static bool guest_vendor_amd_like(struct kvm_cpuid_entry2 *basic)
{
	/* "AuthenticAMD" and "HygonGenuine": EBX "Auth"/"Hygo". */
	return basic->ebx == 0x68747541u || basic->ebx == 0x6f677948u;
}

/*
 * A function beyond its class's maximum: Intel CPUs answer with the
 * highest basic leaf (keeping the subleaf), AMD ones with zeros (SDM
 * Vol. 2A, CPUID, "If a value entered for CPUID.EAX is higher ...").
 */
static struct kvm_cpuid_entry2 *cpuid_out_of_range(struct kvm_vcpu *vcpu,
						   uint32_t fn, uint32_t idx)
{
	struct kvm_cpuid_entry2 *basic, *class;

	basic = kvm_find_cpuid_entry(vcpu, 0, 0);
	if (!basic || guest_vendor_amd_like(basic))
		return NULL;
	if (fn >= 0x40000000u && fn <= 0x4fffffffu)
		class = kvm_find_cpuid_entry(vcpu, fn & 0xffffff00u, 0);
	else if (fn >= 0xc0000000u)
		class = kvm_find_cpuid_entry(vcpu, 0xc0000000u, 0);
	else
		class = kvm_find_cpuid_entry(vcpu, fn & 0x80000000u, 0);
	if (class && fn <= class->eax)
		return NULL;
	return kvm_find_cpuid_entry(vcpu, basic->eax, idx);
}

void kvm_cpuid(struct kvm_vcpu *vcpu, uint32_t leaf, uint32_t subleaf,
	       uint32_t out[4])
{
	struct kvm_cpuid_entry2 *e, tmp;

	memset(out, 0, 4 * sizeof(out[0]));
	e = kvm_find_cpuid_entry(vcpu, leaf, subleaf);
	if (!e)
		e = cpuid_out_of_range(vcpu, leaf, subleaf);
	if (!e) {
		/* 0xb/0x1f: ECX[7:0] echoes the subleaf, EDX is the x2APIC id. */
		if (leaf == 0xb || leaf == 0x1f) {
			e = kvm_find_cpuid_entry(vcpu, leaf, 1);
			if (e) {
				out[CPUID_ECX] = subleaf & 0xff;
				out[CPUID_EDX] = e->edx;
			}
		}
		return;
	}
	tmp = *e;
	cpuid_update_runtime(vcpu, &tmp, 1);
	out[CPUID_EAX] = tmp.eax;
	out[CPUID_EBX] = tmp.ebx;
	out[CPUID_ECX] = tmp.ecx;
	out[CPUID_EDX] = tmp.edx;
}
