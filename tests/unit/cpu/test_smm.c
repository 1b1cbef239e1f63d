// SPDX-License-Identifier: MIT
/*
 * test_smm.c - system-management mode in the engine, one table row per
 * case: an SMI taken from real, protected and long mode with the 64-bit
 * and the 32-bit save-state map, the SMM environment and the saved state
 * seen from inside, RSM back to the same state, SMRAM as its own address
 * space, SMIs blocked and NMIs held in SMM, RSM outside SMM and RSM of a
 * state the CPU cannot load.
 *
 * The host gives the vCPU two address spaces, as KVM does: normal RAM
 * (the test host's), and in SMM only the 64 KiB of SMRAM at SMBASE,
 * backed by a buffer of its own.  Normal RAM at the same addresses holds
 * HLTs, so code or data taken from the wrong space shows.
 */
#include <stdlib.h>
#include <string.h>

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include "test_host.h"

#define SMBASE		0x200000u
#define SMRAM_SIZE	0x10000u
#define SAVE(off)	(0x8000u + (off))	/* save-map offset in SMRAM */
#define MARK_OFF	0x100u			/* SMRAM data the handler reads */
#define MARK		0x5a

/* The outer guest: "ready", then "back" once the SMI is over; HLT. */
static const uint8_t outer[] = { 0xe6, 0x20, 0xe6, 0x21, 0xf4 };
#define OUTER_BACK	2			/* offset of the second OUT */

/*
 * The SMM handler at SMBASE + 0x8000 (16-bit, CS.base = SMBASE): read a
 * byte of SMRAM through CS, report it on port 0x10, RSM.
 */
static const uint8_t handler[] = {
	0x2e, 0xa0, MARK_OFF & 0xff, MARK_OFF >> 8,	/* mov %cs:MARK_OFF, %al */
	0xe6, 0x10,					/* out %al, $0x10 */
	0x0f, 0xaa,					/* rsm */
};
#define HANDLER_RSM	6

struct smm_host {
	struct th *t;
	uint8_t *smram;
	bool no_lm;		/* CPUID without long mode: the 32-bit map */
};

/* One vCPU at a time: the host of the running test. */
static struct smm_host *cur_host;

static struct smm_host *host_of(struct x86_cpu *cpu)
{
	return cur_host;
}

static void *smm_gpa_page(struct x86_cpu *cpu, uint64_t gpa, bool write)
{
	struct smm_host *h = host_of(cpu);

	if (!cpu->ev.smm)
		return gpa < TH_RAM_SIZE && (gpa < TH_MMIO_BASE ||
		       gpa >= TH_MMIO_BASE + TH_MMIO_SIZE) ?
		       h->t->ram + (gpa & ~0xfffull) : NULL;
	if (gpa < SMBASE || gpa >= SMBASE + SMRAM_SIZE)
		return NULL;
	return h->smram + ((gpa - SMBASE) & ~0xfffull);
}

static void smm_cpuid(struct x86_cpu *cpu, uint32_t leaf, uint32_t sub,
		      uint32_t out[4])
{
	if (!x86_cpu_implemented_cpuid(leaf, sub, out))
		memset(out, 0, 16);
	if (leaf == 0x80000001 && host_of(cpu)->no_lm)
		out[3] &= ~(1u << 29);
}

static int smm_changes;

static void smm_changed(struct x86_cpu *cpu)
{
	smm_changes++;
}

static struct smm_host *smm_host_new(bool no_lm)
{
	struct smm_host *h = calloc(1, sizeof(*h));

	assert_non_null(h);
	cur_host = h;
	h->t = th_new();
	h->t->ops.gpa_page = smm_gpa_page;
	h->t->ops.cpuid = smm_cpuid;
	h->t->ops.smm_changed = smm_changed;
	h->no_lm = no_lm;
	h->smram = calloc(1, SMRAM_SIZE);
	assert_non_null(h->smram);
	memcpy(h->smram + 0x8000, handler, sizeof(handler));
	h->smram[MARK_OFF] = MARK;
	/* normal RAM under SMRAM: HLTs */
	memset(h->t->ram + SMBASE, 0xf4, SMRAM_SIZE);
	h->t->cpu.smbase = SMBASE;
	smm_changes = 0;
	return h;
}

static void smm_host_free(struct smm_host *h)
{
	free(h->smram);
	th_free(h->t);
	free(h);
	cur_host = NULL;
}

