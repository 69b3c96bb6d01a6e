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

/* One commit: the chain from the top down, the base's depth in it, the
 * base's own writable handle and the copy buffer. */
struct commit_job {
    struct img *top;
    struct img *chain[IMG_MAX_CHAIN + 1];
    int depth;      /* images in chain[], the top first */
    int base_depth; /* chain[base_depth] is the base */
    struct img *dst;
    unsigned char *buf; /* COMMIT_CHUNK bytes */
};

/*
 * Which image of the chain is the base: the top's direct backing file
 * without -b.  With -b, the base is named as the image above it names it,
 * or as a file name relative to that image's directory (QEMU's
 * bdrv_find_backing_image()): never relative to the current directory,
 * unless it is absolute.  -1 if no image of the chain matches.
 */
static int find_base_depth(struct commit_job *job, const char *base)
{
    if (!base) {
        return 1;
    }
    for (int i = 1; i < job->depth; i++) {
        struct img_info above;
        img_get_info(job->chain[i - 1], &above);
        char *full = path_combine(img_name(job->chain[i - 1]), base);
        char *want = full ? realpath(full, NULL) : NULL;
        char *have = realpath(img_name(job->chain[i]), NULL);
        bool found = !strcmp(above.backing_file, base) || (want && have && !strcmp(want, have));
        free(have);
        free(want);
        free(full);
        if (found) {
            return i;
        }
    }
    return -1;
}

/*
 * Open the base through a writable handle of its own: the chain's handle
 * of it is read-only and never read here (only ranges allocated above it
 * are copied).  QEMU grows the base to the top's size before committing.
 */
static int open_base(struct commit_job *job)
{
    struct img *base = job->chain[job->base_depth];
    struct img_info base_info;

    img_get_info(base, &base_info);
    job->dst = open_file_path(img_name(base), base_info.format == IMG_FMT_QCOW2 ? "qcow2" : "raw",
                              IMG_OPEN_RW | IMG_OPEN_NO_BACKING);
    if (!job->dst) {
        return -1;
    }
    uint64_t size = img_size(job->top);
    if (img_size(job->dst) < size && img_resize(job->dst, size, IMG_PREALLOC_OFF, false) < 0) {
        error_report("Could not resize the base image: %s", img_strerror(job->dst));
        return -1;
    }
    return 0;
}

/*
 * Is [off, off + *len) allocated in an image above the base, and does it
 * read as zeros there?  *len is shortened to the range the answer holds
 * for.  The newest image that allocates the range decides what it holds;
 * one that reads as zeros without data is committed as zeros, not copied.
 */
static int range_above_base(struct commit_job *job, uint64_t off, uint64_t *len, bool *allocated,
                            bool *zero)
{
    *allocated = *zero = false;
    for (int i = 0; i < job->base_depth; i++) {
        struct img_extent extent;
        uint64_t layer_size = img_size(job->chain[i]);
        if (off >= layer_size) {
            continue; /* a shorter intermediate image */
        }
        uint64_t ask = *len < layer_size - off ? *len : layer_size - off;
        int r = img_block_status(job->chain[i], off, ask, false, &extent);
        if (r < 0) {
            error_report("%s", img_msg(job->chain[i], r));
            return -1;
        }
        if (extent.length && extent.length < *len) {
            *len = extent.length;
        }
        if (extent.flags & IMG_BS_ALLOCATED) {
            *allocated = true;
            *zero = (extent.flags & IMG_BS_ZERO) && !(extent.flags & IMG_BS_DATA);
            return 0;
        }
    }
    return 0;
}

/* Copy [off, off + len) from the top (so the newest data wins) into the
 * base, a chunk at a time. */
static int copy_range(struct commit_job *job, uint64_t off, uint64_t len)
{
    int r;

    for (uint64_t done = 0; done < len; done += COMMIT_CHUNK) {
        size_t chunk = len - done < COMMIT_CHUNK ? (size_t)(len - done) : COMMIT_CHUNK;
        if ((r = img_read(job->top, off + done, job->buf, chunk)) < 0) {
            error_report("%s", img_msg(job->top, r));
            return -1;
        }
        if ((r = img_write(job->dst, off + done, job->buf, chunk)) < 0) {
            error_report("%s", img_msg(job->dst, r));
            return -1;
        }
    }
    return 0;
}

/* Walk the top's whole size and commit every range allocated above the
 * base, then flush the base. */
static int commit_ranges(struct commit_job *job, bool progress)
{
    uint64_t size = img_size(job->top);
    int r;

    progress_init(progress, 1.0f);
    for (uint64_t off = 0; off < size;) {
        uint64_t len = size - off;
        bool allocated, zero;
        if (range_above_base(job, off, &len, &allocated, &zero) < 0) {
            return -1;
        }
        if (allocated && zero) {
            /* QEMU's commit job (a mirror, block/mirror.c) writes zeroes
             * with BDRV_REQ_MAY_UNMAP where the source reads as zeros
             * without data, so the base gets zero clusters (qcow2 v3) or
             * holes rather than clusters full of zeros. */
            if ((r = img_write_zeroes(job->dst, off, len, IMG_ZERO_MAY_UNMAP)) < 0) {
                error_report("%s", img_msg(job->dst, r));
                return -1;
            }
        } else if (allocated && copy_range(job, off, len) < 0) {
            return -1;
        }
        off += len;
        progress_print((float)len * 100 / size, 100);
    }
    if (img_flush(job->dst) < 0) {
        error_report("%s", img_msg(job->dst, -IMG_EIO));
        return -1;
    }
    return 0;
}

/* Open the top with its chain (so that data allocated in images between
 * the top and the base is found too), find the base and open it. */
static int open_commit_job(struct commit_job *job, const char *filename, const char *fmt,
                           const char *base)
{
    job->top = open_image(filename, fmt, IMG_OPEN_RW);
    if (!job->top) {
        return -1;
    }
    for (struct img *l = job->top; l && job->depth <= IMG_MAX_CHAIN; l = img_backing(l)) {
        job->chain[job->depth++] = l;
    }
    if (job->depth < 2) {
        error_report("Image does not have a backing file");
        return -1;
    }
    job->base_depth = find_base_depth(job, base);
    if (job->base_depth < 0) {
        error_report("Did not find '%s' in the backing chain of '%s'", base, filename);
        return -1;
    }
    return open_base(job);
}

int verb_commit(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", no_argument, 0, 'h'},
        {"object", required_argument, 0, OPT_COMMON_OBJECT},
        {"image-opts", no_argument, 0, OPT_COMMON_IMAGE_OPTS},
        {0, 0, 0, 0},
    };
    struct verb_common vc = {0};
    struct commit_job job = {0};
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
    job.buf = malloc(COMMIT_CHUNK);
    if (open_commit_job(&job, filename, vc.fmt, base) < 0 || commit_ranges(&job, vc.progress) < 0) {
        goto out;
    }
    if (!drop) {
        /* Empty the top so that it reads through to the base, which now
         * holds the data (bdrv_make_empty in qemu-img's img_commit). */
        int r = img_make_empty(job.top);
        if (r < 0) {
            error_report("Could not empty %s: %s", filename, img_msg(job.top, r));
            goto out;
        }
    }
    progress_end();
    if (!vc.quiet) {
        printf("Image committed.\n");
    }
    ret = 0;
out:
    free(job.buf);
    if (job.dst && img_close(job.dst) < 0 && ret == 0) {
        ret = 1;
    }
    if (job.top && img_close(job.top) < 0 && ret == 0) {
        ret = 1;
    }
    return ret;
}
