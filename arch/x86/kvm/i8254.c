// SPDX-License-Identifier: MIT
/*
 * i8254.c - the 8254 PIT (Intel 82C54 datasheet), counting in host time.
 *
 * A channel does not tick: its counter and OUT pin are computed from the
 * time its count was loaded (count_load_time) at a 1.193182 MHz clock.
 * Channel 0's OUT edges become IRQ 0 ticks from a host timer; channel 2's
 * gate and OUT are bits 0 and 5 of port 0x61, which is how Linux calibrates
 * the TSC against the PIT.  Channel 1 (DRAM refresh) only counts.
 *
 * Simplification: in modes 0 and 4 a low gate does not suspend counting
 * (channels 0 and 1 have their gates tied high on the PC; only channel 2's
 * can go low).
 *
 * Locking: one mutex; IRQ 0 is driven after it is dropped, because the
 * interrupt controllers call back (ack notifier) into kvm_pit_ack_irq().
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "i8254.h"

/* read_state / write_state / rw_mode encodings of kvm_pit_channel_state. */
#define RW_LSB		1
#define RW_MSB		2
#define RW_WORD0	3
#define RW_WORD1	4

#define PORT_CONTROL	3
#define SPEAKER_GATE2	0x01
#define SPEAKER_DATA	0x02
#define SPEAKER_REFRESH	0x10
#define SPEAKER_OUT2	0x20

/* Periodic IRQ 0 faster than this is slowed down, as KVM does. */
#define PIT_MIN_PERIOD_NS 200000ULL

static uint64_t ticks_to_ns(uint64_t ticks)
{
	return ticks * 1000000000ULL / KVM_PIT_FREQ;
}

/* Input clocks since the count was loaded. */
static uint64_t elapsed(const struct kvm_pit_channel_state *c)
{
	uint64_t now = kvm_clock_ns(), t = (uint64_t)c->count_load_time;

	if (now <= t)
		return 0;
	return (uint64_t)((unsigned __int128)(now - t) * KVM_PIT_FREQ / 1000000000ULL);
}

/* The counting element now (datasheet, "Mode definitions"). */
static uint32_t counter_value(const struct kvm_pit_channel_state *c)
{
	uint64_t d = elapsed(c), n = c->count;
	uint64_t wrap = c->bcd ? 10000 : 0x10000;

	switch (c->mode) {
	case 2:
		return (uint32_t)(n - d % n);
	case 3:
		return (uint32_t)((n - (2 * d) % n) & ~1ULL);
	default:			/* 0, 1, 4, 5: wraps after zero */
		return (uint32_t)((n + wrap - d % wrap) % wrap);
	}
}

static bool out_value(const struct kvm_pit_channel_state *c)
{
	uint64_t d = elapsed(c), n = c->count;

	switch (c->mode) {
	case 0:
	case 1:
		return d >= n;
	case 2:
		return d % n != n - 1;
	case 3:
		return d % n < (n + 1) / 2;
	default:			/* 4, 5: one clock low at zero */
		return d != n;
	}
}

/* In modes 2 and 3 a low gate holds OUT high (channel 2 only here). */
static bool channel_out(const struct kvm_pit_channel_state *c)
{
	if (!c->gate && (c->mode == 2 || c->mode == 3))
		return true;
	return out_value(c);
}

/* Counts are binary or 4-digit BCD; the wire format follows bcd. */
static uint16_t to_bcd(uint32_t v)
{
	return (uint16_t)((v % 10) | ((v / 10 % 10) << 4) |
			  ((v / 100 % 10) << 8) | ((v / 1000 % 10) << 12));
}

static uint32_t from_bcd(uint32_t v)
{
	return (v & 0xf) + ((v >> 4) & 0xf) * 10 + ((v >> 8) & 0xf) * 100 +
	       ((v >> 12) & 0xf) * 1000;
}

/* --- Channel 0 -> IRQ 0 --------------------------------------------------- */

static void pit_arm(struct kvm_pit *pit)
{
	struct kvm_pit_channel_state *c = &pit->s.channels[0];
	uint64_t first;

	pit->timer_expires = 0;
	kvm_hrtimer_cancel(&pit->timer);
	/* A new count forgets the ticks owed and the one in flight, as KVM's. */
	pit->pending = 0;
	pit->inflight = false;
	switch (c->mode) {
	case 2:
	case 3:
		pit->period = ticks_to_ns(c->count);
		if (pit->period < PIT_MIN_PERIOD_NS)
			pit->period = PIT_MIN_PERIOD_NS;
		first = pit->period;
		break;
	case 0:
	case 1:
	case 4:
		pit->period = 0;
		first = ticks_to_ns(c->count);
		break;
	default:
		return;
	}
	pit->timer_expires = (uint64_t)c->count_load_time + first;
	kvm_hrtimer_start(&pit->timer, pit->timer_expires);
}

