/*
 * Creation options (-o) for raw and qcow2: the table of names and types,
 * help text, type checks and the "Formatting ..." line.
 *
 * The table's order is the order in which QEMU 7.2 prints the options in
 * its "Formatting" line (qemu_opts_print() over the merged qcow2 and file
 * protocol option lists), observed with qemu-img 7.2.  Options QEMU knows
 * but imgtool does not implement (encryption) are
 * listed so that they are refused with a clear message rather than as
 * unknown parameters (encryption with the words QEMU uses for an unknown
 * encryption format).
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
    {"encryption", T_BOOL, NULL, true, false, false, NULL},
    {"encrypt.format", T_STR, NULL, true, false, false, NULL},
    {"cluster_size", T_SIZE, "65536", true, false, false, NULL},
    {"extended_l2", T_BOOL, "off", true, false, false, NULL},
    {"preallocation", T_STR, NULL, true, true, false, NULL},
    {"compression_type", T_STR, "zlib", true, false, false, NULL},
    {"size", T_SIZE, NULL, true, true, false, NULL},
    {"compat", T_STR, NULL, true, false, false, NULL},
    {"backing_file", T_STR, NULL, true, false, false, NULL},
    {"backing_fmt", T_STR, NULL, true, false, false, NULL},
    {"data_file", T_STR, NULL, true, false, false, NULL},
    {"data_file_raw", T_BOOL, NULL, true, false, false, NULL},
    {"lazy_refcounts", T_BOOL, "off", true, false, false, NULL},
    {"refcount_bits", T_NUM, "16", true, false, false, NULL},
    {"nocow", T_BOOL, NULL, true, true, false, NULL},
    {"extent_size_hint", T_SIZE, NULL, true, true, false, NULL},
};

/* The raw format's own order: size nocow preallocation extent_size_hint. */
static const char *const raw_print_order[] = {"size", "nocow", "preallocation", "extent_size_hint"};

/*
 * "-o help" lists options alphabetically (qemu_opts_print_help() sorts
 * them), with QEMU's descriptions and type names.  Which options appear
 * depends on where the list comes from, as in qemu-img.c
 * print_block_option_help() and print_amend_option_help(): the format's
 * creation options, plus the file protocol's (nocow, extent_size_hint,
 * and raw's preallocation) when a target file name is known, or the
 * format's amend options.  Options imgtool refuses (encryption) are still
 * listed, since the list is QEMU's interface.
 */
enum { H_QCOW2 = 1, H_RAW = 2, H_FILE = 4, H_AMEND = 8 };
struct help_desc {
    const char *name, *type, *help;
    unsigned where; /* H_* */
};
static const struct help_desc help_list[] = {
    {"backing_file", "str", "File name of a base image", H_QCOW2 | H_AMEND},
    {"backing_fmt", "str", "Image format of the base image", H_QCOW2 | H_AMEND},
    {"cluster_size", "size", "qcow2 cluster size", H_QCOW2},
    {"compat", "str", "Compatibility level (v2 [0.10] or v3 [1.1])", H_QCOW2 | H_AMEND},
    {"compression_type", "str", "Compression method used for image cluster compression", H_QCOW2},
    {"data_file", "str", "File name of an external data file", H_QCOW2 | H_AMEND},
    {"data_file_raw", "bool (on/off)", "The external data file must stay valid as a raw image",
     H_QCOW2 | H_AMEND},
    {"encrypt.cipher-alg", "str", "Name of encryption cipher algorithm", H_QCOW2},
    {"encrypt.cipher-mode", "str", "Name of encryption cipher mode", H_QCOW2},
    {"encrypt.format", "str", "Encrypt the image, format choices: 'aes', 'luks'", H_QCOW2},
    {"encrypt.hash-alg", "str", "Name of encryption hash algorithm", H_QCOW2},
    {"encrypt.iter-time", "num", "Time to spend in PBKDF in milliseconds", H_QCOW2 | H_AMEND},
    {"encrypt.ivgen-alg", "str", "Name of IV generator algorithm", H_QCOW2},
    {"encrypt.ivgen-hash-alg", "str", "Name of IV generator hash algorithm", H_QCOW2},
    {"encrypt.key-secret", "str", "ID of secret providing qcow AES key or LUKS passphrase",
     H_QCOW2},
    {"encrypt.keyslot", "num", "Select a single keyslot to modify explicitly", H_AMEND},
    {"encrypt.new-secret", "str",
     "New secret to set in the matching keyslots. Empty string to erase", H_AMEND},
    {"encrypt.old-secret", "str", "Select all keyslots that match this password", H_AMEND},
    {"encrypt.state", "str", "Select new state of affected keyslots (active/inactive)", H_AMEND},
    {"encryption", "bool (on/off)",
     "Encrypt the image with format 'aes'. (Deprecated in favor of encrypt.format=aes)", H_QCOW2},
    {"extended_l2", "bool (on/off)", "Extended L2 tables", H_QCOW2},
    {"extent_size_hint", "size", "Extent size hint for the image file, 0 to disable", H_FILE},
    {"lazy_refcounts", "bool (on/off)", "Postpone refcount updates", H_QCOW2 | H_AMEND},
    {"nocow", "bool (on/off)", "Turn off copy-on-write (valid only on btrfs)", H_FILE},
    /* Two descriptions: qcow2's has "metadata", the file protocol's (which
     * raw targets see) does not; a merged list keeps the format's. */
    {"preallocation", "str", "Preallocation mode (allowed values: off, metadata, falloc, full)",
     H_QCOW2},
    {"preallocation", "str", "Preallocation mode (allowed values: off, falloc, full)", H_FILE},
    {"refcount_bits", "num", "Width of a reference count entry in bits", H_QCOW2 | H_AMEND},
    {"size", "size", "Virtual disk size", H_QCOW2 | H_RAW | H_FILE | H_AMEND},
};

