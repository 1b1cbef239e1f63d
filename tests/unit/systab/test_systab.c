// SPDX-License-Identifier: MIT
/*
 * test_systab.c - system behaviour through the KVM ABI, one row per case:
 * the host builds the GDT, IDT, TSS and page tables by hand in guest
 * memory, sets the row's mode with KVM_SET_SREGS, runs a snippet of
 * systab_guest.S to its exit and compares every OUT the guest made and
 * the final exit with the row.  Exception rows end in a handler that
 * reports vector, error code, CR2, its own RFLAGS and ECX.
 *
 * The same table runs on skvm (test "systab") and, with
 * SKVM_GUEST_TESTS_ON_KVM=1, on the kernel's /dev/kvm ("systab-kvm": the
 * rows without a ref_quirk; skipped where it is absent or cannot create a
 * VM).
 */
#include <sys/syscall.h>

#include "guest_vm.h"
#include "systab_layout.h"

/*
 * libskvm, linked in for skvm_open(), also interposes open() and ioctl()
 * on /dev/kvm; the kernel's device is reached by the system calls.
 */
static int kvm_open(void)
{
	return (int)syscall(SYS_openat, AT_FDCWD, "/dev/kvm", O_RDWR | O_CLOEXEC);
}

#define st_ioctl(fd, req, arg)	\
	(gvm_on_kvm ? (int)syscall(SYS_ioctl, (fd), (req), (arg)) : \
		      skvm_ioctl((fd), (req), (arg)))

extern const uint8_t systab_image[], systab_image_end[];
extern const uint8_t systab_stubs16[], systab_stubs32[], systab_stubs64[];
extern const uint8_t st32_paging_on[];
extern const uint8_t st16_ud[], st16_de[], st32_pop_ss_shadow[];
extern const uint8_t st64_int3[], st64_user_int[];
extern const uint8_t st_real_to_long[];
extern const uint8_t st32_read[], st32_write[], st32_fetch[], st32_ud[], st32_de[];
extern const uint8_t st32_sel_beyond_limit[], st32_sel_not_present[], st32_null_ss[];
extern const uint8_t st32_sti_shadow[], st32_tf[], st32_mov_ss_shadow[];
extern const uint8_t st64_read[], st64_write[], st64_fetch[], st64_ud[], st64_de[];
extern const uint8_t st64_noncanonical[], st64_user_read[], st64_user_write[];
extern const uint8_t st64_syscall[];

#define ST_GUEST(sym)	((uint32_t)((sym) - systab_image) + ST_IMAGE)

/* Page-table entry bits. */
#define P	0x001ull
#define RW	0x002ull
#define US	0x004ull
#define PS	0x080ull
#define NX	(1ull << 63)

#define CR0_WP	(1u << 16)
#define EFER_SCE	0x001u
#define EFER_NXE	0x800u

#define IRQ_VEC	0x30

enum mode { REAL, PM, PG32, PAE, LONG };

struct out { uint16_t port; uint32_t val; };

struct row {
	const char *what;
	enum mode mode;
	const uint8_t *entry;
	uint64_t pte;		/* the test page's PTE flags */
	uint64_t pde;		/* non-zero: the test PDE itself (PAE, 4-level) */
	uint32_t cr0, efer;	/* bits added to the mode's */
	uint32_t rflags;	/* 0: 2 */
	uint32_t gate[2];	/* GATE(): one vector's gate attributes */
	uint32_t exit;		/* 0: KVM_EXIT_HLT */
	/*
	 * Non-NULL: what this machine's /dev/kvm (a nested emulator, not
	 * hardware) gets wrong in the row, which then runs on skvm only.
	 * Hardware KVM runs these guests natively, as the SDM says.
	 */
	const char *ref_quirk;
	struct out want[10];	/* every OUT, in order; port 0 ends */
};

#define GATE(vec, attr)	(0x10000u | (attr) << 8 | (vec))
#define HANDLER(vec, err, cr2, fl, ecx) \
	{ 0x10, vec }, { 0x11, err }, { 0x12, cr2 }, { 0x13, fl }, { 0x14, ecx }
