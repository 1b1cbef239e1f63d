/* SPDX-License-Identifier: MIT */
/*
 * layout.h - where the VMM puts things in guest-physical memory.
 *
 * Everything below 1 MiB is built by the VMM before the first KVM_RUN;
 * the kernel is loaded at 1 MiB as the boot protocol asks
 * (Documentation/x86/boot.rst, "Loading the rest of the kernel").
 */
#ifndef SKVM_VMM_LAYOUT_H
#define SKVM_VMM_LAYOUT_H

#define LAYOUT_GDT		0x0500ULL	/* boot GDT, 4 entries */
#define LAYOUT_ZERO_PAGE	0x7000ULL	/* struct boot_params */
#define LAYOUT_PML4		0x9000ULL	/* identity map, 2 MiB pages */
#define LAYOUT_PDPT		0xa000ULL
#define LAYOUT_PD		0xb000ULL	/* 4 pages: the first 4 GiB */
#define LAYOUT_CMDLINE		0x20000ULL
#define LAYOUT_CMDLINE_MAX	0x10000ULL
#define LAYOUT_EBDA		0x9fc00ULL	/* MP table lives here */
#define LAYOUT_EBDA_END		0xa0000ULL
#define LAYOUT_BIOS		0xe0000ULL	/* ACPI tables (RSDP scan area) */
#define LAYOUT_BIOS_END		0x100000ULL
#define LAYOUT_KERNEL		0x100000ULL	/* protected-mode kernel */

/* Guest RAM is split around the 32-bit MMIO hole (LAPIC, IOAPIC...). */
#define LAYOUT_LOWMEM_MAX	0xc0000000ULL
#define LAYOUT_HIGHMEM		0x100000000ULL

#define LAYOUT_IOAPIC		0xfec00000ULL
#define LAYOUT_LAPIC		0xfee00000ULL

#endif
