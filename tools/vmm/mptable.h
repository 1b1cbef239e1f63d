/* SPDX-License-Identifier: MIT */
/*
 * mptable.h - the Intel MultiProcessor Specification 1.4 tables: a
 * floating pointer and a configuration table listing processors, the ISA
 * bus, the I/O APIC and its interrupt assignments.
 */
#ifndef SKVM_VMM_MPTABLE_H
#define SKVM_VMM_MPTABLE_H

#include <stddef.h>
#include <stdint.h>

#define MP_FLOATING_SIZE	16
#define MP_HEADER_SIZE		44
#define MP_ENTRY_CPU_SIZE	20
#define MP_ENTRY_SIZE		8	/* bus, I/O APIC, interrupts */
#define MP_ISA_IRQS		16
#define MP_APIC_VERSION		0x14

/* Entry types (MP spec, Table 4-3) */
#define MP_PROCESSOR		0
#define MP_BUS			1
#define MP_IOAPIC		2
#define MP_INTSRC		3
#define MP_LINTSRC		4

#define MP_CPU_EN		0x01
#define MP_CPU_BP		0x02
#define MP_INT			0
#define MP_NMI			1
#define MP_EXTINT		3

struct mptable_cpu_id {
	uint32_t signature;	/* CPUID.1:EAX */
	uint32_t features;	/* CPUID.1:EDX */
};

/* Bytes the tables take for ncpus processors. */
size_t mptable__size(int ncpus);
/*
 * Writes the floating pointer at buf (guest-physical gpa) and the
 * configuration table after it; -ENOSPC if len is too small.
 */
int mptable__write(uint8_t *buf, size_t len, uint32_t gpa, int ncpus,
		   const struct mptable_cpu_id *id);

#endif
