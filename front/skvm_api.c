// SPDX-License-Identifier: MIT
/*
 * skvm_api.c - the direct API of skvm.h, for programs linked with libskvm.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>

#include "front.h"
#include "kvm_file.h"
#include "skvm.h"

FRONT_EXPORT int skvm_open(int flags)
{
	return front_dev_open(flags);
}

FRONT_EXPORT int skvm_ioctl(int fd, unsigned long request, ...)
{
	va_list ap;
	void *arg;
	long ret;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);

	if (fd < 0 || fcntl(fd, F_GETFD) < 0) {
		errno = EBADF;
		return -1;
	}
	if (!FRONT_IN_CORE(kvm_fd_ioctl(fd, request, arg, &ret))) {
		errno = ENOTTY;
		return -1;
	}
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	return ret;
}

FRONT_EXPORT int skvm_is_skvm_fd(int fd)
{
	return fd >= 0 && FRONT_IN_CORE(kvm_fd_is_ours(fd));
}
