// SPDX-License-Identifier: MIT
/*
 * harness.c - decode a fuzz input into operations on skvm's fds and run
 * them: the memory the harness owns, the fd table, the operations other
 * than ioctls, the KVM_RUN watchdog, and the teardown that closes
 * everything and waits until the core has released every VM, so that a
 * leak shows up as a VM that never dies or as memory LeakSanitizer finds.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "fuzz.h"
#include "kvm_host.h"
#include "skvm.h"

struct fz_mem fz_mem;
struct fz_state fz;

/* --- Input ------------------------------------------------------------- */

uint8_t fz_u8(struct fz_in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

uint16_t fz_u16(struct fz_in *in)
{
	uint16_t v = fz_u8(in);

	return (uint16_t)(v | fz_u8(in) << 8);
}

uint32_t fz_u32(struct fz_in *in)
{
	uint32_t v = fz_u16(in);

	return v | (uint32_t)fz_u16(in) << 16;
}

uint64_t fz_u64(struct fz_in *in)
{
	uint64_t v = fz_u32(in);

	return v | (uint64_t)fz_u32(in) << 32;
}

size_t fz_bytes(struct fz_in *in, void *dst, size_t len)
{
	if (len > in->n)
		len = in->n;
	memcpy(dst, in->p, len);
	in->p += len;
	in->n -= len;
	return len;
}

/* --- Memory -------------------------------------------------------------- */

/*
 * One reservation, PROT_NONE where nothing is mapped on purpose:
 *   [arena 1 MiB][guard][arg][guard][aux][guard][stage]
 * The arena holds the guest buffers (64 KiB RW every 128 KiB) and a
 * read-only page at FZ_RO_PAGE_OFF; the rest of it stays PROT_NONE.
 */
#define FZ_ARG_OFF (FZ_ARENA_SIZE + FZ_PAGE)
#define FZ_AUX_OFF (FZ_ARG_OFF + FZ_ARG_SIZE + FZ_PAGE)
#define FZ_STAGE_OFF (FZ_AUX_OFF + FZ_AUX_SIZE + FZ_PAGE)
#define FZ_TOTAL (FZ_STAGE_OFF + FZ_ARG_SIZE)

static int fz_mem_init(void)
{
	uint8_t *p = mmap(NULL, FZ_TOTAL, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	int r = 0;

	if (p == MAP_FAILED)
		return -errno;
	fz_mem.arena = p;
	for (int i = 0; i < FZ_NR_GUEST_BUFS; i++) {
		fz_mem.guest[i] = p + i * FZ_GUEST_BUF_STRIDE;
		r |= mprotect(fz_mem.guest[i], FZ_GUEST_BUF_SIZE,
			      PROT_READ | PROT_WRITE);
	}
	fz_mem.ro_page = p + FZ_RO_PAGE_OFF;
	fz_mem.none = p + FZ_RO_PAGE_OFF + 2 * FZ_PAGE;
	fz_mem.arg = p + FZ_ARG_OFF;
	fz_mem.aux = p + FZ_AUX_OFF;
	fz_mem.stage = p + FZ_STAGE_OFF;
	r |= mprotect(fz_mem.ro_page, FZ_PAGE, PROT_READ);
	r |= mprotect(fz_mem.arg, FZ_ARG_SIZE, PROT_READ | PROT_WRITE);
	r |= mprotect(fz_mem.aux, FZ_AUX_SIZE, PROT_READ | PROT_WRITE);
	r |= mprotect(fz_mem.stage, FZ_ARG_SIZE, PROT_READ | PROT_WRITE);
	return r ? -errno : 0;
}

/*
 * The guest placed in every buffer: real-mode code at offset 0 that does
 * port I/O, a RAM write, an MMIO write and read (0xd0000 is unbacked unless
 * a slot covers it), an I/O to port 0x80, then HLT and a jump back; and a
 * jump to it at offset 0xfff0, the reset vector when the buffer backs
 * 0xffff0000.  A run ends at the HLT at the latest.
 */
static const uint8_t fz_guest_code[] = {
	0xba, 0xf8, 0x03,		/* mov dx, 0x3f8 */
	0xb0, 0x41,			/* mov al, 'A' */
	0xee,				/* out dx, al */
	0xec,				/* in al, dx */
	0xbb, 0x00, 0x10,		/* mov bx, 0x1000 */
	0x88, 0x07,			/* mov [bx], al */
	0xb8, 0x00, 0xd0,		/* mov ax, 0xd000 */
	0x8e, 0xc0,			/* mov es, ax */
	0x26, 0xa2, 0x00, 0x00,		/* mov [es:0], al */
	0x26, 0xa0, 0x00, 0x00,		/* mov al, [es:0] */
	0xe6, 0x80,			/* out 0x80, al */
	0xf4,				/* hlt */
	0xeb, 0xe2,			/* jmp 0 */
};

static const uint8_t fz_reset_code[] = {
	0xe9, 0x0d, 0x00,		/* jmp 0 (from 0xfff0) */
};

static void fz_mem_reset(void)
{
	for (int i = 0; i < FZ_NR_GUEST_BUFS; i++) {
		memset(fz_mem.guest[i], 0, FZ_GUEST_BUF_SIZE);
		memcpy(fz_mem.guest[i], fz_guest_code, sizeof(fz_guest_code));
		memcpy(fz_mem.guest[i] + 0xfff0, fz_reset_code,
		       sizeof(fz_reset_code));
	}
	memset(fz_mem.arg, 0, FZ_ARG_SIZE);
	memset(fz_mem.aux, 0, FZ_AUX_SIZE);
}

/* --- The watchdog ---------------------------------------------------------- */

/*
 * KVM_RUN ends at the guest's HLT, but the program may point RIP anywhere,
 * halt with an in-kernel LAPIC, or loop.  A periodic signal to this thread
 * makes KVM_RUN return -EINTR (KVM_EXIT_INTR) as it would with KVM, so
 * every run is bounded by FZ_RUN_NS of wall time.
 */
#define FZ_RUN_NS 2000000L

static timer_t fz_timer;
static pid_t fz_timer_tid;

static void fz_watchdog_handler(int sig)
{
}

static int fz_watchdog_init(void)
{
	struct sigevent sev = { 0 };
	struct sigaction sa = { 0 };

	sa.sa_handler = fz_watchdog_handler;
	sigemptyset(&sa.sa_mask);
	if (sigaction(FZ_WATCHDOG_SIGNAL, &sa, NULL))
		return -errno;
	if (fz_timer_tid)
		timer_delete(fz_timer);
	fz_timer_tid = (pid_t)syscall(SYS_gettid);
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = FZ_WATCHDOG_SIGNAL;
	sev._sigev_un._tid = fz_timer_tid;
	if (timer_create(CLOCK_MONOTONIC, &sev, &fz_timer))
		return -errno;
	return 0;
}

void fz_watchdog(bool arm)
{
	struct itimerspec its = { 0 };

	if (fz_timer_tid != (pid_t)syscall(SYS_gettid) && fz_watchdog_init())
		abort();
	if (arm) {
		its.it_value.tv_nsec = FZ_RUN_NS;
		its.it_interval.tv_nsec = FZ_RUN_NS;
	}
	timer_settime(fz_timer, 0, &its, NULL);
}

/* --- The fd table ---------------------------------------------------------- */

void fz_add_fd(int fd, enum fz_kind kind)
{
	for (int i = 0; i < FZ_MAX_FDS; i++) {
		struct fz_fd *f = &fz.fds[i];

		if (f->kind != FZ_NONE)
			continue;
		f->fd = fd;
		f->kind = kind;
		f->run = NULL;
		if (kind == FZ_VCPU) {
			/* what every VMM does first with a new vCPU */
			void *p = mmap(NULL, 3 * FZ_PAGE, PROT_READ | PROT_WRITE,
				       MAP_SHARED, fd, 0);

			if (p != MAP_FAILED) {
				f->run = p;
				f->run_len = 3 * FZ_PAGE;
			}
		}
		return;
	}
	close(fd);	/* table full: the object goes away at once */
}

static void fz_drop_fd(struct fz_fd *f)
{
	if (f->run)
		munmap(f->run, f->run_len);
	close(f->fd);
	memset(f, 0, sizeof(*f));
}

/*
 * One byte picks an fd: with bit 7 clear, among the table's fds of the
 * wanted kind (any kind if there is none); with it set, among all of them;
 * 0xfd-0xff are an fd that is not skvm's, -1, and one that is not open.
 */
int fz_pick_fd(struct fz_in *in, enum fz_kind kind)
{
	uint8_t b = fz_u8(in);
	int cand[FZ_MAX_FDS], n = 0;

	if (b == 0xff)
		return -1;
	if (b == 0xfe)
		return 0x7ffffff0;
	if (b == 0xfd)
		return fz.not_ours;
	for (int pass = 0; pass < 2 && !n; pass++) {
		for (int i = 0; i < FZ_MAX_FDS; i++) {
			enum fz_kind k = fz.fds[i].kind;

			if (k == FZ_NONE)
				continue;
			if (!pass && !(b & 0x80) && kind != FZ_NONE && k != kind)
				continue;
			cand[n++] = i;
		}
	}
	return n ? fz.fds[cand[(b & 0x7f) % n]].fd : -1;
}

static struct fz_fd *fz_pick_entry(struct fz_in *in, enum fz_kind kind)
{
	int fd = fz_pick_fd(in, kind);

	for (int i = 0; i < FZ_MAX_FDS; i++)
		if (fz.fds[i].kind != FZ_NONE && fz.fds[i].fd == fd)
			return &fz.fds[i];
	return NULL;
}

/* --- Operations other than ioctls ------------------------------------------ */

static void fz_op_open(struct fz_in *in)
{
	int fd = skvm_open(fz_u8(in) & 1 ? O_RDWR | O_CLOEXEC : O_RDWR);

	if (fd >= 0)
		fz_add_fd(fd, FZ_SYS);
}

static void fz_op_create_vm(struct fz_in *in)
{
	int sys = fz_pick_fd(in, FZ_SYS);
	uint8_t t = fz_u8(in);
	unsigned long type = t < 0xf0 ? 0 : t == 0xff ? fz_u64(in) : t & 0xf;

	fz_ioctl(sys, KVM_CREATE_VM, (void *)type);
}

static void fz_op_create_vcpu(struct fz_in *in)
{
	int vm = fz_pick_fd(in, FZ_VM);
	uint16_t id = fz_u16(in);

	/* mostly small ids; sometimes up to the limits and past them */
	fz_ioctl(vm, KVM_CREATE_VCPU, (void *)(unsigned long)
		 (id < 0xf000 ? id % 8 : id & 0x1fff));
}

/*
 * KVM_RUN on a vCPU: immediate_exit set or not, through the harness's own
 * kvm_run mapping, then up to four runs, each bounded by the watchdog.
 */
static void fz_op_run(struct fz_in *in)
{
	struct fz_fd *f = fz_pick_entry(in, FZ_VCPU);
	uint8_t b = fz_u8(in);
	int n = 1 + ((b >> 2) & 3);

	if (!f)
		return;
	if (f->run)
		f->run->immediate_exit = (b & 3) == 0;
	for (int i = 0; i < n; i++) {
		fz_ioctl(f->fd, KVM_RUN, NULL);
		if (fz.verbose && f->run)
			fprintf(stderr, "fuzz: exit_reason %u\n",
				f->run->exit_reason);
	}
}

static const int fz_prots[] = {
	PROT_READ | PROT_WRITE, PROT_READ, PROT_READ | PROT_WRITE | PROT_EXEC,
	PROT_NONE,
};

/*
 * mmap an fd at a fuzzed page offset: mostly the vCPU pages (kvm_run, PIO,
 * coalesced ring) and the dirty ring at KVM_DIRTY_LOG_PAGE_OFFSET.
 */
static void fz_op_mmap(struct fz_in *in)
{
	int fd = fz_pick_fd(in, FZ_VCPU);
	uint8_t o = fz_u8(in), l = fz_u8(in), pf = fz_u8(in);
	uint64_t pgoff = o < 0xc0 ? o % 72 : o < 0xf0 ?
		KVM_DIRTY_LOG_PAGE_OFFSET + (o & 0xf) : fz_u32(in);
	size_t len = (1 + l % 80) * FZ_PAGE;
	int prot = fz_prots[pf & 3];
	int flags = pf & 4 ? MAP_PRIVATE : MAP_SHARED;
	struct fz_map *m = NULL;
	struct stat st;
	uint64_t off = pgoff * FZ_PAGE;
	void *p;

	for (int i = 0; i < FZ_MAX_MAPS && !m; i++)
		if (!fz.maps[i].p)
			m = &fz.maps[i];
	if (!m || off > (1ULL << 40))
		return;
	p = mmap(NULL, len, prot, flags, fd, (off_t)off);
	if (p == MAP_FAILED)
		return;
	m->p = p;
	m->len = len;
	m->writable = 0;
	/* bytes past the file's end raise SIGBUS: write only those before */
	if ((prot & PROT_WRITE) && !fstat(fd, &st) && (uint64_t)st.st_size > off)
		m->writable = (uint64_t)st.st_size - off < len ?
			      (uint64_t)st.st_size - off : len;
}

/* A mapping to write to: one from fz_op_mmap or a vCPU's kvm_run. */
static uint8_t *fz_pick_map(struct fz_in *in, size_t *len)
{
	uint8_t b = fz_u8(in);
	uint8_t *cand[FZ_MAX_MAPS + FZ_MAX_FDS];
	size_t lens[FZ_MAX_MAPS + FZ_MAX_FDS];
	int n = 0;

	for (int i = 0; i < FZ_MAX_MAPS; i++) {
		if (fz.maps[i].p && fz.maps[i].writable) {
			cand[n] = fz.maps[i].p;
			lens[n++] = fz.maps[i].writable;
		}
	}
	for (int i = 0; i < FZ_MAX_FDS; i++) {
		if (fz.fds[i].run) {
			cand[n] = (uint8_t *)fz.fds[i].run;
			lens[n++] = fz.fds[i].run_len;
		}
	}
	if (!n)
		return NULL;
	n = b % n;
	*len = lens[n];
	return cand[n];
}

/*
 * Write bytes into a shared page: kvm_run (immediate_exit, sync regs, the
 * exit data the next KVM_RUN completes), the coalesced ring's head and
 * tail, dirty ring entries the next KVM_RESET_DIRTY_RINGS harvests.
 */
static void fz_op_map_write(struct fz_in *in)
{
	size_t len = 0, off;
	uint8_t *p = fz_pick_map(in, &len);
	uint16_t o = fz_u16(in);
	uint8_t n = fz_u8(in);
	uint8_t buf[256];

	n = (uint8_t)fz_bytes(in, buf, n);
	if (!p)
		return;
	off = o % len;
	if (n > len - off)
		n = (uint8_t)(len - off);
	memcpy(p + off, buf, n);
}

static void fz_op_munmap(struct fz_in *in)
{
	uint8_t b = fz_u8(in);
	struct fz_map *m = &fz.maps[b % FZ_MAX_MAPS];

	if (m->p) {
		munmap(m->p, m->len);
		memset(m, 0, sizeof(*m));
	}
}

static void fz_op_close(struct fz_in *in)
{
	struct fz_fd *f = fz_pick_entry(in, FZ_NONE);

	if (f)
		fz_drop_fd(f);
}

/* dup, dup3 onto another table fd, or F_DUPFD_CLOEXEC. */
static void fz_op_dup(struct fz_in *in)
{
	struct fz_fd *f = fz_pick_entry(in, FZ_NONE);
	uint8_t how = fz_u8(in);
	struct fz_fd *to = fz_pick_entry(in, FZ_NONE);
	int fd;

	if (!f)
		return;
	if ((how & 3) == 1 && to && to != f) {
		if (dup3(f->fd, to->fd, O_CLOEXEC) < 0)
			return;
		if (to->run)
			munmap(to->run, to->run_len);
		to->run = NULL;
		to->kind = f->kind == FZ_VCPU ? FZ_OTHER : f->kind;
		return;
	}
	fd = (how & 3) == 2 ? fcntl(f->fd, F_DUPFD_CLOEXEC, 100) : dup(f->fd);
	/* a dup of a vCPU fd gets no kvm_run mapping of its own */
	if (fd >= 0)
		fz_add_fd(fd, f->kind == FZ_VCPU ? FZ_OTHER : f->kind);
}

static void fz_op_eventfd(struct fz_in *in)
{
	int fd = eventfd(fz_u8(in) & 3, EFD_NONBLOCK | EFD_CLOEXEC);

	if (fd >= 0)
		fz_add_fd(fd, FZ_EVENT);
}

/* Signal an eventfd (an irqfd injects; a resamplefd only counts). */
static void fz_op_eventfd_write(struct fz_in *in)
{
	struct fz_fd *f = fz_pick_entry(in, FZ_EVENT);
	uint64_t v = 1;

	if (f && f->kind == FZ_EVENT && write(f->fd, &v, sizeof(v)) < 0)
		return;
}

/* pread a stats fd (or any fd) at a fuzzed offset. */
static void fz_op_pread(struct fz_in *in)
{
	int fd = fz_pick_fd(in, FZ_STATS);
	uint8_t m = fz_u8(in);
	uint64_t off = m & 0x80 ? fz_u64(in) : fz_u16(in);
	size_t len = fz_u16(in) % FZ_AUX_SIZE;

	if (fd == fz.not_ours)
		return;
	if (m & 1) {
		if (read(fd, fz_mem.aux, len) < 0)
			return;
	} else if (pread(fd, fz_mem.aux, len, (off_t)(off & INT64_MAX)) < 0) {
		return;
	}
}

/* Guest code and data: bytes into a guest buffer. */
static void fz_op_guest_write(struct fz_in *in)
{
	uint8_t *buf = fz_mem.guest[fz_u8(in) % FZ_NR_GUEST_BUFS];
	uint16_t off = fz_u16(in);
	uint8_t n = fz_u8(in);
	uint8_t tmp[256];

	n = (uint8_t)fz_bytes(in, tmp, n);
	if (n > FZ_GUEST_BUF_SIZE - off)
		n = (uint8_t)(FZ_GUEST_BUF_SIZE - off);
	memcpy(buf + off, tmp, n);
}

/* Let the event and timer threads act (irqfd injection, PIT ticks). */
static void fz_op_pause(struct fz_in *in)
{
	usleep(fz_u8(in) % 200);
}

typedef void (*fz_op_fn)(struct fz_in *in);

static const fz_op_fn fz_ops[] = {
	fz_op_open,		/* 0 */
	fz_op_create_vm,	/* 1 */
	fz_op_create_vcpu,	/* 2 */
	fz_op_memslot,		/* 3 */
	fz_op_ioctl,		/* 4 */
	fz_op_ioctl_value,	/* 5 */
	fz_op_run,		/* 6 */
	fz_op_raw_ioctl,	/* 7 */
	fz_op_mmap,		/* 8 */
	fz_op_map_write,	/* 9 */
	fz_op_munmap,		/* 10 */
	fz_op_close,		/* 11 */
	fz_op_dup,		/* 12 */
	fz_op_eventfd,		/* 13 */
	fz_op_eventfd_write,	/* 14 */
	fz_op_pread,		/* 15 */
	fz_op_guest_write,	/* 16 */
	fz_op_pause,		/* 17 */
	fz_op_signal_mask,	/* 18 */
};

#define FZ_NR_OPS (sizeof(fz_ops) / sizeof(fz_ops[0]))

/* --- Teardown and leak check ----------------------------------------------- */

/*
 * Close skvm fds nobody in the table knows: an ioctl that created an fd
 * and failed to tell the caller.  KVM leaves such an fd open too (the
 * process owns it), so it is closed here rather than reported.
 */
static int fz_close_orphans(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name);

		if (e->d_name[0] == '.' || fd == dirfd(d))
			continue;
		if (skvm_is_skvm_fd(fd)) {
			if (fz.verbose)
				fprintf(stderr, "fuzz: orphan skvm fd %d\n", fd);
			close(fd);
			n++;
		}
	}
	closedir(d);
	return n;
}

