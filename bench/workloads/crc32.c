// SPDX-License-Identifier: MIT
/*
 * crc32 - compiled C: CRC-32 (IEEE 802.3, reflected polynomial 0xedb88320)
 * over a pseudo-random buffer, once through a 256-entry table and once bit
 * by bit.  The table loop is loads, shifts and XORs with a data-dependent
 * load address; the bitwise loop is a tight inner loop of shifts and masks.
 * Both are written without data-dependent branches, so every iteration
 * executes the same instructions.
 */
#include "workload.h"

#define CRC32_POLY	0xedb88320u

static uint32_t crc_table[256];
static uint8_t crc_buf[WL_CRC_TABLE_BYTES];

void wl_crc32_init(void)
{
	uint32_t i, k, c;

	for (i = 0; i < 256; i++) {
		c = i;
		for (k = 0; k < 8; k++)
			c = (c >> 1) ^ (CRC32_POLY & -(c & 1));
		crc_table[i] = c;
	}
}

uint32_t wl_crc32_table(uint32_t crc, const uint8_t *p, uint64_t len)
{
	crc = ~crc;
	while (len--)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

uint32_t wl_crc32_bitwise(uint32_t crc, const uint8_t *p, uint64_t len)
{
	int k;

	crc = ~crc;
	while (len--) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (CRC32_POLY & -(crc & 1));
	}
	return ~crc;
}

static void crc_fill(void)
{
	uint64_t x = 0x853c49e6748fea9bull;
	uint32_t i;

	for (i = 0; i < WL_CRC_TABLE_BYTES; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		crc_buf[i] = (uint8_t)(x >> 24);
	}
}

uint64_t wl_crc32_run(uint64_t n)
{
	uint32_t a = 0, b = 0;

	wl_crc32_init();
	crc_fill();
	while (n--) {
		a = wl_crc32_table(a, crc_buf, WL_CRC_TABLE_BYTES);
		b = wl_crc32_bitwise(b, crc_buf, WL_CRC_BITWISE_BYTES);
	}
	return (uint64_t)a << 32 | b;
}
