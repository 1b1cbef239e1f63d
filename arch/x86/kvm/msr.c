// SPDX-License-Identifier: MIT
/*
 * msr.c - model-specific registers: KVM_GET/SET_MSRS on a vCPU, the MSR
 * index lists and feature MSRs of the system fd, and the RDMSR/WRMSR
 * callbacks of the engine.
 *
 * Every MSR reported by KVM_GET_MSR_INDEX_LIST is readable and writable
 * here, and writing back the value read succeeds (tests/unit/x86 checks
 * it).  Some live in struct x86_cpu because the engine uses them (EFER,
 * the SYSCALL/SYSENTER MSRs, FS/GS bases, PAT, APIC_BASE ...); the others
 * in struct kvm_vcpu_arch.  Accesses come in two kinds, as in KVM: host
 * initiated (ioctls; may write read-only state such as the microcode
 * revision) and guest initiated (RDMSR/WRMSR; a failure is #GP).
 */
#include <errno.h>
#include <linux/kvm_para.h>
#include <stdlib.h>
#include <string.h>
#include "kvm_rcu.h"

#include <asm/kvm_para.h>

#include "kvmclock.h"
#include "platform.h"
#include "x86.h"

/* MSR numbers (Intel SDM Vol. 4, AMD APM Vol. 2 appendix A). */
#define MSR_IA32_TSC			0x00000010
#define MSR_IA32_PLATFORM_ID		0x00000017
#define MSR_IA32_APICBASE		0x0000001b
#define MSR_EBL_CR_POWERON		0x0000002a
#define MSR_IA32_PERF_CTL		0x00000199
#define MSR_K8_SYSCFG			0xc0010010
#define MSR_AMD64_NB_CFG		0xc001001f
#define MSR_K8_INT_PENDING_MSG		0xc0010055
#define MSR_FAM10H_MMIO_CONF_BASE	0xc0010058
#define MSR_K8_TSEG_ADDR		0xc0010112
#define MSR_K8_TSEG_MASK		0xc0010113
#define MSR_AMD64_DC_CFG		0xc0011022
#define MSR_AMD64_BU_CFG2		0xc001102a
#define MSR_F15H_EX_CFG			0xc001102c
#define MSR_SMI_COUNT			0x00000034
#define MSR_IA32_TSC_ADJUST		0x0000003b
#define MSR_IA32_UCODE_REV		0x0000008b
#define MSR_IA32_SMBASE			0x0000009e
#define MSR_PLATFORM_INFO		0x000000ce
#define MSR_MTRRcap			0x000000fe
#define MSR_IA32_ARCH_CAPABILITIES	0x0000010a
#define MSR_IA32_SYSENTER_CS		0x00000174
#define MSR_IA32_SYSENTER_ESP		0x00000175
#define MSR_IA32_SYSENTER_EIP		0x00000176
#define MSR_IA32_MCG_CAP		0x00000179
#define MSR_IA32_MCG_STATUS		0x0000017a
#define MSR_IA32_MCG_CTL		0x0000017b
#define MSR_IA32_MISC_ENABLE		0x000001a0
#define MSR_IA32_POWER_CTL		0x000001fc
#define MSR_IA32_DEBUGCTLMSR		0x000001d9
#define MSR_MTRRphysBase0		0x00000200
#define MSR_MTRRfix64K_00000		0x00000250
#define MSR_MTRRfix16K_80000		0x00000258
#define MSR_MTRRfix16K_A0000		0x00000259
#define MSR_MTRRfix4K_C0000		0x00000268
#define MSR_MTRRfix4K_F8000		0x0000026f
#define MSR_IA32_CR_PAT			0x00000277
#define MSR_MTRRdefType			0x000002ff
#define MSR_EFER			0xc0000080
#define MSR_STAR			0xc0000081
#define MSR_LSTAR			0xc0000082
#define MSR_CSTAR			0xc0000083
#define MSR_SYSCALL_MASK		0xc0000084
#define MSR_FS_BASE			0xc0000100
#define MSR_GS_BASE			0xc0000101
#define MSR_KERNEL_GS_BASE		0xc0000102
#define MSR_TSC_AUX			0xc0000103

/* IA32_ARCH_CAPABILITIES bits (Intel SDM Vol. 4, table 2-2). */
#define ARCH_CAP_RDCL_NO		(1ULL << 0)
#define ARCH_CAP_SSB_NO			(1ULL << 4)
#define ARCH_CAP_MDS_NO			(1ULL << 5)
#define ARCH_CAP_PSCHANGE_MC_NO		(1ULL << 6)
#define ARCH_CAP_TAA_NO			(1ULL << 8)
#define ARCH_CAP_SBDR_SSDP_NO		(1ULL << 13)
#define ARCH_CAP_FBSDP_NO		(1ULL << 14)
#define ARCH_CAP_PSDP_NO		(1ULL << 15)

/*
 * A software CPU executes nothing speculatively, so it is immune to the
 * side channels these bits describe; saying so spares guests mitigations
 * that would only cost time here.
 */
