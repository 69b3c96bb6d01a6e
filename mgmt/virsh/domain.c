/*
 * Domain commands on defined domains: define, undefine, list, dominfo,
 * domstate, dumpxml, edit, autostart, domblklist, the --config forms of
 * setmem, setmaxmem and setvcpus, and vcpucount.  A defined domain is
 * "shut off" until hv runs it; starting one comes with hv's management
 * protocol.  Output lines and errors are virsh 9.0's.
 */
#include "domain.h"
#include "live.h"

#include "../common/size.h"
#include "../common/vtable.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

bool dom_lookup(const struct cmd_call *call, struct dom *out)
{
    struct vdom v;
    if (!live_lookup(call, &v))
        return false;
    *out = v.dom;
    return true;
}

/* The checks libvirt makes before it accepts a definition: a domain of the
 * same name must have the same UUID, and a UUID belongs to one name. */
static bool definable(const struct domain_def *d, const char *failed)
{
    int count;
    struct dom *list = store_dom_list(&count);
    bool ok = true;
    for (int i = 0; i < count && ok; i++) {
        const struct domain_def *o = &list[i].def;
        if (!strcmp(o->name, d->name) && strcmp(o->uuid, d->uuid)) {
            verror("%s", failed);
            verror("operation failed: domain '%s' already exists with uuid %s", d->name, o->uuid);
            ok = false;
        } else if (strcmp(o->name, d->name) && !strcmp(o->uuid, d->uuid)) {
            verror("%s", failed);
            verror("operation failed: domain '%s' already exists with uuid %s", o->name, o->uuid);
            ok = false;
        }
    }
    free(list);
    return ok;
}

/* Read, check and store a definition from a file. */
static bool define_from(const char *file, struct domain_def *d)
{
    char failed[PATH_MAX + 64];
    snprintf(failed, sizeof(failed), "Failed to define domain from %s", file);
    return live_read_xml(file, d, failed) && definable(d, failed) && store_dom_save(d);
}

static bool define(const struct cmd_call *call)
{
    struct domain_def d;
    const char *file = opt_str(call, "file");
    if (!define_from(file, &d))
        return false;
    vinfo("Domain '%s' defined from %s", d.name, file);
    return true;
}

/* A running domain that loses its definition goes on as a transient one,
 * as in libvirt: its definition moves to domains/transient. */
static bool keep_transient(const struct domain_def *d)
{
    char path[PATH_MAX + 600];
    FILE *f;
    if (!store_path(path, sizeof(path), "domains/transient/%s.xml", d->name) ||
        !(f = fopen(path, "w")))
        return false;
    domxml_print(d, f);
    return fclose(f) == 0;
}

static bool undefine(const struct cmd_call *call)
{
    struct vdom v;
    if (!live_lookup(call, &v))
        return false;
    struct dom dom = v.dom;
    if (!v.persistent) {
        verror("Failed to undefine domain '%s'", dom.def.name);
        verror("Requested operation is not valid: cannot undefine transient domain");
        return false;
    }
    if (v.active && !keep_transient(&dom.def))
        return false;
    /* libvirt will not lose track of snapshots silently: their records go
     * only with --snapshots-metadata (the disks keep the snapshots). */
    int snaps = snapshot_count(dom.def.name);
    if (snaps && !opt_bool(call, "snapshots-metadata")) {
        verror("Failed to undefine domain '%s'", dom.def.name);
        verror("Requested operation is not valid: cannot delete inactive domain with %d "
               "snapshots",
               snaps);
        return false;
    }
    if ((snaps && !snapshot_forget_all(dom.def.name)) || !store_dom_undefine(&dom.def))
        return false;
    vinfo("Domain '%s' has been undefined", dom.def.name);
    return true;
}

/* Does `list`'s filter take this domain?  Without --all or --inactive it
 * lists the running domains; the --state-* options narrow the choice. */
