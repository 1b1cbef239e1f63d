// SPDX-License-Identifier: MIT
/*
 * test_run.c - KVM_RUN's x86 part: exit translation, I/O completion,
 * immediate_exit, signals and kicks, sync_regs, the interrupt window,
 * CR8, and the VM-level x86 ioctls and capabilities.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static int setup(void **state)
{
	*state = harness_new();
	return 0;
}

static int teardown(void **state)
{
	harness_free(*state);
	return 0;
}

static uint8_t *pio_page(struct harness *h)
{
	return (uint8_t *)h->run + KVM_PIO_PAGE_OFFSET * PAGE_SIZE;
}

static void test_exit_io_out_then_in(void **state)
{
	struct harness *h = *state;
	struct x86_exit out = { .reason = X86_EXIT_IO,
		.io = { .port = 0x3f8, .size = 1, .in = false, .count = 1 } };
	struct x86_exit in = { .reason = X86_EXIT_IO,
		.io = { .port = 0x60, .size = 2, .in = true, .count = 3 } };

	fake_push_exit(&out);
	fake_push_exit(&in);
	fake.out_byte = 'A';
	assert_int_equal(h_run(h), 0);
	assert_int_equal(h->run->exit_reason, KVM_EXIT_IO);
	assert_int_equal(h->run->io.direction, KVM_EXIT_IO_OUT);
	assert_int_equal(h->run->io.size, 1);
	assert_int_equal(h->run->io.port, 0x3f8);
	assert_int_equal(h->run->io.count, 1);
	assert_int_equal(h->run->io.data_offset, KVM_PIO_PAGE_OFFSET * PAGE_SIZE);
	assert_int_equal(pio_page(h)[0], 'A');

	assert_int_equal(h_run(h), 0);
	assert_int_equal(fake.complete_io, 1);	/* the OUT finished */
	assert_int_equal(h->run->io.direction, KVM_EXIT_IO_IN);
	assert_int_equal(h->run->io.size, 2);
	assert_int_equal(h->run->io.count, 3);
	pio_page(h)[0] = 0x42;
	assert_int_equal(h_run(h), 0);
	assert_int_equal(fake.complete_io, 2);
	assert_int_equal(fake.pio_in_byte, 0x42);	/* data reached the engine */
	assert_int_equal(h->run->exit_reason, KVM_EXIT_HLT);
}

static void test_exit_mmio(void **state)
{
	struct harness *h = *state;
	struct x86_exit wr = { .reason = X86_EXIT_MMIO,
		.mmio = { .gpa = 0xfee000b0, .len = 4, .write = true,
			  .data = { 1, 2, 3, 4, 5, 6, 7, 8 } } };
	struct x86_exit rd = { .reason = X86_EXIT_MMIO,
		.mmio = { .gpa = 0xd0000000, .len = 8, .write = false } };

	fake_push_exit(&wr);
	fake_push_exit(&rd);
	assert_int_equal(h_run(h), 0);
	assert_int_equal(h->run->exit_reason, KVM_EXIT_MMIO);
	assert_int_equal(h->run->mmio.phys_addr, 0xfee000b0);
	assert_int_equal(h->run->mmio.len, 4);
	assert_true(h->run->mmio.is_write);
	assert_memory_equal(h->run->mmio.data, "\1\2\3\4\0\0\0\0", 8);
	assert_int_equal(h_run(h), 0);
	assert_int_equal(fake.complete_mmio, 1);
	assert_false(h->run->mmio.is_write);
	assert_int_equal(h->run->mmio.len, 8);
	memcpy(h->run->mmio.data, "abcdefgh", 8);
	assert_int_equal(h_run(h), 0);
	assert_int_equal(fake.complete_mmio, 2);
	assert_memory_equal(fake.mmio_data, "abcdefgh", 8);
}

