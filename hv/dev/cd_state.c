/*
 * cd_state.c: the CD-ROM drive's vmstate serialiser (devstate.h, the
 * 'cdrom' section of docs/vmstate.md): the ATA registers, where a PACKET
 * command is (its command packet so far, the DRQ block being read, the
 * sectors of a READ still to come), the tray, the guest's lock, the
 * changed-medium report and the sense data.
 *
 * The medium itself is the machine's, not the guest's, as a disk's image
 * is (core/cdrom.c: an outer disk, kept across a reset): a state records
 * only whether the drive held one and its size in sectors, and a load
 * into a drive that holds another (none where the state had one, or one
 * of another size) is refused, so that a guest never reads on from the
 * middle of a disc that is not there.  A medium of the same size with
 * other bytes cannot be told apart (neither can QEMU, which keeps the
 * drive's medium and path on the destination as they are): a user who
 * changed the disc since the snapshot puts the old one back first.
 */
#include "klib.h"

#include "devstate.h"
#include "ide_cd.h"

/* The medium as a state records it: none (0), or its size in sectors. */
static uint32_t medium_sectors(const struct ide_cd *cd, bool *has)
{
    *has = ide_cd_has_medium(cd);
    return *has ? cd->nsectors : 0;
}

/* A medium for a message: "no medium" or "a medium of N sectors". */
static void describe(char *buf, size_t len, bool has, uint32_t sectors)
{
    if (has)
        ksnprintf(buf, len, "a medium of %u sectors", sectors);
    else
        ksnprintf(buf, len, "no medium");
}

/* The command block, the Device Control register and the interrupt
 * request (ATA/ATAPI-6 clause 7 "Register descriptions"): every value a
 * byte register can hold is one the guest could have written. */
static void registers_state(struct vms *v, struct ide_cd *cd)
{
    vms_u8(v, &cd->features);
    vms_u8(v, &cd->error);
    vms_u8(v, &cd->nsector);
    vms_u8(v, &cd->lba_low);
    vms_u8(v, &cd->lba_mid);
    vms_u8(v, &cd->lba_high);
    vms_u8(v, &cd->device);
    vms_u8(v, &cd->status);
    vms_u8(v, &cd->devctl);
    vms_bool(v, &cd->intrq);
}

/* A PACKET command in progress (ATA/ATAPI-6 clause 9 "PACKET command
 * protocol"): the packet received so far, or the data being read with
 * its DRQ block, and a READ's next sector and count. */
static void transfer_state(struct vms *v, struct ide_cd *cd)
{
    uint8_t phase = (uint8_t)cd->phase;
    uint32_t cdb_len = cd->cdb_len, limit = cd->byte_limit, len = cd->len, pos = cd->pos,
             end = cd->block_end;
    vms_u8(v, &phase);
    vms_bytes(v, cd->cdb, sizeof(cd->cdb));
    vms_u32(v, &cdb_len);
    vms_u32(v, &limit);
    vms_bytes(v, cd->buf, sizeof(cd->buf));
    vms_u32(v, &len);
    vms_u32(v, &pos);
    vms_u32(v, &end);
    vms_u32(v, &cd->lba);
    vms_u32(v, &cd->sectors);
    if (!v->loading)
        return;
    /* The twelfth byte runs the command at once (ide_cd.c), so at most
     * eleven wait while the packet comes (twelve stay counted after it);
     * the Byte Count Limit is even (PACKET makes 0 into 0xfffe); the block
     * lies in the data, the data in buf. */
    vms_check(v, phase <= IDE_CD_DATA_IN, "the transfer's phase");
    vms_check(v,
              cdb_len < sizeof(cd->cdb) || (cdb_len == sizeof(cd->cdb) && phase != IDE_CD_PACKET),
              "the command packet's length");
    vms_check(v, (limit == 0 || !(limit & 1)) && limit <= 0xfffe, "the byte count limit");
    vms_check(v, pos <= end && end <= len && len <= sizeof(cd->buf), "the data's place");
    /* A READ only ever names sectors of the medium: checked against the
     * drive's in ide_cd_state(), once the medium is known. */
    cd->phase = (enum ide_cd_phase)phase;
    cd->cdb_len = cdb_len;
    cd->byte_limit = limit;
    cd->len = len;
    cd->pos = pos;
    cd->block_end = end;
}

/* The drive: the tray, the guest's lock, QEMU's two-step report of a
 * changed medium, the media events not reported yet, the sense data. */
static void drive_state(struct vms *v, struct ide_cd *cd)
{
    vms_bool(v, &cd->tray_open);
    vms_bool(v, &cd->locked);
    vms_u8(v, &cd->changed);
    vms_bool(v, &cd->event_new_media);
    vms_bool(v, &cd->event_removed);
    vms_bool(v, &cd->event_eject_request);
    vms_u8(v, &cd->sense_key);
    vms_u8(v, &cd->asc);
    vms_u8(v, &cd->ascq);
    vms_check(v, cd->changed <= 2, "the changed-medium report");
    vms_check(v, cd->sense_key <= 0xf, "the sense key");
}

void ide_cd_state(struct vms *v, struct ide_cd *cd)
{
    bool has, was_has;
    uint32_t here = medium_sectors(cd, &has), saved = here;
    was_has = has;
    /* The medium the state was taken with, compared with this drive's. */
    vms_bool(v, &was_has);
    vms_u32(v, &saved);
    if (v->loading && !v->failed && (was_has != has || saved != here)) {
        char want[48], got[48];
        describe(want, sizeof(want), was_has, saved);
        describe(got, sizeof(got), has, here);
        vms_fail(v,
                 "the state's CD-ROM drive held %s, this one holds %s: put the same medium in "
                 "first",
                 want, got);
        return;
    }
    registers_state(v, cd);
    transfer_state(v, cd);
    drive_state(v, cd);
    /* Sectors a READ has still to read are sectors of this medium. */
    vms_check(v, !cd->sectors || (has && cd->lba <= here && cd->sectors <= here - cd->lba),
              "the sectors a READ has to go");
}
