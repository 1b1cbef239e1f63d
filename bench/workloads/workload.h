/* SPDX-License-Identifier: MIT */
/*
 * workload.h - the benchmark workloads.
 *
 * Each workload is one function u64 wl_NAME_run(u64 n) that runs n
 * iterations and returns a checksum of what it computed.  The objects are
 * compiled once, freestanding and without SSE, and linked both into the
 * guest images and into the native runner, so the guest and the host
 * execute the same machine code.  Every iteration does the same work, so
 * the number of instructions one call executes is exactly a + b * n.
 */
#ifndef SKVM_BENCH_WORKLOAD_H
#define SKVM_BENCH_WORKLOAD_H

/* Instructions per iteration of the assembly loops, from their listing. */
#define WL_ALU_INSNS_PER_ITER	10
#define WL_MEM_INSNS_PER_ITER	8
#define WL_CALL_INSNS_PER_ITER	11

/* The buffer the load/store loop walks (a power of two) and its stride. */
#define WL_MEM_BUF_BYTES	(16 << 20)
#define WL_MEM_STRIDE		4160	/* a page and a cache line */

#ifndef __ASSEMBLER__
#include <stdint.h>

uint64_t wl_alu_run(uint64_t n);
uint64_t wl_mem_run(uint64_t n);
uint64_t wl_call_run(uint64_t n);
uint64_t wl_crc32_run(uint64_t n);
uint64_t wl_sort_run(uint64_t n);

/* crc32: bytes per iteration through the table and the bitwise loop. */
#define WL_CRC_TABLE_BYTES	(8u << 10)
#define WL_CRC_BITWISE_BYTES	512u

/* sort: 32-bit keys heapsorted per iteration. */
#define WL_SORT_KEYS		1024u

/* Exported for the native self-test (crc32 of "123456789" is 0xcbf43926). */
uint32_t wl_crc32_table(uint32_t crc, const uint8_t *p, uint64_t len);
uint32_t wl_crc32_bitwise(uint32_t crc, const uint8_t *p, uint64_t len);
void wl_crc32_init(void);

#endif /* __ASSEMBLER__ */
#endif
