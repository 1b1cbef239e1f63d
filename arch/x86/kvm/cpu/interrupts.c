// SPDX-License-Identifier: MIT
/*
 * interrupts.c - exceptions and interrupts: raising, the double-fault
 * rules, delivery through the IVT, the protected-mode IDT and the 64-bit
 * IDT, and IRET (Intel SDM Vol. 3, chapter 6; Vol. 2, IRET).
 *
 * cpu->ev is the source of truth: raising sets ev.exc_pending and leaves
 * the instruction (longjmp); the run loop then delivers it.  Delivery
 * itself never exits, so "injected" only lasts while it runs.
 */
#include "cpu_priv.h"

/* --------------------------------------------------------------- raise */

bool x86_has_error_code(int vec)
{
	switch (vec) {
	case X86_DF_VEC: case X86_TS: case X86_NP: case X86_SS_VEC: case X86_GP:
	case X86_PF_VEC: case X86_AC_VEC: case 21: case 29: case 30:
		return true;
	default:
		return false;
	}
}

static bool x86_contributory(int vec)
{
	return vec == X86_DE || (vec >= X86_TS && vec <= X86_GP);
}

/* Table 6-5: conditions for generating a double fault. */
static bool x86_makes_df(int first, int second)
{
	if (first == X86_PF_VEC)
		return second == X86_PF_VEC || x86_contributory(second);
	return x86_contributory(first) && x86_contributory(second);
}

X86_NORETURN void x86_raise(struct x86_cpu *cpu, int vec, uint32_t err)
{
	struct x86_cpu_priv *p = cpu->priv;
	struct x86_events *ev = &cpu->ev;

	x86_mmio_retire(cpu);
	if (p->delivering >= 0) {
		if (p->delivering == X86_DF_VEC) {
			/* a fault while delivering #DF: shutdown (6.15) */
			memset(ev, 0, sizeof(*ev));
			p->delivering = -1;
			x86_exit(cpu, X86_EXIT_SHUTDOWN);
		}
		if (x86_makes_df(p->delivering, vec)) {
			vec = X86_DF_VEC;
			err = 0;
		}
	}
	ev->exc_injected = false;
	ev->irq_injected = false;
	ev->nmi_injected = false;
	ev->exc_pending = true;
	ev->exc_nr = (uint8_t)vec;
	ev->exc_has_error = x86_has_error_code(vec);
	ev->exc_error = ev->exc_has_error ? err : 0;
	cpu->exit.reason = X86_EXIT_NONE;
	longjmp(p->jb, 1);
}

X86_NORETURN void x86_raise_noerr(struct x86_cpu *cpu, int vec)
{
	x86_raise(cpu, vec, 0);
}

X86_NORETURN void x86_raise_pf(struct x86_cpu *cpu, uint64_t la, uint32_t err)
{
	cpu->cr2 = la;
	x86_raise(cpu, X86_PF_VEC, err);
}

/* ----------------------------------------------------------- real mode */

static void x86_deliver_real(struct x86_cpu *cpu, int vec, uint64_t ret)
{
	uint64_t sp = cpu->gpr[X86_RSP], off;
	uint16_t cs;

	if ((uint32_t)vec * 4 + 3 > cpu->idtr.limit)
		x86_gp(cpu, 0);
	off = x86_read_lin(cpu, (uint32_t)(cpu->idtr.base + vec * 4), 2,
			   X86_PV_SUP, true);
	cs = (uint16_t)x86_read_lin(cpu, (uint32_t)(cpu->idtr.base + vec * 4 + 2),
				    2, X86_PV_SUP, true);
	x86_stack_write(cpu, sp - 2, cpu->rflags, 2);
	x86_stack_write(cpu, sp - 4, cpu->seg[X86_CS].sel, 2);
	x86_stack_write(cpu, sp - 6, ret, 2);
	x86_set_sp(cpu, sp - 6);
	cpu->rflags &= ~(X86_IF | X86_TF | X86_AC | X86_RF);
	x86_load_seg_real(cpu, X86_CS, cs);
	cpu->rip = off;
}

/* -------------------------------------------------- protected / long */

struct x86_gate {
	uint16_t sel;
	uint64_t off;
	uint8_t type, dpl, ist;
	bool present;
};