#define KVM_SUPPORTED_ARCH_CAP \
	(ARCH_CAP_RDCL_NO | ARCH_CAP_SSB_NO | ARCH_CAP_MDS_NO | \
	 ARCH_CAP_PSCHANGE_MC_NO | ARCH_CAP_TAA_NO | ARCH_CAP_SBDR_SSDP_NO | \
	 ARCH_CAP_FBSDP_NO | ARCH_CAP_PSDP_NO)

/* Microcode revision reported to guests: KVM's default (revision 1). */
#define KVM_UCODE_REV_DEFAULT		0x100000000ULL

/* IA32_MISC_ENABLE at reset: fast strings; no BTS, no PEBS. */
#define MISC_ENABLE_RESET		((1ULL << 0) | (1ULL << 11) | (1ULL << 12))

#define MCG_CTL_P			(1ULL << 8)
/* MTRRcap: VCNT variable ranges, FIX (bit 8) and WC (bit 10) supported. */
#define MTRR_CAP_VALUE			(0x500ULL | KVM_NR_VAR_MTRR)
/* PAT at reset (Intel SDM Vol. 3, 12.12.4): WB WT UC- UC, twice. */
#define PAT_RESET			0x0007040600070406ULL

/* ------------------------------------------------------------------------ */

/*
 * KVM_GET_MSR_INDEX_LIST.  TSC_AUX is appended at run time when the
 * engine implements RDTSCP or RDPID (as KVM drops it otherwise), and
 * MSR_KVM_STEAL_TIME when the host keeps schedstat (kvmclock.c).
 */
static const uint32_t msrs_to_save_base[] = {
	MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
	MSR_STAR, MSR_CSTAR, MSR_KERNEL_GS_BASE, MSR_SYSCALL_MASK, MSR_LSTAR,
	MSR_IA32_TSC, MSR_IA32_CR_PAT,
	MSR_EFER, MSR_FS_BASE, MSR_GS_BASE, MSR_IA32_APICBASE,
	MSR_IA32_TSC_ADJUST, MSR_IA32_MISC_ENABLE, MSR_IA32_POWER_CTL,
	MSR_PLATFORM_INFO,
	MSR_IA32_MCG_STATUS, MSR_IA32_MCG_CTL,
	MSR_IA32_ARCH_CAPABILITIES, MSR_IA32_UCODE_REV,
	MSR_KVM_ASYNC_PF_EN, MSR_KVM_ASYNC_PF_INT, MSR_KVM_ASYNC_PF_ACK,
	MSR_MTRRdefType,
	MSR_MTRRfix64K_00000, MSR_MTRRfix16K_80000, MSR_MTRRfix16K_A0000,
	MSR_MTRRfix4K_C0000, MSR_MTRRfix4K_C0000 + 1, MSR_MTRRfix4K_C0000 + 2,
	MSR_MTRRfix4K_C0000 + 3, MSR_MTRRfix4K_C0000 + 4,
	MSR_MTRRfix4K_C0000 + 5, MSR_MTRRfix4K_C0000 + 6, MSR_MTRRfix4K_F8000,
	MSR_MTRRphysBase0 + 0, MSR_MTRRphysBase0 + 1,
	MSR_MTRRphysBase0 + 2, MSR_MTRRphysBase0 + 3,
	MSR_MTRRphysBase0 + 4, MSR_MTRRphysBase0 + 5,
	MSR_MTRRphysBase0 + 6, MSR_MTRRphysBase0 + 7,
	MSR_MTRRphysBase0 + 8, MSR_MTRRphysBase0 + 9,
	MSR_MTRRphysBase0 + 10, MSR_MTRRphysBase0 + 11,
	MSR_MTRRphysBase0 + 12, MSR_MTRRphysBase0 + 13,
	MSR_MTRRphysBase0 + 14, MSR_MTRRphysBase0 + 15,
	MSR_IA32_SMBASE, MSR_SMI_COUNT,
	KVM_MSR_TSC_DEADLINE,
	MSR_KVM_PV_EOI_EN,
	MSR_KVM_SYSTEM_TIME, MSR_KVM_WALL_CLOCK,
	MSR_KVM_SYSTEM_TIME_NEW, MSR_KVM_WALL_CLOCK_NEW,
};
#define NR_BASE_MSRS (sizeof(msrs_to_save_base) / sizeof(msrs_to_save_base[0]))

/* MSRs describing host capabilities, readable on the system fd. */
static const uint32_t msr_based_features[] = {
	MSR_IA32_UCODE_REV, MSR_IA32_ARCH_CAPABILITIES,
};
#define NR_FEATURE_MSRS (sizeof(msr_based_features) / sizeof(msr_based_features[0]))

/* Limit of KVM_GET/SET_MSRS entries per call (KVM's MAX_IO_MSRS). */
#define MAX_IO_MSRS 256

static uint32_t msrs_to_save[NR_BASE_MSRS + 2];
static unsigned int num_msrs_to_save;
static pthread_once_t msr_list_once = PTHREAD_ONCE_INIT;

static void msr_list_init(void)
{
	memcpy(msrs_to_save, msrs_to_save_base, sizeof(msrs_to_save_base));
	num_msrs_to_save = NR_BASE_MSRS;
	if (kvm_cpu_cap_has(X86_FEATURE_RDTSCP) || kvm_cpu_cap_has(X86_FEATURE_RDPID))
		msrs_to_save[num_msrs_to_save++] = MSR_TSC_AUX;
	if (kvm_steal_time_supported())
		msrs_to_save[num_msrs_to_save++] = MSR_KVM_STEAL_TIME;
}

