// SPDX-License-Identifier: MIT
/*
 * front_probe.c - a plain program (not linked with libskvm) that the
 * front's tests run with libskvm preloaded.  Each subcommand checks one
 * behaviour of the interposition and exits 0, or prints what failed and
 * exits 1.
 */

/* Call open, open64, openat... by their own names (see interpose.c). */
#undef _FILE_OFFSET_BITS
#undef _FORTIFY_SOURCE

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "front_probe.h"
#include "stub_core.h"

int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);
sighandler_t sysv_signal(int sig, sighandler_t handler);
sighandler_t bsd_signal(int sig, sighandler_t handler);
int __sigaction(int sig, const struct sigaction *act, struct sigaction *oldact);

static int probe_is_skvm(int fd)
{
	static int (*is_skvm)(int);

	if (!is_skvm)
		is_skvm = (int (*)(int))dlsym(RTLD_DEFAULT, "skvm_is_skvm_fd");
	CHECK(is_skvm != NULL);
	return is_skvm(fd);
}

/* An skvm system fd: answers KVM_GET_API_VERSION through ioctl(). */
static void probe_check_kvm_fd(int fd, bool cloexec)
{
	int fdflags;

	CHECK(fd >= 0);
	CHECK(probe_is_skvm(fd));
	CHECK_EQ(ioctl(fd, KVM_GET_API_VERSION, 0), KVM_API_VERSION);
	fdflags = fcntl(fd, F_GETFD);
	CHECK(fdflags >= 0);
	CHECK_EQ(!!(fdflags & FD_CLOEXEC), cloexec);
	CHECK_EQ(close(fd), 0);
}

/* Whatever the kernel says, not an skvm fd. */
static void probe_check_not_kvm(int fd)
{
	if (fd >= 0) {
		CHECK(!probe_is_skvm(fd));
		close(fd);
	}
}

/* --- open ------------------------------------------------------------------ */

