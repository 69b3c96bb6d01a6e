/*
 * vdev.c - a domain's virtio devices (see vdev.h): the plan from the boot
 * modules, the words on the guest's command line, and the glue between the
 * device models of dev/virtio/ and the domain (its memory map and RAM, its
 * 8259 and I/O APIC, its console, hv's log).
 */
#include "klib.h"

#include "alloc.h"
#include "cpu.h"
#include "dev/virtio/blk.h"
#include "dev/virtio/console.h"
#include "disk/outer.h"
#include "domain.h"
#include "hv.h"
#include "inflate.h"
#include "log.h"
#include "vdev.h"

/* ---- The plan ------------------------------------------------------------------- */

/* True when the field at f (of `left` bytes) starts with `key`. */
static bool field_is(const char *f, size_t left, const char *key)
{
    size_t n = strlen(key);
    return left >= n && memcmp(f, key, n) == 0;
}

/* The length of the field at f: up to the next comma or the end. */
static size_t field_len(const char *f, size_t left)
{
    size_t n = 0;
    while (n < left && f[n] != ',')
        n++;
    return n;
}

/* One drive= word (vdev.h): "drive=N,format=F,readonly=on|off,file=PATH". */
static int parse_drive(struct vdev_spec *s, const char *w, size_t len, char *err, size_t err_len)
{
    *s = (struct vdev_spec){.kind = VDEV_BLK, .probe = true};
    const char *f = w + 6, *end = w + len;
    const char *num_end;
    unsigned long long n = kstrtoull(f, &num_end, 10);
    if (num_end == f || num_end > end || n >= 4) {
        ksnprintf(err, err_len, "'%.*s': want drive=N with N the outer disk's number 0-3", (int)len,
                  w);
        return -1;
    }
    s->outer = (unsigned)n;
    f = num_end;
    while (f < end && *f == ',') {
        f++;
        size_t left = (size_t)(end - f), flen = field_len(f, left);
        if (field_is(f, left, "file=")) {
            /* The rest of the word, commas and all. */
            if (left - 5 == 0 || left - 5 >= sizeof(s->path))
                break;
            memcpy(s->path, f + 5, left - 5);
            return 0;
        }
        if (flen == 12 && (field_is(f, left, "format=qcow2"))) {
            s->probe = false;
            s->qcow2 = true;
        } else if (flen == 10 && field_is(f, left, "format=raw")) {
            s->probe = false;
        } else if (flen == 11 && field_is(f, left, "readonly=on")) {
            s->readonly = true;
        } else if (flen == 12 && field_is(f, left, "readonly=off")) {
            s->readonly = false;
        } else {
            ksnprintf(err, err_len, "'%.*s': unknown field '%.*s'", (int)len, w, (int)flen, f);
            return -1;
        }
        f += flen;
    }
    ksnprintf(err, err_len, "'%.*s': no file=PATH at the end (1-%u characters)", (int)len, w,
              (unsigned)sizeof(s->path) - 1);
    return -1;
}

int vdev_plan(struct vdev_plan *p, const struct hv_options *opt, char *err, size_t err_len)
{
    p->n = 0;
    for (unsigned i = 0; i < opt->ndrives; i++)
        if (parse_drive(&p->spec[p->n++], opt->drive[i], opt->drive_len[i], err, err_len) < 0)
            return -1;
    /* HV_DRIVES_MAX (4) disks and a console fit in VDEV_MAX (8). */
    if (opt->virtio_console)
        p->spec[p->n++] = (struct vdev_spec){.kind = VDEV_CONSOLE};
    return 0;
}

int vdev_cmdline(const struct vdev_plan *p, char *buf, size_t size)
{
    size_t len = strlen(buf);
    for (unsigned i = 0; i < p->n; i++) {
        /* Linux's form: <size>@<base>:<irq> (virtio_mmio.c, "device="). */
        int n = ksnprintf(buf + len, size - len, " virtio_mmio.device=%u@%#llx:%u", VDEV_WINDOW,
                          (unsigned long long)vdev_base(i), vdev_gsi(i));
        if (n < 0 || (size_t)n >= size - len)
            return -1;
        len += (size_t)n;
    }
    return 0;
}

/* ---- One device's glue --------------------------------------------------------------- */

