// SPDX-License-Identifier: MIT
/*
 * gen.c - random sequences from the form table, and their encoding.
 *
 * Invariants every generated item keeps, whatever items are removed
 * around it (the minimizer relies on this):
 *  - R15 and RSP are never written, except RSP by PUSH/POP/CALL/ENTER/
 *    LEAVE, whose bytes of stack movement summed over the sequence stay
 *    below FZ_STACK_SLACK;
 *  - a memory operand is computed from R15, RSP, RIP, an absolute
 *    address, or a register the item itself loaded just before, and lies
 *    inside the sandbox;
 *  - branches only go forward, over whole items.
 */
#include <cpuid.h>
#include <string.h>

#include "fuzz.h"
#include "gen.h"

/* ------------------------------------------------------------- random */

uint64_t fz_rand(struct fz_rng *r)
{
	/* splitmix64 */
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static int64_t fz_sext(uint64_t v, unsigned int bits)
{
	return bits >= 64 ? (int64_t)v : (int64_t)(v << (64 - bits)) >> (64 - bits);
}

/* A value of interest for a register or immediate of the given width. */
static uint64_t fz_value(struct fz_rng *r, unsigned int bits)
{
	static const uint64_t special[] = {
		0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff,
		0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ull,
		0x7fffffffffffffffull, 0x8000000000000000ull, ~0ull,
	};
	uint64_t v;

	switch (fz_below(r, 8)) {
	case 0:
		v = special[fz_below(r, sizeof(special) / sizeof(special[0]))];
		break;
	case 1:
		v = fz_below(r, 64);
		break;
	case 2:
		v = -fz_below(r, 64);
		break;
	case 3:
		v = (uint32_t)fz_rand(r);
		break;
	case 4:
		v = 1ull << fz_below(r, 64);
		break;
	default:
		v = fz_rand(r);
		break;
	}
	return bits >= 64 ? v : v & ((1ull << bits) - 1);
}

/* ------------------------------------------------------------ context */

struct fz_gctx {
	struct fz_rng *r;
	struct fz_item *it;
	const struct fz_form *f;
	ZydisEncoderRequest main;
	unsigned int size;	/* operand size in bytes */
	uint16_t busy;		/* GPRs a memory preamble must not load */
	unsigned int margin;	/* memory: keep this far from the edges */
	unsigned int stack;	/* stack bytes this item moves */
};

static void fz_req_init(ZydisEncoderRequest *q, ZydisMnemonic m)
{
	memset(q, 0, sizeof(*q));
	q->machine_mode = ZYDIS_MACHINE_MODE_LONG_64;
	q->mnemonic = m;
}

static ZydisEncoderRequest *fz_pre(struct fz_gctx *g, ZydisMnemonic m)
{
	ZydisEncoderRequest *q = &g->it->req[g->it->n++];

	fz_req_init(q, m);
	return q;
}

static ZydisRegister fz_gpr(unsigned int n, unsigned int size)
{
	switch (size) {
	case 1:
		if (n < 4)
			return ZYDIS_REGISTER_AL + n;
		if (n < 8)
			return ZYDIS_REGISTER_SPL + n - 4;
		return ZYDIS_REGISTER_R8B + n - 8;
	case 2:
		return ZYDIS_REGISTER_AX + n;
	case 4:
		return ZYDIS_REGISTER_EAX + n;
	default:
		return ZYDIS_REGISTER_RAX + n;
	}
}

static void fz_op_reg(ZydisEncoderOperand *o, ZydisRegister reg)
{
	o->type = ZYDIS_OPERAND_TYPE_REGISTER;
	o->reg.value = reg;
}

static void fz_op_imm(ZydisEncoderOperand *o, uint64_t v)
{
	o->type = ZYDIS_OPERAND_TYPE_IMMEDIATE;
	o->imm.u = v;
}

/* A writable GPR number: anything but RSP and R15. */
static unsigned int fz_pick(struct fz_gctx *g, uint16_t avoid)
{
	unsigned int n;

	avoid |= (1u << FZ_RSP) | (1u << FZ_R15);
	if (avoid == 0xffff)
		return FZ_RAX;
	do
		n = fz_below(g->r, 16);
	while (avoid & (1u << n));
	return n;
}

/* A register operand of the given size; AH..BH now and then. */
static ZydisRegister fz_reg_operand(struct fz_gctx *g, unsigned int size,
				    uint16_t avoid)
{
	unsigned int n = fz_pick(g, avoid);

	if (size == 1 && n < 4 && fz_below(g->r, 4) == 0)
		return ZYDIS_REGISTER_AH + n;
	return fz_gpr(n, size);
}

/* ------------------------------------------------------------- memory */

static void fz_pre_mov(struct fz_gctx *g, ZydisRegister reg, int64_t v)
{
	ZydisEncoderRequest *q = fz_pre(g, ZYDIS_MNEMONIC_MOV);

	q->operand_count = 2;
	fz_op_reg(&q->operands[0], reg);
	fz_op_imm(&q->operands[1], (uint64_t)v);
}

/* lea reg64, [r15 + off - FZ_R15_OFF]: reg = sandbox + off */
static void fz_pre_ptr(struct fz_gctx *g, unsigned int reg, int64_t off)
{
	ZydisEncoderRequest *q = fz_pre(g, ZYDIS_MNEMONIC_LEA);

	q->operand_count = 2;
	fz_op_reg(&q->operands[0], fz_gpr(reg, 8));
	q->operands[1].type = ZYDIS_OPERAND_TYPE_MEMORY;
	q->operands[1].mem.base = ZYDIS_REGISTER_R15;
	q->operands[1].mem.displacement = off - FZ_R15_OFF;
	q->operands[1].mem.size = 8;
}

/* Sandbox offset for an access of size bytes (align: power of 2). */
static int64_t fz_target(struct fz_gctx *g, unsigned int size,
			 unsigned int align)
{
	unsigned int lo = g->margin, hi = FZ_DATA_SIZE - size - g->margin;
	int64_t t;

	if (fz_below(g->r, 6) == 0) {
		/* straddle a page boundary */
		t = 0x1000 * (1 + fz_below(g->r, FZ_DATA_SIZE / 0x1000 - 1));
		t -= fz_below(g->r, size ? size : 1);
	} else if (fz_below(g->r, 3) == 0) {
		/* near R15, for disp8 encodings */
		t = FZ_R15_OFF - 128 + fz_below(g->r, 256);
	} else {
		t = lo + fz_below(g->r, hi - lo + 1);
	}
	if (t < lo)
		t = lo;
	if (t > hi)
		t = hi;
	if (align > 1)
		t &= ~(int64_t)(align - 1);
	if (t < lo)
		t += align;
	return t;
}

static void fz_index(struct fz_gctx *g, ZydisEncoderOperand *o,
		     unsigned int asize, int64_t *sub)
{
	unsigned int idx = fz_pick(g, g->busy);
	int64_t v = fz_below(g->r, 0x100);

	o->mem.index = fz_gpr(idx, asize);
	o->mem.scale = 1u << fz_below(g->r, 4);
	fz_pre_mov(g, fz_gpr(idx, 4), v);
	g->busy |= 1u << idx;
	*sub = v * o->mem.scale;
}

static void fz_mem(struct fz_gctx *g, ZydisEncoderOperand *o,
		   unsigned int size, unsigned int align)
{
	int64_t t = fz_target(g, size, align), sub = 0, off;
	unsigned int b;

	o->type = ZYDIS_OPERAND_TYPE_MEMORY;
	o->mem.size = size;
	switch (fz_below(g->r, 16)) {
	case 0: case 1: case 2: case 3: case 4:	/* [r15 + disp] */
		o->mem.base = ZYDIS_REGISTER_R15;
		o->mem.displacement = t - FZ_R15_OFF;
		break;
	case 5: case 6:				/* [r15 + idx*s + disp] */
		o->mem.base = ZYDIS_REGISTER_R15;
		fz_index(g, o, 8, &sub);
		o->mem.displacement = t - FZ_R15_OFF - sub;
		break;
	case 7:					/* [idx*s + disp32] */
		fz_index(g, o, 8, &sub);
		o->mem.displacement = FZ_DATA_LA + t - sub;
		break;
	case 8: case 9:				/* [rip + disp32] */
		o->mem.base = ZYDIS_REGISTER_RIP;
		o->mem.displacement = FZ_DATA_LA + t;	/* absolute */
		break;
	case 10:				/* [disp32] */
		o->mem.displacement = FZ_DATA_LA + t;
		break;
	case 11: case 12:			/* [reg (+ idx*s) + disp] */
		b = fz_pick(g, g->busy);
		g->busy |= 1u << b;
		off = fz_below(g->r, FZ_DATA_SIZE);
		fz_pre_ptr(g, b, off);
		o->mem.base = fz_gpr(b, 8);
		if (fz_below(g->r, 2))
			fz_index(g, o, 8, &sub);
		o->mem.displacement = t - off - sub;
		break;
	case 13: case 14:			/* 32-bit addressing */
		o->mem.base = ZYDIS_REGISTER_R15D;
		if (fz_below(g->r, 2))
			fz_index(g, o, 4, &sub);
		o->mem.displacement = t - FZ_R15_OFF - sub;
		break;
	default:				/* [rsp + disp] */
		/* RSP wanders by FZ_STACK_SLACK; stay clear of both ends */
		if (size > 16)
			goto r15;
		t = fz_below(g->r, FZ_DATA_SIZE - 2 * FZ_STACK_SLACK - 32 - size)
		    + FZ_STACK_SLACK + 16;
		t &= ~(int64_t)(align ? align - 1 : 0);
		if (align > 1)
			goto r15;	/* RSP's alignment is not known */
		o->mem.base = ZYDIS_REGISTER_RSP;
		o->mem.displacement = t - FZ_STACK_OFF;
		break;
r15:
		o->mem.base = ZYDIS_REGISTER_R15;
		o->mem.displacement = t - FZ_R15_OFF;
		break;
	}
	/* a no-op segment override now and then (64-bit mode ignores it) */
	if (fz_below(g->r, 20) == 0) {
		static const uint64_t seg[] = {
			ZYDIS_ATTRIB_HAS_SEGMENT_DS, ZYDIS_ATTRIB_HAS_SEGMENT_ES,
			ZYDIS_ATTRIB_HAS_SEGMENT_SS, ZYDIS_ATTRIB_HAS_SEGMENT_CS,
		};
		g->main.prefixes |= seg[fz_below(g->r, 4)];
	}
}

/* LEA: any addressing form, no access, so no constraints. */
static void fz_agen(struct fz_gctx *g, ZydisEncoderOperand *o)
{
	unsigned int asize = fz_below(g->r, 3) ? 8 : 4;
	unsigned int b = fz_below(g->r, 18), i = fz_below(g->r, 17);

	o->type = ZYDIS_OPERAND_TYPE_MEMORY;
	o->mem.size = asize;
	if (b < 16)
		o->mem.base = fz_gpr(b, asize);
	else if (b == 16)
		o->mem.base = asize == 8 ? ZYDIS_REGISTER_RIP :
					   ZYDIS_REGISTER_EIP;
	if (i < 16 && i != FZ_RSP && b != 16) {
		o->mem.index = fz_gpr(i, asize);
		o->mem.scale = 1u << fz_below(g->r, 4);
	}
	switch (fz_below(g->r, 3)) {
	case 0:
		o->mem.displacement = 0;
		break;
	case 1:
		o->mem.displacement = fz_sext(fz_rand(g->r), 8);
		break;
	default:
		o->mem.displacement = fz_sext(fz_rand(g->r), 32);
		break;
	}
	if (o->mem.base == ZYDIS_REGISTER_RIP ||
	    o->mem.base == ZYDIS_REGISTER_EIP)
		o->mem.displacement += FZ_CODE_LA;	/* absolute target */
}

/* ----------------------------------------------------------- operands */

static unsigned int fz_kind_size(const struct fz_gctx *g, int kind)
{
	switch (kind) {
	case K_RM8: return 1;
	case K_RM16: return 2;
	case K_RM32: case K_R32: case K_M32: return 4;
	case K_RM64: case K_M64: case K_MMM: case K_XM64: return 8;
	case K_M80: return 10;
	case K_M128: case K_XM: return 16;
	default: return g->size;
	}
}

static bool fz_is_mem(struct fz_gctx *g, int kind)
{
	switch (kind) {
	case K_M: case K_M32: case K_M64: case K_M80: case K_M128:
		return true;
	case K_RM: case K_RM8: case K_RM16: case K_RM32: case K_RM64:
	case K_MMM: case K_XM: case K_XM64:
		return fz_below(g->r, 2);
	default:
		return false;
	}
}

static uint64_t fz_imm(struct fz_gctx *g, unsigned int bits)
{
	return (uint64_t)fz_sext(fz_value(g->r, bits), bits);
}

static uint64_t fz_count(struct fz_gctx *g)
{
	if (fz_below(g->r, 3))
		return fz_below(g->r, g->size * 16 + 2);
	return fz_below(g->r, 256);
}

/* Register or immediate operand i (memory comes later). */
static void fz_operand(struct fz_gctx *g, int kind, ZydisEncoderOperand *o)
{
	unsigned int sz = fz_kind_size(g, kind);

	switch (kind) {
	case K_R: case K_RM: case K_RM8: case K_RM16: case K_RM32:
	case K_RM64: case K_R32:
		fz_op_reg(o, fz_reg_operand(g, sz, g->busy));
		break;
	case K_I:
		fz_op_imm(o, fz_imm(g, sz > 4 ? 32 : sz * 8));
		break;
	case K_IFULL:
		fz_op_imm(o, fz_imm(g, sz * 8));
		break;
	case K_IB:
		fz_op_imm(o, fz_imm(g, 8));
		break;
	case K_COUNT:
		fz_op_imm(o, fz_count(g));
		break;
	case K_ONE:
		fz_op_imm(o, 1);
		break;
	case K_CL:
		fz_op_reg(o, ZYDIS_REGISTER_CL);
		break;
	case K_ST0:
		fz_op_reg(o, ZYDIS_REGISTER_ST0);
		break;
	case K_ST:
		fz_op_reg(o, ZYDIS_REGISTER_ST0 + fz_below(g->r, 8));
		break;
	case K_MM: case K_MMM:
		fz_op_reg(o, ZYDIS_REGISTER_MM0 + fz_below(g->r, 8));
		break;
	case K_XMM: case K_XM: case K_XM64:
		fz_op_reg(o, ZYDIS_REGISTER_XMM0 + fz_below(g->r, 16));
		break;
	case K_SREG:	/* ES CS SS DS FS GS */
		fz_op_reg(o, ZYDIS_REGISTER_ES + fz_below(g->r, 6));
		break;
	default:
		break;
	}
}

/* The registers a register operand uses, for g->busy. */
static uint16_t fz_reg_mask(ZydisRegister reg)
{
	if (reg >= ZYDIS_REGISTER_AL && reg <= ZYDIS_REGISTER_BL)
		return 1u << (reg - ZYDIS_REGISTER_AL);
	if (reg >= ZYDIS_REGISTER_AH && reg <= ZYDIS_REGISTER_BH)
		return 1u << (reg - ZYDIS_REGISTER_AH);
	if (reg >= ZYDIS_REGISTER_SPL && reg <= ZYDIS_REGISTER_DIL)
		return 1u << (reg - ZYDIS_REGISTER_SPL + 4);
	if (reg >= ZYDIS_REGISTER_R8B && reg <= ZYDIS_REGISTER_R15B)
		return 1u << (reg - ZYDIS_REGISTER_R8B + 8);
	if (reg >= ZYDIS_REGISTER_AX && reg <= ZYDIS_REGISTER_R15W)
		return 1u << (reg - ZYDIS_REGISTER_AX);
	if (reg >= ZYDIS_REGISTER_EAX && reg <= ZYDIS_REGISTER_R15D)
		return 1u << (reg - ZYDIS_REGISTER_EAX);
	if (reg >= ZYDIS_REGISTER_RAX && reg <= ZYDIS_REGISTER_R15)
		return 1u << (reg - ZYDIS_REGISTER_RAX);
	return 0;
}

/* The table's operands: registers and immediates first, then memory. */
static void fz_operands(struct fz_gctx *g)
{
	const struct fz_form *f = g->f;
	ZydisEncoderRequest *q = &g->main;
	int memop = -1, i;
	unsigned int align;

	q->operand_count = f->nops;
	for (i = 0; i < f->nops; i++) {
		if (memop < 0 && fz_is_mem(g, f->op[i])) {
			memop = i;
			continue;
		}
		if (f->op[i] == K_AGEN) {
			fz_agen(g, &q->operands[i]);
			continue;
		}
		fz_operand(g, f->op[i], &q->operands[i]);
	}
	if (memop < 0)
		return;
	align = (f->flags & FZ_FF_ALIGN16) ? 16 : 1;
	fz_mem(g, &q->operands[memop], fz_kind_size(g, f->op[memop]), align);
	if ((f->flags & FZ_FF_LOCK) && memop == 0 && fz_below(g->r, 3) == 0)
		q->prefixes |= ZYDIS_ATTRIB_HAS_LOCK;
}

/* --------------------------------------------------------- generators */

static void fz_gen_shiftcl(struct fz_gctx *g)
{
	g->busy |= 1u << FZ_RCX;
	if (fz_below(g->r, 2))
		fz_pre_mov(g, ZYDIS_REGISTER_CL,
			   fz_sext(fz_below(g->r, g->size * 16 + 2), 8));
	fz_operands(g);
}

/* DIV/IDIV whose dividend's high half and divisor make #DE unlikely. */
static void fz_gen_div(struct fz_gctx *g)
{
	bool sign = g->f->mnem == ZYDIS_MNEMONIC_IDIV;
	ZydisEncoderRequest *q = &g->main, *p;
	ZydisMnemonic ext;

	g->busy |= (1u << FZ_RAX) | (1u << FZ_RDX);
	q->operand_count = 1;
	if (fz_below(g->r, 2)) {
		fz_op_reg(&q->operands[0],
			  fz_gpr(fz_pick(g, g->busy), g->size));
	} else {
		fz_mem(g, &q->operands[0], g->size, 1);
	}
	/* divisor |= 1 */
	p = fz_pre(g, ZYDIS_MNEMONIC_OR);
	p->operand_count = 2;
	p->operands[0] = q->operands[0];
	if (p->operands[0].type == ZYDIS_OPERAND_TYPE_MEMORY)
		p->operands[0].mem.size = 1;
	fz_op_imm(&p->operands[1], 1);
	/* the dividend's high half: zero or the sign of the low half */
	if (!sign) {
		if (g->size == 1)
			fz_pre_mov(g, ZYDIS_REGISTER_AH, 0);
		else
			fz_pre_mov(g, ZYDIS_REGISTER_EDX, 0);
		return;
	}
	switch (g->size) {
	case 1: ext = ZYDIS_MNEMONIC_CBW; break;
	case 2: ext = ZYDIS_MNEMONIC_CWD; break;
	case 4: ext = ZYDIS_MNEMONIC_CDQ; break;
	default: ext = ZYDIS_MNEMONIC_CQO; break;
	}
	fz_pre(g, ext);
}

/* BT* rm, r: a memory operand plus a bit offset reaches +-64 bytes. */
static void fz_gen_btreg(struct fz_gctx *g)
{
	ZydisEncoderRequest *q = &g->main;
	ZydisRegister off;

	if (fz_below(g->r, 2)) {
		q->operand_count = 2;
		fz_op_reg(&q->operands[0], fz_reg_operand(g, g->size, 0));
		fz_op_reg(&q->operands[1], fz_reg_operand(g, g->size, 0));
		return;
	}
	q->operand_count = 2;
	off = fz_gpr(fz_pick(g, g->busy), g->size);
	g->busy |= fz_reg_mask(off);
	fz_op_reg(&q->operands[1], off);
	fz_pre_mov(g, off, -0x200 + (int64_t)fz_below(g->r, 0x400));
	g->margin = 80;
	fz_mem(g, &q->operands[0], g->size, 1);
	if (fz_below(g->r, 3) == 0)
		q->prefixes |= ZYDIS_ATTRIB_HAS_LOCK;
}

static void fz_gen_str(struct fz_gctx *g, bool cc)
{
	ZydisEncoderRequest *q = &g->main;
	unsigned int w = 1, span = FZ_STR_HI - FZ_STR_LO;

	switch (g->f->mnem) {
	case ZYDIS_MNEMONIC_MOVSW: case ZYDIS_MNEMONIC_STOSW:
	case ZYDIS_MNEMONIC_LODSW: case ZYDIS_MNEMONIC_CMPSW:
	case ZYDIS_MNEMONIC_SCASW:
		w = 2;
		break;
	case ZYDIS_MNEMONIC_MOVSD: case ZYDIS_MNEMONIC_STOSD:
	case ZYDIS_MNEMONIC_LODSD: case ZYDIS_MNEMONIC_CMPSD:
	case ZYDIS_MNEMONIC_SCASD:
		w = 4;
		break;
	case ZYDIS_MNEMONIC_MOVSQ: case ZYDIS_MNEMONIC_STOSQ:
	case ZYDIS_MNEMONIC_LODSQ: case ZYDIS_MNEMONIC_CMPSQ:
	case ZYDIS_MNEMONIC_SCASQ:
		w = 8;
		break;
	}
	fz_pre_ptr(g, FZ_RSI, FZ_STR_LO + fz_below(g->r, span));
	fz_pre_ptr(g, FZ_RDI, FZ_STR_LO + fz_below(g->r, span));
	fz_pre_mov(g, ZYDIS_REGISTER_ECX,
		   fz_below(g->r, 4) ? fz_below(g->r, 16) :
				       fz_below(g->r, FZ_STR_MAX / w + 1));
	if (cc && fz_below(g->r, 3) == 0)
		fz_pre_mov(g, ZYDIS_REGISTER_EAX, fz_below(g->r, 4));
	switch (fz_below(g->r, 3)) {
	case 0:
		break;
	case 1:
		q->prefixes |= cc ? ZYDIS_ATTRIB_HAS_REPE : ZYDIS_ATTRIB_HAS_REP;
		break;
	default:
		q->prefixes |= cc ? ZYDIS_ATTRIB_HAS_REPNE :
				    ZYDIS_ATTRIB_HAS_REP;
		break;
	}
	if (fz_below(g->r, 5) == 0)
		q->address_size_hint = ZYDIS_ADDRESS_SIZE_HINT_32;
}

static void fz_gen_branch(struct fz_gctx *g, bool call)
{
	ZydisEncoderRequest *q = &g->main;

	q->operand_count = 1;
	/* a target in reach; fz_assemble sets the real one */
	fz_op_imm(&q->operands[0], FZ_CODE_LA + 16);
	q->branch_type = call ? ZYDIS_BRANCH_TYPE_NEAR :
				ZYDIS_BRANCH_TYPE_SHORT;
	q->branch_width = call ? ZYDIS_BRANCH_WIDTH_32 : ZYDIS_BRANCH_WIDTH_8;
	g->it->skip = fz_below(g->r, 4);
	if (call)
		g->stack = 8;
}

static void fz_gen_push(struct fz_gctx *g)
{
	g->main.operand_size_hint = g->size == 2 ? ZYDIS_OPERAND_SIZE_HINT_16 :
						   ZYDIS_OPERAND_SIZE_HINT_64;
	fz_operands(g);
	g->stack = g->size;
}

static void fz_gen_popf(struct fz_gctx *g, bool ac)
{
	unsigned int n = fz_pick(g, 0);
	ZydisEncoderRequest *p;

	/*
	 * Arithmetic flags, DF, and IF/IOPL/ID, which CPL 3 cannot change
	 * (IF, IOPL) or may (ID).  The AC form sets AC: with CR0.AM set
	 * (Linux sets it, and so does engine.c), a misaligned access then
	 * raises #AC.
	 */
	fz_pre_mov(g, fz_gpr(n, 4),
		   (int64_t)(fz_rand(g->r) & 0x203cd5) | 2 | (ac ? 0x40000 : 0));
	p = fz_pre(g, ZYDIS_MNEMONIC_PUSH);
	p->operand_count = 1;
	fz_op_reg(&p->operands[0], fz_gpr(n, 8));
	g->stack = 16;
}

static void fz_gen_enter(struct fz_gctx *g)
{
	unsigned int n = 8 * fz_below(g->r, 6);

	g->main.operand_count = 2;
	fz_op_imm(&g->main.operands[0], n);
	fz_op_imm(&g->main.operands[1], 0);
	g->stack = 8 + n;
}

static void fz_gen_leave(struct fz_gctx *g)
{
	int k = (int)fz_below(g->r, 9) - 4;
	ZydisEncoderRequest *p = fz_pre(g, ZYDIS_MNEMONIC_LEA);

	p->operand_count = 2;
	fz_op_reg(&p->operands[0], ZYDIS_REGISTER_RBP);
	p->operands[1].type = ZYDIS_OPERAND_TYPE_MEMORY;
	p->operands[1].mem.base = ZYDIS_REGISTER_RSP;
	p->operands[1].mem.displacement = 8 * k;
	p->operands[1].mem.size = 8;
	g->stack = 8 * (k < 0 ? -k : k) + 8;
}

static void fz_gen_xlat(struct fz_gctx *g)
{
	fz_pre_ptr(g, FZ_RBX, fz_below(g->r, FZ_DATA_SIZE - 256));
}

static void fz_gen_int(struct fz_gctx *g)
{
	unsigned int v;

	do
		v = fz_below(g->r, 256);
	while (v == 3 || v == 4 || v == 0x80);
	g->main.operand_count = 1;
	fz_op_imm(&g->main.operands[0], v);
}

static void fz_gen_port(struct fz_gctx *g)
{
	ZydisEncoderRequest *q = &g->main;
	bool in = g->f->mnem == ZYDIS_MNEMONIC_IN;

	q->operand_count = 2;
	fz_op_reg(&q->operands[in ? 0 : 1], ZYDIS_REGISTER_AL);
	fz_op_imm(&q->operands[in ? 1 : 0], fz_below(g->r, 256));
}

/* ------------------------------------------------------------- items */

static unsigned int fz_pick_size(struct fz_rng *r, unsigned int sizes)
{
	unsigned int s;

	do
		s = 1u << fz_below(r, 4);
	while (!(sizes & s));
	return s;
}

static bool fz_encodes(const ZydisEncoderRequest *q)
{
	ZydisEncoderRequest tmp = *q;
	uint8_t buf[ZYDIS_MAX_INSTRUCTION_LENGTH];
	ZyanUSize len = sizeof(buf);

	return ZYAN_SUCCESS(ZydisEncoderEncodeInstructionAbsolute(&tmp, buf,
						&len, FZ_CODE_LA));
}

/* One item of form f; false if it did not encode (try again). */
static bool fz_gen_item(struct fz_rng *r, unsigned int f, struct fz_item *it)
{
	struct fz_gctx g = { .r = r, .it = it, .f = &fz_forms[f] };
	unsigned int i;

	memset(it, 0, offsetof(struct fz_item, req));
	it->form = f;
	g.size = fz_pick_size(r, g.f->sizes);
	fz_req_init(&g.main, g.f->mnem);
	switch (g.f->gen) {
	case G_SHIFTCL: fz_gen_shiftcl(&g); break;
	case G_DIV: fz_gen_div(&g); break;
	case G_BTREG: fz_gen_btreg(&g); break;
	case G_STR: fz_gen_str(&g, false); break;
	case G_STRCC: fz_gen_str(&g, true); break;
	case G_BRANCH: fz_gen_branch(&g, false); break;
	case G_CALL: fz_gen_branch(&g, true); break;
	case G_PUSH: fz_gen_push(&g); break;
	case G_POPF: fz_gen_popf(&g, false); break;
	case G_POPF_AC: fz_gen_popf(&g, true); break;
	case G_ENTER: fz_gen_enter(&g); break;
	case G_LEAVE: fz_gen_leave(&g); break;
	case G_XLAT: fz_gen_xlat(&g); break;
	case G_INT: fz_gen_int(&g); break;
	case G_PORT: fz_gen_port(&g); break;
	case G_SREG: fz_operands(&g); break;
	default: fz_operands(&g); break;
	}
	it->req[it->n++] = g.main;
	it->stack = g.stack;
	for (i = 0; i < it->n; i++)
		if (!fz_encodes(&it->req[i]))
			return false;
	return true;
}

bool fz_form_usable(const struct fz_gen_cfg *cfg, unsigned int f)
{
	const struct fz_form *fm = &fz_forms[f];

	if (!cfg->group[fm->group] || !cfg->feat[fm->feat])
		return false;
	return !cfg->form_on || cfg->form_on[f];
}

/* Relative weight of a group in a sequence, per mille. */
static const unsigned int fz_group_weight[FZ_G_COUNT] = {
	[FZ_G_GP] = 700, [FZ_G_STR] = 60, [FZ_G_BRANCH] = 80,
	[FZ_G_STACK] = 80, [FZ_G_FAULT] = 4, [FZ_G_X87] = 150,
	[FZ_G_MMX] = 100, [FZ_G_SSE] = 150,
};

static int fz_pick_form(struct fz_rng *r, const struct fz_gen_cfg *cfg)
{
	unsigned int total = 0, n[FZ_G_COUNT] = { 0 }, i, x, grp;

	for (i = 0; i < fz_nforms; i++)
		if (fz_form_usable(cfg, i))
			n[fz_forms[i].group]++;
	for (grp = 0; grp < FZ_G_COUNT; grp++)
		if (n[grp])
			total += fz_group_weight[grp];
	if (!total)
		return -1;
	x = fz_below(r, total);
	for (grp = 0; grp < FZ_G_COUNT; grp++) {
		if (!n[grp])
			continue;
		if (x < fz_group_weight[grp])
			break;
		x -= fz_group_weight[grp];
	}
	x = fz_below(r, n[grp]);
	for (i = 0; i < fz_nforms; i++)
		if (fz_form_usable(cfg, i) && fz_forms[i].group == grp &&
		    x-- == 0)
			return i;
	return -1;
}

/* ------------------------------------------------------ initial state */

static void fz_gen_state(struct fz_rng *r, struct fz_seq *s)
{
	struct fz_state *st = &s->init;
	unsigned int i, j;

	memset(st, 0, sizeof(*st));
	for (i = 0; i < 16; i++)
		st->gpr[i] = fz_value(r, 64);
	st->gpr[FZ_RSP] = FZ_DATA_LA + FZ_STACK_OFF;
	st->gpr[FZ_R15] = FZ_DATA_LA + FZ_R15_OFF;
	st->rip = FZ_CODE_LA;
	st->rflags = (fz_rand(r) & (FZ_FLAGS_CMP & ~FZ_DF)) | FZ_IF | 2;
	if (fz_below(r, 4) == 0)
		st->rflags |= FZ_DF;
	/* FXSAVE image: default control words, random MMX/XMM contents */
	st->fx[0] = 0x7f;
	st->fx[1] = 0x03;
	st->fx[24] = 0x80;	/* MXCSR = 0x1f80 */
	st->fx[25] = 0x1f;
	for (i = 32; i < 288; i++)
		st->fx[i] = (uint8_t)fz_rand(r);
	for (i = 0; i < 8; i++)		/* ST/MM registers: 80 bits used */
		for (j = 10; j < 16; j++)
			st->fx[32 + 16 * i + j] = 0;
	st->vector = FZ_END;
	/* sandbox: random bytes, and runs of small values for REPE/REPNE */
	for (i = 0; i < FZ_DATA_SIZE; i += 64) {
		bool small = fz_below(r, 2);

		for (j = 0; j < 64; j++)
			s->data[i + j] = small ? fz_below(r, 3) :
						 (uint8_t)fz_rand(r);
	}
}

void fz_gen_seq(struct fz_rng *r, const struct fz_gen_cfg *cfg,
		struct fz_seq *s)
{
	unsigned int stack = 0, tries;
	int f;

	memset(s, 0, offsetof(struct fz_seq, item));
	fz_gen_state(r, s);
	s->fp = cfg->group[FZ_G_X87] || cfg->group[FZ_G_MMX] ||
		cfg->group[FZ_G_SSE];
	while (s->n < cfg->len && s->n < FZ_MAX_ITEMS) {
		for (tries = 0; tries < 64; tries++) {
			f = fz_pick_form(r, cfg);
			if (f < 0)
				return;
			if (!fz_gen_item(r, f, &s->item[s->n]))
				continue;
			if (stack + s->item[s->n].stack > FZ_STACK_SLACK)
				continue;
			stack += s->item[s->n].stack;
			s->n++;
			break;
		}
		if (tries == 64)
			break;
	}
}

/* ------------------------------------------------------------ encoding */

static bool fz_is_branch(const struct fz_item *it)
{
	unsigned int g = fz_forms[it->form].gen;

	return g == G_BRANCH || g == G_CALL;
}

static bool fz_encode_at(const ZydisEncoderRequest *q, uint8_t *p,
			 unsigned int room, uint64_t la, uint64_t target,
			 bool branch, unsigned int *len)
{
	ZydisEncoderRequest tmp = *q;
	ZyanUSize n = room < ZYDIS_MAX_INSTRUCTION_LENGTH ?
		      room : ZYDIS_MAX_INSTRUCTION_LENGTH;

	if (branch)
		tmp.operands[0].imm.u = target;
	if (!ZYAN_SUCCESS(ZydisEncoderEncodeInstructionAbsolute(&tmp, p, &n,
								   la)))
		return false;
	*len = n;
	return true;
}

/*
 * Two passes: lengths first (branch widths are fixed, so a branch's
 * length does not depend on its target), then the bytes with targets.
 * A branch whose target is out of rel8 reach jumps over fewer items.
 */
bool fz_assemble(const struct fz_seq *s, struct fz_code *c)
{
	static uint32_t start[FZ_MAX_ITEMS + 1];
	unsigned int i, j, k, len, off = 0, room = FZ_CODE_SIZE - 32;
	uint64_t la, target;
	bool br, ok;

	for (i = 0; i < s->n; i++) {
		start[i] = off;
		for (j = 0; j < s->item[i].n; j++) {
			br = fz_is_branch(&s->item[i]) && j + 1 == s->item[i].n;
			if (off >= room ||
			    !fz_encode_at(&s->item[i].req[j], c->bytes + off,
					  room - off, FZ_CODE_LA + off,
					  FZ_CODE_LA + off, br, &len))
				return false;
			off += len;
		}
	}
	start[s->n] = off;
	c->len = off;
	c->ninsn = 0;
	for (i = 0, off = 0; i < s->n; i++) {
		for (j = 0; j < s->item[i].n; j++) {
			br = fz_is_branch(&s->item[i]) && j + 1 == s->item[i].n;
			la = FZ_CODE_LA + off;
			for (k = s->item[i].skip;; k--) {
				unsigned int to = i + 1 + k;

				target = FZ_CODE_LA + start[to > s->n ? s->n : to];
				ok = fz_encode_at(&s->item[i].req[j],
						  c->bytes + off, room - off, la,
						  target, br, &len);
				if (ok || !br || !k)
					break;
			}
			if (!ok)
				return false;
			c->off[c->ninsn] = off;
			c->item[c->ninsn] = i;
			c->main[c->ninsn] = j + 1 == s->item[i].n;
			c->ninsn++;
			off += len;
		}
	}
	return off == c->len;
}

/* --------------------------------------------------------- host CPUID */

void fz_host_features(bool feat[FZ_F_COUNT])
{
	unsigned int a, b, c, d, b7 = 0, c7 = 0, c81 = 0;

	memset(feat, 0, FZ_F_COUNT * sizeof(bool));
	__cpuid(1, a, b, c, d);
	if (__get_cpuid_max(0, NULL) >= 7)
		__cpuid_count(7, 0, a, b7, c7, a);
	if (__get_cpuid_max(0x80000000, NULL) >= 0x80000001)
		__cpuid(0x80000001, a, b, c81, a);
	feat[FZ_F_NONE] = true;
	feat[FZ_F_BMI1] = b7 & (1u << 3);
	feat[FZ_F_BMI2] = b7 & (1u << 8);
	feat[FZ_F_ADX] = b7 & (1u << 19);
	feat[FZ_F_MOVBE] = c & (1u << 22);
	feat[FZ_F_POPCNT] = c & (1u << 23);
	feat[FZ_F_LZCNT] = c81 & (1u << 5);
	feat[FZ_F_CX16] = c & (1u << 13);
	feat[FZ_F_SSE42] = c & (1u << 20);
	feat[FZ_F_FPU] = d & (1u << 0);
	feat[FZ_F_MMX] = d & (1u << 23);
	feat[FZ_F_SSE] = d & (1u << 25);
	feat[FZ_F_SSE2] = d & (1u << 26);
	feat[FZ_F_SSE3] = c & (1u << 0);
	feat[FZ_F_SSSE3] = c & (1u << 9);
	feat[FZ_F_SSE41] = c & (1u << 19);
}
