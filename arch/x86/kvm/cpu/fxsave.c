// SPDX-License-Identifier: MIT
/*
 * fxsave.c - saving and restoring the x87/MMX/SSE state: FXSAVE and
 * FXRSTOR (Intel SDM Vol. 1, 10.5; Vol. 2 FXSAVE, Tables 3-43/3-46) and
 * XSAVE, XSAVEOPT and XRSTOR for the x87 and SSE components (Vol. 1,
 * chapter 13).
 *
 * struct x86_fxsave is the 64-bit FXSAVE image, so the 64-bit forms are
 * copies; the legacy forms put FCS/FDS beside 32-bit FIP/FDP.  The
 * engine has no XINUSE tracking: every requested component is reported
 * in use (XSTATE_BV bit set), which the SDM allows (13.6).  XSAVEOPT
 * saves like XSAVE, one of the behaviours it permits.
 */
#include "host_fpu.h"

#define X86_FX_LEGACY	160	/* bytes 0..159: x87 and MXCSR */
#define X86_XSAVE_HDR	512
#define X86_XSAVE_SIZE	576	/* legacy area + header: x87 | SSE */
#define X86_XCR0_X87	1ull
#define X86_XCR0_SSE	2ull

static unsigned int x86_fx_nxmm(struct x86_cpu *cpu)
{
	return cpu->priv->mode == X86_MODE_LONG64 ? 16 : 8;
}

/* Address of the save area; alignment checked on the linear address. */
static uint64_t x86_fx_la(struct x86_cpu *cpu, const struct x86_insn *in,
			  unsigned int size, unsigned int align,
			  enum x86_acc acc)
{
	const struct x86_operand *m = &in->op[0];
	uint64_t la;

	if (m->kind != X86_OP_MEM)
		x86_ud(cpu);
	la = x86_seg_la(cpu, m->seg, x86_ea(cpu, in, m), size, acc);
	if (la & (align - 1))
		x86_gp(cpu, 0);
	return la;
}

/* The image the guest sees: 64-bit layout, or FCS/FDS for legacy forms. */
static void x86_fx_image(struct x86_cpu *cpu, bool rexw, uint8_t *img)
{
	struct x86_fxsave fx = cpu->fx;
	uint16_t sel;

	memset(img, 0, 512);
	memset(fx.rsvd2, 0, sizeof(fx.rsvd2));
	fx.rsvd1 = 0;
	fx.fop &= 0x7ff;
	memcpy(img, &fx, 512);
	if (rexw)
		return;
	memset(img + 8, 0, 16);
	memcpy(img + 8, &fx.fip, 4);
	sel = cpu->seg[X86_CS].sel;
	memcpy(img + 12, &sel, 2);
	memcpy(img + 16, &fx.fdp, 4);
	sel = cpu->seg[X86_DS].sel;
	memcpy(img + 20, &sel, 2);
}

/* Load x87 control/status/pointers and ST0-7 from an image. */
static void x86_fx_load_x87(struct x86_cpu *cpu, const uint8_t *img,
			    bool rexw)
{
	struct x86_fxsave *fx = &cpu->fx;
	uint32_t v32;
	int i;

	memcpy(&fx->fcw, img, 2);
	memcpy(&fx->fsw, img + 2, 2);
	fx->ftw = img[4];
	memcpy(&fx->fop, img + 6, 2);
	fx->fop &= 0x7ff;
	if (rexw) {
		memcpy(&fx->fip, img + 8, 8);
		memcpy(&fx->fdp, img + 16, 8);
	} else {
		memcpy(&v32, img + 8, 4);
		fx->fip = v32;
		memcpy(&v32, img + 16, 4);
		fx->fdp = v32;
	}
	for (i = 0; i < 8; i++) {
		memset(fx->st[i], 0, 16);
		memcpy(fx->st[i], img + 32 + 16 * i, 10);
	}
}

static void x86_fx_init_x87(struct x86_cpu *cpu)
{
	struct x86_fxsave *fx = &cpu->fx;

	fx->fcw = 0x37f;
	fx->fsw = 0;
	fx->ftw = 0;		/* abridged: all empty */
	fx->fop = 0;
	fx->fip = fx->fdp = 0;
	memset(fx->st, 0, sizeof(fx->st));
}

static uint32_t x86_fx_mxcsr(struct x86_cpu *cpu, const uint8_t *img)
{
	uint32_t v;

	memcpy(&v, img + 24, 4);
	if (v & ~cpu->fx.mxcsr_mask)
		x86_gp(cpu, 0);
	return v;
}

/* ------------------------------------------------------------ FXSAVE */

static void x86_fx_check(struct x86_cpu *cpu, const struct x86_insn *in)
{
	if (in->flags & X86_I_LOCK)
		x86_ud(cpu);
	if (cpu->cr0 & (X86_CR0_TS | X86_CR0_EM))
		x86_raise_noerr(cpu, X86_NM);
}

static void x86_i_fxsave(struct x86_cpu *cpu, const struct x86_insn *in)
{
	uint8_t img[512];
	uint64_t la;

	x86_fx_check(cpu, in);
	la = x86_fx_la(cpu, in, 512, 16, X86_ACC_W);
	x86_fx_image(cpu, in->flags & X86_I_REXW, img);
	/* bytes 464..511 are left to software */
	x86_write_lin_buf(cpu, la, img, X86_FX_LEGACY + 16 * x86_fx_nxmm(cpu),
			  x86_data_pv(cpu), false);
}

