// SPDX-License-Identifier: MIT
/*
 * test_fpu.c - the x87 FPU: every row runs natively and in the engine
 * from the same registers, tags, TOP, control word and memory, over a
 * grid of 80-bit edge values (zeros, denormals, pseudo-denormals,
 * unnormals, infinities, quiet and signalling NaNs, extremes) and control
 * words (every precision and rounding mode, masked and unmasked
 * exceptions); ST0-7, FSW, FCW, tags, FOP, flags, AX and memory must
 * match.  Then #NM (CR0.EM, CR0.TS, WAIT with MP) and #MF for a pending
 * exception.
 */
#include "test_fpstate.h"

#define OP(name, code) GUEST(fpu_##name, ".code64\n" code "\n")
#define ROW(n, text, lo, hi) { text, fpu_##n##_start, fpu_##n##_end, lo, hi }

OP(f0_fadd, "fadd %st(1),%st");
OP(f1_fadd, "fadd %st,%st(2)");
OP(f2_faddp, "faddp %st,%st(1)");
OP(f3_fsub, "fsub %st(1),%st");
OP(f4_fsubr, "fsubr %st(1),%st");
OP(f5_fsubp, "fsubp %st,%st(3)");
OP(f6_fsubrp, "fsubrp %st,%st(1)");
OP(f7_fmul, "fmul %st(1),%st");
OP(f8_fmulp, "fmulp %st,%st(2)");
OP(f9_fdiv, "fdiv %st(1),%st");
OP(f10_fdivr, "fdivr %st(1),%st");
OP(f11_fdivp, "fdivp %st,%st(1)");
OP(f12_fdivrp, "fdivrp %st,%st(2)");
OP(f13_fadds, "fadds (%rsi)");
OP(f14_faddl, "faddl 8(%rsi)");
OP(f15_fsubs, "fsubs 4(%rsi)");
OP(f16_fsubrl, "fsubrl (%rsi)");
OP(f17_fmuls, "fmuls (%rsi)");
OP(f18_fdivl, "fdivl 16(%rsi)");
OP(f19_fdivrs, "fdivrs 4(%rsi)");
OP(f20_fiadds, "fiadds (%rsi)");
OP(f21_fiaddl, "fiaddl 4(%rsi)");
OP(f22_fisubs, "fisubs 2(%rsi)");
OP(f23_fimull, "fimull (%rsi)");
OP(f24_fidivs, "fidivs 6(%rsi)");
OP(f25_fidivrl, "fidivrl 8(%rsi)");
OP(f26_fsqrt, "fsqrt");
OP(f27_fabs, "fabs");
OP(f28_fchs, "fchs");
OP(f29_frndint, "frndint");
OP(f30_fscale, "fscale");
OP(f31_fxtract, "fxtract");
OP(f32_fprem, "fprem");
OP(f33_fprem1, "fprem1");
OP(f34_f2xm1, "f2xm1");
OP(f35_fyl2x, "fyl2x");
OP(f36_fyl2xp1, "fyl2xp1");
OP(f37_fsin, "fsin");
OP(f38_fcos, "fcos");
OP(f39_fsincos, "fsincos");
OP(f40_fptan, "fptan");
OP(f41_fpatan, "fpatan");
OP(f42_fcom, "fcom %st(1)");
OP(f43_fcomp, "fcomp %st(2)");
OP(f44_fcompp, "fcompp");
OP(f45_fucom, "fucom %st(1)");
OP(f46_fucomp, "fucomp %st(1)");
OP(f47_fucompp, "fucompp");
OP(f48_fcomi, "fcomi %st(1),%st");
OP(f49_fcomip, "fcomip %st(1),%st");
OP(f50_fucomi, "fucomi %st(2),%st");
OP(f51_fucomip, "fucomip %st(1),%st");
OP(f52_ftst, "ftst");
OP(f53_fxam, "fxam");
OP(f54_fcoms, "fcoms (%rsi)");
OP(f55_fcompl, "fcompl 8(%rsi)");
OP(f56_ficoms, "ficoms (%rsi)");
OP(f57_ficompl, "ficompl 4(%rsi)");
OP(f58_fxch, "fxch %st(1)");
OP(f59_fxch, "fxch %st(5)");
OP(f60_fld, "fld %st(3)");
OP(f61_fst, "fst %st(2)");
OP(f62_fstp, "fstp %st(1)");
OP(f63_fld1, "fld1");
OP(f64_fldz, "fldz");
OP(f65_fldpi, "fldpi");
OP(f66_fldl2e, "fldl2e");
OP(f67_fldl2t, "fldl2t");
OP(f68_fldlg2, "fldlg2");
OP(f69_fldln2, "fldln2");
OP(f70_fdecstp, "fdecstp");
OP(f71_fincstp, "fincstp");
OP(f72_ffree, "ffree %st(1)");
OP(f73_ffreep, "ffreep %st(2)");
OP(f74_fnop, "fnop");
OP(f75_fcmovb, "fcmovb %st(1),%st");
OP(f76_fcmove, "fcmove %st(2),%st");
OP(f77_fcmovbe, "fcmovbe %st(1),%st");
OP(f78_fcmovu, "fcmovu %st(1),%st");
OP(f79_fcmovnb, "fcmovnb %st(1),%st");
OP(f80_fcmovne, "fcmovne %st(1),%st");
OP(f81_fcmovnbe, "fcmovnbe %st(1),%st");
OP(f82_fcmovnu, "fcmovnu %st(1),%st");
OP(f83_flds, "flds (%rsi)");
OP(f84_fldl, "fldl 8(%rsi)");
OP(f85_fldt, "fldt 16(%rsi)");
OP(f86_fsts, "fsts (%rsi)");
OP(f87_fstl, "fstl 8(%rsi)");
OP(f88_fstps, "fstps 4(%rsi)");
OP(f89_fstpl, "fstpl (%rsi)");
OP(f90_fstpt, "fstpt 32(%rsi)");
OP(f91_filds, "filds (%rsi)");
OP(f92_fildl, "fildl 4(%rsi)");
OP(f93_fildll, "fildll 8(%rsi)");
OP(f94_fists, "fists (%rsi)");
OP(f95_fistl, "fistl 4(%rsi)");
OP(f96_fistps, "fistps 2(%rsi)");
OP(f97_fistpl, "fistpl (%rsi)");
OP(f98_fistpll, "fistpll 8(%rsi)");
OP(f99_fisttps, "fisttps (%rsi)");
OP(f100_fisttpl, "fisttpl 4(%rsi)");
OP(f101_fisttpll, "fisttpll 8(%rsi)");
OP(f102_fbld, "fbld 16(%rsi)");
OP(f103_fbstp, "fbstp (%rsi)");
OP(f104_fnstsw, "fnstsw %ax");
OP(f105_fnstsw, "fnstsw (%rsi)");
OP(f106_fnstcw, "fnstcw (%rsi)");
OP(f107_fldcw, "fldcw 8(%rsi)");
OP(f108_fninit, "fninit");
OP(f109_fnclex, "fnclex");
OP(f110_fnstenv, "fnstenv (%rsi)");
OP(f111_fldenv, "fldenv 32(%rsi)");
OP(f112_fnsave, "fnsave (%rsi)");
OP(f113_frstor, "frstor (%rsi)");
OP(f114_fwait, "fwait");

