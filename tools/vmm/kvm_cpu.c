// SPDX-License-Identifier: MIT
/*
 * kvm_cpu.c - vCPUs: creation with the CPUID KVM supports, the boot
 * processor's 64-bit entry state, one thread per vCPU and its run loop,
 * one switch on exit_reason.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "boot64.h"
#include "vmm.h"

#define CPUID_HYPERVISOR	(1U << 31)	/* CPUID.1:ECX */
#define CPUID_CX16		(1U << 13)	/* CPUID.1:ECX */
#define CPUID_X2APIC		(1U << 21)	/* CPUID.1:ECX */
#define CPUID_TSC_DEADLINE	(1U << 24)	/* CPUID.1:ECX */
#define CPUID_XSAVE		(1U << 26)	/* CPUID.1:ECX */
#define CPUID_OSXSAVE		(1U << 27)	/* CPUID.1:ECX */
#define CPUID_APIC		(1U << 9)	/* CPUID.1:EDX */

struct kvm_cpuid2 *kvm_cpu__supported_cpuid(int sys_fd)
{
	struct kvm_cpuid2 *c;
	int n = 64;

	for (;;) {
		c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		if (!c)
			return NULL;
		c->nent = n;
		if (!ioctl(sys_fd, KVM_GET_SUPPORTED_CPUID, c))
			return c;
		free(c);
		if (errno != E2BIG || n >= 4096)
			return NULL;
		n *= 2;
	}
}

/*
 * The APIC ID in the leaves that report it, "running on a hypervisor", no
 * local APIC at all when KVM does not emulate one (no irqchip), and with
 * vmm->cpuid_portable neither CMPXCHG16B nor XSAVE: the kernel's KVM on a
 * host without VMX/SVM emulates every guest instruction and fails on those
 * with KVM_INTERNAL_ERROR_EMULATION.  Linux then uses SLUB's locked path
 * and FXSAVE, and drops AVX and what depends on XSAVE by itself.
 */
static void kvm_cpu__patch_cpuid(struct kvm_cpuid2 *c, int id, bool apic,
				 bool portable)
{
	unsigned int i;

	for (i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		switch (e->function) {
		case 1:
			e->ebx = (e->ebx & 0x00ffffff) | (uint32_t)id << 24;
			e->ecx |= CPUID_HYPERVISOR;
			if (portable)
				e->ecx &= ~(CPUID_CX16 | CPUID_XSAVE |
					    CPUID_OSXSAVE);
			if (apic)
				break;
			e->ecx &= ~(CPUID_X2APIC | CPUID_TSC_DEADLINE);
			e->edx &= ~CPUID_APIC;
			break;
		case 0xb:
		case 0x1f:
			e->edx = id;
			break;
		}
	}
}

static int kvm_cpu__set_cpuid(struct kvm_cpu *cpu)
{
	struct kvm_cpuid2 *c = kvm_cpu__supported_cpuid(cpu->vmm->sys_fd);
	int ret = 0;

	if (!c)
		return -errno ? -errno : -ENOMEM;
	kvm_cpu__patch_cpuid(c, cpu->id, cpu->vmm->irqchip,
			     cpu->vmm->cpuid_portable);
	if (ioctl(cpu->fd, KVM_SET_CPUID2, c))
		ret = -errno;
	free(c);
	return ret;
}

int kvm_cpu__init(struct vmm *vmm, int id)
{
	struct kvm_cpu *cpu = &vmm->cpus[id];

	cpu->vmm = vmm;
	cpu->id = id;
	cpu->fd = ioctl(vmm->vm_fd, KVM_CREATE_VCPU, id);
	if (cpu->fd < 0)
		return -errno;
	cpu->run = mmap(NULL, vmm->run_size, PROT_READ | PROT_WRITE,
			MAP_SHARED, cpu->fd, 0);
	if (cpu->run == MAP_FAILED) {
		cpu->run = NULL;
		return -errno;
	}
	return kvm_cpu__set_cpuid(cpu);
}

/* The boot processor enters the kernel; the others wait for INIT/SIPI. */
int kvm_cpu__boot(struct kvm_cpu *cpu, uint64_t entry, uint64_t zero_page)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	if (ioctl(cpu->fd, KVM_GET_SREGS, &sregs))
		return -errno;
	boot64__sregs(&sregs);
	if (ioctl(cpu->fd, KVM_SET_SREGS, &sregs))
		return -errno;
	boot64__regs(&regs, entry, zero_page);
	return ioctl(cpu->fd, KVM_SET_REGS, &regs) ? -errno : 0;
}

/* --- The run loop -------------------------------------------------------- */

/* The bytes at rip, through the guest's page tables (KVM_TRANSLATE). */
static void kvm_cpu__dump_code(struct kvm_cpu *cpu, uint64_t rip)
{
	struct kvm_translation tr = { .linear_address = rip };
	uint8_t *p;
	int i;

	if (ioctl(cpu->fd, KVM_TRANSLATE, &tr) || !tr.valid)
		tr.physical_address = rip;
	p = guest_ram__ptr(&cpu->vmm->ram, tr.physical_address, 16);
	if (!p)
		return;
	fprintf(stderr, "  code at gpa %llx:", tr.physical_address);
	for (i = 0; i < 16; i++)
		fprintf(stderr, " %02x", p[i]);
	fprintf(stderr, "\r\n");
}

