/* SPDX-License-Identifier: MIT */
/*
 * abi.h - helpers shared by the ABI client programs.
 *
 * Each program in tests/abi is an ordinary KVM client written against plain
 * <linux/kvm.h>: open("/dev/kvm"), ioctl(), mmap().  It prints a transcript
 * on stdout: every call with its result and errno, every exit with its
 * fields, registers at key points and checksums of guest memory.  The
 * harness (abi_diff.c) runs a program against the real /dev/kvm and under
 * `skvm exec` and compares the two transcripts line by line, so a program
 * must print only what KVM defines: no pointers, fd numbers, timings or
 * host-dependent limits.
 *
 * Lines starting with '#' are notes for a human and are not compared.
 */
#ifndef ABI_H
#define ABI_H

#include <stddef.h>
#include <stdint.h>
#include <linux/kvm.h>

/* Guest-physical layout used by every program. */
#define GUEST_CODE_GPA		0x1000
#define GUEST_PML4_GPA		0x2000
#define GUEST_PDPT_GPA		0x3000
#define GUEST_PD_GPA		0x4000
#define GUEST_STACK_TOP		0x8000
#define GUEST_DATA_GPA		0x9000

/*
 * Guest code is assembled by `as` into the client's .rodata, between the
 * labels NAME_start and NAME_end, and copied into guest memory at
 * GUEST_CODE_GPA.  Inside BODY, an absolute guest address of a label L is
 * (L - NAME_start + 0x1000).  BODY must leave the assembler in .code64.
 */
#define GUEST_CODE(name, body)						\
	extern const unsigned char name##_start[], name##_end[];	\
	__asm__(".pushsection .rodata\n"				\
		".globl " #name "_start\n"				\
		".hidden " #name "_start\n"				\
		".globl " #name "_end\n"				\
		".hidden " #name "_end\n"				\
		#name "_start:\n" body "\n" #name "_end:\n"		\
		".code64\n"						\
		".popsection\n")

struct vm {
	int sys;		/* /dev/kvm */
	int fd;			/* VM */
	int vcpu;		/* vCPU 0 */
	struct kvm_run *run;
	size_t run_size;
	uint8_t *mem;		/* slot 0, at guest-physical 0 */
	size_t mem_size;
};

/* Transcript output: printf + flush, so forked children interleave sanely. */
void tr(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Print "WHAT -> RET" or "WHAT -> -1 ENAME" and return ret.  errno is read
 * at entry, before anything here can change it.
 */
long chk(const char *what, long ret);

/* Same, but print only whether ret is >= 0 (for fds and host limits). */
long chk_ok(const char *what, long ret);

/* The symbolic name of an errno value ("EINVAL"), or its number. */
const char *errname(int e);

/* Exit with status 2 and a message on stderr if cond is false. */
void die_unless(int cond, const char *what);

/*
 * Open /dev/kvm, create a VM with mem_size bytes of RAM at guest-physical 0
 * in slot 0, vCPU 0, and map its kvm_run.  Prints nothing; dies on error.
 */
void vm_create(struct vm *v, size_t mem_size);

/* Same, calling before_vcpu(v) (if not NULL) before KVM_CREATE_VCPU. */
void vm_create_hook(struct vm *v, size_t mem_size,
		    void (*before_vcpu)(struct vm *v));
void vm_destroy(struct vm *v);

/* Copy code to guest-physical gpa. */
void vm_load(struct vm *v, uint64_t gpa, const void *code, size_t len);

/* Flat real mode, CS=DS=ES=SS=0, RIP=rip, RSP=GUEST_STACK_TOP. */
void vm_setup_real(struct vm *v, uint64_t rip);

/*
 * Flat 32-bit protected mode without paging: CS and the data segments are
 * 4 GiB at base 0, given directly in kvm_sregs, RIP=rip, RSP=GUEST_STACK_TOP.
 */
void vm_setup_flat32(struct vm *v, uint64_t rip);

/*
 * 64-bit mode: identity page tables for the first 1 GiB in 2 MiB pages
 * (PML4 at GUEST_PML4_GPA), CPUID from KVM_GET_SUPPORTED_CPUID, segments
 * given directly in kvm_sregs (KVM needs no GDT for that), RIP=rip.
 */
void vm_setup_long(struct vm *v, uint64_t rip);

/* KVM_RUN once; prints the call's result and the exit.  Returns ioctl rc. */
int vm_run(struct vm *v);

/* Print the exit described by run. */
void print_exit(const struct kvm_run *run);

/* Print all general registers, rip and rflags. */
void print_regs(struct vm *v);

/* Print control registers, EFER and the segment registers. */
void print_sregs(struct vm *v);

/* FNV-1a of a range of guest memory, printed as "mem[a,b) fnv=...". */
void print_mem_hash(struct vm *v, uint64_t gpa, size_t len);

/*
 * Run until HLT, a failure exit, or max_exits exits.  I/O-in and MMIO-read
 * exits are answered with fill_byte(address/port, index) for each byte.
 */
int vm_run_to_hlt(struct vm *v, int max_exits);

/*
 * Run a flat 32-bit guest that accesses one byte in each page of a list:
 * page n is at guest-physical TOUCH_BASE + n * 4096; it is written (0x5a)
 * unless n has TOUCH_READ set, then read.  Prints the list ("guest: w0 r5")
 * and one KVM_RUN (a HLT exit when all went well); returns vm_run's value.
 * Uses guest memory at GUEST_CODE_GPA and GUEST_DATA_GPA.
 */
#define TOUCH_BASE	0x100000
#define TOUCH_READ	0x80000000u
int vm_touch_pages(struct vm *v, int n, const uint32_t *pages);
/* The same with the n page numbers (uint32_t) as arguments, n <= 16. */
int vm_touch(struct vm *v, int n, ...);

#endif /* ABI_H */
