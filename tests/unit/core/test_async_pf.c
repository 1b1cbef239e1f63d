// SPDX-License-Identifier: MIT
/*
 * Asynchronous page faults (virt/kvm/async_pf.c, arch/x86/kvm/pv_async_pf.c)
 * with a 64-bit guest whose memory slot 1 is registered with a userfaultfd
 * and filled late by a VMM thread, as in post-copy migration:
 *
 * - with MSR_KVM_ASYNC_PF_INT/_EN written, each first touch of a missing
 *   page is a #PF with flags = PAGE_NOT_PRESENT in the guest's
 *   kvm_vcpu_pv_apf_data and the token in CR2; the handler goes on
 *   running guest code (a counter) with interrupts on until the "page
 *   ready" interrupt brings the same token, clears it and writes
 *   MSR_KVM_ASYNC_PF_ACK; the VMM thread supplies the page only once the
 *   counter has moved on;
 * - without them the vCPU waits for the page, still taking interrupts
 *   (an MSI sent while it waits is handled), and never sees a #PF.
 *
 * The guest logs events at LOG: ('N', token) not present, ('R', token)
 * ready, ('W', ~0) wake-all, ('A', 0) after the ACK.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <linux/kvm.h>

#include "skvm.h"
#include "kvm_host.h"

#define MEM		0x100000	/* slot 0: tables, code, data */
#define UMEM_GPA	0x100000	/* slot 1: the userfaultfd's */
#define UMEM		0x10000
#define APF_DATA	0x7000
#define COUNTER		0x7100		/* u64, the #PF handler's loop */
#define READY_SEEN	0x710c		/* u32, last "page ready" token */
#define LOG_N		0x7110		/* u32, entries in LOG */
#define RESULT		0x7120		/* u64 x 2, what the guest read */
#define IRQS		0x7140		/* u64, MSIs handled */
#define BAIL		0x7150		/* u8: the #PF loop exits to BAIL_PORT */
#define LOG		0x7200		/* (u32 kind, u32 token) entries */
#define CODE		0x8000
#define STACK		0xf000
#define READY_VEC	0xec
#define MSI_VEC		0xed
#define DONE_PORT	0x10
#define BAIL_PORT	0x12

/*
 * The guest.  RBX: the MSR_KVM_ASYNC_PF_EN value to write first, if any.  Addresses are absolute
 * (the code runs at CODE, identity-mapped).
 */
