/*
 * stats.c: what virsh reports about a running domain -- vcpuinfo,
 * vcpupin, domstats, cpu-stats, dommemstat, domblkstat -- from the domain's manager
 * (the control protocol) and from the host's view of its machine (/proc:
 * the CPU time and memory of the machine's processes, as libvirt's qemu
 * driver reads those of its QEMU process).
 */
#define _GNU_SOURCE
#include "live.h"

#include "../common/text.h"
#include "../common/vtable.h"

#include <dirent.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The host's CPUs, as libvirt counts them for affinity maps. */
static int host_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_CONF);
    return n > 0 && n <= CPU_SETSIZE ? (int)n : 1;
}

/* The machine's affinity: that of its process group's leader, which the
 * others inherit and vcpupin changes with them. */
static void affinity(const struct vdom *v, cpu_set_t *set)
{
    CPU_ZERO(set);
    if (sched_getaffinity(v->run.pid, sizeof(*set), set) < 0)
        for (int i = 0; i < host_cpus(); i++)
            CPU_SET(i, set);
}

/* A CPU map as virsh's vcpuinfo prints it: y or - per host CPU. */
static void print_map(const cpu_set_t *set)
{
    for (int i = 0; i < host_cpus(); i++)
        putchar(CPU_ISSET(i, set) ? 'y' : '-');
    putchar('\n');
}

/* A CPU list as vcpupin prints it: "0-7", "1", "0,2-3". */
static void list_of(const cpu_set_t *set, char *out, size_t len)
{
    size_t n = 0;
    out[0] = 0;
    for (int i = 0; i < host_cpus(); i++) {
        if (!CPU_ISSET(i, set))
            continue;
        int j = i;
        while (j + 1 < host_cpus() && CPU_ISSET(j + 1, set))
            j++;
        n += (size_t)snprintf(out + n, n < len ? len - n : 0, j > i ? "%s%d-%d" : "%s%d",
                              n ? "," : "", i, j);
        i = j;
    }
}

/* The host CPU the machine's leader last ran on (proc(5), field 39). */
static int last_cpu(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    int field = 2, cpu = 0;
    for (char *t = p ? strtok(p + 2, " ") : NULL; t; t = strtok(NULL, " "))
        if (++field == 39)
            cpu = atoi(t);
    return cpu;
}

static bool vcpuinfo(const struct cmd_call *call)
{
    struct vdom v;
    cpu_set_t set;
    if (!live_lookup(call, &v))
        return false;
    unsigned n = v.dom.def.vcpus_current ? v.dom.def.vcpus_current : 1;
    /* A running domain's vCPUs online now, by number (vCPU hot-plug: the
     * guest decides which), as libvirt lists only the online ones, each
     * with its own time: hv counts each vCPU's time in guest mode, as
     * libvirt's qemu driver reads each vCPU thread's CPU time. */
    uint32_t online = n >= 32 ? UINT32_MAX : (1u << n) - 1, live_online;
    static uint64_t ns[32];
    unsigned built = v.active ? live_vcpu_info(&v, &live_online, ns, 32) : 0;
    if (built)
        n = built, online = live_online;
    for (unsigned i = 0; i < n; i++) {
        if (!((online >> i) & 1))
            continue;
        printf("%-15s %u\n", "VCPU:", i);
        if (v.active) {
            affinity(&v, &set);
            printf("%-15s %d\n", "CPU:", last_cpu(v.run.pid));
            printf("%-15s %s\n", "State:", "running");
            printf("%-15s %.1fs\n", "CPU time:", i < 32 ? (double)ns[i] / 1e9 : 0);
        } else {
            CPU_ZERO(&set);
            for (int c = 0; c < host_cpus(); c++)
                CPU_SET(c, &set);
            printf("%-15s %s\n", "CPU:", "N/A");
            printf("%-15s %s\n", "State:", "N/A");
            printf("%-15s %s\n", "CPU time", "N/A"); /* sic: virsh has no colon here */
        }
        if (opt_bool(call, "pretty")) {
            char list[1024];
            list_of(&set, list, sizeof(list));
            printf("%-15s %s (out of %d)\n", "CPU Affinity:", list, host_cpus());
        } else {
            printf("%-15s ", "CPU Affinity:");
            print_map(&set);
        }
        if (i + 1 < n)
            putchar('\n');
    }
    return true;
}

