// SPDX-License-Identifier: MIT
/*
 * test_delivery.c - every interrupt delivery path, one row per case,
 * with guests (guest.S) that count which handlers ran on which vCPU.
 *
 * IPI rows: the BSP of 4 vCPUs writes the row's ICR values (xAPIC MMIO,
 * x2APIC MSR, x2APIC SELF IPI) and waits until the handlers have run as
 * often as the row expects; then every vCPU's count of every vector must
 * be exactly the row's.  Kinds: fixed, lowest priority, NMI, INIT+SIPI,
 * self; destinations: physical, logical flat, logical cluster, x2APIC
 * physical and cluster, and the shorthands.
 *
 * Source rows: the guests program the PICs and the IOAPIC and idle; the
 * test drives lines (KVM_IRQ_LINE_STATUS), irqfds (with resamplefd),
 * KVM_SIGNAL_MSI and MSI routes, and plays the device of a level line
 * (de-asserting it when the handler reports, before its EOI).
 */
#include <sys/eventfd.h>
#include <poll.h>

#include "guest_vm.h"

#define NCPU 4

/* ICR low word fields. */
#define DM_FIXED	(0u << 8)
#define DM_LOWEST	(1u << 8)
#define DM_NMI		(4u << 8)
#define DM_INIT		(5u << 8)
#define DM_SIPI		(6u << 8)
#define LOGICAL		(1u << 11)
#define ASSERT		(1u << 14)
#define SH_SELF		(1u << 18)
#define SH_ALL		(2u << 18)
#define SH_OTHERS	(3u << 18)
#define SIPI_LO		(DM_SIPI | ASSERT | G_SIPI_VECTOR)

/* How the vCPUs address each other. */
enum dest_setup { PHYS, FLAT, CLUSTER, X2 };

struct ipi { uint32_t kind, hi, lo; };

/* cpu's count of vector vec (VEC_SIPI: trampoline starts) must be n. */
#define VEC_SIPI	-1
struct want { int cpu, vec; uint32_t n; };

struct ipi_row {
	const char *what;
	enum dest_setup dest;
	uint8_t tpr[NCPU];		/* all 0: TPR left alone */
	struct ipi ipis[8];
	struct want want[NCPU + 1];
	/*
	 * Lowest priority among equals: vectors any_vec .. any_vec + any_n - 1
	 * each run once, on some vCPU of any_mask.  (One vector per IPI: two
	 * of the same vector may merge in a receiver's IRR.)
	 */
	int any_vec;
	uint32_t any_n, any_mask;
};

#define X(hi, lo)	{ IPI_XAPIC, (uint32_t)(hi) << 24, (lo) }
#define X2(hi, lo)	{ IPI_X2APIC, (hi), (lo) }

