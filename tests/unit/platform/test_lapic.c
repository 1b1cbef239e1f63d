// SPDX-License-Identifier: MIT
/*
 * test_lapic.c - four local APICs on one APIC bus: IPI delivery modes and
 * destination matching (a table of ICR writes and who receives them),
 * acceptance and priority, EOI broadcast, the timer in its three modes
 * (generous bounds only), x2APIC MSR rules and KVM_GET/SET_LAPIC.
 */
#include <time.h>
#include <unistd.h>

#include "platform_test.h"
#include "lapic.h"

#define NR 4
#define BASE 0xfee00000ULL
#define X2APIC_ENABLED (0xfee00000ULL | (1 << 11) | (1 << 10))
#define XAPIC_ENABLED (0xfee00000ULL | (1 << 11))

static struct kvm_timer_base *timers;
static struct kvm_apic_bus bus;
static struct kvm_lapic *apic[NR];
static atomic_int kicks[NR];
static int eois[256];

static void fake_kick(void *opaque)
{
	atomic_fetch_add(&kicks[(intptr_t)opaque], 1);
}

static atomic_bool slow_tsc;

/*
 * A guest TSC that runs at 1 GHz in step with CLOCK_MONOTONIC.  With
 * slow_tsc, each read takes 5 ms first, as if the host ran something else.
 */
static uint64_t fake_tsc(void *opaque)
{
	if (atomic_load(&slow_tsc))
		usleep(5000);
	return kvm_clock_ns();
}

static uint64_t fake_khz(void *opaque)
{
	return 1000000;
}

/* Counts level-triggered EOIs, the ones that reach Remote IRR. */
static void fake_eoi(void *opaque, struct kvm_lapic *src, int vector, bool level)
{
	if (level)
		eois[vector]++;
}

static const struct kvm_lapic_ops lapic_ops = {
	.kick = fake_kick, .read_tsc = fake_tsc, .tsc_khz = fake_khz,
};
static const struct kvm_apic_bus_ops bus_ops = { .eoi = fake_eoi };

/* apic[0]'s page is reached through the MMIO bus, the others directly. */
static void apic_w(int i, unsigned int off, uint32_t val)
{
	if (i == 0)
		mmio_write32(BASE + off, val);
	else
		assert_int_equal(kvm_lapic_mmio_write(apic[i], BASE + off, 4, &val), 0);
}

static uint32_t apic_r(int i, unsigned int off)
{
	uint32_t v = 0;

	if (i == 0)
		return mmio_read32(BASE + off);
	assert_int_equal(kvm_lapic_mmio_read(apic[i], BASE + off, 4, &v), 0);
	return v;
}

/* Any register, in either mode, through the KVM_GET_LAPIC page. */
static uint32_t reg(int i, unsigned int off)
{
	struct kvm_lapic_state s;
	uint32_t v;

	kvm_lapic_get_state(apic[i], &s);
	memcpy(&v, s.regs + off, 4);
	return v;
}

static bool vec_in(int i, unsigned int base, int v)
{
	return (reg(i, base + (unsigned int)(v >> 5) * 0x10) >> (v & 31)) & 1;
}

static int setup(void **state)
{
	test_bus_init();
	timers = kvm_timer_base_create();
	assert_non_null(timers);
	kvm_apic_bus_init(&bus, timers, &bus_ops, NULL);
	for (int i = 0; i < NR; i++) {
		apic[i] = kvm_lapic_create(&bus, (uint32_t)i, &lapic_ops,
					   (void *)(intptr_t)i);
		assert_non_null(apic[i]);
		/* as after KVM_SET_CPUID2 with 1.ECX[24] */
		kvm_lapic_set_tsc_deadline_mode(apic[i], true);
		atomic_store(&kicks[i], 0);
	}
	memset(eois, 0, sizeof(eois));
	pthread_mutex_lock(&test_kvm.slots_lock);
	assert_int_equal(kvm_io_bus_register_dev(&test_kvm, KVM_MMIO_BUS, BASE,
						 KVM_APIC_MMIO_SIZE, &apic[0]->dev), 0);
	pthread_mutex_unlock(&test_kvm.slots_lock);
	return 0;
}

static int teardown(void **state)
{
	test_bus_fini();
	for (int i = 0; i < NR; i++)
		kvm_lapic_destroy(apic[i]);
	kvm_apic_bus_fini(&bus);
	kvm_timer_base_destroy(timers);
	return 0;
}

