// SPDX-License-Identifier: MIT
/*
 * test_guest_smm.c - SMM through the KVM ABI (skvm_open/skvm_ioctl), with
 * the in-kernel irqchip: a real-mode guest takes SMIs from KVM_SMI, from
 * its own LAPIC (a self IPI with delivery mode SMI), from an IOAPIC pin
 * and from an MSI; the
 * handler lives in SMRAM, a memslot of address space 1 only; the tests
 * look at kvm_run.flags, the vCPU events, the registers inside SMM, a
 * save/restore there, an NMI held until RSM and an INIT latched in SMM.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "platform_test.h"
#include "one_vcpu_vm.h"

#define SMBASE		0x30000		/* the power-on value */
#define SMRAM_SIZE	0x10000
#define MARK		0x5a

static uint8_t *smram;		/* address space 1 at SMBASE */

/*
 * The guest at 0x1000 (real mode, DS.base = the xAPIC page): reports
 * 1 and 2 on port 0x80, sends itself an SMI through the ICR, reports 3
 * and 4, halts.  IVT[2] (NMI) at 0x2000 reports 0x77 on port 0x81.
 */
static const uint8_t guest_code[] = {
	0xb0, 0x01, 0xe6, 0x80,				/* out 1 */
	0xb0, 0x02, 0xe6, 0x80,				/* out 2 */
	0x66, 0xc7, 0x06, 0x00, 0x03, 0x00, 0x02, 0x04, 0x00,
							/* movl $0x40200, ICR */
	0xb0, 0x03, 0xe6, 0x80,				/* out 3 */
	0xb0, 0x04, 0xe6, 0x80,				/* out 4 */
	0xf4,
};
static const uint8_t nmi_handler[] = { 0xb0, 0x77, 0xe6, 0x81, 0xcf };

/* In SMRAM at SMBASE + 0x8000: read SMRAM through CS, report it, RSM. */
static const uint8_t smi_handler[] = {
	0x2e, 0xa0, 0x00, 0x01,		/* mov %cs:0x100, %al */
	0xe6, 0x10,			/* out %al, $0x10 */
	0x0f, 0xaa,			/* rsm */
};

/* The VM with its SMRAM slot and both handlers in place. */
static void smm_vm_open(struct vm *v)
{
	struct kvm_userspace_memory_region region = {
		.slot = (1u << 16) | 1,		/* address space 1: SMRAM */
		.guest_phys_addr = SMBASE,
		.memory_size = SMRAM_SIZE,
	};

	vm_open(v, true);
	smram = mmap(NULL, SMRAM_SIZE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(smram != MAP_FAILED);
	region.userspace_addr = (uintptr_t)smram;
	assert_int_equal(skvm_ioctl(v->vm, KVM_SET_USER_MEMORY_REGION, &region), 0);
	memcpy(v->mem + 0x1000, guest_code, sizeof(guest_code));
	memcpy(v->mem + 0x2000, nmi_handler, sizeof(nmi_handler));
	v->mem[2 * 4 + 1] = 0x20;		/* IVT[2] = 0000:2000 */
	memcpy(smram + 0x8000, smi_handler, sizeof(smi_handler));
	smram[0x100] = MARK;

	vm_real_mode(v, 0xfee00000);		/* unreal DS on the xAPIC */
}

static void smm_vm_close(struct vm *v)
{
	vm_close(v);
	munmap(smram, SMRAM_SIZE);
}

static bool in_smm_flag(struct vm *v)
{
	return v->run->flags & KVM_RUN_X86_SMM;
}

static struct kvm_vcpu_events events(struct vm *v)
{
	struct kvm_vcpu_events e;

	assert_int_equal(skvm_ioctl(v->vcpu, KVM_GET_VCPU_EVENTS, &e), 0);
	assert_true(e.flags & KVM_VCPUEVENT_VALID_SMM);
	return e;
}

/* At the SMM handler's OUT: the SMM environment as the ioctls show it. */
static void check_in_smm(struct vm *v)
{
	struct kvm_sregs s;
	struct kvm_regs r;
	struct kvm_vcpu_events e = events(v);

	assert_true(in_smm_flag(v));
	assert_int_equal(e.smi.smm, 1);
	assert_int_equal(e.smi.pending, 0);
	assert_int_equal(e.nmi.masked, 1);
	assert_int_equal(skvm_ioctl(v->vcpu, KVM_GET_SREGS, &s), 0);
	assert_int_equal(s.cs.base, SMBASE);
	assert_int_equal(s.cs.selector, SMBASE >> 4);
	assert_int_equal(s.ds.base, 0);
	assert_int_equal(s.cr0 & 1, 0);
	assert_int_equal(skvm_ioctl(v->vcpu, KVM_GET_REGS, &r), 0);
	assert_int_equal(r.rip, 0x8004);
}

static void test_capability_and_msrs(void **state)
{
	struct vm v;
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e;
	} m = { .h.nmsrs = 1, .e.index = 0x9e, .e.data = 0x40000 };

	smm_vm_open(&v);
	assert_int_equal(skvm_ioctl(v.sys, KVM_CHECK_EXTENSION, KVM_CAP_X86_SMM), 1);
	assert_int_equal(vm_get_msr(&v, 0x9e), SMBASE);
	assert_int_equal(vm_get_msr(&v, 0x34), 0);
	assert_int_equal(skvm_ioctl(v.vcpu, KVM_SET_MSRS, &m), 1);
	assert_int_equal(vm_get_msr(&v, 0x9e), 0x40000);
	smm_vm_close(&v);
}

