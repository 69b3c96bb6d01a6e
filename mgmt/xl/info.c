/*
 * info.c: the host-wide commands of xl(1) (Xen 4.17 xl_info.c):
 *
 *   xl info [NAME]       the host in xl's "key : value" lines (or one value)
 *   xl uptime [-s] [D]   how long Domain-0 and the domains have run
 *   xl dmesg [-c]        the hypervisor's messages
 *
 * In Xen these describe the hypervisor and its machine.  In hvkit each
 * domain runs under its own hv in its own outer machine, all on this host:
 * the host is what xl info describes (as Domain-0 in xl list is the host),
 * hvkit's version stands in Xen's, and xl dmesg gathers the lines every
 * domain's hv printed ("[hv] ..."), each as Xen prints its own, "(XEN) ",
 * with the domain it came from.
 */
#include "xl.h"

#include "../common/tsc.h"

#include <cpuid.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "fmt.h"

/* With an argument, xl info prints only the value of the lines whose key
 * starts with it. */
static const char *only;

static void line(const char *key, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void line(const char *key, const char *fmt, ...)
{
    if (only && strncmp(key, only, strlen(only)))
        return;
    va_list ap;
    va_start(ap, fmt);
    if (!only)
        printf("%-23s: ", key);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
}

/* Xen's hw_caps: the CPU's feature words in Xen's featureset order (CPUID
 * 1 EDX and ECX, 0x80000001 EDX and ECX, 0xd.1 EAX, 7.0 EBX and ECX,
 * 0x80000007 EDX). */
static void hw_caps(unsigned w[8])
{
    unsigned a, b, c, d;
    memset(w, 0, 8 * sizeof(w[0]));
    if (__get_cpuid(1, &a, &b, &c, &d))
        w[0] = d, w[1] = c;
    if (__get_cpuid(0x80000001, &a, &b, &c, &d))
        w[2] = d, w[3] = c;
    if (__get_cpuid_count(0xd, 1, &a, &b, &c, &d))
        w[4] = a;
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d))
        w[5] = b, w[6] = c;
    if (__get_cpuid(0x80000007, &a, &b, &c, &d))
        w[7] = d;
}

static void print_info(void)
{
    struct utsname u;
    struct xlhost h;
    unsigned w[8];
    xl_host(&h);
    hw_caps(w);
    if (uname(&u) == 0) {
        line("host", "%s", u.nodename);
        line("release", "%s", u.release);
        line("version", "%s", u.version);
        line("machine", "%s", u.machine);
    }
    long khz = (long)(tsc_host_hz() / 1000);
    line("nr_cpus", "%d", h.cpus);
    line("max_cpu_id", "%d", h.cpus - 1);
    line("nr_nodes", "%d", 1);
    line("cores_per_socket", "%d", h.cpus);
    line("threads_per_core", "%d", 1);
    line("cpu_mhz", "%ld.%03ld", khz / 1000, khz % 1000);
    line("hw_caps", "%08x:%08x:%08x:%08x:%08x:%08x:%08x:%08x", w[0], w[1], w[2], w[3], w[4], w[5],
         w[6], w[7]);
    /* hv runs hardware-virtualised (HVM-like) guests only. */
    line("virt_caps", "hvm");
    line("total_memory", "%lu", h.total_kb / 1024);
    line("free_memory", "%lu", h.free_kb / 1024);
    line("sharing_freed_memory", "0");
    line("sharing_used_memory", "0");
    line("outstanding_claims", "0");
    line("free_cpus", "0");
    line("xen_major", "%d", 0);
    line("xen_minor", "%d", 1);
    line("xen_extra", "-hvkit");
    line("xen_version", "0.1-hvkit");
    line("xen_caps", "hvm-3.0-x86_32 hvm-3.0-x86_64");
    /* hv's scheduler: a time slice per domain in turn (bin/hvrun --tslice). */
    line("xen_scheduler", "rr");
    line("xen_pagesize", "4096");
    line("platform_params", "virt_start=0x0");
    line("xen_changeset", "%s", CTL_PACKAGE);
    line("xen_commandline", "(each domain's hv has its own: bin/hvrun builds it)");
    line("cc_compiler", "gcc %s", __VERSION__);
    line("cc_compile_by", "hvkit");
    line("cc_compile_domain", "%s", "");
    line("cc_compile_date", "%s", "");
    line("build_id", "%s", "");
    line("xend_config_format", "4");
}

