/* SPDX-License-Identifier: MIT */
/*
 * kvm_host.h - the architecture-independent KVM objects (system, VM, vCPU)
 * and the kvm_arch_* hooks through which virt/kvm calls the architecture.
 *
 * Files under virt/ include this header and never an arch/ header; the
 * architecture supplies struct kvm_arch and struct kvm_vcpu_arch through
 * <asm_kvm_host.h> (arch/x86/kvm/asm_kvm_host.h), as the kernel does.
 */
#ifndef SKVM_KVM_HOST_H
#define SKVM_KVM_HOST_H

#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "kvm_compat.h"

typedef uint64_t gpa_t;
typedef uint64_t gfn_t;
typedef uint64_t hva_t;

#define PAGE_SHIFT 12
#define PAGE_SIZE (1UL << PAGE_SHIFT)

#define KVM_API_VERSION_NR 12
#define KVM_ADDRESS_SPACE_NUM 2		/* x86: normal and SMM */
#define KVM_USER_MEM_SLOTS 32764	/* x86's value, KVM_CAP_NR_MEMSLOTS */
#define KVM_MEM_SLOTS_NUM 32767		/* user slots + private slots */
#define KVM_MAX_VCPUS 1024		/* x86's value, KVM_CAP_MAX_VCPUS */
#define KVM_MAX_VCPU_IDS 4096		/* KVM_CAP_MAX_VCPU_ID default */
#define KVM_MAX_MEMSLOT_PAGES ((1UL << 31) - 1)	/* per-slot page limit */
#define KVM_ASYNC_PF_RESIDENT_CACHE 64	/* async_pf.c: resident pages remembered */

struct kvm;
struct kvm_vcpu;
struct kvm_io_bus;
struct kvm_coalesced_state;
struct ioeventfd;
struct kvm_device;
struct kvm_irqfds;
struct kvm_gmem;
struct kvm_mem_attrs;
struct kvm_file;
struct kvm_async_pf;

/* --- Statistics (binary_stats.c) ----------------------------------------- */

#define KVM_STATS_NAME_SIZE 48		/* the kernel's id and name size */
#define HALT_POLL_HIST_COUNT 32

/* One statistic: a field (or array) of u64 in an object's stat struct. */
struct kvm_stat_def {
	const char *name;
	uint32_t flags;		/* KVM_STATS_TYPE_* | _UNIT_* | _BASE_* */
	int16_t exponent;
	uint16_t size;		/* number of u64 values (histogram buckets) */
	uint32_t offset;	/* byte offset of the field in the stat struct */
	uint32_t bucket_size;	/* linear histograms only */
};

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

/* The statistics every architecture has (KVM's generic ones). */
struct kvm_vm_stat_generic {
	uint64_t remote_tlb_flush;
	uint64_t remote_tlb_flush_requests;
};

struct kvm_vcpu_stat_generic {
	uint64_t halt_successful_poll;
	uint64_t halt_attempted_poll;
	uint64_t halt_poll_invalid;
	uint64_t halt_wakeup;
	uint64_t halt_poll_success_ns;
	uint64_t halt_poll_fail_ns;
	uint64_t halt_wait_ns;
	uint64_t halt_poll_success_hist[HALT_POLL_HIST_COUNT];
	uint64_t halt_poll_fail_hist[HALT_POLL_HIST_COUNT];
	uint64_t halt_wait_hist[HALT_POLL_HIST_COUNT];
	uint64_t blocking;
};

/* The architecture's stat tables (its struct kvm_vm_stat / kvm_vcpu_stat). */
extern const struct kvm_stat_def kvm_vm_stats_desc[];
extern const int kvm_vm_stats_ndesc;
extern const size_t kvm_vm_stats_size;
extern const struct kvm_stat_def kvm_vcpu_stats_desc[];
extern const int kvm_vcpu_stats_ndesc;
extern const size_t kvm_vcpu_stats_size;

#include "asm_kvm_host.h"	/* struct kvm_arch, struct kvm_vcpu_arch */

