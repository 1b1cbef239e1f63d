// SPDX-License-Identifier: MIT
/*
 * test_front_api.c - skvm_open(), skvm_ioctl() and skvm_is_skvm_fd() for
 * programs linked with libskvm.  Built twice: over the stub core, and over
 * the real one (libskvm.so).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cmocka.h>

#include "skvm.h"

static void test_open_flags(void **state)
{
	int fd;

	fd = skvm_open(O_RDWR);
	assert_true(fd >= 0);
	assert_true(skvm_is_skvm_fd(fd));
	assert_false(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);

	fd = skvm_open(O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_false(skvm_is_skvm_fd(fd + 1000));
	close(fd);
	assert_false(skvm_is_skvm_fd(fd));
}

static void test_ioctl_system(void **state)
{
	int fd = skvm_open(O_RDWR | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(skvm_ioctl(fd, KVM_GET_API_VERSION, 0), KVM_API_VERSION);
	assert_int_equal(skvm_ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY), 1);
	errno = 0;
	assert_int_equal(skvm_ioctl(fd, _IO(KVMIO, 0xff), 0), -1);
	assert_int_equal(errno, EINVAL);
	close(fd);
}

static void test_ioctl_not_ours(void **state)
{
	int p[2], n = 0;

	errno = 0;
	assert_int_equal(skvm_ioctl(-1, KVM_GET_API_VERSION, 0), -1);
	assert_int_equal(errno, EBADF);

	assert_int_equal(pipe(p), 0);
	close(p[1]);
	errno = 0;
	assert_int_equal(skvm_ioctl(p[1], KVM_GET_API_VERSION, 0), -1);
	assert_int_equal(errno, EBADF);
	errno = 0;
	assert_int_equal(skvm_ioctl(p[0], FIONREAD, &n), -1);
	assert_int_equal(errno, ENOTTY);
	assert_false(skvm_is_skvm_fd(p[0]));
	assert_false(skvm_is_skvm_fd(-1));
	close(p[0]);
}

/* Every object fd is a real fd: dup() gives another name for it. */
static void test_dup(void **state)
{
	int fd = skvm_open(O_RDWR), fd2;

	assert_true(fd >= 0);
	fd2 = dup(fd);
	assert_true(fd2 >= 0);
	close(fd);
	assert_true(skvm_is_skvm_fd(fd2));
	assert_int_equal(skvm_ioctl(fd2, KVM_GET_API_VERSION, 0), KVM_API_VERSION);
	close(fd2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_flags),
		cmocka_unit_test(test_ioctl_system),
		cmocka_unit_test(test_ioctl_not_ours),
		cmocka_unit_test(test_dup),
	};

	return cmocka_run_group_tests_name("front api", tests, NULL, NULL);
}
