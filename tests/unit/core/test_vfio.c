// SPDX-License-Identifier: MIT
/*
 * Unit tests of KVM_CREATE_DEVICE and the KVM-VFIO device
 * (virt/kvm/kvm_device.c, vfio.c): creation rules, attribute validation
 * with KVM's errno, and the device fd's lifetime.  Adding a real VFIO
 * group needs a VFIO driver on the host; the errno rows here hold
 * everywhere and are also checked against the kernel by tests/abi.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <linux/kvm.h>

#include "skvm.h"
#include "kvm_host.h"

static int create_device(int vm, uint32_t type, uint32_t flags, int *fd)
{
	struct kvm_create_device cd = { .type = type, .flags = flags, .fd = ~0u };
	int r = skvm_ioctl(vm, KVM_CREATE_DEVICE, &cd);

	if (fd)
		*fd = (int)cd.fd;
	return r ? -errno : 0;
}

static int attr(int dev, unsigned long req, uint32_t group, uint64_t a,
		const void *addr)
{
	struct kvm_device_attr at = {
		.group = group, .attr = a, .addr = (uint64_t)(uintptr_t)addr,
	};

	return skvm_ioctl(dev, req, &at) ? -errno : 0;
}

static int wait_live_vms(int want)
{
	for (int i = 0; i < 4000 && kvm_nr_live_vms() != want; i++)
		usleep(5000);
	return kvm_nr_live_vms();
}

static void test_create_rules(void **state)
{
	int kvm = skvm_open(O_RDWR), vm = skvm_ioctl(kvm, KVM_CREATE_VM, 0), dev, fd;

	assert_int_equal(skvm_ioctl(vm, KVM_CHECK_EXTENSION, KVM_CAP_DEVICE_CTRL), 1);
	assert_int_equal(create_device(vm, 0, 0, NULL), -ENODEV);
	assert_int_equal(create_device(vm, KVM_DEV_TYPE_ARM_VGIC_V3, 0, NULL), -ENODEV);
	assert_int_equal(create_device(vm, 1000, 0, NULL), -ENODEV);
	/* TEST only asks whether the type exists */
	assert_int_equal(create_device(vm, KVM_DEV_TYPE_VFIO, KVM_CREATE_DEVICE_TEST, &fd), 0);
	assert_int_equal(fd, -1);
	assert_int_equal(skvm_ioctl(vm, KVM_CREATE_DEVICE, (void *)8), -1);
	assert_int_equal(errno, EFAULT);
	assert_int_equal(create_device(vm, KVM_DEV_TYPE_VFIO, 0, &dev), 0);
	assert_true(dev >= 0);
	assert_int_equal(fcntl(dev, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	/* one KVM-VFIO device per VM */
	assert_int_equal(create_device(vm, KVM_DEV_TYPE_VFIO, 0, NULL), -EBUSY);
	close(dev);
	/* ...until the first one's fd is released */
	for (int i = 0; i < 4000; i++) {
		if (create_device(vm, KVM_DEV_TYPE_VFIO, 0, &dev) == 0)
			break;
		usleep(5000);
		dev = -1;
	}
	assert_true(dev >= 0);
	close(dev);
	close(vm);
	close(kvm);
}

static void test_attrs(void **state)
{
	int kvm = skvm_open(O_RDWR), vm = skvm_ioctl(kvm, KVM_CREATE_VM, 0), dev;
	int p[2], bad = 999, fd;

	assert_int_equal(pipe(p), 0);
	assert_int_equal(create_device(vm, KVM_DEV_TYPE_VFIO, 0, &dev), 0);
	assert_int_equal(attr(dev, KVM_HAS_DEVICE_ATTR, KVM_DEV_VFIO_GROUP,
			      KVM_DEV_VFIO_GROUP_ADD, NULL), 0);
	assert_int_equal(attr(dev, KVM_HAS_DEVICE_ATTR, KVM_DEV_VFIO_GROUP,
			      KVM_DEV_VFIO_GROUP_DEL, NULL), 0);
	assert_int_equal(attr(dev, KVM_HAS_DEVICE_ATTR, KVM_DEV_VFIO_GROUP,
			      KVM_DEV_VFIO_GROUP_SET_SPAPR_TCE, NULL), -ENXIO);
	assert_int_equal(attr(dev, KVM_HAS_DEVICE_ATTR, 7, 1, NULL), -ENXIO);
	assert_int_equal(attr(dev, KVM_GET_DEVICE_ATTR, KVM_DEV_VFIO_GROUP,
			      KVM_DEV_VFIO_GROUP_ADD, &fd), -EPERM);
	assert_int_equal(attr(dev, KVM_SET_DEVICE_ATTR, KVM_DEV_VFIO_GROUP,
			      KVM_DEV_VFIO_GROUP_ADD, &bad), -EBADF);
	fd = p[0];
	assert_int_equal(attr(dev, KVM_SET_DEVICE_ATTR, KVM_DEV_VFIO_GROUP,
			      KVM_DEV_VFIO_GROUP_ADD, &fd), -EINVAL);
	assert_int_equal(attr(dev, KVM_SET_DEVICE_ATTR, KVM_DEV_VFIO_GROUP,
			      KVM_DEV_VFIO_GROUP_DEL, &fd), -ENOENT);
	assert_int_equal(attr(dev, KVM_SET_DEVICE_ATTR, KVM_DEV_VFIO_GROUP,
			      KVM_DEV_VFIO_GROUP_DEL, &bad), -EBADF);
	assert_int_equal(attr(dev, KVM_SET_DEVICE_ATTR, KVM_DEV_VFIO_GROUP,
			      KVM_DEV_VFIO_GROUP_ADD, (void *)16), -EFAULT);
	assert_int_equal(attr(dev, KVM_SET_DEVICE_ATTR, KVM_DEV_VFIO_GROUP,
			      99, &fd), -ENXIO);
	assert_int_equal(attr(dev, KVM_SET_DEVICE_ATTR, 2, KVM_DEV_VFIO_GROUP_ADD,
			      &fd), -ENXIO);
	assert_int_equal(skvm_ioctl(dev, KVM_SET_DEVICE_ATTR, (void *)16), -1);
	assert_int_equal(errno, EFAULT);
	assert_int_equal(skvm_ioctl(dev, KVM_RUN, 0), -1);
	assert_int_equal(errno, ENOTTY);
	close(dev);
	close(p[0]);
	close(p[1]);
	close(vm);
	close(kvm);
}

static void test_device_keeps_vm(void **state)
{
	int kvm = skvm_open(O_RDWR), vm, dev;

	assert_int_equal(wait_live_vms(0), 0);
	vm = skvm_ioctl(kvm, KVM_CREATE_VM, 0);
	assert_int_equal(create_device(vm, KVM_DEV_TYPE_VFIO, 0, &dev), 0);
	close(vm);
	usleep(20000);
	assert_int_equal(kvm_nr_live_vms(), 1);
	assert_int_equal(attr(dev, KVM_HAS_DEVICE_ATTR, KVM_DEV_VFIO_GROUP,
			      KVM_DEV_VFIO_GROUP_ADD, NULL), 0);
	close(dev);
	assert_int_equal(wait_live_vms(0), 0);
	close(kvm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_rules),
		cmocka_unit_test(test_attrs),
		cmocka_unit_test(test_device_keeps_vm),
	};

	return cmocka_run_group_tests_name("kvm_vfio", tests, NULL, NULL);
}
