// SPDX-License-Identifier: MIT
/*
 * test_pv_lapic.c - KVM's paravirtual LAPIC features with guests:
 * PV EOI (MSR_KVM_PV_EOI_EN: the flag is set when a self-IPI is injected,
 * clearing it is the EOI; an IOAPIC vector gets no flag and needs its EOI
 * write) and PV send-IPI (KVM_HC_SEND_IPI to three APs, its errors and its
 * second bitmap); the MSR's checks through KVM_SET_MSRS.
 */
#include <linux/kvm_para.h>
#include <pthread.h>

#include "lapic_guest.h"

#define PV_FLAG		0x9004		/* the PV EOI flag */
#define FLAG_AT_60	0x9008		/* flag seen in the 0x60 handler */
#define EOI_WRITES	0x900c		/* EOIs written to the LAPIC */
#define ISR_AFTER	0x9010		/* ISR bits 0x60-0x7f after PV EOI */
#define FLAG_AT_70	0x9014		/* flag seen in the 0x70 handler */

/*
 * Each handler does what Linux's PV EOI does: clear the flag, and write
 * EOI only when the flag was not set.
 */
#define PV_EOI_HANDLER(seen)						\
	"	pushal\n"						\
	"	movb 0x9004, %al\n	movb %al, " seen "\n"		\
	"	btrw $0, 0x9004\n	jc 2f\n"			\
	"	mov $0x80b, %ecx\n	xor %eax, %eax\n	xor %edx, %edx\n" \
	"	wrmsr\n	incw 0x900c\n"					\
	"2:	popal\n"

GUEST_CODE(pveoi_guest,
	".code16\n"
	LG_X2APIC_ON
	LG_VECTOR("pveoi_guest", 0x60, "h60")
	LG_VECTOR("pveoi_guest", 0x70, "h70")
	"	mov $0x4b564d04, %ecx\n	mov $0x9005, %eax\n	wrmsr\n"
	"	sti\n"
	"	mov $0x83f, %ecx\n	mov $0x60, %eax\n	wrmsr\n"	/* self IPI */
	"3:	cmpw $1, 0x9018\n	jne 3b\n"			/* handled */
	"	mov $0x813, %ecx\n	rdmsr\n	mov %eax, 0x9010\n"	/* ISR 0x60-7f */
	"	outb %al, $0x80\n"
	"1:	hlt\n	jmp 1b\n"
	"h60:\n" PV_EOI_HANDLER("0x9008") "	movw $1, 0x9018\n	iret\n"
	"h70:\n" PV_EOI_HANDLER("0x9014") "	outb %al, $0x81\n	iret\n");

static int msr_set(int vcpu, uint32_t index, uint64_t data)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} m = { .hdr = { .nmsrs = 1 }, .e = { .index = index, .data = data } };

	return skvm_ioctl(vcpu, KVM_SET_MSRS, &m);
}

static int msr_get(int vcpu, uint32_t index, uint64_t *data)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} m = { .hdr = { .nmsrs = 1 }, .e = { .index = index } };
	int r = skvm_ioctl(vcpu, KVM_GET_MSRS, &m);

	*data = m.e.data;
	return r;
}

