// SPDX-License-Identifier: MIT
/*
 * lapic.c - the local APIC (Intel SDM Vol. 3, chapter 11) and the APIC bus.
 *
 * Registers live in a 1 KiB page in the xAPIC layout (32-bit registers at
 * 16-byte strides), which is also what KVM_GET/SET_LAPIC exchange; x2APIC
 * MSR 0x800 + n is the register at offset n * 16.  In x2APIC mode the ID
 * register holds the full 32-bit id and ICR2 the 32-bit destination.
 *
 * Interrupt acceptance (SDM 11.8.3): a fixed or lowest-priority message
 * sets IRR (and TMR for level-triggered ones); the vCPU takes the highest
 * IRR vector whose priority class is above the PPR's, moving it to ISR;
 * EOI clears the highest ISR bit and is broadcast to the IOAPIC, which
 * clears Remote IRR for level-triggered (TMR) vectors and runs the ack
 * notifiers of edge pins too (the PIT's reinjection counts on them).  NMI, INIT and SIPI become events the vCPU's run loop
 * consumes.
 *
 * The timer counts at 1 GHz divided by TDCR (KVM's 1 ns APIC bus cycle);
 * one-shot and periodic expiries and the TSC deadline are host timers on
 * the VM's timer thread (hrtimer.c).
 *
 * Locking: each LAPIC has a mutex for its registers.  Messages are sent
 * with no LAPIC lock held (the bus takes each target's lock in turn), and
 * EOI broadcasts and kicks go out after the lock is dropped, so the order
 * is IOAPIC lock -> bus rwlock -> one LAPIC lock -> timer base lock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lapic.h"

#define APIC_BASE_BSP	(1ULL << 8)
#define APIC_BASE_EXTD	(1ULL << 10)
#define APIC_BASE_EN	(1ULL << 11)
#define APIC_BASE_ADDR_MASK 0xfffffffffffff000ULL
#define APIC_DEFAULT_BASE 0xfee00000ULL

#define APIC_DFR_FLAT	0xfu
#define APIC_BROADCAST	0xffu
#define X2APIC_BROADCAST 0xffffffffu

/* Writable bits of the LVT entries (SDM Figure 11-8). */
#define LVT_MASK_TIMER	0x000700ffu
#define LVT_MASK_DM	0x000107ffu	/* thermal, perf */
#define LVT_MASK_LINT	0x0001a7ffu	/* LINT0/1: + polarity, trigger */
#define LVT_MASK_ERR	0x000100ffu

static uint32_t get_reg(const struct kvm_lapic *a, unsigned int off)
{
	uint32_t v;

	memcpy(&v, a->regs + off, 4);
	return v;
}

static void set_reg(struct kvm_lapic *a, unsigned int off, uint32_t v)
{
	memcpy(a->regs + off, &v, 4);
}

/* IRR, ISR and TMR: eight 32-bit words at 16-byte strides. */
static bool vec_test(const struct kvm_lapic *a, unsigned int base, int v)
{
	return get_reg(a, base + (unsigned int)(v >> 5) * 0x10) & (1u << (v & 31));
}

static void vec_set(struct kvm_lapic *a, unsigned int base, int v, bool on)
{
	unsigned int off = base + (unsigned int)(v >> 5) * 0x10;
	uint32_t w = get_reg(a, off);

	set_reg(a, off, on ? w | (1u << (v & 31)) : w & ~(1u << (v & 31)));
}

static int vec_highest(const struct kvm_lapic *a, unsigned int base)
{
	for (int i = 7; i >= 0; i--) {
		uint32_t w = get_reg(a, base + (unsigned int)i * 0x10);

		if (w)
			return i * 32 + 31 - __builtin_clz(w);
	}
	return -1;
}

static bool x2apic_mode(const struct kvm_lapic *a)
{
	return a->base & APIC_BASE_EXTD;
}

static bool hw_enabled(const struct kvm_lapic *a)
{
	return a->base & APIC_BASE_EN;
}

static bool sw_enabled(const struct kvm_lapic *a)
{
	return get_reg(a, APIC_SPIV) & APIC_SPIV_APIC_ENABLED;
}

static bool apic_enabled(const struct kvm_lapic *a)
{
	return hw_enabled(a) && sw_enabled(a);
}

/* The id messages are matched against: 8 bits in xAPIC, 32 in x2APIC. */
static uint32_t apic_id(const struct kvm_lapic *a)
{
	return x2apic_mode(a) ? get_reg(a, APIC_ID) : get_reg(a, APIC_ID) >> 24;
}

/* x2APIC logical id (SDM 11.12.10.2): cluster in 31:16, one bit in 15:0. */
static uint32_t x2apic_ldr(uint32_t id)
{
	return ((id >> 4) << 16) | (1u << (id & 0xf));
}

/* PPR (SDM 11.8.3.1): the TPR, or the in-service class if higher. */
static uint32_t apic_ppr(const struct kvm_lapic *a)
{
	uint32_t tpr = get_reg(a, APIC_TASKPRI) & 0xff;
	int isrv = vec_highest(a, APIC_ISR);
	uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;

	return (tpr & 0xf0) >= isr_class ? tpr : isr_class;
}

static void update_ppr(struct kvm_lapic *a)
{
	set_reg(a, APIC_PROCPRI, apic_ppr(a));
}

static void update_irr_pending(struct kvm_lapic *a)
{
	atomic_store(&a->irr_pending, vec_highest(a, APIC_IRR) >= 0);
}

static void kick(struct kvm_lapic *a)
{
	if (a->ops && a->ops->kick)
		a->ops->kick(a->opaque);
}

static void apic_error(struct kvm_lapic *a, uint32_t err);

/*
 * Accept a message (SDM 11.6.1).  Caller holds a->lock; *do_kick says the
 * vCPU must be kicked once it is dropped.  Returns 1 when accepted.
 */
