// SPDX-License-Identifier: MIT
/*
 * Memslots over host memory that cannot be accessed: PROT_NONE, read-only
 * (the slot being writable), unmapped, and a memfd mapping past the file's
 * end.  A guest access there makes KVM_RUN fail with EFAULT and report the
 * page in kvm_run (KVM_EXIT_MEMORY_FAULT, as KVM_CAP_MEMORY_FAULT_INFO
 * promises), the process lives on, and once the mapping is fixed the same
 * vCPU runs on from the instruction that faulted.  Also: string I/O, page
 * table and descriptor table reads from such memory, KVM_TRANSLATE over
 * it, a KVM_SET_SIGNAL_MASK that blocks SIGSEGV, and the program's own
 * SIGSEGV handler, which still gets the faults that are not the guest's.
 *
 * (This machine's reference /dev/kvm runs every guest instruction in
 * KVM's instruction emulator, which turns such accesses into MMIO exits;
 * KVM on hardware fails the EPT/NPT fault with EFAULT, as here.  Hence a
 * unit test, not an ABI diff.)
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>
#include <linux/kvm.h>

#include "skvm.h"
#include "../cpu/test_host.h"	/* GUEST() */

#define MEM		0x10000
#define SLOT_GPA	0x20000ull
#define SLOT_SIZE	0x2000ull
#define EXIT_MEMORY_FAULT 39


/* read page 0, write page 0, read page 1 (DS = 0x2000) */
GUEST(g_access,
	".code16\n"
	"mov $0x2000, %ax\n"
	"mov %ax, %ds\n"
	"mov (0), %al\n"
	"out %al, $0x10\n"
	"movb $0x5a, (1)\n"
	"mov (0x1000), %al\n"
	"out %al, $0x11\n"
	"hlt\n");

/* REP OUTSB of 4 bytes from the slot */
GUEST(g_outs,
	".code16\n"
	"mov $0x2000, %ax\n"
	"mov %ax, %ds\n"
	"xor %si, %si\n"
	"mov $4, %cx\n"
	"mov $0x10, %dx\n"
	"rep outsb\n"
	"hlt\n");

/* LGDT from the slot's base, then a segment load reads the GDT there */
GUEST(g_gdt,
	".code16\n"
	"lgdtl (0x1f00)\n"		/* descriptor in page 0 (good RAM) */
	"mov %cr0, %eax\n"
	"or $1, %eax\n"
	"mov %eax, %cr0\n"
	"mov $0x10, %ax\n"
	"mov %ax, %ds\n"
	"hlt\n");

struct t {
	int kvm, vm, vcpu;
	struct kvm_run *run;
	uint8_t *mem;
};

static void t_open(struct t *t, const uint8_t *start, const uint8_t *end)
{
	struct kvm_userspace_memory_region m = { .memory_size = MEM };
	struct kvm_sregs s;
	struct kvm_regs r = { .rip = 0x1000, .rsp = 0x8000, .rflags = 2 };

	t->kvm = skvm_open(O_RDWR);
	assert_true(t->kvm >= 0);
	t->vm = skvm_ioctl(t->kvm, KVM_CREATE_VM, 0);
	assert_true(t->vm >= 0);
	t->mem = mmap(NULL, MEM, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(t->mem != MAP_FAILED);
	m.userspace_addr = (uint64_t)(uintptr_t)t->mem;
	assert_int_equal(skvm_ioctl(t->vm, KVM_SET_USER_MEMORY_REGION, &m), 0);
	t->vcpu = skvm_ioctl(t->vm, KVM_CREATE_VCPU, 0);
	assert_true(t->vcpu >= 0);
	t->run = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED,
		      t->vcpu, 0);
	assert_true(t->run != MAP_FAILED);
	memcpy(t->mem + 0x1000, start, (size_t)(end - start));
	assert_int_equal(skvm_ioctl(t->vcpu, KVM_GET_SREGS, &s), 0);
	s.cs.base = 0;
	s.cs.selector = 0;
	s.ds = s.es = s.ss = s.fs = s.gs = s.cs;
	s.ds.type = s.es.type = s.ss.type = s.fs.type = s.gs.type = 3;
	assert_int_equal(skvm_ioctl(t->vcpu, KVM_SET_SREGS, &s), 0);
	assert_int_equal(skvm_ioctl(t->vcpu, KVM_SET_REGS, &r), 0);
}

