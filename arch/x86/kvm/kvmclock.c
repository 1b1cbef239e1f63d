// SPDX-License-Identifier: MIT
/*
 * kvmclock.c - KVM's paravirtual clock and steal time
 * (Documentation/virt/kvm/x86/msr.rst, api.rst 4.29, 4.30, 4.70).
 *
 * kvmclock.  Each vCPU's pvclock_vcpu_time_info page says how to turn its
 * TSC into nanoseconds: kvmclock = system_time + scale(TSC - tsc_timestamp).
 * The VM keeps one "master clock", a host (TSC, CLOCK_MONOTONIC_RAW) pair
 * taken at one instant, plus kvmclock_offset (kvmclock = host ns + offset;
 * 0 at VM creation, moved by KVM_SET_CLOCK).  While the host TSC is
 * invariant and every vCPU has the same TSC offset, all vCPUs are given
 * the same pair converted to their TSC, with PVCLOCK_TSC_STABLE_BIT: their
 * clocks are then one function of one counter, monotonic across vCPUs,
 * and KVM_GET_CLOCK computes the value with the same formula from the
 * host TSC, so it is exactly what a guest reads at that instant.  Without
 * a stable master clock each vCPU gets a fresh pair of its own whenever
 * it is updated (and when its thread moves to another host CPU), as KVM
 * does.  Guests that register the old MSR on vCPU 0 get no master clock
 * (KVM's boot_vcpu_runs_old_kvmclock).
 *
 * The scale is the host TSC rate (tsc.c): there is no TSC scaling, so
 * every guest TSC ticks at that rate whatever KVM_SET_TSC_KHZ accepted.
 *
 * Pages are written through a gfn_to_pfn_cache (virt/kvm/pfncache.c) on
 * the vCPU's thread before it enters the guest, with the version
 * protocol (odd while the update is in progress), and logged dirty like
 * any guest write (bitmap, or the vCPU's dirty ring).  Updates are
 * requested by flags in struct kvm_pvtime and, for VM-wide changes, by
 * the clock generation; a request made while the guest runs kicks the
 * vCPU so that it takes effect at the next instruction boundary, as a
 * KVM request does at the next VM entry.
 *
 * Steal time.  The time a vCPU's thread was runnable but waiting for a
 * host CPU is the second field of its /proc schedstat (run_delay, the
 * value KVM adds from current->sched_info).  Each vCPU keeps that file
 * open (opened when the vCPU is created, or when KVM_RUN first comes from
 * another thread, and moved into skvm's private fd range) and preads it
 * at the start of every KVM_RUN and, while the guest keeps running, at
 * most once a millisecond of host time before an entry.  The delta since
 * the last update is added to kvm_steal_time.steal.  KVM_VCPU_PREEMPTED
 * is cleared at every update; KVM sets it only when the host scheduler
 * preempts a vCPU thread that is inside the guest (6.1 no longer sets it
 * when the thread returns to user space), an event a user-space
 * hypervisor is not told of, so here it is never set.
 */
#include <asm/kvm_para.h>
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "kvm_rcu.h"

#include <linux/kvm_para.h>

#include "kvm_file.h"
#include "kvmclock.h"
#include "pfncache.h"
#include "x86.h"

#define NSEC_PER_SEC 1000000000ULL

/* The VM's half: the master clock and the wall clock MSR. */
struct kvm_clock {
	pthread_mutex_t lock;
	uint64_t master_cycle_now;	/* host TSC ... */
	uint64_t master_kernel_ns;	/* ... and CLOCK_MONOTONIC_RAW then */
	int64_t kvmclock_offset;	/* kvmclock = host ns + offset */
	_Atomic bool use_master_clock;
	bool boot_vcpu_runs_old_kvmclock;
	_Atomic int matched_vcpus;	/* online vCPUs the last update saw */
	uint64_t wall_clock;		/* MSR_KVM_WALL_CLOCK(_NEW) */
	/* the last host write of IA32_TSC, and the offset vCPUs match */
	uint64_t last_tsc_nsec, last_tsc_write, last_tsc_khz;
	int64_t cur_tsc_offset;
	_Atomic uint64_t generation;	/* bumped when every vCPU must update */
};

