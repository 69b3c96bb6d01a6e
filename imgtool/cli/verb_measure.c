/*
 * imgtool measure: how big would a new image be (qemu-img measure)?
 *
 *   imgtool measure [--output=ofmt] [-O output_fmt] [-o options]
 *                   [--size N | [-f fmt] filename]
 *
 * "required size" is what the image needs for the data it would hold now
 * (metadata plus allocated clusters), "fully allocated size" what it needs
 * once every cluster is written.  The data counted from a source image is
 * QEMU's qcow2_measure() rule: every target-sized cluster that holds any
 * allocated non-zero data counts whole.  The metadata arithmetic is the
 * library's img_measure().  A raw target needs exactly the virtual size.
 */
#include "cli.h"
#include "create_opts.h"
#include "json.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_SIZE = 256 };

/* Bytes of allocated data in the source, rounded to whole clusters. */
static int allocated_bytes(struct img *src, uint64_t cluster, uint64_t *out)
{
    uint64_t size = img_size(src), total = 0;
    for (uint64_t off = 0; off < size;) {
        struct img_extent e;
        if (img_block_status(src, off, size - off, true, &e) < 0) {
            return -1;
        }
        uint64_t pnum = e.length ? e.length : size - off;
        if (e.flags & IMG_BS_ZERO) {
            /* zero regions need no data clusters */
        } else if (e.flags & IMG_BS_DATA) {
            /* Extend to the end of the cluster and count what was seen. */
            pnum = (off + pnum + cluster - 1) / cluster * cluster - off;
            total += off % cluster + pnum;
        }
        off += pnum;
    }
    *out = total;
    return 0;
}

/*
 * qcow2_measure() reads the option values itself, with messages of its own
 * and in its own order: the cluster size (and extended L2's minimum, in
 * the library), the version, the preallocation mode; it never looks at
 * compression_type, so any value is accepted.  Returns false after the
 * message.
 */
static bool measure_qcow2_values(struct opts *o)
{
    const char *v = opts_get(o, "cluster_size");
    uint64_t cs = 65536;
    if (v) {
        parse_size(v, &cs);
    }
    if (cs < 512 || cs > (2u << 20) || (cs & (cs - 1))) {
        error_report("Cluster size must be a power of two between 512 and 2048k");
        return false;
    }
    v = opts_get(o, "extended_l2");
    if (v && parse_bool(v) == 1 && cs < 16384) {
        error_report("Extended L2 entries are only supported with cluster sizes of at least "
                     "16384 bytes");
        return false;
    }
    /* qcow2_opt_get_version_del() knows only the numeric spellings. */
    v = opts_get(o, "compat");
    if (v && strcmp(v, "0.10") && strcmp(v, "1.1")) {
        error_report("Invalid compatibility level: '%s'", v);
        return false;
    }
    v = opts_get(o, "preallocation");
    if (v && img_prealloc_parse(v) < 0) {
        error_report("invalid parameter value: %s", v);
        return false;
    }
    return opts_set(o, "compression_type", "zlib");
}

/*
 * Room the source's persistent bitmaps take in a target with clusters of
 * cs bytes, as qcow2_measure counts it: each bitmap's data as if all of
 * it were allocated, plus its bitmap table, plus the bitmap directory
 * (24 bytes and the name per entry, 8-byte aligned), each rounded up to
 * whole clusters (spec, "Bitmap directory", "Bitmap table").
 */
static uint64_t bitmaps_size(struct img *src, uint64_t cs)
{
    uint64_t total = 0, dir = 0, size = img_size(src);
    int n = img_bitmap_count(src);
    for (int i = 0; i < n; i++) {
        struct img_bitmap_info b;
        if (img_bitmap_get(src, i, &b) < 0) {
            continue;
        }
        uint64_t bits = (size + b.granularity - 1) / b.granularity;
        uint64_t clusters = ((bits + 7) / 8 + cs - 1) / cs;
        total += clusters * cs + (clusters * 8 + cs - 1) / cs * cs;
        dir += (24 + strlen(b.name) + 7) & ~7ull;
    }
    return total + (dir + cs - 1) / cs * cs;
}

/* What qemu-img measure prints, as text or as BlockMeasureInfo JSON. */
struct measure_result {
    uint64_t required, fully_allocated;
    bool has_bitmaps; /* print the bitmaps size (see measure_bitmaps()) */
    uint64_t bitmaps;
};

/*
 * The target's options (-O and -o) as qemu-img measure checks them, turned
 * into creation options.  Returns false after the message.
 */
static bool target_options(const char *options, const char *out_fmt, int tfmt, struct opts *o,
                           struct img_create_opts *copts)
{
    if (options && (!opts_parse(o, options) || !create_opts_check(o, tfmt, NULL))) {
        /* qemu-img.c img_measure() adds a line naming the format. */
        error_report("Invalid options for file format '%s'", out_fmt);
        return false;
    }
    if (tfmt == IMG_FMT_QCOW2 && !measure_qcow2_values(o)) {
        return false;
    }
    /* raw_measure() ignores the preallocation mode, whatever its value:
     * a raw image needs its whole size either way. */
    if (tfmt == IMG_FMT_RAW && !opts_set(o, "preallocation", "off")) {
        return false;
    }
    return create_opts_to_img(o, tfmt, copts, out_fmt);
}