static void test_exit_hlt_shutdown_internal(void **state)
{
	struct harness *h = *state;
	struct x86_exit sd = { .reason = X86_EXIT_SHUTDOWN };
	struct x86_exit ie = { .reason = X86_EXIT_INTERNAL,
		.internal = { .suberror = KVM_INTERNAL_ERROR_EMULATION,
			      .insn_len = 3, .insn = { 0x0f, 0x0b, 0xcc } } };
	struct x86_exit ie2 = { .reason = X86_EXIT_INTERNAL,
		.internal = { .suberror = KVM_INTERNAL_ERROR_SIMUL_EX } };

	fake_push_exit(&sd);
	fake_push_exit(&ie);
	fake_push_exit(&ie2);
	assert_int_equal(h_run(h), 0);
	assert_int_equal(h->run->exit_reason, KVM_EXIT_SHUTDOWN);
	assert_int_equal(h_run(h), 0);
	assert_int_equal(h->run->exit_reason, KVM_EXIT_INTERNAL_ERROR);
	assert_int_equal(h->run->emulation_failure.suberror, KVM_INTERNAL_ERROR_EMULATION);
	assert_int_equal(h->run->emulation_failure.flags,
			 KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES);
	assert_int_equal(h->run->emulation_failure.ndata, 8);
	assert_int_equal(h->run->emulation_failure.insn_size, 3);
	assert_memory_equal(h->run->emulation_failure.insn_bytes,
			    "\x0f\x0b\xcc\x90\x90\x90\x90\x90\x90\x90\x90\x90\x90\x90\x90", 15);
	assert_int_equal(h_run(h), 0);
	assert_int_equal(h->run->internal.suberror, KVM_INTERNAL_ERROR_SIMUL_EX);
	assert_int_equal(h->run->internal.ndata, 0);
	assert_int_equal(h_run(h), 0);
	assert_int_equal(h->run->exit_reason, KVM_EXIT_HLT);
	assert_false(h->vcpu.arch.cpu.halted);
}

/*
 * Pending I/O completes first, and its instruction is retired (one engine
 * run that stops at the next boundary: the engine sees a kick at once),
 * so a state save after the immediate exit is past it; then
 * immediate_exit: -EINTR, reason untouched.
 */
static void test_immediate_exit(void **state)
{
	struct harness *h = *state;
	struct x86_exit in = { .reason = X86_EXIT_IO,
		.io = { .port = 0x71, .size = 1, .in = true, .count = 1 } };
	struct x86_exit sd = { .reason = X86_EXIT_SHUTDOWN };

	fake_push_exit(&in);
	fake_push_exit(&sd);
	assert_int_equal(h_run(h), 0);
	h->run->immediate_exit = 1;
	assert_int_equal(h_run(h), -EINTR);
	assert_int_equal(fake.complete_io, 1);
	assert_int_equal(fake.runs, 2);
	assert_int_equal(fake.kicks_seen, 1);
	assert_false(h->vcpu.arch.completing_io);
	assert_int_equal(h->run->exit_reason, KVM_EXIT_IO);
	assert_int_equal(h_run(h), -EINTR);
	assert_int_equal(fake.complete_io, 1);	/* not twice */
	assert_int_equal(fake.runs, 2);
	h->run->immediate_exit = 0;
	assert_int_equal(h_run(h), 0);
	assert_int_equal(h->run->exit_reason, KVM_EXIT_SHUTDOWN);
}

static void test_signal_kick(void **state)
{
	struct harness *h = *state;

	/* A kick alone only re-enters the guest. */
	atomic_store(&h->vcpu.kick, true);
	assert_int_equal(h_run(h), 0);
	assert_int_equal(h->run->exit_reason, KVM_EXIT_HLT);
	assert_int_equal(fake.kicks_seen, 1);
	assert_false(atomic_load(&h->vcpu.kick));
	/* A signal: -EINTR with KVM_EXIT_INTR, flag consumed. */
	atomic_store(&h->vcpu.kick, true);
	atomic_store(&h->vcpu.signal_pending, true);
	assert_int_equal(h_run(h), -EINTR);
	assert_int_equal(h->run->exit_reason, KVM_EXIT_INTR);
	assert_false(atomic_load(&h->vcpu.signal_pending));
	assert_int_equal(h_run(h), 0);
}

static void test_memslot_update_kicks(void **state)
{
	struct harness *h = *state;

	kvm_arch_memslots_updated(&h->kvm, 2);
	assert_true(atomic_load(&h->vcpu.kick));
}

