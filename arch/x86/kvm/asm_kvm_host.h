/* SPDX-License-Identifier: MIT */
/*
 * asm_kvm_host.h - x86's part of struct kvm and struct kvm_vcpu
 * (the kernel's arch/x86/include/asm/kvm_host.h).
 */
#ifndef SKVM_ASM_KVM_HOST_H
#define SKVM_ASM_KVM_HOST_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "cpu/cpu.h"

#define KVM_MAX_CPUID_ENTRIES 256
#define KVM_NR_VAR_MTRR 8		/* variable-range MTRR pairs (MTRRcap.VCNT) */
#define KVM_NR_FIXED_MTRR 11		/* fixed-range MTRR MSRs */
#define KVM_MIN_ALLOC_MMU_PAGES 64	/* KVM_SET_NR_MMU_PAGES' minimum */

/* Memory-type range registers (Intel SDM Vol. 3, 12.11), stored as set. */
struct kvm_mtrr {
	uint64_t def_type;		/* IA32_MTRR_DEF_TYPE */
	uint64_t fixed[KVM_NR_FIXED_MTRR];
	struct {
		uint64_t base, mask;
	} var[KVM_NR_VAR_MTRR];
};

/*
 * Statistics with the names of KVM's x86 stats (arch/x86/kvm/stats.c has
 * the table).  Counters of events that skvm's design never produces (shadow
 * MMU zaps, L1D flushes, nested runs) stay 0, which is what they count.
 */
struct kvm_vm_stat {
	struct kvm_vm_stat_generic generic;
	uint64_t mmu_shadow_zapped;
	uint64_t mmu_pte_write;
	uint64_t mmu_pde_zapped;
	uint64_t mmu_flooded;
	uint64_t mmu_recycled;
	uint64_t mmu_cache_miss;
	uint64_t mmu_unsync;
	uint64_t pages_4k;
	uint64_t pages_2m;
	uint64_t pages_1g;
	uint64_t nx_lpage_splits;
	uint64_t max_mmu_rmap_size;
	uint64_t max_mmu_page_hash_collisions;
};

struct kvm_vcpu_stat {
	struct kvm_vcpu_stat_generic generic;
	uint64_t pf_taken;
	uint64_t pf_fixed;
	uint64_t pf_emulate;
	uint64_t pf_spurious;
	uint64_t pf_fast;
	uint64_t pf_mmio_spte_created;
	uint64_t pf_guest;
	uint64_t tlb_flush;
	uint64_t invlpg;
	uint64_t exits;
	uint64_t io_exits;
	uint64_t mmio_exits;
	uint64_t signal_exits;
	uint64_t irq_window_exits;
	uint64_t nmi_window_exits;
	uint64_t l1d_flush;
	uint64_t halt_exits;
	uint64_t request_irq_exits;
	uint64_t irq_exits;
	uint64_t host_state_reload;
	uint64_t fpu_reload;
	uint64_t insn_emulation;
	uint64_t insn_emulation_fail;
	uint64_t hypercalls;
	uint64_t irq_injections;
	uint64_t nmi_injections;
	uint64_t req_event;
	uint64_t nested_run;
	uint64_t directed_yield_attempted;
	uint64_t directed_yield_successful;
	uint64_t preemption_reported;
	uint64_t preemption_other;
	uint64_t guest_mode;
	uint64_t notify_window_exits;
};

/* What x86 keeps with an asynchronous page fault (virt/kvm/async_pf.h). */
struct kvm_arch_async_pf {
	uint32_t token;			/* the guest's CR2 at "page not present" */
	uint64_t gfn;
};

struct kvm_vcpu_apf;	/* pv_async_pf.c: the guest's async PF settings */
struct kvm_platform;	/* platform.h: in-kernel irqchip, PIT, GSI routing */
struct kvm_clock;	/* kvmclock.c: master clock, KVM_GET/SET_CLOCK */
struct kvm_pvtime;	/* kvmclock.c: a vCPU's kvmclock and steal time */
struct kvm_lapic;

