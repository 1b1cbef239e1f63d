// SPDX-License-Identifier: MIT
/*
 * kvm_file.c - KVM objects as real kernel fds.
 *
 * The kernel gives each KVM object an anonymous-inode file; each one here is
 * a memfd: the client can close, dup, fork, poll, pread and mmap it with no
 * interposition, and we recognise our fds by their inode (fstat).
 *
 * The kernel frees an object when its file is released.  A memfd's inode
 * dies when the last description referring to it goes, fds and mappings
 * alike, and inotify reports that death (IN_IGNORED: the watch is removed
 * because the inode is gone).  For objects that skvm never maps itself (the
 * system, VM and device fds) that is exactly the kernel's release, and a
 * watcher thread (started with the first object) turns each such event into
 * the object's release().
 *
 * Objects that skvm maps (a vCPU's kvm_run, a stats file's data) keep their
 * inode alive themselves, so their owners ask kvm_files_in_use() whether the
 * client still holds them: an fd of the process, or a mapping that is not
 * ours.  kvm_file_defer() re-runs such a check on the watcher thread until
 * it succeeds.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kvm_file.h"

#define FILE_HASH_SIZE 1024

/*
 * The registry: inode -> kvm_file.  file_lock protects the hash chains, the
 * watcher state and nr_files; kvm_file.users is the reference count (one
 * for the registry, one per in-flight ioctl).
 */
static pthread_mutex_t file_lock = PTHREAD_MUTEX_INITIALIZER;
static struct kvm_file *file_hash[FILE_HASH_SIZE];
static _Atomic int nr_files;
static int inotify_fd = -1;
static bool watcher_running;
/* /proc/self/fd and /proc/self/maps, opened once, for kvm_files_in_use */
static int proc_fd_dir = -1, proc_maps = -1;

static unsigned int file_hash_fn(dev_t dev, ino_t ino)
{
	return (unsigned int)((ino ^ (dev << 7)) % FILE_HASH_SIZE);
}

static struct kvm_file *file_lookup_locked(dev_t dev, ino_t ino)
{
	struct kvm_file *f = file_hash[file_hash_fn(dev, ino)];

	while (f && !(f->dev == dev && f->ino == ino))
		f = f->hash_next;
	return f;
}

static struct kvm_file *file_lookup_wd_locked(int wd)
{
	for (int i = 0; i < FILE_HASH_SIZE; i++)
		for (struct kvm_file *f = file_hash[i]; f; f = f->hash_next)
			if (f->wd == wd)
				return f;
	return NULL;
}

static void file_unhash_locked(struct kvm_file *f)
{
	struct kvm_file **pp = &file_hash[file_hash_fn(f->dev, f->ino)];

	while (*pp && *pp != f)
		pp = &(*pp)->hash_next;
	if (*pp)
		*pp = f->hash_next;
	nr_files--;
}

void kvm_file_put(struct kvm_file *f)
{
	if (atomic_fetch_sub(&f->users, 1) == 1) {
		if (f->release)
			f->release(f);
		free(f);
	}
}

/* Get a reference to the object behind fd, or NULL when fd is not ours. */
struct kvm_file *kvm_file_get(int fd)
{
	struct kvm_file *f;
	struct stat st;

