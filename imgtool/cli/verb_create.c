/*
 * imgtool create: make a new raw or qcow2 image (qemu-img create).
 *
 *   imgtool create [-q] [-f fmt] [-b backing_file [-F backing_fmt]] [-u]
 *                  [-o options] filename [size]
 *
 * The sequence follows qemu-img.c img_create() and block.c
 * bdrv_img_create(): check the option names and types, resolve the size
 * (from the backing file when none is given), print the "Formatting ..."
 * line, then let the library validate and write the image.  Errors are
 * prefixed by the file name ("imgtool: x.qcow2: ..."), exit status 1.
 */
#include "create_opts.h"
#include "imgspec.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

/*
 * Open the backing file as block.c bdrv_img_create() does, with its format
 * or probed, and return its size; or -1 after printing QEMU's message.
 * The order of the checks is QEMU's: a backing file that does not open is
 * reported before a missing backing format, which is reported with the
 * format the probe found.
 */
static int64_t backing_size(const char *filename, const char *backing, const char *bfmt)
{
    char *path = path_combine(filename, backing);
    struct img_err err = {0};
    struct img *b = NULL;
    int64_t size = -1;
    struct img_info info;
    if (bfmt && !fmt_known(bfmt)) {
        error_report("%s: Unknown driver '%s'\nCould not open backing image.", filename, bfmt);
    } else if (img_open_file(path, bfmt, IMG_OPEN_NO_BACKING, &b, &err) < 0) {
        error_report("%s: %s\nCould not open backing image.", filename, err.msg);
    } else if (!bfmt) {
        /* QEMU 7.2 insists on an explicit backing format (probing a
         * backing file's format is a security hazard); the hint that
         * follows has no newline in QEMU either. */
        img_get_info(b, &info);
        error_report("%s: Backing file specified without backing format", filename);
        fprintf(stderr, "Detected format of %s.", info.format == IMG_FMT_QCOW2 ? "qcow2" : "raw");
    } else {
        size = (int64_t)img_size(b);
    }
    if (b) {
        img_close(b);
    }
    free(path);
    return size;
}

/* Store a number as option `name` (the option list holds strings). */
static bool opts_set_number(struct opts *o, const char *name, int64_t value)
{
    char num[32];
    snprintf(num, sizeof(num), "%lld", (long long)value);
    return opts_set(o, name, num);
}

/*
 * Fold -b, -F and the size operand into the -o list: -b/-F override
 * backing_file/backing_fmt given with -o, while a size given both ways is
 * an error (block.c bdrv_img_create()).  A size of -1 means none was given.
 */
static bool merge_operands(struct opts *o, int format, const char *filename, const char *base,
                           const char *base_fmt, int64_t size)
{
    if ((base || base_fmt) && format == IMG_FMT_RAW) {
        error_report("%s: Backing file not supported for file format 'raw'", filename);
        return false;
    }
    if (base && !opts_set(o, "backing_file", base)) {
        return false;
    }
    if (base_fmt && !opts_set(o, "backing_fmt", base_fmt)) {
        return false;
    }
    if (size >= 0 && opts_has(o, "size")) {
        error_report("%s: The image size must be specified only once", filename);
        return false;
    }
    return size < 0 || opts_set_number(o, "size", size);
}

/*
 * Check the backing file the options name, in QEMU's order, and take the
 * image's size from it when none was given.  With -u (unsafe) nothing is
 * opened, so the backing format must be given.  Last, a size is required.
 */
static bool resolve_backing_and_size(struct opts *o, const char *filename, bool unsafe)
{
    const char *bfile = opts_get(o, "backing_file");
    const char *bfmt = opts_get(o, "backing_fmt");

    if (bfile && !strcmp(bfile, filename)) {
        error_report("%s: Error: Trying to create an image with the same filename as the "
                     "backing file",
                     filename);
        return false;
    }
    if (bfile && !bfile[0]) {
        error_report("%s: Expected backing file name, got empty string", filename);
        return false;
    }
    if (bfile && !unsafe) {
        /* The backing file must open; its size is the default size. */
        int64_t bsize = backing_size(filename, bfile, bfmt);
        if (bsize < 0 || (!opts_has(o, "size") && !opts_set_number(o, "size", bsize))) {
            return false;
        }
    } else if (bfile && !bfmt) {
        /* -u: nothing is opened, so there is no format to suggest. */
        error_report("%s: Backing file specified without backing format", filename);
        return false;
    }
    if (!opts_has(o, "size")) {
        error_report("%s: Image creation needs a size parameter", filename);
        return false;
    }
    return true;
}