unsigned int kvm_msr_index_list(const uint32_t **list)
{
	pthread_once(&msr_list_once, msr_list_init);
	*list = msrs_to_save;
	return num_msrs_to_save;
}

/*
 * KVM_GET_MSR_INDEX_LIST / KVM_GET_MSR_FEATURE_INDEX_LIST: nmsrs is
 * written back first; a too-small nmsrs then fails with -E2BIG.
 */
long kvm_dev_ioctl_get_msr_index_list(void *argp, bool features)
{
	struct kvm_msr_list hdr, *uarg = argp;
	const uint32_t *list;
	uint32_t n;
	long r;

	if (features) {
		list = msr_based_features;
		n = NR_FEATURE_MSRS;
	} else {
		n = kvm_msr_index_list(&list);
	}
	r = -EFAULT;
	if (copy_from_user(&hdr, uarg, sizeof(hdr)))
		goto out;
	if (hdr.nmsrs < n) {
		hdr.nmsrs = n;
		r = copy_to_user(uarg, &hdr, sizeof(hdr)) ? -EFAULT : -E2BIG;
		goto out;
	}
	hdr.nmsrs = n;
	if (copy_to_user(uarg, &hdr, sizeof(hdr)))
		goto out;
	if (copy_to_user(uarg->indices, list, n * sizeof(uint32_t)))
		goto out;
	r = 0;
out:
	return r;
}

/* --- Validity rules ----------------------------------------------------- */

static uint64_t rsvd_gpa_bits(struct kvm_vcpu *vcpu)
{
	int maxphyaddr = cpuid_maxphyaddr(vcpu);

	return maxphyaddr >= 64 ? 0 : ~((1ULL << maxphyaddr) - 1);
}

static bool valid_memtype(uint8_t t)
{
	return t < 8 && ((1u << t) & 0x73);	/* UC WC WT WP WB */
}

static bool valid_pat_type(uint8_t t)
{
	return t < 8 && ((1u << t) & 0xf3);	/* UC WC WT WP WB UC- */
}

static bool pat_valid(uint64_t data)
{
	int i;

	for (i = 0; i < 8; i++)
		if (!valid_pat_type(data >> (8 * i)))
			return false;
	return true;
}

static int canonical_bits(struct kvm_vcpu *vcpu)
{
	return (vcpu_cpu(vcpu)->cr4 & (1ULL << 12)) ? 57 : 48;	/* CR4.LA57 */
}

static bool is_canonical(struct kvm_vcpu *vcpu, uint64_t la)
{
	int shift = 64 - canonical_bits(vcpu);

	return (uint64_t)((int64_t)(la << shift) >> shift) == la;
}

static uint64_t canonicalize(struct kvm_vcpu *vcpu, uint64_t la)
{
	int shift = 64 - canonical_bits(vcpu);

	return (uint64_t)((int64_t)(la << shift) >> shift);
}

/*
 * APIC_BASE (Intel SDM Vol. 3, 11.4.4 and 11.12.5): address bits above
 * MAXPHYADDR and bits 0-7, 9 are reserved; EXTD needs x2APIC in CPUID and
 * EN.  The guest may not go from x2APIC to xAPIC or from disabled to x2APIC.
 */
bool kvm_valid_apic_base(struct kvm_vcpu *vcpu, uint64_t data, bool host_initiated)
{
	uint64_t old = vcpu_cpu(vcpu)->apic_base;
	uint64_t rsvd = rsvd_gpa_bits(vcpu) | 0x2ff;
	uint64_t mode = data & (X86_APIC_BASE_ENABLE | X86_APIC_BASE_EXTD);
	uint64_t old_mode = old & (X86_APIC_BASE_ENABLE | X86_APIC_BASE_EXTD);
	const uint64_t x2 = X86_APIC_BASE_ENABLE | X86_APIC_BASE_EXTD;

	if (!guest_cpuid_has(vcpu, X86_FEATURE_X2APIC))
		rsvd |= X86_APIC_BASE_EXTD;
	if ((data & rsvd) || mode == X86_APIC_BASE_EXTD)
		return false;
	if (!host_initiated) {
		if (old_mode == x2 && mode == X86_APIC_BASE_ENABLE)
			return false;
		if (old_mode == 0 && mode == x2)
			return false;
	}
	return true;
}

/* EFER bits that may be set: those of features the engine implements. */
static uint64_t efer_allowed_bits(void)
{
	uint64_t ok = X86_EFER_SCE | X86_EFER_LME | X86_EFER_LMA;

	if (kvm_cpu_cap_has(X86_FEATURE_NX))
		ok |= X86_EFER_NX;
	if (kvm_cpu_cap_has(X86_FEATURE_SVM))
		ok |= X86_EFER_SVME;
	if (kvm_cpu_cap_has(X86_FEATURE_FXSR_OPT))
		ok |= X86_EFER_FFXSR;
	return ok;
}