static void enable_all(bool x2apic)
{
	for (int i = 0; i < NR; i++) {
		if (x2apic) {
			kvm_lapic_set_base(apic[i], X2APIC_ENABLED);
			assert_int_equal(kvm_lapic_msr_write(apic[i], 0x80f, 0x1ff), 0);
		} else {
			apic_w(i, APIC_SPIV, 0x1ff);
		}
	}
}

/* --- Destination matching and delivery modes ---------------------------- */

struct ipi_case {
	const char *name;
	bool x2apic;
	bool cluster;			/* xAPIC DFR cluster model */
	uint32_t ldr[NR];		/* xAPIC logical ids (bits 31:24) */
	uint32_t tpr[NR];
	uint32_t icr_lo, dest;		/* sent by apic 0 */
	unsigned int want;		/* bitmask of receivers */
	unsigned int event;		/* 0: IRR bit of the vector; else KVM_APIC_EV_* */
};

#define FIXED(v)	(v)
#define LOGICAL		(1u << 11)
#define LOWEST(v)	((v) | (1u << 8))
#define NMI		(4u << 8)
#define INIT		((5u << 8) | (1u << 14))
#define INIT_DEASSERT	((5u << 8) | (1u << 15))
#define SIPI(v)		((v) | (6u << 8))
#define SELF		(1u << 18)
#define ALLINC		(2u << 18)
#define ALLBUT		(3u << 18)
#define FLAT_LDR	{ 0x01000000, 0x02000000, 0x04000000, 0x08000000 }

static const struct ipi_case ipi_cases[] = {
	{ "physical, one target", .icr_lo = FIXED(0x40), .dest = 2, .want = 0x4 },
	{ "physical, to itself", .icr_lo = FIXED(0x40), .dest = 0, .want = 0x1 },
	{ "physical broadcast 0xff", .icr_lo = FIXED(0x41), .dest = 0xff, .want = 0xf },
	{ "physical, nobody has the id", .icr_lo = FIXED(0x42), .dest = 9, .want = 0 },
	{ "shorthand self", .icr_lo = FIXED(0x43) | SELF, .dest = 3, .want = 0x1 },
	{ "shorthand all including self", .icr_lo = FIXED(0x44) | ALLINC, .want = 0xf },
	{ "shorthand all excluding self", .icr_lo = FIXED(0x45) | ALLBUT, .want = 0xe },
	{ "logical flat", .ldr = FLAT_LDR, .icr_lo = FIXED(0x46) | LOGICAL,
	  .dest = 0x06, .want = 0x6 },
	{ "logical flat broadcast", .ldr = FLAT_LDR,
	  .icr_lo = FIXED(0x47) | LOGICAL, .dest = 0xff, .want = 0xf },
	{ "logical cluster", .cluster = true,
	  .ldr = { 0x11000000, 0x12000000, 0x21000000, 0x22000000 },
	  .icr_lo = FIXED(0x48) | LOGICAL, .dest = 0x13, .want = 0x3 },
	{ "logical cluster, other cluster", .cluster = true,
	  .ldr = { 0x11000000, 0x12000000, 0x21000000, 0x22000000 },
	  .icr_lo = FIXED(0x49) | LOGICAL, .dest = 0x22, .want = 0x8 },
	{ "lowest priority picks the lowest TPR", .ldr = FLAT_LDR,
	  .tpr = { 0, 0x20, 0x10, 0x30 }, .icr_lo = LOWEST(0x4a) | LOGICAL,
	  .dest = 0x0e, .want = 0x4 },
	{ "lowest priority, physical", .icr_lo = LOWEST(0x4b), .dest = 3,
	  .want = 0x8 },
	{ "NMI", .icr_lo = NMI, .dest = 3, .want = 0x8, .event = KVM_APIC_EV_NMI },
	{ "INIT to all but self", .icr_lo = INIT | ALLBUT, .want = 0xe,
	  .event = KVM_APIC_EV_INIT },
	{ "INIT level de-assert does nothing", .icr_lo = INIT_DEASSERT | ALLINC,
	  .want = 0, .event = KVM_APIC_EV_INIT },
	{ "SIPI", .icr_lo = SIPI(0x9a), .dest = 1, .want = 0x2,
	  .event = KVM_APIC_EV_SIPI },
	{ "illegal vector is not sent", .icr_lo = FIXED(0x05), .dest = 0xff,
	  .want = 0 },
	{ "x2APIC physical", .x2apic = true, .icr_lo = FIXED(0x50), .dest = 3,
	  .want = 0x8 },
	{ "x2APIC physical broadcast", .x2apic = true, .icr_lo = FIXED(0x51),
	  .dest = 0xffffffff, .want = 0xf },
	{ "x2APIC 0xff is an id, not a broadcast", .x2apic = true,
	  .icr_lo = FIXED(0x52), .dest = 0xff, .want = 0 },
	{ "x2APIC logical cluster", .x2apic = true, .icr_lo = FIXED(0x53) | LOGICAL,
	  .dest = 0x0000000a, .want = 0xa },
	{ "x2APIC logical, wrong cluster", .x2apic = true,
	  .icr_lo = FIXED(0x54) | LOGICAL, .dest = 0x0001000f, .want = 0 },
	{ "x2APIC all but self", .x2apic = true, .icr_lo = FIXED(0x55) | ALLBUT,
	  .want = 0xe },
};