static int probe_open(void)
{
	volatile int rdwr = O_RDWR;	/* not constant: no inlining of flags */
	int dev, tmp;

	probe_check_kvm_fd(open("/dev/kvm", O_RDWR), false);
	probe_check_kvm_fd(open("/dev/kvm", O_RDWR | O_CLOEXEC), true);
	probe_check_kvm_fd(open64("/dev/kvm", O_RDWR), false);
	probe_check_kvm_fd(open64("/dev/kvm", O_RDWR | O_CLOEXEC), true);
	probe_check_kvm_fd(openat(AT_FDCWD, "/dev/kvm", O_RDWR), false);
	probe_check_kvm_fd(openat64(AT_FDCWD, "/dev/kvm", O_RDWR | O_CLOEXEC), true);
	probe_check_kvm_fd(__open_2("/dev/kvm", rdwr), false);
	probe_check_kvm_fd(__open64_2("/dev/kvm", rdwr | O_CLOEXEC), true);
	probe_check_kvm_fd(__openat_2(AT_FDCWD, "/dev/kvm", rdwr), false);
	probe_check_kvm_fd(__openat64_2(AT_FDCWD, "/dev/kvm", rdwr), false);
	probe_check_kvm_fd(probe_fortified_open("/dev/kvm", rdwr | O_CLOEXEC), true);
	probe_check_kvm_fd(probe_fortified_openat(AT_FDCWD, "/dev/kvm", rdwr), false);

	/* Spellings of the same path. */
	probe_check_kvm_fd(open("//dev/kvm", O_RDWR), false);
	probe_check_kvm_fd(open("/dev//kvm", O_RDWR), false);
	probe_check_kvm_fd(open("/dev/./kvm", O_RDWR), false);
	probe_check_kvm_fd(open("/dev/../dev/kvm", O_RDWR), false);
	probe_check_kvm_fd(open("/../../dev/kvm", O_RDWR), false);
	probe_check_kvm_fd(open("/tmp/../dev/kvm", O_RDWR), false);

	/* Relative to a directory fd, and to the cwd. */
	dev = open("/dev", O_RDONLY | O_DIRECTORY);
	CHECK(dev >= 0);
	probe_check_kvm_fd(openat(dev, "kvm", O_RDWR), false);
	probe_check_kvm_fd(openat(dev, "./kvm", O_RDWR | O_CLOEXEC), true);
	probe_check_kvm_fd(__openat_2(dev, "kvm", rdwr), false);
	probe_check_kvm_fd(openat(dev, "/dev/kvm", O_RDWR), false);
	tmp = open("/tmp", O_RDONLY | O_DIRECTORY);
	CHECK(tmp >= 0);
	probe_check_kvm_fd(openat(tmp, "../dev/kvm", O_RDWR), false);
	CHECK_EQ(chdir("/dev"), 0);
	probe_check_kvm_fd(open("kvm", O_RDWR), false);
	probe_check_kvm_fd(open("./kvm", O_RDWR), false);
	CHECK_EQ(chdir("/tmp"), 0);
	probe_check_kvm_fd(open("../dev/kvm", O_RDWR), false);
	close(dev);
	close(tmp);

	/* Flags the kernel checks before the device's open. */
	probe_check_kvm_fd(open("/dev/kvm", O_RDWR | O_CREAT, 0600), false);
	CHECK_ERR(open("/dev/kvm", O_RDWR | O_CREAT | O_EXCL, 0600), EEXIST);
	CHECK_ERR(open("/dev/kvm", O_RDONLY | O_DIRECTORY), ENOTDIR);

	/* Not /dev/kvm: never an skvm fd. */
	probe_check_not_kvm(open("/dev/kvm/", O_RDWR));
	probe_check_not_kvm(open("/dev/kvmx", O_RDWR));
	probe_check_not_kvm(open("/dev/xkvm", O_RDWR));
	probe_check_not_kvm(openat(AT_FDCWD, "dev/kvm", O_RDWR));
	CHECK_ERR(open("/nonexistent/kvm", O_RDWR), ENOENT);
	return 0;
}

/* --- paths that are not /dev/kvm -------------------------------------------- */

static void probe_check_file(int fd, const char *text, mode_t mode)
{
	struct stat st;
	char buf[64] = "";

	CHECK(fd >= 0);
	CHECK(!probe_is_skvm(fd));
	CHECK_EQ(fstat(fd, &st), 0);
	CHECK_EQ(st.st_mode & 07777, mode);
	CHECK_EQ(pread(fd, buf, sizeof(buf) - 1, 0), (ssize_t)strlen(text));
	CHECK(!strcmp(buf, text));
	close(fd);
}

static int probe_passthrough(void)
{
	char dir[] = "/tmp/skvm-front-XXXXXX", path[PATH_MAX];
	volatile int rdonly = O_RDONLY;
	int fd, dfd;

	umask(0);
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/kvm", dir);

	/* The mode argument of O_CREAT arrives intact. */
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0640);
	CHECK(fd >= 0);
	CHECK_EQ(write(fd, "hello", 5), 5);
	close(fd);
	probe_check_file(open(path, O_RDONLY), "hello", 0640);
	probe_check_file(open64(path, O_RDONLY), "hello", 0640);
	probe_check_file(__open_2(path, rdonly), "hello", 0640);
	probe_check_file(probe_fortified_open(path, rdonly), "hello", 0640);
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	CHECK(dfd >= 0);
	probe_check_file(openat(dfd, "kvm", O_RDONLY), "hello", 0640);
	probe_check_file(__openat64_2(dfd, "kvm", rdonly), "hello", 0640);

	fd = openat64(dfd, "other", O_RDWR | O_CREAT, 0604);
	CHECK(fd >= 0);
	CHECK_EQ(write(fd, "x", 1), 1);
	probe_check_file(fd, "x", 0604);

	/* O_TMPFILE takes a mode too. */
	fd = open(dir, O_TMPFILE | O_RDWR, 0612);
	if (fd >= 0) {
		CHECK_EQ(write(fd, "t", 1), 1);
		probe_check_file(fd, "t", 0612);
	} else {
		CHECK(errno == EOPNOTSUPP || errno == EISDIR);
	}

	/* Errors come back as libc gives them. */
	CHECK_ERR(open("/nonexistent/file", O_RDONLY), ENOENT);
	CHECK_ERR(openat(-1, "kvm", O_RDONLY), EBADF);

	unlinkat(dfd, "kvm", 0);
	unlinkat(dfd, "other", 0);
	close(dfd);
	CHECK_EQ(rmdir(dir), 0);
	return 0;
}

