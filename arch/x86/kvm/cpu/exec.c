// SPDX-License-Identifier: MIT
/*
 * exec.c - the run loop: fetch a decoded block for RIP, run its handlers,
 * take events at block boundaries, and leave on exits.
 *
 * Exits and exceptions raised deep inside a handler longjmp() back here;
 * setjmp() runs once per x86_cpu_run() call, not per instruction.
 */
#include <errno.h>
#include <stdlib.h>

#include "cpu_priv.h"

/* ------------------------------------------------------------ lifetime */

int x86_cpu_init(struct x86_cpu *cpu, const struct x86_cpu_ops *ops,
		 void *opaque)
{
	struct x86_cpu_priv *p;

	memset(cpu, 0, sizeof(*cpu));
	cpu->ops = ops;
	cpu->opaque = opaque;
	p = calloc(1, sizeof(*p));
	if (!p)
		goto err;
	p->arena = malloc(X86_ARENA_SIZE);
	p->one = malloc(sizeof(*p->one) + sizeof(struct x86_insn));
	if (!p->arena || !p->one)
		goto err_free;
	cpu->priv = p;
	p->delivering = -1;
	cpu->smbase = 0x30000;		/* power-on; INIT keeps it */
	x86_handlers_init();
	x86_decode_init(cpu);
	x86_cpu_reset(cpu);
	return 0;
err_free:
	free(p->arena);
	free(p->one);
	free(p);
err:
	return -ENOMEM;
}

void x86_cpu_destroy(struct x86_cpu *cpu)
{
	struct x86_cpu_priv *p = cpu->priv;

	if (!p)
		return;
	free(p->arena);
	free(p->one);
	free(p);
	cpu->priv = NULL;
}

static void x86_seg_reset(struct x86_seg *s, uint16_t sel, uint64_t base,
			  uint32_t type)
{
	s->sel = sel;
	s->base = base;
	s->limit = 0xffff;
	s->attr = type | X86_SEG_S | X86_SEG_P;
}

/* Intel SDM Vol. 3, 10.1.1, Table 10-1 */
void x86_cpu_reset(struct x86_cpu *cpu)
{
	int i;

	memset(cpu->gpr, 0, sizeof(cpu->gpr));
	cpu->gpr[X86_RDX] = 0x600;	/* family 6 stepping */
	cpu->rip = 0xfff0;
	cpu->rflags = X86_FIXED1;
	for (i = 0; i < 6; i++)
		x86_seg_reset(&cpu->seg[i], 0, 0, 3);
	x86_seg_reset(&cpu->seg[X86_CS], 0xf000, 0xffff0000, 0xb);
	cpu->ldtr = (struct x86_seg){ .limit = 0xffff, .attr = 2 | X86_SEG_P };
	cpu->tr = (struct x86_seg){ .limit = 0xffff, .attr = 0xb | X86_SEG_P };
	cpu->gdtr = (struct x86_dtable){ 0, 0xffff };
	cpu->idtr = (struct x86_dtable){ 0, 0xffff };
	cpu->cr0 = X86_CR0_ET | X86_CR0_NW | X86_CR0_CD;
	cpu->cr2 = cpu->cr3 = cpu->cr4 = cpu->cr8 = 0;
	cpu->efer = 0;
	cpu->xcr0 = 1;
	memset(cpu->dr, 0, sizeof(cpu->dr));
	cpu->dr[6] = 0xffff0ff0;
	cpu->dr[7] = 0x400;
	cpu->star = cpu->lstar = cpu->cstar = cpu->sfmask = 0;
	cpu->kernel_gs_base = 0;
	cpu->sysenter_cs = cpu->sysenter_esp = cpu->sysenter_eip = 0;
	cpu->tsc_aux = 0;
	cpu->pat = 0x0007040600070406ull;
	cpu->apic_base = 0xfee00000 | (1u << 11) | (1u << 8);
	memset(&cpu->fx, 0, sizeof(cpu->fx));
	cpu->fx.fcw = 0x37f;
	cpu->fx.mxcsr = 0x1f80;
	cpu->fx.mxcsr_mask = 0xffbf;
	memset(&cpu->ev, 0, sizeof(cpu->ev));
	cpu->smi_count = 0;
	cpu->halted = false;
	x86_cpu_state_changed(cpu);
}

