/* SPDX-License-Identifier: MIT */
/*
 * guest_vm.h - a VM with an in-kernel irqchip and up to G_MAX_CPUS vCPUs,
 * each KVM_RUN on its own thread, running the guests of guest.S through
 * skvm_open/skvm_ioctl.
 *
 * The vCPU threads serve the guests' ports: G_PORT_DONE ends a thread,
 * port 0xe0 (an exception) fails it, every other OUT is logged with a
 * CLOCK_MONOTONIC timestamp taken as KVM_RUN returns, and passed to the
 * test's hook.  Tests configure the guests through their per-CPU pages
 * and globals (guest_layout.h) and read back what the handlers counted.
 * Threads never call cmocka: a failure is recorded and checked by the
 * test thread.
 */
#ifndef SKVM_GUEST_VM_H
#define SKVM_GUEST_VM_H

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include <string.h>
#include <linux/kvm.h>
#include <cmocka.h>

#include "guest_layout.h"
#include "skvm.h"

/*
 * With SKVM_GUEST_TESTS_ON_KVM=1 in the environment the same guests run
 * on the kernel's /dev/kvm instead: a check of the tables' expectations
 * against the reference (slow here: it is an emulator).
 */
static bool gvm_on_kvm;

#define gvm_ioctl(fd, req, arg)	\
	(gvm_on_kvm ? ioctl((fd), (req), (arg)) : skvm_ioctl((fd), (req), (arg)))

/*
 * The kernel's /dev/kvm.  Not open(): this program links libskvm, whose
 * open() serves /dev/kvm itself (ioctl and mmap on the kernel's fds pass
 * through to the kernel).
 */
static inline int gvm_open_kvm(void)
{
	return (int)syscall(SYS_openat, AT_FDCWD, "/dev/kvm",
			    O_RDWR | O_CLOEXEC);
}

/* For main(): 77 (skip) when asked to use /dev/kvm and there is none. */
static inline int gvm_kvm_missing(void)
{
	const char *e = getenv("SKVM_GUEST_TESTS_ON_KVM");
	int fd;

	if (!e || strcmp(e, "1"))
		return 0;
	fd = gvm_open_kvm();
	if (fd < 0)
		return 77;
	close(fd);
	return 0;
}


extern const uint8_t guest_main_start[], guest_main_end[];
extern const uint8_t guest_tramp_start[], guest_tramp_end[];
extern const uint8_t guest_stubs[], guest_entry_idle[], guest_entry_ipi[];
extern const uint8_t guest_entry_smp[], guest_ap_count[], guest_ap_resume[];
extern const uint8_t guest_entry_speaker[];

/* The guest address of an entry point of guest_main. */
#define G_ENTRY(sym)	((uint32_t)(G_CODE + ((sym) - guest_main_start)))

struct gvm;

struct gevent {
	int cpu;
	uint16_t port;
	uint8_t val;
	uint64_t ns;
};

/* Called on a vCPU thread for each logged OUT; true stops that thread. */
typedef bool (*gvm_hook)(struct gvm *v, int cpu, uint16_t port, uint8_t val,
			 uint64_t ns);

struct gcpu {
	struct gvm *vm;
	int id, fd;
	struct kvm_run *run;
	pthread_t th;
	bool started, finished, stopped;
	char error[160];
};

#define GVM_LOG_MAX 4096

struct gvm {
	int sys, fd, n;
	uint8_t *mem;
	long run_size;
	struct gcpu cpu[G_MAX_CPUS];
	gvm_hook hook;
	void *opaque;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct gevent log[GVM_LOG_MAX];
	int nlog;
};

static inline uint64_t gvm_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline volatile uint32_t *g32(struct gvm *v, uint32_t gpa)
{
	return (volatile uint32_t *)(v->mem + gpa);
}

static inline uint8_t *gpc(struct gvm *v, int cpu)
{
	return v->mem + G_PERCPU + 0x1000 * cpu;
}

/* vCPU cpu's count of handler runs for vector vec. */
static inline uint32_t gcount(struct gvm *v, int cpu, int vec)
{
	return *(volatile uint32_t *)(gpc(v, cpu) + PC_COUNT + 4 * vec);
}

static inline void gpc_set32(struct gvm *v, int cpu, int off, uint32_t val)
{
	memcpy(gpc(v, cpu) + off, &val, 4);
}

