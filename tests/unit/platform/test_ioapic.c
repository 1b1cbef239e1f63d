// SPDX-License-Identifier: MIT
/*
 * test_ioapic.c - the 82093AA through IOREGSEL/IOWIN on the MMIO bus:
 * each case is a script of register accesses, pin changes and EOIs with
 * the messages the IOAPIC must send.
 */
#include "platform_test.h"
#include "ioapic.h"

#define BASE KVM_IOAPIC_DEFAULT_BASE

enum op {
	END,
	WR,		/* redirection/indirect register a := b */
	RD,		/* indirect register a == b */
	SEL,		/* IOREGSEL := a, then read it back */
	PIN,		/* kvm_ioapic_set_irq(a, b) == c */
	EOI,		/* kvm_ioapic_eoi(a) */
	SENT,		/* a messages sent so far */
	LAST,		/* last message: vector a, dest b, c = mode | logical<<3 | level<<4 */
	REFUSE,		/* deliveries from now on find no LAPIC (a = 1) */
	SAVE,		/* save, recreate, restore */
	ACKS,		/* a ack notifications so far */
};

struct step {
	enum op op;
	uint32_t a, b;
	int c;
};

/* Redirection entry low words. */
#define EDGE(v)		(v)
#define LEVEL(v)	((v) | 0x8000)
#define MASK		0x10000
#define RTE_LO(pin)	(0x10 + 2 * (pin))
#define RTE_HI(pin)	(0x11 + 2 * (pin))
#define REMOTE_IRR	0x4000

struct ioapic_case {
	const char *name;
	struct step steps[32];
};

