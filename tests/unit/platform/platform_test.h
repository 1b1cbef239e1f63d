/* SPDX-License-Identifier: MIT */
/*
 * platform_test.h - a VM with nothing but its I/O buses, so device tests
 * drive registers through kvm_io_bus_read/write as a vCPU would.
 */
#ifndef SKVM_PLATFORM_TEST_H
#define SKVM_PLATFORM_TEST_H

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "iodev.h"
#include "kvm_rcu.h"

/*
 * The devices' buses and the routing table without a core: no vCPU is
 * ever in the guest, so a grace period is liburcu's alone.  Weak: tests
 * linked with the whole core get its own.
 */
__attribute__((weak)) void kvm_synchronize_srcu(struct kvm *kvm)
{
	synchronize_rcu();
}

static struct kvm test_kvm;
static struct kvm_vcpu test_vcpu;

static inline void test_bus_init(void)
{
	memset(&test_kvm, 0, sizeof(test_kvm));
	memset(&test_vcpu, 0, sizeof(test_vcpu));
	pthread_mutex_init(&test_kvm.slots_lock, NULL);
	test_vcpu.kvm = &test_kvm;
}

/* The bus calls the destructors; devices own none, so this frees buses. */
static inline void test_bus_fini(void)
{
	kvm_io_bus_destroy(&test_kvm);
}

static inline void test_out(int bus, uint64_t addr, int len, uint32_t val)
{
	assert_int_equal(kvm_io_bus_write(&test_vcpu, bus, addr, len, &val), 0);
}

static inline uint32_t test_in(int bus, uint64_t addr, int len)
{
	uint32_t val = 0;

	assert_int_equal(kvm_io_bus_read(&test_vcpu, bus, addr, len, &val), 0);
	return val;
}

static inline void outb(uint16_t port, uint8_t val)
{
	test_out(KVM_PIO_BUS, port, 1, val);
}

static inline uint8_t inb(uint16_t port)
{
	return (uint8_t)test_in(KVM_PIO_BUS, port, 1);
}

static inline void mmio_write32(uint64_t addr, uint32_t val)
{
	test_out(KVM_MMIO_BUS, addr, 4, val);
}

static inline uint32_t mmio_read32(uint64_t addr)
{
	return test_in(KVM_MMIO_BUS, addr, 4);
}

#endif /* SKVM_PLATFORM_TEST_H */
