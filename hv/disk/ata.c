/*
 * ata.c - the ATA PIO driver (ata.h): device selection, IDENTIFY DEVICE,
 * READ/WRITE SECTOR(S) with 28- and 48-bit addresses, FLUSH CACHE, all by
 * polling the status register.
 */
#include "hvkit/x86.h"

#include "ata.h"

/* Command block registers, as offsets from the channel's base port
 * (ATA/ATAPI-6, "I/O register descriptions"). */
#define REG_DATA    0 /* 16-bit data port */
#define REG_ERROR   1 /* read: error; write: features */
#define REG_COUNT   2 /* sector count */
#define REG_LBA_LO  3 /* LBA bits 7:0 (and 31:24 written first for 48-bit) */
#define REG_LBA_MID 4 /* LBA bits 15:8 (39:32) */
#define REG_LBA_HI  5 /* LBA bits 23:16 (47:40) */
#define REG_DEVICE  6 /* DEV bit 4 picks the unit; LBA bit 6 */
#define REG_STATUS  7 /* read: status; write: command */
#define REG_COMMAND 7

/* Status bits ("Status register"). */
#define ST_ERR  0x01 /* the command failed: see the error register */
#define ST_DRQ  0x08 /* the device wants a block of data moved */
#define ST_DF   0x20 /* device fault */
#define ST_DRDY 0x40 /* the device accepts commands */
#define ST_BSY  0x80 /* the device owns the registers: read nothing else */

/* Device register: bit 6 selects LBA addressing, bit 4 the unit; bits 7
 * and 5 are obsolete and written as 1 for old devices. */
#define DEV_LBA     0x40
#define DEV_OBS     0xa0
#define DEV_UNIT(u) ((u) << 4)

/* Device control register: nIEN (bit 1) keeps INTRQ deasserted: hv polls
 * ("Device Control register"). */
#define CTL_NIEN 0x02

/* Commands ("Command descriptions"). */
#define CMD_READ      0x20 /* READ SECTOR(S) */
#define CMD_READ_EXT  0x24 /* READ SECTOR(S) EXT */
#define CMD_WRITE     0x30 /* WRITE SECTOR(S) */
#define CMD_WRITE_EXT 0x34 /* WRITE SECTOR(S) EXT */
#define CMD_FLUSH     0xe7 /* FLUSH CACHE */
#define CMD_FLUSH_EXT 0xea /* FLUSH CACHE EXT */
#define CMD_IDENTIFY  0xec /* IDENTIFY DEVICE */

/* IDENTIFY DEVICE words ("IDENTIFY DEVICE", its table of words). */
#define ID_MODEL         27  /* words 27-46: model number, two characters per word */
#define ID_LBA28_TOTAL   60  /* words 60-61: addressable sectors, 28-bit commands */
#define ID_CMDSET2       83  /* bit 10: the 48-bit Address feature set */
#define ID_LBA48_TOTAL   100 /* words 100-103: maximum user LBA for 48-bit commands + 1 */
#define ID_CMDSET2_LBA48 (1u << 10)

/* Sectors per command: a 28-bit command counts 1..256 (0 means 256), a
 * 48-bit one 1..65536; 128 keeps both simple. */
#define MAX_PER_COMMAND 128u

/* How many status reads before the driver gives up on a busy device.  An
 * emulated disk answers at once; the bound turns a hung emulator into a
 * clear error instead of a silent hang. */
#define POLL_LIMIT 50000000u

/* 16-bit string moves for the data port: REP INSW / REP OUTSW move a whole
 * sector in one instruction (SDM vol 2A "INS/INSB/INSW/INSD"). */
static void insw(uint16_t port, void *buf, uint32_t words)
{
    __asm__ volatile("cld; rep insw" : "+D"(buf), "+c"(words) : "d"(port) : "memory");
}

static void outsw(uint16_t port, const void *buf, uint32_t words)
{
    __asm__ volatile("cld; rep outsw" : "+S"(buf), "+c"(words) : "d"(port) : "memory");
}

/* Reading the alternate status register four times takes the 400 ns the
 * device may need before its status is valid after a command or a
 * selection ("Device selection protocol": the host waits 400 ns); it does
 * not acknowledge an interrupt as the status register would. */
static void delay_400ns(const struct ata_drive *d)
{
    for (int i = 0; i < 4; i++)
        (void)inb(d->ctl);
}

/* Wait until BSY is clear; return the status then, or -1 on a timeout. */
static int wait_not_busy(const struct ata_drive *d)
{
    for (uint32_t i = 0; i < POLL_LIMIT; i++) {
        /* The alternate status: the same bits, without side effects. */
        uint8_t st = inb(d->ctl);
        /* While BSY is set every other bit is meaningless ("Status
         * register"). */
        if (!(st & ST_BSY))
            return st;
    }
    /* Still busy after the bound: a hung device. */
    return -1;
}

/* Wait until the device is done with the step it was busy with (the
 * command, or the last block moved): its status then, or -1 with *why if
 * it stayed busy or reports an error (ERR or DF end the command). */
