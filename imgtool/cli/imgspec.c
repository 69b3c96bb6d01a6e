/*
 * What an image argument names: a file name, a "file:" protocol prefix, a
 * "json:{...}" pseudo-protocol, or with --image-opts an option string
 * ("driver=qcow2,file.filename=disk.qcow2").  QEMU resolves them into a
 * tree of block driver options (block.c bdrv_open_inherit(),
 * bdrv_find_protocol(), parse_json_protocol()); imgtool has one protocol,
 * the POSIX file, and the formats raw and qcow2, so every form comes down
 * to a path and an optional format.  Options QEMU would accept but that
 * change nothing here (cache modes, locking, qcow2 cache sizes) are
 * accepted; everything else is refused with QEMU's message.
 */
#include "imgspec.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Record a message for the caller; always returns false. */
static bool fail(struct imgspec *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool fail(struct imgspec *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->msg, sizeof(s->msg), fmt, ap);
    va_end(ap);
    return false;
}

/* ---- json: ---------------------------------------------------------- */

/*
 * A small JSON reader that flattens nested objects into dotted keys, as
 * QEMU's qdict_flatten() does: {"file": {"filename": "a"}} becomes
 * file.filename=a.  Numbers and booleans keep their text.
 */
struct jp {
    const char *p;
    struct opts *o;
    struct imgspec *s;
};

static void skip_ws(struct jp *j)
{
    while (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r') {
        j->p++;
    }
}

/* A JSON string into a malloc'd C string (\uXXXX only below 0x80). */
static char *json_string(struct jp *j)
{
    size_t cap = strlen(j->p) + 1, n = 0;
    char *out = malloc(cap);
    j->p++; /* the opening quote */
    while (out && *j->p && *j->p != '"') {
        char c = *j->p++;
        if (c == '\\') {
            c = *j->p++;
            switch (c) {
            case 'n':
                c = '\n';
                break;
            case 't':
                c = '\t';
                break;
            case 'r':
                c = '\r';
                break;
            case 'b':
                c = '\b';
                break;
            case 'f':
                c = '\f';
                break;
            case 'u': {
                unsigned v = 0;
                for (int i = 0; i < 4 && isxdigit((unsigned char)*j->p); i++) {
                    char h = *j->p++;
                    v = v * 16 +
                        (unsigned)(isdigit((unsigned char)h) ? h - '0' : (h | 32) - 'a' + 10);
                }
                c = v < 0x80 && v ? (char)v : '?';
                break;
            }
            case 0:
                free(out);
                return NULL;
            default:
                break; /* \" \\ \/ stand for themselves */
            }
        }
        out[n++] = c;
    }
    if (!out || *j->p != '"') {
        free(out);
        return NULL;
    }
    j->p++;
    out[n] = 0;
    return out;
}

static bool json_value(struct jp *j, const char *key);

/* An object's members, each stored under prefix.name. */
static bool json_object(struct jp *j, const char *prefix)
{
    j->p++; /* '{' */
    skip_ws(j);
    if (*j->p == '}') {
        j->p++;
        return true;
    }
    for (;;) {
        skip_ws(j);
        if (*j->p != '"') {
            /* A bare word where a member name belongs: QEMU's lexer
             * calls it an invalid keyword. */
            size_t n = strcspn(j->p, ",:}] \t\r\n{[\"");
            if (n) {
                snprintf(j->s->msg, sizeof(j->s->msg),
                         "Could not parse the JSON options: JSON parse error, invalid keyword "
                         "'%.*s'",
                         (int)n, j->p);
            }
            return false;
        }
        char *name = json_string(j);
        if (!name) {
            return false;
        }
        char key[512];
        snprintf(key, sizeof(key), "%s%s%s", prefix, *prefix ? "." : "", name);
        free(name);
        skip_ws(j);
        if (*j->p++ != ':' || !json_value(j, key)) {
            return false;
        }
        skip_ws(j);
        if (*j->p == ',') {
            j->p++;
            continue;
        }
        if (*j->p == '}') {
            j->p++;
            return true;
        }
        return false;
    }
}