/* --- ioctl and mmap ------------------------------------------------------- */

static int probe_ioctl(void)
{
	int p[2], n = -1, fd;

	CHECK_EQ(pipe(p), 0);
	CHECK_EQ(write(p[1], "hello", 5), 5);
	CHECK_EQ(ioctl(p[0], FIONREAD, &n), 0);
	CHECK_EQ(n, 5);
	CHECK_ERR(ioctl(p[0], KVM_GET_API_VERSION, 0), ENOTTY);
	CHECK_ERR(ioctl(-1, FIONREAD, &n), EBADF);

	/* The same, once the front is awake. */
	fd = open("/dev/kvm", O_RDWR);
	CHECK(fd >= 0);
	n = -1;
	CHECK_EQ(ioctl(p[0], FIONREAD, &n), 0);
	CHECK_EQ(n, 5);
	CHECK_ERR(ioctl(p[0], KVM_GET_API_VERSION, 0), ENOTTY);
	CHECK_ERR(ioctl(-1, FIONREAD, &n), EBADF);

	/* skvm's answers and its errno. */
	CHECK_EQ(ioctl(fd, KVM_GET_API_VERSION, 0), KVM_API_VERSION);
	CHECK_EQ(ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY), 1);
	CHECK_ERR(ioctl(fd, _IO(KVMIO, 0xff), 0), EINVAL);
	close(fd);
	close(p[0]);
	close(p[1]);
	return 0;
}

static int probe_mmap(void)
{
	char path[] = "/tmp/skvm-front-mmap-XXXXXX";
	int fd, kfd;
	char *p;

	/* Anonymous and file mappings. */
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	munmap(p, 4096);
	fd = mkstemp(path);
	CHECK(fd >= 0);
	unlink(path);
	CHECK_EQ(write(fd, "abc", 3), 3);
	kfd = open("/dev/kvm", O_RDWR);
	CHECK(kfd >= 0);
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED);
	CHECK(!memcmp(p, "abc", 3));
	munmap(p, 4096);
	p = mmap64(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK(p != MAP_FAILED);
	munmap(p, 4096);
	CHECK_ERR_PTR(mmap(NULL, 4096, PROT_READ, MAP_SHARED, -1, 0), EBADF);
	close(fd);
	close(kfd);
	return 0;
}

/* Mappings of the stub's memfds in /proc/self/maps. */
static int probe_stub_mappings(void)
{
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");
	int n = 0;

	CHECK(f != NULL);
	while (fgets(line, sizeof(line), f))
		n += strstr(line, "memfd:kvm-stub") != NULL;
	fclose(f);
	return n;
}

