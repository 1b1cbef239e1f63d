// SPDX-License-Identifier: MIT
/*
 * test_i8259.c - the cascaded 8259A pair through its ports: each case is
 * a script of port accesses, input changes and INTA cycles with the
 * expected results (8259A datasheet semantics).
 */
#include "platform_test.h"
#include "i8259.h"

enum op {
	END,
	OUT,		/* outb(a, b) */
	IN,		/* inb(a) == b */
	IRQ,		/* kvm_pic_set_irq(a, b) == c */
	INTA,		/* kvm_pic_read_irq() == a */
	INT,		/* INT pin == a */
	SAVE,		/* save both chips, recreate the PIC, restore */
};

struct step {
	enum op op;
	int a, b, c;
};

/* Standard PC initialisation: vectors 0x20 and 0x28, cascade on IR2. */
#define INIT_PC(icw4) \
	{ OUT, 0x20, 0x11 }, { OUT, 0x21, 0x20 }, { OUT, 0x21, 0x04 }, \
	{ OUT, 0x21, (icw4) }, { OUT, 0xa0, 0x11 }, { OUT, 0xa1, 0x28 }, \
	{ OUT, 0xa1, 0x02 }, { OUT, 0xa1, (icw4) }
#define READ_ISR(port) { OUT, port, 0x0b }
#define READ_IRR(port) { OUT, port, 0x0a }
#define EOI(port) { OUT, port, 0x20 }

struct pic_case {
	const char *name;
	struct step steps[40];
};

