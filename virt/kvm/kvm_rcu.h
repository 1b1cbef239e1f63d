/* SPDX-License-Identifier: MIT */
/*
 * kvm_rcu.h - RCU as skvm uses it: liburcu's bulletproof flavour (any
 * thread may read without registering), with the pointer publication
 * spelled as C11 atomics so that ThreadSanitizer sees the ordering.
 *
 * liburcu publishes with a compiler barrier and a volatile store, and
 * waits for readers with futexes and membarrier(): correct on x86, but
 * invisible to ThreadSanitizer, which then reports every reader of a
 * memslot array, routing table or bus as racing with its allocation and
 * its free.  So, in every build, rcu_dereference() is a consume load,
 * rcu_assign_pointer() a release store and rcu_xchg_pointer() an acq_rel
 * exchange (the same instructions on x86, and no call into the library
 * for a load); in a ThreadSanitizer build, rcu_read_unlock() also releases, and
 * synchronize_rcu() acquires, one shared clock, which tells it that every
 * read-side section that ended before the grace period happens before
 * what the updater does next (typically free the old copy).
 */
#ifndef SKVM_KVM_RCU_H
#define SKVM_KVM_RCU_H

#include <urcu-bp.h>

#undef rcu_dereference
#define rcu_dereference(p) __atomic_load_n(&(p), __ATOMIC_CONSUME)
#undef rcu_assign_pointer
#define rcu_assign_pointer(p, v) __atomic_store_n(&(p), (v), __ATOMIC_RELEASE)
#undef rcu_xchg_pointer
#define rcu_xchg_pointer(pp, v) __atomic_exchange_n((pp), (v), __ATOMIC_ACQ_REL)

#ifdef __SANITIZE_THREAD__
#include <sanitizer/tsan_interface.h>

/* one clock for the whole library: a weak definition in every user */
__attribute__((weak)) char kvm_rcu_tsan_clock;

static inline void kvm_rcu_read_unlock_tsan(void)
{
	__tsan_release(&kvm_rcu_tsan_clock);
	urcu_bp_read_unlock();
}

static inline void kvm_synchronize_rcu_tsan(void)
{
	urcu_bp_synchronize_rcu();
	__tsan_acquire(&kvm_rcu_tsan_clock);
}

#undef rcu_read_unlock
#define rcu_read_unlock kvm_rcu_read_unlock_tsan
#undef synchronize_rcu
#define synchronize_rcu kvm_synchronize_rcu_tsan
#endif

#endif /* SKVM_KVM_RCU_H */