int cmd_info(int argc, char **argv)
{
    static const struct option opts[] = {
        {"numa", no_argument, NULL, 'n'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    bool numa = false;
    int opt;
    while ((opt = xl_getopt(argc, argv, "nh", opts, "info", 0)) != -1)
        numa = true;
    if (!numa && optind < argc)
        only = argv[optind];
    print_info();
    if (numa) {
        /* One node holding every CPU and all the memory. */
        struct xlhost h;
        xl_host(&h);
        printf("cpu_topology           :\ncpu:    core    socket     node\n");
        for (int i = 0; i < h.cpus; i++)
            printf("%3d:    %4d     %4d     %4d\n", i, i, 0, 0);
        printf("device topology        :\ndevice           node\n");
        printf("No device topology data available\n");
        printf("numa_info              :\nnode:    memsize    memfree    distances\n");
        printf("%4d:    %6lu     %6lu      %d\n", 0, h.total_kb / 1024, h.free_kb / 1024, 10);
    }
    return 0;
}

/* ---- uptime ---- */

static void uptime_row(bool short_mode, const char *name, int id, unsigned long secs, time_t now)
{
    char up[64], clock[16];
    xl_uptime_str(secs, short_mode, up, sizeof(up));
    if (short_mode) {
        strftime(clock, sizeof(clock), "%H:%M:%S", localtime(&now));
        printf(" %s up %s, %s (%d)\n", clock, up, name, id);
    } else {
        printf("%-33s %4d %s\n", name, id, up);
    }
}

static void dom0_uptime(bool short_mode, time_t now)
{
    double up = 0;
    FILE *f = fopen("/proc/uptime", "r");
    if (!f || fscanf(f, "%lf", &up) != 1) {
        fprintf(stderr, "Can not get Dom0 uptime.\n");
        exit(255);
    }
    fclose(f);
    uptime_row(short_mode, "Domain-0", 0, (unsigned long)up, now);
}

int cmd_uptime(int argc, char **argv)
{
    bool short_mode = false;
    int opt;
    while ((opt = xl_getopt(argc, argv, "sh", NULL, "uptime", 0)) != -1)
        short_mode = true;
    if (!xl_state_open())
        return 1;
    /* Every domain named must exist before anything is printed. */
    static struct rundom named[RUNDOM_MAX];
    int n = 0;
    for (int i = optind; i < argc && n < RUNDOM_MAX; i++, n++) {
        if (!strcmp(argv[i], "0") || !strcmp(argv[i], "Domain-0"))
            named[n].domid = 0;
        else if (!xl_find(argv[i], &named[n]))
            return 1;
    }
    time_t now = time(NULL);
    if (!short_mode)
        printf("%-33s %4s %s\n", "Name", "ID", "Uptime");
    if (!n) {
        dom0_uptime(short_mode, now);
        n = rundom_list(named, RUNDOM_MAX);
    }
    for (int i = 0; i < n; i++) {
        if (named[i].domid == 0)
            dom0_uptime(short_mode, now);
        else
            uptime_row(short_mode, named[i].name, named[i].domid,
                       (unsigned long)(now - named[i].start), now);
    }
    return 0;
}

/* ---- dmesg ---- */

/* Print the hv lines of `r`'s log from its offset; the log's length. */
static long dmesg_one(const struct rundom *r)
{
    char log[PATH_MAX], buf[2048];
    rundom_path(log, sizeof(log), r->name, ".log");
    FILE *f = fopen(log, "r");
    if (!f)
        return r->dmesg_off;
    if (fseek(f, r->dmesg_off, SEEK_SET))
        rewind(f);
    while (fgets(buf, sizeof(buf), f)) {
        const char *hv = strstr(buf, "[hv] ");
        if (hv && (hv == buf || buf[0] == '['))
            printf("(XEN) d%d: %s%s", r->domid, hv + 5, strchr(buf, '\n') ? "" : "\n");
    }
    long end = ftell(f);
    fclose(f);
    return end;
}

int cmd_dmesg(int argc, char **argv)
{
    static const struct option opts[] = {
        {"clear", no_argument, NULL, 'c'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    bool clear = false;
    int opt;
    while ((opt = xl_getopt(argc, argv, "ch", opts, "dmesg", 0)) != -1)
        clear = true;
    if (!xl_state_open())
        return 1;
    static struct rundom all[RUNDOM_MAX];
    int n = rundom_list(all, RUNDOM_MAX);
    for (int i = 0; i < n; i++) {
        long end = dmesg_one(&all[i]);
        /* -c: what was printed is not printed again (the log itself stays:
         * it is the domain's console too). */
        if (clear && end > all[i].dmesg_off) {
            all[i].dmesg_off = end;
            rundom_save(&all[i]);
        }
    }
    return 0;
}