static const struct ipi_row ipi_rows[] = {
	/* Fixed. */
	{ "fixed, physical", PHYS, {0}, { X(2, 0x50) }, { {2, 0x50, 1} } },
	{ "fixed, physical to self", PHYS, {0}, { X(0, 0x50) }, { {0, 0x50, 1} } },
	{ "fixed, physical broadcast 0xff", PHYS, {0}, { X(0xff, 0x51) },
	  { {0, 0x51, 1}, {1, 0x51, 1}, {2, 0x51, 1}, {3, 0x51, 1} } },
	{ "fixed, logical flat", FLAT, {0}, { X(0x0a, 0x52 | LOGICAL) },
	  { {1, 0x52, 1}, {3, 0x52, 1} } },
	{ "fixed, logical flat broadcast", FLAT, {0}, { X(0xff, 0x52 | LOGICAL) },
	  { {0, 0x52, 1}, {1, 0x52, 1}, {2, 0x52, 1}, {3, 0x52, 1} } },
	{ "fixed, logical cluster", CLUSTER, {0},
	  { X(0x13, 0x53 | LOGICAL), X(0x01, 0x54 | LOGICAL) },
	  { {2, 0x53, 1}, {3, 0x53, 1}, {0, 0x54, 1} } },
	{ "fixed, x2APIC physical", X2, {0}, { X2(3, 0x55), X2(1, 0x55) },
	  { {3, 0x55, 1}, {1, 0x55, 1} } },
	{ "fixed, x2APIC cluster", X2, {0}, { X2(0x6, 0x56 | LOGICAL) },
	  { {1, 0x56, 1}, {2, 0x56, 1} } },
	{ "fixed, x2APIC physical broadcast", X2, {0}, { X2(0xffffffff, 0x56) },
	  { {0, 0x56, 1}, {1, 0x56, 1}, {2, 0x56, 1}, {3, 0x56, 1} } },
	{ "fixed, shorthand self", PHYS, {0}, { X(3, 0x57 | SH_SELF) }, { {0, 0x57, 1} } },
	{ "fixed, shorthand all", FLAT, {0}, { X(0, 0x58 | SH_ALL) },
	  { {0, 0x58, 1}, {1, 0x58, 1}, {2, 0x58, 1}, {3, 0x58, 1} } },
	{ "fixed, shorthand all but self", CLUSTER, {0}, { X(0, 0x59 | SH_OTHERS) },
	  { {1, 0x59, 1}, {2, 0x59, 1}, {3, 0x59, 1} } },
	{ "fixed, x2APIC shorthand all but self", X2, {0}, { X2(0, 0x5a | SH_OTHERS) },
	  { {1, 0x5a, 1}, {2, 0x5a, 1}, {3, 0x5a, 1} } },
	{ "fixed, x2APIC shorthand self", X2, {0}, { X2(2, 0x5b | SH_SELF) },
	  { {0, 0x5b, 1} } },
	{ "self IPI register (x2APIC)", X2, {0},
	  { { IPI_X2SELF, 0, 0x5c }, { IPI_X2SELF, 0, 0x5d } },
	  { {0, 0x5c, 1}, {0, 0x5d, 1} } },
	/*
	 * Lowest priority: the lowest TPR class among the destinations.  One
	 * IPI per row: arbitration is by PPR, which a vector in service raises,
	 * so a second IPI may rightly go elsewhere.
	 */
	{ "lowest priority, physical", PHYS, {0, 0x30, 0x10, 0x20},
	  { X(1, 0x60 | DM_LOWEST) }, { {1, 0x60, 1} } },
	{ "lowest priority, logical flat", FLAT, {0, 0x30, 0x10, 0x20},
	  { X(0x0e, 0x60 | DM_LOWEST | LOGICAL) }, { {2, 0x60, 1} } },
	{ "lowest priority, logical cluster", CLUSTER, {0, 0x10, 0x30, 0x20},
	  { X(0x13, 0x61 | DM_LOWEST | LOGICAL) }, { {3, 0x61, 1} } },
	{ "lowest priority, x2APIC cluster", X2, {0x40, 0x30, 0x20, 0x10},
	  { X2(0xf, 0x62 | DM_LOWEST | LOGICAL) }, { {3, 0x62, 1} } },
	{ "lowest priority among equals", FLAT, {0, 0x20, 0x20, 0x20},
	  { X(0x0e, 0x63 | DM_LOWEST | LOGICAL), X(0x0e, 0x64 | DM_LOWEST | LOGICAL),
	    X(0x0e, 0x65 | DM_LOWEST | LOGICAL) }, { {0} },
	  0x63, 3, 0x0e },
	/* NMI: vector 2 whatever the ICR's vector field says. */
	{ "NMI, physical", PHYS, {0}, { X(1, 0x70 | DM_NMI | ASSERT) }, { {1, 2, 1} } },
	{ "NMI, logical flat", FLAT, {0}, { X(0x0c, DM_NMI | ASSERT | LOGICAL) },
	  { {2, 2, 1}, {3, 2, 1} } },
	{ "NMI, logical cluster", CLUSTER, {0}, { X(0x11, DM_NMI | ASSERT | LOGICAL) },
	  { {2, 2, 1} } },
	{ "NMI, x2APIC physical", X2, {0}, { X2(3, DM_NMI | ASSERT) }, { {3, 2, 1} } },
	{ "NMI, x2APIC cluster", X2, {0}, { X2(0x3, DM_NMI | ASSERT | LOGICAL) },
	  { {0, 2, 1}, {1, 2, 1} } },
	{ "NMI, shorthand all but self", PHYS, {0}, { X(0, DM_NMI | ASSERT | SH_OTHERS) },
	  { {1, 2, 1}, {2, 2, 1}, {3, 2, 1} } },
	/*
	 * INIT (assert, de-assert) then SIPI: the trampoline runs once per
	 * INIT.  INIT clears an xAPIC's LDR, so the SIPI after a logical INIT
	 * goes by physical ID; an x2APIC's LDR follows from its ID.
	 */
	{ "INIT+SIPI, physical", PHYS, {0},
	  { X(2, DM_INIT | ASSERT), X(2, DM_INIT), X(2, SIPI_LO) }, { {2, VEC_SIPI, 1} } },
	{ "INIT+SIPI, logical flat", FLAT, {0},
	  { X(0x06, DM_INIT | ASSERT | LOGICAL), X(1, SIPI_LO), X(2, SIPI_LO) },
	  { {1, VEC_SIPI, 1}, {2, VEC_SIPI, 1} } },
	{ "INIT+SIPI, logical cluster", CLUSTER, {0},
	  { X(0x12, DM_INIT | ASSERT | LOGICAL), X(3, SIPI_LO) },
	  { {3, VEC_SIPI, 1} } },
	{ "INIT+SIPI, x2APIC physical", X2, {0},
	  { X2(1, DM_INIT | ASSERT), X2(1, SIPI_LO) }, { {1, VEC_SIPI, 1} } },
	{ "INIT+SIPI, x2APIC cluster", X2, {0},
	  { X2(0xc, DM_INIT | ASSERT | LOGICAL), X2(0xc, SIPI_LO | LOGICAL) },
	  { {2, VEC_SIPI, 1}, {3, VEC_SIPI, 1} } },
	{ "INIT+SIPI, shorthand all but self", PHYS, {0},
	  { X(0, DM_INIT | ASSERT | SH_OTHERS), X(0, SIPI_LO | SH_OTHERS) },
	  { {1, VEC_SIPI, 1}, {2, VEC_SIPI, 1}, {3, VEC_SIPI, 1} } },
	{ "SIPI without INIT is ignored", PHYS, {0},
	  { X(1, SIPI_LO), X(1, 0x64) }, { {1, 0x64, 1} } },
};

