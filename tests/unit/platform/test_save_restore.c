// SPDX-License-Identifier: MIT
/*
 * test_save_restore.c - the platform's state saved mid-run and restored
 * into a fresh VM, which must continue as the first would have.
 *
 * In the first VM the guest holds a level IOAPIC interrupt in service
 * (its LAPIC EOI deferred: Remote IRR set), a lower-priority edge
 * interrupt pending in the LAPIC's IRR behind it, a LAPIC timer and the
 * PIT (through the PIC) armed and firing.  The vCPU is stopped at a
 * handler's report, its OUT retired with immediate_exit, and the state
 * taken: KVM_GET_REGS/SREGS/VCPU_EVENTS/MP_STATE/LAPIC, KVM_GET_IRQCHIP
 * for both PICs and the IOAPIC, KVM_GET_PIT2 and the memory.  The first
 * VM is closed, a second one built from that state, and then: the
 * saved state reads back the same, the timers keep firing with their
 * period, and once the line drops and the guest EOIs, the pending
 * interrupt runs exactly once and the level one never again.
 */
#include "guest_vm.h"

#define MS		1000000ull
#define PIT_HZ		1193182ull
#define VEC_LEVEL	0x49		/* IOAPIC pin 9, level */
#define VEC_EDGE	0x41		/* IOAPIC pin 3, edge: waits behind VEC_LEVEL */
#define VEC_TIMER	0xe1		/* LAPIC timer, above both */
#define VEC_PIT		0x20		/* IRQ 0 through the PIC */

struct sr_row {
	const char *what;
	bool x2apic;
	uint32_t lvt_mode;		/* periodic, or one-shot */
	uint64_t lapic_ns;
	int pit_mode;
	uint64_t pit_ns;
};

static const struct sr_row sr_rows[] = {
	{ "xAPIC, periodic LAPIC timer, PIT mode 2", false, 1u << 17, 20 * MS, 2, 30 * MS },
	{ "x2APIC, one-shot LAPIC timer armed, PIT mode 3", true, 0, 400 * MS, 3, 20 * MS },
	{ "xAPIC, one-shot LAPIC timer expired before the save", false, 0, 5 * MS, 2, 20 * MS },
	{ "x2APIC, one-shot LAPIC timer expired before the save", true, 0, 5 * MS, 3, 20 * MS },
};

struct saved {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_vcpu_events events;
	struct kvm_mp_state mp;
	struct kvm_lapic_state lapic;
	struct kvm_irqchip chip[3];
	struct kvm_pit_state2 pit;
	uint8_t *mem;
};

struct sr_state {
	bool stop;
	uint64_t last_ns[256];
	int reports[256];
};

static bool sr_hook(struct gvm *v, int cpu, uint16_t port, uint8_t val, uint64_t ns)
{
	struct sr_state *s = v->opaque;

	(void)cpu;
	if (port != G_PORT_REPORT)
		return false;
	s->last_ns[val] = ns;
	/* reports[] is polled by the main thread (pred_reports) */
	__atomic_fetch_add(&s->reports[val], 1, __ATOMIC_SEQ_CST);
	return __atomic_load_n(&s->stop, __ATOMIC_SEQ_CST);
}

static bool pred_reports(struct gvm *v, void *arg)
{
	const int *want = arg;		/* {vector, count} */
	struct sr_state *s = v->opaque;

	return __atomic_load_n(&s->reports[want[0]], __ATOMIC_SEQ_CST) >= want[1];
}

static void wait_reports(struct gvm *v, int vec, int n)
{
	int want[2] = { vec, n };
	char what[48];

	snprintf(what, sizeof(what), "%d reports of vector %#x", n, vec);
	gvm_wait_for(v, pred_reports, want, 10000, what);
}

static bool lapic_bit(const struct kvm_lapic_state *l, int reg, int vec)
{
	uint32_t w;

	memcpy(&w, l->regs + reg + 0x10 * (vec / 32), 4);
	return w & (1u << (vec % 32));
}

