// SPDX-License-Identifier: MIT
/*
 * replay.c - run fuzz inputs through the ioctl harness without libFuzzer:
 * each argument is a file or a directory of files (the corpus).  Built
 * where the compiler is not clang, so that the harness and the corpus
 * run as a regular test.  A finding aborts, as under the fuzzer.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

#define REPLAY_MAX_INPUT (1 << 20)

static int replay_file(const char *path)
{
	static uint8_t buf[REPLAY_MAX_INPUT];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (getenv("SKVM_FUZZ_VERBOSE") || getenv("SKVM_FUZZ_REPLAY_NAMES"))
		fprintf(stderr, "replay: %s\n", path);
	fz_run(buf, n);
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The files of a directory, in name order so that runs are repeatable. */
static int replay_dir(const char *dir, int *count)
{
	struct dirent **ents = NULL;
	int n = scandir(dir, &ents, NULL, NULL), r = 0;
	char **names;

	if (n < 0) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	names = calloc((size_t)n + 1, sizeof(*names));
	for (int i = 0; i < n; i++) {
		names[i] = ents[i]->d_name;
	}
	qsort(names, (size_t)n, sizeof(*names), name_cmp);
	for (int i = 0; i < n && !r; i++) {
		char path[4096];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (names[i][0] == '.' || stat(path, &st) || !S_ISREG(st.st_mode))
			continue;
		r = replay_file(path);
		(*count)++;
	}
	for (int i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	free(names);
	return r;
}

int main(int argc, char **argv)
{
	int count = 0, r = fz_init();

	if (r) {
		fprintf(stderr, "replay: set-up failed (%d)\n", r);
		return 2;
	}
	for (int i = 1; i < argc && !r; i++) {
		struct stat st;

		if (stat(argv[i], &st)) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			return 2;
		}
		if (S_ISDIR(st.st_mode)) {
			r = replay_dir(argv[i], &count);
		} else {
			r = replay_file(argv[i]);
			count++;
		}
	}
	if (r)
		return 2;
	printf("replay: %d input(s), no finding\n", count);
	return 0;
}
