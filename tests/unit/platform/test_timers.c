// SPDX-License-Identifier: MIT
/*
 * test_timers.c - timers firing in a guest, within a tolerance of their
 * programmed period: the LAPIC timer (one-shot, periodic, TSC deadline,
 * xAPIC and x2APIC), PIT channel 0 in modes 2 and 3 driving IRQ 0
 * through the PIC and through the IOAPIC, and port 0x61 with channel 2
 * as Linux's TSC calibration uses them.
 *
 * The guest arms the timer right after an OUT whose exit the harness
 * timestamps (t0), and its handler reports each expiry by another OUT
 * (t1, t2, ...).  A one-shot expiry is never early (t1 - t0 >= period:
 * t0 precedes the arming) and not absurdly late; a periodic timer's
 * n-th expiry is never earlier than t0 + n x period and its mean period
 * from t0 is within 3x (plus 1 s of slack, gvm_check_rate).  The mean
 * is taken from t0, not between expiries: after a stall of the vCPU
 * thread the PIT's reinjected ticks come back to back.
 */
#include "guest_vm.h"

#define PIT_HZ		1193182ull
#define MS		1000000ull
#define LATE_NS		(2000 * MS)	/* a one-shot may be this late */

enum kind { LAPIC, TSCDL, PIT_PIC, PIT_IOAPIC };

struct timer_row {
	const char *what;
	enum kind kind;
	bool x2apic;
	uint32_t mode;			/* LVT timer mode bits, or PIT mode */
	uint64_t period_ns;
	int periods;			/* 0: one-shot */
	int vec;
	uint32_t pin;			/* PIT_IOAPIC: 2 = GSI 0 routed to pin 2 */
};

#define LVT_PERIODIC	(1u << 17)
#define LVT_TSCDL	(2u << 17)

static const struct timer_row timer_rows[] = {
	{ "LAPIC one-shot", LAPIC, false, 0, 30 * MS, 0, 0x30 },
	{ "LAPIC one-shot, x2APIC", LAPIC, true, 0, 30 * MS, 0, 0x30 },
	{ "LAPIC periodic", LAPIC, false, LVT_PERIODIC, 20 * MS, 8, 0x31 },
	{ "LAPIC periodic, x2APIC", LAPIC, true, LVT_PERIODIC, 20 * MS, 8, 0x31 },
	{ "LAPIC TSC deadline", TSCDL, false, LVT_TSCDL, 30 * MS, 0, 0x32 },
	{ "LAPIC TSC deadline, x2APIC", TSCDL, true, LVT_TSCDL, 30 * MS, 0, 0x32 },
	{ "PIT mode 2, IRQ 0 through the PIC", PIT_PIC, false, 2, 20 * MS, 8, 0x20 },
	{ "PIT mode 3, IRQ 0 through the PIC", PIT_PIC, false, 3, 20 * MS, 8, 0x20 },
	{ "PIT mode 2, IRQ 0 through the IOAPIC", PIT_IOAPIC, false, 2, 20 * MS, 8, 0x40 },
	{ "PIT mode 3, IRQ 0 through the IOAPIC", PIT_IOAPIC, false, 3, 20 * MS, 8, 0x40 },
	{ "PIT mode 2, GSI 0 routed to IOAPIC pin 2 (QEMU's table)", PIT_IOAPIC, false,
	  2, 20 * MS, 8, 0x42, 2 },
};

/*
 * The routing QEMU sets: GSI 0 to PIC pin 0 and IOAPIC pin 2, no GSI 2,
 * every other GSI n to PIC pin n (n < 16) and IOAPIC pin n.  The PIT's
 * acks then come from pin 2 and must still find GSI 0.
 */
static void route_gsi0_to_pin2(struct gvm *v)
{
	struct kvm_irq_routing *r = calloc(1, sizeof(*r) + 48 * sizeof(r->entries[0]));

	assert_non_null(r);
	for (uint32_t gsi = 0; gsi < 24; gsi++) {
		struct kvm_irq_routing_entry *e;

		if (gsi == 2)
			continue;
		e = &r->entries[r->nr++];
		e->gsi = gsi;
		e->type = KVM_IRQ_ROUTING_IRQCHIP;
		e->u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
		e->u.irqchip.pin = gsi ? gsi : 2;
		if (gsi >= 16)
			continue;
		e = &r->entries[r->nr++];
		e->gsi = gsi;
		e->type = KVM_IRQ_ROUTING_IRQCHIP;
		e->u.irqchip.irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE;
		e->u.irqchip.pin = gsi & 7;
	}
	assert_int_equal(gvm_ioctl(v->fd, KVM_SET_GSI_ROUTING, r), 0);
	free(r);
}

