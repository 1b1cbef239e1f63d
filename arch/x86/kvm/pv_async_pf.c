// SPDX-License-Identifier: MIT
/*
 * pv_async_pf.c - x86's asynchronous page faults: the guest's side of the
 * protocol (Documentation/virt/kvm/x86/msr.rst, MSR_KVM_ASYNC_PF_EN, _INT
 * and _ACK) on top of virt/kvm/async_pf.c.
 *
 * The engine asks kvm_apf_page_ready() on every TLB miss of a RAM page.
 * When the vCPU could take an interrupt now (an in-kernel LAPIC, IF set,
 * no interrupt shadow, no event being delivered) and the host page is
 * missing in a userfaultfd-registered range, a worker faults it in and
 * the vCPU does not touch it:
 *
 * - with async PF enabled by the guest (EN with DELIVERY_AS_INT, CPL 0
 *   only with SEND_ALWAYS, paging on), the guest gets "page not present":
 *   flags = KVM_PV_REASON_PAGE_NOT_PRESENT in its struct
 *   kvm_vcpu_pv_apf_data and a #PF with error code 0 and the token in
 *   CR2, and goes on running; once the page is in, "page ready": the
 *   token in the struct's token field and the MSR_KVM_ASYNC_PF_INT
 *   vector through the LAPIC.  The next "page ready" waits until the
 *   guest cleared the token (and wrote MSR_KVM_ASYNC_PF_ACK);
 * - otherwise the vCPU halts (still taking interrupts) until the page is
 *   in, and the instruction runs again.
 *
 * Otherwise the access simply happens, and the vCPU's thread waits in the
 * kernel until the page is there (as KVM faults synchronously).
 */
#include <errno.h>
#include <linux/kvm_para.h>
#include <stdlib.h>
#include "kvm_rcu.h"

#include "async_pf.h"
#include "pfncache.h"
#include "platform.h"
#include "x86.h"

#define APF_EN_RESERVED		0x30ull		/* bits 5:4 */
#define APF_EN_ADDR_MASK	(~0x3full)
#define APF_PV_MASK		(KVM_ASYNC_PF_ENABLED | KVM_ASYNC_PF_DELIVERY_AS_INT)
#define APF_FLAGS_OFFSET	0		/* struct kvm_vcpu_pv_apf_data.flags */
#define APF_TOKEN_OFFSET	4		/* .token */
#define APF_NO_GFN		(~0ull)

struct kvm_vcpu_apf {
	uint64_t msr_en_val;		/* MSR_KVM_ASYNC_PF_EN as written */
	uint64_t msr_int_val;		/* MSR_KVM_ASYNC_PF_INT */
	uint8_t vec;			/* the "page ready" vector */
	bool send_user_only;		/* not at CPL 0 (no SEND_ALWAYS) */
	bool pageready_pending;		/* "page ready" sent, no ACK yet */
	bool halted;			/* waiting for a page, guest not told */
	bool inject;			/* "not present" decided for this access */
	uint32_t id;			/* token sequence */
	uint64_t gfns[ASYNC_PF_PER_VCPU];	/* gfns being faulted in */
	struct gfn_to_pfn_cache data;	/* the guest's kvm_vcpu_pv_apf_data */
};

static bool apf_pv_enabled(const struct kvm_vcpu_apf *apf)
{
	return (apf->msr_en_val & APF_PV_MASK) == APF_PV_MASK;
}

/* --- Outstanding gfns ------------------------------------------------------ */

static void gfns_reset(struct kvm_vcpu_apf *apf)
{
	for (int i = 0; i < ASYNC_PF_PER_VCPU; i++)
		apf->gfns[i] = APF_NO_GFN;
}

static int gfn_slot(const struct kvm_vcpu_apf *apf, uint64_t gfn)
{
	for (int i = 0; i < ASYNC_PF_PER_VCPU; i++)
		if (apf->gfns[i] == gfn)
			return i;
	return -1;
}

static void gfn_add(struct kvm_vcpu_apf *apf, uint64_t gfn)
{
	int i = gfn_slot(apf, APF_NO_GFN);

	/* the queue holds at most ASYNC_PF_PER_VCPU items: a slot is free */
	if (i >= 0)
		apf->gfns[i] = gfn;
}

