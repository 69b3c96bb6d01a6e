/*
 * domcfg: what an xl.cfg(5) file says about a domain, for the keys hvkit
 * can act on, read from the settings cfg.c parsed.  Keys Xen has but hvkit
 * cannot act on (networking, PCI passthrough, graphics, ...) are accepted
 * with a warning naming the line; keys xl does not know are ignored, as xl
 * ignores them.
 */
#ifndef HVKIT_XL_DOMCFG_H
#define HVKIT_XL_DOMCFG_H

#include <stdio.h>

#include "cfg.h"
#include "disk.h"

/* hv has room for three disks (bin/hvrun: "-drive ... at most 3"). */
#define XLDOM_DISKS_MAX 3

struct xldom {
    char name[64];
    char type[8];        /* pv, pvh or hvm (default pv, as xl) */
    long memory, maxmem; /* MiB */
    long vcpus, maxvcpus;
    char cpus[64];     /* the pinning text, as given */
    char kernel[1024]; /* the Multiboot kernel hvkit boots */
    char ramdisk[1024];
    char cmdline[1024]; /* cmdline=, or root= and extra= joined as xl joins them */
    char on_poweroff[24], on_reboot[24], on_crash[24];
    char serial[32];
    char uuid[40];
    int ndisks;
    struct xldisk disk[XLDOM_DISKS_MAX];
};

/* Fill `dom` from `cfg`; mistakes and warnings go to cfg->report in xl's
 * words.  Returns 0, or -1 when xl would refuse the file. */
int xldom_from_cfg(struct xldom *dom, const struct xlcfg *cfg);

/* The line `disk = [ ... ]` that gives dom's disks again, with its CD-ROM
 * drive `vdev` holding the raw image `file` ("": empty), in the by-name
 * form xldisk_spec() writes (malloc'd, no newline).  Read after the
 * configuration's own lines it replaces their disk list, as a key set
 * twice keeps its last value: how cd-insert and cd-eject record the new
 * medium in the configuration xl keeps.  NULL when dom has no CD-ROM
 * drive of that vdev, or `file` is too long for a disk's target. */
char *xldom_cd_setting(const struct xldom *dom, const char *vdev, const char *file);

#endif
