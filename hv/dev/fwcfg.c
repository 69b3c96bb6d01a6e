/*
 * fwcfg.c - QEMU's fw_cfg device, legacy port interface (see fwcfg.h).
 * Item formats from QEMU's docs/specs/fw_cfg.rst: integers little-endian,
 * the file directory big-endian.
 *
 * Everything a guest can read is built once, at fwcfg_init, into the
 * struct's own arrays: the device then only hands out bytes, so a guest
 * cannot make it allocate, compute or overrun anything by what it
 * selects.  The answers must be QEMU's byte for byte, because the same
 * guest runs on plain QEMU and under hv and the tests compare the two.
 */
#include "klib.h"

#include "fwcfg.h"

/* The key "etc/e820" gets: the first file key.  QEMU numbers files from
 * 0x20 in the order they are added, and a guest must look the key up in
 * the directory rather than assume it, so hv's directory names it too. */
#define KEY_E820 FW_CFG_FILE_FIRST
/* e820 type 2: reserved. */
#define E820_RESERVED 2
/* QEMU's AMD HyperTransport hole: 12 GiB below 1 TiB.  AMD CPUs that can
 * address that far use the range for HyperTransport itself, so no RAM
 * may be placed there and firmware must be told it is reserved. */
#define AMD_HT_START 0xfd00000000ull
#define AMD_HT_SIZE  0x300000000ull
/* The i440fx machine's RAM split: with 3.5 GiB of RAM or more, only 3 GiB
 * stay below 4 GiB (the rest is relocated above 4 GiB). */
#define LOWMEM_SPLIT 0xe0000000ull
#define LOWMEM_LIMIT 0xc0000000ull
#define FOUR_GIB     0x100000000ull

/* e820 type 1: usable RAM (AddressRangeMemory in the ACPI specification's
 * "System Address Map Interfaces" chapter). */
#define E820_RAM 1

/* Byte by byte rather than through a cast pointer: the arrays have no
 * alignment to rely on, and the order then does not depend on the host's,
 * which matters for the hosted unit tests. */
static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Big-endian for the file directory only, as fw_cfg.rst specifies it: a
 * guest that reads the count little-endian sees 2^24 files, the usual
 * sign of that mistake. */
