/*
 * What the verbs share between parsing their options and doing their work.
 *
 * qemu-img.c repeats these steps in every img_<verb>() function; here each
 * is written once: the getopt results that every verb treats alike, the
 * single file name most verbs take and the target format of the verbs that
 * create images.
 */
#include "cli.h"
#include "img.h"
#include "imgspec.h"

#include <getopt.h>
#include <string.h>

static bool verb_common_option(int c, struct verb_common *vc)
{
    switch (c) {
    case 'f':
        /* -f names the format of the image the verb opens. */
        vc->fmt = optarg;
        return true;
    case 'q':
        /* qemu-img: "-q" wins over "-p" whatever their order. */
        vc->quiet = true;
        vc->progress = false;
        return true;
    case 'p':
        vc->progress = !vc->quiet;
        return true;
    case OPT_COMMON_OUTPUT:
        /* --output names the report's format; the verb parses it after
         * its operands, as qemu-img does. */
        vc->output = optarg;
        return true;
    case 't':
        /* -t chooses the cache mode of the image the verb writes; only
         * convert looks at it (its default, "unsafe", never syncs). */
        vc->cache = optarg;
        return true;
    case 'U':
    case 'T':
        /* --force-share (-U) overrides image locking and -T chooses the
         * source's cache mode: imgtool has neither, so the result is the
         * same. */
        return true;
    default:
        return false;
    }
}

/* The most long options a verb has: its own and the shared ones. */
#define VERB_LONGOPTS_MAX 24

/*
 * The long-option table getopt_long() gets for a verb: --help, the shared
 * options the verb takes, then its own, in `all`.  getopt_long() finds an
 * option by its name wherever it stands, so the order does not matter.
 */
static void verb_longopts(struct option *all, const struct option *own, unsigned shared)
{
    static const struct {
        unsigned verbs; /* the VERB_* bit of the verbs that take it; 0: all */
        struct option opt;
    } common[] = {
        {0, {"help", no_argument, 0, 'h'}},
        {VERB_OBJECT, {"object", required_argument, 0, OPT_COMMON_OBJECT}},
        {VERB_IMAGE_OPTS, {"image-opts", no_argument, 0, OPT_COMMON_IMAGE_OPTS}},
        {VERB_FORCE_SHARE, {"force-share", no_argument, 0, 'U'}},
        {VERB_FORMAT, {"format", required_argument, 0, 'f'}},
        {VERB_OUTPUT, {"output", required_argument, 0, OPT_COMMON_OUTPUT}},
    };
    int n = 0;
    for (size_t i = 0; i < KARRAY_SIZE_CLI(common); i++) {
        if ((shared & common[i].verbs) == common[i].verbs) {
            all[n++] = common[i].opt;
        }
    }
    /* The verbs' tables are fixed and small: the limit is never reached. */
    for (; own && own->name && n < VERB_LONGOPTS_MAX - 1; own++) {
        all[n++] = *own;
    }
    all[n] = (struct option){0};
}

int verb_getopt(int argc, char **argv, const char *optstring, const struct option *longopts,
                unsigned shared, struct verb_common *vc)
{
    /* Options with the same meaning in every verb are taken here; the
     * verb's switch sees only its own options and getopt's errors. */
    struct option all[VERB_LONGOPTS_MAX];
    verb_longopts(all, longopts, shared);
    int c;
    for (;;) {
        c = getopt_long(argc, argv, optstring, all, NULL);
        if (c == OPT_COMMON_IMAGE_OPTS) {
            cli_image_opts = true;
            continue;
        }
        if (c == OPT_COMMON_OBJECT) {
            /* qemu-img creates the objects as it parses the options. */
            int r = object_add(optarg);
            if (r) {
                return r == 2 ? OPT_DONE_OK : OPT_DONE_FAIL;
            }
            continue;
        }
        if (c == -1 || !verb_common_option(c, vc)) {
            return c;
        }
    }
}

int verb_other_option(int c, char **argv, int unsupported_status)
{
    switch (c) {
    case ':':
    case '?':
        /* A missing argument or an unknown option: qemu-img's usage
         * error, whatever the verb (qemu-img.c error_exit() exits 1). */
        return bad_option(c, argv);
    case 'h':
        /* "-h" after the verb prints the whole help and succeeds, as
         * qemu-img's help() does. */
        print_help();
        return 0;
    case OPT_DONE_FAIL:
        return 1; /* the message is out already */
    case OPT_DONE_OK:
        return 0;
    default:
        /* An option the verb knows by name (--object, --image-opts...)
         * but imgtool does not implement: say so rather than ignore it. */
        error_report("%s is not supported by imgtool", argv[optind - 1]);
        return unsupported_status;
    }
}

const char *verb_one_filename(int argc, char **argv)
{
    /* qemu-img's check of "exactly one operand after the options". */
    if (optind != argc - 1) {
        error_usage("Expecting one image file name");
        return NULL;
    }
    return argv[optind];
}

int verb_file_and_output(int argc, char **argv, const char *output, bool allow_dot,
                         const char **filename)
{
    /* qemu-img's img_info, img_map and img_check look at the operand
     * count before they parse --output, so a bad command line with both
     * faults reports the missing file name. */
    *filename = verb_one_filename(argc, argv);
    if (!*filename) {
        return -1;
    }
    return parse_output_format(output, allow_dot);
}

int target_format(const char *fmt, const char *prefix)
{
    /* Only the drivers imgtool has can be created; qemu-img's message is
     * "Unknown file format 'F'", prefixed by the file name in create. */
    if (!fmt_known(fmt)) {
        if (prefix) {
            error_report("%s: Unknown file format '%s'", prefix, fmt);
        } else {
            error_report("Unknown file format '%s'", fmt);
        }
        return -1;
    }
    return !strcmp(fmt, "qcow2") ? IMG_FMT_QCOW2 : IMG_FMT_RAW;
}