static void save(struct gvm *v, struct saved *s)
{
	int fd = v->cpu[0].fd;

	assert_int_equal(gvm_ioctl(fd, KVM_GET_REGS, &s->regs), 0);
	assert_int_equal(gvm_ioctl(fd, KVM_GET_SREGS, &s->sregs), 0);
	assert_int_equal(gvm_ioctl(fd, KVM_GET_VCPU_EVENTS, &s->events), 0);
	assert_int_equal(gvm_ioctl(fd, KVM_GET_MP_STATE, &s->mp), 0);
	assert_int_equal(gvm_ioctl(fd, KVM_GET_LAPIC, &s->lapic), 0);
	for (uint32_t i = 0; i < 3; i++) {
		memset(&s->chip[i], 0, sizeof(s->chip[i]));
		s->chip[i].chip_id = i;
		assert_int_equal(gvm_ioctl(v->fd, KVM_GET_IRQCHIP, &s->chip[i]), 0);
	}
	/*
	 * The PIT ticks by a pulse, line up then down, from the timer thread;
	 * KVM_GET_IRQCHIP can come between the two after the vCPU took the
	 * rising edge.  Restored as is, the PIC would not see the next tick's
	 * rising edge, and with reinjection the PIT would wait for its ack
	 * for ever: KVM behaves the same.  The line is low at rest: save it so.
	 */
	s->chip[KVM_IRQCHIP_PIC_MASTER].chip.pic.last_irr &= (uint8_t)~1u;
	assert_int_equal(gvm_ioctl(v->fd, KVM_GET_PIT2, &s->pit), 0);
	s->mem = malloc(G_MEM_SIZE);
	assert_non_null(s->mem);
	memcpy(s->mem, v->mem, G_MEM_SIZE);
}

/* Restore in the order a VMM uses: chips and PIT, then the vCPU. */
static void restore(struct gvm *v, const struct saved *s)
{
	struct kvm_irqchip chip;
	struct kvm_lapic_state lapic, saved;
	struct kvm_regs regs;
	int fd = v->cpu[0].fd;

	memcpy(v->mem, s->mem, G_MEM_SIZE);
	for (uint32_t i = 0; i < 3; i++) {
		assert_int_equal(gvm_ioctl(v->fd, KVM_SET_IRQCHIP, &s->chip[i]), 0);
		memset(&chip, 0, sizeof(chip));
		chip.chip_id = i;
		assert_int_equal(gvm_ioctl(v->fd, KVM_GET_IRQCHIP, &chip), 0);
		assert_memory_equal(&chip, &s->chip[i], sizeof(chip));
	}
	assert_int_equal(gvm_ioctl(v->fd, KVM_SET_PIT2, &s->pit), 0);
	assert_int_equal(gvm_ioctl(fd, KVM_SET_SREGS, &s->sregs), 0);
	assert_int_equal(gvm_ioctl(fd, KVM_SET_REGS, &s->regs), 0);
	assert_int_equal(gvm_ioctl(fd, KVM_SET_LAPIC, &s->lapic), 0);
	assert_int_equal(gvm_ioctl(fd, KVM_SET_VCPU_EVENTS, &s->events), 0);
	assert_int_equal(gvm_ioctl(fd, KVM_SET_MP_STATE, &s->mp), 0);
	assert_int_equal(gvm_ioctl(fd, KVM_GET_REGS, &regs), 0);
	assert_memory_equal(&regs, &s->regs, sizeof(regs));
	assert_int_equal(gvm_ioctl(fd, KVM_GET_LAPIC, &lapic), 0);
	/*
	 * All but the current count (0x390), which moves, and the timer's
	 * IRR bit: an expired one-shot fires again at once (as KVM's).
	 */
	memcpy(&saved, &s->lapic, sizeof(saved));
	for (struct kvm_lapic_state *l = &lapic; l; l = l == &lapic ? &saved : NULL) {
		memset(l->regs + 0x390, 0, 4);
		l->regs[0x200 + 0x10 * (VEC_TIMER / 32) + (VEC_TIMER % 32) / 8] &=
			(uint8_t)~(1u << (VEC_TIMER % 8));
	}
	assert_memory_equal(lapic.regs, saved.regs, sizeof(lapic.regs));
}