void x86_cpu_state_changed(struct x86_cpu *cpu)
{
	struct x86_cpu_priv *p = cpu->priv;

	x86_update_mode(cpu);
	x86_paging_changed(cpu);
	p->flush_blocks = true;
}

/* ------------------------------------------------------------- exits */

X86_NORETURN void x86_exit(struct x86_cpu *cpu, enum x86_exit_reason r)
{
	cpu->exit.reason = r;
	longjmp(cpu->priv->jb, 1);
}

X86_NORETURN void x86_internal_error(struct x86_cpu *cpu, uint32_t suberror)
{
	cpu->exit.internal.suberror = suberror;
	cpu->exit.internal.insn_len = 0;
	x86_exit(cpu, X86_EXIT_INTERNAL);
}

/*
 * A valid instruction the engine does not execute yet: report it as KVM
 * reports an emulation failure (KVM_INTERNAL_ERROR_EMULATION = 1), with
 * its bytes, so the gap is visible rather than silently wrong.
 */
X86_NORETURN void x86_unimplemented(struct x86_cpu *cpu,
				    const struct x86_insn *in)
{
	cpu->exit.internal.suberror = 1;
	cpu->exit.internal.insn_len = in->len;
	memcpy(cpu->exit.internal.insn, in->bytes, in->len);
	x86_exit(cpu, X86_EXIT_INTERNAL);
}

/* ------------------------------------------------------------- blocks */

/* Checks made between blocks, never per instruction. */
static void x86_block_boundary(struct x86_cpu *cpu)
{
	struct x86_cpu_priv *p = cpu->priv;
	uint64_t g;

	g = cpu->ops->generation ? cpu->ops->generation(cpu) : 0;
	if (unlikely(g != p->seen_generation)) {
		p->seen_generation = g;
		x86_tlb_flush(cpu, false);
		p->flush_blocks = true;
	}
	g = x86_code_reg_gen();
	if (unlikely(g != p->seen_code_reg)) {
		/* another page now holds code: no direct writes to it */
		p->seen_code_reg = g;
		x86_tlb_flush_writes(cpu);
	}
	g = x86_code_inval_gen();
	if (unlikely(g != p->seen_code_inval)) {
		p->seen_code_inval = g;
		p->flush_blocks = true;
	}
	if (unlikely(p->flush_blocks)) {
		p->flush_blocks = false;
		x86_blocks_flush(cpu);
	}
	x86_dbg_update(cpu);
}

static void x86_exec_insn(struct x86_cpu *cpu, const struct x86_insn *in)
{
	struct x86_cpu_priv *p = cpu->priv;

	p->next_rip = (cpu->rip + in->len) & p->ipmask;
	p->brk = false;
	in->fn(cpu, in);
	cpu->rip = p->next_rip;
}

/*
 * Run a block.  Returns true when it ended as plain code does (its last
 * instruction, or a branch), false when an instruction asked for the
 * checks of a block boundary (p->brk).
 */
static bool x86_exec_block(struct x86_cpu *cpu, const struct x86_block *b)
{
	struct x86_cpu_priv *p = cpu->priv;
	const struct x86_insn *in = b->insn, *end = b->insn + b->n;
	uint64_t next;

	for (; in < end; in++) {
		next = (cpu->rip + in->len) & p->ipmask;
		p->next_rip = next;
		in->fn(cpu, in);
		cpu->rip = p->next_rip;
		if (unlikely(p->brk)) {
			p->brk = false;
			return false;
		}
		if (next != cpu->rip)
			break;
	}
	return true;
}

/* A linked successor of b for the current RIP, or NULL. */
static struct x86_block *x86_chain_next(struct x86_cpu *cpu,
					struct x86_block *b)
{
	if (b->link_epoch != cpu->priv->chain_epoch)
		return NULL;
	if (b->link_rip[0] == cpu->rip)
		return b->link[0];
	if (b->link_rip[1] == cpu->rip)
		return b->link[1];
	return NULL;
}

