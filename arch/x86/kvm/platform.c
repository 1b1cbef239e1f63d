// SPDX-License-Identifier: MIT
/*
 * platform.c - the glue between KVM's x86 ioctls and the emulated
 * platform devices (the kernel's irq_comm.c, irq.c and the irqchip/PIT
 * parts of x86.c).
 *
 * KVM_CREATE_IRQCHIP builds the PIC pair, the IOAPIC, the APIC bus and
 * KVM's default GSI routing (GSI 0-15 to both the PIC and IOAPIC pin n,
 * 16-23 to the IOAPIC); each vCPU created afterwards gets a LAPIC.
 * KVM_CREATE_PIT2 adds the PIT, whose ticks are GSI 0 from the PIT's own
 * irq source.  Devices and the timer thread live until the VM dies.
 *
 * KVM_CAP_SPLIT_IRQCHIP builds only the LAPICs: the VMM emulates the PIC
 * and IOAPIC, routes IOAPIC pins as MSIs (the first nr_reserved GSIs), and
 * hears of EOIs of its level-triggered vectors through KVM_EXIT_IOAPIC_EOI;
 * PIC interrupts come in through KVM_INTERRUPT as ExtINT.
 */
#include <errno.h>
#include <linux/kvm_para.h>
#include <stdlib.h>
#include <string.h>
#include "kvm_rcu.h"

#include "platform.h"
#include "x86.h"

static struct kvm_platform *platform_of(struct kvm *kvm)
{
	return kvm->arch.platform;
}

bool kvm_irqchip_in_kernel(struct kvm *kvm)
{
	struct kvm_platform *p = platform_of(kvm);

	return p && p->irqchip;
}

bool kvm_pic_in_kernel(struct kvm *kvm)
{
	struct kvm_platform *p = platform_of(kvm);

	return p && p->irqchip && !p->split;
}

struct kvm_irq_routing_state *kvm_arch_irq_routing(struct kvm *kvm)
{
	return kvm_irqchip_in_kernel(kvm) ? &platform_of(kvm)->routing : NULL;
}

/* --- Routing entries ------------------------------------------------------- */

/* Drive a chip pin: the OR of the sources asserting it. */
static int set_chip_pin(struct kvm *kvm, unsigned int chip, unsigned int pin,
			int src, int level)
{
	struct kvm_platform *p = platform_of(kvm);
	uint8_t *line = &p->lines[chip][pin];
	int r;

	pthread_mutex_lock(&p->lines_lock);
	if (level)
		*line |= 1u << src;
	else
		*line &= ~(1u << src);
	if (chip == KVM_IRQCHIP_IOAPIC)
		r = kvm_ioapic_set_irq(p->ioapic, (int)pin, !!*line);
	else
		r = kvm_pic_set_irq(p->pic, (int)(chip * 8 + pin), !!*line);
	pthread_mutex_unlock(&p->lines_lock);
	return r;
}

static int set_irqchip_entry(struct kvm_kernel_irq_routing_entry *e,
			     struct kvm *kvm, int src, int level, bool line_status)
{
	return set_chip_pin(kvm, e->irqchip.irqchip, e->irqchip.pin, src, level);
}

/* An MSI (SDM Vol. 3, 11.11): address 0xfeeXXXXX, data with vector and mode. */
static struct kvm_lapic_irq msi_to_irq(struct kvm *kvm,
				       const struct kvm_kernel_irq_routing_entry *e)
{
	uint32_t lo = e->msi.address_lo, data = e->msi.data;
	struct kvm_lapic_irq irq = {
		.vector = data & 0xff,
		.delivery_mode = (data >> 8) & 7,
		.level = true,
		.trig_level = !!(data & (1u << 15)),
		.dest_logical = !!(lo & (1u << 2)),
		.msi_redir_hint = !!(lo & (1u << 3)),
		.dest_id = (lo >> 12) & 0xff,
	};

	if (kvm->arch.x2apic_format)
		irq.dest_id |= e->msi.address_hi & 0xffffff00;
	return irq;
}

static int set_msi_entry(struct kvm_kernel_irq_routing_entry *e,
			 struct kvm *kvm, int src, int level, bool line_status)
{
	struct kvm_lapic_irq irq = msi_to_irq(kvm, e);

	if (!level)
		return -1;
	return kvm_apic_bus_deliver(&platform_of(kvm)->apic_bus, NULL, &irq);
}

int kvm_arch_set_routing_entry(struct kvm *kvm, struct kvm_kernel_irq_routing_entry *e,
			       const struct kvm_irq_routing_entry *ue)
{
	switch (ue->type) {
	case KVM_IRQ_ROUTING_IRQCHIP:
		/* A split irqchip has no PIC or IOAPIC pins to route to. */
		if (platform_of(kvm)->split ||
		    ue->u.irqchip.irqchip > KVM_IRQCHIP_IOAPIC ||
		    ue->u.irqchip.pin >= (ue->u.irqchip.irqchip == KVM_IRQCHIP_IOAPIC ?
					  KVM_IOAPIC_NUM_PINS : 8u))
			return -EINVAL;
		e->irqchip.irqchip = ue->u.irqchip.irqchip;
		e->irqchip.pin = ue->u.irqchip.pin;
		e->set = set_irqchip_entry;
		return 0;
	case KVM_IRQ_ROUTING_MSI:
		if (ue->flags)
			return -EINVAL;
		/* With 32-bit ids the low byte of address_hi must be 0. */
		if (kvm->arch.x2apic_format && (ue->u.msi.address_hi & 0xff))
			return -EINVAL;
		e->msi.address_lo = ue->u.msi.address_lo;
		e->msi.address_hi = ue->u.msi.address_hi;
		e->msi.data = ue->u.msi.data;
		e->set = set_msi_entry;
		return 0;
	default:
		return -EINVAL;
	}
}

