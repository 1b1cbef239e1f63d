// SPDX-License-Identifier: MIT
/*
 * abi.c - transcript and VM-setup helpers for the ABI client programs.
 *
 * Everything here uses only <linux/kvm.h> and libc, so the programs run the
 * same against the kernel's /dev/kvm and under `skvm exec`.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "abi.h"

void tr(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

const char *errname(int e)
{
	static char buf[16];
	const char *name = strerrorname_np(e);

	if (name)
		return name;
	snprintf(buf, sizeof(buf), "errno%d", e);
	return buf;
}

long chk(const char *what, long ret)
{
	int e = errno;

	if (ret < 0)
		tr("%s -> %ld %s", what, ret, errname(e));
	else
		tr("%s -> %ld", what, ret);
	errno = e;
	return ret;
}

long chk_ok(const char *what, long ret)
{
	int e = errno;

	if (ret < 0)
		tr("%s -> %ld %s", what, ret, errname(e));
	else
		tr("%s -> ok", what);
	errno = e;
	return ret;
}

void die_unless(int cond, const char *what)
{
	if (cond)
		return;
	fprintf(stderr, "abi: %s failed: %s\n", what, strerror(errno));
	tr("FATAL %s", what);
	exit(2);
}

void vm_create(struct vm *v, size_t mem_size)
{
	vm_create_hook(v, mem_size, NULL);
}

void vm_create_hook(struct vm *v, size_t mem_size,
		    void (*before_vcpu)(struct vm *v))
{
	struct kvm_userspace_memory_region r;
	int size;

	memset(v, 0, sizeof(*v));
	v->sys = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	die_unless(v->sys >= 0, "open /dev/kvm");
	v->fd = ioctl(v->sys, KVM_CREATE_VM, 0);
	die_unless(v->fd >= 0, "KVM_CREATE_VM");

	v->mem_size = mem_size;
	v->mem = mmap(NULL, mem_size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	die_unless(v->mem != MAP_FAILED, "mmap guest memory");
	r = (struct kvm_userspace_memory_region){
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = mem_size,
		.userspace_addr = (uintptr_t)v->mem,
	};
	die_unless(ioctl(v->fd, KVM_SET_USER_MEMORY_REGION, &r) == 0,
		   "KVM_SET_USER_MEMORY_REGION");

	if (before_vcpu)
		before_vcpu(v);
	v->vcpu = ioctl(v->fd, KVM_CREATE_VCPU, 0);
	die_unless(v->vcpu >= 0, "KVM_CREATE_VCPU");
	size = ioctl(v->sys, KVM_GET_VCPU_MMAP_SIZE, 0);
	die_unless(size > 0, "KVM_GET_VCPU_MMAP_SIZE");
	v->run_size = size;
	v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      v->vcpu, 0);
	die_unless(v->run != MAP_FAILED, "mmap kvm_run");
}

void vm_destroy(struct vm *v)
{
	munmap(v->run, v->run_size);
	close(v->vcpu);
	close(v->fd);
	munmap(v->mem, v->mem_size);
	close(v->sys);
}

void vm_load(struct vm *v, uint64_t gpa, const void *code, size_t len)
{
	die_unless(gpa + len <= v->mem_size, "guest code fits in memory");
	memcpy(v->mem + gpa, code, len);
}

/* RIP=rip, RSP=GUEST_STACK_TOP, RFLAGS=2, the other registers 0. */
static void set_entry_regs(struct vm *v, uint64_t rip)
{
	struct kvm_regs r;

	memset(&r, 0, sizeof(r));
	r.rip = rip;
	r.rsp = GUEST_STACK_TOP;
	r.rflags = 0x2;
	die_unless(ioctl(v->vcpu, KVM_SET_REGS, &r) == 0, "KVM_SET_REGS");
}

void vm_setup_real(struct vm *v, uint64_t rip)
{
	struct kvm_sregs s;

	die_unless(ioctl(v->vcpu, KVM_GET_SREGS, &s) == 0, "KVM_GET_SREGS");
	s.cs.base = 0;
	s.cs.selector = 0;
	s.ds = s.es = s.ss = s.fs = s.gs = s.cs;
	s.ds.type = s.es.type = s.ss.type = s.fs.type = s.gs.type = 3;
	die_unless(ioctl(v->vcpu, KVM_SET_SREGS, &s) == 0, "KVM_SET_SREGS");

	set_entry_regs(v, rip);
}

