/*
 * Messages in qemu-img's wording.
 *
 * QEMU's error_report() prefixes every line with the program name and a
 * colon; qemu-img's usage errors add the line "Try 'qemu-img --help' for
 * more information" and exit with status 1 (qemu-img.c, error_exit()).
 */
#include "cli.h"

#include <stdarg.h>
#include <string.h>

#include "img.h"

const char *prog_name = "imgtool";

void prog_name_init(const char *argv0)
{
    /* Only the last path component counts: "/usr/local/bin/qemu-img" and
     * "qemu-img" both mean the drop-in name.  Any other name (imgtool,
     * bin/imgtool, a renamed copy) keeps imgtool's own name. */
    const char *base = argv0 ? strrchr(argv0, '/') : NULL;
    base = base ? base + 1 : argv0;
    if (base && !strcmp(base, "qemu-img")) {
        prog_name = "qemu-img";
    }
    /* The library names the tool in advice lines ("Use imgtool amend"). */
    img_hosted_set_tool_name(prog_name);
}

/* "imgtool: <message>\n" on stderr, the body of both reporters below. */
static void vreport(const char *fmt, va_list ap)
{
    /* One fprintf per piece: stderr is unbuffered, and the message is
     * short, so interleaving with other writers is not a concern. */
    fprintf(stderr, "%s: ", prog_name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void error_report(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(fmt, ap);
    va_end(ap);
}

void help_hint(void)
{
    fprintf(stderr, "Try '%s --help' for more information\n", prog_name);
}

int error_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(fmt, ap);
    va_end(ap);
    help_hint();
    return 1;
}

int bad_option(int c, char **argv)
{
    /* qemu-img.c missing_argument() / unrecognized_option(); the option
     * strings start with ':' so getopt itself stays quiet. */
    extern int optind;
    if (c == ':') {
        return error_usage("missing argument for option '%s'", argv[optind - 1]);
    }
    return error_usage("unrecognized option '%s'", argv[optind - 1]);
}

int parse_output_format(const char *s, bool allow_dot)
{
    if (!s) {
        return OFMT_HUMAN; /* qemu-img's default without --output */
    }
    if (!strcmp(s, "json")) {
        return OFMT_JSON;
    }
    if (!strcmp(s, "human")) {
        return OFMT_HUMAN;
    }
    if (allow_dot && !strcmp(s, "dot")) {
        return OFMT_DOT;
    }
    /* qemu-img.c: "--output must be used with human or json as argument." */
    error_report("--output must be used with human or json as argument.");
    return -1;
}