/* Under the lock: should a tick be injected now? */
static bool tick_due(struct kvm_pit *pit)
{
	if (pit->s.flags & KVM_PIT_FLAGS_HPET_LEGACY)
		return false;
	if (!pit->reinject)
		return true;
	if (pit->inflight) {
		pit->pending++;
		return false;
	}
	pit->inflight = true;
	return true;
}

static void inject_tick(struct kvm_pit *pit)
{
	if (pit->ops && pit->ops->irq) {
		pit->ops->irq(pit->opaque, 1);
		pit->ops->irq(pit->opaque, 0);
	}
}

static void pit_timer_fn(struct kvm_hrtimer *t, uint64_t expires)
{
	struct kvm_pit *pit = container_of(t, struct kvm_pit, timer);
	uint64_t now, next;
	bool tick;

	pthread_mutex_lock(&pit->lock);
	if (pit->dying || pit->timer_expires != expires) {
		pthread_mutex_unlock(&pit->lock);
		return;
	}
	tick = tick_due(pit);
	if (pit->period) {
		now = kvm_clock_ns();
		next = expires + pit->period;
		/*
		 * Late (a loaded host): the periods that went by are settled
		 * at once rather than replayed one callback each.  With
		 * reinjection every one of them is owed to the guest, so
		 * they join the pending count; without it they coalesce
		 * into the tick just raised.  The phase stays that of the
		 * count load either way.
		 */
		if (next <= now) {
			uint64_t missed = (now - next) / pit->period + 1;

			if (pit->reinject &&
			    !(pit->s.flags & KVM_PIT_FLAGS_HPET_LEGACY))
				pit->pending = missed < UINT_MAX - pit->pending ?
					pit->pending + (unsigned int)missed :
					UINT_MAX;
			next += missed * pit->period;
		}
		pit->timer_expires = next;
		kvm_hrtimer_start(&pit->timer, next);
	} else {
		pit->timer_expires = 0;
	}
	pthread_mutex_unlock(&pit->lock);
	if (tick)
		inject_tick(pit);
}

void kvm_pit_ack_irq(struct kvm_pit *pit)
{
	bool tick = false;

	pthread_mutex_lock(&pit->lock);
	if (pit->reinject) {
		pit->inflight = false;
		if (pit->pending) {
			pit->pending--;
			pit->inflight = true;
			tick = true;
		}
	}
	pthread_mutex_unlock(&pit->lock);
	if (tick)
		inject_tick(pit);
}

void kvm_pit_set_reinject(struct kvm_pit *pit, bool reinject)
{
	pthread_mutex_lock(&pit->lock);
	pit->reinject = reinject;
	pit->pending = 0;
	pit->inflight = false;
	pthread_mutex_unlock(&pit->lock);
}

/* --- Ports ------------------------------------------------------------------- */

static void load_count(struct kvm_pit *pit, int ch, uint32_t val)
{
	struct kvm_pit_channel_state *c = &pit->s.channels[ch];

	if (c->bcd)
		val = from_bcd(val);
	if (!val)
		val = c->bcd ? 10000 : 0x10000;
	c->count = val;
	c->count_load_time = (int64_t)kvm_clock_ns();
	if (ch == 0)
		pit_arm(pit);
}

static void latch_count(struct kvm_pit_channel_state *c)
{
	uint32_t v;

	if (c->count_latched)
		return;
	v = counter_value(c);
	c->latched_count = c->bcd ? to_bcd(v) : (uint16_t)v;
	c->count_latched = c->rw_mode;
}

static void latch_status(struct kvm_pit_channel_state *c)
{
	if (c->status_latched)
		return;
	/* OUT, null count (always 0: counts load at once), RW, mode, BCD */
	c->status = (uint8_t)(channel_out(c) << 7 | c->rw_mode << 4 |
			      c->mode << 1 | c->bcd);
	c->status_latched = 1;
}

static void write_control(struct kvm_pit *pit, uint8_t val)
{
	int ch = val >> 6;
	struct kvm_pit_channel_state *c;
	uint8_t access = (val >> 4) & 3;

	if (ch == 3) {			/* read-back command */
		for (int i = 0; i < 3; i++) {
			if (!(val & (2 << i)))
				continue;
			if (!(val & 0x20))
				latch_count(&pit->s.channels[i]);
			if (!(val & 0x10))
				latch_status(&pit->s.channels[i]);
		}
		return;
	}
	c = &pit->s.channels[ch];
	if (!access) {			/* counter latch command */
		latch_count(c);
		return;
	}
	c->rw_mode = access;
	c->read_state = access;
	c->write_state = access;
	c->mode = (val >> 1) & 7;
	if (c->mode > 5)
		c->mode -= 4;		/* 6 and 7 are modes 2 and 3 */
	c->bcd = val & 1;
}

