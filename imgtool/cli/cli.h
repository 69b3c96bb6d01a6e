/*
 * Shared declarations of the imgtool command-line front end.
 *
 * imgtool mimics qemu-img 7.2: same verbs, options, messages and exit codes,
 * with the program name "imgtool" wherever qemu-img prints "qemu-img".  Each
 * verb lives in its own file (verb_<name>.c) and is called with the argv that
 * starts at the verb name, exactly as qemu-img's img_<name>() functions are.
 */
#ifndef IMGTOOL_CLI_H
#define IMGTOOL_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "hosted/qemu_text.h"

/*
 * The name used in every message, as qemu-img uses "qemu-img": "imgtool",
 * or "qemu-img" when the program runs under that name (a symlink called
 * qemu-img, or `exec -a qemu-img`), so that scripts and exam drills written
 * for qemu-img see its exact text (util.c).
 */
extern const char *prog_name;
/* Choose prog_name from argv[0] (main() calls it first). */
void prog_name_init(const char *argv0);
#define KARRAY_SIZE_CLI(a) (sizeof(a) / sizeof((a)[0]))

/* One verb: its name and entry point (argv[0] is the verb name). */
struct verb {
    const char *name;
    int (*fn)(int argc, char **argv);
};

int verb_amend(int argc, char **argv);
int verb_bitmap(int argc, char **argv);
int verb_check(int argc, char **argv);
int verb_commit(int argc, char **argv);
int verb_compare(int argc, char **argv);
int verb_convert(int argc, char **argv);
int verb_create(int argc, char **argv);
int verb_dd(int argc, char **argv);
int verb_dump(int argc, char **argv);
int verb_info(int argc, char **argv);
int verb_map(int argc, char **argv);
int verb_measure(int argc, char **argv);
int verb_rebase(int argc, char **argv);
int verb_resize(int argc, char **argv);
int verb_snapshot(int argc, char **argv);

/* ---- messages (util.c) ---- */

/* Print "imgtool: <message>\n" on stderr, like QEMU's error_report(). */
void error_report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print qemu-img's hint after a usage error and return exit status 1. */
int error_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The "Try 'imgtool --help'" line alone. */
void help_hint(void);
/* For getopt's ':' (missing argument) and '?' (unknown option) results:
 * print qemu-img's message for argv[optind - 1] and return 1. */
int bad_option(int c, char **argv);
/* The full help text (main.c); "-h" of every verb prints it. */
void print_help(void);

/* ---- steps every verb shares (verb_common.c) ---- */

/* The options that mean the same in every verb that accepts them. */
struct verb_common {
    const char *fmt;    /* -f: the image's format, NULL to probe it */
    bool quiet;         /* -q: print nothing but errors */
    bool progress;      /* -p: show progress; never together with -q */
    const char *cache;  /* -t: the written image's cache mode, NULL if not given */
    const char *output; /* --output: the report's format, NULL if not given */
};
struct option;
/*
 * The long options a verb shares with the others, for verb_getopt's
 * `shared`: --object, --image-opts (the verbs that open an image named on
 * the command line), --force-share and --format, the long names of -U and
 * -f, and --output (the verbs that print a report).  --help, the long name
 * of -h, every verb has.
 */
enum {
    VERB_OBJECT = 1 << 0,
    VERB_IMAGE_OPTS = 1 << 1,
    VERB_FORCE_SHARE = 1 << 2,
    VERB_FORMAT = 1 << 3,
    VERB_OUTPUT = 1 << 4,
};
#define VERB_OPENS       (VERB_OBJECT | VERB_IMAGE_OPTS)
#define VERB_OPENS_SHARE (VERB_OPENS | VERB_FORCE_SHARE)
/* info, map and check: one image in, a report out. */
#define VERB_REPORTS (VERB_OPENS_SHARE | VERB_FORMAT | VERB_OUTPUT)
/*
 * getopt_long() for a verb: the next option that is not one of the common
 * ones, or -1 at the end of the options.  -f, -q, -p, -t and --output are
 * stored in vc; -U and -T are accepted and ignored, since neither locking
 * nor the source's cache mode change what imgtool does.  Only the letters
 * in the verb's own optstring are ever taken.  The long options are --help, those
 * `shared` names (VERB_*) and the verb's own `longopts` (NULL: none, else
 * ended by a zero entry).  The caller sets optind = 1 first.
 */
int verb_getopt(int argc, char **argv, const char *optstring, const struct option *longopts,
                unsigned shared, struct verb_common *vc);
/*
 * Long options every verb that takes them handles alike (in verb_getopt):
 * --object (checked, then dropped: object.c), --image-opts (image
 * arguments are option strings: image.c) and --output (kept in vc).  OPT_DONE_FAIL and OPT_DONE_OK
 * come back from verb_getopt when --object failed or printed its help;
 * verb_other_option turns them into exit statuses 1 and 0.
 */
enum {
    OPT_COMMON_OBJECT = 0x1000,
    OPT_COMMON_IMAGE_OPTS,
    OPT_COMMON_OUTPUT,
    OPT_DONE_FAIL,
    OPT_DONE_OK
};
/* --image-opts was given: open_image() reads option strings. */
extern bool cli_image_opts;
/*
 * The default arm of every verb's getopt switch: ':' and '?' (qemu-img's
 * missing-argument and unrecognized-option messages, status 1), 'h' (the
 * help text, status 0), and any other option the verb accepts by name but
 * imgtool does not implement ("X is not supported by imgtool", status
 * unsupported_status).  Returns the verb's exit status.
 */