static const struct pic_case cases[] = {
	{ "init, imr, one edge irq, eoi", {
		INIT_PC(0x01), { IN, 0x21, 0x00 }, { IN, 0xa1, 0x00 },
		{ OUT, 0x21, 0xb8 }, { IN, 0x21, 0xb8 }, { OUT, 0x21, 0x00 },
		{ INT, 0 }, { IRQ, 1, 1, 1 }, { INT, 1 },
		READ_IRR(0x20), { IN, 0x20, 0x02 },
		{ INTA, 0x21 }, { INT, 0 }, { IN, 0x20, 0x00 },
		READ_ISR(0x20), { IN, 0x20, 0x02 },
		EOI(0x20), { IN, 0x20, 0x00 }, { END } } },
	{ "fixed priority: lower irq first, in-service blocks lower", {
		INIT_PC(0x01), { IRQ, 3, 1, 1 }, { IRQ, 1, 1, 1 },
		{ INTA, 0x21 }, { INT, 0 }, EOI(0x20), { INT, 1 },
		{ INTA, 0x23 }, EOI(0x20), { INT, 0 }, { END } } },
	{ "higher priority preempts an in-service level", {
		INIT_PC(0x01), { IRQ, 3, 1, 1 }, { INTA, 0x23 },
		{ IRQ, 5, 1, 1 }, { INT, 0 }, { IRQ, 0, 1, 1 }, { INT, 1 },
		{ INTA, 0x20 }, READ_ISR(0x20), { IN, 0x20, 0x09 },
		EOI(0x20), { IN, 0x20, 0x08 }, EOI(0x20), { INTA, 0x25 },
		{ END } } },
	{ "mask: status -1, unmask raises INT", {
		INIT_PC(0x01), { OUT, 0x21, 0x10 }, { IRQ, 4, 1, -1 },
		{ INT, 0 }, { OUT, 0x21, 0x00 }, { INT, 1 }, { INTA, 0x24 },
		{ END } } },
	{ "edge: a second assertion while high coalesces", {
		INIT_PC(0x01), { IRQ, 6, 1, 1 }, { IRQ, 6, 1, 0 },
		{ IRQ, 6, 0, 1 }, { IRQ, 6, 1, 0 }, { INTA, 0x26 },
		{ INT, 0 }, { IRQ, 6, 0, 1 }, { IRQ, 6, 1, 1 }, { INT, 0 },
		EOI(0x20), { INT, 1 }, { END } } },
	{ "slave irq through IR2, both ISRs set", {
		INIT_PC(0x01), { IRQ, 10, 1, 1 }, { INT, 1 }, { INTA, 0x2a },
		READ_ISR(0x20), { IN, 0x20, 0x04 }, READ_ISR(0xa0),
		{ IN, 0xa0, 0x04 }, EOI(0xa0), EOI(0x20), { IN, 0x20, 0 },
		{ IN, 0xa0, 0 }, { END } } },
	{ "slave masked on the master's IR2", {
		INIT_PC(0x01), { OUT, 0x21, 0x04 }, { IRQ, 12, 1, 1 },
		{ INT, 0 }, { OUT, 0x21, 0x00 }, { INT, 1 }, { INTA, 0x2c },
		{ END } } },
	{ "spurious IRQ7 when a level request goes away", {
		INIT_PC(0x01), { OUT, 0x4d0, 0x20 }, { IRQ, 5, 1, 1 },
		{ INT, 1 }, { IRQ, 5, 0, 1 }, { INT, 0 }, { INTA, 0x27 },
		READ_ISR(0x20), { IN, 0x20, 0x00 }, { END } } },
	{ "spurious IRQ15 from the slave", {
		INIT_PC(0x01), { OUT, 0x4d1, 0x08 }, { IRQ, 11, 1, 1 },
		{ IRQ, 11, 0, 1 }, { IRQ, 11, 1, 1 }, { INT, 1 },
		{ IRQ, 11, 0, 1 }, { INTA, 0x2f }, READ_ISR(0x20),
		{ IN, 0x20, 0x04 }, READ_ISR(0xa0), { IN, 0xa0, 0x00 },
		{ END } } },
	{ "level-triggered: IRR follows the line, re-raises after EOI", {
		INIT_PC(0x01), { OUT, 0x4d0, 0x08 }, { IN, 0x4d0, 0x08 },
		{ IRQ, 3, 1, 1 }, { IRQ, 3, 1, 0 }, { INTA, 0x23 },
		READ_IRR(0x20), { IN, 0x20, 0x08 }, { INT, 0 }, EOI(0x20),
		{ INT, 1 }, { IRQ, 3, 0, 1 }, { INT, 0 }, { IN, 0x20, 0x00 },
		{ END } } },
	{ "ELCR keeps IRQ0-2, 8 and 13 edge-triggered", {
		{ OUT, 0x4d0, 0xff }, { IN, 0x4d0, 0xf8 },
		{ OUT, 0x4d1, 0xff }, { IN, 0x4d1, 0xde }, { END } } },
	{ "set priority: IR5 lowest makes IR6 highest", {
		INIT_PC(0x01), { OUT, 0x20, 0xc5 }, { IRQ, 1, 1, 1 },
		{ IRQ, 6, 1, 1 }, { INTA, 0x26 }, { INT, 0 }, EOI(0x20),
		{ INTA, 0x21 }, { END } } },
	{ "rotate on non-specific EOI", {
		INIT_PC(0x01), { IRQ, 1, 1, 1 }, { INTA, 0x21 },
		{ OUT, 0x20, 0xa0 }, { IRQ, 1, 0, 1 }, { IRQ, 1, 1, 1 },
		{ IRQ, 3, 1, 1 }, { INTA, 0x23 }, EOI(0x20), { INTA, 0x21 },
		{ END } } },
	{ "specific EOI clears only the named level", {
		INIT_PC(0x01), { IRQ, 4, 1, 1 }, { INTA, 0x24 },
		{ IRQ, 2 - 2, 1, 1 }, { INTA, 0x20 }, { OUT, 0x20, 0x64 },
		READ_ISR(0x20), { IN, 0x20, 0x01 }, { OUT, 0x20, 0x60 },
		{ IN, 0x20, 0x00 }, { END } } },
	{ "rotate on specific EOI", {
		INIT_PC(0x01), { IRQ, 2 + 1, 1, 1 }, { INTA, 0x23 },
		{ OUT, 0x20, 0xe3 }, { IRQ, 3, 0, 1 }, { IRQ, 3, 1, 1 },
		{ IRQ, 4, 1, 1 }, { INTA, 0x24 }, { END } } },
	{ "auto-EOI leaves ISR clear", {
		INIT_PC(0x03), { IRQ, 1, 1, 1 }, { INTA, 0x21 },
		READ_ISR(0x20), { IN, 0x20, 0x00 }, { IRQ, 3, 1, 1 },
		{ INT, 1 }, { INTA, 0x23 }, { END } } },
	{ "rotate in auto-EOI mode", {
		INIT_PC(0x03), { OUT, 0x20, 0x80 }, { IRQ, 1, 1, 1 },
		{ INTA, 0x21 }, { IRQ, 1, 0, 1 }, { IRQ, 1, 1, 1 },
		{ IRQ, 7, 1, 1 }, { INTA, 0x27 }, { INTA, 0x21 }, { END } } },
	{ "poll command reads and acknowledges", {
		INIT_PC(0x01), { OUT, 0x21, 0xff }, { IRQ, 5, 1, -1 },
		{ OUT, 0x21, 0x00 }, { OUT, 0x20, 0x0c }, { IN, 0x20, 0x85 },
		READ_ISR(0x20), { IN, 0x20, 0x20 }, { OUT, 0x20, 0x0c },
		{ IN, 0x20, 0x00 }, { END } } },
	{ "special mask mode lets lower levels in", {
		INIT_PC(0x01), { IRQ, 1, 1, 1 }, { INTA, 0x21 },
		{ IRQ, 5, 1, 1 }, { INT, 0 }, { OUT, 0x21, 0x02 },
		{ OUT, 0x20, 0x68 }, { INT, 1 }, { INTA, 0x25 },
		{ OUT, 0x20, 0x48 }, READ_ISR(0x20), { IN, 0x20, 0x22 },
		{ END } } },
	{ "special fully nested: slave preempts its own cascade", {
		INIT_PC(0x01), { OUT, 0x20, 0x11 }, { OUT, 0x21, 0x20 },
		{ OUT, 0x21, 0x04 }, { OUT, 0x21, 0x11 },
		{ IRQ, 12, 1, 1 }, { INTA, 0x2c }, { IRQ, 9, 1, 1 },
		{ INT, 1 }, { INTA, 0x29 }, { END } } },
	{ "re-initialisation clears IMR and ISR", {
		INIT_PC(0x01), { OUT, 0x21, 0x54 }, { IRQ, 0, 1, 1 },
		{ INTA, 0x20 }, { OUT, 0x20, 0x11 }, { INT, 0 },
		{ OUT, 0x21, 0x40 }, { OUT, 0x21, 0x04 }, { OUT, 0x21, 0x01 },
		{ IN, 0x21, 0x00 }, READ_ISR(0x20), { IN, 0x20, 0x00 },
		{ IRQ, 0, 0, 1 }, { IRQ, 0, 1, 1 }, { INTA, 0x40 }, { END } } },
	{ "single mode skips ICW3", {
		{ OUT, 0x20, 0x13 }, { OUT, 0x21, 0x30 }, { OUT, 0x21, 0x01 },
		{ OUT, 0x21, 0x01 }, { IN, 0x21, 0x01 }, { IRQ, 0, 1, -1 },
		{ IRQ, 1, 1, 1 }, { INTA, 0x31 }, { END } } },
	{ "save/restore mid-run", {
		INIT_PC(0x01), { OUT, 0x4d0, 0x20 }, { IRQ, 3, 1, 1 },
		{ INTA, 0x23 }, { IRQ, 5, 1, 1 }, { IRQ, 10, 1, 1 },
		{ OUT, 0x21, 0x10 }, { OUT, 0x20, 0x0b }, { SAVE },
		{ IN, 0x21, 0x10 }, { IN, 0x20, 0x08 }, { INT, 1 },
		{ INTA, 0x2a }, { IN, 0x20, 0x0c }, READ_ISR(0xa0),
		{ IN, 0xa0, 0x04 }, EOI(0xa0), EOI(0x20), { INT, 0 },
		EOI(0x20), { INTA, 0x25 }, { END } } },
};

