// SPDX-License-Identifier: MIT
/*
 * front_probe_fortify.c - open() as a program built with _FORTIFY_SOURCE
 * calls it: with flags the compiler cannot see, glibc's inline wrapper
 * calls __open_2/__openat_2 (or the 64 versions), which we interpose too.
 */
#include <fcntl.h>

#include "front_probe.h"

#if !defined(__OPTIMIZE__) || !defined(_FORTIFY_SOURCE)
#error "build this file optimised, with _FORTIFY_SOURCE"
#endif

int probe_fortified_open(const char *path, int flags)
{
	return open(path, flags);
}

int probe_fortified_openat(int dirfd, const char *path, int flags)
{
	return openat(dirfd, path, flags);
}
