// SPDX-License-Identifier: MIT
/*
 * Unit tests of the boot protocol loader (tools/vmm/loader.c, boot64.c,
 * guest_ram.c): a crafted bzImage's setup header, the zero page, the
 * command line and initrd placement, the e820 map, the 64-bit entry state.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "boot64.h"
#include "layout.h"
#include "loader.h"

#define IMG_SETUP_SECTS	2
#define IMG_SIZE	(16 * 1024)
#define IMG_INIT_SIZE	0x40000
#define RAM_SIZE	(64ULL << 20)

static void put16le(uint8_t *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static void put32le(uint8_t *p, uint32_t v)
{
	put16le(p, v);
	put16le(p + 2, v >> 16);
}

/* A bzImage as boot.rst lays out its header, protocol 2.15. */
static uint8_t *make_image(void)
{
	uint8_t *img = calloc(1, IMG_SIZE);
	size_t i;

	img[0x1f1] = IMG_SETUP_SECTS;
	put16le(img + 0x1fe, 0xaa55);
	img[0x200] = 0xeb;			/* jmp short */
	img[0x201] = 0x6a;			/* header ends at 0x26c */
	put32le(img + 0x202, 0x53726448);	/* "HdrS" */
	put16le(img + 0x206, 0x020f);
	img[0x211] = LOADED_HIGH;
	put32le(img + 0x22c, 0x7fffffff);	/* initrd_addr_max */
	put32le(img + 0x230, 0x200000);		/* kernel_alignment */
	img[0x234] = 1;				/* relocatable */
	put16le(img + 0x236, XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G);
	put32le(img + 0x238, 2047);		/* cmdline_size */
	put32le(img + 0x260, IMG_INIT_SIZE);
	for (i = (IMG_SETUP_SECTS + 1) * 512; i < IMG_SIZE; i++)
		img[i] = (uint8_t)(i * 7);
	return img;
}

struct fixture {
	uint8_t *img;
	uint8_t *host;
	struct guest_ram ram;
	struct bzimage bz;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->img = make_image();
	f->host = calloc(1, RAM_SIZE);
	guest_ram__init(&f->ram, f->host, RAM_SIZE);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	free(f->img);
	free(f->host);
	free(f);
	return 0;
}

/* ------------------------------------------------------------------------ */

static void test_parse(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(bzimage__parse(&f->bz, f->img, IMG_SIZE), 0);
	assert_int_equal(f->bz.hdr.version, 0x020f);
	assert_int_equal(f->bz.hdr.setup_sects, IMG_SETUP_SECTS);
	assert_int_equal(f->bz.setup_size, (IMG_SETUP_SECTS + 1) * 512);
	assert_ptr_equal(f->bz.kernel, f->img + f->bz.setup_size);
	assert_int_equal(f->bz.kernel_size, IMG_SIZE - f->bz.setup_size);
	assert_int_equal(f->bz.hdr.cmdline_size, 2047);
	assert_int_equal(f->bz.hdr.init_size, IMG_INIT_SIZE);
	assert_int_equal(f->bz.hdr.initrd_addr_max, 0x7fffffff);
	assert_int_equal(f->bz.hdr.boot_flag, 0xaa55);
	assert_int_equal(bzimage__entry64(), 0x100200);
}

/* setup_sects == 0 means 4 (boot.rst, "setup_sects"). */
static void test_parse_setup_sects_zero(void **state)
{
	struct fixture *f = *state;

	f->img[0x1f1] = 0;
	assert_int_equal(bzimage__parse(&f->bz, f->img, IMG_SIZE), 0);
	assert_int_equal(f->bz.setup_size, 5 * 512);
}

/* Fields past the header's end (set by the jump offset) are not read. */
static void test_parse_short_header(void **state)
{
	struct fixture *f = *state;

	f->img[0x201] = 0x5e;			/* ends at 0x260: no init_size */
	assert_int_equal(bzimage__parse(&f->bz, f->img, IMG_SIZE), 0);
	assert_int_equal(f->bz.hdr.init_size, 0);
	assert_int_equal(f->bz.hdr.cmdline_size, 2047);
}

