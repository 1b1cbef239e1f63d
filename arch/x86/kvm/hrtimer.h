/* SPDX-License-Identifier: MIT */
/*
 * hrtimer.h - host timers for the emulated platform (LAPIC timer, PIT).
 *
 * The kernel arms an hrtimer per device; we run one timer thread per VM
 * (struct kvm_timer_base) that sleeps on CLOCK_MONOTONIC until the earliest
 * armed timer expires and then calls its function on the timer thread.
 *
 * Locking: the base has its own mutex, always taken after (never while
 * holding across a callback) a device's lock.  A callback runs with no
 * base lock held, so it may take its device's lock and re-arm its timer.
 * kvm_hrtimer_cancel() does not wait for a callback already running:
 * devices check, under their own lock, that the expiry they are called for
 * is still the one they armed (kvm_hrtimer_expired_for()).
 * kvm_hrtimer_cancel_sync() waits, for teardown; never call it with a lock
 * the callback takes, nor from the callback itself.
 */
#ifndef SKVM_HRTIMER_H
#define SKVM_HRTIMER_H

#include <stdbool.h>
#include <stdint.h>

struct kvm_timer_base;
struct kvm_hrtimer;

typedef void (*kvm_hrtimer_fn)(struct kvm_hrtimer *t, uint64_t expires);

struct kvm_hrtimer {
	struct kvm_timer_base *base;
	kvm_hrtimer_fn fn;
	/* under base->lock */
	struct kvm_hrtimer *next;	/* queue, sorted by expires */
	uint64_t expires;		/* CLOCK_MONOTONIC ns */
	bool queued;
};

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t kvm_clock_ns(void);

/* Start the timer thread: a base, or NULL (errno set). */
struct kvm_timer_base *kvm_timer_base_create(void);
/* Stop the thread.  Every timer must be cancelled already. */
void kvm_timer_base_destroy(struct kvm_timer_base *base);

void kvm_hrtimer_init(struct kvm_hrtimer *t, struct kvm_timer_base *base,
		      kvm_hrtimer_fn fn);
/* (Re)arm at an absolute CLOCK_MONOTONIC time; a past time fires now. */
void kvm_hrtimer_start(struct kvm_hrtimer *t, uint64_t expires);
void kvm_hrtimer_cancel(struct kvm_hrtimer *t);
/* Cancel and wait until no callback of t runs any more. */
void kvm_hrtimer_cancel_sync(struct kvm_hrtimer *t);
bool kvm_hrtimer_active(struct kvm_hrtimer *t);

#endif /* SKVM_HRTIMER_H */
