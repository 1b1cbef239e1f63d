// SPDX-License-Identifier: MIT
/*
 * main.c - skvm-vmm: boot a Linux bzImage and an initramfs with a serial
 * console on /dev/kvm, whichever /dev/kvm the process sees (the kernel's,
 * or skvm's under `skvm exec`).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <glob.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "acpi.h"
#include "boot64.h"
#include "cmdline.h"
#include "layout.h"
#include "loader.h"
#include "mptable.h"
#include "vmm.h"

#define VMM_EXIT_ERROR	1
#define VMM_EXIT_USAGE	2
#define VMM_EXIT_QUIT	3

#define VMM_DEFAULT_MEM_MIB	256
#define VMM_INITRD_NAME		"skvm-initrd.cpio"

#define COM1_BASE	0x3f8
#define COM1_IRQ	4

enum vmm_cpuid { CPUID_AUTO, CPUID_PORTABLE, CPUID_FULL };

struct vmm_options {
	const char *kernel, *initrd, *params;
	unsigned long mem_mib;
	int cpus;
	bool irqchip;
	enum vmm_cpuid cpuid;
};

static const char vmm_usage[] =
	"usage: skvm-vmm [OPTIONS]\n"
	"Boot a Linux kernel with a serial console on /dev/kvm.\n"
	"\n"
	"  -k, --kernel FILE     bzImage (default: the newest /boot/vmlinuz-*,\n"
	"                        a -cloud- one first)\n"
	"  -i, --initrd FILE     initramfs (default: " VMM_INITRD_NAME
	" beside\n"
	"                        this program: /init says hello, powers off)\n"
	"  -m, --mem MIB         guest RAM in MiB (default 256)\n"
	"  -c, --cpus N          vCPUs (default 1, at most 32)\n"
	"  -p, --params TEXT     append TEXT to the kernel command line\n"
	"      --console serial  the console (serial is the only one)\n"
	"      --no-irqchip      do not use KVM's in-kernel PIC/IOAPIC/LAPIC/PIT\n"
	"      --cpuid MODEL     full: all KVM supports; portable: without\n"
	"                        CMPXCHG16B and XSAVE; auto (default): portable\n"
	"                        when the host CPU has no VMX/SVM\n"
	"  -h, --help            this help\n"
	"\n"
	"Ctrl-A x quits.  Exit status: 0 when the guest powers off or resets,\n"
	"1 on error, 2 on bad usage, 3 when quit from the host.\n";

/* --- Options ------------------------------------------------------------- */

static int vmm__usage_error(const char *why)
{
	fprintf(stderr, "skvm-vmm: %s\n%s", why, vmm_usage);
	return -1;
}

static int vmm__number(const char *s, unsigned long min, unsigned long max,
		       unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno || end == s || *end || *out < min || *out > max ?
		-EINVAL : 0;
}

/* 0 to run, 1 after --help, -1 on a usage error. */
static int vmm__parse(struct vmm_options *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "mem", required_argument, NULL, 'm' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "params", required_argument, NULL, 'p' },
		{ "console", required_argument, NULL, 'C' },
		{ "no-irqchip", no_argument, NULL, 'I' },
		{ "cpuid", required_argument, NULL, 'U' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long n;
	int c;

	*o = (struct vmm_options){ .mem_mib = VMM_DEFAULT_MEM_MIB, .cpus = 1,
				   .irqchip = true };
	while ((c = getopt_long(argc, argv, "k:i:m:c:p:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'k': o->kernel = optarg; break;
		case 'i': o->initrd = optarg; break;
		case 'p': o->params = optarg; break;
		case 'I': o->irqchip = false; break;
		case 'h': fputs(vmm_usage, stdout); return 1;
		case 'm':
			if (vmm__number(optarg, 32, 1UL << 20, &o->mem_mib))
				return vmm__usage_error("-m: MiB, 32 or more");
			break;
		case 'c':
			if (vmm__number(optarg, 1, VMM_MAX_CPUS, &n))
				return vmm__usage_error("-c: 1 to 32 vCPUs");
			o->cpus = n;
			break;
		case 'U':
			if (!strcmp(optarg, "auto"))
				o->cpuid = CPUID_AUTO;
			else if (!strcmp(optarg, "portable"))
				o->cpuid = CPUID_PORTABLE;
			else if (!strcmp(optarg, "full"))
				o->cpuid = CPUID_FULL;
			else
				return vmm__usage_error("--cpuid: auto, "
							"portable or full");
			break;
		case 'C':
			if (strcmp(optarg, "serial"))
				return vmm__usage_error("--console: only serial");
			break;
		default:
			return vmm__usage_error("bad option");
		}
	}
	if (optind != argc)
		return vmm__usage_error("unexpected argument");
	return 0;
}

/*
 * Without VMX or SVM the host's KVM runs guests in its instruction
 * emulator (and skvm's engine is software anyway): --cpuid auto then
 * hides what that emulator lacks.
 */
static bool vmm__host_has_hw_virt(void)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[4096];
	bool found = false;

	while (f && !found && fgets(line, sizeof(line), f))
		if (!strncmp(line, "flags", 5))
			found = strstr(line, " vmx") || strstr(line, " svm");
	if (f)
		fclose(f);
	return found;
}

