// SPDX-License-Identifier: MIT
/*
 * eventfd.c - KVM_IOEVENTFD: guest writes that signal an eventfd instead of
 * exiting (api.rst 4.59, "KVM_IOEVENTFD").
 *
 * Each assignment is a device on the MMIO or PIO bus.  A guest write that
 * matches it (same address; same length unless the length is 0; same value
 * when DATAMATCH is set) adds 1 to the eventfd and completes without an
 * exit.  The kernel holds a reference to the eventfd context; we hold a
 * duplicate of the client's fd (close-on-exec) and tell eventfds apart by
 * open file description with kcmp(KCMP_FILE), since all eventfds share one
 * anonymous inode.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "eventfd.h"
#include "iodev.h"

struct ioeventfd {
	struct kvm_io_device dev;
	struct ioeventfd *next;		/* kvm->ioeventfds, under slots_lock */
	int fd;				/* our duplicate of the eventfd */
	enum kvm_bus bus;
	gpa_t addr;
	int len;
	bool wildcard;
	uint64_t datamatch;
};

#define IOEVENTFD_VALID_FLAGS (KVM_IOEVENTFD_FLAG_DATAMATCH | \
			       KVM_IOEVENTFD_FLAG_PIO | \
			       KVM_IOEVENTFD_FLAG_DEASSIGN)

/* Is fd an eventfd?  The kernel's eventfd_ctx_fdget() gives EBADF/EINVAL. */
static int check_eventfd(int fd)
{
	char path[64], target[64];
	ssize_t n;

	if (fd < 0 || fcntl(fd, F_GETFD) < 0)
		return -EBADF;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -EBADF;
	target[n] = '\0';
	return strcmp(target, "anon_inode:[eventfd]") ? -EINVAL : 0;
}

static bool same_description(int a, int b)
{
	pid_t pid = getpid();

	return syscall(SYS_kcmp, pid, pid, KCMP_FILE, a, b) == 0;
}

void kvm_eventfd_signal(int fd)
{
	uint64_t one = 1;
	ssize_t n;

	do
		n = write(fd, &one, sizeof(one));
	while (n < 0 && errno == EINTR);
}

static uint64_t value_of(const void *val, int len)
{
	uint64_t v = 0;

	memcpy(&v, val, (size_t)len);	/* little-endian host and guest */
	return v;
}

static int ioeventfd_write(struct kvm_vcpu *vcpu, struct kvm_io_device *dev,
			   gpa_t addr, int len, const void *val)
{
	struct ioeventfd *p = (struct ioeventfd *)dev;

	if (addr != p->addr)
		return -EOPNOTSUPP;
	if (p->len) {
		if (len != p->len)
			return -EOPNOTSUPP;
		if (!p->wildcard && value_of(val, len) != p->datamatch)
			return -EOPNOTSUPP;
	}
	kvm_eventfd_signal(p->fd);
	return 0;
}

static void ioeventfd_destructor(struct kvm_io_device *dev)
{
	struct ioeventfd *p = (struct ioeventfd *)dev;

	close(p->fd);
	free(p);
}

static const struct kvm_io_device_ops ioeventfd_ops = {
	.write = ioeventfd_write,
	.destructor = ioeventfd_destructor,
};

static bool ioeventfd_collides(struct kvm *kvm, const struct ioeventfd *p)
{
	for (struct ioeventfd *q = kvm->ioeventfds; q; q = q->next) {
		if (q->bus != p->bus || q->addr != p->addr)
			continue;
		if (!q->len || !p->len)
			return true;
		if (q->len == p->len &&
		    (q->wildcard || p->wildcard || q->datamatch == p->datamatch))
			return true;
	}
	return false;
}

static int ioeventfd_assign(struct kvm *kvm, const struct kvm_ioeventfd *args,
			    enum kvm_bus bus)
{
	struct ioeventfd *p;
	int r = check_eventfd(args->fd);

	if (r)
		return r;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->dev.ops = &ioeventfd_ops;
	p->bus = bus;
	p->addr = args->addr;
	p->len = (int)args->len;
	p->wildcard = !(args->flags & KVM_IOEVENTFD_FLAG_DATAMATCH);
	p->datamatch = p->wildcard ? 0 : args->datamatch;
	p->fd = fcntl(args->fd, F_DUPFD_CLOEXEC, 0);
	if (p->fd < 0) {
		r = -errno;
		free(p);
		return r;
	}
	pthread_mutex_lock(&kvm->slots_lock);
	if (ioeventfd_collides(kvm, p)) {
		r = -EEXIST;
		goto fail;
	}
	r = kvm_io_bus_register_dev(kvm, bus, p->addr, p->len, &p->dev);
	if (r)
		goto fail;
	p->next = kvm->ioeventfds;
	kvm->ioeventfds = p;
	pthread_mutex_unlock(&kvm->slots_lock);
	return 0;
fail:
	pthread_mutex_unlock(&kvm->slots_lock);
	close(p->fd);
	free(p);
	return r;
}

static int ioeventfd_deassign(struct kvm *kvm, const struct kvm_ioeventfd *args,
			      enum kvm_bus bus)
{
	bool wildcard = !(args->flags & KVM_IOEVENTFD_FLAG_DATAMATCH);
	struct ioeventfd **pp;
	int r = check_eventfd(args->fd);

	if (r)
		return r;
	r = -ENOENT;
	pthread_mutex_lock(&kvm->slots_lock);
	for (pp = &kvm->ioeventfds; *pp; pp = &(*pp)->next) {
		struct ioeventfd *p = *pp;

		if (p->bus != bus || p->addr != args->addr ||
		    p->len != (int)args->len || p->wildcard != wildcard ||
		    (!wildcard && p->datamatch != args->datamatch) ||
		    !same_description(p->fd, args->fd))
			continue;
		*pp = p->next;
		kvm_io_bus_unregister_dev(kvm, bus, &p->dev);	/* frees p */
		r = 0;
		break;
	}
	pthread_mutex_unlock(&kvm->slots_lock);
	return r;
}

int kvm_ioeventfd(struct kvm *kvm, const struct kvm_ioeventfd *args)
{
	enum kvm_bus bus = (args->flags & KVM_IOEVENTFD_FLAG_PIO) ?
			   KVM_PIO_BUS : KVM_MMIO_BUS;

	if (args->flags & KVM_IOEVENTFD_FLAG_DEASSIGN)
		return ioeventfd_deassign(kvm, args, bus);
	switch (args->len) {
	case 0: case 1: case 2: case 4: case 8:
		break;
	default:
		return -EINVAL;
	}
	if (args->addr + args->len < args->addr)
		return -EINVAL;
	if (args->flags & ~IOEVENTFD_VALID_FLAGS)
		return -EINVAL;
	if (!args->len && (args->flags & KVM_IOEVENTFD_FLAG_DATAMATCH))
		return -EINVAL;
	return ioeventfd_assign(kvm, args, bus);
}
