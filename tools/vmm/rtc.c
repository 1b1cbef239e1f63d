// SPDX-License-Identifier: MIT
/*
 * rtc.c - CMOS time of day, read from the host clock (UTC) on each access,
 * in the format register B selects (BCD unless DM is set).
 */
#include <stdbool.h>
#include <string.h>

#include "rtc.h"

void rtc__init(struct rtc *rtc)
{
	memset(rtc, 0, sizeof(*rtc));
	rtc->ram[RTC_REG_A] = 0x26;		/* 32.768 kHz base, 1024 Hz */
	rtc->ram[RTC_REG_B] = RTC_B_24H;
	rtc->ram[RTC_REG_D] = RTC_D_VRT;
}

void rtc__write_index(struct rtc *rtc, uint8_t val)
{
	rtc->index = val & 0x7f;		/* bit 7 masks NMIs */
}

static uint8_t rtc__encode(const struct rtc *rtc, int v)
{
	if (rtc->ram[RTC_REG_B] & RTC_B_BINARY)
		return v;
	return (v / 10) << 4 | (v % 10);
}

static int rtc__time_field(const struct tm *tm, uint8_t reg)
{
	switch (reg) {
	case RTC_SECONDS:	return tm->tm_sec;
	case RTC_MINUTES:	return tm->tm_min;
	case RTC_HOURS:		return tm->tm_hour;
	case RTC_WEEKDAY:	return tm->tm_wday + 1;
	case RTC_DAY:		return tm->tm_mday;
	case RTC_MONTH:		return tm->tm_mon + 1;
	case RTC_YEAR:		return tm->tm_year % 100;
	case RTC_CENTURY:	return (tm->tm_year + 1900) / 100;
	}
	return -1;
}

static bool rtc__is_time(uint8_t reg)
{
	struct tm any = { 0 };

	return rtc__time_field(&any, reg) >= 0;
}

uint8_t rtc__read(struct rtc *rtc, time_t now)
{
	struct tm tm;
	int v;

	gmtime_r(&now, &tm);
	v = rtc__time_field(&tm, rtc->index);
	if (v >= 0)
		return rtc__encode(rtc, v);
	if (rtc->index == RTC_REG_C)
		return 0;			/* no interrupt flags */
	return rtc->ram[rtc->index];
}

void rtc__write(struct rtc *rtc, uint8_t val)
{
	switch (rtc->index) {
	case RTC_REG_C:
	case RTC_REG_D:
		return;				/* read-only */
	case RTC_REG_A:
		val &= 0x7f;			/* UIP is read-only */
		break;
	}
	if (rtc__is_time(rtc->index))
		return;				/* the host clock rules */
	rtc->ram[rtc->index] = val;
}