struct timer_state {
	const struct timer_row *row;
	int fired;
};

/* After the row's number of periods, let the idle loop end. */
static bool timer_hook(struct gvm *v, int cpu, uint16_t port, uint8_t val, uint64_t ns)
{
	struct timer_state *s = v->opaque;

	(void)cpu;
	(void)ns;
	if (port == G_PORT_REPORT && val == s->row->vec &&
	    ++s->fired == s->row->periods)
		__atomic_store_n(g32(v, G_DONE), 1, __ATOMIC_SEQ_CST);
	return false;
}

/* Timestamps of the mark and the reports, from the log. */
static int timer_log(struct gvm *v, int vec, uint64_t *t0, uint64_t *t, int max)
{
	int n = 0;

	*t0 = 0;
	pthread_mutex_lock(&v->lock);
	for (int i = 0; i < v->nlog; i++) {
		if (v->log[i].port == G_PORT_MARK && !*t0)
			*t0 = v->log[i].ns;
		if (v->log[i].port == G_PORT_REPORT && v->log[i].val == vec && n < max)
			t[n++] = v->log[i].ns;
	}
	pthread_mutex_unlock(&v->lock);
	return n;
}

static void timer_run(const struct timer_row *row)
{
	struct timer_state st = { .row = row };
	uint64_t t0, t[16], period = row->period_ns;
	uint32_t flags = CPU_TIMER;
	struct gvm v;
	int n;

	gvm_create(&v, 1, row->kind == PIT_PIC || row->kind == PIT_IOAPIC);
	if (row->x2apic)
		flags |= CPU_X2APIC;
	switch (row->kind) {
	case LAPIC:
		*g32(&v, G_TMR_LVT) = row->mode | (uint32_t)row->vec;
		*g32(&v, G_TMR_COUNT) = (uint32_t)period;	/* 1 ns per count */
		gvm_eoi(&v, 0, row->vec, EOI_REPORT | EOI_LAPIC);
		break;
	case TSCDL: {
		long khz = gvm_ioctl(v.cpu[0].fd, KVM_GET_TSC_KHZ, 0);
		uint64_t delta;

		assert_true(khz > 0);
		delta = period * (uint64_t)khz / 1000000ull;
		*g32(&v, G_TMR_LVT) = row->mode | (uint32_t)row->vec;
		*g32(&v, G_TMR_COUNT) = 0;
		memcpy(v.mem + G_TSC_DELTA, &delta, 8);
		gvm_eoi(&v, 0, row->vec, EOI_REPORT | EOI_LAPIC);
		break;
	}
	case PIT_PIC:
	case PIT_IOAPIC:
		flags |= CPU_CHIPS;
		/* Channel 0, LSB then MSB, the mode, binary. */
		*g32(&v, G_PIT_CMD) = 0x30 | row->mode << 1;
		*g32(&v, G_PIT_COUNT) = (uint32_t)((period * PIT_HZ + 500000000ull) /
						   1000000000ull);
		*g32(&v, G_PIC_INIT) = 1;
		if (row->kind == PIT_PIC) {
			*g32(&v, G_PIC_MASK) = 0xfffe;
			gvm_eoi(&v, 0, row->vec, EOI_REPORT | EOI_MASTER);
		} else {
			uint32_t redir[3] = { row->pin, (uint32_t)row->vec, 0 };

			*g32(&v, G_PIC_MASK) = 0xffff;
			memcpy(v.mem + G_REDIR, redir, sizeof(redir));
			*g32(&v, G_NREDIR) = 1;
			gvm_eoi(&v, 0, row->vec, EOI_REPORT | EOI_LAPIC);
			if (row->pin == 2)
				route_gsi0_to_pin2(&v);
		}
		break;
	}
	gpc_set32(&v, 0, PC_FLAGS, flags);
	v.hook = timer_hook;
	v.opaque = &st;
	gvm_enter_pm(&v, 0, G_ENTRY(guest_entry_idle));
	gvm_start(&v, 0);

	if (row->periods) {
		gvm_join(&v, 30000);
		n = timer_log(&v, row->vec, &t0, t, 16);
		assert_true(n >= row->periods);
		n = row->periods;
	} else {
		gvm_wait_logged(&v, G_PORT_REPORT, 1, 10000);
		usleep((useconds_t)(3 * period / 1000));	/* it must not fire again */
		gvm_finish(&v);
		n = timer_log(&v, row->vec, &t0, t, 16);
		assert_int_equal(n, 1);
		assert_int_equal(gcount(&v, 0, row->vec), 1);
	}
	assert_true(t0 != 0);
	print_message("    first after %.2f ms", (double)(t[0] - t0) / MS);
	if (t[0] - t0 < period)
		fail_msg("%s: fired %.3f ms after arming, period %.3f ms", row->what,
			 (double)(t[0] - t0) / MS, (double)period / MS);
	if (!row->periods) {
		print_message("\n");
		if (t[0] - t0 > period + LATE_NS)
			fail_msg("%s: fired %.3f ms after arming", row->what,
				 (double)(t[0] - t0) / MS);
	} else {
		print_message("\n");
		gvm_check_rate(row->what, t0, t[n - 1], n, period, false);
	}
	gvm_destroy(&v);
}

