// SPDX-License-Identifier: MIT
/*
 * Unit tests of the firmware tables (tools/vmm/mptable.c, acpi.c): the MP
 * spec 1.4 floating pointer and configuration table, and the ACPI RSDP,
 * RSDT, FADT, FACS, DSDT and MADT: signatures, lengths, checksums, and
 * the entries a kernel reads.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "acpi.h"
#include "layout.h"
#include "mptable.h"

#define GPA_EBDA	0x9fc00
#define GPA_ACPI	0xe0000

static uint16_t get16(const uint8_t *p)
{
	return p[0] | p[1] << 8;
}

static uint32_t get32(const uint8_t *p)
{
	return get16(p) | (uint32_t)get16(p + 2) << 16;
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

/* --- MP table ------------------------------------------------------------ */

static const struct mptable_cpu_id cpu_id = { 0x000a0f11, 0x178bfbff };

static void check_mptable(int ncpus)
{
	uint8_t buf[1024];
	uint8_t *h, *p;
	int i, cpus = 0, bsp = 0, buses = 0, ioapics = 0, ints = 0, lints = 0;
	int irq0_pin = -1;

	memset(buf, 0xcc, sizeof(buf));
	assert_int_equal(mptable__write(buf, sizeof(buf), GPA_EBDA, ncpus,
					&cpu_id), 0);
	/* floating pointer: 16 bytes summing to zero */
	assert_memory_equal(buf, "_MP_", 4);
	assert_int_equal(get32(buf + 4), GPA_EBDA + MP_FLOATING_SIZE);
	assert_int_equal(buf[8], 1);
	assert_int_equal(buf[9], 4);
	assert_int_equal(buf[11], 0);		/* a table follows */
	assert_int_equal(sum(buf, 16), 0);

	h = buf + MP_FLOATING_SIZE;
	assert_memory_equal(h, "PCMP", 4);
	assert_int_equal(get16(h + 4), mptable__size(ncpus) - MP_FLOATING_SIZE);
	assert_int_equal(h[6], 4);
	assert_int_equal(sum(h, get16(h + 4)), 0);
	assert_int_equal(get32(h + 36), LAYOUT_LAPIC);
	assert_int_equal(get16(h + 40), 0);	/* no extended table */

	p = h + MP_HEADER_SIZE;
	for (i = 0; i < get16(h + 34); i++) {
		switch (p[0]) {
		case MP_PROCESSOR:
			assert_int_equal(p[1], cpus);
			assert_true(p[3] & MP_CPU_EN);
			bsp += !!(p[3] & MP_CPU_BP);
			assert_int_equal(get32(p + 4), cpu_id.signature);
			assert_int_equal(get32(p + 8), cpu_id.features);
			cpus++;
			p += MP_ENTRY_CPU_SIZE;
			continue;
		case MP_BUS:
			assert_memory_equal(p + 2, "ISA   ", 6);
			buses++;
			break;
		case MP_IOAPIC:
			assert_int_equal(p[1], ncpus);	/* after the LAPIC IDs */
			assert_int_equal(get32(p + 4), LAYOUT_IOAPIC);
			assert_true(p[3] & 1);
			ioapics++;
			break;
		case MP_INTSRC:
			assert_int_equal(p[1], MP_INT);
			assert_int_equal(p[6], ncpus);
			if (p[5] == 0)
				irq0_pin = p[7];
			else
				assert_int_equal(p[7], p[5]);
			assert_int_not_equal(p[5], 2);
			ints++;
			break;
		case MP_LINTSRC:
			assert_int_equal(p[6], 0xff);
			assert_int_equal(p[7], p[1] == MP_NMI ? 1 : 0);
			lints++;
			break;
		default:
			fail_msg("entry type %d", p[0]);
		}
		p += MP_ENTRY_SIZE;
	}
	assert_int_equal(cpus, ncpus);
	assert_int_equal(bsp, 1);
	assert_int_equal(buses, 1);
	assert_int_equal(ioapics, 1);
	assert_int_equal(ints, 15);
	assert_int_equal(lints, 2);
	assert_int_equal(irq0_pin, 2);
	assert_int_equal(p - buf, mptable__size(ncpus));
	assert_int_equal(buf[mptable__size(ncpus)], 0xcc);	/* no overrun */
}

