// SPDX-License-Identifier: MIT
/*
 * x86.c - the x86 half of KVM: VM and system ioctls that only x86 has,
 * the vCPU state ioctls (regs, sregs, sregs2, fpu, xsave, xcrs, debug
 * registers, events, mp_state), interrupt injection, and the x86 part of
 * KVM_RUN, which drives the software vCPU (cpu/) and translates its exits
 * into struct kvm_run.
 *
 * Semantics follow Documentation/virt/kvm/api.rst and Linux 6.1's
 * arch/x86/kvm/x86.c; where they differ from what the brief API text
 * says, the comment names the behaviour kept.
 *
 * Locking: every vCPU hook runs under vcpu->mutex (taken by virt/kvm),
 * so the vCPU state here needs no lock of its own.  KVM_RUN holds
 * rcu_read_lock() (liburcu-bp, our SRCU) while the engine runs, because
 * the engine keeps pointers into memslot memory.
 */
#include <errno.h>
#include <linux/kvm_para.h>
#include <sched.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "kvm_rcu.h"

#include "platform.h"
#include "dirty_ring.h"
#include "kvmclock.h"
#include "x86.h"

#define KVM_NR_INTERRUPTS 256
#define NMI_VECTOR 2
#define DB_VECTOR 1
#define BP_VECTOR 3
#define OF_VECTOR 4
#define XSAVE_HDR_OFFSET 512
/* Quirks whose disabling is honoured (KVM_CAP_DISABLE_QUIRKS2). */
#define KVM_X86_VALID_QUIRKS						\
	(KVM_X86_QUIRK_FIX_HYPERCALL_INSN |				\
	 KVM_X86_QUIRK_MISC_ENABLE_NO_MWAIT |				\
	 KVM_X86_QUIRK_MWAIT_NEVER_UD_FAULTS)
#define KVM_GUESTDBG_VALID_MASK						\
	(KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP |		\
	 KVM_GUESTDBG_USE_HW_BP | KVM_GUESTDBG_USE_SW_BP |		\
	 KVM_GUESTDBG_INJECT_BP | KVM_GUESTDBG_INJECT_DB |		\
	 KVM_GUESTDBG_BLOCKIRQ)

/* --- VM ---------------------------------------------------------------- */

int kvm_arch_init_vm(struct kvm *kvm, unsigned long type)
{
	/*
	 * The default VM type, and KVM_X86_SW_PROTECTED_VM (private memory
	 * from guest_memfd, no hardware protection); SEV/TDX do not exist.
	 */
	if (type != KVM_X86_DEFAULT_VM && type != KVM_X86_SW_PROTECTED_VM)
		return -EINVAL;
	memset(&kvm->arch, 0, sizeof(kvm->arch));
	kvm->arch.guest_can_read_msr_platform_info = true;
	kvm_host_tsc_khz();
	return kvm_clock_init(kvm);
}

void kvm_arch_sync_events(struct kvm *kvm)
{
	kvm_platform_sync_events(kvm);
}

void kvm_arch_destroy_vm(struct kvm *kvm)
{
	kvm_platform_destroy(kvm);
	kvm_free_msr_filter(kvm);
	kvm_clock_destroy(kvm);
}

/*
 * Exactly what is implemented (DESIGN.md: clients adapt to the list).
 * Generic capabilities are answered by virt/kvm before it calls here;
 * the vCPU-count ones are answered here too, as x86 KVM does, in case the
 * generic code passes them on.
 */
int kvm_arch_check_extension(struct kvm *kvm, long ext)
{
	long ncpus;

	switch (ext) {
	case KVM_CAP_HLT:
	case KVM_CAP_SET_TSS_ADDR:
	case KVM_CAP_SET_IDENTITY_MAP_ADDR:
	case KVM_CAP_SET_BOOT_CPU_ID:
	case KVM_CAP_EXT_CPUID:
	case KVM_CAP_MP_STATE:
	case KVM_CAP_USER_NMI:
	case KVM_CAP_VCPU_EVENTS:
	case KVM_CAP_DEBUGREGS:
	case KVM_CAP_XSAVE:
	case KVM_CAP_GET_TSC_KHZ:
	case KVM_CAP_IMMEDIATE_EXIT:
	case KVM_CAP_GET_MSR_FEATURES:
	case KVM_CAP_SREGS2:
	case KVM_CAP_MMU_SHADOW_CACHE_CONTROL:
	case KVM_CAP_SET_GUEST_DEBUG:
	case KVM_CAP_X86_USER_SPACE_MSR:
	case KVM_CAP_X86_MSR_FILTER:
	case KVM_CAP_ASYNC_PF:
	case KVM_CAP_ASYNC_PF_INT:
	case KVM_CAP_MSR_PLATFORM_INFO:
	case KVM_CAP_ENFORCE_PV_FEATURE_CPUID:
	case KVM_CAP_VCPU_ATTRIBUTES:
	case KVM_CAP_X86_SMM:
	/* guest MAXPHYADDR below the engine's: cpu/emulator.c */
	case KVM_CAP_SMALLER_MAXPHYADDR:
	case KVM_CAP_EXIT_ON_EMULATION_FAILURE:
	case KVM_CAP_KVMCLOCK_CTRL:
		return 1;
	case KVM_CAP_ADJUST_CLOCK:
		return KVM_CLOCK_VALID_FLAGS;
	case KVM_CAP_STEAL_TIME:
		return kvm_steal_time_supported();
	case KVM_CAP_DISABLE_QUIRKS2:
		return KVM_X86_VALID_QUIRKS;
	case KVM_CAP_SET_GUEST_DEBUG2:
		return KVM_GUESTDBG_VALID_MASK;
	/* The in-kernel irqchip and PIT (platform.c, docs/platform.md). */
	case KVM_CAP_IRQCHIP:
	case KVM_CAP_IRQ_INJECT_STATUS:
	case KVM_CAP_PIT2:
	case KVM_CAP_PIT_STATE2:
	case KVM_CAP_REINJECT_CONTROL:
	case KVM_CAP_SIGNAL_MSI:
	case KVM_CAP_IOAPIC_POLARITY_IGNORED:
	case KVM_CAP_SPLIT_IRQCHIP:
	/* not in KVM_GET_SUPPORTED_CPUID: the LAPIC, not the CPU, has it */
	case KVM_CAP_TSC_DEADLINE_TIMER:
		return 1;
	case KVM_CAP_IRQ_ROUTING:
		return KVM_MAX_IRQ_ROUTES;
	case KVM_CAP_X2APIC_API:
		return KVM_X2APIC_API_VALID_FLAGS;
	case KVM_CAP_XCRS:
		return kvm_cpu_cap_has(X86_FEATURE_XSAVE);
	case KVM_CAP_XSAVE2:
		return sizeof(struct kvm_xsave);
	case KVM_CAP_SYNC_REGS:
		return KVM_SYNC_X86_VALID_FIELDS;
	case KVM_CAP_NR_VCPUS:
		ncpus = sysconf(_SC_NPROCESSORS_ONLN);
		return ncpus > 0 && ncpus < KVM_MAX_VCPUS ? ncpus : KVM_MAX_VCPUS;
	case KVM_CAP_MAX_VCPUS:
		return KVM_MAX_VCPUS;
	case KVM_CAP_MAX_VCPU_ID:
		return KVM_MAX_VCPU_IDS;
	case KVM_CAP_MCE:
		return KVM_MAX_MCE_BANKS;
	default:
		return 0;
	}
}

#define KVM_MSR_EXIT_REASON_VALID_MASK					\
	(KVM_MSR_EXIT_REASON_INVAL | KVM_MSR_EXIT_REASON_UNKNOWN |	\
	 KVM_MSR_EXIT_REASON_FILTER)

int kvm_arch_vm_enable_cap(struct kvm *kvm, struct kvm_enable_cap *cap)
{
	if (cap->flags)		/* no x86 VM capability takes flags */
		return -EINVAL;
	switch (cap->cap) {
	case KVM_CAP_X2APIC_API:
		return kvm_platform_enable_x2apic_api(kvm, cap->args[0]);
	case KVM_CAP_SPLIT_IRQCHIP:
		return kvm_platform_enable_split_irqchip(kvm, cap->args[0]);
	case KVM_CAP_X86_USER_SPACE_MSR:
		/* Which failed guest MSR accesses exit to user space. */
		if (cap->args[0] & ~KVM_MSR_EXIT_REASON_VALID_MASK)
			return -EINVAL;
		kvm->arch.user_space_msr_mask = (uint32_t)cap->args[0];
		return 0;
	case KVM_CAP_MSR_PLATFORM_INFO:
		kvm->arch.guest_can_read_msr_platform_info = cap->args[0];
		return 0;
	case KVM_CAP_DISABLE_QUIRKS2:
		if (cap->args[0] & ~KVM_X86_VALID_QUIRKS)
			return -EINVAL;
		kvm->arch.disabled_quirks = cap->args[0];
		return 0;
	case KVM_CAP_EXIT_ON_EMULATION_FAILURE:
		if (cap->args[0] & ~1ull)
			return -EINVAL;
		kvm->arch.exit_on_emulation_error = cap->args[0];
		return 0;
	default:
		return -EINVAL;
	}
}

static bool kvm_vcpus_created(struct kvm *kvm)
{
	return atomic_load(&kvm->online_vcpus) > 0 || kvm->created_vcpus_locked;
}

/* VMX's rule: the three TSS pages must lie below 4 GiB. */
static long kvm_vm_ioctl_set_tss_addr(struct kvm *kvm, unsigned long addr)
{
	if (addr > (unsigned int)(-3 * (int)PAGE_SIZE))
		return -EINVAL;
	kvm->arch.tss_addr = addr;
	return 0;
}

/* After the first vCPU the address is fixed: -EINVAL, as KVM returns. */
static long kvm_vm_ioctl_set_identity_map_addr(struct kvm *kvm, void *argp)
{
	uint64_t addr;
	long r;

	pthread_mutex_lock(&kvm->lock);
	r = -EINVAL;
	if (kvm_vcpus_created(kvm))
		goto out;
	r = -EFAULT;
	if (copy_from_user(&addr, argp, sizeof(addr)))
		goto out;
	kvm->arch.ept_identity_map_addr = addr;
	kvm->arch.ept_identity_map_set = true;
	r = 0;
out:
	pthread_mutex_unlock(&kvm->lock);
	return r;
}

static long kvm_vm_ioctl_set_boot_cpu_id(struct kvm *kvm, unsigned long id)
{
	long r = -EBUSY;

	pthread_mutex_lock(&kvm->lock);
	if (!kvm_vcpus_created(kvm)) {
		kvm->arch.bsp_vcpu_id = id;
		r = 0;
	}
	pthread_mutex_unlock(&kvm->lock);
	return r;
}