/* What the stub core allows and refuses (the real core differs). */
static int probe_stub_mmap(void)
{
	atomic_int *fixups = dlsym(RTLD_DEFAULT, "skvm_front_stub_fixups");
	int fd = open("/dev/kvm", O_RDWR), maps;
	void *p;

	CHECK(fd >= 0);
	CHECK(fixups != NULL);
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED);
	CHECK_EQ(atomic_load(fixups), 1);
	munmap(p, 4096);
	p = mmap64(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED);
	CHECK_EQ(atomic_load(fixups), 2);
	munmap(p, 4096);

	/* A failed fixup leaves no mapping behind. */
	maps = probe_stub_mappings();
	CHECK_ERR_PTR(mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd,
			   STUB_FIXUP_FAIL_OFFSET), ENOMEM);
	CHECK_EQ(atomic_load(fixups), 3);
	CHECK_EQ(probe_stub_mappings(), maps);
	CHECK_ERR_PTR(mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd,
			   STUB_REFUSED_OFFSET), ENODEV);
	CHECK_ERR_PTR(mmap64(NULL, 4096, PROT_READ, MAP_SHARED, fd,
			     STUB_REFUSED_OFFSET), ENODEV);
	CHECK_EQ(atomic_load(fixups), 3);	/* none for refused maps */
	/* skvm's own calls are not the program's: they reach libc. */
	CHECK_EQ(ioctl(fd, STUB_IOCTL_SELF_MMAP, 0), 0);
	CHECK_EQ(ioctl(fd, STUB_IOCTL_SELF_IOCTL, 0), 0);
	close(fd);
	return 0;
}

/* What KVM allows and refuses: needs the real core. */
static int probe_core_mmap(void)
{
	int sys, vm, vcpu;
	long size;
	struct kvm_run *run;

	sys = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	CHECK(sys >= 0);
	CHECK_ERR_PTR(mmap(NULL, 4096, PROT_READ, MAP_SHARED, sys, 0), ENODEV);
	size = ioctl(sys, KVM_GET_VCPU_MMAP_SIZE, 0);
	CHECK(size >= 4096);
	vm = ioctl(sys, KVM_CREATE_VM, 0);
	CHECK(vm >= 0);
	CHECK(probe_is_skvm(vm));
	CHECK_ERR_PTR(mmap(NULL, 4096, PROT_READ, MAP_SHARED, vm, 0), ENODEV);
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	CHECK(vcpu >= 0);
	CHECK(probe_is_skvm(vcpu));
	run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	CHECK(run != MAP_FAILED);
	run->immediate_exit = 0;
	munmap(run, size);
	close(vcpu);
	close(vm);
	close(sys);
	return 0;
}

/* --- children ----------------------------------------------------------------- */

static void probe_check_children(void)
{
	char buf[64] = "";
	FILE *f;

	f = popen("sh -c 'echo ok'", "r");
	CHECK(f != NULL);
	CHECK(fgets(buf, sizeof(buf), f) != NULL);
	CHECK_EQ(pclose(f), 0);
	CHECK(!strcmp(buf, "ok\n"));
	CHECK_EQ(system("addr2line --version >/dev/null"), 0);
}

static int probe_children(void)
{
	int fd;

	probe_check_children();
	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	CHECK(fd >= 0);
	probe_check_children();
	close(fd);
	return 0;
}

/* --- signals ------------------------------------------------------------------- */

/* The kernel's struct sigaction, to see what is really installed. */
struct probe_ksigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	uint64_t mask;
};

static void *probe_kernel_handler(int sig)
{
	struct probe_ksigaction k;

	CHECK_EQ(syscall(SYS_rt_sigaction, sig, NULL, &k, 8), 0);
	return k.handler;
}

static volatile sig_atomic_t probe_hits, probe_kicks_seen, probe_errno_ok;
static volatile sig_atomic_t probe_signo, probe_value;
static atomic_int *probe_stub_kicks;

static void probe_note(int sig)
{
	probe_hits++;
	probe_signo = sig;
	probe_errno_ok = errno == 1234;
	if (probe_stub_kicks)
		probe_kicks_seen = atomic_load(probe_stub_kicks);
}

static void probe_plain(int sig)
{
	probe_note(sig);
}

static void probe_info(int sig, siginfo_t *si, void *uc)
{
	probe_note(sig);
	probe_value = si->si_signo == sig ? si->si_value.sival_int : -1;
}

static volatile sig_atomic_t probe_kvm_fd = -1, probe_handler_api;