static void x86_read_gate(struct x86_cpu *cpu, int vec, bool soft,
			  struct x86_gate *g, uint32_t ext)
{
	bool lm = cpu->efer & X86_EFER_LMA;
	unsigned int sz = lm ? 16 : 8;
	uint32_t idt_err = (uint32_t)vec * 8 + 2 + ext;
	uint64_t lo, hi = 0, la = cpu->idtr.base + (uint64_t)vec * sz;

	if ((uint64_t)vec * sz + sz - 1 > cpu->idtr.limit)
		x86_gp(cpu, idt_err);
	lo = x86_read_lin(cpu, x86_wrap_la(cpu, la), 8, X86_PV_SUP, true);
	if (lm)
		hi = x86_read_lin(cpu, la + 8, 8, X86_PV_SUP, true);
	g->sel = (uint16_t)(lo >> 16);
	g->type = (lo >> 40) & 0x1f;
	g->dpl = (lo >> 45) & 3;
	g->present = lo & (1ull << 47);
	g->ist = lm ? (lo >> 32) & 7 : 0;
	g->off = (lo & 0xffff) | ((lo >> 32) & 0xffff0000);
	if (lm)
		g->off |= hi << 32;
	if (lm ? (g->type != 0xe && g->type != 0xf) :
	    (g->type & 0x16) != 0x6 && g->type != 0x5)
		x86_gp(cpu, idt_err);
	if (soft && g->dpl < cpu->priv->cpl)
		x86_gp(cpu, idt_err);
	if (!g->present)
		x86_raise(cpu, X86_NP, idt_err);
}

/* Stack for privilege level dpl from the TSS (7.2.1, 8.7). */
void x86_tss_stack(struct x86_cpu *cpu, uint8_t dpl, int ist,
			  uint16_t *ss, uint64_t *sp)
{
	struct x86_seg *tr = &cpu->tr;
	uint64_t off;

	if (cpu->efer & X86_EFER_LMA) {
		off = ist ? 36 + 8 * (ist - 1) : 4 + 8 * dpl;
		if (off + 7 > tr->limit)
			x86_raise(cpu, X86_TS, tr->sel & 0xfffc);
		*sp = x86_read_lin(cpu, tr->base + off, 8, X86_PV_SUP, true);
		*ss = dpl;
		return;
	}
	if (X86_SEG_TYPE(tr->attr) & 8) {
		off = 4 + 8 * dpl;
		if (off + 5 > tr->limit)
			x86_raise(cpu, X86_TS, tr->sel & 0xfffc);
		*sp = x86_read_lin(cpu, (uint32_t)(tr->base + off), 4,
				   X86_PV_SUP, true);
		*ss = (uint16_t)x86_read_lin(cpu, (uint32_t)(tr->base + off + 4),
					     2, X86_PV_SUP, true);
	} else {
		off = 2 + 4 * dpl;
		if (off + 3 > tr->limit)
			x86_raise(cpu, X86_TS, tr->sel & 0xfffc);
		*sp = x86_read_lin(cpu, (uint32_t)(tr->base + off), 2,
				   X86_PV_SUP, true);
		*ss = (uint16_t)x86_read_lin(cpu, (uint32_t)(tr->base + off + 2),
					     2, X86_PV_SUP, true);
	}
}

/* Check the SS named by the TSS for the inner level (#TS on failure). */
void x86_check_new_ss(struct x86_cpu *cpu, uint16_t ss, uint8_t dpl,
			     uint64_t *d)
{
	uint32_t attr;

	if (!(ss & 0xfffc))
		x86_raise(cpu, X86_TS, 0);
	x86_read_desc(cpu, ss, d, X86_TS);
	attr = (uint32_t)(*d >> 40);
	if ((ss & 3) != dpl || X86_SEG_DPL(attr) != dpl ||
	    (attr & 0x1a) != 0x12)
		x86_raise(cpu, X86_TS, ss & 0xfffc);
	if (!(attr & X86_SEG_P))
		x86_raise(cpu, X86_SS_VEC, ss & 0xfffc);
}

struct x86_frame {
	uint64_t base, sp, mask;	/* new stack */
	uint32_t limit, attr;		/* its segment, outside long mode */
	uint32_t err;			/* #SS error code on a limit fault */
	enum x86_pv pv;
	unsigned int size;		/* push size */
};

