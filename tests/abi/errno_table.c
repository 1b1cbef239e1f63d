// SPDX-License-Identifier: MIT
/*
 * errno_table - wrong calls and the errno KVM gives each.  The expected
 * values are whatever the kernel's /dev/kvm answers: the harness compares
 * this transcript with the one recorded there.
 *
 * Host-dependent numbers (KVM_CAP_MAX_VCPUS, the supported CPUID) are not
 * printed; only whether a call succeeded.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <termios.h>
#include <unistd.h>

#include "abi.h"

#define BAD_PTR		((void *)8)	/* mapped by no one, non-NULL */
#define PG		4096ul

static uint8_t *mem;

static long set_region(int vm, uint32_t slot, uint32_t flags, uint64_t gpa,
		       uint64_t size, uint64_t hva)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot, .flags = flags, .guest_phys_addr = gpa,
		.memory_size = size, .userspace_addr = hva,
	};

	return ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r);
}

static void system_calls(int sys)
{
	chk("KVM_GET_API_VERSION", ioctl(sys, KVM_GET_API_VERSION, 0));
	chk("KVM_CREATE_VM type 99", ioctl(sys, KVM_CREATE_VM, 99));
	chk("KVM_CHECK_EXTENSION 0x7ffff (unknown)",
	    ioctl(sys, KVM_CHECK_EXTENSION, 0x7ffff));
	chk("KVM_CHECK_EXTENSION -1", ioctl(sys, KVM_CHECK_EXTENSION, -1));
	chk("KVM_CHECK_EXTENSION KVM_CAP_USER_MEMORY",
	    ioctl(sys, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY) > 0);
	chk("KVM_GET_VCPU_MMAP_SIZE", ioctl(sys, KVM_GET_VCPU_MMAP_SIZE, 0));
	chk("KVM_GET_VCPU_MMAP_SIZE arg 1",
	    ioctl(sys, KVM_GET_VCPU_MMAP_SIZE, 1));
	chk("system fd: unknown KVM ioctl _IO(KVMIO, 0xfe)",
	    ioctl(sys, _IO(KVMIO, 0xfe), 0));
	chk("system fd: TCGETS", ioctl(sys, TCGETS, BAD_PTR));
	chk("system fd: KVM_CREATE_VCPU", ioctl(sys, KVM_CREATE_VCPU, 0));
	chk("system fd: KVM_RUN", ioctl(sys, KVM_RUN, 0));
	chk("KVM_GET_MSR_INDEX_LIST bad pointer",
	    ioctl(sys, KVM_GET_MSR_INDEX_LIST, BAD_PTR));
	chk("KVM_GET_SUPPORTED_CPUID bad pointer",
	    ioctl(sys, KVM_GET_SUPPORTED_CPUID, BAD_PTR));
	{
		struct kvm_cpuid2 c = { .nent = 0 };

		chk("KVM_GET_SUPPORTED_CPUID nent=0",
		    ioctl(sys, KVM_GET_SUPPORTED_CPUID, &c));
		tr("nent after = %s", c.nent > 0 ? "set" : "0");
	}
}

