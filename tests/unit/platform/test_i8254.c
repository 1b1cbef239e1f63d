// SPDX-License-Identifier: MIT
/*
 * test_i8254.c - the PIT through ports 0x40-0x43 and 0x61: access modes,
 * latches, read-back, BCD, each counting mode's counter and OUT, Linux's
 * TSC calibration loop, IRQ 0 ticks with and without reinjection, and
 * save/restore.  Nothing here assumes how fast the host runs: checks that
 * depend on time either follow the time that really passed (a window that
 * ran too long is tried again) or wait for an event with a deadline of
 * many seconds, and events are checked never to come early.
 */
#include <time.h>
#include <unistd.h>

#include "platform_test.h"
#include "i8254.h"

static struct kvm_timer_base *timers;
static struct kvm_pit *pit;
static atomic_int ticks, level_now;

static void fake_irq(void *opaque, int level)
{
	if (level && !atomic_load(&level_now))
		atomic_fetch_add(&ticks, 1);
	atomic_store(&level_now, level);
}

static const struct kvm_pit_ops pit_ops = { .irq = fake_irq };

static struct kvm_pit *new_pit(void)
{
	struct kvm_pit *p = kvm_pit_create(timers, &pit_ops, NULL);

	assert_non_null(p);
	pthread_mutex_lock(&test_kvm.slots_lock);
	assert_int_equal(kvm_pit_register(p, &test_kvm), 0);
	pthread_mutex_unlock(&test_kvm.slots_lock);
	return p;
}

static int setup(void **state)
{
	test_bus_init();
	timers = kvm_timer_base_create();
	assert_non_null(timers);
	pit = new_pit();
	atomic_store(&ticks, 0);
	atomic_store(&level_now, 0);
	return 0;
}

static int teardown(void **state)
{
	kvm_pit_unregister(pit, &test_kvm);
	kvm_pit_destroy(pit);
	kvm_timer_base_destroy(timers);
	test_bus_fini();
	return 0;
}

static uint16_t latch_read(int ch)
{
	uint16_t v;

	outb(0x43, (uint8_t)(ch << 6));		/* counter latch */
	v = inb((uint16_t)(0x40 + ch));
	return v | (uint16_t)(inb((uint16_t)(0x40 + ch)) << 8);
}

static uint8_t read_status(int ch)
{
	outb(0x43, (uint8_t)(0xe0 | (2 << ch)));	/* read-back, status only */
	return inb((uint16_t)(0x40 + ch));
}

static void program(int ch, int mode, int bcd, uint16_t count)
{
	outb(0x43, (uint8_t)(ch << 6 | 3 << 4 | mode << 1 | bcd));
	outb((uint16_t)(0x40 + ch), count & 0xff);
	outb((uint16_t)(0x40 + ch), count >> 8);
}

/* Wall-clock ns as 8254 input clocks, rounded up. */
static uint64_t ns_to_clocks(uint64_t ns)
{
	return (ns * KVM_PIT_FREQ + 999999999ULL) / 1000000000ULL;
}

/* The period of a count, as the PIT computes it. */
static uint64_t count_ns(uint32_t count)
{
	return (uint64_t)count * 1000000000ULL / KVM_PIT_FREQ;
}

#define WAIT_LIMIT_NS	20000000000ULL	/* a stalled host, not a slow PIT */
#define TRIES		200

/* Polls until IRQ 0 has ticked want times (or the limit passed). */
static int wait_ticks(int want)
{
	uint64_t start = kvm_clock_ns();
	int n;

	while ((n = atomic_load(&ticks)) < want &&
	       kvm_clock_ns() - start < WAIT_LIMIT_NS)
		usleep(500);
	return n;
}

static uint64_t pit_field(const uint64_t *f)
{
	uint64_t v;

	pthread_mutex_lock(&pit->lock);
	v = *f;
	pthread_mutex_unlock(&pit->lock);
	return v;
}

static unsigned int pit_pending(void)
{
	unsigned int v;

	pthread_mutex_lock(&pit->lock);
	v = pit->pending;
	pthread_mutex_unlock(&pit->lock);
	return v;
}