static void x86_frame_push(struct x86_cpu *cpu, struct x86_frame *f,
			   uint64_t val)
{
	uint64_t last;

	f->sp = (f->sp - f->size) & f->mask;
	last = f->sp + f->size - 1;
	/* each push is checked against the stack's limit (SDM 6.12.1) */
	if (f->mask != ~0ull) {
		bool down = (f->attr & 0xc) == 0x4;

		if (down ? f->sp <= f->limit || last > f->mask :
			   last > f->limit)
			x86_raise(cpu, X86_SS_VEC, f->err);
	}
	x86_write_lin(cpu, x86_wrap_la(cpu, f->base + f->sp), val, f->size,
		      f->pv, false);
}

/*
 * Through a task gate (SDM Vol. 3, 6.12.2): switch tasks, then push the
 * error code, if any, on the new task's stack.
 */
static void x86_deliver_task(struct x86_cpu *cpu, uint16_t tsel,
			     bool has_err, uint32_t err, uint64_t ret,
			     uint32_t ext)
{
	uint64_t d;

	if (tsel & 4)
		x86_raise(cpu, X86_TS, (tsel & 0xfffc) + ext);
	x86_read_desc(cpu, tsel, &d, X86_TS);
	x86_task_switch(cpu, tsel, d, X86_TASK_INT, ret);
	if (has_err)
		x86_push(cpu, err, (X86_SEG_TYPE(cpu->tr.attr) & 8) ? 4 : 2);
}

static void x86_deliver_prot(struct x86_cpu *cpu, int vec, bool has_err,
			     uint32_t err, bool soft, uint64_t ret)
{
	struct x86_cpu_priv *p = cpu->priv;
	bool lm = cpu->efer & X86_EFER_LMA;
	uint32_t ext = soft ? 0 : 1, attr;
	uint64_t cd, ssd = 0, old_sp = cpu->gpr[X86_RSP], rfl;
	struct x86_frame f;
	struct x86_gate g;
	uint8_t dpl, cpl = p->cpl;
	uint16_t new_ss = 0;
	bool inner;

	x86_read_gate(cpu, vec, soft, &g, ext);
	if (g.type == 0x5) {
		x86_deliver_task(cpu, g.sel, has_err, err, ret, ext);
		return;
	}
	if (!(g.sel & 0xfffc))
		x86_gp(cpu, ext);
	x86_read_desc(cpu, g.sel, &cd, X86_GP);
	attr = (uint32_t)(cd >> 40);
	dpl = X86_SEG_DPL(attr);
	if ((attr & 0x18) != 0x18 || dpl > cpl)
		x86_gp(cpu, (g.sel & 0xfffc) + ext);
	if (lm && (!(attr & X86_SEG_L) || (attr & X86_SEG_DB)))
		x86_gp(cpu, (g.sel & 0xfffc) + ext);
	if (!(attr & X86_SEG_P))
		x86_raise(cpu, X86_NP, (g.sel & 0xfffc) + ext);
	if (attr & 0x4)
		dpl = cpl;			/* conforming: stays at CPL */
	if (p->mode == X86_MODE_VM86 && dpl != 0)
		x86_gp(cpu, (g.sel & 0xfffc) + ext);
	inner = dpl < cpl;

	f.size = lm ? 8 : (g.type & 8) ? 4 : 2;
	f.pv = dpl == 3 ? X86_PV_USER : X86_PV_SUP;
	f.base = cpu->seg[X86_SS].base;
	f.sp = old_sp;
	f.mask = x86_mask(x86_stack_size(cpu));
	f.limit = cpu->seg[X86_SS].limit;
	f.attr = cpu->seg[X86_SS].attr;
	f.err = ext;
	if (inner || (lm && g.ist)) {
		x86_tss_stack(cpu, dpl, g.ist, &new_ss, &f.sp);
		if (!lm) {
			x86_check_new_ss(cpu, new_ss, dpl, &ssd);
			f.base = ((ssd >> 16) & 0xffffff) |
				 ((ssd >> 32) & 0xff000000);
			f.mask = (ssd & (1ull << 54)) ? 0xffffffff : 0xffff;
			f.limit = (uint32_t)((ssd & 0xffff) |
					     ((ssd >> 32) & 0xf0000));
			if (ssd & (1ull << 55))
				f.limit = (f.limit << 12) | 0xfff;
			f.attr = (uint32_t)(ssd >> 40);
			f.err = (new_ss & 0xfffc) + ext;
		} else {
			f.base = 0;
			if (!inner)
				new_ss = cpu->seg[X86_SS].sel;
		}
	}
	if (lm) {
		f.mask = ~0ull;
		f.base = 0;
		f.sp &= ~0xfull;		/* 6.14.2: 16-byte aligned */
	}
	if (p->mode == X86_MODE_VM86) {
		x86_frame_push(cpu, &f, cpu->seg[X86_GS].sel);
		x86_frame_push(cpu, &f, cpu->seg[X86_FS].sel);
		x86_frame_push(cpu, &f, cpu->seg[X86_DS].sel);
		x86_frame_push(cpu, &f, cpu->seg[X86_ES].sel);
	}
	if (inner || lm) {
		x86_frame_push(cpu, &f, cpu->seg[X86_SS].sel);
		x86_frame_push(cpu, &f, old_sp);
	}
	x86_frame_push(cpu, &f, cpu->rflags);
	x86_frame_push(cpu, &f, cpu->seg[X86_CS].sel);
	x86_frame_push(cpu, &f, ret);
	if (has_err)
		x86_frame_push(cpu, &f, err);

	/* all pushes done: commit */
	if (p->mode == X86_MODE_VM86) {
		int s;

		for (s = X86_ES; s <= X86_GS; s++)
			if (s != X86_CS && s != X86_SS)
				x86_null_seg(&cpu->seg[s], 0, 0);
	}
	if (inner && !lm) {
		x86_set_desc_accessed(cpu, new_ss);
		x86_desc_to_seg(ssd | (1ull << 40), new_ss, &cpu->seg[X86_SS]);
	} else if (inner) {
		x86_null_seg(&cpu->seg[X86_SS], dpl, dpl);
	}
	rfl = cpu->rflags & ~(X86_TF | X86_VM | X86_RF | X86_NT);
	if (!(g.type & 1))
		rfl &= ~X86_IF;			/* interrupt gate */
	cpu->rflags = rfl;
	x86_load_cs(cpu, g.sel, cd, dpl);
	if (f.size == 2 && !lm)
		cpu->gpr[X86_RSP] = (cpu->gpr[X86_RSP] & ~0xffffull) | f.sp;
	else if (f.mask == 0xffff)
		cpu->gpr[X86_RSP] = (cpu->gpr[X86_RSP] & ~0xffffull) | f.sp;
	else
		cpu->gpr[X86_RSP] = f.sp;
	cpu->rip = lm ? g.off : (g.type & 8) ? (uint32_t)g.off :
		   (uint16_t)g.off;
}

