// SPDX-License-Identifier: MIT
/*
 * Unit tests of virt/kvm/coalesced_mmio.c and iodev.c: zones registered
 * through the VM ioctls, writes offered to the buses as the architecture
 * offers them before exiting, and the ring as the VMM sees it in a vCPU
 * mapping.
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
#include "iodev.h"
#include "kvm_file.h"
#include "kvm_host.h"

struct fixture {
	int kvm, vm, vcpu_fd;
	struct kvm_file *vm_file;
	struct kvm_vcpu vcpu;		/* stands for a vCPU making accesses */
	struct kvm_coalesced_mmio_ring *ring;	/* the VMM's view */
};

static int setup(void **state)
{
	static struct fixture fx;

	memset(&fx, 0, sizeof(fx));
	fx.kvm = skvm_open(O_RDWR);
	fx.vm = skvm_ioctl(fx.kvm, KVM_CREATE_VM, 0);
	fx.vcpu_fd = skvm_ioctl(fx.vm, KVM_CREATE_VCPU, 0);
	if (fx.kvm < 0 || fx.vm < 0 || fx.vcpu_fd < 0)
		return -1;
	fx.vm_file = kvm_file_get(fx.vm);
	fx.vcpu.kvm = fx.vm_file->obj;
	fx.ring = (void *)((uint8_t *)mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE,
					    MAP_SHARED, fx.vcpu_fd, 0) +
			   KVM_COALESCED_MMIO_PAGE_OFFSET * 4096);
	*state = &fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	munmap((uint8_t *)fx->ring - KVM_COALESCED_MMIO_PAGE_OFFSET * 4096,
	       3 * 4096);
	kvm_file_put(fx->vm_file);
	close(fx->vcpu_fd);
	close(fx->vm);
	close(fx->kvm);
	return 0;
}

static int zone(struct fixture *fx, unsigned long req, uint64_t addr,
		uint32_t size, uint32_t pio)
{
	struct kvm_coalesced_mmio_zone z = { .addr = addr, .size = size, .pio = pio };

	return skvm_ioctl(fx->vm, req, &z);
}

static void test_caps(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(skvm_ioctl(fx->kvm, KVM_CHECK_EXTENSION,
				    KVM_CAP_COALESCED_MMIO),
			 KVM_COALESCED_MMIO_PAGE_OFFSET);
	assert_int_equal(skvm_ioctl(fx->vm, KVM_CHECK_EXTENSION,
				    KVM_CAP_COALESCED_PIO), 1);
}

struct access_row {
	const char *what;
	int bus;
	uint64_t addr;
	int len;
	bool write;
	int want;		/* 0 served, -EOPNOTSUPP exits */
};

