// SPDX-License-Identifier: MIT
/*
 * acpi.c - ACPI tables so that Linux finds the CPUs and the I/O APIC
 * (MADT) and can power the machine off (FADT + \_S5: writing SLP_TYP=5
 * with SLP_EN to PM1a_CNT, ACPI 6.x 7.4.2 "\_Sx (System States)").
 * A PM timer (a reference for calibrating the TSC when the PIT is too
 * coarse for a slow vCPU), no GPEs, no SMI port: ACPI mode is always on.
 */
#include <errno.h>

#include "acpi.h"
#include "bytes.h"
#include "layout.h"

#define ACPI_MADT_BASE	(ACPI_HEADER_SIZE + 8)
#define ACPI_MADT_IOAPIC_ID_BASE 0

static void acpi__header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	putstr(t, sig, 4);
	put32(t + 4, len);
	put8(t + 8, rev);
	putstr(t + 10, "SKVM  ", 6);
	putstr(t + 16, "SKVMVMM ", 8);
	put32(t + 24, 1);
	putstr(t + 28, "SKVM", 4);
	put32(t + 32, 1);
}

static void acpi__seal(uint8_t *t, uint32_t len)
{
	put8(t + 9, 0);
	put8(t + 9, sum8_fix(t, len));
}

/* RSDP, ACPI 1.0 form (revision 0): checksum over its 20 bytes. */
static void acpi__rsdp(uint8_t *p, uint32_t rsdt)
{
	putstr(p, "RSD PTR ", 8);
	putstr(p + 9, "SKVM  ", 6);
	put8(p + 15, 0);
	put32(p + 16, rsdt);
	put8(p + 8, sum8_fix(p, 20));
}

static void acpi__rsdt(uint8_t *t, uint32_t gpa)
{
	uint32_t len = ACPI_HEADER_SIZE + 2 * 4;

	acpi__header(t, "RSDT", len, 1);
	put32(t + 36, gpa + ACPI_FADT_OFF);
	put32(t + 40, gpa + ACPI_MADT_OFF);
	acpi__seal(t, len);
}

static void acpi__facs(uint8_t *t)
{
	putstr(t, "FACS", 4);
	put32(t + 4, ACPI_FACS_SIZE);
	put8(t + 32, 2);			/* version */
}

/*
 * FADT revision 3 layout.  Of the X_ fields only X_DSDT is set; the
 * 32-bit FIRMWARE_CTRL and PM1 blocks rule (ACPICA lists a FACS twice
 * when both FIRMWARE_CTRL and X_FIRMWARE_CTRL are given).
 */
static void acpi__fadt(uint8_t *t, uint32_t gpa)
{
	acpi__header(t, "FACP", ACPI_FADT_SIZE, 3);
	put32(t + 36, gpa + ACPI_FACS_OFF);
	put32(t + 40, gpa + ACPI_DSDT_OFF);
	put16(t + 46, ACPI_SCI_IRQ);
	put32(t + 56, ACPI_PM1_EVT);		/* PM1a_EVT_BLK */
	put32(t + 64, ACPI_PM1_CNT);		/* PM1a_CNT_BLK */
	put32(t + 76, ACPI_PM_TMR);		/* PM_TMR_BLK */
	put8(t + 88, ACPI_PM1_EVT_LEN);
	put8(t + 89, ACPI_PM1_CNT_LEN);
	put8(t + 91, ACPI_PM_TMR_LEN);
	put16(t + 96, 101);			/* P_LVL2_LAT: no C2 */
	put16(t + 98, 1001);			/* P_LVL3_LAT: no C3 */
	put16(t + 109, 0);			/* IAPC_BOOT_ARCH: no 8042 */
	/* WBINVD, PWR_BUTTON and SLP_BUTTON absent as fixed features */
	put32(t + 112, (1 << 0) | (1 << 4) | (1 << 5));
	put64(t + 140, gpa + ACPI_DSDT_OFF);	/* X_DSDT */
	acpi__seal(t, ACPI_FADT_SIZE);
}

