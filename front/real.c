// SPDX-License-Identifier: MIT
/*
 * real.c - reaching libc's own open/ioctl/mmap/sigaction behind ours, and
 * telling skvm's own calls from the program's.
 */
#include <dlfcn.h>
#include <link.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "front.h"

/*
 * dlsym() may allocate, and an allocator in the program may open files
 * (some read /proc or /sys at start-up): such an open() re-enters us while
 * we resolve.  The inner call then sees NULL and uses the system call.
 */
static __thread int front_resolving;

void *front_real(_Atomic(void *) *slot, const char *name)
{
	void *fn = atomic_load_explicit(slot, memory_order_acquire);

	if (fn)
		return fn;
	if (front_resolving)
		return NULL;
	front_resolving = 1;
	fn = dlsym(RTLD_NEXT, name);
	/*
	 * RTLD_NEXT finds nothing when libc precedes libskvm in the search
	 * order (a program linked with libskvm after libc): the first
	 * definition is then libc's, unless it is ours.
	 */
	if (!fn) {
		fn = dlsym(RTLD_DEFAULT, name);
		if (fn && front_from_self(fn))
			fn = NULL;
	}
	front_resolving = 0;
	if (fn)
		atomic_store_explicit(slot, fn, memory_order_release);
	return fn;
}

/* --- Telling skvm's calls from the program's ---------------------------- */

__thread int front_in_core;

/*
 * [lo, hi) of the shared object that holds libskvm.  Empty (1, 1) when the
 * front is linked into the executable itself (the static archive of unit
 * tests): the range would then cover the program too.
 */
static _Atomic uintptr_t front_self_lo, front_self_hi;

/* [*lo, *hi) spanned by a loaded object's PT_LOAD segments. */
static void front_object_range(const struct dl_phdr_info *info,
			       uintptr_t *lo, uintptr_t *hi)
{
	*lo = UINTPTR_MAX;
	*hi = 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type != PT_LOAD)
			continue;
		if (info->dlpi_addr + ph->p_vaddr < *lo)
			*lo = info->dlpi_addr + ph->p_vaddr;
		if (info->dlpi_addr + ph->p_vaddr + ph->p_memsz > *hi)
			*hi = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
	}
}

static int front_find_self(struct dl_phdr_info *info, size_t size, void *data)
{
	uintptr_t me = (uintptr_t)front_find_self, lo, hi;

	front_object_range(info, &lo, &hi);
	if (me < lo || me >= hi)
		return 0;
	if (!info->dlpi_name || !info->dlpi_name[0])
		lo = hi = 1;	/* the main program */
	atomic_store(&front_self_hi, hi);
	atomic_store(&front_self_lo, lo);
	return 1;
}

#ifdef SKVM_SANITIZER_RUNTIME_NAME
/*
 * In a sanitizer build, the runtime's own calls (its symbolizer mmaps the
 * program's ELF files while it holds its report lock) must not enter the
 * instrumented core either: [lo, hi) of the loaded runtime.
 */
static _Atomic uintptr_t front_rt_lo, front_rt_hi;

static int front_find_runtime(struct dl_phdr_info *info, size_t size,
			      void *data)
{
	uintptr_t lo, hi;

	if (!info->dlpi_name || !strstr(info->dlpi_name,
					 SKVM_SANITIZER_RUNTIME_NAME))
		return 0;
	front_object_range(info, &lo, &hi);
	atomic_store(&front_rt_hi, hi);
	atomic_store(&front_rt_lo, lo);
	return 1;
}

static bool front_from_runtime(uintptr_t a)
{
	if (!atomic_load(&front_rt_lo)) {
		atomic_store(&front_rt_lo, 1);	/* not loaded: empty range */
		atomic_store(&front_rt_hi, 1);
		dl_iterate_phdr(front_find_runtime, NULL);
	}
	return a >= atomic_load(&front_rt_lo) && a < atomic_load(&front_rt_hi);
}
#else
static bool front_from_runtime(uintptr_t a)
{
	return false;
}
#endif

bool front_from_self(const void *addr)
{
	uintptr_t a = (uintptr_t)addr;

	if (front_in_core)
		return true;
	/* Racing first callers compute the same range: harmless. */
	if (!atomic_load(&front_self_lo))
		dl_iterate_phdr(front_find_self, NULL);
	return (a >= atomic_load(&front_self_lo) &&
		a < atomic_load(&front_self_hi)) || front_from_runtime(a);
}
