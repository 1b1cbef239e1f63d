// SPDX-License-Identifier: MIT
/*
 * interpose.c - libc's open family, ioctl() and mmap(), as seen by a
 * program that runs with libskvm preloaded (skvm exec).
 *
 * open("/dev/kvm") returns an skvm system fd; ioctl() and mmap() on an
 * skvm fd go to virt/kvm; everything else reaches libc unchanged.  The
 * skvm fds are real memfds, so close, dup, fcntl, pread and poll need no
 * help from us.
 */

/*
 * Our definitions must carry libc's own names: no open -> open64 renaming
 * (_FILE_OFFSET_BITS) and no inline fortified wrappers (_FORTIFY_SOURCE).
 */
#undef _FILE_OFFSET_BITS
#undef _FORTIFY_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "front.h"
#include "kvm_file.h"

/* The fortified entry points; glibc declares them only under fortify. */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);

/* --- Which paths name /dev/kvm ---------------------------------------- */

/*
 * Normalise an absolute path in place without touching the file system:
 * "//dev/./kvm" and "/dev/../dev/kvm" become "/dev/kvm".  Like the kernel,
 * ".." at the root stays at the root.
 */
static void front_path_normalise(char *path)
{
	char *out = path, *in = path, *end;
	size_t len;

	while (*in) {
		while (*in == '/')
			in++;
		if (!*in)
			break;
		end = strchrnul(in, '/');
		len = end - in;
		if (len == 2 && in[0] == '.' && in[1] == '.') {
			while (out > path && *--out != '/')
				;
		} else if (!(len == 1 && in[0] == '.')) {
			*out++ = '/';
			memmove(out, in, len);
			out += len;
		}
		in = end;
	}
	if (out == path)
		*out++ = '/';
	*out = '\0';
}

/* The directory dirfd names (or the cwd), into buf of PATH_MAX bytes. */
static bool front_dir_path(int dirfd, char *buf)
{
	char link[32];
	ssize_t n;

	if (dirfd == AT_FDCWD)
		return getcwd(buf, PATH_MAX) != NULL;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
	n = readlink(link, buf, PATH_MAX - 1);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return buf[0] == '/';
}

/*
 * True when path (relative to dirfd) names /dev/kvm.  Only paths whose
 * last component is "kvm" cost more than a strlen().
 */
static bool front_path_is_kvm(int dirfd, const char *path)
{
	char buf[2 * PATH_MAX];
	size_t n, dlen = 0;

	if (!path)
		return false;
	n = strlen(path);
	if (n < 3 || strcmp(path + n - 3, "kvm") || (n > 3 && path[n - 4] != '/'))
		return false;
	if (n >= PATH_MAX)
		return false;
	if (path[0] != '/') {
		if (!front_dir_path(dirfd, buf))
			return false;
		dlen = strlen(buf);
		buf[dlen++] = '/';
	}
	memcpy(buf + dlen, path, n + 1);
	front_path_normalise(buf);
	return !strcmp(buf, "/dev/kvm");
}

/* open() of /dev/kvm: what the kernel checks before the driver's open. */
static int front_open_kvm(int flags)
{
	if ((flags & O_CREAT) && (flags & O_EXCL)) {
		errno = EEXIST;
		return -1;
	}
	if (flags & O_DIRECTORY) {	/* O_TMPFILE too */
		errno = ENOTDIR;
		return -1;
	}
	return front_dev_open(flags);
}

/* --- The open family ---------------------------------------------------- */

#define FRONT_HAS_MODE(flags) \
	(((flags) & O_CREAT) || ((flags) & O_TMPFILE) == O_TMPFILE)

#define FRONT_VA_MODE(flags, mode)					\
	do {								\
		va_list ap;						\
		if (FRONT_HAS_MODE(flags)) {				\
			va_start(ap, flags);				\
			mode = va_arg(ap, int);				\
			va_end(ap);					\
		}							\
	} while (0)

static int front_sys_openat(int dirfd, const char *path, int flags, int mode)
{
	return syscall(SYS_openat, dirfd, path, flags, mode);
}

#define FRONT_OPEN(fn)							\
FRONT_EXPORT int fn(const char *path, int flags, ...)			\
{									\
	__typeof__(&fn) real;						\
	int mode = 0;							\
									\
	FRONT_VA_MODE(flags, mode);					\
	if (front_path_is_kvm(AT_FDCWD, path))				\
		return front_open_kvm(flags);				\
	real = FRONT_REAL(fn);						\
	if (!real)							\
		return front_sys_openat(AT_FDCWD, path, flags, mode);	\
	return real(path, flags, mode);					\
}