/*
 * Deliver vector vec now.  soft: INT n/INT3/INTO (gate DPL checked, EXT
 * clear).  ret is the RIP pushed.
 */
void x86_deliver(struct x86_cpu *cpu, int vec, bool has_err, uint32_t err,
		 bool soft, uint64_t ret)
{
	struct x86_cpu_priv *p = cpu->priv;

	if (p->mode == X86_MODE_REAL)
		x86_deliver_real(cpu, vec, ret);
	else
		x86_deliver_prot(cpu, vec, has_err, err, soft, ret);
	x86_update_mode(cpu);
	p->next_rip = cpu->rip;
	p->brk = true;
	p->delivered = true;
	cpu->ev.int_shadow = 0;
	cpu->halted = false;
}

/* Deliver what cpu->ev holds: an exception, then NMI, then an IRQ. */
void x86_deliver_pending(struct x86_cpu *cpu)
{
	struct x86_cpu_priv *p = cpu->priv;
	struct x86_events *ev = &cpu->ev;
	int vec;

	if (ev->exc_pending || ev->exc_injected) {
		ev->exc_pending = false;
		ev->exc_injected = true;
		vec = ev->exc_nr;
		p->delivering = vec;
		x86_deliver(cpu, vec, ev->exc_has_error, ev->exc_error, false,
			    cpu->rip);
		ev->exc_injected = false;
		if (vec == X86_DB)
			cpu->dr[7] &= ~(1ull << 13);
	} else if (ev->nmi_injected) {
		p->delivering = 256;
		x86_deliver(cpu, X86_NMI, false, 0, false, cpu->rip);
		ev->nmi_injected = false;
		ev->nmi_masked = true;
	} else if (ev->irq_injected) {
		p->delivering = 256;
		x86_deliver(cpu, ev->irq_nr, false, 0, false, cpu->rip);
		ev->irq_injected = false;
	}
	p->delivering = -1;
}