/* Polls until at least want ticks are owed (reinjection). */
static void wait_pending(unsigned int want)
{
	uint64_t start = kvm_clock_ns();

	while (pit_pending() < want) {
		assert_true(kvm_clock_ns() - start < WAIT_LIMIT_NS);
		usleep(500);
	}
}

/*
 * Waits until channel 0's timer has run past its current expiry: the
 * callbacks run one at a time, so a tick decided before now has been
 * delivered by then.
 */
static void wait_timer_passed(void)
{
	uint64_t e = pit_field(&pit->timer_expires), start = kvm_clock_ns();

	while (pit_field(&pit->timer_expires) == e &&
	       kvm_clock_ns() - start < WAIT_LIMIT_NS)
		usleep(500);
	assert_true(pit_field(&pit->timer_expires) != e);
}

/* Sleeps until at least ns have really passed since t0. */
static void sleep_until(uint64_t t0, uint64_t ns)
{
	while (kvm_clock_ns() - t0 < ns)
		usleep(1000);
}

/* --- One row per mode: counter and OUT right after loading, and later --- */

struct mode_case {
	const char *name;
	int mode;
	uint16_t count;
	bool out_at_load;		/* OUT right after the count is loaded */
	int out_later;			/* after 3 counts' worth: -1 don't care */
	bool even;			/* mode 3 counts by two */
};

/*
 * Counts of ~27 ms.  The checks right after the load hold only while the
 * counter has not reached zero (mode 3: half the count), so an attempt
 * that took longer than a quarter of the count, the host having run
 * something else meanwhile, is tried again.
 */
static const struct mode_case mode_cases[] = {
	{ "mode 0: OUT low until terminal count", 0, 0x8000, false, 1 },
	{ "mode 1: one-shot, OUT low while counting", 1, 0x8000, false, 1 },
	{ "mode 2: rate generator, OUT high", 2, 0x8000, true, -1 },
	{ "mode 3: square wave, counts by two", 3, 0x8001, true, -1, true },
	{ "mode 4: software strobe, OUT high", 4, 0x8000, true, 1 },
	{ "mode 5: hardware strobe, OUT high", 5, 0x8000, true, 1 },
	{ "modes 6 and 7 read back as 2 and 3", 6, 0x8000, true, -1 },
};

static void run_mode_case(void **state)
{
	const struct mode_case *c = *state;
	uint16_t a, b;
	uint8_t st;
	int mode = c->mode > 5 ? c->mode - 4 : c->mode;

	int tries = 0;
	uint64_t t0;
	bool out, out61;

	setup(NULL);
	outb(0x61, 0x01);			/* gate 2 high */
	do {
		assert_true(++tries <= TRIES);
		t0 = kvm_clock_ns();
		program(2, c->mode, 0, c->count);
		st = read_status(2);
		out61 = inb(0x61) & 0x20;
		a = latch_read(2);
		usleep(200);
		b = latch_read(2);
	} while (kvm_clock_ns() - t0 >= count_ns(c->count) / 4);
	out = st & 0x80;
	assert_int_equal(st & 0x3f, 0x30 | mode << 1);
	assert_int_equal(out, c->out_at_load);
	assert_int_equal(out61, c->out_at_load);
	assert_true(a <= c->count && b < a);
	if (c->even)
		assert_int_equal(a & 1, 0);
	/* After the terminal count OUT stays where it went: later is fine. */
	usleep(3 * (uint64_t)c->count * 1000000ULL / KVM_PIT_FREQ);
	if (c->out_later >= 0)
		assert_int_equal(!!(read_status(2) & 0x80), c->out_later);
	teardown(NULL);
}

/* --- Access modes, latches, read-back, BCD ------------------------------- */

