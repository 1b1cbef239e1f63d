/* SPDX-License-Identifier: MIT */
/*
 * guest.S - the guest code of the platform guest tests (guest_vm.h).
 *
 * Two images, copied into guest memory by the harness: guest_main at
 * G_CODE (32-bit flat protected mode, entered with KVM_SET_SREGS or from
 * the trampoline) and guest_tramp at G_TRAMP, where a SIPI with vector
 * G_SIPI_VECTOR starts an AP in real mode.  Both are position dependent
 * only through the constants of guest_layout.h and the G_ADDR macros.
 *
 * What a vCPU does is set by the harness in its per-CPU page and in the
 * globals (guest_layout.h): which LAPIC mode and registers, whether it
 * programs the PICs, IOAPIC, LAPIC timer or PIT, and what its interrupt
 * handlers do for each vector.
 */
#include "guest_layout.h"


/* The guest address of a label of guest_main / guest_tramp. */
#define G_ADDR(l)	((l) - guest_main_start + G_CODE)
#define T_ADDR(l)	((l) - guest_tramp_start + G_TRAMP)

	.section .rodata
	.globl guest_main_start, guest_main_end, guest_tramp_start, guest_tramp_end
	.globl guest_stubs, guest_entry_idle, guest_entry_ipi, guest_entry_smp
	.globl guest_ap_count, guest_ap_resume, guest_entry_speaker
	.hidden guest_main_start, guest_main_end, guest_tramp_start, guest_tramp_end
	.hidden guest_stubs, guest_entry_idle, guest_entry_ipi, guest_entry_smp
	.hidden guest_ap_count, guest_ap_resume, guest_entry_speaker

	.code32
guest_main_start:

/*
 * Interrupt gates point here: one 10-byte stub per vector pushes the
 * vector and jumps to the common handler.
 */
guest_stubs:
	.set vec, 0
	.rept 256
	.byte 0x68			/* push $vec */
	.long vec
	.byte 0xe9			/* jmp handler */
	.long handler - . - 4
	.set vec, vec + 1
	.endr

/*
 * Count the vector in this vCPU's page, then do what its PC_EOI byte
 * says.  An exception (a vector below 32 other than NMI) is a guest bug:
 * report it on port 0xe0 and stop.
 */
handler:
	push %eax
	push %ecx
	push %edx
	mov 12(%esp), %eax
	cmp $32, %eax
	jae 1f
	cmp $2, %eax
	je 1f
	out %al, $0xe0
2:	cli
	hlt
	jmp 2b
1:	lock incl %fs:PC_COUNT(,%eax,4)
	cmp $G_VEC_WAKE, %eax
	je 1f
	lock incl G_TOTAL
1:	movzbl %fs:PC_EOI(%eax), %edx
	test $EOI_REPORT, %dl
	jz 1f
	out %al, $G_PORT_REPORT
1:	test $EOI_LAPIC, %dl
	jz 1f
	push %edx
	mov $0xb0, %ecx
	xor %eax, %eax
	call apic_write
	pop %edx
1:	test $EOI_SLAVE, %dl
	jz 1f
	mov $0x20, %al
	out %al, $0xa0
1:	test $EOI_MASTER, %dl
	jz 1f
	mov $0x20, %al
	out %al, $0x20
1:	pop %edx
	pop %ecx
	pop %eax
	add $4, %esp
	iret

/* Write %eax to LAPIC register offset %ecx in this vCPU's mode; clobbers %ecx, %edx. */
apic_write:
	testl $CPU_X2APIC, %fs:PC_FLAGS
	jz 1f
	shr $4, %ecx
	add $0x800, %ecx
	xor %edx, %edx
	wrmsr
	ret
1:	mov %eax, APIC_MMIO(%ecx)
	ret

/* This vCPU's LAPIC mode and registers, from its page. */
setup:
	testl $CPU_X2APIC, %fs:PC_FLAGS
	jz 1f
	mov $0x1b, %ecx
	rdmsr
	or $0xc00, %eax
	wrmsr
