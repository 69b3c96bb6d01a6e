/*
 * fwcfg: the firmware-facing ports of QEMU's PC machine that guests
 * written for QEMU use before anything else (QEMU's docs/specs/fw_cfg.rst):
 * the fw_cfg device at 0x510/0x511 (signature, CPU counts, RAM size, the
 * file directory and its "etc/e820" table) and System Control Port A at
 * 0x92 (A20 on).  With the argument "reset" the guest resets the machine
 * through port 0x92 bit 0 instead: plain QEMU run with -no-reboot powers
 * off, hv ends the guest.
 */
#include "guestkit/guestkit.h"

#define FW_SELECT 0x510
#define FW_DATA   0x511

/* `n` bytes (at most 8) of item `key` from offset `skip`, little-endian. */
static uint64_t fw_get(uint16_t key, unsigned skip, unsigned n)
{
    uint64_t v = 0;
    outw(FW_SELECT, key);
    for (unsigned i = 0; i < skip; i++)
        inb(FW_DATA);
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)inb(FW_DATA) << (8 * i);
    return v;
}

/* A big-endian 32- or 16-bit number from the data port. */
static uint32_t fw_be(unsigned n)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v = v << 8 | inb(FW_DATA);
    return v;
}

/* The key of file `name` in the directory (item 0x19), or 0. */
static uint16_t fw_file(const char *name, uint32_t *size)
{
    outw(FW_SELECT, 0x19);
    uint32_t count = fw_be(4);
    for (uint32_t f = 0; f < count && f < 256; f++) {
        uint32_t sz = fw_be(4);
        uint16_t key = (uint16_t)fw_be(2);
        fw_be(2);
        char n[56];
        for (unsigned i = 0; i < sizeof(n); i++)
            n[i] = (char)inb(FW_DATA);
        n[55] = '\0';
        if (strcmp(n, name) == 0) {
            *size = sz;
            return key;
        }
    }
    return 0;
}

/* RAM the Multiboot loader reports: the end of the range at 1 MiB. */
static uint64_t mb_ram_top(void)
{
    uint64_t top = 0;
    for (const struct mb_mmap_entry *e = mb_mmap_next(NULL); e; e = mb_mmap_next(e))
        if (e->type == 1 && e->addr + e->len > top && e->addr < 0x100000000ull)
            top = e->addr + e->len;
    return top;
}

static void e820_checks(uint64_t ram)
{
    uint32_t size = 0;
    uint16_t key = fw_file("etc/e820", &size);
    if (!report(key >= 0x20 && size % 20 == 0 && size > 0, "etc/e820 is in the file directory"))
        return;
    bool found = false;
    for (unsigned off = 0; off < size; off += 20) {
        uint64_t base = fw_get(key, off, 8), len = fw_get(key, off + 8, 8);
        uint32_t type = (uint32_t)fw_get(key, off + 16, 4);
        report_info("e820: %#llx + %#llx type %u", (unsigned long long)base,
                    (unsigned long long)len, type);
        if (base == 0 && type == 1)
            found = len == ram;
    }
    report(found, "etc/e820: RAM from 0 as large as FW_CFG_RAM_SIZE");
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "reset") == 0) {
        printf("resetting through port 0x92\n");
        outb(0x92, inb(0x92) | 1);
        /* The reset is immediate; should it not come, say so. */
        printf("still running after the reset\n");
        return 1;
    }
    report(fw_get(0x00, 0, 4) == 0x554d4551u, "signature: \"QEMU\"");
    uint32_t id = (uint32_t)fw_get(0x01, 0, 4);
    report_info("interface ID %#x (bit 1, the DMA interface, is QEMU's alone)", id);
    report(id & 1, "ID: the traditional port interface");
    report(fw_get(0x05, 0, 2) == 1, "FW_CFG_NB_CPUS: one CPU");
    report(fw_get(0x0f, 0, 2) == 1, "FW_CFG_MAX_CPUS: one");
    /* Bytes past an item's end read 0. */
    report(fw_get(0x05, 2, 2) == 0, "reads past the end of an item: 0");
    uint64_t ram = fw_get(0x03, 0, 8), top = mb_ram_top();
    report_info("FW_CFG_RAM_SIZE %#llx, Multiboot RAM ends at %#llx", (unsigned long long)ram,
                (unsigned long long)top);
    /* The Multiboot map keeps back the top 128 KiB as QEMU's does. */
    report(ram >= top && ram - top <= 0x20000, "FW_CFG_RAM_SIZE: the machine's RAM");
    e820_checks(ram);
    report(inb(0x92) & 2, "port 0x92: A20 enabled");
    return report_summary();
}