static void test_pv_eoi_msr(void **state)
{
	struct kvm_enable_cap enforce = { .cap = KVM_CAP_ENFORCE_PV_FEATURE_CPUID,
					  .args = { 1 } };
	struct {
		struct kvm_cpuid2 hdr;
		struct kvm_cpuid_entry2 e[2];
	} cpuid = { .hdr = { .nent = 2 }, .e = {
		{ .function = 0x40000000, .eax = 0x40000001 },
		{ .function = 0x40000001 },		/* no PV features */
	} };
	struct lg_vm v;
	uint64_t val;

	lg_open(&v, LG_IRQCHIP, 0);
	lg_add_vcpu(&v, 0, 0x1000, 0x8000);
	assert_int_equal(msr_set(v.vcpu[0], MSR_KVM_PV_EOI_EN, 0x9005), 1);
	assert_int_equal(msr_get(v.vcpu[0], MSR_KVM_PV_EOI_EN, &val), 1);
	assert_int_equal(val, 0x9005);
	/* Bit 1 is reserved; the flag must be in guest RAM. */
	assert_int_equal(msr_set(v.vcpu[0], MSR_KVM_PV_EOI_EN, 0x9007), 0);
	assert_int_equal(msr_set(v.vcpu[0], MSR_KVM_PV_EOI_EN, 0x100001), 0);
	assert_int_equal(msr_set(v.vcpu[0], MSR_KVM_PV_EOI_EN, 0x100000), 1);
	/* Enforced PV CPUID without PV_EOI: the MSR is not there. */
	assert_int_equal(skvm_ioctl(v.vcpu[0], KVM_SET_CPUID2, &cpuid), 0);
	assert_int_equal(skvm_ioctl(v.vcpu[0], KVM_ENABLE_CAP, &enforce), 0);
	assert_int_equal(msr_set(v.vcpu[0], MSR_KVM_PV_EOI_EN, 0x9005), 0);
	assert_int_equal(msr_get(v.vcpu[0], MSR_KVM_PV_EOI_EN, &val), 0);
	lg_close(&v);
}

static void test_pv_eoi_guest(void **state)
{
	struct kvm_irqchip chip = { .chip_id = KVM_IRQCHIP_IOAPIC };
	struct kvm_irq_level line = { .irq = 5, .level = 1 };
	struct lg_vm v;
	uint64_t val;

	lg_open(&v, LG_IRQCHIP, 0);
	lg_load(&v, 0x1000, pveoi_guest_start, pveoi_guest_end);
	lg_add_vcpu(&v, 0, 0x1000, 0x8000);
	assert_int_equal(lg_run_to_out(&v, 0), 0x80);
	assert_int_equal(msr_get(v.vcpu[0], MSR_KVM_PV_EOI_EN, &val), 1);
	assert_int_equal(val, 0x9005);
	/* The self IPI had the flag; clearing it ended the interrupt. */
	assert_int_equal(v.mem[FLAG_AT_60], 1);
	assert_int_equal(lg_word(&v, EOI_WRITES) & 0xffff, 0);
	assert_int_equal(lg_word(&v, ISR_AFTER), 0);
	assert_int_equal(v.mem[PV_FLAG], 0);

	/* An IOAPIC vector (level) gets no flag: the handler writes EOI. */
	assert_int_equal(skvm_ioctl(v.vm, KVM_GET_IRQCHIP, &chip), 0);
	chip.chip.ioapic.redirtbl[5].bits = 0x70 | (1ULL << 15);
	assert_int_equal(skvm_ioctl(v.vm, KVM_SET_IRQCHIP, &chip), 0);
	assert_int_equal(skvm_ioctl(v.vm, KVM_IRQ_LINE_STATUS, &line), 0);
	assert_int_equal(line.status, 1);
	line = (struct kvm_irq_level){ .irq = 5, .level = 0 };	/* status was irq */
	assert_int_equal(skvm_ioctl(v.vm, KVM_IRQ_LINE_STATUS, &line), 0);
	assert_int_equal(lg_run_to_out(&v, 0), 0x81);
	assert_int_equal(v.mem[FLAG_AT_70], 0);
	assert_int_equal(lg_word(&v, EOI_WRITES) & 0xffff, 1);
	assert_int_equal(skvm_ioctl(v.vm, KVM_GET_IRQCHIP, &chip), 0);
	assert_false(chip.chip.ioapic.redirtbl[5].fields.remote_irr);
	lg_close(&v);
}

/*
 * PV send-IPI.  The APs enable their LAPICs, count themselves ready and
 * halt; the BSP waits for the three, then sends vector 0x50 to APIC IDs
 * 1-3 with one hypercall and tries the error cases.  Results at 0x9030.
 */
