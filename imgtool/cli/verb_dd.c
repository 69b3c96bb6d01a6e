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

/* The dd(1)-style operands: block size, counts in blocks, file names. */
struct dd_operands {
    int64_t bs, count, skip; /* count -1: the whole input */
    const char *in_name, *out_name;
};

/* Parse "key=value" operands as qemu-img.c img_dd() does.  False after the
 * message. */
static bool parse_dd_operands(int argc, char **argv, struct dd_operands *ops)
{
    for (int i = optind; i < argc; i++) {
        const char *arg = argv[i], *eq = strchr(arg, '=');
        size_t key_len = eq ? (size_t)(eq - arg) : strlen(arg);
        const char *value = eq ? eq + 1 : "";
        if (key_len == 2 && !strncmp(arg, "bs", 2)) {
            /* qemu-img: cvtnum_full("bs", arg, 1, INT_MAX). */
            if ((ops->bs = cvtnum_full("bs", value, 1, 0x7fffffff)) < 0) {
                return false;
            }
        } else if (key_len == 5 && !strncmp(arg, "count", 5)) {
            if ((ops->count = cvtnum("count", value)) < 0) {
                return false;
            }
        } else if (key_len == 4 && !strncmp(arg, "skip", 4)) {
            if ((ops->skip = cvtnum("skip", value)) < 0) {
                return false;
            }
        } else if (key_len == 2 && !strncmp(arg, "if", 2)) {
            ops->in_name = value;
        } else if (key_len == 2 && !strncmp(arg, "of", 2)) {
            ops->out_name = value;
        } else {
            /* qemu-img names the operand without its value. */
            error_report("unrecognized operand %.*s", (int)key_len, arg);
            return false;
        }
    }
    if (!ops->in_name || !ops->out_name) {
        error_report("Must specify both input and output files");
        return false;
    }
    return true;
}

/*
 * The input range to copy, [*in_start, *in_end): count limits the input's
 * size and skip moves its start, both in bs-sized blocks.  Skipping past
 * the end gives an empty output with a warning, like dd(1).
 */
static void dd_input_range(const struct dd_operands *ops, struct img *in, uint64_t *in_start,
                           uint64_t *in_end)
{
    uint64_t bs = (uint64_t)ops->bs, size = img_size(in);

    if (ops->count >= 0 && (uint64_t)ops->count <= INT64_MAX / bs &&
        size > (uint64_t)ops->count * bs) {
        size = (uint64_t)ops->count * bs;
    }
    if ((uint64_t)ops->skip > INT64_MAX / bs || size < (uint64_t)ops->skip * bs) {
        error_report("%s: cannot skip to specified offset", ops->in_name);
        *in_start = size;
    } else {
        *in_start = (uint64_t)ops->skip * bs;
    }
    *in_end = size;
}

/* Copy [in_pos, in_end) of the input to the start of the output, one
 * block at a time. */
static int dd_copy(struct img *in, struct img *out, uint64_t in_pos, uint64_t in_end, int64_t bs)
{
    unsigned char *buf = malloc((size_t)bs);
    int ret = -1;

    for (uint64_t out_pos = 0; in_pos < in_end;) {
        size_t n = in_end - in_pos < (uint64_t)bs ? (size_t)(in_end - in_pos) : (size_t)bs;
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
    return ret;
}

int verb_dd(int argc, char **argv)
{
    struct verb_common vc = {0};
    const char *out_fmt = "raw";
    struct dd_operands ops = {.bs = 512, .count = -1, .skip = 0};
    int c, ret = 1;

    optind = 1;
    while ((c = verb_getopt(argc, argv, ":hf:O:U", NULL, VERB_OPENS_SHARE, &vc)) != -1) {
        switch (c) {
        case 'O':
            out_fmt = optarg;
            break;
        default:
            return verb_other_option(c, argv, 1);
        }
    }
    if (!parse_dd_operands(argc, argv, &ops)) {
        return 1;
    }
    int out_format = target_format(out_fmt, NULL);
    if (out_format < 0) {
        return 1;
    }
    if (same_file(ops.in_name, ops.out_name)) {
        /* QEMU's image locking refuses this; so do we, before truncating. */
        error_report("%s: error while creating output image: Failed to get \"write\" lock\n"
                     "Is another process using the image [%s]?",
                     ops.out_name, ops.out_name);
        return 1;
    }
    bool created = false, out_existed = false;
    struct img *in = open_image(ops.in_name, vc.fmt, 0), *out = NULL;
    if (!in) {
        return 1;
    }
    uint64_t in_start, in_end;
    dd_input_range(&ops, in, &in_start, &in_end);
    /* The output is created with the size that is left to copy. */
    struct img_create_opts o;
    img_create_opts_init(&o);
    o.format = out_format;
    o.size = in_end - in_start;
    struct img_err err = {0};
    char path[4096];
    if (!imgspec_target(ops.out_name, path, sizeof(path), err.msg, sizeof(err.msg))) {
        error_report("%s", err.msg);
        goto out;
    }
    out_existed = file_exists(ops.out_name);
    created = true;
    if (img_create_file(path, &o, &err) < 0) {
        error_report("%s: error while creating output image: %s", ops.out_name, err.msg);
        goto out;
    }
    out = open_target(ops.out_name, out_fmt, IMG_OPEN_RW | IMG_OPEN_NO_BACKING);
    if (!out || dd_copy(in, out, in_start, in_end, ops.bs) < 0) {
        goto out;
    }
    ret = 0;
out:
    if (out && img_close(out) < 0 && ret == 0) {
        ret = 1;
    }
    img_close(in);
    if (ret != 0 && created) {
        /* A failed dd leaves no partial image behind. */
        remove_if_new(ops.out_name, out_existed);
    }
    return ret;
}
