// SPDX-License-Identifier: MIT
/*
 * kvm_client.c - skvm-bench-kvm: boot a benchmark image on /dev/kvm.
 *
 *   skvm-bench-kvm [-l] IMAGE N
 *
 * A plain <linux/kvm.h> client with no link to libskvm: run it directly for
 * the kernel's KVM, or as `skvm exec skvm-bench-kvm IMAGE N` for skvm.  It
 * loads the ELF image's PT_LOAD segments, writes a multiboot information
 * block with the command line "bench n=N" and starts the vCPU in the
 * multiboot machine state (32-bit flat protected mode, EAX = 0x2badb002,
 * EBX = information).  With -l it instead builds the image's identity map
 * itself and starts at the image's 64-bit entry, for engines that cannot
 * run the 32-bit boot code yet.
 *
 * The guest console goes to stderr.  The last line on stdout is
 *
 *   n=N ns=NS result=HEX maxrss_kb=KB exits=E
 *
 * where NS is the wall time between the guest's start and end markers.
 * Exit status 0 on a clean exit through BENCH_PORT_EXIT, 2 if the guest or
 * the VM failed, 1 on usage or host errors.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench_abi.h"

#define MB_HEADER_MAGIC		0x1badb002u
#define MB_BOOT_MAGIC		0x2badb002u
#define MB_SEARCH_BYTES		8192
#define MBI_FLAG_MEM		(1u << 0)
#define MBI_FLAG_CMDLINE	(1u << 2)
#define MBI_CMDLINE_GPA		(BENCH_MBI_GPA + 0x100)

/* Where -l puts the page tables: above the mapped range, below the top. */
#define LM_TABLES_GPA		(BENCH_GUEST_BYTES - (1ul << 20))

struct vm {
	int kvm, fd, vcpu;
	uint8_t *mem;
	struct kvm_run *run;
	uint64_t entry32, entry64;
	bool done;
	uint64_t t_start, t_end;
	unsigned long exits;
	char line[256];
	size_t line_len;
	bool have_result;
	uint64_t result;
};

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---------------------------------------------------------------------- */
/* Image loading */

static int load_segment(struct vm *vm, const uint8_t *img, size_t size,
			uint64_t off, uint64_t filesz, uint64_t paddr,
			uint64_t memsz)
{
	if (filesz > memsz || off > size || filesz > size - off ||
	    paddr > BENCH_GUEST_BYTES || memsz > BENCH_GUEST_BYTES - paddr) {
		fprintf(stderr, "bad segment at %#llx\n",
			(unsigned long long)paddr);
		return -1;
	}
	memcpy(vm->mem + paddr, img + off, filesz);
	memset(vm->mem + paddr + filesz, 0, memsz - filesz);
	return 0;
}

static int load_elf32(struct vm *vm, const uint8_t *img, size_t size)
{
	const Elf32_Ehdr *eh = (const void *)img;
	const Elf32_Phdr *ph;
	int i;

	if (size < sizeof(*eh) || eh->e_phoff > size ||
	    (uint64_t)eh->e_phnum * sizeof(*ph) > size - eh->e_phoff)
		return -1;
	ph = (const void *)(img + eh->e_phoff);
	for (i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_LOAD &&
		    load_segment(vm, img, size, ph[i].p_offset,
				 ph[i].p_filesz, ph[i].p_paddr, ph[i].p_memsz))
			return -1;
	vm->entry32 = eh->e_entry;
	return 0;
}

static int load_elf64(struct vm *vm, const uint8_t *img, size_t size)
{
	const Elf64_Ehdr *eh = (const void *)img;
	const Elf64_Phdr *ph;
	int i;

	if (size < sizeof(*eh) || eh->e_phoff > size ||
	    (uint64_t)eh->e_phnum * sizeof(*ph) > size - eh->e_phoff)
		return -1;
	ph = (const void *)(img + eh->e_phoff);
	for (i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_LOAD &&
		    load_segment(vm, img, size, ph[i].p_offset,
				 ph[i].p_filesz, ph[i].p_paddr, ph[i].p_memsz))
			return -1;
	vm->entry32 = eh->e_entry;
	return 0;
}

