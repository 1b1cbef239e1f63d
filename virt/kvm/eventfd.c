// SPDX-License-Identifier: MIT
/*
 * eventfd.c - KVM_IOEVENTFD: guest writes that signal an eventfd instead of
 * exiting (api.rst 4.59, "KVM_IOEVENTFD"); and KVM_IRQFD, below.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "eventfd.h"
#include "iodev.h"
#include "irqbypass.h"
#include "irqchip.h"
#include "kvm_file.h"

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
	p->fd = kvm_fd_dup_private(args->fd);
	if (p->fd < 0) {
		r = p->fd;
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
		    !kvm_same_file(p->fd, args->fd))
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

/* --- irqfd ----------------------------------------------------------------- */

/*
 * KVM_IRQFD (api.rst 4.75): a write to the eventfd raises gsi through the
 * routing table, without the vCPU exiting to user space.  A per-VM event
 * thread (the kernel's wait-queue callback) waits on every irqfd with
 * epoll; it is started with the first irqfd.
 *
 * Plain irqfds pulse the line (edge).  With KVM_IRQFD_FLAG_RESAMPLE the
 * line stays asserted (level) until the guest acknowledges the interrupt;
 * the ack notifier then lowers it and signals the resamplefd, so the VMM
 * can check whether its device still needs service.
 *
 * Each irqfd is also an irq-bypass consumer (virt/lib/irqbypass.c): an
 * in-process producer of the same eventfd raises the interrupt through
 * it directly, without the eventfd round trip.
 */
#define KVM_IRQFD_RESAMPLE_IRQ_SOURCE_ID 1

struct irqfd {
	struct kvm *kvm;
	uint64_t id;			/* epoll key */
	int fd;				/* our duplicate of the eventfd */
	uint32_t gsi;
	int resamplefd;			/* duplicate, or -1 */
	struct kvm_irq_ack_notifier ack;	/* with a resamplefd */
	struct irq_bypass_consumer consumer;
	struct irqfd *next;
};

struct kvm_irqfds {
	pthread_mutex_t lock;		/* items */
	struct irqfd *items;
	uint64_t next_id;
	int epfd;
	int stopfd;			/* eventfd that stops the thread */
	pthread_t thread;
	bool running;
};

static void irqfd_raise(struct irqfd *irqfd)
{
	if (irqfd->resamplefd >= 0) {
		kvm_set_irq(irqfd->kvm, KVM_IRQFD_RESAMPLE_IRQ_SOURCE_ID,
			    irqfd->gsi, 1, false);
		return;
	}
	kvm_set_irq(irqfd->kvm, KVM_USERSPACE_IRQ_SOURCE_ID, irqfd->gsi, 1, false);
	kvm_set_irq(irqfd->kvm, KVM_USERSPACE_IRQ_SOURCE_ID, irqfd->gsi, 0, false);
}

/* The guest acknowledged the level interrupt: lower it, tell the VMM. */
static void irqfd_resample(struct kvm_irq_ack_notifier *kian)
{
	struct irqfd *irqfd = (struct irqfd *)((char *)kian -
					       offsetof(struct irqfd, ack));

	kvm_set_irq(irqfd->kvm, KVM_IRQFD_RESAMPLE_IRQ_SOURCE_ID, irqfd->gsi,
		    0, false);
	kvm_eventfd_signal(irqfd->resamplefd);
}

static void irqfd_bypass_inject(struct irq_bypass_consumer *cons)
{
	irqfd_raise((struct irqfd *)((char *)cons -
				     offsetof(struct irqfd, consumer)));
}

/*
 * Take an irqfd's count and raise it; caller holds s->lock.  The event
 * thread and a vCPU entering KVM_RUN may both have seen the eventfd
 * readable: check again under the lock, so that read() never blocks on a
 * count the other one took (our dup shares the client's blocking mode).
 */
static void irqfd_consume_locked(struct irqfd *irqfd)
{
	struct pollfd p = { .fd = irqfd->fd, .events = POLLIN };
	uint64_t count;

	/* one interrupt for any number of writes */
	if (poll(&p, 1, 0) == 1 && (p.revents & POLLIN) &&
	    read(irqfd->fd, &count, sizeof(count)) == sizeof(count))
		irqfd_raise(irqfd);
}

