// SPDX-License-Identifier: MIT
/*
 * dirty_ring - KVM_CAP_DIRTY_LOG_RING and KVM_CAP_DIRTY_LOG_RING_ACQ_REL.
 *
 * The rules for enabling a ring (power of two, at least a page, at most
 * the size KVM_CHECK_EXTENSION reports, once, before the first vCPU), the
 * mapping at KVM_DIRTY_LOG_PAGE_OFFSET, and the protocol: after guest
 * writes (vm_touch_pages) the transcript lists the ring's entries (index,
 * flags, slot, offset), the client marks them KVM_DIRTY_GFN_F_RESET and
 * KVM_RESET_DIRTY_RINGS recycles them, re-arming their pages; a page is
 * pushed once until then.  Writing more pages than the ring's soft limit
 * (size - 64 entries) ends KVM_RUN with KVM_EXIT_DIRTY_RING_FULL.  The
 * bitmap ioctls fail while rings are on.
 *
 * On a host whose CPU logs dirty pages itself (Intel PML), KVM reserves
 * 512 more entries: it refuses a 4 KiB ring and its soft limit is lower.
 * The reference device has no PML, nor has skvm, so the figures here are
 * those of such a host (an AMD host's, for hardware KVM).
 *
 * Two quirks of the reference device's nested emulation are kept out of
 * the transcript.  It pushes an entry for every guest write to a logged
 * page, not only for the first one after a reset (hardware KVM
 * write-protects the page and sees the first write only), so no page is
 * written twice between resets here.  And its vCPU notices the soft limit
 * only at the next exit to the host (hardware KVM, and skvm, exit right
 * after the write that reaches it, before the instruction completes, and
 * log that page again when the write runs after the reset), so the guest
 * of the soft-limit section does an OUT after each write, and the
 * transcript records that the exit came with at least the soft limit in
 * use, not after which write (that, and the entry the re-run write adds,
 * are notes).  tests/unit/core/test_dirty_log.c checks the exact limit.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "abi.h"

#define MEM_SIZE	0x10000
#define RING_BYTES	4096
#define RING_ENTRIES	(RING_BYTES / sizeof(struct kvm_dirty_gfn))
#define SLOT1_PAGES	256		/* at TOUCH_BASE, logged */
#define SLOT2_PAGES	16		/* after it, not logged */

static long enable_ring(int vm, uint32_t cap, uint64_t size)
{
	struct kvm_enable_cap c = { .cap = cap, .args = { size } };

	return ioctl(vm, KVM_ENABLE_CAP, &c);
}

static void set_slot(struct vm *v, uint32_t slot, uint32_t flags,
		     uint64_t gpa, uint64_t size, void *hva)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot, .flags = flags, .guest_phys_addr = gpa,
		.memory_size = size, .userspace_addr = (uintptr_t)hva,
	};

	die_unless(ioctl(v->fd, KVM_SET_USER_MEMORY_REGION, &r) == 0,
		   "KVM_SET_USER_MEMORY_REGION");
}

static void *anon(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	die_unless(p != MAP_FAILED, "mmap");
	return p;
}

static uint32_t ring_cap;	/* which capability ring_vm_create enables */

/* Before the vCPU: the ring, then a logged slot 1 and an unlogged slot 2. */
static void ring_setup(struct vm *v)
{
	chk("enable ring", enable_ring(v->fd, ring_cap, RING_BYTES));
	set_slot(v, 1, KVM_MEM_LOG_DIRTY_PAGES, TOUCH_BASE, SLOT1_PAGES * 4096,
		 anon(SLOT1_PAGES * 4096));
	set_slot(v, 2, 0, TOUCH_BASE + SLOT1_PAGES * 4096, SLOT2_PAGES * 4096,
		 anon(SLOT2_PAGES * 4096));
}

