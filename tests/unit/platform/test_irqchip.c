// SPDX-License-Identifier: MIT
/*
 * test_irqchip.c - GSI routing with a fake architecture whose chips
 * record what they are told: table validation (a table of routing sets
 * and their errno), fan-out of one GSI to several chips, MSI, the
 * KVM_IRQ_LINE_STATUS result, ack notifiers and the ioctls.
 */
#include "platform_test.h"
#include "irqchip.h"

static struct kvm_irq_routing_state routing;
static bool has_irqchip;
static int chip_level[KVM_NR_IRQCHIPS][KVM_IRQCHIP_NUM_PINS];
static int chip_status[KVM_NR_IRQCHIPS];	/* what each chip answers */
static struct kvm_msi last_msi;
static int msi_count;

/* The fake architecture. */
struct kvm_irq_routing_state *kvm_arch_irq_routing(struct kvm *kvm)
{
	return has_irqchip ? &routing : NULL;
}

void kvm_arch_irq_routing_update(struct kvm *kvm)
{
}

static int fake_chip_set(struct kvm_kernel_irq_routing_entry *e, struct kvm *kvm,
			 int src, int level, bool line_status)
{
	chip_level[e->irqchip.irqchip][e->irqchip.pin] = level;
	return chip_status[e->irqchip.irqchip];
}

static int fake_msi_set(struct kvm_kernel_irq_routing_entry *e, struct kvm *kvm,
			int src, int level, bool line_status)
{
	last_msi = (struct kvm_msi){ .address_lo = e->msi.address_lo,
				     .address_hi = e->msi.address_hi,
				     .data = e->msi.data };
	msi_count++;
	return 1;
}

int kvm_arch_set_routing_entry(struct kvm *kvm, struct kvm_kernel_irq_routing_entry *e,
			       const struct kvm_irq_routing_entry *ue)
{
	switch (ue->type) {
	case KVM_IRQ_ROUTING_IRQCHIP:
		if (ue->u.irqchip.irqchip >= KVM_NR_IRQCHIPS ||
		    ue->u.irqchip.pin >= (ue->u.irqchip.irqchip < 2 ? 8u : 24u))
			return -EINVAL;
		e->irqchip.irqchip = ue->u.irqchip.irqchip;
		e->irqchip.pin = ue->u.irqchip.pin;
		e->set = fake_chip_set;
		return 0;
	case KVM_IRQ_ROUTING_MSI:
		if (ue->flags)
			return -EINVAL;
		e->msi.address_lo = ue->u.msi.address_lo;
		e->msi.address_hi = ue->u.msi.address_hi;
		e->msi.data = ue->u.msi.data;
		e->set = fake_msi_set;
		return 0;
	}
	return -EINVAL;
}

/* The core's fault-safe copies, reduced to memcpy for valid pointers. */
int copy_from_user(void *dst, const void *src, size_t len)
{
	memcpy(dst, src, len);
	return 0;
}

int copy_to_user(void *dst, const void *src, size_t len)
{
	memcpy(dst, src, len);
	return 0;
}

static int setup(void **state)
{
	kvm_irq_routing_init(&routing);
	has_irqchip = true;
	memset(chip_level, 0, sizeof(chip_level));
	for (int i = 0; i < KVM_NR_IRQCHIPS; i++)
		chip_status[i] = 1;
	msi_count = 0;
	return 0;
}

static int teardown(void **state)
{
	kvm_irq_routing_free(&routing);
	return 0;
}

#define CHIP(g, c, p) { .gsi = (g), .type = KVM_IRQ_ROUTING_IRQCHIP, \
			.u.irqchip = { .irqchip = (c), .pin = (p) } }
#define MSI(g, a, d) { .gsi = (g), .type = KVM_IRQ_ROUTING_MSI, \
		       .u.msi = { .address_lo = (a), .data = (d) } }

struct table_case {
	const char *name;
	struct kvm_irq_routing_entry e[4];
	unsigned int nr;
	int r;
};