/*
 * The limit on KVM's shadow-page cache.  The software TLB has no shadow
 * pages, so nothing can exceed it; the value is checked as KVM checks it
 * (at least KVM_MIN_ALLOC_MMU_PAGES) and kept.
 */
static long kvm_vm_ioctl_set_nr_mmu_pages(struct kvm *kvm, unsigned long n)
{
	if (n < KVM_MIN_ALLOC_MMU_PAGES)
		return -EINVAL;
	pthread_mutex_lock(&kvm->lock);
	kvm->arch.n_max_mmu_pages = n;
	pthread_mutex_unlock(&kvm->lock);
	return 0;
}

long kvm_arch_vm_ioctl(struct kvm *kvm, unsigned int ioctl, void *argp)
{
	switch (ioctl) {
	case KVM_SET_NR_MMU_PAGES:
		return kvm_vm_ioctl_set_nr_mmu_pages(kvm, (unsigned long)argp);
	case KVM_X86_SET_MSR_FILTER:
		return kvm_vm_ioctl_set_msr_filter(kvm, argp);
	case KVM_SET_TSS_ADDR:
		return kvm_vm_ioctl_set_tss_addr(kvm, (unsigned long)argp);
	case KVM_SET_IDENTITY_MAP_ADDR:
		return kvm_vm_ioctl_set_identity_map_addr(kvm, argp);
	case KVM_SET_BOOT_CPU_ID:
		return kvm_vm_ioctl_set_boot_cpu_id(kvm, (unsigned long)argp);
	case KVM_GET_CLOCK:
		return kvm_vm_ioctl_get_clock(kvm, argp);
	case KVM_SET_CLOCK:
		return kvm_vm_ioctl_set_clock(kvm, argp);
	default:
		return kvm_platform_vm_ioctl(kvm, ioctl, argp);
	}
}

/* A memslot update: make every vCPU leave the RCU read side soon. */
void kvm_arch_memslots_updated(struct kvm *kvm, uint64_t gen)
{
	int i, n = atomic_load(&kvm->online_vcpus);

	for (i = 0; i < n; i++)
		if (kvm->vcpus[i])
			kvm_vcpu_kick(kvm->vcpus[i]);
}

/* --- System fd --------------------------------------------------------- */

long kvm_arch_dev_ioctl(unsigned int ioctl, void *argp)
{
	switch (ioctl) {
	case KVM_GET_MSR_INDEX_LIST:
		return kvm_dev_ioctl_get_msr_index_list(argp, false);
	case KVM_GET_MSR_FEATURE_INDEX_LIST:
		return kvm_dev_ioctl_get_msr_index_list(argp, true);
	case KVM_GET_MSRS:
		return kvm_dev_ioctl_get_feature_msrs(argp);
	case KVM_GET_SUPPORTED_CPUID:
		return kvm_dev_ioctl_get_supported_cpuid(argp);
	case KVM_X86_GET_MCE_CAP_SUPPORTED:
		return kvm_mce_get_cap_supported(argp);
	default:
		return -EINVAL;
	}
}

/* --- Engine callbacks -------------------------------------------------- */

static struct kvm_vcpu *cpu_vcpu(struct x86_cpu *cpu)
{
	return cpu->opaque;
}

/* In SMM the vCPU sees the second address space (SMRAM), as KVM. */
static void *x86_op_gpa_page(struct x86_cpu *cpu, uint64_t gpa, bool write)
{
	return kvm_gfn_to_hva(cpu_vcpu(cpu)->kvm, cpu->ev.smm ? 1 : 0,
			      gpa >> PAGE_SHIFT, write);
}

static uint64_t x86_op_generation(struct x86_cpu *cpu)
{
	return atomic_load(&cpu_vcpu(cpu)->kvm->memslots_generation);
}

static bool exception_queued(const struct x86_cpu *cpu)
{
	return cpu->ev.exc_pending || cpu->ev.exc_injected;
}

/* KVM_GUESTDBG_BLOCKIRQ: no interrupt, NMI or SMI is injected. */
static bool guest_debug_blocks_irqs(const struct x86_cpu *cpu)
{
	uint32_t f = cpu->guest_debug.flags;

	return (f & KVM_GUESTDBG_ENABLE) && (f & KVM_GUESTDBG_BLOCKIRQ);
}

/*
 * KVM's kvm_vcpu_ready_for_interrupt_injection(): IF set, no interrupt
 * shadow, and nothing half-delivered that user space would clobber.
 */
static bool ready_for_interrupt_injection(struct kvm_vcpu *vcpu)
{
	const struct x86_cpu *cpu = vcpu_cpu(vcpu);

	return (cpu->rflags & X86_RFLAGS_IF) && !cpu->ev.int_shadow &&
	       !cpu->ev.irq_injected && !cpu->ev.nmi_injected &&
	       !exception_queued(cpu) && kvm_platform_accept_dm_intr(vcpu);
}

/*
 * User space asked (request_interrupt_window) and the window is open;
 * never with the in-kernel PIC, whose interrupts need no window.
 */
static bool irq_window_exit_due(struct kvm_vcpu *vcpu)
{
	return vcpu->run && vcpu->run->request_interrupt_window &&
	       !kvm_pic_in_kernel(vcpu->kvm) && ready_for_interrupt_injection(vcpu);
}

static bool x86_op_kicked(struct x86_cpu *cpu)
{
	struct kvm_vcpu *vcpu = cpu_vcpu(cpu);

	return atomic_load(&vcpu->kick) || vcpu->arch.completing_io ||
	       irq_window_exit_due(vcpu);
}

static void x86_op_cpuid(struct x86_cpu *cpu, uint32_t leaf, uint32_t subleaf,
			 uint32_t out[4])
{
	kvm_cpuid(cpu_vcpu(cpu), leaf, subleaf, out);
}

/*
 * A guest MSR access that failed for this reason (KVM_MSR_EXIT_REASON_*):
 * to user space (KVM_EXIT_X86_RDMSR/WRMSR) if KVM_CAP_X86_USER_SPACE_MSR
 * asked for it, else #GP(0).
 */
static int msr_failed(struct kvm_vcpu *vcpu, uint32_t reason)
{
	if (!(vcpu->kvm->arch.user_space_msr_mask & reason))
		return -1;
	vcpu->arch.msr_exit_reason = reason;
	return X86_MSR_EXIT;
}

static uint32_t msr_fail_reason(int r)
{
	return r == KVM_MSR_RET_INVALID ? KVM_MSR_EXIT_REASON_UNKNOWN :
					  KVM_MSR_EXIT_REASON_INVAL;
}

/* Every guest RDMSR/WRMSR goes through the VM's MSR filter first. */
static int x86_op_msr_check(struct x86_cpu *cpu, uint32_t index, bool write)
{
	struct kvm_vcpu *vcpu = cpu_vcpu(cpu);

	if (kvm_msr_allowed(vcpu, index, write))
		return 0;
	return msr_failed(vcpu, KVM_MSR_EXIT_REASON_FILTER);
}

static int x86_op_rdmsr(struct x86_cpu *cpu, uint32_t index, uint64_t *val)
{
	int r = kvm_platform_rdmsr(cpu_vcpu(cpu), index, val);

	if (r <= 0)
		return r;
	r = kvm_get_msr(cpu_vcpu(cpu), index, val, false);
	return r ? msr_failed(cpu_vcpu(cpu), msr_fail_reason(r)) : 0;
}

static int x86_op_wrmsr(struct x86_cpu *cpu, uint32_t index, uint64_t val)
{
	int r = kvm_platform_wrmsr(cpu_vcpu(cpu), index, val);

	if (r <= 0)
		return r;
	r = kvm_set_msr(cpu_vcpu(cpu), index, val, false);
	return r ? msr_failed(cpu_vcpu(cpu), msr_fail_reason(r)) : 0;
}

/* Real mode: 0; virtual-8086: 3; else the RPL of CS. */
int vcpu_cpl(const struct x86_cpu *cpu)
{
	if (!(cpu->cr0 & X86_CR0_PE))
		return 0;
	if (cpu->rflags & X86_RFLAGS_VM)
		return 3;
	return cpu->seg[X86_CS].sel & 3;
}

static bool is_64_bit_mode(const struct x86_cpu *cpu)
{
	return (cpu->efer & X86_EFER_LMA) && (cpu->seg[X86_CS].attr & X86_SEG_L);
}

/*
 * KVM's hypercalls (Documentation/virt/kvm/x86/hypercalls.rst): number in
 * RAX, arguments in RBX, RCX, RDX, RSI (32 bits outside 64-bit mode),
 * result in RAX; -KVM_EPERM above CPL 0, -KVM_ENOSYS for what is not
 * implemented or not in the guest's PV CPUID under enforcement.
 * VMCALL is the native instruction (the engine is Intel-like); a VMMCALL
 * is patched into a VMCALL unless KVM_X86_QUIRK_FIX_HYPERCALL_INSN was
 * disabled, then it is a #UD, as on KVM with VMX.
 */
static int x86_op_hypercall(struct x86_cpu *cpu, bool vmmcall)
{
	struct kvm_vcpu *vcpu = cpu_vcpu(cpu);
	bool op_64_bit = is_64_bit_mode(cpu);
	uint64_t nr = cpu->gpr[X86_RAX];
	uint64_t ret;

	if (vmmcall) {
		if (vcpu->kvm->arch.disabled_quirks &
		    KVM_X86_QUIRK_FIX_HYPERCALL_INSN)
			return -1;
		return X86_HC_PATCH;
	}
	if (!op_64_bit)
		nr = (uint32_t)nr;
	ret = -KVM_ENOSYS;
	if (vcpu_cpl(cpu) != 0) {
		ret = -KVM_EPERM;
	} else if (nr == KVM_HC_VAPIC_POLL_IRQ) {
		ret = 0;
	} else if (nr == KVM_HC_SEND_IPI &&
		   guest_pv_has(vcpu, KVM_FEATURE_PV_SEND_IPI)) {
		uint64_t mask = op_64_bit ? ~0ULL : 0xffffffffULL;

		ret = (uint64_t)kvm_pv_send_ipi(vcpu->kvm, cpu->gpr[X86_RBX] & mask,
						cpu->gpr[X86_RCX] & mask,
						(uint32_t)cpu->gpr[X86_RDX],
						cpu->gpr[X86_RSI] & mask, op_64_bit);
	} else if (nr == KVM_HC_SCHED_YIELD &&
		   guest_pv_has(vcpu, KVM_FEATURE_PV_SCHED_YIELD)) {
		/*
		 * A directed yield to the vCPU with APIC ID RBX: its thread
		 * is the host's to schedule, so give the CPU up to it.
		 */
		sched_yield();
		ret = 0;
	}
	if (!op_64_bit)
		ret = (uint32_t)ret;
	cpu->gpr[X86_RAX] = ret;
	kvm_vcpu_stat(vcpu)->hypercalls++;
	return 0;
}