/* --- Default guest ------------------------------------------------------- */

static char *vmm__default_kernel(void)
{
	char *best = NULL;
	glob_t g;
	size_t i;

	if (glob("/boot/vmlinuz-*", 0, NULL, &g))
		return NULL;
	for (i = 0; i < g.gl_pathc; i++)
		if (!best || cmdline__kernel_better(g.gl_pathv[i], best))
			best = g.gl_pathv[i];
	best = best ? strdup(best) : NULL;
	globfree(&g);
	return best;
}

static char *vmm__default_initrd(void)
{
	char exe[PATH_MAX], path[PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n > 0) {
		exe[n] = '\0';
		snprintf(path, sizeof(path), "%s/" VMM_INITRD_NAME, dirname(exe));
		if (!access(path, R_OK))
			return strdup(path);
	}
	snprintf(path, sizeof(path), SKVM_VMM_DATADIR "/" VMM_INITRD_NAME);
	return access(path, R_OK) ? NULL : strdup(path);
}

static void *vmm__read_file(const char *path, size_t *size)
{
	struct stat st;
	void *buf = NULL;
	ssize_t n = -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd >= 0 && !fstat(fd, &st) && (buf = malloc(st.st_size + 1))) {
		n = read(fd, buf, st.st_size);
		*size = n;
	}
	if (fd >= 0)
		close(fd);
	if (n < 0 || (buf && n != st.st_size)) {
		fprintf(stderr, "skvm-vmm: %s: %s\n", path,
			n < 0 ? strerror(errno) : "short read");
		free(buf);
		return NULL;
	}
	return buf;
}

/* --- Setting up the machine ---------------------------------------------- */

/* The MP table's processor signature: CPUID.1 as KVM will report it. */
static void vmm__cpu_id(struct vmm *vmm, struct mptable_cpu_id *id)
{
	struct kvm_cpuid2 *c = kvm_cpu__supported_cpuid(vmm->sys_fd);
	unsigned int i;

	for (i = 0; c && i < c->nent; i++) {
		if (c->entries[i].function == 1) {
			id->signature = c->entries[i].eax;
			id->features = c->entries[i].edx;
		}
	}
	free(c);
}

static int vmm__firmware(struct vmm *vmm)
{
	struct mptable_cpu_id id = { .signature = 0, .features = 0 };
	uint8_t *ebda = guest_ram__ptr(&vmm->ram, LAYOUT_EBDA,
				       LAYOUT_EBDA_END - LAYOUT_EBDA);
	uint8_t *bios = guest_ram__ptr(&vmm->ram, LAYOUT_BIOS,
				       LAYOUT_BIOS_END - LAYOUT_BIOS);
	uint16_t *bda_ebda = guest_ram__ptr(&vmm->ram, 0x40e, 2);
	int ret;

	if (!ebda || !bios || !bda_ebda)
		return -ENOMEM;
	*bda_ebda = LAYOUT_EBDA >> 4;		/* BDA: EBDA segment */
	vmm__cpu_id(vmm, &id);
	ret = mptable__write(ebda, LAYOUT_EBDA_END - LAYOUT_EBDA, LAYOUT_EBDA,
			     vmm->nr_cpus, &id);
	if (!ret)
		ret = acpi__write(bios, LAYOUT_BIOS_END - LAYOUT_BIOS,
				  LAYOUT_BIOS, vmm->nr_cpus);
	return ret;
}

static int vmm__load(struct vmm *vmm, const struct vmm_options *o,
		     const char *kernel, const char *initrd)
{
	struct boot_files files = { .rsdp = LAYOUT_BIOS + ACPI_RSDP_OFF };
	struct bzimage bz;
	size_t ksize = 0;
	void *kimg = vmm__read_file(kernel, &ksize);
	void *iimg = NULL;
	char *cmdline = cmdline__build(vmm->cpuid_portable, vmm->irqchip,
				       o->params);
	int ret = -EIO;

	if (!kimg || !cmdline)
		goto out;
	if (initrd && !(iimg = vmm__read_file(initrd, &files.initrd_size)))
		goto out;
	files.initrd = iimg;
	files.cmdline = cmdline;
	ret = bzimage__parse(&bz, kimg, ksize);
	if (ret) {
		fprintf(stderr, "skvm-vmm: %s: not a 64-bit bzImage (boot "
			"protocol 2.12+): %s\n", kernel, strerror(-ret));
		goto out;
	}
	ret = bzimage__load(&bz, &vmm->ram, &files);
	if (ret)
		fprintf(stderr, "skvm-vmm: loading %s: %s\n", kernel,
			strerror(-ret));
	if (!ret)
		ret = boot64__write_tables(&vmm->ram);
out:
	free(kimg);
	free(iimg);
	free(cmdline);
	return ret;
}