static int outputs;		/* output-callback edges seen */

static void pic_output(void *opaque, bool level)
{
	outputs++;
}

static const struct kvm_pic_ops pic_ops = { .output = pic_output };

static struct kvm_pic *new_pic(void)
{
	struct kvm_pic *s = kvm_pic_create(&pic_ops, NULL);

	assert_non_null(s);
	pthread_mutex_lock(&test_kvm.slots_lock);
	assert_int_equal(kvm_pic_register(s, &test_kvm), 0);
	pthread_mutex_unlock(&test_kvm.slots_lock);
	return s;
}

static struct kvm_pic *save_restore(struct kvm_pic *s)
{
	struct kvm_pic_state st[2];
	struct kvm_pic *n;

	kvm_pic_get_state(s, 0, &st[0]);
	kvm_pic_get_state(s, 1, &st[1]);
	kvm_pic_unregister(s, &test_kvm);
	kvm_pic_destroy(s);
	n = new_pic();
	kvm_pic_set_state(n, 0, &st[0]);
	kvm_pic_set_state(n, 1, &st[1]);
	return n;
}

static void run_case(void **state)
{
	const struct pic_case *c = *state;
	struct kvm_pic *s;

	test_bus_init();
	s = new_pic();
	for (const struct step *st = c->steps; st->op != END; st++) {
		switch (st->op) {
		case OUT:
			outb((uint16_t)st->a, (uint8_t)st->b);
			break;
		case IN:
			assert_int_equal(inb((uint16_t)st->a), st->b);
			break;
		case IRQ:
			assert_int_equal(kvm_pic_set_irq(s, st->a, st->b), st->c);
			break;
		case INTA:
			assert_int_equal(kvm_pic_read_irq(s), st->a);
			break;
		case INT:
			assert_int_equal(kvm_pic_has_irq(s), st->a);
			break;
		case SAVE:
			s = save_restore(s);
			break;
		case END:
			break;
		}
	}
	kvm_pic_unregister(s, &test_kvm);
	kvm_pic_destroy(s);
	test_bus_fini();
}