static const struct fp_row rows[] = {
	ROW(f0_fadd, "fadd %st(1),%st", 0, 0),
	ROW(f1_fadd, "fadd %st,%st(2)", 0, 0),
	ROW(f2_faddp, "faddp %st,%st(1)", 0, 0),
	ROW(f3_fsub, "fsub %st(1),%st", 0, 0),
	ROW(f4_fsubr, "fsubr %st(1),%st", 0, 0),
	ROW(f5_fsubp, "fsubp %st,%st(3)", 0, 0),
	ROW(f6_fsubrp, "fsubrp %st,%st(1)", 0, 0),
	ROW(f7_fmul, "fmul %st(1),%st", 0, 0),
	ROW(f8_fmulp, "fmulp %st,%st(2)", 0, 0),
	ROW(f9_fdiv, "fdiv %st(1),%st", 0, 0),
	ROW(f10_fdivr, "fdivr %st(1),%st", 0, 0),
	ROW(f11_fdivp, "fdivp %st,%st(1)", 0, 0),
	ROW(f12_fdivrp, "fdivrp %st,%st(2)", 0, 0),
	ROW(f13_fadds, "fadds (%rsi)", 0, 0),
	ROW(f14_faddl, "faddl 8(%rsi)", 0, 0),
	ROW(f15_fsubs, "fsubs 4(%rsi)", 0, 0),
	ROW(f16_fsubrl, "fsubrl (%rsi)", 0, 0),
	ROW(f17_fmuls, "fmuls (%rsi)", 0, 0),
	ROW(f18_fdivl, "fdivl 16(%rsi)", 0, 0),
	ROW(f19_fdivrs, "fdivrs 4(%rsi)", 0, 0),
	ROW(f20_fiadds, "fiadds (%rsi)", 0, 0),
	ROW(f21_fiaddl, "fiaddl 4(%rsi)", 0, 0),
	ROW(f22_fisubs, "fisubs 2(%rsi)", 0, 0),
	ROW(f23_fimull, "fimull (%rsi)", 0, 0),
	ROW(f24_fidivs, "fidivs 6(%rsi)", 0, 0),
	ROW(f25_fidivrl, "fidivrl 8(%rsi)", 0, 0),
	ROW(f26_fsqrt, "fsqrt", 0, 0),
	ROW(f27_fabs, "fabs", 0, 0),
	ROW(f28_fchs, "fchs", 0, 0),
	ROW(f29_frndint, "frndint", 0, 0),
	ROW(f30_fscale, "fscale", 0, 0),
	ROW(f31_fxtract, "fxtract", 0, 0),
	ROW(f32_fprem, "fprem", 0, 0),
	ROW(f33_fprem1, "fprem1", 0, 0),
	ROW(f34_f2xm1, "f2xm1", 0, 0),
	ROW(f35_fyl2x, "fyl2x", 0, 0),
	ROW(f36_fyl2xp1, "fyl2xp1", 0, 0),
	ROW(f37_fsin, "fsin", 0, 0),
	ROW(f38_fcos, "fcos", 0, 0),
	ROW(f39_fsincos, "fsincos", 0, 0),
	ROW(f40_fptan, "fptan", 0, 0),
	ROW(f41_fpatan, "fpatan", 0, 0),
	ROW(f42_fcom, "fcom %st(1)", 0, 0),
	ROW(f43_fcomp, "fcomp %st(2)", 0, 0),
	ROW(f44_fcompp, "fcompp", 0, 0),
	ROW(f45_fucom, "fucom %st(1)", 0, 0),
	ROW(f46_fucomp, "fucomp %st(1)", 0, 0),
	ROW(f47_fucompp, "fucompp", 0, 0),
	ROW(f48_fcomi, "fcomi %st(1),%st", 0, 0),
	ROW(f49_fcomip, "fcomip %st(1),%st", 0, 0),
	ROW(f50_fucomi, "fucomi %st(2),%st", 0, 0),
	ROW(f51_fucomip, "fucomip %st(1),%st", 0, 0),
	ROW(f52_ftst, "ftst", 0, 0),
	ROW(f53_fxam, "fxam", 0, 0),
	ROW(f54_fcoms, "fcoms (%rsi)", 0, 0),
	ROW(f55_fcompl, "fcompl 8(%rsi)", 0, 0),
	ROW(f56_ficoms, "ficoms (%rsi)", 0, 0),
	ROW(f57_ficompl, "ficompl 4(%rsi)", 0, 0),
	ROW(f58_fxch, "fxch %st(1)", 0, 0),
	ROW(f59_fxch, "fxch %st(5)", 0, 0),
	ROW(f60_fld, "fld %st(3)", 0, 0),
	ROW(f61_fst, "fst %st(2)", 0, 0),
	ROW(f62_fstp, "fstp %st(1)", 0, 0),
	ROW(f63_fld1, "fld1", 0, 0),
	ROW(f64_fldz, "fldz", 0, 0),
	ROW(f65_fldpi, "fldpi", 0, 0),
	ROW(f66_fldl2e, "fldl2e", 0, 0),
	ROW(f67_fldl2t, "fldl2t", 0, 0),
	ROW(f68_fldlg2, "fldlg2", 0, 0),
	ROW(f69_fldln2, "fldln2", 0, 0),
	ROW(f70_fdecstp, "fdecstp", 0, 0),
	ROW(f71_fincstp, "fincstp", 0, 0),
	ROW(f72_ffree, "ffree %st(1)", 0, 0),
	ROW(f73_ffreep, "ffreep %st(2)", 0, 0),
	ROW(f74_fnop, "fnop", 0, 0),
	ROW(f75_fcmovb, "fcmovb %st(1),%st", 0, 0),
	ROW(f76_fcmove, "fcmove %st(2),%st", 0, 0),
	ROW(f77_fcmovbe, "fcmovbe %st(1),%st", 0, 0),
	ROW(f78_fcmovu, "fcmovu %st(1),%st", 0, 0),
	ROW(f79_fcmovnb, "fcmovnb %st(1),%st", 0, 0),
	ROW(f80_fcmovne, "fcmovne %st(1),%st", 0, 0),
	ROW(f81_fcmovnbe, "fcmovnbe %st(1),%st", 0, 0),
	ROW(f82_fcmovnu, "fcmovnu %st(1),%st", 0, 0),
	ROW(f83_flds, "flds (%rsi)", 0, 0),
	ROW(f84_fldl, "fldl 8(%rsi)", 0, 0),
	ROW(f85_fldt, "fldt 16(%rsi)", 0, 0),
	ROW(f86_fsts, "fsts (%rsi)", 0, 0),
	ROW(f87_fstl, "fstl 8(%rsi)", 0, 0),
	ROW(f88_fstps, "fstps 4(%rsi)", 0, 0),
	ROW(f89_fstpl, "fstpl (%rsi)", 0, 0),
	ROW(f90_fstpt, "fstpt 32(%rsi)", 0, 0),
	ROW(f91_filds, "filds (%rsi)", 0, 0),
	ROW(f92_fildl, "fildl 4(%rsi)", 0, 0),
	ROW(f93_fildll, "fildll 8(%rsi)", 0, 0),
	ROW(f94_fists, "fists (%rsi)", 0, 0),
	ROW(f95_fistl, "fistl 4(%rsi)", 0, 0),
	ROW(f96_fistps, "fistps 2(%rsi)", 0, 0),
	ROW(f97_fistpl, "fistpl (%rsi)", 0, 0),
	ROW(f98_fistpll, "fistpll 8(%rsi)", 0, 0),
	ROW(f99_fisttps, "fisttps (%rsi)", 0, 0),
	ROW(f100_fisttpl, "fisttpl 4(%rsi)", 0, 0),
	ROW(f101_fisttpll, "fisttpll 8(%rsi)", 0, 0),
	ROW(f102_fbld, "fbld 16(%rsi)", 0, 0),
	ROW(f103_fbstp, "fbstp (%rsi)", 0, 0),
	ROW(f104_fnstsw, "fnstsw %ax", 0, 0),
	ROW(f105_fnstsw, "fnstsw (%rsi)", 0, 0),
	ROW(f106_fnstcw, "fnstcw (%rsi)", 0, 0),
	ROW(f107_fldcw, "fldcw 8(%rsi)", 0, 0),
	ROW(f108_fninit, "fninit", 0, 0),
	ROW(f109_fnclex, "fnclex", 0, 0),
	ROW(f110_fnstenv, "fnstenv (%rsi)", 12, 28),
	ROW(f111_fldenv, "fldenv 32(%rsi)", 0, 0),
	ROW(f112_fnsave, "fnsave (%rsi)", 12, 28),
	ROW(f113_frstor, "frstor (%rsi)", 0, 0),
	ROW(f114_fwait, "fwait", 0, 0),
};

