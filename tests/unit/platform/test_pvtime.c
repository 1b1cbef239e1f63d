// SPDX-License-Identifier: MIT
/*
 * test_pvtime.c - kvmclock, KVM_GET/SET_CLOCK and steal time through the
 * KVM ABI (skvm_open/skvm_ioctl), with real-mode guests that register
 * their pages by WRMSR and then loop on OUT 0x80.  The pages are checked
 * from the host side: their contents, that the value a guest computes
 * from its page lies between two KVM_GET_CLOCKs, agreement between vCPUs,
 * KVM_SET_CLOCK, dirty logging of the page (bitmap and ring), steal time
 * growing while the vCPU thread is starved, and the PV CPUID gate.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>
#include <cmocka.h>

#include <asm/kvm_para.h>
#include <linux/kvm.h>

#include "skvm.h"

#define MEM_SIZE 0x10000
#define CODE 0x1000
#define PVTI 0x2000		/* vCPU n's pvclock page at PVTI + 64 * n */
#define WALL 0x2800
#define STEAL 0x3000
#define MAX_VCPUS 2
#define NSEC_PER_SEC 1000000000ULL

/* The ABI layouts of msr.rst, written out here independently. */
struct pvti {
	uint32_t version, pad0;
	uint64_t tsc_timestamp, system_time;
	uint32_t mul;
	int8_t shift;
	uint8_t flags, pad[2];
} __attribute__((packed));

struct wall {
	uint32_t version, sec, nsec;
} __attribute__((packed));

struct vm {
	int sys, vm, vcpu[MAX_VCPUS];
	struct kvm_run *run[MAX_VCPUS];
	uint8_t *mem;
	int nvcpus;
};

static long run_size;

/* mov ecx, msr; mov eax, lo; xor edx, edx; wrmsr */
static size_t emit_wrmsr(uint8_t *p, uint32_t msr, uint32_t lo)
{
	p[0] = 0x66;
	p[1] = 0xb9;
	memcpy(p + 2, &msr, 4);
	p[6] = 0x66;
	p[7] = 0xb8;
	memcpy(p + 8, &lo, 4);
	memcpy(p + 12, "\x66\x31\xd2\x0f\x30", 5);
	return 17;
}

/* The code of vCPU n at CODE + 0x100 * n: its WRMSRs, then OUT 0x80 forever. */
static void guest_code(struct vm *v, int n, const uint32_t (*msrs)[2], int count)
{
	uint8_t *p = v->mem + CODE + 0x100 * n;

	for (int i = 0; i < count; i++)
		p += emit_wrmsr(p, msrs[i][0], msrs[i][1]);
	memcpy(p, "\xe6\x80\xeb\xfc", 4);	/* out 0x80, al; jmp $-2 */
}

static int enable_cap(int fd, uint32_t cap, uint64_t arg)
{
	struct kvm_enable_cap c = { .cap = cap, .args[0] = arg };

	return skvm_ioctl(fd, KVM_ENABLE_CAP, &c) ? -errno : 0;
}

static void set_supported_cpuid(int vcpu, bool pv)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 256 * sizeof(c->entries[0]));
	int sys = skvm_open(O_RDWR);

	c->nent = 256;
	assert_int_equal(skvm_ioctl(sys, KVM_GET_SUPPORTED_CPUID, c), 0);
	close(sys);
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == KVM_CPUID_FEATURES && !pv)
			c->entries[i].eax = 0;
	assert_int_equal(skvm_ioctl(vcpu, KVM_SET_CPUID2, c), 0);
	free(c);
}