/* Guest-CPUID rules for EFER (KVM checks them for guest writes only). */
static bool efer_guest_valid(struct kvm_vcpu *vcpu, uint64_t efer)
{
	if ((efer & X86_EFER_FFXSR) && !guest_cpuid_has(vcpu, X86_FEATURE_FXSR_OPT))
		return false;
	if ((efer & X86_EFER_SVME) && !guest_cpuid_has(vcpu, X86_FEATURE_SVM))
		return false;
	if ((efer & (X86_EFER_LME | X86_EFER_LMA)) && !guest_cpuid_has(vcpu, X86_FEATURE_LM))
		return false;
	if ((efer & X86_EFER_NX) && !guest_cpuid_has(vcpu, X86_FEATURE_NX))
		return false;
	return true;
}

bool kvm_valid_efer(struct kvm_vcpu *vcpu, uint64_t efer)
{
	return !(efer & ~efer_allowed_bits());
}

static int set_efer(struct kvm_vcpu *vcpu, uint64_t efer, bool host_initiated)
{
	struct x86_cpu *cpu = vcpu_cpu(vcpu);

	if (!kvm_valid_efer(vcpu, efer))
		return 1;
	if (!host_initiated) {
		if (!efer_guest_valid(vcpu, efer))
			return 1;
		if ((cpu->cr0 & X86_CR0_PG) &&
		    ((cpu->efer ^ efer) & X86_EFER_LME))
			return 1;
	}
	/* LMA follows CR0.PG and EFER.LME; a WRMSR cannot change it. */
	cpu->efer = (efer & ~X86_EFER_LMA) | (cpu->efer & X86_EFER_LMA);
	return 0;
}

/* --- MTRRs (Intel SDM Vol. 3, 12.11) ------------------------------------ */

static uint64_t *mtrr_fixed_slot(struct kvm_vcpu *vcpu, uint32_t msr)
{
	struct kvm_mtrr *m = &vcpu->arch.mtrr;

	if (msr == MSR_MTRRfix64K_00000)
		return &m->fixed[0];
	if (msr == MSR_MTRRfix16K_80000 || msr == MSR_MTRRfix16K_A0000)
		return &m->fixed[1 + msr - MSR_MTRRfix16K_80000];
	if (msr >= MSR_MTRRfix4K_C0000 && msr <= MSR_MTRRfix4K_F8000)
		return &m->fixed[3 + msr - MSR_MTRRfix4K_C0000];
	return NULL;
}

static bool is_mtrr_var(uint32_t msr)
{
	return msr >= MSR_MTRRphysBase0 &&
	       msr < MSR_MTRRphysBase0 + 2 * KVM_NR_VAR_MTRR;
}

static uint64_t *mtrr_var_slot(struct kvm_vcpu *vcpu, uint32_t msr)
{
	int n = (msr - MSR_MTRRphysBase0) / 2;

	if (msr & 1)
		return &vcpu->arch.mtrr.var[n].mask;
	return &vcpu->arch.mtrr.var[n].base;
}

static bool mtrr_valid(struct kvm_vcpu *vcpu, uint32_t msr, uint64_t data)
{
	int i;

	if (msr == MSR_MTRRdefType)
		return !(data & ~0xcffULL) && valid_memtype(data & 0xff);
	if (mtrr_fixed_slot(vcpu, msr)) {
		for (i = 0; i < 8; i++)
			if (!valid_memtype(data >> (8 * i)))
				return false;
		return true;
	}
	if (msr & 1)	/* PHYSMASK: bit 11 is V, bits 0-10 reserved */
		return !(data & (rsvd_gpa_bits(vcpu) | 0x7ff));
	return !(data & (rsvd_gpa_bits(vcpu) | 0xf00)) && valid_memtype(data & 0xff);
}

static int mtrr_get(struct kvm_vcpu *vcpu, uint32_t msr, uint64_t *data)
{
	uint64_t *slot;

	if (msr == MSR_MTRRcap) {
		*data = MTRR_CAP_VALUE;
		return 0;
	}
	if (msr == MSR_MTRRdefType) {
		*data = vcpu->arch.mtrr.def_type;
		return 0;
	}
	slot = is_mtrr_var(msr) ? mtrr_var_slot(vcpu, msr) : mtrr_fixed_slot(vcpu, msr);
	if (!slot)
		return 1;
	*data = *slot;
	return 0;
}

static int mtrr_set(struct kvm_vcpu *vcpu, uint32_t msr, uint64_t data,
		    bool host_initiated)
{
	uint64_t *slot;

	if (msr == MSR_MTRRcap)
		return !(host_initiated && data == MTRR_CAP_VALUE);
	if (!mtrr_valid(vcpu, msr, data))
		return 1;
	if (msr == MSR_MTRRdefType) {
		vcpu->arch.mtrr.def_type = data;
		return 0;
	}
	slot = is_mtrr_var(msr) ? mtrr_var_slot(vcpu, msr) : mtrr_fixed_slot(vcpu, msr);
	if (!slot)
		return 1;
	*slot = data;
	return 0;
}