1:	mov $0xf0, %ecx
	mov $(0x100 | G_VEC_SPURIOUS), %eax
	call apic_write
	testl $CPU_XAPIC_LOG, %fs:PC_FLAGS
	jz 1f
	mov %fs:PC_DFR, %eax
	mov $0xe0, %ecx
	call apic_write
	mov %fs:PC_LDR, %eax
	mov $0xd0, %ecx
	call apic_write
1:	testl $CPU_TPR, %fs:PC_FLAGS
	jz 1f
	mov %fs:PC_TPR, %eax
	mov $0x80, %ecx
	call apic_write
1:	testl $CPU_CHIPS, %fs:PC_FLAGS
	jz 1f
	call setup_chips
1:	testl $CPU_TIMER, %fs:PC_FLAGS
	jz 1f
	call timer_start
1:	ret

/* The PICs (G_PIC_INIT) and the IOAPIC entries at G_REDIR. */
setup_chips:
	cmpl $0, G_PIC_INIT
	je 1f
	mov $0x11, %al			/* ICW1: edge, cascade, ICW4 */
	out %al, $0x20
	out %al, $0xa0
	mov $0x20, %al			/* ICW2: vectors 0x20 and 0x28 */
	out %al, $0x21
	mov $0x28, %al
	out %al, $0xa1
	mov $0x04, %al			/* ICW3: slave on IRQ 2 */
	out %al, $0x21
	mov $0x02, %al
	out %al, $0xa1
	mov $0x01, %al			/* ICW4: 8086 mode */
	out %al, $0x21
	out %al, $0xa1
	mov G_PIC_MASK, %eax
	out %al, $0x21
	mov %ah, %al
	out %al, $0xa1
	mov G_ELCR, %eax
	mov $0x4d0, %dx
	out %al, %dx
	mov %ah, %al
	inc %dx
	out %al, %dx
1:	xor %esi, %esi
2:	cmp G_NREDIR, %esi
	jae 3f
	imul $12, %esi, %ebx
	mov G_REDIR(%ebx), %eax		/* pin */
	lea 0x11(,%eax,2), %eax		/* its high half */
	mov %eax, IOAPIC_MMIO
	mov G_REDIR + 8(%ebx), %edx
	mov %edx, IOAPIC_MMIO + 0x10
	dec %eax
	mov %eax, IOAPIC_MMIO
	mov G_REDIR + 4(%ebx), %edx
	mov %edx, IOAPIC_MMIO + 0x10
	inc %esi
	jmp 2b
3:	ret

/*
 * Arm the timers the globals describe, after a G_PORT_MARK exit whose
 * host timestamp precedes the arming: the PIT (G_PIT_CMD, G_PIT_COUNT)
 * and the LAPIC timer (G_TMR_LVT with TMICT G_TMR_COUNT, divide by 1,
 * or a TSC deadline G_TSC_DELTA from now).
 */
timer_start:
	mov $1, %al
	out %al, $G_PORT_MARK
	mov G_PIT_CMD, %eax
	test %eax, %eax
	jz 1f
	out %al, $0x43
	mov G_PIT_COUNT, %eax
	out %al, $0x40
	mov %ah, %al
	out %al, $0x40
1:	mov G_TMR_LVT, %eax
	test %eax, %eax
	jz 2f
	mov $0x320, %ecx
	call apic_write
	mov $0x3e0, %ecx
	mov $0xb, %eax			/* divide by 1 */
	call apic_write
	mov G_TMR_COUNT, %eax
	test %eax, %eax
	jz 1f
	mov $0x380, %ecx
	call apic_write
	ret
1:	rdtsc
	add G_TSC_DELTA, %eax
	adc G_TSC_DELTA + 4, %edx
	mov $0x6e0, %ecx
	wrmsr
2:	ret

/*
 * Sleep in HLT until G_DONE, taking interrupts; a deferred LAPIC EOI
 * (G_EOI_NOW) is done here.  Then G_PORT_DONE.
 */
idle:
	cli
	cmpl $0, G_EOI_NOW
	je 1f
	movl $0, G_EOI_NOW
	mov $0xb0, %ecx
	xor %eax, %eax
	call apic_write