static void test_access_modes(void **state)
{
	uint16_t v, latched, now, later;
	uint64_t t0, d;
	uint8_t lo, hi;
	int tries = 0;

	setup(NULL);
	/* LSB only: the MSB is 0. */
	outb(0x43, 0x50);			/* ch1, LSB, mode 0 */
	outb(0x41, 0xf0);
	assert_true(inb(0x41) <= 0xf0);
	assert_int_equal(read_status(1) & 0x3f, 0x10);
	/*
	 * MSB only: 0x4000 counts down by what really passed; one that
	 * may have run through zero (13.7 ms) is tried again.
	 */
	outb(0x43, 0x60);			/* ch1, MSB, mode 0 */
	do {
		assert_true(++tries <= TRIES);
		t0 = kvm_clock_ns();
		outb(0x41, 0x40);
		v = inb(0x41);
		d = ns_to_clocks(kvm_clock_ns() - t0) + 1;
	} while (d >= 0x4000);
	assert_true(v <= 0x40 && v >= (0x4000 - d) >> 8);
	/*
	 * A latched count holds while the counter runs on; a second latch
	 * before the read does not overwrite the first.  Mode 2 from
	 * 0xffff wraps after 55 ms: a longer attempt is tried again.
	 */
	tries = 0;
	do {
		assert_true(++tries <= TRIES);
		t0 = kvm_clock_ns();
		program(1, 2, 0, 0xffff);
		v = latch_read(1);
		outb(0x43, 0x40);
		usleep(500);
		lo = inb(0x41);
		usleep(200);
		hi = inb(0x41);
		latched = (uint16_t)(lo | hi << 8);
		now = latch_read(1);
		outb(0x43, 0x40);
		usleep(200);
		outb(0x43, 0x40);
		lo = inb(0x41);
		hi = inb(0x41);
		later = latch_read(1);
	} while (kvm_clock_ns() - t0 >= count_ns(0xffff) / 2);
	assert_true(latched <= v);
	assert_true(now < latched);
	assert_true(later < (uint16_t)(lo | hi << 8));
	/* Read-back of count and status: status first, then the count. */
	outb(0x43, 0xc4);			/* read-back ch1 count+status */
	assert_int_equal(inb(0x41) & 0x3f, 0x34);
	lo = inb(0x41);
	hi = inb(0x41);
	assert_true((uint16_t)(lo | hi << 8) > 0);
	/* The control port reads nothing. */
	assert_int_equal(inb(0x43), 0xff);
	teardown(NULL);
}

static long elapsed_us(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1000000L +
	       (now.tv_nsec - since->tv_nsec) / 1000;
}

/*
 * A BCD count runs down in decimal: 9999 counts are 8.4 ms.  The bounds
 * follow the time that really passed, so a loaded machine cannot fail it.
 */
static void test_bcd(void **state)
{
	struct timespec start;
	long us, dec = 0;
	uint16_t v;

	setup(NULL);
	clock_gettime(CLOCK_MONOTONIC, &start);
	program(1, 0, 1, 0x9999);
	usleep(3000);
	v = latch_read(1);
	us = elapsed_us(&start);
	for (int shift = 12; shift >= 0; shift -= 4) {
		assert_true(((v >> shift) & 0xf) <= 9);
		dec = dec * 10 + ((v >> shift) & 0xf);
	}
	if (us < 8000) {	/* not wrapped yet: 1.193 counts a microsecond */
		assert_true(dec <= 9999 - 3000 * 1193 / 1000 + 20);
		assert_true(dec >= 9999 - us * 1193 / 1000 - 20);
	}
	assert_int_equal(read_status(1) & 1, 1);
	teardown(NULL);
}

/*
 * Linux's pit_calibrate_tsc(): gate 2 up with the speaker off, channel 2
 * in mode 0 with a 50 ms count, then poll port 0x61 bit 5 for OUT2.
 */
static void test_linux_calibration(void **state)
{
	uint64_t start, t;
	uint16_t latch = KVM_PIT_FREQ / 20;

	setup(NULL);
	outb(0x61, (inb(0x61) & ~0x02) | 0x01);
	assert_int_equal(inb(0x61) & 0x03, 0x01);
	outb(0x43, 0xb0);
	outb(0x42, latch & 0xff);
	start = kvm_clock_ns();
	outb(0x42, latch >> 8);
	assert_int_equal(inb(0x61) & 0x20, 0);
	while (!(inb(0x61) & 0x20) && kvm_clock_ns() - start < WAIT_LIMIT_NS)
		;
	t = kvm_clock_ns() - start;
	assert_true(t >= 45000000 && t < WAIT_LIMIT_NS);
	/* The refresh bit toggles. */
	start = kvm_clock_ns();
	for (uint8_t first = inb(0x61) & 0x10; (inb(0x61) & 0x10) == first;)
		assert_true(kvm_clock_ns() - start < WAIT_LIMIT_NS);
	teardown(NULL);
}