static void kvm_cpu__dump(struct kvm_cpu *cpu, const char *why)
{
	struct kvm_run *run = cpu->run;
	uint32_t i;

	struct kvm_regs r;
	struct kvm_sregs s;

	fprintf(stderr, "\r\nskvm-vmm: vcpu %d: %s (exit reason %u)\r\n",
		cpu->id, why, cpu->run->exit_reason);
	if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR) {
		fprintf(stderr, "  suberror %u", run->internal.suberror);
		for (i = 0; i < run->internal.ndata && i < 16; i++)
			fprintf(stderr, " %llx", run->internal.data[i]);
		fprintf(stderr, "\r\n");
	} else if (run->exit_reason == KVM_EXIT_FAIL_ENTRY) {
		fprintf(stderr, "  hardware reason %llx\r\n",
			run->fail_entry.hardware_entry_failure_reason);
	}
	if (ioctl(cpu->fd, KVM_GET_REGS, &r) || ioctl(cpu->fd, KVM_GET_SREGS, &s))
		return;
	fprintf(stderr, "  rip %016llx rsp %016llx rflags %08llx\r\n"
		"  cr0 %08llx cr3 %08llx cr4 %08llx efer %llx cs %04x\r\n",
		r.rip, r.rsp, r.rflags, s.cr0, s.cr3, s.cr4, s.efer,
		s.cs.selector);
	kvm_cpu__dump_code(cpu, r.rip);
}

static void kvm_cpu__io(struct kvm_cpu *cpu)
{
	struct kvm_run *run = cpu->run;
	uint8_t *p = (uint8_t *)run + run->io.data_offset;
	uint32_t i;

	for (i = 0; i < run->io.count; i++, p += run->io.size)
		ioport__dispatch(cpu->vmm, run->io.port,
				 run->io.direction == KVM_EXIT_IO_OUT, p,
				 run->io.size);
}

static void kvm_cpu__mmio(struct kvm_cpu *cpu)
{
	struct kvm_run *run = cpu->run;

	if (!run->mmio.is_write)	/* no MMIO devices yet: open bus */
		memset(run->mmio.data, 0xff, run->mmio.len);
}

/*
 * Only without an in-kernel irqchip does HLT come here.  With IF=0 the
 * vCPU is stopped for good (Linux's halt and its power-off without ACPI
 * end so); once all are, the machine is off.  With IF=1 nothing here can
 * interrupt it, so it resumes after a pause, as if a timer had fired.
 */
static int kvm_cpu__halt(struct kvm_cpu *cpu)
{
	struct vmm *vmm = cpu->vmm;
	struct kvm_regs r;
	bool all;

	if (ioctl(cpu->fd, KVM_GET_REGS, &r))
		return -errno;
	if (r.rflags & X86_RFLAGS_IF) {
		usleep(1000);
		return 0;
	}
	pthread_mutex_lock(&vmm->stop_lock);
	cpu->halted = true;
	all = ++vmm->nr_halted == vmm->nr_cpus;
	pthread_mutex_unlock(&vmm->stop_lock);
	if (all)
		vmm__stop(vmm, VMM_POWER_OFF);
	vmm__wait(vmm);
	return 1;
}

static int kvm_cpu__system_event(struct kvm_cpu *cpu)
{
	switch (cpu->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		vmm__stop(cpu->vmm, VMM_POWER_OFF);
		return 1;
	case KVM_SYSTEM_EVENT_RESET:
		vmm__stop(cpu->vmm, VMM_RESET);
		return 1;
	}
	kvm_cpu__dump(cpu, "system event");
	vmm__stop(cpu->vmm, VMM_ERROR);
	return 1;
}

/* 0: run again; > 0: this vCPU is done; < 0: error. */
static int kvm_cpu__exit(struct kvm_cpu *cpu)
{
	switch (cpu->run->exit_reason) {
	case KVM_EXIT_IO:
		kvm_cpu__io(cpu);
		return 0;
	case KVM_EXIT_MMIO:
		kvm_cpu__mmio(cpu);
		return 0;
	case KVM_EXIT_HLT:
		return kvm_cpu__halt(cpu);
	case KVM_EXIT_INTR:
		return 0;
	case KVM_EXIT_SHUTDOWN:		/* triple fault: a PC resets */
		vmm__stop(cpu->vmm, VMM_RESET);
		return 1;
	case KVM_EXIT_SYSTEM_EVENT:
		return kvm_cpu__system_event(cpu);
	case KVM_EXIT_FAIL_ENTRY:
		kvm_cpu__dump(cpu, "entry failed");
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		kvm_cpu__dump(cpu, "KVM internal error");
		break;
	default:
		kvm_cpu__dump(cpu, "unhandled exit");
		break;
	}
	return -EIO;
}

static void *kvm_cpu__thread(void *arg)
{
	struct kvm_cpu *cpu = arg;
	int ret = 0;

	while (!ret && vmm__stopped(cpu->vmm) == VMM_RUNNING) {
		if (ioctl(cpu->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			fprintf(stderr, "\r\nskvm-vmm: vcpu %d: KVM_RUN: %s\r\n",
				cpu->id, strerror(errno));
			ret = -errno;
			break;
		}
		ret = kvm_cpu__exit(cpu);
	}
	if (ret < 0)
		vmm__stop(cpu->vmm, VMM_ERROR);
	return NULL;
}

int kvm_cpu__start(struct kvm_cpu *cpu)
{
	return -pthread_create(&cpu->thread, NULL, kvm_cpu__thread, cpu);
}

/* Out of KVM_RUN: immediate_exit covers a vCPU about to enter it. */
void kvm_cpu__kick(struct kvm_cpu *cpu)
{
	cpu->run->immediate_exit = 1;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	pthread_kill(cpu->thread, SIGUSR1);
}
