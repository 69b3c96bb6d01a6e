/*
 * atapi.c - the SCSI commands of the CD-ROM drive (see ide_cd.h): what a
 * 12-byte command packet asks and what the drive answers, with sense data
 * for every error.  SPC-3 (INCITS 408-2005) for the commands every SCSI
 * device has, MMC-3 (INCITS 360-2002) for those of a CD/DVD drive.
 *
 * A changed medium is told the way QEMU's drive tells it, so that a guest
 * sees the same on both: the first command after the change that is not
 * INQUIRY, REQUEST SENSE or GET EVENT STATUS NOTIFICATION fails with NOT
 * READY / MEDIUM NOT PRESENT (the tray was open a moment ago), the next
 * with UNIT ATTENTION / NOT READY TO READY CHANGE, MEDIUM MAY HAVE CHANGED
 * (reported once, as a unit attention condition is: SAM-3, "Unit attention
 * condition"), and from then
 * on the new medium reads.  A guest that asks GET EVENT STATUS
 * NOTIFICATION sees the NewMedia event instead.
 */
#include "klib.h"

#include "atapi_internal.h"

/* NOT READY / MEDIUM NOT PRESENT, with MMC's qualifier: 02h with the tray
 * open, 01h with it closed (SPC-3 table "ASC and ASCQ assignments"). */
static void not_present(struct ide_cd *cd)
{
    ide_cd_fail(cd, SENSE_NOT_READY, ASC_MEDIUM_NOT_PRESENT, cd->tray_open ? 2 : 1);
}

/* ---- The commands -------------------------------------------------------------- */

/* REQUEST SENSE (SPC-3 clause 6, "REQUEST SENSE command"): the sense data of the last
 * command that failed, in the fixed format (SPC-3 4.5.3 "Fixed format
 * sense data": response code 70h, the sense key in byte 2, additional
 * length 10 in byte 7, ASC and ASCQ in bytes 12 and 13).  Reported, it is
 * cleared. */
static void request_sense(struct ide_cd *cd)
{
    uint8_t *b = cd->buf;
    memset(b, 0, 18);
    b[0] = 0x70;
    b[2] = cd->sense_key;
    b[7] = 10;
    b[12] = cd->asc;
    b[13] = cd->ascq;
    cd->sense_key = cd->asc = cd->ascq = 0;
    atapi_reply(cd, 18, cd->cdb[4]);
}

/* Copy `s` into a space-padded field of `n` bytes (SPC-3's ASCII fields). */
static void ascii_field(uint8_t *dst, const char *s, size_t n)
{
    size_t len = strlen(s);
    for (size_t i = 0; i < n; i++)
        dst[i] = (uint8_t)(i < len ? s[i] : ' ');
}

/* INQUIRY (SPC-3 clause 6, "INQUIRY command"): the standard data only (no vital product
 * data pages: EVPD set is an invalid field).  Peripheral device type 05h
 * (CD/DVD device), RMB (removable), version 05h (SPC-3), response data
 * format 2, 36 bytes. */
