/* SPDX-License-Identifier: MIT */
/*
 * host_fpu.h - x86 on x86 for the x87, MMX and SSE units: an instruction
 * runs as the same host instruction on the guest's register file (see
 * host_fpu.c).  fpu.c, mmx.c, sse.c and fxsave.c share this header.
 */
#ifndef SKVM_X86_HOST_FPU_H
#define SKVM_X86_HOST_FPU_H

#include "cpu_priv.h"

/* MXCSR (Intel SDM Vol. 1, 10.2.3) */
#define X86_MXCSR_FLAGS		0x003fu	/* IE DE ZE OE UE PE */
#define X86_MXCSR_MASKS		0x1f80u
#define X86_MXCSR_PRE		0x0007u	/* IE DE ZE: pre-computation */

/* x87 status word (Vol. 1, 8.1.3) */
#define X86_FSW_ES		(1u << 7)
#define X86_FSW_TOP		(7u << 11)

/* What an instruction needs checked before it runs (Vol. 3, 13.1, 2.5). */
#define X86_HF_SSE		(1u << 0)	/* #UD on CR0.EM or !CR4.OSFXSR */
#define X86_HF_MMX		(1u << 1)	/* #UD on CR0.EM, #MF pending */
#define X86_HF_X87		(1u << 2)	/* #NM on CR0.EM */
#define X86_HF_NOWAIT		(1u << 3)	/* x87 control: no #MF check */
#define X86_HF_ALIGN		(1u << 4)	/* 16-byte memory must be aligned */

/* #UD / #NM / #MF checks for a unit, in the order the CPU makes them. */
void x86_fpu_check(struct x86_cpu *cpu, const struct x86_insn *in,
		   unsigned int how);

/*
 * Run the instruction on the host with the guest's x87/MMX/SSE state,
 * its memory operand, GPR operands and arithmetic flags; commit the
 * results, or raise the guest's #XM (#UD) for an unmasked SIMD
 * floating-point exception.
 */
void x86_fpu_host_exec(struct x86_cpu *cpu, const struct x86_insn *in,
		       unsigned int how);

/*
 * The same with a fix-up of the memory image and the resulting state,
 * called after the host ran the instruction and before anything is
 * stored or committed (FNSTENV & co.: the guest's pointer formats).
 */
typedef void (*x86_fpu_fixup)(struct x86_cpu *cpu, const struct x86_insn *in,
			      uint8_t *mem, struct x86_fxsave *fx);
void x86_fpu_host_exec_fix(struct x86_cpu *cpu, const struct x86_insn *in,
			   unsigned int how, x86_fpu_fixup fix);

/* The MMX/SSE handler (sse.c), shared with mmx.c. */
void x86_i_simd(struct x86_cpu *cpu, const struct x86_insn *in);

/* Raise the guest's SIMD floating-point exception (Vol. 3, 6.15 #XM). */
X86_NORETURN void x86_simd_fault(struct x86_cpu *cpu);

/* FP pointers as the guest saw them (offset of the last x87 insn). */
static inline uint64_t x86_fpu_ip(struct x86_cpu *cpu)
{
	return cpu->priv->mode == X86_MODE_LONG64 ? cpu->rip :
						    (uint32_t)cpu->rip;
}

#endif /* SKVM_X86_HOST_FPU_H */
