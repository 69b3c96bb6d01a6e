/*
 * ata.h - a driver for the outer machine's ATA disks, by PIO with polling.
 *
 * hv is the guest of an emulator (QEMU, Bochs); to reach an image file on
 * the host it uses that emulator's most portable disk: an IDE (parallel
 * ATA) drive on the legacy ports, which both emulate the same way.  PIO
 * moves every 16-bit word through the data port, which is slow but needs
 * no DMA engine, no PCI and no interrupts: hv polls.
 *
 * Citations name ATA/ATAPI-6 (T13/1410D) by the titles of its sections;
 * the command titles ("READ SECTOR(S) EXT", "FLUSH CACHE") and protocol
 * names are the same in every later ATA edition.
 *
 * Vendor-neutral: nothing here knows SVM or VT-x.
 */
#ifndef HV_DISK_ATA_H
#define HV_DISK_ATA_H

#include <stdbool.h>
#include <stdint.h>

/* The legacy channels' port blocks: the command block (8 ports) and the
 * control block (one port: device control / alternate status). */
#define ATA_PRIMARY_IO    0x1f0
#define ATA_PRIMARY_CTL   0x3f6
#define ATA_SECONDARY_IO  0x170
#define ATA_SECONDARY_CTL 0x376

#define ATA_SECTOR 512u

/* One ATA disk: where it is and what IDENTIFY DEVICE said. */
struct ata_drive {
    uint16_t io;      /* command block base port */
    uint16_t ctl;     /* control block port */
    uint8_t unit;     /* 0 master, 1 slave */
    bool lba48;       /* the 48-bit Address feature set is supported */
    uint64_t sectors; /* the addressable sectors */
    char model[41];   /* the model number, trailing blanks cut */
};

/* Look for an ATA disk at channel (io, ctl), unit 0 or 1, with IDENTIFY
 * DEVICE.  Returns 0 and fills *d, or -1 with *why saying what is there
 * instead ("no device", "a packet (ATAPI) device", ...). */
int ata_identify(struct ata_drive *d, uint16_t io, uint16_t ctl, unsigned unit, const char **why);

/* Read or write `count` sectors at `lba` (PIO data-in / data-out), or
 * make everything written durable (FLUSH CACHE).  0, or -1 with *why. */
int ata_read(struct ata_drive *d, uint64_t lba, void *buf, uint32_t count, const char **why);
int ata_write(struct ata_drive *d, uint64_t lba, const void *buf, uint32_t count, const char **why);
int ata_flush(struct ata_drive *d, const char **why);

#endif
