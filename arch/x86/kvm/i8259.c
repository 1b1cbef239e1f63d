// SPDX-License-Identifier: MIT
/*
 * i8259.c - two cascaded 8259A PICs (Intel 8259A datasheet) with the
 * PIIX ELCR that makes inputs level-triggered.
 *
 * The state of each chip is kept directly in struct kvm_pic_state, the
 * layout KVM_GET/SET_IRQCHIP exchanges: IRR, ISR, IMR, the rotating
 * priority (priority_add is the level with the highest priority), the
 * initialisation sequence position (init_state: 0 ready, 1 ICW2 next,
 * 2 ICW3 next, 3 ICW4 next), OCW3's read selection, poll and special mask,
 * ICW4's auto-EOI and special fully nested mode.
 *
 * Locking: one mutex for both chips.  The output callback runs under it;
 * ack notifications are collected and sent after it is dropped, because
 * an ack may re-assert a level-triggered line (irqfd resampling).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "i8259.h"

/* ELCR bits that exist: IRQ0, 1, 2, 8 and 13 are always edge-triggered. */
#define ELCR_MASK_MASTER 0xf8
#define ELCR_MASK_SLAVE  0xde

#define ICW1_IC4	0x01
#define ICW1_SNGL	0x02
#define ICW1_INIT	0x10
#define ICW4_AEOI	0x02
#define ICW4_SFNM	0x10
#define OCW3_SEL	0x08
#define OCW3_RIS	0x01
#define OCW3_RR		0x02
#define OCW3_POLL	0x04
#define OCW3_SMM	0x20
#define OCW3_ESMM	0x40

enum ocw2_cmd {
	OCW2_ROTATE_AEOI_CLEAR = 0,
	OCW2_EOI = 1,
	OCW2_NOP = 2,
	OCW2_SPECIFIC_EOI = 3,
	OCW2_ROTATE_AEOI_SET = 4,
	OCW2_ROTATE_EOI = 5,
	OCW2_SET_PRIORITY = 6,
	OCW2_ROTATE_SPECIFIC_EOI = 7,
};

/* --- Priority resolution ------------------------------------------------ */

/* 0 is the highest priority; priority_add names the level that has it. */
static int prio(const struct kvm_pic_state *c, int irq)
{
	return (irq - c->priority_add) & 7;
}

/* The level of highest priority among mask's bits, or -1. */
static int highest(const struct kvm_pic_state *c, uint8_t mask)
{
	for (int p = 0; p < 8; p++) {
		int irq = (p + c->priority_add) & 7;

		if (mask & (1u << irq))
			return irq;
	}
	return -1;
}

/*
 * The request the chip raises INT for, or -1: the highest unmasked IRR
 * bit, unless a level of higher (or, outside the special fully nested
 * cascade case, equal) priority is in service.  In special mask mode,
 * masked in-service levels do not inhibit anything.
 */
static int chip_pending(const struct kvm_pic_state *c, bool master)
{
	int irq = highest(c, c->irr & ~c->imr);
	uint8_t isr = c->isr;
	int cur;

	if (irq < 0)
		return -1;
	if (c->special_mask)
		isr &= ~c->imr;
	cur = highest(c, isr);
	if (cur < 0 || prio(c, irq) < prio(c, cur))
		return irq;
	if (cur == irq && master && irq == 2 && c->special_fully_nested_mode)
		return irq;
	return -1;
}

/*
 * Drive one input.  Level-triggered inputs (ELCR) follow the line; edge
 * inputs latch a request on a low-to-high transition.  Returns the
 * KVM_IRQ_LINE_STATUS value.
 */
static int chip_set_input(struct kvm_pic_state *c, int irq, int level)
{
	uint8_t bit = 1u << irq;
	int r = 1;

	if (c->elcr & bit) {
		if (level) {
			r = !(c->irr & bit);
			c->irr |= bit;
			c->last_irr |= bit;
		} else {
			c->irr &= ~bit;
			c->last_irr &= ~bit;
		}
	} else if (level) {
		if (!(c->last_irr & bit)) {
			r = !(c->irr & bit);
			c->irr |= bit;
		} else {
			r = 0;
		}
		c->last_irr |= bit;
	} else {
		c->last_irr &= ~bit;
	}
	return (c->imr & bit) ? -1 : r;
}