static int default_routing(struct kvm *kvm)
{
	struct kvm_irq_routing_entry e[16 * 2 + 8];
	unsigned int n = 0;

	memset(e, 0, sizeof(e));
	for (uint32_t gsi = 0; gsi < KVM_IOAPIC_NUM_PINS; gsi++) {
		e[n].gsi = gsi;
		e[n].type = KVM_IRQ_ROUTING_IRQCHIP;
		e[n].u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
		e[n++].u.irqchip.pin = gsi;
		if (gsi >= 16)
			continue;
		e[n].gsi = gsi;
		e[n].type = KVM_IRQ_ROUTING_IRQCHIP;
		e[n].u.irqchip.irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER :
						   KVM_IRQCHIP_PIC_SLAVE;
		e[n++].u.irqchip.pin = gsi & 7;
	}
	return kvm_set_irq_routing(kvm, e, n, 0);
}

/* --- Device outputs -------------------------------------------------------- */

/*
 * Wake a vCPU sleeping in HLT (or waiting for SIPI).  Devices call this
 * with their own lock held: the wake takes no lock (kvm_vcpu_wake_up).
 */
static void vcpu_wake(struct kvm_vcpu *vcpu)
{
	kvm_vcpu_wake_up(vcpu);
}

void kvm_platform_vcpu_wake(struct kvm_vcpu *vcpu)
{
	vcpu_wake(vcpu);
}

static void lapic_kick(void *opaque)
{
	struct kvm_vcpu *vcpu = opaque;

	/* NMI, INIT, SIPI need the run loop; interrupts the engine polls. */
	if (kvm_lapic_peek_events(vcpu->arch.apic) & ~KVM_APIC_EV_EXTINT)
		kvm_vcpu_kick(vcpu);
	else
		vcpu_wake(vcpu);
}

static uint64_t lapic_read_tsc(void *opaque)
{
	return kvm_read_guest_tsc(opaque);
}

static uint64_t lapic_tsc_khz(void *opaque)
{
	return ((struct kvm_vcpu *)opaque)->arch.tsc_khz;
}

static const struct kvm_lapic_ops lapic_ops = {
	.kick = lapic_kick,
	.read_tsc = lapic_read_tsc,
	.tsc_khz = lapic_tsc_khz,
};

static void pic_output(void *opaque, bool level)
{
	struct kvm *kvm = opaque;
	int n = atomic_load(&kvm->online_vcpus);

	if (!level)
		return;
	for (int i = 0; i < n; i++)
		if (kvm->vcpus[i])
			vcpu_wake(kvm->vcpus[i]);
}

static void pic_ack(void *opaque, int irq)
{
	kvm_notify_acked_irq(opaque, irq < 8 ? KVM_IRQCHIP_PIC_MASTER :
			     KVM_IRQCHIP_PIC_SLAVE, (unsigned int)irq & 7);
}

static const struct kvm_pic_ops pic_ops = { .output = pic_output, .ack = pic_ack };

static int ioapic_deliver(void *opaque, const struct kvm_lapic_irq *irq)
{
	struct kvm *kvm = opaque;

	return kvm_apic_bus_deliver(&platform_of(kvm)->apic_bus, NULL, irq);
}

static void ioapic_ack(void *opaque, int pin)
{
	kvm_notify_acked_irq(opaque, KVM_IRQCHIP_IOAPIC, (unsigned int)pin);
}

static const struct kvm_ioapic_ops ioapic_ops = {
	.deliver = ioapic_deliver, .ack = ioapic_ack,
};

static bool ioapic_handled(struct kvm_vcpu *vcpu, int vector)
{
	return (vcpu->arch.ioapic_handled_vectors[vector >> 6] >> (vector & 63)) & 1;
}

/*
 * An EOI: the in-kernel IOAPIC sees every one; with a split irqchip the
 * EOI of a vector the user-space IOAPIC's routes make level-triggered
 * leaves the guest with KVM_EXIT_IOAPIC_EOI (kvm_platform_ioapic_eoi_exit).
 */
static void apic_bus_eoi(void *opaque, struct kvm_lapic *src, int vector, bool level)
{
	struct kvm_platform *p = platform_of(opaque);
	struct kvm_vcpu *vcpu = src->opaque;

	if (!p->split) {
		kvm_ioapic_eoi(p->ioapic, vector);
		return;
	}
	if (!ioapic_handled(vcpu, vector))
		return;
	vcpu->arch.pending_ioapic_eoi = vector;
	kvm_vcpu_kick(vcpu);
}

/*
 * Routes or APIC IDs changed: every vCPU rebuilds its EOI-exit vectors
 * before it enters the guest again (KVM's KVM_REQ_SCAN_IOAPIC).
 */
static void request_scan_ioapic(struct kvm *kvm)
{
	struct kvm_platform *p = platform_of(kvm);
	int n = atomic_load(&kvm->online_vcpus);

	if (!p || !p->split)
		return;
	atomic_fetch_add(&p->scan_gen, 1);
	for (int i = 0; i < n; i++)
		kvm_vcpu_kick(kvm->vcpus[i]);
}

static void apic_bus_map_changed(void *opaque)
{
	request_scan_ioapic(opaque);
}

void kvm_arch_irq_routing_update(struct kvm *kvm)
{
	request_scan_ioapic(kvm);
}

/* Resampling needs the in-kernel IOAPIC's EOIs (the kernel's rule too). */
bool kvm_arch_irqfd_allowed(struct kvm *kvm, const struct kvm_irqfd *args)
{
	return !(args->flags & KVM_IRQFD_FLAG_RESAMPLE) || kvm_pic_in_kernel(kvm);
}

