// SPDX-License-Identifier: MIT
/*
 * Unit tests of KVM_IRQFD (virt/kvm/eventfd.c) and the irq-bypass registry
 * (virt/lib/irqbypass.c): assignment rules with KVM's errno; a real-mode
 * guest that takes interrupts raised by eventfd writes while it runs,
 * without KVM_RUN returning in between; level-triggered irqfds whose
 * resamplefd is signalled when the guest's EOI reaches the IOAPIC; and a
 * producer that bypasses the eventfd while an irqfd consumes it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>
#include <linux/kvm.h>

#include "skvm.h"
#include "irqbypass.h"
#include "irqchip.h"
#include "kvm_file.h"
#include "kvm_host.h"

#define MEM_SIZE 0x10000

struct vm {
	int sys, vm, vcpu;
	struct kvm_run *run;
	uint8_t *mem;
	int runs;		/* KVM_RUN calls made */
};

static void vm_open(struct vm *v, bool irqchip)
{
	struct kvm_userspace_memory_region region = { 0 };

	memset(v, 0, sizeof(*v));
	v->sys = skvm_open(O_RDWR);
	v->vm = skvm_ioctl(v->sys, KVM_CREATE_VM, 0);
	assert_true(v->vm >= 0);
	v->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(v->mem != MAP_FAILED);
	region.memory_size = MEM_SIZE;
	region.userspace_addr = (uintptr_t)v->mem;
	assert_int_equal(skvm_ioctl(v->vm, KVM_SET_USER_MEMORY_REGION, &region), 0);
	if (irqchip)
		assert_int_equal(skvm_ioctl(v->vm, KVM_CREATE_IRQCHIP, 0), 0);
	v->vcpu = skvm_ioctl(v->vm, KVM_CREATE_VCPU, 0);
	assert_true(v->vcpu >= 0);
	v->run = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED,
		      v->vcpu, 0);
	assert_true(v->run != MAP_FAILED);
}

static void vm_close(struct vm *v)
{
	munmap(v->run, 3 * 4096);
	close(v->vcpu);
	close(v->vm);
	close(v->sys);
	munmap(v->mem, MEM_SIZE);
}

static int irqfd(int vm, int fd, uint32_t gsi, uint32_t flags, int resamplefd)
{
	struct kvm_irqfd a = {
		.fd = (uint32_t)fd, .gsi = gsi, .flags = flags,
		.resamplefd = (uint32_t)resamplefd,
	};

	return skvm_ioctl(vm, KVM_IRQFD, &a) ? -errno : 0;
}

static void test_rules(void **state)
{
	struct vm v;
	int efd = eventfd(0, EFD_NONBLOCK), rfd = eventfd(0, EFD_NONBLOCK), p[2];

	assert_int_equal(pipe(p), 0);
	vm_open(&v, false);
	assert_int_equal(skvm_ioctl(v.sys, KVM_CHECK_EXTENSION, KVM_CAP_IRQFD), 1);
	assert_int_equal(skvm_ioctl(v.sys, KVM_CHECK_EXTENSION,
				    KVM_CAP_IRQFD_RESAMPLE), 1);
	/* no in-kernel irqchip */
	assert_int_equal(irqfd(v.vm, efd, 4, 0, -1), -EINVAL);
	vm_close(&v);

	vm_open(&v, true);
	assert_int_equal(irqfd(v.vm, efd, 4, 1u << 5, -1), -EINVAL);
	assert_int_equal(irqfd(v.vm, 999, 4, 0, -1), -EBADF);
	assert_int_equal(irqfd(v.vm, p[0], 4, 0, -1), -EINVAL);
	assert_int_equal(irqfd(v.vm, efd, 4, KVM_IRQFD_FLAG_RESAMPLE, p[0]), -EINVAL);
	assert_int_equal(irqfd(v.vm, efd, 4, 0, -1), 0);
	/* one eventfd drives one irqfd */
	assert_int_equal(irqfd(v.vm, efd, 5, 0, -1), -EBUSY);
	assert_int_equal(irqfd(v.vm, efd, 4, KVM_IRQFD_FLAG_DEASSIGN, -1), 0);
	assert_int_equal(irqfd(v.vm, efd, 5, KVM_IRQFD_FLAG_RESAMPLE, rfd), 0);
	assert_int_equal(irqfd(v.vm, efd, 5, KVM_IRQFD_FLAG_DEASSIGN, -1), 0);
	/* deassigning what is not assigned is not an error, as with KVM */
	assert_int_equal(irqfd(v.vm, efd, 5, KVM_IRQFD_FLAG_DEASSIGN, -1), 0);
	assert_int_equal(irqfd(v.vm, 999, 5, KVM_IRQFD_FLAG_DEASSIGN, -1), -EBADF);
	assert_int_equal(skvm_ioctl(v.vm, KVM_IRQFD, (void *)8), -1);
	assert_int_equal(errno, EFAULT);
	vm_close(&v);
	close(p[0]);
	close(p[1]);
	close(efd);
	close(rfd);
}

