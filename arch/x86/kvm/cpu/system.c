// SPDX-License-Identifier: MIT
/*
 * system.c - system instructions: control and debug registers, MSRs,
 * descriptor tables, CPUID, TSC, fast system calls, HLT, CLI/STI
 * (Intel SDM Vol. 3, chapters 2 and 5.8.7-5.8.8; Vol. 2 for each).
 */
#include "cpu_priv.h"

#define MSR_TSC			0x10
#define MSR_APIC_BASE		0x1b
#define MSR_SYSENTER_CS		0x174
#define MSR_SYSENTER_ESP	0x175
#define MSR_SYSENTER_EIP	0x176
#define MSR_PAT			0x277
#define MSR_EFER		0xc0000080
#define MSR_STAR		0xc0000081
#define MSR_LSTAR		0xc0000082
#define MSR_CSTAR		0xc0000083
#define MSR_SFMASK		0xc0000084
#define MSR_FS_BASE		0xc0000100
#define MSR_GS_BASE		0xc0000101
#define MSR_KERNEL_GS_BASE	0xc0000102
#define MSR_TSC_AUX		0xc0000103

#define X86_CR4_KNOWN	(X86_CR4_TSD | X86_CR4_DE | X86_CR4_PSE | \
			 X86_CR4_PAE | X86_CR4_MCE | X86_CR4_PGE | \
			 X86_CR4_PCE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT | \
			 X86_CR4_FSGSBASE | X86_CR4_PCIDE | X86_CR4_OSXSAVE | \
			 X86_CR4_SMEP | X86_CR4_SMAP)

static void x86_need_cpl0(struct x86_cpu *cpu)
{
	if (cpu->priv->cpl)
		x86_gp(cpu, 0);
}

/* ------------------------------------------------------------- RFLAGS */

void x86_set_rflags(struct x86_cpu *cpu, uint64_t val)
{
	uint64_t old = cpu->rflags;

	cpu->rflags = (val & 0x3f7fd5) | X86_FIXED1;
	if ((old ^ cpu->rflags) & X86_VM)
		x86_update_mode(cpu);
	cpu->priv->brk = true;		/* IF may open an interrupt window */
}

/* -------------------------------------------------- control registers */

void x86_set_cr0(struct x86_cpu *cpu, uint64_t val)
{
	uint64_t old = cpu->cr0;

	if (val >> 32)
		x86_gp(cpu, 0);
	val |= X86_CR0_ET;
	if ((val & X86_CR0_PG) && !(val & X86_CR0_PE))
		x86_gp(cpu, 0);
	if ((val & X86_CR0_NW) && !(val & X86_CR0_CD))
		x86_gp(cpu, 0);
	if ((val & X86_CR0_PG) && !(old & X86_CR0_PG)) {
		if (cpu->efer & X86_EFER_LME) {
			/* IA-32e activation needs PAE (SDM Vol. 3, 10.8.5) */
			if (!(cpu->cr4 & X86_CR4_PAE))
				x86_gp(cpu, 0);
		} else if ((cpu->cr4 & X86_CR4_PAE) &&
			   x86_load_pdptrs(cpu, cpu->cr3)) {
			x86_gp(cpu, 0);
		}
	}
	if (!(val & X86_CR0_PG) && (old & X86_CR0_PG) &&
	    cpu->priv->mode == X86_MODE_LONG64)
		x86_gp(cpu, 0);
	cpu->cr0 = val;
	if ((val & X86_CR0_PG) && (cpu->efer & X86_EFER_LME))
		cpu->efer |= X86_EFER_LMA;
	else if (!(val & X86_CR0_PG))
		cpu->efer &= ~X86_EFER_LMA;
	if ((old ^ val) & (X86_CR0_PG | X86_CR0_PE | X86_CR0_WP))
		x86_tlb_flush(cpu, false);
	x86_update_mode(cpu);
	cpu->priv->brk = true;
}

void x86_set_cr4(struct x86_cpu *cpu, uint64_t val)
{
	uint64_t old = cpu->cr4;
	bool lma = cpu->efer & X86_EFER_LMA;

	if (val & ~X86_CR4_KNOWN)
		x86_gp(cpu, 0);
	if (lma && !(val & X86_CR4_PAE))
		x86_gp(cpu, 0);
	if ((val & X86_CR4_PCIDE) && !(old & X86_CR4_PCIDE) &&
	    (!lma || (cpu->cr3 & 0xfff)))
		x86_gp(cpu, 0);
	if ((cpu->cr0 & X86_CR0_PG) && !lma && (val & X86_CR4_PAE) &&
	    ((old ^ val) & (X86_CR4_PAE | X86_CR4_PGE | X86_CR4_PSE |
			    X86_CR4_SMEP | X86_CR4_SMAP)) &&
	    x86_load_pdptrs(cpu, cpu->cr3))
		x86_gp(cpu, 0);
	cpu->cr4 = val;
	if ((old ^ val) & (X86_CR4_PAE | X86_CR4_PGE | X86_CR4_PSE |
			   X86_CR4_SMEP | X86_CR4_SMAP | X86_CR4_PCIDE))
		x86_tlb_flush(cpu, false);
	cpu->priv->brk = true;
}

void x86_set_cr3(struct x86_cpu *cpu, uint64_t val)
{
	uint64_t rsvd = ~0ull << cpu->priv->maxphyaddr;

	if (cpu->efer & X86_EFER_LMA) {
		if (cpu->cr4 & X86_CR4_PCIDE)
			val &= ~(1ull << 63);	/* no-flush hint: we flush */
		if (val & rsvd)
			x86_gp(cpu, 0);
	} else if ((cpu->cr0 & X86_CR0_PG) && (cpu->cr4 & X86_CR4_PAE)) {
		if (x86_load_pdptrs(cpu, val))
			x86_gp(cpu, 0);
	}
	cpu->cr3 = val;
	x86_tlb_flush(cpu, true);
}

