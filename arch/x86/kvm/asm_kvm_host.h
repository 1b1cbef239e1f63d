/* SPDX-License-Identifier: MIT */
/*
 * asm_kvm_host.h - x86's part of struct kvm and struct kvm_vcpu
 * (the kernel's arch/x86/include/asm/kvm_host.h).
 */
#ifndef SKVM_ASM_KVM_HOST_H
#define SKVM_ASM_KVM_HOST_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

#include "cpu/cpu.h"

#define KVM_MAX_CPUID_ENTRIES 256
#define KVM_NR_VAR_MTRR 8		/* variable-range MTRR pairs (MTRRcap.VCNT) */
#define KVM_NR_FIXED_MTRR 11		/* fixed-range MTRR MSRs */

/* Memory-type range registers (Intel SDM Vol. 3, 12.11), stored as set. */
struct kvm_mtrr {
	uint64_t def_type;		/* IA32_MTRR_DEF_TYPE */
	uint64_t fixed[KVM_NR_FIXED_MTRR];
	struct {
		uint64_t base, mask;
	} var[KVM_NR_VAR_MTRR];
};

struct kvm_arch {
	uint64_t tss_addr;		/* KVM_SET_TSS_ADDR */
	uint64_t ept_identity_map_addr;	/* KVM_SET_IDENTITY_MAP_ADDR */
	bool ept_identity_map_set;
	uint32_t bsp_vcpu_id;		/* KVM_SET_BOOT_CPU_ID */
	bool x2apic_format, x2apic_broadcast_quirk_disabled;
	uint64_t disabled_quirks;
	bool user_space_msr;		/* KVM_CAP_X86_USER_SPACE_MSR */
	uint32_t user_space_msr_mask;
	int64_t default_tsc_offset;	/* new vCPUs' TSC offset (TSC 0 at VM creation) */
};

struct kvm_vcpu_arch {
	struct x86_cpu cpu;		/* the software vCPU */
	struct kvm_cpuid_entry2 *cpuid_entries;	/* KVM_SET_CPUID2 */
	int cpuid_nent;
	int64_t tsc_offset;		/* guest TSC = host TSC + offset */
	uint64_t tsc_khz;
	/* An IO/MMIO exit is outstanding: complete it on the next KVM_RUN. */
	bool pio_pending, mmio_pending;
	uint32_t mp_state;		/* KVM_MP_STATE_* */

	/*
	 * The engine's callbacks.  Per vCPU because ops.pio_buf points into
	 * this vCPU's kvm_run mapping (the PIO page).
	 */
	struct x86_cpu_ops ops;
	/* The guest has run once: CPUID may no longer change (Linux 6.x). */
	bool ran;

	/* MSRs kept outside the engine (msr.c) */
	uint64_t tsc_adjust;		/* IA32_TSC_ADJUST */
	uint64_t misc_enable;		/* IA32_MISC_ENABLE */
	uint64_t mcg_cap, mcg_status, mcg_ctl;
	uint64_t ucode_rev;		/* IA32_UCODE_REV (BIOS_SIGN_ID) */
	uint64_t arch_capabilities;	/* IA32_ARCH_CAPABILITIES */
	struct kvm_mtrr mtrr;
};

#endif /* SKVM_ASM_KVM_HOST_H */
