// SPDX-License-Identifier: MIT
/*
 * abi_diff - the differential harness for the ABI client programs.
 *
 *   abi_diff --program PATH --launcher PATH [--require-launcher]
 *            [--expected FILE] [--preload LIBS]
 *
 * Runs PROGRAM natively against the kernel's /dev/kvm and under
 * `LAUNCHER exec PROGRAM`, and compares the two transcripts (stdout plus a
 * final "exit status" line) line by line, reporting the first difference.
 * Lines starting with '#' are notes and are not compared.
 *
 * The reference is the native run where /dev/kvm is usable; otherwise
 * --expected (a transcript recorded on a kernel /dev/kvm), if given and
 * present; otherwise the comparison is skipped.  SKVM_ABI_NO_NATIVE=1 in
 * the environment acts as if /dev/kvm were absent.
 *
 * --preload lists libraries (colon-separated) to put in LD_PRELOAD for
 * the skvm run: a sanitizer build's libskvm links the ASan runtime, which
 * must be loaded with the program's first objects, not as a dependency of
 * a preloaded library, or its malloc would not be the one the program
 * calls.  The launcher puts libskvm first and keeps these after it; ASan
 * checks that it comes first of all, so that check is turned off
 * (verify_asan_link_order=0).  The order is safe: libasan's initialiser
 * still runs before libskvm's (a dependency is initialised first) and
 * libskvm defines none of the symbols ASan intercepts except ioctl, whose
 * calls reach ASan's interceptor through libskvm's dlsym(RTLD_NEXT).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <linux/kvm.h>

static const char *program;
static const char *launcher;
static const char *expected;
static const char *preload;
static int require_launcher;
static int timeout_s = 120;

struct transcript {
	char *out;		/* stdout, then "exit status ..." */
	char *err;		/* stderr */
};

static struct transcript native;
static int native_usable = -1;

static char *slurp_fd(int fd)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	ssize_t n;

	if (!buf)
		return NULL;
	lseek(fd, 0, SEEK_SET);
	for (;;) {
		if (len + 1024 >= cap) {
			char *nb = realloc(buf, cap * 2);

			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n <= 0)
			break;
		len += n;
	}
	buf[len] = '\0';
	return buf;
}

static char *slurp_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *s;

	if (fd < 0)
		return NULL;
	s = slurp_fd(fd);
	close(fd);
	return s;
}

static char *append(char *s, const char *fmt, ...)
{
	size_t len = strlen(s);
	char tail[128];
	va_list ap;
	char *ns;

	va_start(ap, fmt);
	vsnprintf(tail, sizeof(tail), fmt, ap);
	va_end(ap);
	ns = realloc(s, len + strlen(tail) + 2);
	if (!ns)
		return s;
	if (len && ns[len - 1] != '\n')
		strcat(ns, "\n");
	strcat(ns, tail);
	return ns;
}

/* Run argv with stdout and stderr captured; kill it after timeout_s. */
static int run_captured(char *const argv[], const char *ld_preload,
			struct transcript *t)
{
	char out_path[] = "/tmp/abi_diff_out.XXXXXX";
	char err_path[] = "/tmp/abi_diff_err.XXXXXX";
	int out = mkstemp(out_path), err = mkstemp(err_path);
	struct timespec tick = { 0, 5 * 1000 * 1000 };
	long waited_ms = 0;
	int status = 0;
	pid_t pid;

	if (out < 0 || err < 0)
		return -1;
	unlink(out_path);
	unlink(err_path);
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(out, 1);
		dup2(err, 2);
		if (ld_preload) {
			const char *old = getenv("ASAN_OPTIONS");
			char opts[1024];

			snprintf(opts, sizeof(opts), "%s%sverify_asan_link_order=0",
				 old ? old : "", old && *old ? ":" : "");
			setenv("ASAN_OPTIONS", opts, 1);
			setenv("LD_PRELOAD", ld_preload, 1);
		}
		execv(argv[0], argv);
		fprintf(stderr, "abi_diff: exec %s: %s\n", argv[0],
			strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (waited_ms >= timeout_s * 1000L) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			break;
		}
		nanosleep(&tick, NULL);
		waited_ms += 5;
	}
	t->out = slurp_fd(out);
	t->err = slurp_fd(err);
	close(out);
	close(err);
	if (!t->out || !t->err)
		return -1;
	if (waited_ms >= timeout_s * 1000L)
		t->out = append(t->out, "timeout after %d s", timeout_s);
	else if (WIFEXITED(status))
		t->out = append(t->out, "exit status %d", WEXITSTATUS(status));
	else
		t->out = append(t->out, "killed by signal %d",
				WTERMSIG(status));
	return 0;
}