static void test_mptable(void **state)
{
	check_mptable(1);
	check_mptable(4);
	check_mptable(32);
	assert_true(mptable__size(32) <= 0x400);	/* fits the EBDA KiB */
}

static void test_mptable_errors(void **state)
{
	uint8_t buf[1024];

	assert_int_equal(mptable__write(buf, mptable__size(2) - 1, GPA_EBDA, 2,
					&cpu_id), -ENOSPC);
	assert_int_equal(mptable__write(buf, sizeof(buf), GPA_EBDA, 0,
					&cpu_id), -ENOSPC);
}

/* --- ACPI ---------------------------------------------------------------- */

static uint8_t acpi[0x20000];

static uint8_t *table_at(uint32_t gpa)
{
	assert_true(gpa >= GPA_ACPI && gpa < GPA_ACPI + sizeof(acpi));
	return acpi + (gpa - GPA_ACPI);
}

static void check_header(const uint8_t *t, const char *sig)
{
	assert_memory_equal(t, sig, 4);
	assert_true(get32(t + 4) >= ACPI_HEADER_SIZE);
	assert_int_equal(sum(t, get32(t + 4)), 0);
}

static void test_acpi_rsdp_rsdt(void **state)
{
	uint8_t *rsdt;

	assert_int_equal(acpi__write(acpi, sizeof(acpi), GPA_ACPI, 2), 0);
	assert_memory_equal(acpi, "RSD PTR ", 8);
	assert_int_equal(sum(acpi, 20), 0);
	assert_int_equal(acpi[15], 0);		/* ACPI 1.0 form */
	assert_int_equal((GPA_ACPI + ACPI_RSDP_OFF) % 16, 0);

	rsdt = table_at(get32(acpi + 16));
	check_header(rsdt, "RSDT");
	assert_int_equal(get32(rsdt + 4), ACPI_HEADER_SIZE + 8);
	check_header(table_at(get32(rsdt + 36)), "FACP");
	check_header(table_at(get32(rsdt + 40)), "APIC");
}

static void test_acpi_fadt(void **state)
{
	uint8_t *fadt, *dsdt, *facs;

	assert_int_equal(acpi__write(acpi, sizeof(acpi), GPA_ACPI, 1), 0);
	fadt = acpi + ACPI_FADT_OFF;
	check_header(fadt, "FACP");
	assert_int_equal(get32(fadt + 4), ACPI_FADT_SIZE);
	assert_int_equal(get16(fadt + 46), ACPI_SCI_IRQ);
	assert_int_equal(get32(fadt + 48), 0);	/* no SMI_CMD: ACPI mode */
	assert_int_equal(get32(fadt + 56), ACPI_PM1_EVT);
	assert_int_equal(get32(fadt + 64), ACPI_PM1_CNT);
	assert_int_equal(get32(fadt + 76), ACPI_PM_TMR);
	assert_int_equal(fadt[91], 4);
	assert_int_equal(get32(fadt + 112) & (1 << 8), 0);	/* 24 bits */
	assert_int_equal(fadt[88], 4);
	assert_int_equal(fadt[89], 2);
	assert_int_equal(get16(fadt + 109) & 2, 0);	/* no 8042 */

	facs = table_at(get32(fadt + 36));
	assert_memory_equal(facs, "FACS", 4);
	assert_int_equal(get32(facs + 4), ACPI_FACS_SIZE);
	assert_int_equal(get32(fadt + 36) % 64, 0);

	dsdt = table_at(get32(fadt + 40));
	check_header(dsdt, "DSDT");
	assert_int_equal(get32(fadt + 140), get32(fadt + 40));	/* X_DSDT */
	/* Name(_S5_, Package(4){5, 5, 0, 0}) */
	assert_memory_equal(dsdt + ACPI_HEADER_SIZE, "\x08_S5_\x12\x08\x04", 8);
	assert_int_equal(dsdt[ACPI_HEADER_SIZE + 9], ACPI_S5_TYP);
	/* what the VMM decodes from the PM1a_CNT write */
	assert_int_equal(ACPI_PM1_CNT_SLP_TYP(ACPI_S5_TYP << 10 |
					      ACPI_PM1_CNT_SLP_EN), 5);
}