static void run_ipi_case(void **state)
{
	const struct ipi_case *c = *state;
	unsigned int got = 0;
	int vector = c->icr_lo & 0xff;

	setup(NULL);
	enable_all(c->x2apic);
	for (int i = 0; i < NR; i++) {
		if (!c->x2apic) {
			apic_w(i, APIC_LDR, c->ldr[i]);
			apic_w(i, APIC_DFR, c->cluster ? 0x0fffffff : 0xffffffff);
			apic_w(i, APIC_TASKPRI, c->tpr[i]);
		} else {
			kvm_lapic_msr_write(apic[i], 0x808, c->tpr[i]);
		}
	}
	if (c->x2apic) {
		assert_int_equal(kvm_lapic_msr_write(apic[0], 0x830,
			((uint64_t)c->dest << 32) | c->icr_lo), 0);
	} else {
		apic_w(0, APIC_ICR2, c->dest << 24);
		apic_w(0, APIC_ICR, c->icr_lo);
		assert_int_equal(apic_r(0, APIC_ICR), c->icr_lo);
	}
	for (int i = 0; i < NR; i++) {
		uint8_t sipi = 0;
		unsigned int ev = kvm_lapic_take_events(apic[i], &sipi);

		if (c->event ? (ev & c->event) : vec_in(i, APIC_IRR, vector))
			got |= 1u << i;
		if (c->event == KVM_APIC_EV_SIPI && (ev & c->event))
			assert_int_equal(sipi, vector);
		if ((1u << i) & c->want)
			assert_true(atomic_load(&kicks[i]) > 0);
	}
	assert_int_equal(got, c->want);
	if (vector && vector < 16 && !c->event) {
		apic_w(0, APIC_ESR, 0);
		assert_int_equal(apic_r(0, APIC_ESR), APIC_ESR_SEND_ILLEGAL);
	}
	teardown(NULL);
}

/* Lowest priority spreads equal-priority targets. */
static void test_lowest_priority_spreads(void **state)
{
	unsigned int hit = 0;

	setup(NULL);
	enable_all(false);
	for (int n = 0; n < 16; n++) {
		struct kvm_lapic_irq irq = { .vector = 0x60, .delivery_mode = APIC_DM_LOWEST,
					     .dest_id = 0xff, .level = true };

		assert_int_equal(kvm_apic_bus_deliver(&bus, NULL, &irq), 1);
		for (int i = 0; i < NR; i++)
			if (kvm_lapic_pending_irq(apic[i], true) == 0x60) {
				hit |= 1u << i;
				apic_w(i, APIC_EOI, 0);
			}
	}
	assert_true(__builtin_popcount(hit) >= 2);
	teardown(NULL);
}

/* --- Acceptance and priority ------------------------------------------------ */

static void send_self(int i, int vector, bool level)
{
	struct kvm_lapic_irq irq = { .vector = (uint8_t)vector, .dest_id = (uint32_t)i,
				     .trig_level = level, .level = true };

	assert_int_equal(kvm_apic_bus_deliver(&bus, NULL, &irq), 1);
}

