/*
 * atapi.c - a polled ATAPI CD-ROM driver (see guestkit/atapi.h).
 */
#include "guestkit/atapi.h"

#include "hvkit/x86.h"
#include "klib.h"

/* Register offsets from the command block, and status bits (ATA/ATAPI-6
 * clause 7, "Register descriptions"). */
#define REG_DATA            0
#define REG_FEATURES        1
#define REG_ERROR           1
#define REG_IREASON         2
#define REG_BCL             4 /* byte count, low; high at 5 */
#define REG_DEVICE          6
#define REG_STATUS          7
#define REG_COMMAND         7
#define ST_ERR              0x01
#define ST_DRQ              0x08
#define ST_BSY              0x80
#define DC_NIEN             0x02
#define CMD_DEVICE_RESET    0x08
#define CMD_PACKET          0xa0
#define CMD_IDENTIFY_PACKET 0xa1

/* How long to poll before giving up: status reads, each a VM exit under a
 * hypervisor; a drive answers in a few. */
#define POLLS 2000000u

/* Wait for BSY clear; the status then, or -1 on time-out. */
static int wait_not_busy(const struct atapi_dev *d)
{
    for (uint32_t i = 0; i < POLLS; i++) {
        uint8_t st = inb(d->io + REG_STATUS);
        if (!(st & ST_BSY))
            return st;
    }
    return -1;
}

/* Select the unit and turn its interrupt off: this driver polls. */
static void select_unit(const struct atapi_dev *d)
{
    outb(d->ctl, DC_NIEN);
    outb(d->io + REG_DEVICE, (uint8_t)(0xa0 | (d->unit << 4)));
    /* The standard's 400 ns after a selection: four Alternate Status reads. */
    for (int i = 0; i < 4; i++)
        inb(d->ctl);
}

/* The drive's strings: two characters per word, the first in the high
 * byte; trailing blanks cut. */
static void ata_string(char *out, const uint16_t *w, unsigned nwords)
{
    for (unsigned i = 0; i < nwords; i++) {
        out[2 * i] = (char)(w[i] >> 8);
        out[2 * i + 1] = (char)w[i];
    }
    unsigned n = nwords * 2;
    while (n && out[n - 1] == ' ')
        n--;
    out[n] = '\0';
}

bool atapi_probe(struct atapi_dev *d, uint16_t io, uint16_t ctl, uint8_t unit)
{
    memset(d, 0, sizeof(*d));
    d->io = io;
    d->ctl = ctl;
    d->unit = unit;
    select_unit(d);
    /* Nothing on the bus reads all ones; nothing at this unit reads 0. */
    uint8_t st = inb(io + REG_STATUS);
    if (st == 0xff || st == 0)
        return false;
    /* DEVICE RESET: whatever the firmware left in the drive ends, and the
     * packet device's signature (ATA/ATAPI-6 clause 9, "Signature and
     * persistence") is in the registers again. */
    outb(io + REG_COMMAND, CMD_DEVICE_RESET);
    inb(ctl);
    if (wait_not_busy(d) < 0)
        return false;
    if (inb(io + REG_BCL) != 0x14 || inb(io + REG_BCL + 1) != 0xeb)
        return false;
    outb(io + REG_COMMAND, CMD_IDENTIFY_PACKET);
    int s = wait_not_busy(d);
    if (s < 0 || (s & (ST_ERR | ST_DRQ)) != ST_DRQ)
        return false;
    uint16_t w[256];
    for (int i = 0; i < 256; i++)
        w[i] = inw(io + REG_DATA);
    /* Word 0: 15:14 = 10b a packet device, 12:8 its command set, 7 removable. */
    if ((w[0] >> 14) != 2)
        return false;
    d->type = (uint8_t)((w[0] >> 8) & 0x1f);
    d->removable = w[0] & 0x80;
    ata_string(d->model, w + 27, 20);
    return true;
}

/* Read one DRQ block of n bytes, keeping what fits in buf[*pos, len). */
static void read_block(struct atapi_dev *d, uint8_t *buf, uint32_t len, uint32_t *pos, uint32_t n)
{
    for (uint32_t i = 0; i < n; i += 2) {
        uint16_t v = inw(d->io + REG_DATA);
        for (uint32_t k = 0; k < 2 && i + k < n; k++, (*pos)++)
            if (*pos < len)
                buf[*pos] = (uint8_t)(v >> (8 * k));
    }
}

int atapi_packet(struct atapi_dev *d, const uint8_t cdb[12], void *buf, uint32_t len, uint32_t *got)
{
    uint32_t pos = 0;
    select_unit(d);
    if (wait_not_busy(d) < 0)
        return ATAPI_TIMEOUT;
    /* PIO (Features 0), byte count limit 0xfffe: the drive sizes blocks. */
    outb(d->io + REG_FEATURES, 0);
    outb(d->io + REG_BCL, 0xfe);
    outb(d->io + REG_BCL + 1, 0xff);
    outb(d->io + REG_COMMAND, CMD_PACKET);
    int st = wait_not_busy(d);
    if (st < 0 || !(st & ST_DRQ))
        return ATAPI_TIMEOUT;
    for (int i = 0; i < 12; i += 2)
        outw(d->io + REG_DATA, (uint16_t)(cdb[i] | cdb[i + 1] << 8));
    /* Data blocks while DRQ, each of the size the drive puts in the byte
     * count registers; then the status that ends the command. */
    for (;;) {
        /* The Alternate Status read gives the drive its 400 ns. */
        inb(d->ctl);
        st = wait_not_busy(d);
        if (st < 0)
            return ATAPI_TIMEOUT;
        if (!(st & ST_DRQ))
            break;
        uint32_t n = inb(d->io + REG_BCL) | (uint32_t)inb(d->io + REG_BCL + 1) << 8;
        if (n == 0)
            return ATAPI_TIMEOUT;
        read_block(d, buf, len, &pos, n);
    }
    if (got)
        *got = pos;
    d->error = inb(d->io + REG_ERROR);
    return (st & ST_ERR) ? ATAPI_CHECK : ATAPI_OK;
}

int atapi_test_unit_ready(struct atapi_dev *d)
{
    const uint8_t cdb[12] = {0x00};
    return atapi_packet(d, cdb, NULL, 0, NULL);
}

int atapi_request_sense(struct atapi_dev *d, struct atapi_sense *s)
{
    const uint8_t cdb[12] = {0x03, 0, 0, 0, 18};
    uint8_t b[18] = {0};
    int r = atapi_packet(d, cdb, b, sizeof(b), NULL);
    s->key = b[2] & 0x0f;
    s->asc = b[12];
    s->ascq = b[13];
    return r;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int atapi_read_capacity(struct atapi_dev *d, uint32_t *blocks, uint32_t *block_len)
{
    const uint8_t cdb[12] = {0x25};
    uint8_t b[8] = {0};
    int r = atapi_packet(d, cdb, b, sizeof(b), NULL);
    *blocks = be32(b) + 1;
    *block_len = be32(b + 4);
    return r;
}

int atapi_read(struct atapi_dev *d, uint32_t lba, uint16_t count, void *buf)
{
    const uint8_t cdb[12] = {
        0x28,         0, (uint8_t)(lba >> 24),  (uint8_t)(lba >> 16), (uint8_t)(lba >> 8),
        (uint8_t)lba, 0, (uint8_t)(count >> 8), (uint8_t)count};
    return atapi_packet(d, cdb, buf, (uint32_t)count * ATAPI_SECTOR, NULL);
}
