#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the hand-written seed inputs of tests/fuzz/corpus/.

Each seed is a program in the harness's encoding (docs/fuzz-ioctl.md),
spelled with the helpers below.  ioctl indices are read from the table in
ioctls.c, so the seeds follow it when it changes; run this script again
after editing the table or the encoding:

    python3 tests/fuzz/make-seeds.py

Minimized findings are named finding-* in corpus/ (fixed) or findings/
(open); this script only rewrites the files it names.
"""
import os
import re
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, 'corpus')
FINDINGS_DIR = os.path.join(HERE, 'findings')

TABLE = re.findall(r'^\t([PV])\((KVM_\w+), (\w+)\),',
                   open(os.path.join(HERE, 'ioctls.c')).read(), re.M)

# operation numbers (harness.c, fz_ops[])
OPEN, CREATE_VM, CREATE_VCPU, MEMSLOT, IOCTL, IOCTL_VALUE, RUN, RAW, \
    MMAP, MAP_WRITE, MUNMAP, CLOSE, DUP, EVENTFD, EVENTFD_WRITE, PREAD, \
    GUEST_WRITE, PAUSE, SIGNAL_MASK = range(19)

# fz_place() choices
GOOD, ODD, NULL, EIGHT, NONE, RO, STRADDLE, KERNEL, NONCANON = \
    0, 16, 17, 18, 19, 20, 21, 22, 23

# fz_gpas[] indices
GPA = {0: 0, 0x1000: 1, 0xd0000: 2, 0xf0000: 3, 0x100000: 4,
       0xfec00000: 5, 0xfee00000: 6, 0xffff0000: 7, 0xfffff000: 8}

# capabilities and flags of <linux/kvm.h>
CAP_MAX_VCPU_ID = 128
CAP_MANUAL_DIRTY_LOG_PROTECT2 = 168
CAP_DIRTY_LOG_RING = 192
DEV_TYPE_VFIO = 4
CREATE_DEVICE_TEST = 1
IOEVENTFD_FLAG_PIO = 2
IRQFD_FLAG_RESAMPLE = 2


def u16(v):
    return struct.pack('<H', v & 0xffff)


def u32(v):
    return struct.pack('<I', v & 0xffffffff)


def u64(v):
    return struct.pack('<Q', v & 0xffffffffffffffff)


def index(name, kind):
    for i, (_, n, k) in enumerate(TABLE):
        if n == name and k == kind:
            return i
    raise KeyError((name, kind))


def value(v):
    """fz_value(): the shortest encoding of v."""
    if v < 0x20:
        return bytes([v])
    if v < 0x100:
        return bytes([0x80, v])
    if v < 0x10000:
        return bytes([0xc0]) + u16(v)
    if v < 0x100000000:
        return bytes([0xe0]) + u32(v)
    return bytes([0xf0]) + u64(v)


def op_open():
    return bytes([OPEN, 1])


def op_vm(sys=0):
    return bytes([CREATE_VM, sys, 0])


def op_vcpu(vcpu_id, vm=0):
    return bytes([CREATE_VCPU, vm]) + u16(vcpu_id)


def op_memslot(slot, gpa, size_code, buf, page=0, flags=0, vm=0, v2=False,
               place=GOOD, size=0):
    """size_code: fz_pick_size() byte (3, 4: 1 + size pages; 6, 7: size);
    buf: a guest buffer (0-3), else fz_pick_hva()'s byte."""
    how = (1 if v2 else 0) | place << 1
    size_arg = {3: bytes([size & 0xff]), 4: bytes([size & 0xff]), 6: u64(size),
                7: u64(size)}.get(size_code % 8, b'')
    hva = bytes([buf, page]) if buf < 0x90 else bytes([buf])
    b = bytes([MEMSLOT, vm, how, slot, flags, GPA[gpa], size_code]) + \
        size_arg + hva
    if v2:
        b += bytes([0xff, 0])
    return b


