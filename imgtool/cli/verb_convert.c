/*
 * imgtool convert: copy one or more images into a new one (qemu-img convert).
 *
 *   imgtool convert [-U] [-c] [-p] [-q] [-n] [-f fmt] [-O output_fmt]
 *       [-B backing_file [-F backing_fmt]] [-o options] [-S sparse_size]
 *       [-m num_coroutines] [-W] filename [filename2 [...]] output_filename
 *
 * Sources are concatenated.  The copy walks the source in chunks guided by
 * block status: areas known to read as zeros are not written to a fresh
 * target (it reads as zeros already), and with -S N (default 4 KiB) data
 * blocks of N bytes that happen to be all zeros are skipped too, which
 * keeps the target sparse (qemu-img.c convert_iteration_sectors() and
 * is_allocated_sectors_min()).  With -B the target gets a backing file and
 * only what the top source image itself allocates is copied.  With -c each
 * cluster is compressed by a pool of worker threads and written in order
 * (cpipe.c); all-zero clusters stay unallocated, as in QEMU.  Reading
 * runs ahead in a thread of its own (prefetch.c), so reads and writes
 * overlap as in qemu-img's thread pool; the target is still written in
 * source order by this thread alone.
 * -m N caps the compression threads at N (qemu-img's number of parallel
 * requests); -W is accepted for compatibility: imgtool always writes in
 * order.
 */
#include "cli.h"
#include "cjoin.h"
#include "convert_bitmaps.h"
#include "imgspec.h"
#include "cpipe.h"
#include "prefetch.h"
#include "create_opts.h"
#include "progress.h"
#include "xzout.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_TARGET_IMAGE_OPTS = 256, OPT_TARGET_IS_ZERO, OPT_SALVAGE, OPT_BITMAPS, OPT_SKIP_BROKEN };

/* Bytes handled per step of the copy loop (a multiple of every cluster
 * size up to 2 MiB). */
#define CHUNK (2u << 20)

struct conv {
    struct img *dst;
    bool compress, target_has_backing, target_fresh, fully_allocate;
    uint64_t sparse; /* -S in bytes, 0 = write everything */
    uint32_t cluster;
    struct cpipe *pipe;
    struct cjoin join; /* -c: pieces collected into whole clusters */
    unsigned char *buf;
    uint64_t total;         /* the sources' size together */
    uint64_t ptotal, pdone; /* progress: bytes to copy, bytes copied */
    uint64_t backing_end;   /* the target backing file's size, or UINT64_MAX */
};

static bool all_zero(const unsigned char *p, size_t n)
{
    /* Compare word-wise after the first byte: memcmp with itself shifted
     * by one byte is a fast "all bytes equal to p[0]" test. */
    return n == 0 || (p[0] == 0 && !memcmp(p, p + 1, n - 1));
}

/* Make [off, off+len) of the target read as zeros. */
static int write_zeros(struct conv *c, uint64_t off, uint64_t len)
{
    if (c->target_fresh && !c->target_has_backing && !c->fully_allocate) {
        return 0; /* a new image without backing reads as zeros already */
    }
    if (c->fully_allocate) {
        /* -S 0: allocate, so write real zero bytes. */
        memset(c->buf, 0, CHUNK);
        while (len) {
            size_t n = len < CHUNK ? (size_t)len : CHUNK;
            int r = img_write(c->dst, off, c->buf, n);
            if (r < 0) {
                return r;
            }
            off += n, len -= n;
        }
        return 0;
    }
    return img_write_zeroes(c->dst, off, len, IMG_ZERO_MAY_UNMAP);
}

/* -c: whole clusters from cjoin (p NULL: zeros); each is compressed, or
 * left out if it is all zeros. */
