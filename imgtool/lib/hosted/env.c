/*
 * env.c: the hosted environment for the library core: calloc/free, the
 * zlib and zstd codecs, opening backing files relative to their referrer,
 * and check's messages on stderr.
 */
#define _GNU_SOURCE
#include "img.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

static void *h_alloc(void *ctx, size_t size)
{
    (void)ctx;
    return calloc(1, size);
}

static void h_free(void *ctx, void *p)
{
    (void)ctx;
    free(p);
}

/*
 * zlib as QEMU writes it (block/qcow2-threads.c, qcow2_zlib_compress):
 * a raw deflate stream (no zlib header) with a 4 KiB window (windowBits
 * -12), default level, memLevel 9.  If the stream does not end within
 * dst_len the cluster does not shrink and is stored uncompressed.
 */
static long zlib_compress(void *dst, size_t dst_len, const void *src, size_t src_len)
{
    z_stream s;
    long ret;
    memset(&s, 0, sizeof(s));
    if (deflateInit2(&s, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -12, 9, Z_DEFAULT_STRATEGY) != Z_OK)
        return -IMG_ENOMEM;
    s.next_in = (Bytef *)src;
    s.avail_in = (uInt)src_len;
    s.next_out = dst;
    s.avail_out = (uInt)dst_len;
    int r = deflate(&s, Z_FINISH);
    if (r == Z_STREAM_END)
        ret = (long)(dst_len - s.avail_out);
    else
        ret = r == Z_OK || r == Z_BUF_ERROR ? 0 : -IMG_EIO;
    deflateEnd(&s);
    return ret;
}

/* The compressed data is rounded up to sectors, so trailing garbage after
 * the deflate stream is normal: success means the output is full. */
static int zlib_decompress(void *dst, size_t dst_len, const void *src, size_t src_len)
{
    z_stream s;
    int r;
    memset(&s, 0, sizeof(s));
    if (inflateInit2(&s, -12) != Z_OK)
        return -IMG_ENOMEM;
    s.next_in = (Bytef *)src;
    s.avail_in = (uInt)src_len;
    s.next_out = dst;
    s.avail_out = (uInt)dst_len;
    r = inflate(&s, Z_FINISH);
    r = ((r == Z_STREAM_END || r == Z_BUF_ERROR) && s.avail_out == 0) ? 0 : -IMG_ECORRUPT;
    inflateEnd(&s);
    return r;
}

/* zstd: one frame per cluster, default level (qcow2_zstd_compress). */
static long zstd_compress(void *dst, size_t dst_len, const void *src, size_t src_len)
{
    size_t n = ZSTD_compress(dst, dst_len, src, src_len, ZSTD_CLEVEL_DEFAULT);
    if (ZSTD_isError(n))
        return ZSTD_getErrorCode(n) == ZSTD_error_dstSize_tooSmall ? 0 : -IMG_EIO;
    return (long)n;
}

static int zstd_decompress(void *dst, size_t dst_len, const void *src, size_t src_len)
{
    ZSTD_DCtx *d = ZSTD_createDCtx();
    ZSTD_inBuffer in = {src, src_len, 0};
    ZSTD_outBuffer out = {dst, dst_len, 0};
    int r = 0;
    if (!d)
        return -IMG_ENOMEM;
    /* Stream until the cluster is full; sector padding may follow. */
    while (out.pos < out.size) {
        size_t ret = ZSTD_decompressStream(d, &out, &in);
        if (ZSTD_isError(ret)) {
            r = -IMG_ECORRUPT;
            break;
        }
        if (ret == 0 || in.pos == in.size)
            break;
    }
    if (r == 0 && out.pos != out.size)
        r = -IMG_ECORRUPT;
    ZSTD_freeDCtx(d);
    return r;
}

static long h_compress(void *ctx, int type, void *dst, size_t dst_len, const void *src,
                       size_t src_len)
{
    (void)ctx;
    if (type == IMG_COMP_ZLIB)
        return zlib_compress(dst, dst_len, src, src_len);
    if (type == IMG_COMP_ZSTD)
        return zstd_compress(dst, dst_len, src, src_len);
    return -IMG_ENOTSUP;
}

static int h_decompress(void *ctx, int type, void *dst, size_t dst_len, const void *src,
                        size_t src_len)
{
    (void)ctx;
    if (type == IMG_COMP_ZLIB)
        return zlib_decompress(dst, dst_len, src, src_len);
    if (type == IMG_COMP_ZSTD)
        return zstd_decompress(dst, dst_len, src, src_len);
    return -IMG_ENOTSUP;
}

/* Relative backing names are relative to the referring image's directory,
 * as in QEMU (bdrv_get_full_backing_filename). */
static int h_open_backing(void *ctx, const char *referrer, const char *name, bool writable,
                          struct img_io *io, struct img_err *err)
{
    char path[4096];
    const char *slash = strrchr(referrer, '/');
    (void)ctx;
    if (name[0] == '/' || !slash)
        snprintf(path, sizeof(path), "%s", name);
    else
        snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - referrer), referrer, name);
    return img_io_open_file(path, writable, io, err);
}

static void h_report(void *ctx, const char *line)
{
    (void)ctx;
    fprintf(stderr, "%s\n", line);
}

/* Not const: img_hosted_set_tool_name() fills in the program name. */
static struct img_env hosted_env = {
    .alloc = h_alloc,
    .free = h_free,
    .compress = h_compress,
    .decompress = h_decompress,
    .open_backing = h_open_backing,
    .report = h_report,
};

const struct img_env *img_hosted_env(void)
{
    return &hosted_env;
}

void img_hosted_set_tool_name(const char *name)
{
    hosted_env.tool_name = name;
}

int img_open_file(const char *path, const char *fmt, unsigned flags, struct img **out,
                  struct img_err *err)
{
    struct img_io io;
    int r = img_io_open_file(path, (flags & IMG_OPEN_RW) != 0, &io, err);
    if (r < 0)
        return r;
    r = img_open(&hosted_env, &io, path, fmt, flags, out, err);
    if (r < 0 && io.close)
        io.close(io.ctx);
    return r;
}

int img_create_file(const char *path, const struct img_create_opts *o, struct img_err *err)
{
    struct img_io io;
    int r = img_io_create_file(path, &io, err);
    if (r < 0)
        return r;
    r = img_create(&hosted_env, &io, o, err);
    io.close(io.ctx);
    return r;
}