static void test_priority(void **state)
{
	setup(NULL);
	enable_all(false);
	send_self(0, 0x31, false);
	send_self(0, 0x52, false);
	send_self(0, 0x51, false);
	assert_int_equal(kvm_lapic_pending_irq(apic[0], false), 0x52);
	assert_int_equal(kvm_lapic_pending_irq(apic[0], true), 0x52);
	assert_int_equal(apic_r(0, APIC_PROCPRI), 0x50);
	assert_true(vec_in(0, APIC_ISR, 0x52));
	/* 0x51 is in the class being serviced: held. */
	assert_int_equal(kvm_lapic_pending_irq(apic[0], false), -1);
	apic_w(0, APIC_EOI, 0);
	assert_int_equal(apic_r(0, APIC_PROCPRI), 0x00);
	/* TPR 0x50 blocks class 5 and below. */
	apic_w(0, APIC_TASKPRI, 0x50);
	assert_int_equal(apic_r(0, APIC_PROCPRI), 0x50);
	assert_int_equal(kvm_lapic_pending_irq(apic[0], false), -1);
	kvm_lapic_set_cr8(apic[0], 4);
	assert_int_equal(apic_r(0, APIC_TASKPRI), 0x40);
	assert_int_equal(kvm_lapic_get_cr8(apic[0]), 4);
	assert_int_equal(kvm_lapic_pending_irq(apic[0], true), 0x51);
	/* Nested: a higher class interrupts the one in service. */
	apic_w(0, APIC_TASKPRI, 0);
	send_self(0, 0x90, false);
	assert_int_equal(kvm_lapic_pending_irq(apic[0], true), 0x90);
	assert_int_equal(apic_r(0, APIC_ISR + 0x40), 1u << 16);
	apic_w(0, APIC_EOI, 0);
	assert_false(vec_in(0, APIC_ISR, 0x90));
	assert_true(vec_in(0, APIC_ISR, 0x51));
	apic_w(0, APIC_EOI, 0);
	assert_int_equal(kvm_lapic_pending_irq(apic[0], true), 0x31);
	apic_w(0, APIC_EOI, 0);
	assert_int_equal(kvm_lapic_pending_irq(apic[0], false), -1);
	assert_int_equal(eois[0x31] + eois[0x51] + eois[0x52], 0);
	teardown(NULL);
}

/* Level-triggered vectors set TMR; their EOI goes to the IOAPIC. */
static void test_eoi_broadcast(void **state)
{
	setup(NULL);
	enable_all(false);
	send_self(1, 0x70, true);
	assert_true(vec_in(1, APIC_TMR, 0x70));
	assert_int_equal(kvm_lapic_pending_irq(apic[1], true), 0x70);
	apic_w(1, APIC_EOI, 0);
	assert_int_equal(eois[0x70], 1);
	send_self(1, 0x71, false);
	assert_false(vec_in(1, APIC_TMR, 0x71));
	assert_int_equal(kvm_lapic_pending_irq(apic[1], true), 0x71);
	apic_w(1, APIC_EOI, 0);
	assert_int_equal(eois[0x71], 0);
	teardown(NULL);
}

/* Software-disabled: fixed messages dropped, NMI/INIT taken, LVTs stay masked. */
static void test_software_disable(void **state)
{
	struct kvm_lapic_irq nmi = { .delivery_mode = APIC_DM_NMI, .dest_id = 2 };

	setup(NULL);
	assert_int_equal(apic_r(2, APIC_SPIV), 0xff);
	apic_w(2, APIC_LVT0, 0x700);
	assert_int_equal(apic_r(2, APIC_LVT0), 0x10700);
	struct kvm_lapic_irq irq = { .vector = 0x40, .dest_id = 2, .level = true };
	assert_int_equal(kvm_apic_bus_deliver(&bus, NULL, &irq), -1);
	assert_int_equal(kvm_apic_bus_deliver(&bus, NULL, &nmi), 1);
	assert_int_equal(kvm_lapic_take_events(apic[2], NULL), KVM_APIC_EV_NMI);
	apic_w(2, APIC_SPIV, 0x1ff);
	apic_w(2, APIC_LVT0, 0x700);
	assert_int_equal(apic_r(2, APIC_LVT0), 0x700);
	assert_true(kvm_lapic_accept_pic_intr(apic[2]));
	apic_w(2, APIC_SPIV, 0xff);
	assert_int_equal(apic_r(2, APIC_LVT0), 0x10700);
	assert_false(kvm_lapic_accept_pic_intr(apic[2]));
	teardown(NULL);
}

/* --- Registers ---------------------------------------------------------------- */

struct reg_case {
	unsigned int off;
	uint32_t write, read;
};

