/* SPDX-License-Identifier: MIT */
/*
 * eventfd.h - ioeventfd (and, with an in-process irqchip, irqfd).
 */
#ifndef SKVM_EVENTFD_H
#define SKVM_EVENTFD_H

#include "kvm_host.h"

int kvm_ioeventfd(struct kvm *kvm, const struct kvm_ioeventfd *args);
/* KVM_IRQFD: assign or deassign; -errno as KVM. */
int kvm_irqfd(struct kvm *kvm, const struct kvm_irqfd *args);
/*
 * At KVM_RUN entry: raise the irqfds whose eventfd was written but not yet
 * served by the event thread.  KVM injects inside the client's write(), so
 * a write made before KVM_RUN is seen by the guest, and several writes
 * before it are one edge; this gives skvm the same ordering.
 */
void kvm_irqfd_flush(struct kvm *kvm);
/* Tear down every irqfd and the event thread (VM destruction). */
void kvm_irqfd_release(struct kvm *kvm);
/* Add 1 to an eventfd's counter. */
void kvm_eventfd_signal(int fd);

#endif /* SKVM_EVENTFD_H */