#define FAULT(vec, err, cr2)	HANDLER(vec, err, cr2, 2, 0)

/* #PF error code bits. */
#define PF_P	0x01
#define PF_W	0x02
#define PF_U	0x04
#define PF_RSVD	0x08
#define PF_I	0x10

#define Q_WINDOW	"the interrupt window opens at the next HLT, not after STI's shadow"
#define Q_MOV_SS	"the single-step trap comes right after MOV SS / POP SS"
#define Q_LEGACY_PG	"CR0.PG without EFER.LME: dropped by KVM_SET_SREGS, #GP from MOV CR0"
#define Q_INT		"INT3 and INT n in long mode fail (internal error, #UD)"
#define Q_SYSRET	"a valid SYSRET to 64-bit CPL 3 raises #GP(0)"

static const struct row rows[] = {
	/* Mode switch. */
	{ "real -> protected -> long mode", REAL, st_real_to_long,
	  .want = { { 0x17, 0x60000011 }, { 0x17, 0x500 }, { 0x17, ST_SEL_CODE64 } } },

	/* Real mode: through the IVT, which clears IF. */
	{ "real: #UD", REAL, st16_ud, .rflags = 0x202,
	  .want = { HANDLER(6, 0, 0, 0x2, 0) } },
	{ "real: #DE", REAL, st16_de, .want = { FAULT(0, 0, 0) } },

	/* Faults without paging (32-bit protected mode). */
	{ "pm32: #UD", PM, st32_ud, .want = { FAULT(6, 0, 0) } },
	{ "pm32: #DE", PM, st32_de, .want = { FAULT(0, 0, 0) } },
	{ "pm32: #GP(sel), selector past the GDT limit", PM, st32_sel_beyond_limit,
	  .want = { FAULT(13, ST_SEL_BEYOND, 0) } },
	{ "pm32: #NP(sel), not-present data segment", PM, st32_sel_not_present,
	  .want = { FAULT(11, ST_SEL_NP, 0) } },
	{ "pm32: #GP(0), null selector into SS", PM, st32_null_ss,
	  .want = { FAULT(13, 0, 0) } },

	/* Gates and double faults. */
	{ "pm32: interrupt gate clears IF", PM, st32_ud, .rflags = 0x202,
	  .want = { HANDLER(6, 0, 0, 0x2, 0) } },
	{ "pm32: trap gate keeps IF", PM, st32_ud, .rflags = 0x202,
	  .gate = { GATE(6, 0x8f) }, .want = { HANDLER(6, 0, 0, 0x202, 0) } },
	{ "pm32: #DE through a not-present gate: #NP, so #DF", PM, st32_de,
	  .gate = { GATE(0, 0x0e) }, .want = { FAULT(8, 0, 0) } },
	{ "pm32: ... and a not-present #DF gate: triple fault", PM, st32_de,
	  .gate = { GATE(0, 0x0e), GATE(8, 0x0e) }, .exit = KVM_EXIT_SHUTDOWN },

	/* Shadows. */
	{ "pm32: STI shadow holds a pending interrupt one instruction", PM,
	  st32_sti_shadow, .ref_quirk = Q_WINDOW,
	  .want = { { 0x1e, 0 }, HANDLER(IRQ_VEC, 0, 0, 0x2, 1) } },
	{ "pm32: TF set by POPF traps after the next instruction", PM, st32_tf,
	  .want = { HANDLER(1, 0, 0, 0x2, 0) } },
	{ "pm32: MOV SS holds the single-step trap one instruction", PM,
	  st32_mov_ss_shadow, .ref_quirk = Q_MOV_SS,
	  .want = { HANDLER(1, 0, 0, 0x2, 1) } },
	{ "pm32: POP SS holds the single-step trap one instruction", PM,
	  st32_pop_ss_shadow, .ref_quirk = Q_MOV_SS,
	  .want = { HANDLER(1, 0, 0, 0x2, 1) } },

	/* 32-bit paging (turned on by the guest: st32_paging_on). */
	{ "paging32: read, not present", PG32, st32_read, .pte = 0,
	  .ref_quirk = Q_LEGACY_PG, .want = { FAULT(14, 0, ST_TVA) } },
	{ "paging32: write to read-only, CR0.WP=1", PG32, st32_write,
	  .pte = P | US, .cr0 = CR0_WP, .ref_quirk = Q_LEGACY_PG,
	  .want = { FAULT(14, PF_P | PF_W, ST_TVA) } },
	{ "paging32: write to read-only, CR0.WP=0: done", PG32, st32_write,
	  .pte = P | US, .ref_quirk = Q_LEGACY_PG,
	  .want = { { 0x17, 0x5a5a5a5a } } },
	{ "paging32: read, present", PG32, st32_read, .pte = P,
	  .ref_quirk = Q_LEGACY_PG, .want = { { 0x17, 0xc0ffee } } },

	/* PAE. */
	{ "pae: fetch from NX page", PAE, st32_fetch, .pte = P | RW | NX,
	  .efer = EFER_NXE, .ref_quirk = Q_LEGACY_PG,
	  .want = { FAULT(14, PF_P | PF_I, ST_TVA) } },
	{ "pae: reserved bit in a 2 MiB PDE", PAE, st32_read,
	  .pde = P | RW | PS | 1u << 13, .ref_quirk = Q_LEGACY_PG,
	  .want = { FAULT(14, PF_P | PF_RSVD, ST_TVA) } },
	{ "pae: write, not present", PAE, st32_write, .pte = 0,
	  .ref_quirk = Q_LEGACY_PG, .want = { FAULT(14, PF_W, ST_TVA) } },

	/* 4-level paging, CPL 0. */
	{ "long: read, not present", LONG, st64_read, .pte = 0,
	  .want = { FAULT(14, 0, ST_TVA) } },
	{ "long: write, not present", LONG, st64_write, .pte = 0,
	  .want = { FAULT(14, PF_W, ST_TVA) } },
	{ "long: write to read-only, CR0.WP=1", LONG, st64_write, .pte = P,
	  .cr0 = CR0_WP, .want = { FAULT(14, PF_P | PF_W, ST_TVA) } },
	{ "long: write to read-only, CR0.WP=0: done", LONG, st64_write, .pte = P,
	  .want = { { 0x17, 0x5a5a5a5a } } },
	{ "long: fetch from NX page", LONG, st64_fetch, .pte = P | RW | NX,
	  .efer = EFER_NXE, .want = { FAULT(14, PF_P | PF_I, ST_TVA) } },
	{ "long: reserved bit in a 2 MiB PDE", LONG, st64_read,
	  .pde = P | RW | PS | 1u << 13, .want = { FAULT(14, PF_P | PF_RSVD, ST_TVA) } },
	{ "long: #PF through a not-present gate: #NP, so #DF", LONG, st64_read,
	  .pte = 0, .gate = { GATE(14, 0x0e) }, .want = { FAULT(8, 0, ST_TVA) } },

	{ "long: ... and a not-present #DF gate: triple fault", LONG, st64_read,
	  .pte = 0, .gate = { GATE(14, 0x0e), GATE(8, 0x0e) },
	  .exit = KVM_EXIT_SHUTDOWN },

	/* 4-level paging, CPL 3. */
	{ "long: user read of a supervisor page", LONG, st64_user_read, .pte = P | RW,
	  .want = { HANDLER(14, PF_P | PF_U, ST_TVA, 0x2, 0) } },
	{ "long: user write to read-only, CR0.WP=0 too", LONG, st64_user_write,
	  .pte = P | US, .want = { HANDLER(14, PF_P | PF_W | PF_U, ST_TVA, 0x2, 0) } },
	{ "long: user write, not present", LONG, st64_user_write, .pte = 0,
	  .want = { HANDLER(14, PF_W | PF_U, ST_TVA, 0x2, 0) } },
	{ "long: user read of a user page, then HLT at CPL 3: #GP(0)", LONG,
	  st64_user_read, .pte = P | US,
	  .want = { HANDLER(13, 0, 0, 0x2, 0xc0ffee) } },

	/* 4-level, other faults. */
	{ "long: #GP(0), non-canonical address", LONG, st64_noncanonical,
	  .want = { FAULT(13, 0, 0) } },
	{ "long: #UD", LONG, st64_ud, .want = { FAULT(6, 0, 0) } },
	{ "long: #DE", LONG, st64_de, .want = { FAULT(0, 0, 0) } },
	{ "long: trap gate keeps IF", LONG, st64_ud, .rflags = 0x202,
	  .gate = { GATE(6, 0x8f) }, .want = { HANDLER(6, 0, 0, 0x202, 0) } },
	{ "long: interrupt gate clears IF", LONG, st64_ud, .rflags = 0x202,
	  .want = { HANDLER(6, 0, 0, 0x2, 0) } },

	{ "long: INT3: #BP", LONG, st64_int3, .ref_quirk = Q_INT,
	  .want = { FAULT(3, 0, 0) } },
	{ "long: INT n at CPL 3 through a DPL-0 gate: #GP(vector << 3 | 2)", LONG,
	  st64_user_int, .ref_quirk = Q_INT,
	  .want = { HANDLER(13, 0x21 << 3 | 2, 0, 0x2, 0) } },

	/* SYSCALL/SYSRET. */
	{ "long: SYSRET to CPL 3, SYSCALL back (STAR, LSTAR, SFMASK)", LONG,
	  st64_syscall, .efer = EFER_SCE, .ref_quirk = Q_SYSRET,
	  .want = { { 0x18, ST_SEL_UCODE64 | 3 }, { 0x19, ST_SEL_UDATA | 3 },
		    { 0x18, ST_SEL_CODE64 }, { 0x19, ST_SEL_DATA64 },
		    { 0x13, 0x2 }, { 0x1b, 0x202 }, { 0x1c, 1 } } },
};