static int emit_clusters(void *ctx, uint64_t off, const unsigned char *p, uint64_t len)
{
    struct conv *c = ctx;
    if (!p) {
        return write_zeros(c, off, len);
    }
    for (uint64_t pos = 0; pos < len; pos += c->cluster) {
        size_t n = len - pos < c->cluster ? (size_t)(len - pos) : c->cluster;
        if (all_zero(p + pos, n)) {
            int r = write_zeros(c, off + pos, n);
            if (r < 0) {
                return r;
            }
            continue;
        }
        void *slot = cpipe_acquire(c->pipe, off + pos, n);
        if (!slot) {
            return -IMG_EIO; /* the pipe reports its own error */
        }
        memcpy(slot, p + pos, n);
        cpipe_submit(c->pipe);
    }
    return 0;
}

/* Write a data chunk, leaving out zero blocks of -S bytes. */
static int write_data(struct conv *c, uint64_t off, const unsigned char *p, size_t len)
{
    if (c->compress) {
        return cjoin_put(&c->join, off, p, len);
    }
    if (!c->sparse) {
        return img_write(c->dst, off, p, len);
    }
    /* Runs of all-zero or data blocks, block = -S bytes (aligned to the
     * guest offset, as QEMU aligns to sectors). */
    size_t pos = 0;
    while (pos < len) {
        size_t blk = c->sparse - ((off + pos) % c->sparse);
        if (blk > len - pos) {
            blk = len - pos;
        }
        bool zero = all_zero(p + pos, blk);
        size_t end = pos + blk;
        while (end < len) {
            size_t b = c->sparse < len - end ? c->sparse : len - end;
            if (all_zero(p + end, b) != zero) {
                break;
            }
            end += b;
        }
        int r = zero ? write_zeros(c, off + pos, end - pos)
                     : img_write(c->dst, off + pos, p + pos, end - pos);
        if (r < 0) {
            return r;
        }
        pos = end;
    }
    return 0;
}

/*
 * Progress as qemu-img convert counts it (convert_do_copy()): 100 % is the
 * data that will be copied, counted by a first walk over the sources'
 * block status, and only data steps advance it (zero steps too with -S 0,
 * which writes them); skipped zeros and backing-file areas do not.
 */
static void progress_step(struct conv *c, enum pf_kind kind, uint64_t n)
{
    if (kind != PF_DATA && !(c->fully_allocate && kind == PF_ZERO)) {
        return;
    }
    /* qemu-img copies compressed targets one cluster per step. */
    uint64_t step = c->compress ? c->cluster : n;
    while (n) {
        uint64_t k = n < step ? n : step;
        c->pdone += k;
        n -= k;
        progress_print(100.0f * (float)c->pdone / (float)c->ptotal, 0);
    }
}

/* How convert walks a source placed at target offset base. */
static struct pf_params walk_params(const struct conv *c, uint64_t base)
{
    struct pf_params pp = {
        .chunk = CHUNK,
        .base = base,
        .cluster = c->cluster,
        .compress = c->compress,
        .target_has_backing = c->target_has_backing,
        .backing_end = c->backing_end,
        /* With -S 0 zeros are written and counted, in chunks as data. */
        .split_zeros = c->fully_allocate,
    };
    return pp;
}

/* Copy one source to the target at offset base.  Reader threads
 * (prefetch.c) do the block status calls and the reads a few chunks
 * ahead, each with a handle of its own (srcs[0..nsrc)); this thread
 * writes, in source order. */
static int copy_source(struct conv *c, struct img *const *srcs, unsigned nsrc, const char *name,
                       uint64_t base)
{
    struct pf_params pp = walk_params(c, base);
    struct prefetch *pf = prefetch_start(srcs, nsrc, &pp);
    int ret = 1;
    if (!pf) {
        error_report("Could not start reading %s: out of memory", name);
        return 1;
    }
    for (;;) {
        struct pf_item *it = prefetch_next(pf);
        int r = 0;
        if (it->kind == PF_END) {
            ret = 0;
            break;
        }
        if (it->kind == PF_ERROR) {
            error_report("%s", it->msg);
            break;
        }
        if (it->kind == PF_ZERO) {
            r = c->compress ? cjoin_put(&c->join, base + it->off, NULL, it->n)
                            : write_zeros(c, base + it->off, it->n);
        } else if (it->kind == PF_DATA) {
            r = write_data(c, base + it->off, it->buf, (size_t)it->n);
        }
        if (r < 0) {
            error_report("error while writing at byte %llu: %s",
                         (unsigned long long)(base + it->off), img_msg(c->dst, r));
            break;
        }
        uint64_t n = it->n;
        enum pf_kind kind = it->kind;
        prefetch_release(pf);
        progress_step(c, kind, n);
    }
    prefetch_stop(pf);
    return ret;
}

