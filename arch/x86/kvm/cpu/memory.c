// SPDX-License-Identifier: MIT
/*
 * memory.c - guest memory accesses: TLB fast path, page-split slow path,
 * MMIO fragments with their per-instruction log, operands and the stack.
 *
 * MMIO follows KVM: an access to unbacked guest-physical memory stops the
 * instruction with an MMIO exit of at most 8 bytes (an access crossing
 * into MMIO is split at the page boundary and into 8-byte fragments).
 * When the host has completed it, the instruction runs again from the
 * start; the k-th MMIO fragment of that run takes its data from the log
 * (reads) or is skipped (writes already done), so every fragment reaches
 * the device exactly once.
 */
#include <pthread.h>

#include "cpu_priv.h"

static pthread_mutex_t x86_global_lock = PTHREAD_MUTEX_INITIALIZER;
static __thread bool x86_global_held;

/* Split-lock and MMIO read-modify-writes serialize here. */
void x86_lock_global(void)
{
	pthread_mutex_lock(&x86_global_lock);
	x86_global_held = true;
}

void x86_unlock_global(void)
{
	x86_global_held = false;
	pthread_mutex_unlock(&x86_global_lock);
}

/* A fault or a host memory fault left a handler while it held the lock. */
void x86_unlock_global_if_held(void)
{
	if (unlikely(x86_global_held))
		x86_unlock_global();
}

static inline uint64_t x86_ld(const uint8_t *p, unsigned int size)
{
	switch (size) {
	case 1: return *p;
	case 2: { uint16_t v; memcpy(&v, p, 2); return v; }
	case 4: { uint32_t v; memcpy(&v, p, 4); return v; }
	default: { uint64_t v; memcpy(&v, p, 8); return v; }
	}
}

static inline void x86_st(uint8_t *p, uint64_t v, unsigned int size)
{
	switch (size) {
	case 1: *p = (uint8_t)v; break;
	case 2: { uint16_t w = (uint16_t)v; memcpy(p, &w, 2); break; }
	case 4: { uint32_t w = (uint32_t)v; memcpy(p, &w, 4); break; }
	default: memcpy(p, &v, 8); break;
	}
}

/* ---------------------------------------------------------------- MMIO */

/* The instruction retired or faulted: forget its MMIO log and I/O data. */
void x86_mmio_retire(struct x86_cpu *cpu)
{
	cpu->priv->mmio_n = 0;
	cpu->priv->mmio_pos = 0;
	cpu->priv->io_state = 0;
}

static void x86_mmio_frag(struct x86_cpu *cpu, uint64_t gpa, uint8_t *buf,
			  unsigned int len, bool write)
{
	struct x86_cpu_priv *p = cpu->priv;
	struct x86_mmio_frag *f;

	if (p->mmio_pos < p->mmio_n) {
		f = &p->mmio[p->mmio_pos++];
		if (f->gpa != gpa || f->len != len || f->write != write)
			x86_internal_error(cpu, 1);
		if (!write)
			memcpy(buf, f->data, len);
		return;
	}
	if (p->mmio_n >= X86_MMIO_LOG)
		x86_internal_error(cpu, 1);
	cpu->exit.mmio.gpa = gpa;
	cpu->exit.mmio.len = (uint8_t)len;
	cpu->exit.mmio.write = write;
	memset(cpu->exit.mmio.data, 0, 8);
	if (write)
		memcpy(cpu->exit.mmio.data, buf, len);
	p->mmio_wait = true;
	p->mmio_rip = cpu->rip;
	x86_exit(cpu, X86_EXIT_MMIO);
}

static void x86_mmio(struct x86_cpu *cpu, uint64_t gpa, uint8_t *buf,
		     unsigned int len, bool write)
{
	unsigned int n;

	while (len) {
		n = len > 8 ? 8 : len;
		x86_mmio_frag(cpu, gpa, buf, n, write);
		gpa += n;
		buf += n;
		len -= n;
	}
}

/* ------------------------------------------------------ linear access */

struct x86_chunk {
	uint8_t *host;		/* NULL: MMIO at gpa */
	uint64_t gpa;
	unsigned int len;
};

/* Translate every page of [la, la+size) before touching any of them. */
static int x86_chunks(struct x86_cpu *cpu, uint64_t la, unsigned int size,
		      enum x86_acc acc, enum x86_pv pv, bool implicit,
		      struct x86_chunk *c)
{
	struct x86_tlb_entry *e;
	unsigned int n = 0, len;
	uint64_t gpa;
	uint8_t *host;

	while (size) {
		len = X86_PAGE_SIZE - (la & 0xfff);
		if (len > size)
			len = size;
		e = x86_tlb_lookup(cpu, la, acc, pv);
		if (e) {
			c[n].host = e->host + (la & 0xfff);
			c[n].gpa = e->gpa | (la & 0xfff);
		} else {
			host = x86_tlb_fill(cpu, la, acc, pv, implicit, &gpa);
			c[n].host = host ? host + (la & 0xfff) : NULL;
			c[n].gpa = gpa;
		}
		c[n++].len = len;
		la = x86_wrap_la(cpu, la + len);
		size -= len;
	}
	return (int)n;
}