__asm__(
	".pushsection .rodata\n"
	".intel_syntax noprefix\n"
	".globl apf_guest_start, apf_guest_pf, apf_guest_ready, apf_guest_msi, apf_guest_end\n"
	"apf_guest_start:\n"
	"	mov rax, 0xfee000f0\n"
	"	mov dword ptr [rax], 0x1ff\n"		/* LAPIC software-enabled */
	"	test rbx, rbx\n"
	"	jz 1f\n"
	"	mov ecx, 0x4b564d06\n"			/* MSR_KVM_ASYNC_PF_INT */
	"	mov eax, 0xec\n"
	"	xor edx, edx\n"
	"	wrmsr\n"
	"	mov ecx, 0x4b564d02\n"			/* MSR_KVM_ASYNC_PF_EN */
	"	mov eax, ebx\n"
	"	wrmsr\n"
	"1:	sti\n"
	"	nop\n"					/* out of the STI shadow */
	"	mov rax, qword ptr [0x100000]\n"
	"	mov qword ptr [0x7120], rax\n"
	"	mov rax, qword ptr [0x101000]\n"
	"	mov qword ptr [0x7128], rax\n"
	"	out 0x10, al\n"
	"	hlt\n"
	/* #PF: an async "page not present", or a real fault (exit port 0x11) */
	"apf_guest_pf:\n"
	"	push rax\n"
	"	push rbx\n"
	"	mov eax, dword ptr [0x7000]\n"
	"	test eax, 1\n"
	"	jnz 2f\n"
	"	mov rax, cr2\n"
	"	out 0x11, al\n"
	"	hlt\n"
	"2:	mov dword ptr [0x7000], 0\n"
	"	mov rax, cr2\n"
	"	mov ebx, dword ptr [0x7110]\n"
	"	mov dword ptr [0x7200 + rbx * 8], 'N'\n"
	"	mov dword ptr [0x7204 + rbx * 8], eax\n"
	"	inc dword ptr [0x7110]\n"
	"	sti\n"					/* other work while it comes */
	"3:	inc qword ptr [0x7100]\n"
	"	cmp dword ptr [0x710c], eax\n"
	"	je 5f\n"
	"	cmp byte ptr [0x7150], 0\n"		/* BAIL: exit at 100000 */
	"	je 3b\n"
	"	cmp qword ptr [0x7100], 100000\n"
	"	jne 3b\n"
	"	out 0x12, al\n"
	"	jmp 3b\n"
	"5:	cli\n"
	"	pop rbx\n"
	"	pop rax\n"
	"	add rsp, 8\n"				/* error code */
	"	iretq\n"
	/* "page ready": log the token, free the slot, ACK, EOI */
	"apf_guest_ready:\n"
	"	push rax\n"
	"	push rbx\n"
	"	push rcx\n"
	"	push rdx\n"
	"	mov eax, dword ptr [0x7004]\n"
	"	mov ebx, dword ptr [0x7110]\n"
	"	mov dword ptr [0x7200 + rbx * 8], 'R'\n"
	"	cmp eax, 0xffffffff\n"
	"	jne 4f\n"
	"	mov dword ptr [0x7200 + rbx * 8], 'W'\n"
	"4:	mov dword ptr [0x7204 + rbx * 8], eax\n"
	"	inc dword ptr [0x7110]\n"
	"	mov dword ptr [0x7004], 0\n"
	"	mov dword ptr [0x710c], eax\n"
	"	mov ecx, 0x4b564d07\n"			/* MSR_KVM_ASYNC_PF_ACK */
	"	mov eax, 1\n"
	"	xor edx, edx\n"
	"	wrmsr\n"
	"	mov ebx, dword ptr [0x7110]\n"
	"	mov dword ptr [0x7200 + rbx * 8], 'A'\n"
	"	mov dword ptr [0x7204 + rbx * 8], 0\n"
	"	inc dword ptr [0x7110]\n"
	"	mov rcx, 0xfee000b0\n"
	"	mov dword ptr [rcx], 0\n"		/* EOI */
	"	pop rdx\n"
	"	pop rcx\n"
	"	pop rbx\n"
	"	pop rax\n"
	"	iretq\n"
	/* an MSI from the VMM thread */
	"apf_guest_msi:\n"
	"	push rax\n"
	"	inc qword ptr [0x7140]\n"
	"	mov rax, 0xfee000b0\n"
	"	mov dword ptr [rax], 0\n"
	"	pop rax\n"
	"	iretq\n"
	"apf_guest_end:\n"
	".att_syntax prefix\n"
	".popsection\n");

extern const uint8_t apf_guest_start[], apf_guest_pf[], apf_guest_ready[],
	apf_guest_msi[], apf_guest_end[];

struct vmm {
	int uffd, vm;
	uint8_t *mem, *umem;
	bool pv;			/* the guest expects "not present" */
	uint64_t en;			/* MSR_KVM_ASYNC_PF_EN, 0: not written */
	bool never;			/* faults are never resolved */
	int kvm, vcpu;
	struct kvm_run *run;
	pthread_t thread;
	atomic_bool stop;
	int faults;
	uint64_t counter_at_fault[2], counter_at_copy[2];
	uint64_t irqs_at_copy[2];
};

