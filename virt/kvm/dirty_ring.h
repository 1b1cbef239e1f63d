/* SPDX-License-Identifier: MIT */
/*
 * dirty_ring.h - per-vCPU rings of dirty guest frames
 * (KVM_CAP_DIRTY_LOG_RING, api.rst 8.29).
 */
#ifndef SKVM_DIRTY_RING_H
#define SKVM_DIRTY_RING_H

#include "kvm_host.h"

#define KVM_DIRTY_RING_RSVD_ENTRIES 64
#define KVM_DIRTY_RING_MAX_ENTRIES 65536

int kvm_vm_ioctl_enable_dirty_log_ring(struct kvm *kvm, uint32_t size);
/* Set up vcpu->dirty_ring over the ring pages of the vCPU mapping. */
void kvm_dirty_ring_init(struct kvm_vcpu *vcpu, void *ring_pages);
/* Append (slot, offset); kicks the vCPU when the soft limit is reached. */
void kvm_dirty_ring_push(struct kvm_vcpu *vcpu, uint32_t slot, uint64_t offset);
bool kvm_dirty_ring_soft_full(struct kvm_vcpu *vcpu);
/*
 * For the architecture's run loop, before entering the guest: when the
 * ring is soft-full, set KVM_EXIT_DIRTY_RING_FULL and return true.
 */
bool kvm_dirty_ring_check_exit(struct kvm_vcpu *vcpu);
/* KVM_RESET_DIRTY_RINGS: the number of entries reset, or -errno. */
int kvm_vm_ioctl_reset_dirty_pages(struct kvm *kvm);

#endif /* SKVM_DIRTY_RING_H */