int x86_set_efer(struct x86_cpu *cpu, uint64_t val)
{
	uint64_t known = X86_EFER_SCE | X86_EFER_LME | X86_EFER_LMA |
			 X86_EFER_NXE;

	if (val & ~known)
		return -1;
	if ((cpu->cr0 & X86_CR0_PG) &&
	    ((val ^ cpu->efer) & X86_EFER_LME))
		return -1;
	val = (val & ~X86_EFER_LMA) | (cpu->efer & X86_EFER_LMA);
	if ((val ^ cpu->efer) & X86_EFER_NXE)
		x86_tlb_flush(cpu, false);
	cpu->efer = val;
	return 0;
}

static uint64_t x86_cr_read(struct x86_cpu *cpu, int n,
			    const struct x86_insn *in)
{
	switch (n) {
	case 0: return cpu->cr0;
	case 2: return cpu->cr2;
	case 3: return cpu->cr3;
	case 4: return cpu->cr4;
	case 8: return cpu->cr8;
	default: x86_ud(cpu);
	}
}

static void x86_cr_write(struct x86_cpu *cpu, int n, uint64_t v)
{
	switch (n) {
	case 0: x86_set_cr0(cpu, v); break;
	case 2: cpu->cr2 = v; break;
	case 3: x86_set_cr3(cpu, v); break;
	case 4: x86_set_cr4(cpu, v); break;
	case 8:
		if (v & ~0xfull)
			x86_gp(cpu, 0);
		cpu->cr8 = v;
		cpu->priv->brk = true;
		break;
	default: x86_ud(cpu);
	}
}

/* MOV to/from CRn and DRn: operand is 64 bits in 64-bit mode, else 32. */
static void x86_i_mov_cr(struct x86_cpu *cpu, const struct x86_insn *in)
{
	bool to_cr = in->op[0].kind == X86_OP_CR;
	const struct x86_operand *c = &in->op[to_cr ? 0 : 1];
	const struct x86_operand *g = &in->op[to_cr ? 1 : 0];
	uint64_t m = cpu->priv->mode == X86_MODE_LONG64 ? ~0ull : 0xffffffffull;

	x86_need_cpl0(cpu);
	if (to_cr)
		x86_cr_write(cpu, c->reg, cpu->gpr[g->reg] & m);
	else
		cpu->gpr[g->reg] = x86_cr_read(cpu, c->reg, in) & m;
}

static void x86_i_mov_dr(struct x86_cpu *cpu, const struct x86_insn *in)
{
	bool to_dr = in->op[0].kind == X86_OP_DR;
	const struct x86_operand *d = &in->op[to_dr ? 0 : 1];
	const struct x86_operand *g = &in->op[to_dr ? 1 : 0];
	uint64_t m = cpu->priv->mode == X86_MODE_LONG64 ? ~0ull : 0xffffffffull;
	int n = d->reg;

	x86_need_cpl0(cpu);
	if (n == 4 || n == 5) {
		if (cpu->cr4 & X86_CR4_DE)
			x86_ud(cpu);
		n += 2;
	}
	x86_dbg_mov_dr(cpu);		/* general detect */
	cpu->priv->brk = true;		/* breakpoints are seen per block */
	if (!to_dr) {
		cpu->gpr[g->reg] = cpu->dr[n] & m;
		return;
	}
	if (n >= 6 && (cpu->gpr[g->reg] & m) >> 32)
		x86_gp(cpu, 0);
	if (n == 6)
		cpu->dr[6] = (cpu->gpr[g->reg] & 0xffff1fffull) | 0xffff0ff0ull;
	else if (n == 7)
		cpu->dr[7] = (cpu->gpr[g->reg] & 0xffff2fffull) | 0x400;
	else
		cpu->dr[n] = cpu->gpr[g->reg] & m;
}

static void x86_i_lmsw(struct x86_cpu *cpu, const struct x86_insn *in)
{
	uint64_t v = x86_op_read(cpu, in, 0) & 0xf;

	x86_need_cpl0(cpu);
	/* LMSW can set PE but not clear it */
	x86_set_cr0(cpu, (cpu->cr0 & ~0xeull) | v | (cpu->cr0 & 1));
}

static void x86_i_smsw(struct x86_cpu *cpu, const struct x86_insn *in)
{
	if (in->op[0].kind == X86_OP_MEM)
		x86_op_write(cpu, in, 0, cpu->cr0 & 0xffff);
	else
		x86_op_write(cpu, in, 0, cpu->cr0);
}

static void x86_i_clts(struct x86_cpu *cpu, const struct x86_insn *in)
{
	x86_need_cpl0(cpu);
	cpu->cr0 &= ~X86_CR0_TS;
}

/* ------------------------------------------------- descriptor tables */

static void x86_i_lgdt(struct x86_cpu *cpu, const struct x86_insn *in)
{
	const struct x86_operand *m = &in->op[0];
	uint64_t ea = x86_ea(cpu, in, m), base;
	uint16_t limit;
	unsigned int bsz = cpu->priv->mode == X86_MODE_LONG64 ? 8 : 4;
	struct x86_dtable *t = in->mnem == ZYDIS_MNEMONIC_LGDT ?
			       &cpu->gdtr : &cpu->idtr;

	x86_need_cpl0(cpu);
	limit = (uint16_t)x86_read(cpu, m->seg, ea, 2);
	base = x86_read(cpu, m->seg, (ea + 2) & x86_mask(in->adsz), bsz);
	if (bsz == 8 && !x86_canonical(base))
		x86_gp(cpu, 0);
	if (in->opsz == 2 && bsz == 4)
		base &= 0xffffff;
	t->base = base;
	t->limit = limit;
}

