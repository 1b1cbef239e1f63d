// SPDX-License-Identifier: MIT
/* test_host.c - the test host behind test_host.h */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "test_host.h"

static struct th *th_of(struct x86_cpu *cpu)
{
	return cpu->opaque;
}

static void *th_gpa_page(struct x86_cpu *cpu, uint64_t gpa, bool write)
{
	struct th *t = th_of(cpu);

	if (gpa >= TH_RAM_SIZE)
		return NULL;
	if (gpa >= TH_MMIO_BASE && gpa < TH_MMIO_BASE + TH_MMIO_SIZE)
		return NULL;
	return t->ram + (gpa & ~0xfffull);
}

static uint64_t th_generation(struct x86_cpu *cpu)
{
	return th_of(cpu)->gen;
}

static bool th_kicked(struct x86_cpu *cpu)
{
	return false;
}

static void th_cpuid(struct x86_cpu *cpu, uint32_t leaf, uint32_t sub,
		     uint32_t out[4])
{
	if (!x86_cpu_implemented_cpuid(leaf, sub, out))
		memset(out, 0, 16);
}

static int th_rdmsr(struct x86_cpu *cpu, uint32_t idx, uint64_t *v)
{
	if (idx == 0x8b) {
		*v = 0x1234;
		return 0;
	}
	return -1;
}

static int th_wrmsr(struct x86_cpu *cpu, uint32_t idx, uint64_t v)
{
	return idx == 0x8b ? 0 : -1;
}

static uint64_t th_rdtsc(struct x86_cpu *cpu)
{
	return th_of(cpu)->tsc += 1000;
}

static int th_pending_irq(struct x86_cpu *cpu, bool ack)
{
	struct th *t = th_of(cpu);
	int v = t->irq;

	if (ack && v >= 0) {
		t->irq = -1;
		t->irq_acked++;
	}
	return v;
}

struct th *th_new(void)
{
	struct th *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	t->ram = mmap(NULL, TH_RAM_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(t->ram != MAP_FAILED);
	t->ops.gpa_page = th_gpa_page;
	t->ops.generation = th_generation;
	t->ops.kicked = th_kicked;
	t->ops.cpuid = th_cpuid;
	t->ops.rdmsr = th_rdmsr;
	t->ops.wrmsr = th_wrmsr;
	t->ops.rdtsc = th_rdtsc;
	t->ops.pending_irq = th_pending_irq;
	t->ops.pio_buf = t->pio;
	t->irq = -1;
	t->in_value = 0x12345678;
	assert_int_equal(x86_cpu_init(&t->cpu, &t->ops, t), 0);
	return t;
}

void th_free(struct th *t)
{
	x86_cpu_destroy(&t->cpu);
	munmap(t->ram, TH_RAM_SIZE);
	free(t);
}

void th_load(struct th *t, uint64_t gpa, const uint8_t *start,
	     const uint8_t *end)
{
	memcpy(t->ram + gpa, start, (size_t)(end - start));
}

static void th_serve_io(struct th *t)
{
	struct x86_cpu *c = &t->cpu;
	uint32_t i, n = c->exit.io.count * c->exit.io.size;

	t->n_io++;
	t->last_io_count = c->exit.io.count;
	if (c->exit.io.in) {
		for (i = 0; i < n; i++)
			t->pio[i] = (uint8_t)(t->in_value >> (8 * (i % 4)));
	} else if (c->exit.io.port == 0xe9) {
		for (i = 0; i < n && t->n_out < (int)sizeof(t->out); i++)
			t->out[t->n_out++] = t->pio[i];
	}
	x86_cpu_complete_io(c);
}

static void th_serve_mmio(struct th *t)
{
	struct x86_cpu *c = &t->cpu;
	uint64_t off = c->exit.mmio.gpa - TH_MMIO_BASE;
	uint8_t data[8] = { 0 };

	t->n_mmio++;
	assert_true(c->exit.mmio.len >= 1 && c->exit.mmio.len <= 8);
	assert_true(off + c->exit.mmio.len <= TH_MMIO_SIZE);
	if (c->exit.mmio.write) {
		t->n_mmio_write++;
		memcpy(t->mmio + off, c->exit.mmio.data, c->exit.mmio.len);
	} else {
		t->n_mmio_read++;
		memcpy(data, t->mmio + off, c->exit.mmio.len);
	}
	x86_cpu_complete_mmio(c, data);
}

enum x86_exit_reason th_run(struct th *t)
{
	enum x86_exit_reason r;
	int guard;