static void probe_call_kvm(int sig)
{
	int saved = errno;

	probe_handler_api = ioctl(probe_kvm_fd, KVM_GET_API_VERSION, 0);
	errno = saved;
}

static void probe_other(int sig)
{
}

static void probe_zero(struct sigaction *sa)
{
	memset(sa, 0, sizeof(*sa));
}

/* Same handler, flags, mask and restorer. */
static void probe_check_same(const struct sigaction *a, const struct sigaction *b)
{
	int s;

	CHECK((void *)a->sa_handler == (void *)b->sa_handler);
	CHECK_EQ(a->sa_flags, b->sa_flags);
	CHECK((void *)a->sa_restorer == (void *)b->sa_restorer);
	for (s = 1; s < 65; s++)
		CHECK_EQ(sigismember(&a->sa_mask, s), sigismember(&b->sa_mask, s));
}

static void probe_make(struct sigaction *sa, bool info)
{
	probe_zero(sa);
	if (info) {
		sa->sa_sigaction = probe_info;
		sa->sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
	} else {
		sa->sa_handler = probe_plain;
		sa->sa_flags = SA_NODEFER;
	}
	sigemptyset(&sa->sa_mask);
	sigaddset(&sa->sa_mask, SIGTERM);
	sigaddset(&sa->sa_mask, SIGRTMIN + 3);
}

/* What sigaction() reports for sa when nothing stands in between. */
static void probe_reference(int sig, const struct sigaction *sa,
			    struct sigaction *ref)
{
	struct sigaction dfl;

	probe_zero(&dfl);
	dfl.sa_handler = SIG_DFL;
	probe_zero(ref);
	CHECK_EQ(sigaction(sig, sa, NULL), 0);
	CHECK_EQ(sigaction(sig, &dfl, ref), 0);
}

static int probe_sig_exact(void)
{
	struct sigaction info, plain, ign, ref_info, ref_plain, ref_ign, got;
	int fd;

	probe_make(&info, true);
	probe_make(&plain, false);
	probe_zero(&ign);
	ign.sa_handler = SIG_IGN;
	probe_reference(SIGUSR1, &info, &ref_info);
	probe_reference(SIGUSR1, &plain, &ref_plain);
	probe_reference(SIGUSR1, &ign, &ref_ign);

	/* Before activation, the kernel holds the program's handlers. */
	CHECK_EQ(sigaction(SIGUSR1, &info, NULL), 0);
	CHECK_EQ(sigaction(SIGUSR2, &plain, NULL), 0);
	CHECK_EQ(sigaction(SIGHUP, &ign, NULL), 0);
	CHECK(probe_kernel_handler(SIGUSR1) == (void *)probe_info);
	CHECK(probe_kernel_handler(SIGUSR2) == (void *)probe_plain);

	fd = open("/dev/kvm", O_RDWR);
	CHECK(fd >= 0);

	/* Wrapped in the kernel, exact for the program. */
	CHECK(probe_kernel_handler(SIGUSR1) != (void *)probe_info);
	CHECK(probe_kernel_handler(SIGUSR2) != (void *)probe_plain);
	CHECK(probe_kernel_handler(SIGHUP) == (void *)SIG_IGN);
	probe_zero(&got);
	CHECK_EQ(sigaction(SIGUSR1, NULL, &got), 0);
	probe_check_same(&got, &ref_info);
	probe_zero(&got);
	CHECK_EQ(sigaction(SIGUSR2, NULL, &got), 0);
	probe_check_same(&got, &ref_plain);
	probe_zero(&got);
	CHECK_EQ(sigaction(SIGHUP, NULL, &got), 0);
	probe_check_same(&got, &ref_ign);

	/* Installed after activation: oldact is the previous program handler. */
	probe_zero(&got);
	CHECK_EQ(sigaction(SIGUSR1, &plain, &got), 0);
	probe_check_same(&got, &ref_info);
	CHECK(probe_kernel_handler(SIGUSR1) != (void *)probe_plain);
	probe_zero(&got);
	CHECK_EQ(sigaction(SIGUSR1, &info, &got), 0);
	probe_check_same(&got, &ref_plain);
	probe_zero(&got);
	CHECK_EQ(sigaction(SIGUSR1, &ign, &got), 0);
	probe_check_same(&got, &ref_info);
	CHECK(probe_kernel_handler(SIGUSR1) == (void *)SIG_IGN);
	probe_zero(&got);
	CHECK_EQ(sigaction(SIGUSR1, NULL, &got), 0);
	probe_check_same(&got, &ref_ign);
	CHECK_EQ(raise(SIGUSR1), 0);	/* ignored */

	/* __sigaction is the same entry point. */
	probe_zero(&got);
	CHECK_EQ(__sigaction(SIGUSR2, NULL, &got), 0);
	probe_check_same(&got, &ref_plain);

	/* Invalid requests fail as libc makes them fail. */
	CHECK_ERR(sigaction(SIGKILL, &plain, NULL), EINVAL);
	CHECK_ERR(sigaction(0, &plain, NULL), EINVAL);
	CHECK_ERR(sigaction(65, &plain, NULL), EINVAL);
	close(fd);
	return 0;
}

