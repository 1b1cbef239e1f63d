// SPDX-License-Identifier: MIT
/*
 * binary_stats.c - statistics fds in the kernel's binary layout.
 *
 * Layout (api.rst 4.133): struct kvm_stats_header, the id string
 * (name_size bytes), num_desc descriptors of sizeof(struct kvm_stats_desc)
 * + name_size bytes each, then the data, one u64 per value, in descriptor
 * order.  The data area is the object's live stat struct itself, so the
 * counters are updated in place and a pread() sees them at once.
 *
 * The memfd is built at the first KVM_GET_STATS_FD (most VMMs never ask, and
 * a VM with a thousand vCPUs should not hold a thousand extra fds).  We keep
 * its first fd open for as long as the object lives and hand out a new
 * read-only open file description of it for every KVM_GET_STATS_FD, so each
 * stats fd has its own file offset, as with the kernel.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "binary_stats.h"
#include "kvm_file.h"

#define DESC_SIZE (sizeof(struct kvm_stats_desc) + KVM_STATS_NAME_SIZE)

int kvm_stats_init(struct kvm_stats *st, const struct kvm_stat_def *defs,
		   int ndefs, size_t data_size, const char *id)
{
	memset(st, 0, sizeof(*st));
	st->master_fd = -1;
	pthread_mutex_init(&st->lock, NULL);
	st->defs = defs;
	st->ndefs = ndefs;
	st->data_size = data_size;
	snprintf(st->id, sizeof(st->id), "%s", id);
	st->heap = calloc(1, data_size);
	if (!st->heap)
		return -ENOMEM;
	st->data = st->heap;
	return 0;
}

void kvm_stats_destroy(struct kvm_stats *st)
{
	if (!st->defs)
		return;		/* never initialised */
	if (st->map)
		munmap(st->map, st->map_size);
	if (st->file)
		kvm_file_unregister(st->file);
	if (st->master_fd >= 0)
		close(st->master_fd);
	free(st->heap);
	pthread_mutex_destroy(&st->lock);
	st->data = st->heap = NULL;
	st->defs = NULL;
}

static void stats_fill(struct kvm_stats *st, uint8_t *p, size_t data_offset)
{
	struct kvm_stats_header h = {
		.flags = 0,
		.name_size = KVM_STATS_NAME_SIZE,
		.num_desc = (uint32_t)st->ndefs,
		.id_offset = sizeof(h),
		.desc_offset = sizeof(h) + KVM_STATS_NAME_SIZE,
		.data_offset = (uint32_t)data_offset,
	};

	memcpy(p, &h, sizeof(h));
	memcpy(p + h.id_offset, st->id, strlen(st->id));
	for (int i = 0; i < st->ndefs; i++) {
		const struct kvm_stat_def *d = &st->defs[i];
		struct kvm_stats_desc *desc =
			(void *)(p + h.desc_offset + (size_t)i * DESC_SIZE);

		desc->flags = d->flags;
		desc->exponent = d->exponent;
		desc->size = d->size;
		desc->offset = d->offset;
		desc->bucket_size = d->bucket_size;
		snprintf(desc->name, KVM_STATS_NAME_SIZE, "%s", d->name);
	}
}

/* Caller holds st->lock. */
static int stats_build(struct kvm_stats *st)
{
	size_t data_offset = sizeof(struct kvm_stats_header) +
			     KVM_STATS_NAME_SIZE + (size_t)st->ndefs * DESC_SIZE;
	size_t size = data_offset + st->data_size;
	struct kvm_file *f;
	uint8_t *map;
	int fd;

	fd = kvm_file_create("kvm-stats", size, O_CLOEXEC, KVM_FILE_STATS,
			     NULL, NULL, &f);
	if (fd < 0)
		return fd;
	map = kvm_file_map(fd, size);
	if (!map) {
		kvm_file_unregister(f);
		close(fd);
		return -ENOMEM;
	}
	stats_fill(st, map, data_offset);
	/* Move the live counters into the file. */
	memcpy(map + data_offset, st->heap, st->data_size);
	__atomic_store_n(&st->data, map + data_offset, __ATOMIC_RELEASE);
	st->map = map;
	st->map_size = size;
	st->master_fd = kvm_fd_make_private(fd);
	st->file = f;
	return 0;
}

int kvm_stats_get_fd(struct kvm_stats *st)
{
	char path[64];
	int r = 0, fd;

	pthread_mutex_lock(&st->lock);
	if (st->master_fd < 0)
		r = stats_build(st);
	pthread_mutex_unlock(&st->lock);
	if (r)
		return r;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", st->master_fd);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}