/* Propagate the slave's INT to master IR2 and the master's to the CPU. */
static void pic_update(struct kvm_pic *s)
{
	bool out;

	chip_set_input(&s->chip[0], 2, chip_pending(&s->chip[1], false) >= 0);
	out = chip_pending(&s->chip[0], true) >= 0;
	if (out != s->output) {
		s->output = out;
		if (s->ops && s->ops->output)
			s->ops->output(s->opaque, out);
	}
}

static void note_ack(struct kvm_pic *s, int chip, int irq)
{
	s->acked |= 1u << (chip * 8 + irq);
}

/* Drop the lock, then tell the ack notifiers. */
static void pic_unlock(struct kvm_pic *s)
{
	uint16_t acked = s->acked;

	s->acked = 0;
	pthread_mutex_unlock(&s->lock);
	for (int irq = 0; acked && irq < 16; irq++) {
		if (!(acked & (1u << irq)))
			continue;
		acked &= ~(1u << irq);
		if (s->ops && s->ops->ack)
			s->ops->ack(s->opaque, irq);
	}
}

/* INTA on one chip: move the request to ISR (or not, in auto-EOI mode). */
static void chip_intack(struct kvm_pic *s, int chip, int irq)
{
	struct kvm_pic_state *c = &s->chip[chip];
	uint8_t bit = 1u << irq;

	if (!(c->elcr & bit))
		c->irr &= ~bit;
	if (c->auto_eoi) {
		if (c->rotate_on_auto_eoi)
			c->priority_add = (irq + 1) & 7;
		note_ack(s, chip, irq);
	} else {
		c->isr |= bit;
	}
}

/* --- The CPU side -------------------------------------------------------- */

int kvm_pic_set_irq(struct kvm_pic *s, int irq, int level)
{
	int r;

	if (irq < 0 || irq >= 16)
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	r = chip_set_input(&s->chip[irq >> 3], irq & 7, level);
	pic_update(s);
	pic_unlock(s);
	return r;
}

bool kvm_pic_has_irq(struct kvm_pic *s)
{
	bool r;

	pthread_mutex_lock(&s->lock);
	r = s->output;
	pthread_mutex_unlock(&s->lock);
	return r;
}

/*
 * A request that went away between INT and INTA yields the spurious
 * vector of IR7 of the chip asked for the vector (IRQ7 or IRQ15).
 */
int kvm_pic_read_irq(struct kvm_pic *s)
{
	struct kvm_pic_state *m = &s->chip[0], *sl = &s->chip[1];
	int irq, irq2, vector;

	pthread_mutex_lock(&s->lock);
	irq = chip_pending(m, true);
	if (irq < 0) {
		vector = m->irq_base + 7;
	} else {
		chip_intack(s, 0, irq);
		if (irq == 2) {
			irq2 = chip_pending(sl, false);
			if (irq2 >= 0) {
				chip_intack(s, 1, irq2);
				vector = sl->irq_base + irq2;
			} else {
				vector = sl->irq_base + 7;
			}
		} else {
			vector = m->irq_base + irq;
		}
	}
	pic_update(s);
	pic_unlock(s);
	return vector;
}

/* --- Port accesses -------------------------------------------------------- */

static void chip_init(struct kvm_pic *s, int chip, uint8_t icw1)
{
	struct kvm_pic_state *c = &s->chip[chip];

	/* 8259A, "Initialization command words": edge sense reset, IMR clear. */
	c->last_irr = 0;
	c->irr &= c->elcr;
	c->imr = 0;
	c->isr = 0;
	c->priority_add = 0;
	c->read_reg_select = 0;
	c->poll = 0;
	c->special_mask = 0;
	c->auto_eoi = 0;
	c->rotate_on_auto_eoi = 0;
	c->special_fully_nested_mode = 0;
	c->init4 = icw1 & ICW1_IC4;
	s->single[chip] = icw1 & ICW1_SNGL;
	c->init_state = 1;
}

static void chip_eoi(struct kvm_pic *s, int chip, int irq, bool rotate)
{
	struct kvm_pic_state *c = &s->chip[chip];

	if (irq < 0)
		return;
	c->isr &= ~(1u << irq);
	if (rotate)
		c->priority_add = (irq + 1) & 7;
	note_ack(s, chip, irq);
}