/* ------------------------------------------------------------------ IRET */

/* EFLAGS bits IRET/POPF may change at this CPL and IOPL (SDM Vol. 2). */
static uint64_t x86_iret_flags(struct x86_cpu *cpu, uint64_t nf,
			       unsigned int size)
{
	uint64_t keep = X86_VM | X86_VIF | X86_VIP, of = cpu->rflags;
	uint8_t cpl = cpu->priv->cpl;

	if (cpl > 0)
		keep |= X86_IOPL;
	if (cpl > X86_IOPL_OF(of))
		keep |= X86_IF;
	if (size == 2)
		keep |= ~0xffffull;
	nf = (nf & ~keep) | (of & keep);
	nf &= 0x3f7fd5;
	return nf | X86_FIXED1;
}

static void x86_iret_real(struct x86_cpu *cpu, unsigned int sz)
{
	uint64_t sp = cpu->gpr[X86_RSP], ip, cs, fl, keep;

	if (cpu->priv->mode == X86_MODE_VM86 && X86_IOPL_OF(cpu->rflags) < 3)
		x86_gp(cpu, 0);
	ip = x86_stack_read(cpu, sp, sz);
	cs = x86_stack_read(cpu, sp + sz, sz) & 0xffff;
	fl = x86_stack_read(cpu, sp + 2 * sz, sz);
	if (sz == 4 && ip > 0xffff && cpu->seg[X86_CS].limit <= 0xffff)
		x86_gp(cpu, 0);
	keep = X86_VM | X86_VIF | X86_VIP | (sz == 2 ? ~0xffffull : 0);
	if (cpu->priv->mode == X86_MODE_VM86)
		keep |= X86_IOPL;
	x86_set_sp(cpu, sp + 3 * sz);
	x86_load_seg_real(cpu, X86_CS, (uint16_t)cs);
	x86_set_rflags(cpu, ((fl & ~keep) | (cpu->rflags & keep)) & 0x3f7fd5);
	cpu->priv->next_rip = ip;
}

static void x86_iret_outer_segs(struct x86_cpu *cpu, uint8_t cpl)
{
	static const int segs[] = { X86_ES, X86_DS, X86_FS, X86_GS };
	unsigned int i;

	/* data segments the outer level may not use become null (5.8.6) */
	for (i = 0; i < 4; i++) {
		struct x86_seg *s = &cpu->seg[segs[i]];
		uint32_t t = X86_SEG_TYPE(s->attr);

		if (s->attr & X86_SEG_UNUSABLE)
			continue;
		if (((t & 8) == 0 || (t & 4) == 0) &&
		    X86_SEG_DPL(s->attr) < cpl)
			x86_null_seg(s, 0, 0);
	}
}

/*
 * IRET from CPL 0 with VM set in the popped EFLAGS (SDM Vol. 2, IRET,
 * RETURN-TO-VIRTUAL-8086-MODE): after EIP, CS and EFLAGS come ESP, SS,
 * ES, DS, FS and GS, every one a 32-bit slot; segments are loaded as in
 * real mode and CPL becomes 3.
 */
static void x86_iret_to_vm86(struct x86_cpu *cpu, uint64_t ip, uint16_t cs,
			     uint64_t fl)
{
	static const int segs[4] = { X86_ES, X86_DS, X86_FS, X86_GS };
	uint64_t sp = cpu->gpr[X86_RSP], nsp, v[4];
	uint16_t ss;
	int i;

	nsp = x86_stack_read(cpu, sp + 12, 4);
	ss = (uint16_t)x86_stack_read(cpu, sp + 16, 4);
	for (i = 0; i < 4; i++)
		v[i] = x86_stack_read(cpu, sp + 20 + 4 * i, 4);
	if (ip > 0xffff)
		x86_gp(cpu, 0);
	cpu->rflags = (fl & 0x3f7fd5) | X86_FIXED1;
	x86_update_mode(cpu);			/* now VM86: CPL 3 */
	x86_load_seg_real(cpu, X86_CS, cs);
	x86_load_seg_real(cpu, X86_SS, ss);
	for (i = 0; i < 4; i++)
		x86_load_seg_real(cpu, segs[i], (uint16_t)v[i]);
	cpu->gpr[X86_RSP] = (uint32_t)nsp;
	x86_update_mode(cpu);
	cpu->priv->next_rip = ip;
}

