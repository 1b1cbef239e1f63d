// SPDX-License-Identifier: MIT
/*
 * host_fpu.c - x86 on x86 for the x87, MMX and SSE units.
 *
 * A guest x87/MMX/SSE instruction runs as the same host instruction in a
 * small generated stub:
 *
 *	fxrstor64 the guest's state (MXCSR with every exception masked)
 *	load RAX RCX RDX (implicit operands) and the arithmetic flags
 *	the guest instruction, re-encoded: XMM/MM/ST registers keep their
 *	numbers, a GPR operand becomes R8 (ModRM.reg) or R9 (ModRM.rm),
 *	a memory operand becomes [RDI], a buffer holding the guest's data
 *	store the flags and GPRs back, fxsave64 the state, fninit, restore
 *	the host's MXCSR
 *
 * so results, MXCSR/FSW flags, tag word and FOP are the host CPU's own:
 * exact by construction.  Guest exceptions are decided around the stub:
 * #UD/#NM/#MF before it (x86_fpu_check), SIMD exceptions after it from
 * the flags it raised (the host never traps: SSE runs masked and a
 * pending x87 exception is turned into the guest's #MF before a waiting
 * instruction could reach the host).
 *
 * Stubs are generated once per re-encoded instruction and kept in a
 * process-wide table (they depend on nothing else); instructions after
 * the table is full use a per-thread scratch stub.
 */
#include <pthread.h>
#include <stddef.h>
#include <sys/mman.h>

#include "host_fpu.h"

#if !defined(__x86_64__)
#error "the engine runs x87/SSE instructions on the host x86-64 CPU"
#endif

struct x86_hf_ctx {
	uint8_t mem[128];		/* [rdi]: the memory operand */
	uint64_t rax, rcx, rdx;
	uint64_t r8, r9;		/* GPR operands in ModRM.reg / .rm */
	uint64_t flags;
	uint32_t host_mxcsr;
	uint8_t pad[12];
	struct x86_fxsave fx;		/* fxrstor64 / fxsave64 image */
} __attribute__((aligned(64)));

typedef void (*x86_hf_stub)(struct x86_hf_ctx *c);

/* ------------------------------------------------------ stub emitter */

/* [rex] op0 [op1] ModRM(mod=10, reg, rm=rdi) disp32 */
static uint8_t *x86_hf_em(uint8_t *p, uint8_t rex, uint8_t op0, int op1,
			  unsigned int reg, size_t off)
{
	uint32_t d = (uint32_t)off;

	if (rex)
		*p++ = rex;
	*p++ = op0;
	if (op1 >= 0)
		*p++ = (uint8_t)op1;
	*p++ = (uint8_t)(0x87 | (reg << 3));
	memcpy(p, &d, 4);
	return p + 4;
}

#define X86_HF_OFF(f)	offsetof(struct x86_hf_ctx, f)
#define X86_HF_STUB_MAX	160

static size_t x86_hf_emit(uint8_t *s, const uint8_t *insn, unsigned int n)
{
	static const struct { uint8_t rex; unsigned int reg; size_t off; } g[] = {
		{ 0x48, 0, X86_HF_OFF(rax) }, { 0x48, 1, X86_HF_OFF(rcx) },
		{ 0x48, 2, X86_HF_OFF(rdx) }, { 0x4c, 0, X86_HF_OFF(r8) },
		{ 0x4c, 1, X86_HF_OFF(r9) },
	};
	uint8_t *p = s;
	unsigned int i;

	p = x86_hf_em(p, 0x48, 0x0f, 0xae, 1, X86_HF_OFF(fx));	/* fxrstor64 */
	for (i = 0; i < 5; i++)					/* mov r, m */
		p = x86_hf_em(p, g[i].rex, 0x8b, -1, g[i].reg, g[i].off);
	p = x86_hf_em(p, 0, 0xff, -1, 6, X86_HF_OFF(flags));	/* push m */
	*p++ = 0x9d;						/* popfq */
	memcpy(p, insn, n);
	p += n;
	*p++ = 0x9c;						/* pushfq */
	p = x86_hf_em(p, 0, 0x8f, -1, 0, X86_HF_OFF(flags));	/* pop m */
	for (i = 0; i < 5; i++)					/* mov m, r */
		p = x86_hf_em(p, g[i].rex, 0x89, -1, g[i].reg, g[i].off);
	p = x86_hf_em(p, 0x48, 0x0f, 0xae, 0, X86_HF_OFF(fx));	/* fxsave64 */
	*p++ = 0xdb;						/* fninit */
	*p++ = 0xe3;
	p = x86_hf_em(p, 0, 0x0f, 0xae, 2, X86_HF_OFF(host_mxcsr)); /* ldmxcsr */
	*p++ = 0xc3;						/* ret */
	return (size_t)(p - s);
}

