// SPDX-License-Identifier: MIT
/*
 * control.c - control transfer: JMP, Jcc, LOOP, CALL, RET near and far,
 * INT n/INT3/INTO, IRET (Intel SDM Vol. 1, 6.3 and 7.3.8; Vol. 3, 5.8).
 */
#include "cpu_priv.h"

/* A near target: truncated to the operand size, checked for CS. */
static void x86_near_target(struct x86_cpu *cpu, uint64_t t, unsigned int sz)
{
	struct x86_cpu_priv *p = cpu->priv;

	if (p->mode == X86_MODE_LONG64) {
		if (sz == 2)
			t &= 0xffff;
		if (!x86_canonical(t))
			x86_gp(cpu, 0);
	} else {
		t &= x86_mask(sz);
		if (p->mode != X86_MODE_REAL && t > cpu->seg[X86_CS].limit)
			x86_gp(cpu, 0);
	}
	p->next_rip = t;
}

static uint64_t x86_rel_target(struct x86_cpu *cpu, const struct x86_insn *in)
{
	return cpu->priv->next_rip + (uint64_t)in->op[0].disp;
}

static bool x86_is_far(const struct x86_insn *in, uint8_t op, uint8_t reg)
{
	return in->opcode == op || (in->opcode == 0xff && in->modrm_reg == reg);
}

static void x86_i_jmp_far(struct x86_cpu *cpu, const struct x86_insn *in);
static void x86_i_retf(struct x86_cpu *cpu, const struct x86_insn *in);

static void x86_i_jmp(struct x86_cpu *cpu, const struct x86_insn *in)
{
	if (x86_is_far(in, 0xea, 5)) {
		x86_i_jmp_far(cpu, in);
		return;
	}
	if (in->op[0].kind == X86_OP_IMM)
		x86_near_target(cpu, x86_rel_target(cpu, in), in->opsz);
	else
		x86_near_target(cpu, x86_op_read(cpu, in, 0), in->opsz);
}

static void x86_i_jcc(struct x86_cpu *cpu, const struct x86_insn *in)
{
	if (x86_cond(cpu->rflags, in->opcode & 0xf))
		x86_near_target(cpu, x86_rel_target(cpu, in), in->opsz);
}

static uint64_t x86_count(struct x86_cpu *cpu, const struct x86_insn *in)
{
	return cpu->gpr[X86_RCX] & x86_mask(in->adsz);
}

static void x86_i_jcxz(struct x86_cpu *cpu, const struct x86_insn *in)
{
	if (!x86_count(cpu, in))
		x86_near_target(cpu, x86_rel_target(cpu, in), in->opsz);
}

static void x86_i_loop(struct x86_cpu *cpu, const struct x86_insn *in)
{
	uint64_t c = (x86_count(cpu, in) - 1) & x86_mask(in->adsz);
	bool take = c != 0;

	if (in->mnem == ZYDIS_MNEMONIC_LOOPE)
		take = take && (cpu->rflags & X86_ZF);
	else if (in->mnem == ZYDIS_MNEMONIC_LOOPNE)
		take = take && !(cpu->rflags & X86_ZF);
	if (take)
		x86_near_target(cpu, x86_rel_target(cpu, in), in->opsz);
	x86_gpr_set(cpu, X86_RCX, in->adsz, c);
}

static void x86_i_ret(struct x86_cpu *cpu, const struct x86_insn *in)
{
	unsigned int sz = in->opsz;
	uint64_t sp = cpu->gpr[X86_RSP], t;

	if (in->opcode == 0xca || in->opcode == 0xcb) {
		x86_i_retf(cpu, in);
		return;
	}

	t = x86_stack_read(cpu, sp, sz);
	x86_near_target(cpu, t, sz);
	x86_set_sp(cpu, sp + sz + (in->nops ? (x86_op_read(cpu, in, 0) &
					       0xffff) : 0));
}

/* ----------------------------------------------------------- far */

/*
 * Check a far JMP/CALL target code segment in protected mode (SDM Vol.
 * 3, 5.8.1).  System descriptors (gates, TSS) are the caller's.
 */
