/*
 * virsh's argument model: commands, their options, and the parser that turns
 * the words of a command into option values the way libvirt's
 * vshCommandParse does.
 *
 * The rules (each checked against Debian's virsh 9.0):
 *   - "--name VALUE" and "--name=VALUE" set a string option; "--flag" sets a
 *     boolean one; an option the command does not have is an error;
 *   - a word that is not an option fills the next string option not yet set,
 *     in declaration order, so both "pool-info p" and "pool-info --pool p"
 *     work; a word left over is "unexpected data";
 *   - a required option that is still missing is reported by its name in
 *     angle brackets, and nothing runs.
 */
#include "virsh.h"

#include <stdarg.h>
#include <string.h>

static const struct cmd_def *const groups[] = {dom_cmds,  life_cmds, stat_cmds, mon_cmds, disk_cmds,
                                               snap_cmds, pool_cmds, vol_cmds,  host_cmds};

const struct cmd_def *cmd_find(const char *name)
{
    for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
        for (const struct cmd_def *c = groups[g]; c->name; c++) {
            if (!strcmp(c->name, name))
                return c;
        }
    }
    return NULL;
}

/* The index of option `name` in `def`, or -1. */
static int opt_index(const struct cmd_def *def, const char *name, size_t len)
{
    for (int i = 0; i < MAX_OPTS && def->opts[i].name; i++) {
        if (strlen(def->opts[i].name) == len && !strncmp(def->opts[i].name, name, len))
            return i;
    }
    return -1;
}

const char *opt_str(const struct cmd_call *call, const char *name)
{
    int i = opt_index(call->def, name, strlen(name));
    return i < 0 ? NULL : call->value[i];
}

bool opt_bool(const struct cmd_call *call, const char *name)
{
    return opt_str(call, name) != NULL;
}

/* The next string option that a bare word fills, or -1 when none is left. */
static int next_positional(const struct cmd_def *def, const struct cmd_call *call)
{
    for (int i = 0; i < MAX_OPTS && def->opts[i].name; i++) {
        if (def->opts[i].kind != OPT_BOOL && !call->value[i])
            return i;
    }
    return -1;
}

/* Handle one "--name[=value]" word; *i moves past a separate value. */
static bool parse_option(const struct cmd_def *def, int argc, char **argv, int *i,
                         struct cmd_call *call)
{
    const char *name = argv[*i] + 2;
    const char *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    int o = opt_index(def, name, len);
    if (o < 0) {
        fprintf(stderr, "error: command '%s' doesn't support option --%.*s\n", def->name, (int)len,
                name);
        return false;
    }
    if (def->opts[o].kind == OPT_BOOL) {
        if (eq) {
            fprintf(stderr, "error: invalid '=' after option --%s\n", def->opts[o].name);
            return false;
        }
        call->value[o] = "";
        return true;
    }
    if (eq) {
        call->value[o] = eq + 1;
    } else if (*i + 1 < argc) {
        call->value[o] = argv[++*i];
    } else {
        fprintf(stderr, "error: expected syntax: --%s <string>\n", def->opts[o].name);
        return false;
    }
    return true;
}

bool cmd_parse(const struct cmd_def *def, int argc, char **argv, struct cmd_call *call)
{
    memset(call, 0, sizeof(*call));
    call->def = def;
    for (int i = 0; i < argc; i++) {
        if (!strncmp(argv[i], "--", 2) && argv[i][2]) {
            if (!parse_option(def, argc, argv, &i, call))
                return false;
            continue;
        }
        int o = next_positional(def, call);
        if (o < 0) {
            fprintf(stderr, "error: unexpected data '%s'\n", argv[i]);
            return false;
        }
        call->value[o] = argv[i];
    }
    for (int i = 0; i < MAX_OPTS && def->opts[i].name; i++) {
        if (def->opts[i].required && !call->value[i]) {
            fprintf(stderr, "error: command '%s' requires <%s> option\n", def->name,
                    def->opts[i].name);
            return false;
        }
    }
    return true;
}

void verror(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void vinfo(const char *fmt, ...)
{
    if (virsh.quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    putchar('\n');
    va_end(ap);
}
