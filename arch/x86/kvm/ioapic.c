// SPDX-License-Identifier: MIT
/*
 * ioapic.c - the 82093AA I/O APIC (Intel 82093AA datasheet, 3.0).
 *
 * Two registers in memory space: IOREGSEL (base + 0x00) selects an
 * indirect register that IOWIN (base + 0x10) reads or writes: the ID
 * (0x00), the version (0x01: 0x11 with 23 as the highest entry), the
 * arbitration ID (0x02), and the 64-bit redirection entries at 0x10 + 2n.
 *
 * An edge-triggered pin sends its message on each rising edge; a
 * level-triggered one sends while asserted, and sets Remote IRR until a
 * local APIC EOIs the vector, after which a still-asserted line sends
 * again.  Messages are sent synchronously (delivery status stays 0).
 *
 * Locking: one mutex.  The deliver callback runs under it; ack
 * notifications are sent after it is dropped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ioapic.h"

#define IOREGSEL	0x00
#define IOWIN		0x10
#define IOAPIC_REG_ID	0x00
#define IOAPIC_REG_VER	0x01
#define IOAPIC_REG_ARB	0x02
#define IOAPIC_REG_TABLE 0x10

/* Bits software may write in a redirection entry. */
#define IOAPIC_RW_BITS (IOAPIC_VECTOR_MASK | (7ULL << IOAPIC_DM_SHIFT) | \
			IOAPIC_DEST_LOGICAL | IOAPIC_POLARITY_LOW | \
			IOAPIC_LEVEL | IOAPIC_MASKED | (0xffULL << IOAPIC_DEST_SHIFT))

static struct kvm_lapic_irq entry_to_irq(uint64_t e)
{
	return (struct kvm_lapic_irq){
		.vector = e & IOAPIC_VECTOR_MASK,
		.delivery_mode = (e >> IOAPIC_DM_SHIFT) & 7,
		.dest_logical = !!(e & IOAPIC_DEST_LOGICAL),
		.level = true,
		.trig_level = !!(e & IOAPIC_LEVEL),
		.shorthand = APIC_DEST_NOSHORT,
		.dest_id = (uint32_t)(e >> IOAPIC_DEST_SHIFT),
	};
}

/* Send pin's message; a level pin then waits for its EOI (Remote IRR). */
static int ioapic_service(struct kvm_ioapic *s, int pin)
{
	uint64_t *e = &s->redirtbl[pin];
	struct kvm_lapic_irq irq = entry_to_irq(*e);
	int r = -1;

	if (s->ops && s->ops->deliver)
		r = s->ops->deliver(s->opaque, &irq);
	if (r > 0 && irq.trig_level)
		*e |= IOAPIC_REMOTE_IRR;
	return r;
}

/* A level pin with its line up, unmasked and not awaiting an EOI. */
static bool level_ready(struct kvm_ioapic *s, int pin)
{
	uint64_t e = s->redirtbl[pin];

	return (e & IOAPIC_LEVEL) && !(e & (IOAPIC_MASKED | IOAPIC_REMOTE_IRR)) &&
	       (s->irr & (1u << pin));
}

static void ioapic_unlock(struct kvm_ioapic *s)
{
	uint32_t acked = s->acked;

	s->acked = 0;
	pthread_mutex_unlock(&s->lock);
	for (int pin = 0; acked && pin < KVM_IOAPIC_NUM_PINS; pin++) {
		if (!(acked & (1u << pin)))
			continue;
		acked &= ~(1u << pin);
		if (s->ops && s->ops->ack)
			s->ops->ack(s->opaque, pin);
	}
}

