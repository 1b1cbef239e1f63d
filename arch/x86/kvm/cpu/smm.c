// SPDX-License-Identifier: MIT
/*
 * smm.c - system-management mode (Intel SDM Vol. 3, chapter 32; AMD APM
 * Vol. 2, chapter 10): SMI entry, the state-save area, RSM.
 *
 * The state-save map is KVM's: 512 bytes at SMBASE + 0xFE00, in the
 * 64-bit layout (revision 0x20064) when the guest's CPUID has long mode,
 * else the 32-bit layout (revision 0x20000).  Offsets below are those of
 * the manuals, relative to SMBASE + 0x8000 (0x7E00..0x7FFF).  Memory in
 * SMM is the SMRAM address space: the host's gpa_page() answers from it
 * while cpu->ev.smm is set, so every switch drops the TLB and blocks.
 */
#include "cpu_priv.h"

#define SMM_AREA	0x7e00		/* first offset of the save area */
#define SMM_SIZE	512
#define SMM_REV32	0x00020000u
#define SMM_REV64	0x00020064u
#define SMM_ENTRY_IP	0x8000

/* 32-bit layout */
#define S32_CR0		0x7ffc
#define S32_CR3		0x7ff8
#define S32_EFLAGS	0x7ff4
#define S32_EIP		0x7ff0
#define S32_GPR		0x7fd0		/* EAX..EDI, 4 bytes each */
#define S32_DR6		0x7fcc
#define S32_DR7		0x7fc8
#define S32_TR_SEL	0x7fc4
#define S32_LDTR_SEL	0x7fc0
#define S32_SEG_SEL	0x7fa8		/* ES..GS, 4 bytes each */
#define S32_SEG_LO	0x7f84		/* ES, CS, SS: flags, limit, base */
#define S32_SEG_HI	0x7f2c		/* DS, FS, GS */
#define S32_LDTR	0x7f78		/* flags, limit, base */
#define S32_GDT_BASE	0x7f74
#define S32_GDT_LIMIT	0x7f70
#define S32_TR		0x7f5c		/* flags, limit, base */
#define S32_IDT_BASE	0x7f58
#define S32_IDT_LIMIT	0x7f54
#define S32_CR4		0x7f14
#define S32_REV		0x7efc
#define S32_SMBASE	0x7ef8

/* 64-bit layout */
#define S64_GPR		0x7ff8		/* RAX at 0x7ff8 down to R15 */
#define S64_RIP		0x7f78
#define S64_RFLAGS	0x7f70
#define S64_DR6		0x7f68
#define S64_DR7		0x7f60
#define S64_CR0		0x7f58
#define S64_CR3		0x7f50
#define S64_CR4		0x7f48
#define S64_SMBASE	0x7f00
#define S64_REV		0x7efc
#define S64_EFER	0x7ed0
#define S64_TR		0x7e90		/* sel, flags, limit, base */
#define S64_IDT_LIMIT	0x7e84
#define S64_IDT_BASE	0x7e88
#define S64_LDTR	0x7e70
#define S64_GDT_LIMIT	0x7e64
#define S64_GDT_BASE	0x7e68
#define S64_SEG		0x7e00		/* ES..GS, 16 bytes each */

/* ------------------------------------------------------------- helpers */

static void put(uint8_t *buf, unsigned int off, uint64_t v, unsigned int n)
{
	memcpy(buf + off - SMM_AREA, &v, n);	/* little endian host */
}

static uint64_t get(const uint8_t *buf, unsigned int off, unsigned int n)
{
	uint64_t v = 0;

	memcpy(&v, buf + off - SMM_AREA, n);
	return v;
}

/* KVM writes the 64-bit map when the guest's CPUID has long mode. */
static bool smm_long_layout(struct x86_cpu *cpu)
{
	uint32_t out[4] = { 0 };

	if (!cpu->ops->cpuid)
		return false;
	cpu->ops->cpuid(cpu, 0x80000001, 0, out);
	return out[3] & (1u << 29);
}

/*
 * Physical access to SMRAM through the host's pages (the SMM address
 * space once ev.smm is set).  False at the first page nothing backs.
 */