/* Per-vCPU LAPIC configuration of a destination setup. */
static void dest_config(struct gvm *v, enum dest_setup d, const uint8_t *tpr)
{
	static const uint8_t cluster_ldr[NCPU] = { 0x01, 0x02, 0x11, 0x12 };

	for (int i = 0; i < NCPU; i++) {
		uint32_t flags = 0;

		switch (d) {
		case PHYS:
			break;
		case FLAT:
			flags |= CPU_XAPIC_LOG;
			gpc_set32(v, i, PC_DFR, 0xffffffff);
			gpc_set32(v, i, PC_LDR, 1u << (24 + i));
			break;
		case CLUSTER:
			flags |= CPU_XAPIC_LOG;
			gpc_set32(v, i, PC_DFR, 0x0fffffff);
			gpc_set32(v, i, PC_LDR, (uint32_t)cluster_ldr[i] << 24);
			break;
		case X2:
			flags |= CPU_X2APIC;
			break;
		}
		if (tpr[0] | tpr[1] | tpr[2] | tpr[3]) {
			flags |= CPU_TPR;
			gpc_set32(v, i, PC_TPR, tpr[i]);
		}
		gpc_set32(v, i, PC_FLAGS, flags);
	}
}

/* Every count of every vCPU (but the wake-up vector) must be as wanted. */
static void check_counts(struct gvm *v, const char *what, const struct want *want,
			 size_t nwant)
{
	for (int cpu = 0; cpu < v->n; cpu++) {
		for (int vec = -1; vec < 256; vec++) {
			uint32_t n = 0, got;

			if (vec == G_VEC_WAKE)
				continue;
			for (size_t k = 0; k < nwant; k++)
				if (want[k].n && want[k].cpu == cpu && want[k].vec == vec)
					n += want[k].n;
			got = vec == VEC_SIPI ? gpc_get32(v, cpu, PC_SIPIS) : gcount(v, cpu, vec);
			if (got != n)
				fail_msg("%s: vCPU %d vector %d ran %u times, want %u",
					 what, cpu, vec, got, n);
		}
	}
}

static void ipi_run(const struct ipi_row *row)
{
	struct want want[NCPU + 1 + 3];
	uint32_t expect = 0, any = 0;
	size_t nwant = 0;
	struct gvm v;

	gvm_create(&v, NCPU, false);
	dest_config(&v, row->dest, row->tpr);
	for (int i = 0; i < NCPU; i++)
		for (int vec = 0x50; vec < 0x70; vec++)
			gvm_eoi(&v, i, vec, EOI_LAPIC);
	for (size_t k = 0; k < sizeof(row->ipis) / sizeof(row->ipis[0]); k++)
		memcpy(v.mem + G_IPIS + 12 * k, &row->ipis[k], 12);
	for (size_t k = 0; k < NCPU + 1 && row->want[k].n; k++) {
		want[nwant++] = row->want[k];
		expect += row->want[k].n;
	}
	expect += row->any_n;
	*g32(&v, G_EXPECT) = expect;

	gvm_enter_pm(&v, 0, G_ENTRY(guest_entry_ipi));
	for (int i = 1; i < NCPU; i++)
		gvm_enter_pm(&v, i, G_ENTRY(guest_entry_idle));
	gvm_start_all(&v);
	gvm_join(&v, 60000);

	for (int vec = row->any_vec; vec < row->any_vec + (int)row->any_n; vec++) {
		any = 0;
		for (int i = 0; i < NCPU; i++) {
			uint32_t n = gcount(&v, i, vec);

			if (!(row->any_mask & (1u << i)))
				assert_int_equal(n, 0);
			any += n;
			/* Account it as wanted, for the exact check below. */
			if (n)
				want[nwant++] = (struct want){ i, vec, n };
		}
		assert_int_equal(any, 1);
	}
	check_counts(&v, row->what, want, nwant);
	/*
	 * Every other vCPU took the final wake-up at most once (none if it saw
	 * G_DONE before it got to HLT).
	 */
	for (int i = 1; i < NCPU; i++)
		assert_true(gcount(&v, i, G_VEC_WAKE) <= 1);
	gvm_destroy(&v);
}

static void test_ipi(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(ipi_rows) / sizeof(ipi_rows[0]); i++) {
		print_message("  %s\n", ipi_rows[i].what);
		ipi_run(&ipi_rows[i]);
	}
}

