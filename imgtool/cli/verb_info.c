/*
 * imgtool info: describe an image (qemu-img info).
 *
 *   imgtool info [-f fmt] [--output=human|json|dot] [--backing-chain] [-U] filename
 *
 * Like qemu-img, info opens the image without its backing file and, with
 * --backing-chain, walks the chain itself: each backing file is opened by
 * its resolved name with the recorded backing format, and a name seen
 * twice is an infinite loop (qemu-img.c collect_image_info_list()).
 * --output=dot (imgtool only) draws the chain as a Graphviz graph.
 */
#include "cli.h"
#include "info_build.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_CHAIN = 256 };

/* Escape a label for a double-quoted Graphviz string. */
static void dot_quoted(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') {
            putchar('\\');
        }
        putchar(*s);
    }
    putchar('"');
}

/* The chain as a Graphviz digraph: one box per image, top first, with an
 * edge to its backing file labelled with the recorded format. */
static void dump_dot(struct jv *list)
{
    int i = 0;
    printf("digraph backing_chain {\n    rankdir=LR;\n    node [shape=box, "
           "fontname=\"monospace\"];\n");
    for (const struct jv *e = list->first; e; e = e->next, i++) {
        char vs[64], ds[64], label[1024];
        img_size_to_str(vs, sizeof(vs), jv_get(e, "virtual-size")->u);
        img_size_to_str(ds, sizeof(ds), jv_get(e, "actual-size")->u);
        snprintf(label, sizeof(label), "%s\\n%s, virtual %s, on disk %s", jv_get(e, "filename")->s,
                 jv_get(e, "format")->s, vs, ds);
        printf("    img%d [label=\"", i);
        /* The file name may contain quotes; the \n separators may not be
         * escaped, so escape only the name part. */
        for (const char *p = jv_get(e, "filename")->s; *p; p++) {
            if (*p == '"' || *p == '\\') {
                putchar('\\');
            }
            putchar(*p);
        }
        printf("\\n%s, virtual %s, on disk %s\"];\n", jv_get(e, "format")->s, vs, ds);
        if (e->next) {
            const struct jv *bf = jv_get(e, "backing-filename-format");
            printf("    img%d -> img%d [label=", i, i + 1);
            dot_quoted(bf ? bf->s : "backing (format probed)");
            printf("];\n");
        }
    }
    printf("}\n");
}

/*
 * Append to list the information of the image, and with --backing-chain of
 * every backing file under it, each opened without its own chain.  A name
 * seen twice is a loop in the chain.  0, or 1 after the message.
 */
static int collect_info(struct jv *list, const char *filename, const char *fmt, bool chain)
{
    char *name = strdup(filename), *cur_fmt = fmt ? strdup(fmt) : NULL;
    char **seen = NULL;
    int nseen = 0, ret = 0;

    while (name) {
        for (int i = 0; i < nseen; i++) {
            if (!strcmp(seen[i], name)) {
                error_report("Backing file '%s' creates an infinite loop.", name);
                ret = 1;
                goto out;
            }
        }
        seen = realloc(seen, (nseen + 1) * sizeof(*seen));
        seen[nseen++] = strdup(name);
        /* The argument may be a json:, file: or --image-opts name; the
         * backing files after it are file names. */
        /* Metadata only: qemu-img info works without the external data
         * file, which it does not read. */
        unsigned flags = IMG_OPEN_NO_BACKING | IMG_OPEN_NO_DATA_FILE;
        struct img *img =
            nseen == 1 ? open_image(name, cur_fmt, flags) : open_file_path(name, cur_fmt, flags);
        if (!img) {
            ret = 1;
            goto out;
        }
        char *backing, *backing_fmt;
        struct jv *info = image_info_build(img, img_name(img), &backing, &backing_fmt);
        if (!info) {
            report_img_error(img, name);
            img_close(img);
            ret = 1;
            goto out;
        }
        img_close(img);
        jv_append(list, info);
        free(name);
        free(cur_fmt);
        name = chain ? backing : NULL;
        cur_fmt = backing_fmt;
        if (!chain) {
            free(backing);
        }
    }
out:
    free(name);
    free(cur_fmt);
    for (int i = 0; i < nseen; i++) {
        free(seen[i]);
    }
    free(seen);
    return ret;
}

/* Print the collected information as JSON, as a dot graph or as text. */
static void print_info(struct jv *list, int ofmt, bool chain)
{
    if (ofmt == OFMT_JSON) {
        /* A single image prints as an object, a chain as a list. */
        jv_print(stdout, chain ? list : list->first, true);
        printf("\n");
    } else if (ofmt == OFMT_DOT) {
        dump_dot(list);
    } else {
        for (const struct jv *e = list->first; e; e = e->next) {
            if (e != list->first) {
                printf("\n");
            }
            image_info_dump_human(e);
        }
    }
}

int verb_info(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"backing-chain", no_argument, 0, OPT_CHAIN},
        {0, 0, 0, 0},
    };
    struct verb_common vc = {0};
    bool chain = false;
    int c;

    optind = 1;
    while ((c = verb_getopt(argc, argv, ":f:hU", longopts, VERB_REPORTS, &vc)) != -1) {
        switch (c) {
        case OPT_CHAIN:
            chain = true;
            break;
        default:
            /* --object, --image-opts and getopt's errors. */
            return verb_other_option(c, argv, 1);
        }
    }
    const char *filename;
    int ofmt = verb_file_and_output(argc, argv, vc.output, true, &filename);
    if (ofmt < 0) {
        return 1;
    }
    if (ofmt == OFMT_DOT && !chain) {
        error_report("--output=dot draws a backing chain: use it with --backing-chain");
        return 1;
    }
    struct jv *list = jv_list();
    int ret = collect_info(list, filename, vc.fmt, chain);
    if (ret == 0) {
        print_info(list, ofmt, chain);
    }
    jv_free(list);
    return ret;
}
