/* SPDX-License-Identifier: MIT */
/*
 * lapic_guest.h - small real-mode guests that use their local APIC in
 * x2APIC mode (MSRs work in real mode, the xAPIC page would not be
 * reachable), run through the KVM ABI (skvm_open/skvm_ioctl).
 *
 * Guest code is assembled by GUEST_CODE (tests/abi/abi.h) and loaded at
 * 0x1000; it installs its own interrupt vectors in the real-mode IVT.
 * Guests report through OUT to ports the host watches.
 */
#ifndef SKVM_LAPIC_GUEST_H
#define SKVM_LAPIC_GUEST_H

#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "platform_test.h"
#include "skvm.h"
#include "../../abi/abi.h"

#define LG_MEM_SIZE	0x10000
#define LG_MAX_VCPUS	4
#define LG_DATA		0x9000		/* host <-> guest words */

/* x2APIC on (IA32_APIC_BASE.EXTD) and software-enabled, spurious 0xff. */
#define LG_X2APIC_ON							\
	"	mov $0x1b, %ecx\n	rdmsr\n	or $0xc00, %eax\n	wrmsr\n" \
	"	mov $0x80f, %ecx\n	mov $0x1ff, %eax\n"		\
	"	xor %edx, %edx\n	wrmsr\n"
/* x2APIC EOI (MSR 0x80b), keeping every register. */
#define LG_EOI								\
	"	pushal\n	mov $0x80b, %ecx\n	xor %eax, %eax\n"	\
	"	xor %edx, %edx\n	wrmsr\n	popal\n"
/* IVT[vec] = 0000:label of guest name. */
#define LG_VECTOR(name, vec, label)					\
	"	movw $(" label " - " name "_start + 0x1000), " #vec " * 4\n" \
	"	movw $0, " #vec " * 4 + 2\n"

enum lg_irqchip { LG_NONE, LG_IRQCHIP, LG_SPLIT };

struct lg_vm {
	int sys, vm;
	int nr;
	int vcpu[LG_MAX_VCPUS];
	struct kvm_run *run[LG_MAX_VCPUS];
	uint8_t *mem;
};

static inline void lg_open(struct lg_vm *v, enum lg_irqchip chip, uint32_t split_pins)
{
	struct kvm_userspace_memory_region region = { 0 };
	struct kvm_enable_cap cap = { .cap = KVM_CAP_SPLIT_IRQCHIP,
				      .args = { split_pins } };

	memset(v, 0, sizeof(*v));
	v->sys = skvm_open(O_RDWR);
	assert_true(v->sys >= 0);
	v->vm = skvm_ioctl(v->sys, KVM_CREATE_VM, 0);
	assert_true(v->vm >= 0);
	v->mem = mmap(NULL, LG_MEM_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(v->mem != MAP_FAILED);
	region.memory_size = LG_MEM_SIZE;
	region.userspace_addr = (uintptr_t)v->mem;
	assert_int_equal(skvm_ioctl(v->vm, KVM_SET_USER_MEMORY_REGION, &region), 0);
	if (chip == LG_IRQCHIP)
		assert_int_equal(skvm_ioctl(v->vm, KVM_CREATE_IRQCHIP, 0), 0);
	else if (chip == LG_SPLIT)
		assert_int_equal(skvm_ioctl(v->vm, KVM_ENABLE_CAP, &cap), 0);
}

/* Code assembled for 0x1000 (LG_VECTOR) must be loaded there. */
static inline void lg_load(struct lg_vm *v, uint32_t gpa, const unsigned char *start,
			   const unsigned char *end)
{
	memcpy(v->mem + gpa, start, (size_t)(end - start));
}

/* A vCPU with x2APIC in its CPUID, in real mode at 0:rip, stack below sp. */
static inline int lg_add_vcpu(struct lg_vm *v, uint32_t id, uint64_t rip, uint64_t sp)
{
	struct kvm_cpuid2 *cpuid = calloc(1, sizeof(*cpuid) +
					  256 * sizeof(struct kvm_cpuid_entry2));
	struct kvm_mp_state mp = { KVM_MP_STATE_RUNNABLE };
	struct kvm_regs regs = { .rip = rip, .rsp = sp, .rflags = 2 };
	struct kvm_sregs sregs;
	long run_size = skvm_ioctl(v->sys, KVM_GET_VCPU_MMAP_SIZE, 0);
	int i = v->nr++, fd;

	assert_true(i < LG_MAX_VCPUS && cpuid);
	fd = skvm_ioctl(v->vm, KVM_CREATE_VCPU, id);
	assert_true(fd >= 0);
	v->vcpu[i] = fd;
	cpuid->nent = 256;
	assert_int_equal(skvm_ioctl(v->sys, KVM_GET_SUPPORTED_CPUID, cpuid), 0);
	assert_int_equal(skvm_ioctl(fd, KVM_SET_CPUID2, cpuid), 0);
	free(cpuid);
	assert_int_equal(skvm_ioctl(fd, KVM_GET_SREGS, &sregs), 0);
	sregs.cs.base = sregs.cs.selector = 0;
	sregs.ss.base = sregs.ss.selector = 0;
	sregs.ds.base = sregs.ds.selector = 0;
	assert_int_equal(skvm_ioctl(fd, KVM_SET_SREGS, &sregs), 0);
	assert_int_equal(skvm_ioctl(fd, KVM_SET_REGS, &regs), 0);
	/* APs start out waiting for SIPI: these start where told. */
	assert_int_equal(skvm_ioctl(fd, KVM_SET_MP_STATE, &mp), 0);
	v->run[i] = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE,
			 MAP_SHARED, fd, 0);
	assert_true(v->run[i] != MAP_FAILED);
	return i;
}

static inline void lg_close(struct lg_vm *v)
{
	for (int i = 0; i < v->nr; i++)
		close(v->vcpu[i]);
	close(v->vm);
	close(v->sys);
	munmap(v->mem, LG_MEM_SIZE);
}

/* KVM_RUN vCPU i once; the exit reason. */
static inline uint32_t lg_run(struct lg_vm *v, int i)
{
	assert_int_equal(skvm_ioctl(v->vcpu[i], KVM_RUN, 0), 0);
	return v->run[i]->exit_reason;
}

/* KVM_RUN until an OUT; its port (other exits fail the test). */
static inline uint16_t lg_run_to_out(struct lg_vm *v, int i)
{
	uint32_t reason = lg_run(v, i);

	if (reason != KVM_EXIT_IO || v->run[i]->io.direction != KVM_EXIT_IO_OUT)
		fail_msg("vCPU %d: exit %u", i, reason);
	return v->run[i]->io.port;
}

static inline uint32_t lg_word(struct lg_vm *v, uint32_t gpa)
{
	uint32_t w;

	memcpy(&w, v->mem + gpa, 4);
	return w;
}

static inline void lg_set_word(struct lg_vm *v, uint32_t gpa, uint32_t w)
{
	memcpy(v->mem + gpa, &w, 4);
}

#endif /* SKVM_LAPIC_GUEST_H */