static uint64_t sm_rd(struct smm_host *h, unsigned int off, unsigned int n)
{
	uint64_t v = 0;

	memcpy(&v, h->smram + SAVE(off), n);
	return v;
}

/*
 * Run until an OUT to port (left incomplete, RIP on it), completing other
 * port I/O; returns the OUT's byte.  Any other exit fails the test.
 */
static int run_to_port(struct smm_host *h, uint16_t port)
{
	struct x86_cpu *c = &h->t->cpu;
	enum x86_exit_reason r;

	for (int i = 0; i < 1000; i++) {
		r = x86_cpu_run(c);
		if (r != X86_EXIT_IO)
			fail_msg("exit %d at rip %#llx waiting for port %#x", r,
				 (unsigned long long)c->rip, port);
		if (c->exit.io.port == port)
			return h->t->pio[0];
		x86_cpu_complete_io(c);
	}
	fail_msg("no OUT to port %#x", port);
	return -1;
}

static void out_done(struct smm_host *h)
{
	x86_cpu_complete_io(&h->t->cpu);
}

/* ----------------------------------------------------------- modes */

static void mode_real(struct th *t)
{
	th_real_mode(t);
}

/* Flat 32-bit protected mode with PAE paging (identity, 2 MiB pages). */
static void mode_prot32_pae(struct th *t)
{
	uint64_t pdpt = TH_PT, pd = TH_PT + 0x1000;

	th_prot32(t);
	memset(t->ram + pdpt, 0, 0x2000);
	th_wr64(t, pdpt, pd | 1);
	th_wr64(t, pd, 0x83);			/* 0-2 MiB */
	th_wr64(t, pd + 8, 0x200083);		/* 2-4 MiB */
	t->cpu.cr3 = pdpt;
	t->cpu.pdptr[0] = pd | 1;		/* as MOV CR3 would load it */
	t->cpu.cr4 = 0x20;
	t->cpu.cr0 = 0x80000011;
	x86_cpu_state_changed(&t->cpu);
}

/* ------------------------------------------------------ round trips */

struct rt_row {
	const char *name;
	void (*mode)(struct th *t);
	bool no_lm;
};

static void check_saved64(struct smm_host *h, const struct x86_cpu *o)
{
	int i;

	assert_int_equal(sm_rd(h, 0x7efc, 4), 0x00020064);
	assert_int_equal(sm_rd(h, 0x7f00, 4), SMBASE);
	assert_int_equal(sm_rd(h, 0x7f78, 8), o->rip);
	assert_int_equal(sm_rd(h, 0x7f70, 4), o->rflags);
	for (i = 0; i < 16; i++)
		assert_int_equal(sm_rd(h, 0x7ff8 - i * 8, 8), o->gpr[i]);
	assert_int_equal(sm_rd(h, 0x7f58, 8), o->cr0);
	assert_int_equal(sm_rd(h, 0x7f50, 8), o->cr3);
	assert_int_equal(sm_rd(h, 0x7f48, 8), o->cr4);
	assert_int_equal(sm_rd(h, 0x7ed0, 8), o->efer);
	assert_int_equal(sm_rd(h, 0x7f60, 8), o->dr[7]);
	assert_int_equal(sm_rd(h, 0x7e68, 8), o->gdtr.base);
	assert_int_equal(sm_rd(h, 0x7e64, 4), o->gdtr.limit);
	assert_int_equal(sm_rd(h, 0x7e88, 8), o->idtr.base);
	assert_int_equal(sm_rd(h, 0x7e84, 4), o->idtr.limit);
	assert_int_equal(sm_rd(h, 0x7e90, 2), o->tr.sel);
	assert_int_equal(sm_rd(h, 0x7e98, 8), o->tr.base);
	for (i = 0; i < 6; i++) {
		unsigned int s = 0x7e00 + i * 16;

		assert_int_equal(sm_rd(h, s, 2), o->seg[i].sel);
		assert_int_equal(sm_rd(h, s + 2, 2), o->seg[i].attr & 0xf0ff);
		assert_int_equal(sm_rd(h, s + 4, 4), o->seg[i].limit);
		assert_int_equal(sm_rd(h, s + 8, 8), o->seg[i].base);
	}
}

