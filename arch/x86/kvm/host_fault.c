// SPDX-License-Identifier: MIT
/*
 * host_fault.c - kvm_arch_host_fault(): a SIGSEGV/SIGBUS on a vCPU thread
 * is the engine's when it hit a guest page inside x86_cpu_run() (or a
 * completion, or KVM_TRANSLATE); the engine unwinds and KVM_RUN fails with
 * -EFAULT (see arch/x86/kvm/cpu/hostfault.c).
 */
#include "kvm_host.h"
#include "cpu/cpu.h"

bool kvm_arch_host_fault(int sig, siginfo_t *si, void *ucontext)
{
	return x86_cpu_host_fault(sig, si, ucontext);
}
