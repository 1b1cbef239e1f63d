// SPDX-License-Identifier: MIT
/*
 * cpuid.c - the CPUID bits the engine implements, for
 * KVM_GET_SUPPORTED_CPUID (Intel SDM Vol. 2, CPUID).  Every bit here
 * names something the engine executes; nothing else is advertised.
 */
#include "cpu_priv.h"

#define B(n)	(1u << (n))

/* leaf 1 EDX: FPU DE PSE TSC MSR PAE CX8 SEP PGE CMOV PAT PSE36 CLFSH
 * MMX FXSR SSE SSE2 */
#define X86_L1_EDX	(B(0) | B(2) | B(3) | B(4) | B(5) | B(6) | B(8) | \
			 B(11) | B(13) | B(15) | B(16) | B(17) | B(19) | \
			 B(23) | B(24) | B(25) | B(26))
/* leaf 1 ECX: SSE3 SSSE3 CX16 SSE4.1 SSE4.2 MOVBE POPCNT XSAVE RDRAND */
#define X86_L1_ECX	(B(0) | B(9) | B(13) | B(19) | B(20) | B(22) | \
			 B(23) | B(26) | B(30))
/* leaf 0xd: XCR0 x87|SSE, 576-byte area (legacy + header); XSAVEOPT */
#define X86_XCR0_SUPPORTED	3u
#define X86_XSAVE_AREA		576u
/* leaf 7 EBX: FSGSBASE BMI1 SMEP BMI2 ERMS INVPCID RDSEED ADX SMAP
 * CLFLUSHOPT CLWB */
#define X86_L7_EBX	(B(0) | B(3) | B(7) | B(8) | B(9) | B(10) | B(18) | \
			 B(19) | B(20) | B(23) | B(24))
/* leaf 7 ECX: RDPID */
#define X86_L7_ECX	B(22)
/* 0x80000001 ECX: LAHF/SAHF, LZCNT, PREFETCHW */
#define X86_E1_ECX	(B(0) | B(5) | B(8))
/* 0x80000001 EDX: SYSCALL NX 1GB-pages RDTSCP LM */
#define X86_E1_EDX	(B(11) | B(20) | B(26) | B(27) | B(29))

bool x86_cpu_implemented_cpuid(uint32_t leaf, uint32_t subleaf,
			       uint32_t out[4])
{
	memset(out, 0, 4 * sizeof(uint32_t));
	switch (leaf) {
	case 0:
		out[0] = 0xd;
		memcpy(&out[1], "Genu", 4);
		memcpy(&out[3], "ineI", 4);
		memcpy(&out[2], "ntel", 4);
		return true;
	case 1:
		out[0] = 0x000306a9;	/* family 6: what guests expect */
		out[1] = 8 << 8;	/* CLFLUSH line: 8 * 8 = 64 bytes */
		out[2] = X86_L1_ECX;
		out[3] = X86_L1_EDX;
		return true;
	case 7:
		if (subleaf)
			return subleaf == 0 ? true : false;
		out[1] = X86_L7_EBX;
		out[2] = X86_L7_ECX;
		return true;
	case 0xd:
		if (subleaf == 0) {
			out[0] = X86_XCR0_SUPPORTED;
			out[1] = out[2] = X86_XSAVE_AREA;
			return true;
		}
		if (subleaf == 1) {
			out[0] = B(0);
			return true;
		}
		return false;
	case 0x80000000:
		out[0] = 0x80000008;
		return true;
	case 0x80000001:
		out[2] = X86_E1_ECX;
		out[3] = X86_E1_EDX;
		return true;
	case 0x80000008:
		out[0] = (48 << 8) | X86_HW_MAXPHYADDR;
		return true;
	default:
		return false;
	}
}