/*
 * The target's backing file, as qemu-img.c img_convert() settles it once
 * the sources are open: -B and -F are stored as the creation options
 * backing_file and backing_fmt (add_old_style_options(), overriding -o),
 * then a backing file from either source needs a backing format from
 * either source.  Checks the option names and types first.  Updates
 * *base and *base_fmt; returns false after the message.
 */
static bool target_backing(struct opts *o, int ofmt, const char **base, const char **base_fmt)
{
    const char *fmt = ofmt == IMG_FMT_QCOW2 ? "qcow2" : "raw";
    if (!create_opts_check(o, ofmt, NULL)) {
        return false;
    }
    if (*base && (ofmt == IMG_FMT_RAW || !opts_set(o, "backing_file", *base))) {
        error_report("Backing file not supported for file format '%s'", fmt);
        return false;
    }
    if (*base_fmt && (ofmt == IMG_FMT_RAW || !opts_set(o, "backing_fmt", *base_fmt))) {
        error_report("Backing file format not supported for file format '%s'", fmt);
        return false;
    }
    *base = opts_get(o, "backing_file");
    *base_fmt = opts_get(o, "backing_fmt");
    if (*base && !*base_fmt) {
        error_report("Use of backing file requires explicit backing format");
        return false;
    }
    return true;
}
/* What a step's return value means: carry on, or stop with this status. */
#define CONVERT_GO (-1)

/*
 * One convert run: what the command line asks for, then what the run
 * holds (sources, target, copy state), all released by convert_cleanup().
 * The steps of verb_convert() below fill it in order.
 */
struct convert_job {
    struct verb_common vc;
    const char *out_fmt, *out_base, *base_fmt;
    const char *snapshot;  /* -l as given */
    char *sn_id, *sn_name; /* -l snapshot.id=ID,snapshot.name=NAME */
    char *options;         /* -o, all of them joined */
    struct opts o;         /* -o, parsed */
    bool compress, skip_create, bitmaps, skip_broken, target_is_zero;
    bool explicit_sparse, copy_offload;
    int max_threads; /* -m: at most this many compression threads */
    int64_t sparse;  /* -S in bytes */
    int ofmt;        /* IMG_FMT_* of the target */
    int nnames;      /* how many sources the operands name */
    char **names;    /* their names */
    /* The name written to, and the name the user gave: they differ for
     * an ".xz" target, converted into tmp_name first. */
    const char *out_filename, *final_name;
    char tmp_name[4096];
    char out_path[4096]; /* the file a new target is created as */
    struct img **srcs;
    int nsrc; /* sources opened so far */
    struct conv cv;
    bool created, out_existed;
    /* The external data file a new qcow2 target gets (-o data_file=),
     * removed with the target when the convert fails, if it is new. */
    const char *data_file;
    bool data_existed;
};

