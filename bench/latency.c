// SPDX-License-Identifier: MIT
/*
 * latency.c - skvm-bench-latency: two round trips through the KVM ABI.
 *
 *   skvm-bench-latency [-p N] [-i N]
 *
 *   pio    a guest OUT exits to user space and KVM_RUN is called again:
 *          the time of one KVM_RUN that returns KVM_EXIT_IO (N of them)
 *   irqfd  the time from a write() to an irqfd (GSI 1, edge, the master
 *          PIC's IRQ 1) until the guest's handler runs: the handler's
 *          first instruction is an OUT, timestamped as KVM_RUN returns on
 *          the vCPU thread (N interrupts, each taken from HLT)
 *
 * A plain <linux/kvm.h> client with no link to libskvm, like
 * skvm-bench-kvm: run it directly for the kernel's KVM, or under
 * `skvm exec` for skvm.  The guest is a few real-mode instructions.
 * Output, one line per measure (nanoseconds):
 *
 *   pio n=N median_ns=M mean_ns=A min_ns=L
 *   irqfd n=N median_ns=M mean_ns=A min_ns=L
 *
 * Exit status 0, 1 on usage or host errors, 2 if the guest misbehaved,
 * 77 if /dev/kvm cannot be opened.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MEM_SIZE	0x10000
#define CODE_GPA	0x1000
#define PORT_PIO	0xf0
#define PORT_IRQ	0xf1
#define PORT_READY	0xf2

/*
 * Real mode at CODE_GPA.  BL = 0: OUT in a loop.  BL = 1: program both
 * PICs (vectors 0x20/0x28, only IRQ 1 unmasked), report ready, STI, HLT
 * forever; IRQ 1's handler reports and EOIs.
 */
extern const unsigned char lat_guest_start[], lat_guest_end[], lat_guest_handler[];
__asm__(".pushsection .rodata\n"
	".globl lat_guest_start\n.hidden lat_guest_start\n"
	".globl lat_guest_end\n.hidden lat_guest_end\n"
	".globl lat_guest_handler\n.hidden lat_guest_handler\n"
	".code16\n"
	"lat_guest_start:\n"
	"	cmp $1, %bl\n"
	"	je 2f\n"
	"1:	out %al, $0xf0\n"
	"	jmp 1b\n"
	"2:	mov $0x11, %al\n	out %al, $0x20\n	out %al, $0xa0\n"
	"	mov $0x20, %al\n	out %al, $0x21\n"
	"	mov $0x28, %al\n	out %al, $0xa1\n"
	"	mov $0x04, %al\n	out %al, $0x21\n"
	"	mov $0x02, %al\n	out %al, $0xa1\n"
	"	mov $0x01, %al\n	out %al, $0x21\n	out %al, $0xa1\n"
	"	mov $0xfd, %al\n	out %al, $0x21\n"
	"	mov $0xff, %al\n	out %al, $0xa1\n"
	"	out %al, $0xf2\n"
	"	sti\n"
	"3:	hlt\n"
	"	jmp 3b\n"
	"lat_guest_handler:\n"
	"	out %al, $0xf1\n"
	"	push %ax\n"
	"	mov $0x20, %al\n"
	"	out %al, $0x20\n"
	"	pop %ax\n"
	"	iret\n"
	"lat_guest_end:\n"
	".code64\n"
	".popsection\n");

