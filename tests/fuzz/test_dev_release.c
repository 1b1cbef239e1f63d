// SPDX-License-Identifier: MIT
/*
 * test_dev_release.c - a closed system fd is forgotten by the registry.
 *
 * Found by the ioctl fuzzer: every skvm_open() left its file registered
 * after close(), so each input ended with more allocations than frees and
 * libFuzzer turned its per-input leak check off.  Open and close many
 * system fds; the heap must come back to where it was.
 */
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <unistd.h>

#include "skvm.h"

#define TEST_OPENS 4000
/* far less than TEST_OPENS registry entries would take */
#define TEST_SLACK (64 * 1024)

static size_t heap_in_use(void)
{
	return mallinfo2().uordblks;
}

static int open_close(int n)
{
	for (int i = 0; i < n; i++) {
		int fd = skvm_open(O_RDWR | O_CLOEXEC);

		if (fd < 0)
			return -1;
		close(fd);
	}
	return 0;
}

int main(void)
{
	size_t before, after = 0;

	/* the first open starts the watcher thread and sizes the tables */
	if (open_close(16))
		return 2;
	usleep(100000);
	before = heap_in_use();
	if (open_close(TEST_OPENS))
		return 2;
	/* releases arrive on the watcher thread */
	for (int i = 0; i < 200; i++) {
		after = heap_in_use();
		if (after < before + TEST_SLACK)
			return 0;
		usleep(10000);
	}
	fprintf(stderr, "heap grew by %zu bytes over %d opens\n",
		after - before, TEST_OPENS);
	return 1;
}
