/*
 * memdisk.h - an image file held in hv's memory, as imgtool's library
 * sees a file (struct img_io in imgtool/lib/img.h).
 *
 * Until hv has its own way to the image file on the host, a disk image
 * reaches hv as a Multiboot module: the outer machine's loader copies the
 * file into memory, and this backend serves the library's reads and writes
 * from there.  Writes change only that memory: when hv ends, whatever the
 * guest wrote is gone, and the file on the host is untouched (so a
 * flush is durable only as far as hv's memory is).  A qcow2 image grows as
 * clusters are allocated: a write past the end moves the bytes to a larger
 * block from the allocator (twice the size, at least 1 MiB more), zero
 * filled, as a file grows.
 *
 * Compiled into hv and hosted (tests/unit/test_hv_virtio_dev.c).
 */
#ifndef HV_DEV_VIRTIO_MEMDISK_H
#define HV_DEV_VIRTIO_MEMDISK_H

#include <stdbool.h>
#include <stdint.h>

#include "img.h"

struct memdisk {
    uint8_t *data;
    uint64_t len; /* the file's length */
    uint64_t cap; /* bytes available at data */
    bool owned;   /* data came from alloc() (else it is the loader's) */
    /* Zero-filled allocation and its release (kzalloc/kfree in hv). */
    void *(*alloc)(size_t bytes);
    void (*free)(void *p);
};

/* A file of `len` bytes at `data` (not copied: writes change it there). */
void memdisk_init(struct memdisk *m, void *data, uint64_t len, void *(*alloc)(size_t),
                  void (*free)(void *));

/* The library's view of it.  io->close gives a grown block back. */
void memdisk_io(struct memdisk *m, struct img_io *io);

#endif
