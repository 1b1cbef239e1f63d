// SPDX-License-Identifier: MIT
/*
 * test_maxphyaddr.c - a guest MAXPHYADDR (CPUID 0x80000008) of 36, below
 * the engine's 46, and a PTE with bit 36 set, as KVM handles it with
 * KVM_CAP_SMALLER_MAXPHYADDR: an instruction KVM's emulator knows gets
 * #PF with RSVD; one it does not know (x87, most SSE, VEX) ends the run
 * with an emulation failure carrying the bytes the emulator fetched
 * (KVM_CAP_EXIT_ON_EMULATION_FAILURE), or without the cap raises #UD
 * (and at CPL 0 exits as well, the #UD pending).  (VEX forms are not in
 * it either, but the engine runs none: they exit as unimplemented before
 * any access.)  Bits above the engine's
 * own MAXPHYADDR are plain reserved-bit faults for every instruction.
 */
#include <string.h>

#include "test_host.h"

#define DATA	0x240000ull
#define PTE_BIT36 (1ull << 36)

GUEST(pf_handler, ".code64\n pop %rbx\n mov %cr2, %rcx\n hlt\n");
GUEST(mov_load, ".code64\n mov 0x240010, %rax\n mov $1, %edx\n hlt\n");
GUEST(mov_store, ".code64\n movq $5, 0x240010\n mov $1, %edx\n hlt\n");
GUEST(flds_load, ".code64\n flds 0x240010\n mov $1, %edx\n hlt\n");
GUEST(movups_load, ".code64\n movups 0x240010, %xmm0\n mov $1, %edx\n hlt\n");
GUEST(addps_load, ".code64\n addps 0x240010, %xmm0\n mov $1, %edx\n hlt\n");
GUEST(fnstcw_store, ".code64\n fnstcw 0x240010\n mov $1, %edx\n hlt\n");
GUEST(crc32_load, ".code64\n crc32l 0x240010, %eax\n mov $1, %edx\n hlt\n");
GUEST(flds_rax, ".code64\n flds (%rax)\n hlt\n");

static void mpa_cpuid(struct x86_cpu *cpu, uint32_t leaf, uint32_t sub,
		      uint32_t out[4])
{
	if (!x86_cpu_implemented_cpuid(leaf, sub, out))
		memset(out, 0, 16);
	if (leaf == 0x80000008)
		out[0] = (out[0] & ~0xffu) | 36;
}

/* Long mode, CPL 0, guest MAXPHYADDR 36, bits set in the PTE of DATA. */
static struct th *mpa_new(const uint8_t *start, const uint8_t *end,
			  uint64_t pte_bits, bool exit_on_failure)
{
	struct th *t = th_new();

	th_long64(t);
	t->ops.cpuid = mpa_cpuid;
	th_load(t, TH_CODE, start, end);
	th_load(t, 0x3000, pf_handler_start, pf_handler_end);
	th_catch_all(t, true);
	th_idt_set(t, 14, 0x3000, true, 0, 0);
	*th_pte(t, DATA) |= pte_bits;
	t->cpu.exit_on_emulation_failure = exit_on_failure;
	t->cpu.cr4 |= 1u << 9;		/* OSFXSR, for the SSE rows */
	t->cpu.gpr[X86_RDX] = 0;
	t->cpu.gpr[X86_RBP] = 0;
	x86_cpu_state_changed(&t->cpu);
	return t;
}

static void assert_pf_rsvd(struct th *t, uint32_t err)
{
	assert_int_equal(th_run(t), X86_EXIT_HLT);
	assert_int_equal(t->cpu.gpr[X86_RCX], DATA + 0x10);
	assert_int_equal(t->cpu.gpr[X86_RBX], err);
	assert_int_equal(t->cpu.gpr[X86_RDX], 0);
}

/* The emulation-failure exit: RIP on the instruction, its 15 bytes. */
static void assert_emulation_failure(struct th *t, unsigned int len)
{
	assert_int_equal(th_run(t), X86_EXIT_INTERNAL);
	assert_int_equal(t->cpu.exit.internal.suberror, 1);
	assert_int_equal(t->cpu.rip, TH_CODE);
	assert_int_equal(t->cpu.exit.internal.insn_len, len);
	assert_memory_equal(t->cpu.exit.internal.insn, t->ram + TH_CODE, len);
}

