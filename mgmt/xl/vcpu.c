/*
 * vcpu.c: xl(1)'s vCPU commands (Xen 4.17 xl_vcpu.c):
 *
 *   xl vcpu-list [DOMAIN...]
 *   xl vcpu-pin [-f] DOMAIN VCPU|all HARD|-|all [SOFT|-|all]
 *   xl vcpu-set [-i] DOMAIN N
 *
 * Xen's physical CPUs are, in hvkit, the host's CPUs: each domain's
 * machine (the outer emulator with hv inside) is a group of host
 * processes, and all of a domain's vCPUs run in it, taking turns on the
 * one CPU hv uses.  So vcpu-pin pins for real: the machine's threads get
 * the CPUs the domain's vCPUs may use (sched_setaffinity), and vcpu-list's
 * CPU column is the host CPU the machine last ran on.  Soft affinity is
 * accepted and not kept (the host scheduler has no such hint).  vcpu-set
 * moves how many of the vCPUs the domain was built with (xl.cfg's
 * maxvcpus) its guest may run, between 1 and that maximum: hv tells the
 * guest, which starts or takes down CPUs itself (include/hvkit/pv.h
 * "vCPU hot-plug"); a guest without that support is refused, but for the
 * count it has.
 */
#define _GNU_SOURCE
#include "xl.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fmt.h"

/* /proc/PID/stat from after "(comm) " (the state field on), into `buf`;
 * NULL when the process is gone. */
static const char *proc_stat(pid_t pid, char *buf, size_t len)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t n = fread(buf, 1, len - 1, f);
    fclose(f);
    buf[n] = 0;
    /* The command name may hold spaces and parentheses: the last ')'
     * ends it. */
    char *p = strrchr(buf, ')');
    return p && p[1] ? p + 2 : NULL;
}

/* The machine's processes: those whose process group is hvrun's. */
static int machine_pids(const struct rundom *r, pid_t *out, int max)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    int n = 0;
    while (d && n < max && (e = readdir(d))) {
        pid_t pid = (pid_t)atol(e->d_name);
        char buf[1024];
        const char *p = pid > 0 ? proc_stat(pid, buf, sizeof(buf)) : NULL;
        /* state, ppid, pgrp */
        int pgrp = 0;
        if (p && sscanf(p, "%*c %*d %d", &pgrp) == 1 && pgrp == r->pid)
            out[n++] = pid;
    }
    if (d)
        closedir(d);
    return n;
}

/* The host CPU the machine last ran on: that of its busiest process (the
 * emulator). */
static int machine_cpu(const struct rundom *r)
{
    pid_t pids[64];
    int n = machine_pids(r, pids, 64), cpu = 0;
    unsigned long best = 0;
    for (int i = 0; i < n; i++) {
        char buf[1024];
        const char *p = proc_stat(pids[i], buf, sizeof(buf));
        unsigned long ut = 0, st = 0;
        int c = 0;
        /* Fields 14, 15 (utime, stime) and 39 (processor), counted from
         * the state field, which is field 3. */
        if (p &&
            sscanf(p + 2,
                   "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d %*d %*d "
                   "%*d %*d %*u %*u %*d %*u %*u %*u %*u %*u %*u %*u %*u %*u %*u %*u %*u "
                   "%*u %*d %d",
                   &ut, &st, &c) == 3 &&
            ut + st >= best)
            best = ut + st, cpu = c;
    }
    return cpu;
}

/* Give every thread of the machine the CPUs in `map`. */
static int pin_machine(const struct rundom *r, uint64_t map)
{
    pid_t pids[64];
    int n = machine_pids(r, pids, 64), fails = 0;
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int i = 0; i < 64; i++)
        if (map >> i & 1)
            CPU_SET(i, &set);
    for (int i = 0; i < n; i++) {
        char dir[64];
        snprintf(dir, sizeof(dir), "/proc/%d/task", (int)pids[i]);
        DIR *d = opendir(dir);
        struct dirent *e;
        while (d && (e = readdir(d)))
            if (atol(e->d_name) > 0 && sched_setaffinity((pid_t)atol(e->d_name), sizeof(set), &set))
                fails++;
        if (d)
            closedir(d);
    }
    return n && !fails ? 0 : -1;
}

/* The hard affinity kept for vCPU `v` ("" = every CPU). */
static uint64_t affinity(const struct rundom *r, int v, int ncpus)
{
    uint64_t map = 0;
    FILE *quiet = fopen("/dev/null", "w");
    if (v >= RUNDOM_VCPUS || !r->affinity[v][0] ||
        xl_cpumap_parse(r->affinity[v], ncpus, &map, quiet ? quiet : stderr) < 0)
        map = ncpus >= 64 ? ~0ull : (1ull << ncpus) - 1;
    if (quiet)
        fclose(quiet);
    return map;
}

/* ---- vcpu-list ---- */