static void ring_vm_create(struct vm *v, uint32_t cap)
{
	ring_cap = cap;
	vm_create_hook(v, MEM_SIZE, ring_setup);
}

static struct kvm_dirty_gfn *map_ring(struct vm *v)
{
	off_t off = KVM_DIRTY_LOG_PAGE_OFFSET * 4096l;
	void *p;

	p = mmap(NULL, RING_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE,
		 v->vcpu, off);
	chk("mmap ring MAP_PRIVATE", p == MAP_FAILED ? -1 : 0);
	if (p != MAP_FAILED)
		munmap(p, RING_BYTES);
	/*
	 * Not asked: a PROT_EXEC mapping.  6.1 refuses it with EINVAL; the
	 * reference kernel is newer and puts its anonymous-inode files on a
	 * noexec mount, so mmap() fails with EPERM before KVM is asked.
	 */
	p = mmap(NULL, RING_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED,
		 v->vcpu, off);
	chk("mmap ring", p == MAP_FAILED ? -1 : 0);
	die_unless(p != MAP_FAILED, "mmap ring");
	return p;
}

static uint32_t fetch;		/* next entry the client harvests */

/* Harvest: print the published entries and (if mark) mark them. */
static unsigned int harvest(struct kvm_dirty_gfn *ring, int mark)
{
	unsigned int n = 0;

	/* a note: hardware KVM pushes one more entry in soft_limit() */
	tr("# harvest from index %u", fetch);
	for (;;) {
		struct kvm_dirty_gfn *e = &ring[fetch % RING_ENTRIES];
		uint32_t flags = __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE);

		if (!(flags & KVM_DIRTY_GFN_F_DIRTY))
			break;
		tr("  entry flags %x slot 0x%x offset %llu", flags, e->slot,
		   (unsigned long long)e->offset);
		if (!mark)
			break;
		__atomic_store_n(&e->flags, KVM_DIRTY_GFN_F_RESET,
				 __ATOMIC_RELEASE);
		fetch++;
		n++;
	}
	tr("  harvested %u", n);
	return n;
}


static void enable_rules(void)
{
	int sys = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	int vm, vcpu;

	die_unless(sys >= 0, "open /dev/kvm");
	chk("KVM_CHECK_EXTENSION KVM_CAP_DIRTY_LOG_RING",
	    ioctl(sys, KVM_CHECK_EXTENSION, KVM_CAP_DIRTY_LOG_RING));
	chk("KVM_CHECK_EXTENSION KVM_CAP_DIRTY_LOG_RING_ACQ_REL",
	    ioctl(sys, KVM_CHECK_EXTENSION, KVM_CAP_DIRTY_LOG_RING_ACQ_REL));
	vm = ioctl(sys, KVM_CREATE_VM, 0);
	die_unless(vm >= 0, "KVM_CREATE_VM");
	chk("VM KVM_CHECK_EXTENSION KVM_CAP_DIRTY_LOG_RING",
	    ioctl(vm, KVM_CHECK_EXTENSION, KVM_CAP_DIRTY_LOG_RING));
	chk("KVM_RESET_DIRTY_RINGS without rings",
	    ioctl(vm, KVM_RESET_DIRTY_RINGS, 0));
	chk("ring size 0", enable_ring(vm, KVM_CAP_DIRTY_LOG_RING, 0));
	chk("ring size 3 pages",
	    enable_ring(vm, KVM_CAP_DIRTY_LOG_RING, 3 * 4096));
	chk("ring size 2048", enable_ring(vm, KVM_CAP_DIRTY_LOG_RING, 2048));
	chk("ring size 2 MiB",
	    enable_ring(vm, KVM_CAP_DIRTY_LOG_RING, 2 << 20));
	chk("ring size 1 << 40",
	    enable_ring(vm, KVM_CAP_DIRTY_LOG_RING, 1ull << 40));
	chk("ring size 4096", enable_ring(vm, KVM_CAP_DIRTY_LOG_RING, 4096));
	chk("ring size 4096 again",
	    enable_ring(vm, KVM_CAP_DIRTY_LOG_RING, 4096));
	chk("ring size 8192", enable_ring(vm, KVM_CAP_DIRTY_LOG_RING, 8192));
	chk("ACQ_REL ring after a ring",
	    enable_ring(vm, KVM_CAP_DIRTY_LOG_RING_ACQ_REL, 4096));
	chk("KVM_RESET_DIRTY_RINGS with no vCPU",
	    ioctl(vm, KVM_RESET_DIRTY_RINGS, 0));
	close(vm);

	vm = ioctl(sys, KVM_CREATE_VM, 0);
	die_unless(vm >= 0, "KVM_CREATE_VM");
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	die_unless(vcpu >= 0, "KVM_CREATE_VCPU");
	chk("ring after the first vCPU",
	    enable_ring(vm, KVM_CAP_DIRTY_LOG_RING, 4096));
	chk("ACQ_REL ring after the first vCPU",
	    enable_ring(vm, KVM_CAP_DIRTY_LOG_RING_ACQ_REL, 4096));
	chk("mmap ring without a ring",
	    mmap(NULL, 4096, PROT_READ, MAP_SHARED, vcpu,
		 KVM_DIRTY_LOG_PAGE_OFFSET * 4096l) == MAP_FAILED ? -1 : 0);
	close(vcpu);
	close(vm);
	close(sys);
}

