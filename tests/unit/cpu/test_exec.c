// SPDX-License-Identifier: MIT
/*
 * test_exec.c - table-driven snippet tests: each row loads a guest
 * snippet, puts the vCPU in a mode, runs it to its exit and compares
 * registers, exit reason and a row-specific check.
 */
#include <string.h>

/* table rows leave trailing hooks out */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include "test_host.h"

struct reg_expect {
	int reg;		/* -1 ends the list */
	uint64_t val;
};

struct row {
	const char *name;
	void (*mode)(struct th *t);
	const uint8_t *start, *end;
	enum x86_exit_reason exit;
	struct reg_expect regs[6];
	void (*prep)(struct th *t);
	void (*check)(struct th *t);
};

/* ------------------------------------------------------------ snippets */

GUEST(real_basic, ".code16\n"
      "mov $0x1234, %ax\n add $1, %ax\n mov %ax, %bx\n"
      "mov $0x7000, %sp\n push %bx\n pop %cx\n"
      "xor %dx, %dx\n dec %dx\n hlt\n");

GUEST(real_io, ".code16\n"
      "mov $0x41, %al\n out %al, $0xe9\n mov $0xe9, %dx\n mov $0x42, %al\n"
      "out %al, %dx\n in $0x60, %al\n mov %al, %bl\n in %dx, %ax\n hlt\n");

/* unreal mode: DS limit 4G kept from protected mode, 32-bit addressing */
GUEST(real_unreal_mmio, ".code16\n"
      "mov $0x300010, %esi\n movl $0xdeadbeef, (%esi)\n"
      "mov (%esi), %ebx\n addr32 movw $0x55aa, 4(%esi)\n hlt\n");

GUEST(real_call_int, ".code16\n"
      "call 1f\n hlt\n1: mov $7, %cx\n int $0x20\n ret\n"
      "handler20: mov $0x99, %dx\n iret\n");

GUEST(long_alu, ".code64\n"
      "mov $0x7fffffffffffffff, %rax\n add $1, %rax\n seto %bl\n"
      "mov $-1, %ecx\n mov $5, %edx\n imul %rdx, %rcx\n"
      "mov $100, %eax\n xor %edx, %edx\n mov $7, %r8d\n div %r8\n"
      "hlt\n");

GUEST(long_mmio, ".code64\n"
      "mov $0x1122334455667788, %rax\n mov %rax, 0x300000\n"
      "mov 0x300000, %rbx\n movb $0x5a, 0x300008\n movzbl 0x300008, %ecx\n"
      "movw $0x1234, 0x30000a\n movzwl 0x30000a, %edx\n"
      "movl $0xcafef00d, 0x30000c\n mov 0x30000c, %esi\n hlt\n");

/* 8-byte accesses that straddle RAM/MMIO at both ends of the hole */
GUEST(long_mmio_cross, ".code64\n"
      "mov $0x0807060504030201, %rax\n mov %rax, 0x2ffffc\n"
      "mov 0x2ffffc, %rbx\n mov %rax, 0x300ffc\n mov 0x300ffc, %rcx\n"
      "hlt\n");

GUEST(long_mmio_rmw, ".code64\n"
      "movl $10, 0x300020\n addl $5, 0x300020\n lock incl 0x300020\n"
      "mov 0x300020, %eax\n mov $3, %ebx\n xchg %ebx, 0x300020\n hlt\n");

GUEST(long_rep_outs, ".code64\n"
      "lea msg(%rip), %rsi\n mov $10, %ecx\n mov $0xe9, %dx\n"
      "rep outsb\n mov $0x2000, %edi\n mov $4, %ecx\n rep insw\n hlt\n"
      "msg: .ascii \"helloworld\"\n");

/* the registers string I/O shows at its exits and completions */
GUEST(long_outs_state, ".code64\n"
      "mov $0x2000, %esi\n mov $3, %ecx\n mov $0xe9, %dx\n rep outsb\n"
      "outsb\n hlt\n");

GUEST(long_ins_state, ".code64\n"
      "mov $0x2ffc, %edi\n mov $5, %ecx\n mov $0x80, %dx\n rep insw\n"
      "hlt\n");

GUEST(long_ins_df, ".code64\n"
      "mov $0x2003, %edi\n mov $5, %ecx\n mov $0x80, %dx\n std\n rep insb\n"
      "cld\n hlt\n");

GUEST(long_rmw_complete, ".code64\n"
      "addl $5, 0x300020\n hlt\n");

GUEST(long_rep_ins_rcx, ".code64\n"
      "mov $0x2000, %edi\n mov $4, %ecx\n mov $0x80, %dx\n rep insb\n hlt\n");

