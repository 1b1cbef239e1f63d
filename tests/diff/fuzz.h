/* SPDX-License-Identifier: MIT */
/*
 * fuzz.h - the differential fuzzer: random user-mode instruction sequences
 * run natively (native.c) and in the software vCPU (engine.c) must leave
 * identical registers, flags and memory.
 *
 * Both sides see the same guest-linear layout: the sequence at
 * FZ_CODE_LA, a data sandbox at FZ_DATA_LA.  Every memory operand the
 * generator (gen.c) emits addresses the sandbox: R15 is pinned to
 * FZ_DATA_LA + FZ_R15_OFF and RSP to the sandbox's stack area, and neither
 * is ever written by a generated instruction (other than PUSH/POP/CALL,
 * whose stack depth the generator bounds).
 */
#ifndef SKVM_TESTS_DIFF_FUZZ_H
#define SKVM_TESTS_DIFF_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <Zydis/Zydis.h>

/* ------------------------------------------------------------ layout */

#define FZ_CODE_LA	0x30000000ull	/* below 2 GiB: [disp32] reaches data */
#define FZ_CODE_SIZE	0x10000u
#define FZ_DATA_LA	0x30100000ull
#define FZ_DATA_SIZE	0x4000u		/* four pages: accesses may split */
#define FZ_R15_OFF	0x800u		/* R15 = FZ_DATA_LA + FZ_R15_OFF */
#define FZ_STACK_OFF	0x3800u		/* initial RSP offset in the sandbox */
#define FZ_STACK_SLACK	0x600u		/* |total PUSH/POP bytes| bound */
#define FZ_STR_LO	0x400u		/* string ops stay in [LO, HI) */
#define FZ_STR_HI	0x3000u
#define FZ_STR_MAX	0x400u		/* max bytes a REP string op moves */

/* Arithmetic flags and DF: what every comparison covers. */
#define FZ_CF		0x001ull
#define FZ_PF		0x004ull
#define FZ_AF		0x010ull
#define FZ_ZF		0x040ull
#define FZ_SF		0x080ull
#define FZ_TF		0x100ull
#define FZ_IF		0x200ull
#define FZ_DF		0x400ull
#define FZ_OF		0x800ull
#define FZ_FLAGS_CMP	(FZ_CF | FZ_PF | FZ_AF | FZ_ZF | FZ_SF | FZ_DF | FZ_OF)

enum {
	FZ_RAX, FZ_RCX, FZ_RDX, FZ_RBX, FZ_RSP, FZ_RBP, FZ_RSI, FZ_RDI,
	FZ_R8, FZ_R9, FZ_R10, FZ_R11, FZ_R12, FZ_R13, FZ_R14, FZ_R15,
};

/* Outcome of one run, besides an exception vector 0..31. */
enum {
	FZ_END = -1,		/* reached the end of the sequence */
	FZ_TIMEOUT = -2,	/* did not finish in time */
	FZ_CRASH = -3,		/* the runner itself failed */
	FZ_UNIMPL = -4,		/* engine: emulation failure (not implemented) */
	FZ_OTHER = -5,		/* engine: an unexpected exit */
};

/*
 * Register state.  The layout is known to the native entry stub
 * (native.c): gpr at 0, rip at 128, rflags at 136, fx at 144.
 */
struct fz_state {
	uint64_t gpr[16];
	uint64_t rip;
	uint64_t rflags;
	uint8_t fx[512] __attribute__((aligned(16)));	/* FXSAVE image */
	int vector;		/* FZ_END, an exception vector, or < -1 */
	uint32_t err;		/* error code of the exception, if any */
	char note[160];		/* what went wrong, for < FZ_END outcomes */
};

/* ----------------------------------------------------------- forms */

enum fz_group {
	FZ_G_GP,		/* integer ALU, data movement, bit ops */
	FZ_G_STR,		/* string instructions, REP */
	FZ_G_BRANCH,		/* forward Jcc/JMP/LOOP/JrCXZ/CALL */
	FZ_G_STACK,		/* PUSH/POP/PUSHF/POPF/ENTER */
	FZ_G_FAULT,		/* forms that fault at CPL 3 on purpose */
	FZ_G_X87,
	FZ_G_MMX,
	FZ_G_SSE,
	FZ_G_COUNT,
};