/* A vCPU's half. */
struct kvm_pvtime {
	/* kvmclock */
	struct gfn_to_pfn_cache pv_time;
	uint64_t system_time_msr;	/* MSR_KVM_SYSTEM_TIME(_NEW) */
	bool clock_update;		/* KVM_REQ_CLOCK_UPDATE */
	uint64_t clock_gen;		/* VM generation last written */
	bool guest_stopped_request;	/* KVM_KVMCLOCK_CTRL */
	int last_cpu;			/* host CPU of the last update */
	/* steal time */
	struct gfn_to_pfn_cache st;
	uint64_t st_msr;		/* MSR_KVM_STEAL_TIME */
	bool steal_update;		/* KVM_REQ_STEAL_UPDATE */
	uint64_t last_steal;		/* run_delay at the last update */
	uint64_t st_checked_tsc;	/* host TSC of the last schedstat read */
	int schedstat_fd;		/* the running thread's schedstat, or -1 */
	pid_t schedstat_tid;		/* whose it is */
	pid_t run_tid;			/* the thread in KVM_RUN */
};

static struct kvm_clock *vm_clock(struct kvm *kvm)
{
	return kvm->arch.clock;
}

/* --- Host time ------------------------------------------------------------- */

/* TSC to nanoseconds: ns = ((delta <<|>> shift) * mul) >> 32. */
struct time_scale {
	uint32_t mul;
	int8_t shift;
};

static struct time_scale host_scale;
static bool host_tsc_invariant;
static uint64_t tsc_per_ms;
static pthread_once_t host_once = PTHREAD_ONCE_INIT;

/*
 * The largest multiplier below 2^32 (the most precise) with its shift:
 * mul = 10^9 * 2^32 / (hz * 2^shift), trying shifts from small to large.
 */
static struct time_scale time_scale_for(uint64_t hz)
{
	struct time_scale s = { 0, 0 };
	int shift;

	for (shift = -31; shift < 32 && hz; shift++) {
		unsigned __int128 m = (unsigned __int128)NSEC_PER_SEC << 32;

		m = shift >= 0 ? m >> shift : m << -shift;
		m /= hz;
		if (m < (1ULL << 32)) {
			s.mul = (uint32_t)m;
			s.shift = (int8_t)shift;
			break;
		}
	}
	return s;
}

static uint64_t scale_delta(uint64_t delta, uint32_t mul, int8_t shift)
{
	if (shift < 0)
		delta >>= -shift;
	else
		delta <<= shift;
	return (uint64_t)(((unsigned __int128)delta * mul) >> 32);
}

/* What a guest computes from its page at TSC value tsc. */
static uint64_t pvclock_read(const struct pvclock_vcpu_time_info *p, uint64_t tsc)
{
	return p->system_time + scale_delta(tsc - p->tsc_timestamp,
					    p->tsc_to_system_mul, p->tsc_shift);
}