static int vmm__setup(struct vmm *vmm, const struct vmm_options *o,
		      const char *kernel, const char *initrd)
{
	int ret, i;

	vmm->irqchip = o->irqchip;
	vmm->cpuid_portable = o->cpuid == CPUID_PORTABLE ||
			      (o->cpuid == CPUID_AUTO && !vmm__host_has_hw_virt());
	ret = vmm__init(vmm, (uint64_t)o->mem_mib << 20, o->cpus);
	if (ret) {
		fprintf(stderr, "skvm-vmm: /dev/kvm: %s\n", strerror(-ret));
		return ret;
	}
	if (!vmm->irqchip && vmm->nr_cpus > 1) {
		fprintf(stderr, "skvm-vmm: no in-kernel irqchip: 1 vCPU\n");
		vmm->nr_cpus = 1;
	}
	ret = devices__init(vmm);
	if (!ret)
		ret = serial__init(vmm, COM1_BASE, COM1_IRQ, STDOUT_FILENO);
	if (!ret)
		ret = vmm__firmware(vmm);
	if (!ret)
		ret = vmm__load(vmm, o, kernel, initrd);
	for (i = 0; !ret && i < vmm->nr_cpus; i++)
		ret = kvm_cpu__init(vmm, i);
	if (!ret)
		ret = kvm_cpu__boot(&vmm->cpus[0], bzimage__entry64(),
				    LAYOUT_ZERO_PAGE);
	if (ret)
		fprintf(stderr, "skvm-vmm: setting up the VM: %s\n",
			strerror(-ret));
	return ret;
}

/* --- Running ------------------------------------------------------------- */

static void vmm__kick_handler(int sig)
{
}

static int vmm__run(struct vmm *vmm)
{
	struct sigaction sa = { .sa_handler = vmm__kick_handler };
	static const char *const why[] = {
		[VMM_POWER_OFF] = "guest powered off",
		[VMM_RESET] = "guest reset: exiting",
		[VMM_QUIT] = "quit",
		[VMM_ERROR] = "stopped on an error",
	};
	enum vmm_stop stop;
	int i, started = 0, ret;

	sigaction(SIGUSR1, &sa, NULL);		/* no SA_RESTART: EINTR */
	ret = term__init(vmm);
	if (ret)
		return VMM_EXIT_ERROR;
	for (i = 0; i < vmm->nr_cpus && !ret; i++, started++)
		ret = kvm_cpu__start(&vmm->cpus[i]);
	if (ret)
		vmm__stop(vmm, VMM_ERROR);
	stop = vmm__wait(vmm);
	for (i = 0; i < started; i++)
		kvm_cpu__kick(&vmm->cpus[i]);
	for (i = 0; i < started; i++)
		pthread_join(vmm->cpus[i].thread, NULL);
	term__exit();
	fprintf(stderr, "\nskvm-vmm: %s\n", why[stop]);
	if (stop == VMM_ERROR)
		return VMM_EXIT_ERROR;
	return stop == VMM_QUIT ? VMM_EXIT_QUIT : 0;
}

int main(int argc, char **argv)
{
	struct vmm_options o;
	struct vmm vmm = { 0 };
	char *kernel, *initrd;
	int ret;

	ret = vmm__parse(&o, argc, argv);
	if (ret)
		return ret > 0 ? 0 : VMM_EXIT_USAGE;
	kernel = o.kernel ? strdup(o.kernel) : vmm__default_kernel();
	initrd = o.initrd ? strdup(o.initrd) : vmm__default_initrd();
	if (!kernel) {
		fprintf(stderr, "skvm-vmm: no /boot/vmlinuz-*: give -k KERNEL "
			"(Debian: apt-get install linux-image-cloud-amd64)\n");
		return VMM_EXIT_ERROR;
	}
	if (!initrd && !o.initrd)
		fprintf(stderr, "skvm-vmm: no " VMM_INITRD_NAME ": booting "
			"without an initramfs\n");
	ret = vmm__setup(&vmm, &o, kernel, initrd) ? VMM_EXIT_ERROR :
		vmm__run(&vmm);
	vmm__exit(&vmm);
	free(kernel);
	free(initrd);
	return ret;
}
