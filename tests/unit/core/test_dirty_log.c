// SPDX-License-Identifier: MIT
/*
 * Unit tests of dirty logging: KVM_CLEAR_DIRTY_LOG with manual protection,
 * and the dirty ring's enable rules, mapping rules and collect/reset
 * protocol (entries are pushed as a vCPU's writes would push them).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>
#include <linux/kvm.h>

#include "skvm.h"
#include "dirty_ring.h"
#include "kvm_file.h"
#include "kvm_host.h"

#define MB (1UL << 20)

static int enable_cap(int vm, uint32_t cap, uint64_t arg0)
{
	struct kvm_enable_cap c = { .cap = cap, .args = { arg0 } };

	return skvm_ioctl(vm, KVM_ENABLE_CAP, &c) ? -errno : 0;
}

static void test_manual_protect_and_clear(void **state)
{
	int kvm = skvm_open(O_RDWR), vm = skvm_ioctl(kvm, KVM_CREATE_VM, 0);
	void *buf = mmap(NULL, MB, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct kvm_userspace_memory_region m = {
		.slot = 0, .flags = KVM_MEM_LOG_DIRTY_PAGES,
		.memory_size = MB, .userspace_addr = (uint64_t)(uintptr_t)buf,
	};
	uint64_t bitmap[4], clear_bits[4] = { 0 };
	struct kvm_dirty_log log = { .slot = 0, .dirty_bitmap = bitmap };
	struct kvm_clear_dirty_log clr = {
		.slot = 0, .first_page = 0, .num_pages = 256,
		.dirty_bitmap = clear_bits,
	};

	assert_int_equal(skvm_ioctl(kvm, KVM_CHECK_EXTENSION,
				    KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2), 3);
	assert_int_equal(enable_cap(vm, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
				    KVM_DIRTY_LOG_INITIALLY_SET), -EINVAL);
	assert_int_equal(enable_cap(vm, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, 4), -EINVAL);
	assert_int_equal(enable_cap(vm, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
				    KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE |
				    KVM_DIRTY_LOG_INITIALLY_SET), 0);
	assert_int_equal(skvm_ioctl(vm, KVM_SET_USER_MEMORY_REGION, &m), 0);
	/* INITIALLY_SET: every page starts dirty; GET does not clear. */
	for (int pass = 0; pass < 2; pass++) {
		assert_int_equal(skvm_ioctl(vm, KVM_GET_DIRTY_LOG, &log), 0);
		for (int i = 0; i < 4; i++)
			assert_int_equal(bitmap[i], ~0ULL);
	}
	/* CLEAR the odd pages of the second word only. */
	clear_bits[1] = 0xaaaaaaaaaaaaaaaaULL;
	assert_int_equal(skvm_ioctl(vm, KVM_CLEAR_DIRTY_LOG, &clr), 0);
	assert_int_equal(skvm_ioctl(vm, KVM_GET_DIRTY_LOG, &log), 0);
	assert_int_equal(bitmap[0], ~0ULL);
	assert_int_equal(bitmap[1], 0x5555555555555555ULL);
	/* rules: first_page multiple of 64; num_pages multiple of 64 unless
	 * it reaches the end; within the slot */
	clr.first_page = 1;
	assert_int_equal(skvm_ioctl(vm, KVM_CLEAR_DIRTY_LOG, &clr), -1);
	assert_int_equal(errno, EINVAL);
	clr.first_page = 64;
	clr.num_pages = 10;
	assert_int_equal(skvm_ioctl(vm, KVM_CLEAR_DIRTY_LOG, &clr), -1);
	assert_int_equal(errno, EINVAL);
	clr.first_page = 192;
	clr.num_pages = 64;
	assert_int_equal(skvm_ioctl(vm, KVM_CLEAR_DIRTY_LOG, &clr), 0);
	clr.num_pages = 65;
	assert_int_equal(skvm_ioctl(vm, KVM_CLEAR_DIRTY_LOG, &clr), -1);
	assert_int_equal(errno, EINVAL);
	clr.slot = 3;
	clr.num_pages = 64;
	assert_int_equal(skvm_ioctl(vm, KVM_CLEAR_DIRTY_LOG, &clr), -1);
	assert_int_equal(errno, ENOENT);
	munmap(buf, MB);
	close(vm);
	close(kvm);
}

