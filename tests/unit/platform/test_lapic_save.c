// SPDX-License-Identifier: MIT
/*
 * test_lapic_save.c - LAPIC state that a save/restore must carry beyond
 * KVM_GET/SET_LAPIC, through the KVM ABI (skvm_open/skvm_ioctl) with a
 * small real-mode guest: IA32_TSC_DEADLINE by KVM_GET/SET_MSRS (a timer
 * armed in one VM fires in a fresh one at its deadline), and an NMI the
 * LAPIC accepted but the vCPU has not taken, which KVM_GET_VCPU_EVENTS
 * reports as nmi.pending.
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "platform_test.h"
#include "one_vcpu_vm.h"

#define MSR_TSC		0x10
#define MSR_DEADLINE	0x6e0
#define MS		1000000ull
#define LATE_NS		(2000ull * MS)
#define VEC_TIMER	0x40
#define DATA		0x3000		/* u64 TSC delta; u64 TSC at the handler */

/*
 * At 0x1000 (DS.base = the xAPIC page): OUT 1 to 0x80; SVR enabled;
 * LVTT = TSC-deadline mode, vector 0x40; IA32_TSC_DEADLINE = TSC + the
 * delta at DATA; OUT 2 to 0x80; then STI and HLT for ever.
 */
static const uint8_t guest_code[] = {
	0xb0, 0x01, 0xe6, 0x80,					/* out 1 */
	0x66, 0xc7, 0x06, 0xf0, 0x00, 0xff, 0x01, 0x00, 0x00,	/* SVR = 0x1ff */
	0x66, 0xc7, 0x06, 0x20, 0x03, VEC_TIMER, 0x00, 0x04, 0x00,
								/* LVTT = 0x40040 */
	0x0f, 0x31,						/* rdtsc */
	0x66, 0x2e, 0x03, 0x06, 0x00, 0x30,			/* add %cs:DATA, %eax */
	0x66, 0x2e, 0x13, 0x16, 0x04, 0x30,			/* adc %cs:DATA+4, %edx */
	0x66, 0xb9, 0xe0, 0x06, 0x00, 0x00,			/* mov $0x6e0, %ecx */
	0x0f, 0x30,						/* wrmsr */
	0xb0, 0x02, 0xe6, 0x80,					/* out 2 */
	0xfb,							/* sti */
	0xf4, 0xeb, 0xfd,					/* 1: hlt; jmp 1b */
};

/* IVT[0x40] at 0x2000: TSC to DATA + 8, EOI, OUT 0x40 to 0x81, IRET. */
static const uint8_t timer_handler[] = {
	0x0f, 0x31,						/* rdtsc */
	0x66, 0x2e, 0xa3, 0x08, 0x30,				/* mov %eax, %cs:DATA+8 */
	0x66, 0x2e, 0x89, 0x16, 0x0c, 0x30,			/* mov %edx, %cs:DATA+12 */
	0x66, 0xc7, 0x06, 0xb0, 0x00, 0x00, 0x00, 0x00, 0x00,	/* EOI */
	0xb0, VEC_TIMER, 0xe6, 0x81,				/* out 0x40, 0x81 */
	0xcf,							/* iret */
};

/* IVT[2] (NMI) at 0x2100: OUT 0x77 to 0x81, IRET. */
static const uint8_t nmi_handler[] = { 0xb0, 0x77, 0xe6, 0x81, 0xcf };

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * A VM whose guest CPUID has the TSC-deadline timer, as a VMM sets it when
 * KVM_CAP_TSC_DEADLINE_TIMER is present (it is not in the supported CPUID).
 */
static void vm_open_tscdl(struct vm *v)
{
	struct {
		struct kvm_cpuid2 h;
		struct kvm_cpuid_entry2 e[1];
	} c = { .h.nent = 1 };

	vm_open(v, true);
	assert_int_equal(skvm_ioctl(v->sys, KVM_CHECK_EXTENSION,
				    KVM_CAP_TSC_DEADLINE_TIMER), 1);
	c.e[0].function = 1;
	c.e[0].ecx = 1u << 24;
	assert_int_equal(skvm_ioctl(v->vcpu, KVM_SET_CPUID2, &c), 0);
}

