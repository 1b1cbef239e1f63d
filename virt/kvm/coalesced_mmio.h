/* SPDX-License-Identifier: MIT */
/*
 * coalesced_mmio.h - batched MMIO/PIO writes (KVM_REGISTER_COALESCED_MMIO).
 */
#ifndef SKVM_COALESCED_MMIO_H
#define SKVM_COALESCED_MMIO_H

#include "kvm_host.h"

/* The VM's ring lives in page 0 of the VM memfd (see kvm_main.c). */
int kvm_coalesced_mmio_init(struct kvm *kvm, void *ring_page);
void kvm_coalesced_mmio_free(struct kvm *kvm);
int kvm_vm_ioctl_register_coalesced_mmio(struct kvm *kvm,
					 struct kvm_coalesced_mmio_zone *zone);
int kvm_vm_ioctl_unregister_coalesced_mmio(struct kvm *kvm,
					   struct kvm_coalesced_mmio_zone *zone);

#endif /* SKVM_COALESCED_MMIO_H */
