// SPDX-License-Identifier: MIT
/*
 * uaccess.c - fault-safe copies to and from client memory.
 *
 * The kernel's copy_{from,to}_user() fail with -EFAULT on a bad pointer.
 * In user space we get the same guarantee from process_vm_readv/writev on
 * our own process: the kernel checks every page and reports EFAULT instead
 * of delivering SIGSEGV.
 */
#include <errno.h>
#include <sys/uio.h>
#include <unistd.h>

#include "kvm_host.h"

static int copy_user(void *local, void *remote, size_t len, bool to_remote)
{
	struct iovec l = { .iov_base = local, .iov_len = len };
	struct iovec r = { .iov_base = remote, .iov_len = len };
	ssize_t n;

	if (!len)
		return 0;
	if (!remote)
		return -EFAULT;
	if (to_remote)
		n = process_vm_writev(getpid(), &l, 1, &r, 1, 0);
	else
		n = process_vm_readv(getpid(), &l, 1, &r, 1, 0);
	return n == (ssize_t)len ? 0 : -EFAULT;
}

int copy_from_user(void *dst, const void *user_src, size_t len)
{
	return copy_user(dst, (void *)user_src, len, false);
}

int copy_to_user(void *user_dst, const void *src, size_t len)
{
	return copy_user((void *)src, user_dst, len, true);
}
