/* SPDX-License-Identifier: MIT */
/*
 * rtc.h - the MC146818 CMOS clock behind ports 0x70 (index) and 0x71
 * (data): time of day in BCD, 24-hour mode, never "update in progress".
 */
#ifndef SKVM_VMM_RTC_H
#define SKVM_VMM_RTC_H

#include <stdint.h>
#include <time.h>

#define RTC_PORT_INDEX	0x70
#define RTC_PORT_DATA	0x71

#define RTC_SECONDS	0x00
#define RTC_MINUTES	0x02
#define RTC_HOURS	0x04
#define RTC_WEEKDAY	0x06
#define RTC_DAY		0x07
#define RTC_MONTH	0x08
#define RTC_YEAR	0x09
#define RTC_REG_A	0x0a
#define RTC_REG_B	0x0b
#define RTC_REG_C	0x0c
#define RTC_REG_D	0x0d
#define RTC_CENTURY	0x32

#define RTC_B_24H	0x02
#define RTC_B_BINARY	0x04
#define RTC_D_VRT	0x80	/* valid RAM and time */

struct rtc {
	uint8_t index;
	uint8_t ram[128];
};

void rtc__init(struct rtc *rtc);
void rtc__write_index(struct rtc *rtc, uint8_t val);
uint8_t rtc__read(struct rtc *rtc, time_t now);
void rtc__write(struct rtc *rtc, uint8_t val);

#endif
