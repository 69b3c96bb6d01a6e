/*
 * vmfile.c: domain-save and domain-restore's work in hv (vmfile.h).
 *
 * The state travels on the block path, as domain-create's kernel does: hv
 * writes it into (or reads it from) the save region of the manager's
 * staging disk, an outer disk (hv/disk/), and the manager copies it to or
 * from the front-end's file.  What goes in is vmsave.c's stream over a
 * window of that disk (vmwork.h), with a CONFIG section so that a restore
 * needs nothing but the file to make the domain again.
 *
 * A restore checks everything it can before it makes anything (the
 * state's framing, its CONFIG, what hv can hold), makes the domain paused,
 * checks the whole state against it (vms_load_check, the same check
 * loadvm makes), and takes the domain back if that fails: a corrupted or
 * truncated file changes nothing.
 *
 * A domain with virtio disks is saved as any other, its disks flushed
 * first and not copied: the state goes back into a domain started with
 * the same disks (vmfile_restore_into, which checks that the devices are
 * the state's), never into a new one, which has no disks.
 */
#include "hvkit/ctl.h"
#include "klib.h"

#include "alloc.h"
#include "disk/outer.h"
#include "domcreate.h"
#include "hv.h"
#include "log.h"
#include "vdev.h"
#include "vdev_hot.h"
#include "vmfile.h"
#include "vmwork.h"

/* ---- A window on an outer disk ------------------------------------------------------ */

/* [base, base + limit) of an outer disk as a file of its own: the stream
 * writes and reads from 0, and never beyond the region. */
struct window {
    struct img_io disk;
    uint64_t base, limit;
};

static int win_read(void *ctx, uint64_t off, void *buf, size_t len)
{
    struct window *w = ctx;
    if (off > w->limit || len > w->limit - off)
        return -1;
    return w->disk.read(w->disk.ctx, w->base + off, buf, len);
}

static int win_write(void *ctx, uint64_t off, const void *buf, size_t len)
{
    struct window *w = ctx;
    if (off > w->limit || len > w->limit - off)
        return -1;
    return w->disk.write(w->disk.ctx, w->base + off, buf, len);
}

static int win_flush(void *ctx)
{
    struct window *w = ctx;
    return w->disk.flush(w->disk.ctx);
}

static int win_size(void *ctx, uint64_t *size)
{
    struct window *w = ctx;
    *size = w->limit;
    return 0;
}

/* The work's stream over place p of its outer disk. */
static int open_window(struct work *w, struct window *win, const struct vmfile_place *p,
                       bool writable, char *err, size_t err_len)
{
    const char *why = "";
    if (outer_disk_io(p->disk, writable, &win->disk, &why) < 0) {
        ksnprintf(err, err_len, "outer disk %u: %s", p->disk, why);
        return -1;
    }
    win->base = p->offset;
    win->limit = p->limit;
    w->file = (struct img_io){.ctx = win, .read = win_read, .flush = win_flush, .size = win_size};
    if (writable)
        w->file.write = win_write;
    return 0;
}

/* ---- Save --------------------------------------------------------------------------- */

/* The CONFIG section of domain d (vms_domain.h), or -1 with err for one
 * a file cannot hold. */
static int domain_config(struct domain *d, int record_paused, struct vms_config *c, char *err,
                         size_t err_len)
{
    const char *cmd = d->cmdline ? d->cmdline : "";
    if (!d->image || d->image_len > VMS_CONFIG_IMAGE_MAX || strlen(cmd) > VMS_CONFIG_CMDLINE_MAX) {
        ksnprintf(err, err_len,
                  "domain %u's kernel (%zu bytes) or command line (%zu bytes) does not fit a save "
                  "file (at most %u and %u)",
                  d->id, d->image_len, strlen(cmd), VMS_CONFIG_IMAGE_MAX, VMS_CONFIG_CMDLINE_MAX);
        return -1;
    }
    /* An unnamed domain ("dN") gets the name of its new number. */
    ksnprintf(c->name, sizeof(c->name), "%s", d->name ? d->name : "");
    ksnprintf(c->cmdline, sizeof(c->cmdline), "%s", cmd);
    c->on_poweroff = (uint8_t)d->on_poweroff;
    c->on_reboot = (uint8_t)d->on_reboot;
    c->on_crash = (uint8_t)d->on_crash;
    c->paused = record_paused > 0;
    c->image = d->image;
    c->image_len = d->image_len;
    return 0;
}

