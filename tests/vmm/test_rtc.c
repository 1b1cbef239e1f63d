// SPDX-License-Identifier: MIT
/*
 * Unit tests of the CMOS clock (tools/vmm/rtc.c): time of day in BCD and
 * binary, the status registers, NMI mask bit in the index, CMOS RAM.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "rtc.h"

/* 2024-02-29 13:45:59 UTC, a Thursday */
#define T_LEAP	1709214359

static uint8_t rd(struct rtc *r, uint8_t reg)
{
	rtc__write_index(r, reg);
	return rtc__read(r, T_LEAP);
}

static void test_bcd(void **state)
{
	struct rtc r;

	rtc__init(&r);
	assert_int_equal(rd(&r, RTC_SECONDS), 0x59);
	assert_int_equal(rd(&r, RTC_MINUTES), 0x45);
	assert_int_equal(rd(&r, RTC_HOURS), 0x13);
	assert_int_equal(rd(&r, RTC_WEEKDAY), 5);	/* Sunday is 1 */
	assert_int_equal(rd(&r, RTC_DAY), 0x29);
	assert_int_equal(rd(&r, RTC_MONTH), 0x02);
	assert_int_equal(rd(&r, RTC_YEAR), 0x24);
	assert_int_equal(rd(&r, RTC_CENTURY), 0x20);
}

static void test_binary(void **state)
{
	struct rtc r;

	rtc__init(&r);
	rtc__write_index(&r, RTC_REG_B);
	rtc__write(&r, RTC_B_24H | RTC_B_BINARY);
	assert_int_equal(rd(&r, RTC_SECONDS), 59);
	assert_int_equal(rd(&r, RTC_HOURS), 13);
	assert_int_equal(rd(&r, RTC_YEAR), 24);
}

static void test_status(void **state)
{
	struct rtc r;

	rtc__init(&r);
	assert_int_equal(rd(&r, RTC_REG_A) & 0x80, 0);	/* never UIP */
	assert_true(rd(&r, RTC_REG_B) & RTC_B_24H);
	assert_int_equal(rd(&r, RTC_REG_C), 0);
	assert_int_equal(rd(&r, RTC_REG_D), RTC_D_VRT);
	rtc__write_index(&r, RTC_REG_D);
	rtc__write(&r, 0);
	assert_int_equal(rd(&r, RTC_REG_D), RTC_D_VRT);	/* read-only */
	rtc__write_index(&r, RTC_REG_A);
	rtc__write(&r, 0xa6);
	assert_int_equal(rd(&r, RTC_REG_A), 0x26);	/* UIP stays 0 */
}

static void test_index_and_ram(void **state)
{
	struct rtc r;

	rtc__init(&r);
	rtc__write_index(&r, 0x80 | RTC_SECONDS);	/* NMI off, seconds */
	assert_int_equal(rtc__read(&r, T_LEAP), 0x59);
	rtc__write_index(&r, 0x40);
	rtc__write(&r, 0xab);
	assert_int_equal(rd(&r, 0x40), 0xab);
	rtc__write_index(&r, RTC_MINUTES);
	rtc__write(&r, 0x00);				/* host clock rules */
	assert_int_equal(rd(&r, RTC_MINUTES), 0x45);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bcd),
		cmocka_unit_test(test_binary),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_index_and_ram),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
