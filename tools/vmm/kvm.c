// SPDX-License-Identifier: MIT
/*
 * kvm.c - the VM: /dev/kvm, KVM_CREATE_VM, guest RAM as memslots, the
 * in-kernel interrupt controllers when KVM has them, and how the VM stops.
 * Nothing here knows whether /dev/kvm is the kernel's or skvm's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "layout.h"
#include "vmm.h"

#define VMM_TSS_ADDR	0xfffbd000ULL	/* 3 pages VMX needs for real mode */

static int vmm__slot(struct vmm *vmm, uint32_t slot, uint64_t gpa,
		     uint64_t size, void *host)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)host,
	};

	if (!size)
		return 0;
	return ioctl(vmm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) ? -errno : 0;
}

static int vmm__init_ram(struct vmm *vmm, uint64_t bytes)
{
	void *host;
	int ret;

	host = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (host == MAP_FAILED)
		return -errno;
	guest_ram__init(&vmm->ram, host, bytes);
	ret = vmm__slot(vmm, 0, 0, vmm->ram.low, host);
	if (!ret)
		ret = vmm__slot(vmm, 1, LAYOUT_HIGHMEM, bytes - vmm->ram.low,
				vmm->ram.host + vmm->ram.low);
	return ret;
}

static int vmm__init_irqchip(struct vmm *vmm)
{
	struct kvm_pit_config pit = { .flags = 0 };

	if (ioctl(vmm->vm_fd, KVM_CREATE_IRQCHIP, 0))
		return -errno;
	if (ioctl(vmm->vm_fd, KVM_CREATE_PIT2, &pit))
		return -errno;
	return 0;
}

static int vmm__open(struct vmm *vmm)
{
	vmm->sys_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vmm->sys_fd < 0)
		return -errno;
	if (ioctl(vmm->sys_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
		return -EPROTONOSUPPORT;
	vmm->run_size = ioctl(vmm->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vmm->run_size < (int)sizeof(struct kvm_run))
		return -EPROTONOSUPPORT;
	vmm->vm_fd = ioctl(vmm->sys_fd, KVM_CREATE_VM, 0);
	return vmm->vm_fd < 0 ? -errno : 0;
}

/* What needs no /dev/kvm: locks, the stop state, no fds yet. */
void vmm__init_state(struct vmm *vmm, int nr_cpus)
{
	vmm->sys_fd = vmm->vm_fd = -1;
	vmm->nr_cpus = nr_cpus;
	vmm->stop = VMM_RUNNING;
	pthread_mutex_init(&vmm->stop_lock, NULL);
	pthread_cond_init(&vmm->stop_cond, NULL);
	pthread_mutex_init(&vmm->dev_lock, NULL);
}

/*
 * The caller sets vmm->irqchip to ask for the in-kernel PIC, IOAPIC,
 * LAPICs and PIT; it is cleared if KVM lacks them.
 */
int vmm__init(struct vmm *vmm, uint64_t mem_bytes, int nr_cpus)
{
	int ret;

	vmm__init_state(vmm, nr_cpus);
	ret = vmm__open(vmm);
	if (ret)
		return ret;
	/* VMX wants it before the first vCPU; elsewhere it is harmless. */
	ioctl(vmm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)VMM_TSS_ADDR);
	if (vmm->irqchip &&
	    (ioctl(vmm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQCHIP) <= 0 ||
	     ioctl(vmm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_PIT2) <= 0))
		vmm->irqchip = false;
	if (vmm->irqchip) {
		ret = vmm__init_irqchip(vmm);
		if (ret)
			return ret;
	}
	return vmm__init_ram(vmm, mem_bytes);
}

void vmm__exit(struct vmm *vmm)
{
	int i;

	for (i = 0; i < vmm->nr_cpus; i++) {
		if (vmm->cpus[i].run)
			munmap(vmm->cpus[i].run, vmm->run_size);
		if (vmm->cpus[i].fd > 0)
			close(vmm->cpus[i].fd);
	}
	if (vmm->ram.host)
		munmap(vmm->ram.host, vmm->ram.size);
	if (vmm->vm_fd >= 0)
		close(vmm->vm_fd);
	if (vmm->sys_fd >= 0)
		close(vmm->sys_fd);
}

int vmm__irq_line(struct vmm *vmm, int irq, bool level)
{
	struct kvm_irq_level l = { .irq = irq, .level = level };

	if (!vmm->irqchip)
		return 0;		/* polled: nothing to raise */
	return ioctl(vmm->vm_fd, KVM_IRQ_LINE, &l) ? -errno : 0;
}

/* --- Stopping ------------------------------------------------------------ */

/* The first reason wins. */
void vmm__stop(struct vmm *vmm, enum vmm_stop why)
{
	pthread_mutex_lock(&vmm->stop_lock);
	if (vmm->stop == VMM_RUNNING)
		vmm->stop = why;
	pthread_cond_broadcast(&vmm->stop_cond);
	pthread_mutex_unlock(&vmm->stop_lock);
}

enum vmm_stop vmm__stopped(struct vmm *vmm)
{
	enum vmm_stop s;

	pthread_mutex_lock(&vmm->stop_lock);
	s = vmm->stop;
	pthread_mutex_unlock(&vmm->stop_lock);
	return s;
}

enum vmm_stop vmm__wait(struct vmm *vmm)
{
	enum vmm_stop s;

	pthread_mutex_lock(&vmm->stop_lock);
	while (vmm->stop == VMM_RUNNING)
		pthread_cond_wait(&vmm->stop_cond, &vmm->stop_lock);
	s = vmm->stop;
	pthread_mutex_unlock(&vmm->stop_lock);
	return s;
}