static void x86_i_sgdt(struct x86_cpu *cpu, const struct x86_insn *in)
{
	const struct x86_operand *m = &in->op[0];
	uint64_t ea = x86_ea(cpu, in, m);
	unsigned int bsz = cpu->priv->mode == X86_MODE_LONG64 ? 8 : 4;
	struct x86_dtable *t = in->mnem == ZYDIS_MNEMONIC_SGDT ?
			       &cpu->gdtr : &cpu->idtr;

	x86_check_write(cpu, m->seg, ea, 2 + bsz);
	x86_write(cpu, m->seg, ea, t->limit, 2);
	x86_write(cpu, m->seg, (ea + 2) & x86_mask(in->adsz), t->base, bsz);
}

static void x86_need_prot(struct x86_cpu *cpu)
{
	if (cpu->priv->mode == X86_MODE_REAL ||
	    cpu->priv->mode == X86_MODE_VM86)
		x86_ud(cpu);
}

/* LLDT/LTR: a system descriptor from the GDT (SDM Vol. 2, LLDT, LTR). */
static void x86_load_sys(struct x86_cpu *cpu, const struct x86_insn *in,
			 bool tr)
{
	uint16_t sel = (uint16_t)x86_op_read(cpu, in, 0);
	struct x86_seg *s = tr ? &cpu->tr : &cpu->ldtr;
	uint64_t d, base;
	uint32_t type;

	x86_need_prot(cpu);
	x86_need_cpl0(cpu);
	if (!(sel & 0xfffc)) {
		if (tr)
			x86_gp(cpu, 0);
		x86_null_seg(s, sel, 0);
		return;
	}
	if (sel & 4)
		x86_gp(cpu, sel & 0xfffc);
	x86_read_desc(cpu, sel, &d, X86_GP);
	type = (d >> 40) & 0x1f;
	if (tr ? (type != 0x9 && type != 0x1) : type != 0x2)
		x86_gp(cpu, sel & 0xfffc);
	if (!((d >> 40) & X86_SEG_P))
		x86_raise(cpu, X86_NP, sel & 0xfffc);
	base = cpu->efer & X86_EFER_LMA ? x86_desc_base64(cpu, sel, d) : 0;
	if (tr) {
		/* mark the TSS busy in the GDT */
		uint64_t la = x86_wrap_la(cpu, cpu->gdtr.base + (sel & ~7) + 5);

		x86_write_lin(cpu, la, ((d >> 40) & 0xff) | 2, 1, X86_PV_SUP,
			      true);
		d |= 2ull << 40;
	}
	x86_desc_to_seg(d, sel, s);
	if (cpu->efer & X86_EFER_LMA)
		s->base = base;
}

static void x86_i_lldt(struct x86_cpu *cpu, const struct x86_insn *in)
{
	x86_load_sys(cpu, in, false);
}

static void x86_i_ltr(struct x86_cpu *cpu, const struct x86_insn *in)
{
	x86_load_sys(cpu, in, true);
}

static void x86_i_sldt(struct x86_cpu *cpu, const struct x86_insn *in)
{
	x86_need_prot(cpu);
	x86_op_write(cpu, in, 0, cpu->ldtr.sel);
}

static void x86_i_str(struct x86_cpu *cpu, const struct x86_insn *in)
{
	x86_need_prot(cpu);
	x86_op_write(cpu, in, 0, cpu->tr.sel);
}

/* LAR/LSL/VERR/VERW: ZF tells whether the selector is usable. */
static bool x86_desc_visible(struct x86_cpu *cpu, uint16_t sel, uint64_t *d,
			     int sys_ok)
{
	uint64_t lim = (sel & 4) ? cpu->ldtr.limit : cpu->gdtr.limit;
	uint32_t attr;
	uint8_t dpl;

	if (!(sel & 0xfffc) || (uint64_t)(sel & ~7) + 7 > lim)
		return false;
	if ((sel & 4) && (cpu->ldtr.attr & X86_SEG_UNUSABLE))
		return false;
	x86_read_desc(cpu, sel, d, X86_GP);
	attr = (uint32_t)(*d >> 40);
	dpl = X86_SEG_DPL(attr);
	if (!(attr & X86_SEG_S)) {
		uint32_t t = attr & 0xf;

		/* LSL: LDT and TSS only; LAR also gates (sys_ok == 2) */
		if (!sys_ok || !(t == 1 || t == 2 || t == 3 || t == 9 ||
				 t == 0xb || (sys_ok == 2 && (t == 4 || t == 5 ||
							      t == 0xc))))
			return false;
	} else if ((attr & 0xc) == 0xc) {
		return true;		/* conforming code */
	}
	return dpl >= cpu->priv->cpl && dpl >= (sel & 3);
}

static void x86_set_zf(struct x86_cpu *cpu, bool z)
{
	cpu->rflags = (cpu->rflags & ~X86_ZF) | (z ? X86_ZF : 0);
}

static void x86_i_lar(struct x86_cpu *cpu, const struct x86_insn *in)
{
	uint16_t sel = (uint16_t)x86_op_read(cpu, in, 1);
	uint64_t d;
	bool ok;

	x86_need_prot(cpu);
	ok = x86_desc_visible(cpu, sel, &d, 2);
	if (ok)
		x86_op_write(cpu, in, 0, (d >> 32) & 0x00f0ff00);
	x86_set_zf(cpu, ok);
}

static void x86_i_lsl(struct x86_cpu *cpu, const struct x86_insn *in)
{
	uint16_t sel = (uint16_t)x86_op_read(cpu, in, 1);
	struct x86_seg s;
	uint64_t d;
	bool ok;

	x86_need_prot(cpu);
	ok = x86_desc_visible(cpu, sel, &d, 1);
	if (ok) {
		x86_desc_to_seg(d, sel, &s);
		x86_op_write(cpu, in, 0, s.limit);
	}
	x86_set_zf(cpu, ok);
}