static const struct reg_case reg_cases[] = {
	{ APIC_ID, 0x05ffffff, 0x05000000 },
	{ APIC_LVR, 0xffffffff, 0x00050014 },
	{ APIC_TASKPRI, 0xffffffff, 0xff },
	{ APIC_LDR, 0xffffffff, 0xff000000 },
	{ APIC_DFR, 0x00000000, 0x0fffffff },
	{ APIC_SPIV, 0xffffffff, 0x1ff },
	{ APIC_ICR2, 0xffffffff, 0xff000000 },
	{ APIC_LVTT, 0xffffffff, 0x000300ff & ~0x20000u },	/* mode 3 reserved */
	{ APIC_LVTT, 0x000200ef, 0x000200ef },
	{ APIC_LVTTHMR, 0xffffffff, 0x000107ff },
	{ APIC_LVTPC, 0xffffffff, 0x000107ff },
	{ APIC_LVT0, 0xffffffff, 0x0001a7ff },
	{ APIC_LVT1, 0xffffffff, 0x0001a7ff },
	{ APIC_LVTERR, 0xffffffff, 0x000100ff },
	{ APIC_TDCR, 0xffffffff, 0x0b },
	{ APIC_PROCPRI, 0, 0xff },		/* read-only: follows TPR 0xff */
	{ APIC_ISR, 0xffffffff, 0 },
	{ APIC_IRR + 0x70, 0xffffffff, 0 },
	{ APIC_EOI, 0, 0 },
	{ 0x3c0, 0xffffffff, 0 },		/* reserved */
};

static void test_registers(void **state)
{
	setup(NULL);
	apic_w(1, APIC_SPIV, 0x1ff);
	for (size_t k = 0; k < sizeof(reg_cases) / sizeof(reg_cases[0]); k++) {
		const struct reg_case *c = &reg_cases[k];

		apic_w(1, c->off, c->write);
		if (apic_r(1, c->off) != c->read)
			fail_msg("offset %#x: wrote %#x, read %#x, want %#x",
				 c->off, c->write, apic_r(1, c->off), c->read);
		if (c->off == APIC_SPIV)
			continue;
		apic_w(1, APIC_SPIV, 0x1ff);
	}
	/* Bytes 4..15 of a slot read 0; unaligned stores are dropped. */
	assert_int_equal(test_in(KVM_MMIO_BUS, BASE + APIC_LVR + 4, 4), 0);
	test_out(KVM_MMIO_BUS, BASE + APIC_TASKPRI + 1, 1, 0x30);
	assert_int_equal(apic_r(0, APIC_TASKPRI), 0);
	/* ESR: a write latches the errors collected since the last one. */
	apic_w(0, APIC_SPIV, 0x1ff);
	apic_w(0, APIC_ICR, 0x4000 | 0x03);
	assert_int_equal(apic_r(0, APIC_ESR), 0);
	apic_w(0, APIC_ESR, 0);
	assert_int_equal(apic_r(0, APIC_ESR), APIC_ESR_SEND_ILLEGAL);
	apic_w(0, APIC_ESR, 0);
	assert_int_equal(apic_r(0, APIC_ESR), 0);
	teardown(NULL);
}

struct msr_case {
	uint32_t msr;
	bool write;
	uint64_t val;
	int r;
	uint64_t read;			/* for reads that succeed */
};

static const struct msr_case msr_cases[] = {
	{ 0x802, false, 0, 0, 2 },			/* 32-bit id */
	{ 0x802, true, 5, -1 },				/* read-only */
	{ 0x803, false, 0, 0, 0x50014 },
	{ 0x80d, false, 0, 0, 0x00000004 },		/* cluster 0, bit 2 */
	{ 0x80d, true, 0, -1 },
	{ 0x80e, false, 0, -1 },			/* no DFR */
	{ 0x80b, false, 0, -1 },			/* EOI write-only */
	{ 0x80b, true, 1, -1 },				/* EOI must be 0 */
	{ 0x80b, true, 0, 0 },
	{ 0x831, false, 0, -1 },			/* no ICR2 */
	{ 0x831, true, 0, -1 },
	{ 0x83f, false, 0, -1 },			/* SELF IPI write-only */
	{ 0x808, true, 0x1ff, 0 },
	{ 0x808, false, 0, 0, 0xff },
	{ 0x808, true, 1ULL << 32, -1 },		/* reserved high half */
	{ 0x809, false, 0, -1 },			/* no APR */
	{ 0x830, true, (3ULL << 32) | 0x4000 | NMI, 0 },
	{ 0x830, false, 0, 0, (3ULL << 32) | 0x4000 | NMI },
	{ 0x8ff, true, 0, -1 },
	{ 0x83e, true, 0x3, 0 },
	{ 0x83e, false, 0, 0, 0x3 },
};

