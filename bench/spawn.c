// SPDX-License-Identifier: MIT
/*
 * spawn.c - finding the engines and running one guest under one of them.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define OUT_MAX		65536
#define RUN_TIMEOUT_S	300

static char self_dir[PATH_MAX];
static char client_path[PATH_MAX + 32], skvm_path[PATH_MAX + 32];
static char qemu_path[PATH_MAX];

static const char *find_in_path(const char *name)
{
	const char *p = getenv("PATH");
	size_t len;

	for (; p && *p; p += len + (p[len] == ':')) {
		len = strcspn(p, ":");
		if (!len)
			continue;
		snprintf(qemu_path, sizeof(qemu_path), "%.*s/%s", (int)len, p,
			 name);
		if (!access(qemu_path, X_OK))
			return qemu_path;
	}
	return NULL;
}

void setup_paths(void)
{
	ssize_t len;
	char *slash;

	if (!opt.dir) {
		len = readlink("/proc/self/exe", self_dir, sizeof(self_dir) - 1);
		if (len < 0) {
			perror("/proc/self/exe");
			exit(1);
		}
		self_dir[len] = 0;
		slash = strrchr(self_dir, '/');
		if (slash)
			*slash = 0;
		opt.dir = self_dir;
	}
	snprintf(client_path, sizeof(client_path), "%s/skvm-bench-kvm",
		 opt.dir);
	opt.client = client_path;
	if (!opt.skvm) {
		snprintf(skvm_path, sizeof(skvm_path), "%s/../skvm", opt.dir);
		opt.skvm = skvm_path;
	}
	if (!opt.qemu)
		opt.qemu = find_in_path("qemu-system-x86_64");
	else if (!strcmp(opt.qemu, "none"))
		opt.qemu = NULL;
}

bool engine_available(enum engine e)
{
	int fd;

	switch (e) {
	case ENGINE_SKVM:
		return !access(opt.skvm, X_OK) && !access(opt.client, X_OK);
	case ENGINE_QEMU:
		return opt.qemu && !access(opt.qemu, X_OK);
	case ENGINE_KVM:
		if (opt.kvm >= 0)
			return opt.kvm;
		fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
		if (fd >= 0)
			close(fd);
		opt.kvm = fd >= 0;
		return opt.kvm;
	}
	return false;
}

void print_setup(void)
{
	char model[256] = "?", line[512];
	struct utsname u;
	time_t t = time(NULL);
	FILE *f;

	f = fopen("/proc/cpuinfo", "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "model name : %255[^\n]", model) == 1)
			break;
	if (f)
		fclose(f);
	uname(&u);
	printf("skvm-bench  %s", ctime(&t));
	printf("host: %s, %s %s, %ld CPUs\n", model, u.sysname, u.release,
	       sysconf(_SC_NPROCESSORS_ONLN));
	printf("skvm: %s exec %s%s\n",
	       engine_available(ENGINE_SKVM) ? opt.skvm : "(not built)",
	       opt.client, opt.long_entry ? " -l" : "");
	printf("TCG:  %s\n", engine_available(ENGINE_QEMU) ? opt.qemu :
	       "(qemu-system-x86_64 not found)");
	printf("KVM*: %s\n", engine_available(ENGINE_KVM) ? "/dev/kvm" :
	       "(not measured)");
	printf("%.2f s per timed run, best of %d\n", opt.target_s, opt.runs);
	fflush(stdout);
}

/* The last non-empty line of s, for error messages. */
static void last_line(const char *s, char *buf, size_t len)
{
	const char *end = s + strlen(s), *start;

	while (end > s && end[-1] == '\n')
		end--;
	for (start = end; start > s && start[-1] != '\n'; start--)
		;
	snprintf(buf, len, "%.*s", (int)(end - start), start);
}

static int parse_output(enum engine e, int status, double wall, char *buf,
			struct guest_out *out)
{
	unsigned long long ns, r, n;
	char tail[200], *p;
	long rss;

	last_line(buf, tail, sizeof(tail));
	if (!WIFEXITED(status)) {
		snprintf(out->err, sizeof(out->err), "killed by signal %d: %s",
			 WTERMSIG(status), tail);
		return -1;
	}
	if (e == ENGINE_QEMU) {
		p = strstr(buf, "result=");
		if (WEXITSTATUS(status) != 1 || !p ||
		    sscanf(p, "result=%llx", &r) != 1) {
			snprintf(out->err, sizeof(out->err), "exit %d: %s",
				 WEXITSTATUS(status), tail);
			return -1;
		}
		out->secs = wall;
		out->result = r;
		return 0;
	}
	for (p = buf; (p = strstr(p, "n=")); p++)
		if ((p == buf || p[-1] == '\n') &&
		    sscanf(p, "n=%llu ns=%llu result=%llx maxrss_kb=%ld", &n,
			   &ns, &r, &rss) == 4)
			break;
	if (WEXITSTATUS(status) || !p) {
		snprintf(out->err, sizeof(out->err), "exit %d: %s",
			 WEXITSTATUS(status), tail);
		return -1;
	}
	out->secs = ns / 1e9;
	out->result = r;
	out->maxrss_kb = rss;
	return 0;
}

static void child_exec(const char *const argv[], int fd)
{
	int null = open("/dev/null", O_RDONLY);

	dup2(null, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	execv(argv[0], (char *const *)argv);
	fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

int spawn_guest(enum engine e, const char *const argv[], struct guest_out *out)
{
	static char buf[OUT_MAX];
	uint64_t t0, deadline;
	size_t len = 0;
	struct pollfd pfd;
	int fds[2], status;
	ssize_t got;
	pid_t pid;

	memset(out, 0, sizeof(*out));
	if (pipe2(fds, O_CLOEXEC))
		return -1;
	t0 = now_ns();
	deadline = t0 + RUN_TIMEOUT_S * 1000000000ull;
	pid = fork();
	if (!pid)
		child_exec(argv, fds[1]);
	close(fds[1]);
	pfd.fd = fds[0];
	pfd.events = POLLIN;
	for (;;) {
		if (now_ns() > deadline) {
			kill(pid, SIGKILL);
			break;
		}
		if (poll(&pfd, 1, 1000) <= 0)
			continue;
		if (len == sizeof(buf) - 1)
			len = 0;	/* keep the tail */
		got = read(fds[0], buf + len, sizeof(buf) - 1 - len);
		if (got <= 0)
			break;
		len += got;
	}
	buf[len] = 0;
	close(fds[0]);
	waitpid(pid, &status, 0);
	return parse_output(e, status, (now_ns() - t0) / 1e9, buf, out);
}
