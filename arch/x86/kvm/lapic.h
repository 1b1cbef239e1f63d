/* SPDX-License-Identifier: MIT */
/*
 * lapic.h - the local APIC of each vCPU (Intel SDM Vol. 3, chapter 11
 * "Advanced Programmable Interrupt Controller"), in xAPIC (MMIO) and
 * x2APIC (MSR 0x800-0x8ff) modes, and the APIC bus that carries IPIs,
 * IOAPIC and MSI messages between them.
 */
#ifndef SKVM_LAPIC_H
#define SKVM_LAPIC_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "hrtimer.h"
#include "iodev.h"
#include "irq.h"

/* Register offsets in the xAPIC page (SDM Vol. 3, Table 11-1). */
#define APIC_ID		0x020
#define APIC_LVR	0x030
#define APIC_TASKPRI	0x080
#define APIC_ARBPRI	0x090
#define APIC_PROCPRI	0x0a0
#define APIC_EOI	0x0b0
#define APIC_RRR	0x0c0
#define APIC_LDR	0x0d0
#define APIC_DFR	0x0e0
#define APIC_SPIV	0x0f0
#define APIC_ISR	0x100
#define APIC_TMR	0x180
#define APIC_IRR	0x200
#define APIC_ESR	0x280
#define APIC_ICR	0x300
#define APIC_ICR2	0x310
#define APIC_LVTT	0x320
#define APIC_LVTTHMR	0x330
#define APIC_LVTPC	0x340
#define APIC_LVT0	0x350
#define APIC_LVT1	0x360
#define APIC_LVTERR	0x370
#define APIC_TMICT	0x380
#define APIC_TMCCT	0x390
#define APIC_TDCR	0x3e0
#define APIC_SELF_IPI	0x3f0

#define APIC_SPIV_APIC_ENABLED	(1u << 8)
#define APIC_LVT_MASKED		(1u << 16)
#define APIC_LVT_TIMER_MODE(v)	(((v) >> 17) & 3)
#define APIC_LVT_TIMER_ONESHOT	0
#define APIC_LVT_TIMER_PERIODIC	1
#define APIC_LVT_TIMER_TSCDEADLINE 2
#define APIC_ICR_LOGICAL	(1u << 11)
#define APIC_ICR_BUSY		(1u << 12)
#define APIC_ICR_LEVEL_ASSERT	(1u << 14)
#define APIC_ICR_LEVEL_TRIG	(1u << 15)

/* Error status bits (SDM Vol. 3, 11.5.3). */
#define APIC_ESR_SEND_ILLEGAL	(1u << 5)
#define APIC_ESR_RECV_ILLEGAL	(1u << 6)
#define APIC_ESR_ILLEGAL_REG	(1u << 7)

#define KVM_APIC_VERSION	0x14	/* integrated APIC */
#define KVM_APIC_LVT_NUM	6	/* timer, thermal, perf, LINT0/1, error */
#define KVM_APIC_MMIO_SIZE	0x1000
#define KVM_X2APIC_MSR_BASE	0x800
#define KVM_X2APIC_MSR_LAST	0x8ff
#define KVM_MSR_TSC_DEADLINE	0x6e0
/* Periodic timers faster than this are slowed down to it, as KVM. */
#define KVM_APIC_MIN_PERIOD_NS	200000ULL

/* Events for the vCPU besides maskable interrupts. */
#define KVM_APIC_EV_NMI		(1u << 0)
#define KVM_APIC_EV_INIT	(1u << 1)
#define KVM_APIC_EV_SIPI	(1u << 2)
#define KVM_APIC_EV_EXTINT	(1u << 3)	/* look at the PIC */
#define KVM_APIC_EV_SMI		(1u << 4)

struct kvm_lapic;

struct kvm_apic_bus_ops {
	/*
	 * Every EOI by src, with whether the vector was level-triggered
	 * (TMR): the IOAPIC's EOI and the ack notifiers of edge pins, or the
	 * EOI exit of a split irqchip (no locks held).
	 */
	void (*eoi)(void *opaque, struct kvm_lapic *src, int vector, bool level);
	/*
	 * Optional: which messages a LAPIC accepts may have changed (its ID,
	 * LDR, DFR or mode).  No locks held.
	 */
	void (*map_changed)(void *opaque);
};