static inline uint32_t gpc_get32(struct gvm *v, int cpu, int off)
{
	return *(volatile uint32_t *)(gpc(v, cpu) + off);
}

/* What cpu's handler does for vector vec (EOI_*). */
static inline void gvm_eoi(struct gvm *v, int cpu, int vec, uint8_t eoi)
{
	gpc(v, cpu)[PC_EOI + vec] = eoi;
}

static inline uint64_t gdt_entry(uint32_t base, uint32_t limit, uint8_t type,
				 uint8_t flags)
{
	return (uint64_t)(limit & 0xffff) | (uint64_t)(base & 0xffffff) << 16 |
	       (uint64_t)type << 40 | (uint64_t)((limit >> 16) & 0xf) << 48 |
	       (uint64_t)flags << 52 | (uint64_t)(base >> 24) << 56;
}

/* The guest images, GDT, IDT, and their pseudo-descriptors. */
static inline void gvm_load(struct gvm *v)
{
	uint64_t *gdt = (uint64_t *)(v->mem + G_GDT);
	uint64_t *idt = (uint64_t *)(v->mem + G_IDT);
	uint16_t lim;
	uint32_t base;

	memcpy(v->mem + G_CODE, guest_main_start,
	       (size_t)(guest_main_end - guest_main_start));
	memcpy(v->mem + G_TRAMP, guest_tramp_start,
	       (size_t)(guest_tramp_end - guest_tramp_start));
	gdt[0] = 0;
	gdt[1] = gdt_entry(0, 0xfffff, 0x9a, 0xc);
	gdt[2] = gdt_entry(0, 0xfffff, 0x92, 0xc);
	for (int i = 0; i < G_MAX_CPUS; i++)
		gdt[3 + i] = gdt_entry(G_PERCPU + 0x1000 * (uint32_t)i, 0xfff, 0x92, 0x4);
	for (uint32_t vec = 0; vec < 256; vec++) {
		uint32_t off = G_ENTRY(guest_stubs) + 10 * vec;

		idt[vec] = (off & 0xffff) | (uint64_t)G_SEL_CODE << 16 |
			   (uint64_t)0x8e << 40 | (uint64_t)(off >> 16) << 48;
	}
	lim = G_GDT_ENTRIES * 8 - 1;
	base = G_GDT;
	memcpy(v->mem + G_GDTR, &lim, 2);
	memcpy(v->mem + G_GDTR + 2, &base, 4);
	lim = 256 * 8 - 1;
	base = G_IDT;
	memcpy(v->mem + G_GDTR + 8, &lim, 2);
	memcpy(v->mem + G_GDTR + 10, &base, 4);
}

/* CPUID as supported, with this vCPU's initial APIC IDs. */
static inline void gvm_cpuid(struct gvm *v, int fd, uint32_t id)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 100 * sizeof(c->entries[0]));

	assert_non_null(c);
	c->nent = 100;
	assert_int_equal(gvm_ioctl(v->sys, KVM_GET_SUPPORTED_CPUID, c), 0);
	for (uint32_t i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		if (e->function == 1) {
			e->ebx = (e->ebx & 0x00ffffff) | id << 24;
			e->ecx |= 1u << 24;	/* TSC-deadline timer */
		}
		if (e->function == 0xb || e->function == 0x1f)
			e->edx = id;
	}
	assert_int_equal(gvm_ioctl(fd, KVM_SET_CPUID2, c), 0);
	free(c);
}