static void x86_i_verrw(struct x86_cpu *cpu, const struct x86_insn *in)
{
	uint16_t sel = (uint16_t)x86_op_read(cpu, in, 0);
	uint64_t d;
	uint32_t attr;
	bool ok;

	x86_need_prot(cpu);
	d = 0;
	ok = x86_desc_visible(cpu, sel, &d, 0);
	attr = (uint32_t)(d >> 40);
	if (ok && in->mnem == ZYDIS_MNEMONIC_VERR)
		ok = (attr & X86_SEG_S) && ((attr & 0xa) != 0x8);
	else if (ok)
		ok = (attr & X86_SEG_S) && ((attr & 0xa) == 0x2);
	x86_set_zf(cpu, ok);
}

static void x86_i_arpl(struct x86_cpu *cpu, const struct x86_insn *in)
{
	uint16_t d = (uint16_t)x86_op_read(cpu, in, 0);
	uint16_t s = (uint16_t)x86_op_read(cpu, in, 1);

	x86_need_prot(cpu);
	if ((d & 3) < (s & 3)) {
		x86_op_write(cpu, in, 0, (d & ~3) | (s & 3));
		x86_set_zf(cpu, true);
	} else {
		x86_set_zf(cpu, false);
	}
}

/* --------------------------------------------------------------- TLB */

static void x86_i_invlpg(struct x86_cpu *cpu, const struct x86_insn *in)
{
	const struct x86_operand *m = &in->op[0];
	uint64_t ea = x86_ea(cpu, in, m), la;

	x86_need_cpl0(cpu);
	if (cpu->priv->mode == X86_MODE_LONG64)
		la = (m->seg >= X86_FS ? cpu->seg[m->seg].base : 0) + ea;
	else
		la = (uint32_t)(cpu->seg[m->seg].base + ea);
	x86_tlb_flush_page(cpu, la);
}

/* INVPCID (SDM Vol. 2): we do not tag by PCID, so flush enough. */
static void x86_i_invpcid(struct x86_cpu *cpu, const struct x86_insn *in)
{
	const struct x86_operand *m = &in->op[1];
	uint64_t type = x86_op_read(cpu, in, 0), ea = x86_ea(cpu, in, m);
	uint64_t pcid, la;

	x86_need_cpl0(cpu);
	pcid = x86_read(cpu, m->seg, ea, 8);
	la = x86_read(cpu, m->seg, ea + 8, 8);
	if (type > 3 || (pcid >> 12))
		x86_gp(cpu, 0);
	if (type == 0 && !x86_canonical(la))
		x86_gp(cpu, 0);
	if (type == 0)
		x86_tlb_flush_page(cpu, la);
	else
		x86_tlb_flush(cpu, type != 2);
}

static void x86_i_wbinvd(struct x86_cpu *cpu, const struct x86_insn *in)
{
	x86_need_cpl0(cpu);
}

/* --------------------------------------------------------- CPUID/TSC */

static void x86_i_cpuid(struct x86_cpu *cpu, const struct x86_insn *in)
{
	uint32_t out[4] = { 0 };

	cpu->ops->cpuid(cpu, (uint32_t)cpu->gpr[X86_RAX],
			(uint32_t)cpu->gpr[X86_RCX], out);
	cpu->gpr[X86_RAX] = out[0];
	cpu->gpr[X86_RBX] = out[1];
	cpu->gpr[X86_RCX] = out[2];
	cpu->gpr[X86_RDX] = out[3];
}

/*
 * VMCALL/VMMCALL: there is no VMX or SVM root here, only the host's
 * hypercall interface.  A patch request rewrites the instruction as the
 * other one through the normal write path (self-modifying code rules
 * apply) and runs it again.
 */
static void x86_i_vmcall(struct x86_cpu *cpu, const struct x86_insn *in)
{
	static const uint8_t vmcall[3] = { 0x0f, 0x01, 0xc1 };
	static const uint8_t vmmcall[3] = { 0x0f, 0x01, 0xd9 };
	bool amd = in->mnem == ZYDIS_MNEMONIC_VMMCALL;
	int r;

	if (!cpu->ops->hypercall)
		x86_ud(cpu);
	r = cpu->ops->hypercall(cpu, amd);
	if (r == X86_HC_PATCH) {
		x86_write_lin_buf(cpu, cpu->seg[X86_CS].base + cpu->rip,
				  amd ? vmcall : vmmcall, 3, X86_PV_SUP, true);
		cpu->priv->next_rip = cpu->rip;
		cpu->priv->brk = true;
		return;
	}
	if (r)
		x86_ud(cpu);
}

/* MONITOR/MWAIT: what they do is the host's choice (KVM: NOP or #UD). */
static void x86_i_monitor(struct x86_cpu *cpu, const struct x86_insn *in)
{
	bool mwait = in->mnem == ZYDIS_MNEMONIC_MWAIT;

	if (!cpu->ops->monitor_mwait || cpu->ops->monitor_mwait(cpu, mwait))
		x86_ud(cpu);
}

static void x86_i_rdtsc(struct x86_cpu *cpu, const struct x86_insn *in)
{
	uint64_t t;

	if ((cpu->cr4 & X86_CR4_TSD) && cpu->priv->cpl)
		x86_gp(cpu, 0);
	t = cpu->ops->rdtsc(cpu);
	cpu->gpr[X86_RAX] = (uint32_t)t;
	cpu->gpr[X86_RDX] = t >> 32;
	if (in->mnem == ZYDIS_MNEMONIC_RDTSCP)
		cpu->gpr[X86_RCX] = (uint32_t)cpu->tsc_aux;
}