static void gfn_del(struct kvm_vcpu_apf *apf, uint64_t gfn)
{
	int i = gfn_slot(apf, gfn);

	if (i >= 0)
		apf->gfns[i] = APF_NO_GFN;
}

/* --- The guest's struct kvm_vcpu_pv_apf_data ------------------------------- */

/* Read or write one u32 field through the pfn cache (dirty-logged). */
static int apf_data_access(struct kvm_vcpu_apf *apf, size_t off,
			   uint32_t *val, bool write)
{
	uint32_t *p;

	rcu_read_lock();
	while (!kvm_gpc_check(&apf->data)) {
		rcu_read_unlock();
		if (kvm_gpc_refresh(&apf->data))
			return -EFAULT;
		rcu_read_lock();
	}
	p = (uint32_t *)((uint8_t *)atomic_load(&apf->data.khva) + off);
	if (write) {
		__atomic_store_n(p, *val, __ATOMIC_SEQ_CST);
		kvm_gpc_mark_dirty(&apf->data);
	} else {
		*val = __atomic_load_n(p, __ATOMIC_SEQ_CST);
	}
	rcu_read_unlock();
	return 0;
}

static bool apf_put(struct kvm_vcpu_apf *apf, size_t off, uint32_t val)
{
	return apf_data_access(apf, off, &val, true) == 0;
}

static bool apf_pageready_slot_free(struct kvm_vcpu_apf *apf)
{
	uint32_t token;

	return apf_data_access(apf, APF_TOKEN_OFFSET, &token, false) == 0 &&
	       token == 0;
}

/* --- When KVM may start and announce an asynchronous fault ----------------- */

/* KVM's kvm_can_do_async_pf(): the vCPU could take an interrupt now. */
static bool apf_can_do(struct kvm_vcpu *vcpu)
{
	const struct x86_cpu *cpu = vcpu_cpu(vcpu);
	const struct x86_events *ev = &cpu->ev;

	if (!lapic_in_kernel(vcpu) || vcpu->arch.completing_io)
		return false;
	if (ev->exc_pending || ev->exc_injected || ev->irq_injected ||
	    ev->nmi_injected)
		return false;
	return (cpu->rflags & X86_RFLAGS_IF) && !ev->int_shadow;
}

/* KVM's kvm_can_deliver_async_pf(): "page not present" may be injected. */
static bool apf_can_deliver(struct kvm_vcpu *vcpu)
{
	const struct x86_cpu *cpu = vcpu_cpu(vcpu);
	struct kvm_vcpu_apf *apf = vcpu->arch.apf;

	if (!apf_pv_enabled(apf))
		return false;
	if (apf->send_user_only && vcpu_cpl(cpu) == 0)
		return false;
	/* the real-mode IVT is unlikely to have a #PF handler */
	return cpu->cr0 & X86_CR0_PG;
}

/* A non-zero token: a 20-bit sequence number above the vCPU id. */
static uint32_t apf_alloc_token(struct kvm_vcpu *vcpu)
{
	struct kvm_vcpu_apf *apf = vcpu->arch.apf;

	apf->id = (apf->id + 1) & 0xfffff;
	if (!apf->id)
		apf->id = 1;
	return (apf->id << 12) | ((uint32_t)vcpu->vcpu_id & 0xfff);
}

/*
 * Sleep until the page is in (or an interrupt comes), then run the
 * instruction again: the engine's halted state, which the run loop
 * sleeps on (kvm_platform_vcpu_block) and an interrupt ends.
 */
static int apf_halt(struct kvm_vcpu *vcpu)
{
	vcpu->arch.apf->halted = true;
	vcpu_cpu(vcpu)->halted = true;
	return X86_PAGE_WAIT;
}

static void apf_unhalt(struct kvm_vcpu *vcpu)
{
	if (!vcpu->arch.apf->halted)
		return;
	vcpu->arch.apf->halted = false;
	vcpu_cpu(vcpu)->halted = false;
	if (vcpu->arch.mp_state == KVM_MP_STATE_HALTED)
		vcpu->arch.mp_state = KVM_MP_STATE_RUNNABLE;
}

