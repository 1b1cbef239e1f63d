/* SPDX-License-Identifier: MIT */
/*
 * irqchip.h - GSI routing (api.rst 4.52 KVM_SET_GSI_ROUTING): which
 * interrupt-controller pins or MSI messages a GSI drives, and the ack
 * notifiers that tell level-triggered sources (resampling irqfds, the PIT)
 * that the guest acknowledged their interrupt.
 *
 * Architecture-independent: the architecture validates entries and gives
 * each its set() function (kvm_arch_set_routing_entry), and says where a
 * VM's routing lives (kvm_arch_irq_routing; NULL without an in-kernel
 * irqchip).
 */
#ifndef SKVM_IRQCHIP_H
#define SKVM_IRQCHIP_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "kvm_host.h"

#define KVM_MAX_IRQ_ROUTES	4096	/* x86's value */
#define KVM_NR_IRQCHIPS		3	/* PIC master, PIC slave, IOAPIC */
#define KVM_IRQCHIP_NUM_PINS	24
#define KVM_USERSPACE_IRQ_SOURCE_ID	0

struct kvm_kernel_irq_routing_entry {
	uint32_t gsi;
	uint32_t type;			/* KVM_IRQ_ROUTING_* */
	/* >0 delivered, 0 coalesced, <0 masked/none (KVM_IRQ_LINE_STATUS) */
	int (*set)(struct kvm_kernel_irq_routing_entry *e, struct kvm *kvm,
		   int irq_source_id, int level, bool line_status);
	union {
		struct {
			uint32_t irqchip;
			uint32_t pin;
		} irqchip;
		struct {
			uint32_t address_lo, address_hi, data, flags, devid;
		} msi;
	};
};

/* An immutable table, replaced as a whole and published RCU-style. */
struct kvm_irq_routing_table {
	int chip[KVM_NR_IRQCHIPS][KVM_IRQCHIP_NUM_PINS];	/* pin -> gsi, -1 */
	uint32_t nr_rt_entries;		/* highest gsi + 1 */
	int nr;
	struct kvm_kernel_irq_routing_entry *entries;	/* sorted by gsi */
};

struct kvm_irq_ack_notifier {
	struct kvm_irq_ack_notifier *next;
	uint32_t gsi;
	void (*irq_acked)(struct kvm_irq_ack_notifier *kian);
};

/* A VM's routing state (the kernel keeps it in struct kvm). */
struct kvm_irq_routing_state {
	pthread_mutex_t lock;		/* serialises table updates */
	struct kvm_irq_routing_table *table;	/* RCU */
	pthread_rwlock_t ack_lock;	/* ack_notifiers */
	struct kvm_irq_ack_notifier *ack_notifiers;
};

/* --- Hooks the architecture provides ---------------------------------- */

/* This VM's routing, or NULL when it has no in-kernel irqchip. */
struct kvm_irq_routing_state *kvm_arch_irq_routing(struct kvm *kvm);
/* Validate ue and fill e (e->gsi and e->type are set): 0 or -EINVAL. */
int kvm_arch_set_routing_entry(struct kvm *kvm,
			       struct kvm_kernel_irq_routing_entry *e,
			       const struct kvm_irq_routing_entry *ue);

/* A new table was published (the kernel's kvm_arch_post_irq_routing_update). */
void kvm_arch_irq_routing_update(struct kvm *kvm);
/* May this irqfd be assigned (a resampling one needs the whole irqchip)? */
bool kvm_arch_irqfd_allowed(struct kvm *kvm, const struct kvm_irqfd *args);

/* --- Services ------------------------------------------------------------ */

int kvm_irq_routing_init(struct kvm_irq_routing_state *r);
void kvm_irq_routing_free(struct kvm_irq_routing_state *r);

/* Replace the table (flags must be 0): 0, -EINVAL or -ENOMEM. */
int kvm_set_irq_routing(struct kvm *kvm, const struct kvm_irq_routing_entry *ue,
			unsigned int nr, unsigned int flags);
/*
 * Drive gsi to level from irq_source_id: every entry of the gsi is set.
 * > 0 when some chip took it, 0 when coalesced, -1 when masked or unrouted.
 */
int kvm_set_irq(struct kvm *kvm, int irq_source_id, uint32_t gsi, int level,
		bool line_status);
/* KVM_SIGNAL_MSI. */
int kvm_send_userspace_msi(struct kvm *kvm, const struct kvm_msi *msi);

/* Call fn for every entry of a GSI below gsi_limit, under RCU (fn must not block). */
void kvm_irq_routing_for_each(struct kvm *kvm, uint32_t gsi_limit,
			      void (*fn)(const struct kvm_kernel_irq_routing_entry *e,
					 void *arg),
			      void *arg);

/* The gsi routed to (irqchip, pin), or -1. */
int kvm_irq_map_chip_pin(struct kvm *kvm, unsigned int irqchip, unsigned int pin);
void kvm_register_irq_ack_notifier(struct kvm *kvm, struct kvm_irq_ack_notifier *kian);
void kvm_unregister_irq_ack_notifier(struct kvm *kvm, struct kvm_irq_ack_notifier *kian);
/* The guest acknowledged (irqchip, pin): run the notifiers of its gsi. */
void kvm_notify_acked_irq(struct kvm *kvm, unsigned int irqchip, unsigned int pin);

/*
 * KVM_SET_GSI_ROUTING, KVM_IRQ_LINE, KVM_IRQ_LINE_STATUS, KVM_SIGNAL_MSI
 * from kvm_vm_ioctl; -ENOTTY for any other ioctl.
 */
long kvm_irqchip_vm_ioctl(struct kvm *kvm, unsigned int ioctl, void *argp);

#endif /* SKVM_IRQCHIP_H */