/* Multiboot 0.6.96, 3.1.1: the header is 32-bit aligned in the first 8 KiB. */
static int find_mb_header(struct vm *vm, const uint8_t *img, size_t size)
{
	size_t lim = size < MB_SEARCH_BYTES ? size : MB_SEARCH_BYTES;
	uint32_t w[3];
	uint64_t e64;
	size_t off;

	for (off = 0; off + sizeof(w) <= lim; off += 4) {
		memcpy(w, img + off, sizeof(w));
		if (w[0] != MB_HEADER_MAGIC || w[0] + w[1] + w[2] != 0)
			continue;
		off = (off + 12 + 7) & ~(size_t)7;
		if (off + 16 <= size && !memcmp(img + off, BENCH_ENTRY64_TAG, 8)) {
			memcpy(&e64, img + off + 8, 8);
			vm->entry64 = e64;
		}
		return 0;
	}
	fprintf(stderr, "no multiboot header\n");
	return -1;
}

static int load_image(struct vm *vm, const char *path)
{
	struct stat st;
	uint8_t *img;
	int fd, ret;

	fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st))
		die(path);
	img = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (img == MAP_FAILED)
		die("mmap image");
	close(fd);
	if (st.st_size < EI_NIDENT || memcmp(img, ELFMAG, SELFMAG)) {
		fprintf(stderr, "%s: not an ELF file\n", path);
		return -1;
	}
	ret = find_mb_header(vm, img, st.st_size);
	if (!ret)
		ret = img[EI_CLASS] == ELFCLASS32 ?
			load_elf32(vm, img, st.st_size) :
			load_elf64(vm, img, st.st_size);
	munmap(img, st.st_size);
	return ret;
}

static void write_mbi(struct vm *vm, uint64_t n)
{
	uint32_t mbi[5] = {
		MBI_FLAG_MEM | MBI_FLAG_CMDLINE,
		639,
		(uint32_t)((BENCH_GUEST_BYTES - (1ul << 20)) >> 10),
		0,
		MBI_CMDLINE_GPA,
	};

	memcpy(vm->mem + BENCH_MBI_GPA, mbi, sizeof(mbi));
	snprintf((char *)vm->mem + MBI_CMDLINE_GPA, 128, "bench n=%llu",
		 (unsigned long long)n);
}

/* ---------------------------------------------------------------------- */
/* VM and vCPU setup */

static void vm_create(struct vm *vm)
{
	struct kvm_userspace_memory_region region = {
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = BENCH_GUEST_BYTES,
	};
	int run_size;

	vm->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm < 0)
		die("/dev/kvm");
	if (ioctl(vm->kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		fprintf(stderr, "unexpected KVM API version\n");
		exit(1);
	}
	vm->fd = ioctl(vm->kvm, KVM_CREATE_VM, 0);
	if (vm->fd < 0)
		die("KVM_CREATE_VM");
	vm->mem = mmap(NULL, BENCH_GUEST_BYTES, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->mem == MAP_FAILED)
		die("mmap guest memory");
	region.userspace_addr = (uintptr_t)vm->mem;
	if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &region))
		die("KVM_SET_USER_MEMORY_REGION");
	vm->vcpu = ioctl(vm->fd, KVM_CREATE_VCPU, 0);
	if (vm->vcpu < 0)
		die("KVM_CREATE_VCPU");
	run_size = ioctl(vm->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size < (int)sizeof(struct kvm_run))
		die("KVM_GET_VCPU_MMAP_SIZE");
	vm->run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       vm->vcpu, 0);
	if (vm->run == MAP_FAILED)
		die("mmap kvm_run");
}

/*
 * The guest sets EFER.LME, which KVM only allows when the guest's CPUID
 * has long mode, so hand the vCPU what the host supports.  An engine
 * without KVM_GET_SUPPORTED_CPUID gets a warning, not a failure.
 */