/*
 * MONITOR/MWAIT run as NOPs, as KVM runs them (a halt-less MWAIT is a
 * correct, if wasteful, implementation); a #UD only once
 * KVM_X86_QUIRK_MWAIT_NEVER_UD_FAULTS is disabled and the guest's CPUID
 * lacks MONITOR.
 */
static int x86_op_monitor_mwait(struct x86_cpu *cpu, bool mwait)
{
	struct kvm_vcpu *vcpu = cpu_vcpu(cpu);

	if ((vcpu->kvm->arch.disabled_quirks &
	     KVM_X86_QUIRK_MWAIT_NEVER_UD_FAULTS) && !guest_has_mwait(vcpu))
		return -1;
	return 0;
}

static uint64_t x86_op_rdtsc(struct x86_cpu *cpu)
{
	return kvm_read_guest_tsc(cpu_vcpu(cpu));
}

/*
 * With KVM_CREATE_IRQCHIP the LAPIC (and the PIC through LINT0) supply
 * interrupts.  Without it user space injects with KVM_INTERRUPT, which
 * queues the vector as injected (ev.irq_injected) for the next entry.
 */
static int x86_op_pending_irq(struct x86_cpu *cpu, bool ack)
{
	struct kvm_vcpu *vcpu = cpu_vcpu(cpu);
	int v;

	if (!lapic_in_kernel(vcpu) || guest_debug_blocks_irqs(cpu))
		return -1;
	v = kvm_platform_pending_irq(vcpu, ack);
	if (ack && v >= 0)
		kvm_vcpu_stat(vcpu)->irq_injections++;
	return v;
}

/*
 * After RSM an INIT latched during SMM is due (KVM's KVM_REQ_EVENT in
 * kvm_smm_changed): leave the engine so the run loop takes it.
 */
static void x86_op_smm_changed(struct x86_cpu *cpu)
{
	struct kvm_vcpu *vcpu = cpu_vcpu(cpu);

	if (!cpu->ev.smm && lapic_in_kernel(vcpu) &&
	    (kvm_lapic_peek_events(vcpu->arch.apic) & KVM_APIC_EV_INIT))
		atomic_store(&vcpu->kick, true);
}

/*
 * A TLB miss after the dirty ring reached its soft limit (the write that
 * reached it was just logged by gpa_page) stops the instruction before it
 * completes; vcpu_run() then exits with KVM_EXIT_DIRTY_RING_FULL, as KVM
 * exits after the fault that filled the ring, before re-entering the
 * guest.  Without this, the writes of up to a chain of blocks would still
 * be logged, more than the ring's reserve, and entries would be lost.
 */
static int x86_op_page_ready(struct x86_cpu *cpu, uint64_t gpa, void *host,
			     uint64_t *cr2)
{
	if (kvm_dirty_ring_soft_full(cpu_vcpu(cpu)))
		return X86_PAGE_WAIT;
	return kvm_apf_page_ready(cpu, gpa, host, cr2);
}

static const struct x86_cpu_ops x86_ops_template = {
	.gpa_page = x86_op_gpa_page,
	.generation = x86_op_generation,
	.kicked = x86_op_kicked,
	.cpuid = x86_op_cpuid,
	.rdmsr = x86_op_rdmsr,
	.wrmsr = x86_op_wrmsr,
	.rdtsc = x86_op_rdtsc,
	.pending_irq = x86_op_pending_irq,
	.msr_check = x86_op_msr_check,
	.hypercall = x86_op_hypercall,
	.monitor_mwait = x86_op_monitor_mwait,
	.page_ready = x86_op_page_ready,
	.smm_changed = x86_op_smm_changed,
};

void kvm_x86_state_changed(struct kvm_vcpu *vcpu)
{
	if (vcpu_cpu(vcpu)->priv)
		x86_cpu_state_changed(vcpu_cpu(vcpu));
}

/* --- vCPU lifetime ----------------------------------------------------- */

static uint8_t *vcpu_pio_page(struct kvm_vcpu *vcpu)
{
	if (!vcpu->run)
		return NULL;
	return (uint8_t *)vcpu->run + KVM_PIO_PAGE_OFFSET * PAGE_SIZE;
}

/* Power-on state (SDM Vol. 3, 10.1.1) plus what KVM adds at vCPU reset. */
static void kvm_vcpu_reset(struct kvm_vcpu *vcpu)
{
	struct x86_cpu *cpu = vcpu_cpu(vcpu);

	x86_cpu_reset(cpu);
	cpu->apic_base = X86_APIC_DEFAULT_BASE | X86_APIC_BASE_ENABLE;
	if ((uint32_t)vcpu->vcpu_id == vcpu->kvm->arch.bsp_vcpu_id)
		cpu->apic_base |= X86_APIC_BASE_BSP;
	kvm_msr_reset(vcpu);
	kvm_apf_vcpu_reset(vcpu);
	vcpu->arch.mp_state = KVM_MP_STATE_RUNNABLE;
	vcpu->arch.pio_pending = false;
	vcpu->arch.mmio_pending = false;
	vcpu->arch.msr_pending = false;
	kvm_x86_state_changed(vcpu);
}

int kvm_arch_vcpu_precreate(struct kvm *kvm, unsigned int id)
{
	if (kvm->max_vcpu_ids && id >= kvm->max_vcpu_ids)
		return -EINVAL;
	return 0;
}

int kvm_arch_vcpu_create(struct kvm_vcpu *vcpu)
{
	struct kvm_vcpu_arch *a = &vcpu->arch;
	int r;

	a->ops = x86_ops_template;
	a->ops.pio_buf = vcpu_pio_page(vcpu);
	a->cpuid_entries = NULL;
	a->cpuid_nent = 0;
	a->ran = false;
	r = kvm_apf_vcpu_create(vcpu);
	if (r)
		return r;
	r = x86_cpu_init(&a->cpu, &a->ops, vcpu);
	if (r) {
		kvm_apf_vcpu_destroy(vcpu);
		return r;
	}
	a->tsc_khz = kvm_host_tsc_khz();
	/*
	 * KVM's first TSC write (data 0): TSC 0 at the first vCPU's creation,
	 * and later vCPUs share its offset, so their TSCs are in sync.
	 */
	a->tsc_offset = kvm_synchronize_tsc(vcpu, 0);
	r = kvm_pvtime_create(vcpu);
	if (!r)
		r = kvm_platform_vcpu_create(vcpu);
	if (r) {
		kvm_pvtime_destroy(vcpu);
		x86_cpu_destroy(&a->cpu);
		kvm_apf_vcpu_destroy(vcpu);
		return r;
	}
	kvm_vcpu_reset(vcpu);
	/* With an in-kernel LAPIC, APs wait for INIT-SIPI (KVM does too). */
	if (lapic_in_kernel(vcpu) &&
	    (uint32_t)vcpu->vcpu_id != vcpu->kvm->arch.bsp_vcpu_id)
		a->mp_state = KVM_MP_STATE_UNINITIALIZED;
	return 0;
}

void kvm_arch_vcpu_destroy(struct kvm_vcpu *vcpu)
{
	kvm_apf_vcpu_destroy(vcpu);
	kvm_platform_vcpu_destroy(vcpu);
	kvm_pvtime_destroy(vcpu);
	x86_cpu_destroy(vcpu_cpu(vcpu));
	kvm_cpuid_free(vcpu);
}

int kvm_arch_vcpu_enable_cap(struct kvm_vcpu *vcpu, struct kvm_enable_cap *cap)
{
	if (cap->flags)
		return -EINVAL;
	switch (cap->cap) {
	case KVM_CAP_ENFORCE_PV_FEATURE_CPUID:
		vcpu->arch.pv_cpuid_enforce = cap->args[0];
		return 0;
	default:
		return -EINVAL;
	}
}

/* --- Registers --------------------------------------------------------- */

static void get_regs(struct kvm_vcpu *vcpu, struct kvm_regs *r)
{
	const struct x86_cpu *cpu = vcpu_cpu(vcpu);

	memset(r, 0, sizeof(*r));
	r->rax = cpu->gpr[X86_RAX];
	r->rbx = cpu->gpr[X86_RBX];
	r->rcx = cpu->gpr[X86_RCX];
	r->rdx = cpu->gpr[X86_RDX];
	r->rsi = cpu->gpr[X86_RSI];
	r->rdi = cpu->gpr[X86_RDI];
	r->rsp = cpu->gpr[X86_RSP];
	r->rbp = cpu->gpr[X86_RBP];
	r->r8 = cpu->gpr[X86_R8];
	r->r9 = cpu->gpr[X86_R9];
	r->r10 = cpu->gpr[X86_R10];
	r->r11 = cpu->gpr[X86_R11];
	r->r12 = cpu->gpr[X86_R12];
	r->r13 = cpu->gpr[X86_R13];
	r->r14 = cpu->gpr[X86_R14];
	r->r15 = cpu->gpr[X86_R15];
	r->rip = cpu->rip;
	r->rflags = cpu->rflags;
}

/* As KVM: bit 1 of RFLAGS is forced, and a pending exception is dropped. */
static void set_regs(struct kvm_vcpu *vcpu, const struct kvm_regs *r)
{
	struct x86_cpu *cpu = vcpu_cpu(vcpu);

	cpu->gpr[X86_RAX] = r->rax;
	cpu->gpr[X86_RBX] = r->rbx;
	cpu->gpr[X86_RCX] = r->rcx;
	cpu->gpr[X86_RDX] = r->rdx;
	cpu->gpr[X86_RSI] = r->rsi;
	cpu->gpr[X86_RDI] = r->rdi;
	cpu->gpr[X86_RSP] = r->rsp;
	cpu->gpr[X86_RBP] = r->rbp;
	cpu->gpr[X86_R8] = r->r8;
	cpu->gpr[X86_R9] = r->r9;
	cpu->gpr[X86_R10] = r->r10;
	cpu->gpr[X86_R11] = r->r11;
	cpu->gpr[X86_R12] = r->r12;
	cpu->gpr[X86_R13] = r->r13;
	cpu->gpr[X86_R14] = r->r14;
	cpu->gpr[X86_R15] = r->r15;
	cpu->rip = r->rip;
	cpu->rflags = r->rflags | X86_RFLAGS_FIXED;
	cpu->ev.exc_pending = false;
	kvm_x86_state_changed(vcpu);
}

/* --- Segment and system registers -------------------------------------- */

static void seg_to_kvm(const struct x86_seg *s, struct kvm_segment *k)
{
	memset(k, 0, sizeof(*k));
	k->base = s->base;
	k->limit = s->limit;
	k->selector = s->sel;
	k->type = X86_SEG_TYPE(s->attr);
	k->s = !!(s->attr & X86_SEG_S);
	k->dpl = X86_SEG_DPL(s->attr);
	k->present = !!(s->attr & X86_SEG_P);
	k->avl = !!(s->attr & X86_SEG_AVL);
	k->l = !!(s->attr & X86_SEG_L);
	k->db = !!(s->attr & X86_SEG_DB);
	k->g = !!(s->attr & X86_SEG_G);
	k->unusable = !!(s->attr & X86_SEG_UNUSABLE);
}

