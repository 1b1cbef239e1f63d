// SPDX-License-Identifier: MIT
/*
 * Unit tests of the 16550A model (tools/vmm/uart.c) against the PC16550D
 * datasheet: reset values, the divisor latch, interrupt identification and
 * priority, THRE acknowledgement, the FIFO, loopback, modem status deltas,
 * and the probe sequence Linux's 8250 driver runs on a 16550A.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "uart.h"

struct sink {
	uint8_t buf[64];
	unsigned int n;
};

static void sink_tx(void *opaque, uint8_t byte)
{
	struct sink *s = opaque;

	if (s->n < sizeof(s->buf))
		s->buf[s->n++] = byte;
}

static struct uart u;
static struct sink out;

static int setup(void **state)
{
	memset(&out, 0, sizeof(out));
	uart__init(&u, sink_tx, &out);
	return 0;
}

static void test_reset_values(void **state)
{
	assert_int_equal(uart__read(&u, UART_IER), 0);
	assert_int_equal(uart__read(&u, UART_IIR), UART_IIR_NO_INT);
	assert_int_equal(uart__read(&u, UART_LCR), 0);
	assert_int_equal(uart__read(&u, UART_MCR), 0);
	assert_int_equal(uart__read(&u, UART_LSR),
			 UART_LSR_THRE | UART_LSR_TEMT);
	assert_int_equal(uart__read(&u, UART_MSR),
			 UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS);
	assert_false(uart__irq(&u));
}

static void test_scratch_and_divisor(void **state)
{
	uart__write(&u, UART_SCR, 0x5a);
	assert_int_equal(uart__read(&u, UART_SCR), 0x5a);

	uart__write(&u, UART_LCR, UART_LCR_DLAB | 0x03);
	uart__write(&u, UART_DLL, 0x01);	/* 115200 baud */
	uart__write(&u, UART_DLM, 0x00);
	assert_int_equal(uart__read(&u, UART_DLL), 0x01);
	assert_int_equal(uart__read(&u, UART_DLM), 0x00);
	assert_int_equal(out.n, 0);		/* DLL is not THR */
	uart__write(&u, UART_LCR, 0x03);
	assert_int_equal(uart__read(&u, UART_IER), 0);	/* DLM is not IER */
	assert_int_equal(uart__read(&u, UART_LCR), 0x03);
}

static void test_transmit(void **state)
{
	const char *msg = "hi\r\n";
	size_t i;

	for (i = 0; i < strlen(msg); i++) {
		assert_true(uart__read(&u, UART_LSR) & UART_LSR_THRE);
		uart__write(&u, UART_THR, msg[i]);
	}
	assert_int_equal(out.n, 4);
	assert_memory_equal(out.buf, msg, 4);
}

/* The IRQ pin reaches the PIC only through OUT2. */
static void test_thre_interrupt(void **state)
{
	uart__write(&u, UART_IER, UART_IER_THRI);
	assert_false(uart__irq(&u));
	uart__write(&u, UART_MCR, UART_MCR_OUT2);
	assert_true(uart__irq(&u));
	/* Reading IIR while it names THRE acknowledges it... */
	assert_int_equal(uart__read(&u, UART_IIR), UART_IIR_THRI);
	assert_int_equal(uart__read(&u, UART_IIR), UART_IIR_NO_INT);
	assert_false(uart__irq(&u));
	/* ...and a write to THR raises it again once the byte is gone. */
	uart__write(&u, UART_THR, 'x');
	assert_true(uart__irq(&u));
	assert_int_equal(uart__read(&u, UART_IIR), UART_IIR_THRI);
	/* Re-enabling THRI with THR empty interrupts at once. */
	uart__write(&u, UART_IER, 0);
	uart__write(&u, UART_IER, UART_IER_THRI);
	assert_int_equal(uart__read(&u, UART_IIR), UART_IIR_THRI);
	/* The upper bits of IER do not exist on a 16550A. */
	uart__write(&u, UART_IER, 0xff);
	assert_int_equal(uart__read(&u, UART_IER), 0x0f);
}

static void test_receive(void **state)
{
	uart__write(&u, UART_MCR, UART_MCR_OUT2);
	assert_int_equal(uart__receive(&u, 'a'), 0);
	assert_false(uart__irq(&u));		/* RDI not enabled */
	assert_true(uart__read(&u, UART_LSR) & UART_LSR_DR);
	uart__write(&u, UART_IER, UART_IER_RDI);
	assert_true(uart__irq(&u));
	assert_int_equal(uart__read(&u, UART_IIR), UART_IIR_RDI);
	/* Without a FIFO the holding register takes one byte. */
	assert_int_equal(uart__rx_room(&u), 0);
	assert_int_equal(uart__receive(&u, 'b'), -EAGAIN);
	assert_int_equal(uart__read(&u, UART_RBR), 'a');
	assert_false(uart__read(&u, UART_LSR) & UART_LSR_DR);
	assert_false(uart__irq(&u));
	assert_int_equal(uart__read(&u, UART_RBR), 0);	/* empty */
}

static void test_fifo(void **state)
{
	int i;

	uart__write(&u, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLR_RX);
	assert_int_equal(uart__read(&u, UART_IIR) & UART_IIR_FIFO,
			 UART_IIR_FIFO);
	assert_int_equal(uart__rx_room(&u), UART_FIFO_SIZE);
	for (i = 0; i < UART_FIFO_SIZE; i++)
		assert_int_equal(uart__receive(&u, 'A' + i), 0);
	assert_int_equal(uart__receive(&u, '!'), -EAGAIN);
	for (i = 0; i < 4; i++)
		assert_int_equal(uart__read(&u, UART_RBR), 'A' + i);
	assert_int_equal(uart__rx_room(&u), 4);
	/* FCR bit 1 empties the receive FIFO. */
	uart__write(&u, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLR_RX);
	assert_int_equal(uart__rx_room(&u), UART_FIFO_SIZE);
	assert_false(uart__read(&u, UART_LSR) & UART_LSR_DR);
	/* Turning the FIFO off also empties it. */
	uart__receive(&u, 'z');
	uart__write(&u, UART_FCR, 0);
	assert_int_equal(uart__read(&u, UART_IIR), UART_IIR_NO_INT);
	assert_false(uart__read(&u, UART_LSR) & UART_LSR_DR);
}