static void x86_far_check(struct x86_cpu *cpu, const struct x86_insn *in,
			  uint16_t sel, uint64_t *d)
{
	uint8_t cpl = cpu->priv->cpl, dpl;
	uint32_t attr;

	if (!(sel & 0xfffc))
		x86_gp(cpu, 0);
	x86_read_desc(cpu, sel, d, X86_GP);
	attr = (uint32_t)(*d >> 40);
	dpl = X86_SEG_DPL(attr);
	if (!(attr & X86_SEG_S))
		return;
	if (!(attr & 8))
		x86_gp(cpu, sel & 0xfffc);
	if ((attr & 4) ? dpl > cpl : ((sel & 3) > cpl || dpl != cpl))
		x86_gp(cpu, sel & 0xfffc);
	if (!(attr & X86_SEG_P))
		x86_raise(cpu, X86_NP, sel & 0xfffc);
	if ((cpu->efer & X86_EFER_LMA) && (attr & X86_SEG_L) &&
	    (attr & X86_SEG_DB))
		x86_gp(cpu, sel & 0xfffc);
}

/* ------------------------------------------------------ call gates */

struct x86_cgate {
	uint16_t sel;		/* target code selector */
	uint64_t off;
	unsigned int size;	/* push size: 2, 4 or 8 */
	unsigned int nparam;
	uint64_t cd;		/* target code descriptor */
	uint8_t dpl;		/* CPL after the transfer */
};

/* Read and check a call gate and its target (SDM Vol. 3, 5.8.4). */
static void x86_cgate_read(struct x86_cpu *cpu, uint16_t gsel, uint64_t gd,
			   bool call, struct x86_cgate *g)
{
	bool lm = cpu->efer & X86_EFER_LMA;
	uint32_t gattr = (uint32_t)(gd >> 40), attr;
	unsigned int type = gattr & 0xf;
	uint8_t cpl = cpu->priv->cpl, dpl;
	uint64_t base, hi;

	if (lm ? type != 0xc : (type != 0x4 && type != 0xc))
		x86_gp(cpu, gsel & 0xfffc);
	if (X86_SEG_DPL(gattr) < cpl || X86_SEG_DPL(gattr) < (gsel & 3))
		x86_gp(cpu, gsel & 0xfffc);
	if (!(gattr & X86_SEG_P))
		x86_raise(cpu, X86_NP, gsel & 0xfffc);
	g->sel = (uint16_t)(gd >> 16);
	g->off = (gd & 0xffff) | ((gd >> 32) & 0xffff0000);
	g->size = lm ? 8 : (type & 8) ? 4 : 2;
	g->nparam = lm ? 0 : (gd >> 32) & 0x1f;
	if (lm) {
		/* 16-byte gate: offset 63..32, and a zero type above it */
		base = (gsel & 4) ? cpu->ldtr.base : cpu->gdtr.base;
		if ((uint64_t)(gsel & ~7) + 15 > ((gsel & 4) ? cpu->ldtr.limit :
						  cpu->gdtr.limit))
			x86_gp(cpu, gsel & 0xfffc);
		hi = x86_read_lin(cpu, base + (gsel & ~7) + 8, 8, X86_PV_SUP,
				  true);
		if ((hi >> 40) & 0x1f)
			x86_gp(cpu, gsel & 0xfffc);
		g->off |= (hi & 0xffffffff) << 32;
	} else if (g->size == 2) {
		g->off &= 0xffff;
	}
	if (!(g->sel & 0xfffc))
		x86_gp(cpu, 0);
	x86_read_desc(cpu, g->sel, &g->cd, X86_GP);
	attr = (uint32_t)(g->cd >> 40);
	dpl = X86_SEG_DPL(attr);
	if ((attr & 0x18) != 0x18 || dpl > cpl)
		x86_gp(cpu, g->sel & 0xfffc);
	if (!call && !(attr & 4) && dpl != cpl)
		x86_gp(cpu, g->sel & 0xfffc);
	if (!(attr & X86_SEG_P))
		x86_raise(cpu, X86_NP, g->sel & 0xfffc);
	if (lm && (!(attr & X86_SEG_L) || (attr & X86_SEG_DB)))
		x86_gp(cpu, g->sel & 0xfffc);
	g->dpl = (attr & 4) ? cpl : dpl;	/* conforming: stays at CPL */
}

