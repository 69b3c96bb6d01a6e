/*
 * disk: one `disk = [ ... ]` entry of xl.cfg in the xl-disk-configuration(5)
 * syntax, as Xen 4.17's libxlu reads it.
 *
 *   positional:  TARGET[,FORMAT[,VDEV[,ACCESS]]]      e.g. /img/a.qcow2,qcow2,xvda,rw
 *   by name:     format=qcow2, vdev=xvda, access=ro, devtype=cdrom, target=/img/a.qcow2
 *
 * Both forms mix; `target=` takes the rest of the text, commas included,
 * so it comes last.  The old "PREFIX:PATH" targets (phy:, file:, tap:aio:,
 * qcow2:, ...) still work, and after one the format is no longer a
 * positional parameter (so "phy:/dev/vg/a,xvda,w" is target, vdev, access).
 * `cdrom` alone means devtype=cdrom.
 */
#ifndef HVKIT_XL_DISK_H
#define HVKIT_XL_DISK_H

#include <stdbool.h>
#include <stdio.h>

#define XLDISK_TEXT_MAX 1024

struct xldisk {
    char target[XLDISK_TEXT_MAX]; /* the image file ("" for an empty CD drive) */
    char format[16];              /* raw, qcow, qcow2, vhd, qed, empty */
    char vdev[32];                /* the guest's name for it: xvda, hda, sdb ... */
    bool readonly;
    bool cdrom;
};

/* Parse `spec`; on a mistake print libxlu's message, naming `source`
 * ("FILE: config parsing error in disk specification: WHY: near `X' in
 * `SPEC'"), and return -1. */
int xldisk_parse(struct xldisk *d, const char *spec, const char *source, FILE *report);

/* The specification of `d` in the by-name form that xldisk_parse() reads
 * back into the same disk: "format=F, vdev=V, access=ro|rw,
 * devtype=cdrom|disk, target=T" (target= last, as it takes the rest; an
 * empty drive has neither format nor target).  False when it does not fit
 * in `size` bytes. */
bool xldisk_spec(const struct xldisk *d, char *out, size_t size);

#endif