/* --- Memslots ----------------------------------------------------------- */

/*
 * A memory slot.  Slot structs are immutable once published: a change
 * (move, flag change) publishes a new struct in place of the old one, which
 * is freed after a grace period.  The dirty bitmap is shared between the
 * versions of one slot.
 */
struct kvm_memory_slot {
	gfn_t base_gfn;
	uint64_t npages;
	hva_t userspace_addr;
	uint32_t flags;
	uint16_t id;		/* slot id within its address space */
	uint16_t as_id;
	_Atomic(unsigned long) *dirty_bitmap;	/* NULL unless dirty-logged */
	/* guest_memfd backing of private pages (KVM_MEM_GUEST_MEMFD) */
	struct kvm_gmem *gmem;
	uint64_t gmem_offset;
};

/*
 * One address space's slots, sorted by base_gfn, published RCU-style
 * (liburcu-bp, the user-space counterpart of the kernel's SRCU).  Readers
 * hold rcu_read_lock() from kvm_memslots() until they drop every pointer
 * derived from it.  Each address space has two of these, as in the kernel:
 * the active one readers see and an inactive one that an update edits and
 * then publishes; after the grace period the update makes the same edit to
 * the other one, so an update costs one grace period and a few moves of
 * pointers, not a copy of every slot.
 */
struct kvm_memslots {
	uint64_t generation;
	int nr;				/* used entries of slots[] */
	int cap;			/* allocated entries */
	struct kvm_memory_slot **slots;	/* sorted by base_gfn */
};

/* --- Objects ------------------------------------------------------------- */

/*
 * Every object is exposed as a memfd (see kvm_file.c).  The kind tells
 * which ioctl dispatcher serves its fd.
 */
enum kvm_file_kind {
	KVM_FILE_SYSTEM,
	KVM_FILE_VM,
	KVM_FILE_VCPU,
	KVM_FILE_DEVICE,
	KVM_FILE_STATS,
	KVM_FILE_GMEM,		/* guest_memfd.c */
};

struct kvm_file {
	enum kvm_file_kind kind;
	dev_t dev;
	ino_t ino;
	void *obj;			/* struct kvm, kvm_vcpu, ... */
	void (*release)(struct kvm_file *f);	/* last description closed */
	struct kvm_file *hash_next;
	int wd;				/* inotify watch descriptor */
	atomic_int users;		/* in-flight ioctls + table reference */
};

struct kvm {
	atomic_int users_count;		/* kvm_get_kvm / kvm_put_kvm */
	pid_t owner_pid;		/* ioctls from another process: EIO */
	unsigned long type;

	pthread_mutex_t lock;		/* vCPU creation, enable_cap */
	pthread_mutex_t slots_lock;	/* serialises memslot updates */
	struct kvm_memslots *memslots[KVM_ADDRESS_SPACE_NUM];	/* RCU */
	struct kvm_memslots memslots_pair[KVM_ADDRESS_SPACE_NUM][2];
	/* each address space's slots by id, under slots_lock (or NULL) */
	struct kvm_memory_slot **slots_by_id[KVM_ADDRESS_SPACE_NUM];
	_Atomic uint64_t memslots_generation;	/* bumped on every update */
	/*
	 * Grace periods in progress (kvm_synchronize_srcu); vCPUs wait in
	 * kvm_vcpu_srcu_read_lock() while it is not 0.
	 */
	atomic_int srcu_waiters;

	struct kvm_vcpu **vcpus;	/* indexed by vcpu_idx */
	atomic_int online_vcpus;
	uint32_t max_vcpu_ids;		/* KVM_CAP_MAX_VCPU_ID */
	bool created_vcpus_locked;	/* a vCPU exists: some caps frozen */