static void probe_expect_delivery(int sig, bool stub, int kicks_before)
{
	probe_hits = 0;
	errno = 1234;
	CHECK_EQ(raise(sig), 0);
	CHECK_EQ(probe_hits, 1);
	CHECK_EQ(probe_signo, sig);
	CHECK(probe_errno_ok);
	if (stub)
		CHECK_EQ(probe_kicks_seen, kicks_before + 1);
}

static int probe_sig_kick(bool stub)
{
	struct sigaction info;
	union sigval val = { .sival_int = 42 };
	int fd, kicks = 0;

	if (stub) {
		probe_stub_kicks = dlsym(RTLD_DEFAULT, "skvm_front_stub_kicks");
		CHECK(probe_stub_kicks != NULL);
	}
	probe_make(&info, true);
	CHECK_EQ(sigaction(SIGUSR1, &info, NULL), 0);	/* before activation */
	CHECK(signal(SIGUSR2, probe_plain) != SIG_ERR);

	/* Nothing kicks before activation. */
	probe_expect_delivery(SIGUSR2, false, 0);
	if (stub)
		CHECK_EQ(atomic_load(probe_stub_kicks), 0);

	fd = open("/dev/kvm", O_RDWR);
	CHECK(fd >= 0);

	/* Handlers from before activation: the kick runs first. */
	probe_value = 0;
	probe_hits = 0;
	errno = 1234;
	CHECK_EQ(sigqueue(getpid(), SIGUSR1, val), 0);
	CHECK_EQ(probe_hits, 1);
	CHECK_EQ(probe_value, 42);
	CHECK(probe_errno_ok);
	if (stub) {
		CHECK_EQ(probe_kicks_seen, 1);
		kicks = 1;
	}
	probe_expect_delivery(SIGUSR2, stub, kicks++);

	/* Installed after activation, through each entry point. */
	CHECK(signal(SIGWINCH, probe_plain) == SIG_DFL);
	probe_expect_delivery(SIGWINCH, stub, kicks++);
	CHECK(bsd_signal(SIGWINCH, probe_other) == probe_plain);
	CHECK(signal(SIGWINCH, probe_plain) == probe_other);
	probe_expect_delivery(SIGWINCH, stub, kicks++);
	probe_expect_delivery(SIGWINCH, stub, kicks++);	/* stays installed */

	/* System V's one-shot handler is reset to SIG_DFL by the kernel. */
	CHECK(sysv_signal(SIGURG, probe_plain) == SIG_DFL);
	probe_expect_delivery(SIGURG, stub, kicks++);
	CHECK(signal(SIGURG, SIG_IGN) == SIG_DFL);
	CHECK_EQ(raise(SIGURG), 0);

	/* A real-time signal with SA_SIGINFO set after activation. */
	CHECK_EQ(sigaction(SIGRTMIN + 1, &info, NULL), 0);
	probe_value = 0;
	CHECK_EQ(sigqueue(getpid(), SIGRTMIN + 1, val), 0);
	CHECK_EQ(probe_value, 42);
	if (stub)
		CHECK_EQ(atomic_load(probe_stub_kicks), kicks + 1);

	/*
	 * A signal taken inside virt/kvm (as in KVM_RUN): the handler's own
	 * calls are the program's, served by skvm.
	 */
	if (stub) {
		probe_kvm_fd = fd;
		probe_handler_api = 0;
		CHECK(signal(SIGUSR2, probe_call_kvm) != SIG_ERR);
		CHECK_EQ(ioctl(fd, STUB_IOCTL_RAISE, SIGUSR2), 0);
		CHECK_EQ(probe_handler_api, KVM_API_VERSION);
	}

	CHECK(signal(0, probe_plain) == SIG_ERR && errno == EINVAL);
	CHECK(signal(SIGUSR1, SIG_ERR) == SIG_ERR && errno == EINVAL);
	close(fd);
	return 0;
}