/* The command line's options, one by one (qemu-img's getopt string). */
static int convert_parse_options(int argc, char **argv, struct convert_job *j)
{
    static const struct option longopts[] = {
        {"target-image-opts", no_argument, 0, OPT_TARGET_IMAGE_OPTS},
        {"target-is-zero", no_argument, 0, OPT_TARGET_IS_ZERO},
        {"salvage", no_argument, 0, OPT_SALVAGE},
        {"bitmaps", no_argument, 0, OPT_BITMAPS},
        {"skip-broken-bitmaps", no_argument, 0, OPT_SKIP_BROKEN},
        {0, 0, 0, 0},
    };
    int c;
    optind = 1;
    while ((c = verb_getopt(argc, argv, ":hf:O:B:Cco:l:S:pt:T:qnm:Wr:UF:", longopts,
                            VERB_OPENS_SHARE, &j->vc)) != -1) {
        switch (c) {
        case 'O':
            j->out_fmt = optarg;
            break;
        case 'B':
            j->out_base = optarg;
            break;
        case 'F':
            j->base_fmt = optarg;
            break;
        case 'c':
            j->compress = true;
            break;
        case 'o':
            if (!opts_append(&j->options, optarg)) {
                return 1;
            }
            break;
        case 'l':
            /* qemu-img 7.2 no longer has the old "-s snapshot_id" (its
             * getopt string lacks it): -s is an unrecognized option here
             * too, and -l is the one way to name a snapshot. */
            j->snapshot = optarg;
            break;
        case 'S': {
            int64_t s = cvtnum("buffer size for sparse output", optarg);
            if (s < 0) {
                return 1;
            }
            if (s > 16 * 1024 * 1024 || s % 512) {
                error_report("Invalid buffer size for sparse output specified. Valid sizes are "
                             "multiples of 512 up to 16777216. Select 0 to disable sparse "
                             "detection (fully allocates output).");
                return 1;
            }
            j->sparse = s;
            j->explicit_sparse = true;
            break;
        }
        case 'n':
            j->skip_create = true;
            break;
        case 'm': {
            char *end;
            long m = strtol(optarg, &end, 10);
            if (*end || m < 1 || m > 16) {
                error_report("Invalid number of coroutines. Allowed number of coroutines is "
                             "between 1 and 16");
                return 1;
            }
            j->max_threads = (int)m;
            break;
        }
        case 'C':
            /* Copy offloading asks the host to copy without the data
             * passing through the process (copy_file_range); where that
             * cannot be done qemu-img falls back to reading and writing,
             * and imgtool always does: the result is the same image. */
            j->copy_offload = true;
            break;
        case OPT_BITMAPS:
            j->bitmaps = true;
            break;
        case OPT_SKIP_BROKEN:
            j->skip_broken = true;
            break;
        case 'W':
        case 'r':
            /* Out-of-order writes and rate limits do not change the
             * result; imgtool accepts and ignores them. */
            break;
        case OPT_TARGET_IS_ZERO:
            j->target_is_zero = true;
            break;
        default:
            return verb_other_option(c, argv, 1);
        }
    }
    j->nnames = argc - optind - 1;
    j->names = argv + optind;
    return CONVERT_GO;
}

/*
 * Options that contradict each other, -o help, the operands and the
 * target's name and format, in the order qemu-img.c img_convert() checks
 * them (so the first message is the same).
 */
static int convert_check_options(int argc, char **argv, struct convert_job *j)
{
    /* Offloaded copies are plain copies of whole ranges: they cannot
     * compress, or leave out zero blocks inside data (qemu-img.c). */
    if (j->copy_offload && j->compress) {
        error_report("Cannot enable copy offloading when -c is used");
        return 1;
    }
    if (j->copy_offload && j->explicit_sparse) {
        error_report("Cannot enable copy offloading when -S is used");
        return 1;
    }
    if (j->skip_create && j->options) {
        /* qemu-img.c img_convert(): the options would be silently lost. */
        error_report("-o has no effect when skipping image creation");
        return 1;
    }
    if (j->options && opts_is_help(j->options)) {
        /* Before the operands are checked: the target name is known only
         * when there is at least one source as well. */
        int hfmt = target_format(j->out_fmt ? j->out_fmt : "raw", NULL);
        if (hfmt < 0) {
            return 1;
        }
        create_opts_help(hfmt, j->nnames >= 1 ? argv[argc - 1] : NULL);
        return 0;
    }
    if (j->nnames < 1) {
        error_report("Must specify image file name");
        return 1;
    }
    j->out_filename = argv[argc - 1];
    /* An output name ending in ".xz" (imgtool only): convert into a
     * temporary file next to it, then compress that into the name. */
    j->final_name = j->out_filename;
    if (xz_wanted(j->out_filename)) {
        if (j->skip_create) {
            error_report("%s: -n cannot write into an xz-compressed image", j->out_filename);
            return 1;
        }
        snprintf(j->tmp_name, sizeof(j->tmp_name), "%s.imgtool-tmp", j->out_filename);
        j->out_filename = j->tmp_name;
    }
    if (!j->out_fmt) {
        j->out_fmt = "raw";
    }
    j->ofmt = target_format(j->out_fmt, NULL);
    if (j->ofmt < 0) {
        return 1;
    }
    if (j->compress && j->ofmt != IMG_FMT_QCOW2) {
        error_report("Compression not supported for this file format");
        return 1;
    }
    if (j->target_is_zero && !j->skip_create) {
        error_report("--target-is-zero requires use of -n flag");
        return 1;
    }
    return CONVERT_GO;
}