/*
 * KVM_SMI: pending at once, taken by the next KVM_RUN; the handler runs
 * from SMRAM (address space 1); a save/restore of regs, sregs and events
 * inside SMM; an NMI raised in SMM waits for RSM.
 */
static void test_smi_ioctl(void **state)
{
	struct kvm_vcpu_events e;
	struct kvm_sregs s;
	struct kvm_regs r;
	struct kvm_mp_state mp = { KVM_MP_STATE_INIT_RECEIVED };
	struct vm v;

	smm_vm_open(&v);
	assert_int_equal(vm_run_out(&v, 0x80), 1);
	assert_false(in_smm_flag(&v));
	assert_int_equal(skvm_ioctl(v.vcpu, KVM_SMI, 0), 0);
	e = events(&v);
	assert_int_equal(e.smi.pending, 1);
	assert_int_equal(e.smi.smm, 0);

	assert_int_equal(vm_run_out(&v, 0x10), MARK);
	check_in_smm(&v);
	assert_int_equal(vm_get_msr(&v, 0x34), 1);
	/* INIT and SIPI states are refused in SMM */
	assert_int_equal(skvm_ioctl(v.vcpu, KVM_SET_MP_STATE, &mp), -1);
	assert_int_equal(errno, EINVAL);

	/* save and restore everything while in SMM */
	e = events(&v);
	assert_int_equal(skvm_ioctl(v.vcpu, KVM_GET_SREGS, &s), 0);
	assert_int_equal(skvm_ioctl(v.vcpu, KVM_GET_REGS, &r), 0);
	e.smi.smm = 0;
	e.flags = KVM_VCPUEVENT_VALID_SMM;
	assert_int_equal(skvm_ioctl(v.vcpu, KVM_SET_VCPU_EVENTS, &e), 0);
	assert_int_equal(events(&v).smi.smm, 0);
	assert_int_equal(skvm_ioctl(v.vcpu, KVM_SET_SREGS, &s), 0);
	assert_int_equal(skvm_ioctl(v.vcpu, KVM_SET_REGS, &r), 0);
	e.smi.smm = 1;
	assert_int_equal(skvm_ioctl(v.vcpu, KVM_SET_VCPU_EVENTS, &e), 0);

	assert_int_equal(skvm_ioctl(v.vcpu, KVM_NMI, 0), 0);
	/* RSM, then the NMI outside SMM, then the guest goes on */
	assert_int_equal(vm_run_out(&v, 0x81), 0x77);
	assert_false(in_smm_flag(&v));
	assert_int_equal(events(&v).smi.smm, 0);
	assert_int_equal(vm_run_out(&v, 0x80), 2);
	smm_vm_close(&v);
}

