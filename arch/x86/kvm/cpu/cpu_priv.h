/* SPDX-License-Identifier: MIT */
/*
 * cpu_priv.h - the engine's private state and the interfaces between its
 * files.  Nothing outside arch/x86/kvm/cpu/ includes this header.
 *
 * Data flow: exec.c fetches a decoded block (decode.c) for the
 * guest-physical address of RIP and runs its instructions' handlers.
 * Handlers read and write guest memory through memory.c, which applies
 * segmentation (segmentation.c), looks the linear address up in the
 * software TLB (tlb.c) and walks the page tables on a miss (paging.c).
 * Faults, MMIO and I/O exits leave a handler with longjmp() back to the
 * run loop; an instruction commits registers only after its last memory
 * access, so a fault or exit leaves it without effect.
 */
#ifndef SKVM_X86_CPU_PRIV_H
#define SKVM_X86_CPU_PRIV_H

#include <setjmp.h>
#include <string.h>
#include <Zydis/Zydis.h>

#include "cpu.h"

#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)
#define X86_NORETURN	__attribute__((noreturn))

#define X86_PAGE_SIZE	4096ull
#define X86_PAGE_MASK	(~(X86_PAGE_SIZE - 1))

/* RFLAGS (Intel SDM Vol. 1, 3.4.3) */
#define X86_CF		(1ull << 0)
#define X86_FIXED1	(1ull << 1)
#define X86_PF		(1ull << 2)
#define X86_AF		(1ull << 4)
#define X86_ZF		(1ull << 6)
#define X86_SF		(1ull << 7)
#define X86_TF		(1ull << 8)
#define X86_IF		(1ull << 9)
#define X86_DF		(1ull << 10)
#define X86_OF		(1ull << 11)
#define X86_IOPL	(3ull << 12)
#define X86_NT		(1ull << 14)
#define X86_RF		(1ull << 16)
#define X86_VM		(1ull << 17)
#define X86_AC		(1ull << 18)
#define X86_VIF		(1ull << 19)
#define X86_VIP		(1ull << 20)
#define X86_ID		(1ull << 21)
#define X86_ARITH_FLAGS	(X86_CF | X86_PF | X86_AF | X86_ZF | X86_SF | X86_OF)
#define X86_IOPL_OF(f)	(((f) >> 12) & 3)

/* Control registers (Intel SDM Vol. 3, 2.5) */
#define X86_CR0_PE	(1ull << 0)
#define X86_CR0_MP	(1ull << 1)
#define X86_CR0_EM	(1ull << 2)
#define X86_CR0_TS	(1ull << 3)
#define X86_CR0_ET	(1ull << 4)
#define X86_CR0_NE	(1ull << 5)
#define X86_CR0_WP	(1ull << 16)
#define X86_CR0_AM	(1ull << 18)
#define X86_CR0_NW	(1ull << 29)
#define X86_CR0_CD	(1ull << 30)
#define X86_CR0_PG	(1ull << 31)
#define X86_CR4_VME	(1ull << 0)
#define X86_CR4_PVI	(1ull << 1)
#define X86_CR4_TSD	(1ull << 2)
#define X86_CR4_DE	(1ull << 3)
#define X86_CR4_PSE	(1ull << 4)
#define X86_CR4_PAE	(1ull << 5)
#define X86_CR4_MCE	(1ull << 6)
#define X86_CR4_PGE	(1ull << 7)
#define X86_CR4_PCE	(1ull << 8)
#define X86_CR4_OSFXSR	(1ull << 9)
#define X86_CR4_OSXMMEXCPT (1ull << 10)
#define X86_CR4_UMIP	(1ull << 11)
#define X86_CR4_LA57	(1ull << 12)
#define X86_CR4_FSGSBASE (1ull << 16)
#define X86_CR4_PCIDE	(1ull << 17)
#define X86_CR4_OSXSAVE	(1ull << 18)
#define X86_CR4_SMEP	(1ull << 20)
#define X86_CR4_SMAP	(1ull << 21)
#define X86_EFER_SCE	(1ull << 0)
#define X86_EFER_LME	(1ull << 8)
#define X86_EFER_LMA	(1ull << 10)
#define X86_EFER_NXE	(1ull << 11)