static void host_init(void)
{
	unsigned int a, b, c, d;

	host_scale = time_scale_for((uint64_t)kvm_host_tsc_khz() * 1000);
	tsc_per_ms = kvm_host_tsc_khz();
	/* CPUID.80000007H:EDX[8]: the TSC runs at a constant rate in all states. */
	host_tsc_invariant = __get_cpuid(0x80000007u, &a, &b, &c, &d) &&
			     ((d >> 8) & 1);
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* A host TSC value and a clock reading taken as close together as we can. */
static void host_clock_pair(clockid_t id, uint64_t *tsc, uint64_t *ns)
{
	uint64_t best = ~0ULL;
	int i;

	for (i = 0; i < 3; i++) {
		uint64_t t0 = kvm_host_rdtsc();
		uint64_t n = clock_ns(id);
		uint64_t t1 = kvm_host_rdtsc();

		if (t1 - t0 < best) {
			best = t1 - t0;
			*tsc = t0 + (t1 - t0) / 2;
			*ns = n;
		}
	}
}

/* --- Master clock ------------------------------------------------------- */

/* Do all vCPUs run with one TSC offset (the kernel's "matched" TSCs)? */
static bool vcpus_tsc_matched(struct kvm *kvm, int n)
{
	int64_t off = 0;
	int i;

	for (i = 0; i < n; i++) {
		struct kvm_vcpu *v = kvm->vcpus[i];
		int64_t o;

		if (!v)
			continue;
		o = __atomic_load_n(&v->arch.tsc_offset, __ATOMIC_RELAXED);
		if (i && o != off)
			return false;
		off = o;
	}
	return true;
}

/* Make every vCPU but self (which is about to look) update before entry. */
static void kick_all(struct kvm *kvm, struct kvm_vcpu *self)
{
	int i, n = atomic_load(&kvm->online_vcpus);

	for (i = 0; i < n; i++)
		if (kvm->vcpus[i] && kvm->vcpus[i] != self)
			kvm_vcpu_kick(kvm->vcpus[i]);
}

/*
 * Take a new master pair and decide whether it may be used; every vCPU
 * updates before its next entry.  With keep_time, kvmclock goes on from
 * the value the old parameters give now (no step at the update).  Caller
 * holds kc->lock; self is the vCPU calling from its entry path, or NULL.
 */
static void master_clock_update(struct kvm *kvm, bool keep_time,
				struct kvm_vcpu *self)
{
	struct kvm_clock *kc = vm_clock(kvm);
	int n = atomic_load(&kvm->online_vcpus);
	uint64_t tsc, ns, before = 0;
	bool was_master = atomic_load(&kc->use_master_clock);

	host_clock_pair(CLOCK_MONOTONIC_RAW, &tsc, &ns);
	if (was_master) {
		struct pvclock_vcpu_time_info old = {
			.tsc_timestamp = kc->master_cycle_now,
			.system_time = kc->master_kernel_ns + kc->kvmclock_offset,
			.tsc_to_system_mul = host_scale.mul,
			.tsc_shift = host_scale.shift,
		};

		before = pvclock_read(&old, tsc);
	}
	kc->master_cycle_now = tsc;
	kc->master_kernel_ns = ns;
	if (keep_time && was_master)
		kc->kvmclock_offset = (int64_t)(before - ns);
	atomic_store(&kc->use_master_clock,
		     host_tsc_invariant && vcpus_tsc_matched(kvm, n) &&
		     !kc->boot_vcpu_runs_old_kvmclock);
	atomic_store(&kc->matched_vcpus, n);
	atomic_fetch_add(&kc->generation, 1);
	kick_all(kvm, self);
}

int kvm_clock_init(struct kvm *kvm)
{
	struct kvm_clock *kc = calloc(1, sizeof(*kc));
	uint64_t ns;

	if (!kc)
		return -ENOMEM;
	pthread_once(&host_once, host_init);
	pthread_mutex_init(&kc->lock, NULL);
	kvm->arch.clock = kc;
	pthread_mutex_lock(&kc->lock);
	master_clock_update(kvm, false, NULL);
	/* kvmclock counts from 0 at VM creation */
	ns = atomic_load(&kc->use_master_clock) ? kc->master_kernel_ns :
						    clock_ns(CLOCK_MONOTONIC_RAW);
	kc->kvmclock_offset = -(int64_t)ns;
	/* no TSC written yet: the first vCPU's creation writes 0 and starts one */
	kc->last_tsc_nsec = clock_ns(CLOCK_MONOTONIC_RAW);
	pthread_mutex_unlock(&kc->lock);
	return 0;
}

/*
 * A host write of IA32_TSC, as KVM takes it (kvm_synchronize_tsc): a
 * write of 0 (a VMM resetting its vCPUs one after the other), or of a
 * value within a second of TSC ticks of where the last written value has
 * got to since, means "in sync with the others": the vCPU gets the offset
 * the others have, not one computed from this instant.  Any other value
 * starts a new offset, which later writes may match.
 */
int64_t kvm_synchronize_tsc(struct kvm_vcpu *vcpu, uint64_t data)
{
	struct kvm_clock *kc = vm_clock(vcpu->kvm);
	uint64_t khz = vcpu->arch.tsc_khz, hz = khz * 1000, ns, expected;
	int64_t offset = (int64_t)(data - kvm_host_rdtsc());
	bool synchronizing = data == 0;

	pthread_mutex_lock(&kc->lock);
	ns = clock_ns(CLOCK_MONOTONIC_RAW);
	if (!synchronizing) {
		expected = kc->last_tsc_write +
			   (uint64_t)((unsigned __int128)(ns - kc->last_tsc_nsec) *
				      khz / 1000000);
		synchronizing = data < expected + hz && data + hz > expected;
	}
	if (synchronizing && khz == kc->last_tsc_khz)
		offset = kc->cur_tsc_offset;
	else
		kc->cur_tsc_offset = offset;
	kc->last_tsc_nsec = ns;
	kc->last_tsc_write = data;
	kc->last_tsc_khz = khz;
	pthread_mutex_unlock(&kc->lock);
	return offset;
}

void kvm_clock_destroy(struct kvm *kvm)
{
	struct kvm_clock *kc = vm_clock(kvm);

	if (!kc)
		return;
	pthread_mutex_destroy(&kc->lock);
	free(kc);
	kvm->arch.clock = NULL;
}

/* --- KVM_GET_CLOCK / KVM_SET_CLOCK ----------------------------------------- */

/*
 * With the master clock: the value the guests compute at this instant
 * (from the host TSC, read together with CLOCK_REALTIME), flags
 * TSC_STABLE | REALTIME | HOST_TSC.  Without: host ns + offset, flags 0.
 */
static void get_kvmclock(struct kvm *kvm, struct kvm_clock_data *data)
{
	struct kvm_clock *kc = vm_clock(kvm);

	memset(data, 0, sizeof(*data));
	pthread_mutex_lock(&kc->lock);
	if (atomic_load(&kc->use_master_clock)) {
		struct pvclock_vcpu_time_info hv = {
			.tsc_timestamp = kc->master_cycle_now,
			.system_time = kc->master_kernel_ns + kc->kvmclock_offset,
			.tsc_to_system_mul = host_scale.mul,
			.tsc_shift = host_scale.shift,
		};

		uint64_t tsc, real;

		host_clock_pair(CLOCK_REALTIME, &tsc, &real);
		data->host_tsc = tsc;
		data->realtime = real;
		data->flags = KVM_CLOCK_TSC_STABLE | KVM_CLOCK_REALTIME |
			      KVM_CLOCK_HOST_TSC;
		data->clock = pvclock_read(&hv, data->host_tsc);
	} else {
		data->clock = clock_ns(CLOCK_MONOTONIC_RAW) + kc->kvmclock_offset;
	}
	pthread_mutex_unlock(&kc->lock);
}

long kvm_vm_ioctl_get_clock(struct kvm *kvm, void *argp)
{
	struct kvm_clock_data data;

	get_kvmclock(kvm, &data);
	return copy_to_user(argp, &data, sizeof(data)) ? -EFAULT : 0;
}

/*
 * kvmclock becomes data.clock now; with KVM_CLOCK_REALTIME, plus the
 * real time that passed since data.realtime (never backwards).  Other
 * valid flags are ignored, unknown ones are -EINVAL.
 */
long kvm_vm_ioctl_set_clock(struct kvm *kvm, void *argp)
{
	struct kvm_clock *kc = vm_clock(kvm);
	struct kvm_clock_data data;
	uint64_t now;

	if (copy_from_user(&data, argp, sizeof(data)))
		return -EFAULT;
	if (data.flags & ~KVM_CLOCK_VALID_FLAGS)
		return -EINVAL;
	pthread_mutex_lock(&kc->lock);
	master_clock_update(kvm, false, NULL);
	if (data.flags & KVM_CLOCK_REALTIME) {
		now = clock_ns(CLOCK_REALTIME);
		if (now > data.realtime)
			data.clock += now - data.realtime;
	}
	now = atomic_load(&kc->use_master_clock) ? kc->master_kernel_ns :
						     clock_ns(CLOCK_MONOTONIC_RAW);
	kc->kvmclock_offset = (int64_t)(data.clock - now);
	atomic_fetch_add(&kc->generation, 1);
	pthread_mutex_unlock(&kc->lock);
	kick_all(kvm, NULL);
	return 0;
}

/* --- Writing the guest's pages -------------------------------------------- */

/*
 * Run fn on the cached page under RCU, refreshing the translation when
 * the memslots changed; false when there is no memory there.
 */
static bool gpc_write(struct gfn_to_pfn_cache *gpc,
		      void (*fn)(void *khva, void *arg), void *arg)
{
	rcu_read_lock();
	while (!kvm_gpc_check(gpc)) {
		rcu_read_unlock();
		if (kvm_gpc_refresh(gpc))
			return false;
		rcu_read_lock();
	}
	fn(atomic_load(&gpc->khva), arg);
	kvm_gpc_mark_dirty(gpc);
	rcu_read_unlock();
	return true;
}

#define WRITE_ONCE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define READ_ONCE(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define wmb() __atomic_thread_fence(__ATOMIC_RELEASE)

struct pvclock_write {
	struct pvclock_vcpu_time_info hv;
	bool *stopped_request;
};

/* Odd version, the fields, even version (msr.rst). */
static void pvclock_fill(void *khva, void *arg)
{
	struct pvclock_vcpu_time_info *g = khva;
	struct pvclock_write *w = arg;
	uint32_t version = (READ_ONCE(g->version) + 1) | 1;
	uint8_t flags = w->hv.flags;

	WRITE_ONCE(g->version, version);
	wmb();
	/* PVCLOCK_GUEST_STOPPED stays until the guest clears it. */
	flags |= READ_ONCE(g->flags) & PVCLOCK_GUEST_STOPPED;
	if (*w->stopped_request) {
		flags |= PVCLOCK_GUEST_STOPPED;
		*w->stopped_request = false;
	}
	WRITE_ONCE(g->tsc_timestamp, w->hv.tsc_timestamp);
	WRITE_ONCE(g->system_time, w->hv.system_time);
	WRITE_ONCE(g->tsc_to_system_mul, w->hv.tsc_to_system_mul);
	WRITE_ONCE(g->tsc_shift, w->hv.tsc_shift);
	WRITE_ONCE(g->flags, flags);
	wmb();
	WRITE_ONCE(g->version, version + 1);
}

/* The kernel's kvm_guest_time_update(). */
static void pvclock_update(struct kvm_vcpu *vcpu)
{
	struct kvm_clock *kc = vm_clock(vcpu->kvm);
	struct kvm_pvtime *pt = vcpu->arch.pvtime;
	struct pvclock_write w = { .stopped_request = &pt->guest_stopped_request };
	uint64_t host_tsc, ns;
	bool stable;

	pthread_mutex_lock(&kc->lock);
	pt->clock_gen = atomic_load(&kc->generation);
	stable = atomic_load(&kc->use_master_clock);
	if (stable) {
		host_tsc = kc->master_cycle_now;
		ns = kc->master_kernel_ns;
	} else {
		host_clock_pair(CLOCK_MONOTONIC_RAW, &host_tsc, &ns);
	}
	w.hv.system_time = ns + kc->kvmclock_offset;
	pthread_mutex_unlock(&kc->lock);
	pt->clock_update = false;
	if (!pt->pv_time.active)
		return;
	w.hv.tsc_timestamp = host_tsc + (uint64_t)vcpu->arch.tsc_offset;
	w.hv.tsc_to_system_mul = host_scale.mul;
	w.hv.tsc_shift = host_scale.shift;
	w.hv.flags = stable ? PVCLOCK_TSC_STABLE_BIT : 0;
	gpc_write(&pt->pv_time, pvclock_fill, &w);
}

/* Make the vCPU act on its requests: now if it is in the guest. */
static void request_kick(struct kvm_vcpu *vcpu)
{
	if (kvm_get_running_vcpu() == vcpu)
		kvm_vcpu_kick(vcpu);
}

/*
 * MSR_KVM_WALL_CLOCK(_NEW): the host's real time when kvmclock was 0,
 * written once, at the MSR write, with the version protocol.
 */
static void write_wall_clock(struct kvm *kvm, gpa_t gpa)
{
	struct pvclock_wall_clock wc;
	struct kvm_clock_data now;
	uint32_t version;
	uint64_t wall;

	if (kvm_read_guest(kvm, 0, gpa, &version, sizeof(version)))
		return;
	version = (version + 1) | 1;
	if (kvm_write_guest(kvm, 0, gpa, &version, sizeof(version)))
		return;
	get_kvmclock(kvm, &now);
	if (!(now.flags & KVM_CLOCK_REALTIME))
		now.realtime = clock_ns(CLOCK_REALTIME);
	wall = now.realtime - now.clock;
	wc.sec = (uint32_t)(wall / NSEC_PER_SEC);
	wc.nsec = (uint32_t)(wall % NSEC_PER_SEC);
	wc.version = version;
	kvm_write_guest(kvm, 0, gpa, &wc, sizeof(wc));
	version++;
	kvm_write_guest(kvm, 0, gpa, &version, sizeof(version));
}

/*
 * MSR_KVM_SYSTEM_TIME(_NEW): bit 0 enables, the rest is the page's address
 * (a page that is not RAM or crosses a page boundary is never written,
 * and the write still succeeds, as with KVM).
 */
static void write_system_time(struct kvm_vcpu *vcpu, uint64_t data,
			      bool old_msr, bool host_initiated)
{
	struct kvm_clock *kc = vm_clock(vcpu->kvm);
	struct kvm_pvtime *pt = vcpu->arch.pvtime;

	if (vcpu->vcpu_id == 0 && !host_initiated) {
		pthread_mutex_lock(&kc->lock);
		if (kc->boot_vcpu_runs_old_kvmclock != old_msr) {
			kc->boot_vcpu_runs_old_kvmclock = old_msr;
			master_clock_update(vcpu->kvm, true, NULL);
		}
		pthread_mutex_unlock(&kc->lock);
	}
	pt->system_time_msr = data;
	kvm_gpc_deactivate(&pt->pv_time);
	if (data & KVM_MSR_ENABLED)
		kvm_gpc_activate(&pt->pv_time, data & ~1ULL,
				 sizeof(struct pvclock_vcpu_time_info));
	/* KVM_REQ_GLOBAL_CLOCK_UPDATE: without a master clock, all vCPUs */
	if (atomic_load(&kc->use_master_clock))
		pt->clock_update = true;
	else
		atomic_fetch_add(&kc->generation, 1);
	request_kick(vcpu);
}

/* --- Steal time ------------------------------------------------------------ */

static bool steal_supported;
static pthread_once_t steal_once = PTHREAD_ONCE_INIT;

static void steal_probe(void)
{
	int fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);

	steal_supported = fd >= 0;
	if (fd >= 0)
		close(fd);
}