GUEST(long_msr_exit, ".code64\n"
      "mov $0x1234, %ecx\n rdmsr\n mov %eax, %ebx\n mov %edx, %esi\n"
      "mov $0xc0000080, %ecx\n mov $7, %eax\n xor %edx, %edx\n wrmsr\n"
      "hlt\n");

GUEST(long_hypercall, ".code64\n"
      "mov $11, %eax\n vmcall\n mov %rax, %rbx\n"
      "vmmcall\n mov %rax, %rsi\n hlt\n");

GUEST(long_monitor_mwait, ".code64\n"
      "mov $0x2000, %eax\n xor %ecx, %ecx\n xor %edx, %edx\n"
      "monitor\n mov $1, %ebx\n mwait\n mov $2, %esi\n hlt\n");

GUEST(long_smc, ".code64\n"
      "lea patch(%rip), %rdi\n movb $0x42, 1(%rdi)\n"
      "patch: mov $0x11, %al\n hlt\n");

GUEST(long_string, ".code64\n"
      "cld\n mov $0x2000, %edi\n mov $0xab, %al\n mov $100, %ecx\n rep stosb\n"
      "mov $0x2000, %esi\n mov $0x2100, %edi\n mov $25, %ecx\n rep movsl\n"
      "mov $0x2100, %edi\n mov $0xab, %al\n mov $200, %ecx\n repe scasb\n"
      "mov %rcx, %rbx\n mov $0x2000, %esi\n lodsq\n hlt\n");

GUEST(long_stack, ".code64\n"
      "push $-2\n pop %rbx\n pushfq\n pop %rcx\n call f\n hlt\n"
      "f: enter $16, $0\n mov $0x77, %edx\n leave\n ret\n");

GUEST(long_ud, ".code64\n ud2\n hlt\n");
GUEST(long_ud_handler, ".code64\n mov $0x66, %ebx\n pop %rcx\n hlt\n");

GUEST(long_pf, ".code64\n movq $1, 0x250000\n hlt\n");
GUEST(long_pf_handler, ".code64\n pop %rbx\n mov %cr2, %rcx\n hlt\n");

GUEST(long_de, ".code64\n xor %ecx, %ecx\n mov $1, %eax\n div %ecx\n hlt\n");
GUEST(long_triple, ".code64\n ud2\n");

GUEST(long_syscall, ".code64\n"
      "mov $0x1122, %r12\n syscall\n mov %cs, %r14\n syscall\n");
GUEST(long_syscall_entry, ".code64\n"
      "cmp $1, %eax\n je 1f\n mov $0x55, %ebx\n mov %rcx, %r13\n"
      "mov $1, %eax\n sysretq\n 1: hlt\n");

/* real mode -> protected mode -> long mode, in one snippet at 0x1000 */
GUEST(real_to_long, ".code16\n"
      "cli\n lgdtl gdtptr - real_to_long_start + 0x1000\n"
      "mov %cr0, %eax\n or $1, %eax\n mov %eax, %cr0\n"
      "ljmpl $0x08, $(pm32 - real_to_long_start + 0x1000)\n"
      ".code32\n pm32: mov $0x10, %ax\n mov %ax, %ds\n mov %ax, %ss\n"
      "mov $0x7000, %esp\n mov %cr4, %eax\n or $0x20, %eax\n mov %eax, %cr4\n"
      "mov $0x10000, %eax\n mov %eax, %cr3\n mov $0xc0000080, %ecx\n"
      "rdmsr\n or $0x100, %eax\n wrmsr\n mov %cr0, %eax\n"
      "or $0x80000000, %eax\n mov %eax, %cr0\n"
      "ljmpl $0x18, $(lm64 - real_to_long_start + 0x1000)\n"
      ".code64\n lm64: mov $0x123456789, %rbx\n mov $0xc0000080, %ecx\n"
      "rdmsr\n mov %rax, %rdx\n hlt\n"
      ".p2align 3\n gdtptr: .word 39\n .long 0x500\n");

GUEST(long_sti_irq, ".code64\n sti\n mov $1, %ebx\n mov $2, %esi\n hlt\n");
GUEST(long_irq_handler, ".code64\n mov %ebx, %ecx\n mov $0x77, %edx\n iretq\n");
GUEST(long_hlt_wake, ".code64\n sti\n hlt\n mov $5, %esi\n hlt\n");
GUEST(long_df, ".code64\n movq $1, 0x250000\n hlt\n");
GUEST(long_df_handler, ".code64\n pop %rbx\n mov $0xdf, %ecx\n hlt\n");
GUEST(long_movss, ".code64\n sti\n nop\n mov %ss, %ax\n mov %ax, %ss\n"
      "mov $3, %ebx\n hlt\n");

/* fixed mismatches from tests/diff/KNOWN_MISMATCHES.md */
GUEST(long_xadd_same, ".code64\n"
      "mov $4, %edx\n xadd %rdx, %rdx\n mov $7, %r10d\n xadd %r10d, %r10d\n"
      "mov $1, %eax\n mov $2, %ebx\n xadd %rax, %rbx\n hlt\n");