/* -------------------------------------------------------- stub cache */

#define X86_HF_SLOTS	(1u << 15)
#define X86_HF_CHUNK	(1u << 20)

struct x86_hf_slot {
	uint8_t key[16];		/* length, then the instruction */
	x86_hf_stub fn;			/* published last (release) */
};

static struct x86_hf_slot x86_hf_table[X86_HF_SLOTS];
static unsigned int x86_hf_count;
static uint8_t *x86_hf_code;
static size_t x86_hf_code_used = X86_HF_CHUNK;
static pthread_mutex_t x86_hf_lock = PTHREAD_MUTEX_INITIALIZER;
static __thread uint8_t *x86_hf_scratch;

static unsigned int x86_hf_hash(const uint8_t *key)
{
	uint64_t a, b;

	memcpy(&a, key, 8);
	memcpy(&b, key + 8, 8);
	a = (a ^ (b * 0x9e3779b97f4a7c15ull)) * 0xff51afd7ed558ccdull;
	return (unsigned int)(a >> 40) & (X86_HF_SLOTS - 1);
}

static void *x86_hf_map(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE | PROT_EXEC,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* Under x86_hf_lock: a new stub, or NULL when the cache is full. */
static x86_hf_stub x86_hf_insert(struct x86_hf_slot *s, const uint8_t *key)
{
	uint8_t *code;

	if (x86_hf_count >= X86_HF_SLOTS / 4 * 3)
		return NULL;
	if (x86_hf_code_used + X86_HF_STUB_MAX > X86_HF_CHUNK) {
		code = x86_hf_map(X86_HF_CHUNK);
		if (!code)
			return NULL;
		x86_hf_code = code;
		x86_hf_code_used = 0;
	}
	code = x86_hf_code + x86_hf_code_used;
	x86_hf_code_used += (x86_hf_emit(code, key + 1, key[0]) + 15) & ~15ul;
	memcpy(s->key, key, 16);
	__atomic_store_n(&s->fn, (x86_hf_stub)(void *)code, __ATOMIC_RELEASE);
	x86_hf_count++;
	return (x86_hf_stub)(void *)code;
}

static x86_hf_stub x86_hf_lookup(struct x86_cpu *cpu, const uint8_t *key)
{
	unsigned int h = x86_hf_hash(key), i;
	struct x86_hf_slot *s;
	x86_hf_stub fn = NULL;
	bool locked = false;

	for (;;) {
		for (i = h;; i = (i + 1) & (X86_HF_SLOTS - 1)) {
			s = &x86_hf_table[i];
			fn = __atomic_load_n(&s->fn, __ATOMIC_ACQUIRE);
			if (!fn)
				break;
			if (!memcmp(s->key, key, 16))
				goto out;
		}
		if (locked)
			break;
		pthread_mutex_lock(&x86_hf_lock);
		locked = true;
	}
	fn = x86_hf_insert(s, key);
	if (!fn) {
		/* cache full: regenerate into this thread's page each time */
		if (!x86_hf_scratch)
			x86_hf_scratch = x86_hf_map(4096);
		if (!x86_hf_scratch) {
			pthread_mutex_unlock(&x86_hf_lock);
			x86_internal_error(cpu, 1);
		}
		x86_hf_emit(x86_hf_scratch, key + 1, key[0]);
		fn = (x86_hf_stub)(void *)x86_hf_scratch;
	}
out:
	if (locked)
		pthread_mutex_unlock(&x86_hf_lock);
	return fn;
}

/* ------------------------------------------------------ re-encoding */

static bool x86_hf_legacy_prefix(uint8_t b)
{
	switch (b) {
	case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65:
	case 0x66: case 0x67: case 0xf0: case 0xf2: case 0xf3:
		return true;
	default:
		return false;
	}
}

/*
 * The host form of the instruction into key[1..], its length in key[0].
 * Mandatory prefixes, REX.W, opcode, ModRM.reg as opcode extension,
 * register numbers and the immediate are kept; GPR operands move to
 * R8/R9 and the memory operand to [RDI].
 */
static void x86_hf_encode(struct x86_cpu *cpu, const struct x86_insn *in,
			  uint8_t *key, uint16_t fop[2])
{
	const uint8_t *b = in->bytes;
	uint8_t *o = key + 1, opc[3], modrm, rex = 0, nrex;
	unsigned int i = 0, nopc = 0, npre, k, mod, reg, rm;
	bool x87 = false, has_imm = false, env = false;

	memset(key, 0, 16);
	for (; i < in->len; i++) {
		if (x86_hf_legacy_prefix(b[i])) {
			rex = 0;	/* a REX before a prefix is ignored */
			continue;
		}
		if (cpu->priv->dmode == X86_DM_64 && (b[i] & 0xf0) == 0x40) {
			rex = b[i];
			continue;
		}
		break;
	}
	npre = i;
	if (b[i] >= 0xd8 && b[i] <= 0xdf)
		x87 = true;
	opc[nopc++] = b[i++];
	if (opc[0] == 0x0f) {
		opc[nopc++] = b[i++];
		if (opc[1] == 0x38 || opc[1] == 0x3a)
			opc[nopc++] = b[i++];
	}
	for (k = 0; k < in->nops; k++) {
		if (in->op[k].kind == X86_OP_IMM)
			has_imm = true;
		if (in->op[k].kind == X86_OP_MEM &&
		    (in->op[k].size == 14 || in->op[k].size == 94))
			env = true;	/* 16-bit FNSTENV/FLDENV/FNSAVE/FRSTOR */
	}
	/* legacy prefixes: the mandatory ones; x87 only for the env size */
	for (k = 0; k < npre; k++) {
		if (x87) {
			if (b[k] == 0x66 && env)
				*o++ = 0x66;
		} else if (b[k] == 0x66 || b[k] == 0xf2 || b[k] == 0xf3) {
			*o++ = b[k];
		}
	}
	if (opc[0] == 0x0f && nopc == 2 && opc[1] == 0x77) {	/* EMMS */
		memcpy(o, opc, nopc);
		o += nopc;
		goto done;
	}
	modrm = b[i];
	mod = modrm >> 6;
	reg = (modrm >> 3) & 7;
	rm = modrm & 7;
	nrex = rex & 0x0d;	/* W R B; X goes with the memory operand */
	for (k = 0; k < in->nops; k++) {
		const struct x86_operand *op = &in->op[k];

		if (op->kind == X86_OP_GPR && op->enc == X86_ENC_REG) {
			reg = 0;		/* r8 */
			nrex |= 4;
		} else if (op->kind == X86_OP_GPR && op->enc == X86_ENC_RM) {
			rm = 1;			/* r9 */
			nrex |= 1;
		} else if (op->kind == X86_OP_MEM) {
			mod = 0;		/* [rdi] */
			rm = 7;
			nrex &= ~1;
		}
	}
	if (x87)
		nrex = 0;
	if (nrex || (rex && !x87))
		*o++ = 0x40 | nrex;
	memcpy(o, opc, nopc);
	o += nopc;
	*o++ = (uint8_t)((mod << 6) | (reg << 3) | rm);
	/* FOP holds ModRM: the host's form and the guest's (8.1.9) */
	fop[0] = (uint16_t)((opc[0] & 7) << 8 | o[-1]);
	fop[1] = (uint16_t)((opc[0] & 7) << 8 | modrm);
	if (has_imm)
		*o++ = b[in->len - 1];
done:
	key[0] = (uint8_t)(o - key - 1);
}

/* ------------------------------------------------------------ checks */

void x86_fpu_check(struct x86_cpu *cpu, const struct x86_insn *in,
		   unsigned int how)
{
	if (in->flags & (X86_I_LOCK | X86_I_VEX))
		x86_ud(cpu);
	if (!(how & (X86_HF_SSE | X86_HF_MMX | X86_HF_X87)))
		return;		/* CRC32: no FPU state involved */
	if (how & (X86_HF_SSE | X86_HF_MMX)) {
		if (cpu->cr0 & X86_CR0_EM)
			x86_ud(cpu);
		if ((how & X86_HF_SSE) && !(cpu->cr4 & X86_CR4_OSFXSR))
			x86_ud(cpu);
	}
	if ((cpu->cr0 & X86_CR0_TS) ||
	    ((how & X86_HF_X87) && (cpu->cr0 & X86_CR0_EM)))
		x86_raise_noerr(cpu, X86_NM);
	/* a pending unmasked x87 exception is taken before the next
	 * waiting x87 or MMX instruction (Vol. 1, 8.6) */
	if ((how & (X86_HF_MMX | X86_HF_X87)) && !(how & X86_HF_NOWAIT) &&
	    (cpu->fx.fsw & X86_FSW_ES))
		x86_raise_noerr(cpu, X86_MF);
}

X86_NORETURN void x86_simd_fault(struct x86_cpu *cpu)
{
	if (cpu->cr4 & X86_CR4_OSXMMEXCPT)
		x86_raise_noerr(cpu, X86_XM);
	x86_ud(cpu);
}

/* ------------------------------------------------------------ execute */

static uint32_t x86_hf_host_mask;
static pthread_once_t x86_hf_once = PTHREAD_ONCE_INIT;

static void x86_hf_init(void)
{
	struct x86_fxsave fx;

	memset(&fx, 0, sizeof(fx));
	__asm__ volatile("fxsave64 %0" : "=m"(fx));
	x86_hf_host_mask = fx.mxcsr_mask ? fx.mxcsr_mask : 0xffbf;
}

struct x86_hf_mem {
	const struct x86_operand *op;
	uint64_t ea, la_r, la_w;
	unsigned int size;
};

/*
 * #AC at CPL 3 with CR0.AM and EFLAGS.AC (cpu_priv.h): the natural size up
 * to 8 bytes, 8 for an 80-bit operand (SDM Vol. 3, Table 6-7).  Larger
 * operands are left to their own rules (#GP for aligned SSE forms).
 */
static unsigned int x86_hf_ac_align(unsigned int size)
{
	if (size == 10)
		return 8;
	return size <= 8 ? size : 1;
}

/* Read the memory operand (checking alignment), or probe its segment. */
static void x86_hf_mem_in(struct x86_cpu *cpu, const struct x86_insn *in,
			  unsigned int how, struct x86_hf_mem *m, uint8_t *buf)
{
	const struct x86_operand *op = m->op;
	uint64_t la;

	m->ea = x86_ea(cpu, in, op);
	m->size = op->size;
	if (m->size > 128)
		x86_internal_error(cpu, 1);
	if (op->rw & X86_RW_R) {
		la = x86_seg_la(cpu, op->seg, m->ea, m->size, X86_ACC_R);
		if ((how & X86_HF_ALIGN) && m->size == 16 && (la & 15))
			x86_gp(cpu, 0);
		x86_align_check(cpu, la, x86_hf_ac_align(m->size));
		x86_read_lin_buf(cpu, la, buf, m->size, x86_data_pv(cpu),
				 false);
		m->la_r = la;
	}
	if (op->rw & X86_RW_W) {
		la = x86_seg_la(cpu, op->seg, m->ea, m->size, X86_ACC_W);
		if ((how & X86_HF_ALIGN) && m->size == 16 && (la & 15))
			x86_gp(cpu, 0);
		x86_align_check(cpu, la, x86_hf_ac_align(m->size));
		m->la_w = la;
	}
}

/* SIMD exceptions: which flags stick, and whether to fault (11.5.1). */
static void x86_hf_simd_flags(struct x86_cpu *cpu, uint32_t raised)
{
	uint32_t unmasked = raised & ~(cpu->fx.mxcsr >> 7) & X86_MXCSR_FLAGS;

	if (!unmasked) {
		cpu->fx.mxcsr |= raised;
		return;
	}
	/* an unmasked pre-computation exception hides the post ones */
	if (unmasked & X86_MXCSR_PRE)
		raised &= X86_MXCSR_PRE;
	cpu->fx.mxcsr |= raised;
	x86_simd_fault(cpu);
}

static uint64_t x86_hf_gpr_in(struct x86_cpu *cpu, const struct x86_operand *op)
{
	if (op->hi8)
		return (cpu->gpr[op->reg] >> 8) & 0xff;
	return cpu->gpr[op->reg];
}

void x86_fpu_host_exec_fix(struct x86_cpu *cpu, const struct x86_insn *in,
			   unsigned int how, x86_fpu_fixup fix)
{
	struct x86_hf_ctx c;
	struct x86_hf_mem m = { 0 };
	uint8_t key[16];
	uint16_t fop[2] = { 0, 0 };
	uint32_t mxcsr = cpu->fx.mxcsr;
	x86_hf_stub fn;
	unsigned int k;

	pthread_once(&x86_hf_once, x86_hf_init);
	x86_fpu_check(cpu, in, how);
	memset(c.mem, 0, sizeof(c.mem));
	c.rax = cpu->gpr[X86_RAX];
	c.rcx = cpu->gpr[X86_RCX];
	c.rdx = cpu->gpr[X86_RDX];
	c.r8 = c.r9 = 0;
	for (k = 0; k < in->nops; k++) {
		const struct x86_operand *op = &in->op[k];

		if (op->kind == X86_OP_MEM)
			m.op = op;
		else if (op->kind == X86_OP_GPR && op->enc == X86_ENC_REG)
			c.r8 = x86_hf_gpr_in(cpu, op);
		else if (op->kind == X86_OP_GPR && op->enc == X86_ENC_RM)
			c.r9 = x86_hf_gpr_in(cpu, op);
	}
	if (m.op)
		x86_hf_mem_in(cpu, in, how, &m, c.mem);
	c.flags = (cpu->rflags & X86_ARITH_FLAGS) | X86_FIXED1;
	c.fx = cpu->fx;
	c.fx.mxcsr = ((mxcsr & ~X86_MXCSR_FLAGS) | X86_MXCSR_MASKS) &
		     x86_hf_host_mask;
	c.host_mxcsr = __builtin_ia32_stmxcsr();

	x86_hf_encode(cpu, in, key, fop);
	fn = x86_hf_lookup(cpu, key);
	fn(&c);

	x86_hf_simd_flags(cpu, c.fx.mxcsr & X86_MXCSR_FLAGS);
	/*
	 * The host's FIP/FDP point into the stub (never 0): the guest's
	 * instead.  Unchanged or cleared (FNINIT) they stay as they are.
	 */
	if (c.fx.fip != cpu->fx.fip && c.fx.fip)
		c.fx.fip = x86_fpu_ip(cpu);
	if (c.fx.fdp != cpu->fx.fdp && c.fx.fdp)
		c.fx.fdp = m.op ? m.ea : 0;
	if ((how & X86_HF_X87) && c.fx.fop == fop[0] && fop[0] != fop[1])
		c.fx.fop = fop[1];
	if (fix)
		fix(cpu, in, c.mem, &c.fx);
	if (m.op && (m.op->rw & X86_RW_W)) {
		/* x87: an unmasked exception other than precision stores
		 * nothing (Vol. 1, 8.5) */
		uint16_t exc = c.fx.fsw & ~c.fx.fcw & 0x1f;

		if (!((how & X86_HF_X87) && !(how & X86_HF_NOWAIT) && exc))
			x86_write_lin_buf(cpu, m.la_w, c.mem, m.size,
					  x86_data_pv(cpu), false);
	}

	/* commit: nothing below can fault */
	c.fx.mxcsr = cpu->fx.mxcsr;
	c.fx.mxcsr_mask = cpu->fx.mxcsr_mask;
	memcpy(c.fx.rsvd2, cpu->fx.rsvd2, sizeof(c.fx.rsvd2));
	cpu->fx = c.fx;
	if (c.rax != cpu->gpr[X86_RAX])
		cpu->gpr[X86_RAX] = c.rax;
	if (c.rcx != cpu->gpr[X86_RCX])
		cpu->gpr[X86_RCX] = c.rcx;
	if (c.rdx != cpu->gpr[X86_RDX])
		cpu->gpr[X86_RDX] = c.rdx;
	for (k = 0; k < in->nops; k++) {
		const struct x86_operand *op = &in->op[k];

		if (op->kind != X86_OP_GPR || !(op->rw & X86_RW_W) ||
		    op->enc == X86_ENC_OTHER)
			continue;
		cpu->gpr[op->reg] = op->enc == X86_ENC_REG ? c.r8 : c.r9;
	}
	x86_set_arith(cpu, c.flags);
}

void x86_fpu_host_exec(struct x86_cpu *cpu, const struct x86_insn *in,
		       unsigned int how)
{
	x86_fpu_host_exec_fix(cpu, in, how, NULL);
}
