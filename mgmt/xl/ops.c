/*
 * ops.c: the xl(1) commands that act on one running domain, each one
 * request of the control protocol to the domain's manager:
 *
 *   xl pause DOMAIN           stop
 *   xl unpause DOMAIN         cont
 *   xl shutdown [-w] DOMAIN   system_powerdown (the guest decides; -w waits
 *                             until its machine has ended)
 *   xl reboot DOMAIN          system_reset (hv builds the domain again)
 *   xl destroy DOMAIN         quit, then the machine's processes end
 *   xl domid NAME, xl domname ID, xl console DOMAIN
 */
#include "xl.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int destroy(const struct rundom *r)
{
    /* quit ends hv and with it the machine; a machine that does not
     * answer is ended by signal, so destroy always destroys. */
    bool asked = xl_simple(r, CTL_CMD_QUIT);
    if (!asked || !rundom_wait_gone(r, 30000)) {
        kill(-r->pid, SIGTERM);
        if (!rundom_wait_gone(r, 10000))
            kill(-r->pid, SIGKILL);
    }
    rundom_forget(r);
    return 0;
}

static int shutdown_dom(const struct rundom *r, bool wait)
{
    fprintf(stderr, "Shutting down domain %d\n", r->domid);
    if (!xl_simple(r, CTL_CMD_SYSTEM_POWERDOWN))
        return 1;
    if (wait) {
        fprintf(stderr, "Waiting for 1 domains\n");
        rundom_unlock();
        while (!rundom_wait_gone(r, 1000))
            ;
        rundom_forget(r);
        fprintf(stderr, "Domain %d has been shut down, reason code 0\n", r->domid);
    }
    return 0;
}

/* xl domid NAME / xl domname ID: the one lookups that do not need the
 * domain to answer. */
static int lookup(const char *cmd, const char *arg)
{
    static struct rundom all[RUNDOM_MAX];
    int n = rundom_list(all, RUNDOM_MAX);
    bool by_name = !strcmp(cmd, "domid");
    if (by_name && !strcmp(arg, "Domain-0")) {
        printf("0\n");
        return 0;
    }
    if (!by_name && !strcmp(arg, "0")) {
        printf("Domain-0\n");
        return 0;
    }
    for (int i = 0; i < n; i++) {
        if (by_name && !strcmp(all[i].name, arg)) {
            printf("%d\n", all[i].domid);
            return 0;
        }
        char id[16];
        snprintf(id, sizeof(id), "%d", all[i].domid);
        if (!by_name && !strcmp(id, arg)) {
            printf("%s\n", all[i].name);
            return 0;
        }
    }
    if (by_name)
        fprintf(stderr, "Can't get domid of domain name '%s', maybe this domain does not exist.\n",
                arg);
    else
        fprintf(stderr,
                "Can't get domain name of domain id '%s', maybe this domain does not "
                "exist.\n",
                arg);
    return 1;
}

int cmd_ops(int argc, char **argv)
{
    const char *cmd = argv[0];
    bool wait = false;
    static const struct option opts[] = {
        {"wait", no_argument, NULL, 'w'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    bool is_shutdown = !strcmp(cmd, "shutdown");
    while (xl_getopt(argc, argv, is_shutdown ? "wh" : "h", is_shutdown ? opts : NULL, cmd, 1) != -1)
        wait = true;
    const char *arg = argv[optind];
    if (!xl_state_open())
        return 1;
    if (!strcmp(cmd, "domid") || !strcmp(cmd, "domname"))
        return lookup(cmd, arg);
    struct rundom r;
    if (!xl_find(arg, &r))
        return 1;
    if (!strcmp(cmd, "pause"))
        return xl_simple(&r, CTL_CMD_STOP) ? 0 : 1;
    if (!strcmp(cmd, "unpause"))
        return xl_simple(&r, CTL_CMD_CONT) ? 0 : 1;
    if (!strcmp(cmd, "destroy"))
        return destroy(&r);
    if (!strcmp(cmd, "shutdown"))
        return shutdown_dom(&r, wait);
    fprintf(stderr, "Rebooting domain %d\n", r.domid);
    return xl_simple(&r, CTL_CMD_SYSTEM_RESET) ? 0 : 1;
}

/* xl console DOMAIN: the domain's console so far, then what it prints
 * until its machine ends (output only: hv's guests take no input on this
 * console). */
int cmd_console(int argc, char **argv)
{
    while (xl_getopt(argc, argv, "h", NULL, "console", 1) != -1)
        ;
    struct rundom r;
    if (!xl_state_open() || !xl_find(argv[optind], &r))
        return 1;
    char log[PATH_MAX], buf[4096];
    rundom_path(log, sizeof(log), r.name, ".log");
    FILE *f = fopen(log, "r");
    if (!f) {
        fprintf(stderr, "xl: domain %d has no console log\n", r.domid);
        return 1;
    }
    for (;;) {
        size_t n = fread(buf, 1, sizeof(buf), f);
        if (n) {
            fwrite(buf, 1, n, stdout);
            fflush(stdout);
            continue;
        }
        rundom_unlock();
        if (rundom_wait_gone(&r, 200)) {
            while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
                fwrite(buf, 1, n, stdout);
            break;
        }
        clearerr(f);
    }
    fclose(f);
    return 0;
}
