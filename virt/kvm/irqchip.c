// SPDX-License-Identifier: MIT
/*
 * irqchip.c - GSI routing: KVM_SET_GSI_ROUTING, kvm_set_irq() fan-out,
 * KVM_IRQ_LINE(_STATUS), KVM_SIGNAL_MSI and ack notifiers
 * (api.rst 4.24 KVM_IRQ_LINE, 4.52 KVM_SET_GSI_ROUTING, 4.71 KVM_SIGNAL_MSI).
 *
 * The routing table is immutable once published; readers take RCU
 * (liburcu-bp, the kernel's SRCU here), copy the entries of one GSI and
 * call them after leaving the read side, so a set() may block.  Updates
 * are serialised by the routing lock and wait a grace period before the
 * old table is freed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "kvm_rcu.h"

#include "irqchip.h"

int kvm_irq_routing_init(struct kvm_irq_routing_state *r)
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->lock, NULL);
	pthread_rwlock_init(&r->ack_lock, NULL);
	return 0;
}

static void free_table(struct kvm_irq_routing_table *t)
{
	if (!t)
		return;
	free(t->entries);
	free(t);
}

void kvm_irq_routing_free(struct kvm_irq_routing_state *r)
{
	free_table(r->table);
	r->table = NULL;
	pthread_mutex_destroy(&r->lock);
	pthread_rwlock_destroy(&r->ack_lock);
}

static int entry_cmp(const void *a, const void *b)
{
	const struct kvm_kernel_irq_routing_entry *x = a, *y = b;

	return x->gsi < y->gsi ? -1 : x->gsi > y->gsi;
}

/*
 * A GSI may drive several irqchip pins (one per chip), or be a single
 * MSI; any other combination is -EINVAL, as KVM's setup_routing_entry.
 */
static int check_gsi(const struct kvm_kernel_irq_routing_entry *e, int n)
{
	for (int i = 0; i < n; i++) {
		const struct kvm_kernel_irq_routing_entry *o = &e[i];

		if (o->gsi != e[n].gsi)
			continue;
		if (o->type != KVM_IRQ_ROUTING_IRQCHIP ||
		    e[n].type != KVM_IRQ_ROUTING_IRQCHIP ||
		    o->irqchip.irqchip == e[n].irqchip.irqchip)
			return -EINVAL;
	}
	return 0;
}

static int build_table(struct kvm *kvm, const struct kvm_irq_routing_entry *ue,
		       unsigned int nr, struct kvm_irq_routing_table **out)
{
	struct kvm_irq_routing_table *t = calloc(1, sizeof(*t));
	int r = -ENOMEM;

	if (!t)
		return -ENOMEM;
	memset(t->chip, 0xff, sizeof(t->chip));
	t->entries = calloc(nr ? nr : 1, sizeof(t->entries[0]));
	if (!t->entries)
		goto fail;
	for (unsigned int i = 0; i < nr; i++) {
		struct kvm_kernel_irq_routing_entry *e = &t->entries[i];

		r = -EINVAL;
		if (ue[i].gsi >= KVM_MAX_IRQ_ROUTES || ue[i].flags & ~KVM_MSI_VALID_DEVID)
			goto fail;
		e->gsi = ue[i].gsi;
		e->type = ue[i].type;
		r = kvm_arch_set_routing_entry(kvm, e, &ue[i]);
		if (r)
			goto fail;
		r = check_gsi(t->entries, (int)i);
		if (r)
			goto fail;
		if (e->type == KVM_IRQ_ROUTING_IRQCHIP)
			t->chip[e->irqchip.irqchip][e->irqchip.pin] = (int)e->gsi;
		if (e->gsi + 1 > t->nr_rt_entries)
			t->nr_rt_entries = e->gsi + 1;
	}
	t->nr = (int)nr;
	qsort(t->entries, nr, sizeof(t->entries[0]), entry_cmp);
	*out = t;
	return 0;
fail:
	free_table(t);
	return r;
}