/* Overrun: OE in LSR until LSR is read; RLSI outranks RDI. */
static void test_overrun_priority(void **state)
{
	uart__write(&u, UART_IER, UART_IER_RDI | UART_IER_RLSI |
		    UART_IER_THRI);
	uart__receive(&u, '1');
	uart__receive(&u, '2');
	assert_int_equal(uart__read(&u, UART_IIR), UART_IIR_RLSI);
	assert_true(uart__read(&u, UART_LSR) & UART_LSR_OE);
	assert_false(uart__read(&u, UART_LSR) & UART_LSR_OE);
	assert_int_equal(uart__read(&u, UART_IIR), UART_IIR_RDI);
	assert_int_equal(uart__read(&u, UART_RBR), '1');
	assert_int_equal(uart__read(&u, UART_IIR), UART_IIR_THRI);
	assert_int_equal(uart__read(&u, UART_IIR), UART_IIR_NO_INT);
}

static void test_loopback(void **state)
{
	uart__write(&u, UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2 |
		    UART_MCR_RTS);
	assert_int_equal(uart__read(&u, UART_MSR) & 0xf0,
			 UART_MSR_CTS | UART_MSR_DCD);
	uart__write(&u, UART_MCR, UART_MCR_LOOP | UART_MCR_OUT1 |
		    UART_MCR_DTR);
	assert_int_equal(uart__read(&u, UART_MSR) & 0xf0,
			 UART_MSR_RI | UART_MSR_DSR);
	/* Transmitted bytes come back; nothing leaves, nothing comes in. */
	uart__write(&u, UART_THR, 0x55);
	assert_int_equal(out.n, 0);
	assert_int_equal(uart__receive(&u, 0x77), 0);
	assert_true(uart__read(&u, UART_LSR) & UART_LSR_DR);
	assert_int_equal(uart__read(&u, UART_RBR), 0x55);
	/* The IRQ pin is cut off in loopback. */
	uart__write(&u, UART_IER, UART_IER_THRI);
	assert_false(uart__irq(&u));
	uart__write(&u, UART_MCR, UART_MCR_OUT2);
	assert_true(uart__irq(&u));
}

static void test_msr_deltas(void **state)
{
	uart__write(&u, UART_MCR, UART_MCR_LOOP);	/* all lines drop */
	assert_int_equal(uart__read(&u, UART_MSR),
			 UART_MSR_DCTS | UART_MSR_DDSR | UART_MSR_DDCD);
	assert_int_equal(uart__read(&u, UART_MSR), 0);	/* read clears */
	uart__write(&u, UART_MCR, UART_MCR_LOOP | UART_MCR_OUT1);
	assert_int_equal(uart__read(&u, UART_MSR), UART_MSR_RI);
	uart__write(&u, UART_MCR, UART_MCR_LOOP);	/* RI trailing edge */
	uart__write(&u, UART_IER, UART_IER_MSI);
	assert_int_equal(uart__read(&u, UART_IIR), UART_IIR_MSI);
	assert_int_equal(uart__read(&u, UART_MSR), UART_MSR_TERI);
	assert_int_equal(uart__read(&u, UART_IIR), UART_IIR_NO_INT);
}

/*
 * What the 8250 driver's autoconfig reads on a 16550A: the IER test,
 * the loopback test with MCR = LOOP|OUT2|RTS giving MSR status 0x90, and
 * IIR's FIFO bits 0xc0 after enabling the FIFO.
 */
static void test_linux_probe(void **state)
{
	uart__write(&u, UART_IER, 0);
	assert_int_equal(uart__read(&u, UART_IER) & 0x0f, 0);
	uart__write(&u, UART_IER, 0x0f);
	assert_int_equal(uart__read(&u, UART_IER) & 0x0f, 0x0f);
	uart__write(&u, UART_IER, 0);

	uart__write(&u, UART_MCR, UART_MCR_LOOP | 0x0a);
	assert_int_equal(uart__read(&u, UART_MSR) & 0xf0, 0x90);
	uart__write(&u, UART_MCR, 0);

	uart__write(&u, UART_FCR, UART_FCR_ENABLE);
	assert_int_equal(uart__read(&u, UART_IIR) >> 6, 3);
	/* no EFR behind LCR = 0xbf: reg 2 is still IIR, not zero */
	uart__write(&u, UART_LCR, 0xbf);
	assert_int_not_equal(uart__read(&u, 2), 0);
	uart__write(&u, UART_LCR, 0x03);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_reset_values, setup),
		cmocka_unit_test_setup(test_scratch_and_divisor, setup),
		cmocka_unit_test_setup(test_transmit, setup),
		cmocka_unit_test_setup(test_thre_interrupt, setup),
		cmocka_unit_test_setup(test_receive, setup),
		cmocka_unit_test_setup(test_fifo, setup),
		cmocka_unit_test_setup(test_overrun_priority, setup),
		cmocka_unit_test_setup(test_loopback, setup),
		cmocka_unit_test_setup(test_msr_deltas, setup),
		cmocka_unit_test_setup(test_linux_probe, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
