/*
 * memmap.h - a guest's physical address space: what lies at each
 * guest-physical address.
 *
 * A guest believes it runs on a PC.  On a PC, physical addresses are not all
 * RAM: some are RAM the firmware keeps for itself, some belong to devices
 * (memory-mapped I/O, e.g. a local APIC at 0xfee00000), and some have
 * nothing behind them at all.  This map is hv's one description of that
 * address space, from which everything else is derived:
 *
 *   - the second-level page tables (slat.h) map exactly the RAM ranges;
 *   - an access to an MMIO range exits and goes to the range's owner;
 *   - the Multiboot memory map and mem_lower/mem_upper the guest is given
 *     (hv/loader) are this map as a firmware would report it.
 *
 * Three kinds of range, and nothing else:
 *
 *   MEM_RAM       backed by guest RAM (guest-physical X is byte X of the
 *                 guest's RAM block, gmem.h); reported to the guest as
 *                 available, reserved (RAM the firmware keeps, e.g. the
 *                 EBDA) or not at all;
 *   MEM_MMIO      owned by a device model, never mapped: every access exits
 *                 to hv, which hands it to the owner; not reported (a PC's
 *                 firmware does not list its APICs either);
 *   MEM_RESERVED  a hole with nothing behind it: an access ends the guest;
 *                 reported as reserved (firmware flash) or not at all.
 *
 * Addresses no range covers are holes too.  Plain definitions and pure
 * functions, compiled hosted too (tests/unit/test_hv_memmap.c).
 */
#ifndef HV_CORE_MEMMAP_H
#define HV_CORE_MEMMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum mem_kind {
    MEM_RAM,
    MEM_MMIO,
    MEM_RESERVED,
};

/* What the firmware's memory map tells the guest about a range.  The
 * numbers are the Multiboot memory map's types (Multiboot 0.6.96 3.3), which
 * are also the BIOS's INT 15h E820 types: 1 available, 2 reserved. */
enum mem_report {
    MEM_REPORT_NONE = 0,
    MEM_REPORT_AVAILABLE = 1,
    MEM_REPORT_RESERVED = 2,
};

struct mem_range {
    uint64_t base; /* first guest-physical byte */
    uint64_t size; /* bytes, never 0 */
    enum mem_kind kind;
    enum mem_report report;
    /* A short name for messages, the exit trace and the table graph, e.g.
     * "EBDA", "local APIC".  A string literal: the map does not copy it. */
    const char *name;
    /* MEM_MMIO: the device model that answers (opaque here; the MMIO bus
     * knows its type).  NULL for the other kinds. */
    void *owner;
};

/* A PC needs about ten ranges; a few dozen leave room for devices. */
#define MEMMAP_MAX 32

/* The ranges, sorted by base and never overlapping (memmap_add keeps it
 * so), and the size of the guest's RAM block that MEM_RAM ranges lie in. */
struct memmap {
    struct mem_range r[MEMMAP_MAX];
    unsigned n;
    uint64_t ram_size;
};

/* An empty map over a RAM block of `ram_size` bytes. */
void memmap_init(struct memmap *m, uint64_t ram_size);

/* Add a range.  Returns 0, or -1 with the reason in err when it is empty,
 * wraps past 2^64, overlaps a range already there, is RAM outside the RAM
 * block, or the map is full. */
int memmap_add(struct memmap *m, const struct mem_range *r, char *err, size_t err_len);

/* The range holding guest-physical `gpa`, or NULL for a hole. */
const struct mem_range *memmap_find(const struct memmap *m, uint64_t gpa);

/* True when every byte of [gpa, gpa + len) lies in ranges reported
 * `report` (adjacent ranges may be joined), for the loader: an image
 * segment may only go where the guest is told there is available RAM. */
bool memmap_reported_as(const struct memmap *m, uint64_t gpa, uint64_t len, enum mem_report report);

/* The layout of QEMU's PC machine (i440FX with SeaBIOS) with `ram_size`
 * bytes of RAM below 4 GiB (see memmap.c for each range and why).
 * amd_ht_hole adds the reserved 1 TiB - 12 GiB HyperTransport window that
 * QEMU reports for AMD CPUs with 40 or more physical address bits.  Returns
 * 0, or -1 with err when the RAM does not fit the layout. */
int memmap_pc(struct memmap *m, uint64_t ram_size, bool amd_ht_hole, char *err, size_t err_len);

/* One entry of the map as a firmware reports it. */
struct memmap_report_entry {
    uint64_t addr, len;
    enum mem_report type;
};

/* The firmware's view: ranges with a report, in address order, adjacent
 * ones of the same type joined (as SeaBIOS's E820 table joins them).
 * Writes at most `max` entries and returns how many there are in all. */
unsigned memmap_report(const struct memmap *m, struct memmap_report_entry *out, unsigned max);

/* The kind's name for messages ("RAM", "MMIO", "reserved"). */
const char *mem_kind_name(enum mem_kind k);

#endif
