/*
 * savefile: a domain's saved state in a host file, from the front-ends'
 * side (xl save and restore, virsh save, restore and managedsave).
 *
 * Each domain of the front-ends is a machine of its own (rundom.h), hv's
 * domain 0.  A save asks its manager for domain-save into a file of the
 * state directory (docs/control-protocol.md "Saving a domain to a file")
 * and writes the save image (saveimage.h): the configuration the
 * front-end started the domain from, then that state, into a temporary
 * file beside FILE that is renamed over FILE once whole.  A restore reads
 * the image's header and the state's shape and CONFIG here, with hv's own
 * reader (hv/core/vms_config.c, compiled hosted), checks every checksum
 * of it, checks that the disks the configuration names are there, starts
 * a machine paused (bin/hvrun -S) from the kernel the file holds with its
 * RAM, vCPUs and those disks, and asks its manager for domain-restore into
 * domain 0: hv checks the whole state against that domain (its virtio
 * devices included) and refuses it, changing nothing, if it does not fit.
 * A refused restore ends the machine again.
 *
 * The disks are not in the file: the restored domain runs on the same
 * disk files, as after xl save and virsh save; a disk changed between the
 * save and the restore is the user's to answer for.
 */
#ifndef HVKIT_MGMT_COMMON_SAVEFILE_H
#define HVKIT_MGMT_COMMON_SAVEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../hv/core/vms_config.h"
#include "rundom.h"
#include "saveimage.h"

/* What a save file says its domain is. */
struct savefile {
    struct saveimage img; /* the front-end's header: its configuration */
    struct vms_shape shape;
    struct vms_config cfg; /* cfg.image: malloc'd, savefile_free() */
};

/* What a front-end records of a domain it saves: its name for the tool
 * ("xl", "virsh"), the configuration's text, and how many virtio disks
 * that configuration gives the domain (the CD-ROM drive is no virtio
 * device). */
struct savefile_conf {
    const char *tool;
    const char *text;
    size_t len;
    unsigned disks;
};

/* How many of the disks are virtio disks (the CD-ROM drive is not). */
unsigned savefile_virtio_disks(const struct rundom_disk *disk, int ndisks);

/* Read FILE: the save image's header, every section's framing and
 * checksum, then its shape and CONFIG.  0, or -1 with the image's words
 * ("save image: ..."), hv's ("vmstate: ...") or the file's error in why. */
int savefile_read(const char *file, struct savefile *sf, char *why, size_t whylen);
void savefile_free(struct savefile *sf);

/* FILE made absolute against the front-end's directory (the manager does
 * not know it), into out. */
void savefile_absolute(const char *file, char *out, size_t len);

/* The xl.cfg / bin/hvrun word of an on_* action of the CONFIG. */
const char *savefile_action(uint8_t a);

/* Save domain r's state, with configuration c, into FILE (an absolute
 * path): `after` is "destroy", "continue" or "pause", `paused` what a
 * restore does by default (-1: as the domain is now).  0 with the state's
 * size in *size, or -1 with the manager's, hv's or the file's words in why
 * (the domain as it was, no file).  A state with more or fewer virtio
 * devices than c's disks (a disk attached or detached while the domain
 * ran) is refused: its restore could not find them.  After "destroy" the
 * domain is left paused and the caller ends the machine (rundom_end). */
int savefile_save(const struct rundom *r, const struct savefile_conf *c, const char *file,
                  const char *after, int paused, uint64_t *size, char *why, size_t whylen);

/* Replace the configuration of the save image FILE (absolute), read into
 * sf, by c: the image is written anew beside it and renamed over it, the
 * state as it was.  0, or -1 with why (FILE as it was). */
int savefile_redefine(const char *file, const struct savefile *sf, const struct savefile_conf *c,
                      char *why, size_t whylen);

/* Start a machine for record r (name, domid, uuid, tool, config filled)
 * from the state in FILE (absolute), read into sf, with the `ndisks` disks
 * of its configuration: then it runs the saved state, paused when
 * `paused` (-1: as the file says).  A disk that is missing or that the
 * state does not fit is refused before any machine starts.  0, or -1 with
 * why (the machine ended again and forgotten). */
int savefile_restore(const char *file, const struct savefile *sf, struct rundom *r,
                     const struct rundom_disk *disk, int ndisks, int paused, char *why,
                     size_t whylen);

#endif
