// SPDX-License-Identifier: MIT
/*
 * test_system.c - system-level behaviour, one table row per case:
 * alignment checks (#AC), call gates, task switches, virtual-8086 mode
 * and the debug facilities.  Each row builds what it needs by hand (GDT
 * entries, TSSs, IDT), runs a snippet to its exit and compares the exit,
 * the vector caught (th_catch_all) and the registers.
 */
#include <string.h>

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include "test_host.h"

#define X86_CR4_DE_BIT	(1u << 3)

/*
 * A snippet with a label "<name>_f" on the instruction that is expected
 * to fault (or on the final instruction when none should).
 */
#define GUESTF(name, pre, post)						\
	extern const uint8_t name##_start[], name##_end[], name##_f[];	\
	__asm__(".pushsection .rodata\n"				\
		".globl " #name "_start, " #name "_end, " #name "_f\n"	\
		#name "_start:\n" pre "\n" #name "_f:\n" post "\n"	\
		#name "_end:\n.code64\n.popsection\n")

#define SNIP(name)	name##_start, name##_end, name##_f

/* ------------------------------------------------------------- #AC */

GUESTF(ac_ld16, ".code64\n mov $0x2001, %ebx", "mov (%rbx), %ax\n hlt");
GUESTF(ac_ld16_ok, ".code64\n mov $0x2001, %ebx\n mov (%rbx), %ax", "hlt");
GUESTF(ac_ld32, ".code64\n mov $0x2002, %ebx", "mov (%rbx), %eax\n hlt");
GUESTF(ac_ld64, ".code64\n mov $0x2004, %ebx", "mov (%rbx), %rax\n hlt");
GUESTF(ac_ld8, ".code64\n mov $0x2001, %ebx\n mov (%rbx), %al", "hlt");
GUESTF(ac_ld64_ok, ".code64\n mov $0x2008, %ebx\n mov (%rbx), %rax\n"
       "mov 0x2004, %ecx\n mov 0x2002, %dx", "hlt");
GUESTF(ac_st16, ".code64\n", "movw $1, 0x2003\n hlt");
GUESTF(ac_lock, ".code64\n", "lock addl $1, 0x2002\n hlt");
GUESTF(ac_xchg, ".code64\n", "xchg %eax, 0x2006\n hlt");
GUESTF(ac_cx8, ".code64\n", "cmpxchg8b 0x2004\n hlt");
GUESTF(ac_push, ".code64\n sub $4, %rsp", "push %rax\n hlt");
GUESTF(ac_pop, ".code64\n sub $4, %rsp", "pop %rax\n hlt");
GUESTF(ac_call, ".code64\n sub $2, %rsp", "call 1f\n 1: hlt");
GUESTF(ac_movs, ".code64\n mov $0x2001, %esi\n mov $0x2100, %edi",
       "movsw\n hlt");
GUESTF(ac_stos, ".code64\n mov $0x2102, %edi\n mov $4, %ecx",
       "rep stosl\n hlt");
GUESTF(ac_movsq, ".code64\n mov $0x2000, %esi\n mov $0x2104, %edi\n"
       "mov $4, %ecx", "rep movsq\n hlt");
GUESTF(ac_jmpm, ".code64\n", "jmp *0x2004\n hlt");
GUESTF(ac_farptr, ".code64\n", "ljmpl *0x2002\n hlt");
GUESTF(ac_bt, ".code64\n mov $0x2001, %ebx\n mov $3, %ecx", "btl %ecx, (%rbx)\n hlt");
GUESTF(ac_ld32_prot, ".code32\n mov $0x2001, %ebx", "mov (%ebx), %ax\n hlt");

enum { AC_OFF = 1, AM_OFF = 2, CPL0 = 4, PROT32 = 8 };

struct ac_row {
	const char *name;
	const uint8_t *start, *end, *f;
	int flags;
	int vec;		/* caught vector; -1: the final HLT exits */
};

static const struct ac_row ac_rows[] = {
	{ "ac_load16", SNIP(ac_ld16), 0, 17 },
	{ "ac_load32", SNIP(ac_ld32), 0, 17 },
	{ "ac_load64", SNIP(ac_ld64), 0, 17 },
	{ "ac_load8_never", SNIP(ac_ld8), 0, 13 },
	{ "ac_aligned_ok", SNIP(ac_ld64_ok), 0, 13 },
	{ "ac_store16", SNIP(ac_st16), 0, 17 },
	{ "ac_lock_rmw", SNIP(ac_lock), 0, 17 },
	{ "ac_xchg", SNIP(ac_xchg), 0, 17 },
	{ "ac_cmpxchg8b", SNIP(ac_cx8), 0, 17 },
	{ "ac_push", SNIP(ac_push), 0, 17 },
	{ "ac_pop", SNIP(ac_pop), 0, 17 },
	{ "ac_call", SNIP(ac_call), 0, 17 },
	{ "ac_movsw", SNIP(ac_movs), 0, 17 },
	{ "ac_rep_stosd", SNIP(ac_stos), 0, 17 },
	{ "ac_rep_movsq", SNIP(ac_movsq), 0, 17 },
	{ "ac_jmp_mem", SNIP(ac_jmpm), 0, 17 },
	{ "ac_far_pointer", SNIP(ac_farptr), 0, 17 },
	{ "ac_bt_mem", SNIP(ac_bt), 0, 17 },
	{ "ac_eflags_ac_clear", SNIP(ac_ld16_ok), AC_OFF, 13 },
	{ "ac_cr0_am_clear", SNIP(ac_ld16_ok), AM_OFF, 13 },
	{ "ac_cpl0_never", SNIP(ac_ld16_ok), CPL0, -1 },
	{ "ac_prot32_load16", SNIP(ac_ld32_prot), PROT32, 17 },
};

static void test_ac(void **state)
{
	const struct ac_row *r = *state;
	struct th *t = th_new();
	uint64_t f = TH_CODE + (uint64_t)(r->f - r->start), rip;
	struct x86_cpu *c = &t->cpu;

	if (r->flags & PROT32)
		th_prot32(t);
	else
		th_long64(t);
	th_load(t, TH_CODE, r->start, r->end);
	th_catch_all(t, !(r->flags & PROT32));
	if (!(r->flags & CPL0))
		th_user(t);
	if (!(r->flags & AM_OFF))
		c->cr0 |= 1u << 18;
	if (!(r->flags & AC_OFF))
		c->rflags |= 1u << 18;
	c->gpr[X86_RAX] = 0x1111;
	x86_cpu_state_changed(c);
	assert_int_equal(th_run(t), X86_EXIT_HLT);
	if (r->vec < 0) {
		assert_int_equal(c->gpr[X86_RBP], 0);
		assert_int_equal(c->rip, f + 1);
		th_free(t);
		return;
	}
	assert_int_equal(c->gpr[X86_RBP], 0x100 + r->vec);
	/* the frame: [error code,] RIP of the faulting instruction */
	if (r->flags & PROT32) {
		assert_int_equal(t->ram[c->gpr[X86_RSP]], 0);
		memcpy(&rip, t->ram + c->gpr[X86_RSP] + 4, 4);
		rip &= 0xffffffff;
	} else {
		assert_int_equal(th_rd64(t, c->gpr[X86_RSP]), 0);
		rip = th_rd64(t, c->gpr[X86_RSP] + 8);
	}
	assert_int_equal(rip, f);
	/* nothing was written before the fault */
	if (r->vec == 17)
		assert_int_equal(c->gpr[X86_RAX], 0x1111);
	th_free(t);
}

/* ----------------------------------------------------------- debug */

GUESTF(db_tf, ".code64\n pushfq\n orq $0x100, (%rsp)\n popfq\n nop",
       "nop\n hlt");
GUESTF(db_exec, ".code64\n nop\n", "nop\n hlt");
GUESTF(db_write, ".code64\n movl $1, 0x2004\n", "nop\n hlt");
GUESTF(db_read, ".code64\n mov 0x200c, %eax\n", "nop\n hlt");
GUESTF(db_nohit, ".code64\n mov 0x2010, %eax\n", "hlt");
GUESTF(db_io, ".code64\n out %al, $0x80\n", "nop\n hlt");
GUESTF(db_gd, ".code64\n nop\n", "mov %dr0, %rax\n hlt");
GUESTF(db_int1, ".code64\n int1\n", "hlt");
GUESTF(db_step, ".code64\n mov $1, %eax\n", "mov $2, %ebx\n hlt");
GUESTF(db_swbp, ".code64\n nop\n", "int3\n hlt");
GUESTF(db_rf, ".code64\n", "nop\n hlt");

#define DR7_L(i)	(1ull << (2 * (i)))
#define DR7_RW(i, t)	((uint64_t)(t) << (16 + 4 * (i)))
#define DR7_LEN(i, l)	((uint64_t)(l) << (18 + 4 * (i)))

struct db_row {
	const char *name;
	const uint8_t *start, *end, *f;
	uint64_t dr[4], dr7;		/* guest's, or the host's with HW_BP */
	uint32_t gdbg;			/* guest_debug.flags */
	uint64_t rflags, cr4;		/* ORed in */
	enum x86_exit_reason exit;
	int vec;			/* caught vector (HLT exits), -1 none */
	uint64_t dr6;			/* bits that must be set in DR6/exit */
	int exc;			/* exit.debug.exception */
};

#define GD_ON	(X86_GDBG_ENABLE)
static const struct db_row db_rows[] = {
	{ "db_tf_trap_after_next", SNIP(db_tf), .exit = X86_EXIT_HLT,
	  .vec = 1, .dr6 = 1ull << 14 },
	{ "db_exec_breakpoint", SNIP(db_exec), { TH_CODE + 1 }, DR7_L(0),
	  .exit = X86_EXIT_HLT, .vec = 1, .dr6 = 1 },
	{ "db_write_breakpoint", SNIP(db_write), { 0, 0x2004 },
	  DR7_L(1) | DR7_RW(1, 1) | DR7_LEN(1, 3), .exit = X86_EXIT_HLT,
	  .vec = 1, .dr6 = 2 },
	{ "db_rw_breakpoint_read", SNIP(db_read), { 0, 0, 0x2008 },
	  DR7_L(2) | DR7_RW(2, 3) | DR7_LEN(2, 2), .exit = X86_EXIT_HLT,
	  .vec = 1, .dr6 = 4 },
	{ "db_rw_breakpoint_miss", SNIP(db_nohit), { 0, 0, 0x2008 },
	  DR7_L(2) | DR7_RW(2, 3) | DR7_LEN(2, 2), .exit = X86_EXIT_HLT,
	  .vec = -1 },
	{ "db_write_bp_ignores_read", SNIP(db_read), { 0, 0x200c },
	  DR7_L(1) | DR7_RW(1, 1) | DR7_LEN(1, 3), .exit = X86_EXIT_HLT,
	  .vec = -1 },
	{ "db_io_breakpoint", SNIP(db_io), { 0, 0, 0, 0x80 },
	  DR7_L(3) | DR7_RW(3, 2), .cr4 = X86_CR4_DE_BIT,
	  .exit = X86_EXIT_HLT, .vec = 1, .dr6 = 8 },
	{ "db_general_detect", SNIP(db_gd), .dr7 = 1ull << 13,
	  .exit = X86_EXIT_HLT, .vec = 1, .dr6 = 1ull << 13 },
	{ "db_int1", SNIP(db_int1), .exit = X86_EXIT_HLT, .vec = 1 },
	{ "db_rf_suppresses_exec_bp", SNIP(db_rf), { TH_CODE }, DR7_L(0),
	  .rflags = 1u << 16, .exit = X86_EXIT_HLT, .vec = -1 },
	{ "gdbg_single_step", SNIP(db_step), .gdbg = GD_ON | X86_GDBG_SINGLESTEP,
	  .exit = X86_EXIT_DEBUG, .dr6 = 1ull << 14, .exc = 1 },
	{ "gdbg_sw_breakpoint", SNIP(db_swbp), .gdbg = GD_ON | X86_GDBG_USE_SW_BP,
	  .exit = X86_EXIT_DEBUG, .exc = 3 },
	{ "gdbg_hw_exec_breakpoint", SNIP(db_exec), { TH_CODE + 1 }, DR7_L(0),
	  .gdbg = GD_ON | X86_GDBG_USE_HW_BP, .exit = X86_EXIT_DEBUG,
	  .dr6 = 1, .exc = 1 },
	{ "gdbg_hw_general_detect", SNIP(db_gd), .dr7 = 1ull << 13,
	  .gdbg = GD_ON | X86_GDBG_USE_HW_BP, .exit = X86_EXIT_DEBUG,
	  .dr6 = 1ull << 13, .exc = 1 },
	{ "gdbg_hw_write_breakpoint", SNIP(db_write), { 0, 0x2004 },
	  DR7_L(1) | DR7_RW(1, 1) | DR7_LEN(1, 3),
	  .gdbg = GD_ON | X86_GDBG_USE_HW_BP, .exit = X86_EXIT_DEBUG,
	  .dr6 = 2, .exc = 1 },
};

static void test_db(void **state)
{
	const struct db_row *r = *state;
	struct th *t = th_new();
	uint64_t f = TH_CODE + (uint64_t)(r->f - r->start);
	struct x86_cpu *c = &t->cpu;
	int i;

	th_long64(t);
	th_load(t, TH_CODE, r->start, r->end);
	th_catch_all(t, true);
	for (i = 0; i < 4; i++) {
		if (r->gdbg & X86_GDBG_USE_HW_BP)
			c->guest_debug.dr[i] = r->dr[i];
		else
			c->dr[i] = r->dr[i];
	}
	if (r->gdbg & X86_GDBG_USE_HW_BP)
		c->guest_debug.dr7 = r->dr7;
	else
		c->dr[7] |= r->dr7;
	c->guest_debug.flags = r->gdbg;
	c->rflags |= r->rflags;
	c->cr4 |= r->cr4;
	x86_cpu_state_changed(c);
	assert_int_equal(th_run(t), r->exit);
	if (r->exit == X86_EXIT_DEBUG) {
		assert_int_equal(c->exit.debug.exception, r->exc);
		assert_int_equal(c->exit.debug.pc, f);
		assert_int_equal(c->rip, f);
		assert_true((c->exit.debug.dr6 & r->dr6) == r->dr6);
		assert_int_equal(c->gpr[X86_RBP], 0);
		th_free(t);
		return;
	}
	if (r->vec < 0) {
		/* ran to the final HLT */
		assert_int_equal(c->gpr[X86_RBP], 0);
		assert_int_equal(c->rip, TH_CODE + (uint64_t)(r->end - r->start));
		th_free(t);
		return;
	}
	assert_int_equal(c->gpr[X86_RBP], 0x100 + r->vec);
	assert_int_equal(th_rd64(t, c->gpr[X86_RSP]), f);
	assert_true((c->dr[6] & r->dr6) == r->dr6);
	assert_int_equal(c->dr[6] & 0xf & ~r->dr6, 0);
	th_free(t);
}

/* --------------------------------------------- segmentation, gates */

/*
 * Generic rows: a mode, a snippet, a prep; the exit, the vector caught
 * (-1: none, the snippet's final HLT exited) and, for a caught fault, the
 * RIP in its frame (the "_f" label) and its error code (or -1).
 */
struct sys_row {
	const char *name;
	void (*mode)(struct th *t);
	const uint8_t *start, *end, *f;
	void (*prep)(struct th *t);
	enum x86_exit_reason exit;
	int vec;
	int64_t err;
	void (*check)(struct th *t);
};

GUESTF(lim_fetch, ".code32\n", "mov $1, %eax\n hlt");
GUESTF(lim_int, ".code32\n", "int $0x1f\n hlt");

static void prep_fetch_limit(struct th *t)
{
	t->cpu.seg[X86_CS].limit = TH_CODE + 2;	/* cuts the 5-byte MOV */
}

static void prep_ss_down(struct th *t, uint32_t room)
{
	struct x86_seg *ss = &t->cpu.seg[X86_SS];

	ss->attr = 0xc097;			/* expand-down, 32-bit */
	ss->limit = TH_STACK - room - 1;
	x86_cpu_state_changed(&t->cpu);
}

static void prep_stack_fits(struct th *t)
{
	prep_ss_down(t, 12);			/* EFLAGS, CS, EIP */
}

static void prep_stack_short(struct th *t)
{
	prep_ss_down(t, 8);
}

/* call gates: GDT entry 10 (selector 0x50) */
GUESTF(cg_call32, ".code32\n push $0x22\n push $0x11\n lcall $0x53, $0\n", "hlt");
GUESTF(cg_callee, ".code32\n mov $0x1cc, %ebp", "hlt");
GUESTF(cg_callee_ret, ".code32\n mov %ss, %ecx\n mov 8(%esp), %edx", "lret $8");
GUESTF(cg_call64, ".code64\n", "lcall *gp64(%rip)\n hlt\n gp64: .long 0\n .word 0x53");
GUESTF(cg_callee64, ".code64\n mov $0x1cc, %ebp", "hlt");
GUESTF(cg_call32f, ".code32\n push $0x22\n push $0x11\n", "lcall $0x53, $0\n hlt");
GUESTF(cg_jmp32, ".code32\n", "ljmp $0x50, $0\n hlt");

static uint64_t gate32(uint64_t off, uint16_t sel, int nparam, int dpl,
		       bool present)
{
	return (off & 0xffff) | ((uint64_t)sel << 16) |
	       ((uint64_t)nparam << 32) | (0xcull << 40) |
	       ((uint64_t)dpl << 45) | ((uint64_t)present << 47) |
	       ((off >> 16) << 48);
}

static void cg_gdt(struct th *t, uint64_t lo, uint64_t hi)
{
	th_gdt_set(t, 10, lo);
	th_gdt_set(t, 11, hi);
	t->cpu.gdtr.limit = 12 * 8 - 1;
}

static void prep_cg_call32(struct th *t)
{
	th_load(t, 0x3000, cg_callee_start, cg_callee_end);
	cg_gdt(t, gate32(0x3000, 0x08, 2, 3, true), 0);
	th_user(t);
}

static void check_cg_call32(struct th *t)
{
	static const uint32_t want[6] = { TH_CODE + 11, 0x2b, 0x11, 0x22,
					  TH_STACK - 8, 0x33 };
	struct x86_cpu *c = &t->cpu;

	assert_int_equal(c->gpr[X86_RBP], 0x1cc);
	assert_int_equal(c->seg[X86_CS].sel, 0x08);
	assert_int_equal(c->seg[X86_SS].sel, 0x10);
	assert_int_equal(c->gpr[X86_RSP], 0x5000 - 24);
	assert_memory_equal(t->ram + 0x5000 - 24, want, sizeof(want));
}

static void prep_cg_ret32(struct th *t)
{
	prep_cg_call32(t);
	th_load(t, 0x3000, cg_callee_ret_start, cg_callee_ret_end);
}

static void check_cg_ret32(struct th *t)
{
	struct x86_cpu *c = &t->cpu;

	/* back at CPL 3 (its HLT faulted), params popped on both stacks */
	assert_int_equal(c->gpr[X86_RCX], 0x10);
	assert_int_equal(c->gpr[X86_RDX], 0x11);
	/* #GP frame: error code, EIP, CS, EFLAGS, ESP, SS */
	assert_int_equal((uint32_t)th_rd64(t, c->gpr[X86_RSP] + 8), 0x2b);
	assert_int_equal((uint32_t)th_rd64(t, c->gpr[X86_RSP] + 16),
			 TH_STACK);
}

static void prep_cg_call64(struct th *t)
{
	th_load(t, 0x3000, cg_callee64_start, cg_callee64_end);
	cg_gdt(t, gate32(0x3000, 0x18, 0, 3, true), 0);
	th_user(t);
}

static void check_cg_call64(struct th *t)
{
	static const uint64_t want[4] = { TH_CODE + 6, 0x3b, TH_STACK, 0x33 };
	struct x86_cpu *c = &t->cpu;

	assert_int_equal(c->gpr[X86_RBP], 0x1cc);
	assert_int_equal(c->seg[X86_CS].sel, 0x18);
	assert_int_equal(c->seg[X86_SS].sel, 0);
	assert_int_equal(c->gpr[X86_RSP], 0x5000 - 32);
	assert_memory_equal(t->ram + 0x5000 - 32, want, sizeof(want));
}

static void prep_cg_jmp32(struct th *t)
{
	th_load(t, 0x3000, cg_callee_start, cg_callee_end);
	cg_gdt(t, gate32(0x3000, 0x08, 0, 0, true), 0);
}

static void check_cg_jmp32(struct th *t)
{
	assert_int_equal(t->cpu.gpr[X86_RBP], 0x1cc);
	assert_int_equal(t->cpu.gpr[X86_RSP], TH_STACK);
}

static void prep_cg_dpl(struct th *t)
{
	prep_cg_call32(t);
	cg_gdt(t, gate32(0x3000, 0x08, 2, 0, true), 0);
}

static void prep_cg_np(struct th *t)
{
	prep_cg_call32(t);
	cg_gdt(t, gate32(0x3000, 0x08, 2, 3, false), 0);
}

/* virtual-8086 mode: entered by IRET from CPL 0, left by interrupts */
GUESTF(v86_enter, ".code32\n push $0x50\n push $0x40\n push $0x30\n push $0x20\n"
       "push $0x0\n push $0x7000\n pushl $0x20002\n push $0x200\n push $0\n", "iret");
GUESTF(v86_code, ".code16\n mov $0x1234, %ax\n mov $0x300, %bx\n mov %bx, %ds\n"
       "mov (0x10), %cx\n", "int3");
GUESTF(v86_cli, ".code16\n mov $0x1234, %ax\n", "cli");

static void prep_v86(struct th *t, const uint8_t *s, const uint8_t *e)
{
	th_load(t, 0x2000, s, e);		/* CS = 0x200, IP = 0 */
	t->ram[0x3010] = 0x5a;
	t->ram[0x3011] = 0xa5;
	th_wr64(t, 0x6000 + 4, 0x5000);		/* ESP0 */
	th_wr64(t, 0x6000 + 8, 0x10);		/* SS0 */
}

static void prep_v86_iopl3(struct th *t)
{
	prep_v86(t, v86_code_start, v86_code_end);
	t->ram[TH_CODE + 17] |= 0x30;	/* IOPL 3 in the pushed EFLAGS */
}

static void prep_v86_iopl0(struct th *t)
{
	prep_v86(t, v86_cli_start, v86_cli_end);
}

/* The frame of an interrupt from VM86: EIP CS EFLAGS ESP SS ES DS FS GS */
static void check_v86_frame(struct th *t, uint32_t eip, bool err)
{
	uint32_t f[10];
	struct x86_cpu *c = &t->cpu;

	memcpy(f, t->ram + c->gpr[X86_RSP], sizeof(f));
	if (err)
		memmove(f, f + 1, 9 * 4);
	assert_int_equal(f[0], eip);
	assert_int_equal(f[1], 0x200);
	assert_true(f[2] & (1u << 17));		/* VM */
	assert_int_equal(f[3], 0x7000);
	assert_int_equal(f[4], 0);
	assert_int_equal(f[5], 0x20);
	assert_int_equal(f[6], err ? 0x30 : 0x300);	/* DS reloaded */
	assert_int_equal(f[7], 0x40);
	assert_int_equal(f[8], 0x50);
	assert_int_equal(c->gpr[X86_RAX] & 0xffff, 0x1234);
	/* the handler runs in protected mode with null data segments */
	assert_false(c->rflags & (1u << 17));
	assert_int_equal(c->seg[X86_CS].sel, 0x08);
	assert_int_equal(c->seg[X86_DS].sel, 0);
}

static void check_v86_int3(struct th *t)
{
	check_v86_frame(t, (uint32_t)(v86_code_end - v86_code_start), false);
	assert_int_equal(t->cpu.gpr[X86_RCX] & 0xffff, 0xa55a);
}

static void check_v86_cli(struct th *t)
{
	check_v86_frame(t, (uint32_t)(v86_cli_f - v86_cli_start), true);
}

/* task switches: TSS A (0x40, at 0x6000) is current, TSS B (0x60) at 0x6800 */
#define TSS_B	0x6800u
GUESTF(ts_jmp, ".code32\n mov $0x77, %eax\n ljmp $0x60, $0\n", "hlt");
GUESTF(ts_call, ".code32\n mov $0x77, %eax\n lcall $0x50, $0\n", "hlt");
GUESTF(ts_gp, ".code32\n mov $0x77, %eax\n", "ljmp $0, $0\n hlt");
GUESTF(ts_b_hlt, ".code32\n mov $0x1cc, %ebp", "hlt");
GUESTF(ts_b_iret, ".code32\n mov $0x1cc, %ebp\n mov $5, %eax", "iret");
GUESTF(ts_b_err, ".code32\n pop %ecx\n mov $0x1cc, %ebp", "hlt");

static uint32_t rd32(struct th *t, uint64_t a)
{
	uint32_t v;

	memcpy(&v, t->ram + a, 4);
	return v;
}

static void wr32(struct th *t, uint64_t a, uint32_t v)
{
	memcpy(t->ram + a, &v, 4);
}

static void prep_tasks(struct th *t, const uint8_t *s, const uint8_t *e)
{
	static const uint16_t segs[6] = { 0x10, 0x08, 0x10, 0x10, 0x10, 0x10 };
	int i;

	th_load(t, 0x3000, s, e);
	memset(t->ram + TSS_B, 0, 0x68);
	wr32(t, TSS_B + 0x20, 0x3000);		/* EIP */
	wr32(t, TSS_B + 0x24, 2);		/* EFLAGS */
	wr32(t, TSS_B + 0x38, 0x4800);		/* ESP */
	for (i = 0; i < 6; i++)
		wr32(t, TSS_B + 0x48 + 4 * i, segs[i]);
	th_gdt_set(t, 8, 0x00008b0060000067ull);	/* A, busy */
	th_gdt_set(t, 12, 0x0000890000000067ull | ((uint64_t)TSS_B << 16));
	/* task gate to B, DPL 0 */
	th_gdt_set(t, 10, (0x60ull << 16) | (0x85ull << 40));
	t->cpu.gdtr.limit = 13 * 8 - 1;
	t->cpu.tr.limit = 0x67;
}

static void prep_ts_jmp(struct th *t)
{
	prep_tasks(t, ts_b_hlt_start, ts_b_hlt_end);
}

static void check_ts_jmp(struct th *t)
{
	struct x86_cpu *c = &t->cpu;

	assert_int_equal(c->gpr[X86_RBP], 0x1cc);
	assert_int_equal(c->tr.sel, 0x60);
	assert_int_equal(c->gpr[X86_RSP], 0x4800);
	assert_int_equal(c->gpr[X86_RAX], 0);		/* B's EAX */
	assert_int_equal(rd32(t, 0x6000 + 0x20), TH_CODE + 12);
	assert_int_equal(rd32(t, 0x6000 + 0x28), 0x77);	/* A's EAX saved */
	assert_int_equal(t->ram[TH_GDT + 8 * 8 + 5], 0x89);	/* A not busy */
	assert_int_equal(t->ram[TH_GDT + 12 * 8 + 5], 0x8b);	/* B busy */
	assert_false(c->rflags & (1u << 14));		/* NT */
	assert_true(c->cr0 & 8);			/* TS */
}

static void prep_ts_call(struct th *t)
{
	prep_tasks(t, ts_b_iret_start, ts_b_iret_end);
}

static void check_ts_call(struct th *t)
{
	struct x86_cpu *c = &t->cpu;

	/* back in A after B's IRET, at A's HLT */
	assert_int_equal(c->tr.sel, 0x40);
	assert_int_equal(c->gpr[X86_RAX], 0x77);
	assert_int_equal(c->gpr[X86_RBP], 0);
	assert_int_equal(c->rip, TH_CODE + 13);
	assert_int_equal(rd32(t, TSS_B + 0x3c), 0x1cc);	/* B's EBP */
	assert_int_equal(rd32(t, TSS_B + 0x28), 5);
	assert_int_equal(rd32(t, TSS_B) & 0xffff, 0x40);	/* link */
	assert_int_equal(t->ram[TH_GDT + 12 * 8 + 5], 0x89);	/* B free */
	assert_false(rd32(t, TSS_B + 0x24) & (1u << 14));	/* NT cleared */
	assert_false(c->rflags & (1u << 14));
}

static void prep_ts_int(struct th *t)
{
	prep_tasks(t, ts_b_err_start, ts_b_err_end);
	/* #GP through a task gate to B */
	th_wr64(t, TH_IDT + 13 * 8, (0x60ull << 16) | (0x85ull << 40));
}

static void check_ts_int(struct th *t)
{
	struct x86_cpu *c = &t->cpu;

	assert_int_equal(c->gpr[X86_RBP], 0x1cc);
	assert_int_equal(c->gpr[X86_RCX], 0);		/* error code */
	assert_int_equal(c->gpr[X86_RSP], 0x4800);
	assert_int_equal(c->tr.sel, 0x60);
	assert_true(c->rflags & (1u << 14));		/* NT */
	assert_int_equal(rd32(t, TSS_B) & 0xffff, 0x40);
	assert_int_equal(rd32(t, 0x6000 + 0x20),	/* faulting EIP */
			 TH_CODE + (uint32_t)(ts_gp_f - ts_gp_start));
}

static const struct sys_row sys_rows[] = {
	{ "task_jmp_tss", th_prot32, SNIP(ts_jmp), prep_ts_jmp,
	  X86_EXIT_HLT, -2, 0, check_ts_jmp },
	{ "task_call_gate_then_iret_nt", th_prot32, SNIP(ts_call),
	  prep_ts_call, X86_EXIT_HLT, -2, 0, check_ts_call },
	{ "task_gate_exception_error_code", th_prot32, SNIP(ts_gp),
	  prep_ts_int, X86_EXIT_HLT, -2, 0, check_ts_int },
	{ "vm86_iret_enter_int3_leave", th_prot32, SNIP(v86_enter),
	  prep_v86_iopl3, X86_EXIT_HLT, -2, 0, check_v86_int3 },
	{ "vm86_cli_iopl0_gp", th_prot32, SNIP(v86_enter),
	  prep_v86_iopl0, X86_EXIT_HLT, -2, 0, check_v86_cli },
	{ "callgate32_call_inner_params", th_prot32, SNIP(cg_call32),
	  prep_cg_call32, X86_EXIT_HLT, -2, 0, check_cg_call32 },
	{ "callgate32_call_lret_outer", th_prot32, SNIP(cg_call32),
	  prep_cg_ret32, X86_EXIT_HLT, 13, 0, check_cg_ret32 },
	{ "callgate64_call_inner", th_long64, SNIP(cg_call64),
	  prep_cg_call64, X86_EXIT_HLT, -2, 0, check_cg_call64 },
	{ "callgate32_jmp_same_level", th_prot32, SNIP(cg_jmp32),
	  prep_cg_jmp32, X86_EXIT_HLT, -2, 0, check_cg_jmp32 },
	{ "callgate_dpl_below_cpl", th_prot32, SNIP(cg_call32f),
	  prep_cg_dpl, X86_EXIT_HLT, 13, 0x50 },
	{ "callgate_not_present", th_prot32, SNIP(cg_call32f),
	  prep_cg_np, X86_EXIT_HLT, 11, 0x50 },
	{ "fetch_beyond_cs_limit", th_prot32, SNIP(lim_fetch),
	  prep_fetch_limit, X86_EXIT_HLT, 13, 0 },
	{ "deliver_stack_within_limit", th_prot32, SNIP(lim_int),
	  prep_stack_fits, X86_EXIT_HLT, 31, -1 },
	{ "deliver_stack_beyond_limit", th_prot32, SNIP(lim_int),
	  prep_stack_short, X86_EXIT_SHUTDOWN },
};

static void test_sys(void **state)
{
	const struct sys_row *r = *state;
	struct th *t = th_new();
	uint64_t f = TH_CODE + (uint64_t)(r->f - r->start), sp, rip;
	struct x86_cpu *c = &t->cpu;
	bool lm;

	r->mode(t);
	lm = c->efer & 0x400;
	th_load(t, TH_CODE, r->start, r->end);
	th_catch_all(t, lm);
	if (r->prep)
		r->prep(t);
	assert_int_equal(th_run(t), r->exit);
	if (r->vec == -2) {
		/* the row's check looks at everything */
	} else if (r->exit == X86_EXIT_HLT && r->vec < 0) {
		assert_int_equal(c->gpr[X86_RBP], 0);
	} else if (r->exit == X86_EXIT_HLT) {
		assert_int_equal(c->gpr[X86_RBP], 0x100 + r->vec);
		sp = c->seg[X86_SS].base + (lm ? c->gpr[X86_RSP] :
					    (uint32_t)c->gpr[X86_RSP]);
		if (r->err >= 0) {
			assert_int_equal(lm ? th_rd64(t, sp) :
					 (uint32_t)th_rd64(t, sp), r->err);
			sp += lm ? 8 : 4;
		}
		rip = lm ? th_rd64(t, sp) : (uint32_t)th_rd64(t, sp);
		if (r->vec != 31)	/* INT n pushes the next RIP */
			assert_int_equal(rip, f);
	}
	if (r->check)
		r->check(t);
	th_free(t);
}

/* ------------------------------------------------- STI; HLT; wake-up */

/*
 * STI's one-instruction shadow covers the HLT, not what follows it: an
 * interrupt that wakes the halted CPU is taken before the next
 * instruction (the CLI here), so the handler runs and returns to it.
 */
GUEST(sti_hlt,
	".code16\n"
	"	sti\n"
	"	hlt\n"
	"	cli\n"
	"	mov $1, %bx\n"
	"	hlt\n"
	".globl sti_hlt_handler\n"
	"sti_hlt_handler:\n"
	"	mov $0x77, %ax\n"
	"	iret\n");
extern const uint8_t sti_hlt_handler[];

static void test_sti_hlt_wakeup(void **state)
{
	struct th *t = th_new();
	struct x86_cpu *c = &t->cpu;
	uint16_t ivt[2] = {
		(uint16_t)(TH_CODE + (sti_hlt_handler - sti_hlt_start)), 0,
	};

	th_real_mode(t);
	SNIP_LOAD(t, sti_hlt);
	memcpy(t->ram + 0x30 * 4, ivt, sizeof(ivt));
	assert_int_equal(th_run(t), X86_EXIT_HLT);	/* halted, nothing pending */
	t->irq = 0x30;
	assert_int_equal(th_run(t), X86_EXIT_HLT);	/* the second HLT */
	assert_int_equal(t->irq_acked, 1);
	assert_int_equal(c->gpr[X86_RAX] & 0xffff, 0x77);
	assert_int_equal(c->gpr[X86_RBX] & 0xffff, 1);
	th_free(t);
}

/* ------------------------------------------------------------- main */

#define ROWS(tab, fn, out, n)						\
	do {								\
		size_t _i;						\
		for (_i = 0; _i < sizeof(tab) / sizeof(tab[0]); _i++) {	\
			memset(&out[n], 0, sizeof(out[n]));		\
			out[n].name = tab[_i].name;			\
			out[n].test_func = fn;				\
			out[n].initial_state = (void *)&tab[_i];	\
			n++;						\
		}							\
	} while (0)

int main(void)
{
	static struct CMUnitTest tests[256];
	size_t n = 0;

	ROWS(ac_rows, test_ac, tests, n);
	ROWS(db_rows, test_db, tests, n);
	ROWS(sys_rows, test_sys, tests, n);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_sti_hlt_wakeup);
	return _cmocka_run_group_tests("system", tests, n, NULL, NULL);
}
