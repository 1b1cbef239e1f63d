/* SPDX-License-Identifier: MIT */
/*
 * x86.h - what x86.c, cpuid.c, msr.c and tsc.c share (the kernel's
 * arch/x86/kvm/x86.h and cpuid.h).  Nothing outside arch/x86/kvm includes
 * this; virt/kvm reaches the architecture only through the kvm_arch_*
 * hooks of kvm_host.h.
 */
#ifndef SKVM_X86_H
#define SKVM_X86_H

#include <stdbool.h>
#include <stdint.h>

#include "kvm_host.h"

/* Control-register and EFER bits (Intel SDM Vol. 3, 2.5 and 2.2.1). */
#define X86_CR0_PE	(1ULL << 0)
#define X86_CR0_NW	(1ULL << 29)
#define X86_CR0_CD	(1ULL << 30)
#define X86_CR0_PG	(1ULL << 31)
#define X86_CR4_PAE	(1ULL << 5)
#define X86_CR4_OSXSAVE	(1ULL << 18)
#define X86_CR4_PKE	(1ULL << 22)
#define X86_EFER_SCE	(1ULL << 0)
#define X86_EFER_LME	(1ULL << 8)
#define X86_EFER_LMA	(1ULL << 10)
#define X86_EFER_NX	(1ULL << 11)
#define X86_EFER_SVME	(1ULL << 12)
#define X86_EFER_FFXSR	(1ULL << 14)
#define X86_RFLAGS_FIXED	(1ULL << 1)
#define X86_RFLAGS_IF	(1ULL << 9)
#define X86_RFLAGS_VM	(1ULL << 17)

#define X86_APIC_BASE_BSP	(1ULL << 8)
#define X86_APIC_BASE_EXTD	(1ULL << 10)
#define X86_APIC_BASE_ENABLE	(1ULL << 11)
#define X86_APIC_DEFAULT_BASE	0xfee00000ULL

/* CPUID register numbers in the out[4] arrays. */
enum { CPUID_EAX, CPUID_EBX, CPUID_ECX, CPUID_EDX };

/* Feature bits x86/kvm looks at: (leaf, subleaf, register, bit). */
struct cpuid_bit {
	uint32_t leaf, subleaf;
	uint8_t reg, bit;
};
#define CPUID_BIT(l, s, r, b) ((struct cpuid_bit){ (l), (s), (r), (b) })
#define X86_FEATURE_MCE		CPUID_BIT(1, 0, CPUID_EDX, 7)
#define X86_FEATURE_APIC	CPUID_BIT(1, 0, CPUID_EDX, 9)
#define X86_FEATURE_MTRR	CPUID_BIT(1, 0, CPUID_EDX, 12)
#define X86_FEATURE_FXSR	CPUID_BIT(1, 0, CPUID_EDX, 24)
#define X86_FEATURE_X2APIC	CPUID_BIT(1, 0, CPUID_ECX, 21)
#define X86_FEATURE_XMM3	CPUID_BIT(1, 0, CPUID_ECX, 0)
#define X86_FEATURE_MWAIT	CPUID_BIT(1, 0, CPUID_ECX, 3)
/* IA32_MISC_ENABLE.ENABLE_MONITOR_FSM: MONITOR/MWAIT enabled */
#define MISC_ENABLE_MWAIT	(1ULL << 18)
#define X86_FEATURE_TSC_DEADLINE_TIMER CPUID_BIT(1, 0, CPUID_ECX, 24)
#define X86_FEATURE_XSAVE	CPUID_BIT(1, 0, CPUID_ECX, 26)
#define X86_FEATURE_OSXSAVE	CPUID_BIT(1, 0, CPUID_ECX, 27)
#define X86_FEATURE_OSPKE	CPUID_BIT(7, 0, CPUID_ECX, 4)
#define X86_FEATURE_ARCH_CAPABILITIES CPUID_BIT(7, 0, CPUID_EDX, 29)
#define X86_FEATURE_RDPID	CPUID_BIT(7, 0, CPUID_ECX, 22)
#define X86_FEATURE_NX		CPUID_BIT(0x80000001, 0, CPUID_EDX, 20)
#define X86_FEATURE_RDTSCP	CPUID_BIT(0x80000001, 0, CPUID_EDX, 27)
#define X86_FEATURE_LM		CPUID_BIT(0x80000001, 0, CPUID_EDX, 29)
#define X86_FEATURE_SVM		CPUID_BIT(0x80000001, 0, CPUID_ECX, 2)
#define X86_FEATURE_FXSR_OPT	CPUID_BIT(0x80000001, 0, CPUID_EDX, 25)

