/*
 * imgtool commit: write an overlay's changes into its backing file
 * (qemu-img commit).
 *
 *   imgtool commit [-q] [-f fmt] [-t cache] [-b base] [-d] [-p] filename
 *
 * Every range the top image allocates itself is read from it and written
 * into the base, the top's direct backing file (-b may name it; deeper
 * bases are not supported yet).  The top is opened without its chain, so
 * that reading it never looks at the base while the base is being
 * written through its own handle.  Then, unless -d, the top image is
 * emptied so that it reads through to the base again (img_make_empty).
 */
#include "cli.h"
#include "img.h"
#include "progress.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define COMMIT_CHUNK (1u << 20)

int verb_commit(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *fmt = NULL, *base = NULL;
    bool quiet = false, progress = false, drop = false;
    int c, ret = 1;

    optind = 1;
    while ((c = getopt_long(argc, argv, ":f:ht:b:dpqr:", longopts, NULL)) != -1) {
        switch (c) {
        case ':':
        case '?':
            return bad_option(c, argv);
        case 'h':
            print_help();
            return 0;
        case 'f':
            fmt = optarg;
            break;
        case 'b':
            base = optarg;
            break;
        case 'd':
            drop = true;
            break;
        case 'p':
            progress = true;
            break;
        case 'q':
            quiet = true;
            break;
        case 't':
        case 'r':
            break;
        }
    }
    if (quiet) {
        progress = false;
    }
    if (optind != argc - 1) {
        return error_usage("Expecting one image file name");
    }
    const char *filename = argv[optind];
    struct img *top = open_image(filename, fmt, IMG_OPEN_RW | IMG_OPEN_NO_BACKING), *dst = NULL;
    unsigned char *buf = malloc(COMMIT_CHUNK);
    char *bpath = NULL;
    if (!top) {
        goto out;
    }
    struct img_info info;
    if (img_get_info(top, &info) < 0 || !info.has_backing) {
        error_report("Image does not have a backing file");
        goto out;
    }
    bpath = path_combine(filename, info.backing_file);
    if (base && strcmp(base, bpath) && strcmp(base, info.backing_file)) {
        error_report("Did not find '%s' in the backing chain of '%s'", base, filename);
        goto out;
    }
    dst = open_image(bpath, info.backing_fmt[0] ? info.backing_fmt : NULL, IMG_OPEN_RW);
    if (!dst) {
        goto out;
    }
    uint64_t size = img_size(top);
    if (img_size(dst) < size && img_resize(dst, size, IMG_PREALLOC_OFF, false) < 0) {
        /* QEMU grows the base to the top's size before committing. */
        error_report("Could not resize the base image: %s", img_strerror(dst));
        goto out;
    }
    progress_init(progress, 1.0f);
    for (uint64_t off = 0; off < size;) {
        struct img_extent e;
        int r = img_block_status(top, off, size - off, false, &e);
        if (r < 0) {
            error_report("%s", img_msg(top, r));
            goto out;
        }
        uint64_t n = e.length ? e.length : size - off;
        if (e.flags & IMG_BS_ALLOCATED) {
            for (uint64_t p = 0; p < n; p += COMMIT_CHUNK) {
                size_t k = n - p < COMMIT_CHUNK ? (size_t)(n - p) : COMMIT_CHUNK;
                if ((r = img_read(top, off + p, buf, k)) < 0) {
                    error_report("%s", img_msg(top, r));
                    goto out;
                }
                if ((r = img_write(dst, off + p, buf, k)) < 0) {
                    error_report("%s", img_msg(dst, r));
                    goto out;
                }
            }
        }
        off += n;
        progress_print((float)n * 100 / size, 100);
    }
    if (img_flush(dst) < 0) {
        error_report("%s", img_msg(dst, -IMG_EIO));
        goto out;
    }
    if (!drop) {
        int r = img_make_empty(top);
        if (r == -IMG_ENOTSUP) {
            /* The data is committed; the top still holds the same data, so
             * every read still returns what it returned before. */
            error_report("warning: %s was not emptied (not supported yet); its clusters "
                         "still hold the committed data",
                         filename);
        } else if (r < 0) {
            error_report("Could not empty %s: %s", filename, img_msg(top, r));
            goto out;
        }
    }
    progress_end();
    if (!quiet) {
        printf("Image committed.\n");
    }
    ret = 0;
out:
    free(buf);
    free(bpath);
    if (dst && img_close(dst) < 0 && ret == 0) {
        ret = 1;
    }
    if (top && img_close(top) < 0 && ret == 0) {
        ret = 1;
    }
    return ret;
}