def op_ioctl(name, kind, payload=b'', fd=0, place=GOOD, fix=b''):
    return bytes([IOCTL, index(name, kind), fd, place]) + \
        u16(len(payload)) + payload + fix


def op_value(name, kind, v=0, fd=0):
    return bytes([IOCTL, index(name, kind), fd]) + value(v)


def op_run(vcpu=0, n=1, immediate_exit=False):
    return bytes([RUN, vcpu, (0 if immediate_exit else 1) | (n - 1) << 2])


def op_raw(mode, *args, fd=0x80, table=0, payload=b'', place=GOOD):
    return bytes([RAW, fd, mode, table]) + b''.join(args) + \
        bytes([place]) + u16(len(payload)) + payload


def op_mmap(fd, pgoff, npages, prot_flags=0):
    return bytes([MMAP, fd, pgoff, npages - 1, prot_flags])


def op_map_write(sel, off, data):
    return bytes([MAP_WRITE, sel]) + u16(off) + bytes([len(data)]) + data


def op_guest_write(buf, off, data):
    return bytes([GUEST_WRITE, buf]) + u16(off) + bytes([len(data)]) + data


def vcpu_basic():
    return op_open() + op_vm() + \
        op_memslot(0, 0xffff0000, 2, 0) + op_vcpu(0)


def seg(base, limit, sel, typ, s=1, db=0, l=0, g=0):
    return u64(base) + u32(limit) + u16(sel) + \
        bytes([typ, 1, 0, db, s, l, g, 0, 0, 0])


def sregs_real_mode():
    cs = seg(0, 0xffff, 0, 0xb)
    data = seg(0, 0xffff, 0, 3)
    tr = seg(0, 0xffff, 0, 0xb, s=0)
    ldt = seg(0, 0xffff, 0, 2, s=0)
    dt = u64(0) + u16(0xffff) + bytes(6)
    return cs + data * 4 + data + tr + ldt + dt + dt + \
        u64(0x60000010) + u64(0) * 4 + u64(0) + u64(0xfee00900) + bytes(32)


def seed_system():
    b = op_open()
    b += op_value('KVM_GET_API_VERSION', 'SYS')
    b += op_value('KVM_GET_VCPU_MMAP_SIZE', 'SYS')
    for cap in (0, 1, 16, 25, 40, 128, 168, 192, 233, 1000):
        b += op_value('KVM_CHECK_EXTENSION', 'SYS', cap)
    b += op_ioctl('KVM_GET_MSR_INDEX_LIST', 'SYS', u32(200))
    b += op_ioctl('KVM_GET_MSR_INDEX_LIST', 'SYS', u32(1))
    b += op_ioctl('KVM_GET_MSR_FEATURE_INDEX_LIST', 'SYS', u32(16))
    b += op_ioctl('KVM_GET_SUPPORTED_CPUID', 'SYS', u32(100) + u32(0))
    b += op_ioctl('KVM_GET_SUPPORTED_CPUID', 'SYS', u32(100), place=STRADDLE)
    b += op_ioctl('KVM_GET_SUPPORTED_CPUID', 'SYS', u32(100), place=RO)
    b += op_ioctl('KVM_GET_MSRS', 'SYS', u32(2) + u32(0) +
                  u32(0x10a) + u32(0) + u64(0) + u32(0x8b) + u32(0) + u64(0))
    for place in (NULL, EIGHT, NONE, KERNEL, NONCANON, ODD):
        b += op_ioctl('KVM_GET_MSR_INDEX_LIST', 'SYS', u32(10), place=place)
    b += op_value('KVM_CREATE_VM', 'SYS', 7)
    return b


def seed_run():
    b = vcpu_basic()
    b += op_run(n=4)
    b += op_run(immediate_exit=True)
    b += op_run(n=4)
    b += op_map_write(0, 1, bytes([1]))        # kvm_run.immediate_exit
    b += op_run()
    return b