/* XCR0 components (Intel SDM Vol. 1, 13.1). */
#define XFEATURE_MASK_FP	(1ULL << 0)
#define XFEATURE_MASK_SSE	(1ULL << 1)
#define XFEATURE_MASK_YMM	(1ULL << 2)

static inline struct x86_cpu *vcpu_cpu(struct kvm_vcpu *vcpu)
{
	return &vcpu->arch.cpu;
}

/* KVM_CREATE_IRQCHIP gave every vCPU a local APIC (platform.c). */
static inline bool lapic_in_kernel(struct kvm_vcpu *vcpu)
{
	return vcpu->arch.apic != NULL;
}

/* --- cpuid.c ------------------------------------------------------------- */

long kvm_dev_ioctl_get_supported_cpuid(void *argp);
int kvm_vcpu_ioctl_set_cpuid(struct kvm_vcpu *vcpu, void *argp);
int kvm_vcpu_ioctl_set_cpuid2(struct kvm_vcpu *vcpu, void *argp);
int kvm_vcpu_ioctl_get_cpuid2(struct kvm_vcpu *vcpu, void *argp);
void kvm_cpuid_free(struct kvm_vcpu *vcpu);

/* CPUID as the guest executes it (engine callback). */
void kvm_cpuid(struct kvm_vcpu *vcpu, uint32_t leaf, uint32_t subleaf,
	       uint32_t out[4]);
/* A bit in the vCPU's KVM_SET_CPUID2 table (false without a table). */
bool guest_cpuid_has(struct kvm_vcpu *vcpu, struct cpuid_bit f);
/* A bit that KVM_GET_SUPPORTED_CPUID reports. */
bool kvm_cpu_cap_has(struct cpuid_bit f);
/* Physical-address width of the guest (CPUID 0x80000008 EAX[7:0]). */
int cpuid_maxphyaddr(struct kvm_vcpu *vcpu);
/* KVM_FEATURE_* bit in the guest's CPUID 0x40000001 EAX (when enforced). */
bool guest_pv_has(struct kvm_vcpu *vcpu, unsigned int feature);
/* CPUID.1:ECX.MONITOR as the guest sees it now (MISC_ENABLE may rule it). */
bool guest_has_mwait(struct kvm_vcpu *vcpu);
/* XCR0 bits the engine implements (CPUID 0xd.0 EDX:EAX); FP always. */
uint64_t kvm_supported_xcr0(void);
/* Size of an XSAVE area holding the components in xcr0. */
uint32_t xstate_required_size(uint64_t xcr0);

/* --- msr.c --------------------------------------------------------------- */

long kvm_dev_ioctl_get_msr_index_list(void *argp, bool features);
long kvm_dev_ioctl_get_feature_msrs(void *argp);
int kvm_vcpu_ioctl_msrs(struct kvm_vcpu *vcpu, void *argp, bool set);
/*
 * 0, or nonzero when the access fails (#GP for the guest, stop for user
 * space): KVM_MSR_RET_INVALID when the MSR is not one KVM knows, 1 when
 * the value or the access is not allowed.
 */
#define KVM_MSR_RET_INVALID 2
int kvm_get_msr(struct kvm_vcpu *vcpu, uint32_t index, uint64_t *data,
		bool host_initiated);
int kvm_set_msr(struct kvm_vcpu *vcpu, uint32_t index, uint64_t data,
		bool host_initiated);
void kvm_msr_reset(struct kvm_vcpu *vcpu);
bool kvm_valid_apic_base(struct kvm_vcpu *vcpu, uint64_t data,
			 bool host_initiated);