/* Parse virsh's CPU list syntax ("1", "0-3", "0,2-3", "^1" excluded). */
static bool parse_cpulist(const char *text, cpu_set_t *set)
{
    CPU_ZERO(set);
    char *copy = strdup(text), *save = NULL;
    bool ok = copy && *text;
    for (char *t = ok ? strtok_r(copy, ",", &save) : NULL; t && ok;
         t = strtok_r(NULL, ",", &save)) {
        bool neg = *t == '^';
        char *end;
        long a = strtol(t + neg, &end, 10), b = a;
        if (*end == '-' && !neg)
            b = strtol(end + 1, &end, 10);
        ok = end != t + neg && !*end && a >= 0 && b >= a && b < host_cpus();
        for (long c = a; ok && c <= b; c++) {
            if (neg)
                CPU_CLR((int)c, set);
            else
                CPU_SET((int)c, set);
        }
    }
    free(copy);
    return ok && CPU_COUNT(set) > 0;
}

static void pin_one(pid_t pid, const char *stat, void *arg)
{
    (void)stat;
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    struct dirent *e;
    /* Every thread: the emulator runs its vCPU in a thread of its own. */
    while (d && (e = readdir(d)))
        if (e->d_name[0] >= '1' && e->d_name[0] <= '9')
            sched_setaffinity((pid_t)atol(e->d_name), sizeof(cpu_set_t), arg);
    if (d)
        closedir(d);
}

/* vcpupin: hv runs the domain's vCPUs inside its machine, so pinning one
 * pins the machine's processes (the emulator's threads) to host CPUs with
 * sched_setaffinity(2), which `taskset -p` shows. */
static bool vcpupin(const struct cmd_call *call)
{
    struct vdom v;
    cpu_set_t set;
    const char *vcpu = opt_str(call, "vcpu"), *list = opt_str(call, "cpulist");
    if (!live_lookup(call, &v))
        return false;
    unsigned n = v.dom.def.vcpus_current ? v.dom.def.vcpus_current : 1;
    char *end;
    long which = vcpu ? strtol(vcpu, &end, 10) : -1;
    if (vcpu && (*end || !*vcpu || which < 0)) {
        verror("vcpupin: Invalid vCPU number.");
        return false;
    }
    /* virsh checks a query itself, the driver a change. */
    if (vcpu && which >= (long)n && !list) {
        verror("vcpu %ld is out of range of %s cpu count %u", which,
               v.active ? "live" : "persistent", n);
        return false;
    }
    if (vcpu && which >= (long)n) {
        verror("invalid argument: requested vcpu '%ld' is not present in the domain", which);
        return false;
    }
    if (!list) {
        static const char *const head[] = {"VCPU", "CPU Affinity"};
        struct vtable *t = vtable_new(2, head);
        char ids[16], cpus[1024];
        affinity(&v, &set);
        if (!v.active)
            for (int c = 0; c < host_cpus(); c++)
                CPU_SET(c, &set);
        list_of(&set, cpus, sizeof(cpus));
        for (unsigned i = 0; i < n; i++) {
            if (vcpu && (long)i != which)
                continue;
            snprintf(ids, sizeof(ids), "%u", i);
            const char *row[] = {ids, cpus};
            vtable_add(t, row);
        }
        vtable_print(t, stdout, !virsh.quiet);
        vtable_free(t);
        return true;
    }
    if (!vcpu) {
        verror("vcpupin: Missing vCPU number in pin mode.");
        return false;
    }
    if (!parse_cpulist(list, &set)) {
        verror("Physical CPU %s doesn't exist.", list);
        return false;
    }
    if (!v.active || opt_bool(call, "config")) {
        verror("unsupported configuration: hvkit pins the vCPUs of a running domain only "
               "(--live)");
        return false;
    }
    live_each_process(&v, pin_one, &set);
    return true;
}

/* libvirt's numbers for a state's reason (virDomainRunningReason, ...). */
static int reason_number(enum vstate s, const char *reason)
{
    static const char *const running[] = {"unknown",       "booted",   "migrated", "restored",
                                          "from snapshot", "unpaused", NULL};
    static const char *const paused[] = {"unknown",  "user",          "migration",
                                         "saving",   "dumping",       "ioerror",
                                         "watchdog", "from snapshot", NULL};
    static const char *const shutoff[] = {"unknown", "shutdown",      "destroyed",
                                          "crashed", "migrated",      "saved",
                                          "failed",  "from snapshot", NULL};
    const char *const *set = s == VSTATE_RUNNING   ? running
                             : s == VSTATE_PAUSED  ? paused
                             : s == VSTATE_SHUTOFF ? shutoff
                                                   : NULL;
    int i = set ? str_list_index(set, reason) : -1;
    return i < 0 ? 0 : i;
}

