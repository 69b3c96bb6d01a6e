/*
 * file.c: POSIX file and in-memory block backends (hosted only).
 *
 * The library core sees files only through struct img_io.  Here a file is
 * accessed with pread/pwrite at byte offsets; reads past the end of the
 * file return zeros, like a sparse hole, which is what the core expects of
 * every backend.
 *
 * The file backend is what QEMU's file protocol (block/file-posix.c) is
 * to qemu-img: it decides what "flush", "allocated size", "hole" and
 * "discard" mean on a Linux file system, and it is where the messages for
 * a missing or unsuitable file are worded.  Every call returns an IMG_E*
 * code, never errno: the core turns the code into a message naming the
 * file (img.c io_read()), so the errno's text is only needed at open time,
 * where this file words the message itself.
 *
 * The in-memory backend at the end serves the unit tests: an image that
 * lives only in memory, grown on demand, with the same read-past-the-end
 * rule as a file.
 */
#define _GNU_SOURCE
#include "img.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

/* The read-only xz backend (xz.c), chosen by img_io_open_file(). */
int img_io_open_xz(int fd, struct img_io *io, struct img_err *err);

/* A file backend's context is its descriptor, stored in the pointer
 * itself: there is nothing else to keep, so nothing to allocate or free. */
static int fd_of(void *ctx)
{
    return (int)(intptr_t)ctx;
}

/*
 * pread() until len bytes are in, since a read may return fewer bytes than
 * asked for (a signal, a large request, a network file system); EINTR is
 * retried for the same reason.  Past the end of the file the rest of the
 * buffer is zeroed, as QEMU's file protocol does, so that a truncated or
 * sparse image reads as zeros rather than failing.
 */
static int file_read(void *ctx, uint64_t off, void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len) {
        ssize_t n = pread(fd_of(ctx), p, len, (off_t)off);
        /* The errno's detail is lost on purpose: the core's message names
         * the file, offset and length, which says more to a user. */
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -IMG_EIO;
        }
        if (n == 0) {
            /* End of file: the rest reads as zeros.  A file that another
             * program truncates meanwhile reads as zeros too, not as an
             * error, which matches QEMU. */
            memset(p, 0, len);
            return 0;
        }
        /* A short read: go on from where it stopped. */
        p += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    return 0;
}

/*
 * pwrite() until all of buf is written, retrying short writes and EINTR.
 * A full file system is reported as such (IMG_ENOSPC), because the user can
 * do something about it and the CLI says so; every other failure is EIO.
 * Writing past the end extends the file, with a hole in between.
 */
static int file_write(void *ctx, uint64_t off, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len) {
        /* pwrite() at an explicit offset: no shared file position, so
         * several threads may use one descriptor at once. */
        ssize_t n = pwrite(fd_of(ctx), p, len, (off_t)off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno == ENOSPC ? -IMG_ENOSPC : -IMG_EIO;
        }
        p += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    return 0;
}

/*
 * Make the data and the metadata needed to read it back (such as a grown
 * length) stable: fdatasync(), as QEMU's file protocol uses, which skips
 * the timestamps fsync() would also write.  EINVAL means the file cannot
 * be synchronised at all (a pipe, some special files); there is nothing
 * to wait for then, which is not an error.
 */
static int file_flush(void *ctx)
{
    return fdatasync(fd_of(ctx)) < 0 && errno != EINVAL ? -IMG_EIO : 0;
}

/* The file's length.  A block device has st_size 0; its size is where
 * seeking to its end lands, as QEMU's host_device driver finds it. */
static int file_size(void *ctx, uint64_t *size)
{
    struct stat st;
    if (fstat(fd_of(ctx), &st) < 0)
        return -IMG_EIO;
    if (S_ISBLK(st.st_mode)) {
        /* Moves the file position, which no other call uses (pread and
         * pwrite take explicit offsets). */
        off_t end = lseek(fd_of(ctx), 0, SEEK_END);
        if (end < 0)
            return -IMG_EIO;
        *size = (uint64_t)end;
        return 0;
    }
    /* A regular file (or a character device, whose size reads as 0 and
     * which is then an empty raw image). */
    *size = (uint64_t)st.st_size;
    return 0;
}

/* Set the length: shrinking drops the tail, growing adds a hole that
 * reads as zeros and takes no space. */
static int file_truncate(void *ctx, uint64_t size)
{
    return ftruncate(fd_of(ctx), (off_t)size) < 0 ? -IMG_EIO : 0;
}