int kvm_apf_page_ready(struct x86_cpu *cpu, uint64_t gpa, void *host,
		       uint64_t *cr2)
{
	struct kvm_vcpu *vcpu = cpu->opaque;
	struct kvm_vcpu_apf *apf = vcpu->arch.apf;
	struct kvm_arch_async_pf arch;

	if (!apf || !apf_can_do(vcpu) ||
	    !kvm_async_pf_page_would_block(vcpu, (hva_t)(uintptr_t)host))
		return 0;
	arch.gfn = gpa >> PAGE_SHIFT;
	/* Touched again before it came in: wait for it (KVM's APF_HALT). */
	if (gfn_slot(apf, arch.gfn) >= 0)
		return apf_halt(vcpu);
	arch.token = apf_alloc_token(vcpu);
	apf->inject = false;
	if (!kvm_setup_async_pf(vcpu, gpa, (hva_t)(uintptr_t)host, &arch))
		return 0;	/* no room: fault it in synchronously */
	if (!apf->inject)
		return apf_halt(vcpu);
	*cr2 = arch.token;
	return X86_PAGE_FAULT;
}

/* --- The hooks of virt/kvm/async_pf.c --------------------------------------- */

bool kvm_arch_async_page_not_present(struct kvm_vcpu *vcpu,
				     struct kvm_async_pf *work)
{
	struct kvm_vcpu_apf *apf = vcpu->arch.apf;

	gfn_add(apf, work->arch.gfn);
	if (apf_can_deliver(vcpu) &&
	    apf_put(apf, APF_FLAGS_OFFSET, KVM_PV_REASON_PAGE_NOT_PRESENT)) {
		apf->inject = true;
		return true;
	}
	return false;
}

void kvm_arch_async_page_present(struct kvm_vcpu *vcpu,
				 struct kvm_async_pf *work)
{
	struct kvm_vcpu_apf *apf = vcpu->arch.apf;
	uint32_t token = work->wakeup_all ? ~0u : work->arch.token;

	if (!work->wakeup_all)
		gfn_del(apf, work->arch.gfn);
	if ((work->wakeup_all || work->notpresent_injected) &&
	    apf_pv_enabled(apf) && apf_put(apf, APF_TOKEN_OFFSET, token)) {
		struct kvm_lapic_irq irq = {
			.vector = apf->vec,
			.delivery_mode = APIC_DM_FIXED,
		};

		apf->pageready_pending = true;
		kvm_lapic_set_irq(vcpu->arch.apic, &irq);
	}
	apf_unhalt(vcpu);
}

bool kvm_arch_can_dequeue_async_page_present(struct kvm_vcpu *vcpu)
{
	struct kvm_vcpu_apf *apf = vcpu->arch.apf;

	if (!apf_pv_enabled(apf))
		return true;
	return kvm_lapic_enabled(vcpu->arch.apic) && apf_pageready_slot_free(apf);
}

void kvm_arch_async_page_present_queued(struct kvm_vcpu *vcpu)
{
	kvm_vcpu_kick(vcpu);
	kvm_platform_vcpu_wake(vcpu);
}

/* --- vCPU life and the run loop --------------------------------------------- */

int kvm_apf_vcpu_create(struct kvm_vcpu *vcpu)
{
	struct kvm_vcpu_apf *apf = calloc(1, sizeof(*apf));

	if (!apf)
		return -ENOMEM;
	kvm_gpc_init(&apf->data, vcpu->kvm, 0);
	gfns_reset(apf);
	vcpu->arch.apf = apf;
	return 0;
}

/* Forget every outstanding fault; a vCPU halted for one runs again. */
void kvm_apf_vcpu_forget(struct kvm_vcpu *vcpu)
{
	kvm_clear_async_pf_completion_queue(vcpu);
	gfns_reset(vcpu->arch.apf);
	apf_unhalt(vcpu);
}

void kvm_apf_vcpu_put(struct kvm_vcpu *vcpu)
{
	apf_unhalt(vcpu);
}

void kvm_apf_vcpu_destroy(struct kvm_vcpu *vcpu)
{
	if (!vcpu->arch.apf)
		return;
	kvm_apf_vcpu_forget(vcpu);
	kvm_gpc_deactivate(&vcpu->arch.apf->data);
	free(vcpu->arch.apf);
	vcpu->arch.apf = NULL;
}

