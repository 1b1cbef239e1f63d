// SPDX-License-Identifier: MIT
/*
 * test_halt_poll.c - halt polling (virt/kvm kvm_vcpu_halt) with a guest
 * that arms its LAPIC timer and halts: halt_poll_ns grows from 0 to
 * halt_poll_ns_grow_start after a short halt, keeps growing until polls
 * catch the timer, and is reset by a halt longer than the maximum; the
 * halt statistics move in the binary stats; KVM_CAP_HALT_POLL sets the
 * maximum (0 stops polling).
 */
#include "kvm_file.h"
#include "lapic_guest.h"

/* Loop: OUT 0x81, arm a one-shot timer of [LG_DATA] ns, STI; HLT. */
GUEST_CODE(halt_guest,
	".code16\n"
	LG_X2APIC_ON
	LG_VECTOR("halt_guest", 0x40, "tick")
	"	mov $0x832, %ecx\n	mov $0x40, %eax\n	wrmsr\n"	/* LVTT */
	"	mov $0x83e, %ecx\n	mov $0xb, %eax\n	wrmsr\n"	/* TDCR /1 */
	"1:	outb %al, $0x81\n"
	"	cli\n"
	"	mov $0x838, %ecx\n	mov 0x9000, %eax\n	wrmsr\n"	/* TMICT */
	"	sti\n	hlt\n"
	"	jmp 1b\n"
	"tick:\n"
	LG_EOI
	"	iret\n");

struct stat_ref {
	int fd;
	struct kvm_stats_header hdr;
	char *descs;
	size_t desc_size;
};

static void stats_open(struct stat_ref *s, int vcpu)
{
	s->fd = skvm_ioctl(vcpu, KVM_GET_STATS_FD, 0);
	assert_true(s->fd >= 0);
	assert_int_equal(pread(s->fd, &s->hdr, sizeof(s->hdr), 0), sizeof(s->hdr));
	s->desc_size = sizeof(struct kvm_stats_desc) + s->hdr.name_size;
	s->descs = calloc(s->hdr.num_desc, s->desc_size);
	assert_non_null(s->descs);
	assert_int_equal(pread(s->fd, s->descs, s->hdr.num_desc * s->desc_size,
			       s->hdr.desc_offset),
			 (ssize_t)(s->hdr.num_desc * s->desc_size));
}

/* The sum of a statistic's values (a histogram's buckets, or the counter). */
static uint64_t stat_sum(struct stat_ref *s, const char *name)
{
	for (uint32_t i = 0; i < s->hdr.num_desc; i++) {
		struct kvm_stats_desc *d = (void *)(s->descs + i * s->desc_size);
		uint64_t v[64], sum = 0;

		if (strcmp(d->name, name))
			continue;
		assert_true(d->size <= 64);
		assert_int_equal(pread(s->fd, v, d->size * 8, s->hdr.data_offset + d->offset),
				 (ssize_t)(d->size * 8));
		for (int k = 0; k < d->size; k++)
			sum += v[k];
		return sum;
	}
	fail_msg("no statistic %s", name);
	return 0;
}

static void stats_close(struct stat_ref *s)
{
	free(s->descs);
	close(s->fd);
}

/* One turn of the loop: from one OUT 0x81 to the next. */
static void halt_for(struct lg_vm *v, uint32_t ns)
{
	lg_set_word(v, LG_DATA, ns);
	assert_int_equal(lg_run_to_out(v, 0), 0x81);
}

/*
 * One real halt of about ns nanoseconds: on a loaded host the vCPU thread
 * may lose the CPU between arming the timer and HLT, and then finds the
 * interrupt pending and does not halt at all; such turns are repeated.
 */
static void halt_once(struct lg_vm *v, struct stat_ref *s, uint32_t ns)
{
	uint64_t halts = stat_sum(s, "halt_exits");

	for (int i = 0; i < 20 && stat_sum(s, "halt_exits") == halts; i++)
		halt_for(v, ns);
	assert_int_equal(stat_sum(s, "halt_exits"), halts + 1);
}

static void set_max(struct lg_vm *v, uint64_t ns, int want)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_HALT_POLL, .args = { ns } };

	assert_int_equal(skvm_ioctl(v->vm, KVM_ENABLE_CAP, &cap), want ? -1 : 0);
	if (want)
		assert_int_equal(errno, want);
}