static bool smram_access(struct x86_cpu *cpu, uint64_t gpa, uint8_t *buf,
			 unsigned int n, bool write)
{
	while (n) {
		unsigned int off = gpa & ~X86_PAGE_MASK;
		unsigned int k = X86_PAGE_SIZE - off < n ?
				 (unsigned int)(X86_PAGE_SIZE - off) : n;
		uint8_t *page = cpu->ops->gpa_page(cpu, gpa & X86_PAGE_MASK,
						   write);

		if (!page)
			return false;
		if (write) {
			if (x86_code_page_test(page))
				x86_code_page_written(cpu, page);
			memcpy(page + off, buf, k);
		} else {
			memcpy(buf, page + off, k);
		}
		gpa += k;
		buf += k;
		n -= k;
	}
	return true;
}

/*
 * Segment attributes in the save area: descriptor bits 40..55 shifted to
 * bits 8..23 (type, S, DPL, P, AVL, L, D/B, G); the 64-bit map keeps the
 * upper 16 bits of that word.  Our attr has the same bits at 0..15.
 */
static uint32_t seg_flags(const struct x86_seg *s)
{
	return (s->attr & 0xf0ff) << 8;
}

/*
 * Loading takes the limit as a descriptor would (20 bits, scaled by G)
 * and marks a segment without P unusable, as KVM's RSM does.
 */
static void seg_load(struct x86_seg *s, uint16_t sel, uint32_t flags,
		     uint32_t limit, uint64_t base)
{
	s->sel = sel;
	s->attr = (flags >> 8) & 0xf0ff;
	if (!(s->attr & X86_SEG_P))
		s->attr |= X86_SEG_UNUSABLE;
	s->limit = limit & 0xfffff;
	if (s->attr & X86_SEG_G)
		s->limit = (s->limit << 12) | 0xfff;
	s->base = base;
}

/* ---------------------------------------------------------------- save */

static void save_seg32(uint8_t *buf, unsigned int off, const struct x86_seg *s)
{
	put(buf, off, seg_flags(s), 4);
	put(buf, off + 4, s->limit, 4);
	put(buf, off + 8, (uint32_t)s->base, 4);
}

static unsigned int seg32_off(int n)
{
	return n < 3 ? S32_SEG_LO + n * 12 : S32_SEG_HI + (n - 3) * 12;
}

static void save_state32(struct x86_cpu *cpu, uint8_t *buf)
{
	int i;

	put(buf, S32_CR0, cpu->cr0, 4);
	put(buf, S32_CR3, cpu->cr3, 4);
	put(buf, S32_EFLAGS, cpu->rflags, 4);
	put(buf, S32_EIP, cpu->rip, 4);
	for (i = 0; i < 8; i++)
		put(buf, S32_GPR + i * 4, cpu->gpr[i], 4);
	put(buf, S32_DR6, cpu->dr[6], 4);
	put(buf, S32_DR7, cpu->dr[7], 4);
	put(buf, S32_TR_SEL, cpu->tr.sel, 4);
	save_seg32(buf, S32_TR, &cpu->tr);
	put(buf, S32_LDTR_SEL, cpu->ldtr.sel, 4);
	save_seg32(buf, S32_LDTR, &cpu->ldtr);
	put(buf, S32_GDT_BASE, cpu->gdtr.base, 4);
	put(buf, S32_GDT_LIMIT, cpu->gdtr.limit, 4);
	put(buf, S32_IDT_BASE, cpu->idtr.base, 4);
	put(buf, S32_IDT_LIMIT, cpu->idtr.limit, 4);
	for (i = 0; i < 6; i++) {
		put(buf, S32_SEG_SEL + i * 4, cpu->seg[i].sel, 4);
		save_seg32(buf, seg32_off(i), &cpu->seg[i]);
	}
	put(buf, S32_CR4, cpu->cr4, 4);
	put(buf, S32_REV, SMM_REV32, 4);
	put(buf, S32_SMBASE, cpu->smbase, 4);
}

static void save_seg64(uint8_t *buf, unsigned int off, const struct x86_seg *s)
{
	put(buf, off, s->sel, 2);
	put(buf, off + 2, seg_flags(s) >> 8, 2);
	put(buf, off + 4, s->limit, 4);
	put(buf, off + 8, s->base, 8);
}

