// SPDX-License-Identifier: MIT
/*
 * paging.c - linear to guest-physical translation: 32-bit, PAE and
 * 4-level paging with permission checks, reserved-bit checks and the
 * accessed/dirty updates hardware makes (Intel SDM Vol. 3, chapter 4).
 */
#include "cpu_priv.h"

#define PTE_P		(1ull << 0)
#define PTE_W		(1ull << 1)
#define PTE_U		(1ull << 2)
#define PTE_A		(1ull << 5)
#define PTE_D		(1ull << 6)
#define PTE_PS		(1ull << 7)
#define PTE_G		(1ull << 8)
#define PTE_XD		(1ull << 63)
#define PTE_ADDR	0x000ffffffffff000ull

#define X86_WALK_INTERNAL	(1u << 31)
#define X86_WALK_FAULT		(1u << 30)	/* error code 0 is a fault too */

struct x86_pt_level {
	void *entry;		/* host address of the entry */
	uint64_t gpa;		/* guest-physical address of the entry */
	bool wide;		/* 8-byte entry */
};

struct x86_walk_state {
	struct x86_pt_level lv[5];
	int n;
	uint64_t user, rw, xd;	/* AND of U, AND of R/W, OR of XD */
};

static void *x86_pte_ptr(struct x86_cpu *cpu, uint64_t gpa)
{
	uint8_t *page = x86_gpa_page(cpu, gpa & X86_PAGE_MASK, false);

	return page ? page + (gpa & 0xfff) : NULL;
}

static uint64_t x86_rsvd_phys_at(struct x86_cpu *cpu, unsigned int maxphyaddr)
{
	uint64_t m = ~0ull << maxphyaddr & ((1ull << 52) - 1);

	if (!(cpu->efer & X86_EFER_NXE))
		m |= PTE_XD;
	return m;
}

static uint64_t x86_rsvd_phys(struct x86_cpu *cpu)
{
	return x86_rsvd_phys_at(cpu, cpu->priv->maxphyaddr);
}

/* Set A (and D on the leaf for writes) atomically in guest memory. */
static void x86_set_ad(struct x86_cpu *cpu, struct x86_walk_state *s,
		       bool dirty)
{
	int i;

	for (i = 0; i < s->n; i++) {
		struct x86_pt_level *l = &s->lv[i];
		uint64_t bits = PTE_A | (dirty && i == s->n - 1 ? PTE_D : 0);
		uint64_t cur = l->wide ? *(uint64_t *)l->entry :
			       *(uint32_t *)l->entry;

		if ((cur & bits) == bits)
			continue;
		/* ask for the page writable: it also logs it dirty */
		if (!x86_gpa_page(cpu, l->gpa & X86_PAGE_MASK, true))
			continue;
		if (l->wide)
			__atomic_fetch_or((uint64_t *)l->entry, bits,
					  __ATOMIC_SEQ_CST);
		else
			__atomic_fetch_or((uint32_t *)l->entry, (uint32_t)bits,
					  __ATOMIC_SEQ_CST);
	}
}

static uint32_t x86_check_perm(struct x86_cpu *cpu, struct x86_walk_state *s,
			       enum x86_acc acc, enum x86_pv pv, bool implicit)
{
	bool user_page = s->user & PTE_U;

	if (acc == X86_ACC_X && s->xd)
		return X86_PFEC_P;
	if (pv == X86_PV_USER && !implicit) {
		if (!user_page)
			return X86_PFEC_P;
		if (acc == X86_ACC_W && !(s->rw & PTE_W))
			return X86_PFEC_P;
		return 0;
	}
	if (acc == X86_ACC_W && !(s->rw & PTE_W) && (cpu->cr0 & X86_CR0_WP))
		return X86_PFEC_P;
	if (acc == X86_ACC_X && user_page && (cpu->cr4 & X86_CR4_SMEP))
		return X86_PFEC_P;
	if (acc != X86_ACC_X && user_page && (cpu->cr4 & X86_CR4_SMAP) &&
	    (implicit || pv != X86_PV_SUP_AC))
		return X86_PFEC_P;
	return 0;
}

static void x86_walk_note(struct x86_walk_state *s, void *e, uint64_t gpa,
			  bool wide, uint64_t v)
{
	s->lv[s->n].entry = e;
	s->lv[s->n].gpa = gpa;
	s->lv[s->n].wide = wide;
	s->n++;
	s->user &= v;
	s->rw &= v;
	if (wide)
		s->xd |= v & PTE_XD;
}

