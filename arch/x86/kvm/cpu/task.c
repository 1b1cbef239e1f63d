// SPDX-License-Identifier: MIT
/*
 * task.c - task switches through a 32-bit TSS (Intel SDM Vol. 3, 7.3):
 * far JMP/CALL to a TSS or a task gate, IRET with EFLAGS.NT, and
 * interrupts and exceptions through a task gate.  KVM emulates these for
 * legacy-mode guests; long mode has no task switching (#GP, or the IDT's
 * type check, as the callers do).  16-bit TSSs stop with an
 * emulation-failure exit.
 */
#include "cpu_priv.h"

/* 32-bit TSS layout (Figure 7-2) */
#define TSS_LINK	0x00
#define TSS_CR3		0x1c
#define TSS_EIP		0x20
#define TSS_EFLAGS	0x24
#define TSS_EAX		0x28
#define TSS_ES		0x48
#define TSS_LDT		0x60
#define TSS_MIN_LIMIT	0x67

static uint64_t tss_rd(struct x86_cpu *cpu, uint64_t base, unsigned int off,
		       unsigned int size)
{
	return x86_read_lin(cpu, (uint32_t)(base + off), size, X86_PV_SUP, true);
}

static void tss_wr(struct x86_cpu *cpu, uint64_t base, unsigned int off,
		   uint64_t v, unsigned int size)
{
	x86_write_lin(cpu, (uint32_t)(base + off), v, size, X86_PV_SUP, true);
}

/* Set or clear the busy bit (type bit 1) of a TSS descriptor in the GDT. */
static void x86_tss_busy(struct x86_cpu *cpu, uint16_t sel, bool busy)
{
	uint64_t la = (uint32_t)(cpu->gdtr.base + (sel & ~7) + 5);
	uint8_t b = (uint8_t)x86_read_lin(cpu, la, 1, X86_PV_SUP, true);

	b = busy ? b | 2 : b & ~2;
	x86_write_lin(cpu, la, b, 1, X86_PV_SUP, true);
}

/* A segment register of the new task; faults are #TS(selector). */
static void x86_task_seg(struct x86_cpu *cpu, int seg, uint16_t sel)
{
	struct x86_cpu_priv *p = cpu->priv;
	uint64_t d;
	uint32_t attr;

	if (p->mode == X86_MODE_VM86) {
		x86_load_seg_real(cpu, seg, sel);
		return;
	}
	if (!(sel & 0xfffc)) {
		if (seg == X86_SS || seg == X86_CS)
			x86_raise(cpu, X86_TS, sel & 0xfffc);
		x86_null_seg(&cpu->seg[seg], sel, 0);
		return;
	}
	x86_read_desc(cpu, sel, &d, X86_TS);
	attr = (uint32_t)(d >> 40);
	if (!(attr & X86_SEG_S))
		x86_raise(cpu, X86_TS, sel & 0xfffc);
	if (seg == X86_CS ? !(attr & 8) :
	    seg == X86_SS ? (attr & 0x1a) != 0x12 : (attr & 0xa) == 0x8)
		x86_raise(cpu, X86_TS, sel & 0xfffc);
	if (!(attr & X86_SEG_P))
		x86_raise(cpu, seg == X86_SS ? X86_SS_VEC : X86_NP,
			  sel & 0xfffc);
	x86_set_desc_accessed(cpu, sel);
	x86_desc_to_seg(d | (1ull << 40), sel, &cpu->seg[seg]);
}

/*
 * Switch to the task whose TSS selector is sel (descriptor d, already
 * checked for the caller's privilege rules).  ret_eip is saved as the
 * old task's EIP.  Returns after the new task's state is loaded.
 */
void x86_task_switch(struct x86_cpu *cpu, uint16_t sel, uint64_t d,
		     enum x86_task_reason why, uint64_t ret_eip)
{
	struct x86_cpu_priv *p = cpu->priv;
	uint32_t attr = (uint32_t)(d >> 40), type = attr & 0xf, limit;
	uint64_t nbase, obase = cpu->tr.base, fl, v[8];
	uint16_t sregs[6], ldt, old = cpu->tr.sel;
	struct x86_seg ntr;
	int i;

	if (sel & 4)
		x86_raise(cpu, why == X86_TASK_IRET ? X86_TS : X86_GP,
			  sel & 0xfffc);
	if (why == X86_TASK_IRET ? type != 0xb : type != 0x9) {
		if (type == 0x1 || type == 0x3)
			x86_internal_error(cpu, 1);	/* 16-bit TSS */
		x86_raise(cpu, why == X86_TASK_IRET ? X86_TS : X86_GP,
			  sel & 0xfffc);
	}
	if (!(attr & X86_SEG_P))
		x86_raise(cpu, X86_NP, sel & 0xfffc);
	x86_desc_to_seg(d, sel, &ntr);
	limit = ntr.limit;
	if (limit < TSS_MIN_LIMIT)
		x86_raise(cpu, X86_TS, sel & 0xfffc);
	nbase = ntr.base;