static void test_run_state_fields(void **state)
{
	struct harness *h = *state;
	struct kvm_regs r;

	assert_int_equal(h_vcpu(h, KVM_GET_REGS, &r), 0);
	r.rflags |= X86_RFLAGS_IF;
	assert_int_equal(h_vcpu(h, KVM_SET_REGS, &r), 0);
	assert_int_equal(h_run(h), 0);
	assert_int_equal(h->run->if_flag, 1);
	assert_int_equal(h->run->apic_base, 0xfee00900);
	assert_int_equal(h->run->ready_for_interrupt_injection, 1);
	assert_int_equal(h->run->flags, 0);
	/* An injected interrupt closes the window. */
	h->vcpu.arch.cpu.ev.irq_injected = true;
	h->run->immediate_exit = 1;
	assert_int_equal(h_run(h), -EINTR);
	assert_int_equal(h->run->ready_for_interrupt_injection, 0);
	h->vcpu.arch.cpu.ev.irq_injected = false;
	h->vcpu.arch.cpu.ev.int_shadow = X86_SHADOW_STI;
	assert_int_equal(h_run(h), -EINTR);
	assert_int_equal(h->run->ready_for_interrupt_injection, 0);
}

/* Without an in-kernel APIC, kvm_run.cr8 is an input on every KVM_RUN. */
static void test_cr8_from_run(void **state)
{
	struct harness *h = *state;
	struct kvm_sregs s;

	h->run->cr8 = 9;
	h->run->immediate_exit = 1;
	assert_int_equal(h_run(h), -EINTR);
	assert_int_equal(h_vcpu(h, KVM_GET_SREGS, &s), 0);
	assert_int_equal(s.cr8, 9);
	h->run->cr8 = 16;
	assert_int_equal(h_run(h), -EINVAL);
}

static void test_irq_window(void **state)
{
	struct harness *h = *state;
	struct kvm_regs r;
	struct x86_exit out = { .reason = X86_EXIT_IO,
		.io = { .port = 0x80, .size = 1, .count = 1 } };

	/* IF=0: the window is shut, the guest runs on. */
	fake_push_exit(&out);
	h->run->request_interrupt_window = 1;
	assert_int_equal(h_run(h), 0);
	assert_int_equal(h->run->exit_reason, KVM_EXIT_IO);
	/* IF=1: exit before running. */
	assert_int_equal(h_vcpu(h, KVM_GET_REGS, &r), 0);
	r.rflags |= X86_RFLAGS_IF;
	assert_int_equal(h_vcpu(h, KVM_SET_REGS, &r), 0);
	fake.runs = 0;
	assert_int_equal(h_run(h), 0);
	assert_int_equal(h->run->exit_reason, KVM_EXIT_IRQ_WINDOW_OPEN);
	assert_int_equal(fake.runs, 1);	/* only the OUT's retirement */
	assert_int_equal(h->run->ready_for_interrupt_injection, 1);
	/* Opened while running (the engine asks ops->kicked). */
	r.rflags &= ~X86_RFLAGS_IF;
	assert_int_equal(h_vcpu(h, KVM_SET_REGS, &r), 0);
	fake_push_exit(&out);
	assert_int_equal(h_run(h), 0);
	h->vcpu.arch.cpu.rflags |= X86_RFLAGS_IF;
	assert_int_equal(h_run(h), 0);
	assert_int_equal(h->run->exit_reason, KVM_EXIT_IRQ_WINDOW_OPEN);
}