/* -l takes "snapshot.id=ID,snapshot.name=NAME" or an id-or-name
 * (qemu-img.c img_convert()); then the -o list is parsed. */
static int convert_parse_snapshot_and_o(struct convert_job *j)
{
    if (j->snapshot && !strncmp(j->snapshot, "snapshot.", 9)) {
        struct opts so = {0};
        bool ok = opts_parse(&so, j->snapshot);
        for (int i = 0; ok && i < so.n; i++) {
            if (!strcmp(so.kv[i].key, "snapshot.id")) {
                j->sn_id = strdup(so.kv[i].value);
            } else if (!strcmp(so.kv[i].key, "snapshot.name")) {
                j->sn_name = strdup(so.kv[i].value);
            } else {
                error_report("Invalid parameter '%s'", so.kv[i].key);
                ok = false;
            }
        }
        opts_free(&so);
        if (!ok) {
            error_report("Failed in parsing snapshot param '%s'", j->snapshot);
            return 1;
        }
    }
    if (j->snapshot && j->nnames > 1) {
        error_report("No support for concatenating multiple snapshot");
        return 1;
    }
    if (j->options && !opts_parse(&j->o, j->options)) {
        return 1;
    }
    return CONVERT_GO;
}

/* Make a source read the disk as it was in the -l snapshot; the
 * id-or-name form tries the id first, then the name. */
static int convert_load_snapshot(struct convert_job *j, struct img *src)
{
    int r = j->sn_id || j->sn_name ? img_snapshot_load_tmp(src, j->sn_id, j->sn_name)
                                   : img_snapshot_load_tmp(src, j->snapshot, NULL);
    if (r == -IMG_ENOENT && !j->sn_id && !j->sn_name) {
        r = img_snapshot_load_tmp(src, NULL, j->snapshot);
    }
    struct img_info sinfo;
    if (r < 0 && img_get_info(src, &sinfo) == 0 && sinfo.format == IMG_FMT_RAW) {
        /* QEMU's bdrv_snapshot_load_tmp() names the format that
         * lacks the callback; qemu-img's block backends have no
         * device name, hence the empty quotes. */
        error_report("Failed to load snapshot: Block format 'raw' used by device '' "
                     "does not support temporarily loading internal snapshots");
        return 1;
    }
    if (r < 0) {
        error_report("Failed to load snapshot: %s",
                     r == -IMG_ENOENT ? "Can't find snapshot" : img_msg(src, r));
        return 1;
    }
    return CONVERT_GO;
}

/* Open every source (at the -l snapshot if one is named) and add up
 * their sizes: the target is as large as all of them together. */
static int convert_open_sources(struct convert_job *j)
{
    j->srcs = calloc(j->nnames, sizeof(*j->srcs));
    for (int i = 0; i < j->nnames; i++) {
        j->srcs[i] = open_image(j->names[i], j->vc.fmt, 0);
        if (!j->srcs[i]) {
            return 1;
        }
        j->nsrc++;
        if (j->snapshot && convert_load_snapshot(j, j->srcs[i]) != CONVERT_GO) {
            return 1;
        }
        j->cv.total += img_size(j->srcs[i]);
    }
    return CONVERT_GO;
}

/* What must hold before a target is created: its protocol, its backing
 * file, the bitmaps the sources carry, and that it is no source. */
