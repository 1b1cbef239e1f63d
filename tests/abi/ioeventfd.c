// SPDX-License-Identifier: MIT
/*
 * ioeventfd - KVM_IOEVENTFD for port I/O and MMIO: lengths 0 (any), 1, 2,
 * 4 and 8, with and without KVM_IOEVENTFD_FLAG_DATAMATCH, deassignment,
 * and the errno of bad and colliding registrations.
 *
 * A flat 32-bit guest writes to every registered address with matching
 * and non-matching lengths and values, and reads one of them.  The
 * transcript shows which accesses exit to the client; after the guest
 * halts, each eventfd's counter shows which accesses signalled it
 * instead (a signalled write completes without an exit).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "abi.h"

#define MEM_SIZE	0x10000
#define MMIO		0x100000

GUEST_CODE(ioev_guest,
	".code32\n"
	"	mov $0x11, %al\n"
	"	outb %al, $0x80\n"		/* [0] port 0x80 len 1: signal */
	"	mov $0x1234, %ax\n"
	"	outw %ax, $0x82\n"		/* [1] port 0x82 len 2 =0x1234 */
	"	mov $0x1235, %ax\n"
	"	outw %ax, $0x82\n"		/* wrong value: exit */
	"	outb %al, $0x82\n"		/* wrong length: exit */
	"	mov $0x12345678, %eax\n"
	"	outl %eax, $0x84\n"		/* [2] port 0x84 len 4 */
	"	outb %al, $0x90\n"		/* [3] port 0x90 len 0 */
	"	outw %ax, $0x90\n"		/* [3] */
	"	outl %eax, $0x90\n"		/* [3] */
	"	outb %al, $0x91\n"		/* other port: exit */
	"	mov $0x100000, %edi\n"
	"	movl $0xdeadbeef, (%edi)\n"	/* [4] mmio len 4 =0xdeadbeef */
	"	movl $0xdeadbeee, (%edi)\n"	/* wrong value: exit */
	"	movb $0xef, (%edi)\n"		/* wrong length: exit */
	"	movb $1, 0x10(%edi)\n"		/* [5] mmio len 0 */
	"	movw $2, 0x10(%edi)\n"		/* [5] */
	"	movl $3, 0x10(%edi)\n"		/* [5] */
	"	movl $4, 0x11(%edi)\n"		/* other address: exit */
	"	movl $5, 0x20(%edi)\n"		/* len 8 zone, 4 bytes: exit */
	"	movw $6, 0x30(%edi)\n"		/* [6] mmio len 2 wildcard */
	"	movw $7, 0x30(%edi)\n"		/* [6] */
	"	movl $8, 0x30(%edi)\n"		/* wrong length: exit */
	"	movb $9, 0x40(%edi)\n"		/* [7] mmio len 1 =9 */
	"	movb $10, 0x40(%edi)\n"		/* [8] mmio len 1 =10 */
	"	mov 0x10(%edi), %eax\n"		/* a read: exit */
	"	inb $0x80, %al\n"		/* a read: exit */
	"	hlt\n"
	".code64\n");

/* 64-bit: 8-byte writes to the len 8 ioeventfd ([9], =5). */
GUEST_CODE(ioev_long,
	".code64\n"
	"	mov $0x100020, %rdi\n"
	"	mov $5, %rax\n"
	"	mov %rax, (%rdi)\n"			/* [9] */
	"	mov $0x100000005, %rax\n"
	"	mov %rax, (%rdi)\n"			/* wrong value: exit */
	"	hlt\n");

struct ioev {
	const char *name;
	uint64_t addr;
	uint32_t len;
	uint32_t flags;
	uint64_t datamatch;
	int efd;
};

#define PIO	KVM_IOEVENTFD_FLAG_PIO
#define DM	KVM_IOEVENTFD_FLAG_DATAMATCH

static struct ioev evs[] = {
	{ "port 0x80 len 1", 0x80, 1, PIO, 0, -1 },
	{ "port 0x82 len 2 =0x1234", 0x82, 2, PIO | DM, 0x1234, -1 },
	{ "port 0x84 len 4", 0x84, 4, PIO, 0, -1 },
	{ "port 0x90 len 0", 0x90, 0, PIO, 0, -1 },
	{ "mmio 0x100000 len 4 =0xdeadbeef", MMIO, 4, DM, 0xdeadbeef, -1 },
	{ "mmio 0x100010 len 0", MMIO + 0x10, 0, 0, 0, -1 },
	{ "mmio 0x100030 len 2", MMIO + 0x30, 2, 0, 0, -1 },
	{ "mmio 0x100040 len 1 =9", MMIO + 0x40, 1, DM, 9, -1 },
	{ "mmio 0x100040 len 1 =10", MMIO + 0x40, 1, DM, 10, -1 },
	{ "mmio 0x100020 len 8 =5", MMIO + 0x20, 8, DM, 5, -1 },
	{ "port 0xa0 len 8", 0xa0, 8, PIO, 0, -1 },
};
#define NEVS (sizeof(evs) / sizeof(evs[0]))

