// SPDX-License-Identifier: MIT
/*
 * bench.c - skvm-bench: guest instructions per second under skvm, QEMU TCG,
 * native execution and (optionally) the kernel's KVM, side by side.
 *
 *   skvm-bench [options]          measure and print the table
 *   skvm-bench --check ENGINE     run every workload with a tiny iteration
 *                                 count on ENGINE (native, qemu, skvm, kvm)
 *                                 and compare checksums with native; exit
 *                                 77 (skip) when ENGINE is not available
 *
 * The workloads are linked into this program, so it is also the native
 * column and the instruction counter (counts.c).  See docs/bench.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

const struct workload bench_workloads[] = {
	{ "alu", wl_alu_run, WL_ALU_INSNS_PER_ITER,
	  "register ALU loop" },
	{ "mem", wl_mem_run, WL_MEM_INSNS_PER_ITER,
	  "load/add/store, 16 MiB by 4160 B" },
	{ "call", wl_call_run, WL_CALL_INSNS_PER_ITER,
	  "nested call/ret, push/pop" },
	{ "crc32", wl_crc32_run, 0,
	  "C: CRC-32 table + bitwise" },
	{ "sort", wl_sort_run, 0,
	  "C: heapsort 1024 keys" },
};
const int bench_n_workloads = sizeof(bench_workloads) /
			      sizeof(bench_workloads[0]);

struct options opt = {
	.target_s = 1.0,
	.runs = 3,
	.kvm = -1,
};

/* What one engine measured for one workload. */
struct cell {
	bool ok;
	const char *why;	/* when !ok: n/a, fail, ... */
	uint64_t n;
	double secs;
	double mips;
	long maxrss_kb;
};

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---------------------------------------------------------------------- */
/* Native */

/* The checksum of wl(n) in a fresh process, as a guest would compute it. */
int native_result(const struct workload *wl, uint64_t n, uint64_t *result)
{
	int fds[2], st;
	pid_t pid;
	ssize_t got;

	if (pipe(fds))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		uint64_t r = wl->run(n);

		if (write(fds[1], &r, sizeof(r)) != sizeof(r))
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	got = read(fds[0], result, sizeof(*result));
	close(fds[0]);
	waitpid(pid, &st, 0);
	return got == sizeof(*result) && WIFEXITED(st) && !WEXITSTATUS(st) ?
		0 : -1;
}

static volatile uint64_t native_sink;

static double native_time(const struct workload *wl, uint64_t n)
{
	uint64_t t0 = now_ns();

	native_sink = wl->run(n);
	return (now_ns() - t0) / 1e9;
}

static void native_measure_here(const struct workload *wl,
				const struct insn_count *ic, struct cell *c)
{
	uint64_t n = 1;
	double t, best = 1e30;
	int i;

	native_time(wl, 1);		/* first touch of the buffers */
	while ((t = native_time(wl, n)) < opt.target_s / 10 && n < (1ull << 40))
		n *= 4;
	n = (uint64_t)(n * (opt.target_s / (t > 1e-6 ? t : 1e-6)));
	if (!n)
		n = 1;
	for (i = 0; i < opt.runs; i++) {
		t = native_time(wl, n);
		if (t < best)
			best = t;
	}
	c->ok = true;
	c->n = n;
	c->secs = best;
	c->mips = insn_total(ic, n) / best / 1e6;
}

/*
 * In a child: the workloads keep state in static buffers (mem adds into
 * its buffer), and native_result() relies on this process never having
 * run one, so that its children start from the same zeroed state a guest
 * does.
 */
static void measure_native(const struct workload *wl,
			   const struct insn_count *ic, struct cell *c)
{
	int fds[2], st;
	pid_t pid;

	memset(c, 0, sizeof(*c));
	c->why = "fail";
	if (pipe(fds))
		return;
	pid = fork();
	if (!pid) {
		native_measure_here(wl, ic, c);
		_exit(write(fds[1], c, sizeof(*c)) == sizeof(*c) ? 0 : 1);
	}
	close(fds[1]);
	if (pid < 0 || read(fds[0], c, sizeof(*c)) != sizeof(*c))
		c->ok = false;
	close(fds[0]);
	if (pid > 0)
		waitpid(pid, &st, 0);
}