static int convert_check_target(struct convert_job *j)
{
    /* The file a new target is created as: the protocol is found first
     * (bdrv_find_protocol() in img_convert()). */
    char pmsg[640];
    if (!j->skip_create &&
        !imgspec_target(j->out_filename, j->out_path, sizeof(j->out_path), pmsg, sizeof(pmsg))) {
        error_report("%s", pmsg);
        return 1;
    }
    if (!j->skip_create && !target_backing(&j->o, j->ofmt, &j->out_base, &j->base_fmt)) {
        return 1;
    }
    if (j->nnames > 1 && j->out_base) {
        error_report("Having a backing file for the target makes no sense when concatenating "
                     "multiple input images");
        return 1;
    }
    if (j->bitmaps && !convert_bitmaps_check_source(j->srcs, j->nsrc, j->skip_broken)) {
        return 1;
    }
    /* Creating the target truncates it: never when it is a source.  QEMU
     * refuses through its image locking, with this message. */
    const char *data_file = j->skip_create ? NULL : opts_get(&j->o, "data_file");
    for (int i = 0; i < j->nnames; i++) {
        if (data_file && same_file(j->names[i], data_file)) {
            error_report("%s: error while converting %s: Failed to get \"write\" lock\n"
                         "Is another process using the image [%s]?",
                         j->final_name, j->out_fmt, data_file);
            return 1;
        }
        if (same_file(j->names[i], j->final_name)) {
            error_report("%s: error while converting %s: Failed to get \"write\" lock\n"
                         "Is another process using the image [%s]?",
                         j->final_name, j->out_fmt, j->final_name);
            return 1;
        }
    }
    return CONVERT_GO;
}

/* Create the target file (not with -n), as large as the sources. */
static int convert_create_target(struct convert_job *j)
{
    struct img_create_opts copts;
    if (!create_opts_to_img(&j->o, j->ofmt, &copts, j->out_filename)) {
        return 1;
    }
    if (j->bitmaps && !convert_bitmaps_check_target(j->ofmt, copts.compat)) {
        return 1;
    }
    copts.size = j->cv.total;
    struct img_err err = {0};
    j->out_existed = file_exists(j->final_name);
    j->data_file = copts.data_file;
    j->data_existed = j->data_file && file_exists(j->data_file);
    j->created = true;
    if (img_create_file(j->out_path, &copts, &err) < 0) {
        error_report("%s: error while converting %s: %s", j->out_filename, j->out_fmt, err.msg);
        return 1;
    }
    if (err.msg[0]) {
        error_report("warning: %s", err.msg);
    }
    return CONVERT_GO;
}

/* Open the target for writing and check that an existing one (-n) can
 * take the sources. */
static int convert_open_target(struct convert_job *j)
{
    /* A target with a backing file must open it, for copy-on-write of
     * partially written clusters; an existing target (-n) may have one
     * too, and then the source's zero areas must be written as zeroes so
     * the backing file's data does not show through (qemu-img opens the
     * target with its backing chain in both cases). */
    unsigned dflags = IMG_OPEN_RW | (j->out_base || j->skip_create ? 0 : IMG_OPEN_NO_BACKING);
    /* qemu-img convert writes its target with cache=unsafe unless -t says
     * otherwise (img_convert: cache = "unsafe"): no sync to the disk, not
     * even at the end.  The library keeps metadata ordered all the same,
     * so a killed convert still leaves a consistent image. */
    if (!j->vc.cache || !strcmp(j->vc.cache, "unsafe")) {
        dflags |= IMG_OPEN_NO_FLUSH;
    }
    j->cv.dst = open_target(j->out_filename, j->out_fmt, dflags);
    if (!j->cv.dst) {
        return 1;
    }
    if (j->bitmaps && j->skip_create) {
        struct img_info dinfo;
        if (img_get_info(j->cv.dst, &dinfo) < 0 ||
            !convert_bitmaps_check_target(dinfo.format, dinfo.qcow2_version)) {
            return 1;
        }
    }
    if (j->skip_create && img_size(j->cv.dst) < j->cv.total) {
        error_report("output file is smaller than input file");
        return 1;
    }
    return CONVERT_GO;
}

