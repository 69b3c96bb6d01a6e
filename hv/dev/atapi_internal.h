/*
 * atapi_internal.h - the small pieces the CD-ROM drive's two command
 * files share (atapi.c: the commands that move data and change state;
 * atapi_disc.c: the commands that describe the disc and the drive).
 * Not for the rest of hv: ide_cd.h is the drive's interface.
 */
#ifndef HV_DEV_ATAPI_INTERNAL_H
#define HV_DEV_ATAPI_INTERNAL_H

#include "ide_cd.h"

/* SCSI's multi-byte fields are big-endian (SPC-3 3.5 "Bit and byte
 * ordering"): readers of the command packet and writers of the replies. */
static inline uint32_t be16(const uint8_t *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}

static inline uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void put_be16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* A reply of `n` bytes in cd->buf, cut to the command's allocation length
 * (SPC-3 4.3.4.6 "Allocation length": the device sends no more than that,
 * and an allocation length of zero is no error). */
static inline void atapi_reply(struct ide_cd *cd, unsigned n, unsigned alloc)
{
    if (n > alloc)
        n = alloc;
    if (n == 0)
        ide_cd_done(cd);
    else
        ide_cd_data(cd, n);
}

/* Is a medium there to read (in the drive, tray closed, not empty)? */
static inline bool atapi_medium_ready(const struct ide_cd *cd)
{
    return ide_cd_has_medium(cd) && !cd->tray_open && cd->nsectors > 0;
}

#endif
