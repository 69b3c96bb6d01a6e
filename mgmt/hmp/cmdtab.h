/*
 * The monitor's command table: every command hvkit's monitor knows, with
 * QEMU 7.2's name (aliases after '|', as in "print|p"), argument types,
 * parameter synopsis and help text, so that `help` prints QEMU's lines.
 */
#ifndef HVKIT_MGMT_HMP_CMDTAB_H
#define HVKIT_MGMT_HMP_CMDTAB_H

#include "args.h"
#include "hmp.h"

struct hmp_cmd {
    /* The name and its aliases, separated by '|' ("quit|q"). */
    const char *name;
    /*
     * The arguments, in QEMU's notation (monitor/hmp.c, the args_type of
     * hmp-commands.hx): a comma-separated list of KEY:TYPE where TYPE is
     *   s  a word or "quoted string"      S  the rest of the line
     *   F  a file name                    B  a block device name
     *   l  an expression (64 bits)        i  an expression (32 bits)
     *   M  an expression in MiB           /  a /fmt (count, format, size)
     *   -X a flag -X (-Xs: a flag with a string value)
     * and a '?' after s, S, F, B, l, i makes the argument optional.
     */
    const char *args_type;
    const char *params;
    const char *help;
    /* Run the command; NULL for a table that only holds sub-commands. */
    void (*run)(struct hmp *m, const struct hmp_args *args);
    /* For "info": the table of its sub-commands. */
    const struct hmp_cmd *sub;
};

/* The top-level commands and the `info` sub-commands, each ending with an
 * entry whose name is NULL, sorted by name as QEMU sorts its tables before
 * it prints them (monitor/misc.c sortcmdlist). */
extern const struct hmp_cmd hmp_cmds[];
extern const struct hmp_cmd hmp_info_cmds[];

/* Does the typed `word` name `cmd_name` or one of its aliases? (QEMU's
 * hmp_compare_cmd: '|' separates the alternatives; case counts.) */
bool hmp_cmd_matches(const char *word, const char *cmd_name);

/* The entry of `table` that `word` names, or NULL. */
const struct hmp_cmd *hmp_cmd_find(const struct hmp_cmd *table, const char *word);

#endif