#define AP_READY	0x9024
#define IPIS_TAKEN	0x9020

#define SEND_IPI(low, high, min, icr, out)				\
	"	mov $10, %eax\n	mov $" low ", %ebx\n	mov $" high ", %ecx\n" \
	"	mov $" min ", %edx\n	mov $" icr ", %esi\n	vmcall\n"	\
	"	mov %eax, " out "\n"

GUEST_CODE(ipi_bsp,
	".code16\n"
	LG_X2APIC_ON
	LG_VECTOR("ipi_bsp", 0x50, "h50")
	"1:	cmpw $3, 0x9024\n	jne 1b\n"
	SEND_IPI("0xe", "0", "0", "0x50", "0x9030")	/* IDs 1, 2, 3 */
	SEND_IPI("0xe", "0", "0", "0x850", "0x9034")	/* logical: -EINVAL */
	SEND_IPI("0xe", "0", "0", "0xc0050", "0x9038")	/* shorthand: -EINVAL */
	SEND_IPI("1", "0", "0x1000", "0x50", "0x903c")	/* beyond the IDs */
	/* 32-bit cluster: the second bitmap starts at min + 32 = 2. */
	SEND_IPI("0", "1", "0xffffffe2", "0x50", "0x9040")
	"	outb %al, $0x80\n"
	"2:	hlt\n	jmp 2b\n"
	"h50:\n"
	"	lock incw 0x9020\n"
	LG_EOI
	"	outb %al, $0x82\n	iret\n");

GUEST_CODE(ipi_ap,
	".code16\n"
	LG_X2APIC_ON
	"	lock incw 0x9024\n"
	"	sti\n"
	"1:	hlt\n	jmp 1b\n");

struct ap_run {
	struct lg_vm *v;
	int i;
	uint32_t reason;
	uint16_t port;
};

static void *ap_thread(void *arg)
{
	struct ap_run *a = arg;

	if (skvm_ioctl(a->v->vcpu[a->i], KVM_RUN, 0) == 0) {
		a->reason = a->v->run[a->i]->exit_reason;
		a->port = a->v->run[a->i]->io.port;
	}
	return NULL;
}

static void test_pv_send_ipi(void **state)
{
	struct ap_run aps[3];
	pthread_t t[3];
	struct lg_vm v;

	lg_open(&v, LG_IRQCHIP, 0);
	lg_load(&v, 0x1000, ipi_bsp_start, ipi_bsp_end);
	lg_load(&v, 0x3000, ipi_ap_start, ipi_ap_end);
	lg_add_vcpu(&v, 0, 0x1000, 0x8000);
	for (int i = 0; i < 3; i++) {
		lg_add_vcpu(&v, (uint32_t)i + 1, 0x3000, 0x7000 - 0x800 * (uint64_t)i);
		aps[i] = (struct ap_run){ .v = &v, .i = i + 1 };
		assert_int_equal(pthread_create(&t[i], NULL, ap_thread, &aps[i]), 0);
	}
	assert_int_equal(lg_run_to_out(&v, 0), 0x80);
	for (int i = 0; i < 3; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(aps[i].reason, KVM_EXIT_IO);
		assert_int_equal(aps[i].port, 0x82);
	}
	assert_int_equal(lg_word(&v, 0x9030), 3);
	assert_int_equal(lg_word(&v, 0x9034), (uint32_t)-KVM_EINVAL);
	assert_int_equal(lg_word(&v, 0x9038), (uint32_t)-KVM_EINVAL);
	assert_int_equal(lg_word(&v, 0x903c), 0);
	assert_int_equal(lg_word(&v, 0x9040), 1);
	assert_int_equal(lg_word(&v, IPIS_TAKEN) & 0xffff, 3);
	lg_close(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pv_eoi_msr),
		cmocka_unit_test(test_pv_eoi_guest),
		cmocka_unit_test(test_pv_send_ipi),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
