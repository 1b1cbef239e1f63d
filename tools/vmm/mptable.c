// SPDX-License-Identifier: MIT
/*
 * mptable.c - MP spec 1.4 tables so that a kernel without ACPI finds the
 * application processors and the I/O APIC.  Chapter 4: "MP Configuration
 * Table"; the ISA IRQs are wired to I/O APIC pins as on a PC (IRQ 0 on
 * pin 2, the others on their own pin).
 */
#include <errno.h>

#include "bytes.h"
#include "layout.h"
#include "mptable.h"

#define MP_NR_INTSRC	(MP_ISA_IRQS - 1)	/* IRQ 2 is the cascade */
#define MP_NR_LINTSRC	2

size_t mptable__size(int ncpus)
{
	return MP_FLOATING_SIZE + MP_HEADER_SIZE + ncpus * MP_ENTRY_CPU_SIZE +
	       (2 + MP_NR_INTSRC + MP_NR_LINTSRC) * MP_ENTRY_SIZE;
}

static uint8_t *mp__cpu(uint8_t *p, int i, const struct mptable_cpu_id *id)
{
	put8(p, MP_PROCESSOR);
	put8(p + 1, i);				/* local APIC ID */
	put8(p + 2, MP_APIC_VERSION);
	put8(p + 3, MP_CPU_EN | (i == 0 ? MP_CPU_BP : 0));
	put32(p + 4, id->signature);
	put32(p + 8, id->features);
	return p + MP_ENTRY_CPU_SIZE;
}

static uint8_t *mp__irq(uint8_t *p, uint8_t entry, uint8_t type, uint8_t bus_irq,
			uint8_t dst, uint8_t pin)
{
	put8(p, entry);
	put8(p + 1, type);
	put16(p + 2, 0);			/* conforms to the bus */
	put8(p + 4, 0);				/* source bus: ISA */
	put8(p + 5, bus_irq);
	put8(p + 6, dst);
	put8(p + 7, pin);
	return p + MP_ENTRY_SIZE;
}

static uint8_t *mp__bus_ioapic(uint8_t *p, uint8_t ioapic_id)
{
	put8(p, MP_BUS);
	put8(p + 1, 0);
	putstr(p + 2, "ISA   ", 6);
	p += MP_ENTRY_SIZE;
	put8(p, MP_IOAPIC);
	put8(p + 1, ioapic_id);
	put8(p + 2, 0x11);			/* 82093AA version */
	put8(p + 3, 1);				/* enabled */
	put32(p + 4, LAYOUT_IOAPIC);
	return p + MP_ENTRY_SIZE;
}

static void mp__header(uint8_t *h, size_t len, int entries)
{
	putstr(h, "PCMP", 4);
	put16(h + 4, len);
	put8(h + 6, 4);				/* spec revision 1.4 */
	putstr(h + 8, "SKVM    ", 8);
	putstr(h + 16, "SKVM-VMM    ", 12);
	put16(h + 34, entries);
	put32(h + 36, LAYOUT_LAPIC);
	put8(h + 7, sum8_fix(h, len));
}

static void mp__floating(uint8_t *f, uint32_t table)
{
	putstr(f, "_MP_", 4);
	put32(f + 4, table);
	put8(f + 8, 1);				/* length in 16-byte units */
	put8(f + 9, 4);				/* spec revision 1.4 */
	put8(f + 10, sum8_fix(f, MP_FLOATING_SIZE));
}

int mptable__write(uint8_t *buf, size_t len, uint32_t gpa, int ncpus,
		   const struct mptable_cpu_id *id)
{
	uint8_t *h = buf + MP_FLOATING_SIZE, *p = h + MP_HEADER_SIZE;
	uint8_t ioapic_id = ncpus;
	int i, irq;

	if (ncpus < 1 || ncpus > 254 || len < mptable__size(ncpus))
		return -ENOSPC;
	memset(buf, 0, mptable__size(ncpus));
	for (i = 0; i < ncpus; i++)
		p = mp__cpu(p, i, id);
	p = mp__bus_ioapic(p, ioapic_id);
	for (irq = 0; irq < MP_ISA_IRQS; irq++)
		if (irq != 2)
			p = mp__irq(p, MP_INTSRC, MP_INT, irq, ioapic_id,
				    irq ? irq : 2);
	p = mp__irq(p, MP_LINTSRC, MP_EXTINT, 0, 0xff, 0);
	p = mp__irq(p, MP_LINTSRC, MP_NMI, 0, 0xff, 1);

	mp__header(h, p - h, ncpus + 2 + MP_NR_INTSRC + MP_NR_LINTSRC);
	mp__floating(buf, gpa + MP_FLOATING_SIZE);
	return 0;
}