static void irqfds_serve_locked(struct kvm_irqfds *s, uint64_t id)
{
	struct irqfd *irqfd;

	for (irqfd = s->items; irqfd && irqfd->id != id; irqfd = irqfd->next)
		;
	if (irqfd)
		irqfd_consume_locked(irqfd);
}

static void *irqfd_thread(void *arg)
{
	struct kvm_irqfds *s = arg;
	struct epoll_event ev[16];

	for (;;) {
		int n = epoll_wait(s->epfd, ev, 16, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		for (int i = 0; i < n; i++) {
			uint64_t id = ev[i].data.u64;

			if (!id)
				return NULL;	/* stopfd */
			pthread_mutex_lock(&s->lock);
			irqfds_serve_locked(s, id);
			pthread_mutex_unlock(&s->lock);
		}
	}
	return NULL;
}

void kvm_irqfd_flush(struct kvm *kvm)
{
	struct kvm_irqfds *s = __atomic_load_n(&kvm->irqfds, __ATOMIC_ACQUIRE);
	struct epoll_event ev[16];
	int n;

	if (!s)
		return;
	n = epoll_wait(s->epfd, ev, 16, 0);
	for (int i = 0; i < n; i++) {
		if (!ev[i].data.u64)
			continue;	/* stopfd: the event thread's */
		pthread_mutex_lock(&s->lock);
		irqfds_serve_locked(s, ev[i].data.u64);
		pthread_mutex_unlock(&s->lock);
	}
}

static struct kvm_irqfds *irqfds_get(struct kvm *kvm)
{
	struct kvm_irqfds *s = kvm->irqfds;
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0 };
	sigset_t all, old;

	if (s)
		return s;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	pthread_mutex_init(&s->lock, NULL);
	s->next_id = 1;
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	s->stopfd = eventfd(0, EFD_CLOEXEC);
	if (s->epfd >= 0)
		s->epfd = kvm_fd_make_private(s->epfd);
	if (s->stopfd >= 0)
		s->stopfd = kvm_fd_make_private(s->stopfd);
	if (s->epfd < 0 || s->stopfd < 0 ||
	    epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->stopfd, &ev))
		goto fail;
	/* the event thread never takes the client's signals */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	s->running = !pthread_create(&s->thread, NULL, irqfd_thread, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!s->running)
		goto fail;
	pthread_setname_np(s->thread, "skvm-irqfd");
	__atomic_store_n(&kvm->irqfds, s, __ATOMIC_RELEASE);	/* kvm_irqfd_flush */
	return s;
fail:
	if (s->epfd >= 0)
		close(s->epfd);
	if (s->stopfd >= 0)
		close(s->stopfd);
	free(s);
	return NULL;
}

/* Caller holds s->lock; frees irqfd after taking it off every path. */
static void irqfd_shutdown(struct kvm_irqfds *s, struct irqfd *irqfd)
{
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, irqfd->fd, NULL);
	irq_bypass_unregister_consumer(&irqfd->consumer);
	if (irqfd->resamplefd >= 0) {
		kvm_unregister_irq_ack_notifier(irqfd->kvm, &irqfd->ack);
		kvm_set_irq(irqfd->kvm, KVM_IRQFD_RESAMPLE_IRQ_SOURCE_ID,
			    irqfd->gsi, 0, false);
		close(irqfd->resamplefd);
	}
	close(irqfd->fd);
	free(irqfd);
}