/* 80-bit values: significand, sign and exponent */
static const struct { uint64_t m; uint16_t se; } xvals[] = {
	{ 0, 0 }, { 0, 0x8000 }, { 1ull << 63, 0x3fff },
	{ 3ull << 62, 0xbfff }, { 0xc90fdaa22168c235ull, 0x4000 },
	{ 1, 0 }, { (1ull << 63) | 1, 0 }, { 1ull << 63, 0x7fff },
	{ 1ull << 63, 0xffff }, { 3ull << 62, 0x7fff }, { 5ull << 61, 0x7fff },
	{ 1ull << 62, 0x3fff }, { ~0ull, 0x7ffe }, { 1ull << 63, 1 },
	{ 1ull << 63, 0x403e }, { 0xcccccccccccccccdull, 0x3ffb },
	{ 0xfedcba9876543210ull, 0xc00a }, { 3ull << 62, 0x4000 },
};
#define NX (sizeof(xvals) / sizeof(xvals[0]))

static const uint16_t fcws[] = {
	0x37f, 0x27f, 0x07f, 0xf7f, 0x77f, 0xb7f, 0x37e, 0x360,
};

static void fpu_state(struct fp_state *s, unsigned int i, unsigned int j,
		      unsigned int k)
{
	unsigned int r;

	memset(s, 0, sizeof(*s));
	s->fx.fcw = fcws[k];
	s->fx.mxcsr = 0x1f80;
	s->fx.mxcsr_mask = 0xffff;
	for (r = 0; r < 8; r++) {
		unsigned int v = r == 0 ? i : r == 1 ? j : (i + j + r) % NX;

		memcpy(s->fx.st[r], &xvals[v].m, 8);
		memcpy(s->fx.st[r] + 8, &xvals[v].se, 2);
	}
	/* all full, or ST0/ST1 only; TOP 0 or 3; some condition codes */
	s->fx.ftw = (i + k) & 1 ? 0xff : 0x03;
	if ((i + j) % 3 == 2) {
		s->fx.fsw = 3 << 11;
		s->fx.ftw = (uint8_t)(s->fx.ftw << 3 | s->fx.ftw >> 5);
	}
	if (j & 1)
		s->fx.fsw |= 0x4500;
	s->rax = 0x1234567890abcdefull;
	s->flags = 0x202 | (k & 1 ? 0x8d5 : 0);
	for (r = 0; r < FP_BUF_SIZE / 16; r++) {
		unsigned int v = (i * 3 + j + r) % NX;

		memcpy(s->buf + 16 * r, &xvals[v].m, 8);
		memcpy(s->buf + 16 * r + 8, &xvals[v].se, 2);
		memcpy(s->buf + 16 * r + 10, &xvals[(v + 5) % NX].m, 6);
	}
}