static bool is_mtrr_msr(uint32_t msr)
{
	return msr == MSR_MTRRcap || msr == MSR_MTRRdefType || is_mtrr_var(msr) ||
	       msr == MSR_MTRRfix64K_00000 || msr == MSR_MTRRfix16K_80000 ||
	       msr == MSR_MTRRfix16K_A0000 ||
	       (msr >= MSR_MTRRfix4K_C0000 && msr <= MSR_MTRRfix4K_F8000);
}

/* --- Get / set ---------------------------------------------------------- */

int kvm_get_msr(struct kvm_vcpu *vcpu, uint32_t index, uint64_t *data,
		bool host_initiated)
{
	struct x86_cpu *cpu = vcpu_cpu(vcpu);
	struct kvm_vcpu_arch *a = &vcpu->arch;

	if (is_mtrr_msr(index))
		return mtrr_get(vcpu, index, data);

	switch (index) {
	case MSR_EFER:			*data = cpu->efer; break;
	case MSR_STAR:			*data = cpu->star; break;
	case MSR_LSTAR:			*data = cpu->lstar; break;
	case MSR_CSTAR:			*data = cpu->cstar; break;
	case MSR_SYSCALL_MASK:		*data = cpu->sfmask; break;
	case MSR_KERNEL_GS_BASE:	*data = cpu->kernel_gs_base; break;
	case MSR_FS_BASE:		*data = cpu->seg[X86_FS].base; break;
	case MSR_GS_BASE:		*data = cpu->seg[X86_GS].base; break;
	case MSR_IA32_SYSENTER_CS:	*data = cpu->sysenter_cs; break;
	case MSR_IA32_SYSENTER_ESP:	*data = cpu->sysenter_esp; break;
	case MSR_IA32_SYSENTER_EIP:	*data = cpu->sysenter_eip; break;
	case MSR_TSC_AUX:		*data = cpu->tsc_aux; break;
	case MSR_IA32_CR_PAT:		*data = cpu->pat; break;
	case MSR_IA32_APICBASE:		*data = cpu->apic_base; break;
	case MSR_SMI_COUNT:		*data = cpu->smi_count; break;
	case MSR_IA32_SMBASE:
		/* SMM's own state: only the host reads it, as KVM. */
		if (!host_initiated)
			return 1;
		*data = cpu->smbase;
		break;
	case MSR_IA32_TSC:		*data = kvm_read_guest_tsc(vcpu); break;
	case MSR_IA32_TSC_ADJUST:	*data = a->tsc_adjust; break;
	case MSR_IA32_MISC_ENABLE:	*data = a->misc_enable; break;
	case MSR_IA32_POWER_CTL:	*data = a->power_ctl; break;
	case MSR_PLATFORM_INFO:
		if (!host_initiated &&
		    !vcpu->kvm->arch.guest_can_read_msr_platform_info)
			return 1;
		*data = a->platform_info;
		break;
	case MSR_IA32_MCG_CAP:		*data = a->mcg_cap; break;
	case MSR_IA32_MCG_STATUS:	*data = a->mcg_status; break;
	case MSR_IA32_MCG_CTL:
		if (!(a->mcg_cap & MCG_CTL_P) && !host_initiated)
			return 1;
		*data = a->mcg_ctl;
		break;
	case MSR_IA32_UCODE_REV:	*data = a->ucode_rev; break;
	case KVM_MSR_TSC_DEADLINE:
		/* The in-kernel LAPIC's; 0 without one, as KVM. */
		*data = 0;
		kvm_platform_rdmsr(vcpu, index, data);
		break;
	case MSR_KVM_PV_EOI_EN:
		if (!guest_pv_has(vcpu, KVM_FEATURE_PV_EOI))
			return 1;
		*data = a->pv_eoi_msr;
		break;
	case MSR_IA32_ARCH_CAPABILITIES:
		if (!host_initiated &&
		    !guest_cpuid_has(vcpu, X86_FEATURE_ARCH_CAPABILITIES))
			return 1;
		*data = a->arch_capabilities;
		break;
	case MSR_KVM_WALL_CLOCK: case MSR_KVM_SYSTEM_TIME:
	case MSR_KVM_WALL_CLOCK_NEW: case MSR_KVM_SYSTEM_TIME_NEW:
	case MSR_KVM_STEAL_TIME:
		return kvm_pvtime_get_msr(vcpu, index, data);
	/* Read as zero for guests, as KVM does; not saved state. */
	case MSR_IA32_PLATFORM_ID:
	case MSR_EBL_CR_POWERON:
	case MSR_IA32_DEBUGCTLMSR:
	/* AMD's, which Linux reads on an AMD vendor (SYSCFG at boot). */
	case MSR_IA32_PERF_CTL:
	case MSR_K8_SYSCFG: case MSR_AMD64_NB_CFG: case MSR_K8_INT_PENDING_MSG:
	case MSR_FAM10H_MMIO_CONF_BASE: case MSR_K8_TSEG_ADDR:
	case MSR_K8_TSEG_MASK: case MSR_AMD64_DC_CFG: case MSR_AMD64_BU_CFG2:
	case MSR_F15H_EX_CFG:
		*data = 0;
		break;
	default:
		if (kvm_mce_is_bank_msr(index))
			return kvm_mce_get_msr(vcpu, index, data);
		return kvm_apf_get_msr(vcpu, index, data);
	}
	return 0;
}

