// SPDX-License-Identifier: MIT
/*
 * stats - KVM_GET_STATS_FD on the VM and on a vCPU: the header, the id
 * string, the descriptors (name, type, unit, base, exponent, size, bucket
 * size) and counters that move with known guest exits.
 *
 * The descriptors compared are those of Linux 6.1 on x86 (the list below):
 * each is printed with its fields, or as absent.  A kernel newer than 6.1
 * has more; those, the descriptor count and the data offsets that follow
 * from it are printed as notes only ('#').
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "abi.h"

#define MEM_SIZE	0x10000

static const char *const vm_61[] = {
	"remote_tlb_flush", "remote_tlb_flush_requests",
	"mmu_shadow_zapped", "mmu_pte_write", "mmu_pde_zapped", "mmu_flooded",
	"mmu_recycled", "mmu_cache_miss", "mmu_unsync", "pages_4k", "pages_2m",
	"pages_1g", "nx_lpage_splits", "max_mmu_rmap_size",
	"max_mmu_page_hash_collisions", NULL,
};

static const char *const vcpu_61[] = {
	"halt_successful_poll", "halt_attempted_poll", "halt_poll_invalid",
	"halt_wakeup", "halt_poll_success_ns", "halt_poll_fail_ns",
	"halt_wait_ns", "halt_poll_success_hist", "halt_poll_fail_hist",
	"halt_wait_hist", "blocking",
	"pf_taken", "pf_fixed", "pf_emulate", "pf_spurious", "pf_fast",
	"pf_mmio_spte_created", "pf_guest", "tlb_flush", "invlpg", "exits",
	"io_exits", "mmio_exits", "signal_exits", "irq_window_exits",
	"nmi_window_exits", "l1d_flush", "halt_exits", "request_irq_exits",
	"irq_exits", "host_state_reload", "fpu_reload", "insn_emulation",
	"insn_emulation_fail", "hypercalls", "irq_injections",
	"nmi_injections", "req_event", "nested_run",
	"directed_yield_attempted", "directed_yield_successful",
	"preemption_reported", "preemption_other", "guest_mode",
	"notify_window_exits", NULL,
};

GUEST_CODE(stats_guest,
	".code32\n"
	"	outb %al, $0x80\n"
	"	outb %al, $0x80\n"
	"	outw %ax, $0x80\n"
	"	movb $1, 0x100000\n"
	"	movl $2, 0x100000\n"
	"	hlt\n"
	".code64\n");

struct stats {
	int fd;
	struct kvm_stats_header h;
	char *descs;		/* num_desc entries of desc_size bytes */
	size_t desc_size;
};

static void stats_open(struct stats *s, int objfd, const char *what,
		       const char *id_want)
{
	char id[64] = "";
	size_t bytes;

	memset(s, 0, sizeof(*s));
	s->fd = ioctl(objfd, KVM_GET_STATS_FD, 0);
	chk_ok(what, s->fd);
	die_unless(s->fd >= 0, "KVM_GET_STATS_FD");
	die_unless(pread(s->fd, &s->h, sizeof(s->h), 0) == sizeof(s->h),
		   "read stats header");
	tr("  header flags %u name_size %u", s->h.flags, s->h.name_size);
	tr("# num_desc %u id_offset %u desc_offset %u data_offset %u",
	   s->h.num_desc, s->h.id_offset, s->h.desc_offset, s->h.data_offset);
	s->desc_size = sizeof(struct kvm_stats_desc) + s->h.name_size;
	tr("  id_offset = header size: %s, desc_offset = id_offset + name_size: %s",
	   s->h.id_offset == sizeof(s->h) ? "yes" : "no",
	   s->h.desc_offset == s->h.id_offset + s->h.name_size ? "yes" : "no");
	tr("  data_offset = desc_offset + num_desc * (desc + name_size): %s",
	   s->h.data_offset == s->h.desc_offset +
	   s->h.num_desc * s->desc_size ? "yes" : "no");
	if (s->h.name_size < 64)
		pread(s->fd, id, s->h.name_size, s->h.id_offset);
	tr("  id is \"%s\": %s", id_want[0] == 'k' && strchr(id_want, '/') ?
	   "kvm-PID/vcpu-0" : "kvm-PID", strcmp(id, id_want) ? "no" : "yes");
	bytes = s->h.num_desc * s->desc_size;
	s->descs = malloc(bytes);
	die_unless(s->descs != NULL, "malloc");
	die_unless(pread(s->fd, s->descs, bytes, s->h.desc_offset) ==
		   (ssize_t)bytes, "read descriptors");
}

static struct kvm_stats_desc *desc_at(struct stats *s, unsigned int i)
{
	return (struct kvm_stats_desc *)(s->descs + i * s->desc_size);
}

