/*
 * live.c: running domains as virsh sees them (live.h): the shared registry,
 * the state the domain's manager reports, and libvirt's reasons.
 */
#include "live.h"
#include "../common/text.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool live_open(void)
{
    return rundom_open("error");
}

const char *live_state_name(enum vstate s)
{
    static const char *const names[] = {"no state",    "running",  "idle",   "paused",
                                        "in shutdown", "shut off", "crashed"};
    return s <= VSTATE_CRASHED ? names[s] : "unknown";
}

void live_set_reason(const char *name, const char *reason)
{
    char path[PATH_MAX + 600];
    if (!store_path(path, sizeof(path), "domains/reason/%s", name))
        return;
    FILE *f = fopen(path, "w");
    if (f) {
        fprintf(f, "%s\n", reason);
        fclose(f);
    }
}

/* The reason last recorded for `name`, or "" when there is none. */
static void reason_of(const char *name, char *out, size_t len)
{
    char path[PATH_MAX + 600];
    out[0] = 0;
    if (!store_path(path, sizeof(path), "domains/reason/%s", name))
        return;
    FILE *f = fopen(path, "r");
    if (f) {
        if (fgets(out, (int)len, f))
            out[strcspn(out, "\n")] = 0;
        fclose(f);
    }
}

/* The reasons that belong to each state: a recorded reason of another
 * state is stale (the guest powered off by itself after "booted", or xl
 * paused a domain virsh started). */
static bool reason_fits(enum vstate s, const char *reason)
{
    static const char *const running[] = {"booted",   "unpaused", "from snapshot",
                                          "restored", "migrated", NULL};
    static const char *const paused[] = {"user", "from snapshot", "saving", "dumping", NULL};
    static const char *const shutoff[] = {"shutdown",      "destroyed", "saved",
                                          "from snapshot", "crashed",   NULL};
    const char *const *set = s == VSTATE_RUNNING   ? running
                             : s == VSTATE_PAUSED  ? paused
                             : s == VSTATE_SHUTOFF ? shutoff
                                                   : NULL;
    return set && str_list_index(set, reason) >= 0;
}

/* Ask the domain's manager what state its domain is in.  A domain whose
 * hv does not answer (docs/control-protocol.md "When hv does not answer")
 * is in the state hv last reported, and not waited for: the manager
 * knows it does not answer, or it gets 5 s.  query-domains' "status" is
 * query-status's RunState name, and ctlc_domains() already falls back to
 * hv's last description of its domains. */
static enum vstate query_state(const struct rundom *r)
{
    static struct ctlc c;
    char why[256], status[32] = "";
    bool stale;
    if (rundom_connect(r, &c, 10000, why, sizeof(why)) < 0)
        return VSTATE_NOSTATE;
    int doms = ctlc_domains(&c, 5000, &stale, why, sizeof(why));
    int d = doms >= 0 ? json_first(&c.doc, doms) : -1;
    if (d < 0 || json_str_copy(&c.doc, json_get(&c.doc, d, "status"), status, sizeof(status)) < 0)
        status[0] = 0;
    ctlc_close(&c);
    /* QEMU's RunState names (docs/control-protocol.md, query-status). */
    if (!strcmp(status, "running"))
        return VSTATE_RUNNING;
    if (!strcmp(status, "paused") || !strcmp(status, "prelaunch"))
        return VSTATE_PAUSED;
    if (!strcmp(status, "shutdown"))
        return VSTATE_SHUTOFF;
    if (!strcmp(status, "guest-panicked") || !strcmp(status, "internal-error"))
        return VSTATE_CRASHED;
    return VSTATE_NOSTATE;
}

/* A definition for a domain that has none virsh knows (one `xl create`
 * started): what its manager says of it. */
