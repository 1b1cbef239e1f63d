// SPDX-License-Identifier: MIT
/*
 * hostfault.c - host memory faults inside guest accesses.
 *
 * A memslot names host memory the engine cannot check cheaply: the range
 * may be PROT_NONE, read-only (while the slot is writable), unmapped, or
 * a file mapping past the file's end.  KVM finds out when it faults the
 * page in and fails KVM_RUN with -EFAULT; here the host CPU finds out when
 * the engine touches the page, with SIGSEGV or SIGBUS.
 *
 * The hot path pays nothing: no probe, no system call.  The signal
 * handler (the front's, or a test's) asks x86_cpu_host_fault() whether
 * the fault is the engine's: it is when this thread is inside a guarded
 * region (x86_cpu_run, a completion, KVM_TRANSLATE...) and the faulting
 * address lies in a host page the engine got from ops->gpa_page (a TLB
 * entry, or one of the last pages a page walk or PDPTE load used).  Then
 * the handler's context is rewritten to return into x86_fault_unwind(),
 * which longjmp()s to the guard: the signal mask is restored by the
 * kernel's sigreturn as for any handler, and the run ends with
 * X86_EXIT_FAULT (guest-physical page in exit.fault).  Anything else is
 * not ours and the caller chains to the program's handler.
 *
 * The instruction does not retire: registers commit after the last
 * memory access, and a write split across pages may have stored its
 * first part, as a fault between the two would leave it.
 */
#include <signal.h>
#include <ucontext.h>

#include "cpu_priv.h"

/* The guarded region this thread is in, if any. */
static __thread struct x86_cpu *x86_guard_cpu
	__attribute__((tls_model("initial-exec")));
static __thread jmp_buf *x86_guard_jb
	__attribute__((tls_model("initial-exec")));
static __thread bool x86_guard_run
	__attribute__((tls_model("initial-exec")));

void x86_guard_enter(struct x86_cpu *cpu, jmp_buf *jb, bool run)
{
	x86_guard_cpu = cpu;
	x86_guard_run = run;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	x86_guard_jb = jb;
}

void x86_guard_leave(void)
{
	x86_guard_jb = NULL;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	x86_guard_cpu = NULL;
}

bool x86_guarded(void)
{
	return x86_guard_jb != NULL;
}

void *x86_gpa_page(struct x86_cpu *cpu, uint64_t gpa, bool write)
{
	struct x86_cpu_priv *p = cpu->priv;
	void *host = cpu->ops->gpa_page(cpu, gpa & X86_PAGE_MASK, write);
	unsigned int i;

	if (host) {
		i = p->recent_n++ % X86_RECENT_PAGES;
		p->recent[i].gpa = gpa & X86_PAGE_MASK;
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		p->recent[i].host = host;
	}
	return host;
}

/* The guest-physical page the engine maps at host page hp, or -1. */
static uint64_t x86_host_page_gpa(struct x86_cpu *cpu, const uint8_t *hp)
{
	struct x86_cpu_priv *p = cpu->priv;
	const struct x86_tlb_entry *e = &p->tlb[0][0][0];
	size_t i, n = sizeof(p->tlb) / sizeof(*e);

	for (i = 0; i < X86_RECENT_PAGES; i++)
		if (p->recent[i].host == hp)
			return p->recent[i].gpa;
	for (i = 0; i < n; i++)
		if (e[i].tag && e[i].host == hp)
			return e[i].gpa;
	return ~0ull;
}

/* Entered by the handler's return: leave the guarded region. */
static X86_NORETURN void x86_fault_unwind(void)
{
	jmp_buf *jb = x86_guard_jb;

	longjmp(*jb, 1);
}

bool x86_cpu_host_fault(int sig, const siginfo_t *si, void *ucontext)
{
	struct x86_cpu *cpu = x86_guard_cpu;
	ucontext_t *uc = ucontext;
	uint64_t gpa, sp;
	uintptr_t hp;

	if ((sig != SIGSEGV && sig != SIGBUS) || !si || !uc || si->si_code <= 0)
		return false;
	if (!x86_guard_jb || !cpu)
		return false;
	hp = (uintptr_t)si->si_addr & ~(uintptr_t)(X86_PAGE_SIZE - 1);
	gpa = x86_host_page_gpa(cpu, (const uint8_t *)hp);
	if (gpa == ~0ull)
		return false;
	cpu->priv->fault_gpa = gpa | ((uintptr_t)si->si_addr & 0xfff);
	if (x86_guard_run) {
		cpu->exit.reason = X86_EXIT_FAULT;
		cpu->exit.fault.gpa = gpa;
	}
	/*
	 * Return into x86_fault_unwind() on the interrupted stack, below its
	 * red zone, aligned as at a function's entry.
	 */
	sp = (uint64_t)uc->uc_mcontext.gregs[REG_RSP];
	sp = ((sp - 256) & ~15ull) - 8;
	uc->uc_mcontext.gregs[REG_RSP] = (greg_t)sp;
	uc->uc_mcontext.gregs[REG_RIP] = (greg_t)(uintptr_t)x86_fault_unwind;
	return true;
}
