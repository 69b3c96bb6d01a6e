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
 * are copied).  img_commit() grows it to the top's size if it is shorter.
 */
static int open_base(struct commit_job *job)
{
    struct img *base = job->chain[job->base_depth];
    struct img_info base_info;

    img_get_info(base, &base_info);
    job->dst = open_file_path(img_name(base), base_info.format == IMG_FMT_QCOW2 ? "qcow2" : "raw",
                              IMG_OPEN_RW | IMG_OPEN_NO_BACKING);
    return job->dst ? 0 : -1;
}

/* img_commit's progress: each range's share of the top's size. */
static void commit_progress(void *ctx, uint64_t len, uint64_t size)
{
    (void)ctx;
    progress_print((float)len * 100 / size, 100);
}

/* Commit every range allocated above the base (the library's walk, which
 * hv's monitor commit shares), then flush the base. */
static int commit_ranges(struct commit_job *job, bool progress)
{
    struct img *failed = NULL;
    struct img_commit c = {.top = job->top,
                           .base_depth = job->base_depth,
                           .dst = job->dst,
                           .buf = job->buf,
                           .buf_len = COMMIT_CHUNK,
                           .progress = commit_progress,
                           .failed = &failed};

    progress_init(progress, 1.0f);
    int r = img_commit(&c);
    if (r < 0) {
        /* The base's resize is the one failure QEMU words apart. */
        if (failed == job->dst && img_size(job->dst) < img_size(job->top))
            error_report("Could not resize the base image: %s", img_msg(failed, r));
        else
            error_report("%s", img_msg(failed, r));
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
    struct verb_common vc = {0};
    struct commit_job job = {0};
    const char *base = NULL;
    bool drop = false;
    int c, ret = 1;

    optind = 1;
    while ((c = verb_getopt(argc, argv, ":f:ht:b:dpqr:", NULL, VERB_OPENS, &vc)) != -1) {
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