/*
 * A low gate holds OUT2 high in mode 2; its rising edge restarts the
 * count: right after it the counter is within what really passed of the
 * full count, where 10 ms after the load it was not.
 */
static void test_gate(void **state)
{
	uint16_t after;
	uint64_t t0, d;
	int tries = 0;

	setup(NULL);
	outb(0x61, 0x00);
	program(2, 2, 0, 0x8000);
	assert_true(inb(0x61) & 0x20);
	do {
		assert_true(++tries <= TRIES);
		outb(0x61, 0x00);
		usleep(10000);
		t0 = kvm_clock_ns();
		outb(0x61, 0x01);
		after = latch_read(2);
		d = ns_to_clocks(kvm_clock_ns() - t0) + 1;
	} while (d >= 0x8000 - 11932);
	assert_true(after >= 0x8000 - d);
	teardown(NULL);
}

/* --- IRQ 0 ------------------------------------------------------------------ */

/*
 * Mode 2 at 100 Hz ticks on and on; the n-th tick comes n periods after
 * the load or later (a loaded host is late, never early).  Mode 0 ticks
 * once, not early, and never again.
 */
static void test_irq0_periodic(void **state)
{
	struct kvm_reinject_control rc = { 0 };
	uint64_t period = count_ns(KVM_PIT_FREQ / 100), t0, t;
	int n;

	setup(NULL);
	kvm_pit_set_reinject(pit, rc.pit_reinject);
	t0 = kvm_clock_ns();
	program(0, 2, 0, KVM_PIT_FREQ / 100);	/* 100 Hz */
	n = wait_ticks(20);
	t = kvm_clock_ns() - t0;
	assert_true(n >= 20);
	assert_true((uint64_t)n * period <= t);
	teardown(NULL);

	setup(NULL);
	kvm_pit_set_reinject(pit, rc.pit_reinject);
	t0 = kvm_clock_ns();
	program(0, 0, 0, KVM_PIT_FREQ / 100);
	assert_int_equal(wait_ticks(1), 1);
	t = kvm_clock_ns();
	assert_true(t - t0 >= period);
	sleep_until(t, 5 * period);
	assert_int_equal(atomic_load(&ticks), 1);
	teardown(NULL);
}

static void test_irq0_reinject(void **state)
{
	uint64_t t0;
	int n;

	setup(NULL);
	program(0, 2, 0, KVM_PIT_FREQ / 200);	/* 5 ms */
	assert_true(wait_ticks(1) >= 1);
	/* Nobody acked: one tick in flight, the rest held back. */
	wait_pending(5);
	assert_int_equal(atomic_load(&ticks), 1);
	kvm_pit_ack_irq(pit);
	assert_int_equal(atomic_load(&ticks), 2);
	for (int i = 0; i < 4; i++)
		kvm_pit_ack_irq(pit);
	assert_int_equal(atomic_load(&ticks), 6);
	/* HPET legacy mode silences IRQ 0. */
	struct kvm_pit_state2 st;
	kvm_pit_get_state(pit, &st);
	st.flags |= KVM_PIT_FLAGS_HPET_LEGACY;
	kvm_pit_set_state(pit, &st);
	kvm_pit_set_reinject(pit, false);
	wait_timer_passed();	/* a tick raised before is delivered */
	n = atomic_load(&ticks);
	t0 = kvm_clock_ns();
	sleep_until(t0, 30000000);
	wait_timer_passed();	/* and the timer did run meanwhile */
	assert_int_equal(atomic_load(&ticks), n);
	teardown(NULL);
}

/*
 * Loading a count forgets the tick in flight and those owed, as KVM's: a
 * tick comes after the reload with no ack, and one owed since the reload
 * follows the next ack.
 */