	if (atomic_load_explicit(&nr_files, memory_order_relaxed) == 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return NULL;
	pthread_mutex_lock(&file_lock);
	f = file_lookup_locked(st.st_dev, st.st_ino);
	if (f)
		atomic_fetch_add(&f->users, 1);
	pthread_mutex_unlock(&file_lock);
	return f;
}

bool kvm_fd_is_ours(int fd)
{
	struct kvm_file *f = kvm_file_get(fd);

	if (!f)
		return false;
	kvm_file_put(f);
	return true;
}

/* A check re-run on the watcher thread until it returns true. */
struct deferred {
	bool (*check)(void *arg);
	void *arg;
	struct deferred *next;
};
static struct deferred *deferred;	/* under file_lock */

#define DEFER_PERIOD_MS 20

int kvm_file_defer(bool (*check)(void *arg), void *arg)
{
	struct deferred *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	d->check = check;
	d->arg = arg;
	pthread_mutex_lock(&file_lock);
	d->next = deferred;
	deferred = d;
	pthread_mutex_unlock(&file_lock);
	return 0;
}

static void run_deferred(void)
{
	struct deferred *list, *keep = NULL;

	pthread_mutex_lock(&file_lock);
	list = deferred;
	deferred = NULL;
	pthread_mutex_unlock(&file_lock);
	while (list) {
		struct deferred *d = list;

		list = d->next;
		if (d->check(d->arg)) {
			free(d);
			continue;
		}
		d->next = keep;
		keep = d;
	}
	pthread_mutex_lock(&file_lock);
	while (keep) {
		struct deferred *d = keep;

		keep = d->next;
		d->next = deferred;
		deferred = d;
	}
	pthread_mutex_unlock(&file_lock);
}

static int ino_cmp(const void *a, const void *b)
{
	ino_t x = *(const ino_t *)a, y = *(const ino_t *)b;

	return x < y ? -1 : x > y;
}

/* Index of ino in the sorted set, or -1. */
static int ino_find(const ino_t *set, int n, ino_t ino)
{
	const ino_t *p = bsearch(&ino, set, (size_t)n, sizeof(*set), ino_cmp);

	return p ? (int)(p - set) : -1;
}

/*
 * The watcher thread must not open files: a client thread could be
 * closing and reopening fd numbers at the same moment.  It reads /proc
 * through high dups of fds opened when it was started.
 */
static int proc_reopen(int fd)
{
	int dup = fd < 0 ? -1 : kvm_fd_dup_private(fd);

	if (dup >= 0 && lseek(dup, 0, SEEK_SET) < 0) {
		close(dup);
		return -1;
	}
	return dup;
}

static bool fds_hold(dev_t dev, const ino_t *set, int n)
{
	int dfd = proc_reopen(proc_fd_dir);
	DIR *d = dfd < 0 ? NULL : fdopendir(dfd);
	struct dirent *de;
	struct stat st;
	bool found = false;

	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return true;	/* cannot tell: keep the objects */
	}
	while (!found && (de = readdir(d)) != NULL) {
		char *end;
		long fd = strtol(de->d_name, &end, 10);

		if (*end || end == de->d_name || fd == dfd)
			continue;
		found = fstat((int)fd, &st) == 0 && st.st_dev == dev &&
			ino_find(set, n, st.st_ino) >= 0;
	}
	closedir(d);
	return found;
}

/* A mapping of one of the inodes that does not start at our own. */
static bool maps_hold(const ino_t *set, const uintptr_t *own, int n)
{
	int mfd = proc_reopen(proc_maps);
	FILE *f = mfd < 0 ? NULL : fdopen(mfd, "re");
	char line[512];
	bool found = false;

	if (!f) {
		if (mfd >= 0)
			close(mfd);
		return true;
	}
	while (!found && fgets(line, sizeof(line), f)) {
		unsigned long start, end, off, ino;
		unsigned int maj, min;
		char perms[8];
		int i;

		if (sscanf(line, "%lx-%lx %7s %lx %x:%x %lu", &start, &end, perms,
			   &off, &maj, &min, &ino) != 7 || !ino)
			continue;
		i = ino_find(set, n, (ino_t)ino);
		found = i >= 0 && own[i] != start;
	}
	fclose(f);
	return found;
}

bool kvm_files_in_use(struct kvm_file *const *files, void *const *own, int n)
{
	ino_t *set = calloc((size_t)n + 1, sizeof(*set));
	uintptr_t *own_sorted = calloc((size_t)n + 1, sizeof(*own_sorted));
	bool busy = false;
	dev_t dev = n ? files[0]->dev : 0;

	if (!set || !own_sorted) {
		free(set);
		free(own_sorted);
		return true;
	}
	for (int i = 0; i < n; i++) {
		/* an ioctl in flight holds the file like an fd */
		busy |= atomic_load(&files[i]->users) > 1;
		set[i] = files[i]->ino;
	}
	qsort(set, (size_t)n, sizeof(*set), ino_cmp);
	for (int i = 0; i < n; i++)
		own_sorted[ino_find(set, n, files[i]->ino)] = (uintptr_t)own[i];
	if (!busy && n)
		busy = fds_hold(dev, set, n) || maps_hold(set, own_sorted, n);
	free(set);
	free(own_sorted);
	return busy;
}

