/*
 * outer.h - the image files the launcher attached to the outer machine
 * (bin/hvrun.d/outerdisk.sh), found on its ATA disks and offered to
 * imgtool's library as struct img_io (diskio.h says how a file lives on a
 * disk and why).  hv's virtio-blk devices open their images through
 * outer_disk_io().
 *
 * The launcher numbers the files it attaches (0, 1, ...) and writes the
 * number into each file's trailer, so hv needs no map of which ATA
 * position holds which file: it looks at all four (primary and secondary
 * channel, master and slave; Bochs boots from a CD on the primary master,
 * which is skipped as a packet device).
 */
#ifndef HV_DISK_OUTER_H
#define HV_DISK_OUTER_H

#include <stdbool.h>

#include "diskio.h"
#include "img.h"

#define OUTER_DISKS_MAX 4

/* Look at the four ATA positions once (later calls return the same
 * answer) and log each attached file found: how many were found. */
int outer_disks_scan(void);

/* An img_io on the launcher's file number `index`: 0, or -1 with *why.
 * `writable` false (or a file attached read-only) refuses writes. */
int outer_disk_io(unsigned index, bool writable, struct img_io *io, const char **why);

/* The number of the attached file called `name` (as the launcher was
 * given it), or -1: for opening a backing file by the name an image's
 * header gives. */
int outer_disk_by_name(const char *name);

/* Did the launcher attach file number `index` writable?  A backing file
 * is a private copy: writable only when the launcher will write it back
 * over the user's file after a commit (bin/hvrun.d/outerdisk.sh). */
bool outer_disk_writable(unsigned index);

/* The name the launcher gave file number `index` (the name to open it
 * by, for imgtool's library and messages), or NULL if there is none. */
const char *outer_disk_name(unsigned index);

/* A file the manager placed inside an outer disk (a disk slot of the
 * staging disk, docs/control-protocol.md "Disks attached at run time"):
 * `bytes` bytes from byte `offset` of the launcher's file number `index`,
 * seen as a disk of its own whose last sector holds the same trailer as a
 * launcher's file (diskio.h), so that the file's length grows and is
 * recorded exactly as for a file of its own.  `w` must outlive `io`. */
struct outer_window {
    struct outer_disk *disk;
    uint64_t first;
    struct diskio_file file;
};
int outer_window_io(struct outer_window *w, unsigned index, uint64_t offset, uint64_t bytes,
                    bool writable, struct img_io *io, const char **why);

/* disk-test (hv's command line): read every attached file through
 * img_io at odd offsets and log a checksum of its bytes, then (if it is
 * writable) write a known text at offset 1000 and past its end, flush, and
 * log the new length and checksum.  tests/integration/outer-disk.sh
 * compares both with the host file. */
void outer_disk_selftest(void);

#endif