struct vdev {
    struct domain *d;
    unsigned gsi;
    char name[24];
    struct virtio_mmio t;
    /* VDEV_BLK */
    struct img *img;
    struct virtio_blk blk;
    /* VDEV_CONSOLE, and its output line being collected. */
    struct virtio_console con;
    char line[UART_LINE_MAX];
    size_t line_len;
    /* Input taken from the outer machine's COM1 that no receive buffer
     * has room for yet. */
    uint8_t in[64];
    size_t in_len;
};

/* True when every byte of [gpa, gpa + len) is RAM in the domain's memory
 * map: the devices may not reach MMIO, holes or hv's own memory. */
static bool all_ram(const struct domain *d, uint64_t gpa, uint64_t len)
{
    if (!gmem_range_ok(&d->mem, gpa, len))
        return false;
    uint64_t end = gpa + len;
    for (uint64_t pos = gpa; pos < end;) {
        const struct mem_range *r = memmap_find(&d->map, pos);
        if (!r || r->kind != MEM_RAM)
            return false;
        pos = r->base + r->size;
    }
    return true;
}

/* The devices' view of guest memory (dev/virtio/virtq.h): RAM only; a
 * store goes through gmem_write_ptr(), so it is logged dirty and refused
 * on a page the guest made read-only, like hv's other stores. */
static uint8_t *vdev_map(void *ctx, uint64_t gpa, uint64_t len, bool write)
{
    struct domain *d = ctx;
    if (!all_ram(d, gpa, len))
        return NULL;
    return write ? gmem_write_ptr(&d->mem, gpa, len) : gmem_ptr(&d->mem, gpa, len);
}

/* The transport's interrupt line: the 8259 input and the I/O APIC pin of
 * the same number (an ISA IRQ, as microvm wires GSIs 5-12). */
static void vdev_irq(void *ctx, bool level)
{
    struct vdev *v = ctx;
    pic_set_irq(&v->d->pic, v->gsi, level);
    ioapic_set_irq(&v->d->ioapic, v->gsi, level);
}

static void vdev_log(void *ctx, const char *line)
{
    (void)ctx;
    hv_log("%s", line);
}

/* Console output: whole lines go where COM1's go (the domain's line
 * function), so a guest prints the same lines through either. */
static void console_out(void *ctx, const uint8_t *buf, size_t len)
{
    struct vdev *v = ctx;
    struct uart16550 *u = &v->d->com1;
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '\n' || v->line_len == sizeof(v->line)) {
            u->out(u->out_ctx, v->line, v->line_len);
            v->line_len = 0;
            if (buf[i] == '\n')
                continue;
        }
        if (buf[i] != '\r')
            v->line[v->line_len++] = (char)buf[i];
    }
}

/* Input for the console: bytes the outer machine's COM1 received go into
 * the receive buffers the driver left on the receiveq (5.3.6 "Device
 * Operation": "the driver puts buffers on the receiveq", the device fills
 * them).  COM1 is read only while the driver has the queue ready and only
 * as far as `in` has room: what the guest cannot take yet stays in the
 * outer UART's FIFO and, behind it, in the emulator's input, so nothing is
 * lost.  The outer machine has one COM1: its input is domain 0's (with
 * domains=N the others' consoles are output only).  Returns whether any
 * byte reached the guest. */
static bool console_feed(struct vdev *v)
{
    if (v->d->id != 0 || !virtio_mmio_live(&v->t) || !v->t.vq[VIRTIO_CONSOLE_RX].ready)
        return false;
    uint8_t c;
    while (v->in_len < sizeof(v->in) && serial_getc(&c))
        v->in[v->in_len++] = c;
    if (v->in_len == 0)
        return false;
    size_t n = virtio_console_input(&v->con, &v->t, v->in, v->in_len);
    memmove(v->in, v->in + n, v->in_len - n);
    v->in_len -= n;
    return n > 0;
}

/* virtio_console_in_fn: the driver put buffers on the receiveq. */
static void console_in(void *ctx)
{
    console_feed(ctx);
}

bool vdev_console_poll(struct domain *d)
{
    return d->console && console_feed(d->console);
}

/* A backing file named in an image's header: the file of that name (as
 * the image's own name resolves it, img_backing_path()) among those the
 * launcher attached; read-only, but for a commit into it (ctl_dev.c). */
static int open_backing(void *ctx, const char *referrer, const char *name, bool writable,
                        struct img_io *io, struct img_err *err)
{
    (void)ctx;
    char path[256];
    const char *why;
    int idx = -1;
    if (img_backing_path(referrer, name, path, sizeof(path)))
        idx = outer_disk_by_name(path);
    if (idx < 0 || outer_disk_io((unsigned)idx, writable, io, &why) < 0) {
        err->code = -IMG_ENOENT;
        ksnprintf(err->msg, sizeof(err->msg),
                  "backing file '%s' of '%s' is not among the files attached to the outer "
                  "machine",
                  name, referrer);
        return -IMG_ENOENT;
    }
    return 0;
}