/* Exception vectors (Intel SDM Vol. 3, 6.3.1) */
enum {
	X86_DE = 0, X86_DB = 1, X86_NMI = 2, X86_BP = 3, X86_OFV = 4,
	X86_BR = 5, X86_UD = 6, X86_NM = 7, X86_DF_VEC = 8, X86_TS = 10,
	X86_NP = 11, X86_SS_VEC = 12, X86_GP = 13, X86_PF_VEC = 14,
	X86_MF = 16, X86_AC_VEC = 17, X86_MC = 18, X86_XM = 19,
};

/* #PF error code (Intel SDM Vol. 3, 4.7) */
#define X86_PFEC_P	(1u << 0)
#define X86_PFEC_W	(1u << 1)
#define X86_PFEC_U	(1u << 2)
#define X86_PFEC_RSVD	(1u << 3)
#define X86_PFEC_I	(1u << 4)

/* ---------------------------------------------------------------- modes */

enum x86_mode {
	X86_MODE_REAL,
	X86_MODE_VM86,
	X86_MODE_PROT16,
	X86_MODE_PROT32,
	X86_MODE_COMPAT16,
	X86_MODE_COMPAT32,
	X86_MODE_LONG64,
};

/* Decoder index: what changes how bytes decode (CS.D/L and real mode). */
enum x86_dmode { X86_DM_64, X86_DM_32, X86_DM_16, X86_DM_REAL, X86_DM_COUNT };

/* ------------------------------------------------------- decoded form */

enum x86_opkind {
	X86_OP_NONE, X86_OP_GPR, X86_OP_MEM, X86_OP_IMM, X86_OP_SREG,
	X86_OP_CR, X86_OP_DR, X86_OP_XMM, X86_OP_MM, X86_OP_ST, X86_OP_PTR,
	X86_OP_OTHER,
};

#define X86_NOREG	0xff
#define X86_RIPREL	0xfe

struct x86_operand {
	uint8_t kind;		/* enum x86_opkind */
	uint8_t size;		/* bytes (0 for far pointers' PTR) */
	uint8_t reg;		/* register number within its class */
	uint8_t hi8;		/* AH, CH, DH, BH */
	uint8_t base, index;	/* GPR number, X86_NOREG or X86_RIPREL */
	uint8_t scale;
	uint8_t seg;		/* enum x86_sreg of a memory operand */
	uint16_t sel;		/* PTR selector */
	uint8_t enc;		/* X86_ENC_*: where the encoding puts it */
	uint8_t rw;		/* X86_RW_*: what the instruction does to it */
	int64_t disp;		/* displacement, immediate or PTR offset */
};
#define X86_ENC_OTHER	0
#define X86_ENC_REG	1	/* ModRM.reg */
#define X86_ENC_RM	2	/* ModRM.rm (register or memory) */
#define X86_RW_R	1
#define X86_RW_W	2

struct x86_insn;
typedef void (*x86_handler)(struct x86_cpu *cpu, const struct x86_insn *in);

#define X86_I_LOCK	(1u << 0)
#define X86_I_REP	(1u << 1)	/* F3 on a string instruction */
#define X86_I_REPNE	(1u << 2)	/* F2 on a string instruction */
#define X86_I_SEGOVR	(1u << 3)
#define X86_I_REX	(1u << 4)
#define X86_I_REXW	(1u << 5)
#define X86_I_VEX	(1u << 6)
#define X86_I_OPSZ	(1u << 7)	/* 66 prefix present */
#define X86_I_F3	(1u << 8)	/* F3 present (any meaning) */
#define X86_I_F2	(1u << 9)
#define X86_I_END	(1u << 10)	/* control transfer: ends a block */