static void test_zone_matching(void **state)
{
	static const struct access_row rows[] = {
		{ "write inside", KVM_MMIO_BUS, 0x1010, 4, true, 0 },
		{ "write at start", KVM_MMIO_BUS, 0x1000, 8, true, 0 },
		{ "write last byte", KVM_MMIO_BUS, 0x10ff, 1, true, 0 },
		{ "write crossing the end", KVM_MMIO_BUS, 0x10fe, 4, true, -EOPNOTSUPP },
		{ "write before", KVM_MMIO_BUS, 0x0ffc, 4, true, -EOPNOTSUPP },
		{ "read inside still exits", KVM_MMIO_BUS, 0x1010, 4, false, -EOPNOTSUPP },
		{ "PIO zone on the PIO bus", KVM_PIO_BUS, 0x3f8, 1, true, 0 },
		{ "PIO zone not on MMIO", KVM_MMIO_BUS, 0x3f8, 1, true, -EOPNOTSUPP },
		{ "MMIO zone not on PIO", KVM_PIO_BUS, 0x1010, 1, true, -EOPNOTSUPP },
	};
	struct fixture *fx = *state;
	uint64_t data = 0x1122334455667788ULL;

	assert_int_equal(zone(fx, KVM_REGISTER_COALESCED_MMIO, 0x1000, 0x100, 0), 0);
	assert_int_equal(zone(fx, KVM_REGISTER_COALESCED_MMIO, 0x3f8, 8, 1), 0);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct access_row *r = &rows[i];
		uint64_t v = data;
		int got = r->write ?
			kvm_io_bus_write(&fx->vcpu, r->bus, r->addr, r->len, &v) :
			kvm_io_bus_read(&fx->vcpu, r->bus, r->addr, r->len, &v);

		if (got != r->want)
			fail_msg("%s: got %d want %d", r->what, got, r->want);
	}
	/* The served writes are in the ring, in order, as the VMM sees it. */
	assert_int_equal(fx->ring->first, 0);
	assert_int_equal(fx->ring->last, 4);
	assert_int_equal(fx->ring->coalesced_mmio[0].phys_addr, 0x1010);
	assert_int_equal(fx->ring->coalesced_mmio[0].len, 4);
	assert_int_equal(fx->ring->coalesced_mmio[0].pio, 0);
	assert_memory_equal(fx->ring->coalesced_mmio[0].data, &data, 4);
	assert_int_equal(fx->ring->coalesced_mmio[1].len, 8);
	assert_int_equal(fx->ring->coalesced_mmio[3].phys_addr, 0x3f8);
	assert_int_equal(fx->ring->coalesced_mmio[3].pio, 1);
	fx->ring->first = fx->ring->last;	/* the VMM drained it */

	/* Unregistering a range inside the zone removes the zone. */
	assert_int_equal(zone(fx, KVM_UNREGISTER_COALESCED_MMIO, 0x1010, 4, 0), 0);
	assert_int_equal(kvm_io_bus_write(&fx->vcpu, KVM_MMIO_BUS, 0x1010, 4, &data),
			 -EOPNOTSUPP);
	assert_int_equal(zone(fx, KVM_UNREGISTER_COALESCED_MMIO, 0x3f8, 8, 1), 0);
}

static void test_ring_full_exits(void **state)
{
	struct fixture *fx = *state;
	uint32_t v = 7, start = fx->ring->last;
	unsigned int room = KVM_COALESCED_MMIO_MAX - 1;

	assert_int_equal(zone(fx, KVM_REGISTER_COALESCED_MMIO, 0x2000, 0x1000, 0), 0);
	for (unsigned int i = 0; i < room; i++)
		assert_int_equal(kvm_io_bus_write(&fx->vcpu, KVM_MMIO_BUS,
						  0x2000 + i, 1, &v), 0);
	/* Full: the write must exit rather than be lost. */
	assert_int_equal(kvm_io_bus_write(&fx->vcpu, KVM_MMIO_BUS, 0x2000, 1, &v),
			 -EOPNOTSUPP);
	assert_int_equal(fx->ring->last, (start + room) % KVM_COALESCED_MMIO_MAX);
	/* The VMM consumes one entry: room for exactly one more. */
	fx->ring->first = (fx->ring->first + 1) % KVM_COALESCED_MMIO_MAX;
	assert_int_equal(kvm_io_bus_write(&fx->vcpu, KVM_MMIO_BUS, 0x2000, 1, &v), 0);
	assert_int_equal(kvm_io_bus_write(&fx->vcpu, KVM_MMIO_BUS, 0x2000, 1, &v),
			 -EOPNOTSUPP);
	fx->ring->first = fx->ring->last;
	assert_int_equal(zone(fx, KVM_UNREGISTER_COALESCED_MMIO, 0x2000, 0x1000, 0), 0);
}

static void test_bad_zone(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(zone(fx, KVM_REGISTER_COALESCED_MMIO, 0x1000, 16, 2), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(skvm_ioctl(fx->vm, KVM_REGISTER_COALESCED_MMIO, (void *)8), -1);
	assert_int_equal(errno, EFAULT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_zone_matching),
		cmocka_unit_test(test_ring_full_exits),
		cmocka_unit_test(test_bad_zone),
	};

	return cmocka_run_group_tests_name("coalesced_mmio", tests, setup, teardown);
}
