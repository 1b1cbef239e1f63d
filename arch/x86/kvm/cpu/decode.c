// SPDX-License-Identifier: MIT
/*
 * decode.c - Zydis decodes instructions once into struct x86_insn, a
 * compact form of our own, grouped into blocks cached per guest-physical
 * address and decoding mode.  Instruction formats: Intel SDM Vol. 2, 2.1.
 *
 * Self-modifying code: every host page holding cached code is marked in a
 * process-wide bitmap (vCPUs of a VM share guest memory, so the mark is
 * keyed by host page).  The TLB never maps a marked page for direct
 * writes; a write through the slow path to a marked page clears the mark
 * and bumps a global counter that makes every vCPU drop its blocks at its
 * next block boundary.  A bitmap collision only costs a slow write.
 */
#include <stdlib.h>

#include "cpu_priv.h"

/* -------------------------------------------------------- code pages */

#define X86_CODE_BITS	20
static uint64_t x86_code_map[(1u << X86_CODE_BITS) / 64];
static uint64_t x86_code_reg;	/* bumped when a page becomes code */
static uint64_t x86_code_inval;	/* bumped when a code page is written */

static unsigned int x86_code_hash(const void *host_page)
{
	uint64_t h = ((uintptr_t)host_page >> 12) * 0x9e3779b97f4a7c15ull;

	return (unsigned int)(h >> (64 - X86_CODE_BITS));
}

bool x86_code_page_test(const void *host_page)
{
	unsigned int h = x86_code_hash(host_page);

	return __atomic_load_n(&x86_code_map[h / 64], __ATOMIC_ACQUIRE) &
	       (1ull << (h % 64));
}

static bool x86_code_page_mark(const void *host_page)
{
	unsigned int h = x86_code_hash(host_page);
	uint64_t bit = 1ull << (h % 64), old;

	old = __atomic_fetch_or(&x86_code_map[h / 64], bit, __ATOMIC_ACQ_REL);
	if (old & bit)
		return false;
	__atomic_fetch_add(&x86_code_reg, 1, __ATOMIC_ACQ_REL);
	return true;
}

void x86_code_page_written(struct x86_cpu *cpu, const void *host_page)
{
	unsigned int h = x86_code_hash(host_page);

	__atomic_fetch_and(&x86_code_map[h / 64], ~(1ull << (h % 64)),
			   __ATOMIC_ACQ_REL);
	__atomic_fetch_add(&x86_code_inval, 1, __ATOMIC_ACQ_REL);
	/* the running block may be the one just overwritten */
	cpu->priv->brk = true;
	cpu->priv->flush_blocks = true;
}

uint64_t x86_code_reg_gen(void)
{
	return __atomic_load_n(&x86_code_reg, __ATOMIC_ACQUIRE);
}

uint64_t x86_code_inval_gen(void)
{
	return __atomic_load_n(&x86_code_inval, __ATOMIC_ACQUIRE);
}

/* ------------------------------------------------------------ decoders */

void x86_decode_init(struct x86_cpu *cpu)
{
	struct x86_cpu_priv *p = cpu->priv;

	ZydisDecoderInit(&p->dec[X86_DM_64], ZYDIS_MACHINE_MODE_LONG_64,
			 ZYDIS_STACK_WIDTH_64);
	ZydisDecoderInit(&p->dec[X86_DM_32], ZYDIS_MACHINE_MODE_LEGACY_32,
			 ZYDIS_STACK_WIDTH_32);
	ZydisDecoderInit(&p->dec[X86_DM_16], ZYDIS_MACHINE_MODE_LEGACY_16,
			 ZYDIS_STACK_WIDTH_16);
	ZydisDecoderInit(&p->dec[X86_DM_REAL], ZYDIS_MACHINE_MODE_REAL_16,
			 ZYDIS_STACK_WIDTH_16);
}

void x86_blocks_flush(struct x86_cpu *cpu)
{
	struct x86_cpu_priv *p = cpu->priv;

	memset(p->hash, 0, sizeof(p->hash));
	p->arena_used = 0;
	x86_chain_break(cpu);
}

/* ----------------------------------------------------- operand mapping */

static void x86_map_gpr(ZydisRegister r, struct x86_operand *o)
{
	o->kind = X86_OP_GPR;
	if (r >= ZYDIS_REGISTER_AH && r <= ZYDIS_REGISTER_BH) {
		o->reg = (uint8_t)(r - ZYDIS_REGISTER_AH);
		o->hi8 = 1;
	} else if (r >= ZYDIS_REGISTER_SPL && r <= ZYDIS_REGISTER_DIL) {
		o->reg = (uint8_t)(r - ZYDIS_REGISTER_SPL + 4);
	} else if (r >= ZYDIS_REGISTER_R8B && r <= ZYDIS_REGISTER_R15B) {
		o->reg = (uint8_t)(r - ZYDIS_REGISTER_R8B + 8);
	} else {
		o->reg = (uint8_t)ZydisRegisterGetId(r);
	}
}

