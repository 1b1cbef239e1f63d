// SPDX-License-Identifier: MIT
/*
 * async_pf.c - see async_pf.h.
 *
 * A work item is faulted in by a thread of its own: the thread reads one
 * byte of the page with process_vm_readv() on our own pid, which makes
 * the kernel fault the page in as for any access (and wait in the
 * userfaultfd handling until the VMM resolves the fault, e.g. with
 * UFFDIO_COPY) but never delivers a signal: a page that cannot be had
 * (unmapped, the userfaultfd closed) just ends the work with EFAULT, and
 * the vCPU's own retry meets the same condition synchronously.
 *
 * Workers block every signal (a signal meant for the client's threads
 * must never land on them) and open no file.  One process-wide lock
 * guards the completion lists and the link between a work item and its
 * vCPU: a vCPU that clears its queue detaches the items still running
 * (item->vcpu = NULL), and their worker frees them when it ends, so a
 * worker never touches a vCPU that is gone.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "async_pf.h"
#include "kvm_file.h"

#define ASYNC_PF_STACK_SIZE (64 * 1024)

static pthread_mutex_t async_pf_lock = PTHREAD_MUTEX_INITIALIZER;

/* Append to the vCPU's completion list; true when it was empty. */
static bool done_append(struct kvm_vcpu *vcpu, struct kvm_async_pf *work)
{
	struct kvm_async_pf **p = &vcpu->async_pf.done;
	bool first = !*p;

	while (*p)
		p = &(*p)->done_next;
	work->done_next = NULL;
	*p = work;
	atomic_store(&vcpu->async_pf.has_done, true);
	return first;
}

static void *async_pf_execute(void *arg)
{
	struct kvm_async_pf *work = arg;
	struct kvm_vcpu *vcpu;
	char byte;
	struct iovec local = { .iov_base = &byte, .iov_len = 1 };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)work->addr,
				.iov_len = 1 };

	pthread_setname_np(pthread_self(), "skvm-apf");
	/* Fault the page in; this is where a userfaultfd makes us wait. */
	(void)process_vm_readv(getpid(), &local, 1, &remote, 1, 0);

	pthread_mutex_lock(&async_pf_lock);
	work->done = true;
	vcpu = work->vcpu;
	if (!vcpu) {
		/* the vCPU forgot it (reset, disable, destruction) */
		pthread_mutex_unlock(&async_pf_lock);
		free(work);
		return NULL;
	}
	if (done_append(vcpu, work))
		kvm_arch_async_page_present_queued(vcpu);
	pthread_mutex_unlock(&async_pf_lock);
	return NULL;
}

static int start_worker(struct kvm_async_pf *work)
{
	pthread_attr_t attr;
	pthread_t thread;
	sigset_t all;
	int r;

	sigfillset(&all);
	if (pthread_attr_init(&attr))
		return -ENOMEM;
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, ASYNC_PF_STACK_SIZE);
	pthread_attr_setsigmask_np(&attr, &all);
	r = pthread_create(&thread, &attr, async_pf_execute, work);
	pthread_attr_destroy(&attr);
	return -r;
}

static void queue_remove(struct kvm_vcpu *vcpu, struct kvm_async_pf *work)
{
	struct kvm_async_pf **p;

	for (p = &vcpu->async_pf.queue; *p; p = &(*p)->queue_next) {
		if (*p == work) {
			*p = work->queue_next;
			return;
		}
	}
}

bool kvm_setup_async_pf(struct kvm_vcpu *vcpu, gpa_t cr2_or_gpa, hva_t hva,
			const struct kvm_arch_async_pf *arch)
{
	struct kvm_async_pf *work;

	if (vcpu->async_pf.queued >= ASYNC_PF_PER_VCPU)
		return false;
	work = calloc(1, sizeof(*work));
	if (!work)
		return false;
	work->vcpu = vcpu;
	work->cr2_or_gpa = cr2_or_gpa;
	work->addr = hva & ~(hva_t)(PAGE_SIZE - 1);
	work->arch = *arch;

	if (start_worker(work)) {
		free(work);
		return false;
	}
	work->queue_next = vcpu->async_pf.queue;
	vcpu->async_pf.queue = work;
	vcpu->async_pf.queued++;
	/*
	 * The worker may already be done: nothing is lost, its completion
	 * waits on the list for this thread, which alone reads the flag.
	 */
	work->notpresent_injected = kvm_arch_async_page_not_present(vcpu, work);
	return true;
}

