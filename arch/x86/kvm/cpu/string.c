// SPDX-License-Identifier: MIT
/*
 * string.c - MOVS, CMPS, SCAS, LODS, STOS with REP/REPE/REPNE in every
 * address size (Intel SDM Vol. 1, 7.3.9; Vol. 2, REP).
 *
 * Each iteration commits its register updates, as hardware does, so a
 * fault or MMIO exit in iteration k resumes at iteration k.  After a
 * bounded number of iterations the instruction yields (RIP stays on it)
 * so kicks and interrupts are not held off by a long REP.
 */
#include "host_alu.h"

#define X86_REP_BATCH	4096

X86_HOST_BIN_NF(cmp_s, "cmp")

enum x86_str { X86_MOVS, X86_CMPS, X86_SCAS, X86_LODS, X86_STOS };

static uint64_t x86_str_reg(struct x86_cpu *cpu, int r, unsigned int as)
{
	return cpu->gpr[r] & x86_mask(as);
}

static void x86_str_step(struct x86_cpu *cpu, int r, unsigned int as,
			 unsigned int sz)
{
	int64_t d = (cpu->rflags & X86_DF) ? -(int64_t)sz : (int64_t)sz;

	x86_gpr_set(cpu, r, as, cpu->gpr[r] + (uint64_t)d);
}

/* One element; returns false when REPE/REPNE stops on ZF. */
static void x86_str_one(struct x86_cpu *cpu, const struct x86_insn *in,
			enum x86_str k, unsigned int sz)
{
	unsigned int as = in->adsz;
	uint64_t si = x86_str_reg(cpu, X86_RSI, as);
	uint64_t di = x86_str_reg(cpu, X86_RDI, as), a, b, f;

	switch (k) {
	case X86_MOVS:
		a = x86_read(cpu, in->seg, si, sz);
		x86_write(cpu, X86_ES, di, a, sz);
		x86_str_step(cpu, X86_RSI, as, sz);
		x86_str_step(cpu, X86_RDI, as, sz);
		break;
	case X86_CMPS:
		a = x86_read(cpu, in->seg, si, sz);
		b = x86_read(cpu, X86_ES, di, sz);
		f = cpu->rflags;
		x86_h_cmp_s(a, b, &f, sz);
		x86_set_arith(cpu, f);
		x86_str_step(cpu, X86_RSI, as, sz);
		x86_str_step(cpu, X86_RDI, as, sz);
		break;
	case X86_SCAS:
		b = x86_read(cpu, X86_ES, di, sz);
		f = cpu->rflags;
		x86_h_cmp_s(cpu->gpr[X86_RAX], b, &f, sz);
		x86_set_arith(cpu, f);
		x86_str_step(cpu, X86_RDI, as, sz);
		break;
	case X86_LODS:
		a = x86_read(cpu, in->seg, si, sz);
		x86_gpr_set(cpu, X86_RAX, sz, a);
		x86_str_step(cpu, X86_RSI, as, sz);
		break;
	case X86_STOS:
		x86_write(cpu, X86_ES, di, cpu->gpr[X86_RAX], sz);
		x86_str_step(cpu, X86_RDI, as, sz);
		break;
	}
}

/*
 * REP STOS/MOVS fast path: whole runs inside one page of RAM, forward
 * direction, through the TLB.  Returns the elements done (0 = none).
 */
static uint64_t x86_str_fast(struct x86_cpu *cpu, const struct x86_insn *in,
			     enum x86_str k, unsigned int sz, uint64_t cnt)
{
	unsigned int as = in->adsz;
	uint64_t di = x86_str_reg(cpu, X86_RDI, as), si, n, room;
	uint8_t *dst, *src = NULL;

	if ((cpu->rflags & X86_DF) || (k != X86_MOVS && k != X86_STOS) ||
	    as < 4 || x86_ac_enabled(cpu) ||
	    cpu->priv->dbg_data)
		return 0;
	room = (X86_PAGE_SIZE - (x86_seg_la(cpu, X86_ES, di, sz,
			X86_ACC_W) & 0xfff)) / sz;
	if (k == X86_MOVS) {
		si = x86_str_reg(cpu, X86_RSI, as);
		n = (X86_PAGE_SIZE - (x86_seg_la(cpu, in->seg, si, sz,
				X86_ACC_R) & 0xfff)) / sz;
		if (n < room)
			room = n;
	}
	n = cnt < room ? cnt : room;
	if (n < 2)
		return 0;
	if (k == X86_MOVS) {
		src = x86_host_ptr(cpu, in->seg, x86_str_reg(cpu, X86_RSI, as),
				   (unsigned int)(n * sz), X86_ACC_R);
		if (!src)
			return 0;
	}
	dst = x86_host_ptr(cpu, X86_ES, di, (unsigned int)(n * sz), X86_ACC_W);
	if (!dst)
		return 0;
	if (k == X86_MOVS) {
		/*
		 * A destination above the source within the run reads what
		 * earlier elements wrote: copy element by element, each one
		 * read whole before it is written, as the SDM defines REP
		 * MOVS (a byte-wise copy differs when RDI - RSI < size).
		 */
		uint64_t i, v;

		if (dst <= src || dst >= src + n * sz) {
			memmove(dst, src, n * sz);
		} else {
			for (i = 0; i < n * sz; i += sz) {
				memcpy(&v, src + i, sz);
				memcpy(dst + i, &v, sz);
			}
		}
		x86_gpr_set(cpu, X86_RSI, as, cpu->gpr[X86_RSI] + n * sz);
	} else {
		uint64_t i, v = cpu->gpr[X86_RAX];

		for (i = 0; i < n; i++)
			memcpy(dst + i * sz, &v, sz);
	}
	x86_gpr_set(cpu, X86_RDI, as, cpu->gpr[X86_RDI] + n * sz);
	return n;
}

