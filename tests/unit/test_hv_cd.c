/*
 * Unit tests for hv/dev's CD-ROM drive (ide_cd.c, atapi.c): a guest's
 * ATAPI driver on the port bus -- IDENTIFY, PACKET, the data phases --
 * over a medium in memory whose every sector says its own number, and the
 * host ejecting and changing it.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "dev/ide_cd.h"
#include "dev/iobus.h"
#include "check_main.h"

#define IO  IDE_CD_IO_BASE
#define CTL IDE_CD_CTL_PORT

static struct iobus bus;
static struct ide_cd cd;
static bool irq_level;
static int irq_edges;
static char notes[4][160];
static int nnotes;

/* Media: sector n holds n in its first 4 bytes and n's low byte in every
 * other; `fail_reads` makes the next reads fail as a broken host file. */
static uint8_t disc_a[5 * IDE_CD_SECTOR + 100];
static uint8_t disc_b[3 * IDE_CD_SECTOR];
static bool fail_reads;

static int mem_read(void *ctx, uint64_t off, void *buf, uint32_t len)
{
    if (fail_reads)
        return -1;
    memcpy(buf, (uint8_t *)ctx + off, len);
    return 0;
}

static void fill(uint8_t *d, size_t len, uint8_t tag)
{
    for (size_t i = 0; i < len; i++) {
        size_t s = i / IDE_CD_SECTOR, o = i % IDE_CD_SECTOR;
        d[i] = o < 4 ? (uint8_t)(s >> (8 * o)) : o == 4 ? tag : (uint8_t)s;
    }
}

static void set_irq(void *ctx, bool level)
{
    (void)ctx;
    if (level && !irq_level)
        irq_edges++;
    irq_level = level;
}

static void note(void *ctx, const char *line)
{
    (void)ctx;
    if (nnotes < 4)
        strncpy(notes[nnotes], line, sizeof(notes[0]) - 1);
    nnotes++;
}

static const struct ide_cd_medium medium_a = {disc_a, mem_read, sizeof(disc_a), "a.iso"};
static const struct ide_cd_medium medium_b = {disc_b, mem_read, sizeof(disc_b), "b.iso"};

static void setup(void)
{
    fill(disc_a, sizeof(disc_a), 'A');
    fill(disc_b, sizeof(disc_b), 'B');
    fail_reads = false;
    irq_level = false;
    irq_edges = 0;
    nnotes = 0;
    iobus_init(&bus, NULL, NULL);
    ide_cd_init(&cd, &medium_a, set_irq, NULL);
    cd.note = note;
    ck_assert_int_eq(iobus_add(&bus, &cd.io), 0);
    ck_assert_int_eq(iobus_add(&bus, &cd.ctl), 0);
}

/* ---- A guest's driver, in a few steps --------------------------------------- */

static uint8_t status(void)
{
    return (uint8_t)iobus_in(&bus, IO + IDE_REG_STATUS, 1);
}

/* Send a 12-byte packet with byte count limit `limit`; read what the drive
 * sends into buf (at most max bytes), DRQ block by DRQ block, each block's
 * size as the drive says.  Returns the bytes read; *st the final status,
 * *blocks (if not NULL) how many DRQ blocks there were. */