static bool json_value(struct jp *j, const char *key)
{
    skip_ws(j);
    if (*j->p == '{') {
        return json_object(j, key);
    }
    if (*j->p == '"') {
        char *v = json_string(j);
        bool ok = v && opts_set(j->o, key, v);
        free(v);
        return ok;
    }
    /* true, false, null and numbers: their text up to a delimiter. */
    size_t n = strcspn(j->p, ",}] \t\r\n");
    if (n == 0 || n >= 64) {
        return false;
    }
    char word[64];
    memcpy(word, j->p, n);
    word[n] = 0;
    bool number = strspn(word, "-+.0123456789eE") == n;
    if (!number && strcmp(word, "true") && strcmp(word, "false") && strcmp(word, "null")) {
        /* QEMU's lexer names the word it does not know. */
        snprintf(j->s->msg, sizeof(j->s->msg),
                 "Could not parse the JSON options: JSON parse error, invalid keyword '%s'", word);
        return false;
    }
    j->p += n;
    return opts_set(j->o, key,
                    !strcmp(word, "true")    ? "on"
                    : !strcmp(word, "false") ? "off"
                                             : word);
}

/* Parse the text after "json:" into flattened options. */
static bool parse_json(const char *text, struct opts *o, struct imgspec *s)
{
    struct jp j = {text, o, s};
    skip_ws(&j);
    if (*j.p != '{') {
        /* Valid JSON that is not an object, or not JSON at all. */
        if (*j.p == '[' || *j.p == '"' || isdigit((unsigned char)*j.p)) {
            return fail(s, "Invalid JSON object given");
        }
        size_t n = strcspn(j.p, ",}] \t\r\n{[\"");
        return fail(s, "Could not parse the JSON options: JSON parse error, invalid keyword '%.*s'",
                    (int)n, j.p);
    }
    s->msg[0] = 0;
    if (!json_object(&j, "")) {
        if (!s->msg[0]) {
            fail(s, "Could not parse the JSON options: JSON parse error");
        }
        return false;
    }
    skip_ws(&j);
    if (*j.p) {
        return fail(s, "Could not parse the JSON options: JSON parse error");
    }
    return true;
}

/* ---- the options of a block node ---------------------------------------- */

/* Options of every node or of qcow2 that do not change what imgtool
 * reads or writes (caching, locking, discard policy, metadata caches). */
static const char *const harmless[] = {
    "read-only",
    "auto-read-only",
    "force-share",
    "cache.direct",
    "cache.no-flush",
    "discard",
    "detect-zeroes",
    "node-name",
    "lazy-refcounts",
    "pass-discard-request",
    "pass-discard-snapshot",
    "pass-discard-other",
    "overlap-check",
    "cache-size",
    "l2-cache-size",
    "l2-cache-entry-size",
    "refcount-cache-size",
    "cache-clean-interval",
};
/* The same for the file protocol (file-posix). */
static const char *const harmless_file[] = {
    "locking", "aio", "aio-max-batch", "drop-cache", "x-check-cache-dropped",
};

static bool in_list(const char *k, const char *const *l, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(k, l[i])) {
            return true;
        }
    }
    return false;
}

/* Is KEY one of the data-file option's (data-file, data-file.*)? */
static bool data_file_key(const char *key)
{
    return !strncmp(key, "data-file", 9) && (!key[9] || key[9] == '.');
}

/* A reason the data-file option cannot be used, kept for the library:
 * QEMU only notices it when it opens the data file. */