struct sys {
	int sys, vm, vcpu;
	struct kvm_run *run;
	long run_size;
	uint8_t *mem;
};

static void put64(struct sys *s, uint32_t gpa, uint64_t v)
{
	memcpy(s->mem + gpa, &v, 8);
}

static void put32(struct sys *s, uint32_t gpa, uint32_t v)
{
	memcpy(s->mem + gpa, &v, 4);
}

/* GDT, TSS and the gates of the row's mode. */
static void build_tables(struct sys *s, const struct row *r)
{
	bool lm = r->mode == LONG;
	uint32_t stubs = lm ? ST_GUEST(systab_stubs64) : ST_GUEST(systab_stubs32);
	uint16_t lim = ST_GDT_LIMIT;
	uint32_t base = ST_GDT;

	put64(s, ST_GDT + ST_SEL_CODE32, gdt_entry(0, 0xfffff, 0x9a, 0xc));
	put64(s, ST_GDT + ST_SEL_DATA, gdt_entry(0, 0xfffff, 0x92, 0xc));
	put64(s, ST_GDT + ST_SEL_CODE64, gdt_entry(0, 0xfffff, 0x9a, 0xa));
	put64(s, ST_GDT + ST_SEL_DATA64, gdt_entry(0, 0xfffff, 0x92, 0xc));
	put64(s, ST_GDT + ST_SEL_UCODE32, gdt_entry(0, 0xfffff, 0xfa, 0xc));
	put64(s, ST_GDT + ST_SEL_UDATA, gdt_entry(0, 0xfffff, 0xf2, 0xc));
	put64(s, ST_GDT + ST_SEL_UCODE64, gdt_entry(0, 0xfffff, 0xfa, 0xa));
	put64(s, ST_GDT + ST_SEL_TSS, gdt_entry(ST_TSS, 0x67, 0x8b, 0));
	put64(s, ST_GDT + ST_SEL_NP, gdt_entry(0, 0xfffff, 0x12, 0xc));
	memcpy(s->mem + ST_GDTR, &lim, 2);
	memcpy(s->mem + ST_GDTR + 2, &base, 4);
	if (lm) {
		put64(s, ST_TSS + 4, ST_STACK);		/* RSP0 */
	} else {
		put32(s, ST_TSS + 4, ST_STACK);		/* ESP0, SS0 */
		put32(s, ST_TSS + 8, ST_SEL_DATA);
	}
	s->mem[ST_TSS + 0x66] = 0x68;			/* no I/O bitmap */

	for (uint32_t vec = 0; vec < ST_NVEC; vec++)	/* IVT, segment 0 */
		put32(s, 4 * vec, ST_GUEST(systab_stubs16) + 16 * vec);
	for (int vec = 0; vec < ST_NVEC; vec++) {
		uint32_t off = stubs + 16 * (uint32_t)vec;
		uint8_t attr = 0x8e;
		uint16_t cs = lm ? ST_SEL_CODE64 : ST_SEL_CODE32;

		for (int i = 0; i < 2; i++)
			if ((r->gate[i] & 0x10000) && (r->gate[i] & 0xff) == (uint32_t)vec)
				attr = (uint8_t)(r->gate[i] >> 8);
		if (lm) {
			put64(s, ST_IDT + 16 * (uint32_t)vec,
			      (off & 0xffff) | (uint64_t)cs << 16 | (uint64_t)attr << 40 |
			      (uint64_t)(off >> 16) << 48);
			put64(s, ST_IDT + 16 * (uint32_t)vec + 8, 0);
		} else {
			put64(s, ST_IDT + 8 * (uint32_t)vec,
			      (off & 0xffff) | (uint64_t)cs << 16 | (uint64_t)attr << 40 |
			      (uint64_t)(off >> 16) << 48);
		}
	}
}

