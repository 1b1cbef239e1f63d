/* SPDX-License-Identifier: MIT */
/*
 * pfncache.h - a cached translation of one guest-physical range to the
 * host address that backs it, for pages skvm itself writes on the guest's
 * behalf (kvmclock, steal time, async page-fault data): the kernel's
 * gfn_to_pfn_cache.
 *
 * Use:
 *	rcu_read_lock();
 *	while (!kvm_gpc_check(gpc)) {
 *		rcu_read_unlock();
 *		if (kvm_gpc_refresh(gpc))
 *			return;		// no memory there (any more)
 *		rcu_read_lock();
 *	}
 *	write to gpc->khva ...;
 *	kvm_gpc_mark_dirty(gpc);
 *	rcu_read_unlock();
 *
 * The translation is valid for the memslot generation it was made in; a
 * memslot update bumps the generation and waits for RCU readers, so a
 * pointer checked inside a read-side section stays good until its end.
 */
#ifndef SKVM_PFNCACHE_H
#define SKVM_PFNCACHE_H

#include <pthread.h>
#include <stdbool.h>

#include "kvm_host.h"

struct gfn_to_pfn_cache {
	struct kvm *kvm;
	int as_id;
	gpa_t gpa;
	size_t len;
	pthread_mutex_t refresh_lock;
	/* Published together; read under rcu_read_lock(). */
	_Atomic uint64_t generation;	/* memslot generation of khva */
	_Atomic(void *) khva;		/* host address of gpa, or NULL */
	_Atomic bool valid;
	bool active;
};

void kvm_gpc_init(struct gfn_to_pfn_cache *gpc, struct kvm *kvm, int as_id);
/* Cache [gpa, gpa+len), which must not cross a page: 0 or -EINVAL/-EFAULT. */
int kvm_gpc_activate(struct gfn_to_pfn_cache *gpc, gpa_t gpa, size_t len);
void kvm_gpc_deactivate(struct gfn_to_pfn_cache *gpc);
/* Caller holds rcu_read_lock(): may gpc->khva be used now? */
bool kvm_gpc_check(struct gfn_to_pfn_cache *gpc);
/* Translate again for the current memslots: 0, or -EFAULT (no memory). */
int kvm_gpc_refresh(struct gfn_to_pfn_cache *gpc);
/* Log the cached page dirty (after writing through khva). */
void kvm_gpc_mark_dirty(struct gfn_to_pfn_cache *gpc);

#endif /* SKVM_PFNCACHE_H */