static void test_irq0_reinject_reload(void **state)
{
	uint64_t period = count_ns(KVM_PIT_FREQ / 200), t0;
	unsigned int pending;
	int n;

	setup(NULL);
	program(0, 2, 0, KVM_PIT_FREQ / 200);	/* 5 ms */
	assert_true(wait_ticks(1) >= 1);
	wait_pending(1);
	assert_int_equal(atomic_load(&ticks), 1);
	t0 = kvm_clock_ns();
	program(0, 2, 0, KVM_PIT_FREQ / 200);
	pending = pit_pending();
	if (kvm_clock_ns() - t0 < period)	/* no expiry since the reload */
		assert_int_equal(pending, 0);
	assert_true(wait_ticks(2) >= 2);	/* no ack was needed */
	wait_pending(1);
	n = atomic_load(&ticks);
	kvm_pit_ack_irq(pit);
	assert_int_equal(atomic_load(&ticks), n + 1);	/* one owed since */
	teardown(NULL);
}

/*
 * Reinjection owes the guest every period, however late the timer thread
 * runs: holding the PIT lock stalls the callback for 300 periods, and
 * afterwards the ticks delivered, in flight and pending still account for
 * every period up to the next expiry.
 */
static void test_irq0_reinject_late(void **state)
{
	uint64_t period = count_ns(KVM_PIT_FREQ / 1000), load, next;
	unsigned int pending;

	setup(NULL);
	program(0, 2, 0, KVM_PIT_FREQ / 1000);	/* 1 ms */
	pthread_mutex_lock(&pit->lock);
	load = (uint64_t)pit->s.channels[0].count_load_time;
	usleep(300000);
	pthread_mutex_unlock(&pit->lock);
	wait_timer_passed();
	pthread_mutex_lock(&pit->lock);
	pending = pit->pending;
	next = pit->timer_expires;
	pthread_mutex_unlock(&pit->lock);
	assert_true(pending >= 299);
	assert_int_equal(atomic_load(&ticks), 1);	/* nobody acked */
	assert_int_equal(next - load, (pending + 2) * period);
	teardown(NULL);
}

/* --- Save/restore -------------------------------------------------------------- */

static void test_save_restore(void **state)
{
	struct kvm_pit_state2 st;
	uint8_t lo;
	int n;

	setup(NULL);
	kvm_pit_set_reinject(pit, false);
	program(0, 2, 0, KVM_PIT_FREQ / 100);
	outb(0x61, 0x03);
	outb(0x43, 0xb6);			/* ch2 mode 3, word access */
	outb(0x42, 0x34);			/* half a count written */
	program(1, 2, 0, 0x1000);
	outb(0x43, 0x40);			/* ch1 count latched */
	kvm_pit_get_state(pit, &st);
	assert_int_equal(st.channels[0].count, KVM_PIT_FREQ / 100);
	assert_int_equal(st.channels[0].mode, 2);
	assert_int_equal(st.channels[2].write_state, 4);
	assert_int_equal(st.channels[2].write_latch, 0x34);
	assert_true(st.flags & KVM_PIT_FLAGS_SPEAKER_DATA_ON);
	assert_int_equal(st.channels[1].count_latched, 3);
	kvm_pit_unregister(pit, &test_kvm);
	kvm_pit_destroy(pit);
	pit = new_pit();
	kvm_pit_set_reinject(pit, false);
	kvm_pit_set_state(pit, &st);
	/* The half-written count completes; the latch is still there. */
	outb(0x42, 0x12);
	assert_int_equal(inb(0x61) & 0x03, 0x03);
	assert_true(latch_read(2) <= 0x1234);
	lo = inb(0x41);
	assert_true((lo | inb(0x41) << 8) <= 0x1000);
	n = atomic_load(&ticks);
	assert_true(wait_ticks(n + 2) >= n + 2);	/* IRQ 0 ticks on */
	teardown(NULL);
}

int main(void)
{
	struct CMUnitTest tests[32];
	size_t n = 0;

	for (size_t i = 0; i < sizeof(mode_cases) / sizeof(mode_cases[0]); i++)
		tests[n++] = (struct CMUnitTest){
			.name = mode_cases[i].name, .test_func = run_mode_case,
			.initial_state = (void *)&mode_cases[i],
		};
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_access_modes);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_bcd);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_linux_calibration);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_gate);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_irq0_periodic);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_irq0_reinject);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_irq0_reinject_reload);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_irq0_reinject_late);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_save_restore);
	return _cmocka_run_group_tests("i8254", tests, n, NULL, NULL);
}