static void def_from_manager(const struct rundom *r, struct domain_def *d)
{
    static struct ctlc c;
    char why[256];
    int ret;
    memset(d, 0, sizeof(*d));
    snprintf(d->type, sizeof(d->type), "hvkit");
    snprintf(d->name, sizeof(d->name), "%s", r->name);
    snprintf(d->uuid, sizeof(d->uuid), "%.36s", r->uuid);
    snprintf(d->os_type, sizeof(d->os_type), "hvm");
    snprintf(d->arch, sizeof(d->arch), "x86_64");
    d->vcpus = d->vcpus_current = 1;
    /* libvirt's defaults for the actions. */
    snprintf(d->on_poweroff, sizeof(d->on_poweroff), "destroy");
    snprintf(d->on_reboot, sizeof(d->on_reboot), "restart");
    snprintf(d->on_crash, sizeof(d->on_crash), "destroy");
    if (rundom_connect(r, &c, 10000, why, sizeof(why)) < 0)
        return;
    /* As hv last described it when it does not answer (within 5 s). */
    bool stale;
    if ((ret = ctlc_domains(&c, 5000, &stale, why, sizeof(why))) >= 0) {
        int dom = json_first(&c.doc, ret);
        uint64_t mem = 0, vcpus = 1;
        json_u64(&c.doc, json_get(&c.doc, dom, "memory"), &mem);
        json_u64(&c.doc, json_get(&c.doc, dom, "vcpus"), &vcpus);
        d->memory_kib = d->current_kib = mem / 1024;
        d->vcpus = d->vcpus_current = (unsigned)vcpus;
        if (!d->uuid[0])
            json_str_copy(&c.doc, json_get(&c.doc, dom, "uuid"), d->uuid, sizeof(d->uuid));
    }
    ctlc_close(&c);
}

/* Fill in what a running domain's record tells. */
static void fill_active(struct vdom *v, const struct rundom *r)
{
    char path[PATH_MAX + 600], why[1024];
    v->active = true;
    v->run = *r;
    if (!v->persistent) {
        if (!store_path(path, sizeof(path), "domains/transient/%s.xml", r->name) ||
            access(path, R_OK) || !domxml_parse_file(path, &v->dom.def, why, sizeof(why)))
            def_from_manager(r, &v->dom.def);
    }
    v->state = query_state(r);
    if (v->state == VSTATE_NOSTATE)
        v->state = VSTATE_RUNNING; /* a machine that does not answer yet still runs */
}

/* Fill in the state and reason of a found domain. */
static void fill_reason(struct vdom *v)
{
    reason_of(v->dom.def.name, v->reason, sizeof(v->reason));
    if (!v->active) {
        v->state = VSTATE_SHUTOFF;
        /* It ran when virsh last saw it: its guest powered off since. */
        if (v->reason[0] && !reason_fits(VSTATE_SHUTOFF, v->reason))
            snprintf(v->reason, sizeof(v->reason), "shutdown");
    }
    if (!reason_fits(v->state, v->reason))
        snprintf(v->reason, sizeof(v->reason), v->state == VSTATE_PAUSED ? "user" : "unknown");
}

bool live_find(const char *key, struct vdom *out)
{
    static struct rundom all[RUNDOM_MAX];
    int n = rundom_list(all, RUNDOM_MAX);
    char *end;
    long id = strtol(key, &end, 10);
    bool numeric = *key && !*end;
    memset(out, 0, sizeof(*out));
    /* virsh tries an id first, then a UUID, then a name. */
    for (int i = 0; numeric && i < n; i++) {
        if (all[i].domid == id) {
            out->persistent = store_dom_find(all[i].name, &out->dom);
            fill_active(out, &all[i]);
            fill_reason(out);
            return true;
        }
    }
    if (store_dom_find(key, &out->dom)) {
        out->persistent = true;
        for (int i = 0; i < n; i++)
            if (!strcmp(all[i].name, out->dom.def.name))
                fill_active(out, &all[i]);
        fill_reason(out);
        return true;
    }
    for (int i = 0; i < n; i++) {
        if (!strcmp(all[i].name, key) || !strcmp(all[i].uuid, key)) {
            fill_active(out, &all[i]);
            fill_reason(out);
            return true;
        }
    }
    return false;
}

bool live_lookup(const struct cmd_call *call, struct vdom *out)
{
    const char *key = opt_str(call, "domain");
    if (live_find(key, out))
        return true;
    verror("failed to get domain '%s'", key);
    return false;
}

