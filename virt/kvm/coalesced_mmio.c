// SPDX-License-Identifier: MIT
/*
 * coalesced_mmio.c - KVM_REGISTER_COALESCED_MMIO / KVM_CAP_COALESCED_PIO.
 *
 * Writes that fall entirely inside a registered zone do not exit: they are
 * appended to a ring shared by all vCPUs of the VM, which the VMM drains
 * when it next gets control (api.rst 4.66, "KVM_REGISTER_COALESCED_MMIO").
 * Reads still exit.  When the ring is full the write exits as an ordinary
 * MMIO/PIO exit, so nothing is lost.
 *
 * The ring is one page.  The VMM sees it at page KVM_COALESCED_MMIO_PAGE_OFFSET
 * of every vCPU mapping; kvm_main.c splices the VM's ring page there when
 * a vCPU fd is mapped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "coalesced_mmio.h"
#include "iodev.h"

struct coalesced_zone {
	struct kvm_io_device dev;
	struct kvm *kvm;
	struct kvm_coalesced_mmio_zone zone;
	struct coalesced_zone *next;	/* the VM's zone list */
};

struct kvm_coalesced_state {
	struct kvm_coalesced_mmio_ring *ring;
	pthread_mutex_t ring_lock;	/* writers from several vCPUs */
	struct coalesced_zone *zones;	/* under kvm->slots_lock */
};

static struct kvm_coalesced_state *state_of(struct kvm *kvm)
{
	return kvm->coalesced;
}

static bool zone_contains(const struct kvm_coalesced_mmio_zone *z,
			  gpa_t addr, uint64_t len)
{
	return addr + len >= addr && addr >= z->addr &&
	       addr + len <= z->addr + z->size;
}

static int coalesced_write(struct kvm_vcpu *vcpu, struct kvm_io_device *dev,
			   gpa_t addr, int len, const void *val)
{
	struct coalesced_zone *cz = (struct coalesced_zone *)dev;
	struct kvm_coalesced_state *st = state_of(cz->kvm);
	struct kvm_coalesced_mmio_ring *ring = st->ring;
	uint32_t insert, first;
	int r = -EOPNOTSUPP;

	if (len < 0 || len > 8 || !zone_contains(&cz->zone, addr, (uint64_t)len))
		return -EOPNOTSUPP;
	pthread_mutex_lock(&st->ring_lock);
	/* The VMM advances first concurrently: read it once. */
	insert = __atomic_load_n(&ring->last, __ATOMIC_RELAXED);
	first = __atomic_load_n(&ring->first, __ATOMIC_ACQUIRE);
	if (insert >= KVM_COALESCED_MMIO_MAX ||
	    (insert + 1) % KVM_COALESCED_MMIO_MAX == first % KVM_COALESCED_MMIO_MAX)
		goto out;	/* full (or corrupted by the VMM): exit instead */
	ring->coalesced_mmio[insert].phys_addr = addr;
	ring->coalesced_mmio[insert].len = (uint32_t)len;
	ring->coalesced_mmio[insert].pio = cz->zone.pio;
	memcpy(ring->coalesced_mmio[insert].data, val, (size_t)len);
	__atomic_store_n(&ring->last, (insert + 1) % KVM_COALESCED_MMIO_MAX,
			 __ATOMIC_RELEASE);
	r = 0;
out:
	pthread_mutex_unlock(&st->ring_lock);
	return r;
}

static void coalesced_destructor(struct kvm_io_device *dev)
{
	free(dev);
}

static const struct kvm_io_device_ops coalesced_ops = {
	.write = coalesced_write,
	.destructor = coalesced_destructor,
};

int kvm_coalesced_mmio_init(struct kvm *kvm, void *ring_page)
{
	struct kvm_coalesced_state *st = calloc(1, sizeof(*st));

	if (!st)
		return -ENOMEM;
	st->ring = ring_page;
	pthread_mutex_init(&st->ring_lock, NULL);
	kvm->coalesced = st;
	return 0;
}

/* The zones themselves are freed with the buses (kvm_io_bus_destroy). */
void kvm_coalesced_mmio_free(struct kvm *kvm)
{
	struct kvm_coalesced_state *st = state_of(kvm);

	if (!st)
		return;
	pthread_mutex_destroy(&st->ring_lock);
	free(st);
	kvm->coalesced = NULL;
}

int kvm_vm_ioctl_register_coalesced_mmio(struct kvm *kvm,
					 struct kvm_coalesced_mmio_zone *zone)
{
	struct kvm_coalesced_state *st = state_of(kvm);
	struct coalesced_zone *cz;
	int r;

	if (zone->pio != 1 && zone->pio != 0)
		return -EINVAL;
	cz = calloc(1, sizeof(*cz));
	if (!cz)
		return -ENOMEM;
	cz->dev.ops = &coalesced_ops;
	cz->kvm = kvm;
	cz->zone = *zone;
	pthread_mutex_lock(&kvm->slots_lock);
	r = kvm_io_bus_register_dev(kvm, zone->pio ? KVM_PIO_BUS : KVM_MMIO_BUS,
				    zone->addr, (int)zone->size, &cz->dev);
	if (!r) {
		cz->next = st->zones;
		st->zones = cz;
	}
	pthread_mutex_unlock(&kvm->slots_lock);
	if (r)
		free(cz);
	return r;
}

/* Removes every zone of the same kind that contains the given range. */
int kvm_vm_ioctl_unregister_coalesced_mmio(struct kvm *kvm,
					   struct kvm_coalesced_mmio_zone *zone)
{
	struct kvm_coalesced_state *st = state_of(kvm);
	struct coalesced_zone **pp;

	if (zone->pio != 1 && zone->pio != 0)
		return -EINVAL;
	pthread_mutex_lock(&kvm->slots_lock);
	pp = &st->zones;
	while (*pp) {
		struct coalesced_zone *cz = *pp;

		if (cz->zone.pio == zone->pio &&
		    zone_contains(&cz->zone, zone->addr, zone->size)) {
			*pp = cz->next;
			kvm_io_bus_unregister_dev(kvm, zone->pio ? KVM_PIO_BUS :
						  KVM_MMIO_BUS, &cz->dev);
			continue;
		}
		pp = &cz->next;
	}
	pthread_mutex_unlock(&kvm->slots_lock);
	return 0;
}
