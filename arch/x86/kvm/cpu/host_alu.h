/* SPDX-License-Identifier: MIT */
/*
 * host_alu.h - x86 on x86: arithmetic runs as the host instruction of the
 * same size, with the guest's arithmetic flags loaded before and read
 * back after, so results and flags (including the ones the SDM leaves
 * undefined) are exactly what the CPU produces.
 *
 * The red zone below RSP may hold the compiler's locals, so the
 * sequences step over it before PUSHF/POPF.  Only CF PF AF ZF SF OF are
 * loaded: TF, DF and AC stay clear on the host.
 */
#ifndef SKVM_X86_HOST_ALU_H
#define SKVM_X86_HOST_ALU_H

#include "cpu_priv.h"

#if !defined(__x86_64__)
#error "the engine computes flags with the host x86-64 instructions"
#endif

/*
 * The stack moves inside these sequences (past the red zone, then
 * PUSHF/POPF): the .cfi lines keep the unwind information exact there, so
 * a signal that unwinds the thread (an asynchronous pthread_cancel during
 * KVM_RUN) can walk through.  The engine is built without frame pointers,
 * so the CFA is RSP-based in these functions.
 */
#define X86_HPRE	"lea -128(%%rsp), %%rsp\n\t.cfi_adjust_cfa_offset 128\n\t" \
			"push %q[f]\n\t.cfi_adjust_cfa_offset 8\n\t"		\
			"popf\n\t.cfi_adjust_cfa_offset -8\n\t"
#define X86_HPOST	"\n\tpushf\n\t.cfi_adjust_cfa_offset 8\n\t"			\
			"pop %q[f]\n\t.cfi_adjust_cfa_offset -8\n\t"			\
			"lea 128(%%rsp), %%rsp\n\t.cfi_adjust_cfa_offset -128"
#define X86_HFLAGS(fl)	(((fl) & X86_ARITH_FLAGS) | X86_FIXED1)

typedef uint64_t (*x86_binop)(uint64_t a, uint64_t b, uint64_t *fl,
			      unsigned int size);

/* dst = dst op src, all four sizes */
#define X86_HOST_BIN(name, insn)						\
static inline uint64_t x86_h_##name(uint64_t a, uint64_t b, uint64_t *fl,	\
				    unsigned int size)				\
{										\
	uint64_t f = X86_HFLAGS(*fl);						\
	switch (size) {								\
	case 1: asm(X86_HPRE insn " %b[b], %b[a]" X86_HPOST			\
		    : [a] "+r"(a), [f] "+r"(f) : [b] "r"(b) : "cc"); break;	\
	case 2: asm(X86_HPRE insn " %w[b], %w[a]" X86_HPOST			\
		    : [a] "+r"(a), [f] "+r"(f) : [b] "r"(b) : "cc"); break;	\
	case 4: asm(X86_HPRE insn " %k[b], %k[a]" X86_HPOST			\
		    : [a] "+r"(a), [f] "+r"(f) : [b] "r"(b) : "cc"); break;	\
	default: asm(X86_HPRE insn " %q[b], %q[a]" X86_HPOST			\
		     : [a] "+r"(a), [f] "+r"(f) : [b] "r"(b) : "cc"); break;	\
	}									\
	*fl = f;								\
	return a;								\
}

/*
 * dst = dst op src for ADD, SUB and CMP, which define all six arithmetic
 * flags from their operands alone: no POPF (slow, microcoded) before.
 */
#define X86_HPRE_NF	"lea -128(%%rsp), %%rsp\n\t.cfi_adjust_cfa_offset 128\n\t"
#define X86_HOST_BIN_NF(name, insn)						\
static inline uint64_t x86_h_##name(uint64_t a, uint64_t b, uint64_t *fl,	\
				    unsigned int size)				\
{										\
	uint64_t f;								\
	switch (size) {								\
	case 1: asm(X86_HPRE_NF insn " %b[b], %b[a]" X86_HPOST			\
		    : [a] "+r"(a), [f] "=r"(f) : [b] "r"(b) : "cc"); break;	\
	case 2: asm(X86_HPRE_NF insn " %w[b], %w[a]" X86_HPOST			\
		    : [a] "+r"(a), [f] "=r"(f) : [b] "r"(b) : "cc"); break;	\
	case 4: asm(X86_HPRE_NF insn " %k[b], %k[a]" X86_HPOST			\
		    : [a] "+r"(a), [f] "=r"(f) : [b] "r"(b) : "cc"); break;	\
	default: asm(X86_HPRE_NF insn " %q[b], %q[a]" X86_HPOST			\
		     : [a] "+r"(a), [f] "=r"(f) : [b] "r"(b) : "cc"); break;	\
	}									\
	*fl = f;								\
	return a;								\
}

