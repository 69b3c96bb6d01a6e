/*
 * ctl_domain.c - the control protocol's commands that make and destroy
 * domains while hv runs, and query-host (docs/control-protocol.md
 * "Loading a new domain at run time").
 *
 * The request travels on the control channel, the kernel's bytes on the
 * block path: COM2 is a serial line with bounded lines, the wrong road for
 * megabytes, while the outer machine's disks (hv/disk/) already carry the
 * host's files to hv.  So domain-create names where the image lies -- an
 * outer disk, an offset and a length -- and hv reads it from there.  The
 * manager (mgmt/hvmgr/stage.c) turns a front-end's host path into that: it
 * writes the file into its staging disk, which bin/hvrun --control
 * attaches, and names the staging disk in the request it passes on.
 *
 * Every check a front-end can fail is made before anything is built (the
 * arguments, a free domain number, the name, the memory), then the image
 * is read into the heap and the domain built as at boot (domcreate.c),
 * where the Multiboot loader judges the image; whatever fails leaves hv
 * as it was, its memory back in the heap.
 *
 * Their rows are a table of their own, ctl_domain_commands (ctl.h), which
 * the dispatcher looks at after the others: hv's outer disks and domain
 * builder are not part of the dispatcher's hosted builds.
 */
#include "klib.h"

#include "alloc.h"
#include "ctl.h"
#include "disk/outer.h"
#include "domcreate.h"
#include "hv.h"

/* The longest kernel path and guest arguments a request may give; the
 * guest's command line is both with a space between. */
#define PATH_LEN 1024
#define ARGS_LEN 1024

/* ---- Arguments ---------------------------------------------------------------- */

/* An optional string argument into buf ("" when absent): 0, or an
 * InvalidParameter error. */
static int opt_str(struct ctl_req *r, const char *name, char *buf, size_t size)
{
    int t = r->args >= 0 ? json_get(r->doc, r->args, name) : -1;
    buf[0] = '\0';
    if (t < 0)
        return 0;
    if (r->doc->tok[t].type != JSON_STRING || json_str_copy(r->doc, t, buf, size) < 0)
        return ctl_error(r, CTL_ERR_INVALID_PARAMETER,
                         "argument '%s' must be a string of at most %zu bytes", name, size - 1);
    return 0;
}

/* One of on_poweroff, on_reboot, on_crash: hv's option of the same name
 * when absent (cmdline.h), else destroy, restart or preserve. */
static int opt_action(struct ctl_req *r, const char *name, enum domain_action def,
                      enum domain_action *a)
{
    char word[16];
    if (opt_str(r, name, word, sizeof(word)) < 0)
        return -1;
    *a = def;
    if (word[0] && domain_action_parse(word, strlen(word), a) < 0)
        return ctl_error(r, CTL_ERR_INVALID_PARAMETER,
                         "argument '%s' must be destroy, restart or preserve", name);
    return 0;
}

/* The RAM: "memory" MiB (xl.cfg's unit), hv's mem= when absent, rounded
 * up to 2 MiB as mem= is (build.c maps it with 2 MiB pages), within what
 * hv accepts; and the heap must have a block that big.  0 or an error. */
static int arg_memory(struct ctl_req *r, uint64_t *bytes)
{
    uint64_t mib;
    if (ctl_arg_u64(r, CTL_ARG_MEMORY, false, r->host->opt.mem >> 20, &mib) < 0)
        return -1;
    if (mib < (HV_MEM_MIN >> 20) || mib > (HV_MEM_MAX >> 20))
        return ctl_error(
            r, CTL_ERR_INVALID_PARAMETER, "argument 'memory' must be %llu to %llu (MiB)",
            (unsigned long long)(HV_MEM_MIN >> 20), (unsigned long long)(HV_MEM_MAX >> 20));
    *bytes = ((mib << 20) + (2u << 20) - 1) & ~(uint64_t)((2u << 20) - 1);
    /* Guest RAM is one 2 MiB-aligned block (build.c), so the largest free
     * block is what counts, not the free total. */
    size_t largest = alloc_largest_free();
    if (*bytes > largest)
        return ctl_error(r, CTL_ERR_GENERIC,
                         "not enough free host memory for %llu MiB of guest RAM: hv's largest free "
                         "block is %zu MiB (%zu MiB free in all); the outer machine's RAM "
                         "(bin/hvrun -m and --control) decides",
                         (unsigned long long)(*bytes >> 20), largest >> 20,
                         alloc_free_bytes() >> 20);
    return 0;
}

/* "vcpus": 1..HV_SMP_MAX, hv's smp= when absent (as memory defaults to
 * its mem=). */