/* --- Interrupt sources driven by the test --------------------------------- */

enum op {
	END,
	LINE,		/* KVM_IRQ_LINE_STATUS gsi a level b; status c unless NOSTAT */
	MSI,		/* KVM_SIGNAL_MSI address a data b: returns c (-1: EPERM) */
	ROUTE_MSI,	/* add GSI a -> MSI address b data c to the default routing */
	IRQFD,		/* irqfd #c on GSI a, with a resamplefd if b */
	KICK,		/* write irqfd #a */
	RESAMPLED,	/* irqfd #a's resamplefd is signalled (within 5 s) */
	TOTAL,		/* wait until the handlers ran a times */
	SETTLE,		/* give a wrong extra delivery time to happen (50 ms) */
	RIRR,		/* IOAPIC pin a's Remote IRR is b */
	PIC_ISR,	/* master ISR a, slave ISR b (KVM_GET_IRQCHIP) */
	PIC_IRR,	/* master IRR has a, slave IRR has b */
	EOI_NOW,	/* the idle loop of vCPU 0 does its deferred LAPIC EOI */
};
#define NOSTAT 99

struct step { enum op op; uint32_t a, b; int c; };

struct redir { uint32_t pin, lo, hi; };

/* De-assert gsi when vector vec reports for the nth time. */
struct deassert { int vec, nth; uint32_t gsi; };

struct src_row {
	const char *what;
	uint16_t pic_mask, elcr;	/* master | slave << 8 */
	struct redir redir[3];
	struct { int cpu, vec; uint8_t eoi; } eoi[3];
	enum dest_setup dest;
	uint8_t tpr[NCPU];
	struct deassert deassert;
	int snap_pin;			/* IOAPIC pin whose Remote IRR reports record */
	uint8_t snap_want[4];		/* ... and what it must be at report 1, 2, .. */
	struct step steps[14];
	struct want want[3];
};

#define PIC_OFF		0xffff
#define PIN_LEVEL	(1u << 15)
#define PIN_LOGICAL	(1u << 11)
#define PIN_MASKED	(1u << 16)
#define PHYS_DEST(n)	((uint32_t)(n) << 24)
#define MSI_ADDR(dest)	(0xfee00000u | (uint32_t)(dest) << 12)
#define MSI_LOGICAL	(1u << 2)
#define NO_SNAP		-1