/* 32-bit paging, with 4 MiB pages under CR4.PSE (SDM Vol. 3, 4.3). */
static uint32_t x86_walk32(struct x86_cpu *cpu, uint64_t la,
			   struct x86_walk_state *s, struct x86_walk *w)
{
	uint64_t gpa = (cpu->cr3 & 0xfffff000) + ((la >> 22) & 0x3ff) * 4;
	uint32_t *e = x86_pte_ptr(cpu, gpa), v;

	if (!e)
		return X86_WALK_INTERNAL;
	v = *e;
	if (!(v & PTE_P))
		return 0x100;
	x86_walk_note(s, e, gpa, false, v);
	if ((v & PTE_PS) && (cpu->cr4 & X86_CR4_PSE)) {
		if (v & (1u << 21))
			return 0x100 | X86_PFEC_RSVD | X86_PFEC_P;
		/* PSE-36: PDE bits 20:13 are physical address bits 39:32 */
		w->gpa = (v & 0xffc00000ull) | ((uint64_t)(v & 0x1fe000) << 19) |
			 (la & 0x3fffff);
		w->global = v & PTE_G;
		return 0;
	}
	gpa = (v & 0xfffff000) + ((la >> 12) & 0x3ff) * 4;
	e = x86_pte_ptr(cpu, gpa);
	if (!e)
		return X86_WALK_INTERNAL;
	v = *e;
	if (!(v & PTE_P))
		return 0x100;
	x86_walk_note(s, e, gpa, false, v);
	w->gpa = (v & 0xfffff000) | (la & 0xfff);
	w->global = v & PTE_G;
	return 0;
}

/*
 * PAE and 4-level paging (SDM Vol. 3, 4.4 and 4.5).  level counts down:
 * 4 = PML4, 3 = PDPT, 2 = PD, 1 = PT.
 */
static uint32_t x86_walk64(struct x86_cpu *cpu, uint64_t la,
			   struct x86_walk_state *s, struct x86_walk *w)
{
	uint64_t rsvd = x86_rsvd_phys(cpu), table, v, gpa, *e;
	uint64_t rsvd_hw = x86_rsvd_phys_at(cpu, X86_HW_MAXPHYADDR);
	int level;

	if (cpu->efer & X86_EFER_LMA) {
		level = 4;
		table = cpu->cr3 & PTE_ADDR;
	} else {
		v = cpu->pdptr[(la >> 30) & 3];
		if (!(v & PTE_P))
			return 0x100;
		level = 2;
		table = v & PTE_ADDR;
	}
	for (;; level--) {
		gpa = table + ((la >> (12 + 9 * (level - 1))) & 0x1ff) * 8;
		e = x86_pte_ptr(cpu, gpa);
		if (!e)
			return X86_WALK_INTERNAL;
		v = *e;
		if (!(v & PTE_P))
			return 0x100;
		if (v & rsvd)
			return 0x100 | X86_PFEC_RSVD | X86_PFEC_P |
			       (v & rsvd_hw ? 0 : X86_WALK_EMUL);
		x86_walk_note(s, e, gpa, true, v);
		if (level == 1)
			break;
		if (v & PTE_PS) {
			uint64_t size = 1ull << (12 + 9 * (level - 1));

			if (level == 4)
				return 0x100 | X86_PFEC_RSVD | X86_PFEC_P;
			/* bits 12 (PAT) .. size-1 above it must be zero */
			if (v & (size - 1) & ~0x1fffull)
				return 0x100 | X86_PFEC_RSVD | X86_PFEC_P;
			w->gpa = (v & PTE_ADDR & ~(size - 1)) | (la & (size - 1));
			w->global = v & PTE_G;
			return 0;
		}
		table = v & PTE_ADDR;
	}
	w->gpa = (v & PTE_ADDR) | (la & 0xfff);
	w->global = v & PTE_G;
	return 0;
}

/*
 * Translate la.  Returns 0 with *w filled, else the #PF error code
 * (X86_WALK_INTERNAL when a paging structure is not in RAM).
 */
uint32_t x86_walk(struct x86_cpu *cpu, uint64_t la, enum x86_acc acc,
		  enum x86_pv pv, bool implicit, bool set_ad,
		  struct x86_walk *w)
{
	struct x86_walk_state s = { .user = ~0ull, .rw = ~0ull };
	uint32_t err, pfec = 0;

