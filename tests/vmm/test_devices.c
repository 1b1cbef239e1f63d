// SPDX-License-Identifier: MIT
/*
 * Unit tests of the port I/O bus and its devices (tools/vmm/ioport.c,
 * serial.c, kvm.c's stop state), driven as KVM_EXIT_IO would drive them,
 * without a /dev/kvm: the ACPI PM1 power-off, the reset lines, PCI
 * configuration with no devices, the CMOS ports, COM1 to a pipe.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "acpi.h"
#include "vmm.h"

static struct vmm vmm;
static int out[2];

static int setup(void **state)
{
	memset(&vmm, 0, sizeof(vmm));
	vmm__init_state(&vmm, 1);
	assert_int_equal(devices__init(&vmm), 0);
	assert_int_equal(pipe2(out, O_NONBLOCK), 0);
	assert_int_equal(serial__init(&vmm, 0x3f8, 4, out[1]), 0);
	return 0;
}

static int teardown(void **state)
{
	close(out[0]);
	close(out[1]);
	return 0;
}

static void outb(uint16_t port, uint8_t v)
{
	ioport__dispatch(&vmm, port, true, &v, 1);
}

static void outw(uint16_t port, uint16_t v)
{
	ioport__dispatch(&vmm, port, true, (uint8_t *)&v, 2);
}

static void outl(uint16_t port, uint32_t v)
{
	ioport__dispatch(&vmm, port, true, (uint8_t *)&v, 4);
}

static uint8_t inb(uint16_t port)
{
	uint8_t v = 0x5a;

	ioport__dispatch(&vmm, port, false, &v, 1);
	return v;
}

static uint16_t inw(uint16_t port)
{
	uint16_t v = 0x5a5a;

	ioport__dispatch(&vmm, port, false, (uint8_t *)&v, 2);
	return v;
}

static uint32_t inl(uint16_t port)
{
	uint32_t v = 0x5a5a5a5a;

	ioport__dispatch(&vmm, port, false, (uint8_t *)&v, 4);
	return v;
}

/* acpi_hw_legacy_sleep: SLP_TYP from \_S5 with SLP_EN in PM1a_CNT. */
static void test_acpi_power_off(void **state)
{
	/* ACPI mode is always on: SCI_EN reads as set */
	assert_true(inw(ACPI_PM1_CNT) & ACPI_PM1_CNT_SCI_EN);
	assert_int_equal(inw(ACPI_PM1_EVT), 0);
	outw(ACPI_PM1_EVT + 2, 0x0121);			/* PM1_EN */
	assert_int_equal(inw(ACPI_PM1_EVT + 2), 0x0121);
	/* SLP_TYP alone, or another sleep type, does nothing */
	outw(ACPI_PM1_CNT, ACPI_S5_TYP << 10);
	outw(ACPI_PM1_CNT, 3 << 10 | ACPI_PM1_CNT_SLP_EN);
	assert_int_equal(vmm__stopped(&vmm), VMM_RUNNING);
	outw(ACPI_PM1_CNT, ACPI_S5_TYP << 10 | ACPI_PM1_CNT_SLP_EN);
	assert_int_equal(vmm__stopped(&vmm), VMM_POWER_OFF);
	/* the first reason stays */
	outb(0x64, 0xfe);
	assert_int_equal(vmm__wait(&vmm), VMM_POWER_OFF);
}

/* The PM timer counts host time: 1 ms is about 3580 ticks. */
static void test_pm_timer(void **state)
{
	uint32_t a, b;
	struct timespec ms = { 0, 1000000 };

	a = inl(ACPI_PM_TMR);
	nanosleep(&ms, NULL);
	b = inl(ACPI_PM_TMR);
	assert_int_equal(a & ~ACPI_PM_TIMER_MASK, 0);
	assert_true(((b - a) & ACPI_PM_TIMER_MASK) >= 3579);
	assert_true(((b - a) & ACPI_PM_TIMER_MASK) < 3579545);
	outl(ACPI_PM_TMR, 0);				/* read-only */
	assert_true(((inl(ACPI_PM_TMR) - a) & ACPI_PM_TIMER_MASK) >= 3579);
}

