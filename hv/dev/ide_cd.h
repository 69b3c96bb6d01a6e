/*
 * ide_cd.h - an ATAPI CD-ROM drive on the PC's legacy secondary IDE
 * channel, the guest's one removable medium.  QEMU's `-cdrom FILE` puts
 * its drive at the same place (ide1-cd0: the secondary channel's master),
 * so a guest driver written for one finds the other.
 *
 * Two layers, three files:
 *   - ide_cd.c: the ATA side, the channel's registers (command block at
 *     ports 0x170-0x177, control block at 0x376, IRQ 15) and the few ATA
 *     commands a packet device answers: IDENTIFY PACKET DEVICE, PACKET
 *     with PIO data in, DEVICE RESET, EXECUTE DEVICE DIAGNOSTIC, SET
 *     FEATURES; IDENTIFY DEVICE is aborted with the packet signature, as
 *     the standard says.  Everything follows ATA/ATAPI-6 (INCITS
 *     361-2002): clause 7 "Register descriptions", clause 8 "Command
 *     descriptions" and clause 9 "Protocol" (its "PACKET command protocol"
 *     and "Signature and persistence").
 *   - atapi.c: the SCSI commands that arrive in a PACKET's 12-byte
 *     command block: TEST UNIT READY, REQUEST SENSE, INQUIRY, START STOP
 *     UNIT, PREVENT ALLOW MEDIUM REMOVAL (SPC-3, INCITS 408-2005), READ
 *     CAPACITY, READ (10), READ (12), GET EVENT STATUS NOTIFICATION (MMC-3,
 *     INCITS 360-2002), each error with its sense data (SPC-3 4.5.3 "Fixed
 *     format sense data", 4.5.6 "Sense key and sense code definitions").
 *   - atapi_disc.c: the commands that describe the disc and the drive:
 *     READ TOC/PMA/ATIP, READ DISC INFORMATION, GET CONFIGURATION (MMC-3)
 *     and MODE SENSE (10) (SPC-3), answered as QEMU's drive answers them.
 *
 * The medium is a read-only image of 2048-byte sectors (an ISO 9660 file,
 * or any file: the drive reads bytes, not a file system) behind the
 * `read` callback: in hv the launcher's file on an outer disk, or the
 * staging disk's media region after a change (core/cdrom.c); in the unit
 * test a buffer.  The host changes the medium with ide_cd_eject() and
 * ide_cd_insert(); the guest sees it the way QEMU shows it, through the
 * tray and the sense data (atapi.c says how).
 *
 * Only PIO, polled or with INTRQ: no DMA (IDENTIFY PACKET DEVICE says so,
 * and a PACKET asking for DMA is aborted).  Only the master position: the
 * slave reads as absent (all registers 0), as on QEMU with one drive.
 * Compiled hosted too (tests/unit/test_hv_cd.c).
 */
#ifndef HV_DEV_IDE_CD_H
#define HV_DEV_IDE_CD_H

#include <stdbool.h>
#include <stdint.h>

#include "iobus.h"

/* The secondary channel of a PC's IDE controller in compatibility mode:
 * its command block, its control block (one register: Device Control on
 * write, Alternate Status on read) and its interrupt. */
#define IDE_CD_IO_BASE  0x170
#define IDE_CD_CTL_PORT 0x376
#define IDE_CD_IRQ      15

/* One sector of a CD's data track (mode 1). */
#define IDE_CD_SECTOR 2048

/* The command block's registers, as offsets from IDE_CD_IO_BASE. */
enum {
    IDE_REG_DATA = 0,
    IDE_REG_ERROR = 1,   /* read: Error; write: Features */
    IDE_REG_NSECTOR = 2, /* Sector Count; for a packet device: Interrupt Reason */
    IDE_REG_LBA_LOW = 3,
    IDE_REG_LBA_MID = 4,  /* packet devices: Byte Count low */
    IDE_REG_LBA_HIGH = 5, /* packet devices: Byte Count high */
    IDE_REG_DEVICE = 6,
    IDE_REG_STATUS = 7, /* read: Status; write: Command */
};