static unsigned packet(const uint8_t cdb[12], unsigned limit, uint8_t *buf, unsigned max,
                       uint8_t *st, unsigned *blocks)
{
    iobus_out(&bus, IO + IDE_REG_DEVICE, 1, 0xa0);
    iobus_out(&bus, IO + IDE_REG_ERROR, 1, 0);
    iobus_out(&bus, IO + IDE_REG_LBA_MID, 1, limit & 0xff);
    iobus_out(&bus, IO + IDE_REG_LBA_HIGH, 1, limit >> 8);
    iobus_out(&bus, IO + IDE_REG_STATUS, 1, ATA_CMD_PACKET);
    /* The drive wants the packet: DRQ, CoD=1, IO=0. */
    ck_assert_int_eq(status() & (IDE_ST_BSY | IDE_ST_DRQ), IDE_ST_DRQ);
    ck_assert_int_eq(iobus_in(&bus, IO + IDE_REG_NSECTOR, 1) & 3, IDE_IR_COD);
    for (int i = 0; i < 12; i += 2)
        iobus_out(&bus, IO, 2, (uint32_t)cdb[i] | (uint32_t)cdb[i + 1] << 8);
    unsigned got = 0, nb = 0;
    uint8_t s;
    while ((s = status()) & IDE_ST_DRQ) {
        /* A data block: IO=1, CoD=0, its size in LBA Mid/High. */
        ck_assert_int_eq(iobus_in(&bus, IO + IDE_REG_NSECTOR, 1) & 3, IDE_IR_IO);
        unsigned n =
            iobus_in(&bus, IO + IDE_REG_LBA_MID, 1) | iobus_in(&bus, IO + IDE_REG_LBA_HIGH, 1) << 8;
        ck_assert_uint_gt(n, 0);
        nb++;
        for (unsigned i = 0; i < n; i += 2) {
            uint32_t w = iobus_in(&bus, IO, 2);
            if (got + 2 <= max) {
                buf[got] = (uint8_t)w;
                buf[got + 1] = (uint8_t)(w >> 8);
            }
            got += 2;
        }
    }
    /* The end: IO=1, CoD=1. */
    ck_assert_int_eq(iobus_in(&bus, IO + IDE_REG_NSECTOR, 1) & 3, IDE_IR_IO | IDE_IR_COD);
    *st = s;
    if (blocks)
        *blocks = nb;
    return got;
}

/* A command with no data wanted back; returns the final status. */
static uint8_t simple(uint8_t op, uint8_t b4)
{
    uint8_t cdb[12] = {op, 0, 0, 0, b4};
    uint8_t st, buf[64];
    packet(cdb, 0xfffe, buf, sizeof(buf), &st, NULL);
    return st;
}

/* REQUEST SENSE: key << 16 | asc << 8 | ascq. */
static unsigned sense(void)
{
    uint8_t cdb[12] = {SCSI_REQUEST_SENSE, 0, 0, 0, 18};
    uint8_t st, b[18];
    ck_assert_uint_eq(packet(cdb, 0xfffe, b, sizeof(b), &st, NULL), 18);
    ck_assert_int_eq(st & IDE_ST_ERR, 0);
    ck_assert_int_eq(b[0], 0x70);
    ck_assert_int_eq(b[7], 10);
    return (unsigned)b[2] << 16 | (unsigned)b[12] << 8 | b[13];
}

/* READ (10) of `count` sectors from `lba` into buf. */
static unsigned read10(uint32_t lba, uint16_t count, unsigned limit, uint8_t *buf, unsigned max,
                       uint8_t *st, unsigned *blocks)
{
    uint8_t cdb[12] = {
        SCSI_READ_10, 0, (uint8_t)(lba >> 24),  (uint8_t)(lba >> 16), (uint8_t)(lba >> 8),
        (uint8_t)lba, 0, (uint8_t)(count >> 8), (uint8_t)count};
    return packet(cdb, limit, buf, max, st, blocks);
}

/* ---- The tests ---------------------------------------------------------------- */