static void t_close(struct t *t)
{
	munmap(t->run, 3 * 4096);
	munmap(t->mem, MEM);
	close(t->vcpu);
	close(t->vm);
	close(t->kvm);
}

static void set_slot(struct t *t, void *host)
{
	struct kvm_userspace_memory_region r = {
		.slot = 1, .guest_phys_addr = SLOT_GPA, .memory_size = SLOT_SIZE,
		.userspace_addr = (uint64_t)(uintptr_t)host,
	};

	assert_int_equal(skvm_ioctl(t->vm, KVM_SET_USER_MEMORY_REGION, &r), 0);
}

static uint64_t rip(struct t *t)
{
	struct kvm_regs r;

	assert_int_equal(skvm_ioctl(t->vcpu, KVM_GET_REGS, &r), 0);
	return r.rip;
}

/* KVM_RUN expecting an OUT to port with the byte val. */
static void expect_out(struct t *t, uint16_t port, uint8_t val)
{
	assert_int_equal(skvm_ioctl(t->vcpu, KVM_RUN, 0), 0);
	assert_int_equal(t->run->exit_reason, KVM_EXIT_IO);
	assert_int_equal(t->run->io.port, port);
	assert_int_equal(((uint8_t *)t->run)[t->run->io.data_offset], val);
}

/* KVM_RUN expecting EFAULT for the page at gpa, RIP left at rip_at. */
static void expect_efault(struct t *t, uint64_t gpa, uint64_t rip_at)
{
	const uint64_t *mf = (const uint64_t *)(void *)&t->run->mmio;

	t->run->exit_reason = 0;
	assert_int_equal(skvm_ioctl(t->vcpu, KVM_RUN, 0), -1);
	assert_int_equal(errno, EFAULT);
	assert_int_equal(t->run->exit_reason, EXIT_MEMORY_FAULT);
	assert_int_equal(mf[0], 0);		/* flags */
	assert_int_equal(mf[1], gpa);
	assert_int_equal(mf[2], 4096);		/* size */
	assert_int_equal(rip(t), rip_at);
}

static void expect_hlt(struct t *t)
{
	assert_int_equal(skvm_ioctl(t->vcpu, KVM_RUN, 0), 0);
	assert_int_equal(t->run->exit_reason, KVM_EXIT_HLT);
}

/*
 * Run g_access on from the OUT of page 0 (with its value v0) or from the
 * OUT of page 1 (v0 < 0) to its HLT; then free the slot's memory.
 */
static void finish_access(struct t *t, uint8_t *m, int v0, uint8_t v1)
{
	if (v0 >= 0)
		expect_out(t, 0x10, (uint8_t)v0);
	expect_out(t, 0x11, v1);
	expect_hlt(t);
	assert_int_equal(m[1], 0x5a);
	munmap(m, SLOT_SIZE);
	t_close(t);
}