/* A VM with one slot of MEM_SIZE (flags), nvcpus vCPUs in real mode at CODE. */
static void vm_open(struct vm *v, int nvcpus, uint32_t slot_flags, uint32_t ring)
{
	struct kvm_userspace_memory_region region = { 0 };

	memset(v, 0, sizeof(*v));
	v->sys = skvm_open(O_RDWR);
	assert_true(v->sys >= 0);
	v->vm = skvm_ioctl(v->sys, KVM_CREATE_VM, 0);
	assert_true(v->vm >= 0);
	if (ring)
		assert_int_equal(enable_cap(v->vm, KVM_CAP_DIRTY_LOG_RING, ring), 0);
	v->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(v->mem != MAP_FAILED);
	region.memory_size = MEM_SIZE;
	region.userspace_addr = (uintptr_t)v->mem;
	region.flags = slot_flags;
	assert_int_equal(skvm_ioctl(v->vm, KVM_SET_USER_MEMORY_REGION, &region), 0);
	run_size = skvm_ioctl(v->sys, KVM_GET_VCPU_MMAP_SIZE, 0);
	v->nvcpus = nvcpus;
	for (int n = 0; n < nvcpus; n++) {
		struct kvm_sregs sregs;
		struct kvm_regs regs = { .rip = CODE + 0x100 * n, .rflags = 2 };

		v->vcpu[n] = skvm_ioctl(v->vm, KVM_CREATE_VCPU, n);
		assert_true(v->vcpu[n] >= 0);
		v->run[n] = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE,
				 MAP_SHARED, v->vcpu[n], 0);
		assert_true(v->run[n] != MAP_FAILED);
		assert_int_equal(skvm_ioctl(v->vcpu[n], KVM_GET_SREGS, &sregs), 0);
		sregs.cs.base = 0;
		sregs.cs.selector = 0;
		assert_int_equal(skvm_ioctl(v->vcpu[n], KVM_SET_SREGS, &sregs), 0);
		assert_int_equal(skvm_ioctl(v->vcpu[n], KVM_SET_REGS, &regs), 0);
		set_supported_cpuid(v->vcpu[n], true);
	}
}

static void vm_close(struct vm *v)
{
	for (int n = 0; n < v->nvcpus; n++) {
		munmap(v->run[n], (size_t)run_size);
		close(v->vcpu[n]);
	}
	close(v->vm);
	close(v->sys);
	munmap(v->mem, MEM_SIZE);
}

/* Run vCPU n to its next OUT 0x80. */
static void run_to_out(struct vm *v, int n)
{
	assert_int_equal(skvm_ioctl(v->vcpu[n], KVM_RUN, 0), 0);
	assert_int_equal(v->run[n]->exit_reason, KVM_EXIT_IO);
	assert_int_equal(v->run[n]->io.port, 0x80);
}

static struct pvti *page(struct vm *v, int n)
{
	return (struct pvti *)(v->mem + PVTI + 64 * n);
}

static struct kvm_clock_data get_clock(struct vm *v)
{
	struct kvm_clock_data d;

	assert_int_equal(skvm_ioctl(v->vm, KVM_GET_CLOCK, &d), 0);
	return d;
}

static int64_t tsc_offset(struct vm *v, int n)
{
	int64_t off;
	struct kvm_device_attr a = { .group = KVM_VCPU_TSC_CTRL,
		.attr = KVM_VCPU_TSC_OFFSET, .addr = (uintptr_t)&off };

	assert_int_equal(skvm_ioctl(v->vcpu[n], KVM_GET_DEVICE_ATTR, &a), 0);
	return off;
}

/* The reader of msr.rst, on a consistent copy of the page. */
static uint64_t pvclock_at(const struct pvti *p, uint64_t tsc)
{
	struct pvti c;
	uint32_t ver;
	uint64_t d;

	do {
		ver = __atomic_load_n(&p->version, __ATOMIC_ACQUIRE);
		memcpy(&c, (const void *)p, sizeof(c));
	} while ((ver & 1) || ver != __atomic_load_n(&p->version, __ATOMIC_ACQUIRE));
	d = tsc - c.tsc_timestamp;
	d = c.shift < 0 ? d >> -c.shift : d << c.shift;
	return c.system_time + (uint64_t)(((unsigned __int128)d * c.mul) >> 32);
}

