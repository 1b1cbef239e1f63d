/* SPDX-License-Identifier: MIT */
/*
 * irq.h - what the emulated interrupt controllers share: an interrupt
 * message on the APIC bus (from an IOAPIC redirection entry, an MSI or an
 * ICR write) and the encodings of its fields (Intel SDM Vol. 3, 11.6.1).
 */
#ifndef SKVM_X86_IRQ_H
#define SKVM_X86_IRQ_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#ifndef container_of
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))
#endif

/* Delivery modes (ICR, LVT, redirection entry and MSI data bits 10:8). */
#define APIC_DM_FIXED		0
#define APIC_DM_LOWEST		1
#define APIC_DM_SMI		2
#define APIC_DM_REMRD		3
#define APIC_DM_NMI		4
#define APIC_DM_INIT		5
#define APIC_DM_STARTUP		6
#define APIC_DM_EXTINT		7

/* Destination shorthands (ICR bits 19:18). */
#define APIC_DEST_NOSHORT	0
#define APIC_DEST_SELF		1
#define APIC_DEST_ALLINC	2
#define APIC_DEST_ALLBUT	3

struct kvm_lapic_irq {
	uint8_t vector;
	uint8_t delivery_mode;		/* APIC_DM_* */
	bool dest_logical;		/* destination mode: logical */
	bool level;			/* assert (INIT level de-assert: 0) */
	bool trig_level;		/* level-triggered */
	uint8_t shorthand;		/* APIC_DEST_* */
	uint32_t dest_id;		/* 8 bits in xAPIC, 32 in x2APIC */
	bool msi_redir_hint;
};

#endif /* SKVM_X86_IRQ_H */
