/*
 * file.c: POSIX file and in-memory block backends (hosted only).
 *
 * The library core sees files only through struct img_io.  Here a file is
 * accessed with pread/pwrite at byte offsets; reads past the end of the
 * file return zeros, like a sparse hole, which is what the core expects of
 * every backend.
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

int img_io_open_xz(int fd, struct img_io *io, struct img_err *err);

static int fd_of(void *ctx)
{
    return (int)(intptr_t)ctx;
}

static int file_read(void *ctx, uint64_t off, void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len) {
        ssize_t n = pread(fd_of(ctx), p, len, (off_t)off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -IMG_EIO;
        }
        if (n == 0) {
            /* End of file: the rest reads as zeros. */
            memset(p, 0, len);
            return 0;
        }
        p += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    return 0;
}

static int file_write(void *ctx, uint64_t off, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len) {
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

static int file_flush(void *ctx)
{
    return fdatasync(fd_of(ctx)) < 0 && errno != EINVAL ? -IMG_EIO : 0;
}

static int file_size(void *ctx, uint64_t *size)
{
    struct stat st;
    if (fstat(fd_of(ctx), &st) < 0)
        return -IMG_EIO;
    if (S_ISBLK(st.st_mode)) {
        off_t end = lseek(fd_of(ctx), 0, SEEK_END);
        if (end < 0)
            return -IMG_EIO;
        *size = (uint64_t)end;
        return 0;
    }
    *size = (uint64_t)st.st_size;
    return 0;
}

static int file_truncate(void *ctx, uint64_t size)
{
    return ftruncate(fd_of(ctx), (off_t)size) < 0 ? -IMG_EIO : 0;
}

static int file_allocate(void *ctx, uint64_t off, uint64_t len)
{
    /* posix_fallocate returns the error number instead of setting errno. */
    return posix_fallocate(fd_of(ctx), (off_t)off, (off_t)len) ? -IMG_EIO : 0;
}

static int file_discard(void *ctx, uint64_t off, uint64_t len)
{
    /* As QEMU's file-posix discard: a hole of the same length, so the file
     * keeps its size and the range reads as zeros. */
    return fallocate(fd_of(ctx), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
                     (off_t)len) < 0
               ? -IMG_EIO
               : 0;
}

static int file_allocated(void *ctx, uint64_t *size)
{
    struct stat st;
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
    off_t data = lseek(fd, (off_t)off, SEEK_DATA);
    if (data < 0 && errno != ENXIO) {
        /* No SEEK_DATA support: call it all data. */
        *len = max;
        *hole = false;
        return 0;
    }
    if (data < 0 || (uint64_t)data > off) {
        /* A hole up to the next data (or to the end of the file). */
        *hole = true;
        *len = data < 0 ? max : (uint64_t)data - off;
    } else {
        off_t h = lseek(fd, (off_t)off, SEEK_HOLE);
        *hole = false;
        *len = h < 0 ? max : (uint64_t)h - off;
    }
    if (*len > max || *len == 0)
        *len = max;
    return 0;
}

static void file_close(void *ctx)
{
    close(fd_of(ctx));
}

static void fd_io(int fd, struct img_io *io)
{
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

static int open_err(struct img_err *err, const char *path)
{
    int e = errno;
    if (err) {
        snprintf(err->msg, sizeof(err->msg), "Could not open '%s': %s", path, strerror(e));
        err->code = e == ENOENT ? -IMG_ENOENT : -IMG_EIO;
        return err->code;
    }
    return e == ENOENT ? -IMG_ENOENT : -IMG_EIO;
}

bool img_file_is_xz(const char *path)
{
    static const uint8_t magic[6] = {0xfd, '7', 'z', 'X', 'Z', 0};
    uint8_t b[6];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    bool is = false;
    if (fd < 0)
        return false;
    is = pread(fd, b, 6, 0) == 6 && !memcmp(b, magic, 6);
    close(fd);
    return is;
}

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
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return open_err(err, path);
        return img_io_open_xz(fd, io, err);
    }
    fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (fd < 0)
        return open_err(err, path);
    /* A directory opens read-only but is no image.  QEMU's file driver
     * (block/file-posix.c, raw_open_common) refuses anything that is not a
     * regular file, while /dev nodes go to its host_device driver; so
     * block and character devices stay allowed here. */
    struct stat st;
    if (fstat(fd, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode) &&
        !S_ISCHR(st.st_mode)) {
        close(fd);
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

int img_io_create_file(const char *path, struct img_io *io, struct img_err *err)
{
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return open_err(err, path);
    fd_io(fd, io);
    return 0;
}

int img_io_create_hints(struct img_io *io, const struct img_create_opts *o)
{
    int fd = (int)(intptr_t)io->ctx, attr, ret = 0;
    struct fsxattr fa;
    /* btrfs: copy-on-write makes image files fragment; QEMU sets
     * FS_NOCOW_FL while the file is still empty and ignores failures. */
    if (o->nocow && ioctl(fd, FS_IOC_GETFLAGS, &attr) == 0) {
        attr |= FS_NOCOW_FL;
        (void)ioctl(fd, FS_IOC_SETFLAGS, &attr);
    }
    /* XFS: allocate in extents of this size (QEMU's default 1 MiB); it can
     * only be set before the file has data.  Other file systems refuse or
     * ignore it; QEMU warns only about a hint that was given. */
    uint64_t hint = o->has_extent_size_hint ? o->extent_size_hint : 1u << 20;
    int r = ioctl(fd, FS_IOC_FSGETXATTR, &fa);
    if (r == 0) {
        fa.fsx_xflags |= FS_XFLAG_EXTSIZE;
        fa.fsx_extsize = (uint32_t)hint;
        r = ioctl(fd, FS_IOC_FSSETXATTR, &fa);
    }
    if (r < 0 && o->has_extent_size_hint && hint)
        ret = errno;
    return ret;
}

/* ---- in-memory backend ---- */

struct mem {
    uint8_t *buf;
    uint64_t len, cap;
};

static int mem_read(void *ctx, uint64_t off, void *buf, size_t len)
{
    struct mem *m = ctx;
    size_t n = 0;
    if (off < m->len) {
        n = m->len - off < len ? (size_t)(m->len - off) : len;
        memcpy(buf, m->buf + off, n);
    }
    memset((uint8_t *)buf + n, 0, len - n);
    return 0;
}

static int mem_grow(struct mem *m, uint64_t len)
{
    if (len > m->cap) {
        uint64_t cap = m->cap ? m->cap : 65536;
        while (cap < len)
            cap *= 2;
        uint8_t *b = realloc(m->buf, (size_t)cap);
        if (!b)
            return -IMG_ENOSPC;
        memset(b + m->cap, 0, (size_t)(cap - m->cap));
        m->buf = b;
        m->cap = cap;
    }
    return 0;
}

static int mem_write(void *ctx, uint64_t off, const void *buf, size_t len)
{
    struct mem *m = ctx;
    if (off + len > (1ull << 34) || mem_grow(m, off + len) < 0)
        return -IMG_ENOSPC;
    memcpy(m->buf + off, buf, len);
    if (off + len > m->len)
        m->len = off + len;
    return 0;
}

static int mem_flush(void *ctx)
{
    (void)ctx;
    return 0;
}

static int mem_size(void *ctx, uint64_t *size)
{
    *size = ((struct mem *)ctx)->len;
    return 0;
}

static int mem_truncate(void *ctx, uint64_t size)
{
    struct mem *m = ctx;
    if (size > (1ull << 34) || mem_grow(m, size) < 0)
        return -IMG_ENOSPC;
    if (size < m->len)
        memset(m->buf + size, 0, (size_t)(m->len - size));
    m->len = size;
    return 0;
}

static void mem_close(void *ctx)
{
    struct mem *m = ctx;
    free(m->buf);
    free(m);
}

int img_io_mem(struct img_io *io)
{
    struct mem *m = calloc(1, sizeof(*m));
    if (!m)
        return -IMG_ENOMEM;
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
