/*
 * ide_cd.c - the ATA side of the CD-ROM drive (see ide_cd.h): the
 * secondary channel's registers, the ATA commands of a packet device and
 * the PACKET protocol's phases.  The SCSI commands inside the packets are
 * atapi.c's.  References are to ATA/ATAPI-6 (INCITS 361-2002).
 */
#include "klib.h"

#include "ide_cd.h"

/* ---- INTRQ ---------------------------------------------------------------- */

/* The line follows the device's request unless the host set nIEN in the
 * Device Control register (clause 7, "Device Control register"). */
static void update_irq(struct ide_cd *cd)
{
    if (cd->set_irq)
        cd->set_irq(cd->irq_ctx, cd->intrq && !(cd->devctl & IDE_DC_NIEN));
}

void ide_cd_sync_irq(struct ide_cd *cd)
{
    update_irq(cd);
}

static void raise_irq(struct ide_cd *cd)
{
    cd->intrq = true;
    update_irq(cd);
}

/* Reading the Status register (not Alternate Status) or writing a command
 * clears the device's request (clause 7, "Status register"). */
static void clear_irq(struct ide_cd *cd)
{
    cd->intrq = false;
    update_irq(cd);
}

/* The host selected the slave, which this channel does not have: its
 * registers read 0 and its commands are ignored, as on QEMU when one
 * drive sits alone on a channel. */
static bool slave_selected(const struct ide_cd *cd)
{
    return cd->device & IDE_DEV_SLAVE;
}

/* ---- Phases -------------------------------------------------------------- */

/* The signature a packet device leaves after a reset, a diagnostic or a
 * refused IDENTIFY DEVICE, by which a driver tells it from an ATA disk
 * (clause 9, "Signature and persistence"): Sector Count 01h, LBA Low 01h,
 * LBA Mid 14h, LBA High EBh. */
static void set_signature(struct ide_cd *cd)
{
    cd->nsector = 1;
    cd->lba_low = 1;
    cd->lba_mid = 0x14;
    cd->lba_high = 0xeb;
}

/* One DRQ block of the data in cd->buf: for a packet command at most the
 * Byte Count Limit, told to the host in LBA Mid/High with Interrupt Reason
 * IO=1 CoD=0 (clause 9, "PACKET command protocol", its HPD2 "Check
 * status" state); then DRQ and an interrupt. */
static void start_block(struct ide_cd *cd, bool packet)
{
    unsigned n = cd->len - cd->pos;
    if (packet && n > cd->byte_limit)
        n = cd->byte_limit;
    cd->block_end = cd->pos + n;
    if (packet) {
        cd->lba_mid = (uint8_t)n;
        cd->lba_high = (uint8_t)(n >> 8);
        cd->nsector = IDE_IR_IO;
    }
    cd->status = IDE_ST_DRDY | IDE_ST_DSC | IDE_ST_DRQ;
    raise_irq(cd);
}

void ide_cd_data(struct ide_cd *cd, unsigned len)
{
    /* atapi.c never gives more than the buffer; a bug there must not
     * become a read past it. */
    cd->len = len <= sizeof(cd->buf) ? len : sizeof(cd->buf);
    cd->pos = 0;
    cd->phase = IDE_CD_DATA_IN;
    start_block(cd, true);
}

/* The command's end: status register DRDY, Interrupt Reason IO=1 CoD=1
 * ("completion"), and an interrupt. */
void ide_cd_done(struct ide_cd *cd)
{
    cd->phase = IDE_CD_IDLE;
    cd->sectors = 0;
    cd->error = 0;
    cd->status = IDE_ST_DRDY | IDE_ST_DSC;
    cd->nsector = IDE_IR_IO | IDE_IR_COD;
    raise_irq(cd);
}

/* CHECK CONDITION: the sense data kept for REQUEST SENSE, the sense key in
 * the Error register's bits 7:4 and ERR in Status (clause 8, "PACKET":
 * "Error outputs"), then the same completion as ide_cd_done(). */
void ide_cd_fail(struct ide_cd *cd, uint8_t key, uint8_t asc, uint8_t ascq)
{
    cd->sense_key = key;
    cd->asc = asc;
    cd->ascq = ascq;
    cd->phase = IDE_CD_IDLE;
    cd->sectors = 0;
    cd->error = (uint8_t)(key << 4);
    cd->status = IDE_ST_DRDY | IDE_ST_ERR;
    cd->nsector = IDE_IR_IO | IDE_IR_COD;
    raise_irq(cd);
}

