/*
 * imgtool compare: do two images have the same content (qemu-img compare)?
 *
 *   imgtool compare [-f fmt] [-F fmt] [-p] [-q] [-s] [-U] filename1 filename2
 *
 * Exit status as qemu-img: 0 identical, 1 different, 2 an image could not
 * be opened, 3 block status failed, 4 a read failed.  Images of different
 * sizes are equal if the common part matches and the excess of the larger
 * one reads as zeros ("Warning: Image size mismatch!"); strict mode (-s)
 * requires the same size and the same allocation status everywhere.  A
 * mismatch is reported at the first differing 512-byte sector, since QEMU
 * compares in sectors (qemu-img.c img_compare(), compare_buffers()).
 */
#include "cli.h"
#include "img.h"
#include "progress.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define CMP_CHUNK (1u << 20)

enum { OPT_OBJECT = 256, OPT_IMAGE_OPTS };

/* Offset of the first differing sector in [0, n), or n if equal. */
static size_t first_diff(const unsigned char *a, const unsigned char *b, size_t n)
{
    if (!memcmp(a, b, n)) {
        return n;
    }
    size_t i = 0;
    while (i < n && a[i] == b[i]) {
        i++;
    }
    return i / 512 * 512;
}

/* First non-zero sector of [0, n), or n. */
static size_t first_nonzero(const unsigned char *a, size_t n)
{
    size_t i = 0;
    while (i < n && !a[i]) {
        i++;
    }
    return i == n ? n : i / 512 * 512;
}

/* The status bits strict mode compares. */
#define STRICT_MASK (IMG_BS_DATA | IMG_BS_ZERO | IMG_BS_ALLOCATED)

/* Check that [off, off+len) of img reads as zeros; 0 if so, 1 if not
 * (message printed), 4 on a read error. */
static int check_empty(struct img *img, const char *name, uint64_t off, uint64_t len,
                       unsigned char *buf, bool quiet)
{
    while (len) {
        size_t n = len < CMP_CHUNK ? (size_t)len : CMP_CHUNK;
        if (img_read(img, off, buf, n) < 0) {
            error_report("Error while reading offset %llu of %s: %s", (unsigned long long)off, name,
                         img_strerror(img));
            return 4;
        }
        size_t z = first_nonzero(buf, n);
        if (z < n) {
            if (!quiet) {
                printf("Content mismatch at offset %llu!\n", (unsigned long long)(off + z));
            }
            return 1;
        }
        off += n, len -= n;
    }
    return 0;
}

int verb_compare(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", no_argument, 0, 'h'},
        {"object", required_argument, 0, OPT_COMMON_OBJECT},
        {"image-opts", no_argument, 0, OPT_COMMON_IMAGE_OPTS},
        {"force-share", no_argument, 0, 'U'},
        {0, 0, 0, 0},
    };
    struct verb_common vc = {0}; /* -f is the first image's format */
    const char *fmt2 = NULL;
    bool strict = false;
    int c, ret = 2;

    optind = 1;
    while ((c = verb_getopt(argc, argv, ":hf:F:T:pqsU", longopts, &vc)) != -1) {
        switch (c) {
        case 'F':
            fmt2 = optarg;
            break;
        case 's':
            strict = true;
            break;
        default:
            /* Usage errors exit 1; an unsupported option is an error of
             * the comparison itself, status 2 like qemu-img compare's. */
            return verb_other_option(c, argv, 2);
        }
    }
    if (optind != argc - 2) {
        return error_usage("Expecting two image file names");
    }
    const char *name1 = argv[optind], *name2 = argv[optind + 1];
    struct img *img1 = open_image(name1, vc.fmt, 0), *img2 = NULL;
    unsigned char *buf1 = malloc(CMP_CHUNK), *buf2 = malloc(CMP_CHUNK);
    if (!img1 || !(img2 = open_image(name2, fmt2, 0))) {
        goto out;
    }
    uint64_t size1 = img_size(img1), size2 = img_size(img2);
    uint64_t common = size1 < size2 ? size1 : size2;
    if (strict && size1 != size2) {
        if (!vc.quiet) {
            printf("Strict mode: Image size mismatch!\n");
        }
        ret = 1;
        goto out;
    }
    progress_init(vc.progress, 2.0f);
    uint64_t off = 0, biggest = size1 > size2 ? size1 : size2;
    ret = 0;
    while (off < common && ret == 0) {
        struct img_extent e1, e2;
        uint64_t want = common - off < CMP_CHUNK ? common - off : CMP_CHUNK;
        if (img_block_status(img1, off, want, true, &e1) < 0 ||
            img_block_status(img2, off, want, true, &e2) < 0) {
            error_report("Sector allocation test failed for %s",
                         img_block_status(img1, off, want, true, &e1) < 0 ? name1 : name2);
            ret = 3;
            break;
        }
        uint64_t n = want;
        n = e1.length && e1.length < n ? e1.length : n;
        n = e2.length && e2.length < n ? e2.length : n;
        if (strict && (e1.flags & STRICT_MASK) != (e2.flags & STRICT_MASK)) {
            if (!vc.quiet) {
                printf("Strict mode: Offset %llu block status mismatch!\n",
                       (unsigned long long)off);
            }
            ret = 1;
            break;
        }
        bool zero1 = (e1.flags & IMG_BS_ZERO) && !(e1.flags & IMG_BS_DATA);
        bool zero2 = (e2.flags & IMG_BS_ZERO) && !(e2.flags & IMG_BS_DATA);
        if (zero1 && zero2) {
            /* Both read as zeros: nothing to compare. */
        } else if (zero1 || zero2) {
            /* Only one side has data: it must be zeros. */
            ret = zero1 ? check_empty(img2, name2, off, n, buf1, vc.quiet)
                        : check_empty(img1, name1, off, n, buf1, vc.quiet);
        } else {
            if (img_read(img1, off, buf1, n) < 0 || img_read(img2, off, buf2, n) < 0) {
                error_report("Error while reading offset %llu: %s", (unsigned long long)off,
                             "read failed");
                ret = 4;
                break;
            }
            size_t d = first_diff(buf1, buf2, n);
            if (d < n) {
                if (!vc.quiet) {
                    printf("Content mismatch at offset %llu!\n", (unsigned long long)(off + d));
                }
                ret = 1;
            }
        }
        off += n;
        if (biggest) {
            progress_print((float)n * 100 / biggest, 100);
        }
    }
    if (ret == 0 && size1 != size2) {
        /* The excess of the larger image must read as zeros. */
        struct img *over = size1 > size2 ? img1 : img2;
        const char *oname = size1 > size2 ? name1 : name2;
        if (!vc.quiet) {
            printf("Warning: Image size mismatch!\n");
        }
        ret = check_empty(over, oname, common, biggest - common, buf1, vc.quiet);
    }
    if (ret == 0 && !vc.quiet) {
        printf("Images are identical.\n");
    }
    progress_end();
out:
    free(buf1);
    free(buf2);
    if (img1) {
        img_close(img1);
    }
    if (img2) {
        img_close(img2);
    }
    return ret;
}