/* Attributes are kept as given, so that GET returns what SET stored. */
static void seg_from_kvm(struct x86_seg *s, const struct kvm_segment *k)
{
	s->base = k->base;
	s->limit = k->limit;
	s->sel = k->selector;
	s->attr = (k->type & 0xf) | (k->s ? X86_SEG_S : 0) |
		  ((k->dpl & 3u) << 5) | (k->present ? X86_SEG_P : 0) |
		  (k->avl ? X86_SEG_AVL : 0) | (k->l ? X86_SEG_L : 0) |
		  (k->db ? X86_SEG_DB : 0) | (k->g ? X86_SEG_G : 0) |
		  (k->unusable ? X86_SEG_UNUSABLE : 0);
}

/* struct kvm_sregs2 starts with the same fields as struct kvm_sregs. */
struct sregs_common {
	struct kvm_segment cs, ds, es, fs, gs, ss;
	struct kvm_segment tr, ldt;
	struct kvm_dtable gdt, idt;
	uint64_t cr0, cr2, cr3, cr4, cr8;
	uint64_t efer;
	uint64_t apic_base;
};
_Static_assert(offsetof(struct kvm_sregs, apic_base) ==
	       offsetof(struct sregs_common, apic_base), "sregs layout");
_Static_assert(offsetof(struct kvm_sregs2, apic_base) ==
	       offsetof(struct sregs_common, apic_base), "sregs2 layout");

static void get_sregs_common(struct kvm_vcpu *vcpu, struct sregs_common *s)
{
	const struct x86_cpu *cpu = vcpu_cpu(vcpu);

	seg_to_kvm(&cpu->seg[X86_CS], &s->cs);
	seg_to_kvm(&cpu->seg[X86_DS], &s->ds);
	seg_to_kvm(&cpu->seg[X86_ES], &s->es);
	seg_to_kvm(&cpu->seg[X86_FS], &s->fs);
	seg_to_kvm(&cpu->seg[X86_GS], &s->gs);
	seg_to_kvm(&cpu->seg[X86_SS], &s->ss);
	seg_to_kvm(&cpu->tr, &s->tr);
	seg_to_kvm(&cpu->ldtr, &s->ldt);
	memset(&s->gdt, 0, sizeof(s->gdt));
	memset(&s->idt, 0, sizeof(s->idt));
	s->gdt.base = cpu->gdtr.base;
	s->gdt.limit = cpu->gdtr.limit;
	s->idt.base = cpu->idtr.base;
	s->idt.limit = cpu->idtr.limit;
	s->cr0 = cpu->cr0;
	s->cr2 = cpu->cr2;
	s->cr3 = cpu->cr3;
	s->cr4 = cpu->cr4;
	s->cr8 = cpu->cr8;
	s->efer = cpu->efer;
	s->apic_base = cpu->apic_base;
}

static void get_sregs(struct kvm_vcpu *vcpu, struct kvm_sregs *s)
{
	const struct x86_cpu *cpu = vcpu_cpu(vcpu);

	memset(s, 0, sizeof(*s));
	get_sregs_common(vcpu, (struct sregs_common *)s);
	/* An injected external interrupt is reported in the bitmap. */
	if (cpu->ev.irq_injected)
		s->interrupt_bitmap[cpu->ev.irq_nr / 64] |= 1ULL << (cpu->ev.irq_nr % 64);
}

static bool is_pae_paging_regs(uint64_t cr0, uint64_t cr4, uint64_t efer)
{
	return (cr0 & X86_CR0_PG) && (cr4 & X86_CR4_PAE) && !(efer & X86_EFER_LMA);
}

static void get_sregs2(struct kvm_vcpu *vcpu, struct kvm_sregs2 *s)
{
	const struct x86_cpu *cpu = vcpu_cpu(vcpu);
	int i;

	memset(s, 0, sizeof(*s));
	get_sregs_common(vcpu, (struct sregs_common *)s);
	if (is_pae_paging_regs(cpu->cr0, cpu->cr4, cpu->efer)) {
		for (i = 0; i < 4; i++)
			s->pdptrs[i] = cpu->pdptr[i];
		s->flags |= KVM_SREGS2_FLAGS_PDPTRS_VALID;
	}
}

/* CR4 bits and the CPUID feature each depends on (SDM Vol. 3, 2.5). */
static const struct {
	uint8_t bit;
	struct cpuid_bit feature;
} cr4_feature_bits[] = {
	{ 11, CPUID_BIT(7, 0, CPUID_ECX, 2) },		/* UMIP */
	{ 12, CPUID_BIT(7, 0, CPUID_ECX, 16) },		/* LA57 */
	{ 13, CPUID_BIT(1, 0, CPUID_ECX, 5) },		/* VMXE */
	{ 16, CPUID_BIT(7, 0, CPUID_EBX, 0) },		/* FSGSBASE */
	{ 17, CPUID_BIT(1, 0, CPUID_ECX, 17) },		/* PCIDE */
	{ 18, CPUID_BIT(1, 0, CPUID_ECX, 26) },		/* OSXSAVE */
	{ 20, CPUID_BIT(7, 0, CPUID_EBX, 7) },		/* SMEP */
	{ 21, CPUID_BIT(7, 0, CPUID_EBX, 20) },		/* SMAP */
	{ 22, CPUID_BIT(7, 0, CPUID_ECX, 3) },		/* PKE */
};
/* VME PVI TSD DE PSE PAE MCE PGE PCE OSFXSR OSXMMEXCPT: always allowed. */
#define CR4_ALWAYS_ALLOWED 0x7ffULL

/*
 * KVM's two masks: what the host (here: the engine) supports, and, once
 * KVM_SET_CPUID2 has run, what the guest's CPUID enumerates.
 */
static bool kvm_is_valid_cr4(struct kvm_vcpu *vcpu, uint64_t cr4)
{
	uint64_t allowed = CR4_ALWAYS_ALLOWED;
	size_t i;

	for (i = 0; i < sizeof(cr4_feature_bits) / sizeof(cr4_feature_bits[0]); i++) {
		struct cpuid_bit f = cr4_feature_bits[i].feature;

		if (!kvm_cpu_cap_has(f))
			continue;
		if (vcpu->arch.cpuid_nent && !guest_cpuid_has(vcpu, f))
			continue;
		allowed |= 1ULL << cr4_feature_bits[i].bit;
	}
	return !(cr4 & ~allowed);
}

static bool kvm_is_valid_cr0(uint64_t cr0)
{
	if (cr0 >> 32)
		return false;
	if ((cr0 & X86_CR0_NW) && !(cr0 & X86_CR0_CD))
		return false;
	if ((cr0 & X86_CR0_PG) && !(cr0 & X86_CR0_PE))
		return false;
	return true;
}

static bool kvm_is_valid_sregs(struct kvm_vcpu *vcpu, const struct sregs_common *s)
{
	int maxphyaddr = cpuid_maxphyaddr(vcpu);

	if ((s->efer & X86_EFER_LME) && (s->cr0 & X86_CR0_PG)) {
		/* Long mode: CR4.PAE and EFER.LMA set, CR3 within MAXPHYADDR. */
		if (!(s->cr4 & X86_CR4_PAE) || !(s->efer & X86_EFER_LMA))
			return false;
		if (maxphyaddr < 64 && (s->cr3 >> maxphyaddr))
			return false;
	} else if ((s->efer & X86_EFER_LMA) || s->cs.l) {
		return false;
	}
	return kvm_is_valid_cr4(vcpu, s->cr4) && kvm_is_valid_cr0(s->cr0);
}

/* Load the four PAE PDPTEs from the page-directory-pointer table at CR3. */
static void load_pdptrs(struct kvm_vcpu *vcpu)
{
	struct x86_cpu *cpu = vcpu_cpu(vcpu);
	uint64_t pdpte[4];

	if (kvm_read_guest(vcpu->kvm, 0, cpu->cr3 & 0xffffffe0ULL, pdpte,
			   sizeof(pdpte)))
		return;
	memcpy(cpu->pdptr, pdpte, sizeof(pdpte));
}

static int set_sregs_common(struct kvm_vcpu *vcpu, const struct sregs_common *s,
			    bool update_pdptrs)
{
	struct x86_cpu *cpu = vcpu_cpu(vcpu);

	if (!kvm_is_valid_sregs(vcpu, s))
		return -EINVAL;
	if (!kvm_valid_apic_base(vcpu, s->apic_base, true))
		return -EINVAL;
	cpu->apic_base = s->apic_base;
	cpu->idtr.base = s->idt.base;
	cpu->idtr.limit = s->idt.limit;
	cpu->gdtr.base = s->gdt.base;
	cpu->gdtr.limit = s->gdt.limit;
	cpu->cr2 = s->cr2;
	cpu->cr3 = s->cr3;
	cpu->cr8 = s->cr8 & 0xf;
	cpu->efer = s->efer;
	cpu->cr0 = s->cr0;
	cpu->cr4 = s->cr4;
	if (update_pdptrs && is_pae_paging_regs(cpu->cr0, cpu->cr4, cpu->efer))
		load_pdptrs(vcpu);
	seg_from_kvm(&cpu->seg[X86_CS], &s->cs);
	seg_from_kvm(&cpu->seg[X86_DS], &s->ds);
	seg_from_kvm(&cpu->seg[X86_ES], &s->es);
	seg_from_kvm(&cpu->seg[X86_FS], &s->fs);
	seg_from_kvm(&cpu->seg[X86_GS], &s->gs);
	seg_from_kvm(&cpu->seg[X86_SS], &s->ss);
	seg_from_kvm(&cpu->tr, &s->tr);
	seg_from_kvm(&cpu->ldtr, &s->ldt);
	return 0;
}

static int set_sregs(struct kvm_vcpu *vcpu, const struct kvm_sregs *s)
{
	struct x86_cpu *cpu = vcpu_cpu(vcpu);
	int r, i;

	r = set_sregs_common(vcpu, (const struct sregs_common *)s, true);
	if (r)
		return r;
	/* The lowest set bit, if any, becomes the injected interrupt. */
	for (i = 0; i < KVM_NR_INTERRUPTS; i++) {
		if (s->interrupt_bitmap[i / 64] & (1ULL << (i % 64))) {
			cpu->ev.irq_injected = true;
			cpu->ev.irq_nr = i;
			break;
		}
	}
	kvm_x86_state_changed(vcpu);
	return 0;
}