int kvm_ioapic_set_irq(struct kvm_ioapic *s, int pin, int level)
{
	uint32_t bit = 1u << pin;
	uint64_t e;
	bool was;
	int r;

	if (pin < 0 || pin >= KVM_IOAPIC_NUM_PINS)
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	e = s->redirtbl[pin];
	was = s->irr & bit;
	if (!level) {
		s->irr &= ~bit;
		r = 1;
	} else {
		s->irr |= bit;
		if (e & IOAPIC_MASKED)
			r = -1;
		else if (e & IOAPIC_LEVEL)
			r = (e & IOAPIC_REMOTE_IRR) ? 0 : ioapic_service(s, pin);
		else
			r = was ? 0 : ioapic_service(s, pin);
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}

/*
 * The ack notifiers run first, outside the lock, as KVM's: one may lower
 * the line (irqfd resampling, a device model), and then the pin must not
 * send again when its Remote IRR clears.
 */
void kvm_ioapic_eoi(struct kvm_ioapic *s, int vector)
{
	uint32_t pins = 0;

	pthread_mutex_lock(&s->lock);
	for (int pin = 0; pin < KVM_IOAPIC_NUM_PINS; pin++)
		if ((s->redirtbl[pin] & IOAPIC_VECTOR_MASK) == (uint64_t)vector)
			pins |= 1u << pin;
	s->acked |= pins;
	ioapic_unlock(s);
	if (!pins)
		return;
	pthread_mutex_lock(&s->lock);
	for (int pin = 0; pin < KVM_IOAPIC_NUM_PINS; pin++) {
		uint64_t *e = &s->redirtbl[pin];

		if (!(pins & (1u << pin)) || !(*e & IOAPIC_LEVEL))
			continue;
		*e &= ~IOAPIC_REMOTE_IRR;
		if (level_ready(s, pin))
			ioapic_service(s, pin);
	}
	ioapic_unlock(s);
}

bool kvm_ioapic_handles_vector(struct kvm_ioapic *s, int vector)
{
	bool r = false;

	pthread_mutex_lock(&s->lock);
	for (int pin = 0; pin < KVM_IOAPIC_NUM_PINS && !r; pin++)
		r = (s->redirtbl[pin] & IOAPIC_VECTOR_MASK) == (uint64_t)vector;
	pthread_mutex_unlock(&s->lock);
	return r;
}

/* --- Registers ------------------------------------------------------------ */

static uint32_t ioapic_read_reg(struct kvm_ioapic *s)
{
	uint32_t sel = s->ioregsel & 0xff;
	int pin;

	switch (sel) {
	case IOAPIC_REG_ID:
	case IOAPIC_REG_ARB:
		return (s->id & 0xf) << 24;
	case IOAPIC_REG_VER:
		return KVM_IOAPIC_VERSION | ((KVM_IOAPIC_NUM_PINS - 1) << 16);
	}
	pin = (int)(sel - IOAPIC_REG_TABLE) >> 1;
	if (sel < IOAPIC_REG_TABLE || pin >= KVM_IOAPIC_NUM_PINS)
		return 0xffffffff;
	return (uint32_t)(s->redirtbl[pin] >> ((sel & 1) * 32));
}

static void ioapic_write_entry(struct kvm_ioapic *s, int pin, bool high,
			       uint32_t val)
{
	uint64_t *e = &s->redirtbl[pin];
	uint64_t v = *e;

	if (high)
		v = (v & 0xffffffffULL) | ((uint64_t)val << 32);
	else
		v = (v & ~0xffffffffULL) | val;
	*e = (*e & ~IOAPIC_RW_BITS) | (v & IOAPIC_RW_BITS);
	/* Remote IRR is meaningless for edge-triggered entries. */
	if (!(*e & IOAPIC_LEVEL))
		*e &= ~IOAPIC_REMOTE_IRR;
	if (level_ready(s, pin))
		ioapic_service(s, pin);
}

static void ioapic_write_reg(struct kvm_ioapic *s, uint32_t val)
{
	uint32_t sel = s->ioregsel & 0xff;
	int pin;

	if (sel == IOAPIC_REG_ID) {
		s->id = (val >> 24) & 0xf;
		return;
	}
	pin = (int)(sel - IOAPIC_REG_TABLE) >> 1;
	if (sel < IOAPIC_REG_TABLE || pin >= KVM_IOAPIC_NUM_PINS)
		return;
	ioapic_write_entry(s, pin, sel & 1, val);
}

static int ioapic_mmio_read(struct kvm_vcpu *vcpu, struct kvm_io_device *dev,
			    gpa_t addr, int len, void *val)
{
	struct kvm_ioapic *s = container_of(dev, struct kvm_ioapic, dev);
	unsigned int off = (unsigned int)(addr - s->base_address);
	uint64_t v = 0;

	if (addr < s->base_address || off >= KVM_IOAPIC_MEM_LENGTH)
		return -EOPNOTSUPP;
	pthread_mutex_lock(&s->lock);
	if ((off & ~3u) == IOREGSEL)
		v = s->ioregsel >> ((off & 3) * 8);
	else if ((off & ~3u) == IOWIN)
		v = ioapic_read_reg(s) >> ((off & 3) * 8);
	pthread_mutex_unlock(&s->lock);
	memcpy(val, &v, (size_t)(len > 8 ? 8 : len));
	return 0;
}

static int ioapic_mmio_write(struct kvm_vcpu *vcpu, struct kvm_io_device *dev,
			     gpa_t addr, int len, const void *val)
{
	struct kvm_ioapic *s = container_of(dev, struct kvm_ioapic, dev);
	unsigned int off = (unsigned int)(addr - s->base_address);
	uint32_t v = 0;

	if (addr < s->base_address || off >= KVM_IOAPIC_MEM_LENGTH)
		return -EOPNOTSUPP;
	memcpy(&v, val, (size_t)(len > 4 ? 4 : len));
	pthread_mutex_lock(&s->lock);
	if (off == IOREGSEL)
		s->ioregsel = v;
	else if (off == IOWIN)
		ioapic_write_reg(s, v);
	ioapic_unlock(s);
	return 0;
}

static const struct kvm_io_device_ops ioapic_mmio_ops = {
	.read = ioapic_mmio_read,
	.write = ioapic_mmio_write,
};

/* --- Object ------------------------------------------------------------------ */

/* Reset (82093AA 3.2.4): every entry masked, ID 0. */
void kvm_ioapic_reset(struct kvm_ioapic *s)
{
	pthread_mutex_lock(&s->lock);
	s->base_address = KVM_IOAPIC_DEFAULT_BASE;
	s->ioregsel = 0;
	s->id = 0;
	s->irr = 0;
	for (int i = 0; i < KVM_IOAPIC_NUM_PINS; i++)
		s->redirtbl[i] = IOAPIC_MASKED;
	pthread_mutex_unlock(&s->lock);
}

struct kvm_ioapic *kvm_ioapic_create(const struct kvm_ioapic_ops *ops, void *opaque)
{
	struct kvm_ioapic *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	pthread_mutex_init(&s->lock, NULL);
	s->dev.ops = &ioapic_mmio_ops;
	s->ops = ops;
	s->opaque = opaque;
	kvm_ioapic_reset(s);
	return s;
}

void kvm_ioapic_destroy(struct kvm_ioapic *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->lock);
	free(s);
}

