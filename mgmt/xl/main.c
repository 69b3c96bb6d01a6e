/*
 * xl: Xen's toolstack command over hvkit's machines (xl.h).  The
 * subcommands, their usage lines and their one-line summaries are xl(1)'s
 * (Xen 4.17, `xl help`).
 */
#include "xl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *usage, *summary;
} cmds[] = {
    {"create", cmd_create, "[options] <ConfigFile> [options] [vars]",
     "Create a domain from config file <filename>."},
    {"config-update", cmd_config_update, "<Domain> <ConfigFile> [options] [vars]",
     "Update a running domain's saved configuration, used when rebuilding the domain after "
     "reboot."},
    {"list", cmd_list, "[options] [Domain]", "List information about all/some domains."},
    {"destroy", cmd_ops, "<Domain>", "Terminate a domain immediately."},
    {"shutdown", cmd_ops, "[options] <-a|Domain>", "Issue a shutdown signal to a domain."},
    {"reboot", cmd_ops, "<Domain>", "Issue a reboot signal to a domain."},
    {"pause", cmd_ops, "<Domain>", "Pause execution of a domain."},
    {"unpause", cmd_ops, "<Domain>", "Unpause a paused domain."},
    {"console", cmd_console,
     "[options] <Domain>\n-t <type>       console type, pv , serial or vuart\n"
     "-n <number>     console number",
     "Attach to domain's console."},
    {"save", cmd_save, "[options] <Domain> <CheckpointFile> [<ConfigFile>]",
     "Save a domain state to restore later."},
    {"restore", cmd_restore, "[options] [<ConfigFile>] <CheckpointFile>",
     "Restore a domain from a saved state."},
    {"dump-core", cmd_dump_core, "<Domain> <filename>", "Core dump a domain."},
    {"cd-insert", cmd_block_change, "<Domain> <VirtualDevice> <path>",
     "Insert a cdrom into a guest's cd drive."},
    {"cd-eject", cmd_block_change, "<Domain> <VirtualDevice>",
     "Eject a cdrom from a guest's cd drive."},
    {"mem-max", cmd_mem, "<Domain> <MemMB['b'[bytes]|'k'[KB]|'m'[MB]|'g'[GB]|'t'[TB]]>",
     "Set the maximum amount reservation for a domain."},
    {"mem-set", cmd_mem, "<Domain> <MemMB['b'[bytes]|'k'[KB]|'m'[MB]|'g'[GB]|'t'[TB]]>",
     "Set the current memory usage for a domain."},
    {"vcpu-list", cmd_vcpu_list, "[Domain, ...]", "List the VCPUs for all/some domains."},
    {"vcpu-pin", cmd_vcpu_pin,
     "[option] <Domain> <VCPU|all> <Hard affinity|-|all> <Soft affinity|-|all>",
     "Set which CPUs a VCPU can use."},
    {"vcpu-set", cmd_vcpu_set, "[option] <Domain> <vCPUs>",
     "Set the number of active VCPUs allowed for the domain."},
    {"info", cmd_info, "[-n|--numa]", "Get information about Xen host."},
    {"domid", cmd_ops, "<DomainName>", "Convert a domain name to domain id."},
    {"domname", cmd_ops, "<DomainId>", "Convert a domain id to domain name."},
    {"rename", cmd_rename, "<Domain> <NewDomainName>", "Rename a domain."},
    {"trigger", cmd_trigger, "<Domain> <nmi|reset|init|power|sleep|s3resume> [<VCPU>]",
     "Send a trigger to a domain."},
    {"dmesg", cmd_dmesg, "[-c]", "Read and/or clear dmesg buffer."},
    {"top", cmd_top, "[-b] [-d SECONDS] [-i ITERATIONS]",
     "Monitor a host and the domains in real time."},
    {"block-attach", cmd_block_change, "<Domain> <disk-spec-component(s)>...",
     "Create a new virtual block device."},
    {"block-list", cmd_block_list, "<Domain(s)>", "List virtual block devices for a domain."},
    {"block-detach", cmd_block_change, "<Domain> <DevId>",
     "Destroy a domain's virtual block device."},
    {"uptime", cmd_uptime, "[-s] [Domain]", "Print uptime for all/some domains."},
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

int xl_getopt(int argc, char **argv, const char *optstring, const struct option *longopts,
              const char *cmd, int reqargs)
{
    static const struct option none[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int opt;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, optstring, longopts ? longopts : none, NULL)) == '?') {
        if (optopt == 'h') {
            xl_usage(cmd);
            exit(0);
        }
        fprintf(stderr, "option `%c' not supported.\n", optopt);
        exit(2);
    }
    if (opt == 'h') {
        xl_usage(cmd);
        exit(0);
    }
    if (opt != -1)
        return opt;
    if (argc - optind < reqargs) {
        fprintf(stderr, "'xl %s' requires at least %d argument%s.\n\n", cmd, reqargs,
                reqargs > 1 ? "s" : "");
        xl_usage(cmd);
        exit(2);
    }
    return -1;
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