static int apic_accept(struct kvm_lapic *a, const struct kvm_lapic_irq *irq,
		       bool *do_kick)
{
	switch (irq->delivery_mode) {
	case APIC_DM_FIXED:
	case APIC_DM_LOWEST:
		if (!apic_enabled(a))
			return 0;
		if (irq->vector < 16) {
			apic_error(a, APIC_ESR_RECV_ILLEGAL);
			return 0;
		}
		vec_set(a, APIC_IRR, irq->vector, true);
		vec_set(a, APIC_TMR, irq->vector, irq->trig_level);
		atomic_store(&a->irr_pending, true);
		break;
	case APIC_DM_NMI:
		atomic_fetch_or(&a->events, KVM_APIC_EV_NMI);
		break;
	case APIC_DM_SMI:
		atomic_fetch_or(&a->events, KVM_APIC_EV_SMI);
		break;
	case APIC_DM_INIT:
		/* The level de-assert INIT of the 82489DX is a no-op. */
		if (irq->trig_level && !irq->level)
			return 0;
		atomic_fetch_or(&a->events, KVM_APIC_EV_INIT);
		break;
	case APIC_DM_STARTUP:
		a->sipi_vector = irq->vector;
		atomic_fetch_or(&a->events, KVM_APIC_EV_SIPI);
		break;
	case APIC_DM_EXTINT:
		atomic_fetch_or(&a->events, KVM_APIC_EV_EXTINT);
		break;
	default:			/* remote read */
		return 0;
	}
	*do_kick = true;
	return 1;
}

/* ESR errors accumulate until the next ESR write latches them. */
static void apic_error(struct kvm_lapic *a, uint32_t err)
{
	uint32_t lvt = get_reg(a, APIC_LVTERR);
	bool unused;

	if (a->esr_pending & err)
		return;
	a->esr_pending |= err;
	if (!(lvt & APIC_LVT_MASKED) && (lvt & 0xff) >= 16) {
		struct kvm_lapic_irq irq = { .vector = lvt & 0xff };

		apic_accept(a, &irq, &unused);
	}
}

/* --- Destination matching (SDM 11.6.2) ----------------------------------- */

static bool match_physical(const struct kvm_apic_bus *bus,
			   const struct kvm_lapic *a, uint32_t dest,
			   bool x2apic_msg)
{
	if (x2apic_mode(a)) {
		if (!x2apic_msg && dest == APIC_BROADCAST &&
		    !bus->broadcast_quirk_disabled)
			return true;
		return dest == X2APIC_BROADCAST || dest == apic_id(a);
	}
	dest &= 0xff;
	return dest == APIC_BROADCAST || dest == apic_id(a);
}

static bool match_logical(const struct kvm_lapic *a, uint32_t dest)
{
	uint32_t ldr = get_reg(a, APIC_LDR);
	uint32_t lid;

	if (x2apic_mode(a)) {
		if (dest == X2APIC_BROADCAST)
			return true;
		return (dest >> 16) == (ldr >> 16) && (dest & ldr & 0xffff);
	}
	dest &= 0xff;
	if (dest == APIC_BROADCAST)
		return true;
	lid = ldr >> 24;
	if ((get_reg(a, APIC_DFR) >> 28) == APIC_DFR_FLAT)
		return lid & dest;
	return (lid >> 4) == (dest >> 4) && (lid & dest & 0xf);
}

static bool apic_match(const struct kvm_apic_bus *bus, const struct kvm_lapic *a,
		       const struct kvm_lapic *src, const struct kvm_lapic_irq *irq)
{
	bool x2apic_msg = (src && x2apic_mode(src)) || irq->dest_id > 0xff;

	if (!hw_enabled(a))
		return false;
	switch (irq->shorthand) {
	case APIC_DEST_SELF:
		return a == src;
	case APIC_DEST_ALLINC:
		return true;
	case APIC_DEST_ALLBUT:
		return a != src;
	}
	if (irq->dest_logical)
		return match_logical(a, irq->dest_id);
	return match_physical(bus, a, irq->dest_id, x2apic_msg);
}

/* --- The bus ------------------------------------------------------------------ */

int kvm_apic_bus_init(struct kvm_apic_bus *bus, struct kvm_timer_base *timers,
		      const struct kvm_apic_bus_ops *ops, void *opaque)
{
	memset(bus, 0, sizeof(*bus));
	pthread_rwlock_init(&bus->lock, NULL);
	bus->timers = timers;
	bus->ops = ops;
	bus->opaque = opaque;
	return 0;
}

void kvm_apic_bus_fini(struct kvm_apic_bus *bus)
{
	free(bus->apics);
	bus->apics = NULL;
	pthread_rwlock_destroy(&bus->lock);
}

static int bus_add(struct kvm_apic_bus *bus, struct kvm_lapic *a)
{
	int r = 0;

	pthread_rwlock_wrlock(&bus->lock);
	if (bus->nr == bus->cap) {
		int cap = bus->cap ? bus->cap * 2 : 8;
		struct kvm_lapic **n = realloc(bus->apics, (size_t)cap * sizeof(*n));

		if (!n) {
			r = -ENOMEM;
			goto out;
		}
		bus->apics = n;
		bus->cap = cap;
	}
	bus->apics[bus->nr++] = a;
out:
	pthread_rwlock_unlock(&bus->lock);
	return r;
}

static void bus_remove(struct kvm_apic_bus *bus, struct kvm_lapic *a)
{
	pthread_rwlock_wrlock(&bus->lock);
	for (int i = 0; i < bus->nr; i++) {
		if (bus->apics[i] == a) {
			bus->apics[i] = bus->apics[--bus->nr];
			break;
		}
	}
	pthread_rwlock_unlock(&bus->lock);
}

static int deliver_to(struct kvm_lapic *a, const struct kvm_lapic_irq *irq)
{
	bool do_kick = false;
	int r;

	pthread_mutex_lock(&a->lock);
	r = apic_accept(a, irq, &do_kick);
	pthread_mutex_unlock(&a->lock);
	if (do_kick)
		kick(a);
	return r;
}

/*
 * Lowest priority (SDM 11.6.2.4): the matching, enabled LAPIC with the
 * lowest processor priority; ties go round-robin, as the arbitration ID
 * rotation would spread them.
 */
