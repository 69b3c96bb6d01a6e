/*
 * imgtool map: where does each guest byte come from (qemu-img map)?
 *
 *   imgtool map [-f fmt] [--start-offset=N] [--max-length=N]
 *               [--output=human|json|dot] [-U] filename
 *
 * For each run of the virtual disk the chain is walked top-down until a
 * layer says the run reads as data or zeros (qemu-img.c get_block_status());
 * the depth is that layer's position in the chain.  Adjacent runs with the
 * same status, layer and contiguous host offsets are merged
 * (entry_mergeable()).  The human format lists only data, and treats all
 * non-data as zeros so they merge better (dump_map_entry()).  --output=dot
 * (imgtool only) draws the guest-to-file mapping for teaching.
 */
#include "cli.h"
#include "img.h"
#include "json.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_START = 256, OPT_MAXLEN };

struct map_entry {
    uint64_t start, length, offset;
    int64_t depth;
    bool data, zero, present, has_offset;
    const char *filename; /* NULL if no offset */
};

/* One run starting at off, at most bytes long (get_block_status()). */
static int get_block_status(struct img *img, uint64_t off, uint64_t bytes, struct map_entry *e)
{
    struct img_extent ext;
    struct img *layer = img;
    int depth = 0;
    for (;;) {
        if (img_block_status(layer, off, bytes, false, &ext) < 0) {
            error_report("Could not read file metadata: %s", img_strerror(layer));
            return -1;
        }
        if (ext.length && ext.length < bytes) {
            bytes = ext.length;
        }
        if (ext.flags & (IMG_BS_ZERO | IMG_BS_DATA)) {
            break;
        }
        struct img *next = img_backing(layer);
        if (!next) {
            break;
        }
        layer = next;
        depth++;
    }
    memset(e, 0, sizeof(*e));
    e->start = off;
    e->length = bytes;
    e->data = ext.flags & IMG_BS_DATA;
    e->zero = ext.flags & IMG_BS_ZERO;
    e->present = ext.flags & IMG_BS_ALLOCATED;
    e->has_offset = ext.flags & IMG_BS_OFFSET_VALID;
    e->offset = e->has_offset ? ext.offset : 0;
    e->depth = depth;
    /* Offsets of an image with an external data file are offsets in that
     * file, which qemu-img map names. */
    struct img *owner = ext.layer ? ext.layer : layer;
    const char *data_file = img_data_file(owner);
    e->filename = !e->has_offset ? NULL : data_file ? data_file : img_name(owner);
    return 0;
}

static bool mergeable(const struct map_entry *c, const struct map_entry *n)
{
    if (c->length == 0) {
        return false;
    }
    if (c->zero != n->zero || c->data != n->data || c->depth != n->depth ||
        c->present != n->present) {
        return false;
    }
    if (!!c->filename != !!n->filename) {
        return false;
    }
    if (c->filename && strcmp(c->filename, n->filename)) {
        return false;
    }
    if (c->has_offset != n->has_offset) {
        return false;
    }
    if (c->has_offset && c->offset + c->length != n->offset) {
        return false;
    }
    return true;
}

static int dot_count;

static int dump_entry(int ofmt, struct map_entry *e, struct map_entry *next)
{
    switch (ofmt) {
    case OFMT_HUMAN:
        if (e->data && !e->has_offset) {
            error_report("File contains external, encrypted or compressed clusters.");
            return -1;
        }
        if (e->data && !e->zero) {
            printf("%#-16" PRIx64 "%#-16" PRIx64 "%#-16" PRIx64 "%s\n", e->start, e->length,
                   e->has_offset ? e->offset : 0, e->filename ? e->filename : "");
        }
        /* Human output does not tell 0, ZERO and ZERO|DATA apart. */
        if (next && (!next->data || next->zero)) {
            next->data = false;
            next->zero = true;
        }
        break;
    case OFMT_JSON:
        printf("{ \"start\": %" PRIu64 ", \"length\": %" PRIu64 ", \"depth\": %" PRId64
               ", \"present\": %s, \"zero\": %s, \"data\": %s",
               e->start, e->length, e->depth, e->present ? "true" : "false",
               e->zero ? "true" : "false", e->data ? "true" : "false");
        if (e->has_offset) {
            printf(", \"offset\": %" PRIu64, e->offset);
        }
        putchar('}');
        if (next) {
            puts(",");
        }
        break;
    case OFMT_DOT: {
        /* One guest-range node per run; data runs point at the file. */
        const char *kind =
            e->data ? (e->zero ? "zero (allocated)" : "data") : (e->zero ? "zero" : "unallocated");
        printf("    r%d [label=\"guest 0x%" PRIx64 "..0x%" PRIx64 "\\n%s, depth %" PRId64
               "\"%s];\n",
               dot_count, e->start, e->start + e->length, kind, e->depth,
               e->data ? ", style=filled, fillcolor=lightblue" : "");
        if (e->has_offset && e->filename) {
            printf("    r%d -> f%" PRId64 " [label=\"host 0x%" PRIx64 "\"];\n", dot_count, e->depth,
                   e->offset);
        }
        dot_count++;
        break;
    }
    }
    return 0;
}

