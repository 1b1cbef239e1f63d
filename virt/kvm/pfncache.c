// SPDX-License-Identifier: MIT
/*
 * pfncache.c - see pfncache.h.
 *
 * The kernel's cache pins a pfn and is invalidated by MMU notifiers; skvm
 * reaches guest memory through the VMM's own mapping, so the cache keeps
 * the host virtual address and is invalidated by the memslot generation
 * alone: a slot that moves, changes flags or goes away bumps it, and the
 * grace period that follows keeps a checked pointer valid for the reader
 * that checked it.
 */
#include <errno.h>
#include "kvm_rcu.h"

#include "pfncache.h"

void kvm_gpc_init(struct gfn_to_pfn_cache *gpc, struct kvm *kvm, int as_id)
{
	gpc->kvm = kvm;
	gpc->as_id = as_id;
	gpc->gpa = 0;
	gpc->len = 0;
	atomic_init(&gpc->generation, 0);
	atomic_init(&gpc->khva, NULL);
	atomic_init(&gpc->valid, false);
	gpc->active = false;
	pthread_mutex_init(&gpc->refresh_lock, NULL);
}

int kvm_gpc_activate(struct gfn_to_pfn_cache *gpc, gpa_t gpa, size_t len)
{
	if (!len || (gpa & (PAGE_SIZE - 1)) + len > PAGE_SIZE)
		return -EINVAL;
	pthread_mutex_lock(&gpc->refresh_lock);
	gpc->gpa = gpa;
	gpc->len = len;
	gpc->active = true;
	atomic_store(&gpc->valid, false);
	pthread_mutex_unlock(&gpc->refresh_lock);
	return kvm_gpc_refresh(gpc);
}

void kvm_gpc_deactivate(struct gfn_to_pfn_cache *gpc)
{
	pthread_mutex_lock(&gpc->refresh_lock);
	gpc->active = false;
	atomic_store(&gpc->valid, false);
	atomic_store(&gpc->khva, NULL);
	pthread_mutex_unlock(&gpc->refresh_lock);
}

bool kvm_gpc_check(struct gfn_to_pfn_cache *gpc)
{
	return atomic_load(&gpc->valid) &&
	       atomic_load(&gpc->generation) ==
	       atomic_load(&gpc->kvm->memslots_generation);
}

int kvm_gpc_refresh(struct gfn_to_pfn_cache *gpc)
{
	struct kvm_memory_slot *slot;
	uint64_t gen;
	uint8_t *hva;
	int r = 0;

	pthread_mutex_lock(&gpc->refresh_lock);
	if (!gpc->active) {
		r = -EINVAL;
		goto out;
	}
	/*
	 * Read the generation before the slots: if an update lands in
	 * between, the cached generation is already stale and the next
	 * check fails, never the other way round.
	 */
	rcu_read_lock();
	gen = atomic_load(&gpc->kvm->memslots_generation);
	slot = kvm_memslots_find(kvm_memslots(gpc->kvm, gpc->as_id),
				 gpc->gpa >> PAGE_SHIFT);
	/* the cache is written through: a read-only slot will not do */
	hva = slot && !(slot->flags & KVM_MEM_READONLY) ?
	      kvm_gfn_to_hva(gpc->kvm, gpc->as_id, gpc->gpa >> PAGE_SHIFT, false) :
	      NULL;
	rcu_read_unlock();
	if (!hva) {
		atomic_store(&gpc->valid, false);
		atomic_store(&gpc->khva, NULL);
		r = -EFAULT;
		goto out;
	}
	atomic_store(&gpc->khva, hva + (gpc->gpa & (PAGE_SIZE - 1)));
	atomic_store(&gpc->generation, gen);
	atomic_store(&gpc->valid, true);
out:
	pthread_mutex_unlock(&gpc->refresh_lock);
	return r;
}

void kvm_gpc_mark_dirty(struct gfn_to_pfn_cache *gpc)
{
	kvm_mark_page_dirty(gpc->kvm, gpc->as_id, gpc->gpa >> PAGE_SHIFT);
}