static bool domstats(const struct cmd_call *call)
{
    int count;
    struct vdom *all = live_list(&count);
    const char *name = opt_str(call, "domain");
    bool found = !name;
    int shown = 0;
    for (int i = 0; i < count; i++) {
        struct vdom *v = &all[i];
        if (name && strcmp(v->dom.def.name, name) && strcmp(v->dom.def.uuid, name))
            continue;
        if ((opt_bool(call, "list-active") && !v->active) ||
            (opt_bool(call, "list-inactive") && v->active) ||
            (opt_bool(call, "list-running") && v->state != VSTATE_RUNNING) ||
            (opt_bool(call, "list-paused") && v->state != VSTATE_PAUSED) ||
            (opt_bool(call, "list-shutoff") && v->state != VSTATE_SHUTOFF))
            continue;
        /* An empty line between domains; virsh's own ends the last. */
        if (shown++)
            putchar('\n');
        found = true;
        printf("Domain: '%s'\n", v->dom.def.name);
        /* The groups asked for, or all of them. */
        bool cpu = opt_bool(call, "cpu-total"), balloon = opt_bool(call, "balloon");
        bool vcpu = opt_bool(call, "vcpu"), block = opt_bool(call, "block");
        bool state = opt_bool(call, "state");
        if (!cpu && !balloon && !vcpu && !block && !state)
            cpu = balloon = vcpu = block = state = true;
        if (state)
            printf("  state.state=%d\n  state.reason=%d\n", (int)v->state,
                   reason_number(v->state, v->reason));
        if (!v->active)
            continue;
        struct live_times t;
        live_times(v, &t);
        uint64_t tick = 1000000000ULL / (uint64_t)sysconf(_SC_CLK_TCK);
        if (cpu)
            printf("  cpu.time=%llu\n  cpu.user=%llu\n  cpu.system=%llu\n", (t.user + t.sys) * tick,
                   t.user * tick, t.sys * tick);
        if (balloon)
            printf("  balloon.current=%llu\n  balloon.maximum=%llu\n",
                   (unsigned long long)live_memory_kib(v),
                   (unsigned long long)live_max_memory_kib(v));
        if (vcpu) {
            uint32_t online;
            unsigned built = live_vcpus(v, &online);
            printf("  vcpu.current=%u\n  vcpu.maximum=%u\n",
                   built ? (unsigned)__builtin_popcount(online) : v->dom.def.vcpus_current,
                   built ? built : v->dom.def.vcpus);
        }
        if (block)
            printf("  block.count=%d\n", v->dom.def.ndisks);
        for (int k = 0; block && k < v->dom.def.ndisks; k++)
            printf("  block.%d.name=%s\n  block.%d.path=%s\n", k, v->dom.def.disks[k].target, k,
                   v->dom.def.disks[k].source);
    }
    free(all);
    if (!found) {
        verror("failed to get domain '%s'", name);
        return false;
    }
    return true;
}

static bool cpu_stats(const struct cmd_call *call)
{
    struct vdom v;
    if (!live_lookup(call, &v))
        return false;
    if (!v.active) {
        verror("Failed to retrieve CPU statistics for domain '%s'", v.dom.def.name);
        return live_not_running(NULL);
    }
    struct live_times t;
    live_times(&v, &t);
    double tick = 1.0 / (double)sysconf(_SC_CLK_TCK);
    /* hv's vCPUs run inside the machine: the host sees its processes, not
     * which host CPU did how much, so only the total is shown. */
    printf("Total:\n");
    printf("\t%-12s %19.9f seconds\n", "cpu_time", (double)(t.user + t.sys) * tick);
    printf("\t%-12s %19.9f seconds\n", "user_time", (double)t.user * tick);
    printf("\t%-12s %19.9f seconds\n", "system_time", (double)t.sys * tick);
    return true;
}

static bool dommemstat(const struct cmd_call *call)
{
    struct vdom v;
    if (!live_lookup(call, &v))
        return false;
    if (!v.active) {
        verror("Failed to get memory statistics for domain %s", v.dom.def.name);
        return live_not_running(NULL);
    }
    struct live_times t;
    live_times(&v, &t);
    /* actual: the domain's memory now; rss: what its machine holds of the
     * host's memory (the emulator's resident pages), as QEMU reports. */
    printf("actual %llu\n", (unsigned long long)live_memory_kib(&v));
    printf("rss %llu\n", t.rss_pages * (unsigned long long)sysconf(_SC_PAGESIZE) / 1024);
    return true;
}

