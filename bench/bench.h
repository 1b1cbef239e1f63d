/* SPDX-License-Identifier: MIT */
/* bench.h - the pieces of skvm-bench (bench.c, counts.c, spawn.c, check.c). */
#ifndef SKVM_BENCH_H
#define SKVM_BENCH_H

#include <stdbool.h>
#include <stdint.h>

#include "workload.h"

struct workload {
	const char *name;
	uint64_t (*run)(uint64_t n);
	uint64_t listed_per_iter;	/* from the assembly listing, or 0 */
	const char *what;
};

extern const struct workload bench_workloads[];
extern const int bench_n_workloads;

struct options {
	const char *dir;	/* images and skvm-bench-kvm */
	const char *client;	/* skvm-bench-kvm */
	const char *skvm;	/* the skvm launcher */
	const char *qemu;	/* qemu-system-x86_64, or NULL */
	int kvm;		/* -1: if /dev/kvm opens */
	bool long_entry;	/* skvm: start at the 64-bit entry */
	double target_s;	/* seconds per timed run */
	int runs;
	const char *only;
	bool recount;
	const char *check;
};
extern struct options opt;

enum engine { ENGINE_SKVM, ENGINE_QEMU, ENGINE_KVM };
enum { COL_SKVM, COL_QEMU, COL_NATIVE, COL_KVM, N_COL };

/* Instructions one call wl->run(n) executes: fixed + per_iter * n. */
struct insn_count {
	uint64_t fixed;
	uint64_t per_iter;
};

static inline double insn_total(const struct insn_count *ic, uint64_t n)
{
	return (double)ic->fixed + (double)ic->per_iter * (double)n;
}

/* A finished guest run. */
struct guest_out {
	double secs;
	uint64_t result;
	long maxrss_kb;
	char err[256];
};

extern const char *const engine_name[];

uint64_t now_ns(void);
int guest_run(enum engine e, const struct workload *wl, uint64_t n,
	      struct guest_out *out);
bool workload_selected(const struct workload *wl);
int native_result(const struct workload *wl, uint64_t n, uint64_t *result);

/* counts.c */
int insn_count_get(const struct workload *wl, struct insn_count *ic);
int insn_count_step(const struct workload *wl, uint64_t n, uint64_t *count);

/* spawn.c */
void setup_paths(void);
void print_setup(void);
bool engine_available(enum engine e);
int spawn_guest(enum engine e, const char *const argv[],
		struct guest_out *out);

/* check.c */
int check_engine(const char *name);

#endif