static bool listed(const struct cmd_call *call, const struct vdom *v)
{
    bool all = opt_bool(call, "all"), inactive = opt_bool(call, "inactive");
    bool running = opt_bool(call, "state-running"), paused = opt_bool(call, "state-paused");
    bool shutoff = opt_bool(call, "state-shutoff"), other = opt_bool(call, "state-other");
    if (!all && (inactive ? v->active : !v->active) && !(shutoff && !v->active))
        return false;
    if ((running || paused || shutoff || other) &&
        !((running && v->state == VSTATE_RUNNING) || (paused && v->state == VSTATE_PAUSED) ||
          (shutoff && v->state == VSTATE_SHUTOFF) ||
          (other && v->state != VSTATE_RUNNING && v->state != VSTATE_PAUSED &&
           v->state != VSTATE_SHUTOFF)))
        return false;
    if ((opt_bool(call, "persistent") && !v->persistent) ||
        (opt_bool(call, "transient") && v->persistent) ||
        (opt_bool(call, "with-managed-save") && !has_managed_save(v->dom.def.name)) ||
        (opt_bool(call, "without-managed-save") && has_managed_save(v->dom.def.name)))
        return false;
    return !((opt_bool(call, "autostart") && !v->dom.autostart) ||
             (opt_bool(call, "no-autostart") && v->dom.autostart));
}

static bool list(const struct cmd_call *call)
{
    int count;
    struct vdom *doms = live_list(&count);
    bool title = opt_bool(call, "title");
    static const char *const head[] = {"Id", "Name", "State", "Title"};
    struct vtable *t = vtable_new(title ? 4 : 3, head);
    for (int i = 0; i < count; i++) {
        const struct domain_def *d = &doms[i].dom.def;
        char id[16] = "-";
        if (!listed(call, &doms[i]))
            continue;
        if (doms[i].active)
            snprintf(id, sizeof(id), "%d", doms[i].run.domid);
        if (opt_bool(call, "name")) {
            printf("%s\n", d->name);
        } else if (opt_bool(call, "uuid")) {
            printf("%s\n", d->uuid);
        } else {
            /* --managed-save: an inactive domain with a managed save is
             * "saved", as libvirt marks it. */
            bool saved =
                opt_bool(call, "managed-save") && !doms[i].active && has_managed_save(d->name);
            const char *row[] = {id, d->name, saved ? "saved" : live_state_name(doms[i].state), ""};
            vtable_add(t, row);
        }
    }
    if (!opt_bool(call, "name") && !opt_bool(call, "uuid"))
        vtable_print(t, stdout, !virsh.quiet);
    vtable_free(t);
    free(doms);
    return true;
}

static bool dominfo(const struct cmd_call *call)
{
    struct vdom v;
    if (!live_lookup(call, &v))
        return false;
    const struct domain_def *d = &v.dom.def;
    uint64_t cpu_ns = v.active ? live_cpu_ns(&v) : 0;
    if (v.active)
        printf("%-15s %d\n", "Id:", v.run.domid);
    else
        printf("%-15s %s\n", "Id:", "-");
    printf("%-15s %s\n", "Name:", d->name);
    printf("%-15s %s\n", "UUID:", d->uuid);
    printf("%-15s %s\n", "OS Type:", d->os_type);
    printf("%-15s %s\n", "State:", live_state_name(v.state));
    /* A running domain's vCPUs online now (vCPU hot-plug). */
    unsigned online = v.active ? live_vcpus_online(&v) : 0;
    printf("%-15s %u\n", "CPU(s):", online ? online : d->vcpus_current);
    /* libvirt shows the CPU time only when the driver knows one: here the
     * host CPU time the domain's machine has used. */
    if (cpu_ns)
        printf("%-15s %.1fs\n", "CPU time:", (double)cpu_ns / 1e9);
    printf("%-15s %llu KiB\n", "Max memory:", (unsigned long long)live_max_memory_kib(&v));
    printf("%-15s %llu KiB\n", "Used memory:", (unsigned long long)live_memory_kib(&v));
    printf("%-15s %s\n", "Persistent:", v.persistent ? "yes" : "no");
    printf("%-15s %s\n", "Autostart:", v.dom.autostart ? "enable" : "disable");
    printf("%-15s %s\n", "Managed save:", has_managed_save(d->name) ? "yes" : "no");
    /* hv confines a guest by hardware alone; no security driver labels it. */
    printf("%-15s %s\n", "Security model:", "none");
    printf("%-15s %s\n", "Security DOI:", "0");
    return true;
}

