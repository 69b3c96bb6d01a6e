/*
 * create.c: `xl create [-c] [-p] CONFIG [KEY=VALUE...]`.  The file is read
 * with xl's own rules (cfg.c, domcfg.c), the KEY=VALUE arguments are read
 * after it as more lines of it, and the domain is booted as
 *
 *   bin/hvrun --control STATE/xl/NAME.sock -kernel KERNEL -append CMDLINE
 *             -m MEMORYM -drive file=F,format=FMT[,readonly=on]...
 *
 * in the background, in a process group of its own, its console (and hv's
 * lines) into STATE/xl/NAME.log.  xl returns once the domain's manager
 * greets it, as xl returns once Xen has built the domain.
 */
#include "xl.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "domcfg.h"

/* The `bin/hvrun` arguments for domain `d`; `argv` has room for 32. */
static void hvrun_args(const struct xldom *d, const char *sock, char **argv, char store[][1100])
{
    int n = 0, k = 0;
    argv[n++] = "hvrun";
    argv[n++] = "--control";
    argv[n++] = (char *)sock;
    /* The machine runs until it is destroyed, as a Xen domain does. */
    argv[n++] = "--timeout";
    argv[n++] = "31536000";
    argv[n++] = "-kernel";
    argv[n++] = (char *)d->kernel;
    if (d->cmdline[0]) {
        argv[n++] = "-append";
        argv[n++] = (char *)d->cmdline;
    }
    snprintf(store[k], 1100, "%ldM", d->memory);
    argv[n++] = "-m";
    argv[n++] = store[k++];
    for (int i = 0; i < d->ndisks; i++) {
        const struct xldisk *x = &d->disk[i];
        snprintf(store[k], 1100, "file=%s,format=%s%s", x->target, x->format,
                 x->readonly ? ",readonly=on" : "");
        argv[n++] = "-drive";
        argv[n++] = store[k++];
    }
    argv[n] = NULL;
}

/* Read the file and the overrides into `d`; xl's messages on failure. */
static bool read_config(const char *file, char **over, int nover, struct xldom *d)
{
    struct xlcfg cfg;
    fprintf(stderr, "Parsing config from %s\n", file);
    if (xlcfg_read_file(&cfg, file, stderr) < 0) {
        fprintf(stderr, "Failed to parse config: %s\n", strerror(EINVAL));
        return false;
    }
    for (int i = 0; i < nover; i++)
        if (xlcfg_override(&cfg, over[i]) < 0) {
            fprintf(stderr, "Failed to parse config: %s\n", strerror(EINVAL));
            xlcfg_free(&cfg);
            return false;
        }
    int rc = xldom_from_cfg(d, &cfg);
    xlcfg_free(&cfg);
    if (rc < 0)
        return false;
    /* hv's domains end as on_poweroff=destroy, and hvrun has no option
     * for the other policies yet: say so rather than pretend. */
    if (strcmp(d->on_reboot, "restart") || strcmp(d->on_crash, "destroy") ||
        strcmp(d->on_poweroff, "destroy"))
        fprintf(stderr,
                "hvkit: warning: on_poweroff=%s on_reboot=%s on_crash=%s: bin/hvrun has no "
                "option for these policies; hv's defaults apply\n",
                d->on_poweroff, d->on_reboot, d->on_crash);
    return true;
}

/* Start the machine; its pid, or -1. */
static pid_t spawn(const struct xldom *d, const char *sock, const char *log)
{
    char *argv[32], store[8][1100], hvrun[PATH_MAX];
    const char *top = getenv("HVKIT_TOP");
    snprintf(hvrun, sizeof(hvrun), "%s/bin/hvrun", top ? top : ".");
    hvrun_args(d, sock, argv, store);
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    /* The child: a process group of its own (destroy ends the whole
     * machine: hvrun, the emulator, the manager), no terminal. */
    setsid();
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int nul = open("/dev/null", O_RDONLY);
    if (fd < 0 || nul < 0)
        _exit(125);
    dup2(nul, 0), dup2(fd, 1), dup2(fd, 2);
    execv(hvrun, argv);
    fprintf(stderr, "xl: cannot run %s: %s\n", hvrun, strerror(errno));
    _exit(125);
}

/* Wait for the manager's greeting while the machine lives. */
static bool await_manager(const struct xldomrec *r, const char *sock)
{
    static struct ctlc c;
    char why[256];
    for (int t = 0; t < 1800; t++) {
        int st;
        if (waitpid(r->pid, &st, WNOHANG) == r->pid)
            return false;
        if (access(sock, F_OK) == 0 && ctlc_open(&c, sock, 10000, why, sizeof(why)) == 0) {
            ctlc_close(&c);
            return true;
        }
        nanosleep(&(struct timespec){0, 100000000}, NULL);
    }
    return false;
}

static void show_log(const char *log)
{
    FILE *f = fopen(log, "r");
    char line[1024];
    while (f && fgets(line, sizeof(line), f))
        fputs(line, stderr);
    if (f)
        fclose(f);
}

int cmd_create(int argc, char **argv)
{
    bool console = false, paused = false;
    int opt;
    while ((opt = getopt(argc, argv, "+cpqh")) != -1) {
        if (opt == 'c')
            console = true;
        else if (opt == 'p')
            paused = true;
        else if (opt != 'q') {
            xl_usage("create");
            return 2;
        }
    }
    if (optind >= argc) {
        xl_usage("create");
        return 2;
    }
    const char *file = argv[optind];
    struct xldom d;
    if (!read_config(file, argv + optind + 1, argc - optind - 1, &d) || !xl_state_open())
        return 1;
    struct xldomrec r;
    static struct xldomrec all[256];
    int n = xl_domains(all, 256);
    for (int i = 0; i < n; i++)
        if (!strcmp(all[i].name, d.name)) {
            fprintf(stderr, "libxl: error: Domain with name \"%s\" already exists.\n", d.name);
            return 1;
        }
    if (access(d.kernel, R_OK) != 0) {
        fprintf(stderr, "libxl: error: kernel '%s': %s\n", d.kernel, strerror(errno));
        return 1;
    }
    r = (struct xldomrec){.domid = xl_next_domid(), .start = (long)time(NULL)};
    snprintf(r.name, sizeof(r.name), "%s", d.name);
    if (!realpath(file, r.config))
        snprintf(r.config, sizeof(r.config), "%s", file);
    char sock[PATH_MAX], log[PATH_MAX];
    xl_path(sock, sizeof(sock), r.name, ".sock");
    xl_path(log, sizeof(log), r.name, ".log");
    r.pid = spawn(&d, sock, log);
    if (r.pid < 0 || !xl_save(&r)) {
        fprintf(stderr, "libxl: error: cannot start the domain: %s\n", strerror(errno));
        return 1;
    }
    if (!await_manager(&r, sock)) {
        show_log(log);
        fprintf(stderr, "libxl: error: domain %d (%s) did not start\n", r.domid, r.name);
        kill(-r.pid, SIGKILL);
        waitpid(r.pid, NULL, 0);
        xl_forget(&r);
        return 1;
    }
    if (paused && !xl_simple(&r, CTL_CMD_STOP))
        return 1;
    if (console) {
        char *cargv[] = {"console", r.name, NULL};
        optind = 0;
        return cmd_console(2, cargv);
    }
    return 0;
}