static void test_timers(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(timer_rows) / sizeof(timer_rows[0]); i++) {
		print_message("  %s\n", timer_rows[i].what);
		timer_run(&timer_rows[i]);
	}
}

/*
 * Linux's pit_calibrate_tsc: gate 2 on and the speaker off by port 0x61,
 * channel 2 in mode 0 with 10 ms worth of counts, then poll port 0x61
 * until OUT2 (bit 5) rises.  OUT2 is low at the start; the wait lasts at
 * least the count (host clock and guest TSC) and not absurdly long.
 */
static void test_speaker_calibration(void **state)
{
	static const struct { uint32_t count; } rows[] = { { 11932 }, { 2 * 11932 } };

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint64_t want = (rows[i].count + 1) * 1000000000ull / PIT_HZ;
		uint64_t t1 = 0, t2 = 0, tsc;
		long khz;
		struct gvm v;

		gvm_create(&v, 1, true);
		khz = gvm_ioctl(v.cpu[0].fd, KVM_GET_TSC_KHZ, 0);
		assert_true(khz > 0);
		*g32(&v, G_PIT_COUNT) = rows[i].count;
		gvm_enter_pm(&v, 0, G_ENTRY(guest_entry_speaker));
		gvm_start(&v, 0);
		gvm_join(&v, 30000);
		for (int k = 0; k < v.nlog; k++) {
			if (v.log[k].port == G_PORT_MARK && v.log[k].val == 1)
				t1 = v.log[k].ns;
			if (v.log[k].port == G_PORT_MARK && v.log[k].val == 2)
				t2 = v.log[k].ns;
		}
		memcpy(&tsc, v.mem + G_SPK_TSC, 8);
		print_message("  count %u: %.2f ms by the host, %.2f ms by the guest TSC, "
			      "%u polls\n", rows[i].count, (double)(t2 - t1) / MS,
			      (double)tsc / (double)khz, *g32(&v, G_SPK_POLLS));
		assert_int_equal(*g32(&v, G_SPK_FIRST) & 0x21, 0x01);	/* OUT2 low, gate on */
		assert_true(*g32(&v, G_SPK_POLLS) >= 1);
		assert_true(t1 && t2);
		if (t2 - t1 < want || t2 - t1 > want + LATE_NS)
			fail_msg("OUT2 rose %.3f ms after the mark, want %.3f ms",
				 (double)(t2 - t1) / MS, (double)want / MS);
		/*
		 * The guest's own measure, as Linux takes it.  Its first RDTSC
		 * follows the count's load by a few instructions, but the host
		 * may preempt the vCPU thread between them (as it may preempt
		 * a vCPU on hardware), which shortens the guest's measure: it
		 * must not exceed the host's and must be the right magnitude.
		 */
		assert_true(tsc * 1000000ull / (uint64_t)khz <= t2 - t1 + LATE_NS);
		assert_true(tsc * 1000000ull / (uint64_t)khz >= want / 2);
		gvm_destroy(&v);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timers),
		cmocka_unit_test(test_speaker_calibration),
	};

	if (gvm_kvm_missing())
		return 77;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
