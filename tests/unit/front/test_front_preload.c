// SPDX-License-Identifier: MIT
/*
 * test_front_preload.c - the interposition, seen from a program that runs
 * with libskvm preloaded (front_probe), and from programs that must not
 * notice it (sh, addr2line).
 *
 * usage: test_front_preload LIB PROBE stub|core
 *   stub: LIB is libskvm_front_stub.so (the front over a stand-in core)
 *   core: LIB is libskvm.so (needs a working virt/kvm)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "front_run.h"

static const char *front_lib, *front_probe;

static void front_probe_ok(const char *cmd)
{
	char *argv[] = { (char *)front_probe, (char *)cmd, NULL };
	struct front_run r;

	assert_int_equal(front_run(&r, front_lib, argv), 0);
	if (r.status)
		front_run_dump(&r);
	assert_int_equal(r.status, 0);
}

#define PROBE_TEST(name, cmd)						\
static void name(void **state)						\
{									\
	front_probe_ok(cmd);						\
}

PROBE_TEST(test_open, "open")
PROBE_TEST(test_passthrough, "passthrough")
PROBE_TEST(test_ioctl, "ioctl")
PROBE_TEST(test_mmap, "mmap")
PROBE_TEST(test_stub_mmap, "stub-mmap")
PROBE_TEST(test_core_mmap, "core-mmap")
PROBE_TEST(test_children_of_kvm_program, "children")
PROBE_TEST(test_sig_exact, "sig-exact")
PROBE_TEST(test_sig_kick, "sig-kick")
PROBE_TEST(test_stub_sig_kick, "stub-sig-kick")
PROBE_TEST(test_core_sig_pending, "core-sig-pending")
PROBE_TEST(test_lazy, "lazy")

/* Programs that never open /dev/kvm run as without the preload. */
static void test_sh_unaffected(void **state)
{
	char *argv[] = { "sh", "-c", "echo ok; trap 'echo trapped' USR1; "
			 "kill -USR1 $$; exit 3", NULL };
	struct front_run r;

	assert_int_equal(front_run(&r, front_lib, argv), 0);
	if (r.status != 3)
		front_run_dump(&r);
	assert_int_equal(r.status, 3);
	assert_string_equal(r.out, "ok\ntrapped\n");
	assert_string_equal(r.err, "");
}

static void test_addr2line_unaffected(void **state)
{
	char *argv[] = { "addr2line", "--version", NULL };
	struct front_run r;

	assert_int_equal(front_run(&r, front_lib, argv), 0);
	if (r.status)
		front_run_dump(&r);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "addr2line"));
	assert_string_equal(r.err, "");
}

static const struct CMUnitTest front_stub_tests[] = {
	cmocka_unit_test(test_open),
	cmocka_unit_test(test_passthrough),
	cmocka_unit_test(test_ioctl),
	cmocka_unit_test(test_mmap),
	cmocka_unit_test(test_stub_mmap),
	cmocka_unit_test(test_children_of_kvm_program),
	cmocka_unit_test(test_sig_exact),
	cmocka_unit_test(test_stub_sig_kick),
	cmocka_unit_test(test_lazy),
	cmocka_unit_test(test_sh_unaffected),
	cmocka_unit_test(test_addr2line_unaffected),
};

static const struct CMUnitTest front_core_tests[] = {
	cmocka_unit_test(test_open),
	cmocka_unit_test(test_passthrough),
	cmocka_unit_test(test_ioctl),
	cmocka_unit_test(test_mmap),
	cmocka_unit_test(test_core_mmap),
	cmocka_unit_test(test_children_of_kvm_program),
	cmocka_unit_test(test_sig_exact),
	cmocka_unit_test(test_sig_kick),
	cmocka_unit_test(test_core_sig_pending),
	cmocka_unit_test(test_lazy),
	cmocka_unit_test(test_sh_unaffected),
	cmocka_unit_test(test_addr2line_unaffected),
};

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s LIB PROBE stub|core\n", argv[0]);
		return 2;
	}
	front_lib = argv[1];
	front_probe = argv[2];
	/* A sanitizer build's runtime is preloaded after the library. */
	if (getenv("SKVM_TEST_SANITIZER_RUNTIME") &&
	    *getenv("SKVM_TEST_SANITIZER_RUNTIME")) {
		static char both[8192];

		snprintf(both, sizeof(both), "%s:%s", front_lib,
			 getenv("SKVM_TEST_SANITIZER_RUNTIME"));
		front_lib = both;
	}
	if (!strcmp(argv[3], "stub"))
		return cmocka_run_group_tests_name("front preload (stub core)",
						   front_stub_tests, NULL, NULL);
	return cmocka_run_group_tests_name("front preload (core)",
					   front_core_tests, NULL, NULL);
}
