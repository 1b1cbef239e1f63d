// SPDX-License-Identifier: MIT
/*
 * string_io - INS and OUTS in every form: REP and not, byte/word/dword,
 * 16-, 32- and 64-bit addressing, both directions, buffers that cross a
 * page, a count of zero and counts above KVM's read-ahead buffer.  Every
 * exit is printed with RCX, RSI, RDI and RIP, so the transcript records
 * how many elements each exit carries and where the registers stand while
 * the instruction is in flight.
 *
 * KVM runs string I/O through its instruction emulator (arch/x86/kvm/
 * emulate.c): OUTS exits once per element, RIP staying on the instruction;
 * INS reads ahead up to what fits in the rest of the page (counted in
 * bytes of RDI's page offset) and in a 1 KiB buffer, and a REP INS with
 * DF=1 takes its elements one by one from that buffer.
 *
 * The last section leaves an IN and an MMIO read pending and sets
 * immediate_exit: the completion still runs (registers past the
 * instruction, or the next MMIO fragment's exit) before -EINTR.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "abi.h"

#define MEM_SIZE	0x20000
#define DF		0x400

struct sio_case {
	const char *name;
	int long_mode;
	const char *code;	/* bytes, then HLT is appended */
	unsigned int code_len;
	uint64_t rcx, rsi, rdi, rflags;
};

static void print_sio_regs(struct vm *v)
{
	struct kvm_regs r;

	if (chk("KVM_GET_REGS", ioctl(v->vcpu, KVM_GET_REGS, &r)) < 0)
		return;
	tr("regs rcx=%llx rsi=%llx rdi=%llx rip=%llx rflags=%llx rax=%llx",
	   r.rcx, r.rsi, r.rdi, r.rip, r.rflags, r.rax);
}

static void answer_in(struct kvm_run *run, unsigned int *seq)
{
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	unsigned int i;

	for (i = 0; i < run->io.size * run->io.count; i++)
		data[i] = (uint8_t)(0x10 + (*seq)++);
}

static void run_case(struct vm *v, const struct sio_case *c)
{
	struct kvm_regs r;
	unsigned int seq = 0;
	int exits;

	tr("# %s", c->name);
	memset(v->mem + GUEST_CODE_GPA, 0x90, 0x100);
	memcpy(v->mem + GUEST_CODE_GPA, c->code, c->code_len);
	v->mem[GUEST_CODE_GPA + c->code_len] = 0xf4;
	memset(v->mem + 0x9000, 0x55, 0x3000);
	if (!c->long_mode)
		vm_setup_real(v, GUEST_CODE_GPA);
	die_unless(ioctl(v->vcpu, KVM_GET_REGS, &r) == 0, "KVM_GET_REGS");
	r.rip = GUEST_CODE_GPA;
	r.rcx = c->rcx;
	r.rsi = c->rsi;
	r.rdi = c->rdi;
	r.rdx = 0xe9;
	r.rax = 0;
	r.rflags = 2 | c->rflags;
	die_unless(ioctl(v->vcpu, KVM_SET_REGS, &r) == 0, "KVM_SET_REGS");
	for (exits = 0; exits < 40; exits++) {
		if (vm_run(v) < 0)
			return;
		print_sio_regs(v);
		if (v->run->exit_reason != KVM_EXIT_IO)
			break;
		if (v->run->io.direction == KVM_EXIT_IO_IN)
			answer_in(v->run, &seq);
	}
	print_mem_hash(v, 0x9000, 0x3000);
}

#define CODE(s)	s, sizeof(s) - 1

