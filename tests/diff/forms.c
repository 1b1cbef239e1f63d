// SPDX-License-Identifier: MIT
/*
 * forms.c - the table of instruction forms the fuzzer generates: one row
 * per mnemonic and operand shape.  Encoding is Zydis's; a row only says
 * which operand kinds and sizes to ask for (gen.c picks the registers,
 * memory addressing and immediates).
 *
 * A group can be turned off as a whole (--groups), and a form needing a
 * CPUID feature is used only when both the host and the engine have it.
 */
#include "fuzz.h"
#include "gen.h"

#define M(x)	ZYDIS_MNEMONIC_##x

/* integer forms of one size set */
#define GP(name, mn, sz, gen, fl, n, ...) \
	{ name, M(mn), FZ_G_GP, FZ_F_NONE, sz, gen, n, { __VA_ARGS__ }, fl, 0 }
#define GPF(name, mn, feat, sz, gen, n, ...) \
	{ name, M(mn), FZ_G_GP, FZ_F_##feat, sz, gen, n, { __VA_ARGS__ }, 0, 0 }
#define GRP(grp, name, mn, sz, gen, n, ...) \
	{ name, M(mn), FZ_G_##grp, FZ_F_NONE, sz, gen, n, { __VA_ARGS__ }, 0, 0 }
#define FP(grp, feat, name, mn, gen, fl, n, ...) \
	{ name, M(mn), FZ_G_##grp, FZ_F_##feat, S_ALL, gen, n, { __VA_ARGS__ }, fl, 0 }

/* binary ALU: every operand shape */
#define ALU(mn, lo) \
	GP(lo " r,r", mn, S_ALL, G_PLAIN, 0, 2, K_R, K_R), \
	GP(lo " r,m", mn, S_ALL, G_PLAIN, 0, 2, K_R, K_M), \
	GP(lo " m,r", mn, S_ALL, G_PLAIN, FZ_FF_LOCK, 2, K_M, K_R), \
	GP(lo " r,i", mn, S_ALL, G_PLAIN, 0, 2, K_R, K_I), \
	GP(lo " m,i", mn, S_ALL, G_PLAIN, FZ_FF_LOCK, 2, K_M, K_I)
#define UNARY(mn, lo) \
	GP(lo " rm", mn, S_ALL, G_PLAIN, FZ_FF_LOCK, 1, K_RM)
#define SHIFT(mn, lo) \
	GP(lo " rm,1", mn, S_ALL, G_PLAIN, 0, 2, K_RM, K_ONE), \
	GP(lo " rm,cl", mn, S_ALL, G_SHIFTCL, 0, 2, K_RM, K_CL), \
	GP(lo " rm,ib", mn, S_ALL, G_PLAIN, 0, 2, K_RM, K_COUNT)
#define CC(pre, lo, what) \
	what(pre##O, lo "o"), what(pre##NO, lo "no"), what(pre##B, lo "b"), \
	what(pre##NB, lo "nb"), what(pre##Z, lo "z"), what(pre##NZ, lo "nz"), \
	what(pre##BE, lo "be"), what(pre##NBE, lo "nbe"), what(pre##S, lo "s"), \
	what(pre##NS, lo "ns"), what(pre##P, lo "p"), what(pre##NP, lo "np"), \
	what(pre##L, lo "l"), what(pre##NL, lo "nl"), what(pre##LE, lo "le"), \
	what(pre##NLE, lo "nle")
#define CMOV(mn, lo)	GP(lo " r,rm", mn, S_WDQ, G_PLAIN, 0, 2, K_R, K_RM)
#define SETCC(mn, lo)	GP(lo " rm8", mn, S_B, G_PLAIN, 0, 1, K_RM)
#define JCC(mn, lo)	GRP(BRANCH, lo " rel8", mn, S_ALL, G_BRANCH, 1, K_REL)
#define BTX(mn, lo) \
	GP(lo " rm,r", mn, S_WDQ, G_BTREG, FZ_FF_LOCK, 2, K_RM, K_R), \
	GP(lo " rm,ib", mn, S_WDQ, G_PLAIN, FZ_FF_LOCK, 2, K_RM, K_COUNT)
#define STR(mn, lo, gen)	GRP(STR, lo, mn, S_ALL, gen, 0, K_NONE)

const struct fz_form fz_forms[] = {
	ALU(ADD, "add"), ALU(OR, "or"), ALU(ADC, "adc"), ALU(SBB, "sbb"),
	ALU(AND, "and"), ALU(SUB, "sub"), ALU(XOR, "xor"), ALU(CMP, "cmp"),
	GP("test r,r", TEST, S_ALL, G_PLAIN, 0, 2, K_R, K_R),
	GP("test m,r", TEST, S_ALL, G_PLAIN, 0, 2, K_M, K_R),
	GP("test rm,i", TEST, S_ALL, G_PLAIN, 0, 2, K_RM, K_I),
	UNARY(INC, "inc"), UNARY(DEC, "dec"), UNARY(NEG, "neg"),
	UNARY(NOT, "not"),
	GP("mov r,r", MOV, S_ALL, G_PLAIN, 0, 2, K_R, K_R),
	GP("mov r,m", MOV, S_ALL, G_PLAIN, 0, 2, K_R, K_M),
	GP("mov m,r", MOV, S_ALL, G_PLAIN, 0, 2, K_M, K_R),
	GP("mov r,i", MOV, S_ALL, G_PLAIN, 0, 2, K_R, K_IFULL),
	GP("mov m,i", MOV, S_ALL, G_PLAIN, 0, 2, K_M, K_I),
	GP("movzx r,rm8", MOVZX, S_WDQ, G_PLAIN, 0, 2, K_R, K_RM8),
	GP("movzx r,rm16", MOVZX, S_DQ, G_PLAIN, 0, 2, K_R, K_RM16),
	GP("movsx r,rm8", MOVSX, S_WDQ, G_PLAIN, 0, 2, K_R, K_RM8),
	GP("movsx r,rm16", MOVSX, S_DQ, G_PLAIN, 0, 2, K_R, K_RM16),
	GP("movsxd r64,rm32", MOVSXD, S_Q, G_PLAIN, 0, 2, K_R, K_RM32),
	SHIFT(ROL, "rol"), SHIFT(ROR, "ror"), SHIFT(RCL, "rcl"),
	SHIFT(RCR, "rcr"), SHIFT(SHL, "shl"), SHIFT(SHR, "shr"),
	SHIFT(SAR, "sar"),
	GP("shld rm,r,ib", SHLD, S_WDQ, G_PLAIN, 0, 3, K_RM, K_R, K_COUNT),
	GP("shld rm,r,cl", SHLD, S_WDQ, G_SHIFTCL, 0, 3, K_RM, K_R, K_CL),
	GP("shrd rm,r,ib", SHRD, S_WDQ, G_PLAIN, 0, 3, K_RM, K_R, K_COUNT),
	GP("shrd rm,r,cl", SHRD, S_WDQ, G_SHIFTCL, 0, 3, K_RM, K_R, K_CL),
	GP("mul rm", MUL, S_ALL, G_PLAIN, 0, 1, K_RM),
	GP("imul rm", IMUL, S_ALL, G_PLAIN, 0, 1, K_RM),
	GP("imul r,rm", IMUL, S_WDQ, G_PLAIN, 0, 2, K_R, K_RM),
	GP("imul r,rm,i", IMUL, S_WDQ, G_PLAIN, 0, 3, K_R, K_RM, K_I),
	GP("imul r,rm,ib", IMUL, S_WDQ, G_PLAIN, 0, 3, K_R, K_RM, K_IB),
	GP("div rm (guarded)", DIV, S_ALL, G_DIV, 0, 1, K_RM),
	GP("idiv rm (guarded)", IDIV, S_ALL, G_DIV, 0, 1, K_RM),
	GP("div rm (raw)", DIV, S_ALL, G_PLAIN, 0, 1, K_RM),
	GP("idiv rm (raw)", IDIV, S_ALL, G_PLAIN, 0, 1, K_RM),
	BTX(BT, "bt"), BTX(BTS, "bts"), BTX(BTR, "btr"), BTX(BTC, "btc"),
	GP("bsf r,rm", BSF, S_WDQ, G_PLAIN, 0, 2, K_R, K_RM),
	GP("bsr r,rm", BSR, S_WDQ, G_PLAIN, 0, 2, K_R, K_RM),
	GPF("popcnt r,rm", POPCNT, POPCNT, S_WDQ, G_PLAIN, 2, K_R, K_RM),
	GPF("lzcnt r,rm", LZCNT, LZCNT, S_WDQ, G_PLAIN, 2, K_R, K_RM),
	GPF("tzcnt r,rm", TZCNT, BMI1, S_WDQ, G_PLAIN, 2, K_R, K_RM),
	GPF("andn r,r,rm", ANDN, BMI1, S_DQ, G_PLAIN, 3, K_R, K_R, K_RM),
	GPF("bextr r,rm,r", BEXTR, BMI1, S_DQ, G_PLAIN, 3, K_R, K_RM, K_R),
	GPF("blsi r,rm", BLSI, BMI1, S_DQ, G_PLAIN, 2, K_R, K_RM),
	GPF("blsmsk r,rm", BLSMSK, BMI1, S_DQ, G_PLAIN, 2, K_R, K_RM),
	GPF("blsr r,rm", BLSR, BMI1, S_DQ, G_PLAIN, 2, K_R, K_RM),
	GPF("bzhi r,rm,r", BZHI, BMI2, S_DQ, G_PLAIN, 3, K_R, K_RM, K_R),
	GPF("mulx r,r,rm", MULX, BMI2, S_DQ, G_PLAIN, 3, K_R, K_R, K_RM),
	GPF("pdep r,r,rm", PDEP, BMI2, S_DQ, G_PLAIN, 3, K_R, K_R, K_RM),
	GPF("pext r,r,rm", PEXT, BMI2, S_DQ, G_PLAIN, 3, K_R, K_R, K_RM),
	GPF("rorx r,rm,ib", RORX, BMI2, S_DQ, G_PLAIN, 3, K_R, K_RM, K_COUNT),
	GPF("sarx r,rm,r", SARX, BMI2, S_DQ, G_PLAIN, 3, K_R, K_RM, K_R),
	GPF("shlx r,rm,r", SHLX, BMI2, S_DQ, G_PLAIN, 3, K_R, K_RM, K_R),
	GPF("shrx r,rm,r", SHRX, BMI2, S_DQ, G_PLAIN, 3, K_R, K_RM, K_R),
	GPF("adcx r,rm", ADCX, ADX, S_DQ, G_PLAIN, 2, K_R, K_RM),
	GPF("adox r,rm", ADOX, ADX, S_DQ, G_PLAIN, 2, K_R, K_RM),
	GPF("movbe r,m", MOVBE, MOVBE, S_WDQ, G_PLAIN, 2, K_R, K_M),
	GPF("movbe m,r", MOVBE, MOVBE, S_WDQ, G_PLAIN, 2, K_M, K_R),
	GPF("crc32 r32,rm8", CRC32, SSE42, S_D, G_PLAIN, 2, K_R, K_RM8),
	GPF("crc32 r32,rm16", CRC32, SSE42, S_D, G_PLAIN, 2, K_R, K_RM16),
	GPF("crc32 r32,rm32", CRC32, SSE42, S_D, G_PLAIN, 2, K_R, K_RM32),
	GPF("crc32 r64,rm64", CRC32, SSE42, S_Q, G_PLAIN, 2, K_R, K_RM),
	CC(CMOV, "cmov", CMOV),
	CC(SET, "set", SETCC),
	GP("xchg r,r", XCHG, S_ALL, G_PLAIN, 0, 2, K_R, K_R),
	GP("xchg m,r", XCHG, S_ALL, G_PLAIN, FZ_FF_LOCK, 2, K_M, K_R),
	GP("xadd r,r", XADD, S_ALL, G_PLAIN, 0, 2, K_R, K_R),
	GP("xadd m,r", XADD, S_ALL, G_PLAIN, FZ_FF_LOCK, 2, K_M, K_R),
	GP("cmpxchg r,r", CMPXCHG, S_ALL, G_PLAIN, 0, 2, K_R, K_R),
	GP("cmpxchg m,r", CMPXCHG, S_ALL, G_PLAIN, FZ_FF_LOCK, 2, K_M, K_R),
	GP("cmpxchg8b m64", CMPXCHG8B, S_Q, G_PLAIN, FZ_FF_LOCK, 1, K_M),
	{ "cmpxchg16b m128", M(CMPXCHG16B), FZ_G_GP, FZ_F_CX16, S_Q, G_PLAIN,
	  1, { K_M128 }, FZ_FF_LOCK | FZ_FF_ALIGN16, 0 },
	GP("cbw", CBW, S_ALL, G_PLAIN, 0, 0, K_NONE),
	GP("cwde", CWDE, S_ALL, G_PLAIN, 0, 0, K_NONE),
	GP("cdqe", CDQE, S_ALL, G_PLAIN, 0, 0, K_NONE),
	GP("cwd", CWD, S_ALL, G_PLAIN, 0, 0, K_NONE),
	GP("cdq", CDQ, S_ALL, G_PLAIN, 0, 0, K_NONE),
	GP("cqo", CQO, S_ALL, G_PLAIN, 0, 0, K_NONE),
	GP("lea r,agen", LEA, S_WDQ, G_LEA, 0, 2, K_R, K_AGEN),
	GP("bswap r", BSWAP, S_DQ, G_PLAIN, 0, 1, K_R),
	GP("lahf", LAHF, S_ALL, G_PLAIN, 0, 0, K_NONE),
	GP("sahf", SAHF, S_ALL, G_PLAIN, 0, 0, K_NONE),
	GP("clc", CLC, S_ALL, G_PLAIN, 0, 0, K_NONE),
	GP("stc", STC, S_ALL, G_PLAIN, 0, 0, K_NONE),
	GP("cmc", CMC, S_ALL, G_PLAIN, 0, 0, K_NONE),
	GP("cld", CLD, S_ALL, G_PLAIN, 0, 0, K_NONE),
	GP("std", STD, S_ALL, G_PLAIN, 0, 0, K_NONE),
	GP("nop", NOP, S_ALL, G_PLAIN, 0, 0, K_NONE),
	GP("nop rm", NOP, S_WD, G_PLAIN, 0, 1, K_RM),
	GP("xlat", XLAT, S_ALL, G_XLAT, 0, 0, K_NONE),
	GP("pause", PAUSE, S_ALL, G_PLAIN, 0, 0, K_NONE),
	GP("endbr64", ENDBR64, S_ALL, G_PLAIN, 0, 0, K_NONE),
	GP("mov r,sreg", MOV, S_WDQ, G_SREG, 0, 2, K_R, K_SREG),
	GP("mov m16,sreg", MOV, S_W, G_SREG, 0, 2, K_M, K_SREG),

	STR(MOVSB, "movsb", G_STR), STR(MOVSW, "movsw", G_STR),
	STR(MOVSD, "movsd", G_STR), STR(MOVSQ, "movsq", G_STR),
	STR(STOSB, "stosb", G_STR), STR(STOSW, "stosw", G_STR),
	STR(STOSD, "stosd", G_STR), STR(STOSQ, "stosq", G_STR),
	STR(LODSB, "lodsb", G_STR), STR(LODSW, "lodsw", G_STR),
	STR(LODSD, "lodsd", G_STR), STR(LODSQ, "lodsq", G_STR),
	STR(CMPSB, "cmpsb", G_STRCC), STR(CMPSW, "cmpsw", G_STRCC),
	STR(CMPSD, "cmpsd", G_STRCC), STR(CMPSQ, "cmpsq", G_STRCC),
	STR(SCASB, "scasb", G_STRCC), STR(SCASW, "scasw", G_STRCC),
	STR(SCASD, "scasd", G_STRCC), STR(SCASQ, "scasq", G_STRCC),

	CC(J, "j", JCC),
	GRP(BRANCH, "jmp rel8", JMP, S_ALL, G_BRANCH, 1, K_REL),
	GRP(BRANCH, "jrcxz rel8", JRCXZ, S_ALL, G_BRANCH, 1, K_REL),
	GRP(BRANCH, "jecxz rel8", JECXZ, S_ALL, G_BRANCH, 1, K_REL),
	GRP(BRANCH, "loop rel8", LOOP, S_ALL, G_BRANCH, 1, K_REL),
	GRP(BRANCH, "loope rel8", LOOPE, S_ALL, G_BRANCH, 1, K_REL),
	GRP(BRANCH, "loopne rel8", LOOPNE, S_ALL, G_BRANCH, 1, K_REL),
	GRP(BRANCH, "call rel32", CALL, S_ALL, G_CALL, 1, K_REL),

	GRP(STACK, "push r", PUSH, S_WQ, G_PUSH, 1, K_R),
	GRP(STACK, "push m", PUSH, S_WQ, G_PUSH, 1, K_M),
	GRP(STACK, "push i", PUSH, S_WQ, G_PUSH, 1, K_I),
	GRP(STACK, "pop r", POP, S_WQ, G_PUSH, 1, K_R),
	GRP(STACK, "pop m", POP, S_WQ, G_PUSH, 1, K_M),
	GRP(STACK, "pushfq", PUSHFQ, S_Q, G_PUSH, 0, K_NONE),
	GRP(STACK, "pushf", PUSHF, S_W, G_PUSH, 0, K_NONE),
	GRP(STACK, "popfq", POPFQ, S_Q, G_POPF, 0, K_NONE),
	GRP(STACK, "popfq (sets AC)", POPFQ, S_Q, G_POPF_AC, 0, K_NONE),
	GRP(STACK, "enter i16,0", ENTER, S_Q, G_ENTER, 2, K_NONE),
	GRP(STACK, "leave", LEAVE, S_Q, G_LEAVE, 0, K_NONE),

	GRP(FAULT, "hlt", HLT, S_ALL, G_PLAIN, 0, K_NONE),
	GRP(FAULT, "cli", CLI, S_ALL, G_PLAIN, 0, K_NONE),
	GRP(FAULT, "sti", STI, S_ALL, G_PLAIN, 0, K_NONE),
	GRP(FAULT, "ud2", UD2, S_ALL, G_PLAIN, 0, K_NONE),
	GRP(FAULT, "int3", INT3, S_ALL, G_PLAIN, 0, K_NONE),
	GRP(FAULT, "int ib", INT, S_ALL, G_INT, 1, K_NONE),
	GRP(FAULT, "in al,ib", IN, S_ALL, G_PORT, 2, K_NONE),
	GRP(FAULT, "out ib,al", OUT, S_ALL, G_PORT, 2, K_NONE),
	GRP(FAULT, "rdmsr", RDMSR, S_ALL, G_PLAIN, 0, K_NONE),
	GRP(FAULT, "wbinvd", WBINVD, S_ALL, G_PLAIN, 0, K_NONE),
	GRP(FAULT, "clts", CLTS, S_ALL, G_PLAIN, 0, K_NONE),

	/* x87: on once the engine advertises CPUID.1:EDX.FPU */
	FP(X87, FPU, "fld1", FLD1, G_PLAIN, 0, 0, K_NONE),
	FP(X87, FPU, "fldz", FLDZ, G_PLAIN, 0, 0, K_NONE),
	FP(X87, FPU, "fldpi", FLDPI, G_PLAIN, 0, 0, K_NONE),
	FP(X87, FPU, "fld m32", FLD, G_PLAIN, 0, 1, K_M32),
	FP(X87, FPU, "fld m64", FLD, G_PLAIN, 0, 1, K_M64),
	FP(X87, FPU, "fld m80", FLD, G_PLAIN, 0, 1, K_M80),
	FP(X87, FPU, "fld st", FLD, G_PLAIN, 0, 1, K_ST),
	FP(X87, FPU, "fild m32", FILD, G_PLAIN, 0, 1, K_M32),
	FP(X87, FPU, "fstp m64", FSTP, G_PLAIN, 0, 1, K_M64),
	FP(X87, FPU, "fstp m80", FSTP, G_PLAIN, 0, 1, K_M80),
	FP(X87, FPU, "fistp m32", FISTP, G_PLAIN, 0, 1, K_M32),
	FP(X87, FPU, "fadd st0,st", FADD, G_PLAIN, 0, 2, K_ST0, K_ST),
	FP(X87, FPU, "fmul st0,st", FMUL, G_PLAIN, 0, 2, K_ST0, K_ST),
	FP(X87, FPU, "fsub st0,st", FSUB, G_PLAIN, 0, 2, K_ST0, K_ST),
	FP(X87, FPU, "fdiv st0,st", FDIV, G_PLAIN, 0, 2, K_ST0, K_ST),
	FP(X87, FPU, "fadd m64", FADD, G_PLAIN, 0, 1, K_M64),
	FP(X87, FPU, "fxch st", FXCH, G_PLAIN, 0, 2, K_ST0, K_ST),
	FP(X87, FPU, "fchs", FCHS, G_PLAIN, 0, 0, K_NONE),
	FP(X87, FPU, "fabs", FABS, G_PLAIN, 0, 0, K_NONE),
	FP(X87, FPU, "fsqrt", FSQRT, G_PLAIN, 0, 0, K_NONE),
	FP(X87, FPU, "fcomi st0,st", FCOMI, G_PLAIN, 0, 2, K_ST0, K_ST),
	FP(X87, FPU, "fucomip st0,st", FUCOMIP, G_PLAIN, 0, 2, K_ST0, K_ST),

	/* MMX: on once the engine advertises CPUID.1:EDX.MMX */
	FP(MMX, MMX, "paddb mm,mm/m64", PADDB, G_PLAIN, 0, 2, K_MM, K_MMM),
	FP(MMX, MMX, "pmullw mm,mm/m64", PMULLW, G_PLAIN, 0, 2, K_MM, K_MMM),
	FP(MMX, MMX, "pxor mm,mm/m64", PXOR, G_PLAIN, 0, 2, K_MM, K_MMM),
	FP(MMX, MMX, "psrlq mm,ib", PSRLQ, G_PLAIN, 0, 2, K_MM, K_COUNT),
	FP(MMX, MMX, "movq mm,m64", MOVQ, G_PLAIN, 0, 2, K_MM, K_M64),
	FP(MMX, MMX, "movd mm,r32", MOVD, G_PLAIN, 0, 2, K_MM, K_R32),

	/* SSE/SSE2: on once the engine advertises CPUID.1:EDX.SSE/SSE2 */
	FP(SSE, SSE, "addps x,x/m128", ADDPS, G_PLAIN, FZ_FF_ALIGN16, 2, K_XMM, K_XM),
	FP(SSE, SSE, "mulps x,x/m128", MULPS, G_PLAIN, FZ_FF_ALIGN16, 2, K_XMM, K_XM),
	FP(SSE, SSE, "minps x,x/m128", MINPS, G_PLAIN, FZ_FF_ALIGN16, 2, K_XMM, K_XM),
	FP(SSE, SSE, "andps x,x/m128", ANDPS, G_PLAIN, FZ_FF_ALIGN16, 2, K_XMM, K_XM),
	FP(SSE, SSE2, "addsd x,x/m64", ADDSD, G_PLAIN, 0, 2, K_XMM, K_XM64),
	FP(SSE, SSE2, "maxsd x,x/m64", MAXSD, G_PLAIN, 0, 2, K_XMM, K_XM64),
	FP(SSE, SSE2, "sqrtpd x,x/m128", SQRTPD, G_PLAIN, FZ_FF_ALIGN16, 2, K_XMM, K_XM),
	FP(SSE, SSE2, "ucomisd x,x/m64", UCOMISD, G_PLAIN, 0, 2, K_XMM, K_XM64),
	FP(SSE, SSE2, "cvtsi2sd x,rm64", CVTSI2SD, G_PLAIN, 0, 2, K_XMM, K_RM64),
	FP(SSE, SSE2, "movdqa x,x/m128", MOVDQA, G_PLAIN, FZ_FF_ALIGN16, 2, K_XMM, K_XM),
	FP(SSE, SSE2, "movdqa m128,x", MOVDQA, G_PLAIN, FZ_FF_ALIGN16, 2, K_M128, K_XMM),
	FP(SSE, SSE2, "pxor x,x/m128", PXOR, G_PLAIN, FZ_FF_ALIGN16, 2, K_XMM, K_XM),
	FP(SSE, SSE2, "pshufd x,x/m128,ib", PSHUFD, G_PLAIN, FZ_FF_ALIGN16, 3, K_XMM, K_XM, K_COUNT),
	FP(SSE, SSE2, "paddb x,x/m128", PADDB, G_PLAIN, FZ_FF_ALIGN16, 2, K_XMM, K_XM),
	FP(SSE, SSE2, "movq x,rm64", MOVQ, G_PLAIN, 0, 2, K_XMM, K_RM64),
};
const unsigned int fz_nforms = sizeof(fz_forms) / sizeof(fz_forms[0]);

const char *const fz_group_names[FZ_G_COUNT] = {
	[FZ_G_GP] = "gp", [FZ_G_STR] = "str", [FZ_G_BRANCH] = "branch",
	[FZ_G_STACK] = "stack", [FZ_G_FAULT] = "fault", [FZ_G_X87] = "x87",
	[FZ_G_MMX] = "mmx", [FZ_G_SSE] = "sse",
};

const char *const fz_feat_names[FZ_F_COUNT] = {
	[FZ_F_NONE] = "-", [FZ_F_BMI1] = "bmi1", [FZ_F_BMI2] = "bmi2",
	[FZ_F_ADX] = "adx", [FZ_F_MOVBE] = "movbe", [FZ_F_POPCNT] = "popcnt",
	[FZ_F_LZCNT] = "lzcnt", [FZ_F_CX16] = "cx16", [FZ_F_SSE42] = "sse4.2",
	[FZ_F_FPU] = "fpu", [FZ_F_MMX] = "mmx", [FZ_F_SSE] = "sse",
	[FZ_F_SSE2] = "sse2", [FZ_F_SSE3] = "sse3", [FZ_F_SSSE3] = "ssse3",
	[FZ_F_SSE41] = "sse4.1",
};
