/*
 * domcreate.c - making a domain while hv runs (domcreate.h).
 *
 * The boot makes its domains in main.c from the boot modules; this makes
 * one later, between two exits, from an image the control channel read
 * into the heap (ctl_domain.c).  The building is build.c's, the same as at
 * boot and for a reset, so a domain made here is checked, loaded and
 * started exactly as one of the boot.  What differs is only where things
 * live: the image and the command line are heap copies the domain owns
 * (given back by domain_destroy() through domain->release), and a domain
 * number beyond those of the boot gets its struct domain and struct vcpu
 * from the static arrays below (teardown gives back the heap's memory, not
 * these: the report and the control channel read them after the end).
 */
#include "hvkit/ctl.h"
#include "klib.h"

#include "alloc.h"
#include "domcreate.h"
#include "hv.h"
#include "log.h"
#include "pv.h"

/* The structs of domains whose number the boot did not use, by number;
 * the entries of the boot's numbers stay unused (main.c has those).  The
 * vCPUs of a domain made here are always these, by number, also when it
 * takes the struct domain of one of the boot (whose vCPUs then stay as
 * they are, unused). */
static struct domain pool_dom[HV_DOMAINS_MAX];
static struct vcpu pool_vcpu[HV_DOMAINS_MAX][DOMAIN_MAX_VCPUS];
/* Each number's name, as the front-end gave it. */
static char names[HV_DOMAINS_MAX][CTL_NAME_MAX + 1];
/* The serial of the last domain made (domain.h: those of the boot are 0). */
static unsigned serials;
/* Before a failed attempt on a number in use: the domain as it was, put
 * back so that a refused request changes nothing.  Static: a struct
 * domain is too big for hv's stack. */
static struct domain saved_dom;
static struct vcpu saved_vcpus[DOMAIN_MAX_VCPUS];
/* The last domain_create(): whether it replaced a domain, and that
 * domain's name, for domain_create_undo(). */
static bool last_reused;
static char saved_name[CTL_NAME_MAX + 1];

/* The domain with number `id`, or NULL. */
static struct domain *by_id(const struct host *h, unsigned id)
{
    for (struct domain *d = h->domains; d; d = d->next)
        if (d->id == id)
            return d;
    return NULL;
}

/* A domain whose number a new one may take: it has ended and given its
 * memory back (a preserved one keeps its memory for the host to look at,
 * and is still there). */
static bool replaceable(const struct domain *d)
{
    return domain_stopped(d) && d->torn_down && !d->preserved;
}

int domain_free_id(const struct host *h)
{
    /* The lowest number that is free, as Xen's toolstack would pick the
     * next domid were it not counting up. */
    for (unsigned id = 0; id < HV_DOMAINS_MAX; id++) {
        const struct domain *d = by_id(h, id);
        if (!d || replaceable(d))
            return (int)id;
    }
    return -1;
}

struct domain *domain_by_name(const struct host *h, const char *name)
{
    for (struct domain *d = h->domains; d; d = d->next) {
        char buf[16];
        /* A destroyed domain's name is free again, as in Xen. */
        if (d->state != DOMAIN_DYING && !strcmp(domain_name(d, buf, sizeof(buf)), name))
            return d;
    }
    return NULL;
}

/* A name a front-end can give back on a command line and in xl list's
 * column: letters, digits and "-_.", not starting with a digit (which
 * would read as a domain number). */
bool domain_name_ok(const char *s)
{
    if (!s[0] || (s[0] >= '0' && s[0] <= '9'))
        return false;
    for (; *s; s++) {
        char c = *s;
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && c != '-' && c != '_' && c != '.')
            return false;
    }
    return true;
}

/* domain->release for a domain made here: its image and command line. */
static void release(struct domain *d)
{
    page_free((void *)d->image);
    kfree((void *)d->cmdline);
    d->image = NULL;
    d->cmdline = NULL;
}

/* Take domain `d` (a struct of the pool appended to the list, or a
 * replaceable domain's) out again after a failed build: its memory back,
 * the list or the old domain as they were. */
static void undo(struct host *h, struct domain *d, bool reused)
{
    /* Stopped, so that teardown gives back what the build got. */
    d->state = DOMAIN_DYING;
    domain_teardown(d);
    pv_teardown(d);
    release(d);
    if (reused) {
        *d = saved_dom;
        memcpy(pool_vcpu[d->id], saved_vcpus, sizeof(saved_vcpus));
        return;
    }
    /* The last in the list: host_add_domain() appended it. */
    struct domain **p = &h->domains;
    while (*p != d)
        p = &(*p)->next;
    *p = NULL;
    h->nr_domains--;
}

/* The struct for number `id`: the domain that had it (replaced, and kept
 * with the number's vCPU structs until the new one is built), or one of
 * the pool's, which domain_create() appends to the host's list.  *reused
 * says which. */
