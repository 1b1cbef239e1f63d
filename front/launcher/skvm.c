// SPDX-License-Identifier: MIT
/*
 * skvm.c - the skvm command.
 *
 *   skvm exec PROGRAM [ARGS]   run PROGRAM with libskvm preloaded
 *   skvm run [OPTIONS]         boot a guest with skvm's own VMM
 *   skvm caps                  list the capabilities skvm reports
 *   skvm version | help
 *
 * One function per subcommand, dispatched from a table.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kvm_compat.h"
#include "skvm.h"

#define SKVM_LIB_NAME "libskvm.so"

/* Exit codes: as a shell reports a command it cannot run. */
#define SKVM_EXIT_USAGE 2
#define SKVM_EXIT_NOEXEC 126
#define SKVM_EXIT_NOTFOUND 127

static const char skvm_usage[] =
	"usage: skvm COMMAND [ARGS]\n"
	"\n"
	"commands:\n"
	"  exec PROGRAM [ARGS]  run PROGRAM with skvm serving /dev/kvm in it\n"
	"  run [OPTIONS]        boot a guest with skvm's own VMM\n"
	"  caps                 list the capabilities skvm reports\n"
	"  version              print skvm's version\n"
	"  help                 print this help\n";

static int skvm_usage_error(const char *why)
{
	if (why)
		fprintf(stderr, "skvm: %s\n", why);
	fputs(skvm_usage, stderr);
	return SKVM_EXIT_USAGE;
}

#define SKVM_VMM_NAME "skvm-vmm"

/* --- Finding libskvm.so ---------------------------------------------------- */

static bool skvm_lib_at(char *out, const char *dir, const char *rel)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s" SKVM_LIB_NAME, dir, rel) >=
	    (int)sizeof(path))
		return false;
	return access(path, R_OK) == 0 && realpath(path, out) != NULL;
}

/* The prefix of an installed launcher: dir minus its trailing bindir. */
static bool skvm_prefix_of(const char *dir, char *prefix)
{
	size_t dlen = strlen(dir), blen = strlen(SKVM_BINDIR);

	if (SKVM_BINDIR[0] == '/' || blen >= dlen ||
	    strcmp(dir + dlen - blen, SKVM_BINDIR) || dir[dlen - blen - 1] != '/')
		return false;
	memcpy(prefix, dir, dlen - blen - 1);
	prefix[dlen - blen - 1] = '\0';
	return true;
}

/*
 * libskvm.so beside the launcher (the build tree), or in the libdir of the
 * prefix it is installed in; failing both, the libskvm this process runs.
 */
static bool skvm_find_lib(char *out)
{
	char exe[PATH_MAX], prefix[PATH_MAX], *slash;
	ssize_t n;
	Dl_info info;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			if (skvm_lib_at(out, exe, ""))
				return true;
			if (skvm_prefix_of(exe, prefix)) {
				strncat(prefix, "/" SKVM_LIBDIR,
					sizeof(prefix) - strlen(prefix) - 1);
				if (skvm_lib_at(out, prefix, ""))
					return true;
			}
			if (skvm_lib_at(out, exe, "../lib/"))
				return true;
		}
	}
	return dladdr((void *)skvm_open, &info) && info.dli_fname &&
	       realpath(info.dli_fname, out) != NULL;
}

/* --- Subcommands --------------------------------------------------------------- */

/*
 * A sanitizer build of libskvm needs its runtime in the process; the
 * program we preload into is not instrumented, so the runtime comes in
 * right after libskvm and must not insist on being first.
 */
static int skvm_sanitizer_env(char **extra)
{
	const char *opts = getenv("ASAN_OPTIONS");
	char *val;
	int ret;

	*extra = NULL;
	if (!*SKVM_SANITIZER_RUNTIME)
		return 0;
	*extra = SKVM_SANITIZER_RUNTIME;
	if (asprintf(&val, "%s%sverify_asan_link_order=0", opts ? opts : "",
		     opts && *opts ? ":" : "") < 0)
		return -1;
	ret = setenv("ASAN_OPTIONS", val, 1);
	free(val);
	return ret;
}

