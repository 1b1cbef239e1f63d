/* SPDX-License-Identifier: MIT */
/*
 * irqbypass.h - pairing of interrupt producers and consumers that share an
 * eventfd (the kernel's virt/lib/irqbypass).
 *
 * A producer is an in-process device model that raises an interrupt by
 * signalling an eventfd; a consumer is what the eventfd is wired to (an
 * irqfd).  When both sides of the same eventfd are registered they are
 * connected, and the producer's interrupts go straight to the consumer
 * without the eventfd round trip through the event thread.  Unregistering
 * either side restores the eventfd path.
 *
 * The token is the eventfd itself: two fds name the same token when they
 * refer to the same open file description (compared with kcmp).
 */
#ifndef SKVM_IRQBYPASS_H
#define SKVM_IRQBYPASS_H

struct irq_bypass_producer;

struct irq_bypass_consumer {
	int fd;				/* the token: an eventfd */
	/* raise the interrupt (called with the registry lock held) */
	void (*inject)(struct irq_bypass_consumer *cons);
	struct irq_bypass_producer *producer;	/* when connected */
	struct irq_bypass_consumer *next;
};

struct irq_bypass_producer {
	int fd;				/* the token: an eventfd */
	struct irq_bypass_consumer *consumer;	/* when connected */
	struct irq_bypass_producer *next;
};

/* 0, or -EBUSY when a producer (consumer) of the same token exists. */
int irq_bypass_register_producer(struct irq_bypass_producer *prod);
void irq_bypass_unregister_producer(struct irq_bypass_producer *prod);
int irq_bypass_register_consumer(struct irq_bypass_consumer *cons);
void irq_bypass_unregister_consumer(struct irq_bypass_consumer *cons);

/*
 * Raise the producer's interrupt: through the connected consumer, or by
 * adding 1 to the eventfd when there is none.  Returns 1 when it went
 * through the bypass, 0 through the eventfd.
 */
int irq_bypass_producer_fire(struct irq_bypass_producer *prod);

#endif /* SKVM_IRQBYPASS_H */