static struct kvm_lapic *lowest_priority(struct kvm_apic_bus *bus,
					 struct kvm_lapic *src,
					 const struct kvm_lapic_irq *irq)
{
	struct kvm_lapic *best = NULL;
	uint32_t best_ppr = 0;
	unsigned int start = atomic_fetch_add(&bus->arb_rr, 1);

	for (int k = 0; k < bus->nr; k++) {
		struct kvm_lapic *a = bus->apics[(start + (unsigned int)k) % (unsigned int)bus->nr];
		uint32_t ppr;
		bool ok;

		pthread_mutex_lock(&a->lock);
		ok = apic_match(bus, a, src, irq) && apic_enabled(a);
		ppr = apic_ppr(a) & 0xf0;
		pthread_mutex_unlock(&a->lock);
		if (ok && (!best || ppr < best_ppr)) {
			best = a;
			best_ppr = ppr;
		}
	}
	return best;
}

int kvm_apic_bus_deliver(struct kvm_apic_bus *bus, struct kvm_lapic *src,
			 const struct kvm_lapic_irq *irq)
{
	int r = -1;

	pthread_rwlock_rdlock(&bus->lock);
	if (irq->delivery_mode == APIC_DM_LOWEST &&
	    irq->shorthand == APIC_DEST_NOSHORT) {
		struct kvm_lapic *a = lowest_priority(bus, src, irq);

		if (a)
			r = deliver_to(a, irq) ? 1 : -1;
		goto out;
	}
	for (int i = 0; i < bus->nr; i++) {
		struct kvm_lapic *a = bus->apics[i];
		bool match;

		pthread_mutex_lock(&a->lock);
		match = apic_match(bus, a, src, irq);
		pthread_mutex_unlock(&a->lock);
		if (!match)
			continue;
		if (r < 0)
			r = 0;
		r += deliver_to(a, irq);
	}
	if (r == 0)
		r = -1;
out:
	pthread_rwlock_unlock(&bus->lock);
	return r;
}

/*
 * The LAPIC a physical APIC ID names, as KVM's APIC map finds it: the
 * x2APIC ID of one in x2APIC mode, the 8-bit xAPIC ID of one in xAPIC mode.
 */
static struct kvm_lapic *find_physical(struct kvm_apic_bus *bus, uint32_t id)
{
	for (int i = 0; i < bus->nr; i++) {
		struct kvm_lapic *a = bus->apics[i];
		bool match;

		pthread_mutex_lock(&a->lock);
		match = hw_enabled(a) && apic_id(a) == id;
		pthread_mutex_unlock(&a->lock);
		if (match)
			return a;
	}
	return NULL;
}

int kvm_apic_bus_send_ipi_mask(struct kvm_apic_bus *bus, const uint64_t bitmap[2],
			       uint32_t min, unsigned int cluster,
			       const struct kvm_lapic_irq *irq)
{
	uint32_t max_id = 255;		/* KVM's map always covers xAPIC IDs */
	int count = 0;

	pthread_rwlock_rdlock(&bus->lock);
	for (int i = 0; i < bus->nr; i++) {
		struct kvm_lapic *a = bus->apics[i];
		bool present;

		pthread_mutex_lock(&a->lock);
		present = hw_enabled(a);
		pthread_mutex_unlock(&a->lock);
		if (present && a->vcpu_id > max_id)
			max_id = a->vcpu_id;
	}
	for (int half = 0; half < 2; half++, min += cluster) {
		uint64_t span;

		if (min > max_id)
			continue;
		span = (uint64_t)max_id - min + 1;
		for (unsigned int bit = 0; bit < cluster && bit < span; bit++) {
			struct kvm_lapic *a;

			if (!(bitmap[half] & (1ULL << bit)))
				continue;
			a = find_physical(bus, min + bit);
			if (a)
				count += deliver_to(a, irq);
		}
	}
	pthread_rwlock_unlock(&bus->lock);
	return count;
}

/* --- Timer (SDM 11.5.4) ---------------------------------------------------------- */

static uint32_t timer_divide(const struct kvm_lapic *a)
{
	uint32_t d = get_reg(a, APIC_TDCR);
	uint32_t v = (d & 3) | ((d & 8) >> 1);

	return 1u << ((v + 1) & 7);
}

static uint32_t timer_mode(const struct kvm_lapic *a)
{
	return APIC_LVT_TIMER_MODE(get_reg(a, APIC_LVTT));
}

static void timer_stop(struct kvm_lapic *a)
{
	a->timer_expires = 0;
	kvm_hrtimer_cancel(&a->timer);
}

static void timer_arm(struct kvm_lapic *a, uint64_t expires)
{
	a->timer_expires = expires ? expires : 1;
	kvm_hrtimer_start(&a->timer, a->timer_expires);
}

/* Load TMICT: count from now (one-shot and periodic). */
static void timer_load(struct kvm_lapic *a)
{
	uint64_t count = get_reg(a, APIC_TMICT);

	timer_stop(a);
	if (!count || timer_mode(a) == APIC_LVT_TIMER_TSCDEADLINE)
		return;
	a->timer_period = count * timer_divide(a);
	if (timer_mode(a) == APIC_LVT_TIMER_PERIODIC &&
	    a->timer_period < KVM_APIC_MIN_PERIOD_NS)
		a->timer_period = KVM_APIC_MIN_PERIOD_NS;
	timer_arm(a, kvm_clock_ns() + a->timer_period);
}

/*
 * KVM_SET_LAPIC: a one-shot or periodic timer goes on from the saved
 * current count, as KVM's (set_target_expiration from APIC_TMCCT): a
 * count above the initial one means the initial one; a zero count, a
 * full period for a periodic timer and an expiry now for a one-shot one.
 */
static void timer_restore(struct kvm_lapic *a, uint32_t tmcct)
{
	uint64_t left = (uint64_t)tmcct * timer_divide(a);

	timer_load(a);
	if (!a->timer_expires)
		return;
	if (!tmcct)
		left = timer_mode(a) == APIC_LVT_TIMER_PERIODIC ? a->timer_period : 0;
	else if (left > a->timer_period)
		left = a->timer_period;
	timer_arm(a, kvm_clock_ns() + left);
}

