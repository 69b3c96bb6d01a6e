/*
 * query.c: what xl shows about a running domain, asked of its manager
 * (xl.h: struct xlinfo), and the host's own facts for Domain-0.
 */
#include "xl.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The balloon's commands (docs/control-protocol.md), named here until
 * include/hvkit/ctl.h has them. */
#ifndef CTL_CMD_QUERY_BALLOON
#define CTL_CMD_QUERY_BALLOON "query-balloon"
#endif

/* query-balloon's "actual": the bytes the guest has now, when its balloon
 * driver runs; false otherwise (the whole RAM is the guest's then). */
static bool balloon_actual(struct ctlc *c, uint64_t *bytes)
{
    char why[256];
    int ret;
    if (ctlc_call(c, CTL_CMD_QUERY_BALLOON, "{\"domain\": 0}", 10000, &ret, why, sizeof(why)))
        return false;
    return json_u64(&c->doc, json_get(&c->doc, ret, "actual"), bytes) == 0;
}

/* query-domains' entry of domain 0 in array `arr` of doc into i. */
static void take_domain(const struct json_doc *doc, int arr, struct xlinfo *i)
{
    int d = json_first(doc, arr);
    json_str_copy(doc, json_get(doc, d, "state"), i->state, sizeof(i->state));
    json_u64(doc, json_get(doc, d, "memory"), &i->ram);
    json_u64(doc, json_get(doc, d, "vcpus"), &i->vcpus);
    json_u64(doc, json_get(doc, d, "cpu-time-ns"), &i->cpu_ns);
    /* The balloon's target as asked (the whole RAM when nothing was). */
    i->target = i->ram;
    json_u64(doc, json_get(doc, d, "balloon-target"), &i->target);
    i->available = i->online = i->vcpus;
    json_u64(doc, json_get(doc, d, "vcpus-available"), &i->available);
    json_u64(doc, json_get(doc, d, "vcpus-online"), &i->online);
    i->memory = i->ram;
}

bool xl_query(const struct rundom *r, struct xlinfo *i)
{
    static struct ctlc c;
    *i = (struct xlinfo){.state = "dying"};
    if (rundom_connect(r, &c, 5000, i->why, sizeof(i->why)) < 0)
        return false;
    /* A listing must not wait for long: an hv that does not answer within
     * 5 s (or that its manager knows does not answer) is shown as hv last
     * described it; never described, no state letter holds ("------"). */
    bool stale;
    int doms = ctlc_domains(&c, 5000, &stale, i->why, sizeof(i->why));
    bool have = doms >= 0 && json_first(&c.doc, doms) >= 0;
    if (stale)
        i->state[0] = 0;
    if (have)
        take_domain(&c.doc, doms, i);
    i->stale = stale && have;
    i->ok = have && !stale;
    if (i->ok && balloon_actual(&c, &i->memory))
        i->ballooned = true;
    ctlc_close(&c);
    return i->ok;
}

bool xl_query_or_say(const struct rundom *r, struct xlinfo *i)
{
    if (xl_query(r, i))
        return true;
    fprintf(stderr, "libxl: error: domain %d: %s\n", r->domid, i->why);
    return false;
}

/* Is query-block's entry e a disk attached at run time (hvkit's
 * "hotplugged")? */
static bool hotplugged(const struct json_doc *d, int e)
{
    int h = json_get(d, e, "hotplugged");
    return h >= 0 && d->tok[h].type == JSON_TRUE;
}

/* query-block's entries: those of the machine's start (hot false), or
 * those attached at run time (hot true, at most max into out); how many. */
