// SPDX-License-Identifier: MIT
/*
 * signal_kick - another thread pthread_kill()s the vCPU thread while its
 * guest spins.  The vCPU thread blocks SIGUSR1 and unblocks it only for
 * KVM_RUN through KVM_SET_SIGNAL_MASK, so KVM_RUN returns -1/EINTR with
 * KVM_EXIT_INTR.  KVM restores the thread's own mask before returning, so
 * the signal is still pending afterwards and the handler has not run: the
 * client collects it with sigtimedwait() (as VMMs do).  If the signal
 * arrives before KVM_RUN starts, KVM_RUN sees it pending and returns at
 * once, so the transcript is the same either way.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "abi.h"

GUEST_CODE(spin,
	".code16\n"
	"1:	inc %ax\n"
	"	jmp 1b\n");

static struct vm v;
static volatile sig_atomic_t handler_ran;
static atomic_int vcpu_ready;

static void on_usr1(int sig)
{
	handler_ran = 1;
}

static void *vcpu_thread(void *arg)
{
	struct kvm_signal_mask *m;
	sigset_t blocked, during_run;
	struct timespec zero = { 0, 0 };
	int rc, e;

	sigemptyset(&blocked);
	sigaddset(&blocked, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &blocked, NULL);

	/* The mask during KVM_RUN: the thread's own, less SIGUSR1. */
	pthread_sigmask(SIG_BLOCK, NULL, &during_run);
	sigdelset(&during_run, SIGUSR1);
	m = calloc(1, sizeof(*m) + 8);
	die_unless(m != NULL, "calloc");
	m->len = 8;			/* the kernel's sigset size */
	memcpy(m->sigset, &during_run, 8);
	chk("KVM_SET_SIGNAL_MASK", ioctl(v.vcpu, KVM_SET_SIGNAL_MASK, m));
	free(m);

	atomic_store(&vcpu_ready, 1);
	rc = ioctl(v.vcpu, KVM_RUN, 0);
	e = errno;
	chk("KVM_RUN", rc);
	if (rc < 0 && e == EINTR)
		print_exit(v.run);

	{
		sigset_t pending;

		sigpending(&pending);
		tr("after KVM_RUN: SIGUSR1 pending=%d handler_ran=%d",
		   sigismember(&pending, SIGUSR1), (int)handler_ran);
	}
	chk("sigtimedwait SIGUSR1", sigtimedwait(&blocked, NULL, &zero));
	chk("sigtimedwait again", sigtimedwait(&blocked, NULL, &zero));
	return NULL;
}

int main(void)
{
	struct sigaction sa;
	pthread_t t;
	struct timespec ms = { 0, 1000000 };
	int kill_rc;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);

	vm_create(&v, 0x10000);
	vm_load(&v, GUEST_CODE_GPA, spin_start, spin_end - spin_start);
	vm_setup_real(&v, GUEST_CODE_GPA);

	die_unless(pthread_create(&t, NULL, vcpu_thread, NULL) == 0,
		   "pthread_create");
	while (!atomic_load(&vcpu_ready))
		nanosleep(&ms, NULL);
	ms.tv_nsec = 50000000;		/* let the guest spin a while */
	nanosleep(&ms, NULL);
	kill_rc = pthread_kill(t, SIGUSR1);
	pthread_join(t, NULL);
	tr("pthread_kill SIGUSR1 -> %d", kill_rc);

	{
		struct kvm_regs r;

		chk("KVM_GET_REGS", ioctl(v.vcpu, KVM_GET_REGS, &r));
		tr("rip in the loop: %d", r.rip >= GUEST_CODE_GPA &&
		   r.rip < GUEST_CODE_GPA + (uint64_t)(spin_end - spin_start));
	}
	vm_destroy(&v);
	return 0;
}
