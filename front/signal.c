// SPDX-License-Identifier: MIT
/*
 * signal.c - signals kick vCPUs out of KVM_RUN.
 *
 * With KVM, a signal that KVM_SET_SIGNAL_MASK lets through makes KVM_RUN
 * return -EINTR.  Here the guest runs on the vCPU thread inside our ioctl,
 * so the core must hear of the signal: once active, the front installs its
 * own trampoline for every handler the program installs, and the trampoline
 * calls kvm_signal_kick_current() before the program's handler.
 *
 * The program keeps its exact view: sigaction()'s oldact reports its own
 * handler and flags, never the trampoline; SIG_DFL and SIG_IGN reach the
 * kernel untouched (no handler runs for them, so nothing to kick, as with
 * KVM).  Before activation every call goes straight to libc.
 *
 * SIGSEGV and SIGBUS are the exception: once active, the front's fault
 * trampoline is always installed for them, whatever the program asked,
 * because a guest access to memslot memory that the host cannot access
 * (PROT_NONE, read-only, unmapped, past a file's end) raises them inside
 * KVM_RUN.  kvm_host_fault() recognises those and turns them into -EFAULT;
 * any other fault goes to the program's disposition, which the front
 * keeps: its handler, or the default action (the trampoline restores
 * SIG_DFL and lets the fault happen again), or, for a signal sent by
 * kill(), SIG_IGN.
 *
 * The trampoline also stands in for SIG_DFL and SIG_IGN of a signal that a
 * vCPU thread blocks and KVM_SET_SIGNAL_MASK unblocks during KVM_RUN
 * (front_signal_watch): KVM lets such a signal interrupt the run and
 * leaves it pending, whatever its disposition.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "front.h"
#include "kvm_file.h"

/* glibc's names for the same entry points; declared only in some modes. */
sighandler_t __sysv_signal(int sig, sighandler_t handler);
sighandler_t sysv_signal(int sig, sighandler_t handler);
sighandler_t bsd_signal(int sig, sighandler_t handler);
sighandler_t ssignal(int sig, sighandler_t handler);
int __sigaction(int sig, const struct sigaction *act, struct sigaction *oldact);

/*
 * The program's handler for each signal whose kernel disposition is our
 * trampoline.  Written under front_sig_lock with every signal blocked;
 * read locklessly by the trampoline through the sequence count (a
 * seqlock: the writer cannot be interrupted on its own thread, so the
 * reader never spins on a writer that waits for it).
 */
struct front_sig {
	atomic_uint seq;
	_Atomic(void *) handler;	/* sa_handler or sa_sigaction */
	atomic_bool siginfo;		/* the program asked for SA_SIGINFO */
	atomic_bool resethand;		/* and SA_RESETHAND (fault signals) */
	atomic_bool stand_in;		/* for SIG_DFL/SIG_IGN (a watched signal) */
	atomic_int flags_added;		/* sa_flags the program did not ask for */
};

static struct front_sig front_sigs[_NSIG];
static pthread_mutex_t front_sig_lock = PTHREAD_MUTEX_INITIALIZER;

struct front_sig_view {
	void *handler;
	bool siginfo;
	bool resethand;
	bool stand_in;
	int flags_added;
};

static struct front_sig_view front_sig_read(int sig)
{
	struct front_sig *s = &front_sigs[sig];
	struct front_sig_view v;
	unsigned int seq;

	do {
		seq = atomic_load_explicit(&s->seq, memory_order_acquire);
		v.handler = atomic_load_explicit(&s->handler, memory_order_relaxed);
		v.siginfo = atomic_load_explicit(&s->siginfo, memory_order_relaxed);
		v.resethand = atomic_load_explicit(&s->resethand,
						   memory_order_relaxed);
		v.stand_in = atomic_load_explicit(&s->stand_in,
						  memory_order_relaxed);
		v.flags_added = atomic_load_explicit(&s->flags_added,
						     memory_order_relaxed);
		atomic_thread_fence(memory_order_acquire);
	} while ((seq & 1) ||
		 seq != atomic_load_explicit(&s->seq, memory_order_relaxed));
	return v;
}