static void check_saved32(struct smm_host *h, const struct x86_cpu *o)
{
	static const unsigned int seg_off[6] = {
		0x7f84, 0x7f90, 0x7f9c, 0x7f2c, 0x7f38, 0x7f44,
	};
	int i;

	assert_int_equal(sm_rd(h, 0x7efc, 4), 0x00020000);
	assert_int_equal(sm_rd(h, 0x7ef8, 4), SMBASE);
	assert_int_equal(sm_rd(h, 0x7ff0, 4), (uint32_t)o->rip);
	assert_int_equal(sm_rd(h, 0x7ff4, 4), (uint32_t)o->rflags);
	for (i = 0; i < 8; i++)
		assert_int_equal(sm_rd(h, 0x7fd0 + i * 4, 4), (uint32_t)o->gpr[i]);
	assert_int_equal(sm_rd(h, 0x7ffc, 4), (uint32_t)o->cr0);
	assert_int_equal(sm_rd(h, 0x7ff8, 4), (uint32_t)o->cr3);
	assert_int_equal(sm_rd(h, 0x7f14, 4), (uint32_t)o->cr4);
	assert_int_equal(sm_rd(h, 0x7fc8, 4), (uint32_t)o->dr[7]);
	assert_int_equal(sm_rd(h, 0x7f74, 4), (uint32_t)o->gdtr.base);
	assert_int_equal(sm_rd(h, 0x7f54, 4), o->idtr.limit);
	assert_int_equal(sm_rd(h, 0x7fc4, 4), o->tr.sel);
	assert_int_equal(sm_rd(h, 0x7f5c, 4), (o->tr.attr & 0xf0ff) << 8);
	for (i = 0; i < 6; i++) {
		assert_int_equal(sm_rd(h, 0x7fa8 + i * 4, 4), o->seg[i].sel);
		assert_int_equal(sm_rd(h, seg_off[i], 4),
				 (o->seg[i].attr & 0xf0ff) << 8);
		assert_int_equal(sm_rd(h, seg_off[i] + 4, 4), o->seg[i].limit);
		assert_int_equal(sm_rd(h, seg_off[i] + 8, 4),
				 (uint32_t)o->seg[i].base);
	}
}

/* The SMM environment at the handler's OUT (SDM 32.5.1, KVM's values). */
static void check_smm_env(const struct x86_cpu *c, const struct x86_cpu *o,
			  bool lm)
{
	int i;

	assert_true(c->ev.smm);
	assert_true(c->ev.nmi_masked);
	assert_int_equal(c->rip, 0x8004);
	assert_int_equal(c->rflags, 2);
	assert_int_equal(c->seg[X86_CS].sel, (SMBASE >> 4) & 0xffff);
	assert_int_equal(c->seg[X86_CS].base, SMBASE);
	for (i = 0; i < 6; i++) {
		assert_int_equal(c->seg[i].limit, 0xffffffff);
		assert_int_equal(c->seg[i].attr, 0x8093);
		if (i != X86_CS)
			assert_int_equal(c->seg[i].base | c->seg[i].sel, 0);
	}
	assert_int_equal(c->cr0, o->cr0 & ~0x8000000dull);
	assert_int_equal(c->cr4, 0);
	assert_int_equal(c->idtr.limit | c->idtr.base, 0);
	assert_int_equal(c->dr[7], 0x400);
	assert_int_equal(c->efer, lm ? 0 : o->efer);
	assert_int_equal(c->smi_count, 1);
}

static void check_restored(const struct x86_cpu *c, const struct x86_cpu *o,
			   bool lm)
{
	int i;

	assert_false(c->ev.smm);
	assert_false(c->ev.nmi_masked);
	assert_int_equal(c->rip, o->rip);
	assert_int_equal(c->rflags, o->rflags);
	for (i = 0; i < (lm ? 16 : 8); i++)
		assert_int_equal(c->gpr[i], lm ? o->gpr[i] : (uint32_t)o->gpr[i]);
	for (i = 0; i < 6; i++)
		assert_memory_equal(&c->seg[i], &o->seg[i], sizeof(c->seg[i]));
	assert_memory_equal(&c->tr, &o->tr, sizeof(c->tr));
	assert_memory_equal(&c->ldtr, &o->ldtr, sizeof(c->ldtr));
	assert_int_equal(c->gdtr.base, o->gdtr.base);
	assert_int_equal(c->gdtr.limit, o->gdtr.limit);
	assert_int_equal(c->idtr.base, o->idtr.base);
	assert_int_equal(c->idtr.limit, o->idtr.limit);
	assert_int_equal(c->cr0, o->cr0);
	assert_int_equal(c->cr3, o->cr3);
	assert_int_equal(c->cr4, o->cr4);
	assert_int_equal(c->efer, o->efer);
	assert_int_equal(c->dr[7], o->dr[7]);
}

