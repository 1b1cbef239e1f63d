/* SPDX-License-Identifier: MIT */
/*
 * call - nested CALL/RET with a PUSH/POP pair: WL_CALL_INSNS_PER_ITER (11)
 * instructions per iteration, four of them control transfers whose target
 * comes from the stack or the instruction.  Measures how an engine handles
 * block exits and return prediction.
 *
 * uint64_t wl_call_run(uint64_t n)
 */
	.text
	.globl	wl_call_run
	.type	wl_call_run, @function
wl_call_run:
	push	%rbx
	mov	$0x243f6a8885a308d3, %rax
	xor	%ebx, %ebx
	mov	%rdi, %rsi
	test	%rsi, %rsi
	jz	2f
1:	call	3f			/* 1 */
	dec	%rsi			/* 10 */
	jnz	1b			/* 11 */
2:	xor	%rbx, %rax
	pop	%rbx
	ret
3:	push	%rbx			/* 2 */
	lea	(%rax,%rsi), %rbx	/* 3 */
	call	4f			/* 4 */
	pop	%rbx			/* 8 */
	ret				/* 9 */
4:	add	%rbx, %rax		/* 5 */
	rol	$7, %rax		/* 6 */
	ret				/* 7 */
	.size	wl_call_run, . - wl_call_run
	.section .note.GNU-stack, "", @progbits
