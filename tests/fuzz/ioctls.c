// SPDX-License-Identifier: MIT
/*
 * ioctls.c - the ioctls the harness issues: a table of every system, VM,
 * vCPU and device ioctl of <linux/kvm.h> that x86 KVM has, the argument
 * pointers (good, unaligned, NULL, 8, PROT_NONE, read-only, straddling a
 * guard page, kernel, non-canonical), and the fix-ups that keep fuzzed
 * structs from carrying host pointers or fds the harness does not own.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "fuzz.h"
#include "kvm_compat.h"
#include "skvm.h"

/* Linux 6.8+ numbers, for headers that lack them. */
#ifndef KVM_CREATE_GUEST_MEMFD
#define KVM_CREATE_GUEST_MEMFD _IOC(_IOC_READ | _IOC_WRITE, KVMIO, 0xd4, 64)
#endif
#ifndef KVM_SET_MEMORY_ATTRIBUTES
#define KVM_SET_MEMORY_ATTRIBUTES _IOC(_IOC_WRITE, KVMIO, 0xd2, 32)
#endif

/* What a memslot may cover; KVM's TASK_SIZE_MAX check. */
#define FZ_USER_LIMIT 0x00007ffffffff000ULL

struct fz_ioctl_desc {
	unsigned long req;
	enum fz_kind kind;	/* the fd it is meant for */
	bool value;		/* the argument is a value, not a pointer */
};

#define P(r, k) { r, FZ_##k, false }
#define V(r, k) { r, FZ_##k, true }