static const struct ioapic_case cases[] = {
	{ "reset: version, id, every entry masked", {
		{ RD, 0x01, 0x00170011 }, { RD, 0x00, 0 }, { RD, RTE_LO(0), MASK },
		{ RD, RTE_LO(23), MASK }, { RD, RTE_HI(23), 0 },
		{ WR, 0x00, 0x0f000000 }, { RD, 0x00, 0x0f000000 },
		{ RD, 0x02, 0x0f000000 }, { SEL, 0x3f }, { RD, 0x40, 0xffffffff },
		{ END } } },
	{ "edge: one message per rising edge", {
		{ WR, RTE_HI(4), 0x03000000 }, { WR, RTE_LO(4), EDGE(0x34) },
		{ PIN, 4, 1, 1 }, { SENT, 1 }, { LAST, 0x34, 3, 0 },
		{ PIN, 4, 1, 0 }, { SENT, 1 }, { PIN, 4, 0, 1 },
		{ PIN, 4, 1, 1 }, { SENT, 2 }, { RD, RTE_LO(4), 0x34 },
		{ EOI, 0x34 }, { ACKS, 1 }, { SENT, 2 }, { END } } },
	{ "masked: status -1, an edge while masked is lost", {
		{ WR, RTE_LO(1), EDGE(0x31) | MASK }, { PIN, 1, 1, -1 },
		{ SENT, 0 }, { WR, RTE_LO(1), EDGE(0x31) }, { SENT, 0 },
		{ PIN, 1, 0, 1 }, { PIN, 1, 1, 1 }, { SENT, 1 }, { END } } },
	{ "level: remote IRR until EOI, then resend while high", {
		{ WR, RTE_LO(9), LEVEL(0x49) }, { PIN, 9, 1, 1 },
		{ RD, RTE_LO(9), LEVEL(0x49) | REMOTE_IRR },
		{ LAST, 0x49, 0, 0x10 }, { PIN, 9, 1, 0 }, { SENT, 1 },
		{ EOI, 0x49 }, { SENT, 2 }, { ACKS, 1 },
		{ RD, RTE_LO(9), LEVEL(0x49) | REMOTE_IRR },
		{ PIN, 9, 0, 1 }, { EOI, 0x49 }, { SENT, 2 }, { ACKS, 2 },
		{ RD, RTE_LO(9), LEVEL(0x49) }, { END } } },
	{ "level: EOI of another vector changes nothing", {
		{ WR, RTE_LO(10), LEVEL(0x50) }, { PIN, 10, 1, 1 },
		{ EOI, 0x51 }, { SENT, 1 }, { ACKS, 0 },
		{ RD, RTE_LO(10), LEVEL(0x50) | REMOTE_IRR }, { END } } },
	{ "level: unmasking an asserted line sends", {
		{ WR, RTE_LO(11), LEVEL(0x60) | MASK }, { PIN, 11, 1, -1 },
		{ SENT, 0 }, { WR, RTE_LO(11), LEVEL(0x60) }, { SENT, 1 },
		{ RD, RTE_LO(11), LEVEL(0x60) | REMOTE_IRR }, { END } } },
	{ "level: remote IRR and delivery status are read-only", {
		{ WR, RTE_LO(2), LEVEL(0x22) | REMOTE_IRR | 0x1000 },
		{ RD, RTE_LO(2), LEVEL(0x22) }, { END } } },
	{ "switching to edge clears remote IRR", {
		{ WR, RTE_LO(3), LEVEL(0x23) }, { PIN, 3, 1, 1 },
		{ RD, RTE_LO(3), LEVEL(0x23) | REMOTE_IRR },
		{ WR, RTE_LO(3), EDGE(0x23) }, { RD, RTE_LO(3), 0x23 },
		{ END } } },
	{ "no LAPIC takes it: remote IRR stays clear", {
		{ REFUSE, 1 }, { WR, RTE_LO(5), LEVEL(0x25) },
		{ PIN, 5, 1, -1 }, { RD, RTE_LO(5), LEVEL(0x25) }, { END } } },
	{ "message fields: logical, lowest priority, NMI, ExtINT", {
		{ WR, RTE_HI(6), 0x0f000000 }, { WR, RTE_LO(6), 0x0926 },
		{ PIN, 6, 1, 1 }, { LAST, 0x26, 0x0f, 1 | 8 },
		{ WR, RTE_LO(7), 0x0400 }, { PIN, 7, 1, 1 }, { LAST, 0, 0, 4 },
		{ WR, RTE_LO(0), 0x0700 }, { PIN, 0, 1, 1 }, { LAST, 0, 0, 7 },
		{ END } } },
	{ "IOREGSEL reads back; high dword holds the destination", {
		{ SEL, RTE_HI(8) }, { WR, RTE_HI(8), 0xff00ffff },
		{ RD, RTE_HI(8), 0xff000000 }, { END } } },
	{ "save/restore with a level interrupt in flight", {
		{ WR, RTE_LO(12), LEVEL(0x70) }, { WR, RTE_LO(13), EDGE(0x71) },
		{ PIN, 12, 1, 1 }, { PIN, 13, 1, 1 }, { SEL, RTE_LO(13) },
		{ SAVE }, { SENT, 2 },
		{ RD, RTE_LO(12), LEVEL(0x70) | REMOTE_IRR },
		{ PIN, 13, 1, 0 }, { EOI, 0x70 }, { SENT, 3 },
		{ LAST, 0x70, 0, 0x10 }, { END } } },
};

static int sent, acks;
static bool refuse;
static struct kvm_lapic_irq last;

static int fake_deliver(void *opaque, const struct kvm_lapic_irq *irq)
{
	if (refuse)
		return -1;
	sent++;
	last = *irq;
	return 1;
}

static void fake_ack(void *opaque, int pin)
{
	acks++;
}

static const struct kvm_ioapic_ops ops = {
	.deliver = fake_deliver, .ack = fake_ack,
};

static struct kvm_ioapic *new_ioapic(void)
{
	struct kvm_ioapic *s = kvm_ioapic_create(&ops, NULL);

