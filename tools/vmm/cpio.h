/* SPDX-License-Identifier: MIT */
/*
 * cpio.h - a writer of the "newc" cpio format the kernel unpacks as an
 * initramfs (Documentation/driver-api/early-userspace/buffer-format.rst).
 */
#ifndef SKVM_VMM_CPIO_H
#define SKVM_VMM_CPIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CPIO_HEADER_SIZE	110
#define CPIO_TRAILER		"TRAILER!!!"

struct cpio {
	uint8_t *buf;
	size_t len, cap;
	uint32_t ino;
};

void cpio__init(struct cpio *c);
void cpio__free(struct cpio *c);
/* One entry; data may be NULL when size is 0.  Returns 0 or -ENOMEM. */
int cpio__add(struct cpio *c, const char *name, mode_t mode,
	      unsigned int rdev_major, unsigned int rdev_minor,
	      const void *data, size_t size);
int cpio__finish(struct cpio *c);

#endif