def seed_vcpu_state():
    b = vcpu_basic()
    b += op_memslot(1, 0, 2, 1)
    b += op_ioctl('KVM_GET_REGS', 'VCPU')
    b += op_ioctl('KVM_SET_REGS', 'VCPU', bytes(16 * 8) + u64(0) + u64(2))
    b += op_ioctl('KVM_GET_SREGS', 'VCPU')
    b += op_ioctl('KVM_SET_SREGS', 'VCPU', sregs_real_mode())
    b += op_run(n=2)
    b += op_ioctl('KVM_GET_SREGS2', 'VCPU')
    b += op_ioctl('KVM_SET_SREGS2', 'VCPU', sregs_real_mode()[:-32] +
                  u64(0) + u64(0) + bytes(32))
    b += op_ioctl('KVM_GET_FPU', 'VCPU')
    b += op_ioctl('KVM_SET_FPU', 'VCPU', bytes(128) + u16(0x37f) +
                  bytes(22) + bytes(256) + u32(0x1f80))
    b += op_ioctl('KVM_GET_XSAVE', 'VCPU')
    b += op_ioctl('KVM_SET_XSAVE', 'VCPU', bytes(24) + u32(0x1f80) +
                  bytes(484) + u64(3))
    b += op_ioctl('KVM_GET_XSAVE2', 'VCPU')
    b += op_ioctl('KVM_GET_XCRS', 'VCPU')
    b += op_ioctl('KVM_SET_XCRS', 'VCPU', u32(1) + u32(0) +
                  u32(0) + u32(0) + u64(1))
    b += op_ioctl('KVM_SET_MSRS', 'VCPU', u32(3) + u32(0) +
                  u32(0xc0000081) + u32(0) + u64(0x0023001000000000) +
                  u32(0x10) + u32(0) + u64(12345) +
                  u32(0x277) + u32(0) + u64(0x0007040600070406))
    b += op_ioctl('KVM_GET_MSRS', 'VCPU', u32(2) + u32(0) +
                  u32(0xc0000080) + u32(0) + u64(0) +
                  u32(0x1b) + u32(0) + u64(0))
    leaf0 = u32(0) + u32(0) + u32(0) + u32(0xd) + \
        b'Genu' + b'ntel' + b'ineI' + bytes(12)
    leaf1 = u32(1) + u32(0) + u32(0) + u32(0x663) + u32(0) + \
        u32(0) + u32(0x0781abfd) + bytes(12)
    b += op_ioctl('KVM_SET_CPUID2', 'VCPU', u32(2) + u32(0) + leaf0 + leaf1)
    b += op_ioctl('KVM_GET_CPUID2', 'VCPU', u32(10))
    b += op_ioctl('KVM_GET_CPUID2', 'VCPU', u32(1))
    b += op_ioctl('KVM_GET_VCPU_EVENTS', 'VCPU')
    b += op_ioctl('KVM_SET_VCPU_EVENTS', 'VCPU', bytes(64))
    b += op_ioctl('KVM_GET_DEBUGREGS', 'VCPU')
    b += op_ioctl('KVM_SET_DEBUGREGS', 'VCPU', bytes(32) + u64(0xffff0ff0) +
                  u64(0x400))
    b += op_ioctl('KVM_GET_MP_STATE', 'VCPU')
    b += op_ioctl('KVM_SET_MP_STATE', 'VCPU', u32(0))
    b += op_ioctl('KVM_TRANSLATE', 'VCPU', u64(0x1000))
    b += op_ioctl('KVM_INTERRUPT', 'VCPU', u32(0x20))
    b += op_value('KVM_NMI', 'VCPU')
    b += op_ioctl('KVM_SET_GUEST_DEBUG', 'VCPU', u32(3) + u32(0))
    b += op_run(n=2)
    b += op_ioctl('KVM_SET_REGS', 'VCPU', bytes(16 * 8) + u64(0) + u64(2),
                  place=RO)
    b += op_ioctl('KVM_GET_REGS', 'VCPU', place=RO)
    b += op_ioctl('KVM_GET_SREGS', 'VCPU', place=STRADDLE)
    return b