/* Instructions KVM's emulator runs: #PF(RSVD|P), W for the store. */
static void test_emulatable_pf(void **state)
{
	static const struct {
		const uint8_t *start, *end;
		uint32_t err;
	} rows[] = {
		{ mov_load_start, mov_load_end, 0x9 },
		{ mov_store_start, mov_store_end, 0xb },
		{ movups_load_start, movups_load_end, 0x9 },
		{ fnstcw_store_start, fnstcw_store_end, 0xb },
	};
	unsigned int i;
	int cap;

	for (cap = 0; cap < 2; cap++) {
		for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
			struct th *t = mpa_new(rows[i].start, rows[i].end,
					       PTE_BIT36, cap);

			assert_pf_rsvd(t, rows[i].err);
			th_free(t);
		}
	}
}

/* Not in its repertoire: the exit, with the bytes, nothing pending. */
static void test_not_emulatable_exit(void **state)
{
	const uint8_t *rows[][2] = {
		{ flds_load_start, flds_load_end },
		{ addps_load_start, addps_load_end },
		{ crc32_load_start, crc32_load_end },
	};
	unsigned int i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct th *t = mpa_new(rows[i][0], rows[i][1], PTE_BIT36, true);

		assert_emulation_failure(t, 15);
		assert_false(t->cpu.ev.exc_pending);
		/* the VMM skips it (as emulator_error_test does): runs on */
		t->cpu.rip += (uint64_t)(rows[i][1] - rows[i][0]) - 6;
		assert_int_equal(th_run(t), X86_EXIT_HLT);
		assert_int_equal(t->cpu.gpr[X86_RDX], 1);
		th_free(t);
	}
}

/* Near the page's end the emulator fetched only up to it. */
static void test_bytes_up_to_page_end(void **state)
{
	struct th *t = mpa_new(flds_rax_start, flds_rax_end, PTE_BIT36, true);

	/* flds (%rax) in the last two bytes of the code page */
	memcpy(t->ram + TH_CODE + 0xffe, flds_rax_start, 2);
	t->ram[TH_CODE + 0x1000] = 0xf4;
	t->cpu.rip = TH_CODE + 0xffe;
	t->cpu.gpr[X86_RAX] = DATA + 0x10;
	assert_int_equal(th_run(t), X86_EXIT_INTERNAL);
	assert_int_equal(t->cpu.exit.internal.insn_len, 2);
	assert_memory_equal(t->cpu.exit.internal.insn, flds_rax_start, 2);
	th_free(t);
}

/* Without the cap, at CPL 0: the exit, and #UD delivered next. */
static void test_cap_off_cpl0(void **state)
{
	struct th *t = mpa_new(flds_load_start, flds_load_end, PTE_BIT36, false);

	assert_emulation_failure(t, 15);
	assert_true(t->cpu.ev.exc_pending);
	assert_int_equal(t->cpu.ev.exc_nr, 6);
	assert_int_equal(th_run(t), X86_EXIT_HLT);
	assert_int_equal(t->cpu.gpr[X86_RBP], 0x106);	/* #UD handler */
	th_free(t);
}

/* Without the cap, at CPL 3: #UD only, no exit. */
static void test_cap_off_cpl3(void **state)
{
	struct th *t = mpa_new(flds_load_start, flds_load_end, PTE_BIT36, false);

	th_user(t);
	assert_int_equal(th_run(t), X86_EXIT_HLT);
	assert_int_equal(t->cpu.gpr[X86_RBP], 0x106);
	assert_int_equal(t->cpu.gpr[X86_RDX], 0);
	th_free(t);
}

/* A bit the engine's own MAXPHYADDR reserves: #PF for any instruction. */
static void test_hw_reserved_bit(void **state)
{
	struct th *t = mpa_new(flds_load_start, flds_load_end, 1ull << 50, true);

	assert_pf_rsvd(t, 0x9);
	th_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_emulatable_pf),
		cmocka_unit_test(test_not_emulatable_exit),
		cmocka_unit_test(test_bytes_up_to_page_end),
		cmocka_unit_test(test_cap_off_cpl0),
		cmocka_unit_test(test_cap_off_cpl3),
		cmocka_unit_test(test_hw_reserved_bit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
