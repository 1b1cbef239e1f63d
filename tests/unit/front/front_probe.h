/* SPDX-License-Identifier: MIT */
/* front_probe.h - checks for front_probe, which runs under LD_PRELOAD. */
#ifndef SKVM_FRONT_PROBE_H
#define SKVM_FRONT_PROBE_H

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "%s:%d: %s failed (errno %s)\n",\
				__FILE__, __LINE__, #cond,		\
				strerror(errno));			\
			exit(1);					\
		}							\
	} while (0)

#define CHECK_EQ(a, b)							\
	do {								\
		long long a_ = (a), b_ = (b);				\
		if (a_ != b_) {						\
			fprintf(stderr, "%s:%d: %s == %lld, want %lld "	\
				"(errno %s)\n", __FILE__, __LINE__, #a,	\
				a_, b_, strerror(errno));		\
			exit(1);					\
		}							\
	} while (0)

/* call fails with -1 and errno err. */
#define CHECK_ERR(call, err)						\
	do {								\
		errno = 0;						\
		CHECK_EQ((call), -1);					\
		CHECK_EQ(errno, (err));					\
	} while (0)

#define CHECK_ERR_PTR(call, err)					\
	do {								\
		errno = 0;						\
		CHECK((call) == MAP_FAILED);				\
		CHECK_EQ(errno, (err));					\
	} while (0)

/* front_probe_fortify.c, built with _FORTIFY_SOURCE: __open_2 & co. */
int probe_fortified_open(const char *path, int flags);
int probe_fortified_openat(int dirfd, const char *path, int flags);

#endif