	struct kvm_io_bus *buses[2];	/* MMIO, PIO (iodev.h); RCU */
	struct kvm_coalesced_state *coalesced;	/* coalesced_mmio.c */
	struct ioeventfd *ioeventfds;	/* eventfd.c, under slots_lock */
	struct kvm_irqfds *irqfds;	/* eventfd.c, with its event thread */
	struct kvm_gmem *gmems;		/* guest_memfd.c, under slots_lock */
	struct kvm_mem_attrs *mem_attrs;	/* private gfn ranges; RCU */
	struct kvm_device *devices;	/* kvm_device.c, under lock */
	void *ring_page;		/* the coalesced-MMIO ring (one page) */
	bool vm_file_released;		/* the VM fd's last reference is gone */

	uint32_t manual_dirty_log_protect;	/* KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 */
	/* KVM_CAP_HALT_POLL: a per-VM maximum replaces kvm_halt_poll_ns. */
	_Atomic unsigned int max_halt_poll_ns;
	atomic_bool override_halt_poll_ns;
	uint32_t dirty_ring_size;	/* bytes per vCPU; 0 when rings are off */

	struct kvm_stats stats;		/* struct kvm_vm_stat */

	struct kvm_arch arch;
};

/* A vCPU's dirty ring (dirty_ring.c), in its mapping at page 64. */
struct kvm_dirty_ring {
	struct kvm_dirty_gfn *gfns;	/* NULL when rings are off */
	uint32_t size;			/* entries, a power of two */
	uint32_t soft_limit;
	uint32_t dirty_index;		/* next entry the vCPU fills */
	uint32_t reset_index;		/* next entry to recycle */
};

struct kvm_vcpu {
	struct kvm *kvm;
	int vcpu_id;			/* the id the VMM chose */
	int vcpu_idx;			/* index in kvm->vcpus */
	struct kvm_file *file;

	/*
	 * kvm_run at page 0 of the vCPU memfd, the PIO data page at
	 * KVM_PIO_PAGE_OFFSET, the coalesced-MMIO ring at
	 * KVM_COALESCED_MMIO_PAGE_OFFSET; the client maps the same pages.
	 */
	struct kvm_run *run;
	size_t mmap_size;
	size_t file_size;		/* memfd size: up to and with the dirty ring */

	pthread_mutex_t mutex;		/* serialises vCPU ioctls (vcpu->mutex) */
	sigset_t sigset;		/* KVM_SET_SIGNAL_MASK */
	bool sigset_active;

	/*
	 * Set (by a signal, another thread or the event thread) to make the
	 * vCPU leave the guest at the next instruction-block boundary.
	 */
	atomic_bool kick;
	/*
	 * A signal unblocked by KVM_SET_SIGNAL_MASK arrived while in KVM_RUN:
	 * KVM_RUN returns -EINTR with KVM_EXIT_INTR (kick is set too).  A kick
	 * without it (a memslot update, a request) only re-enters the guest.
	 */
	atomic_bool signal_pending;
	/* The engine runs this vCPU under kvm_vcpu_srcu_read_lock(). */
	atomic_bool srcu_reader;
	_Atomic(pthread_t) thread;	/* thread in KVM_RUN, 0 when none */
	pid_t tid;

	struct kvm_dirty_ring dirty_ring;
	struct kvm_stats stats;		/* struct kvm_vcpu_stat */

	/*
	 * Halting (kvm_vcpu_halt/kvm_vcpu_block): the poll time this vCPU has
	 * earned, and the sleep a waker ends: a futex on wait_seq, which
	 * every wake bumps.  No lock, so wakers may hold any, and a vCPU
	 * thread cancelled asynchronously (as selftests do) leaves none held.
	 */
	unsigned int halt_poll_ns;
	atomic_uint wait_seq;
	atomic_bool waiting;		/* asleep in kvm_vcpu_block */

	/*
	 * Set when a guest access had no backing of the kind its memory
	 * attribute asks for; the architecture turns the access's exit into
	 * KVM_EXIT_MEMORY_FAULT (kvm_vcpu_take_memory_fault).
	 */
	struct {
		bool pending;
		gpa_t gpa;
		uint64_t flags;
	} memory_fault;