/* What vCPU n's guest reads now, bracketed by two KVM_GET_CLOCKs. */
static void assert_guest_clock_between(struct vm *v, int n)
{
	int64_t off = tsc_offset(v, n);
	struct kvm_clock_data before = get_clock(v);
	uint64_t t = __rdtsc() + (uint64_t)off;
	struct kvm_clock_data after = get_clock(v);
	uint64_t val = pvclock_at(page(v, n), t);

	if (val < before.clock || val > after.clock)
		fail_msg("vCPU %d reads %llu, outside [%llu, %llu]", n,
			 (unsigned long long)val, (unsigned long long)before.clock,
			 (unsigned long long)after.clock);
}

static void register_clock(struct vm *v, int n)
{
	const uint32_t msrs[][2] = {
		{ MSR_KVM_SYSTEM_TIME_NEW, PVTI + 64 * n + KVM_MSR_ENABLED },
	};

	guest_code(v, n, msrs, 1);
	run_to_out(v, n);
}

struct msrs1 {
	struct kvm_msrs h;
	struct kvm_msr_entry e;
};

static int set_msr(int vcpu, uint32_t index, uint64_t data)
{
	struct msrs1 m = { .h.nmsrs = 1, .e = { .index = index, .data = data } };

	return skvm_ioctl(vcpu, KVM_SET_MSRS, &m);
}

static uint64_t get_msr(int vcpu, uint32_t index)
{
	struct msrs1 m = { .h.nmsrs = 1, .e = { .index = index } };

	assert_int_equal(skvm_ioctl(vcpu, KVM_GET_MSRS, &m), 1);
	return m.e.data;
}

/* --- kvmclock -------------------------------------------------------------- */

static void test_kvmclock_page(void **state)
{
	struct vm v;
	struct pvti *p;
	struct wall *w;
	struct timespec now;
	long khz;
	uint64_t ns_per_sec, kvmclock, wall_ns;

	vm_open(&v, 1, 0, 0);
	register_clock(&v, 0);
	p = page(&v, 0);
	/* complete (even), written at least once, stable master clock */
	assert_int_equal(p->version & 1, 0);
	assert_true(p->version >= 2);
	assert_int_equal(p->flags, 1);			/* PVCLOCK_TSC_STABLE_BIT */
	assert_int_equal(get_msr(v.vcpu[0], MSR_KVM_SYSTEM_TIME_NEW),
			 PVTI + KVM_MSR_ENABLED);
	/* the scale turns one second of TSC ticks into 10^9 ns (±0.01%) */
	khz = skvm_ioctl(v.vcpu[0], KVM_GET_TSC_KHZ, 0);
	assert_true(khz > 0);
	{
		struct pvti one = *p;

		one.tsc_timestamp = 0;
		one.system_time = 0;
		ns_per_sec = pvclock_at(&one, (uint64_t)khz * 1000);
	}
	assert_true(ns_per_sec > NSEC_PER_SEC - 100000 &&
		    ns_per_sec < NSEC_PER_SEC + 100000);
	/* a young VM: kvmclock started at 0 a moment ago */
	assert_true(p->system_time < 10 * NSEC_PER_SEC);
	assert_int_equal(get_clock(&v).flags,
			 KVM_CLOCK_TSC_STABLE | KVM_CLOCK_REALTIME | KVM_CLOCK_HOST_TSC);
	assert_guest_clock_between(&v, 0);
	run_to_out(&v, 0);
	assert_guest_clock_between(&v, 0);

	/* the wall clock: real time at kvmclock 0, version even */
	assert_int_equal(set_msr(v.vcpu[0], MSR_KVM_WALL_CLOCK_NEW, WALL), 1);
	assert_int_equal(get_msr(v.vcpu[0], MSR_KVM_WALL_CLOCK_NEW), WALL);
	w = (struct wall *)(v.mem + WALL);
	assert_int_equal(w->version & 1, 0);
	assert_true(w->version >= 2);
	assert_true(w->nsec < NSEC_PER_SEC);
	kvmclock = get_clock(&v).clock;
	clock_gettime(CLOCK_REALTIME, &now);
	wall_ns = (uint64_t)w->sec * NSEC_PER_SEC + w->nsec + kvmclock;
	assert_true(llabs((long long)(wall_ns - ((uint64_t)now.tv_sec * NSEC_PER_SEC +
						 (uint64_t)now.tv_nsec))) < 100000000LL);

	/* disabling stops the updates */
	assert_int_equal(set_msr(v.vcpu[0], MSR_KVM_SYSTEM_TIME_NEW, PVTI), 1);
	{
		uint32_t ver = p->version;
		struct kvm_clock_data d = { .clock = 5 * NSEC_PER_SEC };

		assert_int_equal(skvm_ioctl(v.vm, KVM_SET_CLOCK, &d), 0);
		run_to_out(&v, 0);
		assert_int_equal(p->version, ver);
	}
	vm_close(&v);
}

