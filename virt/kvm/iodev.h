/* SPDX-License-Identifier: MIT */
/*
 * iodev.h - in-process devices on the guest's MMIO and PIO buses.
 *
 * Before an MMIO or PIO access exits to user space, the architecture offers
 * it to the bus (kvm_io_bus_read/write).  Devices registered on the bus
 * (coalesced-MMIO zones, ioeventfds, the in-kernel LAPIC/IOAPIC/PIC/PIT)
 * claim the accesses they serve; an unclaimed access exits as usual.
 */
#ifndef SKVM_IODEV_H
#define SKVM_IODEV_H

#include "kvm_host.h"

enum kvm_bus {
	KVM_MMIO_BUS,
	KVM_PIO_BUS,
	KVM_NR_BUSES,
};

struct kvm_io_device;

/*
 * read/write return 0 when the device served the access, or -EOPNOTSUPP
 * when it declines it (the bus then tries the next device).  vcpu may be
 * NULL for accesses not made by a vCPU.
 */
struct kvm_io_device_ops {
	int (*read)(struct kvm_vcpu *vcpu, struct kvm_io_device *dev,
		    gpa_t addr, int len, void *val);
	int (*write)(struct kvm_vcpu *vcpu, struct kvm_io_device *dev,
		     gpa_t addr, int len, const void *val);
	/* Called once the device is off the bus and no vCPU can see it. */
	void (*destructor)(struct kvm_io_device *dev);
};

struct kvm_io_device {
	const struct kvm_io_device_ops *ops;
};

struct kvm_io_range {
	gpa_t addr;
	int len;			/* 0: matches any access at addr */
	struct kvm_io_device *dev;
};

/* One bus: ranges sorted by address, published RCU-style. */
struct kvm_io_bus {
	int dev_count;
	struct kvm_io_range range[];
};

#define KVM_MAX_IO_DEVS 1000		/* per bus, as NR_IOBUS_DEVS */

/* Callers hold kvm->slots_lock for register/unregister (as the kernel). */
int kvm_io_bus_register_dev(struct kvm *kvm, enum kvm_bus bus, gpa_t addr,
			    int len, struct kvm_io_device *dev);
/* Removes every range of dev; the destructor runs after a grace period. */
int kvm_io_bus_unregister_dev(struct kvm *kvm, enum kvm_bus bus,
			      struct kvm_io_device *dev);

/* 0 when a device served the access, -EOPNOTSUPP when none did. */
int kvm_io_bus_write(struct kvm_vcpu *vcpu, enum kvm_bus bus, gpa_t addr,
		     int len, const void *val);
int kvm_io_bus_read(struct kvm_vcpu *vcpu, enum kvm_bus bus, gpa_t addr,
		    int len, void *val);

/* Free every bus and run the destructors (VM destruction). */
void kvm_io_bus_destroy(struct kvm *kvm);

#endif /* SKVM_IODEV_H */