/* Pages FILL_FIRST.. FILL_END-1, each written once, then an OUT. */
#define FILL_FIRST	16
#define FILL_END	240
GUEST_CODE(fill,
	".code32\n"
	"	mov $16, %ebx\n"
	"1:	mov %ebx, %eax\n"
	"	shl $12, %eax\n"
	"	movb $0x5a, 0x100000(%eax)\n"
	"	mov %bl, %al\n"
	"	outb %al, $0x80\n"
	"	inc %ebx\n"
	"	cmp $240, %ebx\n"
	"	jne 1b\n"
	"	hlt\n"
	".code64\n");

/* Harvest quietly, counting how often each page of slot 1 was seen. */
static void collect(struct kvm_dirty_gfn *ring, unsigned int *seen)
{
	while (ring[fetch % RING_ENTRIES].flags & KVM_DIRTY_GFN_F_DIRTY) {
		struct kvm_dirty_gfn *e = &ring[fetch % RING_ENTRIES];

		if (e->slot == 1 && e->offset < FILL_END)
			seen[e->offset]++;
		e->flags = KVM_DIRTY_GFN_F_RESET;
		fetch++;
	}
}

static void soft_limit(struct vm *v, struct kvm_dirty_gfn *ring)
{
	unsigned int soft = RING_ENTRIES - 64, seen[FILL_END] = { 0 };
	unsigned int fulls = 0, ios = 0, missing = 0, twice = 0, i;

	tr("# the soft limit: %zu entries - 64 reserved = %u; the guest "
	   "writes pages %u..%u", RING_ENTRIES, soft, FILL_FIRST, FILL_END - 1);
	vm_load(v, GUEST_CODE_GPA, fill_start, fill_end - fill_start);
	vm_setup_flat32(v, GUEST_CODE_GPA);
	for (;;) {
		if (ioctl(v->vcpu, KVM_RUN, 0) < 0) {
			chk("KVM_RUN", -1);
			return;
		}
		if (v->run->exit_reason == KVM_EXIT_IO) {
			ios++;
			continue;
		}
		if (v->run->exit_reason != KVM_EXIT_DIRTY_RING_FULL)
			break;
		if (!fulls++) {
			unsigned int used = 0;

			while (ring[(fetch + used) % RING_ENTRIES].flags &
			       KVM_DIRTY_GFN_F_DIRTY && used < RING_ENTRIES)
				used++;
			tr("# first FULL exit: %u entries in use, %u OUT exits",
			   used, ios);
			tr("first FULL exit with the soft limit reached: %s",
			   used >= soft ? "yes" : "no");
			tr("KVM_RUN again without a reset:");
			vm_run(v);
		}
		collect(ring, seen);
		if (ioctl(v->fd, KVM_RESET_DIRTY_RINGS, 0) < 0)
			chk("KVM_RESET_DIRTY_RINGS", -1);
	}
	print_exit(v->run);
	collect(ring, seen);
	chk("KVM_RESET_DIRTY_RINGS", ioctl(v->fd, KVM_RESET_DIRTY_RINGS, 0) > 0);
	for (i = FILL_FIRST; i < FILL_END; i++) {
		missing += !seen[i];
		twice += seen[i] > 1;
	}
	tr("OUT exits %u, FULL exits: %s, pages never harvested: %u", ios,
	   fulls ? "yes" : "no", missing);
	/* hardware KVM logs the write it stopped at again after the reset */
	tr("# pages harvested twice: %u", twice);
}

