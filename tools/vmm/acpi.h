/* SPDX-License-Identifier: MIT */
/*
 * acpi.h - the few ACPI tables a PC guest needs (ACPI 6.x, chapter 5):
 * RSDP, RSDT, FADT with a PM1 block, FACS, a DSDT holding only \_S5, and
 * a MADT listing the local APICs and the I/O APIC.
 */
#ifndef SKVM_VMM_ACPI_H
#define SKVM_VMM_ACPI_H

#include <stddef.h>
#include <stdint.h>

/* The PM1 register block the FADT points at (I/O ports). */
#define ACPI_PM1_EVT		0x600	/* PM1a_STS (2), PM1a_EN (2) */
#define ACPI_PM1_EVT_LEN	4
#define ACPI_PM1_CNT		0x604	/* PM1a_CNT (2) */
#define ACPI_PM1_CNT_LEN	2
#define ACPI_PM_TMR		0x608	/* PM timer, 24 bits at 3.579545 MHz */
#define ACPI_PM_TMR_LEN		4
#define ACPI_PM_TIMER_HZ	3579545ULL
#define ACPI_PM_TIMER_MASK	0xffffff
#define ACPI_SCI_IRQ		9

#define ACPI_PM1_CNT_SCI_EN	0x0001
#define ACPI_PM1_CNT_SLP_TYP(v)	(((v) >> 10) & 7)
#define ACPI_PM1_CNT_SLP_EN	0x2000
#define ACPI_S5_TYP		5	/* the value \_S5 gives */

/* Offsets of each table from the start of the area (the RSDP). */
#define ACPI_RSDP_OFF		0x000
#define ACPI_RSDT_OFF		0x040
#define ACPI_FACS_OFF		0x100
#define ACPI_FADT_OFF		0x200
#define ACPI_DSDT_OFF		0x400
#define ACPI_MADT_OFF		0x500
#define ACPI_HEADER_SIZE	36
#define ACPI_FADT_SIZE		244
#define ACPI_FACS_SIZE		64

/* MADT entry types (ACPI 6.x, 5.2.12) */
#define ACPI_MADT_LAPIC		0
#define ACPI_MADT_IOAPIC	1
#define ACPI_MADT_ISO		2
#define ACPI_MADT_LAPIC_NMI	4

size_t acpi__size(int ncpus);
/* The PM timer's count at a time in nanoseconds. */
uint32_t acpi__pm_timer(uint64_t ns);
/* Writes the tables at buf, which the guest sees at gpa. */
int acpi__write(uint8_t *buf, size_t len, uint32_t gpa, int ncpus);

#endif