static long ioeventfd(struct vm *v, uint64_t addr, uint32_t len,
		      uint32_t flags, uint64_t datamatch, int fd)
{
	struct kvm_ioeventfd a = {
		.datamatch = datamatch, .addr = addr, .len = len, .fd = fd,
		.flags = flags,
	};

	return ioctl(v->fd, KVM_IOEVENTFD, &a);
}

static void counters(void)
{
	unsigned int i;

	for (i = 0; i < NEVS; i++) {
		eventfd_t n = 0;

		if (eventfd_read(evs[i].efd, &n) < 0)
			n = 0;
		tr("  [%u] %s: %llu", i, evs[i].name, (unsigned long long)n);
	}
}

static void run_guest(struct vm *v)
{
	vm_load(v, GUEST_CODE_GPA, ioev_guest_start,
		ioev_guest_end - ioev_guest_start);
	vm_setup_flat32(v, GUEST_CODE_GPA);
	vm_run_to_hlt(v, 64);
	counters();
}

/* A new VM for 64-bit mode (CPUID is set once, before the first run). */
static void long_mode(void)
{
	struct vm v;

	tr("# 8-byte writes from 64-bit mode");
	vm_create(&v, MEM_SIZE);
	chk("assign [9] again in a new VM",
	    ioeventfd(&v, evs[9].addr, evs[9].len, evs[9].flags,
		      evs[9].datamatch, evs[9].efd));
	vm_load(&v, GUEST_CODE_GPA, ioev_long_start,
		ioev_long_end - ioev_long_start);
	vm_setup_long(&v, GUEST_CODE_GPA);
	vm_run_to_hlt(&v, 8);
	counters();
	vm_destroy(&v);
}

