/*
 * fwcfg.h - QEMU's firmware configuration device ("fw_cfg", QEMU's
 * docs/specs/fw_cfg.rst) at ports 0x510/0x511, the legacy I/O interface
 * of the PC machine: a 16-bit write to 0x510 selects an item, byte reads
 * (at 0x511, or at 0x510 as QEMU also answers) return the item's bytes
 * one after another, and 0 past its end.  Guests written for QEMU read
 * the CPU count and the RAM size here (e.g. to know how many CPUs to wait
 * for), so hv answers them as QEMU would for the same machine.
 *
 * Items: the signature "QEMU" (key 0x00), the interface ID (0x01: 1,
 * the traditional interface only -- hv has no DMA interface, QEMU's bit
 * 1), the UUID (0x02, zero), RAM size (0x03, 64-bit), CPU count (0x05,
 * 16-bit), max CPUs (0x0f, 16-bit) and the file directory (0x19) with one
 * file, "etc/e820": the e820 table QEMU 7.2's PC machine (i440fx) gives
 * its firmware -- RAM below 4 GiB (up to 3 GiB when there is 3.5 GiB or
 * more), the rest above 4 GiB, and on an AMD CPU with 40 or more physical
 * address bits the reserved HyperTransport range just below 1 TiB first.  Every other key reads as
 * zeros, as QEMU's absent items do; writes to the data port are ignored, as QEMU 7.2 ignores them.
 * Compiled hosted too (tests/unit/test_hv_dev.c).
 */
#ifndef HV_DEV_FWCFG_H
#define HV_DEV_FWCFG_H

#include <stdbool.h>
#include <stdint.h>

#include "iobus.h"

#define FWCFG_PORT 0x510

/* Selector keys (QEMU's include/standard-headers/linux/qemu_fw_cfg.h). */
#define FW_CFG_SIGNATURE  0x00
#define FW_CFG_ID         0x01
#define FW_CFG_UUID       0x02
#define FW_CFG_RAM_SIZE   0x03
#define FW_CFG_NB_CPUS    0x05
#define FW_CFG_MAX_CPUS   0x0f
#define FW_CFG_FILE_DIR   0x19
#define FW_CFG_FILE_FIRST 0x20

/* One file directory entry: size and key big-endian, a 56-byte name. */
#define FWCFG_DIR_ENTRY 64

struct fwcfg {
    uint16_t selector;
    uint32_t offset; /* next byte of the selected item */
    uint8_t ram_size[8], nb_cpus[2], max_cpus[2];
    uint8_t e820[3 * 20];             /* entries: base, length (64-bit), type */
    uint32_t e820_len;                /* bytes of e820[] in use */
    uint8_t dir[4 + FWCFG_DIR_ENTRY]; /* count (big-endian) and the entries */
    struct io_device dev;
};

/* The machine fw_cfg describes. */
struct fwcfg_machine {
    uint16_t cpus;
    uint64_t ram_bytes; /* RAM from guest-physical 0 (and above 4 GiB) */
    bool amd_ht_hole;   /* an AMD CPU with MAXPHYADDR >= 40 */
};

/* The device at ports 0x510-0x511 describing machine `m`. */
void fwcfg_init(struct fwcfg *f, const struct fwcfg_machine *m);

#endif