struct kvm_arch {
	uint64_t tss_addr;		/* KVM_SET_TSS_ADDR */
	uint64_t ept_identity_map_addr;	/* KVM_SET_IDENTITY_MAP_ADDR */
	bool ept_identity_map_set;
	uint32_t bsp_vcpu_id;		/* KVM_SET_BOOT_CPU_ID */
	unsigned long n_max_mmu_pages;	/* KVM_SET_NR_MMU_PAGES */
	bool x2apic_format, x2apic_broadcast_quirk_disabled;
	uint64_t disabled_quirks;
	/* KVM_CAP_X86_USER_SPACE_MSR: KVM_MSR_EXIT_REASON_* taken to user space */
	uint32_t user_space_msr_mask;
	/* KVM_CAP_MSR_PLATFORM_INFO: the guest may read MSR_PLATFORM_INFO */
	bool guest_can_read_msr_platform_info;
	/* KVM_CAP_EXIT_ON_EMULATION_FAILURE */
	bool exit_on_emulation_error;
	/* KVM_X86_SET_MSR_FILTER; RCU-published, NULL = no filter (msr.c) */
	struct kvm_x86_msr_filter *msr_filter;
	struct kvm_platform *platform;	/* NULL until KVM_CREATE_IRQCHIP/PIT2 */
	struct kvm_clock *clock;	/* kvmclock.c */
};

struct kvm_vcpu_arch {
	struct x86_cpu cpu;		/* the software vCPU */
	struct kvm_cpuid_entry2 *cpuid_entries;	/* KVM_SET_CPUID2 */
	int cpuid_nent;
	int64_t tsc_offset;		/* guest TSC = host TSC + offset */
	struct kvm_pvtime *pvtime;	/* kvmclock, steal time (kvmclock.c) */
	uint64_t tsc_khz;
	/* An IO/MMIO exit is outstanding: complete it on the next KVM_RUN. */
	bool pio_pending, mmio_pending;
	bool completing_io;		/* retiring that instruction only */
	/* An RDMSR/WRMSR exit (KVM_EXIT_X86_*) is outstanding, and why. */
	bool msr_pending;
	uint32_t msr_exit_reason;
	/* KVM_CAP_ENFORCE_PV_FEATURE_CPUID: PV features need their CPUID bit */
	bool pv_cpuid_enforce;
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
	/* MCi_CTL, _STATUS, _ADDR, _MISC of each bank (mce.c) */
#define KVM_MAX_MCE_BANKS 32
	uint64_t mce_banks[4 * KVM_MAX_MCE_BANKS];
	/* KVM_X86_SET_MCE asked for a shutdown: the next KVM_RUN reports it */
	bool shutdown_pending;
	uint64_t ucode_rev;		/* IA32_UCODE_REV (BIOS_SIGN_ID) */
	uint64_t arch_capabilities;	/* IA32_ARCH_CAPABILITIES */
	uint64_t power_ctl;		/* MSR_IA32_POWER_CTL */
	uint64_t platform_info;		/* MSR_PLATFORM_INFO, host-written */
	struct kvm_mtrr mtrr;

	/* In-kernel local APIC (platform.c); NULL without KVM_CREATE_IRQCHIP. */
	struct kvm_lapic *apic;
	uint64_t apic_base_seen, cr8_seen;	/* last values told to the LAPIC */
	/* Split irqchip (platform.c): vectors whose EOI exits to user space. */
	uint64_t ioapic_handled_vectors[4];
	unsigned int scan_gen_seen;	/* the routes/APIC IDs they were built from */
	int pending_ioapic_eoi;		/* KVM_EXIT_IOAPIC_EOI to report, or -1 */
	int pending_external_vector;	/* KVM_INTERRUPT's ExtINT, or -1 */
	/* KVM_SET_VAPIC_ADDR's TPR page, 0 when off (platform.c) */
	uint64_t vapic_addr;
	/* PV EOI (MSR_KVM_PV_EOI_EN, platform.c) */
	uint64_t pv_eoi_msr;
	bool pv_eoi_pending;		/* the guest's flag was set at injection */

	/* MSR_KVM_ASYNC_PF_*: paravirtual async page faults (pv_async_pf.c) */
	struct kvm_vcpu_apf *apf;
};

#endif /* SKVM_ASM_KVM_HOST_H */