static void write_ocw2(struct kvm_pic *s, int chip, uint8_t val)
{
	struct kvm_pic_state *c = &s->chip[chip];
	int level = val & 7;

	switch ((enum ocw2_cmd)(val >> 5)) {
	case OCW2_ROTATE_AEOI_CLEAR:
	case OCW2_ROTATE_AEOI_SET:
		c->rotate_on_auto_eoi = (val >> 7) & 1;
		break;
	case OCW2_EOI:
	case OCW2_ROTATE_EOI:
		chip_eoi(s, chip, highest(c, c->isr), val >> 7);
		break;
	case OCW2_SPECIFIC_EOI:
	case OCW2_ROTATE_SPECIFIC_EOI:
		chip_eoi(s, chip, level, val >> 7);
		break;
	case OCW2_SET_PRIORITY:
		c->priority_add = (level + 1) & 7;
		break;
	case OCW2_NOP:
		break;
	}
}

static void write_command(struct kvm_pic *s, int chip, uint8_t val)
{
	struct kvm_pic_state *c = &s->chip[chip];

	if (val & ICW1_INIT) {
		chip_init(s, chip, val);
	} else if (val & OCW3_SEL) {
		if (val & OCW3_POLL)
			c->poll = 1;
		if (val & OCW3_RR)
			c->read_reg_select = val & OCW3_RIS;
		if (val & OCW3_ESMM)
			c->special_mask = !!(val & OCW3_SMM);
	} else {
		write_ocw2(s, chip, val);
	}
}

static void write_data(struct kvm_pic *s, int chip, uint8_t val)
{
	struct kvm_pic_state *c = &s->chip[chip];

	switch (c->init_state) {
	case 0:				/* OCW1 */
		c->imr = val;
		break;
	case 1:				/* ICW2 */
		c->irq_base = val & 0xf8;
		c->init_state = s->single[chip] ? (c->init4 ? 3 : 0) : 2;
		break;
	case 2:				/* ICW3: the PC's cascade is fixed */
		c->init_state = c->init4 ? 3 : 0;
		break;
	default:			/* ICW4 */
		c->auto_eoi = !!(val & ICW4_AEOI);
		c->special_fully_nested_mode = !!(val & ICW4_SFNM);
		c->init_state = 0;
		break;
	}
}

/* Poll command (OCW3.P): the next read is an INTA returning the level. */
static uint8_t read_poll(struct kvm_pic *s, int chip)
{
	struct kvm_pic_state *c = &s->chip[chip];
	int irq = chip_pending(c, chip == 0);

	c->poll = 0;
	if (irq < 0)
		return 0;
	chip_intack(s, chip, irq);
	return 0x80 | irq;
}

static uint8_t chip_read(struct kvm_pic *s, int chip, bool data)
{
	struct kvm_pic_state *c = &s->chip[chip];

	if (c->poll)
		return read_poll(s, chip);
	if (data)
		return c->imr;
	return c->read_reg_select ? c->isr : c->irr;
}

static int pic_access(struct kvm_pic *s, int chip, gpa_t addr, int len,
		      void *val, bool write)
{
	bool data = addr & 1;
	uint8_t *v = val;

	if (len != 1)
		return write ? 0 : (memset(val, 0xff, (size_t)len), 0);
	pthread_mutex_lock(&s->lock);
	if (write && data)
		write_data(s, chip, *v);
	else if (write)
		write_command(s, chip, *v);
	else
		*v = chip_read(s, chip, data);
	pic_update(s);
	pic_unlock(s);
	return 0;
}

static int master_read(struct kvm_vcpu *vcpu, struct kvm_io_device *dev,
		       gpa_t addr, int len, void *val)
{
	struct kvm_pic *s = container_of(dev, struct kvm_pic, dev_master);

	return pic_access(s, 0, addr, len, val, false);
}

static int master_write(struct kvm_vcpu *vcpu, struct kvm_io_device *dev,
			gpa_t addr, int len, const void *val)
{
	struct kvm_pic *s = container_of(dev, struct kvm_pic, dev_master);

	return pic_access(s, 0, addr, len, (void *)val, true);
}

static int slave_read(struct kvm_vcpu *vcpu, struct kvm_io_device *dev,
		      gpa_t addr, int len, void *val)
{
	struct kvm_pic *s = container_of(dev, struct kvm_pic, dev_slave);

	return pic_access(s, 1, addr, len, val, false);
}

static int slave_write(struct kvm_vcpu *vcpu, struct kvm_io_device *dev,
		       gpa_t addr, int len, const void *val)
{
	struct kvm_pic *s = container_of(dev, struct kvm_pic, dev_slave);

	return pic_access(s, 1, addr, len, (void *)val, true);
}

