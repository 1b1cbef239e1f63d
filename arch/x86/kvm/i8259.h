/* SPDX-License-Identifier: MIT */
/*
 * i8259.h - the PC's two cascaded 8259A programmable interrupt controllers
 * (master at 0x20/0x21, slave at 0xa0/0xa1 on the master's IR2) and the
 * PIIX edge/level control registers (ELCR, 0x4d0/0x4d1).
 */
#ifndef SKVM_I8259_H
#define SKVM_I8259_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>

#include "iodev.h"
#include "irq.h"

#define KVM_PIC_MASTER_PORT	0x20
#define KVM_PIC_SLAVE_PORT	0xa0
#define KVM_PIC_ELCR_PORT	0x4d0

struct kvm_pic_ops {
	/*
	 * The master's INT output changed.  Called with the PIC lock held:
	 * kick the vCPU, never call back into the PIC.
	 */
	void (*output)(void *opaque, bool level);
	/*
	 * The guest acknowledged (EOI, or INTA in auto-EOI mode) irq 0..15:
	 * the ack notifier of irqchip.c.  Called without the PIC lock.
	 */
	void (*ack)(void *opaque, int irq);
};

struct kvm_pic {
	struct kvm_io_device dev_master, dev_slave, dev_elcr;
	pthread_mutex_t lock;		/* everything below */
	struct kvm_pic_state chip[2];	/* 0: master, 1: slave */
	bool single[2];			/* ICW1.SNGL: no ICW3 expected */
	bool output;			/* the master's INT pin */
	uint16_t acked;			/* irqs to notify once unlocked */
	const struct kvm_pic_ops *ops;
	void *opaque;
};

struct kvm_pic *kvm_pic_create(const struct kvm_pic_ops *ops, void *opaque);
void kvm_pic_destroy(struct kvm_pic *s);
/* Power-on state: both chips uninitialised, ELCR 0. */
void kvm_pic_reset(struct kvm_pic *s);

/* Put the three port ranges on kvm's PIO bus (caller holds slots_lock). */
int kvm_pic_register(struct kvm_pic *s, struct kvm *kvm);
void kvm_pic_unregister(struct kvm_pic *s, struct kvm *kvm);

/*
 * Drive input irq (0..15) to level: 1 when the request reached IRR, 0
 * when it coalesced with one already pending, -1 when masked (the
 * KVM_IRQ_LINE_STATUS convention).
 */
int kvm_pic_set_irq(struct kvm_pic *s, int irq, int level);
/* The INTA cycle: the vector to deliver (spurious IRQ7/15 when none). */
int kvm_pic_read_irq(struct kvm_pic *s);
/* The master's INT pin. */
bool kvm_pic_has_irq(struct kvm_pic *s);

/* KVM_GET/SET_IRQCHIP for KVM_IRQCHIP_PIC_MASTER (0) / _SLAVE (1). */
void kvm_pic_get_state(struct kvm_pic *s, int chip, struct kvm_pic_state *st);
void kvm_pic_set_state(struct kvm_pic *s, int chip, const struct kvm_pic_state *st);

#endif /* SKVM_I8259_H */