static int set_mcg(struct kvm_vcpu *vcpu, uint32_t index, uint64_t data,
		   bool host_initiated)
{
	struct kvm_vcpu_arch *a = &vcpu->arch;

	switch (index) {
	case MSR_IA32_MCG_CAP:
		/* Read-only: KVM_X86_SETUP_MCE chooses it. */
		return !(host_initiated && data == a->mcg_cap);
	case MSR_IA32_MCG_STATUS:
		a->mcg_status = data;
		return 0;
	case MSR_IA32_MCG_CTL:
		if (!(a->mcg_cap & MCG_CTL_P) && (data || !host_initiated))
			return 1;
		if (data != 0 && data != ~0ULL)
			return 1;
		a->mcg_ctl = data;
		return 0;
	}
	return 1;
}

static int set_tsc_aux(struct kvm_vcpu *vcpu, uint64_t data, bool host_initiated)
{
	if (!host_initiated && !guest_cpuid_has(vcpu, X86_FEATURE_RDTSCP) &&
	    !guest_cpuid_has(vcpu, X86_FEATURE_RDPID))
		return 1;
	if (data >> 32)
		return 1;
	vcpu_cpu(vcpu)->tsc_aux = data;
	return 0;
}

/* Set one of the MSRs held in struct x86_cpu; -1 when index is not one. */
static int set_cpu_msr(struct kvm_vcpu *vcpu, uint32_t index, uint64_t data,
		       bool host_initiated)
{
	struct x86_cpu *cpu = vcpu_cpu(vcpu);

	switch (index) {
	case MSR_FS_BASE: case MSR_GS_BASE: case MSR_KERNEL_GS_BASE:
	case MSR_LSTAR: case MSR_CSTAR:
		if (!is_canonical(vcpu, data))
			return 1;
		break;
	case MSR_IA32_SYSENTER_ESP: case MSR_IA32_SYSENTER_EIP:
		data = canonicalize(vcpu, data);
		break;
	}

	switch (index) {
	case MSR_EFER:			return set_efer(vcpu, data, host_initiated);
	case MSR_STAR:			cpu->star = data; break;
	case MSR_LSTAR:			cpu->lstar = data; break;
	case MSR_CSTAR:			cpu->cstar = data; break;
	case MSR_SYSCALL_MASK:		cpu->sfmask = data; break;
	case MSR_KERNEL_GS_BASE:	cpu->kernel_gs_base = data; break;
	case MSR_FS_BASE:		cpu->seg[X86_FS].base = data; break;
	case MSR_GS_BASE:		cpu->seg[X86_GS].base = data; break;
	case MSR_IA32_SYSENTER_CS:	cpu->sysenter_cs = data; break;
	case MSR_IA32_SYSENTER_ESP:	cpu->sysenter_esp = data; break;
	case MSR_IA32_SYSENTER_EIP:	cpu->sysenter_eip = data; break;
	case MSR_TSC_AUX:		return set_tsc_aux(vcpu, data, host_initiated);
	case MSR_IA32_CR_PAT:
		if (!pat_valid(data))
			return 1;
		cpu->pat = data;
		break;
	case MSR_IA32_APICBASE:
		if (!kvm_valid_apic_base(vcpu, data, host_initiated))
			return 1;
		cpu->apic_base = data;
		break;
	case MSR_IA32_SMBASE:
	case MSR_SMI_COUNT:
		if (!host_initiated)
			return 1;
		if (index == MSR_IA32_SMBASE)
			cpu->smbase = data;
		else
			cpu->smi_count = data;
		break;
	default:
		return -1;
	}
	return 0;
}