static int settled(const struct ata_drive *d, const char **why)
{
    int st = wait_not_busy(d);
    if (st < 0) {
        *why = "the disk stayed busy (timeout)";
        return -1;
    }
    if (st & (ST_ERR | ST_DF)) {
        *why = st & ST_DF ? "device fault" : "the disk reported an error (ERR)";
        return -1;
    }
    return st;
}

/* Wait for the device's verdict on a data block: DRQ (move it) or an
 * error.  0 when data may move, -1 with *why otherwise. */
static int wait_drq(const struct ata_drive *d, const char **why)
{
    int st = settled(d, why);
    if (st < 0)
        return -1;
    /* Not busy, no error, no data request: the protocol went astray. */
    if (!(st & ST_DRQ)) {
        *why = "the disk did not ask for data (DRQ clear)";
        return -1;
    }
    return 0;
}

/* Device selection: write the device register, then let 400 ns pass.  The
 * device register also carries LBA bits 27:24 for 28-bit commands. */
static void select_unit(const struct ata_drive *d, uint8_t low_bits)
{
    outb(d->io + REG_DEVICE, DEV_OBS | DEV_LBA | DEV_UNIT(d->unit) | low_bits);
    delay_400ns(d);
}

/* Load the address and count and issue `cmd` (the 28-bit or the 48-bit
 * form, "48-bit Address feature set": each register is written twice,
 * high-order byte first). */
static void issue(const struct ata_drive *d, uint8_t cmd, uint8_t cmd_ext, uint64_t lba,
                  uint32_t count)
{
    if (d->lba48) {
        /* In 48-bit commands the device register holds no address bits. */
        select_unit(d, 0);
        /* The "previous content" first: count bits 15:8, LBA bits 47:24. */
        outb(d->io + REG_COUNT, (uint8_t)(count >> 8));
        outb(d->io + REG_LBA_LO, (uint8_t)(lba >> 24));
        outb(d->io + REG_LBA_MID, (uint8_t)(lba >> 32));
        outb(d->io + REG_LBA_HI, (uint8_t)(lba >> 40));
        /* Then the "current content": count bits 7:0, LBA bits 23:0. */
        outb(d->io + REG_COUNT, (uint8_t)count);
        outb(d->io + REG_LBA_LO, (uint8_t)lba);
        outb(d->io + REG_LBA_MID, (uint8_t)(lba >> 8));
        outb(d->io + REG_LBA_HI, (uint8_t)(lba >> 16));
        /* Writing the command register starts the command. */
        outb(d->io + REG_COMMAND, cmd_ext);
    } else {
        /* LBA bits 27:24 go into the device register; a count of 256 is
         * written as 0. */
        select_unit(d, (uint8_t)((lba >> 24) & 0x0f));
        outb(d->io + REG_COUNT, (uint8_t)count);
        outb(d->io + REG_LBA_LO, (uint8_t)lba);
        outb(d->io + REG_LBA_MID, (uint8_t)(lba >> 8));
        outb(d->io + REG_LBA_HI, (uint8_t)(lba >> 16));
        outb(d->io + REG_COMMAND, cmd);
    }
    delay_400ns(d);
}

/* Copy `chars` bytes of an IDENTIFY string: each word holds two
 * characters, the first in its high byte; trailing blanks are cut. */
static void id_string(const uint16_t *id, unsigned word, unsigned chars, char *out)
{
    for (unsigned i = 0; i < chars; i += 2) {
        /* High byte first: "ABCD" is stored as the words 'AB', 'CD'. */
        out[i] = (char)(id[word + i / 2] >> 8);
        out[i + 1] = (char)(id[word + i / 2] & 0xff);
    }
    out[chars] = '\0';
    /* The field is padded with blanks to its full width. */
    for (int i = (int)chars - 1; i >= 0 && out[i] == ' '; i--)
        out[i] = '\0';
}

/* Is there something at all?  A channel without devices floats its data
 * lines high (status 0xff), and an absent unit reads 0. */
static bool present(const struct ata_drive *d)
{
    select_unit(d, 0);
    /* The selected unit's status, after the selection delay. */
    uint8_t st = inb(d->io + REG_STATUS);
    return st != 0xff && st != 0;
}

