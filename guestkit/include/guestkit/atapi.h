/*
 * A polled ATAPI driver for a CD-ROM drive on the PC's legacy IDE ports:
 * the secondary channel's master by default, where QEMU's -cdrom and hv's
 * ide1-cd0 put it.  PIO only, interrupts off (nIEN): each command is
 * issued, the status register is polled, the data is read DRQ block by
 * DRQ block as the drive sizes them (ATA/ATAPI-6 clause 9, "PACKET command
 * protocol").  A command that ends with CHECK CONDITION returns
 * ATAPI_CHECK; REQUEST SENSE then says why (SPC-3 4.5.3 "Fixed format
 * sense data").
 *
 *     struct atapi_dev cd;
 *     if (atapi_probe(&cd, ATAPI_SECONDARY_IO, ATAPI_SECONDARY_CTL, 0)) ...
 *     atapi_read(&cd, 16, 1, buf);   // sector 16 (2048 bytes) into buf
 */
#ifndef GUESTKIT_ATAPI_H
#define GUESTKIT_ATAPI_H

#include <stdbool.h>
#include <stdint.h>

#define ATAPI_SECONDARY_IO  0x170
#define ATAPI_SECONDARY_CTL 0x376
#define ATAPI_SECTOR        2048

/* Results of atapi_packet() and the commands built on it. */
#define ATAPI_OK      0
#define ATAPI_CHECK   1    /* CHECK CONDITION: ask atapi_request_sense() */
#define ATAPI_TIMEOUT (-1) /* the drive stayed busy or broke the protocol */

struct atapi_dev {
    uint16_t io, ctl;
    uint8_t unit; /* 0 master, 1 slave */
    /* From IDENTIFY PACKET DEVICE: word 0's command set (05h: CD-ROM) and
     * removable bit, and the model string without trailing blanks. */
    uint8_t type;
    bool removable;
    char model[41];
    /* The last command's Error register (its sense key in bits 7:4). */
    uint8_t error;
};

struct atapi_sense {
    uint8_t key, asc, ascq;
};

/* Is a packet device at io/ctl, unit `unit`?  Reads its signature and its
 * IDENTIFY PACKET DEVICE data into d. */
bool atapi_probe(struct atapi_dev *d, uint16_t io, uint16_t ctl, uint8_t unit);

/* Send the 12-byte command packet `cdb`; the data the drive returns goes
 * into buf (at most `len` bytes; more is read and dropped), its length
 * into *got (may be NULL). */
int atapi_packet(struct atapi_dev *d, const uint8_t cdb[12], void *buf, uint32_t len,
                 uint32_t *got);

int atapi_test_unit_ready(struct atapi_dev *d);
int atapi_request_sense(struct atapi_dev *d, struct atapi_sense *s);
/* READ CAPACITY: the number of blocks (last LBA + 1) and their length. */
int atapi_read_capacity(struct atapi_dev *d, uint32_t *blocks, uint32_t *block_len);
/* READ (10): `count` 2048-byte sectors from `lba` into buf. */
int atapi_read(struct atapi_dev *d, uint32_t lba, uint16_t count, void *buf);

#endif