/* The guest's self IPI with delivery mode SMI enters SMM before "3". */
static void test_smi_lapic(void **state)
{
	struct vm v;

	smm_vm_open(&v);
	assert_int_equal(vm_run_out(&v, 0x80), 1);
	assert_int_equal(vm_run_out(&v, 0x80), 2);
	assert_int_equal(vm_run_out(&v, 0x10), MARK);
	check_in_smm(&v);
	assert_int_equal(vm_run_out(&v, 0x80), 3);
	assert_false(in_smm_flag(&v));
	assert_int_equal(vm_get_msr(&v, 0x34), 1);
	smm_vm_close(&v);
}

/*
 * An SMI the LAPIC accepted shows as pending before the next KVM_RUN (a
 * save there keeps it); here from IOAPIC pin 5 programmed with delivery
 * mode SMI and raised with KVM_IRQ_LINE.
 */
static void test_smi_ioapic_pending_at_once(void **state)
{
	struct kvm_irqchip chip = { .chip_id = KVM_IRQCHIP_IOAPIC };
	struct kvm_irq_level line = { .irq = 5, .level = 1 };
	struct kvm_vcpu_events e;
	struct vm v;

	smm_vm_open(&v);
	assert_int_equal(vm_run_out(&v, 0x80), 1);
	assert_int_equal(skvm_ioctl(v.vm, KVM_GET_IRQCHIP, &chip), 0);
	chip.chip.ioapic.redirtbl[5].bits = 0;
	chip.chip.ioapic.redirtbl[5].fields.delivery_mode = 2;	/* SMI */
	assert_int_equal(skvm_ioctl(v.vm, KVM_SET_IRQCHIP, &chip), 0);
	assert_int_equal(skvm_ioctl(v.vm, KVM_IRQ_LINE, &line), 0);
	e = events(&v);
	assert_int_equal(e.smi.pending, 1);
	assert_int_equal(e.smi.smm, 0);
	/* a restore of those events keeps the SMI */
	assert_int_equal(skvm_ioctl(v.vcpu, KVM_SET_VCPU_EVENTS, &e), 0);
	assert_int_equal(vm_run_out(&v, 0x10), MARK);
	check_in_smm(&v);
	assert_int_equal(vm_run_out(&v, 0x80), 2);
	smm_vm_close(&v);
}

/*
 * An MSI with delivery mode SMI; in SMM an INIT (by MSI) is latched, not
 * taken: latched_init shows it and SET_VCPU_EVENTS can clear it.
 */
static void test_smi_msi_and_latched_init(void **state)
{
	struct kvm_msi smi = { .address_lo = 0xfee00000, .data = 0x200 };
	struct kvm_msi init = { .address_lo = 0xfee00000, .data = 0x500 };
	struct kvm_vcpu_events e;
	struct kvm_mp_state mp;
	struct vm v;

	smm_vm_open(&v);
	assert_int_equal(vm_run_out(&v, 0x80), 1);
	assert_int_equal(skvm_ioctl(v.vm, KVM_SIGNAL_MSI, &smi), 1);
	assert_int_equal(vm_run_out(&v, 0x10), MARK);
	check_in_smm(&v);

	assert_int_equal(skvm_ioctl(v.vm, KVM_SIGNAL_MSI, &init), 1);
	assert_int_equal(events(&v).smi.latched_init, 1);
	/* KVM_RUN keeps it latched: the handler goes on in SMM */
	v.run->immediate_exit = 1;
	assert_int_equal(skvm_ioctl(v.vcpu, KVM_RUN, 0), -1);
	assert_int_equal(errno, EINTR);
	v.run->immediate_exit = 0;
	assert_int_equal(skvm_ioctl(v.vcpu, KVM_GET_MP_STATE, &mp), 0);
	assert_int_equal(mp.mp_state, KVM_MP_STATE_RUNNABLE);
	e = events(&v);
	assert_int_equal(e.smi.latched_init, 1);
	assert_int_equal(e.smi.smm, 1);
	e.smi.latched_init = 0;
	assert_int_equal(skvm_ioctl(v.vcpu, KVM_SET_VCPU_EVENTS, &e), 0);
	assert_int_equal(events(&v).smi.latched_init, 0);
	assert_int_equal(vm_run_out(&v, 0x80), 2);
	assert_int_equal(skvm_ioctl(v.vcpu, KVM_GET_MP_STATE, &mp), 0);
	assert_int_equal(mp.mp_state, KVM_MP_STATE_RUNNABLE);
	smm_vm_close(&v);
}