int ata_identify(struct ata_drive *d, uint16_t io, uint16_t ctl, unsigned unit, const char **why)
{
    /* The 256 words IDENTIFY DEVICE returns; static: hv's stack is small. */
    static uint16_t id[256];
    /* Where the drive is; the rest is filled once it has answered. */
    d->io = io;
    d->ctl = ctl;
    d->unit = (uint8_t)(unit & 1);
    d->lba48 = false;
    d->sectors = 0;
    d->model[0] = '\0';
    /* Polling only: INTRQ stays deasserted. */
    outb(ctl, CTL_NIEN);
    if (!present(d)) {
        *why = "no device";
        return -1;
    }
    /* "IDENTIFY DEVICE" with the address registers zeroed, so that the
     * signature a packet device leaves there can be told apart. */
    outb(io + REG_COUNT, 0);
    outb(io + REG_LBA_LO, 0);
    outb(io + REG_LBA_MID, 0);
    outb(io + REG_LBA_HI, 0);
    outb(io + REG_COMMAND, CMD_IDENTIFY);
    delay_400ns(d);
    /* Status 0 after the command: nothing answered. */
    if (inb(io + REG_STATUS) == 0) {
        *why = "no device";
        return -1;
    }
    if (wait_not_busy(d) < 0) {
        *why = "the device stayed busy (timeout)";
        return -1;
    }
    /* A packet device (a CD drive, such as the one Bochs boots from)
     * aborts IDENTIFY DEVICE and leaves its signature 14h/EBh in LBA
     * mid/high ("Signature and persistence"). */
    if (inb(io + REG_LBA_MID) != 0 || inb(io + REG_LBA_HI) != 0) {
        *why = "a packet (ATAPI) device, not a disk";
        return -1;
    }
    /* An ATA disk now offers its 512 bytes of identification. */
    if (wait_drq(d, why) < 0)
        return -1;
    insw(io + REG_DATA, id, 256);
    /* 48-bit commands reach beyond 2^28 sectors (128 GiB). */
    d->lba48 = (id[ID_CMDSET2] & ID_CMDSET2_LBA48) != 0;
    if (d->lba48)
        d->sectors = (uint64_t)id[ID_LBA48_TOTAL] | (uint64_t)id[ID_LBA48_TOTAL + 1] << 16 |
                     (uint64_t)id[ID_LBA48_TOTAL + 2] << 32 |
                     (uint64_t)id[ID_LBA48_TOTAL + 3] << 48;
    else
        d->sectors = (uint64_t)id[ID_LBA28_TOTAL] | (uint64_t)id[ID_LBA28_TOTAL + 1] << 16;
    /* For the log: QEMU says "QEMU HARDDISK", Bochs "Generic 1234". */
    id_string(id, ID_MODEL, 40, d->model);
    if (d->sectors == 0) {
        *why = "a disk that reports no sectors";
        return -1;
    }
    return 0;
}

/* The range must lie on the disk, and 28-bit commands reach 2^28 sectors. */
static int check_range(const struct ata_drive *d, uint64_t lba, uint32_t count, const char **why)
{
    if (count == 0 || lba > d->sectors || count > d->sectors - lba) {
        *why = "sectors outside the disk";
        return -1;
    }
    if (!d->lba48 && lba + count > (1u << 28)) {
        *why = "sectors beyond 28-bit addresses on a disk without 48-bit commands";
        return -1;
    }
    return 0;
}

/* After the last block: BSY clear, no error ("PIO data-out command
 * protocol", "Non-data command protocol"). */
static int finish(const struct ata_drive *d, const char **why)
{
    return settled(d, why) < 0 ? -1 : 0;
}

int ata_read(struct ata_drive *d, uint64_t lba, void *buf, uint32_t count, const char **why)
{
    if (check_range(d, lba, count, why) < 0)
        return -1;
    uint8_t *p = buf;
    /* One command per MAX_PER_COMMAND sectors. */
    while (count) {
        uint32_t n = count < MAX_PER_COMMAND ? count : MAX_PER_COMMAND;
        issue(d, CMD_READ, CMD_READ_EXT, lba, n);
        /* "PIO data-in command protocol": for each sector, wait for DRQ
         * and read 256 words. */
        for (uint32_t i = 0; i < n; i++) {
            if (wait_drq(d, why) < 0)
                return -1;
            insw(d->io + REG_DATA, p, ATA_SECTOR / 2);
            p += ATA_SECTOR;
        }
        lba += n;
        count -= n;
    }
    return 0;
}

int ata_write(struct ata_drive *d, uint64_t lba, const void *buf, uint32_t count, const char **why)
{
    if (check_range(d, lba, count, why) < 0)
        return -1;
    const uint8_t *p = buf;
    /* One command per MAX_PER_COMMAND sectors. */
    while (count) {
        uint32_t n = count < MAX_PER_COMMAND ? count : MAX_PER_COMMAND;
        issue(d, CMD_WRITE, CMD_WRITE_EXT, lba, n);
        /* "PIO data-out command protocol": for each sector, wait for DRQ
         * and write 256 words; then the device finishes the command. */
        for (uint32_t i = 0; i < n; i++) {
            if (wait_drq(d, why) < 0)
                return -1;
            outsw(d->io + REG_DATA, p, ATA_SECTOR / 2);
            p += ATA_SECTOR;
        }
        /* The device has taken the last block: did it write it all? */
        if (finish(d, why) < 0)
            return -1;
        lba += n;
        count -= n;
    }
    return 0;
}

int ata_flush(struct ata_drive *d, const char **why)
{
    /* "FLUSH CACHE": the device writes its whole write cache to the
     * medium, which for an emulated disk is the host file (QEMU then syncs
     * it to the host's disk); the EXT form for 48-bit devices. */
    select_unit(d, 0);
    outb(d->io + REG_COMMAND, d->lba48 ? CMD_FLUSH_EXT : CMD_FLUSH);
    delay_400ns(d);
    return finish(d, why);
}