/* api.rst "kvm_valid_regs / kvm_dirty_regs / s.regs". */
static void test_sync_regs(void **state)
{
	struct harness *h = *state;
	struct kvm_regs r;

	h->run->kvm_valid_regs = 1 << 3;
	assert_int_equal(h_run(h), -EINVAL);
	h->run->kvm_valid_regs = 0;
	h->run->kvm_dirty_regs = 1 << 5;
	assert_int_equal(h_run(h), -EINVAL);
	assert_int_equal(fake.runs, 0);

	/* valid_regs: state published after the run. */
	h->run->kvm_dirty_regs = 0;
	h->run->kvm_valid_regs = KVM_SYNC_X86_VALID_FIELDS;
	assert_int_equal(h_run(h), 0);
	assert_int_equal(h->run->s.regs.regs.rip, 0xfff0);
	assert_int_equal(h->run->s.regs.sregs.cs.selector, 0xf000);
	assert_int_equal(h->run->s.regs.events.flags,
			 KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SHADOW |
			 KVM_VCPUEVENT_VALID_SMM);

	/* dirty_regs: applied before the run, bits cleared. */
	h->run->s.regs.regs.rip = 0x7c00;
	h->run->s.regs.regs.rax = 0x1234;
	h->run->s.regs.sregs.cs.selector = 0;
	h->run->s.regs.sregs.cs.base = 0;
	h->run->s.regs.events.nmi.pending = 1;
	h->run->kvm_dirty_regs = KVM_SYNC_X86_VALID_FIELDS;
	h->run->immediate_exit = 1;
	assert_int_equal(h_run(h), -EINTR);
	assert_int_equal(h->run->kvm_dirty_regs, 0);
	assert_int_equal(h_vcpu(h, KVM_GET_REGS, &r), 0);
	assert_int_equal(r.rip, 0x7c00);
	assert_int_equal(r.rax, 0x1234);
	assert_int_equal(h->vcpu.arch.cpu.seg[X86_CS].base, 0);
	assert_true(h->vcpu.arch.cpu.ev.nmi_pending);
	assert_int_equal(h->run->s.regs.regs.rip, 0x7c00);	/* stored again */

	/* Invalid sregs: -EINVAL, the bit stays set. */
	h->run->s.regs.sregs.cr0 = X86_CR0_PG;
	h->run->kvm_dirty_regs = KVM_SYNC_X86_SREGS;
	assert_int_equal(h_run(h), -EINVAL);
	assert_int_equal(h->run->kvm_dirty_regs, KVM_SYNC_X86_SREGS);
}

/* KVM_SET_GUEST_DEBUG: validation, what reaches the engine, the exit. */
static void test_guest_debug(void **state)
{
	struct harness *h = *state;
	struct x86_cpu *cpu = &h->vcpu.arch.cpu;
	struct kvm_guest_debug dbg = { 0 };
	struct x86_exit ex = { .reason = X86_EXIT_DEBUG,
		.debug = { .exception = 1, .pc = 0x1234, .dr6 = 0xffff0ff1,
			   .dr7 = 0x402 } };
	struct kvm_vcpu_events ev;

	assert_int_equal(h_vcpu(h, KVM_SET_GUEST_DEBUG, BAD_PTR), -EFAULT);

	dbg.control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP |
		      KVM_GUESTDBG_SINGLESTEP;
	dbg.arch.debugreg[2] = 0x4000;
	dbg.arch.debugreg[7] = 0x420;
	assert_int_equal(h_vcpu(h, KVM_SET_GUEST_DEBUG, &dbg), 0);
	assert_int_equal(cpu->guest_debug.flags, dbg.control);
	assert_int_equal(cpu->guest_debug.dr[2], 0x4000);
	assert_int_equal(cpu->guest_debug.dr7, 0x420);
	/* Without ENABLE, nothing is kept. */
	dbg.control = KVM_GUESTDBG_USE_HW_BP | KVM_GUESTDBG_SINGLESTEP;
	assert_int_equal(h_vcpu(h, KVM_SET_GUEST_DEBUG, &dbg), 0);
	assert_int_equal(cpu->guest_debug.flags, 0);
	assert_int_equal(cpu->guest_debug.dr7, 0);

	/* INJECT_DB queues #DB; a second injection is -EBUSY. */
	dbg.control = KVM_GUESTDBG_INJECT_DB;
	assert_int_equal(h_vcpu(h, KVM_SET_GUEST_DEBUG, &dbg), 0);
	assert_true(cpu->ev.exc_pending);
	assert_int_equal(cpu->ev.exc_nr, 1);
	dbg.control = KVM_GUESTDBG_INJECT_BP;
	assert_int_equal(h_vcpu(h, KVM_SET_GUEST_DEBUG, &dbg), -EBUSY);
	assert_int_equal(h_vcpu(h, KVM_GET_VCPU_EVENTS, &ev), 0);
	ev.exception.injected = ev.exception.pending = 0;
	assert_int_equal(h_vcpu(h, KVM_SET_VCPU_EVENTS, &ev), 0);

	/* BLOCKIRQ holds a pending NMI back from the engine, not from KVM. */
	dbg.control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_BLOCKIRQ;
	assert_int_equal(h_vcpu(h, KVM_SET_GUEST_DEBUG, &dbg), 0);
	assert_int_equal(h_vcpu(h, KVM_NMI, NULL), 0);
	fake_push_exit(&ex);
	assert_int_equal(h_run(h), 0);
	assert_false(fake.nmi_seen);
	assert_true(cpu->ev.nmi_pending);

	assert_int_equal(h->run->exit_reason, KVM_EXIT_DEBUG);
	assert_int_equal(h->run->debug.arch.exception, 1);
	assert_int_equal(h->run->debug.arch.pc, 0x1234);
	assert_int_equal(h->run->debug.arch.dr6, 0xffff0ff1);
	assert_int_equal(h->run->debug.arch.dr7, 0x402);
}

