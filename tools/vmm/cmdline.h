/* SPDX-License-Identifier: MIT */
/*
 * cmdline.h - what the default guest is made of: the kernel command line
 * and which /boot kernel to pick.
 */
#ifndef SKVM_VMM_CMDLINE_H
#define SKVM_VMM_CMDLINE_H

#include <stdbool.h>

#define CMDLINE_DEFAULT \
	"console=ttyS0 earlyprintk=serial,ttyS0,115200 reboot=k panic=-1 " \
	"no_timer_check"

/*
 * The default line, "noxsave" for a portable CPUID, "nolapic noapic"
 * without an irqchip, then extra (may be NULL).  malloc'd; NULL on ENOMEM.
 */
char *cmdline__build(bool portable, bool irqchip, const char *extra);
/* Whether kernel path a is a better default than b: -cloud- first, then
 * the higher version. */
bool cmdline__kernel_better(const char *a, const char *b);

#endif
