// SPDX-License-Identifier: MIT
/*
 * test_split_irqchip.c - KVM_CAP_SPLIT_IRQCHIP: the errno of enabling it
 * and of the ioctls that need the in-kernel PIC/IOAPIC, and a guest whose
 * LAPIC takes MSIs routed from reserved GSIs (level ones end in
 * KVM_EXIT_IOAPIC_EOI when EOIed), from other GSIs and KVM_SIGNAL_MSI
 * (no EOI exit), and ExtINT vectors through KVM_INTERRUPT with the
 * interrupt window.
 */
#include <sys/eventfd.h>

#include "lapic_guest.h"

/* Enable the LAPIC, report on port 0x80, then halt with IF set. */
GUEST_CODE(split_guest,
	".code16\n"
	LG_X2APIC_ON
	LG_VECTOR("split_guest", 0x70, "h70")
	LG_VECTOR("split_guest", 0x71, "h71")
	LG_VECTOR("split_guest", 0x72, "h72")
	LG_VECTOR("split_guest", 0x78, "h78")
	"	outb %al, $0x80\n"
	"	sti\n"
	"1:	hlt\n	jmp 1b\n"
	"h70:\n" LG_EOI "	outb %al, $0x70\n	iret\n"
	"h71:\n" LG_EOI "	outb %al, $0x71\n	iret\n"
	"h72:\n" LG_EOI "	outb %al, $0x72\n	iret\n"
	"h78:	outb %al, $0x78\n	iret\n");	/* ExtINT: no LAPIC EOI */

#define MSI_ADDR	0xfee00000u	/* physical destination 0 */
#define MSI_LEVEL	(1u << 15 | 1u << 14)

static struct kvm_irq_routing_entry msi_route(uint32_t gsi, uint32_t data)
{
	return (struct kvm_irq_routing_entry){
		.gsi = gsi, .type = KVM_IRQ_ROUTING_MSI,
		.u.msi = { .address_lo = MSI_ADDR, .data = data },
	};
}

static void set_routes(int vm, const struct kvm_irq_routing_entry *e, uint32_t n)
{
	struct {
		struct kvm_irq_routing hdr;
		struct kvm_irq_routing_entry e[4];
	} r = { .hdr = { .nr = n } };

	memcpy(r.e, e, n * sizeof(*e));
	assert_int_equal(skvm_ioctl(vm, KVM_SET_GSI_ROUTING, &r), 0);
}

static int enable_split(int vm, uint64_t pins)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_SPLIT_IRQCHIP, .args = { pins } };

	return skvm_ioctl(vm, KVM_ENABLE_CAP, &cap) ? -errno : 0;
}

