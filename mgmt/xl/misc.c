/*
 * misc.c: more xl(1) commands on one running domain (Xen 4.17
 * xl_misc.c, xl_saverestore.c):
 *
 *   xl rename DOMAIN NEWNAME      the record and its files move (rundom.h)
 *   xl trigger DOMAIN nmi|reset|init|power|sleep|s3resume [VCPU]
 *   xl dump-core DOMAIN FILE      an ELF core, written by the monitor's
 *                                 dump-guest-memory (bin/hvmon, mgmt/hmp)
 *   xl config-update DOMAIN CFG [KEY=VALUE...]
 *
 * (xl save and xl restore are in saverestore.c.)
 */
#include "xl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/text.h"
#include "cfg.h"
#include "domcfg.h"

int cmd_rename(int argc, char **argv)
{
    while (xl_getopt(argc, argv, "h", NULL, "rename", 2) != -1)
        ;
    const char *dom = argv[optind], *name = argv[optind + 1];
    struct rundom r, other;
    if (!xl_state_open() || !xl_find(dom, &r))
        return 1;
    if (!strcmp(name, r.name))
        return 0;
    /* libxl's checks: a name of its own (not a domain id), not taken. */
    char *end;
    strtol(name, &end, 10);
    bool numeric = *name && !*end;
    if (!*name || numeric || strchr(name, '/') || strchr(name, '.') || strlen(name) > 63 ||
        !strcmp(name, "Domain-0") || rundom_find(name, &other)) {
        if (!numeric && rundom_find(name, &other))
            fprintf(stderr, "libxl: error: Domain with name \"%s\" already exists.\n", name);
        else
            fprintf(stderr, "libxl: error: Invalid domain name \"%s\".\n", name);
        fprintf(stderr, "Can't rename domain '%s'.\n", dom);
        return 1;
    }
    if (!rundom_rename(&r, name)) {
        fprintf(stderr, "Can't rename domain '%s'.\n", dom);
        return 1;
    }
    return 0;
}

/* ---- trigger ---- */

int cmd_trigger(int argc, char **argv)
{
    static const struct {
        const char *name, *command; /* NULL: hv has nothing to do it with */
    } triggers[] = {
        {"power", CTL_CMD_SYSTEM_POWERDOWN}, {"sleep", NULL},
        {"nmi", CTL_CMD_INJECT_NMI},         {"init", NULL},
        {"reset", CTL_CMD_SYSTEM_RESET},     {"s3resume", NULL},
    };
    while (xl_getopt(argc, argv, "h", NULL, "trigger", 2) != -1)
        ;
    struct rundom r;
    if (!xl_state_open() || !xl_find(argv[optind], &r))
        return 1;
    const char *name = argv[optind + 1];
    size_t t = 0;
    while (t < sizeof(triggers) / sizeof(triggers[0]) && strcmp(name, triggers[t].name))
        t++;
    if (t == sizeof(triggers) / sizeof(triggers[0])) {
        fprintf(stderr, "Invalid trigger \"%s\"\n", name);
        return 1;
    }
    /* The vCPU, 0 by default and for what strtol cannot read, as xl's
     * main_trigger() parses it; only the NMI trigger uses it (Xen's NMI
     * trigger sets that vCPU's pending NMI: the protocol's `cpu`). */
    long vcpu = 0;
    if (argc > optind + 2) {
        char *end;
        vcpu = strtol(argv[optind + 2], &end, 10);
        if (vcpu == 0 && end == argv[optind + 2])
            fprintf(stderr, "Invalid vcpuid, using default vcpuid=0.\n\n");
    }
    char args[64];
    if (!strcmp(name, "nmi"))
        snprintf(args, sizeof(args), "{\"domain\": 0, \"cpu\": %ld}", vcpu);
    else
        snprintf(args, sizeof(args), "{\"domain\": 0}");
    /* xl's main_trigger() does not look at what libxl_send_trigger()
     * answered: a trigger that was not sent (a vCPU the domain lacks, one
     * hv has nothing for) gets libxl's error line, with hv's reason where
     * libxl names the errno, and xl still exits 0. */
    char why[256];
    if (!triggers[t].command)
        snprintf(why, sizeof(why), "hv has no %s trigger", name);
    if (!triggers[t].command || xl_call(&r, triggers[t].command, args, why, sizeof(why)) != 0)
        fprintf(stderr, "libxl: error: Domain %d:Send trigger '%s' failed: %s\n", r.domid, name,
                why);
    return 0;
}

/* ---- dump-core ---- */

/* Run the monitor (bin/hvmon) on the domain's socket with one command;
 * its "Error: ..." line (if any) into `err`.  Returns its exit status, or
 * -1 when it could not run. */
