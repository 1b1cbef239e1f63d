// SPDX-License-Identifier: MIT
/*
 * dirty_ring.c - KVM_CAP_DIRTY_LOG_RING: the collect/reset protocol.
 *
 * Each vCPU has a ring of struct kvm_dirty_gfn in its own mapping at
 * KVM_DIRTY_LOG_PAGE_OFFSET.  The vCPU appends an entry (slot, offset) and
 * then publishes it by setting KVM_DIRTY_GFN_F_DIRTY with release
 * ordering; the VMM harvests entries in order, marks them
 * KVM_DIRTY_GFN_F_RESET and calls KVM_RESET_DIRTY_RINGS, which recycles
 * them and re-arms dirty tracking for their pages.
 *
 * "Re-arming" works as for the dirty bitmap: in ring mode a slot's bitmap
 * records which pages have been pushed since their last reset, so a page is
 * pushed once however often it is written; the reset clears those bits and
 * bumps the memslot generation, so vCPUs drop the writable TLB entries and
 * the next write to each page is seen again.
 *
 * The ring has room for size entries; once size - KVM_DIRTY_RING_RSVD_ENTRIES
 * are in use the vCPU exits with KVM_EXIT_DIRTY_RING_FULL before entering
 * the guest again, which leaves the reserved entries for the writes that a
 * single guest instruction can still make.
 */
#include <errno.h>

#include "dirty_ring.h"

/* KVM takes args[0] as a u32: the bits above are dropped, not refused. */
int kvm_vm_ioctl_enable_dirty_log_ring(struct kvm *kvm, uint32_t size)
{
	int r = 0;

	if (!size || (size & (size - 1)))
		return -EINVAL;
	if (size < KVM_DIRTY_RING_RSVD_ENTRIES * sizeof(struct kvm_dirty_gfn) ||
	    size < PAGE_SIZE)
		return -EINVAL;
	if (size > KVM_DIRTY_RING_MAX_ENTRIES * sizeof(struct kvm_dirty_gfn))
		return -E2BIG;
	if (kvm->dirty_ring_size)
		return -EINVAL;
	pthread_mutex_lock(&kvm->lock);
	if (atomic_load(&kvm->online_vcpus))
		r = -EINVAL;
	else
		kvm->dirty_ring_size = (uint32_t)size;
	pthread_mutex_unlock(&kvm->lock);
	return r;
}

void kvm_dirty_ring_init(struct kvm_vcpu *vcpu, void *ring_pages)
{
	struct kvm_dirty_ring *ring = &vcpu->dirty_ring;

	ring->gfns = ring_pages;
	ring->size = vcpu->kvm->dirty_ring_size / sizeof(struct kvm_dirty_gfn);
	ring->soft_limit = ring->size - KVM_DIRTY_RING_RSVD_ENTRIES;
	ring->dirty_index = 0;
	ring->reset_index = 0;
}

static uint32_t ring_used(const struct kvm_dirty_ring *ring)
{
	return __atomic_load_n(&ring->dirty_index, __ATOMIC_ACQUIRE) -
	       __atomic_load_n(&ring->reset_index, __ATOMIC_ACQUIRE);
}

bool kvm_dirty_ring_soft_full(struct kvm_vcpu *vcpu)
{
	return vcpu->dirty_ring.gfns &&
	       ring_used(&vcpu->dirty_ring) >= vcpu->dirty_ring.soft_limit;
}

void kvm_dirty_ring_push(struct kvm_vcpu *vcpu, uint32_t slot, uint64_t offset)
{
	struct kvm_dirty_ring *ring = &vcpu->dirty_ring;
	struct kvm_dirty_gfn *e;

	if (!ring->gfns || ring_used(ring) >= ring->size)
		return;		/* cannot happen: we exit at the soft limit */
	e = &ring->gfns[ring->dirty_index & (ring->size - 1)];
	e->slot = slot;
	e->offset = offset;
	__atomic_store_n(&e->flags, KVM_DIRTY_GFN_F_DIRTY, __ATOMIC_RELEASE);
	__atomic_store_n(&ring->dirty_index, ring->dirty_index + 1,
			 __ATOMIC_RELEASE);
	if (ring_used(ring) >= ring->soft_limit)
		kvm_vcpu_kick(vcpu);
}

bool kvm_dirty_ring_check_exit(struct kvm_vcpu *vcpu)
{
	if (!kvm_dirty_ring_soft_full(vcpu))
		return false;
	vcpu->run->exit_reason = KVM_EXIT_DIRTY_RING_FULL;
	return true;
}

/* Forget that the page was pushed, so that its next write is logged. */
static void reset_gfn(struct kvm *kvm, uint32_t slot, uint64_t offset)
{
	int as_id = slot >> 16, id = (uint16_t)slot;
	struct kvm_memory_slot *s;

	if (as_id >= KVM_ADDRESS_SPACE_NUM || id >= KVM_USER_MEM_SLOTS)
		return;
	s = kvm_memslot_by_id(kvm, as_id, id);
	if (!s || !s->dirty_bitmap || offset >= s->npages)
		return;
	atomic_fetch_and(&s->dirty_bitmap[offset / (8 * sizeof(long))],
			 ~(1UL << (offset % (8 * sizeof(long)))));
}

static int ring_reset(struct kvm *kvm, struct kvm_dirty_ring *ring)
{
	int count = 0;

	while (ring->reset_index !=
	       __atomic_load_n(&ring->dirty_index, __ATOMIC_ACQUIRE)) {
		struct kvm_dirty_gfn *e =
			&ring->gfns[ring->reset_index & (ring->size - 1)];

		if (!(__atomic_load_n(&e->flags, __ATOMIC_ACQUIRE) &
		      KVM_DIRTY_GFN_F_RESET))
			break;
		reset_gfn(kvm, e->slot, e->offset);
		__atomic_store_n(&e->flags, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&ring->reset_index, ring->reset_index + 1,
				 __ATOMIC_RELEASE);
		count++;
	}
	return count;
}

int kvm_vm_ioctl_reset_dirty_pages(struct kvm *kvm)
{
	int n, cleared = 0;

	if (!kvm->dirty_ring_size)
		return -EINVAL;
	pthread_mutex_lock(&kvm->slots_lock);
	n = atomic_load(&kvm->online_vcpus);
	for (int i = 0; i < n; i++)
		cleared += ring_reset(kvm, &kvm->vcpus[i]->dirty_ring);
	pthread_mutex_unlock(&kvm->slots_lock);
	/*
	 * Re-protect: when the ioctl returns, no vCPU may still write to a
	 * reset page through a writable TLB entry without pushing it again.
	 */
	if (cleared)
		kvm_flush_remote_tlbs(kvm);
	return cleared;
}