/* ---------------------------------------------------------------------- */
/* Emulated engines */

const char *const engine_name[] = {
	[ENGINE_SKVM] = "skvm", [ENGINE_QEMU] = "qemu", [ENGINE_KVM] = "kvm",
};

/*
 * One guest run of wl with n iterations on engine e.  For the KVM
 * clients, secs is the time between the guest's markers; for QEMU it is
 * the wall time of the whole process (the caller subtracts n = 0).
 */
int guest_run(enum engine e, const struct workload *wl, uint64_t n,
		     struct guest_out *out)
{
	char image[PATH_MAX], nbuf[32];
	const char *argv[24];
	int i = 0;

	snprintf(image, sizeof(image), "%s/bench-%s.elf", opt.dir, wl->name);
	snprintf(nbuf, sizeof(nbuf), "%llu", (unsigned long long)n);
	switch (e) {
	case ENGINE_SKVM:
		argv[i++] = opt.skvm;
		argv[i++] = "exec";
		/* fall through */
	case ENGINE_KVM:
		argv[i++] = opt.client;
		if (opt.long_entry && e == ENGINE_SKVM)
			argv[i++] = "-l";
		argv[i++] = image;
		argv[i++] = nbuf;
		break;
	case ENGINE_QEMU:
		snprintf(nbuf, sizeof(nbuf), "n=%llu", (unsigned long long)n);
		argv[i++] = opt.qemu;
		argv[i++] = "-accel";
		argv[i++] = "tcg";
		argv[i++] = "-nodefaults";
		argv[i++] = "-display";
		argv[i++] = "none";
		argv[i++] = "-no-reboot";
		argv[i++] = "-m";
		argv[i++] = "128M";
		argv[i++] = "-debugcon";
		argv[i++] = "stdio";
		argv[i++] = "-device";
		argv[i++] = "isa-debug-exit,iobase=0xf4,iosize=4";
		argv[i++] = "-kernel";
		argv[i++] = image;
		argv[i++] = "-append";
		argv[i++] = nbuf;
		break;
	}
	argv[i] = NULL;
	return spawn_guest(e, argv, out);
}

/* Smallest of opt.runs runs; QEMU's boot and exit cost subtracted. */
static int guest_best(enum engine e, const struct workload *wl, uint64_t n,
		      int runs, struct guest_out *best)
{
	struct guest_out o, zero;
	double base = 1e30;
	int i;

	best->secs = 1e30;
	for (i = 0; i < runs; i++) {
		if (guest_run(e, wl, n, &o))
			return -1;
		if (o.secs < best->secs)
			*best = o;
		if (e != ENGINE_QEMU)
			continue;
		if (guest_run(e, wl, 0, &zero))
			return -1;
		if (zero.secs < base)
			base = zero.secs;
	}
	if (e == ENGINE_QEMU)
		best->secs -= base;
	return 0;
}

static void measure_guest(enum engine e, const struct workload *wl,
			  const struct insn_count *ic, double probe_insns,
			  struct cell *c)
{
	struct guest_out o;
	uint64_t n, expect;
	int tries;

