// SPDX-License-Identifier: MIT
/*
 * main.c - the 64-bit side of a benchmark image: read the iteration count
 * from the multiboot command line, run the workload between two markers,
 * print its checksum and leave through isa-debug-exit.
 */
#include <stdint.h>

#include "bench_abi.h"

/* Bound at link time to the image's workload (--defsym=wl_run=...). */
uint64_t wl_run(uint64_t n);
void bench_main(uint32_t mbi_addr);

/* Multiboot information: flags, mem_lower, mem_upper, boot_device, cmdline. */
#define MBI_FLAG_CMDLINE	(1u << 2)

static inline void outb(uint16_t port, uint8_t v)
{
	asm volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	asm volatile("outl %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static void con_puts(const char *s)
{
	while (*s)
		outb(BENCH_PORT_CON, (uint8_t)*s++);
}

static void con_hex(uint64_t v)
{
	char buf[17];
	int i;

	for (i = 15; i >= 0; i--) {
		buf[i] = "0123456789abcdef"[v & 15];
		v >>= 4;
	}
	buf[16] = 0;
	con_puts(buf);
}

/* The value of the last "n=DECIMAL" on the command line, or 0. */
static uint64_t cmdline_n(const char *s)
{
	uint64_t n = 0;
	char prev = ' ';

	for (; *s; prev = *s++) {
		if (prev != ' ' || s[0] != 'n' || s[1] != '=')
			continue;
		n = 0;
		for (s += 2; *s >= '0' && *s <= '9'; s++)
			n = n * 10 + (uint64_t)(*s - '0');
		if (!*s)
			break;
	}
	return n;
}

void bench_main(uint32_t mbi_addr)
{
	const uint32_t *mbi = (const uint32_t *)(uintptr_t)mbi_addr;
	uint64_t n = 0, r;

	if (mbi && (mbi[0] & MBI_FLAG_CMDLINE))
		n = cmdline_n((const char *)(uintptr_t)mbi[4]);

	con_puts("bench: start\n");
	outl(BENCH_PORT_MARK, BENCH_MARK_START);
	r = wl_run(n);
	outl(BENCH_PORT_MARK, BENCH_MARK_END);
	con_puts("result=");
	con_hex(r);
	con_puts("\n");
	outl(BENCH_PORT_EXIT, 0);
}