int kvm_ioapic_register(struct kvm_ioapic *s, struct kvm *kvm)
{
	return kvm_io_bus_register_dev(kvm, KVM_MMIO_BUS, s->base_address,
				       KVM_IOAPIC_MEM_LENGTH, &s->dev);
}

void kvm_ioapic_unregister(struct kvm_ioapic *s, struct kvm *kvm)
{
	kvm_io_bus_unregister_dev(kvm, KVM_MMIO_BUS, &s->dev);
}

void kvm_ioapic_get_state(struct kvm_ioapic *s, struct kvm_ioapic_state *st)
{
	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&s->lock);
	st->base_address = s->base_address;
	st->ioregsel = s->ioregsel;
	st->id = s->id;
	st->irr = s->irr;
	for (int i = 0; i < KVM_IOAPIC_NUM_PINS; i++)
		st->redirtbl[i].bits = s->redirtbl[i];
	pthread_mutex_unlock(&s->lock);
}

/*
 * The base address is not relocated (KVM keeps the window where it was
 * registered too); level pins that are ready fire, as after a write.
 */
void kvm_ioapic_set_state(struct kvm_ioapic *s, const struct kvm_ioapic_state *st)
{
	pthread_mutex_lock(&s->lock);
	s->ioregsel = st->ioregsel;
	s->id = st->id & 0xf;
	s->irr = st->irr & ((1u << KVM_IOAPIC_NUM_PINS) - 1);
	for (int i = 0; i < KVM_IOAPIC_NUM_PINS; i++)
		s->redirtbl[i] = st->redirtbl[i].bits & ~IOAPIC_DELIVERY_STATUS;
	for (int i = 0; i < KVM_IOAPIC_NUM_PINS; i++)
		if (level_ready(s, i))
			ioapic_service(s, i);
	ioapic_unlock(s);
}
