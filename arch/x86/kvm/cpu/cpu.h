/* SPDX-License-Identifier: MIT */
/*
 * cpu.h - the software x86-64 vCPU: architectural state and the engine's
 * interface to the rest of skvm.
 *
 * The engine knows nothing of KVM's ABI: arch/x86/kvm/x86.c translates
 * between struct kvm_regs/kvm_sregs/kvm_run and the state below, and gives
 * the engine its memory and platform through struct x86_cpu_ops.  Tests
 * (and the differential fuzzer) drive the engine directly with their own
 * ops over a flat buffer.
 */
#ifndef SKVM_X86_CPU_H
#define SKVM_X86_CPU_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* General-purpose register numbers, in the ModRM encoding order. */
enum x86_gpr {
	X86_RAX, X86_RCX, X86_RDX, X86_RBX, X86_RSP, X86_RBP, X86_RSI, X86_RDI,
	X86_R8, X86_R9, X86_R10, X86_R11, X86_R12, X86_R13, X86_R14, X86_R15,
};

/* Segment registers, in the encoding order of MOV Sreg. */
enum x86_sreg { X86_ES, X86_CS, X86_SS, X86_DS, X86_FS, X86_GS };

/*
 * A segment register with its hidden part.  attr uses the layout of the
 * descriptor's bits 40..55 (type:4 s:1 dpl:2 p:1, avl at bit 12, l at 13,
 * db at 14, g at 15); X86_SEG_UNUSABLE (bit 16) marks a null-loaded
 * segment as VMX does, so KVM's "unusable" round-trips.
 */
struct x86_seg {
	uint64_t base;
	uint32_t limit;		/* byte granular (already scaled by G) */
	uint16_t sel;
	uint32_t attr;
};
#define X86_SEG_TYPE(a)		((a) & 0xf)
#define X86_SEG_S		(1u << 4)
#define X86_SEG_DPL(a)		(((a) >> 5) & 3)
#define X86_SEG_P		(1u << 7)
#define X86_SEG_AVL		(1u << 12)
#define X86_SEG_L		(1u << 13)
#define X86_SEG_DB		(1u << 14)
#define X86_SEG_G		(1u << 15)
#define X86_SEG_UNUSABLE	(1u << 16)

struct x86_dtable {
	uint64_t base;
	uint16_t limit;
};

/* x87 / SSE state in FXSAVE layout (Intel SDM Vol. 1, 10.5.1). */
struct x86_fxsave {
	uint16_t fcw, fsw;
	uint8_t ftw, rsvd1;	/* abridged tag word */
	uint16_t fop;
	uint64_t fip, fdp;
	uint32_t mxcsr, mxcsr_mask;
	uint8_t st[8][16];	/* ST0..7 / MM0..7, 80 bits used */
	uint8_t xmm[16][16];
	uint8_t rsvd2[96];
} __attribute__((aligned(16)));

/* Events: what KVM_GET/SET_VCPU_EVENTS describes. */
struct x86_events {
	bool exc_pending;	/* raised, not yet delivered */
	bool exc_injected;	/* delivery in progress */
	uint8_t exc_nr;
	bool exc_has_error;
	uint32_t exc_error;
	bool irq_injected;
	uint8_t irq_nr;
	bool nmi_pending, nmi_injected, nmi_masked;
	uint8_t int_shadow;	/* X86_SHADOW_STI | X86_SHADOW_MOV_SS */
	/*
	 * System-management mode (smm.c): an SMI waits (taken at the next
	 * instruction boundary outside SMM, before NMIs); in SMM; SMM was
	 * entered with NMIs already blocked (RSM then leaves them blocked).
	 */
	bool smi_pending, smm, smm_inside_nmi;
};
#define X86_SHADOW_STI 1
#define X86_SHADOW_MOV_SS 2

