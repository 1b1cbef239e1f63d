// SPDX-License-Identifier: MIT
/*
 * cpio.c - "newc" archives: a 110-byte ASCII header ("070701" and
 * thirteen 8-digit hex fields), the name with its NUL, padding to 4 bytes,
 * the data, padding to 4 bytes; a "TRAILER!!!" entry ends the archive.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cpio.h"

void cpio__init(struct cpio *c)
{
	memset(c, 0, sizeof(*c));
}

void cpio__free(struct cpio *c)
{
	free(c->buf);
	cpio__init(c);
}

static int cpio__reserve(struct cpio *c, size_t more)
{
	size_t cap = c->cap ? c->cap : 4096;
	uint8_t *buf;

	while (cap < c->len + more)
		cap *= 2;
	if (cap == c->cap)
		return 0;
	buf = realloc(c->buf, cap);
	if (!buf)
		return -ENOMEM;
	c->buf = buf;
	c->cap = cap;
	return 0;
}

static void cpio__put(struct cpio *c, const void *p, size_t n)
{
	memcpy(c->buf + c->len, p, n);
	c->len += n;
}

static void cpio__pad(struct cpio *c)
{
	while (c->len % 4)
		c->buf[c->len++] = 0;
}

int cpio__add(struct cpio *c, const char *name, mode_t mode,
	      unsigned int rdev_major, unsigned int rdev_minor,
	      const void *data, size_t size)
{
	size_t namesize = strlen(name) + 1;
	char hdr[CPIO_HEADER_SIZE + 1];
	int ret;

	ret = cpio__reserve(c, CPIO_HEADER_SIZE + namesize + size + 8);
	if (ret)
		return ret;
	/* ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor
	 * rdevminor namesize check */
	snprintf(hdr, sizeof(hdr),
		 "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		 ++c->ino, (unsigned int)mode, 0, 0, S_ISDIR(mode) ? 2 : 1, 0,
		 (unsigned int)size, 0, 0, rdev_major, rdev_minor,
		 (unsigned int)namesize, 0);
	cpio__put(c, hdr, CPIO_HEADER_SIZE);
	cpio__put(c, name, namesize);
	cpio__pad(c);
	if (size)
		cpio__put(c, data, size);
	cpio__pad(c);
	return 0;
}

int cpio__finish(struct cpio *c)
{
	c->ino = (uint32_t)-1;		/* the trailer's fields are all zero */
	return cpio__add(c, CPIO_TRAILER, 0, 0, 0, NULL, 0);
}