struct x86_insn {
	x86_handler fn;
	uint16_t mnem;		/* ZydisMnemonic */
	uint16_t flags;		/* X86_I_* */
	uint8_t len;
	uint8_t opsz;		/* effective operand size in bytes */
	uint8_t adsz;		/* effective address size in bytes */
	uint8_t nops;		/* visible operands */
	uint8_t seg;		/* segment for DS-default accesses (override) */
	uint8_t vreg;		/* VEX.vvvv register, if any */
	uint8_t opcode;
	uint8_t modrm_reg;
	struct x86_operand op[4];
	uint8_t bytes[15];
};

/*
 * Chaining: a block remembers the blocks that followed it (the branch
 * target and the fall-through, keyed by RIP) while the chain epoch
 * (x86_chain_break()) is unchanged, so the run loop goes from block to
 * block without a TLB or hash lookup.
 */
struct x86_block {
	struct x86_block *next;	/* hash chain */
	uint64_t gpa;
	uint8_t dmode;
	uint16_t n;
	uint16_t bytes;		/* length of all its instructions */
	uint64_t link_epoch;
	uint64_t link_rip[2];
	struct x86_block *link[2];
	struct x86_insn insn[];
};

/* --------------------------------------------------------------- TLB */

enum x86_acc { X86_ACC_R, X86_ACC_W, X86_ACC_X, X86_ACC_COUNT };
/*
 * Privilege views of the TLB: CPL 3, supervisor (SMAP enforced), and
 * supervisor data accesses with EFLAGS.AC=1 that SMAP lets through
 * (Intel SDM Vol. 3, 4.6.1).
 */
enum x86_pv { X86_PV_USER, X86_PV_SUP, X86_PV_SUP_AC, X86_PV_COUNT };

#define X86_TLB_BITS	8
#define X86_TLB_SIZE	(1u << X86_TLB_BITS)

struct x86_tlb_entry {
	uint64_t tag;		/* linear page | 1, 0 = invalid */
	uint8_t *host;		/* host address of the page */
	uint64_t gpa;		/* guest-physical page */
	bool global;
};

/* ------------------------------------------------------------- MMIO log */

#define X86_MMIO_LOG	16

struct x86_mmio_frag {
	uint64_t gpa;
	uint8_t len;
	bool write;
	uint8_t data[8];
};

/* ------------------------------------------------------------- private */

#define X86_ARENA_SIZE	(4u << 20)
#define X86_BLOCK_HASH	4096
#define X86_BLOCK_MAX	32
#define X86_RECENT_PAGES 8

struct x86_cpu_priv {
	jmp_buf jb;
	bool in_run;

	/* derived from CR0/EFER/CS/SS/EFLAGS.VM by x86_update_mode() */
	enum x86_mode mode;
	enum x86_dmode dmode;
	uint8_t cpl;
	uint64_t ipmask;
	uint8_t maxphyaddr;

	/* current instruction */
	uint64_t next_rip;
	bool brk;		/* leave the block after this instruction */
	bool keep_rf;		/* it left RF set on purpose (REP string I/O) */

	/* debug.c: dbg_mode and dbg_data are recomputed at block boundaries */
	bool dbg_mode;		/* one instruction at a time, with checks */
	bool dbg_data;		/* data/I-O breakpoints armed: check accesses */
	bool delivered;		/* this instruction delivered an event */
	uint8_t dbg_hits;	/* B0-B3 hit by this instruction */
	uint8_t dbg_held_hits;	/* a MOV SS's B0-B3 and single step, held */
	bool dbg_held_bs;	/* to the end of the next instruction */

	/* event delivery in progress: vector, -1 when none */
	int delivering;
	bool delivering_df;

	/* software TLB, [privilege view][access kind][index] */
	struct x86_tlb_entry tlb[X86_PV_COUNT][X86_ACC_COUNT][X86_TLB_SIZE];
	uint64_t seen_generation;
	uint64_t seen_code_reg;
	uint64_t seen_code_inval;