static bool domstate(const struct cmd_call *call)
{
    struct vdom v;
    if (!live_lookup(call, &v))
        return false;
    if (opt_bool(call, "reason"))
        printf("%s (%s)\n", live_state_name(v.state), v.reason);
    else
        printf("%s\n", live_state_name(v.state));
    return true;
}

static bool domid(const struct cmd_call *call)
{
    struct vdom v;
    if (!live_lookup(call, &v))
        return false;
    /* A domain has an id only while it runs. */
    if (v.active)
        printf("%d\n", v.run.domid);
    else
        printf("-\n");
    return true;
}

static bool domname(const struct cmd_call *call)
{
    struct vdom v;
    const char *key = opt_str(call, "domain");
    char id[16] = "";
    /* domname turns an id or a UUID into a name; a name is not a key. */
    bool found = live_find(key, &v);
    if (found && v.active)
        snprintf(id, sizeof(id), "%d", v.run.domid);
    if (!found || (strcmp(v.dom.def.uuid, key) && strcmp(id, key))) {
        verror("failed to get domain '%s'", key);
        return false;
    }
    printf("%s\n", v.dom.def.name);
    return true;
}

static bool domuuid(const struct cmd_call *call)
{
    struct dom dom;
    if (!dom_lookup(call, &dom))
        return false;
    printf("%s\n", dom.def.uuid);
    return true;
}

static bool dumpxml(const struct cmd_call *call)
{
    struct vdom v;
    if (!live_lookup(call, &v))
        return false;
    /* A running domain's <vcpu> is its live one: the maximum hv built it
     * with, current= those online (setvcpus --live moves it); --inactive
     * shows the definition as it is. */
    bool inactive = opt_bool(call, "inactive");
    uint32_t online;
    unsigned max = inactive ? 0 : live_vcpus(&v, &online);
    if (max) {
        v.dom.def.vcpus = max;
        v.dom.def.vcpus_current = (unsigned)__builtin_popcount(online);
    }
    /* Its <memory> and <currentMemory> too: the RAM its machine was built
     * with (setmaxmem --config waits for the next start) and what the
     * guest has now (setmem --live moves it), as dominfo shows them. */
    if (!inactive && v.active) {
        v.dom.def.memory_kib = live_max_memory_kib(&v);
        v.dom.def.current_kib = live_memory_kib(&v);
    }
    /* Its <devices> too are the live ones: the definition's disks and,
     * after them, those attached while it runs (attach-disk --live), as
     * libvirt's live XML lists a hot-plugged disk until it is detached. */
    if (!inactive) {
        /* And its CD-ROM drive holds the medium it holds now. */
        live_cd_media(&v, &v.dom.def);
        v.dom.def.ndisks +=
            live_disks(&v, v.dom.def.disks + v.dom.def.ndisks, DOM_MAX_DISKS - v.dom.def.ndisks);
    }
    domxml_print(&v.dom.def, stdout);
    return true;
}

static bool autostart(const struct cmd_call *call)
{
    struct dom dom;
    bool off = opt_bool(call, "disable");
    if (!dom_lookup(call, &dom) || !store_dom_set_autostart(&dom.def, !off))
        return false;
    vinfo("Domain '%s' %s as autostarted", dom.def.name, off ? "unmarked" : "marked");
    return true;
}

/* The running domain's disks are its definition's, with the medium its
 * CD-ROM drive holds now, and those attached while it runs (attach-disk
 * --live); --inactive shows the definition's. */
