/* SPDX-License-Identifier: MIT */
/*
 * guest_layout.h - guest-physical layout of the platform guests
 * (guest.S) and the host harness (guest_vm.h).  Included by both, so
 * only #defines.
 *
 * The guests run in 32-bit flat protected mode without paging.  Each
 * vCPU finds its own page through %fs, whose descriptor in the GDT has
 * the page as its base; the interrupt handlers count into it.
 */
#ifndef SKVM_GUEST_LAYOUT_H
#define SKVM_GUEST_LAYOUT_H

#define G_MEM_SIZE	0x100000	/* 1 MiB of RAM at guest-physical 0 */
#define G_MAX_CPUS	8

#define G_GDT		0x1000		/* null, code 0x08, data 0x10, per-CPU 0x18.. */
#define G_GDTR		0x1f00		/* 6-byte pseudo-descriptor for LGDT */
#define G_IDT		0x2000		/* 256 interrupt gates */
#define G_TRAMP		0x8000		/* the SIPI page (vector 0x08) */
#define G_SIPI_VECTOR	(G_TRAMP >> 12)
#define G_CODE		0x10000		/* guest_main */
#define G_PERCPU	0x20000		/* one page per vCPU */
#define G_STACKS	0x30000		/* vCPU i's stack top: G_STACKS + (i+1)*0x1000 */
#define G_GLOBALS	0x40000

#define G_SEL_CODE	0x08
#define G_SEL_DATA	0x10
#define G_SEL_PERCPU(i)	(0x18 + 8 * (i))
#define G_GDT_ENTRIES	(3 + G_MAX_CPUS)

/* Per-CPU page (offsets from %fs). */
#define PC_COUNT	0x000		/* u32 count[256]: handler runs per vector */
#define PC_EOI		0x400		/* u8 eoi[256]: what the handler does, EOI_* */
#define PC_FLAGS	0x500		/* CPU_* */
#define PC_TPR		0x504
#define PC_LDR		0x508		/* xAPIC logical ID register value */
#define PC_DFR		0x50c		/* xAPIC destination format */
#define PC_SIPIS	0x510		/* times the SIPI trampoline ran */
#define PC_ENTRY	0x514		/* where the trampoline continues */
#define PC_ID		0x518		/* APIC ID as the trampoline read it */
#define PC_CR0		0x51c		/* CR0 the trampoline saw once in PM */
#define PC_WORK		0x520		/* iterations done by smp_count */

/* PC_EOI bits, in the order the handler acts on them. */
#define EOI_REPORT	0x01		/* OUT vector to G_PORT_REPORT first */
#define EOI_LAPIC	0x02		/* xAPIC EOI (MMIO) */
#define EOI_X2APIC	0x04		/* x2APIC EOI (WRMSR 0x80b) */
#define EOI_SLAVE	0x08		/* OCW2 non-specific EOI to the slave PIC */
#define EOI_MASTER	0x10		/* ... and to the master */
#define EOI_DEFER	0x20		/* LAPIC EOI left to the idle loop (G_EOI_NOW) */

/* PC_FLAGS bits. */
#define CPU_X2APIC	0x01		/* switch the LAPIC to x2APIC mode */
#define CPU_XAPIC_LOG	0x02		/* write PC_LDR and PC_DFR */
#define CPU_TPR		0x04		/* write PC_TPR */
#define CPU_CHIPS	0x08		/* program the PICs and IOAPIC (globals) */
#define CPU_TIMER	0x10		/* arm the timers of the globals */

/* Globals (absolute addresses). */
#define G_DONE		(G_GLOBALS + 0x00)	/* idle loops leave when non-zero */
#define G_READY		(G_GLOBALS + 0x04)	/* vCPUs that finished setup */
#define G_NCPUS		(G_GLOBALS + 0x08)
#define G_TOTAL		(G_GLOBALS + 0x0c)	/* handler runs, all vectors but G_VEC_WAKE */
#define G_EXPECT	(G_GLOBALS + 0x10)	/* the sender waits for this total */
#define G_X2APIC	(G_GLOBALS + 0x14)	/* the trampoline reads IDs by MSR */
#define G_PIC_INIT	(G_GLOBALS + 0x18)	/* BSP programs both PICs */
#define G_PIC_MASK	(G_GLOBALS + 0x1c)	/* master | slave << 8 */
#define G_ELCR		(G_GLOBALS + 0x20)	/* 0x4d0 | 0x4d1 << 8 */
#define G_NREDIR	(G_GLOBALS + 0x24)	/* IOAPIC entries the BSP writes */
#define G_EOI_NOW	(G_GLOBALS + 0x28)	/* idle loop: one deferred LAPIC EOI */
#define G_COUNTER	(G_GLOBALS + 0x2c)	/* smp_count's shared counter */
#define G_ITERS		(G_GLOBALS + 0x30)	/* smp_count's iterations per vCPU */
#define G_TMR_LVT	(G_GLOBALS + 0x34)	/* timer_start: LVT timer value */
#define G_TMR_COUNT	(G_GLOBALS + 0x38)	/* TMICT, 0 = TSC deadline */
#define G_TSC_DELTA	(G_GLOBALS + 0x3c)	/* u64: TSC-deadline distance */
#define G_PIT_CMD	(G_GLOBALS + 0x44)	/* PIT control word, 0 = none */
#define G_PIT_COUNT	(G_GLOBALS + 0x48)
#define G_SPK_FIRST	(G_GLOBALS + 0x4c)	/* speaker: port 0x61 before counting */
#define G_SPK_POLLS	(G_GLOBALS + 0x50)	/* speaker: polls until OUT2 */
#define G_SPK_TSC	(G_GLOBALS + 0x54)	/* u64: speaker: TSC cycles elapsed */
#define G_REDIR		(G_GLOBALS + 0x100)	/* {pin, lo, hi} u32 triples */
#define G_IPIS		(G_GLOBALS + 0x400)	/* {kind, hi, lo} u32 triples, kind 0 ends */

/* G_IPIS kinds. */
#define IPI_XAPIC	1		/* ICR high then low (MMIO) */
#define IPI_X2APIC	2		/* WRMSR 0x830 */
#define IPI_X2SELF	3		/* WRMSR 0x83f (SELF IPI), lo = vector */

/* Ports the guests write (each exits to the harness). */
#define G_PORT_REPORT	0x80		/* a handler ran: vector */
#define G_PORT_READY	0x81		/* setup done */
#define G_PORT_MARK	0x82		/* a timestamp mark: value */
#define G_PORT_DONE	0xf4		/* this vCPU is finished */

#define G_VEC_WAKE	0xfe		/* wakes idle loops; not counted in G_TOTAL */
#define G_VEC_SPURIOUS	0xff

#define APIC_MMIO	0xfee00000
#define IOAPIC_MMIO	0xfec00000

#endif