/* An ATA command the device does not do, or cannot do now: ABRT. */
static void abort_command(struct ide_cd *cd)
{
    cd->phase = IDE_CD_IDLE;
    cd->error = IDE_ER_ABRT;
    cd->status = IDE_ST_DRDY | IDE_ST_ERR;
    raise_irq(cd);
}

/* The host read the last byte of a DRQ block: the next block, the next
 * sector of a READ, or the end of the command. */
static void block_read(struct ide_cd *cd)
{
    if (cd->pos < cd->len) {
        start_block(cd, cd->phase == IDE_CD_DATA_IN);
        return;
    }
    if (cd->phase == IDE_CD_DATA_IN) {
        if (cd->sectors)
            atapi_next_sector(cd);
        else
            ide_cd_done(cd);
        return;
    }
    /* IDENTIFY PACKET DEVICE (PIO data-in, clause 9 "PIO data-in command
     * protocol"): after its one block the device is ready, no interrupt. */
    cd->phase = IDE_CD_IDLE;
    cd->status = IDE_ST_DRDY | IDE_ST_DSC;
}

/* ---- IDENTIFY PACKET DEVICE ------------------------------------------------- */

/* An ATA string: two characters per word, the first in the high byte,
 * padded with spaces (clause 8, "IDENTIFY DEVICE", its note on strings). */
static void ata_string(uint8_t *words, unsigned first, unsigned nwords, const char *s)
{
    size_t n = strlen(s);
    for (unsigned i = 0; i < nwords * 2; i++) {
        char c = i < n ? s[i] : ' ';
        words[first * 2 + (i ^ 1)] = (uint8_t)c;
    }
}

static void put_word(uint8_t *words, unsigned w, uint16_t v)
{
    words[w * 2] = (uint8_t)v;
    words[w * 2 + 1] = (uint8_t)(v >> 8);
}

/* The 256 words (clause 8, "IDENTIFY PACKET DEVICE", table "IDENTIFY
 * PACKET DEVICE information").  Only what a driver looks at is set. */
static void identify_packet(struct ide_cd *cd)
{
    uint8_t *w = cd->buf;
    memset(w, 0, 512);
    /* Word 0: ATAPI device (15:14 = 10b), command packet set 05h (CD-ROM,
     * 12:8), removable (7), DRQ within 50 us of PACKET (6:5 = 10b: no
     * interrupt before the packet), 12-byte packets (1:0 = 00b). */
    put_word(w, 0, 0x8000 | (5u << 8) | 0x80 | (2u << 5));
    ata_string(w, 10, 10, "HVKIT-CD0");
    ata_string(w, 23, 4, "0.1");
    ata_string(w, 27, 20, "HVKIT DVD-ROM");
    /* Word 49: LBA supported (9); bit 8 (DMA) clear: PIO only. */
    put_word(w, 49, 1u << 9);
    /* Word 53: words 64-70 are valid; word 64: PIO modes 3 and 4. */
    put_word(w, 53, 1u << 1);
    put_word(w, 64, 0x3);
    /* Word 80: major versions ATA/ATAPI-4 to -6 (bits 4-6). */
    put_word(w, 80, 0x70);
    /* Words 82/85: the PACKET command feature set supported and enabled
     * (bit 4); words 83/84/87 bit 14 set and 15 clear: the words are valid. */
    put_word(w, 82, 1u << 4);
    put_word(w, 83, 1u << 14);
    put_word(w, 84, 1u << 14);
    put_word(w, 85, 1u << 4);
    put_word(w, 87, 1u << 14);
    cd->len = 512;
    cd->pos = 0;
    /* Not a packet command: PIO data-in, one block, Sector Count as is. */
    cd->phase = IDE_CD_IDLE;
    start_block(cd, false);
}

/* ---- ATA commands -------------------------------------------------------------- */

/* PACKET (clause 8, "PACKET"): Features bit 0 asks for DMA, which this
 * drive does not do; LBA Mid/High hold the Byte Count Limit.  The device
 * then waits for the 12-byte command packet with DRQ set and Interrupt
 * Reason CoD=1 IO=0, without an interrupt (word 0's DRQ type). */
