/* SPDX-License-Identifier: MIT */
/*
 * test_host.h - a minimal host for the engine: flat guest RAM with an
 * MMIO hole, a port-I/O log, and builders for GDT/IDT/page tables, so a
 * test can copy a snippet into memory, run it to its exit and compare.
 */
#ifndef SKVM_TEST_CPU_HOST_H
#define SKVM_TEST_CPU_HOST_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "cpu/cpu.h"

#define TH_RAM_SIZE	(4u << 20)
#define TH_MMIO_BASE	0x300000u	/* one page of MMIO inside RAM range */
#define TH_MMIO_SIZE	0x1000u
#define TH_CODE		0x1000u		/* snippets load here */
#define TH_GDT		0x500u
#define TH_IDT		0x8000u
#define TH_PT		0x10000u	/* page tables from here */
#define TH_STACK	0x7000u

/* A guest snippet assembled into this binary's read-only data. */
#define GUEST(name, code)						\
	extern const uint8_t name##_start[], name##_end[];		\
	__asm__(".pushsection .rodata\n"				\
		".globl " #name "_start, " #name "_end\n"		\
		#name "_start:\n" code "\n" #name "_end:\n"		\
		".code64\n.popsection\n")

struct th {
	struct x86_cpu cpu;
	struct x86_cpu_ops ops;
	uint8_t *ram;
	uint8_t mmio[TH_MMIO_SIZE];
	uint8_t pio[4096];
	uint64_t gen;
	int n_mmio, n_io, n_mmio_read, n_mmio_write;
	uint8_t out[4096];	/* bytes written to port 0xe9 */
	int n_out;
	uint32_t in_value;	/* what IN returns */
	int irq;		/* pending vector or -1 */
	int irq_acked;
	uint64_t tsc;
	uint32_t last_io_count;
};

struct th *th_new(void);
void th_free(struct th *t);
void th_load(struct th *t, uint64_t gpa, const uint8_t *start,
	     const uint8_t *end);
/* Run, serving MMIO and I/O exits, until another exit. */
enum x86_exit_reason th_run(struct th *t);

void th_real_mode(struct th *t);
/* Flat 32-bit protected mode, optional paging set up by the caller. */
void th_prot32(struct th *t);
/* 64-bit mode, identity paging of the first 4 MiB with 4K pages. */
void th_long64(struct th *t);
/* PTE for linear address la in the 4-level tables th_long64 built. */
uint64_t *th_pte(struct th *t, uint64_t la);
/* IDT entry (64-bit when long) pointing at handler. */
void th_idt_set(struct th *t, int vec, uint64_t handler, bool long_mode,
		int dpl, int ist);
void th_gdt_set(struct th *t, int idx, uint64_t desc);
/*
 * Handlers for vectors 0..31 at TH_CATCH + 16 * vec, each "mov $(0x100 +
 * vec), %ebp; hlt" at CPL 0, so a fault ends the run with X86_EXIT_HLT,
 * EBP naming the vector and the frame at RSP (gates DPL 0, DPL 3 for #BP
 * and #OF as Linux sets them).
 */
#define TH_CATCH	0x3800u
void th_catch_all(struct th *t, bool long_mode);
/* Drop the current (long or 32-bit flat) mode to CPL 3, RSP0 = 0x5000. */
void th_user(struct th *t);

static inline uint64_t th_rd64(struct th *t, uint64_t gpa)
{
	uint64_t v;

	memcpy(&v, t->ram + gpa, 8);
	return v;
}

static inline void th_wr64(struct th *t, uint64_t gpa, uint64_t v)
{
	memcpy(t->ram + gpa, &v, 8);
}

#define SNIP_LOAD(t, name) th_load(t, TH_CODE, name##_start, name##_end)

#endif