static void x86_i_fxrstor(struct x86_cpu *cpu, const struct x86_insn *in)
{
	uint8_t img[512];
	uint32_t mxcsr;
	unsigned int n = x86_fx_nxmm(cpu);
	uint64_t la;

	x86_fx_check(cpu, in);
	la = x86_fx_la(cpu, in, 512, 16, X86_ACC_R);
	x86_read_lin_buf(cpu, la, img, X86_FX_LEGACY + 16 * n,
			 x86_data_pv(cpu), false);
	mxcsr = x86_fx_mxcsr(cpu, img);
	x86_fx_load_x87(cpu, img, in->flags & X86_I_REXW);
	cpu->fx.mxcsr = mxcsr;
	memcpy(cpu->fx.xmm, img + X86_FX_LEGACY, 16 * n);
}

/* ------------------------------------------------------------- XSAVE */

static uint64_t x86_xsave_rfbm(struct x86_cpu *cpu, const struct x86_insn *in)
{
	if (in->flags & X86_I_LOCK)
		x86_ud(cpu);
	if (!(cpu->cr4 & X86_CR4_OSXSAVE))
		x86_ud(cpu);
	if (cpu->cr0 & X86_CR0_TS)
		x86_raise_noerr(cpu, X86_NM);
	return cpu->xcr0 & ((uint32_t)cpu->gpr[X86_RAX] |
			    (cpu->gpr[X86_RDX] << 32));
}

static void x86_i_xsave(struct x86_cpu *cpu, const struct x86_insn *in)
{
	uint64_t rfbm = x86_xsave_rfbm(cpu, in), la, bv;
	uint8_t img[512];
	enum x86_pv pv = x86_data_pv(cpu);
	unsigned int n = x86_fx_nxmm(cpu);

	la = x86_fx_la(cpu, in, X86_XSAVE_SIZE, 64, X86_ACC_W);
	bv = x86_read_lin(cpu, x86_wrap_la(cpu, la + X86_XSAVE_HDR), 8, pv,
			  false);
	x86_fx_image(cpu, in->flags & X86_I_REXW, img);
	if (rfbm & X86_XCR0_X87) {
		x86_write_lin_buf(cpu, la, img, 24, pv, false);
		x86_write_lin_buf(cpu, x86_wrap_la(cpu, la + 32), img + 32, 128,
				  pv, false);
	}
	if (rfbm & X86_XCR0_SSE) {
		x86_write_lin_buf(cpu, x86_wrap_la(cpu, la + 24), img + 24, 8,
				  pv, false);
		x86_write_lin_buf(cpu, x86_wrap_la(cpu, la + X86_FX_LEGACY),
				  img + X86_FX_LEGACY, 16 * n, pv, false);
	}
	bv |= rfbm & (X86_XCR0_X87 | X86_XCR0_SSE);
	x86_write_lin(cpu, x86_wrap_la(cpu, la + X86_XSAVE_HDR), bv, 8, pv,
		      false);
}

static void x86_i_xrstor(struct x86_cpu *cpu, const struct x86_insn *in)
{
	uint64_t rfbm = x86_xsave_rfbm(cpu, in), la, hdr[8];
	enum x86_pv pv = x86_data_pv(cpu);
	unsigned int n = x86_fx_nxmm(cpu);
	uint8_t img[512];
	uint32_t mxcsr = cpu->fx.mxcsr;

	la = x86_fx_la(cpu, in, X86_XSAVE_SIZE, 64, X86_ACC_R);
	x86_read_lin_buf(cpu, la, img, X86_FX_LEGACY + 16 * n, pv, false);
	x86_read_lin_buf(cpu, x86_wrap_la(cpu, la + X86_XSAVE_HDR), hdr,
			 sizeof(hdr), pv, false);
	/* standard form only; no compaction is advertised (13.8) */
	if ((hdr[0] & ~cpu->xcr0) || hdr[1] || hdr[2])
		x86_gp(cpu, 0);
	if (rfbm & (X86_XCR0_SSE | 4))
		mxcsr = x86_fx_mxcsr(cpu, img);
	if (rfbm & X86_XCR0_X87) {
		if (hdr[0] & X86_XCR0_X87)
			x86_fx_load_x87(cpu, img, in->flags & X86_I_REXW);
		else
			x86_fx_init_x87(cpu);
	}
	if (rfbm & X86_XCR0_SSE) {
		if (hdr[0] & X86_XCR0_SSE)
			memcpy(cpu->fx.xmm, img + X86_FX_LEGACY, 16 * n);
		else
			memset(cpu->fx.xmm, 0, 16 * n);
	}
	cpu->fx.mxcsr = mxcsr;
}

void x86_fxsave_register(void)
{
	x86_register(ZYDIS_MNEMONIC_FXSAVE, x86_i_fxsave);
	x86_register(ZYDIS_MNEMONIC_FXSAVE64, x86_i_fxsave);
	x86_register(ZYDIS_MNEMONIC_FXRSTOR, x86_i_fxrstor);
	x86_register(ZYDIS_MNEMONIC_FXRSTOR64, x86_i_fxrstor);
	x86_register(ZYDIS_MNEMONIC_XSAVE, x86_i_xsave);
	x86_register(ZYDIS_MNEMONIC_XSAVE64, x86_i_xsave);
	x86_register(ZYDIS_MNEMONIC_XSAVEOPT, x86_i_xsave);
	x86_register(ZYDIS_MNEMONIC_XSAVEOPT64, x86_i_xsave);
	x86_register(ZYDIS_MNEMONIC_XRSTOR, x86_i_xrstor);
	x86_register(ZYDIS_MNEMONIC_XRSTOR64, x86_i_xrstor);
}