/* The VM with the guest, its handlers and real-mode registers. */
static void guest_open(struct vm *v, uint64_t delta)
{
	vm_open_tscdl(v);
	memcpy(v->mem + 0x1000, guest_code, sizeof(guest_code));
	memcpy(v->mem + 0x2000, timer_handler, sizeof(timer_handler));
	memcpy(v->mem + 0x2100, nmi_handler, sizeof(nmi_handler));
	memcpy(v->mem + DATA, &delta, 8);
	v->mem[VEC_TIMER * 4 + 1] = 0x20;	/* IVT[0x40] = 0000:2000 */
	v->mem[2 * 4 + 1] = 0x21;		/* IVT[2] = 0000:2100 */
	vm_real_mode(v, 0xfee00000);		/* unreal DS on the xAPIC */
}

/* Complete the last OUT without running on, as a VMM does before a save. */
static void retire(struct vm *v)
{
	v->run->immediate_exit = 1;
	assert_int_equal(skvm_ioctl(v->vcpu, KVM_RUN, 0), -1);
	assert_int_equal(errno, EINTR);
	v->run->immediate_exit = 0;
}

/* IA32_TSC_DEADLINE is in KVM_GET_MSR_INDEX_LIST, as in KVM's emulated MSRs. */
static void test_deadline_listed(void **state)
{
	struct kvm_msr_list probe = { .nmsrs = 0 }, *l;
	int sys = skvm_open(O_RDWR);
	bool found = false;

	(void)state;
	assert_true(sys >= 0);
	assert_int_equal(skvm_ioctl(sys, KVM_GET_MSR_INDEX_LIST, &probe), -1);
	assert_int_equal(errno, E2BIG);
	l = calloc(1, sizeof(*l) + probe.nmsrs * sizeof(l->indices[0]));
	assert_non_null(l);
	l->nmsrs = probe.nmsrs;
	assert_int_equal(skvm_ioctl(sys, KVM_GET_MSR_INDEX_LIST, l), 0);
	for (uint32_t i = 0; i < l->nmsrs; i++)
		found |= l->indices[i] == MSR_DEADLINE;
	assert_true(found);
	free(l);
	close(sys);
}

/*
 * Host accesses: outside TSC-deadline mode a read is 0 and a write is
 * ignored; in it the value written reads back; without an in-kernel
 * LAPIC the MSR reads 0 and takes writes.
 */
static void test_deadline_host_access(void **state)
{
	struct kvm_lapic_state lapic;
	uint32_t lvtt = 2u << 17 | VEC_TIMER;
	uint64_t far;
	struct vm v;

	(void)state;
	guest_open(&v, 0);
	assert_int_equal(vm_get_msr(&v, MSR_DEADLINE), 0);
	vm_set_msr(&v, MSR_DEADLINE, 12345);
	assert_int_equal(vm_get_msr(&v, MSR_DEADLINE), 0);

	assert_int_equal(skvm_ioctl(v.vcpu, KVM_GET_LAPIC, &lapic), 0);
	memcpy(lapic.regs + 0xf0, &(uint32_t){ 0x1ff }, 4);
	memcpy(lapic.regs + 0x320, &lvtt, 4);
	assert_int_equal(skvm_ioctl(v.vcpu, KVM_SET_LAPIC, &lapic), 0);
	far = vm_get_msr(&v, MSR_TSC) + (1ull << 50);
	vm_set_msr(&v, MSR_DEADLINE, far);
	assert_true(vm_get_msr(&v, MSR_DEADLINE) == far);
	vm_set_msr(&v, MSR_DEADLINE, 0);
	assert_int_equal(vm_get_msr(&v, MSR_DEADLINE), 0);
	vm_close(&v);

	vm_open(&v, false);
	assert_int_equal(vm_get_msr(&v, MSR_DEADLINE), 0);
	vm_set_msr(&v, MSR_DEADLINE, 12345);
	assert_int_equal(vm_get_msr(&v, MSR_DEADLINE), 0);
	vm_close(&v);
}