static void packet(struct ide_cd *cd)
{
    if (cd->features & 1) {
        abort_command(cd);
        return;
    }
    /* An odd limit moves one byte less, a zero limit is not a limit (the
     * standard forbids it): the largest even count. */
    cd->byte_limit = ((unsigned)cd->lba_high << 8 | cd->lba_mid) & ~1u;
    if (cd->byte_limit == 0)
        cd->byte_limit = 0xfffe;
    cd->phase = IDE_CD_PACKET;
    cd->cdb_len = 0;
    cd->nsector = IDE_IR_COD;
    cd->status = IDE_ST_DRDY | IDE_ST_DRQ;
}

/* After DEVICE RESET, EXECUTE DEVICE DIAGNOSTIC or SRST: the signature,
 * Error 01h ("device 0 passed"), no transfer, and a packet device's
 * Status with DRDY clear (clause 9, "Signature and persistence"). */
static void reset_state(struct ide_cd *cd)
{
    set_signature(cd);
    cd->error = 1;
    cd->status = 0;
    cd->phase = IDE_CD_IDLE;
    cd->sectors = 0;
}

static void command(struct ide_cd *cd, uint8_t cmd)
{
    if (slave_selected(cd))
        return;
    clear_irq(cd);
    /* A new command ends whatever transfer was going on. */
    cd->sectors = 0;
    switch (cmd) {
    case ATA_CMD_IDENTIFY_PACKET:
        identify_packet(cd);
        break;
    case ATA_CMD_PACKET:
        packet(cd);
        break;
    case ATA_CMD_IDENTIFY:
        /* A packet device aborts IDENTIFY DEVICE and shows its signature
         * (clause 8, "IDENTIFY DEVICE"), which is how drivers find it. */
        set_signature(cd);
        abort_command(cd);
        break;
    case ATA_CMD_DEVICE_RESET:
        reset_state(cd);
        break;
    case ATA_CMD_DIAGNOSTIC:
        reset_state(cd);
        raise_irq(cd);
        break;
    case ATA_CMD_SET_FEATURES:
        /* Transfer modes and the like: nothing to set in an emulation. */
        cd->error = 0;
        cd->status = IDE_ST_DRDY | IDE_ST_DSC;
        raise_irq(cd);
        break;
    default:
        abort_command(cd);
        break;
    }
}

/* ---- The ports ----------------------------------------------------------------- */

/* One byte from the Data register: the current block's next byte, or 0
 * when there is no data to read (DRQ clear). */
static uint8_t data_byte(struct ide_cd *cd)
{
    if (slave_selected(cd) || !(cd->status & IDE_ST_DRQ) || cd->phase == IDE_CD_PACKET)
        return 0;
    uint8_t b = cd->buf[cd->pos++];
    if (cd->pos == cd->block_end)
        block_read(cd);
    return b;
}

/* One byte to the Data register: the command packet's next byte; when the
 * twelfth arrives, atapi.c carries the command out.  Written without a
 * PACKET waiting for it, a byte is lost (there is no data-out here). */
static void data_write_byte(struct ide_cd *cd, uint8_t b)
{
    if (slave_selected(cd) || cd->phase != IDE_CD_PACKET)
        return;
    cd->cdb[cd->cdb_len++] = b;
    if (cd->cdb_len == sizeof(cd->cdb)) {
        cd->status = IDE_ST_DRDY;
        atapi_command(cd);
    }
}

static uint32_t io_read(void *ctx, uint16_t off, uint8_t size)
{
    struct ide_cd *cd = ctx;
    if (off == IDE_REG_DATA) {
        /* 16-bit PIO, and the 32-bit accesses the PC's controllers also
         * take: the bytes in order, the first the lowest. */
        uint32_t v = 0;
        for (unsigned i = 0; i < size; i++)
            v |= (uint32_t)data_byte(cd) << (8 * i);
        return v;
    }
    if (off == IDE_REG_DEVICE)
        return cd->device;
    if (slave_selected(cd))
        return 0;
    switch (off) {
    case IDE_REG_ERROR:
        return cd->error;
    case IDE_REG_NSECTOR:
        return cd->nsector;
    case IDE_REG_LBA_LOW:
        return cd->lba_low;
    case IDE_REG_LBA_MID:
        return cd->lba_mid;
    case IDE_REG_LBA_HIGH:
        return cd->lba_high;
    default:
        clear_irq(cd);
        return cd->status;
    }
}