static void write_counter(struct kvm_pit *pit, int ch, uint8_t val)
{
	struct kvm_pit_channel_state *c = &pit->s.channels[ch];

	switch (c->write_state) {
	case RW_LSB:
		load_count(pit, ch, val);
		break;
	case RW_MSB:
		load_count(pit, ch, (uint32_t)val << 8);
		break;
	case RW_WORD0:
		c->write_latch = val;
		c->write_state = RW_WORD1;
		break;
	default:
		load_count(pit, ch, c->write_latch | (uint32_t)val << 8);
		c->write_state = RW_WORD0;
		break;
	}
}

static uint8_t read_counter(struct kvm_pit *pit, int ch)
{
	struct kvm_pit_channel_state *c = &pit->s.channels[ch];
	uint32_t v;
	uint8_t r;

	if (c->status_latched) {
		c->status_latched = 0;
		return c->status;
	}
	if (c->count_latched) {
		switch (c->count_latched) {
		case RW_MSB:
			r = c->latched_count >> 8;
			c->count_latched = 0;
			break;
		case RW_WORD0:
			r = c->latched_count & 0xff;
			c->count_latched = RW_MSB;
			break;
		default:
			r = c->latched_count & 0xff;
			c->count_latched = 0;
			break;
		}
		return r;
	}
	v = counter_value(c);
	if (c->bcd)
		v = to_bcd(v);
	switch (c->read_state) {
	case RW_MSB:
		return (v >> 8) & 0xff;
	case RW_WORD0:
		c->read_state = RW_WORD1;
		return v & 0xff;
	case RW_WORD1:
		c->read_state = RW_WORD0;
		return (v >> 8) & 0xff;
	default:
		return v & 0xff;
	}
}

static int pit_read(struct kvm_vcpu *vcpu, struct kvm_io_device *dev,
		    gpa_t addr, int len, void *val)
{
	struct kvm_pit *pit = container_of(dev, struct kvm_pit, dev);
	int port = (int)(addr - KVM_PIT_BASE_PORT);
	uint8_t v = 0xff;

	if (len != 1)
		return memset(val, 0xff, (size_t)len), 0;
	pthread_mutex_lock(&pit->lock);
	if (port != PORT_CONTROL)	/* the control word is write-only */
		v = read_counter(pit, port);
	pthread_mutex_unlock(&pit->lock);
	*(uint8_t *)val = v;
	return 0;
}

static int pit_write(struct kvm_vcpu *vcpu, struct kvm_io_device *dev,
		     gpa_t addr, int len, const void *val)
{
	struct kvm_pit *pit = container_of(dev, struct kvm_pit, dev);
	int port = (int)(addr - KVM_PIT_BASE_PORT);
	uint8_t v = *(const uint8_t *)val;

	if (len != 1)
		return 0;
	pthread_mutex_lock(&pit->lock);
	if (port == PORT_CONTROL)
		write_control(pit, v);
	else
		write_counter(pit, port, v);
	pthread_mutex_unlock(&pit->lock);
	return 0;
}

/*
 * Port 0x61 (PC/AT system control port B): gate 2, speaker data, the
 * refresh toggle (every 15 us or so; KVM flips it every 16.4 us) and OUT2.
 */
static int speaker_read(struct kvm_vcpu *vcpu, struct kvm_io_device *dev,
			gpa_t addr, int len, void *val)
{
	struct kvm_pit *pit = container_of(dev, struct kvm_pit, speaker_dev);
	struct kvm_pit_channel_state *c = &pit->s.channels[2];
	uint8_t v;

	if (len != 1)
		return memset(val, 0xff, (size_t)len), 0;
	pthread_mutex_lock(&pit->lock);
	v = (c->gate ? SPEAKER_GATE2 : 0) | (pit->speaker_data ? SPEAKER_DATA : 0) |
	    (((kvm_clock_ns() >> 14) & 1) ? SPEAKER_REFRESH : 0) |
	    (channel_out(c) ? SPEAKER_OUT2 : 0);
	pthread_mutex_unlock(&pit->lock);
	*(uint8_t *)val = v;
	return 0;
}

static int speaker_write(struct kvm_vcpu *vcpu, struct kvm_io_device *dev,
			 gpa_t addr, int len, const void *val)
{
	struct kvm_pit *pit = container_of(dev, struct kvm_pit, speaker_dev);
	struct kvm_pit_channel_state *c = &pit->s.channels[2];
	uint8_t v = *(const uint8_t *)val;
	bool gate = v & SPEAKER_GATE2;

	if (len != 1)
		return 0;
	pthread_mutex_lock(&pit->lock);
	pit->speaker_data = v & SPEAKER_DATA;
	/* A rising gate (re)starts modes 1, 2, 3 and 5. */
	if (gate && !c->gate && c->mode != 0 && c->mode != 4)
		c->count_load_time = (int64_t)kvm_clock_ns();
	c->gate = gate;
	pthread_mutex_unlock(&pit->lock);
	return 0;
}

