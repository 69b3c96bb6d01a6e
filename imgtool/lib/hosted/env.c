/*
 * env.c: the hosted environment for the library core: calloc/free, the
 * compression codecs (codec.c), opening backing files relative to their
 * referrer, and check's messages on stderr.
 */
#define _GNU_SOURCE
#include "codec.h"
#include "img.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* Relative backing names are relative to the referring image's directory,
 * as in QEMU (bdrv_get_full_backing_filename). */
static int h_open_backing(void *ctx, const char *referrer, const char *name, bool writable,
                          struct img_io *io, struct img_err *err)
{
    char path[4096 + 1024];
    (void)ctx;
    if (!img_backing_path(referrer, name, path, sizeof(path)))
        return -IMG_EINVAL;
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
    .compress = img_codec_compress,
    .decompress = img_codec_decompress,
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
    struct stat st;
    /* A failed create leaves nothing behind: bad options are refused
     * before the file is created or truncated, and a file this call
     * created is removed again if writing the image fails. */
    int r = img_create_validate(o, err);
    if (r < 0)
        return r;
    /* file-posix checks the hint before it creates the file. */
    if (o->has_extent_size_hint && o->extent_size_hint > UINT32_MAX) {
        if (err) {
            err->code = -IMG_EINVAL;
            snprintf(err->msg, sizeof(err->msg), "Extent size hint is too large");
        }
        return -IMG_EINVAL;
    }
    bool existed = stat(path, &st) == 0;
    r = img_io_create_file(path, &io, err);
    if (r < 0)
        return r;
    int hint_err = img_io_create_hints(&io, o);
    r = img_create(&hosted_env, &io, o, err);
    io.close(io.ctx);
    if (r < 0 && !existed)
        unlink(path);
    if (r == 0 && hint_err && err) {
        /* Not fatal, as in QEMU: a warning for the caller to print. */
        err->code = 0;
        snprintf(err->msg, sizeof(err->msg), "Failed to set extent size hint: %s",
                 strerror(hint_err));
    }
    return r;
}