int kvm_set_irq_routing(struct kvm *kvm, const struct kvm_irq_routing_entry *ue,
			unsigned int nr, unsigned int flags)
{
	struct kvm_irq_routing_state *rt = kvm_arch_irq_routing(kvm);
	struct kvm_irq_routing_table *t, *old;
	int r;

	if (!rt || flags || nr > KVM_MAX_IRQ_ROUTES)
		return -EINVAL;
	r = build_table(kvm, ue, nr, &t);
	if (r)
		return r;
	pthread_mutex_lock(&rt->lock);
	old = rt->table;
	rcu_assign_pointer(rt->table, t);
	pthread_mutex_unlock(&rt->lock);
	kvm_synchronize_srcu(kvm);
	free_table(old);
	kvm_arch_irq_routing_update(kvm);
	return 0;
}

void kvm_irq_routing_for_each(struct kvm *kvm, uint32_t gsi_limit,
			      void (*fn)(const struct kvm_kernel_irq_routing_entry *e,
					 void *arg),
			      void *arg)
{
	struct kvm_irq_routing_state *rt = kvm_arch_irq_routing(kvm);
	struct kvm_irq_routing_table *t;

	if (!rt)
		return;
	rcu_read_lock();
	t = rcu_dereference(rt->table);
	for (int i = 0; t && i < t->nr && t->entries[i].gsi < gsi_limit; i++)
		fn(&t->entries[i], arg);
	rcu_read_unlock();
}

/* Copy the entries of gsi (at most one per irqchip, or one MSI). */
static int entries_of(struct kvm_irq_routing_state *rt, uint32_t gsi,
		      struct kvm_kernel_irq_routing_entry *out)
{
	struct kvm_irq_routing_table *t;
	int n = 0;

	rcu_read_lock();
	t = rcu_dereference(rt->table);
	for (int i = 0; t && i < t->nr && n < KVM_NR_IRQCHIPS; i++)
		if (t->entries[i].gsi == gsi)
			out[n++] = t->entries[i];
	rcu_read_unlock();
	return n;
}

int kvm_set_irq(struct kvm *kvm, int irq_source_id, uint32_t gsi, int level,
		bool line_status)
{
	struct kvm_kernel_irq_routing_entry e[KVM_NR_IRQCHIPS];
	struct kvm_irq_routing_state *rt = kvm_arch_irq_routing(kvm);
	int n, best = -1;

	if (!rt)
		return -1;
	n = entries_of(rt, gsi, e);
	/* Delivered beats coalesced beats masked. */
	for (int i = 0; i < n; i++) {
		int r = e[i].set(&e[i], kvm, irq_source_id, level, line_status);

		if (r > best)
			best = r;
	}
	return best;
}

int kvm_send_userspace_msi(struct kvm *kvm, const struct kvm_msi *msi)
{
	struct kvm_irq_routing_entry ue = {
		.type = KVM_IRQ_ROUTING_MSI,
		.flags = msi->flags,
		.u.msi = {
			.address_lo = msi->address_lo,
			.address_hi = msi->address_hi,
			.data = msi->data,
			.devid = msi->devid,
		},
	};
	struct kvm_kernel_irq_routing_entry e = { .type = KVM_IRQ_ROUTING_MSI };

	if (!kvm_arch_irq_routing(kvm) || (msi->flags & ~KVM_MSI_VALID_DEVID))
		return -EINVAL;
	if (kvm_arch_set_routing_entry(kvm, &e, &ue))
		return -EINVAL;
	return e.set(&e, kvm, KVM_USERSPACE_IRQ_SOURCE_ID, 1, false);
}

/* --- Ack notifiers --------------------------------------------------------- */

int kvm_irq_map_chip_pin(struct kvm *kvm, unsigned int irqchip, unsigned int pin)
{
	struct kvm_irq_routing_state *rt = kvm_arch_irq_routing(kvm);
	struct kvm_irq_routing_table *t;
	int gsi = -1;

	if (!rt || irqchip >= KVM_NR_IRQCHIPS || pin >= KVM_IRQCHIP_NUM_PINS)
		return -1;
	rcu_read_lock();
	t = rcu_dereference(rt->table);
	if (t)
		gsi = t->chip[irqchip][pin];
	rcu_read_unlock();
	return gsi;
}

