/*
 * xl: Xen's toolstack command over hvkit's machines (xl.h).  The
 * subcommands, their usage lines and their one-line summaries are xl(1)'s
 * (Xen 4.17, `xl help`).
 */
#include "xl.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *usage, *summary;
} cmds[] = {
    {"create", cmd_create, "[options] <ConfigFile> [options] [vars]",
     "Create a domain from config file <filename>."},
    {"list", cmd_list, "[options] [Domain]", "List information about all/some domains."},
    {"destroy", cmd_ops, "<Domain>", "Terminate a domain immediately."},
    {"shutdown", cmd_ops, "[options] <-a|Domain>", "Issue a shutdown signal to a domain."},
    {"reboot", cmd_ops, "<Domain>", "Issue a reboot signal to a domain."},
    {"pause", cmd_ops, "<Domain>", "Pause execution of a domain."},
    {"unpause", cmd_ops, "<Domain>", "Unpause a paused domain."},
    {"console", cmd_console, "<Domain>", "Attach to domain's console."},
    {"domid", cmd_ops, "<DomainName>", "Convert a domain name to domain id."},
    {"domname", cmd_ops, "<DomainId>", "Convert a domain id to domain name."},
};
#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

void xl_usage(const char *cmd)
{
    for (size_t i = 0; i < NCMDS; i++)
        if (!strcmp(cmds[i].name, cmd)) {
            fprintf(stderr, "Usage: xl [-v] %s %s\n\n%s\n\n", cmd, cmds[i].usage, cmds[i].summary);
            return;
        }
}

static void help(FILE *out)
{
    fprintf(out, "Usage xl [-vfNtT] <subcommand> [args]\n\nxl full list of subcommands:\n\n");
    for (size_t i = 0; i < NCMDS; i++)
        fprintf(out, " %-19s %s\n", cmds[i].name, cmds[i].summary);
    fprintf(out, "\n");
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "help") || !strcmp(argv[1], "-h")) {
        help(argc < 2 ? stderr : stdout);
        return argc < 2 ? 1 : 0;
    }
    for (size_t i = 0; i < NCMDS; i++)
        if (!strcmp(cmds[i].name, argv[1]))
            return cmds[i].run(argc - 1, argv + 1);
    fprintf(stderr, "command not implemented\n");
    help(stderr);
    return 1;
}