static uint8_t x86_map_base(ZydisRegister r)
{
	if (r == ZYDIS_REGISTER_NONE)
		return X86_NOREG;
	if (r == ZYDIS_REGISTER_RIP || r == ZYDIS_REGISTER_EIP ||
	    r == ZYDIS_REGISTER_IP)
		return X86_RIPREL;
	return (uint8_t)ZydisRegisterGetId(r);
}

static void x86_map_reg(ZydisRegister r, struct x86_operand *o)
{
	switch (ZydisRegisterGetClass(r)) {
	case ZYDIS_REGCLASS_GPR8:
	case ZYDIS_REGCLASS_GPR16:
	case ZYDIS_REGCLASS_GPR32:
	case ZYDIS_REGCLASS_GPR64:
		x86_map_gpr(r, o);
		return;
	case ZYDIS_REGCLASS_SEGMENT:
		o->kind = X86_OP_SREG;
		break;
	case ZYDIS_REGCLASS_CONTROL:
		o->kind = X86_OP_CR;
		break;
	case ZYDIS_REGCLASS_DEBUG:
		o->kind = X86_OP_DR;
		break;
	case ZYDIS_REGCLASS_XMM:
		o->kind = X86_OP_XMM;
		break;
	case ZYDIS_REGCLASS_MMX:
		o->kind = X86_OP_MM;
		break;
	case ZYDIS_REGCLASS_X87:
		o->kind = X86_OP_ST;
		break;
	default:
		o->kind = X86_OP_OTHER;
		o->reg = 0;
		return;
	}
	o->reg = (uint8_t)ZydisRegisterGetId(r);
}

static uint8_t x86_map_seg(ZydisRegister r)
{
	if (r >= ZYDIS_REGISTER_ES && r <= ZYDIS_REGISTER_GS)
		return (uint8_t)(r - ZYDIS_REGISTER_ES);
	return X86_DS;
}

static void x86_map_operand(const ZydisDecodedOperand *z,
			    struct x86_operand *o)
{
	memset(o, 0, sizeof(*o));
	o->size = (uint8_t)(z->size / 8);
	o->base = o->index = X86_NOREG;
	if (z->encoding == ZYDIS_OPERAND_ENCODING_MODRM_REG)
		o->enc = X86_ENC_REG;
	else if (z->encoding == ZYDIS_OPERAND_ENCODING_MODRM_RM)
		o->enc = X86_ENC_RM;
	if (z->actions & ZYDIS_OPERAND_ACTION_MASK_READ)
		o->rw |= X86_RW_R;
	if (z->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE)
		o->rw |= X86_RW_W;
	switch (z->type) {
	case ZYDIS_OPERAND_TYPE_REGISTER:
		x86_map_reg(z->reg.value, o);
		break;
	case ZYDIS_OPERAND_TYPE_MEMORY:
		o->kind = X86_OP_MEM;
		o->base = x86_map_base(z->mem.base);
		o->index = x86_map_base(z->mem.index);
		o->scale = z->mem.scale ? z->mem.scale : 1;
		o->seg = x86_map_seg(z->mem.segment);
		o->disp = z->mem.disp.value;
		break;
	case ZYDIS_OPERAND_TYPE_IMMEDIATE:
		o->kind = X86_OP_IMM;
		o->disp = (int64_t)z->imm.value.u;
		break;
	case ZYDIS_OPERAND_TYPE_POINTER:
		o->kind = X86_OP_PTR;
		o->sel = z->ptr.segment;
		o->disp = z->ptr.offset;
		break;
	default:
		o->kind = X86_OP_NONE;
		break;
	}
}

static uint8_t x86_override_seg(ZydisInstructionAttributes a)
{
	if (a & ZYDIS_ATTRIB_HAS_SEGMENT_ES)
		return X86_ES;
	if (a & ZYDIS_ATTRIB_HAS_SEGMENT_CS)
		return X86_CS;
	if (a & ZYDIS_ATTRIB_HAS_SEGMENT_SS)
		return X86_SS;
	if (a & ZYDIS_ATTRIB_HAS_SEGMENT_FS)
		return X86_FS;
	if (a & ZYDIS_ATTRIB_HAS_SEGMENT_GS)
		return X86_GS;
	return X86_DS;
}

