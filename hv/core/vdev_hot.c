/*
 * vdev_hot.c - virtio disks plugged into a running domain (vdev_hot.h).
 */
#include "klib.h"

#include "hvkit/ctl.h"

#include "alloc.h"
#include "dev/virtio/virtio_mmio.h"
#include "disk/outer.h"
#include "domain.h"
#include "hv.h"
#include "img.h"
#include "log.h"
#include "vdev.h"
#include "vdev_hot.h"

/* One disk slot of the staging disk and the disk hv opened from it.  The
 * slot's number is its place in the staging disk, which the manager
 * chose; the entry outlives the device (a reset builds it again) and is
 * free once detached, or once its domain is gone for good. */
struct hot_disk {
    bool used;
    /* Its domain: the struct and that domain's serial (a struct is used
     * again by a later domain of the same number). */
    struct domain *d;
    unsigned serial;
    struct vdev_hot_req q;
    bool qcow2;
    unsigned window;
    /* The slot as a file (its trailer, the growth), and the device, NULL
     * while the domain is torn down. */
    struct outer_window w;
    struct vdev *v;
};

/* Static: the slots are the machine's, like the staging disk. */
static struct hot_disk hot[CTL_STAGE_DISK_SLOTS];

/* A window of a domain that no device of the boot took. */
struct hot_window {
    struct mmio_device m;
    struct domain *d;
    unsigned n;
    /* The disk plugged in, or NULL: an empty window. */
    struct hot_disk *h;
};

/* Is h's domain still d, and not gone for good? */
static bool belongs(const struct hot_disk *h, const struct domain *d)
{
    return h->used && h->d == d && h->serial == d->serial && d->state != DOMAIN_DYING;
}

/* An empty window reads as QEMU's virtio-mmio transport without a device
 * (virtio_mmio_read() with no backend): the magic, version 2, QEMU's
 * vendor ID, and 0 everywhere else -- device ID 0 among them. */
static uint64_t empty_read(uint64_t offset)
{
    switch (offset) {
    case VIRTIO_MMIO_MAGIC:
        return VIRTIO_MMIO_MAGIC_VALUE;
    case VIRTIO_MMIO_VERSION:
        return 2;
    case VIRTIO_MMIO_VENDOR_ID:
        return VIRTIO_MMIO_VENDOR_VALUE;
    default:
        return 0;
    }
}

static uint64_t window_read(void *ctx, uint64_t offset, uint8_t size)
{
    struct hot_window *w = ctx;
    if (!w->h || !w->h->v)
        return empty_read(offset);
    /* The disk's transport answers, as if it sat on the bus itself. */
    struct mmio_device *t = vdev_disk_window(w->h->v);
    return t->read(t->ctx, offset, size);
}

static void window_write(void *ctx, uint64_t offset, uint8_t size, uint64_t value)
{
    struct hot_window *w = ctx;
    /* Stores to an empty window go nowhere, as on QEMU. */
    if (!w->h || !w->h->v)
        return;
    struct mmio_device *t = vdev_disk_window(w->h->v);
    t->write(t->ctx, offset, size, value);
}

/* mmio_device.release: the domain is torn down.  Its disk is closed (what
 * imgtool holds reaches the slot) but stays attached: a rebuild opens it
 * again. */
static void window_release(void *ctx)
{
    struct hot_window *w = ctx;
    if (w->h && w->h->v) {
        vdev_disk_free(w->h->v);
        w->h->v = NULL;
    }
    kfree(w);
}

/* d's window device n, or NULL (a device of the boot is there). */
static struct hot_window *window_of(struct domain *d, unsigned n)
{
    for (struct mmio_device *m = d->mmio.head; m; m = m->next)
        if (m->release == window_release && m->base == vdev_base(n))
            return m->ctx;
    return NULL;
}

/* Open h's slot and image and make its device: 0, or -1 with err. */
static int open_disk(struct domain *d, struct hot_disk *h, char *err, size_t err_len)
{
    struct img_io io;
    const char *why;
    if (outer_window_io(&h->w, h->q.disk, h->q.offset, CTL_STAGE_DISK_SLOT, !h->q.readonly, &io,
                        &why) < 0) {
        ksnprintf(err, err_len, "the disk slot at %llu of outer disk %u: %s",
                  (unsigned long long)h->q.offset, h->q.disk, why);
        return -1;
    }
    struct img_err ie = {0};
    struct img *img;
    const char *fmt = h->q.format[0] ? h->q.format : NULL;
    if (img_open(vdev_img_env(), &io, h->q.file, fmt, h->q.readonly ? 0 : IMG_OPEN_RW, &img, &ie) <
        0) {
        ksnprintf(err, err_len, "%s", ie.msg);
        return -1;
    }
    struct img_info info;
    h->qcow2 = img_get_info(img, &info) == 0 && info.format == IMG_FMT_QCOW2;
    h->v = vdev_disk_new(d, h->window, h->q.device, img, h->q.readonly);
    if (!h->v) {
        img_close(img);
        ksnprintf(err, err_len, "no memory for the disk's device");
        return -1;
    }
    return 0;
}

