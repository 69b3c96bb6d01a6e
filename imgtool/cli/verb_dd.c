/*
 * imgtool dd: copy with dd(1)-style operands (qemu-img dd).
 *
 *   imgtool dd [-U] [-f fmt] [-O output_fmt] [bs=block_size] [count=blocks]
 *              [skip=blocks] if=input of=output
 *
 * As qemu-img.c img_dd(): the output is created with the size that is
 * left after applying count (a limit on the input size) and skip (the
 * input start offset, bs-sized blocks), then copied block by block.
 */
#include "cli.h"
#include "imgspec.h"
#include "create_opts.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

int verb_dd(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", no_argument, 0, 'h'},
        {"object", required_argument, 0, OPT_COMMON_OBJECT},
        {"image-opts", no_argument, 0, OPT_COMMON_IMAGE_OPTS},
        {"force-share", no_argument, 0, 'U'},
        {0, 0, 0, 0},
    };
    struct verb_common vc = {0};
    const char *out_fmt = "raw", *in_name = NULL, *out_name = NULL;
    int64_t bs = 512, count = -1, skip = 0;
    int c, ret = 1;

    optind = 1;
    while ((c = verb_getopt(argc, argv, ":hf:O:U", longopts, &vc)) != -1) {
        switch (c) {
        case 'O':
            out_fmt = optarg;
            break;
        default:
            return verb_other_option(c, argv, 1);
        }
    }
    for (int i = optind; i < argc; i++) {
        const char *arg = argv[i], *eq = strchr(arg, '=');
        size_t klen = eq ? (size_t)(eq - arg) : strlen(arg);
        const char *v = eq ? eq + 1 : "";
        if (klen == 2 && !strncmp(arg, "bs", 2)) {
            /* qemu-img: cvtnum_full("bs", arg, 1, INT_MAX). */
            bs = cvtnum_full("bs", v, 1, 0x7fffffff);
            if (bs < 0) {
                return 1;
            }
        } else if (klen == 5 && !strncmp(arg, "count", 5)) {
            if ((count = cvtnum("count", v)) < 0) {
                return 1;
            }
        } else if (klen == 4 && !strncmp(arg, "skip", 4)) {
            if ((skip = cvtnum("skip", v)) < 0) {
                return 1;
            }
        } else if (klen == 2 && !strncmp(arg, "if", 2)) {
            in_name = v;
        } else if (klen == 2 && !strncmp(arg, "of", 2)) {
            out_name = v;
        } else {
            /* qemu-img names the operand without its value. */
            error_report("unrecognized operand %.*s", (int)klen, arg);
            return 1;
        }
    }
    if (!in_name || !out_name) {
        error_report("Must specify both input and output files");
        return 1;
    }
    int out_format = target_format(out_fmt, NULL);
    if (out_format < 0) {
        return 1;
    }
    if (same_file(in_name, out_name)) {
        /* QEMU's image locking refuses this; so do we, before truncating. */
        error_report("%s: error while creating output image: Failed to get \"write\" lock\n"
                     "Is another process using the image [%s]?",
                     out_name, out_name);
        return 1;
    }
    bool created = false, out_existed = false;
    struct img *in = open_image(in_name, vc.fmt, 0), *out = NULL;
    unsigned char *buf = NULL;
    if (!in) {
        return 1;
    }
    uint64_t size = img_size(in), in_pos;
    if (count >= 0 && (uint64_t)count <= INT64_MAX / (uint64_t)bs &&
        size > (uint64_t)count * (uint64_t)bs) {
        size = (uint64_t)count * (uint64_t)bs;
    }
    if ((uint64_t)skip > INT64_MAX / (uint64_t)bs || size < (uint64_t)skip * (uint64_t)bs) {
        /* Like dd(1): an empty output, with a warning. */
        error_report("%s: cannot skip to specified offset", in_name);
        in_pos = size;
    } else {
        in_pos = (uint64_t)skip * (uint64_t)bs;
    }
    struct img_create_opts o;
    img_create_opts_init(&o);
    o.format = out_format;
    o.size = size - in_pos;
    struct img_err err = {0};
    char path[4096];
    if (!imgspec_target(out_name, path, sizeof(path), err.msg, sizeof(err.msg))) {
        error_report("%s", err.msg);
        goto out;
    }
    out_existed = file_exists(out_name);
    created = true;
    if (img_create_file(path, &o, &err) < 0) {
        error_report("%s: error while creating output image: %s", out_name, err.msg);
        goto out;
    }
    out = open_target(out_name, out_fmt, IMG_OPEN_RW | IMG_OPEN_NO_BACKING);
    if (!out) {
        goto out;
    }
    buf = malloc((size_t)bs);
    for (uint64_t out_pos = 0; in_pos < size;) {
        size_t n = size - in_pos < (uint64_t)bs ? (size_t)(size - in_pos) : (size_t)bs;
        int r = img_read(in, in_pos, buf, n);
        if (r < 0) {
            error_report("error while reading from input image file: %s", img_msg(in, r));
            goto out;
        }
        r = img_write(out, out_pos, buf, n);
        if (r < 0) {
            error_report("error while writing to output image file: %s", img_msg(out, r));
            goto out;
        }
        in_pos += n;
        out_pos += n;
    }
    ret = 0;
out:
    free(buf);
    if (out && img_close(out) < 0 && ret == 0) {
        ret = 1;
    }
    img_close(in);
    if (ret != 0 && created) {
        /* A failed dd leaves no partial image behind. */
        remove_if_new(out_name, out_existed);
    }
    return ret;
}
