/* SPDX-License-Identifier: MIT */
/* stub_core.h - what the front's tests know about the stub core. */
#ifndef SKVM_FRONT_STUB_CORE_H
#define SKVM_FRONT_STUB_CORE_H

#include <linux/kvm.h>

/* mmap at this offset of a stub fd is refused with ENODEV. */
#define STUB_REFUSED_OFFSET (16 * 4096)

/* mmap at this offset succeeds, then the fixup fails with ENOMEM. */
#define STUB_FIXUP_FAIL_OFFSET (32 * 4096)

/* 0 when the stub could mmap its own fd at STUB_REFUSED_OFFSET. */
#define STUB_IOCTL_SELF_MMAP _IO(KVMIO, 0xf0)
/* 0 when the stub's own ioctl on its fd went to the kernel (ENOTTY). */
#define STUB_IOCTL_SELF_IOCTL _IO(KVMIO, 0xf1)
/* Raise signal arg on this thread from inside the core, return 0. */
#define STUB_IOCTL_RAISE _IO(KVMIO, 0xf2)

#endif
