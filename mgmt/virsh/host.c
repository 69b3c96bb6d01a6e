/*
 * Commands about the connection and the host: uri, hostname, version,
 * nodeinfo, capabilities, help.  The host is the machine hvkit's domains
 * run on (each in a machine of its own), so nodeinfo and capabilities
 * describe it from /proc and /sys, as libvirt's drivers describe theirs.
 */
#include "virsh.h"

#include "hvkit/ctl.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

static bool uri(const struct cmd_call *call)
{
    (void)call;
    printf("%s\n", virsh.uri);
    return true;
}

static bool hostname(const struct cmd_call *call)
{
    char name[256] = "";
    (void)call;
    gethostname(name, sizeof(name) - 1);
    printf("%s\n", name);
    return true;
}

/* libvirt's version lines, with hvkit where libvirt names itself and its
 * driver: virsh here is not linked with libvirt. */
static bool version(const struct cmd_call *call)
{
    (void)call;
    printf("Compiled against library: hvkit %d.%d.0\n", CTL_VERSION_MAJOR, CTL_VERSION_MINOR);
    printf("Using library: hvkit %d.%d.0\n", CTL_VERSION_MAJOR, CTL_VERSION_MINOR);
    printf("Using API: hvkit %d.%d.0\n", CTL_VERSION_MAJOR, CTL_VERSION_MINOR);
    printf("Running hypervisor: hvkit %d.%d.0\n", CTL_VERSION_MAJOR, CTL_VERSION_MINOR);
    return true;
}

/* The host's shape, read as libvirt's nodeinfo reads it. */
struct node {
    char arch[72];
    int cpus, mhz, sockets, cores, threads, cells;
    unsigned long long mem_kib;
};

/* The number of distinct values of a /proc/cpuinfo field ("physical id"),
 * and the value of another taken from the first processor. */
static int cpuinfo_count(const char *key, const char *first_key, int *first)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    int seen[256], n = 0;
    *first = 0;
    while (f && fgets(line, sizeof(line), f)) {
        char *colon = strchr(line, ':');
        if (!colon)
            continue;
        if (!strncmp(line, first_key, strlen(first_key)) && !*first)
            *first = atoi(colon + 1);
        if (strncmp(line, key, strlen(key)))
            continue;
        int v = atoi(colon + 1), k = 0;
        while (k < n && seen[k] != v)
            k++;
        if (k == n && n < 256)
            seen[n++] = v;
    }
    if (f)
        fclose(f);
    return n ? n : 1;
}

static void node_read(struct node *n)
{
    struct utsname u;
    uname(&u);
    snprintf(n->arch, sizeof(n->arch), "%s", u.machine);
    n->cpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
    n->sockets = cpuinfo_count("physical id", "cpu MHz", &n->mhz);
    int siblings, cores;
    cpuinfo_count("siblings", "siblings", &siblings);
    cpuinfo_count("cpu cores", "cpu cores", &cores);
    n->cores = cores ? cores : n->cpus / n->sockets;
    n->threads = siblings && cores ? siblings / cores : 1;
    n->cells = 0;
    DIR *d = opendir("/sys/devices/system/node");
    struct dirent *e;
    while (d && (e = readdir(d)))
        n->cells += !strncmp(e->d_name, "node", 4) && e->d_name[4] >= '0' && e->d_name[4] <= '9';
    if (d)
        closedir(d);
    if (!n->cells)
        n->cells = 1;
    n->mem_kib = (unsigned long long)sysconf(_SC_PHYS_PAGES) *
                 (unsigned long long)sysconf(_SC_PAGESIZE) / 1024;
}

static bool nodeinfo(const struct cmd_call *call)
{
    struct node n;
    (void)call;
    node_read(&n);
    printf("%-20s %s\n", "CPU model:", n.arch);
    printf("%-20s %d\n", "CPU(s):", n.cpus);
    printf("%-20s %d MHz\n", "CPU frequency:", n.mhz);
    printf("%-20s %d\n", "CPU socket(s):", n.sockets);
    printf("%-20s %d\n", "Core(s) per socket:", n.cores);
    printf("%-20s %d\n", "Thread(s) per core:", n.threads);
    printf("%-20s %d\n", "NUMA cell(s):", n.cells);
    printf("%-20s %llu KiB\n", "Memory size:", n.mem_kib);
    return true;
}

/* capabilities: the host, and the one kind of guest hvkit runs (a 64-bit
 * hvm guest of domain type hvkit, kvm or qemu, booted by bin/hvrun). */
static bool capabilities(const struct cmd_call *call)
{
    struct node n;
    (void)call;
    node_read(&n);
    printf("<capabilities>\n\n  <host>\n    <cpu>\n      <arch>%s</arch>\n", n.arch);
    printf("      <topology sockets='%d' dies='1' cores='%d' threads='%d'/>\n", n.sockets, n.cores,
           n.threads);
    printf("      <pages unit='KiB' size='4'/>\n    </cpu>\n    <power_management/>\n");
    printf("    <iommu support='no'/>\n    <topology>\n      <cells num='%d'>\n", n.cells);
    printf("        <cell id='0'>\n          <memory unit='KiB'>%llu</memory>\n", n.mem_kib);
    printf("          <cpus num='%d'>\n", n.cpus);
    for (int i = 0; i < n.cpus; i++)
        printf("            <cpu id='%d'/>\n", i);
    printf("          </cpus>\n        </cell>\n      </cells>\n    </topology>\n");
    printf("    <secmodel>\n      <model>none</model>\n      <doi>0</doi>\n    </secmodel>\n");
    printf("  </host>\n\n  <guest>\n    <os_type>hvm</os_type>\n");
    printf("    <arch name='x86_64'>\n      <wordsize>64</wordsize>\n");
    printf("      <emulator>bin/hvrun</emulator>\n");
    printf("      <domain type='hvkit'/>\n      <domain type='kvm'/>\n      <domain "
           "type='qemu'/>\n");
    printf("    </arch>\n    <features>\n      <acpi default='on' toggle='no'/>\n");
    printf("    </features>\n  </guest>\n\n</capabilities>\n");
    return true;
}

