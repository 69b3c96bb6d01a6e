/*
 * The layout of QEMU 7.2's `x`, `xp` and `print` (monitor/misc.c
 * memory_dump and hmp_print): the same bytes give the same text, so a
 * student can put hv's output beside QEMU's.
 */
#ifndef HVKIT_MGMT_HMP_MEMDUMP_H
#define HVKIT_MGMT_HMP_MEMDUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Read `len` bytes (at most 16) at `addr`: 0, or -1 if they cannot be read. */
typedef int (*hmp_read_fn)(void *ctx, uint64_t addr, void *buf, size_t len);

/*
 * Print `count` units of `size` bytes (1, 2, 4, 8) from `addr` in `format`
 * ('x', 'd', 'u', 'o', 'c'), 8 units of a byte or 16 bytes a line, each
 * line starting with the address in 16 hex digits and a colon.  A line
 * that cannot be read prints " Cannot access memory" and ends the dump.
 * Format 'i' (disassembly) prints that hvkit's monitor has none.
 */
void hmp_memory_dump(FILE *out, long count, int format, int size, uint64_t addr, hmp_read_fn read,
                     void *ctx);

/* One character as QEMU prints it with /c: 'A', '\n', '\x00', ... */
void hmp_printc(FILE *out, int c);

/* `print /FMT value`: 0x-prefixed hex, 0-prefixed octal, unsigned, signed
 * decimal or a character, and a newline. */
void hmp_print_value(FILE *out, int format, uint64_t val);

#endif
