/*
 * Creation options (-o) for raw and qcow2: the table of names and types,
 * help text, type checks and the "Formatting ..." line.
 *
 * The table's order is the order in which QEMU 7.2 prints the options in
 * its "Formatting" line (qemu_opts_print() over the merged qcow2 and file
 * protocol option lists), observed with qemu-img 7.2.  Options QEMU knows
 * but imgtool does not implement (encryption, external data files) are
 * listed so that they are refused with a clear message rather than as
 * unknown parameters.
 */
#include "create_opts.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum opt_type { T_SIZE, T_NUM, T_BOOL, T_STR };

struct opt_desc {
    const char *name;
    enum opt_type type;
    const char *def;  /* default printed in "Formatting" (NULL: only if set) */
    bool qcow2, raw;  /* which formats accept it */
    bool unsupported; /* known to QEMU, not implemented by imgtool */
    const char *help;
};

/* Printing order of the qcow2 "Formatting" line (see the file comment). */
static const struct opt_desc qcow2_print_order[] = {
    {"encrypt.format", T_STR, NULL, true, false, true, NULL},
    {"cluster_size", T_SIZE, "65536", true, false, false, NULL},
    {"extended_l2", T_BOOL, "off", true, false, false, NULL},
    {"preallocation", T_STR, NULL, true, true, false, NULL},
    {"compression_type", T_STR, "zlib", true, false, false, NULL},
    {"size", T_SIZE, NULL, true, true, false, NULL},
    {"compat", T_STR, NULL, true, false, false, NULL},
    {"backing_file", T_STR, NULL, true, false, false, NULL},
    {"backing_fmt", T_STR, NULL, true, false, false, NULL},
    {"data_file", T_STR, NULL, true, false, true, NULL},
    {"data_file_raw", T_BOOL, NULL, true, false, true, NULL},
    {"lazy_refcounts", T_BOOL, "off", true, false, false, NULL},
    {"refcount_bits", T_NUM, "16", true, false, false, NULL},
    {"nocow", T_BOOL, NULL, true, true, true, NULL},
    {"extent_size_hint", T_SIZE, NULL, true, true, true, NULL},
    {"encryption", T_BOOL, NULL, true, false, true, NULL},
};

/* The raw format's own order: size nocow preallocation extent_size_hint. */
static const char *const raw_print_order[] = {"size", "nocow", "preallocation", "extent_size_hint"};

/* "-o help" lists options alphabetically, with QEMU's descriptions. */
static const struct opt_desc help_qcow2[] = {
    {"backing_file", T_STR, 0, 0, 0, 0, "File name of a base image"},
    {"backing_fmt", T_STR, 0, 0, 0, 0, "Image format of the base image"},
    {"cluster_size", T_SIZE, 0, 0, 0, 0, "qcow2 cluster size"},
    {"compat", T_STR, 0, 0, 0, 0, "Compatibility level (v2 [0.10] or v3 [1.1])"},
    {"compression_type", T_STR, 0, 0, 0, 0,
     "Compression method used for image cluster compression"},
    {"extended_l2", T_BOOL, 0, 0, 0, 0, "Extended L2 tables"},
    {"lazy_refcounts", T_BOOL, 0, 0, 0, 0, "Postpone refcount updates"},
    {"preallocation", T_STR, 0, 0, 0, 0,
     "Preallocation mode (allowed values: off, metadata, falloc, full)"},
    {"refcount_bits", T_NUM, 0, 0, 0, 0, "Width of a reference count entry in bits"},
    {"size", T_SIZE, 0, 0, 0, 0, "Virtual disk size"},
};
static const struct opt_desc help_raw[] = {
    {"preallocation", T_STR, 0, 0, 0, 0, "Preallocation mode (allowed values: off, falloc, full)"},
    {"size", T_SIZE, 0, 0, 0, 0, "Virtual disk size"},
};

static const struct opt_desc *find(const char *name, int format)
{
    for (size_t i = 0; i < KARRAY_SIZE_CLI(qcow2_print_order); i++) {
        const struct opt_desc *d = &qcow2_print_order[i];
        if (!strcmp(d->name, name)) {
            if (format == IMG_FMT_QCOW2 ? d->qcow2 : d->raw) {
                return d;
            }
            return NULL;
        }
    }
    return NULL;
}

int parse_bool(const char *s)
{
    /* qapi_bool_parse(): these spellings and no others. */
    if (!strcmp(s, "on") || !strcmp(s, "yes") || !strcmp(s, "true") || !strcmp(s, "y")) {
        return 1;
    }
    if (!strcmp(s, "off") || !strcmp(s, "no") || !strcmp(s, "false") || !strcmp(s, "n")) {
        return 0;
    }
    return -1;
}

static bool parse_num(const char *s, uint64_t *v)
{
    /* qemu_strtou64(s, NULL, 0): decimal, 0x hex or 0 octal, no junk. */
    char *end;
    errno = 0;
    if (!*s || *s == '-') {
        return false;
    }
    *v = strtoull(s, &end, 0);
    return !*end && errno == 0;
}

