// SPDX-License-Identifier: MIT
/*
 * irqfd - KVM_IRQFD with the in-kernel irqchip (KVM_CREATE_IRQCHIP).
 *
 * A real-mode guest programs the in-kernel master PIC (vector base 0x20,
 * only IRQ 5 unmasked), then loops: OUT its interrupt count to port 0xe9
 * (an exit), STI, HLT, CLI.  Its IRQ 5 handler counts, sends a
 * non-specific EOI and returns.  The client writes an irqfd bound to
 * GSI 5 before re-entering: the interrupt wakes the halted vCPU and the
 * next exit shows the count moved.  With KVM_IRQFD_FLAG_RESAMPLE the GSI
 * stays asserted until the guest's EOI, which signals the resamplefd.
 * After a deassignment, a write injects nothing: the halted vCPU stays in
 * KVM_RUN until a timer signal ends it with EINTR.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "abi.h"

#define MEM_SIZE	0x10000
#define GSI		5
extern const unsigned char irq_handler[];

GUEST_CODE(irqfd_guest,
	".code16\n"
	"	mov $0xff, %al\n"
	"	outb %al, $0xa1\n"		/* slave: all masked */
	"	mov $0x11, %al\n"
	"	outb %al, $0x20\n"		/* ICW1: edge, cascade, ICW4 */
	"	mov $0x20, %al\n"
	"	outb %al, $0x21\n"		/* ICW2: vectors 0x20.. */
	"	mov $0x04, %al\n"
	"	outb %al, $0x21\n"		/* ICW3: slave on IRQ 2 */
	"	mov $0x01, %al\n"
	"	outb %al, $0x21\n"		/* ICW4: 8086 mode */
	"	mov $0xdf, %al\n"
	"	outb %al, $0x21\n"		/* OCW1: only IRQ 5 */
	"	xor %bx, %bx\n"
	"1:	mov %bx, %ax\n"
	"	outw %ax, $0xe9\n"
	"	sti\n"
	"	hlt\n"
	"	cli\n"
	"	jmp 1b\n"
	".globl irq_handler\n"
	".hidden irq_handler\n"
	"irq_handler:\n"
	"	inc %bx\n"
	"	mov $0x20, %al\n"
	"	outb %al, $0x20\n"		/* OCW2: non-specific EOI */
	"	iret\n");

static int irqfd(struct vm *v, int fd, uint32_t gsi, uint32_t flags,
		 int resamplefd);
static int the_efd, the_rfd;

/* Before the vCPU: irqfd with and without an irqchip, then one. */
static void make_irqchip(struct vm *v)
{
	chk("KVM_CHECK_EXTENSION KVM_CAP_IRQFD",
	    ioctl(v->fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQFD));
	chk("KVM_CHECK_EXTENSION KVM_CAP_IRQFD_RESAMPLE",
	    ioctl(v->fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQFD_RESAMPLE));
	chk("KVM_IRQFD without an irqchip", irqfd(v, the_efd, GSI, 0, 0));
	chk("KVM_IRQFD resample without an irqchip",
	    irqfd(v, the_efd, GSI, KVM_IRQFD_FLAG_RESAMPLE, the_rfd));
	chk("KVM_CREATE_IRQCHIP", ioctl(v->fd, KVM_CREATE_IRQCHIP, 0));
}

static void on_alarm(int sig)
{
	(void)sig;
}

static int irqfd(struct vm *v, int fd, uint32_t gsi, uint32_t flags,
		 int resamplefd)
{
	struct kvm_irqfd a = {
		.fd = fd, .gsi = gsi, .flags = flags, .resamplefd = resamplefd,
	};

	return ioctl(v->fd, KVM_IRQFD, &a);
}

/*
 * KVM_RUN once, with a timer that ends a halt nothing wakes: 3 s where
 * nothing should, 30 s where an injection should (a loaded host may take
 * seconds to run the irqfd thread).
 */
static void run_for(struct vm *v, unsigned int s)
{
	alarm(s);
	vm_run(v);
	alarm(0);
}

static void run(struct vm *v)
{
	run_for(v, 30);
}

static void poke(const char *what, int efd)
{
	tr("write %s", what);
	die_unless(eventfd_write(efd, 1) == 0, "eventfd_write");
}

static void peek(const char *what, int efd)
{
	eventfd_t n = 0;

	if (eventfd_read(efd, &n) < 0)
		n = 0;
	tr("%s counter: %llu", what, (unsigned long long)n);
}

