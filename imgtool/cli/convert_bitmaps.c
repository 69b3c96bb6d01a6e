/*
 * convert --bitmaps: copy the source's persistent dirty bitmaps into the
 * target after the data (qemu-img.c convert_check_bitmaps() and
 * convert_copy_bitmaps()), with qemu-img's messages.
 */
#include "convert_bitmaps.h"
#include "cli.h"
#include "img.h"

#include <stdio.h>

bool convert_bitmaps_check_source(struct img **srcs, int nsrc, bool skip_broken)
{
    struct img_info info;
    if (nsrc > 1) {
        error_report("Copying bitmaps only possible with single source");
        return false;
    }
    if (img_get_info(srcs[0], &info) < 0 || info.format != IMG_FMT_QCOW2 ||
        info.qcow2_version < 3) {
        error_report("Source lacks bitmap support");
        return false;
    }
    /* An inconsistent bitmap cannot be copied unless skipped. */
    for (int i = 0; !skip_broken && i < img_bitmap_count(srcs[0]); i++) {
        struct img_bitmap_info b;
        if (img_bitmap_get(srcs[0], i, &b) == 0 && b.in_use) {
            error_report("Cannot copy inconsistent bitmap '%s'", b.name);
            fprintf(stderr, "Try --skip-broken-bitmaps, or use '%s bitmap --remove' to delete it\n",
                    prog_name);
            return false;
        }
    }
    return true;
}

bool convert_bitmaps_check_target(int fmt, int compat)
{
    /* Only qcow2 version 3 stores bitmaps; said before the target is
     * created, so that nothing is left behind. */
    if (fmt != IMG_FMT_QCOW2 || compat == 2) {
        error_report("Format driver '%s' does not support bitmaps",
                     fmt == IMG_FMT_QCOW2 ? "qcow2" : "raw");
        return false;
    }
    return true;
}

bool convert_bitmaps_copy(struct img *src, struct img *dst, bool skip_broken)
{
    for (int i = 0; i < img_bitmap_count(src); i++) {
        struct img_bitmap_info b;
        if (img_bitmap_get(src, i, &b) < 0) {
            continue;
        }
        if (b.in_use && skip_broken) {
            fprintf(stderr, "%s: warning: Skipping inconsistent bitmap '%s'\n", prog_name, b.name);
            continue;
        }
        int r = img_bitmap_add(dst, b.name, b.granularity, b.enabled);
        if (r < 0) {
            error_report("Failed to create bitmap %s: %s", b.name, img_msg(dst, r));
            return false;
        }
        r = img_bitmap_merge(dst, b.name, src, b.name);
        if (r < 0) {
            error_report("Failed to populate bitmap %s: %s", b.name, img_msg(dst, r));
            img_bitmap_remove(dst, b.name);
            return false;
        }
    }
    return true;
}