GUEST(long_cmpxchg_fail, ".code64\n"
      "mov $1, %eax\n mov $0x10000000000, %r12\n cmpxchg %r12d, %r12d\n"
      "mov %rax, %rbx\n mov $5, %eax\n mov $0xffffffff00000005, %rcx\n"
      "mov $7, %edx\n cmpxchg %edx, %ecx\n hlt\n");
GUEST(long_movs_overlap, ".code64\n"
      "mov $0x2000, %esi\n mov $0x2001, %edi\n mov $5, %ecx\n rep movsl\n"
      "mov $0x2100, %esi\n mov $0x2103, %edi\n mov $3, %ecx\n rep movsq\n"
      "mov $0x2200, %esi\n mov $0x2201, %edi\n mov $4, %ecx\n rep movsw\n"
      "hlt\n");

/* -------------------------------------------------------------- preps */

static void prep_irq(struct th *t)
{
	th_load(t, 0x3000, long_irq_handler_start, long_irq_handler_end);
	th_idt_set(t, 0x30, 0x3000, true, 0, 0);
	t->irq = 0x30;
}

static void prep_hlt_wake(struct th *t)
{
	th_load(t, 0x3000, long_irq_handler_start, long_irq_handler_end);
	th_idt_set(t, 0x30, 0x3000, true, 0, 0);
}

static void prep_df(struct th *t)
{
	th_load(t, 0x3000, long_df_handler_start, long_df_handler_end);
	th_idt_set(t, 8, 0x3000, true, 0, 1);	/* on IST1 */
	th_idt_set(t, 14, 0x3000, true, 0, 0);
	t->ram[TH_IDT + 14 * 16 + 5] &= 0x7f;	/* #PF gate not present */
	*th_pte(t, 0x250000) &= ~1ull;
}

static void prep_movss(struct th *t)
{
	prep_irq(t);
	t->irq = -1;
}

static void prep_unreal(struct th *t)
{
	t->cpu.seg[X86_DS].limit = 0xffffffff;
	memset(t->mmio, 0, sizeof(t->mmio));
}

static void prep_real_int(struct th *t)
{
	/* IVT[0x20] -> handler20 */
	uint16_t off = (uint16_t)(TH_CODE + 10);

	memcpy(t->ram + 0x20 * 4, &off, 2);
	memset(t->ram + 0x20 * 4 + 2, 0, 2);
}

static void prep_mmio_fill(struct th *t)
{
	memset(t->mmio, 0, sizeof(t->mmio));
}

static void prep_ud(struct th *t)
{
	th_load(t, 0x3000, long_ud_handler_start, long_ud_handler_end);
	th_idt_set(t, 6, 0x3000, true, 0, 0);
}

static void prep_pf(struct th *t)
{
	th_load(t, 0x3000, long_pf_handler_start, long_pf_handler_end);
	th_idt_set(t, 14, 0x3000, true, 0, 0);
	*th_pte(t, 0x250000) &= ~2ull;		/* read-only */
}

static void prep_de(struct th *t)
{
	th_load(t, 0x3000, long_ud_handler_start, long_ud_handler_end);
	th_idt_set(t, 0, 0x3000, true, 0, 0);
}

static void prep_triple(struct th *t)
{
	t->cpu.idtr.limit = 0;	/* #UD -> #GP -> #DF -> shutdown */
}

static void prep_syscall(struct th *t)
{
	th_load(t, 0x3000, long_syscall_entry_start, long_syscall_entry_end);
	t->cpu.lstar = 0x3000;
	t->cpu.star = (0x23ull << 48) | (0x18ull << 32);
	t->cpu.sfmask = 0x200;
	t->cpu.rflags |= 0x200;
}

static void prep_real_to_long(struct th *t)
{
	th_long64(t);		/* builds GDT and page tables */
	th_real_mode(t);
	SNIP_LOAD(t, real_to_long);
}

static void prep_movs_overlap(struct th *t)
{
	int i;

	for (i = 0; i < 0x300; i++)
		t->ram[0x2000 + i] = (uint8_t)(i * 7 + 1);
}

/* -------------------------------------------------------------- checks */

/* REP MOVS as the SDM defines it: each element read whole, then written */
static void movs_model(uint8_t *m, unsigned int src, unsigned int dst,
		       unsigned int n, unsigned int sz)
{
	uint8_t tmp[8];
	unsigned int i;

	for (i = 0; i < n; i++) {
		memcpy(tmp, m + src + i * sz, sz);
		memcpy(m + dst + i * sz, tmp, sz);
	}
}

