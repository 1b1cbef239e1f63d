// SPDX-License-Identifier: MIT
/*
 * cmdline.c - the default guest's kernel command line and kernel choice.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"

/*
 * The emulating /dev/kvm of a host without VMX/SVM answers the guest's
 * CPUID from the host for the bits KVM_GET_SUPPORTED_CPUID leaves out
 * (XSAVE among them), so clearing them in KVM_SET_CPUID2 is not enough:
 * "noxsave" tells Linux itself.  Without an irqchip there is no APIC,
 * whatever CPUID says.
 */
char *cmdline__build(bool portable, bool irqchip, const char *extra)
{
	const char *xsave = portable ? " noxsave" : "";
	const char *apic = irqchip ? "" : " nolapic noapic";
	size_t len;
	char *s;

	if (!extra)
		extra = "";
	len = strlen(CMDLINE_DEFAULT) + strlen(xsave) + strlen(apic) +
	      strlen(extra) + 2;
	s = malloc(len);
	if (s)
		snprintf(s, len, "%s%s%s%s%s", CMDLINE_DEFAULT, xsave, apic,
			 *extra ? " " : "", extra);
	return s;
}

bool cmdline__kernel_better(const char *a, const char *b)
{
	bool ca = strstr(a, "-cloud-") != NULL, cb = strstr(b, "-cloud-") != NULL;

	if (ca != cb)
		return ca;
	return strverscmp(a, b) > 0;
}
