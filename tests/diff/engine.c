// SPDX-License-Identifier: MIT
/*
 * engine.c - run a sequence in the software vCPU.
 *
 * The guest is a flat FZ_GPA_SIZE buffer.  It runs in 64-bit mode at CPL 3
 * with 4-level paging that maps the code and the sandbox at the same
 * linear addresses the native child uses (user pages; code read-only,
 * sandbox no-execute).  Everything else the CPU needs (GDT, IDT, TSS,
 * ring-0 stack, exception handlers) is identity-mapped supervisor-only
 * below 2 MiB, where a user access faults just as it does natively.
 *
 * How a run ends: the sequence is followed by INT3, and the rest of the
 * code area is INT3 too.  Every IDT vector 0..31 goes (through an
 * interrupt gate, to CPL 0 on the TSS's RSP0 stack) to a handler that is
 * the single instruction "out <vector>, al", which leaves x86_cpu_run()
 * with X86_EXIT_IO.  The port says which vector; the frame on the ring-0
 * stack gives the user RIP, RFLAGS and RSP at the exception, and the
 * GPRs are untouched by delivery.  INT3 right after the sequence is the
 * normal end; any other vector is an exception to compare with the
 * host's.  Gates are DPL 0 except #BP and #OF (DPL 3), as Linux sets them,
 * so INT n faults the same way on both sides.
 *
 * The vCPU is initialized afresh for every run: no decoded block or TLB
 * entry survives from one sequence to the next.
 */
#include <cpuid.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "fuzz.h"

#define FZ_GPA_SIZE	0x200000u
#define FZ_PML4		0x1000u
#define FZ_PDPT		0x2000u
#define FZ_PD		0x3000u
#define FZ_PT_LOW	0x4000u
#define FZ_PT_USER	0x5000u
#define FZ_GDT		0x10000u
#define FZ_IDT		0x11000u
#define FZ_TSS		0x12000u
#define FZ_HANDLERS	0x13000u	/* 16 bytes per vector */
#define FZ_KSTACK	0x18000u	/* top of the ring-0 stack */
#define FZ_KSTACK_LO	0x14000u
#define FZ_CODE_GPA	0x100000u
#define FZ_DATA_GPA	0x110000u
#define FZ_MAX_KICKS	200000u		/* block boundaries before "timeout" */

#define PTE_P		0x001ull
#define PTE_W		0x002ull
#define PTE_U		0x004ull
#define PTE_A		0x020ull
#define PTE_D		0x040ull
#define PTE_NX		(1ull << 63)

/* Linux's x86-64 GDT layout, so MOV r, Sreg reads the same selectors */
#define SEL_KCODE	0x10
#define SEL_KDATA	0x18
#define SEL_UDATA	0x2b
#define SEL_UCODE	0x33
#define SEL_TSS		0x40

static struct {
	uint8_t *mem;
	struct x86_cpu cpu;
	unsigned long kicks;
	uint8_t pio[4096];
} eng;

/* ---------------------------------------------------------------- ops */

static void *fz_gpa_page(struct x86_cpu *cpu, uint64_t gpa, bool write)
{
	if (gpa >= FZ_GPA_SIZE)
		return NULL;
	return eng.mem + (gpa & ~0xfffull);
}

static uint64_t fz_generation(struct x86_cpu *cpu)
{
	return 0;
}

static bool fz_kicked(struct x86_cpu *cpu)
{
	return ++eng.kicks > FZ_MAX_KICKS;
}

static bool fz_feature_leaf(uint32_t leaf)
{
	return leaf == 1 || leaf == 7 || leaf == 0x80000001;
}

/* What the engine implements, limited to what the host has. */
static void fz_cpuid(struct x86_cpu *cpu, uint32_t leaf, uint32_t sub,
		     uint32_t out[4])
{
	uint32_t h[4];

	if (!x86_cpu_implemented_cpuid(leaf, sub, out)) {
		memset(out, 0, 4 * sizeof(out[0]));
		return;
	}
	if (!fz_feature_leaf(leaf))
		return;
	__cpuid_count(leaf, sub, h[0], h[1], h[2], h[3]);
	if (leaf == 7)
		out[1] &= h[1];
	out[2] &= h[2];
	out[3] &= h[3];
}

static int fz_rdmsr(struct x86_cpu *cpu, uint32_t index, uint64_t *val)
{
	return -1;
}

static int fz_wrmsr(struct x86_cpu *cpu, uint32_t index, uint64_t val)
{
	return -1;
}

static uint64_t fz_rdtsc(struct x86_cpu *cpu)
{
	return 0;
}

