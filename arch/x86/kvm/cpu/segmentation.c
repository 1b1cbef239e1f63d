// SPDX-License-Identifier: MIT
/*
 * segmentation.c - operating modes, logical-to-linear translation with
 * limit and type checks, and segment register loads (Intel SDM Vol. 3,
 * chapters 3 and 5).
 */
#include "cpu_priv.h"

/* ---------------------------------------------------------------- mode */

void x86_update_mode(struct x86_cpu *cpu)
{
	struct x86_cpu_priv *p = cpu->priv;
	uint32_t cs = cpu->seg[X86_CS].attr;

	x86_chain_break(cpu);

	if (!(cpu->cr0 & X86_CR0_PE))
		p->mode = X86_MODE_REAL;
	else if (cpu->rflags & X86_VM)
		p->mode = X86_MODE_VM86;
	else if (cpu->efer & X86_EFER_LMA)
		p->mode = (cs & X86_SEG_L) ? X86_MODE_LONG64 :
			  (cs & X86_SEG_DB) ? X86_MODE_COMPAT32 :
			  X86_MODE_COMPAT16;
	else
		p->mode = (cs & X86_SEG_DB) ? X86_MODE_PROT32 :
			  X86_MODE_PROT16;

	switch (p->mode) {
	case X86_MODE_LONG64:
		p->dmode = X86_DM_64;
		p->ipmask = ~0ull;
		break;
	case X86_MODE_PROT32:
	case X86_MODE_COMPAT32:
		p->dmode = X86_DM_32;
		p->ipmask = 0xffffffffull;
		break;
	case X86_MODE_PROT16:
	case X86_MODE_COMPAT16:
		p->dmode = X86_DM_16;
		p->ipmask = 0xffff;
		break;
	default:
		/* real mode honours CS.D: 32-bit "big real" code exists */
		p->dmode = (cs & X86_SEG_DB) && p->mode == X86_MODE_REAL ?
			   X86_DM_32 : X86_DM_REAL;
		p->ipmask = p->dmode == X86_DM_32 ? 0xffffffffull : 0xffff;
		break;
	}
	if (p->mode == X86_MODE_REAL)
		p->cpl = 0;
	else if (p->mode == X86_MODE_VM86)
		p->cpl = 3;
	else
		p->cpl = X86_SEG_DPL(cpu->seg[X86_SS].attr);
}

bool x86_canonical(uint64_t la)
{
	return (uint64_t)((int64_t)(la << 16) >> 16) == la;
}

/* ------------------------------------------------ logical -> linear */

X86_NORETURN static void x86_seg_fault(struct x86_cpu *cpu, int seg)
{
	x86_raise(cpu, seg == X86_SS ? X86_SS_VEC : X86_GP, 0);
}

static void x86_seg_check_type(struct x86_cpu *cpu, int seg,
			       const struct x86_seg *s, enum x86_acc acc)
{
	uint32_t type = X86_SEG_TYPE(s->attr);

	if (s->attr & X86_SEG_UNUSABLE)
		x86_seg_fault(cpu, seg);
	if (acc == X86_ACC_W && (type & 0xa) != 0x2)
		x86_seg_fault(cpu, seg);	/* code, or read-only data */
	if (acc == X86_ACC_R && (type & 0xa) == 0x8)
		x86_seg_fault(cpu, seg);	/* execute-only code */
}

static void x86_seg_check_limit(struct x86_cpu *cpu, int seg,
				const struct x86_seg *s, uint64_t off,
				unsigned int size)
{
	uint64_t last = off + size - 1;
	uint32_t type = X86_SEG_TYPE(s->attr);

	if ((type & 0xc) == 0x4 && (s->attr & X86_SEG_S)) {
		/* expand-down data: valid offsets lie above the limit */
		uint64_t upper = (s->attr & X86_SEG_DB) ? 0xffffffffull :
			0xffffull;

		if (off <= s->limit || last > upper)
			x86_seg_fault(cpu, seg);
		return;
	}
	if (last > s->limit)
		x86_seg_fault(cpu, seg);
}