static void vcpu_row(const char *name, int id, int v, int cpu, char run, char block, double secs,
                     uint64_t hard, int ncpus)
{
    char h[128], s[128];
    xl_cpumap_print(hard, ncpus, h, sizeof(h));
    xl_cpumap_print(~0ull, ncpus, s, sizeof(s));
    printf("%-32s %5u %5u", name, id, v);
    /* An offline vCPU (one the guest has not started: it waits for its
     * SIPI) has no CPU, and 'p' in its state, as xl prints one. */
    if (cpu < 0)
        printf("%5c %3c%cp ", '-', '-', '-');
    else
        printf("%5u %3c%c- ", cpu, run, block);
    printf("%9.1f  %s / %s\n", secs, h, s);
}

/* Domain-0's vCPUs are the host's CPUs: the one running xl is 'r'. */
static void dom0_vcpus(int ncpus)
{
    FILE *f = fopen("/proc/stat", "r");
    char line[512];
    int me = sched_getcpu();
    while (f && fgets(line, sizeof(line), f)) {
        int cpu;
        unsigned long u, n, s;
        /* "cpuN ..." lines, not the "cpu ..." total. */
        if (!isdigit((unsigned char)line[3]) ||
            sscanf(line, "cpu%d %lu %lu %lu", &cpu, &u, &n, &s) != 4)
            continue;
        double secs = (double)(u + n + s) / (double)sysconf(_SC_CLK_TCK);
        vcpu_row("Domain-0", 0, cpu, cpu, cpu == me ? 'r' : '-', cpu == me ? '-' : 'b', secs, ~0ull,
                 ncpus);
    }
    if (f)
        fclose(f);
}

static void dom_vcpus(const struct rundom *r, int ncpus)
{
    static struct ctlc c;
    char why[256];
    int ret;
    struct xlinfo in;
    if (!xl_query_or_say(r, &in) || rundom_connect(r, &c, 5000, why, sizeof(why)) < 0)
        return;
    int cpu = machine_cpu(r);
    bool running = !strcmp(in.state, "running") || !strcmp(in.state, "blocked");
    if (ctlc_call(&c, CTL_CMD_QUERY_CPUS_FAST, "{\"domain\": 0}", 10000, &ret, why, sizeof(why))) {
        ctlc_close(&c);
        return;
    }
    for (int e = json_first(&c.doc, ret); e >= 0; e = json_after(&c.doc, ret, e)) {
        uint64_t idx = 0, ns = 0;
        bool halted = false;
        json_u64(&c.doc, json_get(&c.doc, e, "cpu-index"), &idx);
        json_bool(&c.doc, json_get(&c.doc, e, "halted"), &halted);
        /* hv counts each vCPU's time in guest mode (query-cpus-fast's
         * cpu-time-ns), as Xen counts each vCPU's run time. */
        json_u64(&c.doc, json_get(&c.doc, e, "cpu-time-ns"), &ns);
        bool up = !json_str_eq(&c.doc, json_get(&c.doc, e, "state"), "wait-for-SIPI");
        vcpu_row(r->name, r->domid, (int)idx, up ? cpu : -1, running && !halted ? 'r' : '-',
                 running && halted ? 'b' : '-', (double)ns / 1e9, affinity(r, (int)idx, ncpus),
                 ncpus);
    }
    ctlc_close(&c);
}

int cmd_vcpu_list(int argc, char **argv)
{
    while (xl_getopt(argc, argv, "h", NULL, "vcpu-list", 0) != -1)
        ;
    if (!xl_state_open())
        return 1;
    struct xlhost h;
    xl_host(&h);
    printf("%-32s %5s %5s %5s %5s %9s %s\n", "Name", "ID", "VCPU", "CPU", "State", "Time(s)",
           "Affinity (Hard / Soft)");
    static struct rundom all[RUNDOM_MAX];
    if (optind == argc) {
        dom0_vcpus(h.cpus);
        int n = rundom_list(all, RUNDOM_MAX);
        for (int i = 0; i < n; i++)
            dom_vcpus(&all[i], h.cpus);
        return 0;
    }
    for (int i = optind; i < argc; i++) {
        struct rundom r;
        if (!strcmp(argv[i], "0") || !strcmp(argv[i], "Domain-0"))
            dom0_vcpus(h.cpus);
        else if (!xl_find(argv[i], &r))
            return 1;
        else
            dom_vcpus(&r, h.cpus);
    }
    return 0;
}

/* ---- vcpu-pin ---- */

/* Keep `text` as the hard affinity of vCPU `v` (-1: all of them) and pin
 * the machine to the union of every vCPU's. */
static int set_pin(struct rundom *r, long v, const char *text, int nvcpus, int ncpus)
{
    for (int i = 0; i < nvcpus && i < RUNDOM_VCPUS; i++)
        if (v < 0 || i == v)
            snprintf(r->affinity[i], sizeof(r->affinity[i]), "%s", text);
    uint64_t all = 0;
    for (int i = 0; i < nvcpus && i < RUNDOM_VCPUS; i++)
        all |= affinity(r, i, ncpus);
    if (!all || pin_machine(r, all) < 0 || !rundom_save(r))
        return -1;
    return 0;
}