/* Settle how the copy writes (struct conv) and start the compression
 * threads for -c. */
static int convert_setup_copy(struct convert_job *j)
{
    struct conv *cv = &j->cv;
    cv->compress = j->compress;
    /* Only -B makes convert copy just the source's top layer
     * (qemu-img.c: s.target_has_backing = out_baseimg); a backing file
     * that an existing target happens to have changes nothing about what
     * is copied, the whole source is still flattened into it. */
    cv->target_has_backing = j->out_base != NULL;
    cv->target_fresh = !j->skip_create || j->target_is_zero;
    cv->backing_end = img_backing(cv->dst) ? img_size(img_backing(cv->dst)) : UINT64_MAX;
    /* -C copies the data ranges whole (no zero blocks left out of them,
     * as a host-side copy cannot look at the data); ranges the source
     * reports as zeros are still skipped, as by qemu-img -C. */
    cv->fully_allocate = j->sparse == 0 && !j->copy_offload;
    cv->sparse = j->copy_offload ? 0 : (uint64_t)j->sparse;
    cv->cluster = img_cluster_size(cv->dst);
    cv->buf = malloc(CHUNK);
    if (j->compress) {
        int nthreads = cpipe_default_threads();
        cv->pipe = cpipe_start(cv->dst, nthreads < j->max_threads ? nthreads : j->max_threads,
                               cv->cluster);
        if (!cjoin_init(&cv->join, cv->cluster, emit_clusters, cv)) {
            error_report("Out of memory");
            return 1;
        }
    }
    return CONVERT_GO;
}

/* The progress total: the bytes that will be copied (progress_step).
 * Returns 1 if a source's block status failed. */
static int convert_count_progress(struct convert_job *j)
{
    uint64_t base = 0;
    int failed = 0;
    for (int i = 0; i < j->nsrc && j->vc.progress; i++) {
        struct pf_params pp = walk_params(&j->cv, base);
        uint64_t n = 0;
        int r = prefetch_count(j->srcs[i], &pp, j->cv.fully_allocate, &n);
        if (r < 0) {
            error_report("error while reading block status at offset 0: %s",
                         img_msg(j->srcs[i], r));
            failed = 1;
        }
        j->cv.ptotal += n;
        base += img_size(j->srcs[i]);
    }
    return failed;
}

/*
 * A second handle of source i for a second reader thread, or NULL.  Worth
 * it where reading costs CPU time: a qcow2 source may hold compressed
 * clusters, and inflating them is most of the work of such a convert
 * (qemu-img inflates in its thread pool).  Not with -c (the compression
 * workers have the cores), -m 1, one core, or -l (the snapshot would have
 * to be loaded twice).
 */
static struct img *second_reader(struct convert_job *j, int i)
{
    struct img_info info;
    if (j->compress || j->snapshot || j->max_threads == 1 || cpipe_default_threads() < 2 ||
        img_get_info(j->srcs[i], &info) < 0 || info.format != IMG_FMT_QCOW2) {
        return NULL;
    }
    return reopen_image(j->names[i], j->vc.fmt);
}

/* Copy the sources one after the other, then drain the -c pipeline.
 * Returns 1 after the message on a failure. */
static int convert_copy_sources(struct convert_job *j)
{
    struct conv *cv = &j->cv;
    uint64_t base = 0;
    int failed = 0;
    for (int i = 0; i < j->nsrc && !failed; i++) {
        struct img *readers[PREFETCH_MAX_READERS] = {j->srcs[i], second_reader(j, i)};
        failed = copy_source(cv, readers, readers[1] ? 2 : 1, j->names[i], base);
        img_close(readers[1]);
        base += img_size(j->srcs[i]);
    }
    if (cv->pipe && !failed) {
        /* The last cluster of the disk may be a partial one. */
        int r = cjoin_flush(&cv->join);
        if (r < 0) {
            error_report("error while writing at byte %llu: %s", (unsigned long long)cv->join.start,
                         img_msg(cv->dst, r));
            failed = 1;
        }
    }
    if (cv->pipe) {
        uint64_t eoff = 0;
        int r = cpipe_finish(cv->pipe, &eoff);
        cv->pipe = NULL;
        if (r < 0 && !failed) {
            error_report("error while writing at byte %llu: %s", (unsigned long long)eoff,
                         img_msg(cv->dst, r));
            failed = 1;
        }
    }
    return failed;
}