int kvm_async_pf_wakeup_all(struct kvm_vcpu *vcpu)
{
	struct kvm_async_pf *work;

	pthread_mutex_lock(&async_pf_lock);
	if (vcpu->async_pf.done) {
		/* the pending completions wake the guest anyway */
		pthread_mutex_unlock(&async_pf_lock);
		return 0;
	}
	work = calloc(1, sizeof(*work));
	if (!work) {
		pthread_mutex_unlock(&async_pf_lock);
		return -ENOMEM;
	}
	work->vcpu = vcpu;
	work->wakeup_all = true;
	work->done = true;
	done_append(vcpu, work);
	vcpu->async_pf.queued++;
	kvm_arch_async_page_present_queued(vcpu);
	pthread_mutex_unlock(&async_pf_lock);
	return 0;
}

void kvm_check_async_pf_completion(struct kvm_vcpu *vcpu)
{
	struct kvm_async_pf *work;

	while (kvm_async_pf_has_done(vcpu) &&
	       kvm_arch_can_dequeue_async_page_present(vcpu)) {
		pthread_mutex_lock(&async_pf_lock);
		work = vcpu->async_pf.done;
		if (work)
			vcpu->async_pf.done = work->done_next;
		if (!vcpu->async_pf.done)
			atomic_store(&vcpu->async_pf.has_done, false);
		pthread_mutex_unlock(&async_pf_lock);
		if (!work)
			break;
		kvm_arch_async_page_present(vcpu, work);
		if (!work->wakeup_all)
			queue_remove(vcpu, work);
		vcpu->async_pf.queued--;
		free(work);
	}
}

void kvm_clear_async_pf_completion_queue(struct kvm_vcpu *vcpu)
{
	struct kvm_async_pf *work, *next;

	pthread_mutex_lock(&async_pf_lock);
	/* Completed items: wake-alls live only here, the rest also in queue. */
	for (work = vcpu->async_pf.done; work; work = next) {
		next = work->done_next;
		if (work->wakeup_all)
			free(work);
	}
	vcpu->async_pf.done = NULL;
	atomic_store(&vcpu->async_pf.has_done, false);
	for (work = vcpu->async_pf.queue; work; work = next) {
		next = work->queue_next;
		if (work->done)
			free(work);
		else
			work->vcpu = NULL;	/* its worker frees it */
	}
	vcpu->async_pf.queue = NULL;
	vcpu->async_pf.queued = 0;
	pthread_mutex_unlock(&async_pf_lock);
}

/* --- Would an access to a host page wait for user space? -------------------- */

/*
 * The host ranges registered with a userfaultfd for missing pages, from
 * the "um" flag of /proc/self/smaps.  Reading smaps costs a few hundred
 * microseconds, so the list is process-wide and read again only when it
 * is older than UFFD_RANGES_MAX_AGE_NS (a VMM may register memory at any
 * time, e.g. when post-copy migration starts), or when a vCPU finds its
 * VM's memslots changed since it last looked (each vCPU remembers the
 * generation it saw; several VMs in one process do not make each other
 * read it again).
 */
#define UFFD_RANGES_MAX_AGE_NS 1000000000ull

struct uffd_range {
	hva_t start, end;
};

static struct {
	pthread_rwlock_t lock;
	struct uffd_range *r;
	size_t n, cap;
	bool valid;
	uint64_t epoch;			/* bumped at every read */
	uint64_t read_ns;
	int fd;				/* /proc/self/smaps, a private fd */
	pid_t fd_pid;			/* the process it describes */
	char *buf;
	size_t buf_size;
} uffd = { .lock = PTHREAD_RWLOCK_INITIALIZER, .fd = -1 };

/*
 * The common answer without the lock: no registered range at all, until
 * this time (0: there are some, or the list is being read).
 */
static _Atomic uint64_t uffd_none_until_ns;