static void x86_i_rdpid(struct x86_cpu *cpu, const struct x86_insn *in)
{
	x86_op_write(cpu, in, 0, cpu->tsc_aux);
}

static void x86_i_rdrand(struct x86_cpu *cpu, const struct x86_insn *in)
{
	unsigned long long v = 0;
	unsigned char ok;

	if (in->mnem == ZYDIS_MNEMONIC_RDSEED)
		asm volatile("rdseed %0; setc %1" : "=r"(v), "=qm"(ok) : : "cc");
	else
		asm volatile("rdrand %0; setc %1" : "=r"(v), "=qm"(ok) : : "cc");
	x86_op_write(cpu, in, 0, ok ? v : 0);
	cpu->rflags &= ~X86_ARITH_FLAGS;
	if (ok)
		cpu->rflags |= X86_CF;
}

/* --------------------------------------------------------------- MSRs */

static bool x86_msr_canonical(uint32_t idx)
{
	switch (idx) {
	case MSR_LSTAR: case MSR_CSTAR: case MSR_FS_BASE: case MSR_GS_BASE:
	case MSR_KERNEL_GS_BASE: case MSR_SYSENTER_ESP: case MSR_SYSENTER_EIP:
		return true;
	default:
		return false;
	}
}

int x86_msr_read(struct x86_cpu *cpu, uint32_t idx, uint64_t *v);
int x86_msr_read(struct x86_cpu *cpu, uint32_t idx, uint64_t *v)
{
	switch (idx) {
	case MSR_EFER: *v = cpu->efer; return 0;
	case MSR_STAR: *v = cpu->star; return 0;
	case MSR_LSTAR: *v = cpu->lstar; return 0;
	case MSR_CSTAR: *v = cpu->cstar; return 0;
	case MSR_SFMASK: *v = cpu->sfmask; return 0;
	case MSR_FS_BASE: *v = cpu->seg[X86_FS].base; return 0;
	case MSR_GS_BASE: *v = cpu->seg[X86_GS].base; return 0;
	case MSR_KERNEL_GS_BASE: *v = cpu->kernel_gs_base; return 0;
	case MSR_TSC_AUX: *v = cpu->tsc_aux; return 0;
	case MSR_SYSENTER_CS: *v = cpu->sysenter_cs; return 0;
	case MSR_SYSENTER_ESP: *v = cpu->sysenter_esp; return 0;
	case MSR_SYSENTER_EIP: *v = cpu->sysenter_eip; return 0;
	case MSR_PAT: *v = cpu->pat; return 0;
	case MSR_TSC: *v = cpu->ops->rdtsc(cpu); return 0;
	case MSR_APIC_BASE:
		if (cpu->ops->rdmsr && !cpu->ops->rdmsr(cpu, idx, v))
			return 0;
		*v = cpu->apic_base;
		return 0;
	default:
		return cpu->ops->rdmsr ? cpu->ops->rdmsr(cpu, idx, v) : -1;
	}
}

static bool x86_pat_valid(uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++) {
		uint8_t t = (v >> (8 * i)) & 0xff;

		if (t > 7 || t == 2 || t == 3)
			return false;
	}
	return true;
}

int x86_msr_write(struct x86_cpu *cpu, uint32_t idx, uint64_t v);
int x86_msr_write(struct x86_cpu *cpu, uint32_t idx, uint64_t v)
{
	if (x86_msr_canonical(idx) && !x86_canonical(v))
		return -1;
	switch (idx) {
	case MSR_EFER: return x86_set_efer(cpu, v);
	case MSR_STAR: cpu->star = v; return 0;
	case MSR_LSTAR: cpu->lstar = v; return 0;
	case MSR_CSTAR: cpu->cstar = v; return 0;
	case MSR_SFMASK: cpu->sfmask = v & 0xffffffff; return 0;
	case MSR_FS_BASE: cpu->seg[X86_FS].base = v; return 0;
	case MSR_GS_BASE: cpu->seg[X86_GS].base = v; return 0;
	case MSR_KERNEL_GS_BASE: cpu->kernel_gs_base = v; return 0;
	case MSR_TSC_AUX:
		if (v >> 32)
			return -1;
		cpu->tsc_aux = v;
		return 0;
	case MSR_SYSENTER_CS: cpu->sysenter_cs = v & 0xffff; return 0;
	case MSR_SYSENTER_ESP: cpu->sysenter_esp = v; return 0;
	case MSR_SYSENTER_EIP: cpu->sysenter_eip = v; return 0;
	case MSR_PAT:
		if (!x86_pat_valid(v))
			return -1;
		cpu->pat = v;
		return 0;
	case MSR_APIC_BASE:
		if (cpu->ops->wrmsr && cpu->ops->wrmsr(cpu, idx, v))
			return -1;
		cpu->apic_base = v;
		return 0;
	default:
		return cpu->ops->wrmsr ? cpu->ops->wrmsr(cpu, idx, v) : -1;
	}
}

/* The host's answer to an X86_EXIT_MSR for this instruction, if any. */
static bool x86_msr_answered(struct x86_cpu *cpu, uint64_t *v)
{
	struct x86_cpu_priv *p = cpu->priv;

	if (p->msr_state != 2 || p->msr_rip != cpu->rip)
		return false;
	p->msr_state = 0;
	if (p->msr_error)
		x86_gp(cpu, 0);
	*v = p->msr_data;
	return true;
}

/* r from ops or the engine: go on (0), #GP(0) (-1) or exit to the host. */
static void x86_msr_result(struct x86_cpu *cpu, uint32_t idx, bool write,
			   uint64_t v, int r)
{
	struct x86_cpu_priv *p = cpu->priv;

	if (r == X86_MSR_EXIT) {
		cpu->exit.msr.index = idx;
		cpu->exit.msr.write = write;
		cpu->exit.msr.data = write ? v : 0;
		p->msr_state = 1;
		p->msr_rip = cpu->rip;
		x86_exit(cpu, X86_EXIT_MSR);
	}
	if (r)
		x86_gp(cpu, 0);
}