1:	cmpl $0, G_DONE
	jne finish
	sti
	hlt
	jmp idle
finish:
	cli
	mov $1, %al
	out %al, $G_PORT_DONE
1:	hlt
	jmp 1b

/* Set up, say so, then idle: a vCPU the host drives. */
guest_entry_idle:
	call setup
	lock incl G_READY
	mov $1, %al
	out %al, $G_PORT_READY
	jmp idle

/* An AP the trampoline restarted in the middle of a run: counts in G_TOTAL. */
guest_ap_resume:
	call setup
	lock incl G_TOTAL
	jmp idle

/* Wait until every vCPU has done its setup. */
wait_ready:
	mov G_READY, %eax
	cmp G_NCPUS, %eax
	jae 1f
	pause
	jmp wait_ready
1:	ret

/* Send the ICR writes at G_IPIS (xAPIC: wait for the send to complete). */
send_ipis:
	mov $G_IPIS, %esi
1:	mov (%esi), %eax
	test %eax, %eax
	jz 9f
	cmp $IPI_XAPIC, %eax
	jne 2f
	mov 4(%esi), %eax
	mov %eax, APIC_MMIO + 0x310
	mov 8(%esi), %eax
	mov %eax, APIC_MMIO + 0x300
3:	testl $0x1000, APIC_MMIO + 0x300
	jz 8f
	pause
	jmp 3b
2:	cmp $IPI_X2APIC, %eax
	jne 2f
	mov $0x830, %ecx
	mov 4(%esi), %edx
	mov 8(%esi), %eax
	wrmsr
	jmp 8f
2:	mov $0x83f, %ecx		/* IPI_X2SELF */
	xor %edx, %edx
	mov 8(%esi), %eax
	wrmsr
8:	add $12, %esi
	jmp 1b
9:	ret

/*
 * The BSP of an IPI row: set up, wait for the others, send G_IPIS with
 * interrupts enabled, wait until the handlers have run G_EXPECT times
 * and a little longer (so that a duplicate would be counted), then end
 * the run: G_DONE and a wake-up IPI to all the others.
 */
guest_entry_ipi:
	call setup
	lock incl G_READY
	call wait_ready
	sti
	call send_ipis
1:	mov G_TOTAL, %eax
	cmp G_EXPECT, %eax
	jae 1f
	pause
	jmp 1b
1:	mov $200000, %ecx
2:	pause
	loop 2b
	movl $1, G_DONE
	mov $0x300, %ecx
	mov $(0xc0000 | G_VEC_WAKE), %eax	/* all excluding self, fixed */
	testl $CPU_X2APIC, %fs:PC_FLAGS
	jz 1f
	call apic_write
	jmp finish
1:	mov %eax, APIC_MMIO + 0x300
	jmp finish

/*
 * LOCK-prefixed read-modify-writes on G_COUNTER: each iteration adds 10
 * (INC 1, ADD 2, XADD 3, a CMPXCHG loop 4).
 */
count:
	mov G_ITERS, %esi
1:	test %esi, %esi
	jz 9f
	lock incl G_COUNTER
	lock addl $2, G_COUNTER
	mov $3, %eax
	lock xadd %eax, G_COUNTER
2:	mov G_COUNTER, %eax
	lea 4(%eax), %edx
	lock cmpxchg %edx, G_COUNTER
	jnz 2b
	incl %fs:PC_WORK
	dec %esi
	jmp 1b
9:	ret

/*
 * The BSP of the SMP bring-up: INIT, INIT de-assert, SIPI, SIPI to each
 * AP by physical ID (xAPIC ICR), a mark for the harness after each
 * step, wait for all APs, count, wait for all to finish counting.
 */
guest_entry_smp:
	call setup
	mov $1, %ebx
1:	cmp G_NCPUS, %ebx
	jae 2f
	mov %ebx, %eax
	shl $24, %eax
	mov %eax, APIC_MMIO + 0x310
	movl $0x4500, APIC_MMIO + 0x300		/* INIT, level assert */
	call icr_idle
	mov %eax, APIC_MMIO + 0x310
	movl $0x8500, APIC_MMIO + 0x300		/* INIT, level de-assert */
	call icr_idle
	inc %ebx
	jmp 1b
