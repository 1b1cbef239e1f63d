// SPDX-License-Identifier: MIT
/*
 * datamov.c - data transfer, conversion, stack and segment register
 * instructions (Intel SDM Vol. 1, 7.3.1, 7.3.16; Vol. 2 for each).
 */
#include "cpu_priv.h"

bool x86_cas(void *p, uint64_t *old, uint64_t new, unsigned int size);
void x86_mov_special(struct x86_cpu *cpu, const struct x86_insn *in);

static void x86_i_mov(struct x86_cpu *cpu, const struct x86_insn *in)
{
	const struct x86_operand *d = &in->op[0];
	uint64_t v;

	if (d->kind == X86_OP_CR || d->kind == X86_OP_DR ||
	    in->op[1].kind == X86_OP_CR || in->op[1].kind == X86_OP_DR) {
		x86_mov_special(cpu, in);
		return;
	}
	v = x86_op_read(cpu, in, 1);
	if (d->kind != X86_OP_SREG) {
		x86_op_write(cpu, in, 0, v);
		return;
	}
	if (d->reg == X86_CS)
		x86_ud(cpu);
	x86_load_seg(cpu, d->reg, (uint16_t)v);
	if (d->reg == X86_SS) {
		/* MOV SS blocks interrupts for one instruction (6.8.3) */
		cpu->ev.int_shadow |= X86_SHADOW_MOV_SS;
		cpu->priv->brk = true;
	}
}

static void x86_i_movzx(struct x86_cpu *cpu, const struct x86_insn *in)
{
	x86_op_write(cpu, in, 0, x86_op_read(cpu, in, 1));
}

static void x86_i_movsx(struct x86_cpu *cpu, const struct x86_insn *in)
{
	x86_op_write(cpu, in, 0,
		     x86_sext(x86_op_read(cpu, in, 1), in->op[1].size));
}

static void x86_i_lea(struct x86_cpu *cpu, const struct x86_insn *in)
{
	x86_op_write(cpu, in, 0, x86_ea(cpu, in, &in->op[1]));
}

/* XCHG with memory is always locked (SDM Vol. 2, XCHG). */
static void x86_i_xchg(struct x86_cpu *cpu, const struct x86_insn *in)
{
	const struct x86_operand *m = &in->op[0], *r = &in->op[1];
	int mi = 0, ri = 1;
	uint64_t a, b;
	void *p;

	if (r->kind == X86_OP_MEM) {
		m = &in->op[1];
		r = &in->op[0];
		mi = 1;
		ri = 0;
	}
	b = x86_op_read(cpu, in, ri);
	if (m->kind == X86_OP_MEM) {
		p = x86_host_ptr(cpu, m->seg, x86_ea(cpu, in, m), m->size,
				 X86_ACC_W);
		if (p) {
			a = 0;
			while (!x86_cas(p, &a, b, m->size))
				;
			x86_op_write(cpu, in, ri, a);
			return;
		}
	}
	a = x86_op_read(cpu, in, mi);
	x86_op_write(cpu, in, mi, b);
	x86_op_write(cpu, in, ri, a);
}

static void x86_i_bswap(struct x86_cpu *cpu, const struct x86_insn *in)
{
	uint64_t v = x86_op_read(cpu, in, 0);

	if (in->op[0].size == 8)
		v = __builtin_bswap64(v);
	else if (in->op[0].size == 4)
		v = __builtin_bswap32((uint32_t)v);
	else
		v = 0;		/* 16-bit BSWAP is undefined; hardware gives 0 */
	x86_op_write(cpu, in, 0, v);
}

static void x86_i_movbe(struct x86_cpu *cpu, const struct x86_insn *in)
{
	uint64_t v = x86_op_read(cpu, in, 1);

	switch (in->op[0].size) {
	case 2: v = __builtin_bswap16((uint16_t)v); break;
	case 4: v = __builtin_bswap32((uint32_t)v); break;
	default: v = __builtin_bswap64(v); break;
	}
	x86_op_write(cpu, in, 0, v);
}

/* CBW/CWDE/CDQE: sign-extend the lower half of rAX into rAX. */
static void x86_i_cbw(struct x86_cpu *cpu, const struct x86_insn *in)
{
	unsigned int sz = in->opsz;

	x86_gpr_set(cpu, X86_RAX, sz, x86_sext(cpu->gpr[X86_RAX], sz / 2));
}