int verb_other_option(int c, char **argv, int unsupported_status);
/* argv[optind] if it is the only operand left, else NULL after qemu-img's
 * "Expecting one image file name" usage error (exit status 1). */
const char *verb_one_filename(int argc, char **argv);
/* The one image file name (in *filename) and the --output format (vc's) of
 * the verbs that print a report (info, map, check), checked in qemu-img's
 * order: the operands first, then --output.  The OFMT_* value, or -1 after
 * the message of whichever check failed (the verb exits 1). */
int verb_file_and_output(int argc, char **argv, const char *output, bool allow_dot,
                         const char **filename);
/* IMG_FMT_* of a format to create, or -1 after qemu-img's "Unknown file
 * format 'F'" (as "PREFIX: Unknown ..." when prefix is not NULL). */
int target_format(const char *fmt, const char *prefix);

/* ---- numbers and sizes (size.c) ---- */

/*
 * qemu_strtosz(): a byte count with an optional binary suffix (b, k, M, G,
 * T, P, E; case-insensitive), decimal fractions allowed before a suffix, and
 * hexadecimal (0x...) without fraction or suffix.  Returns 0, -EINVAL
 * (malformed) or -ERANGE (does not fit in 64 bits).
 */
int parse_size(const char *s, uint64_t *out);
/*
 * qemu-img's cvtnum_full(): parse a size named NAME in the message, within
 * [min, max].  On error prints qemu-img's two-line or range message and
 * returns a negative errno.
 */
int64_t cvtnum_full(const char *name, const char *value, int64_t min, int64_t max);
int64_t cvtnum(const char *name, const char *value);

/* ---- "-o key=value,..." option lists (opts.c) ---- */

#define OPTS_MAX 32
struct kv {
    char *key;
    char *value; /* NULL when given as a bare key */
};
struct opts {
    int n;
    struct kv kv[OPTS_MAX];
};
/* Append one -o argument (commas escaped by doubling, as QemuOpts does);
 * returns false with a message printed on a parse error. */
bool opts_parse(struct opts *o, const char *arg);
/* Set KEY to a copy of VALUE (no ",," unescaping); false if the list is
 * full (message printed) or memory ran out. */
bool opts_set(struct opts *o, const char *key, const char *value);
/* Value of KEY or NULL. */
const char *opts_get(struct opts *o, const char *key);
bool opts_has(const struct opts *o, const char *key);
/* Remove KEY if present (the order of the others may change). */
void opts_del(struct opts *o, const char *key);
void opts_free(struct opts *o);
/* Does the accumulated -o string ask for help ("help" or "?")? */
bool opts_is_help(const char *arg);
/* qemu-img merges repeated -o options: "a,b" + "c" -> "a,b,c".  Returns
 * false after qemu-img's "Invalid option list: ARG" (an empty list, a
 * leading comma, an odd number of trailing commas) or on no memory. */
bool opts_append(char **acc, const char *arg);

/* ---- output format ---- */
enum output_fmt { OFMT_HUMAN, OFMT_JSON, OFMT_DOT };
/* Parse --output=..., accepting "dot" only when allow_dot; NULL (no
 * --output) is OFMT_HUMAN.  Prints qemu-img's error and returns -1 on an
 * unknown value. */
int parse_output_format(const char *s, bool allow_dot);

/* ---- opening images (image.c) ---- */
struct img;
/* Is fmt a format imgtool knows ("raw", "qcow2")? */
bool fmt_known(const char *fmt);
/*
 * Open filename (format fmt or NULL to probe) with IMG_OPEN_* flags.  On
 * failure prints qemu-img's "Could not open 'F': reason" and returns NULL.
 */
struct img *open_image(const char *filename, const char *fmt, unsigned flags);
/* Open filename read-only a second time, as open_image opened it before:
 * no message and no warning (they were printed the first time); NULL if
 * it does not open. */
struct img *reopen_image(const char *filename, const char *fmt);
/* The same for an image written as a target (convert, dd, commit): never
 * an --image-opts string. */
struct img *open_target(const char *filename, const char *fmt, unsigned flags);
/* The same for a path that is a file name whatever it looks like (the
 * resolved names of a backing chain). */
struct img *open_file_path(const char *path, const char *fmt, unsigned flags);
/* Print QEMU's warning for a read-write open whose format was probed as raw. */
void warn_probed_raw(const char *filename);
/* Print QEMU's warning for stale bitmaps (an extension without its
 * autoclear bit), if img has them. */
void warn_stale_bitmaps(struct img *img);
/* The library's message for a failed call on img, or a generic one for
 * the negative IMG_E* code if the library recorded none. */
const char *img_msg(struct img *img, int code);
/* Print "imgtool: <prefix>: <library message>" for a failed call on img. */
void report_img_error(struct img *img, const char *prefix);

/* ---- paths (path.c) ---- */
/* `name` relative to the directory of `base` (malloc'd). */
char *path_combine(const char *base, const char *name);
/* Does path exist (any kind of file)? */
bool file_exists(const char *path);
/* After a failed command: remove path if it did not exist before. */
void remove_if_new(const char *path, bool existed);
/* Do two existing paths name the same file (device and inode)? */
bool same_file(const char *a, const char *b);

#endif