static int x86_msr_check(struct x86_cpu *cpu, uint32_t idx, bool write)
{
	return cpu->ops->msr_check ? cpu->ops->msr_check(cpu, idx, write) : 0;
}

static void x86_i_rdmsr(struct x86_cpu *cpu, const struct x86_insn *in)
{
	uint32_t idx = (uint32_t)cpu->gpr[X86_RCX];
	uint64_t v = 0;
	int r;

	x86_need_cpl0(cpu);
	if (!x86_msr_answered(cpu, &v)) {
		r = x86_msr_check(cpu, idx, false);
		if (!r)
			r = x86_msr_read(cpu, idx, &v);
		x86_msr_result(cpu, idx, false, 0, r);
	}
	cpu->gpr[X86_RAX] = (uint32_t)v;
	cpu->gpr[X86_RDX] = v >> 32;
}

static void x86_i_wrmsr(struct x86_cpu *cpu, const struct x86_insn *in)
{
	uint32_t idx = (uint32_t)cpu->gpr[X86_RCX];
	uint64_t v = (uint32_t)cpu->gpr[X86_RAX] |
		     (cpu->gpr[X86_RDX] << 32), ignored;
	int r;

	x86_need_cpl0(cpu);
	if (!x86_msr_answered(cpu, &ignored)) {
		r = x86_msr_check(cpu, idx, true);
		if (!r)
			r = x86_msr_write(cpu, idx, v);
		x86_msr_result(cpu, idx, true, v, r);
	}
	cpu->priv->brk = true;
}

/* ------------------------------------------------- fast system calls */

/* A flat segment as SYSCALL/SYSENTER load it (type, DPL, L/DB). */
static void x86_flat_seg(struct x86_seg *s, uint16_t sel, uint32_t type,
			 uint8_t dpl, bool l)
{
	s->sel = sel;
	s->base = 0;
	s->limit = 0xffffffff;
	s->attr = type | X86_SEG_S | X86_SEG_P | ((uint32_t)dpl << 5) |
		  X86_SEG_G | (l ? X86_SEG_L : X86_SEG_DB);
}

static void x86_i_syscall(struct x86_cpu *cpu, const struct x86_insn *in)
{
	struct x86_cpu_priv *p = cpu->priv;
	uint16_t sel = (uint16_t)(cpu->star >> 32);
	bool lma = cpu->efer & X86_EFER_LMA;

	if (!(cpu->efer & X86_EFER_SCE) || p->mode == X86_MODE_REAL ||
	    p->mode == X86_MODE_VM86)
		x86_ud(cpu);
	if (lma) {
		cpu->gpr[X86_RCX] = p->next_rip;
		cpu->gpr[X86_R11] = cpu->rflags & ~X86_RF;
		cpu->rflags &= ~(cpu->sfmask | X86_RF);
		p->next_rip = p->mode == X86_MODE_LONG64 ? cpu->lstar :
			      cpu->cstar;
	} else {
		cpu->gpr[X86_RCX] = (uint32_t)p->next_rip;
		cpu->rflags &= ~(X86_VM | X86_IF | X86_RF);
		p->next_rip = (uint32_t)cpu->star;
	}
	x86_flat_seg(&cpu->seg[X86_CS], sel & 0xfffc, 0xb, 0, lma);
	x86_flat_seg(&cpu->seg[X86_SS], (sel + 8) & 0xfffc, 0x3, 0, false);
	x86_update_mode(cpu);
	p->cpl = 0;
	p->brk = true;
}

static void x86_i_sysret(struct x86_cpu *cpu, const struct x86_insn *in)
{
	struct x86_cpu_priv *p = cpu->priv;
	uint16_t sel = (uint16_t)(cpu->star >> 48);
	bool w = in->opsz == 8;

	if (!(cpu->efer & X86_EFER_SCE) || p->mode != X86_MODE_LONG64)
		x86_ud(cpu);
	x86_need_cpl0(cpu);
	if (w && !x86_canonical(cpu->gpr[X86_RCX]))
		x86_gp(cpu, 0);
	if (w) {
		x86_flat_seg(&cpu->seg[X86_CS], (sel + 16) | 3, 0xb, 3, true);
		p->next_rip = cpu->gpr[X86_RCX];
	} else {
		x86_flat_seg(&cpu->seg[X86_CS], sel | 3, 0xb, 3, false);
		p->next_rip = (uint32_t)cpu->gpr[X86_RCX];
	}
	/* SS.sel from STAR, the hidden part stays flat (SDM SYSRET) */
	x86_flat_seg(&cpu->seg[X86_SS], (sel + 8) | 3, 0x3, 3, false);
	cpu->rflags = (cpu->gpr[X86_R11] & 0x3c7fd7) | X86_FIXED1;
	x86_update_mode(cpu);
	p->cpl = 3;
	p->brk = true;
}

static void x86_i_sysenter(struct x86_cpu *cpu, const struct x86_insn *in)
{
	struct x86_cpu_priv *p = cpu->priv;
	uint16_t sel = (uint16_t)cpu->sysenter_cs;
	bool lma = cpu->efer & X86_EFER_LMA;

	if (p->mode == X86_MODE_REAL || !(sel & 0xfffc))
		x86_gp(cpu, 0);
	cpu->rflags &= ~(X86_VM | X86_IF | X86_RF);
	x86_flat_seg(&cpu->seg[X86_CS], sel & 0xfffc, 0xb, 0, lma);
	x86_flat_seg(&cpu->seg[X86_SS], (sel + 8) & 0xfffc, 0x3, 0, false);
	cpu->gpr[X86_RSP] = lma ? cpu->sysenter_esp :
			    (uint32_t)cpu->sysenter_esp;
	p->next_rip = lma ? cpu->sysenter_eip : (uint32_t)cpu->sysenter_eip;
	x86_update_mode(cpu);
	p->cpl = 0;
	p->brk = true;
}