/* Guest TSC value -> CLOCK_MONOTONIC time. */
static uint64_t tsc_to_ns(struct kvm_lapic *a, uint64_t tsc)
{
	uint64_t now, tsc_now, khz;

	if (!a->ops || !a->ops->read_tsc || !a->ops->tsc_khz)
		return kvm_clock_ns();
	/* TSC first: a delay between the two reads makes it late, not early. */
	tsc_now = a->ops->read_tsc(a->opaque);
	now = kvm_clock_ns();
	khz = a->ops->tsc_khz(a->opaque);
	if (tsc <= tsc_now || !khz)
		return now;
	return now + (uint64_t)((unsigned __int128)(tsc - tsc_now) * 1000000 / khz);
}

static void timer_arm_deadline(struct kvm_lapic *a)
{
	timer_stop(a);
	if (timer_mode(a) == APIC_LVT_TIMER_TSCDEADLINE && a->tsc_deadline)
		timer_arm(a, tsc_to_ns(a, a->tsc_deadline));
}

/* TMCCT: what is left of the current period, in timer ticks. */
static uint32_t timer_current(const struct kvm_lapic *a)
{
	uint64_t now = kvm_clock_ns();

	if (!a->timer_expires || timer_mode(a) == APIC_LVT_TIMER_TSCDEADLINE ||
	    now >= a->timer_expires)
		return 0;
	return (uint32_t)((a->timer_expires - now) / timer_divide(a));
}

static void timer_fn(struct kvm_hrtimer *t, uint64_t expires)
{
	struct kvm_lapic *a = container_of(t, struct kvm_lapic, timer);
	uint32_t lvt;
	bool do_kick = false;
	uint64_t now, next;

	pthread_mutex_lock(&a->lock);
	if (a->dying || a->timer_expires != expires) {	/* re-armed meanwhile */
		pthread_mutex_unlock(&a->lock);
		return;
	}
	lvt = get_reg(a, APIC_LVTT);
	if (!(lvt & APIC_LVT_MASKED)) {
		struct kvm_lapic_irq irq = { .vector = lvt & 0xff };

		apic_accept(a, &irq, &do_kick);
	}
	switch (APIC_LVT_TIMER_MODE(lvt)) {
	case APIC_LVT_TIMER_PERIODIC:
		/* Missed periods are dropped: next expiry after now. */
		now = kvm_clock_ns();
		next = expires + a->timer_period;
		if (next <= now)
			next = now + a->timer_period -
			       (now - expires) % a->timer_period;
		timer_arm(a, next);
		break;
	case APIC_LVT_TIMER_TSCDEADLINE:
		a->tsc_deadline = 0;	/* SDM 11.5.4.1: cleared on expiry */
		a->timer_expires = 0;
		break;
	default:
		a->timer_expires = 0;
		break;
	}
	pthread_mutex_unlock(&a->lock);
	if (do_kick)
		kick(a);
}

/* --- Register writes ------------------------------------------------------------ */

/* EOI (SDM 11.8.5): the vector that ended, or -1; *level from TMR. */
static int apic_eoi(struct kvm_lapic *a, bool *level)
{
	int v = vec_highest(a, APIC_ISR);

	if (v < 0)
		return -1;
	vec_set(a, APIC_ISR, v, false);
	update_ppr(a);
	*level = vec_test(a, APIC_TMR, v);
	return v;
}

static void write_lvt(struct kvm_lapic *a, unsigned int off, uint32_t val)
{
	static const struct { unsigned int off; uint32_t mask; } lvts[] = {
		{ APIC_LVTT, LVT_MASK_TIMER }, { APIC_LVTTHMR, LVT_MASK_DM },
		{ APIC_LVTPC, LVT_MASK_DM }, { APIC_LVT0, LVT_MASK_LINT },
		{ APIC_LVT1, LVT_MASK_LINT }, { APIC_LVTERR, LVT_MASK_ERR },
	};
	uint32_t old = get_reg(a, off), mask = 0;

	for (size_t i = 0; i < sizeof(lvts) / sizeof(lvts[0]); i++)
		if (lvts[i].off == off)
			mask = lvts[i].mask;
	val &= mask;
	/*
	 * Without the guest's CPUID bit for it there is no TSC-deadline
	 * mode: the mode field is one bit (KVM's timer_mode_mask).  Mode 3
	 * is reserved.  The remote IRR bit is read-only.
	 */
	if (off == APIC_LVTT && !a->tsc_deadline_mode)
		val &= ~(2u << 17);
	if (off == APIC_LVTT && APIC_LVT_TIMER_MODE(val) == 3)
		val &= ~(3u << 17);
	if (!sw_enabled(a))
		val |= APIC_LVT_MASKED;
	set_reg(a, off, val | (old & ~mask & (1u << 14)));
	/* Between TSC-deadline and the other modes the timer is disarmed. */
	if (off == APIC_LVTT &&
	    (APIC_LVT_TIMER_MODE(old) == APIC_LVT_TIMER_TSCDEADLINE) !=
	    (APIC_LVT_TIMER_MODE(val) == APIC_LVT_TIMER_TSCDEADLINE)) {
		timer_stop(a);
		set_reg(a, APIC_TMICT, 0);
		a->tsc_deadline = 0;
	}
}

static void write_svr(struct kvm_lapic *a, uint32_t val)
{
	set_reg(a, APIC_SPIV, val & 0x1ff);
	if (!(val & APIC_SPIV_APIC_ENABLED)) {
		/* Software disable masks every LVT entry (SDM 11.4.7.2). */
		for (unsigned int off = APIC_LVTT; off <= APIC_LVTERR; off += 0x10)
			set_reg(a, off, get_reg(a, off) | APIC_LVT_MASKED);
	}
}