static uint16_t x86_prefix_flags(const ZydisDecodedInstruction *z)
{
	ZydisInstructionAttributes a = z->attributes;
	uint16_t f = 0;
	int i;

	if (a & ZYDIS_ATTRIB_HAS_LOCK)
		f |= X86_I_LOCK;
	if (a & (ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPE))
		f |= X86_I_REP;
	if (a & ZYDIS_ATTRIB_HAS_REPNE)
		f |= X86_I_REPNE;
	if (a & ZYDIS_ATTRIB_HAS_SEGMENT)
		f |= X86_I_SEGOVR;
	if (a & ZYDIS_ATTRIB_HAS_REX)
		f |= X86_I_REX;
	if (a & ZYDIS_ATTRIB_HAS_VEX)
		f |= X86_I_VEX;
	if (z->raw.rex.W || ((a & ZYDIS_ATTRIB_HAS_VEX) && z->raw.vex.W))
		f |= X86_I_REXW;
	for (i = 0; i < z->raw.prefix_count; i++) {
		switch (z->raw.prefixes[i].value) {
		case 0x66: f |= X86_I_OPSZ; break;
		case 0xf3: f |= X86_I_F3; break;
		case 0xf2: f |= X86_I_F2; break;
		}
	}
	return f;
}

static void x86_handler_ud(struct x86_cpu *cpu, const struct x86_insn *in)
{
	x86_ud(cpu);
}

static void x86_convert(const ZydisDecodedInstruction *z,
			const ZydisDecodedOperand *ops, const uint8_t *bytes,
			struct x86_insn *in)
{
	int i, n = z->operand_count_visible;

	memset(in, 0, sizeof(*in));
	in->mnem = (uint16_t)z->mnemonic;
	in->len = z->length;
	in->opsz = (uint8_t)(z->operand_width / 8);
	in->adsz = (uint8_t)(z->address_width / 8);
	in->flags = x86_prefix_flags(z);
	in->seg = x86_override_seg(z->attributes);
	in->opcode = z->opcode;
	in->modrm_reg = z->raw.modrm.reg;
	if (z->attributes & ZYDIS_ATTRIB_HAS_VEX)
		in->vreg = (uint8_t)(~z->raw.vex.vvvv & 15);
	if (n > 4)
		n = 4;
	in->nops = (uint8_t)n;
	for (i = 0; i < n; i++)
		x86_map_operand(&ops[i], &in->op[i]);
	memcpy(in->bytes, bytes, z->length);
	in->fn = x86_handler_for(z->mnemonic,
				 z->opcode_map == ZYDIS_OPCODE_MAP_DEFAULT);
	/* LOCK needs a memory destination (Intel SDM Vol. 2, LOCK) */
	if ((in->flags & X86_I_LOCK) && !(n && in->op[0].kind == X86_OP_MEM))
		in->fn = x86_handler_ud;
}

/* Control transfers and system instructions end a block. */
static bool x86_ends_block(const ZydisDecodedInstruction *z)
{
	if (z->meta.branch_type != ZYDIS_BRANCH_TYPE_NONE)
		return true;
	switch (z->meta.category) {
	case ZYDIS_CATEGORY_INTERRUPT:
	case ZYDIS_CATEGORY_SYSCALL:
	case ZYDIS_CATEGORY_SYSRET:
	case ZYDIS_CATEGORY_SYSTEM:
	case ZYDIS_CATEGORY_RET:
	case ZYDIS_CATEGORY_CALL:
	case ZYDIS_CATEGORY_COND_BR:
	case ZYDIS_CATEGORY_UNCOND_BR:
		return true;
	default:
		return false;
	}
}

/*
 * Decode one instruction.  Returns 1 when done, 0 when the bytes ran
 * out (the instruction continues on the next page), -1 when invalid.
 */
static int x86_decode_one(struct x86_cpu *cpu, const uint8_t *bytes,
			  size_t avail, struct x86_insn *in)
{
	struct x86_cpu_priv *p = cpu->priv;
	ZydisDecodedInstruction z;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
	ZyanStatus st;

	st = ZydisDecoderDecodeFull(&p->dec[p->dmode], bytes, avail, &z, ops);
	if (st == ZYDIS_STATUS_NO_MORE_DATA && avail < 15)
		return 0;
	if (!ZYAN_SUCCESS(st))
		return -1;
	x86_convert(&z, ops, bytes, in);
	if (x86_ends_block(&z))
		in->flags |= X86_I_END;
	return 1;
}

/* --------------------------------------------------------------- blocks */