/* Print the entries of help_list selected by `mask`, each name once (the
 * first entry wins, as qemu_opts_append() keeps the format's). */
static void print_help_list(unsigned mask)
{
    const char *last = "";
    for (size_t i = 0; i < KARRAY_SIZE_CLI(help_list); i++) {
        const struct help_desc *h = &help_list[i];
        if (!(h->where & mask) || !strcmp(h->name, last)) {
            continue;
        }
        char left[64];
        snprintf(left, sizeof(left), "%s=<%s>", h->name, h->type);
        /* QEMU pads the name column to 22 characters. */
        printf("  %-22s - %s\n", left, h->help);
        last = h->name;
    }
}

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

/* "PREFIX: " before a message, or nothing when prefix is NULL (measure's
 * option errors name no file). */
static const char *pfx(const char *prefix)
{
    static char buf[4200];
    if (!prefix) {
        return "";
    }
    snprintf(buf, sizeof(buf), "%s: ", prefix);
    return buf;
}

bool create_opts_check(struct opts *o, int format, const char *prefix)
{
    for (int i = 0; i < o->n; i++) {
        const char *name = o->kv[i].key, *val = o->kv[i].value;
        const struct opt_desc *d = find(name, format);
        uint64_t v;
        if (!d) {
            error_report("%sInvalid parameter '%s'", pfx(prefix), name);
            return false;
        }
        switch (d->type) {
        case T_SIZE:
            if (parse_size(val, &v) < 0) {
                /* QemuOpts' size message, continued on two more lines. */
                error_report("%sParameter '%s' expects a non-negative number below 2^64\n"
                             "Optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, "
                             "tera-, peta-\nand exabytes, respectively.",
                             pfx(prefix), name);
                return false;
            }
            break;
        case T_NUM:
            if (!parse_num(val, &v)) {
                error_report("%sParameter '%s' expects a number", pfx(prefix), name);
                return false;
            }
            break;
        case T_BOOL:
            if (parse_bool(val) < 0) {
                error_report("%sParameter '%s' expects 'on' or 'off'", pfx(prefix), name);
                return false;
            }
            break;
        case T_STR:
            break;
        }
        if (d->unsupported) {
            error_report("%sParameter '%s' is not supported by imgtool", pfx(prefix), name);
            return false;
        }
    }
    return true;
}

void create_opts_help(int format, const char *filename)
{
    unsigned mask = format == IMG_FMT_QCOW2 ? H_QCOW2 : H_RAW;
    if (filename) {
        /* With a target name, the protocol's options join the list. */
        printf("Supported options:\n");
        print_help_list(mask | H_FILE);
        return;
    }
    printf("Supported %s options:\n", format == IMG_FMT_QCOW2 ? "qcow2" : "raw");
    print_help_list(mask);
    printf("\nThe protocol level may support further options.\n"
           "Specify the target filename to include those options.\n");
}

void create_opts_amend_help(void)
{
    /* qcow2 is the only format with amend options. */
    printf("Amend options for 'qcow2':\n");
    print_help_list(H_AMEND);
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
        /* QEMU's qemu_opts_print() escapes string values as they are
         * typed: a comma is printed doubled. */
        printf(" %s=", d->name);
        for (; *v; v++) {
            fputs(*v == ',' ? ",," : (char[]){*v, 0}, stdout);
        }
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
    /* The file protocol's options (file-posix), for both formats. */
    if ((v = opts_get(o, "extent_size_hint"))) {
        parse_size(v, &n);
        c->has_extent_size_hint = true;
        c->extent_size_hint = n;
    }
    if ((v = opts_get(o, "nocow"))) {
        c->nocow = parse_bool(v) == 1;
    }
    if ((v = opts_get(o, "preallocation"))) {
        int p = img_prealloc_parse(v);
        /* raw has no "metadata" mode in QEMU (file-posix's PreallocMode). */
        if (p < 0 || (format == IMG_FMT_RAW && p == IMG_PREALLOC_METADATA)) {
            error_report("%sParameter 'preallocation' does not accept value '%s'", pfx(prefix), v);
            return false;
        }
        c->prealloc = p;
    }
    if (format == IMG_FMT_RAW) {
        return true;
    }
    /* Encryption (LUKS, and the old AES) is out of imgtool's scope: a
     * format named for it is refused as QEMU refuses a format it does not
     * know; "encryption=on" is the old spelling of encrypt.format=aes. */
    const char *enc = opts_get(o, "encrypt.format");
    if (enc && opts_has(o, "encryption")) {
        error_report("%s'encrypt.format' and its alias 'encryption' can't be used at the same time",
                     pfx(prefix));
        return false;
    }
    if (!enc && (v = opts_get(o, "encryption")) && parse_bool(v) == 1) {
        enc = "aes";
    }
    if (enc) {
        error_report("%sParameter 'format' does not accept value '%s'", pfx(prefix), enc);
        return false;
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
            error_report("%sParameter 'version' does not accept value '%s'", pfx(prefix), v);
            return false;
        }
    }
    if ((v = opts_get(o, "compression_type"))) {
        if (!strcmp(v, "zlib")) {
            c->compression_type = IMG_COMP_ZLIB;
        } else if (!strcmp(v, "zstd")) {
            c->compression_type = IMG_COMP_ZSTD;
        } else {
            error_report("%sParameter 'compression-type' does not accept value '%s'", pfx(prefix),
                         v);
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
    c->data_file = opts_get(o, "data_file");
    if ((v = opts_get(o, "data_file_raw"))) {
        c->data_file_raw = parse_bool(v) == 1;
    }
    return true;
}