def seed_irqchip():
    b = op_open() + op_vm()
    b += op_value('KVM_CREATE_IRQCHIP', 'VM')
    b += op_ioctl('KVM_CREATE_PIT2', 'VM', u32(0))
    b += op_memslot(0, 0xffff0000, 2, 0) + op_vcpu(0)
    b += op_ioctl('KVM_GET_LAPIC', 'VCPU')
    b += op_ioctl('KVM_SET_LAPIC', 'VCPU', bytes(0x20) + u32(0) +
                  bytes(0xcc) + u32(0x1ff) + bytes(1024 - 0xf4))
    for chip in (0, 1, 2):
        b += op_ioctl('KVM_GET_IRQCHIP', 'VM', u32(chip))
    b += op_ioctl('KVM_SET_IRQCHIP', 'VM', u32(2) + u32(0) + bytes(512))
    b += op_ioctl('KVM_GET_PIT2', 'VM')
    b += op_ioctl('KVM_SET_PIT2', 'VM', bytes(112))
    b += op_ioctl('KVM_IRQ_LINE', 'VM', u32(4) + u32(1))
    b += op_ioctl('KVM_IRQ_LINE_STATUS', 'VM', u32(4) + u32(0))
    route_pin = u32(5) + u32(1) + u32(0) + u32(0) + u32(2) + u32(5) + \
        bytes(24)
    route_msi = u32(30) + u32(2) + u32(0) + u32(0) + u32(0xfee00000) + \
        u32(0) + u32(0x30) + bytes(20)
    b += op_ioctl('KVM_SET_GSI_ROUTING', 'VM', u32(2) + u32(0) +
                  route_pin + route_msi)
    b += op_ioctl('KVM_SIGNAL_MSI', 'VM', u32(0xfee00000) + u32(0) +
                  u32(0x31) + bytes(20))
    b += bytes([EVENTFD, 0, EVENTFD, 0])
    b += op_ioctl('KVM_IRQFD', 'VM', bytes(32), fix=bytes([0, 1]))
    b += op_ioctl('KVM_IRQFD', 'VM', u32(0) + u32(5) +
                  u32(IRQFD_FLAG_RESAMPLE) + u32(0) + bytes(16),
                  fix=bytes([0, 1]))
    b += op_ioctl('KVM_IRQFD', 'VM', u32(0) + u32(30) + bytes(24),
                  fix=bytes([1, 1]))
    b += bytes([EVENTFD_WRITE, 0, EVENTFD_WRITE, 1, PAUSE, 100])
    b += op_ioctl('KVM_IOEVENTFD', 'VM', u64(0) + u64(0x80) + u32(1) +
                  u32(0) + u32(IOEVENTFD_FLAG_PIO) + bytes(36),
                  fix=bytes([0]))
    b += op_run(n=2)
    b += op_ioctl('KVM_REINJECT_CONTROL', 'VM', bytes([0]) + bytes(31))
    b += op_ioctl('KVM_SET_MP_STATE', 'VCPU', u32(3))
    b += op_run()
    return b


def seed_dirty():
    b = op_open() + op_vm()
    b += op_ioctl('KVM_ENABLE_CAP', 'VM', u32(CAP_MANUAL_DIRTY_LOG_PROTECT2) +
                  u32(0) + u64(3) + bytes(88))
    b += op_memslot(0, 0xffff0000, 2, 0, flags=1) + op_vcpu(0)
    b += op_run(n=2)
    b += op_ioctl('KVM_GET_DIRTY_LOG', 'VM', u32(0), fix=bytes([0]))
    b += op_ioctl('KVM_CLEAR_DIRTY_LOG', 'VM', u32(0) + u32(16) + u64(0),
                  fix=bytes([0]))
    b += op_ioctl('KVM_GET_DIRTY_LOG', 'VM', u32(0), fix=bytes([10]))
    # a second VM with a dirty ring
    b += op_vm()
    b += op_ioctl('KVM_ENABLE_CAP', 'VM', u32(CAP_DIRTY_LOG_RING) +
                  u32(0) + u64(4096) + bytes(88), fd=1)
    b += op_memslot(0, 0xffff0000, 2, 1, flags=1, vm=1) + op_vcpu(0, vm=1)
    b += op_mmap(1, 0xc0, 1)
    b += op_run(vcpu=1, n=2)
    b += op_map_write(0, 0, u32(1) + u32(0) + u64(0))
    b += op_value('KVM_RESET_DIRTY_RINGS', 'VM', fd=1)
    b += op_ioctl('KVM_GET_DIRTY_LOG', 'VM', u32(0), fd=1, fix=bytes([0]))
    return b


