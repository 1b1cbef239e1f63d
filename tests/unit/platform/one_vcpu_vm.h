/* SPDX-License-Identifier: MIT */
/*
 * one_vcpu_vm.h - a VM with one vCPU and 64 KiB of RAM at guest-physical 0,
 * built through the KVM ABI (skvm_open/skvm_ioctl), for the tests that
 * run a small guest against the platform.
 */
#ifndef SKVM_ONE_VCPU_VM_H
#define SKVM_ONE_VCPU_VM_H

#include <fcntl.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <unistd.h>

#include "skvm.h"

#define MEM_SIZE 0x10000

struct vm {
	int sys, vm, vcpu;
	struct kvm_run *run;
	uint8_t *mem;
};

static inline void vm_open(struct vm *v, bool irqchip)
{
	struct kvm_userspace_memory_region region = { 0 };
	long run_size;

	v->sys = skvm_open(O_RDWR);
	assert_true(v->sys >= 0);
	v->vm = skvm_ioctl(v->sys, KVM_CREATE_VM, 0);
	assert_true(v->vm >= 0);
	v->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(v->mem != MAP_FAILED);
	region.memory_size = MEM_SIZE;
	region.userspace_addr = (uintptr_t)v->mem;
	assert_int_equal(skvm_ioctl(v->vm, KVM_SET_USER_MEMORY_REGION, &region), 0);
	if (irqchip)
		assert_int_equal(skvm_ioctl(v->vm, KVM_CREATE_IRQCHIP, 0), 0);
	v->vcpu = skvm_ioctl(v->vm, KVM_CREATE_VCPU, 0);
	assert_true(v->vcpu >= 0);
	run_size = skvm_ioctl(v->sys, KVM_GET_VCPU_MMAP_SIZE, 0);
	v->run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      v->vcpu, 0);
	assert_true(v->run != MAP_FAILED);
}

/*
 * Real mode at 0000:1000 with the stack at 0x8000, DS based at ds_base
 * (the xAPIC page for an unreal DS that reaches it).
 */
static inline void vm_real_mode(struct vm *v, uint64_t ds_base)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = { 0 };

	assert_int_equal(skvm_ioctl(v->vcpu, KVM_GET_SREGS, &sregs), 0);
	sregs.cs.base = sregs.cs.selector = 0;
	sregs.ss.base = sregs.ss.selector = 0;
	sregs.ds.base = ds_base;
	assert_int_equal(skvm_ioctl(v->vcpu, KVM_SET_SREGS, &sregs), 0);
	regs.rip = 0x1000;
	regs.rsp = 0x8000;
	regs.rflags = 0x2;
	assert_int_equal(skvm_ioctl(v->vcpu, KVM_SET_REGS, &regs), 0);
}

/* Run to the next OUT; check its port, return its byte. */
static inline int vm_run_out(struct vm *v, uint16_t port)
{
	assert_int_equal(skvm_ioctl(v->vcpu, KVM_RUN, 0), 0);
	if (v->run->exit_reason != KVM_EXIT_IO)
		fail_msg("exit %u", v->run->exit_reason);
	if (v->run->io.port != port)
		fail_msg("OUT to %#x, want %#x", v->run->io.port, port);
	return ((uint8_t *)v->run)[v->run->io.data_offset];
}

/* One MSR by KVM_GET_MSRS / KVM_SET_MSRS, which must succeed. */
static inline uint64_t vm_get_msr(struct vm *v, uint32_t index)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e;
	} m = { .h.nmsrs = 1, .e.index = index };

	assert_int_equal(skvm_ioctl(v->vcpu, KVM_GET_MSRS, &m), 1);
	return m.e.data;
}

static inline void vm_set_msr(struct vm *v, uint32_t index, uint64_t data)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e;
	} m = { .h.nmsrs = 1, .e.index = index, .e.data = data };

	assert_int_equal(skvm_ioctl(v->vcpu, KVM_SET_MSRS, &m), 1);
}

static inline void vm_close(struct vm *v)
{
	close(v->vcpu);
	close(v->vm);
	close(v->sys);
	munmap(v->mem, MEM_SIZE);
}

#endif /* SKVM_ONE_VCPU_VM_H */
