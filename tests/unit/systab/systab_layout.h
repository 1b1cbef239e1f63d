/* SPDX-License-Identifier: MIT */
/*
 * systab_layout.h - guest-physical layout of the system-table guests
 * (systab_guest.S, test_systab.c).  Included by both, so only #defines.
 * The first 2 MiB are identity mapped by every paging mode; the test
 * page ST_TPA is mapped at ST_TVA alone, with the row's flags.
 */
#ifndef SKVM_SYSTAB_LAYOUT_H
#define SKVM_SYSTAB_LAYOUT_H

#define ST_MEM_SIZE	0x200000
#define ST_GDTR		0x0f00		/* pseudo-descriptor for LGDT */
#define ST_GDT		0x1000
#define ST_IDT		0x2000		/* 256 gates of 8 or 16 bytes */
#define ST_TSS		0x3000
#define ST_IMAGE	0x8000		/* systab_guest.S */
#define ST_PML4		0x10000		/* 4-level: PML4, PDPT, PD, PT (identity) */
#define ST_PDPT		0x11000
#define ST_PD		0x12000
#define ST_PT		0x13000		/* also PAE's identity PT */
#define ST_PD_T		0x15000		/* PAE and 4-level: the test page's PD, PT */
#define ST_PT_T		0x16000
#define ST_PD32		0x17000		/* 32-bit paging: PD, identity PT, test PT */
#define ST_PT32		0x18000
#define ST_PT32_T	0x19000
#define ST_PAE_PDPT	0x1a000
#define ST_PAE_PD	0x1b000
#define ST_STACK	0x21000		/* kernel stack top */
#define ST_USTACK	0x22000		/* user stack top */
#define ST_TPA		0x100000	/* the test page */
#define ST_TVA		0x40000000	/* ... and where it is mapped */

#define ST_NVEC		64		/* vectors with stubs */

#define ST_SEL_CODE32	0x08
#define ST_SEL_DATA	0x10
#define ST_SEL_CODE64	0x18
#define ST_SEL_DATA64	0x20		/* SYSCALL's SS: STAR[47:32] + 8 */
#define ST_SEL_UCODE32	0x28		/* SYSRET's base: STAR[63:48] */
#define ST_SEL_UDATA	0x30
#define ST_SEL_UCODE64	0x38
#define ST_SEL_TSS	0x40		/* 16 bytes */
#define ST_SEL_NP	0x50		/* a data segment, not present */
#define ST_GDT_LIMIT	0x57
#define ST_SEL_BEYOND	0x60		/* past the GDT limit */

#endif