/* CWD/CDQ/CQO: rDX = sign of rAX. */
static void x86_i_cwd(struct x86_cpu *cpu, const struct x86_insn *in)
{
	unsigned int sz = in->opsz;
	uint64_t a = x86_sext(cpu->gpr[X86_RAX], sz);

	x86_gpr_set(cpu, X86_RDX, sz, (int64_t)a < 0 ? ~0ull : 0);
}

/* ------------------------------------------------------------- stack */

static void x86_i_push(struct x86_cpu *cpu, const struct x86_insn *in)
{
	uint64_t v = x86_op_read(cpu, in, 0);

	if (in->op[0].kind == X86_OP_SREG)
		v &= 0xffff;
	x86_push(cpu, v, in->opsz);
}

static void x86_i_pop(struct x86_cpu *cpu, const struct x86_insn *in)
{
	const struct x86_operand *d = &in->op[0];
	unsigned int sz = in->opsz;
	uint64_t sp = cpu->gpr[X86_RSP], v;
	struct x86_insn tmp;

	v = x86_stack_read(cpu, sp, sz);
	if (d->kind == X86_OP_SREG) {
		if (d->reg == X86_CS)
			x86_ud(cpu);
		x86_load_seg(cpu, d->reg, (uint16_t)v);
		x86_set_sp(cpu, sp + sz);
		if (d->reg == X86_SS) {
			cpu->ev.int_shadow |= X86_SHADOW_MOV_SS;
			cpu->priv->brk = true;
		}
		return;
	}
	if (d->kind == X86_OP_MEM) {
		/* the address is computed with the incremented rSP */
		tmp = *in;
		if (d->base == X86_RSP)
			tmp.op[0].disp += sz;
		x86_op_write(cpu, &tmp, 0, v);
		x86_set_sp(cpu, sp + sz);
		return;
	}
	x86_set_sp(cpu, sp + sz);
	x86_op_write(cpu, in, 0, v);
}

static void x86_i_pusha(struct x86_cpu *cpu, const struct x86_insn *in)
{
	unsigned int sz = in->opsz, i;
	uint64_t sp = cpu->gpr[X86_RSP];

	for (i = 0; i < 8; i++)
		x86_stack_write(cpu, sp - (i + 1) * sz,
				i == X86_RSP ? sp : cpu->gpr[i], sz);
	x86_set_sp(cpu, sp - 8 * sz);
}

static void x86_i_popa(struct x86_cpu *cpu, const struct x86_insn *in)
{
	unsigned int sz = in->opsz, i;
	uint64_t sp = cpu->gpr[X86_RSP], v[8];

	for (i = 0; i < 8; i++)
		v[i] = x86_stack_read(cpu, sp + (7 - i) * sz, sz);
	for (i = 0; i < 8; i++)
		if (i != X86_RSP)
			x86_gpr_set(cpu, i, sz, v[i]);
	x86_set_sp(cpu, sp + 8 * sz);
}

static void x86_i_pushf(struct x86_cpu *cpu, const struct x86_insn *in)
{
	if (cpu->priv->mode == X86_MODE_VM86 && X86_IOPL_OF(cpu->rflags) < 3)
		x86_gp(cpu, 0);
	x86_push(cpu, cpu->rflags & ~(X86_RF | X86_VM), in->opsz);
}

/* POPF: which bits change depends on CPL and IOPL (SDM Vol. 2, POPF). */
static void x86_i_popf(struct x86_cpu *cpu, const struct x86_insn *in)
{
	struct x86_cpu_priv *p = cpu->priv;
	uint64_t v, keep = X86_VM | X86_RF | X86_VIP | X86_VIF;
	unsigned int sz = in->opsz;

	if (p->mode == X86_MODE_VM86 && X86_IOPL_OF(cpu->rflags) < 3)
		x86_gp(cpu, 0);
	v = x86_stack_read(cpu, cpu->gpr[X86_RSP], sz);
	if (p->cpl > 0)
		keep |= X86_IOPL;
	if (p->cpl > X86_IOPL_OF(cpu->rflags))
		keep |= X86_IF;
	if (sz == 2)
		keep |= ~0xffffull;
	v = ((v & ~keep) | (cpu->rflags & keep)) & ~X86_RF;
	x86_set_sp(cpu, cpu->gpr[X86_RSP] + sz);
	x86_set_rflags(cpu, v);
}