struct scan_ctx {
	struct kvm *kvm;
	struct kvm_lapic *apic;
	uint64_t vectors[4];
};

/* KVM's kvm_scan_ioapic_routes: level MSIs of reserved GSIs aimed at us. */
static void scan_route(const struct kvm_kernel_irq_routing_entry *e, void *arg)
{
	struct scan_ctx *c = arg;
	struct kvm_lapic_irq irq;

	if (e->type != KVM_IRQ_ROUTING_MSI)
		return;
	irq = msi_to_irq(c->kvm, e);
	if (irq.trig_level && (kvm_lapic_match_dest(c->apic, &irq) ||
			       kvm_lapic_vector_pending(c->apic, irq.vector)))
		c->vectors[irq.vector >> 6] |= 1ULL << (irq.vector & 63);
}

static void scan_ioapic_routes(struct kvm_vcpu *vcpu)
{
	struct kvm_platform *p = platform_of(vcpu->kvm);
	struct scan_ctx c = { .kvm = vcpu->kvm, .apic = vcpu->arch.apic };
	unsigned int gen = atomic_load(&p->scan_gen);

	if (!p->split || vcpu->arch.scan_gen_seen == gen)
		return;
	vcpu->arch.scan_gen_seen = gen;
	kvm_irq_routing_for_each(vcpu->kvm, p->nr_reserved_ioapic_pins, scan_route, &c);
	memcpy(vcpu->arch.ioapic_handled_vectors, c.vectors, sizeof(c.vectors));
}

bool kvm_platform_ioapic_eoi_exit(struct kvm_vcpu *vcpu)
{
	int v = vcpu->arch.pending_ioapic_eoi;

	if (v < 0)
		return false;
	vcpu->arch.pending_ioapic_eoi = -1;
	if (!ioapic_handled(vcpu, v))
		return false;
	vcpu->run->exit_reason = KVM_EXIT_IOAPIC_EOI;
	vcpu->run->eoi.vector = (uint8_t)v;
	return true;
}

static const struct kvm_apic_bus_ops apic_bus_ops = {
	.eoi = apic_bus_eoi, .map_changed = apic_bus_map_changed,
};

static void pit_irq(void *opaque, int level)
{
	kvm_set_irq(opaque, KVM_PIT_IRQ_SOURCE_ID, 0, level, false);
}

static const struct kvm_pit_ops pit_ops = { .irq = pit_irq };

static void pit_acked(struct kvm_irq_ack_notifier *kian)
{
	struct kvm_platform *p = container_of(kian, struct kvm_platform, pit_ack);

	if (p->pit)
		kvm_pit_ack_irq(p->pit);
}

/* --- Creation ---------------------------------------------------------------- */

static struct kvm_platform *platform_get(struct kvm *kvm)
{
	struct kvm_platform *p = kvm->arch.platform;

	if (p)
		return p;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->kvm = kvm;
	p->timers = kvm_timer_base_create();
	if (!p->timers) {
		free(p);
		return NULL;
	}
	pthread_mutex_init(&p->lines_lock, NULL);
	kvm_irq_routing_init(&p->routing);
	kvm_apic_bus_init(&p->apic_bus, p->timers, &apic_bus_ops, kvm);
	kvm->arch.platform = p;
	return p;
}

static int create_irqchip(struct kvm *kvm)
{
	struct kvm_platform *p;
	int r;

	pthread_mutex_lock(&kvm->lock);
	r = -EEXIST;
	if (kvm_irqchip_in_kernel(kvm))
		goto out;
	r = -EINVAL;
	if (atomic_load(&kvm->online_vcpus) || kvm->created_vcpus_locked)
		goto out;
	r = -ENOMEM;
	p = platform_get(kvm);
	if (!p)
		goto out;
	p->pic = kvm_pic_create(&pic_ops, kvm);
	p->ioapic = kvm_ioapic_create(&ioapic_ops, kvm);
	if (!p->pic || !p->ioapic)
		goto fail;
	p->apic_bus.x2apic_format = kvm->arch.x2apic_format;
	p->apic_bus.broadcast_quirk_disabled = kvm->arch.x2apic_broadcast_quirk_disabled;
	pthread_mutex_lock(&kvm->slots_lock);
	r = kvm_pic_register(p->pic, kvm);
	if (!r) {
		r = kvm_ioapic_register(p->ioapic, kvm);
		if (r)
			kvm_pic_unregister(p->pic, kvm);
	}
	pthread_mutex_unlock(&kvm->slots_lock);
	if (r)
		goto fail;
	p->irqchip = true;
	r = default_routing(kvm);
	goto out;
fail:
	kvm_pic_destroy(p->pic);
	kvm_ioapic_destroy(p->ioapic);
	p->pic = NULL;
	p->ioapic = NULL;
out:
	pthread_mutex_unlock(&kvm->lock);
	return r;
}

/* KVM's rules: at most 48 pins, -EEXIST with an irqchip or a vCPU. */
int kvm_platform_enable_split_irqchip(struct kvm *kvm, uint64_t nr_pins)
{
	struct kvm_platform *p;
	int r;

	pthread_mutex_lock(&kvm->lock);
	r = -EINVAL;
	if (nr_pins > KVM_MAX_NR_RESERVED_IOAPIC_PINS)
		goto out;
	r = -EEXIST;
	if (kvm_irqchip_in_kernel(kvm) || atomic_load(&kvm->online_vcpus) ||
	    kvm->created_vcpus_locked)
		goto out;
	r = -ENOMEM;
	p = platform_get(kvm);
	if (!p)
		goto out;
	p->apic_bus.x2apic_format = kvm->arch.x2apic_format;
	p->apic_bus.broadcast_quirk_disabled = kvm->arch.x2apic_broadcast_quirk_disabled;
	p->split = true;
	p->nr_reserved_ioapic_pins = (uint32_t)nr_pins;
	p->irqchip = true;		/* with an empty routing table */
	r = 0;
out:
	pthread_mutex_unlock(&kvm->lock);
	return r;
}

