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
 * Check a far JMP/CALL target in protected mode (SDM Vol. 3, 5.8.1).
 * Call gates and task switches are not executed yet.
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
		x86_unimplemented(cpu, in);	/* gates, TSS */
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
		    cpu->priv->mode != X86_MODE_VM86)
			x86_far_check(cpu, in, sel, &d);
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
