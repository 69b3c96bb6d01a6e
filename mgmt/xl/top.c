/*
 * top.c: `xl top`, which in Xen runs xentop; hvkit's takes xentop's
 * options for the modes a script uses:
 *
 *   xl top [-b] [-d SECONDS] [-i ITERATIONS]
 *
 * -b is xentop's batch mode (no summary, a header and one row a domain per
 * iteration, for scripts and tests); without it the screen is redrawn
 * every -d seconds (default 3) with xentop's summary on top, until -i
 * iterations or Ctrl-C.  The columns are xentop's (tools/xentop/xentop.c),
 * sorted by name as its default sort field sorts them.  hvkit's domains
 * have no network and no security id: NETS 0, SSID 0.  The VBD columns
 * are the domain's virtio disks' counters (query-blockstats), as xentop
 * sums its block back-ends' statistics: VBD_RD and VBD_WR the read and
 * write requests, VBD_RSECT and VBD_WSECT the 512-byte sectors moved, and
 * VBD_OO 0 (requests blocked because the back-end ran out of them: hv
 * carries out each request when the guest makes it).  A domain whose
 * counters cannot be read shows '-' there, as xentop shows a disk whose
 * statistics it cannot read.
 */
#include "xl.h"

#include "../common/tsc.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "fmt.h"

/* One row's numbers. */
struct toprow {
    char name[64];
    int domid;
    const char *state; /* xentop's six letters */
    double cpu_secs, cpu_pct;
    unsigned long long mem_kb, maxmem_kb; /* maxmem 0: no limit */
    int vcpus;
    struct xlvbd vbd;
};

static volatile sig_atomic_t stop;
static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static int by_name(const void *a, const void *b)
{
    return strcasecmp(((const struct toprow *)a)->name, ((const struct toprow *)b)->name);
}

/* Domain-0 and the domains, sorted; their number. */
static int sample(struct toprow *rows, int max, unsigned long long *total_kb)
{
    static struct rundom all[RUNDOM_MAX];
    struct xlhost h;
    xl_host(&h);
    *total_kb = h.total_kb;
    int n = 0;
    rows[n++] = (struct toprow){.name = "Domain-0",
                                .state = "-----r",
                                .cpu_secs = h.cpu_secs,
                                .mem_kb = h.total_kb,
                                .vcpus = h.cpus};
    int k = rundom_list(all, RUNDOM_MAX);
    for (int i = 0; i < k && n < max; i++) {
        struct xlinfo in;
        xl_query(&all[i], &in);
        struct toprow *t = &rows[n++];
        *t = (struct toprow){.domid = all[i].domid,
                             .state = xl_xentop_letters(in.state),
                             .cpu_secs = xl_cpu_secs(&in),
                             .mem_kb = in.memory >> 10,
                             .maxmem_kb = all[i].maxmem_kib ? (unsigned long long)all[i].maxmem_kib
                                                            : in.ram >> 10,
                             .vcpus = (int)in.online};
        if (in.ok && !xl_vbd_stats(&all[i], &t->vbd))
            t->vbd.disks = xl_disk_count(&all[i]);
        snprintf(t->name, sizeof(t->name), "%.63s", all[i].name);
    }
    qsort(rows, (size_t)n, sizeof(rows[0]), by_name);
    return n;
}

static void header(void)
{
    printf("%10s %6s %10s %6s %10s %6s %10s %9s %5s %4s %8s %8s %4s %8s %8s %8s %10s %10s %4s\n",
           "NAME", "STATE", "CPU(sec)", "CPU(%)", "MEM(k)", "MEM(%)", "MAXMEM(k)", "MAXMEM(%)",
           "VCPUS", "NETS", "NETTX(k)", "NETRX(k)", "VBDS", "VBD_OO", "VBD_RD", "VBD_WR",
           "VBD_RSECT", "VBD_WSECT", "SSID");
}

