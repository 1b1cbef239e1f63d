// SPDX-License-Identifier: MIT
/*
 * emulator.c - guest MAXPHYADDR smaller than the hardware's, the way KVM
 * handles it (KVM_CAP_SMALLER_MAXPHYADDR, KVM_CAP_EXIT_ON_EMULATION_FAILURE).
 *
 * Physical-address bits at or above the guest's MAXPHYADDR (CPUID
 * 0x80000008) are reserved in paging entries.  When they are below the
 * hardware's MAXPHYADDR the processor does not check them, so KVM (VMX
 * with EPT) catches the access as an EPT violation on an illegal GPA and
 * runs the instruction in its own instruction emulator, whose page walk
 * uses the guest's MAXPHYADDR and raises #PF with RSVD.  An instruction
 * that emulator does not know fails instead: KVM exits with
 * KVM_EXIT_INTERNAL_ERROR / KVM_INTERNAL_ERROR_EMULATION when
 * KVM_CAP_EXIT_ON_EMULATION_FAILURE is on; otherwise it queues #UD and,
 * at CPL 0, exits the same way as well.  The exit carries the bytes the
 * emulator fetched: 15 from RIP, or up to the end of RIP's page.
 *
 * x86_kvm_emulates() is the repertoire that decides it, by encoding
 * (docs/engine.md lists it): the one-byte map without the x87 escapes
 * (except FNSTCW/FNSTSW to memory and FNINIT), BOUND, ARPL, FWAIT and
 * the undefined BCD opcodes; the 0F map's integer, system and bit
 * instructions and a handful of SSE/MMX moves (each with the SIMD
 * prefixes it accepts); MOVBE in 0F 38; nothing else (no 0F 3A, no
 * VEX/EVEX/XOP, no 3DNow!).
 */
#include "cpu_priv.h"

#define BIT(map, op)	(((map)[(op) >> 5] >> ((op) & 31)) & 1)

/*
 * One-byte opcodes the emulator has no entry for (besides the x87
 * escapes, decided by ModRM below): DAA, AAA, AAS, BOUND, FWAIT.
 * ARPL (63) exists only as MOVSXD, in 64-bit mode.
 */
static const uint32_t x86_emu_1byte_missing[8] = {
	[1] = (1u << (0x27 - 32)) | (1u << (0x37 - 32)) | (1u << (0x3f - 32)),
	[3] = 1u << (0x62 - 96),
	[4] = 1u << (0x9b - 128),
};

/*
 * 0F-map opcodes the emulator knows (then narrowed by ModRM and SIMD
 * prefix in x86_emu_0f()): 00 01 05 06 08 09 0D 10 11 18 19 1C-1F 20-23
 * 28 29 2B 30-35 40-4F 6F 7F 80-A5 A8-B7 BA-BF C0 C1 C3 C7 C8-CF E7.
 */
static const uint32_t x86_emu_0f_known[8] = {
	[0] = 0x00000363u | (1u << 0x0d) | (3u << 0x10) | (3u << 0x18) |
	      (0xfu << 0x1c),
	[1] = 0xfu | (1u << (0x28 - 32)) | (1u << (0x29 - 32)) |
	      (1u << (0x2b - 32)) | (0x3fu << (0x30 - 32)),
	[2] = 0xffffu,
	[3] = (1u << (0x6f - 96)) | (1u << (0x7f - 96)),
	[4] = 0xffffffffu,
	[5] = 0x3fu | (0xffu << (0xa8 - 160)) | (0xffu << (0xb0 - 160)) |
	      (0xfcu << (0xb8 - 160)),
	[6] = 0x3u | (1u << (0xc3 - 192)) | (1u << (0xc7 - 192)) |
	      (0xffu << (0xc8 - 192)),
	[7] = 1u << (0xe7 - 224),
};

/* SIMD prefix columns: none, 66, F2, F3 */
#define PFX_NONE	1u
#define PFX_66		2u
#define PFX_F2		4u
#define PFX_F3		8u

/* KVM picks the column by 66 first, else the last F2/F3. */
static unsigned int x86_emu_simd_prefix(const ZydisDecodedInstruction *z,
					bool *both)
{
	bool op66 = false;
	uint8_t rep = 0;
	unsigned int i;

	for (i = 0; i < z->raw.prefix_count; i++) {
		uint8_t v = z->raw.prefixes[i].value;

		if (v == 0x66)
			op66 = true;
		else if (v == 0xf2 || v == 0xf3)
			rep = v;
	}
	*both = op66 && rep;
	if (op66)
		return PFX_66;
	return rep == 0xf2 ? PFX_F2 : rep == 0xf3 ? PFX_F3 : PFX_NONE;
}