static void save_state64(struct x86_cpu *cpu, uint8_t *buf)
{
	int i;

	for (i = 0; i < 16; i++)
		put(buf, S64_GPR - i * 8, cpu->gpr[i], 8);
	put(buf, S64_RIP, cpu->rip, 8);
	put(buf, S64_RFLAGS, cpu->rflags, 4);
	put(buf, S64_DR6, cpu->dr[6], 8);
	put(buf, S64_DR7, cpu->dr[7], 8);
	put(buf, S64_CR0, cpu->cr0, 8);
	put(buf, S64_CR3, cpu->cr3, 8);
	put(buf, S64_CR4, cpu->cr4, 8);
	put(buf, S64_SMBASE, cpu->smbase, 4);
	put(buf, S64_REV, SMM_REV64, 4);
	put(buf, S64_EFER, cpu->efer, 8);
	save_seg64(buf, S64_TR, &cpu->tr);
	put(buf, S64_IDT_LIMIT, cpu->idtr.limit, 4);
	put(buf, S64_IDT_BASE, cpu->idtr.base, 8);
	save_seg64(buf, S64_LDTR, &cpu->ldtr);
	put(buf, S64_GDT_LIMIT, cpu->gdtr.limit, 4);
	put(buf, S64_GDT_BASE, cpu->gdtr.base, 8);
	for (i = 0; i < 6; i++)
		save_seg64(buf, S64_SEG + i * 16, &cpu->seg[i]);
}

/* Drop everything derived from the old mode and memory view. */
static void smm_switched(struct x86_cpu *cpu)
{
	x86_cpu_state_changed(cpu);
	x86_chain_break(cpu);
	if (cpu->ops->smm_changed)
		cpu->ops->smm_changed(cpu);
}

/*
 * Take the pending SMI at an instruction boundary (SDM 32.5, KVM's
 * enter_smm): save the state into SMRAM, then the SMM environment -
 * real-mode-like with 4 GiB limits, CS.base = SMBASE, IP 0x8000, CR0.PE/
 * EM/TS/PG and CR4 clear, IDT limit 0, DR7 at reset, EFER 0 (long-mode
 * guests), NMIs blocked.
 */
void x86_smm_enter(struct x86_cpu *cpu)
{
	uint8_t buf[SMM_SIZE];
	bool lm = smm_long_layout(cpu);
	struct x86_seg flat = {
		.base = 0, .limit = 0xffffffff, .sel = 0,
		.attr = 3 | X86_SEG_S | X86_SEG_P | X86_SEG_G,
	};
	int i;

	memset(buf, 0, sizeof(buf));
	if (lm)
		save_state64(cpu, buf);
	else
		save_state32(cpu, buf);
	cpu->ev.smi_pending = false;
	cpu->smi_count++;
	cpu->ev.smm = true;
	/* into SMRAM's address space; an unbacked save area is not written */
	smram_access(cpu, cpu->smbase + 0xfe00, buf, SMM_SIZE, true);

	if (cpu->ev.nmi_masked)
		cpu->ev.smm_inside_nmi = true;
	else
		cpu->ev.nmi_masked = true;
	cpu->ev.int_shadow = 0;
	cpu->halted = false;
	cpu->rflags = X86_FIXED1;
	cpu->rip = SMM_ENTRY_IP;
	cpu->cr0 &= ~(X86_CR0_PE | X86_CR0_EM | X86_CR0_TS | X86_CR0_PG);
	cpu->cr4 = 0;
	cpu->idtr.base = 0;
	cpu->idtr.limit = 0;
	cpu->dr[7] = 0x400;
	for (i = 0; i < 6; i++)
		cpu->seg[i] = flat;
	cpu->seg[X86_CS].sel = (uint16_t)(cpu->smbase >> 4);
	cpu->seg[X86_CS].base = cpu->smbase;
	if (lm)
		cpu->efer = 0;
	smm_switched(cpu);
}

/* ----------------------------------------------------------------- RSM */