/*
 * The required and fully allocated sizes of a target of copts->size bytes:
 * a raw target needs exactly its size; a qcow2 target its metadata
 * (img_measure()) plus, measured from a source, the clusters that source
 * holds data in.
 */
static bool measure_sizes(struct img *src, int tfmt, const struct img_create_opts *copts,
                          struct measure_result *res)
{
    uint64_t allocated = 0;
    struct img_err err = {0};

    if (tfmt == IMG_FMT_RAW) {
        res->required = res->fully_allocated = copts->size;
        return true;
    }
    uint32_t cluster_size = copts->cluster_size ? copts->cluster_size : 65536;
    if (src && allocated_bytes(src, cluster_size, &allocated) < 0) {
        error_report("Unable to get block status: %s", img_strerror(src));
        return false;
    }
    if (img_measure(copts, allocated, &res->required, &res->fully_allocated, &err) < 0) {
        error_report("%s", err.msg);
        return false;
    }
    return true;
}

/*
 * BlockMeasureInfo has "bitmaps" only for a qcow2 v3 target measured from
 * a source that can hold persistent bitmaps, i.e. a qcow2 one
 * (block/qcow2.c qcow2_measure: version >= 3 &&
 * bdrv_supports_persistent_dirty_bitmap(in_bs)).
 */
static void measure_bitmaps(struct img *src, int tfmt, const struct img_create_opts *copts,
                            struct measure_result *res)
{
    struct img_info src_info;

    res->has_bitmaps = src && tfmt == IMG_FMT_QCOW2 && copts->compat != 2 &&
                       img_get_info(src, &src_info) == 0 && src_info.format == IMG_FMT_QCOW2;
    res->bitmaps =
        res->has_bitmaps ? bitmaps_size(src, copts->cluster_size ? copts->cluster_size : 65536) : 0;
}

static void print_measure(int ofmt, const struct measure_result *res)
{
    if (ofmt == OFMT_JSON) {
        struct jv *j = jv_obj();
        jv_set(j, "required", jv_uint(res->required));
        jv_set(j, "fully-allocated", jv_uint(res->fully_allocated));
        if (res->has_bitmaps) {
            jv_set(j, "bitmaps", jv_uint(res->bitmaps));
        }
        jv_print(stdout, j, true);
        printf("\n");
        jv_free(j);
    } else {
        printf("required size: %llu\n", (unsigned long long)res->required);
        printf("fully allocated size: %llu\n", (unsigned long long)res->fully_allocated);
        if (res->has_bitmaps) {
            printf("bitmaps size: %llu\n", (unsigned long long)res->bitmaps);
        }
    }
}

/* Exactly one of --size and a file name, in qemu-img's words; the file
 * name or NULL in *filename.  False after the message. */
static bool measure_operands(int argc, char **argv, int64_t size, const char **filename)
{
    if (argc - optind > 1) {
        error_report("At most one filename argument is allowed.");
        return false;
    }
    *filename = optind < argc ? argv[optind] : NULL;
    if (size != -1 && *filename) {
        error_report("--size N cannot be used together with a filename.");
        return false;
    }
    if (size == -1 && !*filename) {
        error_report("Either --size N or one filename must be specified.");
        return false;
    }
    return true;
}

int verb_measure(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"size", required_argument, 0, OPT_SIZE},
        {0, 0, 0, 0},
    };
    struct verb_common vc = {0};
    const char *out_fmt = "raw", *filename;
    char *options = NULL;
    int64_t size = -1;
    int c, ret = 1;
    struct opts o = {0};
    struct img *src = NULL;
    struct img_create_opts copts;
    struct measure_result res;

    optind = 1;
    while ((c = verb_getopt(argc, argv, ":hf:O:o:l:U", longopts, VERB_OPENS_SHARE | VERB_OUTPUT,
                            &vc)) != -1) {
        switch (c) {
        case 'O':
            out_fmt = optarg;
            break;
        case 'o':
            if (!opts_append(&options, optarg)) {
                goto out;
            }
            break;
        case 'l':
            error_report("Measuring an internal snapshot (-l) is not supported by imgtool");
            goto out;
        case OPT_SIZE:
            size = cvtnum("image size", optarg);
            if (size < 0) {
                goto out;
            }
            break;
        default:
            ret = verb_other_option(c, argv, 1);
            goto out;
        }
    }
    if (!measure_operands(argc, argv, size, &filename)) {
        goto out;
    }
    int ofmt = parse_output_format(vc.output, false);
    int tfmt = ofmt < 0 ? -1 : target_format(out_fmt, NULL);
    if (tfmt < 0 || !target_options(options, out_fmt, tfmt, &o, &copts)) {
        goto out;
    }
    if (filename) {
        src = open_image(filename, vc.fmt, 0);
        if (!src) {
            goto out;
        }
        size = (int64_t)img_size(src);
    }
    copts.size = (uint64_t)size;
    if (!measure_sizes(src, tfmt, &copts, &res)) {
        goto out;
    }
    measure_bitmaps(src, tfmt, &copts, &res);
    print_measure(ofmt, &res);
    ret = 0;
out:
    if (src) {
        img_close(src);
    }
    opts_free(&o);
    free(options);
    return ret;
}
