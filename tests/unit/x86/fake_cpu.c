// SPDX-License-Identifier: MIT
/*
 * fake_cpu.c - a scripted software vCPU: the real engine's interface
 * (cpu/cpu.h) with exits taken from a list, so that KVM_RUN's exit
 * translation, I/O completion, kicks and CPUID derivation can be tested
 * without executing guest code.
 */
#include <string.h>

#include "fake.h"

struct fake_engine fake;

void fake_reset(void)
{
	memset(&fake, 0, sizeof(fake));
	fake.xsave = true;
}

void fake_push_exit(const struct x86_exit *ex)
{
	fake.script[fake.nscript++] = *ex;
}

int x86_cpu_init(struct x86_cpu *cpu, const struct x86_cpu_ops *ops, void *opaque)
{
	memset(cpu, 0, sizeof(*cpu));
	cpu->ops = ops;
	cpu->opaque = opaque;
	cpu->priv = (struct x86_cpu_priv *)&fake;	/* non-NULL: initialised */
	cpu->smbase = 0x30000;				/* as the engine */
	return 0;
}

void x86_cpu_destroy(struct x86_cpu *cpu)
{
	cpu->priv = NULL;
}

static void seg_init(struct x86_seg *s, uint16_t sel, uint64_t base, uint32_t attr)
{
	s->sel = sel;
	s->base = base;
	s->limit = 0xffff;
	s->attr = attr;
}

/* SDM Vol. 3, table 10-1. */
void x86_cpu_reset(struct x86_cpu *cpu)
{
	int i;

	memset(cpu->gpr, 0, sizeof(cpu->gpr));
	cpu->gpr[X86_RDX] = 0x600;
	cpu->rip = 0xfff0;
	cpu->rflags = 2;
	seg_init(&cpu->seg[X86_CS], 0xf000, 0xffff0000, 0x9b);
	for (i = 0; i < 6; i++)
		if (i != X86_CS)
			seg_init(&cpu->seg[i], 0, 0, 0x93);
	seg_init(&cpu->ldtr, 0, 0, 0x82);
	seg_init(&cpu->tr, 0, 0, 0x8b);
	cpu->gdtr.base = cpu->idtr.base = 0;
	cpu->gdtr.limit = cpu->idtr.limit = 0xffff;
	cpu->cr0 = 0x60000010;
	cpu->cr2 = cpu->cr3 = cpu->cr4 = cpu->cr8 = 0;
	cpu->efer = 0;
	cpu->xcr0 = 1;
	memset(cpu->dr, 0, sizeof(cpu->dr));
	cpu->dr[6] = 0xffff0ff0;
	cpu->dr[7] = 0x400;
	memset(&cpu->fx, 0, sizeof(cpu->fx));
	cpu->fx.fcw = 0x37f;
	cpu->fx.mxcsr = 0x1f80;
	cpu->fx.mxcsr_mask = 0xffff;
	cpu->pat = 0x0007040600070406ULL;
	memset(&cpu->ev, 0, sizeof(cpu->ev));
	cpu->halted = false;
}

void x86_cpu_state_changed(struct x86_cpu *cpu)
{
	fake.state_changed++;
}

enum x86_exit_reason x86_cpu_run(struct x86_cpu *cpu)
{
	fake.runs++;
	fake.nmi_seen = cpu->ev.nmi_pending;
	if (cpu->ops->kicked(cpu)) {
		fake.kicks_seen++;
		cpu->exit.reason = X86_EXIT_KICK;
		return X86_EXIT_KICK;
	}
	if (fake.pos >= fake.nscript) {
		cpu->exit.reason = X86_EXIT_HLT;
		return X86_EXIT_HLT;
	}
	cpu->exit = fake.script[fake.pos++];
	if (cpu->exit.reason == X86_EXIT_IO && !cpu->exit.io.in)
		cpu->ops->pio_buf[0] = fake.out_byte;
	return cpu->exit.reason;
}

void x86_cpu_complete_io(struct x86_cpu *cpu)
{
	fake.complete_io++;
	fake.pio_in_byte = cpu->ops->pio_buf[0];
}

void x86_cpu_complete_mmio(struct x86_cpu *cpu, const uint8_t data[8])
{
	fake.complete_mmio++;
	memcpy(fake.mmio_data, data, 8);
}

void x86_cpu_complete_msr(struct x86_cpu *cpu, bool error, uint64_t data)
{
	fake.complete_msr++;
	fake.msr_error = error;
	fake.msr_data = data;
}

/* Identity map below 1 MiB, nothing above. */
int x86_cpu_translate(struct x86_cpu *cpu, uint64_t la, uint64_t *gpa,
		      bool *writeable, bool *user)
{
	if (la >= FAKE_GUEST_MEM_SIZE)
		return -1;
	*gpa = la;
	*writeable = false;
	*user = true;
	return 0;
}

/*
 * A small Intel-like CPU: leaves 0, 1, 4 (two caches), 7, 0xb (two
 * levels), 0xd (x87+SSE, +AVX with xsave), 0x80000000-0x80000008.
 * Leaves 2, 3, 5, 6, 8-0xa and 0xc are not implemented.
 */
bool x86_cpu_implemented_cpuid(uint32_t leaf, uint32_t sub, uint32_t out[4])
{
	memset(out, 0, 16);
	switch (leaf) {
	case 0:
		out[0] = 0xd;
		out[1] = 0x756e6547; out[3] = 0x49656e69; out[2] = 0x6c65746e;
		return true;
	case 1:
		out[0] = 0x000306a9;
		out[3] = 0x078bfbff;	/* FPU..SSE2 incl. APIC, MTRR, PAT, FXSR */
		out[2] = (1u << 0) | (1u << 27) |
			 (fake.xsave ? 1u << 26 : 0);
		return true;
	case 4:
		if (sub > 2)
			return false;
		out[0] = sub < 2 ? 0x121 + sub : 0;
		return true;
	case 7:
		if (sub)
			return false;
		out[1] = 1u << 0;	/* FSGSBASE */
		out[2] = 1u << 4;	/* OSPKE: must not be advertised */
		return true;
	case 0xb:
		if (sub > 2)
			return false;
		out[2] = sub < 2 ? ((sub + 1) << 8) | sub : sub;
		return true;
	case 0xd:
		if (sub == 0) {
			out[0] = fake.xsave ? 7 : 3;
			out[1] = out[2] = fake.xsave ? 832 : 576;
			return true;
		}
		if (sub == 1)
			return true;
		if (sub == 2 && fake.xsave) {
			out[0] = 256;
			out[1] = 576;
			return true;
		}
		return false;
	case 0x80000000:
		out[0] = 0x80000008;
		return true;
	case 0x80000001:
		out[3] = (1u << 20) | (1u << 27) | (1u << 29);	/* NX RDTSCP LM */
		out[2] = 1;
		return true;
	case 0x80000008:
		out[0] = 0x3028;	/* 48-bit linear, 40-bit physical */
		return true;
	case 0x80000002: case 0x80000003: case 0x80000004:
	case 0x80000005: case 0x80000006: case 0x80000007:
		return true;
	}
	return false;
}

bool x86_cpu_host_fault(int sig, const siginfo_t *si, void *ucontext)
{
	return false;	/* the scripted engine touches no guest memory */
}
