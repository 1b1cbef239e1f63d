/* SPDX-License-Identifier: MIT */
/*
 * kvm_compat.h - KVM ABI newer than the <linux/kvm.h> of Debian 12
 * (Linux 6.1 headers).  Numbers and layouts are those of Linux 6.8+, where
 * these ioctls first appeared; each block is guarded so that newer system
 * headers win.
 */
#ifndef SKVM_KVM_COMPAT_H
#define SKVM_KVM_COMPAT_H

#include <linux/kvm.h>

#ifndef KVM_CAP_USER_MEMORY2
#define KVM_CAP_USER_MEMORY2 231
#define KVM_CAP_MEMORY_FAULT_INFO 232
#define KVM_CAP_MEMORY_ATTRIBUTES 233
#define KVM_CAP_GUEST_MEMFD 234
#define KVM_CAP_VM_TYPES 235

/* Documentation/virt/kvm/api.rst, 4.141 KVM_SET_USER_MEMORY_REGION2 */
struct kvm_userspace_memory_region2 {
	__u32 slot;
	__u32 flags;
	__u64 guest_phys_addr;
	__u64 memory_size;
	__u64 userspace_addr;
	__u64 guest_memfd_offset;
	__u32 guest_memfd;
	__u32 pad1;
	__u64 pad2[14];
};

#define KVM_SET_USER_MEMORY_REGION2 \
	_IOW(KVMIO, 0x49, struct kvm_userspace_memory_region2)
#define KVM_MEM_GUEST_MEMFD (1UL << 2)
#endif

#ifndef KVM_CREATE_GUEST_MEMFD
/* Documentation/virt/kvm/api.rst 4.141-4.143 (Linux 6.8) */
struct kvm_create_guest_memfd {
	__u64 size;
	__u64 flags;
	__u64 reserved[6];
};
#define KVM_CREATE_GUEST_MEMFD _IOWR(KVMIO, 0xd4, struct kvm_create_guest_memfd)

struct kvm_memory_attributes {
	__u64 address;
	__u64 size;
	__u64 attributes;
	__u64 flags;
};
#define KVM_SET_MEMORY_ATTRIBUTES _IOW(KVMIO, 0xd2, struct kvm_memory_attributes)
#define KVM_MEMORY_ATTRIBUTE_PRIVATE (1ULL << 3)

#define KVM_EXIT_MEMORY_FAULT 39
#define KVM_MEMORY_EXIT_FLAG_PRIVATE (1ULL << 3)
/* kvm_run's exit union member for KVM_EXIT_MEMORY_FAULT */
struct kvm_memory_fault_exit {
	__u64 flags;
	__u64 gpa;
	__u64 size;
};
#define kvm_run_memory_fault(run) \
	((struct kvm_memory_fault_exit *)(void *)&(run)->mmio)

#define KVM_X86_DEFAULT_VM 0
#define KVM_X86_SW_PROTECTED_VM 1
#endif

/* Linux 6.6 renamed the KVM-VFIO group attributes; the values are kept. */
#ifndef KVM_DEV_VFIO_FILE
#define KVM_DEV_VFIO_FILE KVM_DEV_VFIO_GROUP
#define KVM_DEV_VFIO_FILE_ADD KVM_DEV_VFIO_GROUP_ADD
#define KVM_DEV_VFIO_FILE_DEL KVM_DEV_VFIO_GROUP_DEL
#endif

#endif /* SKVM_KVM_COMPAT_H */