/* api.rst 4.132: only PDPTRS_VALID, and only with PAE paging. */
static int set_sregs2(struct kvm_vcpu *vcpu, const struct kvm_sregs2 *s)
{
	struct x86_cpu *cpu = vcpu_cpu(vcpu);
	bool valid_pdptrs = s->flags & KVM_SREGS2_FLAGS_PDPTRS_VALID;
	int r, i;

	if (s->flags & ~(uint64_t)KVM_SREGS2_FLAGS_PDPTRS_VALID)
		return -EINVAL;
	if (valid_pdptrs && !is_pae_paging_regs(s->cr0, s->cr4, s->efer))
		return -EINVAL;
	r = set_sregs_common(vcpu, (const struct sregs_common *)s, !valid_pdptrs);
	if (r)
		return r;
	if (valid_pdptrs)
		for (i = 0; i < 4; i++)
			cpu->pdptr[i] = s->pdptrs[i];
	kvm_x86_state_changed(vcpu);
	return 0;
}

/* --- FPU, XSAVE, XCRs -------------------------------------------------- */

static void get_fpu(struct kvm_vcpu *vcpu, struct kvm_fpu *f)
{
	const struct x86_fxsave *fx = &vcpu_cpu(vcpu)->fx;

	memset(f, 0, sizeof(*f));
	memcpy(f->fpr, fx->st, sizeof(f->fpr));
	f->fcw = fx->fcw;
	f->fsw = fx->fsw;
	f->ftwx = fx->ftw;
	f->last_opcode = fx->fop;
	f->last_ip = fx->fip;
	f->last_dp = fx->fdp;
	memcpy(f->xmm, fx->xmm, sizeof(f->xmm));
	f->mxcsr = fx->mxcsr;
}

static void set_fpu(struct kvm_vcpu *vcpu, const struct kvm_fpu *f)
{
	struct x86_fxsave *fx = &vcpu_cpu(vcpu)->fx;

	memcpy(fx->st, f->fpr, sizeof(f->fpr));
	fx->fcw = f->fcw;
	fx->fsw = f->fsw;
	fx->ftw = f->ftwx;
	fx->fop = f->last_opcode;
	fx->fip = f->last_ip;
	fx->fdp = f->last_dp;
	memcpy(fx->xmm, f->xmm, sizeof(f->xmm));
	fx->mxcsr = f->mxcsr;
	kvm_x86_state_changed(vcpu);
}

/*
 * KVM_GET_XSAVE: the FXSAVE image in the legacy area and XSTATE_BV in the
 * header (SDM Vol. 1, 13.4).  The engine keeps x87 and SSE state only.
 */
static void get_xsave(struct kvm_vcpu *vcpu, struct kvm_xsave *x)
{
	uint64_t xstate_bv = XFEATURE_MASK_FP | XFEATURE_MASK_SSE;

	memset(x, 0, sizeof(*x));
	memcpy(x->region, &vcpu_cpu(vcpu)->fx, sizeof(struct x86_fxsave));
	memcpy((uint8_t *)x->region + XSAVE_HDR_OFFSET, &xstate_bv, sizeof(xstate_bv));
}

static int set_xsave(struct kvm_vcpu *vcpu, const struct kvm_xsave *x)
{
	struct x86_fxsave *fx = &vcpu_cpu(vcpu)->fx, img;
	uint64_t xstate_bv;

	memcpy(&img, x->region, sizeof(img));
	memcpy(&xstate_bv, (const uint8_t *)x->region + XSAVE_HDR_OFFSET,
	       sizeof(xstate_bv));
	if (xstate_bv & ~kvm_supported_xcr0())
		return -EINVAL;
	if (img.mxcsr & ~0xffffu)
		return -EINVAL;
	if (!(xstate_bv & XFEATURE_MASK_FP)) {
		/* x87 component in its initial state (SDM Vol. 1, 13.6). */
		img.fcw = 0x37f;
		img.fsw = 0;
		img.ftw = 0;
		img.fop = 0;
		img.fip = 0;
		img.fdp = 0;
		memset(img.st, 0, sizeof(img.st));
	}
	if (!(xstate_bv & XFEATURE_MASK_SSE))
		memset(img.xmm, 0, sizeof(img.xmm));
	img.mxcsr_mask = fx->mxcsr_mask;
	*fx = img;
	kvm_x86_state_changed(vcpu);
	return 0;
}

static void get_xcrs(struct kvm_vcpu *vcpu, struct kvm_xcrs *x)
{
	memset(x, 0, sizeof(*x));
	if (!kvm_cpu_cap_has(X86_FEATURE_XSAVE))
		return;
	x->nr_xcrs = 1;
	x->xcrs[0].xcr = 0;
	x->xcrs[0].value = vcpu_cpu(vcpu)->xcr0;
}

/*
 * XSETBV's rules (SDM Vol. 1, 13.3): x87 always on, AVX needs SSE, and
 * only components the guest's CPUID 0xd.0 enumerates (FP without CPUID).
 */
static int set_xcr0(struct kvm_vcpu *vcpu, uint64_t xcr0)
{
	uint64_t valid = XFEATURE_MASK_FP;
	uint32_t out[4];

	if (vcpu->arch.cpuid_nent) {
		kvm_cpuid(vcpu, 0xd, 0, out);
		valid |= (out[CPUID_EAX] | ((uint64_t)out[CPUID_EDX] << 32)) &
			 kvm_supported_xcr0();
	}
	if (!(xcr0 & XFEATURE_MASK_FP) || (xcr0 & ~valid))
		return -EINVAL;
	if ((xcr0 & XFEATURE_MASK_YMM) && !(xcr0 & XFEATURE_MASK_SSE))
		return -EINVAL;
	vcpu_cpu(vcpu)->xcr0 = xcr0;
	kvm_x86_state_changed(vcpu);
	return 0;
}

static int set_xcrs(struct kvm_vcpu *vcpu, const struct kvm_xcrs *x)
{
	uint32_t i;

	if (!kvm_cpu_cap_has(X86_FEATURE_XSAVE))
		return -EINVAL;
	if (x->nr_xcrs > KVM_MAX_XCRS || x->flags)
		return -EINVAL;
	for (i = 0; i < x->nr_xcrs; i++)
		if (x->xcrs[i].xcr == 0)
			return set_xcr0(vcpu, x->xcrs[i].value);
	return 0;
}

/* --- Debug registers, events, MP state --------------------------------- */

static void get_debugregs(struct kvm_vcpu *vcpu, struct kvm_debugregs *d)
{
	const struct x86_cpu *cpu = vcpu_cpu(vcpu);

	memset(d, 0, sizeof(*d));
	memcpy(d->db, cpu->dr, sizeof(d->db));
	d->dr6 = cpu->dr[6];
	d->dr7 = cpu->dr[7];
}

static int set_debugregs(struct kvm_vcpu *vcpu, const struct kvm_debugregs *d)
{
	struct x86_cpu *cpu = vcpu_cpu(vcpu);

	if (d->flags)
		return -EINVAL;
	if ((d->dr6 >> 32) || (d->dr7 >> 32))
		return -EINVAL;
	memcpy(cpu->dr, d->db, sizeof(d->db));
	cpu->dr[6] = d->dr6;
	cpu->dr[7] = d->dr7;
	kvm_x86_state_changed(vcpu);
	return 0;
}

static bool exception_is_soft(uint8_t nr)
{
	return nr == BP_VECTOR || nr == OF_VECTOR;
}

/* Move the LAPIC's event bit into the engine's pending flag. */
static void take_lapic_event(struct kvm_vcpu *vcpu, unsigned int bit, bool *pending)
{
	if (!lapic_in_kernel(vcpu) ||
	    !(atomic_fetch_and(&vcpu->arch.apic->events, ~bit) & bit))
		return;
	*pending = true;
	kvm_x86_state_changed(vcpu);
}

/*
 * KVM_GET_VCPU_EVENTS without KVM_CAP_EXCEPTION_PAYLOAD: a pending
 * exception is also reported as injected; #BP/#OF are not reported.
 */
static void get_vcpu_events(struct kvm_vcpu *vcpu, struct kvm_vcpu_events *e)
{
	struct x86_events *ev = &vcpu_cpu(vcpu)->ev;

	/*
	 * An NMI or SMI the LAPIC accepted is pending already (KVM:
	 * process_nmi, KVM_REQ_SMI), so a save before the next run keeps it.
	 */
	take_lapic_event(vcpu, KVM_APIC_EV_NMI, &ev->nmi_pending);
	take_lapic_event(vcpu, KVM_APIC_EV_SMI, &ev->smi_pending);
	memset(e, 0, sizeof(*e));
	if (!exception_is_soft(ev->exc_nr)) {
		e->exception.pending = ev->exc_pending;
		e->exception.injected = ev->exc_injected || ev->exc_pending;
	}
	e->exception.nr = ev->exc_nr;
	e->exception.has_error_code = ev->exc_has_error;
	e->exception.error_code = ev->exc_error;
	e->interrupt.injected = ev->irq_injected;
	e->interrupt.nr = ev->irq_nr;
	e->interrupt.shadow = ((ev->int_shadow & X86_SHADOW_STI) ? KVM_X86_SHADOW_INT_STI : 0) |
			      ((ev->int_shadow & X86_SHADOW_MOV_SS) ? KVM_X86_SHADOW_INT_MOV_SS : 0);
	e->nmi.injected = ev->nmi_injected;
	e->nmi.pending = ev->nmi_pending;
	e->nmi.masked = ev->nmi_masked;
	e->smi.smm = ev->smm;
	e->smi.pending = ev->smi_pending;
	e->smi.smm_inside_nmi = ev->smm_inside_nmi;
	e->smi.latched_init = lapic_in_kernel(vcpu) &&
		(kvm_lapic_peek_events(vcpu->arch.apic) & KVM_APIC_EV_INIT);
	e->flags = KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SHADOW |
		   KVM_VCPUEVENT_VALID_SMM;
}

/*
 * KVM_VCPUEVENT_VALID_SMM: entering or leaving SMM here only switches
 * the flag (and with it the address space), as kvm_smm_changed does; a
 * latched INIT is the LAPIC's pending INIT.
 */
static void set_smm_events(struct kvm_vcpu *vcpu, const struct kvm_vcpu_events *e)
{
	struct x86_events *ev = &vcpu_cpu(vcpu)->ev;
	struct kvm_lapic *apic = vcpu->arch.apic;

	ev->smm = e->smi.smm;
	ev->smi_pending = e->smi.pending;
	ev->smm_inside_nmi = e->smi.smm && e->smi.smm_inside_nmi;
	if (!lapic_in_kernel(vcpu))
		return;
	if (e->smi.latched_init)
		atomic_fetch_or(&apic->events, KVM_APIC_EV_INIT);
	else
		atomic_fetch_and(&apic->events, ~KVM_APIC_EV_INIT);
}

/*
 * Exception payloads and triple-fault events need capabilities skvm does
 * not offer: those requests are -EINVAL.
 */