static void protocol(uint32_t cap, const char *name)
{
	uint64_t bm[4];
	struct kvm_dirty_log log = { .slot = 1, .dirty_bitmap = bm };
	struct kvm_clear_dirty_log clr = { .slot = 1, .num_pages = 64,
					   .dirty_bitmap = bm };
	struct kvm_dirty_gfn *ring;
	struct vm v;

	tr("# %s", name);
	fetch = 0;
	ring_vm_create(&v, cap);
	ring = map_ring(&v);
	chk("KVM_GET_DIRTY_LOG with rings on",
	    ioctl(v.fd, KVM_GET_DIRTY_LOG, &log));
	chk("KVM_CLEAR_DIRTY_LOG with rings on",
	    ioctl(v.fd, KVM_CLEAR_DIRTY_LOG, &clr));
	chk("KVM_RESET_DIRTY_RINGS, ring empty",
	    ioctl(v.fd, KVM_RESET_DIRTY_RINGS, 0));

	vm_touch(&v, 5, 0, 5, 3, TOUCH_READ | 7, SLOT1_PAGES + 1);
	harvest(ring, 0);		/* look without marking */
	chk("KVM_RESET_DIRTY_RINGS, nothing marked",
	    ioctl(v.fd, KVM_RESET_DIRTY_RINGS, 0));
	harvest(ring, 1);
	chk("KVM_RESET_DIRTY_RINGS", ioctl(v.fd, KVM_RESET_DIRTY_RINGS, 0));
	chk("KVM_RESET_DIRTY_RINGS again",
	    ioctl(v.fd, KVM_RESET_DIRTY_RINGS, 0));

	tr("# reset pages are pushed again");
	vm_touch(&v, 2, 5, 9);
	harvest(ring, 1);
	chk("KVM_RESET_DIRTY_RINGS", ioctl(v.fd, KVM_RESET_DIRTY_RINGS, 0));
	vm_touch(&v, 2, 9, 5);
	harvest(ring, 1);
	chk("KVM_RESET_DIRTY_RINGS", ioctl(v.fd, KVM_RESET_DIRTY_RINGS, 0));

	soft_limit(&v, ring);
	tr("# after the wrap-around");
	vm_touch(&v, 1, 0);
	harvest(ring, 1);
	chk("KVM_RESET_DIRTY_RINGS", ioctl(v.fd, KVM_RESET_DIRTY_RINGS, 0));
	munmap(ring, RING_BYTES);
	vm_destroy(&v);
}

int main(void)
{
	enable_rules();
	protocol(KVM_CAP_DIRTY_LOG_RING, "KVM_CAP_DIRTY_LOG_RING");
	protocol(KVM_CAP_DIRTY_LOG_RING_ACQ_REL, "KVM_CAP_DIRTY_LOG_RING_ACQ_REL");
	return 0;
}