	/* decoded blocks */
	uint64_t chain_epoch;	/* bumped when RIP -> block may change */
	ZydisDecoder dec[X86_DM_COUNT];
	struct x86_block *hash[X86_BLOCK_HASH];
	uint8_t *arena;
	size_t arena_used;
	bool flush_blocks;
	struct x86_block *one;	/* scratch block for uncached decodes */

	/* MMIO fragments completed for the instruction at mmio_rip */
	struct x86_mmio_frag mmio[X86_MMIO_LOG];
	unsigned int mmio_n, mmio_pos;
	uint64_t mmio_rip;
	bool mmio_wait;		/* exit.mmio is outstanding */

	/* port I/O: 1 = exit outstanding, 2 = completed */
	int io_state;
	uint64_t io_rip;
	uint32_t io_count;

	/* RDMSR/WRMSR taken by the host: 1 = exit outstanding, 2 = answered */
	int msr_state;
	uint64_t msr_rip;
	bool msr_error;
	uint64_t msr_data;

	/* an exit reached while finishing an instruction at completion */
	bool held_exit;
	uint64_t held_rip;

	/* hostfault.c: pages gpa_page returned lately, outside the TLB */
	struct { void *host; uint64_t gpa; } recent[X86_RECENT_PAGES];
	unsigned int recent_n;
	uint64_t fault_gpa;	/* the last host fault's guest address */
};

static inline struct x86_cpu_priv *x86_priv(struct x86_cpu *cpu)
{
	return cpu->priv;
}

/*
 * Forget every block-to-block link: the mapping from CS:RIP to a decoded
 * block may have changed (TLB flush, CS or mode change, blocks dropped).
 */
static inline void x86_chain_break(struct x86_cpu *cpu)
{
	cpu->priv->chain_epoch++;
}

/* ------------------------------------------------------------ exec.c */

X86_NORETURN void x86_exit(struct x86_cpu *cpu, enum x86_exit_reason r);
X86_NORETURN void x86_internal_error(struct x86_cpu *cpu, uint32_t suberror);
X86_NORETURN void x86_unimplemented(struct x86_cpu *cpu,
				    const struct x86_insn *in);
const struct x86_insn *x86_current_insn(struct x86_cpu *cpu);

/* --------------------------------------------------------- hostfault.c */

/*
 * A guarded region: a host fault in a guest page longjmp()s to jb (with
 * run, the fault is reported as X86_EXIT_FAULT).  Not nested.
 */
void x86_guard_enter(struct x86_cpu *cpu, jmp_buf *jb, bool run);
void x86_guard_leave(void);
bool x86_guarded(void);
/* ops->gpa_page, remembered so that a fault in the page is recognised. */
void *x86_gpa_page(struct x86_cpu *cpu, uint64_t gpa, bool write);

/* ---------------------------------------------------------- emulator.c */

/*
 * The hardware's MAXPHYADDR (CPUID 0x80000008 of KVM_GET_SUPPORTED_CPUID);
 * the guest's may be smaller (KVM_CAP_SMALLER_MAXPHYADDR).
 */
#define X86_HW_MAXPHYADDR 46
/* Whether KVM's instruction emulator knows this instruction. */
bool x86_kvm_emulates(const ZydisDecodedInstruction *z, bool long64);
/*
 * A data access faulted on paging-entry bits reserved only by the guest's
 * smaller MAXPHYADDR: returns when the #PF is what KVM gives, else ends
 * the run with KVM's emulation failure (or raises #UD).
 */
void x86_smaller_maxphyaddr_fault(struct x86_cpu *cpu, uint64_t la,
				  uint32_t pfec);

/* ---------------------------------------------------------- decode.c */

void x86_decode_init(struct x86_cpu *cpu);
struct x86_block *x86_block_get(struct x86_cpu *cpu, bool *cached);
void x86_blocks_flush(struct x86_cpu *cpu);
bool x86_code_page_test(const void *host_page);
void x86_code_page_written(struct x86_cpu *cpu, const void *host_page);
uint64_t x86_code_reg_gen(void);
uint64_t x86_code_inval_gen(void);

/* -------------------------------------------------------- dispatch.c */