/* ---- domblkstat --------------------------------------------------------------- */

/* One disk's counters as libvirt's qemu driver reports them from QMP's
 * query-blockstats (virDomainBlockStatsFlags): requests and bytes, flushes
 * and the three total times; libvirt's qemu driver has no "errs" to give. */
struct blkstat {
    uint64_t v[8];
};

/* virsh's order and names: the legacy spelling, or with --human its
 * explanation (virsh's domblkstat_output), and the QMP member each one
 * is read from. */
static const struct {
    const char *legacy, *human, *qmp;
} blkstat_fields[8] = {
    {"rd_req", "number of read operations:", "rd_operations"},
    {"rd_bytes", "number of bytes read:", "rd_bytes"},
    {"wr_req", "number of write operations:", "wr_operations"},
    {"wr_bytes", "number of bytes written:", "wr_bytes"},
    {"flush_operations", "number of flush operations:", "flush_operations"},
    {"rd_total_times", "total duration of reads (ns):", "rd_total_time_ns"},
    {"wr_total_times", "total duration of writes (ns):", "wr_total_time_ns"},
    {"flush_total_times", "total duration of flushes (ns):", "flush_total_time_ns"},
};

/* hv's name ("virtio0") of the disk whose file is `source`, from
 * query-block: the disks are matched by file, not by their place in the
 * definition, so a disk that is not a virtio disk is never taken for one.
 * False after virsh's messages. */
static bool hv_disk_name(const struct vdom *v, struct ctlc *c, const char *source, char *name,
                         size_t len, const char *failed)
{
    int ret;
    if (live_call(v, c, CTL_CMD_QUERY_BLOCK, "", 30000, &ret, failed) < 0)
        return false;
    for (int i = json_first(&c->doc, ret); i >= 0; i = json_after(&c->doc, ret, i)) {
        char file[PATH_MAX];
        if (json_str_copy(&c->doc, json_get(&c->doc, i, "file"), file, sizeof(file)) >= 0 &&
            !strcmp(file, source)) {
            json_str_copy(&c->doc, json_get(&c->doc, i, "device"), name, len);
            ctlc_close(c);
            return true;
        }
    }
    ctlc_close(c);
    verror("%s", failed);
    verror("unsupported configuration: disk '%s' is not a virtio disk of the machine, the only "
           "kind hv counts I/O for",
           source);
    return false;
}

/* The counters of disk `name` ("virtio0"), or with name NULL the sum over
 * every disk (libvirt's qemu driver sums them for an empty device). */
static bool hv_blkstat(const struct vdom *v, struct ctlc *c, const char *name, struct blkstat *out,
                       const char *failed)
{
    int ret;
    bool found = !name;
    memset(out, 0, sizeof(*out));
    if (live_call(v, c, CTL_CMD_QUERY_BLOCKSTATS, "", 30000, &ret, failed) < 0)
        return false;
    for (int i = json_first(&c->doc, ret); i >= 0; i = json_after(&c->doc, ret, i)) {
        char dev[32] = "";
        json_str_copy(&c->doc, json_get(&c->doc, i, "device"), dev, sizeof(dev));
        if (name && strcmp(dev, name))
            continue;
        found = true;
        int st = json_get(&c->doc, i, "stats");
        for (int f = 0; f < 8; f++) {
            uint64_t n = 0;
            json_u64(&c->doc, json_get(&c->doc, st, blkstat_fields[f].qmp), &n);
            out->v[f] += n;
        }
    }
    ctlc_close(c);
    if (!found) {
        verror("%s", failed);
        verror("internal error: hv keeps no I/O counters for its disk '%s'", name);
    }
    return found;
}

/* domblkstat DOMAIN [DEVICE] [--human]: as virsh prints what
 * virDomainBlockStatsFlags returns, each field a line "DEVICE NAME VALUE",
 * or with --human "Device: DEVICE" and the explanations padded to 31
 * columns; without a device the sum over all disks, on lines that start
 * with the empty device name.  The refusals are those of virsh on
 * libvirt's test driver (which names the domain and device first). */