START_TEST(signature_and_identify)
{
    /* Power-on: a packet device's signature. */
    ck_assert_int_eq(iobus_in(&bus, IO + IDE_REG_LBA_MID, 1), 0x14);
    ck_assert_int_eq(iobus_in(&bus, IO + IDE_REG_LBA_HIGH, 1), 0xeb);
    /* IDENTIFY DEVICE: aborted, the signature again. */
    iobus_out(&bus, IO + IDE_REG_LBA_MID, 1, 0);
    iobus_out(&bus, IO + IDE_REG_STATUS, 1, ATA_CMD_IDENTIFY);
    ck_assert_int_eq(status() & IDE_ST_ERR, IDE_ST_ERR);
    ck_assert_int_eq(iobus_in(&bus, IO + IDE_REG_ERROR, 1), IDE_ER_ABRT);
    ck_assert_int_eq(iobus_in(&bus, IO + IDE_REG_LBA_MID, 1), 0x14);
    /* IDENTIFY PACKET DEVICE: 256 words, ATAPI CD-ROM, removable. */
    iobus_out(&bus, IO + IDE_REG_STATUS, 1, ATA_CMD_IDENTIFY_PACKET);
    ck_assert_int_eq(status() & IDE_ST_DRQ, IDE_ST_DRQ);
    uint16_t w[256];
    for (int i = 0; i < 256; i++)
        w[i] = (uint16_t)iobus_in(&bus, IO, 2);
    ck_assert_int_eq(status() & (IDE_ST_DRQ | IDE_ST_ERR | IDE_ST_BSY), 0);
    ck_assert_int_eq(w[0] >> 14, 2);
    ck_assert_int_eq((w[0] >> 8) & 0x1f, 5);
    ck_assert_int_eq(w[0] & 0x80, 0x80);
    ck_assert_int_eq(w[27], ('H' << 8) | 'V');
    /* An unknown ATA command is aborted; the slave is absent. */
    iobus_out(&bus, IO + IDE_REG_STATUS, 1, 0x20);
    ck_assert_int_eq(status() & IDE_ST_ERR, IDE_ST_ERR);
    iobus_out(&bus, IO + IDE_REG_DEVICE, 1, 0xb0);
    ck_assert_int_eq(status(), 0);
    ck_assert_int_eq(iobus_in(&bus, CTL, 1), 0);
}
END_TEST

START_TEST(inquiry_capacity_and_reads)
{
    uint8_t b[4 * IDE_CD_SECTOR], st;
    uint8_t inq[12] = {SCSI_INQUIRY, 0, 0, 0, 36};
    ck_assert_uint_eq(packet(inq, 0xfffe, b, sizeof(b), &st, NULL), 36);
    ck_assert_int_eq(b[0], 5);
    ck_assert_int_eq(b[1], 0x80);
    ck_assert_int_eq(memcmp(b + 16, "HVKIT DVD-ROM   ", 16), 0);
    /* Allocation length 5: 5 bytes (rounded to a word on the wire). */
    inq[4] = 5;
    ck_assert_uint_eq(packet(inq, 0xfffe, b, sizeof(b), &st, NULL), 6);
    uint8_t cap[12] = {SCSI_READ_CAPACITY};
    ck_assert_uint_eq(packet(cap, 0xfffe, b, sizeof(b), &st, NULL), 8);
    /* 5 whole sectors and 100 bytes: 6 sectors, the last is LBA 5. */
    ck_assert_int_eq(b[3], 5);
    ck_assert_int_eq(b[6], 0x08);
    ck_assert_int_eq(simple(SCSI_TEST_UNIT_READY, 0) & IDE_ST_ERR, 0);
    /* Three sectors, one DRQ block each. */
    unsigned blocks;
    ck_assert_uint_eq(read10(2, 3, 0xfffe, b, sizeof(b), &st, &blocks), 3 * IDE_CD_SECTOR);
    ck_assert_int_eq(st & IDE_ST_ERR, 0);
    ck_assert_uint_eq(blocks, 3);
    ck_assert_int_eq(memcmp(b, disc_a + 2 * IDE_CD_SECTOR, 3 * IDE_CD_SECTOR), 0);
    /* A byte count limit of 512 (odd: 513 moves 512): four blocks a sector. */
    ck_assert_uint_eq(read10(0, 1, 513, b, sizeof(b), &st, &blocks), IDE_CD_SECTOR);
    ck_assert_uint_eq(blocks, 4);
    ck_assert_int_eq(memcmp(b, disc_a, IDE_CD_SECTOR), 0);
    /* The partial last sector: its bytes, then zeros. */
    ck_assert_uint_eq(read10(5, 1, 0xfffe, b, sizeof(b), &st, NULL), IDE_CD_SECTOR);
    ck_assert_int_eq(memcmp(b, disc_a + 5 * IDE_CD_SECTOR, 100), 0);
    ck_assert_int_eq(b[100] | b[2047], 0);
    /* 32-bit data port accesses read the same bytes. */
    uint8_t cdb[12] = {SCSI_READ_10, 0, 0, 0, 0, 1, 0, 0, 1};
    iobus_out(&bus, IO + IDE_REG_LBA_MID, 1, 0xfe);
    iobus_out(&bus, IO + IDE_REG_LBA_HIGH, 1, 0xff);
    iobus_out(&bus, IO + IDE_REG_STATUS, 1, ATA_CMD_PACKET);
    for (int i = 0; i < 12; i += 4)
        iobus_out(&bus, IO, 4,
                  cdb[i] | cdb[i + 1] << 8 | cdb[i + 2] << 16 | (uint32_t)cdb[i + 3] << 24);
    ck_assert_uint_eq(iobus_in(&bus, IO, 4), 1);
}
END_TEST

