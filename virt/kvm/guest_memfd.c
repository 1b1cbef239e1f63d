// SPDX-License-Identifier: MIT
/*
 * guest_memfd.c - guest-private memory and memory attributes.
 *
 * A guest_memfd is a memfd registered as an skvm object: the VMM holds its
 * fd (and may punch holes in it with fallocate, which frees the pages as
 * with KVM), but cannot map it (mmap gives ENODEV) or issue ioctls on it.
 * skvm maps it itself to give the engine the private pages.
 *
 * Memslots created with KVM_MEM_GUEST_MEMFD (only in VMs that have private
 * memory, KVM_X86_SW_PROTECTED_VM) have two backings: their userspace_addr
 * for shared pages and a range of the guest_memfd for private ones.  Which
 * one a gfn uses is its memory attribute, set with
 * KVM_SET_MEMORY_ATTRIBUTES.  A private gfn in a slot without a
 * guest_memfd has no backing: the vCPU exits with KVM_EXIT_MEMORY_FAULT
 * (kvm_main.c records it; the architecture reports it).
 *
 * The private ranges are an immutable sorted array published RCU-style and
 * replaced on every change, after which every vCPU drops its TLB.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "kvm_rcu.h"

#include "guest_memfd.h"
#include "kvm_file.h"

struct kvm_mem_attrs {
	int n;
	struct { gfn_t start, end; } r[];	/* private [start, end), sorted */
};

bool kvm_has_private_mem(struct kvm *kvm)
{
	return kvm && kvm->type == KVM_X86_SW_PROTECTED_VM;
}

long kvm_vm_ioctl_create_guest_memfd(struct kvm *kvm, void *argp)
{
	struct kvm_create_guest_memfd args;
	struct kvm_gmem *gmem;
	int fd;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	if (args.flags)
		return -EINVAL;
	if (!args.size || (args.size & (PAGE_SIZE - 1)) || args.size > (1ULL << 46))
		return -EINVAL;
	gmem = calloc(1, sizeof(*gmem));
	if (!gmem)
		return -ENOMEM;
	gmem->kvm = kvm;
	gmem->size = args.size;
	/* Mapped by us for the VM's lifetime: the VM owns the registration. */
	fd = kvm_file_create("kvm-gmem", args.size, O_CLOEXEC, KVM_FILE_GMEM,
			     gmem, NULL, &gmem->file);
	if (fd < 0) {
		free(gmem);
		return fd;
	}
	gmem->map = kvm_file_map(fd, args.size);
	if (!gmem->map) {
		kvm_file_unregister(gmem->file);
		close(fd);
		free(gmem);
		return -ENOMEM;
	}
	pthread_mutex_lock(&kvm->slots_lock);
	gmem->next = kvm->gmems;
	kvm->gmems = gmem;
	pthread_mutex_unlock(&kvm->slots_lock);
	return fd;
}

struct kvm_gmem *kvm_gmem_bind(struct kvm *kvm, int fd, uint64_t offset,
			       uint64_t npages, int slot_id, int as_id, int *err)
{
	struct kvm_file *f = kvm_file_get(fd);
	struct kvm_gmem *gmem = f && f->kind == KVM_FILE_GMEM ? f->obj : NULL;
	uint64_t start = offset >> PAGE_SHIFT, end = start + npages;

	if (f)
		kvm_file_put(f);	/* the VM keeps gmem alive */
	*err = -EINVAL;
	if (!gmem || gmem->kvm != kvm || (offset & (PAGE_SIZE - 1)) ||
	    offset + (npages << PAGE_SHIFT) > gmem->size ||
	    offset + (npages << PAGE_SHIFT) < offset)
		return NULL;
	for (int as = 0; as < KVM_ADDRESS_SPACE_NUM; as++) {
		struct kvm_memslots *slots = kvm->memslots[as];

		for (int i = 0; slots && i < slots->nr; i++) {
			const struct kvm_memory_slot *s = slots->slots[i];
			uint64_t s_start = s->gmem_offset >> PAGE_SHIFT;

			if (s->gmem != gmem || (s->id == slot_id && as == as_id))
				continue;
			if (start < s_start + s->npages && s_start < end) {
				*err = -EEXIST;
				return NULL;
			}
		}
	}
	*err = 0;
	return gmem;
}

