/* SPDX-License-Identifier: MIT */
/*
 * skvm.h - the direct API of libskvm.
 *
 * libskvm serves the /dev/kvm ABI of <linux/kvm.h> inside the calling
 * process.  Programs that link it directly use skvm_open() in place of
 * open("/dev/kvm") and skvm_ioctl() in place of ioctl(); every object fd it
 * returns (system, VM, vCPU, device, stats) is a real kernel fd and is
 * closed with close(), mapped with mmap() and read with pread() as usual.
 *
 * Programs that are not linked against libskvm get the same service through
 * `skvm exec PROGRAM`, which interposes open() and ioctl().
 */
#ifndef SKVM_H
#define SKVM_H

#ifdef __cplusplus
extern "C" {
#endif

#define SKVM_VERSION "0.1.0"

/*
 * Open the skvm system fd, as open("/dev/kvm", flags) would.  Only O_CLOEXEC
 * is meaningful in flags; O_RDWR/O_RDONLY are accepted and ignored.
 * Returns the fd, or -1 with errno set.
 */
int skvm_open(int flags);

/*
 * ioctl() on an fd returned by skvm_open() or by an skvm ioctl.  Returns
 * what KVM's ioctl returns, or -1 with errno set to KVM's errno.  Fails with
 * EBADF for an fd that is not an open file, and ENOTTY for an fd that is
 * open but not an skvm object.
 */
int skvm_ioctl(int fd, unsigned long request, ...);

/* Non-zero when fd is an skvm object fd (system, VM, vCPU, device, stats). */
int skvm_is_skvm_fd(int fd);

#ifdef __cplusplus
}
#endif

#endif /* SKVM_H */
