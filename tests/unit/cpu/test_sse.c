// SPDX-License-Identifier: MIT
/*
 * test_sse.c - MMX/SSE/SSE2/SSE3/SSSE3/SSE4.1/SSE4.2: every row runs
 * natively and in the engine from the same XMM/MM registers, MXCSR,
 * GPRs, flags and memory, over a grid of edge values (zeros, denormals,
 * infinities, quiet and signalling NaNs, integer extremes) and MXCSR
 * settings (every rounding mode, FTZ, DAZ, sticky flags); registers,
 * MXCSR, x87 tags, flags and memory must match.  Then the exceptions:
 * #UD (CR0.EM, !CR4.OSFXSR), #NM (CR0.TS), #GP (alignment), #XM and
 * #UD for unmasked SIMD exceptions, and FXSAVE/FXRSTOR/XSAVE layouts.
 */
#include "test_fpstate.h"

#define OP(name, code) GUEST(sse_##name, ".code64\n" code "\n")
#define ROW(n, text) { text, sse_##n##_start, sse_##n##_end, 0, 0 }

OP(s0_movaps, "movaps %xmm1,%xmm0");
OP(s1_movaps, "movaps (%rsi),%xmm2");
OP(s2_movaps, "movaps %xmm3,16(%rsi)");
OP(s3_movups, "movups 3(%rsi),%xmm0");
OP(s4_movups, "movups %xmm1,5(%rsi)");
OP(s5_movapd, "movapd %xmm1,%xmm0");
OP(s6_movupd, "movupd 1(%rsi),%xmm0");
OP(s7_movdqa, "movdqa 16(%rsi),%xmm1");
OP(s8_movdqu, "movdqu %xmm2,7(%rsi)");
OP(s9_movdqu, "movdqu 9(%rsi),%xmm3");
OP(s10_movq, "movq %xmm1,%xmm0");
OP(s11_movq, "movq (%rsi),%xmm0");
OP(s12_movq, "movq %xmm1,(%rsi)");
OP(s13_movq, "movq %rax,%xmm0");
OP(s14_movq, "movq %xmm1,%rax");
OP(s15_movd, "movd %eax,%xmm2");
OP(s16_movd, "movd %xmm3,%ebx");
OP(s17_movd, "movd (%rsi),%xmm1");
OP(s18_movd, "movd %xmm1,4(%rsi)");
OP(s19_movss, "movss %xmm1,%xmm0");
OP(s20_movss, "movss (%rsi),%xmm0");
OP(s21_movss, "movss %xmm2,(%rsi)");
OP(s22_movsd, "movsd %xmm1,%xmm0");
OP(s23_movsd, "movsd 8(%rsi),%xmm0");
OP(s24_movsd, "movsd %xmm2,(%rsi)");
OP(s25_movlps, "movlps (%rsi),%xmm0");
OP(s26_movhps, "movhps 8(%rsi),%xmm0");
OP(s27_movlps, "movlps %xmm1,(%rsi)");
OP(s28_movhps, "movhps %xmm1,(%rsi)");
OP(s29_movlpd, "movlpd (%rsi),%xmm2");
OP(s30_movhpd, "movhpd %xmm3,8(%rsi)");
OP(s31_movlhps, "movlhps %xmm1,%xmm0");
OP(s32_movhlps, "movhlps %xmm1,%xmm0");
OP(s33_movntdq, "movntdq %xmm1,(%rsi)");
OP(s34_movntps, "movntps %xmm2,16(%rsi)");
OP(s35_movnti, "movnti %eax,(%rsi)");
OP(s36_movnti, "movnti %rbx,8(%rsi)");
OP(s37_pxor, "pxor %xmm1,%xmm0");
OP(s38_pand, "pand %xmm1,%xmm0");
OP(s39_pandn, "pandn (%rsi),%xmm0");
OP(s40_por, "por %xmm2,%xmm3");
OP(s41_xorps, "xorps %xmm1,%xmm0");
OP(s42_andps, "andps %xmm1,%xmm0");
OP(s43_orps, "orps %xmm1,%xmm0");
OP(s44_andnps, "andnps %xmm1,%xmm0");
OP(s45_xorpd, "xorpd %xmm1,%xmm0");
OP(s46_andpd, "andpd (%rsi),%xmm1");
OP(s47_orpd, "orpd %xmm2,%xmm1");
OP(s48_andnpd, "andnpd %xmm3,%xmm0");
OP(s49_punpcklbw, "punpcklbw %xmm1,%xmm0");
OP(s50_punpckhbw, "punpckhbw %xmm1,%xmm0");
OP(s51_punpcklwd, "punpcklwd %xmm1,%xmm0");
OP(s52_punpckhwd, "punpckhwd %xmm1,%xmm0");
OP(s53_punpckldq, "punpckldq %xmm1,%xmm0");
OP(s54_punpckhdq, "punpckhdq %xmm1,%xmm0");
OP(s55_punpcklqdq, "punpcklqdq %xmm1,%xmm0");
OP(s56_punpckhqdq, "punpckhqdq (%rsi),%xmm0");
OP(s57_unpcklps, "unpcklps %xmm1,%xmm0");
OP(s58_unpckhpd, "unpckhpd %xmm1,%xmm0");
OP(s59_pshufd, "pshufd $0x1b,%xmm1,%xmm0");
OP(s60_pshuflw, "pshuflw $0x93,%xmm1,%xmm0");
OP(s61_pshufhw, "pshufhw $0x4e,(%rsi),%xmm0");
OP(s62_shufps, "shufps $0x72,%xmm1,%xmm0");
OP(s63_shufpd, "shufpd $1,%xmm1,%xmm0");
OP(s64_pshufb, "pshufb %xmm1,%xmm0");
OP(s65_palignr, "palignr $5,%xmm1,%xmm0");
OP(s66_paddb, "paddb %xmm1,%xmm0");
OP(s67_paddw, "paddw %xmm1,%xmm0");
OP(s68_paddd, "paddd %xmm1,%xmm0");
OP(s69_paddq, "paddq %xmm1,%xmm0");
OP(s70_paddsb, "paddsb %xmm1,%xmm0");
OP(s71_paddusw, "paddusw %xmm1,%xmm0");
OP(s72_psubb, "psubb %xmm1,%xmm0");
OP(s73_psubw, "psubw %xmm1,%xmm0");
OP(s74_psubd, "psubd %xmm1,%xmm0");
OP(s75_psubq, "psubq %xmm1,%xmm0");
OP(s76_psubsw, "psubsw %xmm1,%xmm0");
OP(s77_psubusb, "psubusb %xmm1,%xmm0");
OP(s78_pcmpeqb, "pcmpeqb %xmm1,%xmm0");
OP(s79_pcmpeqw, "pcmpeqw %xmm1,%xmm0");
OP(s80_pcmpeqd, "pcmpeqd %xmm1,%xmm0");
OP(s81_pcmpeqq, "pcmpeqq %xmm1,%xmm0");
OP(s82_pcmpgtb, "pcmpgtb %xmm1,%xmm0");
OP(s83_pcmpgtw, "pcmpgtw %xmm1,%xmm0");
OP(s84_pcmpgtd, "pcmpgtd %xmm1,%xmm0");
OP(s85_pcmpgtq, "pcmpgtq %xmm1,%xmm0");
OP(s86_pmovmskb, "pmovmskb %xmm1,%eax");
OP(s87_movmskps, "movmskps %xmm1,%ebx");
OP(s88_movmskpd, "movmskpd %xmm1,%ecx");
OP(s89_pminub, "pminub %xmm1,%xmm0");
OP(s90_pmaxub, "pmaxub %xmm1,%xmm0");
OP(s91_pminsw, "pminsw %xmm1,%xmm0");
OP(s92_pmaxsw, "pmaxsw %xmm1,%xmm0");
OP(s93_pminsd, "pminsd %xmm1,%xmm0");
OP(s94_pmaxud, "pmaxud %xmm1,%xmm0");
OP(s95_pavgb, "pavgb %xmm1,%xmm0");
OP(s96_psadbw, "psadbw %xmm1,%xmm0");
OP(s97_pmullw, "pmullw %xmm1,%xmm0");
OP(s98_pmulhw, "pmulhw %xmm1,%xmm0");
OP(s99_pmulhuw, "pmulhuw %xmm1,%xmm0");
OP(s100_pmuludq, "pmuludq %xmm1,%xmm0");
OP(s101_pmaddwd, "pmaddwd %xmm1,%xmm0");
OP(s102_pmulld, "pmulld %xmm1,%xmm0");
OP(s103_pmuldq, "pmuldq %xmm1,%xmm0");
OP(s104_psllw, "psllw $3,%xmm0");
OP(s105_pslld, "pslld $17,%xmm0");
OP(s106_psllq, "psllq $33,%xmm0");
OP(s107_psrlw, "psrlw $15,%xmm0");
OP(s108_psrld, "psrld $1,%xmm0");
OP(s109_psrlq, "psrlq $63,%xmm0");
OP(s110_psraw, "psraw $9,%xmm0");
OP(s111_psrad, "psrad $31,%xmm0");
OP(s112_psllw, "psllw %xmm1,%xmm0");
OP(s113_psrld, "psrld %xmm1,%xmm0");
OP(s114_psraw, "psraw %xmm1,%xmm0");
OP(s115_psllq, "psllq %xmm1,%xmm0");
OP(s116_pslldq, "pslldq $3,%xmm0");
OP(s117_psrldq, "psrldq $11,%xmm0");
OP(s118_packsswb, "packsswb %xmm1,%xmm0");
OP(s119_packssdw, "packssdw %xmm1,%xmm0");
OP(s120_packuswb, "packuswb %xmm1,%xmm0");
OP(s121_packusdw, "packusdw %xmm1,%xmm0");
OP(s122_pextrw, "pextrw $3,%xmm1,%eax");
OP(s123_pinsrw, "pinsrw $5,%ebx,%xmm0");
OP(s124_pextrb, "pextrb $9,%xmm1,%eax");
OP(s125_pextrd, "pextrd $2,%xmm1,%ebx");
OP(s126_pextrq, "pextrq $1,%xmm1,%rcx");
OP(s127_pinsrb, "pinsrb $3,%eax,%xmm0");
OP(s128_pinsrd, "pinsrd $1,%ebx,%xmm0");
OP(s129_pinsrq, "pinsrq $1,%rcx,%xmm0");
OP(s130_extractps, "extractps $2,%xmm1,%eax");
OP(s131_insertps, "insertps $0x5a,%xmm1,%xmm0");
OP(s132_addps, "addps %xmm1,%xmm0");
OP(s133_addss, "addss %xmm1,%xmm0");
OP(s134_addpd, "addpd %xmm1,%xmm0");
OP(s135_addsd, "addsd %xmm1,%xmm0");
OP(s136_subps, "subps %xmm1,%xmm0");
OP(s137_subsd, "subsd %xmm1,%xmm0");
OP(s138_mulps, "mulps %xmm1,%xmm0");
OP(s139_mulsd, "mulsd %xmm1,%xmm0");
OP(s140_divps, "divps %xmm1,%xmm0");
OP(s141_divss, "divss %xmm1,%xmm0");
OP(s142_divpd, "divpd %xmm1,%xmm0");
OP(s143_divsd, "divsd (%rsi),%xmm0");
OP(s144_sqrtps, "sqrtps %xmm1,%xmm0");
OP(s145_sqrtss, "sqrtss %xmm1,%xmm0");
OP(s146_sqrtpd, "sqrtpd %xmm1,%xmm0");
OP(s147_sqrtsd, "sqrtsd %xmm1,%xmm0");
OP(s148_minps, "minps %xmm1,%xmm0");
OP(s149_maxps, "maxps %xmm1,%xmm0");
OP(s150_minsd, "minsd %xmm1,%xmm0");
OP(s151_maxss, "maxss %xmm1,%xmm0");
OP(s152_rcpps, "rcpps %xmm1,%xmm0");
OP(s153_rsqrtss, "rsqrtss %xmm1,%xmm0");
OP(s154_cmpps, "cmpps $1,%xmm1,%xmm0");
OP(s155_cmpss, "cmpss $3,%xmm1,%xmm0");
OP(s156_cmppd, "cmppd $4,%xmm1,%xmm0");
OP(s157_cmpsd, "cmpsd $7,%xmm1,%xmm0");
OP(s158_cmpsd, "cmpsd $0,(%rsi),%xmm0");
OP(s159_comiss, "comiss %xmm1,%xmm0");
OP(s160_ucomiss, "ucomiss %xmm1,%xmm0");
OP(s161_comisd, "comisd %xmm1,%xmm0");
OP(s162_ucomisd, "ucomisd (%rsi),%xmm0");
OP(s163_cvtsi2ss, "cvtsi2ss %eax,%xmm0");
OP(s164_cvtsi2sd, "cvtsi2sd %rbx,%xmm0");
OP(s165_cvtsi2sdl, "cvtsi2sdl (%rsi),%xmm0");
OP(s166_cvtss2si, "cvtss2si %xmm1,%eax");
OP(s167_cvttss2si, "cvttss2si %xmm1,%rax");
OP(s168_cvtsd2si, "cvtsd2si %xmm1,%rbx");
OP(s169_cvttsd2si, "cvttsd2si %xmm1,%ecx");
OP(s170_cvtss2sd, "cvtss2sd %xmm1,%xmm0");
OP(s171_cvtsd2ss, "cvtsd2ss %xmm1,%xmm0");
OP(s172_cvtps2pd, "cvtps2pd %xmm1,%xmm0");
OP(s173_cvtpd2ps, "cvtpd2ps %xmm1,%xmm0");
OP(s174_cvtdq2ps, "cvtdq2ps %xmm1,%xmm0");
OP(s175_cvtps2dq, "cvtps2dq %xmm1,%xmm0");
OP(s176_cvttps2dq, "cvttps2dq %xmm1,%xmm0");
OP(s177_cvtdq2pd, "cvtdq2pd %xmm1,%xmm0");
OP(s178_cvtpd2dq, "cvtpd2dq %xmm1,%xmm0");
OP(s179_cvttpd2dq, "cvttpd2dq %xmm1,%xmm0");
OP(s180_cvtpi2ps, "cvtpi2ps %mm1,%xmm0");
OP(s181_cvtps2pi, "cvtps2pi %xmm1,%mm0");
OP(s182_cvtpi2pd, "cvtpi2pd (%rsi),%xmm0");
OP(s183_cvttpd2pi, "cvttpd2pi %xmm1,%mm2");
OP(s184_addsubps, "addsubps %xmm1,%xmm0");
OP(s185_haddpd, "haddpd %xmm1,%xmm0");
OP(s186_hsubps, "hsubps %xmm1,%xmm0");
OP(s187_movddup, "movddup %xmm1,%xmm0");
OP(s188_movshdup, "movshdup %xmm1,%xmm0");
OP(s189_movsldup, "movsldup (%rsi),%xmm0");
OP(s190_lddqu, "lddqu 1(%rsi),%xmm0");
OP(s191_pabsb, "pabsb %xmm1,%xmm0");
OP(s192_pabsd, "pabsd %xmm1,%xmm0");
OP(s193_phaddw, "phaddw %xmm1,%xmm0");
OP(s194_phsubd, "phsubd %xmm1,%xmm0");
OP(s195_phaddsw, "phaddsw %xmm1,%xmm0");
OP(s196_pmaddubsw, "pmaddubsw %xmm1,%xmm0");
OP(s197_pmulhrsw, "pmulhrsw %xmm1,%xmm0");
OP(s198_psignb, "psignb %xmm1,%xmm0");
OP(s199_psignd, "psignd %xmm1,%xmm0");
OP(s200_blendps, "blendps $5,%xmm1,%xmm0");
OP(s201_blendpd, "blendpd $2,%xmm1,%xmm0");
OP(s202_pblendw, "pblendw $0x96,%xmm1,%xmm3");
OP(s203_blendvps, "blendvps %xmm0,%xmm1,%xmm2");
OP(s204_pblendvb, "pblendvb %xmm0,%xmm1,%xmm3");
OP(s205_dpps, "dpps $0xf1,%xmm1,%xmm2");
OP(s206_dppd, "dppd $0x31,%xmm1,%xmm2");
OP(s207_mpsadbw, "mpsadbw $5,%xmm1,%xmm2");
OP(s208_phminposuw, "phminposuw %xmm1,%xmm0");
OP(s209_pmovsxbw, "pmovsxbw %xmm1,%xmm0");
OP(s210_pmovzxbd, "pmovzxbd %xmm1,%xmm0");
OP(s211_pmovsxwq, "pmovsxwq (%rsi),%xmm0");
OP(s212_pmovzxdq, "pmovzxdq %xmm1,%xmm0");
OP(s213_ptest, "ptest %xmm1,%xmm0");
OP(s214_roundps, "roundps $0,%xmm1,%xmm0");
OP(s215_roundss, "roundss $9,%xmm1,%xmm0");
OP(s216_roundpd, "roundpd $4,%xmm1,%xmm0");
OP(s217_roundsd, "roundsd $3,%xmm1,%xmm0");
OP(s218_movntdqa, "movntdqa (%rsi),%xmm0");
OP(s219_pcmpestri, "pcmpestri $0x0c,%xmm1,%xmm0");
OP(s220_pcmpestrm, "pcmpestrm $0x40,%xmm1,%xmm0");
OP(s221_pcmpistri, "pcmpistri $0x08,%xmm1,%xmm2");
OP(s222_pcmpistrm, "pcmpistrm $0x44,(%rsi),%xmm2");
OP(s223_crc32b, "crc32b %al,%ebx");
OP(s224_crc32w, "crc32w %cx,%ebx");
OP(s225_crc32l, "crc32l (%rsi),%ebx");
OP(s226_crc32q, "crc32q %rcx,%rbx");
OP(s227_crc32b, "crc32b %ah,%ecx");
OP(s228_paddb, "paddb %mm1,%mm0");
OP(s229_psubw, "psubw (%rsi),%mm0");
OP(s230_pmullw, "pmullw %mm1,%mm0");
OP(s231_psllq, "psllq $7,%mm1");
OP(s232_psrad, "psrad %mm1,%mm0");
OP(s233_pshufw, "pshufw $0x1b,%mm1,%mm0");
OP(s234_movq, "movq %mm1,%mm0");
OP(s235_movq, "movq (%rsi),%mm2");
OP(s236_movq, "movq %mm3,(%rsi)");
OP(s237_movd, "movd %eax,%mm0");
OP(s238_movd, "movd %mm1,%ebx");
OP(s239_movq, "movq %rax,%mm4");
OP(s240_pmovmskb, "pmovmskb %mm1,%eax");
OP(s241_pshufb, "pshufb %mm1,%mm0");
OP(s242_paddq, "paddq %mm1,%mm0");
OP(s243_pextrw, "pextrw $2,%mm1,%eax");
OP(s244_pinsrw, "pinsrw $1,%ebx,%mm0");
OP(s245_movq2dq, "movq2dq %mm1,%xmm0");
OP(s246_movdq2q, "movdq2q %xmm1,%mm0");
OP(s247_packsswb, "packsswb %mm1,%mm0");
OP(s248_emms, "emms");
OP(s249_pmaddwd, "pmaddwd %mm1,%mm0");
OP(s250_movntq, "movntq %mm1,8(%rsi)");
OP(s251_maskmovdqu, "push %rdi\n lea 8(%rsi), %rdi\n maskmovdqu %xmm1, %xmm0\n pop %rdi");
static const struct fp_row rows[] = {
	ROW(s0_movaps, "movaps %xmm1,%xmm0"),
	ROW(s1_movaps, "movaps (%rsi),%xmm2"),
	ROW(s2_movaps, "movaps %xmm3,16(%rsi)"),
	ROW(s3_movups, "movups 3(%rsi),%xmm0"),
	ROW(s4_movups, "movups %xmm1,5(%rsi)"),
	ROW(s5_movapd, "movapd %xmm1,%xmm0"),
	ROW(s6_movupd, "movupd 1(%rsi),%xmm0"),
	ROW(s7_movdqa, "movdqa 16(%rsi),%xmm1"),
	ROW(s8_movdqu, "movdqu %xmm2,7(%rsi)"),
	ROW(s9_movdqu, "movdqu 9(%rsi),%xmm3"),
	ROW(s10_movq, "movq %xmm1,%xmm0"),
	ROW(s11_movq, "movq (%rsi),%xmm0"),
	ROW(s12_movq, "movq %xmm1,(%rsi)"),
	ROW(s13_movq, "movq %rax,%xmm0"),
	ROW(s14_movq, "movq %xmm1,%rax"),
	ROW(s15_movd, "movd %eax,%xmm2"),
	ROW(s16_movd, "movd %xmm3,%ebx"),
	ROW(s17_movd, "movd (%rsi),%xmm1"),
	ROW(s18_movd, "movd %xmm1,4(%rsi)"),
	ROW(s19_movss, "movss %xmm1,%xmm0"),
	ROW(s20_movss, "movss (%rsi),%xmm0"),
	ROW(s21_movss, "movss %xmm2,(%rsi)"),
	ROW(s22_movsd, "movsd %xmm1,%xmm0"),
	ROW(s23_movsd, "movsd 8(%rsi),%xmm0"),
	ROW(s24_movsd, "movsd %xmm2,(%rsi)"),
	ROW(s25_movlps, "movlps (%rsi),%xmm0"),
	ROW(s26_movhps, "movhps 8(%rsi),%xmm0"),
	ROW(s27_movlps, "movlps %xmm1,(%rsi)"),
	ROW(s28_movhps, "movhps %xmm1,(%rsi)"),
	ROW(s29_movlpd, "movlpd (%rsi),%xmm2"),
	ROW(s30_movhpd, "movhpd %xmm3,8(%rsi)"),
	ROW(s31_movlhps, "movlhps %xmm1,%xmm0"),
	ROW(s32_movhlps, "movhlps %xmm1,%xmm0"),
	ROW(s33_movntdq, "movntdq %xmm1,(%rsi)"),
	ROW(s34_movntps, "movntps %xmm2,16(%rsi)"),
	ROW(s35_movnti, "movnti %eax,(%rsi)"),
	ROW(s36_movnti, "movnti %rbx,8(%rsi)"),
	ROW(s37_pxor, "pxor %xmm1,%xmm0"),
	ROW(s38_pand, "pand %xmm1,%xmm0"),
	ROW(s39_pandn, "pandn (%rsi),%xmm0"),
	ROW(s40_por, "por %xmm2,%xmm3"),
	ROW(s41_xorps, "xorps %xmm1,%xmm0"),
	ROW(s42_andps, "andps %xmm1,%xmm0"),
	ROW(s43_orps, "orps %xmm1,%xmm0"),
	ROW(s44_andnps, "andnps %xmm1,%xmm0"),
	ROW(s45_xorpd, "xorpd %xmm1,%xmm0"),
	ROW(s46_andpd, "andpd (%rsi),%xmm1"),
	ROW(s47_orpd, "orpd %xmm2,%xmm1"),
	ROW(s48_andnpd, "andnpd %xmm3,%xmm0"),
	ROW(s49_punpcklbw, "punpcklbw %xmm1,%xmm0"),
	ROW(s50_punpckhbw, "punpckhbw %xmm1,%xmm0"),
	ROW(s51_punpcklwd, "punpcklwd %xmm1,%xmm0"),
	ROW(s52_punpckhwd, "punpckhwd %xmm1,%xmm0"),
	ROW(s53_punpckldq, "punpckldq %xmm1,%xmm0"),
	ROW(s54_punpckhdq, "punpckhdq %xmm1,%xmm0"),
	ROW(s55_punpcklqdq, "punpcklqdq %xmm1,%xmm0"),
	ROW(s56_punpckhqdq, "punpckhqdq (%rsi),%xmm0"),
	ROW(s57_unpcklps, "unpcklps %xmm1,%xmm0"),
	ROW(s58_unpckhpd, "unpckhpd %xmm1,%xmm0"),
	ROW(s59_pshufd, "pshufd $0x1b,%xmm1,%xmm0"),
	ROW(s60_pshuflw, "pshuflw $0x93,%xmm1,%xmm0"),
	ROW(s61_pshufhw, "pshufhw $0x4e,(%rsi),%xmm0"),
	ROW(s62_shufps, "shufps $0x72,%xmm1,%xmm0"),
	ROW(s63_shufpd, "shufpd $1,%xmm1,%xmm0"),
	ROW(s64_pshufb, "pshufb %xmm1,%xmm0"),
	ROW(s65_palignr, "palignr $5,%xmm1,%xmm0"),
	ROW(s66_paddb, "paddb %xmm1,%xmm0"),
	ROW(s67_paddw, "paddw %xmm1,%xmm0"),
	ROW(s68_paddd, "paddd %xmm1,%xmm0"),
	ROW(s69_paddq, "paddq %xmm1,%xmm0"),
	ROW(s70_paddsb, "paddsb %xmm1,%xmm0"),
	ROW(s71_paddusw, "paddusw %xmm1,%xmm0"),
	ROW(s72_psubb, "psubb %xmm1,%xmm0"),
	ROW(s73_psubw, "psubw %xmm1,%xmm0"),
	ROW(s74_psubd, "psubd %xmm1,%xmm0"),
	ROW(s75_psubq, "psubq %xmm1,%xmm0"),
	ROW(s76_psubsw, "psubsw %xmm1,%xmm0"),
	ROW(s77_psubusb, "psubusb %xmm1,%xmm0"),
	ROW(s78_pcmpeqb, "pcmpeqb %xmm1,%xmm0"),
	ROW(s79_pcmpeqw, "pcmpeqw %xmm1,%xmm0"),
	ROW(s80_pcmpeqd, "pcmpeqd %xmm1,%xmm0"),
	ROW(s81_pcmpeqq, "pcmpeqq %xmm1,%xmm0"),
	ROW(s82_pcmpgtb, "pcmpgtb %xmm1,%xmm0"),
	ROW(s83_pcmpgtw, "pcmpgtw %xmm1,%xmm0"),
	ROW(s84_pcmpgtd, "pcmpgtd %xmm1,%xmm0"),
	ROW(s85_pcmpgtq, "pcmpgtq %xmm1,%xmm0"),
	ROW(s86_pmovmskb, "pmovmskb %xmm1,%eax"),
	ROW(s87_movmskps, "movmskps %xmm1,%ebx"),
	ROW(s88_movmskpd, "movmskpd %xmm1,%ecx"),
	ROW(s89_pminub, "pminub %xmm1,%xmm0"),
	ROW(s90_pmaxub, "pmaxub %xmm1,%xmm0"),
	ROW(s91_pminsw, "pminsw %xmm1,%xmm0"),
	ROW(s92_pmaxsw, "pmaxsw %xmm1,%xmm0"),
	ROW(s93_pminsd, "pminsd %xmm1,%xmm0"),
	ROW(s94_pmaxud, "pmaxud %xmm1,%xmm0"),
	ROW(s95_pavgb, "pavgb %xmm1,%xmm0"),
	ROW(s96_psadbw, "psadbw %xmm1,%xmm0"),
	ROW(s97_pmullw, "pmullw %xmm1,%xmm0"),
	ROW(s98_pmulhw, "pmulhw %xmm1,%xmm0"),
	ROW(s99_pmulhuw, "pmulhuw %xmm1,%xmm0"),
	ROW(s100_pmuludq, "pmuludq %xmm1,%xmm0"),
	ROW(s101_pmaddwd, "pmaddwd %xmm1,%xmm0"),
	ROW(s102_pmulld, "pmulld %xmm1,%xmm0"),
	ROW(s103_pmuldq, "pmuldq %xmm1,%xmm0"),
	ROW(s104_psllw, "psllw $3,%xmm0"),
	ROW(s105_pslld, "pslld $17,%xmm0"),
	ROW(s106_psllq, "psllq $33,%xmm0"),
	ROW(s107_psrlw, "psrlw $15,%xmm0"),
	ROW(s108_psrld, "psrld $1,%xmm0"),
	ROW(s109_psrlq, "psrlq $63,%xmm0"),
	ROW(s110_psraw, "psraw $9,%xmm0"),
	ROW(s111_psrad, "psrad $31,%xmm0"),
	ROW(s112_psllw, "psllw %xmm1,%xmm0"),
	ROW(s113_psrld, "psrld %xmm1,%xmm0"),
	ROW(s114_psraw, "psraw %xmm1,%xmm0"),
	ROW(s115_psllq, "psllq %xmm1,%xmm0"),
	ROW(s116_pslldq, "pslldq $3,%xmm0"),
	ROW(s117_psrldq, "psrldq $11,%xmm0"),
	ROW(s118_packsswb, "packsswb %xmm1,%xmm0"),
	ROW(s119_packssdw, "packssdw %xmm1,%xmm0"),
	ROW(s120_packuswb, "packuswb %xmm1,%xmm0"),
	ROW(s121_packusdw, "packusdw %xmm1,%xmm0"),
	ROW(s122_pextrw, "pextrw $3,%xmm1,%eax"),
	ROW(s123_pinsrw, "pinsrw $5,%ebx,%xmm0"),
	ROW(s124_pextrb, "pextrb $9,%xmm1,%eax"),
	ROW(s125_pextrd, "pextrd $2,%xmm1,%ebx"),
	ROW(s126_pextrq, "pextrq $1,%xmm1,%rcx"),
	ROW(s127_pinsrb, "pinsrb $3,%eax,%xmm0"),
	ROW(s128_pinsrd, "pinsrd $1,%ebx,%xmm0"),
	ROW(s129_pinsrq, "pinsrq $1,%rcx,%xmm0"),
	ROW(s130_extractps, "extractps $2,%xmm1,%eax"),
	ROW(s131_insertps, "insertps $0x5a,%xmm1,%xmm0"),
	ROW(s132_addps, "addps %xmm1,%xmm0"),
	ROW(s133_addss, "addss %xmm1,%xmm0"),
	ROW(s134_addpd, "addpd %xmm1,%xmm0"),
	ROW(s135_addsd, "addsd %xmm1,%xmm0"),
	ROW(s136_subps, "subps %xmm1,%xmm0"),
	ROW(s137_subsd, "subsd %xmm1,%xmm0"),
	ROW(s138_mulps, "mulps %xmm1,%xmm0"),
	ROW(s139_mulsd, "mulsd %xmm1,%xmm0"),
	ROW(s140_divps, "divps %xmm1,%xmm0"),
	ROW(s141_divss, "divss %xmm1,%xmm0"),
	ROW(s142_divpd, "divpd %xmm1,%xmm0"),
	ROW(s143_divsd, "divsd (%rsi),%xmm0"),
	ROW(s144_sqrtps, "sqrtps %xmm1,%xmm0"),
	ROW(s145_sqrtss, "sqrtss %xmm1,%xmm0"),
	ROW(s146_sqrtpd, "sqrtpd %xmm1,%xmm0"),
	ROW(s147_sqrtsd, "sqrtsd %xmm1,%xmm0"),
	ROW(s148_minps, "minps %xmm1,%xmm0"),
	ROW(s149_maxps, "maxps %xmm1,%xmm0"),
	ROW(s150_minsd, "minsd %xmm1,%xmm0"),
	ROW(s151_maxss, "maxss %xmm1,%xmm0"),
	ROW(s152_rcpps, "rcpps %xmm1,%xmm0"),
	ROW(s153_rsqrtss, "rsqrtss %xmm1,%xmm0"),
	ROW(s154_cmpps, "cmpps $1,%xmm1,%xmm0"),
	ROW(s155_cmpss, "cmpss $3,%xmm1,%xmm0"),
	ROW(s156_cmppd, "cmppd $4,%xmm1,%xmm0"),
	ROW(s157_cmpsd, "cmpsd $7,%xmm1,%xmm0"),
	ROW(s158_cmpsd, "cmpsd $0,(%rsi),%xmm0"),
	ROW(s159_comiss, "comiss %xmm1,%xmm0"),
	ROW(s160_ucomiss, "ucomiss %xmm1,%xmm0"),
	ROW(s161_comisd, "comisd %xmm1,%xmm0"),
	ROW(s162_ucomisd, "ucomisd (%rsi),%xmm0"),
	ROW(s163_cvtsi2ss, "cvtsi2ss %eax,%xmm0"),
	ROW(s164_cvtsi2sd, "cvtsi2sd %rbx,%xmm0"),
	ROW(s165_cvtsi2sdl, "cvtsi2sdl (%rsi),%xmm0"),
	ROW(s166_cvtss2si, "cvtss2si %xmm1,%eax"),
	ROW(s167_cvttss2si, "cvttss2si %xmm1,%rax"),
	ROW(s168_cvtsd2si, "cvtsd2si %xmm1,%rbx"),
	ROW(s169_cvttsd2si, "cvttsd2si %xmm1,%ecx"),
	ROW(s170_cvtss2sd, "cvtss2sd %xmm1,%xmm0"),
	ROW(s171_cvtsd2ss, "cvtsd2ss %xmm1,%xmm0"),
	ROW(s172_cvtps2pd, "cvtps2pd %xmm1,%xmm0"),
	ROW(s173_cvtpd2ps, "cvtpd2ps %xmm1,%xmm0"),
	ROW(s174_cvtdq2ps, "cvtdq2ps %xmm1,%xmm0"),
	ROW(s175_cvtps2dq, "cvtps2dq %xmm1,%xmm0"),
	ROW(s176_cvttps2dq, "cvttps2dq %xmm1,%xmm0"),
	ROW(s177_cvtdq2pd, "cvtdq2pd %xmm1,%xmm0"),
	ROW(s178_cvtpd2dq, "cvtpd2dq %xmm1,%xmm0"),
	ROW(s179_cvttpd2dq, "cvttpd2dq %xmm1,%xmm0"),
	ROW(s180_cvtpi2ps, "cvtpi2ps %mm1,%xmm0"),
	ROW(s181_cvtps2pi, "cvtps2pi %xmm1,%mm0"),
	ROW(s182_cvtpi2pd, "cvtpi2pd (%rsi),%xmm0"),
	ROW(s183_cvttpd2pi, "cvttpd2pi %xmm1,%mm2"),
	ROW(s184_addsubps, "addsubps %xmm1,%xmm0"),
	ROW(s185_haddpd, "haddpd %xmm1,%xmm0"),
	ROW(s186_hsubps, "hsubps %xmm1,%xmm0"),
	ROW(s187_movddup, "movddup %xmm1,%xmm0"),
	ROW(s188_movshdup, "movshdup %xmm1,%xmm0"),
	ROW(s189_movsldup, "movsldup (%rsi),%xmm0"),
	ROW(s190_lddqu, "lddqu 1(%rsi),%xmm0"),
	ROW(s191_pabsb, "pabsb %xmm1,%xmm0"),
	ROW(s192_pabsd, "pabsd %xmm1,%xmm0"),
	ROW(s193_phaddw, "phaddw %xmm1,%xmm0"),
	ROW(s194_phsubd, "phsubd %xmm1,%xmm0"),
	ROW(s195_phaddsw, "phaddsw %xmm1,%xmm0"),
	ROW(s196_pmaddubsw, "pmaddubsw %xmm1,%xmm0"),
	ROW(s197_pmulhrsw, "pmulhrsw %xmm1,%xmm0"),
	ROW(s198_psignb, "psignb %xmm1,%xmm0"),
	ROW(s199_psignd, "psignd %xmm1,%xmm0"),
	ROW(s200_blendps, "blendps $5,%xmm1,%xmm0"),
	ROW(s201_blendpd, "blendpd $2,%xmm1,%xmm0"),
	ROW(s202_pblendw, "pblendw $0x96,%xmm1,%xmm3"),
	ROW(s203_blendvps, "blendvps %xmm0,%xmm1,%xmm2"),
	ROW(s204_pblendvb, "pblendvb %xmm0,%xmm1,%xmm3"),
	ROW(s205_dpps, "dpps $0xf1,%xmm1,%xmm2"),
	ROW(s206_dppd, "dppd $0x31,%xmm1,%xmm2"),
	ROW(s207_mpsadbw, "mpsadbw $5,%xmm1,%xmm2"),
	ROW(s208_phminposuw, "phminposuw %xmm1,%xmm0"),
	ROW(s209_pmovsxbw, "pmovsxbw %xmm1,%xmm0"),
	ROW(s210_pmovzxbd, "pmovzxbd %xmm1,%xmm0"),
	ROW(s211_pmovsxwq, "pmovsxwq (%rsi),%xmm0"),
	ROW(s212_pmovzxdq, "pmovzxdq %xmm1,%xmm0"),
	ROW(s213_ptest, "ptest %xmm1,%xmm0"),
	ROW(s214_roundps, "roundps $0,%xmm1,%xmm0"),
	ROW(s215_roundss, "roundss $9,%xmm1,%xmm0"),
	ROW(s216_roundpd, "roundpd $4,%xmm1,%xmm0"),
	ROW(s217_roundsd, "roundsd $3,%xmm1,%xmm0"),
	ROW(s218_movntdqa, "movntdqa (%rsi),%xmm0"),
	ROW(s219_pcmpestri, "pcmpestri $0x0c,%xmm1,%xmm0"),
	ROW(s220_pcmpestrm, "pcmpestrm $0x40,%xmm1,%xmm0"),
	ROW(s221_pcmpistri, "pcmpistri $0x08,%xmm1,%xmm2"),
	ROW(s222_pcmpistrm, "pcmpistrm $0x44,(%rsi),%xmm2"),
	ROW(s223_crc32b, "crc32b %al,%ebx"),
	ROW(s224_crc32w, "crc32w %cx,%ebx"),
	ROW(s225_crc32l, "crc32l (%rsi),%ebx"),
	ROW(s226_crc32q, "crc32q %rcx,%rbx"),
	ROW(s227_crc32b, "crc32b %ah,%ecx"),
	ROW(s228_paddb, "paddb %mm1,%mm0"),
	ROW(s229_psubw, "psubw (%rsi),%mm0"),
	ROW(s230_pmullw, "pmullw %mm1,%mm0"),
	ROW(s231_psllq, "psllq $7,%mm1"),
	ROW(s232_psrad, "psrad %mm1,%mm0"),
	ROW(s233_pshufw, "pshufw $0x1b,%mm1,%mm0"),
	ROW(s234_movq, "movq %mm1,%mm0"),
	ROW(s235_movq, "movq (%rsi),%mm2"),
	ROW(s236_movq, "movq %mm3,(%rsi)"),
	ROW(s237_movd, "movd %eax,%mm0"),
	ROW(s238_movd, "movd %mm1,%ebx"),
	ROW(s239_movq, "movq %rax,%mm4"),
	ROW(s240_pmovmskb, "pmovmskb %mm1,%eax"),
	ROW(s241_pshufb, "pshufb %mm1,%mm0"),
	ROW(s242_paddq, "paddq %mm1,%mm0"),
	ROW(s243_pextrw, "pextrw $2,%mm1,%eax"),
	ROW(s244_pinsrw, "pinsrw $1,%ebx,%mm0"),
	ROW(s245_movq2dq, "movq2dq %mm1,%xmm0"),
	ROW(s246_movdq2q, "movdq2q %xmm1,%mm0"),
	ROW(s247_packsswb, "packsswb %mm1,%mm0"),
	ROW(s248_emms, "emms"),
	ROW(s249_pmaddwd, "pmaddwd %mm1,%mm0"),
	ROW(s250_movntq, "movntq %mm1,8(%rsi)"),
	ROW(s251_maskmovdqu, "maskmovdqu %xmm1,%xmm0"),
};