/*
 * Real mode at 0x1000: program the master PIC (vectors 0x20..), unmask
 * IRQ 5, report ready with out 0x80, then halt with interrupts on.  The
 * IRQ 5 handler at 0x1100 counts in [0x2000], EOIs, and reports done
 * through out 0x80 once the count reaches 3.
 */
static const uint8_t guest_code[] = {
	0xb0, 0x11, 0xe6, 0x20,		/* ICW1 */
	0xb0, 0x20, 0xe6, 0x21,		/* ICW2 */
	0xb0, 0x04, 0xe6, 0x21,		/* ICW3 */
	0xb0, 0x01, 0xe6, 0x21,		/* ICW4 */
	0xb0, 0xdf, 0xe6, 0x21,		/* OCW1: only IRQ 5 */
	0xb0, 0x01, 0xe6, 0x80,		/* ready */
	0xfb,				/* sti */
	0xf4,				/* hlt */
	0xeb, 0xfd,			/* jmp hlt */
};

static const uint8_t guest_handler[] = {
	0xfe, 0x06, 0x00, 0x20,		/* inc byte [0x2000] */
	0xb0, 0x20, 0xe6, 0x20,		/* EOI */
	0x80, 0x3e, 0x00, 0x20, 0x03,	/* cmp byte [0x2000], 3 */
	0x75, 0x04,			/* jne iret */
	0xb0, 0x42, 0xe6, 0x80,		/* done */
	0xcf,				/* iret */
};

static int run_to_port80(struct vm *v)
{
	for (int i = 0; i < 100; i++) {
		v->runs++;
		if (skvm_ioctl(v->vcpu, KVM_RUN, 0))
			return -errno;
		if (v->run->exit_reason == KVM_EXIT_IO && v->run->io.port == 0x80)
			return ((uint8_t *)v->run)[v->run->io.data_offset];
		if (v->run->exit_reason != KVM_EXIT_IO)
			return -1000 - (int)v->run->exit_reason;
	}
	return -1;
}

struct runner {
	struct vm *v;
	int result;
};

static void *vcpu_thread(void *arg)
{
	struct runner *r = arg;

	r->result = run_to_port80(r->v);
	return NULL;
}

static void guest_setup(struct vm *v)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = 0x1000, .rsp = 0x8000, .rflags = 2 };

	memcpy(v->mem + 0x1000, guest_code, sizeof(guest_code));
	memcpy(v->mem + 0x1100, guest_handler, sizeof(guest_handler));
	v->mem[0x25 * 4] = 0x00;	/* IVT[0x25] = 0000:1100 */
	v->mem[0x25 * 4 + 1] = 0x11;
	assert_int_equal(skvm_ioctl(v->vcpu, KVM_GET_SREGS, &sregs), 0);
	sregs.cs.base = sregs.ss.base = sregs.ds.base = 0;
	sregs.cs.selector = sregs.ss.selector = sregs.ds.selector = 0;
	assert_int_equal(skvm_ioctl(v->vcpu, KVM_SET_SREGS, &sregs), 0);
	assert_int_equal(skvm_ioctl(v->vcpu, KVM_SET_REGS, &regs), 0);
}

static void test_guest_takes_irqfd_interrupts(void **state)
{
	struct vm v;
	struct runner r = { .v = &v };
	pthread_t t;
	uint64_t one = 1;
	int efd = eventfd(0, EFD_NONBLOCK);

	vm_open(&v, true);
	guest_setup(&v);
	assert_int_equal(run_to_port80(&v), 1);
	assert_int_equal(irqfd(v.vm, efd, 5, 0, -1), 0);
	v.runs = 0;
	assert_int_equal(pthread_create(&t, NULL, vcpu_thread, &r), 0);
	for (int i = 1; i <= 3; i++) {
		assert_int_equal(write(efd, &one, 8), 8);
		/* the halted guest counts it while KVM_RUN is still running */
		for (int w = 0; w < 20000 && v.mem[0x2000] < i; w++)
			usleep(1000);
		assert_int_equal(v.mem[0x2000], i);
	}
	pthread_join(t, NULL);
	assert_int_equal(r.result, 0x42);
	assert_int_equal(v.runs, 1);	/* one KVM_RUN for all three */
	assert_int_equal(irqfd(v.vm, efd, 5, KVM_IRQFD_FLAG_DEASSIGN, -1), 0);
	vm_close(&v);
	close(efd);
}

