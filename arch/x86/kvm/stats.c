// SPDX-License-Identifier: MIT
/*
 * stats.c - x86's statistics tables for KVM_GET_STATS_FD, in the order and
 * with the names, types and units of KVM's x86 stats.
 */
#include "binary_stats.h"
#include "x86.h"

#define VM struct kvm_vm_stat
#define VCPU struct kvm_vcpu_stat
#define GEN(kind, type, f) KVM_STAT_##kind##_AT(type, generic.f, #f)

const struct kvm_stat_def kvm_vm_stats_desc[] = {
	GEN(COUNTER, VM, remote_tlb_flush),
	GEN(COUNTER, VM, remote_tlb_flush_requests),
	KVM_STAT_COUNTER(VM, mmu_shadow_zapped),
	KVM_STAT_COUNTER(VM, mmu_pte_write),
	KVM_STAT_COUNTER(VM, mmu_pde_zapped),
	KVM_STAT_COUNTER(VM, mmu_flooded),
	KVM_STAT_COUNTER(VM, mmu_recycled),
	KVM_STAT_COUNTER(VM, mmu_cache_miss),
	KVM_STAT_ICOUNTER(VM, mmu_unsync),
	KVM_STAT_ICOUNTER(VM, pages_4k),
	KVM_STAT_ICOUNTER(VM, pages_2m),
	KVM_STAT_ICOUNTER(VM, pages_1g),
	KVM_STAT_ICOUNTER(VM, nx_lpage_splits),
	KVM_STAT_PCOUNTER(VM, max_mmu_rmap_size),
	KVM_STAT_PCOUNTER(VM, max_mmu_page_hash_collisions),
};
const int kvm_vm_stats_ndesc = sizeof(kvm_vm_stats_desc) / sizeof(kvm_vm_stats_desc[0]);
const size_t kvm_vm_stats_size = sizeof(struct kvm_vm_stat);

const struct kvm_stat_def kvm_vcpu_stats_desc[] = {
	GEN(COUNTER, VCPU, halt_successful_poll),
	GEN(COUNTER, VCPU, halt_attempted_poll),
	GEN(COUNTER, VCPU, halt_poll_invalid),
	GEN(COUNTER, VCPU, halt_wakeup),
	GEN(TIME_NSEC, VCPU, halt_poll_success_ns),
	GEN(TIME_NSEC, VCPU, halt_poll_fail_ns),
	GEN(TIME_NSEC, VCPU, halt_wait_ns),
	KVM_STAT_LOGHIST_NSEC_AT(VCPU, generic.halt_poll_success_hist,
				 "halt_poll_success_hist", HALT_POLL_HIST_COUNT),
	KVM_STAT_LOGHIST_NSEC_AT(VCPU, generic.halt_poll_fail_hist,
				 "halt_poll_fail_hist", HALT_POLL_HIST_COUNT),
	KVM_STAT_LOGHIST_NSEC_AT(VCPU, generic.halt_wait_hist,
				 "halt_wait_hist", HALT_POLL_HIST_COUNT),
	GEN(IBOOLEAN, VCPU, blocking),
	KVM_STAT_COUNTER(VCPU, pf_taken),
	KVM_STAT_COUNTER(VCPU, pf_fixed),
	KVM_STAT_COUNTER(VCPU, pf_emulate),
	KVM_STAT_COUNTER(VCPU, pf_spurious),
	KVM_STAT_COUNTER(VCPU, pf_fast),
	KVM_STAT_COUNTER(VCPU, pf_mmio_spte_created),
	KVM_STAT_COUNTER(VCPU, pf_guest),
	KVM_STAT_COUNTER(VCPU, tlb_flush),
	KVM_STAT_COUNTER(VCPU, invlpg),
	KVM_STAT_COUNTER(VCPU, exits),
	KVM_STAT_COUNTER(VCPU, io_exits),
	KVM_STAT_COUNTER(VCPU, mmio_exits),
	KVM_STAT_COUNTER(VCPU, signal_exits),
	KVM_STAT_COUNTER(VCPU, irq_window_exits),
	KVM_STAT_COUNTER(VCPU, nmi_window_exits),
	KVM_STAT_COUNTER(VCPU, l1d_flush),
	KVM_STAT_COUNTER(VCPU, halt_exits),
	KVM_STAT_COUNTER(VCPU, request_irq_exits),
	KVM_STAT_COUNTER(VCPU, irq_exits),
	KVM_STAT_COUNTER(VCPU, host_state_reload),
	KVM_STAT_COUNTER(VCPU, fpu_reload),
	KVM_STAT_COUNTER(VCPU, insn_emulation),
	KVM_STAT_COUNTER(VCPU, insn_emulation_fail),
	KVM_STAT_COUNTER(VCPU, hypercalls),
	KVM_STAT_COUNTER(VCPU, irq_injections),
	KVM_STAT_COUNTER(VCPU, nmi_injections),
	KVM_STAT_COUNTER(VCPU, req_event),
	KVM_STAT_COUNTER(VCPU, nested_run),
	KVM_STAT_COUNTER(VCPU, directed_yield_attempted),
	KVM_STAT_COUNTER(VCPU, directed_yield_successful),
	KVM_STAT_COUNTER(VCPU, preemption_reported),
	KVM_STAT_COUNTER(VCPU, preemption_other),
	KVM_STAT_IBOOLEAN(VCPU, guest_mode),
	KVM_STAT_COUNTER(VCPU, notify_window_exits),
};
const int kvm_vcpu_stats_ndesc = sizeof(kvm_vcpu_stats_desc) / sizeof(kvm_vcpu_stats_desc[0]);
const size_t kvm_vcpu_stats_size = sizeof(struct kvm_vcpu_stat);