/* The new EIP must lie within the target's limit (#GP(0)). */
static void x86_cgate_limit(struct x86_cpu *cpu, const struct x86_cgate *g)
{
	struct x86_seg s;

	x86_desc_to_seg(g->cd, g->sel, &s);
	if (!(cpu->efer & X86_EFER_LMA) && g->off > s.limit)
		x86_gp(cpu, 0);
}

/*
 * CALL through a gate to an inner level: SS:ESP from the TSS, then push
 * the old SS:ESP, copy the gate's parameter count from the old stack,
 * push CS:EIP (SDM Vol. 3, 5.8.5, Figure 5-13).  In long mode the new SS
 * is null, nothing is copied and every push is 8 bytes.
 */
static void x86_cgate_call_inner(struct x86_cpu *cpu, const struct x86_cgate *g,
				 uint64_t ret)
{
	bool lm = cpu->efer & X86_EFER_LMA;
	enum x86_pv pv = g->dpl == 3 ? X86_PV_USER : X86_PV_SUP;
	uint64_t osp = cpu->gpr[X86_RSP] & x86_mask(x86_stack_size(cpu));
	uint64_t sp, ssd = 0, base = 0, mask = ~0ull, v[32 + 4];
	uint32_t limit = ~0u;
	uint16_t ss;
	unsigned int i, n = 0, sz = g->size;

	x86_tss_stack(cpu, g->dpl, 0, &ss, &sp);
	if (!lm) {
		x86_check_new_ss(cpu, ss, g->dpl, &ssd);
		base = ((ssd >> 16) & 0xffffff) | ((ssd >> 32) & 0xff000000);
		mask = (ssd & (1ull << 54)) ? 0xffffffff : 0xffff;
		limit = (uint32_t)((ssd & 0xffff) | ((ssd >> 32) & 0xf0000));
		if (ssd & (1ull << 55))
			limit = (limit << 12) | 0xfff;
	}
	/* read everything from the old stack first: it may fault */
	v[n++] = cpu->seg[X86_SS].sel;
	v[n++] = cpu->gpr[X86_RSP];
	for (i = g->nparam; i-- > 0;)
		v[n++] = x86_stack_read(cpu, osp + i * sz, sz);
	v[n++] = cpu->seg[X86_CS].sel;
	v[n++] = ret;
	sp &= mask;
	for (i = 0; i < n; i++) {
		sp = (sp - sz) & mask;
		if (!lm && sp + sz - 1 > limit)
			x86_raise(cpu, X86_SS_VEC, ss & 0xfffc);
		x86_write_lin(cpu, x86_wrap_la(cpu, base + sp), v[i], sz, pv,
			      false);
	}
	x86_set_desc_accessed(cpu, g->sel);
	x86_load_cs(cpu, g->sel, g->cd, g->dpl);
	if (lm) {
		x86_null_seg(&cpu->seg[X86_SS], g->dpl, g->dpl);
	} else {
		x86_set_desc_accessed(cpu, ss);
		x86_desc_to_seg(ssd | (1ull << 40), ss, &cpu->seg[X86_SS]);
	}
	if (mask == 0xffff)
		cpu->gpr[X86_RSP] = (cpu->gpr[X86_RSP] & ~0xffffull) | sp;
	else
		cpu->gpr[X86_RSP] = sp;
	x86_update_mode(cpu);
}