	c->ok = false;
	c->why = "fail";
	n = (uint64_t)(probe_insns / ic->per_iter) + 1;
	/* Probe: grow n until the timed part is long enough to scale from. */
	for (tries = 0; ; tries++) {
		if (guest_best(e, wl, n, 1, &o)) {
			fprintf(stderr, "  %s/%s: %s\n", engine_name[e],
				wl->name, o.err);
			return;
		}
		if (o.secs >= opt.target_s / 20 || tries == 4)
			break;
		n *= 8;
	}
	/* Scale to the target; again if noise made the estimate short. */
	for (tries = 0; tries < 3; tries++) {
		n = (uint64_t)(n * opt.target_s / (o.secs > 1e-6 ? o.secs : 1e-6));
		if (!n)
			n = 1;
		if (guest_best(e, wl, n, e == ENGINE_KVM ? 1 : opt.runs, &o)) {
			fprintf(stderr, "  %s/%s: %s\n", engine_name[e],
				wl->name, o.err);
			return;
		}
		if (o.secs >= opt.target_s / 2)
			break;
	}
	if (native_result(wl, n, &expect) || expect != o.result) {
		fprintf(stderr, "  %s/%s: n=%llu checksum %016llx, native "
			"%016llx\n", engine_name[e], wl->name,
			(unsigned long long)n, (unsigned long long)o.result,
			(unsigned long long)expect);
		c->why = "WRONG";
		return;
	}
	c->ok = o.secs > 0;
	c->n = n;
	c->secs = o.secs;
	c->mips = insn_total(ic, n) / o.secs / 1e6;
	c->maxrss_kb = o.maxrss_kb;
}

/* ---------------------------------------------------------------------- */
/* Table */

static void fmt_mips(char *buf, size_t len, const struct cell *c)
{
	if (!c->ok)
		snprintf(buf, len, "%s", c->why ? c->why : "n/a");
	else
		snprintf(buf, len, "%.1f", c->mips);
}

static void fmt_ratio(char *buf, size_t len, const struct cell *a,
		      const struct cell *b)
{
	if (!a->ok || !b->ok)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.3f", a->mips / b->mips);
}

static void print_header(void)
{
	printf("%-6s %12s %10s %10s %10s %9s %11s %10s %9s\n",
	       "work", "insns/iter", "skvm MIPS", "TCG MIPS", "nat MIPS",
	       "skvm/TCG", "skvm/native", "KVM* MIPS", "skvm RSS");
}

static void print_row(const struct workload *wl, const struct insn_count *ic,
		      const struct cell *c)
{
	char s[16], q[16], nat[16], r1[16], r2[16], k[16], rss[16];

	fmt_mips(s, sizeof(s), &c[COL_SKVM]);
	fmt_mips(q, sizeof(q), &c[COL_QEMU]);
	fmt_mips(nat, sizeof(nat), &c[COL_NATIVE]);
	fmt_mips(k, sizeof(k), &c[COL_KVM]);
	fmt_ratio(r1, sizeof(r1), &c[COL_SKVM], &c[COL_QEMU]);
	fmt_ratio(r2, sizeof(r2), &c[COL_SKVM], &c[COL_NATIVE]);
	if (c[COL_SKVM].ok)
		snprintf(rss, sizeof(rss), "%.1fM",
			 c[COL_SKVM].maxrss_kb / 1024.0);
	else
		snprintf(rss, sizeof(rss), "-");
	printf("%-6s %12llu %10s %10s %10s %9s %11s %10s %9s\n", wl->name,
	       (unsigned long long)ic->per_iter, s, q, nat, r1, r2, k, rss);
	fflush(stdout);
}

static void print_footer(const struct insn_count *ic, struct cell (*c)[N_COL])
{
	static const char *col_name[N_COL] = {
		[COL_SKVM] = "skvm", [COL_QEMU] = "TCG",
		[COL_NATIVE] = "native", [COL_KVM] = "KVM*",
	};
	int i, j;

	printf("\niterations and seconds per column (instructions = a + b*n):\n");
	for (i = 0; i < bench_n_workloads; i++) {
		if (!workload_selected(&bench_workloads[i]))
			continue;
		printf("  %-6s a=%llu b=%llu", bench_workloads[i].name,
		       (unsigned long long)ic[i].fixed,
		       (unsigned long long)ic[i].per_iter);
		for (j = 0; j < N_COL; j++)
			if (c[i][j].ok)
				printf("  %s n=%llu %.3fs", col_name[j],
				       (unsigned long long)c[i][j].n,
				       c[i][j].secs);
		printf("\n");
	}
	printf("\nKVM* = this host's /dev/kvm, which emulates guest code in "
	       "software (no VT-x/SVM behind it); one run per workload.\n");
}

