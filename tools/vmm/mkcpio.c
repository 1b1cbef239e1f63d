// SPDX-License-Identifier: MIT
/*
 * mkcpio.c - build a newc initramfs at build time, without a cpio tool.
 *
 *	skvm-mkcpio OUT ENTRY...
 *
 * ENTRY is dir:NAME, char:NAME:MAJOR:MINOR or file:NAME:SOURCE (an
 * executable, mode 0755).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cpio.h"

static int mkcpio__read(const char *path, void **data, size_t *size)
{
	FILE *f = fopen(path, "rb");
	long n;

	if (!f)
		return -errno;
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET)) {
		fclose(f);
		return -EIO;
	}
	*data = malloc(n ? n : 1);
	if (!*data || fread(*data, 1, n, f) != (size_t)n) {
		fclose(f);
		free(*data);
		return -EIO;
	}
	fclose(f);
	*size = n;
	return 0;
}

static int mkcpio__entry(struct cpio *c, char *spec)
{
	char *kind = strtok(spec, ":"), *name = strtok(NULL, ":");
	char *a = strtok(NULL, ":"), *b = strtok(NULL, ":");
	void *data = NULL;
	size_t size = 0;
	int ret;

	if (!kind || !name)
		return -EINVAL;
	if (!strcmp(kind, "dir"))
		return cpio__add(c, name, S_IFDIR | 0755, 0, 0, NULL, 0);
	if (!strcmp(kind, "char") && a && b)
		return cpio__add(c, name, S_IFCHR | 0600, atoi(a), atoi(b),
				 NULL, 0);
	if (strcmp(kind, "file") || !a)
		return -EINVAL;
	ret = mkcpio__read(a, &data, &size);
	if (ret)
		return ret;
	ret = cpio__add(c, name, S_IFREG | 0755, 0, 0, data, size);
	free(data);
	return ret;
}

int main(int argc, char **argv)
{
	struct cpio c;
	FILE *out;
	int i, ret = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: skvm-mkcpio OUT ENTRY...\n");
		return 2;
	}
	cpio__init(&c);
	for (i = 2; i < argc && !ret; i++)
		ret = mkcpio__entry(&c, argv[i]);
	if (!ret)
		ret = cpio__finish(&c);
	if (ret) {
		fprintf(stderr, "skvm-mkcpio: %s: %s\n", argv[i - 1],
			strerror(-ret));
		return 1;
	}
	out = fopen(argv[1], "wb");
	if (!out || fwrite(c.buf, 1, c.len, out) != c.len || fclose(out)) {
		perror(argv[1]);
		return 1;
	}
	cpio__free(&c);
	return 0;
}
