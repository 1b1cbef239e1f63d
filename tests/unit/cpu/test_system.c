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
	return _cmocka_run_group_tests("system", tests, n, NULL, NULL);
}
