// SPDX-License-Identifier: MIT
/*
 * real_mode_hello - a real-mode guest prints "Hello" one OUT at a time,
 * then once more with REP OUTSB, reads ports with IN and REP INSB, and
 * halts.  Also records the vCPU's reset state as KVM reports it.
 *
 * KVM's instruction emulator handles OUTS one element per exit (count=1
 * each; its OUTS handler passes a count of 1) and INS several elements per
 * exit (count=4 here); that is KVM on hardware too, not a quirk of the
 * reference device.
 */
#include <string.h>
#include <sys/ioctl.h>

#include "abi.h"

#define HELLO_MSG	"(hello_msg - hello_start + 0x1000)"

GUEST_CODE(hello,
	".code16\n"
	"	mov $" HELLO_MSG ", %si\n"
	"1:	lodsb\n"
	"	test %al, %al\n"
	"	jz 2f\n"
	"	outb %al, $0xe9\n"
	"	jmp 1b\n"
	"2:	mov $" HELLO_MSG ", %si\n"
	"	mov $5, %cx\n"
	"	mov $0xe9, %dx\n"
	"	cld\n"
	"	rep outsb\n"
	"	mov $0x1234, %ax\n"
	"	outw %ax, $0xea\n"
	"	inb $0xeb, %al\n"
	"	mov %ax, %bx\n"
	"	inw $0xec, %ax\n"
	"	mov %ax, %bp\n"
	"	mov $0x9000, %di\n"
	"	mov $4, %cx\n"
	"	mov $0xed, %dx\n"
	"	rep insb\n"
	"	hlt\n"
	"hello_msg:\n"
	"	.asciz \"Hello\"\n");

int main(void)
{
	struct vm v;

	vm_create(&v, 0x10000);
	tr("# reset state of a new vCPU");
	print_regs(&v);
	print_sregs(&v);

	vm_load(&v, GUEST_CODE_GPA, hello_start, hello_end - hello_start);
	vm_setup_real(&v, GUEST_CODE_GPA);
	vm_run_to_hlt(&v, 64);
	print_regs(&v);
	print_mem_hash(&v, 0, v.mem_size);
	vm_destroy(&v);
	return 0;
}