static void vcpu_set_cpuid(struct vm *vm)
{
	struct kvm_cpuid2 *cpuid;
	int nent = 128;

	cpuid = calloc(1, sizeof(*cpuid) + nent * sizeof(cpuid->entries[0]));
	if (!cpuid)
		die("calloc");
	cpuid->nent = nent;
	if (ioctl(vm->kvm, KVM_GET_SUPPORTED_CPUID, cpuid) ||
	    ioctl(vm->vcpu, KVM_SET_CPUID2, cpuid))
		fprintf(stderr, "warning: CPUID setup failed: %s\n",
			strerror(errno));
	free(cpuid);
}

static void seg_flat(struct kvm_segment *s, uint16_t sel, uint8_t type,
		     bool code64)
{
	memset(s, 0, sizeof(*s));
	s->base = 0;
	s->limit = 0xffffffff;
	s->selector = sel;
	s->type = type;
	s->present = 1;
	s->s = 1;
	s->g = 1;
	s->db = !code64;
	s->l = code64;
}

/* Multiboot 0.6.96, 3.2: the state the loader leaves the machine in. */
static void sregs_multiboot(struct kvm_sregs *sr)
{
	seg_flat(&sr->cs, 0x08, 0xb, false);
	seg_flat(&sr->ds, 0x10, 0x3, false);
	sr->es = sr->fs = sr->gs = sr->ss = sr->ds;
	sr->cr0 = 0x11;			/* PE, ET */
	sr->cr4 = 0;
	sr->efer = 0;
}

/* Long mode with the identity map the image's own boot code would build. */
static void sregs_long(struct vm *vm, struct kvm_sregs *sr)
{
	uint64_t *pml4 = (uint64_t *)(vm->mem + LM_TABLES_GPA);
	uint64_t *pdpt = pml4 + 512, *pd = pdpt + 512, *pt = pd + 512;
	uint64_t gpa = LM_TABLES_GPA, i;

	pml4[0] = (gpa + 0x1000) | 3;
	pdpt[0] = (gpa + 0x2000) | 3;
	for (i = 0; i < BENCH_MAPPED_BYTES >> 21; i++)
		pd[i] = (gpa + 0x3000 + i * 0x1000) | 3;
	for (i = 0; i < BENCH_MAPPED_BYTES >> 12; i++)
		pt[i] = (i << 12) | 3;

	seg_flat(&sr->cs, 0x08, 0xb, true);
	seg_flat(&sr->ds, 0x10, 0x3, false);
	sr->es = sr->fs = sr->gs = sr->ss = sr->ds;
	sr->cr3 = LM_TABLES_GPA;
	sr->cr4 = 0x20;			/* PAE */
	sr->cr0 = 0x80000011;		/* PG, ET, PE */
	sr->efer = 0x500;		/* LMA, LME */
}

static void vcpu_setup(struct vm *vm, bool long_entry)
{
	struct kvm_sregs sr;
	struct kvm_regs regs;

	vcpu_set_cpuid(vm);
	if (ioctl(vm->vcpu, KVM_GET_SREGS, &sr))
		die("KVM_GET_SREGS");
	if (long_entry)
		sregs_long(vm, &sr);
	else
		sregs_multiboot(&sr);
	/* A present 32-bit busy TSS, as VMX wants for any protected mode. */
	sr.tr.type = 11;
	sr.tr.present = 1;
	sr.tr.s = 0;
	sr.tr.limit = 0xffff;
	sr.tr.unusable = 0;
	sr.ldt.unusable = 1;
	if (ioctl(vm->vcpu, KVM_SET_SREGS, &sr))
		die("KVM_SET_SREGS");

	memset(&regs, 0, sizeof(regs));
	regs.rflags = 0x2;
	regs.rip = long_entry ? vm->entry64 : vm->entry32;
	regs.rax = MB_BOOT_MAGIC;
	regs.rbx = BENCH_MBI_GPA;
	if (ioctl(vm->vcpu, KVM_SET_REGS, &regs))
		die("KVM_SET_REGS");
}

