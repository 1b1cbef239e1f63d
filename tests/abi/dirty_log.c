// SPDX-License-Identifier: MIT
/*
 * dirty_log - KVM_MEM_LOG_DIRTY_PAGES, KVM_GET_DIRTY_LOG and, with
 * KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, KVM_CLEAR_DIRTY_LOG.
 *
 * The guest of vm_touch_pages() writes (or reads) one byte in each page
 * of a list, in the logged slots above RAM.  After each run the transcript shows the
 * pages each slot's bitmap holds, so it records which accesses dirty a
 * page, that GET_DIRTY_LOG clears (or, in manual mode, keeps) the bitmap,
 * KVM_DIRTY_LOG_INITIALLY_SET, what CLEAR_DIRTY_LOG clears and re-arms,
 * and the errno of bad slots, ranges and alignments.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "abi.h"

#define MEM_SIZE	0x10000
#define SLOT1_GPA	0x100000	/* 128 pages */
#define SLOT1_PAGES	128
#define SLOT2_GPA	0x200000	/* 100 pages */
#define SLOT2_PAGES	100
#define READ		TOUCH_READ

static uint8_t *slot_mem[3];

static long set_slot(struct vm *v, uint32_t slot, uint32_t flags,
		     uint64_t gpa, uint64_t pages)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot, .flags = flags, .guest_phys_addr = gpa,
		.memory_size = pages * 4096,
		.userspace_addr = (uintptr_t)slot_mem[slot],
	};

	return ioctl(v->fd, KVM_SET_USER_MEMORY_REGION, &r);
}