struct vdom *live_list(int *count)
{
    static struct rundom all[RUNDOM_MAX];
    int n = rundom_list(all, RUNDOM_MAX), ndef;
    struct dom *defs = store_dom_list(&ndef);
    struct vdom *out = calloc((size_t)(n + ndef + 1), sizeof(*out));
    int k = 0;
    for (int i = 0; out && i < n; i++) {
        out[k].persistent = store_dom_find(all[i].name, &out[k].dom);
        fill_active(&out[k], &all[i]);
        fill_reason(&out[k]);
        k++;
    }
    for (int i = 0; out && i < ndef; i++) {
        bool running = false;
        for (int j = 0; j < n; j++)
            running |= !strcmp(all[j].name, defs[i].def.name);
        if (running)
            continue;
        out[k].dom = defs[i];
        out[k].persistent = true;
        fill_reason(&out[k]);
        k++;
    }
    free(defs);
    *count = k;
    return out;
}

bool live_not_running(const char *failed)
{
    if (failed)
        verror("%s", failed);
    verror("Requested operation is not valid: domain is not running");
    return false;
}

bool live_connect(const struct vdom *v, struct ctlc *c)
{
    char why[256];
    if (rundom_connect(&v->run, c, 10000, why, sizeof(why)) == 0)
        return true;
    verror("internal error: domain '%s': %s", v->dom.def.name, why);
    return false;
}

int live_call(const struct vdom *v, struct ctlc *c, const char *execute, const char *args, int ms,
              int *ret, const char *failed)
{
    char why[512], json[600];
    if (!v->active) {
        live_not_running(failed);
        return -1;
    }
    if (!live_connect(v, c))
        return -1;
    /* quit acts on the whole machine and takes no domain; it goes to the
     * manager whether hv answers or not (the manager ends a machine whose
     * hv does not answer it); anything else is not sent to an hv that does
     * not answer, and "no reply" is said as such. */
    bool quit = !strcmp(execute, CTL_CMD_QUIT);
    if (quit)
        snprintf(json, sizeof(json), "{}");
    else
        snprintf(json, sizeof(json), "{\"domain\": 0%s%s}", args && *args ? ", " : "",
                 args ? args : "");
    if ((quit ? ctlc_call(c, execute, json, ms, ret, why, sizeof(why))
              : ctlc_call_hv(c, execute, json, ms, ret, why, sizeof(why))) == 0)
        return 0;
    ctlc_close(c);
    if (failed)
        verror("%s", failed);
    verror("internal error: %s", why);
    return -1;
}

/* query-domains' "memory" on an open connection: the RAM hv built the
 * domain with, in bytes (0 when it does not say, or does not answer). */
static uint64_t built_ram(struct ctlc *c)
{
    char why[256];
    int ret;
    uint64_t ram = 0;
    /* Not waited for when hv does not answer (ctlc_call_hv). */
    if (ctlc_call_hv(c, CTL_CMD_QUERY_DOMAINS, NULL, 30000, &ret, why, sizeof(why)) == 0)
        json_u64(&c->doc, json_get(&c->doc, json_first(&c->doc, ret), "memory"), &ram);
    return ram;
}

uint64_t live_memory_kib(const struct vdom *v)
{
    static struct ctlc c;
    char why[256];
    int ret;
    uint64_t mem = 0;
    if (!v->active || rundom_connect(&v->run, &c, 10000, why, sizeof(why)) < 0)
        return v->dom.def.current_kib;
    /* The balloon's "actual" when the guest runs its driver, else the
     * whole RAM hv gave the domain; an hv that does not answer is not
     * asked twice (the definition's size then, as libvirt shows the last
     * it knew of a domain whose monitor is busy). */
    int rc =
        ctlc_call_hv(&c, CTL_CMD_QUERY_BALLOON, "{\"domain\": 0}", 30000, &ret, why, sizeof(why));
    if (rc != -2 && (rc != 0 || json_u64(&c.doc, json_get(&c.doc, ret, "actual"), &mem) < 0))
        mem = built_ram(&c);
    ctlc_close(&c);
    return mem ? mem / 1024 : v->dom.def.current_kib;
}

