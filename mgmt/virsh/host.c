/*
 * Commands about the connection itself: uri, hostname, help.
 */
#include "virsh.h"

#include <string.h>
#include <unistd.h>

static bool uri(const struct cmd_call *call)
{
    (void)call;
    printf("%s\n", virsh.uri);
    return true;
}

static bool hostname(const struct cmd_call *call)
{
    char name[256] = "";
    (void)call;
    gethostname(name, sizeof(name) - 1);
    printf("%s\n", name);
    return true;
}

/* help COMMAND: the command's synopsis and options, in the shape of
 * virsh's own help pages (NAME, SYNOPSIS, OPTIONS). */
static void help_one(const struct cmd_def *def)
{
    printf("  NAME\n    %s - %s\n\n  SYNOPSIS\n    %s", def->name, def->summary, def->name);
    for (int i = 0; i < MAX_OPTS && def->opts[i].name; i++) {
        const struct opt_def *o = &def->opts[i];
        if (o->kind == OPT_BOOL)
            printf(" [--%s]", o->name);
        else if (o->required)
            printf(" <%s>", o->name);
        else
            printf(" [--%s <string>]", o->name);
    }
    printf("\n\n  OPTIONS\n");
    for (int i = 0; i < MAX_OPTS && def->opts[i].name; i++) {
        const struct opt_def *o = &def->opts[i];
        char left[64];
        if (o->kind == OPT_BOOL)
            snprintf(left, sizeof(left), "--%s", o->name);
        else if (o->required)
            snprintf(left, sizeof(left), "[--%s] <string>", o->name);
        else
            snprintf(left, sizeof(left), "--%s <string>", o->name);
        printf("    %-15s  %s\n", left, o->help);
    }
}

/* help: every command of each group with its summary, as virsh lists them. */
static void help_all(void)
{
    static const struct {
        const char *title;
        const struct cmd_def *cmds;
    } groups[] = {{"Domain Management (help keyword 'domain')", dom_cmds},
                  {"Domain Disks (help keyword 'disk')", disk_cmds},
                  {"Snapshot (help keyword 'snapshot')", snap_cmds},
                  {"Storage Pool (help keyword 'pool')", pool_cmds},
                  {"Storage Volume (help keyword 'volume')", vol_cmds},
                  {"Virsh itself (help keyword 'virsh')", host_cmds}};
    printf("Grouped commands:\n\n");
    for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
        printf(" %s:\n", groups[g].title);
        for (const struct cmd_def *c = groups[g].cmds; c->name; c++)
            printf("    %-30s %s\n", c->name, c->summary);
        printf("\n");
    }
}

static bool help(const struct cmd_call *call)
{
    const char *name = opt_str(call, "command");
    if (!name) {
        help_all();
        return true;
    }
    const struct cmd_def *def = cmd_find(name);
    if (!def) {
        verror("command or command group '%s' doesn't exist", name);
        return false;
    }
    help_one(def);
    return true;
}

const struct cmd_def host_cmds[] = {
    {"help",
     help,
     "print help",
     {{"command", OPT_STRING, false,
       "Prints global help, command specific help, or help for a group of related commands"}}},
    {"hostname", hostname, "print the hypervisor hostname", {{0}}},
    {"uri", uri, "print the hypervisor canonical URI", {{0}}},
    {NULL, NULL, NULL, {{0}}},
};