static int set_vcpu_events(struct kvm_vcpu *vcpu, const struct kvm_vcpu_events *e)
{
	struct x86_events *ev = &vcpu_cpu(vcpu)->ev;
	const uint32_t known = KVM_VCPUEVENT_VALID_NMI_PENDING |
		KVM_VCPUEVENT_VALID_SIPI_VECTOR | KVM_VCPUEVENT_VALID_SHADOW |
		KVM_VCPUEVENT_VALID_SMM | KVM_VCPUEVENT_VALID_PAYLOAD |
		KVM_VCPUEVENT_VALID_TRIPLE_FAULT;

	if (e->flags & ~known)
		return -EINVAL;
	if (e->flags & (KVM_VCPUEVENT_VALID_PAYLOAD | KVM_VCPUEVENT_VALID_TRIPLE_FAULT))
		return -EINVAL;
	/* Without payloads, a "pending" exception is taken as injected. */
	if (e->exception.injected &&
	    (e->exception.nr > 31 || e->exception.nr == NMI_VECTOR))
		return -EINVAL;
	/* INITs are latched in SMM: no SMM while an INIT is being processed. */
	if ((e->flags & KVM_VCPUEVENT_VALID_SMM) && (e->smi.smm || e->smi.pending) &&
	    vcpu->arch.mp_state == KVM_MP_STATE_INIT_RECEIVED)
		return -EINVAL;

	/*
	 * An NMI the LAPIC accepted is folded in first, as KVM's process_nmi:
	 * a valid nmi.pending then says whether it stays.
	 */
	take_lapic_event(vcpu, KVM_APIC_EV_NMI, &ev->nmi_pending);
	ev->exc_pending = false;
	ev->exc_injected = e->exception.injected;
	ev->exc_nr = e->exception.nr;
	ev->exc_has_error = e->exception.has_error_code;
	ev->exc_error = e->exception.error_code;
	ev->irq_injected = e->interrupt.injected;
	ev->irq_nr = e->interrupt.nr;
	if (e->flags & KVM_VCPUEVENT_VALID_SHADOW)
		ev->int_shadow =
			((e->interrupt.shadow & KVM_X86_SHADOW_INT_STI) ? X86_SHADOW_STI : 0) |
			((e->interrupt.shadow & KVM_X86_SHADOW_INT_MOV_SS) ? X86_SHADOW_MOV_SS : 0);
	ev->nmi_injected = e->nmi.injected;
	if (e->flags & KVM_VCPUEVENT_VALID_NMI_PENDING)
		ev->nmi_pending = e->nmi.pending;
	ev->nmi_masked = e->nmi.masked;
	if (e->flags & KVM_VCPUEVENT_VALID_SMM)
		set_smm_events(vcpu, e);
	kvm_x86_state_changed(vcpu);
	return 0;
}

/*
 * Without an in-kernel local APIC KVM keeps every vCPU RUNNABLE (HLT exits
 * to user space) and accepts only RUNNABLE; the other states need the APIC.
 */