static const struct table_case table_cases[] = {
	{ "empty table", { { 0 } }, 0, 0 },
	{ "pic + ioapic on one gsi", { CHIP(0, 0, 0), CHIP(0, 2, 2) }, 2, 0 },
	{ "one gsi, all three chips", { CHIP(9, 0, 1), CHIP(9, 1, 1), CHIP(9, 2, 9) }, 3, 0 },
	{ "same chip twice on a gsi", { CHIP(3, 2, 3), CHIP(3, 2, 4) }, 2, -EINVAL },
	{ "msi shares a gsi", { MSI(5, 0xfee00000, 0x30), CHIP(5, 2, 5) }, 2, -EINVAL },
	{ "two msi on a gsi", { MSI(5, 0xfee00000, 0x30), MSI(5, 0xfee00000, 0x31) }, 2, -EINVAL },
	{ "gsi too large", { CHIP(KVM_MAX_IRQ_ROUTES, 2, 0) }, 1, -EINVAL },
	{ "bad pin (arch says)", { CHIP(1, 0, 8) }, 1, -EINVAL },
	{ "bad chip (arch says)", { CHIP(1, 3, 0) }, 1, -EINVAL },
	{ "unknown type", { { .gsi = 1, .type = 99 } }, 1, -EINVAL },
	{ "entry flags", { { .gsi = 1, .type = KVM_IRQ_ROUTING_MSI, .flags = 2 } }, 1, -EINVAL },
};

static void run_table_case(void **state)
{
	const struct table_case *c = *state;

	setup(NULL);
	assert_int_equal(kvm_set_irq_routing(&test_kvm, c->e, c->nr, 0), c->r);
	teardown(NULL);
}

static void test_no_irqchip_and_flags(void **state)
{
	struct kvm_irq_routing_entry e = CHIP(0, 2, 0);

	setup(NULL);
	assert_int_equal(kvm_set_irq_routing(&test_kvm, &e, 1, 1), -EINVAL);
	assert_int_equal(kvm_set_irq_routing(&test_kvm, &e, KVM_MAX_IRQ_ROUTES + 1, 0),
			 -EINVAL);
	has_irqchip = false;
	assert_int_equal(kvm_set_irq_routing(&test_kvm, &e, 1, 0), -EINVAL);
	assert_int_equal(kvm_set_irq(&test_kvm, 0, 0, 1, true), -1);
	teardown(NULL);
}

/* One GSI reaches every chip it is routed to; status is the best of them. */
static void test_fanout_and_status(void **state)
{
	struct kvm_irq_routing_entry e[] = {
		CHIP(0, 0, 0), CHIP(0, 2, 2), CHIP(10, 1, 2), CHIP(10, 2, 10),
		MSI(30, 0xfee01000, 0x4041),
	};

	setup(NULL);
	assert_int_equal(kvm_set_irq_routing(&test_kvm, e, 5, 0), 0);
	assert_int_equal(kvm_set_irq(&test_kvm, 0, 0, 1, true), 1);
	assert_int_equal(chip_level[0][0], 1);
	assert_int_equal(chip_level[2][2], 1);
	chip_status[1] = -1;
	chip_status[2] = 0;
	assert_int_equal(kvm_set_irq(&test_kvm, 0, 10, 1, true), 0);
	assert_int_equal(chip_level[1][2], 1);
	assert_int_equal(chip_level[2][10], 1);
	chip_status[2] = -1;
	assert_int_equal(kvm_set_irq(&test_kvm, 0, 10, 0, true), -1);
	assert_int_equal(chip_level[2][10], 0);
	assert_int_equal(kvm_set_irq(&test_kvm, 0, 11, 1, true), -1);	/* unrouted */
	assert_int_equal(kvm_set_irq(&test_kvm, 0, 30, 1, true), 1);
	assert_int_equal(last_msi.address_lo, 0xfee01000);
	assert_int_equal(last_msi.data, 0x4041);
	assert_int_equal(kvm_irq_map_chip_pin(&test_kvm, 2, 10), 10);
	assert_int_equal(kvm_irq_map_chip_pin(&test_kvm, 2, 11), -1);
	/* A new table replaces the old one entirely. */
	assert_int_equal(kvm_set_irq_routing(&test_kvm, e + 4, 1, 0), 0);
	assert_int_equal(kvm_set_irq(&test_kvm, 0, 0, 1, true), -1);
	teardown(NULL);
}

static int acked[2];