/*
 * Every paging mode's tables: the first 2 MiB identity mapped (user,
 * writable, so CPL 3 snippets run from the image), ST_TVA -> ST_TPA with
 * the row's PTE flags (or PDE).
 */
static void build_paging(struct sys *s, const struct row *r)
{
	uint64_t up = P | RW | US;
	uint64_t pde_t = r->pde ? r->pde : ST_PT_T | up;

	for (uint32_t i = 0; i < 512; i++)
		put64(s, ST_PT + 8 * i, (uint64_t)i << 12 | up);
	put64(s, ST_PML4, ST_PDPT | up);
	put64(s, ST_PDPT, ST_PD | up);
	put64(s, ST_PDPT + 8, ST_PD_T | up);
	put64(s, ST_PD, ST_PT | up);
	put64(s, ST_PD_T, pde_t);
	put64(s, ST_PT_T, ST_TPA | r->pte);

	/* PAE: PDPTEs have only P and the address. */
	put64(s, ST_PAE_PDPT, ST_PAE_PD | P);
	put64(s, ST_PAE_PDPT + 8, ST_PD_T | P);
	put64(s, ST_PAE_PD, ST_PT | up);

	/* 32-bit paging: 4-byte entries, the test PT at PD[ST_TVA >> 22]. */
	for (uint32_t i = 0; i < 512; i++)
		put32(s, ST_PT32 + 4 * i, i << 12 | (uint32_t)up);
	put32(s, ST_PD32, ST_PT32 | (uint32_t)up);
	put32(s, ST_PD32 + 4 * (ST_TVA >> 22), ST_PT32_T | (uint32_t)up);
	put32(s, ST_PT32_T, ST_TPA | (uint32_t)r->pte);

	put32(s, ST_TPA, 0xc0ffee);
}