static void x86_i_enter(struct x86_cpu *cpu, const struct x86_insn *in)
{
	unsigned int sz = in->opsz, ss = x86_stack_size(cpu), i;
	uint64_t alloc = x86_op_read(cpu, in, 0) & 0xffff;
	unsigned int level = x86_op_read(cpu, in, 1) & 31;
	uint64_t sp = cpu->gpr[X86_RSP], bp = cpu->gpr[X86_RBP], frame;

	sp -= sz;
	x86_stack_write(cpu, sp, bp, sz);
	frame = sp;
	for (i = 1; i < level; i++) {
		bp -= sz;
		sp -= sz;
		x86_stack_write(cpu, sp, x86_stack_read(cpu, bp, sz), sz);
	}
	if (level) {
		sp -= sz;
		x86_stack_write(cpu, sp, frame, sz);
	}
	sp -= alloc;
	/* the new stack top must be writable (SDM ENTER) */
	x86_check_write(cpu, X86_SS, sp & x86_mask(ss), 1);
	x86_gpr_set(cpu, X86_RBP, sz, frame);
	x86_set_sp(cpu, sp);
}

static void x86_i_leave(struct x86_cpu *cpu, const struct x86_insn *in)
{
	unsigned int sz = in->opsz;
	uint64_t bp = cpu->gpr[X86_RBP] & x86_mask(x86_stack_size(cpu)), v;

	v = x86_stack_read(cpu, bp, sz);
	x86_set_sp(cpu, bp + sz);
	x86_gpr_set(cpu, X86_RBP, sz, v);
}

/* ----------------------------------------------------- far pointers */

static void x86_i_lxs(struct x86_cpu *cpu, const struct x86_insn *in)
{
	static const struct { uint16_t m; uint8_t seg; } t[] = {
		{ ZYDIS_MNEMONIC_LDS, X86_DS }, { ZYDIS_MNEMONIC_LES, X86_ES },
		{ ZYDIS_MNEMONIC_LFS, X86_FS }, { ZYDIS_MNEMONIC_LGS, X86_GS },
		{ ZYDIS_MNEMONIC_LSS, X86_SS },
	};
	const struct x86_operand *m = &in->op[1];
	unsigned int sz = in->op[0].size, i;
	uint64_t ea = x86_ea(cpu, in, m), off;
	uint16_t sel;

	off = x86_read(cpu, m->seg, ea, sz);
	sel = (uint16_t)x86_read(cpu, m->seg, (ea + sz) & x86_mask(in->adsz), 2);
	for (i = 0; i < 5; i++)
		if (t[i].m == in->mnem)
			break;
	x86_load_seg(cpu, t[i].seg, sel);
	x86_op_write(cpu, in, 0, off);
	if (t[i].seg == X86_SS) {
		cpu->ev.int_shadow |= X86_SHADOW_MOV_SS;
		cpu->priv->brk = true;
	}
}

static void x86_i_xlat(struct x86_cpu *cpu, const struct x86_insn *in)
{
	uint64_t ea = (cpu->gpr[X86_RBX] + (cpu->gpr[X86_RAX] & 0xff)) &
		      x86_mask(in->adsz);

	x86_gpr_set(cpu, X86_RAX, 1, x86_read(cpu, in->seg, ea, 1));
}

static void x86_i_nop(struct x86_cpu *cpu, const struct x86_insn *in)
{
}

/* BOUND r, m16&16 / m32&32 (legacy modes only) */
static void x86_i_bound(struct x86_cpu *cpu, const struct x86_insn *in)
{
	const struct x86_operand *m = &in->op[1];
	unsigned int sz = in->op[0].size;
	uint64_t ea = x86_ea(cpu, in, m);
	int64_t idx = (int64_t)x86_sext(x86_op_read(cpu, in, 0), sz);
	int64_t lo = (int64_t)x86_sext(x86_read(cpu, m->seg, ea, sz), sz);
	int64_t hi = (int64_t)x86_sext(x86_read(cpu, m->seg,
				       (ea + sz) & x86_mask(in->adsz), sz), sz);

	if (idx < lo || idx > hi)
		x86_raise_noerr(cpu, X86_BR);
}

/* CLFLUSH/CLFLUSHOPT/CLWB/PREFETCH: fault like a byte read, no effect. */
static void x86_i_touch(struct x86_cpu *cpu, const struct x86_insn *in)
{
	const struct x86_operand *m = &in->op[0];

	if (in->nops && m->kind == X86_OP_MEM &&
	    (in->mnem == ZYDIS_MNEMONIC_CLFLUSH ||
	     in->mnem == ZYDIS_MNEMONIC_CLFLUSHOPT ||
	     in->mnem == ZYDIS_MNEMONIC_CLWB))
		x86_seg_la(cpu, m->seg, x86_ea(cpu, in, m), 1, X86_ACC_R);
}

