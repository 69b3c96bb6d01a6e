/*
 * vdev.h - a domain's virtio devices: where they sit, how the guest is
 * told, and how they reach the domain's memory, interrupt controllers and
 * console.  The device models themselves are in dev/virtio/.
 *
 * Placement, as QEMU 7.2's microvm machine with ioapic2=off lays out its
 * eight virtio-mmio transports: transport i at 0xfeb00000 + 0x200 i on
 * GSI 5 + i, devices plugged from the top (the first at 0xfeb00e00 on
 * IRQ 12, the next at 0xfeb00c00 on IRQ 11, ...), so that a guest finds
 * hv's devices where it finds QEMU's.  The addresses lie in the PC's hole
 * below the I/O APIC, where nothing else of hv's machine is; GSIs 5-12 are
 * ISA IRQs no device of hv's uses, each wired to the same 8259 input and
 * I/O APIC pin.
 *
 * The guest learns of them the way Linux accepts without a device tree:
 * `virtio_mmio.device=512@0xfeb00e00:12` words appended to its command
 * line (Documentation/admin-guide/kernel-parameters.txt), one per device;
 * guestkit reads the same words, or probes the eight windows.
 *
 * Disks come from the boot modules after the guest image (bin/hvrun
 * -drive): the module holds the image file, its string is "PATH
 * [format=raw|qcow2] [readonly=on] [snapshot=on]".  Until hv has its own
 * way to the host's file, the image is the module's memory
 * (dev/virtio/memdisk.h): the guest's writes stay in hv's memory and are
 * lost when hv ends; the file on the host is never changed (as with QEMU's
 * -snapshot, which is therefore what every disk gets for now).
 */
#ifndef HV_CORE_VDEV_H
#define HV_CORE_VDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hvkit/multiboot.h"

struct domain;

#define VDEV_MAX       8
#define VDEV_BASE      0xfeb00000ull
#define VDEV_WINDOW    0x200u
#define VDEV_FIRST_GSI 5u

enum vdev_kind { VDEV_BLK, VDEV_CONSOLE };

/* One device as the boot information asks for it. */
struct vdev_spec {
    enum vdev_kind kind;
    /* VDEV_BLK: the module with the image, its file name and options. */
    const struct mb_module *mod;
    char path[128];
    bool qcow2, probe, readonly;
};

struct vdev_plan {
    unsigned n;
    struct vdev_spec spec[VDEV_MAX];
};

/* The n-th device's window and interrupt line (n = 0 is the first). */
static inline uint64_t vdev_base(unsigned n)
{
    return VDEV_BASE + (uint64_t)VDEV_WINDOW * (VDEV_MAX - 1 - n);
}

static inline unsigned vdev_gsi(unsigned n)
{
    return VDEV_FIRST_GSI + (VDEV_MAX - 1 - n);
}

/* The devices the boot modules after the first (disks) and the
 * virtio-console option ask for.  Returns 0, or -1 with err (a bad module
 * string, too many devices). */
int vdev_plan(struct vdev_plan *p, const struct mb_module *mods, unsigned nmods, bool console,
              char *err, size_t err_len);

/* Append " virtio_mmio.device=512@0x...:N" for each device to the
 * NUL-terminated command line in buf (of `size` bytes).  Returns 0, or -1
 * when it does not fit. */
int vdev_cmdline(const struct vdev_plan *p, char *buf, size_t size);

/* Make the planned devices in domain d (after its interrupt controllers
 * exist): open each disk image, put each device on the MMIO bus.  Returns
 * 0, or -1 with err. */
int vdev_attach(struct domain *d, const struct vdev_plan *p, char *err, size_t err_len);

#endif
