/*
 * Reading a monitor command line the way QEMU 7.2 does (monitor/hmp.c):
 * the command's name (up to a space or a '/'), a sub-command for `info`,
 * then the arguments its args_type describes, with QEMU's messages for
 * everything that does not fit.
 */
#ifndef HVKIT_MGMT_HMP_PARSE_H
#define HVKIT_MGMT_HMP_PARSE_H

#include "cmdtab.h"
#include "expr.h"

/*
 * Find the command `line` names in `table` (descending into `info`'s
 * sub-table).  Returns it with *rest just after its name and the spaces
 * after that, or NULL: nothing typed (silently), or an unknown command,
 * for which QEMU's "unknown command: 'NAME'" is printed on `out`.
 */
const struct hmp_cmd *hmp_parse_command(FILE *out, const char *line, const char **rest,
                                        const struct hmp_cmd *table);

/* What the argument parser needs from the monitor: the remembered /fmt
 * format and size (updated by a /fmt argument) and registers for '$'. */
struct hmp_parse_ctx {
    int *fmt_format;
    int *fmt_size;
    hmp_reg_fn reg;
    void *reg_ctx;
};

/*
 * Parse `text` (the arguments of `cmd`) into `args`.  Returns 0, or -1
 * after printing QEMU's message on `out` (e.g. "x: extraneous characters
 * at the end of line", "invalid char in format: 'q'").  The caller then
 * prints hmp_try_help's line, as QEMU does.
 */
int hmp_parse_args(FILE *out, const struct hmp_cmd *cmd, const char *text,
                   const struct hmp_parse_ctx *pc, struct hmp_args *args);

/* QEMU's hint after bad arguments: Try "help NAME" for more information,
 * where NAME is the line up to the end of the command's name. */
void hmp_try_help(FILE *out, const char *line, const char *rest);

/* `help [cmd]`: every command of `table`, or the ones the words of `name`
 * select ("info", "info status"), one line each: NAME PARAMS -- HELP. */
void hmp_help(FILE *out, const struct hmp_cmd *table, const char *name);

#endif