static void memslot_calls(int vm)
{
	uint64_t hva = (uintptr_t)mem;

	chk("slot 0 [0,64K)", set_region(vm, 0, 0, 0, 0x10000, hva));
	chk("slot 1 overlaps slot 0",
	    set_region(vm, 1, 0, 0x8000, 0x10000, hva + 0x10000));
	chk("slot 1 gpa misaligned",
	    set_region(vm, 1, 0, 0x100001, 0x10000, hva + 0x10000));
	chk("slot 1 size misaligned",
	    set_region(vm, 1, 0, 0x100000, 0x10001, hva + 0x10000));
	chk("slot 1 hva misaligned",
	    set_region(vm, 1, 0, 0x100000, 0x10000, hva + 0x10001));
	chk("slot 1 unknown flag 0x80",
	    set_region(vm, 1, 0x80, 0x100000, 0x10000, hva + 0x10000));
	chk("slot 1 gpa+size wraps",
	    set_region(vm, 1, 0, -0x10000ull, 0x20000, hva + 0x10000));
	chk("slot 0x7fff (out of range)",
	    set_region(vm, 0x7fff, 0, 0x100000, 0x10000, hva + 0x10000));
	chk("slot in address space 2",
	    set_region(vm, 2 << 16 | 1, 0, 0x100000, 0x10000, hva + 0x10000));
	chk("resize slot 0", set_region(vm, 0, 0, 0, 0x20000, hva));
	chk("change hva of slot 0",
	    set_region(vm, 0, 0, 0, 0x10000, hva + 0x10000));
	chk("same slot 0 again", set_region(vm, 0, 0, 0, 0x10000, hva));
	chk("move slot 0 to 1M", set_region(vm, 0, 0, 0x100000, 0x10000, hva));
	chk("delete nonexistent slot 5", set_region(vm, 5, 0, 0, 0, 0));
	chk("slot 1 at hva with nothing mapped (KVM maps lazily)",
	    set_region(vm, 1, 0, 0x200000, 0x10000, 0x7f0000000000ull));
	chk("delete slot 1", set_region(vm, 1, 0, 0x200000, 0, 0));
	chk("slot 2 dirty logging",
	    set_region(vm, 2, KVM_MEM_LOG_DIRTY_PAGES, 0x300000, 0x10000,
		       hva + 0x20000));
	chk("KVM_SET_USER_MEMORY_REGION bad pointer",
	    ioctl(vm, KVM_SET_USER_MEMORY_REGION, BAD_PTR));
	{
		uint64_t bitmap[4];
		struct kvm_dirty_log log = { .slot = 0 };

		log.dirty_bitmap = bitmap;
		chk("KVM_GET_DIRTY_LOG slot without logging",
		    ioctl(vm, KVM_GET_DIRTY_LOG, &log));
		log.slot = 9;
		chk("KVM_GET_DIRTY_LOG nonexistent slot",
		    ioctl(vm, KVM_GET_DIRTY_LOG, &log));
		log.slot = 2;
		chk("KVM_GET_DIRTY_LOG slot 2", ioctl(vm, KVM_GET_DIRTY_LOG, &log));
		log.dirty_bitmap = BAD_PTR;
		chk("KVM_GET_DIRTY_LOG bad bitmap pointer",
		    ioctl(vm, KVM_GET_DIRTY_LOG, &log));
	}
}

static void vm_calls(int sys, int vm)
{
	long max_id = ioctl(sys, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPU_ID);
	struct kvm_irq_level irq = { .irq = 4, .level = 1 };

	chk("VM fd: KVM_CHECK_EXTENSION 0x7ffff",
	    ioctl(vm, KVM_CHECK_EXTENSION, 0x7ffff));
	chk("VM fd: unknown KVM ioctl _IO(KVMIO, 0xfe)",
	    ioctl(vm, _IO(KVMIO, 0xfe), 0));
	chk("VM fd: TCGETS", ioctl(vm, TCGETS, BAD_PTR));
	chk("VM fd: KVM_GET_API_VERSION", ioctl(vm, KVM_GET_API_VERSION, 0));
	chk("VM fd: KVM_CREATE_VM", ioctl(vm, KVM_CREATE_VM, 0));
	chk("KVM_IRQ_LINE without irqchip", ioctl(vm, KVM_IRQ_LINE, &irq));
	chk("KVM_SET_TSS_ADDR", ioctl(vm, KVM_SET_TSS_ADDR, 0xfffbd000));
	tr("KVM_CAP_MAX_VCPU_ID > 0: %d", max_id > 0);
	chk_ok("KVM_CREATE_VCPU id=max_vcpu_id",
	       ioctl(vm, KVM_CREATE_VCPU, max_id));
	chk_ok("KVM_CREATE_VCPU id=-1", ioctl(vm, KVM_CREATE_VCPU, -1));
}