/* Caller holds front_sig_lock with signals blocked. */
static void front_sig_write(int sig, struct front_sig_view v)
{
	struct front_sig *s = &front_sigs[sig];

	atomic_fetch_add_explicit(&s->seq, 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	atomic_store_explicit(&s->handler, v.handler, memory_order_relaxed);
	atomic_store_explicit(&s->siginfo, v.siginfo, memory_order_relaxed);
	atomic_store_explicit(&s->resethand, v.resethand, memory_order_relaxed);
	atomic_store_explicit(&s->stand_in, v.stand_in, memory_order_relaxed);
	atomic_store_explicit(&s->flags_added, v.flags_added,
			      memory_order_relaxed);
	atomic_fetch_add_explicit(&s->seq, 1, memory_order_release);
}

/*
 * Leave sig pending and blocked, as KVM does when KVM_SET_SIGNAL_MASK let
 * it interrupt KVM_RUN but the thread's own mask blocks it: block it for
 * the rest of this handler and after it returns (uc_sigmask), and queue
 * the same siginfo to this thread again.
 */
static void front_sig_defer(int sig, siginfo_t *si, ucontext_t *uc)
{
	sigset_t one;

	sigemptyset(&one);
	sigaddset(&one, sig);
	pthread_sigmask(SIG_BLOCK, &one, NULL);
	sigaddset(&uc->uc_sigmask, sig);
	syscall(SYS_rt_tgsigqueueinfo, getpid(), syscall(SYS_gettid), sig, si);
}

static int front_real_sigaction(int sig, const struct sigaction *act,
				struct sigaction *oldact);

/*
 * Do what SIG_DFL does with sig, which the trampoline got: put SIG_DFL
 * back and, for a sent signal (requeue), queue it again; the kernel
 * delivers it once the handler returns (it is blocked until then), and a
 * fault happens again when its instruction is re-executed.
 */
static void front_sig_redo_default(int sig, siginfo_t *si, bool requeue)
{
	struct sigaction dfl;
	int in_core = front_in_core;

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	front_in_core = 1;
	front_real_sigaction(sig, &dfl, NULL);
	if (requeue)
		syscall(SYS_rt_tgsigqueueinfo, getpid(), syscall(SYS_gettid),
			sig, si);
	front_in_core = in_core;
}

/* Signals whose default action is to do nothing (at delivery). */
static bool front_sig_default_ignores(int sig)
{
	return sig == SIGCHLD || sig == SIGCONT || sig == SIGURG ||
	       sig == SIGWINCH;
}

static void front_sig_trampoline(int sig, siginfo_t *si, void *uc)
{
	struct front_sig_view v;
	int saved_errno = errno, in_core = front_in_core, defer;

	front_in_core = 1;
	defer = kvm_signal_kick_current(sig);
	if (defer)
		front_sig_defer(sig, si, uc);
	errno = saved_errno;
	if (defer) {
		front_in_core = in_core;
		return;
	}

	/*
	 * The signal may have hit this thread inside virt/kvm (KVM_RUN):
	 * what the handler calls is the program's, not skvm's.
	 */
	front_in_core = 0;
	v = front_sig_read(sig);
	if (v.stand_in) {
		/* the signal did not stay pending: SIG_IGN or SIG_DFL's action */
		if (v.handler == (void *)SIG_DFL && !front_sig_default_ignores(sig))
			front_sig_redo_default(sig, si, true);
	} else if (v.handler) {
		if (v.siginfo)
			((void (*)(int, siginfo_t *, void *))v.handler)(sig, si, uc);
		else
			((void (*)(int))v.handler)(sig);
	}
	front_in_core = in_core;
}

/* --- SIGSEGV and SIGBUS ------------------------------------------------------ */

static bool front_sig_is_fault(int sig)
{
	return sig == SIGSEGV || sig == SIGBUS;
}

/*
 * The kernel's disposition of SIGSEGV and SIGBUS once active.  A guest
 * access that faulted returns into the engine's unwinding; anything else
 * is the program's: its handler (SA_RESETHAND done here, the kernel never
 * sees it), or the default action.  SIG_DFL is put back and the signal
 * happens again: a fault re-executes its instruction when the handler
 * returns, a sent signal is queued again (blocked until then).  A fault
 * with SIG_IGN kills as the kernel kills it; a sent one is dropped.
 */
static void front_fault_trampoline(int sig, siginfo_t *si, void *uc)
{
	struct front_sig_view v;
	int saved_errno = errno, in_core = front_in_core;
	bool fault = si && si->si_code > 0, ours;

	front_in_core = 1;
	ours = kvm_host_fault(sig, si, uc);
	front_in_core = in_core;
	if (ours) {
		errno = saved_errno;
		return;
	}
	v = front_sig_read(sig);
	if (v.handler == (void *)SIG_IGN && !fault)
		return;
	if (v.handler == (void *)SIG_DFL || v.handler == (void *)SIG_IGN) {
		front_sig_redo_default(sig, si, !fault);
		errno = saved_errno;
		return;
	}
	if (v.resethand) {
		/* one shot: the program's view and the next fault see SIG_DFL */
		struct front_sig_view d = { 0 };

		front_sig_write(sig, d);
	}
	errno = saved_errno;
	front_sig_trampoline(sig, si, uc);
}

/* --- Locking -------------------------------------------------------------- */

/*
 * sigaction() is async-signal-safe, so a handler may call it while its
 * thread holds the lock: block every signal first.
 */
static void front_sig_lock_all(sigset_t *saved)
{
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, saved);
	pthread_mutex_lock(&front_sig_lock);
}