static void test_x2apic_msrs(void **state)
{
	uint64_t v;
	uint32_t id = 0;

	setup(NULL);
	/* Not in x2APIC mode: #GP; the MMIO page is ours. */
	assert_int_equal(kvm_lapic_msr_read(apic[2], 0x802, &v), -1);
	kvm_lapic_set_base(apic[2], X2APIC_ENABLED);
	for (size_t k = 0; k < sizeof(msr_cases) / sizeof(msr_cases[0]); k++) {
		const struct msr_case *c = &msr_cases[k];
		int r;

		v = 0;
		if (c->write)
			r = kvm_lapic_msr_write(apic[2], c->msr, c->val);
		else
			r = kvm_lapic_msr_read(apic[2], c->msr, &v);
		if (r != c->r || (!c->write && !r && v != c->read))
			fail_msg("msr %#x %s: r=%d v=%#llx", c->msr,
				 c->write ? "write" : "read", r,
				 (unsigned long long)v);
	}
	assert_int_equal(kvm_lapic_take_events(apic[3], NULL), KVM_APIC_EV_NMI);
	/* x2APIC mode: the xAPIC page is not decoded any more. */
	assert_int_equal(kvm_lapic_mmio_read(apic[2], BASE + APIC_ID, 4, &id),
			 -EOPNOTSUPP);
	/* SELF IPI */
	kvm_lapic_msr_write(apic[2], 0x80f, 0x1ff);
	kvm_lapic_msr_write(apic[2], 0x808, 0);
	assert_int_equal(kvm_lapic_msr_write(apic[2], 0x83f, 0x66), 0);
	assert_int_equal(kvm_lapic_pending_irq(apic[2], false), 0x66);
	teardown(NULL);
}

/* --- Timer ----------------------------------------------------------------------- */

/* A stalled host, not a slow timer: no load makes an expiry this late. */
#define WAIT_LIMIT_NS	20000000000ULL

/*
 * Waits for vector in IRR; returns the ns from since (taken before the
 * timer was armed, so an expiry can be checked not to come early), or
 * UINT64_MAX when it did not come within WAIT_LIMIT_NS.
 */
static uint64_t wait_irr(int i, int vector, uint64_t since)
{
	uint64_t start = kvm_clock_ns();

	while (kvm_clock_ns() - start < WAIT_LIMIT_NS) {
		if (vec_in(i, APIC_IRR, vector))
			return kvm_clock_ns() - since;
		usleep(200);
	}
	return UINT64_MAX;
}

static void test_timer_oneshot(void **state)
{
	uint32_t cur;
	uint64_t t, t0;

	setup(NULL);
	enable_all(false);
	apic_w(1, APIC_TDCR, 0x0b);		/* divide by 1 */
	apic_w(1, APIC_LVTT, 0xd0);
	t0 = kvm_clock_ns();
	apic_w(1, APIC_TMICT, 30000000);	/* 30 ms at 1 GHz */
	cur = apic_r(1, APIC_TMCCT);
	assert_true(cur <= 30000000);
	assert_true(cur > 0 || kvm_clock_ns() - t0 >= 30000000);
	t = wait_irr(1, 0xd0, t0);
	assert_true(t >= 30000000 && t != UINT64_MAX);
	assert_int_equal(apic_r(1, APIC_TMCCT), 0);
	/* One-shot: once. */
	assert_int_equal(kvm_lapic_pending_irq(apic[1], true), 0xd0);
	apic_w(1, APIC_EOI, 0);
	usleep(60000);
	assert_false(vec_in(1, APIC_IRR, 0xd0));
	/* Divide by 16 stretches the count. */
	apic_w(1, APIC_TDCR, 0x03);
	t0 = kvm_clock_ns();
	apic_w(1, APIC_TMICT, 1000000);		/* 16 ms */
	assert_true(apic_r(1, APIC_TMCCT) <= 1000000);
	t = wait_irr(1, 0xd0, t0);
	assert_true(t >= 16000000 && t != UINT64_MAX);
	/* Writing 0 stops it; masked timers count but raise nothing. */
	apic_w(1, APIC_TMICT, 1000000);
	apic_w(1, APIC_TMICT, 0);
	apic_w(2, APIC_LVTT, 0x100d1);
	apic_w(2, APIC_TDCR, 0x0b);
	apic_w(2, APIC_TMICT, 1000000);
	usleep(60000);
	assert_false(vec_in(2, APIC_IRR, 0xd1));
	teardown(NULL);
}

/*
 * Periodic: expiries keep coming, and the n-th comes n periods after
 * TMICT was written or later (a loaded host is late, never early).  No
 * fixed window: the test waits for 20 expiries, however long they take.
 */
