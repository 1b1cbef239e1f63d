// SPDX-License-Identifier: MIT
/*
 * test_smp.c - SMP bring-up by a guest: the BSP sends INIT, INIT
 * de-assert, SIPI, SIPI to each AP through its xAPIC ICR; each AP starts
 * in real mode in the SIPI page, enters protected mode, and all of them
 * add to one counter with LOCK-prefixed instructions.  The count must be
 * exact.  KVM_GET/SET_MP_STATE are checked before, in the middle
 * (after the INITs, before the SIPIs) and after.
 */
#include "guest_vm.h"

struct smp_row {
	const char *what;
	int ncpus;
	uint32_t iters;
	bool x2apic_aps;	/* APs switch to x2APIC mode after the trampoline */
};

static const struct smp_row smp_rows[] = {
	{ "2 vCPUs", 2, 100000, false },
	{ "4 vCPUs", 4, 100000, false },
	{ "4 vCPUs, APs in x2APIC mode", 4, 20000, true },
};

/* Mark 1 (INITs sent): the APs wait for SIPI; check, then start their threads. */
static bool smp_hook(struct gvm *v, int cpu, uint16_t port, uint8_t val, uint64_t ns)
{
	struct kvm_mp_state mp;

	(void)ns;
	if (cpu != 0 || port != G_PORT_MARK || val != 1)
		return false;
	for (int i = 1; i < v->n; i++) {
		if (gvm_ioctl(v->cpu[i].fd, KVM_GET_MP_STATE, &mp) ||
		    mp.mp_state != KVM_MP_STATE_INIT_RECEIVED)
			gcpu_fail(&v->cpu[0], "AP %d: mp_state %u after INIT", i,
				  mp.mp_state);
		v->cpu[i].started = true;
		if (pthread_create(&v->cpu[i].th, NULL, gcpu_thread, &v->cpu[i]))
			gcpu_fail(&v->cpu[0], "pthread_create");
	}
	return false;
}

static void smp_run(const struct smp_row *row)
{
	struct gvm v;
	uint64_t want;

	gvm_create(&v, row->ncpus, false);
	*g32(&v, G_ITERS) = row->iters;
	for (int i = 1; i < row->ncpus; i++) {
		gpc_set32(&v, i, PC_ENTRY, G_ENTRY(guest_ap_count));
		if (row->x2apic_aps)
			gpc_set32(&v, i, PC_FLAGS, CPU_X2APIC);
		assert_int_equal(gvm_get_mp(&v, i), KVM_MP_STATE_UNINITIALIZED);
	}
	assert_int_equal(gvm_get_mp(&v, 0), KVM_MP_STATE_RUNNABLE);
	/* SET_MP_STATE round trip on an AP that has not run. */
	gvm_set_mp(&v, 1, KVM_MP_STATE_INIT_RECEIVED);
	assert_int_equal(gvm_get_mp(&v, 1), KVM_MP_STATE_INIT_RECEIVED);
	gvm_set_mp(&v, 1, KVM_MP_STATE_UNINITIALIZED);
	assert_int_equal(gvm_get_mp(&v, 1), KVM_MP_STATE_UNINITIALIZED);

	gvm_enter_pm(&v, 0, G_ENTRY(guest_entry_smp));
	v.hook = smp_hook;
	gvm_start(&v, 0);
	gvm_join(&v, 120000);

	want = (uint64_t)row->ncpus * row->iters * 10;
	assert_int_equal(*g32(&v, G_COUNTER), want);
	for (int i = 0; i < row->ncpus; i++) {
		assert_int_equal(gpc_get32(&v, i, PC_WORK), row->iters);
		assert_int_equal(gvm_get_mp(&v, i), KVM_MP_STATE_RUNNABLE);
		if (!i)
			continue;
		/* Started once (the second SIPI is ignored), in PM, with its own ID. */
		assert_int_equal(gpc_get32(&v, i, PC_SIPIS), 1);
		assert_int_equal(gpc_get32(&v, i, PC_ID), i);
		assert_int_equal(gpc_get32(&v, i, PC_CR0) & 1, 1);
	}
	gvm_destroy(&v);
}

static void test_smp(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(smp_rows) / sizeof(smp_rows[0]); i++) {
		print_message("  %s\n", smp_rows[i].what);
		smp_run(&smp_rows[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_smp),
	};

	if (gvm_kvm_missing())
		return 77;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