uint64_t live_max_memory_kib(const struct vdom *v)
{
    static struct ctlc c;
    char why[256];
    if (!v->active || rundom_connect(&v->run, &c, 10000, why, sizeof(why)) < 0)
        return v->dom.def.memory_kib;
    /* The RAM hv built the domain with: the live maximum, which
     * `setmaxmem --config` does not move. */
    uint64_t ram = built_ram(&c);
    ctlc_close(&c);
    return ram ? ram / 1024 : v->dom.def.memory_kib;
}

int live_each_process(const struct vdom *v, void (*fn)(pid_t pid, const char *stat, void *arg),
                      void *arg)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    int count = 0;
    while (d && (e = readdir(d))) {
        char path[300], buf[1024];
        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = 0;
        /* proc(5): after "(comm)" come state, ppid, pgrp, ...; comm may hold
         * blanks, so the fields are counted from the last ')'. */
        char *p = strrchr(buf, ')');
        long pgrp;
        if (p && sscanf(p + 2, "%*c %*d %ld", &pgrp) == 1 && pgrp == v->run.pid) {
            fn((pid_t)atol(e->d_name), p + 2, arg);
            count++;
        }
    }
    if (d)
        closedir(d);
    return count;
}

static void add_times(pid_t pid, const char *stat, void *arg)
{
    struct live_times *t = arg;
    unsigned long long ut, st;
    long rss;
    (void)pid;
    /* utime and stime are the 14th and 15th fields, rss the 24th. */
    if (sscanf(stat,
               "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d "
               "%*u %*u %ld",
               &ut, &st, &rss) == 3) {
        t->user += ut;
        t->sys += st;
        t->rss_pages += (unsigned long long)(rss > 0 ? rss : 0);
    }
}

void live_times(const struct vdom *v, struct live_times *t)
{
    *t = (struct live_times){0};
    live_each_process(v, add_times, t);
}

uint64_t live_cpu_ns(const struct vdom *v)
{
    struct live_times t;
    live_times(v, &t);
    return (t.user + t.sys) * (1000000000ULL / (uint64_t)sysconf(_SC_CLK_TCK));
}

bool has_managed_save(const char *name)
{
    char path[PATH_MAX + 600];
    return store_path(path, sizeof(path), "domains/save/%s.save", name) && !access(path, F_OK);
}

unsigned live_vcpu_info(const struct vdom *v, uint32_t *online, uint64_t *ns, unsigned max)
{
    static struct ctlc c;
    char why[256];
    int ret;
    unsigned n = 0;
    uint32_t mask = 0;
    if (v->active && rundom_connect(&v->run, &c, 10000, why, sizeof(why)) == 0) {
        /* 0 (not known) when hv does not answer, without waiting on one
         * its manager knows does not. */
        if (ctlc_call_hv(&c, CTL_CMD_QUERY_CPUS_FAST, "{\"domain\": 0}", 30000, &ret, why,
                         sizeof(why)) == 0)
            for (int i = json_first(&c.doc, ret); i >= 0; i = json_after(&c.doc, ret, i), n++) {
                /* An hv before vCPU hot-plug: every vCPU counts. */
                bool up = true;
                json_bool(&c.doc, json_get(&c.doc, i, "online"), &up);
                if (up && n < 32)
                    mask |= 1u << n;
                /* Its own time in guest mode. */
                if (ns && n < max && json_u64(&c.doc, json_get(&c.doc, i, "cpu-time-ns"), &ns[n]))
                    ns[n] = 0;
            }
        ctlc_close(&c);
    }
    if (online)
        *online = mask;
    return n;
}

unsigned live_vcpus(const struct vdom *v, uint32_t *online)
{
    return live_vcpu_info(v, online, NULL, 0);
}

unsigned live_vcpus_online(const struct vdom *v)
{
    uint32_t mask;
    live_vcpus(v, &mask);
    return (unsigned)__builtin_popcount(mask);
}