/* Status register bits (ATA/ATAPI-6 clause 7, "Status register"). */
#define IDE_ST_ERR  0x01
#define IDE_ST_DRQ  0x08
#define IDE_ST_DSC  0x10
#define IDE_ST_DRDY 0x40
#define IDE_ST_BSY  0x80
/* Error register: ABRT; a packet device puts its sense key in bits 7:4. */
#define IDE_ER_ABRT 0x04
/* Device Control register: nIEN (no INTRQ) and SRST (software reset). */
#define IDE_DC_NIEN 0x02
#define IDE_DC_SRST 0x04
/* Device register: DEV, the slave's bit. */
#define IDE_DEV_SLAVE 0x10
/* Interrupt Reason (the Sector Count register of a packet device): CoD,
 * the transfer is a command packet (1) or data (0); IO, towards the host. */
#define IDE_IR_COD 0x01
#define IDE_IR_IO  0x02

/* The ATA commands. */
#define ATA_CMD_DEVICE_RESET    0x08
#define ATA_CMD_DIAGNOSTIC      0x90
#define ATA_CMD_PACKET          0xa0
#define ATA_CMD_IDENTIFY_PACKET 0xa1
#define ATA_CMD_IDENTIFY        0xec
#define ATA_CMD_SET_FEATURES    0xef

/* The SCSI/MMC operation codes atapi.c answers. */
#define SCSI_TEST_UNIT_READY   0x00
#define SCSI_REQUEST_SENSE     0x03
#define SCSI_INQUIRY           0x12
#define SCSI_START_STOP_UNIT   0x1b
#define SCSI_PREVENT_ALLOW     0x1e
#define SCSI_READ_CAPACITY     0x25
#define SCSI_READ_10           0x28
#define SCSI_READ_TOC          0x43
#define SCSI_GET_CONFIGURATION 0x46
#define SCSI_GET_EVENT_STATUS  0x4a
#define SCSI_READ_DISC_INFO    0x51
#define SCSI_MODE_SENSE_10     0x5a
#define SCSI_READ_12           0xa8

/* Sense keys, and the additional sense codes (ASC) used here (SPC-3 4.5.6
 * "Sense key and sense code definitions"). */
#define SENSE_NONE               0x0
#define SENSE_NOT_READY          0x2
#define SENSE_MEDIUM_ERROR       0x3
#define SENSE_ILLEGAL_REQUEST    0x5
#define SENSE_UNIT_ATTENTION     0x6
#define ASC_UNRECOVERED_READ     0x11
#define ASC_INVALID_OPCODE       0x20
#define ASC_LBA_OUT_OF_RANGE     0x21
#define ASC_INVALID_FIELD        0x24
#define ASC_MEDIUM_CHANGED       0x28
#define ASC_SAVING_NOT_SUPPORTED 0x39
#define ASC_MEDIUM_NOT_PRESENT   0x3a
#define ASC_REMOVAL_PREVENTED    0x53

/* The medium's bytes: `read` fills buf with len bytes from offset off and
 * returns 0, or -1 (the drive then reports a medium error). */
struct ide_cd_medium {
    void *ctx;
    int (*read)(void *ctx, uint64_t off, void *buf, uint32_t len);
    /* Its size in bytes; the drive shows whole sectors of it, a partial
     * last sector reading as zeros after the end. */
    uint64_t bytes;
    /* Its name for front-ends (query-block's "file"); the drive only keeps
     * the pointer. */
    const char *name;
};

/* Where a transfer is (ATA/ATAPI-6 clause 9 "PACKET command protocol"):
 * no command, the device waits for the 12-byte command packet, or data
 * goes to the host one DRQ block at a time. */
enum ide_cd_phase { IDE_CD_IDLE, IDE_CD_PACKET, IDE_CD_DATA_IN };

struct ide_cd {
    /* The command block as the host last wrote or the device last set it. */
    uint8_t features, error, nsector, lba_low, lba_mid, lba_high, device, status;
    /* The Device Control register (nIEN, SRST). */
    uint8_t devctl;
    /* The device asks for an interrupt; INTRQ is this unless nIEN. */
    bool intrq;

