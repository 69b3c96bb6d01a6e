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
 * Disks are image files on the host that bin/hvrun attached to the outer
 * machine as ATA disks (bin/hvrun.d/outerdisk.sh, hv/disk/outer.h), named
 * on hv's command line by drive= words that bin/hvrun writes from QEMU's
 * -drive syntax: "drive=N,format=raw|qcow2,readonly=on|off,file=PATH",
 * N the launcher's number of the file, PATH the file's name for messages
 * and for finding its backing files, last so that it may hold commas.
 * imgtool's library compiled into hv opens the image on the disk, so the
 * guest's writes land in the file itself and a FLUSH reaches the host's
 * file (the outer disk's FLUSH CACHE).  QEMU's snapshot=on is bin/hvrun's
 * business: it attaches a temporary copy instead of the file.
 */
#ifndef HV_CORE_VDEV_H
#define HV_CORE_VDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmdline.h"

struct domain;

#define VDEV_MAX       8
#define VDEV_BASE      0xfeb00000ull
#define VDEV_WINDOW    0x200u
#define VDEV_FIRST_GSI 5u

enum vdev_kind { VDEV_BLK, VDEV_CONSOLE };

/* One device as hv's command line asks for it. */
struct vdev_spec {
    enum vdev_kind kind;
    /* VDEV_BLK: the outer disk's number, the file's name, its options. */
    unsigned outer;
    char path[200];
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

/* The devices hv's options ask for: the drive= words' disks in order, then
 * the virtio-console.  Returns 0, or -1 with err (a bad drive= word). */
int vdev_plan(struct vdev_plan *p, const struct hv_options *opt, char *err, size_t err_len);

/* Append " virtio_mmio.device=512@0x...:N" for each device to the
 * NUL-terminated command line in buf (of `size` bytes).  Returns 0, or -1
 * when it does not fit. */
int vdev_cmdline(const struct vdev_plan *p, char *buf, size_t size);

/* Make the planned devices in domain d (after its interrupt controllers
 * exist): open each disk image, put each device on the MMIO bus.  Returns
 * 0, or -1 with err. */
int vdev_attach(struct domain *d, const struct vdev_plan *p, char *err, size_t err_len);

struct virtio_mmio;
struct img;
/* The domain's virtio transports in window order (device 0 first), at
 * most max into out; returns how many (savevm, loadvm). */
unsigned vdev_transports(struct domain *d, struct virtio_mmio **out, unsigned max);
/* The image of the domain's first virtio disk that can hold internal
 * snapshots (qcow2, writable), or NULL. */
struct img *vdev_snapshot_disk(struct domain *d);
/* The image of the domain's n-th disk (0 = the first drive= word) and
 * whether it is read-only, or NULL: for the PV block back-end
 * (core/pv_blk.c), which serves the same image as virtio-blk. */
struct img *vdev_disk(struct domain *d, unsigned n, bool *readonly);

/* Disks attached at run time (core/vdev_hot.c): imgtool's environment in
 * hv (heap, deflate, backing files from the outer disks); a virtio-blk
 * device named `name` serving `img` in window n (its transport made, not
 * put on the bus: vdev_hot.c's window device passes accesses on to
 * vdev_disk_window()), counting in d->disk_stats[n]; and the
 * device gone again (its interrupt line lowered, the image closed: the
 * close's status). */
struct img_env;
struct mmio_device;
const struct img_env *vdev_img_env(void);
struct vdev *vdev_disk_new(struct domain *d, unsigned n, const char *name, struct img *img,
                           bool readonly);
struct mmio_device *vdev_disk_window(struct vdev *v);
int vdev_disk_free(struct vdev *v);

/* Pass what the outer machine's COM1 received to domain d's virtio-console
 * (domain 0's only: there is one COM1), if it has one and its driver is
 * ready for input; true when a byte
 * reached the guest, whose interrupt is then raised as the driver asked.
 * hv looks when the guest halts (dispatch.c) and when its driver puts
 * receive buffers on the queue. */
bool vdev_console_poll(struct domain *d);

#endif