static void io_write(void *ctx, uint16_t off, uint8_t size, uint32_t value)
{
    struct ide_cd *cd = ctx;
    uint8_t b = (uint8_t)value;
    switch (off) {
    case IDE_REG_DATA:
        for (unsigned i = 0; i < size; i++)
            data_write_byte(cd, (uint8_t)(value >> (8 * i)));
        break;
    case IDE_REG_ERROR:
        cd->features = b;
        break;
    case IDE_REG_NSECTOR:
        cd->nsector = b;
        break;
    case IDE_REG_LBA_LOW:
        cd->lba_low = b;
        break;
    case IDE_REG_LBA_MID:
        cd->lba_mid = b;
        break;
    case IDE_REG_LBA_HIGH:
        cd->lba_high = b;
        break;
    case IDE_REG_DEVICE:
        cd->device = b;
        update_irq(cd);
        break;
    default:
        command(cd, b);
        break;
    }
}

/* The control block: Alternate Status (which leaves INTRQ alone) and
 * Device Control.  SRST held (0 -> 1) makes the device busy; released, it
 * resets (clause 9, "Software reset protocol"). */
static uint32_t ctl_read(void *ctx, uint16_t off, uint8_t size)
{
    const struct ide_cd *cd = ctx;
    (void)off;
    (void)size;
    return slave_selected(cd) ? 0 : cd->status;
}

static void ctl_write(void *ctx, uint16_t off, uint8_t size, uint32_t value)
{
    struct ide_cd *cd = ctx;
    (void)off;
    (void)size;
    uint8_t old = cd->devctl;
    cd->devctl = (uint8_t)value;
    if ((value & IDE_DC_SRST) && !(old & IDE_DC_SRST)) {
        cd->status = IDE_ST_BSY;
        cd->intrq = false;
    } else if (!(value & IDE_DC_SRST) && (old & IDE_DC_SRST)) {
        reset_state(cd);
        cd->device = 0;
    }
    update_irq(cd);
}

/* ---- The host's side ------------------------------------------------------------ */

/* The medium's size in whole sectors (a partial last one counts). */
static void set_medium(struct ide_cd *cd, const struct ide_cd_medium *m)
{
    if (m && m->read) {
        cd->medium = *m;
        uint64_t n = (m->bytes + IDE_CD_SECTOR - 1) / IDE_CD_SECTOR;
        /* READ CAPACITY's 32-bit address: a medium beyond it (8 TiB) is
         * cut there; CDs and DVDs are far smaller. */
        cd->nsectors = n > 0xffffffffu ? 0xffffffffu : (uint32_t)n;
    } else {
        cd->medium = (struct ide_cd_medium){0};
        cd->nsectors = 0;
    }
}

void ide_cd_init(struct ide_cd *cd, const struct ide_cd_medium *medium,
                 void (*set_irq)(void *ctx, bool level), void *irq_ctx)
{
    memset(cd, 0, sizeof(*cd));
    cd->set_irq = set_irq;
    cd->irq_ctx = irq_ctx;
    set_medium(cd, medium);
    /* Power-on: the signature, no command, the line low. */
    reset_state(cd);
    cd->status = IDE_ST_DRDY | IDE_ST_DSC;
    cd->io = (struct io_device){.name = "ide1-cd0",
                                .base = IDE_CD_IO_BASE,
                                .count = 8,
                                .wide = true,
                                .read = io_read,
                                .write = io_write,
                                .ctx = cd};
    cd->ctl = (struct io_device){.name = "ide1-ctl",
                                 .base = IDE_CD_CTL_PORT,
                                 .count = 1,
                                 .wide = false,
                                 .read = ctl_read,
                                 .write = ctl_write,
                                 .ctx = cd};
}

bool ide_cd_has_medium(const struct ide_cd *cd)
{
    return cd->medium.read != NULL;
}

int ide_cd_eject(struct ide_cd *cd, bool force)
{
    if (cd->locked && !cd->tray_open && !force) {
        /* QEMU asks the guest to let go (an eject request event) and
         * refuses; the host may try again once the guest unlocked. */
        cd->event_eject_request = true;
        return -1;
    }
    /* Forced: the lock is broken, as QEMU's eject -f does. */
    cd->locked = false;
    cd->event_removed = ide_cd_has_medium(cd);
    cd->tray_open = true;
    set_medium(cd, NULL);
    /* A READ in progress ends at the next block: the bytes are gone. */
    cd->sectors = 0;
    return 0;
}

void ide_cd_insert(struct ide_cd *cd, const struct ide_cd_medium *medium)
{
    set_medium(cd, medium);
    cd->tray_open = false;
    cd->locked = false;
    /* Tell the guest in QEMU's two steps (atapi.c) and by an event. */
    cd->changed = 1;
    cd->event_new_media = true;
    cd->event_removed = false;
    cd->sectors = 0;
}