static bool domblklist(const struct cmd_call *call)
{
    static struct disk_def all[2 * DOM_MAX_DISKS];
    struct vdom v;
    if (!live_lookup(call, &v))
        return false;
    bool live = !opt_bool(call, "inactive");
    if (live)
        live_cd_media(&v, &v.dom.def);
    int n = v.dom.def.ndisks;
    memcpy(all, v.dom.def.disks, sizeof(all[0]) * (size_t)n);
    if (live)
        n += live_disks(&v, all + n, DOM_MAX_DISKS);
    bool details = opt_bool(call, "details");
    static const char *const brief[] = {"Target", "Source"};
    static const char *const full[] = {"Type", "Device", "Target", "Source"};
    struct vtable *t = details ? vtable_new(4, full) : vtable_new(2, brief);
    for (int i = 0; i < n; i++) {
        const struct disk_def *k = &all[i];
        const char *source = k->source[0] ? k->source : "-";
        const char *row4[] = {k->type, k->device, k->target, source};
        const char *row2[] = {k->target, source};
        vtable_add(t, details ? row4 : row2);
    }
    vtable_print(t, stdout, !virsh.quiet);
    vtable_free(t);
    return true;
}

/* A memory size option, in KiB by default as virsh reads it. */
static bool kib_opt(const struct cmd_call *call, uint64_t *kib)
{
    const char *text = opt_str(call, "size");
    char why[128];
    uint64_t bytes;
    if (!size_parse_scaled(text, 1024, &bytes, why, sizeof(why))) {
        verror("invalid argument: %s", why[0] ? why : text);
        return false;
    }
    *kib = bytes / 1024 + (bytes % 1024 != 0);
    return true;
}

/* Which of a domain's configurations a change affects: libvirt's
 * --live/--config/--current, where --current (the default) means the
 * running domain when it runs, its definition otherwise. */
bool live_affects(const struct cmd_call *call, const struct vdom *v, bool *live, bool *config)
{
    *live = opt_bool(call, "live");
    *config = opt_bool(call, "config");
    if (opt_bool(call, "current") && (*live || *config)) {
        verror("Options --current and --live are mutually exclusive");
        return false;
    }
    if (!*live && !*config)
        *live = v->active, *config = !v->active;
    if (*live && !v->active)
        return live_not_running(NULL);
    return true;
}

/* setmem on a running domain moves its balloon's target (the control
 * protocol's balloon, QMP's command, in bytes): a guest with hvkit's
 * balloon driver gives pages back until it has that much; without one,
 * its manager refuses, and says so. */
static bool setmem(const struct cmd_call *call)
{
    struct vdom v;
    uint64_t kib;
    bool live, config;
    if (!live_lookup(call, &v) || !live_affects(call, &v, &live, &config) || !kib_opt(call, &kib))
        return false;
    /* Each configuration the change affects has its own maximum: the
     * running domain's RAM, the definition's <memory>. */
    if ((live && kib > live_max_memory_kib(&v)) || (config && kib > v.dom.def.memory_kib)) {
        verror("invalid argument: cannot set memory higher than max memory");
        return false;
    }
    if (live) {
        static struct ctlc c;
        char args[64];
        int ret;
        snprintf(args, sizeof(args), "\"value\": %llu", (unsigned long long)kib * 1024);
        if (live_call(&v, &c, CTL_CMD_BALLOON, args, 30000, &ret, NULL) < 0)
            return false;
        ctlc_close(&c);
    }
    v.dom.def.current_kib = kib;
    return !config || store_dom_save(&v.dom.def);
}

static bool setmaxmem(const struct cmd_call *call)
{
    struct dom dom;
    struct vdom v;
    uint64_t kib;
    bool live, config;
    if (!live_lookup(call, &v) || !live_affects(call, &v, &live, &config) || !kib_opt(call, &kib))
        return false;
    /* hv gives a domain its RAM when it builds it, as KVM its maximum;
     * libvirt's words, both lines. */
    if (live) {
        verror("Unable to change MaxMemorySize");
        verror("Requested operation is not valid: cannot resize the maximum memory on an "
               "active domain");
        return false;
    }
    dom = v.dom;
    /* Lowering the maximum lowers the current size with it, as libvirt does. */
    dom.def.memory_kib = kib;
    if (dom.def.current_kib > kib)
        dom.def.current_kib = kib;
    return store_dom_save(&dom.def);
}

