/*
 * qemu_text.h: texts QEMU prints for people, which both imgtool (qemu-img's
 * `info`, `snapshot -l`, `dump`) and hvkit's QEMU monitor (`info
 * snapshots`, mgmt/hmp) print the same way.  Hosted only: they use the C
 * library's number formatting and local time.
 */
#ifndef IMG_HOSTED_QEMU_TEXT_H
#define IMG_HOSTED_QEMU_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "img.h"

/* QEMU's size_to_str() (util/cutils.c): three significant digits and an
 * IEC suffix, switching unit once the integer part reaches 1000: "64 MiB",
 * "1.5 GiB", "423 KiB", "512 B". */
void img_size_to_str(char *buf, size_t len, uint64_t val);

/* QEMU's bdrv_snapshot_dump() (block/qapi.c): one line of the snapshot
 * table, without its newline, into buf -- the header line ("ID TAG VM SIZE
 * DATE VM CLOCK ICOUNT") when `sn` is NULL, else the snapshot's ID, tag,
 * VM state size, date in local time, VM clock and, when recorded, icount.
 * qemu-img's `snapshot -l` and `info` and the monitor's `info snapshots`
 * all print their tables with it. */
void img_snapshot_line(char *buf, size_t len, const struct img_snapshot_info *sn);

#endif