static const struct src_row src_rows[] = {
	/* 8259A pair, through the BSP's LINT0 (ExtINT). */
	{ "PIC master, edge", 0xfff7, 0, {{0}}, { {0, 0x23, EOI_MASTER} },
	  PHYS, {0}, {0}, NO_SNAP, {0},
	  { {LINE, 3, 1, 1}, {LINE, 3, 0, NOSTAT}, {TOTAL, 1}, {LINE, 3, 1, 1},
	    {LINE, 3, 0, NOSTAT}, {TOTAL, 2}, {SETTLE}, {PIC_ISR, 0, 0} },
	  { {0, 0x23, 2} } },
	{ "PIC slave, edge, through the cascade", 0xfbfb, 0, {{0}},
	  { {0, 0x2a, EOI_SLAVE | EOI_MASTER} }, PHYS, {0}, {0}, NO_SNAP, {0},
	  { {LINE, 10, 1, 1}, {LINE, 10, 0, NOSTAT}, {TOTAL, 1}, {SETTLE},
	    {PIC_ISR, 0, 0} },
	  { {0, 0x2a, 1} } },
	{ "PIC masked line", 0xfff7, 0, {{0}}, { {0, 0x24, EOI_MASTER} },
	  PHYS, {0}, {0}, NO_SNAP, {0},
	  { {LINE, 4, 1, -1}, {LINE, 4, 0, NOSTAT}, {SETTLE}, {PIC_IRR, 0x10, 0} },
	  { {0} } },
	{ "PIC slave masked at the master's cascade input", 0xfbff, 0, {{0}},
	  { {0, 0x2a, EOI_SLAVE | EOI_MASTER} }, PHYS, {0}, {0}, NO_SNAP, {0},
	  /* The status looks at the slave's own IMR only, as KVM's. */
	  { {LINE, 10, 1, 1}, {LINE, 10, 0, NOSTAT}, {SETTLE}, {PIC_IRR, 0, 0x04} },
	  { {0} } },
	{ "PIC without EOI: same priority waits, higher preempts", 0xfff5, 0, {{0}},
	  { {0, 0x23, 0}, {0, 0x21, EOI_MASTER} }, PHYS, {0}, {0}, NO_SNAP, {0},
	  { {LINE, 3, 1, 1}, {LINE, 3, 0, NOSTAT}, {TOTAL, 1}, {LINE, 3, 1, 1},
	    {LINE, 3, 0, NOSTAT}, {SETTLE}, {PIC_ISR, 0x08, 0}, {PIC_IRR, 0x08, 0},
	    {LINE, 1, 1, 1}, {LINE, 1, 0, NOSTAT}, {TOTAL, 2}, {SETTLE},
	    {PIC_ISR, 0x08, 0} },
	  { {0, 0x23, 1}, {0, 0x21, 1} } },
	{ "PIC ELCR level, de-asserted before EOI", 0xffdf, 0x0020, {{0}},
	  { {0, 0x25, EOI_REPORT | EOI_MASTER} }, PHYS, {0}, {0x25, 1, 5}, NO_SNAP, {0},
	  { {LINE, 5, 1, 1}, {TOTAL, 1}, {SETTLE}, {PIC_IRR, 0, 0} },
	  { {0, 0x25, 1} } },
	{ "PIC ELCR level re-asserts after EOI", 0xffdf, 0x0020, {{0}},
	  { {0, 0x25, EOI_REPORT | EOI_MASTER} }, PHYS, {0}, {0x25, 3, 5}, NO_SNAP, {0},
	  { {LINE, 5, 1, 1}, {TOTAL, 3}, {SETTLE} },
	  { {0, 0x25, 3} } },
	{ "PIC slave ELCR level re-asserts after EOI", 0xf7fb, 0x0800, {{0}},
	  { {0, 0x2b, EOI_REPORT | EOI_SLAVE | EOI_MASTER} }, PHYS, {0}, {0x2b, 2, 11},
	  NO_SNAP, {0},
	  { {LINE, 11, 1, 1}, {TOTAL, 2}, {SETTLE} },
	  { {0, 0x2b, 2} } },
	/* IOAPIC; the PICs are masked. */
	{ "IOAPIC edge, physical", PIC_OFF, 0, { {3, 0x43, PHYS_DEST(1)} },
	  { {1, 0x43, EOI_LAPIC} }, PHYS, {0}, {0}, NO_SNAP, {0},
	  { {LINE, 3, 1, 1}, {LINE, 3, 0, NOSTAT}, {TOTAL, 1}, {LINE, 3, 1, 1},
	    {LINE, 3, 0, NOSTAT}, {TOTAL, 2}, {SETTLE} },
	  { {1, 0x43, 2} } },
	{ "IOAPIC edge, logical flat to two", PIC_OFF, 0,
	  { {4, 0x44 | PIN_LOGICAL, 0x06u << 24} },
	  { {1, 0x44, EOI_LAPIC}, {2, 0x44, EOI_LAPIC} }, FLAT, {0}, {0}, NO_SNAP, {0},
	  { {LINE, 4, 1, NOSTAT}, {LINE, 4, 0, NOSTAT}, {TOTAL, 2}, {SETTLE} },
	  { {1, 0x44, 1}, {2, 0x44, 1} } },
	{ "IOAPIC edge, lowest priority", PIC_OFF, 0,
	  { {4, 0x45 | PIN_LOGICAL | DM_LOWEST, 0x0fu << 24} },
	  { {3, 0x45, EOI_LAPIC} }, FLAT, {0x40, 0x30, 0x20, 0x10}, {0}, NO_SNAP, {0},
	  { {LINE, 4, 1, 1}, {LINE, 4, 0, NOSTAT}, {TOTAL, 1}, {SETTLE} },
	  { {3, 0x45, 1} } },
	{ "IOAPIC masked pin", PIC_OFF, 0, { {3, 0x43 | PIN_MASKED, 0} },
	  { {0, 0x43, EOI_LAPIC} }, PHYS, {0}, {0}, NO_SNAP, {0},
	  { {LINE, 3, 1, -1}, {LINE, 3, 0, NOSTAT}, {SETTLE} },
	  { {0} } },
	{ "IOAPIC NMI", PIC_OFF, 0, { {6, DM_NMI, PHYS_DEST(2)} },
	  { {0} }, PHYS, {0}, {0}, NO_SNAP, {0},
	  { {LINE, 6, 1, 1}, {LINE, 6, 0, NOSTAT}, {TOTAL, 1}, {SETTLE} },
	  { {2, 2, 1} } },
	{ "IOAPIC level: Remote IRR until EOI", PIC_OFF, 0,
	  { {9, 0x49 | PIN_LEVEL, 0} }, { {0, 0x49, EOI_REPORT | EOI_LAPIC} },
	  PHYS, {0}, {0x49, 1, 9}, 9, {1},
	  { {LINE, 9, 1, 1}, {TOTAL, 1}, {SETTLE}, {RIRR, 9, 0} },
	  { {0, 0x49, 1} } },
	{ "IOAPIC level re-asserts after EOI", PIC_OFF, 0,
	  { {9, 0x49 | PIN_LEVEL, PHYS_DEST(3)} }, { {3, 0x49, EOI_REPORT | EOI_LAPIC} },
	  PHYS, {0}, {0x49, 2, 9}, 9, {1, 1},
	  { {LINE, 9, 1, 1}, {TOTAL, 2}, {SETTLE}, {RIRR, 9, 0} },
	  { {3, 0x49, 2} } },
	{ "IOAPIC level: nothing more while Remote IRR", PIC_OFF, 0,
	  { {9, 0x49 | PIN_LEVEL, 0} }, { {0, 0x49, EOI_REPORT | EOI_DEFER} },
	  PHYS, {0}, {0x49, 2, 9}, 9, {1, 1},
	  { {LINE, 9, 1, 1}, {TOTAL, 1}, {LINE, 9, 0, NOSTAT}, {LINE, 9, 1, NOSTAT},
	    {SETTLE}, {RIRR, 9, 1}, {EOI_NOW}, {TOTAL, 2}, {RIRR, 9, 1}, {EOI_NOW},
	    {SETTLE}, {RIRR, 9, 0} },
	  { {0, 0x49, 2} } },
	{ "irqfd, edge", PIC_OFF, 0, { {11, 0x4b, PHYS_DEST(2)} },
	  { {2, 0x4b, EOI_LAPIC} }, PHYS, {0}, {0}, NO_SNAP, {0},
	  { {IRQFD, 11, 0, 0}, {KICK, 0}, {TOTAL, 1}, {KICK, 0}, {TOTAL, 2}, {SETTLE} },
	  { {2, 0x4b, 2} } },
	{ "irqfd, level with resamplefd", PIC_OFF, 0,
	  { {10, 0x4a | PIN_LEVEL, PHYS_DEST(1)} }, { {1, 0x4a, EOI_LAPIC} },
	  PHYS, {0}, {0}, NO_SNAP, {0},
	  /* The resamplefd is signalled before Remote IRR clears, as KVM's. */
	  { {IRQFD, 10, 1, 0}, {KICK, 0}, {TOTAL, 1}, {RESAMPLED, 0}, {KICK, 0}, {TOTAL, 2}, {RESAMPLED, 0}, {SETTLE}, {RIRR, 10, 0} },
	  { {1, 0x4a, 2} } },
	{ "irqfd with resamplefd on a PIC level line", 0xfff7, 0x0008, {{0}},
	  { {0, 0x23, EOI_MASTER} }, PHYS, {0}, {0}, NO_SNAP, {0},
	  { {IRQFD, 3, 1, 0}, {KICK, 0}, {TOTAL, 1}, {RESAMPLED, 0}, {KICK, 0},
	    {TOTAL, 2}, {RESAMPLED, 0}, {SETTLE} },
	  { {0, 0x23, 2} } },
	/* MSI. */
	{ "KVM_SIGNAL_MSI, physical", PIC_OFF, 0, {{0}}, { {1, 0x61, EOI_LAPIC} },
	  PHYS, {0}, {0}, NO_SNAP, {0},
	  { {MSI, MSI_ADDR(1), 0x61, 1}, {TOTAL, 1}, {SETTLE} },
	  { {1, 0x61, 1} } },
	{ "KVM_SIGNAL_MSI, logical flat to two", PIC_OFF, 0, {{0}},
	  { {0, 0x62, EOI_LAPIC}, {3, 0x62, EOI_LAPIC} }, FLAT, {0}, {0}, NO_SNAP, {0},
	  { {MSI, MSI_ADDR(0x09) | MSI_LOGICAL, 0x62, 2}, {TOTAL, 2}, {SETTLE} },
	  { {0, 0x62, 1}, {3, 0x62, 1} } },
	{ "KVM_SIGNAL_MSI, lowest priority", PIC_OFF, 0, {{0}}, { {1, 0x63, EOI_LAPIC} },
	  FLAT, {0x30, 0x10, 0x20, 0x20}, {0}, NO_SNAP, {0},
	  { {MSI, MSI_ADDR(0x0f) | MSI_LOGICAL, 0x163, 1}, {TOTAL, 1}, {SETTLE} },
	  { {1, 0x63, 1} } },
	{ "KVM_SIGNAL_MSI, NMI", PIC_OFF, 0, {{0}}, { {0} }, PHYS, {0}, {0}, NO_SNAP, {0},
	  { {MSI, MSI_ADDR(3), 0x400, 1}, {TOTAL, 1}, {SETTLE} },
	  { {3, 2, 1} } },
	{ "KVM_SIGNAL_MSI, no such LAPIC", PIC_OFF, 0, {{0}}, { {0} }, PHYS, {0}, {0},
	  NO_SNAP, {0},
	  { {MSI, MSI_ADDR(7), 0x61, -1}, {SETTLE} },
	  { {0} } },
	{ "MSI route, KVM_IRQ_LINE", PIC_OFF, 0, {{0}}, { {2, 0x64, EOI_LAPIC} },
	  PHYS, {0}, {0}, NO_SNAP, {0},
	  { {ROUTE_MSI, 40, MSI_ADDR(2), 0x64}, {LINE, 40, 1, 1}, {LINE, 40, 0, NOSTAT},
	    {TOTAL, 1}, {SETTLE} },
	  { {2, 0x64, 1} } },
	{ "MSI route, irqfd", PIC_OFF, 0, {{0}}, { {3, 0x65, EOI_LAPIC} },
	  PHYS, {0}, {0}, NO_SNAP, {0},
	  { {ROUTE_MSI, 41, MSI_ADDR(3), 0x65}, {IRQFD, 41, 0, 0}, {KICK, 0},
	    {TOTAL, 1}, {KICK, 0}, {TOTAL, 2}, {SETTLE} },
	  { {3, 0x65, 2} } },
};