/* What a VMM saves of the vCPU here; msrs, when set, by KVM_GET_MSRS. */
struct saved {
	struct kvm_lapic_state lapic;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_vcpu_events events;
	struct kvm_msrs *msrs;
	uint8_t mem[MEM_SIZE];
};

/* Save the vCPU and the memory, and close the VM. */
static void save_close(struct vm *v, struct saved *s)
{
	if (s->msrs)
		assert_int_equal(skvm_ioctl(v->vcpu, KVM_GET_MSRS, s->msrs),
				 (int)s->msrs->nmsrs);
	assert_int_equal(skvm_ioctl(v->vcpu, KVM_GET_LAPIC, &s->lapic), 0);
	assert_int_equal(skvm_ioctl(v->vcpu, KVM_GET_SREGS, &s->sregs), 0);
	assert_int_equal(skvm_ioctl(v->vcpu, KVM_GET_REGS, &s->regs), 0);
	assert_int_equal(skvm_ioctl(v->vcpu, KVM_GET_VCPU_EVENTS, &s->events), 0);
	memcpy(s->mem, v->mem, MEM_SIZE);
	vm_close(v);
}

/* A fresh VM from s: the LAPIC before the MSRs, which need its mode. */
static void open_restore(struct vm *v, const struct saved *s)
{
	vm_open_tscdl(v);
	memcpy(v->mem, s->mem, MEM_SIZE);
	assert_int_equal(skvm_ioctl(v->vcpu, KVM_SET_SREGS, &s->sregs), 0);
	assert_int_equal(skvm_ioctl(v->vcpu, KVM_SET_REGS, &s->regs), 0);
	assert_int_equal(skvm_ioctl(v->vcpu, KVM_SET_LAPIC, &s->lapic), 0);
	if (s->msrs)
		assert_int_equal(skvm_ioctl(v->vcpu, KVM_SET_MSRS, s->msrs),
				 (int)s->msrs->nmsrs);
	assert_int_equal(skvm_ioctl(v->vcpu, KVM_SET_VCPU_EVENTS, &s->events), 0);
}

/*
 * The guest arms a TSC-deadline timer 300 ms ahead; the VMM saves the
 * vCPU at once (IA32_TSC and IA32_TSC_DEADLINE by KVM_GET_MSRS, the
 * LAPIC, registers, events), drops the VM, and restores into a fresh one
 * a while later.  The timer fires there once, when the guest's TSC has
 * reached the deadline and not absurdly later, and the MSR is then 0.
 */
static void test_deadline_save_restore(void **state)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e[2];
	} m = { .h.nmsrs = 2, .e[0].index = MSR_TSC, .e[1].index = MSR_DEADLINE };
	uint64_t delta, deadline, tsc_r, tsc_fired, t_r, t_f, want;
	struct saved *s = calloc(1, sizeof(*s));
	long khz;
	struct vm v;

	(void)state;
	assert_non_null(s);
	s->msrs = &m.h;
	vm_open(&v, true);
	khz = skvm_ioctl(v.vcpu, KVM_GET_TSC_KHZ, 0);
	vm_close(&v);
	assert_true(khz > 0);
	delta = 300 * (uint64_t)khz;		/* 300 ms */

	guest_open(&v, delta);
	assert_int_equal(vm_run_out(&v, 0x80), 1);
	assert_int_equal(vm_run_out(&v, 0x80), 2);	/* armed */
	retire(&v);
	save_close(&v, s);
	deadline = m.e[1].data;
	assert_true(deadline > m.e[0].data);
	assert_true(deadline - m.e[0].data <= delta);
	usleep(100000);		/* time that passes for neither VM */

	open_restore(&v, s);
	t_r = now_ns();
	tsc_r = vm_get_msr(&v, MSR_TSC);
	assert_true(vm_get_msr(&v, MSR_DEADLINE) == deadline);
	assert_true(tsc_r < deadline);

	assert_int_equal(vm_run_out(&v, 0x81), VEC_TIMER);
	t_f = now_ns();
	memcpy(&tsc_fired, v.mem + DATA + 8, 8);
	want = (deadline - tsc_r) * 1000000ull / (uint64_t)khz;
	print_message("  fired %.2f ms after the restore, %.2f ms due\n",
		      (double)(t_f - t_r) / MS, (double)want / MS);
	assert_true(tsc_fired >= deadline);
	assert_true(t_f - t_r >= want);
	assert_true(t_f - t_r <= want + LATE_NS);
	assert_int_equal(vm_get_msr(&v, MSR_DEADLINE), 0);
	vm_close(&v);
	free(s);
}