/* A domain's disks are not part of its saved state (as with xl save and
 * virsh save: the disk stays where it is, and the restore runs on the same
 * file).  What the guest wrote before the save must therefore be in the
 * host's files before the state is: each writable virtio disk is flushed
 * (imgtool's caches are write-through, so this is the outer disk's FLUSH
 * CACHE, disk/ata.c), and a disk that cannot be flushed fails the save
 * rather than leave a state that runs ahead of its disk. */
static int flush_disks(struct domain *d, char *err, size_t err_len)
{
    bool readonly;
    struct img *img;
    for (unsigned n = 0; (img = vdev_disk(d, n, &readonly)) != NULL; n++)
        if (!readonly && img_flush(img) < 0) {
            ksnprintf(err, err_len, "domain %u: flushing its disk %u failed", d->id, n);
            return -1;
        }
    return 0;
}

/* A disk attached at run time (x-blockdev-attach, core/vdev_hot.c) is a
 * copy in the staging disk that goes back to its file at the detach: a
 * restore, which starts the domain with the disks of its configuration,
 * could not give it back.  Such a domain is not saved until it is
 * detached, as savevm refuses it too. */
static int refuse_hot(struct domain *d, char *err, size_t err_len)
{
    if (!vdev_hot_count(d))
        return 0;
    ksnprintf(err, err_len,
              "domain %u has a disk attached at run time: detach it first (a restore starts the "
              "domain with the disks it was started with)",
              d->id);
    return -1;
}

/* The paused domain's state through the window, flushed: its length or -1. */
static int64_t write_all(struct domain *d, struct work *w, char *err, size_t err_len)
{
    int64_t n = vmwork_write(d, w, err, err_len);
    if (n >= 0 && w->file.flush(w->file.ctx) < 0) {
        ksnprintf(err, err_len, "flushing the staging disk failed");
        return -1;
    }
    return n;
}

int64_t vmfile_save(struct domain *d, const struct vmfile_place *p, enum vmfile_after after,
                    int record_paused, bool *was_paused, char *err, size_t err_len)
{
    static struct vms_config cfg;
    struct window win;
    int64_t n = -1;
    err[0] = '\0';
    struct work *w = vmwork_alloc(d, err, err_len);
    if (!w)
        return -1;
    if (refuse_hot(d, err, err_len) == 0 && open_window(w, &win, p, true, err, err_len) == 0 &&
        vmwork_pause(d, was_paused, err, err_len) == 0) {
        uint64_t t0 = vmwork_now_ns(d);
        if (flush_disks(d, err, err_len) == 0 &&
            domain_config(d, record_paused < 0 ? *was_paused : record_paused, &cfg, err, err_len) ==
                0) {
            w->parts.config = &cfg;
            n = write_all(d, w, err, err_len);
        }
        /* The window refuses what would not fit: say so in those words. */
        if (n < 0 && !strcmp(err, "writing the save file failed"))
            ksnprintf(err, err_len, "the state does not fit the staging disk's %llu MiB",
                      (unsigned long long)(p->limit >> 20));
        char name[CTL_NAME_MAX + 1];
        if (n >= 0)
            hv_log("domain-save: domain %u '%s': %llu bytes of state in %llu ms", d->id,
                   domain_name(d, name, sizeof(name)), (unsigned long long)n,
                   (unsigned long long)((vmwork_now_ns(d) - t0) / 1000000));
        /* Saved: what the front-end asked for.  Not saved: as it was. */
        if (n >= 0 && after == VMFILE_DESTROY)
            domain_destroy(d);
        else if (n < 0 || after == VMFILE_CONTINUE)
            vmwork_resume(d, *was_paused);
    }
    kfree(w);
    return n;
}