START_TEST(errors_get_sense)
{
    uint8_t b[IDE_CD_SECTOR], st;
    /* Past the end (LBA 5 + 2 > 6), and entirely beyond it. */
    ck_assert_uint_eq(read10(5, 2, 0xfffe, b, sizeof(b), &st, NULL), 0);
    ck_assert_int_eq(st & IDE_ST_ERR, IDE_ST_ERR);
    ck_assert_int_eq(iobus_in(&bus, IO + IDE_REG_ERROR, 1) >> 4, SENSE_ILLEGAL_REQUEST);
    ck_assert_uint_eq(sense(), SENSE_ILLEGAL_REQUEST << 16 | ASC_LBA_OUT_OF_RANGE << 8);
    /* Reported, the sense is gone. */
    ck_assert_uint_eq(sense(), 0);
    read10(0xffffffffu, 1, 0xfffe, b, sizeof(b), &st, NULL);
    ck_assert_uint_eq(sense(), SENSE_ILLEGAL_REQUEST << 16 | ASC_LBA_OUT_OF_RANGE << 8);
    /* Zero sectors: no error, no data. */
    ck_assert_uint_eq(read10(1, 0, 0xfffe, b, sizeof(b), &st, NULL), 0);
    ck_assert_int_eq(st & IDE_ST_ERR, 0);
    /* An unknown operation code, and INQUIRY's vital product data. */
    ck_assert_int_eq(simple(0xff, 0) & IDE_ST_ERR, IDE_ST_ERR);
    ck_assert_uint_eq(sense(), SENSE_ILLEGAL_REQUEST << 16 | ASC_INVALID_OPCODE << 8);
    uint8_t evpd[12] = {SCSI_INQUIRY, 1, 0, 0, 36};
    packet(evpd, 0xfffe, b, sizeof(b), &st, NULL);
    ck_assert_uint_eq(sense(), SENSE_ILLEGAL_REQUEST << 16 | ASC_INVALID_FIELD << 8);
    /* A host file that fails: MEDIUM ERROR, one log line. */
    fail_reads = true;
    read10(0, 1, 0xfffe, b, sizeof(b), &st, NULL);
    read10(1, 1, 0xfffe, b, sizeof(b), &st, NULL);
    ck_assert_uint_eq(sense(), SENSE_MEDIUM_ERROR << 16 | ASC_UNRECOVERED_READ << 8);
    ck_assert_int_eq(nnotes, 1);
    ck_assert_str_eq(notes[0], "ide1-cd0: reading sector 0 of the medium failed");
    /* PACKET asking for DMA is aborted; a packet's extra bytes are lost. */
    iobus_out(&bus, IO + IDE_REG_ERROR, 1, 1);
    iobus_out(&bus, IO + IDE_REG_STATUS, 1, ATA_CMD_PACKET);
    ck_assert_int_eq(status() & (IDE_ST_ERR | IDE_ST_DRQ), IDE_ST_ERR);
    iobus_out(&bus, IO, 2, 0x1234);
    ck_assert_int_eq(iobus_in(&bus, IO, 2), 0);
}
END_TEST

