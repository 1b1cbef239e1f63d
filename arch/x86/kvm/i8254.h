/* SPDX-License-Identifier: MIT */
/*
 * i8254.h - the 8254 programmable interval timer (ports 0x40-0x43) with
 * the speaker/gate port 0x61; channel 0 drives IRQ 0.
 */
#ifndef SKVM_I8254_H
#define SKVM_I8254_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>

#include "hrtimer.h"
#include "iodev.h"
#include "irq.h"

#define KVM_PIT_FREQ		1193182		/* Hz */
#define KVM_PIT_BASE_PORT	0x40
#define KVM_PIT_SPEAKER_PORT	0x61

struct kvm_pit_ops {
	/* Drive IRQ 0 (a tick is 1 then 0).  Called without the PIT lock. */
	void (*irq)(void *opaque, int level);
};

struct kvm_pit {
	struct kvm_io_device dev, speaker_dev;
	const struct kvm_pit_ops *ops;
	void *opaque;

	pthread_mutex_t lock;		/* everything below */
	/*
	 * The KVM_GET/SET_PIT2 layout; count_load_time is CLOCK_MONOTONIC
	 * ns, count is the effective initial count (0 written is 0x10000).
	 */
	struct kvm_pit_state2 s;
	bool speaker_data;		/* port 0x61 bit 1 */

	/* Channel 0's IRQ 0 on the VM's timer thread. */
	struct kvm_hrtimer timer;
	uint64_t timer_expires, period;	/* period 0: one-shot */
	bool reinject;			/* KVM_REINJECT_CONTROL */
	unsigned int pending;		/* ticks not yet injected */
	bool inflight;			/* a tick awaits its ack */
	bool dying;
};

struct kvm_pit *kvm_pit_create(struct kvm_timer_base *timers,
			       const struct kvm_pit_ops *ops, void *opaque);
/* No tick after it returns (VM teardown); kvm_pit_destroy does it too. */
void kvm_pit_stop(struct kvm_pit *pit);
void kvm_pit_destroy(struct kvm_pit *pit);
void kvm_pit_reset(struct kvm_pit *pit);

/* Ports 0x40-0x43 and 0x61 on kvm's PIO bus (caller holds slots_lock). */
int kvm_pit_register(struct kvm_pit *pit, struct kvm *kvm);
void kvm_pit_unregister(struct kvm_pit *pit, struct kvm *kvm);

/* IRQ 0 was acknowledged (ack notifier): in reinject mode, the next tick. */
void kvm_pit_ack_irq(struct kvm_pit *pit);
void kvm_pit_set_reinject(struct kvm_pit *pit, bool reinject);

/* KVM_GET/SET_PIT2 (and the older KVM_GET/SET_PIT through them). */
void kvm_pit_get_state(struct kvm_pit *pit, struct kvm_pit_state2 *st);
void kvm_pit_set_state(struct kvm_pit *pit, const struct kvm_pit_state2 *st);

#endif /* SKVM_I8254_H */
