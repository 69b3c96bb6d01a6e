/*
 * diskio.h - an image file on a disk of the outer machine, as imgtool's
 * library sees files (struct img_io, imgtool/lib/img.h).
 *
 * Why the file itself is the outer disk.  hv reaches the host's files
 * only through the emulator's disks.  The launcher (bin/hvrun.d/
 * outerdisk.sh) therefore hands the emulator the image file itself as a
 * raw disk, so that every write hv makes lands in the real file and a
 * FLUSH CACHE makes it durable there: nothing to copy back, nothing lost
 * if the emulator dies after a flush.  A qcow2 file grows as clusters are
 * allocated, but a disk has a fixed size: so before the run the launcher
 * extends the file (sparsely: the extension costs no space) to a limit
 * that the image can never outgrow, and writes a trailer into its last
 * sector:
 *
 *     0   "HVKITDSK"          magic
 *     8   le32 version (1)
 *     12  le32 index          which disk of the launcher's list this is
 *     16  le64 length         the file's real length in bytes
 *     24  le64 limit          how far the file may grow (the trailer's offset)
 *     32  le32 flags          bit 0: read-only
 *     36  le32 0
 *     40  name[256]           the file's name as the user gave it, NUL-ended
 *     508 le32 FNV-1a         of bytes 0..507
 *
 * hv reads the file's bytes [0, length) and grows `length` as the library
 * writes past it, rewriting the trailer before the data that needs it, so
 * the trailer never says less than what is on the disk.  After the run the
 * launcher cuts the file back to the trailer's length.  Reads past the end
 * return zeros, as the library expects of every file.
 *
 * Hardware-free: the sectors come through struct sector_dev, so the same
 * code runs over the ATA driver in hv and over memory in the unit test
 * (tests/unit/test_hv_disk.c).
 */
#ifndef HV_DISK_DISKIO_H
#define HV_DISK_DISKIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "img.h"

#define DISKIO_SECTOR      512u
#define DISKIO_MAGIC       "HVKITDSK"
#define DISKIO_VERSION     1u
#define DISKIO_NAME_MAX    256u
#define DISKIO_FLAG_RDONLY 1u

/* A disk in 512-byte sectors. */
struct sector_dev {
    void *ctx;
    uint64_t sectors;
    int (*read)(void *ctx, uint64_t lba, void *buf, uint32_t count);
    int (*write)(void *ctx, uint64_t lba, const void *buf, uint32_t count);
    int (*flush)(void *ctx);
};

/* The trailer's fields. */
struct diskio_trailer {
    uint32_t index;
    uint64_t length;
    uint64_t limit;
    uint32_t flags;
    char name[DISKIO_NAME_MAX];
};

/* Decode a trailer sector; 0, or -1 with *why (no magic, bad checksum, a
 * limit that does not fit the disk of `sectors`, ...). */
int diskio_trailer_decode(const uint8_t sector[DISKIO_SECTOR], uint64_t sectors,
                          struct diskio_trailer *t, const char **why);
/* Encode it (with the checksum). */
void diskio_trailer_encode(const struct diskio_trailer *t, uint8_t sector[DISKIO_SECTOR]);

/* One file on one disk. */
struct diskio_file {
    struct sector_dev dev;
    struct diskio_trailer t;
    bool writable;
    /* For the partial sectors at either end of an access. */
    uint8_t bounce[DISKIO_SECTOR];
};

/* Read the trailer from the disk's last sector; 0 or -1 with *why. */
int diskio_open(struct diskio_file *f, const struct sector_dev *dev, const char **why);

/* Fill *io with callbacks on f (which must outlive io).  `writable` false
 * makes every write -IMG_EROFS, as does the trailer's read-only flag. */
void diskio_img_io(struct diskio_file *f, bool writable, struct img_io *io);

#endif
