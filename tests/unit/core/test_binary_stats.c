// SPDX-License-Identifier: MIT
/*
 * Unit tests of virt/kvm/binary_stats.c: the kernel's binary layout built
 * from a stat table, live counters read with pread(), and the fd rules.
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
#include "binary_stats.h"

struct test_stat {
	uint64_t exits;
	uint64_t wait_ns;
	uint64_t hist[8];
	uint64_t peak;
};

static const struct kvm_stat_def test_defs[] = {
	KVM_STAT_COUNTER(struct test_stat, exits),
	KVM_STAT_TIME_NSEC(struct test_stat, wait_ns),
	KVM_STAT_LOGHIST_NSEC(struct test_stat, hist, 8),
	KVM_STAT_PCOUNTER(struct test_stat, peak),
};

static void test_layout_and_live_values(void **state)
{
	struct kvm_stats st;
	struct kvm_stats_header h;
	struct kvm_stats_desc *d;
	size_t dsz = sizeof(*d) + KVM_STATS_NAME_SIZE;
	char id[KVM_STATS_NAME_SIZE];
	uint8_t descs[4 * (sizeof(struct kvm_stats_desc) + KVM_STATS_NAME_SIZE)];
	uint64_t v;
	int kvm = skvm_open(O_RDWR);	/* stats fds exist once /dev/kvm is open */
	int fd, fd2;

	assert_true(kvm >= 0);
	assert_int_equal(kvm_stats_init(&st, test_defs, 4, sizeof(struct test_stat),
					"kvm-1234/vcpu-0"), 0);
	((struct test_stat *)st.data)->exits = 5;	/* counted before the fd */
	fd = kvm_stats_get_fd(&st);
	assert_true(fd >= 0);
	assert_int_equal(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);

	assert_int_equal(pread(fd, &h, sizeof(h), 0), sizeof(h));
	assert_int_equal(h.flags, 0);
	assert_int_equal(h.name_size, KVM_STATS_NAME_SIZE);
	assert_int_equal(h.num_desc, 4);
	assert_int_equal(h.id_offset, sizeof(h));
	assert_int_equal(h.desc_offset, sizeof(h) + KVM_STATS_NAME_SIZE);
	assert_int_equal(h.data_offset, h.desc_offset + 4 * dsz);
	assert_int_equal(pread(fd, id, sizeof(id), h.id_offset), sizeof(id));
	assert_string_equal(id, "kvm-1234/vcpu-0");

	assert_int_equal(pread(fd, descs, sizeof(descs), h.desc_offset), sizeof(descs));
	d = (void *)descs;
	assert_string_equal(d->name, "exits");
	assert_int_equal(d->flags, KVM_STATS_TYPE_CUMULATIVE | KVM_STATS_UNIT_NONE |
			 KVM_STATS_BASE_POW10);
	assert_int_equal(d->size, 1);
	assert_int_equal(d->offset, 0);
	d = (void *)(descs + dsz);
	assert_string_equal(d->name, "wait_ns");
	assert_int_equal(d->exponent, -9);
	assert_int_equal(d->flags & KVM_STATS_UNIT_MASK, KVM_STATS_UNIT_SECONDS);
	d = (void *)(descs + 2 * dsz);
	assert_string_equal(d->name, "hist");
	assert_int_equal(d->flags & KVM_STATS_TYPE_MASK, KVM_STATS_TYPE_LOG_HIST);
	assert_int_equal(d->size, 8);
	assert_int_equal(d->offset, 16);
	d = (void *)(descs + 3 * dsz);
	assert_int_equal(d->flags & KVM_STATS_TYPE_MASK, KVM_STATS_TYPE_PEAK);
	assert_int_equal(d->offset, 80);

	/* Counters carried over, then live. */
	assert_int_equal(pread(fd, &v, 8, h.data_offset), 8);
	assert_int_equal(v, 5);
	((struct test_stat *)st.data)->exits++;
	((struct test_stat *)st.data)->hist[3] = 42;
	assert_int_equal(pread(fd, &v, 8, h.data_offset), 8);
	assert_int_equal(v, 6);
	assert_int_equal(pread(fd, &v, 8, h.data_offset + 16 + 3 * 8), 8);
	assert_int_equal(v, 42);

	/* A second fd is another description: its own offset, same data. */
	fd2 = kvm_stats_get_fd(&st);
	assert_true(fd2 >= 0 && fd2 != fd);
	assert_int_equal(read(fd, &h, sizeof(h)), sizeof(h));
	assert_int_equal(lseek(fd2, 0, SEEK_CUR), 0);
	assert_int_equal(pread(fd2, &v, 8, h.data_offset), 8);
	assert_int_equal(v, 6);
	/* stats fds have no ioctls and no mmap */
	assert_int_equal(skvm_ioctl(fd2, KVM_GET_API_VERSION, 0), -1);
	assert_int_equal(errno, ENOTTY);
	assert_true(mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd2, 0) == MAP_FAILED);
	assert_int_equal(errno, ENODEV);
	close(fd2);
	close(fd);
	kvm_stats_destroy(&st);
	close(kvm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout_and_live_values),
	};

	return cmocka_run_group_tests_name("binary_stats", tests, NULL, NULL);
}
