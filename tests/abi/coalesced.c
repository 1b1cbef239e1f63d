// SPDX-License-Identifier: MIT
/*
 * coalesced - KVM_REGISTER_COALESCED_MMIO / KVM_UNREGISTER_COALESCED_MMIO
 * for MMIO and (KVM_CAP_COALESCED_PIO) port zones.
 *
 * A flat 32-bit guest writes 1, 2 and 4 bytes (a 64-bit one, 8) inside an MMIO zone and
 * 1 and 2 bytes inside a port zone: those writes land in the ring at
 * KVM_COALESCED_MMIO_PAGE_OFFSET of the vCPU mapping without an exit,
 * while reads in the zones and writes outside (or straddling) them exit.
 * Every exit prints the ring entries queued since the last one (phys_addr,
 * len, pio, data), which the client then consumes by moving ring->first.
 * Then a loop of writes fills the ring, which forces an ordinary MMIO
 * exit; unregistering zones brings the exits back; bad registrations and
 * the bus limit show their errno.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "abi.h"

#define MEM_SIZE	0x10000
#define ZONE		0x100000	/* MMIO zone, above RAM */
#define ZONE_SIZE	0x100
#define PIO_ZONE	0x80
#define PIO_ZONE_SIZE	4

GUEST_CODE(cz_basic,
	".code32\n"
	"	mov $0x100000, %edi\n"
	"	movb $0x11, (%edi)\n"
	"	movw $0x2233, 0x8(%edi)\n"
	"	movl $0x44556677, 0x10(%edi)\n"
	"	mov 0x20(%edi), %eax\n"		/* read: exits */
	"	mov $0xab, %al\n"
	"	outb %al, $0x80\n"
	"	mov $0xcdef, %ax\n"
	"	outw %ax, $0x82\n"
	"	inb $0x81, %al\n"		/* read: exits */
	"	movb $0x55, 0x100(%edi)\n"	/* outside the zone */
	"	outb %al, $0x84\n"		/* outside the port zone */
	"	movl $0x01020304, 0xfe(%edi)\n"	/* straddles the zone end */
	"	outw %ax, $0x83\n"		/* straddles the port zone end */
	"	movb $0x66, 0xff(%edi)\n"	/* last byte of the zone */
	"	hlt\n"
	".code64\n");

/* 64-bit: an 8-byte write in the zone is queued whole. */
GUEST_CODE(cz_long,
	".code64\n"
	"	mov $0x100000, %rdi\n"
	"	mov $0x1122334455667788, %rax\n"
	"	mov %rax, 0x18(%rdi)\n"
	"	mov %rax, 0xf8(%rdi)\n"		/* the zone's last 8 bytes */
	"	mov %rax, 0xfc(%rdi)\n"		/* straddles its end: exits */
	"	hlt\n");

GUEST_CODE(cz_fill,
	".code32\n"
	"	mov $0x100000, %edi\n"
	"	mov $200, %ecx\n"
	"1:	mov %ecx, 0x40(%edi)\n"
	"	loop 1b\n"
	"	hlt\n"
	".code64\n");

GUEST_CODE(cz_after,
	".code32\n"
	"	mov $0x100000, %edi\n"
	"	movb $0x77, (%edi)\n"
	"	mov $0x88, %al\n"
	"	outb %al, $0x80\n"
	"	hlt\n"
	".code64\n");

static struct kvm_coalesced_mmio_ring *ring_of(struct vm *v)
{
	return (void *)((char *)v->run + KVM_COALESCED_MMIO_PAGE_OFFSET * 4096);
}

static unsigned int ring_max(void)
{
	return (4096 - sizeof(struct kvm_coalesced_mmio_ring)) /
	       sizeof(struct kvm_coalesced_mmio);
}

/* Print the entries queued since the last call (all, or a summary). */
static void drain(struct vm *v, int summary)
{
	struct kvm_coalesced_mmio_ring *ring = ring_of(v);
	unsigned int first = ring->first, last = ring->last, n = 0;
	char data[20];
	unsigned int i;

	while (first != last) {
		struct kvm_coalesced_mmio *e = &ring->coalesced_mmio[first];

		for (i = 0; i < e->len && i < 8; i++)
			sprintf(data + 2 * i, "%02x", e->data[i]);
		data[2 * i] = '\0';
		if (!summary || n == 0 || (first + 1) % ring_max() == last)
			tr("  ring[%u] %s addr=0x%llx len=%u data=%s",
			   n, e->pio ? "pio" : "mmio",
			   (unsigned long long)e->phys_addr, e->len, data);
		n++;
		first = (first + 1) % ring_max();
	}
	tr("  ring: %u entries", n);
	ring->first = first;
}

static void run_to_hlt(struct vm *v, int summary)
{
	int exits;

	for (exits = 0; exits < 32; exits++) {
		if (vm_run(v) < 0)
			return;
		drain(v, summary);
		if (v->run->exit_reason == KVM_EXIT_HLT)
			return;
		if (v->run->exit_reason == KVM_EXIT_IO &&
		    v->run->io.direction == KVM_EXIT_IO_IN)
			*((uint8_t *)v->run + v->run->io.data_offset) = 0x42;
		else if (v->run->exit_reason == KVM_EXIT_MMIO &&
			 !v->run->mmio.is_write)
			memset(v->run->mmio.data, 0x42, 8);
		else if (v->run->exit_reason != KVM_EXIT_IO &&
			 v->run->exit_reason != KVM_EXIT_MMIO)
			return;
	}
	tr("too many exits");
}

static long zone(struct vm *v, unsigned long req, uint64_t addr,
		 uint32_t size, uint32_t pio)
{
	struct kvm_coalesced_mmio_zone z = {
		.addr = addr, .size = size, .pio = pio,
	};

	return ioctl(v->fd, req, &z);
}

