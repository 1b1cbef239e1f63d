// SPDX-License-Identifier: MIT
/*
 * fpu.c - the x87 FPU (Intel SDM Vol. 1, chapter 8).
 *
 * Each instruction runs as the host's x87 instruction on the guest's
 * registers, control/status/tag words and pointers (host_fpu.c loads
 * them with FXRSTOR and takes them back with FXSAVE), so the 80-bit
 * results, condition codes, stack faults, tag word and the exception
 * flags are the CPU's own.  An unmasked exception sets FSW.ES and is
 * delivered as #MF before the next waiting x87 or MMX instruction
 * (8.6); the non-waiting control instructions (FNINIT, FNCLEX, FNSTCW,
 * FNSTSW, FNSTENV, FNSAVE) do not look at it.  CR0.EM or CR0.TS: #NM;
 * WAIT/FWAIT takes #NM only for TS with MP (Vol. 3, 2.5, Table 2-2).
 * CR0.NE=0 (FERR# to an external PIC) is not modelled: #MF either way.
 *
 * FNSTENV/FLDENV/FNSAVE/FRSTOR store the pointer fields in the format
 * of the guest's mode and operand size (8.1.10, Figures 8-9 to 8-12);
 * the host writes the protected-mode layout, fixed up here.
 */
#include "host_fpu.h"

static void x86_put16(uint8_t *p, uint64_t v)
{
	uint16_t w = (uint16_t)v;

	memcpy(p, &w, 2);
}

static void x86_put32(uint8_t *p, uint64_t v)
{
	uint32_t w = (uint32_t)v;

	memcpy(p, &w, 4);
}

static uint32_t x86_get16(const uint8_t *p)
{
	uint16_t w;

	memcpy(&w, p, 2);
	return w;
}

static uint32_t x86_get32(const uint8_t *p)
{
	uint32_t w;

	memcpy(&w, p, 4);
	return w;
}

static bool x86_fpu_real_format(struct x86_cpu *cpu)
{
	return cpu->priv->mode == X86_MODE_REAL ||
	       cpu->priv->mode == X86_MODE_VM86;
}

/* 14/94-byte forms: 16-bit operand size */
static bool x86_env16(const struct x86_insn *in)
{
	return in->op[0].size == 14 || in->op[0].size == 94;
}

/* FNSTENV / FNSAVE: the pointers as they were before the instruction. */
static void x86_env_store(struct x86_cpu *cpu, const struct x86_insn *in,
			  uint8_t *mem, struct x86_fxsave *fx)
{
	const struct x86_fxsave *o = &cpu->fx;
	uint64_t fip = o->fip, fdp = o->fdp;

	if (x86_fpu_real_format(cpu)) {
		/* real mode: 20/32-bit linear pointers, FOP beside FIP */
		fip = (uint32_t)(fip + cpu->seg[X86_CS].base);
		fdp = (uint32_t)(fdp + cpu->seg[X86_DS].base);
		if (x86_env16(in)) {
			x86_put16(mem + 6, fip);
			x86_put16(mem + 8, ((fip >> 16) & 0xf) << 12 | o->fop);
			x86_put16(mem + 10, fdp);
			x86_put16(mem + 12, ((fdp >> 16) & 0xf) << 12);
		} else {
			x86_put32(mem + 12, fip & 0xffff);
			x86_put32(mem + 16, (fip >> 16) << 12 | o->fop);
			x86_put32(mem + 20, fdp & 0xffff);
			x86_put32(mem + 24, (fdp >> 16) << 12);
		}
		return;
	}
	if (x86_env16(in)) {
		x86_put16(mem + 6, fip);
		x86_put16(mem + 8, cpu->seg[X86_CS].sel);
		x86_put16(mem + 10, fdp);
		x86_put16(mem + 12, cpu->seg[X86_DS].sel);
	} else {
		x86_put32(mem + 12, fip);
		x86_put16(mem + 16, cpu->seg[X86_CS].sel);
		x86_put32(mem + 20, fdp);
		x86_put32(mem + 24, cpu->seg[X86_DS].sel);
	}
}

/*
 * FLDENV / FRSTOR: the pointers come from the image.  Where the host
 * reports none (AMD keeps FOP/FIP/FDP only with an exception pending),
 * neither does the guest.
 */