static uint64_t coarse_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The whole of /proc/self/smaps in uffd.buf, NUL-terminated; its length or -1. */
static ssize_t smaps_read(void)
{
	size_t len = 0;
	ssize_t n;
	char *nb;

	if (uffd.fd >= 0 && uffd.fd_pid != getpid()) {
		/* a child of fork(): the inherited file shows the parent */
		close(uffd.fd);
		uffd.fd = -1;
	}
	if (uffd.fd < 0) {
		int fd = open("/proc/self/smaps", O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			return -1;
		uffd.fd = kvm_fd_make_private(fd);
		uffd.fd_pid = getpid();
	}
	for (;;) {
		if (uffd.buf_size - len < 4096) {
			nb = realloc(uffd.buf, uffd.buf_size ? 2 * uffd.buf_size : 65536);
			if (!nb)
				return -1;
			uffd.buf = nb;
			uffd.buf_size = uffd.buf_size ? 2 * uffd.buf_size : 65536;
		}
		n = pread(uffd.fd, uffd.buf + len, uffd.buf_size - len - 1, (off_t)len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	uffd.buf[len] = '\0';
	return (ssize_t)len;
}

static bool has_flag(const char *flags, const char *flag)
{
	size_t fl = strlen(flag);
	const char *p = flags;

	while ((p = strstr(p, flag))) {
		if (p[-1] == ' ' && (p[fl] == ' ' || p[fl] == '\n' || !p[fl]))
			return true;
		p += fl;
	}
	return false;
}

/* Caller holds uffd.lock for writing. */
static void uffd_ranges_read(void)
{
	unsigned long long start = 0, end = 0;
	char *line, *next;
	struct uffd_range *nr;

	uffd.n = 0;
	uffd.valid = false;
	uffd.epoch++;
	uffd.read_ns = coarse_ns();
	if (smaps_read() < 0)
		return;
	for (line = uffd.buf; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		/* "start-end perms ..." opens each mapping's block */
		if (sscanf(line, "%llx-%llx ", &start, &end) == 2)
			continue;
		if (strncmp(line, "VmFlags:", 8) || !has_flag(line + 7, "um"))
			continue;
		if (uffd.n == uffd.cap) {
			nr = realloc(uffd.r, (uffd.cap ? 2 * uffd.cap : 16) * sizeof(*nr));
			if (!nr)
				return;
			uffd.r = nr;
			uffd.cap = uffd.cap ? 2 * uffd.cap : 16;
		}
		uffd.r[uffd.n].start = start;
		uffd.r[uffd.n++].end = end;
	}
	uffd.valid = true;
	if (!uffd.n)
		atomic_store(&uffd_none_until_ns,
			     uffd.read_ns + UFFD_RANGES_MAX_AGE_NS);
}

/* Caller holds uffd.lock. */
static bool uffd_ranges_fresh(void)
{
	return uffd.read_ns && coarse_ns() - uffd.read_ns < UFFD_RANGES_MAX_AGE_NS;
}

/* Caller holds uffd.lock; the list is sorted, as smaps is. */
static bool uffd_ranges_hit(hva_t hva)
{
	size_t lo = 0, hi = uffd.valid ? uffd.n : 0, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (hva < uffd.r[mid].start)
			hi = mid;
		else if (hva >= uffd.r[mid].end)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

/*
 * Pages of registered ranges seen resident need no mincore() again until
 * the range list is read anew (a page the VMM drops meanwhile, e.g. with
 * MADV_DONTNEED, is then waited for synchronously: slower, still right).
 */
static hva_t *resident_slot(struct kvm_vcpu *vcpu, hva_t page, uint64_t epoch)
{
	if (vcpu->async_pf.resident_epoch != epoch) {
		memset(vcpu->async_pf.resident, 0, sizeof(vcpu->async_pf.resident));
		vcpu->async_pf.resident_epoch = epoch;
	}
	return &vcpu->async_pf.resident[(page >> PAGE_SHIFT) %
					KVM_ASYNC_PF_RESIDENT_CACHE];
}

bool kvm_async_pf_page_would_block(struct kvm_vcpu *vcpu, hva_t hva)
{
	uint64_t gen = atomic_load(&vcpu->kvm->memslots_generation), epoch;
	hva_t page = hva & ~(hva_t)(PAGE_SIZE - 1), *seen;
	unsigned char resident;
	/* the VM's memslots changed: the list must be read after that */
	bool moved = vcpu->async_pf.ranges_gen != gen, hit;

	if (!moved && coarse_ns() < atomic_load(&uffd_none_until_ns))
		return false;
	pthread_rwlock_rdlock(&uffd.lock);
	if (moved || !uffd_ranges_fresh()) {
		epoch = uffd.epoch;
		pthread_rwlock_unlock(&uffd.lock);
		pthread_rwlock_wrlock(&uffd.lock);
		/* unless another thread read it since this one looked */
		if (!uffd_ranges_fresh() || (moved && uffd.epoch == epoch)) {
			atomic_store(&uffd_none_until_ns, 0);
			uffd_ranges_read();
		}
	}
	hit = uffd_ranges_hit(hva);
	epoch = uffd.epoch;
	pthread_rwlock_unlock(&uffd.lock);
	vcpu->async_pf.ranges_gen = gen;
	if (!hit)
		return false;
	seen = resident_slot(vcpu, page, epoch);
	if (*seen == page + 1)
		return false;
	/* In a registered range, a page that is not resident is missing. */
	if (mincore((void *)(uintptr_t)page, PAGE_SIZE, &resident))
		return false;
	if (!(resident & 1))
		return true;
	*seen = page + 1;	/* never 0, the empty slot */
	return false;
}