static int arg_vcpus(struct ctl_req *r, unsigned *n)
{
    uint64_t v;
    unsigned def = r->host->opt.smp ? r->host->opt.smp : 1;
    if (ctl_arg_u64(r, CTL_ARG_VCPUS, false, def, &v) < 0)
        return -1;
    if (v < 1 || v > HV_SMP_MAX)
        return ctl_error(r, CTL_ERR_INVALID_PARAMETER, "argument 'vcpus' must be 1 to %u",
                         HV_SMP_MAX);
    *n = (unsigned)v;
    return 0;
}

/* "maxvcpus": vcpus..HV_SMP_MAX, the vCPUs the domain is built with, of
 * which "vcpus" are available at its start (vCPU hot-plug, x-vcpu-set);
 * 0 when absent: as many as "vcpus". */
static int arg_maxvcpus(struct ctl_req *r, unsigned vcpus, unsigned *n)
{
    uint64_t v;
    if (ctl_arg_u64(r, CTL_ARG_MAXVCPUS, false, 0, &v) < 0)
        return -1;
    if (v && (v < vcpus || v > HV_SMP_MAX))
        return ctl_error(r, CTL_ERR_INVALID_PARAMETER, "argument 'maxvcpus' must be %u to %u",
                         vcpus, HV_SMP_MAX);
    *n = (unsigned)v;
    return 0;
}

/* The image's place: "disk" (an outer disk's number), "offset" (default
 * 0) and "length" (1..CTL_KERNEL_MAX). */
struct image_place {
    uint64_t disk, offset, length;
};

static int arg_place(struct ctl_req *r, struct image_place *p)
{
    if (ctl_arg_u64(r, CTL_ARG_DISK, true, 0, &p->disk) < 0 ||
        ctl_arg_u64(r, CTL_ARG_OFFSET, false, 0, &p->offset) < 0 ||
        ctl_arg_u64(r, CTL_ARG_LENGTH, true, 0, &p->length) < 0)
        return -1;
    if (p->length == 0 || p->length > CTL_KERNEL_MAX)
        return ctl_error(r, CTL_ERR_INVALID_PARAMETER,
                         "argument 'length' must be 1 to %u (bytes of the kernel image)",
                         CTL_KERNEL_MAX);
    if (p->disk >= OUTER_DISKS_MAX)
        return ctl_error(r, CTL_ERR_DEVICE_NOT_FOUND, "no outer disk %llu (there are at most %u)",
                         (unsigned long long)p->disk, OUTER_DISKS_MAX);
    return 0;
}

/* ---- The image ------------------------------------------------------------------ */

/* Read the image from its outer disk into the heap (page_alloc: the domain
 * will own it).  The buffer, or NULL with an error raised. */
static void *read_image(struct ctl_req *r, const struct image_place *p)
{
    struct img_io io;
    const char *why;
    uint64_t size;
    /* Read-only: hv never writes the disk the image comes from. */
    if (outer_disk_io((unsigned)p->disk, false, &io, &why) < 0) {
        ctl_error(r, CTL_ERR_DEVICE_NOT_FOUND, "outer disk %llu: %s", (unsigned long long)p->disk,
                  why);
        return NULL;
    }
    if (io.size(io.ctx, &size) < 0 || p->offset > size || p->length > size - p->offset) {
        ctl_error(r, CTL_ERR_INVALID_PARAMETER,
                  "the image (%llu bytes at %llu) lies beyond the end of outer disk %llu",
                  (unsigned long long)p->length, (unsigned long long)p->offset,
                  (unsigned long long)p->disk);
        return NULL;
    }
    void *buf = page_alloc(p->length, 4096);
    if (!buf) {
        ctl_error(r, CTL_ERR_GENERIC, "not enough free host memory for the %llu-byte image",
                  (unsigned long long)p->length);
        return NULL;
    }
    if (io.read(io.ctx, p->offset, buf, p->length) < 0) {
        page_free(buf);
        ctl_error(r, CTL_ERR_GENERIC, "reading the image from outer disk %llu failed",
                  (unsigned long long)p->disk);
        return NULL;
    }
    return buf;
}

/* ---- Commands ------------------------------------------------------------------- */

/* The checks of domain-create that need no image, into `s` (but for the
 * image and command line): 0 or an error. */
static int create_args(struct ctl_req *r, struct domain_spec *s, char *name, size_t name_size)
{
    const struct hv_options *o = &r->host->opt;
    if (opt_str(r, CTL_ARG_NAME, name, name_size) < 0 ||
        opt_action(r, CTL_ARG_ON_POWEROFF, o->on_poweroff, &s->on_poweroff) < 0 ||
        opt_action(r, CTL_ARG_ON_REBOOT, o->on_reboot, &s->on_reboot) < 0 ||
        opt_action(r, CTL_ARG_ON_CRASH, o->on_crash, &s->on_crash) < 0 ||
        ctl_arg_bool(r, CTL_ARG_PAUSED, false, &s->paused) < 0 || arg_vcpus(r, &s->vcpus) < 0 ||
        arg_maxvcpus(r, s->vcpus, &s->maxvcpus) < 0)
        return -1;
    if (name[0] && !domain_name_ok(name))
        return ctl_error(r, CTL_ERR_INVALID_PARAMETER,
                         "argument 'name' must be letters, digits, '-', '_' or '.', not starting "
                         "with a digit");
    s->name = name[0] ? name : NULL;
    /* A free number first: a full hv refuses whatever else is asked. */
    int id = domain_free_id(r->host);
    if (id < 0)
        return ctl_error(r, CTL_ERR_GENERIC,
                         "hv already holds %u domains (its limit): destroy one first",
                         HV_DOMAINS_MAX);
    if (s->name && domain_by_name(r->host, s->name))
        return ctl_error(r, CTL_ERR_GENERIC, "a domain called '%s' exists already (domain %u)",
                         s->name, domain_by_name(r->host, s->name)->id);
    return arg_memory(r, &s->ram_bytes);
}