/* Print "Formatting ..." unless -q, then let the library validate the
 * options and write the image at path. */
static bool write_image(struct opts *o, int format, const char *filename, const char *path,
                        bool quiet)
{
    struct img_create_opts copts;
    struct img_err err = {0};

    if (!quiet) {
        create_opts_print_formatting(o, format, filename);
    }
    if (!create_opts_to_img(o, format, &copts, filename)) {
        return false;
    }
    if (img_create_file(path, &copts, &err) < 0) {
        error_report("%s: %s", filename, err.msg);
        return false;
    }
    if (err.msg[0]) {
        /* QEMU's warn_report(): the extent size hint could not be set. */
        error_report("warning: %s", err.msg);
    }
    return true;
}

/* The operands: a file name, then optionally a size.  The size is -1 if
 * not given; false after a usage error (*ret holds the exit status). */
static bool parse_operands(int argc, char **argv, const char **filename, int64_t *size, int *ret)
{
    if (optind >= argc) {
        *ret = error_usage("Expecting image file name");
        return false;
    }
    *filename = argv[optind++];
    *size = -1;
    if (optind < argc) {
        *size = cvtnum("image size", argv[optind++]);
        if (*size < 0) {
            return false;
        }
    }
    if (optind != argc) {
        *ret = error_usage("Unexpected argument: %s", argv[optind]);
        return false;
    }
    return true;
}

int verb_create(int argc, char **argv)
{
    struct verb_common vc = {0}; /* -f is the format to create */
    const char *base = NULL, *base_fmt = NULL, *filename;
    char *options = NULL;
    bool unsafe = false;
    int c, ret = 1;
    int64_t size;
    struct opts o = {0};

    optind = 1;
    while ((c = verb_getopt(argc, argv, ":F:b:f:ho:qu", NULL, VERB_OBJECT, &vc)) != -1) {
        switch (c) {
        case 'F':
            base_fmt = optarg;
            break;
        case 'b':
            base = optarg;
            break;
        case 'o':
            if (!opts_append(&options, optarg)) {
                goto out;
            }
            break;
        case 'u':
            unsafe = true;
            break;
        default:
            ret = verb_other_option(c, argv, 1);
            goto out;
        }
    }
    /* "-o help" comes before the operands are checked, as in qemu-img's
     * img_create(): it needs no file name, and with one it also lists the
     * file protocol's options. */
    if (options && opts_is_help(options)) {
        int hfmt = target_format(vc.fmt ? vc.fmt : "raw", NULL);
        if (hfmt >= 0) {
            create_opts_help(hfmt, optind < argc ? argv[optind] : NULL);
            ret = 0;
        }
        goto out;
    }
    if (!parse_operands(argc, argv, &filename, &size, &ret)) {
        goto out;
    }
    int format = target_format(vc.fmt ? vc.fmt : "raw", filename);
    if (format < 0) {
        goto out;
    }
    /* The protocol comes right after the format (bdrv_img_create()):
     * "file:" names the file after it, other prefixes are unknown. */
    char path[4096], pmsg[640];
    if (!imgspec_target(filename, path, sizeof(path), pmsg, sizeof(pmsg))) {
        error_report("%s: %s", filename, pmsg);
        goto out;
    }
    if ((options && !opts_parse(&o, options)) || !create_opts_check(&o, format, filename) ||
        !merge_operands(&o, format, filename, base, base_fmt, size) ||
        !resolve_backing_and_size(&o, filename, unsafe) ||
        !write_image(&o, format, filename, path, vc.quiet)) {
        goto out;
    }
    ret = 0;
out:
    opts_free(&o);
    free(options);
    return ret;
}
