/*
 * vdev.c - a domain's virtio devices (see vdev.h): the plan from the boot
 * modules, the words on the guest's command line, and the glue between the
 * device models of dev/virtio/ and the domain (its memory map and RAM, its
 * 8259 and I/O APIC, its console, hv's log).
 */
#include "klib.h"

#include "alloc.h"
#include "dev/virtio/blk.h"
#include "dev/virtio/console.h"
#include "dev/virtio/memdisk.h"
#include "domain.h"
#include "log.h"
#include "vdev.h"

/* ---- The plan ------------------------------------------------------------------- */

/* The next blank-separated word of *s (advancing *s past it); its length. */
static size_t next_word(const char **s, const char **word)
{
    const char *p = *s;
    while (*p == ' ')
        p++;
    *word = p;
    while (*p && *p != ' ')
        p++;
    *s = p;
    return (size_t)(p - *word);
}

static bool word_is(const char *w, size_t len, const char *lit)
{
    return strlen(lit) == len && memcmp(w, lit, len) == 0;
}

/* One disk module's string: "PATH [format=raw|qcow2] [readonly=on|off]
 * [snapshot=on|off]", as bin/hvrun writes it from -drive. */
static int parse_disk(struct vdev_spec *s, const struct mb_module *mod, char *err, size_t err_len)
{
    const char *str = mod->string ? (const char *)(uintptr_t)mod->string : "";
    const char *w;
    size_t n = next_word(&str, &w);
    *s = (struct vdev_spec){.kind = VDEV_BLK, .mod = mod, .probe = true};
    if (n == 0 || n >= sizeof(s->path)) {
        ksnprintf(err, err_len, "disk module without a usable file name ('%.40s')", w);
        return -1;
    }
    memcpy(s->path, w, n);
    while ((n = next_word(&str, &w)) > 0) {
        if (word_is(w, n, "format=qcow2") || word_is(w, n, "format=raw")) {
            s->probe = false;
            s->qcow2 = w[7] == 'q';
        } else if (word_is(w, n, "readonly=on") || word_is(w, n, "readonly=off")) {
            s->readonly = word_is(w, n, "readonly=on");
        } else if (word_is(w, n, "snapshot=on") || word_is(w, n, "snapshot=off")) {
            /* Every disk is a snapshot for now (vdev.h): nothing to do. */
        } else {
            ksnprintf(err, err_len, "disk %s: unknown option '%.*s'", s->path, (int)n, w);
            return -1;
        }
    }
    return 0;
}

int vdev_plan(struct vdev_plan *p, const struct mb_module *mods, unsigned nmods, bool console,
              char *err, size_t err_len)
{
    p->n = 0;
    /* Module 0 is the guest; every later one is a disk, in -drive order. */
    for (unsigned i = 1; i < nmods; i++) {
        if (p->n == VDEV_MAX) {
            ksnprintf(err, err_len, "more than %u virtio devices", VDEV_MAX);
            return -1;
        }
        if (parse_disk(&p->spec[p->n], &mods[i], err, err_len) < 0)
            return -1;
        p->n++;
    }
    if (console) {
        if (p->n == VDEV_MAX) {
            ksnprintf(err, err_len, "more than %u virtio devices", VDEV_MAX);
            return -1;
        }
        p->spec[p->n++] = (struct vdev_spec){.kind = VDEV_CONSOLE};
    }
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
    struct memdisk md;
    struct img *img;
    struct virtio_blk blk;
    /* VDEV_CONSOLE, and its output line being collected. */
    struct virtio_console con;
    char line[UART_LINE_MAX];
    size_t line_len;
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

/* imgtool's library in hv: memory from hv's heap; no decompressor yet, so
 * a compressed cluster fails to read (the request gets IOERR, the log says
 * "No decompressor available"); no backing files (opening an overlay
 * fails with "Cannot open backing file"). */
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

static const struct img_env hv_img_env = {.alloc = img_alloc, .free = img_free};

/* A disk: the module's bytes as a file, opened by the library. */
static int open_disk(struct vdev *v, const struct vdev_spec *s, char *err, size_t err_len)
{
    const struct mb_module *m = s->mod;
    memdisk_init(&v->md, (void *)(uintptr_t)m->mod_start, m->mod_end - m->mod_start, kzalloc,
                 kfree);
    struct img_io io;
    memdisk_io(&v->md, &io);
    struct img_err ie = {0};
    const char *fmt = s->probe ? NULL : s->qcow2 ? "qcow2" : "raw";
    if (img_open(&hv_img_env, &io, s->path, fmt, s->readonly ? 0 : IMG_OPEN_RW, &v->img, &ie) < 0) {
        ksnprintf(err, err_len, "disk %s: %s", s->path, ie.msg);
        return -1;
    }
    virtio_blk_init(&v->blk, v->name, v->img, s->readonly);
    return 0;
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
            dev = &v->blk.dev;
        } else {
            ksnprintf(v->name, sizeof(v->name), "virtio-console0");
            virtio_console_init(&v->con, v->name, console_out, v);
            dev = &v->con.dev;
        }
        struct virtq_mem mem = {.ctx = d, .map = vdev_map};
        virtio_mmio_init(&v->t, dev, &mem, vdev_base(i), vdev_irq, v, vdev_log, NULL);
        if (domain_add_mmio(d, &v->t.mmio, err, err_len) < 0)
            return -1;
        if (s->kind == VDEV_BLK)
            hv_log("%s at %#llx irq %u: %s, %llu bytes%s; the guest's writes stay in hv's memory",
                   v->name, (unsigned long long)vdev_base(i), v->gsi, s->path,
                   (unsigned long long)img_size(v->img), s->readonly ? ", read-only" : "");
        else
            hv_log("%s at %#llx irq %u", v->name, (unsigned long long)vdev_base(i), v->gsi);
    }
    return 0;
}