	if (!(cpu->cr0 & X86_CR0_PG)) {
		w->gpa = x86_wrap_la(cpu, la);
		w->global = false;
		return 0;
	}
	if (acc == X86_ACC_W)
		pfec |= X86_PFEC_W;
	if (pv == X86_PV_USER && !implicit)
		pfec |= X86_PFEC_U;
	if (acc == X86_ACC_X && (((cpu->efer & X86_EFER_NXE) &&
				  (cpu->cr4 & X86_CR4_PAE)) ||
				 (cpu->cr4 & X86_CR4_SMEP)))
		pfec |= X86_PFEC_I;
	if (cpu->cr4 & X86_CR4_PAE)
		err = x86_walk64(cpu, la, &s, w);
	else
		err = x86_walk32(cpu, la, &s, w);
	if (err & X86_WALK_INTERNAL)
		return err;
	if (err)
		return (err & (0xff | X86_WALK_EMUL)) | pfec | X86_WALK_FAULT;
	if (!(cpu->efer & X86_EFER_NXE))
		s.xd = 0;
	if (!(cpu->cr4 & X86_CR4_PGE))
		w->global = false;
	err = x86_check_perm(cpu, &s, acc, pv, implicit);
	if (err)
		return err | pfec | X86_WALK_FAULT;
	if (set_ad)
		x86_set_ad(cpu, &s, acc == X86_ACC_W);
	return 0;
}

/*
 * Outside a run (KVM_SET_SREGS, KVM_TRANSLATE), a host fault in a guest
 * page makes fn fail (-1) instead of crashing; inside one it ends the run.
 */
static int x86_guarded_call(struct x86_cpu *cpu,
			    int (*fn)(struct x86_cpu *, void *), void *arg)
{
	jmp_buf jb;
	volatile int r = -1;

	if (x86_guarded())
		return fn(cpu, arg);
	if (!setjmp(jb)) {
		x86_guard_enter(cpu, &jb, false);
		r = fn(cpu, arg);
	}
	x86_guard_leave();
	return r;
}

static int x86_load_pdptrs_unguarded(struct x86_cpu *cpu, void *arg)
{
	uint64_t cr3 = *(uint64_t *)arg;
	uint64_t rsvd = (x86_rsvd_phys(cpu) & ~PTE_XD) | PTE_XD | 0x1e6;
	uint64_t gpa = cr3 & 0xffffffe0, pdpte[4];
	uint8_t *page = x86_gpa_page(cpu, gpa & X86_PAGE_MASK, false);
	int i;

	if (!page)
		return -1;
	memcpy(pdpte, page + (gpa & 0xfff), sizeof(pdpte));
	for (i = 0; i < 4; i++)
		if ((pdpte[i] & PTE_P) && (pdpte[i] & rsvd))
			return -1;
	memcpy(cpu->pdptr, pdpte, sizeof(pdpte));
	return 0;
}

/* PAE: CR3 loads the four PDPTEs (SDM Vol. 3, 4.4.1); -1 means #GP. */
int x86_load_pdptrs(struct x86_cpu *cpu, uint64_t cr3)
{
	return x86_guarded_call(cpu, x86_load_pdptrs_unguarded, &cr3);
}

/* CR0/CR3/CR4/EFER or the memory map changed: nothing cached survives. */
void x86_paging_changed(struct x86_cpu *cpu)
{
	uint32_t out[4] = { 0 };

	if (cpu->ops && cpu->ops->cpuid) {
		cpu->ops->cpuid(cpu, 0x80000000, 0, out);
		if (out[0] >= 0x80000008) {
			cpu->ops->cpuid(cpu, 0x80000008, 0, out);
			out[0] &= 0xff;
		} else {
			out[0] = 0;
		}
	}
	cpu->priv->maxphyaddr = out[0] >= 32 && out[0] <= 52 ?
				(uint8_t)out[0] : X86_HW_MAXPHYADDR;
	x86_tlb_flush(cpu, false);
}

struct x86_translate_args {
	uint64_t la, *gpa;
	bool *writeable, *user;
};

static int x86_translate_unguarded(struct x86_cpu *cpu, void *arg)
{
	struct x86_translate_args *a = arg;
	uint64_t la = a->la, *gpa = a->gpa;
	bool *writeable = a->writeable, *user = a->user;
	struct x86_walk w;
	uint32_t err;

	err = x86_walk(cpu, la, X86_ACC_R, X86_PV_SUP_AC, false, false, &w);
	if (err)
		return -1;
	*gpa = w.gpa;
	if (writeable)
		*writeable = !x86_walk(cpu, la, X86_ACC_W, X86_PV_SUP_AC, false,
				       false, &w) ||
			     !(cpu->cr0 & X86_CR0_WP);
	if (user)
		*user = !x86_walk(cpu, la, X86_ACC_R, X86_PV_USER, false,
				  false, &w);
	return 0;
}

int x86_cpu_translate(struct x86_cpu *cpu, uint64_t la, uint64_t *gpa,
		      bool *writeable, bool *user)
{
	struct x86_translate_args a = { la, gpa, writeable, user };

	return x86_guarded_call(cpu, x86_translate_unguarded, &a);
}