static int elcr_read(struct kvm_vcpu *vcpu, struct kvm_io_device *dev,
		     gpa_t addr, int len, void *val)
{
	struct kvm_pic *s = container_of(dev, struct kvm_pic, dev_elcr);

	if (len != 1)
		return memset(val, 0xff, (size_t)len), 0;
	pthread_mutex_lock(&s->lock);
	*(uint8_t *)val = s->chip[addr & 1].elcr;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static int elcr_write(struct kvm_vcpu *vcpu, struct kvm_io_device *dev,
		      gpa_t addr, int len, const void *val)
{
	struct kvm_pic *s = container_of(dev, struct kvm_pic, dev_elcr);
	struct kvm_pic_state *c = &s->chip[addr & 1];

	if (len != 1)
		return 0;
	pthread_mutex_lock(&s->lock);
	c->elcr = *(const uint8_t *)val & c->elcr_mask;
	pic_update(s);
	pic_unlock(s);
	return 0;
}

static const struct kvm_io_device_ops master_ops = {
	.read = master_read, .write = master_write,
};
static const struct kvm_io_device_ops slave_ops = {
	.read = slave_read, .write = slave_write,
};
static const struct kvm_io_device_ops elcr_ops = {
	.read = elcr_read, .write = elcr_write,
};

/* --- Object ---------------------------------------------------------------- */

void kvm_pic_reset(struct kvm_pic *s)
{
	pthread_mutex_lock(&s->lock);
	memset(s->chip, 0, sizeof(s->chip));
	s->chip[0].elcr_mask = ELCR_MASK_MASTER;
	s->chip[1].elcr_mask = ELCR_MASK_SLAVE;
	s->single[0] = s->single[1] = false;
	pic_update(s);
	pic_unlock(s);
}

struct kvm_pic *kvm_pic_create(const struct kvm_pic_ops *ops, void *opaque)
{
	struct kvm_pic *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	pthread_mutex_init(&s->lock, NULL);
	s->dev_master.ops = &master_ops;
	s->dev_slave.ops = &slave_ops;
	s->dev_elcr.ops = &elcr_ops;
	s->ops = ops;
	s->opaque = opaque;
	kvm_pic_reset(s);
	return s;
}

void kvm_pic_destroy(struct kvm_pic *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->lock);
	free(s);
}

int kvm_pic_register(struct kvm_pic *s, struct kvm *kvm)
{
	int r;

	r = kvm_io_bus_register_dev(kvm, KVM_PIO_BUS, KVM_PIC_MASTER_PORT, 2,
				    &s->dev_master);
	if (r)
		return r;
	r = kvm_io_bus_register_dev(kvm, KVM_PIO_BUS, KVM_PIC_SLAVE_PORT, 2,
				    &s->dev_slave);
	if (r)
		goto fail_slave;
	r = kvm_io_bus_register_dev(kvm, KVM_PIO_BUS, KVM_PIC_ELCR_PORT, 2,
				    &s->dev_elcr);
	if (r)
		goto fail_elcr;
	return 0;
fail_elcr:
	kvm_io_bus_unregister_dev(kvm, KVM_PIO_BUS, &s->dev_slave);
fail_slave:
	kvm_io_bus_unregister_dev(kvm, KVM_PIO_BUS, &s->dev_master);
	return r;
}

void kvm_pic_unregister(struct kvm_pic *s, struct kvm *kvm)
{
	kvm_io_bus_unregister_dev(kvm, KVM_PIO_BUS, &s->dev_master);
	kvm_io_bus_unregister_dev(kvm, KVM_PIO_BUS, &s->dev_slave);
	kvm_io_bus_unregister_dev(kvm, KVM_PIO_BUS, &s->dev_elcr);
}

/* --- State ------------------------------------------------------------------ */

void kvm_pic_get_state(struct kvm_pic *s, int chip, struct kvm_pic_state *st)
{
	pthread_mutex_lock(&s->lock);
	*st = s->chip[chip & 1];
	pthread_mutex_unlock(&s->lock);
}

void kvm_pic_set_state(struct kvm_pic *s, int chip, const struct kvm_pic_state *st)
{
	pthread_mutex_lock(&s->lock);
	s->chip[chip & 1] = *st;
	s->chip[chip & 1].elcr_mask = chip ? ELCR_MASK_SLAVE : ELCR_MASK_MASTER;
	s->chip[chip & 1].elcr &= s->chip[chip & 1].elcr_mask;
	pic_update(s);
	pic_unlock(s);
}
