// SPDX-License-Identifier: MIT
/*
 * io.c - IN, OUT, INS, OUTS (Intel SDM Vol. 1, chapter 19).
 *
 * Port I/O leaves the instruction with an I/O exit: OUT data is in
 * ops->pio_buf before the exit, IN data is there after the host completes
 * it; the instruction then runs again and finishes.  String I/O moves up
 * to a page of elements per exit (KVM's "count"), never across a page of
 * guest memory, and only forward and to RAM; otherwise one at a time.
 */
#include "cpu_priv.h"

/* I/O permission: IOPL, then the TSS bitmap (SDM Vol. 1, 19.5). */
bool x86_io_allowed(struct x86_cpu *cpu, uint16_t port, unsigned int size)
{
	struct x86_cpu_priv *p = cpu->priv;
	struct x86_seg *tr = &cpu->tr;
	uint64_t base;
	uint16_t bits;
	uint32_t type = X86_SEG_TYPE(tr->attr);

	if (p->mode == X86_MODE_REAL)
		return true;
	if (p->mode != X86_MODE_VM86 && p->cpl <= X86_IOPL_OF(cpu->rflags))
		return true;
	if ((type != 9 && type != 11) || tr->limit < 103)
		return false;
	base = x86_read_lin(cpu, tr->base + 102, 2, X86_PV_SUP, true);
	if (base + port / 8 + 1 > tr->limit)
		return false;
	bits = (uint16_t)x86_read_lin(cpu, tr->base + base + port / 8, 2,
				      X86_PV_SUP, true);
	return !((bits >> (port & 7)) & ((1u << size) - 1));
}

static void x86_io_check(struct x86_cpu *cpu, uint16_t port, unsigned int sz)
{
	if (!x86_io_allowed(cpu, port, sz))
		x86_gp(cpu, 0);
	if (unlikely(cpu->priv->dbg_data))
		x86_dbg_io(cpu, port, sz);
}

/* True when the completed data for this instruction is waiting. */
static bool x86_io_done(struct x86_cpu *cpu)
{
	struct x86_cpu_priv *p = cpu->priv;

	if (p->io_state == 2 && p->io_rip == cpu->rip) {
		p->io_state = 0;
		return true;
	}
	return false;
}

X86_NORETURN static void x86_io_exit(struct x86_cpu *cpu, uint16_t port,
				     unsigned int sz, bool in, uint32_t count)
{
	struct x86_cpu_priv *p = cpu->priv;

	cpu->exit.io.port = port;
	cpu->exit.io.size = (uint8_t)sz;
	cpu->exit.io.in = in;
	cpu->exit.io.count = count;
	p->io_state = 1;
	p->io_rip = cpu->rip;
	p->io_count = count;
	x86_exit(cpu, X86_EXIT_IO);
}

static uint16_t x86_io_port(struct x86_cpu *cpu, const struct x86_insn *in,
			    int i)
{
	if (in->op[i].kind == X86_OP_IMM)
		return (uint16_t)(in->op[i].disp & 0xff);
	return (uint16_t)cpu->gpr[X86_RDX];
}

static void x86_i_in(struct x86_cpu *cpu, const struct x86_insn *in)
{
	unsigned int sz = in->op[0].size;
	uint16_t port = x86_io_port(cpu, in, 1);
	uint32_t v = 0;

	x86_io_check(cpu, port, sz);
	if (!x86_io_done(cpu))
		x86_io_exit(cpu, port, sz, true, 1);
	memcpy(&v, cpu->ops->pio_buf, sz);
	x86_gpr_set(cpu, X86_RAX, sz, v);
}

static void x86_i_out(struct x86_cpu *cpu, const struct x86_insn *in)
{
	unsigned int sz = in->op[1].size;
	uint16_t port = x86_io_port(cpu, in, 0);
	uint32_t v = (uint32_t)cpu->gpr[X86_RAX];

	x86_io_check(cpu, port, sz);
	if (x86_io_done(cpu))
		return;
	memcpy(cpu->ops->pio_buf, &v, sz);
	x86_io_exit(cpu, port, sz, false, 1);
}

/* Elements of one batch: the rest of the page, forward, RAM only. */
static uint32_t x86_ios_count(struct x86_cpu *cpu, const struct x86_insn *in,
			      int seg, uint64_t off, unsigned int sz,
			      bool write)
{
	uint64_t c = cpu->gpr[X86_RCX] & x86_mask(in->adsz), la, room;

	if (!(in->flags & X86_I_REP))
		return 1;
	if (c <= 1 || (cpu->rflags & X86_DF) || x86_ac_enabled(cpu) ||
	    cpu->priv->dbg_data)
		return 1;
	la = x86_seg_la(cpu, seg, off, sz, write ? X86_ACC_W : X86_ACC_R);
	room = (X86_PAGE_SIZE - (la & 0xfff)) / sz;
	if (room < c)
		c = room;
	if (c <= 1 || !x86_host_ptr(cpu, seg, off, (unsigned int)(c * sz),
				    write ? X86_ACC_W : X86_ACC_R))
		return 1;
	return (uint32_t)c;
}

