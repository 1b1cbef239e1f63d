// SPDX-License-Identifier: MIT
/*
 * harness.c - see harness.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "harness.h"

struct harness *harness_new(void)
{
	struct harness *h = calloc(1, sizeof(*h));

	assert_non_null(h);
	fake_reset();
	memset(fake_guest_mem, 0, sizeof(fake_guest_mem));
	pthread_mutex_init(&h->kvm.lock, NULL);
	pthread_mutex_init(&h->kvm.slots_lock, NULL);
	/* the counters the x86 layer updates (the core's binary_stats.c) */
	h->kvm.stats.data = calloc(1, kvm_vm_stats_size);
	h->vcpu.stats.data = calloc(1, kvm_vcpu_stats_size);
	assert_non_null(h->kvm.stats.data);
	assert_non_null(h->vcpu.stats.data);
	assert_int_equal(kvm_arch_init_vm(&h->kvm, 0), 0);
	h->kvm.max_vcpu_ids = KVM_MAX_VCPU_IDS;
	h->kvm.vcpus = h->vcpus;
	h->run = mmap(NULL, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(h->run != MAP_FAILED);
	h->vcpu.kvm = &h->kvm;
	h->vcpu.run = h->run;
	h->vcpu.mmap_size = 2 * PAGE_SIZE;
	pthread_mutex_init(&h->vcpu.mutex, NULL);
	assert_int_equal(kvm_arch_vcpu_precreate(&h->kvm, 0), 0);
	assert_int_equal(kvm_arch_vcpu_create(&h->vcpu), 0);
	h->vcpus[0] = &h->vcpu;
	atomic_store(&h->kvm.online_vcpus, 1);
	return h;
}

void harness_free(struct harness *h)
{
	kvm_arch_vcpu_destroy(&h->vcpu);
	kvm_arch_destroy_vm(&h->kvm);
	munmap(h->run, 2 * PAGE_SIZE);
	free(h->kvm.stats.data);
	free(h->vcpu.stats.data);
	free(h);
}

long h_vcpu(struct harness *h, unsigned long req, void *arg)
{
	return kvm_arch_vcpu_ioctl(&h->vcpu, req, arg);
}

long h_vm(struct harness *h, unsigned long req, void *arg)
{
	return kvm_arch_vm_ioctl(&h->kvm, req, arg);
}

long h_sys(unsigned long req, void *arg)
{
	return kvm_arch_dev_ioctl(req, arg);
}

int h_run(struct harness *h)
{
	return kvm_arch_vcpu_ioctl_run(&h->vcpu);
}

/* --- backends ---------------------------------------------------------- */

static long skvm_ioctl(struct backend *b, enum target t, unsigned long req, void *arg)
{
	switch (t) {
	case SYS:
		return h_sys(req, arg);
	case VM:
		return h_vm(b->h, req, arg);
	default:
		if (req == KVM_RUN)
			return h_run(b->h);
		return h_vcpu(b->h, req, arg);
	}
}

struct backend *backend_skvm(void)
{
	struct backend *b = calloc(1, sizeof(*b));

	b->name = "skvm";
	b->ioctl = skvm_ioctl;
	b->h = harness_new();
	b->run = b->h->run;
	return b;
}

static long kvm_ioctl(struct backend *b, enum target t, unsigned long req, void *arg)
{
	int fd = t == SYS ? b->sys_fd : t == VM ? b->vm_fd : b->vcpu_fd;
	long r = ioctl(fd, req, arg);

	return r < 0 ? -errno : r;
}

struct backend *backend_kvm(void)
{
	struct backend *b;
	int sz;

	if (getenv("SKVM_TEST_NO_KVM"))
		return NULL;
	b = calloc(1, sizeof(*b));
	b->name = "/dev/kvm";
	b->ioctl = kvm_ioctl;
	b->sys_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (b->sys_fd < 0)
		goto fail;
	b->vm_fd = ioctl(b->sys_fd, KVM_CREATE_VM, 0);
	if (b->vm_fd < 0)
		goto fail;
	b->vcpu_fd = ioctl(b->vm_fd, KVM_CREATE_VCPU, 0);
	sz = ioctl(b->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (b->vcpu_fd < 0 || sz <= 0)
		goto fail;
	b->run = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, b->vcpu_fd, 0);
	if (b->run == MAP_FAILED)
		goto fail;
	return b;
fail:
	free(b);
	return NULL;
}

void backend_free(struct backend *b)
{
	if (!b)
		return;
	if (b->h) {
		harness_free(b->h);
	} else {
		close(b->vcpu_fd);
		close(b->vm_fd);
		close(b->sys_fd);
	}
	free(b);
}

int harness_setup(void **state)
{
	*state = harness_new();
	return 0;
}

int harness_teardown(void **state)
{
	harness_free(*state);
	return 0;
}
