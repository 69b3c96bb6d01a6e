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
#include "../common/conclient.h"
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
    rundom_end(r);
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

/* xl console's -t and -n (xl(1) 4.17): hvkit's domains have one console,
 * the emulated serial port COM1 (a guest's PV console lines appear on it
 * too, hv/core/pv_console.c), so serial and number 0 are all there is.
 * 0, or 1 after xl's words. */
static int console_options(int argc, char **argv, int *domid_arg)
{
    const char *type = NULL;
    long num = 0;
    int opt;
    while ((opt = xl_getopt(argc, argv, "n:t:h", NULL, "console", 1)) != -1) {
        if (opt == 't') {
            type = optarg;
            if (strcmp(type, "pv") && strcmp(type, "serial") && strcmp(type, "vuart")) {
                fprintf(stderr, "console type supported are: pv, serial, vuart\n");
                return 1;
            }
        } else if (opt == 'n') {
            num = atol(optarg);
        }
    }
    *domid_arg = optind;
    if ((type && strcmp(type, "serial")) || num != 0) {
        fprintf(stderr, "xl: hvkit's domains have one console, the emulated serial port "
                        "(-t serial -n 0)\nUnable to attach console\n");
        return 1;
    }
    return 0;
}

/* xl console [-t pv|serial] [-n NUM] DOMAIN: attach to the domain's
 * console, which its manager holds (docs/control-protocol.md "Consoles"):
 * what it printed so far and prints next, and what is typed goes to the
 * guest; Ctrl-] detaches.  Without a terminal the output goes on until
 * the domain's machine ends. */
int cmd_console(int argc, char **argv)
{
    int arg;
    if (console_options(argc, argv, &arg))
        return 1;
    struct rundom r;
    if (!xl_state_open() || !xl_find(argv[arg], &r))
        return 1;
    /* Other commands may run while the console is attached. */
    rundom_unlock();
    struct ctlc c;
    char why[300];
    if (!xl_connect(&r, &c, 10000))
        return 1;
    int rc = conclient_attach(&c, 0, false, why, sizeof(why));
    if (rc != 0) {
        /* As xl's own last words when xenconsole could not attach. */
        if (rc == 1)
            fprintf(stderr, "xl: the console of domain %d is attached to another xl console\n",
                    r.domid);
        else
            fprintf(stderr, "xl: domain %d (%s): %s\n", r.domid, r.name, why);
        fprintf(stderr, "Unable to attach console\n");
        ctlc_close(&c);
        return 1;
    }
    conclient_run(&c);
    ctlc_close(&c);
    return 0;
}