int kvm_set_msr(struct kvm_vcpu *vcpu, uint32_t index, uint64_t data,
		bool host_initiated)
{
	struct kvm_vcpu_arch *a = &vcpu->arch;
	int r;

	if (is_mtrr_msr(index))
		return mtrr_set(vcpu, index, data, host_initiated);
	r = set_cpu_msr(vcpu, index, data, host_initiated);
	if (r >= 0) {
		if (!r)
			kvm_x86_state_changed(vcpu);
		return r;
	}

	switch (index) {
	case MSR_IA32_TSC:
		kvm_write_guest_tsc(vcpu, data, host_initiated);
		break;
	case MSR_IA32_TSC_ADJUST:
		kvm_write_tsc_adjust(vcpu, data, host_initiated);
		break;
	case MSR_IA32_MISC_ENABLE:
		/*
		 * Without KVM_X86_QUIRK_MISC_ENABLE_NO_MWAIT, ENABLE_MONITOR_FSM
		 * drives CPUID.MONITOR, and may only change with SSE3.
		 */
		if ((vcpu->kvm->arch.disabled_quirks &
		     KVM_X86_QUIRK_MISC_ENABLE_NO_MWAIT) &&
		    ((a->misc_enable ^ data) & MISC_ENABLE_MWAIT) &&
		    !guest_cpuid_has(vcpu, X86_FEATURE_XMM3))
			return 1;
		a->misc_enable = data;
		break;
	case MSR_IA32_POWER_CTL:
		/* Kept as written, as KVM does: no power management here. */
		a->power_ctl = data;
		break;
	case MSR_PLATFORM_INFO:
		/* Read-only for the guest; the VMM writes what it reports. */
		if (!host_initiated)
			return 1;
		a->platform_info = data;
		break;
	case MSR_IA32_MCG_CAP: case MSR_IA32_MCG_STATUS: case MSR_IA32_MCG_CTL:
		return set_mcg(vcpu, index, data, host_initiated);
	case MSR_IA32_UCODE_REV:
		/* Guests write 0 before CPUID to read it back; ignore that. */
		if (host_initiated)
			a->ucode_rev = data;
		break;
	case MSR_IA32_ARCH_CAPABILITIES:
		if (!host_initiated || (data & ~KVM_SUPPORTED_ARCH_CAP))
			return 1;
		a->arch_capabilities = data;
		break;
	case MSR_IA32_DEBUGCTLMSR:
		/* No branch tracing: only 0 is accepted. */
		return data != 0;
	case KVM_MSR_TSC_DEADLINE:
		/* Arms the in-kernel LAPIC's timer in TSC-deadline mode, else ignored. */
		kvm_platform_wrmsr(vcpu, index, data);
		break;
	case MSR_KVM_PV_EOI_EN:
		if (!guest_pv_has(vcpu, KVM_FEATURE_PV_EOI))
			return 1;
		return kvm_pv_eoi_set_msr(vcpu, data);
	case MSR_KVM_WALL_CLOCK: case MSR_KVM_SYSTEM_TIME:
	case MSR_KVM_WALL_CLOCK_NEW: case MSR_KVM_SYSTEM_TIME_NEW:
	case MSR_KVM_STEAL_TIME:
		return kvm_pvtime_set_msr(vcpu, index, data, host_initiated);
	default:
		if (kvm_mce_is_bank_msr(index))
			return kvm_mce_set_msr(vcpu, index, data, host_initiated);
		return kvm_apf_set_msr(vcpu, index, data, host_initiated);
	}
	return 0;
}

void kvm_msr_reset(struct kvm_vcpu *vcpu)
{
	struct kvm_vcpu_arch *a = &vcpu->arch;

	memset(&a->mtrr, 0, sizeof(a->mtrr));
	a->tsc_adjust = 0;
	a->misc_enable = MISC_ENABLE_RESET;
	a->power_ctl = 0;
	a->mcg_status = 0;
	a->mcg_ctl = 0;
	kvm_mce_vcpu_reset(vcpu);
	a->ucode_rev = KVM_UCODE_REV_DEFAULT;
	a->arch_capabilities = KVM_SUPPORTED_ARCH_CAP;
}

/* --- KVM_X86_SET_MSR_FILTER (api.rst 4.97) ------------------------------- */

struct msr_filter_range {
	uint32_t flags;			/* KVM_MSR_FILTER_READ / _WRITE */
	uint32_t base, nmsrs;
	uint8_t *bitmap;		/* 1 = allowed */
};

struct kvm_x86_msr_filter {
	bool default_allow;
	int count;
	struct msr_filter_range ranges[KVM_MSR_FILTER_MAX_RANGES];
};

#define KVM_MSR_FILTER_RANGE_VALID_MASK \
	(KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE)
#define KVM_MSR_FILTER_VALID_MASK KVM_MSR_FILTER_DEFAULT_DENY

static void msr_filter_free(struct kvm_x86_msr_filter *f)
{
	int i;

	if (!f)
		return;
	for (i = 0; i < f->count; i++)
		free(f->ranges[i].bitmap);
	free(f);
}

/*
 * One range, as KVM takes it: an empty one is skipped; it must name READ
 * and/or WRITE and nothing else; the bitmap is read in whole 64-bit
 * words, at most KVM_MSR_FILTER_MAX_BITMAP_SIZE bytes.
 */
static int msr_filter_add(struct kvm_x86_msr_filter *f,
			  const struct kvm_msr_filter_range *u)
{
	size_t size;
	uint8_t *bitmap;

	if (!u->nmsrs)
		return 0;
	if ((u->flags & ~KVM_MSR_FILTER_RANGE_VALID_MASK) || !u->flags)
		return -EINVAL;
	size = ((size_t)u->nmsrs + 63) / 64 * 8;
	if (size > KVM_MSR_FILTER_MAX_BITMAP_SIZE)
		return -EINVAL;
	bitmap = malloc(size);
	if (!bitmap)
		return -ENOMEM;
	if (copy_from_user(bitmap, u->bitmap, size)) {
		free(bitmap);
		return -EFAULT;
	}
	f->ranges[f->count++] = (struct msr_filter_range) {
		.flags = u->flags, .base = u->base, .nmsrs = u->nmsrs,
		.bitmap = bitmap,
	};
	return 0;
}

/*
 * Replaces the VM's filter.  Readers (guest RDMSR/WRMSR) run under
 * rcu_read_lock, so the old filter is freed after a grace period: a vCPU
 * sees the old filter or the new one, never a mix (api.rst's guarantee).
 */
