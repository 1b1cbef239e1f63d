/* SPDX-License-Identifier: MIT */
/*
 * ioapic.h - the 82093AA I/O APIC: 24 input pins, each turned into an
 * interrupt message for the local APICs by its redirection entry.
 */
#ifndef SKVM_IOAPIC_H
#define SKVM_IOAPIC_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>

#include "iodev.h"
#include "irq.h"

#define KVM_IOAPIC_DEFAULT_BASE	0xfec00000ULL
#define KVM_IOAPIC_MEM_LENGTH	0x100
#define KVM_IOAPIC_VERSION	0x11

/* Redirection entry fields (82093AA, 3.2.4). */
#define IOAPIC_VECTOR_MASK	0xffULL
#define IOAPIC_DM_SHIFT		8
#define IOAPIC_DEST_LOGICAL	(1ULL << 11)
#define IOAPIC_DELIVERY_STATUS	(1ULL << 12)
#define IOAPIC_POLARITY_LOW	(1ULL << 13)
#define IOAPIC_REMOTE_IRR	(1ULL << 14)
#define IOAPIC_LEVEL		(1ULL << 15)
#define IOAPIC_MASKED		(1ULL << 16)
#define IOAPIC_DEST_SHIFT	56

struct kvm_ioapic_ops {
	/*
	 * Send a message to the local APICs: the number that accepted it,
	 * or -1 when none did.  Called with the IOAPIC lock held; it must
	 * not call back into the IOAPIC (an EOI from the LAPIC comes back
	 * later, from the vCPU's own thread).
	 */
	int (*deliver)(void *opaque, const struct kvm_lapic_irq *irq);
	/* A pin's vector was EOIed (ack notifier); without the lock. */
	void (*ack)(void *opaque, int pin);
};

struct kvm_ioapic {
	struct kvm_io_device dev;
	pthread_mutex_t lock;		/* everything below */
	uint64_t base_address;
	uint32_t ioregsel;
	uint32_t id;			/* bits 27:24 of the ID register */
	uint32_t irr;			/* input lines currently asserted */
	uint64_t redirtbl[KVM_IOAPIC_NUM_PINS];
	uint32_t acked;			/* pins to notify once unlocked */
	const struct kvm_ioapic_ops *ops;
	void *opaque;
};

struct kvm_ioapic *kvm_ioapic_create(const struct kvm_ioapic_ops *ops, void *opaque);
void kvm_ioapic_destroy(struct kvm_ioapic *s);
void kvm_ioapic_reset(struct kvm_ioapic *s);

/* The register window on kvm's MMIO bus (caller holds slots_lock). */
int kvm_ioapic_register(struct kvm_ioapic *s, struct kvm *kvm);
void kvm_ioapic_unregister(struct kvm_ioapic *s, struct kvm *kvm);

/*
 * Drive pin (0..23) to level (asserted or not; the polarity bit is the
 * guest's business, as with KVM).  KVM_IRQ_LINE_STATUS value: > 0 sent,
 * 0 coalesced (level pin with remote IRR set, or edge already high),
 * -1 masked.
 */
int kvm_ioapic_set_irq(struct kvm_ioapic *s, int pin, int level);
/*
 * A local APIC EOIed vector: level pins with it leave Remote IRR (and send
 * again while asserted); every pin with it is acked to the notifiers.
 */
void kvm_ioapic_eoi(struct kvm_ioapic *s, int vector);
/* Some redirection entry uses vector: its EOI has work to do here. */
bool kvm_ioapic_handles_vector(struct kvm_ioapic *s, int vector);

/* KVM_GET/SET_IRQCHIP for KVM_IRQCHIP_IOAPIC. */
void kvm_ioapic_get_state(struct kvm_ioapic *s, struct kvm_ioapic_state *st);
void kvm_ioapic_set_state(struct kvm_ioapic *s, const struct kvm_ioapic_state *st);

#endif /* SKVM_IOAPIC_H */