static void vcpu_calls(int sys, int vm)
{
	int run_size = ioctl(sys, KVM_GET_VCPU_MMAP_SIZE, 0);
	struct kvm_sregs s;
	int vcpu;
	void *p;

	vcpu = chk_ok("KVM_CREATE_VCPU id=0", ioctl(vm, KVM_CREATE_VCPU, 0));
	chk_ok("KVM_CREATE_VCPU id=0 again", ioctl(vm, KVM_CREATE_VCPU, 0));
	die_unless(vcpu >= 0, "KVM_CREATE_VCPU");

	chk("KVM_GET_REGS NULL", ioctl(vcpu, KVM_GET_REGS, NULL));
	chk("KVM_GET_REGS bad pointer", ioctl(vcpu, KVM_GET_REGS, BAD_PTR));
	chk("KVM_SET_REGS bad pointer", ioctl(vcpu, KVM_SET_REGS, BAD_PTR));
	chk("KVM_GET_SREGS bad pointer", ioctl(vcpu, KVM_GET_SREGS, BAD_PTR));
	chk("KVM_SET_SREGS bad pointer", ioctl(vcpu, KVM_SET_SREGS, BAD_PTR));
	chk("KVM_GET_FPU bad pointer", ioctl(vcpu, KVM_GET_FPU, BAD_PTR));
	chk("KVM_SET_MSRS bad pointer", ioctl(vcpu, KVM_SET_MSRS, BAD_PTR));

	chk("KVM_GET_SREGS", ioctl(vcpu, KVM_GET_SREGS, &s));
	s.cr0 = 0x80000000;		/* PG without PE */
	chk("KVM_SET_SREGS cr0 PG without PE", ioctl(vcpu, KVM_SET_SREGS, &s));

	{
		struct kvm_signal_mask *m = calloc(1, sizeof(*m) + 16);

		die_unless(m != NULL, "calloc");
		m->len = 16;
		chk("KVM_SET_SIGNAL_MASK len=16",
		    ioctl(vcpu, KVM_SET_SIGNAL_MASK, m));
		m->len = 8;
		chk("KVM_SET_SIGNAL_MASK len=8",
		    ioctl(vcpu, KVM_SET_SIGNAL_MASK, m));
		chk("KVM_SET_SIGNAL_MASK NULL (clear)",
		    ioctl(vcpu, KVM_SET_SIGNAL_MASK, NULL));
		free(m);
	}

	chk("vCPU fd: unknown KVM ioctl _IO(KVMIO, 0xfe)",
	    ioctl(vcpu, _IO(KVMIO, 0xfe), 0));
	chk("vCPU fd: TCGETS", ioctl(vcpu, TCGETS, BAD_PTR));
	chk("vCPU fd: KVM_CHECK_EXTENSION", ioctl(vcpu, KVM_CHECK_EXTENSION,
						  KVM_CAP_USER_MEMORY));
	chk("vCPU fd: KVM_CREATE_VCPU", ioctl(vcpu, KVM_CREATE_VCPU, 1));

	p = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	chk_ok("mmap vCPU fd MAP_SHARED offset 0",
	       p == MAP_FAILED ? -1 : 0);
	if (p != MAP_FAILED)
		munmap(p, run_size);
	p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, vm, 0);
	chk_ok("mmap VM fd", p == MAP_FAILED ? -1 : 0);
	if (p != MAP_FAILED)
		munmap(p, PG);
	close(vcpu);
}

/*
 * The dirty ring must be mapped shared and not executable: KVM refuses a
 * MAP_PRIVATE mapping of its pages with EINVAL.  Only checked where the
 * kernel offers the ring.
 */
static void dirty_ring_calls(int sys)
{
	long ring = ioctl(sys, KVM_CHECK_EXTENSION, KVM_CAP_DIRTY_LOG_RING);
	struct kvm_enable_cap cap = { .cap = KVM_CAP_DIRTY_LOG_RING };
	int vm, vcpu;
	void *p;

	tr("KVM_CAP_DIRTY_LOG_RING > 0: %d", ring > 0);
	if (ring <= 0)
		return;
	vm = ioctl(sys, KVM_CREATE_VM, 0);
	die_unless(vm >= 0, "KVM_CREATE_VM");
	cap.args[0] = 4096;
	chk("KVM_ENABLE_CAP KVM_CAP_DIRTY_LOG_RING 4096 bytes",
	    ioctl(vm, KVM_ENABLE_CAP, &cap));
	cap.args[0] = 12345;
	chk("KVM_ENABLE_CAP KVM_CAP_DIRTY_LOG_RING again, not a power of 2",
	    ioctl(vm, KVM_ENABLE_CAP, &cap));
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	die_unless(vcpu >= 0, "KVM_CREATE_VCPU");
	p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, vcpu,
		 KVM_DIRTY_LOG_PAGE_OFFSET * PG);
	chk_ok("mmap dirty ring MAP_PRIVATE", p == MAP_FAILED ? -1 : 0);
	p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu,
		 KVM_DIRTY_LOG_PAGE_OFFSET * PG);
	chk_ok("mmap dirty ring MAP_SHARED", p == MAP_FAILED ? -1 : 0);
	if (p != MAP_FAILED)
		munmap(p, PG);
	close(vcpu);
	close(vm);
}

int main(void)
{
	int sys, vm;

	mem = mmap(NULL, 0x40000, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	die_unless(mem != MAP_FAILED, "mmap");
	sys = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	die_unless(sys >= 0, "open /dev/kvm");

	system_calls(sys);
	vm = ioctl(sys, KVM_CREATE_VM, 0);
	die_unless(vm >= 0, "KVM_CREATE_VM");
	memslot_calls(vm);
	vm_calls(sys, vm);
	vcpu_calls(sys, vm);
	close(vm);
	dirty_ring_calls(sys);

	chk("ioctl on a closed fd", ioctl(vm, KVM_CHECK_EXTENSION, 0));
	close(sys);
	return 0;
}
