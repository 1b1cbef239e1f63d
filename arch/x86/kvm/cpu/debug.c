// SPDX-License-Identifier: MIT
/*
 * debug.c - debug registers and single-stepping (Intel SDM Vol. 3,
 * chapter 18): instruction, data and I/O breakpoints from DR0-DR3/DR7
 * with DR6 status, the EFLAGS.TF single-step trap, EFLAGS.RF, and the
 * host's KVM_SET_GUEST_DEBUG controls (cpu.h, struct x86_guest_debug).
 *
 * Nothing here costs anything while no breakpoint is enabled and TF is
 * clear: the run loop checks x86_dbg_update()'s verdict once per block
 * and, only when debugging is on, runs one instruction at a time through
 * x86_dbg_insn_bp() before and x86_dbg_after() after it.  Data accesses
 * call x86_dbg_data() only while a data or I/O breakpoint is armed.
 */
#include "cpu_priv.h"

#define X86_DR6_BS	(1ull << 14)
#define X86_DR6_FIXED	0xffff0ff0ull
#define X86_DR7_GD	(1ull << 13)
#define X86_DR6_BD	(1ull << 13)

enum { X86_BP_EXEC, X86_BP_WRITE, X86_BP_IO, X86_BP_RW };

/* The host's breakpoints replace the guest's while it debugs. */
static bool x86_dbg_host_bp(struct x86_cpu *cpu)
{
	uint32_t f = cpu->guest_debug.flags;

	return (f & X86_GDBG_ENABLE) && (f & X86_GDBG_USE_HW_BP);
}

static void x86_dbg_regs(struct x86_cpu *cpu, const uint64_t **dr,
			 uint64_t *dr7)
{
	if (x86_dbg_host_bp(cpu)) {
		*dr = cpu->guest_debug.dr;
		*dr7 = cpu->guest_debug.dr7;
	} else {
		*dr = cpu->dr;
		*dr7 = cpu->dr[7];
	}
}

static unsigned int x86_bp_type(uint64_t dr7, int i)
{
	return (dr7 >> (16 + 4 * i)) & 3;
}

/* LEN encoding: 00 = 1, 01 = 2, 11 = 4, 10 = 8 bytes (18.2.4) */
static uint64_t x86_bp_len(uint64_t dr7, int i)
{
	static const uint8_t len[4] = { 1, 2, 8, 4 };

	return len[(dr7 >> (18 + 4 * i)) & 3];
}

static bool x86_bp_enabled(uint64_t dr7, int i)
{
	return (dr7 >> (2 * i)) & 3;
}

void x86_dbg_update(struct x86_cpu *cpu)
{
	struct x86_cpu_priv *p = cpu->priv;
	const uint64_t *dr;
	uint64_t dr7;
	bool data = false;
	int i;

	x86_dbg_regs(cpu, &dr, &dr7);
	for (i = 0; i < 4; i++)
		if (x86_bp_enabled(dr7, i) && x86_bp_type(dr7, i) != X86_BP_EXEC)
			data = true;
	p->dbg_data = data;
	p->dbg_mode = (cpu->rflags & X86_TF) || (dr7 & 0xff) ||
		      (cpu->guest_debug.flags & X86_GDBG_ENABLE);
}

X86_NORETURN static void x86_dbg_exit(struct x86_cpu *cpu, int vec,
				      uint64_t dr6)
{
	cpu->exit.debug.exception = (uint32_t)vec;
	cpu->exit.debug.pc = cpu->seg[X86_CS].base + cpu->rip;
	cpu->exit.debug.dr6 = dr6;
	cpu->exit.debug.dr7 = x86_dbg_host_bp(cpu) ? cpu->guest_debug.dr7 :
			      cpu->dr[7];
	x86_exit(cpu, X86_EXIT_DEBUG);
}

/* B0-B3 reflect the conditions of this exception only (18.2.3). */
static void x86_dbg_set_dr6(struct x86_cpu *cpu, uint64_t bits)
{
	cpu->dr[6] = (cpu->dr[6] & ~0xfull) | X86_DR6_FIXED | bits;
}

/* Instruction breakpoints: a fault before the instruction (18.3.1.1). */
void x86_dbg_insn_bp(struct x86_cpu *cpu)
{
	uint64_t la = cpu->seg[X86_CS].base + cpu->rip, dr7, hits = 0;
	const uint64_t *dr;
	int i;

	if (cpu->rflags & X86_RF)
		return;
	x86_dbg_regs(cpu, &dr, &dr7);
	for (i = 0; i < 4; i++)
		if (x86_bp_enabled(dr7, i) &&
		    x86_bp_type(dr7, i) == X86_BP_EXEC && dr[i] == la)
			hits |= 1ull << i;
	if (!hits)
		return;
	if (x86_dbg_host_bp(cpu))
		x86_dbg_exit(cpu, X86_DB, X86_DR6_FIXED | hits);
	x86_dbg_set_dr6(cpu, hits);
	x86_raise(cpu, X86_DB, 0);
}

