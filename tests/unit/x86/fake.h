/* SPDX-License-Identifier: MIT */
/*
 * fake.h - a scriptable stand-in for the software vCPU and the generic
 * core, so that arch/x86/kvm can be tested on its own.
 */
#ifndef SKVM_TEST_X86_FAKE_H
#define SKVM_TEST_X86_FAKE_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/cpu.h"

#define FAKE_GUEST_MEM_SIZE (1u << 20)
extern uint8_t fake_guest_mem[FAKE_GUEST_MEM_SIZE];

#define FAKE_MAX_SCRIPT 16

struct fake_engine {
	/* Exits x86_cpu_run() returns, in order; then X86_EXIT_HLT. */
	struct x86_exit script[FAKE_MAX_SCRIPT];
	int nscript, pos;
	/* Byte an OUT exit leaves in the PIO page. */
	uint8_t out_byte;
	/* Set by the fake */
	int runs, complete_io, complete_mmio, state_changed, kicks_seen;
	bool nmi_seen;		/* ev.nmi_pending at the last run */
	int complete_msr;	/* x86_cpu_complete_msr calls, last arguments */
	bool msr_error;
	uint64_t msr_data;
	uint8_t mmio_data[8];
	uint8_t pio_in_byte;	/* PIO page byte 0 at complete_io */
	/* Engine features: XSAVE (CPUID.1:ECX.26) and AVX in XCR0. */
	bool xsave;
};
extern struct fake_engine fake;

void fake_reset(void);
void fake_push_exit(const struct x86_exit *ex);

#endif