/* How help COMMAND shows one option in the SYNOPSIS line and in the left
 * column of OPTIONS, as libvirt's vshCmddefHelp does: a value's kind in
 * angle brackets, a name in brackets when it may be left out (a required
 * option's value can come as a bare word), and an optional "argv" option
 * (domstats' domains) by its name alone. */
static void opt_forms(const struct opt_def *o, char *syn, char *left, size_t len)
{
    const char *value = o->kind == OPT_INT ? "number" : "string";
    if (o->kind == OPT_BOOL) {
        snprintf(syn, len, "[--%s]", o->name);
        snprintf(left, len, "--%s", o->name);
    } else if (o->kind == OPT_ARGV && !o->required) {
        snprintf(syn, len, "[<%s>]", o->name);
        snprintf(left, len, "<%s>", o->name);
    } else if (o->kind == OPT_ARGV) {
        snprintf(syn, len, "[--%s] <%s>", o->name, value);
        snprintf(left, len, "[--%s] <%s>", o->name, value);
    } else if (o->required) {
        snprintf(syn, len, "<%s>", o->name);
        snprintf(left, len, "[--%s] <%s>", o->name, value);
    } else {
        snprintf(syn, len, "[--%s <%s>]", o->name, value);
        snprintf(left, len, "--%s <%s>", o->name, value);
    }
}

/* help COMMAND: the command's page in the shape of virsh's own (NAME,
 * SYNOPSIS, DESCRIPTION when the command has one, OPTIONS when it has
 * any), each section followed by an empty line. */
static void help_one(const struct cmd_def *def)
{
    char syn[96], left[96];
    printf("  NAME\n    %s - %s\n\n  SYNOPSIS\n    %s", def->name, def->summary, def->name);
    for (int i = 0; i < MAX_OPTS && def->opts[i].name; i++) {
        opt_forms(&def->opts[i], syn, left, sizeof(syn));
        printf(" %s", syn);
    }
    printf("\n\n");
    if (def->desc)
        printf("  DESCRIPTION\n    %s\n\n", def->desc);
    if (!def->opts[0].name)
        return;
    printf("  OPTIONS\n");
    for (int i = 0; i < MAX_OPTS && def->opts[i].name; i++) {
        opt_forms(&def->opts[i], syn, left, sizeof(syn));
        printf("    %-15s  %s\n", left, def->opts[i].help);
    }
    printf("\n");
}

/* help: every command of each group with its summary, as virsh lists them. */
static void help_all(void)
{
    static const struct {
        const char *title;
        const struct cmd_def *cmds;
    } groups[] = {{"Domain Management (help keyword 'domain')", dom_cmds},
                  {"Domain Life Cycle (help keyword 'domain')", life_cmds},
                  {"Domain Monitoring (help keyword 'monitor')", stat_cmds},
                  {"Hypervisor monitor (help keyword 'qemu')", mon_cmds},
                  {"Domain Disks (help keyword 'disk')", disk_cmds},
                  {"Snapshot (help keyword 'snapshot')", snap_cmds},
                  {"Storage Pool (help keyword 'pool')", pool_cmds},
                  {"Storage Volume (help keyword 'volume')", vol_cmds},
                  {"Virsh itself (help keyword 'virsh')", host_cmds}};
    printf("Grouped commands:\n\n");
    for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
        printf(" %s:\n", groups[g].title);
        for (const struct cmd_def *c = groups[g].cmds; c->name; c++)
            printf("    %-30s %s\n", c->name, c->summary);
        printf("\n");
    }
}

static bool help(const struct cmd_call *call)
{
    const char *name = opt_str(call, "command");
    if (!name) {
        help_all();
        return true;
    }
    const struct cmd_def *def = cmd_find(name);
    if (!def) {
        verror("command or command group '%s' doesn't exist", name);
        return false;
    }
    help_one(def);
    return true;
}

const struct cmd_def host_cmds[] = {
    {"help",
     help,
     "print help",
     {{"command", OPT_STRING, false,
       "Prints global help, command specific help, or help for a group of related commands"}},
     "Prints global help, command specific help, or help for a\n    group of related commands"},
    {"capabilities",
     capabilities,
     "capabilities",
     {{0}},
     "Returns capabilities of hypervisor/driver."},
    {"hostname", hostname, "print the hypervisor hostname", {{0}}, NULL},
    {"nodeinfo", nodeinfo, "node information", {{0}}, "Returns basic information about the node."},
    {"uri", uri, "print the hypervisor canonical URI", {{0}}, NULL},
    {"version",
     version,
     "show version",
     {{"daemon", OPT_BOOL, false, "report daemon version too"}},
     "Display the system version information."},
    {NULL, NULL, NULL, {{0}}, NULL},
};
