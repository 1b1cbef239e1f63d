// SPDX-License-Identifier: MIT
/*
 * test_alu.c - the host CPU is the reference: each row's instruction
 * bytes run natively (copied to an executable page) and in the engine
 * with the same inputs, and the results and arithmetic flags (including
 * the undefined ones) must match.
 */
#include <string.h>
#include <sys/mman.h>

#include "test_host.h"

/* body runs with RAX=a RBX=b RCX=c and flags f; result in RAX, RBX */
#define OP(name, code) GUEST(alu_##name, ".code64\n" code "\n")

OP(add8, "add %bl, %al");
OP(add16, "add %bx, %ax");
OP(add32, "add %ebx, %eax");
OP(add64, "add %rbx, %rax");
OP(adc64, "adc %rbx, %rax");
OP(adc8, "adc %bl, %al");
OP(sub32, "sub %ebx, %eax");
OP(sbb16, "sbb %bx, %ax");
OP(sbb64, "sbb %rbx, %rax");
OP(cmp8, "cmp %bl, %al");
OP(and64, "and %rbx, %rax");
OP(or32, "or %ebx, %eax");
OP(xor16, "xor %bx, %ax");
OP(test8, "test %bl, %al");
OP(neg32, "neg %eax");
OP(inc8, "inc %al");
OP(dec64, "dec %rax");
OP(not16, "not %ax");
OP(shl8, "shl %cl, %al");
OP(shl32, "shl %cl, %eax");
OP(shr16, "shr %cl, %ax");
OP(shr64, "shr %cl, %rax");
OP(sar32, "sar %cl, %eax");
OP(sar8, "sar %cl, %al");
OP(rol16, "rol %cl, %ax");
OP(ror64, "ror %cl, %rax");
OP(rcl8, "rcl %cl, %al");
OP(rcr16, "rcr %cl, %ax");
OP(rcl32, "rcl %cl, %eax");
OP(shl1, "shl $1, %eax");
OP(shld32, "shld %cl, %ebx, %eax");
OP(shrd16, "shrd %cl, %bx, %ax");
OP(shrd64, "shrd %cl, %rbx, %rax");
OP(mul8, "mul %bl");
OP(mul64, "mul %rbx\n mov %rdx, %rbx");
OP(imul32, "imul %ebx\n mov %edx, %ebx");
OP(imul2, "imul %rbx, %rax");
OP(imul3, "imul $-7, %ebx, %eax");
OP(bsf32, "bsf %ebx, %eax");
OP(bsr64, "bsr %rbx, %rax");
OP(popcnt64, "popcnt %rbx, %rax");
OP(lzcnt32, "lzcnt %ebx, %eax");
OP(tzcnt16, "tzcnt %bx, %ax");
OP(bt64, "bt %rcx, %rax");
OP(bts32, "bts %ecx, %eax");
OP(btr16, "btr %cx, %ax");
OP(btc64, "btc $37, %rax");
OP(andn, "andn %rbx, %rcx, %rax");
OP(bextr, "bextr %ecx, %ebx, %eax");
OP(blsr, "blsr %rbx, %rax");
OP(blsi, "blsi %ebx, %eax");
OP(blsmsk, "blsmsk %rbx, %rax");
OP(bzhi, "bzhi %rcx, %rbx, %rax");
OP(pdep, "pdep %rcx, %rbx, %rax");
OP(pext, "pext %ecx, %ebx, %eax");
OP(sarx, "sarx %rcx, %rbx, %rax");
OP(rorx, "rorx $13, %rbx, %rax");
OP(mulx, "mov %rcx, %rdx\n mulx %rbx, %rbx, %rax");
OP(adcx, "adcx %rbx, %rax");
OP(adox, "adox %rbx, %rax");
OP(xadd32, "xadd %ebx, %eax");
OP(cmpxchg64, "cmpxchg %rcx, %rbx");
OP(bswap32, "bswap %eax");
OP(movsx, "movsbq %bl, %rax");
OP(movsxd, "movslq %ebx, %rax");
OP(movzx, "movzwl %bx, %eax");
OP(cqo, "cqo\n mov %rdx, %rbx");
OP(cwde, "cwde");
OP(setcc, "setl %al\n setbe %bl");
OP(cmov, "cmovg %rcx, %rax\n cmovs %rcx, %rbx");
OP(lahf, "lahf");
OP(sahf, "mov %bl, %ah\n sahf");
OP(cmc, "cmc");

struct alu_row {
	const char *name;
	const uint8_t *start, *end;
};