/* preallocation=falloc: reserve the blocks without writing them, so a
 * later write cannot fail for lack of space.  File systems without
 * fallocate() get zeros written by glibc's fallback, which is slower but
 * has the same effect. */
static int file_allocate(void *ctx, uint64_t off, uint64_t len)
{
    /* posix_fallocate returns the error number instead of setting errno;
     * any failure (ENOSPC included) ends the create, which then removes
     * the file. */
    return posix_fallocate(fd_of(ctx), (off_t)off, (off_t)len) ? -IMG_EIO : 0;
}

/* Used by a shrinking resize (qcow2_resize.c), which gives the freed
 * clusters back to the file system as QEMU does; a file system that
 * cannot punch holes fails the call, and the caller ignores that, since
 * discarding only saves space. */
static int file_discard(void *ctx, uint64_t off, uint64_t len)
{
    /* As QEMU's file-posix discard: a hole of the same length, so the file
     * keeps its size and the range reads as zeros. */
    return fallocate(fd_of(ctx), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
                     (off_t)len) < 0
               ? -IMG_EIO
               : 0;
}

/* "disk size" in qemu-img info: the blocks the file occupies, st_blocks
 * in 512-byte units whatever the file system's block size, which is less
 * than the length for a sparse file and may be more with preallocation. */
static int file_allocated(void *ctx, uint64_t *size)
{
    struct stat st;
    /* The same fstat() as file_size(): cheap enough for info to call. */
    if (fstat(fd_of(ctx), &st) < 0)
        return -IMG_EIO;
    *size = (uint64_t)st.st_blocks * 512;
    return 0;
}

/* Holes of a sparse file (lseek SEEK_DATA/SEEK_HOLE, as QEMU's
 * file-posix block status does). */
static int file_extent(void *ctx, uint64_t off, uint64_t max, uint64_t *len, bool *hole)
{
    int fd = fd_of(ctx);
    /* Where the next data starts; ENXIO means none before the end. */
    off_t data = lseek(fd, (off_t)off, SEEK_DATA);
    if (data < 0 && errno != ENXIO) {
        /* No SEEK_DATA support: call it all data.  That is always safe:
         * data is copied, where a hole would be skipped. */
        *len = max;
        *hole = false;
        return 0;
    }
    if (data < 0 || (uint64_t)data > off) {
        /* A hole up to the next data (or to the end of the file).  Past
         * the end, max bounds the answer; the core reads zeros there. */
        *hole = true;
        *len = data < 0 ? max : (uint64_t)data - off;
    } else {
        /* Data at off, up to the next hole; every file has one at its end,
         * so this always answers. */
        off_t hole_start = lseek(fd, (off_t)off, SEEK_HOLE);
        *hole = false;
        *len = hole_start < 0 ? max : (uint64_t)hole_start - off;
    }
    /* Never more than asked, and never 0: a caller walking the file must
     * always move forward. */
    if (*len > max || *len == 0)
        *len = max;
    return 0;
}

/* Close without a flush: the core flushes first where it matters
 * (img_close()), and a read-only image has nothing to flush. */
static void file_close(void *ctx)
{
    close(fd_of(ctx));
}

/* Fill a struct img_io for an open descriptor: a regular file or a
 * device supports every optional call (a device may refuse some at run
 * time, which the callers treat as an I/O error or ignore). */
static void fd_io(int fd, struct img_io *io)
{
    /* Calls not set stay NULL: a new member of struct img_io is then
     * "not supported" for this backend until it is filled in here. */
    memset(io, 0, sizeof(*io));
    io->ctx = (void *)(intptr_t)fd;
    io->read = file_read;
    io->write = file_write;
    io->flush = file_flush;
    io->size = file_size;
    io->truncate = file_truncate;
    io->allocate = file_allocate;
    io->allocated_size = file_allocated;
    io->extent = file_extent;
    io->discard = file_discard;
    io->close = file_close;
}

/*
 * The message for a failed open(), in qemu-img's words with the system's
 * reason ("Could not open 'x': No such file or directory").  A missing
 * file gets a code of its own, since callers treat it differently (a
 * missing backing file is worded by img.c, a missing target is created).
 */
static int open_err(struct img_err *err, const char *path)
{
    int saved_errno = errno;
    if (err) {
        snprintf(err->msg, sizeof(err->msg), "Could not open '%s': %s", path,
                 strerror(saved_errno));
        err->code = saved_errno == ENOENT ? -IMG_ENOENT : -IMG_EIO;
        return err->code;
    }
    return saved_errno == ENOENT ? -IMG_ENOENT : -IMG_EIO;
}

