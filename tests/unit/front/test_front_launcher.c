// SPDX-License-Identifier: MIT
/*
 * test_front_launcher.c - the skvm command.
 *
 * usage: test_front_launcher SKVM PROBE LIBSKVM
 * test_caps and test_exec_kvm_program need a working virt/kvm.
 */
#include <limits.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "front_run.h"
#include "skvm.h"

static const char *skvm_bin, *front_probe;
static char libskvm[PATH_MAX];

/* Run skvm with args (NULL-terminated), no preload of our own. */
static void skvm_run(struct front_run *r, ...)
{
	char *argv[16] = { (char *)skvm_bin };
	va_list ap;
	int i = 1;

	va_start(ap, r);
	while ((argv[i] = va_arg(ap, char *)) && i < 15)
		i++;
	va_end(ap);
	argv[i] = NULL;
	assert_int_equal(front_run(r, NULL, argv), 0);
}

static void skvm_expect(const struct front_run *r, int status)
{
	if (r->status != status)
		front_run_dump(r);
	assert_int_equal(r->status, status);
}

static void test_version(void **state)
{
	struct front_run r;

	skvm_run(&r, "version", NULL);
	skvm_expect(&r, 0);
	assert_string_equal(r.out, "skvm " SKVM_VERSION "\n");
	skvm_run(&r, "--version", NULL);
	skvm_expect(&r, 0);
	assert_string_equal(r.out, "skvm " SKVM_VERSION "\n");
}

static void test_help(void **state)
{
	struct front_run r;

	skvm_run(&r, "help", NULL);
	skvm_expect(&r, 0);
	assert_non_null(strstr(r.out, "usage: skvm"));
	assert_non_null(strstr(r.out, "exec PROGRAM"));
	assert_string_equal(r.err, "");
}

static void test_usage_errors(void **state)
{
	struct front_run r;

	skvm_run(&r, NULL);
	skvm_expect(&r, 2);
	assert_non_null(strstr(r.err, "usage: skvm"));
	assert_string_equal(r.out, "");
	skvm_run(&r, "frobnicate", NULL);
	skvm_expect(&r, 2);
	assert_non_null(strstr(r.err, "usage: skvm"));
	skvm_run(&r, "exec", NULL);
	skvm_expect(&r, 2);
	assert_non_null(strstr(r.err, "usage: skvm"));
	skvm_run(&r, "version", "extra", NULL);
	skvm_expect(&r, 2);
}

/* skvm run hands its arguments to the VMM, run under skvm exec. */
static void test_run_vmm(void **state)
{
	struct front_run r;

	skvm_run(&r, "run", "-h", NULL);
	skvm_expect(&r, 0);
	assert_true(strstr(r.out, "usage: skvm-vmm") || strstr(r.err, "usage: skvm-vmm"));
}

static void test_exec_status(void **state)
{
	struct front_run r;

	skvm_run(&r, "exec", "false", NULL);
	skvm_expect(&r, 1);
	skvm_run(&r, "exec", "true", NULL);
	skvm_expect(&r, 0);
	skvm_run(&r, "exec", "sh", "-c", "echo $0 $1; exit 7", "a", "b", NULL);
	skvm_expect(&r, 7);
	assert_string_equal(r.out, "a b\n");
	skvm_run(&r, "exec", "/nonexistent/program", NULL);
	skvm_expect(&r, 127);
	skvm_run(&r, "exec", "/dev/null", NULL);
	skvm_expect(&r, 126);
}

static void test_exec_preload(void **state)
{
	char want[3 * PATH_MAX], lib[2 * PATH_MAX];
	char *argv[] = { (char *)skvm_bin, "exec", (char *)front_probe, "env", NULL };
	const char *rt = getenv("SKVM_TEST_SANITIZER_RUNTIME");
	struct front_run r;

	/* A sanitizer build's runtime follows libskvm. */
	snprintf(lib, sizeof(lib), "%s%s%s", libskvm, rt && *rt ? ":" : "",
		 rt && *rt ? rt : "");
	skvm_run(&r, "exec", front_probe, "env", NULL);
	skvm_expect(&r, 0);
	snprintf(want, sizeof(want), "%s\n", lib);
	assert_string_equal(r.out, want);

	/*
	 * An existing preload stays, after ours.  (The sanitizer runtime of
	 * a sanitizer build may append itself again in the child.)
	 */
	assert_int_equal(front_run(&r, "libm.so.6", argv), 0);
	skvm_expect(&r, 0);
	snprintf(want, sizeof(want), "%s:libm.so.6%s", lib, rt && *rt ? "" : "\n");
	assert_memory_equal(r.out, want, strlen(want));
}

static void test_exec_kvm_program(void **state)
{
	struct front_run r;

	skvm_run(&r, "exec", front_probe, "open", NULL);
	skvm_expect(&r, 0);
	skvm_run(&r, "exec", front_probe, "core-mmap", NULL);
	skvm_expect(&r, 0);
}

static void test_caps(void **state)
{
	struct front_run r;
	regex_t line;
	char *s, *save = NULL;
	int n = 0;

	skvm_run(&r, "caps", NULL);
	skvm_expect(&r, 0);
	assert_int_equal(regcomp(&line, "^KVM_CAP_[A-Z0-9_]+ +[1-9][0-9]*$",
				 REG_EXTENDED | REG_NOSUB), 0);
	for (s = strtok_r(r.out, "\n", &save); s; s = strtok_r(NULL, "\n", &save)) {
		if (regexec(&line, s, 0, NULL, 0))
			fail_msg("bad line: '%s'", s);
		n++;
	}
	regfree(&line);
	assert_true(n > 0);
	/* KVM reports these unconditionally, so must we. */
	skvm_run(&r, "caps", NULL);
	assert_non_null(strstr(r.out, "KVM_CAP_USER_MEMORY "));
	assert_non_null(strstr(r.out, "KVM_CAP_NR_MEMSLOTS "));
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_run_vmm),
		cmocka_unit_test(test_exec_status),
		cmocka_unit_test(test_exec_preload),
		cmocka_unit_test(test_exec_kvm_program),
		cmocka_unit_test(test_caps),
	};

	if (argc != 4) {
		fprintf(stderr, "usage: %s SKVM PROBE LIBSKVM\n", argv[0]);
		return 2;
	}
	skvm_bin = argv[1];
	front_probe = argv[2];
	if (!realpath(argv[3], libskvm)) {
		perror(argv[3]);
		return 1;
	}
	return cmocka_run_group_tests_name("skvm launcher", tests, NULL, NULL);
}