static void errnos(struct vm *v, int efd, int rfd)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	int other = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	tr("# bad calls");
	chk("unknown flag 1 << 5", irqfd(v, efd, GSI, 1 << 5, 0));
	chk("fd -1", irqfd(v, -1, GSI, 0, 0));
	chk("fd of /dev/null", irqfd(v, null, GSI, 0, 0));
	chk("resample, resamplefd -1",
	    irqfd(v, efd, GSI, KVM_IRQFD_FLAG_RESAMPLE, -1));
	chk("resample, resamplefd of /dev/null",
	    irqfd(v, efd, GSI, KVM_IRQFD_FLAG_RESAMPLE, null));
	chk("bad pointer", ioctl(v->fd, KVM_IRQFD, (void *)8));
	chk("on the vCPU fd", ioctl(v->vcpu, KVM_IRQFD,
	    &(struct kvm_irqfd){ .fd = efd, .gsi = GSI }));
	chk("deassign, never assigned",
	    irqfd(v, other, GSI, KVM_IRQFD_FLAG_DEASSIGN, 0));
	chk("deassign fd -1", irqfd(v, -1, GSI, KVM_IRQFD_FLAG_DEASSIGN, 0));
	chk("assign GSI 5", irqfd(v, other, GSI, 0, 0));
	chk("assign it again", irqfd(v, other, GSI, 0, 0));
	chk("assign it again on GSI 6", irqfd(v, other, 6, 0, 0));
	chk("assign it again with resample",
	    irqfd(v, other, GSI, KVM_IRQFD_FLAG_RESAMPLE, rfd));
	chk("deassign it on GSI 6",
	    irqfd(v, other, 6, KVM_IRQFD_FLAG_DEASSIGN, 0));
	chk("deassign it", irqfd(v, other, GSI, KVM_IRQFD_FLAG_DEASSIGN, 0));
	chk("deassign it again",
	    irqfd(v, other, GSI, KVM_IRQFD_FLAG_DEASSIGN, 0));
	close(other);
	close(null);
}

int main(void)
{
	struct sigaction sa;
	int lfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	uint16_t *ivt;
	struct vm v;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);

	int efd = the_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	int rfd = the_rfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vm_create_hook(&v, MEM_SIZE, make_irqchip);
	errnos(&v, efd, rfd);

	vm_load(&v, GUEST_CODE_GPA, irqfd_guest_start,
		irqfd_guest_end - irqfd_guest_start);
	ivt = (uint16_t *)v.mem;
	ivt[(0x20 + GSI) * 2] = GUEST_CODE_GPA + (irq_handler - irqfd_guest_start);
	ivt[(0x20 + GSI) * 2 + 1] = 0;
	vm_setup_real(&v, GUEST_CODE_GPA);

	tr("# a plain irqfd on GSI 5");
	chk("assign", irqfd(&v, efd, GSI, 0, 0));
	run(&v);		/* count 0 */
	poke("irqfd", efd);
	run(&v);		/* count 1 */
	poke("irqfd", efd);
	run(&v);		/* count 2 */

	tr("# deassigned: a write injects nothing");
	chk("deassign", irqfd(&v, efd, GSI, KVM_IRQFD_FLAG_DEASSIGN, 0));
	poke("irqfd", efd);
	run_for(&v, 3);		/* EINTR */
	peek("irqfd", efd);

	tr("# resample: asserted until the EOI, then the resamplefd");
	chk("assign with resample",
	    irqfd(&v, lfd, GSI, KVM_IRQFD_FLAG_RESAMPLE, rfd));
	peek("resamplefd", rfd);
	poke("irqfd", lfd);
	run(&v);		/* count 3 */
	peek("resamplefd", rfd);
	poke("irqfd", lfd);
	poke("irqfd", lfd);
	run(&v);		/* count 4: one interrupt for both writes */
	peek("resamplefd", rfd);
	run_for(&v, 3);		/* EINTR */
	peek("resamplefd", rfd);
	chk("deassign", irqfd(&v, lfd, GSI, KVM_IRQFD_FLAG_DEASSIGN, 0));
	poke("irqfd", lfd);
	run_for(&v, 3);		/* EINTR */
	peek("resamplefd", rfd);
	print_regs(&v);
	vm_destroy(&v);
	return 0;
}