START_TEST(eject_and_change)
{
    uint8_t b[IDE_CD_SECTOR], st;
    /* The host ejects: no medium, tray open. */
    ck_assert_int_eq(ide_cd_eject(&cd, false), 0);
    ck_assert(!ide_cd_has_medium(&cd));
    ck_assert_int_eq(simple(SCSI_TEST_UNIT_READY, 0) & IDE_ST_ERR, IDE_ST_ERR);
    ck_assert_int_eq(iobus_in(&bus, IO + IDE_REG_ERROR, 1) >> 4, SENSE_NOT_READY);
    ck_assert_uint_eq(sense(), SENSE_NOT_READY << 16 | ASC_MEDIUM_NOT_PRESENT << 8 | 2);
    read10(0, 1, 0xfffe, b, sizeof(b), &st, NULL);
    ck_assert_int_eq(st & IDE_ST_ERR, IDE_ST_ERR);
    /* GET EVENT STATUS NOTIFICATION: MediaRemoval once, tray open. */
    uint8_t gesn[12] = {SCSI_GET_EVENT_STATUS, 1, 0, 0, 1u << 4, 0, 0, 0, 8};
    ck_assert_uint_eq(packet(gesn, 0xfffe, b, sizeof(b), &st, NULL), 8);
    ck_assert_int_eq(b[2], 4);
    ck_assert_int_eq(b[4], 3);
    ck_assert_int_eq(b[5], 1);
    packet(gesn, 0xfffe, b, sizeof(b), &st, NULL);
    ck_assert_int_eq(b[4], 0);
    /* The host inserts disc B: not present once, then the unit attention,
     * then B's sectors.  INQUIRY passes meanwhile. */
    ide_cd_insert(&cd, &medium_b);
    uint8_t inq[12] = {SCSI_INQUIRY, 0, 0, 0, 36};
    packet(inq, 0xfffe, b, sizeof(b), &st, NULL);
    ck_assert_int_eq(st & IDE_ST_ERR, 0);
    ck_assert_int_eq(simple(SCSI_TEST_UNIT_READY, 0) & IDE_ST_ERR, IDE_ST_ERR);
    ck_assert_uint_eq(sense() >> 8, SENSE_NOT_READY << 8 | ASC_MEDIUM_NOT_PRESENT);
    ck_assert_int_eq(simple(SCSI_TEST_UNIT_READY, 0) & IDE_ST_ERR, IDE_ST_ERR);
    ck_assert_uint_eq(sense(), SENSE_UNIT_ATTENTION << 16 | ASC_MEDIUM_CHANGED << 8);
    ck_assert_int_eq(simple(SCSI_TEST_UNIT_READY, 0) & IDE_ST_ERR, 0);
    ck_assert_uint_eq(read10(2, 1, 0xfffe, b, sizeof(b), &st, NULL), IDE_CD_SECTOR);
    ck_assert_int_eq(memcmp(b, disc_b + 2 * IDE_CD_SECTOR, IDE_CD_SECTOR), 0);
    ck_assert_int_eq(b[4], 'B');
    read10(3, 1, 0xfffe, b, sizeof(b), &st, NULL);
    ck_assert_uint_eq(sense(), SENSE_ILLEGAL_REQUEST << 16 | ASC_LBA_OUT_OF_RANGE << 8);
    packet(gesn, 0xfffe, b, sizeof(b), &st, NULL);
    ck_assert_int_eq(b[4], 2);
    ck_assert_int_eq(b[5], 2);
}
END_TEST

