/* SPDX-License-Identifier: MIT */
/*
 * systab_guest.S - the guest code of test_systab.c: one image, copied to
 * guest-physical (and virtual) ST_IMAGE, holding the exception stubs of
 * 32-bit and 64-bit IDTs, their reporting handlers, and the rows'
 * snippets.  Absolute references go through ST_ADDR.
 *
 * Ports (all OUTs are logged by the host and compared with the row):
 *   0x10 vector, 0x11 error code (0 when the vector has none), 0x12 CR2,
 *   0x13 RFLAGS inside the handler, 0x14 ECX, then HLT (the handlers);
 *   0x17 a snippet's result, 0x18 CS, 0x19 SS, 0x1b R11, 0x1c a flag;
 *   0x1e asks the host for an interrupt (vector 0x30, KVM_INTERRUPT).
 */
#include "systab_layout.h"

#define ST_ADDR(l)	((l) - systab_image + ST_IMAGE)

/* Vectors whose exceptions push an error code. */
#define HAS_ERR(v)	((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17)

	.section .rodata
	.balign 16
	.globl systab_image, systab_image_end
	.globl systab_stubs16, systab_stubs32, systab_stubs64
	.hidden systab_image, systab_image_end
	.hidden systab_stubs16, systab_stubs32, systab_stubs64
#define ENTRY(l)	.globl l; .hidden l; l:

systab_image:

/*
 * One 16-byte stub per vector 0..ST_NVEC-1: push the vector (and a 0 for
 * a missing error code), go to the common handler, which reports and
 * halts.  sp, ax: the mode's stack pointer and accumulator; w: the
 * width of a stack slot.
 */
.macro stubs_and_handler bits, sp, ax, w
	.balign 16
systab_stubs\bits:
	.set vec, 0
	.rept ST_NVEC
	.balign 16
	.if !HAS_ERR(vec)
	push $0
	.endif
	push $vec
	jmp 2f
	.set vec, vec + 1
	.endr
2:	mov (\sp), %eax
	out %al, $0x10
	mov \w(\sp), %eax
	out %eax, $0x11
	mov %cr2, \ax
	out %eax, $0x12
	pushf
	pop \ax
	out %eax, $0x13
	mov %ecx, %eax
	out %eax, $0x14
1:	hlt
	jmp 1b
.endm

/* Real mode: the IVT points at these (segment 0), with the same reports. */
	.code16
	.balign 16
systab_stubs16:
	.set vec, 0
	.rept ST_NVEC
	.balign 16
	push $vec
	jmp 2f
	.set vec, vec + 1
	.endr
2:	pop %ax
	out %al, $0x10
	mov $0, %eax
	out %eax, $0x11
	mov %cr2, %eax
	out %eax, $0x12
	pushfl
	popl %eax
	out %eax, $0x13
	mov %ecx, %eax
	out %eax, $0x14
1:	hlt
	jmp 1b

	.code32
	stubs_and_handler 32, %esp, %eax, 4
	.code64
	stubs_and_handler 64, %rsp, %rax, 8

/* Real mode -> protected mode -> long mode, with the host's GDT and
 * 4-level tables. */
	.code16
ENTRY(st_real_to_long)
	lgdtl ST_GDTR
	mov %cr0, %eax
	or $1, %eax
	mov %eax, %cr0
	ljmpl $ST_SEL_CODE32, $ST_ADDR(1f)
	.code32
1:	mov $ST_SEL_DATA, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	mov %cr0, %eax
	out %eax, $0x17
	mov $0x20, %eax			/* CR4.PAE */
	mov %eax, %cr4
	mov $ST_PML4, %eax
	mov %eax, %cr3
	mov $0xc0000080, %ecx		/* EFER.LME */
	rdmsr
	or $0x100, %eax
	wrmsr
	mov %cr0, %eax
	or $0x80000000, %eax
	mov %eax, %cr0
	ljmp $ST_SEL_CODE64, $ST_ADDR(1f)
	.code64
1:	mov $0xc0000080, %ecx
	rdmsr
	out %eax, $0x17
	mov %cs, %eax
	out %eax, $0x17
	hlt

/*
 * The snippets both modes have: read, write and fetch the test page
 * (whose address is in %esi / %rsi), #UD, #DE.
 */
.macro common_snippets bits, si
	.globl st\bits\()_read, st\bits\()_write, st\bits\()_fetch
	.globl st\bits\()_ud, st\bits\()_de
	.hidden st\bits\()_read, st\bits\()_write, st\bits\()_fetch
	.hidden st\bits\()_ud, st\bits\()_de
st\bits\()_read:
	mov (\si), %eax
	out %eax, $0x17
	hlt
st\bits\()_write:
	movl $0x5a5a5a5a, (\si)
	mov (\si), %eax
	out %eax, $0x17
	hlt
