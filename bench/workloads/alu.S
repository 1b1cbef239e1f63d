/* SPDX-License-Identifier: MIT */
/*
 * alu - a register-only ALU loop: WL_ALU_INSNS_PER_ITER (10) instructions
 * per iteration, no memory access, one taken branch.  Measures the
 * engine's dispatch and flags cost on the simplest code there is.
 *
 * uint64_t wl_alu_run(uint64_t n)
 */
	.text
	.globl	wl_alu_run
	.type	wl_alu_run, @function
wl_alu_run:
	mov	$0x0123456789abcdef, %rax
	mov	$0x5555, %edx
	mov	$0x9e3779b97f4a7c15, %r8
	xor	%r9d, %r9d
	mov	%rdi, %rcx
	test	%rcx, %rcx
	jz	2f
1:	add	%r8, %rax		/* 1 */
	xor	%rax, %rdx		/* 2 */
	rol	$13, %rdx		/* 3 */
	sub	%rdx, %r8		/* 4 */
	lea	1(%rax,%r8), %rax	/* 5 */
	or	%rcx, %r9		/* 6 */
	and	%rdx, %r9		/* 7 */
	add	%r9, %rax		/* 8 */
	dec	%rcx			/* 9 */
	jnz	1b			/* 10 */
2:	xor	%rdx, %rax
	xor	%r8, %rax
	xor	%r9, %rax
	ret
	.size	wl_alu_run, . - wl_alu_run
	.section .note.GNU-stack, "", @progbits