/* CPUID features a form needs (both on the host and in the engine). */
enum fz_feat {
	FZ_F_NONE, FZ_F_BMI1, FZ_F_BMI2, FZ_F_ADX, FZ_F_MOVBE, FZ_F_POPCNT,
	FZ_F_LZCNT, FZ_F_CX16, FZ_F_SSE42, FZ_F_FPU, FZ_F_MMX, FZ_F_SSE,
	FZ_F_SSE2, FZ_F_SSE3, FZ_F_SSSE3, FZ_F_SSE41, FZ_F_COUNT,
};

struct fz_form {
	const char *name;
	uint16_t mnem;		/* ZydisMnemonic */
	uint8_t group;		/* enum fz_group */
	uint8_t feat;		/* enum fz_feat */
	uint8_t sizes;		/* operand sizes: bit0 = 1 byte .. bit3 = 8 */
	uint8_t gen;		/* generator, see gen.c */
	uint8_t nops;
	uint8_t op[4];		/* operand kinds, see gen.c */
	uint16_t flags;		/* FZ_FF_* */
	/*
	 * Flags the engine may leave different from the host because it
	 * chooses to (architecturally undefined).  Empty for every form so
	 * far: the engine takes flags from the host instruction.
	 */
	uint64_t undef;
};
#define FZ_FF_LOCK	(1u << 0)	/* LOCK allowed with a memory dest */
#define FZ_FF_ALIGN16	(1u << 1)	/* memory operand 16-byte aligned */

extern const struct fz_form fz_forms[];
extern const unsigned int fz_nforms;
extern const char *const fz_group_names[FZ_G_COUNT];
extern const char *const fz_feat_names[FZ_F_COUNT];

/* ------------------------------------------------------- sequences */

#define FZ_MAX_ITEMS	256
#define FZ_ITEM_REQS	5
#define FZ_MAX_INSNS	(FZ_MAX_ITEMS * FZ_ITEM_REQS)

/*
 * An item is one generated instruction with the set-up instructions it
 * needs (pointer loads, divisor guards...).  Items are what the minimizer
 * removes and what branches skip, so any subset of items is valid.
 */
struct fz_item {
	uint16_t form;
	uint8_t n;		/* requests, the last is the instruction itself */
	uint8_t skip;		/* branches: items jumped over */
	int16_t stack;		/* bytes of stack this item may move */
	ZydisEncoderRequest req[FZ_ITEM_REQS];
};

struct fz_seq {
	unsigned int n;
	struct fz_item item[FZ_MAX_ITEMS];
	struct fz_state init;
	uint8_t data[FZ_DATA_SIZE];
	bool fp;		/* x87/MMX/SSE state is loaded and compared */
};

/* A sequence encoded for running. */
struct fz_code {
	uint8_t bytes[FZ_CODE_SIZE];
	unsigned int len;		/* up to the terminator */
	unsigned int ninsn;
	uint32_t off[FZ_MAX_INSNS];	/* instruction start offsets */
	uint16_t item[FZ_MAX_INSNS];	/* item of each instruction */
	bool main[FZ_MAX_INSNS];	/* the item's own instruction */
};

/* ------------------------------------------------------------ gen.c */

struct fz_rng {
	uint64_t s;
};
uint64_t fz_rand(struct fz_rng *r);
static inline uint64_t fz_below(struct fz_rng *r, uint64_t n)
{
	return n ? fz_rand(r) % n : 0;
}

struct fz_gen_cfg {
	unsigned int len;		/* items per sequence */
	bool group[FZ_G_COUNT];
	bool feat[FZ_F_COUNT];		/* usable features */
	bool *form_on;			/* [fz_nforms], may be NULL */
};

void fz_gen_seq(struct fz_rng *r, const struct fz_gen_cfg *cfg,
		struct fz_seq *s);
bool fz_form_usable(const struct fz_gen_cfg *cfg, unsigned int f);
/* Encode items into code; false when they do not encode. */
bool fz_assemble(const struct fz_seq *s, struct fz_code *c);
void fz_host_features(bool feat[FZ_F_COUNT]);

/* ---------------------------------------------------------- native.c */

int fz_native_start(void);
void fz_native_stop(void);
/* Run natively: fills out, data holds the sandbox after the run. */
void fz_native_run(const struct fz_seq *s, const struct fz_code *c,
		   struct fz_state *out, uint8_t *data);

/* ---------------------------------------------------------- engine.c */

int fz_engine_start(void);
void fz_engine_stop(void);
void fz_engine_run(const struct fz_seq *s, const struct fz_code *c,
		   struct fz_state *out, uint8_t *data);
void fz_engine_features(bool feat[FZ_F_COUNT]);

#endif /* SKVM_TESTS_DIFF_FUZZ_H */
