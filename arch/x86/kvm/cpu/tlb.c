// SPDX-License-Identifier: MIT
/*
 * tlb.c - the software TLB: direct-mapped arrays, one per privilege view
 * and access kind, from linear page to host page (Intel SDM Vol. 3, 4.10
 * describes what a TLB may cache and when it must be invalidated; we
 * flush at least as often as the architecture requires).
 *
 * Invariants: a write entry exists only once the guest's D bit is set and
 * the page holds no cached code; an entry exists only for RAM, never for
 * MMIO, so a TLB hit is always a plain host memory access.
 */
#include "cpu_priv.h"

void x86_tlb_flush(struct x86_cpu *cpu, bool keep_global)
{
	struct x86_cpu_priv *p = cpu->priv;
	struct x86_tlb_entry *e = &p->tlb[0][0][0];
	size_t i, n = sizeof(p->tlb) / sizeof(*e);

	x86_chain_break(cpu);
	if (!keep_global) {
		memset(p->tlb, 0, sizeof(p->tlb));
		return;
	}
	for (i = 0; i < n; i++)
		if (!e[i].global)
			e[i].tag = 0;
}

void x86_tlb_flush_page(struct x86_cpu *cpu, uint64_t la)
{
	struct x86_cpu_priv *p = cpu->priv;
	unsigned int idx = (la >> 12) & (X86_TLB_SIZE - 1);
	int pv, acc;

	x86_chain_break(cpu);
	for (pv = 0; pv < X86_PV_COUNT; pv++)
		for (acc = 0; acc < X86_ACC_COUNT; acc++)
			if ((p->tlb[pv][acc][idx].tag & X86_PAGE_MASK) ==
			    (la & X86_PAGE_MASK))
				p->tlb[pv][acc][idx].tag = 0;
}

void x86_tlb_flush_writes(struct x86_cpu *cpu)
{
	struct x86_cpu_priv *p = cpu->priv;
	int pv;

	for (pv = 0; pv < X86_PV_COUNT; pv++)
		memset(p->tlb[pv][X86_ACC_W], 0, sizeof(p->tlb[pv][X86_ACC_W]));
}

/*
 * The host may hold back a page that is not in memory yet (an
 * asynchronous page fault): the access becomes a #PF carrying the host's
 * token, or the instruction waits outside the engine.
 */
static void x86_page_ready(struct x86_cpu *cpu, uint64_t gpa, uint8_t *host)
{
	uint64_t cr2;

	switch (cpu->ops->page_ready(cpu, gpa, host, &cr2)) {
	case X86_PAGE_FAULT:
		x86_raise_pf(cpu, cr2, 0);
	case X86_PAGE_WAIT:
		x86_exit(cpu, X86_EXIT_PAGE_WAIT);
	default:
		break;
	}
}

/*
 * Walk the page tables for la (raising #PF on failure) and install a TLB
 * entry when the page is RAM.  Returns the host page, or NULL for MMIO
 * with *gpa set to the guest-physical address.
 */
uint8_t *x86_tlb_fill(struct x86_cpu *cpu, uint64_t la, enum x86_acc acc,
		      enum x86_pv pv, bool implicit, uint64_t *gpa)
{
	struct x86_cpu_priv *p = cpu->priv;
	struct x86_tlb_entry *e;
	struct x86_walk w;
	uint8_t *host;
	uint32_t err;

	err = x86_walk(cpu, la, acc, pv, implicit, true, &w);
	if (unlikely(err & (1u << 31)))
		x86_internal_error(cpu, 1);
	if (unlikely(err)) {
		if ((err & X86_WALK_EMUL) && acc != X86_ACC_X)
			x86_smaller_maxphyaddr_fault(cpu, la, err & 0xffff);
		x86_raise_pf(cpu, la, err & 0xffff);
	}
	*gpa = w.gpa;
	host = x86_gpa_page(cpu, w.gpa & X86_PAGE_MASK,
				  acc == X86_ACC_W);
	if (!host)
		return NULL;
	if (cpu->ops->page_ready && p->delivering < 0)
		x86_page_ready(cpu, w.gpa & X86_PAGE_MASK, host);
	if (acc == X86_ACC_W && x86_code_page_test(host))
		x86_code_page_written(cpu, host);
	e = &p->tlb[pv][acc][(la >> 12) & (X86_TLB_SIZE - 1)];
	e->tag = (la & X86_PAGE_MASK) | 1;
	e->host = host;
	e->gpa = w.gpa & X86_PAGE_MASK;
	e->global = w.global;
	return host;
}