static const struct fz_ioctl_desc fz_ioctls[] = {
	/* system fd */
	V(KVM_GET_API_VERSION, SYS),
	V(KVM_CREATE_VM, SYS),
	V(KVM_CHECK_EXTENSION, SYS),
	V(KVM_GET_VCPU_MMAP_SIZE, SYS),
	P(KVM_GET_MSR_INDEX_LIST, SYS),
	P(KVM_GET_MSR_FEATURE_INDEX_LIST, SYS),
	P(KVM_GET_SUPPORTED_CPUID, SYS),
	P(KVM_GET_EMULATED_CPUID, SYS),
	P(KVM_GET_MSRS, SYS),
	P(KVM_X86_GET_MCE_CAP_SUPPORTED, SYS),
	P(KVM_GET_SUPPORTED_HV_CPUID, SYS),
	P(KVM_GET_DEVICE_ATTR, SYS),
	V(KVM_TRACE_ENABLE, SYS),
	/* VM fd */
	V(KVM_CREATE_VCPU, VM),
	V(KVM_CHECK_EXTENSION, VM),
	P(KVM_ENABLE_CAP, VM),
	P(KVM_SET_USER_MEMORY_REGION, VM),
	P(KVM_SET_USER_MEMORY_REGION2, VM),
	P(KVM_GET_DIRTY_LOG, VM),
	P(KVM_CLEAR_DIRTY_LOG, VM),
	V(KVM_RESET_DIRTY_RINGS, VM),
	V(KVM_SET_NR_MMU_PAGES, VM),
	V(KVM_GET_NR_MMU_PAGES, VM),
	V(KVM_SET_TSS_ADDR, VM),
	P(KVM_SET_IDENTITY_MAP_ADDR, VM),
	V(KVM_SET_BOOT_CPU_ID, VM),
	V(KVM_CREATE_IRQCHIP, VM),
	P(KVM_IRQ_LINE, VM),
	P(KVM_IRQ_LINE_STATUS, VM),
	P(KVM_GET_IRQCHIP, VM),
	P(KVM_SET_IRQCHIP, VM),
	V(KVM_CREATE_PIT, VM),
	P(KVM_CREATE_PIT2, VM),
	P(KVM_GET_PIT, VM),
	P(KVM_SET_PIT, VM),
	P(KVM_GET_PIT2, VM),
	P(KVM_SET_PIT2, VM),
	P(KVM_REINJECT_CONTROL, VM),
	P(KVM_SET_GSI_ROUTING, VM),
	P(KVM_SIGNAL_MSI, VM),
	P(KVM_IRQFD, VM),
	P(KVM_IOEVENTFD, VM),
	P(KVM_REGISTER_COALESCED_MMIO, VM),
	P(KVM_UNREGISTER_COALESCED_MMIO, VM),
	P(KVM_CREATE_DEVICE, VM),
	V(KVM_GET_STATS_FD, VM),
	P(KVM_SET_CLOCK, VM),
	P(KVM_GET_CLOCK, VM),
	V(KVM_SET_TSC_KHZ, VM),
	V(KVM_GET_TSC_KHZ, VM),
	P(KVM_SET_PMU_EVENT_FILTER, VM),
	P(KVM_X86_SET_MSR_FILTER, VM),
	P(KVM_XEN_HVM_CONFIG, VM),
	P(KVM_MEMORY_ENCRYPT_OP, VM),
	P(KVM_HAS_DEVICE_ATTR, VM),
	P(KVM_CREATE_GUEST_MEMFD, VM),
	P(KVM_SET_MEMORY_ATTRIBUTES, VM),
	/* vCPU fd */
	P(KVM_GET_REGS, VCPU),
	P(KVM_SET_REGS, VCPU),
	P(KVM_GET_SREGS, VCPU),
	P(KVM_SET_SREGS, VCPU),
	P(KVM_GET_SREGS2, VCPU),
	P(KVM_SET_SREGS2, VCPU),
	P(KVM_TRANSLATE, VCPU),
	P(KVM_INTERRUPT, VCPU),
	P(KVM_GET_MSRS, VCPU),
	P(KVM_SET_MSRS, VCPU),
	P(KVM_SET_CPUID, VCPU),
	P(KVM_SET_CPUID2, VCPU),
	P(KVM_GET_CPUID2, VCPU),
	P(KVM_GET_FPU, VCPU),
	P(KVM_SET_FPU, VCPU),
	P(KVM_GET_LAPIC, VCPU),
	P(KVM_SET_LAPIC, VCPU),
	P(KVM_GET_MP_STATE, VCPU),
	P(KVM_SET_MP_STATE, VCPU),
	V(KVM_NMI, VCPU),
	V(KVM_SMI, VCPU),
	P(KVM_SET_GUEST_DEBUG, VCPU),
	P(KVM_X86_SETUP_MCE, VCPU),
	P(KVM_X86_SET_MCE, VCPU),
	P(KVM_GET_VCPU_EVENTS, VCPU),
	P(KVM_SET_VCPU_EVENTS, VCPU),
	P(KVM_GET_DEBUGREGS, VCPU),
	P(KVM_SET_DEBUGREGS, VCPU),
	P(KVM_ENABLE_CAP, VCPU),
	P(KVM_GET_XSAVE, VCPU),
	P(KVM_SET_XSAVE, VCPU),
	P(KVM_GET_XSAVE2, VCPU),
	P(KVM_GET_XCRS, VCPU),
	P(KVM_SET_XCRS, VCPU),
	V(KVM_SET_TSC_KHZ, VCPU),
	V(KVM_GET_TSC_KHZ, VCPU),
	V(KVM_KVMCLOCK_CTRL, VCPU),
	P(KVM_TPR_ACCESS_REPORTING, VCPU),
	P(KVM_SET_VAPIC_ADDR, VCPU),
	P(KVM_GET_NESTED_STATE, VCPU),
	P(KVM_SET_NESTED_STATE, VCPU),
	P(KVM_GET_SUPPORTED_HV_CPUID, VCPU),
	P(KVM_GET_ONE_REG, VCPU),
	P(KVM_SET_ONE_REG, VCPU),
	P(KVM_GET_REG_LIST, VCPU),
	V(KVM_GET_STATS_FD, VCPU),
	P(KVM_HAS_DEVICE_ATTR, VCPU),
	P(KVM_GET_DEVICE_ATTR, VCPU),
	/* device fd */
	P(KVM_SET_DEVICE_ATTR, DEV),
	P(KVM_GET_DEVICE_ATTR, DEV),
	P(KVM_HAS_DEVICE_ATTR, DEV),
};

#define FZ_NR_IOCTLS (sizeof(fz_ioctls) / sizeof(fz_ioctls[0]))

/* --- Results the harness tracks ------------------------------------------ */

static bool fz_in_area(const void *p, size_t len, const uint8_t *area,
		       size_t size)
{
	const uint8_t *q = p;

	return q >= area && q <= area + size - len;
}

/* The fd KVM_CREATE_DEVICE wrote back, when the struct is readable. */
static int fz_created_device_fd(const void *arg)
{
	struct kvm_create_device cd;

	if (!fz_in_area(arg, sizeof(cd), fz_mem.arg, FZ_ARG_SIZE))
		return -1;
	memcpy(&cd, arg, sizeof(cd));
	return cd.flags & KVM_CREATE_DEVICE_TEST ? -1 : (int)cd.fd;
}