/* All local APICs of a VM: the destination of IPIs, IOAPIC and MSI messages. */
struct kvm_apic_bus {
	pthread_rwlock_t lock;		/* apics[], nr */
	struct kvm_lapic **apics;
	int nr, cap;
	struct kvm_timer_base *timers;
	/* KVM_CAP_X2APIC_API flags */
	bool x2apic_format;		/* KVM_X2APIC_API_USE_32BIT_IDS */
	bool broadcast_quirk_disabled;	/* ..._DISABLE_BROADCAST_QUIRK */
	atomic_uint arb_rr;		/* lowest-priority tie breaker */
	const struct kvm_apic_bus_ops *ops;
	void *opaque;
};

struct kvm_lapic_ops {
	/* Something is pending for the vCPU: wake or kick it.  No lock held. */
	void (*kick)(void *opaque);
	/* Guest TSC now and its rate, for the TSC-deadline timer. */
	uint64_t (*read_tsc)(void *opaque);
	uint64_t (*tsc_khz)(void *opaque);
};

struct kvm_lapic {
	struct kvm_io_device dev;	/* the xAPIC page (kvm_lapic_mmio_*) */
	struct kvm_apic_bus *bus;
	uint32_t vcpu_id;
	const struct kvm_lapic_ops *ops;
	void *opaque;

	pthread_mutex_t lock;		/* everything below but the atomics */
	uint8_t regs[KVM_APIC_REG_SIZE];	/* the xAPIC register page */
	uint64_t base;			/* IA32_APIC_BASE */
	uint32_t esr_pending;		/* errors not yet latched into ESR */
	uint8_t sipi_vector;

	/* The timer (SDM Vol. 3, 11.5.4); times are CLOCK_MONOTONIC ns. */
	struct kvm_hrtimer timer;
	uint64_t timer_expires;		/* armed expiry, 0 when idle */
	uint64_t timer_period;		/* one-shot and periodic */
	uint64_t tsc_deadline;		/* IA32_TSC_DEADLINE */
	/* the guest's CPUID has the TSC-deadline timer (1.ECX[24]) */
	bool tsc_deadline_mode;

	atomic_uint events;		/* KVM_APIC_EV_* */
	atomic_bool irr_pending;	/* some IRR bit may be set */
	bool dying;
};

/* --- The bus ---------------------------------------------------------- */

int kvm_apic_bus_init(struct kvm_apic_bus *bus, struct kvm_timer_base *timers,
		      const struct kvm_apic_bus_ops *ops, void *opaque);
void kvm_apic_bus_fini(struct kvm_apic_bus *bus);
/*
 * Send a message.  src is the sending LAPIC (IPIs) or NULL (IOAPIC, MSI).
 * Returns the number of LAPICs that accepted it, or -1 when none did.
 */
int kvm_apic_bus_deliver(struct kvm_apic_bus *bus, struct kvm_lapic *src,
			 const struct kvm_lapic_irq *irq);
/*
 * KVM_HC_SEND_IPI: send irq to each physical APIC ID min + i for the set
 * bits i of bitmap[0], and min + cluster + i for those of bitmap[1], up to
 * the highest APIC ID of the VM.  Returns how many LAPICs accepted it.
 */
int kvm_apic_bus_send_ipi_mask(struct kvm_apic_bus *bus, const uint64_t bitmap[2],
			       uint32_t min, unsigned int cluster,
			       const struct kvm_lapic_irq *irq);

/* --- One LAPIC ------------------------------------------------------------ */

/* Power-on state; joins the bus.  NULL on allocation failure. */
struct kvm_lapic *kvm_lapic_create(struct kvm_apic_bus *bus, uint32_t vcpu_id,
				   const struct kvm_lapic_ops *ops, void *opaque);
void kvm_lapic_destroy(struct kvm_lapic *apic);
/* INIT (init) or power-on reset (SDM Vol. 3, 11.4.7.1). */
void kvm_lapic_reset(struct kvm_lapic *apic, bool init);

