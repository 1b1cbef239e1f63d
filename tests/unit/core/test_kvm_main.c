// SPDX-License-Identifier: MIT
/*
 * Unit tests of virt/kvm/kvm_main.c and kvm_file.c through the direct API:
 * system ioctls, capabilities, memslot validation (one row per case, with
 * KVM's errno), vCPU creation, and object lifetimes.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <linux/kvm.h>

#include "skvm.h"
#include "kvm_file.h"
#include "kvm_host.h"

#define MB (1UL << 20)

static int sys_fd(void)
{
	int fd = skvm_open(O_RDWR | O_CLOEXEC);

	assert_true(fd >= 0);
	return fd;
}

static int new_vm(int kvm)
{
	int vm = skvm_ioctl(kvm, KVM_CREATE_VM, 0);

	assert_true(vm >= 0);
	return vm;
}

/* Releases happen on the watcher thread: wait a little for them. */
static int wait_live_vms(int want)
{
	for (int i = 0; i < 4000 && kvm_nr_live_vms() != want; i++)
		usleep(5000);
	return kvm_nr_live_vms();
}

static void test_api_version(void **state)
{
	int kvm = sys_fd();

	assert_int_equal(skvm_ioctl(kvm, KVM_GET_API_VERSION, 0), 12);
	assert_int_equal(skvm_ioctl(kvm, KVM_GET_API_VERSION, 1), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(skvm_ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0), 3 * 4096);
	close(kvm);
}

