/* SPDX-License-Identifier: MIT */
/*
 * test_fpstate.h - run a snippet natively and in the engine from the same
 * x87/MMX/SSE state, GPRs, flags and memory buffer, and compare what
 * comes out.  Natively the state is loaded with FXRSTOR64 and taken back
 * with FXSAVE64 around a call of the snippet (which ends in RET); in the
 * engine the snippet ends in HLT.  Shared by test_sse.c and test_fpu.c.
 */
#ifndef SKVM_TEST_FPSTATE_H
#define SKVM_TEST_FPSTATE_H

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "test_host.h"

#define X86_CR4_OSFXSR_T	(1ull << 9)
#define X86_CR4_OSXMMEXCPT_T	(1ull << 10)
#define FP_BUF_GPA	0x200000u	/* guest address of the data buffer */
#define FP_BUF_SIZE	128

struct fp_state {
	struct x86_fxsave fx;		/* offset 0 */
	uint64_t rax, rbx, rcx, rdx;	/* 512.. */
	uint64_t flags;			/* 544 */
	uint64_t code;			/* 552: native snippet address */
	uint64_t rsi;			/* 560: data buffer */
	uint64_t host_mxcsr;		/* 568 */
	uint8_t buf[FP_BUF_SIZE] __attribute__((aligned(64)));
} __attribute__((aligned(64)));

/* fp_native(struct fp_state *s): the snippet sees RSI = s->buf. */
__asm__(".pushsection .text\n"
	".globl fp_native\n"
	"fp_native:\n"
	"push %rbx\n push %rbp\n push %r12\n push %r13\n push %r14\n"
	"push %r15\n"
	"mov %rdi, %r15\n"
	"stmxcsr 568(%r15)\n"
	"fxrstor64 0(%r15)\n"
	"mov 512(%r15), %rax\n mov 520(%r15), %rbx\n"
	"mov 528(%r15), %rcx\n mov 536(%r15), %rdx\n"
	"mov 560(%r15), %rsi\n"
	"push 544(%r15)\n popfq\n"
	"call *552(%r15)\n"
	"pushfq\n pop 544(%r15)\n"
	"mov %rax, 512(%r15)\n mov %rbx, 520(%r15)\n"
	"mov %rcx, 528(%r15)\n mov %rdx, 536(%r15)\n"
	"fxsave64 0(%r15)\n"
	"fninit\n"
	"ldmxcsr 568(%r15)\n"
	"pop %r15\n pop %r14\n pop %r13\n pop %r12\n pop %rbp\n pop %rbx\n"
	"ret\n"
	".popsection\n");
void fp_native(struct fp_state *s);

struct fp_row {
	const char *name;
	const uint8_t *start, *end;
	unsigned int skip_lo, skip_hi;	/* buffer bytes not compared */
};

struct fp_ctx {
	struct th *t;
	uint8_t *page;			/* native copy of the snippet */
	const struct fp_row *row;
};

static inline void fp_ctx_init(struct fp_ctx *c, const struct fp_row *row)
{
	size_t len = (size_t)(row->end - row->start);

	c->row = row;
	c->t = th_new();
	th_long64(c->t);
	c->t->cpu.cr4 |= X86_CR4_OSFXSR_T | X86_CR4_OSXMMEXCPT_T;
	c->t->cpu.cr0 &= ~0xcull;	/* EM TS */
	c->t->cpu.cr0 |= 0x22;		/* MP NE */
	x86_cpu_state_changed(&c->t->cpu);
	c->page = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(c->page != MAP_FAILED);
	memcpy(c->page, row->start, len);
	c->page[len] = 0xc3;			/* ret */
	memcpy(c->t->ram + TH_CODE, row->start, len);
	c->t->ram[TH_CODE + len] = 0xf4;	/* hlt */
}

static inline void fp_ctx_free(struct fp_ctx *c)
{
	munmap(c->page, 4096);
	th_free(c->t);
}

static inline void fp_dump(const char *what, const uint8_t *a,
			   const uint8_t *b, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (a[i] != b[i])
			fprintf(stderr, "  %s[%u]: engine %02x native %02x\n",
				what, i, a[i], b[i]);
}

