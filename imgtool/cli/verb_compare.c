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

/* The two images being compared and the buffers their data is read into. */
struct compare_job {
    struct img *img1, *img2;
    const char *name1, *name2;
    unsigned char *buf1, *buf2; /* CMP_CHUNK bytes each */
    bool strict, quiet;
};

/* Both images read [off, off + len) as data: compare the bytes.  0 if
 * equal, 1 at a mismatch (printed), 4 on a read error. */
static int compare_data(struct compare_job *job, uint64_t off, uint64_t len)
{
    if (img_read(job->img1, off, job->buf1, len) < 0 ||
        img_read(job->img2, off, job->buf2, len) < 0) {
        error_report("Error while reading offset %llu: %s", (unsigned long long)off, "read failed");
        return 4;
    }
    size_t diff = first_diff(job->buf1, job->buf2, len);
    if (diff < len) {
        if (!job->quiet) {
            printf("Content mismatch at offset %llu!\n", (unsigned long long)(off + diff));
        }
        return 1;
    }
    return 0;
}

/*
 * Compare the range at off of at most want bytes, shortened in *len to
 * where both images' block status stays the same.  The status decides how:
 * ranges that read as zeros in both images need no reading, a range that
 * reads as zeros in one must be zeros in the other, and only data against
 * data is compared byte by byte.  Returns qemu-img compare's status; *len
 * is 0 where qemu-img stops at once, without counting the range's progress
 * (a failed block status or read, a strict-mode status mismatch).
 */
static int compare_range(struct compare_job *job, uint64_t off, uint64_t want, uint64_t *len)
{
    struct img_extent e1, e2;

    *len = 0;
    if (img_block_status(job->img1, off, want, true, &e1) < 0 ||
        img_block_status(job->img2, off, want, true, &e2) < 0) {
        error_report("Sector allocation test failed for %s",
                     img_block_status(job->img1, off, want, true, &e1) < 0 ? job->name1
                                                                           : job->name2);
        return 3;
    }
    *len = want;
    *len = e1.length && e1.length < *len ? e1.length : *len;
    *len = e2.length && e2.length < *len ? e2.length : *len;
    if (job->strict && (e1.flags & STRICT_MASK) != (e2.flags & STRICT_MASK)) {
        if (!job->quiet) {
            printf("Strict mode: Offset %llu block status mismatch!\n", (unsigned long long)off);
        }
        *len = 0;
        return 1;
    }
    bool zero1 = (e1.flags & IMG_BS_ZERO) && !(e1.flags & IMG_BS_DATA);
    bool zero2 = (e2.flags & IMG_BS_ZERO) && !(e2.flags & IMG_BS_DATA);
    if (zero1 && zero2) {
        return 0;
    }
    if (zero1 || zero2) {
        return zero1 ? check_empty(job->img2, job->name2, off, *len, job->buf1, job->quiet)
                     : check_empty(job->img1, job->name1, off, *len, job->buf1, job->quiet);
    }
    int ret = compare_data(job, off, *len);
    if (ret == 4) {
        *len = 0;
    }
    return ret;
}

/* Compare the images' common part, then require the excess of the larger
 * one to read as zeros.  Returns qemu-img compare's status. */
static int compare_images(struct compare_job *job, bool progress)
{
    uint64_t size1 = img_size(job->img1), size2 = img_size(job->img2);
    uint64_t common = size1 < size2 ? size1 : size2, biggest = size1 > size2 ? size1 : size2;
    int ret = 0;

    progress_init(progress, 2.0f);
    for (uint64_t off = 0, len; off < common && ret == 0; off += len) {
        uint64_t want = common - off < CMP_CHUNK ? common - off : CMP_CHUNK;
        ret = compare_range(job, off, want, &len);
        if (len == 0) {
            break;
        }
        if (biggest) {
            progress_print((float)len * 100 / biggest, 100);
        }
    }
    if (ret == 0 && size1 != size2) {
        if (!job->quiet) {
            printf("Warning: Image size mismatch!\n");
        }
        ret = size1 > size2 ? check_empty(job->img1, job->name1, common, biggest - common,
                                          job->buf1, job->quiet)
                            : check_empty(job->img2, job->name2, common, biggest - common,
                                          job->buf1, job->quiet);
    }
    if (ret == 0 && !job->quiet) {
        printf("Images are identical.\n");
    }
    progress_end();
    return ret;
}

int verb_compare(int argc, char **argv)
{
    struct verb_common vc = {0}; /* -f is the first image's format */
    const char *fmt2 = NULL;
    bool strict = false;
    int c, ret = 2;

    optind = 1;
    while ((c = verb_getopt(argc, argv, ":hf:F:T:pqsU", NULL, VERB_OPENS_SHARE, &vc)) != -1) {
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
    struct compare_job job = {
        .name1 = argv[optind],
        .name2 = argv[optind + 1],
        .buf1 = malloc(CMP_CHUNK),
        .buf2 = malloc(CMP_CHUNK),
        .strict = strict,
        .quiet = vc.quiet,
    };
    job.img1 = open_image(job.name1, vc.fmt, 0);
    if (!job.img1 || !(job.img2 = open_image(job.name2, fmt2, 0))) {
        goto out;
    }
    if (strict && img_size(job.img1) != img_size(job.img2)) {
        if (!vc.quiet) {
            printf("Strict mode: Image size mismatch!\n");
        }
        ret = 1;
        goto out;
    }
    ret = compare_images(&job, vc.progress);
out:
    free(job.buf1);
    free(job.buf2);
    if (job.img1) {
        img_close(job.img1);
    }
    if (job.img2) {
        img_close(job.img2);
    }
    return ret;
}