/* setvcpus on a running domain: the control protocol's x-vcpu-set lets
 * the guest run `n` of the vCPUs the domain was built with (<vcpu>, its
 * maximum), and the guest brings CPUs up or takes them down itself
 * (include/hvkit/pv.h "vCPU hot-plug"); a guest without that support is
 * refused by hv, in its words. */
static bool setvcpus_live(const struct vdom *v, unsigned long n)
{
    unsigned max = live_vcpus(v, NULL);
    if (max && n > max) {
        verror("invalid argument: requested cpu amount exceeds maximum (%lu > %u)", n, max);
        return false;
    }
    static struct ctlc c;
    char args[64];
    int ret;
    snprintf(args, sizeof(args), "\"vcpus\": %lu", n);
    if (live_call(v, &c, CTL_CMD_VCPU_SET, args, 30000, &ret, NULL) < 0)
        return false;
    ctlc_close(&c);
    /* As libvirt waits a while for a guest to act on a hot-unplug, wait
     * (up to 10 s) until the guest runs that many, so that what virsh
     * shows next is the new state; a slow guest still gets there later. */
    for (int i = 0; i < 100 && live_vcpus_online(v) != n; i++)
        usleep(100000);
    return true;
}

static bool setvcpus(const struct cmd_call *call)
{
    struct dom dom;
    struct vdom v;
    char *end;
    bool live, config;
    const char *text = opt_str(call, "count");
    if (opt_bool(call, "maximum") && !opt_bool(call, "config")) {
        verror("Option --config is required by option --maximum");
        return false;
    }
    if (!live_lookup(call, &v) || !live_affects(call, &v, &live, &config))
        return false;
    dom = v.dom;
    unsigned long n = strtoul(text, &end, 10);
    if (!*text || *end || !isdigit((unsigned char)*text)) {
        verror("Numeric value '%s' for <count> option is malformed or out of range", text);
        return false;
    }
    if (n == 0) {
        verror("Can't set 0 processors for a VM");
        return false;
    }
    if (opt_bool(call, "maximum")) {
        dom.def.vcpus = (unsigned)n;
        if (dom.def.vcpus_current > n)
            dom.def.vcpus_current = (unsigned)n;
    } else if (config && n > dom.def.vcpus) {
        verror("invalid argument: requested cpu amount exceeds maximum (%lu > %u)", n,
               dom.def.vcpus);
        return false;
    } else {
        dom.def.vcpus_current = (unsigned)n;
    }
    if (live && !setvcpus_live(&v, n))
        return false;
    return !config || store_dom_save(&dom.def);
}

/* vcpucount: the table of maximum and current, config and live; or with
 * --maximum or --active (and --live, --config or --current) one number,
 * as virsh prints it. */
static bool vcpucount(const struct cmd_call *call)
{
    struct vdom v;
    bool maximum = opt_bool(call, "maximum"), active = opt_bool(call, "active");
    bool live = opt_bool(call, "live"), config = opt_bool(call, "config");
    bool current = opt_bool(call, "current");
    if (maximum && active) {
        verror("Options --maximum and --active are mutually exclusive");
        return false;
    }
    if (current && (live || config)) {
        verror("Options --current and --%s are mutually exclusive", live ? "live" : "config");
        return false;
    }
    if (live && config) {
        verror("Options --live and --config are mutually exclusive");
        return false;
    }
    if (!live_lookup(call, &v))
        return false;
    /* A running domain's live counts: the vCPUs hv built it with and
     * those online now (its manager's query-cpus-fast). */
    uint32_t online = 0;
    unsigned max_live = live_vcpus(&v, &online);
    unsigned cur_live = (unsigned)__builtin_popcount(online);
    if (!max_live)
        max_live = v.dom.def.vcpus, cur_live = v.dom.def.vcpus_current;
    if (maximum || active || live || config || current) {
        if (live && !v.active)
            return live_not_running(NULL);
        bool use_live = live || (!config && v.active);
        unsigned max = use_live ? max_live : v.dom.def.vcpus;
        unsigned cur = use_live ? cur_live : v.dom.def.vcpus_current;
        printf("%u\n", maximum ? max : cur);
        return true;
    }
    printf("%-12s %-12s %3u\n", "maximum", "config", v.dom.def.vcpus);
    if (v.active)
        printf("%-12s %-12s %3u\n", "maximum", "live", max_live);
    printf("%-12s %-12s %3u\n", "current", "config", v.dom.def.vcpus_current);
    if (v.active)
        printf("%-12s %-12s %3u\n", "current", "live", cur_live);
    return true;
}