/* Compressed clusters: zlib's (raw deflate) through hv's own decoder
 * (inflate.h).  hv has no zstd decoder: a zstd-compressed cluster fails to
 * read, the request gets IOERR and the log says why ("... is zstd, which
 * this program cannot decompress"); an image whose header says zstd but
 * holds no compressed cluster works (tests/integration/virtio-hv.sh). */
static int img_decompress(void *ctx, int type, void *dst, size_t dst_len, const void *src,
                          size_t src_len)
{
    (void)ctx;
    if (type != IMG_COMP_ZLIB)
        return -IMG_ENOTSUP;
    return inflate_raw(dst, dst_len, src, src_len) < 0 ? -IMG_ECORRUPT : 0;
}

/* imgtool's library in hv: memory from hv's heap, backing files from the
 * outer disks, hv's deflate decoder. */
static void *img_alloc(void *ctx, size_t n)
{
    (void)ctx;
    return kzalloc(n);
}

static void img_free(void *ctx, void *p)
{
    (void)ctx;
    kfree(p);
}

static const struct img_env hv_img_env = {.alloc = img_alloc,
                                          .free = img_free,
                                          .decompress = img_decompress,
                                          .open_backing = open_backing};

/* A disk: the image file on outer disk s->outer, opened by the library. */
static int open_disk(struct vdev *v, const struct vdev_spec *s, char *err, size_t err_len)
{
    struct img_io io;
    const char *why;
    if (outer_disk_io(s->outer, !s->readonly, &io, &why) < 0) {
        ksnprintf(err, err_len, "disk %s: outer disk %u: %s", s->path, s->outer, why);
        return -1;
    }
    struct img_err ie = {0};
    const char *fmt = s->probe ? NULL : s->qcow2 ? "qcow2" : "raw";
    if (img_open(&hv_img_env, &io, s->path, fmt, s->readonly ? 0 : IMG_OPEN_RW, &v->img, &ie) < 0) {
        ksnprintf(err, err_len, "disk %s: %s", s->path, ie.msg);
        return -1;
    }
    virtio_blk_init(&v->blk, v->name, v->img, s->readonly);
    return 0;
}

/* The disks' I/O counters' clock: the host's TSC in nanoseconds. */
static uint64_t disk_clock(void)
{
    return irq_tsc_to_ns(rdtsc());
}

/* Disk n counts its I/O in the domain's counters, which outlive the
 * device: a reset builds the device again, and the counters go on, as
 * QEMU's do (dev/blkacct.h). */
_Static_assert(VDEV_MAX <= DOMAIN_MAX_DISKS, "a counter for every disk");
static void count_disk(struct domain *d, struct vdev *v, unsigned n)
{
    v->blk.acct = &d->disk_stats[n];
    v->blk.acct->clock_ns = disk_clock;
}

/* mmio_device.release: the domain is torn down (core/teardown.c).  A disk
 * is closed (what imgtool still holds reaches the file, its memory goes
 * back), then the device's own memory.  The transport is the device's
 * mmio context, and it lives inside struct vdev. */
static void vdev_release(void *ctx)
{
    struct vdev *v = (struct vdev *)((char *)ctx - offsetof(struct vdev, t));
    if (v->d->console == v)
        v->d->console = NULL;
    if (v->img)
        img_close(v->img);
    kfree(v);
}

