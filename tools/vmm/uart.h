/* SPDX-License-Identifier: MIT */
/*
 * uart.h - a 16550A register model (National Semiconductor PC16550D
 * datasheet): no timing, transmission is instant, 16-byte receive FIFO.
 * Not thread-safe: the caller serializes.
 */
#ifndef SKVM_VMM_UART_H
#define SKVM_VMM_UART_H

#include <stdbool.h>
#include <stdint.h>

/* Register offsets from the base port */
#define UART_RBR	0	/* read, DLAB=0 */
#define UART_THR	0	/* write, DLAB=0 */
#define UART_DLL	0	/* DLAB=1 */
#define UART_IER	1	/* DLAB=0 */
#define UART_DLM	1	/* DLAB=1 */
#define UART_IIR	2	/* read */
#define UART_FCR	2	/* write */
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define UART_MSR	6
#define UART_SCR	7

#define UART_IER_RDI	0x01
#define UART_IER_THRI	0x02
#define UART_IER_RLSI	0x04
#define UART_IER_MSI	0x08

#define UART_IIR_NO_INT	0x01
#define UART_IIR_MSI	0x00
#define UART_IIR_THRI	0x02
#define UART_IIR_RDI	0x04
#define UART_IIR_RLSI	0x06
#define UART_IIR_FIFO	0xc0

#define UART_FCR_ENABLE	0x01
#define UART_FCR_CLR_RX	0x02
#define UART_FCR_CLR_TX	0x04

#define UART_LCR_DLAB	0x80

#define UART_MCR_DTR	0x01
#define UART_MCR_RTS	0x02
#define UART_MCR_OUT1	0x04
#define UART_MCR_OUT2	0x08
#define UART_MCR_LOOP	0x10

#define UART_LSR_DR	0x01
#define UART_LSR_OE	0x02
#define UART_LSR_THRE	0x20
#define UART_LSR_TEMT	0x40

#define UART_MSR_DCTS	0x01
#define UART_MSR_DDSR	0x02
#define UART_MSR_TERI	0x04
#define UART_MSR_DDCD	0x08
#define UART_MSR_CTS	0x10
#define UART_MSR_DSR	0x20
#define UART_MSR_RI	0x40
#define UART_MSR_DCD	0x80

#define UART_FIFO_SIZE	16

struct uart {
	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
	uint8_t lsr_err;		/* OE, cleared by reading LSR */
	uint8_t msr;			/* status and delta bits */
	bool thre_pending;		/* THRE interrupt not yet acknowledged */
	uint8_t rx[UART_FIFO_SIZE];
	unsigned int rx_head, rx_count;
	void (*tx)(void *opaque, uint8_t byte);
	void *opaque;
};

void uart__init(struct uart *u, void (*tx)(void *, uint8_t), void *opaque);
uint8_t uart__read(struct uart *u, unsigned int reg);
void uart__write(struct uart *u, unsigned int reg, uint8_t val);
/* Level of the IRQ pin as a PC wires it: gated by OUT2. */
bool uart__irq(const struct uart *u);
/* Bytes the receive FIFO (or holding register) can take now. */
unsigned int uart__rx_room(const struct uart *u);
/* Input from the line; -EAGAIN (and OE set) when there is no room. */
int uart__receive(struct uart *u, uint8_t byte);

#endif
