// SPDX-License-Identifier: MIT
/*
 * Unit tests of the default guest's command line and kernel choice
 * (tools/vmm/cmdline.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "cmdline.h"

static const struct {
	bool portable, irqchip;
	const char *extra, *want;
} cmdline_rows[] = {
	{ false, true, NULL, CMDLINE_DEFAULT },
	{ false, true, "", CMDLINE_DEFAULT },
	{ false, true, "quiet", CMDLINE_DEFAULT " quiet" },
	{ true, true, NULL, CMDLINE_DEFAULT " noxsave" },
	{ false, false, NULL, CMDLINE_DEFAULT " nolapic noapic" },
	{ true, false, "init=/bin/sh rw",
	  CMDLINE_DEFAULT " noxsave nolapic noapic init=/bin/sh rw" },
};

static void test_cmdline(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(cmdline_rows) / sizeof(cmdline_rows[0]); i++) {
		char *s = cmdline__build(cmdline_rows[i].portable,
					 cmdline_rows[i].irqchip,
					 cmdline_rows[i].extra);

		assert_non_null(s);
		assert_string_equal(s, cmdline_rows[i].want);
		free(s);
	}
}

static const struct {
	const char *a, *b;
	bool better;
} kernel_rows[] = {
	{ "/boot/vmlinuz-6.1.0-56-cloud-amd64", "/boot/vmlinuz-6.1.0-56-amd64", true },
	{ "/boot/vmlinuz-6.1.0-56-amd64", "/boot/vmlinuz-6.1.0-9-cloud-amd64", false },
	{ "/boot/vmlinuz-6.1.0-56-cloud-amd64", "/boot/vmlinuz-6.1.0-9-cloud-amd64", true },
	{ "/boot/vmlinuz-6.1.0-9-cloud-amd64", "/boot/vmlinuz-6.1.0-56-cloud-amd64", false },
	{ "/boot/vmlinuz-6.10.1-amd64", "/boot/vmlinuz-6.9.12-amd64", true },
	{ "/boot/vmlinuz-6.1.0-56-amd64", "/boot/vmlinuz-6.1.0-56-amd64", false },
};

static void test_kernel_choice(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(kernel_rows) / sizeof(kernel_rows[0]); i++)
		if (cmdline__kernel_better(kernel_rows[i].a, kernel_rows[i].b) !=
		    kernel_rows[i].better)
			fail_msg("%s vs %s", kernel_rows[i].a, kernel_rows[i].b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cmdline),
		cmocka_unit_test(test_kernel_choice),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