int vdev_attach(struct domain *d, const struct vdev_plan *p, char *err, size_t err_len)
{
    unsigned disks = 0;
    for (unsigned i = 0; i < p->n; i++) {
        const struct vdev_spec *s = &p->spec[i];
        struct vdev *v = kzalloc(sizeof(*v));
        if (!v) {
            ksnprintf(err, err_len, "no memory for virtio device %u", i);
            return -1;
        }
        v->d = d;
        v->gsi = vdev_gsi(i);
        const struct virtio_device *dev;
        if (s->kind == VDEV_BLK) {
            ksnprintf(v->name, sizeof(v->name), "virtio-blk%u", disks++);
            if (open_disk(v, s, err, err_len) < 0)
                return -1;
            count_disk(d, v, disks - 1);
            dev = &v->blk.dev;
        } else {
            ksnprintf(v->name, sizeof(v->name), "virtio-console0");
            virtio_console_init(&v->con, v->name, console_out, v);
            v->con.in = console_in;
            d->console = v;
            dev = &v->con.dev;
        }
        struct virtq_mem mem = {.ctx = d, .map = vdev_map};
        virtio_mmio_init(&v->t, dev, &mem, vdev_base(i), vdev_irq, v, vdev_log, NULL);
        v->t.mmio.release = vdev_release;
        if (domain_add_mmio(d, &v->t.mmio, err, err_len) < 0)
            return -1;
        if (s->kind == VDEV_BLK)
            hv_log("%s at %#llx irq %u: %s, %llu bytes%s", v->name,
                   (unsigned long long)vdev_base(i), v->gsi, s->path,
                   (unsigned long long)img_size(v->img), s->readonly ? ", read-only" : "");
        else
            hv_log("%s at %#llx irq %u", v->name, (unsigned long long)vdev_base(i), v->gsi);
    }
    return 0;
}

/* ---- For savevm and loadvm ------------------------------------------------------------ */

/* The device whose window starts at `base`, if it is one of vdev's (its
 * release is vdev_release), else NULL. */
static struct vdev *vdev_at(struct domain *d, uint64_t base)
{
    for (struct mmio_device *m = d->mmio.head; m; m = m->next)
        if (m->release == vdev_release && m->base == base)
            return (struct vdev *)((char *)m->ctx - offsetof(struct vdev, t));
    return NULL;
}

unsigned vdev_transports(struct domain *d, struct virtio_mmio **out, unsigned max)
{
    unsigned n = 0;
    /* Window order: device i sits at vdev_base(i), the first one highest. */
    for (unsigned i = 0; i < VDEV_MAX && n < max; i++) {
        struct vdev *v = vdev_at(d, vdev_base(i));
        if (v)
            out[n++] = &v->t;
    }
    return n;
}

struct img *vdev_snapshot_disk(struct domain *d)
{
    struct img_info info;
    for (unsigned i = 0; i < VDEV_MAX; i++) {
        struct vdev *v = vdev_at(d, vdev_base(i));
        if (v && v->img && !v->blk.readonly && img_get_info(v->img, &info) == 0 &&
            info.format == IMG_FMT_QCOW2)
            return v->img;
    }
    return NULL;
}

struct img *vdev_disk(struct domain *d, unsigned n, bool *readonly)
{
    /* Disks are named in drive= order (vdev_attach); the bus keeps its
     * devices in its own order, so the name says which disk is which. */
    char want[24];
    ksnprintf(want, sizeof(want), "virtio-blk%u", n);
    for (struct mmio_device *m = d->mmio.head; m; m = m->next) {
        if (m->release != vdev_release)
            continue;
        struct vdev *v = (struct vdev *)((char *)m->ctx - offsetof(struct vdev, t));
        if (v->img && strcmp(v->name, want) == 0) {
            *readonly = v->blk.readonly;
            return v->img;
        }
    }
    return NULL;
}

/* ---- Disks attached at run time (core/vdev_hot.c) ----------------------------- */

const struct img_env *vdev_img_env(void)
{
    return &hv_img_env;
}

struct vdev *vdev_disk_new(struct domain *d, unsigned n, const char *name, struct img *img,
                           bool readonly)
{
    struct vdev *v = kzalloc(sizeof(*v));
    if (!v)
        return NULL;
    v->d = d;
    v->gsi = vdev_gsi(n);
    v->img = img;
    ksnprintf(v->name, sizeof(v->name), "%s", name);
    virtio_blk_init(&v->blk, v->name, img, readonly);
    /* Its counters are those of its window's number, which no disk of the
     * boot has (disk n of the boot sits in window n); vdev_hot.c clears
     * them when the disk is attached, not when a reset builds it again. */
    count_disk(d, v, n);
    struct virtq_mem mem = {.ctx = d, .map = vdev_map};
    virtio_mmio_init(&v->t, &v->blk.dev, &mem, vdev_base(n), vdev_irq, v, vdev_log, NULL);
    return v;
}

struct mmio_device *vdev_disk_window(struct vdev *v)
{
    return &v->t.mmio;
}

int vdev_disk_free(struct vdev *v)
{
    /* Its interrupt line must not stay raised for a device that is gone:
     * the window's next device would inherit it. */
    vdev_irq(v, false);
    int rc = v->img ? img_close(v->img) : 0;
    kfree(v);
    return rc;
}
