// SPDX-License-Identifier: MIT
/*
 * test_chain.c - block chaining across a flush of the block cache.
 *
 * The run loop remembers the last block it ran so that it can link it to
 * the next one.  When the cache is flushed in between (a memory
 * generation change, a write to code elsewhere, a full arena), that block
 * is gone and its memory belongs to the blocks decoded next: linking it
 * then wrote into a live block's instructions.  Here the generation
 * changes at the boundary before a long block, right after two short
 * blocks were decoded; the long block, decoded at the start of the
 * emptied arena, covers where the short one lay.  It must run intact.
 */
#include <string.h>

#include "test_host.h"

#define BIG	0x1100u

/* A: set up; S1, S2: one jump each; BIG: 24 increments, loop, HLT. */
GUEST(chain_flush, ".code64\n"
	"	xor %ebx, %ebx\n"
	"	mov $3, %ecx\n"
	"	jmp 1f\n"
	"1:	jmp 2f\n"
	"2:	jmp 3f\n"
	".org 0x100\n"
	"3:\n"
	".rept 24\n"
	"	inc %rbx\n"
	".endr\n"
	"	dec %ecx\n"
	"	jnz 1b\n"
	"	hlt\n");

static int flushes;

/* A new memory generation the first time a boundary finds RIP at BIG. */
static uint64_t flush_at_big(struct x86_cpu *cpu)
{
	struct th *t = (struct th *)cpu;	/* cpu is th's first member */

	if (cpu->rip == BIG && !flushes) {
		flushes++;
		t->gen++;
	}
	return t->gen;
}

static void test_link_after_flush(void **state)
{
	struct th *t = th_new();

	th_long64(t);
	SNIP_LOAD(t, chain_flush);
	t->ops.generation = flush_at_big;
	flushes = 0;
	assert_int_equal(th_run(t), X86_EXIT_HLT);
	assert_int_equal(flushes, 1);
	assert_int_equal(t->cpu.gpr[X86_RBX], 3 * 24);
	assert_int_equal(t->cpu.gpr[X86_RCX] & 0xffffffff, 0);
	th_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_link_after_flush),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
