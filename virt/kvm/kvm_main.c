// SPDX-License-Identifier: MIT
/*
 * kvm_main.c - the architecture-independent KVM core: the system, VM and
 * vCPU objects, their ioctl dispatch, capabilities and memslots.
 *
 * Errors are negative errnos; each ioctl validates its input as the kernel
 * does (Documentation/virt/kvm/api.rst) so that clients see KVM's errno.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "kvm_rcu.h"

#include "binary_stats.h"
#include "coalesced_mmio.h"
#include "dirty_ring.h"
#include "eventfd.h"
#include "guest_memfd.h"
#include "iodev.h"
#include "irqchip.h"
#include "kvm_device.h"
#include "kvm_file.h"
#include "kvm_host.h"

/* TASK_SIZE_MAX of x86-64 with 4-level paging: highest user address + 1. */
#define USER_ADDR_LIMIT 0x00007ffffffff000ULL

/* The size KVM_GET_VCPU_MMAP_SIZE reports: kvm_run, PIO page, MMIO ring. */
#define VCPU_MMAP_SIZE ((KVM_COALESCED_MMIO_PAGE_OFFSET + 1) * PAGE_SIZE)
/* The vCPU memfd also holds the dirty ring from KVM_DIRTY_LOG_PAGE_OFFSET. */
#define VCPU_FILE_SIZE (KVM_DIRTY_LOG_PAGE_OFFSET * PAGE_SIZE)

/* The vCPU whose KVM_RUN runs on this thread, for signal kicks. */
static __thread struct kvm_vcpu *current_vcpu;

static atomic_int live_vms;

int kvm_nr_live_vms(void)
{
	return atomic_load(&live_vms);
}

/* --- Memslots ----------------------------------------------------------- */

struct kvm_memslots *kvm_memslots(struct kvm *kvm, int as_id)
{
	return rcu_dereference(kvm->memslots[as_id]);
}

struct kvm_memory_slot *kvm_memslots_find(struct kvm_memslots *slots, gfn_t gfn)
{
	int lo = 0, hi = slots ? slots->nr - 1 : -1;

	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		struct kvm_memory_slot *s = slots->slots[mid];

		if (gfn < s->base_gfn)
			hi = mid - 1;
		else if (gfn >= s->base_gfn + s->npages)
			lo = mid + 1;
		else
			return s;
	}
	return NULL;
}

struct kvm_vcpu *kvm_get_running_vcpu(void)
{
	return current_vcpu;
}

/*
 * With the dirty bitmap, set the page's bit.  With dirty rings the bitmap
 * says which pages were pushed since their last reset: push on the first
 * write only, to the ring of the vCPU that wrote (writes made outside a
 * vCPU are not logged in ring mode, as with KVM).
 */
static void slot_mark_dirty(struct kvm *kvm, struct kvm_memory_slot *s,
			    gfn_t gfn)
{
	uint64_t rel = gfn - s->base_gfn;
	unsigned long bit = 1UL << (rel % (8 * sizeof(long)));
	struct kvm_vcpu *vcpu;

	if (!kvm->dirty_ring_size) {
		atomic_fetch_or(&s->dirty_bitmap[rel / (8 * sizeof(long))], bit);
		return;
	}
	vcpu = current_vcpu;
	if (!vcpu || vcpu->kvm != kvm)
		return;
	if (atomic_fetch_or(&s->dirty_bitmap[rel / (8 * sizeof(long))], bit) & bit)
		return;
	kvm_dirty_ring_push(vcpu, ((uint32_t)s->as_id << 16) | s->id, rel);
}

/* A private gfn has no backing here: tell the vCPU that touched it. */
static void *private_fault(struct kvm *kvm, gfn_t gfn)
{
	struct kvm_vcpu *vcpu = current_vcpu;

	if (vcpu && vcpu->kvm == kvm) {
		vcpu->memory_fault.pending = true;
		vcpu->memory_fault.gpa = gfn << PAGE_SHIFT;
		vcpu->memory_fault.flags = KVM_MEMORY_EXIT_FLAG_PRIVATE;
	}
	return NULL;
}

void *kvm_gfn_to_hva(struct kvm *kvm, int as_id, gfn_t gfn, bool write)
{
	struct kvm_memory_slot *s;
	uint64_t rel;

	if (as_id < 0 || as_id >= KVM_ADDRESS_SPACE_NUM)
		return NULL;
	s = kvm_memslots_find(kvm_memslots(kvm, as_id), gfn);
	if (!s || (write && (s->flags & KVM_MEM_READONLY)))
		return NULL;
	rel = (gfn - s->base_gfn) << PAGE_SHIFT;
	if (kvm->mem_attrs && kvm_mem_is_private(kvm, gfn)) {
		if (!s->gmem)
			return private_fault(kvm, gfn);
		if (write && s->dirty_bitmap)
			slot_mark_dirty(kvm, s, gfn);
		return s->gmem->map + s->gmem_offset + rel;
	}
	if (write && s->dirty_bitmap)
		slot_mark_dirty(kvm, s, gfn);
	return (void *)(uintptr_t)(s->userspace_addr + rel);
}

bool kvm_vcpu_take_memory_fault(struct kvm_vcpu *vcpu)
{
	struct kvm_memory_fault_exit *mf = kvm_run_memory_fault(vcpu->run);

	if (!vcpu->memory_fault.pending)
		return false;
	vcpu->memory_fault.pending = false;
	vcpu->run->exit_reason = KVM_EXIT_MEMORY_FAULT;
	mf->flags = vcpu->memory_fault.flags;
	mf->gpa = vcpu->memory_fault.gpa;
	mf->size = PAGE_SIZE;
	return true;
}

void kvm_mark_page_dirty(struct kvm *kvm, int as_id, gfn_t gfn)
{
	struct kvm_memory_slot *s;

	rcu_read_lock();
	s = kvm_memslots_find(kvm_memslots(kvm, as_id), gfn);
	if (s && s->dirty_bitmap)
		slot_mark_dirty(kvm, s, gfn);
	rcu_read_unlock();
}

static int kvm_rw_guest(struct kvm *kvm, int as_id, gpa_t gpa, void *data,
			size_t len, bool write)
{
	int r = 0;

	rcu_read_lock();
	while (len) {
		size_t off = gpa & (PAGE_SIZE - 1);
		size_t n = PAGE_SIZE - off < len ? PAGE_SIZE - off : len;
		uint8_t *hva = kvm_gfn_to_hva(kvm, as_id, gpa >> PAGE_SHIFT, write);

		/* the slot's memory may be unusable (PROT_NONE, unmapped...) */
		if (!hva || (write ? copy_to_user(hva + off, data, n) :
				     copy_from_user(data, hva + off, n))) {
			r = -EFAULT;
			break;
		}
		gpa += n;
		data = (uint8_t *)data + n;
		len -= n;
	}
	rcu_read_unlock();
	return r;
}

int kvm_read_guest(struct kvm *kvm, int as_id, gpa_t gpa, void *data, size_t len)
{
	return kvm_rw_guest(kvm, as_id, gpa, data, len, false);
}

int kvm_write_guest(struct kvm *kvm, int as_id, gpa_t gpa, const void *data,
		    size_t len)
{
	return kvm_rw_guest(kvm, as_id, gpa, (void *)data, len, true);
}

static size_t dirty_bitmap_bytes(uint64_t npages)
{
	return (npages + 63) / 64 * 8;
}