struct src_state {
	const struct src_row *row;
	int reports;
	uint8_t rirr[8];
};

static bool src_hook(struct gvm *v, int cpu, uint16_t port, uint8_t val, uint64_t ns)
{
	struct src_state *s = v->opaque;
	const struct src_row *row = s->row;
	struct kvm_irqchip chip = { .chip_id = KVM_IRQCHIP_IOAPIC };
	struct kvm_irq_level l = { .irq = row->deassert.gsi, .level = 0 };
	int n;

	(void)ns;
	if (port != G_PORT_REPORT)
		return false;
	n = ++s->reports;
	if (row->snap_pin >= 0 && n <= 8) {
		if (gvm_ioctl(v->fd, KVM_GET_IRQCHIP, &chip))
			gcpu_fail(&v->cpu[cpu], "KVM_GET_IRQCHIP");
		s->rirr[n - 1] = chip.chip.ioapic.redirtbl[row->snap_pin].fields.remote_irr;
	}
	if (row->deassert.nth == n && val == row->deassert.vec &&
	    gvm_ioctl(v->fd, KVM_IRQ_LINE, &l))
		gcpu_fail(&v->cpu[cpu], "KVM_IRQ_LINE");
	return false;
}

static void add_msi_route(struct gvm *v, struct kvm_irq_routing *r, uint32_t gsi,
			  uint32_t addr, uint32_t data)
{
	struct kvm_irq_routing_entry *e;

	if (!r->nr) {
		/* KVM's default: GSI n to PIC (n < 16) and IOAPIC pin n. */
		for (uint32_t g = 0; g < 24; g++) {
			e = &r->entries[r->nr++];
			*e = (struct kvm_irq_routing_entry){ .gsi = g,
				.type = KVM_IRQ_ROUTING_IRQCHIP };
			e->u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
			e->u.irqchip.pin = g;
			if (g >= 16)
				continue;
			e = &r->entries[r->nr++];
			*e = (struct kvm_irq_routing_entry){ .gsi = g,
				.type = KVM_IRQ_ROUTING_IRQCHIP };
			e->u.irqchip.irqchip = g < 8 ? KVM_IRQCHIP_PIC_MASTER :
						       KVM_IRQCHIP_PIC_SLAVE;
			e->u.irqchip.pin = g & 7;
		}
	}
	e = &r->entries[r->nr++];
	*e = (struct kvm_irq_routing_entry){ .gsi = gsi, .type = KVM_IRQ_ROUTING_MSI };
	e->u.msi.address_lo = addr;
	e->u.msi.data = data;
	assert_int_equal(gvm_ioctl(v->fd, KVM_SET_GSI_ROUTING, r), 0);
}

