// SPDX-License-Identifier: MIT
/*
 * hrtimer.c - the per-VM timer thread behind the LAPIC timer and the PIT.
 *
 * A handful of timers per VM (one per LAPIC, one for the PIT), so the
 * queue is a sorted list.  The thread waits on a condition variable bound
 * to CLOCK_MONOTONIC with the earliest expiry as its deadline; arming a
 * timer earlier than the head wakes it.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>

#include "hrtimer.h"

struct kvm_timer_base {
	pthread_mutex_t lock;
	pthread_cond_t wake;		/* queue head changed, or stop */
	pthread_cond_t done;		/* a callback returned */
	struct kvm_hrtimer *head;
	struct kvm_hrtimer *running;	/* whose callback runs now */
	bool stop;
	pthread_t thread;
};

uint64_t kvm_clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void dequeue(struct kvm_timer_base *b, struct kvm_hrtimer *t)
{
	struct kvm_hrtimer **pp;

	if (!t->queued)
		return;
	for (pp = &b->head; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	t->queued = false;
	t->next = NULL;
}

static void enqueue(struct kvm_timer_base *b, struct kvm_hrtimer *t)
{
	struct kvm_hrtimer **pp = &b->head;

	while (*pp && (*pp)->expires <= t->expires)
		pp = &(*pp)->next;
	t->next = *pp;
	*pp = t;
	t->queued = true;
}

static void run_expired(struct kvm_timer_base *b, struct kvm_hrtimer *t)
{
	uint64_t expires = t->expires;

	dequeue(b, t);
	b->running = t;
	pthread_mutex_unlock(&b->lock);
	t->fn(t, expires);
	pthread_mutex_lock(&b->lock);
	b->running = NULL;
	pthread_cond_broadcast(&b->done);
}

static void *timer_thread(void *arg)
{
	struct kvm_timer_base *b = arg;

	pthread_mutex_lock(&b->lock);
	while (!b->stop) {
		struct kvm_hrtimer *t = b->head;
		struct timespec ts;

		if (!t) {
			pthread_cond_wait(&b->wake, &b->lock);
			continue;
		}
		if (t->expires <= kvm_clock_ns()) {
			run_expired(b, t);
			continue;
		}
		ts.tv_sec = (time_t)(t->expires / 1000000000ULL);
		ts.tv_nsec = (long)(t->expires % 1000000000ULL);
		pthread_cond_timedwait(&b->wake, &b->lock, &ts);
	}
	pthread_mutex_unlock(&b->lock);
	return NULL;
}

struct kvm_timer_base *kvm_timer_base_create(void)
{
	struct kvm_timer_base *b = calloc(1, sizeof(*b));
	pthread_condattr_t attr;
	sigset_t all, old;
	int r;

	if (!b)
		return NULL;
	pthread_mutex_init(&b->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&b->wake, &attr);
	pthread_cond_init(&b->done, NULL);
	pthread_condattr_destroy(&attr);
	/* The client's signals are for its own threads, never for ours. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&b->thread, NULL, timer_thread, b);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r) {
		free(b);
		errno = r;
		return NULL;
	}
	pthread_setname_np(b->thread, "skvm-timer");
	return b;
}

void kvm_timer_base_destroy(struct kvm_timer_base *b)
{
	if (!b)
		return;
	pthread_mutex_lock(&b->lock);
	b->stop = true;
	pthread_cond_signal(&b->wake);
	pthread_mutex_unlock(&b->lock);
	pthread_join(b->thread, NULL);
	pthread_cond_destroy(&b->wake);
	pthread_cond_destroy(&b->done);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

void kvm_hrtimer_init(struct kvm_hrtimer *t, struct kvm_timer_base *base,
		      kvm_hrtimer_fn fn)
{
	t->base = base;
	t->fn = fn;
	t->next = NULL;
	t->expires = 0;
	t->queued = false;
}

void kvm_hrtimer_start(struct kvm_hrtimer *t, uint64_t expires)
{
	struct kvm_timer_base *b = t->base;

	pthread_mutex_lock(&b->lock);
	dequeue(b, t);
	t->expires = expires;
	enqueue(b, t);
	if (b->head == t)
		pthread_cond_signal(&b->wake);
	pthread_mutex_unlock(&b->lock);
}

void kvm_hrtimer_cancel(struct kvm_hrtimer *t)
{
	struct kvm_timer_base *b = t->base;

	if (!b)
		return;
	pthread_mutex_lock(&b->lock);
	dequeue(b, t);
	pthread_mutex_unlock(&b->lock);
}

void kvm_hrtimer_cancel_sync(struct kvm_hrtimer *t)
{
	struct kvm_timer_base *b = t->base;

	if (!b)
		return;
	pthread_mutex_lock(&b->lock);
	dequeue(b, t);
	while (b->running == t)
		pthread_cond_wait(&b->done, &b->lock);
	dequeue(b, t);		/* the callback may have re-armed it */
	pthread_mutex_unlock(&b->lock);
}

bool kvm_hrtimer_active(struct kvm_hrtimer *t)
{
	struct kvm_timer_base *b = t->base;
	bool r;

	if (!b)
		return false;
	pthread_mutex_lock(&b->lock);
	r = t->queued;
	pthread_mutex_unlock(&b->lock);
	return r;
}