/* The inode behind a watch died: release its object. */
static void watcher_handle(const struct inotify_event *ev)
{
	struct kvm_file *f;

	if (!(ev->mask & IN_IGNORED))
		return;
	pthread_mutex_lock(&file_lock);
	f = file_lookup_wd_locked(ev->wd);
	if (!f) {
		pthread_mutex_unlock(&file_lock);
		return;
	}
	file_unhash_locked(f);
	f->wd = -1;
	pthread_mutex_unlock(&file_lock);
	kvm_file_put(f);	/* the registry's reference */
}

static void *watcher_main(void *arg)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	struct pollfd pfd = { .fd = (int)(long)arg, .events = POLLIN };

	for (;;) {
		int timeout = __atomic_load_n(&deferred, __ATOMIC_RELAXED) ?
			      DEFER_PERIOD_MS : -1;
		int r = poll(&pfd, 1, timeout);
		ssize_t n;

		if (r < 0 && errno != EINTR)
			break;
		if (r > 0) {
			n = read(pfd.fd, buf, sizeof(buf));
			if (n <= 0 && errno != EINTR && errno != EAGAIN)
				break;
			for (char *p = buf; n > 0 && p < buf + n;) {
				const struct inotify_event *ev = (const void *)p;

				watcher_handle(ev);
				p += sizeof(*ev) + ev->len;
			}
		}
		run_deferred();
	}
	return NULL;
}

/* The lowest fd number of skvm's own fds: well above what clients use. */
static int private_fd_base(void)
{
	static int base;
	struct rlimit rl;
	int b = __atomic_load_n(&base, __ATOMIC_RELAXED);

	if (b)
		return b;
	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur < 64)
		b = 3;
	else
		b = rl.rlim_cur > 2048 ? 1024 : (int)(rl.rlim_cur / 2);
	__atomic_store_n(&base, b, __ATOMIC_RELAXED);
	return b;
}

int kvm_fd_dup_private(int fd)
{
	int r = fcntl(fd, F_DUPFD_CLOEXEC, private_fd_base());

	if (r < 0 && errno == EINVAL)	/* the limit was lowered since */
		r = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	return r < 0 ? -errno : r;
}

int kvm_fd_make_private(int fd)
{
	int r = kvm_fd_dup_private(fd);

	if (r < 0)
		return fd;
	close(fd);
	return r;
}

bool kvm_same_file(int a, int b)
{
	pid_t pid = getpid();

	return syscall(SYS_kcmp, pid, pid, KCMP_FILE, a, b) == 0;
}

void kvm_file_unregister(struct kvm_file *f)
{
	pthread_mutex_lock(&file_lock);
	if (file_lookup_locked(f->dev, f->ino) != f) {
		pthread_mutex_unlock(&file_lock);
		return;		/* already released */
	}
	file_unhash_locked(f);
	if (f->wd >= 0)
		inotify_rm_watch(inotify_fd, f->wd);
	f->wd = -1;
	f->release = NULL;
	pthread_mutex_unlock(&file_lock);
	kvm_file_put(f);
}