/* /dev/kvm is usable when it opens, speaks API 12 and makes a VM. */
static int kvm_usable(void)
{
	int sys, vm, ok = 0;

	sys = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (sys < 0)
		return 0;
	if (ioctl(sys, KVM_GET_API_VERSION, 0) == KVM_API_VERSION) {
		vm = ioctl(sys, KVM_CREATE_VM, 0);
		if (vm >= 0) {
			ok = 1;
			close(vm);
		}
	}
	close(sys);
	return ok;
}

/* The next compared line of *p (skipping '#' notes), or NULL at the end. */
static const char *next_line(const char **p, size_t *len)
{
	const char *s = *p, *e;

	while (*s) {
		e = strchr(s, '\n');
		if (!e)
			e = s + strlen(s);
		*p = *e ? e + 1 : e;
		if (*s != '#') {
			*len = e - s;
			return s;
		}
		s = *p;
	}
	return NULL;
}

static void dump(const char *title, const char *text)
{
	/* not print_error(): cmocka cuts its messages short */
	fprintf(stderr, "---- %s ----\n%s%s", title, text,
		*text && text[strlen(text) - 1] == '\n' ? "" : "\n");
}

/* Returns 0 when equal; otherwise reports the first difference. */
static int compare(const char *ref_name, const char *ref, const char *got)
{
	const char *pr = ref, *pg = got, *lr, *lg;
	size_t nr = 0, ng = 0;
	int line = 0;

	for (;;) {
		lr = next_line(&pr, &nr);
		lg = next_line(&pg, &ng);
		line++;
		if (!lr && !lg)
			return 0;
		if (lr && lg && nr == ng && !memcmp(lr, lg, nr))
			continue;
		print_error("first difference at compared line %d:\n"
			    "  %-6s %.*s\n  %-6s %.*s\n", line, ref_name,
			    lr ? (int)nr : 5, lr ? lr : "(end)", "skvm",
			    lg ? (int)ng : 5, lg ? lg : "(end)");
		return 1;
	}
}

static void test_native(void **state)
{
	char *argv[] = { (char *)program, NULL };

	if (!native_usable) {
		print_message("/dev/kvm absent or unusable: no native run\n");
		skip();
	}
	assert_int_equal(run_captured(argv, NULL, &native), 0);
	if (!strstr(native.out, "exit status 0")) {
		dump("native stdout", native.out);
		dump("native stderr", native.err);
		fail_msg("%s failed on the kernel's /dev/kvm", program);
	}
}

static void test_skvm_matches(void **state)
{
	char *argv[] = { (char *)launcher, "exec", (char *)program, NULL };
	const char *ref_name = "kvm";
	struct transcript got;
	char *ref = native.out;
	struct stat st;
	int differs;

	if (stat(launcher, &st) != 0) {
		if (require_launcher)
			fail_msg("launcher %s missing", launcher);
		print_message("launcher %s not built yet\n", launcher);
		skip();
	}
	if (!ref && expected) {
		ref = slurp_path(expected);
		ref_name = "golden";
	}
	if (!ref) {
		print_message("no reference transcript (no /dev/kvm)\n");
		skip();
	}
	assert_int_equal(run_captured(argv, preload, &got), 0);
	differs = compare(ref_name, ref, got.out);
	if (differs) {
		dump(ref_name, ref);
		dump("skvm stdout", got.out);
		dump("skvm stderr", got.err);
	}
	free(got.out);
	free(got.err);
	if (ref != native.out)
		free(ref);
	if (differs)
		fail_msg("%s: skvm transcript differs from %s", program,
			 ref_name);
}

static void usage(void)
{
	fprintf(stderr, "usage: abi_diff --program PATH --launcher PATH "
		"[--require-launcher] [--expected FILE] [--preload LIBS]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_native),
		cmocka_unit_test(test_skvm_matches),
	};
	const char *name;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--require-launcher"))
			require_launcher = 1;
		else if (i + 1 >= argc)
			usage();
		else if (!strcmp(argv[i], "--program"))
			program = argv[++i];
		else if (!strcmp(argv[i], "--launcher"))
			launcher = argv[++i];
		else if (!strcmp(argv[i], "--expected"))
			expected = argv[++i];
		else if (!strcmp(argv[i], "--preload"))
			preload = argv[++i][0] ? argv[i] : NULL;
		else
			usage();
	}
	if (!program || !launcher)
		usage();
	if (getenv("SKVM_ABI_TIMEOUT"))
		timeout_s = atoi(getenv("SKVM_ABI_TIMEOUT"));
	/* SKVM_ABI_NO_NATIVE=1 exercises the golden-transcript path. */
	native_usable = !getenv("SKVM_ABI_NO_NATIVE") && kvm_usable();

	name = strrchr(program, '/');
	return cmocka_run_group_tests_name(name ? name + 1 : program, tests,
					   NULL, NULL);
}