/*
 * CR0, CR3, CR4 (and EFER, already loaded) from the save area, checked
 * as MOV to CR would check them, starting from the real-mode state RSM
 * first drops to: false when the saved state is not one the CPU could
 * have been in, which ends in shutdown.  PCIDE is set last, once long
 * mode is active and CR3 holds no PCID.
 */
static bool rsm_load_crs(struct x86_cpu *cpu, uint64_t cr0, uint64_t cr3,
			 uint64_t cr4)
{
	uint64_t pcid = 0;

	if (cr4 & X86_CR4_PCIDE) {
		pcid = cr3 & 0xfff;
		cr3 &= ~0xfffull;
	}
	cpu->cr3 = cr3;
	if (cr4 & ~(X86_CR4_TSD | X86_CR4_DE | X86_CR4_PSE | X86_CR4_PAE |
		    X86_CR4_MCE | X86_CR4_PGE | X86_CR4_PCE | X86_CR4_OSFXSR |
		    X86_CR4_OSXMMEXCPT | X86_CR4_FSGSBASE | X86_CR4_PCIDE |
		    X86_CR4_OSXSAVE | X86_CR4_SMEP | X86_CR4_SMAP))
		return false;
	cpu->cr4 = cr4 & ~X86_CR4_PCIDE;
	if ((cr0 >> 32) || ((cr0 & X86_CR0_PG) && !(cr0 & X86_CR0_PE)) ||
	    ((cr0 & X86_CR0_NW) && !(cr0 & X86_CR0_CD)))
		return false;
	if (cr0 & X86_CR0_PG) {
		if (cpu->efer & X86_EFER_LME) {
			if (!(cr4 & X86_CR4_PAE))
				return false;
			cpu->efer |= X86_EFER_LMA;
		} else if ((cr4 & X86_CR4_PAE) && x86_load_pdptrs(cpu, cr3)) {
			return false;
		}
	}
	cpu->cr0 = cr0 | X86_CR0_ET;
	if (cr4 & X86_CR4_PCIDE) {
		if (!(cpu->efer & X86_EFER_LMA))
			return false;
		cpu->cr4 |= X86_CR4_PCIDE;
		cpu->cr3 |= pcid;
	}
	return true;
}

static bool rsm_load_drs(struct x86_cpu *cpu, uint64_t dr6, uint64_t dr7)
{
	if ((dr6 >> 32) || (dr7 >> 32))
		return false;
	cpu->dr[6] = (dr6 & 0xffff1fffull) | 0xffff0ff0ull;
	cpu->dr[7] = (dr7 & 0xffff2fffull) | 0x400;
	return true;
}

static bool rsm_state32(struct x86_cpu *cpu, const uint8_t *buf)
{
	int i;
	unsigned int o;

	for (i = 0; i < 8; i++)
		cpu->gpr[i] = get(buf, S32_GPR + i * 4, 4);
	cpu->rip = get(buf, S32_EIP, 4);
	cpu->rflags = (get(buf, S32_EFLAGS, 4) & 0x3f7fd5) | X86_FIXED1;
	if (!rsm_load_drs(cpu, get(buf, S32_DR6, 4), get(buf, S32_DR7, 4)))
		return false;
	seg_load(&cpu->tr, (uint16_t)get(buf, S32_TR_SEL, 4),
		 (uint32_t)get(buf, S32_TR, 4), (uint32_t)get(buf, S32_TR + 4, 4),
		 get(buf, S32_TR + 8, 4));
	seg_load(&cpu->ldtr, (uint16_t)get(buf, S32_LDTR_SEL, 4),
		 (uint32_t)get(buf, S32_LDTR, 4),
		 (uint32_t)get(buf, S32_LDTR + 4, 4), get(buf, S32_LDTR + 8, 4));
	cpu->gdtr.base = get(buf, S32_GDT_BASE, 4);
	cpu->gdtr.limit = (uint16_t)get(buf, S32_GDT_LIMIT, 4);
	cpu->idtr.base = get(buf, S32_IDT_BASE, 4);
	cpu->idtr.limit = (uint16_t)get(buf, S32_IDT_LIMIT, 4);
	for (i = 0; i < 6; i++) {
		o = seg32_off(i);
		seg_load(&cpu->seg[i], (uint16_t)get(buf, S32_SEG_SEL + i * 4, 4),
			 (uint32_t)get(buf, o, 4), (uint32_t)get(buf, o + 4, 4),
			 get(buf, o + 8, 4));
	}
	cpu->smbase = get(buf, S32_SMBASE, 4);
	return rsm_load_crs(cpu, get(buf, S32_CR0, 4), get(buf, S32_CR3, 4),
			    get(buf, S32_CR4, 4));
}