static int irqfd_assign(struct kvm *kvm, const struct kvm_irqfd *args)
{
	bool resample = args->flags & KVM_IRQFD_FLAG_RESAMPLE;
	struct kvm_irqfds *s;
	struct irqfd *irqfd, *t;
	struct epoll_event ev = { .events = EPOLLIN };
	int r;

	if (!kvm_arch_irq_routing(kvm) || !kvm_arch_irqfd_allowed(kvm, args))
		return -EINVAL;		/* no (suitable) in-kernel irqchip */
	r = check_eventfd((int)args->fd);
	if (!r && resample)
		r = check_eventfd((int)args->resamplefd);
	if (r)
		return r;
	s = irqfds_get(kvm);
	irqfd = calloc(1, sizeof(*irqfd));
	if (!s || !irqfd) {
		free(irqfd);
		return -ENOMEM;
	}
	irqfd->kvm = kvm;
	irqfd->gsi = args->gsi;
	irqfd->resamplefd = -1;
	irqfd->fd = kvm_fd_dup_private((int)args->fd);
	if (resample)
		irqfd->resamplefd = kvm_fd_dup_private((int)args->resamplefd);
	if (irqfd->fd < 0 || (resample && irqfd->resamplefd < 0)) {
		r = -EMFILE;
		goto fail;
	}
	pthread_mutex_lock(&s->lock);
	for (t = s->items; t; t = t->next) {
		if (kvm_same_file(t->fd, irqfd->fd)) {
			pthread_mutex_unlock(&s->lock);
			r = -EBUSY;	/* this eventfd already drives an irq */
			goto fail;
		}
	}
	irqfd->id = s->next_id++;
	if (resample) {
		irqfd->ack.gsi = irqfd->gsi;
		irqfd->ack.irq_acked = irqfd_resample;
		kvm_register_irq_ack_notifier(kvm, &irqfd->ack);
	}
	irqfd->consumer.fd = irqfd->fd;
	irqfd->consumer.inject = irqfd_bypass_inject;
	irq_bypass_register_consumer(&irqfd->consumer);
	/* level-triggered: a count written before now fires at once */
	ev.data.u64 = irqfd->id;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, irqfd->fd, &ev)) {
		r = -errno;
		irq_bypass_unregister_consumer(&irqfd->consumer);
		if (resample)
			kvm_unregister_irq_ack_notifier(kvm, &irqfd->ack);
		pthread_mutex_unlock(&s->lock);
		goto fail;
	}
	irqfd->next = s->items;
	s->items = irqfd;
	pthread_mutex_unlock(&s->lock);
	return 0;
fail:
	if (irqfd->fd >= 0)
		close(irqfd->fd);
	if (irqfd->resamplefd >= 0)
		close(irqfd->resamplefd);
	free(irqfd);
	return r;
}

static int irqfd_deassign(struct kvm *kvm, const struct kvm_irqfd *args)
{
	struct kvm_irqfds *s = kvm->irqfds;
	struct irqfd **pp;
	int r = check_eventfd((int)args->fd);

	if (r)
		return r;
	if (!s)
		return 0;
	pthread_mutex_lock(&s->lock);
	for (pp = &s->items; *pp;) {
		struct irqfd *irqfd = *pp;

		if (irqfd->gsi != args->gsi ||
		    !kvm_same_file(irqfd->fd, (int)args->fd)) {
			pp = &irqfd->next;
			continue;
		}
		*pp = irqfd->next;
		irqfd_shutdown(s, irqfd);
	}
	pthread_mutex_unlock(&s->lock);
	return 0;
}

int kvm_irqfd(struct kvm *kvm, const struct kvm_irqfd *args)
{
	if (args->flags & ~(KVM_IRQFD_FLAG_DEASSIGN | KVM_IRQFD_FLAG_RESAMPLE))
		return -EINVAL;
	if (args->flags & KVM_IRQFD_FLAG_DEASSIGN)
		return irqfd_deassign(kvm, args);
	return irqfd_assign(kvm, args);
}

void kvm_irqfd_release(struct kvm *kvm)
{
	struct kvm_irqfds *s = kvm->irqfds;

	if (!s)
		return;
	kvm_eventfd_signal(s->stopfd);
	pthread_join(s->thread, NULL);
	while (s->items) {
		struct irqfd *irqfd = s->items;

		s->items = irqfd->next;
		irqfd_shutdown(s, irqfd);
	}
	close(s->epfd);
	close(s->stopfd);
	pthread_mutex_destroy(&s->lock);
	free(s);
	kvm->irqfds = NULL;
}
