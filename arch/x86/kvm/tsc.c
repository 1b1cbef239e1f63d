// SPDX-License-Identifier: MIT
/*
 * tsc.c - the guest time-stamp counter.
 *
 * The guest TSC is the host TSC plus a per-vCPU offset, with no scaling:
 * the guest runs at the host's TSC frequency, which KVM_GET_TSC_KHZ
 * reports.  A change of offset is told to kvmclock.c, whose pages convert
 * the guest TSC to time and whose master clock needs equal offsets.  That frequency is measured once per process, against
 * CLOCK_MONOTONIC_RAW.
 */
#include <errno.h>
#include <time.h>
#include <x86intrin.h>

#include "kvmclock.h"
#include "x86.h"

/* KVM accepts a requested rate this close to the host's (tsc_tolerance_ppm). */
#define TSC_TOLERANCE_PPM 250

static uint32_t host_tsc_khz;
static pthread_once_t tsc_once = PTHREAD_ONCE_INIT;

uint64_t kvm_host_rdtsc(void)
{
	return __rdtsc();
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/*
 * Count TSC ticks over about 20 ms of CLOCK_MONOTONIC_RAW, three times,
 * and keep the run with the tightest bracket (least disturbed by
 * preemption).  Precision is well under KVM's 250 ppm tolerance.
 */
static void tsc_calibrate(void)
{
	uint64_t best_khz = 0, best_err = ~0ULL;
	int i;

	for (i = 0; i < 3; i++) {
		uint64_t n0, n1, t0, t1, b0, b1, ns, err;
		struct timespec d = { 0, 20 * 1000 * 1000 };

		b0 = mono_ns();
		t0 = __rdtsc();
		n0 = mono_ns();
		nanosleep(&d, NULL);
		b1 = mono_ns();
		t1 = __rdtsc();
		n1 = mono_ns();
		ns = ((n1 + b1) - (n0 + b0)) / 2;
		err = (n0 - b0) + (n1 - b1);
		if (ns && err < best_err) {
			best_err = err;
			best_khz = (t1 - t0) * 1000000ULL / ns;
		}
	}
	host_tsc_khz = (uint32_t)best_khz;
}

uint32_t kvm_host_tsc_khz(void)
{
	pthread_once(&tsc_once, tsc_calibrate);
	return host_tsc_khz;
}

uint64_t kvm_read_guest_tsc(struct kvm_vcpu *vcpu)
{
	return kvm_host_rdtsc() + (uint64_t)vcpu->arch.tsc_offset;
}

/*
 * A host write sets the TSC (migration, reset), synchronized with the
 * other vCPUs as KVM does (kvmclock.c).  A guest write moves
 * IA32_TSC_ADJUST by the same amount (Intel SDM Vol. 3, 17.17.3).
 */
void kvm_write_guest_tsc(struct kvm_vcpu *vcpu, uint64_t tsc, bool host_initiated)
{
	int64_t old = vcpu->arch.tsc_offset;

	if (host_initiated)
		vcpu->arch.tsc_offset = kvm_synchronize_tsc(vcpu, tsc);
	else
		vcpu->arch.tsc_offset = (int64_t)(tsc - kvm_host_rdtsc());
	if (!host_initiated)
		vcpu->arch.tsc_adjust += vcpu->arch.tsc_offset - old;
	kvm_pvtime_tsc_changed(vcpu);
}

/* A guest write of IA32_TSC_ADJUST moves the TSC with it; a host one does not. */
void kvm_write_tsc_adjust(struct kvm_vcpu *vcpu, uint64_t val, bool host_initiated)
{
	if (!host_initiated && val != vcpu->arch.tsc_adjust) {
		vcpu->arch.tsc_offset += (int64_t)(val - vcpu->arch.tsc_adjust);
		kvm_pvtime_tsc_changed(vcpu);
	}
	vcpu->arch.tsc_adjust = val;
}

/*
 * KVM_SET_TSC_KHZ without TSC scaling: 0 means the host rate; a rate
 * within the tolerance of the host's is accepted (and reported back by
 * KVM_GET_TSC_KHZ), any other is -EINVAL.
 */
int kvm_set_tsc_khz(struct kvm_vcpu *vcpu, uint32_t khz)
{
	uint64_t host = kvm_host_tsc_khz();
	uint64_t diff;

	if (!khz)
		khz = host;
	diff = khz > host ? khz - host : host - khz;
	if (diff * 1000000ULL > host * TSC_TOLERANCE_PPM)
		return -EINVAL;
	vcpu->arch.tsc_khz = khz;
	return 0;
}

/*
 * KVM_{HAS,GET,SET}_DEVICE_ATTR on a vCPU, group KVM_VCPU_TSC_CTRL
 * (api.rst 4.126, devices/vcpu.rst): KVM_VCPU_TSC_OFFSET is the offset
 * added to the host TSC, a u64 at attr->addr.  No scaling here, so the
 * guest TSC is host TSC + offset exactly.  Anything else is -ENXIO.
 */
long kvm_vcpu_tsc_attr(struct kvm_vcpu *vcpu, unsigned int ioctl,
		       const struct kvm_device_attr *attr)
{
	uint64_t off;

	if (attr->group != KVM_VCPU_TSC_CTRL || attr->attr != KVM_VCPU_TSC_OFFSET)
		return -ENXIO;
	switch (ioctl) {
	case KVM_HAS_DEVICE_ATTR:
		return 0;
	case KVM_GET_DEVICE_ATTR:
		off = (uint64_t)vcpu->arch.tsc_offset;
		if (copy_to_user((void *)(uintptr_t)attr->addr, &off, sizeof(off)))
			return -EFAULT;
		return 0;
	default:
		if (copy_from_user(&off, (void *)(uintptr_t)attr->addr, sizeof(off)))
			return -EFAULT;
		vcpu->arch.tsc_offset = (int64_t)off;
		kvm_pvtime_tsc_changed(vcpu);
		return 0;
	}
}