static uint8_t *map_filled(int prot)
{
	uint8_t *m = mmap(NULL, SLOT_SIZE, PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	assert_true(m != MAP_FAILED);
	memset(m, 0x11, 0x1000);
	memset(m + 0x1000, 0x22, 0x1000);
	assert_int_equal(mprotect(m, SLOT_SIZE, prot), 0);
	return m;
}

/* guest code offsets of g_access */
#define RIP_READ0	0x1005
#define RIP_WRITE0	0x100a
#define RIP_READ1	0x100f

static void test_prot_none(void **state)
{
	struct t t;
	uint8_t *m;

	t_open(&t, g_access_start, g_access_end);
	m = map_filled(PROT_NONE);
	set_slot(&t, m);
	expect_efault(&t, SLOT_GPA, RIP_READ0);
	expect_efault(&t, SLOT_GPA, RIP_READ0);	/* again: still alive */
	assert_int_equal(mprotect(m, SLOT_SIZE, PROT_READ | PROT_WRITE), 0);
	finish_access(&t, m, 0x11, 0x22);
}

static void test_read_only(void **state)
{
	struct t t;
	uint8_t *m;

	t_open(&t, g_access_start, g_access_end);
	m = map_filled(PROT_READ);
	set_slot(&t, m);
	expect_out(&t, 0x10, 0x11);		/* reads work */
	expect_efault(&t, SLOT_GPA, RIP_WRITE0);
	assert_int_equal(mprotect(m, SLOT_SIZE, PROT_READ | PROT_WRITE), 0);
	finish_access(&t, m, -1, 0x22);
}

static void test_unmapped(void **state)
{
	struct t t;
	uint8_t *m;

	t_open(&t, g_access_start, g_access_end);
	m = map_filled(PROT_READ | PROT_WRITE);
	set_slot(&t, m);
	assert_int_equal(munmap(m, SLOT_SIZE), 0);
	expect_efault(&t, SLOT_GPA, RIP_READ0);
	assert_ptr_equal(mmap(m, SLOT_SIZE, PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1, 0), m);
	m[0] = 0x33;
	m[0x1000] = 0x44;
	finish_access(&t, m, 0x33, 0x44);
}

static void test_truncated_memfd(void **state)
{
	struct t t;
	uint8_t *m;
	int fd;

	t_open(&t, g_access_start, g_access_end);
	fd = memfd_create("host_fault", 0);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 0x1000), 0);
	m = mmap(NULL, SLOT_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(m != MAP_FAILED);
	m[0] = 0x55;
	set_slot(&t, m);
	expect_out(&t, 0x10, 0x55);
	expect_efault(&t, SLOT_GPA + 0x1000, RIP_READ1);	/* SIGBUS */
	assert_int_equal(m[1], 0x5a);		/* the write went through */
	assert_int_equal(ftruncate(fd, SLOT_SIZE), 0);
	m[0x1000] = 0x66;
	close(fd);
	finish_access(&t, m, -1, 0x66);
}

/* String I/O reads its elements from the slot before the exit. */
static void test_outs(void **state)
{
	struct t t;
	uint8_t *m;

	t_open(&t, g_outs_start, g_outs_end);
	m = map_filled(PROT_NONE);
	set_slot(&t, m);
	expect_efault(&t, SLOT_GPA, 0x100d);
	assert_int_equal(mprotect(m, SLOT_SIZE, PROT_READ), 0);
	expect_out(&t, 0x10, 0x11);
	munmap(m, SLOT_SIZE);
	t_close(&t);
}

/*
 * 32-bit paging with the page directory in the slot: the walk faults;
 * with PAE, KVM_SET_SREGS's PDPTE load reads there and fails quietly.
 */
static void test_page_table(void **state)
{
	struct kvm_translation tr = { .linear_address = 0x1000 };
	struct kvm_sregs s;
	struct t t;
	uint8_t *m;

	t_open(&t, g_access_start, g_access_end);
	m = map_filled(PROT_NONE);
	set_slot(&t, m);
	assert_int_equal(skvm_ioctl(t.vcpu, KVM_GET_SREGS, &s), 0);
	s.cr3 = SLOT_GPA;
	s.cr0 |= 0x80000001;	/* PG, PE */
	s.cs.db = 0;
	assert_int_equal(skvm_ioctl(t.vcpu, KVM_SET_SREGS, &s), 0);
	/* KVM_TRANSLATE walks through it too: not valid, no crash */
	assert_int_equal(skvm_ioctl(t.vcpu, KVM_TRANSLATE, &tr), 0);
	assert_int_equal(tr.valid, 0);
	expect_efault(&t, SLOT_GPA, 0x1000);
	/* PAE: KVM_SET_SREGS reads the PDPTEs there; no crash, as KVM */
	s.cr4 |= 1u << 5;
	assert_int_equal(skvm_ioctl(t.vcpu, KVM_SET_SREGS, &s), 0);
	munmap(m, SLOT_SIZE);
	t_close(&t);
}

