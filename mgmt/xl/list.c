/*
 * list.c: `xl list [-l] [-v] [DOMAIN...]` in xl(1)'s layout (Xen 4.17,
 * xl_info.c):
 *
 *   Name                                        ID   Mem VCPUs	State	Time(s)
 *   Domain-0                                     0 15953     4     r-----     812.4
 *   web1                                         1    64     1     -b----       3.2
 *
 * State is six letters, each '-' when it does not hold: r running, b
 * blocked, p paused, s shut down, then the shutdown reason (c crashed;
 * Xen's r/s/w reasons do not happen in hvkit), d dying.  -v adds the UUID,
 * the shutdown reason code and the security label; -l prints each
 * domain's configuration as JSON instead (listlong.c).
 *
 * Domain-0 is the host: in Xen it is the control domain that runs the
 * toolstack, and in hvkit the host runs xl, the managers and the outer
 * machines.  Its line shows the host's memory (MemTotal), its online CPUs,
 * and the CPU time all its processes have used (/proc/stat).
 *
 * A domain's Mem is what its guest has now (less what it gave back to the
 * balloon, query-balloon), and its Time(s) the time its vCPUs spent in
 * guest mode: hv counts it in TSC ticks of the outer machine and gives it
 * in nanoseconds at the TSC rate it measured (query-domains
 * "cpu-time-ns").
 */
#include "xl.h"

#include <stdio.h>
#include <string.h>

#include "fmt.h"

#define DOM0_UUID "00000000-0000-0000-0000-000000000000"

static void header(bool verbose)
{
    printf("Name                                        ID   Mem VCPUs\tState\tTime(s)");
    if (verbose)
        printf("   UUID                            Reason-Code\tSecurity Label");
    printf("\n");
}

static void row(bool verbose, const char *name, int id, unsigned long mib, int vcpus,
                const char *state, double secs, const char *uuid)
{
    printf("%-40s %5d %5lu %5d     %s  %8.1f", name, id, mib, vcpus, state, secs);
    /* A domain that has not shut down has no reason code; hvkit has no
     * security labels (Xen's FLASK/XSM). */
    if (verbose)
        printf(" %s %8s %16s", uuid, "-", "-");
    printf("\n");
}

static void dom0_row(bool verbose)
{
    struct xlhost h;
    xl_host(&h);
    row(verbose, "Domain-0", 0, h.total_kb / 1024, h.cpus, "r-----", h.cpu_secs, DOM0_UUID);
}

static void dom_row(bool verbose, const struct rundom *r)
{
    struct xlinfo i;
    /* A domain whose hv does not answer is listed all the same, as hv
     * last described it, and stderr says so. */
    if (!xl_query(r, &i))
        fprintf(stderr, "libxl: warning: domain %d: %s: %s\n", r->domid, i.why,
                i.stale ? "its last known state is shown" : "its state is not known");
    /* VCPUs: those online, as Xen counts them (xl vcpu-set moves it). */
    row(verbose, r->name, r->domid, (unsigned long)(i.memory >> 20), (int)i.online,
        xl_state_letters(i.state), xl_cpu_secs(&i), r->uuid[0] ? r->uuid : "-");
}

static bool is_dom0(const char *arg)
{
    return !strcmp(arg, "0") || !strcmp(arg, "Domain-0");
}

int cmd_list(int argc, char **argv)
{
    static const struct option opts[] = {{"long", no_argument, NULL, 'l'},
                                         {"verbose", no_argument, NULL, 'v'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    bool details = false, verbose = false;
    int opt;
    while ((opt = xl_getopt(argc, argv, "lvh", opts, "list", 0)) != -1) {
        if (opt == 'l')
            details = true;
        else
            verbose = true;
    }
    if (argc - optind > 1) {
        xl_usage("list");
        return 1;
    }
    if (!xl_state_open())
        return 1;
    static struct rundom all[RUNDOM_MAX];
    int n = rundom_list(all, RUNDOM_MAX);
    const char *one = optind < argc ? argv[optind] : NULL;
    if (one && !is_dom0(one)) {
        if (!xl_find(one, &all[0]))
            return 1;
        n = 1;
    }
    if (details)
        return xl_list_long(one && is_dom0(one) ? NULL : all, one && is_dom0(one) ? 0 : n);
    header(verbose);
    if (!one || is_dom0(one))
        dom0_row(verbose);
    if (one && is_dom0(one))
        return 0;
    for (int i = 0; i < n; i++)
        dom_row(verbose, &all[i]);
    return 0;
}