/* Caller holds file_lock. */
static int watcher_start_locked(void)
{
	pthread_attr_t attr;
	pthread_t tid;
	sigset_t all, old;
	int r;

	if (watcher_running)
		return 0;
	inotify_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (inotify_fd < 0)
		return -errno;
	inotify_fd = kvm_fd_make_private(inotify_fd);
	proc_fd_dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	proc_fd_dir = proc_fd_dir < 0 ? -1 : kvm_fd_make_private(proc_fd_dir);
	proc_maps = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	proc_maps = proc_maps < 0 ? -1 : kvm_fd_make_private(proc_maps);
	/* The watcher must never take the client's signals. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	r = pthread_create(&tid, &attr, watcher_main, (void *)(long)inotify_fd);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r) {
		close(inotify_fd);
		inotify_fd = -1;
		return -r;
	}
	pthread_setname_np(tid, "skvm-files");
	watcher_running = true;
	return 0;
}

/*
 * After fork() the child has no watcher thread and shares the parent's
 * inotify instance: start afresh.  The parent's objects stay registered in
 * the child so that its ioctls on them fail with EIO, as with KVM.
 */
static void kvm_file_atfork_child(void)
{
	pthread_mutex_init(&file_lock, NULL);
	/* the /proc fds name the parent's /proc/PID */
	if (inotify_fd >= 0)
		close(inotify_fd);
	if (proc_fd_dir >= 0)
		close(proc_fd_dir);
	if (proc_maps >= 0)
		close(proc_maps);
	inotify_fd = proc_fd_dir = proc_maps = -1;
	watcher_running = false;
	for (int i = 0; i < FILE_HASH_SIZE; i++)
		for (struct kvm_file *f = file_hash[i]; f; f = f->hash_next)
			f->wd = -1;
}

static void kvm_file_atfork_prepare(void)
{
	pthread_mutex_lock(&file_lock);
}

static void kvm_file_atfork_parent(void)
{
	pthread_mutex_unlock(&file_lock);
}

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void kvm_file_register_atfork(void)
{
	pthread_atfork(kvm_file_atfork_prepare, kvm_file_atfork_parent,
		       kvm_file_atfork_child);
}

/* The kinds skvm maps itself: kvm_run, the stats data, guest_memfd. */
static bool kind_is_mapped(enum kvm_file_kind kind)
{
	return kind == KVM_FILE_VCPU || kind == KVM_FILE_STATS ||
	       kind == KVM_FILE_GMEM;
}

int kvm_file_create(const char *name, size_t size, int flags,
		    enum kvm_file_kind kind, void *obj,
		    void (*release)(struct kvm_file *f),
		    struct kvm_file **filep)
{
	struct kvm_file *f;
	char path[64];
	struct stat st;
	int fd, r;

	pthread_once(&atfork_once, kvm_file_register_atfork);
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	fd = memfd_create(name, (flags & O_CLOEXEC) ? MFD_CLOEXEC : 0);
	if (fd < 0) {
		r = -errno;
		goto err_free;
	}
	if ((size && ftruncate(fd, (off_t)size) < 0) || fstat(fd, &st) < 0) {
		r = -errno;
		goto err_close;
	}
	f->kind = kind;
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->obj = obj;
	f->release = release;
	atomic_init(&f->users, 1);

	pthread_mutex_lock(&file_lock);
	r = watcher_start_locked();
	if (r < 0)
		goto err_unlock;
	/*
	 * Any mask will do: IN_IGNORED, the inode's death, is always
	 * reported.  Files skvm maps itself never die while it does: their
	 * owner tracks them instead (kvm_files_in_use, kvm_file_unregister).
	 */
	f->wd = -1;
	if (!kind_is_mapped(kind)) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		f->wd = inotify_add_watch(inotify_fd, path, IN_DELETE_SELF);
		if (f->wd < 0) {
			r = -errno;
			goto err_unlock;
		}
	}
	f->hash_next = file_hash[file_hash_fn(f->dev, f->ino)];
	file_hash[file_hash_fn(f->dev, f->ino)] = f;
	nr_files++;
	pthread_mutex_unlock(&file_lock);
	*filep = f;
	return fd;

err_unlock:
	pthread_mutex_unlock(&file_lock);
err_close:
	close(fd);
err_free:
	free(f);
	return r;
}

/*
 * The raw system call: skvm's own mappings of its objects must not go
 * through the front's mmap(), which applies the client's rules.  syscall()
 * reads every argument as a long: the offset, passed on the stack, must be
 * one (a literal int 0 leaves the upper half to chance, as clang builds
 * showed: the mapping landed past the end of the file).
 */
void *kvm_file_map(int fd, size_t size)
{
	void *p = (void *)syscall(SYS_mmap, NULL, size, PROT_READ | PROT_WRITE,
				  MAP_SHARED, fd, (off_t)0);

	return p == MAP_FAILED ? NULL : p;
}