static void front_sig_unlock_all(const sigset_t *saved)
{
	pthread_mutex_unlock(&front_sig_lock);
	pthread_sigmask(SIG_SETMASK, saved, NULL);
}

/* --- Wrapping ------------------------------------------------------------- */

static int front_real_sigaction(int sig, const struct sigaction *act,
				struct sigaction *oldact)
{
	__typeof__(&sigaction) real = FRONT_REAL(sigaction);

	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	return real(sig, act, oldact);
}

static void *front_handler_of(const struct sigaction *sa)
{
	return (sa->sa_flags & SA_SIGINFO) ? (void *)sa->sa_sigaction :
					     (void *)sa->sa_handler;
}

/* A program's handler: not SIG_DFL/SIG_IGN, not ours, not skvm's own. */
static bool front_is_program_handler(const struct sigaction *sa)
{
	void *h = front_handler_of(sa);

	if (h == (void *)SIG_DFL || h == (void *)SIG_IGN)
		return false;
	return !front_from_self(h);
}

static struct front_sig_view front_view_of(const struct sigaction *sa)
{
	struct front_sig_view v = {
		.handler = front_handler_of(sa),
		.siginfo = !!(sa->sa_flags & SA_SIGINFO),
		.resethand = !!(sa->sa_flags & SA_RESETHAND),
	};

	return v;
}

/* The disposition the kernel gets for the program's sa. */
static void front_wrap(int sig, const struct sigaction *sa, struct sigaction *w)
{
	*w = *sa;
	w->sa_flags |= SA_SIGINFO;
	w->sa_sigaction = front_sig_trampoline;
	if (front_sig_is_fault(sig)) {
		w->sa_flags &= ~SA_RESETHAND;
		w->sa_sigaction = front_fault_trampoline;
	}
}

static bool front_is_trampoline(const struct sigaction *k)
{
	return k->sa_sigaction == front_sig_trampoline ||
	       k->sa_sigaction == front_fault_trampoline;
}

/* The front takes sa over: a program handler, or anything for a fault. */
static bool front_takes(int sig, const struct sigaction *sa)
{
	if (front_sig_is_fault(sig))
		return !front_is_trampoline(sa);
	return front_is_program_handler(sa);
}

/*
 * Turn the kernel's view k back into the program's: if the trampoline is
 * installed, show the handler and SA_SIGINFO bit of v.  Everything else
 * (mask, flags, restorer) is the kernel's, as the program would see it.
 */
static void front_unwrap(int sig, struct sigaction *k, struct front_sig_view v)
{
	if (!front_is_trampoline(k) ||
	    (!v.handler && !front_sig_is_fault(sig) && !v.stand_in))
		return;
	k->sa_flags &= ~(SA_SIGINFO | v.flags_added);
	if (v.resethand)
		k->sa_flags |= SA_RESETHAND;
	if (v.siginfo) {
		k->sa_flags |= SA_SIGINFO;
		k->sa_sigaction = (void (*)(int, siginfo_t *, void *))v.handler;
	} else {
		k->sa_handler = (sighandler_t)v.handler;
	}
}

/*
 * Wrap whatever program handler is installed for sig now.  Caller holds
 * the lock.
 */
static void front_sig_wrap_current(int sig)
{
	struct sigaction k, w;

	if (front_real_sigaction(sig, NULL, &k) || !front_takes(sig, &k))
		return;
	front_sig_write(sig, front_view_of(&k));
	front_wrap(sig, &k, &w);
	front_real_sigaction(sig, &w, NULL);
}

/*
 * The core calls this on a vCPU thread entering KVM_RUN for a signal that
 * the thread blocks and KVM_SET_SIGNAL_MASK unblocks for the run.  KVM
 * lets it interrupt the run and leaves it pending, whatever the program's
 * disposition; here its delivery must reach the trampoline, so the
 * trampoline stands in for SIG_DFL and SIG_IGN (with SA_RESTART, so that
 * other threads' system calls do not see it either).
 */