static void check_movs_overlap(struct th *t)
{
	uint8_t want[0x300];
	int i;

	for (i = 0; i < 0x300; i++)
		want[i] = (uint8_t)(i * 7 + 1);
	movs_model(want, 0x000, 0x001, 5, 4);
	movs_model(want, 0x100, 0x103, 3, 8);
	movs_model(want, 0x200, 0x201, 4, 2);
	assert_memory_equal(t->ram + 0x2000, want, sizeof(want));
}


static void check_real_io(struct th *t)
{
	assert_int_equal(t->n_out, 2);
	assert_memory_equal(t->out, "AB", 2);
}

static void check_unreal(struct th *t)
{
	uint32_t v;

	memcpy(&v, t->mmio + 0x10, 4);
	assert_int_equal(v, 0xdeadbeef);
	assert_int_equal(t->mmio[0x14], 0xaa);
	assert_int_equal(t->mmio[0x15], 0x55);
	assert_int_equal(t->n_mmio, 3);
}

static void check_mmio(struct th *t)
{
	assert_int_equal(t->n_mmio_write, 4);
	assert_int_equal(t->n_mmio_read, 4);
}

static void check_mmio_cross(struct th *t)
{
	static const uint8_t want[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	assert_memory_equal(t->ram + 0x2ffffc, want, 4);
	assert_memory_equal(t->mmio, want + 4, 4);
	assert_memory_equal(t->mmio + 0xffc, want, 4);
	assert_memory_equal(t->ram + 0x301000, want + 4, 4);
}

static void check_mmio_rmw(struct th *t)
{
	uint32_t v;

	memcpy(&v, t->mmio + 0x20, 4);
	assert_int_equal(v, 3);
}

static void check_rep_outs(struct th *t)
{
	assert_int_equal(t->n_out, 10);
	assert_memory_equal(t->out, "helloworld", 10);
	/*
	 * KVM's emulator exits once per OUTS element (count 1) and reads
	 * ahead for INS: 10 exits for the OUTS, one batch of 4 for the INS.
	 */
	assert_int_equal(t->n_io, 11);
	assert_int_equal(t->ram[0x2000], 0x78);
	assert_int_equal(t->ram[0x2001], 0x56);
	assert_int_equal(t->ram[0x2002], 0x34);
	assert_int_equal(t->ram[0x2004], 0x78);
}

/*
 * The host lowers RCX from 4 to 1 during the exit of a 4-element batch
 * (KVM_SET_REGS, as userspace_io_test does): one element is stored and
 * RCX ends at 0, nothing is written past it.
 */
static void prep_rep_ins_rcx(struct th *t)
{
	assert_int_equal(x86_cpu_run(&t->cpu), X86_EXIT_IO);
	assert_int_equal(t->cpu.exit.io.count, 4);
	t->cpu.gpr[X86_RCX] = 1;
	memset(t->pio, 0xaa, 4);
	x86_cpu_complete_io(&t->cpu);
}

static void check_rep_ins_rcx(struct th *t)
{
	assert_int_equal(t->ram[0x2000], 0xaa);
	assert_int_equal(t->ram[0x2001], 0);
}

#define TH_RF	0x10000ull

/*
 * REP OUTS as KVM shows it: one element per exit, the exit already shows
 * RSI and RCX stepped, RIP on the instruction and RF set, also after the
 * last element; the next run retires it (RF clear).  Plain OUTS exits
 * with RIP past it.
 */
static void prep_outs_state(struct th *t)
{
	uint64_t insn = 0;
	int i;

	t->ram[0x2000] = 'a';
	t->ram[0x2001] = 'b';
	t->ram[0x2002] = 'c';
	t->ram[0x2003] = 'd';
	for (i = 0; i < 3; i++) {
		assert_int_equal(x86_cpu_run(&t->cpu), X86_EXIT_IO);
		if (!i)
			insn = t->cpu.rip;
		assert_int_equal(t->cpu.exit.io.count, 1);
		assert_false(t->cpu.exit.io.in);
		assert_int_equal(t->pio[0], 'a' + i);
		assert_int_equal(t->cpu.gpr[X86_RCX], 2 - i);
		assert_int_equal(t->cpu.gpr[X86_RSI], 0x2001 + i);
		assert_int_equal(t->cpu.rip, insn);
		assert_true(t->cpu.rflags & TH_RF);
		x86_cpu_complete_io(&t->cpu);	/* nothing to finish */
		assert_int_equal(t->cpu.rip, insn);
	}
	assert_int_equal(x86_cpu_run(&t->cpu), X86_EXIT_IO);
	assert_int_equal(t->pio[0], 'd');
	assert_int_equal(t->cpu.rip, insn + 3);	/* f3 6e, then 6e */
	assert_int_equal(t->cpu.gpr[X86_RSI], 0x2004);
	assert_false(t->cpu.rflags & TH_RF);
	x86_cpu_complete_io(&t->cpu);
	assert_int_equal(t->cpu.rip, insn + 3);
}

/*
 * REP INSW at 0x2ffc, RCX 5: KVM reads ahead min(bytes left in RDI's
 * page = 4, 1024 / 2, 5) = 4 words, across the page.  The exit leaves
 * the registers alone; the completion stores the data and steps them at
 * once (RCX 1, RDI 0x3004, RIP on the instruction, RF set).
 */
static void prep_ins_state(struct th *t)
{
	uint64_t insn;

	t->in_value = 0x44332211;
	assert_int_equal(x86_cpu_run(&t->cpu), X86_EXIT_IO);
	insn = t->cpu.rip;
	assert_int_equal(t->cpu.exit.io.count, 4);
	assert_int_equal(t->cpu.gpr[X86_RCX], 5);
	assert_int_equal(t->cpu.gpr[X86_RDI], 0x2ffc);
	assert_false(t->cpu.rflags & TH_RF);
	memcpy(t->pio, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	x86_cpu_complete_io(&t->cpu);
	assert_int_equal(t->cpu.gpr[X86_RCX], 1);
	assert_int_equal(t->cpu.gpr[X86_RDI], 0x3004);
	assert_int_equal(t->cpu.rip, insn);
	assert_true(t->cpu.rflags & TH_RF);
	assert_memory_equal(t->ram + 0x2ffc, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
}

static void check_ins_state(struct th *t)
{
	assert_int_equal(t->last_io_count, 1);
	assert_false(t->cpu.rflags & TH_RF);
}

/*
 * REP INSB with DF=1 at 0x2003: room is RDI's page offset, 3 bytes, so
 * 3 elements, then 2 (KVM counts bytes, not elements below RDI).
 */
static void prep_ins_df(struct th *t)
{
	assert_int_equal(x86_cpu_run(&t->cpu), X86_EXIT_IO);
	assert_int_equal(t->cpu.exit.io.count, 3);
	memcpy(t->pio, "\x0a\x0b\x0c", 3);
	x86_cpu_complete_io(&t->cpu);
	assert_int_equal(t->cpu.gpr[X86_RDI], 0x2000);
	assert_int_equal(t->cpu.gpr[X86_RCX], 2);
	assert_int_equal(x86_cpu_run(&t->cpu), X86_EXIT_IO);
	assert_int_equal(t->cpu.exit.io.count, 1);	/* offset 0: one */
	t->pio[0] = 0x0d;
	x86_cpu_complete_io(&t->cpu);
	assert_int_equal(x86_cpu_run(&t->cpu), X86_EXIT_IO);
	assert_int_equal(t->cpu.exit.io.count, 1);	/* 0xfff < RCX 1 */
	t->pio[0] = 0x0e;
	x86_cpu_complete_io(&t->cpu);
}

static void check_ins_df(struct th *t)
{
	assert_memory_equal(t->ram + 0x2001, "\x0c\x0b\x0a", 3);
	assert_int_equal(t->ram[0x2000], 0x0d);
	assert_int_equal(t->ram[0x1fff], 0x0e);
}

/*
 * An MMIO read-modify-write: completing the read runs the instruction on
 * to its write, whose exit is held and returned by the next run without
 * executing anything; completing the write retires the instruction.
 */
static void prep_rmw_complete(struct th *t)
{
	uint8_t d[8] = { 10 };
	uint64_t insn;

	assert_int_equal(x86_cpu_run(&t->cpu), X86_EXIT_MMIO);
	insn = t->cpu.rip;
	assert_false(t->cpu.exit.mmio.write);
	x86_cpu_complete_mmio(&t->cpu, d);
	assert_true(t->cpu.exit.mmio.write);
	assert_int_equal(t->cpu.exit.mmio.data[0], 15);
	assert_int_equal(x86_cpu_run(&t->cpu), X86_EXIT_MMIO);
	assert_true(t->cpu.exit.mmio.write);
	assert_int_equal(t->cpu.rip, insn);
	x86_cpu_complete_mmio(&t->cpu, d);
	assert_int_equal(t->cpu.rip, insn + 8);	/* 83 04 25 disp32 imm8 */
}

/*
 * The host takes RDMSR 0x1234 and WRMSR EFER (msr_check says so, before
 * the engine's own EFER): the read completes with a value, the write with
 * an error, which is a #GP at the WRMSR.
 */
static int msr_check_exit(struct x86_cpu *cpu, uint32_t idx, bool write)
{
	return idx == 0x1234 || idx == 0xc0000080 ? X86_MSR_EXIT : 0;
}

static void prep_msr_exit(struct th *t)
{
	uint64_t rip;

	th_catch_all(t, true);
	t->ops.msr_check = msr_check_exit;
	assert_int_equal(x86_cpu_run(&t->cpu), X86_EXIT_MSR);
	assert_int_equal(t->cpu.exit.msr.index, 0x1234);
	assert_false(t->cpu.exit.msr.write);
	rip = t->cpu.rip;
	x86_cpu_complete_msr(&t->cpu, false, 0xaabbccdd11223344ull);
	assert_int_equal(t->cpu.rip, rip + 2);	/* retired at once */
	assert_int_equal(x86_cpu_run(&t->cpu), X86_EXIT_MSR);
	assert_int_equal(t->cpu.exit.msr.index, 0xc0000080);
	assert_true(t->cpu.exit.msr.write);
	assert_int_equal(t->cpu.exit.msr.data, 7);
	rip = t->cpu.rip;
	x86_cpu_complete_msr(&t->cpu, true, 0);
	assert_int_equal(t->cpu.rip, rip);	/* #GP(0) pending on it */
}

static void check_msr_exit(struct th *t)
{
	assert_int_not_equal(t->cpu.efer, 7);	/* the write never happened */
}

/*
 * VMCALL reaches the host, which answers in RAX; VMMCALL is patched into
 * VMCALL (the host asks for it once) and runs as a VMCALL.
 */
static int hc_calls, hc_patches;

static int hypercall_op(struct x86_cpu *cpu, bool vmmcall)
{
	if (vmmcall) {
		hc_patches++;
		return X86_HC_PATCH;
	}
	cpu->gpr[X86_RAX] = 100 + hc_calls++;
	return 0;
}

static void prep_hypercall(struct th *t)
{
	hc_calls = hc_patches = 0;
	t->ops.hypercall = hypercall_op;
}

static void prep_catch(struct th *t)
{
	th_catch_all(t, true);
}

static int mm_calls;

static int monitor_mwait_nop(struct x86_cpu *cpu, bool mwait)
{
	mm_calls += mwait ? 10 : 1;
	return 0;
}

static void prep_monitor_mwait(struct th *t)
{
	mm_calls = 0;
	t->ops.monitor_mwait = monitor_mwait_nop;
}

static void check_monitor_mwait(struct th *t)
{
	assert_int_equal(mm_calls, 11);
}

static void check_hypercall(struct th *t)
{
	assert_int_equal(hc_calls, 2);
	assert_int_equal(hc_patches, 1);
	/* the VMMCALL's bytes are a VMCALL now */
	assert_memory_equal(t->ram + TH_CODE + 11, "\x0f\x01\xc1", 3);
}

static void check_pf(struct th *t)
{
	/* the faulting write must not have happened */
	assert_int_equal(th_rd64(t, 0x250000), 0);
}

static void check_syscall(struct th *t)
{
	assert_int_equal(t->cpu.gpr[14], 0x33);	/* ran at CPL 3 */
	assert_int_equal(t->cpu.seg[X86_CS].sel, 0x18);
	assert_int_equal(t->cpu.seg[X86_SS].sel, 0x20);
	assert_false(t->cpu.rflags & 0x200);	/* masked by SFMASK */
	assert_true(t->cpu.gpr[11] & 0x200);
}

static void check_real_to_long(struct th *t)
{
	assert_true(t->cpu.efer & 0x400);
	assert_true(t->cpu.seg[X86_CS].attr & X86_SEG_L);
}

static void check_irq(struct th *t)
{
	assert_int_equal(t->irq_acked, 1);
}

static void check_hlt_wake(struct th *t)
{
	assert_true(t->cpu.halted);
	assert_int_equal(t->cpu.gpr[X86_RSI], 0);
	/* still halted: no event */
	assert_int_equal(x86_cpu_run(&t->cpu), X86_EXIT_HLT);
	t->irq = 0x30;
	assert_int_equal(th_run(t), X86_EXIT_HLT);
	assert_int_equal(t->cpu.gpr[X86_RSI], 5);
	assert_int_equal(t->cpu.gpr[X86_RDX], 0x77);
	assert_int_equal(t->irq_acked, 1);
}

static void check_df(struct th *t)
{
	/* #DF frame on the IST1 stack */
	assert_true(t->cpu.gpr[X86_RSP] < 0x4800 &&
		    t->cpu.gpr[X86_RSP] > 0x4700);
}

static void check_movss(struct th *t)
{
	assert_int_equal(t->cpu.gpr[X86_RBX], 3);
}

/* ---------------------------------------------------------------- table */

#define R(n)	X86_R##n
#define END	{ -1, 0 }

static const struct row rows[] = {
	{ "real_basic", th_real_mode, real_basic_start, real_basic_end,
	  X86_EXIT_HLT, { { R(BX), 0x1235 }, { R(CX), 0x1235 },
			  { R(DX), 0xffff }, END } },
	{ "real_io", th_real_mode, real_io_start, real_io_end, X86_EXIT_HLT,
	  { { R(BX), 0x78 }, { R(AX), 0x5678 }, END }, NULL, check_real_io },
	{ "real_unreal_mmio", th_real_mode, real_unreal_mmio_start,
	  real_unreal_mmio_end, X86_EXIT_HLT, { { R(BX), 0xdeadbeef }, END },
	  prep_unreal, check_unreal },
	{ "real_call_int", th_real_mode, real_call_int_start,
	  real_call_int_end, X86_EXIT_HLT,
	  { { R(CX), 7 }, { R(DX), 0x99 }, { R(SP), 0x7000 }, END },
	  prep_real_int },
	{ "long_alu", th_long64, long_alu_start, long_alu_end, X86_EXIT_HLT,
	  { { R(AX), 14 }, { R(DX), 2 }, { R(BX), 1 },
	    { R(CX), 0x4fffffffb }, END } },
	{ "long_mmio", th_long64, long_mmio_start, long_mmio_end,
	  X86_EXIT_HLT, { { R(BX), 0x1122334455667788 }, { R(CX), 0x5a },
			  { R(DX), 0x1234 }, { R(SI), 0xcafef00d }, END },
	  prep_mmio_fill, check_mmio },
	{ "long_mmio_cross", th_long64, long_mmio_cross_start,
	  long_mmio_cross_end, X86_EXIT_HLT,
	  { { R(BX), 0x0807060504030201 }, { R(CX), 0x0807060504030201 },
	    END }, prep_mmio_fill, check_mmio_cross },
	{ "long_mmio_rmw", th_long64, long_mmio_rmw_start, long_mmio_rmw_end,
	  X86_EXIT_HLT, { { R(AX), 16 }, { R(BX), 16 }, END },
	  prep_mmio_fill, check_mmio_rmw },
	{ "long_rep_outs", th_long64, long_rep_outs_start, long_rep_outs_end,
	  X86_EXIT_HLT, { { R(CX), 0 }, { R(DI), 0x2008 }, END }, NULL,
	  check_rep_outs },
	{ "long_smc", th_long64, long_smc_start, long_smc_end, X86_EXIT_HLT,
	  { { R(AX), 0x42 }, END } },
	{ "long_string", th_long64, long_string_start, long_string_end,
	  X86_EXIT_HLT, { { R(BX), 99 }, { R(AX), 0xabababababababab },
			  { R(SI), 0x2008 }, END } },
	{ "long_stack", th_long64, long_stack_start, long_stack_end,
	  X86_EXIT_HLT, { { R(BX), (uint64_t)-2 }, { R(CX), 0x2 },
			  { R(DX), 0x77 }, { R(SP), TH_STACK }, END } },
	{ "long_ud", th_long64, long_ud_start, long_ud_end, X86_EXIT_HLT,
	  { { R(BX), 0x66 }, { R(CX), TH_CODE }, END }, prep_ud },
	{ "long_pf", th_long64, long_pf_start, long_pf_end, X86_EXIT_HLT,
	  { { R(BX), 3 }, { R(CX), 0x250000 }, END }, prep_pf, check_pf },
	{ "long_de", th_long64, long_de_start, long_de_end, X86_EXIT_HLT,
	  { { R(BX), 0x66 }, { R(CX), TH_CODE + 7 }, END }, prep_de },
	{ "long_triple", th_long64, long_triple_start, long_triple_end,
	  X86_EXIT_SHUTDOWN, { END }, prep_triple },
	{ "long_syscall", th_long64, long_syscall_start, long_syscall_end,
	  X86_EXIT_HLT, { { R(BX), 0x55 }, { R(13), TH_CODE + 9 },
			  { R(12), 0x1122 }, END }, prep_syscall,
	  check_syscall },
	{ "long_sti_shadow_irq", th_long64, long_sti_irq_start,
	  long_sti_irq_end, X86_EXIT_HLT,
	  { { R(CX), 1 }, { R(DX), 0x77 }, { R(SI), 2 }, END }, prep_irq,
	  check_irq },
	{ "long_hlt_wake", th_long64, long_hlt_wake_start, long_hlt_wake_end,
	  X86_EXIT_HLT, { END }, prep_hlt_wake, check_hlt_wake },
	{ "long_double_fault", th_long64, long_df_start, long_df_end,
	  X86_EXIT_HLT, { { R(BX), 0 }, { R(CX), 0xdf }, END }, prep_df,
	  check_df },
	{ "long_mov_ss", th_long64, long_movss_start, long_movss_end,
	  X86_EXIT_HLT, { END }, prep_movss, check_movss },
	{ "long_xadd_same_reg", th_long64, long_xadd_same_start,
	  long_xadd_same_end, X86_EXIT_HLT,
	  { { R(DX), 8 }, { R(10), 14 }, { R(AX), 2 }, { R(BX), 3 }, END } },
	{ "long_cmpxchg_r32_fail_keeps_dest", th_long64,
	  long_cmpxchg_fail_start, long_cmpxchg_fail_end, X86_EXIT_HLT,
	  { { R(12), 0x10000000000 }, { R(BX), 0 }, { R(CX), 7 },
	    { R(AX), 5 }, END } },
	{ "long_rep_movs_overlap", th_long64, long_movs_overlap_start,
	  long_movs_overlap_end, X86_EXIT_HLT, { { R(CX), 0 }, END },
	  prep_movs_overlap, check_movs_overlap },
	{ "long_outs_exit_state", th_long64, long_outs_state_start,
	  long_outs_state_end, X86_EXIT_HLT,
	  { { R(CX), 0 }, { R(SI), 0x2004 }, END }, prep_outs_state },
	{ "long_ins_complete_at_once", th_long64, long_ins_state_start,
	  long_ins_state_end, X86_EXIT_HLT,
	  { { R(CX), 0 }, { R(DI), 0x3006 }, END }, prep_ins_state,
	  check_ins_state },
	{ "long_ins_df_read_ahead", th_long64, long_ins_df_start,
	  long_ins_df_end, X86_EXIT_HLT,
	  { { R(CX), 0 }, { R(DI), 0x1ffe }, END }, prep_ins_df,
	  check_ins_df },
	{ "long_mmio_rmw_complete_at_once", th_long64,
	  long_rmw_complete_start, long_rmw_complete_end, X86_EXIT_HLT,
	  { END }, prep_rmw_complete },
	{ "long_rep_ins_rcx_lowered", th_long64, long_rep_ins_rcx_start,
	  long_rep_ins_rcx_end, X86_EXIT_HLT,
	  { { R(CX), 0 }, { R(DI), 0x2001 }, END }, prep_rep_ins_rcx,
	  check_rep_ins_rcx },
	{ "long_msr_exit_to_host", th_long64, long_msr_exit_start,
	  long_msr_exit_end, X86_EXIT_HLT,
	  { { R(BX), 0x11223344 }, { R(SI), 0xaabbccdd }, { R(BP), 0x10d },
	    END }, prep_msr_exit, check_msr_exit },
	{ "long_vmcall_vmmcall_patched", th_long64, long_hypercall_start,
	  long_hypercall_end, X86_EXIT_HLT,
	  { { R(BX), 100 }, { R(SI), 101 }, END }, prep_hypercall,
	  check_hypercall },
	{ "long_vmcall_without_host_is_ud", th_long64, long_hypercall_start,
	  long_hypercall_end, X86_EXIT_HLT, { { R(BP), 0x106 }, END },
	  prep_catch },
	{ "long_monitor_mwait_host_nop", th_long64, long_monitor_mwait_start,
	  long_monitor_mwait_end, X86_EXIT_HLT,
	  { { R(BX), 1 }, { R(SI), 2 }, END }, prep_monitor_mwait,
	  check_monitor_mwait },
	{ "long_monitor_without_host_is_ud", th_long64, long_monitor_mwait_start,
	  long_monitor_mwait_end, X86_EXIT_HLT,
	  { { R(BX), 0 }, { R(BP), 0x106 }, END }, prep_catch },
	{ "real_to_long", prep_real_to_long, NULL, NULL, X86_EXIT_HLT,
	  { { R(BX), 0x123456789 }, { R(DX), 0x500 }, END }, NULL,
	  check_real_to_long },
};

static void run_row(void **state)
{
	const struct row *r = *state;
	struct th *t = th_new();
	int i;

	r->mode(t);
	if (r->start)
		th_load(t, TH_CODE, r->start, r->end);
	if (r->prep)
		r->prep(t);
	if (th_run(t) != r->exit)
		fail_msg("%s: exit %d, want %d (rip %#llx cs %#x exc %d)",
			 r->name, t->cpu.exit.reason, r->exit,
			 (unsigned long long)t->cpu.rip, t->cpu.seg[X86_CS].sel,
			 t->cpu.ev.exc_nr);
	for (i = 0; r->regs[i].reg >= 0; i++) {
		if (t->cpu.gpr[r->regs[i].reg] != r->regs[i].val)
			fail_msg("%s: reg %d = %#llx, want %#llx", r->name,
				 r->regs[i].reg,
				 (unsigned long long)t->cpu.gpr[r->regs[i].reg],
				 (unsigned long long)r->regs[i].val);
	}
	if (r->check)
		r->check(t);
	th_free(t);
}

int main(void)
{
	struct CMUnitTest tests[sizeof(rows) / sizeof(rows[0])];
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		memset(&tests[i], 0, sizeof(tests[i]));
		tests[i].name = rows[i].name;
		tests[i].test_func = run_row;
		tests[i].initial_state = (void *)&rows[i];
	}
	return _cmocka_run_group_tests("exec", tests, i, NULL, NULL);
}