/* dst = op dst */
#define X86_HOST_UN(name, insn)							\
static inline uint64_t x86_h_##name(uint64_t a, uint64_t b, uint64_t *fl,	\
				    unsigned int size)				\
{										\
	uint64_t f = X86_HFLAGS(*fl);						\
	(void)b;								\
	switch (size) {								\
	case 1: asm(X86_HPRE insn " %b[a]" X86_HPOST				\
		    : [a] "+r"(a), [f] "+r"(f) : : "cc"); break;		\
	case 2: asm(X86_HPRE insn " %w[a]" X86_HPOST				\
		    : [a] "+r"(a), [f] "+r"(f) : : "cc"); break;		\
	case 4: asm(X86_HPRE insn " %k[a]" X86_HPOST				\
		    : [a] "+r"(a), [f] "+r"(f) : : "cc"); break;		\
	default: asm(X86_HPRE insn " %q[a]" X86_HPOST				\
		     : [a] "+r"(a), [f] "+r"(f) : : "cc"); break;		\
	}									\
	*fl = f;								\
	return a;								\
}

/* dst = dst op CL (shifts and rotates; the host masks the count) */
#define X86_HOST_SH(name, insn)							\
static inline uint64_t x86_h_##name(uint64_t a, uint64_t b, uint64_t *fl,	\
				    unsigned int size)				\
{										\
	uint64_t f = X86_HFLAGS(*fl);						\
	switch (size) {								\
	case 1: asm(X86_HPRE insn " %%cl, %b[a]" X86_HPOST			\
		    : [a] "+r"(a), [f] "+r"(f) : "c"(b) : "cc"); break;	\
	case 2: asm(X86_HPRE insn " %%cl, %w[a]" X86_HPOST			\
		    : [a] "+r"(a), [f] "+r"(f) : "c"(b) : "cc"); break;	\
	case 4: asm(X86_HPRE insn " %%cl, %k[a]" X86_HPOST			\
		    : [a] "+r"(a), [f] "+r"(f) : "c"(b) : "cc"); break;	\
	default: asm(X86_HPRE insn " %%cl, %q[a]" X86_HPOST			\
		     : [a] "+r"(a), [f] "+r"(f) : "c"(b) : "cc"); break;	\
	}									\
	*fl = f;								\
	return a;								\
}

/* 16/32/64-bit only: dst = dst op src (IMUL r, r/m; BSF; POPCNT ...) */
#define X86_HOST_BIN_W(name, insn)						\
static inline uint64_t x86_h_##name(uint64_t a, uint64_t b, uint64_t *fl,	\
				    unsigned int size)				\
{										\
	uint64_t f = X86_HFLAGS(*fl);						\
	switch (size) {								\
	case 2: asm(X86_HPRE insn " %w[b], %w[a]" X86_HPOST			\
		    : [a] "+r"(a), [f] "+r"(f) : [b] "r"(b) : "cc"); break;	\
	case 4: asm(X86_HPRE insn " %k[b], %k[a]" X86_HPOST			\
		    : [a] "+r"(a), [f] "+r"(f) : [b] "r"(b) : "cc"); break;	\
	default: asm(X86_HPRE insn " %q[b], %q[a]" X86_HPOST			\
		     : [a] "+r"(a), [f] "+r"(f) : [b] "r"(b) : "cc"); break;	\
	}									\
	*fl = f;								\
	return a;								\
}

/* 32/64-bit only: ADCX, ADOX */
#define X86_HOST_BIN_D(name, insn)						\
static inline uint64_t x86_h_##name(uint64_t a, uint64_t b, uint64_t *fl,	\
				    unsigned int size)				\
{										\
	uint64_t f = X86_HFLAGS(*fl);						\
	if (size == 4)								\
		asm(X86_HPRE insn " %k[b], %k[a]" X86_HPOST			\
		    : [a] "+r"(a), [f] "+r"(f) : [b] "r"(b) : "cc");		\
	else									\
		asm(X86_HPRE insn " %q[b], %q[a]" X86_HPOST			\
		    : [a] "+r"(a), [f] "+r"(f) : [b] "r"(b) : "cc");		\
	*fl = f;								\
	return a;								\
}

/* 32/64-bit only three-operand VEX forms: d = op(s1, s2) */
#define X86_HOST_VEX3(name, insn)						\
static inline uint64_t x86_h_##name(uint64_t s1, uint64_t s2, uint64_t *fl,	\
				    unsigned int size)				\
{										\
	uint64_t f = X86_HFLAGS(*fl), d;					\
	if (size == 4)								\
		asm(X86_HPRE insn " %k[s2], %k[s1], %k[d]" X86_HPOST		\
		    : [d] "=&r"(d), [f] "+r"(f) : [s1] "r"(s1), [s2] "r"(s2)	\
		    : "cc");							\
	else									\
		asm(X86_HPRE insn " %q[s2], %q[s1], %q[d]" X86_HPOST		\
		    : [d] "=&r"(d), [f] "+r"(f) : [s1] "r"(s1), [s2] "r"(s2)	\
		    : "cc");							\
	*fl = f;								\
	return d;								\
}

#endif /* SKVM_X86_HOST_ALU_H */