void kvm_apf_vcpu_reset(struct kvm_vcpu *vcpu)
{
	struct kvm_vcpu_apf *apf = vcpu->arch.apf;

	kvm_apf_vcpu_forget(vcpu);
	apf->msr_en_val = 0;
	apf->msr_int_val = 0;
	apf->vec = 0;
	apf->pageready_pending = false;
	kvm_gpc_deactivate(&apf->data);
}

void kvm_apf_vcpu_run(struct kvm_vcpu *vcpu)
{
	/* an interrupt ended the halt; the instruction asks again if need be */
	if (vcpu->arch.apf->halted && !vcpu_cpu(vcpu)->halted)
		vcpu->arch.apf->halted = false;
	if (kvm_async_pf_has_done(vcpu))
		kvm_check_async_pf_completion(vcpu);
}

/* --- MSRs ------------------------------------------------------------------- */

static int apf_set_en(struct kvm_vcpu *vcpu, uint64_t data)
{
	struct kvm_vcpu_apf *apf = vcpu->arch.apf;

	if (data & APF_EN_RESERVED)
		return 1;
	if ((data & KVM_ASYNC_PF_DELIVERY_AS_PF_VMEXIT) &&
	    !guest_pv_has(vcpu, KVM_FEATURE_ASYNC_PF_VMEXIT))
		return 1;
	if ((data & KVM_ASYNC_PF_DELIVERY_AS_INT) &&
	    !guest_pv_has(vcpu, KVM_FEATURE_ASYNC_PF_INT))
		return 1;
	if (!lapic_in_kernel(vcpu))
		return data ? 1 : 0;
	apf->msr_en_val = data;
	if (!apf_pv_enabled(apf)) {
		kvm_apf_vcpu_forget(vcpu);
		kvm_gpc_deactivate(&apf->data);
		return 0;
	}
	if (kvm_gpc_activate(&apf->data, data & APF_EN_ADDR_MASK, sizeof(uint64_t)))
		return 1;
	apf->send_user_only = !(data & KVM_ASYNC_PF_SEND_ALWAYS);
	kvm_async_pf_wakeup_all(vcpu);
	return 0;
}

int kvm_apf_set_msr(struct kvm_vcpu *vcpu, uint32_t index, uint64_t data,
		    bool host_initiated)
{
	struct kvm_vcpu_apf *apf = vcpu->arch.apf;

	switch (index) {
	case MSR_KVM_ASYNC_PF_EN:
		if (!guest_pv_has(vcpu, KVM_FEATURE_ASYNC_PF))
			return 1;
		return apf_set_en(vcpu, data);
	case MSR_KVM_ASYNC_PF_INT:
		if (!guest_pv_has(vcpu, KVM_FEATURE_ASYNC_PF_INT) || (data >> 8))
			return 1;
		/*
		 * KVM wants an in-kernel LAPIC for any value; restoring the
		 * reset value is let through so that a saved MSR list always
		 * writes back.
		 */
		if (!lapic_in_kernel(vcpu))
			return !(host_initiated && !data);
		apf->msr_int_val = data;
		apf->vec = (uint8_t)data;
		return 0;
	case MSR_KVM_ASYNC_PF_ACK:
		if (!guest_pv_has(vcpu, KVM_FEATURE_ASYNC_PF_INT))
			return 1;
		if (data & 1) {
			apf->pageready_pending = false;
			kvm_check_async_pf_completion(vcpu);
		}
		return 0;
	default:
		return KVM_MSR_RET_INVALID;
	}
}

int kvm_apf_get_msr(struct kvm_vcpu *vcpu, uint32_t index, uint64_t *data)
{
	struct kvm_vcpu_apf *apf = vcpu->arch.apf;

	switch (index) {
	case MSR_KVM_ASYNC_PF_EN:
		if (!guest_pv_has(vcpu, KVM_FEATURE_ASYNC_PF))
			return 1;
		*data = apf->msr_en_val;
		return 0;
	case MSR_KVM_ASYNC_PF_INT:
		if (!guest_pv_has(vcpu, KVM_FEATURE_ASYNC_PF_INT))
			return 1;
		*data = apf->msr_int_val;
		return 0;
	case MSR_KVM_ASYNC_PF_ACK:
		if (!guest_pv_has(vcpu, KVM_FEATURE_ASYNC_PF_INT))
			return 1;
		*data = 0;
		return 0;
	default:
		return KVM_MSR_RET_INVALID;
	}
}