static int set_mp_state(struct kvm_vcpu *vcpu, const struct kvm_mp_state *mp)
{
	const struct x86_events *ev = &vcpu_cpu(vcpu)->ev;

	/* INIT and SIPI are blocked in SMM; an SMI takes priority over them. */
	if ((ev->smm || ev->smi_pending) &&
	    (mp->mp_state == KVM_MP_STATE_INIT_RECEIVED ||
	     mp->mp_state == KVM_MP_STATE_SIPI_RECEIVED))
		return -EINVAL;
	switch (mp->mp_state) {
	case KVM_MP_STATE_RUNNABLE:
		break;
	case KVM_MP_STATE_UNINITIALIZED:
	case KVM_MP_STATE_HALTED:
	case KVM_MP_STATE_AP_RESET_HOLD:
	case KVM_MP_STATE_INIT_RECEIVED:
	case KVM_MP_STATE_SIPI_RECEIVED:
		if (!lapic_in_kernel(vcpu))
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	vcpu->arch.mp_state = mp->mp_state;
	if (lapic_in_kernel(vcpu))
		vcpu_cpu(vcpu)->halted = mp->mp_state == KVM_MP_STATE_HALTED;
	return 0;
}

/*
 * KVM_INTERRUPT without an in-kernel irqchip: queue as injected; with a
 * split irqchip it is the user-space PIC's ExtINT (platform.c).
 */
static int vcpu_interrupt(struct kvm_vcpu *vcpu, const struct kvm_interrupt *irq)
{
	struct x86_cpu *cpu = vcpu_cpu(vcpu);

	if (irq->irq >= KVM_NR_INTERRUPTS)
		return -EINVAL;
	if (lapic_in_kernel(vcpu))
		return kvm_platform_interrupt(vcpu, irq->irq);
	cpu->ev.irq_injected = true;
	cpu->ev.irq_nr = irq->irq;
	kvm_vcpu_stat(vcpu)->irq_injections++;
	kvm_x86_state_changed(vcpu);
	return 0;
}

/* KVM_SMI: the SMI is pending at once (KVM_GET_VCPU_EVENTS shows it). */
static int vcpu_smi(struct kvm_vcpu *vcpu)
{
	vcpu_cpu(vcpu)->ev.smi_pending = true;
	return 0;
}

static int vcpu_nmi(struct kvm_vcpu *vcpu)
{
	vcpu_cpu(vcpu)->ev.nmi_pending = true;
	kvm_vcpu_stat(vcpu)->nmi_injections++;
	kvm_x86_state_changed(vcpu);
	return 0;
}

/* KVM reports every translation writeable and supervisor. */
static void vcpu_translate(struct kvm_vcpu *vcpu, struct kvm_translation *tr)
{
	uint64_t gpa;
	bool w, u;
	int r;

	rcu_read_lock();
	r = x86_cpu_translate(vcpu_cpu(vcpu), tr->linear_address, &gpa, &w, &u);
	rcu_read_unlock();
	tr->physical_address = r ? ~0ULL : gpa;
	tr->valid = !r;
	tr->writeable = 1;
	tr->usermode = 0;
}

/* --- vCPU ioctl dispatch ----------------------------------------------- */

/*
 * The get/set pairs share one shape: copy in (set), act, copy out (get).
 * Buffers live on the heap because struct kvm_xsave is 4 KiB.
 */
/*
 * KVM_SET_GUEST_DEBUG (api.rst 4.87).  The engine applies the controls
 * (cpu.h, struct x86_guest_debug, same bit values) at the next instruction
 * boundary: single step, INT3 and the host's DR0-3/DR7 end the run with
 * KVM_EXIT_DEBUG.  INJECT_DB/INJECT_BP queue the exception, -EBUSY when
 * one is already queued; BLOCKIRQ holds interrupts and NMIs back (here,
 * in x86_op_pending_irq and vcpu_run).  Without ENABLE every control is
 * dropped.  As with KVM on x86, unknown control bits are not an error
 * (KVM_CAP_SET_GUEST_DEBUG2 tells which bits mean something).
 */
static int set_guest_debug(struct kvm_vcpu *vcpu, struct kvm_guest_debug *dbg)
{
	struct x86_cpu *cpu = vcpu_cpu(vcpu);
	uint32_t control = dbg->control;
	int i;

	if (control & (KVM_GUESTDBG_INJECT_DB | KVM_GUESTDBG_INJECT_BP)) {
		if (exception_queued(cpu))
			return -EBUSY;
		cpu->ev.exc_pending = true;
		cpu->ev.exc_nr = control & KVM_GUESTDBG_INJECT_DB ? DB_VECTOR :
								    BP_VECTOR;
		cpu->ev.exc_has_error = false;
		cpu->ev.exc_error = 0;
	}
	if (!(control & KVM_GUESTDBG_ENABLE))
		control = 0;
	cpu->guest_debug.flags = control;
	memset(cpu->guest_debug.dr, 0, sizeof(cpu->guest_debug.dr));
	cpu->guest_debug.dr7 = 0;
	if (control & KVM_GUESTDBG_USE_HW_BP) {
		for (i = 0; i < 4; i++)
			cpu->guest_debug.dr[i] = dbg->arch.debugreg[i];
		cpu->guest_debug.dr7 = dbg->arch.debugreg[7];
	}
	return 0;
}

union vcpu_ioctl_buf {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_sregs2 sregs2;
	struct kvm_fpu fpu;
	struct kvm_xsave xsave;
	struct kvm_xcrs xcrs;
	struct kvm_debugregs dbg;
	struct kvm_vcpu_events events;
	struct kvm_mp_state mp;
	struct kvm_interrupt irq;
	struct kvm_translation tr;
	struct kvm_enable_cap cap;
	struct kvm_guest_debug dbgctl;
	struct kvm_device_attr attr;
};

static size_t vcpu_ioctl_in_size(unsigned int ioctl)
{
	switch (ioctl) {
	case KVM_SET_REGS:		return sizeof(struct kvm_regs);
	case KVM_SET_SREGS:		return sizeof(struct kvm_sregs);
	case KVM_SET_SREGS2:		return sizeof(struct kvm_sregs2);
	case KVM_SET_FPU:		return sizeof(struct kvm_fpu);
	case KVM_SET_XSAVE:		return sizeof(struct kvm_xsave);
	case KVM_SET_XCRS:		return sizeof(struct kvm_xcrs);
	case KVM_SET_DEBUGREGS:		return sizeof(struct kvm_debugregs);
	case KVM_SET_VCPU_EVENTS:	return sizeof(struct kvm_vcpu_events);
	case KVM_SET_MP_STATE:		return sizeof(struct kvm_mp_state);
	case KVM_INTERRUPT:		return sizeof(struct kvm_interrupt);
	case KVM_TRANSLATE:		return sizeof(struct kvm_translation);
	case KVM_ENABLE_CAP:		return sizeof(struct kvm_enable_cap);
	case KVM_SET_GUEST_DEBUG:	return sizeof(struct kvm_guest_debug);
	case KVM_HAS_DEVICE_ATTR:
	case KVM_GET_DEVICE_ATTR:
	case KVM_SET_DEVICE_ATTR:	return sizeof(struct kvm_device_attr);
	default:			return 0;
	}
}

/* The state getters: fill u and return its size, 0 if ioctl is not one. */
static size_t vcpu_ioctl_get(struct kvm_vcpu *vcpu, unsigned int ioctl,
			     union vcpu_ioctl_buf *u)
{
	switch (ioctl) {
	case KVM_GET_REGS:
		get_regs(vcpu, &u->regs);
		return sizeof(u->regs);
	case KVM_GET_SREGS:
		get_sregs(vcpu, &u->sregs);
		return sizeof(u->sregs);
	case KVM_GET_SREGS2:
		get_sregs2(vcpu, &u->sregs2);
		return sizeof(u->sregs2);
	case KVM_GET_FPU:
		get_fpu(vcpu, &u->fpu);
		return sizeof(u->fpu);
	case KVM_GET_XSAVE:
	case KVM_GET_XSAVE2:
		get_xsave(vcpu, &u->xsave);
		return sizeof(u->xsave);
	case KVM_GET_XCRS:
		get_xcrs(vcpu, &u->xcrs);
		return sizeof(u->xcrs);
	case KVM_GET_DEBUGREGS:
		get_debugregs(vcpu, &u->dbg);
		return sizeof(u->dbg);
	case KVM_GET_VCPU_EVENTS:
		get_vcpu_events(vcpu, &u->events);
		return sizeof(u->events);
	case KVM_GET_MP_STATE:
		/* An INIT or SIPI sent while the vCPU was out of KVM_RUN counts. */
		if (lapic_in_kernel(vcpu))
			kvm_platform_vcpu_events(vcpu);
		memset(&u->mp, 0, sizeof(u->mp));
		u->mp.mp_state = vcpu->arch.mp_state;
		return sizeof(u->mp);
	default:
		return 0;
	}
}

static long vcpu_ioctl_set(struct kvm_vcpu *vcpu, unsigned int ioctl,
			   union vcpu_ioctl_buf *u, void *argp)
{
	switch (ioctl) {
	case KVM_SET_REGS:
		set_regs(vcpu, &u->regs);
		return 0;
	case KVM_SET_SREGS:
		return set_sregs(vcpu, &u->sregs);
	case KVM_SET_SREGS2:
		return set_sregs2(vcpu, &u->sregs2);
	case KVM_SET_FPU:
		set_fpu(vcpu, &u->fpu);
		return 0;
	case KVM_SET_XSAVE:
		return set_xsave(vcpu, &u->xsave);
	case KVM_SET_XCRS:
		return set_xcrs(vcpu, &u->xcrs);
	case KVM_SET_DEBUGREGS:
		return set_debugregs(vcpu, &u->dbg);
	case KVM_SET_VCPU_EVENTS:
		return set_vcpu_events(vcpu, &u->events);
	case KVM_SET_MP_STATE:
		return set_mp_state(vcpu, &u->mp);
	case KVM_INTERRUPT:
		return vcpu_interrupt(vcpu, &u->irq);
	case KVM_ENABLE_CAP:
		return kvm_arch_vcpu_enable_cap(vcpu, &u->cap);
	case KVM_SET_GUEST_DEBUG:
		return set_guest_debug(vcpu, &u->dbgctl);
	case KVM_HAS_DEVICE_ATTR:
	case KVM_GET_DEVICE_ATTR:
	case KVM_SET_DEVICE_ATTR:
		return kvm_vcpu_tsc_attr(vcpu, ioctl, &u->attr);
	case KVM_TRANSLATE:
		vcpu_translate(vcpu, &u->tr);
		return copy_to_user(argp, &u->tr, sizeof(u->tr)) ? -EFAULT : 0;
	default:
		return -EINVAL;
	}
}

/* ioctls that take a value or a variable-length array, not a struct. */
static long vcpu_ioctl_other(struct kvm_vcpu *vcpu, unsigned int ioctl, void *argp)
{
	switch (ioctl) {
	case KVM_NMI:
		return vcpu_nmi(vcpu);
	case KVM_SMI:
		return vcpu_smi(vcpu);
	case KVM_SET_CPUID:
		return kvm_vcpu_ioctl_set_cpuid(vcpu, argp);
	case KVM_SET_CPUID2:
		return kvm_vcpu_ioctl_set_cpuid2(vcpu, argp);
	case KVM_GET_CPUID2:
		return kvm_vcpu_ioctl_get_cpuid2(vcpu, argp);
	case KVM_GET_MSRS:
		return kvm_vcpu_ioctl_msrs(vcpu, argp, false);
	case KVM_SET_MSRS:
		return kvm_vcpu_ioctl_msrs(vcpu, argp, true);
	case KVM_GET_TSC_KHZ:
		return vcpu->arch.tsc_khz;
	case KVM_SET_TSC_KHZ:
		return kvm_set_tsc_khz(vcpu, (uint32_t)(unsigned long)argp);
	case KVM_KVMCLOCK_CTRL:
		return kvm_set_guest_paused(vcpu);
	default:
		return -EINVAL;	/* KVM's answer for unknown vCPU ioctls */
	}
}

long kvm_arch_vcpu_ioctl(struct kvm_vcpu *vcpu, unsigned int ioctl, void *argp)
{
	union vcpu_ioctl_buf *u;
	size_t n;
	long r;

	r = kvm_platform_vcpu_ioctl(vcpu, ioctl, argp);
	if (r != -ENOTTY)
		return r;
	r = kvm_mce_vcpu_ioctl(vcpu, ioctl, argp);
	if (r != -ENOTTY)
		return r;
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	n = vcpu_ioctl_get(vcpu, ioctl, u);
	if (n) {
		r = copy_to_user(argp, u, n) ? -EFAULT : 0;
		goto out;
	}
	n = vcpu_ioctl_in_size(ioctl);
	if (n) {
		r = -EFAULT;
		if (copy_from_user(u, argp, n))
			goto out;
		r = vcpu_ioctl_set(vcpu, ioctl, u, argp);
		goto out;
	}
	r = vcpu_ioctl_other(vcpu, ioctl, argp);
out:
	free(u);
	return r;
}

/* --- KVM_RUN ----------------------------------------------------------- */

static void store_regs(struct kvm_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;

	if (run->kvm_valid_regs & KVM_SYNC_X86_REGS)
		get_regs(vcpu, &run->s.regs.regs);
	if (run->kvm_valid_regs & KVM_SYNC_X86_SREGS)
		get_sregs(vcpu, &run->s.regs.sregs);
	if (run->kvm_valid_regs & KVM_SYNC_X86_EVENTS)
		get_vcpu_events(vcpu, &run->s.regs.events);
}

/* api.rst 5 "kvm_valid_regs / kvm_dirty_regs": each applied bit is cleared. */
static int sync_regs(struct kvm_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;

	if (run->kvm_dirty_regs & KVM_SYNC_X86_REGS) {
		set_regs(vcpu, &run->s.regs.regs);
		run->kvm_dirty_regs &= ~KVM_SYNC_X86_REGS;
	}
	if (run->kvm_dirty_regs & KVM_SYNC_X86_SREGS) {
		if (set_sregs(vcpu, &run->s.regs.sregs))
			return -EINVAL;
		run->kvm_dirty_regs &= ~KVM_SYNC_X86_SREGS;
	}
	if (run->kvm_dirty_regs & KVM_SYNC_X86_EVENTS) {
		if (set_vcpu_events(vcpu, &run->s.regs.events))
			return -EINVAL;
		run->kvm_dirty_regs &= ~KVM_SYNC_X86_EVENTS;
	}
	return 0;
}

static void post_run_save(struct kvm_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	const struct x86_cpu *cpu = vcpu_cpu(vcpu);

	run->if_flag = !!(cpu->rflags & X86_RFLAGS_IF);
	run->cr8 = cpu->cr8;
	run->apic_base = cpu->apic_base;
	run->ready_for_interrupt_injection = kvm_pic_in_kernel(vcpu->kvm) ||
					     ready_for_interrupt_injection(vcpu);
	if (cpu->ev.smm)
		run->flags |= KVM_RUN_X86_SMM;
}


/*
 * KVM_INTERNAL_ERROR_EMULATION as KVM fills it: data[0] holds flags,
 * then (with the instruction bytes flag) insn_size and 15 bytes padded
 * with NOPs, then five words of exit information (zero here).
 */
static void exit_internal_error(struct kvm_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	const struct x86_exit *ex = &vcpu_cpu(vcpu)->exit;
	int info_start = 1;

	run->exit_reason = KVM_EXIT_INTERNAL_ERROR;
	memset(&run->internal, 0, sizeof(run->internal));
	run->internal.suberror = ex->internal.suberror;
	if (ex->internal.suberror != KVM_INTERNAL_ERROR_EMULATION)
		return;
	if (ex->internal.insn_len) {
		uint8_t len = ex->internal.insn_len > 15 ? 15 : ex->internal.insn_len;

		run->emulation_failure.flags =
			KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES;
		run->emulation_failure.insn_size = len;
		memset(run->emulation_failure.insn_bytes, 0x90,
		       sizeof(run->emulation_failure.insn_bytes));
		memcpy(run->emulation_failure.insn_bytes, ex->internal.insn, len);
		info_start += 2;
	}
	run->emulation_failure.ndata = info_start + 5;
}

/* Fill kvm_run for an exit to user space. */
static void translate_exit(struct kvm_vcpu *vcpu, enum x86_exit_reason reason)
{
	struct kvm_run *run = vcpu->run;
	const struct x86_exit *ex = &vcpu_cpu(vcpu)->exit;

	switch (reason) {
	case X86_EXIT_IO:
		run->exit_reason = KVM_EXIT_IO;
		kvm_vcpu_stat(vcpu)->io_exits++;
		run->io.direction = ex->io.in ? KVM_EXIT_IO_IN : KVM_EXIT_IO_OUT;
		run->io.size = ex->io.size;
		run->io.port = ex->io.port;
		run->io.count = ex->io.count;
		run->io.data_offset = KVM_PIO_PAGE_OFFSET * PAGE_SIZE;
		vcpu->arch.pio_pending = true;
		break;
	case X86_EXIT_MMIO:
		/* private memory without a guest_memfd behind it */
		if (kvm_vcpu_take_memory_fault(vcpu))
			break;
		run->exit_reason = KVM_EXIT_MMIO;
		kvm_vcpu_stat(vcpu)->mmio_exits++;
		run->mmio.phys_addr = ex->mmio.gpa;
		memset(run->mmio.data, 0, sizeof(run->mmio.data));
		if (ex->mmio.write)
			memcpy(run->mmio.data, ex->mmio.data, ex->mmio.len);
		run->mmio.len = ex->mmio.len;
		run->mmio.is_write = ex->mmio.write;
		vcpu->arch.mmio_pending = true;
		break;
	case X86_EXIT_HLT:
		run->exit_reason = KVM_EXIT_HLT;
		break;
	case X86_EXIT_SHUTDOWN:
		run->exit_reason = KVM_EXIT_SHUTDOWN;
		break;
	case X86_EXIT_MSR:
		run->exit_reason = ex->msr.write ? KVM_EXIT_X86_WRMSR :
						   KVM_EXIT_X86_RDMSR;
		memset(&run->msr, 0, sizeof(run->msr));
		run->msr.reason = vcpu->arch.msr_exit_reason;
		run->msr.index = ex->msr.index;
		run->msr.data = ex->msr.data;
		vcpu->arch.msr_pending = true;
		break;
	case X86_EXIT_FAULT:
		/*
		 * The memslot's host memory cannot be accessed: KVM_RUN fails
		 * with -EFAULT and, as KVM_CAP_MEMORY_FAULT_INFO promises,
		 * kvm_run says which page (flags 0: a shared access).
		 */
		run->exit_reason = KVM_EXIT_MEMORY_FAULT;
		kvm_run_memory_fault(run)->flags = 0;
		kvm_run_memory_fault(run)->gpa = ex->fault.gpa;
		kvm_run_memory_fault(run)->size = PAGE_SIZE;
		break;
	case X86_EXIT_DEBUG:
		run->exit_reason = KVM_EXIT_DEBUG;
		memset(&run->debug, 0, sizeof(run->debug));
		run->debug.arch.exception = ex->debug.exception;
		run->debug.arch.pc = ex->debug.pc;
		run->debug.arch.dr6 = ex->debug.dr6;
		run->debug.arch.dr7 = ex->debug.dr7;
		break;
	default:
		exit_internal_error(vcpu);
		if (run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION)
			kvm_vcpu_stat(vcpu)->insn_emulation_fail++;
		break;
	}
}

/*
 * Offer a PIO or MMIO exit to the in-process devices (the LAPIC, then the
 * buses: PIC, IOAPIC, PIT, ioeventfds, coalesced zones) before user space.
 */
static bool serve_in_process(struct kvm_vcpu *vcpu)
{
	struct x86_cpu *cpu = vcpu_cpu(vcpu);
	struct x86_exit *ex = &cpu->exit;
	bool served;

	if (ex->reason == X86_EXIT_IO) {
		served = kvm_platform_pio(vcpu, ex->io.port, ex->io.size, ex->io.in,
					  ex->io.count, vcpu->arch.ops.pio_buf);
		if (served) {
			rcu_read_lock();
			x86_cpu_complete_io(cpu);
			rcu_read_unlock();
		}
		return served;
	}
	served = kvm_platform_mmio(vcpu, ex->mmio.gpa, ex->mmio.len,
				   ex->mmio.write, ex->mmio.data);
	if (served) {
		rcu_read_lock();
		x86_cpu_complete_mmio(cpu, ex->mmio.data);
		rcu_read_unlock();
	}
	return served;
}

/*
 * The data of an IN or an MMIO read is in kvm_run now: finish the access
 * and retire the instruction, as KVM's complete_userspace_io does before
 * it looks at immediate_exit, so that the registers user space reads
 * after an immediate exit (a save for migration) are past it.  Only that
 * instruction runs (ops->kicked stops the engine at the next boundary,
 * before any event is taken).  It may need another exit (the next MMIO
 * fragment, a single step): then that exit goes to user space, 0.
 * Otherwise 1.
 */
static int complete_userspace_io(struct kvm_vcpu *vcpu)
{
	struct x86_cpu *cpu = vcpu_cpu(vcpu);
	enum x86_exit_reason reason;

	if (!vcpu->arch.pio_pending && !vcpu->arch.mmio_pending &&
	    !vcpu->arch.msr_pending)
		return 1;
	vcpu->arch.ops.pio_buf = vcpu_pio_page(vcpu);
	rcu_read_lock();
	if (vcpu->arch.pio_pending)
		x86_cpu_complete_io(cpu);
	if (vcpu->arch.mmio_pending)
		x86_cpu_complete_mmio(cpu, vcpu->run->mmio.data);
	/* KVM_EXIT_X86_RDMSR/WRMSR: msr.error means #GP, else data is read */
	if (vcpu->arch.msr_pending)
		x86_cpu_complete_msr(cpu, vcpu->run->msr.error != 0,
				     vcpu->run->msr.data);
	rcu_read_unlock();
	vcpu->arch.pio_pending = false;
	vcpu->arch.mmio_pending = false;
	vcpu->arch.msr_pending = false;
	for (;;) {
		rcu_read_lock();
		vcpu->arch.completing_io = true;
		reason = x86_cpu_run(cpu);
		vcpu->arch.completing_io = false;
		rcu_read_unlock();
		if (reason == X86_EXIT_KICK || reason == X86_EXIT_NONE ||
		    reason == X86_EXIT_PAGE_WAIT)
			return 1;
		if ((reason == X86_EXIT_IO || reason == X86_EXIT_MMIO) &&
		    serve_in_process(vcpu))
			continue;
		kvm_vcpu_stat(vcpu)->exits++;
		translate_exit(vcpu, reason);
		return reason == X86_EXIT_FAULT ? -EFAULT : 0;
	}
}

static bool take_signal(struct kvm_vcpu *vcpu)
{
	if (!atomic_load(&vcpu->signal_pending))
		return false;
	atomic_store(&vcpu->signal_pending, false);
	atomic_store(&vcpu->kick, false);
	vcpu->run->exit_reason = KVM_EXIT_INTR;
	kvm_vcpu_stat(vcpu)->signal_exits++;
	return true;
}

/*
 * Enter the engine until an exit for user space.  RCU is held while the
 * engine runs and dropped at every kick; a memslot update
 * (kvm_synchronize_srcu) keeps the vCPU out until its grace period ends.
 */
/*
 * State that KVM_SET_SREGS accepts but hardware refuses to enter: in IA-32e
 * mode, a code segment with both L and D set (Intel SDM Vol. 3, 27.3.1.2;
 * AMD's VMRUN refuses it too).  KVM reports the failed VM entry as
 * KVM_EXIT_FAIL_ENTRY with VMX's reason, "invalid guest state" with the
 * entry-failure bit.
 */
#define VMX_ENTRY_FAIL_INVALID_STATE 0x80000021u

static bool entry_fails(struct kvm_vcpu *vcpu)
{
	const struct x86_cpu *cpu = vcpu_cpu(vcpu);
	uint32_t cs = cpu->seg[X86_CS].attr;

	if (!(cpu->efer & X86_EFER_LMA) || !(cs & X86_SEG_L) || !(cs & X86_SEG_DB))
		return false;
	vcpu->run->exit_reason = KVM_EXIT_FAIL_ENTRY;
	vcpu->run->fail_entry.hardware_entry_failure_reason =
		VMX_ENTRY_FAIL_INVALID_STATE;
	vcpu->run->fail_entry.cpu = (uint32_t)sched_getcpu();
	return true;
}

static int vcpu_run(struct kvm_vcpu *vcpu)
{
	struct x86_cpu *cpu = vcpu_cpu(vcpu);
	enum x86_exit_reason reason;
	bool nmi_held, smi_held;

	if (entry_fails(vcpu))
		return 0;
	for (;;) {
		if (kvm_platform_ioapic_eoi_exit(vcpu))
			return 0;
		if (take_signal(vcpu))
			return -EINTR;
		if (irq_window_exit_due(vcpu)) {
			vcpu->run->exit_reason = KVM_EXIT_IRQ_WINDOW_OPEN;
			kvm_vcpu_stat(vcpu)->irq_window_exits++;
			return 0;
		}
		if (kvm_dirty_ring_check_exit(vcpu))
			return 0;
		vcpu->arch.ops.pio_buf = vcpu_pio_page(vcpu);
		/* User space is the APIC: a HLT already exited to it. */
		if (!lapic_in_kernel(vcpu)) {
			cpu->halted = false;
		} else {
			kvm_apf_vcpu_run(vcpu);
			kvm_platform_vcpu_events(vcpu);
			if (!kvm_platform_vcpu_block(vcpu)) {
				atomic_store(&vcpu->kick, false);
				continue;
			}
		}
		vcpu->arch.ran = true;
		kvm_pvtime_enter_guest(vcpu);

		/* BLOCKIRQ holds NMIs and SMIs back too */
		nmi_held = guest_debug_blocks_irqs(cpu) && cpu->ev.nmi_pending;
		smi_held = guest_debug_blocks_irqs(cpu) && cpu->ev.smi_pending;
		if (nmi_held)
			cpu->ev.nmi_pending = false;
		if (smi_held)
			cpu->ev.smi_pending = false;
		cpu->exit_on_emulation_failure =
			vcpu->kvm->arch.exit_on_emulation_error;
		kvm_vcpu_srcu_read_lock(vcpu);
		reason = x86_cpu_run(cpu);
		kvm_vcpu_srcu_read_unlock(vcpu);
		if (nmi_held)
			cpu->ev.nmi_pending = true;
		if (smi_held)
			cpu->ev.smi_pending = true;
		kvm_vcpu_stat(vcpu)->exits++;

		switch (reason) {
		case X86_EXIT_KICK:
			atomic_store(&vcpu->kick, false);
			continue;
		case X86_EXIT_NONE:
		case X86_EXIT_IRQ_WINDOW:
		case X86_EXIT_PAGE_WAIT:	/* halted for a page: see pv_async_pf.c */
			continue;
		case X86_EXIT_HLT:
			kvm_vcpu_stat(vcpu)->halt_exits++;
			if (lapic_in_kernel(vcpu))
				continue;	/* sleep in kvm_platform_vcpu_block */
			translate_exit(vcpu, reason);
			return 0;
		case X86_EXIT_IO:
		case X86_EXIT_MMIO:
			if (serve_in_process(vcpu))
				continue;
			translate_exit(vcpu, reason);
			return 0;
		default:
			translate_exit(vcpu, reason);
			return reason == X86_EXIT_FAULT ? -EFAULT : 0;
		}
	}
}

/*
 * The order of Linux 6.1's kvm_arch_vcpu_ioctl_run: validate and apply
 * sync_regs, take CR8 from kvm_run (no in-kernel APIC), finish the I/O of
 * the previous exit, then honour immediate_exit (-EINTR; exit_reason is
 * left as it was), then run.  kvm_run's state fields are refreshed on
 * every return.
 */
int kvm_arch_vcpu_ioctl_run(struct kvm_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	struct x86_cpu *cpu = vcpu_cpu(vcpu);
	int r;

	run->flags = 0;
	r = -EINVAL;
	if ((run->kvm_valid_regs & ~KVM_SYNC_X86_VALID_FIELDS) ||
	    (run->kvm_dirty_regs & ~KVM_SYNC_X86_VALID_FIELDS))
		goto out;
	if (run->kvm_dirty_regs) {
		r = sync_regs(vcpu);
		if (r)
			goto out;
	}
	if (!lapic_in_kernel(vcpu)) {
		r = -EINVAL;
		if (run->cr8 & ~0xfULL)
			goto out;
		if (cpu->cr8 != run->cr8) {
			cpu->cr8 = run->cr8;
			kvm_x86_state_changed(vcpu);
		}
	}
	r = complete_userspace_io(vcpu);
	if (r <= 0)
		goto out;
	r = -EINTR;
	if (run->immediate_exit)
		goto out;
	if (vcpu->arch.shutdown_pending) {
		/* KVM's KVM_REQ_TRIPLE_FAULT, from KVM_X86_SET_MCE */
		vcpu->arch.shutdown_pending = false;
		run->exit_reason = KVM_EXIT_SHUTDOWN;
		r = 0;
		goto out;
	}
	kvm_pvtime_run_begin(vcpu);
	r = vcpu_run(vcpu);
	kvm_apf_vcpu_put(vcpu);
out:
	if (run->kvm_valid_regs)
		store_regs(vcpu);
	post_run_save(vcpu);
	return r;
}