static void test_create_vm_types(void **state)
{
	int kvm = sys_fd();
	int vm = skvm_ioctl(kvm, KVM_CREATE_VM, 0);

	assert_true(vm >= 0);
	assert_int_equal(fcntl(vm, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	assert_int_equal(skvm_ioctl(kvm, KVM_CREATE_VM, 99), -1);
	assert_int_equal(errno, EINVAL);
	close(vm);
	close(kvm);
}

struct cap_row {
	long cap;
	int want;	/* -1: just nonzero */
};

static void test_check_extension(void **state)
{
	static const struct cap_row rows[] = {
		{ KVM_CAP_USER_MEMORY, 1 },
		{ KVM_CAP_NR_MEMSLOTS, KVM_USER_MEM_SLOTS },
		{ KVM_CAP_MULTI_ADDRESS_SPACE, 2 },
		{ KVM_CAP_MAX_VCPUS, KVM_MAX_VCPUS },
		{ KVM_CAP_MAX_VCPU_ID, KVM_MAX_VCPU_IDS },
		{ KVM_CAP_NR_VCPUS, -1 },
		{ KVM_CAP_CHECK_EXTENSION_VM, 1 },
		{ KVM_CAP_IMMEDIATE_EXIT, 1 },
		{ KVM_CAP_USER_MEMORY2, 1 },
		{ 100000, 0 },
		{ -1, 0 },
	};
	int kvm = sys_fd(), vm = new_vm(kvm);

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int a = skvm_ioctl(kvm, KVM_CHECK_EXTENSION, rows[i].cap);
		int b = skvm_ioctl(vm, KVM_CHECK_EXTENSION, rows[i].cap);

		if (rows[i].want < 0)
			assert_true(a > 0);
		else
			assert_int_equal(a, rows[i].want);
		assert_int_equal(a, b);
	}
	close(vm);
	close(kvm);
}

struct slot_row {
	const char *what;
	uint32_t slot, flags;
	uint64_t gpa, size;
	int64_t hva_off;	/* offset into the test buffer; or absolute */
	bool hva_abs;
	int err;		/* 0: success */
};

/*
 * Run in order on one VM; hva offsets are into a 16 MiB buffer.  Each row
 * documents the rule of Documentation/virt/kvm/api.rst 4.35 it checks.
 */
static const struct slot_row slot_rows[] = {
	{ "create slot 0", 0, 0, 0, 1 * MB, 0, false, 0 },
	{ "identical again is a no-op", 0, 0, 0, 1 * MB, 0, false, 0 },
	{ "overlap with slot 0", 1, 0, 0x80000, 1 * MB, 2 * MB, false, EEXIST },
	{ "create slot 1", 1, 0, 2 * MB, 1 * MB, 2 * MB, false, 0 },
	{ "unaligned size", 2, 0, 8 * MB, 4096 + 1, 4 * MB, false, EINVAL },
	{ "unaligned gpa", 2, 0, 8 * MB + 512, 4096, 4 * MB, false, EINVAL },
	{ "unaligned hva", 2, 0, 8 * MB, 4096, 4 * MB + 8, false, EINVAL },
	{ "kernel hva", 2, 0, 8 * MB, 4096, (int64_t)0xffff800000000000ULL, true, EINVAL },
	{ "unknown flag", 2, 1u << 7, 8 * MB, 4096, 4 * MB, false, EINVAL },
	{ "slot id too big", KVM_USER_MEM_SLOTS, 0, 8 * MB, 4096, 4 * MB, false, EINVAL },
	{ "address space 2", (2u << 16) | 2, 0, 8 * MB, 4096, 4 * MB, false, EINVAL },
	{ "gpa wraps", 2, 0, 0xfffffffffffff000ULL, 2 * 4096, 4 * MB, false, EINVAL },
	{ "resize slot 1", 1, 0, 2 * MB, 2 * MB, 2 * MB, false, EINVAL },
	{ "change hva of slot 1", 1, 0, 2 * MB, 1 * MB, 3 * MB, false, EINVAL },
	{ "make slot 1 read-only", 1, KVM_MEM_READONLY, 2 * MB, 1 * MB, 2 * MB, false, EINVAL },
	{ "move slot 1 onto slot 0", 1, 0, 0, 1 * MB, 2 * MB, false, EEXIST },
	{ "move slot 1", 1, 0, 4 * MB, 1 * MB, 2 * MB, false, 0 },
	{ "log dirty pages on slot 1", 1, KVM_MEM_LOG_DIRTY_PAGES, 4 * MB, 1 * MB, 2 * MB, false, 0 },
	{ "delete missing slot 5", 5, 0, 0, 0, 0, false, EINVAL },
	{ "delete slot 1", 1, 0, 0, 0, 0, false, 0 },
	{ "delete slot 1 again", 1, 0, 0, 0, 0, false, EINVAL },
	{ "same range in address space 1", (1u << 16) | 0, 0, 0, 1 * MB, 0, false, 0 },
	{ "read-only slot", 3, KVM_MEM_READONLY, 16 * MB, 1 * MB, 8 * MB, false, 0 },
	{ "zero-size create", 4, 0, 32 * MB, 0, 8 * MB, false, EINVAL },
};

static void test_memslot_table(void **state)
{
	int kvm = sys_fd(), vm = new_vm(kvm);
	size_t len = 16 * MB;
	uint8_t *buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(buf != MAP_FAILED);
	for (size_t i = 0; i < sizeof(slot_rows) / sizeof(slot_rows[0]); i++) {
		const struct slot_row *r = &slot_rows[i];
		struct kvm_userspace_memory_region m = {
			.slot = r->slot, .flags = r->flags,
			.guest_phys_addr = r->gpa, .memory_size = r->size,
			.userspace_addr = r->hva_abs ? (uint64_t)r->hva_off :
				(uint64_t)(uintptr_t)(buf + r->hva_off),
		};
		int ret = skvm_ioctl(vm, KVM_SET_USER_MEMORY_REGION, &m);

		if (r->err) {
			if (ret != -1 || errno != r->err)
				fail_msg("%s: ret %d errno %d, want errno %d",
					 r->what, ret, errno, r->err);
		} else if (ret != 0) {
			fail_msg("%s: ret %d errno %d", r->what, ret, errno);
		}
	}
	munmap(buf, len);
	close(vm);
	close(kvm);
}

static void test_memslot_region2(void **state)
{
	int kvm = sys_fd(), vm = new_vm(kvm);
	void *buf = mmap(NULL, MB, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct kvm_userspace_memory_region2 m = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = MB,
		.userspace_addr = (uint64_t)(uintptr_t)buf,
	};

	assert_int_equal(skvm_ioctl(vm, KVM_SET_USER_MEMORY_REGION2, &m), 0);
	m.slot = 1;
	assert_int_equal(skvm_ioctl(vm, KVM_SET_USER_MEMORY_REGION2, &m), -1);
	assert_int_equal(errno, EEXIST);
	/* guest_memfd slots are not offered: the flag is unknown */
	m.guest_phys_addr = 4 * MB;
	m.flags = KVM_MEM_GUEST_MEMFD;
	assert_int_equal(skvm_ioctl(vm, KVM_SET_USER_MEMORY_REGION2, &m), -1);
	assert_int_equal(errno, EINVAL);
	munmap(buf, MB);
	close(vm);
	close(kvm);
}

/* --- Many slots: the two copies of the array, the id index ------------- */

#define MANY_SLOTS 3000

static int set_slot(int vm, uint32_t slot, uint64_t gpa, uint64_t size,
		    void *hva, uint32_t flags)
{
	struct kvm_userspace_memory_region m = {
		.slot = slot, .flags = flags, .guest_phys_addr = gpa,
		.memory_size = size, .userspace_addr = (uint64_t)(uintptr_t)hva,
	};

	return skvm_ioctl(vm, KVM_SET_USER_MEMORY_REGION, &m) ? -errno : 0;
}

/*
 * The published array and its twin hold the same slots, sorted, and every
 * slot is found by gfn and by id.  gpa_of[id] is the slot's gpa, or -1.
 */
static void check_slots(struct kvm *k, const int64_t *gpa_of, int nids)
{
	struct kvm_memslots *a = k->memslots[0];
	struct kvm_memslots *b = a == &k->memslots_pair[0][0] ?
				 &k->memslots_pair[0][1] : &k->memslots_pair[0][0];
	int live = 0;

	assert_int_equal(a->nr, b->nr);
	for (int i = 0; i < a->nr; i++) {
		assert_ptr_equal(a->slots[i], b->slots[i]);
		if (i)
			assert_true(a->slots[i - 1]->base_gfn + a->slots[i - 1]->npages <=
				    a->slots[i]->base_gfn);
	}
	for (int id = 0; id < nids; id++) {
		struct kvm_memory_slot *s = kvm_memslot_by_id(k, 0, id);

		if (gpa_of[id] < 0) {
			assert_null(s);
			continue;
		}
		live++;
		assert_non_null(s);
		assert_int_equal(s->id, id);
		assert_int_equal(s->base_gfn, (uint64_t)gpa_of[id] >> 12);
		assert_ptr_equal(kvm_memslots_find(a, s->base_gfn), s);
		assert_ptr_equal(kvm_memslots_find(a, s->base_gfn + s->npages - 1), s);
	}
	assert_int_equal(a->nr, live);
}

static void shuffle(int *v, int n)
{
	for (int i = n - 1; i > 0; i--) {
		int j = rand() % (i + 1), t = v[i];

		v[i] = v[j];
		v[j] = t;
	}
}

static void test_memslot_many(void **state)
{
	int kvm = sys_fd(), vm = new_vm(kvm);
	size_t len = MANY_SLOTS * 2 * 4096UL;
	uint8_t *buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	static int64_t gpa_of[MANY_SLOTS];
	static int order[MANY_SLOTS];
	struct kvm_file *f = kvm_file_get(vm);
	struct kvm *k = f->obj;

	assert_true(buf != MAP_FAILED);
	srand(7);
	for (int i = 0; i < MANY_SLOTS; i++) {
		order[i] = i;
		gpa_of[i] = -1;
	}
	/* 2-page slots with 2-page holes, created in random order */
	shuffle(order, MANY_SLOTS);
	for (int i = 0; i < MANY_SLOTS; i++) {
		int id = order[i];

		gpa_of[id] = (int64_t)id * 4 * 4096;
		assert_int_equal(set_slot(vm, id, gpa_of[id], 2 * 4096,
					  buf + id * 2 * 4096UL, 0), 0);
	}
	check_slots(k, gpa_of, MANY_SLOTS);
	assert_null(kvm_memslots_find(k->memslots[0], 2));	/* a hole */
	/* overlaps: one page into the next slot, and over a whole slot */
	assert_int_equal(set_slot(vm, 5000, 4096, 2 * 4096, buf, 0), -EEXIST);
	assert_int_equal(set_slot(vm, 5000, 2 * 4096, 8 * 4096, buf, 0), -EEXIST);
	assert_int_equal(set_slot(vm, 5000, 2 * 4096, 2 * 4096, buf, 0), 0);
	assert_int_equal(set_slot(vm, 5000, 0, 0, NULL, 0), 0);
	/* moves: a slot may overlap only itself */
	assert_int_equal(set_slot(vm, 10, 11 * 4 * 4096, 2 * 4096,
				  buf + 10 * 2 * 4096UL, 0), -EEXIST);
	assert_int_equal(set_slot(vm, 10, 10 * 4 * 4096 + 4096, 2 * 4096,
				  buf + 10 * 2 * 4096UL, 0), 0);
	gpa_of[10] += 4096;
	shuffle(order, MANY_SLOTS);
	for (int i = 0; i < MANY_SLOTS / 2; i++) {
		int id = order[i];

		gpa_of[id] = (int64_t)(MANY_SLOTS + id) * 4 * 4096;
		assert_int_equal(set_slot(vm, id, gpa_of[id], 2 * 4096,
					  buf + id * 2 * 4096UL,
					  i % 3 ? 0 : KVM_MEM_LOG_DIRTY_PAGES), 0);
	}
	check_slots(k, gpa_of, MANY_SLOTS);
	/* a flags change keeps the slot where it is */
	assert_int_equal(set_slot(vm, order[0], gpa_of[order[0]], 2 * 4096,
				  buf + order[0] * 2 * 4096UL, 0), 0);
	assert_null(kvm_memslot_by_id(k, 0, order[0])->dirty_bitmap);
	check_slots(k, gpa_of, MANY_SLOTS);
	shuffle(order, MANY_SLOTS);
	for (int i = 0; i < MANY_SLOTS; i++) {
		int id = order[i];

		assert_int_equal(set_slot(vm, id, 0, 0, NULL, 0), 0);
		gpa_of[id] = -1;
		if (i == MANY_SLOTS / 2)
			check_slots(k, gpa_of, MANY_SLOTS);
	}
	check_slots(k, gpa_of, MANY_SLOTS);
	assert_int_equal(set_slot(vm, 1, 0, 0, NULL, 0), -EINVAL);
	kvm_file_put(f);
	munmap(buf, len);
	close(vm);
	close(kvm);
}

/*
 * A vCPU that never leaves the guest does not hold memslot updates,
 * dirty-log harvests, bus changes (ioeventfds), GSI routing or MSR filter
 * updates up: they kick it out for their grace period.  The guest spins
 * in real mode at the reset vector until a byte of its ROM becomes
 * non-zero, then exits with an OUT.
 */
struct spin_vcpu {
	int fd;
	struct kvm_run *run;
	int ret;
};

static void *spin_vcpu_run(void *arg)
{
	struct spin_vcpu *v = arg;

	v->ret = skvm_ioctl(v->fd, KVM_RUN, 0);
	return NULL;
}

static void test_memslot_update_while_guest_spins(void **state)
{
	static const uint8_t spin[] = {
		0x2e, 0x80, 0x3e, 0x00, 0xf0, 0x00,	/* cmp byte cs:[0xf000], 0 */
		0x74, 0xf8,				/* je back to the cmp */
		0xe6, 0x80,				/* out 0x80, al */
	};
	struct {
		struct kvm_irq_routing h;
		struct kvm_irq_routing_entry e[1];
	} routing = {
		.h.nr = 1,
		.e[0] = { .gsi = 1, .type = KVM_IRQ_ROUTING_IRQCHIP,
			  .u.irqchip = { .irqchip = KVM_IRQCHIP_IOAPIC, .pin = 1 } },
	};
	struct kvm_msr_filter filter = { .flags = KVM_MSR_FILTER_DEFAULT_ALLOW };
	struct kvm_ioeventfd ioev = { .addr = 0x1234, .len = 1 };
	int kvm = sys_fd(), vm = new_vm(kvm);
	uint8_t *rom = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	uint8_t *ram = mmap(NULL, MB, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t bitmap[4];
	struct kvm_dirty_log log = { .slot = 1, .dirty_bitmap = bitmap };
	struct spin_vcpu v;
	pthread_t t;
	long size;

	assert_true(rom != MAP_FAILED && ram != MAP_FAILED);
	memcpy(rom + 0xfff0, spin, sizeof(spin));
	assert_int_equal(set_slot(vm, 0, 0xffff0000, 0x10000, rom, 0), 0);
	assert_int_equal(set_slot(vm, 1, 0, MB, ram, KVM_MEM_LOG_DIRTY_PAGES), 0);
	assert_int_equal(skvm_ioctl(vm, KVM_CREATE_IRQCHIP, 0), 0);
	ioev.fd = eventfd(0, EFD_CLOEXEC);
	assert_true(ioev.fd >= 0);
	v.fd = skvm_ioctl(vm, KVM_CREATE_VCPU, 0);
	assert_true(v.fd >= 0);
	size = skvm_ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	v.run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, v.fd, 0);
	assert_true(v.run != MAP_FAILED);
	assert_int_equal(pthread_create(&t, NULL, spin_vcpu_run, &v), 0);
	usleep(20000);
	for (int i = 0; i < 200; i++) {
		assert_int_equal(set_slot(vm, 2, 4 * MB, MB, ram, 0), 0);
		assert_int_equal(set_slot(vm, 2, 8 * MB, MB, ram, 0), 0);
		assert_int_equal(set_slot(vm, 2, 0, 0, NULL, 0), 0);
		assert_int_equal(skvm_ioctl(vm, KVM_GET_DIRTY_LOG, &log), 0);
	}
	for (int i = 0; i < 20; i++) {
		ioev.flags = 0;
		assert_int_equal(skvm_ioctl(vm, KVM_IOEVENTFD, &ioev), 0);
		ioev.flags = KVM_IOEVENTFD_FLAG_DEASSIGN;
		assert_int_equal(skvm_ioctl(vm, KVM_IOEVENTFD, &ioev), 0);
		assert_int_equal(skvm_ioctl(vm, KVM_SET_GSI_ROUTING, &routing), 0);
		assert_int_equal(skvm_ioctl(vm, KVM_X86_SET_MSR_FILTER, &filter), 0);
	}
	__atomic_store_n(&rom[0xf000], 1, __ATOMIC_RELEASE);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(v.ret, 0);
	assert_int_equal(v.run->exit_reason, KVM_EXIT_IO);
	assert_int_equal(v.run->io.port, 0x80);
	close(ioev.fd);
	munmap(v.run, size);
	close(v.fd);
	munmap(rom, 0x10000);
	munmap(ram, MB);
	close(vm);
	close(kvm);
}

static void test_bad_pointers(void **state)
{
	int kvm = sys_fd(), vm = new_vm(kvm);

	assert_int_equal(skvm_ioctl(vm, KVM_SET_USER_MEMORY_REGION, (void *)8), -1);
	assert_int_equal(errno, EFAULT);
	assert_int_equal(skvm_ioctl(vm, KVM_ENABLE_CAP, (void *)-4096L), -1);
	assert_int_equal(errno, EFAULT);
	close(vm);
	close(kvm);
}

static void test_dirty_log_basic(void **state)
{
	int kvm = sys_fd(), vm = new_vm(kvm);
	void *buf = mmap(NULL, MB, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct kvm_userspace_memory_region m = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = MB,
		.userspace_addr = (uint64_t)(uintptr_t)buf,
	};
	uint64_t bitmap[4];
	struct kvm_dirty_log log = { .slot = 0, .dirty_bitmap = bitmap };
	uint8_t byte = 1;

	assert_int_equal(skvm_ioctl(vm, KVM_SET_USER_MEMORY_REGION, &m), 0);
	assert_int_equal(skvm_ioctl(vm, KVM_GET_DIRTY_LOG, &log), -1);
	assert_int_equal(errno, ENOENT);
	m.flags = KVM_MEM_LOG_DIRTY_PAGES;
	assert_int_equal(skvm_ioctl(vm, KVM_SET_USER_MEMORY_REGION, &m), 0);
	/* no vCPU needed: skvm's own writes on the guest's behalf are logged */
	{
		struct kvm_file *f = kvm_file_get(vm);
		struct kvm *k = f->obj;

		assert_int_equal(kvm_write_guest(k, 0, 5 * 4096 + 10, &byte, 1), 0);
		assert_int_equal(kvm_write_guest(k, 0, 200 * 4096, &byte, 1), 0);
		assert_int_equal(kvm_write_guest(k, 0, 2 * MB, &byte, 1), -EFAULT);
		kvm_file_put(f);
	}
	memset(bitmap, 0, sizeof(bitmap));
	assert_int_equal(skvm_ioctl(vm, KVM_GET_DIRTY_LOG, &log), 0);
	assert_int_equal(bitmap[0], 1ULL << 5);
	assert_int_equal(bitmap[3], 1ULL << (200 - 192));
	assert_int_equal(bitmap[1] | bitmap[2], 0);
	/* harvested: the next get is clean */
	assert_int_equal(skvm_ioctl(vm, KVM_GET_DIRTY_LOG, &log), 0);
	assert_int_equal(bitmap[0] | bitmap[1] | bitmap[2] | bitmap[3], 0);
	log.dirty_bitmap = (void *)16;
	assert_int_equal(skvm_ioctl(vm, KVM_GET_DIRTY_LOG, &log), -1);
	assert_int_equal(errno, EFAULT);
	munmap(buf, MB);
	close(vm);
	close(kvm);
}

static void test_create_vcpu(void **state)
{
	int kvm = sys_fd(), vm = new_vm(kvm);
	int v0 = skvm_ioctl(vm, KVM_CREATE_VCPU, 0);

	assert_true(v0 >= 0);
	assert_int_equal(fcntl(v0, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	assert_int_equal(skvm_ioctl(vm, KVM_CREATE_VCPU, 0), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(skvm_ioctl(vm, KVM_CREATE_VCPU, KVM_MAX_VCPU_IDS), -1);
	assert_int_equal(errno, EINVAL);
	close(v0);
	close(vm);
	close(kvm);
}

/*
 * The kernel takes the command as an unsigned int, so a command that a
 * program kept in an int and libc sign-extended to a long still works:
 * one _IOR/_IOWR command per kind of fd.
 */
static unsigned long sign_extended(unsigned int cmd)
{
	return (unsigned long)(long)(int)cmd;
}

static void test_sign_extended_command(void **state)
{
	int kvm = sys_fd(), vm = new_vm(kvm), vcpu;
	struct kvm_irq_level irq = { .irq = 4, .level = 1 };
	struct kvm_regs regs;
	struct {
		struct kvm_msr_list l;
		uint32_t idx[1024];
	} msrs = { .l.nmsrs = 1024 };

	assert_true(sign_extended(KVM_GET_MSR_INDEX_LIST) >> 32);
	assert_int_equal(skvm_ioctl(kvm, sign_extended(KVM_GET_MSR_INDEX_LIST),
				    &msrs), 0);
	assert_true(msrs.l.nmsrs > 0);
	assert_int_equal(skvm_ioctl(vm, KVM_CREATE_IRQCHIP, 0), 0);
	assert_int_equal(skvm_ioctl(vm, sign_extended(KVM_IRQ_LINE_STATUS),
				    &irq), 0);
	vcpu = skvm_ioctl(vm, KVM_CREATE_VCPU, 0);
	assert_true(vcpu >= 0);
	memset(&regs, 0xff, sizeof(regs));
	assert_int_equal(skvm_ioctl(vcpu, sign_extended(KVM_GET_REGS), &regs),
			 0);
	assert_int_equal(regs.rip, 0xfff0);
	/* Bits above 31 never select another command. */
	assert_int_equal(skvm_ioctl(kvm, KVM_GET_API_VERSION | (1UL << 40), 0),
			 12);
	close(vcpu);
	close(vm);
	close(kvm);
}

static void test_max_vcpu_id_cap(void **state)
{
	int kvm = sys_fd(), vm = new_vm(kvm);
	struct kvm_enable_cap cap = { .cap = KVM_CAP_MAX_VCPU_ID };

	cap.args[0] = KVM_MAX_VCPU_IDS + 1;
	assert_int_equal(skvm_ioctl(vm, KVM_ENABLE_CAP, &cap), -1);
	assert_int_equal(errno, EINVAL);
	cap.args[0] = 8;
	assert_int_equal(skvm_ioctl(vm, KVM_ENABLE_CAP, &cap), 0);
	assert_int_equal(skvm_ioctl(vm, KVM_ENABLE_CAP, &cap), 0);
	cap.args[0] = 9;
	assert_int_equal(skvm_ioctl(vm, KVM_ENABLE_CAP, &cap), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(skvm_ioctl(vm, KVM_CREATE_VCPU, 8), -1);
	assert_int_equal(errno, EINVAL);
	close(vm);
	close(kvm);
}

static void test_lifetime_vm_and_vcpu(void **state)
{
	int kvm = sys_fd(), base = wait_live_vms(0);
	int vm = new_vm(kvm), vcpu, dupfd;
	void *run;

	assert_int_equal(base, 0);
	assert_int_equal(kvm_nr_live_vms(), 1);
	vcpu = skvm_ioctl(vm, KVM_CREATE_VCPU, 0);
	assert_true(vcpu >= 0);
	/* The VM lives while a vCPU fd is open. */
	close(vm);
	usleep(20000);
	assert_int_equal(wait_live_vms(1), 1);
	/* ... and while a mapping of the vCPU file remains. */
	run = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	assert_true(run != MAP_FAILED);
	dupfd = fcntl(vcpu, F_DUPFD_CLOEXEC, 100);
	assert_true(dupfd >= 100);
	close(vcpu);
	usleep(20000);
	assert_int_equal(kvm_nr_live_vms(), 1);
	close(dupfd);
	usleep(20000);
	assert_int_equal(kvm_nr_live_vms(), 1);
	munmap(run, 4096);
	assert_int_equal(wait_live_vms(0), 0);
	assert_int_equal(fcntl(vcpu, F_GETFD), -1);
	assert_int_equal(errno, EBADF);
	close(kvm);
}

static void test_dup_keeps_vm(void **state)
{
	int kvm = sys_fd(), vm = new_vm(kvm);
	int d = dup(vm), d2 = dup2(vm, 200), d3 = dup3(vm, 201, O_CLOEXEC);

	assert_true(d >= 0 && d2 == 200 && d3 == 201);
	close(vm);
	assert_true(skvm_ioctl(d, KVM_CREATE_VCPU, 3) >= 0);
	assert_int_equal(skvm_ioctl(d2, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY), 1);
	close(d);
	close(d2);
	close(d3);
	close(kvm);
}

static void test_fork_eio(void **state)
{
	int kvm = sys_fd(), vm = new_vm(kvm), vcpu, status;
	pid_t pid;

	vcpu = skvm_ioctl(vm, KVM_CREATE_VCPU, 0);
	assert_true(vcpu >= 0);
	pid = fork();
	if (pid == 0) {
		int ok = 1;

		ok &= skvm_ioctl(vm, KVM_CREATE_VCPU, 1) == -1 && errno == EIO;
		ok &= skvm_ioctl(vcpu, KVM_RUN, 0) == -1 && errno == EIO;
		ok &= skvm_ioctl(kvm, KVM_GET_API_VERSION, 0) == 12;
		_exit(ok ? 0 : 1);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	close(vcpu);
	close(vm);
	close(kvm);
}

static void test_mmap_rules(void **state)
{
	int kvm = sys_fd(), vm = new_vm(kvm);
	void *p;

	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, vm, 0);
	assert_true(p == MAP_FAILED);
	assert_int_equal(errno, ENODEV);
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, kvm, 0);
	assert_true(p == MAP_FAILED);
	assert_int_equal(errno, ENODEV);
	close(vm);
	close(kvm);
}

static void test_not_ours(void **state)
{
	int p[2];

	assert_int_equal(pipe(p), 0);
	assert_int_equal(skvm_ioctl(p[0], KVM_GET_API_VERSION, 0), -1);
	assert_int_equal(errno, ENOTTY);
	assert_false(skvm_is_skvm_fd(p[0]));
	close(p[0]);
	close(p[1]);
	assert_int_equal(skvm_ioctl(p[0], KVM_GET_API_VERSION, 0), -1);
	assert_int_equal(errno, EBADF);
}

/*
 * Releasing a VM whose PIT ticks every 200 us into an unmasked PIC: the
 * timer stops before the vCPUs are freed, so no tick reaches a freed
 * vCPU (the sanitizer builds report one that does).
 */
static void test_release_with_pit_ticking(void **state)
{
	for (int i = 0; i < 20; i++) {
		int kvm = sys_fd(), vm = new_vm(kvm), vcpu;
		struct kvm_pit_config pc = { 0 };
		struct kvm_irqchip chip = { .chip_id = KVM_IRQCHIP_PIC_MASTER };
		struct kvm_pit_state2 ps;

		assert_int_equal(skvm_ioctl(vm, KVM_CREATE_IRQCHIP, 0), 0);
		assert_int_equal(skvm_ioctl(vm, KVM_CREATE_PIT2, &pc), 0);
		vcpu = skvm_ioctl(vm, KVM_CREATE_VCPU, 0);
		assert_true(vcpu >= 0);
		assert_int_equal(skvm_ioctl(vm, KVM_GET_IRQCHIP, &chip), 0);
		chip.chip.pic.imr = 0;
		assert_int_equal(skvm_ioctl(vm, KVM_SET_IRQCHIP, &chip), 0);
		assert_int_equal(skvm_ioctl(vm, KVM_GET_PIT2, &ps), 0);
		ps.channels[0].mode = 2;
		ps.channels[0].count = 239;
		assert_int_equal(skvm_ioctl(vm, KVM_SET_PIT2, &ps), 0);
		usleep(2000);
		close(vcpu);
		close(vm);
		close(kvm);
		assert_int_equal(wait_live_vms(0), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_api_version),
		cmocka_unit_test(test_release_with_pit_ticking),
		cmocka_unit_test(test_create_vm_types),
		cmocka_unit_test(test_check_extension),
		cmocka_unit_test(test_memslot_table),
		cmocka_unit_test(test_memslot_region2),
		cmocka_unit_test(test_memslot_many),
		cmocka_unit_test(test_memslot_update_while_guest_spins),
		cmocka_unit_test(test_bad_pointers),
		cmocka_unit_test(test_dirty_log_basic),
		cmocka_unit_test(test_create_vcpu),
		cmocka_unit_test(test_max_vcpu_id_cap),
		cmocka_unit_test(test_sign_extended_command),
		cmocka_unit_test(test_lifetime_vm_and_vcpu),
		cmocka_unit_test(test_dup_keeps_vm),
		cmocka_unit_test(test_fork_eio),
		cmocka_unit_test(test_mmap_rules),
		cmocka_unit_test(test_not_ours),
	};

	return cmocka_run_group_tests_name("kvm_main", tests, NULL, NULL);
}