/* Why x86_cpu_run() returned. */
enum x86_exit_reason {
	X86_EXIT_NONE,
	X86_EXIT_IO,		/* exit.io; complete with x86_cpu_complete_io */
	X86_EXIT_MMIO,		/* exit.mmio; complete with x86_cpu_complete_mmio */
	X86_EXIT_HLT,
	X86_EXIT_SHUTDOWN,	/* triple fault */
	X86_EXIT_INTERNAL,	/* exit.internal: emulation failure etc. */
	X86_EXIT_KICK,		/* ops->kicked() said stop */
	X86_EXIT_IRQ_WINDOW,	/* ready for an interrupt the VMM asked about */
	X86_EXIT_DEBUG,		/* exit.debug: a guest_debug event (below) */
	X86_EXIT_MSR,		/* exit.msr; complete with x86_cpu_complete_msr */
	/*
	 * exit.fault: the host memory behind a guest-physical page faulted
	 * (SIGSEGV/SIGBUS caught by x86_cpu_host_fault); the instruction did
	 * not retire.  The next run retries it.
	 */
	X86_EXIT_FAULT,
	X86_EXIT_PAGE_WAIT,	/* ops->page_ready said wait (RIP at the insn) */
};

struct x86_exit {
	enum x86_exit_reason reason;
	union {
		struct {
			uint16_t port;
			uint8_t size;		/* 1, 2 or 4 */
			bool in;
			uint32_t count;		/* > 1 for string I/O */
			/* OUT data is in ops->pio_buf; IN data goes there */
		} io;
		struct {
			uint64_t gpa;
			uint8_t len;		/* 1..8 */
			bool write;
			uint8_t data[8];	/* write data, or read result */
		} mmio;
		/* KVM's struct kvm_debug_exit_arch */
		struct {
			uint32_t exception;	/* 1 (#DB) or 3 (#BP) */
			uint64_t pc;		/* linear address (CS.base + RIP) */
			uint64_t dr6;		/* DR6 layout: B0-B3, BS */
			uint64_t dr7;
		} debug;
		/* RDMSR/WRMSR the host takes (ops return X86_MSR_EXIT) */
		struct {
			uint32_t index;
			bool write;
			uint64_t data;		/* the value WRMSR writes */
		} msr;
		struct {
			uint64_t gpa;		/* page aligned */
		} fault;
		struct {
			uint32_t suberror;	/* KVM_INTERNAL_ERROR_* */
			uint8_t insn_len;
			uint8_t insn[15];
		} internal;
	};
};

/*
 * Debugging the guest from the host (KVM_SET_GUEST_DEBUG).  x86.c copies
 * struct kvm_guest_debug here: flags are KVM_GUESTDBG_* with the same
 * values, dr[0..3] and dr7 are its arch.debugreg[0..3] and [7].
 *
 * - ENABLE: nothing below applies without it.
 * - SINGLESTEP: after every instruction the run stops with X86_EXIT_DEBUG,
 *   exception 1, dr6 = 0xffff4ff0 (BS), pc = linear address of the next
 *   instruction.  The guest's EFLAGS.TF is neither used nor changed.  An
 *   instruction that delivers an interrupt or exception stops at the
 *   handler's first instruction.
 * - USE_SW_BP: INT3 does not deliver #BP; the run stops with exception 3,
 *   pc = linear address of the INT3, RIP left on it.
 * - USE_HW_BP: dr[]/dr7 (DR7 layout: L/G enables, R/W and LEN fields)
 *   replace the guest's DR0-DR3/DR7 as breakpoints, and a hit stops the
 *   run with exception 1 instead of delivering #DB: dr6 has B0-B3 of
 *   the hits, dr7 is the host's.  Instruction breakpoints stop before
 *   the instruction (RIP on it; EFLAGS.RF is not set, as with KVM the
 *   host steps over it), data and I/O breakpoints after it.  The guest's
 *   DR6/DR7 are left alone.
 */
struct x86_guest_debug {
	uint32_t flags;
	uint64_t dr[4];
	uint64_t dr7;
};
#define X86_GDBG_ENABLE		0x1
#define X86_GDBG_SINGLESTEP	0x2
#define X86_GDBG_USE_SW_BP	0x10000
#define X86_GDBG_USE_HW_BP	0x20000

struct x86_cpu;

/*
 * What the engine needs from its host.  All calls come from the vCPU's
 * own thread, inside x86_cpu_run().
 */
