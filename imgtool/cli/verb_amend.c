/*
 * imgtool amend: change qcow2 options of an existing image (qemu-img amend).
 *
 *   imgtool amend [-p] [-q] [-f fmt] [--force] -o options filename
 *
 * compat (up- or downgrade), lazy_refcounts and backing_file/backing_fmt
 * can change in place (img_amend); size goes through resize.  Options
 * that fix the layout (cluster_size, compression_type,
 * extended_l2, preallocation) are creation-only, as in QEMU 7.2's
 * qcow2_amend_options().
 */
#include "cli.h"
#include "create_opts.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_FORCE = 256 };

/* qemu-img.c print_amend_option_help(): only qcow2 has amend options. */
static int amend_help(const char *fmt)
{
    if (!fmt_known(fmt)) {
        error_report("Unknown file format '%s'", fmt);
        return 1;
    }
    if (strcmp(fmt, "qcow2")) {
        error_report("Format driver '%s' does not support option amendment", fmt);
        return 1;
    }
    create_opts_amend_help();
    return 0;
}

/*
 * Refuse the -o options amend cannot change, with QEMU's messages and in
 * its order: the file protocol's options, the external data file options,
 * the options' names and values (create_opts_check()), then the options that
 * fix the layout and exist only at creation (qcow2_amend_options()).
 */
static bool amend_options_allowed(struct opts *o, const char *filename, const struct img_info *info)
{
    /* The file protocol's creation options are no amend options at all. */
    static const char *const file_only[] = {"nocow", "extent_size_hint"};
    for (size_t i = 0; i < KARRAY_SIZE_CLI(file_only); i++) {
        if (opts_has(o, file_only[i])) {
            error_report("Invalid parameter '%s'", file_only[i]);
            return false;
        }
    }
    /* An external data file (qcow2.txt "Header", incompatible bit 2) can
     * be renamed and its raw flag cleared, but neither can be added:
     * QEMU's qcow2_amend_options() refuses them for an image without. */
    const char *data_file_raw = opts_get(o, "data_file_raw");
    if (opts_has(o, "data_file") && !info->has_data_file) {
        error_report("data-file can only be set for images that use an external data file");
        return false;
    }
    if (data_file_raw && parse_bool(data_file_raw) == 1 && !info->data_file_raw) {
        error_report("data-file-raw cannot be set on existing images");
        return false;
    }
    if (!create_opts_check(o, IMG_FMT_QCOW2, filename)) {
        return false;
    }
    static const char *const creation_only[] = {"cluster_size", "preallocation", "compression_type",
                                                "extended_l2"};
    for (size_t i = 0; i < KARRAY_SIZE_CLI(creation_only); i++) {
        if (opts_has(o, creation_only[i])) {
            error_report("Invalid parameter '%s'\nThis option is only supported for image "
                         "creation",
                         creation_only[i]);
            return false;
        }
    }
    return true;
}

/*
 * Apply the checked options: img_amend() for compat, lazy_refcounts,
 * refcount_bits, the backing file and the data file, then a resize for size.  Fields not
 * given keep the image's values (img_amend() ignores 0 and NULL).
 */
static bool amend_image(struct img *img, struct opts *o, const struct img_info *info,
                        const char *filename)
{
    struct img_create_opts copts;

    if (!create_opts_to_img(o, IMG_FMT_QCOW2, &copts, filename)) {
        return false;
    }
    if (!opts_has(o, "compat")) {
        copts.compat = 0;
    }
    if (!opts_has(o, "lazy_refcounts")) {
        copts.lazy_refcounts = info->lazy_refcounts;
    }
    /* data_file (a new name; "" drops it) is a change only when given;
     * data_file_raw is the wanted state, like lazy_refcounts. */
    if (!opts_has(o, "data_file_raw")) {
        copts.data_file_raw = info->data_file_raw;
    }
    /* refcount_bits: only a given value is a change (0 keeps the width). */
    if (!opts_has(o, "refcount_bits")) {
        copts.refcount_bits = 0;
    } else if (copts.refcount_bits == 0) {
        copts.refcount_bits = -1; /* "refcount_bits=0" is invalid, not "keep" */
    }
    copts.cluster_size = 0;
    if (img_amend(img, &copts) < 0) {
        report_img_error(img, NULL);
        return false;
    }
    /* Shrinking through amend is allowed, as in QEMU. */
    if (opts_has(o, "size") && copts.size != img_size(img) &&
        img_resize(img, copts.size, IMG_PREALLOC_OFF, true) < 0) {
        report_img_error(img, NULL);
        return false;
    }
    return true;
}

int verb_amend(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"force", no_argument, 0, OPT_FORCE},
        {0, 0, 0, 0},
    };
    struct verb_common vc = {0};
    char *options = NULL;
    int c, ret = 1;
    struct opts o = {0};
    struct img *img = NULL;

    optind = 1;
    while ((c = verb_getopt(argc, argv, ":ho:f:t:pq", longopts, VERB_OPENS, &vc)) != -1) {
        switch (c) {
        case 'o':
            if (!opts_append(&options, optarg)) {
                goto out;
            }
            break;
        case OPT_FORCE:
            /* -p, -q and --force change nothing imgtool does. */
            break;
        default:
            ret = verb_other_option(c, argv, 1);
            goto out;
        }
    }
    if (!options) {
        ret = error_usage("Must specify options (-o)");
        goto out;
    }
    /* With -f, "-o help" needs no image (qemu-img.c img_amend()). */
    if (vc.fmt && opts_is_help(options)) {
        ret = amend_help(vc.fmt);
        goto out;
    }
    if (optind != argc - 1) {
        error_report("Expecting one image file name");
        goto out;
    }
    const char *filename = argv[optind];
    img = open_image(filename, vc.fmt, IMG_OPEN_RW);
    if (!img) {
        goto out;
    }
    struct img_info info;
    img_get_info(img, &info);
    if (opts_is_help(options)) {
        /* The probed format's help, after the image opened. */
        ret = amend_help(info.format == IMG_FMT_QCOW2 ? "qcow2" : "raw");
        goto out;
    }
    if (info.format != IMG_FMT_QCOW2) {
        error_report("Format driver 'raw' does not support option amendment");
        goto out;
    }
    if (!opts_parse(&o, options) || !amend_options_allowed(&o, filename, &info) ||
        !amend_image(img, &o, &info, filename)) {
        goto out;
    }
    ret = 0;
out:
    if (img && img_close(img) < 0 && ret == 0) {
        error_report("%s: could not flush the image", argv[argc - 1]);
        ret = 1;
    }
    opts_free(&o);
    free(options);
    return ret;
}