static int fz_pending_irq(struct x86_cpu *cpu, bool ack)
{
	return -1;
}

static const struct x86_cpu_ops fz_ops = {
	.gpa_page = fz_gpa_page,
	.generation = fz_generation,
	.kicked = fz_kicked,
	.cpuid = fz_cpuid,
	.rdmsr = fz_rdmsr,
	.wrmsr = fz_wrmsr,
	.rdtsc = fz_rdtsc,
	.pending_irq = fz_pending_irq,
	.pio_buf = eng.pio,
};

/* ------------------------------------------------------- guest memory */

static void fz_put64(uint64_t gpa, uint64_t v)
{
	memcpy(eng.mem + gpa, &v, 8);
}

static uint64_t fz_get64(uint64_t gpa)
{
	uint64_t v;

	memcpy(&v, eng.mem + gpa, 8);
	return v;
}

static void fz_build_paging(void)
{
	uint64_t dir = PTE_P | PTE_W | PTE_U | PTE_A;
	unsigned int i;

	fz_put64(FZ_PML4, FZ_PDPT | dir);
	fz_put64(FZ_PDPT, FZ_PD | dir);
	fz_put64(FZ_PD, FZ_PT_LOW | dir);
	fz_put64(FZ_PD + 8 * (FZ_CODE_LA >> 21), FZ_PT_USER | dir);
	/* supervisor-only system area */
	for (i = FZ_GDT; i < FZ_KSTACK; i += 0x1000)
		fz_put64(FZ_PT_LOW + 8 * (i >> 12),
			 i | PTE_P | PTE_W | PTE_A | PTE_D | PTE_NX);
	fz_put64(FZ_PT_LOW + 8 * (FZ_HANDLERS >> 12),
		 FZ_HANDLERS | PTE_P | PTE_A);
	/* user code (read-only) and sandbox (no-execute) */
	for (i = 0; i < FZ_CODE_SIZE; i += 0x1000)
		fz_put64(FZ_PT_USER + 8 * (((FZ_CODE_LA + i) >> 12) & 511),
			 (FZ_CODE_GPA + i) | PTE_P | PTE_U | PTE_A);
	for (i = 0; i < FZ_DATA_SIZE; i += 0x1000)
		fz_put64(FZ_PT_USER + 8 * (((FZ_DATA_LA + i) >> 12) & 511),
			 (FZ_DATA_GPA + i) | PTE_P | PTE_W | PTE_U | PTE_A |
			 PTE_D | PTE_NX);
}

static bool fz_has_error(int vec)
{
	return vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21;
}

static void fz_build_system(void)
{
	uint64_t h, tss = FZ_TSS;
	ZydisEncoderRequest r;
	ZyanUSize len;
	unsigned int v;

	fz_put64(FZ_GDT + SEL_KCODE, 0x00af9b000000ffffull);
	fz_put64(FZ_GDT + SEL_KDATA, 0x00cf93000000ffffull);
	fz_put64(FZ_GDT + (SEL_UDATA & ~3), 0x00cff3000000ffffull);
	fz_put64(FZ_GDT + (SEL_UCODE & ~3), 0x00affb000000ffffull);
	fz_put64(FZ_GDT + SEL_TSS, 0x67 | ((tss & 0xffffff) << 16) |
		 (0x8bull << 40) | ((tss >> 24) & 0xff) << 56);
	fz_put64(FZ_GDT + SEL_TSS + 8, tss >> 32);
	fz_put64(FZ_TSS + 4, FZ_KSTACK);		/* RSP0 */
	eng.mem[FZ_TSS + 0x66] = 0x68;			/* no I/O bitmap */
	memset(eng.mem + FZ_HANDLERS, 0xf4, 0x1000);
	for (v = 0; v < 32; v++) {
		h = FZ_HANDLERS + 16 * v;
		fz_put64(FZ_IDT + 16 * v, (h & 0xffff) |
			 ((uint64_t)SEL_KCODE << 16) |
			 ((uint64_t)(0x8e | (v == 3 || v == 4 ? 0x60 : 0)) << 40) |
			 ((h >> 16) & 0xffff) << 48);
		fz_put64(FZ_IDT + 16 * v + 8, h >> 32);
		memset(&r, 0, sizeof(r));
		r.machine_mode = ZYDIS_MACHINE_MODE_LONG_64;
		r.mnemonic = ZYDIS_MNEMONIC_OUT;
		r.operand_count = 2;
		r.operands[0].type = ZYDIS_OPERAND_TYPE_IMMEDIATE;
		r.operands[0].imm.u = v;
		r.operands[1].type = ZYDIS_OPERAND_TYPE_REGISTER;
		r.operands[1].reg.value = ZYDIS_REGISTER_AL;
		len = 16;
		if (!ZYAN_SUCCESS(ZydisEncoderEncodeInstruction(&r,
					eng.mem + h, &len)))
			abort();
	}
}

