/*
 * imgtool resize: change an image's virtual size (qemu-img resize).
 *
 *   imgtool resize [-f fmt] [--preallocation=prealloc] [-q] [--shrink]
 *                  filename [+ | -]size
 *
 * As in qemu-img.c img_resize(), the size is taken from the end of the
 * command line before options are parsed, so "resize img -1G" needs no
 * "--".  Shrinking discards data past the new end, so it must be asked for
 * with --shrink; growing with a preallocation mode allocates the new area.
 */
#include "cli.h"
#include "img.h"

#include <getopt.h>
#include <string.h>

enum { OPT_PREALLOC = 256, OPT_SHRINK };

int verb_resize(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"preallocation", required_argument, 0, OPT_PREALLOC},
        {"shrink", no_argument, 0, OPT_SHRINK},
        {0, 0, 0, 0},
    };
    struct verb_common vc = {0};
    bool shrink = false;
    int prealloc = IMG_PREALLOC_OFF, c;

    /* Remove the size first, so that "-2G" is not taken as an option. */
    if (argc < 3) {
        return error_usage("Not enough arguments");
    }
    const char *size = argv[--argc];
    optind = 1;
    while ((c = verb_getopt(argc, argv, ":f:hq", longopts, VERB_OPENS, &vc)) != -1) {
        switch (c) {
        case OPT_PREALLOC:
            prealloc = img_prealloc_parse(optarg);
            if (prealloc < 0) {
                error_report("Invalid preallocation mode '%s'", optarg);
                return 1;
            }
            break;
        case OPT_SHRINK:
            shrink = true;
            break;
        default:
            return verb_other_option(c, argv, 1);
        }
    }
    if (optind != argc - 1) {
        return error_usage("Expecting image file name and size");
    }
    const char *filename = argv[optind];
    int relative = 0;
    if (size[0] == '+') {
        relative = 1, size++;
    } else if (size[0] == '-') {
        relative = -1, size++;
    }
    uint64_t n;
    if (parse_size(size, &n) < 0) {
        /* The QemuOpts message of the 'size' option. */
        error_report("Parameter 'size' expects a non-negative number below 2^64\n"
                     "Optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, "
                     "peta-\nand exabytes, respectively.");
        return 1;
    }
    struct img *img = open_image(filename, vc.fmt, IMG_OPEN_RW);
    if (!img) {
        return 1;
    }
    int64_t current = (int64_t)img_size(img), total;
    if (relative) {
        total = current + (int64_t)n * relative;
    } else {
        total = (int64_t)n;
    }
    int ret = 1;
    if (total <= 0) {
        error_report("New image size must be positive");
        goto out;
    }
    if (total < current && !shrink) {
        error_report("Use the --shrink option to perform a shrink operation.");
        error_report("warning: Shrinking an image will delete all data beyond the shrunken "
                     "image's end. Before performing such an operation, make sure there is "
                     "no important data there.");
        goto out;
    }
    if (total < current && prealloc != IMG_PREALLOC_OFF) {
        error_report("Preallocation can only be used for growing images");
        goto out;
    }
    if (img_resize(img, (uint64_t)total, prealloc, shrink) < 0) {
        report_img_error(img, NULL);
        goto out;
    }
    ret = 0;
    if (!vc.quiet) {
        printf("Image resized.\n");
    }
out:
    if (img_close(img) < 0 && ret == 0) {
        error_report("%s: could not flush the image", filename);
        ret = 1;
    }
    return ret;
}