/*
 * SMI at an instruction boundary, the handler runs from SMRAM and reads
 * SMRAM, the saved state is the state before, RSM restores all of it and
 * the guest goes on where it was.
 */
static void test_round_trip(void **state)
{
	const struct rt_row *r = *state;
	struct smm_host *h = smm_host_new(r->no_lm);
	struct x86_cpu *c = &h->t->cpu, before;
	bool lm = !r->no_lm;
	int i;

	r->mode(h->t);
	th_load(h->t, TH_CODE, outer, outer + sizeof(outer));
	for (i = 0; i < 16; i++)
		c->gpr[i] = 0x0101010101010101ull * (uint64_t)(i + 1);
	c->gpr[X86_RSP] = TH_STACK;
	c->rflags = 0x2 | 0x1 | 0x40;		/* CF ZF */
	c->dr[7] = 0x401;
	x86_cpu_state_changed(c);
	assert_int_equal(run_to_port(h, 0x20), 0x01);
	out_done(h);

	c->ev.smi_pending = true;		/* KVM_SMI */
	before = *c;
	assert_int_equal(run_to_port(h, 0x10), MARK);
	assert_int_equal(smm_changes, 1);
	check_smm_env(c, &before, lm);
	if (lm)
		check_saved64(h, &before);
	else
		check_saved32(h, &before);
	/* the save area went to SMRAM, not to normal RAM at that address */
	for (i = 0; i < 512; i++)
		assert_int_equal(h->t->ram[SMBASE + 0xfe00 + i], 0xf4);
	out_done(h);

	assert_int_equal(run_to_port(h, 0x21), 0x01);
	assert_int_equal(smm_changes, 2);
	before.rip = TH_CODE + OUTER_BACK;
	check_restored(c, &before, lm);
	smm_host_free(h);
}

static const struct rt_row rt_rows[] = {
	{ "real_mode_map64", mode_real },
	{ "prot32_map64", th_prot32 },
	{ "prot32_pae_map64", mode_prot32_pae },
	{ "long64_map64", th_long64 },
	{ "real_mode_map32", mode_real, true },
	{ "prot32_map32", th_prot32, true },
	{ "prot32_pae_map32", mode_prot32_pae, true },
};

/* ------------------------------------------------------ event rows */

struct ev_row {
	const char *name;
	void (*test)(struct smm_host *h);
};

/* Real mode at TH_CODE with the outer snippet, up to its first OUT. */
static void start_real(struct smm_host *h)
{
	th_real_mode(h->t);
	th_load(h->t, TH_CODE, outer, outer + sizeof(outer));
	h->t->cpu.gpr[X86_RAX] = 1;
	assert_int_equal(run_to_port(h, 0x20), 0x01);
	out_done(h);
}

/* From there, an SMI, up to the handler's OUT inside SMM. */
static void start_in_smm(struct smm_host *h)
{
	start_real(h);
	h->t->cpu.ev.smi_pending = true;
	assert_int_equal(run_to_port(h, 0x10), MARK);
}

/* Change a field of the save area (the handler's view of it). */
static void patch_save(struct smm_host *h, unsigned int off, uint64_t v,
		       unsigned int n)
{
	memcpy(h->smram + SAVE(off), &v, n);
}

/*
 * An SMI raised in SMM waits for RSM: the handler finishes, and the SMI
 * is taken at the first boundary outside, saving the outer RIP.
 */
static void ev_smi_blocked(struct smm_host *h)
{
	struct x86_cpu *c = &h->t->cpu;

	start_in_smm(h);
	c->ev.smi_pending = true;
	out_done(h);
	assert_int_equal(run_to_port(h, 0x10), MARK);
	assert_int_equal(c->smi_count, 2);
	assert_int_equal(sm_rd(h, 0x7f78, 8), TH_CODE + OUTER_BACK);
	assert_false(c->ev.smi_pending);
	out_done(h);
	assert_int_equal(run_to_port(h, 0x21), 0x01);
	assert_false(c->ev.smm);
}

/* NMI handler at 0x2000 for real mode: OUT 0x22, IRET. */
static const uint8_t nmi_handler[] = { 0xb0, 0x77, 0xe6, 0x22, 0xcf };