static int create_pit(struct kvm *kvm, void *argp)
{
	struct kvm_pit_config cfg;
	struct kvm_platform *p;
	int r;

	if (copy_from_user(&cfg, argp, sizeof(cfg)))
		return -EFAULT;
	pthread_mutex_lock(&kvm->lock);
	r = -EEXIST;
	if (platform_of(kvm) && platform_of(kvm)->pit)
		goto out;
	r = -ENOMEM;
	p = platform_get(kvm);
	if (!p)
		goto out;
	p->pit = kvm_pit_create(p->timers, &pit_ops, kvm);
	if (!p->pit)
		goto out;
	pthread_mutex_lock(&kvm->slots_lock);
	r = kvm_pit_register(p->pit, kvm);
	pthread_mutex_unlock(&kvm->slots_lock);
	if (r) {
		kvm_pit_destroy(p->pit);
		p->pit = NULL;
		goto out;
	}
	if (p->irqchip) {
		p->pit_ack.gsi = 0;
		p->pit_ack.irq_acked = pit_acked;
		kvm_register_irq_ack_notifier(kvm, &p->pit_ack);
	}
out:
	pthread_mutex_unlock(&kvm->lock);
	return r;
}

void kvm_platform_sync_events(struct kvm *kvm)
{
	struct kvm_platform *p = platform_of(kvm);

	if (p)
		kvm_pit_stop(p->pit);
}

void kvm_platform_destroy(struct kvm *kvm)
{
	struct kvm_platform *p = platform_of(kvm);

	if (!p)
		return;
	/* The buses are torn down by the core; take our devices off first. */
	pthread_mutex_lock(&kvm->slots_lock);
	if (p->pit)
		kvm_pit_unregister(p->pit, kvm);
	if (p->irqchip && !p->split) {
		kvm_pic_unregister(p->pic, kvm);
		kvm_ioapic_unregister(p->ioapic, kvm);
	}
	pthread_mutex_unlock(&kvm->slots_lock);
	kvm_pit_destroy(p->pit);
	kvm_pic_destroy(p->pic);
	kvm_ioapic_destroy(p->ioapic);
	kvm_apic_bus_fini(&p->apic_bus);
	kvm_irq_routing_free(&p->routing);
	kvm_timer_base_destroy(p->timers);
	pthread_mutex_destroy(&p->lines_lock);
	free(p);
	kvm->arch.platform = NULL;
}

int kvm_platform_enable_x2apic_api(struct kvm *kvm, uint64_t flags)
{
	struct kvm_platform *p = platform_of(kvm);

	if (flags & ~(uint64_t)KVM_X2APIC_API_VALID_FLAGS)
		return -EINVAL;
	if (flags & KVM_X2APIC_API_USE_32BIT_IDS)
		kvm->arch.x2apic_format = true;
	if (flags & KVM_X2APIC_API_DISABLE_BROADCAST_QUIRK)
		kvm->arch.x2apic_broadcast_quirk_disabled = true;
	if (p) {
		p->apic_bus.x2apic_format = kvm->arch.x2apic_format;
		p->apic_bus.broadcast_quirk_disabled =
			kvm->arch.x2apic_broadcast_quirk_disabled;
	}
	return 0;
}

/* --- VM ioctls ------------------------------------------------------------------ */

static long get_irqchip(struct kvm *kvm, void *argp, bool set)
{
	struct kvm_platform *p = platform_of(kvm);
	struct kvm_irqchip chip;

	if (copy_from_user(&chip, argp, sizeof(chip)))
		return -EFAULT;
	if (!kvm_pic_in_kernel(kvm))
		return -ENXIO;
	switch (chip.chip_id) {
	case KVM_IRQCHIP_PIC_MASTER:
	case KVM_IRQCHIP_PIC_SLAVE:
		if (set)
			kvm_pic_set_state(p->pic, (int)chip.chip_id, &chip.chip.pic);
		else
			kvm_pic_get_state(p->pic, (int)chip.chip_id, &chip.chip.pic);
		break;
	case KVM_IRQCHIP_IOAPIC:
		if (set)
			kvm_ioapic_set_state(p->ioapic, &chip.chip.ioapic);
		else
			kvm_ioapic_get_state(p->ioapic, &chip.chip.ioapic);
		break;
	default:
		return -EINVAL;
	}
	if (!set && copy_to_user(argp, &chip, sizeof(chip)))
		return -EFAULT;
	return 0;
}

