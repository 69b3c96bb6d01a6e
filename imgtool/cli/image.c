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

#include <string.h>

bool fmt_known(const char *fmt)
{
    return !strcmp(fmt, "raw") || !strcmp(fmt, "qcow2");
}

struct img *open_image(const char *filename, const char *fmt, unsigned flags)
{
    struct img_err err = {0};
    struct img *img = NULL;
    if (fmt && !fmt_known(fmt)) {
        error_report("Could not open '%s': Unknown driver '%s'", filename, fmt);
        return NULL;
    }
    if (img_open_file(filename, fmt, flags, &img, &err) < 0) {
        error_report("Could not open '%s': %s", filename, err.msg[0] ? err.msg : "unknown error");
        return NULL;
    }
    return img;
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