static void set_real_nmi_handler(struct smm_host *h)
{
	memcpy(h->t->ram + 0x2000, nmi_handler, sizeof(nmi_handler));
	th_wr64(h->t, 2 * 4, 0x2000);		/* IVT[2] = 0000:2000 */
}

/* An NMI in SMM is held until RSM, then delivered outside. */
static void ev_nmi_in_smm(struct smm_host *h)
{
	struct x86_cpu *c = &h->t->cpu;

	set_real_nmi_handler(h);
	start_in_smm(h);
	c->ev.nmi_pending = true;
	out_done(h);
	/* RSM first (still in SMM at the NMI's first chance), then the NMI */
	assert_int_equal(run_to_port(h, 0x22), 0x77);
	assert_false(c->ev.smm);
	assert_int_equal(th_rd64(h->t, TH_STACK - 6) & 0xffff, TH_CODE + OUTER_BACK);
	out_done(h);
	assert_int_equal(run_to_port(h, 0x21), 0x77);
}

/* SMM entered with NMIs blocked leaves them blocked after RSM. */
static void ev_smm_inside_nmi(struct smm_host *h)
{
	struct x86_cpu *c = &h->t->cpu;

	start_real(h);
	c->ev.nmi_masked = true;
	c->ev.smi_pending = true;
	assert_int_equal(run_to_port(h, 0x10), MARK);
	assert_true(c->ev.smm_inside_nmi);
	out_done(h);
	assert_int_equal(run_to_port(h, 0x21), 0x01);
	assert_true(c->ev.nmi_masked);
	assert_false(c->ev.smm_inside_nmi);
}

/* An SMI wakes a halted vCPU; RSM returns after the HLT. */
static void ev_smi_wakes_hlt(struct smm_host *h)
{
	struct x86_cpu *c = &h->t->cpu;

	start_real(h);
	h->t->ram[TH_CODE + sizeof(outer)] = 0xf4;
	assert_int_equal(run_to_port(h, 0x21), 0x01);
	out_done(h);
	assert_int_equal(x86_cpu_run(c), X86_EXIT_HLT);
	assert_true(c->halted);
	assert_int_equal(x86_cpu_run(c), X86_EXIT_HLT);	/* stays halted */
	c->ev.smi_pending = true;
	assert_int_equal(run_to_port(h, 0x10), MARK);
	assert_false(c->halted);
	assert_int_equal(sm_rd(h, 0x7f78, 8), TH_CODE + sizeof(outer));
	out_done(h);
	c->ev.smi_pending = false;
	assert_int_equal(x86_cpu_run(c), X86_EXIT_HLT);	/* past the HLT */
	assert_int_equal(c->rip, TH_CODE + sizeof(outer) + 1);
}

/* RSM outside SMM is #UD (real mode: through IVT[6]). */
static void ev_rsm_outside_ud(struct smm_host *h)
{
	static const uint8_t code[] = { 0x0f, 0xaa, 0xf4 };
	static const uint8_t ud[] = { 0xb0, 0x06, 0xe6, 0x23, 0xf4 };
	struct x86_cpu *c = &h->t->cpu;

	th_real_mode(h->t);
	th_load(h->t, TH_CODE, code, code + sizeof(code));
	memcpy(h->t->ram + 0x2100, ud, sizeof(ud));
	th_wr64(h->t, 6 * 4, 0x2100);		/* IVT[6] = 0000:2100 */
	assert_int_equal(run_to_port(h, 0x23), 6);
	assert_int_equal(th_rd64(h->t, TH_STACK - 6) & 0xffff, TH_CODE);
	assert_false(c->ev.smm);
}

/* A saved CR0 with PG but not PE cannot be loaded: shutdown. */
static void ev_rsm_bad_state(struct smm_host *h)
{
	struct x86_cpu *c = &h->t->cpu;

	start_in_smm(h);
	patch_save(h, 0x7f58, 0x80000010, 8);	/* CR0 */
	out_done(h);
	assert_int_equal(x86_cpu_run(c), X86_EXIT_SHUTDOWN);
	assert_false(c->ev.smm);
}

/* A save area nothing backs: RSM is an emulation failure, still in SMM. */
static void ev_rsm_unbacked(struct smm_host *h)
{
	struct x86_cpu *c = &h->t->cpu;

	start_in_smm(h);
	c->smbase = SMBASE + SMRAM_SIZE;	/* the host moved SMBASE away */
	out_done(h);
	assert_int_equal(x86_cpu_run(c), X86_EXIT_INTERNAL);
	assert_int_equal(c->exit.internal.suberror, 1);
	assert_int_equal(c->exit.internal.insn_len, 2);
	assert_int_equal(c->rip, 0x8000 + HANDLER_RSM);
	assert_true(c->ev.smm);
}