	/* Asynchronous page faults (async_pf.c) */
	struct {
		struct kvm_async_pf *queue;	/* outstanding work; vCPU thread only */
		struct kvm_async_pf *done;	/* completed, oldest first; async_pf lock */
		atomic_bool has_done;		/* done is not empty */
		uint32_t queued;		/* items in queue and wake-alls in done */
		uint64_t ranges_gen;		/* memslot generation last checked */
		/* pages of userfaultfd ranges seen resident, by page number */
		uint64_t resident_epoch;	/* the range list they belong to */
		hva_t resident[KVM_ASYNC_PF_RESIDENT_CACHE];
	} async_pf;

	struct kvm_vcpu_arch arch;
};

/* The live counters of a VM and of a vCPU (see binary_stats.c). */
#define kvm_vm_stat(kvm) ((struct kvm_vm_stat *)(kvm)->stats.data)
#define kvm_vcpu_stat(vcpu) ((struct kvm_vcpu_stat *)(vcpu)->stats.data)

/* --- Core services for the architecture -------------------------------- */

void kvm_get_kvm(struct kvm *kvm);
void kvm_put_kvm(struct kvm *kvm);
/* VMs alive in this process (created and not yet destroyed). */
int kvm_nr_live_vms(void);

/* Caller holds rcu_read_lock(). */
struct kvm_memslots *kvm_memslots(struct kvm *kvm, int as_id);
struct kvm_memory_slot *kvm_memslots_find(struct kvm_memslots *slots, gfn_t gfn);
/* The slot with this id in address space as_id, or NULL.  Caller holds slots_lock. */
struct kvm_memory_slot *kvm_memslot_by_id(struct kvm *kvm, int as_id, int id);

/*
 * Host address of guest-physical page gfn in address space as_id, or NULL
 * when no slot backs it (the access becomes MMIO).  Caller holds
 * rcu_read_lock() for as long as it uses the pointer.  With write, the page
 * is marked dirty when its slot logs dirty pages, and NULL is returned for
 * read-only slots.
 */
void *kvm_gfn_to_hva(struct kvm *kvm, int as_id, gfn_t gfn, bool write);
void kvm_mark_page_dirty(struct kvm *kvm, int as_id, gfn_t gfn);

/*
 * If the vCPU's last access failed for want of memory of the right kind
 * (a private gfn without guest_memfd), fill kvm_run for
 * KVM_EXIT_MEMORY_FAULT, clear the record and return true.
 */
bool kvm_vcpu_take_memory_fault(struct kvm_vcpu *vcpu);

/* Read/write guest-physical memory on the guest's behalf (takes RCU). */
int kvm_read_guest(struct kvm *kvm, int as_id, gpa_t gpa, void *data, size_t len);
int kvm_write_guest(struct kvm *kvm, int as_id, gpa_t gpa, const void *data, size_t len);

/* Make a vCPU leave the guest soon (kvm_vcpu_kick); wakes it if blocked. */
void kvm_vcpu_kick(struct kvm_vcpu *vcpu);

/*
 * Halt polling, with KVM's module parameters and their x86 defaults:
 * a halted vCPU polls for up to its halt_poll_ns before it sleeps;
 * halt_poll_ns grows (x grow, from grow_start) after short halts and
 * shrinks (/ shrink, 0 resets) after long ones, never above the VM's
 * maximum (kvm_halt_poll_ns, or the KVM_CAP_HALT_POLL value).
 */
#define KVM_HALT_POLL_NS_DEFAULT 200000
extern _Atomic unsigned int kvm_halt_poll_ns;
extern _Atomic unsigned int kvm_halt_poll_ns_grow;
extern _Atomic unsigned int kvm_halt_poll_ns_grow_start;
extern _Atomic unsigned int kvm_halt_poll_ns_shrink;

/*
 * The vCPU halted (HLT): poll, then sleep until kvm_vcpu_check_block
 * says it may go on; updates the halt statistics and halt_poll_ns.
 */