/* The IOAPIC pin's level as KVM_GET_IRQCHIP reports it (irr). */
static bool ioapic_irr(struct vm *v, int pin)
{
	struct kvm_irqchip chip = { .chip_id = KVM_IRQCHIP_IOAPIC };

	assert_int_equal(skvm_ioctl(v->vm, KVM_GET_IRQCHIP, &chip), 0);
	return (chip.chip.ioapic.irr >> pin) & 1;
}

static bool readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

static void test_resample(void **state)
{
	struct kvm_irqchip chip = { .chip_id = KVM_IRQCHIP_IOAPIC };
	int efd = eventfd(0, EFD_NONBLOCK), rfd = eventfd(0, EFD_NONBLOCK);
	struct kvm_file *f;
	uint64_t one = 1, n;
	struct vm v;

	vm_open(&v, true);
	/* IOAPIC pin 10: level triggered, masked, so the line just stays up */
	assert_int_equal(skvm_ioctl(v.vm, KVM_GET_IRQCHIP, &chip), 0);
	chip.chip.ioapic.redirtbl[10].bits = 0;
	chip.chip.ioapic.redirtbl[10].fields.vector = 0x30;
	chip.chip.ioapic.redirtbl[10].fields.trig_mode = 1;
	chip.chip.ioapic.redirtbl[10].fields.mask = 1;
	assert_int_equal(skvm_ioctl(v.vm, KVM_SET_IRQCHIP, &chip), 0);
	assert_int_equal(irqfd(v.vm, efd, 10, KVM_IRQFD_FLAG_RESAMPLE, rfd), 0);
	assert_false(ioapic_irr(&v, 10));
	assert_int_equal(write(efd, &one, 8), 8);
	for (int w = 0; w < 20000 && !ioapic_irr(&v, 10); w++)
		usleep(1000);
	assert_true(ioapic_irr(&v, 10));	/* held until acknowledged */
	assert_false(readable(rfd, 0));
	/* the guest's EOI for the pin, as the IOAPIC reports it */
	f = kvm_file_get(v.vm);
	kvm_notify_acked_irq(f->obj, KVM_IRQCHIP_IOAPIC, 10);
	kvm_file_put(f);
	assert_true(readable(rfd, 20000));
	assert_int_equal(read(rfd, &n, 8), 8);
	assert_int_equal(n, 1);
	assert_false(ioapic_irr(&v, 10));
	/* deassigning lowers nothing more and stops the injections */
	assert_int_equal(irqfd(v.vm, efd, 10, KVM_IRQFD_FLAG_DEASSIGN, -1), 0);
	assert_int_equal(write(efd, &one, 8), 8);
	usleep(20000);
	assert_false(ioapic_irr(&v, 10));
	vm_close(&v);
	close(efd);
	close(rfd);
}

static void test_bypass(void **state)
{
	struct kvm_irqchip chip = { .chip_id = KVM_IRQCHIP_IOAPIC };
	int efd = eventfd(0, EFD_NONBLOCK), rfd = eventfd(0, EFD_NONBLOCK);
	struct irq_bypass_producer prod = { .fd = efd };
	struct irq_bypass_producer twin = { .fd = efd };
	uint64_t n;
	struct vm v;

	vm_open(&v, true);
	assert_int_equal(skvm_ioctl(v.vm, KVM_GET_IRQCHIP, &chip), 0);
	chip.chip.ioapic.redirtbl[11].bits = 0;
	chip.chip.ioapic.redirtbl[11].fields.trig_mode = 1;
	chip.chip.ioapic.redirtbl[11].fields.mask = 1;
	assert_int_equal(skvm_ioctl(v.vm, KVM_SET_IRQCHIP, &chip), 0);
	assert_int_equal(irq_bypass_register_producer(&prod), 0);
	assert_int_equal(irq_bypass_register_producer(&twin), -EBUSY);
	/* irqfd registered after the producer: they connect */
	assert_int_equal(irqfd(v.vm, efd, 11, KVM_IRQFD_FLAG_RESAMPLE, rfd), 0);
	assert_int_equal(irq_bypass_producer_fire(&prod), 1);
	assert_true(ioapic_irr(&v, 11));	/* injected at once, no thread */
	assert_int_equal(read(efd, &n, 8), -1);	/* the eventfd was never signalled */
	/* without the consumer the producer falls back to the eventfd */
	assert_int_equal(irqfd(v.vm, efd, 11, KVM_IRQFD_FLAG_DEASSIGN, -1), 0);
	assert_int_equal(irq_bypass_producer_fire(&prod), 0);
	assert_int_equal(read(efd, &n, 8), 8);
	assert_int_equal(n, 1);
	irq_bypass_unregister_producer(&prod);
	vm_close(&v);
	close(efd);
	close(rfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_guest_takes_irqfd_interrupts),
		cmocka_unit_test(test_resample),
		cmocka_unit_test(test_bypass),
	};

	return cmocka_run_group_tests_name("irqfd", tests, NULL, NULL);
}