static void config(struct gvm *v, const struct sr_row *row)
{
	uint32_t redir[2][3] = {
		{ 9, VEC_LEVEL | 1u << 15, 0 },	/* level, to vCPU 0 */
		{ 3, VEC_EDGE, 0 },
	};

	gpc_set32(v, 0, PC_FLAGS, CPU_CHIPS | CPU_TIMER | (row->x2apic ? CPU_X2APIC : 0));
	*g32(v, G_PIC_INIT) = 1;
	*g32(v, G_PIC_MASK) = 0xfffe;
	memcpy(v->mem + G_REDIR, redir, sizeof(redir));
	*g32(v, G_NREDIR) = 2;
	*g32(v, G_PIT_CMD) = 0x30 | (uint32_t)row->pit_mode << 1;
	*g32(v, G_PIT_COUNT) = (uint32_t)(row->pit_ns * PIT_HZ / 1000000000ull);
	*g32(v, G_TMR_LVT) = row->lvt_mode | VEC_TIMER;
	*g32(v, G_TMR_COUNT) = (uint32_t)row->lapic_ns;
	gvm_eoi(v, 0, VEC_LEVEL, EOI_REPORT | EOI_DEFER);
	gvm_eoi(v, 0, VEC_EDGE, EOI_REPORT | EOI_LAPIC);
	gvm_eoi(v, 0, VEC_TIMER, EOI_REPORT | EOI_LAPIC);
	gvm_eoi(v, 0, VEC_PIT, EOI_REPORT | EOI_MASTER);
}

/* After the restore at t0, vec kept firing with its period. */
static void check_period(const struct sr_state *s, int vec, uint64_t period,
			 uint64_t t0, const char *what)
{
	assert_true(s->reports[vec] >= 2);
	print_message("    vector %#x:", vec);
	gvm_check_rate(what, t0, s->last_ns[vec], s->reports[vec], period, true);
}