struct vm {
	int kvm, fd, vcpu;
	uint8_t *mem;
	struct kvm_run *run;
	/* irqfd: the vCPU thread publishes each handler run. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned long seq;
	uint64_t t_handler;
	bool ready, quit, failed;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "skvm-bench-latency: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void vm_create(struct vm *v, bool irqchip, uint8_t mode)
{
	struct kvm_userspace_memory_region region = { 0 };
	struct kvm_sregs sregs;
	struct kvm_regs regs = { 0 };
	long size;

	memset(v, 0, sizeof(*v));
	pthread_mutex_init(&v->lock, NULL);
	pthread_cond_init(&v->cond, NULL);
	v->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (v->kvm < 0) {
		fprintf(stderr, "skvm-bench-latency: /dev/kvm: %s\n", strerror(errno));
		exit(77);			/* no KVM here: a test skips */
	}
	v->fd = ioctl(v->kvm, KVM_CREATE_VM, 0);
	if (v->fd < 0)
		die("KVM_CREATE_VM");
	v->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (v->mem == MAP_FAILED)
		die("mmap");
	memcpy(v->mem + CODE_GPA, lat_guest_start,
	       (size_t)(lat_guest_end - lat_guest_start));
	/* IVT[0x21] = 0000:handler */
	v->mem[0x21 * 4] = (uint8_t)(CODE_GPA + (lat_guest_handler - lat_guest_start));
	v->mem[0x21 * 4 + 1] = (uint8_t)((CODE_GPA + (lat_guest_handler - lat_guest_start)) >> 8);
	region.memory_size = MEM_SIZE;
	region.userspace_addr = (uintptr_t)v->mem;
	if (ioctl(v->fd, KVM_SET_USER_MEMORY_REGION, &region))
		die("KVM_SET_USER_MEMORY_REGION");
	if (irqchip && ioctl(v->fd, KVM_CREATE_IRQCHIP, 0))
		die("KVM_CREATE_IRQCHIP");
	v->vcpu = ioctl(v->fd, KVM_CREATE_VCPU, 0);
	if (v->vcpu < 0)
		die("KVM_CREATE_VCPU");
	size = ioctl(v->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (size <= 0)
		die("KVM_GET_VCPU_MMAP_SIZE");
	v->run = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, v->vcpu, 0);
	if (v->run == MAP_FAILED)
		die("mmap kvm_run");
	if (ioctl(v->vcpu, KVM_GET_SREGS, &sregs))
		die("KVM_GET_SREGS");
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	sregs.ss.base = 0;
	sregs.ss.selector = 0;
	sregs.ds.base = 0;
	sregs.ds.selector = 0;
	if (ioctl(v->vcpu, KVM_SET_SREGS, &sregs))
		die("KVM_SET_SREGS");
	regs.rip = CODE_GPA;
	regs.rsp = 0x8000;
	regs.rbx = mode;
	regs.rflags = 2;
	if (ioctl(v->vcpu, KVM_SET_REGS, &regs))
		die("KVM_SET_REGS");
}

static void vm_destroy(struct vm *v)
{
	close(v->vcpu);
	close(v->fd);
	close(v->kvm);
	munmap(v->mem, MEM_SIZE);
}

/* Run until an OUT; return its port, or -1 (anything else). */
static int run_to_out(struct vm *v)
{
	if (ioctl(v->vcpu, KVM_RUN, 0) < 0) {
		if (errno == EINTR)
			return 0;
		die("KVM_RUN");
	}
	if (v->run->exit_reason != KVM_EXIT_IO ||
	    v->run->io.direction != KVM_EXIT_IO_OUT) {
		fprintf(stderr, "skvm-bench-latency: exit %u\n", v->run->exit_reason);
		return -1;
	}
	return v->run->io.port;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *what, uint64_t *t, int n)
{
	uint64_t sum = 0;

	qsort(t, (size_t)n, sizeof(*t), cmp_u64);
	for (int i = 0; i < n; i++)
		sum += t[i];
	printf("%s n=%d median_ns=%llu mean_ns=%llu min_ns=%llu\n", what, n,
	       (unsigned long long)t[n / 2], (unsigned long long)(sum / (uint64_t)n),
	       (unsigned long long)t[0]);
	fflush(stdout);
}

static int bench_pio(int n)
{
	uint64_t *t = calloc((size_t)n, sizeof(*t));
	struct vm v;

	if (!t)
		die("calloc");
	vm_create(&v, false, 0);
	for (int i = 0; i < 10; i++)		/* warm up */
		if (run_to_out(&v) != PORT_PIO)
			return 2;
	for (int i = 0; i < n; i++) {
		uint64_t t0 = now_ns();

		if (run_to_out(&v) != PORT_PIO)
			return 2;
		t[i] = now_ns() - t0;
	}
	report("pio", t, n);
	vm_destroy(&v);
	free(t);
	return 0;
}

