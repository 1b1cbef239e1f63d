// SPDX-License-Identifier: MIT
/*
 * stub_core.c - a stand-in for virt/kvm behind kvm_file.h, so that the
 * front's own logic (paths, flags, errno, signal order) is tested without
 * the real core.  Linked with the front's sources into
 * libskvm_front_stub.so.
 *
 * It serves system fds only: KVM_GET_API_VERSION, KVM_CHECK_EXTENSION of
 * KVM_CAP_USER_MEMORY, and two probe ioctls; every kick and mmap fixup
 * is counted.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kvm_file.h"
#include "stub_core.h"

#define STUB_MAX_FILES 64

static struct {
	dev_t dev;
	ino_t ino;
} stub_files[STUB_MAX_FILES];
static int stub_nr_files;
static pthread_mutex_t stub_lock = PTHREAD_MUTEX_INITIALIZER;

__attribute__((visibility("default"))) atomic_int skvm_front_stub_kicks;
__attribute__((visibility("default"))) atomic_int skvm_front_stub_last_sig;
__attribute__((visibility("default"))) atomic_int skvm_front_stub_fixups;

int kvm_dev_open(int flags)
{
	struct stat st;
	int fd;

	fd = memfd_create("kvm-stub", (flags & O_CLOEXEC) ? MFD_CLOEXEC : 0);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, 4096) || fstat(fd, &st)) {
		close(fd);
		return -EIO;
	}
	pthread_mutex_lock(&stub_lock);
	if (stub_nr_files < STUB_MAX_FILES) {
		stub_files[stub_nr_files].dev = st.st_dev;
		stub_files[stub_nr_files].ino = st.st_ino;
		stub_nr_files++;
	}
	pthread_mutex_unlock(&stub_lock);
	return fd;
}

bool kvm_fd_is_ours(int fd)
{
	struct stat st;
	bool ours = false;
	int i;

	if (fstat(fd, &st))
		return false;
	pthread_mutex_lock(&stub_lock);
	for (i = 0; i < stub_nr_files; i++)
		if (stub_files[i].dev == st.st_dev && stub_files[i].ino == st.st_ino)
			ours = true;
	pthread_mutex_unlock(&stub_lock);
	return ours;
}

/*
 * Map our own fd at an offset that kvm_fd_mmap_check() refuses: this
 * works only when the front lets skvm's own calls through.
 */
static long stub_self_mmap(int fd)
{
	void *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	void *q;

	if (p == MAP_FAILED)
		return -errno;
	munmap(p, 4096);
	q = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, STUB_REFUSED_OFFSET);
	if (q == MAP_FAILED)
		return -errno;
	munmap(q, 4096);
	return 0;
}

int kvm_fd_ioctl(int fd, unsigned long request, void *arg, long *ret)
{
	if (!kvm_fd_is_ours(fd))
		return 0;
	switch (request) {
	case KVM_GET_API_VERSION:
		*ret = KVM_API_VERSION_NR;
		break;
	case KVM_CHECK_EXTENSION:
		*ret = (unsigned long)arg == KVM_CAP_USER_MEMORY;
		break;
	case STUB_IOCTL_SELF_MMAP:
		*ret = stub_self_mmap(fd);
		break;
	case STUB_IOCTL_RAISE:
		*ret = raise((int)(long)arg) ? -errno : 0;
		break;
	case STUB_IOCTL_SELF_IOCTL:
		/* Our own ioctl on our own fd must reach the kernel. */
		*ret = ioctl(fd, KVM_GET_API_VERSION) < 0 ? 0 : -EPROTO;
		break;
	default:
		*ret = -EINVAL;
	}
	return 1;
}

int kvm_fd_mmap_check(int fd, size_t len, int prot, int flags, off_t off)
{
	if (!kvm_fd_is_ours(fd))
		return 1;
	if (off == STUB_REFUSED_OFFSET)
		return -ENODEV;
	return 0;
}

int kvm_fd_mmap_fixup(int fd, void *addr, size_t len, int prot, int flags,
		      off_t off)
{
	if (!kvm_fd_is_ours(fd))
		return 1;
	atomic_fetch_add(&skvm_front_stub_fixups, 1);
	return off == STUB_FIXUP_FAIL_OFFSET ? -ENOMEM : 0;
}

void kvm_signal_set_watch(void (*watch)(int sig))
{
	(void)watch;
}

int kvm_signal_kick_current(int sig)
{
	atomic_store(&skvm_front_stub_last_sig, sig);
	atomic_fetch_add(&skvm_front_stub_kicks, 1);
	errno = EIO;	/* the front must hide what the core does to errno */
	return 0;
}

bool kvm_host_fault(int sig, siginfo_t *si, void *ucontext)
{
	return false;	/* no vCPU here: every fault is the program's */
}