/* LGDT points into the slot; the segment load reads the descriptor. */
static void test_descriptor_table(void **state)
{
	struct t t;
	uint8_t *m;

	t_open(&t, g_gdt_start, g_gdt_end);
	/* GDTR image at 0x1f00: limit 0xff, base SLOT_GPA */
	t.mem[0x1f00] = 0xff;
	t.mem[0x1f01] = 0;
	memcpy(t.mem + 0x1f02, &(uint32_t){ SLOT_GPA }, 4);
	m = map_filled(PROT_NONE);
	set_slot(&t, m);
	expect_efault(&t, SLOT_GPA, 0x1013);
	munmap(m, SLOT_SIZE);
	t_close(&t);
}

/* A signal mask that blocks SIGSEGV does not make the fault fatal. */
static void test_signal_mask_blocks_segv(void **state)
{
	struct { struct kvm_signal_mask h; uint64_t bits; } sm = {
		.h.len = 8, .bits = ~0ull,
	};
	struct t t;
	uint8_t *m;

	t_open(&t, g_access_start, g_access_end);
	assert_int_equal(skvm_ioctl(t.vcpu, KVM_SET_SIGNAL_MASK, &sm), 0);
	m = map_filled(PROT_NONE);
	set_slot(&t, m);
	expect_efault(&t, SLOT_GPA, RIP_READ0);
	munmap(m, SLOT_SIZE);
	t_close(&t);
}

static sigjmp_buf own_jb;
static volatile int own_calls;

static void own_handler(int sig, siginfo_t *si, void *uc)
{
	own_calls++;
	siglongjmp(own_jb, 1);
}

/*
 * The program's SIGSEGV handler sees its own faults (outside KVM_RUN, or
 * on a page no slot names), and sigaction reports it, not the front's.
 */
static void test_program_handler_chained(void **state)
{
	struct sigaction sa, old;
	volatile uint8_t *bad;
	struct t t;
	uint8_t *m;

	t_open(&t, g_access_start, g_access_end);	/* the front is active */
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = own_handler;
	sa.sa_flags = SA_SIGINFO;
	assert_int_equal(sigaction(SIGSEGV, &sa, &old), 0);
	assert_int_equal(sigaction(SIGSEGV, NULL, &old), 0);
	assert_ptr_equal(old.sa_sigaction, own_handler);
	assert_true(old.sa_flags & SA_SIGINFO);

	m = map_filled(PROT_NONE);
	set_slot(&t, m);
	bad = m;
	own_calls = 0;
	if (!sigsetjmp(own_jb, 1))
		(void)*bad;			/* the program's own fault */
	assert_int_equal(own_calls, 1);
	expect_efault(&t, SLOT_GPA, RIP_READ0);	/* the guest's: not chained */
	assert_int_equal(own_calls, 1);
	if (!sigsetjmp(own_jb, 1))
		(void)*bad;
	assert_int_equal(own_calls, 2);

	sa.sa_handler = SIG_DFL;
	sa.sa_flags = 0;
	assert_int_equal(sigaction(SIGSEGV, &sa, NULL), 0);
	assert_int_equal(sigaction(SIGSEGV, NULL, &old), 0);
	assert_ptr_equal(old.sa_handler, SIG_DFL);
	assert_false(old.sa_flags & SA_SIGINFO);
	expect_efault(&t, SLOT_GPA, RIP_READ0);	/* still caught */
	munmap(m, SLOT_SIZE);
	t_close(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prot_none),
		cmocka_unit_test(test_read_only),
		cmocka_unit_test(test_unmapped),
		cmocka_unit_test(test_truncated_memfd),
		cmocka_unit_test(test_outs),
		cmocka_unit_test(test_page_table),
		cmocka_unit_test(test_descriptor_table),
		cmocka_unit_test(test_signal_mask_blocks_segv),
		cmocka_unit_test(test_program_handler_chained),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