static void *irq_vcpu(void *arg)
{
	struct vm *v = arg;

	for (;;) {
		int port = run_to_out(v);
		uint64_t t = now_ns();

		pthread_mutex_lock(&v->lock);
		if (port == PORT_READY) {
			v->ready = true;
		} else if (port == PORT_IRQ) {
			v->t_handler = t;
			v->seq++;
		} else if (port != 0) {
			v->failed = true;
		}
		pthread_cond_broadcast(&v->cond);
		if (v->failed || (port == PORT_IRQ && v->quit)) {
			pthread_mutex_unlock(&v->lock);
			return NULL;
		}
		pthread_mutex_unlock(&v->lock);
	}
}

/* Wait up to 10 s for pred under v->lock. */
static bool wait_until(struct vm *v, bool (*pred)(struct vm *, unsigned long),
		       unsigned long arg)
{
	struct timespec ts;
	bool ok;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	pthread_mutex_lock(&v->lock);
	while (!(ok = pred(v, arg)) && !v->failed)
		if (pthread_cond_timedwait(&v->cond, &v->lock, &ts) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&v->lock);
	return ok;
}

static bool is_ready(struct vm *v, unsigned long arg)
{
	(void)arg;
	return v->ready;
}

static bool seq_past(struct vm *v, unsigned long seq)
{
	return v->seq != seq;
}

static int bench_irqfd(int n, int settle_us)
{
	uint64_t *t = calloc((size_t)n, sizeof(*t)), one = 1;
	struct kvm_irqfd irqfd = { .gsi = 1 };
	pthread_t th;
	struct vm v;
	int efd;

	if (!t)
		die("calloc");
	vm_create(&v, true, 1);
	efd = eventfd(0, EFD_CLOEXEC);
	if (efd < 0)
		die("eventfd");
	irqfd.fd = (uint32_t)efd;
	if (ioctl(v.fd, KVM_IRQFD, &irqfd))
		die("KVM_IRQFD");
	if (pthread_create(&th, NULL, irq_vcpu, &v))
		die("pthread_create");
	if (!wait_until(&v, is_ready, 0))
		goto fail;
	for (int i = -3; i < n; i++) {
		unsigned long seq;
		uint64_t t0;

		usleep((useconds_t)settle_us);	/* the guest is back in HLT */
		pthread_mutex_lock(&v.lock);
		seq = v.seq;
		v.quit = i == n - 1;
		pthread_mutex_unlock(&v.lock);
		t0 = now_ns();
		if (write(efd, &one, 8) != 8)
			die("write irqfd");
		if (!wait_until(&v, seq_past, seq))
			goto fail;
		if (i >= 0)
			t[i] = v.t_handler - t0;
	}
	pthread_join(th, NULL);
	report("irqfd", t, n);
	close(efd);
	vm_destroy(&v);
	free(t);
	return 0;
fail:
	fprintf(stderr, "skvm-bench-latency: the guest did not take the interrupt\n");
	return 2;
}

int main(int argc, char **argv)
{
	int npio = 10000, nirq = 1000, settle = 1000, opt, r;

	while ((opt = getopt(argc, argv, "p:i:s:")) != -1) {
		switch (opt) {
		case 'p':
			npio = atoi(optarg);
			break;
		case 'i':
			nirq = atoi(optarg);
			break;
		case 's':
			settle = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: skvm-bench-latency [-p PIO_N] [-i IRQ_N] "
				"[-s SETTLE_US]\n");
			return 1;
		}
	}
	if (npio < 0 || nirq < 0 || settle < 0)
		return 1;
	r = npio ? bench_pio(npio) : 0;
	if (!r && nirq)
		r = bench_irqfd(nirq, settle);
	return r;
}
