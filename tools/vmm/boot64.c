// SPDX-License-Identifier: MIT
/*
 * boot64.c - long mode for the 64-bit entry (boot.rst, "64-bit Boot
 * Protocol"): "the CPU must be in 64-bit mode with paging enabled", the
 * kernel, zero page and command line identity mapped, a GDT with 4 GiB
 * flat __BOOT_CS (execute/read) and __BOOT_DS (read/write), interrupts
 * disabled, %rsi = the zero page.
 */
#include <errno.h>
#include <string.h>

#include "boot64.h"
#include "layout.h"

/* A segment descriptor (SDM Vol. 3A 3.4.5): base 0, limit 0xfffff, G=1. */
static uint64_t gdt_flat(uint64_t type_s_dpl_p, uint64_t l_db)
{
	return 0xffffULL | (type_s_dpl_p << 40) | (0xfULL << 48) |
	       (l_db << 53) | (1ULL << 55);
}

int boot64__write_tables(const struct guest_ram *ram)
{
	uint64_t *gdt, *pml4, *pdpt, *pd;
	unsigned int npd = BOOT_IDENTITY_MAP >> 30, i;

	gdt = guest_ram__ptr(ram, LAYOUT_GDT, BOOT_GDT_ENTRIES * 8);
	pml4 = guest_ram__ptr(ram, LAYOUT_PML4, 4096);
	pdpt = guest_ram__ptr(ram, LAYOUT_PDPT, 4096);
	pd = guest_ram__ptr(ram, LAYOUT_PD, npd * 4096);
	if (!gdt || !pml4 || !pdpt || !pd)
		return -ENOMEM;

	memset(gdt, 0, BOOT_GDT_ENTRIES * 8);
	gdt[BOOT_CS / 8] = gdt_flat(0x9b, 1);	/* P, S, code exec/read/acc, L */
	gdt[BOOT_DS / 8] = gdt_flat(0x93, 2);	/* P, S, data read/write/acc, D/B */

	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = LAYOUT_PDPT | PTE_P | PTE_RW;
	for (i = 0; i < npd; i++)
		pdpt[i] = (LAYOUT_PD + i * 4096) | PTE_P | PTE_RW;
	for (i = 0; i < npd * 512; i++)
		pd[i] = ((uint64_t)i << 21) | PTE_P | PTE_RW | PTE_PS;
	return 0;
}

static void boot64__seg(struct kvm_segment *s, uint16_t sel, uint8_t type,
			uint8_t l, uint8_t db)
{
	memset(s, 0, sizeof(*s));
	s->base = 0;
	s->limit = 0xffffffff;
	s->selector = sel;
	s->type = type;
	s->present = 1;
	s->s = 1;
	s->l = l;
	s->db = db;
	s->g = 1;
}

/* Modifies the reset state: TR, LDT and the rest stay as KVM has them. */
void boot64__sregs(struct kvm_sregs *sregs)
{
	boot64__seg(&sregs->cs, BOOT_CS, 0xb, 1, 0);
	boot64__seg(&sregs->ds, BOOT_DS, 0x3, 0, 1);
	sregs->es = sregs->fs = sregs->gs = sregs->ss = sregs->ds;

	sregs->gdt.base = LAYOUT_GDT;
	sregs->gdt.limit = BOOT_GDT_ENTRIES * 8 - 1;
	sregs->cr3 = LAYOUT_PML4;
	sregs->cr4 |= X86_CR4_PAE;
	sregs->cr0 &= ~(X86_CR0_CD | X86_CR0_NW);
	sregs->cr0 |= X86_CR0_PE | X86_CR0_PG | X86_CR0_ET | X86_CR0_NE;
	sregs->efer |= X86_EFER_LME | X86_EFER_LMA;
}

void boot64__regs(struct kvm_regs *regs, uint64_t entry, uint64_t zero_page)
{
	memset(regs, 0, sizeof(*regs));
	regs->rflags = X86_RFLAGS_FIXED;	/* IF = 0 */
	regs->rip = entry;
	regs->rsi = zero_page;
}