static int domain_create_cmd(struct ctl_req *r)
{
    static char name[CTL_NAME_MAX + 1], path[PATH_LEN], args[ARGS_LEN];
    static char cmdline[PATH_LEN + ARGS_LEN + 1];
    struct domain_spec s = {0};
    struct image_place place;
    char err[256];
    if (create_args(r, &s, name, sizeof(name)) < 0 || arg_place(r, &place) < 0 ||
        ctl_arg_str(r, CTL_ARG_KERNEL, path, sizeof(path)) < 0 ||
        opt_str(r, CTL_ARG_CMDLINE, args, sizeof(args)) < 0)
        return -1;
    /* The kernel's file name, a space, its arguments: what QEMU's -kernel
     * and -append make of them, and what bin/hvrun gives the boot's. */
    ksnprintf(cmdline, sizeof(cmdline), "%s %s", path, args);
    s.cmdline = cmdline;
    s.image = read_image(r, &place);
    if (!s.image)
        return -1;
    s.image_len = place.length;
    /* domain_create() owns the image from here, built in or given back. */
    struct domain *d = domain_create(r->host, &s, err, sizeof(err));
    if (!d)
        return ctl_error(r, CTL_ERR_GENERIC, "%s", err);
    char buf[16];
    json_obj_begin(r->out);
    json_key(r->out, CTL_ARG_DOMAIN);
    json_put_u64(r->out, d->id);
    json_key(r->out, CTL_ARG_NAME);
    json_put_str(r->out, domain_name(d, buf, sizeof(buf)));
    json_obj_end(r->out);
    return 0;
}

/* xl destroy: the domain dies at once (DOMAIN_DYING) and the run loop
 * gives its memory back before it next polls the channel, so a request
 * after this reply sees it torn down. */
static int domain_destroy_cmd(struct ctl_req *r)
{
    struct domain *d;
    if (ctl_arg_domain(r, &d) < 0)
        return -1;
    if (domain_destroy(d) < 0)
        return ctl_error(r, CTL_ERR_GENERIC, "domain %u is being destroyed already", d->id);
    json_obj_begin(r->out);
    json_obj_end(r->out);
    return 0;
}

/* xl info's view of hv: its domain limit, the domains it lists, and its
 * heap (where every domain's RAM and tables come from). */
static int query_host(struct ctl_req *r)
{
    struct json_out *o = r->out;
    int next = domain_free_id(r->host);
    json_obj_begin(o);
    json_key(o, "max-domains");
    json_put_u64(o, HV_DOMAINS_MAX);
    json_key(o, "domains");
    json_put_u64(o, r->host->nr_domains);
    json_key(o, "next-domain");
    if (next < 0)
        json_put_null(o);
    else
        json_put_u64(o, (unsigned)next);
    json_key(o, "free-memory");
    json_put_u64(o, alloc_free_bytes());
    json_key(o, "largest-free");
    json_put_u64(o, alloc_largest_free());
    json_obj_end(o);
    return 0;
}

static const char *const create_args_list[] = {CTL_ARG_NAME,      CTL_ARG_KERNEL,
                                               CTL_ARG_CMDLINE,   CTL_ARG_MEMORY,
                                               CTL_ARG_DISK,      CTL_ARG_OFFSET,
                                               CTL_ARG_LENGTH,    CTL_ARG_ON_POWEROFF,
                                               CTL_ARG_ON_REBOOT, CTL_ARG_ON_CRASH,
                                               CTL_ARG_PAUSED,    CTL_ARG_VCPUS,
                                               CTL_ARG_MAXVCPUS,  NULL};
static const char *const domain_args[] = {CTL_ARG_DOMAIN, NULL};

const struct ctl_cmd ctl_domain_commands[] = {
    {CTL_CMD_QUERY_HOST, NULL, query_host},
    {CTL_CMD_DOMAIN_CREATE, create_args_list, domain_create_cmd},
    {CTL_CMD_DOMAIN_DESTROY, domain_args, domain_destroy_cmd},
    {NULL, NULL, NULL},
};
