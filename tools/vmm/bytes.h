/* SPDX-License-Identifier: MIT */
/*
 * bytes.h - little-endian stores into firmware tables, and their checksum.
 */
#ifndef SKVM_VMM_BYTES_H
#define SKVM_VMM_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline void put8(uint8_t *p, uint8_t v)
{
	p[0] = v;
}

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	put16(p, v);
	put16(p + 2, v >> 16);
}

static inline void put64(uint8_t *p, uint64_t v)
{
	put32(p, v);
	put32(p + 4, v >> 32);
}

static inline void putstr(uint8_t *p, const char *s, size_t n)
{
	memcpy(p, s, n);	/* fixed-width, not terminated */
}

/* The byte that makes the bytes of [p, p + len) sum to zero. */
static inline uint8_t sum8_fix(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	while (len--)
		sum += *p++;
	return (uint8_t)-sum;
}

#endif