static bool fz_may_create(uint32_t nr)
{
	switch (nr) {
	case KVM_CREATE_VM:
		return fz.nr_vms < FZ_MAX_VMS;
	case KVM_CREATE_VCPU:
		return fz.nr_vcpus < FZ_MAX_VCPUS;
	case KVM_GET_STATS_FD:
	case KVM_CREATE_DEVICE:
	case KVM_CREATE_GUEST_MEMFD:
		return fz.nr_created < FZ_MAX_CREATED;
	default:
		return true;
	}
}

static void fz_track(uint32_t nr, const void *arg, long r)
{
	int fd = (int)r;
	enum fz_kind kind = FZ_OTHER;

	switch (nr) {
	case KVM_CREATE_VM:
		fz.nr_vms++;
		kind = FZ_VM;
		break;
	case KVM_CREATE_VCPU:
		fz.nr_vcpus++;
		kind = FZ_VCPU;
		break;
	case KVM_GET_STATS_FD:
		fz.nr_created++;
		kind = FZ_STATS;
		break;
	case KVM_CREATE_DEVICE:
		fz.nr_created++;
		fd = fz_created_device_fd(arg);
		kind = FZ_DEV;
		break;
	case KVM_CREATE_GUEST_MEMFD:
		fz.nr_created++;
		break;
	default:
		return;
	}
	/* only skvm's own fds: never close one the harness did not get */
	if (fd >= 0 && skvm_is_skvm_fd(fd))
		fz_add_fd(fd, kind);
}

long fz_ioctl(int fd, unsigned long req, void *arg)
{
	uint32_t nr = (uint32_t)req;
	long r;

	if (!fz_may_create(nr))
		return -1;
	if (nr == KVM_RUN)
		fz_watchdog(true);
	r = skvm_ioctl(fd, req, arg);
	if (nr == KVM_RUN)
		fz_watchdog(false);
	if (fz.verbose)
		fprintf(stderr, "fuzz: ioctl(%d, %#lx, %p) = %ld%s%s\n", fd, req,
			arg, r, r < 0 ? " " : "", r < 0 ? strerror(errno) : "");
	if (r >= 0)
		fz_track(nr, arg, r);
	return r;
}

/* --- Pointers ---------------------------------------------------------------- */

#define FZ_KERNEL_PTR 0xffffffff81000000ULL
#define FZ_NONCANONICAL_PTR 0x8000000000001000ULL

/* Copy len staged bytes to the read-only page (zero-filled past them). */
static void *fz_fill_ro_page(const uint8_t *src, size_t len)
{
	if (mprotect(fz_mem.ro_page, FZ_PAGE, PROT_READ | PROT_WRITE))
		return NULL;
	if (len > FZ_PAGE)
		len = FZ_PAGE;
	memset(fz_mem.ro_page, 0, FZ_PAGE);
	memcpy(fz_mem.ro_page, src, len);
	mprotect(fz_mem.ro_page, FZ_PAGE, PROT_READ);
	return fz_mem.ro_page;
}

/*
 * Where the argument goes: mostly the argument area; else a pointer the
 * core must refuse with EFAULT, or one at which the struct ends in a
 * guard page.  len staged bytes are copied to where they can be.
 */
static void *fz_place(uint8_t choice, size_t len)
{
	uint8_t *end = fz_mem.arg + FZ_ARG_SIZE;
	size_t half = len / 2 ? len / 2 : 1;

	switch (choice % 24) {
	default:
		memcpy(fz_mem.arg, fz_mem.stage, len);
		return fz_mem.arg;
	case 16:
		memcpy(fz_mem.arg + 3, fz_mem.stage, len);
		return fz_mem.arg + 3;
	case 17:
		return NULL;
	case 18:
		return (void *)8;
	case 19:
		return fz_mem.none;
	case 20:
		return fz_fill_ro_page(fz_mem.stage, len);
	case 21:
		memcpy(end - half, fz_mem.stage, half);
		return end - half;
	case 22:
		return (void *)FZ_KERNEL_PTR;
	case 23:
		return (void *)FZ_NONCANONICAL_PTR;
	}
}

/* A pointer inside a struct: into the aux area, or a bad one. */
static uint64_t fz_aux_ptr(struct fz_in *in)
{
	switch (fz_u8(in) % 12) {
	default:
		return (uintptr_t)fz_mem.aux;
	case 7:
		return (uintptr_t)fz_mem.aux + 5;
	case 8:
		return 0;
	case 9:
		return (uintptr_t)fz_mem.none;
	case 10:
		return (uintptr_t)fz_mem.ro_page;
	case 11:
		return (uintptr_t)fz_mem.aux + FZ_AUX_SIZE - 4;
	}
}