static void x86_i_sysexit(struct x86_cpu *cpu, const struct x86_insn *in)
{
	struct x86_cpu_priv *p = cpu->priv;
	uint16_t sel = (uint16_t)cpu->sysenter_cs;
	bool w = in->opsz == 8;

	if (p->mode == X86_MODE_REAL || p->mode == X86_MODE_VM86 ||
	    p->cpl || !(sel & 0xfffc))
		x86_gp(cpu, 0);
	if (w && (!x86_canonical(cpu->gpr[X86_RCX]) ||
		  !x86_canonical(cpu->gpr[X86_RDX])))
		x86_gp(cpu, 0);
	x86_flat_seg(&cpu->seg[X86_CS], (sel + (w ? 32 : 16)) | 3, 0xb, 3, w);
	x86_flat_seg(&cpu->seg[X86_SS], (sel + (w ? 40 : 24)) | 3, 0x3, 3,
		     false);
	cpu->gpr[X86_RSP] = w ? cpu->gpr[X86_RCX] : (uint32_t)cpu->gpr[X86_RCX];
	p->next_rip = w ? cpu->gpr[X86_RDX] : (uint32_t)cpu->gpr[X86_RDX];
	x86_update_mode(cpu);
	p->cpl = 3;
	p->brk = true;
}

static void x86_i_swapgs(struct x86_cpu *cpu, const struct x86_insn *in)
{
	uint64_t t;

	if (cpu->priv->mode != X86_MODE_LONG64)
		x86_ud(cpu);
	x86_need_cpl0(cpu);
	t = cpu->seg[X86_GS].base;
	cpu->seg[X86_GS].base = cpu->kernel_gs_base;
	cpu->kernel_gs_base = t;
}

/* RD/WR FS/GS BASE: 64-bit mode with CR4.FSGSBASE (SDM Vol. 2). */
static void x86_i_fsgsbase(struct x86_cpu *cpu, const struct x86_insn *in)
{
	int seg = (in->mnem == ZYDIS_MNEMONIC_RDFSBASE ||
		   in->mnem == ZYDIS_MNEMONIC_WRFSBASE) ? X86_FS : X86_GS;
	uint64_t v;

	if (cpu->priv->mode != X86_MODE_LONG64 ||
	    !(cpu->cr4 & X86_CR4_FSGSBASE))
		x86_ud(cpu);
	if (in->mnem == ZYDIS_MNEMONIC_RDFSBASE ||
	    in->mnem == ZYDIS_MNEMONIC_RDGSBASE) {
		x86_op_write(cpu, in, 0, cpu->seg[seg].base);
		return;
	}
	v = x86_op_read(cpu, in, 0);
	if (in->op[0].size == 4)
		v = (uint32_t)v;
	if (!x86_canonical(v))
		x86_gp(cpu, 0);
	cpu->seg[seg].base = v;
}

static void x86_i_xgetbv(struct x86_cpu *cpu, const struct x86_insn *in)
{
	if (!(cpu->cr4 & X86_CR4_OSXSAVE))
		x86_ud(cpu);
	if ((uint32_t)cpu->gpr[X86_RCX] != 0)
		x86_gp(cpu, 0);
	cpu->gpr[X86_RAX] = (uint32_t)cpu->xcr0;
	cpu->gpr[X86_RDX] = cpu->xcr0 >> 32;
}

static void x86_i_xsetbv(struct x86_cpu *cpu, const struct x86_insn *in)
{
	uint64_t v = (uint32_t)cpu->gpr[X86_RAX] | (cpu->gpr[X86_RDX] << 32);

	if (!(cpu->cr4 & X86_CR4_OSXSAVE))
		x86_ud(cpu);
	x86_need_cpl0(cpu);
	/* x87 must stay on; only x87 and SSE state exist (13.3) */
	if ((uint32_t)cpu->gpr[X86_RCX] != 0 || !(v & 1) || (v & ~3ull))
		x86_gp(cpu, 0);
	cpu->xcr0 = v;
}

/* ------------------------------------------------------ HLT, CLI, STI */

static void x86_i_hlt(struct x86_cpu *cpu, const struct x86_insn *in)
{
	x86_need_cpl0(cpu);
	cpu->rip = cpu->priv->next_rip;
	/* an interrupt already waiting wakes HLT at once */
	if ((cpu->rflags & X86_IF) && cpu->ops->pending_irq &&
	    cpu->ops->pending_irq(cpu, false) >= 0) {
		cpu->priv->brk = true;
		return;
	}
	cpu->halted = true;
	/* an STI or MOV SS shadow covered the HLT: the wake-up is not in it */
	cpu->ev.int_shadow = 0;
	x86_exit(cpu, X86_EXIT_HLT);
}

static bool x86_if_allowed(struct x86_cpu *cpu)
{
	struct x86_cpu_priv *p = cpu->priv;

	if (p->mode == X86_MODE_REAL)
		return true;
	if (p->mode == X86_MODE_VM86)
		return X86_IOPL_OF(cpu->rflags) == 3;
	return p->cpl <= X86_IOPL_OF(cpu->rflags);
}

static void x86_i_cli(struct x86_cpu *cpu, const struct x86_insn *in)
{
	if (!x86_if_allowed(cpu))
		x86_gp(cpu, 0);
	cpu->rflags &= ~X86_IF;
}

