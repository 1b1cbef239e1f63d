/* SPDX-License-Identifier: MIT */
/*
 * mem - a load/add/store loop striding through a 16 MiB buffer by a page
 * and a cache line (WL_MEM_STRIDE) at a time, wrapping at the end.  Almost
 * every access touches another 4 KiB page, and the 4096 pages exceed any
 * software TLB we know of, so this measures the guest-virtual to host
 * translation path: TLB refills and page walks.  WL_MEM_INSNS_PER_ITER (8)
 * instructions per iteration.
 *
 * uint64_t wl_mem_run(uint64_t n)
 */
#include "workload.h"

	.text
	.globl	wl_mem_run
	.type	wl_mem_run, @function
wl_mem_run:
	mov	$wl_mem_buf, %rsi
	xor	%eax, %eax		/* offset */
	xor	%r8d, %r8d		/* sum of stored values */
	mov	%rdi, %rcx
	test	%rcx, %rcx
	jz	2f
1:	mov	(%rsi,%rax), %rdx		/* 1 */
	add	%rcx, %rdx			/* 2 */
	add	%rdx, %r8			/* 3 */
	mov	%rdx, (%rsi,%rax)		/* 4 */
	add	$WL_MEM_STRIDE, %rax		/* 5 */
	and	$(WL_MEM_BUF_BYTES - 1), %rax	/* 6 */
	dec	%rcx				/* 7 */
	jnz	1b				/* 8 */
2:	mov	%r8, %rax
	ret
	.size	wl_mem_run, . - wl_mem_run

	.bss
	.balign	4096
	.globl	wl_mem_buf
wl_mem_buf:
	.skip	WL_MEM_BUF_BYTES
	.section .note.GNU-stack, "", @progbits
