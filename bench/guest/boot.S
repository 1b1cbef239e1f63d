/* SPDX-License-Identifier: MIT */
/*
 * boot.S - multiboot (version 1) entry of a benchmark image.
 *
 * The loader enters _start in 32-bit protected mode with flat segments,
 * paging off, EAX = 0x2badb002 and EBX = the multiboot information
 * (Multiboot Specification 0.6.96, 3.2 "Machine state").  We build an
 * identity map of the first BENCH_MAPPED_BYTES with 4 KiB pages, enable
 * PAE and EFER.LME, turn paging on and far-jump into 64-bit code
 * (Intel SDM Vol. 3A, 10.8.5 "Initializing IA-32e Mode").
 *
 * entry64 expects paging on with that identity map and EBX = multiboot
 * information; a loader that starts the vCPU in long mode itself may jump
 * there directly (see BENCH_ENTRY64_TAG).
 */
#include "bench_abi.h"

#define MB_MAGIC	0x1badb002
#define MB_FLAGS	0x00000003	/* page-align modules, want memory info */

#define PTE_P		0x001
#define PTE_W		0x002
#define CR0_PE		0x00000001
#define CR0_PG		0x80000000
#define CR4_PAE		0x00000020
#define MSR_EFER	0xc0000080
#define EFER_LME	0x00000100

#define N_PT		(BENCH_MAPPED_BYTES >> 21)	/* page tables */

	.section .multiboot, "a"
	.balign	4
	.long	MB_MAGIC
	.long	MB_FLAGS
	.long	-(MB_MAGIC + MB_FLAGS)
	.balign	8
	.ascii	BENCH_ENTRY64_TAG
	.quad	entry64

	.text
	.code32
	.globl	_start
	.type	_start, @function
_start:
	cli
	cld
	mov	$boot_stack_top, %esp

	/* PML4[0] -> PDPT, PDPT[0] -> PD, PD[0..N_PT) -> PT */
	movl	$(pdpt + PTE_P + PTE_W), pml4
	movl	$(pd + PTE_P + PTE_W), pdpt
	xor	%ecx, %ecx
	mov	$(pt + PTE_P + PTE_W), %eax
1:	mov	%eax, pd(,%ecx,8)
	add	$4096, %eax
	inc	%ecx
	cmp	$N_PT, %ecx
	jb	1b

	/* PT[i] -> i * 4 KiB */
	xor	%ecx, %ecx
	mov	$(PTE_P + PTE_W), %eax
2:	mov	%eax, pt(,%ecx,8)
	add	$4096, %eax
	inc	%ecx
	cmp	$(N_PT * 512), %ecx
	jb	2b

	lgdt	gdt_desc
	mov	$0x10, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	%ax, %fs
	mov	%ax, %gs

	mov	%cr4, %eax
	or	$CR4_PAE, %eax
	mov	%eax, %cr4
	mov	$pml4, %eax
	mov	%eax, %cr3
	mov	$MSR_EFER, %ecx
	rdmsr
	or	$EFER_LME, %eax
	wrmsr
	mov	%cr0, %eax
	or	$(CR0_PE | CR0_PG), %eax
	mov	%eax, %cr0
	ljmp	$0x08, $entry64
	.size	_start, . - _start

	.code64
	.globl	entry64
	.type	entry64, @function
entry64:
	mov	$boot_stack_top, %rsp
	mov	%ebx, %edi
	call	bench_main
3:	hlt
	jmp	3b
	.size	entry64, . - entry64

	.section .rodata
	.balign	8
gdt:
	.quad	0				/* null */
	.quad	0x00af9a000000ffff		/* 0x08: 64-bit code, DPL 0 */
	.quad	0x00cf92000000ffff		/* 0x10: flat data */
gdt_end:
gdt_desc:
	.word	gdt_end - gdt - 1
	.long	gdt

	.bss
	.balign	4096
pml4:	.skip	4096
pdpt:	.skip	4096
pd:	.skip	4096
pt:	.skip	N_PT * 4096
	.balign	16
boot_stack:
	.skip	65536
boot_stack_top:
	.section .note.GNU-stack, "", @progbits
