// SPDX-License-Identifier: MIT
/*
 * io.c - IN, OUT, INS, OUTS (Intel SDM Vol. 1, chapter 19).
 *
 * Port I/O leaves the instruction with an I/O exit: OUT data is in
 * ops->pio_buf before the exit, IN data is there after the host completes
 * it; the instruction then runs again and finishes (x86_cpu_complete_io
 * does that at once).  String I/O batches exactly as KVM's emulator does:
 * see the comment above x86_ins().
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

/*
 * True when the completed data for this instruction is waiting.  It stays
 * until the instruction retires (x86_mmio_retire), so that a store of IN
 * data that needs an MMIO exit finds it again when the instruction reruns.
 */
static bool x86_io_done(struct x86_cpu *cpu)
{
	struct x86_cpu_priv *p = cpu->priv;

	return p->io_state == 2 && p->io_rip == cpu->rip;
}

/* complete: the instruction runs again once the host has done the I/O */
X86_NORETURN static void x86_io_exit(struct x86_cpu *cpu, uint16_t port,
				     unsigned int sz, bool in, uint32_t count,
				     bool complete)
{
	struct x86_cpu_priv *p = cpu->priv;

	cpu->exit.io.port = port;
	cpu->exit.io.size = (uint8_t)sz;
	cpu->exit.io.in = in;
	cpu->exit.io.count = count;
	p->io_state = complete ? 1 : 0;
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
		x86_io_exit(cpu, port, sz, true, 1, true);
	memcpy(&v, cpu->ops->pio_buf, sz);
	x86_gpr_set(cpu, X86_RAX, sz, v);
	cpu->priv->io_state = 0;
}

static void x86_i_out(struct x86_cpu *cpu, const struct x86_insn *in)
{
	unsigned int sz = in->op[1].size;
	uint16_t port = x86_io_port(cpu, in, 0);
	uint32_t v = (uint32_t)cpu->gpr[X86_RAX];

	x86_io_check(cpu, port, sz);
	if (x86_io_done(cpu)) {
		cpu->priv->io_state = 0;
		return;
	}
	memcpy(cpu->ops->pio_buf, &v, sz);
	x86_io_exit(cpu, port, sz, false, 1, true);
}

/*
 * String I/O follows KVM, which runs INS and OUTS through its instruction
 * emulator (Linux arch/x86/kvm/emulate.c, em_in/em_out, pio_in_emulated,
 * x86_emulate_insn's REP handling), not the SDM's one element per
 * iteration:
 *
 * - A REP form with (R|E)CX = 0 (masked to the address size) retires
 *   without I/O and clears RF; the I/O permission check comes first.
 * - OUTS exits once per element: the element is read (faults come before
 *   the exit), RSI steps, and the exit already shows the retired state:
 *   without REP, RIP is past the instruction; with REP, RCX is one lower,
 *   RIP stays on the instruction and RF is set (also when RCX reached 0:
 *   the next run retires it).  Nothing is left to complete.
 * - INS reads ahead: the exit asks for n = min(room, 1024 / size, count)
 *   elements (at least 1), where room is the number of bytes from RDI to
 *   the end of its page (to the start of the page with DF=1) -- bytes,
 *   not elements, and from the whole RDI -- and count is the masked RCX
 *   with REP, else 1.  Registers are untouched until completion, which
 *   recomputes n from the registers it finds (the host may have changed
 *   RCX) and stores the data: forward with REP as one write of n * size
 *   bytes (it may cross into the next page), otherwise one element at a
 *   time.  With REP, RCX drops by n, RF is set and RIP stays on the
 *   instruction, which runs again (and retires once RCX is 0).  A fault
 *   while storing drops the data, as KVM does.
 */
#define X86_PIO_READ_AHEAD	1024u

static bool x86_ios_rep_over(struct x86_cpu *cpu, const struct x86_insn *in)
{
	if (!(in->flags & X86_I_REP) ||
	    (cpu->gpr[X86_RCX] & x86_mask(in->adsz)))
		return false;
	cpu->rflags &= ~X86_RF;
	return true;
}

