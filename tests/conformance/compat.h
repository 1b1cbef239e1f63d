/* SPDX-License-Identifier: MIT */
/*
 * compat.h - force-included (-include) into every file of the Linux 6.1
 * KVM selftests as Debian's linux-source-6.1 ships them, which do not
 * build as is:
 *
 *  - steal_time.c uses the struct-group helpers of <linux/stddef.h>
 *    without including it;
 *  - dirty_log_test.c uses TEST_ASSERT_EQ(), which this version of
 *    test_util.h does not define.
 *
 * TEST_ASSERT() is defined by test_util.h; the macro below expands only
 * where it is used, after that header.
 */
#ifndef SKVM_SELFTEST_COMPAT_H
#define SKVM_SELFTEST_COMPAT_H

#ifndef __ASSEMBLER__
#include <linux/stddef.h>

#ifndef TEST_ASSERT_EQ
#define TEST_ASSERT_EQ(a, b)						\
	do {								\
		typeof(a) __eq_a = (a);					\
		typeof(b) __eq_b = (b);					\
		TEST_ASSERT(__eq_a == __eq_b,				\
			    "%s == %s failed: 0x%lx != 0x%lx", #a, #b,	\
			    (unsigned long)__eq_a,			\
			    (unsigned long)__eq_b);			\
	} while (0)
#endif
#endif /* __ASSEMBLER__ */

#endif /* SKVM_SELFTEST_COMPAT_H */
