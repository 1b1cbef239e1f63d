// SPDX-License-Identifier: MIT
/*
 * mmio - a 64-bit guest writes and reads 1, 2, 4 and 8 bytes in a region
 * with no memslot behind it (guest-physical 2 MiB, right after RAM), and
 * does one 4-byte write and one 4-byte read that straddle the end of RAM.
 *
 * Checks: each exit's phys_addr, len, is_write and data; that the data the
 * client leaves in run->mmio.data for a read reaches the register (with
 * zero- or sign-extension as the instruction says); that a straddling
 * access touches RAM for its RAM part and exits only for the MMIO part.
 */
#include <sys/ioctl.h>

#include "abi.h"

#define RAM_SIZE	0x200000	/* MMIO starts where RAM ends */

GUEST_CODE(mmio,
	".code64\n"
	"	mov $0x200000, %rdi\n"
	"	movb $0x11, (%rdi)\n"
	"	movw $0x2233, 0x8(%rdi)\n"
	"	movl $0x44556677, 0x10(%rdi)\n"
	"	mov $0x8899aabbccddeeff, %rax\n"
	"	mov %rax, 0x18(%rdi)\n"
	"	mov $-1, %r8\n"
	"	mov $-1, %r9\n"
	"	mov $-1, %r10\n"
	"	mov $-1, %r11\n"
	"	movb 0x20(%rdi), %r8b\n"	/* merges into r8 */
	"	movzwq 0x28(%rdi), %r9\n"
	"	movl 0x30(%rdi), %r10d\n"	/* zero-extends */
	"	mov 0x38(%rdi), %r11\n"
	"	movsbq 0x40(%rdi), %r12\n"
	"	mov $0x1ffffe, %rsi\n"
	"	movl $0xcafef00d, (%rsi)\n"	/* 2 bytes RAM, 2 MMIO */
	"	movl (%rsi), %r13d\n"
	"	mov $0x1ffffc, %rsi\n"
	"	movq (%rsi), %r14\n"		/* 4 bytes RAM, 4 MMIO */
	"	hlt\n");

int main(void)
{
	struct vm v;

	vm_create(&v, RAM_SIZE);
	vm_load(&v, GUEST_CODE_GPA, mmio_start, mmio_end - mmio_start);
	v.mem[RAM_SIZE - 4] = 0x5a;
	v.mem[RAM_SIZE - 3] = 0x5b;
	vm_setup_long(&v, GUEST_CODE_GPA);
	vm_run_to_hlt(&v, 64);
	print_regs(&v);
	tr("ram tail %02x %02x %02x %02x", v.mem[RAM_SIZE - 4],
	   v.mem[RAM_SIZE - 3], v.mem[RAM_SIZE - 2], v.mem[RAM_SIZE - 1]);
	print_mem_hash(&v, 0, RAM_SIZE);
	vm_destroy(&v);
	return 0;
}