static void bus_limit(void)
{
	struct vm v;
	int n;

	vm_create(&v, MEM_SIZE);
	for (n = 0; n < 2000; n++)
		if (zone(&v, KVM_REGISTER_COALESCED_MMIO, ZONE + 8 * n, 8, 0) < 0)
			break;
	tr("zones registered before the bus is full: %d (%s)", n,
	   n < 2000 ? errname(errno) : "no error");
	/* Unregistering removes the zones that contain the range given. */
	chk("unregister a range over all of them (contained in none)",
	    zone(&v, KVM_UNREGISTER_COALESCED_MMIO, ZONE, 8 * n, 0));
	chk("register after that",
	    zone(&v, KVM_REGISTER_COALESCED_MMIO, ZONE, 8, 0));
	chk("unregister the first zone exactly",
	    zone(&v, KVM_UNREGISTER_COALESCED_MMIO, ZONE, 8, 0));
	chk("register again",
	    zone(&v, KVM_REGISTER_COALESCED_MMIO, ZONE, 8, 0));
	vm_destroy(&v);
}

int main(void)
{
	struct vm v;

	vm_create(&v, MEM_SIZE);
	chk("KVM_CHECK_EXTENSION KVM_CAP_COALESCED_MMIO",
	    ioctl(v.sys, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_MMIO));
	chk("KVM_CHECK_EXTENSION KVM_CAP_COALESCED_PIO",
	    ioctl(v.sys, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_PIO));
	chk("VM KVM_CHECK_EXTENSION KVM_CAP_COALESCED_MMIO",
	    ioctl(v.fd, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_MMIO));
	tr("ring entries %u, first=%u last=%u", ring_max(),
	   ring_of(&v)->first, ring_of(&v)->last);

	tr("# errno of bad registrations");
	chk("register pio=2", zone(&v, KVM_REGISTER_COALESCED_MMIO, ZONE, 8, 2));
	chk("register pio=0x100",
	    zone(&v, KVM_REGISTER_COALESCED_MMIO, ZONE, 8, 0x100));
	chk("unregister pio=2",
	    zone(&v, KVM_UNREGISTER_COALESCED_MMIO, ZONE, 8, 2));
	chk("register bad pointer",
	    ioctl(v.fd, KVM_REGISTER_COALESCED_MMIO, (void *)8));
	chk("unregister bad pointer",
	    ioctl(v.fd, KVM_UNREGISTER_COALESCED_MMIO, (void *)8));
	chk("register on the vCPU fd", ioctl(v.vcpu,
	    KVM_REGISTER_COALESCED_MMIO, &(struct kvm_coalesced_mmio_zone){
		.addr = ZONE, .size = 8 }));
	chk("register on the system fd", ioctl(v.sys,
	    KVM_REGISTER_COALESCED_MMIO, &(struct kvm_coalesced_mmio_zone){
		.addr = ZONE, .size = 8 }));
	chk("unregister a zone never registered",
	    zone(&v, KVM_UNREGISTER_COALESCED_MMIO, 0x200000, 8, 0));

	tr("# zones");
	chk("register mmio zone",
	    zone(&v, KVM_REGISTER_COALESCED_MMIO, ZONE, ZONE_SIZE, 0));
	chk("register pio zone",
	    zone(&v, KVM_REGISTER_COALESCED_MMIO, PIO_ZONE, PIO_ZONE_SIZE, 1));

	tr("# writes in the zones are queued, reads and the rest exit");
	vm_load(&v, GUEST_CODE_GPA, cz_basic_start,
		cz_basic_end - cz_basic_start);
	vm_setup_flat32(&v, GUEST_CODE_GPA);
	run_to_hlt(&v, 0);

	tr("# 200 writes: the ring fills and a write exits");
	vm_load(&v, GUEST_CODE_GPA, cz_fill_start, cz_fill_end - cz_fill_start);
	vm_setup_flat32(&v, GUEST_CODE_GPA);
	run_to_hlt(&v, 1);
	print_regs(&v);

	tr("# unregister: a sub-range of the port zone removes it");
	chk("unregister mmio zone",
	    zone(&v, KVM_UNREGISTER_COALESCED_MMIO, ZONE, ZONE_SIZE, 0));
	chk("unregister port 0x81 size 1",
	    zone(&v, KVM_UNREGISTER_COALESCED_MMIO, 0x81, 1, 1));
	vm_load(&v, GUEST_CODE_GPA, cz_after_start,
		cz_after_end - cz_after_start);
	vm_setup_flat32(&v, GUEST_CODE_GPA);
	run_to_hlt(&v, 0);

	tr("# a zone in the wrong space does not catch the write");
	chk("register pio zone at 0x100000",
	    zone(&v, KVM_REGISTER_COALESCED_MMIO, ZONE, ZONE_SIZE, 1));
	chk("register mmio zone at 0x80",
	    zone(&v, KVM_REGISTER_COALESCED_MMIO, PIO_ZONE, PIO_ZONE_SIZE, 0));
	vm_setup_flat32(&v, GUEST_CODE_GPA);
	run_to_hlt(&v, 0);
	vm_destroy(&v);

	tr("# 8-byte writes from 64-bit mode (a new VM: CPUID is set once)");
	vm_create(&v, MEM_SIZE);
	chk("register mmio zone",
	    zone(&v, KVM_REGISTER_COALESCED_MMIO, ZONE, ZONE_SIZE, 0));
	vm_load(&v, GUEST_CODE_GPA, cz_long_start, cz_long_end - cz_long_start);
	vm_setup_long(&v, GUEST_CODE_GPA);
	run_to_hlt(&v, 0);
	vm_destroy(&v);

	tr("# the bus limit");
	bus_limit();
	return 0;
}
