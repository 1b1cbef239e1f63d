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

/* Linux 6.6 renamed the KVM-VFIO group attributes; the values are kept. */
#ifndef KVM_DEV_VFIO_FILE
#define KVM_DEV_VFIO_FILE KVM_DEV_VFIO_GROUP
#define KVM_DEV_VFIO_FILE_ADD KVM_DEV_VFIO_GROUP_ADD
#define KVM_DEV_VFIO_FILE_DEL KVM_DEV_VFIO_GROUP_DEL
#endif

#endif /* SKVM_KVM_COMPAT_H */