static void data_refuse(struct imgspec *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void data_refuse(struct imgspec *s, const char *fmt, ...)
{
    va_list ap;
    if (s->data_msg[0]) {
        return; /* the first reason is the one QEMU meets */
    }
    va_start(ap, fmt);
    vsnprintf(s->data_msg, sizeof(s->data_msg), fmt, ap);
    va_end(ap);
}

/*
 * One option of the data file's node, written KEY below "data-file." with
 * the node's driver `drv` ("file" or "raw"): for the file protocol the
 * file name and harmless file options, for raw its "file" child's.
 */
static void data_option(struct imgspec *s, const char *drv, const char *key, const char *value)
{
    const char *fkey = !strcmp(drv, "raw") ? (!strncmp(key, "file.", 5) ? key + 5 : NULL) : key;
    if (!strcmp(key, "driver")) {
        return;
    }
    if (!fkey) {
        /* raw's own options (offset, size) would cut a window out of the
         * file; imgtool has no such view, so it refuses them. */
        data_refuse(s, "Block format 'raw' does not support the option '%s'", key);
    } else if (!strcmp(fkey, "filename")) {
        snprintf(s->data_file, sizeof(s->data_file), "%s", value ? value : "");
    } else if (!in_list(fkey, harmless_file, KARRAY_SIZE_CLI(harmless_file))) {
        data_refuse(s, "Block protocol 'file' doesn't support the option '%s'", fkey);
    }
}

/*
 * qcow2's "data-file" option: a node name (which qemu-img never has), or a
 * node of its own written as data-file.driver=file,data-file.filename=F
 * (the driver may be left out) or data-file.driver=raw,data-file.file.
 * filename=F.  Its words are QEMU's (block.c bdrv_open_inherit()).
 */
static void data_file_options(struct opts *o, struct imgspec *s)
{
    const char *name = opts_get(o, "data-file");
    const char *drv = opts_get(o, "data-file.driver");
    for (int i = 0; i < o->n && !s->data_key[0]; i++) {
        if (data_file_key(o->kv[i].key)) {
            snprintf(s->data_key, sizeof(s->data_key), "%s", o->kv[i].key);
        }
    }
    if (!s->data_key[0]) {
        return;
    }
    if (name) {
        data_refuse(s, "Cannot find device='%s' nor node-name='%s'", name, name);
        return;
    }
    if (drv && strcmp(drv, "file") && strcmp(drv, "raw")) {
        data_refuse(s, "Unknown driver '%s'", drv);
        return;
    }
    /* Without a driver, QEMU needs a file name to guess one from. */
    if (!drv && !opts_get(o, "data-file.filename")) {
        data_refuse(s, "Must specify either driver or file");
        return;
    }
    for (int i = 0; i < o->n; i++) {
        if (!strncmp(o->kv[i].key, "data-file.", 10)) {
            data_option(s, drv ? drv : "file", o->kv[i].key + 10, o->kv[i].value);
        }
    }
    if (!s->data_file[0]) {
        data_refuse(s, !strcmp(drv, "file") ? "The 'file' block driver requires a file name"
                                            : "A block device must be specified for \"file\"");
    }
}

/* Turn the options of one node into a path and a format. */
static bool from_options(struct opts *o, struct imgspec *s)
{
    const char *driver = opts_get(o, "driver");
    const char *fdriver = opts_get(o, "file.driver");
    const char *file = opts_get(o, "file");
    bool protocol_only = driver && !strcmp(driver, "file");
    if (driver && !protocol_only && !fmt_known(driver)) {
        return fail(s, "Unknown driver '%s'", driver);
    }
    if (fdriver && strcmp(fdriver, "file")) {
        return fail(s, "Unknown driver '%s'", fdriver);
    }
    if (file) {
        /* A string for "file" names another node, and qemu-img has none. */
        return fail(s, "Cannot find device='%s' nor node-name='%s'", file, file);
    }
    /* qcow2 takes a data file; a probed format may turn out to be qcow2,
     * and the library refuses the option for raw (img_open_opts). */
    bool takes_data = !driver || !strcmp(driver, "qcow2");
    if (takes_data) {
        data_file_options(o, s);
    }
    for (int i = 0; i < o->n; i++) {
        const char *k = o->kv[i].key;
        if (!strcmp(k, "driver") || !strcmp(k, "file.driver") ||
            in_list(k, harmless, KARRAY_SIZE_CLI(harmless)) || (takes_data && data_file_key(k))) {
            continue;
        }
        if (protocol_only &&
            (!strcmp(k, "filename") || in_list(k, harmless_file, KARRAY_SIZE_CLI(harmless_file)))) {
            continue;
        }
        if (!protocol_only && !strncmp(k, "file.", 5)) {
            if (!strcmp(k + 5, "filename") ||
                in_list(k + 5, harmless_file, KARRAY_SIZE_CLI(harmless_file))) {
                continue;
            }
            return fail(s, "Block protocol 'file' doesn't support the option '%s'", k + 5);
        }
        if (protocol_only) {
            return fail(s, "Block protocol 'file' doesn't support the option '%s'", k);
        }
        return fail(s, "Block format '%s' does not support the option '%s'",
                    driver ? driver : "raw", k);
    }
    const char *path = protocol_only ? opts_get(o, "filename") : opts_get(o, "file.filename");
    if (!path) {
        if (protocol_only) {
            return fail(s, "The 'file' block driver requires a file name");
        }
        return fail(s, "A block device must be specified for \"file\"");
    }
    snprintf(s->path, sizeof(s->path), "%s", path);
    /* driver=file is the protocol read as it is: a raw view of the file. */
    if (driver) {
        snprintf(s->fmt, sizeof(s->fmt), "%s", protocol_only ? "raw" : driver);
    }
    return true;
}

bool imgspec_parse(const char *arg, bool image_opts, struct imgspec *s)
{
    struct opts o = {0};
    bool ok;
    memset(s, 0, sizeof(*s));
    if (image_opts) {
        /* QemuOpts with "file" as the implied name of a leading bare
         * value, as qemu-img parses --image-opts strings. */
        const char *first_eq = strchr(arg, '='), *first_comma = strchr(arg, ',');
        if (!first_eq || (first_comma && first_comma < first_eq)) {
            size_t n = first_comma ? (size_t)(first_comma - arg) : strlen(arg);
            char *v = strndup(arg, n);
            ok = v && opts_set(&o, "file", v);
            free(v);
            if (ok && first_comma) {
                ok = opts_parse(&o, first_comma + 1);
            }
        } else {
            ok = opts_parse(&o, arg);
        }
        ok = ok && from_options(&o, s);
        opts_free(&o);
        return ok;
    }
    if (!strncmp(arg, "json:", 5)) {
        ok = parse_json(arg + 5, &o, s) && from_options(&o, s);
        opts_free(&o);
        return ok;
    }
    /* A protocol prefix is a colon before any slash (block.c
     * path_has_protocol()); "file:" is the one imgtool has. */
    size_t n = strcspn(arg, ":/");
    if (arg[n] == ':') {
        if (n == 4 && !strncmp(arg, "file", 4)) {
            snprintf(s->path, sizeof(s->path), "%s", arg + 5);
            return true;
        }
        return fail(s, "Unknown protocol '%.*s'", (int)n, arg);
    }
    snprintf(s->path, sizeof(s->path), "%s", arg);
    return true;
}

bool imgspec_target(const char *arg, char *path, size_t len, char *msg, size_t msglen)
{
    struct imgspec s;
    if (!strncmp(arg, "json:", 5)) {
        /* Creating through json: needs the whole option tree; imgtool
         * creates plain files only. */
        snprintf(msg, msglen, "Unknown protocol 'json'");
        return false;
    }
    if (!imgspec_parse(arg, false, &s)) {
        snprintf(msg, msglen, "%s", s.msg);
        return false;
    }
    snprintf(path, len, "%s", s.path);
    return true;
}