static const struct {
	const char *what;
	size_t off;
	uint8_t val;
	size_t size;
	int err;
} bad_images[] = {
	{ "boot flag", 0x1fe, 0x00, IMG_SIZE, -ENOEXEC },
	{ "HdrS magic", 0x203, 'x', IMG_SIZE, -ENOEXEC },
	{ "protocol 2.11", 0x206, 0x0b, IMG_SIZE, -EPROTONOSUPPORT },
	{ "no 64-bit entry", 0x236, 0x02, IMG_SIZE, -EPROTONOSUPPORT },
	{ "not loaded high", 0x211, 0x00, IMG_SIZE, -EPROTONOSUPPORT },
	{ "truncated", 0, 0, 1000, -ENOEXEC },
	{ "setup only", 0, 0, (IMG_SETUP_SECTS + 1) * 512, -ENOEXEC },
};

static void test_parse_rejects(void **state)
{
	struct fixture *f = *state;
	size_t i;

	for (i = 0; i < sizeof(bad_images) / sizeof(bad_images[0]); i++) {
		uint8_t *img = make_image();

		if (bad_images[i].off)
			img[bad_images[i].off] = bad_images[i].val;
		if (bzimage__parse(&f->bz, img, bad_images[i].size) !=
		    bad_images[i].err)
			fail_msg("%s: expected %d", bad_images[i].what,
				 bad_images[i].err);
		free(img);
	}
}

/* ------------------------------------------------------------------------ */

static struct boot_params *zero_page(struct fixture *f)
{
	return (struct boot_params *)(f->host + LAYOUT_ZERO_PAGE);
}

static void test_load_zero_page(void **state)
{
	struct fixture *f = *state;
	static const char initrd[] = "0123456789abcdef-initrd";
	struct boot_files files = {
		.cmdline = "console=ttyS0 hello",
		.initrd = initrd,
		.initrd_size = sizeof(initrd),
		.rsdp = 0xe0000,
	};
	struct boot_params *bp;
	uint32_t rd;

	assert_int_equal(bzimage__parse(&f->bz, f->img, IMG_SIZE), 0);
	assert_int_equal(bzimage__load(&f->bz, &f->ram, &files), 0);
	bp = zero_page(f);

	/* the protected-mode kernel at 1 MiB */
	assert_memory_equal(f->host + LAYOUT_KERNEL, f->bz.kernel,
			    f->bz.kernel_size);
	/* the header copied, with what a loader must fill in */
	assert_int_equal(bp->hdr.boot_flag, 0xaa55);
	assert_int_equal(bp->hdr.header, 0x53726448);
	assert_int_equal(bp->hdr.version, 0x020f);
	assert_int_equal(bp->hdr.type_of_loader, 0xff);
	assert_int_equal(bp->hdr.vid_mode, 0xffff);
	assert_true(bp->hdr.loadflags & LOADED_HIGH);
	assert_true(bp->hdr.loadflags & CAN_USE_HEAP);
	assert_int_equal(bp->hdr.code32_start, LAYOUT_KERNEL);
	assert_int_equal(bp->acpi_rsdp_addr, 0xe0000);
	/* command line */
	assert_int_equal(bp->hdr.cmd_line_ptr, LAYOUT_CMDLINE);
	assert_int_equal(bp->ext_cmd_line_ptr, 0);
	assert_string_equal((char *)f->host + LAYOUT_CMDLINE,
			    "console=ttyS0 hello");
	/* initrd: page aligned, as high as possible, after the kernel */
	rd = bp->hdr.ramdisk_image;
	assert_int_equal(rd & 0xfff, 0);
	assert_true(rd + sizeof(initrd) <= RAM_SIZE);
	assert_true(rd + 4096 + sizeof(initrd) > RAM_SIZE);
	assert_true(rd >= LAYOUT_KERNEL + IMG_INIT_SIZE);
	assert_int_equal(bp->hdr.ramdisk_size, sizeof(initrd));
	assert_int_equal(bp->ext_ramdisk_image, 0);
	assert_memory_equal(f->host + rd, initrd, sizeof(initrd));
}