static struct domain *take_slot(struct host *h, unsigned id, bool *reused)
{
    struct domain *d = by_id(h, id);
    *reused = d != NULL;
    if (!d)
        return &pool_dom[id];
    saved_dom = *d;
    memcpy(saved_vcpus, pool_vcpu[id], sizeof(saved_vcpus));
    return d;
}

/* The domain's vCPU structs, from zero: vCPU 0 is returned, the
 * application processors go where build.c looks for them (domain.h
 * ap_store; core/smp.c starts them at the guest's STARTUP IPI). */
static struct vcpu *give_vcpus(struct domain *d, unsigned n)
{
    struct vcpu *v = pool_vcpu[d->id];
    memset(v, 0, sizeof(pool_vcpu[d->id]));
    d->smp = n;
    for (unsigned i = 1; i < n; i++)
        d->ap_store[i] = &v[i];
    return v;
}

/* The domain's own things: the spec's, and the image and command line it
 * owns from now on.  0, or -1 when the command line cannot be copied. */
static int fill(struct domain *d, const struct domain_spec *s)
{
    size_t n = strlen(s->cmdline) + 1;
    char *cmd = kzalloc(n);
    if (!cmd)
        return -1;
    memcpy(cmd, s->cmdline, n);
    d->image = s->image;
    d->image_len = s->image_len;
    d->cmdline = cmd;
    d->release = release;
    d->ram_bytes = s->ram_bytes;
    d->serial = ++serials;
    d->on_poweroff = s->on_poweroff;
    d->on_reboot = s->on_reboot;
    d->on_crash = s->on_crash;
    return 0;
}

struct domain *domain_create(struct host *h, const struct domain_spec *s, char *err, size_t err_len)
{
    int id = domain_free_id(h);
    if (id < 0) {
        ksnprintf(err, err_len,
                  "hv holds at most %u domains and has %u that have not ended and given their "
                  "memory back: destroy one first",
                  HV_DOMAINS_MAX, HV_DOMAINS_MAX);
        page_free(s->image);
        return NULL;
    }
    bool reused;
    struct domain *d = take_slot(h, (unsigned)id, &reused);
    /* The first domain's console and port-bus callbacks serve every domain
     * (main.c's; the context they get is the domain). */
    const struct domain *first = h->domains;
    struct domain *next = reused ? d->next : NULL;
    domain_init(d, h, (unsigned)id, first->io.note, first->com1.out);
    d->next = next;
    if (!reused)
        host_add_domain(h, d);
    unsigned n = s->vcpus ? s->vcpus : 1;
    struct vcpu *v = give_vcpus(d, s->maxvcpus > n ? s->maxvcpus : n);
    d->vcpu_avail = domain_vcpu_mask(n);
    if (fill(d, s) < 0) {
        ksnprintf(err, err_len, "no host memory for the command line");
        d->image = s->image;
        undo(h, d, reused);
        return NULL;
    }
    /* build.c, as at boot: the image is checked (the Multiboot loader
     * refuses a bad one before it writes anything) and loaded; then the
     * interrupt controllers and timers (the host's clock was measured at
     * boot). */
    if (domain_build(h, d, v, err, err_len) < 0 || domain_build_devices(d, err, err_len) < 0) {
        undo(h, d, reused);
        return NULL;
    }
    /* It runs from the run loop's next round (a domain of the boot starts
     * as CREATED and host_run() starts it; this one comes after that). */
    d->state = s->paused ? DOMAIN_PAUSED : DOMAIN_RUNNING;
    /* The domain it replaced is gone for good now: what it kept for a
     * reset (a run-time domain's image) goes back too. */
    if (reused && saved_dom.release)
        saved_dom.release(&saved_dom);
    /* Its name only now: the domain it replaced may have had its name in
     * the same place, which a refusal must leave as it was. */
    last_reused = reused;
    memcpy(saved_name, names[id], sizeof(saved_name));
    if (s->name) {
        ksnprintf(names[id], sizeof(names[id]), "%s", s->name);
        d->name = names[id];
    }
    char buf[16];
    hv_log("domain %u '%s' created: %llu MiB, %u vCPU%s%s", d->id, domain_name(d, buf, sizeof(buf)),
           (unsigned long long)(d->mem.size >> 20), d->nr_vcpus, d->nr_vcpus == 1 ? "" : "s",
           s->paused ? ", paused" : "");
    return d;
}

void domain_create_undo(struct host *h, struct domain *d)
{
    /* The name first: undo() may put back a domain that shared its place. */
    memcpy(names[d->id], saved_name, sizeof(saved_name));
    hv_log("domain %u: taken back before it ran", d->id);
    undo(h, d, last_reused);
}
