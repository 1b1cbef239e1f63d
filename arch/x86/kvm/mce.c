// SPDX-License-Identifier: MIT
/*
 * mce.c - machine-check architecture as KVM offers it (api.rst 4.104
 * KVM_X86_SETUP_MCE, 4.105 KVM_X86_SET_MCE, KVM_X86_GET_MCE_CAP_SUPPORTED):
 * IA32_MCG_CAP chosen by the VMM, error-reporting banks MCi_CTL/STATUS/
 * ADDR/MISC (MSRs 0x400 + 4 * i) as guest-visible MSRs, and errors the VMM
 * injects (a #MC for uncorrected ones, a logged bank for corrected ones).
 *
 * A new vCPU has KVM_MAX_MCE_BANKS banks and no MCG_CTL_P, as with KVM.
 * MCG_CTL/MCG_STATUS live in msr.c.
 */
#include <errno.h>
#include <string.h>

#include "x86.h"
#include "cpu/cpu.h"

#define MSR_IA32_MC0_CTL	0x00000400u
#define MCG_CTL_P		(1ULL << 8)
#define MCG_SER_P		(1ULL << 24)
#define MCG_STATUS_MCIP		(1ULL << 2)
#define MCI_STATUS_VAL		(1ULL << 63)
#define MCI_STATUS_OVER		(1ULL << 62)
#define MCI_STATUS_UC		(1ULL << 61)
#define MC_VECTOR		18
#define X86_CR4_MCE		(1ULL << 6)

/* What KVM_X86_SETUP_MCE accepts beyond the bank count and bits 23:16. */
#define KVM_MCE_CAP_SUPPORTED	(MCG_CTL_P | MCG_SER_P)

static unsigned int nr_banks(const struct kvm_vcpu *vcpu)
{
	return (unsigned int)(vcpu->arch.mcg_cap & 0xff);
}

void kvm_mce_vcpu_reset(struct kvm_vcpu *vcpu)
{
	vcpu->arch.mcg_cap = KVM_MAX_MCE_BANKS;
	memset(vcpu->arch.mce_banks, 0, sizeof(vcpu->arch.mce_banks));
}

bool kvm_mce_is_bank_msr(uint32_t index)
{
	return index >= MSR_IA32_MC0_CTL &&
	       index < MSR_IA32_MC0_CTL + 4 * KVM_MAX_MCE_BANKS;
}

/* 0, or 1 for a bank the vCPU does not have. */
int kvm_mce_get_msr(struct kvm_vcpu *vcpu, uint32_t index, uint64_t *data)
{
	uint32_t off = index - MSR_IA32_MC0_CTL;

	if (off >= 4 * nr_banks(vcpu))
		return 1;
	*data = vcpu->arch.mce_banks[off];
	return 0;
}

int kvm_mce_set_msr(struct kvm_vcpu *vcpu, uint32_t index, uint64_t data,
		    bool host_initiated)
{
	uint32_t off = index - MSR_IA32_MC0_CTL;

	if (off >= 4 * nr_banks(vcpu))
		return 1;
	/*
	 * MCi_CTL is all ones or zero; guests that clear bit 10 (AMD K8 GART
	 * erratum) or bit 0 (single-bit ECC) are let through, as KVM does.
	 */
	if ((off & 3) == 0 && data && (data | (1ULL << 10) | 1) != ~0ULL)
		return 1;
	/* Only the host may put an error into MCi_STATUS. */
	if ((off & 3) == 1 && data && !host_initiated)
		return 1;
	vcpu->arch.mce_banks[off] = data;
	return 0;
}

long kvm_mce_get_cap_supported(void *argp)
{
	uint64_t cap = KVM_MCE_CAP_SUPPORTED;

	return copy_to_user(argp, &cap, sizeof(cap)) ? -EFAULT : 0;
}

static long setup_mce(struct kvm_vcpu *vcpu, void *argp)
{
	uint64_t cap;
	unsigned int n;

	if (copy_from_user(&cap, argp, sizeof(cap)))
		return -EFAULT;
	n = (unsigned int)(cap & 0xff);
	if (!n || n > KVM_MAX_MCE_BANKS ||
	    (cap & ~(KVM_MCE_CAP_SUPPORTED | 0xffULL | 0xff0000ULL)))
		return -EINVAL;
	vcpu->arch.mcg_cap = cap;
	if (cap & MCG_CTL_P)
		vcpu->arch.mcg_ctl = ~0ULL;
	for (unsigned int i = 0; i < n; i++)
		vcpu->arch.mce_banks[4 * i] = ~0ULL;
	return 0;
}

/* An uncorrected error: #MC, or shutdown when one is in progress or CR4.MCE=0. */
static void inject_uncorrected(struct kvm_vcpu *vcpu, uint64_t *bank,
			       struct kvm_x86_mce *mce)
{
	struct x86_cpu *cpu = vcpu_cpu(vcpu);

	if ((vcpu->arch.mcg_status & MCG_STATUS_MCIP) ||
	    !(cpu->cr4 & X86_CR4_MCE)) {
		vcpu->arch.shutdown_pending = true;
		return;
	}
	if (bank[1] & MCI_STATUS_VAL)
		mce->status |= MCI_STATUS_OVER;
	bank[1] = mce->status;
	bank[2] = mce->addr;
	bank[3] = mce->misc;
	vcpu->arch.mcg_status = mce->mcg_status;
	cpu->ev.exc_pending = true;
	cpu->ev.exc_injected = false;
	cpu->ev.exc_nr = MC_VECTOR;
	cpu->ev.exc_has_error = false;
	cpu->ev.exc_error = 0;
	kvm_x86_state_changed(vcpu);
}

static long set_mce(struct kvm_vcpu *vcpu, void *argp)
{
	struct kvm_x86_mce mce;
	uint64_t *bank;

	if (copy_from_user(&mce, argp, sizeof(mce)))
		return -EFAULT;
	if (mce.bank >= nr_banks(vcpu) || !(mce.status & MCI_STATUS_VAL))
		return -EINVAL;
	bank = &vcpu->arch.mce_banks[4 * mce.bank];
	if (mce.status & MCI_STATUS_UC) {
		/* Reporting disabled by MCG_CTL or by the bank's MCi_CTL. */
		if ((vcpu->arch.mcg_cap & MCG_CTL_P) &&
		    vcpu->arch.mcg_ctl != ~0ULL)
			return 0;
		if (bank[0] != ~0ULL)
			return 0;
		inject_uncorrected(vcpu, bank, &mce);
	} else if ((bank[1] & (MCI_STATUS_VAL | MCI_STATUS_UC)) ==
		   (MCI_STATUS_VAL | MCI_STATUS_UC)) {
		/* A corrected error never overwrites an uncorrected one. */
		bank[1] |= MCI_STATUS_OVER;
	} else {
		if (bank[1] & MCI_STATUS_VAL)
			mce.status |= MCI_STATUS_OVER;
		bank[1] = mce.status;
		bank[2] = mce.addr;
		bank[3] = mce.misc;
	}
	return 0;
}

long kvm_mce_vcpu_ioctl(struct kvm_vcpu *vcpu, unsigned int ioctl, void *argp)
{
	switch (ioctl) {
	case KVM_X86_SETUP_MCE:
		return setup_mce(vcpu, argp);
	case KVM_X86_SET_MCE:
		return set_mce(vcpu, argp);
	default:
		return -ENOTTY;
	}
}