/* IA32_APIC_BASE changed (already validated): mode switches. */
void kvm_lapic_set_base(struct kvm_lapic *apic, uint64_t value);
uint64_t kvm_lapic_get_base(struct kvm_lapic *apic);
bool kvm_lapic_x2apic_mode(struct kvm_lapic *apic);
/*
 * After KVM_SET_CPUID2: whether LVTT may select TSC-deadline mode.  As in
 * KVM, without the CPUID bit the mode field is one bit wide (one-shot or
 * periodic) and a write of mode 2 selects one-shot.
 */
void kvm_lapic_set_tsc_deadline_mode(struct kvm_lapic *apic, bool allowed);
bool kvm_lapic_hw_enabled(struct kvm_lapic *apic);
/* Hardware- and software-enabled (APIC_BASE.EN and SVR.APIC_ENABLED). */
bool kvm_lapic_enabled(struct kvm_lapic *apic);
/*
 * A message for this LAPIC alone, whatever its destination fields (KVM's
 * kvm_apic_set_irq: paravirtual notifications).  1 when accepted.
 */
int kvm_lapic_set_irq(struct kvm_lapic *apic, const struct kvm_lapic_irq *irq);

/*
 * The xAPIC page: 0, or -EOPNOTSUPP when gpa is not this LAPIC's page
 * (or the LAPIC is disabled or in x2APIC mode): the access goes on.
 */
int kvm_lapic_mmio_read(struct kvm_lapic *apic, gpa_t gpa, int len, void *val);
int kvm_lapic_mmio_write(struct kvm_lapic *apic, gpa_t gpa, int len, const void *val);
/* x2APIC MSRs and IA32_TSC_DEADLINE: 0, or -1 for #GP. */
int kvm_lapic_msr_read(struct kvm_lapic *apic, uint32_t msr, uint64_t *val);
int kvm_lapic_msr_write(struct kvm_lapic *apic, uint32_t msr, uint64_t val);

/* TPR as CR8 sees it (bits 7:4 of the TPR). */
void kvm_lapic_set_cr8(struct kvm_lapic *apic, uint64_t cr8);
uint64_t kvm_lapic_get_cr8(struct kvm_lapic *apic);
/* The whole 8-bit TPR (KVM_SET_VAPIC_ADDR's page). */
void kvm_lapic_set_tpr(struct kvm_lapic *apic, uint8_t tpr);
/* TPR | (highest ISR & 0xf0) << 8 | highest IRR << 24, as KVM's vapic word. */
uint32_t kvm_lapic_vapic_word(struct kvm_lapic *apic);

/*
 * The maskable interrupt to deliver: the highest IRR vector whose class
 * is above the PPR's, or -1.  With ack, it moves to ISR (the INTA).
 */
int kvm_lapic_pending_irq(struct kvm_lapic *apic, bool ack);
/* Take the pending NMI/INIT/SIPI/ExtINT events (KVM_APIC_EV_*). */
unsigned int kvm_lapic_take_events(struct kvm_lapic *apic, uint8_t *sipi_vector);
unsigned int kvm_lapic_peek_events(struct kvm_lapic *apic);
/* LINT0 passes the PIC's INTR: hardware-disabled, or LVT0 unmasked ExtINT. */
bool kvm_lapic_accept_pic_intr(struct kvm_lapic *apic);
/* Raise the interrupt programmed in an LVT entry (LINT0/LINT1, ...). */
int kvm_lapic_local_deliver(struct kvm_lapic *apic, int lvt_offset);

/* Would a (non-shorthand) message to irq's destination reach this LAPIC? */
bool kvm_lapic_match_dest(struct kvm_lapic *apic, const struct kvm_lapic_irq *irq);
/* The vector waits in IRR or is in service (ISR). */
bool kvm_lapic_vector_pending(struct kvm_lapic *apic, int vector);
/* Some IRR bit is set. */
bool kvm_lapic_irr_pending(struct kvm_lapic *apic);
/* An EOI as the guest's write of the EOI register does it (PV EOI). */
void kvm_lapic_eoi(struct kvm_lapic *apic);

/* KVM_GET/SET_LAPIC.  set: 0 or -EINVAL (x2APIC id mismatch). */
void kvm_lapic_get_state(struct kvm_lapic *apic, struct kvm_lapic_state *s);
int kvm_lapic_set_state(struct kvm_lapic *apic, const struct kvm_lapic_state *s);

#endif /* SKVM_LAPIC_H */
