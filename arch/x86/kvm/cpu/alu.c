// SPDX-License-Identifier: MIT
/*
 * alu.c - binary arithmetic, logic, shifts and rotates, bit and byte
 * instructions, BMI1/BMI2/ADX, decimal arithmetic and flag control
 * (Intel SDM Vol. 1, 7.3.2 - 7.3.7, 7.3.13; Vol. 2 for each instruction).
 *
 * LOCKed read-modify-writes run as a compare-and-swap loop on the host
 * address of the operand, so they are atomic against other vCPU threads.
 */
#include "host_alu.h"

X86_HOST_BIN_NF(add, "add")
X86_HOST_BIN(or, "or")
X86_HOST_BIN(adc, "adc")
X86_HOST_BIN(sbb, "sbb")
X86_HOST_BIN(and, "and")
X86_HOST_BIN_NF(sub, "sub")
X86_HOST_BIN(xor, "xor")
X86_HOST_BIN_NF(cmp, "cmp")
X86_HOST_BIN(test, "test")
X86_HOST_UN(inc, "inc")
X86_HOST_UN(dec, "dec")
X86_HOST_UN(neg, "neg")
X86_HOST_UN(not, "not")
X86_HOST_SH(shl, "shl")
X86_HOST_SH(shr, "shr")
X86_HOST_SH(sar, "sar")
X86_HOST_SH(rol, "rol")
X86_HOST_SH(ror, "ror")
X86_HOST_SH(rcl, "rcl")
X86_HOST_SH(rcr, "rcr")
X86_HOST_BIN_W(imul2, "imul")
X86_HOST_BIN_W(bsf, "bsf")
X86_HOST_BIN_W(bsr, "bsr")
X86_HOST_BIN_W(tzcnt, "tzcnt")
X86_HOST_BIN_W(lzcnt, "lzcnt")
X86_HOST_BIN_W(popcnt, "popcnt")
X86_HOST_BIN_W(bt, "bt")
X86_HOST_BIN_W(bts, "bts")
X86_HOST_BIN_W(btr, "btr")
X86_HOST_BIN_W(btc, "btc")
X86_HOST_BIN_D(adcx, "adcx")
X86_HOST_BIN_D(adox, "adox")
X86_HOST_BIN(xadd_h, "xadd")
X86_HOST_VEX3(andn, "andn")
X86_HOST_VEX3(bextr, "bextr")
X86_HOST_VEX3(bzhi, "bzhi")
X86_HOST_VEX3(pdep, "pdep")
X86_HOST_VEX3(pext, "pext")
X86_HOST_VEX3(sarx, "sarx")
X86_HOST_VEX3(shlx, "shlx")
X86_HOST_VEX3(shrx, "shrx")

/* ------------------------------------------------------------ helpers */

static uint64_t x86_ldn(const void *p, unsigned int size)
{
	switch (size) {
	case 1: return __atomic_load_n((const uint8_t *)p, __ATOMIC_RELAXED);
	case 2: return __atomic_load_n((const uint16_t *)p, __ATOMIC_RELAXED);
	case 4: return __atomic_load_n((const uint32_t *)p, __ATOMIC_RELAXED);
	default: return __atomic_load_n((const uint64_t *)p, __ATOMIC_RELAXED);
	}
}

/* Host compare-and-swap of 1..8 bytes; true when *p was old. */
bool x86_cas(void *p, uint64_t *old, uint64_t new, unsigned int size);
bool x86_cas(void *p, uint64_t *old, uint64_t new, unsigned int size)
{
	bool ok;

	switch (size) {
	case 1: {
		uint8_t o = (uint8_t)*old;

		ok = __atomic_compare_exchange_n((uint8_t *)p, &o, (uint8_t)new,
						 false, __ATOMIC_SEQ_CST,
						 __ATOMIC_SEQ_CST);
		*old = o;
		return ok;
	}
	case 2: {
		uint16_t o = (uint16_t)*old;

		ok = __atomic_compare_exchange_n((uint16_t *)p, &o,
						 (uint16_t)new, false,
						 __ATOMIC_SEQ_CST,
						 __ATOMIC_SEQ_CST);
		*old = o;
		return ok;
	}
	case 4: {
		uint32_t o = (uint32_t)*old;

		ok = __atomic_compare_exchange_n((uint32_t *)p, &o,
						 (uint32_t)new, false,
						 __ATOMIC_SEQ_CST,
						 __ATOMIC_SEQ_CST);
		*old = o;
		return ok;
	}
	default:
		return __atomic_compare_exchange_n((uint64_t *)p, old, new,
						   false, __ATOMIC_SEQ_CST,
						   __ATOMIC_SEQ_CST);
	}
}

/*
 * Both pages of a split locked access are RAM: the caller may hold the
 * global lock across them without an exit in between.
 */
static bool x86_split_ram(struct x86_cpu *cpu, int seg, uint64_t ea,
			  unsigned int size)
{
	return x86_host_ptr(cpu, seg, ea, 1, X86_ACC_W) &&
	       x86_host_ptr(cpu, seg, ea + size - 1, 1, X86_ACC_W);
}

/*
 * dst = op(dst, b) with flags; store says whether dst is written (CMP,
 * TEST and BT do not).  Returns the old value of dst.
 */
