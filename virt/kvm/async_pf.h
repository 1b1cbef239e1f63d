/* SPDX-License-Identifier: MIT */
/*
 * async_pf.h - asynchronous page faults, the generic part (the kernel's
 * virt/kvm/async_pf.c): guest memory whose host page is not there yet
 * (a userfaultfd-registered range whose page the VMM has not supplied)
 * is faulted in by a worker thread while the vCPU goes on running the
 * guest; the architecture tells the guest "page not present" when the
 * work starts and "page ready" when it is done.
 *
 * Each vCPU owns a queue of its outstanding work (at most
 * ASYNC_PF_PER_VCPU items) and a completion list that workers append to.
 * Only the vCPU's thread (KVM_RUN, or an ioctl holding vcpu->mutex)
 * starts work, takes completions and clears the queue.
 */
#ifndef SKVM_ASYNC_PF_H
#define SKVM_ASYNC_PF_H

#include <stdbool.h>

#include "kvm_host.h"

#define ASYNC_PF_PER_VCPU 64

struct kvm_async_pf {
	struct kvm_async_pf *queue_next;	/* the vCPU's outstanding work */
	struct kvm_async_pf *done_next;		/* its completion list */
	struct kvm_vcpu *vcpu;		/* NULL once the vCPU gave it up */
	gpa_t cr2_or_gpa;
	hva_t addr;			/* the host page being faulted in */
	struct kvm_arch_async_pf arch;
	bool wakeup_all;		/* "every waiter may go on", no page */
	bool notpresent_injected;	/* the guest was told "not present" */
	bool done;			/* the worker is finished */
};

/*
 * Start faulting in the page at hva for the vCPU: the architecture is
 * told at once (kvm_arch_async_page_not_present) and a worker thread
 * touches the page.  False when nothing was started (queue full, no
 * thread); the caller then accesses the page synchronously.
 */
bool kvm_setup_async_pf(struct kvm_vcpu *vcpu, gpa_t cr2_or_gpa, hva_t hva,
			const struct kvm_arch_async_pf *arch);
/* Queue a "wake every waiter" notification (the guest enabled async PF). */
int kvm_async_pf_wakeup_all(struct kvm_vcpu *vcpu);
/* Hand the completed work to the architecture, as far as it can take it. */
void kvm_check_async_pf_completion(struct kvm_vcpu *vcpu);
/*
 * Forget every outstanding and completed work item (vCPU reset, async PF
 * disabled, vCPU destruction).  Workers still blocked on their page finish
 * on their own and free their item.
 */
void kvm_clear_async_pf_completion_queue(struct kvm_vcpu *vcpu);

/*
 * Would an access to the host page at hva wait for user space to supply
 * it (a missing page in a userfaultfd-registered range)?  A system call
 * at most; meant for the engine's slow path.  The vCPU's thread only
 * (it keeps a small cache of pages seen resident).
 */
bool kvm_async_pf_page_would_block(struct kvm_vcpu *vcpu, hva_t hva);

/* Some work completed and waits for kvm_check_async_pf_completion. */
static inline bool kvm_async_pf_has_done(struct kvm_vcpu *vcpu)
{
	return atomic_load(&vcpu->async_pf.has_done);
}

/* --- What the architecture provides ------------------------------------ */

/* Work started: tell the guest, or halt.  True when "not present" was injected. */
bool kvm_arch_async_page_not_present(struct kvm_vcpu *vcpu,
				     struct kvm_async_pf *work);
/* Work completed and taken off the queue: tell the guest "page ready". */
void kvm_arch_async_page_present(struct kvm_vcpu *vcpu,
				 struct kvm_async_pf *work);
/* May the next completion be handed over now? */
bool kvm_arch_can_dequeue_async_page_present(struct kvm_vcpu *vcpu);
/*
 * A worker thread queued the vCPU's first completion: make the vCPU look
 * (kick, wake from halt).  Called with the async PF lock held, which keeps
 * the vCPU alive; it must not take vcpu->mutex.
 */
void kvm_arch_async_page_present_queued(struct kvm_vcpu *vcpu);

#endif /* SKVM_ASYNC_PF_H */