int cmd_vcpu_pin(int argc, char **argv)
{
    static const struct option opts[] = {
        {"force", no_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    bool force = false;
    int opt;
    while ((opt = xl_getopt(argc, argv, "fh", opts, "vcpu-pin", 3)) != -1)
        force = true;
    struct rundom r;
    if (!xl_state_open() || !xl_find(argv[optind], &r))
        return 1;
    const char *vcpu = argv[optind + 1], *hard = argv[optind + 2];
    char *end;
    long v = strtol(vcpu, &end, 10);
    if (end == vcpu || *end || v < 0) {
        if (strcmp(vcpu, "all")) {
            fprintf(stderr, "Error: Invalid argument %s as VCPU.\n", vcpu);
            return 1;
        }
        if (force) {
            fprintf(stderr, "Error: --force and 'all' as VCPU not allowed.\n");
            return 1;
        }
        v = -1;
    }
    struct xlhost h;
    xl_host(&h);
    uint64_t map = 0, soft = 0;
    bool set_hard = strcmp(hard, "-") != 0;
    if (set_hard && xl_cpumap_parse(hard, h.cpus, &map, stderr) < 0)
        return 1;
    if (argc > optind + 3 && strcmp(argv[optind + 3], "-") &&
        xl_cpumap_parse(argv[optind + 3], h.cpus, &soft, stderr) < 0)
        return 1;
    if (!set_hard)
        return 0;
    struct xlinfo in;
    if (!xl_query_or_say(&r, &in)) {
        fprintf(stderr, "Could not set affinity for vcpu `%ld'.\n", v);
        return 1;
    }
    uint64_t host = h.cpus >= 64 ? ~0ull : (1ull << h.cpus) - 1;
    if (v >= (long)in.vcpus || !(map & host)) {
        fprintf(stderr, "libxl: error: domain %d: %s\n", r.domid,
                v >= (long)in.vcpus ? "no such vCPU" : "no such CPU on this host");
        fprintf(stderr, "Could not set affinity for vcpu `%ld'.\n", v);
        return 1;
    }
    if (set_pin(&r, v, hard, (int)in.vcpus, h.cpus) < 0) {
        fprintf(stderr, "libxl: error: domain %d: cannot pin its machine: %s\n", r.domid,
                strerror(errno));
        fprintf(stderr,
                v < 0 ? "Could not set affinity.\n" : "Could not set affinity for vcpu `%ld'.\n",
                v);
        return 1;
    }
    return 0;
}

/* ---- vcpu-set ---- */

int cmd_vcpu_set(int argc, char **argv)
{
    static const struct option opts[] = {{"ignore-host", no_argument, NULL, 'i'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    bool check_host = true;
    int opt;
    while ((opt = xl_getopt(argc, argv, "ih", opts, "vcpu-set", 2)) != -1)
        check_host = false;
    struct rundom r;
    if (!xl_state_open() || !xl_find(argv[optind], &r))
        return 1;
    const char *arg = argv[optind + 1];
    char *end;
    unsigned long want = strtoul(arg, &end, 10);
    if (end == arg) {
        fprintf(stderr, "Error: Invalid argument.\n");
        return 1;
    }
    struct xlinfo in;
    struct xlhost h;
    if (!xl_query_or_say(&r, &in)) {
        /* libxl's ERROR_FAIL. */
        fprintf(stderr, "libxl_set_vcpuonline failed domid=%d max_vcpus=%lu, rc: -3\n", r.domid,
                want);
        return 1;
    }
    xl_host(&h);
    if (check_host && want > in.vcpus && want > (unsigned long)h.cpus) {
        fprintf(stderr,
                "You are overcommmitting! You have %d physical CPUs and want %lu vCPUs! "
                "Aborting, use --ignore-host to continue\n",
                h.cpus, want);
        return 1;
    }
    if (want == 0) {
        fprintf(stderr, "Error: Invalid argument.\n");
        return 1;
    }
    if (want > in.vcpus) {
        fprintf(stderr, "libxl: error: Requested %lu VCPUs, however maxcpus is %lu!\n", want,
                (unsigned long)in.vcpus);
    } else {
        /* hv lets the guest run `want` of its vCPUs and tells it; the
         * guest brings them up or takes them down in its own time. */
        char args[64], why[256];
        snprintf(args, sizeof(args), "{\"domain\": 0, \"vcpus\": %lu}", want);
        if (xl_call(&r, CTL_CMD_VCPU_SET, args, why, sizeof(why)) == 0)
            return 0;
        fprintf(stderr, "libxl: error: domain %d: %s\n", r.domid, why);
    }
    fprintf(stderr, "libxl_set_vcpuonline failed domid=%d max_vcpus=%lu, rc: %d\n", r.domid, want,
            want > in.vcpus ? -6 : -3);
    return 1;
}