struct sipi_sender {
	struct vm *v;
	atomic_bool done;
};

/* SIPIs (vector 1: CS 0x100, IP 0) until the vCPU came back. */
static void *send_sipis(void *arg)
{
	struct sipi_sender *s = arg;
	struct kvm_msi sipi = { .address_lo = 0xfee00000, .data = 0x601 };

	while (!atomic_load(&s->done)) {
		skvm_ioctl(s->v->vm, KVM_SIGNAL_MSI, &sipi);
		usleep(5000);
	}
	return NULL;
}

/*
 * An INIT latched in SMM is taken once RSM leaves it: the vCPU then
 * waits for a SIPI and restarts at 0x1000 with CS = 0x100.  SIPIs sent
 * while it is still in SMM are dropped, so they are sent until then.
 */
static void test_latched_init_after_rsm(void **state)
{
	struct kvm_msi smi = { .address_lo = 0xfee00000, .data = 0x200 };
	struct kvm_msi init = { .address_lo = 0xfee00000, .data = 0x500 };
	struct sipi_sender s = { 0 };
	struct kvm_sregs sregs;
	pthread_t th;
	struct vm v;

	smm_vm_open(&v);
	assert_int_equal(vm_run_out(&v, 0x80), 1);
	assert_int_equal(skvm_ioctl(v.vm, KVM_SIGNAL_MSI, &smi), 1);
	assert_int_equal(vm_run_out(&v, 0x10), MARK);
	assert_int_equal(skvm_ioctl(v.vm, KVM_SIGNAL_MSI, &init), 1);
	s.v = &v;
	assert_int_equal(pthread_create(&th, NULL, send_sipis, &s), 0);
	assert_int_equal(vm_run_out(&v, 0x80), 1);
	atomic_store(&s.done, true);
	pthread_join(th, NULL);
	assert_false(in_smm_flag(&v));
	assert_int_equal(skvm_ioctl(v.vcpu, KVM_GET_SREGS, &sregs), 0);
	assert_int_equal(sregs.cs.selector, 0x100);
	assert_int_equal(events(&v).smi.latched_init, 0);
	smm_vm_close(&v);
}

/* SMM and SMIs cannot be set while the vCPU waits for SIPI. */
static void test_events_init_received(void **state)
{
	struct kvm_mp_state mp = { KVM_MP_STATE_INIT_RECEIVED };
	struct kvm_vcpu_events e;
	struct vm v;

	smm_vm_open(&v);
	assert_int_equal(skvm_ioctl(v.vcpu, KVM_SET_MP_STATE, &mp), 0);
	e = events(&v);
	e.flags = KVM_VCPUEVENT_VALID_SMM;
	e.smi.pending = 1;
	assert_int_equal(skvm_ioctl(v.vcpu, KVM_SET_VCPU_EVENTS, &e), -1);
	assert_int_equal(errno, EINVAL);
	e.smi.pending = 0;
	e.smi.smm = 1;
	assert_int_equal(skvm_ioctl(v.vcpu, KVM_SET_VCPU_EVENTS, &e), -1);
	assert_int_equal(errno, EINVAL);
	smm_vm_close(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_capability_and_msrs),
		cmocka_unit_test(test_smi_ioctl),
		cmocka_unit_test(test_smi_lapic),
		cmocka_unit_test(test_smi_ioapic_pending_at_once),
		cmocka_unit_test(test_smi_msi_and_latched_init),
		cmocka_unit_test(test_latched_init_after_rsm),
		cmocka_unit_test(test_events_init_received),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
