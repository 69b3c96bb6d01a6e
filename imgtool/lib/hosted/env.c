/*
 * env.c: the hosted environment for the library core: calloc/free, the
 * compression codecs (codec.c), opening backing files relative to their
 * referrer, and check's messages on stderr.
 *
 * The core asks the outside world for everything through struct img_env
 * (img.h); this file is the hosted answer, used by bin/imgtool, the unit
 * tests and anything else that links the library on Linux.  hv has its own
 * environment with its own allocator and no backing-file opener.  The two
 * convenience calls at the end, img_open_file() and img_create_file(), are
 * what the CLI uses: a file name in, an image handle or a new file out,
 * with every failure worded for the user.
 */
#define _GNU_SOURCE
#include "codec.h"
#include "img.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* calloc(): struct img_env promises zeroed memory, which the core relies
 * on when it builds headers and tables in fresh buffers. */
static void *h_alloc(void *ctx, size_t size)
{
    (void)ctx;
    return calloc(1, size);
}

/* The context is unused: the hosted allocator is the process's heap. */
static void h_free(void *ctx, void *p)
{
    (void)ctx;
    free(p);
}

/* Relative backing names are relative to the referring image's directory,
 * as in QEMU (bdrv_get_full_backing_filename).  A name too long for the
 * buffer is refused rather than cut, which could open another file.
 * Backing files are opened read-only: only the top of a chain is written. */
static int h_open_backing(void *ctx, const char *referrer, const char *name, bool writable,
                          struct img_io *io, struct img_err *err)
{
    char path[4096 + 1024];
    (void)ctx;
    if (!img_backing_path(referrer, name, path, sizeof(path)))
        return -IMG_EINVAL;
    return img_io_open_file(path, writable, io, err);
}

/* One finding of check ("Leaked cluster 5 refcount=1 reference=0"), on
 * stderr as qemu-img check prints them, while the summary goes to stdout. */
static void h_report(void *ctx, const char *line)
{
    (void)ctx;
    fprintf(stderr, "%s\n", line);
}

/* Not const: img_hosted_set_tool_name() fills in the program name.  The
 * codecs are hosted/codec.c's, with their per-thread state. */
static struct img_env hosted_env = {
    .alloc = h_alloc,
    .free = h_free,
    .compress = img_codec_compress,
    .decompress = img_codec_decompress,
    .open_backing = h_open_backing,
    .report = h_report,
};

/* The one hosted environment; it holds no per-image state, so every
 * image of a process shares it. */
const struct img_env *img_hosted_env(void)
{
    return &hosted_env;
}

/* The program name that advice in check's messages names ("Use imgtool
 * amend ..."): the CLI passes the name it runs under, which is "qemu-img"
 * when it is installed as a drop-in. */
void img_hosted_set_tool_name(const char *name)
{
    hosted_env.tool_name = name;
}

/*
 * Open the file at path and the image in it.  The file is opened writable
 * only for a read-write open.  If the image does not open, the file is
 * closed here: img_open() leaves a backend it was given to its caller.
 */
int img_open_file(const char *path, const char *fmt, unsigned flags, struct img **out,
                  struct img_err *err)
{
    return img_open_file_with(path, fmt, flags, NULL, out, err);
}

int img_open_file_with(const char *path, const char *fmt, unsigned flags,
                       const struct img_open_opts *opts, struct img **out, struct img_err *err)
{
    struct img_io io;
    int r = img_io_open_file(path, (flags & IMG_OPEN_RW) != 0, &io, err);
    if (r < 0)
        return r;
    /* The path is the image's name: messages and backing-file lookups
     * (relative to its directory) use it as the user wrote it. */
    r = img_open_with(&hosted_env, &io, path, fmt, flags, opts, out, err);
    /* On success the handle owns the backend and closes it. */
    if (r < 0 && io.close)
        io.close(io.ctx);
    return r;
}

/*
 * qemu-img create on the file system: check the options, create (or empty)
 * the file and, for an image with an external data file, that file too,
 * write the image with img_create(), and remove what this call created if
 * anything fails.  A hint that could not be set is a warning in err->msg
 * with err->code 0, as QEMU prints it.
 */
int img_create_file(const char *path, const struct img_create_opts *o, struct img_err *err)
{
    struct img_io io;
    struct stat st;
    /* A failed create leaves nothing behind: bad options are refused
     * before the file is created or truncated, and a file this call
     * created is removed again if writing the image fails.  Validating
     * first also keeps an existing file intact when the options are
     * wrong, since creating truncates it. */
    int r = img_create_validate(o, err);
    if (r < 0)
        return r;
    /* file-posix checks the hint before it creates the file: XFS keeps
     * the extent size in 32 bits, so a larger hint can never be set and is
     * an error of the options, not a warning. */
    if (o->has_extent_size_hint && o->extent_size_hint > UINT32_MAX) {
        if (err) {
            err->code = -IMG_EINVAL;
            snprintf(err->msg, sizeof(err->msg), "Extent size hint is too large");
        }
        return -IMG_EINVAL;
    }
    /* Whether the file was there before decides whether a failure removes
     * it: a file that existed is the user's and stays (emptied, as with
     * qemu-img). */
    bool existed = stat(path, &st) == 0;
    r = img_io_create_file(path, &io, err);
    if (r < 0)
        return r;
    /* The hints only take effect on an empty file, so before any data. */
    int hint_err = img_io_create_hints(&io, o);
    /* An external data file is created from its name as given, relative
     * to the current directory, as qemu-img 7.2 creates it and as the
     * library opens it again (qcow2_data.c).  Like the image, it is
     * removed again if this call created it and the create fails. */
    /* The core cannot open files by name, so the data file's backend
     * reaches img_create() through a copy of the options (data_io). */
    struct img_io dio = {0};
    struct img_create_opts with_data = *o;
    bool data_existed = false;
    if (o->data_file && o->format == IMG_FMT_QCOW2) {
        data_existed = stat(o->data_file, &st) == 0;
        r = img_io_create_file(o->data_file, &dio, err);
        if (r < 0 && err)
            snprintf(err->msg, sizeof(err->msg), "Could not create '%s': %s", o->data_file,
                     strerror(errno));
        with_data.data_io = &dio;
    }
    if (r == 0)
        r = img_create(&hosted_env, &io, &with_data, err);
    /* img_create() leaves the backends open for its caller; the image is
     * complete on disk once it returns (no flush: cache=unsafe, as
     * qemu-img creates). */
    if (dio.close)
        dio.close(dio.ctx);
    io.close(io.ctx);
    /* The partial image of a failed create is worse than none. */
    if (r < 0 && !existed)
        unlink(path);
    if (r < 0 && dio.close && !data_existed)
        unlink(o->data_file);
    if (r == 0 && hint_err && err) {
        /* Not fatal, as in QEMU: a warning for the caller to print. */
        err->code = 0;
        snprintf(err->msg, sizeof(err->msg), "Failed to set extent size hint: %s",
                 strerror(hint_err));
    }
    return r;
}
