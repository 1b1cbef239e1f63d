// SPDX-License-Identifier: MIT
/*
 * iodev.c - the MMIO and PIO buses of in-process devices.
 *
 * A bus is an immutable array of address ranges, replaced as a whole on
 * every registration and published RCU-style, so vCPUs look devices up
 * without a lock.  An access matches a range that contains it entirely;
 * a range of length 0 matches any access that starts at its address (the
 * ioeventfd "any length" case).  Ranges are sorted by address and tried in
 * order until a device serves the access.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "kvm_rcu.h"

#include "iodev.h"

static_assert(KVM_NR_BUSES == sizeof(((struct kvm *)0)->buses) /
	      sizeof(((struct kvm *)0)->buses[0]), "bus array size");

static bool range_contains(const struct kvm_io_range *r, gpa_t addr, int len)
{
	if (!r->len)
		return addr == r->addr;
	return addr >= r->addr && addr + (gpa_t)len <= r->addr + (gpa_t)r->len;
}

static int range_cmp(const void *a, const void *b)
{
	const struct kvm_io_range *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	/* no subtraction: lengths from a client can be any int */
	return (x->len > y->len) - (x->len < y->len);
}

static struct kvm_io_bus *bus_alloc(int count)
{
	return calloc(1, sizeof(struct kvm_io_bus) +
			 (size_t)count * sizeof(struct kvm_io_range));
}

int kvm_io_bus_register_dev(struct kvm *kvm, enum kvm_bus idx, gpa_t addr,
			    int len, struct kvm_io_device *dev)
{
	struct kvm_io_bus *old = kvm->buses[idx], *bus;
	int n = old ? old->dev_count : 0;

	if (n >= KVM_MAX_IO_DEVS)
		return -ENOSPC;
	bus = bus_alloc(n + 1);
	if (!bus)
		return -ENOMEM;
	if (old)
		memcpy(bus->range, old->range, (size_t)n * sizeof(bus->range[0]));
	bus->range[n] = (struct kvm_io_range){ .addr = addr, .len = len, .dev = dev };
	bus->dev_count = n + 1;
	qsort(bus->range, (size_t)bus->dev_count, sizeof(bus->range[0]), range_cmp);
	rcu_assign_pointer(kvm->buses[idx], bus);
	kvm_synchronize_srcu(kvm);
	free(old);
	return 0;
}

int kvm_io_bus_unregister_dev(struct kvm *kvm, enum kvm_bus idx,
			      struct kvm_io_device *dev)
{
	struct kvm_io_bus *old = kvm->buses[idx], *bus;
	int j = 0;

	if (!old)
		return -ENOENT;
	bus = bus_alloc(old->dev_count);
	if (!bus)
		return -ENOMEM;
	for (int i = 0; i < old->dev_count; i++)
		if (old->range[i].dev != dev)
			bus->range[j++] = old->range[i];
	if (j == old->dev_count) {
		free(bus);
		return -ENOENT;
	}
	bus->dev_count = j;
	rcu_assign_pointer(kvm->buses[idx], bus);
	kvm_synchronize_srcu(kvm);
	free(old);
	if (dev->ops->destructor)
		dev->ops->destructor(dev);
	return 0;
}

static int bus_access(struct kvm_vcpu *vcpu, struct kvm *kvm, enum kvm_bus idx,
		      gpa_t addr, int len, void *val, bool write)
{
	struct kvm_io_bus *bus;
	int r = -EOPNOTSUPP;

	rcu_read_lock();
	bus = rcu_dereference(kvm->buses[idx]);
	for (int i = 0; bus && i < bus->dev_count && r; i++) {
		const struct kvm_io_range *rg = &bus->range[i];

		if (rg->addr > addr)
			break;
		if (!range_contains(rg, addr, len))
			continue;
		if (write && rg->dev->ops->write)
			r = rg->dev->ops->write(vcpu, rg->dev, addr, len, val);
		else if (!write && rg->dev->ops->read)
			r = rg->dev->ops->read(vcpu, rg->dev, addr, len, val);
	}
	rcu_read_unlock();
	return r ? -EOPNOTSUPP : 0;
}

int kvm_io_bus_write(struct kvm_vcpu *vcpu, enum kvm_bus idx, gpa_t addr,
		     int len, const void *val)
{
	return bus_access(vcpu, vcpu->kvm, idx, addr, len, (void *)val, true);
}

int kvm_io_bus_read(struct kvm_vcpu *vcpu, enum kvm_bus idx, gpa_t addr,
		    int len, void *val)
{
	return bus_access(vcpu, vcpu->kvm, idx, addr, len, val, false);
}

void kvm_io_bus_destroy(struct kvm *kvm)
{
	for (int idx = 0; idx < KVM_NR_BUSES; idx++) {
		struct kvm_io_bus *bus = kvm->buses[idx];

		for (int i = 0; bus && i < bus->dev_count; i++) {
			struct kvm_io_device *dev = bus->range[i].dev;
			bool seen = false;

			/* a device with several ranges is destroyed once */
			for (int k = 0; k < i; k++)
				seen |= bus->range[k].dev == dev;
			if (!seen && dev->ops->destructor)
				dev->ops->destructor(dev);
		}
		free(bus);
		kvm->buses[idx] = NULL;
	}
}