static void x86_access_slow(struct x86_cpu *cpu, uint64_t la, uint8_t *buf,
			    unsigned int size, bool write, enum x86_pv pv,
			    bool implicit)
{
	struct x86_chunk c[X86_PAGE_SIZE / 512 + 3];
	int i, n;

	n = x86_chunks(cpu, la, size, write ? X86_ACC_W : X86_ACC_R, pv,
		       implicit, c);
	for (i = 0; i < n; i++) {
		if (!c[i].host)
			x86_mmio(cpu, c[i].gpa, buf, c[i].len, write);
		else if (write)
			memcpy(c[i].host, buf, c[i].len);
		else
			memcpy(buf, c[i].host, c[i].len);
		buf += c[i].len;
	}
}

uint64_t x86_read_lin(struct x86_cpu *cpu, uint64_t la, unsigned int size,
		      enum x86_pv pv, bool implicit)
{
	struct x86_tlb_entry *e = x86_tlb_lookup(cpu, la, X86_ACC_R, pv);
	uint8_t buf[8] = { 0 };

	if (likely(e && (la & 0xfff) + size <= X86_PAGE_SIZE))
		return x86_ld(e->host + (la & 0xfff), size);
	x86_access_slow(cpu, la, buf, size, false, pv, implicit);
	return x86_ld(buf, size);
}

void x86_write_lin(struct x86_cpu *cpu, uint64_t la, uint64_t val,
		   unsigned int size, enum x86_pv pv, bool implicit)
{
	struct x86_tlb_entry *e = x86_tlb_lookup(cpu, la, X86_ACC_W, pv);
	uint8_t buf[8];

	if (likely(e && (la & 0xfff) + size <= X86_PAGE_SIZE)) {
		x86_st(e->host + (la & 0xfff), val, size);
		return;
	}
	x86_st(buf, val, size);
	x86_access_slow(cpu, la, buf, size, true, pv, implicit);
}

void x86_read_lin_buf(struct x86_cpu *cpu, uint64_t la, void *buf,
		      unsigned int size, enum x86_pv pv, bool implicit)
{
	x86_access_slow(cpu, la, buf, size, false, pv, implicit);
}

void x86_write_lin_buf(struct x86_cpu *cpu, uint64_t la, const void *buf,
		       unsigned int size, enum x86_pv pv, bool implicit)
{
	x86_access_slow(cpu, la, (uint8_t *)buf, size, true, pv, implicit);
}

uint64_t x86_read(struct x86_cpu *cpu, int seg, uint64_t off,
		  unsigned int size)
{
	uint64_t la = x86_seg_la(cpu, seg, off, size, X86_ACC_R);

	x86_align_check(cpu, la, size);
	if (unlikely(cpu->priv->dbg_data))
		x86_dbg_data(cpu, la, size, false);
	return x86_read_lin(cpu, la, size, x86_data_pv(cpu), false);
}

void x86_write(struct x86_cpu *cpu, int seg, uint64_t off, uint64_t val,
	       unsigned int size)
{
	uint64_t la = x86_seg_la(cpu, seg, off, size, X86_ACC_W);

	x86_align_check(cpu, la, size);
	if (unlikely(cpu->priv->dbg_data))
		x86_dbg_data(cpu, la, size, true);
	x86_write_lin(cpu, la, val, size, x86_data_pv(cpu), false);
}

/* Probe that a write would succeed, without writing (faults raised). */
void x86_check_write(struct x86_cpu *cpu, int seg, uint64_t off,
		     unsigned int size)
{
	struct x86_chunk c[3];
	uint64_t la = x86_seg_la(cpu, seg, off, size, X86_ACC_W);

	x86_chunks(cpu, la, size, X86_ACC_W, x86_data_pv(cpu), false, c);
}

/*
 * Host address of a guest operand for an atomic read-modify-write, or
 * NULL when it is MMIO or crosses a page (callers then serialize on the
 * global lock).  Write permission is checked: an RMW faults as a write.
 * An operand of 2, 4, 8 or 16 bytes is alignment-checked; string and I/O
 * batches (other sizes) check their first element and do not batch
 * while alignment checking is on.
 */
void *x86_host_ptr(struct x86_cpu *cpu, int seg, uint64_t off,
		   unsigned int size, enum x86_acc acc)
{
	uint64_t la = x86_seg_la(cpu, seg, off, size, acc), gpa;
	enum x86_pv pv = x86_data_pv(cpu);
	struct x86_tlb_entry *e;
	uint8_t *host;

	if (size <= 16 && !(size & (size - 1)))
		x86_align_check(cpu, la, size);
	if (unlikely(cpu->priv->dbg_data))
		x86_dbg_data(cpu, la, size, acc == X86_ACC_W);
	if ((la & 0xfff) + size > X86_PAGE_SIZE)
		return NULL;
	e = x86_tlb_lookup(cpu, la, acc, pv);
	if (e)
		return e->host + (la & 0xfff);
	host = x86_tlb_fill(cpu, la, acc, pv, false, &gpa);
	return host ? host + (la & 0xfff) : NULL;
}