static void x86_i_fence(struct x86_cpu *cpu, const struct x86_insn *in)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

void x86_datamov_register(void)
{
	static const struct { unsigned int m; x86_handler fn; } t[] = {
		{ ZYDIS_MNEMONIC_MOV, x86_i_mov },
		{ ZYDIS_MNEMONIC_MOVZX, x86_i_movzx },
		{ ZYDIS_MNEMONIC_MOVSX, x86_i_movsx },
		{ ZYDIS_MNEMONIC_MOVSXD, x86_i_movsx },
		{ ZYDIS_MNEMONIC_LEA, x86_i_lea },
		{ ZYDIS_MNEMONIC_XCHG, x86_i_xchg },
		{ ZYDIS_MNEMONIC_BSWAP, x86_i_bswap },
		{ ZYDIS_MNEMONIC_MOVBE, x86_i_movbe },
		{ ZYDIS_MNEMONIC_CBW, x86_i_cbw },
		{ ZYDIS_MNEMONIC_CWDE, x86_i_cbw },
		{ ZYDIS_MNEMONIC_CDQE, x86_i_cbw },
		{ ZYDIS_MNEMONIC_CWD, x86_i_cwd },
		{ ZYDIS_MNEMONIC_CDQ, x86_i_cwd },
		{ ZYDIS_MNEMONIC_CQO, x86_i_cwd },
		{ ZYDIS_MNEMONIC_PUSH, x86_i_push },
		{ ZYDIS_MNEMONIC_POP, x86_i_pop },
		{ ZYDIS_MNEMONIC_PUSHA, x86_i_pusha },
		{ ZYDIS_MNEMONIC_PUSHAD, x86_i_pusha },
		{ ZYDIS_MNEMONIC_POPA, x86_i_popa },
		{ ZYDIS_MNEMONIC_POPAD, x86_i_popa },
		{ ZYDIS_MNEMONIC_PUSHF, x86_i_pushf },
		{ ZYDIS_MNEMONIC_PUSHFD, x86_i_pushf },
		{ ZYDIS_MNEMONIC_PUSHFQ, x86_i_pushf },
		{ ZYDIS_MNEMONIC_POPF, x86_i_popf },
		{ ZYDIS_MNEMONIC_POPFD, x86_i_popf },
		{ ZYDIS_MNEMONIC_POPFQ, x86_i_popf },
		{ ZYDIS_MNEMONIC_ENTER, x86_i_enter },
		{ ZYDIS_MNEMONIC_LEAVE, x86_i_leave },
		{ ZYDIS_MNEMONIC_LDS, x86_i_lxs },
		{ ZYDIS_MNEMONIC_LES, x86_i_lxs },
		{ ZYDIS_MNEMONIC_LFS, x86_i_lxs },
		{ ZYDIS_MNEMONIC_LGS, x86_i_lxs },
		{ ZYDIS_MNEMONIC_LSS, x86_i_lxs },
		{ ZYDIS_MNEMONIC_XLAT, x86_i_xlat },
		{ ZYDIS_MNEMONIC_NOP, x86_i_nop },
		{ ZYDIS_MNEMONIC_PAUSE, x86_i_nop },
		{ ZYDIS_MNEMONIC_ENDBR32, x86_i_nop },
		{ ZYDIS_MNEMONIC_ENDBR64, x86_i_nop },
		{ ZYDIS_MNEMONIC_BOUND, x86_i_bound },
		{ ZYDIS_MNEMONIC_CLFLUSH, x86_i_touch },
		{ ZYDIS_MNEMONIC_CLFLUSHOPT, x86_i_touch },
		{ ZYDIS_MNEMONIC_CLWB, x86_i_touch },
		{ ZYDIS_MNEMONIC_PREFETCH, x86_i_touch },
		{ ZYDIS_MNEMONIC_PREFETCHW, x86_i_touch },
		{ ZYDIS_MNEMONIC_PREFETCHNTA, x86_i_touch },
		{ ZYDIS_MNEMONIC_PREFETCHT0, x86_i_touch },
		{ ZYDIS_MNEMONIC_PREFETCHT1, x86_i_touch },
		{ ZYDIS_MNEMONIC_PREFETCHT2, x86_i_touch },
		{ ZYDIS_MNEMONIC_LFENCE, x86_i_fence },
		{ ZYDIS_MNEMONIC_SFENCE, x86_i_fence },
		{ ZYDIS_MNEMONIC_MFENCE, x86_i_fence },
	};
	unsigned int i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		x86_register(t[i].m, t[i].fn);
}
