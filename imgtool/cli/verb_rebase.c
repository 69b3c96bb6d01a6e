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

/* A safe rebase: the image (read through its old chain), the new backing
 * file and two chunk buffers, the old view and the new one. */
struct rebase_job {
    struct img *img;
    struct img *new_backing; /* NULL with -b "" */
    uint64_t old_backing_size, new_backing_size;
    unsigned char *old_view, *new_view; /* REBASE_CHUNK bytes each */
};

/*
 * -b without -F: qemu-img opens the new backing file (probing its format)
 * before it finds the format missing, so a file that does not open is
 * reported first.  It then copies data and fails only when it writes the
 * header; imgtool fails before changing anything.  Always prints an error.
 */
static void report_missing_format(const char *filename, const char *out_base, bool unsafe)
{
    if (!unsafe) {
        struct img_err err = {0};
        struct img *probe = NULL;
        char *new_path = path_combine(filename, out_base);
        int r = img_open_file(new_path, NULL, 0, &probe, &err);
        free(new_path);
        if (r < 0) {
            error_report("Could not open new backing file '%s': %s", out_base, err.msg);
            return;
        }
        img_close(probe);
    }
    error_report("Could not change the backing file to '%s': backing format must be "
                 "specified",
                 out_base);
}

/* Open the new backing file, named relative to the image's directory. */
static struct img *open_new_backing(const char *filename, const char *out_base,
                                    const char *base_fmt)
{
    struct img_err err = {0};
    struct img *new_backing = NULL;

    if (!fmt_known(base_fmt)) {
        error_report("Could not open new backing file '%s': Unknown driver '%s'", out_base,
                     base_fmt);
        return NULL;
    }
    char *new_path = path_combine(filename, out_base);
    if (img_open_file(new_path, base_fmt, 0, &new_backing, &err) < 0) {
        error_report("Could not open new backing file '%s': %s", out_base, err.msg);
    }
    free(new_path);
    return new_backing;
}

/*
 * [off, off + len) is not allocated in the image itself: read it through
 * the old chain and from the new backing file (zeros past its end), and
 * write into the image where the two differ.
 */
static int rebase_range(struct rebase_job *job, uint64_t off, uint64_t len)
{
    int r;

    if ((r = img_read(job->img, off, job->old_view, len)) < 0) {
        error_report("error while reading from old backing file: %s", img_msg(job->img, r));
        return -1;
    }
    memset(job->new_view, 0, len);
    if (job->new_backing && off < job->new_backing_size) {
        size_t have =
            job->new_backing_size - off < len ? (size_t)(job->new_backing_size - off) : (size_t)len;
        if ((r = img_read(job->new_backing, off, job->new_view, have)) < 0) {
            error_report("error while reading from new backing file: %s",
                         img_msg(job->new_backing, r));
            return -1;
        }
    }
    if ((r = write_differences(job->img, off, job->old_view, job->new_view, len,
                               off >= job->old_backing_size)) < 0) {
        error_report("error while writing to COW image: %s", img_msg(job->img, r));
        return -1;
    }
    return 0;
}

/* Safe mode: walk the image chunk by chunk and make every range it does
 * not allocate itself read the same over the new backing file. */
static int rebase_copy(struct rebase_job *job, bool progress)
{
    uint64_t size = img_size(job->img);
    struct img *old_backing = img_backing(job->img);

    job->new_backing_size = job->new_backing ? img_size(job->new_backing) : 0;
    job->old_backing_size = old_backing ? img_size(old_backing) : 0;
    progress_init(progress, 1.0f);
    for (uint64_t off = 0; off < size;) {
        struct img_extent extent;
        uint64_t want = size - off < REBASE_CHUNK ? size - off : REBASE_CHUNK;
        int r = img_block_status(job->img, off, want, false, &extent);
        if (r < 0) {
            error_report("error while reading image metadata: %s", img_msg(job->img, r));
            return -1;
        }
        uint64_t len = extent.length && extent.length < want ? extent.length : want;
        /* A chunk stops at the old backing file's end, as in
         * qemu-img.c img_rebase(): past it the old view is zeros. */
        if (off < job->old_backing_size && len > job->old_backing_size - off) {
            len = job->old_backing_size - off;
        }
        if (!(extent.flags & IMG_BS_ALLOCATED) && rebase_range(job, off, len) < 0) {
            return -1;
        }
        off += len;
        progress_print((float)len * 100 / size, 100);
    }
    progress_end();
    return 0;
}

int verb_rebase(int argc, char **argv)
{
    struct verb_common vc = {0};
    const char *out_base = NULL, *base_fmt = NULL;
    bool unsafe = false;
    int c, ret = 1;

    optind = 1;
    while ((c = verb_getopt(argc, argv, ":hf:F:b:upt:T:qU", NULL, VERB_OPENS_SHARE, &vc)) != -1) {
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
    struct rebase_job job = {
        .img = open_image(filename, vc.fmt, IMG_OPEN_RW | (unsafe ? IMG_OPEN_NO_BACKING : 0)),
        .old_view = malloc(REBASE_CHUNK),
        .new_view = malloc(REBASE_CHUNK),
    };
    if (!job.img) {
        goto out;
    }
    if (out_base && !base_fmt) {
        report_missing_format(filename, out_base, unsafe);
        goto out;
    }
    if (!unsafe) {
        if (out_base && !(job.new_backing = open_new_backing(filename, out_base, base_fmt))) {
            goto out;
        }
        if (rebase_copy(&job, vc.progress) < 0) {
            goto out;
        }
    }
    int r = img_set_backing(job.img, out_base, out_base ? base_fmt : NULL);
    if (r < 0) {
        error_report("Could not change the backing file to '%s': %s", out_base ? out_base : "",
                     img_msg(job.img, r));
        goto out;
    }
    ret = 0;
out:
    free(job.old_view);
    free(job.new_view);
    if (job.new_backing) {
        img_close(job.new_backing);
    }
    if (job.img && img_close(job.img) < 0 && ret == 0) {
        ret = 1;
    }
    return ret;
}