2:	mov $1, %al
	out %al, $G_PORT_MARK
	mov $1, %edi
3:	mov $1, %ebx
1:	cmp G_NCPUS, %ebx
	jae 2f
	mov %ebx, %eax
	shl $24, %eax
	mov %eax, APIC_MMIO + 0x310
	movl $(0x4600 | G_SIPI_VECTOR), APIC_MMIO + 0x300
	call icr_idle
	inc %ebx
	jmp 1b
2:	inc %edi
	cmp $2, %edi
	jbe 3b
	lock incl G_READY
	call wait_ready
	mov $2, %al
	out %al, $G_PORT_MARK
	call count
	lock incl G_DONE
1:	mov G_DONE, %eax
	cmp G_NCPUS, %eax
	jae finish
	pause
	jmp 1b

icr_idle:
	testl $0x1000, APIC_MMIO + 0x300
	jz 1f
	pause
	jmp icr_idle
1:	ret

/* An AP of the SMP bring-up, from the trampoline. */
guest_ap_count:
	call setup
	lock incl G_READY
	call wait_ready
	call count
	lock incl G_DONE
	jmp finish

/*
 * Linux's PIT calibration loop (pit_calibrate_tsc): gate 2 high and the
 * speaker off through port 0x61, channel 2 in mode 0 with G_PIT_COUNT,
 * then poll port 0x61 until OUT2 (bit 5) rises.  Marks 1 and 2 around
 * it; the TSC cycles and the polls go to the globals.
 */
guest_entry_speaker:
	in $0x61, %al
	and $~0x02, %al
	or $0x01, %al
	out %al, $0x61
	mov $1, %al
	out %al, $G_PORT_MARK
	mov $0xb0, %al			/* channel 2, LSB then MSB, mode 0 */
	out %al, $0x43
	mov G_PIT_COUNT, %eax
	out %al, $0x42
	mov %ah, %al
	out %al, $0x42
	rdtsc
	mov %eax, %esi
	mov %edx, %edi
	in $0x61, %al
	movzbl %al, %eax
	mov %eax, G_SPK_FIRST
	xor %ebx, %ebx
1:	inc %ebx
	in $0x61, %al
	test $0x20, %al
	jz 1b
	rdtsc
	sub %esi, %eax
	sbb %edi, %edx
	mov %eax, G_SPK_TSC
	mov %edx, G_SPK_TSC + 4
	mov %ebx, G_SPK_POLLS
	mov $2, %al
	out %al, $G_PORT_MARK
	jmp finish

guest_main_end:

/*
 * The SIPI page: real mode at G_TRAMP.  Load the GDT and IDT, enter
 * protected mode, find this vCPU's page from its APIC ID (by MSR in
 * x2APIC mode, which an INIT keeps), count the start and continue at
 * the page's PC_ENTRY.
 */
	.code16
guest_tramp_start:
	cli
	xor %ax, %ax
	mov %ax, %ds
	lgdtl G_GDTR
	lidtl G_GDTR + 8
	mov %cr0, %eax
	or $1, %eax
	mov %eax, %cr0
	ljmpl $G_SEL_CODE, $T_ADDR(tramp32)
	.code32
tramp32:
	mov $G_SEL_DATA, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov $0x1b, %ecx
	rdmsr
	test $0x400, %eax
	jz 1f
	mov $0x802, %ecx
	rdmsr
	jmp 2f
1:	mov APIC_MMIO + 0x20, %eax
	shr $24, %eax
2:	lea G_SEL_PERCPU(0)(,%eax,8), %edx
	mov %dx, %fs
	lea 1(%eax), %edx
	shl $12, %edx
	add $G_STACKS, %edx
	mov %edx, %esp
	mov %eax, %fs:PC_ID
	mov %cr0, %eax
	mov %eax, %fs:PC_CR0
	lock incl %fs:PC_SIPIS
	jmp *%fs:PC_ENTRY
guest_tramp_end:
	.code64
	.section .note.GNU-stack,"",@progbits
