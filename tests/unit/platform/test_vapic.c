// SPDX-License-Identifier: MIT
/*
 * test_vapic.c - KVM_SET_VAPIC_ADDR through the KVM ABI: its errno, the
 * word written to the page before the guest runs (TPR, ISR class,
 * highest IRR), and a TPR the guest writes there taken back.
 */
#include <stdlib.h>

#include "platform_test.h"
#include "one_vcpu_vm.h"

#define VAPIC 0x9000

static int set_vapic(struct vm *v, uint64_t gpa)
{
	struct kvm_vapic_addr va = { .vapic_addr = gpa };

	return skvm_ioctl(v->vcpu, KVM_SET_VAPIC_ADDR, &va) ? -errno : 0;
}

static void test_errno(void **state)
{
	struct vm v;

	vm_open(&v, false);
	assert_int_equal(set_vapic(&v, VAPIC), -EINVAL);	/* no LAPIC */
	vm_close(&v);

	vm_open(&v, true);
	assert_int_equal(skvm_ioctl(v.vcpu, KVM_SET_VAPIC_ADDR, (void *)8), -1);
	assert_int_equal(errno, EFAULT);
	assert_int_equal(set_vapic(&v, MEM_SIZE), -EINVAL);	/* not RAM */
	assert_int_equal(set_vapic(&v, MEM_SIZE - 2), -EINVAL);	/* runs out */
	assert_int_equal(set_vapic(&v, VAPIC), 0);
	assert_int_equal(set_vapic(&v, 0), 0);			/* off */
	vm_close(&v);
}

/* Real mode at 0x1000: out 0x80; TPR 0x50 into the page; sti; nop; out 0x80; hlt. */
static const uint8_t guest_code[] = {
	0xe6, 0x80,				/* out %al, $0x80 */
	0xc6, 0x06, 0x00, 0x90, 0x50,		/* movb $0x50, 0x9000 */
	0xfb, 0x90,				/* sti; nop */
	0xe6, 0x80,				/* out %al, $0x80 */
	0xf4,					/* hlt */
};

static void lapic_set_bit(struct kvm_lapic_state *s, unsigned int base, int vec)
{
	uint32_t w;

	memcpy(&w, s->regs + base + (vec / 32) * 0x10, 4);
	w |= 1u << (vec % 32);
	memcpy(s->regs + base + (vec / 32) * 0x10, &w, 4);
}

static void test_sync(void **state)
{
	struct kvm_lapic_state s;
	struct vm v;
	uint32_t word, tpr;

	vm_open(&v, true);
	memcpy(v.mem + 0x1000, guest_code, sizeof(guest_code));
	vm_real_mode(&v, 0);
	assert_int_equal(skvm_ioctl(v.vcpu, KVM_GET_LAPIC, &s), 0);
	tpr = 0xf5;				/* masks every vector */
	memcpy(s.regs + 0x80, &tpr, 4);
	lapic_set_bit(&s, 0x100, 0x47);		/* in service */
	lapic_set_bit(&s, 0x200, 0x42);		/* requested, below the new TPR */
	assert_int_equal(skvm_ioctl(v.vcpu, KVM_SET_LAPIC, &s), 0);
	assert_int_equal(set_vapic(&v, VAPIC), 0);

	assert_int_equal(vm_run_out(&v, 0x80) >= 0, 1);
	memcpy(&word, v.mem + VAPIC, 4);
	assert_int_equal(word, 0xf5u | 0x40u << 8 | 0x42u << 24);

	/* The guest lowers the TPR in the page; an interrupt check takes it. */
	assert_int_equal(vm_run_out(&v, 0x80) >= 0, 1);
	assert_int_equal(skvm_ioctl(v.vcpu, KVM_GET_LAPIC, &s), 0);
	memcpy(&tpr, s.regs + 0x80, 4);
	assert_int_equal(tpr, 0x50);
	vm_close(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errno),
		cmocka_unit_test(test_sync),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
