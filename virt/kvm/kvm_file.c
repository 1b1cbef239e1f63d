// SPDX-License-Identifier: MIT
/*
 * kvm_file.c - KVM objects as real kernel fds.
 *
 * The kernel gives each KVM object an anonymous-inode file.  Here each one
 * is a memfd: the client can close, dup, fork, poll, pread and mmap it with
 * no interposition, and we recognise our fds by their inode (fstat).
 *
 * The kernel frees an object when its file is released: the last fd *and*
 * the last mapping of the open file description are gone.  A memfd gives us
 * the same event through inotify: IN_CLOSE_* is reported when a description
 * of the inode is released, mappings included.  Our own mappings of an
 * object (kvm_run, stats data) go through a second description that lives
 * until the object is destroyed, so every IN_CLOSE we see while the object
 * is registered is the client's description going away.  A watcher thread
 * (started at the first object) turns those events into release() calls.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/stat.h>
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

/*
 * Is any fd of this process still open on the inode?  Guards against an
 * IN_CLOSE from a description the client opened itself through
 * /proc/self/fd (the registry must not drop an object that still has fds).
 */
static bool inode_has_fd(dev_t dev, ino_t ino)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	struct stat st;
	bool found = false;

	if (!d)
		return false;
	while (!found && (de = readdir(d)) != NULL) {
		char *end;
		long fd = strtol(de->d_name, &end, 10);

		if (*end || end == de->d_name || fd == dirfd(d))
			continue;
		found = fstat((int)fd, &st) == 0 && st.st_dev == dev &&
			st.st_ino == ino;
	}
	closedir(d);
	return found;
}

static void watcher_handle(const struct inotify_event *ev)
{
	struct kvm_file *f;

	if (!(ev->mask & (IN_CLOSE_WRITE | IN_CLOSE_NOWRITE)))
		return;
	pthread_mutex_lock(&file_lock);
	f = file_lookup_wd_locked(ev->wd);
	if (!f || inode_has_fd(f->dev, f->ino)) {
		pthread_mutex_unlock(&file_lock);
		return;
	}
	file_unhash_locked(f);
	inotify_rm_watch(inotify_fd, f->wd);
	f->wd = -1;
	pthread_mutex_unlock(&file_lock);
	kvm_file_put(f);	/* the registry's reference */
}

static void *watcher_main(void *arg)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	int fd = (int)(long)arg;

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const void *)p;

			watcher_handle(ev);
			p += sizeof(*ev) + ev->len;
		}
	}
	return NULL;
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
	inotify_fd = inotify_init1(IN_CLOEXEC);
	if (inotify_fd < 0)
		return -errno;
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
	if (inotify_fd >= 0)
		close(inotify_fd);
	inotify_fd = -1;
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
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	f->wd = inotify_add_watch(inotify_fd, path,
				  IN_CLOSE_WRITE | IN_CLOSE_NOWRITE);
	if (f->wd < 0) {
		r = -errno;
		goto err_unlock;
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

void *kvm_file_map(struct kvm_file *f, int fd, size_t size)
{
	char path[64];
	void *p;
	int ours;

	/* A description of our own, so the client's close still releases. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ours = open(path, O_RDWR | O_CLOEXEC);
	if (ours < 0)
		return NULL;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, ours, 0);
	close(ours);
	return p == MAP_FAILED ? NULL : p;
}