/* ---------------------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr,
"usage: skvm-bench [--dir DIR] [--skvm PATH] [--qemu PATH|none]\n"
"                  [--kvm|--no-kvm] [--long] [--time SECONDS] [--runs R]\n"
"                  [--only NAME,...] [--recount]\n"
"       skvm-bench --check native|qemu|skvm|kvm [same options]\n");
	exit(1);
}

static void parse_args(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "skvm", required_argument, NULL, 's' },
		{ "qemu", required_argument, NULL, 'q' },
		{ "kvm", no_argument, NULL, 'k' },
		{ "no-kvm", no_argument, NULL, 'K' },
		{ "long", no_argument, NULL, 'l' },
		{ "time", required_argument, NULL, 't' },
		{ "runs", required_argument, NULL, 'r' },
		{ "only", required_argument, NULL, 'o' },
		{ "recount", no_argument, NULL, 'R' },
		{ "check", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (ch) {
		case 'd': opt.dir = optarg; break;
		case 's': opt.skvm = optarg; break;
		case 'q': opt.qemu = optarg; break;
		case 'k': opt.kvm = 1; break;
		case 'K': opt.kvm = 0; break;
		case 'l': opt.long_entry = true; break;
		case 't': opt.target_s = atof(optarg); break;
		case 'r': opt.runs = atoi(optarg); break;
		case 'o': opt.only = optarg; break;
		case 'R': opt.recount = true; break;
		case 'c': opt.check = optarg; break;
		default: usage();
		}
	}
	if (optind != argc || opt.target_s <= 0 || opt.runs < 1)
		usage();
	setup_paths();
}

bool workload_selected(const struct workload *wl)
{
	const char *p = opt.only;
	size_t len = strlen(wl->name);

	if (!p)
		return true;
	for (; p; p = strchr(p, ','), p = p ? p + 1 : NULL)
		if (!strncmp(p, wl->name, len) && (!p[len] || p[len] == ','))
			return true;
	return false;
}

static void measure_all(void)
{
	struct insn_count ic[sizeof(bench_workloads) /
			     sizeof(bench_workloads[0])];
	struct cell c[sizeof(bench_workloads) / sizeof(bench_workloads[0])]
		[N_COL];
	int i;

	memset(c, 0, sizeof(c));
	print_setup();
	for (i = 0; i < bench_n_workloads; i++)
		if (workload_selected(&bench_workloads[i]) &&
		    insn_count_get(&bench_workloads[i], &ic[i]))
			exit(1);
	printf("\n");
	print_header();
	for (i = 0; i < bench_n_workloads; i++) {
		const struct workload *wl = &bench_workloads[i];

		if (!workload_selected(wl))
			continue;
		measure_native(wl, &ic[i], &c[i][COL_NATIVE]);
		if (engine_available(ENGINE_SKVM))
			measure_guest(ENGINE_SKVM, wl, &ic[i], 1e6,
				      &c[i][COL_SKVM]);
		if (engine_available(ENGINE_QEMU))
			measure_guest(ENGINE_QEMU, wl, &ic[i], 1e8,
				      &c[i][COL_QEMU]);
		if (engine_available(ENGINE_KVM))
			measure_guest(ENGINE_KVM, wl, &ic[i], 1e5,
				      &c[i][COL_KVM]);
		print_row(wl, &ic[i], c[i]);
	}
	print_footer(ic, c);
}

int main(int argc, char **argv)
{
	parse_args(argc, argv);
	if (opt.check)
		return check_engine(opt.check);
	measure_all();
	return 0;
}
