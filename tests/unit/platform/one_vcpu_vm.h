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

static inline void vm_close(struct vm *v)
{
	close(v->vcpu);
	close(v->vm);
	close(v->sys);
	munmap(v->mem, MEM_SIZE);
}

#endif /* SKVM_ONE_VCPU_VM_H */