uint64_t x86_seg_la(struct x86_cpu *cpu, int seg, uint64_t off,
		    unsigned int size, enum x86_acc acc)
{
	struct x86_cpu_priv *p = cpu->priv;
	const struct x86_seg *s = &cpu->seg[seg];
	uint64_t la;

	if (likely(p->mode == X86_MODE_LONG64)) {
		la = seg >= X86_FS ? s->base + off : off;
		if (unlikely(!x86_canonical(la)))
			x86_seg_fault(cpu, seg);
		return la;
	}
	if (p->mode != X86_MODE_REAL && p->mode != X86_MODE_VM86 &&
	    acc != X86_ACC_X)
		x86_seg_check_type(cpu, seg, s, acc);
	x86_seg_check_limit(cpu, seg, s, off, size);
	return (uint32_t)(s->base + off);
}

/* --------------------------------------------------------- descriptors */

void x86_desc_to_seg(uint64_t d, uint16_t sel, struct x86_seg *s)
{
	s->sel = sel;
	s->base = ((d >> 16) & 0xffffff) | ((d >> 32) & 0xff000000);
	s->limit = (uint32_t)((d & 0xffff) | ((d >> 32) & 0xf0000));
	s->attr = (uint32_t)(d >> 40) & 0xf0ff;
	if (s->attr & X86_SEG_G)
		s->limit = (s->limit << 12) | 0xfff;
}

void x86_null_seg(struct x86_seg *s, uint16_t sel, uint8_t dpl)
{
	s->sel = sel;
	s->base = 0;
	s->limit = 0;
	s->attr = X86_SEG_UNUSABLE | ((uint32_t)dpl << 5);
}

/*
 * Read the descriptor for sel from the GDT or LDT; a selector beyond the
 * table limit raises vec with the selector as error code (SDM Vol. 3,
 * 3.4.2 and 6.13).
 */
void x86_read_desc(struct x86_cpu *cpu, uint16_t sel, uint64_t *desc, int vec)
{
	uint64_t base, limit;

	if (sel & 4) {
		if (cpu->ldtr.attr & X86_SEG_UNUSABLE)
			x86_raise(cpu, vec, sel & 0xfffc);
		base = cpu->ldtr.base;
		limit = cpu->ldtr.limit;
	} else {
		base = cpu->gdtr.base;
		limit = cpu->gdtr.limit;
	}
	if ((uint64_t)(sel & ~7) + 7 > limit)
		x86_raise(cpu, vec, sel & 0xfffc);
	*desc = x86_read_lin(cpu, x86_wrap_la(cpu, base + (sel & ~7)), 8,
			     X86_PV_SUP, true);
}

/* Upper half of a 16-byte system descriptor in long mode. */
uint64_t x86_desc_base64(struct x86_cpu *cpu, uint16_t sel, uint64_t d)
{
	uint64_t base = cpu->gdtr.base, hi;

	if (sel & 4)
		base = cpu->ldtr.base;
	hi = x86_read_lin(cpu, base + (sel & ~7) + 8, 8, X86_PV_SUP, true);
	return (((d >> 16) & 0xffffff) | ((d >> 32) & 0xff000000)) |
	       (hi << 32);
}

/* The processor sets the accessed bit when it loads a descriptor. */
void x86_set_desc_accessed(struct x86_cpu *cpu, uint16_t sel)
{
	uint64_t base = (sel & 4) ? cpu->ldtr.base : cpu->gdtr.base;
	uint64_t la = x86_wrap_la(cpu, base + (sel & ~7) + 5);
	uint8_t b = (uint8_t)x86_read_lin(cpu, la, 1, X86_PV_SUP, true);

	if (!(b & 1))
		x86_write_lin(cpu, la, b | 1, 1, X86_PV_SUP, true);
}