static const struct kvm_io_device_ops pit_dev_ops = {
	.read = pit_read, .write = pit_write,
};
static const struct kvm_io_device_ops speaker_dev_ops = {
	.read = speaker_read, .write = speaker_write,
};

/* --- Object ---------------------------------------------------------------------- */

void kvm_pit_reset(struct kvm_pit *pit)
{
	pthread_mutex_lock(&pit->lock);
	memset(&pit->s, 0, sizeof(pit->s));
	for (int i = 0; i < 3; i++) {
		struct kvm_pit_channel_state *c = &pit->s.channels[i];

		c->gate = i != 2;
		c->count = 0x10000;
		c->count_load_time = (int64_t)kvm_clock_ns();
	}
	pit->speaker_data = false;
	pit->pending = 0;
	pit->inflight = false;
	pit->timer_expires = 0;
	kvm_hrtimer_cancel(&pit->timer);
	pthread_mutex_unlock(&pit->lock);
}

struct kvm_pit *kvm_pit_create(struct kvm_timer_base *timers,
			       const struct kvm_pit_ops *ops, void *opaque)
{
	struct kvm_pit *pit = calloc(1, sizeof(*pit));

	if (!pit)
		return NULL;
	pthread_mutex_init(&pit->lock, NULL);
	pit->dev.ops = &pit_dev_ops;
	pit->speaker_dev.ops = &speaker_dev_ops;
	pit->ops = ops;
	pit->opaque = opaque;
	pit->reinject = true;		/* KVM's default */
	kvm_hrtimer_init(&pit->timer, timers, pit_timer_fn);
	kvm_pit_reset(pit);
	return pit;
}

void kvm_pit_stop(struct kvm_pit *pit)
{
	if (!pit)
		return;
	pthread_mutex_lock(&pit->lock);
	pit->dying = true;
	pthread_mutex_unlock(&pit->lock);
	kvm_hrtimer_cancel_sync(&pit->timer);
}

void kvm_pit_destroy(struct kvm_pit *pit)
{
	if (!pit)
		return;
	kvm_pit_stop(pit);
	pthread_mutex_destroy(&pit->lock);
	free(pit);
}

int kvm_pit_register(struct kvm_pit *pit, struct kvm *kvm)
{
	int r = kvm_io_bus_register_dev(kvm, KVM_PIO_BUS, KVM_PIT_BASE_PORT, 4,
					&pit->dev);

	if (r)
		return r;
	r = kvm_io_bus_register_dev(kvm, KVM_PIO_BUS, KVM_PIT_SPEAKER_PORT, 1,
				    &pit->speaker_dev);
	if (r)
		kvm_io_bus_unregister_dev(kvm, KVM_PIO_BUS, &pit->dev);
	return r;
}

void kvm_pit_unregister(struct kvm_pit *pit, struct kvm *kvm)
{
	kvm_io_bus_unregister_dev(kvm, KVM_PIO_BUS, &pit->dev);
	kvm_io_bus_unregister_dev(kvm, KVM_PIO_BUS, &pit->speaker_dev);
}

void kvm_pit_get_state(struct kvm_pit *pit, struct kvm_pit_state2 *st)
{
	pthread_mutex_lock(&pit->lock);
	*st = pit->s;
	st->flags &= KVM_PIT_FLAGS_HPET_LEGACY;
	if (pit->speaker_data)
		st->flags |= KVM_PIT_FLAGS_SPEAKER_DATA_ON;
	pthread_mutex_unlock(&pit->lock);
}

/*
 * As KVM: every channel's count is reloaded now (count_load_time from
 * user space is not used), so a restored PIT starts a fresh period.
 */
void kvm_pit_set_state(struct kvm_pit *pit, const struct kvm_pit_state2 *st)
{
	pthread_mutex_lock(&pit->lock);
	pit->s = *st;
	pit->s.flags = st->flags & KVM_PIT_FLAGS_HPET_LEGACY;
	pit->speaker_data = st->flags & KVM_PIT_FLAGS_SPEAKER_DATA_ON;
	for (int i = 0; i < 3; i++) {
		struct kvm_pit_channel_state *c = &pit->s.channels[i];
		uint32_t n = c->count;
		uint8_t bcd = c->bcd;

		if (c->mode > 5)
			c->mode = 0;
		c->bcd = 0;		/* count is already binary */
		load_count(pit, i, n > 0x10000 ? 0x10000 : n);
		c->bcd = bcd;
	}
	pthread_mutex_unlock(&pit->lock);
}