static void test_ring_enable_rules(void **state)
{
	int kvm = skvm_open(O_RDWR), vm = skvm_ioctl(kvm, KVM_CREATE_VM, 0), v;

	assert_int_equal(skvm_ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_DIRTY_LOG_RING),
			 65536 * 16);
	assert_int_equal(skvm_ioctl(vm, KVM_RESET_DIRTY_RINGS, 0), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(enable_cap(vm, KVM_CAP_DIRTY_LOG_RING, 3 * 4096), -EINVAL);
	assert_int_equal(enable_cap(vm, KVM_CAP_DIRTY_LOG_RING, 512), -EINVAL);
	assert_int_equal(enable_cap(vm, KVM_CAP_DIRTY_LOG_RING, 2 * MB), -E2BIG);
	/* KVM takes the size as a u32: this is a size of 0, not too big */
	assert_int_equal(enable_cap(vm, KVM_CAP_DIRTY_LOG_RING, 1ull << 40), -EINVAL);
	assert_int_equal(enable_cap(vm, KVM_CAP_DIRTY_LOG_RING, 4096), 0);
	assert_int_equal(enable_cap(vm, KVM_CAP_DIRTY_LOG_RING, 8192), -EINVAL);
	close(vm);
	vm = skvm_ioctl(kvm, KVM_CREATE_VM, 0);
	v = skvm_ioctl(vm, KVM_CREATE_VCPU, 0);
	assert_true(v >= 0);
	assert_int_equal(enable_cap(vm, KVM_CAP_DIRTY_LOG_RING, 4096), -EINVAL);
	close(v);
	close(vm);
	close(kvm);
}

static void test_ring_collect_reset(void **state)
{
	int kvm = skvm_open(O_RDWR), vm = skvm_ioctl(kvm, KVM_CREATE_VM, 0), vfd;
	size_t ring_bytes = 64 * 1024, n = ring_bytes / sizeof(struct kvm_dirty_gfn);
	struct kvm_dirty_log log = { 0 };
	struct kvm_dirty_gfn *ring;
	struct kvm_file *f;
	struct kvm_vcpu *vcpu;

	assert_int_equal(enable_cap(vm, KVM_CAP_DIRTY_LOG_RING_ACQ_REL, ring_bytes), 0);
	vfd = skvm_ioctl(vm, KVM_CREATE_VCPU, 0);
	assert_true(vfd >= 0);
	/* the ring refuses private and executable mappings, as KVM */
	assert_true(mmap(NULL, ring_bytes, PROT_READ, MAP_PRIVATE, vfd,
			 KVM_DIRTY_LOG_PAGE_OFFSET * 4096) == MAP_FAILED);
	assert_int_equal(errno, EINVAL);
	assert_true(mmap(NULL, ring_bytes, PROT_READ | PROT_EXEC, MAP_SHARED, vfd,
			 KVM_DIRTY_LOG_PAGE_OFFSET * 4096) == MAP_FAILED);
	assert_int_equal(errno, EINVAL);
	ring = mmap(NULL, ring_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, vfd,
		    KVM_DIRTY_LOG_PAGE_OFFSET * 4096);
	assert_true(ring != MAP_FAILED);
	/* bitmap ioctls are refused while rings are on */
	assert_int_equal(skvm_ioctl(vm, KVM_GET_DIRTY_LOG, &log), -1);
	assert_int_equal(errno, ENXIO);

	f = kvm_file_get(vfd);
	vcpu = f->obj;
	for (uint64_t i = 0; i < 10; i++)
		kvm_dirty_ring_push(vcpu, (1u << 16) | 2, 100 + i);
	assert_int_equal(ring[0].flags, KVM_DIRTY_GFN_F_DIRTY);
	assert_int_equal(ring[0].slot, (1u << 16) | 2);
	assert_int_equal(ring[9].offset, 109);
	assert_int_equal(ring[10].flags, 0);
	/* harvest 4 in order, reset: exactly those come back */
	for (int i = 0; i < 4; i++)
		ring[i].flags |= KVM_DIRTY_GFN_F_RESET;
	assert_int_equal(skvm_ioctl(vm, KVM_RESET_DIRTY_RINGS, 0), 4);
	assert_int_equal(ring[0].flags, 0);
	assert_int_equal(ring[4].flags, KVM_DIRTY_GFN_F_DIRTY);
	assert_int_equal(skvm_ioctl(vm, KVM_RESET_DIRTY_RINGS, 0), 0);
	/* soft limit: size - 64 entries in use makes the vCPU exit */
	assert_false(kvm_dirty_ring_check_exit(vcpu));
	for (uint64_t i = 10; i < n - 64 + 4; i++)
		kvm_dirty_ring_push(vcpu, 0, i);
	assert_true(atomic_load(&vcpu->kick));
	assert_true(kvm_dirty_ring_check_exit(vcpu));
	assert_int_equal(vcpu->run->exit_reason, KVM_EXIT_DIRTY_RING_FULL);
	for (size_t i = 4; i < n - 64 + 4; i++)
		ring[i % n].flags |= KVM_DIRTY_GFN_F_RESET;
	assert_int_equal(skvm_ioctl(vm, KVM_RESET_DIRTY_RINGS, 0), (int)(n - 64));
	assert_false(kvm_dirty_ring_check_exit(vcpu));
	kvm_file_put(f);
	munmap(ring, ring_bytes);
	close(vfd);
	close(vm);
	close(kvm);
}

/*
 * A flat 32-bit guest writes 8 pages per loop iteration, 1024 pages in
 * all, so a chain of blocks writes far more pages than the ring's reserve
 * of 64 entries.  The write that brings the ring to its soft limit must
 * stop the vCPU before the next page is written, as KVM exits after the
 * fault that filled the ring: every FULL exit finds exactly the soft limit
 * in use, and no page is lost.
 */