static long pit_state(struct kvm *kvm, unsigned int ioctl, void *argp)
{
	struct kvm_platform *p = platform_of(kvm);
	struct kvm_pit_state2 st2;
	struct kvm_pit_state st;
	struct kvm_reinject_control rc;
	bool legacy = ioctl == KVM_GET_PIT || ioctl == KVM_SET_PIT;
	size_t size = legacy ? sizeof(st) : sizeof(st2);

	if (ioctl == KVM_REINJECT_CONTROL) {
		if (copy_from_user(&rc, argp, sizeof(rc)))
			return -EFAULT;
		if (!p || !p->pit)
			return -ENXIO;
		kvm_pit_set_reinject(p->pit, rc.pit_reinject);
		return 0;
	}
	if ((ioctl == KVM_SET_PIT || ioctl == KVM_SET_PIT2) &&
	    copy_from_user(legacy ? (void *)&st : (void *)&st2, argp, size))
		return -EFAULT;
	if (!p || !p->pit)
		return -ENXIO;
	switch (ioctl) {
	case KVM_GET_PIT:
		kvm_pit_get_state(p->pit, &st2);
		memcpy(st.channels, st2.channels, sizeof(st.channels));
		return copy_to_user(argp, &st, size) ? -EFAULT : 0;
	case KVM_GET_PIT2:
		kvm_pit_get_state(p->pit, &st2);
		return copy_to_user(argp, &st2, size) ? -EFAULT : 0;
	case KVM_SET_PIT:
		kvm_pit_get_state(p->pit, &st2);
		memcpy(st2.channels, st.channels, sizeof(st.channels));
		kvm_pit_set_state(p->pit, &st2);
		return 0;
	default:
		kvm_pit_set_state(p->pit, &st2);
		return 0;
	}
}

long kvm_platform_vm_ioctl(struct kvm *kvm, unsigned int ioctl, void *argp)
{
	switch (ioctl) {
	case KVM_CREATE_IRQCHIP:
		return create_irqchip(kvm);
	case KVM_GET_IRQCHIP:
		return get_irqchip(kvm, argp, false);
	case KVM_SET_IRQCHIP:
		return get_irqchip(kvm, argp, true);
	case KVM_CREATE_PIT2:
		return create_pit(kvm, argp);
	case KVM_GET_PIT:
	case KVM_SET_PIT:
	case KVM_GET_PIT2:
	case KVM_SET_PIT2:
	case KVM_REINJECT_CONTROL:
		return pit_state(kvm, ioctl, argp);
	default:
		return -ENOTTY;
	}
}

/* --- vCPUs ------------------------------------------------------------------------ */

/*
 * KVM's LINT0_REENABLED quirk: the BSP's LVT0 comes out of reset as
 * unmasked ExtINT, so the PIC reaches it before the guest sets up its APIC.
 */
static void lint0_extint(struct kvm_lapic *apic)
{
	struct kvm_lapic_state *s = calloc(1, sizeof(*s));
	uint32_t lvt0 = APIC_DM_EXTINT << 8;

	if (!s)
		return;
	kvm_lapic_get_state(apic, s);
	memcpy(s->regs + APIC_LVT0, &lvt0, 4);
	kvm_lapic_set_state(apic, s);
	free(s);
}

int kvm_platform_vcpu_create(struct kvm_vcpu *vcpu)
{
	struct kvm_platform *p = platform_of(vcpu->kvm);

	vcpu->arch.apic = NULL;
	vcpu->arch.pending_ioapic_eoi = -1;
	vcpu->arch.pending_external_vector = -1;
	vcpu->arch.scan_gen_seen = ~0u;
	vcpu->arch.pv_eoi_msr = 0;
	vcpu->arch.pv_eoi_pending = false;
	if (!kvm_irqchip_in_kernel(vcpu->kvm))
		return 0;
	vcpu->arch.apic = kvm_lapic_create(&p->apic_bus, (uint32_t)vcpu->vcpu_id,
					   &lapic_ops, vcpu);
	if (!vcpu->arch.apic)
		return -ENOMEM;
	vcpu->arch.apic_base_seen = kvm_lapic_get_base(vcpu->arch.apic);
	if ((uint32_t)vcpu->vcpu_id == vcpu->kvm->arch.bsp_vcpu_id)
		lint0_extint(vcpu->arch.apic);
	return 0;
}

void kvm_platform_vcpu_destroy(struct kvm_vcpu *vcpu)
{
	kvm_lapic_destroy(vcpu->arch.apic);
	vcpu->arch.apic = NULL;
}

/* APIC_BASE is written by msr.c and SET_SREGS: tell the LAPIC. */
static void sync_apic_base(struct kvm_vcpu *vcpu)
{
	uint64_t base = vcpu_cpu(vcpu)->apic_base;

	if (base != vcpu->arch.apic_base_seen) {
		kvm_lapic_set_base(vcpu->arch.apic, base);
		vcpu->arch.apic_base_seen = base;
	}
}

/* CR8 is the TPR's bits 7:4: the engine keeps CR8, the LAPIC the TPR. */
static void sync_tpr_from_cr8(struct kvm_vcpu *vcpu)
{
	struct x86_cpu *cpu = vcpu_cpu(vcpu);

	if (cpu->cr8 != vcpu->arch.cr8_seen) {
		kvm_lapic_set_cr8(vcpu->arch.apic, cpu->cr8);
		vcpu->arch.cr8_seen = cpu->cr8;
	}
}

static void sync_cr8_from_tpr(struct kvm_vcpu *vcpu)
{
	uint64_t cr8 = kvm_lapic_get_cr8(vcpu->arch.apic);

	vcpu_cpu(vcpu)->cr8 = cr8;
	vcpu->arch.cr8_seen = cr8;
}

/* --- PV EOI (Documentation/virt/kvm/x86/msr.rst, MSR_KVM_PV_EOI_EN) ---------- */

#define PV_EOI_ENABLED	1ULL		/* MSR bit 0; bit 1 is reserved */

static bool pv_eoi_put(struct kvm_vcpu *vcpu, uint8_t val)
{
	return !kvm_write_guest(vcpu->kvm, 0, vcpu->arch.pv_eoi_msr & ~PV_EOI_ENABLED,
				&val, 1);
}

/*
 * The interrupt just injected needs no EOI side effect (nothing else
 * pending, no IOAPIC entry or EOI exit behind its vector): set the
 * guest's flag, so that it may clear the flag instead of writing EOI.
 */
