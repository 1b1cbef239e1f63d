/* SPDX-License-Identifier: MIT */
/*
 * guest_ram.h - the guest's RAM as the VMM sees it: one host mapping,
 * shown to the guest as [0, low) and, past the 32-bit hole, [4 GiB, ...).
 */
#ifndef SKVM_VMM_GUEST_RAM_H
#define SKVM_VMM_GUEST_RAM_H

#include <stddef.h>
#include <stdint.h>

struct guest_ram {
	uint8_t *host;		/* size bytes */
	uint64_t size;		/* all RAM */
	uint64_t low;		/* bytes below LAYOUT_LOWMEM_MAX */
};

void guest_ram__init(struct guest_ram *ram, void *host, uint64_t size);
/* A host pointer to [gpa, gpa + len), or NULL if that is not all RAM. */
void *guest_ram__ptr(const struct guest_ram *ram, uint64_t gpa, uint64_t len);

#endif