bool kvm_mem_is_private(struct kvm *kvm, gfn_t gfn)
{
	struct kvm_mem_attrs *a = rcu_dereference(kvm->mem_attrs);
	int lo = 0, hi = a ? a->n - 1 : -1;

	while (lo <= hi) {
		int mid = (lo + hi) / 2;

		if (gfn < a->r[mid].start)
			hi = mid - 1;
		else if (gfn >= a->r[mid].end)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

/* The private ranges of old with [start, end) set to private or shared. */
static struct kvm_mem_attrs *attrs_update(const struct kvm_mem_attrs *old,
					  gfn_t start, gfn_t end, bool private)
{
	int n = old ? old->n : 0, j = 0;
	struct kvm_mem_attrs *a = malloc(sizeof(*a) + (size_t)(n + 2) * sizeof(a->r[0]));
	bool placed = false;

	if (!a)
		return NULL;
	for (int i = 0; i < n; i++) {
		gfn_t s = old->r[i].start, e = old->r[i].end;

		if (private && !placed && s > end) {
			a->r[j].start = start;
			a->r[j++].end = end;
			placed = true;
		}
		if (e < start || s > end) {		/* untouched */
			a->r[j].start = s;
			a->r[j++].end = e;
			continue;
		}
		if (private) {				/* merge into the new range */
			start = s < start ? s : start;
			end = e > end ? e : end;
			continue;
		}
		if (s < start) {			/* keep the part below */
			a->r[j].start = s;
			a->r[j++].end = start;
		}
		if (e > end) {				/* and the part above */
			a->r[j].start = end;
			a->r[j++].end = e;
		}
	}
	if (private && !placed) {
		a->r[j].start = start;
		a->r[j++].end = end;
	}
	a->n = j;
	return a;
}

long kvm_vm_ioctl_set_memory_attributes(struct kvm *kvm, void *argp)
{
	uint64_t supported = kvm_has_private_mem(kvm) ? KVM_MEMORY_ATTRIBUTE_PRIVATE : 0;
	struct kvm_memory_attributes attrs;
	struct kvm_mem_attrs *old, *new;

	if (copy_from_user(&attrs, argp, sizeof(attrs)))
		return -EFAULT;
	if (attrs.flags || (attrs.attributes & ~supported))
		return -EINVAL;
	if (!attrs.size || attrs.address + attrs.size < attrs.address)
		return -EINVAL;
	if ((attrs.address | attrs.size) & (PAGE_SIZE - 1))
		return -EINVAL;
	pthread_mutex_lock(&kvm->slots_lock);
	old = kvm->mem_attrs;
	new = attrs_update(old, attrs.address >> PAGE_SHIFT,
			   (attrs.address + attrs.size) >> PAGE_SHIFT,
			   attrs.attributes & KVM_MEMORY_ATTRIBUTE_PRIVATE);
	if (!new) {
		pthread_mutex_unlock(&kvm->slots_lock);
		return -ENOMEM;
	}
	rcu_assign_pointer(kvm->mem_attrs, new);
	/* vCPUs drop translations made with the old attributes */
	kvm_flush_remote_tlbs(kvm);
	pthread_mutex_unlock(&kvm->slots_lock);
	free(old);
	return 0;
}

void kvm_gmem_destroy_all(struct kvm *kvm)
{
	while (kvm->gmems) {
		struct kvm_gmem *gmem = kvm->gmems;

		kvm->gmems = gmem->next;
		munmap(gmem->map, gmem->size);
		kvm_file_unregister(gmem->file);
		free(gmem);
	}
	free(kvm->mem_attrs);
	kvm->mem_attrs = NULL;
}