/* Build the message of an ICR write (low word; destination from ICR2). */
static struct kvm_lapic_irq icr_to_irq(const struct kvm_lapic *a, uint32_t lo,
				       uint32_t dest)
{
	return (struct kvm_lapic_irq){
		.vector = lo & 0xff,
		.delivery_mode = (lo >> 8) & 7,
		.dest_logical = !!(lo & APIC_ICR_LOGICAL),
		.level = !!(lo & APIC_ICR_LEVEL_ASSERT),
		.trig_level = !!(lo & APIC_ICR_LEVEL_TRIG),
		.shorthand = (lo >> 18) & 3,
		.dest_id = dest,
	};
}

/*
 * What a register write leaves to do once the lock is dropped: send an
 * IPI, broadcast an EOI, kick our own vCPU.
 */
struct apic_after {
	bool send;
	struct kvm_lapic_irq irq;
	int eoi_vector;
	bool eoi_level;
	bool do_kick;
	bool map_changed;		/* ID, LDR or DFR written */
};

static bool send_allowed(struct kvm_lapic *a, const struct kvm_lapic_irq *irq)
{
	if ((irq->delivery_mode == APIC_DM_FIXED ||
	     irq->delivery_mode == APIC_DM_LOWEST) && irq->vector < 16) {
		apic_error(a, APIC_ESR_SEND_ILLEGAL);
		return false;
	}
	return true;
}

static void write_icr(struct kvm_lapic *a, uint32_t lo, uint32_t dest,
		      struct apic_after *after)
{
	set_reg(a, APIC_ICR, lo & ~APIC_ICR_BUSY);
	after->irq = icr_to_irq(a, lo, dest);
	after->send = send_allowed(a, &after->irq);
}

/* A 32-bit register write (xAPIC layout offset); returns -1 for #GP. */
static int apic_reg_write(struct kvm_lapic *a, unsigned int off, uint32_t val,
			  struct apic_after *after)
{
	switch (off) {
	case APIC_ID:
		if (x2apic_mode(a))
			return -1;
		set_reg(a, APIC_ID, val & 0xff000000);
		after->map_changed = true;
		break;
	case APIC_TASKPRI:
		set_reg(a, APIC_TASKPRI, val & 0xff);
		update_ppr(a);
		break;
	case APIC_EOI:
		if (x2apic_mode(a) && val)
			return -1;
		after->eoi_vector = apic_eoi(a, &after->eoi_level);
		break;
	case APIC_LDR:
		if (x2apic_mode(a))
			return -1;
		set_reg(a, APIC_LDR, val & 0xff000000);
		after->map_changed = true;
		break;
	case APIC_DFR:
		if (x2apic_mode(a))
			return -1;
		set_reg(a, APIC_DFR, val | 0x0fffffff);
		after->map_changed = true;
		break;
	case APIC_SPIV:
		write_svr(a, val);
		break;
	case APIC_ESR:
		if (x2apic_mode(a) && val)
			return -1;
		set_reg(a, APIC_ESR, a->esr_pending);
		a->esr_pending = 0;
		break;
	case APIC_ICR:
		write_icr(a, val, x2apic_mode(a) ? get_reg(a, APIC_ICR2) :
			  get_reg(a, APIC_ICR2) >> 24, after);
		break;
	case APIC_ICR2:
		if (x2apic_mode(a))
			return -1;
		set_reg(a, APIC_ICR2, val & 0xff000000);
		break;
	case APIC_LVTT:
	case APIC_LVTTHMR:
	case APIC_LVTPC:
	case APIC_LVT0:
	case APIC_LVT1:
	case APIC_LVTERR:
		write_lvt(a, off, val);
		break;
	case APIC_TMICT:
		if (timer_mode(a) == APIC_LVT_TIMER_TSCDEADLINE)
			break;
		set_reg(a, APIC_TMICT, val);
		timer_load(a);
		break;
	case APIC_TDCR:
		set_reg(a, APIC_TDCR, val & 0xb);
		break;
	case APIC_SELF_IPI:
		if (!x2apic_mode(a))
			return -1;
		after->irq = (struct kvm_lapic_irq){
			.vector = val & 0xff, .shorthand = APIC_DEST_SELF,
			.delivery_mode = APIC_DM_FIXED, .level = true,
		};
		after->send = send_allowed(a, &after->irq);
		break;
	default:
		/* Read-only and reserved registers. */
		if (x2apic_mode(a))
			return -1;
		break;
	}
	return 0;
}

static void map_changed(struct kvm_lapic *a)
{
	if (a->bus->ops && a->bus->ops->map_changed)
		a->bus->ops->map_changed(a->bus->opaque);
}

static void apic_after(struct kvm_lapic *a, struct apic_after *after)
{
	if (after->map_changed)
		map_changed(a);
	if (after->send)
		kvm_apic_bus_deliver(a->bus, a, &after->irq);
	if (after->eoi_vector >= 0 && a->bus->ops && a->bus->ops->eoi)
		a->bus->ops->eoi(a->bus->opaque, a, after->eoi_vector,
				 after->eoi_level);
	if (after->do_kick)
		kick(a);
}

/* A 32-bit register read; returns -1 for registers that do not read. */
static int apic_reg_read(struct kvm_lapic *a, unsigned int off, uint32_t *val)
{
	switch (off) {
	case APIC_ID:
	case APIC_LVR:
	case APIC_TASKPRI:
	case APIC_PROCPRI:
	case APIC_LDR:
	case APIC_SPIV:
	case APIC_ESR:
	case APIC_ICR:
	case APIC_LVTT:
	case APIC_LVTTHMR:
	case APIC_LVTPC:
	case APIC_LVT0:
	case APIC_LVT1:
	case APIC_LVTERR:
	case APIC_TMICT:
	case APIC_TDCR:
		*val = get_reg(a, off);
		return 0;
	case APIC_TMCCT:
		*val = timer_current(a);
		return 0;
	case APIC_ARBPRI:
	case APIC_DFR:
	case APIC_ICR2:
		if (x2apic_mode(a))
			return -1;
		*val = get_reg(a, off);
		return 0;
	}
	if (off >= APIC_ISR && off < APIC_ESR) {	/* ISR, TMR, IRR */
		*val = get_reg(a, off);
		return 0;
	}
	if (x2apic_mode(a))
		return -1;
	*val = 0;				/* EOI, RRR, reserved */
	return 0;
}