static void x86_dbg_match(struct x86_cpu *cpu, uint64_t a, uint64_t size,
			  bool io, bool write)
{
	struct x86_cpu_priv *p = cpu->priv;
	const uint64_t *dr;
	uint64_t dr7, len, start;
	unsigned int t;
	int i;

	x86_dbg_regs(cpu, &dr, &dr7);
	for (i = 0; i < 4; i++) {
		if (!x86_bp_enabled(dr7, i))
			continue;
		t = x86_bp_type(dr7, i);
		if (io ? t != X86_BP_IO : (t != X86_BP_RW &&
					    !(t == X86_BP_WRITE && write)))
			continue;
		len = x86_bp_len(dr7, i);
		start = dr[i] & ~(len - 1);
		if (a < start + len && start < a + size)
			p->dbg_hits |= 1u << i;
	}
}

/* Data breakpoints: any byte of the access in the watched range. */
void x86_dbg_data(struct x86_cpu *cpu, uint64_t la, unsigned int size,
		  bool write)
{
	x86_dbg_match(cpu, la, size, false, write);
}

/* I/O breakpoints need CR4.DE (18.2.4). */
void x86_dbg_io(struct x86_cpu *cpu, uint16_t port, unsigned int size)
{
	if (cpu->priv->dbg_data && (cpu->cr4 & X86_CR4_DE))
		x86_dbg_match(cpu, port, size, true, false);
}

/*
 * After an instruction completed: data/I-O breakpoint hits and the
 * single-step trap (TF was set when it started, 18.3.1.4) become one #DB
 * trap, or a debug exit for the host.  An instruction that delivered an
 * event (INT n, an exception) traps at the handler only for the host's
 * single-step; the gate cleared TF for the guest's.
 */
void x86_dbg_after(struct x86_cpu *cpu, bool tf)
{
	struct x86_cpu_priv *p = cpu->priv;
	uint64_t hits = p->dbg_hits, bs = 0;

	p->dbg_hits = 0;
	if (tf && !p->delivered)
		bs = X86_DR6_BS;
	if (hits && x86_dbg_host_bp(cpu)) {
		if (bs)
			x86_dbg_set_dr6(cpu, X86_DR6_BS);
		x86_dbg_exit(cpu, X86_DB, X86_DR6_FIXED | hits);
	}
	if ((cpu->guest_debug.flags &
	     (X86_GDBG_ENABLE | X86_GDBG_SINGLESTEP)) ==
	    (X86_GDBG_ENABLE | X86_GDBG_SINGLESTEP)) {
		if (hits || bs)
			x86_dbg_set_dr6(cpu, hits | bs);
		if (hits || bs) {
			cpu->ev.exc_pending = true;
			cpu->ev.exc_nr = X86_DB;
			cpu->ev.exc_has_error = false;
			cpu->ev.exc_error = 0;
		}
		x86_dbg_exit(cpu, X86_DB, X86_DR6_FIXED | X86_DR6_BS);
	}
	if (!hits && !bs)
		return;
	x86_dbg_set_dr6(cpu, hits | bs);
	cpu->ev.exc_pending = true;
	cpu->ev.exc_nr = X86_DB;
	cpu->ev.exc_has_error = false;
	cpu->ev.exc_error = 0;
}

/*
 * General detect (18.2.4): MOV to or from a debug register while DR7.GD
 * is set is a #DB fault with DR6.BD.  GD is read from the DR7 in effect,
 * so with the host's breakpoints (USE_HW_BP) it is the host's GD, and the
 * fault stops the run for the host instead.
 */
void x86_dbg_mov_dr(struct x86_cpu *cpu)
{
	const uint64_t *dr;
	uint64_t dr7;

	x86_dbg_regs(cpu, &dr, &dr7);
	if (!(dr7 & X86_DR7_GD))
		return;
	if (x86_dbg_host_bp(cpu))
		x86_dbg_exit(cpu, X86_DB, X86_DR6_FIXED | X86_DR6_BD);
	cpu->dr[6] = (cpu->dr[6] & ~0xfull) | X86_DR6_BD;
	x86_raise(cpu, X86_DB, 0);
}

/* INT3 under USE_SW_BP: stop on it for the host instead of #BP. */
bool x86_dbg_int3(struct x86_cpu *cpu)
{
	uint32_t f = cpu->guest_debug.flags;

	if (!(f & X86_GDBG_ENABLE) || !(f & X86_GDBG_USE_SW_BP))
		return false;
	x86_dbg_exit(cpu, X86_BP, 0);
}