static int block_entries(const struct rundom *r, bool hot, struct xlhotdisk *out, int max)
{
    static struct ctlc c;
    char why[256];
    int ret, n = 0;
    if (rundom_connect(r, &c, 5000, why, sizeof(why)) < 0)
        return 0;
    int rc =
        ctlc_call_hv(&c, CTL_CMD_QUERY_BLOCK, "{\"domain\": 0}", 10000, &ret, why, sizeof(why));
    /* No disks made up for an hv that does not answer: libxl's error. */
    if (rc == -2) {
        fprintf(stderr, "libxl: error: domain %d: %s\n", r->domid, why);
        n = -1;
    }
    if (rc == 0)
        for (int e = json_first(&c.doc, ret); e >= 0; e = json_after(&c.doc, ret, e)) {
            if (hotplugged(&c.doc, e) != hot)
                continue;
            if (hot && n < max) {
                struct xlhotdisk *k = &out[n];
                *k = (struct xlhotdisk){0};
                json_str_copy(&c.doc, json_get(&c.doc, e, "device"), k->vdev, sizeof(k->vdev));
                json_str_copy(&c.doc, json_get(&c.doc, e, "file"), k->file, sizeof(k->file));
                json_str_copy(&c.doc, json_get(&c.doc, e, "format"), k->format, sizeof(k->format));
                json_bool(&c.doc, json_get(&c.doc, e, "ro"), &k->readonly);
            }
            n += !hot || n < max;
        }
    ctlc_close(&c);
    return n;
}

int xl_disk_count(const struct rundom *r)
{
    return block_entries(r, false, NULL, 0);
}

int xl_hot_disk_info(const struct rundom *r, struct xlhotdisk *out, int max)
{
    return block_entries(r, true, out, max);
}

int xl_hot_disks(const struct rundom *r, char names[][32], int max)
{
    static struct xlhotdisk k[16];
    int n = block_entries(r, true, k, max < 16 ? max : 16);
    for (int i = 0; i < n; i++)
        snprintf(names[i], 32, "%.31s", k[i].vdev);
    return n;
}

/* One member of a query-blockstats entry's "stats" (0 when missing). */
static uint64_t stat_u64(const struct json_doc *d, int entry, const char *key)
{
    uint64_t v = 0;
    json_u64(d, json_get(d, json_get(d, entry, "stats"), key), &v);
    return v;
}

bool xl_vbd_stats(const struct rundom *r, struct xlvbd *v)
{
    static struct ctlc c;
    char why[256];
    int ret;
    *v = (struct xlvbd){0};
    if (rundom_connect(r, &c, 5000, why, sizeof(why)) < 0)
        return false;
    if (!ctlc_call(&c, CTL_CMD_QUERY_BLOCKSTATS, "{\"domain\": 0}", 10000, &ret, why,
                   sizeof(why))) {
        v->ok = true;
        for (int e = json_first(&c.doc, ret); e >= 0; e = json_after(&c.doc, ret, e)) {
            v->disks++;
            v->rd += stat_u64(&c.doc, e, "rd_operations");
            v->wr += stat_u64(&c.doc, e, "wr_operations");
            v->rsect += stat_u64(&c.doc, e, "rd_bytes") / 512;
            v->wsect += stat_u64(&c.doc, e, "wr_bytes") / 512;
        }
    }
    ctlc_close(&c);
    return v->ok;
}

double xl_cpu_secs(const struct xlinfo *i)
{
    return (double)i->cpu_ns / 1e9;
}

/* One "Key: N kB" line of /proc/meminfo, in KiB (0 when missing). */
static unsigned long meminfo(const char *key)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[256];
    unsigned long kb = 0;
    size_t n = strlen(key);
    while (f && fgets(line, sizeof(line), f))
        if (!strncmp(line, key, n) && line[n] == ':')
            sscanf(line + n + 1, "%lu", &kb);
    if (f)
        fclose(f);
    return kb;
}

void xl_host(struct xlhost *h)
{
    h->total_kb = meminfo("MemTotal");
    h->free_kb = meminfo("MemAvailable");
    h->cpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
    unsigned long user = 0, nice = 0, sys = 0;
    FILE *f = fopen("/proc/stat", "r");
    if (f) {
        if (fscanf(f, "cpu %lu %lu %lu", &user, &nice, &sys) != 3)
            user = nice = sys = 0;
        fclose(f);
    }
    h->cpu_secs = (double)(user + nice + sys) / (double)sysconf(_SC_CLK_TCK);
}