static void seg(struct kvm_segment *sg, uint16_t sel, uint8_t type, bool l)
{
	memset(sg, 0, sizeof(*sg));
	sg->selector = sel;
	sg->limit = 0xffffffff;
	sg->type = type;
	sg->present = 1;
	sg->s = 1;
	sg->db = !l;
	sg->l = l;
	sg->g = 1;
}

static void set_mode(struct sys *s, const struct row *r)
{
	struct kvm_sregs sr;
	struct kvm_regs regs = { 0 };
	bool lm = r->mode == LONG;

	assert_int_equal(st_ioctl(s->vcpu, KVM_GET_SREGS, &sr), 0);
	if (r->mode == REAL) {
		sr.cs.selector = 0;
		sr.cs.base = 0;
	} else {
		seg(&sr.cs, lm ? ST_SEL_CODE64 : ST_SEL_CODE32, 0xb, lm);
		seg(&sr.ds, lm ? ST_SEL_DATA64 : ST_SEL_DATA, 0x3, false);
		sr.es = sr.ds;
		sr.fs = sr.ds;
		sr.gs = sr.ds;
		sr.ss = sr.ds;
		memset(&sr.tr, 0, sizeof(sr.tr));
		sr.tr.selector = ST_SEL_TSS;
		sr.tr.base = ST_TSS;
		sr.tr.limit = 0x67;
		sr.tr.type = 0xb;
		sr.tr.present = 1;
		sr.gdt.base = ST_GDT;
		sr.gdt.limit = ST_GDT_LIMIT;
		sr.idt.base = ST_IDT;
		sr.idt.limit = (uint16_t)((lm ? 16 : 8) * 256 - 1);
		sr.cr0 = 0x11 | r->cr0;			/* PE, ET */
		sr.cr4 = 0;
		sr.efer = r->efer;
	}
	switch (r->mode) {
	/*
	 * 32-bit and PAE paging are turned on by the guest (st32_paging_on):
	 * this machine's /dev/kvm drops CR0.PG from KVM_SET_SREGS outside
	 * long mode.
	 */
	case PG32:
		sr.cr3 = ST_PD32;
		break;
	case PAE:
		sr.cr4 = 0x20;
		sr.cr3 = ST_PAE_PDPT;
		break;
	case LONG:
		sr.cr0 |= 0x80000000u;
		sr.cr4 = 0x20;
		sr.cr3 = ST_PML4;
		sr.efer |= 0x500;			/* LME, LMA */
		break;
	default:
		break;
	}
	assert_int_equal(st_ioctl(s->vcpu, KVM_SET_SREGS, &sr), 0);
	regs.rip = ST_GUEST(r->entry);
	if (r->mode == PG32 || r->mode == PAE) {
		regs.rip = ST_GUEST(st32_paging_on);
		regs.rdi = ST_GUEST(r->entry);
	}
	regs.rsp = r->mode == REAL ? 0x7000 : ST_STACK;
	regs.rsi = ST_TVA;
	regs.rflags = r->rflags ? r->rflags : 2;
	assert_int_equal(st_ioctl(s->vcpu, KVM_SET_REGS, &regs), 0);
}