static void load_seg64(struct x86_seg *s, const uint8_t *buf, unsigned int o)
{
	seg_load(s, (uint16_t)get(buf, o, 2), (uint32_t)get(buf, o + 2, 2) << 8,
		 (uint32_t)get(buf, o + 4, 4), get(buf, o + 8, 8));
}

static bool rsm_state64(struct x86_cpu *cpu, const uint8_t *buf)
{
	int i;

	for (i = 0; i < 16; i++)
		cpu->gpr[i] = get(buf, S64_GPR - i * 8, 8);
	cpu->rip = get(buf, S64_RIP, 8);
	cpu->rflags = (get(buf, S64_RFLAGS, 4) & 0x3f7fd5) | X86_FIXED1;
	if (!rsm_load_drs(cpu, get(buf, S64_DR6, 8), get(buf, S64_DR7, 8)))
		return false;
	cpu->smbase = get(buf, S64_SMBASE, 4);
	if (x86_set_efer(cpu, get(buf, S64_EFER, 8) & ~X86_EFER_LMA))
		return false;
	load_seg64(&cpu->tr, buf, S64_TR);
	cpu->idtr.limit = (uint16_t)get(buf, S64_IDT_LIMIT, 4);
	cpu->idtr.base = get(buf, S64_IDT_BASE, 8);
	load_seg64(&cpu->ldtr, buf, S64_LDTR);
	cpu->gdtr.limit = (uint16_t)get(buf, S64_GDT_LIMIT, 4);
	cpu->gdtr.base = get(buf, S64_GDT_BASE, 8);
	if (!rsm_load_crs(cpu, get(buf, S64_CR0, 8), get(buf, S64_CR3, 8),
			  get(buf, S64_CR4, 8)))
		return false;
	for (i = 0; i < 6; i++)
		load_seg64(&cpu->seg[i], buf, S64_SEG + i * 16);
	return true;
}

/*
 * RSM (SDM 32.13, KVM's em_rsm): #UD outside SMM.  The save area is read
 * from SMRAM first (nothing there: an emulation failure, as KVM reports
 * it), then the vCPU leaves SMM - NMIs unblocked unless SMM was entered
 * with them blocked - drops to real mode and loads the saved state.  A
 * state that cannot be loaded is a shutdown.
 */
static void x86_i_rsm(struct x86_cpu *cpu, const struct x86_insn *in)
{
	struct x86_cpu_priv *p = cpu->priv;
	uint8_t buf[SMM_SIZE];
	bool lm, ok;

	if (!cpu->ev.smm)
		x86_ud(cpu);
	if (!smram_access(cpu, cpu->smbase + 0xfe00, buf, SMM_SIZE, false))
		x86_unimplemented(cpu, in);
	lm = smm_long_layout(cpu);
	if (!cpu->ev.smm_inside_nmi)
		cpu->ev.nmi_masked = false;
	cpu->ev.smm = false;
	cpu->ev.smm_inside_nmi = false;

	/* the safe state to load from: real mode, no paging, EFER 0 */
	cpu->cr0 &= ~(X86_CR0_PE | X86_CR0_PG);
	cpu->cr4 &= ~(X86_CR4_PCIDE | X86_CR4_PAE);
	if (lm)
		cpu->efer = 0;
	x86_cpu_state_changed(cpu);	/* PDPTEs come from normal memory */
	ok = lm ? rsm_state64(cpu, buf) : rsm_state32(cpu, buf);
	smm_switched(cpu);
	if (!ok)
		x86_exit(cpu, X86_EXIT_SHUTDOWN);
	p->next_rip = cpu->rip;
	p->brk = true;
}

void x86_smm_register(void)
{
	x86_register(ZYDIS_MNEMONIC_RSM, x86_i_rsm);
}