/* Index of the first slot that ends above gfn (slots do not overlap). */
static int memslots_lower_bound(const struct kvm_memslots *slots, gfn_t gfn)
{
	int lo = 0, hi = slots->nr;

	while (lo < hi) {
		int mid = (lo + hi) / 2;
		const struct kvm_memory_slot *s = slots->slots[mid];

		if (s->base_gfn + s->npages <= gfn)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Replace old by new in one copy of the array (either may be NULL); the
 * caller made room for new.  Nobody reads this copy.
 */
static void memslots_replace(struct kvm_memslots *slots,
			     struct kvm_memory_slot *old,
			     struct kvm_memory_slot *new)
{
	struct kvm_memory_slot **a = slots->slots;
	int i;

	if (old) {
		i = memslots_lower_bound(slots, old->base_gfn);
		memmove(&a[i], &a[i + 1], (size_t)(slots->nr - i - 1) * sizeof(*a));
		slots->nr--;
	}
	if (new) {
		i = memslots_lower_bound(slots, new->base_gfn);
		memmove(&a[i + 1], &a[i], (size_t)(slots->nr - i) * sizeof(*a));
		a[i] = new;
		slots->nr++;
	}
}

/* The copy of as_id's array that readers do not see. */
static struct kvm_memslots *memslots_inactive(struct kvm *kvm, int as_id)
{
	struct kvm_memslots *pair = kvm->memslots_pair[as_id];

	return kvm->memslots[as_id] == &pair[0] ? &pair[1] : &pair[0];
}

struct kvm_memory_slot *kvm_memslot_by_id(struct kvm *kvm, int as_id, int id)
{
	if (as_id < 0 || as_id >= KVM_ADDRESS_SPACE_NUM || id < 0 ||
	    id >= KVM_MEM_SLOTS_NUM || !kvm->slots_by_id[as_id])
		return NULL;
	return kvm->slots_by_id[as_id][id];
}

enum kvm_mr_change { KVM_MR_CREATE, KVM_MR_DELETE, KVM_MR_MOVE, KVM_MR_FLAGS_ONLY };

/*
 * Caller holds slots_lock.  As the kernel does: edit the inactive copy,
 * publish it (new generation; vCPUs drop their TLBs) and wait for a grace
 * period, after which nobody reads the other copy nor old, then make the
 * same edit to the other copy.  Everything that can fail is allocated
 * first.
 */
static int kvm_set_memslot(struct kvm *kvm, struct kvm_memory_slot *old,
			   const struct kvm_memory_slot *new_slot,
			   enum kvm_mr_change change)
{
	int as_id = new_slot->as_id;
	struct kvm_memslots *active = kvm->memslots[as_id];
	struct kvm_memslots *inactive = memslots_inactive(kvm, as_id);
	struct kvm_memory_slot *new = NULL, **grown = NULL;
	_Atomic(unsigned long) *free_bitmap = NULL;
	int need = active->nr + (change == KVM_MR_CREATE);
	int cap = active->cap > 16 ? active->cap : 16;

	while (cap < need)
		cap *= 2;
	if (!kvm->slots_by_id[as_id]) {
		kvm->slots_by_id[as_id] = calloc(KVM_MEM_SLOTS_NUM,
						 sizeof(*kvm->slots_by_id[as_id]));
		if (!kvm->slots_by_id[as_id])
			return -ENOMEM;
	}
	if (change != KVM_MR_DELETE) {
		new = malloc(sizeof(*new));
		if (!new)
			return -ENOMEM;
		*new = *new_slot;
	}
	if (need > inactive->cap) {
		grown = realloc(inactive->slots, (size_t)cap * sizeof(*grown));
		if (!grown)
			goto nomem;
		inactive->slots = grown;
		inactive->cap = cap;
		grown = NULL;
	}
	if (need > active->cap) {	/* readers use it: replace it later */
		grown = malloc((size_t)cap * sizeof(*grown));
		if (!grown)
			goto nomem;
	}

	memslots_replace(inactive, old, new);
	inactive->generation = atomic_load(&kvm->memslots_generation) + 1;
	rcu_assign_pointer(kvm->memslots[as_id], inactive);
	kvm_arch_memslots_updated(kvm, inactive->generation);
	kvm_flush_remote_tlbs(kvm);

	if (grown) {
		memcpy(grown, active->slots, (size_t)active->nr * sizeof(*grown));
		free(active->slots);
		active->slots = grown;
		active->cap = cap;
	}
	memslots_replace(active, old, new);
	kvm->slots_by_id[as_id][new_slot->id] = new;
	if (old && old->dirty_bitmap &&
	    (change == KVM_MR_DELETE || !new_slot->dirty_bitmap))
		free_bitmap = old->dirty_bitmap;
	free(old);
	free((void *)free_bitmap);
	return 0;

nomem:
	free(new);
	return -ENOMEM;
}

/* Does [start, end) overlap a slot other than id? */
static bool memslot_overlaps(struct kvm_memslots *slots, int id, gfn_t start,
			     gfn_t end)
{
	for (int i = memslots_lower_bound(slots, start); i < slots->nr; i++) {
		const struct kvm_memory_slot *s = slots->slots[i];

		if (s->base_gfn >= end)
			return false;
		if (s->id != id)
			return true;
	}
	return false;
}

static int check_memory_region_flags(struct kvm *kvm,
				     const struct kvm_userspace_memory_region2 *mem)
{
	uint32_t valid = KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_READONLY;

	if (kvm_has_private_mem(kvm))
		valid |= KVM_MEM_GUEST_MEMFD;
	/* guest_memfd slots cannot be read-only */
	if ((mem->flags & KVM_MEM_GUEST_MEMFD) && (mem->flags & KVM_MEM_READONLY))
		return -EINVAL;
	return (mem->flags & ~valid) ? -EINVAL : 0;
}

/* The order of checks is KVM's, so that a bad call gets KVM's errno. */
static int kvm_set_memory_region(struct kvm *kvm,
				 const struct kvm_userspace_memory_region2 *mem)
{
	struct kvm_memory_slot new_slot = { 0 };
	struct kvm_memory_slot *old;
	enum kvm_mr_change change;
	int as_id = mem->slot >> 16, id = (uint16_t)mem->slot, r;
	gfn_t base_gfn;
	uint64_t npages;

	r = check_memory_region_flags(kvm, mem);
	if (r)
		return r;
	if (mem->memory_size & (PAGE_SIZE - 1))
		return -EINVAL;
	if (mem->guest_phys_addr & (PAGE_SIZE - 1))
		return -EINVAL;
	if ((mem->userspace_addr & (PAGE_SIZE - 1)) ||
	    mem->userspace_addr > USER_ADDR_LIMIT ||
	    mem->memory_size > USER_ADDR_LIMIT - mem->userspace_addr)
		return -EINVAL;
	if (as_id >= KVM_ADDRESS_SPACE_NUM || id >= KVM_MEM_SLOTS_NUM)
		return -EINVAL;
	if (mem->guest_phys_addr + mem->memory_size < mem->guest_phys_addr)
		return -EINVAL;
	if ((mem->memory_size >> PAGE_SHIFT) > KVM_MAX_MEMSLOT_PAGES)
		return -EINVAL;

	old = kvm_memslot_by_id(kvm, as_id, id);
	if (!mem->memory_size) {
		if (!old)
			return -EINVAL;
		return kvm_set_memslot(kvm, old, old, KVM_MR_DELETE);
	}

	base_gfn = mem->guest_phys_addr >> PAGE_SHIFT;
	npages = mem->memory_size >> PAGE_SHIFT;
	if (!old) {
		change = KVM_MR_CREATE;
	} else {
		if (mem->userspace_addr != old->userspace_addr ||
		    npages != old->npages ||
		    ((mem->flags ^ old->flags) &
		     (KVM_MEM_READONLY | KVM_MEM_GUEST_MEMFD)))
			return -EINVAL;
		if (base_gfn != old->base_gfn) {
			/* a guest_memfd slot cannot move */
			if (old->gmem)
				return -EINVAL;
			change = KVM_MR_MOVE;
		} else if (mem->flags != old->flags) {
			change = KVM_MR_FLAGS_ONLY;
		} else {
			return 0;
		}
	}
	if ((change == KVM_MR_CREATE || change == KVM_MR_MOVE) &&
	    memslot_overlaps(kvm->memslots[as_id], id, base_gfn, base_gfn + npages))
		return -EEXIST;

	new_slot.base_gfn = base_gfn;
	new_slot.npages = npages;
	new_slot.userspace_addr = mem->userspace_addr;
	new_slot.flags = mem->flags;
	new_slot.id = (uint16_t)id;
	new_slot.as_id = (uint16_t)as_id;
	if (old && old->gmem) {
		new_slot.gmem = old->gmem;
		new_slot.gmem_offset = old->gmem_offset;
	} else if (mem->flags & KVM_MEM_GUEST_MEMFD) {
		new_slot.gmem = kvm_gmem_bind(kvm, (int)mem->guest_memfd,
					      mem->guest_memfd_offset, npages,
					      id, as_id, &r);
		if (!new_slot.gmem)
			return r;
		new_slot.gmem_offset = mem->guest_memfd_offset;
	}
	if (mem->flags & KVM_MEM_LOG_DIRTY_PAGES) {
		if (old && old->dirty_bitmap) {
			new_slot.dirty_bitmap = old->dirty_bitmap;
		} else {
			new_slot.dirty_bitmap = calloc(1, dirty_bitmap_bytes(npages));
			if (!new_slot.dirty_bitmap)
				return -ENOMEM;
			if (kvm->manual_dirty_log_protect & KVM_DIRTY_LOG_INITIALLY_SET)
				memset((void *)new_slot.dirty_bitmap, 0xff,
				       dirty_bitmap_bytes(npages));
		}
	}
	r = kvm_set_memslot(kvm, old, &new_slot, change);
	if (r && new_slot.dirty_bitmap && (!old || !old->dirty_bitmap))
		free((void *)new_slot.dirty_bitmap);
	return r;
}

static int kvm_vm_ioctl_set_memory_region(struct kvm *kvm,
					  struct kvm_userspace_memory_region2 *mem)
{
	int r;

	if ((uint16_t)mem->slot >= KVM_USER_MEM_SLOTS)
		return -EINVAL;
	pthread_mutex_lock(&kvm->slots_lock);
	r = kvm_set_memory_region(kvm, mem);
	pthread_mutex_unlock(&kvm->slots_lock);
	return r;
}

/* The checks KVM_GET_DIRTY_LOG and KVM_CLEAR_DIRTY_LOG share, in KVM's order. */
static int dirty_log_check(struct kvm *kvm, uint32_t slot)
{
	if (kvm->dirty_ring_size)
		return -ENXIO;	/* rings and bitmaps exclude each other */
	if ((slot >> 16) >= KVM_ADDRESS_SPACE_NUM ||
	    (uint16_t)slot >= KVM_USER_MEM_SLOTS)
		return -EINVAL;
	return 0;
}

/* The dirty-logged slot named by slot, or NULL.  Caller holds slots_lock. */
static const struct kvm_memory_slot *dirty_log_slot(struct kvm *kvm, uint32_t slot)
{
	const struct kvm_memory_slot *s =
		kvm_memslot_by_id(kvm, slot >> 16, (uint16_t)slot);

	return s && s->dirty_bitmap ? s : NULL;
}

/* KVM_GET_DIRTY_LOG: copy the slot's bitmap out and clear it. */
static int kvm_vm_ioctl_get_dirty_log(struct kvm *kvm, struct kvm_dirty_log *log)
{
	const struct kvm_memory_slot *s;
	size_t words, bytes;
	unsigned long *buf;
	int r = dirty_log_check(kvm, log->slot);

	if (r)
		return r;
	pthread_mutex_lock(&kvm->slots_lock);
	s = dirty_log_slot(kvm, log->slot);
	if (!s) {
		r = -ENOENT;
		goto out;
	}
	bytes = dirty_bitmap_bytes(s->npages);
	words = bytes / sizeof(long);
	buf = malloc(bytes);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < words; i++) {
		if (kvm->manual_dirty_log_protect)
			buf[i] = atomic_load(&s->dirty_bitmap[i]);
		else
			buf[i] = atomic_exchange(&s->dirty_bitmap[i], 0);
	}
	/*
	 * Re-arm logging: vCPUs drop the writable TLB entries through which
	 * they wrote without logging (KVM write-protects the pages instead).
	 */
	if (!kvm->manual_dirty_log_protect)
		kvm_flush_remote_tlbs(kvm);
	r = copy_to_user(log->dirty_bitmap, buf, bytes);
	free(buf);
out:
	pthread_mutex_unlock(&kvm->slots_lock);
	return r;
}

/*
 * KVM_CLEAR_DIRTY_LOG: clear the bits set in the client's bitmap (bit 0 is
 * first_page) and re-arm logging for those pages.
 */
static int kvm_vm_ioctl_clear_dirty_log(struct kvm *kvm,
					struct kvm_clear_dirty_log *log)
{
	const struct kvm_memory_slot *s;
	size_t bytes, words;
	unsigned long *buf;
	int r = dirty_log_check(kvm, log->slot);

	if (r)
		return r;
	if (log->first_page & 63)
		return -EINVAL;
	pthread_mutex_lock(&kvm->slots_lock);
	s = dirty_log_slot(kvm, log->slot);
	if (!s) {
		r = -ENOENT;
		goto out;
	}
	if (log->first_page > s->npages ||
	    log->num_pages > s->npages - log->first_page ||
	    (log->num_pages < s->npages - log->first_page &&
	     (log->num_pages & 63))) {
		r = -EINVAL;
		goto out;
	}
	bytes = dirty_bitmap_bytes(log->num_pages);
	words = bytes / sizeof(long);
	buf = malloc(bytes ? bytes : 1);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	if (copy_from_user(buf, log->dirty_bitmap, bytes)) {
		free(buf);
		r = -EFAULT;
		goto out;
	}
	/* Bits past num_pages in the last word are ignored. */
	if (log->num_pages % 64)
		buf[words - 1] &= (1UL << (log->num_pages % 64)) - 1;
	for (size_t i = 0; i < words; i++)
		if (buf[i])
			atomic_fetch_and(&s->dirty_bitmap[log->first_page / 64 + i],
					 ~buf[i]);
	free(buf);
	kvm_flush_remote_tlbs(kvm);
out:
	pthread_mutex_unlock(&kvm->slots_lock);
	return r;
}

/* --- Capabilities ------------------------------------------------------- */

static long kvm_check_extension(struct kvm *kvm, long ext)
{
	switch (ext) {
	case KVM_CAP_USER_MEMORY:
	case KVM_CAP_USER_MEMORY2:
	case KVM_CAP_DESTROY_MEMORY_REGION_WORKS:
	case KVM_CAP_JOIN_MEMORY_REGIONS_WORKS:
	case KVM_CAP_CHECK_EXTENSION_VM:
	case KVM_CAP_ENABLE_CAP_VM:
	case KVM_CAP_SYNC_MMU:		/* we access guest RAM by its hva */
	case KVM_CAP_READONLY_MEM:
	case KVM_CAP_IMMEDIATE_EXIT:
		return 1;
	case KVM_CAP_NR_MEMSLOTS:
		return KVM_USER_MEM_SLOTS;
	case KVM_CAP_MULTI_ADDRESS_SPACE:
		return KVM_ADDRESS_SPACE_NUM;
	case KVM_CAP_NR_VCPUS: {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		return n < KVM_MAX_VCPUS ? n : KVM_MAX_VCPUS;
	}
	case KVM_CAP_MAX_VCPUS:
		return KVM_MAX_VCPUS;
	case KVM_CAP_MAX_VCPU_ID:
		return KVM_MAX_VCPU_IDS;
	case KVM_CAP_COALESCED_MMIO:
		return KVM_COALESCED_MMIO_PAGE_OFFSET;
	case KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2:
		return KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE | KVM_DIRTY_LOG_INITIALLY_SET;
	case KVM_CAP_GUEST_MEMFD:
		return !kvm || kvm_has_private_mem(kvm);
	case KVM_CAP_MEMORY_ATTRIBUTES:
		return !kvm || kvm_has_private_mem(kvm) ?
		       KVM_MEMORY_ATTRIBUTE_PRIVATE : 0;
	case KVM_CAP_VM_TYPES:
		return (1 << KVM_X86_DEFAULT_VM) | (1 << KVM_X86_SW_PROTECTED_VM);
	case KVM_CAP_MEMORY_FAULT_INFO:
		return 1;
	case KVM_CAP_DIRTY_LOG_RING:
	case KVM_CAP_DIRTY_LOG_RING_ACQ_REL:
		return KVM_DIRTY_RING_MAX_ENTRIES * sizeof(struct kvm_dirty_gfn);
	case KVM_CAP_DEVICE_CTRL:
	case KVM_CAP_BINARY_STATS_FD:
	case KVM_CAP_COALESCED_PIO:
	case KVM_CAP_IOEVENTFD:
	case KVM_CAP_IOEVENTFD_ANY_LENGTH:
	case KVM_CAP_IOEVENTFD_NO_LENGTH:	/* x86's name for length 0 */
	case KVM_CAP_IRQFD:
	case KVM_CAP_IRQFD_RESAMPLE:
	case KVM_CAP_HALT_POLL:
		return 1;
	default:
		return kvm_arch_check_extension(kvm, ext);
	}
}

/* --- vCPUs -------------------------------------------------------------- */

void kvm_vcpu_kick(struct kvm_vcpu *vcpu)
{
	if (!vcpu)
		return;
	atomic_store(&vcpu->kick, true);
	kvm_vcpu_wake_up(vcpu);
}

/* --- Halting and halt polling (the kernel's kvm_vcpu_halt) ---------------- */

_Atomic unsigned int kvm_halt_poll_ns = KVM_HALT_POLL_NS_DEFAULT;
_Atomic unsigned int kvm_halt_poll_ns_grow = 2;
_Atomic unsigned int kvm_halt_poll_ns_grow_start = 10000;
_Atomic unsigned int kvm_halt_poll_ns_shrink;

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A log2 histogram bucket: bucket n counts values of n significant bits. */
static void log_hist_add(uint64_t *hist, uint64_t ns)
{
	int bucket = ns ? 64 - __builtin_clzll(ns) : 0;

	hist[bucket < HALT_POLL_HIST_COUNT ? bucket : HALT_POLL_HIST_COUNT - 1]++;
}

bool kvm_vcpu_wake_up(struct kvm_vcpu *vcpu)
{
	atomic_fetch_add(&vcpu->wait_seq, 1);
	if (!atomic_load(&vcpu->waiting))
		return false;
	syscall(SYS_futex, &vcpu->wait_seq, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
	/* any thread may wake a vCPU: count without losing increments */
	__atomic_fetch_add(&kvm_vcpu_stat(vcpu)->generic.halt_wakeup, 1,
			   __ATOMIC_RELAXED);
	return true;
}

bool kvm_vcpu_check_block(struct kvm_vcpu *vcpu)
{
	return kvm_arch_vcpu_runnable(vcpu) || atomic_load(&vcpu->signal_pending) ||
	       atomic_load(&vcpu->kick);
}

/*
 * A waker makes the condition true, then bumps wait_seq: reading wait_seq
 * before the last check makes a wake after it end the futex wait at once
 * (the value no longer matches).  A signal interrupts the wait (EINTR);
 * sleeps are bounded to 1 ms all the same, so nothing is missed for long.
 */
bool kvm_vcpu_block(struct kvm_vcpu *vcpu)
{
	struct kvm_vcpu_stat_generic *stat = &kvm_vcpu_stat(vcpu)->generic;
	const struct timespec ms = { 0, 1000000 };
	bool waited = false;

	stat->blocking = 1;
	while (!kvm_vcpu_check_block(vcpu)) {
		unsigned int seq = atomic_load(&vcpu->wait_seq);

		atomic_store(&vcpu->waiting, true);
		if (!kvm_vcpu_check_block(vcpu)) {
			syscall(SYS_futex, &vcpu->wait_seq, FUTEX_WAIT_PRIVATE, seq,
				&ms, NULL, 0);
			waited = true;
		}
		atomic_store(&vcpu->waiting, false);
	}
	stat->blocking = 0;
	return waited;
}

static unsigned int vcpu_max_halt_poll_ns(struct kvm_vcpu *vcpu)
{
	if (atomic_load(&vcpu->kvm->override_halt_poll_ns))
		return atomic_load(&vcpu->kvm->max_halt_poll_ns);
	return atomic_load(&kvm_halt_poll_ns);
}

static void grow_halt_poll_ns(struct kvm_vcpu *vcpu)
{
	uint64_t val = vcpu->halt_poll_ns;
	unsigned int grow = atomic_load(&kvm_halt_poll_ns_grow);
	unsigned int start = atomic_load(&kvm_halt_poll_ns_grow_start);

	if (!grow)
		return;
	val *= grow;
	if (val < start)
		val = start;
	vcpu->halt_poll_ns = val > UINT32_MAX ? UINT32_MAX : (unsigned int)val;
}

static void shrink_halt_poll_ns(struct kvm_vcpu *vcpu)
{
	unsigned int shrink = atomic_load(&kvm_halt_poll_ns_shrink);
	unsigned int val = shrink ? vcpu->halt_poll_ns / shrink : 0;

	vcpu->halt_poll_ns = val < atomic_load(&kvm_halt_poll_ns_grow_start) ? 0 : val;
}

static void account_poll(struct kvm_vcpu *vcpu, uint64_t poll_ns, bool success)
{
	struct kvm_vcpu_stat_generic *stat = (&kvm_vcpu_stat(vcpu)->generic);

	stat->halt_attempted_poll++;
	if (success) {
		stat->halt_successful_poll++;
		/* Every wakeup counts as valid on x86 (KVM's valid_wakeup is s390's). */
		stat->halt_poll_success_ns += poll_ns;
		log_hist_add(stat->halt_poll_success_hist, poll_ns);
	} else {
		stat->halt_poll_fail_ns += poll_ns;
		log_hist_add(stat->halt_poll_fail_hist, poll_ns);
	}
}

/*
 * Poll is "successful" when the vCPU never slept, even if the wake came
 * after the poll loop ended but before the sleep.  Then adapt the poll
 * time to the halt's length: a halt longer than the maximum shrinks it, a
 * short one it did not cover grows it.
 */
void kvm_vcpu_halt(struct kvm_vcpu *vcpu)
{
	struct kvm_vcpu_stat_generic *stat = (&kvm_vcpu_stat(vcpu)->generic);
	unsigned int max = vcpu_max_halt_poll_ns(vcpu);
	bool poll_allowed = !kvm_arch_no_poll(vcpu);
	uint64_t start, cur, poll_end, halt_ns;
	bool waited = false, do_poll;

	if (vcpu->halt_poll_ns > max)
		vcpu->halt_poll_ns = max;
	do_poll = poll_allowed && vcpu->halt_poll_ns;
	start = cur = poll_end = monotonic_ns();
	if (do_poll) {
		uint64_t stop = start + vcpu->halt_poll_ns;

		do {
			if (kvm_vcpu_check_block(vcpu))
				goto out;
			__builtin_ia32_pause();
			poll_end = cur = monotonic_ns();
		} while (cur < stop);
	}
	waited = kvm_vcpu_block(vcpu);
	cur = monotonic_ns();
	if (waited) {
		stat->halt_wait_ns += cur - poll_end;
		log_hist_add(stat->halt_wait_hist, cur - poll_end);
	}
out:
	halt_ns = cur - start;
	if (do_poll)
		account_poll(vcpu, poll_end - start, !waited);
	if (!poll_allowed)
		return;
	max = vcpu_max_halt_poll_ns(vcpu);
	if (!max)
		vcpu->halt_poll_ns = 0;
	else if (halt_ns <= vcpu->halt_poll_ns)
		;
	else if (vcpu->halt_poll_ns && halt_ns > max)
		shrink_halt_poll_ns(vcpu);
	else if (vcpu->halt_poll_ns < max && halt_ns < max)
		grow_halt_poll_ns(vcpu);
}

void kvm_vcpu_srcu_read_lock(struct kvm_vcpu *vcpu)
{
	atomic_int *waiters = &vcpu->kvm->srcu_waiters;

	/*
	 * Announce the reader, then look for a grace period (both seq_cst):
	 * kvm_synchronize_srcu() either sees the reader and waits for it to
	 * leave, or is seen here and waited for.  The wait yields rather
	 * than sleeps: a grace period takes microseconds, and waking a
	 * sleeping vCPU would cost the updater more than that.
	 */
	for (;;) {
		atomic_store(&vcpu->srcu_reader, true);
		if (!atomic_load(waiters))
			break;
		atomic_store(&vcpu->srcu_reader, false);
		while (atomic_load(waiters))
			sched_yield();
	}
	rcu_read_lock();
}

void kvm_vcpu_srcu_read_unlock(struct kvm_vcpu *vcpu)
{
	rcu_read_unlock();
	atomic_store(&vcpu->srcu_reader, false);
}

static uint64_t srcu_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

/*
 * liburcu polls a reader that is still in its section every 10 ms: a vCPU
 * is kicked out first, and kept out, so that synchronize_rcu() only waits
 * for short sections.
 */
void kvm_synchronize_srcu(struct kvm *kvm)
{
	int n = atomic_load(&kvm->online_vcpus);
	uint64_t deadline = 0;

	atomic_fetch_add(&kvm->srcu_waiters, 1);
	for (int i = 0; i < n; i++)
		kvm_vcpu_kick(kvm->vcpus[i]);
	/*
	 * A kicked vCPU leaves the guest at its next block boundary.  The
	 * wait is bounded by liburcu's own polling period: it only spares
	 * synchronize_rcu() a poll, which also covers a vCPU that takes long.
	 */
	for (int i = 0; i < n; i++) {
		for (int spins = 0; atomic_load(&kvm->vcpus[i]->srcu_reader); spins++) {
			if (spins < 100)
				continue;
			if (!deadline)
				deadline = srcu_now_ns() + 10000000;
			else if (srcu_now_ns() > deadline)
				break;
			sched_yield();
		}
	}
	synchronize_rcu();
	atomic_fetch_sub(&kvm->srcu_waiters, 1);
}

void kvm_flush_remote_tlbs(struct kvm *kvm)
{
	kvm_vm_stat(kvm)->generic.remote_tlb_flush_requests++;
	atomic_fetch_add(&kvm->memslots_generation, 1);
	kvm_synchronize_srcu(kvm);
	kvm_vm_stat(kvm)->generic.remote_tlb_flush++;
}

/* The thread's mask outside KVM_RUN, while a KVM_SET_SIGNAL_MASK set rules. */
static __thread sigset_t current_saved_mask;
static __thread bool current_mask_saved;

static void (*_Atomic kvm_signal_watch)(int sig);

void kvm_signal_set_watch(void (*watch)(int sig))
{
	atomic_store(&kvm_signal_watch, watch);
}

int kvm_signal_kick_current(int sig)
{
	struct kvm_vcpu *vcpu = current_vcpu;

	if (!vcpu)
		return 0;
	atomic_store(&vcpu->signal_pending, true);
	atomic_store(&vcpu->kick, true);
	return current_mask_saved && sigismember(&current_saved_mask, sig) == 1;
}

bool kvm_host_fault(int sig, siginfo_t *si, void *ucontext)
{
	return kvm_arch_host_fault(sig, si, ucontext);
}

static void kvm_vcpu_destroy(struct kvm_vcpu *vcpu)
{
	kvm_file_unregister(vcpu->file);
	kvm_arch_vcpu_destroy(vcpu);
	kvm_stats_destroy(&vcpu->stats);
	if (vcpu->run)
		munmap(vcpu->run, vcpu->file_size);
	pthread_mutex_destroy(&vcpu->mutex);
	free(vcpu);
}

static long kvm_vm_ioctl_create_vcpu(struct kvm *kvm, unsigned long id)
{
	struct kvm_vcpu *vcpu;
	char name[32];
	int r, fd, idx;

	if (id >= KVM_MAX_VCPU_IDS)
		return -EINVAL;
	pthread_mutex_lock(&kvm->lock);
	if (atomic_load(&kvm->online_vcpus) >= KVM_MAX_VCPUS) {
		r = -EINVAL;
		goto out_unlock;
	}
	if (kvm->max_vcpu_ids && id >= kvm->max_vcpu_ids) {
		r = -EINVAL;
		goto out_unlock;
	}
	r = kvm_arch_vcpu_precreate(kvm, (unsigned int)id);
	if (r)
		goto out_unlock;
	idx = atomic_load(&kvm->online_vcpus);
	for (int i = 0; i < idx; i++) {
		if (kvm->vcpus[i]->vcpu_id == (int)id) {
			r = -EEXIST;
			goto out_unlock;
		}
	}
	vcpu = calloc(1, sizeof(*vcpu));
	if (!vcpu) {
		r = -ENOMEM;
		goto out_unlock;
	}
	vcpu->kvm = kvm;
	vcpu->vcpu_id = (int)id;
	vcpu->vcpu_idx = idx;
	vcpu->mmap_size = VCPU_MMAP_SIZE;
	pthread_mutex_init(&vcpu->mutex, NULL);
	snprintf(name, sizeof(name), "kvm-%d/vcpu-%lu", (int)getpid(), id);
	if (kvm_stats_init(&vcpu->stats, kvm_vcpu_stats_desc, kvm_vcpu_stats_ndesc,
			   kvm_vcpu_stats_size, name)) {
		r = -ENOMEM;
		goto out_free;
	}

	vcpu->file_size = VCPU_FILE_SIZE + kvm->dirty_ring_size;
	snprintf(name, sizeof(name), "kvm-vcpu:%lu", id);
	/* Mapped by us: the VM's release checks whether the client holds it. */
	fd = kvm_file_create(name, vcpu->file_size, O_CLOEXEC, KVM_FILE_VCPU,
			     vcpu, NULL, &vcpu->file);
	if (fd < 0) {
		r = fd;
		goto out_free;
	}
	vcpu->run = kvm_file_map(fd, vcpu->file_size);
	if (!vcpu->run) {
		r = -ENOMEM;
		goto out_close;
	}
	if (kvm->dirty_ring_size)
		kvm_dirty_ring_init(vcpu, (uint8_t *)vcpu->run + VCPU_FILE_SIZE);
	r = kvm_arch_vcpu_create(vcpu);
	if (r)
		goto out_unmap;
	kvm->vcpus[idx] = vcpu;
	atomic_store(&kvm->online_vcpus, idx + 1);
	kvm->created_vcpus_locked = true;
	pthread_mutex_unlock(&kvm->lock);
	return fd;

out_unmap:
	munmap(vcpu->run, vcpu->file_size);
	vcpu->run = NULL;
out_close:
	kvm_file_unregister(vcpu->file);
	close(fd);
out_free:
	kvm_stats_destroy(&vcpu->stats);
	pthread_mutex_destroy(&vcpu->mutex);
	free(vcpu);
out_unlock:
	pthread_mutex_unlock(&kvm->lock);
	return r;
}

static long kvm_vcpu_ioctl_set_sigmask(struct kvm_vcpu *vcpu, void *argp)
{
	struct kvm_signal_mask hdr;
	uint64_t bits;

	if (!argp) {
		vcpu->sigset_active = false;
		return 0;
	}
	if (copy_from_user(&hdr, argp, sizeof(hdr)))
		return -EFAULT;
	if (hdr.len != sizeof(bits))	/* the kernel's sigset_t */
		return -EINVAL;
	if (copy_from_user(&bits, (uint8_t *)argp + sizeof(hdr), sizeof(bits)))
		return -EFAULT;
	/*
	 * SIGSEGV and SIGBUS stay deliverable while the guest runs: the
	 * engine learns of unusable memslot memory from them (kvm_host_fault).
	 */
	sigemptyset(&vcpu->sigset);
	for (int sig = 1; sig <= 64; sig++)
		if ((bits >> (sig - 1)) & 1 && sig != SIGKILL && sig != SIGSTOP &&
		    sig != SIGSEGV && sig != SIGBUS)
			sigaddset(&vcpu->sigset, sig);
	vcpu->sigset_active = true;
	return 0;
}

/*
 * The vCPU's thread was cancelled (pthread_cancel) at a cancellation point
 * inside KVM_RUN: it is no longer a reader nor running the vCPU.
 */
static void kvm_vcpu_run_cancelled(void *arg)
{
	struct kvm_vcpu *vcpu = arg;

	atomic_store(&vcpu->srcu_reader, false);
	current_vcpu = NULL;
	current_mask_saved = false;
	atomic_store(&vcpu->thread, (pthread_t)0);
}

static long kvm_vcpu_ioctl_run(struct kvm_vcpu *vcpu)
{
	sigset_t old;
	long r;

	vcpu->tid = (pid_t)syscall(SYS_gettid);
	atomic_store(&vcpu->thread, pthread_self());
	/* a signal handled outside KVM_RUN does not interrupt this one */
	atomic_store(&vcpu->signal_pending, false);
	if (vcpu->sigset_active) {
		void (*watch)(int sig) = atomic_load(&kvm_signal_watch);
		sigset_t all;

		/* publish the saved mask before any signal can look at it */
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		current_saved_mask = old;
		current_mask_saved = true;
		current_vcpu = vcpu;
		/*
		 * A signal the thread blocks and the run unblocks interrupts
		 * the run and stays pending, whatever its disposition: the
		 * front makes sure that it reaches kvm_signal_kick_current().
		 */
		for (int sig = 1; watch && sig < _NSIG; sig++)
			if (sigismember(&old, sig) == 1 &&
			    sigismember(&vcpu->sigset, sig) == 0)
				watch(sig);
		pthread_sigmask(SIG_SETMASK, &vcpu->sigset, NULL);
	} else {
		current_vcpu = vcpu;
	}
	kvm_irqfd_flush(vcpu->kvm);
	pthread_cleanup_push(kvm_vcpu_run_cancelled, vcpu);
	r = kvm_arch_vcpu_ioctl_run(vcpu);
	pthread_cleanup_pop(0);
	if (vcpu->sigset_active) {
		sigset_t all;

		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, NULL);
		current_vcpu = NULL;
		current_mask_saved = false;
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	current_vcpu = NULL;
	atomic_store(&vcpu->thread, (pthread_t)0);
	return r;
}

static long kvm_vcpu_ioctl(struct kvm_vcpu *vcpu, unsigned long ioctl, void *argp)
{
	long r;

	if (vcpu->kvm->owner_pid != getpid())
		return -EIO;
	if (_IOC_TYPE(ioctl) != KVMIO)
		return -EINVAL;
	pthread_mutex_lock(&vcpu->mutex);
	switch (ioctl) {
	case KVM_RUN:
		r = argp ? -EINVAL : kvm_vcpu_ioctl_run(vcpu);
		break;
	case KVM_SET_SIGNAL_MASK:
		r = kvm_vcpu_ioctl_set_sigmask(vcpu, argp);
		break;
	case KVM_GET_STATS_FD:
		r = kvm_stats_get_fd(&vcpu->stats);
		break;
	default:
		r = kvm_arch_vcpu_ioctl(vcpu, (unsigned int)ioctl, argp);
		break;
	}
	pthread_mutex_unlock(&vcpu->mutex);
	return r;
}

/* --- VMs ---------------------------------------------------------------- */

void kvm_get_kvm(struct kvm *kvm)
{
	atomic_fetch_add(&kvm->users_count, 1);
}

static void kvm_destroy_vm(struct kvm *kvm)
{
	int n = atomic_load(&kvm->online_vcpus);

	/*
	 * Interrupt sources that run on threads of their own (irqfd
	 * injections, the PIT's timer) wake vCPUs: they stop before the
	 * vCPUs are freed, as in KVM.
	 */
	kvm_irqfd_release(kvm);
	kvm_arch_sync_events(kvm);
	for (int i = 0; i < n; i++)
		kvm_vcpu_destroy(kvm->vcpus[i]);
	/* grace periods of devices leaving the buses have no vCPUs to kick */
	atomic_store(&kvm->online_vcpus, 0);
	for (int as = 0; as < KVM_ADDRESS_SPACE_NUM; as++) {
		struct kvm_memslots *s = kvm->memslots[as];

		for (int i = 0; i < s->nr; i++) {
			free((void *)s->slots[i]->dirty_bitmap);
			free(s->slots[i]);
		}
		free(kvm->memslots_pair[as][0].slots);
		free(kvm->memslots_pair[as][1].slots);
		free(kvm->slots_by_id[as]);
	}
	kvm_gmem_destroy_all(kvm);
	kvm_io_bus_destroy(kvm);
	kvm_coalesced_mmio_free(kvm);
	kvm_arch_destroy_vm(kvm);
	kvm_stats_destroy(&kvm->stats);
	if (kvm->ring_page)
		munmap(kvm->ring_page, PAGE_SIZE);
	free(kvm->vcpus);
	pthread_mutex_destroy(&kvm->lock);
	pthread_mutex_destroy(&kvm->slots_lock);
	free(kvm);
	atomic_fetch_sub(&live_vms, 1);
}

void kvm_put_kvm(struct kvm *kvm)
{
	if (atomic_fetch_sub(&kvm->users_count, 1) == 1)
		kvm_destroy_vm(kvm);
}

/*
 * The VM lives while its fd or any vCPU fd is held (the kernel's vCPU files
 * hold VM references).  vCPU files are mapped by us, so their release is
 * not an event: check, and keep checking until the client lets go.
 */
static bool kvm_vm_try_destroy(void *arg)
{
	struct kvm *kvm = arg;
	int n = atomic_load(&kvm->online_vcpus);
	struct kvm_file **files = calloc((size_t)n + 1, sizeof(*files));
	void **own = calloc((size_t)n + 1, sizeof(*own));
	bool busy = !files || !own;

	for (int i = 0; !busy && i < n; i++) {
		files[i] = kvm->vcpus[i]->file;
		own[i] = kvm->vcpus[i]->run;
	}
	if (!busy)
		busy = kvm_files_in_use(files, own, n);
	free(files);
	free(own);
	if (busy)
		return false;
	kvm_put_kvm(kvm);
	return true;
}

static void kvm_vm_release(struct kvm_file *f)
{
	struct kvm *kvm = f->obj;

	kvm->vm_file_released = true;
	if (!kvm_vm_try_destroy(kvm) && kvm_file_defer(kvm_vm_try_destroy, kvm))
		kvm_put_kvm(kvm);	/* out of memory: cannot wait */
}

static int kvm_vm_ioctl_enable_cap_generic(struct kvm *kvm,
					   struct kvm_enable_cap *cap)
{
	int r;

	switch (cap->cap) {
	case KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2: {
		uint64_t allowed = KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE;

		if (cap->args[0] & KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE)
			allowed |= KVM_DIRTY_LOG_INITIALLY_SET;
		if (cap->flags || (cap->args[0] & ~allowed))
			return -EINVAL;
		kvm->manual_dirty_log_protect = (uint32_t)cap->args[0];
		return 0;
	}
	case KVM_CAP_DIRTY_LOG_RING:
	case KVM_CAP_DIRTY_LOG_RING_ACQ_REL:
		return kvm_vm_ioctl_enable_dirty_log_ring(kvm, cap->args[0]);
	case KVM_CAP_HALT_POLL:
		/* Any time, any number of times; the value must fit 32 bits. */
		if (cap->flags || cap->args[0] != (unsigned int)cap->args[0])
			return -EINVAL;
		atomic_store(&kvm->max_halt_poll_ns, (unsigned int)cap->args[0]);
		atomic_store(&kvm->override_halt_poll_ns, true);
		return 0;
	case KVM_CAP_MAX_VCPU_ID:
		if (cap->args[0] > KVM_MAX_VCPU_IDS)
			return -EINVAL;
		pthread_mutex_lock(&kvm->lock);
		r = 0;
		if (!kvm->max_vcpu_ids)
			kvm->max_vcpu_ids = (uint32_t)cap->args[0];
		else if (kvm->max_vcpu_ids != cap->args[0])
			r = -EINVAL;
		pthread_mutex_unlock(&kvm->lock);
		return r;
	default:
		return kvm_arch_vm_enable_cap(kvm, cap);
	}
}

static long kvm_vm_ioctl(struct kvm *kvm, unsigned long ioctl, void *argp)
{
	struct kvm_userspace_memory_region2 mem2;
	struct kvm_coalesced_mmio_zone zone;
	struct kvm_ioeventfd ioeventfd;
	struct kvm_irqfd irqfd;
	struct kvm_enable_cap cap;
	struct kvm_dirty_log log;
	struct kvm_clear_dirty_log clear;

	if (kvm->owner_pid != getpid())
		return -EIO;
	switch (ioctl) {
	case KVM_CREATE_VCPU:
		return kvm_vm_ioctl_create_vcpu(kvm, (unsigned long)argp);
	case KVM_CHECK_EXTENSION:
		return kvm_check_extension(kvm, (long)argp);
	case KVM_ENABLE_CAP:
		if (copy_from_user(&cap, argp, sizeof(cap)))
			return -EFAULT;
		return kvm_vm_ioctl_enable_cap_generic(kvm, &cap);
	case KVM_SET_USER_MEMORY_REGION:
		memset(&mem2, 0, sizeof(mem2));
		if (copy_from_user(&mem2, argp,
				   sizeof(struct kvm_userspace_memory_region)))
			return -EFAULT;
		return kvm_vm_ioctl_set_memory_region(kvm, &mem2);
	case KVM_SET_USER_MEMORY_REGION2:
		if (copy_from_user(&mem2, argp, sizeof(mem2)))
			return -EFAULT;
		return kvm_vm_ioctl_set_memory_region(kvm, &mem2);
	case KVM_GET_DIRTY_LOG:
		if (copy_from_user(&log, argp, sizeof(log)))
			return -EFAULT;
		return kvm_vm_ioctl_get_dirty_log(kvm, &log);
	case KVM_CREATE_DEVICE:
		return kvm_vm_ioctl_create_device(kvm, argp);
	case KVM_SET_GSI_ROUTING:
	case KVM_IRQ_LINE:
	case KVM_IRQ_LINE_STATUS:
	case KVM_SIGNAL_MSI:
		return kvm_irqchip_vm_ioctl(kvm, (unsigned int)ioctl, argp);
	case KVM_CREATE_GUEST_MEMFD:
		return kvm_vm_ioctl_create_guest_memfd(kvm, argp);
	case KVM_SET_MEMORY_ATTRIBUTES:
		return kvm_vm_ioctl_set_memory_attributes(kvm, argp);
	case KVM_GET_STATS_FD: {
		long r;

		pthread_mutex_lock(&kvm->lock);
		r = kvm_stats_get_fd(&kvm->stats);
		pthread_mutex_unlock(&kvm->lock);
		return r;
	}
	case KVM_CLEAR_DIRTY_LOG:
		if (copy_from_user(&clear, argp, sizeof(clear)))
			return -EFAULT;
		return kvm_vm_ioctl_clear_dirty_log(kvm, &clear);
	case KVM_RESET_DIRTY_RINGS:
		return kvm_vm_ioctl_reset_dirty_pages(kvm);
	case KVM_IOEVENTFD:
		if (copy_from_user(&ioeventfd, argp, sizeof(ioeventfd)))
			return -EFAULT;
		return kvm_ioeventfd(kvm, &ioeventfd);
	case KVM_IRQFD: {
		long r;

		if (copy_from_user(&irqfd, argp, sizeof(irqfd)))
			return -EFAULT;
		pthread_mutex_lock(&kvm->lock);
		r = kvm_irqfd(kvm, &irqfd);
		pthread_mutex_unlock(&kvm->lock);
		return r;
	}
	case KVM_REGISTER_COALESCED_MMIO:
		if (copy_from_user(&zone, argp, sizeof(zone)))
			return -EFAULT;
		return kvm_vm_ioctl_register_coalesced_mmio(kvm, &zone);
	case KVM_UNREGISTER_COALESCED_MMIO:
		if (copy_from_user(&zone, argp, sizeof(zone)))
			return -EFAULT;
		return kvm_vm_ioctl_unregister_coalesced_mmio(kvm, &zone);
	default:
		return kvm_arch_vm_ioctl(kvm, (unsigned int)ioctl, argp);
	}
}

/*
 * The coalesced-MMIO ring: a shared page of an internal memfd, so that it
 * can be spliced into every vCPU mapping (kvm_fd_mmap_fixup).
 */
static void *ring_page_alloc(void)
{
	int fd = memfd_create("kvm-coalesced-mmio", MFD_CLOEXEC);
	void *p = NULL;

	if (fd < 0)
		return NULL;
	if (ftruncate(fd, PAGE_SIZE) == 0)
		p = kvm_file_map(fd, PAGE_SIZE);
	close(fd);
	return p;
}

static long kvm_dev_ioctl_create_vm(unsigned long type)
{
	struct kvm_file *f;
	struct kvm *kvm = calloc(1, sizeof(*kvm));
	char id[KVM_STATS_NAME_SIZE];
	int r, fd;

	if (!kvm)
		return -ENOMEM;
	kvm->vcpus = calloc(KVM_MAX_VCPUS, sizeof(*kvm->vcpus));
	snprintf(id, sizeof(id), "kvm-%d", (int)getpid());
	if (!kvm->vcpus || kvm_stats_init(&kvm->stats, kvm_vm_stats_desc,
					  kvm_vm_stats_ndesc, kvm_vm_stats_size, id)) {
		kvm_stats_destroy(&kvm->stats);
		free(kvm->vcpus);
		free(kvm);
		return -ENOMEM;
	}
	atomic_init(&kvm->users_count, 1);
	kvm->owner_pid = getpid();
	kvm->type = type;
	pthread_mutex_init(&kvm->lock, NULL);
	pthread_mutex_init(&kvm->slots_lock, NULL);
	for (int as = 0; as < KVM_ADDRESS_SPACE_NUM; as++)
		kvm->memslots[as] = &kvm->memslots_pair[as][0];
	r = kvm_arch_init_vm(kvm, type);
	if (r) {
		kvm_stats_destroy(&kvm->stats);
		pthread_mutex_destroy(&kvm->lock);
		pthread_mutex_destroy(&kvm->slots_lock);
		free(kvm->vcpus);
		free(kvm);
		return r;
	}
	atomic_fetch_add(&live_vms, 1);
	kvm->ring_page = ring_page_alloc();
	r = kvm->ring_page ? kvm_coalesced_mmio_init(kvm, kvm->ring_page) : -ENOMEM;
	if (r) {
		kvm_put_kvm(kvm);
		return r;
	}
	fd = kvm_file_create("kvm-vm", 0, O_CLOEXEC, KVM_FILE_VM, kvm,
			     kvm_vm_release, &f);
	if (fd < 0)
		kvm_put_kvm(kvm);
	return fd;
}

/* --- The system fd (/dev/kvm) ------------------------------------------- */

static long kvm_dev_ioctl(unsigned long ioctl, void *argp)
{
	switch (ioctl) {
	case KVM_GET_API_VERSION:
		return argp ? -EINVAL : KVM_API_VERSION_NR;
	case KVM_CREATE_VM:
		return kvm_dev_ioctl_create_vm((unsigned long)argp);
	case KVM_CHECK_EXTENSION:
		return kvm_check_extension(NULL, (long)argp);
	case KVM_GET_VCPU_MMAP_SIZE:
		return argp ? -EINVAL : (long)VCPU_MMAP_SIZE;
	case KVM_TRACE_ENABLE:
	case KVM_TRACE_PAUSE:
	case KVM_TRACE_DISABLE:
		return -EOPNOTSUPP;
	default:
		return kvm_arch_dev_ioctl((unsigned int)ioctl, argp);
	}
}

/* The system fd holds no object; the registry forgets it when it dies. */
int kvm_dev_open(int flags)
{
	struct kvm_file *f;

	return kvm_file_create("kvm", 0, flags & O_CLOEXEC, KVM_FILE_SYSTEM,
			       NULL, NULL, &f);
}

/* --- Dispatch from the front -------------------------------------------- */

/*
 * The ioctl system call takes its command as an unsigned int: the upper
 * half of the word is dropped before any driver sees it.  Programs that
 * keep the command in an int (QEMU's kvm_vm_ioctl does) hand libc a
 * sign-extended value for every _IOR/_IOWR command, which must reach the
 * same case as the kernel's.
 */
int kvm_fd_ioctl(int fd, unsigned long request, void *arg, long *ret)
{
	struct kvm_file *f = kvm_file_get(fd);
	unsigned int cmd = (unsigned int)request;

	if (!f)
		return 0;
	switch (f->kind) {
	case KVM_FILE_SYSTEM:
		*ret = kvm_dev_ioctl(cmd, arg);
		break;
	case KVM_FILE_VM:
		*ret = kvm_vm_ioctl(f->obj, cmd, arg);
		break;
	case KVM_FILE_VCPU:
		*ret = kvm_vcpu_ioctl(f->obj, cmd, arg);
		break;
	case KVM_FILE_DEVICE:
		*ret = kvm_device_ioctl(f->obj, cmd, arg);
		break;
	default:
		*ret = -ENOTTY;
		break;
	}
	kvm_file_put(f);
	return 1;
}

/*
 * The coalesced-MMIO ring is one page per VM, shown at the same offset of
 * every vCPU mapping: after the client's mmap of a vCPU fd succeeded,
 * replace that page of the mapping with the VM's ring page (an mremap of
 * size 0 duplicates a shared mapping).
 */
int kvm_fd_mmap_fixup(int fd, void *addr, size_t len, int prot, int flags,
		      off_t off)
{
	struct kvm_file *f = kvm_file_get(fd);
	uint64_t ring_off = KVM_COALESCED_MMIO_PAGE_OFFSET * PAGE_SIZE;
	int r = 0;

	if (!f)
		return 1;
	if (f->kind == KVM_FILE_VCPU && f->obj && (flags & MAP_SHARED) &&
	    (uint64_t)off <= ring_off && ring_off < (uint64_t)off + len) {
		struct kvm_vcpu *vcpu = f->obj;
		uint8_t *dst = (uint8_t *)addr + (ring_off - (uint64_t)off);
		void *p = mremap(vcpu->kvm->ring_page, 0, PAGE_SIZE,
				 MREMAP_MAYMOVE | MREMAP_FIXED, dst);

		if (p == MAP_FAILED || mprotect(dst, PAGE_SIZE, prot))
			r = -errno;
	}
	kvm_file_put(f);
	return r;
}

int kvm_fd_mmap_check(int fd, size_t len, int prot, int flags, off_t off)
{
	struct kvm_file *f = kvm_file_get(fd);
	int r = 0;

	if (!f)
		return 1;
	switch (f->kind) {
	case KVM_FILE_VCPU: {
		struct kvm_vcpu *vcpu = f->obj;
		uint64_t ring_first = KVM_DIRTY_LOG_PAGE_OFFSET;
		uint64_t ring_end = ring_first +
			(vcpu ? vcpu->kvm->dirty_ring_size : 0) / PAGE_SIZE;
		uint64_t first = (uint64_t)off / PAGE_SIZE;
		uint64_t last = ((uint64_t)off + (len ? len : 1) - 1) / PAGE_SIZE;
		bool in_ring = (first >= ring_first && first < ring_end) ||
			       (last >= ring_first && last < ring_end);

		/* Only the dirty ring refuses private or executable maps. */
		if (in_ring && ((prot & PROT_EXEC) || !(flags & MAP_SHARED)))
			r = -EINVAL;
		break;
	}
	default:
		r = -ENODEV;	/* the system, VM and stats files have no mmap */
		break;
	}
	kvm_file_put(f);
	return r;
}
