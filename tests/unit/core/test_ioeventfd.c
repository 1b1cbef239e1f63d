// SPDX-License-Identifier: MIT
/*
 * Unit tests of KVM_IOEVENTFD (virt/kvm/eventfd.c): assignment rules with
 * KVM's errno, matching of guest writes as the architecture offers them to
 * the buses, and deassignment.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <cmocka.h>
#include <linux/kvm.h>

#include "skvm.h"
#include "iodev.h"
#include "kvm_file.h"
#include "kvm_host.h"

struct fixture {
	int kvm, vm;
	struct kvm_file *vm_file;
	struct kvm_vcpu vcpu;
};

static int setup(void **state)
{
	static struct fixture fx;

	fx.kvm = skvm_open(O_RDWR);
	fx.vm = skvm_ioctl(fx.kvm, KVM_CREATE_VM, 0);
	if (fx.vm < 0)
		return -1;
	fx.vm_file = kvm_file_get(fx.vm);
	fx.vcpu.kvm = fx.vm_file->obj;
	*state = &fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	kvm_file_put(fx->vm_file);
	close(fx->vm);
	close(fx->kvm);
	return 0;
}

static int ioeventfd(struct fixture *fx, int fd, uint64_t addr, uint32_t len,
		     uint32_t flags, uint64_t datamatch)
{
	struct kvm_ioeventfd a = {
		.datamatch = datamatch, .addr = addr, .len = len, .fd = fd,
		.flags = flags,
	};

	return skvm_ioctl(fx->vm, KVM_IOEVENTFD, &a) ? -errno : 0;
}

static uint64_t drain(int efd)
{
	uint64_t v = 0;

	if (read(efd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

static void test_assign_rules(void **state)
{
	struct fixture *fx = *state;
	int efd = eventfd(0, EFD_NONBLOCK), p[2];

	assert_int_equal(pipe(p), 0);
	/* length 0 (any length) is announced by both capabilities, as x86 KVM */
	assert_int_equal(skvm_ioctl(fx->vm, KVM_CHECK_EXTENSION,
				    KVM_CAP_IOEVENTFD_ANY_LENGTH), 1);
	assert_int_equal(skvm_ioctl(fx->vm, KVM_CHECK_EXTENSION,
				    KVM_CAP_IOEVENTFD_NO_LENGTH), 1);
	assert_int_equal(ioeventfd(fx, efd, 0x1000, 3, 0, 0), -EINVAL);
	assert_int_equal(ioeventfd(fx, efd, ~0ULL - 1, 4, 0, 0), -EINVAL);
	assert_int_equal(ioeventfd(fx, efd, 0x1000, 4, 1u << 7, 0), -EINVAL);
	assert_int_equal(ioeventfd(fx, efd, 0x1000, 0,
				   KVM_IOEVENTFD_FLAG_DATAMATCH, 1), -EINVAL);
	assert_int_equal(ioeventfd(fx, 1000, 0x1000, 4, 0, 0), -EBADF);
	assert_int_equal(ioeventfd(fx, p[0], 0x1000, 4, 0, 0), -EINVAL);
	assert_int_equal(ioeventfd(fx, efd, 0x1000, 4, 0, 0), 0);
	/* the same address and length again collides (EEXIST), as KVM */
	assert_int_equal(ioeventfd(fx, efd, 0x1000, 4, 0, 0), -EEXIST);
	assert_int_equal(ioeventfd(fx, efd, 0x1000, 0, 0, 0), -EEXIST);
	/* a different length at the same address is a different match */
	assert_int_equal(ioeventfd(fx, efd, 0x1000, 2, 0, 0), 0);
	/* deassign needs an exact match */
	assert_int_equal(ioeventfd(fx, efd, 0x1000, 8, KVM_IOEVENTFD_FLAG_DEASSIGN, 0),
			 -ENOENT);
	assert_int_equal(ioeventfd(fx, efd, 0x1000, 4, KVM_IOEVENTFD_FLAG_DEASSIGN, 0), 0);
	assert_int_equal(ioeventfd(fx, efd, 0x1000, 2, KVM_IOEVENTFD_FLAG_DEASSIGN, 0), 0);
	assert_int_equal(ioeventfd(fx, efd, 0x1000, 2, KVM_IOEVENTFD_FLAG_DEASSIGN, 0),
			 -ENOENT);
	close(p[0]);
	close(p[1]);
	close(efd);
}