/* Two vCPUs: one clock while their TSCs match, none when they do not. */
static void test_kvmclock_vcpus(void **state)
{
	struct vm v;
	uint64_t prev = 0;
	int64_t off0;
	struct kvm_device_attr a = { .group = KVM_VCPU_TSC_CTRL,
		.attr = KVM_VCPU_TSC_OFFSET, .addr = (uintptr_t)&off0 };

	vm_open(&v, 2, 0, 0);
	register_clock(&v, 0);
	register_clock(&v, 1);
	assert_int_equal(page(&v, 0)->tsc_timestamp, page(&v, 1)->tsc_timestamp);
	assert_int_equal(page(&v, 0)->system_time, page(&v, 1)->system_time);
	assert_int_equal(page(&v, 0)->flags & page(&v, 1)->flags, 1);
	/* reading the two alternately never goes back */
	for (int i = 0; i < 10000; i++) {
		uint64_t t = __rdtsc() + (uint64_t)tsc_offset(&v, i & 1);
		uint64_t c = pvclock_at(page(&v, i & 1), t);

		assert_true(c >= prev);
		prev = c;
	}

	/* a VMM resetting each TSC to 0 keeps them in sync (KVM's rule) */
	assert_int_equal(set_msr(v.vcpu[0], 0x10 /* IA32_TSC */, 0), 1);
	usleep(1000);
	assert_int_equal(set_msr(v.vcpu[1], 0x10, 0), 1);
	assert_int_equal(tsc_offset(&v, 0), tsc_offset(&v, 1));
	run_to_out(&v, 0);
	run_to_out(&v, 1);
	assert_int_equal(page(&v, 0)->flags & page(&v, 1)->flags, 1);

	/* vCPU 1's TSC moves far: no master clock, no stable bit, flags 0 */
	assert_int_equal(set_msr(v.vcpu[1], 0x10, 1ULL << 42), 1);
	run_to_out(&v, 0);
	run_to_out(&v, 1);
	assert_int_equal(page(&v, 0)->flags, 0);
	assert_int_equal(page(&v, 1)->flags, 0);
	assert_int_equal(get_clock(&v).flags, 0);
	/* each page follows its own TSC: the two agree within a millisecond */
	{
		uint64_t c0 = pvclock_at(page(&v, 0), __rdtsc() + (uint64_t)tsc_offset(&v, 0));
		uint64_t c1 = pvclock_at(page(&v, 1), __rdtsc() + (uint64_t)tsc_offset(&v, 1));

		assert_true(llabs((long long)(c1 - c0)) < 1000000);
		assert_guest_clock_between(&v, 0);
	}

	/* the same offset again: the master clock comes back */
	off0 = tsc_offset(&v, 0);
	assert_int_equal(skvm_ioctl(v.vcpu[1], KVM_SET_DEVICE_ATTR, &a), 0);
	run_to_out(&v, 0);
	run_to_out(&v, 1);
	assert_int_equal(page(&v, 0)->flags & page(&v, 1)->flags, 1);
	assert_int_equal(page(&v, 0)->tsc_timestamp, page(&v, 1)->tsc_timestamp);
	assert_int_equal(get_clock(&v).flags & KVM_CLOCK_TSC_STABLE,
			 KVM_CLOCK_TSC_STABLE);
	assert_guest_clock_between(&v, 1);
	vm_close(&v);
}