static bool x86_emu_0f(const ZydisDecodedInstruction *z)
{
	unsigned int op = z->opcode, reg = z->raw.modrm.reg;
	unsigned int rm = z->raw.modrm.rm, pfx, cols = 0;
	bool mem = z->raw.modrm.mod != 3, both;

	if (!BIT(x86_emu_0f_known, op))
		return false;
	pfx = x86_emu_simd_prefix(z, &both);
	switch (op) {
	case 0x00:		/* SLDT STR LLDT LTR (not VERR/VERW) */
		return reg < 4;
	case 0x01:
		if (mem)	/* SGDT SIDT LGDT LIDT SMSW - LMSW INVLPG */
			return reg != 5;
		switch (reg) {
		case 0: return rm == 1;			/* VMCALL */
		case 1: return rm <= 1;			/* MONITOR MWAIT */
		case 2: return rm == 1;			/* XSETBV */
		case 3: return true;			/* SVM group */
		case 4: case 6: return true;		/* SMSW LMSW */
		case 7: return rm == 1;			/* RDTSCP */
		default: return false;
		}
	case 0x10: case 0x11: case 0x28: case 0x29:
		cols = PFX_NONE | PFX_66;	/* MOVUPS/PD, MOVAPS/PD */
		break;
	case 0x2b:
		if (!mem)
			return false;
		cols = PFX_NONE | PFX_66;	/* MOVNTPS/PD */
		break;
	case 0x6f: case 0x7f:
		cols = PFX_NONE | PFX_66 | PFX_F3;	/* MOVQ mm, MOVDQA/U */
		break;
	case 0xe7:
		cols = PFX_66;			/* MOVNTDQ */
		break;
	case 0xae:			/* FXSAVE FXRSTOR CLFLUSH(OPT) */
		if (!mem)
			return false;
		if (reg == 7) {
			cols = PFX_NONE | PFX_66;
			break;
		}
		return reg <= 1;
	case 0xba:			/* BT BTS BTR BTC imm8 */
		return reg >= 4;
	case 0xc3:			/* MOVNTI */
		return mem;
	case 0xc7:
		if (mem)		/* CMPXCHG8B/16B */
			return reg == 1;
		if (reg != 7)
			return false;
		cols = PFX_F3;		/* RDPID */
		break;
	default:
		return true;
	}
	return !both && (cols & pfx);
}

bool x86_kvm_emulates(const ZydisDecodedInstruction *z, bool long64)
{
	unsigned int op = z->opcode, reg = z->raw.modrm.reg;
	bool mem = z->raw.modrm.mod != 3, both;

	if (z->encoding != ZYDIS_INSTRUCTION_ENCODING_LEGACY)
		return false;		/* VEX, EVEX, XOP, MVEX, 3DNow! */
	switch (z->opcode_map) {
	case ZYDIS_OPCODE_MAP_DEFAULT:
		break;
	case ZYDIS_OPCODE_MAP_0F:
		return x86_emu_0f(z);
	case ZYDIS_OPCODE_MAP_0F38:	/* MOVBE, no SIMD prefix */
		return (op == 0xf0 || op == 0xf1) && mem &&
		       x86_emu_simd_prefix(z, &both) == PFX_NONE;
	default:
		return false;
	}
	if (BIT(x86_emu_1byte_missing, op))
		return false;
	if (op == 0x63)
		return long64;
	switch (op) {
	case 0xd9:			/* FNSTCW m16 */
	case 0xdd:			/* FNSTSW m16 */
		return mem && reg == 7;
	case 0xdb:			/* FNINIT */
		return z->raw.modrm.mod == 3 && reg == 4 &&
		       z->raw.modrm.rm == 3;
	case 0xd8: case 0xda: case 0xdc: case 0xde: case 0xdf:
		return false;
	default:
		return true;
	}
}

/*
 * Up to max bytes of code at CS:off, not beyond the end of its page,
 * fetched without raising anything: 0 when the page is not mapped.
 */
static unsigned int x86_emu_fetch_at(struct x86_cpu *cpu, uint64_t off,
				     uint8_t *buf, unsigned int max)
{
	uint64_t la = x86_wrap_la(cpu, cpu->seg[X86_CS].base + off);
	enum x86_pv pv = cpu->priv->cpl == 3 ? X86_PV_USER : X86_PV_SUP;
	unsigned int n = (unsigned int)(X86_PAGE_SIZE - (la & 0xfff));
	struct x86_walk w;
	uint8_t *page;

	if (n > max)
		n = max;
	if (x86_walk(cpu, la, X86_ACC_X, pv, false, false, &w))
		return 0;
	page = x86_gpa_page(cpu, w.gpa & X86_PAGE_MASK, false);
	if (!page)
		return 0;
	memcpy(buf, page + (w.gpa & 0xfff), n);
	return n;
}

void x86_smaller_maxphyaddr_fault(struct x86_cpu *cpu, uint64_t la,
				  uint32_t pfec)
{
	struct x86_cpu_priv *p = cpu->priv;
	ZydisDecodedInstruction z;
	uint8_t buf[15];
	unsigned int n;

	if (p->delivering >= 0)
		return;		/* an event's frame: #PF as hardware gives */
	n = x86_emu_fetch_at(cpu, cpu->rip, buf, 15);
	if (n && n < 15 &&
	    !ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&p->dec[p->dmode],
							NULL, buf, n, &z)))
		/* the instruction goes on in the next page: fetch that too */
		n += x86_emu_fetch_at(cpu, cpu->rip + n, buf + n, 15 - n);
	if (!n || !ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&p->dec[p->dmode],
							      NULL, buf, n, &z)))
		return;
	if (x86_kvm_emulates(&z, p->mode == X86_MODE_LONG64))
		return;
	x86_mmio_retire(cpu);
	cpu->exit.internal.suberror = 1;	/* KVM_INTERNAL_ERROR_EMULATION */
	cpu->exit.internal.insn_len = (uint8_t)n;
	memcpy(cpu->exit.internal.insn, buf, n);
	if (!cpu->exit_on_emulation_failure) {
		if (p->cpl != 0)
			x86_ud(cpu);
		/* #UD queued, and at CPL 0 the exit as well */
		cpu->ev.exc_pending = true;
		cpu->ev.exc_nr = X86_UD;
		cpu->ev.exc_has_error = false;
		cpu->ev.exc_error = 0;
	}
	x86_exit(cpu, X86_EXIT_INTERNAL);
}
