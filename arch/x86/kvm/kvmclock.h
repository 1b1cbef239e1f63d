/* SPDX-License-Identifier: MIT */
/*
 * kvmclock.h - KVM's paravirtual time for x86 guests (kvmclock.c):
 * the kvmclock MSRs and the pvclock pages they name, KVM_GET/SET_CLOCK,
 * KVM_KVMCLOCK_CTRL, and steal time (MSR_KVM_STEAL_TIME).
 */
#ifndef SKVM_KVMCLOCK_H
#define SKVM_KVMCLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "kvm_host.h"

/* The guest-memory layouts (Documentation/virt/kvm/x86/msr.rst). */
struct pvclock_vcpu_time_info {
	uint32_t version;
	uint32_t pad0;
	uint64_t tsc_timestamp;
	uint64_t system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags;
	uint8_t pad[2];
} __attribute__((packed));

struct pvclock_wall_clock {
	uint32_t version;
	uint32_t sec;
	uint32_t nsec;
} __attribute__((packed));

#define PVCLOCK_TSC_STABLE_BIT	(1 << 0)
#define PVCLOCK_GUEST_STOPPED	(1 << 1)

/* The flags KVM_GET_CLOCK can return (KVM_CAP_ADJUST_CLOCK's answer). */
#define KVM_CLOCK_VALID_FLAGS \
	(KVM_CLOCK_TSC_STABLE | KVM_CLOCK_REALTIME | KVM_CLOCK_HOST_TSC)

/* VM and vCPU lifetime. */
int kvm_clock_init(struct kvm *kvm);
void kvm_clock_destroy(struct kvm *kvm);
int kvm_pvtime_create(struct kvm_vcpu *vcpu);
void kvm_pvtime_destroy(struct kvm_vcpu *vcpu);

/* Does the host keep the accounting steal time needs (schedstat)? */
bool kvm_steal_time_supported(void);

/*
 * The paravirtual time MSRs (MSR_KVM_WALL_CLOCK, MSR_KVM_SYSTEM_TIME, their
 * _NEW twins, MSR_KVM_STEAL_TIME): 0, or 1 when the access fails.
 */
int kvm_pvtime_get_msr(struct kvm_vcpu *vcpu, uint32_t index, uint64_t *data);
int kvm_pvtime_set_msr(struct kvm_vcpu *vcpu, uint32_t index, uint64_t data,
		       bool host_initiated);

/* VM ioctls KVM_GET_CLOCK, KVM_SET_CLOCK; vCPU ioctl KVM_KVMCLOCK_CTRL. */
long kvm_vm_ioctl_get_clock(struct kvm *kvm, void *argp);
long kvm_vm_ioctl_set_clock(struct kvm *kvm, void *argp);
int kvm_set_guest_paused(struct kvm_vcpu *vcpu);

/* The TSC offset for a host write of IA32_TSC (KVM's TSC synchronization). */
int64_t kvm_synchronize_tsc(struct kvm_vcpu *vcpu, uint64_t data);
/* The vCPU's TSC offset changed (a TSC write, KVM_VCPU_TSC_OFFSET). */
void kvm_pvtime_tsc_changed(struct kvm_vcpu *vcpu);

/* KVM_RUN begins on this thread (the kernel's vcpu_load). */
void kvm_pvtime_run_begin(struct kvm_vcpu *vcpu);
/* Before each entry into the guest: bring the guest's pages up to date. */
void kvm_pvtime_enter_guest(struct kvm_vcpu *vcpu);

#endif /* SKVM_KVMCLOCK_H */
