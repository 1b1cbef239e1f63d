/* SPDX-License-Identifier: MIT */
/*
 * binary_stats.h - KVM_GET_STATS_FD (api.rst 4.133, "KVM_GET_STATS_FD").
 *
 * Each VM and vCPU keeps its counters in a plain struct of u64s.  A stat
 * definition names a field of that struct; the kernel's binary layout
 * (header, id, descriptors, data) is built from the table once, in a
 * memfd, and the object's counters move into that memfd's data area so
 * that a pread() of a stats fd reads live values.
 */
#ifndef SKVM_BINARY_STATS_H
#define SKVM_BINARY_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "kvm_host.h"


#define KVM_STAT_FLAGS(t, u, b) \
	(KVM_STATS_TYPE_##t | KVM_STATS_UNIT_##u | KVM_STATS_BASE_##b)

/* A stat named nm at member path of type. */
#define KVM_STAT_DEF(type, path, nm, fl, exp, n) {			\
	.name = nm, .flags = (fl), .exponent = (exp), .size = (n),	\
	.offset = offsetof(type, path), .bucket_size = 0 }

/* A cumulative event count. */
#define KVM_STAT_COUNTER_AT(type, path, nm) \
	KVM_STAT_DEF(type, path, nm, KVM_STAT_FLAGS(CUMULATIVE, NONE, POW10), 0, 1)
/* An instantaneous count. */
#define KVM_STAT_ICOUNTER_AT(type, path, nm) \
	KVM_STAT_DEF(type, path, nm, KVM_STAT_FLAGS(INSTANT, NONE, POW10), 0, 1)
/* A peak value. */
#define KVM_STAT_PCOUNTER_AT(type, path, nm) \
	KVM_STAT_DEF(type, path, nm, KVM_STAT_FLAGS(PEAK, NONE, POW10), 0, 1)
/* An instantaneous boolean. */
#define KVM_STAT_IBOOLEAN_AT(type, path, nm) \
	KVM_STAT_DEF(type, path, nm, KVM_STAT_FLAGS(INSTANT, BOOLEAN, POW10), 0, 1)
/* Cumulative nanoseconds. */
#define KVM_STAT_TIME_NSEC_AT(type, path, nm) \
	KVM_STAT_DEF(type, path, nm, KVM_STAT_FLAGS(CUMULATIVE, SECONDS, POW10), -9, 1)
/* A log2 histogram of nanoseconds with n buckets. */
#define KVM_STAT_LOGHIST_NSEC_AT(type, path, nm, n) \
	KVM_STAT_DEF(type, path, nm, KVM_STAT_FLAGS(LOG_HIST, SECONDS, POW10), -9, n)

/* The same, named after a direct member. */
#define KVM_STAT_COUNTER(type, f) KVM_STAT_COUNTER_AT(type, f, #f)
#define KVM_STAT_ICOUNTER(type, f) KVM_STAT_ICOUNTER_AT(type, f, #f)
#define KVM_STAT_PCOUNTER(type, f) KVM_STAT_PCOUNTER_AT(type, f, #f)
#define KVM_STAT_IBOOLEAN(type, f) KVM_STAT_IBOOLEAN_AT(type, f, #f)
#define KVM_STAT_TIME_NSEC(type, f) KVM_STAT_TIME_NSEC_AT(type, f, #f)
#define KVM_STAT_LOGHIST_NSEC(type, f, n) KVM_STAT_LOGHIST_NSEC_AT(type, f, #f, n)

int kvm_stats_init(struct kvm_stats *st, const struct kvm_stat_def *defs,
		   int ndefs, size_t data_size, const char *id);
void kvm_stats_destroy(struct kvm_stats *st);

/*
 * A new stats fd (a new open file description, read-only, close-on-exec,
 * with its own file offset) or -errno.  The first call builds the memfd
 * and moves the live counters into it; the caller must make sure nobody
 * updates the counters concurrently with that first call (KVM_GET_STATS_FD
 * runs under vcpu->mutex / kvm->lock).
 */
int kvm_stats_get_fd(struct kvm_stats *st);

#endif /* SKVM_BINARY_STATS_H */
