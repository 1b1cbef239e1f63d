// SPDX-License-Identifier: MIT
/*
 * fuzz_ioctl.c - the libFuzzer entry points of skvm-ioctl-fuzz.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int r = fz_init();

	if (r) {
		fprintf(stderr, "fuzz: set-up failed (%d)\n", r);
		exit(2);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_run(data, size);
	return 0;
}