/* Run $VISUAL or $EDITOR (vi if neither) on a file, as virsh edit does. */
static bool run_editor(const char *file)
{
    const char *editor = getenv("VISUAL");
    if (!editor || !*editor)
        editor = getenv("EDITOR");
    if (!editor || !*editor)
        editor = "vi";
    pid_t pid = fork();
    if (pid == 0) {
        execlp("sh", "sh", "-c", "exec $0 \"$1\"", editor, file, (char *)NULL);
        _exit(127);
    }
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
        verror("%s: command failed", editor);
        return false;
    }
    return true;
}

/* Is the edited file byte for byte what was written out? */
static bool unchanged(const char *file, const char *before, size_t len)
{
    FILE *f = fopen(file, "r");
    char *after = malloc(len + 2);
    bool same = f && after && fread(after, 1, len + 1, f) == len && !memcmp(after, before, len);
    free(after);
    if (f)
        fclose(f);
    return same;
}

static bool edit(const struct cmd_call *call)
{
    struct dom dom;
    struct domain_def d;
    char file[] = "/tmp/virshXXXXXX.xml";
    char *text = NULL;
    size_t len = 0;
    if (!dom_lookup(call, &dom))
        return false;
    /* Write the XML to a temporary file, let the user edit it, and define
     * the result unless nothing changed. */
    FILE *mem = open_memstream(&text, &len);
    domxml_print(&dom.def, mem);
    fclose(mem);
    int fd = mkstemps(file, 4);
    bool ok = fd >= 0 && write(fd, text, len) == (ssize_t)len;
    if (fd >= 0)
        close(fd);
    ok = ok && run_editor(file);
    if (ok && unchanged(file, text, len)) {
        vinfo("Domain '%s' XML configuration not changed.", dom.def.name);
    } else if (ok && (ok = define_from(file, &d))) {
        vinfo("Domain '%s' XML configuration edited.", d.name);
    }
    if (fd >= 0)
        unlink(file);
    free(text);
    return ok;
}

#define DOM_ARG                                                                                    \
    {                                                                                              \
        "domain", OPT_STRING, true, "domain name, id or uuid"                                      \
    }
#define SET_FLAGS                                                                                  \
    {"config", OPT_BOOL, false, "affect next boot"},                                               \
        {"live", OPT_BOOL, false, "affect running domain"},                                        \
    {                                                                                              \
        "current", OPT_BOOL, false, "affect current domain"                                        \
    }

