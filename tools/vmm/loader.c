// SPDX-License-Identifier: MIT
/*
 * loader.c - load a bzImage as the Linux x86 boot protocol describes it
 * (Documentation/x86/boot.rst) and prepare the 64-bit entry: kernel at
 * 1 MiB, initrd as high as allowed below the 32-bit hole, command line,
 * zero page with an e820 map.
 */
#include <errno.h>
#include <string.h>

#include "layout.h"
#include "loader.h"

/* ------------------------------------------------------------------------ */
/* Parsing the setup header                                                  */

static uint16_t get16(const uint8_t *p)
{
	return p[0] | p[1] << 8;
}

static uint32_t get32(const uint8_t *p)
{
	return get16(p) | (uint32_t)get16(p + 2) << 16;
}

/* The header ends where the jump at 0x200 lands: 0x202 + its offset. */
static size_t bzimage__hdr_len(const uint8_t *img)
{
	size_t len = 0x202 + img[0x201] - BZ_HDR_OFFSET;

	return len > sizeof(struct setup_header) ?
		sizeof(struct setup_header) : len;
}

int bzimage__parse(struct bzimage *bz, const void *image, size_t size)
{
	const uint8_t *img = image;
	unsigned int sects;

	memset(bz, 0, sizeof(*bz));
	if (size < 2 * 512)
		return -ENOEXEC;
	if (get16(img + 0x1fe) != BZ_BOOT_FLAG ||
	    get32(img + 0x202) != BZ_HDRS_MAGIC)
		return -ENOEXEC;
	memcpy(&bz->hdr, img + BZ_HDR_OFFSET, bzimage__hdr_len(img));
	if (bz->hdr.version < BZ_MIN_VERSION)
		return -EPROTONOSUPPORT;
	if (!(bz->hdr.xloadflags & XLF_KERNEL_64) ||
	    !(bz->hdr.loadflags & LOADED_HIGH))
		return -EPROTONOSUPPORT;

	sects = bz->hdr.setup_sects ? bz->hdr.setup_sects : 4;
	bz->setup_size = (sects + 1) * 512;
	if (bz->setup_size >= size)
		return -ENOEXEC;
	bz->kernel = img + bz->setup_size;
	bz->kernel_size = size - bz->setup_size;
	return 0;
}

uint64_t bzimage__entry64(void)
{
	return LAYOUT_KERNEL + BZ_ENTRY64_OFFSET;
}

/* ------------------------------------------------------------------------ */
/* The e820 map                                                             */

static int e820__add(struct boot_e820_entry *t, int n, int max,
		     uint64_t addr, uint64_t end, uint32_t type)
{
	if (end <= addr)
		return n;
	if (n >= max)
		return -ENOSPC;
	t[n].addr = addr;
	t[n].size = end - addr;
	t[n].type = type;
	return n + 1;
}

/*
 * RAM below the EBDA, the EBDA (MP table) and the BIOS area (ACPI tables)
 * reserved, RAM from 1 MiB to the hole, and RAM above 4 GiB if any.
 */
int e820__build(struct boot_e820_entry *t, int max,
		const struct guest_ram *ram)
{
	int n = 0;

	if (ram->low < LAYOUT_BIOS_END)
		return -EINVAL;
	n = e820__add(t, n, max, 0, LAYOUT_EBDA, E820_TYPE_RAM);
	if (n >= 0)
		n = e820__add(t, n, max, LAYOUT_EBDA, LAYOUT_EBDA_END,
			      E820_TYPE_RESERVED);
	if (n >= 0)
		n = e820__add(t, n, max, LAYOUT_BIOS, LAYOUT_BIOS_END,
			      E820_TYPE_RESERVED);
	if (n >= 0)
		n = e820__add(t, n, max, LAYOUT_KERNEL, ram->low, E820_TYPE_RAM);
	if (n >= 0)
		n = e820__add(t, n, max, LAYOUT_HIGHMEM,
			      LAYOUT_HIGHMEM + ram->size - ram->low, E820_TYPE_RAM);
	return n;
}