static void x86_cgate(struct x86_cpu *cpu, uint16_t gsel, uint64_t gd,
		      bool call, uint64_t ret)
{
	struct x86_cpu_priv *p = cpu->priv;
	uint64_t sp = cpu->gpr[X86_RSP];
	struct x86_cgate g;

	x86_cgate_read(cpu, gsel, gd, call, &g);
	x86_cgate_limit(cpu, &g);
	if (call && g.dpl < p->cpl) {
		x86_cgate_call_inner(cpu, &g, ret);
	} else if (call) {
		x86_stack_write(cpu, sp - g.size, cpu->seg[X86_CS].sel, g.size);
		x86_stack_write(cpu, sp - 2 * g.size, ret, g.size);
		x86_set_desc_accessed(cpu, g.sel);
		x86_load_cs(cpu, g.sel, g.cd, p->cpl);
		x86_gpr_set(cpu, X86_RSP, x86_stack_size(cpu),
			    sp - 2 * g.size);
	} else {
		x86_set_desc_accessed(cpu, g.sel);
		x86_load_cs(cpu, g.sel, g.cd, p->cpl);
	}
	p->next_rip = g.off;
}

/*
 * A far CALL/JMP to a system descriptor: a call gate, a task gate or a
 * TSS (SDM Vol. 3, 7.3: DPL >= CPL and RPL for the gate or the TSS).
 * True when it was handled.
 */
static bool x86_far_system(struct x86_cpu *cpu, const struct x86_insn *in,
			   uint16_t sel, uint64_t d, bool call, uint64_t ret)
{
	unsigned int type = (d >> 40) & 0x1f, dpl = X86_SEG_DPL(d >> 40);
	enum x86_task_reason why = call ? X86_TASK_CALL : X86_TASK_JMP;
	uint16_t tsel = sel;

	if (type & 0x10)
		return false;
	if ((type & 7) == 4) {
		x86_cgate(cpu, sel, d, call, ret);
		return true;
	}
	if ((cpu->efer & X86_EFER_LMA) || (type != 5 && (type & 0x15) != 1))
		x86_gp(cpu, sel & 0xfffc);
	if (dpl < cpu->priv->cpl || dpl < (sel & 3))
		x86_gp(cpu, sel & 0xfffc);
	if (!((d >> 40) & X86_SEG_P))
		x86_raise(cpu, X86_NP, sel & 0xfffc);
	if (type == 5) {
		tsel = (uint16_t)(d >> 16);
		if (tsel & 4)
			x86_gp(cpu, tsel & 0xfffc);
		x86_read_desc(cpu, tsel, &d, X86_GP);
	}
	x86_task_switch(cpu, tsel, d, why, ret);
	return true;
}

/* Selector and offset of a far operand: ptr16:xx or m16:xx. */
static void x86_far_operand(struct x86_cpu *cpu, const struct x86_insn *in,
			    uint16_t *sel, uint64_t *off)
{
	const struct x86_operand *o = &in->op[0];
	unsigned int sz = in->opsz;
	uint64_t ea;

	if (o->kind == X86_OP_PTR) {
		*sel = o->sel;
		*off = (uint64_t)o->disp & x86_mask(sz);
		return;
	}
	ea = x86_ea(cpu, in, o);
	*off = x86_read(cpu, o->seg, ea, sz);
	*sel = (uint16_t)x86_read(cpu, o->seg, (ea + sz) & x86_mask(in->adsz),
				  2);
}

static void x86_far_jump(struct x86_cpu *cpu, const struct x86_insn *in,
			 uint16_t sel, uint64_t off)
{
	struct x86_cpu_priv *p = cpu->priv;
	uint64_t d;

	if (p->mode == X86_MODE_REAL || p->mode == X86_MODE_VM86) {
		x86_load_seg_real(cpu, X86_CS, sel);
		x86_update_mode(cpu);
		p->next_rip = off & x86_mask(in->opsz);
		p->brk = true;
		return;
	}
	x86_far_check(cpu, in, sel, &d);
	if (x86_far_system(cpu, in, sel, d, false, p->next_rip))
		return;
	x86_set_desc_accessed(cpu, sel);
	x86_load_cs(cpu, sel, d, p->cpl);
	if (p->mode != X86_MODE_LONG64 && off > cpu->seg[X86_CS].limit)
		x86_gp(cpu, 0);
	p->next_rip = off;
}

static void x86_i_jmp_far(struct x86_cpu *cpu, const struct x86_insn *in)
{
	uint16_t sel;
	uint64_t off;

	x86_far_operand(cpu, in, &sel, &off);
	x86_far_jump(cpu, in, sel, off);
}