static const uint32_t fvals[] = {
	0x00000000, 0x80000000, 0x3f800000, 0xbfc00000, 0x00000001,
	0x807fffff, 0x00800000, 0x7f7fffff, 0x7f800000, 0xff800000,
	0x7fc00000, 0x7f800001, 0xffc00001, 0x4f000000, 0xcf000000,
	0x3eaaaaab, 0x5f000000, 0x80000001, 0x12345678, 0xfedcba98,
};

static const uint64_t dvals[] = {
	0x0000000000000000ull, 0x8000000000000000ull, 0x3ff0000000000000ull,
	0xc004000000000000ull, 0x0000000000000001ull, 0x800fffffffffffffull,
	0x0010000000000000ull, 0x7fefffffffffffffull, 0x7ff0000000000000ull,
	0xfff0000000000000ull, 0x7ff8000000000000ull, 0x7ff0000000000001ull,
	0x41e0000000000000ull, 0xc3e0000000000000ull, 0x3fd5555555555555ull,
	0x43e0000000000000ull, 0x0123456789abcdefull, 0xffffffffffffffffull,
	0x7fffffff80000000ull, 0x8000000000000001ull,
};
#define NF (sizeof(fvals) / sizeof(fvals[0]))
#define ND (sizeof(dvals) / sizeof(dvals[0]))

