/*
 * The parts of the runtime that need no hardware: splitting the command line
 * and walking the Multiboot memory map.  They are compiled freestanding into
 * every guest and hosted into the unit tests (tests/unit/test_guestkit.c).
 */
#ifndef GUESTKIT_PARSE_H
#define GUESTKIT_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hvkit/multiboot.h"

/* Split buf in place into words separated by spaces, tabs or newlines.
 * Stores at most max_args pointers in argv, then a NULL (argv must have
 * room for max_args + 1).  Returns the number of words stored; *dropped (if
 * not NULL) is set when more words were present than fit. */
int gk_split_args(char *buf, char **argv, int max_args, bool *dropped);

/* Memory map walking (Multiboot spec 3.3): the entry after prev (or the
 * first if prev is NULL) in the map at [map, map + length), or NULL when
 * no further whole entry fits. */
const struct mb_mmap_entry *gk_mmap_walk(uintptr_t map, uint32_t length,
                                         const struct mb_mmap_entry *prev);

/* The value of the first argument "key=value" among argv[1..argc-1], or
 * NULL; a bare "key" gives "".  Guests take their options this way, e.g.
 * "blk sectors=8192 wait=ioapic". */
const char *gk_arg_value(int argc, char **argv, const char *key);

/* One virtio-mmio device as Linux's command line names it:
 * "virtio_mmio.device=<size>@<base>:<irq>" (Linux's
 * Documentation/admin-guide/kernel-parameters.txt, "virtio_mmio.device"),
 * the form QEMU's microvm and bin/hvrun pass.  <size> may carry a K, M or G
 * suffix; <base> and <irq> are decimal or 0x-prefixed hexadecimal; an
 * optional ":<id>" after the IRQ (a platform device number) is accepted
 * and ignored. */
struct gk_virtio_mmio_spec {
    uint64_t base;
    uint64_t size;
    uint32_t irq;
};

/* The text after "virtio_mmio.device=" into *out; false if malformed. */
bool gk_parse_virtio_mmio(const char *value, struct gk_virtio_mmio_spec *out);

/* Every well-formed "virtio_mmio.device=" word of a command line, in
 * order, into out[0..max-1]; returns how many were found (even beyond
 * max, so the caller can tell some did not fit). */
int gk_find_virtio_mmio(const char *cmdline, struct gk_virtio_mmio_spec *out, int max);

#endif