static void test_row(void **state)
{
	const struct fp_row *row = *state;
	struct fp_state s;
	struct fp_ctx c;
	unsigned int i, j, k;

	fp_ctx_init(&c, row);
	for (i = 0; i < NX; i++)
		for (j = 0; j < NX; j += 2)
			for (k = (i + j) % 2; k < sizeof(fcws) / sizeof(fcws[0]);
			     k += 2) {
				fpu_state(&s, i, j, k);
				fp_compare(&c, &s);
			}
	fp_ctx_free(&c);
}

/* ------------------------------------------------------------ faults */

GUEST(fpu_fadd, ".code64\n fadd %st(1), %st\n hlt\n");
GUEST(fpu_fnstsw, ".code64\n fnstsw %ax\n hlt\n");
GUEST(fpu_fwait, ".code64\n fwait\n hlt\n");
GUEST(fpu_paddb, ".code64\n paddb %mm1, %mm0\n hlt\n");

struct fault_row {
	const char *name;
	const uint8_t *start, *end;
	uint64_t cr0_set, cr0_clr;
	uint16_t fsw;
	int vec;
};

#define FROW(n, code, set, clr, fsw, v) \
	{ n, fpu_##code##_start, fpu_##code##_end, set, clr, fsw, v }
static const struct fault_row frows[] = {
	FROW("fadd ok", fadd, 0, 0, 0, -1),
	FROW("fadd EM: #NM", fadd, 4, 0, 0, 7),
	FROW("fadd TS: #NM", fadd, 8, 0, 0, 7),
	FROW("fadd pending: #MF", fadd, 0, 0, 0x8081, 16),
	FROW("fnstsw pending ok", fnstsw, 0, 0, 0x8081, -1),
	FROW("fnstsw TS: #NM", fnstsw, 8, 0, 0, 7),
	FROW("fwait TS without MP ok", fwait, 8, 2, 0, -1),
	FROW("fwait TS with MP: #NM", fwait, 8, 0, 0, 7),
	FROW("fwait EM ok", fwait, 4, 0, 0, -1),
	FROW("fwait pending: #MF", fwait, 0, 0, 0x8081, 16),
	FROW("paddb mm pending: #MF", paddb, 0, 0, 0x8081, 16),
	FROW("paddb mm TS: #NM", paddb, 8, 0, 0, 7),
	FROW("paddb mm EM: #UD", paddb, 4, 0, 0, 6),
};

static void test_fault(void **state)
{
	const struct fault_row *r = *state;
	struct th *t = th_new();
	struct x86_cpu *cpu = &t->cpu;

	th_long64(t);
	fp_exc_handlers(t);
	cpu->cr4 |= X86_CR4_OSFXSR_T | X86_CR4_OSXMMEXCPT_T;
	cpu->cr0 = (cpu->cr0 | r->cr0_set | 0x22) & ~r->cr0_clr;
	x86_cpu_state_changed(cpu);
	th_load(t, TH_CODE, r->start, r->end);
	cpu->rip = TH_CODE;
	cpu->gpr[X86_RSP] = TH_STACK;
	cpu->gpr[X86_R15] = 0xff;
	cpu->fx.fcw = r->fsw ? 0x37e : 0x37f;
	cpu->fx.fsw = r->fsw;
	cpu->fx.ftw = 0x03;
	assert_int_equal(th_run(t), X86_EXIT_HLT);
	if (r->vec < 0 && cpu->gpr[X86_R15] != 0xff)
		fail_msg("%s: fault %d", r->name, (int)cpu->gpr[X86_R15]);
	if (r->vec >= 0 && cpu->gpr[X86_R15] != (uint64_t)r->vec)
		fail_msg("%s: vector %d, want %d", r->name,
			 (int)cpu->gpr[X86_R15], r->vec);
	th_free(t);
}

int main(void)
{
	struct CMUnitTest tests[sizeof(rows) / sizeof(rows[0]) +
				sizeof(frows) / sizeof(frows[0])];
	size_t i, n = 0;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		tests[n++] = (struct CMUnitTest){ rows[i].name, test_row, NULL,
						  NULL, (void *)&rows[i] };
	for (i = 0; i < sizeof(frows) / sizeof(frows[0]); i++)
		tests[n++] = (struct CMUnitTest){ frows[i].name, test_fault,
						  NULL, NULL,
						  (void *)&frows[i] };
	return _cmocka_run_group_tests("fpu", tests, n, NULL, NULL);
}