bool kvm_valid_efer(struct kvm_vcpu *vcpu, uint64_t efer);
/* KVM_X86_SET_MSR_FILTER and the check of a guest access against it. */
long kvm_vm_ioctl_set_msr_filter(struct kvm *kvm, void *argp);
bool kvm_msr_allowed(struct kvm_vcpu *vcpu, uint32_t index, bool write);
void kvm_free_msr_filter(struct kvm *kvm);
/* Number of MSRs in the KVM_GET_MSR_INDEX_LIST answer, and the list. */
unsigned int kvm_msr_index_list(const uint32_t **list);

/* --- mce.c --------------------------------------------------------------- */

void kvm_mce_vcpu_reset(struct kvm_vcpu *vcpu);
bool kvm_mce_is_bank_msr(uint32_t index);
int kvm_mce_get_msr(struct kvm_vcpu *vcpu, uint32_t index, uint64_t *data);
int kvm_mce_set_msr(struct kvm_vcpu *vcpu, uint32_t index, uint64_t data,
		    bool host_initiated);
long kvm_mce_get_cap_supported(void *argp);
/* KVM_X86_SETUP_MCE, KVM_X86_SET_MCE; -ENOTTY for any other ioctl. */
long kvm_mce_vcpu_ioctl(struct kvm_vcpu *vcpu, unsigned int ioctl, void *argp);

/* --- tsc.c --------------------------------------------------------------- */

/* Host TSC frequency, measured once per process. */
uint32_t kvm_host_tsc_khz(void);
uint64_t kvm_host_rdtsc(void);
uint64_t kvm_read_guest_tsc(struct kvm_vcpu *vcpu);
/* Guest write of IA32_TSC adjusts IA32_TSC_ADJUST too (SDM 17.17.3). */
void kvm_write_guest_tsc(struct kvm_vcpu *vcpu, uint64_t tsc, bool host_initiated);
void kvm_write_tsc_adjust(struct kvm_vcpu *vcpu, uint64_t val, bool host_initiated);
int kvm_set_tsc_khz(struct kvm_vcpu *vcpu, uint32_t khz);
long kvm_vcpu_tsc_attr(struct kvm_vcpu *vcpu, unsigned int ioctl,
		       const struct kvm_device_attr *attr);

/* --- pv_async_pf.c -------------------------------------------------------- */

int kvm_apf_vcpu_create(struct kvm_vcpu *vcpu);
void kvm_apf_vcpu_destroy(struct kvm_vcpu *vcpu);
/* vCPU reset: async PF off, every outstanding fault forgotten. */
void kvm_apf_vcpu_reset(struct kvm_vcpu *vcpu);
/* INIT: forget every outstanding fault (the MSRs stay). */
void kvm_apf_vcpu_forget(struct kvm_vcpu *vcpu);
/* Before entering the guest: hand completed faults to the guest. */
void kvm_apf_vcpu_run(struct kvm_vcpu *vcpu);
/*
 * Leaving KVM_RUN: a halt for a page is not architectural state, so the
 * vCPU shows (and is saved as) runnable, on the faulting instruction.
 */
void kvm_apf_vcpu_put(struct kvm_vcpu *vcpu);
/* The engine's ops->page_ready. */
int kvm_apf_page_ready(struct x86_cpu *cpu, uint64_t gpa, void *host,
		       uint64_t *cr2);
/* MSR_KVM_ASYNC_PF_EN/_INT/_ACK; KVM_MSR_RET_INVALID for other MSRs. */
int kvm_apf_get_msr(struct kvm_vcpu *vcpu, uint32_t index, uint64_t *data);
int kvm_apf_set_msr(struct kvm_vcpu *vcpu, uint32_t index, uint64_t data,
		    bool host_initiated);

/* --- x86.c --------------------------------------------------------------- */

/* The engine's state changed from outside: tell it. */
void kvm_x86_state_changed(struct kvm_vcpu *vcpu);
/* Current privilege level: 0 in real mode, 3 in virtual-8086 mode. */
int vcpu_cpl(const struct x86_cpu *cpu);

#endif /* SKVM_X86_H */