static const struct sio_case cases[] = {
	{ "real: rep outsb, 3", 0, CODE("\xf3\x6e"), 3, 0x9000, 0, 0 },
	{ "real: rep outsw, 2, DF=1", 0, CODE("\xf3\x6f"), 2, 0x9010, 0, DF },
	{ "real: outsd", 0, CODE("\x66\x6f"), 7, 0x9000, 0, 0 },
	{ "real: rep outsw, 2, across a page", 0, CODE("\xf3\x6f"), 2, 0x9fff, 0, 0 },
	{ "real: rep outsb, count 0", 0, CODE("\xf3\x6e"), 0, 0x9000, 0, 0 },
	{ "real: insb", 0, CODE("\x6c"), 9, 0, 0x9000, 0 },
	{ "real: rep insb, 5, 2 bytes left in the page", 0, CODE("\xf3\x6c"),
	  5, 0, 0x9ffe, 0 },
	{ "real: rep insw, 4, 4 bytes left in the page", 0, CODE("\xf3\x6d"),
	  4, 0, 0x9ffc, 0 },
	{ "real: rep insd, 3, DF=1", 0, CODE("\x66\xf3\x6d"), 3, 0, 0x9ff8, DF },
	{ "real: rep insb, 3, DF=1 at a page start", 0, CODE("\xf3\x6c"),
	  3, 0, 0xa000, DF },
	{ "real: rep insb, 2000", 0, CODE("\xf3\x6c"), 2000, 0, 0x9000, 0 },
	{ "real: rep insw, 600", 0, CODE("\xf3\x6d"), 600, 0, 0x9800, 0 },
	{ "real: rep insb, count 0", 0, CODE("\xf3\x6c"), 0, 0, 0x9000, 0 },
	{ "long: rep outsd, 2", 1, CODE("\xf3\x6f"), 2, 0x9000, 0, 0 },
	{ "long: rep outsw, 2, DF=1", 1, CODE("\x66\xf3\x6f"), 2, 0x9ffe, 0, DF },
	{ "long: rep insb, addr32, ecx 3, rcx bits above", 1,
	  CODE("\x67\xf3\x6c"), 0x100000003ull, 0, 0x9ffd, 0 },
	{ "long: rep insd, 3, DF=1", 1, CODE("\xf3\x6d"), 3, 0, 0xa008, DF },
	{ "long: rep insw, 5, across a page", 1, CODE("\x66\xf3\x6d"),
	  5, 0, 0x9ffa, 0 },
	{ "long: insd", 1, CODE("\x6d"), 1, 0, 0x9004, 0 },
};

/* An IN and MMIO reads left pending, then KVM_RUN with immediate_exit. */
static void pending_completions(struct vm *v)
{
	/* in al,dx; rep insb; add [0x100000],al; mov eax,[0x100ffe] */
	static const char code[] =
		"\xec"
		"\xf3\x6c"
		"\x00\x04\x25\x00\x00\x10\x00"
		"\x8b\x04\x25\xfe\x0f\x10\x00"
		"\xf4";
	struct kvm_regs r;
	unsigned int seq = 0, i;

	tr("# pending completions with immediate_exit");
	memcpy(v->mem + GUEST_CODE_GPA, code, sizeof(code) - 1);
	die_unless(ioctl(v->vcpu, KVM_GET_REGS, &r) == 0, "KVM_GET_REGS");
	r.rip = GUEST_CODE_GPA;
	r.rflags = 2;
	r.rcx = 6;
	r.rdi = 0x9ffc;
	r.rdx = 0xe9;
	die_unless(ioctl(v->vcpu, KVM_SET_REGS, &r) == 0, "KVM_SET_REGS");
	for (i = 0; i < 24; i++) {
		v->run->immediate_exit = i & 1;
		if (vm_run(v) < 0 && errno != EINTR)
			break;
		if (v->run->exit_reason == KVM_EXIT_MMIO &&
		    v->run->mmio.is_write)
			tr("# regs not compared: KVM retires the instruction before an MMIO write exit, skvm after");
		else
			print_sio_regs(v);
		if (v->run->exit_reason == KVM_EXIT_HLT)
			break;
		if ((i & 1) && v->run->exit_reason == KVM_EXIT_IO)
			continue;	/* -EINTR: the exit seen before */
		if (v->run->exit_reason == KVM_EXIT_IO &&
		    v->run->io.direction == KVM_EXIT_IO_IN)
			answer_in(v->run, &seq);
		else if (v->run->exit_reason == KVM_EXIT_MMIO &&
			 !v->run->mmio.is_write)
			memset(v->run->mmio.data, 0x21 + i, 8);
	}
	print_mem_hash(v, 0x9000, 0x3000);
}

int main(void)
{
	struct vm v;
	size_t i;

	/* a VM per mode: KVM freezes CPUID once a vCPU has run */
	vm_create(&v, MEM_SIZE);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].long_mode)
			continue;
		run_case(&v, &cases[i]);
	}
	vm_destroy(&v);
	vm_create(&v, MEM_SIZE);
	vm_setup_long(&v, GUEST_CODE_GPA);	/* CPUID and sregs, once */
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].long_mode)
			run_case(&v, &cases[i]);
	}
	pending_completions(&v);
	vm_destroy(&v);
	return 0;
}