/* What comes before the first entry: the text table's heading, the JSON
 * list's bracket, or the dot graph's header with one node per file of the
 * chain. */
static void print_map_head(int ofmt, struct img *img)
{
    if (ofmt == OFMT_HUMAN) {
        printf("%-16s%-16s%-16s%s\n", "Offset", "Length", "Mapped to", "File");
    } else if (ofmt == OFMT_JSON) {
        putchar('[');
    } else {
        printf("digraph map {\n    rankdir=LR;\n    node [shape=box, fontname=\"monospace\"];\n");
        int depth = 0;
        for (struct img *l = img; l; l = img_backing(l), depth++) {
            printf("    f%d [shape=cylinder, label=", depth);
            json_quoted(stdout, img_name(l)); /* a valid DOT string too */
            printf("];\n");
        }
    }
}

/*
 * Print [start, end) as entries: the block status of up to 1 GiB at a
 * time, with neighbouring ranges of the same kind merged into one entry
 * as qemu-img map does.  Each entry is printed once the next one is known
 * (the human format needs it).  0, or 1 after the message.
 */
static int map_ranges(struct img *img, int ofmt, uint64_t start, uint64_t end)
{
    struct map_entry curr = {0}, next;

    curr.start = start;
    for (uint64_t off = start; off < end;) {
        uint64_t n = end - off < (1ULL << 30) ? end - off : (1ULL << 30);
        if (get_block_status(img, off, n, &next) < 0) {
            return 1;
        }
        off += next.length ? next.length : n;
        if (mergeable(&curr, &next)) {
            curr.length += next.length;
            continue;
        }
        if (curr.length > 0 && dump_entry(ofmt, &curr, &next) < 0) {
            return 1;
        }
        curr = next;
    }
    return dump_entry(ofmt, &curr, NULL) < 0 ? 1 : 0;
}

int verb_map(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"start-offset", required_argument, 0, OPT_START},
        {"max-length", required_argument, 0, OPT_MAXLEN},
        {0, 0, 0, 0},
    };
    struct verb_common vc = {0};
    int64_t start = 0, max_length = -1;
    int c;

    optind = 1;
    while ((c = verb_getopt(argc, argv, ":f:hU", longopts, VERB_REPORTS, &vc)) != -1) {
        switch (c) {
        case OPT_START:
            start = cvtnum("start offset", optarg);
            if (start < 0) {
                return 1;
            }
            break;
        case OPT_MAXLEN:
            max_length = cvtnum("max length", optarg);
            if (max_length < 0) {
                return 1;
            }
            break;
        default:
            return verb_other_option(c, argv, 1);
        }
    }
    const char *filename;
    int ofmt = verb_file_and_output(argc, argv, vc.output, true, &filename);
    if (ofmt < 0) {
        return 1;
    }
    struct img *img = open_image(filename, vc.fmt, 0);
    if (!img) {
        return 1;
    }
    uint64_t end = img_size(img);
    if (max_length != -1 && (uint64_t)start + (uint64_t)max_length < end) {
        end = (uint64_t)start + (uint64_t)max_length;
    }
    print_map_head(ofmt, img);
    int ret = map_ranges(img, ofmt, (uint64_t)start, end);
    if (ret == 0 && ofmt == OFMT_JSON) {
        puts("]");
    } else if (ret == 0 && ofmt == OFMT_DOT) {
        printf("}\n");
    }
    img_close(img);
    return ret;
}
