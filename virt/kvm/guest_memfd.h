/* SPDX-License-Identifier: MIT */
/*
 * guest_memfd.h - guest-private memory (KVM_CREATE_GUEST_MEMFD) and memory
 * attributes (KVM_SET_MEMORY_ATTRIBUTES), api.rst 4.141-4.143 of Linux 6.8.
 */
#ifndef SKVM_GUEST_MEMFD_H
#define SKVM_GUEST_MEMFD_H

#include "kvm_host.h"

/* A guest_memfd: a memfd the VMM cannot map, that backs private memory. */
struct kvm_gmem {
	struct kvm *kvm;
	struct kvm_file *file;
	uint8_t *map;			/* skvm's mapping of the whole file */
	uint64_t size;
	struct kvm_gmem *next;		/* kvm->gmems, under slots_lock */
};

/* Does this VM type have private memory (KVM_X86_SW_PROTECTED_VM)? */
bool kvm_has_private_mem(struct kvm *kvm);

long kvm_vm_ioctl_create_guest_memfd(struct kvm *kvm, void *argp);
long kvm_vm_ioctl_set_memory_attributes(struct kvm *kvm, void *argp);

/*
 * Bind [offset, offset + npages) of the guest_memfd behind fd to a new
 * slot: the gmem, or an ERR via *err (-EINVAL: not this VM's guest_memfd
 * or out of range; -EEXIST: the range is bound to another slot).  Caller
 * holds slots_lock.
 */
struct kvm_gmem *kvm_gmem_bind(struct kvm *kvm, int fd, uint64_t offset,
			       uint64_t npages, int slot_id, int as_id, int *err);

/* Caller holds rcu_read_lock(). */
bool kvm_mem_is_private(struct kvm *kvm, gfn_t gfn);

/* VM destruction. */
void kvm_gmem_destroy_all(struct kvm *kvm);

#endif /* SKVM_GUEST_MEMFD_H */