st\bits\()_fetch:
	call *\si
	hlt
st\bits\()_ud:
	ud2
st\bits\()_de:
	div %ecx
	hlt
.endm

/* Real-mode snippets. */
	.code16
ENTRY(st16_ud)
	ud2
ENTRY(st16_de)
	div %cx
	hlt

/* 32-bit snippets. */
	.code32
	common_snippets 32, %esi
/* 32-bit and PAE paging rows start here: paging on, then the snippet
 * at %edi (flags kept for the handler's report). */
ENTRY(st32_paging_on)
	pushf
	mov %cr0, %eax
	or $0x80000000, %eax
	mov %eax, %cr0
	popf
	jmp *%edi
ENTRY(st32_sel_beyond_limit)
	mov $ST_SEL_BEYOND, %eax
	mov %eax, %ds
	hlt
ENTRY(st32_sel_not_present)
	mov $ST_SEL_NP, %eax
	mov %eax, %ds
	hlt
ENTRY(st32_null_ss)
	mov $0, %eax
	mov %eax, %ss
	hlt
/* With IF=0, ask for an interrupt, then STI: it is taken after the one
 * instruction STI shadows. */
ENTRY(st32_sti_shadow)
	out %al, $0x1e
	sti
	inc %ecx
	inc %ecx
	inc %ecx
	hlt
/* TF set by POPF traps after the next instruction ... */
ENTRY(st32_tf)
	mov %ss, %eax
	pushf
	orl $0x100, (%esp)
	popf
	mov %eax, %edx
	inc %ecx
	inc %ecx
	hlt
/* ... unless that is a MOV SS, which holds the trap one more. */
ENTRY(st32_mov_ss_shadow)
	mov %ss, %eax
	pushf
	orl $0x100, (%esp)
	popf
	mov %eax, %ss
	inc %ecx
	inc %ecx
	hlt

/* ... and so does POP SS. */
ENTRY(st32_pop_ss_shadow)
	push %ss
	pushf
	orl $0x100, (%esp)
	popf
	pop %ss
	inc %ecx
	inc %ecx
	hlt

/* 64-bit snippets. */
	.code64
	common_snippets 64, %rsi
ENTRY(st64_noncanonical)
	mov $0x8000000000000000, %rax
	mov (%rax), %eax
	hlt

/* IRETQ to CPL 3 (IOPL 0) at a user snippet. */
.macro to_user l
	push $(ST_SEL_UDATA | 3)
	push $ST_USTACK
	push $0x2
	push $(ST_SEL_UCODE64 | 3)
	push $ST_ADDR(\l)
	iretq
.endm
/* The read's value reaches the handler of the #GP that HLT raises. */
ENTRY(st64_user_read)
	to_user 1f
1:	mov (%rsi), %ecx
	hlt
ENTRY(st64_user_write)
	to_user 1f
1:	movl $0x5a5a5a5a, (%rsi)
	mov (%rsi), %eax
	out %eax, $0x17
	hlt

ENTRY(st64_int3)
	int3
	hlt
/* INT n from CPL 3 through a DPL-0 gate. */
ENTRY(st64_user_int)
	to_user 1f
1:	int $0x21
	hlt

/*
 * STAR/LSTAR/SFMASK, SYSRET to CPL 3, which passes its CS and SS in
 * EBX and EDX back by SYSCALL; the kernel side reports its CS, SS, RFLAGS
 * (SFMASK applied), R11 (the user's RFLAGS) and whether RCX is the
 * return address.
 */
ENTRY(st64_syscall)
	mov $0xc0000081, %ecx
	xor %eax, %eax
	mov $((ST_SEL_UCODE32 << 16) | ST_SEL_CODE64), %edx
	wrmsr
	mov $0xc0000082, %ecx
	mov $ST_ADDR(2f), %eax
	xor %edx, %edx
	wrmsr
	mov $0xc0000084, %ecx
	mov $0x200, %eax
	wrmsr
	mov $ST_ADDR(1f), %ecx
	mov $0x202, %r11d
	sysretq
1:	mov %cs, %ebx			/* CPL 3, IOPL 0: no OUT here */
	mov %ss, %edx
	syscall
3:	hlt
2:	mov %ebx, %eax
	out %eax, $0x18
	mov %edx, %eax
	out %eax, $0x19
	mov %cs, %eax
	out %eax, $0x18
	mov %ss, %eax
	out %eax, $0x19
	pushf
	pop %rax
	out %eax, $0x13
	mov %r11d, %eax
	out %eax, $0x1b
	lea 3b(%rip), %rax
	cmp %rax, %rcx
	sete %al
	out %al, $0x1c
	hlt

systab_image_end:
	.section .note.GNU-stack, "", @progbits