uint64_t fz_pick_hva(struct fz_in *in)
{
	uint8_t b = fz_u8(in);
	uint8_t *buf = fz_mem.guest[b % FZ_NR_GUEST_BUFS];

	/* read-only, PROT_NONE and never-mapped host memory behind a slot */
	if (fz.safe_slots && (b >> 4) >= 9 && (b >> 4) <= 12)
		return (uintptr_t)buf;
	switch (b >> 4) {
	default:
		return (uintptr_t)buf + (fz_u8(in) % 16) * FZ_PAGE;
	case 8:
		return (uintptr_t)buf + 1 + fz_u8(in);
	case 9:
		return (uintptr_t)fz_mem.ro_page;
	case 10:
		return (uintptr_t)fz_mem.none;
	case 11:
		return (uintptr_t)fz_mem.arena + FZ_ARENA_SIZE - FZ_PAGE;
	case 12:
		return 0;
	case 13:
		return FZ_USER_LIMIT;
	case 14:
		return FZ_KERNEL_PTR;
	case 15:
		return FZ_NONCANONICAL_PTR;
	}
}

/*
 * A slot KVM accepts lets the guest reach [hva, hva + size): keep that
 * inside the arena (or the never-mapped first 64 KiB); with safe_slots,
 * inside one guest buffer.  Sizes KVM refuses (unaligned, wrapping, past
 * user space, too many pages) are kept, so the checks still run.
 */
uint64_t fz_clamp_slot_size(uint64_t hva, uint64_t size)
{
	uint64_t arena = (uintptr_t)fz_mem.arena, lim;

	if (hva >= arena && hva < arena + FZ_ARENA_SIZE && fz.safe_slots)
		lim = (hva - arena) % FZ_GUEST_BUF_STRIDE < FZ_GUEST_BUF_SIZE ?
		      hva - (hva - arena) % FZ_GUEST_BUF_STRIDE +
		      FZ_GUEST_BUF_SIZE : hva;
	else if (hva >= arena && hva < arena + FZ_ARENA_SIZE)
		lim = arena + FZ_ARENA_SIZE;
	else if (hva < 0x10000)
		lim = 0x10000;
	else
		return size;
	if ((size & (FZ_PAGE - 1)) || (size >> 12) > 0x7fffffff ||
	    hva + size < hva || hva + size > FZ_USER_LIMIT || hva + size <= lim)
		return size;
	return lim > hva ? (lim - hva) & ~(FZ_PAGE - 1) : 0;
}

/* --- Fix-ups -------------------------------------------------------------------- */

static void fz_put32(uint8_t *s, size_t off, uint32_t v)
{
	memcpy(s + off, &v, sizeof(v));
}

static void fz_put64(uint8_t *s, size_t off, uint64_t v)
{
	memcpy(s + off, &v, sizeof(v));
}

static uint64_t fz_get64(const uint8_t *s, size_t off)
{
	uint64_t v;

	memcpy(&v, s + off, sizeof(v));
	return v;
}

static void fz_fixup_memslot(uint8_t *s, struct fz_in *in, bool v2)
{
	uint64_t hva = fz_pick_hva(in);

	fz_put64(s, 24, hva);
	fz_put64(s, 16, fz_clamp_slot_size(hva, fz_get64(s, 16)));
	if (v2)
		fz_put32(s, 40, (uint32_t)fz_pick_fd(in, FZ_OTHER));
}

/* Never let the program block the watchdog's signal during KVM_RUN. */
static void fz_fixup_sigmask(uint8_t *s)
{
	int bit = FZ_WATCHDOG_SIGNAL - 1;

	s[4 + bit / 8] &= (uint8_t)~(1u << (bit % 8));
}

static void fz_fixup_device_attr(uint8_t *s, struct fz_in *in)
{
	uint64_t p = fz_aux_ptr(in);
	int32_t fd = fz_pick_fd(in, FZ_NONE);

	fz_put64(s, 16, p);
	/* KVM_DEV_VFIO_FILE_ADD/DEL read an fd there */
	memcpy(fz_mem.aux, &fd, sizeof(fd));
}

/*
 * Replace what a fuzzed struct must not choose freely: host pointers
 * (they point into the aux area or are bad on purpose), fds (from the
 * table), the watchdog's bit in a signal mask.
 */