static int acks[16];

static void pic_ack(void *opaque, int irq)
{
	acks[irq]++;
}

/* EOIs (and auto-EOI INTAs) reach the ack notifier with the irq number. */
static void test_ack_notifier(void **state)
{
	static const struct kvm_pic_ops ops = { .ack = pic_ack };
	struct kvm_pic *s = kvm_pic_create(&ops, NULL);

	test_bus_init();
	pthread_mutex_lock(&test_kvm.slots_lock);
	assert_int_equal(kvm_pic_register(s, &test_kvm), 0);
	pthread_mutex_unlock(&test_kvm.slots_lock);
	memset(acks, 0, sizeof(acks));
	outb(0x20, 0x11); outb(0x21, 0x20); outb(0x21, 0x04); outb(0x21, 0x01);
	outb(0xa0, 0x11); outb(0xa1, 0x28); outb(0xa1, 0x02); outb(0xa1, 0x01);
	assert_int_equal(kvm_pic_set_irq(s, 11, 1), 1);
	assert_int_equal(kvm_pic_read_irq(s), 0x2b);
	outb(0xa0, 0x20);
	outb(0x20, 0x20);
	assert_int_equal(acks[11], 1);
	assert_int_equal(acks[2], 1);
	kvm_pic_unregister(s, &test_kvm);
	kvm_pic_destroy(s);
	test_bus_fini();
}

/* The output callback sees each change of the INT pin once. */
static void test_output_edges(void **state)
{
	struct kvm_pic *s;

	test_bus_init();
	s = new_pic();
	outputs = 0;
	outb(0x20, 0x11); outb(0x21, 0x08); outb(0x21, 0x04); outb(0x21, 0x01);
	kvm_pic_set_irq(s, 0, 1);
	kvm_pic_set_irq(s, 1, 1);
	assert_int_equal(outputs, 1);
	kvm_pic_read_irq(s);
	assert_int_equal(outputs, 2);
	kvm_pic_unregister(s, &test_kvm);
	kvm_pic_destroy(s);
	test_bus_fini();
}

int main(void)
{
	struct CMUnitTest tests[sizeof(cases) / sizeof(cases[0]) + 2];
	size_t n = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		tests[n++] = (struct CMUnitTest){
			.name = cases[i].name, .test_func = run_case,
			.initial_state = (void *)&cases[i],
		};
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_ack_notifier);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_output_edges);
	return _cmocka_run_group_tests("i8259", tests, n, NULL, NULL);
}
