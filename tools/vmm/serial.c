// SPDX-License-Identifier: MIT
/*
 * serial.c - COM1: the 16550A model on the port I/O bus, its output to a
 * host fd, its input from the terminal thread, its IRQ through KVM_IRQ_LINE.
 */
#include <errno.h>
#include <unistd.h>

#include "vmm.h"

static void serial__tx(void *opaque, uint8_t byte)
{
	struct serial *s = opaque;
	ssize_t n;

	do
		n = write(s->out_fd, &byte, 1);
	while (n < 0 && errno == EINTR);
}

/* Called with s->lock held after every change of the UART's state. */
static void serial__update_irq(struct vmm *vmm, struct serial *s)
{
	bool level = uart__irq(&s->uart);

	if (level == s->irq_level)
		return;
	s->irq_level = level;
	vmm__irq_line(vmm, s->irq, level);
}

static void serial__io(struct vmm *vmm, void *opaque, uint16_t port,
		       bool write, uint8_t *data, unsigned int size)
{
	struct serial *s = opaque;
	unsigned int reg = port - s->base;

	pthread_mutex_lock(&s->lock);
	if (write)
		uart__write(&s->uart, reg, data[0]);
	else
		data[0] = uart__read(&s->uart, reg);
	serial__update_irq(vmm, s);
	pthread_mutex_unlock(&s->lock);
}

int serial__init(struct vmm *vmm, uint16_t base, int irq, int out_fd)
{
	struct serial *s = &vmm->serial;

	pthread_mutex_init(&s->lock, NULL);
	uart__init(&s->uart, serial__tx, s);
	s->base = base;
	s->irq = irq;
	s->out_fd = out_fd;
	return ioport__register(vmm, base, 8, serial__io, s);
}

/* -EAGAIN while the guest has not made room in the receive FIFO. */
int serial__input(struct vmm *vmm, uint8_t byte)
{
	struct serial *s = &vmm->serial;
	int ret = -EAGAIN;

	pthread_mutex_lock(&s->lock);
	if (uart__rx_room(&s->uart)) {
		ret = uart__receive(&s->uart, byte);
		serial__update_irq(vmm, s);
	}
	pthread_mutex_unlock(&s->lock);
	return ret;
}
