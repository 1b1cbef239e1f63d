// SPDX-License-Identifier: MIT
/*
 * test_guest_irq.c - the in-kernel irqchip through the KVM ABI
 * (skvm_open/skvm_ioctl): the ioctls' errno table, and a real-mode guest
 * that programs the PIC, halts, and takes IRQ 0 raised with
 * KVM_IRQ_LINE_STATUS.
 */
#include <stdlib.h>

#include "platform_test.h"
#include "one_vcpu_vm.h"

struct errno_row {
	const char *what;
	int fd;				/* 0 vm, 1 vcpu */
	unsigned long ioctl;
	int want;			/* 0 or -errno */
};

static void test_errno_without_irqchip(void **state)
{
	struct vm v;
	struct kvm_irqchip chip = { .chip_id = KVM_IRQCHIP_PIC_MASTER };
	struct kvm_irq_level line = { .irq = 0, .level = 1 };
	struct kvm_lapic_state lapic;
	struct kvm_irq_routing routing = { 0 };
	struct kvm_pit_state2 pit;

	vm_open(&v, false);
	assert_int_equal(skvm_ioctl(v.vm, KVM_GET_IRQCHIP, &chip), -1);
	assert_int_equal(errno, ENXIO);
	assert_int_equal(skvm_ioctl(v.vm, KVM_IRQ_LINE, &line), -1);
	assert_int_equal(errno, ENXIO);
	assert_int_equal(skvm_ioctl(v.vcpu, KVM_GET_LAPIC, &lapic), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(skvm_ioctl(v.vm, KVM_SET_GSI_ROUTING, &routing), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(skvm_ioctl(v.vm, KVM_GET_PIT2, &pit), -1);
	assert_int_equal(errno, ENXIO);
	/* After a vCPU exists the irqchip can no longer be created. */
	assert_int_equal(skvm_ioctl(v.vm, KVM_CREATE_IRQCHIP, 0), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(skvm_ioctl(v.vm, KVM_CHECK_EXTENSION, KVM_CAP_IRQCHIP), 1);
	vm_close(&v);
}

static void test_errno_with_irqchip(void **state)
{
	struct vm v;
	struct kvm_irqchip chip = { .chip_id = 3 };
	struct kvm_lapic_state lapic;
	struct kvm_pit_config cfg = { 0 };
	struct kvm_pit_state2 pit;
	struct kvm_mp_state mp;
	uint32_t id;
	int ap;

	vm_open(&v, true);
	assert_int_equal(skvm_ioctl(v.vm, KVM_CREATE_IRQCHIP, 0), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(skvm_ioctl(v.vm, KVM_GET_IRQCHIP, &chip), -1);
	assert_int_equal(errno, EINVAL);
	chip.chip_id = KVM_IRQCHIP_IOAPIC;
	assert_int_equal(skvm_ioctl(v.vm, KVM_GET_IRQCHIP, &chip), 0);
	assert_int_equal(chip.chip.ioapic.base_address, 0xfec00000);
	assert_true(chip.chip.ioapic.redirtbl[0].fields.mask);
	assert_int_equal(skvm_ioctl(v.vcpu, KVM_GET_LAPIC, &lapic), 0);
	memcpy(&id, lapic.regs + 0x20, 4);
	assert_int_equal(id, 0);
	memcpy(&id, lapic.regs + 0x350, 4);
	assert_int_equal(id, 0x700);		/* BSP LINT0: ExtINT */
	assert_int_equal(skvm_ioctl(v.vm, KVM_CREATE_PIT2, &cfg), 0);
	assert_int_equal(skvm_ioctl(v.vm, KVM_CREATE_PIT2, &cfg), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(skvm_ioctl(v.vm, KVM_GET_PIT2, &pit), 0);
	assert_int_equal(skvm_ioctl(v.vm, KVM_SET_PIT2, &pit), 0);
	/* An AP waits for INIT-SIPI. */
	ap = skvm_ioctl(v.vm, KVM_CREATE_VCPU, 1);
	assert_true(ap >= 0);
	assert_int_equal(skvm_ioctl(ap, KVM_GET_MP_STATE, &mp), 0);
	assert_int_equal(mp.mp_state, KVM_MP_STATE_UNINITIALIZED);
	assert_int_equal(skvm_ioctl(v.vcpu, KVM_GET_MP_STATE, &mp), 0);
	assert_int_equal(mp.mp_state, KVM_MP_STATE_RUNNABLE);
	close(ap);
	vm_close(&v);
}

/* Real mode at 0x1000: program the master PIC, unmask IRQ 0, report, STI; HLT. */
static const uint8_t guest_code[] = {
	0xb0, 0x11, 0xe6, 0x20,		/* ICW1 */
	0xb0, 0x20, 0xe6, 0x21,		/* ICW2: vectors 0x20.. */
	0xb0, 0x04, 0xe6, 0x21,		/* ICW3 */
	0xb0, 0x01, 0xe6, 0x21,		/* ICW4: 8086 mode */
	0xb0, 0xfe, 0xe6, 0x21,		/* OCW1: only IRQ 0 */
	0xb0, 0x01, 0xe6, 0x80,		/* out 0x80, 1: ready */
	0xfb,				/* sti */
	0xf4,				/* hlt */
	0xeb, 0xfd,			/* jmp hlt */
};

/* The IRQ 0 handler at 0x1100: EOI, out 0x80, 0x42, iret. */
static const uint8_t guest_handler[] = {
	0xb0, 0x20, 0xe6, 0x20, 0xb0, 0x42, 0xe6, 0x80, 0xcf,
};

static int run_to_port80(struct vm *v)
{
	for (int i = 0; i < 100; i++) {
		assert_int_equal(skvm_ioctl(v->vcpu, KVM_RUN, 0), 0);
		if (v->run->exit_reason == KVM_EXIT_IO && v->run->io.port == 0x80)
			return ((uint8_t *)v->run)[v->run->io.data_offset];
		if (v->run->exit_reason != KVM_EXIT_IO)
			fail_msg("exit %u", v->run->exit_reason);
	}
	fail_msg("no port 0x80 write");
	return -1;
}

static void test_pic_guest(void **state)
{
	struct kvm_irq_level line = { .irq = 0, .level = 1 };
	struct kvm_irqchip chip = { .chip_id = KVM_IRQCHIP_PIC_MASTER };
	struct kvm_sregs sregs;
	struct kvm_regs regs = { 0 };
	struct vm v;

	vm_open(&v, true);
	memcpy(v.mem + 0x1000, guest_code, sizeof(guest_code));
	memcpy(v.mem + 0x1100, guest_handler, sizeof(guest_handler));
	v.mem[0x20 * 4] = 0x00;			/* IVT[0x20] = 0000:1100 */
	v.mem[0x20 * 4 + 1] = 0x11;
	assert_int_equal(skvm_ioctl(v.vcpu, KVM_GET_SREGS, &sregs), 0);
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	sregs.ss.base = 0;
	sregs.ss.selector = 0;
	assert_int_equal(skvm_ioctl(v.vcpu, KVM_SET_SREGS, &sregs), 0);
	regs.rip = 0x1000;
	regs.rsp = 0x8000;
	regs.rflags = 0x2;
	assert_int_equal(skvm_ioctl(v.vcpu, KVM_SET_REGS, &regs), 0);

	assert_int_equal(run_to_port80(&v), 1);
	assert_int_equal(skvm_ioctl(v.vm, KVM_IRQ_LINE_STATUS, &line), 0);
	assert_int_equal(line.status, 1);
	line.level = 0;
	assert_int_equal(skvm_ioctl(v.vm, KVM_IRQ_LINE_STATUS, &line), 0);
	/* KVM_RUN wakes the halted vCPU; the handler reports. */
	assert_int_equal(run_to_port80(&v), 0x42);
	assert_int_equal(skvm_ioctl(v.vm, KVM_GET_IRQCHIP, &chip), 0);
	assert_int_equal(chip.chip.pic.irq_base, 0x20);
	assert_int_equal(chip.chip.pic.imr, 0xfe);
	assert_int_equal(chip.chip.pic.isr, 0);
	vm_close(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errno_without_irqchip),
		cmocka_unit_test(test_errno_with_irqchip),
		cmocka_unit_test(test_pic_guest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