static void wait_readable(int fd, const char *what)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint64_t val;

	if (poll(&p, 1, 5000) != 1)
		fail_msg("%s: resamplefd not signalled", what);
	assert_int_equal(read(fd, &val, 8), 8);
	assert_true(val >= 1);
}

static void get_chip(struct gvm *v, uint32_t id, struct kvm_irqchip *chip)
{
	memset(chip, 0, sizeof(*chip));
	chip->chip_id = id;
	assert_int_equal(gvm_ioctl(v->fd, KVM_GET_IRQCHIP, chip), 0);
}

static void src_step(struct gvm *v, const struct src_row *row, const struct step *s,
		     struct kvm_irq_routing *routing, int (*fds)[2])
{
	struct kvm_irqchip m, sl;
	struct kvm_msi msi;
	struct kvm_irqfd irqfd;
	uint64_t one = 1;
	int r;

	switch (s->op) {
	case END:
		break;
	case LINE:
		r = gvm_irq_line(v, s->a, (int)s->b);
		if (s->c != NOSTAT && r != s->c)
			fail_msg("%s: GSI %u level %u: status %d, want %d", row->what,
				 s->a, s->b, r, s->c);
		break;
	case MSI:
		msi = (struct kvm_msi){ .address_lo = s->a, .data = s->b };
		r = gvm_ioctl(v->fd, KVM_SIGNAL_MSI, &msi);
		assert_int_equal(r, s->c);
		if (r < 0)
			assert_int_equal(errno, EPERM);
		break;
	case ROUTE_MSI:
		add_msi_route(v, routing, s->a, s->b, (uint32_t)s->c);
		break;
	case IRQFD:
		fds[s->c][0] = eventfd(0, EFD_CLOEXEC);
		fds[s->c][1] = s->b ? eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK) : -1;
		irqfd = (struct kvm_irqfd){ .fd = (uint32_t)fds[s->c][0], .gsi = s->a };
		if (s->b) {
			irqfd.flags = KVM_IRQFD_FLAG_RESAMPLE;
			irqfd.resamplefd = (uint32_t)fds[s->c][1];
		}
		assert_int_equal(gvm_ioctl(v->fd, KVM_IRQFD, &irqfd), 0);
		break;
	case KICK:
		assert_int_equal(write(fds[s->a][0], &one, 8), 8);
		break;
	case RESAMPLED:
		wait_readable(fds[s->a][1], row->what);
		break;
	case TOTAL:
		gvm_wait_total(v, s->a, 10000);
		break;
	case SETTLE:
		usleep(50000);
		break;
	case RIRR:
		get_chip(v, KVM_IRQCHIP_IOAPIC, &m);
		if (m.chip.ioapic.redirtbl[s->a].fields.remote_irr != s->b)
			fail_msg("%s: pin %u Remote IRR %u, want %u", row->what, s->a,
				 m.chip.ioapic.redirtbl[s->a].fields.remote_irr, s->b);
		break;
	case PIC_ISR:
		get_chip(v, KVM_IRQCHIP_PIC_MASTER, &m);
		get_chip(v, KVM_IRQCHIP_PIC_SLAVE, &sl);
		assert_int_equal(m.chip.pic.isr, s->a);
		assert_int_equal(sl.chip.pic.isr, s->b);
		break;
	case PIC_IRR:
		get_chip(v, KVM_IRQCHIP_PIC_MASTER, &m);
		get_chip(v, KVM_IRQCHIP_PIC_SLAVE, &sl);
		assert_int_equal(m.chip.pic.irr & ~0x04u & s->a, s->a);
		assert_int_equal(sl.chip.pic.irr & s->b, s->b);
		if (!s->a)
			assert_int_equal(m.chip.pic.irr & ~0x04u, 0);
		break;
	case EOI_NOW: {
		struct kvm_msi wake = { .address_lo = MSI_ADDR(0), .data = G_VEC_WAKE };

		__atomic_store_n(g32(v, G_EOI_NOW), 1, __ATOMIC_SEQ_CST);
		assert_int_equal(gvm_ioctl(v->fd, KVM_SIGNAL_MSI, &wake), 1);
		break;
	}
	}
}

