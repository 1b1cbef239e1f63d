// SPDX-License-Identifier: MIT
/*
 * long_mode - a 64-bit guest entered directly through KVM_SET_SREGS, with
 * identity page tables built by the client and no GDT.  It does integer
 * arithmetic, uses the stack (CALL/RET/PUSH/POP), writes memory and
 * reports results through 1-, 2- and 4-byte OUTs and an IN.
 */
#include <sys/ioctl.h>

#include "abi.h"

GUEST_CODE(lm,
	".code64\n"
	"	mov $0x0123456789abcdef, %rax\n"
	"	mov $0xfedcba9876543210, %rbx\n"
	"	add %rax, %rbx\n"		/* carry out: 0xffff...ff */
	"	mov %rbx, %rcx\n"
	"	shr $7, %rcx\n"
	"	imul $1000003, %rcx, %rdx\n"
	"	xor %rdx, %rax\n"
	"	rol $13, %rax\n"
	"	mov $0x9000, %rdi\n"
	"	mov %rax, (%rdi)\n"
	"	mov %rdx, 8(%rdi)\n"
	"	call 1f\n"
	"	jmp 2f\n"
	"1:	push %rax\n"
	"	lea 0x55(%rax), %rsi\n"
	"	pop %r8\n"
	"	ret\n"
	"2:	mov $0x11, %al\n"
	"	outb %al, $0xe9\n"
	"	mov $0x2233, %ax\n"
	"	outw %ax, $0xe9\n"
	"	mov $0x44556677, %eax\n"
	"	mov $0xe9, %dx\n"
	"	outl %eax, %dx\n"
	"	inl %dx, %eax\n"
	"	mov %rax, %r9\n"
	"	mov $10, %ecx\n"
	"	xor %r10, %r10\n"
	"3:	add %rcx, %r10\n"
	"	loop 3b\n"
	"	pushfq\n"
	"	pop %r11\n"
	"	hlt\n");

int main(void)
{
	struct vm v;

	vm_create(&v, 0x200000);
	vm_load(&v, GUEST_CODE_GPA, lm_start, lm_end - lm_start);
	vm_setup_long(&v, GUEST_CODE_GPA);
	print_sregs(&v);
	vm_run_to_hlt(&v, 64);
	print_regs(&v);
	print_sregs(&v);
	print_mem_hash(&v, GUEST_DATA_GPA, 0x1000);
	print_mem_hash(&v, GUEST_STACK_TOP - 0x100, 0x100);
	vm_destroy(&v);
	return 0;
}