static struct kvm_vcpu_events get_events(struct vm *v)
{
	struct kvm_vcpu_events e;

	assert_int_equal(skvm_ioctl(v->vcpu, KVM_GET_VCPU_EVENTS, &e), 0);
	assert_true(e.flags & KVM_VCPUEVENT_VALID_NMI_PENDING);
	return e;
}

/* An NMI sent by MSI to the vCPU, stopped out of KVM_RUN. */
static void send_nmi(struct vm *v)
{
	struct kvm_msi msi = { .address_lo = 0xfee00000, .data = 4u << 8 };

	assert_int_equal(skvm_ioctl(v->vm, KVM_SIGNAL_MSI, &msi), 1);
}

/*
 * An NMI the LAPIC accepted shows as nmi.pending before the next run;
 * KVM_SET_VCPU_EVENTS with a valid nmi.pending of 0 drops it, and the
 * guest never takes it.
 */
static void test_nmi_accepted_pending(void **state)
{
	struct kvm_vcpu_events e;
	struct vm v;

	(void)state;
	guest_open(&v, 1ull << 40);
	assert_int_equal(vm_run_out(&v, 0x80), 1);
	retire(&v);
	send_nmi(&v);
	e = get_events(&v);
	assert_int_equal(e.nmi.pending, 1);
	assert_int_equal(e.nmi.injected, 0);
	assert_int_equal(get_events(&v).nmi.pending, 1);	/* reading keeps it */
	e.nmi.pending = 0;
	e.flags = KVM_VCPUEVENT_VALID_NMI_PENDING;
	assert_int_equal(skvm_ioctl(v.vcpu, KVM_SET_VCPU_EVENTS, &e), 0);
	assert_int_equal(get_events(&v).nmi.pending, 0);
	assert_int_equal(vm_run_out(&v, 0x80), 2);		/* no NMI on the way */

	/* without VALID_NMI_PENDING, SET leaves an accepted NMI pending */
	send_nmi(&v);
	e = get_events(&v);
	e.flags = 0;
	e.nmi.pending = 0;
	assert_int_equal(skvm_ioctl(v.vcpu, KVM_SET_VCPU_EVENTS, &e), 0);
	assert_int_equal(get_events(&v).nmi.pending, 1);
	assert_int_equal(vm_run_out(&v, 0x81), 0x77);
	vm_close(&v);
}

/* The accepted NMI, saved in the events, is taken in a fresh VM. */
static void test_nmi_accepted_save_restore(void **state)
{
	struct saved *s = calloc(1, sizeof(*s));
	struct vm v;

	(void)state;
	assert_non_null(s);
	guest_open(&v, 1ull << 40);
	assert_int_equal(vm_run_out(&v, 0x80), 1);
	retire(&v);
	send_nmi(&v);
	save_close(&v, s);
	assert_int_equal(s->events.nmi.pending, 1);

	open_restore(&v, s);
	assert_int_equal(vm_run_out(&v, 0x81), 0x77);
	assert_int_equal(vm_run_out(&v, 0x80), 2);
	assert_int_equal(get_events(&v).nmi.pending, 0);
	vm_close(&v);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deadline_listed),
		cmocka_unit_test(test_deadline_host_access),
		cmocka_unit_test(test_deadline_save_restore),
		cmocka_unit_test(test_nmi_accepted_pending),
		cmocka_unit_test(test_nmi_accepted_save_restore),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