static void inquiry(struct ide_cd *cd)
{
    if (cd->cdb[1] & 1) {
        ide_cd_fail(cd, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
        return;
    }
    uint8_t *b = cd->buf;
    memset(b, 0, 36);
    b[0] = 0x05;
    b[1] = 0x80;
    b[2] = 0x05;
    b[3] = 0x02;
    b[4] = 36 - 5;
    ascii_field(b + 8, "HVKIT", 8);
    ascii_field(b + 16, "HVKIT DVD-ROM", 16);
    ascii_field(b + 32, "0.1", 4);
    atapi_reply(cd, 36, be16(cd->cdb + 3));
}

/* READ CAPACITY (MMC-3 clause 6, "READ CAPACITY Command"): the last logical
 * block's address and the block length, 2048. */
static void read_capacity(struct ide_cd *cd)
{
    put_be32(cd->buf, cd->nsectors - 1);
    put_be32(cd->buf + 4, IDE_CD_SECTOR);
    atapi_reply(cd, 8, 8);
}

/* READ (10) and READ (12) (MMC-3 clause 6, "READ (10) Command" and "READ
 * (12) Command"): `count` blocks from `lba`, every one on the medium
 * (else ILLEGAL REQUEST / LOGICAL BLOCK ADDRESS OUT OF RANGE, and nothing
 * is sent); a count of zero is no error and moves nothing. */
static void read_blocks(struct ide_cd *cd, uint32_t lba, uint32_t count)
{
    if ((uint64_t)lba + count > cd->nsectors) {
        ide_cd_fail(cd, SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0);
        return;
    }
    if (count == 0) {
        ide_cd_done(cd);
        return;
    }
    cd->lba = lba;
    cd->sectors = count;
    atapi_next_sector(cd);
}

int atapi_next_sector(struct ide_cd *cd)
{
    /* The medium went while the READ ran (the host ejected it). */
    if (!atapi_medium_ready(cd)) {
        not_present(cd);
        return -1;
    }
    uint64_t off = (uint64_t)cd->lba * IDE_CD_SECTOR;
    /* A partial last sector: the bytes after the medium's end are zeros. */
    uint64_t left = cd->medium.bytes - off;
    uint32_t n = left < IDE_CD_SECTOR ? (uint32_t)left : IDE_CD_SECTOR;
    memset(cd->buf, 0, IDE_CD_SECTOR);
    if (cd->medium.read(cd->medium.ctx, off, cd->buf, n) < 0) {
        /* The host's file failed: MEDIUM ERROR / UNRECOVERED READ ERROR,
         * as a scratched disc fails, and one line for hv's log. */
        if (cd->read_errors++ == 0 && cd->note) {
            char line[96];
            ksnprintf(line, sizeof(line), "ide1-cd0: reading sector %u of the medium failed",
                      (unsigned)cd->lba);
            cd->note(cd->note_ctx, line);
        }
        ide_cd_fail(cd, SENSE_MEDIUM_ERROR, ASC_UNRECOVERED_READ, 0);
        return -1;
    }
    cd->lba++;
    cd->sectors--;
    ide_cd_data(cd, IDE_CD_SECTOR);
    return 0;
}

/* START STOP UNIT (MMC-3 clause 6, "START STOP UNIT Command"): LoEj with
 * Start clear opens the tray (ejects), with Start set closes it (loads);
 * without LoEj it only spins the disc, which an image need not do.  A
 * locked drive refuses to eject: ILLEGAL REQUEST / MEDIUM REMOVAL
 * PREVENTED. */
static void start_stop(struct ide_cd *cd)
{
    bool loej = cd->cdb[4] & 2, start = cd->cdb[4] & 1;
    if (loej && !start) {
        if (cd->locked && !cd->tray_open) {
            ide_cd_fail(cd, SENSE_ILLEGAL_REQUEST, ASC_REMOVAL_PREVENTED, 2);
            return;
        }
        cd->tray_open = true;
    } else if (loej) {
        cd->tray_open = false;
    }
    ide_cd_done(cd);
}

/* PREVENT ALLOW MEDIUM REMOVAL (SPC-3 clause 6, "PREVENT ALLOW MEDIUM
 * REMOVAL command"):
 * bit 0 of byte 4 locks the medium in; the host's eject then needs force. */
static void prevent_allow(struct ide_cd *cd)
{
    cd->locked = cd->cdb[4] & 1;
    ide_cd_done(cd);
}

/* GET EVENT STATUS NOTIFICATION (MMC-3 clause 6, "GET EVENT STATUS
 * NOTIFICATION Command"), polled only (an asynchronous request is an
 * invalid field), media class only: the header (event data length,
 * notification class 4 "media", the classes supported) and, when the
 * host asked for the media class, one descriptor: the event (1
 * EjectRequest, 2 NewMedia, 3 MediaRemoval, 0 none), reported once, and
 * the media status (bit 0 tray open, bit 1 medium present). */
static void event_status(struct ide_cd *cd)
{
    if (!(cd->cdb[1] & 1)) {
        ide_cd_fail(cd, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
        return;
    }
    uint8_t *b = cd->buf;
    memset(b, 0, 8);
    b[3] = 1u << 4;
    if (!(cd->cdb[4] & (1u << 4))) {
        /* No class asked for that this drive has: NEA, no descriptor. */
        put_be16(b, 2);
        b[2] = 0x80;
        atapi_reply(cd, 4, be16(cd->cdb + 7));
        return;
    }
    put_be16(b, 6);
    b[2] = 4;
    if (cd->event_eject_request)
        b[4] = 1;
    else if (cd->event_new_media)
        b[4] = 2;
    else if (cd->event_removed)
        b[4] = 3;
    cd->event_eject_request = cd->event_new_media = cd->event_removed = false;
    b[5] = (uint8_t)((cd->tray_open ? 1 : 0) | (atapi_medium_ready(cd) ? 2 : 0));
    atapi_reply(cd, 8, be16(cd->cdb + 7));
}

/* ---- Which command, and the checks before it --------------------------------------- */

/* The commands a unit attention does not hold up (SAM-3, "Unit attention
 * condition": INQUIRY and REQUEST SENSE; MMC adds GET EVENT
 * STATUS NOTIFICATION and GET CONFIGURATION, which a driver asks to
 * learn what is in the drive). */
static bool passes_attention(uint8_t op)
{
    return op == SCSI_INQUIRY || op == SCSI_REQUEST_SENSE || op == SCSI_GET_EVENT_STATUS ||
           op == SCSI_GET_CONFIGURATION;
}

/* The commands that need a medium to read. */
static bool needs_medium(uint8_t op)
{
    return op == SCSI_TEST_UNIT_READY || op == SCSI_READ_CAPACITY || op == SCSI_READ_10 ||
           op == SCSI_READ_12 || op == SCSI_READ_TOC || op == SCSI_READ_DISC_INFO;
}

/* A changed medium, in QEMU's two steps (see the top of this file):
 * true when this command was failed for it. */
static bool report_change(struct ide_cd *cd, uint8_t op)
{
    if (!cd->changed || passes_attention(op) || !atapi_medium_ready(cd))
        return false;
    if (cd->changed == 1) {
        cd->changed = 2;
        ide_cd_fail(cd, SENSE_NOT_READY, ASC_MEDIUM_NOT_PRESENT, 2);
    } else {
        cd->changed = 0;
        ide_cd_fail(cd, SENSE_UNIT_ATTENTION, ASC_MEDIUM_CHANGED, 0);
    }
    return true;
}

void atapi_command(struct ide_cd *cd)
{
    uint8_t op = cd->cdb[0];
    /* The sense data is the last failed command's: a new command other
     * than REQUEST SENSE starts without. */
    if (op != SCSI_REQUEST_SENSE)
        cd->sense_key = cd->asc = cd->ascq = 0;
    if (report_change(cd, op))
        return;
    if (needs_medium(op) && !atapi_medium_ready(cd)) {
        not_present(cd);
        return;
    }
    switch (op) {
    case SCSI_TEST_UNIT_READY:
        ide_cd_done(cd);
        break;
    case SCSI_REQUEST_SENSE:
        request_sense(cd);
        break;
    case SCSI_INQUIRY:
        inquiry(cd);
        break;
    case SCSI_READ_CAPACITY:
        read_capacity(cd);
        break;
    case SCSI_READ_10:
        read_blocks(cd, be32(cd->cdb + 2), be16(cd->cdb + 7));
        break;
    case SCSI_READ_12:
        read_blocks(cd, be32(cd->cdb + 2), be32(cd->cdb + 6));
        break;
    case SCSI_START_STOP_UNIT:
        start_stop(cd);
        break;
    case SCSI_PREVENT_ALLOW:
        prevent_allow(cd);
        break;
    case SCSI_GET_EVENT_STATUS:
        event_status(cd);
        break;
    default:
        /* The commands that describe the disc and the drive
         * (atapi_disc.c); any other is ILLEGAL REQUEST / INVALID COMMAND
         * OPERATION CODE. */
        if (!atapi_disc_command(cd))
            ide_cd_fail(cd, SENSE_ILLEGAL_REQUEST, ASC_INVALID_OPCODE, 0);
        break;
    }
}