static void x86_string(struct x86_cpu *cpu, const struct x86_insn *in,
		       enum x86_str k, unsigned int sz)
{
	struct x86_cpu_priv *p = cpu->priv;
	unsigned int as = in->adsz, i;
	bool rep = in->flags & (X86_I_REP | X86_I_REPNE);
	bool cond = k == X86_CMPS || k == X86_SCAS;
	uint64_t c, n;

	if (!rep) {
		x86_str_one(cpu, in, k, sz);
		return;
	}
	for (i = 0; i < X86_REP_BATCH; i++) {
		c = x86_str_reg(cpu, X86_RCX, as);
		if (!c)
			return;
		n = x86_str_fast(cpu, in, k, sz, c);
		if (n) {
			x86_gpr_set(cpu, X86_RCX, as, c - n);
			continue;
		}
		x86_str_one(cpu, in, k, sz);
		x86_gpr_set(cpu, X86_RCX, as, c - 1);
		x86_mmio_retire(cpu);
		if (cond && c - 1 &&
		    !!(cpu->rflags & X86_ZF) != !(in->flags & X86_I_REPNE))
			return;
		if (cond && c - 1 == 0)
			return;
	}
	if (x86_str_reg(cpu, X86_RCX, as)) {
		p->next_rip = cpu->rip;		/* yield; resume later */
		p->brk = true;
	}
}

#define X86_STR(name, kind, size)					\
static void x86_i_##name(struct x86_cpu *cpu, const struct x86_insn *in) \
{									\
	x86_string(cpu, in, kind, size);				\
}
X86_STR(movsb, X86_MOVS, 1)
X86_STR(movsw, X86_MOVS, 2)
X86_STR(movsd, X86_MOVS, 4)
X86_STR(movsq, X86_MOVS, 8)
X86_STR(cmpsb, X86_CMPS, 1)
X86_STR(cmpsw, X86_CMPS, 2)
X86_STR(cmpsd, X86_CMPS, 4)
X86_STR(cmpsq, X86_CMPS, 8)
X86_STR(scasb, X86_SCAS, 1)
X86_STR(scasw, X86_SCAS, 2)
X86_STR(scasd, X86_SCAS, 4)
X86_STR(scasq, X86_SCAS, 8)
X86_STR(lodsb, X86_LODS, 1)
X86_STR(lodsw, X86_LODS, 2)
X86_STR(lodsd, X86_LODS, 4)
X86_STR(lodsq, X86_LODS, 8)
X86_STR(stosb, X86_STOS, 1)
X86_STR(stosw, X86_STOS, 2)
X86_STR(stosd, X86_STOS, 4)
X86_STR(stosq, X86_STOS, 8)

void x86_string_register(void)
{
	static const struct { unsigned int m; x86_handler fn; } t[] = {
		{ ZYDIS_MNEMONIC_MOVSB, x86_i_movsb },
		{ ZYDIS_MNEMONIC_MOVSW, x86_i_movsw },
		{ ZYDIS_MNEMONIC_MOVSD, x86_i_movsd },
		{ ZYDIS_MNEMONIC_MOVSQ, x86_i_movsq },
		{ ZYDIS_MNEMONIC_CMPSB, x86_i_cmpsb },
		{ ZYDIS_MNEMONIC_CMPSW, x86_i_cmpsw },
		{ ZYDIS_MNEMONIC_CMPSD, x86_i_cmpsd },
		{ ZYDIS_MNEMONIC_CMPSQ, x86_i_cmpsq },
		{ ZYDIS_MNEMONIC_SCASB, x86_i_scasb },
		{ ZYDIS_MNEMONIC_SCASW, x86_i_scasw },
		{ ZYDIS_MNEMONIC_SCASD, x86_i_scasd },
		{ ZYDIS_MNEMONIC_SCASQ, x86_i_scasq },
		{ ZYDIS_MNEMONIC_LODSB, x86_i_lodsb },
		{ ZYDIS_MNEMONIC_LODSW, x86_i_lodsw },
		{ ZYDIS_MNEMONIC_LODSD, x86_i_lodsd },
		{ ZYDIS_MNEMONIC_LODSQ, x86_i_lodsq },
		{ ZYDIS_MNEMONIC_STOSB, x86_i_stosb },
		{ ZYDIS_MNEMONIC_STOSW, x86_i_stosw },
		{ ZYDIS_MNEMONIC_STOSD, x86_i_stosd },
		{ ZYDIS_MNEMONIC_STOSQ, x86_i_stosq },
	};
	unsigned int i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		x86_register(t[i].m, t[i].fn);
}