/*
 * Elements the completed batch moves: the host may have lowered RCX
 * during the exit (KVM_SET_REGS), and a batch never runs past it.
 */
static uint32_t x86_ios_done_count(struct x86_cpu *cpu,
				   const struct x86_insn *in)
{
	uint64_t c = cpu->gpr[X86_RCX] & x86_mask(in->adsz);
	uint32_t n = cpu->priv->io_count;

	if ((in->flags & X86_I_REP) && c < n)
		n = (uint32_t)c;
	return n;
}

static void x86_ios_commit(struct x86_cpu *cpu, const struct x86_insn *in,
			   int reg, uint32_t n, unsigned int sz)
{
	unsigned int as = in->adsz;
	int64_t d = (cpu->rflags & X86_DF) ? -(int64_t)sz : (int64_t)sz;
	uint64_t c;

	x86_gpr_set(cpu, reg, as, cpu->gpr[reg] + (uint64_t)(d * n));
	if (!(in->flags & X86_I_REP))
		return;
	c = (cpu->gpr[X86_RCX] - n) & x86_mask(as);
	x86_gpr_set(cpu, X86_RCX, as, c);
	if (c) {
		cpu->priv->next_rip = cpu->rip;	/* more to do */
		cpu->priv->brk = true;
	}
}

static void x86_ins(struct x86_cpu *cpu, const struct x86_insn *in,
		    unsigned int sz)
{
	uint16_t port = (uint16_t)cpu->gpr[X86_RDX];
	uint64_t di = cpu->gpr[X86_RDI] & x86_mask(in->adsz);
	uint32_t n;

	if ((in->flags & X86_I_REP) && !(cpu->gpr[X86_RCX] & x86_mask(in->adsz))) {
		x86_io_done(cpu);	/* RCX cleared during the exit */
		return;
	}
	x86_io_check(cpu, port, sz);
	if (!x86_io_done(cpu)) {
		x86_align_check(cpu, x86_seg_la(cpu, X86_ES, di, sz, X86_ACC_W),
				sz);
		n = x86_ios_count(cpu, in, X86_ES, di, sz, true);
		x86_check_write(cpu, X86_ES, di, sz);
		x86_io_exit(cpu, port, sz, true, n);
	}
	n = x86_ios_done_count(cpu, in);
	x86_write_lin_buf(cpu, x86_seg_la(cpu, X86_ES, di, n * sz, X86_ACC_W),
			  cpu->ops->pio_buf, n * sz, x86_data_pv(cpu), false);
	x86_ios_commit(cpu, in, X86_RDI, n, sz);
}

static void x86_outs(struct x86_cpu *cpu, const struct x86_insn *in,
		     unsigned int sz)
{
	uint16_t port = (uint16_t)cpu->gpr[X86_RDX];
	uint64_t si = cpu->gpr[X86_RSI] & x86_mask(in->adsz);
	uint32_t n;

	if ((in->flags & X86_I_REP) && !(cpu->gpr[X86_RCX] & x86_mask(in->adsz))) {
		x86_io_done(cpu);	/* RCX cleared during the exit */
		return;
	}
	x86_io_check(cpu, port, sz);
	if (x86_io_done(cpu)) {
		x86_ios_commit(cpu, in, X86_RSI, x86_ios_done_count(cpu, in), sz);
		return;
	}
	x86_align_check(cpu, x86_seg_la(cpu, in->seg, si, sz, X86_ACC_R), sz);
	n = x86_ios_count(cpu, in, in->seg, si, sz, false);
	x86_read_lin_buf(cpu, x86_seg_la(cpu, in->seg, si, n * sz, X86_ACC_R),
			 cpu->ops->pio_buf, n * sz, x86_data_pv(cpu), false);
	x86_mmio_retire(cpu);
	x86_io_exit(cpu, port, sz, false, n);
}

#define X86_IOS(name, fn, size)						\
static void x86_i_##name(struct x86_cpu *cpu, const struct x86_insn *in) \
{									\
	fn(cpu, in, size);						\
}
X86_IOS(insb, x86_ins, 1)
X86_IOS(insw, x86_ins, 2)
X86_IOS(insd, x86_ins, 4)
X86_IOS(outsb, x86_outs, 1)
X86_IOS(outsw, x86_outs, 2)
X86_IOS(outsd, x86_outs, 4)

void x86_io_register(void)
{
	x86_register(ZYDIS_MNEMONIC_IN, x86_i_in);
	x86_register(ZYDIS_MNEMONIC_OUT, x86_i_out);
	x86_register(ZYDIS_MNEMONIC_INSB, x86_i_insb);
	x86_register(ZYDIS_MNEMONIC_INSW, x86_i_insw);
	x86_register(ZYDIS_MNEMONIC_INSD, x86_i_insd);
	x86_register(ZYDIS_MNEMONIC_OUTSB, x86_i_outsb);
	x86_register(ZYDIS_MNEMONIC_OUTSW, x86_i_outsw);
	x86_register(ZYDIS_MNEMONIC_OUTSD, x86_i_outsd);
}
