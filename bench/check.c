// SPDX-License-Identifier: MIT
/*
 * check.c - skvm-bench --check ENGINE: the smoke test behind the meson
 * suite 'bench-smoke'.  It checks that things run and compute the right
 * checksums with tiny iteration counts; it never looks at a time.
 */
#include <stdio.h>
#include <string.h>

#include "bench.h"

#define EXIT_SKIP	77

/* Tiny iteration counts: a few milliseconds even at 1 MIPS. */
static uint64_t check_n(const struct workload *wl)
{
	return wl->listed_per_iter ? 1000 : 2;
}

static int check_native(void)
{
	static const uint8_t msg[] = "123456789";
	struct insn_count ic;
	uint64_t r1, r2;
	int i, bad = 0;

	wl_crc32_init();
	if (wl_crc32_table(0, msg, 9) != 0xcbf43926 ||
	    wl_crc32_bitwise(0, msg, 9) != 0xcbf43926) {
		fprintf(stderr, "crc32 of \"123456789\" is not cbf43926\n");
		bad = 1;
	}
	for (i = 0; i < bench_n_workloads; i++) {
		const struct workload *wl = &bench_workloads[i];

		if (native_result(wl, check_n(wl), &r1) ||
		    native_result(wl, check_n(wl), &r2) || r1 != r2) {
			fprintf(stderr, "%s: native result not reproducible\n",
				wl->name);
			bad = 1;
		}
		/* The counter against the listings of the assembly loops. */
		if (wl->listed_per_iter && opt.recount &&
		    insn_count_get(wl, &ic))
			bad = 1;
		printf("native %-6s n=%llu result=%016llx\n", wl->name,
		       (unsigned long long)check_n(wl),
		       (unsigned long long)r1);
	}
	return bad;
}

static int check_guest(enum engine e)
{
	struct guest_out o;
	uint64_t expect;
	int i, bad = 0, ran = 0;

	if (!engine_available(e)) {
		printf("%s: not available, skipped\n", engine_name[e]);
		return EXIT_SKIP;
	}
	for (i = 0; i < bench_n_workloads; i++) {
		const struct workload *wl = &bench_workloads[i];
		uint64_t n = check_n(wl);

		if (!workload_selected(wl))
			continue;
		if (native_result(wl, n, &expect))
			return 1;
		if (guest_run(e, wl, n, &o)) {
			printf("%s %-6s did not complete: %s\n",
			       engine_name[e], wl->name, o.err);
			/* skvm: the engine may not run this workload yet. */
			if (e != ENGINE_SKVM)
				bad = 1;
			continue;
		}
		ran++;
		printf("%s %-6s n=%llu result=%016llx %s\n", engine_name[e],
		       wl->name, (unsigned long long)n,
		       (unsigned long long)o.result,
		       o.result == expect ? "ok" : "WRONG");
		if (o.result != expect)
			bad = 1;
	}
	if (!bad && !ran)
		return EXIT_SKIP;
	return bad;
}

int check_engine(const char *name)
{
	if (!strcmp(name, "native"))
		return check_native();
	if (!strcmp(name, "qemu"))
		return check_guest(ENGINE_QEMU);
	if (!strcmp(name, "skvm"))
		return check_guest(ENGINE_SKVM);
	if (!strcmp(name, "kvm"))
		return check_guest(ENGINE_KVM);
	fprintf(stderr, "unknown engine %s\n", name);
	return 1;
}
