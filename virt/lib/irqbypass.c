// SPDX-License-Identifier: MIT
/*
 * irqbypass.c - the producer/consumer registry (see irqbypass.h).
 *
 * One process-wide lock protects both lists and every connection; a
 * producer fires under it, so a consumer being unregistered can never be
 * injected through after irq_bypass_unregister_consumer() returns.
 */
#include <errno.h>
#include <linux/kcmp.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "irqbypass.h"

static pthread_mutex_t bypass_lock = PTHREAD_MUTEX_INITIALIZER;
static struct irq_bypass_producer *producers;
static struct irq_bypass_consumer *consumers;

static int same_token(int a, int b)
{
	pid_t pid = getpid();

	return syscall(SYS_kcmp, pid, pid, KCMP_FILE, a, b) == 0;
}

static void bypass_connect(struct irq_bypass_producer *prod,
		    struct irq_bypass_consumer *cons)
{
	prod->consumer = cons;
	cons->producer = prod;
}

int irq_bypass_register_producer(struct irq_bypass_producer *prod)
{
	int r = 0;

	pthread_mutex_lock(&bypass_lock);
	for (struct irq_bypass_producer *p = producers; p; p = p->next) {
		if (same_token(p->fd, prod->fd)) {
			r = -EBUSY;
			goto out;
		}
	}
	prod->consumer = NULL;
	for (struct irq_bypass_consumer *c = consumers; c; c = c->next) {
		if (same_token(c->fd, prod->fd)) {
			bypass_connect(prod, c);
			break;
		}
	}
	prod->next = producers;
	producers = prod;
out:
	pthread_mutex_unlock(&bypass_lock);
	return r;
}

void irq_bypass_unregister_producer(struct irq_bypass_producer *prod)
{
	struct irq_bypass_producer **pp;

	pthread_mutex_lock(&bypass_lock);
	for (pp = &producers; *pp && *pp != prod; pp = &(*pp)->next)
		;
	if (*pp) {
		*pp = prod->next;
		if (prod->consumer)
			prod->consumer->producer = NULL;
		prod->consumer = NULL;
	}
	pthread_mutex_unlock(&bypass_lock);
}

int irq_bypass_register_consumer(struct irq_bypass_consumer *cons)
{
	int r = 0;

	pthread_mutex_lock(&bypass_lock);
	for (struct irq_bypass_consumer *c = consumers; c; c = c->next) {
		if (same_token(c->fd, cons->fd)) {
			r = -EBUSY;
			goto out;
		}
	}
	cons->producer = NULL;
	for (struct irq_bypass_producer *p = producers; p; p = p->next) {
		if (same_token(p->fd, cons->fd)) {
			bypass_connect(p, cons);
			break;
		}
	}
	cons->next = consumers;
	consumers = cons;
out:
	pthread_mutex_unlock(&bypass_lock);
	return r;
}

void irq_bypass_unregister_consumer(struct irq_bypass_consumer *cons)
{
	struct irq_bypass_consumer **pp;

	pthread_mutex_lock(&bypass_lock);
	for (pp = &consumers; *pp && *pp != cons; pp = &(*pp)->next)
		;
	if (*pp) {
		*pp = cons->next;
		if (cons->producer)
			cons->producer->consumer = NULL;
		cons->producer = NULL;
	}
	pthread_mutex_unlock(&bypass_lock);
}

int irq_bypass_producer_fire(struct irq_bypass_producer *prod)
{
	uint64_t one = 1;
	ssize_t n;

	pthread_mutex_lock(&bypass_lock);
	if (prod->consumer) {
		prod->consumer->inject(prod->consumer);
		pthread_mutex_unlock(&bypass_lock);
		return 1;
	}
	pthread_mutex_unlock(&bypass_lock);
	do
		n = write(prod->fd, &one, sizeof(one));
	while (n < 0 && errno == EINTR);
	return 0;
}