/* Flat 4 GiB code (selector 8, 64-bit if long_mode) and data (0x10). */
static void set_flat_segments(struct kvm_sregs *s, int long_mode)
{
	struct kvm_segment code = {
		.base = 0, .limit = 0xffffffff, .selector = 0x8,
		.type = 11, .present = 1, .db = !long_mode, .s = 1,
		.l = !!long_mode, .g = 1,
	};
	struct kvm_segment data = code;

	data.selector = 0x10;
	data.type = 3;
	data.l = 0;
	data.db = 1;
	s->cs = code;
	s->ds = s->es = s->fs = s->gs = s->ss = data;
}

void vm_setup_flat32(struct vm *v, uint64_t rip)
{
	struct kvm_sregs s;

	die_unless(ioctl(v->vcpu, KVM_GET_SREGS, &s) == 0, "KVM_GET_SREGS");
	set_flat_segments(&s, 0);
	s.cr0 |= 1;			/* PE */
	die_unless(ioctl(v->vcpu, KVM_SET_SREGS, &s) == 0, "KVM_SET_SREGS");
	set_entry_regs(v, rip);
}

static void set_supported_cpuid(struct vm *v)
{
	struct kvm_cpuid2 *c;
	int nent = 64;

	for (;;) {
		c = calloc(1, sizeof(*c) + nent * sizeof(c->entries[0]));
		die_unless(c != NULL, "calloc cpuid");
		c->nent = nent;
		if (ioctl(v->sys, KVM_GET_SUPPORTED_CPUID, c) == 0)
			break;
		die_unless(errno == E2BIG && nent < 4096,
			   "KVM_GET_SUPPORTED_CPUID");
		free(c);
		nent *= 2;
	}
	die_unless(ioctl(v->vcpu, KVM_SET_CPUID2, c) == 0, "KVM_SET_CPUID2");
	free(c);
}

static void build_identity_map(struct vm *v)
{
	uint64_t *pml4 = (uint64_t *)(v->mem + GUEST_PML4_GPA);
	uint64_t *pdpt = (uint64_t *)(v->mem + GUEST_PDPT_GPA);
	uint64_t *pd = (uint64_t *)(v->mem + GUEST_PD_GPA);
	int i;

	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = GUEST_PDPT_GPA | 0x3;		/* present, writable */
	pdpt[0] = GUEST_PD_GPA | 0x3;
	for (i = 0; i < 512; i++)		/* 2 MiB pages: PS bit */
		pd[i] = ((uint64_t)i << 21) | 0x83;
}

void vm_setup_long(struct vm *v, uint64_t rip)
{
	struct kvm_sregs s;

	die_unless(v->mem_size >= 0x10000, "guest memory for page tables");
	set_supported_cpuid(v);
	build_identity_map(v);

	die_unless(ioctl(v->vcpu, KVM_GET_SREGS, &s) == 0, "KVM_GET_SREGS");
	set_flat_segments(&s, 1);
	s.cr3 = GUEST_PML4_GPA;
	s.cr4 = 0x20;			/* PAE */
	s.cr0 = 0x80000011;		/* PG | ET | PE */
	s.efer = 0x500;			/* LMA | LME */
	die_unless(ioctl(v->vcpu, KVM_SET_SREGS, &s) == 0, "KVM_SET_SREGS");
	set_entry_regs(v, rip);
}

static const char *exit_name(uint32_t reason)
{
	static const char *const names[] = {
		[KVM_EXIT_UNKNOWN] = "UNKNOWN",
		[KVM_EXIT_EXCEPTION] = "EXCEPTION",
		[KVM_EXIT_IO] = "IO",
		[KVM_EXIT_HYPERCALL] = "HYPERCALL",
		[KVM_EXIT_DEBUG] = "DEBUG",
		[KVM_EXIT_HLT] = "HLT",
		[KVM_EXIT_MMIO] = "MMIO",
		[KVM_EXIT_IRQ_WINDOW_OPEN] = "IRQ_WINDOW_OPEN",
		[KVM_EXIT_SHUTDOWN] = "SHUTDOWN",
		[KVM_EXIT_FAIL_ENTRY] = "FAIL_ENTRY",
		[KVM_EXIT_INTR] = "INTR",
		[KVM_EXIT_SET_TPR] = "SET_TPR",
		[KVM_EXIT_TPR_ACCESS] = "TPR_ACCESS",
		[KVM_EXIT_NMI] = "NMI",
		[KVM_EXIT_INTERNAL_ERROR] = "INTERNAL_ERROR",
		[KVM_EXIT_SYSTEM_EVENT] = "SYSTEM_EVENT",
		[KVM_EXIT_X86_RDMSR] = "X86_RDMSR",
		[KVM_EXIT_X86_WRMSR] = "X86_WRMSR",
		[KVM_EXIT_DIRTY_RING_FULL] = "DIRTY_RING_FULL",
	};

	if (reason < sizeof(names) / sizeof(names[0]) && names[reason])
		return names[reason];
	return "?";
}