/* Elements of one INS exit, from the current registers. */
static uint32_t x86_ins_count(struct x86_cpu *cpu, const struct x86_insn *in,
			      unsigned int sz)
{
	uint32_t count = 1, room, n;
	uint64_t off = cpu->gpr[X86_RDI] & 0xfff;

	if (in->flags & X86_I_REP)
		count = (uint32_t)(cpu->gpr[X86_RCX] & x86_mask(in->adsz));
	room = (cpu->rflags & X86_DF) ? (uint32_t)off :
	       X86_PAGE_SIZE - (uint32_t)off;
	n = X86_PIO_READ_AHEAD / sz;
	if (room < n)
		n = room;
	if (count < n)
		n = count;
	return n ? n : 1;
}

/* A REP string I/O instruction that runs again: RIP stays, RF set. */
static void x86_ios_again(struct x86_cpu *cpu)
{
	struct x86_cpu_priv *p = cpu->priv;

	cpu->rflags |= X86_RF;
	p->next_rip = cpu->rip;
	p->keep_rf = true;
	p->brk = true;
}

static void x86_ins(struct x86_cpu *cpu, const struct x86_insn *in,
		    unsigned int sz)
{
	uint16_t port = (uint16_t)cpu->gpr[X86_RDX];
	unsigned int as = in->adsz;
	bool rep = in->flags & X86_I_REP;
	const uint8_t *data = cpu->ops->pio_buf;
	uint64_t di;
	uint32_t n, i;

	x86_io_check(cpu, port, sz);
	if (x86_ios_rep_over(cpu, in))
		return;
	if (!x86_io_done(cpu))
		x86_io_exit(cpu, port, sz, true, x86_ins_count(cpu, in, sz),
			    true);
	n = x86_ins_count(cpu, in, sz);
	if (rep && !(cpu->rflags & X86_DF) && !x86_ac_enabled(cpu) &&
	    !cpu->priv->dbg_data) {
		di = cpu->gpr[X86_RDI] & x86_mask(as);
		x86_write_lin_buf(cpu, x86_seg_la(cpu, X86_ES, di, n * sz,
						  X86_ACC_W),
				  data, n * sz, x86_data_pv(cpu), false);
		x86_gpr_set(cpu, X86_RDI, as, cpu->gpr[X86_RDI] + n * sz);
		x86_gpr_set(cpu, X86_RCX, as, cpu->gpr[X86_RCX] - n);
	} else {
		for (i = 0; i < n; i++, data += sz) {
			uint32_t v = 0;
			int64_t d = (cpu->rflags & X86_DF) ? -(int64_t)sz : sz;

			memcpy(&v, data, sz);
			di = cpu->gpr[X86_RDI] & x86_mask(as);
			x86_write(cpu, X86_ES, di, v, sz);
			x86_gpr_set(cpu, X86_RDI, as,
				    cpu->gpr[X86_RDI] + (uint64_t)d);
			if (rep)
				x86_gpr_set(cpu, X86_RCX, as,
					    cpu->gpr[X86_RCX] - 1);
		}
	}
	cpu->priv->io_state = 0;
	if (rep)
		x86_ios_again(cpu);
	else
		cpu->rflags &= ~X86_RF;
}

static void x86_outs(struct x86_cpu *cpu, const struct x86_insn *in,
		     unsigned int sz)
{
	struct x86_cpu_priv *p = cpu->priv;
	uint16_t port = (uint16_t)cpu->gpr[X86_RDX];
	unsigned int as = in->adsz;
	int64_t d = (cpu->rflags & X86_DF) ? -(int64_t)sz : sz;
	uint32_t v;

	x86_io_check(cpu, port, sz);
	if (x86_ios_rep_over(cpu, in))
		return;
	v = (uint32_t)x86_read(cpu, in->seg,
			       cpu->gpr[X86_RSI] & x86_mask(as), sz);
	memcpy(cpu->ops->pio_buf, &v, sz);
	x86_gpr_set(cpu, X86_RSI, as, cpu->gpr[X86_RSI] + (uint64_t)d);
	if (in->flags & X86_I_REP) {
		x86_gpr_set(cpu, X86_RCX, as, cpu->gpr[X86_RCX] - 1);
		cpu->rflags |= X86_RF;
	} else {
		cpu->rflags &= ~X86_RF;
		cpu->rip = p->next_rip;
	}
	/* the instruction has retired (or stepped): nothing to complete */
	x86_mmio_retire(cpu);
	cpu->ev.int_shadow = 0;
	x86_io_exit(cpu, port, sz, false, 1, false);
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