/*
 * Does the file start with the xz stream header magic (the .xz format's
 * six bytes FD 37 7A 58 5A 00)?  A file that cannot be opened or is too
 * short is not xz; the normal open then reports the real problem.
 */
bool img_file_is_xz(const char *path)
{
    static const uint8_t magic[6] = {0xfd, '7', 'z', 'X', 'Z', 0};
    uint8_t head[6];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    bool is = false;
    if (fd < 0)
        return false;
    is = pread(fd, head, 6, 0) == 6 && !memcmp(head, magic, 6);
    /* Only a peek: the caller opens the file again for real. */
    close(fd);
    return is;
}

/*
 * Open an existing file as a block backend.  An xz-compressed file (a
 * downloaded disk image, say) is read through its xz index (xz.c) without
 * unpacking it first; it can only be read, so a writable open is refused
 * with a message that says why.  Descriptors are opened O_CLOEXEC so that
 * a program linking the library (mgmt/, the tests) does not leak image
 * files into the programs it starts.
 */
int img_io_open_file(const char *path, bool writable, struct img_io *io, struct img_err *err)
{
    int fd;
    if (img_file_is_xz(path)) {
        if (writable) {
            if (err) {
                snprintf(err->msg, sizeof(err->msg),
                         "'%s' is xz-compressed and can only be opened read-only", path);
                err->code = -IMG_EROFS;
            }
            return -IMG_EROFS;
        }
        /* The xz backend takes the descriptor over, closing it on error. */
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return open_err(err, path);
        return img_io_open_xz(fd, io, err);
    }
    /* Read-only opens ask for no write permission, so info, check and
     * convert's source work on files the user may only read. */
    fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (fd < 0)
        return open_err(err, path);
    /* A directory opens read-only but is no image.  QEMU's file driver
     * (block/file-posix.c, raw_open_common) refuses anything that is not a
     * regular file, while /dev nodes go to its host_device driver; so
     * block and character devices stay allowed here. */
    /* fstat() on the open descriptor, not stat() on the name, so that the
     * file checked is the file used, even if the name changes meanwhile. */
    struct stat st;
    if (fstat(fd, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode) &&
        !S_ISCHR(st.st_mode)) {
        close(fd);
        /* QEMU's words, so that scripts matching qemu-img's errors work. */
        if (err) {
            snprintf(err->msg, sizeof(err->msg), "'file' driver requires '%s' to be a regular file",
                     path);
            err->code = -IMG_EINVAL;
        }
        return -IMG_EINVAL;
    }
    fd_io(fd, io);
    return 0;
}

/*
 * Create a file for a new image, or empty an existing one, as qemu-img
 * create does: the new image replaces whatever the file held.
 * img_create_file() (env.c) removes a file it created for a create that
 * then failed.
 */
int img_io_create_file(const char *path, struct img_io *io, struct img_err *err)
{
    /* 0644 before the umask, as QEMU creates images. */
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return open_err(err, path);
    fd_io(fd, io);
    return 0;
}

/*
 * The file system hints QEMU's file protocol sets on a new image
 * (raw_co_create() in block/file-posix.c), while the file is still empty,
 * since both only take effect on a file without data.
 */
int img_io_create_hints(struct img_io *io, const struct img_create_opts *o)
{
    /* Only for file backends made by img_io_create_file(): the context is
     * a descriptor (see fd_of()). */
    int fd = (int)(intptr_t)io->ctx, attr, ret = 0;
    struct fsxattr fa;
    /* btrfs: copy-on-write makes image files fragment; QEMU sets
     * FS_NOCOW_FL while the file is still empty and ignores failures.
     * The flag is read first so that other flags the file has are kept. */
    if (o->nocow && ioctl(fd, FS_IOC_GETFLAGS, &attr) == 0) {
        attr |= FS_NOCOW_FL;
        (void)ioctl(fd, FS_IOC_SETFLAGS, &attr);
    }
    /* XFS: allocate in extents of this size (QEMU's default 1 MiB); it can
     * only be set before the file has data.  Other file systems refuse or
     * ignore it; QEMU warns only about a hint that was given. */
    uint64_t hint = o->has_extent_size_hint ? o->extent_size_hint : 1u << 20;
    /* Read, change, write back: the extended attributes hold other
     * flags too.  A hint of 0 clears the extent size, as in QEMU. */
    int r = ioctl(fd, FS_IOC_FSGETXATTR, &fa);
    if (r == 0) {
        fa.fsx_xflags |= FS_XFLAG_EXTSIZE;
        fa.fsx_extsize = (uint32_t)hint;
        r = ioctl(fd, FS_IOC_FSSETXATTR, &fa);
    }
    /* Only a hint the user gave is worth a warning; the default one is
     * silently dropped where the file system has no such thing. */
    if (r < 0 && o->has_extent_size_hint && hint)
        ret = errno;
    return ret;
}