static void test_timer_periodic(void **state)
{
	uint64_t t0, t;
	int n;

	setup(NULL);
	enable_all(false);
	apic_w(3, APIC_TDCR, 0x0b);
	apic_w(3, APIC_LVTT, 0x200d2);
	atomic_store(&kicks[3], 0);
	t0 = kvm_clock_ns();
	apic_w(3, APIC_TMICT, 10000000);		/* 10 ms */
	while ((n = atomic_load(&kicks[3])) < 20 &&
	       kvm_clock_ns() - t0 < WAIT_LIMIT_NS)
		usleep(1000);
	t = kvm_clock_ns() - t0;
	assert_true(n >= 20);
	assert_true((uint64_t)n * 10000000 <= t);
	assert_true(apic_r(3, APIC_TMCCT) <= 10000000);
	apic_w(3, APIC_LVTT, 0x100d2);			/* one-shot, masked */
	apic_w(3, APIC_TMICT, 0);
	teardown(NULL);
}

/*
 * Without the guest's CPUID bit the LVTT mode field is one bit wide, as
 * in KVM: TSC-deadline (2) reads back one-shot, reserved 3 periodic.
 */
static void test_timer_mode_gated_by_cpuid(void **state)
{
	setup(NULL);
	enable_all(false);
	kvm_lapic_set_tsc_deadline_mode(apic[0], false);
	apic_w(0, APIC_LVTT, 0x400d3);
	assert_int_equal(apic_r(0, APIC_LVTT), 0xd3);
	apic_w(0, APIC_LVTT, 0x600d3);
	assert_int_equal(apic_r(0, APIC_LVTT), 0x200d3);
	kvm_lapic_set_tsc_deadline_mode(apic[0], true);
	apic_w(0, APIC_LVTT, 0x400d3);
	assert_int_equal(apic_r(0, APIC_LVTT), 0x400d3);
	teardown(NULL);
}

static void test_timer_tsc_deadline(void **state)
{
	uint64_t t, t0, v = 1;

	setup(NULL);
	enable_all(false);
	apic_w(0, APIC_LVTT, 0x400d3);
	apic_w(0, APIC_TMICT, 1000);			/* ignored in this mode */
	assert_int_equal(apic_r(0, APIC_TMICT), 0);
	/* Never before the deadline, however slowly the TSC is read. */
	atomic_store(&slow_tsc, true);
	t0 = kvm_clock_ns();
	assert_int_equal(kvm_lapic_msr_write(apic[0], KVM_MSR_TSC_DEADLINE,
					     t0 + 20000000), 0);
	atomic_store(&slow_tsc, false);
	t = wait_irr(0, 0xd3, t0);
	assert_true(t >= 20000000 && t != UINT64_MAX);
	assert_int_equal(kvm_lapic_msr_read(apic[0], KVM_MSR_TSC_DEADLINE, &v), 0);
	assert_int_equal(v, 0);				/* cleared on expiry */
	/* A deadline in the past fires at once; leaving the mode disarms. */
	kvm_lapic_pending_irq(apic[0], true);
	apic_w(0, APIC_EOI, 0);
	kvm_lapic_msr_write(apic[0], KVM_MSR_TSC_DEADLINE, 1);
	assert_true(wait_irr(0, 0xd3, kvm_clock_ns()) != UINT64_MAX);
	kvm_lapic_pending_irq(apic[0], true);
	apic_w(0, APIC_EOI, 0);
	kvm_lapic_msr_write(apic[0], KVM_MSR_TSC_DEADLINE, fake_tsc(NULL) + 20000000);
	apic_w(0, APIC_LVTT, 0xd3);
	usleep(60000);
	assert_false(vec_in(0, APIC_IRR, 0xd3));
	teardown(NULL);
}

/* --- Save/restore ------------------------------------------------------------------ */