/* ------------------------------------------------------------------------ */
/* Loading                                                                  */

static uint64_t bzimage__footprint(const struct bzimage *bz)
{
	return bz->hdr.init_size > bz->kernel_size ?
		bz->hdr.init_size : bz->kernel_size;
}

static int bzimage__load_cmdline(const struct bzimage *bz,
				 const struct guest_ram *ram,
				 struct boot_params *bp, const char *cmdline)
{
	size_t len = strlen(cmdline) + 1;
	size_t max = bz->hdr.cmdline_size ? bz->hdr.cmdline_size + 1 : 256;
	char *dst;

	if (len > max || len > LAYOUT_CMDLINE_MAX)
		return -E2BIG;
	dst = guest_ram__ptr(ram, LAYOUT_CMDLINE, len);
	if (!dst)
		return -ENOMEM;
	memcpy(dst, cmdline, len);
	bp->hdr.cmd_line_ptr = LAYOUT_CMDLINE;
	return 0;
}

/* boot.rst: as high as possible, below initrd_addr_max, page aligned. */
static int bzimage__load_initrd(const struct bzimage *bz,
				const struct guest_ram *ram,
				struct boot_params *bp,
				const struct boot_files *files)
{
	uint64_t top = (uint64_t)bz->hdr.initrd_addr_max + 1;
	uint64_t addr;
	void *dst;

	if (!files->initrd_size)
		return 0;
	if (top > ram->low)
		top = ram->low;
	if (files->initrd_size > top)
		return -ENOMEM;
	addr = (top - files->initrd_size) & ~0xfffULL;
	if (addr < LAYOUT_KERNEL + bzimage__footprint(bz))
		return -ENOMEM;
	dst = guest_ram__ptr(ram, addr, files->initrd_size);
	if (!dst)
		return -ENOMEM;
	memcpy(dst, files->initrd, files->initrd_size);
	bp->hdr.ramdisk_image = (uint32_t)addr;
	bp->hdr.ramdisk_size = (uint32_t)files->initrd_size;
	bp->ext_ramdisk_image = (uint32_t)(addr >> 32);
	bp->ext_ramdisk_size = (uint32_t)((uint64_t)files->initrd_size >> 32);
	return 0;
}

static void bzimage__fill_hdr(const struct bzimage *bz, struct boot_params *bp)
{
	bp->hdr = bz->hdr;
	bp->hdr.type_of_loader = BZ_LOADER_UNDEFINED;
	bp->hdr.vid_mode = 0xffff;		/* "normal" */
	bp->hdr.code32_start = LAYOUT_KERNEL;
	bp->hdr.heap_end_ptr = 0xfe00;
	bp->hdr.loadflags |= CAN_USE_HEAP;
	bp->hdr.loadflags &= ~QUIET_FLAG;
	bp->hdr.ramdisk_image = 0;
	bp->hdr.ramdisk_size = 0;
}

int bzimage__load(const struct bzimage *bz, const struct guest_ram *ram,
		  const struct boot_files *files)
{
	struct boot_params *bp;
	void *kernel;
	int n, ret;

	bp = guest_ram__ptr(ram, LAYOUT_ZERO_PAGE, sizeof(*bp));
	kernel = guest_ram__ptr(ram, LAYOUT_KERNEL, bzimage__footprint(bz));
	if (!bp || !kernel)
		return -ENOMEM;
	memcpy(kernel, bz->kernel, bz->kernel_size);

	memset(bp, 0, sizeof(*bp));
	bzimage__fill_hdr(bz, bp);
	bp->acpi_rsdp_addr = files->rsdp;
	ret = bzimage__load_cmdline(bz, ram, bp, files->cmdline);
	if (ret)
		return ret;
	ret = bzimage__load_initrd(bz, ram, bp, files);
	if (ret)
		return ret;
	n = e820__build(bp->e820_table, E820_MAX_ENTRIES_ZEROPAGE, ram);
	if (n < 0)
		return n;
	bp->e820_entries = n;
	return 0;
}