static uint64_t x86_rmw(struct x86_cpu *cpu, const struct x86_insn *in,
			x86_binop op, uint64_t b, bool store, uint64_t *res)
{
	const struct x86_operand *o = &in->op[0];
	uint64_t a, r, f, ea;
	void *p;

	if (o->kind != X86_OP_MEM || !store || !(in->flags & X86_I_LOCK)) {
		a = x86_op_read(cpu, in, 0);
		f = cpu->rflags;
		r = op(a, b, &f, o->size);
		if (store)
			x86_op_write(cpu, in, 0, r);
		goto done;
	}
	ea = x86_ea(cpu, in, o);
	p = x86_host_ptr(cpu, o->seg, ea, o->size, X86_ACC_W);
	if (p) {
		a = x86_ldn(p, o->size);
		do {
			f = cpu->rflags;
			r = op(a, b, &f, o->size);
		} while (!x86_cas(p, &a, r, o->size));
		goto done;
	}
	if (x86_split_ram(cpu, o->seg, ea, o->size)) {
		x86_lock_global();
		a = x86_read(cpu, o->seg, ea, o->size);
		f = cpu->rflags;
		r = op(a, b, &f, o->size);
		x86_write(cpu, o->seg, ea, r, o->size);
		x86_unlock_global();
		goto done;
	}
	/* MMIO: atomicity is the device's; the log replays the read */
	a = x86_read(cpu, o->seg, ea, o->size);
	f = cpu->rflags;
	r = op(a, b, &f, o->size);
	x86_write(cpu, o->seg, ea, r, o->size);
done:
	x86_set_arith(cpu, f);
	if (res)
		*res = r;
	return a;
}

/* -------------------------------------------------- binary arithmetic */