bool kvm_steal_time_supported(void)
{
	pthread_once(&steal_once, steal_probe);
	return steal_supported;
}

/* schedstat: "run-time run-delay timeslices", in ns. */
static int read_run_delay(int fd, uint64_t *run_delay)
{
	char buf[96], *p;
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return -1;
	buf[n] = '\0';
	strtoull(buf, &p, 10);
	*run_delay = strtoull(p, NULL, 10);
	return 0;
}

/*
 * Open tid's schedstat as the vCPU's, and start counting from its current
 * run_delay: what the thread waited before it ran this vCPU is not the
 * vCPU's steal time.
 */
static void schedstat_open(struct kvm_pvtime *pt, pid_t tid)
{
	char path[64];
	int fd;

	if (pt->schedstat_fd >= 0)
		close(pt->schedstat_fd);
	pt->schedstat_fd = -1;
	pt->schedstat_tid = tid;
	snprintf(path, sizeof(path), "/proc/self/task/%d/schedstat", (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	pt->schedstat_fd = kvm_fd_make_private(fd);
	if (read_run_delay(pt->schedstat_fd, &pt->last_steal))
		pt->last_steal = 0;
}

struct steal_write {
	uint64_t delta;
};

/* The kernel's record_steal_time(): version odd, steal += delta, even. */
static void steal_fill(void *khva, void *arg)
{
	struct kvm_steal_time *st = khva;
	struct steal_write *w = arg;
	uint32_t version;

	/* No PV TLB flush is offered: just clear what the guest may see. */
	WRITE_ONCE(st->preempted, 0);
	version = READ_ONCE(st->version);
	if (version & 1)
		version++;	/* the guest's junk before the first update */
	WRITE_ONCE(st->version, version + 1);
	wmb();
	WRITE_ONCE(st->steal, READ_ONCE(st->steal) + w->delta);
	wmb();
	WRITE_ONCE(st->version, version + 2);
}

static void record_steal_time(struct kvm_vcpu *vcpu)
{
	struct kvm_pvtime *pt = vcpu->arch.pvtime;
	struct steal_write w;
	uint64_t run_delay;

	pt->steal_update = false;
	pt->st_checked_tsc = kvm_host_rdtsc();
	if (!(pt->st_msr & KVM_MSR_ENABLED))
		return;
	/* KVM_RUN from another thread than the one whose file is open */
	if (pt->run_tid && pt->run_tid != pt->schedstat_tid)
		schedstat_open(pt, pt->run_tid);
	if (pt->schedstat_fd < 0 || read_run_delay(pt->schedstat_fd, &run_delay))
		return;
	w.delta = run_delay - pt->last_steal;
	if (!gpc_write(&pt->st, steal_fill, &w))
		return;
	pt->last_steal = run_delay;
}

static int set_steal_time(struct kvm_vcpu *vcpu, uint64_t data)
{
	struct kvm_pvtime *pt = vcpu->arch.pvtime;

	if (!kvm_steal_time_supported() || (data & KVM_STEAL_RESERVED_MASK))
		return 1;
	pt->st_msr = data;
	kvm_gpc_deactivate(&pt->st);
	if (!(data & KVM_MSR_ENABLED))
		return 0;
	kvm_gpc_activate(&pt->st, data & KVM_STEAL_VALID_BITS,
			 sizeof(struct kvm_steal_time));
	pt->steal_update = true;
	request_kick(vcpu);
	return 0;
}

/* --- MSRs ------------------------------------------------------------------ */

/*
 * Each MSR needs its feature in the guest's CPUID 0x40000001 once
 * KVM_CAP_ENFORCE_PV_FEATURE_CPUID is on (host accesses too, as in 6.1).
 */
static bool pvtime_msr_allowed(struct kvm_vcpu *vcpu, uint32_t index)
{
	switch (index) {
	case MSR_KVM_WALL_CLOCK:
	case MSR_KVM_SYSTEM_TIME:
		return guest_pv_has(vcpu, KVM_FEATURE_CLOCKSOURCE);
	case MSR_KVM_WALL_CLOCK_NEW:
	case MSR_KVM_SYSTEM_TIME_NEW:
		return guest_pv_has(vcpu, KVM_FEATURE_CLOCKSOURCE2);
	default:
		return guest_pv_has(vcpu, KVM_FEATURE_STEAL_TIME);
	}
}

int kvm_pvtime_get_msr(struct kvm_vcpu *vcpu, uint32_t index, uint64_t *data)
{
	struct kvm_pvtime *pt = vcpu->arch.pvtime;

	if (!pvtime_msr_allowed(vcpu, index))
		return 1;
	switch (index) {
	case MSR_KVM_WALL_CLOCK:
	case MSR_KVM_WALL_CLOCK_NEW:
		*data = vm_clock(vcpu->kvm)->wall_clock;
		return 0;
	case MSR_KVM_SYSTEM_TIME:
	case MSR_KVM_SYSTEM_TIME_NEW:
		*data = pt->system_time_msr;
		return 0;
	case MSR_KVM_STEAL_TIME:
		*data = pt->st_msr;
		return 0;
	}
	return KVM_MSR_RET_INVALID;
}

int kvm_pvtime_set_msr(struct kvm_vcpu *vcpu, uint32_t index, uint64_t data,
		       bool host_initiated)
{
	if (!pvtime_msr_allowed(vcpu, index))
		return 1;
	switch (index) {
	case MSR_KVM_WALL_CLOCK:
	case MSR_KVM_WALL_CLOCK_NEW:
		vm_clock(vcpu->kvm)->wall_clock = data;
		write_wall_clock(vcpu->kvm, data);
		return 0;
	case MSR_KVM_SYSTEM_TIME:
	case MSR_KVM_SYSTEM_TIME_NEW:
		write_system_time(vcpu, data, index == MSR_KVM_SYSTEM_TIME,
				  host_initiated);
		return 0;
	case MSR_KVM_STEAL_TIME:
		return set_steal_time(vcpu, data);
	}
	return KVM_MSR_RET_INVALID;
}

/* --- Requests ---------------------------------------------------------------- */

/*
 * KVM_KVMCLOCK_CTRL: tell the guest (PVCLOCK_GUEST_STOPPED) that the host
 * paused it; -EINVAL when the vCPU has no kvmclock page.
 */
int kvm_set_guest_paused(struct kvm_vcpu *vcpu)
{
	struct kvm_pvtime *pt = vcpu->arch.pvtime;

	if (!pt->pv_time.active)
		return -EINVAL;
	pt->guest_stopped_request = true;
	pt->clock_update = true;
	return 0;
}

/*
 * A new TSC offset: this vCPU's page must follow it, and whether the
 * vCPUs' TSCs still match may have changed the master clock.
 */
void kvm_pvtime_tsc_changed(struct kvm_vcpu *vcpu)
{
	struct kvm *kvm = vcpu->kvm;
	struct kvm_clock *kc = vm_clock(kvm);
	int n = atomic_load(&kvm->online_vcpus);
	bool matched;

	if (!vcpu->arch.pvtime)
		return;
	vcpu->arch.pvtime->clock_update = true;
	pthread_mutex_lock(&kc->lock);
	matched = host_tsc_invariant && vcpus_tsc_matched(kvm, n) &&
		  !kc->boot_vcpu_runs_old_kvmclock;
	if (matched != atomic_load(&kc->use_master_clock))
		master_clock_update(kvm, true, NULL);
	pthread_mutex_unlock(&kc->lock);
	request_kick(vcpu);
}

void kvm_pvtime_run_begin(struct kvm_vcpu *vcpu)
{
	struct kvm_pvtime *pt = vcpu->arch.pvtime;

	pt->run_tid = gettid();
	pt->steal_update = true;	/* vcpu_load's KVM_REQ_STEAL_UPDATE */
}

void kvm_pvtime_enter_guest(struct kvm_vcpu *vcpu)
{
	struct kvm *kvm = vcpu->kvm;
	struct kvm_clock *kc = vm_clock(kvm);
	struct kvm_pvtime *pt = vcpu->arch.pvtime;

	/* a vCPU was added since the master clock was last decided */
	if (atomic_load(&kvm->online_vcpus) != atomic_load(&kc->matched_vcpus)) {
		pthread_mutex_lock(&kc->lock);
		if (atomic_load(&kvm->online_vcpus) != atomic_load(&kc->matched_vcpus))
			master_clock_update(kvm, true, vcpu);
		pthread_mutex_unlock(&kc->lock);
	}
	/* without a master clock, a move to another host CPU asks for an update */
	if (!atomic_load(&kc->use_master_clock) && pt->pv_time.active) {
		int cpu = sched_getcpu();

		if (cpu != pt->last_cpu) {
			pt->last_cpu = cpu;
			pt->clock_update = true;
		}
	}
	if (pt->pv_time.active &&
	    (pt->clock_update || pt->clock_gen != atomic_load(&kc->generation)))
		pvclock_update(vcpu);
	if ((pt->st_msr & KVM_MSR_ENABLED) &&
	    (pt->steal_update ||
	     kvm_host_rdtsc() - pt->st_checked_tsc >= tsc_per_ms))
		record_steal_time(vcpu);
}

/* --- vCPU lifetime --------------------------------------------------------- */

int kvm_pvtime_create(struct kvm_vcpu *vcpu)
{
	struct kvm_pvtime *pt = calloc(1, sizeof(*pt));

	if (!pt)
		return -ENOMEM;
	kvm_gpc_init(&pt->pv_time, vcpu->kvm, 0);
	kvm_gpc_init(&pt->st, vcpu->kvm, 0);
	pt->last_cpu = -1;
	pt->schedstat_fd = -1;
	if (kvm_steal_time_supported())
		schedstat_open(pt, gettid());
	vcpu->arch.pvtime = pt;
	return 0;
}

void kvm_pvtime_destroy(struct kvm_vcpu *vcpu)
{
	struct kvm_pvtime *pt = vcpu->arch.pvtime;

	if (!pt)
		return;
	if (pt->schedstat_fd >= 0)
		close(pt->schedstat_fd);
	pthread_mutex_destroy(&pt->pv_time.refresh_lock);
	pthread_mutex_destroy(&pt->st.refresh_lock);
	free(pt);
	vcpu->arch.pvtime = NULL;
}
