/* SPDX-License-Identifier: MIT */
/*
 * fuzz.h - the ioctl fuzzing harness: an input is a program of operations
 * on skvm's fds (see docs/fuzz-ioctl.md for the encoding).
 *
 * The harness owns every pointer it passes to skvm: guest memory, argument
 * buffers and deliberately bad pointers all come from one reservation, so
 * that neither a wrong copy_to_user nor a guest write through a memslot
 * can reach memory the harness does not own.
 */
#ifndef SKVM_FUZZ_H
#define SKVM_FUZZ_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FZ_PAGE 4096UL

/* --- Input ------------------------------------------------------------- */

/* The rest of the input; reads past its end give zeros. */
struct fz_in {
	const uint8_t *p;
	size_t n;
};

uint8_t fz_u8(struct fz_in *in);
uint16_t fz_u16(struct fz_in *in);
uint32_t fz_u32(struct fz_in *in);
uint64_t fz_u64(struct fz_in *in);
/* Copy up to len bytes into dst; returns how many the input had. */
size_t fz_bytes(struct fz_in *in, void *dst, size_t len);

/* --- Memory the harness owns --------------------------------------------- */

#define FZ_NR_GUEST_BUFS 4
#define FZ_GUEST_BUF_SIZE 0x10000UL	/* each RW, followed by PROT_NONE */
#define FZ_GUEST_BUF_STRIDE 0x20000UL
#define FZ_ARENA_SIZE 0x100000UL	/* guest buffers, a read-only page, holes */
#define FZ_RO_PAGE_OFF 0x80000UL
#define FZ_ARG_SIZE 0x40000UL		/* the main argument area */
#define FZ_AUX_SIZE 0x10000UL		/* what embedded pointers point to */

struct fz_mem {
	uint8_t *arena;			/* memslot host addresses live here */
	uint8_t *guest[FZ_NR_GUEST_BUFS];
	uint8_t *ro_page;
	uint8_t *none;			/* a PROT_NONE page, never mapped */
	uint8_t *arg;			/* FZ_ARG_SIZE, guard pages around */
	uint8_t *aux;			/* FZ_AUX_SIZE, guard pages around */
	uint8_t *stage;			/* staging copy of an argument */
};

extern struct fz_mem fz_mem;

/* --- Objects the program created ----------------------------------------- */

enum fz_kind {
	FZ_NONE,
	FZ_SYS,
	FZ_VM,
	FZ_VCPU,
	FZ_DEV,
	FZ_STATS,
	FZ_EVENT,
	FZ_OTHER,		/* a dup of an unknown kind, guest_memfd */
};

#define FZ_MAX_FDS 32
#define FZ_MAX_MAPS 16

struct fz_fd {
	int fd;
	enum fz_kind kind;
	struct kvm_run *run;	/* the harness's own map of a vCPU's page 0 */
	size_t run_len;
};

struct fz_map {
	uint8_t *p;
	size_t len;
	size_t writable;	/* bytes backed by the file and mapped writable */
};

/* Per-input limits: bound each input's work and memory. */
#define FZ_MAX_OPS 96
#define FZ_MAX_VMS 4
#define FZ_MAX_VCPUS 8
#define FZ_MAX_CREATED 24	/* devices and stats fds */

struct fz_state {
	struct fz_fd fds[FZ_MAX_FDS];
	struct fz_map maps[FZ_MAX_MAPS];
	int nr_vms, nr_vcpus, nr_created;
	int not_ours;		/* an open fd that is not skvm's */
	bool verbose;
	/*
	 * Back memslots only with RW memory (SKVM_FUZZ_SAFE_SLOTS): a guest
	 * access to host memory that is not accessible crashes the engine
	 * today (docs/fuzz-ioctl.md, finding 1), which would hide the rest.
	 */
	bool safe_slots;
};

extern struct fz_state fz;

int fz_pick_fd(struct fz_in *in, enum fz_kind kind);
void fz_add_fd(int fd, enum fz_kind kind);

/* --- ioctls (ioctls.c) ---------------------------------------------------- */

/* skvm_ioctl with the harness's bookkeeping: watchdog, caps, new fds. */
long fz_ioctl(int fd, unsigned long req, void *arg);
void fz_op_ioctl(struct fz_in *in);
void fz_op_ioctl_value(struct fz_in *in);
void fz_op_raw_ioctl(struct fz_in *in);
void fz_op_memslot(struct fz_in *in);
void fz_op_signal_mask(struct fz_in *in);
/* A host address for a memslot, from the arena or a bad one. */
uint64_t fz_pick_hva(struct fz_in *in);
/* Keep a memslot that KVM would accept inside memory the harness owns. */
uint64_t fz_clamp_slot_size(uint64_t hva, uint64_t size);

/* --- The watchdog that bounds KVM_RUN (harness.c) --------------------------- */

#define FZ_WATCHDOG_SIGNAL (SIGRTMIN + 4)
void fz_watchdog(bool arm);

/* --- Entry points ---------------------------------------------------------- */

int fz_init(void);
/* Run one input; every object is closed and released when it returns. */
void fz_run(const uint8_t *data, size_t size);

#endif /* SKVM_FUZZ_H */