#define X86_ALU2(name, op, store)					\
static void x86_i_##name(struct x86_cpu *cpu, const struct x86_insn *in) \
{									\
	x86_rmw(cpu, in, x86_h_##op, x86_op_read(cpu, in, 1), store, NULL); \
}
X86_ALU2(add, add, true)
X86_ALU2(or, or, true)
X86_ALU2(adc, adc, true)
X86_ALU2(sbb, sbb, true)
X86_ALU2(and, and, true)
X86_ALU2(sub, sub, true)
X86_ALU2(xor, xor, true)
X86_ALU2(cmp, cmp, false)
X86_ALU2(test, test, false)

#define X86_ALU1(name)							\
static void x86_i_##name(struct x86_cpu *cpu, const struct x86_insn *in) \
{									\
	x86_rmw(cpu, in, x86_h_##name, 0, true, NULL);			\
}
X86_ALU1(inc)
X86_ALU1(dec)
X86_ALU1(neg)

static void x86_i_not(struct x86_cpu *cpu, const struct x86_insn *in)
{
	uint64_t fl = cpu->rflags;

	x86_rmw(cpu, in, x86_h_not, 0, true, NULL);
	cpu->rflags = fl;		/* NOT leaves the flags alone */
}

/* Shifts: the count operand is CL, an immediate, or the implicit 1. */
#define X86_SHIFT(name)							\
static void x86_i_##name(struct x86_cpu *cpu, const struct x86_insn *in) \
{									\
	uint64_t c = in->nops > 1 ? x86_op_read(cpu, in, 1) : 1;	\
	x86_rmw(cpu, in, x86_h_##name, c & 0xff, true, NULL);		\
}
X86_SHIFT(shl)
X86_SHIFT(shr)
X86_SHIFT(sar)
X86_SHIFT(rol)
X86_SHIFT(ror)
X86_SHIFT(rcl)
X86_SHIFT(rcr)

static uint64_t x86_h_shld(uint64_t a, uint64_t b, uint64_t c, uint64_t *fl,
			   unsigned int size, bool left)
{
	uint64_t f = X86_HFLAGS(*fl);

#define X86_SHD(insn, m)						\
	asm(X86_HPRE insn " %%cl, %" m "[b], %" m "[a]" X86_HPOST	\
	    : [a] "+r"(a), [f] "+r"(f) : [b] "r"(b), "c"(c) : "cc")
	if (left) {
		if (size == 2) X86_SHD("shld", "w");
		else if (size == 4) X86_SHD("shld", "k");
		else X86_SHD("shld", "q");
	} else {
		if (size == 2) X86_SHD("shrd", "w");
		else if (size == 4) X86_SHD("shrd", "k");
		else X86_SHD("shrd", "q");
	}
#undef X86_SHD
	*fl = f;
	return a;
}

static void x86_shxd(struct x86_cpu *cpu, const struct x86_insn *in, bool left)
{
	uint64_t a = x86_op_read(cpu, in, 0), b = x86_op_read(cpu, in, 1);
	uint64_t c = x86_op_read(cpu, in, 2) & 0xff, f = cpu->rflags, r;

	r = x86_h_shld(a, b, c, &f, in->op[0].size, left);
	x86_op_write(cpu, in, 0, r);
	x86_set_arith(cpu, f);
}

static void x86_i_shld(struct x86_cpu *cpu, const struct x86_insn *in)
{
	x86_shxd(cpu, in, true);
}

static void x86_i_shrd(struct x86_cpu *cpu, const struct x86_insn *in)
{
	x86_shxd(cpu, in, false);
}

/* ---------------------------------------------------- multiply/divide */

/* MUL/IMUL r/m: rDX:rAX = rAX * src; the host computes the flags. */
static void x86_mul1(struct x86_cpu *cpu, const struct x86_insn *in,
		     bool sign)
{
	unsigned int sz = in->op[0].size;
	uint64_t s = x86_op_read(cpu, in, 0), a = cpu->gpr[X86_RAX];
	uint64_t d = cpu->gpr[X86_RDX], f = X86_HFLAGS(cpu->rflags);

#define X86_MUL(insn, m)						\
	asm(X86_HPRE insn " %" m "[s]" X86_HPOST			\
	    : "+a"(a), "+d"(d), [f] "+r"(f) : [s] "r"(s) : "cc")
	switch (sz) {
	case 1: if (sign) X86_MUL("imul", "b"); else X86_MUL("mul", "b"); break;
	case 2: if (sign) X86_MUL("imul", "w"); else X86_MUL("mul", "w"); break;
	case 4: if (sign) X86_MUL("imul", "k"); else X86_MUL("mul", "k"); break;
	default: if (sign) X86_MUL("imul", "q"); else X86_MUL("mul", "q"); break;
	}
#undef X86_MUL
	if (sz == 1) {
		x86_gpr_set(cpu, X86_RAX, 2, a);
	} else {
		x86_gpr_set(cpu, X86_RAX, sz, a);
		x86_gpr_set(cpu, X86_RDX, sz, d);
	}
	x86_set_arith(cpu, f);
}

static void x86_i_mul(struct x86_cpu *cpu, const struct x86_insn *in)
{
	x86_mul1(cpu, in, false);
}

static void x86_i_imul(struct x86_cpu *cpu, const struct x86_insn *in)
{
	uint64_t a, b, f = cpu->rflags, r;

	if (in->nops == 1) {
		x86_mul1(cpu, in, true);
		return;
	}
	a = x86_op_read(cpu, in, in->nops == 3 ? 1 : 0);
	b = x86_op_read(cpu, in, in->nops == 3 ? 2 : 1);
	r = x86_h_imul2(a, b, &f, in->op[0].size);
	x86_op_write(cpu, in, 0, r);
	x86_set_arith(cpu, f);
}

/* #DE for a zero divisor or a quotient that does not fit (SDM DIV). */
static void x86_div(struct x86_cpu *cpu, const struct x86_insn *in, bool sign)
{
	unsigned int sz = in->op[0].size, bits = sz * 8;
	uint64_t s = x86_op_read(cpu, in, 0), f = X86_HFLAGS(cpu->rflags);
	uint64_t lo, hi, a, d;
	unsigned __int128 n;

	if (sz == 1) {
		lo = cpu->gpr[X86_RAX] & 0xff;
		hi = (cpu->gpr[X86_RAX] >> 8) & 0xff;
	} else {
		lo = cpu->gpr[X86_RAX] & x86_mask(sz);
		hi = cpu->gpr[X86_RDX] & x86_mask(sz);
	}
	if ((s & x86_mask(sz)) == 0)
		x86_raise_noerr(cpu, X86_DE);
	n = ((unsigned __int128)hi << bits) | lo;
	if (bits == 64)
		n = ((unsigned __int128)hi << 64) | lo;
	if (!sign) {
		if ((n / (s & x86_mask(sz))) >> bits)
			x86_raise_noerr(cpu, X86_DE);
	} else {
		__int128 sn, q, lim = (__int128)1 << (bits - 1);
		int64_t ss = (int64_t)x86_sext(s, sz);

		sn = bits == 64 ? (__int128)n :
		     (__int128)(((__int128)n << (128 - 2 * bits)) >> (128 - 2 * bits));
		/* -2^127 / -1 overflows the host division itself */
		if (ss == -1 && bits == 64 && (unsigned __int128)sn ==
		    ((unsigned __int128)1 << 127))
			x86_raise_noerr(cpu, X86_DE);
		q = sn / ss;
		if (q >= lim || q < -lim)
			x86_raise_noerr(cpu, X86_DE);
	}
	a = cpu->gpr[X86_RAX];
	d = cpu->gpr[X86_RDX];
#define X86_DIV(insn, m)						\
	asm(X86_HPRE insn " %" m "[s]" X86_HPOST			\
	    : "+a"(a), "+d"(d), [f] "+r"(f) : [s] "r"(s) : "cc")
	switch (sz) {
	case 1: if (sign) X86_DIV("idiv", "b"); else X86_DIV("div", "b"); break;
	case 2: if (sign) X86_DIV("idiv", "w"); else X86_DIV("div", "w"); break;
	case 4: if (sign) X86_DIV("idiv", "k"); else X86_DIV("div", "k"); break;
	default: if (sign) X86_DIV("idiv", "q"); else X86_DIV("div", "q"); break;
	}
#undef X86_DIV
	if (sz == 1) {
		x86_gpr_set(cpu, X86_RAX, 2, a);
	} else {
		x86_gpr_set(cpu, X86_RAX, sz, a);
		x86_gpr_set(cpu, X86_RDX, sz, d);
	}
	x86_set_arith(cpu, f);
}

static void x86_i_div(struct x86_cpu *cpu, const struct x86_insn *in)
{
	x86_div(cpu, in, false);
}

static void x86_i_idiv(struct x86_cpu *cpu, const struct x86_insn *in)
{
	x86_div(cpu, in, true);
}

/* ------------------------------------------------------ bit and byte */

/*
 * BT family.  A register bit offset addresses memory beyond the operand
 * (SDM Vol. 2, BT: bit base addressing); an immediate is taken modulo
 * the operand size.
 */
static void x86_bt(struct x86_cpu *cpu, const struct x86_insn *in,
		   x86_binop op, bool store)
{
	const struct x86_operand *o = &in->op[0];
	unsigned int sz = o->size, bits = sz * 8;
	uint64_t off = x86_op_read(cpu, in, 1), f, a, ea;
	struct x86_insn tmp;

	if (o->kind != X86_OP_MEM || in->op[1].kind == X86_OP_IMM) {
		x86_rmw(cpu, in, op, off & (bits - 1), store, NULL);
		return;
	}
	tmp = *in;
	ea = x86_ea(cpu, in, o);
	ea += (uint64_t)((int64_t)x86_sext(off, sz) >> (__builtin_ctz(bits))) *
	      sz;
	tmp.op[0].base = X86_NOREG;
	tmp.op[0].index = X86_NOREG;
	tmp.op[0].disp = (int64_t)(ea & x86_mask(in->adsz));
	if (!store) {
		a = x86_op_read(cpu, &tmp, 0);
		f = cpu->rflags;
		op(a, off & (bits - 1), &f, sz);
		x86_set_arith(cpu, f);
		return;
	}
	x86_rmw(cpu, &tmp, op, off & (bits - 1), true, NULL);
}

static void x86_i_bt(struct x86_cpu *cpu, const struct x86_insn *in)
{
	x86_bt(cpu, in, x86_h_bt, false);
}

static void x86_i_bts(struct x86_cpu *cpu, const struct x86_insn *in)
{
	x86_bt(cpu, in, x86_h_bts, true);
}

static void x86_i_btr(struct x86_cpu *cpu, const struct x86_insn *in)
{
	x86_bt(cpu, in, x86_h_btr, true);
}

static void x86_i_btc(struct x86_cpu *cpu, const struct x86_insn *in)
{
	x86_bt(cpu, in, x86_h_btc, true);
}

/* dst = op(dst, src): BSF/BSR keep dst for a zero source, as the host */
#define X86_SCAN(name)							\
static void x86_i_##name(struct x86_cpu *cpu, const struct x86_insn *in) \
{									\
	uint64_t d = x86_op_read(cpu, in, 0), s = x86_op_read(cpu, in, 1); \
	uint64_t f = cpu->rflags;					\
	d = x86_h_##name(d, s, &f, in->op[0].size);			\
	x86_op_write(cpu, in, 0, d);					\
	x86_set_arith(cpu, f);						\
}
/* BSF/BSR with a zero source leave the whole destination untouched */
#define X86_BSX(name)							\
static void x86_i_##name(struct x86_cpu *cpu, const struct x86_insn *in) \
{									\
	uint64_t d = x86_op_read(cpu, in, 0), s = x86_op_read(cpu, in, 1); \
	uint64_t f = cpu->rflags;					\
	d = x86_h_##name(d, s, &f, in->op[0].size);			\
	if (s & x86_mask(in->op[1].size))				\
		x86_op_write(cpu, in, 0, d);				\
	x86_set_arith(cpu, f);						\
}
X86_BSX(bsf)
X86_BSX(bsr)
X86_SCAN(tzcnt)
X86_SCAN(lzcnt)
X86_SCAN(popcnt)
X86_SCAN(adcx)
X86_SCAN(adox)

/* VEX three-operand forms: op0 = f(op1, op2) */
#define X86_VEX3(name)							\
static void x86_i_##name(struct x86_cpu *cpu, const struct x86_insn *in) \
{									\
	uint64_t a = x86_op_read(cpu, in, 1), b = x86_op_read(cpu, in, 2); \
	uint64_t f = cpu->rflags;					\
	a = x86_h_##name(a, b, &f, in->op[0].size);			\
	x86_op_write(cpu, in, 0, a);					\
	x86_set_arith(cpu, f);						\
}
X86_VEX3(andn)
X86_VEX3(bextr)
X86_VEX3(bzhi)
X86_VEX3(pdep)
X86_VEX3(pext)
X86_VEX3(sarx)
X86_VEX3(shlx)
X86_VEX3(shrx)

/* BLSI/BLSMSK/BLSR: vvvv = f(r/m), flags as the host sets them */
#define X86_BLS(name, insn)						\
static void x86_i_##name(struct x86_cpu *cpu, const struct x86_insn *in) \
{									\
	uint64_t s = x86_op_read(cpu, in, 1), d, f = X86_HFLAGS(cpu->rflags); \
	if (in->op[0].size == 4)					\
		asm(X86_HPRE insn " %k[s], %k[d]" X86_HPOST		\
		    : [d] "=&r"(d), [f] "+r"(f) : [s] "r"(s) : "cc");	\
	else								\
		asm(X86_HPRE insn " %q[s], %q[d]" X86_HPOST		\
		    : [d] "=&r"(d), [f] "+r"(f) : [s] "r"(s) : "cc");	\
	x86_op_write(cpu, in, 0, d);					\
	x86_set_arith(cpu, f);						\
}
X86_BLS(blsi, "blsi")
X86_BLS(blsmsk, "blsmsk")
X86_BLS(blsr, "blsr")

/* RORX and MULX leave the flags alone. */
static void x86_i_rorx(struct x86_cpu *cpu, const struct x86_insn *in)
{
	unsigned int bits = in->op[0].size * 8;
	uint64_t s = x86_op_read(cpu, in, 1) & x86_mask(in->op[0].size);
	unsigned int c = (unsigned int)x86_op_read(cpu, in, 2) & (bits - 1);

	x86_op_write(cpu, in, 0, c ? (s >> c) | (s << (bits - c)) : s);
}

static void x86_i_mulx(struct x86_cpu *cpu, const struct x86_insn *in)
{
	unsigned int sz = in->op[0].size;
	uint64_t a = cpu->gpr[X86_RDX] & x86_mask(sz);
	uint64_t b = x86_op_read(cpu, in, 2) & x86_mask(sz);
	unsigned __int128 r = (unsigned __int128)a * b;

	if (sz == 4) {
		x86_op_write(cpu, in, 1, (uint64_t)r);
		x86_op_write(cpu, in, 0, (uint64_t)(r >> 32));
	} else {
		x86_op_write(cpu, in, 1, (uint64_t)r);
		x86_op_write(cpu, in, 0, (uint64_t)(r >> 64));
	}
}

/* ------------------------------------------------ exchange and add */

/*
 * TEMP = SRC + DEST; SRC = DEST; DEST = TEMP (SDM Vol. 2, XADD): with a
 * register destination the sum is written last, so XADD r, r with the
 * same register leaves the sum.
 */
static void x86_i_xadd(struct x86_cpu *cpu, const struct x86_insn *in)
{
	uint64_t d, s, f;

	if (in->op[0].kind == X86_OP_MEM) {
		d = x86_rmw(cpu, in, x86_h_add, x86_op_read(cpu, in, 1), true,
			    NULL);
		x86_op_write(cpu, in, 1, d);
		return;
	}
	d = x86_op_read(cpu, in, 0);
	s = x86_op_read(cpu, in, 1);
	f = cpu->rflags;
	s = x86_h_add(d, s, &f, in->op[0].size);
	x86_op_write(cpu, in, 1, d);
	x86_op_write(cpu, in, 0, s);
	x86_set_arith(cpu, f);
}

static void x86_i_cmpxchg(struct x86_cpu *cpu, const struct x86_insn *in)
{
	const struct x86_operand *o = &in->op[0];
	unsigned int sz = o->size;
	uint64_t acc = cpu->gpr[X86_RAX] & x86_mask(sz), src, cur, f;
	void *p = NULL;

	src = x86_op_read(cpu, in, 1);
	if (o->kind == X86_OP_MEM && (in->flags & X86_I_LOCK))
		p = x86_host_ptr(cpu, o->seg, x86_ea(cpu, in, o), sz,
				 X86_ACC_W);
	if (p) {
		cur = acc;
		x86_cas(p, &cur, src, sz);
	} else if (o->kind == X86_OP_MEM) {
		cur = x86_op_read(cpu, in, 0);
		/* memory is written either way (SDM CMPXCHG) */
		x86_op_write(cpu, in, 0, cur == acc ? src : cur);
	} else {
		/*
		 * A register destination is left untouched when the
		 * comparison fails (a 32-bit one is not zero-extended),
		 * as the host CPU does.
		 */
		cur = x86_op_read(cpu, in, 0);
		if (cur == acc)
			x86_op_write(cpu, in, 0, src);
	}
	f = cpu->rflags;
	x86_h_cmp(acc, cur, &f, sz);
	if (cur != acc)
		x86_gpr_set(cpu, X86_RAX, sz, cur);
	x86_set_arith(cpu, f);
}

/* CMPXCHG8B/16B m64/m128 (SDM Vol. 2) */
static void x86_i_cmpxchgnb(struct x86_cpu *cpu, const struct x86_insn *in)
{
	const struct x86_operand *o = &in->op[0];
	bool wide = in->mnem == ZYDIS_MNEMONIC_CMPXCHG16B;
	unsigned int half = wide ? 8 : 4;
	uint64_t ea = x86_ea(cpu, in, o), m = x86_mask(half);
	uint64_t exp_lo = cpu->gpr[X86_RAX] & m, exp_hi = cpu->gpr[X86_RDX] & m;
	uint64_t new_lo = cpu->gpr[X86_RBX] & m, new_hi = cpu->gpr[X86_RCX] & m;
	uint64_t lo, hi;
	void *p;
	bool eq;

	if (wide && (ea & 15))
		x86_gp(cpu, 0);
	p = x86_host_ptr(cpu, o->seg, ea, 2 * half, X86_ACC_W);
	if (p && !wide) {
		uint64_t e = exp_lo | (exp_hi << 32), cur = e;

		eq = __atomic_compare_exchange_n((uint64_t *)p, &cur,
				new_lo | (new_hi << 32), false,
				__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
		lo = (uint32_t)cur;
		hi = cur >> 32;
	} else if (p) {
		unsigned __int128 e = ((unsigned __int128)exp_hi << 64) | exp_lo;
		unsigned __int128 n = ((unsigned __int128)new_hi << 64) | new_lo;

		asm volatile("lock cmpxchg16b %[m]"
			     : [m] "+m"(*(unsigned __int128 *)p),
			       "+a"(exp_lo), "+d"(exp_hi), "=@ccz"(eq)
			     : "b"(new_lo), "c"(new_hi) : "memory");
		(void)e;
		(void)n;
		lo = exp_lo;
		hi = exp_hi;
	} else {
		/*
		 * Split across two pages of RAM: serialize with the other
		 * split locked accesses (x86_rmw).  MMIO: the device sees
		 * the fragments once each through the log.
		 */
		bool split = x86_split_ram(cpu, o->seg, ea, 2 * half);

		if (split)
			x86_lock_global();
		lo = x86_read(cpu, o->seg, ea, half);
		hi = x86_read(cpu, o->seg, ea + half, half);
		eq = lo == exp_lo && hi == exp_hi;
		x86_write(cpu, o->seg, ea, eq ? new_lo : lo, half);
		x86_write(cpu, o->seg, ea + half, eq ? new_hi : hi, half);
		if (split)
			x86_unlock_global();
	}
	if (!eq) {
		x86_gpr_set(cpu, X86_RAX, half, lo);
		x86_gpr_set(cpu, X86_RDX, half, hi);
	}
	cpu->rflags = (cpu->rflags & ~X86_ZF) | (eq ? X86_ZF : 0);
}

/* ------------------------------------------------------------ decimal */

static uint64_t x86_szp(uint64_t fl, uint8_t v)
{
	fl &= ~(X86_SF | X86_ZF | X86_PF);
	if (v & 0x80)
		fl |= X86_SF;
	if (!v)
		fl |= X86_ZF;
	if (!(__builtin_popcount(v) & 1))
		fl |= X86_PF;
	return fl;
}

static void x86_i_daa_das(struct x86_cpu *cpu, bool sub)
{
	uint8_t al = (uint8_t)cpu->gpr[X86_RAX], old = al;
	bool cf = cpu->rflags & X86_CF, ncf = false, af = false;

	if ((al & 0xf) > 9 || (cpu->rflags & X86_AF)) {
		ncf = cf || (sub ? al < 6 : al > 0xf9);
		al = sub ? al - 6 : al + 6;
		af = true;
	}
	if (old > 0x99 || cf) {
		al = sub ? al - 0x60 : al + 0x60;
		ncf = true;
	}
	x86_gpr_set(cpu, X86_RAX, 1, al);
	cpu->rflags = x86_szp(cpu->rflags, al) & ~(X86_CF | X86_AF | X86_OF);
	cpu->rflags |= (ncf ? X86_CF : 0) | (af ? X86_AF : 0);
}

static void x86_i_daa(struct x86_cpu *cpu, const struct x86_insn *in)
{
	x86_i_daa_das(cpu, false);
}

static void x86_i_das(struct x86_cpu *cpu, const struct x86_insn *in)
{
	x86_i_daa_das(cpu, true);
}

static void x86_i_aaa_aas(struct x86_cpu *cpu, bool sub)
{
	uint16_t ax = (uint16_t)cpu->gpr[X86_RAX];
	bool adj = (ax & 0xf) > 9 || (cpu->rflags & X86_AF);

	if (adj)
		ax = sub ? (uint16_t)(((ax - 6) & 0xff) | ((ax - 0x100) & 0xff00)) :
			   (uint16_t)(ax + 0x106);
	ax &= 0xff0f;
	x86_gpr_set(cpu, X86_RAX, 2, ax);
	cpu->rflags &= ~(X86_CF | X86_AF);
	if (adj)
		cpu->rflags |= X86_CF | X86_AF;
}

static void x86_i_aaa(struct x86_cpu *cpu, const struct x86_insn *in)
{
	x86_i_aaa_aas(cpu, false);
}

static void x86_i_aas(struct x86_cpu *cpu, const struct x86_insn *in)
{
	x86_i_aaa_aas(cpu, true);
}

static void x86_i_aam(struct x86_cpu *cpu, const struct x86_insn *in)
{
	uint8_t base = (uint8_t)x86_op_read(cpu, in, 0);
	uint8_t al = (uint8_t)cpu->gpr[X86_RAX];

	if (!base)
		x86_raise_noerr(cpu, X86_DE);
	x86_gpr_set(cpu, X86_RAX, 2, ((al / base) << 8) | (al % base));
	cpu->rflags = x86_szp(cpu->rflags, al % base) &
		      ~(X86_CF | X86_AF | X86_OF);
}

static void x86_i_aad(struct x86_cpu *cpu, const struct x86_insn *in)
{
	uint8_t base = (uint8_t)x86_op_read(cpu, in, 0);
	uint16_t ax = (uint16_t)cpu->gpr[X86_RAX];
	uint8_t al = (uint8_t)((ax & 0xff) + (ax >> 8) * base);

	x86_gpr_set(cpu, X86_RAX, 2, al);
	cpu->rflags = x86_szp(cpu->rflags, al) & ~(X86_CF | X86_AF | X86_OF);
}

/* ------------------------------------------------------- conditions */

/* Condition codes in the encoding order of Jcc (SDM Vol. 1, B.1). */
bool x86_cond(uint64_t f, unsigned int cc)
{
	bool r;

	switch (cc >> 1) {
	case 0: r = f & X86_OF; break;
	case 1: r = f & X86_CF; break;
	case 2: r = f & X86_ZF; break;
	case 3: r = f & (X86_CF | X86_ZF); break;
	case 4: r = f & X86_SF; break;
	case 5: r = f & X86_PF; break;
	case 6: r = !!(f & X86_SF) != !!(f & X86_OF); break;
	default: r = (f & X86_ZF) || (!!(f & X86_SF) != !!(f & X86_OF)); break;
	}
	return (cc & 1) ? !r : r;
}

static void x86_i_setcc(struct x86_cpu *cpu, const struct x86_insn *in)
{
	x86_op_write(cpu, in, 0, x86_cond(cpu->rflags, in->opcode & 0xf));
}

static void x86_i_cmovcc(struct x86_cpu *cpu, const struct x86_insn *in)
{
	uint64_t v = x86_op_read(cpu, in, 1);	/* the source is always read */

	if (x86_cond(cpu->rflags, in->opcode & 0xf))
		x86_op_write(cpu, in, 0, v);
	else if (in->op[0].size == 4)
		x86_op_write(cpu, in, 0, cpu->gpr[in->op[0].reg]);
}

/* ------------------------------------------------------- flag control */

static void x86_i_clc(struct x86_cpu *cpu, const struct x86_insn *in)
{
	cpu->rflags &= ~X86_CF;
}

static void x86_i_stc(struct x86_cpu *cpu, const struct x86_insn *in)
{
	cpu->rflags |= X86_CF;
}

static void x86_i_cmc(struct x86_cpu *cpu, const struct x86_insn *in)
{
	cpu->rflags ^= X86_CF;
}

static void x86_i_cld(struct x86_cpu *cpu, const struct x86_insn *in)
{
	cpu->rflags &= ~X86_DF;
}

static void x86_i_std(struct x86_cpu *cpu, const struct x86_insn *in)
{
	cpu->rflags |= X86_DF;
}

static void x86_i_lahf(struct x86_cpu *cpu, const struct x86_insn *in)
{
	cpu->gpr[X86_RAX] = (cpu->gpr[X86_RAX] & ~0xff00ull) |
			    ((cpu->rflags & 0xd7) | X86_FIXED1) << 8;
}

static void x86_i_sahf(struct x86_cpu *cpu, const struct x86_insn *in)
{
	uint64_t ah = (cpu->gpr[X86_RAX] >> 8) & 0xd5;

	cpu->rflags = (cpu->rflags & ~0xd5ull) | ah | X86_FIXED1;
}

void x86_alu_register(void)
{
	static const struct { unsigned int m; x86_handler fn; } t[] = {
		{ ZYDIS_MNEMONIC_ADD, x86_i_add },
		{ ZYDIS_MNEMONIC_OR, x86_i_or },
		{ ZYDIS_MNEMONIC_ADC, x86_i_adc },
		{ ZYDIS_MNEMONIC_SBB, x86_i_sbb },
		{ ZYDIS_MNEMONIC_AND, x86_i_and },
		{ ZYDIS_MNEMONIC_SUB, x86_i_sub },
		{ ZYDIS_MNEMONIC_XOR, x86_i_xor },
		{ ZYDIS_MNEMONIC_CMP, x86_i_cmp },
		{ ZYDIS_MNEMONIC_TEST, x86_i_test },
		{ ZYDIS_MNEMONIC_INC, x86_i_inc },
		{ ZYDIS_MNEMONIC_DEC, x86_i_dec },
		{ ZYDIS_MNEMONIC_NEG, x86_i_neg },
		{ ZYDIS_MNEMONIC_NOT, x86_i_not },
		{ ZYDIS_MNEMONIC_SHL, x86_i_shl },
		{ ZYDIS_MNEMONIC_SHR, x86_i_shr },
		{ ZYDIS_MNEMONIC_SAR, x86_i_sar },
		{ ZYDIS_MNEMONIC_ROL, x86_i_rol },
		{ ZYDIS_MNEMONIC_ROR, x86_i_ror },
		{ ZYDIS_MNEMONIC_RCL, x86_i_rcl },
		{ ZYDIS_MNEMONIC_RCR, x86_i_rcr },
		{ ZYDIS_MNEMONIC_SHLD, x86_i_shld },
		{ ZYDIS_MNEMONIC_SHRD, x86_i_shrd },
		{ ZYDIS_MNEMONIC_MUL, x86_i_mul },
		{ ZYDIS_MNEMONIC_IMUL, x86_i_imul },
		{ ZYDIS_MNEMONIC_DIV, x86_i_div },
		{ ZYDIS_MNEMONIC_IDIV, x86_i_idiv },
		{ ZYDIS_MNEMONIC_BT, x86_i_bt },
		{ ZYDIS_MNEMONIC_BTS, x86_i_bts },
		{ ZYDIS_MNEMONIC_BTR, x86_i_btr },
		{ ZYDIS_MNEMONIC_BTC, x86_i_btc },
		{ ZYDIS_MNEMONIC_BSF, x86_i_bsf },
		{ ZYDIS_MNEMONIC_BSR, x86_i_bsr },
		{ ZYDIS_MNEMONIC_TZCNT, x86_i_tzcnt },
		{ ZYDIS_MNEMONIC_LZCNT, x86_i_lzcnt },
		{ ZYDIS_MNEMONIC_POPCNT, x86_i_popcnt },
		{ ZYDIS_MNEMONIC_ADCX, x86_i_adcx },
		{ ZYDIS_MNEMONIC_ADOX, x86_i_adox },
		{ ZYDIS_MNEMONIC_ANDN, x86_i_andn },
		{ ZYDIS_MNEMONIC_BEXTR, x86_i_bextr },
		{ ZYDIS_MNEMONIC_BZHI, x86_i_bzhi },
		{ ZYDIS_MNEMONIC_PDEP, x86_i_pdep },
		{ ZYDIS_MNEMONIC_PEXT, x86_i_pext },
		{ ZYDIS_MNEMONIC_SARX, x86_i_sarx },
		{ ZYDIS_MNEMONIC_SHLX, x86_i_shlx },
		{ ZYDIS_MNEMONIC_SHRX, x86_i_shrx },
		{ ZYDIS_MNEMONIC_BLSI, x86_i_blsi },
		{ ZYDIS_MNEMONIC_BLSMSK, x86_i_blsmsk },
		{ ZYDIS_MNEMONIC_BLSR, x86_i_blsr },
		{ ZYDIS_MNEMONIC_RORX, x86_i_rorx },
		{ ZYDIS_MNEMONIC_MULX, x86_i_mulx },
		{ ZYDIS_MNEMONIC_XADD, x86_i_xadd },
		{ ZYDIS_MNEMONIC_CMPXCHG, x86_i_cmpxchg },
		{ ZYDIS_MNEMONIC_CMPXCHG8B, x86_i_cmpxchgnb },
		{ ZYDIS_MNEMONIC_CMPXCHG16B, x86_i_cmpxchgnb },
		{ ZYDIS_MNEMONIC_DAA, x86_i_daa },
		{ ZYDIS_MNEMONIC_DAS, x86_i_das },
		{ ZYDIS_MNEMONIC_AAA, x86_i_aaa },
		{ ZYDIS_MNEMONIC_AAS, x86_i_aas },
		{ ZYDIS_MNEMONIC_AAM, x86_i_aam },
		{ ZYDIS_MNEMONIC_AAD, x86_i_aad },
		{ ZYDIS_MNEMONIC_CLC, x86_i_clc },
		{ ZYDIS_MNEMONIC_STC, x86_i_stc },
		{ ZYDIS_MNEMONIC_CMC, x86_i_cmc },
		{ ZYDIS_MNEMONIC_CLD, x86_i_cld },
		{ ZYDIS_MNEMONIC_STD, x86_i_std },
		{ ZYDIS_MNEMONIC_LAHF, x86_i_lahf },
		{ ZYDIS_MNEMONIC_SAHF, x86_i_sahf },
	};
	static const unsigned int cc[] = {
		ZYDIS_MNEMONIC_SETO, ZYDIS_MNEMONIC_SETNO, ZYDIS_MNEMONIC_SETB,
		ZYDIS_MNEMONIC_SETNB, ZYDIS_MNEMONIC_SETZ, ZYDIS_MNEMONIC_SETNZ,
		ZYDIS_MNEMONIC_SETBE, ZYDIS_MNEMONIC_SETNBE, ZYDIS_MNEMONIC_SETS,
		ZYDIS_MNEMONIC_SETNS, ZYDIS_MNEMONIC_SETP, ZYDIS_MNEMONIC_SETNP,
		ZYDIS_MNEMONIC_SETL, ZYDIS_MNEMONIC_SETNL, ZYDIS_MNEMONIC_SETLE,
		ZYDIS_MNEMONIC_SETNLE,
		ZYDIS_MNEMONIC_CMOVO, ZYDIS_MNEMONIC_CMOVNO, ZYDIS_MNEMONIC_CMOVB,
		ZYDIS_MNEMONIC_CMOVNB, ZYDIS_MNEMONIC_CMOVZ, ZYDIS_MNEMONIC_CMOVNZ,
		ZYDIS_MNEMONIC_CMOVBE, ZYDIS_MNEMONIC_CMOVNBE,
		ZYDIS_MNEMONIC_CMOVS, ZYDIS_MNEMONIC_CMOVNS, ZYDIS_MNEMONIC_CMOVP,
		ZYDIS_MNEMONIC_CMOVNP, ZYDIS_MNEMONIC_CMOVL, ZYDIS_MNEMONIC_CMOVNL,
		ZYDIS_MNEMONIC_CMOVLE, ZYDIS_MNEMONIC_CMOVNLE,
	};
	unsigned int i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		x86_register(t[i].m, t[i].fn);
	for (i = 0; i < 16; i++)
		x86_register(cc[i], x86_i_setcc);
	for (i = 16; i < 32; i++)
		x86_register(cc[i], x86_i_cmovcc);
}