void kvm_vcpu_halt(struct kvm_vcpu *vcpu);
/* Sleep without polling (x86's wait for SIPI); true when it slept. */
bool kvm_vcpu_block(struct kvm_vcpu *vcpu);
/* Runnable, a signal or a kick: stop blocking. */
bool kvm_vcpu_check_block(struct kvm_vcpu *vcpu);
/* End a kvm_vcpu_block sleep; true when the vCPU was asleep. */
bool kvm_vcpu_wake_up(struct kvm_vcpu *vcpu);

/*
 * Make every vCPU drop its software TLB and wait until each one has left
 * the guest at least once since: on return no vCPU writes through a stale
 * (e.g. writable, unlogged) translation.  Not from a vCPU thread.
 */
void kvm_flush_remote_tlbs(struct kvm *kvm);

/*
 * The architecture runs guest code between these two, which take and drop
 * rcu_read_lock() for the memslots; the lock waits while a grace period of
 * kvm_synchronize_srcu() is in progress.
 */
void kvm_vcpu_srcu_read_lock(struct kvm_vcpu *vcpu);
void kvm_vcpu_srcu_read_unlock(struct kvm_vcpu *vcpu);

/*
 * synchronize_rcu() for kvm, as the kernel's synchronize_srcu_expedited():
 * vCPUs in the guest are kicked out and kept out until the grace period
 * ends, so that it neither waits for a guest that never exits nor for
 * liburcu's polling of a vCPU that entered the guest again.  Not from a
 * vCPU thread.
 */
void kvm_synchronize_srcu(struct kvm *kvm);

/* The vCPU whose KVM_RUN runs on this thread, or NULL. */
struct kvm_vcpu *kvm_get_running_vcpu(void);

/*
 * Fault-safe copies between skvm and client memory: 0, or -EFAULT when any
 * byte of the client range is not accessible.  Never crash on a bad pointer.
 */
int copy_from_user(void *dst, const void *user_src, size_t len);
int copy_to_user(void *user_dst, const void *src, size_t len);

/* --- Hooks the architecture provides ----------------------------------- */

int kvm_arch_init_vm(struct kvm *kvm, unsigned long type);
/* Before the vCPUs are freed: stop what raises interrupts on its own. */
void kvm_arch_sync_events(struct kvm *kvm);
void kvm_arch_destroy_vm(struct kvm *kvm);
int kvm_arch_check_extension(struct kvm *kvm, long ext);	/* kvm may be NULL */
long kvm_arch_dev_ioctl(unsigned int ioctl, void *argp);
long kvm_arch_vm_ioctl(struct kvm *kvm, unsigned int ioctl, void *argp);
int kvm_arch_vm_enable_cap(struct kvm *kvm, struct kvm_enable_cap *cap);

int kvm_arch_vcpu_precreate(struct kvm *kvm, unsigned int id);
int kvm_arch_vcpu_create(struct kvm_vcpu *vcpu);
void kvm_arch_vcpu_destroy(struct kvm_vcpu *vcpu);
long kvm_arch_vcpu_ioctl(struct kvm_vcpu *vcpu, unsigned int ioctl, void *argp);
int kvm_arch_vcpu_enable_cap(struct kvm_vcpu *vcpu, struct kvm_enable_cap *cap);
/* The vCPU can run (an interrupt, NMI, INIT or SIPI to take). */
bool kvm_arch_vcpu_runnable(struct kvm_vcpu *vcpu);
/* The guest asked not to be halt-polled. */
bool kvm_arch_no_poll(struct kvm_vcpu *vcpu);

/*
 * Run the guest on the calling thread until an exit to user space: return
 * 0 with run->exit_reason set, or a negative errno (-EINTR when kicked by a
 * signal, with exit_reason KVM_EXIT_INTR).
 */
int kvm_arch_vcpu_ioctl_run(struct kvm_vcpu *vcpu);

/* kvm_host_fault(): is this SIGSEGV/SIGBUS a vCPU's guest access? */
bool kvm_arch_host_fault(int sig, siginfo_t *si, void *ucontext);

/* A memslot update was published (generation already bumped). */
void kvm_arch_memslots_updated(struct kvm *kvm, uint64_t gen);

#endif /* SKVM_KVM_HOST_H */