static void test_acpi_madt(void **state)
{
	int ncpus = 4, lapics = 0, ioapics = 0, isos = 0, nmis = 0;
	uint8_t *madt, *p, *end;

	assert_int_equal(acpi__write(acpi, sizeof(acpi), GPA_ACPI, ncpus), 0);
	madt = acpi + ACPI_MADT_OFF;
	check_header(madt, "APIC");
	assert_int_equal(get32(madt + 36), LAYOUT_LAPIC);
	assert_int_equal(get32(madt + 40), 1);	/* PCAT_COMPAT */
	end = madt + get32(madt + 4);
	assert_int_equal(end - acpi, acpi__size(ncpus));
	for (p = madt + 44; p < end; p += p[1]) {
		assert_true(p[1] >= 2);
		switch (p[0]) {
		case ACPI_MADT_LAPIC:
			assert_int_equal(p[1], 8);
			assert_int_equal(p[3], lapics);
			assert_int_equal(get32(p + 4), 1);
			lapics++;
			break;
		case ACPI_MADT_IOAPIC:
			assert_int_equal(p[1], 12);
			assert_int_equal(get32(p + 4), LAYOUT_IOAPIC);
			assert_int_equal(get32(p + 8), 0);
			ioapics++;
			break;
		case ACPI_MADT_ISO:
			assert_int_equal(p[1], 10);
			if (p[3] == 0)
				assert_int_equal(get32(p + 4), 2);
			else
				assert_int_equal(p[3], ACPI_SCI_IRQ);
			isos++;
			break;
		case ACPI_MADT_LAPIC_NMI:
			assert_int_equal(p[1], 6);
			assert_int_equal(p[5], 1);
			nmis++;
			break;
		default:
			fail_msg("MADT entry type %d", p[0]);
		}
	}
	assert_ptr_equal(p, end);
	assert_int_equal(lapics, ncpus);
	assert_int_equal(ioapics, 1);
	assert_int_equal(isos, 2);
	assert_int_equal(nmis, 1);
}

static const struct {
	uint64_t ns;
	uint32_t ticks;
} pm_timer_rows[] = {
	{ 0, 0 },
	{ 1000000000, 3579545 },		/* one second */
	{ 279, 0 },				/* less than a tick */
	{ 280, 1 },
	{ 4686968000ULL, 16777212 },		/* just below the wrap */
	{ 4686971000ULL, 7 },			/* 16777223 wrapped */
	/* ten years of host uptime do not overflow the arithmetic */
	{ 315360000000000000ULL, 13093632 },
};

static void test_acpi_pm_timer(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(pm_timer_rows) / sizeof(pm_timer_rows[0]); i++)
		if (acpi__pm_timer(pm_timer_rows[i].ns) !=
		    pm_timer_rows[i].ticks)
			fail_msg("%llu ns: %u, want %u",
				 (unsigned long long)pm_timer_rows[i].ns,
				 acpi__pm_timer(pm_timer_rows[i].ns),
				 pm_timer_rows[i].ticks);
}

static void test_acpi_fits(void **state)
{
	assert_true(acpi__size(32) <=
		    LAYOUT_BIOS_END - LAYOUT_BIOS);
	assert_int_equal(acpi__write(acpi, acpi__size(3) - 1, GPA_ACPI, 3),
			 -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mptable),
		cmocka_unit_test(test_mptable_errors),
		cmocka_unit_test(test_acpi_rsdp_rsdt),
		cmocka_unit_test(test_acpi_fadt),
		cmocka_unit_test(test_acpi_madt),
		cmocka_unit_test(test_acpi_pm_timer),
		cmocka_unit_test(test_acpi_fits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
