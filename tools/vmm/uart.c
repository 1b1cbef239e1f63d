// SPDX-License-Identifier: MIT
/*
 * uart.c - the 16550A's registers, as the PC16550D datasheet describes
 * them, with what Linux's 8250 driver probes: the scratch register, the
 * FIFO bits of IIR, the loopback test through MCR/MSR, THRE interrupts.
 */
#include <errno.h>
#include <string.h>

#include "uart.h"

#define UART_MSR_STATUS	0xf0
#define UART_MSR_DELTA	0x0f

/* Modem inputs: a connected terminal, or MCR's outputs in loopback. */
static uint8_t uart__modem_lines(const struct uart *u)
{
	uint8_t m = 0;

	if (!(u->mcr & UART_MCR_LOOP))
		return UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
	if (u->mcr & UART_MCR_RTS)
		m |= UART_MSR_CTS;
	if (u->mcr & UART_MCR_DTR)
		m |= UART_MSR_DSR;
	if (u->mcr & UART_MCR_OUT1)
		m |= UART_MSR_RI;
	if (u->mcr & UART_MCR_OUT2)
		m |= UART_MSR_DCD;
	return m;
}

/* Set the delta bits for what changed since the status was last taken. */
static void uart__update_msr(struct uart *u)
{
	uint8_t old = u->msr & UART_MSR_STATUS, now = uart__modem_lines(u);
	uint8_t changed = old ^ now;

	if (changed & UART_MSR_CTS)
		u->msr |= UART_MSR_DCTS;
	if (changed & UART_MSR_DSR)
		u->msr |= UART_MSR_DDSR;
	if ((old & UART_MSR_RI) && !(now & UART_MSR_RI))
		u->msr |= UART_MSR_TERI;
	if (changed & UART_MSR_DCD)
		u->msr |= UART_MSR_DDCD;
	u->msr = (u->msr & UART_MSR_DELTA) | now;
}

void uart__init(struct uart *u, void (*tx)(void *, uint8_t), void *opaque)
{
	memset(u, 0, sizeof(*u));
	u->tx = tx;
	u->opaque = opaque;
	u->msr = uart__modem_lines(u);
}

static unsigned int uart__rx_capacity(const struct uart *u)
{
	return (u->fcr & UART_FCR_ENABLE) ? UART_FIFO_SIZE : 1;
}

unsigned int uart__rx_room(const struct uart *u)
{
	return uart__rx_capacity(u) - u->rx_count;
}

static int uart__rx_push(struct uart *u, uint8_t byte)
{
	if (!uart__rx_room(u)) {
		u->lsr_err |= UART_LSR_OE;
		return -EAGAIN;
	}
	u->rx[(u->rx_head + u->rx_count) % UART_FIFO_SIZE] = byte;
	u->rx_count++;
	return 0;
}

int uart__receive(struct uart *u, uint8_t byte)
{
	if (u->mcr & UART_MCR_LOOP)	/* the line is disconnected */
		return 0;
	return uart__rx_push(u, byte);
}

static uint8_t uart__rx_pop(struct uart *u)
{
	uint8_t byte;

	if (!u->rx_count)
		return 0;
	byte = u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1) % UART_FIFO_SIZE;
	u->rx_count--;
	return byte;
}

/* The highest-priority pending interrupt (datasheet, Table IV). */
static uint8_t uart__iir_id(const struct uart *u)
{
	if ((u->ier & UART_IER_RLSI) && u->lsr_err)
		return UART_IIR_RLSI;
	if ((u->ier & UART_IER_RDI) && u->rx_count)
		return UART_IIR_RDI;
	if ((u->ier & UART_IER_THRI) && u->thre_pending)
		return UART_IIR_THRI;
	if ((u->ier & UART_IER_MSI) && (u->msr & UART_MSR_DELTA))
		return UART_IIR_MSI;
	return UART_IIR_NO_INT;
}

bool uart__irq(const struct uart *u)
{
	if ((u->mcr & UART_MCR_LOOP) || !(u->mcr & UART_MCR_OUT2))
		return false;
	return uart__iir_id(u) != UART_IIR_NO_INT;
}

static uint8_t uart__read_iir(struct uart *u)
{
	uint8_t id = uart__iir_id(u);

	/* Reading IIR while it names THRE acknowledges that interrupt. */
	if (id == UART_IIR_THRI)
		u->thre_pending = false;
	return id | ((u->fcr & UART_FCR_ENABLE) ? UART_IIR_FIFO : 0);
}

static uint8_t uart__read_lsr(struct uart *u)
{
	uint8_t lsr = UART_LSR_THRE | UART_LSR_TEMT | u->lsr_err;

	if (u->rx_count)
		lsr |= UART_LSR_DR;
	u->lsr_err = 0;
	return lsr;
}

uint8_t uart__read(struct uart *u, unsigned int reg)
{
	uint8_t v;
	bool dlab = u->lcr & UART_LCR_DLAB;

	switch (reg) {
	case UART_RBR:
		return dlab ? u->dll : uart__rx_pop(u);
	case UART_IER:
		return dlab ? u->dlm : u->ier;
	case UART_IIR:
		return uart__read_iir(u);
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		return uart__read_lsr(u);
	case UART_MSR:
		v = u->msr;
		u->msr &= UART_MSR_STATUS;
		return v;
	case UART_SCR:
		return u->scr;
	}
	return 0xff;
}

static void uart__write_thr(struct uart *u, uint8_t val)
{
	if (u->mcr & UART_MCR_LOOP)
		uart__rx_push(u, val);
	else if (u->tx)
		u->tx(u->opaque, val);
	/* The holding register empties at once: THRE is raised again. */
	u->thre_pending = true;
}

static void uart__write_ier(struct uart *u, uint8_t val)
{
	val &= 0x0f;
	/* Enabling THRE with the holding register empty interrupts at once. */
	if ((val & UART_IER_THRI) && !(u->ier & UART_IER_THRI))
		u->thre_pending = true;
	if (!(val & UART_IER_THRI))
		u->thre_pending = false;
	u->ier = val;
}

static void uart__write_fcr(struct uart *u, uint8_t val)
{
	if ((val ^ u->fcr) & UART_FCR_ENABLE)
		val |= UART_FCR_CLR_RX;		/* toggling resets the FIFO */
	if (val & UART_FCR_CLR_RX)
		u->rx_head = u->rx_count = 0;
	u->fcr = val & ~(UART_FCR_CLR_RX | UART_FCR_CLR_TX);
}

void uart__write(struct uart *u, unsigned int reg, uint8_t val)
{
	bool dlab = u->lcr & UART_LCR_DLAB;

	switch (reg) {
	case UART_THR:
		if (dlab)
			u->dll = val;
		else
			uart__write_thr(u, val);
		break;
	case UART_IER:
		if (dlab)
			u->dlm = val;
		else
			uart__write_ier(u, val);
		break;
	case UART_FCR:
		uart__write_fcr(u, val);
		break;
	case UART_LCR:
		u->lcr = val;
		break;
	case UART_MCR:
		u->mcr = val & 0x1f;
		uart__update_msr(u);
		break;
	case UART_SCR:
		u->scr = val;
		break;
	}
}