static void pv_eoi_after_inject(struct kvm_vcpu *vcpu, int vector)
{
	struct kvm_platform *p = platform_of(vcpu->kvm);

	if (!(vcpu->arch.pv_eoi_msr & PV_EOI_ENABLED) ||
	    kvm_lapic_irr_pending(vcpu->arch.apic))
		return;
	if (p->split ? ioapic_handled(vcpu, vector) :
		       kvm_ioapic_handles_vector(p->ioapic, vector))
		return;
	vcpu->arch.pv_eoi_pending = pv_eoi_put(vcpu, 1);
}

/*
 * Before the LAPIC is looked at again: a flag the guest cleared is the
 * EOI of the vector in service; a flag still set is withdrawn, and the
 * guest's own EOI write will come.  (KVM does this at every exit.)
 */
static void pv_eoi_sync(struct kvm_vcpu *vcpu)
{
	uint8_t val;

	if (!vcpu->arch.pv_eoi_pending)
		return;
	vcpu->arch.pv_eoi_pending = false;
	if (kvm_read_guest(vcpu->kvm, 0, vcpu->arch.pv_eoi_msr & ~PV_EOI_ENABLED,
			   &val, 1))
		return;
	if (val & 1)
		pv_eoi_put(vcpu, 0);
	else
		kvm_lapic_eoi(vcpu->arch.apic);
}

int kvm_pv_eoi_set_msr(struct kvm_vcpu *vcpu, uint64_t data)
{
	uint64_t gpa = data & ~PV_EOI_ENABLED;
	void *hva;

	if (gpa & 3)
		return 1;
	if (data & PV_EOI_ENABLED) {
		/* The flag must be guest RAM (KVM's gfn_to_hva_cache_init). */
		rcu_read_lock();
		hva = kvm_gfn_to_hva(vcpu->kvm, 0, gpa >> PAGE_SHIFT, false);
		rcu_read_unlock();
		if (!hva)
			return 1;
	}
	/* A flag still out is settled at the old address first. */
	pv_eoi_sync(vcpu);
	vcpu->arch.pv_eoi_msr = data;
	return 0;
}

/* --- PV send-IPI (Documentation/virt/kvm/x86/hypercalls.rst) ---------------- */

#define ICR_DEST_LOGICAL	0x800u
#define ICR_SHORTHAND		0xc0000u

long kvm_pv_send_ipi(struct kvm *kvm, uint64_t bitmap_low, uint64_t bitmap_high,
		     uint32_t min, uint64_t icr, bool op_64_bit)
{
	const uint64_t bitmap[2] = { bitmap_low, bitmap_high };
	struct kvm_lapic_irq irq = {
		.vector = icr & 0xff,
		.delivery_mode = (icr >> 8) & 7,
		.level = !!(icr & APIC_ICR_LEVEL_ASSERT),
		.trig_level = !!(icr & APIC_ICR_LEVEL_TRIG),
	};

	if (icr & (ICR_DEST_LOGICAL | ICR_SHORTHAND))
		return -KVM_EINVAL;
	/* Without LAPICs KVM has no APIC map to look IDs up in. */
	if (!kvm_irqchip_in_kernel(kvm))
		return -EOPNOTSUPP;
	return kvm_apic_bus_send_ipi_mask(&platform_of(kvm)->apic_bus, bitmap, min,
					  op_64_bit ? 64 : 32, &irq);
}

/*
 * KVM_SET_VAPIC_ADDR (the TPR page of QEMU's kvmvapic option ROM): KVM
 * writes the vapic word there on every guest entry and takes the TPR back
 * from it on every exit.  Here the engine's entries are the run loop's
 * passes (kvm_platform_vcpu_events) and each interrupt it takes; its
 * exits are the points where it asks for an interrupt.
 */
static void vapic_sync_from(struct kvm_vcpu *vcpu)
{
	uint32_t data;

	if (!vcpu->arch.vapic_addr ||
	    kvm_read_guest(vcpu->kvm, 0, vcpu->arch.vapic_addr, &data, sizeof(data)))
		return;
	kvm_lapic_set_tpr(vcpu->arch.apic, (uint8_t)data);
	sync_cr8_from_tpr(vcpu);
}

static void vapic_sync_to(struct kvm_vcpu *vcpu)
{
	uint32_t data;

	if (!vcpu->arch.vapic_addr)
		return;
	data = kvm_lapic_vapic_word(vcpu->arch.apic);
	kvm_write_guest(vcpu->kvm, 0, vcpu->arch.vapic_addr, &data, sizeof(data));
}

static long set_vapic_addr(struct kvm_vcpu *vcpu, void *argp)
{
	struct kvm_vapic_addr va;
	uint64_t gpa;
	bool ok = true;

	if (!vcpu->arch.apic)
		return -EINVAL;
	if (copy_from_user(&va, argp, sizeof(va)))
		return -EFAULT;
	gpa = va.vapic_addr;
	if (gpa) {
		/* Four bytes of guest RAM (KVM's gfn_to_hva_cache_init). */
		rcu_read_lock();
		ok = kvm_gfn_to_hva(vcpu->kvm, 0, gpa >> PAGE_SHIFT, false) &&
		     kvm_gfn_to_hva(vcpu->kvm, 0, (gpa + 3) >> PAGE_SHIFT, false);
		rcu_read_unlock();
	}
	if (!ok)
		return -EINVAL;
	vcpu->arch.vapic_addr = gpa;
	return 0;
}