/* --- xAPIC MMIO -------------------------------------------------------------------- */

static bool mmio_ours(struct kvm_lapic *a, gpa_t gpa, int len)
{
	gpa_t base = a->base & APIC_BASE_ADDR_MASK;

	return hw_enabled(a) && !x2apic_mode(a) && gpa >= base &&
	       gpa + (gpa_t)len <= base + KVM_APIC_MMIO_SIZE;
}

int kvm_lapic_mmio_read(struct kvm_lapic *a, gpa_t gpa, int len, void *val)
{
	unsigned int off;
	uint32_t v = 0;
	uint64_t out;

	pthread_mutex_lock(&a->lock);
	if (!mmio_ours(a, gpa, len)) {
		pthread_mutex_unlock(&a->lock);
		return -EOPNOTSUPP;
	}
	off = (unsigned int)(gpa - (a->base & APIC_BASE_ADDR_MASK));
	/* Registers are the first 4 bytes of each 16-byte slot. */
	if ((off & 0xf) < 4 && off < KVM_APIC_REG_SIZE)
		apic_reg_read(a, off & ~0xfu, &v);
	pthread_mutex_unlock(&a->lock);
	out = (uint64_t)v >> ((off & 3) * 8);
	memcpy(val, &out, (size_t)(len > 8 ? 8 : len));
	return 0;
}

int kvm_lapic_mmio_write(struct kvm_lapic *a, gpa_t gpa, int len, const void *val)
{
	struct apic_after after = { .eoi_vector = -1 };
	unsigned int off;
	uint32_t v = 0;

	pthread_mutex_lock(&a->lock);
	if (!mmio_ours(a, gpa, len)) {
		pthread_mutex_unlock(&a->lock);
		return -EOPNOTSUPP;
	}
	off = (unsigned int)(gpa - (a->base & APIC_BASE_ADDR_MASK));
	/* Only aligned 32-bit stores reach a register (SDM 11.4.1). */
	if (len == 4 && !(off & 0xf) && off < KVM_APIC_REG_SIZE) {
		memcpy(&v, val, 4);
		apic_reg_write(a, off, v, &after);
	}
	pthread_mutex_unlock(&a->lock);
	apic_after(a, &after);
	return 0;
}

static int lapic_dev_read(struct kvm_vcpu *vcpu, struct kvm_io_device *dev,
			  gpa_t addr, int len, void *val)
{
	return kvm_lapic_mmio_read(container_of(dev, struct kvm_lapic, dev),
				   addr, len, val);
}

static int lapic_dev_write(struct kvm_vcpu *vcpu, struct kvm_io_device *dev,
			   gpa_t addr, int len, const void *val)
{
	return kvm_lapic_mmio_write(container_of(dev, struct kvm_lapic, dev),
				    addr, len, val);
}

static const struct kvm_io_device_ops lapic_dev_ops = {
	.read = lapic_dev_read,
	.write = lapic_dev_write,
};

/* --- x2APIC MSRs (SDM 11.12.1) ----------------------------------------------------- */

int kvm_lapic_msr_read(struct kvm_lapic *a, uint32_t msr, uint64_t *val)
{
	unsigned int off = (msr - KVM_X2APIC_MSR_BASE) << 4;
	uint32_t v;
	int r = 0;

	pthread_mutex_lock(&a->lock);
	if (msr == KVM_MSR_TSC_DEADLINE) {
		/* 0 outside TSC-deadline mode or with the LAPIC disabled, as KVM. */
		*val = hw_enabled(a) && timer_mode(a) == APIC_LVT_TIMER_TSCDEADLINE ?
		       a->tsc_deadline : 0;
		goto out;
	}
	if (!x2apic_mode(a) || msr < KVM_X2APIC_MSR_BASE ||
	    msr > KVM_X2APIC_MSR_LAST || off == APIC_ICR2 || off == APIC_EOI ||
	    off == APIC_SELF_IPI) {
		r = -1;
		goto out;
	}
	r = apic_reg_read(a, off, &v);
	*val = v;
	if (!r && off == APIC_ICR)
		*val |= (uint64_t)get_reg(a, APIC_ICR2) << 32;
out:
	pthread_mutex_unlock(&a->lock);
	return r;
}

int kvm_lapic_msr_write(struct kvm_lapic *a, uint32_t msr, uint64_t val)
{
	struct apic_after after = { .eoi_vector = -1 };
	unsigned int off = (msr - KVM_X2APIC_MSR_BASE) << 4;
	int r = 0;

	pthread_mutex_lock(&a->lock);
	if (msr == KVM_MSR_TSC_DEADLINE) {
		/* Ignored outside TSC-deadline mode; else (re)arms the timer. */
		if (hw_enabled(a) && timer_mode(a) == APIC_LVT_TIMER_TSCDEADLINE) {
			a->tsc_deadline = val;
			timer_arm_deadline(a);
		}
		goto out;
	}
	if (!x2apic_mode(a) || msr < KVM_X2APIC_MSR_BASE ||
	    msr > KVM_X2APIC_MSR_LAST) {
		r = -1;
		goto out;
	}
	if (off == APIC_ICR) {
		set_reg(a, APIC_ICR2, (uint32_t)(val >> 32));
		write_icr(a, (uint32_t)val, (uint32_t)(val >> 32), &after);
		goto out;
	}
	/* 32-bit registers: bits 63:32 are reserved. */
	if (val >> 32) {
		r = -1;
		goto out;
	}
	r = apic_reg_write(a, off, (uint32_t)val, &after);
out:
	pthread_mutex_unlock(&a->lock);
	apic_after(a, &after);
	return r;
}

/* --- The vCPU side -------------------------------------------------------------------- */