static void sys_create(struct sys *s)
{
	struct kvm_userspace_memory_region region = { 0 };
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 100 * sizeof(c->entries[0]));

	s->sys = gvm_on_kvm ? kvm_open() : skvm_open(O_RDWR);
	assert_true(!gvm_on_kvm || !skvm_is_skvm_fd(s->sys));
	assert_true(s->sys >= 0);
	s->vm = st_ioctl(s->sys, KVM_CREATE_VM, 0);
	assert_true(s->vm >= 0);
	s->mem = mmap(NULL, ST_MEM_SIZE, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(s->mem != MAP_FAILED);
	region.memory_size = ST_MEM_SIZE;
	region.userspace_addr = (uintptr_t)s->mem;
	assert_int_equal(st_ioctl(s->vm, KVM_SET_USER_MEMORY_REGION, &region), 0);
	s->vcpu = st_ioctl(s->vm, KVM_CREATE_VCPU, 0);
	assert_true(s->vcpu >= 0);
	s->run_size = st_ioctl(s->sys, KVM_GET_VCPU_MMAP_SIZE, 0);
	assert_true(s->run_size > 0);
	s->run = mmap(NULL, (size_t)s->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      s->vcpu, 0);
	assert_true(s->run != MAP_FAILED);
	/* CPUID as supported: NX, SYSCALL and long mode for the guest. */
	assert_non_null(c);
	c->nent = 100;
	assert_int_equal(st_ioctl(s->sys, KVM_GET_SUPPORTED_CPUID, c), 0);
	assert_int_equal(st_ioctl(s->vcpu, KVM_SET_CPUID2, c), 0);
	free(c);
}