void x86_fetch_code(struct x86_cpu *cpu, uint64_t la, uint8_t *buf,
		    unsigned int n)
{
	enum x86_pv pv = cpu->priv->cpl == 3 ? X86_PV_USER : X86_PV_SUP;
	struct x86_tlb_entry *e = x86_tlb_lookup(cpu, la, X86_ACC_X, pv);
	uint8_t *host;
	uint64_t gpa;

	if (e) {
		host = e->host;
	} else {
		host = x86_tlb_fill(cpu, la, X86_ACC_X, pv, false, &gpa);
		if (!host)
			x86_internal_error(cpu, 1);
	}
	memcpy(buf, host + (la & 0xfff), n);
}

/* ------------------------------------------------------------ operands */

uint64_t x86_gpr_get(struct x86_cpu *cpu, unsigned int reg, unsigned int size)
{
	return cpu->gpr[reg] & x86_mask(size);
}

void x86_gpr_set(struct x86_cpu *cpu, unsigned int reg, unsigned int size,
		 uint64_t val)
{
	uint64_t *r = &cpu->gpr[reg];

	switch (size) {
	case 1: *r = (*r & ~0xffull) | (val & 0xff); break;
	case 2: *r = (*r & ~0xffffull) | (val & 0xffff); break;
	case 4: *r = (uint32_t)val; break;	/* zero-extends (SDM Vol. 1, 3.4.1.1) */
	default: *r = val; break;
	}
}

uint64_t x86_ea(struct x86_cpu *cpu, const struct x86_insn *in,
		const struct x86_operand *op)
{
	uint64_t ea = (uint64_t)op->disp;

	if (op->base == X86_RIPREL)
		ea += cpu->rip + in->len;
	else if (op->base != X86_NOREG)
		ea += cpu->gpr[op->base];
	if (op->index != X86_NOREG)
		ea += cpu->gpr[op->index] * op->scale;
	return ea & x86_mask(in->adsz);
}

uint64_t x86_op_read(struct x86_cpu *cpu, const struct x86_insn *in, int i)
{
	const struct x86_operand *o = &in->op[i];

	switch (o->kind) {
	case X86_OP_GPR:
		if (o->hi8)
			return (cpu->gpr[o->reg] >> 8) & 0xff;
		return cpu->gpr[o->reg] & x86_mask(o->size);
	case X86_OP_MEM:
		return x86_read(cpu, o->seg, x86_ea(cpu, in, o), o->size);
	case X86_OP_IMM:
		return (uint64_t)o->disp;
	case X86_OP_SREG:
		return cpu->seg[o->reg].sel;
	default:
		x86_unimplemented(cpu, in);
	}
}

void x86_op_write(struct x86_cpu *cpu, const struct x86_insn *in, int i,
		  uint64_t val)
{
	const struct x86_operand *o = &in->op[i];

	switch (o->kind) {
	case X86_OP_GPR:
		if (o->hi8)
			cpu->gpr[o->reg] = (cpu->gpr[o->reg] & ~0xff00ull) |
					   ((val & 0xff) << 8);
		else
			x86_gpr_set(cpu, o->reg, o->size, val);
		return;
	case X86_OP_MEM:
		x86_write(cpu, o->seg, x86_ea(cpu, in, o), val, o->size);
		return;
	default:
		x86_unimplemented(cpu, in);
	}
}

/* --------------------------------------------------------------- stack */

unsigned int x86_stack_size(struct x86_cpu *cpu)
{
	if (cpu->priv->mode == X86_MODE_LONG64)
		return 8;
	return (cpu->seg[X86_SS].attr & X86_SEG_DB) ? 4 : 2;
}

void x86_set_sp(struct x86_cpu *cpu, uint64_t sp)
{
	x86_gpr_set(cpu, X86_RSP, x86_stack_size(cpu), sp);
}

void x86_stack_write(struct x86_cpu *cpu, uint64_t sp, uint64_t val,
		     unsigned int size)
{
	x86_write(cpu, X86_SS, sp & x86_mask(x86_stack_size(cpu)), val, size);
}

uint64_t x86_stack_read(struct x86_cpu *cpu, uint64_t sp, unsigned int size)
{
	return x86_read(cpu, X86_SS, sp & x86_mask(x86_stack_size(cpu)), size);
}

void x86_push(struct x86_cpu *cpu, uint64_t val, unsigned int size)
{
	uint64_t sp = cpu->gpr[X86_RSP] - size;

	x86_stack_write(cpu, sp, val, size);
	x86_set_sp(cpu, sp);
}

uint64_t x86_pop(struct x86_cpu *cpu, unsigned int size)
{
	uint64_t sp = cpu->gpr[X86_RSP], v;

	v = x86_stack_read(cpu, sp, size);
	x86_set_sp(cpu, sp + size);
	return v;
}