static void test_set_clock(void **state)
{
	struct vm v;
	struct kvm_clock_data d = { .clock = 1000 * NSEC_PER_SEC };
	struct timespec now;

	vm_open(&v, 1, 0, 0);
	assert_int_equal(skvm_ioctl(v.sys, KVM_CHECK_EXTENSION, KVM_CAP_ADJUST_CLOCK),
			 KVM_CLOCK_TSC_STABLE | KVM_CLOCK_REALTIME | KVM_CLOCK_HOST_TSC);
	register_clock(&v, 0);
	assert_true(page(&v, 0)->system_time < 10 * NSEC_PER_SEC);
	assert_int_equal(skvm_ioctl(v.vm, KVM_SET_CLOCK, &d), 0);
	assert_true(get_clock(&v).clock >= 1000 * NSEC_PER_SEC);
	run_to_out(&v, 0);
	assert_true(page(&v, 0)->system_time >= 1000 * NSEC_PER_SEC);
	assert_true(page(&v, 0)->system_time < 1010 * NSEC_PER_SEC);
	assert_guest_clock_between(&v, 0);

	/* KVM_CLOCK_REALTIME: the real time since data.realtime is added */
	clock_gettime(CLOCK_REALTIME, &now);
	d.clock = 0;
	d.flags = KVM_CLOCK_REALTIME;
	d.realtime = (uint64_t)now.tv_sec * NSEC_PER_SEC + (uint64_t)now.tv_nsec -
		     50 * NSEC_PER_SEC;
	assert_int_equal(skvm_ioctl(v.vm, KVM_SET_CLOCK, &d), 0);
	assert_true(get_clock(&v).clock >= 50 * NSEC_PER_SEC);
	assert_true(get_clock(&v).clock < 60 * NSEC_PER_SEC);
	run_to_out(&v, 0);
	assert_guest_clock_between(&v, 0);
	/* ... but never backwards */
	d.realtime += 100 * NSEC_PER_SEC;
	assert_int_equal(skvm_ioctl(v.vm, KVM_SET_CLOCK, &d), 0);
	assert_true(get_clock(&v).clock < NSEC_PER_SEC);

	/* KVM's errno: unknown flags, bad pointers */
	d.flags = 1;
	assert_int_equal(skvm_ioctl(v.vm, KVM_SET_CLOCK, &d), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(skvm_ioctl(v.vm, KVM_SET_CLOCK, (void *)8), -1);
	assert_int_equal(errno, EFAULT);
	assert_int_equal(skvm_ioctl(v.vm, KVM_GET_CLOCK, (void *)8), -1);
	assert_int_equal(errno, EFAULT);
	vm_close(&v);
}

/* KVM_KVMCLOCK_CTRL: PVCLOCK_GUEST_STOPPED at the next update. */
static void test_kvmclock_ctrl(void **state)
{
	struct vm v;

	vm_open(&v, 1, 0, 0);
	assert_int_equal(skvm_ioctl(v.sys, KVM_CHECK_EXTENSION, KVM_CAP_KVMCLOCK_CTRL), 1);
	assert_int_equal(skvm_ioctl(v.vcpu[0], KVM_KVMCLOCK_CTRL, 0), -1);
	assert_int_equal(errno, EINVAL);
	register_clock(&v, 0);
	assert_int_equal(skvm_ioctl(v.vcpu[0], KVM_KVMCLOCK_CTRL, 0), 0);
	run_to_out(&v, 0);
	assert_int_equal(page(&v, 0)->flags, 1 | 2);
	/* the guest clears it; it stays cleared */
	page(&v, 0)->flags &= ~2;
	assert_int_equal(skvm_ioctl(v.vm, KVM_SET_CLOCK, &(struct kvm_clock_data){ 0 }), 0);
	run_to_out(&v, 0);
	assert_int_equal(page(&v, 0)->flags, 1);
	vm_close(&v);
}

/* The page skvm writes is logged like a guest write: bitmap ... */
static void test_kvmclock_dirty_bitmap(void **state)
{
	struct vm v;
	uint64_t bitmap[MEM_SIZE / 4096 / 64 + 1];
	struct kvm_dirty_log log = { .slot = 0, .dirty_bitmap = bitmap };

	vm_open(&v, 1, KVM_MEM_LOG_DIRTY_PAGES, 0);
	assert_int_equal(skvm_ioctl(v.vm, KVM_GET_DIRTY_LOG, &log), 0);
	register_clock(&v, 0);
	assert_int_equal(skvm_ioctl(v.vm, KVM_GET_DIRTY_LOG, &log), 0);
	assert_true(bitmap[0] & (1u << (PVTI >> 12)));
	/* nothing changed: no update, nothing logged */
	run_to_out(&v, 0);
	assert_int_equal(skvm_ioctl(v.vm, KVM_GET_DIRTY_LOG, &log), 0);
	assert_false(bitmap[0] & (1u << (PVTI >> 12)));
	/* KVM_SET_CLOCK makes the vCPU write it again */
	assert_int_equal(skvm_ioctl(v.vm, KVM_SET_CLOCK, &(struct kvm_clock_data){ 0 }), 0);
	run_to_out(&v, 0);
	assert_int_equal(skvm_ioctl(v.vm, KVM_GET_DIRTY_LOG, &log), 0);
	assert_true(bitmap[0] & (1u << (PVTI >> 12)));
	vm_close(&v);
}

/* ... and the vCPU's dirty ring. */
static void test_kvmclock_dirty_ring(void **state)
{
	const size_t ring_bytes = 4096;
	struct kvm_dirty_gfn *ring;
	struct vm v;
	bool found = false;

	vm_open(&v, 1, KVM_MEM_LOG_DIRTY_PAGES, ring_bytes);
	ring = mmap(NULL, ring_bytes, PROT_READ | PROT_WRITE, MAP_SHARED,
		    v.vcpu[0], KVM_DIRTY_LOG_PAGE_OFFSET * 4096);
	assert_true(ring != MAP_FAILED);
	register_clock(&v, 0);
	for (size_t i = 0; i < ring_bytes / sizeof(*ring); i++)
		if (ring[i].flags == KVM_DIRTY_GFN_F_DIRTY && ring[i].slot == 0 &&
		    ring[i].offset == PVTI >> 12)
			found = true;
	assert_true(found);
	munmap(ring, ring_bytes);
	vm_close(&v);
}

/* --- Steal time --------------------------------------------------------- */

static atomic_bool spin_stop;

static void *spin(void *arg)
{
	cpu_set_t *set = arg;

	sched_setaffinity(0, sizeof(*set), set);
	while (!atomic_load(&spin_stop))
		;
	return NULL;
}

struct steal {
	uint64_t steal;
	uint32_t version, flags;
	uint8_t preempted, pad[3];
	uint32_t pad2[11];
};

static uint64_t my_run_delay(void)
{
	char buf[96];
	int fd = open("/proc/thread-self/schedstat", O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	char *p;

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	strtoull(buf, &p, 10);
	return strtoull(p, NULL, 10);
}

static void test_steal_time(void **state)
{
	const uint32_t msrs[][2] = {
		{ MSR_KVM_STEAL_TIME, STEAL + KVM_MSR_ENABLED },
	};
	struct steal *st;
	struct vm v;
	pthread_t t[2];
	cpu_set_t one, saved;
	uint64_t steal0, delay0, delay, before0;
	uint32_t ver0;

	vm_open(&v, 1, 0, 0);
	if (!skvm_ioctl(v.sys, KVM_CHECK_EXTENSION, KVM_CAP_STEAL_TIME)) {
		vm_close(&v);
		skip();
	}
	/* reserved bits 1-5: refused, as by KVM */
	assert_int_equal(set_msr(v.vcpu[0], MSR_KVM_STEAL_TIME, STEAL | 2 | 1), 0);
	guest_code(&v, 0, msrs, 1);
	/*
	 * steal0 is taken at some point of this run: what the thread waits
	 * between then and delay0 below (a loaded host) counts as steal but
	 * not in delay, so the upper bound starts from here.
	 */
	before0 = my_run_delay();
	run_to_out(&v, 0);
	st = (struct steal *)(v.mem + STEAL);
	assert_int_equal(get_msr(v.vcpu[0], MSR_KVM_STEAL_TIME), STEAL + 1);
	assert_int_equal(st->version & 1, 0);
	assert_true(st->version >= 2);
	assert_int_equal(st->flags, 0);
	assert_int_equal(st->preempted, 0);
	steal0 = st->steal;
	ver0 = st->version;

	/* starve this (the vCPU) thread: two spinners on its CPU */
	sched_getaffinity(0, sizeof(saved), &saved);
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu(), &one);
	sched_setaffinity(0, sizeof(one), &one);
	delay0 = my_run_delay();
	atomic_store(&spin_stop, false);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, spin, &one), 0);
	/* KVM_RUNs for up to 5 s, until the thread waited 20 ms in all */
	for (time_t end = time(NULL) + 5;
	     my_run_delay() - delay0 < 20000000 && time(NULL) < end;)
		run_to_out(&v, 0);
	delay = my_run_delay() - delay0;
	atomic_store(&spin_stop, true);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	sched_setaffinity(0, sizeof(saved), &saved);
	run_to_out(&v, 0);

	/* what the thread waited shows as steal, and no more than it waited */
	assert_true(delay >= 20000000);
	assert_true(st->steal - steal0 >= delay / 2);
	assert_true(st->steal - steal0 <= my_run_delay() - before0 + 5000000);
	assert_true(st->version > ver0);
	assert_int_equal(st->version & 1, 0);
	assert_int_equal(st->preempted, 0);

	/* disabled: no more updates */
	assert_int_equal(set_msr(v.vcpu[0], MSR_KVM_STEAL_TIME, STEAL), 1);
	ver0 = st->version;
	run_to_out(&v, 0);
	assert_int_equal(st->version, ver0);
	vm_close(&v);
}