static void test_load_initrd_addr_max(void **state)
{
	struct fixture *f = *state;
	char initrd[100] = { 1 };
	struct boot_files files = {
		.cmdline = "", .initrd = initrd, .initrd_size = sizeof(initrd),
	};

	f->img[0x22c] = 0xff;			/* initrd_addr_max 0x01ffffff */
	f->img[0x22d] = 0xff;
	f->img[0x22e] = 0xff;
	f->img[0x22f] = 0x01;
	assert_int_equal(bzimage__parse(&f->bz, f->img, IMG_SIZE), 0);
	assert_int_equal(bzimage__load(&f->bz, &f->ram, &files), 0);
	assert_int_equal(zero_page(f)->hdr.ramdisk_image,
			 (0x2000000 - sizeof(initrd)) & ~0xfffU);
}

static void test_load_no_initrd(void **state)
{
	struct fixture *f = *state;
	struct boot_files files = { .cmdline = "quiet" };

	assert_int_equal(bzimage__parse(&f->bz, f->img, IMG_SIZE), 0);
	assert_int_equal(bzimage__load(&f->bz, &f->ram, &files), 0);
	assert_int_equal(zero_page(f)->hdr.ramdisk_image, 0);
	assert_int_equal(zero_page(f)->hdr.ramdisk_size, 0);
	assert_int_equal(zero_page(f)->acpi_rsdp_addr, 0);
}

static void test_load_errors(void **state)
{
	struct fixture *f = *state;
	char *longline = malloc(2049);
	struct boot_files files = { .cmdline = longline };

	memset(longline, 'a', 2048);
	longline[2048] = '\0';
	assert_int_equal(bzimage__parse(&f->bz, f->img, IMG_SIZE), 0);
	/* cmdline_size counts the characters, without the NUL */
	assert_int_equal(bzimage__load(&f->bz, &f->ram, &files), -E2BIG);
	longline[2047] = '\0';
	assert_int_equal(bzimage__load(&f->bz, &f->ram, &files), 0);

	/* an initrd that would overlap the kernel's init_size */
	files.cmdline = "";
	files.initrd = f->host;
	files.initrd_size = RAM_SIZE - LAYOUT_KERNEL - IMG_INIT_SIZE + 1;
	assert_int_equal(bzimage__load(&f->bz, &f->ram, &files), -ENOMEM);
	free(longline);
}

/* ------------------------------------------------------------------------ */

static void test_e820_small(void **state)
{
	struct fixture *f = *state;
	struct boot_e820_entry t[8];
	static const struct boot_e820_entry want[] = {
		{ 0, 0x9fc00, E820_TYPE_RAM },
		{ 0x9fc00, 0x400, E820_TYPE_RESERVED },
		{ 0xe0000, 0x20000, E820_TYPE_RESERVED },
		{ 0x100000, RAM_SIZE - 0x100000, E820_TYPE_RAM },
	};
	int i;

	assert_int_equal(e820__build(t, 8, &f->ram), 4);
	for (i = 0; i < 4; i++) {
		assert_int_equal(t[i].addr, want[i].addr);
		assert_int_equal(t[i].size, want[i].size);
		assert_int_equal(t[i].type, want[i].type);
	}
	assert_int_equal(e820__build(t, 3, &f->ram), -ENOSPC);
}

/* RAM past the 32-bit hole continues at 4 GiB. */
static void test_e820_high(void **state)
{
	struct boot_e820_entry t[8];
	struct guest_ram ram;

	guest_ram__init(&ram, NULL, 4ULL << 30);
	assert_int_equal(ram.low, LAYOUT_LOWMEM_MAX);
	assert_int_equal(e820__build(t, 8, &ram), 5);
	assert_int_equal(t[3].addr + t[3].size, LAYOUT_LOWMEM_MAX);
	assert_int_equal(t[4].addr, LAYOUT_HIGHMEM);
	assert_int_equal(t[4].size, (4ULL << 30) - LAYOUT_LOWMEM_MAX);
	assert_int_equal(t[4].type, E820_TYPE_RAM);
}

