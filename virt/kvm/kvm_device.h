/* SPDX-License-Identifier: MIT */
/*
 * kvm_device.h - devices created with KVM_CREATE_DEVICE, each with its own
 * fd served by KVM_SET/GET/HAS_DEVICE_ATTR (api.rst 4.80, "KVM_CREATE_DEVICE").
 */
#ifndef SKVM_KVM_DEVICE_H
#define SKVM_KVM_DEVICE_H

#include "kvm_host.h"

struct kvm_device;

struct kvm_device_ops {
	const char *name;
	/* Called under kvm->lock; 0 or -errno. */
	int (*create)(struct kvm_device *dev, uint32_t type);
	/* The device fd was released; free dev->private (not dev). */
	void (*release)(struct kvm_device *dev);
	int (*set_attr)(struct kvm_device *dev, struct kvm_device_attr *attr);
	int (*get_attr)(struct kvm_device *dev, struct kvm_device_attr *attr);
	int (*has_attr)(struct kvm_device *dev, struct kvm_device_attr *attr);
	long (*ioctl)(struct kvm_device *dev, unsigned long ioctl, void *argp);
};

struct kvm_device {
	const struct kvm_device_ops *ops;
	struct kvm *kvm;
	void *private;
	struct kvm_device *next;	/* kvm->devices, under kvm->lock */
};

/* The device types this build offers (KVM_CREATE_DEVICE). */
extern const struct kvm_device_ops kvm_vfio_ops;

long kvm_vm_ioctl_create_device(struct kvm *kvm, void *argp);
long kvm_device_ioctl(struct kvm_device *dev, unsigned long ioctl, void *argp);

#endif /* SKVM_KVM_DEVICE_H */