struct x86_cpu_ops {
	/*
	 * Host address of the guest-physical page containing gpa (page
	 * aligned pointer), or NULL when no memory backs it (MMIO).  With
	 * write, NULL is also returned for read-only memory, and the page is
	 * logged dirty.  The pointer stays valid until ops->generation()
	 * changes.
	 */
	void *(*gpa_page)(struct x86_cpu *cpu, uint64_t gpa, bool write);
	/* Bumped whenever gpa_page answers may change: flush the TLB. */
	uint64_t (*generation)(struct x86_cpu *cpu);
	/* True when the vCPU must leave the guest now (signal, request). */
	bool (*kicked)(struct x86_cpu *cpu);
	/* CPUID as the guest sees it (KVM_SET_CPUID2 table). */
	void (*cpuid)(struct x86_cpu *cpu, uint32_t leaf, uint32_t subleaf,
		      uint32_t out[4]);
	/*
	 * MSRs the engine does not keep itself.  Return 0, or -1 to make the
	 * instruction raise #GP(0).
	 */
	int (*rdmsr)(struct x86_cpu *cpu, uint32_t index, uint64_t *val);
	int (*wrmsr)(struct x86_cpu *cpu, uint32_t index, uint64_t val);
	/* Guest TSC at this instant. */
	uint64_t (*rdtsc)(struct x86_cpu *cpu);
	/*
	 * A maskable interrupt the platform wants delivered: the vector, or
	 * -1 when none.  Called only when the guest can take one; ack says
	 * that the engine is delivering it now.
	 */
	int (*pending_irq)(struct x86_cpu *cpu, bool ack);
	/*
	 * Asked first by RDMSR and WRMSR, for every index, before the engine
	 * looks at it (an MSR filter): 0 to go on, -1 for #GP(0), or
	 * X86_MSR_EXIT.  NULL: always go on.
	 */
	int (*msr_check)(struct x86_cpu *cpu, uint32_t index, bool write);
	/*
	 * VMCALL (vmmcall false) or VMMCALL: a hypercall to the host, which
	 * reads and sets the registers.  0: the instruction retires; -1: #UD;
	 * X86_HC_PATCH: the engine writes the other one of the two (3 bytes,
	 * as the guest's code) over the instruction and runs that instead.
	 * NULL: both are #UD.
	 */
	int (*hypercall)(struct x86_cpu *cpu, bool vmmcall);
	/* MONITOR or MWAIT: 0 runs it as a NOP, -1 is #UD.  NULL: #UD. */
	int (*monitor_mwait)(struct x86_cpu *cpu, bool mwait);
	/*
	 * Asked on a TLB miss (never on a hit), outside event delivery,
	 * before the engine touches a RAM page that gpa_page returned (host):
	 * may the page be accessed now?  0: yes (the access may still wait
	 * for the host kernel to supply the page); X86_PAGE_FAULT: raise #PF
	 * with error code 0 and CR2 = *cr2 instead (a paravirtual "page not
	 * present"); X86_PAGE_WAIT: stop with X86_EXIT_PAGE_WAIT, RIP at the
	 * instruction, which runs again from the start.  NULL: always 0.
	 */
	int (*page_ready)(struct x86_cpu *cpu, uint64_t gpa, void *host,
			  uint64_t *cr2);
	/*
	 * The vCPU entered (SMI) or left (RSM) SMM: cpu->ev.smm changed, and
	 * with it what gpa_page() must answer (SMRAM's address space while
	 * ev.smm is set).  The engine has already dropped its TLB and blocks.
	 * NULL: nothing to tell.
	 */
	void (*smm_changed)(struct x86_cpu *cpu);
	/* Page for PIO data (string I/O moves up to a page per exit). */
	uint8_t *pio_buf;
};

/*
 * The vCPU.  Fields above "engine private" are the architectural state
 * that x86.c reads and writes for KVM_GET/SET_REGS, SREGS, FPU, MSRS,
 * VCPU_EVENTS ...; after changing them from outside it must call
 * x86_cpu_state_changed().
 */
struct x86_cpu {
	uint64_t gpr[16];
	uint64_t rip;
	uint64_t rflags;
	struct x86_seg seg[6];
	struct x86_seg ldtr, tr;
	struct x86_dtable gdtr, idtr;
	uint64_t cr0, cr2, cr3, cr4, cr8;
	uint64_t efer;
	uint64_t xcr0;
	uint64_t dr[8];			/* DR4/DR5 unused */
	uint64_t pdptr[4];		/* PAE PDPTEs loaded at CR3 write */

	/* MSRs kept by the engine */
	uint64_t star, lstar, cstar, sfmask, kernel_gs_base;
	uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
	uint64_t tsc_aux;
	uint64_t pat;
	uint64_t apic_base;
	uint64_t smbase;		/* IA32_SMBASE: 0x30000 at power-on */
	uint64_t smi_count;		/* MSR_SMI_COUNT: SMIs taken */