static void x86_env_load(struct x86_cpu *cpu, const struct x86_insn *in,
			 uint8_t *mem, struct x86_fxsave *fx)
{
	uint64_t fip, fdp;
	uint32_t w;
	uint16_t fop = fx->fop;

	if (x86_fpu_real_format(cpu)) {
		if (x86_env16(in)) {
			w = x86_get16(mem + 8);
			fip = x86_get16(mem + 6) | (w >> 12) << 16;
			fdp = x86_get16(mem + 10) |
			      (x86_get16(mem + 12) >> 12) << 16;
		} else {
			w = x86_get32(mem + 16);
			fip = (x86_get32(mem + 12) & 0xffff) |
			      ((w >> 12) & 0xffff) << 16;
			fdp = (x86_get32(mem + 20) & 0xffff) |
			      ((x86_get32(mem + 24) >> 12) & 0xffff) << 16;
		}
		fop = w & 0x7ff;
	} else if (x86_env16(in)) {
		fip = x86_get16(mem + 6);
		fdp = x86_get16(mem + 10);
	} else {
		fip = x86_get32(mem + 12);
		fdp = x86_get32(mem + 20);
	}
	if (fx->fip)
		fx->fip = fip;
	if (fx->fdp)
		fx->fdp = fdp;
	if (fx->fop)
		fx->fop = fop;
}

static void x86_i_x87(struct x86_cpu *cpu, const struct x86_insn *in)
{
	x86_fpu_host_exec(cpu, in, X86_HF_X87);
}

static void x86_i_x87_nowait(struct x86_cpu *cpu, const struct x86_insn *in)
{
	x86_fpu_host_exec(cpu, in, X86_HF_X87 | X86_HF_NOWAIT);
}

static void x86_i_fnstenv(struct x86_cpu *cpu, const struct x86_insn *in)
{
	x86_fpu_host_exec_fix(cpu, in, X86_HF_X87 | X86_HF_NOWAIT,
			      x86_env_store);
}

static void x86_i_fldenv(struct x86_cpu *cpu, const struct x86_insn *in)
{
	x86_fpu_host_exec_fix(cpu, in, X86_HF_X87, x86_env_load);
}

/* WAIT/FWAIT: #NM only with CR0.TS and CR0.MP; a pending exception. */
static void x86_i_fwait(struct x86_cpu *cpu, const struct x86_insn *in)
{
	if ((cpu->cr0 & (X86_CR0_TS | X86_CR0_MP)) ==
	    (X86_CR0_TS | X86_CR0_MP))
		x86_raise_noerr(cpu, X86_NM);
	if (cpu->fx.fsw & X86_FSW_ES)
		x86_raise_noerr(cpu, X86_MF);
}

