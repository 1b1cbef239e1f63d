/* SPDX-License-Identifier: MIT */
/*
 * loader.h - the Linux x86 boot protocol (Documentation/x86/boot.rst):
 * a bzImage's setup header, the zero page, the e820 map, the 64-bit entry.
 */
#ifndef SKVM_VMM_LOADER_H
#define SKVM_VMM_LOADER_H

#include <stddef.h>
#include <stdint.h>
#include <asm/bootparam.h>

#include "guest_ram.h"

/* boot.rst, "The real-mode kernel header" */
#define BZ_HDR_OFFSET		0x1f1
#define BZ_BOOT_FLAG		0xaa55
#define BZ_HDRS_MAGIC		0x53726448	/* "HdrS" */
#define BZ_MIN_VERSION		0x020c		/* 2.12: xloadflags */
#define BZ_ENTRY64_OFFSET	0x200		/* startup_64 */
#define BZ_LOADER_UNDEFINED	0xff		/* type_of_loader */

/* e820 entry types (ACPI, "System Address Map Interfaces") */
#define E820_TYPE_RAM		1
#define E820_TYPE_RESERVED	2

struct bzimage {
	struct setup_header hdr;	/* as found in the image */
	const uint8_t *kernel;		/* protected-mode part */
	size_t kernel_size;
	size_t setup_size;		/* real-mode part, with the boot sector */
};

struct boot_files {
	const char *cmdline;
	const void *initrd;
	size_t initrd_size;
	uint64_t rsdp;			/* 0: let the kernel scan for it */
};

int bzimage__parse(struct bzimage *bz, const void *image, size_t size);
int bzimage__load(const struct bzimage *bz, const struct guest_ram *ram,
		  const struct boot_files *files);
uint64_t bzimage__entry64(void);

int e820__build(struct boot_e820_entry *table, int max,
		const struct guest_ram *ram);

#endif