static void on_ack(struct kvm_irq_ack_notifier *k)
{
	acked[k->gsi == 5]++;
}

static void test_ack_notifiers(void **state)
{
	struct kvm_irq_routing_entry e[] = { CHIP(5, 2, 7), CHIP(4, 2, 4) };
	struct kvm_irq_ack_notifier a = { .gsi = 5, .irq_acked = on_ack };
	struct kvm_irq_ack_notifier b = { .gsi = 4, .irq_acked = on_ack };

	setup(NULL);
	acked[0] = acked[1] = 0;
	assert_int_equal(kvm_set_irq_routing(&test_kvm, e, 2, 0), 0);
	kvm_register_irq_ack_notifier(&test_kvm, &a);
	kvm_register_irq_ack_notifier(&test_kvm, &b);
	kvm_notify_acked_irq(&test_kvm, 2, 7);		/* pin 7 is gsi 5 */
	assert_int_equal(acked[1], 1);
	assert_int_equal(acked[0], 0);
	kvm_notify_acked_irq(&test_kvm, 2, 4);
	assert_int_equal(acked[0], 1);
	kvm_notify_acked_irq(&test_kvm, 2, 5);		/* unrouted pin */
	kvm_unregister_irq_ack_notifier(&test_kvm, &a);
	kvm_notify_acked_irq(&test_kvm, 2, 7);
	assert_int_equal(acked[1], 1);
	kvm_unregister_irq_ack_notifier(&test_kvm, &b);
	teardown(NULL);
}

static void test_ioctls(void **state)
{
	struct {
		struct kvm_irq_routing hdr;
		struct kvm_irq_routing_entry e[2];
	} rt = { .hdr = { .nr = 2 }, .e = { CHIP(1, 0, 1), CHIP(1, 2, 1) } };
	struct kvm_irq_level line = { .irq = 1, .level = 1 };
	struct kvm_msi msi = { .address_lo = 0xfee00000, .data = 0x55 };

	setup(NULL);
	assert_int_equal(kvm_irqchip_vm_ioctl(&test_kvm, KVM_SET_GSI_ROUTING, &rt), 0);
	chip_status[0] = 0;
	assert_int_equal(kvm_irqchip_vm_ioctl(&test_kvm, KVM_IRQ_LINE_STATUS, &line), 0);
	assert_int_equal(line.status, 1);
	chip_status[2] = 0;
	assert_int_equal(kvm_irqchip_vm_ioctl(&test_kvm, KVM_IRQ_LINE_STATUS, &line), 0);
	assert_int_equal(line.status, 0);
	assert_int_equal(kvm_irqchip_vm_ioctl(&test_kvm, KVM_SIGNAL_MSI, &msi), 1);
	assert_int_equal(last_msi.data, 0x55);
	msi.flags = 2;
	assert_int_equal(kvm_irqchip_vm_ioctl(&test_kvm, KVM_SIGNAL_MSI, &msi), -EINVAL);
	rt.hdr.flags = 1;
	assert_int_equal(kvm_irqchip_vm_ioctl(&test_kvm, KVM_SET_GSI_ROUTING, &rt), -EINVAL);
	assert_int_equal(kvm_irqchip_vm_ioctl(&test_kvm, KVM_CREATE_PIT2, NULL), -ENOTTY);
	has_irqchip = false;
	assert_int_equal(kvm_irqchip_vm_ioctl(&test_kvm, KVM_IRQ_LINE, &line), -ENXIO);
	msi.flags = 0;
	assert_int_equal(kvm_irqchip_vm_ioctl(&test_kvm, KVM_SIGNAL_MSI, &msi), -EINVAL);
	teardown(NULL);
}

int main(void)
{
	struct CMUnitTest tests[32];
	size_t n = 0;

	for (size_t i = 0; i < sizeof(table_cases) / sizeof(table_cases[0]); i++)
		tests[n++] = (struct CMUnitTest){
			.name = table_cases[i].name, .test_func = run_table_case,
			.initial_state = (void *)&table_cases[i],
		};
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_no_irqchip_and_flags);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_fanout_and_status);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_ack_notifiers);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_ioctls);
	return _cmocka_run_group_tests("irqchip", tests, n, NULL, NULL);
}