static void sys_destroy(struct sys *s)
{
	munmap(s->run, (size_t)s->run_size);
	close(s->vcpu);
	close(s->vm);
	close(s->sys);
	munmap(s->mem, ST_MEM_SIZE);
}

static void print_outs(const char *what, const struct out *o, int n)
{
	print_message("    %s:", what);
	for (int i = 0; i < n; i++)
		print_message(" %#x=%#x", o[i].port, o[i].val);
	print_message("\n");
}

static void test_row(void **state)
{
	const struct row *r = *state;
	struct sys s;
	struct out got[32];
	int ngot = 0, nwant = 0;
	bool pending = false, ok;
	uint32_t exit = 0;

	if (r->ref_quirk && gvm_on_kvm) {
		print_message("    skvm only: %s\n", r->ref_quirk);
		skip();
	}
	sys_create(&s);
	memcpy(s.mem + ST_IMAGE, systab_image, (size_t)(systab_image_end - systab_image));
	build_tables(&s, r);
	build_paging(&s, r);
	set_mode(&s, r);

	for (int steps = 0; steps < 100 && !exit; steps++) {
		struct kvm_run *run = s.run;

		if (pending && run->ready_for_interrupt_injection && run->if_flag) {
			struct kvm_interrupt irq = { .irq = IRQ_VEC };

			assert_int_equal(st_ioctl(s.vcpu, KVM_INTERRUPT, &irq), 0);
			pending = false;
		}
		run->request_interrupt_window = pending;
		if (st_ioctl(s.vcpu, KVM_RUN, 0) < 0) {
			assert_int_equal(errno, EINTR);
			continue;
		}
		switch (run->exit_reason) {
		case KVM_EXIT_IO: {
			uint32_t v = 0;

			assert_int_equal(run->io.direction, KVM_EXIT_IO_OUT);
			memcpy(&v, (uint8_t *)run + run->io.data_offset, run->io.size);
			if (ngot < 32)
				got[ngot++] = (struct out){ run->io.port, v };
			if (run->io.port == 0x1e)
				pending = true;
			break;
		}
		case KVM_EXIT_IRQ_WINDOW_OPEN:
			break;
		case KVM_EXIT_HLT:
			/* An interrupt still owed is injected at the HLT. */
			if (!(pending && run->ready_for_interrupt_injection && run->if_flag))
				exit = KVM_EXIT_HLT;
			break;
		default:
			exit = run->exit_reason;
			break;
		}
	}

	while (nwant < 10 && r->want[nwant].port)
		nwant++;
	ok = ngot == nwant;
	for (int i = 0; ok && i < nwant; i++)
		ok = got[i].port == r->want[i].port && got[i].val == r->want[i].val;
	if (!ok) {
		print_outs("want", r->want, nwant);
		print_outs("got ", got, ngot);
		print_message("    exit %u (internal error %u)\n", exit,
			      exit == KVM_EXIT_INTERNAL_ERROR ? s.run->internal.suberror : 0);
	}
	sys_destroy(&s);
	assert_true(ok);
	assert_int_equal(exit, r->exit ? r->exit : KVM_EXIT_HLT);
}

int main(void)
{
	struct CMUnitTest tests[sizeof(rows) / sizeof(rows[0])];
	gvm_on_kvm = getenv("SKVM_GUEST_TESTS_ON_KVM") &&
		     !strcmp(getenv("SKVM_GUEST_TESTS_ON_KVM"), "1");
	if (gvm_on_kvm) {
		/* 77: skip where /dev/kvm is absent or cannot make a VM. */
		int fd = kvm_open();
		int vm = fd < 0 ? -1 : st_ioctl(fd, KVM_CREATE_VM, 0);

		if (vm < 0)
			return 77;
		close(vm);
		close(fd);
	}
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		tests[i] = (struct CMUnitTest){
			.name = rows[i].what,
			.test_func = test_row,
			.initial_state = (void *)&rows[i],
		};
	return cmocka_run_group_tests_name(gvm_on_kvm ? "systab-kvm" : "systab",
					   tests, NULL, NULL);
}