static void src_run(const struct src_row *row)
{
	struct kvm_irq_routing *routing;
	struct src_state st = { .row = row };
	int fds[2][2] = { { -1, -1 }, { -1, -1 } };
	size_t nwant = 0, nredir = 0;
	struct gvm v;

	routing = calloc(1, sizeof(*routing) + 64 * sizeof(routing->entries[0]));
	assert_non_null(routing);
	gvm_create(&v, NCPU, false);
	dest_config(&v, row->dest, row->tpr);
	gpc_set32(&v, 0, PC_FLAGS, gpc_get32(&v, 0, PC_FLAGS) | CPU_CHIPS);
	*g32(&v, G_PIC_INIT) = 1;
	*g32(&v, G_PIC_MASK) = row->pic_mask;
	*g32(&v, G_ELCR) = row->elcr;
	for (; nredir < 3 && (row->redir[nredir].lo || row->redir[nredir].pin); nredir++)
		memcpy(v.mem + G_REDIR + 12 * nredir, &row->redir[nredir], 12);
	*g32(&v, G_NREDIR) = (uint32_t)nredir;
	for (int k = 0; k < 3; k++)
		if (row->eoi[k].vec)
			gvm_eoi(&v, row->eoi[k].cpu, row->eoi[k].vec, row->eoi[k].eoi);
	v.hook = src_hook;
	v.opaque = &st;
	for (int i = 0; i < NCPU; i++)
		gvm_enter_pm(&v, i, G_ENTRY(guest_entry_idle));
	gvm_start_all(&v);
	gvm_wait_logged(&v, G_PORT_READY, NCPU, 10000);

	for (size_t k = 0; k < sizeof(row->steps) / sizeof(row->steps[0]); k++)
		src_step(&v, row, &row->steps[k], routing, fds);
	gvm_finish(&v);

	while (nwant < 3 && row->want[nwant].n)
		nwant++;
	check_counts(&v, row->what, row->want, nwant);
	for (int k = 0; row->snap_pin >= 0 && k < 4 && row->snap_want[k]; k++)
		if (st.rirr[k] != row->snap_want[k])
			fail_msg("%s: Remote IRR %u at report %d, want %u", row->what,
				 st.rirr[k], k + 1, row->snap_want[k]);
	for (int k = 0; k < 2; k++)
		for (int j = 0; j < 2; j++)
			if (fds[k][j] >= 0)
				close(fds[k][j]);
	free(routing);
	gvm_destroy(&v);
}

static void test_sources(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(src_rows) / sizeof(src_rows[0]); i++) {
		print_message("  %s\n", src_rows[i].what);
		src_run(&src_rows[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipi),
		cmocka_unit_test(test_sources),
	};

	if (gvm_kvm_missing())
		return 77;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