static void make_slots(struct vm *v, uint32_t flags2)
{
	if (!slot_mem[1]) {
		slot_mem[1] = mmap(NULL, SLOT1_PAGES * 4096,
				   PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		slot_mem[2] = mmap(NULL, SLOT2_PAGES * 4096,
				   PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		die_unless(slot_mem[1] != MAP_FAILED &&
			   slot_mem[2] != MAP_FAILED, "mmap slots");
	}
	chk("slot 1: 128 pages, KVM_MEM_LOG_DIRTY_PAGES",
	    set_slot(v, 1, KVM_MEM_LOG_DIRTY_PAGES, SLOT1_GPA, SLOT1_PAGES));
	tr("slot 2: 100 pages, flags %x -> %ld", flags2,
	   set_slot(v, 2, flags2, SLOT2_GPA, SLOT2_PAGES));
}

/* vm_touch, expecting the guest to reach its HLT. */
#define touch(v, ...)							\
	do {								\
		if (vm_touch(v, __VA_ARGS__) == 0 &&			\
		    (v)->run->exit_reason != KVM_EXIT_HLT)		\
			tr("unexpected exit");				\
	} while (0)

/* Print the set bits of a bitmap as ranges. */
static void print_bits(const char *what, const uint64_t *bm, unsigned int n)
{
	char line[512];
	size_t o = 0;
	unsigned int i, j;

	line[0] = '\0';
	for (i = 0; i < n; i++) {
		if (!(bm[i / 64] >> (i % 64) & 1))
			continue;
		for (j = i; j + 1 < n && bm[(j + 1) / 64] >> ((j + 1) % 64) & 1; j++)
			;
		if (j == i)
			o += snprintf(line + o, sizeof(line) - o, " %u", i);
		else
			o += snprintf(line + o, sizeof(line) - o, " %u-%u", i, j);
		i = j;
	}
	tr("  %s dirty:%s", what, o ? line : " none");
}

static void get_log(struct vm *v, uint32_t slot, unsigned int pages)
{
	uint64_t bm[4];
	struct kvm_dirty_log log = { .slot = slot, .dirty_bitmap = bm };
	char what[64];

	memset(bm, 0xee, sizeof(bm));
	snprintf(what, sizeof(what), "KVM_GET_DIRTY_LOG slot 0x%x", slot);
	if (chk(what, ioctl(v->fd, KVM_GET_DIRTY_LOG, &log)) == 0)
		print_bits("bitmap", bm, pages);
}

static long clear_log(struct vm *v, uint32_t slot, uint64_t first,
		      uint32_t num, uint64_t bits0)
{
	uint64_t bm[4] = { bits0, ~0ull, ~0ull, ~0ull };
	struct kvm_clear_dirty_log c = {
		.slot = slot, .num_pages = num, .first_page = first,
		.dirty_bitmap = bm,
	};
	char what[96];

	snprintf(what, sizeof(what),
		 "KVM_CLEAR_DIRTY_LOG slot 0x%x first %llu num %u bits0 %llx",
		 slot, (unsigned long long)first, num,
		 (unsigned long long)bits0);
	return chk(what, ioctl(v->fd, KVM_CLEAR_DIRTY_LOG, &c));
}

static long enable_manual(struct vm *v, uint32_t flags, uint64_t arg)
{
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, .flags = flags,
		.args = { arg },
	};

	return ioctl(v->fd, KVM_ENABLE_CAP, &cap);
}

static void bitmap_mode(void)
{
	struct kvm_dirty_log log = { .slot = 1, .dirty_bitmap = (void *)8 };
	struct vm v;

	tr("# KVM_GET_DIRTY_LOG without manual protection");
	vm_create(&v, MEM_SIZE);
	make_slots(&v, 0);
	get_log(&v, 0, 16);		/* not logged */
	get_log(&v, 2, SLOT2_PAGES);	/* not logged */
	get_log(&v, 9, 16);		/* no such slot */
	/*
	 * Not asked: address space 1 (SMM).  6.1 always has it on x86
	 * (ENOENT for a slot there); the reference device is built without
	 * SMM (KVM_CAP_MULTI_ADDRESS_SPACE 0) and answers EINVAL.
	 */
	get_log(&v, 2 << 16 | 1, 16);	/* no such address space */
	get_log(&v, 0x7fff, 16);	/* slot id out of range */
	chk("KVM_GET_DIRTY_LOG bad bitmap pointer",
	    ioctl(v.fd, KVM_GET_DIRTY_LOG, &log));
	chk("KVM_GET_DIRTY_LOG bad argument pointer",
	    ioctl(v.fd, KVM_GET_DIRTY_LOG, (void *)8));
	get_log(&v, 1, SLOT1_PAGES);

	touch(&v, 5, 0, 3, 64, 127, READ | 5);
	get_log(&v, 1, SLOT1_PAGES);
	get_log(&v, 1, SLOT1_PAGES);
	touch(&v, 4, 3, 3, 70, READ | 64);
	get_log(&v, 1, SLOT1_PAGES);
	touch(&v, 2, 256, 300);		/* slot 2 is not logged */
	get_log(&v, 1, SLOT1_PAGES);

	tr("# CLEAR_DIRTY_LOG without the capability enabled");
	touch(&v, 2, 1, 2);
	clear_log(&v, 1, 0, 64, 0x2);
	get_log(&v, 1, SLOT1_PAGES);

	tr("# logging off and on again");
	touch(&v, 1, 9);
	chk("slot 1 flags 0", set_slot(&v, 1, 0, SLOT1_GPA, SLOT1_PAGES));
	get_log(&v, 1, SLOT1_PAGES);
	chk("slot 1 KVM_MEM_LOG_DIRTY_PAGES",
	    set_slot(&v, 1, KVM_MEM_LOG_DIRTY_PAGES, SLOT1_GPA, SLOT1_PAGES));
	get_log(&v, 1, SLOT1_PAGES);
	touch(&v, 1, 10);
	get_log(&v, 1, SLOT1_PAGES);
	vm_destroy(&v);
}

static void manual_mode(uint64_t caps)
{
	struct kvm_clear_dirty_log c = { .slot = 1, .num_pages = 64,
					 .dirty_bitmap = (void *)8 };
	struct vm v;

	tr("# KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 = %llx",
	   (unsigned long long)caps);
	vm_create(&v, MEM_SIZE);
	chk("enable caps", enable_manual(&v, 0, caps));
	make_slots(&v, KVM_MEM_LOG_DIRTY_PAGES);
	get_log(&v, 1, SLOT1_PAGES);
	get_log(&v, 1, SLOT1_PAGES);
	clear_log(&v, 1, 0, 64, ~0ull);
	get_log(&v, 1, SLOT1_PAGES);
	touch(&v, 3, 3, 100, READ | 4);
	get_log(&v, 1, SLOT1_PAGES);
	clear_log(&v, 1, 0, 64, 1ull << 3);
	get_log(&v, 1, SLOT1_PAGES);
	touch(&v, 2, 3, 5);
	get_log(&v, 1, SLOT1_PAGES);
	clear_log(&v, 1, 64, 64, 0xf);
	get_log(&v, 1, SLOT1_PAGES);

	tr("# ranges and alignment");
	clear_log(&v, 1, 1, 64, ~0ull);
	clear_log(&v, 1, 32, 32, ~0ull);
	clear_log(&v, 1, 0, 63, ~0ull);
	clear_log(&v, 1, 0, 65, ~0ull);
	clear_log(&v, 1, 64, 128, ~0ull);
	clear_log(&v, 1, 128, 0, ~0ull);
	clear_log(&v, 1, 192, 0, ~0ull);
	clear_log(&v, 1, 0, 0, ~0ull);
	clear_log(&v, 1, 1ull << 40, 64, ~0ull);
	clear_log(&v, 1, 0, 128, ~0ull);
	get_log(&v, 1, SLOT1_PAGES);
	tr("# slot 2 is 100 pages: a range to its end need not be 64-page long");
	get_log(&v, 2, SLOT2_PAGES);
	clear_log(&v, 2, 64, 32, ~0ull);
	clear_log(&v, 2, 64, 36, ~0ull);
	clear_log(&v, 2, 64, 37, ~0ull);
	clear_log(&v, 2, 0, 64, ~0ull);
	get_log(&v, 2, SLOT2_PAGES);
	touch(&v, 2, 256 + 99, 256 + 1);
	get_log(&v, 2, SLOT2_PAGES);
	tr("# bad slots and pointers");
	clear_log(&v, 0, 0, 16, ~0ull);
	clear_log(&v, 9, 0, 64, ~0ull);
	clear_log(&v, 2 << 16 | 1, 0, 64, ~0ull);
	clear_log(&v, 0x7fff, 0, 64, ~0ull);
	chk("KVM_CLEAR_DIRTY_LOG bad bitmap pointer",
	    ioctl(v.fd, KVM_CLEAR_DIRTY_LOG, &c));
	chk("KVM_CLEAR_DIRTY_LOG bad argument pointer",
	    ioctl(v.fd, KVM_CLEAR_DIRTY_LOG, (void *)8));
	vm_destroy(&v);
}

int main(void)
{
	struct vm v;
	long caps;

	vm_create(&v, MEM_SIZE);
	caps = chk("KVM_CHECK_EXTENSION KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2",
		   ioctl(v.fd, KVM_CHECK_EXTENSION,
			 KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2));
	chk("enable flags=1", enable_manual(&v, 1, 1));
	chk("enable args 4", enable_manual(&v, 0, 4));
	chk("enable args 0", enable_manual(&v, 0, 0));
	chk("enable args 2 (INITIALLY_SET alone)", enable_manual(&v, 0, 2));
	chk("enable args 1", enable_manual(&v, 0, 1));
	chk("enable args 1 again", enable_manual(&v, 0, 1));
	vm_destroy(&v);

	bitmap_mode();
	manual_mode(KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE);
	manual_mode(caps);
	return 0;
}