struct write_row {
	const char *what;
	int bus;
	uint64_t addr;
	int len;
	uint64_t val;
	int fd_index;		/* which eventfd must count, -1: none (exit) */
};

static void test_matching(void **state)
{
	static const struct write_row rows[] = {
		{ "MMIO wildcard 4", KVM_MMIO_BUS, 0x2000, 4, 0xdead, 0 },
		{ "MMIO wrong length", KVM_MMIO_BUS, 0x2000, 2, 0xdead, -1 },
		{ "MMIO other address", KVM_MMIO_BUS, 0x2004, 4, 0xdead, -1 },
		{ "datamatch hit", KVM_MMIO_BUS, 0x3000, 8, 0x1122334455667788ULL, 1 },
		{ "datamatch miss", KVM_MMIO_BUS, 0x3000, 8, 0x1122334455667789ULL, -1 },
		{ "any length, 1 byte", KVM_MMIO_BUS, 0x4000, 1, 5, 2 },
		{ "any length, 8 bytes", KVM_MMIO_BUS, 0x4000, 8, 5, 2 },
		{ "PIO datamatch 2", KVM_PIO_BUS, 0xcf8, 2, 0x1234, 3 },
		{ "PIO datamatch miss", KVM_PIO_BUS, 0xcf8, 2, 0x1235, -1 },
		{ "PIO not on MMIO", KVM_MMIO_BUS, 0xcf8, 2, 0x1234, -1 },
	};
	struct fixture *fx = *state;
	int efd[4];

	for (int i = 0; i < 4; i++)
		efd[i] = eventfd(0, EFD_NONBLOCK);
	assert_int_equal(ioeventfd(fx, efd[0], 0x2000, 4, 0, 0), 0);
	assert_int_equal(ioeventfd(fx, efd[1], 0x3000, 8, KVM_IOEVENTFD_FLAG_DATAMATCH,
				   0x1122334455667788ULL), 0);
	assert_int_equal(ioeventfd(fx, efd[2], 0x4000, 0, 0, 0), 0);
	assert_int_equal(ioeventfd(fx, efd[3], 0xcf8, 2, KVM_IOEVENTFD_FLAG_DATAMATCH |
				   KVM_IOEVENTFD_FLAG_PIO, 0x1234), 0);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct write_row *r = &rows[i];
		int got = kvm_io_bus_write(&fx->vcpu, r->bus, r->addr, r->len, &r->val);

		if (got != (r->fd_index < 0 ? -EOPNOTSUPP : 0))
			fail_msg("%s: bus returned %d", r->what, got);
		for (int k = 0; k < 4; k++) {
			uint64_t want = k == r->fd_index, n = drain(efd[k]);

			if (n != want)
				fail_msg("%s: eventfd %d counted %llu", r->what, k,
					 (unsigned long long)n);
		}
	}
	/* After deassignment the write exits again. */
	assert_int_equal(ioeventfd(fx, efd[0], 0x2000, 4, KVM_IOEVENTFD_FLAG_DEASSIGN, 0), 0);
	assert_int_equal(kvm_io_bus_write(&fx->vcpu, KVM_MMIO_BUS, 0x2000, 4, &rows[0].val),
			 -EOPNOTSUPP);
	/* A dup of the eventfd is the same eventfd for deassignment. */
	{
		int d = dup(efd[2]);

		assert_int_equal(ioeventfd(fx, d, 0x4000, 0, KVM_IOEVENTFD_FLAG_DEASSIGN, 0), 0);
		close(d);
	}
	for (int i = 0; i < 4; i++)
		close(efd[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_assign_rules),
		cmocka_unit_test(test_matching),
	};

	return cmocka_run_group_tests_name("ioeventfd", tests, setup, teardown);
}