	/* read the new task's state before anything changes */
	for (i = 0; i < 8; i++)
		v[i] = tss_rd(cpu, nbase, TSS_EAX + 4 * i, 4);
	for (i = 0; i < 6; i++)
		sregs[i] = (uint16_t)tss_rd(cpu, nbase, TSS_ES + 4 * i, 2);
	ldt = (uint16_t)tss_rd(cpu, nbase, TSS_LDT, 2);
	fl = tss_rd(cpu, nbase, TSS_EFLAGS, 4);

	/* save the old task (7.3, step 8) */
	if (why == X86_TASK_JMP || why == X86_TASK_IRET)
		x86_tss_busy(cpu, old, false);
	tss_wr(cpu, obase, TSS_EIP, ret_eip, 4);
	tss_wr(cpu, obase, TSS_EFLAGS, why == X86_TASK_IRET ?
	       cpu->rflags & ~X86_NT : cpu->rflags, 4);
	for (i = 0; i < 8; i++)
		tss_wr(cpu, obase, TSS_EAX + 4 * i, cpu->gpr[i], 4);
	for (i = 0; i < 6; i++)
		tss_wr(cpu, obase, TSS_ES + 4 * i, cpu->seg[i].sel, 2);

	/* link and busy bits of the new task */
	if (why == X86_TASK_CALL || why == X86_TASK_INT) {
		tss_wr(cpu, nbase, TSS_LINK, old, 2);
		fl |= X86_NT;
	}
	if (why != X86_TASK_IRET)
		x86_tss_busy(cpu, sel, true);
	cpu->tr = ntr;
	cpu->tr.attr |= 2;			/* busy */
	cpu->cr0 |= X86_CR0_TS;

	/* load the new task (step 11) */
	if (cpu->cr0 & X86_CR0_PG)
		x86_set_cr3(cpu, tss_rd(cpu, nbase, TSS_CR3, 4));
	cpu->rflags = (fl & 0x3f7fd5) | X86_FIXED1;
	for (i = 0; i < 8; i++)
		cpu->gpr[i] = (uint32_t)v[i];
	cpu->rip = tss_rd(cpu, nbase, TSS_EIP, 4);
	p->next_rip = cpu->rip;
	for (i = 0; i < 6; i++)
		cpu->seg[i].sel = sregs[i];
	if (!(ldt & 0xfffc)) {
		x86_null_seg(&cpu->ldtr, ldt, 0);
	} else {
		uint64_t ld;

		if (ldt & 4)
			x86_raise(cpu, X86_TS, ldt & 0xfffc);
		x86_read_desc(cpu, ldt, &ld, X86_TS);
		if (((ld >> 40) & 0x1f) != 0x2)
			x86_raise(cpu, X86_TS, ldt & 0xfffc);
		if (!((ld >> 40) & X86_SEG_P))
			x86_raise(cpu, X86_TS, ldt & 0xfffc);
		x86_desc_to_seg(ld, ldt, &cpu->ldtr);
	}
	/* CS first: it gives the CPL the other checks use */
	if (cpu->rflags & X86_VM) {
		x86_update_mode(cpu);
	} else {
		x86_task_seg(cpu, X86_CS, sregs[X86_CS]);
		cpu->seg[X86_SS].attr = (cpu->seg[X86_SS].attr & ~(3u << 5)) |
					(uint32_t)(sregs[X86_CS] & 3) << 5;
		x86_update_mode(cpu);
	}
	x86_task_seg(cpu, X86_SS, sregs[X86_SS]);
	x86_update_mode(cpu);
	for (i = 0; i < 6; i++)
		if (i != X86_CS && i != X86_SS)
			x86_task_seg(cpu, i, sregs[i]);
	x86_update_mode(cpu);
	x86_paging_changed(cpu);
	p->brk = true;
}

/* IRET with NT set: back to the task in the current TSS's link field. */
void x86_task_return(struct x86_cpu *cpu, uint64_t ret_eip)
{
	uint16_t link = (uint16_t)tss_rd(cpu, cpu->tr.base, TSS_LINK, 2);
	uint64_t d;

	if (link & 4)
		x86_raise(cpu, X86_TS, link & 0xfffc);
	x86_read_desc(cpu, link, &d, X86_TS);
	x86_task_switch(cpu, link, d, X86_TASK_IRET, ret_eip);
}