long kvm_platform_vcpu_ioctl(struct kvm_vcpu *vcpu, unsigned int ioctl, void *argp)
{
	struct kvm_lapic_state *s;
	long r;

	if (ioctl == KVM_SET_VAPIC_ADDR)
		return set_vapic_addr(vcpu, argp);
	if (ioctl != KVM_GET_LAPIC && ioctl != KVM_SET_LAPIC)
		return -ENOTTY;
	if (!vcpu->arch.apic)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	sync_apic_base(vcpu);
	sync_tpr_from_cr8(vcpu);
	pv_eoi_sync(vcpu);
	if (ioctl == KVM_GET_LAPIC) {
		kvm_lapic_get_state(vcpu->arch.apic, s);
		r = copy_to_user(argp, s, sizeof(*s)) ? -EFAULT : 0;
	} else {
		r = copy_from_user(s, argp, sizeof(*s)) ? -EFAULT :
		    kvm_lapic_set_state(vcpu->arch.apic, s);
		if (!r)
			sync_cr8_from_tpr(vcpu);
	}
	free(s);
	return r;
}

int kvm_platform_pending_irq(struct kvm_vcpu *vcpu, bool ack)
{
	struct kvm_platform *p = platform_of(vcpu->kvm);
	struct kvm_lapic *apic = vcpu->arch.apic;
	int v;

	sync_apic_base(vcpu);
	sync_tpr_from_cr8(vcpu);
	/* A new request is where KVM's exit would look at the PV EOI flag. */
	if (vcpu->arch.pv_eoi_pending && kvm_lapic_irr_pending(apic))
		pv_eoi_sync(vcpu);
	vapic_sync_from(vcpu);
	v = kvm_lapic_pending_irq(apic, ack);
	if (v >= 0) {
		if (ack) {
			pv_eoi_after_inject(vcpu, v);
			vapic_sync_to(vcpu);
		}
		return v;
	}
	/* LINT0 in ExtINT mode (or the LAPIC off) passes the PIC's INTR. */
	if (p->split) {
		v = vcpu->arch.pending_external_vector;
		if (v < 0 || !kvm_lapic_accept_pic_intr(apic))
			return -1;
		if (ack)
			vcpu->arch.pending_external_vector = -1;
		return v;
	}
	if (!kvm_pic_has_irq(p->pic) || !kvm_lapic_accept_pic_intr(apic))
		return -1;
	return ack ? kvm_pic_read_irq(p->pic) : 0;
}

int kvm_platform_interrupt(struct kvm_vcpu *vcpu, unsigned int vector)
{
	if (kvm_pic_in_kernel(vcpu->kvm))
		return -ENXIO;
	if (vcpu->arch.pending_external_vector >= 0)
		return -EEXIST;
	vcpu->arch.pending_external_vector = (int)vector;
	return 0;
}

bool kvm_platform_accept_dm_intr(struct kvm_vcpu *vcpu)
{
	struct kvm_lapic *apic = vcpu->arch.apic;

	if (!apic)
		return true;
	if (platform_of(vcpu->kvm)->split && vcpu->arch.pending_external_vector >= 0 &&
	    kvm_lapic_accept_pic_intr(apic))
		return false;		/* one is pending already */
	return kvm_lapic_accept_pic_intr(apic);
}

/* INIT (SDM Vol. 3, 9.4): reset to the wait-for-SIPI state, keeping APIC_BASE. */
static void vcpu_init_signal(struct kvm_vcpu *vcpu)
{
	struct x86_cpu *cpu = vcpu_cpu(vcpu);
	uint64_t base = cpu->apic_base;

	x86_cpu_reset(cpu);
	cpu->apic_base = base;
	kvm_apf_vcpu_forget(vcpu);
	kvm_lapic_reset(vcpu->arch.apic, true);
	vcpu->arch.pv_eoi_msr = 0;	/* KVM's LAPIC reset clears it */
	vcpu->arch.pv_eoi_pending = false;
	sync_cr8_from_tpr(vcpu);
	vcpu->arch.mp_state = KVM_MP_STATE_INIT_RECEIVED;
	kvm_x86_state_changed(vcpu);
}

/* SIPI: start at vector << 12 in real mode (CS = vector << 8, IP = 0). */
static void vcpu_sipi(struct kvm_vcpu *vcpu, uint8_t vector)
{
	struct x86_cpu *cpu = vcpu_cpu(vcpu);

	cpu->seg[X86_CS].sel = (uint16_t)(vector << 8);
	cpu->seg[X86_CS].base = (uint64_t)vector << 12;
	cpu->rip = 0;
	cpu->halted = false;
	vcpu->arch.mp_state = KVM_MP_STATE_RUNNABLE;
	kvm_x86_state_changed(vcpu);
}

void kvm_platform_vcpu_events(struct kvm_vcpu *vcpu)
{
	uint8_t sipi = 0;
	unsigned int ev;

	scan_ioapic_routes(vcpu);
	pv_eoi_sync(vcpu);
	vapic_sync_to(vcpu);
	if (!kvm_lapic_peek_events(vcpu->arch.apic))
		return;
	ev = kvm_lapic_take_events(vcpu->arch.apic, &sipi);
	if (vcpu_cpu(vcpu)->ev.smm && (ev & (KVM_APIC_EV_INIT | KVM_APIC_EV_SIPI))) {
		/* SMM latches INIT until RSM and drops SIPIs, as KVM does. */
		if (ev & KVM_APIC_EV_INIT)
			atomic_fetch_or(&vcpu->arch.apic->events, KVM_APIC_EV_INIT);
		ev &= ~(KVM_APIC_EV_INIT | KVM_APIC_EV_SIPI);
	}
	if (ev & KVM_APIC_EV_SMI) {
		vcpu_cpu(vcpu)->ev.smi_pending = true;
		kvm_x86_state_changed(vcpu);
	}
	if (ev & KVM_APIC_EV_INIT)
		vcpu_init_signal(vcpu);
	if ((ev & KVM_APIC_EV_SIPI) &&
	    vcpu->arch.mp_state == KVM_MP_STATE_INIT_RECEIVED)
		vcpu_sipi(vcpu, sipi);
	if (ev & KVM_APIC_EV_NMI) {
		vcpu_cpu(vcpu)->ev.nmi_pending = true;
		kvm_x86_state_changed(vcpu);
	}
}