#define FRONT_OPENAT(fn)						\
FRONT_EXPORT int fn(int dirfd, const char *path, int flags, ...)	\
{									\
	__typeof__(&fn) real;						\
	int mode = 0;							\
									\
	FRONT_VA_MODE(flags, mode);					\
	if (front_path_is_kvm(dirfd, path))				\
		return front_open_kvm(flags);				\
	real = FRONT_REAL(fn);						\
	if (!real)							\
		return front_sys_openat(dirfd, path, flags, mode);	\
	return real(dirfd, path, flags, mode);				\
}

/* _FORTIFY_SOURCE's checked versions, used when flags are not constant. */
#define FRONT_OPEN_2(fn)						\
FRONT_EXPORT int fn(const char *path, int flags)			\
{									\
	__typeof__(&fn) real;						\
									\
	if (front_path_is_kvm(AT_FDCWD, path))				\
		return front_open_kvm(flags);				\
	real = FRONT_REAL(fn);						\
	if (!real)							\
		return front_sys_openat(AT_FDCWD, path, flags, 0);	\
	return real(path, flags);					\
}

#define FRONT_OPENAT_2(fn)						\
FRONT_EXPORT int fn(int dirfd, const char *path, int flags)		\
{									\
	__typeof__(&fn) real;						\
									\
	if (front_path_is_kvm(dirfd, path))				\
		return front_open_kvm(flags);				\
	real = FRONT_REAL(fn);						\
	if (!real)							\
		return front_sys_openat(dirfd, path, flags, 0);		\
	return real(dirfd, path, flags);				\
}

FRONT_OPEN(open)
FRONT_OPEN(open64)
FRONT_OPENAT(openat)
FRONT_OPENAT(openat64)
FRONT_OPEN_2(__open_2)
FRONT_OPEN_2(__open64_2)
FRONT_OPENAT_2(__openat_2)
FRONT_OPENAT_2(__openat64_2)

/* --- ioctl ---------------------------------------------------------------- */

FRONT_EXPORT int ioctl(int fd, unsigned long request, ...)
{
	__typeof__(&ioctl) real;
	va_list ap;
	void *arg;
	long ret;

	/* Every ioctl takes at most one argument, passed as a word. */
	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);

	if (front_is_active() && !FRONT_CALLER_IS_SELF() &&
	    FRONT_IN_CORE(kvm_fd_ioctl(fd, request, arg, &ret))) {
		if (ret < 0) {
			errno = -ret;
			return -1;
		}
		return ret;
	}
	real = FRONT_REAL(ioctl);
	if (!real)
		return syscall(SYS_ioctl, fd, request, arg);
	return real(fd, request, arg);
}

/* --- mmap ----------------------------------------------------------------- */

/*
 * mmap() of an skvm fd: virt/kvm may refuse it as KVM would, and after the
 * kernel mapped the memfd it may splice in pages shared between objects.
 */
static bool front_mmap_is_skvm(int flags, int fd, const void *caller)
{
	return front_is_active() && !(flags & MAP_ANONYMOUS) && fd >= 0 &&
	       !front_from_self(caller);
}

static void *front_mmap_fixup(void *p, size_t len, int prot, int flags,
			      int fd, off_t off)
{
	int r, saved;

	if (p == MAP_FAILED)
		return p;
	r = FRONT_IN_CORE(kvm_fd_mmap_fixup(fd, p, len, prot, flags, off));
	if (r < 0) {
		saved = -r;
		munmap(p, len);
		errno = saved;
		return MAP_FAILED;
	}
	return p;
}

#define FRONT_MMAP(fn, off_type)					\
FRONT_EXPORT void *fn(void *addr, size_t len, int prot, int flags,	\
		      int fd, off_type off)				\
{									\
	__typeof__(&fn) real = FRONT_REAL(fn);				\
	bool skvm;							\
	void *p;							\
	int r;								\
									\
	skvm = front_mmap_is_skvm(flags, fd, __builtin_return_address(0)); \
	if (skvm) {							\
		r = FRONT_IN_CORE(kvm_fd_mmap_check(fd, len, prot,	\
						    flags, off));	\
		if (r < 0) {						\
			errno = -r;					\
			return MAP_FAILED;				\
		}							\
		skvm = r == 0;						\
	}								\
	if (real)							\
		p = real(addr, len, prot, flags, fd, off);		\
	else								\
		p = (void *)syscall(SYS_mmap, addr, len, prot, flags,	\
				    fd, off);				\
	if (skvm)							\
		p = front_mmap_fixup(p, len, prot, flags, fd, off);	\
	return p;							\
}

FRONT_MMAP(mmap, off_t)
FRONT_MMAP(mmap64, off64_t)