static void top_row(const struct toprow *t, unsigned long long total_kb)
{
    double total = total_kb ? (double)total_kb : 1;
    printf("%10.10s %s %10llu %6.1f %10llu %6.1f ", t->name, t->state,
           (unsigned long long)t->cpu_secs, t->cpu_pct, t->mem_kb, (double)t->mem_kb / total * 100);
    if (t->maxmem_kb)
        printf("%10llu %9.1f", t->maxmem_kb, (double)t->maxmem_kb / total * 100);
    else
        printf("%10s %9s", "no limit", "n/a");
    printf(" %5d %4d %8d %8d %4d", t->vcpus, 0, 0, 0, t->vbd.disks);
    if (t->vbd.disks && !t->vbd.ok)
        printf(" %8c %8c %8c %10c %10c", '-', '-', '-', '-', '-');
    else
        printf(" %8d %8llu %8llu %10llu %10llu", 0, (unsigned long long)t->vbd.rd,
               (unsigned long long)t->vbd.wr, (unsigned long long)t->vbd.rsect,
               (unsigned long long)t->vbd.wsect);
    printf(" %4d\n", 0);
}

/* xentop's summary (interactive mode only). */
static void summary(const struct toprow *rows, int n, unsigned long long total_kb)
{
    char clock[16];
    time_t now = time(NULL);
    int run = 0, block = 0, pause = 0, crash = 0, dying = 0, shut = 0;
    for (int i = 0; i < n; i++) {
        const char *s = rows[i].state;
        run += s[5] == 'r', block += s[5] != 'r' && s[2] == 'b';
        pause += s[4] == 'p', shut += s[1] == 's' && s[3] != 'c';
        crash += s[3] == 'c', dying += s[0] == 'd';
    }
    struct xlhost h;
    xl_host(&h);
    strftime(clock, sizeof(clock), "%H:%M:%S", localtime(&now));
    printf("xentop - %s   Xen 0.1-hvkit\n", clock);
    printf("%d domains: %d running, %d blocked, %d paused, %d crashed, %d dying, %d shutdown \n", n,
           run, block, pause, crash, dying, shut);
    printf("Mem: %lluk total, %lluk used, %luk free    CPUs: %d @ %.0fMHz\n", total_kb,
           total_kb - h.free_kb, h.free_kb, h.cpus, tsc_host_hz() / 1e6);
}

/* The CPU share since the previous sample of the same domain. */
static void percent(struct toprow *rows, int n, const struct toprow *prev, int np, double secs)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < np && secs > 0; j++)
            if (!strcmp(rows[i].name, prev[j].name) && rows[i].domid == prev[j].domid)
                rows[i].cpu_pct = (rows[i].cpu_secs - prev[j].cpu_secs) / secs * 100;
}

int cmd_top(int argc, char **argv)
{
    static const struct option opts[] = {{"batch", no_argument, NULL, 'b'},
                                         {"delay", required_argument, NULL, 'd'},
                                         {"iterations", required_argument, NULL, 'i'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    bool batch = false;
    int delay = 3, iterations = 0, opt;
    while ((opt = xl_getopt(argc, argv, "bd:i:h", opts, "top", 0)) != -1) {
        if (opt == 'b')
            batch = true;
        else if (opt == 'd')
            delay = atoi(optarg) > 0 ? atoi(optarg) : 1;
        else
            iterations = atoi(optarg);
    }
    if (!xl_state_open())
        return 1;
    rundom_unlock();
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    static struct toprow rows[RUNDOM_MAX + 1], prev[RUNDOM_MAX + 1];
    int np = 0;
    struct timespec then = {0}, now;
    for (int it = 0; !stop; it++) {
        unsigned long long total_kb;
        int n = sample(rows, RUNDOM_MAX + 1, &total_kb);
        clock_gettime(CLOCK_MONOTONIC, &now);
        percent(rows, n, prev, np,
                (double)(now.tv_sec - then.tv_sec) + (double)(now.tv_nsec - then.tv_nsec) / 1e9);
        if (!batch) {
            printf("\033[H\033[2J");
            summary(rows, n, total_kb);
        }
        header();
        for (int i = 0; i < n; i++)
            top_row(&rows[i], total_kb);
        fflush(stdout);
        memcpy(prev, rows, sizeof(rows[0]) * (size_t)n);
        np = n, then = now;
        if (iterations && it + 1 >= iterations)
            break;
        sleep((unsigned)delay);
    }
    return 0;
}