START_TEST(lock_and_guest_eject)
{
    uint8_t b[64], st;
    /* Locked, the guest's own eject and the host's plain eject are refused. */
    ck_assert_int_eq(simple(SCSI_PREVENT_ALLOW, 1) & IDE_ST_ERR, 0);
    ck_assert_int_eq(simple(SCSI_START_STOP_UNIT, 2) & IDE_ST_ERR, IDE_ST_ERR);
    ck_assert_uint_eq(sense(), SENSE_ILLEGAL_REQUEST << 16 | ASC_REMOVAL_PREVENTED << 8 | 2);
    ck_assert_int_eq(ide_cd_eject(&cd, false), -1);
    ck_assert(ide_cd_has_medium(&cd));
    /* The host's request shows as an EjectRequest event. */
    uint8_t gesn[12] = {SCSI_GET_EVENT_STATUS, 1, 0, 0, 1u << 4, 0, 0, 0, 8};
    packet(gesn, 0xfffe, b, sizeof(b), &st, NULL);
    ck_assert_int_eq(b[4], 1);
    /* Unlocked, the guest opens the tray (the medium stays in it) and
     * closes it again. */
    simple(SCSI_PREVENT_ALLOW, 0);
    ck_assert_int_eq(simple(SCSI_START_STOP_UNIT, 2) & IDE_ST_ERR, 0);
    ck_assert(cd.tray_open && ide_cd_has_medium(&cd));
    ck_assert_int_eq(simple(SCSI_TEST_UNIT_READY, 0) & IDE_ST_ERR, IDE_ST_ERR);
    ck_assert_uint_eq(sense(), SENSE_NOT_READY << 16 | ASC_MEDIUM_NOT_PRESENT << 8 | 2);
    simple(SCSI_START_STOP_UNIT, 3);
    ck_assert_int_eq(simple(SCSI_TEST_UNIT_READY, 0) & IDE_ST_ERR, 0);
    /* Locked again, force wins. */
    simple(SCSI_PREVENT_ALLOW, 1);
    ck_assert_int_eq(ide_cd_eject(&cd, true), 0);
    ck_assert(!ide_cd_has_medium(&cd) && !cd.locked);
}
END_TEST

START_TEST(interrupts_and_reset)
{
    uint8_t b[IDE_CD_SECTOR], st;
    /* Each data block and the completion raise INTRQ; reading Status
     * lowers it; Alternate Status does not. */
    read10(0, 1, 0xfffe, b, sizeof(b), &st, NULL);
    ck_assert_int_eq(irq_edges, 2);
    iobus_out(&bus, IO + IDE_REG_STATUS, 1, ATA_CMD_PACKET);
    ck_assert(!irq_level);
    for (int i = 0; i < 6; i++)
        iobus_out(&bus, IO, 2, 0);
    ck_assert(irq_level);
    iobus_in(&bus, CTL, 1);
    ck_assert(irq_level);
    status();
    ck_assert(!irq_level);
    /* nIEN holds the line low. */
    iobus_out(&bus, CTL, 1, IDE_DC_NIEN);
    irq_edges = 0;
    simple(SCSI_TEST_UNIT_READY, 0);
    ck_assert_int_eq(irq_edges, 0);
    /* A software reset in the middle of a READ: busy, then the signature
     * and no transfer. */
    uint8_t cdb[12] = {SCSI_READ_10, 0, 0, 0, 0, 0, 0, 0, 2};
    iobus_out(&bus, IO + IDE_REG_STATUS, 1, ATA_CMD_PACKET);
    for (int i = 0; i < 12; i += 2)
        iobus_out(&bus, IO, 2, cdb[i] | cdb[i + 1] << 8);
    ck_assert_int_eq(status() & IDE_ST_DRQ, IDE_ST_DRQ);
    iobus_out(&bus, CTL, 1, IDE_DC_SRST | IDE_DC_NIEN);
    ck_assert_int_eq(iobus_in(&bus, CTL, 1), IDE_ST_BSY);
    iobus_out(&bus, CTL, 1, IDE_DC_NIEN);
    ck_assert_int_eq(status() & (IDE_ST_BSY | IDE_ST_DRQ), 0);
    ck_assert_int_eq(iobus_in(&bus, IO + IDE_REG_LBA_HIGH, 1), 0xeb);
    /* And the drive works on. */
    ck_assert_uint_eq(read10(4, 1, 0xfffe, b, sizeof(b), &st, NULL), IDE_CD_SECTOR);
    ck_assert_int_eq(b[0], 4);
}
END_TEST

