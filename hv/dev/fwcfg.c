/*
 * fwcfg.c - QEMU's fw_cfg device, legacy port interface (see fwcfg.h).
 * Item formats from QEMU's docs/specs/fw_cfg.rst: integers little-endian,
 * the file directory big-endian.
 */
#include "klib.h"

#include "fwcfg.h"

/* The key "etc/e820" gets: the first file key. */
#define KEY_E820 FW_CFG_FILE_FIRST
/* e820 type 1: usable RAM (AddressRangeMemory in the ACPI specification's
 * "System Address Map Interfaces" chapter). */
#define E820_RAM 1

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

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
    case KEY_E820:
        *len = sizeof(f->e820);
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
    if (f->offset >= len)
        return 0;
    return p[f->offset++];
}

static uint32_t fwcfg_read(void *ctx, uint16_t off, uint8_t size)
{
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
    uint8_t *e = f->dir + 4;
    put_be(f->dir, 1, 4);
    put_be(e, sizeof(f->e820), 4);
    put_be(e + 4, KEY_E820, 2);
    memcpy(e + 8, "etc/e820", sizeof("etc/e820"));
}

void fwcfg_init(struct fwcfg *f, uint16_t cpus, uint64_t ram_bytes)
{
    memset(f, 0, sizeof(*f));
    put_le(f->ram_size, ram_bytes, 8);
    put_le(f->nb_cpus, cpus, 2);
    /* QEMU's "max CPUs" on a PC is the APIC ID limit: the CPU count when
     * no more can be hot-plugged. */
    put_le(f->max_cpus, cpus, 2);
    /* All RAM as one range, as QEMU's PC machine lists RAM below 4 GiB. */
    put_le(f->e820, 0, 8);
    put_le(f->e820 + 8, ram_bytes, 8);
    put_le(f->e820 + 16, E820_RAM, 4);
    build_dir(f);
    f->dev = (struct io_device){
        .name = "fw_cfg",
        .base = FWCFG_PORT,
        .count = 2,
        .wide = true,
        .read = fwcfg_read,
        .write = fwcfg_write,
        .ctx = f,
    };
}