/* --- KVM_CAP_ENFORCE_PV_FEATURE_CPUID -------------------------------------- */

static void test_pv_cpuid_enforced(void **state)
{
	static const uint32_t msrs[] = {
		MSR_KVM_WALL_CLOCK, MSR_KVM_SYSTEM_TIME,
		MSR_KVM_WALL_CLOCK_NEW, MSR_KVM_SYSTEM_TIME_NEW, MSR_KVM_STEAL_TIME,
	};
	struct vm v;

	vm_open(&v, 1, 0, 0);
	assert_int_equal(enable_cap(v.vcpu[0], KVM_CAP_ENFORCE_PV_FEATURE_CPUID, 1), 0);
	/* with the features in CPUID 0x40000001 the MSRs work ... */
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(set_msr(v.vcpu[0], msrs[i], 0), 1);
	/* ... without them they fail, for the host too (as 6.1) */
	set_supported_cpuid(v.vcpu[0], false);
	for (size_t i = 0; i < sizeof(msrs) / sizeof(msrs[0]); i++)
		assert_int_equal(set_msr(v.vcpu[0], msrs[i], 0), 0);
	assert_int_equal(enable_cap(v.vcpu[0], KVM_CAP_ENFORCE_PV_FEATURE_CPUID, 0), 0);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(set_msr(v.vcpu[0], msrs[i], 0), 1);
	vm_close(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kvmclock_page),
		cmocka_unit_test(test_kvmclock_vcpus),
		cmocka_unit_test(test_set_clock),
		cmocka_unit_test(test_kvmclock_ctrl),
		cmocka_unit_test(test_kvmclock_dirty_bitmap),
		cmocka_unit_test(test_kvmclock_dirty_ring),
		cmocka_unit_test(test_steal_time),
		cmocka_unit_test(test_pv_cpuid_enforced),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