/* KVM_EXIT_X86_RDMSR/WRMSR and their completion. */
static void test_exit_msr(void **state)
{
	struct harness *h = *state;
	struct x86_exit wr = { .reason = X86_EXIT_MSR,
		.msr = { .index = 0xdeadbeef, .write = true, .data = 0x1234 } };
	struct x86_exit rd = { .reason = X86_EXIT_MSR,
		.msr = { .index = 0xc0000084, .write = false } };

	fake_push_exit(&wr);
	fake_push_exit(&rd);
	h->vcpu.arch.msr_exit_reason = KVM_MSR_EXIT_REASON_UNKNOWN;
	assert_int_equal(h_run(h), 0);
	assert_int_equal(h->run->exit_reason, KVM_EXIT_X86_WRMSR);
	assert_int_equal(h->run->msr.index, 0xdeadbeef);
	assert_int_equal(h->run->msr.data, 0x1234);
	assert_int_equal(h->run->msr.reason, KVM_MSR_EXIT_REASON_UNKNOWN);
	assert_int_equal(h->run->msr.error, 0);
	h->run->msr.error = 1;
	h->vcpu.arch.msr_exit_reason = KVM_MSR_EXIT_REASON_FILTER;
	assert_int_equal(h_run(h), 0);
	assert_int_equal(fake.complete_msr, 1);
	assert_true(fake.msr_error);
	assert_int_equal(h->run->exit_reason, KVM_EXIT_X86_RDMSR);
	assert_int_equal(h->run->msr.index, 0xc0000084);
	assert_int_equal(h->run->msr.reason, KVM_MSR_EXIT_REASON_FILTER);
	h->run->msr.data = 0x5678;
	h->run->immediate_exit = 1;
	assert_int_equal(h_run(h), -EINTR);	/* completed all the same */
	assert_int_equal(fake.complete_msr, 2);
	assert_false(fake.msr_error);
	assert_int_equal(fake.msr_data, 0x5678);
}

/*
 * Hypercalls: KVM_HC_VAPIC_POLL_IRQ and KVM_HC_SCHED_YIELD answer 0,
 * others -KVM_ENOSYS, CPL 3 -KVM_EPERM, 32-bit results outside 64-bit
 * mode; SCHED_YIELD is -KVM_ENOSYS once PV CPUID is enforced without its
 * bit.  VMMCALL is patched, or #UD without the quirk.
 */