static void put_be(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

/* The bytes and length of the item `key`; an item hv does not have is
 * empty, so it reads as zeros. */
static const uint8_t *item(const struct fwcfg *f, uint16_t key, uint32_t *len)
{
    /* "QEMU" and the interface ID (bit 0: the traditional interface). */
    static const uint8_t sig[4] = {'Q', 'E', 'M', 'U'}, id[4] = {1, 0, 0, 0};
    /* All zero, as QEMU's is when started without -uuid. */
    static const uint8_t uuid[16];
    switch (key) {
    case FW_CFG_SIGNATURE:
        *len = sizeof(sig);
        return sig;
    case FW_CFG_ID:
        *len = sizeof(id);
        return id;
    case FW_CFG_UUID:
        *len = sizeof(uuid);
        return uuid;
    case FW_CFG_RAM_SIZE:
        *len = sizeof(f->ram_size);
        return f->ram_size;
    case FW_CFG_NB_CPUS:
        *len = sizeof(f->nb_cpus);
        return f->nb_cpus;
    case FW_CFG_MAX_CPUS:
        *len = sizeof(f->max_cpus);
        return f->max_cpus;
    case FW_CFG_FILE_DIR:
        *len = sizeof(f->dir);
        return f->dir;
    /* Only as long as the entries really built: a machine without the AMD
     * hole or RAM above 4 GiB has fewer than three. */
    case KEY_E820:
        *len = f->e820_len;
        return f->e820;
    default:
        *len = 0;
        return NULL;
    }
}

/* The next byte of the selected item; 0 past its end (and the offset
 * stops there, as QEMU's does). */
static uint8_t data_read(struct fwcfg *f)
{
    uint32_t len;
    const uint8_t *p = item(f, f->selector, &len);
    /* The offset never passes the end, so a guest reading far past it
     * cannot wrap around to the item's start or beyond the array. */
    if (f->offset >= len)
        return 0;
    return p[f->offset++];
}

static uint32_t fwcfg_read(void *ctx, uint16_t off, uint8_t size)
{
    /* Which of the two ports does not matter for a read (fwcfg.h). */
    (void)off;
    /* QEMU's port pair answers a byte read at either port with data;
     * wider reads are not valid accesses: all ones, as an empty bus. */
    if (size != 1)
        return size == 2 ? 0xffffu : 0xffffffffu;
    return data_read(ctx);
}

static void fwcfg_write(void *ctx, uint16_t off, uint8_t size, uint32_t value)
{
    struct fwcfg *f = ctx;
    /* Which port does not matter for a write either (fwcfg.h). */
    (void)off;
    /* A 16-bit write selects an item and rewinds it (bit 14, "write",
     * and bit 15, "architecture-specific", are part of the key).  Byte
     * writes are data writes, which QEMU 7.2 ignores. */
    if (size == 2) {
        f->selector = (uint16_t)value;
        f->offset = 0;
    }
}

/* The file directory: a big-endian count, then per file its size (32
 * bits), key (16 bits), 16 reserved bits and a NUL-padded 56-byte name. */
static void build_dir(struct fwcfg *f)
{
    /* One file, so the directory is a fixed size; its size field comes
     * from the e820 table, which fwcfg_init therefore builds first.  The
     * reserved bits and the rest of the name stay 0 from the memset. */
    uint8_t *e = f->dir + 4;
    put_be(f->dir, 1, 4);
    put_be(e, f->e820_len, 4);
    put_be(e + 4, KEY_E820, 2);
    memcpy(e + 8, "etc/e820", sizeof("etc/e820"));
}

/* Append one e820 entry: 64-bit base and length, 32-bit type. */
static void add_e820(struct fwcfg *f, uint64_t base, uint64_t len, uint32_t type)
{
    /* Packed, 20 bytes an entry, no padding: the layout of QEMU's own
     * e820 entry structure, which firmware reads as an array.  The array
     * has room for the three entries build_e820 can add, no more. */
    uint8_t *e = f->e820 + f->e820_len;
    put_le(e, base, 8);
    put_le(e + 8, len, 8);
    put_le(e + 16, type, 4);
    f->e820_len += 20;
}

/* QEMU 7.2's pc_memory_init() order: the AMD hole, RAM below 4 GiB, RAM
 * above 4 GiB. */
static void build_e820(struct fwcfg *f, const struct fwcfg_machine *m)
{
    /* RAM must leave room below 4 GiB for the PCI hole and the firmware,
     * so from 3.5 GiB of RAM on QEMU keeps only 3 GiB low and moves the
     * rest above 4 GiB; below 3.5 GiB all of it stays low.  hv's own
     * memory map (core/memmap.c) refuses RAM that QEMU would split, so
     * under hv all of RAM is low; the split is kept so that this table
     * stays QEMU's rule whole rather than hv's special case. */
    uint64_t below = m->ram_bytes;
    if (m->ram_bytes >= LOWMEM_SPLIT)
        below = LOWMEM_LIMIT;
    /* The order is QEMU's, not the addresses': a guest comparing the two
     * tables entry by entry must find them equal. */
    if (m->amd_ht_hole)
        add_e820(f, AMD_HT_START, AMD_HT_SIZE, E820_RESERVED);
    add_e820(f, 0, below, E820_RAM);
    if (m->ram_bytes > below)
        add_e820(f, FOUR_GIB, m->ram_bytes - below, E820_RAM);
}

void fwcfg_init(struct fwcfg *f, const struct fwcfg_machine *m)
{
    /* Zero first: the selector starts at key 0, the signature, as QEMU's
     * does at reset, and unused bytes of the tables read as 0. */
    memset(f, 0, sizeof(*f));
    put_le(f->ram_size, m->ram_bytes, 8);
    /* 16 bits on the wire, like QEMU's; the domain's vCPUs (main.c). */
    put_le(f->nb_cpus, m->cpus, 2);
    /* QEMU's "max CPUs" on a PC is the APIC ID limit: the CPU count when
     * no more can be hot-plugged. */
    put_le(f->max_cpus, m->cpus, 2);
    build_e820(f, m);
    build_dir(f);
    /* Wide: the selector is written with one 16-bit OUT, which must reach
     * fwcfg_write whole rather than split into two byte writes that would
     * each look like a data write. */
    f->dev = (struct io_device){
        .name = "fw_cfg",
        .base = FWCFG_PORT,
        /* Selector and data only: the DMA interface's address registers
         * at 0x514 are absent, as the ID item (bit 1 clear) tells a guest. */
        .count = 2,
        .wide = true,
        .read = fwcfg_read,
        .write = fwcfg_write,
        .ctx = f,
    };
}