static const uint16_t x86_x87_mnems[] = {
	ZYDIS_MNEMONIC_F2XM1,
	ZYDIS_MNEMONIC_FABS,
	ZYDIS_MNEMONIC_FADD,
	ZYDIS_MNEMONIC_FADDP,
	ZYDIS_MNEMONIC_FBLD,
	ZYDIS_MNEMONIC_FBSTP,
	ZYDIS_MNEMONIC_FCHS,
	ZYDIS_MNEMONIC_FCMOVB,
	ZYDIS_MNEMONIC_FCMOVBE,
	ZYDIS_MNEMONIC_FCMOVE,
	ZYDIS_MNEMONIC_FCMOVNB,
	ZYDIS_MNEMONIC_FCMOVNBE,
	ZYDIS_MNEMONIC_FCMOVNE,
	ZYDIS_MNEMONIC_FCMOVNU,
	ZYDIS_MNEMONIC_FCMOVU,
	ZYDIS_MNEMONIC_FCOM,
	ZYDIS_MNEMONIC_FCOMI,
	ZYDIS_MNEMONIC_FCOMIP,
	ZYDIS_MNEMONIC_FCOMP,
	ZYDIS_MNEMONIC_FCOMPP,
	ZYDIS_MNEMONIC_FCOS,
	ZYDIS_MNEMONIC_FDECSTP,
	ZYDIS_MNEMONIC_FDIV,
	ZYDIS_MNEMONIC_FDIVP,
	ZYDIS_MNEMONIC_FDIVR,
	ZYDIS_MNEMONIC_FDIVRP,
	ZYDIS_MNEMONIC_FFREE,
	ZYDIS_MNEMONIC_FFREEP,
	ZYDIS_MNEMONIC_FIADD,
	ZYDIS_MNEMONIC_FICOM,
	ZYDIS_MNEMONIC_FICOMP,
	ZYDIS_MNEMONIC_FIDIV,
	ZYDIS_MNEMONIC_FIDIVR,
	ZYDIS_MNEMONIC_FILD,
	ZYDIS_MNEMONIC_FIMUL,
	ZYDIS_MNEMONIC_FINCSTP,
	ZYDIS_MNEMONIC_FIST,
	ZYDIS_MNEMONIC_FISTP,
	ZYDIS_MNEMONIC_FISTTP,
	ZYDIS_MNEMONIC_FISUB,
	ZYDIS_MNEMONIC_FISUBR,
	ZYDIS_MNEMONIC_FLD,
	ZYDIS_MNEMONIC_FLD1,
	ZYDIS_MNEMONIC_FLDCW,
	ZYDIS_MNEMONIC_FLDL2E,
	ZYDIS_MNEMONIC_FLDL2T,
	ZYDIS_MNEMONIC_FLDLG2,
	ZYDIS_MNEMONIC_FLDLN2,
	ZYDIS_MNEMONIC_FLDPI,
	ZYDIS_MNEMONIC_FLDZ,
	ZYDIS_MNEMONIC_FMUL,
	ZYDIS_MNEMONIC_FMULP,
	ZYDIS_MNEMONIC_FNOP,
	ZYDIS_MNEMONIC_FPATAN,
	ZYDIS_MNEMONIC_FPREM,
	ZYDIS_MNEMONIC_FPREM1,
	ZYDIS_MNEMONIC_FPTAN,
	ZYDIS_MNEMONIC_FRNDINT,
	ZYDIS_MNEMONIC_FSCALE,
	ZYDIS_MNEMONIC_FSIN,
	ZYDIS_MNEMONIC_FSINCOS,
	ZYDIS_MNEMONIC_FSQRT,
	ZYDIS_MNEMONIC_FST,
	ZYDIS_MNEMONIC_FSTP,
	ZYDIS_MNEMONIC_FSTPNCE,
	ZYDIS_MNEMONIC_FSUB,
	ZYDIS_MNEMONIC_FSUBP,
	ZYDIS_MNEMONIC_FSUBR,
	ZYDIS_MNEMONIC_FSUBRP,
	ZYDIS_MNEMONIC_FTST,
	ZYDIS_MNEMONIC_FUCOM,
	ZYDIS_MNEMONIC_FUCOMI,
	ZYDIS_MNEMONIC_FUCOMIP,
	ZYDIS_MNEMONIC_FUCOMP,
	ZYDIS_MNEMONIC_FUCOMPP,
	ZYDIS_MNEMONIC_FXAM,
	ZYDIS_MNEMONIC_FXCH,
	ZYDIS_MNEMONIC_FXTRACT,
	ZYDIS_MNEMONIC_FYL2X,
	ZYDIS_MNEMONIC_FYL2XP1,
};

static const uint16_t x86_x87_nowait_mnems[] = {
	ZYDIS_MNEMONIC_FDISI8087_NOP,
	ZYDIS_MNEMONIC_FENI8087_NOP,
	ZYDIS_MNEMONIC_FNCLEX,
	ZYDIS_MNEMONIC_FNINIT,
	ZYDIS_MNEMONIC_FNSTCW,
	ZYDIS_MNEMONIC_FNSTSW,
	ZYDIS_MNEMONIC_FSETPM287_NOP,
};

void x86_fpu_register(void)
{
	unsigned int i;

	for (i = 0; i < sizeof(x86_x87_mnems) / sizeof(x86_x87_mnems[0]); i++)
		x86_register(x86_x87_mnems[i], x86_i_x87);
	for (i = 0; i < sizeof(x86_x87_nowait_mnems) /
			sizeof(x86_x87_nowait_mnems[0]); i++)
		x86_register(x86_x87_nowait_mnems[i], x86_i_x87_nowait);
	x86_register(ZYDIS_MNEMONIC_FNSTENV, x86_i_fnstenv);
	x86_register(ZYDIS_MNEMONIC_FNSAVE, x86_i_fnstenv);
	x86_register(ZYDIS_MNEMONIC_FLDENV, x86_i_fldenv);
	x86_register(ZYDIS_MNEMONIC_FRSTOR, x86_i_fldenv);
	x86_register(ZYDIS_MNEMONIC_FWAIT, x86_i_fwait);
}
