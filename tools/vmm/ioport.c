// SPDX-License-Identifier: MIT
/*
 * ioport.c - the port I/O bus and the small PC devices on it: the i8042
 * reset line, port 0x80, port 0x92 and 0xcf9 resets, the CMOS clock, PCI
 * configuration mechanism #1 with no devices, the ACPI PM1 block and PM
 * timer.
 * Ports nobody claims read as all ones and ignore writes.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "acpi.h"
#include "vmm.h"

#define I8042_DATA		0x60
#define I8042_CMD		0x64
#define I8042_CMD_RESET		0xfe
#define POST_PORT		0x80
#define SYSCTL_PORT_A		0x92	/* bit 0: fast reset */
#define PCI_CONFIG_ADDR		0xcf8
#define PCI_CONFIG_DATA		0xcfc
#define RESET_CONTROL		0xcf9	/* bit 2: reset, bit 1: hard */

int ioport__register(struct vmm *vmm, uint16_t base, uint16_t len,
		     pio_fn fn, void *opaque)
{
	if (vmm->nr_pio >= VMM_MAX_PIO)
		return -ENOSPC;
	vmm->pio[vmm->nr_pio++] = (struct pio_range){ base, len, fn, opaque };
	return 0;
}

void ioport__dispatch(struct vmm *vmm, uint16_t port, bool write,
		      uint8_t *data, unsigned int size)
{
	int i;

	for (i = 0; i < vmm->nr_pio; i++) {
		struct pio_range *r = &vmm->pio[i];

		if (port >= r->base && port - r->base < r->len) {
			r->fn(vmm, r->opaque, port, write, data, size);
			return;
		}
	}
	if (!write)
		memset(data, 0xff, size);
}

/* --- Reset lines and port 0x80 ------------------------------------------- */

static void i8042__io(struct vmm *vmm, void *opaque, uint16_t port,
		      bool write, uint8_t *data, unsigned int size)
{
	if (!write) {
		memset(data, 0, size);	/* no data, input buffer empty */
		return;
	}
	if (port == I8042_CMD && data[0] == I8042_CMD_RESET)
		vmm__stop(vmm, VMM_RESET);
}

static void reset_port__io(struct vmm *vmm, void *opaque, uint16_t port,
			   bool write, uint8_t *data, unsigned int size)
{
	if (!write) {
		memset(data, 0, size);
		return;
	}
	if ((port == SYSCTL_PORT_A && (data[0] & 1)) ||
	    (port == RESET_CONTROL && (data[0] & 4)))
		vmm__stop(vmm, VMM_RESET);
}

static void ignore__io(struct vmm *vmm, void *opaque, uint16_t port,
		       bool write, uint8_t *data, unsigned int size)
{
	if (!write)
		memset(data, 0xff, size);
}

/* --- CMOS clock ---------------------------------------------------------- */

static void rtc__io(struct vmm *vmm, void *opaque, uint16_t port, bool write,
		    uint8_t *data, unsigned int size)
{
	pthread_mutex_lock(&vmm->dev_lock);
	if (port == RTC_PORT_INDEX && write)
		rtc__write_index(&vmm->rtc, data[0]);
	else if (port == RTC_PORT_INDEX)
		data[0] = 0xff;
	else if (write)
		rtc__write(&vmm->rtc, data[0]);
	else
		data[0] = rtc__read(&vmm->rtc, time(NULL));
	pthread_mutex_unlock(&vmm->dev_lock);
}

/* --- PCI configuration mechanism #1: a bus with nothing on it ------------- */

static void pci__io(struct vmm *vmm, void *opaque, uint16_t port, bool write,
		    uint8_t *data, unsigned int size)
{
	pthread_mutex_lock(&vmm->dev_lock);
	if (port == PCI_CONFIG_ADDR && size == 4) {
		if (write)
			memcpy(&vmm->pci_addr, data, 4);
		else
			memcpy(data, &vmm->pci_addr, 4);
	} else if (port == RESET_CONTROL) {
		reset_port__io(vmm, opaque, port, write, data, size);
	} else if (!write) {
		memset(data, 0xff, size);	/* no device answers */
	}
	pthread_mutex_unlock(&vmm->dev_lock);
}

/* --- ACPI PM1 block and PM timer ---------------------------------------- */

static void pm_timer__io(struct vmm *vmm, void *opaque, uint16_t port,
			 bool write, uint8_t *data, unsigned int size)
{
	struct timespec ts;
	uint32_t v;

	if (write)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	v = acpi__pm_timer((uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec);
	v >>= 8 * (port - ACPI_PM_TMR);
	memset(data, 0, size);
	memcpy(data, &v, size < 4 ? size : 4);
}

static void pm__io(struct vmm *vmm, void *opaque, uint16_t port, bool write,
		   uint8_t *data, unsigned int size)
{
	unsigned int off = port - ACPI_PM1_EVT;
	uint16_t *reg = NULL, v = 0;

	pthread_mutex_lock(&vmm->dev_lock);
	if (off == 2)
		reg = &vmm->pm1_en;
	else if (off == 4)
		reg = &vmm->pm1_cnt;
	if (write && reg) {
		memcpy(&v, data, size < 2 ? size : 2);
		*reg = v & ~ACPI_PM1_CNT_SLP_EN;
		if (reg == &vmm->pm1_cnt && (v & ACPI_PM1_CNT_SLP_EN) &&
		    ACPI_PM1_CNT_SLP_TYP(v) == ACPI_S5_TYP)
			vmm__stop(vmm, VMM_POWER_OFF);
	} else if (!write) {
		v = reg ? *reg : 0;		/* PM1_STS: nothing happened */
		if (reg == &vmm->pm1_cnt)
			v |= ACPI_PM1_CNT_SCI_EN;	/* always ACPI mode */
		memset(data, 0, size);
		memcpy(data, &v, size < 2 ? size : 2);
	}
	pthread_mutex_unlock(&vmm->dev_lock);
}

int devices__init(struct vmm *vmm)
{
	int ret = 0;

	rtc__init(&vmm->rtc);
	ret |= ioport__register(vmm, I8042_DATA, 1, i8042__io, NULL);
	ret |= ioport__register(vmm, I8042_CMD, 1, i8042__io, NULL);
	ret |= ioport__register(vmm, POST_PORT, 1, ignore__io, NULL);
	ret |= ioport__register(vmm, SYSCTL_PORT_A, 1, reset_port__io, NULL);
	ret |= ioport__register(vmm, RTC_PORT_INDEX, 2, rtc__io, NULL);
	ret |= ioport__register(vmm, PCI_CONFIG_ADDR, 8, pci__io, NULL);
	ret |= ioport__register(vmm, ACPI_PM1_EVT,
				ACPI_PM1_EVT_LEN + ACPI_PM1_CNT_LEN, pm__io, NULL);
	ret |= ioport__register(vmm, ACPI_PM_TMR, ACPI_PM_TMR_LEN,
				pm_timer__io, NULL);
	return ret ? -ENOSPC : 0;
}