/*
 * A signal that the vCPU thread blocks and KVM_SET_SIGNAL_MASK unblocks
 * interrupts KVM_RUN and stays pending, with no handler installed
 * (SIG_DFL, whose action would kill us, and SIG_IGN), as with KVM; the
 * program still sees its own disposition.  The guest spins on `jmp $` at
 * the reset vector.
 */
struct probe_kicker {
	pthread_t target;
	int sig;
};

static void *probe_kick_later(void *arg)
{
	struct probe_kicker *k = arg;

	usleep(20000);
	pthread_kill(k->target, k->sig);
	return NULL;
}

static void probe_run_interrupted(int vcpu, struct kvm_run *run, int sig,
				  bool during)
{
	struct probe_kicker k = { pthread_self(), sig };
	pthread_t t;
	sigset_t pending, one;
	int got = 0;

	if (during)
		CHECK_EQ(pthread_create(&t, NULL, probe_kick_later, &k), 0);
	else
		CHECK_EQ(pthread_kill(pthread_self(), sig), 0);
	CHECK_EQ(ioctl(vcpu, KVM_RUN, 0), -1);
	CHECK_EQ(errno, EINTR);
	CHECK_EQ(run->exit_reason, KVM_EXIT_INTR);
	if (during)
		CHECK_EQ(pthread_join(t, NULL), 0);
	CHECK_EQ(sigpending(&pending), 0);
	CHECK_EQ(sigismember(&pending, sig), 1);
	sigemptyset(&one);
	sigaddset(&one, sig);
	CHECK_EQ(sigwait(&one, &got), 0);
	CHECK_EQ(got, sig);
}

