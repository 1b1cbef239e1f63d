// SPDX-License-Identifier: MIT
/*
 * memslot_race - memslot changes while a vCPU runs.  A vCPU thread runs a
 * 64-bit guest that keeps incrementing a counter in a one-page region at
 * 0x100000, reads the region's tag and reports it with OUT.  Meanwhile
 * the main thread deletes the slot (and munmaps its backing, so a stale
 * access would crash), re-creates it on fresh memory with a new tag,
 * moves it away and back, and flips KVM_MEM_LOG_DIRTY_PAGES.  While the
 * slot is gone the guest must see MMIO exits; once it is back, the new
 * tag.  Only the outcome is printed, so the transcript is the same on
 * the kernel's /dev/kvm.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "abi.h"

#define REGION_GPA	0x100000ull
#define AWAY_GPA	0x200000ull
#define MMIO_TAG	0xdeadbeefu
#define FLIPS		40

GUEST_CODE(race,
	".code64\n"
	"1:	mov 0x100008, %rbx\n"
	"	inc %rbx\n"
	"	mov %rbx, 0x100008\n"
	"	mov 0x100000, %eax\n"
	"	out %eax, $0xe9\n"
	"	jmp 1b\n");

static struct vm v;
static atomic_uint last_tag, max_tag, mmio_reads, bad, stop;

static void *vcpu_thread(void *arg)
{
	struct kvm_run *run = v.run;
	uint32_t tag;

	(void)arg;
	while (!atomic_load(&stop)) {
		if (ioctl(v.vcpu, KVM_RUN, 0) < 0) {
			if (errno == EINTR)
				continue;
			atomic_fetch_add(&bad, 1);
			break;
		}
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			memcpy(&tag, (uint8_t *)run + run->io.data_offset, 4);
			if (tag != MMIO_TAG && tag > atomic_load(&max_tag))
				atomic_fetch_add(&bad, 1);	/* stale memory */
			atomic_store(&last_tag, tag);
			break;
		case KVM_EXIT_MMIO:
			if (!run->mmio.is_write) {
				memset(run->mmio.data, 0, 8);
				if (run->mmio.phys_addr == REGION_GPA)
					memcpy(run->mmio.data, &(uint32_t){ MMIO_TAG }, 4);
				atomic_fetch_add(&mmio_reads, 1);
			}
			break;
		default:
			atomic_fetch_add(&bad, 1);
			atomic_store(&stop, 1);
			break;
		}
	}
	return NULL;
}

static int set_slot(uint64_t gpa, uint64_t size, void *host, uint32_t flags)
{
	struct kvm_userspace_memory_region r = {
		.slot = 1, .flags = flags, .guest_phys_addr = gpa,
		.memory_size = size, .userspace_addr = (uintptr_t)host,
	};

	return ioctl(v.fd, KVM_SET_USER_MEMORY_REGION, &r);
}

/* Wait until cond() holds, at most 20 s. */
static int wait_for(int (*cond)(uint32_t), uint32_t arg)
{
	struct timespec ts = { 0, 100000 };
	long i;

	for (i = 0; i < 200000; i++) {
		if (cond(arg))
			return 1;
		nanosleep(&ts, NULL);
	}
	return 0;
}

static int tag_is(uint32_t t)
{
	return atomic_load(&last_tag) == t;
}

static int mmio_above(uint32_t n)
{
	return atomic_load(&mmio_reads) > n;
}

int main(void)
{
	unsigned int fail_new = 0, fail_mmio = 0, fail_ioctl = 0;
	uint8_t *mem = NULL;
	pthread_t th;
	uint32_t i;

	vm_create(&v, 0x10000);
	vm_load(&v, GUEST_CODE_GPA, race_start, race_end - race_start);
	vm_setup_long(&v, GUEST_CODE_GPA);
	pthread_create(&th, NULL, vcpu_thread, NULL);

	for (i = 1; i <= FLIPS; i++) {
		uint8_t *old = mem;
		uint32_t seen = atomic_load(&mmio_reads);
		unsigned long dirty[1];
		struct kvm_dirty_log log = { .slot = 1,
					     .dirty_bitmap = dirty };

		if (old) {
			if (set_slot(REGION_GPA, 0, old, 0))
				fail_ioctl++;
			munmap(old, 4096);
		}
		/* slot gone: the guest's accesses are MMIO now */
		if (!wait_for(mmio_above, seen))
			fail_mmio++;
		mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		die_unless(mem != MAP_FAILED, "mmap");
		memcpy(mem, &i, 4);
		atomic_store(&max_tag, i);
		/* created away, moved into place, dirty logging on and off */
		if (set_slot(AWAY_GPA, 4096, mem, 0) ||
		    set_slot(REGION_GPA, 4096, mem, 0) ||	/* move */
		    set_slot(REGION_GPA, 4096, mem, KVM_MEM_LOG_DIRTY_PAGES) ||
		    ioctl(v.fd, KVM_GET_DIRTY_LOG, &log) ||
		    set_slot(REGION_GPA, 4096, mem, 0))
			fail_ioctl++;
		if (!wait_for(tag_is, i))
			fail_new++;
	}
	atomic_store(&stop, 1);
	/* the guest exits at every OUT, so the thread sees stop soon */
	pthread_join(th, NULL);
	tr("flips %u", FLIPS);
	tr("ioctl failures %u", fail_ioctl);
	tr("slot gone without an MMIO exit %u", fail_mmio);
	tr("new memory not seen %u", fail_new);
	tr("stale or unexpected exits %u", atomic_load(&bad));
	tr("counter advanced %s", *(uint64_t *)(mem + 8) ? "yes" : "no");
	set_slot(REGION_GPA, 0, mem, 0);
	munmap(mem, 4096);
	vm_destroy(&v);
	return 0;
}