static void x86_chain_link(struct x86_cpu *cpu, struct x86_block *from,
			   struct x86_block *to)
{
	uint64_t epoch = cpu->priv->chain_epoch;
	int slot;

	if (from->link_epoch != epoch) {
		from->link_epoch = epoch;
		from->link[0] = from->link[1] = NULL;
	}
	slot = from->link[0] ? 1 : 0;
	from->link[slot] = to;
	from->link_rip[slot] = cpu->rip;
}

/* The whole instruction within CS.limit, outside 64-bit mode (#GP(0)). */
static void x86_fetch_limit(struct x86_cpu *cpu, const struct x86_insn *in)
{
	if (cpu->priv->mode != X86_MODE_LONG64 &&
	    cpu->rip + in->len - 1 > cpu->seg[X86_CS].limit)
		x86_gp(cpu, 0);
}

/* Execute exactly one instruction (after a shadow or an MMIO/IO exit). */
static void x86_exec_one(struct x86_cpu *cpu)
{
	const struct x86_block *b;
	bool cached;

	b = x86_block_get(cpu, &cached);
	x86_fetch_limit(cpu, &b->insn[0]);
	x86_exec_insn(cpu, &b->insn[0]);
	x86_mmio_retire(cpu);
}

/*
 * One instruction with the debug checks around it (debug.c): an
 * instruction breakpoint before (not when re-executing after an MMIO or
 * I/O exit), data/I-O breakpoints and single-step after.  EFLAGS.RF is
 * cleared once an instruction completes, except by IRET, which loads it.
 */
static void x86_exec_debug(struct x86_cpu *cpu)
{
	struct x86_cpu_priv *p = cpu->priv;
	bool tf = cpu->rflags & X86_TF, cached;
	uint8_t shadow = cpu->ev.int_shadow;
	const struct x86_block *b;
	const struct x86_insn *in;

	if (!p->mmio_n && p->io_state != 2)
		x86_dbg_insn_bp(cpu);
	p->delivered = false;
	p->dbg_hits = 0;
	p->keep_rf = false;
	b = x86_block_get(cpu, &cached);
	in = &b->insn[0];
	x86_fetch_limit(cpu, in);
	x86_exec_insn(cpu, in);
	x86_mmio_retire(cpu);
	if (!p->keep_rf && in->mnem != ZYDIS_MNEMONIC_IRET &&
	    in->mnem != ZYDIS_MNEMONIC_IRETD &&
	    in->mnem != ZYDIS_MNEMONIC_IRETQ)
		cpu->rflags &= ~X86_RF;
	if ((cpu->ev.int_shadow & X86_SHADOW_MOV_SS) &&
	    !(shadow & X86_SHADOW_MOV_SS) && !p->delivered) {
		/*
		 * MOV SS or POP SS: its debug traps wait for the end of the
		 * next instruction (SDM Vol. 3, 6.8.3).
		 */
		p->dbg_held_hits = p->dbg_hits;
		p->dbg_held_bs = tf;
		return;
	}
	p->dbg_hits |= p->dbg_held_hits;
	tf = tf || p->dbg_held_bs;
	p->dbg_held_hits = 0;
	p->dbg_held_bs = false;
	x86_dbg_after(cpu, tf);
}

static bool x86_irq_deliverable(struct x86_cpu *cpu)
{
	return (cpu->rflags & X86_IF) && !cpu->ev.int_shadow;
}

