/*
 * vms_config.h: a save file's CONFIG section (docs/vmstate.md), written
 * and read with the vmstate stream's framing (vms.h).  Compiled into hv
 * (vms_domain.c writes it, vmfile.c reads it to make a domain) and hosted
 * into the front-ends (mgmt/common/savefile.c: xl restore and virsh
 * restore read a file's name, memory, vCPUs and kernel before they start
 * its machine), so there is one reader of the format.
 */
#ifndef HV_CORE_VMS_CONFIG_H
#define HV_CORE_VMS_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "vms.h"

/*
 * A save file's CONFIG section (docs/vmstate.md): what a new domain is
 * made of when a restore makes one from the file (xl restore), beyond the
 * shape the DOMAIN section gives -- its name, its command line, what
 * follows its end, whether a restore starts it paused, and its Multiboot
 * image, which a reset or a restart builds it again from.  Only saves to a
 * file through the control channel write one; a load into an existing
 * domain (loadvm, hv's restore= option) checks it and leaves it alone.
 */
#define VMS_CONFIG_NAME_MAX    63u
#define VMS_CONFIG_CMDLINE_MAX 2048u
#define VMS_CONFIG_IMAGE_MAX   (32u << 20)
struct vms_config {
    char name[VMS_CONFIG_NAME_MAX + 1];
    char cmdline[VMS_CONFIG_CMDLINE_MAX + 1];
    /* enum domain_action (cmdline.h) each. */
    uint8_t on_poweroff, on_reboot, on_crash;
    /* A restore leaves the new domain paused unless told otherwise. */
    bool paused;
    /* The image: saving, the domain's; loading, a copy from `alloc`. */
    const void *image;
    uint64_t image_len;
};

/* What the DOMAIN section says a state is of. */
struct vms_shape {
    uint32_t vcpus;
    uint64_t ram;
    uint32_t virtio;
};

/* Write the CONFIG section (streamed; its length is known beforehand). */
int vms_config_save(struct vms *v, const struct vms_config *c);

/* Read the CONFIG section whose header vms_next_section() has just read
 * (`length` payload bytes), checking every value; the image goes into
 * memory from alloc(), or with alloc NULL is only read through (a page at
 * a time, into `page`) for the checksum. */
int vms_config_load(struct vms *v, uint64_t length, struct vms_config *c,
                    void *(*alloc)(uint64_t len), uint8_t *page);

/*
 * A save file's start, for a restore that makes a new domain from it: the
 * header, the DOMAIN section into *shape, and the CONFIG section that must
 * follow it into *cfg, its image into memory from alloc(len) (which
 * returns NULL for no memory; alloc NULL: the image is only read through
 * for its checksum, cfg->image stays NULL).  Every checksum and value of those two sections is
 * checked; the rest of the state is left for vms_load_check() once the domain exists.  Returns 0,
 * or -1 with v->err (cfg->image, when not NULL, is the caller's to free either way).
 */
int vms_read_config(struct vms *v, const struct vms_source *src, struct vms_shape *shape,
                    struct vms_config *cfg, void *(*alloc)(uint64_t len));

/* Read a whole state through, section by section up to its END, checking
 * the framing and every checksum but no value (the front-ends' check of a
 * file before they start a machine for it).  0 or -1 with v->err. */
int vms_check_stream(struct vms *v, const struct vms_source *src);

#endif