/* A guest that breaks the protocol: data reads with nothing to read, a
 * packet in bytes, commands in the middle of a transfer. */
START_TEST(hostile_driver)
{
    for (int i = 0; i < 100; i++)
        ck_assert_int_eq(iobus_in(&bus, IO, 4), 0);
    iobus_out(&bus, IO + IDE_REG_STATUS, 1, ATA_CMD_PACKET);
    uint8_t cdb[12] = {SCSI_READ_10, 0, 0, 0, 0, 0, 0, 0, 3};
    for (int i = 0; i < 12; i++)
        iobus_out(&bus, IO, 1, cdb[i]);
    ck_assert_int_eq(status() & IDE_ST_DRQ, IDE_ST_DRQ);
    for (int i = 0; i < 100; i++)
        iobus_in(&bus, IO, 2);
    /* A new command mid-transfer replaces the READ. */
    iobus_out(&bus, IO + IDE_REG_STATUS, 1, ATA_CMD_IDENTIFY_PACKET);
    for (int i = 0; i < 256; i++)
        iobus_in(&bus, IO, 2);
    ck_assert_int_eq(status() & IDE_ST_DRQ, 0);
    for (int i = 0; i < 5000; i++)
        iobus_in(&bus, IO, 4);
    ck_assert_int_eq(simple(SCSI_TEST_UNIT_READY, 0) & IDE_ST_ERR, 0);
}
END_TEST

/* The commands that describe the disc (atapi_disc.c) on a medium larger
 * than any CD -- a DVD-ROM to GET CONFIGURATION, with a lead-out whose MSF
 * address needs every field -- after the host changed it: GET
 * CONFIGURATION passes the unit attention, READ TOC does not.  The
 * answers for a CD, byte for byte against QEMU's drive, are
 * tests/integration/cdrom.sh's. */