/* ---- Restore ------------------------------------------------------------------------ */

/* vms_read_config's alloc: the image in memory the domain will own. */
static void *image_alloc(uint64_t len)
{
    return page_alloc((size_t)len, 4096);
}

/* Can hv make a domain of this shape and CONFIG now?  The same checks
 * domain-create makes, before anything is built. */
static int check_room(struct host *h, const struct vms_shape *s, const struct vms_config *c,
                      char *err, size_t err_len)
{
    if (s->virtio) {
        /* A domain made at run time has no disks (docs/control-protocol.md
         * "domain-create"): such a state goes into a domain that has them,
         * one started with the same disks (xl restore, virsh restore). */
        ksnprintf(err, err_len,
                  "the state is of a domain with %u virtio device%s (disks, a virtio console), "
                  "which a domain made at run time cannot have: restore it into a domain with "
                  "the same devices (argument 'domain')",
                  s->virtio, s->virtio == 1 ? "" : "s");
        return -1;
    }
    if (s->vcpus < 1 || s->vcpus > HV_SMP_MAX || s->ram < HV_MEM_MIN || s->ram > HV_MEM_MAX ||
        s->ram % (2u << 20)) {
        ksnprintf(
            err, err_len,
            "the state is of a domain with %u vCPUs and %llu KiB of RAM, which hv cannot make",
            s->vcpus, (unsigned long long)(s->ram >> 10));
        return -1;
    }
    if (c->name[0] && !domain_name_ok(c->name)) {
        ksnprintf(err, err_len, "the state's domain name '%s' is not one a domain may have",
                  c->name);
        return -1;
    }
    if (domain_free_id(h) < 0) {
        ksnprintf(err, err_len, "hv already holds %u domains (its limit): destroy one first",
                  HV_DOMAINS_MAX);
        return -1;
    }
    if (c->name[0] && domain_by_name(h, c->name)) {
        ksnprintf(err, err_len, "a domain called '%s' exists already (domain %u)", c->name,
                  domain_by_name(h, c->name)->id);
        return -1;
    }
    if (s->ram > alloc_largest_free()) {
        ksnprintf(err, err_len,
                  "not enough free host memory for %llu MiB of guest RAM: hv's largest free block "
                  "is %zu MiB",
                  (unsigned long long)(s->ram >> 20), alloc_largest_free() >> 20);
        return -1;
    }
    return 0;
}

/* Make the domain, paused, from the shape and CONFIG (the image passes to
 * it); NULL with err. */
static struct domain *make(struct host *h, const struct vms_shape *s, struct vms_config *c,
                           char *err, size_t err_len)
{
    struct domain_spec spec = {.name = c->name[0] ? c->name : NULL,
                               .image = (void *)c->image,
                               .image_len = (size_t)c->image_len,
                               .cmdline = c->cmdline,
                               .ram_bytes = s->ram,
                               .vcpus = s->vcpus,
                               .on_poweroff = (enum domain_action)c->on_poweroff,
                               .on_reboot = (enum domain_action)c->on_reboot,
                               .on_crash = (enum domain_action)c->on_crash,
                               .paused = true};
    /* domain_create() owns the image from here, built in or given back. */
    c->image = NULL;
    return domain_create(h, &spec, err, err_len);
}

/* The work's state into the new paused domain d; on a refusal d is taken
 * back.  0 or -1 with err. */
