/*
 * commit.c - an overlay's changes written into an image below it: the
 * copying half of qemu-img commit and of the QEMU monitor's commit (QEMU's
 * block/commit.c: the commit job behind qemu-img, and bdrv_commit behind
 * HMP's commit).  The caller opens the images and empties the top
 * afterwards (img_make_empty); this file only walks the top's virtual disk
 * and copies what the images above the base hold themselves.
 *
 * imgtool's CLI (cli/verb_commit.c) and hv's monitor commit
 * (hv/core/ctl_dev.c) both call img_commit(), so the two cannot drift
 * apart; they differ only in the options QEMU's two commits differ in.
 */
#include "internal.h"

/* Tell the caller which handle failed: its message says why. */
static int failed_on(const struct img_commit *job, struct img *img, int r)
{
    if (job->failed)
        *job->failed = img;
    return r;
}

/* The image `depth` levels below the top (0: the top itself), or NULL. */
static struct img *layer(const struct img_commit *job, int depth)
{
    struct img *l = job->top;
    for (int i = 0; l && i < depth; i++)
        l = l->backing;
    return l;
}

/*
 * Is [off, off + *len) allocated in an image above the base, and does it
 * read as zeros there?  *len is shortened to the range the answer holds
 * for.  The newest image that allocates the range decides what it holds.
 * A shorter intermediate image holds nothing past its end.
 */
static int range_above_base(const struct img_commit *job, uint64_t off, uint64_t *len,
                            bool *allocated, bool *zero)
{
    *allocated = *zero = false;
    for (int i = 0; i < job->base_depth; i++) {
        struct img *l = layer(job, i);
        struct img_extent extent;
        if (off >= l->size)
            continue;
        uint64_t ask = *len < l->size - off ? *len : l->size - off;
        int r = img_block_status(l, off, ask, false, &extent);
        if (r < 0)
            return failed_on(job, l, r);
        if (extent.length && extent.length < *len)
            *len = extent.length;
        if (extent.flags & IMG_BS_ALLOCATED) {
            *allocated = true;
            *zero = (extent.flags & IMG_BS_ZERO) && !(extent.flags & IMG_BS_DATA);
            return 0;
        }
    }
    return 0;
}

/* Copy [off, off + len) from the top (so the newest data wins) into the
 * base, a buffer at a time. */
static int copy_range(const struct img_commit *job, uint64_t off, uint64_t len)
{
    int r;
    for (uint64_t done = 0; done < len; done += job->buf_len) {
        size_t chunk = len - done < job->buf_len ? (size_t)(len - done) : job->buf_len;
        if ((r = img_read(job->top, off + done, job->buf, chunk)) < 0)
            return failed_on(job, job->top, r);
        if ((r = img_write(job->dst, off + done, job->buf, chunk)) < 0)
            return failed_on(job, job->dst, r);
    }
    return 0;
}

/* One range the images above the base hold: zeros or data. */
static int commit_range(const struct img_commit *job, uint64_t off, uint64_t len, bool zero)
{
    if (!zero || job->zeroes_as_data)
        return copy_range(job, off, len);
    /* QEMU's commit job (a mirror, block/mirror.c) writes zeroes with
     * BDRV_REQ_MAY_UNMAP where the source reads as zeros without data, so
     * the base gets zero clusters (qcow2 v3) or holes rather than clusters
     * full of zeros. */
    int r = img_write_zeroes(job->dst, off, len, IMG_ZERO_MAY_UNMAP);
    return r < 0 ? failed_on(job, job->dst, r) : 0;
}

int img_commit(const struct img_commit *job)
{
    uint64_t size = job->top->size;
    int r;
    if (!job->buf_len || job->base_depth < 1 || !layer(job, job->base_depth))
        return failed_on(job, job->top,
                         img_fail(job->top, IMG_EINVAL, "No base image to commit into"));
    /* A base shorter than the top grows to the top's size first, as both
     * of QEMU's commits grow it (bdrv_commit: "grow the backing file image
     * if possible"). */
    if (job->dst->size < size && (r = img_resize(job->dst, size, IMG_PREALLOC_OFF, false)) < 0)
        return failed_on(job, job->dst, r);
    for (uint64_t off = 0; off < size;) {
        uint64_t len = size - off;
        bool allocated, zero;
        if ((r = range_above_base(job, off, &len, &allocated, &zero)) < 0)
            return r;
        if (allocated && (r = commit_range(job, off, len, zero)) < 0)
            return r;
        off += len;
        if (job->progress)
            job->progress(job->ctx, len, size);
    }
    /* The base's data is stable before anybody empties the top. */
    if ((r = img_flush(job->dst)) < 0)
        return failed_on(job, job->dst, r);
    return 0;
}