def seed_coalesced():
    b = vcpu_basic()
    b += op_ioctl('KVM_REGISTER_COALESCED_MMIO', 'VM', u64(0xd0000) +
                  u32(0x1000) + u32(0))
    b += op_ioctl('KVM_REGISTER_COALESCED_MMIO', 'VM', u64(0x3f8) +
                  u32(1) + u32(1))
    b += op_run(n=4)
    b += op_mmap(0, 2, 1)
    b += op_map_write(0, 0, u32(0) + u32(0))
    b += op_run(n=2)
    b += op_ioctl('KVM_UNREGISTER_COALESCED_MMIO', 'VM', u64(0xd0000) +
                  u32(0x1000) + u32(0))
    b += op_run()
    return b


def seed_device_stats():
    b = vcpu_basic()
    b += op_ioctl('KVM_CREATE_DEVICE', 'VM', u32(DEV_TYPE_VFIO) + u32(0) +
                  u32(CREATE_DEVICE_TEST))
    b += op_ioctl('KVM_CREATE_DEVICE', 'VM', u32(DEV_TYPE_VFIO) + u32(0) +
                  u32(0))
    b += op_ioctl('KVM_CREATE_DEVICE', 'VM', u32(99) + u32(0) + u32(0))
    b += bytes([EVENTFD, 0])
    attr = u32(0) + u32(1) + u64(1) + u64(0)
    b += op_ioctl('KVM_HAS_DEVICE_ATTR', 'DEV', attr, fix=bytes([0, 4]))
    b += op_ioctl('KVM_SET_DEVICE_ATTR', 'DEV', attr, fix=bytes([0, 4]))
    b += op_ioctl('KVM_SET_DEVICE_ATTR', 'DEV', u32(0) + u32(1) + u64(2) +
                  u64(0), fix=bytes([0, 4]))
    b += op_ioctl('KVM_GET_DEVICE_ATTR', 'DEV', attr, fix=bytes([9, 4]))
    b += op_value('KVM_GET_STATS_FD', 'VM')
    b += op_value('KVM_GET_STATS_FD', 'VCPU')
    b += op_run(n=2)
    b += bytes([PREAD, 0, 0]) + u16(0) + u16(4096)
    b += bytes([PREAD, 1, 0]) + u16(24) + u16(64)
    b += bytes([PREAD, 0, 0x80]) + u64(1 << 40) + u16(8)
    b += bytes([PREAD, 0, 1]) + u16(0) + u16(100)
    return b


def seed_fds():
    b = vcpu_basic()
    b += bytes([DUP, 0x82, 0, 0])           # dup the vCPU fd
    b += bytes([DUP, 0x81, 2, 0])           # F_DUPFD_CLOEXEC of the VM fd
    b += bytes([CLOSE, 0x81])               # the VM fd: the vCPU keeps it
    b += op_run(n=2)
    b += op_mmap(0, 0, 3)
    b += op_mmap(0, 0, 3, prot_flags=4)     # MAP_PRIVATE
    b += op_mmap(0, 1, 1, prot_flags=1)     # read-only PIO page
    b += op_mmap(0, 0xc0, 1)                # dirty ring offset, no ring
    b += op_mmap(0x80, 0, 1)                # the system fd: ENODEV
    b += op_map_write(0, 0x20, bytes(8))
    b += bytes([MUNMAP, 0])
    b += bytes([DUP, 0x80, 1, 0x83])        # dup3 over the vCPU dup
    b += bytes([CLOSE, 0x82])
    b += op_run()
    b += op_open() + op_vm(sys=1)
    b += op_vcpu(0, vm=1) + op_vcpu(0, vm=1) + op_vcpu(4095, vm=1)
    return b