START_TEST(describing_commands)
{
    /* 400000 sectors: 819 MB, more than 80 minutes of CD.  Only its size
     * matters: nothing reads its sectors. */
    const struct ide_cd_medium dvd = {disc_a, mem_read, 400000ull * IDE_CD_SECTOR, "dvd.iso"};
    ide_cd_insert(&cd, &dvd);
    uint8_t b[256], st;
    uint8_t config[12] = {SCSI_GET_CONFIGURATION, 0, 0, 0, 0, 0, 0, 0, 255};
    ck_assert_uint_eq(packet(config, 0xfffe, b, sizeof(b), &st, NULL), 20);
    ck_assert_int_eq(st & IDE_ST_ERR, 0);
    /* The unit attention is still to be reported, but GET CONFIGURATION
     * passes it: DVD-ROM (0010h) is current, CD-ROM (0008h) is not. */
    ck_assert_int_eq(b[6] << 8 | b[7], 0x0010);
    ck_assert_int_eq(b[14], 1);
    ck_assert_int_eq(b[18], 0);
    /* READ TOC waits for the change to be reported: not present, then the
     * unit attention, then the table. */
    uint8_t toc_msf[12] = {SCSI_READ_TOC, 2, 0, 0, 0, 0, 0, 0, 255};
    packet(toc_msf, 0xfffe, b, sizeof(b), &st, NULL);
    ck_assert_uint_eq(sense() >> 8, SENSE_NOT_READY << 8 | ASC_MEDIUM_NOT_PRESENT);
    packet(toc_msf, 0xfffe, b, sizeof(b), &st, NULL);
    ck_assert_uint_eq(sense(), SENSE_UNIT_ATTENTION << 16 | ASC_MEDIUM_CHANGED << 8);
    ck_assert_uint_eq(packet(toc_msf, 0xfffe, b, sizeof(b), &st, NULL), 20);
    /* The lead-out at 400000 + 150 frames: 88 minutes, 55 seconds, 25. */
    ck_assert_int_eq(b[14], 0xaa);
    ck_assert_int_eq(b[17], 88);
    ck_assert_int_eq(b[18], 55);
    ck_assert_int_eq(b[19], 25);
    /* The allocation length cuts the reply, whatever its data length says. */
    uint8_t toc_short[12] = {SCSI_READ_TOC, 0, 0, 0, 0, 0, 0, 0, 6};
    ck_assert_uint_eq(packet(toc_short, 0xfffe, b, sizeof(b), &st, NULL), 6);
    ck_assert_int_eq(b[1], 18);
    /* The session format, asked in byte 2 (MMC-3) or in byte 9 (SFF-8020i). */
    uint8_t session2[12] = {SCSI_READ_TOC, 0, 1, 0, 0, 0, 0, 0, 12};
    uint8_t session9[12] = {SCSI_READ_TOC, 0, 0, 0, 0, 0, 0, 0, 12, 0x40};
    ck_assert_uint_eq(packet(session2, 0xfffe, b, sizeof(b), &st, NULL), 12);
    ck_assert_int_eq(b[1], 10);
    ck_assert_int_eq(b[6], 1);
    ck_assert_uint_eq(packet(session9, 0xfffe, b, sizeof(b), &st, NULL), 12);
    ck_assert_int_eq(b[1], 10);
    /* The formats of recordable discs (2: full TOC ... 5: ATIP) are not
     * a pressed disc's. */
    uint8_t full[12] = {SCSI_READ_TOC, 0, 2, 0, 0, 0, 0, 0, 255};
    packet(full, 0xfffe, b, sizeof(b), &st, NULL);
    ck_assert_uint_eq(sense() >> 8, SENSE_ILLEGAL_REQUEST << 8 | ASC_INVALID_FIELD);
    /* The capabilities page shows the guest's lock. */
    uint8_t caps[12] = {SCSI_MODE_SENSE_10, 0, 0x2a, 0, 0, 0, 0, 0, 255};
    ck_assert_uint_eq(packet(caps, 0xfffe, b, sizeof(b), &st, NULL), 30);
    ck_assert_int_eq(b[8 + 6] & 2, 0);
    ck_assert_int_eq(simple(SCSI_PREVENT_ALLOW, 1) & IDE_ST_ERR, 0);
    packet(caps, 0xfffe, b, sizeof(b), &st, NULL);
    ck_assert_int_eq(b[8 + 6] & 2, 2);
    /* Out of the tray, the disc's commands fail NOT READY; the drive's do not. */
    ck_assert_int_eq(ide_cd_eject(&cd, true), 0);
    packet(toc_msf, 0xfffe, b, sizeof(b), &st, NULL);
    ck_assert_uint_eq(sense() >> 8, SENSE_NOT_READY << 8 | ASC_MEDIUM_NOT_PRESENT);
    ck_assert_uint_eq(packet(config, 0xfffe, b, sizeof(b), &st, NULL), 20);
    ck_assert_int_eq(b[6] << 8 | b[7], 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hv_cd");
    TCase *tc = tcase_create("drive");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, signature_and_identify);
    tcase_add_test(tc, inquiry_capacity_and_reads);
    tcase_add_test(tc, errors_get_sense);
    tcase_add_test(tc, eject_and_change);
    tcase_add_test(tc, lock_and_guest_eject);
    tcase_add_test(tc, interrupts_and_reset);
    tcase_add_test(tc, hostile_driver);
    tcase_add_test(tc, describing_commands);
    suite_add_tcase(s, tc);
    return check_main(s);
}