const struct cmd_def dom_cmds[] = {
    {"autostart",
     autostart,
     "autostart a domain",
     {DOM_ARG, {"disable", OPT_BOOL, false, "disable autostarting"}},
     "Configure a domain to be automatically started at boot."},
    {"define",
     define,
     "define (but don't start) a domain from an XML file",
     {{"file", OPT_STRING, true, "file containing an XML domain description"},
      {"validate", OPT_BOOL, false, "validate the XML against the schema"}},
     "Define a domain."},
    {"domblklist",
     domblklist,
     "list all domain blocks",
     {DOM_ARG,
      {"inactive", OPT_BOOL, false, "get inactive rather than running configuration"},
      {"details", OPT_BOOL, false, "additionally display the type and device value"}},
     "Get the summary of block devices for a domain."},
    {"domid",
     domid,
     "convert a domain name or UUID to domain id",
     {{"domain", OPT_STRING, true, "domain name or uuid"}},
     NULL},
    {"dominfo",
     dominfo,
     "domain information",
     {DOM_ARG},
     "Returns basic information about the domain."},
    {"domname",
     domname,
     "convert a domain id or UUID to domain name",
     {{"domain", OPT_STRING, true, "domain id or uuid"}},
     NULL},
    {"domstate",
     domstate,
     "domain state",
     {DOM_ARG, {"reason", OPT_BOOL, false, "also print reason for the state"}},
     "Returns state about a domain."},
    {"domuuid",
     domuuid,
     "convert a domain name or id to domain UUID",
     {{"domain", OPT_STRING, true, "domain id or name"}},
     NULL},
    {"dumpxml",
     dumpxml,
     "domain information in XML",
     {DOM_ARG, {"inactive", OPT_BOOL, false, "show inactive defined XML"}},
     "Output the domain information as an XML dump to stdout."},
    {"edit",
     edit,
     "edit XML configuration for a domain",
     {DOM_ARG},
     "Edit the XML configuration for a domain."},
    {"list",
     list,
     "list domains",
     {{"inactive", OPT_BOOL, false, "list inactive domains"},
      {"all", OPT_BOOL, false, "list inactive & active domains"},
      {"transient", OPT_BOOL, false, "list transient domains"},
      {"persistent", OPT_BOOL, false, "list persistent domains"},
      {"state-running", OPT_BOOL, false, "list domains in running state"},
      {"state-paused", OPT_BOOL, false, "list domains in paused state"},
      {"state-shutoff", OPT_BOOL, false, "list domains in shutoff state"},
      {"state-other", OPT_BOOL, false, "list domains in other states"},
      {"autostart", OPT_BOOL, false, "list domains with autostart enabled"},
      {"no-autostart", OPT_BOOL, false, "list domains with autostart disabled"},
      {"with-managed-save", OPT_BOOL, false, "list domains with managed save state"},
      {"without-managed-save", OPT_BOOL, false, "list domains without managed save"},
      {"uuid", OPT_BOOL, false, "list uuid's only"},
      {"name", OPT_BOOL, false, "list domain names only"},
      {"table", OPT_BOOL, false, "list table (default)"},
      {"managed-save", OPT_BOOL, false, "mark inactive domains with managed save state"},
      {"title", OPT_BOOL, false, "show domain title"}},
     "Returns list of domains."},
    {"setmaxmem",
     setmaxmem,
     "change maximum memory limit",
     {DOM_ARG,
      {"size", OPT_INT, true,
       "new maximum memory size, as scaled integer (default "
       "KiB)"},
      SET_FLAGS},
     "Change the maximum memory allocation limit in the guest domain."},
    {"setmem",
     setmem,
     "change memory allocation",
     {DOM_ARG,
      {"size", OPT_INT, true, "new memory size, as scaled integer (default KiB)"},
      SET_FLAGS},
     "Change the current memory allocation in the guest domain."},
    {"setvcpus",
     setvcpus,
     "change number of virtual CPUs",
     {DOM_ARG,
      {"count", OPT_INT, true, "number of virtual CPUs"},
      {"maximum", OPT_BOOL, false, "set maximum limit on next boot"},
      SET_FLAGS},
     "Change the number of virtual CPUs in the guest domain."},
    {"undefine",
     undefine,
     "undefine a domain",
     {DOM_ARG,
      {"snapshots-metadata", OPT_BOOL, false,
       "remove all domain snapshot metadata (vm must be "
       "inactive)"}},
     "Undefine an inactive domain, or convert persistent to transient."},
    {"vcpucount",
     vcpucount,
     "domain vcpu counts",
     {DOM_ARG,
      {"maximum", OPT_BOOL, false, "get maximum count of vcpus"},
      {"active", OPT_BOOL, false, "get number of currently active vcpus"},
      {"live", OPT_BOOL, false, "get value from running domain"},
      {"config", OPT_BOOL, false, "get value to be used on next boot"},
      {"current", OPT_BOOL, false, "get value according to current domain state"}},
     "Returns the number of virtual CPUs used by the domain."},
    {NULL, NULL, NULL, {{0}}, NULL},
};