static void test_save_restore(void **state)
{
	struct kvm_lapic_state s;
	uint32_t id;
	uint64_t t;

	setup(NULL);
	enable_all(false);
	send_self(1, 0x61, true);
	send_self(1, 0x42, false);
	assert_int_equal(kvm_lapic_pending_irq(apic[1], true), 0x61);
	apic_w(1, APIC_TASKPRI, 0x20);
	apic_w(1, APIC_LDR, 0x04000000);
	apic_w(1, APIC_TDCR, 0x0b);
	apic_w(1, APIC_LVTT, 0x200e0);
	apic_w(1, APIC_TMICT, 20000000);
	kvm_lapic_get_state(apic[1], &s);
	kvm_lapic_destroy(apic[1]);
	apic[1] = kvm_lapic_create(&bus, 1, &lapic_ops, (void *)1);
	kvm_lapic_set_tsc_deadline_mode(apic[1], true);
	assert_int_equal(kvm_lapic_set_state(apic[1], &s), 0);
	assert_int_equal(apic_r(1, APIC_PROCPRI), 0x60);
	assert_int_equal(apic_r(1, APIC_LDR), 0x04000000);
	assert_true(vec_in(1, APIC_ISR, 0x61) && vec_in(1, APIC_TMR, 0x61));
	assert_int_equal(kvm_lapic_pending_irq(apic[1], false), -1);
	apic_w(1, APIC_EOI, 0);
	assert_int_equal(eois[0x61], 1);
	assert_int_equal(kvm_lapic_pending_irq(apic[1], true), 0x42);
	apic_w(1, APIC_EOI, 0);
	t = wait_irr(1, 0xe0, kvm_clock_ns());		/* the timer runs on */
	assert_true(t != UINT64_MAX);
	/* x2APIC ids: shifted unless KVM_X2APIC_API_USE_32BIT_IDS. */
	kvm_lapic_set_base(apic[3], X2APIC_ENABLED);
	kvm_lapic_get_state(apic[3], &s);
	memcpy(&id, s.regs + APIC_ID, 4);
	assert_int_equal(id, 3u << 24);
	assert_int_equal(kvm_lapic_set_state(apic[3], &s), 0);
	bus.x2apic_format = true;
	kvm_lapic_get_state(apic[3], &s);
	memcpy(&id, s.regs + APIC_ID, 4);
	assert_int_equal(id, 3);
	memcpy(s.regs + APIC_ID, &(uint32_t){ 7 }, 4);
	assert_int_equal(kvm_lapic_set_state(apic[3], &s), -EINVAL);
	teardown(NULL);
}

/* INIT keeps the ID; power-on reset restores the defaults. */
static void test_reset(void **state)
{
	setup(NULL);
	apic_w(1, APIC_ID, 0x09000000);
	apic_w(1, APIC_SPIV, 0x1ff);
	apic_w(1, APIC_LVT1, 0x400);
	kvm_lapic_reset(apic[1], true);
	assert_int_equal(apic_r(1, APIC_ID), 0x09000000);
	assert_int_equal(apic_r(1, APIC_SPIV), 0xff);
	assert_int_equal(apic_r(1, APIC_LVT1), 0x10000);
	assert_int_equal(apic_r(1, APIC_DFR), 0xffffffff);
	kvm_lapic_reset(apic[1], false);
	assert_int_equal(apic_r(1, APIC_ID), 0x01000000);
	assert_int_equal(kvm_lapic_get_base(apic[1]), XAPIC_ENABLED);
	teardown(NULL);
}

/*
 * The run loop takes an INIT, a SIPI comes in, then the INIT resets the
 * LAPIC: the SIPI and its vector survive (a lost vector started the AP
 * at 0000:0000).
 */
static void test_sipi_during_init(void **state)
{
	struct kvm_lapic_irq init = { .delivery_mode = APIC_DM_INIT, .level = true,
				      .dest_id = 1 };
	struct kvm_lapic_irq sipi = { .delivery_mode = APIC_DM_STARTUP, .vector = 0x9a,
				      .level = true, .dest_id = 1 };
	uint8_t vec = 0;

	setup(NULL);
	assert_int_equal(kvm_apic_bus_deliver(&bus, NULL, &init), 1);
	assert_int_equal(kvm_lapic_take_events(apic[1], &vec), KVM_APIC_EV_INIT);
	assert_int_equal(kvm_apic_bus_deliver(&bus, NULL, &sipi), 1);
	kvm_lapic_reset(apic[1], true);
	assert_int_equal(kvm_lapic_take_events(apic[1], &vec), KVM_APIC_EV_SIPI);
	assert_int_equal(vec, 0x9a);
	teardown(NULL);
}

int main(void)
{
	struct CMUnitTest tests[64];
	size_t n = 0;

	for (size_t i = 0; i < sizeof(ipi_cases) / sizeof(ipi_cases[0]); i++)
		tests[n++] = (struct CMUnitTest){
			.name = ipi_cases[i].name, .test_func = run_ipi_case,
			.initial_state = (void *)&ipi_cases[i],
		};
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_lowest_priority_spreads);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_priority);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_eoi_broadcast);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_timer_mode_gated_by_cpuid);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_software_disable);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_registers);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_x2apic_msrs);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_timer_oneshot);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_timer_periodic);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_timer_tsc_deadline);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_save_restore);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_reset);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_sipi_during_init);
	return _cmocka_run_group_tests("lapic", tests, n, NULL, NULL);
}