void x86_handlers_init(void);
x86_handler x86_handler_for(unsigned int mnemonic, bool legacy_map);
void x86_register(unsigned int mnemonic, x86_handler fn);
/* For the 0F/VEX opcode maps only (MOVSD/CMPSD share legacy names). */
void x86_register_vec(unsigned int mnemonic, x86_handler fn);
/* Per-file registration; a new file adds its function to dispatch.c. */
void x86_alu_register(void);
void x86_datamov_register(void);
void x86_control_register(void);
void x86_string_register(void);
void x86_io_register(void);
void x86_system_register(void);
void x86_sse_register(void);
void x86_mmx_register(void);
void x86_fpu_register(void);
void x86_fxsave_register(void);
void x86_smm_register(void);

/* ------------------------------------------------ segmentation.c */

void x86_update_mode(struct x86_cpu *cpu);
uint64_t x86_seg_la(struct x86_cpu *cpu, int seg, uint64_t off,
		    unsigned int size, enum x86_acc acc);
void x86_load_seg(struct x86_cpu *cpu, int seg, uint16_t sel);
void x86_load_seg_real(struct x86_cpu *cpu, int seg, uint16_t sel);
void x86_read_desc(struct x86_cpu *cpu, uint16_t sel, uint64_t *desc,
		   int vec);
void x86_desc_to_seg(uint64_t d, uint16_t sel, struct x86_seg *s);
uint64_t x86_desc_base64(struct x86_cpu *cpu, uint16_t sel, uint64_t d);
void x86_set_desc_accessed(struct x86_cpu *cpu, uint16_t sel);
bool x86_canonical(uint64_t la);
void x86_load_cs(struct x86_cpu *cpu, uint16_t sel, uint64_t d, uint8_t cpl);
void x86_null_seg(struct x86_seg *s, uint16_t sel, uint8_t dpl);

/* ---------------------------------------------------- paging.c / tlb.c */

struct x86_walk {
	uint64_t gpa;
	bool global;
};
/*
 * 0 and *w set, or bit 30 + the #PF error code (bit 31 = internal error;
 * bit 29 = RSVD from bits that only the guest's MAXPHYADDR reserves).
 */
#define X86_WALK_EMUL	(1u << 29)
uint32_t x86_walk(struct x86_cpu *cpu, uint64_t la, enum x86_acc acc,
		  enum x86_pv pv, bool implicit, bool set_ad,
		  struct x86_walk *w);
int x86_load_pdptrs(struct x86_cpu *cpu, uint64_t cr3);
void x86_paging_changed(struct x86_cpu *cpu);

void x86_tlb_flush(struct x86_cpu *cpu, bool keep_global);
void x86_tlb_flush_page(struct x86_cpu *cpu, uint64_t la);
void x86_tlb_flush_writes(struct x86_cpu *cpu);
uint8_t *x86_tlb_fill(struct x86_cpu *cpu, uint64_t la, enum x86_acc acc,
		      enum x86_pv pv, bool implicit, uint64_t *gpa);

static inline struct x86_tlb_entry *x86_tlb_lookup(struct x86_cpu *cpu,
		uint64_t la, enum x86_acc acc, enum x86_pv pv)
{
	struct x86_tlb_entry *e;

	e = &cpu->priv->tlb[pv][acc][(la >> 12) & (X86_TLB_SIZE - 1)];
	return e->tag == ((la & X86_PAGE_MASK) | 1) ? e : NULL;
}

/* ---------------------------------------------------------- memory.c */

/* Privilege view of an explicit data access at the current CPL. */
static inline enum x86_pv x86_data_pv(struct x86_cpu *cpu)
{
	if (cpu->priv->cpl == 3)
		return X86_PV_USER;
	if ((cpu->cr4 & X86_CR4_SMAP) && (cpu->rflags & X86_AC))
		return X86_PV_SUP_AC;
	return X86_PV_SUP;
}

uint64_t x86_read_lin(struct x86_cpu *cpu, uint64_t la, unsigned int size,
		      enum x86_pv pv, bool implicit);
