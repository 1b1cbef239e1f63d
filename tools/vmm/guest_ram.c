// SPDX-License-Identifier: MIT
/*
 * guest_ram.c - guest-physical to host addresses.
 */
#include "guest_ram.h"
#include "layout.h"

void guest_ram__init(struct guest_ram *ram, void *host, uint64_t size)
{
	ram->host = host;
	ram->size = size;
	ram->low = size < LAYOUT_LOWMEM_MAX ? size : LAYOUT_LOWMEM_MAX;
}

void *guest_ram__ptr(const struct guest_ram *ram, uint64_t gpa, uint64_t len)
{
	uint64_t high = ram->size - ram->low;

	if (gpa + len < gpa)
		return NULL;
	if (gpa + len <= ram->low)
		return ram->host + gpa;
	if (gpa >= LAYOUT_HIGHMEM && gpa - LAYOUT_HIGHMEM + len <= high)
		return ram->host + ram->low + (gpa - LAYOUT_HIGHMEM);
	return NULL;
}