static const uint32_t mxcsrs[] = {
	0x1f80, 0x3f80, 0x5f80, 0x7f80, 0x9f80, 0x1fc0, 0x1fbf, 0xffc0,
};

static void fill_xmm(uint8_t *x, unsigned int k)
{
	uint64_t lo = dvals[k % ND];
	uint64_t hi = fvals[(k * 7 + 1) % NF] |
		      (uint64_t)fvals[(k * 3 + 2) % NF] << 32;

	if (k & 1) {
		uint64_t t = lo;

		lo = hi;
		hi = t;
	}
	memcpy(x, &lo, 8);
	memcpy(x + 8, &hi, 8);
}

static void sse_state(struct fp_state *s, unsigned int i, unsigned int j,
		      unsigned int m)
{
	unsigned int r;

	memset(s, 0, sizeof(*s));
	s->fx.fcw = 0x37f;
	s->fx.mxcsr = mxcsrs[m];
	s->fx.mxcsr_mask = 0xffff;
	for (r = 0; r < 16; r++)
		fill_xmm(s->fx.xmm[r], i * 5 + j * (r + 1) + r);
	for (r = 0; r < 8; r++)
		memcpy(s->fx.st[r], &dvals[(i + j + r) % ND], 8);
	s->rax = dvals[(i + 3) % ND];
	s->rbx = dvals[(j + 5) % ND] ^ 0x5555;
	s->rcx = (i * 7 + j) % 40;
	s->rdx = (j * 3 + i) % 20;
	s->flags = 0x202 | ((i + j) & 1 ? 0x8d5 : 0);
	for (r = 0; r < FP_BUF_SIZE / 8; r++)
		memcpy(s->buf + 8 * r, &dvals[(i + j * 3 + r) % ND], 8);
}