	struct x86_fxsave fx;
	struct x86_events ev;
	bool halted;
	/*
	 * Set by the host to be told (X86_EXIT_IRQ_WINDOW) as soon as the
	 * guest can take a maskable interrupt (KVM's
	 * request_interrupt_window).
	 */
	bool req_irq_window;
	/* KVM_SET_GUEST_DEBUG state; seen at the next instruction boundary */
	struct x86_guest_debug guest_debug;
	/*
	 * KVM_CAP_EXIT_ON_EMULATION_FAILURE: an instruction KVM's emulator
	 * would have to run but does not know (docs/engine.md) exits with
	 * X86_EXIT_INTERNAL instead of raising #UD.
	 */
	bool exit_on_emulation_failure;

	const struct x86_cpu_ops *ops;
	void *opaque;			/* the host's vCPU */
	struct x86_exit exit;

	/* engine private from here on (decode cache, TLB, ...) */
	struct x86_cpu_priv *priv;
};

/* Allocate the private part; 0 or -ENOMEM. */
int x86_cpu_init(struct x86_cpu *cpu, const struct x86_cpu_ops *ops, void *opaque);
void x86_cpu_destroy(struct x86_cpu *cpu);

/* Power-on / INIT state (Intel SDM Vol. 3, 10.1.1, Table 10-1). */
void x86_cpu_reset(struct x86_cpu *cpu);

/* Registers were changed from outside: drop caches derived from them. */
void x86_cpu_state_changed(struct x86_cpu *cpu);

/*
 * Run until an exit.  Returns cpu->exit.reason.  An IO or MMIO exit leaves
 * the instruction incomplete (RIP at it); the host fills the data and
 * calls x86_cpu_complete_io()/x86_cpu_complete_mmio() before the next run.
 */
enum x86_exit_reason x86_cpu_run(struct x86_cpu *cpu);

/*
 * Completions finish the instruction at once (as KVM does before it looks
 * at immediate_exit): on return the registers show it retired, or stepped
 * for a REP string I/O batch.  An exit the instruction reaches meanwhile
 * (the next MMIO fragment, a debug exit) is held: the next x86_cpu_run()
 * returns it at once without running anything.  An exception it raises is
 * pending (cpu->ev) and delivered by the next run.
 */
void x86_cpu_complete_io(struct x86_cpu *cpu);
void x86_cpu_complete_mmio(struct x86_cpu *cpu, const uint8_t data[8]);

/*
 * ops->msr_check, ->rdmsr or ->wrmsr returned X86_MSR_EXIT: the instruction
 * stopped with X86_EXIT_MSR (RIP at it).  The host answers: error raises
 * #GP(0), otherwise RDMSR loads data into EDX:EAX; either way at once,
 * as the other completions.
 */
#define X86_MSR_EXIT 1
#define X86_HC_PATCH 1
#define X86_PAGE_FAULT 1
#define X86_PAGE_WAIT 2
void x86_cpu_complete_msr(struct x86_cpu *cpu, bool error, uint64_t data);

/*
 * Translate a guest-linear address as the CPU would for a supervisor
 * access (KVM_TRANSLATE).  0 and *gpa set, or -1 when not mapped.
 */
int x86_cpu_translate(struct x86_cpu *cpu, uint64_t la, uint64_t *gpa,
		      bool *writeable, bool *user);

/*
 * Called by a SIGSEGV/SIGBUS handler (async-signal-safe): true when the
 * fault is a guest access of the engine on this thread to a host page
 * that ops->gpa_page returned (its memory is PROT_NONE, read-only,
 * unmapped or past the end of a file).  The handler must then return at
 * once: ucontext was rewritten so that the run (or completion, or
 * x86_cpu_translate) ends with X86_EXIT_FAULT (resp. fails) instead of
 * crashing.  False: not the engine's, chain to the program's handler.
 * The signal must not be blocked on vCPU threads.
 */
bool x86_cpu_host_fault(int sig, const siginfo_t *si, void *ucontext);

/*
 * CPUID bits the engine implements, for KVM_GET_SUPPORTED_CPUID: fills out
 * (eax, ebx, ecx, edx) and returns true for an implemented leaf/subleaf,
 * false otherwise.  Advertise nothing the engine does not execute.
 */
bool x86_cpu_implemented_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t out[4]);

#endif /* SKVM_X86_CPU_H */