static inline void gvm_create(struct gvm *v, int ncpus, bool pit)
{
	struct kvm_userspace_memory_region region = { 0 };
	struct kvm_pit_config pc = { 0 };

	memset(v, 0, sizeof(*v));
	pthread_mutex_init(&v->lock, NULL);
	pthread_cond_init(&v->cond, NULL);
	v->n = ncpus;
	gvm_on_kvm = getenv("SKVM_GUEST_TESTS_ON_KVM") &&
		     !strcmp(getenv("SKVM_GUEST_TESTS_ON_KVM"), "1");
	v->sys = gvm_on_kvm ? gvm_open_kvm() : skvm_open(O_RDWR);
	assert_true(v->sys >= 0);
	v->fd = gvm_ioctl(v->sys, KVM_CREATE_VM, 0);
	assert_true(v->fd >= 0);
	v->mem = mmap(NULL, G_MEM_SIZE, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(v->mem != MAP_FAILED);
	region.memory_size = G_MEM_SIZE;
	region.userspace_addr = (uintptr_t)v->mem;
	assert_int_equal(gvm_ioctl(v->fd, KVM_SET_USER_MEMORY_REGION, &region), 0);
	assert_int_equal(gvm_ioctl(v->fd, KVM_CREATE_IRQCHIP, 0), 0);
	if (pit)
		assert_int_equal(gvm_ioctl(v->fd, KVM_CREATE_PIT2, &pc), 0);
	v->run_size = gvm_ioctl(v->sys, KVM_GET_VCPU_MMAP_SIZE, 0);
	assert_true(v->run_size > 0);
	for (int i = 0; i < ncpus; i++) {
		struct gcpu *c = &v->cpu[i];

		c->vm = v;
		c->id = i;
		c->fd = gvm_ioctl(v->fd, KVM_CREATE_VCPU, i);
		assert_true(c->fd >= 0);
		c->run = mmap(NULL, (size_t)v->run_size, PROT_READ | PROT_WRITE,
			      MAP_SHARED, c->fd, 0);
		assert_true(c->run != MAP_FAILED);
		gvm_cpuid(v, c->fd, (uint32_t)i);
	}
	gvm_load(v);
	*g32(v, G_NCPUS) = (uint32_t)ncpus;
	for (int i = 0; i < ncpus; i++) {
		gvm_eoi(v, i, G_VEC_WAKE, EOI_LAPIC);
		gpc_set32(v, i, PC_ENTRY, G_ENTRY(guest_ap_resume));
	}
}

static inline void gvm_set_mp(struct gvm *v, int cpu, uint32_t state)
{
	struct kvm_mp_state mp = { .mp_state = state };

	assert_int_equal(gvm_ioctl(v->cpu[cpu].fd, KVM_SET_MP_STATE, &mp), 0);
}

static inline uint32_t gvm_get_mp(struct gvm *v, int cpu)
{
	struct kvm_mp_state mp;

	assert_int_equal(gvm_ioctl(v->cpu[cpu].fd, KVM_GET_MP_STATE, &mp), 0);
	return mp.mp_state;
}

static inline void gvm_seg(struct kvm_segment *s, uint16_t sel, uint32_t base,
		    uint32_t limit, uint8_t type, bool code)
{
	memset(s, 0, sizeof(*s));
	s->selector = sel;
	s->base = base;
	s->limit = limit;
	s->type = type;
	s->present = 1;
	s->s = 1;
	s->db = 1;
	s->g = limit > 0xfffff;
	(void)code;
}

/* Put vCPU cpu in flat protected mode at entry, runnable. */
static inline void gvm_enter_pm(struct gvm *v, int cpu, uint32_t entry)
{
	struct kvm_sregs s;
	struct kvm_regs r = { 0 };
	int fd = v->cpu[cpu].fd;

	assert_int_equal(gvm_ioctl(fd, KVM_GET_SREGS, &s), 0);
	gvm_seg(&s.cs, G_SEL_CODE, 0, 0xffffffff, 0xb, true);
	gvm_seg(&s.ds, G_SEL_DATA, 0, 0xffffffff, 0x3, false);
	s.es = s.ds;
	s.ss = s.ds;
	s.gs = s.ds;
	gvm_seg(&s.fs, (uint16_t)G_SEL_PERCPU(cpu), G_PERCPU + 0x1000 * (uint32_t)cpu,
		0xfff, 0x3, false);
	s.gdt.base = G_GDT;
	s.gdt.limit = G_GDT_ENTRIES * 8 - 1;
	s.idt.base = G_IDT;
	s.idt.limit = 256 * 8 - 1;
	s.cr0 = 0x11;			/* PE, ET */
	assert_int_equal(gvm_ioctl(fd, KVM_SET_SREGS, &s), 0);
	r.rip = entry;
	r.rsp = G_STACKS + 0x1000 * (uint32_t)(cpu + 1);
	r.rflags = 2;
	assert_int_equal(gvm_ioctl(fd, KVM_SET_REGS, &r), 0);
	if (cpu)
		gvm_set_mp(v, cpu, KVM_MP_STATE_RUNNABLE);
}

static inline void gcpu_fail(struct gcpu *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static inline void gcpu_fail(struct gcpu *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->error, sizeof(c->error), fmt, ap);
	va_end(ap);
}

static inline void *gcpu_thread(void *arg)
{
	struct gcpu *c = arg;
	struct gvm *v = c->vm;
	bool stop = false;

	while (!stop) {
		uint64_t ns;
		uint16_t port;
		uint8_t val;

		if (gvm_ioctl(c->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR)
				continue;
			gcpu_fail(c, "KVM_RUN: %s", strerror(errno));
			break;
		}
		ns = gvm_now();
		if (c->run->exit_reason != KVM_EXIT_IO ||
		    c->run->io.direction != KVM_EXIT_IO_OUT) {
			gcpu_fail(c, "exit %u", c->run->exit_reason);
			break;
		}
		port = c->run->io.port;
		val = ((uint8_t *)c->run)[c->run->io.data_offset];
		if (port == G_PORT_DONE) {
			pthread_mutex_lock(&v->lock);
			c->finished = true;
			pthread_cond_broadcast(&v->cond);
			pthread_mutex_unlock(&v->lock);
			return NULL;
		}
		if (port == 0xe0) {
			gcpu_fail(c, "guest exception %u", val);
			break;
		}
		pthread_mutex_lock(&v->lock);
		if (v->nlog < GVM_LOG_MAX)
			v->log[v->nlog++] = (struct gevent){ c->id, port, val, ns };
		pthread_cond_broadcast(&v->cond);
		pthread_mutex_unlock(&v->lock);
		if (v->hook)
			stop = v->hook(v, c->id, port, val, ns);
	}
	if (stop) {
		/* Retire the OUT, as a VMM does before it saves the state. */
		c->run->immediate_exit = 1;
		if (gvm_ioctl(c->fd, KVM_RUN, 0) != -1 || errno != EINTR)
			gcpu_fail(c, "immediate exit did not give EINTR");
		c->run->immediate_exit = 0;
	}
	pthread_mutex_lock(&v->lock);
	c->stopped = true;
	pthread_cond_broadcast(&v->cond);
	pthread_mutex_unlock(&v->lock);
	return NULL;
}

static inline void gvm_start(struct gvm *v, int cpu)
{
	struct gcpu *c = &v->cpu[cpu];

	c->started = true;
	assert_int_equal(pthread_create(&c->th, NULL, gcpu_thread, c), 0);
}

static inline void gvm_start_all(struct gvm *v)
{
	for (int i = 0; i < v->n; i++)
		gvm_start(v, i);
}

/* Number of logged OUTs to port, from any vCPU (caller holds v->lock). */
static inline int gvm_nlogged_locked(struct gvm *v, uint16_t port)
{
	int n = 0;

	for (int i = 0; i < v->nlog; i++)
		n += v->log[i].port == port;
	return n;
}

/*
 * Wait up to timeout_ms for pred; fail the test if a vCPU failed or
 * the time runs out (the guests are then left running: the test is lost).
 */
static inline void gvm_wait_for(struct gvm *v, bool (*pred)(struct gvm *, void *), void *arg,
			 int timeout_ms, const char *what)
{
	uint64_t end = gvm_now() + (uint64_t)timeout_ms * 1000000ull;

	pthread_mutex_lock(&v->lock);
	for (;;) {
		struct timespec ts;
		bool ok = pred(v, arg);

		for (int i = 0; i < v->n; i++)
			if (v->cpu[i].error[0]) {
				pthread_mutex_unlock(&v->lock);
				fail_msg("vCPU %d: %s (waiting for %s)", i, v->cpu[i].error, what);
			}
		if (ok)
			break;
		if (gvm_now() >= end) {
			pthread_mutex_unlock(&v->lock);
			fail_msg("timed out waiting for %s (total %u, ready %u)", what,
				 *g32(v, G_TOTAL), *g32(v, G_READY));
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 2000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&v->cond, &v->lock, &ts);
	}
	pthread_mutex_unlock(&v->lock);
}

static inline bool pred_logged(struct gvm *v, void *arg)
{
	const int *want = arg;		/* {port, count} */

	return gvm_nlogged_locked(v, (uint16_t)want[0]) >= want[1];
}

static inline void gvm_wait_logged(struct gvm *v, uint16_t port, int count, int timeout_ms)
{
	int want[2] = { port, count };
	char what[48];

	snprintf(what, sizeof(what), "%d OUTs to port %#x", count, port);
	gvm_wait_for(v, pred_logged, want, timeout_ms, what);
}

static inline bool pred_total(struct gvm *v, void *arg)
{
	return *g32(v, G_TOTAL) >= *(uint32_t *)arg;
}

/* Wait until the handlers (all vectors but the wake-up) ran total times. */
static inline void gvm_wait_total(struct gvm *v, uint32_t total, int timeout_ms)
{
	gvm_wait_for(v, pred_total, &total, timeout_ms, "handler runs");
}

static inline bool pred_stopped(struct gvm *v, void *arg)
{
	(void)arg;
	for (int i = 0; i < v->n; i++)
		if (v->cpu[i].started && !v->cpu[i].finished && !v->cpu[i].stopped)
			return false;
	return true;
}

/* Join every started vCPU thread; each must have finished cleanly. */
static inline void gvm_join(struct gvm *v, int timeout_ms)
{
	gvm_wait_for(v, pred_stopped, NULL, timeout_ms, "the vCPUs to finish");
	for (int i = 0; i < v->n; i++) {
		struct gcpu *c = &v->cpu[i];

		if (!c->started)
			continue;
		pthread_join(c->th, NULL);
		c->started = false;
		if (c->error[0])
			fail_msg("vCPU %d: %s", i, c->error);
	}
}

/*
 * End the idle loops: G_DONE and a broadcast MSI with the wake-up vector,
 * then join.
 */
static inline void gvm_finish(struct gvm *v)
{
	struct kvm_msi msi = {
		.address_lo = 0xfee00000 | 0xff << 12,
		.data = G_VEC_WAKE,
	};

	__atomic_store_n(g32(v, G_DONE), 1, __ATOMIC_SEQ_CST);
	gvm_ioctl(v->fd, KVM_SIGNAL_MSI, &msi);
	gvm_join(v, 20000);
}

/*
 * A periodic source armed (or restored) at t0 fired n times, the last at
 * t_last.  Its ticks are due at t0 + k x period at the earliest (the
 * first of a restored one may be due at once), and late ticks are
 * delivered late (reinjection) or dropped, never early: so at most
 * (t_last - t0) / period + first_at_once ticks.  Not absurdly slow
 * either: the mean period is within 3x, with 1 s of slack for a host
 * that stalls the vCPU thread.  A check that holds on a loaded host.
 */
static inline void gvm_check_rate(const char *what, uint64_t t0, uint64_t t_last,
				  int n, uint64_t period, bool first_at_once)
{
	uint64_t span = t_last - t0;
	/* 0.1%: the PIT rounds the count to its 1.193182 MHz clock. */
	uint64_t most = span / (period - period / 1000) + (first_at_once ? 1 : 0);

	print_message("    mean period %.2f ms over %d\n", (double)span / 1e6 / n, n);
	if ((uint64_t)n > most)
		fail_msg("%s: %d ticks in %.3f ms, period %.3f ms", what, n,
			 (double)span / 1e6, (double)period / 1e6);
	if (span > 3 * (uint64_t)n * period + 1000000000ull)
		fail_msg("%s: %d ticks took %.3f ms, period %.3f ms", what, n,
			 (double)span / 1e6, (double)period / 1e6);
}

static inline void gvm_destroy(struct gvm *v)
{
	for (int i = 0; i < v->n; i++) {
		munmap(v->cpu[i].run, (size_t)v->run_size);
		close(v->cpu[i].fd);
	}
	close(v->fd);
	close(v->sys);
	munmap(v->mem, G_MEM_SIZE);
}

/* Set IRQ line (GSI) gsi to level; returns KVM_IRQ_LINE_STATUS's status. */
static inline int gvm_irq_line(struct gvm *v, uint32_t gsi, int level)
{
	struct kvm_irq_level l = { .irq = gsi, .level = (uint32_t)level };

	assert_int_equal(gvm_ioctl(v->fd, KVM_IRQ_LINE_STATUS, &l), 0);
	return l.status;
}

#endif
