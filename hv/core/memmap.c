/*
 * memmap.c - the guest-physical memory map (see memmap.h): adding ranges,
 * looking addresses up, the PC layout, and the firmware's report of it.
 */
#include "klib.h"

#include "memmap.h"

/* The PC layout's fixed addresses (memmap_pc).  SeaBIOS keeps the top KiB
 * of conventional memory for its extended BIOS data area, so conventional
 * memory ends at 639 KiB; the legacy window starts at 640 KiB (VGA memory
 * 0xa0000-0xbffff, option ROMs 0xc0000-0xeffff, see legacy_window below)
 * and the BIOS sits in the last 64 KiB below 1 MiB. */
#define PC_EBDA   0x9fc00ull
#define PC_LEGACY 0xa0000ull
#define PC_BIOS   0xf0000ull
#define PC_HIGH   0x100000ull
/* SeaBIOS keeps its tables (ACPI, SMBIOS) in the top 128 KiB of RAM and
 * reports them reserved. */
#define PC_TOP_TABLES 0x20000ull
/* The firmware flash QEMU maps just below 4 GiB (256 KiB for SeaBIOS). */
#define PC_FLASH 0xfffc0000ull
#define PC_4G    0x100000000ull
/* QEMU's PC machine puts RAM above 3.5 GiB beyond 4 GiB instead (the PCI
 * hole), which this map does not model: hv's RAM stays below. */
#define PC_LOWMEM_MAX 0xe0000000ull
/* AMD's HyperTransport window, reserved by QEMU for AMD CPUs (1 TiB minus
 * 12 GiB up to 1 TiB). */
#define PC_AMD_HT     0xfd00000000ull
#define PC_AMD_HT_END 0x10000000000ull