static void test_split_errno(void **state)
{
	struct kvm_irqchip chip = { .chip_id = KVM_IRQCHIP_IOAPIC };
	struct kvm_irq_level line = { .irq = 3, .level = 1 };
	struct kvm_irq_routing_entry pin = {
		.gsi = 0, .type = KVM_IRQ_ROUTING_IRQCHIP,
		.u.irqchip = { .irqchip = KVM_IRQCHIP_IOAPIC, .pin = 0 },
	};
	struct kvm_lapic_state lapic;
	struct kvm_interrupt irq = { 0x30 };
	struct kvm_irqfd irqfd = { .gsi = 3, .flags = KVM_IRQFD_FLAG_RESAMPLE };
	struct {
		struct kvm_irq_routing hdr;
		struct kvm_irq_routing_entry e;
	} routing = { .hdr = { .nr = 1 }, .e = pin };
	struct kvm_enable_cap flagged = { .cap = KVM_CAP_SPLIT_IRQCHIP, .flags = 1 };
	struct lg_vm v;

	lg_open(&v, LG_NONE, 0);
	assert_int_equal(skvm_ioctl(v.vm, KVM_CHECK_EXTENSION, KVM_CAP_SPLIT_IRQCHIP), 1);
	assert_int_equal(enable_split(v.vm, 49), -EINVAL);
	flagged.args[0] = 24;
	assert_int_equal(skvm_ioctl(v.vm, KVM_ENABLE_CAP, &flagged), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(enable_split(v.vm, 24), 0);
	assert_int_equal(enable_split(v.vm, 24), -EEXIST);
	assert_int_equal(skvm_ioctl(v.vm, KVM_CREATE_IRQCHIP, 0), -1);
	assert_int_equal(errno, EEXIST);
	/* No PIC or IOAPIC here. */
	assert_int_equal(skvm_ioctl(v.vm, KVM_GET_IRQCHIP, &chip), -1);
	assert_int_equal(errno, ENXIO);
	assert_int_equal(skvm_ioctl(v.vm, KVM_SET_GSI_ROUTING, &routing), -1);
	assert_int_equal(errno, EINVAL);
	irqfd.fd = (uint32_t)eventfd(0, 0);
	irqfd.resamplefd = (uint32_t)eventfd(0, 0);
	assert_int_equal(skvm_ioctl(v.vm, KVM_IRQFD, &irqfd), -1);
	assert_int_equal(errno, EINVAL);
	close((int)irqfd.fd);
	close((int)irqfd.resamplefd);
	/* KVM_IRQ_LINE goes through the (empty) routing, as with KVM. */
	assert_int_equal(skvm_ioctl(v.vm, KVM_IRQ_LINE_STATUS, &line), 0);
	assert_int_equal(line.status, -1);
	/* The vCPU has its LAPIC; KVM_INTERRUPT is for ExtINT. */
	lg_add_vcpu(&v, 0, 0x1000, 0x8000);
	assert_int_equal(skvm_ioctl(v.vcpu[0], KVM_GET_LAPIC, &lapic), 0);
	assert_int_equal(skvm_ioctl(v.vcpu[0], KVM_INTERRUPT, &irq), 0);
	assert_int_equal(skvm_ioctl(v.vcpu[0], KVM_INTERRUPT, &irq), -1);
	assert_int_equal(errno, EEXIST);
	irq.irq = 256;
	assert_int_equal(skvm_ioctl(v.vcpu[0], KVM_INTERRUPT, &irq), -1);
	assert_int_equal(errno, EINVAL);
	lg_close(&v);

	/* Too late once a vCPU exists, or after KVM_CREATE_IRQCHIP. */
	lg_open(&v, LG_NONE, 0);
	lg_add_vcpu(&v, 0, 0x1000, 0x8000);
	assert_int_equal(enable_split(v.vm, 24), -EEXIST);
	lg_close(&v);
	lg_open(&v, LG_IRQCHIP, 0);
	assert_int_equal(enable_split(v.vm, 24), -EEXIST);
	lg_add_vcpu(&v, 0, 0x1000, 0x8000);
	irq.irq = 0x30;
	assert_int_equal(skvm_ioctl(v.vcpu[0], KVM_INTERRUPT, &irq), -1);
	assert_int_equal(errno, ENXIO);
	lg_close(&v);
}

static void expect_eoi_exit(struct lg_vm *v, uint8_t vector)
{
	assert_int_equal(lg_run(v, 0), KVM_EXIT_IOAPIC_EOI);
	assert_int_equal(v->run[0]->eoi.vector, vector);
}

static void test_split_guest(void **state)
{
	struct kvm_irq_routing_entry routes[3] = {
		msi_route(3, 0x70 | MSI_LEVEL),		/* reserved, level */
		msi_route(30, 0x71 | MSI_LEVEL),	/* not reserved */
		msi_route(4, 0x72),			/* reserved, edge */
	};
	struct kvm_irq_level line = { .irq = 3, .level = 1 };
	struct kvm_msi msi = { .address_lo = MSI_ADDR, .data = 0x72 };
	struct kvm_interrupt irq = { 0x78 };
	struct lg_vm v;

	lg_open(&v, LG_SPLIT, 24);
	lg_load(&v, 0x1000, split_guest_start, split_guest_end);
	lg_add_vcpu(&v, 0, 0x1000, 0x8000);
	set_routes(v.vm, routes, 3);
	assert_int_equal(lg_run_to_out(&v, 0), 0x80);

	/* A level MSI of a reserved GSI: its EOI exits first. */
	assert_int_equal(skvm_ioctl(v.vm, KVM_IRQ_LINE_STATUS, &line), 0);
	assert_int_equal(line.status, 1);
	expect_eoi_exit(&v, 0x70);
	assert_int_equal(lg_run_to_out(&v, 0), 0x70);
	line = (struct kvm_irq_level){ .irq = 3, .level = 0 };	/* status was irq */
	assert_int_equal(skvm_ioctl(v.vm, KVM_IRQ_LINE_STATUS, &line), 0);
	assert_int_equal(line.status, -1);	/* an MSI has no low level */

	/* Level, but beyond the reserved GSIs: no exit. */
	line = (struct kvm_irq_level){ .irq = 30, .level = 1 };
	assert_int_equal(skvm_ioctl(v.vm, KVM_IRQ_LINE_STATUS, &line), 0);
	assert_int_equal(line.status, 1);
	assert_int_equal(lg_run_to_out(&v, 0), 0x71);
	/* Edge: no exit. */
	line = (struct kvm_irq_level){ .irq = 4, .level = 1 };
	assert_int_equal(skvm_ioctl(v.vm, KVM_IRQ_LINE_STATUS, &line), 0);
	assert_int_equal(line.status, 1);
	assert_int_equal(lg_run_to_out(&v, 0), 0x72);

	/* KVM_SIGNAL_MSI reaches the LAPIC; the exit follows the vector. */
	assert_int_equal(skvm_ioctl(v.vm, KVM_SIGNAL_MSI, &msi), 1);
	assert_int_equal(lg_run_to_out(&v, 0), 0x72);
	msi.data = 0x70 | MSI_LEVEL;
	assert_int_equal(skvm_ioctl(v.vm, KVM_SIGNAL_MSI, &msi), 1);
	expect_eoi_exit(&v, 0x70);
	assert_int_equal(lg_run_to_out(&v, 0), 0x70);
	msi.address_lo = MSI_ADDR | (5u << 12);		/* no APIC ID 5 */
	assert_int_equal(skvm_ioctl(v.vm, KVM_SIGNAL_MSI, &msi), -1);
	assert_int_equal(errno, EPERM);

	/* New routes without GSI 3: vector 0x70 no longer exits. */
	set_routes(v.vm, &routes[1], 2);
	msi.address_lo = MSI_ADDR;
	assert_int_equal(skvm_ioctl(v.vm, KVM_SIGNAL_MSI, &msi), 1);
	assert_int_equal(lg_run_to_out(&v, 0), 0x70);

	/* ExtINT from the user-space PIC: window, KVM_INTERRUPT, delivery. */
	v.run[0]->request_interrupt_window = 1;
	assert_int_equal(lg_run(&v, 0), KVM_EXIT_IRQ_WINDOW_OPEN);
	assert_true(v.run[0]->ready_for_interrupt_injection);
	assert_int_equal(skvm_ioctl(v.vcpu[0], KVM_INTERRUPT, &irq), 0);
	assert_int_equal(skvm_ioctl(v.vcpu[0], KVM_INTERRUPT, &irq), -1);
	assert_int_equal(errno, EEXIST);
	v.run[0]->request_interrupt_window = 0;
	assert_int_equal(lg_run_to_out(&v, 0), 0x78);
	lg_close(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_errno),
		cmocka_unit_test(test_split_guest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