long kvm_vm_ioctl_set_msr_filter(struct kvm *kvm, void *argp)
{
	struct kvm_msr_filter u;
	struct kvm_x86_msr_filter *f, *old;
	bool empty = true;
	int i, r;

	if (copy_from_user(&u, argp, sizeof(u)))
		return -EFAULT;
	if (u.flags & ~KVM_MSR_FILTER_VALID_MASK)
		return -EINVAL;
	for (i = 0; i < KVM_MSR_FILTER_MAX_RANGES; i++)
		empty &= !u.ranges[i].nmsrs;
	if (empty && (u.flags & KVM_MSR_FILTER_DEFAULT_DENY))
		return -EINVAL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->default_allow = !(u.flags & KVM_MSR_FILTER_DEFAULT_DENY);
	for (i = 0; i < KVM_MSR_FILTER_MAX_RANGES; i++) {
		r = msr_filter_add(f, &u.ranges[i]);
		if (r) {
			msr_filter_free(f);
			return r;
		}
	}
	pthread_mutex_lock(&kvm->lock);
	old = rcu_xchg_pointer(&kvm->arch.msr_filter, f);
	pthread_mutex_unlock(&kvm->lock);
	kvm_synchronize_srcu(kvm);
	msr_filter_free(old);
	return 0;
}

/*
 * May the guest access this MSR?  The first range that covers the index
 * for this kind of access decides; otherwise the filter's default.  The
 * x2APIC MSRs are never filtered.  Called under rcu_read_lock (KVM_RUN).
 */
bool kvm_msr_allowed(struct kvm_vcpu *vcpu, uint32_t index, bool write)
{
	const struct kvm_x86_msr_filter *f;
	uint32_t type = write ? KVM_MSR_FILTER_WRITE : KVM_MSR_FILTER_READ;
	bool allowed;
	int i;

	if (index >= 0x800 && index <= 0x8ff)
		return true;
	rcu_read_lock();
	f = rcu_dereference(vcpu->kvm->arch.msr_filter);
	allowed = !f || f->default_allow;
	for (i = 0; f && i < f->count; i++) {
		const struct msr_filter_range *r = &f->ranges[i];
		uint32_t bit = index - r->base;

		if (!(r->flags & type) || index < r->base || bit >= r->nmsrs)
			continue;
		allowed = (r->bitmap[bit / 8] >> (bit % 8)) & 1;
		break;
	}
	rcu_read_unlock();
	return allowed;
}

void kvm_free_msr_filter(struct kvm *kvm)
{
	msr_filter_free(kvm->arch.msr_filter);
	kvm->arch.msr_filter = NULL;
}

/* --- KVM_GET_MSRS / KVM_SET_MSRS ---------------------------------------- */

typedef int (*msr_fn)(struct kvm_vcpu *vcpu, struct kvm_msr_entry *e);

static int do_get_msr(struct kvm_vcpu *vcpu, struct kvm_msr_entry *e)
{
	uint64_t v;

	if (kvm_get_msr(vcpu, e->index, &v, true))
		return 1;
	e->data = v;
	return 0;
}

static int do_set_msr(struct kvm_vcpu *vcpu, struct kvm_msr_entry *e)
{
	return kvm_set_msr(vcpu, e->index, e->data, true);
}

static int do_get_feature_msr(struct kvm_vcpu *vcpu, struct kvm_msr_entry *e)
{
	switch (e->index) {
	case MSR_IA32_ARCH_CAPABILITIES:
		e->data = KVM_SUPPORTED_ARCH_CAP;
		return 0;
	case MSR_IA32_UCODE_REV:
		e->data = KVM_UCODE_REV_DEFAULT;
		return 0;
	}
	return 1;
}

/*
 * The loop of api.rst 4.18/4.19: entries are processed in order, the
 * first one that fails stops the walk, and the count done is returned.
 * nmsrs >= MAX_IO_MSRS is -E2BIG before anything is read.
 */
static int msr_io(struct kvm_vcpu *vcpu, void *argp, msr_fn fn, bool writeback)
{
	struct kvm_msrs hdr, *uarg = argp;
	struct kvm_msr_entry *e = NULL;
	uint32_t i;
	size_t size;
	int r;

	r = -EFAULT;
	if (copy_from_user(&hdr, uarg, sizeof(hdr)))
		goto out;
	r = -E2BIG;
	if (hdr.nmsrs >= MAX_IO_MSRS)
		goto out;
	size = hdr.nmsrs * sizeof(*e);
	r = -ENOMEM;
	e = malloc(size ? size : 1);
	if (!e)
		goto out;
	r = -EFAULT;
	if (copy_from_user(e, uarg->entries, size))
		goto out;
	for (i = 0; i < hdr.nmsrs; i++)
		if (fn(vcpu, &e[i]))
			break;
	r = -EFAULT;
	if (writeback && copy_to_user(uarg->entries, e, size))
		goto out;
	r = i;
out:
	free(e);
	return r;
}

int kvm_vcpu_ioctl_msrs(struct kvm_vcpu *vcpu, void *argp, bool set)
{
	return set ? msr_io(vcpu, argp, do_set_msr, false) :
		     msr_io(vcpu, argp, do_get_msr, true);
}

long kvm_dev_ioctl_get_feature_msrs(void *argp)
{
	return msr_io(NULL, argp, do_get_feature_msr, true);
}
