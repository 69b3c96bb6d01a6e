/*
 * list.c: `xl list [DOMAIN...]` in xl(1)'s layout (Xen 4.17, xl_list.c):
 *
 *   Name                                        ID   Mem VCPUs	State	Time(s)
 *   Domain-0                                     0 15953     4     r-----     812.4
 *   web1                                         1    64     1     -b----       3.2
 *
 * State is six letters, each '-' when it does not hold: r running, b
 * blocked, p paused, s shut down, then the shutdown reason (c crashed;
 * Xen's r/s/w reasons do not happen in hvkit), d dying.
 *
 * Domain-0 is the host: in Xen it is the control domain that runs the
 * toolstack, and in hvkit the host runs xl, the managers and the outer
 * machines.  Its line shows the host's memory (MemTotal), its online CPUs,
 * and the CPU time all its processes have used (/proc/stat).
 *
 * A domain's Time(s) is the time its vCPU spent in guest mode: hv counts
 * it in TSC ticks of the outer machine (query-domains "cpu-tsc"), which
 * under QEMU's TCG tick at the host's TSC rate; xl measures that rate.
 */
#include "xl.h"

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

static void header(void)
{
    printf("Name                                        ID   Mem VCPUs\tState\tTime(s)\n");
}

static void row(const char *name, int id, unsigned long mib, int vcpus, const char *state,
                double secs)
{
    printf("%-40s %5d %5lu %5d     %s  %8.1f\n", name, id, mib, vcpus, state, secs);
}

/* The host's TSC ticks per second, measured over 20 ms. */
static double tsc_hz(void)
{
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    uint64_t t0 = __rdtsc();
    nanosleep(&(struct timespec){0, 20000000}, NULL);
    uint64_t t1 = __rdtsc();
    clock_gettime(CLOCK_MONOTONIC, &b);
    double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    return (double)(t1 - t0) / s;
}

static void dom0_row(void)
{
    unsigned long kb = 0, user = 0, nice = 0, sys = 0;
    FILE *f = fopen("/proc/meminfo", "r");
    if (f) {
        if (fscanf(f, "MemTotal: %lu kB", &kb) != 1)
            kb = 0;
        fclose(f);
    }
    f = fopen("/proc/stat", "r");
    if (f) {
        if (fscanf(f, "cpu %lu %lu %lu", &user, &nice, &sys) != 3)
            user = nice = sys = 0;
        fclose(f);
    }
    double secs = (double)(user + nice + sys) / (double)sysconf(_SC_CLK_TCK);
    row("Domain-0", 0, kb / 1024, (int)sysconf(_SC_NPROCESSORS_ONLN), "r-----", secs);
}

/* The six letters for Xen's state name (query-domains "state"). */
static const char *letters(const char *state)
{
    static const struct {
        const char *state, *letters;
    } map[] = {
        {"running", "r-----"},  {"blocked", "-b----"}, {"paused", "--p---"},
        {"shutdown", "---s--"}, {"crashed", "---sc-"}, {"dying", "-----d"},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (!strcmp(state, map[i].state))
            return map[i].letters;
    return "------";
}

static void dom_row(const struct rundom *r, double hz)
{
    static struct ctlc c;
    char why[256], state[16] = "dying";
    uint64_t mem = 0, vcpus = 0, tsc = 0;
    int ret;
    if (xl_connect(r, &c, 5000)) {
        if (ctlc_call(&c, CTL_CMD_QUERY_DOMAINS, NULL, 10000, &ret, why, sizeof(why)) == 0) {
            int d = json_first(&c.doc, ret);
            json_str_copy(&c.doc, json_get(&c.doc, d, "state"), state, sizeof(state));
            json_u64(&c.doc, json_get(&c.doc, d, "memory"), &mem);
            json_u64(&c.doc, json_get(&c.doc, d, "vcpus"), &vcpus);
            json_u64(&c.doc, json_get(&c.doc, d, "cpu-tsc"), &tsc);
        }
        ctlc_close(&c);
    }
    row(r->name, r->domid, (unsigned long)(mem >> 20), (int)vcpus, letters(state),
        hz > 0 ? (double)tsc / hz : 0);
}

int cmd_list(int argc, char **argv)
{
    int opt;
    while ((opt = getopt(argc, argv, "+h")) != -1) {
        xl_usage("list");
        return 2;
    }
    if (!xl_state_open())
        return 1;
    static struct rundom all[RUNDOM_MAX];
    int n = rundom_list(all, RUNDOM_MAX);
    double hz = tsc_hz();
    if (optind < argc) {
        /* Only the domains named, in the order given. */
        struct rundom r;
        for (int i = optind; i < argc; i++)
            if (strcmp(argv[i], "0") && strcmp(argv[i], "Domain-0") && !xl_find(argv[i], &r))
                return 1;
        header();
        for (int i = optind; i < argc; i++) {
            if (!strcmp(argv[i], "0") || !strcmp(argv[i], "Domain-0"))
                dom0_row();
            else if (xl_find(argv[i], &r))
                dom_row(&r, hz);
        }
        return 0;
    }
    header();
    dom0_row();
    for (int i = 0; i < n; i++)
        dom_row(&all[i], hz);
    return 0;
}