int fz_engine_start(void)
{
	eng.mem = calloc(1, FZ_GPA_SIZE);
	if (!eng.mem)
		return -1;
	fz_build_paging();
	fz_build_system();
	return 0;
}

void fz_engine_stop(void)
{
	free(eng.mem);
	eng.mem = NULL;
}

/* ------------------------------------------------------------ running */

static void fz_seg(struct x86_seg *s, uint16_t sel, uint32_t attr)
{
	s->sel = sel;
	s->base = 0;
	s->limit = 0xffffffff;
	s->attr = attr;
}

static void fz_setup_cpu(struct x86_cpu *cpu, const struct fz_state *in)
{
	memcpy(cpu->gpr, in->gpr, sizeof(cpu->gpr));
	cpu->rip = in->rip;
	cpu->rflags = (in->rflags & (FZ_FLAGS_CMP | FZ_IF)) | 2;
	cpu->cr0 = 0x80050033;		/* PG AM WP NE ET MP PE */
	cpu->cr4 = 0x620;		/* OSXMMEXCPT OSFXSR PAE */
	cpu->cr3 = FZ_PML4;
	cpu->efer = 0xd01;		/* NXE LMA LME SCE */
	cpu->xcr0 = 3;
	fz_seg(&cpu->seg[X86_CS], SEL_UCODE, 0xa0fb);	/* L G, DPL 3 */
	fz_seg(&cpu->seg[X86_SS], SEL_UDATA, 0xc0f3);
	/* DS and ES are null in a 64-bit Linux process */
	fz_seg(&cpu->seg[X86_DS], 0, X86_SEG_UNUSABLE);
	fz_seg(&cpu->seg[X86_ES], 0, X86_SEG_UNUSABLE);
	fz_seg(&cpu->seg[X86_FS], 0, X86_SEG_UNUSABLE);
	fz_seg(&cpu->seg[X86_GS], 0, X86_SEG_UNUSABLE);
	cpu->ldtr = (struct x86_seg){ .attr = X86_SEG_UNUSABLE };
	cpu->tr = (struct x86_seg){ .sel = SEL_TSS, .base = FZ_TSS,
				    .limit = 0x67, .attr = 0x8b };
	cpu->gdtr = (struct x86_dtable){ FZ_GDT, SEL_TSS + 15 };
	cpu->idtr = (struct x86_dtable){ FZ_IDT, 32 * 16 - 1 };
	memcpy(&cpu->fx, in->fx, sizeof(cpu->fx));
	x86_cpu_state_changed(cpu);
}

static void fz_note_insn(struct fz_state *out, const char *what,
			 const uint8_t *bytes, unsigned int len, uint64_t rip)
{
	ZydisDisassembledInstruction d;

	if (len && ZYAN_SUCCESS(ZydisDisassembleIntel(ZYDIS_MACHINE_MODE_LONG_64,
					rip, bytes, len, &d)))
		snprintf(out->note, sizeof(out->note), "%s: %s", what, d.text);
	else
		snprintf(out->note, sizeof(out->note), "%s", what);
}

/* An exit at a handler: read the frame the delivery pushed. */
static bool fz_exception(struct x86_cpu *cpu, struct fz_state *out)
{
	struct x86_exit *e = &cpu->exit;
	int vec = e->io.port;
	uint64_t sp = cpu->gpr[X86_RSP];

	if (e->io.in || e->io.port >= 32 ||
	    cpu->rip != FZ_HANDLERS + 16u * vec ||
	    cpu->seg[X86_CS].sel != SEL_KCODE ||
	    sp < FZ_KSTACK_LO || sp > FZ_KSTACK - 40)
		return false;
	if (fz_has_error(vec)) {
		out->err = (uint32_t)fz_get64(sp);
		sp += 8;
	}
	memcpy(out->gpr, cpu->gpr, sizeof(out->gpr));
	out->rip = fz_get64(sp);
	out->rflags = fz_get64(sp + 16);
	out->gpr[FZ_RSP] = fz_get64(sp + 24);
	out->vector = vec;
	if (fz_get64(sp + 8) != SEL_UCODE) {
		out->vector = FZ_OTHER;
		snprintf(out->note, sizeof(out->note),
			 "vector %d taken with CS %#llx in the frame", vec,
			 (unsigned long long)fz_get64(sp + 8));
	}
	return true;
}