void x86_write_lin(struct x86_cpu *cpu, uint64_t la, uint64_t val,
		   unsigned int size, enum x86_pv pv, bool implicit);
void x86_read_lin_buf(struct x86_cpu *cpu, uint64_t la, void *buf,
		      unsigned int size, enum x86_pv pv, bool implicit);
void x86_write_lin_buf(struct x86_cpu *cpu, uint64_t la, const void *buf,
		       unsigned int size, enum x86_pv pv, bool implicit);
uint64_t x86_read(struct x86_cpu *cpu, int seg, uint64_t off,
		  unsigned int size);
void x86_write(struct x86_cpu *cpu, int seg, uint64_t off, uint64_t val,
	       unsigned int size);
void *x86_host_ptr(struct x86_cpu *cpu, int seg, uint64_t off,
		   unsigned int size, enum x86_acc acc);
void x86_check_write(struct x86_cpu *cpu, int seg, uint64_t off,
		     unsigned int size);
void x86_fetch_code(struct x86_cpu *cpu, uint64_t la, uint8_t *buf,
		    unsigned int n);
/* Linear addresses wrap at 4 GiB outside 64-bit mode. */
static inline uint64_t x86_wrap_la(struct x86_cpu *cpu, uint64_t la)
{
	return cpu->priv->mode == X86_MODE_LONG64 ? la : (uint32_t)la;
}
void x86_mmio_retire(struct x86_cpu *cpu);
void x86_lock_global(void);
void x86_unlock_global(void);
/* After a longjmp out of a handler: drop the global lock if it is held. */
void x86_unlock_global_if_held(void);

/* -------------------------------------------------------- operands */