def seed_raw():
    b = vcpu_basic()
    b += op_raw(0, u32(0xdeadbeef))
    b += op_raw(1, bytes([0xff]), u16(8))
    b += op_raw(1 | 3 << 2, bytes([0xc5]), u16(64))
    b += op_raw(2, u16(8), fd=2, table=index('KVM_GET_REGS', 'VCPU'))
    b += op_raw(3, u32(1), fd=2, table=index('KVM_GET_REGS', 'VCPU'))
    b += op_raw(0, u32(0x4008ae90), fd=2, payload=u32(0))
    for cap in (CAP_MAX_VCPU_ID, 1, 7, 0xffff):
        b += op_ioctl('KVM_ENABLE_CAP', 'VM', u32(cap) + u32(0) + u64(8) +
                      bytes(88))
        b += op_ioctl('KVM_ENABLE_CAP', 'VCPU', u32(cap) + u32(0) + u64(1) +
                      bytes(88))
    b += op_value('KVM_SET_TSS_ADDR', 'VM', 0xfffbd000)
    b += op_value('KVM_SET_TSS_ADDR', 'VM', 0xffffffff)
    b += op_ioctl('KVM_SET_IDENTITY_MAP_ADDR', 'VM', u64(0xfeffc000))
    b += op_value('KVM_SET_BOOT_CPU_ID', 'VM', 1)
    b += bytes([SIGNAL_MASK, 2, 1]) + u64(0xffffffffffffffff)
    b += op_run()
    b += bytes([SIGNAL_MASK, 2, 2]) + u32(0) + u64(0)
    return b


def seed_bad_memory():
    b = op_open() + op_vm()
    b += op_memslot(0, 0xffff0000, 2, 0)
    b += op_memslot(1, 0, 1, 0x90)          # the read-only host page
    b += op_memslot(2, 0x1000, 1, 0xa0)     # a PROT_NONE host page
    b += op_memslot(3, 0xd0000, 1, 0xc0)    # hva 0
    b += op_memslot(4, 0x100000, 1, 0x80, page=3)  # unaligned hva
    b += op_memslot(5, 0x100000, 7, 0, size=1 << 40)  # clamped
    b += op_memslot(6, 0x100000, 1, 0xd0)   # the end of user space
    b += op_memslot(0, 0xffff0000, 2, 0, place=NULL)
    b += op_vcpu(0)
    b += op_run(immediate_exit=True)
    return b


def finding_bad_hva():
    """The guest writes to a slot whose host page is PROT_NONE."""
    b = op_open() + op_vm()
    b += op_memslot(0, 0xffff0000, 2, 0)
    b += op_memslot(2, 0x1000, 1, 0xa0)
    b += op_vcpu(0)
    b += op_run(n=3)
    return b


SEEDS = {
    'seed-system': seed_system,
    'seed-run': seed_run,
    'seed-vcpu-state': seed_vcpu_state,
    'seed-irqchip': seed_irqchip,
    'seed-dirty': seed_dirty,
    'seed-coalesced': seed_coalesced,
    'seed-device-stats': seed_device_stats,
    'seed-fds': seed_fds,
    'seed-raw': seed_raw,
    'seed-bad-memory': seed_bad_memory,
}


# Open findings: inputs that still fail, kept out of the replayed corpus.
FINDINGS = {
    'bad-hva-prot-none': finding_bad_hva,
}


def main():
    for where, table in ((CORPUS, SEEDS), (FINDINGS_DIR, FINDINGS)):
        os.makedirs(where, exist_ok=True)
        for name, make in table.items():
            with open(os.path.join(where, name), 'wb') as f:
                f.write(make())


if __name__ == '__main__':
    main()
