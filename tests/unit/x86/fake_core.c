// SPDX-License-Identifier: MIT
/*
 * fake_core.c - the virt/kvm services x86.c uses, reduced to what a unit
 * test needs: fault-safe user copies, one flat 1 MiB memslot, kicks.
 */
#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "kvm_file.h"
#include "kvm_rcu.h"
#include "kvm_host.h"
#include "fake.h"

uint8_t fake_guest_mem[FAKE_GUEST_MEM_SIZE] __attribute__((aligned(4096)));

/* process_vm_readv/writev on ourselves fail with EFAULT instead of crashing. */
static int self_copy(void *dst, const void *src, size_t len, bool to_user)
{
	struct iovec local = { to_user ? (void *)src : dst, len };
	struct iovec remote = { to_user ? dst : (void *)src, len };
	ssize_t n;

	if (!len)
		return 0;
	if (to_user)
		n = process_vm_writev(getpid(), &local, 1, &remote, 1, 0);
	else
		n = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
	return n == (ssize_t)len ? 0 : -EFAULT;
}

int copy_from_user(void *dst, const void *user_src, size_t len)
{
	return self_copy(dst, user_src, len, false);
}

int copy_to_user(void *user_dst, const void *src, size_t len)
{
	return self_copy(user_dst, src, len, true);
}

void *kvm_gfn_to_hva(struct kvm *kvm, int as_id, gfn_t gfn, bool write)
{
	if (as_id != 0 || gfn >= FAKE_GUEST_MEM_SIZE / PAGE_SIZE)
		return NULL;
	return fake_guest_mem + gfn * PAGE_SIZE;
}

int kvm_read_guest(struct kvm *kvm, int as_id, gpa_t gpa, void *data, size_t len)
{
	if (gpa >= FAKE_GUEST_MEM_SIZE || len > FAKE_GUEST_MEM_SIZE - gpa)
		return -EFAULT;
	memcpy(data, fake_guest_mem + gpa, len);
	return 0;
}

int kvm_write_guest(struct kvm *kvm, int as_id, gpa_t gpa, const void *data, size_t len)
{
	if (gpa >= FAKE_GUEST_MEM_SIZE || len > FAKE_GUEST_MEM_SIZE - gpa)
		return -EFAULT;
	memcpy(fake_guest_mem + gpa, data, len);
	return 0;
}

/* The fake has no KVM_RUN thread of its own: nothing runs a vCPU. */
struct kvm_vcpu *kvm_get_running_vcpu(void)
{
	return NULL;
}

void kvm_vcpu_kick(struct kvm_vcpu *vcpu)
{
	atomic_store(&vcpu->kick, true);
}

/* Halts: no polling, no statistics, a plain wait for the condition. */
bool kvm_vcpu_check_block(struct kvm_vcpu *vcpu)
{
	return kvm_arch_vcpu_runnable(vcpu) || atomic_load(&vcpu->signal_pending) ||
	       atomic_load(&vcpu->kick);
}

bool kvm_vcpu_block(struct kvm_vcpu *vcpu)
{
	while (!kvm_vcpu_check_block(vcpu))
		usleep(100);
	return true;
}

void kvm_vcpu_halt(struct kvm_vcpu *vcpu)
{
	kvm_vcpu_block(vcpu);
}

bool kvm_vcpu_wake_up(struct kvm_vcpu *vcpu)
{
	return false;
}

/* No vCPU runs while a unit test resets a dirty ring. */
void kvm_flush_remote_tlbs(struct kvm *kvm)
{
	atomic_fetch_add(&kvm->memslots_generation, 1);
}

/* The fake memory has no private pages, so no access ever lacks them. */
bool kvm_vcpu_take_memory_fault(struct kvm_vcpu *vcpu)
{
	return false;
}

/* The one flat slot, for the pfn cache (pv_async_pf.c). */
static struct kvm_memory_slot fake_slot = {
	.npages = FAKE_GUEST_MEM_SIZE / PAGE_SIZE,
};
static struct kvm_memory_slot *fake_slot_list[] = { &fake_slot };
static struct kvm_memslots fake_slots = {
	.nr = 1, .cap = 1, .slots = fake_slot_list,
};

struct kvm_memslots *kvm_memslots(struct kvm *kvm, int as_id)
{
	fake_slot.userspace_addr = (hva_t)(uintptr_t)fake_guest_mem;
	return as_id ? NULL : &fake_slots;
}

struct kvm_memory_slot *kvm_memslots_find(struct kvm_memslots *slots, gfn_t gfn)
{
	return slots && gfn < fake_slot.npages ? &fake_slot : NULL;
}

struct kvm_memory_slot *kvm_memslot_by_id(struct kvm *kvm, int as_id, int id)
{
	return !as_id && !id ? &fake_slot : NULL;
}

/* No vCPU runs in the guest while a unit test updates a table. */
void kvm_synchronize_srcu(struct kvm *kvm)
{
	synchronize_rcu();
}

void kvm_vcpu_srcu_read_lock(struct kvm_vcpu *vcpu)
{
	rcu_read_lock();
}

void kvm_vcpu_srcu_read_unlock(struct kvm_vcpu *vcpu)
{
	rcu_read_unlock();
}

/* The fake slot logs no dirty pages. */
void kvm_mark_page_dirty(struct kvm *kvm, int as_id, gfn_t gfn)
{
}

/* skvm's own fds need no moving in a unit test. */
int kvm_fd_make_private(int fd)
{
	return fd;
}
