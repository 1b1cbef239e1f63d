// SPDX-License-Identifier: MIT
/*
 * test_i8254.c - the PIT through ports 0x40-0x43 and 0x61: access modes,
 * latches, read-back, BCD, each counting mode's counter and OUT, Linux's
 * TSC calibration loop, IRQ 0 ticks with and without reinjection, and
 * save/restore.  Timing asserts only generous bounds.
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
 * Counts of ~27 ms: the two latches 2 ms apart must fall within one
 * period even when the host is loaded (a parallel test run), or the
 * counter wraps between them.
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

	setup(NULL);
	outb(0x61, 0x01);			/* gate 2 high */
	program(2, c->mode, 0, c->count);
	st = read_status(2);
	assert_int_equal(st & 0x3f, 0x30 | mode << 1);
	assert_int_equal(!!(st & 0x80), c->out_at_load);
	assert_int_equal(!!(inb(0x61) & 0x20), c->out_at_load);
	a = latch_read(2);
	usleep(2000);
	b = latch_read(2);
	assert_true(a <= c->count && b < a);
	if (c->even)
		assert_int_equal(a & 1, 0);
	usleep(3 * (uint64_t)c->count * 1000000ULL / KVM_PIT_FREQ);
	if (c->out_later >= 0)
		assert_int_equal(!!(read_status(2) & 0x80), c->out_later);
	teardown(NULL);
}

/* --- Access modes, latches, read-back, BCD ------------------------------- */

static void test_access_modes(void **state)
{
	uint16_t v;
	uint8_t lo, hi;

	setup(NULL);
	/* LSB only: the MSB is 0. */
	outb(0x43, 0x50);			/* ch1, LSB, mode 0 */
	outb(0x41, 0xf0);
	assert_true(inb(0x41) <= 0xf0);
	assert_int_equal(read_status(1) & 0x3f, 0x10);
	/* MSB only. */
	outb(0x43, 0x60);			/* ch1, MSB, mode 0 */
	outb(0x41, 0x40);
	v = inb(0x41);
	assert_true(v <= 0x40 && v >= 0x3e);
	/* A latched count holds while the counter runs on. */
	program(1, 2, 0, 0xffff);
	v = latch_read(1);
	outb(0x43, 0x40);
	usleep(5000);
	lo = inb(0x41);
	usleep(1000);
	hi = inb(0x41);
	assert_true((uint16_t)(lo | hi << 8) <= v);
	assert_true(latch_read(1) < (uint16_t)(lo | hi << 8));
	/* A second latch before the read does not overwrite the first. */
	outb(0x43, 0x40);
	usleep(2000);
	outb(0x43, 0x40);
	lo = inb(0x41);
	hi = inb(0x41);
	assert_true(latch_read(1) < (uint16_t)(lo | hi << 8));
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
	while (!(inb(0x61) & 0x20) && kvm_clock_ns() - start < 3000000000ULL)
		;
	t = kvm_clock_ns() - start;
	assert_true(t >= 45000000 && t < 3000000000ULL);
	/* The refresh bit toggles. */
	start = kvm_clock_ns();
	for (uint8_t first = inb(0x61) & 0x10; (inb(0x61) & 0x10) == first;)
		assert_true(kvm_clock_ns() - start < 1000000000ULL);
	teardown(NULL);
}

/* A low gate holds OUT2 high in mode 2; its rising edge restarts the count. */
static void test_gate(void **state)
{
	uint16_t before, after;

	setup(NULL);
	outb(0x61, 0x00);
	program(2, 2, 0, 0x8000);
	assert_true(inb(0x61) & 0x20);
	usleep(10000);
	before = latch_read(2);
	outb(0x61, 0x01);
	after = latch_read(2);
	assert_true(after > before);
	teardown(NULL);
}

/* --- IRQ 0 ------------------------------------------------------------------ */

static void test_irq0_periodic(void **state)
{
	struct kvm_reinject_control rc = { 0 };
	int n;

	setup(NULL);
	kvm_pit_set_reinject(pit, rc.pit_reinject);
	program(0, 2, 0, KVM_PIT_FREQ / 100);	/* 100 Hz */
	usleep(200000);
	n = atomic_load(&ticks);
	/* 20 ticks in 200 ms; a loaded host runs late, never early. */
	assert_true(n >= 4 && n <= 22);
	/* Mode 0: one tick. */
	program(0, 0, 0, KVM_PIT_FREQ / 100);
	usleep(30000);
	n = atomic_load(&ticks);
	usleep(50000);
	assert_int_equal(atomic_load(&ticks), n);
	teardown(NULL);
}

static void test_irq0_reinject(void **state)
{
	int n;

	setup(NULL);
	program(0, 2, 0, KVM_PIT_FREQ / 200);	/* 5 ms */
	usleep(60000);
	/* Nobody acked: one tick in flight, the rest held back. */
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
	n = atomic_load(&ticks);
	usleep(30000);
	assert_int_equal(atomic_load(&ticks), n);
	teardown(NULL);
}

/* Loading a count forgets the tick in flight and those owed, as KVM's. */
static void test_irq0_reinject_reload(void **state)
{
	setup(NULL);
	program(0, 2, 0, KVM_PIT_FREQ / 200);	/* 5 ms */
	usleep(30000);
	assert_int_equal(atomic_load(&ticks), 1);
	program(0, 2, 0, KVM_PIT_FREQ / 200);
	usleep(30000);
	assert_int_equal(atomic_load(&ticks), 2);	/* no ack was needed */
	kvm_pit_ack_irq(pit);
	assert_int_equal(atomic_load(&ticks), 3);	/* one owed since the reload */
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
	usleep(100000);
	assert_true(atomic_load(&ticks) - n >= 2);	/* IRQ 0 ticks on */
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
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_save_restore);
	return _cmocka_run_group_tests("i8254", tests, n, NULL, NULL);
}
