// SPDX-License-Identifier: MIT
/* front_run.c - run a program for a test, capturing stdout and stderr. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "front_run.h"

static void front_run_child(int out, int err, const char *preload,
			    char *const argv[])
{
	dup2(out, STDOUT_FILENO);
	dup2(err, STDERR_FILENO);
	if (!preload)
		unsetenv("LD_PRELOAD");
	else if (preload != FRONT_RUN_KEEP)
		setenv("LD_PRELOAD", preload, 1);
	execvp(argv[0], argv);
	fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Read both pipes to their end, so that a chatty child never blocks. */
static void front_run_drain(struct front_run *r, int out, int err)
{
	struct pollfd p[2] = { { out, POLLIN, 0 }, { err, POLLIN, 0 } };
	char *buf[2] = { r->out, r->err };
	size_t len[2] = { 0, 0 };
	int open = 2, i;
	char tmp[4096];
	size_t room;
	ssize_t n;

	while (open) {
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		for (i = 0; i < 2; i++) {
			if (p[i].fd < 0 || !p[i].revents)
				continue;
			n = read(p[i].fd, tmp, sizeof(tmp));
			if (n <= 0) {
				close(p[i].fd);
				p[i].fd = -1;
				open--;
				continue;
			}
			/* Keep the head of a long output. */
			room = sizeof(r->out) - 1 - len[i];
			if ((size_t)n > room)
				n = room;
			memcpy(buf[i] + len[i], tmp, n);
			len[i] += n;
		}
	}
	r->out[len[0]] = '\0';
	r->err[len[1]] = '\0';
}

int front_run(struct front_run *r, const char *preload, char *const argv[])
{
	int out[2], err[2], st;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	if (pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC))
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid)
		front_run_child(out[1], err[1], preload, argv);
	close(out[1]);
	close(err[1]);
	front_run_drain(r, out[0], err[0]);
	if (waitpid(pid, &st, 0) < 0)
		return -1;
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return 0;
}

void front_run_dump(const struct front_run *r)
{
	fprintf(stderr, "exit %d\n--- stdout\n%s--- stderr\n%s---\n",
		r->status, r->out, r->err);
}
