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

/* The kernel's name size for ids and descriptor names. */
#define KVM_STATS_NAME_SIZE 48

struct kvm_stat_def {
	const char *name;
	uint32_t flags;		/* KVM_STATS_TYPE_* | _UNIT_* | _BASE_* */
	int16_t exponent;
	uint16_t size;		/* number of u64 values (histogram buckets) */
	uint32_t offset;	/* byte offset of the field in the stat struct */
	uint32_t bucket_size;	/* linear histograms only */
};

#define KVM_STAT_DEF(type, field, fl, exp, n, bucket) {			\
	.name = #field, .flags = (fl), .exponent = (exp), .size = (n),	\
	.offset = offsetof(type, field), .bucket_size = (bucket) }

#define KVM_STAT_FLAGS(t, u, b) \
	(KVM_STATS_TYPE_##t | KVM_STATS_UNIT_##u | KVM_STATS_BASE_##b)

/* A cumulative event count. */
#define KVM_STAT_COUNTER(type, field) \
	KVM_STAT_DEF(type, field, KVM_STAT_FLAGS(CUMULATIVE, NONE, POW10), 0, 1, 0)
/* An instantaneous count. */
#define KVM_STAT_ICOUNTER(type, field) \
	KVM_STAT_DEF(type, field, KVM_STAT_FLAGS(INSTANT, NONE, POW10), 0, 1, 0)
/* A peak value. */
#define KVM_STAT_PCOUNTER(type, field) \
	KVM_STAT_DEF(type, field, KVM_STAT_FLAGS(PEAK, NONE, POW10), 0, 1, 0)
/* An instantaneous boolean. */
#define KVM_STAT_IBOOLEAN(type, field) \
	KVM_STAT_DEF(type, field, KVM_STAT_FLAGS(INSTANT, BOOLEAN, POW10), 0, 1, 0)
/* Cumulative nanoseconds. */
#define KVM_STAT_TIME_NSEC(type, field) \
	KVM_STAT_DEF(type, field, KVM_STAT_FLAGS(CUMULATIVE, SECONDS, POW10), -9, 1, 0)
/* A log2 histogram of nanoseconds. */
#define KVM_STAT_LOGHIST_NSEC(type, field, n) \
	KVM_STAT_DEF(type, field, KVM_STAT_FLAGS(LOG_HIST, SECONDS, POW10), -9, n, 0)

/*
 * One object's statistics: the table, the live counters and, after the
 * first KVM_GET_STATS_FD, the memfd holding them.
 */
struct kvm_stats {
	const struct kvm_stat_def *defs;
	int ndefs;
	size_t data_size;	/* bytes of the stat struct */
	char id[KVM_STATS_NAME_SIZE];
	void *data;		/* the live counters (heap, then memfd) */
	void *heap;		/* the counters before the memfd existed */
	uint8_t *map;		/* whole memfd mapping, or NULL */
	size_t map_size;
	int master_fd;		/* kept to open more descriptions; -1 */
	struct kvm_file *file;	/* its registry entry */
	pthread_mutex_t lock;
};

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