    enum ide_cd_phase phase;
    /* The command packet being received, and how much of it came. */
    uint8_t cdb[12];
    unsigned cdb_len;
    /* PACKET's Byte Count Limit: the most bytes in one DRQ block. */
    unsigned byte_limit;
    /* The data of the command being answered: `len` bytes in buf, of which
     * the host has read `pos`; the current DRQ block ends at `block_end`.
     * A READ refills buf with its next sector (`lba`, `sectors` to go). */
    uint8_t buf[IDE_CD_SECTOR];
    unsigned len, pos, block_end;
    uint32_t lba, sectors;

    /* The drive and its medium (atapi.c): the medium (NULL `read`: none),
     * its sectors, the tray, the guest's lock, QEMU's two-step report of a
     * changed medium (1: "not present" due next, 2: "changed" due next). */
    struct ide_cd_medium medium;
    uint32_t nsectors;
    bool tray_open, locked;
    uint8_t changed;
    /* Events for GET EVENT STATUS NOTIFICATION's media class, each
     * reported once: a new medium, the medium taken out, the host asking
     * a locked drive to let its medium go. */
    bool event_new_media, event_removed, event_eject_request;
    /* The sense data of the last command that failed (REQUEST SENSE). */
    uint8_t sense_key, asc, ascq;

    /* The interrupt line (IRQ 15): raised and lowered as INTRQ changes. */
    void (*set_irq)(void *ctx, bool level);
    void *irq_ctx;
    /* Messages for hv's log (a failed read of the medium), one line each. */
    void (*note)(void *ctx, const char *line);
    void *note_ctx;
    /* Reads of the medium that failed. */
    uint64_t read_errors;

    /* The two port ranges on the guest's bus. */
    struct io_device io, ctl;
};

/* A drive after power-on, with `medium` in it (NULL: empty) and its tray
 * closed; the caller adds cd->io and cd->ctl to the bus. */
void ide_cd_init(struct ide_cd *cd, const struct ide_cd_medium *medium,
                 void (*set_irq)(void *ctx, bool level), void *irq_ctx);

/* The host opens the tray and takes the medium out (QMP's eject).  With
 * `force` false a drive the guest locked (PREVENT ALLOW MEDIUM REMOVAL)
 * refuses: -1, nothing changes.  0 otherwise. */
int ide_cd_eject(struct ide_cd *cd, bool force);
/* The host puts `medium` in and closes the tray (the end of QMP's
 * blockdev-change-medium); the guest is told the medium changed. */
void ide_cd_insert(struct ide_cd *cd, const struct ide_cd_medium *medium);
/* Is a medium in the drive (whether or not the tray is open)? */
bool ide_cd_has_medium(const struct ide_cd *cd);
/* The interrupt line driven as the drive's registers say, after a loadvm
 * put them back (core/vmsave.c). */
void ide_cd_sync_irq(struct ide_cd *cd);

/* atapi.c: carry out the command packet in cd->cdb (ide_cd.c calls it when
 * the 12th byte arrives).  Either leaves data in cd->buf for the host
 * (ide_cd_data()) or ends the command (ide_cd_done()). */
void atapi_command(struct ide_cd *cd);
/* atapi_disc.c: carry out cd->cdb if it is one of the commands that
 * describe the disc or the drive (READ TOC/PMA/ATIP, READ DISC
 * INFORMATION, MODE SENSE (10), GET CONFIGURATION): true when it was. */
bool atapi_disc_command(struct ide_cd *cd);
/* atapi.c: the host read the last byte of cd->buf while cd->sectors of a
 * READ are still to go: put the next sector in.  0, or -1 when the command
 * was ended with an error instead. */
int atapi_next_sector(struct ide_cd *cd);

/* ide_cd.c, for atapi.c: start the data phase with `len` bytes in cd->buf
 * (len <= IDE_CD_SECTOR); end a command without error; end one with
 * sense data (CHECK CONDITION: the Error register's sense key, ERR). */
void ide_cd_data(struct ide_cd *cd, unsigned len);
void ide_cd_done(struct ide_cd *cd);
void ide_cd_fail(struct ide_cd *cd, uint8_t key, uint8_t asc, uint8_t ascq);

#endif