void kvm_register_irq_ack_notifier(struct kvm *kvm, struct kvm_irq_ack_notifier *kian)
{
	struct kvm_irq_routing_state *rt = kvm_arch_irq_routing(kvm);

	pthread_rwlock_wrlock(&rt->ack_lock);
	kian->next = rt->ack_notifiers;
	rt->ack_notifiers = kian;
	pthread_rwlock_unlock(&rt->ack_lock);
}

void kvm_unregister_irq_ack_notifier(struct kvm *kvm, struct kvm_irq_ack_notifier *kian)
{
	struct kvm_irq_routing_state *rt = kvm_arch_irq_routing(kvm);
	struct kvm_irq_ack_notifier **pp;

	pthread_rwlock_wrlock(&rt->ack_lock);
	for (pp = &rt->ack_notifiers; *pp; pp = &(*pp)->next) {
		if (*pp == kian) {
			*pp = kian->next;
			break;
		}
	}
	pthread_rwlock_unlock(&rt->ack_lock);
}

/* Notifiers run under the read lock: they must not (un)register. */
void kvm_notify_acked_irq(struct kvm *kvm, unsigned int irqchip, unsigned int pin)
{
	struct kvm_irq_routing_state *rt = kvm_arch_irq_routing(kvm);
	int gsi = kvm_irq_map_chip_pin(kvm, irqchip, pin);

	if (!rt || gsi < 0)
		return;
	pthread_rwlock_rdlock(&rt->ack_lock);
	for (struct kvm_irq_ack_notifier *k = rt->ack_notifiers; k; k = k->next)
		if (k->gsi == (uint32_t)gsi)
			k->irq_acked(k);
	pthread_rwlock_unlock(&rt->ack_lock);
}

/* --- ioctls ---------------------------------------------------------------- */

static long ioctl_set_gsi_routing(struct kvm *kvm, void *argp)
{
	struct kvm_irq_routing hdr;
	struct kvm_irq_routing_entry *ue = NULL;
	long r;

	if (copy_from_user(&hdr, argp, sizeof(hdr)))
		return -EFAULT;
	if (!kvm_arch_irq_routing(kvm) || hdr.nr > KVM_MAX_IRQ_ROUTES || hdr.flags)
		return -EINVAL;
	if (hdr.nr) {
		ue = calloc(hdr.nr, sizeof(*ue));
		if (!ue)
			return -ENOMEM;
		if (copy_from_user(ue, (char *)argp + sizeof(hdr),
				   hdr.nr * sizeof(*ue))) {
			free(ue);
			return -EFAULT;
		}
	}
	r = kvm_set_irq_routing(kvm, ue, hdr.nr, hdr.flags);
	free(ue);
	return r;
}

static long ioctl_irq_line(struct kvm *kvm, unsigned int ioctl, void *argp)
{
	struct kvm_irq_level ev;

	if (copy_from_user(&ev, argp, sizeof(ev)))
		return -EFAULT;
	if (!kvm_arch_irq_routing(kvm))
		return -ENXIO;
	ev.status = kvm_set_irq(kvm, KVM_USERSPACE_IRQ_SOURCE_ID, ev.irq,
				(int)ev.level, ioctl == KVM_IRQ_LINE_STATUS);
	if (ioctl == KVM_IRQ_LINE_STATUS && copy_to_user(argp, &ev, sizeof(ev)))
		return -EFAULT;
	return 0;
}

long kvm_irqchip_vm_ioctl(struct kvm *kvm, unsigned int ioctl, void *argp)
{
	struct kvm_msi msi;

	switch (ioctl) {
	case KVM_SET_GSI_ROUTING:
		return ioctl_set_gsi_routing(kvm, argp);
	case KVM_IRQ_LINE:
	case KVM_IRQ_LINE_STATUS:
		return ioctl_irq_line(kvm, ioctl, argp);
	case KVM_SIGNAL_MSI:
		if (copy_from_user(&msi, argp, sizeof(msi)))
			return -EFAULT;
		return kvm_send_userspace_msi(kvm, &msi);
	default:
		return -ENOTTY;
	}
}