/* Events at an instruction boundary (Intel SDM Vol. 3, 7.9: priority). */
static bool x86_take_events(struct x86_cpu *cpu)
{
	struct x86_events *ev = &cpu->ev;
	int v;

	if (ev->exc_pending || ev->exc_injected || ev->irq_injected ||
	    ev->nmi_injected) {
		x86_deliver_pending(cpu);
		return true;
	}
	if (unlikely(ev->smi_pending) && !ev->smm) {
		x86_smm_enter(cpu);
		return true;
	}
	if (ev->nmi_pending && !ev->nmi_masked &&
	    !(ev->int_shadow & X86_SHADOW_MOV_SS)) {
		ev->nmi_pending = false;
		ev->nmi_injected = true;
		x86_deliver_pending(cpu);
		return true;
	}
	if (!x86_irq_deliverable(cpu) || !cpu->ops->pending_irq)
		return false;
	if (cpu->ops->pending_irq(cpu, false) < 0)
		return false;
	v = cpu->ops->pending_irq(cpu, true);
	if (v < 0)
		return false;
	ev->irq_injected = true;
	ev->irq_nr = (uint8_t)v;
	x86_deliver_pending(cpu);
	return true;
}

static bool x86_wake(struct x86_cpu *cpu)
{
	struct x86_events *ev = &cpu->ev;

	if (ev->exc_pending || ev->exc_injected || ev->irq_injected ||
	    ev->nmi_injected || (ev->nmi_pending && !ev->nmi_masked) ||
	    (ev->smi_pending && !ev->smm))
		return true;
	return (cpu->rflags & X86_IF) && cpu->ops->pending_irq &&
	       cpu->ops->pending_irq(cpu, false) >= 0;
}

/*
 * Blocks run back to back through their links for at most this many
 * blocks before the loop looks at events, kicks and generations again;
 * anything that needs those sooner (STI, POPF, MOV SS, CR and mode
 * changes, writes to code, exceptions) ends its block with p->brk.
 */
#define X86_CHAIN_MAX	64

static void x86_run_loop(struct x86_cpu *cpu)
{
	struct x86_cpu_priv *p = cpu->priv;
	struct x86_block *b, *prev = NULL, *nb;
	uint64_t prev_epoch = 0;
	bool cached;
	int n;

	/* finish an instruction interrupted by an MMIO or I/O exit first */
	if (p->mmio_n || p->io_state == 2) {
		x86_dbg_update(cpu);
		if (p->dbg_mode)
			x86_exec_debug(cpu);
		else
			x86_exec_one(cpu);
	}
	for (;;) {
		x86_block_boundary(cpu);
		if (cpu->ops->kicked && cpu->ops->kicked(cpu))
			x86_exit(cpu, X86_EXIT_KICK);
		if (x86_take_events(cpu))
			continue;
		if (cpu->ev.int_shadow) {
			/* the shadow covers exactly one instruction */
			if (p->dbg_mode)
				x86_exec_debug(cpu);
			else
				x86_exec_one(cpu);
			cpu->ev.int_shadow = 0;
			continue;
		}
		if (cpu->req_irq_window && x86_irq_deliverable(cpu))
			x86_exit(cpu, X86_EXIT_IRQ_WINDOW);
		if (unlikely(p->dbg_mode)) {
			x86_exec_debug(cpu);
			prev = NULL;
			continue;
		}
		b = x86_block_get(cpu, &cached);
		if (unlikely(!cached)) {
			x86_exec_one(cpu);
			prev = NULL;
			continue;
		}
		/*
		 * prev is gone if the cache was flushed since (a boundary,
		 * or x86_block_get() finding the arena full): its memory may
		 * now hold b itself.  Any flush bumps the chain epoch.
		 */
		if (prev && prev_epoch == p->chain_epoch)
			x86_chain_link(cpu, prev, b);
		prev = NULL;
		for (n = 0; x86_exec_block(cpu, b); n++) {
			nb = x86_chain_next(cpu, b);
			if (!nb || n >= X86_CHAIN_MAX) {
				prev = b;	/* link it to what comes next */
				prev_epoch = p->chain_epoch;
				break;
			}
			b = nb;
		}
	}
}

/* ------------------------------------------------------- completions */

/*
 * Finish the instruction an IO or MMIO exit left, now that its data is
 * there: KVM completes the pending access before KVM_RUN looks at
 * immediate_exit, so the registers read after the completion show the
 * instruction retired (or, for a REP string I/O batch, stepped).  Exactly
 * that instruction runs; no event is taken.  An exit it reaches (the next
 * MMIO fragment, a debug exit) is held and returned by the next
 * x86_cpu_run() without executing anything; an exception it raises is
 * pending, delivered by the next run.
 */
