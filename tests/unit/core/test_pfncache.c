// SPDX-License-Identifier: MIT
/*
 * Unit tests of virt/kvm/pfncache.c: activation rules, invalidation by
 * memslot changes, dirty logging, and a writer that keeps writing through
 * the cache while another thread moves, deletes and re-creates the slot
 * and unmaps the memory it leaves behind (a stale pointer would crash or
 * write into the wrong buffer).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <urcu-bp.h>
#include <cmocka.h>
#include <linux/kvm.h>

#include "skvm.h"
#include "kvm_file.h"
#include "pfncache.h"

#define SLOT_SIZE (64 * 1024)
#define GPA 0x100000
#define OFF 0x2340

static int set_slot(int vm, uint32_t flags, uint64_t gpa, void *hva, uint64_t size)
{
	struct kvm_userspace_memory_region m = {
		.slot = 0, .flags = flags, .guest_phys_addr = gpa,
		.memory_size = size, .userspace_addr = (uint64_t)(uintptr_t)hva,
	};

	return skvm_ioctl(vm, KVM_SET_USER_MEMORY_REGION, &m) ? -errno : 0;
}

/* Write v through the cache; 0, or -EFAULT when no memory backs it. */
static int gpc_write(struct gfn_to_pfn_cache *gpc, uint32_t v)
{
	rcu_read_lock();
	while (!kvm_gpc_check(gpc)) {
		rcu_read_unlock();
		if (kvm_gpc_refresh(gpc))
			return -EFAULT;
		rcu_read_lock();
	}
	memcpy(atomic_load(&gpc->khva), &v, sizeof(v));
	kvm_gpc_mark_dirty(gpc);
	rcu_read_unlock();
	return 0;
}

static void test_basic(void **state)
{
	int kvm = skvm_open(O_RDWR), vm = skvm_ioctl(kvm, KVM_CREATE_VM, 0);
	uint8_t *a = mmap(NULL, SLOT_SIZE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct kvm_file *f = kvm_file_get(vm);
	struct gfn_to_pfn_cache gpc;
	uint64_t bitmap[1] = { 0 };
	struct kvm_dirty_log log = { .slot = 0, .dirty_bitmap = bitmap };
	uint32_t v;

	kvm_gpc_init(&gpc, f->obj, 0);
	assert_int_equal(kvm_gpc_activate(&gpc, GPA + 4090, 8), -EINVAL);
	assert_int_equal(kvm_gpc_activate(&gpc, GPA + OFF, 4), -EFAULT);
	assert_int_equal(set_slot(vm, KVM_MEM_LOG_DIRTY_PAGES, GPA, a, SLOT_SIZE), 0);
	assert_int_equal(kvm_gpc_refresh(&gpc), 0);
	assert_int_equal(gpc_write(&gpc, 0x11223344), 0);
	memcpy(&v, a + OFF, 4);
	assert_int_equal(v, 0x11223344);
	assert_int_equal(skvm_ioctl(vm, KVM_GET_DIRTY_LOG, &log), 0);
	assert_int_equal(bitmap[0], 1u << (OFF >> 12));
	/* a memslot change invalidates the translation (a harvest, too) */
	assert_int_equal(gpc_write(&gpc, 4), 0);
	assert_true(kvm_gpc_check(&gpc));
	assert_int_equal(set_slot(vm, 0, GPA, a, SLOT_SIZE), 0);
	assert_false(kvm_gpc_check(&gpc));
	assert_int_equal(gpc_write(&gpc, 5), 0);
	/* the slot moves away: nothing backs the gpa any more */
	assert_int_equal(set_slot(vm, 0, 2 * GPA, a, SLOT_SIZE), 0);
	assert_int_equal(gpc_write(&gpc, 6), -EFAULT);
	memcpy(&v, a + OFF, 4);
	assert_int_equal(v, 5);
	/* read-only memory cannot be written through the cache */
	assert_int_equal(set_slot(vm, 0, 0, NULL, 0), 0);
	assert_int_equal(set_slot(vm, KVM_MEM_READONLY, GPA, a, SLOT_SIZE), 0);
	assert_int_equal(kvm_gpc_refresh(&gpc), -EFAULT);
	kvm_gpc_deactivate(&gpc);
	assert_false(kvm_gpc_check(&gpc));
	kvm_file_put(f);
	munmap(a, SLOT_SIZE);
	close(vm);
	close(kvm);
}

struct churn {
	struct gfn_to_pfn_cache *gpc;
	atomic_bool stop;
	atomic_long writes, faults;
};

static void *writer(void *arg)
{
	struct churn *c = arg;
	uint32_t n = 0;

	while (!atomic_load(&c->stop)) {
		if (gpc_write(c->gpc, ++n))
			atomic_fetch_add(&c->faults, 1);
		else
			atomic_fetch_add(&c->writes, 1);
	}
	return NULL;
}

static void test_concurrent_churn(void **state)
{
	int kvm = skvm_open(O_RDWR), vm = skvm_ioctl(kvm, KVM_CREATE_VM, 0);
	struct kvm_file *f = kvm_file_get(vm);
	struct gfn_to_pfn_cache gpc;
	struct churn c = { .gpc = &gpc };
	pthread_t t;
	time_t t0 = time(NULL);

	kvm_gpc_init(&gpc, f->obj, 0);
	assert_int_equal(kvm_gpc_activate(&gpc, GPA + OFF, 4), -EFAULT);
	assert_int_equal(pthread_create(&t, NULL, writer, &c), 0);
	/*
	 * 300 rounds, and on until the writer has seen the slot both ways:
	 * on a loaded host it may not have run at all during the first 300.
	 */
	for (int i = 0; i < 300 || !atomic_load(&c.writes) ||
			!atomic_load(&c.faults); i++) {
		assert_true(time(NULL) - t0 < 60);
		uint8_t *buf = mmap(NULL, SLOT_SIZE, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		assert_true(buf != MAP_FAILED);
		assert_int_equal(set_slot(vm, 0, GPA, buf, SLOT_SIZE), 0);
		usleep(100);
		if (i % 3 == 0) {	/* move it away and back */
			assert_int_equal(set_slot(vm, 0, 4 * GPA, buf, SLOT_SIZE), 0);
			assert_int_equal(set_slot(vm, 0, GPA, buf, SLOT_SIZE), 0);
		}
		assert_int_equal(set_slot(vm, 0, 0, NULL, 0), 0);
		/* after the delete returns, nothing may write here any more */
		munmap(buf, SLOT_SIZE);
	}
	atomic_store(&c.stop, true);
	pthread_join(t, NULL);
	assert_true(atomic_load(&c.writes) > 0);
	assert_true(atomic_load(&c.faults) > 0);
	kvm_file_put(f);
	close(vm);
	close(kvm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_concurrent_churn),
	};

	return cmocka_run_group_tests_name("pfncache", tests, NULL, NULL);
}