static void errnos(struct vm *v)
{
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	tr("# bad registrations");
	chk("len 3", ioeventfd(v, 0x200000, 3, 0, 0, efd));
	chk("len 16", ioeventfd(v, 0x200000, 16, 0, 0, efd));
	chk("unknown flag 1 << 8", ioeventfd(v, 0x200000, 4, 1 << 8, 0, efd));
	chk("len 0 with DATAMATCH", ioeventfd(v, 0x200000, 0, DM, 0, efd));
	chk("address + len wraps", ioeventfd(v, ~0ull - 1, 4, 0, 0, efd));
	chk("port + len wraps", ioeventfd(v, ~0ull - 1, 4, PIO, 0, efd));
	chk("fd -1", ioeventfd(v, 0x200000, 4, 0, 0, -1));
	chk("fd of /dev/null", ioeventfd(v, 0x200000, 4, 0, 0, null));
	chk("bad pointer", ioctl(v->fd, KVM_IOEVENTFD, (void *)8));
	chk("on the vCPU fd", ioctl(v->vcpu, KVM_IOEVENTFD,
	    &(struct kvm_ioeventfd){ .addr = 0x200000, .len = 4, .fd = efd }));

	tr("# collisions");
	chk("mmio 0x100000 len 4 =0xdeadbeef again",
	    ioeventfd(v, MMIO, 4, DM, 0xdeadbeef, evs[4].efd));
	chk("mmio 0x100000 len 4 =0xdeadbeef, other eventfd",
	    ioeventfd(v, MMIO, 4, DM, 0xdeadbeef, efd));
	chk("mmio 0x100000 len 4 wildcard",
	    ioeventfd(v, MMIO, 4, 0, 0, efd));
	chk("mmio 0x100000 len 0", ioeventfd(v, MMIO, 0, 0, 0, efd));
	chk("mmio 0x100010 len 4 (a len 0 is there)",
	    ioeventfd(v, MMIO + 0x10, 4, 0, 0, efd));
	chk("mmio 0x100030 len 2 =1 (a wildcard is there)",
	    ioeventfd(v, MMIO + 0x30, 2, DM, 1, efd));
	chk("mmio 0x100040 len 2 (len 1 ones are there)",
	    ioeventfd(v, MMIO + 0x40, 2, 0, 0, efd));
	chk("port 0x80 len 1 again", ioeventfd(v, 0x80, 1, PIO, 0, efd));
	chk("mmio 0x80 len 1 (a port is there)",
	    ioeventfd(v, 0x80, 1, 0, 0, efd));
	chk("deassign mmio 0x80 len 1",
	    ioeventfd(v, 0x80, 1, KVM_IOEVENTFD_FLAG_DEASSIGN, 0, efd));
	chk("mmio 0x100002 len 2 (inside a len 4 one)",
	    ioeventfd(v, MMIO + 2, 2, 0, 0, efd));
	chk("deassign mmio 0x100002 len 2",
	    ioeventfd(v, MMIO + 2, 2, KVM_IOEVENTFD_FLAG_DEASSIGN, 0, efd));

	tr("# deassign that matches nothing");
	chk("deassign never assigned",
	    ioeventfd(v, 0x300000, 4, KVM_IOEVENTFD_FLAG_DEASSIGN, 0, efd));
	chk("deassign port 0x80 with another eventfd",
	    ioeventfd(v, 0x80, 1, PIO | KVM_IOEVENTFD_FLAG_DEASSIGN, 0, efd));
	chk("deassign =0x1234 one without DATAMATCH",
	    ioeventfd(v, 0x82, 2, PIO | KVM_IOEVENTFD_FLAG_DEASSIGN, 0,
		      evs[1].efd));
	chk("deassign =0x1234 one with =0x1235",
	    ioeventfd(v, 0x82, 2, PIO | DM | KVM_IOEVENTFD_FLAG_DEASSIGN,
		      0x1235, evs[1].efd));
	chk("deassign port 0x84 with len 2",
	    ioeventfd(v, 0x84, 2, PIO | KVM_IOEVENTFD_FLAG_DEASSIGN, 0,
		      evs[2].efd));
	chk("deassign port 0x84 as mmio",
	    ioeventfd(v, 0x84, 4, KVM_IOEVENTFD_FLAG_DEASSIGN, 0,
		      evs[2].efd));
	chk("deassign fd -1",
	    ioeventfd(v, 0x80, 1, PIO | KVM_IOEVENTFD_FLAG_DEASSIGN, 0, -1));
	close(null);
	close(efd);
}

int main(void)
{
	struct vm v;
	unsigned int i;
	char what[96];

	vm_create(&v, MEM_SIZE);
	chk("KVM_CHECK_EXTENSION KVM_CAP_IOEVENTFD",
	    ioctl(v.fd, KVM_CHECK_EXTENSION, KVM_CAP_IOEVENTFD));
	chk("KVM_CHECK_EXTENSION KVM_CAP_IOEVENTFD_ANY_LENGTH",
	    ioctl(v.fd, KVM_CHECK_EXTENSION, KVM_CAP_IOEVENTFD_ANY_LENGTH));
	chk("KVM_CHECK_EXTENSION KVM_CAP_IOEVENTFD_NO_LENGTH",
	    ioctl(v.fd, KVM_CHECK_EXTENSION, KVM_CAP_IOEVENTFD_NO_LENGTH));

	tr("# the guest's writes with nothing registered");
	for (i = 0; i < NEVS; i++)
		evs[i].efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	run_guest(&v);

	tr("# register");
	for (i = 0; i < NEVS; i++) {
		snprintf(what, sizeof(what), "assign [%u] %s", i, evs[i].name);
		chk(what, ioeventfd(&v, evs[i].addr, evs[i].len, evs[i].flags,
				    evs[i].datamatch, evs[i].efd));
	}
	run_guest(&v);

	errnos(&v);

	tr("# deassign [0], [4] and [5]");
	for (i = 0; i < NEVS; i++) {
		if (i != 0 && i != 4 && i != 5)
			continue;
		snprintf(what, sizeof(what), "deassign [%u] %s", i,
			 evs[i].name);
		chk(what, ioeventfd(&v, evs[i].addr, evs[i].len,
				    evs[i].flags | KVM_IOEVENTFD_FLAG_DEASSIGN,
				    evs[i].datamatch, evs[i].efd));
		chk("  again", ioeventfd(&v, evs[i].addr, evs[i].len,
				evs[i].flags | KVM_IOEVENTFD_FLAG_DEASSIGN,
				evs[i].datamatch, evs[i].efd));
	}
	run_guest(&v);
	vm_destroy(&v);
	long_mode();
	return 0;
}