bool create_opts_check(struct opts *o, int format, const char *prefix)
{
    for (int i = 0; i < o->n; i++) {
        const char *name = o->kv[i].key, *val = o->kv[i].value;
        const struct opt_desc *d = find(name, format);
        uint64_t v;
        if (!d) {
            error_report("%s: Invalid parameter '%s'", prefix, name);
            return false;
        }
        switch (d->type) {
        case T_SIZE:
            if (parse_size(val, &v) < 0) {
                /* QemuOpts' size message, continued on two more lines. */
                error_report("%s: Parameter '%s' expects a non-negative number below 2^64\n"
                             "Optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, "
                             "tera-, peta-\nand exabytes, respectively.",
                             prefix, name);
                return false;
            }
            break;
        case T_NUM:
            if (!parse_num(val, &v)) {
                error_report("%s: Parameter '%s' expects a number", prefix, name);
                return false;
            }
            break;
        case T_BOOL:
            if (parse_bool(val) < 0) {
                error_report("%s: Parameter '%s' expects 'on' or 'off'", prefix, name);
                return false;
            }
            break;
        case T_STR:
            break;
        }
        if (d->unsupported) {
            error_report("%s: Parameter '%s' is not supported by imgtool", prefix, name);
            return false;
        }
    }
    return true;
}

void create_opts_help(int format)
{
    const struct opt_desc *h = format == IMG_FMT_QCOW2 ? help_qcow2 : help_raw;
    size_t n = format == IMG_FMT_QCOW2 ? KARRAY_SIZE_CLI(help_qcow2) : KARRAY_SIZE_CLI(help_raw);
    static const char *const tname[] = {"size", "num", "bool (on/off)", "str"};
    printf("Supported options:\n");
    for (size_t i = 0; i < n; i++) {
        char left[64];
        snprintf(left, sizeof(left), "%s=<%s>", h[i].name, tname[h[i].type]);
        /* QEMU pads the name column to 22 characters. */
        printf("  %-22s - %s\n", left, h[i].help);
    }
}

static void print_one(struct opts *o, const struct opt_desc *d)
{
    const char *v = opts_get(o, d->name);
    if (!v) {
        v = d->def;
    }
    if (!v) {
        return;
    }
    if (d->type == T_SIZE) {
        /* Sizes print as their parsed byte count. */
        uint64_t n = 0;
        parse_size(v, &n);
        printf(" %s=%llu", d->name, (unsigned long long)n);
    } else if (d->type == T_BOOL) {
        printf(" %s=%s", d->name, parse_bool(v) ? "on" : "off");
    } else {
        printf(" %s=%s", d->name, v);
    }
}

void create_opts_print_formatting(struct opts *o, int format, const char *filename)
{
    printf("Formatting '%s', fmt=%s", filename, format == IMG_FMT_QCOW2 ? "qcow2" : "raw");
    if (format == IMG_FMT_QCOW2) {
        for (size_t i = 0; i < KARRAY_SIZE_CLI(qcow2_print_order); i++) {
            print_one(o, &qcow2_print_order[i]);
        }
    } else {
        for (size_t i = 0; i < KARRAY_SIZE_CLI(raw_print_order); i++) {
            print_one(o, find(raw_print_order[i], IMG_FMT_RAW));
        }
    }
    printf("\n");
    fflush(stdout);
}

bool create_opts_to_img(struct opts *o, int format, struct img_create_opts *c, const char *prefix)
{
    const char *v;
    uint64_t n;
    img_create_opts_init(c);
    c->format = format;
    if ((v = opts_get(o, "size"))) {
        parse_size(v, &n);
        c->size = n;
    }
    if ((v = opts_get(o, "preallocation"))) {
        int p = img_prealloc_parse(v);
        /* raw has no "metadata" mode in QEMU (file-posix's PreallocMode). */
        if (p < 0 || (format == IMG_FMT_RAW && p == IMG_PREALLOC_METADATA)) {
            error_report("%s: Parameter 'preallocation' does not accept value '%s'", prefix, v);
            return false;
        }
        c->prealloc = p;
    }
    if (format == IMG_FMT_RAW) {
        return true;
    }
    if ((v = opts_get(o, "cluster_size"))) {
        parse_size(v, &n);
        /* Out-of-range values must still fail the library's check, so
         * clamp to a value that is certainly invalid rather than wrap. */
        c->cluster_size = n > UINT32_MAX ? 3 : (uint32_t)n;
    }
    if ((v = opts_get(o, "compat"))) {
        /* QEMU's BlockdevQcow2Version: "v2"/"v3", with 0.10 and 1.1 as
         * aliases; anything else names the QAPI member 'version'. */
        if (!strcmp(v, "0.10") || !strcmp(v, "v2")) {
            c->compat = 2;
        } else if (!strcmp(v, "1.1") || !strcmp(v, "v3")) {
            c->compat = 3;
        } else {
            error_report("%s: Parameter 'version' does not accept value '%s'", prefix, v);
            return false;
        }
    }
    if ((v = opts_get(o, "compression_type"))) {
        if (!strcmp(v, "zlib")) {
            c->compression_type = IMG_COMP_ZLIB;
        } else if (!strcmp(v, "zstd")) {
            c->compression_type = IMG_COMP_ZSTD;
        } else {
            error_report("%s: Parameter 'compression-type' does not accept value '%s'", prefix, v);
            return false;
        }
    }
    if ((v = opts_get(o, "lazy_refcounts"))) {
        c->lazy_refcounts = parse_bool(v) == 1;
    }
    if ((v = opts_get(o, "extended_l2"))) {
        c->extended_l2 = parse_bool(v) == 1;
    }
    if ((v = opts_get(o, "refcount_bits"))) {
        char *end;
        unsigned long long r = strtoull(v, &end, 0);
        /* Too wide for an int is as invalid as 128: keep it invalid. */
        c->refcount_bits = r > 1024 ? 1024 : (int)r;
    }
    c->backing_file = opts_get(o, "backing_file");
    c->backing_fmt = opts_get(o, "backing_fmt");
    return true;
}
