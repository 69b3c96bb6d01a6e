/*
 * imgtool commit: write an overlay's changes into its backing file
 * (qemu-img commit).
 *
 *   imgtool commit [-q] [-f fmt] [-t cache] [-b base] [-d] [-p] filename
 *
 * Every range that the top image, or any image between it and the base,
 * allocates itself is read through the top (so the newest data wins) and
 * written into the base (ranges that read as zeros are written as zeroes,
 * which may unmap): by default the top's direct backing file, or the
 * deeper image named with -b.  The base is written through a handle of its
 * own; the chain's read-only handle of it is never read, since only ranges
 * allocated above the base are copied.  Then, unless -d or -b (which
 * implies -d, as in qemu-img), the top image is emptied so that it reads
 * through to the base again (img_make_empty).
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
        {"object", required_argument, 0, OPT_COMMON_OBJECT},
        {"image-opts", no_argument, 0, OPT_COMMON_IMAGE_OPTS},
        {0, 0, 0, 0},
    };
    struct verb_common vc = {0};
    const char *base = NULL;
    bool drop = false;
    int c, ret = 1;

    optind = 1;
    while ((c = verb_getopt(argc, argv, ":f:ht:b:dpqr:", longopts, &vc)) != -1) {
        switch (c) {
        case 'b':
            base = optarg;
            /* As in qemu-img 7.2 (img_commit: "-b implies -d"): emptying
             * the top would hide the data of the images between it and a
             * deeper base, so an explicit base keeps the top as it is. */
            drop = true;
            break;
        case 'd':
            drop = true;
            break;
        case 'r':
            /* A rate limit: the result is the same without one. */
            break;
        default:
            return verb_other_option(c, argv, 1);
        }
    }
    const char *filename = verb_one_filename(argc, argv);
    if (!filename) {
        return 1;
    }
    /* The top is opened with its chain so that data allocated in images
     * between the top and the base is found too. */
    struct img *top = open_image(filename, vc.fmt, IMG_OPEN_RW), *dst = NULL;
    unsigned char *buf = malloc(COMMIT_CHUNK);
    struct img *chain[IMG_MAX_CHAIN + 1];
    int depth = 0, base_depth = -1;
    if (!top) {
        goto out;
    }
    for (struct img *l = top; l && depth <= IMG_MAX_CHAIN; l = img_backing(l)) {
        chain[depth++] = l;
    }
    if (depth < 2) {
        error_report("Image does not have a backing file");
        goto out;
    }
    if (!base) {
        base_depth = 1;
    } else {
        /* -b names the base as the image above it names it, or as a
         * file name relative to that image's directory (QEMU's
         * bdrv_find_backing_image()): never relative to the current
         * directory, unless it is absolute. */
        for (int i = 1; i < depth && base_depth < 0; i++) {
            struct img_info above;
            img_get_info(chain[i - 1], &above);
            char *full = path_combine(img_name(chain[i - 1]), base);
            char *want = full ? realpath(full, NULL) : NULL;
            char *have = realpath(img_name(chain[i]), NULL);
            if (!strcmp(above.backing_file, base) || (want && have && !strcmp(want, have))) {
                base_depth = i;
            }
            free(have);
            free(want);
            free(full);
        }
        if (base_depth < 0) {
            error_report("Did not find '%s' in the backing chain of '%s'", base, filename);
            goto out;
        }
    }
    /* The base gets its own writable handle; the chain's handle of it is
     * read-only and never read here (only ranges allocated above it). */
    struct img_info binfo;
    img_get_info(chain[base_depth], &binfo);
    dst =
        open_file_path(img_name(chain[base_depth]), binfo.format == IMG_FMT_QCOW2 ? "qcow2" : "raw",
                       IMG_OPEN_RW | IMG_OPEN_NO_BACKING);
    if (!dst) {
        goto out;
    }
    uint64_t size = img_size(top);
    if (img_size(dst) < size && img_resize(dst, size, IMG_PREALLOC_OFF, false) < 0) {
        /* QEMU grows the base to the top's size before committing. */
        error_report("Could not resize the base image: %s", img_strerror(dst));
        goto out;
    }
    progress_init(vc.progress, 1.0f);
    for (uint64_t off = 0; off < size;) {
        /* Allocated in any image above the base? */
        uint64_t n = size - off;
        bool allocated = false, zero = false;
        for (int i = 0; i < base_depth; i++) {
            struct img_extent e;
            uint64_t lsize = img_size(chain[i]);
            if (off >= lsize) {
                continue; /* a shorter intermediate image */
            }
            int r = img_block_status(chain[i], off, n < lsize - off ? n : lsize - off, false, &e);
            if (r < 0) {
                error_report("%s", img_msg(chain[i], r));
                goto out;
            }
            if (e.length && e.length < n) {
                n = e.length;
            }
            if (e.flags & IMG_BS_ALLOCATED) {
                allocated = true;
                /* The newest image that allocates the range decides what
                 * it holds; one that reads as zeros without data is
                 * committed as zeros, not copied. */
                zero = (e.flags & IMG_BS_ZERO) && !(e.flags & IMG_BS_DATA);
                break;
            }
        }
        int r;
        if (allocated && zero) {
            /* QEMU's commit job (a mirror, block/mirror.c) writes zeroes
             * with BDRV_REQ_MAY_UNMAP where the source reads as zeros
             * without data, so the base gets zero clusters (qcow2 v3) or
             * holes rather than clusters full of zeros. */
            if ((r = img_write_zeroes(dst, off, n, IMG_ZERO_MAY_UNMAP)) < 0) {
                error_report("%s", img_msg(dst, r));
                goto out;
            }
        } else if (allocated) {
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
        /* Empty the top so that it reads through to the base, which now
         * holds the data (bdrv_make_empty in qemu-img's img_commit). */
        int r = img_make_empty(top);
        if (r < 0) {
            error_report("Could not empty %s: %s", filename, img_msg(top, r));
            goto out;
        }
    }
    progress_end();
    if (!vc.quiet) {
        printf("Image committed.\n");
    }
    ret = 0;
out:
    free(buf);
    if (dst && img_close(dst) < 0 && ret == 0) {
        ret = 1;
    }
    if (top && img_close(top) < 0 && ret == 0) {
        ret = 1;
    }
    return ret;
}