static void test_hypercall(void **state)
{
	struct harness *h = *state;
	struct x86_cpu *cpu = &h->vcpu.arch.cpu;
	struct kvm_enable_cap cap = { .cap = KVM_CAP_ENFORCE_PV_FEATURE_CPUID,
				      .args = { 1 } };
	struct kvm_enable_cap quirks = { .cap = KVM_CAP_DISABLE_QUIRKS2 };
	const struct {
		uint64_t nr;
		bool user, compat;
		uint64_t want;
	} rows[] = {
		{ 1, false, false, 0 },
		{ 11, false, false, 0 },
		{ 5, false, false, (uint64_t)-1000 },
		{ 10, false, false, (uint64_t)-95 },	/* SEND_IPI, no LAPICs */
		{ 0x10000000b, false, false, (uint64_t)-1000 },
		{ 0x10000000b, false, true, 0 },	/* nr truncated: 11 */
		{ 99, false, true, (uint32_t)-1000 },
		{ 1, true, false, (uint64_t)-1 },
	};
	uint64_t stat0 = kvm_vcpu_stat(&h->vcpu)->hypercalls;
	size_t i;

	cpu->cr0 |= 1;
	cpu->efer |= 1 << 10;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		cpu->seg[X86_CS].attr = rows[i].compat ? 0 : X86_SEG_L;
		cpu->seg[X86_CS].sel = rows[i].user ? 0x33 : 0x10;
		cpu->gpr[X86_RAX] = rows[i].nr;
		assert_int_equal(cpu->ops->hypercall(cpu, false), 0);
		if (cpu->gpr[X86_RAX] != rows[i].want)
			fail_msg("row %zu: %#llx", i,
				 (unsigned long long)cpu->gpr[X86_RAX]);
	}
	assert_int_equal(kvm_vcpu_stat(&h->vcpu)->hypercalls - stat0, i);
	cpu->seg[X86_CS].attr = X86_SEG_L;
	cpu->seg[X86_CS].sel = 0x10;

	assert_int_equal(h_vcpu(h, KVM_ENABLE_CAP, &cap), 0);
	cpu->gpr[X86_RAX] = 11;
	assert_int_equal(cpu->ops->hypercall(cpu, false), 0);
	assert_int_equal(cpu->gpr[X86_RAX], (uint64_t)-1000);

	assert_int_equal(cpu->ops->hypercall(cpu, true), X86_HC_PATCH);
	quirks.args[0] = KVM_X86_QUIRK_LINT0_REENABLED;
	assert_int_equal(kvm_arch_vm_enable_cap(&h->kvm, &quirks), -EINVAL);
	quirks.args[0] = KVM_X86_QUIRK_FIX_HYPERCALL_INSN;
	assert_int_equal(kvm_arch_vm_enable_cap(&h->kvm, &quirks), 0);
	assert_int_equal(cpu->ops->hypercall(cpu, true), -1);
}

/*
 * MONITOR/MWAIT are NOPs; #UD only with MWAIT_NEVER_UD_FAULTS disabled and
 * no MONITOR in the guest's CPUID, which MISC_ENABLE bit 18 rules once
 * MISC_ENABLE_NO_MWAIT is disabled (changing it needs SSE3 in CPUID).
 */
static void test_monitor_mwait(void **state)
{
	struct harness *h = *state;
	struct x86_cpu *cpu = &h->vcpu.arch.cpu;
	struct kvm_enable_cap quirks = { .cap = KVM_CAP_DISABLE_QUIRKS2 };
	struct {
		struct kvm_cpuid2 c;
		struct kvm_cpuid_entry2 e[1];
	} cpuid = { .c.nent = 1, .e[0] = { .function = 1, .ecx = 1 } };
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e[1];
	} m = { .h.nmsrs = 1, .e[0] = { .index = 0x1a0, .data = 1 << 18 } };

	assert_int_equal(cpu->ops->monitor_mwait(cpu, false), 0);
	assert_int_equal(cpu->ops->monitor_mwait(cpu, true), 0);
	quirks.args[0] = KVM_X86_QUIRK_MWAIT_NEVER_UD_FAULTS;
	assert_int_equal(kvm_arch_vm_enable_cap(&h->kvm, &quirks), 0);
	assert_int_equal(cpu->ops->monitor_mwait(cpu, true), -1);

	quirks.args[0] |= KVM_X86_QUIRK_MISC_ENABLE_NO_MWAIT;
	assert_int_equal(kvm_arch_vm_enable_cap(&h->kvm, &quirks), 0);
	assert_int_equal(h_vcpu(h, KVM_SET_MSRS, &m), 0);	/* no SSE3 */
	assert_int_equal(h_vcpu(h, KVM_SET_CPUID2, &cpuid), 0);
	assert_int_equal(h_vcpu(h, KVM_SET_MSRS, &m), 1);
	assert_int_equal(cpu->ops->monitor_mwait(cpu, false), 0);
	m.e[0].data = 0;
	assert_int_equal(h_vcpu(h, KVM_SET_MSRS, &m), 1);
	assert_int_equal(cpu->ops->monitor_mwait(cpu, false), -1);
}

