// SPDX-License-Identifier: MIT
/*
 * vfio_dev - the KVM-VFIO pseudo device (KVM_DEV_TYPE_VFIO): creation with
 * and without KVM_CREATE_DEVICE_TEST, KVM_HAS_DEVICE_ATTR, and
 * KVM_SET_DEVICE_ATTR / KVM_GET_DEVICE_ATTR with fds that are no VFIO file
 * (bad fds, an eventfd, /dev/null, the VM itself), unknown groups and
 * attributes and bad pointers.  No VFIO device is needed: the transcript
 * is the errno of each call.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "abi.h"

#define VFIO_GROUP	1	/* KVM_DEV_VFIO_GROUP, KVM_DEV_VFIO_FILE later */
#define VFIO_ADD	1	/* ..._GROUP_ADD, KVM_DEV_VFIO_FILE_ADD */
#define VFIO_DEL	2	/* ..._GROUP_DEL, KVM_DEV_VFIO_FILE_DEL */
#define VFIO_SPAPR_TCE	3

static long attr(int dev, unsigned long req, uint32_t group, uint64_t a,
		 const void *addr)
{
	struct kvm_device_attr da = {
		.group = group, .attr = a, .addr = (uintptr_t)addr,
	};

	return ioctl(dev, req, &da);
}

static void set_fd(int dev, const char *what, uint64_t a, int fd)
{
	char line[96];

	snprintf(line, sizeof(line), "SET %s %s", a == VFIO_ADD ? "ADD" :
		 a == VFIO_DEL ? "DEL" : "attr", what);
	chk(line, attr(dev, KVM_SET_DEVICE_ATTR, VFIO_GROUP, a, &fd));
}

int main(void)
{
	struct kvm_create_device cd = { .type = KVM_DEV_TYPE_VFIO };
	int32_t fd32;
	struct vm v;
	int dev, efd, null, closed;

	vm_create(&v, 0x10000);
	chk("KVM_CHECK_EXTENSION KVM_CAP_DEVICE_CTRL",
	    ioctl(v.fd, KVM_CHECK_EXTENSION, KVM_CAP_DEVICE_CTRL));

	tr("# creation");
	cd.flags = KVM_CREATE_DEVICE_TEST;
	cd.fd = 12345;
	chk("KVM_CREATE_DEVICE VFIO, TEST", ioctl(v.fd, KVM_CREATE_DEVICE, &cd));
	tr("  fd left as it was: %s", cd.fd == 12345 ? "yes" : "no");
	chk("KVM_CREATE_DEVICE type 0x7fff, TEST",
	    ioctl(v.fd, KVM_CREATE_DEVICE, &(struct kvm_create_device){
		.type = 0x7fff, .flags = KVM_CREATE_DEVICE_TEST }));
	chk("KVM_CREATE_DEVICE bad pointer",
	    ioctl(v.fd, KVM_CREATE_DEVICE, (void *)8));
	chk("KVM_CREATE_DEVICE VFIO on the vCPU fd",
	    ioctl(v.vcpu, KVM_CREATE_DEVICE, &cd));
	cd.flags = 0x2;		/* KVM ignores flags other than TEST */
	chk_ok("KVM_CREATE_DEVICE VFIO, flags 2",
	       ioctl(v.fd, KVM_CREATE_DEVICE, &cd));
	dev = (int)cd.fd;
	die_unless(dev >= 0, "KVM_CREATE_DEVICE VFIO");
	chk("  fd is close-on-exec", fcntl(dev, F_GETFD) & FD_CLOEXEC);
	cd.flags = 0;
	chk_ok("KVM_CREATE_DEVICE VFIO a second time",
	       ioctl(v.fd, KVM_CREATE_DEVICE, &cd));
	cd.flags = KVM_CREATE_DEVICE_TEST;
	chk("KVM_CREATE_DEVICE VFIO, TEST, after one exists",
	    ioctl(v.fd, KVM_CREATE_DEVICE, &cd));

	tr("# KVM_HAS_DEVICE_ATTR");
	chk("GROUP ADD", attr(dev, KVM_HAS_DEVICE_ATTR, VFIO_GROUP, VFIO_ADD, 0));
	chk("GROUP DEL", attr(dev, KVM_HAS_DEVICE_ATTR, VFIO_GROUP, VFIO_DEL, 0));
	chk("GROUP SET_SPAPR_TCE",
	    attr(dev, KVM_HAS_DEVICE_ATTR, VFIO_GROUP, VFIO_SPAPR_TCE, 0));
	chk("GROUP attr 0", attr(dev, KVM_HAS_DEVICE_ATTR, VFIO_GROUP, 0, 0));
	chk("GROUP attr 4", attr(dev, KVM_HAS_DEVICE_ATTR, VFIO_GROUP, 4, 0));
	chk("group 0", attr(dev, KVM_HAS_DEVICE_ATTR, 0, VFIO_ADD, 0));
	chk("group 2", attr(dev, KVM_HAS_DEVICE_ATTR, 2, VFIO_ADD, 0));
	chk("bad pointer", ioctl(dev, KVM_HAS_DEVICE_ATTR, (void *)8));

	tr("# KVM_GET_DEVICE_ATTR");
	chk("GROUP ADD",
	    attr(dev, KVM_GET_DEVICE_ATTR, VFIO_GROUP, VFIO_ADD, &fd32));
	chk("group 2", attr(dev, KVM_GET_DEVICE_ATTR, 2, VFIO_ADD, &fd32));

	tr("# KVM_SET_DEVICE_ATTR with files that are not VFIO's");
	efd = eventfd(0, EFD_CLOEXEC);
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	closed = dup(null);
	close(closed);
	set_fd(dev, "fd -1", VFIO_ADD, -1);
	set_fd(dev, "a closed fd", VFIO_ADD, closed);
	set_fd(dev, "an eventfd", VFIO_ADD, efd);
	set_fd(dev, "/dev/null", VFIO_ADD, null);
	set_fd(dev, "/dev/kvm", VFIO_ADD, v.sys);
	set_fd(dev, "the VM", VFIO_ADD, v.fd);
	set_fd(dev, "the device itself", VFIO_ADD, dev);
	set_fd(dev, "fd -1", VFIO_DEL, -1);
	set_fd(dev, "a closed fd", VFIO_DEL, closed);
	set_fd(dev, "an eventfd", VFIO_DEL, efd);
	set_fd(dev, "/dev/null", VFIO_DEL, null);
	set_fd(dev, "eventfd, SET_SPAPR_TCE", VFIO_SPAPR_TCE, efd);
	set_fd(dev, "eventfd, attr 4", 4, efd);
	chk("SET group 2",
	    attr(dev, KVM_SET_DEVICE_ATTR, 2, VFIO_ADD, &efd));
	chk("SET ADD, bad addr",
	    attr(dev, KVM_SET_DEVICE_ATTR, VFIO_GROUP, VFIO_ADD, (void *)8));
	chk("SET DEL, bad addr",
	    attr(dev, KVM_SET_DEVICE_ATTR, VFIO_GROUP, VFIO_DEL, (void *)8));
	chk("SET bad pointer", ioctl(dev, KVM_SET_DEVICE_ATTR, (void *)8));

	tr("# other ioctls on the device fd");
	chk("KVM_RUN", ioctl(dev, KVM_RUN, 0));
	chk("KVM_CHECK_EXTENSION", ioctl(dev, KVM_CHECK_EXTENSION, 0));
	close(null);
	close(efd);
	close(dev);
	vm_destroy(&v);
	return 0;
}
