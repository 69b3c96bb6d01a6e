/*
 * savefile: a domain's saved state in a host file, from the front-ends'
 * side (xl save and restore, virsh save, restore and managedsave).
 *
 * Each domain of the front-ends is a machine of its own (rundom.h), hv's
 * domain 0.  A save asks its manager for domain-save into the file
 * (docs/control-protocol.md "Saving a domain to a file"); a restore reads
 * the file's shape and CONFIG here, with hv's own reader (hv/core/
 * vms_config.c, compiled hosted), checks every checksum of it, starts a
 * machine paused (bin/hvrun -S) from the kernel the file holds with its
 * RAM and vCPUs, and asks its manager for domain-restore into domain 0:
 * hv checks the whole state against that domain and refuses it, changing
 * nothing, if it does not fit.  A refused restore ends the machine again.
 */
#ifndef HVKIT_MGMT_COMMON_SAVEFILE_H
#define HVKIT_MGMT_COMMON_SAVEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../hv/core/vms_config.h"
#include "rundom.h"

/* What a save file says its domain is. */
struct savefile {
    struct vms_shape shape;
    struct vms_config cfg; /* cfg.image: malloc'd, savefile_free() */
};

/* Read FILE: every section's framing and checksum, then its shape and
 * CONFIG.  0, or -1 with hv's words ("vmstate: ...") or the file's error
 * in why. */
int savefile_read(const char *file, struct savefile *sf, char *why, size_t whylen);
void savefile_free(struct savefile *sf);

/* FILE made absolute against the front-end's directory (the manager does
 * not know it), into out. */
void savefile_absolute(const char *file, char *out, size_t len);

/* The xl.cfg / bin/hvrun word of an on_* action of the CONFIG. */
const char *savefile_action(uint8_t a);

/* Save domain r's state into FILE (an absolute path): `after` is
 * "destroy", "continue" or "pause", `paused` what a restore does by
 * default (-1: as the domain is now).  0 with the state's size in *size,
 * or -1 with the manager's or hv's words in why (the domain as it was, no
 * file).  After "destroy" the caller ends the machine (rundom_end). */
int savefile_save(const struct rundom *r, const char *file, const char *after, int paused,
                  uint64_t *size, char *why, size_t whylen);

/* Start a machine for record r (name, domid, uuid, tool, config filled)
 * from the state in FILE (absolute), read into sf: then it runs the saved
 * state, paused when `paused` (-1: as the file says).  0, or -1 with why
 * (the machine ended again and forgotten). */
int savefile_restore(const char *file, const struct savefile *sf, struct rundom *r, int paused,
                     char *why, size_t whylen);

#endif