static void hex(char *out, size_t outlen, const uint8_t *p, size_t n)
{
	size_t i, o = 0;

	out[0] = '\0';
	for (i = 0; i < n && o + 3 < outlen; i++)
		o += snprintf(out + o, outlen - o, "%02x", p[i]);
}

void print_exit(const struct kvm_run *run)
{
	const uint8_t *data;
	char buf[1100];
	size_t n;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		data = (const uint8_t *)run + run->io.data_offset;
		n = (size_t)run->io.size * run->io.count;
		if (run->io.direction == KVM_EXIT_IO_OUT)
			hex(buf, sizeof(buf), data, n);
		else
			buf[0] = '\0';
		tr("exit IO %s port=0x%x size=%u count=%u data_offset=%llu data=%s",
		   run->io.direction == KVM_EXIT_IO_OUT ? "out" : "in",
		   run->io.port, run->io.size, run->io.count,
		   (unsigned long long)run->io.data_offset, buf);
		break;
	case KVM_EXIT_MMIO:
		if (run->mmio.is_write)
			hex(buf, sizeof(buf), run->mmio.data,
			    run->mmio.len <= 8 ? run->mmio.len : 8);
		else
			buf[0] = '\0';
		tr("exit MMIO %s phys_addr=0x%llx len=%u data=%s",
		   run->mmio.is_write ? "write" : "read",
		   (unsigned long long)run->mmio.phys_addr, run->mmio.len, buf);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		tr("exit INTERNAL_ERROR suberror=%u", run->internal.suberror);
		break;
	case KVM_EXIT_FAIL_ENTRY:
		tr("exit FAIL_ENTRY reason=0x%llx",
		   (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		break;
	case KVM_EXIT_SYSTEM_EVENT:
		tr("exit SYSTEM_EVENT type=%u", run->system_event.type);
		break;
	default:
		tr("exit %s (%u)", exit_name(run->exit_reason),
		   run->exit_reason);
		break;
	}
}

int vm_run(struct vm *v)
{
	int rc = ioctl(v->vcpu, KVM_RUN, 0);

	chk("KVM_RUN", rc);
	if (rc == 0 || errno == EINTR)
		print_exit(v->run);
	return rc;
}

void print_regs(struct vm *v)
{
	struct kvm_regs r;

	if (chk("KVM_GET_REGS", ioctl(v->vcpu, KVM_GET_REGS, &r)) < 0)
		return;
	tr("regs rax=%llx rbx=%llx rcx=%llx rdx=%llx",
	   r.rax, r.rbx, r.rcx, r.rdx);
	tr("regs rsi=%llx rdi=%llx rsp=%llx rbp=%llx",
	   r.rsi, r.rdi, r.rsp, r.rbp);
	tr("regs r8=%llx r9=%llx r10=%llx r11=%llx",
	   r.r8, r.r9, r.r10, r.r11);
	tr("regs r12=%llx r13=%llx r14=%llx r15=%llx",
	   r.r12, r.r13, r.r14, r.r15);
	tr("regs rip=%llx rflags=%llx", r.rip, r.rflags);
}

static void print_seg(const char *name, const struct kvm_segment *s)
{
	tr("sregs %s sel=%04x base=%llx limit=%x type=%u p=%u dpl=%u db=%u s=%u l=%u g=%u",
	   name, s->selector, (unsigned long long)s->base, s->limit, s->type,
	   s->present, s->dpl, s->db, s->s, s->l, s->g);
}

void print_sregs(struct vm *v)
{
	struct kvm_sregs s;

	if (chk("KVM_GET_SREGS", ioctl(v->vcpu, KVM_GET_SREGS, &s)) < 0)
		return;
	tr("sregs cr0=%llx cr2=%llx cr3=%llx cr4=%llx cr8=%llx efer=%llx apic_base=%llx",
	   s.cr0, s.cr2, s.cr3, s.cr4, s.cr8, s.efer, s.apic_base);
	print_seg("cs", &s.cs);
	print_seg("ds", &s.ds);
	print_seg("ss", &s.ss);
	tr("sregs gdt base=%llx limit=%x idt base=%llx limit=%x",
	   (unsigned long long)s.gdt.base, s.gdt.limit,
	   (unsigned long long)s.idt.base, s.idt.limit);
}

void print_mem_hash(struct vm *v, uint64_t gpa, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= v->mem[gpa + i];
		h *= 0x100000001b3ull;
	}
	tr("mem [%llx,%llx) fnv=%016llx", (unsigned long long)gpa,
	   (unsigned long long)(gpa + len), (unsigned long long)h);
}

