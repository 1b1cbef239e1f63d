// SPDX-License-Identifier: MIT
/*
 * test_paging.c - page walks: #PF error codes and CR2 per fault kind,
 * accessed/dirty bits, 32-bit paging with 4 MiB pages, PAE, and TLB
 * invalidation by INVLPG (Intel SDM Vol. 3, chapter 4).
 */
#include <string.h>

#include "test_host.h"

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

GUEST(pf_handler, ".code64\n pop %rbx\n mov %cr2, %rcx\n hlt\n");
GUEST(pf_read, ".code64\n mov 0x240010, %rax\n mov $1, %edx\n hlt\n");
GUEST(pf_write, ".code64\n movq $5, 0x240010\n mov $1, %edx\n hlt\n");
GUEST(pf_exec, ".code64\n mov $0x240000, %eax\n call *%rax\n mov $1, %edx\n hlt\n");
GUEST(pf_stac_read, ".code64\n stac\n mov 0x240010, %rax\n clac\n mov $1, %edx\n hlt\n");

enum acc { RD, WR, EX, RD_AC };

struct pf_row {
	const char *name;
	uint64_t pte_clear, pte_set;	/* applied to the PTE of 0x240000 */
	uint64_t cr4_set;
	enum acc acc;
	bool fault;
	uint32_t err;
};

static const struct pf_row pf_rows[] = {
	{ "not_present_read", 1, 0, 0, RD, true, 0x0 },
	{ "not_present_write", 1, 0, 0, WR, true, 0x2 },
	{ "readonly_write_wp", 2, 0, 0, WR, true, 0x3 },
	{ "readonly_read_ok", 2, 0, 0, RD, false, 0 },
	{ "nx_fetch", 0, 1ull << 63, 0, EX, true, 0x11 },
	{ "rsvd_bit51", 0, 1ull << 51, 0, RD, true, 0x9 },
	{ "rsvd_write", 0, 1ull << 50, 0, WR, true, 0xb },
	{ "smep_fetch_user", 0, 0, 1u << 20, EX, true, 0x11 },
	{ "smap_read_user", 0, 0, 1u << 21, RD, true, 0x1 },
	{ "smap_read_user_ac", 0, 0, 1u << 21, RD_AC, false, 0 },
	{ "supervisor_page_read", 4, 0, 1u << 21, RD, false, 0 },
	{ "user_fetch_no_smep", 0, 0, 0, EX, false, 0 },
};

static void test_pf(void **state)
{
	const struct pf_row *r = *state;
	struct th *t = th_new();
	uint64_t *pte;

	th_long64(t);
	switch (r->acc) {
	case RD: SNIP_LOAD(t, pf_read); break;
	case WR: SNIP_LOAD(t, pf_write); break;
	case EX: SNIP_LOAD(t, pf_exec); break;
	case RD_AC: SNIP_LOAD(t, pf_stac_read); break;
	}
	th_load(t, 0x3000, pf_handler_start, pf_handler_end);
	th_idt_set(t, 14, 0x3000, true, 0, 0);
	t->ram[0x240000] = 0xc3;	/* ret, for the fetch rows */
	/* code, stack and handler pages are supervisor-only under SMEP/SMAP */
	for (uint64_t la = 0; la < 0x20000; la += 0x1000)
		*th_pte(t, la) &= ~4ull;
	pte = th_pte(t, 0x240000);
	*pte = (*pte & ~r->pte_clear) | r->pte_set;
	t->cpu.cr4 |= r->cr4_set;
	t->cpu.gpr[X86_RDX] = 0;
	x86_cpu_state_changed(&t->cpu);
	assert_int_equal(th_run(t), X86_EXIT_HLT);
	if (r->fault && t->cpu.gpr[X86_RCX] == 0)
		fail_msg("%s: no fault, rip %#llx", r->name,
			 (unsigned long long)t->cpu.rip);
	if (r->fault) {
		assert_int_equal(t->cpu.gpr[X86_RBX], r->err);
		assert_int_equal(t->cpu.gpr[X86_RCX], r->acc == EX ? 0x240000 :
				 0x240010);
		assert_int_equal(t->cpu.gpr[X86_RDX], 0);
		assert_int_equal(t->cpu.cr2, t->cpu.gpr[X86_RCX]);
	} else {
		assert_int_equal(t->cpu.gpr[X86_RDX], 1);
	}
	th_free(t);
}

/* ------------------------------------------------------------- A/D bits */

GUEST(ad_bits, ".code64\n mov 0x240000, %rax\n movq $1, 0x241000\n hlt\n");

static void test_ad_bits(void **state)
{
	struct th *t = th_new();

	th_long64(t);
	SNIP_LOAD(t, ad_bits);
	assert_int_equal(th_run(t), X86_EXIT_HLT);
	assert_int_equal(*th_pte(t, 0x240000) & 0x60, 0x20);	/* A */
	assert_int_equal(*th_pte(t, 0x241000) & 0x60, 0x60);	/* A+D */
	assert_int_equal(*th_pte(t, 0x242000) & 0x60, 0);
	assert_true(th_rd64(t, TH_PT) & 0x20);			/* PML4E.A */
	assert_true(th_rd64(t, TH_PT + 0x2008) & 0x20);		/* PDE.A */
	th_free(t);
}

/* ------------------------------------------------- INVLPG and the TLB */

