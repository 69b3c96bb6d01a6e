/*
 * atapi_disc.c - the CD-ROM drive's commands that describe the disc and
 * the drive rather than move data: READ TOC/PMA/ATIP, READ DISC
 * INFORMATION, MODE SENSE (10) and GET CONFIGURATION (MMC-3, INCITS
 * 360-2002, clause 6 for the commands, clause 5 "Features" for GET
 * CONFIGURATION's answer).  A CD driver asks them before it mounts a disc:
 * Linux's sr driver reads the capabilities page when it finds a drive and
 * the table of contents and the last session before it mounts.
 *
 * The medium is always one finished disc with one session holding one
 * data track: an image of 2048-byte sectors, track 1 from address 0, the
 * lead-out right after the last sector.  Where MMC leaves a value to the
 * drive (which mode pages it has, its speeds and buffer, what it refuses)
 * the drive answers as QEMU 7.2's does, so that a guest sees the same on
 * both; tests/integration/cdrom.sh compares every byte with plain QEMU.
 * One answer differs, on purpose: see read_toc_session().
 */
#include "klib.h"

#include "atapi_internal.h"

/* A track descriptor's ADR and CONTROL nibbles (MMC-3 clause 6, "READ
 * TOC/PMA/ATIP Command", the Q sub-channel's fields): ADR 1 (the
 * sub-channel gives positions), CONTROL 4 (a data track, recorded
 * uninterrupted).  QEMU gives the lead-out CONTROL 6 (digital copy
 * permitted as well); hv says the same. */
#define TOC_ADR_CTL_TRACK   0x14
#define TOC_ADR_CTL_LEADOUT 0x16
/* The lead-out's track number in a table of contents. */
#define TOC_LEADOUT 0xaa

/* An 80-minute CD's capacity: 80 minutes of 75 sectors a second, 2048
 * bytes each.  A larger medium cannot be a CD, so the drive calls it a
 * DVD-ROM in GET CONFIGURATION, as QEMU does. */
#define CD_MAX_BYTES (80ull * 60 * 75 * IDE_CD_SECTOR)

/* ---- READ TOC/PMA/ATIP ------------------------------------------------------------ */

/* An address as the command asked for it: a logical block address, or
 * with MSF set minutes, seconds and frames (byte 0 reserved).  An MSF
 * address counts the two seconds of pregap before LBA 0 (MMC-3 clause 4,
 * "MSF addressing": LBA = (M * 60 + S) * 75 + F - 150). */
static void put_address(uint8_t *p, uint32_t lba, bool msf)
{
    if (!msf) {
        put_be32(p, lba);
        return;
    }
    uint32_t frames = lba + 150;
    p[0] = 0;
    p[1] = (uint8_t)(frames / (60 * 75));
    p[2] = (uint8_t)(frames / 75 % 60);
    p[3] = (uint8_t)(frames % 75);
}

/* One 8-byte track descriptor at p. */
static void put_track(uint8_t *p, uint8_t adr_ctl, uint8_t track, uint32_t lba, bool msf)
{
    p[0] = 0;
    p[1] = adr_ctl;
    p[2] = track;
    p[3] = 0;
    put_address(p + 4, lba, msf);
}

/* Format 0000b, the table of contents: a 4-byte header (the data length
 * after its own two bytes, the first and the last track) and a descriptor
 * for each track from the starting track on, then the lead-out's.  A
 * starting track of 0 or 1 lists track 1; AAh lists the lead-out alone;
 * any other is beyond the last track, an invalid field. */