static const struct {
	uint16_t port;
	uint8_t val;
	bool resets;
} reset_rows[] = {
	{ 0x64, 0xfe, true },		/* i8042 pulse reset line */
	{ 0x64, 0xad, false },		/* disable keyboard */
	{ 0x60, 0xfe, false },		/* data port */
	{ 0x92, 0x02, false },		/* A20 only */
	{ 0x92, 0x01, true },
	{ 0xcf9, 0x02, false },
	{ 0xcf9, 0x06, true },
	{ 0x80, 0xfe, false },		/* POST code */
};

static void test_reset_lines(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(reset_rows) / sizeof(reset_rows[0]); i++) {
		setup(state);
		outb(reset_rows[i].port, reset_rows[i].val);
		if (vmm__stopped(&vmm) != (reset_rows[i].resets ? VMM_RESET :
					   VMM_RUNNING))
			fail_msg("port %#x value %#x", reset_rows[i].port,
				 reset_rows[i].val);
		teardown(state);
	}
	setup(state);
	assert_int_equal(inb(0x64), 0);	/* nothing to read, room to write */
	teardown(state);
}

/* Mechanism #1: the address latches, no device answers. */
static void test_pci_no_device(void **state)
{
	outl(0xcf8, 0x80000000);
	assert_int_equal(inl(0xcf8), 0x80000000);
	assert_int_equal(inl(0xcfc), 0xffffffff);
	assert_int_equal(inw(0xcfe), 0xffff);
	assert_int_equal(inb(0xcff), 0xff);
	outl(0xcfc, 0x12345678);
	assert_int_equal(inl(0xcfc), 0xffffffff);
}

static void test_unclaimed_and_cmos(void **state)
{
	assert_int_equal(inb(0x2f8), 0xff);		/* COM2: absent */
	assert_int_equal(inl(0x1234), 0xffffffff);
	outb(0x70, 0x0d);
	assert_int_equal(inb(0x71), 0x80);		/* RTC valid */
	outb(0x70, 0x8a);				/* NMI off, reg A */
	assert_int_equal(inb(0x71) & 0x80, 0);		/* never UIP */
}

static size_t drain(char *buf, size_t len)
{
	ssize_t n = read(out[0], buf, len);

	return n < 0 ? 0 : n;
}

static void test_serial(void **state)
{
	const char *msg = "Linux\r\n";
	char buf[32];
	size_t i;

	assert_int_equal(inb(0x3fd) & 0x60, 0x60);	/* THRE, TEMT */
	for (i = 0; i < strlen(msg); i++)
		outb(0x3f8, msg[i]);
	assert_int_equal(drain(buf, sizeof(buf)), strlen(msg));
	assert_memory_equal(buf, msg, strlen(msg));

	/* input: one byte of room without the FIFO, 16 with it */
	assert_int_equal(serial__input(&vmm, 'a'), 0);
	assert_int_equal(serial__input(&vmm, 'b'), -EAGAIN);
	assert_true(inb(0x3fd) & 1);
	assert_int_equal(inb(0x3f8), 'a');
	outb(0x3fa, 0x07);				/* FCR: FIFO on */
	for (i = 0; i < 16; i++)
		assert_int_equal(serial__input(&vmm, 'A' + i), 0);
	assert_int_equal(serial__input(&vmm, '!'), -EAGAIN);
	assert_int_equal(inb(0x3fa) & 0xc0, 0xc0);
	for (i = 0; i < 16; i++)
		assert_int_equal(inb(0x3f8), 'A' + i);
	assert_false(inb(0x3fd) & 1);
	/* no irqchip: the line level is tracked, nothing is sent */
	outb(0x3fc, 0x08);				/* OUT2 */
	outb(0x3f9, 0x02);				/* THRI */
	assert_true(vmm.serial.irq_level);
	assert_int_equal(inb(0x3fa) & 0x0f, 0x02);
	assert_false(vmm.serial.irq_level);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_acpi_power_off, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pm_timer, setup,
						teardown),
		cmocka_unit_test(test_reset_lines),
		cmocka_unit_test_setup_teardown(test_pci_no_device, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unclaimed_and_cmos, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_serial, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