static void test_halt_poll(void **state)
{
	struct kvm_enable_cap bad = { .cap = KVM_CAP_HALT_POLL, .flags = 1 };
	struct kvm_file *f;
	struct kvm_vcpu *vcpu;
	struct stat_ref s;
	uint64_t attempted, fail_ns;
	struct lg_vm v;

	lg_open(&v, LG_IRQCHIP, 0);
	assert_int_equal(skvm_ioctl(v.vm, KVM_CHECK_EXTENSION, KVM_CAP_HALT_POLL), 1);
	assert_int_equal(skvm_ioctl(v.sys, KVM_CHECK_EXTENSION, KVM_CAP_HALT_POLL), 1);
	assert_int_equal(skvm_ioctl(v.vm, KVM_ENABLE_CAP, &bad), -1);
	assert_int_equal(errno, EINVAL);
	set_max(&v, 1ULL << 32, EINVAL);
	lg_load(&v, 0x1000, halt_guest_start, halt_guest_end);
	lg_add_vcpu(&v, 0, 0x1000, 0x8000);
	f = kvm_file_get(v.vcpu[0]);
	vcpu = f->obj;
	stats_open(&s, v.vcpu[0]);
	assert_int_equal(lg_run_to_out(&v, 0), 0x81);

	/* 20 ms is above the default maximum (200 us): nothing to grow. */
	halt_once(&v, &s, 20000000);
	assert_int_equal(vcpu->halt_poll_ns, 0);
	assert_int_equal(stat_sum(&s, "halt_attempted_poll"), 0);
	assert_true(stat_sum(&s, "halt_wait_ns") >= 1000000);
	assert_int_equal(stat_sum(&s, "halt_wait_hist"), 1);
	assert_true(stat_sum(&s, "halt_wakeup") >= 1);

	/* Under a 50 ms maximum a 2 ms halt is short: start polling. */
	set_max(&v, 50000000, 0);
	halt_once(&v, &s, 2000000);
	assert_int_equal(vcpu->halt_poll_ns, 10000);

	/*
	 * Short halts: polls fail and the poll time doubles until one
	 * succeeds.  A poll that finds the wake already there (the thread
	 * lost the CPU before HLT, on a loaded host) succeeds in 0 ns, as
	 * KVM's: go on until one has polled for some time.
	 */
	for (int i = 0; i < 200 && !stat_sum(&s, "halt_poll_success_ns"); i++)
		halt_for(&v, 20000);
	assert_true(stat_sum(&s, "halt_successful_poll") >= 1);
	attempted = stat_sum(&s, "halt_attempted_poll");
	assert_true(attempted >= 1);
	assert_true(vcpu->halt_poll_ns >= 10000);
	assert_true(stat_sum(&s, "halt_poll_success_ns") > 0);
	assert_int_equal(stat_sum(&s, "halt_poll_success_hist"),
			 stat_sum(&s, "halt_successful_poll"));
	assert_int_equal(stat_sum(&s, "halt_poll_fail_hist"),
			 attempted - stat_sum(&s, "halt_successful_poll"));
	assert_int_equal(stat_sum(&s, "halt_poll_invalid"), 0);	/* x86 */
	assert_int_equal(stat_sum(&s, "blocking"), 0);

	/* 100 ms is longer than the maximum: the poll fails, shrink to 0. */
	fail_ns = stat_sum(&s, "halt_poll_fail_ns");
	halt_once(&v, &s, 100000000);
	assert_int_equal(vcpu->halt_poll_ns, 0);
	assert_int_equal(stat_sum(&s, "halt_attempted_poll"), attempted + 1);
	assert_true(stat_sum(&s, "halt_poll_fail_ns") > fail_ns);

	/* A maximum of 0 turns polling off. */
	set_max(&v, 0, 0);
	halt_for(&v, 2000000);
	halt_for(&v, 20000);
	assert_int_equal(vcpu->halt_poll_ns, 0);
	assert_int_equal(stat_sum(&s, "halt_attempted_poll"), attempted + 1);

	stats_close(&s);
	kvm_file_put(f);
	lg_close(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_halt_poll),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