void fz_engine_run(const struct fz_seq *s, const struct fz_code *c,
		   struct fz_state *out, uint8_t *data)
{
	struct x86_cpu *cpu = &eng.cpu;
	enum x86_exit_reason why;

	memset(out, 0, sizeof(*out));
	memset(eng.mem + FZ_CODE_GPA, 0xcc, FZ_CODE_SIZE);	/* INT3 */
	memcpy(eng.mem + FZ_CODE_GPA, c->bytes, c->len);
	memcpy(eng.mem + FZ_DATA_GPA, s->data, FZ_DATA_SIZE);
	if (x86_cpu_init(cpu, &fz_ops, NULL)) {
		out->vector = FZ_CRASH;
		snprintf(out->note, sizeof(out->note), "x86_cpu_init failed");
		return;
	}
	fz_setup_cpu(cpu, &s->init);
	eng.kicks = 0;
	why = x86_cpu_run(cpu);
	if (why == X86_EXIT_IO && fz_exception(cpu, out)) {
		if (out->vector == 3 && out->rip == FZ_CODE_LA + c->len + 1) {
			out->vector = FZ_END;
			out->rip--;
		}
	} else {
		out->vector = FZ_OTHER;
		memcpy(out->gpr, cpu->gpr, sizeof(out->gpr));
		out->rip = cpu->rip;
		out->rflags = cpu->rflags;
		switch (why) {
		case X86_EXIT_INTERNAL:
			if (cpu->exit.internal.suberror == 1)
				out->vector = FZ_UNIMPL;
			fz_note_insn(out, out->vector == FZ_UNIMPL ?
				     "not implemented" : "internal error",
				     cpu->exit.internal.insn,
				     cpu->exit.internal.insn_len, cpu->rip);
			break;
		case X86_EXIT_KICK:
			out->vector = FZ_TIMEOUT;
			snprintf(out->note, sizeof(out->note),
				 "engine run did not finish");
			break;
		case X86_EXIT_IO:
			snprintf(out->note, sizeof(out->note),
				 "I/O exit, port %#x %s, at rip %#llx",
				 cpu->exit.io.port, cpu->exit.io.in ? "in" : "out",
				 (unsigned long long)cpu->rip);
			break;
		case X86_EXIT_MMIO:
			snprintf(out->note, sizeof(out->note),
				 "MMIO exit, gpa %#llx, at rip %#llx",
				 (unsigned long long)cpu->exit.mmio.gpa,
				 (unsigned long long)cpu->rip);
			break;
		default:
			snprintf(out->note, sizeof(out->note),
				 "exit reason %d at rip %#llx", why,
				 (unsigned long long)cpu->rip);
			break;
		}
	}
	memcpy(out->fx, &cpu->fx, sizeof(out->fx));
	memcpy(data, eng.mem + FZ_DATA_GPA, FZ_DATA_SIZE);
	x86_cpu_destroy(cpu);
}

void fz_engine_features(bool feat[FZ_F_COUNT])
{
	uint32_t l1[4] = { 0 }, l7[4] = { 0 }, e1[4] = { 0 };

	x86_cpu_implemented_cpuid(1, 0, l1);
	x86_cpu_implemented_cpuid(7, 0, l7);
	x86_cpu_implemented_cpuid(0x80000001, 0, e1);
	memset(feat, 0, FZ_F_COUNT * sizeof(bool));
	feat[FZ_F_NONE] = true;
	feat[FZ_F_BMI1] = l7[1] & (1u << 3);
	feat[FZ_F_BMI2] = l7[1] & (1u << 8);
	feat[FZ_F_ADX] = l7[1] & (1u << 19);
	feat[FZ_F_MOVBE] = l1[2] & (1u << 22);
	feat[FZ_F_POPCNT] = l1[2] & (1u << 23);
	feat[FZ_F_LZCNT] = e1[2] & (1u << 5);
	feat[FZ_F_CX16] = l1[2] & (1u << 13);
	feat[FZ_F_SSE42] = l1[2] & (1u << 20);
	feat[FZ_F_FPU] = l1[3] & (1u << 0);
	feat[FZ_F_MMX] = l1[3] & (1u << 23);
	feat[FZ_F_SSE] = l1[3] & (1u << 25);
	feat[FZ_F_SSE2] = l1[3] & (1u << 26);
	feat[FZ_F_SSE3] = l1[2] & (1u << 0);
	feat[FZ_F_SSSE3] = l1[2] & (1u << 9);
	feat[FZ_F_SSE41] = l1[2] & (1u << 19);
}
