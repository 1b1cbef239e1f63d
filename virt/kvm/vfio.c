// SPDX-License-Identifier: MIT
/*
 * vfio.c - the KVM-VFIO pseudo device (KVM_DEV_TYPE_VFIO,
 * Documentation/virt/kvm/devices/vfio.rst).
 *
 * The VMM tells KVM which VFIO files (groups, or device cdevs on newer
 * kernels) the VM uses, so that KVM can make decisions that depend on
 * assigned devices.  The device keeps the files it was given: like the
 * kernel, which holds a reference to each struct file, we keep a
 * close-on-exec duplicate of the client's fd, and compare files by open
 * file description (kcmp), as the kernel compares struct file pointers.
 *
 * A file is accepted when it is a character device of the "vfio" (group)
 * or "vfio-dev" (device cdev) driver, as /proc/devices names them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "kvm_compat.h"
#include "kvm_device.h"
#include "kvm_file.h"

struct kvm_vfio_file {
	int fd;				/* our duplicate */
	struct kvm_vfio_file *next;
};

struct kvm_vfio {
	pthread_mutex_t lock;
	struct kvm_vfio_file *files;
};

/* The major number /proc/devices gives a character driver, or -1. */
static int chrdev_major(const char *driver)
{
	char line[128], name[64];
	bool chars = false;
	int major = -1, m;
	FILE *f = fopen("/proc/devices", "re");

	if (!f)
		return -1;
	while (major < 0 && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "Character devices:", 18))
			chars = true;
		else if (!strncmp(line, "Block devices:", 14))
			chars = false;
		else if (chars && sscanf(line, "%d %63s", &m, name) == 2 &&
			 !strcmp(name, driver))
			major = m;
	}
	fclose(f);
	return major;
}

static bool is_vfio_file(int fd)
{
	struct stat st;
	int maj;

	if (fstat(fd, &st) || !S_ISCHR(st.st_mode))
		return false;
	maj = (int)major(st.st_rdev);
	return maj == chrdev_major("vfio") || maj == chrdev_major("vfio-dev");
}

static int kvm_vfio_file_add(struct kvm_vfio *kv, int fd)
{
	struct kvm_vfio_file *kvf;
	int r = 0;

	if (fd < 0 || fcntl(fd, F_GETFD) < 0)
		return -EBADF;
	if (!is_vfio_file(fd))
		return -EINVAL;
	pthread_mutex_lock(&kv->lock);
	for (kvf = kv->files; kvf; kvf = kvf->next) {
		if (kvm_same_file(kvf->fd, fd)) {
			r = -EEXIST;
			goto out;
		}
	}
	kvf = calloc(1, sizeof(*kvf));
	if (!kvf) {
		r = -ENOMEM;
		goto out;
	}
	kvf->fd = kvm_fd_dup_private(fd);
	if (kvf->fd < 0) {
		r = kvf->fd;
		free(kvf);
		goto out;
	}
	kvf->next = kv->files;
	kv->files = kvf;
out:
	pthread_mutex_unlock(&kv->lock);
	return r;
}

static int kvm_vfio_file_del(struct kvm_vfio *kv, int fd)
{
	struct kvm_vfio_file **pp;
	int r = -ENOENT;

	if (fd < 0 || fcntl(fd, F_GETFD) < 0)
		return -EBADF;
	pthread_mutex_lock(&kv->lock);
	for (pp = &kv->files; *pp; pp = &(*pp)->next) {
		struct kvm_vfio_file *kvf = *pp;

		if (!kvm_same_file(kvf->fd, fd))
			continue;
		*pp = kvf->next;
		close(kvf->fd);
		free(kvf);
		r = 0;
		break;
	}
	pthread_mutex_unlock(&kv->lock);
	return r;
}

static int kvm_vfio_set_attr(struct kvm_device *dev, struct kvm_device_attr *attr)
{
	int32_t fd;

	if (attr->group != KVM_DEV_VFIO_FILE)
		return -ENXIO;
	switch (attr->attr) {
	case KVM_DEV_VFIO_FILE_ADD:
	case KVM_DEV_VFIO_FILE_DEL:
		if (copy_from_user(&fd, (void *)(uintptr_t)attr->addr, sizeof(fd)))
			return -EFAULT;
		return attr->attr == KVM_DEV_VFIO_FILE_ADD ?
			kvm_vfio_file_add(dev->private, fd) :
			kvm_vfio_file_del(dev->private, fd);
	default:
		return -ENXIO;	/* SET_SPAPR_TCE is for POWER only */
	}
}

static int kvm_vfio_has_attr(struct kvm_device *dev, struct kvm_device_attr *attr)
{
	if (attr->group == KVM_DEV_VFIO_FILE &&
	    (attr->attr == KVM_DEV_VFIO_FILE_ADD ||
	     attr->attr == KVM_DEV_VFIO_FILE_DEL))
		return 0;
	return -ENXIO;
}

static int kvm_vfio_create(struct kvm_device *dev, uint32_t type)
{
	struct kvm_vfio *kv;

	/* One KVM-VFIO device per VM. */
	for (struct kvm_device *d = dev->kvm->devices; d; d = d->next)
		if (d->ops == &kvm_vfio_ops)
			return -EBUSY;
	kv = calloc(1, sizeof(*kv));
	if (!kv)
		return -ENOMEM;
	pthread_mutex_init(&kv->lock, NULL);
	dev->private = kv;
	return 0;
}

static void kvm_vfio_release(struct kvm_device *dev)
{
	struct kvm_vfio *kv = dev->private;

	while (kv->files) {
		struct kvm_vfio_file *kvf = kv->files;

		kv->files = kvf->next;
		close(kvf->fd);
		free(kvf);
	}
	pthread_mutex_destroy(&kv->lock);
	free(kv);
}

const struct kvm_device_ops kvm_vfio_ops = {
	.name = "kvm-vfio",
	.create = kvm_vfio_create,
	.release = kvm_vfio_release,
	.set_attr = kvm_vfio_set_attr,
	.has_attr = kvm_vfio_has_attr,
};
