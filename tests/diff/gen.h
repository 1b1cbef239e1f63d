/* SPDX-License-Identifier: MIT */
/*
 * gen.h - operand kinds and generators shared by the form table
 * (forms.c) and the sequence generator (gen.c).
 */
#ifndef SKVM_TESTS_DIFF_GEN_H
#define SKVM_TESTS_DIFF_GEN_H

/* operand size sets (struct fz_form.sizes) */
#define S_B	1
#define S_W	2
#define S_D	4
#define S_Q	8
#define S_WD	(S_W | S_D)
#define S_WQ	(S_W | S_Q)
#define S_DQ	(S_D | S_Q)
#define S_WDQ	(S_W | S_D | S_Q)
#define S_ALL	(S_B | S_W | S_D | S_Q)

/* operand kinds (struct fz_form.op) */
enum {
	K_NONE,
	K_R,		/* GPR of the form's size */
	K_M,		/* memory of the form's size */
	K_RM,		/* either */
	K_I,		/* immediate, form size (at most 32 bits, sign-extended) */
	K_IFULL,	/* immediate of the full form size (MOV r64, imm64) */
	K_IB,		/* signed imm8 */
	K_COUNT,	/* imm8 count or selector, small values favoured */
	K_ONE,		/* the constant 1 */
	K_CL,
	K_RM8, K_RM16, K_RM32, K_RM64,	/* fixed-size register or memory */
	K_R32,
	K_M32, K_M64, K_M80, K_M128,	/* fixed-size memory */
	K_AGEN,		/* LEA: any addressing form, never accessed */
	K_REL,		/* branch target */
	K_ST0, K_ST,	/* x87 ST(0), ST(i) */
	K_MM, K_MMM,	/* MMX register, MMX register or m64 */
	K_XMM, K_XM, K_XM64,	/* XMM, XMM or m128, XMM or m64 */
	K_SREG,		/* a segment register (read only) */
};

/* generators (struct fz_form.gen) */
enum {
	G_PLAIN,	/* operands as the table says */
	G_SHIFTCL,	/* CL count, often loaded with a small value first */
	G_DIV,		/* DIV/IDIV with the dividend and divisor guarded */
	G_BTREG,	/* BT* with a register bit offset: bounded for memory */
	G_LEA,
	G_STR,		/* string op, RSI/RDI/RCX loaded, REP or not */
	G_STRCC,	/* CMPS/SCAS: also REPE/REPNE */
	G_BRANCH,	/* forward rel8 branch over a few items */
	G_CALL,		/* forward CALL: pushes a return address */
	G_PUSH,		/* PUSH/POP/PUSHF: stack bytes accounted */
	G_POPF,		/* PUSH of a sanitised value, then POPF */
	G_POPF_AC,	/* the same with EFLAGS.AC set: alignment checks */
	G_ENTER,
	G_LEAVE,
	G_XLAT,
	G_INT,		/* INT n for vectors that fault identically */
	G_PORT,		/* IN/OUT with an immediate port */
	G_SREG,		/* MOV from a segment register */
};

#endif /* SKVM_TESTS_DIFF_GEN_H */
