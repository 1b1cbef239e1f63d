// SPDX-License-Identifier: MIT
/*
 * kvm_device.c - KVM_CREATE_DEVICE and the device fds.
 *
 * A device fd is a memfd like every skvm object; it holds a reference to
 * its VM, and its release (last fd or mapping gone) calls the device's
 * release op, as the kernel's kvm_device_release() does.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kvm_device.h"
#include "kvm_file.h"

static const struct kvm_device_ops *device_ops(uint32_t type)
{
	switch (type) {
	case KVM_DEV_TYPE_VFIO:
		return &kvm_vfio_ops;
	default:
		return NULL;
	}
}

static void kvm_device_release(struct kvm_file *f)
{
	struct kvm_device *dev = f->obj;
	struct kvm *kvm = dev->kvm;
	struct kvm_device **pp;

	pthread_mutex_lock(&kvm->lock);
	for (pp = &kvm->devices; *pp && *pp != dev; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = dev->next;
	if (dev->ops->release)
		dev->ops->release(dev);
	pthread_mutex_unlock(&kvm->lock);
	free(dev);
	kvm_put_kvm(kvm);
}

long kvm_vm_ioctl_create_device(struct kvm *kvm, void *argp)
{
	const struct kvm_device_ops *ops;
	struct kvm_create_device cd;
	struct kvm_device *dev;
	struct kvm_file *f;
	int r, fd;

	if (copy_from_user(&cd, argp, sizeof(cd)))
		return -EFAULT;
	ops = device_ops(cd.type);
	if (!ops)
		return -ENODEV;
	if (cd.flags & KVM_CREATE_DEVICE_TEST)
		return 0;
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	dev->ops = ops;
	dev->kvm = kvm;
	pthread_mutex_lock(&kvm->lock);
	r = ops->create(dev, cd.type);
	if (r) {
		pthread_mutex_unlock(&kvm->lock);
		free(dev);
		return r;
	}
	dev->next = kvm->devices;
	kvm->devices = dev;
	pthread_mutex_unlock(&kvm->lock);

	kvm_get_kvm(kvm);	/* the device file's reference */
	fd = kvm_file_create(ops->name, 0, O_CLOEXEC, KVM_FILE_DEVICE, dev,
			     kvm_device_release, &f);
	if (fd < 0) {
		struct kvm_file tmp = { .obj = dev };

		kvm_device_release(&tmp);
		return fd;
	}
	cd.fd = (uint32_t)fd;
	if (copy_to_user(argp, &cd, sizeof(cd))) {
		close(fd);	/* its release undoes the rest */
		return -EFAULT;
	}
	return 0;
}

static int device_attr(struct kvm_device *dev,
		       int (*accessor)(struct kvm_device *, struct kvm_device_attr *),
		       void *argp)
{
	struct kvm_device_attr attr;

	if (!accessor)
		return -EPERM;
	if (copy_from_user(&attr, argp, sizeof(attr)))
		return -EFAULT;
	return accessor(dev, &attr);
}

long kvm_device_ioctl(struct kvm_device *dev, unsigned long ioctl, void *argp)
{
	if (dev->kvm->owner_pid != getpid())
		return -EIO;
	switch (ioctl) {
	case KVM_SET_DEVICE_ATTR:
		return device_attr(dev, dev->ops->set_attr, argp);
	case KVM_GET_DEVICE_ATTR:
		return device_attr(dev, dev->ops->get_attr, argp);
	case KVM_HAS_DEVICE_ATTR:
		return device_attr(dev, dev->ops->has_attr, argp);
	default:
		return dev->ops->ioctl ? dev->ops->ioctl(dev, ioctl, argp) : -ENOTTY;
	}
}