/* The vCPU's KVM_VCPU_TSC_CTRL/KVM_VCPU_TSC_OFFSET attribute. */
static void test_tsc_offset_attr(void **state)
{
	struct harness *h = *state;
	uint64_t off = 1000000000000ull, got = 0;
	struct kvm_device_attr a = { .group = KVM_VCPU_TSC_CTRL,
				     .attr = KVM_VCPU_TSC_OFFSET,
				     .addr = (uintptr_t)&off };

	assert_int_equal(h_vcpu(h, KVM_HAS_DEVICE_ATTR, &a), 0);
	assert_int_equal(h_vcpu(h, KVM_SET_DEVICE_ATTR, &a), 0);
	assert_int_equal(h->vcpu.arch.tsc_offset, (int64_t)off);
	a.addr = (uintptr_t)&got;
	assert_int_equal(h_vcpu(h, KVM_GET_DEVICE_ATTR, &a), 0);
	assert_int_equal(got, off);
	a.addr = (uintptr_t)BAD_PTR;
	assert_int_equal(h_vcpu(h, KVM_GET_DEVICE_ATTR, &a), -EFAULT);
	a.attr = 1;
	assert_int_equal(h_vcpu(h, KVM_HAS_DEVICE_ATTR, &a), -ENXIO);
	a.attr = 0;
	a.group = 1;
	assert_int_equal(h_vcpu(h, KVM_SET_DEVICE_ATTR, &a), -ENXIO);
}

static void test_vm_ioctls(void **state)
{
	struct harness *h = *state;
	uint64_t addr = 0xfeffc000;

	assert_int_equal(h_vm(h, KVM_SET_TSS_ADDR, (void *)0xfffbd000UL), 0);
	assert_int_equal(h->kvm.arch.tss_addr, 0xfffbd000);
	assert_int_equal(h_vm(h, KVM_SET_TSS_ADDR, (void *)0xfffff000UL), -EINVAL);
	/* A vCPU exists: the identity map and boot CPU are fixed. */
	assert_int_equal(h_vm(h, KVM_SET_IDENTITY_MAP_ADDR, &addr), -EINVAL);
	assert_int_equal(h_vm(h, KVM_SET_BOOT_CPU_ID, (void *)1UL), -EBUSY);
	assert_int_equal(h_vm(h, KVM_SET_NR_MMU_PAGES, (void *)63UL), -EINVAL);
	assert_int_equal(h_vm(h, KVM_SET_NR_MMU_PAGES, (void *)64UL), 0);
	assert_int_equal(h->kvm.arch.n_max_mmu_pages, 64);
	assert_int_equal(h_vm(h, 0xaeff, NULL), -ENOTTY);
	assert_int_equal(h_sys(0xaeff, NULL), -EINVAL);

	atomic_store(&h->kvm.online_vcpus, 0);
	assert_int_equal(h_vm(h, KVM_SET_IDENTITY_MAP_ADDR, BAD_PTR), -EFAULT);
	assert_int_equal(h_vm(h, KVM_SET_IDENTITY_MAP_ADDR, &addr), 0);
	assert_int_equal(h->kvm.arch.ept_identity_map_addr, addr);
	assert_int_equal(h_vm(h, KVM_SET_BOOT_CPU_ID, (void *)1UL), 0);
	atomic_store(&h->kvm.online_vcpus, 1);

	assert_int_equal(kvm_arch_init_vm(&h->kvm, 0x7f), -EINVAL);
	{
		struct kvm_enable_cap cap = { .cap = KVM_CAP_X86_DISABLE_EXITS };

		assert_int_equal(kvm_arch_vm_enable_cap(&h->kvm, &cap), -EINVAL);
	}
}