static void front_signal_watch(int sig)
{
	struct sigaction k, w;
	struct front_sig_view v;
	sigset_t saved;
	void *h;

	if (sig == SIGKILL || sig == SIGSTOP || front_sig_is_fault(sig) ||
	    front_real_sigaction(sig, NULL, &k) || front_is_trampoline(&k))
		return;
	front_sig_lock_all(&saved);
	if (!front_real_sigaction(sig, NULL, &k) && !front_is_trampoline(&k)) {
		h = front_handler_of(&k);
		if (h == (void *)SIG_DFL || h == (void *)SIG_IGN) {
			v = front_view_of(&k);
			v.stand_in = true;
			v.flags_added = SA_RESTART & ~k.sa_flags;
			front_sig_write(sig, v);
			front_wrap(sig, &k, &w);
			w.sa_flags |= SA_RESTART;
			if (front_real_sigaction(sig, &w, NULL))
				front_sig_write(sig, (struct front_sig_view){ 0 });
		} else {
			front_sig_wrap_current(sig);
		}
	}
	front_sig_unlock_all(&saved);
}

void front_signal_activate(void)
{
	sigset_t saved;
	int sig;

	kvm_signal_set_watch(front_signal_watch);
	front_sig_lock_all(&saved);
	for (sig = 1; sig < _NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			front_sig_wrap_current(sig);
	front_sig_unlock_all(&saved);
}

/* sigaction() once active. */
static int front_sigaction_active(int sig, const struct sigaction *act,
				  struct sigaction *oldact)
{
	struct front_sig_view prev;
	struct sigaction w;
	const struct sigaction *kact = act;
	sigset_t saved;
	int ret;

	front_sig_lock_all(&saved);
	prev = front_sig_read(sig);
	if (act && front_takes(sig, act)) {
		front_sig_write(sig, front_view_of(act));
		front_wrap(sig, act, &w);
		kact = &w;
	}
	ret = front_real_sigaction(sig, kact, oldact);
	if (ret && kact == &w)
		front_sig_write(sig, prev);
	if (!ret && oldact)
		front_unwrap(sig, oldact, prev);
	front_sig_unlock_all(&saved);
	return ret;
}

static int front_sigaction(int sig, const struct sigaction *act,
			   struct sigaction *oldact, const void *caller)
{
	int ret;

	if (front_is_active()) {
		if (sig <= 0 || sig >= _NSIG || sig == SIGKILL ||
		    sig == SIGSTOP || front_from_self(caller))
			return front_real_sigaction(sig, act, oldact);
		return front_sigaction_active(sig, act, oldact);
	}

	ret = front_real_sigaction(sig, act, oldact);
	/*
	 * Activation may have scanned sig between our check and the call:
	 * show the program's handler, and wrap what it just installed.
	 */
	if (!ret && front_is_active()) {
		sigset_t saved;

		front_sig_lock_all(&saved);
		if (oldact)
			front_unwrap(sig, oldact, front_sig_read(sig));
		front_sig_wrap_current(sig);
		front_sig_unlock_all(&saved);
	}
	return ret;
}

FRONT_EXPORT int sigaction(int sig, const struct sigaction *act,
			   struct sigaction *oldact)
{
	return front_sigaction(sig, act, oldact, __builtin_return_address(0));
}

FRONT_EXPORT int __sigaction(int sig, const struct sigaction *act,
			     struct sigaction *oldact)
{
	return front_sigaction(sig, act, oldact, __builtin_return_address(0));
}

/* --- signal() and its relatives ------------------------------------------- */

/*
 * glibc's signal() has BSD semantics (handler stays, sig blocked while it
 * runs, system calls restart); sysv_signal() has System V ones (one shot,
 * not blocked, no restart).
 */
static sighandler_t front_signal(int sig, sighandler_t handler, bool bsd,
				 const void *caller)
{
	struct sigaction act, old;

	if (handler == SIG_ERR || sig <= 0 || sig >= _NSIG) {
		errno = EINVAL;
		return SIG_ERR;
	}
	memset(&act, 0, sizeof(act));
	act.sa_handler = handler;
	sigemptyset(&act.sa_mask);
	if (bsd) {
		sigaddset(&act.sa_mask, sig);
		act.sa_flags = SA_RESTART;
	} else {
		act.sa_flags = SA_RESETHAND | SA_NODEFER;
	}
	if (front_sigaction(sig, &act, &old, caller))
		return SIG_ERR;
	return old.sa_handler;
}

#define FRONT_SIGNAL(fn, bsd)						\
FRONT_EXPORT sighandler_t fn(int sig, sighandler_t handler)		\
{									\
	__typeof__(&fn) real;						\
									\
	if (!front_is_active()) {					\
		real = FRONT_REAL(fn);					\
		if (real)						\
			return real(sig, handler);			\
	}								\
	return front_signal(sig, handler, bsd,				\
			    __builtin_return_address(0));		\
}

FRONT_SIGNAL(signal, true)
FRONT_SIGNAL(bsd_signal, true)
FRONT_SIGNAL(ssignal, true)
FRONT_SIGNAL(sysv_signal, false)
FRONT_SIGNAL(__sysv_signal, false)
