// SPDX-License-Identifier: MIT
/*
 * sort - compiled C: heapsort of WL_SORT_KEYS pseudo-random 32-bit keys,
 * then a weighted checksum that also counts inversions.  Branchy code with
 * data-dependent branches and indexed loads/stores in a small working set.
 * Each iteration regenerates the same keys, so each iteration executes the
 * same instructions.
 */
#include "workload.h"

static uint32_t keys[WL_SORT_KEYS];

static void keys_fill(void)
{
	uint32_t x = 0x6b43a9b5u;
	uint32_t i;

	for (i = 0; i < WL_SORT_KEYS; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		keys[i] = x;
	}
}

static void sift_down(uint32_t *a, uint32_t root, uint32_t end)
{
	uint32_t child, tmp;

	while ((child = 2 * root + 1) < end) {
		if (child + 1 < end && a[child] < a[child + 1])
			child++;
		if (a[root] >= a[child])
			return;
		tmp = a[root];
		a[root] = a[child];
		a[child] = tmp;
		root = child;
	}
}

static void heapsort_u32(uint32_t *a, uint32_t len)
{
	uint32_t i, tmp;

	for (i = len / 2; i-- > 0; )
		sift_down(a, i, len);
	for (i = len; i-- > 1; ) {
		tmp = a[0];
		a[0] = a[i];
		a[i] = tmp;
		sift_down(a, 0, i);
	}
}

static uint64_t keys_sum(void)
{
	uint64_t sum = 0, inversions = 0;
	uint32_t i;

	for (i = 0; i < WL_SORT_KEYS; i++) {
		sum += (uint64_t)keys[i] * (i + 1);
		if (i && keys[i - 1] > keys[i])
			inversions++;
	}
	return sum ^ inversions << 56;
}

uint64_t wl_sort_run(uint64_t n)
{
	uint64_t acc = 0;

	while (n--) {
		keys_fill();
		heapsort_u32(keys, WL_SORT_KEYS);
		acc = acc * 31 + keys_sum();
	}
	return acc;
}