	assert_non_null(s);
	pthread_mutex_lock(&test_kvm.slots_lock);
	assert_int_equal(kvm_ioapic_register(s, &test_kvm), 0);
	pthread_mutex_unlock(&test_kvm.slots_lock);
	return s;
}

static void reg_write(uint32_t idx, uint32_t val)
{
	mmio_write32(BASE, idx);
	mmio_write32(BASE + 0x10, val);
}

static uint32_t reg_read(uint32_t idx)
{
	mmio_write32(BASE, idx);
	return mmio_read32(BASE + 0x10);
}

static struct kvm_ioapic *save_restore(struct kvm_ioapic *s)
{
	struct kvm_ioapic_state st;
	struct kvm_ioapic *n;
	int before = sent;

	kvm_ioapic_get_state(s, &st);
	kvm_ioapic_unregister(s, &test_kvm);
	kvm_ioapic_destroy(s);
	n = new_ioapic();
	kvm_ioapic_set_state(n, &st);
	assert_int_equal(sent, before);		/* remote IRR set: no resend */
	assert_int_equal(mmio_read32(BASE), st.ioregsel);
	return n;
}

static void run_case(void **state)
{
	const struct ioapic_case *c = *state;
	struct kvm_ioapic *s;
	int flags;

	test_bus_init();
	sent = acks = 0;
	refuse = false;
	s = new_ioapic();
	for (const struct step *st = c->steps; st->op != END; st++) {
		switch (st->op) {
		case WR:
			reg_write(st->a, st->b);
			break;
		case RD:
			assert_int_equal(reg_read(st->a), st->b);
			break;
		case SEL:
			mmio_write32(BASE, st->a);
			assert_int_equal(mmio_read32(BASE), st->a);
			break;
		case PIN:
			assert_int_equal(kvm_ioapic_set_irq(s, (int)st->a, (int)st->b), st->c);
			break;
		case EOI:
			kvm_ioapic_eoi(s, (int)st->a);
			break;
		case SENT:
			assert_int_equal(sent, st->a);
			break;
		case ACKS:
			assert_int_equal(acks, st->a);
			break;
		case LAST:
			flags = last.delivery_mode | last.dest_logical << 3 |
				last.trig_level << 4;
			assert_int_equal(last.vector, st->a);
			assert_int_equal(last.dest_id, st->b);
			assert_int_equal(flags, st->c);
			break;
		case REFUSE:
			refuse = st->a;
			break;
		case SAVE:
			s = save_restore(s);
			break;
		case END:
			break;
		}
	}
	kvm_ioapic_unregister(s, &test_kvm);
	kvm_ioapic_destroy(s);
	test_bus_fini();
}

/* Accesses outside IOREGSEL/IOWIN are absorbed; byte reads of IOWIN work. */
static void test_partial_access(void **state)
{
	struct kvm_ioapic *s;

	test_bus_init();
	s = new_ioapic();
	mmio_write32(BASE + 0x20, 0x1234);
	assert_int_equal(mmio_read32(BASE + 0x20), 0);
	mmio_write32(BASE, 0x01);
	assert_int_equal(test_in(KVM_MMIO_BUS, BASE + 0x12, 1), 0x17);
	assert_int_equal(kvm_io_bus_read(&test_vcpu, KVM_MMIO_BUS,
					 BASE + KVM_IOAPIC_MEM_LENGTH, 4,
					 &(uint32_t){ 0 }), -EOPNOTSUPP);
	kvm_ioapic_unregister(s, &test_kvm);
	kvm_ioapic_destroy(s);
	test_bus_fini();
}

int main(void)
{
	struct CMUnitTest tests[sizeof(cases) / sizeof(cases[0]) + 1];
	size_t n = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		tests[n++] = (struct CMUnitTest){
			.name = cases[i].name, .test_func = run_case,
			.initial_state = (void *)&cases[i],
		};
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_partial_access);
	return _cmocka_run_group_tests("ioapic", tests, n, NULL, NULL);
}