static void x86_finish_insn(struct x86_cpu *cpu)
{
	struct x86_cpu_priv *p = cpu->priv;
	uint8_t shadow = cpu->ev.int_shadow;

	cpu->exit.reason = X86_EXIT_NONE;
	p->mmio_pos = 0;
	p->held_exit = false;
	if (setjmp(p->jb)) {
		x86_guard_leave();
		x86_unlock_global_if_held();
		p->mmio_pos = 0;
		p->delivering = -1;
		p->in_run = false;
		if (cpu->exit.reason != X86_EXIT_NONE) {
			p->held_exit = true;
			p->held_rip = cpu->rip;
		}
		return;
	}
	x86_guard_enter(cpu, &p->jb, true);
	p->in_run = true;
	x86_dbg_update(cpu);
	if (p->dbg_mode)
		x86_exec_debug(cpu);
	else
		x86_exec_one(cpu);
	p->in_run = false;
	x86_guard_leave();
	if (shadow)
		cpu->ev.int_shadow = 0;	/* it covered this instruction */
}

void x86_cpu_complete_io(struct x86_cpu *cpu)
{
	struct x86_cpu_priv *p = cpu->priv;

	if (p->io_state != 1 || p->io_rip != cpu->rip)
		return;
	p->io_state = 2;
	x86_finish_insn(cpu);
}

void x86_cpu_complete_mmio(struct x86_cpu *cpu, const uint8_t data[8])
{
	struct x86_cpu_priv *p = cpu->priv;
	struct x86_mmio_frag *f;

	if (!p->mmio_wait || p->mmio_n >= X86_MMIO_LOG)
		return;
	p->mmio_wait = false;
	if (p->mmio_rip != cpu->rip) {
		p->mmio_n = 0;
		return;
	}
	f = &p->mmio[p->mmio_n++];
	f->gpa = cpu->exit.mmio.gpa;
	f->len = cpu->exit.mmio.len;
	f->write = cpu->exit.mmio.write;
	if (f->write)
		memcpy(f->data, cpu->exit.mmio.data, 8);
	else
		memcpy(f->data, data, 8);
	x86_finish_insn(cpu);
}

void x86_cpu_complete_msr(struct x86_cpu *cpu, bool error, uint64_t data)
{
	struct x86_cpu_priv *p = cpu->priv;

	if (p->msr_state != 1 || p->msr_rip != cpu->rip)
		return;
	p->msr_state = 2;
	p->msr_error = error;
	p->msr_data = data;
	x86_finish_insn(cpu);
}

enum x86_exit_reason x86_cpu_run(struct x86_cpu *cpu)
{
	struct x86_cpu_priv *p = cpu->priv;

	if (p->held_exit) {
		p->held_exit = false;
		if (p->held_rip == cpu->rip)
			return cpu->exit.reason;
	}
	cpu->exit.reason = X86_EXIT_NONE;
	p->mmio_pos = 0;
	if (p->mmio_n && p->mmio_rip != cpu->rip)
		p->mmio_n = 0;
	if (p->io_state && p->io_rip != cpu->rip)
		p->io_state = 0;
	if (p->msr_state && p->msr_rip != cpu->rip)
		p->msr_state = 0;
	if (cpu->halted) {
		if (!x86_wake(cpu))
			return cpu->exit.reason = X86_EXIT_HLT;
		cpu->halted = false;
	}
	if (setjmp(p->jb)) {
		/* an exception was raised: deliver it and go on */
		x86_unlock_global_if_held();
		p->mmio_pos = 0;
		p->delivering = -1;
		if (cpu->exit.reason != X86_EXIT_NONE) {
			x86_guard_leave();
			p->in_run = false;
			return cpu->exit.reason;
		}
	}
	x86_guard_enter(cpu, &p->jb, true);
	p->in_run = true;
	x86_run_loop(cpu);
	return cpu->exit.reason;
}