static void read_toc_tracks(struct ide_cd *cd, bool msf, uint8_t start, unsigned alloc)
{
    if (start > 1 && start != TOC_LEADOUT) {
        ide_cd_fail(cd, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
        return;
    }
    uint8_t *b = cd->buf;
    unsigned n = 4;
    if (start <= 1) {
        put_track(b + n, TOC_ADR_CTL_TRACK, 1, 0, msf);
        n += 8;
    }
    put_track(b + n, TOC_ADR_CTL_LEADOUT, TOC_LEADOUT, cd->nsectors, msf);
    n += 8;
    put_be16(b, n - 2);
    b[2] = 1;
    b[3] = 1;
    atapi_reply(cd, n, alloc);
}

/* Format 0001b, the session information: the header with the first and
 * the last complete session (1 and 1) and one descriptor, that of the
 * first track in the last session -- track 1 at address 0 -- which tells
 * a driver that the disc has a single session.
 *
 * QEMU 7.2 answers this with the descriptor's CONTROL and track number
 * left 0.  MMC-3's table for the format asks for the track's own, and hv
 * gives them; a driver that reads the session this way (Linux's sr takes
 * a first track of 0 or 1 as "one session") sees the same disc from both.
 * cdrom.sh checks hv's bytes here rather than QEMU's. */
static void read_toc_session(struct ide_cd *cd, bool msf, unsigned alloc)
{
    uint8_t *b = cd->buf;
    put_be16(b, 10);
    b[2] = 1;
    b[3] = 1;
    put_track(b + 4, TOC_ADR_CTL_TRACK, 1, 0, msf);
    atapi_reply(cd, 12, alloc);
}

/* READ TOC/PMA/ATIP (MMC-3 clause 6, "READ TOC/PMA/ATIP Command"): MSF is
 * bit 1 of byte 1, the format bits 3:0 of byte 2 -- or, when those are 0,
 * bits 7:6 of byte 9, where the older SFF-8020i put it and where drivers
 * written for it (Linux's sr among them) still ask for the session.  Only
 * the formats a pressed disc has are answered; the PMA, ATIP and raw
 * sub-channel formats of recordable media are an invalid field. */
static void read_toc(struct ide_cd *cd)
{
    const uint8_t *c = cd->cdb;
    bool msf = c[1] & 2;
    unsigned format = c[2] & 0x0f;
    if (format == 0)
        format = c[9] >> 6;
    unsigned alloc = be16(c + 7);
    if (format == 0)
        read_toc_tracks(cd, msf, c[6], alloc);
    else if (format == 1)
        read_toc_session(cd, msf, alloc);
    else
        ide_cd_fail(cd, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
}

/* ---- READ DISC INFORMATION ----------------------------------------------------- */

/* READ DISC INFORMATION (MMC-3 clause 6, "READ DISC INFORMATION Command"),
 * data type 000b (standard disc information) only: 34 bytes saying the
 * disc is finished -- last session complete (11b in bits 3:2 of byte 2),
 * disc complete (10b in bits 1:0), not erasable -- with one session
 * holding track 1, and URU (unrestricted use, bit 5 of byte 7); disc type
 * 00h, a CD-DA or CD-ROM disc.  Any other data type is an invalid field,
 * as on QEMU. */
static void read_disc_information(struct ide_cd *cd)
{
    if (cd->cdb[1] & 7) {
        ide_cd_fail(cd, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
        return;
    }
    uint8_t *b = cd->buf;
    memset(b, 0, 34);
    put_be16(b, 32);
    b[2] = 3 << 2 | 2;
    b[3] = 1; /* the first track on the disc */
    b[4] = 1; /* sessions (least significant byte) */
    b[5] = 1; /* the first track in the last session (LSB) */
    b[6] = 1; /* the last track in the last session (LSB) */
    b[7] = 0x20;
    atapi_reply(cd, 34, be16(cd->cdb + 7));
}

/* ---- MODE SENSE (10) ------------------------------------------------------------ */

/* Page 01h, Read/Write Error Recovery (MMC-3's "Read/Write Error Recovery
 * Parameters Mode Page"): no special error handling, 5 read retries. */
static unsigned page_error_recovery(uint8_t *p)
{
    p[0] = 0x01;
    p[1] = 6;
    p[3] = 5;
    return 8;
}

/* Page 2Ah, "CD/DVD Capabilities and Mechanical Status" (MMC-3's mode
 * parameters; the page Linux's sr reads to learn what a drive can do),
 * with QEMU's values:
 *   byte 2  3Bh  reads CD-R, CD-RW, method 2, DVD-ROM and DVD-R discs;
 *   byte 3  00h  writes nothing;
 *   byte 4  71h  plays audio, reads mode 2 form 1 and form 2, multisession;
 *   byte 5  60h  reads ISRC and UPC codes;
 *   byte 6       lock supported (bit 0), the lock's state (bit 1: the
 *                guest's PREVENT ALLOW MEDIUM REMOVAL), eject supported
 *                (bit 3), loading mechanism 001b, a tray (bits 7:5);
 *   bytes 8-9    704 KB/s the most it reads (4x, counting 1x as 176 KB/s);
 *   bytes 10-11  2 volume levels;
 *   bytes 12-13  a 512 KiB buffer;
 *   bytes 14-15  704 KB/s the speed it reads at now. */
static unsigned page_capabilities(const struct ide_cd *cd, uint8_t *p)
{
    p[0] = 0x2a;
    p[1] = 20;
    p[2] = 0x3b;
    p[4] = 0x71;
    p[5] = 0x60;
    p[6] = (uint8_t)(0x29 | (cd->locked ? 0x02 : 0));
    put_be16(p + 8, 704);
    put_be16(p + 10, 2);
    put_be16(p + 12, 512);
    put_be16(p + 14, 704);
    return 22;
}

/* MODE SENSE (10) (SPC-3 clause 6, "MODE SENSE(10) command"): byte 2 holds
 * the page control (bits 7:6) and the page code (bits 5:0).  The reply is
 * the 8-byte mode parameter header (SPC-3 7.4.3 "Mode parameter header
 * formats": the mode data length after its own two bytes; the medium
 * type, 70h, the constant QEMU gives -- SFF-8020i's "door closed, no disc
 * present", a field MMC made obsolete; no block descriptors) and the page.
 * As on QEMU: only the current values of pages 01h and 2Ah are there
 * (page control 00b); the changeable and default values (01b, 10b) and
 * any other page, 3Fh "all pages" too, are an invalid field, and saved
 * values (11b) are SAVING PARAMETERS NOT SUPPORTED. */
static void mode_sense(struct ide_cd *cd)
{
    unsigned control = cd->cdb[2] >> 6, page = cd->cdb[2] & 0x3f;
    if (control == 3) {
        ide_cd_fail(cd, SENSE_ILLEGAL_REQUEST, ASC_SAVING_NOT_SUPPORTED, 0);
        return;
    }
    if (control != 0 || (page != 0x01 && page != 0x2a)) {
        ide_cd_fail(cd, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
        return;
    }
    uint8_t *b = cd->buf;
    memset(b, 0, 8 + 22);
    unsigned n = 8 + (page == 0x01 ? page_error_recovery(b + 8) : page_capabilities(cd, b + 8));
    put_be16(b, n - 2);
    b[2] = 0x70;
    atapi_reply(cd, n, be16(cd->cdb + 7));
}

/* ---- GET CONFIGURATION ---------------------------------------------------------- */

/* The profile the medium in the drive makes current: none without one,
 * DVD-ROM (0010h) for one too large for a CD, CD-ROM (0008h) otherwise
 * (MMC-3 clause 5, "Profile Definitions"). */
static uint16_t current_profile(const struct ide_cd *cd)
{
    if (!atapi_medium_ready(cd))
        return 0;
    return cd->medium.bytes > CD_MAX_BYTES ? 0x0010 : 0x0008;
}

/* GET CONFIGURATION (MMC-3 clause 6, "GET CONFIGURATION Command"): the
 * 8-byte feature header (the data length after its own four bytes, the
 * current profile in bytes 6-7) and the one feature this drive describes,
 * as QEMU's does: 0000h, the Profile List (MMC-3 clause 5, "Profile
 * List"; version 0, persistent and current), naming DVD-ROM and CD-ROM,
 * each with its CurrentP bit.  A starting feature number other than 0 is
 * an invalid field, as on QEMU; the request type (all, current, or the
 * one feature) then makes no difference. */
static void get_configuration(struct ide_cd *cd)
{
    if (be16(cd->cdb + 2) != 0) {
        ide_cd_fail(cd, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
        return;
    }
    uint8_t *b = cd->buf;
    uint16_t now = current_profile(cd);
    memset(b, 0, 20);
    put_be32(b, 20 - 4);
    put_be16(b + 6, now);
    /* The Profile List feature: code 0000h, version 0 with persistent and
     * current set (03h), 8 bytes of profile descriptors. */
    b[10] = 0x03;
    b[11] = 8;
    put_be16(b + 12, 0x0010);
    b[14] = now == 0x0010;
    put_be16(b + 16, 0x0008);
    b[18] = now == 0x0008;
    atapi_reply(cd, 20, be16(cd->cdb + 7));
}

/* ---- Which command ---------------------------------------------------------------- */

bool atapi_disc_command(struct ide_cd *cd)
{
    switch (cd->cdb[0]) {
    case SCSI_READ_TOC:
        read_toc(cd);
        return true;
    case SCSI_READ_DISC_INFO:
        read_disc_information(cd);
        return true;
    case SCSI_MODE_SENSE_10:
        mode_sense(cd);
        return true;
    case SCSI_GET_CONFIGURATION:
        get_configuration(cd);
        return true;
    default:
        return false;
    }
}