/* AML: Name (_S5, Package (4) { 5, 5, 0, 0 })  (ACPI 6.x, 20.2.5) */
static const uint8_t acpi_dsdt_aml[] = {
	0x08, '_', 'S', '5', '_',		/* NameOp, NameSeg */
	0x12, 0x08, 0x04,			/* PackageOp, PkgLength, 4 elements */
	0x0a, ACPI_S5_TYP, 0x0a, ACPI_S5_TYP,	/* BytePrefix 5, BytePrefix 5 */
	0x00, 0x00,				/* ZeroOp, ZeroOp */
};

static void acpi__dsdt(uint8_t *t)
{
	uint32_t len = ACPI_HEADER_SIZE + sizeof(acpi_dsdt_aml);

	acpi__header(t, "DSDT", len, 2);
	memcpy(t + ACPI_HEADER_SIZE, acpi_dsdt_aml, sizeof(acpi_dsdt_aml));
	acpi__seal(t, len);
}

static uint32_t acpi__madt_size(int ncpus)
{
	return ACPI_MADT_BASE + ncpus * 8 + 12 + 2 * 10 + 6;
}

static uint8_t *madt__iso(uint8_t *p, uint8_t irq, uint32_t gsi, uint16_t flags)
{
	put8(p, ACPI_MADT_ISO);
	put8(p + 1, 10);
	put8(p + 2, 0);				/* bus: ISA */
	put8(p + 3, irq);
	put32(p + 4, gsi);
	put16(p + 8, flags);
	return p + 10;
}

static void acpi__madt(uint8_t *t, int ncpus)
{
	uint32_t len = acpi__madt_size(ncpus);
	uint8_t *p = t + ACPI_MADT_BASE;
	int i;

	acpi__header(t, "APIC", len, 3);
	put32(t + 36, LAYOUT_LAPIC);
	put32(t + 40, 1);			/* PCAT_COMPAT: there are 8259s */
	for (i = 0; i < ncpus; i++, p += 8) {
		put8(p, ACPI_MADT_LAPIC);
		put8(p + 1, 8);
		put8(p + 2, i);			/* processor UID */
		put8(p + 3, i);			/* APIC ID */
		put32(p + 4, 1);		/* enabled */
	}
	put8(p, ACPI_MADT_IOAPIC);
	put8(p + 1, 12);
	put8(p + 2, ACPI_MADT_IOAPIC_ID_BASE);
	put32(p + 4, LAYOUT_IOAPIC);
	put32(p + 8, 0);			/* GSI base */
	p += 12;
	p = madt__iso(p, 0, 2, 0);		/* the PIT on pin 2 */
	p = madt__iso(p, ACPI_SCI_IRQ, ACPI_SCI_IRQ, 0xd); /* level, high */
	put8(p, ACPI_MADT_LAPIC_NMI);
	put8(p + 1, 6);
	put8(p + 2, 0xff);			/* all processors */
	put16(p + 3, 0);
	put8(p + 5, 1);				/* LINT1 */
	acpi__seal(t, len);
}

/* 24 bits of ticks, without overflowing on a host up for years. */
uint32_t acpi__pm_timer(uint64_t ns)
{
	uint64_t ticks = ns / 1000000000 * ACPI_PM_TIMER_HZ +
			 ns % 1000000000 * ACPI_PM_TIMER_HZ / 1000000000;

	return ticks & ACPI_PM_TIMER_MASK;
}

size_t acpi__size(int ncpus)
{
	return ACPI_MADT_OFF + acpi__madt_size(ncpus);
}

int acpi__write(uint8_t *buf, size_t len, uint32_t gpa, int ncpus)
{
	if (ncpus < 1 || ncpus > 255 || len < acpi__size(ncpus))
		return -ENOSPC;
	memset(buf, 0, acpi__size(ncpus));
	acpi__rsdt(buf + ACPI_RSDT_OFF, gpa);
	acpi__facs(buf + ACPI_FACS_OFF);
	acpi__fadt(buf + ACPI_FADT_OFF, gpa);
	acpi__dsdt(buf + ACPI_DSDT_OFF);
	acpi__madt(buf + ACPI_MADT_OFF, ncpus);
	acpi__rsdp(buf + ACPI_RSDP_OFF, gpa + ACPI_RSDT_OFF);
	return 0;
}
