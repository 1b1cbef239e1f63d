/* SPDX-License-Identifier: MIT */
/*
 * bench_abi.h - how a benchmark guest talks to whoever runs it.
 *
 * The same image runs under QEMU TCG (multiboot loader) and under the
 * benchmark's own KVM client, so the protocol uses only port I/O that both
 * understand or that QEMU ignores:
 *
 *   BENCH_PORT_CON   0xe9  text console, one byte per OUT (QEMU -debugcon)
 *   BENCH_PORT_MARK  0xf0  32-bit OUT: BENCH_MARK_START / BENCH_MARK_END
 *                          around the timed workload (QEMU: unassigned port,
 *                          the write is dropped)
 *   BENCH_PORT_EXIT  0xf4  32-bit OUT of 0: done (QEMU isa-debug-exit, which
 *                          makes QEMU exit with status (0 << 1) | 1 = 1)
 *
 * The iteration count arrives on the multiboot command line as "n=DECIMAL".
 * The guest prints "result=%016lx" (the workload's checksum) before it
 * leaves, so a runner can compare it with the native result.
 */
#ifndef SKVM_BENCH_ABI_H
#define SKVM_BENCH_ABI_H

#define BENCH_PORT_CON		0xe9
#define BENCH_PORT_MARK		0xf0
#define BENCH_PORT_EXIT		0xf4

#define BENCH_MARK_START	1
#define BENCH_MARK_END		2

/* QEMU's exit status after the guest writes 0 to isa-debug-exit. */
#define BENCH_QEMU_EXIT_OK	1

/*
 * Guest memory layout.  The image links at 1 MiB; its page tables map the
 * first BENCH_MAPPED_BYTES with 4 KiB pages.  A loader puts the multiboot
 * info at BENCH_MBI_GPA (below 1 MiB, as multiboot loaders do).
 */
#define BENCH_LOAD_GPA		0x100000
#define BENCH_MAPPED_BYTES	(64ul << 20)
#define BENCH_GUEST_BYTES	(128ul << 20)
#define BENCH_MBI_GPA		0x8000

/*
 * Tag after the multiboot header: "SKVMBE64" then the 64-bit address of
 * entry64, where the image continues once it is in long mode with its
 * identity map.  A loader that enters long mode itself may jump there.
 */
#define BENCH_ENTRY64_TAG	"SKVMBE64"

#endif