/* STI delays interrupts by one instruction (SDM Vol. 2, STI). */
static void x86_i_sti(struct x86_cpu *cpu, const struct x86_insn *in)
{
	if (!x86_if_allowed(cpu))
		x86_gp(cpu, 0);
	if (!(cpu->rflags & X86_IF))
		cpu->ev.int_shadow |= X86_SHADOW_STI;
	cpu->rflags |= X86_IF;
	cpu->priv->brk = true;
}

static void x86_i_stac(struct x86_cpu *cpu, const struct x86_insn *in)
{
	x86_need_cpl0(cpu);
	if (in->mnem == ZYDIS_MNEMONIC_STAC)
		cpu->rflags |= X86_AC;
	else
		cpu->rflags &= ~X86_AC;
}

static void x86_i_ud(struct x86_cpu *cpu, const struct x86_insn *in)
{
	x86_ud(cpu);
}

void x86_system_register(void)
{
	static const struct { unsigned int m; x86_handler fn; } t[] = {
		{ ZYDIS_MNEMONIC_LMSW, x86_i_lmsw },
		{ ZYDIS_MNEMONIC_SMSW, x86_i_smsw },
		{ ZYDIS_MNEMONIC_CLTS, x86_i_clts },
		{ ZYDIS_MNEMONIC_LGDT, x86_i_lgdt },
		{ ZYDIS_MNEMONIC_LIDT, x86_i_lgdt },
		{ ZYDIS_MNEMONIC_SGDT, x86_i_sgdt },
		{ ZYDIS_MNEMONIC_SIDT, x86_i_sgdt },
		{ ZYDIS_MNEMONIC_LLDT, x86_i_lldt },
		{ ZYDIS_MNEMONIC_LTR, x86_i_ltr },
		{ ZYDIS_MNEMONIC_SLDT, x86_i_sldt },
		{ ZYDIS_MNEMONIC_STR, x86_i_str },
		{ ZYDIS_MNEMONIC_LAR, x86_i_lar },
		{ ZYDIS_MNEMONIC_LSL, x86_i_lsl },
		{ ZYDIS_MNEMONIC_VERR, x86_i_verrw },
		{ ZYDIS_MNEMONIC_VERW, x86_i_verrw },
		{ ZYDIS_MNEMONIC_ARPL, x86_i_arpl },
		{ ZYDIS_MNEMONIC_INVLPG, x86_i_invlpg },
		{ ZYDIS_MNEMONIC_INVPCID, x86_i_invpcid },
		{ ZYDIS_MNEMONIC_INVD, x86_i_wbinvd },
		{ ZYDIS_MNEMONIC_WBINVD, x86_i_wbinvd },
		{ ZYDIS_MNEMONIC_CPUID, x86_i_cpuid },
		{ ZYDIS_MNEMONIC_VMCALL, x86_i_vmcall },
		{ ZYDIS_MNEMONIC_VMMCALL, x86_i_vmcall },
		{ ZYDIS_MNEMONIC_MONITOR, x86_i_monitor },
		{ ZYDIS_MNEMONIC_MWAIT, x86_i_monitor },
		{ ZYDIS_MNEMONIC_RDTSC, x86_i_rdtsc },
		{ ZYDIS_MNEMONIC_RDTSCP, x86_i_rdtsc },
		{ ZYDIS_MNEMONIC_RDPID, x86_i_rdpid },
		{ ZYDIS_MNEMONIC_RDRAND, x86_i_rdrand },
		{ ZYDIS_MNEMONIC_RDSEED, x86_i_rdrand },
		{ ZYDIS_MNEMONIC_RDMSR, x86_i_rdmsr },
		{ ZYDIS_MNEMONIC_WRMSR, x86_i_wrmsr },
		{ ZYDIS_MNEMONIC_SYSCALL, x86_i_syscall },
		{ ZYDIS_MNEMONIC_SYSRET, x86_i_sysret },
		{ ZYDIS_MNEMONIC_SYSENTER, x86_i_sysenter },
		{ ZYDIS_MNEMONIC_SYSEXIT, x86_i_sysexit },
		{ ZYDIS_MNEMONIC_SWAPGS, x86_i_swapgs },
		{ ZYDIS_MNEMONIC_RDFSBASE, x86_i_fsgsbase },
		{ ZYDIS_MNEMONIC_RDGSBASE, x86_i_fsgsbase },
		{ ZYDIS_MNEMONIC_WRFSBASE, x86_i_fsgsbase },
		{ ZYDIS_MNEMONIC_WRGSBASE, x86_i_fsgsbase },
		{ ZYDIS_MNEMONIC_XGETBV, x86_i_xgetbv },
		{ ZYDIS_MNEMONIC_XSETBV, x86_i_xsetbv },
		{ ZYDIS_MNEMONIC_HLT, x86_i_hlt },
		{ ZYDIS_MNEMONIC_CLI, x86_i_cli },
		{ ZYDIS_MNEMONIC_STI, x86_i_sti },
		{ ZYDIS_MNEMONIC_STAC, x86_i_stac },
		{ ZYDIS_MNEMONIC_CLAC, x86_i_stac },
		{ ZYDIS_MNEMONIC_UD0, x86_i_ud },
		{ ZYDIS_MNEMONIC_UD1, x86_i_ud },
		{ ZYDIS_MNEMONIC_UD2, x86_i_ud },
	};
	unsigned int i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		x86_register(t[i].m, t[i].fn);
}

/* MOV CRn/DRn share the MOV mnemonic: datamov.c hands them here. */
void x86_mov_special(struct x86_cpu *cpu, const struct x86_insn *in);
void x86_mov_special(struct x86_cpu *cpu, const struct x86_insn *in)
{
	if (cpu->priv->mode == X86_MODE_VM86)
		x86_gp(cpu, 0);
	if (in->op[0].kind == X86_OP_CR || in->op[1].kind == X86_OP_CR)
		x86_i_mov_cr(cpu, in);
	else
		x86_i_mov_dr(cpu, in);
}