static unsigned int x86_block_hash(uint64_t gpa, uint8_t dmode)
{
	return (unsigned int)(((gpa * 0x9e3779b97f4a7c15ull) >> 40) ^ dmode) &
	       (X86_BLOCK_HASH - 1);
}

/* An instruction that crosses a page: decode it from both pages. */
static struct x86_block *x86_decode_crossing(struct x86_cpu *cpu,
						    uint64_t la)
{
	struct x86_cpu_priv *p = cpu->priv;
	struct x86_block *b = p->one;
	uint8_t buf[16];
	unsigned int n = X86_PAGE_SIZE - (la & 0xfff);
	int r;

	/* the second page is touched only if the instruction needs it */
	x86_fetch_code(cpu, la, buf, n);
	r = x86_decode_one(cpu, buf, n, &b->insn[0]);
	if (r == 0) {
		x86_fetch_code(cpu, x86_wrap_la(cpu, la + n), buf + n, 15 - n);
		r = x86_decode_one(cpu, buf, 15, &b->insn[0]);
	}
	if (r <= 0)
		x86_ud(cpu);
	b->n = 1;
	b->bytes = b->insn[0].len;
	return b;
}

static struct x86_block *x86_block_decode(struct x86_cpu *cpu, uint8_t *host,
					  uint64_t gpa, unsigned int off)
{
	struct x86_cpu_priv *p = cpu->priv;
	size_t max = sizeof(struct x86_block) +
		     X86_BLOCK_MAX * sizeof(struct x86_insn);
	struct x86_block *b;
	int r;

	if (p->arena_used + max > X86_ARENA_SIZE)
		x86_blocks_flush(cpu);
	b = (struct x86_block *)(p->arena + p->arena_used);
	b->gpa = gpa;
	b->dmode = (uint8_t)p->dmode;
	b->n = 0;
	b->bytes = 0;
	b->link_epoch = 0;
	b->link[0] = b->link[1] = NULL;
	while (b->n < X86_BLOCK_MAX && off < X86_PAGE_SIZE) {
		r = x86_decode_one(cpu, host + off, X86_PAGE_SIZE - off,
				   &b->insn[b->n]);
		if (r < 0 && b->n == 0)
			x86_ud(cpu);
		if (r <= 0)
			break;
		off += b->insn[b->n].len;
		b->bytes += b->insn[b->n].len;
		b->n++;
		if (b->insn[b->n - 1].flags & X86_I_END)
			break;
	}
	if (b->n == 0)
		return NULL;
	p->arena_used += sizeof(*b) + b->n * sizeof(struct x86_insn);
	p->arena_used = (p->arena_used + 15) & ~(size_t)15;
	return b;
}

/*
 * The block starting at RIP.  *cached is false for a one-instruction
 * scratch block that must not be kept (page-crossing instruction).
 */
struct x86_block *x86_block_get(struct x86_cpu *cpu, bool *cached)
{
	struct x86_cpu_priv *p = cpu->priv;
	enum x86_pv pv = p->cpl == 3 ? X86_PV_USER : X86_PV_SUP;
	struct x86_tlb_entry *e;
	struct x86_block *b;
	uint64_t la, gpa;
	uint8_t *host;
	unsigned int h, off;

	la = x86_seg_la(cpu, X86_CS, cpu->rip, 1, X86_ACC_X);
	e = x86_tlb_lookup(cpu, la, X86_ACC_X, pv);
	if (likely(e)) {
		host = e->host;
		gpa = e->gpa;
	} else {
		host = x86_tlb_fill(cpu, la, X86_ACC_X, pv, false, &gpa);
		if (!host)
			x86_internal_error(cpu, 1);	/* fetch from MMIO */
		gpa &= X86_PAGE_MASK;
	}
	off = la & 0xfff;
	gpa |= off;
	h = x86_block_hash(gpa, (uint8_t)p->dmode);
	for (b = p->hash[h]; b; b = b->next)
		if (b->gpa == gpa && b->dmode == p->dmode)
			goto found;
	b = x86_block_decode(cpu, host, gpa, off);
	if (!b) {
		*cached = false;
		return x86_decode_crossing(cpu, la);
	}
	b->next = p->hash[h];
	p->hash[h] = b;
	if (x86_code_page_mark(host))
		x86_tlb_flush_writes(cpu);
found:
	/*
	 * Outside 64-bit mode every byte of an instruction must lie within
	 * CS.limit (SDM Vol. 3, 5.3): a block reaching beyond it runs one
	 * instruction at a time, each checked by x86_exec_one().
	 */
	*cached = p->mode == X86_MODE_LONG64 ||
		  cpu->rip + b->bytes - 1 <= cpu->seg[X86_CS].limit;
	return b;
}