	for (guard = 0; guard < 100000; guard++) {
		r = x86_cpu_run(&t->cpu);
		if (r == X86_EXIT_IO)
			th_serve_io(t);
		else if (r == X86_EXIT_MMIO)
			th_serve_mmio(t);
		else
			return r;
	}
	fail_msg("guest did not stop");
	return X86_EXIT_NONE;
}

static void th_seg(struct x86_seg *s, uint16_t sel, uint32_t attr)
{
	s->sel = sel;
	s->base = 0;
	s->limit = 0xffffffff;
	s->attr = attr;
}

void th_gdt_set(struct th *t, int idx, uint64_t desc)
{
	th_wr64(t, TH_GDT + idx * 8, desc);
}

/*
 * GDT: 1 = 32-bit code (0x08), 2 = data (0x10), 3 = 64-bit code (0x18),
 * 4 = 16-bit code (0x20), 5 = user 32 code (0x2b), 6 = user data (0x33),
 * 7 = user 64 code (0x3b), 8-9 = TSS (0x40).
 */
static void th_gdt(struct th *t)
{
	th_gdt_set(t, 0, 0);
	th_gdt_set(t, 1, 0x00cf9b000000ffffull);
	th_gdt_set(t, 2, 0x00cf93000000ffffull);
	th_gdt_set(t, 3, 0x00af9b000000ffffull);
	th_gdt_set(t, 4, 0x00009b000000ffffull);
	th_gdt_set(t, 5, 0x00cffb000000ffffull);
	th_gdt_set(t, 6, 0x00cff3000000ffffull);
	th_gdt_set(t, 7, 0x00affb000000ffffull);
	/* 64-bit TSS at 0x6000, limit 0x67 (+ I/O bitmap) */
	th_gdt_set(t, 8, 0x0000890060000000ull | 0x2067);
	th_gdt_set(t, 9, 0);
	t->cpu.gdtr.base = TH_GDT;
	t->cpu.gdtr.limit = 10 * 8 - 1;
	t->cpu.idtr.base = TH_IDT;
	t->cpu.idtr.limit = 256 * 16 - 1;
}

void th_real_mode(struct th *t)
{
	x86_cpu_reset(&t->cpu);
	t->cpu.seg[X86_CS].sel = 0;
	t->cpu.seg[X86_CS].base = 0;
	t->cpu.rip = TH_CODE;
	t->cpu.gpr[X86_RSP] = TH_STACK;
	t->cpu.idtr.base = 0;
	t->cpu.idtr.limit = 0x3ff;
	x86_cpu_state_changed(&t->cpu);
}

void th_prot32(struct th *t)
{
	int i;

	x86_cpu_reset(&t->cpu);
	th_gdt(t);
	t->cpu.idtr.limit = 256 * 8 - 1;
	t->cpu.cr0 = 0x11;
	th_seg(&t->cpu.seg[X86_CS], 0x08, 0xc09b);
	for (i = 0; i < 6; i++)
		if (i != X86_CS)
			th_seg(&t->cpu.seg[i], 0x10, 0xc093);
	t->cpu.tr.sel = 0x40;
	t->cpu.tr.base = 0x6000;
	t->cpu.tr.limit = 0x2067;
	t->cpu.tr.attr = 0x8b;
	th_wr64(t, 0x6000 + 0x66, (uint64_t)0x68 << 0);
	t->cpu.rip = TH_CODE;
	t->cpu.gpr[X86_RSP] = TH_STACK;
	x86_cpu_state_changed(&t->cpu);
}

/* PML4 at TH_PT, PDPT +0x1000, PD +0x2000, PTs +0x3000.. (2 of them) */
void th_long64(struct th *t)
{
	uint64_t pt = TH_PT, i;
	int s;

	x86_cpu_reset(&t->cpu);
	th_gdt(t);
	memset(t->ram + pt, 0, 0x5000);
	th_wr64(t, pt, (pt + 0x1000) | 7);
	th_wr64(t, pt + 0x1000, (pt + 0x2000) | 7);
	th_wr64(t, pt + 0x2000, (pt + 0x3000) | 7);
	th_wr64(t, pt + 0x2008, (pt + 0x4000) | 7);
	for (i = 0; i < 1024; i++)
		th_wr64(t, pt + 0x3000 + i * 8, (i << 12) | 7);
	t->cpu.cr3 = pt;
	t->cpu.cr4 = 0x20;	/* PAE */
	t->cpu.efer = 0xd01;	/* SCE LME LMA NXE */
	t->cpu.cr0 = 0x80010011;
	th_seg(&t->cpu.seg[X86_CS], 0x18, 0xa09b);
	for (s = 0; s < 6; s++)
		if (s != X86_CS)
			th_seg(&t->cpu.seg[s], 0x10, 0xc093);
	t->cpu.tr.sel = 0x40;
	t->cpu.tr.base = 0x6000;
	t->cpu.tr.limit = 0x2067;
	t->cpu.tr.attr = 0x8b;
	th_wr64(t, 0x6000 + 4, 0x5000);		/* RSP0 */
	th_wr64(t, 0x6000 + 36, 0x4800);	/* IST1 */
	t->ram[0x6000 + 0x66] = 0x68;
	t->cpu.rip = TH_CODE;
	t->cpu.gpr[X86_RSP] = TH_STACK;
	x86_cpu_state_changed(&t->cpu);
}

uint64_t *th_pte(struct th *t, uint64_t la)
{
	return (uint64_t *)(t->ram + TH_PT + 0x3000 + (la >> 12) * 8);
}

void th_idt_set(struct th *t, int vec, uint64_t handler, bool long_mode,
		int dpl, int ist)
{
	uint64_t lo = (handler & 0xffff) | ((uint64_t)(long_mode ? 0x18 : 0x08) << 16) |
		      ((uint64_t)ist << 32) | (0x8eull << 40) |
		      ((uint64_t)dpl << 45) |
		      ((handler >> 16 & 0xffff) << 48);

	if (long_mode) {
		th_wr64(t, TH_IDT + vec * 16, lo);
		th_wr64(t, TH_IDT + vec * 16 + 8, handler >> 32);
	} else {
		th_wr64(t, TH_IDT + vec * 8, lo);
	}
}

void th_catch_all(struct th *t, bool long_mode)
{
	int v;

	for (v = 0; v < 32; v++) {
		uint8_t *c = t->ram + TH_CATCH + 16 * v;
		uint64_t h = TH_CATCH + 16 * v;

		c[0] = 0xbd;			/* mov $imm32, %ebp */
		c[1] = (uint8_t)v;
		c[2] = 1;
		c[3] = c[4] = 0;
		c[5] = 0xf4;			/* hlt */
		th_idt_set(t, v, h, long_mode, v == 3 || v == 4 ? 3 : 0, 0);
		if (!long_mode)			/* 32-bit interrupt gate */
			t->ram[TH_IDT + v * 8 + 5] |= 0x8;
	}
}

void th_user(struct th *t)
{
	struct x86_cpu *c = &t->cpu;
	bool lm = c->efer & 0x400;
	int s;

	c->seg[X86_CS].sel = lm ? 0x3b : 0x2b;
	c->seg[X86_CS].attr = lm ? 0xa0fb : 0xc0fb;
	for (s = 0; s < 6; s++) {
		if (s == X86_CS)
			continue;
		c->seg[s].sel = 0x33;
		c->seg[s].attr = 0xc0f3;
	}
	th_wr64(t, 0x6000 + 4, 0x5000);		/* RSP0 / ESP0 */
	if (!lm)
		th_wr64(t, 0x6000 + 8, 0x10);	/* SS0 */
	x86_cpu_state_changed(c);
}
