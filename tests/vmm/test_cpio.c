// SPDX-License-Identifier: MIT
/*
 * Unit tests of the newc cpio writer (tools/vmm/cpio.c): each header
 * parsed back field by field, 4-byte alignment of names and data, device
 * numbers, and the TRAILER!!! entry.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "cpio.h"

struct entry {
	unsigned long field[13];	/* ino mode uid gid nlink mtime size
					 * devmaj devmin rdevmaj rdevmin
					 * namesize check */
	const char *name;
	const uint8_t *data;
};

static unsigned long hex8(const uint8_t *p)
{
	char s[9];

	memcpy(s, p, 8);
	s[8] = '\0';
	return strtoul(s, NULL, 16);
}

/* Parses the entry at *off and moves *off past it. */
static void parse(const struct cpio *c, size_t *off, struct entry *e)
{
	const uint8_t *p = c->buf + *off;
	size_t name_end;
	int i;

	assert_true(*off + CPIO_HEADER_SIZE <= c->len);
	assert_int_equal(*off % 4, 0);
	assert_memory_equal(p, "070701", 6);
	for (i = 0; i < 13; i++)
		e->field[i] = hex8(p + 6 + 8 * i);
	e->name = (const char *)p + CPIO_HEADER_SIZE;
	assert_int_equal(strlen(e->name) + 1, e->field[11]);
	name_end = CPIO_HEADER_SIZE + e->field[11];
	name_end = (name_end + 3) & ~3UL;	/* data starts 4-aligned */
	e->data = p + name_end;
	*off += name_end + ((e->field[6] + 3) & ~3UL);
	assert_true(*off <= c->len);
}

static void test_entries(void **state)
{
	static const char init[] = "#!/bin/sh\necho 12345\n";	/* 21 bytes */
	struct cpio c;
	struct entry e;
	size_t off = 0;

	cpio__init(&c);
	assert_int_equal(cpio__add(&c, "dev", S_IFDIR | 0755, 0, 0, NULL, 0), 0);
	assert_int_equal(cpio__add(&c, "dev/console", S_IFCHR | 0600, 5, 1,
				   NULL, 0), 0);
	assert_int_equal(cpio__add(&c, "init", S_IFREG | 0755, 0, 0, init,
				   strlen(init)), 0);
	assert_int_equal(cpio__finish(&c), 0);
	assert_int_equal(c.len % 4, 0);

	parse(&c, &off, &e);
	assert_string_equal(e.name, "dev");
	assert_int_equal(e.field[1], S_IFDIR | 0755);
	assert_int_equal(e.field[4], 2);	/* nlink of a directory */
	assert_int_equal(e.field[6], 0);

	parse(&c, &off, &e);
	assert_string_equal(e.name, "dev/console");
	assert_int_equal(e.field[1], S_IFCHR | 0600);
	assert_int_equal(e.field[9], 5);
	assert_int_equal(e.field[10], 1);

	parse(&c, &off, &e);
	assert_string_equal(e.name, "init");
	assert_int_equal(e.field[1], S_IFREG | 0755);
	assert_int_equal(e.field[6], strlen(init));
	assert_memory_equal(e.data, init, strlen(init));
	assert_int_equal(e.field[12], 0);	/* newc: no checksum */
	assert_int_equal(e.field[0], 3);	/* distinct inodes */

	parse(&c, &off, &e);
	assert_string_equal(e.name, CPIO_TRAILER);
	assert_int_equal(e.field[6], 0);
	assert_int_equal(off, c.len);
	cpio__free(&c);
}

/* Every name length modulo 4 and every data length modulo 4. */
static void test_alignment(void **state)
{
	char name[16], data[64];
	struct cpio c;
	struct entry e;
	size_t off = 0;
	int n, d;

	memset(data, 'd', sizeof(data));
	cpio__init(&c);
	for (n = 1; n <= 8; n++)
		for (d = 0; d <= 8; d++) {
			snprintf(name, sizeof(name), "%.*s", n, "abcdefgh");
			assert_int_equal(cpio__add(&c, name, S_IFREG | 0644, 0,
						   0, data, d), 0);
		}
	cpio__finish(&c);
	for (n = 1; n <= 8; n++)
		for (d = 0; d <= 8; d++) {
			parse(&c, &off, &e);
			assert_int_equal(strlen(e.name), n);
			assert_int_equal(e.field[6], d);
			assert_int_equal((e.data - c.buf) % 4, 0);
			assert_memory_equal(e.data, data, d);
		}
	parse(&c, &off, &e);
	assert_string_equal(e.name, CPIO_TRAILER);
	cpio__free(&c);
}

/* Growing past the first allocation keeps earlier entries intact. */
static void test_large(void **state)
{
	size_t big = 100000, off = 0, i;
	uint8_t *data = malloc(big);
	struct cpio c;
	struct entry e;

	for (i = 0; i < big; i++)
		data[i] = (uint8_t)(i * 13);
	cpio__init(&c);
	cpio__add(&c, "a", S_IFREG | 0644, 0, 0, "x", 1);
	cpio__add(&c, "big", S_IFREG | 0644, 0, 0, data, big);
	cpio__finish(&c);
	parse(&c, &off, &e);
	assert_memory_equal(e.data, "x", 1);
	parse(&c, &off, &e);
	assert_memory_equal(e.data, data, big);
	cpio__free(&c);
	free(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entries),
		cmocka_unit_test(test_alignment),
		cmocka_unit_test(test_large),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