static void fz_fixup(uint32_t nr, uint8_t *s, struct fz_in *in)
{
	switch (nr) {
	case KVM_SET_USER_MEMORY_REGION:
		fz_fixup_memslot(s, in, false);
		break;
	case KVM_SET_USER_MEMORY_REGION2:
		fz_fixup_memslot(s, in, true);
		break;
	case KVM_GET_DIRTY_LOG:
		fz_put64(s, 8, fz_aux_ptr(in));
		break;
	case KVM_CLEAR_DIRTY_LOG:
		fz_put64(s, 16, fz_aux_ptr(in));
		break;
	case KVM_IRQFD:
		fz_put32(s, 0, (uint32_t)fz_pick_fd(in, FZ_EVENT));
		fz_put32(s, 12, (uint32_t)fz_pick_fd(in, FZ_EVENT));
		break;
	case KVM_IOEVENTFD:
		fz_put32(s, 20, (uint32_t)fz_pick_fd(in, FZ_EVENT));
		break;
	case KVM_SET_DEVICE_ATTR:
	case KVM_GET_DEVICE_ATTR:
	case KVM_HAS_DEVICE_ATTR:
		fz_fixup_device_attr(s, in);
		break;
	case KVM_GET_ONE_REG:
	case KVM_SET_ONE_REG:
	case KVM_MEMORY_ENCRYPT_OP:
		fz_put64(s, 8, fz_aux_ptr(in));
		break;
	case KVM_X86_SET_MSR_FILTER:
		for (int i = 0; i < KVM_MSR_FILTER_MAX_RANGES; i++)
			fz_put64(s, 8 + 24 * (size_t)i + 16, fz_aux_ptr(in));
		break;
	case KVM_SET_SIGNAL_MASK:
		fz_fixup_sigmask(s);
		break;
	default:
		break;
	}
}

/* --- Operations -------------------------------------------------------------------- */

/* Stage up to FZ_ARG_SIZE bytes of payload, fix them up, place them. */
static void *fz_stage(struct fz_in *in, uint32_t nr, uint8_t choice)
{
	size_t plen = fz_u16(in);
	size_t len = _IOC_SIZE(nr);

	if (len < 512)
		len = 512;
	if (plen > len)
		len = plen;
	memset(fz_mem.stage, 0, len);
	fz_bytes(in, fz_mem.stage, plen);
	fz_fixup(nr, fz_mem.stage, in);
	return fz_place(choice, len);
}

static unsigned long fz_value(struct fz_in *in)
{
	uint8_t m = fz_u8(in);

	if (m < 0x80)
		return m & 0x1f;
	if (m < 0xc0)
		return fz_u8(in);
	if (m < 0xe0)
		return fz_u16(in);
	if (m < 0xf0)
		return fz_u32(in);
	return fz_u64(in);
}

static void fz_issue(struct fz_in *in, const struct fz_ioctl_desc *d)
{
	int fd = fz_pick_fd(in, d->kind);

	if (d->value) {
		fz_ioctl(fd, d->req, (void *)fz_value(in));
		return;
	}
	fz_ioctl(fd, d->req, fz_stage(in, (uint32_t)d->req, fz_u8(in)));
}

/* Any ioctl of the table, on an fd of its kind (mostly). */
void fz_op_ioctl(struct fz_in *in)
{
	fz_issue(in, &fz_ioctls[fz_u8(in) % FZ_NR_IOCTLS]);
}

/* The struct-less ones: CHECK_EXTENSION, CREATE_VCPU ids, TSS address. */
void fz_op_ioctl_value(struct fz_in *in)
{
	uint8_t b = fz_u8(in);

	for (size_t i = 0; i < FZ_NR_IOCTLS; i++) {
		const struct fz_ioctl_desc *d =
			&fz_ioctls[(b + i) % FZ_NR_IOCTLS];

		if (d->value) {
			fz_issue(in, d);
			return;
		}
	}
}

/*
 * Numbers outside the table: random, random within KVMIO, a known ioctl
 * with another size or direction, a known one with bits above 31.  The
 * argument is always a pointer the harness owns (or a bad one).
 */