GUEST(invlpg, ".code64\n mov 0x240000, %rax\n"
      "movq $0x241007, (%rdi)\n mov 0x240000, %rbx\n"
      "invlpg 0x240000\n mov 0x240000, %rcx\n hlt\n");

static void test_invlpg(void **state)
{
	struct th *t = th_new();

	th_long64(t);
	SNIP_LOAD(t, invlpg);
	th_wr64(t, 0x240000, 0xaaaa);
	th_wr64(t, 0x241000, 0xbbbb);
	t->cpu.gpr[X86_RDI] = TH_PT + 0x3000 + (0x240000 >> 12) * 8;
	assert_int_equal(th_run(t), X86_EXIT_HLT);
	assert_int_equal(t->cpu.gpr[X86_RAX], 0xaaaa);
	/* a stale translation is allowed until INVLPG ... */
	assert_int_equal(t->cpu.gpr[X86_RBX], 0xaaaa);
	/* ... and gone after it */
	assert_int_equal(t->cpu.gpr[X86_RCX], 0xbbbb);
	th_free(t);
}

/* --------------------------------------------- 32-bit paging and PAE */

GUEST(pse32, ".code32\n"
      "mov %cr4, %eax\n or $0x10, %eax\n mov %eax, %cr4\n"
      "mov $0x20000, %eax\n mov %eax, %cr3\n"
      "mov %cr0, %eax\n or $0x80000000, %eax\n mov %eax, %cr0\n"
      "movl $0x5150, 0x402000\n mov 0x2000, %ebx\n"
      "movl $0x77, 0x801008\n mov 0x1008, %ecx\n hlt\n");

static void test_pse32(void **state)
{
	struct th *t = th_new();
	uint32_t pde;

	th_prot32(t);
	SNIP_LOAD(t, pse32);
	memset(t->ram + 0x20000, 0, 0x2000);
	/* PDE0 and PDE1: 4 MiB pages onto physical 0; PDE2: a 4K table */
	pde = 0x83;
	memcpy(t->ram + 0x20000, &pde, 4);
	memcpy(t->ram + 0x20004, &pde, 4);
	pde = 0x21003;
	memcpy(t->ram + 0x20008, &pde, 4);
	pde = 0x1003;		/* PT[1] -> physical page 0x1000 */
	memcpy(t->ram + 0x21004, &pde, 4);
	assert_int_equal(th_run(t), X86_EXIT_HLT);
	assert_int_equal(t->cpu.gpr[X86_RBX], 0x5150);
	assert_int_equal(t->cpu.gpr[X86_RCX], 0x77);
	memcpy(&pde, t->ram + 0x20004, 4);
	assert_int_equal(pde & 0x60, 0x60);	/* 4 MiB page: A and D */
	memcpy(&pde, t->ram + 0x21004, 4);
	assert_int_equal(pde & 0x60, 0x60);
	th_free(t);
}

GUEST(pae32, ".code32\n"
      "mov %cr4, %eax\n or $0x20, %eax\n mov %eax, %cr4\n"
      "mov $0x20000, %eax\n mov %eax, %cr3\n"
      "mov %cr0, %eax\n or $0x80000000, %eax\n mov %eax, %cr0\n"
      "movl $0x5150, 0x40402000\n mov 0x2000, %ebx\n"
      "movl $0, 0x40600000\n hlt\n");
GUEST(pae_handler, ".code32\n pop %ebx\n mov %cr2, %ecx\n hlt\n");

static void test_pae32(void **state)
{
	struct th *t = th_new();

	th_prot32(t);
	SNIP_LOAD(t, pae32);
	th_load(t, 0x3000, pae_handler_start, pae_handler_end);
	th_idt_set(t, 14, 0x3000, false, 0, 0);
	memset(t->ram + 0x20000, 0, 0x4000);
	th_wr64(t, 0x20000, 0x21001);		/* PDPTE0: identity */
	th_wr64(t, 0x20008, 0x22001);		/* PDPTE1: 1 GiB .. */
	th_wr64(t, 0x21000, 0x83);		/* 2 MiB page at 0 */
	th_wr64(t, 0x22010, 0x83);		/* 0x40400000 -> 0 */
	assert_int_equal(th_run(t), X86_EXIT_HLT);
	assert_int_equal(t->cpu.pdptr[1] & ~0xfffull, 0x22000);
	/* the 0x40402000 write landed at physical 0x2000 ... */
	assert_int_equal(t->ram[0x2000], 0x50);
	/* ... and 0x40600000 has no PDE: #PF, write, not present */
	assert_int_equal(t->cpu.gpr[X86_RBX] & 0xffff, 0x2);
	assert_int_equal(t->cpu.gpr[X86_RCX], 0x40600000);
	th_free(t);
}

int main(void)
{
	struct CMUnitTest tests[32];
	size_t i, n = 0;

	for (i = 0; i < sizeof(pf_rows) / sizeof(pf_rows[0]); i++) {
		memset(&tests[n], 0, sizeof(tests[n]));
		tests[n].name = pf_rows[i].name;
		tests[n].test_func = test_pf;
		tests[n++].initial_state = (void *)&pf_rows[i];
	}
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_ad_bits);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_invlpg);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_pse32);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_pae32);
	return _cmocka_run_group_tests("paging", tests, n, NULL, NULL);
}
