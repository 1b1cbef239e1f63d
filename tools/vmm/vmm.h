/* SPDX-License-Identifier: MIT */
/*
 * vmm.h - the VMM's objects: the VM (struct vmm), its vCPUs, its
 * user-space devices on the port I/O bus.
 */
#ifndef SKVM_VMM_VMM_H
#define SKVM_VMM_VMM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <linux/kvm.h>

#include "guest_ram.h"
#include "rtc.h"
#include "uart.h"

#define VMM_MAX_CPUS	32
#define VMM_MAX_PIO	32

enum vmm_stop {
	VMM_RUNNING,
	VMM_POWER_OFF,		/* ACPI S5, or every vCPU halted with IF=0 */
	VMM_RESET,		/* i8042 / port 0x92 / 0xcf9 reset, triple fault */
	VMM_QUIT,		/* the user asked (Ctrl-A x, SIGTERM, SIGINT) */
	VMM_ERROR,		/* a KVM failure or an exit we cannot serve */
};

struct vmm;

typedef void (*pio_fn)(struct vmm *vmm, void *opaque, uint16_t port,
		       bool write, uint8_t *data, unsigned int size);

struct pio_range {
	uint16_t base, len;
	pio_fn fn;
	void *opaque;
};

struct serial {
	pthread_mutex_t lock;	/* guards uart and irq_level */
	struct uart uart;
	uint16_t base;
	int irq;
	bool irq_level;
	int out_fd;
};

struct kvm_cpu {
	struct vmm *vmm;
	int id, fd;
	struct kvm_run *run;
	pthread_t thread;
	bool halted;		/* without irqchip: HLT with IF=0 */
};

struct vmm {
	int sys_fd, vm_fd;
	int run_size;
	bool irqchip;		/* KVM_CREATE_IRQCHIP + PIT2 in the kernel */
	bool cpuid_portable;	/* hide what KVM's emulator cannot run */
	struct guest_ram ram;
	int nr_cpus;
	struct kvm_cpu cpus[VMM_MAX_CPUS];

	struct pio_range pio[VMM_MAX_PIO];
	int nr_pio;

	struct serial serial;
	pthread_mutex_t dev_lock;	/* rtc, pci_addr, pm registers */
	struct rtc rtc;
	uint32_t pci_addr;
	uint16_t pm1_en, pm1_cnt;

	pthread_mutex_t stop_lock;	/* guards stop, nr_halted */
	pthread_cond_t stop_cond;
	enum vmm_stop stop;
	int nr_halted;
};

/* kvm.c */
void vmm__init_state(struct vmm *vmm, int nr_cpus);
int vmm__init(struct vmm *vmm, uint64_t mem_bytes, int nr_cpus);
void vmm__exit(struct vmm *vmm);
int vmm__irq_line(struct vmm *vmm, int irq, bool level);
void vmm__stop(struct vmm *vmm, enum vmm_stop why);
enum vmm_stop vmm__stopped(struct vmm *vmm);
enum vmm_stop vmm__wait(struct vmm *vmm);

/* ioport.c */
int ioport__register(struct vmm *vmm, uint16_t base, uint16_t len,
		     pio_fn fn, void *opaque);
void ioport__dispatch(struct vmm *vmm, uint16_t port, bool write,
		      uint8_t *data, unsigned int size);
int devices__init(struct vmm *vmm);

/* serial.c */
int serial__init(struct vmm *vmm, uint16_t base, int irq, int out_fd);
int serial__input(struct vmm *vmm, uint8_t byte);

/* kvm_cpu.c */
struct kvm_cpuid2 *kvm_cpu__supported_cpuid(int sys_fd);
int kvm_cpu__init(struct vmm *vmm, int id);
int kvm_cpu__boot(struct kvm_cpu *cpu, uint64_t entry, uint64_t zero_page);
int kvm_cpu__start(struct kvm_cpu *cpu);
void kvm_cpu__kick(struct kvm_cpu *cpu);

/* term.c */
int term__init(struct vmm *vmm);
void term__exit(void);

#endif