static inline uint64_t x86_mask(unsigned int size)
{
	return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

static inline uint64_t x86_sext(uint64_t v, unsigned int size)
{
	switch (size) {
	case 1: return (uint64_t)(int64_t)(int8_t)v;
	case 2: return (uint64_t)(int64_t)(int16_t)v;
	case 4: return (uint64_t)(int64_t)(int32_t)v;
	default: return v;
	}
}

uint64_t x86_gpr_get(struct x86_cpu *cpu, unsigned int reg, unsigned int size);
void x86_gpr_set(struct x86_cpu *cpu, unsigned int reg, unsigned int size,
		 uint64_t val);
uint64_t x86_ea(struct x86_cpu *cpu, const struct x86_insn *in,
		const struct x86_operand *op);
uint64_t x86_op_read(struct x86_cpu *cpu, const struct x86_insn *in, int i);
void x86_op_write(struct x86_cpu *cpu, const struct x86_insn *in, int i,
		  uint64_t val);

static inline bool x86_is_mem(const struct x86_insn *in, int i)
{
	return in->op[i].kind == X86_OP_MEM;
}

/* Stack (Intel SDM Vol. 1, 6.2): size of SP, push/pop. */
unsigned int x86_stack_size(struct x86_cpu *cpu);
void x86_push(struct x86_cpu *cpu, uint64_t val, unsigned int size);
uint64_t x86_pop(struct x86_cpu *cpu, unsigned int size);
/* Non-committing variants: access at RSP - delta / RSP + delta. */
void x86_stack_write(struct x86_cpu *cpu, uint64_t sp, uint64_t val,
		     unsigned int size);
uint64_t x86_stack_read(struct x86_cpu *cpu, uint64_t sp, unsigned int size);
void x86_set_sp(struct x86_cpu *cpu, uint64_t sp);

/* ------------------------------------------------------- interrupts.c */

X86_NORETURN void x86_raise(struct x86_cpu *cpu, int vec, uint32_t err);
X86_NORETURN void x86_raise_noerr(struct x86_cpu *cpu, int vec);
X86_NORETURN void x86_raise_pf(struct x86_cpu *cpu, uint64_t la,
			       uint32_t err);
#define x86_gp(cpu, err)	x86_raise(cpu, X86_GP, err)
#define x86_ud(cpu)		x86_raise_noerr(cpu, X86_UD)
bool x86_has_error_code(int vec);
void x86_deliver(struct x86_cpu *cpu, int vec, bool has_err, uint32_t err,
		 bool soft, uint64_t ret_rip);
void x86_deliver_pending(struct x86_cpu *cpu);
void x86_iret(struct x86_cpu *cpu, const struct x86_insn *in);
/* Inner stack from the TSS, and the checks of its SS (#TS, #SS). */
void x86_tss_stack(struct x86_cpu *cpu, uint8_t dpl, int ist, uint16_t *ss,
		   uint64_t *sp);
void x86_check_new_ss(struct x86_cpu *cpu, uint16_t ss, uint8_t dpl,
		      uint64_t *d);

/*
 * Alignment check (Intel SDM Vol. 3, 6.15 "Interrupt 17"): a data access
 * at CPL 3 with CR0.AM and EFLAGS.AC set raises #AC(0) when its linear
 * address is not a multiple of align (Table 6-7: the operand size for
 * words..quadwords, 2/4/8 for far pointers' parts, 8 for 80-bit floats,
 * 16 for 128-bit data).  Supervisor and implicit accesses never check.
 * x86_read()/x86_write() and the stack call it; other access paths
 * (x87, SSE, FXSAVE...) call it with their own alignment.
 */
static inline bool x86_ac_enabled(struct x86_cpu *cpu)
{
	return cpu->priv->cpl == 3 && (cpu->rflags & X86_AC) &&
	       (cpu->cr0 & X86_CR0_AM);
}

static inline void x86_align_check(struct x86_cpu *cpu, uint64_t la,
				   unsigned int align)
{
	if (unlikely(la & (align - 1)) && x86_ac_enabled(cpu))
		x86_raise(cpu, X86_AC_VEC, 0);
}

/* ------------------------------------------------------------- task.c */

enum x86_task_reason { X86_TASK_JMP, X86_TASK_CALL, X86_TASK_IRET,
		       X86_TASK_INT };
void x86_task_switch(struct x86_cpu *cpu, uint16_t sel, uint64_t d,
		     enum x86_task_reason why, uint64_t ret_eip);
void x86_task_return(struct x86_cpu *cpu, uint64_t ret_eip);

/* -------------------------------------------------------------- smm.c */

/* Take the pending SMI (at an instruction boundary, outside SMM). */
void x86_smm_enter(struct x86_cpu *cpu);

/* ------------------------------------------------------------ debug.c */

void x86_dbg_update(struct x86_cpu *cpu);
void x86_dbg_insn_bp(struct x86_cpu *cpu);
void x86_dbg_data(struct x86_cpu *cpu, uint64_t la, unsigned int size,
		  bool write);
void x86_dbg_io(struct x86_cpu *cpu, uint16_t port, unsigned int size);
void x86_dbg_after(struct x86_cpu *cpu, bool tf);
bool x86_dbg_int3(struct x86_cpu *cpu);
void x86_dbg_mov_dr(struct x86_cpu *cpu);

/* --------------------------------------------------------------- alu.c */

bool x86_cond(uint64_t rflags, unsigned int cc);
static inline void x86_set_arith(struct x86_cpu *cpu, uint64_t host_flags)
{
	cpu->rflags = (cpu->rflags & ~X86_ARITH_FLAGS) |
		      (host_flags & X86_ARITH_FLAGS);
}

/* ------------------------------------------------------------ system.c */

void x86_set_cr0(struct x86_cpu *cpu, uint64_t val);
void x86_set_cr4(struct x86_cpu *cpu, uint64_t val);
void x86_set_cr3(struct x86_cpu *cpu, uint64_t val);
int x86_set_efer(struct x86_cpu *cpu, uint64_t val);
void x86_set_rflags(struct x86_cpu *cpu, uint64_t val);
bool x86_io_allowed(struct x86_cpu *cpu, uint16_t port, unsigned int size);

#endif /* SKVM_X86_CPU_PRIV_H */
