/*
 * imgtool rebase: change an image's backing file (qemu-img rebase).
 *
 *   imgtool rebase [-U] [-q] [-f fmt] [-p] [-u] -b backing_file [-F backing_fmt] filename
 *
 * Safe mode (the default) keeps what the guest sees: wherever the image
 * does not allocate a range itself, the old backing chain's content is
 * compared with the new backing file's, and differing ranges are copied
 * into the image before the header is changed.  -u only rewrites the
 * header (for renamed or moved backing files).  -b "" removes the backing
 * file, copying everything it provided.  QEMU 7.2 insists on -F.
 */
#include "cli.h"
#include "img.h"
#include "progress.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define REBASE_CHUNK (64u << 10)

/*
 * Write into the image the 512-byte sectors of [off, off+n) where the old
 * view `a` and the new backing file's `b` differ, run by run, as
 * qemu-img.c img_rebase() does with compare_buffers().  Past the end of
 * the old backing file the old view is zeros, and qemu-img then writes
 * zeroes (blk_pwrite_zeroes: a v3 image gets zero clusters, no data
 * clusters); elsewhere it writes the old data.
 */
static int write_differences(struct img *img, uint64_t off, const unsigned char *a,
                             const unsigned char *b, uint64_t n, bool old_is_zero)
{
    uint64_t pos = 0;
    while (pos < n) {
        uint64_t len = n - pos < 512 ? n - pos : 512;
        bool differ = memcmp(a + pos, b + pos, len) != 0;
        uint64_t end = pos + len;
        /* Extend the run while sectors keep the same state. */
        while (end < n) {
            uint64_t l = n - end < 512 ? n - end : 512;
            if ((memcmp(a + end, b + end, l) != 0) != differ) {
                break;
            }
            end += l;
        }
        if (differ) {
            int r = old_is_zero ? img_write_zeroes(img, off + pos, end - pos, IMG_ZERO_RECORD)
                                : img_write(img, off + pos, a + pos, end - pos);
            if (r < 0) {
                return r;
            }
        }
        pos = end;
    }
    return 0;
}

int verb_rebase(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", no_argument, 0, 'h'},
        {"object", required_argument, 0, OPT_COMMON_OBJECT},
        {"image-opts", no_argument, 0, OPT_COMMON_IMAGE_OPTS},
        {"force-share", no_argument, 0, 'U'},
        {0, 0, 0, 0},
    };
    struct verb_common vc = {0};
    const char *out_base = NULL, *base_fmt = NULL;
    bool unsafe = false;
    int c, ret = 1;

    optind = 1;
    while ((c = verb_getopt(argc, argv, ":hf:F:b:upt:T:qU", longopts, &vc)) != -1) {
        switch (c) {
        case 'F':
            base_fmt = optarg;
            break;
        case 'b':
            out_base = optarg;
            break;
        case 'u':
            unsafe = true;
            break;
        default:
            return verb_other_option(c, argv, 1);
        }
    }
    const char *filename = verb_one_filename(argc, argv);
    if (!filename) {
        return 1;
    }
    if (!unsafe && !out_base) {
        return error_usage("Must specify backing file (-b) or use unsafe mode (-u)");
    }
    if (out_base && !*out_base) {
        out_base = NULL; /* -b "": no backing file any more */
    }
    struct img *img =
        open_image(filename, vc.fmt, IMG_OPEN_RW | (unsafe ? IMG_OPEN_NO_BACKING : 0));
    struct img *nb = NULL;
    unsigned char *a = malloc(REBASE_CHUNK), *b = malloc(REBASE_CHUNK);
    char *npath = NULL;
    if (!img) {
        goto out;
    }
    if (out_base && !base_fmt) {
        /* qemu-img opens the new backing file (probing its format) before
         * it finds the format missing, so a file that does not open is
         * reported first.  It then copies data and fails only when it
         * writes the header; imgtool fails before changing anything. */
        if (!unsafe) {
            struct img_err err = {0};
            struct img *probe = NULL;
            npath = path_combine(filename, out_base);
            if (img_open_file(npath, NULL, 0, &probe, &err) < 0) {
                error_report("Could not open new backing file '%s': %s", out_base, err.msg);
                goto out;
            }
            img_close(probe);
        }
        error_report("Could not change the backing file to '%s': backing format must be "
                     "specified",
                     out_base);
        goto out;
    }
    if (!unsafe) {
        if (out_base) {
            npath = path_combine(filename, out_base);
            struct img_err err = {0};
            if (!fmt_known(base_fmt)) {
                error_report("Could not open new backing file '%s': Unknown driver '%s'", out_base,
                             base_fmt);
                goto out;
            }
            if (img_open_file(npath, base_fmt, 0, &nb, &err) < 0) {
                error_report("Could not open new backing file '%s': %s", out_base, err.msg);
                goto out;
            }
        }
        uint64_t size = img_size(img), nsize = nb ? img_size(nb) : 0;
        struct img *ob = img_backing(img);
        uint64_t osize = ob ? img_size(ob) : 0;
        progress_init(vc.progress, 1.0f);
        for (uint64_t off = 0; off < size;) {
            struct img_extent e;
            uint64_t want = size - off < REBASE_CHUNK ? size - off : REBASE_CHUNK;
            int r = img_block_status(img, off, want, false, &e);
            if (r < 0) {
                error_report("error while reading image metadata: %s", img_msg(img, r));
                goto out;
            }
            uint64_t n = e.length && e.length < want ? e.length : want;
            /* A chunk stops at the old backing file's end, as in
             * qemu-img.c img_rebase(): past it the old view is zeros. */
            if (off < osize && n > osize - off) {
                n = osize - off;
            }
            if (!(e.flags & IMG_BS_ALLOCATED)) {
                /* Old view (through the old chain) against the new one. */
                if ((r = img_read(img, off, a, n)) < 0) {
                    error_report("error while reading from old backing file: %s", img_msg(img, r));
                    goto out;
                }
                memset(b, 0, n);
                if (nb && off < nsize) {
                    size_t k = nsize - off < n ? (size_t)(nsize - off) : (size_t)n;
                    if ((r = img_read(nb, off, b, k)) < 0) {
                        error_report("error while reading from new backing file: %s",
                                     img_msg(nb, r));
                        goto out;
                    }
                }
                if ((r = write_differences(img, off, a, b, n, off >= osize)) < 0) {
                    error_report("error while writing to COW image: %s", img_msg(img, r));
                    goto out;
                }
            }
            off += n;
            progress_print((float)n * 100 / size, 100);
        }
        progress_end();
    }
    int r = img_set_backing(img, out_base, out_base ? base_fmt : NULL);
    if (r < 0) {
        error_report("Could not change the backing file to '%s': %s", out_base ? out_base : "",
                     img_msg(img, r));
        goto out;
    }
    ret = 0;
out:
    free(a);
    free(b);
    free(npath);
    if (nb) {
        img_close(nb);
    }
    if (img && img_close(img) < 0 && ret == 0) {
        ret = 1;
    }
    return ret;
}
