// SPDX-License-Identifier: MIT
/*
 * term.c - the host side of the console: stdin in raw mode when it is a
 * terminal (Ctrl-A x quits, Ctrl-A Ctrl-A sends Ctrl-A), its bytes fed to
 * the UART as the guest makes room; SIGINT, SIGTERM and SIGHUP stop the VM.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#include "vmm.h"

#define TERM_ESCAPE	0x01	/* Ctrl-A */

static struct termios term_saved;
static bool term_raw;
static pthread_t term_thread;
static int term_sigfd = -1;

static void term__feed(struct vmm *vmm, uint8_t byte)
{
	while (serial__input(vmm, byte) == -EAGAIN &&
	       vmm__stopped(vmm) == VMM_RUNNING)
		usleep(1000);
}

/* Returns false at end of input. */
static bool term__read_stdin(struct vmm *vmm, bool *escaped)
{
	uint8_t buf[64];
	ssize_t n, i;

	n = read(STDIN_FILENO, buf, sizeof(buf));
	if (n < 0)
		return errno == EINTR || errno == EAGAIN;
	for (i = 0; i < n; i++) {
		if (term_raw && *escaped) {
			*escaped = false;
			if (buf[i] == 'x') {
				vmm__stop(vmm, VMM_QUIT);
				return true;
			}
		} else if (term_raw && buf[i] == TERM_ESCAPE) {
			*escaped = true;
			continue;
		}
		term__feed(vmm, buf[i]);
	}
	return n > 0;
}

static void *term__thread(void *arg)
{
	struct vmm *vmm = arg;
	struct pollfd fds[2] = {
		{ .fd = term_sigfd, .events = POLLIN },
		{ .fd = STDIN_FILENO, .events = POLLIN },
	};
	struct signalfd_siginfo si;
	bool escaped = false;
	nfds_t nfds = 2;

	while (vmm__stopped(vmm) == VMM_RUNNING) {
		if (poll(fds, nfds, 100) <= 0)
			continue;
		if ((fds[0].revents & POLLIN) &&
		    read(term_sigfd, &si, sizeof(si)) == sizeof(si))
			vmm__stop(vmm, VMM_QUIT);
		if (nfds > 1 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    !term__read_stdin(vmm, &escaped))
			nfds = 1;		/* end of input: keep running */
	}
	return NULL;
}

static void term__raw(void)
{
	struct termios t;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &term_saved))
		return;
	t = term_saved;
	cfmakeraw(&t);
	if (!tcsetattr(STDIN_FILENO, TCSANOW, &t))
		term_raw = true;
}

/* Call before any other thread exists: the signal mask is inherited. */
int term__init(struct vmm *vmm)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL))
		return -EINVAL;
	term_sigfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (term_sigfd < 0)
		return -errno;
	term__raw();
	return -pthread_create(&term_thread, NULL, term__thread, vmm);
}

/* After the VM has stopped. */
void term__exit(void)
{
	pthread_join(term_thread, NULL);
	if (term_raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &term_saved);
	close(term_sigfd);
}
