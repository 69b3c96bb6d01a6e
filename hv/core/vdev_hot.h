/*
 * vdev_hot.h - virtio disks plugged into a running domain and pulled out
 * again (x-blockdev-attach, x-blockdev-detach; docs/control-protocol.md
 * "Disks attached at run time").
 *
 * The outer machine's disks are fixed when the emulator starts, so a disk
 * attached at run time does not get one: the manager copies the image
 * into a disk slot of the staging disk (include/hvkit/ctl.h
 * CTL_STAGE_DISK_*), with a trailer in the slot's last sector, and hv
 * opens the slot as a file of its own (disk/outer.h outer_window_io()).
 *
 * Where the guest finds it.  With the control channel (hv's ctl option)
 * every virtio-mmio window of a domain that no device of the boot takes
 * holds a window device of this file: empty, it reads as QEMU's
 * virtio-mmio transport without a device does (magic, version 2, vendor,
 * device ID 0: virtio 1.2, 4.2.2 "MMIO Device Register Layout", "a device
 * with ID 0 is a placeholder"), so that a guest may probe the windows as
 * it would on QEMU's microvm machine; with a disk plugged in, it passes
 * every access on to the disk's transport.  virtio-mmio has no hot-plug
 * notification: the guest finds the disk by probing again, and finds it
 * gone by the device ID 0 (guestkit/tests/hotdisk.c).
 *
 * The disks belong to the domain, not to one boot of it: a reset builds
 * the domain again with them, as QEMU keeps a device_add'ed device over
 * system_reset.  hv keeps at most one disk per slot, CTL_STAGE_DISK_SLOTS
 * in all.
 */
#ifndef HV_CORE_VDEV_HOT_H
#define HV_CORE_VDEV_HOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct domain;

/* The longest name a disk attached at run time may have ("vdb", "xvdc",
 * "sdb"...), and the longest host path kept for it. */
#define VDEV_HOT_NAME_MAX 15
#define VDEV_HOT_FILE_MAX 255

/* Put window devices into d's free windows, and the disks it had before a
 * rebuild into theirs (after vdev_attach()); nothing without the control
 * channel.  0, or -1 with err. */
int vdev_hot_build(struct domain *d, char *err, size_t err_len);

/* What x-blockdev-attach asks for. */
struct vdev_hot_req {
    char device[VDEV_HOT_NAME_MAX + 1];
    char file[VDEV_HOT_FILE_MAX + 1];
    /* "qcow2", "raw", or "" to probe. */
    char format[8];
    bool readonly;
    unsigned disk;
    uint64_t offset;
};

/* Plug the disk of `q` into d's first free window: its window in *window.
 * 0, or -1 with the reason in err -- nothing changed. */
int vdev_hot_attach(struct domain *d, const struct vdev_hot_req *q, unsigned *window, char *err,
                    size_t err_len);

/* Pull disk `device` out of d: flushed and closed, its window empty again;
 * the image file's length (it may have grown) in *length.  0, or -1 with
 * err when d has no such disk attached at run time. */
int vdev_hot_detach(struct domain *d, const char *device, uint64_t *length, char *err,
                    size_t err_len);

/* How many disks d has attached at run time (savevm and loadvm refuse a
 * domain with one; domain-save may). */
unsigned vdev_hot_count(struct domain *d);

/* d's disks attached at run time, in window order, for query-block and
 * query-blockstats: its name, host file, format, whether read-only and
 * the number of its counters in d->disk_stats. */
struct vdev_hot_info {
    const char *device, *file;
    bool qcow2, readonly;
    unsigned counter;
};
typedef void (*vdev_hot_fn)(void *ctx, const struct vdev_hot_info *info);
/* Weak: the hosted builds of the dispatcher leave this file out. */
void vdev_hot_each(struct domain *d, vdev_hot_fn fn, void *ctx) __attribute__((weak));

#endif