/* After the data: the end of the compressed area, the bitmaps, the
 * flush, and for an ".xz" name the compression of the finished image.
 * Returns 1 after the message on a failure. */
static int convert_finish_target(struct convert_job *j)
{
    struct conv *cv = &j->cv;
    if (j->compress && !j->out_base && img_compressed_end(cv->dst) < 0) {
        error_report("error while writing at byte %llu: %s", (unsigned long long)cv->total,
                     img_strerror(cv->dst));
        return 1;
    }
    /* The bitmaps go last, after the data, so the copy sets no bits. */
    if (j->bitmaps && !convert_bitmaps_copy(j->srcs[0], cv->dst, j->skip_broken)) {
        return 1;
    }
    if (img_flush(cv->dst) < 0) {
        error_report("error while flushing %s: %s", j->out_filename, img_strerror(cv->dst));
        return 1;
    }
    progress_done();
    if (j->tmp_name[0]) {
        /* Close first so the temporary file is complete on disk. */
        int r = img_close(cv->dst);
        cv->dst = NULL;
        if (r < 0 || xz_compress_file(j->tmp_name, j->final_name, cpipe_default_threads()) < 0) {
            return 1;
        }
    }
    return 0;
}

/* Release what the run holds; a failed run (ret != 0) removes the target
 * it created, so a failed convert leaves no partial image behind. */
static int convert_cleanup(struct convert_job *j, int ret)
{
    struct conv *cv = &j->cv;
    if (j->tmp_name[0]) {
        if (cv->dst) {
            img_close(cv->dst);
            cv->dst = NULL;
        }
        remove(j->tmp_name);
    }
    if (cv->pipe) {
        cpipe_finish(cv->pipe, NULL);
    }
    if (cv->dst && img_close(cv->dst) < 0 && ret == 0) {
        error_report("error while closing %s", j->out_filename);
        ret = 1;
    }
    for (int i = 0; i < j->nsrc; i++) {
        img_close(j->srcs[i]);
    }
    if (ret != 0 && j->created) {
        remove_if_new(j->final_name, j->out_existed);
        if (j->data_file) {
            remove_if_new(j->data_file, j->data_existed);
        }
    }
    free(j->srcs);
    free(cv->buf);
    cjoin_free(&cv->join);
    opts_free(&j->o);
    free(j->options);
    free(j->sn_id);
    free(j->sn_name);
    return ret;
}

/*
 * qemu-img convert, step by step: read and check the command line, open
 * the sources, check and create the target, open it, copy, finish.  Each
 * step prints its own message and returns CONVERT_GO or the exit status.
 */
int verb_convert(int argc, char **argv)
{
    struct convert_job j = {.max_threads = 64, .sparse = 4096};
    int ret = convert_parse_options(argc, argv, &j);
    if (ret == CONVERT_GO) {
        ret = convert_check_options(argc, argv, &j);
    }
    if (ret == CONVERT_GO) {
        ret = convert_parse_snapshot_and_o(&j);
    }
    if (ret == CONVERT_GO) {
        ret = convert_open_sources(&j);
    }
    if (ret == CONVERT_GO) {
        ret = convert_check_target(&j);
    }
    if (ret == CONVERT_GO && !j.skip_create) {
        ret = convert_create_target(&j);
    }
    if (ret == CONVERT_GO) {
        ret = convert_open_target(&j);
    }
    if (ret == CONVERT_GO) {
        ret = convert_setup_copy(&j);
    }
    if (ret == CONVERT_GO) {
        progress_init(j.vc.progress, 1.0f);
        int failed = convert_count_progress(&j);
        if (!failed) {
            failed = convert_copy_sources(&j);
        }
        ret = failed ? 1 : convert_finish_target(&j);
    }
    return convert_cleanup(&j, ret);
}