int kvm_lapic_pending_irq(struct kvm_lapic *a, bool ack)
{
	int v;

	if (!atomic_load(&a->irr_pending))
		return -1;
	pthread_mutex_lock(&a->lock);
	v = vec_highest(a, APIC_IRR);
	if (v < 0 || !apic_enabled(a) ||
	    ((uint32_t)v & 0xf0) <= (apic_ppr(a) & 0xf0)) {
		if (v < 0)
			atomic_store(&a->irr_pending, false);
		v = -1;
	} else if (ack) {
		vec_set(a, APIC_IRR, v, false);
		vec_set(a, APIC_ISR, v, true);
		update_ppr(a);
		update_irr_pending(a);
	}
	pthread_mutex_unlock(&a->lock);
	return v;
}

unsigned int kvm_lapic_take_events(struct kvm_lapic *a, uint8_t *sipi_vector)
{
	unsigned int ev;

	pthread_mutex_lock(&a->lock);
	ev = atomic_exchange(&a->events, 0);
	if (sipi_vector)
		*sipi_vector = a->sipi_vector;
	pthread_mutex_unlock(&a->lock);
	return ev;
}

unsigned int kvm_lapic_peek_events(struct kvm_lapic *a)
{
	return atomic_load(&a->events);
}

void kvm_lapic_set_cr8(struct kvm_lapic *a, uint64_t cr8)
{
	pthread_mutex_lock(&a->lock);
	set_reg(a, APIC_TASKPRI, (uint32_t)(cr8 & 0xf) << 4);
	update_ppr(a);
	pthread_mutex_unlock(&a->lock);
}

/* KVM_SET_VAPIC_ADDR's word: TPR, ISR class (15:12), highest IRR (31:24). */
uint32_t kvm_lapic_vapic_word(struct kvm_lapic *a)
{
	uint32_t tpr;
	int isr, irr;

	pthread_mutex_lock(&a->lock);
	tpr = get_reg(a, APIC_TASKPRI) & 0xff;
	isr = vec_highest(a, APIC_ISR);
	irr = vec_highest(a, APIC_IRR);
	pthread_mutex_unlock(&a->lock);
	return tpr | (isr < 0 ? 0 : ((uint32_t)isr & 0xf0) << 8) |
	       (irr < 0 ? 0 : (uint32_t)irr << 24);
}

void kvm_lapic_set_tpr(struct kvm_lapic *a, uint8_t tpr)
{
	pthread_mutex_lock(&a->lock);
	set_reg(a, APIC_TASKPRI, tpr);
	update_ppr(a);
	pthread_mutex_unlock(&a->lock);
}

uint64_t kvm_lapic_get_cr8(struct kvm_lapic *a)
{
	uint64_t v;

	pthread_mutex_lock(&a->lock);
	v = (get_reg(a, APIC_TASKPRI) >> 4) & 0xf;
	pthread_mutex_unlock(&a->lock);
	return v;
}

bool kvm_lapic_accept_pic_intr(struct kvm_lapic *a)
{
	uint32_t lvt0;
	bool r;

	pthread_mutex_lock(&a->lock);
	lvt0 = get_reg(a, APIC_LVT0);
	r = !hw_enabled(a) ||
	    (!(lvt0 & APIC_LVT_MASKED) && ((lvt0 >> 8) & 7) == APIC_DM_EXTINT);
	pthread_mutex_unlock(&a->lock);
	return r;
}

int kvm_lapic_local_deliver(struct kvm_lapic *a, int lvt_offset)
{
	struct kvm_lapic_irq irq;
	bool do_kick = false;
	uint32_t lvt;
	int r = 0;

	pthread_mutex_lock(&a->lock);
	lvt = get_reg(a, (unsigned int)lvt_offset);
	if (apic_enabled(a) && !(lvt & APIC_LVT_MASKED)) {
		irq = (struct kvm_lapic_irq){
			.vector = lvt & 0xff,
			.delivery_mode = (lvt >> 8) & 7,
			.trig_level = !!(lvt & (1u << 15)),
			.level = true,
		};
		r = apic_accept(a, &irq, &do_kick);
	}
	pthread_mutex_unlock(&a->lock);
	if (do_kick)
		kick(a);
	return r;
}

bool kvm_lapic_match_dest(struct kvm_lapic *a, const struct kvm_lapic_irq *irq)
{
	struct kvm_lapic_irq msg = *irq;
	bool r;

	msg.shorthand = APIC_DEST_NOSHORT;
	pthread_mutex_lock(&a->lock);
	r = apic_match(a->bus, a, NULL, &msg);
	pthread_mutex_unlock(&a->lock);
	return r;
}

bool kvm_lapic_vector_pending(struct kvm_lapic *a, int vector)
{
	bool r;

	pthread_mutex_lock(&a->lock);
	r = vec_test(a, APIC_IRR, vector) || vec_test(a, APIC_ISR, vector);
	pthread_mutex_unlock(&a->lock);
	return r;
}

bool kvm_lapic_irr_pending(struct kvm_lapic *a)
{
	return atomic_load(&a->irr_pending);
}

void kvm_lapic_eoi(struct kvm_lapic *a)
{
	struct apic_after after = { .eoi_vector = -1 };

	pthread_mutex_lock(&a->lock);
	after.eoi_vector = apic_eoi(a, &after.eoi_level);
	pthread_mutex_unlock(&a->lock);
	apic_after(a, &after);
}

/* --- Mode and reset -------------------------------------------------------------------- */

static void set_x2apic_id(struct kvm_lapic *a)
{
	set_reg(a, APIC_ID, a->vcpu_id);
	set_reg(a, APIC_LDR, x2apic_ldr(a->vcpu_id));
}

void kvm_lapic_set_base(struct kvm_lapic *a, uint64_t value)
{
	uint64_t old;

	pthread_mutex_lock(&a->lock);
	old = a->base;
	a->base = value;
	if ((old & APIC_BASE_EN) && !(value & APIC_BASE_EN))
		timer_stop(a);
	if (!(old & APIC_BASE_EN) && (value & APIC_BASE_EN))
		set_reg(a, APIC_ID, a->vcpu_id << 24);
	if (!(old & APIC_BASE_EXTD) && (value & APIC_BASE_EXTD))
		set_x2apic_id(a);
	pthread_mutex_unlock(&a->lock);
	if ((old ^ value) & (APIC_BASE_EN | APIC_BASE_EXTD))
		map_changed(a);
}