/* Formats the reason of a refusal; always returns -1. */
static int refuse(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int refuse(char *err, size_t err_len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(err, err_len, fmt, ap);
    va_end(ap);
    return -1;
}

void memmap_init(struct memmap *m, uint64_t ram_size)
{
    memset(m, 0, sizeof(*m));
    m->ram_size = ram_size;
}

const char *mem_kind_name(enum mem_kind k)
{
    return k == MEM_RAM ? "RAM" : k == MEM_MMIO ? "MMIO" : "reserved";
}

/* The last byte of a range: with it, ranges ending at 2^64 need no 65th bit. */
static uint64_t last_byte(const struct mem_range *r)
{
    return r->base + (r->size - 1);
}

int memmap_add(struct memmap *m, const struct mem_range *r, char *err, size_t err_len)
{
    /* An empty range would be invisible and confuse every lookup. */
    if (r->size == 0)
        return refuse(err, err_len, "%s: empty range at %#llx", r->name,
                      (unsigned long long)r->base);
    /* base + size - 1 must not wrap: a range cannot run past 2^64. */
    if (r->base + (r->size - 1) < r->base)
        return refuse(err, err_len, "%s: range at %#llx of %#llx bytes wraps past 2^64", r->name,
                      (unsigned long long)r->base, (unsigned long long)r->size);
    /* RAM is backed by the RAM block at the same offset (gmem.h), so it can
     * only be where the block is. */
    if (r->kind == MEM_RAM && (r->base >= m->ram_size || r->size > m->ram_size - r->base))
        return refuse(err, err_len,
                      "%s: RAM range %#llx..%#llx lies outside the %llu MiB RAM block", r->name,
                      (unsigned long long)r->base, (unsigned long long)last_byte(r),
                      (unsigned long long)(m->ram_size >> 20));
    if (m->n == MEMMAP_MAX)
        return refuse(err, err_len, "%s: the memory map is full (%d ranges)", r->name, MEMMAP_MAX);
    /* Find the insertion point that keeps the ranges sorted by base. */
    unsigned i = 0;
    while (i < m->n && m->r[i].base < r->base)
        i++;
    /* Sorted and disjoint, so only the neighbours can overlap: the one
     * before must end before r starts, the one after start after r ends. */
    const struct mem_range *prev = i > 0 ? &m->r[i - 1] : NULL;
    const struct mem_range *next = i < m->n ? &m->r[i] : NULL;
    const struct mem_range *clash = prev && last_byte(prev) >= r->base   ? prev
                                    : next && next->base <= last_byte(r) ? next
                                                                         : NULL;
    if (clash)
        return refuse(err, err_len, "%s %#llx..%#llx overlaps %s %#llx..%#llx", r->name,
                      (unsigned long long)r->base, (unsigned long long)last_byte(r), clash->name,
                      (unsigned long long)clash->base, (unsigned long long)last_byte(clash));
    /* Shift the later ranges up by one and put r in the gap. */
    memmove(&m->r[i + 1], &m->r[i], (m->n - i) * sizeof(m->r[0]));
    m->r[i] = *r;
    m->n++;
    return 0;
}

const struct mem_range *memmap_find(const struct memmap *m, uint64_t gpa)
{
    /* A linear search: the map has a handful of ranges, and this runs only
     * on exits that already cost far more. */
    for (unsigned i = 0; i < m->n; i++)
        if (gpa >= m->r[i].base && gpa <= last_byte(&m->r[i]))
            return &m->r[i];
    return NULL;
}

bool memmap_reported_as(const struct memmap *m, uint64_t gpa, uint64_t len, enum mem_report report)
{
    /* Walk from gpa through consecutive ranges until len bytes are
     * covered; a hole or another report ends it. */
    while (len) {
        const struct mem_range *r = memmap_find(m, gpa);
        if (!r || r->report != report)
            return false;
        /* The bytes of this range from gpa on. */
        uint64_t here = last_byte(r) - gpa + 1;
        /* here is 0 only for a range ending at 2^64 that starts at 0;
         * either way the request ends inside this range. */
        if (here == 0 || len <= here)
            return true;
        gpa += here;
        len -= here;
    }
    return true;
}

/* One range of the PC layout; a helper so that memmap_pc reads as a table. */
static int pc_range(struct memmap *m, uint64_t base, uint64_t end, enum mem_kind kind,
                    enum mem_report report, const char *name, char *err, size_t err_len)
{
    struct mem_range r = {
        .base = base, .size = end - base, .kind = kind, .report = report, .name = name};
    return memmap_add(m, &r, err, err_len);
}

/*
 * The legacy window, 640 KiB .. 960 KiB: what a PC guest finds there, and
 * why hv backs it with RAM that the firmware's map does not list.
 *
 * On a PC the window is not memory the firmware reports: ACPI 6.4 15.2
 * "E820 Assumptions and Limitations" says the standard PC ranges, video
 * memory at 0xa0000-0xbffff for one, are not described, and option ROMs
 * are not either.  But guests do touch it.  A PC-guest writer puts text on
 * the screen by storing into the VGA text buffer at 0xb8000, and looks for
 * the ACPI RSDP in 0xe0000-0xfffff (ACPI 6.4 5.2.5.1 "Finding the RSDP on
 * IA-PC Systems") or for option ROM signatures at 0xc0000 and up; ending
 * the guest there would punish ordinary code.
 *
 * What plain QEMU's PC machine (7.2, i440FX with SeaBIOS, -nodefaults: no
 * VGA card) has there, read by the legacy guest (guestkit/tests/legacy.c):
 *   0xa0000-0xbffff  behaves as RAM: a store reads back (without a VGA
 *                    card the chipset lets the range through to the RAM
 *                    beneath; with one, text mode memory behaves the same);
 *   0xc0000-0xeffff  option ROMs and SeaBIOS, shadowed in RAM: parts read
 *                    back stores, parts drop them (read-only shadow), the
 *                    rest reads zeroes;
 *   0xf0000-0xfffff  the BIOS, read-only.
 *
 * hv has no VGA card, no option ROMs and no BIOS, so it gives the window
 * RAM that is mapped but not reported: a text-mode writer's stores land and
 * read back as on QEMU, and a scan for ROM signatures or the RSDP finds
 * zeroes (no ROM, no ACPI), as on a PC without them.  An emulated device
 * instead would cost an exit per access for nothing a guest could see,
 * except that a store to the ROM area would stick here where QEMU drops
 * some; no guest depends on writing its ROMs.  Nobody ends up reading the
 * text buffer out: hv's console is COM1.
 */

/*
 * The PC layout, as a guest on QEMU's PC machine with SeaBIOS finds it (a
 * Multiboot guest gets SeaBIOS's INT 15h E820 table as its memory map):
 *
 *   0 .. 639 KiB              RAM, available ("conventional memory")
 *   639 KiB .. 640 KiB        RAM, reserved (SeaBIOS's EBDA)
 *   640 KiB .. 960 KiB        RAM, not reported (VGA memory, option ROMs:
 *                             the legacy window above)
 *   960 KiB .. 1 MiB          RAM, reserved (where the BIOS lives)
 *   1 MiB .. top - 128 KiB    RAM, available
 *   top - 128 KiB .. top      RAM, reserved (SeaBIOS's ACPI/SMBIOS tables)
 *   4 GiB - 256 KiB .. 4 GiB  nothing, reserved (the firmware flash)
 *   1 TiB - 12 GiB .. 1 TiB   nothing, reserved (AMD HyperTransport, only
 *                             with amd_ht_hole)
 *
 * The RAM the guest is told is reserved or is not told of is still there
 * and mapped: a guest reading the BIOS area finds zeroes, as it would find
 * SeaBIOS's data.
 */
int memmap_pc(struct memmap *m, uint64_t ram_size, bool amd_ht_hole, char *err, size_t err_len)
{
    memmap_init(m, ram_size);
    /* The high available range must not be empty, and RAM must stay below
     * the PCI hole, where QEMU would split it. */
    if (ram_size <= PC_HIGH + PC_TOP_TABLES || ram_size > PC_LOWMEM_MAX)
        return refuse(err, err_len,
                      "guest RAM of %llu KiB does not fit a PC: more than 1 MiB plus the "
                      "reserved top 128 KiB, at most %llu MiB",
                      (unsigned long long)(ram_size >> 10),
                      (unsigned long long)(PC_LOWMEM_MAX >> 20));
    uint64_t top = ram_size - PC_TOP_TABLES;
    if (pc_range(m, 0, PC_EBDA, MEM_RAM, MEM_REPORT_AVAILABLE, "low memory", err, err_len) ||
        pc_range(m, PC_EBDA, PC_LEGACY, MEM_RAM, MEM_REPORT_RESERVED, "EBDA", err, err_len) ||
        pc_range(m, PC_LEGACY, PC_BIOS, MEM_RAM, MEM_REPORT_NONE, "legacy VGA/ROM window", err,
                 err_len) ||
        pc_range(m, PC_BIOS, PC_HIGH, MEM_RAM, MEM_REPORT_RESERVED, "BIOS area", err, err_len) ||
        pc_range(m, PC_HIGH, top, MEM_RAM, MEM_REPORT_AVAILABLE, "RAM", err, err_len) ||
        pc_range(m, top, ram_size, MEM_RAM, MEM_REPORT_RESERVED, "firmware tables", err, err_len) ||
        pc_range(m, PC_FLASH, PC_4G, MEM_RESERVED, MEM_REPORT_RESERVED, "firmware flash", err,
                 err_len))
        return -1;
    if (amd_ht_hole && pc_range(m, PC_AMD_HT, PC_AMD_HT_END, MEM_RESERVED, MEM_REPORT_RESERVED,
                                "HyperTransport", err, err_len))
        return -1;
    return 0;
}

unsigned memmap_report(const struct memmap *m, struct memmap_report_entry *out, unsigned max)
{
    /* n counts every entry, written or not, so the caller learns the size
     * it needs; cur is the entry being built, written out when the next
     * one starts. */
    unsigned n = 0;
    struct memmap_report_entry cur = {0};
    for (unsigned i = 0; i < m->n; i++) {
        const struct mem_range *r = &m->r[i];
        if (r->report == MEM_REPORT_NONE)
            continue;
        /* Continue the current entry when r starts where it ends and says
         * the same. */
        if (n > 0 && cur.type == r->report && cur.addr + cur.len == r->base) {
            cur.len += r->size;
        } else {
            if (n > 0 && n - 1 < max)
                out[n - 1] = cur;
            cur = (struct memmap_report_entry){.addr = r->base, .len = r->size, .type = r->report};
            n++;
        }
    }
    /* The last entry. */
    if (n > 0 && n - 1 < max)
        out[n - 1] = cur;
    return n;
}