/*
 * ---- in-memory backend ----
 *
 * For the unit tests: an image in a growable buffer, zero-filled, so that
 * tests run without touching the disk and a test can inspect every byte.
 * It has no allocate(), extent() or discard(), which also exercises the
 * core's paths for backends without them.
 */

/* len is the "file's" length, cap the buffer's size (len <= cap). */
struct mem {
    /* Zero beyond len, up to cap (mem_grow(), mem_truncate()). */
    uint8_t *buf;
    uint64_t len, cap;
};

/* Like a file: bytes past the length read as zeros. */
static int mem_read(void *ctx, uint64_t off, void *buf, size_t len)
{
    struct mem *m = ctx;
    /* n: the bytes that come from the buffer, the rest is zeros. */
    size_t n = 0;
    if (off < m->len) {
        n = m->len - off < len ? (size_t)(m->len - off) : len;
        memcpy(buf, m->buf + off, n);
    }
    memset((uint8_t *)buf + n, 0, len - n);
    return 0;
}

/* Make room for len bytes, doubling from 64 KiB so that a sequence of
 * small writes at the end costs amortised constant time.  The new part is
 * zeroed: a later write past the length leaves a gap that reads as zeros. */
static int mem_grow(struct mem *m, uint64_t len)
{
    if (len > m->cap) {
        uint64_t cap = m->cap ? m->cap : 65536;
        while (cap < len)
            cap *= 2;
        /* Out of memory is a full disk to the core: the write fails with
         * a clear message and nothing else changes. */
        uint8_t *b = realloc(m->buf, (size_t)cap);
        if (!b)
            return -IMG_ENOSPC;
        memset(b + m->cap, 0, (size_t)(cap - m->cap));
        m->buf = b;
        m->cap = cap;
    }
    return 0;
}

/* A test image is at most 16 GiB of memory: larger writes fail as a full
 * disk would, instead of exhausting the machine. */
static int mem_write(void *ctx, uint64_t off, const void *buf, size_t len)
{
    struct mem *m = ctx;
    /* Offsets come from the core, which keeps them inside the virtual
     * disk (raw) or below 2^56 (qcow2), so off + len does not wrap; the
     * bound then keeps the size_t that mem_grow() allocates small. */
    if (off + len > (1ull << 34) || mem_grow(m, off + len) < 0)
        return -IMG_ENOSPC;
    memcpy(m->buf + off, buf, len);
    /* A write past the end extends the image, as for a file. */
    if (off + len > m->len)
        m->len = off + len;
    return 0;
}

/* Memory is as stable as it gets within one process. */
static int mem_flush(void *ctx)
{
    (void)ctx;
    return 0;
}

/* The length written so far, not the buffer's capacity. */
static int mem_size(void *ctx, uint64_t *size)
{
    *size = ((struct mem *)ctx)->len;
    return 0;
}

/* Shrinking zeroes the dropped tail, so that growing again reads zeros
 * there, as a file's hole would. */
static int mem_truncate(void *ctx, uint64_t size)
{
    struct mem *m = ctx;
    if (size > (1ull << 34) || mem_grow(m, size) < 0)
        return -IMG_ENOSPC;
    if (size < m->len)
        memset(m->buf + size, 0, (size_t)(m->len - size));
    /* The buffer keeps its capacity: tests shrink and grow again. */
    m->len = size;
    return 0;
}

/* The buffer and the struct: everything img_io_mem() allocated. */
static void mem_close(void *ctx)
{
    struct mem *m = ctx;
    free(m->buf);
    free(m);
}

/* An empty in-memory image; close() frees it, so the struct img that
 * owns the backend also owns the memory. */
int img_io_mem(struct img_io *io)
{
    struct mem *m = calloc(1, sizeof(*m));
    if (!m)
        return -IMG_ENOMEM;
    /* Only the mandatory calls and truncate(); see the section comment. */
    memset(io, 0, sizeof(*io));
    io->ctx = m;
    io->read = mem_read;
    io->write = mem_write;
    io->flush = mem_flush;
    io->size = mem_size;
    io->truncate = mem_truncate;
    io->close = mem_close;
    return 0;
}