static uint64_t guest_u64(struct vmm *v, uint64_t gpa)
{
	return __atomic_load_n((uint64_t *)(v->mem + gpa), __ATOMIC_SEQ_CST);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void send_msi(struct vmm *v)
{
	struct kvm_msi msi = { .address_lo = 0xfee00000, .data = MSI_VEC };

	skvm_ioctl(v->vm, KVM_SIGNAL_MSI, &msi);
}

/*
 * Resolve each fault late: with async PF, once the guest has run its
 * counter 1000 times further; without, once it has taken an MSI sent
 * while it waits.  At most 20 s either way: a loaded host runs the guest
 * slowly, and the checks below need the guest to have got that far.
 */
static void *vmm_thread(void *arg)
{
	struct vmm *v = arg;
	static uint64_t page[512];
	struct pollfd pfd = { .fd = v->uffd, .events = POLLIN };
	struct uffd_msg msg;
	uint64_t c0, t0, addr;
	int i;

	while (!atomic_load(&v->stop) && v->faults < 2) {
		if (poll(&pfd, 1, 50) <= 0)
			continue;
		if (read(v->uffd, &msg, sizeof(msg)) != sizeof(msg) ||
		    msg.event != UFFD_EVENT_PAGEFAULT)
			continue;
		addr = msg.arg.pagefault.address & ~4095ull;
		i = v->faults;
		if (v->never) {
			v->faults++;
			continue;
		}
		c0 = guest_u64(v, COUNTER);
		v->counter_at_fault[i] = c0;
		if (!v->pv)
			send_msi(v);
		t0 = now_ms();
		while (now_ms() - t0 < 20000 &&
		       (v->pv ? guest_u64(v, COUNTER) - c0 < 1000 :
				guest_u64(v, IRQS) <= (uint64_t)i))
			usleep(1000);
		if (!v->pv)
			usleep(20000);	/* it keeps waiting */
		v->counter_at_copy[i] = guest_u64(v, COUNTER);
		v->irqs_at_copy[i] = guest_u64(v, IRQS);
		for (int k = 0; k < 512; k++)
			page[k] = 0xa5a5000000000000ull | (addr - (uint64_t)(uintptr_t)v->umem) | k;
		struct uffdio_copy copy = {
			.dst = addr, .src = (uint64_t)(uintptr_t)page, .len = 4096,
		};
		ioctl(v->uffd, UFFDIO_COPY, &copy);
		v->faults++;
	}
	return NULL;
}

static void set_gate(uint8_t *idt, int vec, uint64_t handler)
{
	uint8_t *g = idt + vec * 16;

	memset(g, 0, 16);
	g[0] = handler & 0xff;
	g[1] = (handler >> 8) & 0xff;
	g[2] = 8;			/* CS */
	g[5] = 0x8e;			/* present 64-bit interrupt gate */
	g[6] = (handler >> 16) & 0xff;
	g[7] = (handler >> 24) & 0xff;
}

/* Slot 0 with page tables, GDT, IDT, code; long mode, RBX = pv. */
static void guest_setup(struct vmm *v, int vcpu)
{
	uint8_t *m = v->mem;
	uint64_t *pml4 = (uint64_t *)(m + 0x1000), *pdpt = (uint64_t *)(m + 0x2000);
	uint64_t *pd = (uint64_t *)(m + 0x3000), *pd_apic = (uint64_t *)(m + 0x4000);
	uint64_t *gdt = (uint64_t *)(m + 0x5000);
	struct kvm_regs regs = { .rip = CODE, .rsp = STACK, .rflags = 2, .rbx = v->en };
	struct kvm_sregs sregs;

	pml4[0] = 0x2000 | 3;
	pdpt[0] = 0x3000 | 3;
	pdpt[3] = 0x4000 | 3;
	pd[0] = 0x80 | 3;			/* 0-2 MiB */
	pd_apic[0x1f7] = 0xfee00000 | 0x80 | 0x10 | 3;	/* the LAPIC page, UC */
	gdt[1] = 0x00af9b000000ffffull;		/* 64-bit code */
	gdt[2] = 0x00cf93000000ffffull;		/* data */
	memcpy(m + CODE, apf_guest_start, (size_t)(apf_guest_end - apf_guest_start));
	set_gate(m + 0x6000, 14, CODE + (uint64_t)(apf_guest_pf - apf_guest_start));
	set_gate(m + 0x6000, READY_VEC,
		 CODE + (uint64_t)(apf_guest_ready - apf_guest_start));
	set_gate(m + 0x6000, MSI_VEC,
		 CODE + (uint64_t)(apf_guest_msi - apf_guest_start));

	assert_int_equal(skvm_ioctl(vcpu, KVM_GET_SREGS, &sregs), 0);
	sregs.cr3 = 0x1000;
	sregs.cr4 = 1u << 5;
	sregs.cr0 = 0x80000011;
	sregs.efer = (1u << 8) | (1u << 10);
	sregs.gdt.base = 0x5000;
	sregs.gdt.limit = 23;
	sregs.idt.base = 0x6000;
	sregs.idt.limit = 4095;
	sregs.cs = (struct kvm_segment){ .selector = 8, .limit = 0xffffffff,
		.type = 11, .present = 1, .s = 1, .l = 1, .g = 1 };
	sregs.ds = sregs.es = sregs.ss = (struct kvm_segment){ .selector = 16,
		.limit = 0xffffffff, .type = 3, .present = 1, .s = 1, .g = 1, .db = 1 };
	assert_int_equal(skvm_ioctl(vcpu, KVM_SET_SREGS, &sregs), 0);
	assert_int_equal(skvm_ioctl(vcpu, KVM_SET_REGS, &regs), 0);
}

/* Log entries other than wake-alls, as (kind, token) pairs. */
static int guest_log(struct vmm *v, uint32_t out[][2], int max)
{
	uint32_t n = *(uint32_t *)(v->mem + LOG_N);
	uint32_t *log = (uint32_t *)(v->mem + LOG);
	int k = 0;

	for (uint32_t i = 0; i < n && k < max; i++) {
		if (log[2 * i] == 'W') {
			/* its ACK entry follows */
			i++;
			continue;
		}
		out[k][0] = log[2 * i];
		out[k++][1] = log[2 * i + 1];
	}
	return k;
}

/* Start the guest against a late VMM thread; false to skip. */
static bool start_guest(struct vmm *v)
{
	struct kvm_userspace_memory_region m0 = { .slot = 0, .memory_size = MEM };
	struct kvm_userspace_memory_region m1 = { .slot = 1,
		.guest_phys_addr = UMEM_GPA, .memory_size = UMEM };
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg;

	v->uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (v->uffd < 0 || ioctl(v->uffd, UFFDIO_API, &api))
		return false;
	v->kvm = skvm_open(O_RDWR);
	v->mem = mmap(NULL, MEM, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	v->umem = mmap(NULL, UMEM, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(v->mem != MAP_FAILED && v->umem != MAP_FAILED);
	reg = (struct uffdio_register){
		.range = { (uint64_t)(uintptr_t)v->umem, UMEM },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	assert_int_equal(ioctl(v->uffd, UFFDIO_REGISTER, &reg), 0);

	v->vm = skvm_ioctl(v->kvm, KVM_CREATE_VM, 0);
	assert_true(v->vm >= 0);
	m0.userspace_addr = (uint64_t)(uintptr_t)v->mem;
	m1.userspace_addr = (uint64_t)(uintptr_t)v->umem;
	assert_int_equal(skvm_ioctl(v->vm, KVM_SET_USER_MEMORY_REGION, &m0), 0);
	assert_int_equal(skvm_ioctl(v->vm, KVM_SET_USER_MEMORY_REGION, &m1), 0);
	assert_int_equal(skvm_ioctl(v->vm, KVM_CREATE_IRQCHIP, 0), 0);
	v->vcpu = skvm_ioctl(v->vm, KVM_CREATE_VCPU, 0);
	assert_true(v->vcpu >= 0);
	v->run = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, v->vcpu, 0);
	assert_true(v->run != MAP_FAILED);
	guest_setup(v, v->vcpu);
	v->mem[BAIL] = v->never;
	pthread_create(&v->thread, NULL, vmm_thread, v);
	assert_int_equal(skvm_ioctl(v->vcpu, KVM_RUN, 0), 0);
	assert_int_equal(v->run->exit_reason, KVM_EXIT_IO);
	return true;
}

static void stop_guest(struct vmm *v)
{
	atomic_store(&v->stop, true);
	pthread_join(v->thread, NULL);
	munmap(v->run, 3 * 4096);
	close(v->vcpu);
	close(v->vm);
	close(v->kvm);
	close(v->uffd);
}

/* Run the guest to its end; false to skip. */
static bool run_guest(struct vmm *v)
{
	if (!start_guest(v))
		return false;
	assert_int_equal(v->run->io.port, DONE_PORT);	/* not 0x11: no real #PF */
	stop_guest(v);
	return true;
}

static void check_results(struct vmm *v)
{
	/* the guest read what the VMM supplied, after it supplied it */
	assert_int_equal(v->faults, 2);
	assert_int_equal(guest_u64(v, RESULT), 0xa5a5000000000000ull);
	assert_int_equal(guest_u64(v, RESULT + 8), 0xa5a5000000000000ull | 0x1000);
}

static void test_async_pf_guest_keeps_running(void **state)
{
	struct vmm v = { .pv = true, .en = 0x7000 | 0xb };	/* SEND_ALWAYS, AS_INT */
	uint32_t log[16][2];
	int n;

	if (!run_guest(&v))
		skip();
	check_results(&v);
	/* per page: not present (token), ready (same token), ACK */
	n = guest_log(&v, log, 16);
	assert_int_equal(n, 6);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(log[3 * i][0], 'N');
		assert_int_not_equal(log[3 * i][1], 0);
		assert_int_equal(log[3 * i + 1][0], 'R');
		assert_int_equal(log[3 * i + 1][1], log[3 * i][1]);
		assert_int_equal(log[3 * i + 2][0], 'A');
		/* the guest ran its loop while the page was missing */
		assert_true(v.counter_at_copy[i] >= v.counter_at_fault[i] + 1000);
	}
	assert_int_not_equal(log[0][1], log[3][1]);
	/* the flags were cleared by the guest; the token slot is free */
	assert_int_equal(*(uint32_t *)(v.mem + APF_DATA), 0);
	assert_int_equal(*(uint32_t *)(v.mem + APF_DATA + 4), 0);
	munmap(v.mem, MEM);
	munmap(v.umem, UMEM);
}

/* The guest never hears of the fault: the vCPU waits, taking interrupts. */
static void check_waited(struct vmm *v)
{
	uint32_t log[16][2];

	check_results(v);
	/* no #PF, no "page ready" (a wake-all at most): the guest never knew */
	assert_int_equal(guest_log(v, log, 16), 0);
	assert_int_equal(guest_u64(v, COUNTER), 0);
	/* it waited, taking the MSI sent meanwhile, and then still waited */
	for (int i = 0; i < 2; i++)
		assert_int_equal(v->irqs_at_copy[i], (uint64_t)i + 1);
	munmap(v->mem, MEM);
	munmap(v->umem, UMEM);
}

static void test_without_pv_the_vcpu_waits(void **state)
{
	struct vmm v = { .pv = false };

	if (!run_guest(&v))
		skip();
	check_waited(&v);
}

/* Async PF on, but not SEND_ALWAYS: at CPL 0 the vCPU waits too. */
static void test_cpl0_without_send_always_waits(void **state)
{
	struct vmm v = { .pv = false, .en = 0x7000 | 0x9 };

	if (!run_guest(&v))
		skip();
	check_waited(&v);
}

/* Threads of this process named name, and whether they all block signals. */
static int threads_named(const char *name, bool *all_blocked)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	char path[300], buf[4096];
	int n = 0;

	*all_blocked = true;
	while (d && (e = readdir(d))) {
		unsigned long long blk = 0;
		char *p;
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		p = fgets(buf, sizeof(buf), f);
		fclose(f);
		if (!p || strncmp(buf, name, strlen(name)))
			continue;
		n++;
		snprintf(path, sizeof(path), "/proc/self/task/%s/status", e->d_name);
		f = fopen(path, "r");
		while (f && fgets(buf, sizeof(buf), f))
			if (sscanf(buf, "SigBlk: %llx", &blk) == 1)
				break;
		if (f)
			fclose(f);
		/* signals 1-31, bar SIGKILL and SIGSTOP, which nobody blocks */
		if ((blk & 0x7ffbfeffull) != 0x7ffbfeffull)
			*all_blocked = false;
	}
	if (d)
		closedir(d);
	return n;
}

/*
 * A fault the VMM never resolves: the worker waits with every signal
 * blocked; the VM goes away meanwhile; closing the userfaultfd ends the
 * wait, and the worker ends without touching the destroyed vCPU.
 */
static void test_unresolved_fault_outlives_vm(void **state)
{
	struct vmm v = { .pv = true, .never = true, .en = 0x7000 | 0xb };
	bool blocked;

	if (!start_guest(&v))
		skip();
	assert_int_equal(v.run->io.port, BAIL_PORT);	/* the guest ran on */
	assert_int_equal(threads_named("skvm-apf", &blocked), 1);
	assert_true(blocked);
	atomic_store(&v.stop, true);
	pthread_join(v.thread, NULL);
	munmap(v.run, 3 * 4096);
	close(v.vcpu);
	close(v.vm);
	close(v.kvm);
	for (int i = 0; i < 2000 && kvm_nr_live_vms(); i++)
		usleep(10000);
	assert_int_equal(kvm_nr_live_vms(), 0);
	assert_int_equal(threads_named("skvm-apf", &blocked), 1);
	close(v.uffd);
	for (int i = 0; i < 2000 && threads_named("skvm-apf", &blocked); i++)
		usleep(10000);
	assert_int_equal(threads_named("skvm-apf", &blocked), 0);
	munmap(v.mem, MEM);
	munmap(v.umem, UMEM);
}

static int set_msr(int vcpu, uint32_t index, uint64_t data)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e;
	} m = { .h.nmsrs = 1, .e = { .index = index, .data = data } };

	return skvm_ioctl(vcpu, KVM_SET_MSRS, &m);	/* entries done */
}