static void test_row(void **state)
{
	const struct fp_row *row = *state;
	struct fp_state s;
	struct fp_ctx c;
	unsigned int i, j, m;

	fp_ctx_init(&c, row);
	for (i = 0; i < ND; i++)
		for (j = 0; j < ND; j += 3)
			for (m = 0; m < sizeof(mxcsrs) / sizeof(mxcsrs[0]);
			     m += 1 + (i + j) % 2) {
				sse_state(&s, i, j, m);
				fp_compare(&c, &s);
			}
	fp_ctx_free(&c);
}

/* ------------------------------------------------------------ faults */

GUEST(sse_addps, ".code64\n addps %xmm1, %xmm0\n hlt\n");
GUEST(sse_movaps_mis, ".code64\n movaps 8(%rsi), %xmm0\n hlt\n");
GUEST(sse_movups_mis, ".code64\n movups 8(%rsi), %xmm0\n hlt\n");
GUEST(sse_divps, ".code64\n divps %xmm1, %xmm0\n hlt\n");
GUEST(sse_emms, ".code64\n emms\n hlt\n");
GUEST(sse_fxsave_mis, ".code64\n fxsave 8(%rsi)\n hlt\n");
GUEST(sse_ldmxcsr, ".code64\n ldmxcsr (%rsi)\n hlt\n");
GUEST(sse_crc32, ".code64\n crc32l %eax, %ebx\n hlt\n");

