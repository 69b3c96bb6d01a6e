/*
 * Opening images the way qemu-img's img_open() does, with its messages.
 *
 * Formats are checked by name first so that "-f foo" gives QEMU's "Unknown
 * driver 'foo'" before any file is touched; everything else (missing file,
 * wrong magic, corrupt header) comes from the library's message, prefixed
 * by "Could not open 'FILE': " as bdrv_open() failures are in qemu-img.
 */
#include "cli.h"
#include "img.h"
#include "imgspec.h"

#include <string.h>

bool fmt_known(const char *fmt)
{
    return !strcmp(fmt, "raw") || !strcmp(fmt, "qcow2");
}

bool cli_image_opts;

/* How open_spec reads its argument and reports. */
enum {
    SPEC_IMAGE_OPTS = 1 << 0, /* an --image-opts option string */
    SPEC_PATH = 1 << 1,       /* a file name, whatever it looks like */
    SPEC_QUIET = 1 << 2,      /* no messages, no warnings: a second open */
};

/* Open an image argument as `how` says (SPEC_*). */
static struct img *open_spec(const char *filename, const char *fmt, unsigned flags, unsigned how)
{
    struct img_err err = {0};
    struct img *img = NULL;
    struct imgspec spec;
    bool quiet = how & SPEC_QUIET;
    if ((how & SPEC_IMAGE_OPTS) && fmt) {
        if (!quiet) {
            error_report("--image-opts and --format are mutually exclusive");
        }
        return NULL;
    }
    if (fmt && !fmt_known(fmt)) {
        if (!quiet) {
            error_report("Could not open '%s': Unknown driver '%s'", filename, fmt);
        }
        return NULL;
    }
    if (how & SPEC_PATH) {
        memset(&spec, 0, sizeof(spec));
        snprintf(spec.path, sizeof(spec.path), "%s", filename);
    } else if (!imgspec_parse(filename, how & SPEC_IMAGE_OPTS, &spec)) {
        if (!quiet) {
            error_report("Could not open '%s': %s", filename, spec.msg);
        }
        return NULL;
    }
    if (!fmt && spec.fmt[0]) {
        fmt = spec.fmt;
    }
    /* The qcow2 data-file option goes to the library, which looks at it
     * only when it opens the data file, as QEMU does. */
    struct img_open_opts oo = {
        .data_file_key = spec.data_key[0] ? spec.data_key : NULL,
        .data_file = spec.data_file[0] ? spec.data_file : NULL,
        .data_file_error = spec.data_msg[0] ? spec.data_msg : NULL,
    };
    if (img_open_file_with(spec.path, fmt, flags, &oo, &img, &err) < 0) {
        if (!quiet) {
            error_report("Could not open '%s': %s", filename,
                         err.msg[0] ? err.msg : "unknown error");
        }
        return NULL;
    }
    if (quiet) {
        return img;
    }
    struct img_info info;
    if (!fmt && (flags & IMG_OPEN_RW) && img_get_info(img, &info) == 0 &&
        info.format == IMG_FMT_RAW) {
        warn_probed_raw(filename);
    }
    warn_stale_bitmaps(img);
    return img;
}

/*
 * QEMU's warning (block/qcow2.c qcow2_read_extensions) for a bitmaps
 * extension without autoclear bit 0: a program that did not know bitmaps
 * wrote the image, so they are stale, and their clusters leaked.  (A
 * read-write open also drops the extension, in the library.)
 */
void warn_stale_bitmaps(struct img *img)
{
    struct img_info info;
    if (img_get_info(img, &info) < 0 || !info.bitmaps_stale) {
        return;
    }
    if (info.qcow2_version < 3) {
        fprintf(stderr,
                "%s: warning: This qcow2 v2 image contains bitmaps, but they may have "
                "been modified by a program without persistent bitmap support; so now "
                "they must all be considered inconsistent\n",
                prog_name);
    } else {
        fprintf(stderr,
                "%s: warning: a program lacking bitmap support modified this file, so "
                "all bitmaps are now considered inconsistent\n",
                prog_name);
    }
    /* (QEMU ends this line without a newline.) */
    fprintf(stderr, "Some clusters may be leaked, run '%s check -r' on the image file to fix.",
            prog_name);
}

struct img *open_image(const char *filename, const char *fmt, unsigned flags)
{
    return open_spec(filename, fmt, flags, cli_image_opts ? SPEC_IMAGE_OPTS : 0);
}

struct img *reopen_image(const char *filename, const char *fmt)
{
    return open_spec(filename, fmt, 0, SPEC_QUIET | (cli_image_opts ? SPEC_IMAGE_OPTS : 0));
}

struct img *open_target(const char *filename, const char *fmt, unsigned flags)
{
    return open_spec(filename, fmt, flags, 0);
}

struct img *open_file_path(const char *path, const char *fmt, unsigned flags)
{
    return open_spec(path, fmt, flags, SPEC_PATH);
}

/* QEMU's warning (block.c bdrv_open_inherit) when a probe found raw for an
 * image opened for writing: a guest could write a qcow2 header into block 0
 * and change what the next probe sees. */
void warn_probed_raw(const char *filename)
{
    fprintf(stderr,
            "WARNING: Image format was not specified for '%s' and probing guessed raw.\n"
            "         Automatically detecting the format is dangerous for raw images, "
            "write operations on block 0 will be restricted.\n"
            "         Specify the 'raw' format explicitly to remove the restrictions.\n",
            filename);
}

const char *img_msg(struct img *img, int code)
{
    const char *msg = img ? img_strerror(img) : "";
    if (msg[0]) {
        return msg;
    }
    /* The library left no message: say at least what kind of failure. */
    switch (-code) {
    case IMG_EIO:
        return "Input/output error";
    case IMG_EINVAL:
        return "Invalid argument";
    case IMG_ENOMEM:
        return "Cannot allocate memory";
    case IMG_ECORRUPT:
        return "Image is corrupt";
    case IMG_ENOTSUP:
        return "Operation not supported";
    case IMG_ERANGE:
        return "Offset outside the image";
    case IMG_EROFS:
        return "Read-only image";
    case IMG_ENOENT:
        return "No such file or directory";
    case IMG_ELOOP:
        return "Backing chain loop";
    case IMG_EEXIST:
        return "File exists";
    case IMG_ENOSPC:
        return "No space left on device";
    }
    return "unknown error";
}

void report_img_error(struct img *img, const char *prefix)
{
    const char *msg = img ? img_strerror(img) : "";
    if (prefix) {
        error_report("%s: %s", prefix, msg[0] ? msg : "unknown error");
    } else {
        error_report("%s", msg[0] ? msg : "unknown error");
    }
}