static int fill(struct host *h, struct domain *d, struct work *w, char *err, size_t err_len)
{
    vmwork_bind(w, d);
    /* Its buffers start anew: vms_read_config read through them. */
    w->buf_at = w->buf_len = 0;
    if (vmwork_read(d, w, err, err_len) == 0)
        return 0;
    /* Refused before anything was put in: as if never made.  Failed half
     * way (the staging disk could not be read): it stays, crashed. */
    if (!domain_stopped(d))
        domain_create_undo(h, d);
    return -1;
}

struct domain *vmfile_restore(struct host *h, const struct vmfile_place *p, int paused, char *err,
                              size_t err_len)
{
    static struct vms_config cfg;
    struct vms_shape shape;
    struct window win;
    struct domain *d = NULL;
    err[0] = '\0';
    struct work *w = vmwork_alloc(NULL, err, err_len);
    if (!w)
        return NULL;
    struct vms_source src = {.read = vmwork_source_read, .ctx = w, .size = p->limit};
    w->size = p->limit;
    if (open_window(w, &win, p, false, err, err_len) < 0) {
        kfree(w);
        return NULL;
    }
    if (vms_read_config(&w->v, &src, &shape, &cfg, image_alloc) < 0)
        ksnprintf(err, err_len, "%s", w->v.err);
    else if (check_room(h, &shape, &cfg, err, err_len) == 0)
        d = make(h, &shape, &cfg, err, err_len);
    page_free((void *)cfg.image);
    cfg.image = NULL;
    if (d) {
        uint64_t t0 = vmwork_now_ns(d);
        if (fill(h, d, w, err, err_len) < 0) {
            d = NULL;
        } else {
            char name[CTL_NAME_MAX + 1];
            hv_log("domain-restore: domain %u '%s': %llu bytes of state in %llu ms", d->id,
                   domain_name(d, name, sizeof(name)), (unsigned long long)p->limit,
                   (unsigned long long)((vmwork_now_ns(d) - t0) / 1000000));
            if (paused < 0 ? !cfg.paused : !paused)
                domain_unpause(d);
        }
    }
    kfree(w);
    return d;
}

/* ---- Restore into a domain that exists ---------------------------------------------- */

int vmfile_restore_into(struct domain *d, const struct vmfile_place *p, int paused, char *err,
                        size_t err_len)
{
    static struct vms_config cfg;
    struct vms_shape shape;
    struct window win;
    bool was_paused;
    int r = -1;
    err[0] = '\0';
    struct work *w = vmwork_alloc(d, err, err_len);
    if (!w)
        return -1;
    struct vms_source src = {.read = vmwork_source_read, .ctx = w, .size = p->limit};
    w->size = p->limit;
    /* The CONFIG first, read through without its image: it must be a
     * save file's, and it says whether the domain starts paused. */
    bool ok = open_window(w, &win, p, false, err, err_len) == 0;
    if (ok && vms_read_config(&w->v, &src, &shape, &cfg, NULL) < 0) {
        ksnprintf(err, err_len, "%s", w->v.err);
        ok = false;
    }
    if (ok && vmwork_pause(d, &was_paused, err, err_len) == 0) {
        uint64_t t0 = vmwork_now_ns(d);
        w->buf_at = w->buf_len = 0;
        r = vmwork_read(d, w, err, err_len);
        char name[CTL_NAME_MAX + 1];
        if (r == 0)
            hv_log("domain-restore: into domain %u '%s': %llu bytes of state in %llu ms", d->id,
                   domain_name(d, name, sizeof(name)), (unsigned long long)p->limit,
                   (unsigned long long)((vmwork_now_ns(d) - t0) / 1000000));
        /* Refused: as it was.  Restored: running unless asked or saved
         * paused. */
        if (r < 0 && !domain_stopped(d))
            vmwork_resume(d, was_paused);
        else if (r == 0 && !(paused < 0 ? cfg.paused : paused))
            domain_unpause(d);
    }
    kfree(w);
    return r;
}
