/* SPDX-License-Identifier: MIT */
/*
 * platform.h - a VM's emulated PC platform: the in-kernel irqchip (PIC,
 * IOAPIC, a LAPIC per vCPU), the PIT, GSI routing and the timer thread,
 * and what x86.c calls to run vCPUs against them.
 */
#ifndef SKVM_PLATFORM_H
#define SKVM_PLATFORM_H

#include <pthread.h>
#include <stdatomic.h>

#include "hrtimer.h"
#include "i8254.h"
#include "i8259.h"
#include "ioapic.h"
#include "irqchip.h"
#include "lapic.h"

#define KVM_X2APIC_API_VALID_FLAGS (KVM_X2APIC_API_USE_32BIT_IDS | \
				    KVM_X2APIC_API_DISABLE_BROADCAST_QUIRK)
#define KVM_PIT_IRQ_SOURCE_ID	2
#define KVM_NR_IRQ_SOURCES	3

/* KVM's limit on the IOAPIC routes KVM_CAP_SPLIT_IRQCHIP may reserve. */
#define KVM_MAX_NR_RESERVED_IOAPIC_PINS 48

struct kvm_platform {
	struct kvm *kvm;
	struct kvm_timer_base *timers;
	bool irqchip;			/* KVM_CREATE_IRQCHIP or split done */
	/* KVM_CAP_SPLIT_IRQCHIP: only the LAPICs here; PIC, IOAPIC outside */
	bool split;
	uint32_t nr_reserved_ioapic_pins;
	atomic_uint scan_gen;		/* bumped when EOI-exit vectors may change */
	struct kvm_pic *pic;
	struct kvm_ioapic *ioapic;
	struct kvm_apic_bus apic_bus;
	struct kvm_irq_routing_state routing;
	struct kvm_pit *pit;		/* KVM_CREATE_PIT2 */
	struct kvm_irq_ack_notifier pit_ack;
	/* Each chip pin's level is the OR of its sources' (irq_source_id). */
	pthread_mutex_t lines_lock;
	uint8_t lines[KVM_NR_IRQCHIPS][KVM_IRQCHIP_NUM_PINS];
};

/* VM ioctls: KVM_CREATE_IRQCHIP, KVM_GET/SET_IRQCHIP, KVM_CREATE_PIT2,
 * KVM_GET/SET_PIT(2), KVM_REINJECT_CONTROL and the routing ioctls.
 * -ENOTTY for others. */
long kvm_platform_vm_ioctl(struct kvm *kvm, unsigned int ioctl, void *argp);
int kvm_platform_enable_x2apic_api(struct kvm *kvm, uint64_t flags);
/* KVM_ENABLE_CAP(KVM_CAP_SPLIT_IRQCHIP): LAPICs in process, the rest outside. */
int kvm_platform_enable_split_irqchip(struct kvm *kvm, uint64_t nr_pins);
/* KVM_CREATE_IRQCHIP's PIC and IOAPIC exist (the kernel's pic_in_kernel). */
bool kvm_pic_in_kernel(struct kvm *kvm);
/* KVM_HC_SEND_IPI: the hypercall's return value. */
long kvm_pv_send_ipi(struct kvm *kvm, uint64_t bitmap_low, uint64_t bitmap_high,
		     uint32_t min, uint64_t icr, bool op_64_bit);
/* VM teardown, before the vCPUs go: the PIT stops ticking. */
void kvm_platform_sync_events(struct kvm *kvm);
void kvm_platform_destroy(struct kvm *kvm);
bool kvm_irqchip_in_kernel(struct kvm *kvm);

/* vCPU side (x86.c). */
int kvm_platform_vcpu_create(struct kvm_vcpu *vcpu);
void kvm_platform_vcpu_destroy(struct kvm_vcpu *vcpu);
/* KVM_GET/SET_LAPIC; -ENOTTY for other ioctls. */
long kvm_platform_vcpu_ioctl(struct kvm_vcpu *vcpu, unsigned int ioctl, void *argp);
/*
 * KVM_INTERRUPT with an in-kernel LAPIC: the ExtINT vector of a split
 * irqchip's user-space PIC; -ENXIO with the in-kernel PIC, -EEXIST while
 * one is pending.
 */
int kvm_platform_interrupt(struct kvm_vcpu *vcpu, unsigned int vector);
/*
 * KVM's kvm_cpu_accept_dm_intr: user space may inject an ExtINT now (none
 * pending and LINT0 takes it); true without an in-kernel LAPIC.
 */
bool kvm_platform_accept_dm_intr(struct kvm_vcpu *vcpu);
/* A split irqchip's EOI to report: fills KVM_EXIT_IOAPIC_EOI, true. */
bool kvm_platform_ioapic_eoi_exit(struct kvm_vcpu *vcpu);
/* MSR_KVM_PV_EOI_EN: 0, or 1 for a bad value (#GP / KVM_SET_MSRS stops). */
int kvm_pv_eoi_set_msr(struct kvm_vcpu *vcpu, uint64_t data);
/* The engine's pending_irq with an in-kernel LAPIC (and the PIC's ExtINT). */
int kvm_platform_pending_irq(struct kvm_vcpu *vcpu, bool ack);
/* Before entering the engine: NMI/INIT/SIPI from the LAPIC. */
void kvm_platform_vcpu_events(struct kvm_vcpu *vcpu);
/*
 * The vCPU cannot run (halted, or an AP waiting for SIPI): sleep until it
 * can, or until a kick or signal; true when it may run now.
 */
bool kvm_platform_vcpu_block(struct kvm_vcpu *vcpu);
/* Wake the vCPU from kvm_platform_vcpu_block (it re-checks; any thread). */
void kvm_platform_vcpu_wake(struct kvm_vcpu *vcpu);
/* The engine's PIO/MMIO exit, offered to the LAPIC and the buses first:
 * true when served in process. */
bool kvm_platform_mmio(struct kvm_vcpu *vcpu, uint64_t gpa, int len, bool write,
		       uint8_t *data);
bool kvm_platform_pio(struct kvm_vcpu *vcpu, uint16_t port, int size, bool in,
		      uint32_t count, uint8_t *buf);
/* x2APIC MSRs and IA32_TSC_DEADLINE: 1 when not ours, else 0 / -1 (#GP). */
int kvm_platform_rdmsr(struct kvm_vcpu *vcpu, uint32_t msr, uint64_t *val);
int kvm_platform_wrmsr(struct kvm_vcpu *vcpu, uint32_t msr, uint64_t val);

#endif /* SKVM_PLATFORM_H */
