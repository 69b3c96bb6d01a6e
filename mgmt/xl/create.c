/*
 * create.c: `xl create [-c] [-p] CONFIG [KEY=VALUE...]`.  The file is read
 * with xl's own rules (cfg.c, domcfg.c), the KEY=VALUE arguments are read
 * after it as more lines of it, and the domain is booted as
 *
 *   bin/hvrun --control STATE/running/NAME.sock -kernel KERNEL
 *             -append CMDLINE -m MEMORYM --on-poweroff A --on-reboot A
 *             --on-crash A -drive file=F,format=FMT[,readonly=on]...
 *
 * (with maxmem > memory: -m MAXMEMM --balloon MEMORYM, the RAM of maxmem
 * and the balloon's first target at memory, so the guest's balloon driver
 * gives the rest back as it starts and `xl mem-set` may raise it again;
 * with maxvcpus > vcpus: -smp VCPUS,maxcpus=MAXVCPUS, for xl vcpu-set),
 * in the background, in a process group of its own, its console (and hv's
 * lines) into STATE/running/NAME.log (mgmt/common/rundom.c starts it).  xl returns once the
 * domain's manager greets it, as xl returns once Xen has built the domain.
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

#include "../common/text.h"
#include "domcfg.h"

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
    return true;
}

/* hv's action for one of xl.cfg's (bin/hvrun --on-poweroff and friends:
 * destroy, restart, preserve).  xl's other actions are these three with
 * something more hvkit does not do (a core dump, a new name, a soft
 * reset), which is said rather than dropped silently. */
static const char *hv_action(const char *event, const char *xl)
{
    static const struct {
        const char *xl, *hv;
    } map[] = {
        {"destroy", "destroy"},          {"restart", "restart"},
        {"preserve", "preserve"},        {"rename-restart", "restart"},
        {"coredump-destroy", "destroy"}, {"coredump-restart", "restart"},
        {"soft-reset", "restart"},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (!strcmp(xl, map[i].xl)) {
            if (i >= 3)
                fprintf(stderr, "hvkit: warning: on_%s=%s acts as on_%s=%s here\n", event, xl,
                        event, map[i].hv);
            return map[i].hv;
        }
    return "destroy";
}

/* The machine for `d`, in bin/hvrun's terms (rundom.h). */
static void machine_spec(const struct xldom *d, struct rundom_spec *s)
{
    *s = (struct rundom_spec){.kernel = d->kernel,
                              .cmdline = d->cmdline,
                              .memory_mib = d->memory,
                              .maxmem_mib = d->maxmem,
                              .vcpus = (int)d->vcpus,
                              .maxvcpus = (int)d->maxvcpus,
                              .on_poweroff = hv_action("poweroff", d->on_poweroff),
                              .on_reboot = hv_action("reboot", d->on_reboot),
                              .on_crash = hv_action("crash", d->on_crash),
                              .ndisks = d->ndisks};
    xl_disks(d, s->disk);
}

void xl_disks(const struct xldom *d, struct rundom_disk *out)
{
    for (int i = 0; i < d->ndisks; i++)
        out[i] = (struct rundom_disk){d->disk[i].target, d->disk[i].format, d->disk[i].readonly,
                                      d->disk[i].cdrom};
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
    struct rundom r;
    static struct rundom all[RUNDOM_MAX];
    int n = rundom_list(all, RUNDOM_MAX);
    for (int i = 0; i < n; i++)
        if (!strcmp(all[i].name, d.name)) {
            fprintf(stderr, "libxl: error: Domain with name \"%s\" already exists.\n", d.name);
            return 1;
        }
    if (access(d.kernel, R_OK) != 0) {
        fprintf(stderr, "libxl: error: kernel '%s': %s\n", d.kernel, strerror(errno));
        return 1;
    }
    r = (struct rundom){.domid = rundom_next_domid(), .tool = "xl"};
    snprintf(r.name, sizeof(r.name), "%s", d.name);
    /* libxl gives a domain without uuid= a fresh one. */
    if (d.uuid[0])
        snprintf(r.uuid, sizeof(r.uuid), "%s", d.uuid);
    else
        uuid_new(r.uuid);
    if (!realpath(file, r.config))
        snprintf(r.config, sizeof(r.config), "%s", file);
    struct rundom_spec spec;
    machine_spec(&d, &spec);
    int rc = rundom_start(&spec, &r);
    if (rc == -1) {
        fprintf(stderr, "libxl: error: cannot start the domain: %s\n", strerror(errno));
        return 1;
    }
    if (rc < 0) {
        fprintf(stderr, "libxl: error: domain %d (%s) did not start\n", r.domid, r.name);
        return 1;
    }
    xl_keep_config(&r, file, argv + optind + 1, argc - optind - 1);
    if (paused && !xl_simple(&r, CTL_CMD_STOP))
        return 1;
    if (console) {
        char *cargv[] = {"console", r.name, NULL};
        /* The console takes the registry's lock afresh (a second flock of
         * this process would wait for the first for ever). */
        rundom_unlock();
        optind = 0;
        return cmd_console(2, cargv);
    }
    return 0;
}
