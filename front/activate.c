// SPDX-License-Identifier: MIT
/*
 * activate.c - the front sleeps until the first open of /dev/kvm.
 *
 * A process that never opens /dev/kvm must not notice libskvm: before
 * activation, every interposed call goes straight to libc, no thread is
 * started and no signal handler is touched.
 */
#include <errno.h>
#include <pthread.h>

#include "front.h"
#include "kvm_file.h"

atomic_bool front_active;

static pthread_once_t front_once = PTHREAD_ONCE_INIT;

static void front_do_activate(void)
{
	/*
	 * Raise the flag before scanning the handlers: a sigaction() racing
	 * with the scan then sees it and wraps what it installed (signal.c).
	 */
	atomic_store_explicit(&front_active, true, memory_order_release);
	front_signal_activate();
}

void front_activate(void)
{
	pthread_once(&front_once, front_do_activate);
}

int front_dev_open(int flags)
{
	int fd;

	/*
	 * Wrap the program's handlers before the core starts: whatever the
	 * core installs itself from then on is its own business.
	 */
	front_activate();
	fd = FRONT_IN_CORE(kvm_dev_open(flags));
	if (fd < 0) {
		errno = -fd;
		return -1;
	}
	return fd;
}