int vdev_hot_build(struct domain *d, char *err, size_t err_len)
{
    if (!d->host->opt.ctl)
        return 0;
    for (unsigned n = 0; n < VDEV_MAX; n++) {
        /* A device of the boot keeps its window. */
        if (mmio_find(&d->mmio, vdev_base(n)))
            continue;
        struct hot_window *w = kzalloc(sizeof(*w));
        if (!w) {
            ksnprintf(err, err_len, "no memory for virtio-mmio window %u", n);
            return -1;
        }
        *w = (struct hot_window){.m = {.name = "virtio-mmio (empty)",
                                       .base = vdev_base(n),
                                       .size = VDEV_WINDOW,
                                       .read = window_read,
                                       .write = window_write,
                                       .ctx = w,
                                       .release = window_release},
                                 .d = d,
                                 .n = n};
        if (domain_add_mmio(d, &w->m, err, err_len) < 0) {
            kfree(w);
            return -1;
        }
    }
    /* A rebuild (reset, restart): the disks it had go back in. */
    for (unsigned s = 0; s < CTL_STAGE_DISK_SLOTS; s++) {
        struct hot_disk *h = &hot[s];
        struct hot_window *w = belongs(h, d) ? window_of(d, h->window) : NULL;
        char why[160];
        if (!w)
            continue;
        if (open_disk(d, h, why, sizeof(why)) < 0) {
            hv_log("%s: cannot open it again: %s", h->q.device, why);
            h->used = false;
            continue;
        }
        w->h = h;
    }
    return 0;
}

/* The slot an offset names, or NULL. */
static struct hot_disk *slot_at(uint64_t offset)
{
    if (offset < CTL_STAGE_DISK_OFFSET || (offset - CTL_STAGE_DISK_OFFSET) % CTL_STAGE_DISK_SLOT)
        return NULL;
    uint64_t s = (offset - CTL_STAGE_DISK_OFFSET) / CTL_STAGE_DISK_SLOT;
    return s < CTL_STAGE_DISK_SLOTS ? &hot[s] : NULL;
}

/* d's disk attached at run time called `device`, or NULL. */
static struct hot_disk *find(struct domain *d, const char *device)
{
    for (unsigned s = 0; s < CTL_STAGE_DISK_SLOTS; s++)
        if (belongs(&hot[s], d) && !strcmp(hot[s].q.device, device))
            return &hot[s];
    return NULL;
}

int vdev_hot_attach(struct domain *d, const struct vdev_hot_req *q, unsigned *window, char *err,
                    size_t err_len)
{
    struct hot_disk *h = slot_at(q->offset);
    if (!h) {
        ksnprintf(err, err_len, "offset %llu is not the start of a disk slot of the staging disk",
                  (unsigned long long)q->offset);
        return -1;
    }
    /* The manager hands out the slots; one still in use is a mistake. */
    if (h->used && h->v) {
        ksnprintf(err, err_len, "the disk slot at %llu holds '%s' already",
                  (unsigned long long)q->offset, h->q.file);
        return -1;
    }
    if (find(d, q->device)) {
        ksnprintf(err, err_len, "Duplicate device ID '%s'", q->device);
        return -1;
    }
    struct hot_window *w = NULL;
    for (unsigned n = 0; n < VDEV_MAX && !w; n++) {
        w = window_of(d, n);
        if (w && w->h)
            w = NULL;
    }
    if (!w) {
        ksnprintf(err, err_len,
                  "domain %u has no free virtio-mmio window (its %u windows hold devices)", d->id,
                  VDEV_MAX);
        return -1;
    }
    struct hot_disk fresh = {.d = d, .serial = d->serial, .q = *q, .window = w->n};
    *h = fresh;
    /* A new device's I/O counters start from zero, as in QEMU; a reset
     * keeps them (dev/blkacct.h). */
    memset(&d->disk_stats[w->n], 0, sizeof(d->disk_stats[w->n]));
    if (open_disk(d, h, err, err_len) < 0) {
        h->used = false;
        return -1;
    }
    h->used = true;
    w->h = h;
    *window = w->n;
    hv_log("%s at %#llx irq %u: %s, %llu bytes%s (attached at run time)", q->device,
           (unsigned long long)vdev_base(w->n), vdev_gsi(w->n), q->file,
           (unsigned long long)h->w.file.t.length, q->readonly ? ", read-only" : "");
    return 0;
}

int vdev_hot_detach(struct domain *d, const char *device, uint64_t *length, char *err,
                    size_t err_len)
{
    struct hot_disk *h = find(d, device);
    if (!h) {
        ksnprintf(err, err_len, "Device '%s' not found", device);
        return -1;
    }
    /* hv carries out every request of the guest whole, at the store that
     * notifies the device (dev/virtio/blk.c): none is ever outstanding
     * between two exits, so there is nothing to wait for.  The close
     * flushes what imgtool holds into the slot; its trailer has the
     * length. */
    int rc = 0;
    if (h->v)
        rc = vdev_disk_free(h->v);
    h->v = NULL;
    struct hot_window *w = window_of(d, h->window);
    if (w)
        w->h = NULL;
    h->used = false;
    *length = h->w.file.t.length;
    /* A failed last flush is logged; the disk is gone all the same, and
     * the manager copies back what the slot holds. */
    hv_log("%s: detached: %s, %llu bytes%s", device, h->q.file, (unsigned long long)*length,
           rc < 0 ? " (its last flush failed)" : "");
    return 0;
}

void vdev_hot_each(struct domain *d, vdev_hot_fn fn, void *ctx)
{
    for (unsigned n = 0; n < VDEV_MAX; n++) {
        struct hot_window *w = window_of(d, n);
        if (!w || !w->h || !w->h->v)
            continue;
        struct vdev_hot_info info = {.device = w->h->q.device,
                                     .file = w->h->q.file,
                                     .qcow2 = w->h->qcow2,
                                     .readonly = w->h->q.readonly,
                                     .counter = n};
        fn(ctx, &info);
    }
}

/* vdev_hot_each's callback for vdev_hot_count(). */
static void count_one(void *ctx, const struct vdev_hot_info *info)
{
    (void)info;
    (*(unsigned *)ctx)++;
}

unsigned vdev_hot_count(struct domain *d)
{
    unsigned n = 0;
    vdev_hot_each(d, count_one, &n);
    return n;
}