static void x86_i_call(struct x86_cpu *cpu, const struct x86_insn *in)
{
	unsigned int sz = in->opsz;
	uint64_t sp = cpu->gpr[X86_RSP], t, ret = cpu->priv->next_rip;
	uint64_t d;
	uint16_t sel;

	if (in->op[0].kind == X86_OP_IMM) {
		t = x86_rel_target(cpu, in);
	} else if (x86_is_far(in, 0x9a, 3)) {
		/* far call: push CS then the return offset */
		x86_far_operand(cpu, in, &sel, &t);
		if (cpu->priv->mode != X86_MODE_REAL &&
		    cpu->priv->mode != X86_MODE_VM86) {
			x86_far_check(cpu, in, sel, &d);
			if (x86_far_system(cpu, in, sel, d, true, ret))
				return;
		}
		x86_stack_write(cpu, sp - sz, cpu->seg[X86_CS].sel, sz);
		x86_stack_write(cpu, sp - 2 * sz, ret, sz);
		x86_far_jump(cpu, in, sel, t);
		x86_set_sp(cpu, sp - 2 * sz);
		return;
	} else {
		t = x86_op_read(cpu, in, 0);
	}
	x86_stack_write(cpu, sp - sz, ret, sz);
	x86_near_target(cpu, t, sz);
	x86_set_sp(cpu, sp - sz);
}

/* RETF: same level or to an outer level (SDM Vol. 2, RET). */
static void x86_i_retf(struct x86_cpu *cpu, const struct x86_insn *in)
{
	struct x86_cpu_priv *p = cpu->priv;
	unsigned int sz = in->opsz;
	uint64_t sp = cpu->gpr[X86_RSP], off, imm = 0, d, nsp, sd = 0;
	uint16_t cs, ss;
	uint8_t rpl;

	if (in->nops)
		imm = x86_op_read(cpu, in, 0) & 0xffff;
	off = x86_stack_read(cpu, sp, sz);
	cs = (uint16_t)x86_stack_read(cpu, sp + sz, sz);
	if (p->mode == X86_MODE_REAL || p->mode == X86_MODE_VM86) {
		x86_load_seg_real(cpu, X86_CS, cs);
		x86_set_sp(cpu, sp + 2 * sz + imm);
		p->next_rip = off & x86_mask(sz);
		p->brk = true;
		return;
	}
	rpl = cs & 3;
	if (rpl < p->cpl || !(cs & 0xfffc))
		x86_gp(cpu, cs & 0xfffc);
	x86_read_desc(cpu, cs, &d, X86_GP);
	if (!((d >> 40) & 8) || !((d >> 40) & X86_SEG_S) ||
	    (((d >> 40) & 4) ? X86_SEG_DPL(d >> 40) > rpl :
	     X86_SEG_DPL(d >> 40) != rpl))
		x86_gp(cpu, cs & 0xfffc);
	if (!((d >> 40) & X86_SEG_P))
		x86_raise(cpu, X86_NP, cs & 0xfffc);
	if (rpl == p->cpl) {
		x86_load_cs(cpu, cs, d, rpl);
		x86_set_sp(cpu, sp + 2 * sz + imm);
		p->next_rip = off;
		return;
	}
	nsp = x86_stack_read(cpu, sp + 2 * sz + imm, sz);
	ss = (uint16_t)x86_stack_read(cpu, sp + 3 * sz + imm, sz);
	if (ss & 0xfffc) {
		x86_read_desc(cpu, ss, &sd, X86_GP);
		if ((ss & 3) != rpl || X86_SEG_DPL(sd >> 40) != rpl ||
		    ((sd >> 40) & 0x1a) != 0x12)
			x86_gp(cpu, ss & 0xfffc);
	} else if (!(p->mode == X86_MODE_LONG64 && rpl < 3)) {
		x86_gp(cpu, 0);
	}
	x86_load_cs(cpu, cs, d, rpl);
	if (ss & 0xfffc)
		x86_desc_to_seg(sd | (1ull << 40), ss, &cpu->seg[X86_SS]);
	else
		x86_null_seg(&cpu->seg[X86_SS], ss, rpl);
	x86_update_mode(cpu);
	x86_set_sp(cpu, nsp + imm);
	p->next_rip = off;
}