#define ROW(n) { #n, alu_##n##_start, alu_##n##_end }
static const struct alu_row rows[] = {
	ROW(add8), ROW(add16), ROW(add32), ROW(add64), ROW(adc64), ROW(adc8),
	ROW(sub32), ROW(sbb16), ROW(sbb64), ROW(cmp8), ROW(and64), ROW(or32),
	ROW(xor16), ROW(test8), ROW(neg32), ROW(inc8), ROW(dec64), ROW(not16),
	ROW(shl8), ROW(shl32), ROW(shr16), ROW(shr64), ROW(sar32), ROW(sar8),
	ROW(rol16), ROW(ror64), ROW(rcl8), ROW(rcr16), ROW(rcl32), ROW(shl1),
	ROW(shld32), ROW(shrd16), ROW(shrd64), ROW(mul8), ROW(mul64),
	ROW(imul32), ROW(imul2), ROW(imul3), ROW(bsf32), ROW(bsr64),
	ROW(popcnt64), ROW(lzcnt32), ROW(tzcnt16), ROW(bt64), ROW(bts32),
	ROW(btr16), ROW(btc64), ROW(andn), ROW(bextr), ROW(blsr), ROW(blsi),
	ROW(blsmsk), ROW(bzhi), ROW(pdep), ROW(pext), ROW(sarx), ROW(rorx),
	ROW(mulx), ROW(adcx), ROW(adox), ROW(xadd32), ROW(cmpxchg64),
	ROW(bswap32), ROW(movsx), ROW(movsxd), ROW(movzx), ROW(cqo),
	ROW(cwde), ROW(setcc), ROW(cmov), ROW(lahf), ROW(sahf), ROW(cmc),
};

static const uint64_t vals[] = {
	0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff,
	0x80000000, 0xffffffff, 0x7fffffffffffffffull, 0x8000000000000000ull,
	~0ull, 0x123456789abcdef0ull, 0xf0f0f0f00f0f0f0full, 37, 63, 64, 65,
	0x1f, 0x21,
};
#define NV (sizeof(vals) / sizeof(vals[0]))

struct res {
	uint64_t rax, rbx, fl;
};

typedef void (*native_fn)(void);

/* Run body natively: pushfq/pop %rdx/ret appended. */
static struct res native(uint8_t *page, uint64_t a, uint64_t b, uint64_t c,
			 uint64_t f)
{
	struct res r;
	uint64_t rdx = 0;

	__asm__ volatile(
		"lea -128(%%rsp), %%rsp\n"
		"push %[f]\n popfq\n"
		"call *%[p]\n"
		"lea 128(%%rsp), %%rsp\n"
		: "+a"(a), "+b"(b), "+c"(c), "=d"(rdx)
		: [p] "r"(page), [f] "r"(f)
		: "cc", "memory");
	r.rax = a;
	r.rbx = b;
	r.fl = rdx;
	return r;
}

static void test_alu_row(void **state)
{
	const struct alu_row *row = *state;
	size_t len = (size_t)(row->end - row->start);
	static const uint8_t tail_native[] = { 0x9c, 0x5a, 0xc3 };
	static const uint8_t tail_guest[] = { 0x9c, 0x5a, 0xf4 };
	uint8_t *page;
	struct th *t = th_new();
	struct res n;
	size_t i, j, k;
	uint64_t f;

	page = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(page != MAP_FAILED);
	memcpy(page, row->start, len);
	memcpy(page + len, tail_native, sizeof(tail_native));
	th_long64(t);
	memcpy(t->ram + TH_CODE, row->start, len);
	memcpy(t->ram + TH_CODE + len, tail_guest, sizeof(tail_guest));
	for (i = 0; i < NV; i++) {
		for (j = 0; j < NV; j += (i % 3) + 1) {
			for (k = 0; k < 2; k++) {
				uint64_t a = vals[i], b = vals[j];
				uint64_t c = vals[(i + j) % NV];

				f = 0x202 | (k ? 0x8d5 : 0);
				n = native(page, a, b, c, f);
				t->cpu.rip = TH_CODE;
				t->cpu.gpr[X86_RAX] = a;
				t->cpu.gpr[X86_RBX] = b;
				t->cpu.gpr[X86_RCX] = c;
				t->cpu.gpr[X86_RSP] = TH_STACK;
				t->cpu.rflags = f;
				t->cpu.halted = false;
				assert_int_equal(th_run(t), X86_EXIT_HLT);
				if (t->cpu.gpr[X86_RAX] != n.rax ||
				    t->cpu.gpr[X86_RBX] != n.rbx ||
				    (t->cpu.gpr[X86_RDX] & 0x8d5) !=
				    (n.fl & 0x8d5))
					fail_msg("%s a=%#llx b=%#llx c=%#llx f=%#llx:"
						 " rax %#llx/%#llx rbx %#llx/%#llx"
						 " fl %#llx/%#llx", row->name,
						 (unsigned long long)a,
						 (unsigned long long)b,
						 (unsigned long long)c,
						 (unsigned long long)f,
						 (unsigned long long)t->cpu.gpr[X86_RAX],
						 (unsigned long long)n.rax,
						 (unsigned long long)t->cpu.gpr[X86_RBX],
						 (unsigned long long)n.rbx,
						 (unsigned long long)t->cpu.gpr[X86_RDX],
						 (unsigned long long)n.fl);
			}
		}
	}
	munmap(page, 4096);
	th_free(t);
}

int main(void)
{
	struct CMUnitTest tests[sizeof(rows) / sizeof(rows[0])];
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		memset(&tests[i], 0, sizeof(tests[i]));
		tests[i].name = rows[i].name;
		tests[i].test_func = test_alu_row;
		tests[i].initial_state = (void *)&rows[i];
	}
	return _cmocka_run_group_tests("alu", tests, i, NULL, NULL);
}