uint64_t kvm_lapic_get_base(struct kvm_lapic *a)
{
	uint64_t v;

	pthread_mutex_lock(&a->lock);
	v = a->base;
	pthread_mutex_unlock(&a->lock);
	return v;
}

void kvm_lapic_set_tsc_deadline_mode(struct kvm_lapic *a, bool allowed)
{
	pthread_mutex_lock(&a->lock);
	a->tsc_deadline_mode = allowed;
	pthread_mutex_unlock(&a->lock);
}

bool kvm_lapic_x2apic_mode(struct kvm_lapic *a)
{
	return kvm_lapic_get_base(a) & APIC_BASE_EXTD;
}

bool kvm_lapic_hw_enabled(struct kvm_lapic *a)
{
	return kvm_lapic_get_base(a) & APIC_BASE_EN;
}

bool kvm_lapic_enabled(struct kvm_lapic *a)
{
	bool r;

	pthread_mutex_lock(&a->lock);
	r = apic_enabled(a);
	pthread_mutex_unlock(&a->lock);
	return r;
}

int kvm_lapic_set_irq(struct kvm_lapic *a, const struct kvm_lapic_irq *irq)
{
	return deliver_to(a, irq);
}

/* SDM 11.4.7.1 (power-up and INIT); INIT keeps the ID and APIC_BASE. */
void kvm_lapic_reset(struct kvm_lapic *a, bool init)
{
	uint32_t id;

	pthread_mutex_lock(&a->lock);
	timer_stop(a);
	id = get_reg(a, APIC_ID);
	memset(a->regs, 0, sizeof(a->regs));
	if (!init) {
		a->base = APIC_DEFAULT_BASE | APIC_BASE_EN;
		id = a->vcpu_id << 24;
	}
	set_reg(a, APIC_ID, id);
	if (x2apic_mode(a))
		set_x2apic_id(a);
	set_reg(a, APIC_LVR, KVM_APIC_VERSION | ((KVM_APIC_LVT_NUM - 1) << 16));
	set_reg(a, APIC_DFR, 0xffffffff);
	set_reg(a, APIC_SPIV, 0xff);
	for (unsigned int off = APIC_LVTT; off <= APIC_LVTERR; off += 0x10)
		set_reg(a, off, APIC_LVT_MASKED);
	a->esr_pending = 0;
	a->tsc_deadline = 0;
	atomic_store(&a->irr_pending, false);
	/*
	 * An INIT keeps the events, and the vector of a SIPI that came in
	 * after the run loop took the INIT: it is the SIPI that starts us.
	 */
	if (!init) {
		a->sipi_vector = 0;
		atomic_store(&a->events, 0);
	}
	pthread_mutex_unlock(&a->lock);
}

struct kvm_lapic *kvm_lapic_create(struct kvm_apic_bus *bus, uint32_t vcpu_id,
				   const struct kvm_lapic_ops *ops, void *opaque)
{
	struct kvm_lapic *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	pthread_mutex_init(&a->lock, NULL);
	a->dev.ops = &lapic_dev_ops;
	a->bus = bus;
	a->vcpu_id = vcpu_id;
	a->ops = ops;
	a->opaque = opaque;
	kvm_hrtimer_init(&a->timer, bus->timers, timer_fn);
	kvm_lapic_reset(a, false);
	if (bus_add(bus, a)) {
		pthread_mutex_destroy(&a->lock);
		free(a);
		return NULL;
	}
	return a;
}

void kvm_lapic_destroy(struct kvm_lapic *a)
{
	if (!a)
		return;
	bus_remove(a->bus, a);
	pthread_mutex_lock(&a->lock);
	a->dying = true;
	pthread_mutex_unlock(&a->lock);
	kvm_hrtimer_cancel_sync(&a->timer);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

/* --- KVM_GET/SET_LAPIC ------------------------------------------------------------------ */

/*
 * In x2APIC mode the ID register holds the 32-bit id; without
 * KVM_X2APIC_API_USE_32BIT_IDS user space sees it shifted into bits 31:24
 * as in xAPIC (api.rst, KVM_CAP_X2APIC_API).
 */
void kvm_lapic_get_state(struct kvm_lapic *a, struct kvm_lapic_state *s)
{
	pthread_mutex_lock(&a->lock);
	memcpy(s->regs, a->regs, sizeof(s->regs));
	memcpy(s->regs + APIC_TMCCT, &(uint32_t){ timer_current(a) }, 4);
	if (x2apic_mode(a) && !a->bus->x2apic_format)
		memcpy(s->regs + APIC_ID, &(uint32_t){ get_reg(a, APIC_ID) << 24 }, 4);
	pthread_mutex_unlock(&a->lock);
}

int kvm_lapic_set_state(struct kvm_lapic *a, const struct kvm_lapic_state *s)
{
	uint32_t id, tmcct;

	memcpy(&id, s->regs + APIC_ID, 4);
	memcpy(&tmcct, s->regs + APIC_TMCCT, 4);
	pthread_mutex_lock(&a->lock);
	if (x2apic_mode(a)) {
		if (a->bus->x2apic_format && id != a->vcpu_id) {
			pthread_mutex_unlock(&a->lock);
			return -EINVAL;
		}
		if (!a->bus->x2apic_format)
			id >>= 24;
	}
	timer_stop(a);
	memcpy(a->regs, s->regs, sizeof(a->regs));
	set_reg(a, APIC_ID, id);
	if (x2apic_mode(a))
		set_reg(a, APIC_LDR, x2apic_ldr(id));
	set_reg(a, APIC_LVR, KVM_APIC_VERSION | ((KVM_APIC_LVT_NUM - 1) << 16));
	set_reg(a, APIC_TMCCT, 0);
	update_ppr(a);
	update_irr_pending(a);
	a->esr_pending = 0;
	timer_restore(a, tmcct);
	pthread_mutex_unlock(&a->lock);
	map_changed(a);
	if (atomic_load(&a->irr_pending))
		kick(a);
	return 0;
}