void x86_load_seg_real(struct x86_cpu *cpu, int seg, uint16_t sel)
{
	struct x86_seg *s = &cpu->seg[seg];

	s->sel = sel;
	s->base = (uint64_t)sel << 4;
	if (cpu->priv->mode == X86_MODE_VM86) {
		s->limit = 0xffff;
		s->attr = 0xf3 | (seg == X86_CS ? 0x8 : 0);
		return;
	}
	/* real mode keeps the hidden limit and attributes (unreal mode) */
	if (s->attr & X86_SEG_UNUSABLE)
		s->attr = 0x93;
	s->attr |= X86_SEG_P | X86_SEG_S;
}

static void x86_load_ss(struct x86_cpu *cpu, uint16_t sel, uint64_t d)
{
	uint8_t cpl = cpu->priv->cpl;
	uint32_t attr = (uint32_t)(d >> 40);

	if ((sel & 3) != cpl || X86_SEG_DPL(attr) != cpl ||
	    (attr & 0x1a) != 0x12)
		x86_gp(cpu, sel & 0xfffc);
	if (!(attr & X86_SEG_P))
		x86_raise(cpu, X86_SS_VEC, sel & 0xfffc);
}

static void x86_load_data_seg(struct x86_cpu *cpu, uint16_t sel, uint64_t d)
{
	uint8_t cpl = cpu->priv->cpl, dpl;
	uint32_t attr = (uint32_t)(d >> 40);

	dpl = X86_SEG_DPL(attr);
	if (!(attr & X86_SEG_S) || (attr & 0xa) == 0x8)
		x86_gp(cpu, sel & 0xfffc);
	/* data and non-conforming code: DPL >= CPL and RPL */
	if ((attr & 0xc) != 0xc && (dpl < cpl || dpl < (sel & 3)))
		x86_gp(cpu, sel & 0xfffc);
	if (!(attr & X86_SEG_P))
		x86_raise(cpu, X86_NP, sel & 0xfffc);
}

/* MOV/POP/LDS... to a data or stack segment register (SDM Vol. 2, MOV). */
void x86_load_seg(struct x86_cpu *cpu, int seg, uint16_t sel)
{
	struct x86_cpu_priv *p = cpu->priv;
	uint64_t d;

	if (p->mode == X86_MODE_REAL || p->mode == X86_MODE_VM86) {
		x86_load_seg_real(cpu, seg, sel);
		return;
	}
	if (!(sel & 0xfffc)) {
		/* 64-bit mode allows a null SS below CPL 3 */
		if (seg == X86_SS && !(p->mode == X86_MODE_LONG64 &&
				       p->cpl < 3 && (sel & 3) == p->cpl))
			x86_gp(cpu, 0);
		x86_null_seg(&cpu->seg[seg], sel,
			     seg == X86_SS ? p->cpl : 0);
		return;
	}
	x86_read_desc(cpu, sel, &d, X86_GP);
	if (seg == X86_SS)
		x86_load_ss(cpu, sel, d);
	else
		x86_load_data_seg(cpu, sel, d);
	x86_set_desc_accessed(cpu, sel);
	x86_desc_to_seg(d | (1ull << 40), sel, &cpu->seg[seg]);
}

/* Load CS from a checked descriptor at privilege level cpl. */
void x86_load_cs(struct x86_cpu *cpu, uint16_t sel, uint64_t d, uint8_t cpl)
{
	struct x86_seg *cs = &cpu->seg[X86_CS];

	x86_desc_to_seg(d | (1ull << 40), (uint16_t)((sel & ~3) | cpl), cs);
	if ((cpu->efer & X86_EFER_LMA) && (cs->attr & X86_SEG_L))
		cs->base = 0;
	x86_update_mode(cpu);
	cpu->priv->cpl = cpl;
	cpu->priv->brk = true;
}
