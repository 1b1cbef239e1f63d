// SPDX-License-Identifier: MIT
/*
 * counts.c - how many instructions a workload executes, counted exactly.
 *
 * This host has no usable hardware instruction counter (`perf stat -e
 * instructions:u true` says <not supported> inside a VM), so we count by
 * single-stepping the native workload under ptrace: a forked child calls
 * wl->run(n) and the parent counts PTRACE_SINGLESTEP traps from the
 * function's first instruction to its RET, inclusive.  The guest images
 * link the same object code, and each iteration does the same work, so
 * a call executes fixed + per_iter * n instructions; two counts (n = 0
 * and n = 1) give both terms.  For the assembly loops a third count
 * (n = 2) checks the line and per_iter must equal the listing's figure,
 * which checks the counter itself.
 *
 * A single step costs ~40 us on this machine's VM, so the counts are
 * cached next to the images, keyed by this executable's size and mtime.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

static int step(pid_t pid, struct user_regs_struct *regs)
{
	int st;

	if (ptrace(PTRACE_SINGLESTEP, pid, NULL, NULL) ||
	    waitpid(pid, &st, 0) != pid || !WIFSTOPPED(st) ||
	    ptrace(PTRACE_GETREGS, pid, NULL, regs))
		return -1;
	return 0;
}

int insn_count_step(const struct workload *wl, uint64_t n, uint64_t *count)
{
	uint64_t entry = (uintptr_t)wl->run, ret, sp;
	struct user_regs_struct regs;
	int st, err = -1;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		ptrace(PTRACE_TRACEME, 0, NULL, NULL);
		raise(SIGSTOP);
		wl->run(n);
		_exit(0);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFSTOPPED(st))
		goto out;
	do {
		if (step(pid, &regs))
			goto out;
	} while (regs.rip != entry);
	sp = regs.rsp;
	errno = 0;
	ret = (uint64_t)ptrace(PTRACE_PEEKDATA, pid, (void *)sp, NULL);
	if (errno)
		goto out;
	*count = 0;
	do {
		if (step(pid, &regs))
			goto out;
		++*count;
	} while (regs.rip != ret || regs.rsp != sp + 8);
	err = 0;
out:
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return err;
}

static int count_fresh(const struct workload *wl, struct insn_count *ic)
{
	uint64_t c0, c1, c2;

	if (insn_count_step(wl, 0, &c0) || insn_count_step(wl, 1, &c1) ||
	    insn_count_step(wl, wl->listed_per_iter ? 2 : 1, &c2)) {
		fprintf(stderr, "%s: counting by single-step failed\n",
			wl->name);
		return -1;
	}
	if (wl->listed_per_iter && c2 - c1 != c1 - c0) {
		fprintf(stderr, "%s: counts %llu %llu %llu are not linear\n",
			wl->name, (unsigned long long)c0,
			(unsigned long long)c1, (unsigned long long)c2);
		return -1;
	}
	ic->fixed = c0;
	ic->per_iter = c1 - c0;
	if (wl->listed_per_iter && ic->per_iter != wl->listed_per_iter) {
		fprintf(stderr, "%s: counted %llu per iteration, listing says "
			"%llu\n", wl->name, (unsigned long long)ic->per_iter,
			(unsigned long long)wl->listed_per_iter);
		return -1;
	}
	return 0;
}

static void cache_path(char *buf, size_t len)
{
	snprintf(buf, len, "%s/bench-counts.txt", opt.dir);
}

/* "SIZE MTIME" of this executable: the counts depend on its code only. */
static void self_key(char *buf, size_t len)
{
	struct stat st;

	if (stat("/proc/self/exe", &st))
		memset(&st, 0, sizeof(st));
	snprintf(buf, len, "%lld %lld", (long long)st.st_size,
		 (long long)st.st_mtime);
}

static int cache_lookup(const struct workload *wl, struct insn_count *ic)
{
	char path[4096], key[64], line[256], name[32], k1[32], k2[32];
	unsigned long long a, b;
	FILE *f;
	int found = -1;

	cache_path(path, sizeof(path));
	self_key(key, sizeof(key));
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (found && fgets(line, sizeof(line), f)) {
		char cur[64];

		if (sscanf(line, "%31s %31s %31s %llu %llu", name, k1, k2, &a,
			   &b) != 5)
			continue;
		snprintf(cur, sizeof(cur), "%s %s", k1, k2);
		if (strcmp(name, wl->name) || strcmp(cur, key))
			continue;
		ic->fixed = a;
		ic->per_iter = b;
		found = 0;
	}
	fclose(f);
	return found;
}

static void cache_store(const struct workload *wl, const struct insn_count *ic)
{
	char path[4096], key[64];
	FILE *f;

	cache_path(path, sizeof(path));
	self_key(key, sizeof(key));
	f = fopen(path, "a");
	if (!f)
		return;
	fprintf(f, "%s %s %llu %llu\n", wl->name, key,
		(unsigned long long)ic->fixed,
		(unsigned long long)ic->per_iter);
	fclose(f);
}

int insn_count_get(const struct workload *wl, struct insn_count *ic)
{
	uint64_t t0;

	if (!opt.recount && !cache_lookup(wl, ic))
		return 0;
	fprintf(stderr, "counting %s instructions by single-step...", wl->name);
	t0 = now_ns();
	if (count_fresh(wl, ic))
		return -1;
	fprintf(stderr, " %llu + %llu/iter (%.1fs)\n",
		(unsigned long long)ic->fixed,
		(unsigned long long)ic->per_iter, (now_ns() - t0) / 1e9);
	cache_store(wl, ic);
	return 0;
}
