// SPDX-License-Identifier: MIT
/*
 * init.c - /init of the default guest's initramfs: say that user space
 * was reached, then power the machine off.  Linked statically.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/reboot.h>
#include <unistd.h>

static const char msg[] = "skvm: guest userspace reached\n";

int main(void)
{
	int fd = 1;

	/* Without /dev/console the kernel gives init no stdout. */
	if (write(fd, "", 0) < 0) {
		fd = open("/dev/console", O_WRONLY | O_NOCTTY);
		if (fd < 0)
			fd = open("/dev/ttyS0", O_WRONLY | O_NOCTTY);
	}
	if (fd >= 0)
		write(fd, msg, strlen(msg));
	sync();
	reboot(RB_POWER_OFF);
	/* Not reached; if it were, init exiting would panic the kernel. */
	for (;;)
		pause();
}
