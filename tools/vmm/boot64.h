/* SPDX-License-Identifier: MIT */
/*
 * boot64.h - the CPU state of boot.rst's "64-bit Boot Protocol": long
 * mode, identity-mapped paging, a flat GDT with __BOOT_CS and __BOOT_DS.
 */
#ifndef SKVM_VMM_BOOT64_H
#define SKVM_VMM_BOOT64_H

#include <stdint.h>
#include <linux/kvm.h>

#include "guest_ram.h"

#define BOOT_CS		0x10
#define BOOT_DS		0x18
#define BOOT_GDT_ENTRIES 4

#define BOOT_IDENTITY_MAP (4ULL << 30)	/* bytes mapped with 2 MiB pages */

#define X86_CR0_PE	(1ULL << 0)
#define X86_CR0_ET	(1ULL << 4)
#define X86_CR0_NE	(1ULL << 5)
#define X86_CR0_NW	(1ULL << 29)
#define X86_CR0_CD	(1ULL << 30)
#define X86_CR0_PG	(1ULL << 31)
#define X86_CR4_PAE	(1ULL << 5)
#define X86_EFER_LME	(1ULL << 8)
#define X86_EFER_LMA	(1ULL << 10)
#define X86_RFLAGS_FIXED (1ULL << 1)
#define X86_RFLAGS_IF	(1ULL << 9)

#define PTE_P		(1ULL << 0)
#define PTE_RW		(1ULL << 1)
#define PTE_PS		(1ULL << 7)

int boot64__write_tables(const struct guest_ram *ram);
void boot64__sregs(struct kvm_sregs *sregs);
void boot64__regs(struct kvm_regs *regs, uint64_t entry, uint64_t zero_page);

#endif
