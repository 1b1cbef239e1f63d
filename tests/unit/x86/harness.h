/* SPDX-License-Identifier: MIT */
/*
 * harness.h - one VM with one vCPU built by hand around arch/x86/kvm, and
 * the same ioctls on the real /dev/kvm when it exists, so that tables of
 * expected results can be checked against both.
 */
#ifndef SKVM_TEST_X86_HARNESS_H
#define SKVM_TEST_X86_HARNESS_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "kvm_host.h"
#include "x86.h"
#include "fake.h"

struct harness {
	struct kvm kvm;
	struct kvm_vcpu vcpu;
	struct kvm_vcpu *vcpus[1];
	struct kvm_run *run;		/* kvm_run page + PIO page */
};

enum target { SYS, VM, VCPU };

/* An ioctl on one backend; result >= 0 or -errno. */
struct backend {
	const char *name;
	long (*ioctl)(struct backend *b, enum target t, unsigned long req, void *arg);
	struct kvm_run *run;
	struct harness *h;		/* skvm's arch layer */
	int sys_fd, vm_fd, vcpu_fd;	/* /dev/kvm */
};

struct harness *harness_new(void);
void harness_free(struct harness *h);
/* cmocka setup/teardown giving each test a fresh harness in *state. */
int harness_setup(void **state);
int harness_teardown(void **state);

long h_vcpu(struct harness *h, unsigned long req, void *arg);
long h_vm(struct harness *h, unsigned long req, void *arg);
long h_sys(unsigned long req, void *arg);
int h_run(struct harness *h);

/* skvm backend always; the /dev/kvm one when present (returns NULL). */
struct backend *backend_skvm(void);
struct backend *backend_kvm(void);
void backend_free(struct backend *b);

/* An address no process maps: every copy from or to it faults. */
#define BAD_PTR ((void *)8)

#endif