struct fault_row {
	const char *name;
	const uint8_t *start, *end;
	uint64_t cr0_set, cr0_clr, cr4_clr;
	uint32_t mxcsr;
	uint32_t buf0;
	int vec;		/* -1: no fault */
};

#define FROW(n, code, set, clr, c4, mx, b, v) \
	{ n, sse_##code##_start, sse_##code##_end, set, clr, c4, mx, b, v }
static const struct fault_row frows[] = {
	FROW("addps ok", addps, 0, 0, 0, 0x1f80, 0, -1),
	FROW("addps TS: #NM", addps, 8, 0, 0, 0x1f80, 0, 7),
	FROW("addps EM: #UD", addps, 4, 0, 0, 0x1f80, 0, 6),
	FROW("addps EM+TS: #UD", addps, 12, 0, 0, 0x1f80, 0, 6),
	FROW("addps !OSFXSR: #UD", addps, 0, 0, X86_CR4_OSFXSR_T, 0x1f80, 0, 6),
	FROW("movaps misaligned: #GP", movaps_mis, 0, 0, 0, 0x1f80, 0, 13),
	FROW("movups misaligned ok", movups_mis, 0, 0, 0, 0x1f80, 0, -1),
	FROW("divps 1/0 masked", divps, 0, 0, 0, 0x1f80, 0, -1),
	FROW("divps 1/0 ZE unmasked: #XM", divps, 0, 0, 0, 0x1d80, 0, 19),
	FROW("divps 1/0 !OSXMMEXCPT: #UD", divps, 0, 0,
	     X86_CR4_OSXMMEXCPT_T, 0x1d80, 0, 6),
	FROW("divps PE unmasked only: #XM", divps, 0, 0, 0, 0x0f80, 0, 19),
	FROW("emms TS: #NM", emms, 8, 0, 0, 0x1f80, 0, 7),
	FROW("emms EM: #UD", emms, 4, 0, 0, 0x1f80, 0, 6),
	FROW("fxsave misaligned: #GP", fxsave_mis, 0, 0, 0, 0x1f80, 0, 13),
	FROW("fxsave TS: #NM", fxsave_mis, 8, 0, 0, 0x1f80, 0, 7),
	FROW("ldmxcsr reserved bit: #GP", ldmxcsr, 0, 0, 0, 0x1f80, 0x10000,
	     13),
	FROW("ldmxcsr ok", ldmxcsr, 0, 0, 0, 0x1f80, 0x7f80, -1),
	FROW("crc32 with TS and EM ok", crc32, 12, 0, 0, 0x1f80, 0, -1),
};

static void test_fault(void **state)
{
	const struct fault_row *r = *state;
	struct th *t = th_new();
	struct x86_cpu *cpu = &t->cpu;
	static const float one[4] = { 1, 2, 3, 4 }, zero[4] = { 0, 0, 0, 3 };
	uint8_t x0[16];

	th_long64(t);
	fp_exc_handlers(t);
	cpu->cr4 |= X86_CR4_OSFXSR_T | X86_CR4_OSXMMEXCPT_T;
	cpu->cr4 &= ~r->cr4_clr;
	cpu->cr0 = (cpu->cr0 | r->cr0_set | 0x22) & ~r->cr0_clr;
	x86_cpu_state_changed(cpu);
	th_load(t, TH_CODE, r->start, r->end);
	cpu->rip = TH_CODE;
	cpu->gpr[X86_RSP] = TH_STACK;
	cpu->gpr[X86_RSI] = FP_BUF_GPA;
	cpu->gpr[X86_R15] = 0xff;
	cpu->fx.mxcsr = r->mxcsr;
	memcpy(cpu->fx.xmm[0], one, 16);
	memcpy(cpu->fx.xmm[1], zero, 16);
	memcpy(x0, cpu->fx.xmm[0], 16);
	memcpy(t->ram + FP_BUF_GPA, &r->buf0, 4);
	assert_int_equal(th_run(t), X86_EXIT_HLT);
	if (r->vec < 0) {
		if (cpu->gpr[X86_R15] != 0xff)
			fail_msg("%s: fault %d", r->name,
				 (int)cpu->gpr[X86_R15]);
		return;
	}
	if (cpu->gpr[X86_R15] != (uint64_t)r->vec)
		fail_msg("%s: vector %d, want %d", r->name,
			 (int)cpu->gpr[X86_R15], r->vec);
	/* a faulting instruction leaves its destination alone */
	assert_memory_equal(cpu->fx.xmm[0], x0, 16);
	if (r->start == sse_divps_start && r->mxcsr == 0x1d80)
		assert_int_equal(cpu->fx.mxcsr & 0x3f, 0x4);	/* ZE only */
	th_free(t);
}

/* --------------------------------------------------- save-area layout */

GUEST(sse_fxsave64, ".code64\n fxsave64 (%rsi)\n hlt\n");
GUEST(sse_fxrstor64, ".code64\n fxrstor64 (%rsi)\n hlt\n");
GUEST(sse_xsave, ".code64\n xsave64 (%rsi)\n hlt\n");
GUEST(sse_xrstor, ".code64\n xrstor64 (%rsi)\n hlt\n");

/* FXSAVE64 of a state is the host's FXSAVE64 of it; FXRSTOR64 of that
 * image gives the state back; XSAVE writes the same legacy area. */
static void test_fxsave_layout(void **state)
{
	struct th *t = th_new();
	struct x86_cpu *cpu = &t->cpu;
	struct fp_state s;
	struct x86_fxsave host, back;
	uint64_t bv;
	uint8_t *img = t->ram + FP_BUF_GPA;

	(void)state;
	th_long64(t);
	cpu->cr4 |= X86_CR4_OSFXSR_T | (1ull << 18);	/* OSXSAVE */
	cpu->xcr0 = 3;
	x86_cpu_state_changed(cpu);
	sse_state(&s, 3, 7, 2);
	s.fx.ftw = 0x5a;
	s.fx.fcw = 0x37e;	/* IE unmasked: ES stays set */
	s.fx.fsw = 0xb8c1;	/* ES: AMD saves FOP/FIP/FDP only then */
	s.fx.fop = 0x123;
	s.fx.fip = 0x1122334455ull;
	s.fx.fdp = 0x66778899aaull;
	host = s.fx;
	memset(s.fx.st[0] + 10, 0, 6);
	__asm__ volatile("fxrstor64 %1\n fxsave64 %0\n fninit"
			 : "=m"(host) : "m"(s.fx));
	cpu->fx = s.fx;
	cpu->fx.mxcsr_mask = host.mxcsr_mask;
	th_load(t, TH_CODE, sse_fxsave64_start, sse_fxsave64_end);
	cpu->rip = TH_CODE;
	cpu->gpr[X86_RSI] = FP_BUF_GPA;
	memset(img, 0xcc, 1024);
	assert_int_equal(th_run(t), X86_EXIT_HLT);
	assert_memory_equal(img, &host, 160 + 256);
	assert_int_equal(img[500], 0xcc);	/* left to software */

	memset(&cpu->fx, 0, sizeof(cpu->fx));
	cpu->fx.mxcsr_mask = 0xffff;
	th_load(t, TH_CODE, sse_fxrstor64_start, sse_fxrstor64_end);
	x86_cpu_state_changed(cpu);	/* new code at the same place */
	cpu->rip = TH_CODE;
	cpu->halted = false;
	assert_int_equal(th_run(t), X86_EXIT_HLT);
	back = cpu->fx;
	assert_memory_equal(&back, &host, 24);
	assert_memory_equal(back.st, host.st, sizeof(back.st) + 256);
	assert_int_equal(back.mxcsr, host.mxcsr);

	/* XSAVE: legacy area as FXSAVE64, XSTATE_BV |= x87 | SSE */
	memset(img, 0, 1024);
	th_load(t, TH_CODE, sse_xsave_start, sse_xsave_end);
	x86_cpu_state_changed(cpu);	/* new code at the same place */
	cpu->rip = TH_CODE;
	cpu->halted = false;
	cpu->gpr[X86_RAX] = ~0ull;
	cpu->gpr[X86_RDX] = ~0ull;
	assert_int_equal(th_run(t), X86_EXIT_HLT);
	assert_memory_equal(img, &host, 24);
	assert_memory_equal(img + 32, host.st, sizeof(host.st) + 256);
	memcpy(&bv, img + 512, 8);
	assert_int_equal(bv, 3);

	/* XRSTOR with XSTATE_BV = x87 only: XMM registers initialised */
	bv = 1;
	memcpy(img + 512, &bv, 8);
	th_load(t, TH_CODE, sse_xrstor_start, sse_xrstor_end);
	x86_cpu_state_changed(cpu);	/* new code at the same place */
	cpu->rip = TH_CODE;
	cpu->halted = false;
	assert_int_equal(th_run(t), X86_EXIT_HLT);
	assert_memory_equal(cpu->fx.st, host.st, sizeof(host.st));
	assert_int_equal(cpu->fx.xmm[5][3], 0);
	th_free(t);
}

int main(void)
{
	struct CMUnitTest tests[sizeof(rows) / sizeof(rows[0]) +
				sizeof(frows) / sizeof(frows[0]) + 1];
	size_t i, n = 0;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		tests[n++] = (struct CMUnitTest){ rows[i].name, test_row, NULL,
						  NULL, (void *)&rows[i] };
	for (i = 0; i < sizeof(frows) / sizeof(frows[0]); i++)
		tests[n++] = (struct CMUnitTest){ frows[i].name, test_fault,
						  NULL, NULL,
						  (void *)&frows[i] };
	tests[n++] = (struct CMUnitTest){ "fxsave/fxrstor/xsave layout",
					  test_fxsave_layout, NULL, NULL,
					  NULL };
	return _cmocka_run_group_tests("sse", tests, n, NULL, NULL);
}