/*
 * Run row from state in (buf: memory contents) both ways; fail with a
 * description of the first difference.
 */
static inline void fp_compare(struct fp_ctx *c, const struct fp_state *in)
{
	struct fp_state n = *in;
	struct x86_cpu *cpu = &c->t->cpu;
	const uint8_t *e, *h;
	bool bad = false;
	unsigned int i;

	n.code = (uint64_t)(uintptr_t)c->page;
	n.rsi = (uint64_t)(uintptr_t)n.buf;
	fp_native(&n);

	cpu->fx = in->fx;
	cpu->gpr[X86_RAX] = in->rax;
	cpu->gpr[X86_RBX] = in->rbx;
	cpu->gpr[X86_RCX] = in->rcx;
	cpu->gpr[X86_RDX] = in->rdx;
	cpu->gpr[X86_RSI] = FP_BUF_GPA;
	cpu->gpr[X86_RSP] = TH_STACK;
	cpu->rflags = in->flags;
	cpu->rip = TH_CODE;
	cpu->halted = false;
	memcpy(c->t->ram + FP_BUF_GPA, in->buf, FP_BUF_SIZE);
	if (th_run(c->t) != X86_EXIT_HLT)
		fail_msg("%s: exit %d exc %d", c->row->name,
			 cpu->exit.reason, cpu->ev.exc_nr);

	/* FXSAVE image: all but FIP/FDP (host addresses natively) and
	 * MXCSR_MASK (the guest's own) */
	e = (const uint8_t *)&cpu->fx;
	h = (const uint8_t *)&n.fx;
	for (i = 0; i < 416; i++) {
		if ((i >= 8 && i < 24) || (i >= 28 && i < 32))
			continue;
		if (i >= 32 && i < 160 && (i & 15) >= 10)
			continue;	/* ST padding */
		if (e[i] != h[i])
			bad = true;
	}
	if (cpu->gpr[X86_RAX] != n.rax || cpu->gpr[X86_RBX] != n.rbx ||
	    cpu->gpr[X86_RCX] != n.rcx || cpu->gpr[X86_RDX] != n.rdx ||
	    (cpu->rflags & 0x8d5) != (n.flags & 0x8d5))
		bad = true;
	for (i = 0; i < FP_BUF_SIZE; i++)
		if ((i < c->row->skip_lo || i >= c->row->skip_hi) &&
		    c->t->ram[FP_BUF_GPA + i] != n.buf[i])
			bad = true;
	if (!bad)
		return;
	fprintf(stderr, "%s: mxcsr in %#x fcw in %#x\n", c->row->name,
		in->fx.mxcsr, in->fx.fcw);
	fp_dump("fx", e, h, 416);
	fp_dump("buf", c->t->ram + FP_BUF_GPA, n.buf, FP_BUF_SIZE);
	fail_msg("%s: rax %#llx/%#llx rbx %#llx/%#llx rcx %#llx/%#llx "
		 "rdx %#llx/%#llx fl %#llx/%#llx", c->row->name,
		 (unsigned long long)cpu->gpr[X86_RAX],
		 (unsigned long long)n.rax,
		 (unsigned long long)cpu->gpr[X86_RBX],
		 (unsigned long long)n.rbx,
		 (unsigned long long)cpu->gpr[X86_RCX],
		 (unsigned long long)n.rcx,
		 (unsigned long long)cpu->gpr[X86_RDX],
		 (unsigned long long)n.rdx,
		 (unsigned long long)cpu->rflags,
		 (unsigned long long)n.flags);
}

/* Exception handlers: vector v at 0x3000 + 16 v does mov $v, %r15; hlt */
static inline void fp_exc_handlers(struct th *t)
{
	static const int vecs[] = { 6, 7, 13, 14, 16, 19 };
	unsigned int i;

	for (i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
		uint8_t *p = t->ram + 0x3000 + 16 * vecs[i];

		p[0] = 0x49;
		p[1] = 0xc7;
		p[2] = 0xc7;
		p[3] = (uint8_t)vecs[i];
		p[4] = p[5] = p[6] = 0;
		p[7] = 0xf4;
		th_idt_set(t, vecs[i], 0x3000 + 16 * vecs[i], true, 0, 0);
	}
}

#endif