/* ----------------------------------------------------- interrupts */

static void x86_soft_int(struct x86_cpu *cpu, int vec)
{
	struct x86_cpu_priv *p = cpu->priv;

	if (p->mode == X86_MODE_VM86 && X86_IOPL_OF(cpu->rflags) < 3)
		x86_gp(cpu, 0);
	p->delivering = 256;
	x86_deliver(cpu, vec, false, 0, true, p->next_rip);
	p->delivering = -1;
}

static void x86_i_int(struct x86_cpu *cpu, const struct x86_insn *in)
{
	x86_soft_int(cpu, (int)(x86_op_read(cpu, in, 0) & 0xff));
}

static void x86_i_int3(struct x86_cpu *cpu, const struct x86_insn *in)
{
	if (x86_dbg_int3(cpu))
		return;
	x86_soft_int(cpu, X86_BP);
}

static void x86_i_into(struct x86_cpu *cpu, const struct x86_insn *in)
{
	if (cpu->rflags & X86_OF)
		x86_soft_int(cpu, X86_OFV);
}

/* INT1 (F1) is delivered as a hardware #DB, without the DPL check. */
static void x86_i_int1(struct x86_cpu *cpu, const struct x86_insn *in)
{
	struct x86_cpu_priv *p = cpu->priv;

	p->delivering = X86_DB;
	x86_deliver(cpu, X86_DB, false, 0, false, p->next_rip);
	p->delivering = -1;
}

static void x86_i_iret(struct x86_cpu *cpu, const struct x86_insn *in)
{
	x86_iret(cpu, in);
}

void x86_control_register(void)
{
	static const struct { unsigned int m; x86_handler fn; } t[] = {
		{ ZYDIS_MNEMONIC_JMP, x86_i_jmp },
		{ ZYDIS_MNEMONIC_JCXZ, x86_i_jcxz },
		{ ZYDIS_MNEMONIC_JECXZ, x86_i_jcxz },
		{ ZYDIS_MNEMONIC_JRCXZ, x86_i_jcxz },
		{ ZYDIS_MNEMONIC_LOOP, x86_i_loop },
		{ ZYDIS_MNEMONIC_LOOPE, x86_i_loop },
		{ ZYDIS_MNEMONIC_LOOPNE, x86_i_loop },
		{ ZYDIS_MNEMONIC_CALL, x86_i_call },
		{ ZYDIS_MNEMONIC_RET, x86_i_ret },
		{ ZYDIS_MNEMONIC_INT, x86_i_int },
		{ ZYDIS_MNEMONIC_INT3, x86_i_int3 },
		{ ZYDIS_MNEMONIC_INTO, x86_i_into },
		{ ZYDIS_MNEMONIC_INT1, x86_i_int1 },
		{ ZYDIS_MNEMONIC_IRET, x86_i_iret },
		{ ZYDIS_MNEMONIC_IRETD, x86_i_iret },
		{ ZYDIS_MNEMONIC_IRETQ, x86_i_iret },
	};
	static const unsigned int jcc[] = {
		ZYDIS_MNEMONIC_JO, ZYDIS_MNEMONIC_JNO, ZYDIS_MNEMONIC_JB,
		ZYDIS_MNEMONIC_JNB, ZYDIS_MNEMONIC_JZ, ZYDIS_MNEMONIC_JNZ,
		ZYDIS_MNEMONIC_JBE, ZYDIS_MNEMONIC_JNBE, ZYDIS_MNEMONIC_JS,
		ZYDIS_MNEMONIC_JNS, ZYDIS_MNEMONIC_JP, ZYDIS_MNEMONIC_JNP,
		ZYDIS_MNEMONIC_JL, ZYDIS_MNEMONIC_JNL, ZYDIS_MNEMONIC_JLE,
		ZYDIS_MNEMONIC_JNLE,
	};
	unsigned int i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		x86_register(t[i].m, t[i].fn);
	for (i = 0; i < 16; i++)
		x86_register(jcc[i], x86_i_jcc);
}
