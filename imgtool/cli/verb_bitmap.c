/*
 * imgtool bitmap: change the persistent dirty bitmaps of a qcow2 image
 * (qemu-img bitmap).
 *
 *   imgtool bitmap (--merge SOURCE | --add | --remove | --clear | --enable |
 *       --disable)... [-b source_file [-F source_fmt]] [-g granularity]
 *       [--object objectdef] [--image-opts | -f fmt] filename bitmap
 *
 * The actions run in the order given, on the one bitmap named last; the
 * first one that fails stops the command (what came before it stays done,
 * as in qemu-img.c img_bitmap()).  --add makes an enabled bitmap, or a
 * disabled one if --disable appears anywhere; --merge SOURCE sets every bit
 * that bitmap SOURCE has set, SOURCE being in the image itself or in the
 * image given by -b.  The library keeps the changes in memory and stores
 * them when the image is closed (lib/qcow2_bitmap.c).
 */
#include "cli.h"
#include "img.h"

#include <getopt.h>
#include <stdlib.h>

enum {
    OPT_OBJECT = 256,
    OPT_IMAGE_OPTS,
    OPT_ADD,
    OPT_REMOVE,
    OPT_CLEAR,
    OPT_ENABLE,
    OPT_DISABLE,
    OPT_MERGE,
};

#define MAX_ACTIONS 64

struct action {
    int op;          /* OPT_ADD .. OPT_MERGE */
    const char *src; /* --merge's source bitmap */
};

/* The operation's name in "Operation %s on bitmap %s failed". */
static const char *op_name(int op)
{
    switch (op) {
    case OPT_ADD:
        return "add";
    case OPT_REMOVE:
        return "remove";
    case OPT_CLEAR:
        return "clear";
    case OPT_ENABLE:
        return "enable";
    case OPT_DISABLE:
        return "disable";
    default:
        return "merge";
    }
}

/* The options' rules, in qemu-img's order; 0 or 1 after the message. */
static int check_usage(int nact, bool add, bool merge, int64_t gran, const char *src_file,
                       const char *src_fmt, int argc)
{
    if (nact == 0) {
        error_report("Need at least one of --add, --remove, --clear, --enable, --disable, or "
                     "--merge");
        return 1;
    }
    if (gran && !add) {
        error_report("granularity only supported with --add");
        return 1;
    }
    if (src_fmt && !src_file) {
        error_report("-F only supported with -b");
        return 1;
    }
    if (src_file && !merge) {
        error_report("Merge bitmap source file only supported with --merge");
        return 1;
    }
    if (optind != argc - 2) {
        error_report("Expecting filename and bitmap name");
        return 1;
    }
    return 0;
}

/* Run one action; on failure print qemu-img's message and return 1. */
static int run_action(struct img *img, struct img *src, const struct action *a, const char *bitmap,
                      int64_t gran, bool add_disabled)
{
    int r;
    switch (a->op) {
    case OPT_ADD:
        /* qemu-img passes -g on as a 32-bit number. */
        r = img_bitmap_add(img, bitmap, gran ? (uint32_t)gran : img_bitmap_default_granularity(img),
                           !add_disabled);
        break;
    case OPT_REMOVE:
        r = img_bitmap_remove(img, bitmap);
        break;
    case OPT_CLEAR:
        r = img_bitmap_clear(img, bitmap);
        break;
    case OPT_ENABLE:
    case OPT_DISABLE:
        r = img_bitmap_enable(img, bitmap, a->op == OPT_ENABLE);
        break;
    default:
        r = img_bitmap_merge(img, bitmap, src, a->src);
        break;
    }
    if (r < 0) {
        error_report("Operation %s on bitmap %s failed: %s", op_name(a->op), bitmap,
                     img_msg(img, r));
        return 1;
    }
    return 0;
}

int verb_bitmap(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"object", required_argument, 0, OPT_OBJECT},
        {"image-opts", no_argument, 0, OPT_IMAGE_OPTS},
        {"add", no_argument, 0, OPT_ADD},
        {"remove", no_argument, 0, OPT_REMOVE},
        {"clear", no_argument, 0, OPT_CLEAR},
        {"enable", no_argument, 0, OPT_ENABLE},
        {"disable", no_argument, 0, OPT_DISABLE},
        {"merge", required_argument, 0, OPT_MERGE},
        {"granularity", required_argument, 0, 'g'},
        {"source-file", required_argument, 0, 'b'},
        {"source-format", required_argument, 0, 'F'},
        {0, 0, 0, 0},
    };
    struct verb_common vc = {0};
    struct action acts[MAX_ACTIONS];
    const char *src_file = NULL, *src_fmt = NULL;
    bool add = false, merge = false, add_disabled = false;
    int64_t gran = 0;
    int nact = 0, c;

    optind = 1;
    while ((c = verb_getopt(argc, argv, ":b:f:F:g:h", longopts, 0, &vc)) != -1) {
        switch (c) {
        case 'b':
            src_file = optarg;
            break;
        case 'F':
            src_fmt = optarg;
            break;
        case 'g':
            gran = cvtnum("granularity", optarg);
            if (gran < 0) {
                return 1;
            }
            break;
        case OPT_ADD:
        case OPT_REMOVE:
        case OPT_CLEAR:
        case OPT_ENABLE:
        case OPT_DISABLE:
        case OPT_MERGE:
            if (nact == MAX_ACTIONS) {
                error_report("Too many bitmap actions (at most %d)", MAX_ACTIONS);
                return 1;
            }
            acts[nact].op = c;
            acts[nact].src = c == OPT_MERGE ? optarg : NULL;
            nact++;
            add = add || c == OPT_ADD;
            merge = merge || c == OPT_MERGE;
            add_disabled = add_disabled || c == OPT_DISABLE;
            break;
        default:
            return verb_other_option(c, argv, 1);
        }
    }
    if (check_usage(nact, add, merge, gran, src_file, src_fmt, argc)) {
        return 1;
    }
    const char *filename = argv[optind], *bitmap = argv[optind + 1];
    /* Bitmaps live in this image alone: no backing chain is opened. */
    struct img *img = open_image(filename, vc.fmt, IMG_OPEN_RW | IMG_OPEN_NO_BACKING);
    if (!img) {
        return 1;
    }
    struct img *src = img;
    if (src_file) {
        src = open_image(src_file, src_fmt, IMG_OPEN_NO_BACKING);
        if (!src) {
            img_close(img);
            return 1;
        }
    }
    int ret = 0;
    for (int i = 0; i < nact && ret == 0; i++) {
        ret = run_action(img, src, &acts[i], bitmap, gran, add_disabled);
    }
    if (src != img) {
        img_close(src);
    }
    /* Closing stores the bitmaps, even after a failed action. */
    if (img_close(img) < 0 && ret == 0) {
        error_report("Could not store the bitmaps of '%s'", filename);
        ret = 1;
    }
    return ret;
}
