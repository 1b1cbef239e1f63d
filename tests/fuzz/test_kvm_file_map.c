// SPDX-License-Identifier: MIT
/*
 * test_kvm_file_map.c - kvm_file_map() maps a file from offset 0.
 *
 * Found by the ioctl fuzzer in a clang build: the offset reached mmap as
 * garbage in its upper half, every vCPU's kvm_run and the coalesced-MMIO
 * ring were mapped past the end of their memfds, and the first KVM_RUN
 * died of SIGBUS.  Whether a build leaves that upper half dirty depends on
 * the compiler and the stack; the stack is dirtied before each call to
 * give it the chance, and the corpus replay (any KVM_RUN) covers the rest.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvm_file.h"

#define TEST_PAGES 4

static void __attribute__((noinline)) dirty_stack(void)
{
	volatile uint8_t junk[4096];

	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = 0xa5;
}

int main(void)
{
	long page = sysconf(_SC_PAGESIZE);
	int fd = memfd_create("test-kvm-file-map", MFD_CLOEXEC);
	int bad = 0;

	if (fd < 0 || ftruncate(fd, TEST_PAGES * page))
		return 2;
	for (int i = 0; i < TEST_PAGES; i++) {
		uint8_t v = (uint8_t)(0x10 + i);

		if (pwrite(fd, &v, 1, i * page) != 1)
			return 2;
	}
	for (int round = 0; round < 16; round++) {
		uint8_t *p;

		dirty_stack();
		p = kvm_file_map(fd, TEST_PAGES * (size_t)page);
		if (!p) {
			fprintf(stderr, "kvm_file_map failed\n");
			return 1;
		}
		for (int i = 0; i < TEST_PAGES; i++) {
			if (p[i * page] != 0x10 + i) {
				fprintf(stderr, "page %d reads %#x\n", i, p[i * page]);
				bad = 1;
			}
		}
		munmap(p, TEST_PAGES * (size_t)page);
		if (bad)
			return 1;
	}
	close(fd);
	return 0;
}