static int probe_core_sig_pending(void)
{
	struct kvm_userspace_memory_region mem;
	struct kvm_signal_mask *kmask;
	struct sigaction old;
	struct kvm_run *run;
	sigset_t block, cur;
	uint8_t *rom;
	int sys, vm, vcpu, status;
	long size;
	pid_t pid;

	CHECK(signal(SIGUSR2, SIG_IGN) == SIG_DFL);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGUSR2);
	CHECK_EQ(pthread_sigmask(SIG_BLOCK, &block, &cur), 0);

	sys = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	CHECK(sys >= 0);
	size = ioctl(sys, KVM_GET_VCPU_MMAP_SIZE, 0);
	vm = ioctl(sys, KVM_CREATE_VM, 0);
	CHECK(vm >= 0);
	rom = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(rom != MAP_FAILED);
	rom[0xfff0] = 0xeb;	/* jmp $ */
	rom[0xfff1] = 0xfe;
	mem = (struct kvm_userspace_memory_region){
		.slot = 0,
		.guest_phys_addr = 0xffff0000,
		.memory_size = 0x10000,
		.userspace_addr = (uintptr_t)rom,
	};
	CHECK_EQ(ioctl(vm, KVM_SET_USER_MEMORY_REGION, &mem), 0);
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	CHECK(vcpu >= 0);
	run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	CHECK(run != MAP_FAILED);

	/* the run unblocks both; the kernel's sigset_t is 8 bytes */
	kmask = calloc(1, sizeof(*kmask) + 8);
	CHECK(kmask != NULL);
	kmask->len = 8;
	CHECK_EQ(ioctl(vcpu, KVM_SET_SIGNAL_MASK, kmask), 0);

	probe_run_interrupted(vcpu, run, SIGUSR1, false);
	probe_run_interrupted(vcpu, run, SIGUSR1, true);
	probe_run_interrupted(vcpu, run, SIGUSR2, false);
	probe_run_interrupted(vcpu, run, SIGUSR2, true);

	/* The program's view is unchanged. */
	CHECK_EQ(sigaction(SIGUSR1, NULL, &old), 0);
	CHECK(old.sa_handler == SIG_DFL);
	CHECK(!(old.sa_flags & SA_SIGINFO));
	CHECK(signal(SIGUSR2, SIG_DFL) == SIG_IGN);

	/* Outside KVM_RUN, SIGUSR1 still does what SIG_DFL does. */
	pid = fork();
	CHECK(pid >= 0);
	if (!pid) {
		pthread_sigmask(SIG_UNBLOCK, &block, NULL);
		raise(SIGUSR1);
		_exit(0);
	}
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGUSR1);

	free(kmask);
	munmap(run, size);
	close(vcpu);
	close(vm);
	close(sys);
	munmap(rom, 0x10000);
	return 0;
}

/* Nothing changes in a process that has not opened /dev/kvm. */
static int probe_lazy(void)
{
	struct dirent *d;
	DIR *task;
	int threads = 0;

	CHECK(signal(SIGUSR1, probe_plain) == SIG_DFL);
	CHECK(probe_kernel_handler(SIGUSR1) == (void *)probe_plain);
	CHECK(sysv_signal(SIGUSR2, probe_plain) == SIG_DFL);
	CHECK(probe_kernel_handler(SIGUSR2) == (void *)probe_plain);
	task = opendir("/proc/self/task");
	CHECK(task != NULL);
	while ((d = readdir(task)))
		threads += d->d_name[0] != '.';
	closedir(task);
	CHECK_EQ(threads, 1);
	return 0;
}

static int probe_env(void)
{
	const char *v = getenv("LD_PRELOAD");

	printf("%s\n", v ? v : "");
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IONBF, 0);
	if (!strcmp(cmd, "open"))
		return probe_open();
	if (!strcmp(cmd, "passthrough"))
		return probe_passthrough();
	if (!strcmp(cmd, "ioctl"))
		return probe_ioctl();
	if (!strcmp(cmd, "mmap"))
		return probe_mmap();
	if (!strcmp(cmd, "stub-mmap"))
		return probe_stub_mmap();
	if (!strcmp(cmd, "core-mmap"))
		return probe_core_mmap();
	if (!strcmp(cmd, "children"))
		return probe_children();
	if (!strcmp(cmd, "sig-exact"))
		return probe_sig_exact();
	if (!strcmp(cmd, "sig-kick"))
		return probe_sig_kick(false);
	if (!strcmp(cmd, "stub-sig-kick"))
		return probe_sig_kick(true);
	if (!strcmp(cmd, "core-sig-pending"))
		return probe_core_sig_pending();
	if (!strcmp(cmd, "lazy"))
		return probe_lazy();
	if (!strcmp(cmd, "env"))
		return probe_env();
	fprintf(stderr, "front_probe: unknown command '%s'\n", cmd);
	return 2;
}