static void test_check_extension(void **state)
{
	static const struct {
		long cap;
		int want;
	} rows[] = {
		{ KVM_CAP_SET_TSS_ADDR, 1 }, { KVM_CAP_SET_IDENTITY_MAP_ADDR, 1 },
		{ KVM_CAP_EXT_CPUID, 1 }, { KVM_CAP_MP_STATE, 1 },
		{ KVM_CAP_VCPU_EVENTS, 1 }, { KVM_CAP_DEBUGREGS, 1 },
		{ KVM_CAP_GET_MSR_FEATURES, 1 }, { KVM_CAP_SREGS2, 1 },
		{ KVM_CAP_IMMEDIATE_EXIT, 1 }, { KVM_CAP_GET_TSC_KHZ, 1 },
		{ KVM_CAP_XSAVE, 1 }, { KVM_CAP_XCRS, 1 },
		{ KVM_CAP_XSAVE2, 4096 }, { KVM_CAP_MMU_SHADOW_CACHE_CONTROL, 1 },
		{ KVM_CAP_X86_USER_SPACE_MSR, 1 }, { KVM_CAP_X86_MSR_FILTER, 1 },
		{ KVM_CAP_MSR_PLATFORM_INFO, 1 },
		{ KVM_CAP_ENFORCE_PV_FEATURE_CPUID, 1 }, { KVM_CAP_VCPU_ATTRIBUTES, 1 },
		{ KVM_CAP_X86_SMM, 1 },
		{ KVM_CAP_DISABLE_QUIRKS2, KVM_X86_QUIRK_FIX_HYPERCALL_INSN |
		  KVM_X86_QUIRK_MISC_ENABLE_NO_MWAIT |
		  KVM_X86_QUIRK_MWAIT_NEVER_UD_FAULTS },
		{ KVM_CAP_DISABLE_QUIRKS, 0 },
		{ KVM_CAP_SET_GUEST_DEBUG, 1 }, { KVM_CAP_SET_GUEST_DEBUG2, 0x1f0003 },
		{ KVM_CAP_SYNC_REGS, KVM_SYNC_X86_VALID_FIELDS },
		{ KVM_CAP_MAX_VCPUS, KVM_MAX_VCPUS },
		/* The in-kernel irqchip and PIT (platform.c). */
		{ KVM_CAP_IRQCHIP, 1 }, { KVM_CAP_PIT2, 1 }, { KVM_CAP_PIT_STATE2, 1 },
		{ KVM_CAP_IRQ_INJECT_STATUS, 1 }, { KVM_CAP_IRQ_ROUTING, 4096 },
		{ KVM_CAP_X2APIC_API, 3 }, { KVM_CAP_SPLIT_IRQCHIP, 1 },
		/* kvmclock.c */
		{ KVM_CAP_ADJUST_CLOCK, KVM_CLOCK_TSC_STABLE | KVM_CLOCK_REALTIME |
		  KVM_CLOCK_HOST_TSC }, { KVM_CAP_KVMCLOCK_CTRL, 1 },
		/* mce.c */
		{ KVM_CAP_MCE, 32 },
		/* Not implemented: not reported. */
		{ KVM_CAP_TSC_CONTROL, 0 },
		{ KVM_CAP_EXCEPTION_PAYLOAD, 0 },
		{ KVM_CAP_NESTED_STATE, 0 },
 { KVM_CAP_EXIT_HYPERCALL, 0 },
		{ 100000, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (kvm_arch_check_extension(NULL, rows[i].cap) != rows[i].want)
			fail_msg("cap %ld: %d", rows[i].cap,
				 kvm_arch_check_extension(NULL, rows[i].cap));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_exit_io_out_then_in),
		T(test_exit_mmio),
		T(test_exit_hlt_shutdown_internal),
		T(test_immediate_exit),
		T(test_signal_kick),
		T(test_memslot_update_kicks),
		T(test_run_state_fields),
		T(test_cr8_from_run),
		T(test_irq_window),
		T(test_sync_regs),
		T(test_guest_debug),
		T(test_exit_msr),
		T(test_hypercall),
		T(test_monitor_mwait),
		T(test_tsc_offset_attr),
		T(test_vm_ioctls),
		T(test_check_extension),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
