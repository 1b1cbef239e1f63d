/* SPDX-License-Identifier: MIT */
/*
 * front.h - what the files of the ABI front share.
 *
 * The front is the layer between a KVM program and virt/kvm: it turns
 * open("/dev/kvm"), ioctl() and mmap() on skvm fds into calls of
 * kvm_file.h, and makes signals kick vCPUs out of KVM_RUN.  It stays
 * dormant until the process first opens /dev/kvm (see docs/front.md).
 */
#ifndef SKVM_FRONT_H
#define SKVM_FRONT_H

#include <stdatomic.h>
#include <stdbool.h>

#define FRONT_EXPORT __attribute__((visibility("default")))

/*
 * The next definition of name after libskvm (normally libc's), or NULL
 * while this thread is already inside dlsym(): a caller then falls back
 * to the raw system call.  Cached in *slot.
 */
void *front_real(_Atomic(void *) *slot, const char *name);

#define FRONT_REAL(fn)							\
	({								\
		static _Atomic(void *) front_slot_##fn;			\
		(__typeof__(&fn))front_real(&front_slot_##fn, #fn);	\
	})

/*
 * skvm's own calls of ioctl/mmap/sigaction go straight to libc, never
 * through the program's view of skvm.  A call is skvm's when this thread
 * is inside virt/kvm on the front's behalf (front_in_core), or when addr,
 * the caller's return address, lies inside libskvm.so (the core's own
 * threads).
 */
bool front_from_self(const void *addr);

/* Depth of calls into virt/kvm on this thread. */
extern __thread int front_in_core;

#define FRONT_IN_CORE(call)						\
	({								\
		__typeof__(call) front_r_;				\
		front_in_core++;					\
		front_r_ = (call);					\
		front_in_core--;					\
		front_r_;						\
	})

#define FRONT_CALLER_IS_SELF() front_from_self(__builtin_return_address(0))

/* Set once, at the first open of /dev/kvm; never cleared. */
extern atomic_bool front_active;

static inline bool front_is_active(void)
{
	return atomic_load_explicit(&front_active, memory_order_acquire);
}

/*
 * Wake the front up (idempotent): from now on, ioctl() and mmap() look
 * for skvm fds, and signal handlers are wrapped so that a signal kicks
 * the vCPU running on the thread it hits.
 */
void front_activate(void);

/* Open an skvm system fd as open("/dev/kvm", flags): fd, or -1 and errno. */
int front_dev_open(int flags);

/* signal.c: wrap the handlers installed before activation. */
void front_signal_activate(void);

#endif /* SKVM_FRONT_H */