static int monitor_command(const struct rundom *r, const char *command, char *err, size_t len)
{
    char sock[PATH_MAX], hvmon[PATH_MAX], out[] = "/tmp/xl-hvmon-XXXXXX";
    const char *top = getenv("HVKIT_TOP");
    snprintf(hvmon, sizeof(hvmon), "%s/bin/hvmon", top ? top : ".");
    rundom_path(sock, sizeof(sock), r->name, ".sock");
    /* The monitor's transcript, read back for its "Error:" line; the
     * file has no name from the start, so that it goes with xl however
     * xl ends. */
    int fd = mkstemp(out), in[2];
    if (fd < 0)
        return -1;
    unlink(out);
    if (pipe(in) < 0) {
        close(fd);
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        dup2(in[0], 0), dup2(fd, 1), dup2(fd, 2);
        close(in[1]);
        execl(hvmon, "hvmon", sock, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    if (pid < 0) {
        close(in[1]);
        close(fd);
        return -1;
    }
    FILE *w = fdopen(in[1], "w");
    if (w) {
        fprintf(w, "%s\n", command);
        fclose(w);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    lseek(fd, 0, SEEK_SET);
    FILE *f = fdopen(fd, "r");
    char line[512];
    err[0] = 0;
    while (f && fgets(line, sizeof(line), f))
        if (!strncmp(line, "Error: ", 7) && !err[0]) {
            line[strcspn(line, "\n")] = 0;
            snprintf(err, len, "%s", line + 7);
        }
    if (f)
        fclose(f);
    else
        close(fd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int cmd_dump_core(int argc, char **argv)
{
    while (xl_getopt(argc, argv, "h", NULL, "dump-core", 2) != -1)
        ;
    struct rundom r;
    if (!xl_state_open() || !xl_find(argv[optind], &r))
        return 1;
    char file[PATH_MAX + 32], cmd[PATH_MAX + 64], err[512];
    const char *name = argv[optind + 1];
    /* The monitor runs in this directory too, but say the whole path. */
    if (name[0] != '/') {
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof(cwd)))
            cwd[0] = 0;
        snprintf(file, sizeof(file), "%s/%s", cwd, name);
    } else {
        snprintf(file, sizeof(file), "%s", name);
    }
    snprintf(cmd, sizeof(cmd), "dump-guest-memory %s", file);
    struct stat st;
    bool existed = stat(file, &st) == 0;
    /* The guest's RAM travels through the staging disk, 8 MiB at a
     * time (docs/monitor.md "Memory in bulk"). */
    int rc = monitor_command(&r, cmd, err, sizeof(err));
    if (rc != 0 || err[0] || stat(file, &st) < 0) {
        /* A dump that failed half way is no dump. */
        if (!existed)
            unlink(file);
        fprintf(stderr, "libxl: error: domain %d: core dump: %s\n", r.domid,
                err[0] ? err : "the monitor (bin/hvmon) ended before the dump was written");
        fprintf(stderr, "core dump failed (rc=%d)\n", -3);
        return 1;
    }
    return 0;
}

/* ---- config-update ---- */

int cmd_config_update(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "xl config-update requires a domain argument\n");
        xl_usage("config-update");
        return 1;
    }
    fprintf(stderr, "WARNING: xl now has better capability to manage domain configuration, "
                    "avoid using this command when possible\n");
    struct rundom r;
    if (!xl_state_open() || !xl_find(argv[1], &r))
        return 1;
    const char *file = NULL;
    char *over[64];
    int nover = 0;
    for (int i = 2; i < argc; i++) {
        if (strchr(argv[i], '=') && nover < 64)
            over[nover++] = argv[i];
        else if (!file && argv[i][0] != '-')
            file = argv[i];
        else {
            xl_usage("create");
            return 2;
        }
    }
    if (!file) {
        fprintf(stderr, "Config file not specified\n");
        return 1;
    }
    struct xlcfg cfg;
    static struct xldom d;
    if (xlcfg_read_file(&cfg, file, stderr) < 0) {
        fprintf(stderr, "Failed to parse config: %s\n", strerror(EINVAL));
        return 1;
    }
    int bad = 0;
    for (int i = 0; i < nover && !bad; i++)
        bad = xlcfg_override(&cfg, over[i]) < 0;
    if (bad || xldom_from_cfg(&d, &cfg) < 0) {
        xlcfg_free(&cfg);
        if (bad)
            fprintf(stderr, "Failed to parse config: %s\n", strerror(EINVAL));
        return 1;
    }
    xlcfg_free(&cfg);
    /* The new configuration is kept for the domain: xl list -l shows it.
     * In Xen it is used when the domain is rebuilt at its next reboot;
     * hv rebuilds a domain from what it was started with, so here it takes
     * effect at the next xl create from it. */
    fprintf(stderr, "setting dom%d configuration\n", r.domid);
    xl_keep_config(&r, file, over, nover);
    if (!realpath(file, r.config))
        snprintf(r.config, sizeof(r.config), "%s", file);
    return rundom_save(&r) ? 0 : 1;
}