/* SMBASE relocation: RSM loads SMBASE from the save area. */
static void ev_smbase_relocated(struct smm_host *h)
{
	struct x86_cpu *c = &h->t->cpu;

	start_in_smm(h);
	patch_save(h, 0x7f00, 0x30000, 4);	/* SMBASE */
	out_done(h);
	assert_int_equal(run_to_port(h, 0x21), 0x01);
	assert_int_equal(c->smbase, 0x30000);
}

/* Stops a run after this many block boundaries (random states loop). */
static int kick_budget;

static bool budget_kicked(struct x86_cpu *cpu)
{
	return --kick_budget < 0;
}

/*
 * RSM of damaged save areas: the valid one with 1 to 16 random bytes
 * changed, 64-bit and 32-bit maps, from long and protected mode.  Each
 * RSM loads the state or shuts down; whatever the guest does next ends
 * in an exit within the kick budget, never a host crash.
 */
static void ev_rsm_random_states(struct smm_host *unused)
{
	uint64_t seed = 0x5eed5eed12345678ull;
	int shutdowns = 0, loaded = 0;

	(void)unused;
	for (int i = 0; i < 400; i++) {
		bool no_lm = i & 1;
		struct smm_host *h = smm_host_new(no_lm);
		struct x86_cpu *c = &h->t->cpu;
		enum x86_exit_reason r;
		int n;

		if (no_lm)
			th_prot32(h->t);
		else
			th_long64(h->t);
		th_load(h->t, TH_CODE, outer, outer + sizeof(outer));
		c->ev.smi_pending = true;
		assert_int_equal(run_to_port(h, 0x10), MARK);
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		n = 1 + (int)((seed >> 33) % 16);
		while (n--) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			h->smram[0xfe00 + (seed >> 33) % 512] = (uint8_t)(seed >> 20);
		}
		out_done(h);
		h->t->ops.kicked = budget_kicked;
		kick_budget = 50;
		r = x86_cpu_run(c);
		if (r == X86_EXIT_SHUTDOWN && !c->ev.smm)
			shutdowns++;
		else if (!c->ev.smm)
			loaded++;
		for (int k = 0; k < 20 && r != X86_EXIT_SHUTDOWN; k++) {
			if (r == X86_EXIT_IO)
				x86_cpu_complete_io(c);
			else if (r == X86_EXIT_MMIO)
				x86_cpu_complete_mmio(c, (const uint8_t[8]){ 0 });
			kick_budget = 50;
			r = x86_cpu_run(c);
		}
		smm_host_free(h);
	}
	/* both outcomes were reached */
	assert_true(shutdowns > 0);
	assert_true(loaded > 0);
}

static const struct ev_row ev_rows[] = {
	{ "smi_blocked_in_smm", ev_smi_blocked },
	{ "nmi_held_in_smm", ev_nmi_in_smm },
	{ "smm_inside_nmi", ev_smm_inside_nmi },
	{ "smi_wakes_hlt", ev_smi_wakes_hlt },
	{ "rsm_outside_smm_ud", ev_rsm_outside_ud },
	{ "rsm_bad_cr0_shutdown", ev_rsm_bad_state },
	{ "rsm_unbacked_save_area", ev_rsm_unbacked },
	{ "rsm_loads_smbase", ev_smbase_relocated },
	{ "rsm_random_states", ev_rsm_random_states },
};

static void test_event(void **state)
{
	const struct ev_row *r = *state;
	struct smm_host *h = smm_host_new(false);

	r->test(h);
	smm_host_free(h);
}

/* ------------------------------------------------------------- main */

int main(void)
{
	static struct CMUnitTest tests[64];
	size_t n = 0, i;

	for (i = 0; i < sizeof(rt_rows) / sizeof(rt_rows[0]); i++)
		tests[n++] = (struct CMUnitTest){ rt_rows[i].name,
			test_round_trip, NULL, NULL, (void *)&rt_rows[i] };
	for (i = 0; i < sizeof(ev_rows) / sizeof(ev_rows[0]); i++)
		tests[n++] = (struct CMUnitTest){ ev_rows[i].name,
			test_event, NULL, NULL, (void *)&ev_rows[i] };
	return _cmocka_run_group_tests("smm", tests, n, NULL, NULL);
}