static void sr_run(const struct sr_row *row)
{
	struct sr_state a = { 0 }, b = { 0 };
	bool periodic = row->lvt_mode != 0;
	uint32_t timer_a, pit_a;
	struct saved s;
	struct gvm v;
	uint64_t t_restore;
	uint32_t tmcct;

	/* The first VM: get an interrupt in service and one pending. */
	gvm_create(&v, 1, true);
	config(&v, row);
	v.hook = sr_hook;
	v.opaque = &a;
	gvm_enter_pm(&v, 0, G_ENTRY(guest_entry_idle));
	gvm_start(&v, 0);
	gvm_wait_logged(&v, G_PORT_READY, 1, 10000);
	assert_int_equal(gvm_irq_line(&v, 9, 1), 1);
	wait_reports(&v, VEC_LEVEL, 1);
	assert_int_equal(gvm_irq_line(&v, 3, 1), 1);
	gvm_irq_line(&v, 3, 0);
	wait_reports(&v, VEC_PIT, 3);
	if (periodic)
		wait_reports(&v, VEC_TIMER, 3);
	__atomic_store_n(&a.stop, true, __ATOMIC_SEQ_CST);
	gvm_join(&v, 10000);
	assert_true(v.cpu[0].stopped);
	save(&v, &s);
	timer_a = gcount(&v, 0, VEC_TIMER);
	pit_a = gcount(&v, 0, VEC_PIT);
	assert_int_equal(gcount(&v, 0, VEC_LEVEL), 1);
	assert_int_equal(gcount(&v, 0, VEC_EDGE), 0);
	gvm_destroy(&v);

	/* What was saved: VEC_LEVEL in service, VEC_EDGE pending, timers armed. */
	assert_int_equal(s.mp.mp_state, KVM_MP_STATE_RUNNABLE);
	assert_true(lapic_bit(&s.lapic, 0x100, VEC_LEVEL));	/* ISR */
	assert_true(lapic_bit(&s.lapic, 0x180, VEC_LEVEL));	/* TMR */
	assert_true(lapic_bit(&s.lapic, 0x200, VEC_EDGE));	/* IRR */
	assert_false(lapic_bit(&s.lapic, 0x100, VEC_EDGE));
	assert_int_equal(s.chip[2].chip.ioapic.redirtbl[9].fields.remote_irr, 1);
	assert_int_equal(s.chip[0].chip.pic.imr, 0xfe);
	assert_int_equal(s.pit.channels[0].mode, row->pit_mode);
	memcpy(&tmcct, s.lapic.regs + 0x390, 4);
	assert_true(tmcct <= row->lapic_ns);		/* divide by 1: ns */
	if (periodic)
		assert_true(tmcct > 0);

	/* The second VM, from the saved state. */
	gvm_create(&v, 1, true);
	restore(&v, &s);
	v.hook = sr_hook;
	v.opaque = &b;
	t_restore = gvm_now();
	gvm_start(&v, 0);
	wait_reports(&v, VEC_PIT, 4);
	if (periodic)
		wait_reports(&v, VEC_TIMER, 4);
	else
		wait_reports(&v, VEC_TIMER, 1);
	/* Nothing new yet: VEC_LEVEL is still in service. */
	assert_int_equal(gcount(&v, 0, VEC_LEVEL), 1);
	assert_int_equal(gcount(&v, 0, VEC_EDGE), 0);
	/* The device drops the line, the guest EOIs (at its next wake-up). */
	gvm_irq_line(&v, 9, 0);
	__atomic_store_n(g32(&v, G_EOI_NOW), 1, __ATOMIC_SEQ_CST);
	wait_reports(&v, VEC_EDGE, 1);
	usleep(100000);
	gvm_finish(&v);

	assert_int_equal(gcount(&v, 0, VEC_LEVEL), 1);
	assert_int_equal(gcount(&v, 0, VEC_EDGE), 1);
	assert_int_equal(b.reports[VEC_LEVEL], 0);
	assert_int_equal(gcount(&v, 0, VEC_PIT), pit_a + (uint32_t)b.reports[VEC_PIT]);
	assert_int_equal(gcount(&v, 0, VEC_TIMER), timer_a + (uint32_t)b.reports[VEC_TIMER]);
	check_period(&b, VEC_PIT, row->pit_ns, t_restore, row->what);
	if (periodic) {
		check_period(&b, VEC_TIMER, row->lapic_ns, t_restore, row->what);
	} else {
		/*
		 * It goes on from the saved current count, as KVM's (an expired
		 * one, count 0, fires once more at once, as KVM's): once, not
		 * before that count has run down.
		 */
		assert_int_equal(b.reports[VEC_TIMER], 1);
		print_message("    one-shot: %.2f ms left when saved, fired %.2f ms after "
			      "the restore\n", (double)tmcct / MS,
			      (double)(b.last_ns[VEC_TIMER] - t_restore) / MS);
		if (b.last_ns[VEC_TIMER] - t_restore < tmcct ||
		    b.last_ns[VEC_TIMER] - t_restore > tmcct + 2000 * MS)
			fail_msg("%s: one-shot fired %.3f ms after the restore, %.3f ms left",
				 row->what, (double)(b.last_ns[VEC_TIMER] - t_restore) / MS,
				 (double)tmcct / MS);
	}
	assert_int_equal(gpc_get32(&v, 0, PC_COUNT + 4 * G_VEC_SPURIOUS), 0);
	{
		struct kvm_irqchip chip = { .chip_id = KVM_IRQCHIP_IOAPIC };

		assert_int_equal(gvm_ioctl(v.fd, KVM_GET_IRQCHIP, &chip), 0);
		assert_int_equal(chip.chip.ioapic.redirtbl[9].fields.remote_irr, 0);
	}
	free(s.mem);
	gvm_destroy(&v);
}

static void test_save_restore(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(sr_rows) / sizeof(sr_rows[0]); i++) {
		print_message("  %s\n", sr_rows[i].what);
		sr_run(&sr_rows[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_save_restore),
	};

	if (gvm_kvm_missing())
		return 77;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