/* LD_PRELOAD with lib first, then whatever was preloaded already. */
static int skvm_set_preload(const char *lib)
{
	const char *old = getenv("LD_PRELOAD");
	char *val, *runtime;
	int ret;

	/* The loader splits LD_PRELOAD at spaces and colons. */
	if (strpbrk(lib, " :")) {
		fprintf(stderr, "skvm: cannot preload %s: space or colon in path\n",
			lib);
		return -1;
	}
	if (skvm_sanitizer_env(&runtime))
		return -1;
	if (asprintf(&val, "%s%s%s%s%s", lib, runtime ? ":" : "",
		     runtime ? runtime : "", old && *old ? ":" : "",
		     old && *old ? old : "") < 0)
		return -1;
	ret = setenv("LD_PRELOAD", val, 1);
	free(val);
	return ret;
}

static int skvm_cmd_exec(int argc, char **argv)
{
	char lib[PATH_MAX];
	int err;

	if (argc < 2)
		return skvm_usage_error("exec: no program given");
	if (!skvm_find_lib(lib)) {
		fprintf(stderr, "skvm: cannot find " SKVM_LIB_NAME "\n");
		return 1;
	}
	if (skvm_set_preload(lib))
		return 1;
	execvp(argv[1], argv + 1);
	err = errno;
	fprintf(stderr, "skvm: %s: %s\n", argv[1], strerror(err));
	return err == ENOENT ? SKVM_EXIT_NOTFOUND : SKVM_EXIT_NOEXEC;
}

/*
 * The VMM (tools/vmm): beside the launcher when installed (same bindir),
 * or at tools/vmm/ below it in the build tree.
 */
static bool skvm_find_vmm(char *out)
{
	static const char *const rel[] = { "/" SKVM_VMM_NAME,
					   "/tools/vmm/" SKVM_VMM_NAME };
	char exe[PATH_MAX], path[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0)
		return false;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return false;
	*slash = '\0';
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		if (snprintf(path, sizeof(path), "%s%s", exe, rel[i]) >=
		    (int)sizeof(path))
			continue;
		if (access(path, X_OK) == 0 && realpath(path, out))
			return true;
	}
	return false;
}

/* skvm run ARGS: the VMM, a plain KVM program, run with skvm's KVM. */
static int skvm_cmd_run(int argc, char **argv)
{
	char vmm[PATH_MAX];
	char **args = calloc((size_t)argc + 2, sizeof(*args));

	if (!args)
		return 1;
	if (!skvm_find_vmm(vmm)) {
		fprintf(stderr, "skvm: cannot find " SKVM_VMM_NAME "\n");
		free(args);
		return 1;
	}
	args[0] = "exec";
	args[1] = vmm;
	for (int i = 1; i < argc; i++)
		args[i + 1] = argv[i];
	args[argc + 1] = NULL;
	return skvm_cmd_exec(argc + 1, args);
}

struct skvm_cap_name {
	const char *name;
	long cap;
};

static const struct skvm_cap_name skvm_cap_names[] = {
#define SKVM_CAP(name) { #name, name },
#include "skvm_caps.inc"
#undef SKVM_CAP
};

static int skvm_cmd_caps(int argc, char **argv)
{
	size_t i;
	int fd, val;

	if (argc > 1)
		return skvm_usage_error("caps: no arguments expected");
	fd = skvm_open(O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "skvm: cannot open skvm: %s\n", strerror(errno));
		return 1;
	}
	for (i = 0; i < sizeof(skvm_cap_names) / sizeof(skvm_cap_names[0]); i++) {
		val = skvm_ioctl(fd, KVM_CHECK_EXTENSION, skvm_cap_names[i].cap);
		if (val > 0)
			printf("%-40s %d\n", skvm_cap_names[i].name, val);
	}
	close(fd);
	return fflush(stdout) ? 1 : 0;
}

static int skvm_cmd_version(int argc, char **argv)
{
	if (argc > 1)
		return skvm_usage_error("version: no arguments expected");
	printf("skvm %s\n", SKVM_VERSION);
	return 0;
}

static int skvm_cmd_help(int argc, char **argv)
{
	fputs(skvm_usage, stdout);
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} skvm_cmds[] = {
	{ "exec", skvm_cmd_exec },
	{ "run", skvm_cmd_run },
	{ "caps", skvm_cmd_caps },
	{ "version", skvm_cmd_version },
	{ "--version", skvm_cmd_version },
	{ "help", skvm_cmd_help },
	{ "--help", skvm_cmd_help },
	{ "-h", skvm_cmd_help },
};

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2)
		return skvm_usage_error(NULL);
	for (i = 0; i < sizeof(skvm_cmds) / sizeof(skvm_cmds[0]); i++)
		if (!strcmp(argv[1], skvm_cmds[i].name))
			return skvm_cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "skvm: unknown command '%s'\n", argv[1]);
	return skvm_usage_error(NULL);
}