static void x86_iret_prot(struct x86_cpu *cpu, unsigned int sz)
{
	struct x86_cpu_priv *p = cpu->priv;
	bool lm = cpu->efer & X86_EFER_LMA;
	uint64_t sp = cpu->gpr[X86_RSP], ip, fl, nsp = 0, cd, sd = 0;
	uint16_t cs, ss = 0;
	uint8_t rpl, dpl;
	uint32_t attr;
	bool pop_ss;

	if (cpu->rflags & X86_NT) {
		if (lm)
			x86_gp(cpu, 0);
		x86_task_return(cpu, p->next_rip);
		return;
	}
	ip = x86_stack_read(cpu, sp, sz);
	cs = (uint16_t)x86_stack_read(cpu, sp + sz, sz);
	fl = x86_stack_read(cpu, sp + 2 * sz, sz);
	if (!lm && (fl & X86_VM) && p->cpl == 0 && sz == 4) {
		x86_iret_to_vm86(cpu, ip, cs, fl);
		return;
	}
	if (!(cs & 0xfffc))
		x86_gp(cpu, 0);
	x86_read_desc(cpu, cs, &cd, X86_GP);
	attr = (uint32_t)(cd >> 40);
	rpl = cs & 3;
	dpl = X86_SEG_DPL(attr);
	if ((attr & 0x18) != 0x18 || rpl < p->cpl ||
	    ((attr & 4) ? dpl > rpl : dpl != rpl))
		x86_gp(cpu, cs & 0xfffc);
	if (!(attr & X86_SEG_P))
		x86_raise(cpu, X86_NP, cs & 0xfffc);
	pop_ss = rpl > p->cpl || p->mode == X86_MODE_LONG64;
	if (pop_ss) {
		nsp = x86_stack_read(cpu, sp + 3 * sz, sz);
		ss = (uint16_t)x86_stack_read(cpu, sp + 4 * sz, sz);
		if (ss & 0xfffc) {
			x86_read_desc(cpu, ss, &sd, X86_GP);
			if ((ss & 3) != rpl || X86_SEG_DPL(sd >> 40) != rpl ||
			    ((sd >> 40) & 0x1a) != 0x12)
				x86_gp(cpu, ss & 0xfffc);
			if (!((sd >> 40) & X86_SEG_P))
				x86_raise(cpu, X86_SS_VEC, ss & 0xfffc);
		} else if (!(lm && (attr & X86_SEG_L) && rpl < 3)) {
			x86_gp(cpu, 0);
		}
	}
	fl = x86_iret_flags(cpu, fl, sz);
	cpu->rflags = fl;
	x86_load_cs(cpu, cs, cd, rpl);
	if (pop_ss) {
		if (ss & 0xfffc) {
			x86_set_desc_accessed(cpu, ss);
			x86_desc_to_seg(sd | (1ull << 40), ss, &cpu->seg[X86_SS]);
		} else {
			x86_null_seg(&cpu->seg[X86_SS], ss, rpl);
		}
		if (sz == 2)
			cpu->gpr[X86_RSP] = (cpu->gpr[X86_RSP] & ~0xffffull) |
					    (nsp & 0xffff);
		else
			cpu->gpr[X86_RSP] = nsp;
	} else {
		x86_set_sp(cpu, sp + 3 * sz);
	}
	x86_update_mode(cpu);
	p->cpl = rpl;
	if (pop_ss && rpl > 0)
		x86_iret_outer_segs(cpu, rpl);
	p->next_rip = sz == 8 ? ip : ip & x86_mask(sz);
}

void x86_iret(struct x86_cpu *cpu, const struct x86_insn *in)
{
	struct x86_cpu_priv *p = cpu->priv;

	cpu->ev.nmi_masked = false;
	if (p->mode == X86_MODE_REAL || p->mode == X86_MODE_VM86)
		x86_iret_real(cpu, in->opsz);
	else
		x86_iret_prot(cpu, in->opsz);
	x86_update_mode(cpu);
	p->brk = true;
}