/* ---------------------------------------------------------------------- */
/* Run loop */

static void con_byte(struct vm *vm, char c)
{
	unsigned long long r;

	fputc(c, stderr);
	if (c != '\n') {
		if (vm->line_len < sizeof(vm->line) - 1)
			vm->line[vm->line_len++] = c;
		return;
	}
	vm->line[vm->line_len] = 0;
	vm->line_len = 0;
	if (sscanf(vm->line, "result=%llx", &r) == 1) {
		vm->result = r;
		vm->have_result = true;
	}
}

static uint32_t io_value(const uint8_t *p, int size)
{
	uint32_t v = 0;

	memcpy(&v, p, size < 4 ? size : 4);
	return v;
}

static void handle_io(struct vm *vm)
{
	struct kvm_run *run = vm->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	uint32_t i, v;

	if (run->io.direction == KVM_EXIT_IO_IN) {
		memset(data, 0xff, (size_t)run->io.size * run->io.count);
		return;
	}
	for (i = 0; i < run->io.count; i++, data += run->io.size) {
		v = io_value(data, run->io.size);
		switch (run->io.port) {
		case BENCH_PORT_CON:
			con_byte(vm, (char)v);
			break;
		case BENCH_PORT_MARK:
			if (v == BENCH_MARK_START)
				vm->t_start = now_ns();
			else if (v == BENCH_MARK_END)
				vm->t_end = now_ns();
			break;
		case BENCH_PORT_EXIT:
			vm->done = true;
			break;
		}
	}
}

static void dump_regs(struct vm *vm)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(vm->vcpu, KVM_GET_REGS, &r) ||
	    ioctl(vm->vcpu, KVM_GET_SREGS, &s))
		return;
	fprintf(stderr, "rip=%#llx rsp=%#llx rax=%#llx rflags=%#llx "
		"cr0=%#llx efer=%#llx cs.l=%u\n",
		r.rip, r.rsp, r.rax, r.rflags, s.cr0, s.efer, s.cs.l);
}

static int vcpu_loop(struct vm *vm)
{
	struct kvm_run *run = vm->run;

	while (!vm->done) {
		if (ioctl(vm->vcpu, KVM_RUN, 0)) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			perror("KVM_RUN");
			return -1;
		}
		vm->exits++;
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			handle_io(vm);
			break;
		case KVM_EXIT_HLT:
			fprintf(stderr, "guest halted before exiting\n");
			return -1;
		case KVM_EXIT_INTERNAL_ERROR:
			fprintf(stderr, "KVM_EXIT_INTERNAL_ERROR suberror %u\n",
				run->internal.suberror);
			dump_regs(vm);
			return -1;
		default:
			fprintf(stderr, "unexpected exit reason %u\n",
				run->exit_reason);
			dump_regs(vm);
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct vm vm = { 0 };
	struct rusage ru;
	bool long_entry = false;
	unsigned long long n;
	int ret;

	if (argc > 1 && !strcmp(argv[1], "-l")) {
		long_entry = true;
		argc--, argv++;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: skvm-bench-kvm [-l] IMAGE N\n");
		return 1;
	}
	n = strtoull(argv[2], NULL, 0);

	vm_create(&vm);
	if (load_image(&vm, argv[1]))
		return 1;
	if (long_entry && !vm.entry64) {
		fprintf(stderr, "image has no 64-bit entry\n");
		return 1;
	}
	write_mbi(&vm, n);
	vcpu_setup(&vm, long_entry);

	ret = vcpu_loop(&vm);
	getrusage(RUSAGE_SELF, &ru);
	if (ret || !vm.have_result || !vm.t_start || vm.t_end < vm.t_start) {
		fprintf(stderr, "benchmark did not complete\n");
		return 2;
	}
	printf("n=%llu ns=%llu result=%016llx maxrss_kb=%ld exits=%lu\n", n,
	       (unsigned long long)(vm.t_end - vm.t_start),
	       (unsigned long long)vm.result, ru.ru_maxrss, vm.exits);
	return 0;
}