void fz_op_raw_ioctl(struct fz_in *in)
{
	int fd = fz_pick_fd(in, FZ_NONE);
	uint8_t m = fz_u8(in);
	const struct fz_ioctl_desc *d = &fz_ioctls[fz_u8(in) % FZ_NR_IOCTLS];
	unsigned long req, nr, dir = (m >> 2) & 3u;

	switch (m & 3) {
	case 0:
		req = fz_u32(in);
		break;
	case 1:
		nr = fz_u8(in);
		req = _IOC(dir, KVMIO, nr, fz_u16(in) & 0x3fffu);
		break;
	case 2:
		req = _IOC(dir, _IOC_TYPE(d->req), _IOC_NR(d->req),
			   fz_u16(in) & 0x3fffu);
		break;
	default:
		req = d->req | (unsigned long)fz_u32(in) << 32;
		break;
	}
	fz_ioctl(fd, req, fz_stage(in, (uint32_t)req, fz_u8(in)));
}

static const uint64_t fz_gpas[] = {
	0, 0x1000, 0xd0000, 0xf0000, 0x100000, 0xfec00000, 0xfee00000,
	0xffff0000, 0xfffff000, 0x100000000ULL, 0xffffffffff000ULL,
};

#define FZ_NR_GPAS (sizeof(fz_gpas) / sizeof(fz_gpas[0]))

static uint64_t fz_pick_gpa(struct fz_in *in)
{
	uint8_t b = fz_u8(in);

	if (b < 0xe0)
		return fz_gpas[b % FZ_NR_GPAS];
	if (b < 0xf0)
		return fz_u64(in) & ~(FZ_PAGE - 1);
	return fz_u64(in);
}

static uint64_t fz_pick_size(struct fz_in *in)
{
	switch (fz_u8(in) % 8) {
	case 0:
		return 0;
	case 1:
		return FZ_PAGE;
	case 2:
		return FZ_GUEST_BUF_SIZE;
	case 3:
	case 4:
		return (1 + fz_u8(in) % 16) * FZ_PAGE;
	case 5:
		return FZ_ARENA_SIZE;
	case 6:
		return fz_u64(in) & ~(FZ_PAGE - 1);
	default:
		return fz_u64(in);
	}
}

/* KVM_SET_USER_MEMORY_REGION(2) with each field chosen from likely values. */
void fz_op_memslot(struct fz_in *in)
{
	struct kvm_userspace_memory_region2 m = { 0 };
	int vm = fz_pick_fd(in, FZ_VM);
	uint8_t how = fz_u8(in), s = fz_u8(in), f = fz_u8(in);
	bool v2 = how & 1;

	m.slot = s == 0xff ? fz_u32(in) : (s & 0xf) | (s & 0x10 ? 1u << 16 : 0);
	m.flags = f & 0x80 ? fz_u32(in) : f & 7;
	m.guest_phys_addr = fz_pick_gpa(in);
	m.memory_size = fz_pick_size(in);
	m.userspace_addr = fz_pick_hva(in);
	m.memory_size = fz_clamp_slot_size(m.userspace_addr, m.memory_size);
	if (v2) {
		m.guest_memfd = (uint32_t)fz_pick_fd(in, FZ_OTHER);
		m.guest_memfd_offset = fz_u8(in) * FZ_PAGE;
	}
	if (fz.verbose)
		fprintf(stderr, "fuzz: memslot %#x flags %#x gpa %#llx size %#llx "
			"hva %#llx\n", m.slot, m.flags,
			(unsigned long long)m.guest_phys_addr,
			(unsigned long long)m.memory_size,
			(unsigned long long)m.userspace_addr);
	memset(fz_mem.stage, 0, sizeof(m));
	memcpy(fz_mem.stage, &m, sizeof(m));
	fz_ioctl(vm, v2 ? KVM_SET_USER_MEMORY_REGION2 : KVM_SET_USER_MEMORY_REGION,
		 fz_place(how >> 1, sizeof(m)));
}

/* KVM_SET_SIGNAL_MASK: a fuzzed set (never the watchdog's), or none. */
void fz_op_signal_mask(struct fz_in *in)
{
	int vcpu = fz_pick_fd(in, FZ_VCPU);
	uint8_t how = fz_u8(in);
	uint32_t len = how & 1 ? 8 : fz_u32(in);
	uint64_t mask = fz_u64(in);

	memset(fz_mem.stage, 0, 16);
	memcpy(fz_mem.stage, &len, sizeof(len));
	memcpy(fz_mem.stage + 4, &mask, sizeof(mask));
	fz_fixup_sigmask(fz_mem.stage);
	fz_ioctl(vcpu, KVM_SET_SIGNAL_MASK,
		 how & 2 ? NULL : fz_place(how >> 2, 16));
}