#define FZ_RELEASE_WAIT_US 10000000L

static void fz_teardown(void)
{
	long waited = 0;

	for (int i = 0; i < FZ_MAX_MAPS; i++)
		if (fz.maps[i].p)
			munmap(fz.maps[i].p, fz.maps[i].len);
	for (int i = 0; i < FZ_MAX_FDS; i++)
		if (fz.fds[i].kind != FZ_NONE)
			fz_drop_fd(&fz.fds[i]);
	memset(fz.maps, 0, sizeof(fz.maps));
	/* the core releases objects on its watcher thread: wait for it */
	while (kvm_nr_live_vms() > 0 && waited < FZ_RELEASE_WAIT_US) {
		if (waited == 200000)
			fz_close_orphans();
		usleep(50);
		waited += 50;
	}
	if (kvm_nr_live_vms() > 0) {
		fprintf(stderr, "fuzz: %d VM(s) still alive %ld ms after every "
			"fd and mapping was closed\n", kvm_nr_live_vms(),
			FZ_RELEASE_WAIT_US / 1000);
		abort();
	}
	fz_close_orphans();
	fz.nr_vms = fz.nr_vcpus = fz.nr_created = 0;
}

/* --- Entry points ------------------------------------------------------------ */

int fz_init(void)
{
	int r = fz_mem_init();

	if (r)
		return r;
	r = fz_watchdog_init();
	if (r)
		return r;
	fz.not_ours = open("/dev/null", O_RDONLY | O_CLOEXEC);
	fz.verbose = getenv("SKVM_FUZZ_VERBOSE") != NULL;
	fz.safe_slots = getenv("SKVM_FUZZ_SAFE_SLOTS") != NULL;
	return fz.not_ours < 0 ? -errno : 0;
}

void fz_run(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };

	fz_mem_reset();
	for (int i = 0; i < FZ_MAX_OPS && in.n; i++) {
		uint8_t op = fz_u8(&in);

		if (fz.verbose)
			fprintf(stderr, "fuzz: op %u\n", op % (unsigned int)FZ_NR_OPS);
		fz_ops[op % FZ_NR_OPS](&in);
	}
	fz_teardown();
}
