/* SPDX-License-Identifier: MIT */
/* front_run.h - run a program, capture its output, get its exit code. */
#ifndef SKVM_FRONT_RUN_H
#define SKVM_FRONT_RUN_H

#include <stddef.h>

struct front_run {
	int status;		/* exit code, or 128 + signal */
	char out[8192];		/* stdout */
	char err[8192];		/* stderr */
};

/*
 * Run argv[0] (looked up in PATH) with LD_PRELOAD set to preload (unset
 * when NULL, left as is when preload is FRONT_RUN_KEEP), wait for it.
 * Returns 0, or -1 when it could not be started.
 */
#define FRONT_RUN_KEEP ((const char *)1)
int front_run(struct front_run *r, const char *preload, char *const argv[]);

/* Print a run's output, to see why a check failed. */
void front_run_dump(const struct front_run *r);

#endif