static void test_guest_ram_ptr(void **state)
{
	struct guest_ram ram;
	uint8_t *h = (uint8_t *)0x10000000;

	guest_ram__init(&ram, h, 4ULL << 30);
	assert_ptr_equal(guest_ram__ptr(&ram, 0, 16), h);
	assert_ptr_equal(guest_ram__ptr(&ram, LAYOUT_LOWMEM_MAX - 16, 16),
			 h + LAYOUT_LOWMEM_MAX - 16);
	assert_null(guest_ram__ptr(&ram, LAYOUT_LOWMEM_MAX - 16, 17));
	assert_null(guest_ram__ptr(&ram, LAYOUT_IOAPIC, 4));
	assert_ptr_equal(guest_ram__ptr(&ram, LAYOUT_HIGHMEM, 1),
			 h + LAYOUT_LOWMEM_MAX);
	assert_null(guest_ram__ptr(&ram, LAYOUT_HIGHMEM + (1ULL << 30), 1));
	assert_null(guest_ram__ptr(&ram, ~0ULL, 2));
}

/* ------------------------------------------------------------------------ */

static void test_boot64_tables(void **state)
{
	struct fixture *f = *state;
	uint64_t *gdt = (uint64_t *)(f->host + LAYOUT_GDT);
	uint64_t *pml4 = (uint64_t *)(f->host + LAYOUT_PML4);
	uint64_t *pdpt = (uint64_t *)(f->host + LAYOUT_PDPT);
	uint64_t *pd = (uint64_t *)(f->host + LAYOUT_PD);

	assert_int_equal(boot64__write_tables(&f->ram), 0);
	assert_int_equal(gdt[0], 0);
	assert_int_equal(gdt[BOOT_CS / 8], 0x00af9b000000ffffULL);
	assert_int_equal(gdt[BOOT_DS / 8], 0x00cf93000000ffffULL);
	assert_int_equal(pml4[0], LAYOUT_PDPT | PTE_P | PTE_RW);
	assert_int_equal(pml4[1], 0);
	assert_int_equal(pdpt[3], (LAYOUT_PD + 3 * 4096) | PTE_P | PTE_RW);
	assert_int_equal(pdpt[4], 0);
	assert_int_equal(pd[0], PTE_P | PTE_RW | PTE_PS);
	assert_int_equal(pd[2047], (2047ULL << 21) | PTE_P | PTE_RW | PTE_PS);
}

static void test_boot64_state(void **state)
{
	struct kvm_sregs s;
	struct kvm_regs r;

	memset(&s, 0, sizeof(s));
	s.cr0 = 0x60000010;			/* the reset value */
	boot64__sregs(&s);
	assert_int_equal(s.cs.selector, BOOT_CS);
	assert_int_equal(s.cs.l, 1);
	assert_int_equal(s.cs.db, 0);
	assert_int_equal(s.cs.type, 0xb);
	assert_int_equal(s.ds.selector, BOOT_DS);
	assert_int_equal(s.ss.selector, BOOT_DS);
	assert_int_equal(s.es.selector, BOOT_DS);
	assert_int_equal(s.ds.type, 0x3);
	assert_int_equal(s.ds.limit, 0xffffffff);
	assert_int_equal(s.gdt.base, LAYOUT_GDT);
	assert_int_equal(s.gdt.limit, BOOT_GDT_ENTRIES * 8 - 1);
	assert_int_equal(s.cr3, LAYOUT_PML4);
	assert_true(s.cr4 & X86_CR4_PAE);
	assert_int_equal(s.cr0 & (X86_CR0_PG | X86_CR0_PE | X86_CR0_CD),
			 X86_CR0_PG | X86_CR0_PE);
	assert_int_equal(s.efer & (X86_EFER_LME | X86_EFER_LMA),
			 X86_EFER_LME | X86_EFER_LMA);

	boot64__regs(&r, 0x100200, LAYOUT_ZERO_PAGE);
	assert_int_equal(r.rip, 0x100200);
	assert_int_equal(r.rsi, LAYOUT_ZERO_PAGE);
	assert_int_equal(r.rflags, 2);		/* interrupts disabled */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_parse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parse_setup_sects_zero,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_parse_short_header,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_parse_rejects, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_load_zero_page, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_load_initrd_addr_max,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_no_initrd, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_load_errors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_e820_small, setup,
						teardown),
		cmocka_unit_test(test_e820_high),
		cmocka_unit_test(test_guest_ram_ptr),
		cmocka_unit_test_setup_teardown(test_boot64_tables, setup,
						teardown),
		cmocka_unit_test(test_boot64_state),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