static uint8_t fill_byte(uint64_t addr, unsigned int i)
{
	return (uint8_t)((0xa0 + i) ^ (addr & 0xff));
}

int vm_run_to_hlt(struct vm *v, int max_exits)
{
	struct kvm_run *run = v->run;
	uint8_t *data;
	unsigned int i;

	while (max_exits-- > 0) {
		if (vm_run(v) < 0)
			return -1;
		switch (run->exit_reason) {
		case KVM_EXIT_HLT:
			return 0;
		case KVM_EXIT_IO:
			if (run->io.direction != KVM_EXIT_IO_IN)
				break;
			data = (uint8_t *)run + run->io.data_offset;
			for (i = 0; i < run->io.size * run->io.count; i++)
				data[i] = fill_byte(run->io.port, i);
			break;
		case KVM_EXIT_MMIO:
			if (run->mmio.is_write)
				break;
			for (i = 0; i < run->mmio.len && i < 8; i++)
				run->mmio.data[i] =
					fill_byte(run->mmio.phys_addr, i);
			break;
		default:
			return -1;
		}
	}
	tr("too many exits");
	return -1;
}

GUEST_CODE(touch,
	".code32\n"
	"	mov $0x9000, %esi\n"		/* GUEST_DATA_GPA: count, pages */
	"	mov (%esi), %ecx\n"
	"	add $4, %esi\n"
	"1:	jecxz 2f\n"
	"	lodsl\n"
	"	mov %eax, %ebx\n"
	"	and $0x7fffffff, %eax\n"
	"	shl $12, %eax\n"
	"	test %ebx, %ebx\n"
	"	js 3f\n"
	"	movb $0x5a, 0x100000(%eax)\n"	/* TOUCH_BASE */
	"	jmp 4f\n"
	"3:	movb 0x100000(%eax), %dl\n"
	"4:	dec %ecx\n"
	"	jmp 1b\n"
	"2:	hlt\n"
	".code64\n");

int vm_touch(struct vm *v, int n, ...)
{
	uint32_t pages[16];
	va_list ap;
	int i;

	die_unless(n <= 16, "at most 16 pages");
	va_start(ap, n);
	for (i = 0; i < n; i++)
		pages[i] = va_arg(ap, uint32_t);
	va_end(ap);
	return vm_touch_pages(v, n, pages);
}

int vm_touch_pages(struct vm *v, int n, const uint32_t *pages)
{
	uint32_t *list = (uint32_t *)(v->mem + GUEST_DATA_GPA);
	char line[256];
	size_t o = 0;
	int i;

	die_unless(GUEST_DATA_GPA + 4 * (size_t)(n + 1) <= v->mem_size, "page list fits");
	list[0] = n;
	line[0] = '\0';
	for (i = 0; i < n; i++) {
		list[1 + i] = pages[i];
		if (o < sizeof(line))
			o += snprintf(line + o, sizeof(line) - o, " %s%u",
				      pages[i] & TOUCH_READ ? "r" : "w",
				      pages[i] & ~TOUCH_READ);
	}
	tr("guest:%s", line);
	vm_load(v, GUEST_CODE_GPA, touch_start, touch_end - touch_start);
	vm_setup_flat32(v, GUEST_CODE_GPA);
	return vm_run(v);
}
