/* SPDX-License-Identifier: MIT */
/*
 * kvm_file.h - objects as real kernel fds, and the entry points that the
 * ABI front (front/) calls.  This is the whole interface between front/
 * and virt/kvm.
 */
#ifndef SKVM_KVM_FILE_H
#define SKVM_KVM_FILE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "kvm_host.h"

/*
 * Open a new system fd, as open("/dev/kvm", flags) does with KVM.  Only
 * O_CLOEXEC of flags is used.  Returns the fd or -errno.
 */
int kvm_dev_open(int flags);

/*
 * If fd is an skvm object, run the ioctl and return 1 with *ret set to
 * the ioctl's result (>= 0, or -errno); return 0 when fd is not ours (the
 * caller passes the call on to the kernel).
 */
int kvm_fd_ioctl(int fd, unsigned long request, void *arg, long *ret);

/*
 * mmap() on an skvm fd: return 0 when the mapping may go ahead as asked
 * (the caller then performs the real mmap of the memfd), or -errno as KVM
 * refuses it (e.g. -EINVAL for a MAP_PRIVATE or PROT_EXEC dirty-ring
 * mapping, -ENODEV on a VM fd).  Return 1 when fd is not ours.
 */
int kvm_fd_mmap_check(int fd, size_t len, int prot, int flags, off_t off);

/*
 * After the real mmap() of an skvm fd succeeded at addr: splice in pages
 * that are shared between objects (the VM's coalesced-MMIO ring in every
 * vCPU mapping).  0, or -errno (the caller unmaps and fails), or 1 when
 * fd is not ours.
 */
int kvm_fd_mmap_fixup(int fd, void *addr, size_t len, int prot, int flags,
		      off_t off);

/* True when fd is an skvm object fd. */
bool kvm_fd_is_ours(int fd);

/*
 * Called by the front when the thread running a vCPU got a signal; kicks
 * that vCPU out of KVM_RUN (-EINTR / KVM_EXIT_INTR).  Async-signal-safe.
 * Returns 1 when the signal must stay pending instead of being handled:
 * KVM_SET_SIGNAL_MASK let it through only for the run, and the thread's
 * own mask blocks it (KVM returns to user space with it pending and
 * blocked, and VMMs collect it with sigtimedwait); 0 otherwise.
 */
int kvm_signal_kick_current(int sig);

/*
 * Called by the front's SIGSEGV/SIGBUS handler with its arguments
 * (async-signal-safe): true when the fault is a guest memory access of a
 * vCPU on this thread to host memory that a memslot names but that cannot
 * be accessed (PROT_NONE, read-only, unmapped, past a file's end).  The
 * context was rewritten so that KVM_RUN fails with -EFAULT: the handler
 * returns at once.  False: chain to the program's disposition.
 */
bool kvm_host_fault(int sig, siginfo_t *si, void *ucontext);

/*
 * The front's watch(sig) is called on a vCPU thread entering KVM_RUN, with
 * every signal blocked, for each signal sig that the thread's own mask
 * blocks and KVM_SET_SIGNAL_MASK lets through during the run.  With KVM
 * such a signal interrupts KVM_RUN and stays pending even when no handler
 * is installed for it (SIG_DFL or SIG_IGN); watch() makes sure that its
 * delivery reaches kvm_signal_kick_current() all the same.
 */
void kvm_signal_set_watch(void (*watch)(int sig));

/* --- for virt/kvm itself ------------------------------------------------ */

/*
 * Create a memfd of size bytes named name ("kvm-vm", "kvm-vcpu:3" ...),
 * register it as an object of kind with obj and release, and return the fd
 * (or -errno).  *filep receives the registered file.  Files of the kinds
 * skvm never maps (system, VM, device) leave the registry by themselves
 * when their last reference (fd or mapping) is gone, and release(), if
 * any, runs then, once, on the watcher thread.  Files skvm maps (vCPU,
 * stats, guest_memfd) are tracked by their owner (kvm_files_in_use), who
 * unregisters them.
 */
int kvm_file_create(const char *name, size_t size, int flags,
		    enum kvm_file_kind kind, void *obj,
		    void (*release)(struct kvm_file *f),
		    struct kvm_file **filep);

/* Map an object's memfd shared, read-write; NULL on failure. */
void *kvm_file_map(int fd, size_t size);

/*
 * Does the client still hold any of these files: an fd of the process, a
 * mapping other than our own (own[i] is the start of ours, or NULL), or an
 * ioctl in flight?
 */
bool kvm_files_in_use(struct kvm_file *const *files, void *const *own, int n);

/* Run check(arg) on the watcher thread every few ms until it returns true. */
int kvm_file_defer(bool (*check)(void *arg), void *arg);

/*
 * Do fds a and b refer to the same open file description?  (The kernel
 * compares struct file pointers; eventfds all share one inode.)
 */
bool kvm_same_file(int a, int b);

/*
 * skvm's own fds (dups of the client's eventfds, the event thread's epoll,
 * the watcher's inotify and /proc files, the stats master) live high in
 * the fd table, so that the numbers the client's open/ioctl calls get are
 * the lowest free ones, as without skvm, and a client fd number that was
 * closed does not come back as one of ours while skvm works in the
 * background.  kvm_fd_dup_private() returns such a dup of fd (or -errno);
 * kvm_fd_make_private() moves fd up and returns the new number, or fd
 * itself when it cannot be moved.
 */
int kvm_fd_dup_private(int fd);
int kvm_fd_make_private(int fd);

/* Forget a file whose owner is going away (no release() call). */
void kvm_file_unregister(struct kvm_file *f);

/* A reference to the object behind fd, or NULL when fd is not ours. */
struct kvm_file *kvm_file_get(int fd);
/* Drop it; the last reference calls release() and frees f. */
void kvm_file_put(struct kvm_file *f);

#endif /* SKVM_KVM_FILE_H */