static bool domblkstat(const struct cmd_call *call)
{
    static struct ctlc c;
    struct vdom v;
    struct blkstat b;
    char failed[PATH_MAX + 300], hvname[32];
    const char *device = opt_str(call, "device");
    bool human = opt_bool(call, "human");
    if (!live_lookup(call, &v))
        return false;
    if (!device)
        device = "";
    snprintf(failed, sizeof(failed), "Failed to get block stats %s %s", v.dom.def.name, device);
    if (!v.active)
        return live_not_running(failed);
    /* The definition's disks and those attached while it runs. */
    static struct disk_def live[DOM_MAX_DISKS];
    const struct disk_def *k = NULL;
    int n = *device ? live_disks(&v, live, DOM_MAX_DISKS) : 0;
    for (int i = 0; *device && i < v.dom.def.ndisks && !k; i++)
        if (!strcmp(v.dom.def.disks[i].target, device) ||
            !strcmp(v.dom.def.disks[i].source, device))
            k = &v.dom.def.disks[i];
    for (int i = 0; i < n && !k; i++)
        if (!strcmp(live[i].target, device) || !strcmp(live[i].source, device))
            k = &live[i];
    if (*device && !k) {
        verror("%s", failed);
        verror("invalid argument: invalid path: %s", device);
        return false;
    }
    if (k && !hv_disk_name(&v, &c, k->source, hvname, sizeof(hvname), failed))
        return false;
    if (!hv_blkstat(&v, &c, k ? hvname : NULL, &b, failed))
        return false;
    if (human) {
        printf("Device: %s\n", device);
        device = "";
    }
    for (int f = 0; f < 8; f++)
        printf("%s %-*s %llu\n", device, human ? 31 : 0,
               human ? blkstat_fields[f].human : blkstat_fields[f].legacy,
               (unsigned long long)b.v[f]);
    return true;
}

#define DOM_ARG                                                                                    \
    {                                                                                              \
        "domain", OPT_STRING, true, "domain name, id or uuid"                                      \
    }

const struct cmd_def stat_cmds[] = {
    {"cpu-stats",
     cpu_stats,
     "show domain cpu statistics",
     {DOM_ARG,
      {"total", OPT_BOOL, false, "Show total statistics only"},
      {"start", OPT_INT, false, "Show statistics from this CPU"},
      {"count", OPT_INT, false, "Number of shown CPUs at most"}},
     "Display per-CPU and total statistics about the domain's CPUs"},
    {"domblkstat",
     domblkstat,
     "get device block stats for a domain",
     {DOM_ARG,
      {"device", OPT_STRING, false, "block device"},
      {"human", OPT_BOOL, false, "print a more human readable output"}},
     "Get device block stats for a running domain. See man page or use --human for explanation of "
     "fields"},
    {"dommemstat",
     dommemstat,
     "get memory statistics for a domain",
     {DOM_ARG,
      {"period", OPT_INT, false, "period in seconds to set collection"},
      {"config", OPT_BOOL, false, "affect next boot"},
      {"live", OPT_BOOL, false, "affect running domain"},
      {"current", OPT_BOOL, false, "affect current domain"}},
     "Get memory statistics for a running domain."},
    {"domstats",
     domstats,
     "get statistics about one or multiple domains",
     {{"state", OPT_BOOL, false, "report domain state"},
      {"cpu-total", OPT_BOOL, false, "report domain physical cpu usage"},
      {"balloon", OPT_BOOL, false, "report domain balloon statistics"},
      {"vcpu", OPT_BOOL, false, "report domain virtual cpu information"},
      {"block", OPT_BOOL, false, "report domain block device statistics"},
      {"list-active", OPT_BOOL, false, "list only active domains"},
      {"list-inactive", OPT_BOOL, false, "list only inactive domains"},
      {"list-running", OPT_BOOL, false, "list only running domains"},
      {"list-paused", OPT_BOOL, false, "list only paused domains"},
      {"list-shutoff", OPT_BOOL, false, "list only shutoff domains"},
      {"raw", OPT_BOOL, false, "do not pretty-print the fields"},
      {"domain", OPT_ARGV, false, "list of domains to get stats for"}},
     "Gets statistics about one or more (or all) domains"},
    {"vcpuinfo",
     vcpuinfo,
     "detailed domain vcpu information",
     {DOM_ARG, {"pretty", OPT_BOOL, false, "return human readable output"}},
     "Returns basic information about the domain virtual CPUs."},
    {"vcpupin",
     vcpupin,
     "control or query domain vcpu affinity",
     {DOM_ARG,
      {"vcpu", OPT_INT, false, "vcpu number"},
      {"cpulist", OPT_STRING, false, "host cpu number(s) to set, or omit option to query"},
      {"config", OPT_BOOL, false, "affect next boot"},
      {"live", OPT_BOOL, false, "affect running domain"},
      {"current", OPT_BOOL, false, "affect current domain"}},
     "Pin domain VCPUs to host physical CPUs."},
    {NULL, NULL, NULL, {{0}}, NULL},
};