static uint64_t get_msr(int vcpu, uint32_t index)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e;
	} m = { .h.nmsrs = 1, .e = { .index = index } };

	assert_int_equal(skvm_ioctl(vcpu, KVM_GET_MSRS, &m), 1);
	return m.e.data;
}

/* The MSRs' rules, from the host (a refused write stops KVM_SET_MSRS). */
static void test_msr_rules(void **state)
{
	int kvm = skvm_open(O_RDWR), vm, vcpu;
	uint8_t *mem = mmap(NULL, MEM, PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct kvm_userspace_memory_region m0 = { .slot = 0, .memory_size = MEM,
		.userspace_addr = (uint64_t)(uintptr_t)mem };
	struct kvm_enable_cap enforce = { .cap = KVM_CAP_ENFORCE_PV_FEATURE_CPUID,
		.args[0] = 1 };
	struct {
		struct kvm_cpuid2 h;
		struct kvm_cpuid_entry2 e;
	} cpuid = { .h.nent = 1, .e = { .function = 0x40000001 } };

	/* without an in-kernel LAPIC: only the reset values */
	vm = skvm_ioctl(kvm, KVM_CREATE_VM, 0);
	assert_int_equal(skvm_ioctl(vm, KVM_SET_USER_MEMORY_REGION, &m0), 0);
	vcpu = skvm_ioctl(vm, KVM_CREATE_VCPU, 0);
	assert_int_equal(set_msr(vcpu, 0x4b564d02, 0x7000 | 9), 0);
	assert_int_equal(set_msr(vcpu, 0x4b564d02, 0), 1);
	assert_int_equal(set_msr(vcpu, 0x4b564d06, 0xec), 0);
	assert_int_equal(set_msr(vcpu, 0x4b564d06, 0), 1);
	close(vcpu);
	close(vm);

	vm = skvm_ioctl(kvm, KVM_CREATE_VM, 0);
	assert_int_equal(skvm_ioctl(vm, KVM_SET_USER_MEMORY_REGION, &m0), 0);
	assert_int_equal(skvm_ioctl(vm, KVM_CREATE_IRQCHIP, 0), 0);
	vcpu = skvm_ioctl(vm, KVM_CREATE_VCPU, 0);
	assert_int_equal(set_msr(vcpu, 0x4b564d02, 0x7000 | 0x30 | 9), 0);	/* 5:4 */
	assert_int_equal(set_msr(vcpu, 0x4b564d02, 0x200000 | 9), 0);	/* not RAM */
	assert_int_equal(set_msr(vcpu, 0x4b564d06, 0x1ec), 0);		/* 63:8 */
	assert_int_equal(set_msr(vcpu, 0x4b564d06, 0xec), 1);
	assert_int_equal(set_msr(vcpu, 0x4b564d02, 0x7000 | 9), 1);
	assert_int_equal(get_msr(vcpu, 0x4b564d02), 0x7000 | 9);
	assert_int_equal(get_msr(vcpu, 0x4b564d06), 0xec);
	assert_int_equal(set_msr(vcpu, 0x4b564d07, 1), 1);
	assert_int_equal(get_msr(vcpu, 0x4b564d07), 0);
	/* enforced PV CPUID without the bits: every one refused */
	assert_int_equal(skvm_ioctl(vcpu, KVM_SET_CPUID2, &cpuid), 0);
	assert_int_equal(skvm_ioctl(vcpu, KVM_ENABLE_CAP, &enforce), 0);
	assert_int_equal(set_msr(vcpu, 0x4b564d02, 0), 0);
	assert_int_equal(set_msr(vcpu, 0x4b564d06, 0), 0);
	assert_int_equal(set_msr(vcpu, 0x4b564d07, 0), 0);
	/* ASYNC_PF alone: EN without DELIVERY_AS_INT only */
	cpuid.e.eax = 1u << 4;
	assert_int_equal(skvm_ioctl(vcpu, KVM_SET_CPUID2, &cpuid), 0);
	assert_int_equal(set_msr(vcpu, 0x4b564d02, 0x7000 | 1), 1);
	assert_int_equal(set_msr(vcpu, 0x4b564d02, 0x7000 | 9), 0);
	assert_int_equal(set_msr(vcpu, 0x4b564d06, 0), 0);
	close(vcpu);
	close(vm);
	close(kvm);
	munmap(mem, MEM);
}

static void test_caps(void **state)
{
	int kvm = skvm_open(O_RDWR);

	assert_int_equal(skvm_ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_ASYNC_PF), 1);
	assert_int_equal(skvm_ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_ASYNC_PF_INT), 1);
	close(kvm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_msr_rules),
		cmocka_unit_test(test_async_pf_guest_keeps_running),
		cmocka_unit_test(test_without_pv_the_vcpu_waits),
		cmocka_unit_test(test_cpl0_without_send_always_waits),
		cmocka_unit_test(test_unresolved_fault_outlives_vm),
	};

	return cmocka_run_group_tests_name("async_pf", tests, NULL, NULL);
}