static struct kvm_stats_desc *find(struct stats *s, const char *name)
{
	unsigned int i;

	for (i = 0; i < s->h.num_desc; i++)
		if (!strcmp(desc_at(s, i)->name, name))
			return desc_at(s, i);
	return NULL;
}

static int in_list(const char *const *list, const char *name)
{
	for (; *list; list++)
		if (!strcmp(*list, name))
			return 1;
	return 0;
}

static void print_descs(struct stats *s, const char *const *list)
{
	const char *const *name;
	unsigned int i;

	for (name = list; *name; name++) {
		struct kvm_stats_desc *d = find(s, *name);

		if (!d) {
			tr("  %s: absent", *name);
			continue;
		}
		tr("  %s: type %u unit %u base %u exponent %d size %u bucket %u",
		   d->name, d->flags & KVM_STATS_TYPE_MASK,
		   (d->flags & KVM_STATS_UNIT_MASK) >> KVM_STATS_UNIT_SHIFT,
		   (d->flags & KVM_STATS_BASE_MASK) >> KVM_STATS_BASE_SHIFT,
		   d->exponent, d->size, d->bucket_size);
	}
	for (i = 0; i < s->h.num_desc; i++)
		if (!in_list(list, desc_at(s, i)->name))
			tr("# not in 6.1: %s", desc_at(s, i)->name);
}

static uint64_t value(struct stats *s, const char *name)
{
	struct kvm_stats_desc *d = find(s, name);
	uint64_t v = 0;

	if (d)
		pread(s->fd, &v, sizeof(v), s->h.data_offset + d->offset);
	return v;
}

int main(void)
{
	/*
	 * io_exits is left out: the reference device does not count its
	 * port I/O exits there (it stays 0), while KVM on VMX and SVM counts
	 * each one in its I/O exit handler, as skvm does.
	 */
	static const char *const moved[] = {
		"mmio_exits", "halt_exits", "insn_emulation_fail",
		"irq_injections", "signal_exits", NULL,
	};
	uint64_t before[8], exits0;
	struct stats vm, vcpu, again;
	char id[64], buf[8];
	struct vm v;
	int i;

	vm_create(&v, MEM_SIZE);
	chk("KVM_CHECK_EXTENSION KVM_CAP_BINARY_STATS_FD",
	    ioctl(v.sys, KVM_CHECK_EXTENSION, KVM_CAP_BINARY_STATS_FD));
	chk("KVM_GET_STATS_FD on the system fd",
	    ioctl(v.sys, KVM_GET_STATS_FD, 0));
	snprintf(id, sizeof(id), "kvm-%d", getpid());
	stats_open(&vm, v.fd, "KVM_GET_STATS_FD on the VM", id);
	print_descs(&vm, vm_61);
	snprintf(id, sizeof(id), "kvm-%d/vcpu-0", getpid());
	stats_open(&vcpu, v.vcpu, "KVM_GET_STATS_FD on the vCPU", id);
	print_descs(&vcpu, vcpu_61);

	tr("# the file");
	chk("write", write(vcpu.fd, buf, 1));
	chk("read 8 at the start", read(vcpu.fd, buf, 8));
	chk("lseek SEEK_CUR", lseek(vcpu.fd, 0, SEEK_CUR));
	chk("pread past the end", pread(vcpu.fd, buf, 8, 1 << 20));
	stats_open(&again, v.vcpu, "KVM_GET_STATS_FD on the vCPU again", id);
	chk("  its offset", lseek(again.fd, 0, SEEK_CUR));
	close(again.fd);
	free(again.descs);

	tr("# counters after 3 OUT, 2 MMIO writes and a HLT");
	for (i = 0; moved[i]; i++)
		before[i] = value(&vcpu, moved[i]);
	exits0 = value(&vcpu, "exits");
	before[7] = value(&vcpu, "io_exits");
	vm_load(&v, GUEST_CODE_GPA, stats_guest_start,
		stats_guest_end - stats_guest_start);
	vm_setup_flat32(&v, GUEST_CODE_GPA);
	vm_run_to_hlt(&v, 16);
	for (i = 0; moved[i]; i++)
		tr("  %s +%llu", moved[i],
		   (unsigned long long)(value(&vcpu, moved[i]) - before[i]));
	tr("# io_exits +%llu",
	   (unsigned long long)(value(&vcpu, "io_exits") - before[7]));
	tr("  exits moved by at least 6: %s",
	   value(&vcpu, "exits") - exits0 >= 6 ? "yes" : "no");
	close(vm.fd);
	close(vcpu.fd);
	free(vm.descs);
	free(vcpu.descs);
	vm_destroy(&v);
	return 0;
}