/* Can the vCPU do anything?  (KVM's kvm_arch_vcpu_runnable.) */
bool kvm_arch_vcpu_runnable(struct kvm_vcpu *vcpu)
{
	struct x86_cpu *cpu = vcpu_cpu(vcpu);
	unsigned int ev;

	if (!vcpu->arch.apic)
		return true;		/* HLT exits to user space */
	ev = kvm_lapic_peek_events(vcpu->arch.apic);
	if ((ev & (KVM_APIC_EV_INIT | KVM_APIC_EV_SIPI)) && !cpu->ev.smm)
		return true;
	if (vcpu->arch.mp_state == KVM_MP_STATE_UNINITIALIZED ||
	    vcpu->arch.mp_state == KVM_MP_STATE_INIT_RECEIVED)
		return false;
	if ((ev & KVM_APIC_EV_SMI) || (cpu->ev.smi_pending && !cpu->ev.smm))
		return true;
	if (!cpu->halted)
		return true;
	if ((ev & KVM_APIC_EV_NMI) || (cpu->ev.nmi_pending && !cpu->ev.nmi_masked))
		return true;
	return (cpu->rflags & X86_RFLAGS_IF) && kvm_platform_pending_irq(vcpu, false) >= 0;
}

/* MSR_KVM_POLL_CONTROL is not offered: the host always polls. */
bool kvm_arch_no_poll(struct kvm_vcpu *vcpu)
{
	return false;
}

/*
 * A halted vCPU goes through the generic halt (polling, statistics); an
 * AP waiting for SIPI only blocks, as KVM's vcpu_block does.
 */
bool kvm_platform_vcpu_block(struct kvm_vcpu *vcpu)
{
	if (kvm_arch_vcpu_runnable(vcpu))
		return true;
	if (vcpu_cpu(vcpu)->halted) {
		vcpu->arch.mp_state = KVM_MP_STATE_HALTED;
		kvm_vcpu_halt(vcpu);
	} else {
		kvm_vcpu_block(vcpu);
	}
	if (!kvm_arch_vcpu_runnable(vcpu))
		return false;
	if (vcpu->arch.mp_state == KVM_MP_STATE_HALTED)
		vcpu->arch.mp_state = KVM_MP_STATE_RUNNABLE;
	return true;
}

/* --- Accesses -------------------------------------------------------------------------- */

bool kvm_platform_mmio(struct kvm_vcpu *vcpu, uint64_t gpa, int len, bool write,
		       uint8_t *data)
{
	struct kvm_lapic *apic = vcpu->arch.apic;
	int r;

	if (apic) {
		sync_apic_base(vcpu);
		sync_tpr_from_cr8(vcpu);
		pv_eoi_sync(vcpu);
		r = write ? kvm_lapic_mmio_write(apic, gpa, len, data) :
			    kvm_lapic_mmio_read(apic, gpa, len, data);
		if (!r) {
			if (write)
				sync_cr8_from_tpr(vcpu);
			return true;
		}
	}
	r = write ? kvm_io_bus_write(vcpu, KVM_MMIO_BUS, gpa, len, data) :
		    kvm_io_bus_read(vcpu, KVM_MMIO_BUS, gpa, len, data);
	return r == 0;
}

/*
 * String I/O is offered element by element; the first element nobody
 * serves sends the whole access to user space (nothing was done yet).
 */
bool kvm_platform_pio(struct kvm_vcpu *vcpu, uint16_t port, int size, bool in,
		      uint32_t count, uint8_t *buf)
{
	for (uint32_t i = 0; i < count; i++) {
		uint8_t *d = buf + (size_t)i * (size_t)size;
		int r = in ? kvm_io_bus_read(vcpu, KVM_PIO_BUS, port, size, d) :
			     kvm_io_bus_write(vcpu, KVM_PIO_BUS, port, size, d);

		if (r)
			return false;
	}
	return true;
}

int kvm_platform_rdmsr(struct kvm_vcpu *vcpu, uint32_t msr, uint64_t *val)
{
	int r;

	if (!vcpu->arch.apic || !((msr >= KVM_X2APIC_MSR_BASE &&
				   msr <= KVM_X2APIC_MSR_LAST) ||
				  msr == KVM_MSR_TSC_DEADLINE))
		return 1;
	sync_apic_base(vcpu);
	sync_tpr_from_cr8(vcpu);
	pv_eoi_sync(vcpu);
	r = kvm_lapic_msr_read(vcpu->arch.apic, msr, val);
	return r;
}

int kvm_platform_wrmsr(struct kvm_vcpu *vcpu, uint32_t msr, uint64_t val)
{
	int r;

	if (!vcpu->arch.apic || !((msr >= KVM_X2APIC_MSR_BASE &&
				   msr <= KVM_X2APIC_MSR_LAST) ||
				  msr == KVM_MSR_TSC_DEADLINE))
		return 1;
	sync_apic_base(vcpu);
	sync_tpr_from_cr8(vcpu);
	pv_eoi_sync(vcpu);
	r = kvm_lapic_msr_write(vcpu->arch.apic, msr, val);
	sync_cr8_from_tpr(vcpu);
	return r;
}