extern const unsigned char ring_guest[], ring_guest_end[];
__asm__(".pushsection .rodata\n"
	".hidden ring_guest\n.hidden ring_guest_end\n"
	".globl ring_guest\n.globl ring_guest_end\n"
	"ring_guest:\n.code32\n"
	"	mov $0x100000, %eax\n"
	"1:	movb $1, (%eax)\n"
	"	movb $1, 0x1000(%eax)\n"
	"	movb $1, 0x2000(%eax)\n"
	"	movb $1, 0x3000(%eax)\n"
	"	movb $1, 0x4000(%eax)\n"
	"	movb $1, 0x5000(%eax)\n"
	"	movb $1, 0x6000(%eax)\n"
	"	movb $1, 0x7000(%eax)\n"
	"	add $0x8000, %eax\n"
	"	cmp $0x500000, %eax\n"
	"	jne 1b\n"
	"	hlt\n"
	".code64\nring_guest_end:\n.popsection\n");

static void test_ring_soft_limit_stops_the_write(void **state)
{
	enum { RING = 4096, ENTRIES = RING / 16, PAGES = 1024 };
	int kvm = skvm_open(O_RDWR), vm = skvm_ioctl(kvm, KVM_CREATE_VM, 0), vfd;
	uint8_t *mem = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	uint8_t *logged = mmap(NULL, PAGES * 4096, PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct kvm_userspace_memory_region m0 = {
		.memory_size = 0x10000, .userspace_addr = (uintptr_t)mem,
	}, m1 = {
		.slot = 1, .flags = KVM_MEM_LOG_DIRTY_PAGES,
		.guest_phys_addr = 0x100000, .memory_size = PAGES * 4096,
		.userspace_addr = (uintptr_t)logged,
	};
	struct kvm_segment seg = { .limit = 0xffffffff, .selector = 8,
		.type = 11, .present = 1, .db = 1, .s = 1, .g = 1 };
	struct kvm_regs regs = { .rip = 0x1000, .rflags = 2 };
	static unsigned char seen[PAGES];
	unsigned int fetch = 0, fulls = 0;
	struct kvm_dirty_gfn *ring;
	struct kvm_sregs sregs;
	struct kvm_run *run;

	assert_int_equal(enable_cap(vm, KVM_CAP_DIRTY_LOG_RING, RING), 0);
	assert_int_equal(skvm_ioctl(vm, KVM_SET_USER_MEMORY_REGION, &m0), 0);
	assert_int_equal(skvm_ioctl(vm, KVM_SET_USER_MEMORY_REGION, &m1), 0);
	vfd = skvm_ioctl(vm, KVM_CREATE_VCPU, 0);
	assert_true(vfd >= 0);
	run = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, vfd, 0);
	ring = mmap(NULL, RING, PROT_READ | PROT_WRITE, MAP_SHARED, vfd,
		    KVM_DIRTY_LOG_PAGE_OFFSET * 4096);
	assert_true(run != MAP_FAILED && ring != MAP_FAILED);
	memcpy(mem + 0x1000, ring_guest, ring_guest_end - ring_guest);
	assert_int_equal(skvm_ioctl(vfd, KVM_GET_SREGS, &sregs), 0);
	sregs.cs = seg;
	seg.selector = 16;
	seg.type = 3;
	sregs.ds = sregs.es = sregs.ss = seg;
	sregs.cr0 |= 1;
	assert_int_equal(skvm_ioctl(vfd, KVM_SET_SREGS, &sregs), 0);
	assert_int_equal(skvm_ioctl(vfd, KVM_SET_REGS, &regs), 0);
	for (;;) {
		unsigned int used = 0;

		assert_int_equal(skvm_ioctl(vfd, KVM_RUN, 0), 0);
		while (ring[fetch % ENTRIES].flags & KVM_DIRTY_GFN_F_DIRTY) {
			struct kvm_dirty_gfn *e = &ring[fetch % ENTRIES];

			assert_int_equal(e->slot, 1);
			assert_true(e->offset < PAGES);
			seen[e->offset] = 1;
			e->flags = KVM_DIRTY_GFN_F_RESET;
			fetch++;
			used++;
		}
		skvm_ioctl(vm, KVM_RESET_DIRTY_RINGS, 0);
		if (run->exit_reason == KVM_EXIT_HLT)
			break;
		assert_int_equal(run->exit_reason, KVM_EXIT_DIRTY_RING_FULL);
		assert_int_equal(used, ENTRIES - 64);
		fulls++;
	}
	assert_int_equal(fulls, PAGES / (ENTRIES - 64));
	for (int i = 0; i < PAGES; i++)
		assert_int_equal(seen[i], 1);
	munmap(ring, RING);
	munmap(run, 4096);
	close(vfd);
	close(vm);
	close(kvm);
	munmap(logged, PAGES * 4096);
	munmap(mem, 0x10000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_manual_protect_and_clear),
		cmocka_unit_test(test_ring_enable_rules),
		cmocka_unit_test(test_ring_collect_reset),
		cmocka_unit_test(test_ring_soft_limit_stops_the_write),
	};

	return cmocka_run_group_tests_name("dirty_log", tests, NULL, NULL);
}
