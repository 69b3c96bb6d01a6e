/*
 * x, xp, print, memsave and pmemsave: guest memory and values, read
 * through the machine's x-read-memory and printed as QEMU prints them.
 */
#include "cmds.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "memdump.h"

/* The most one read asks for (the protocol's x-read-memory limit). */
#define CHUNK 4096

/*
 * A window on guest memory: reads go to the machine a page-aligned chunk
 * at a time, so that `x /64xg` costs one request and not one per line, and
 * a chunk that fails fails as the page it covers.
 */
struct window {
    struct hmp *m;
    bool physical;
    bool valid, failed;
    uint64_t base;
    uint8_t buf[CHUNK];
};

/* Make the window show the chunk that holds `addr`. */
static int window_load(struct window *w, uint64_t addr)
{
    uint64_t base = addr & ~(uint64_t)(CHUNK - 1);
    if (w->valid && w->base == base)
        return w->failed ? -1 : 0;
    struct hmp_err err;
    w->base = base;
    w->valid = true;
    w->failed = w->m->be->read_mem(w->m->ctx, w->m->dom, w->m->cpu, base, w->buf, CHUNK,
                                   w->physical, &err) < 0;
    return w->failed ? -1 : 0;
}

/* hmp_read_fn over the window: byte by byte across chunk boundaries. */
static int window_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
    struct window *w = ctx;
    uint8_t *out = buf;
    for (size_t i = 0; i < len; i++) {
        if (window_load(w, addr + i) < 0)
            return -1;
        out[i] = w->buf[(addr + i) - w->base];
    }
    return 0;
}

/* A machine that cannot read memory reads nothing: every line says
 * "Cannot access memory", as QEMU says for an unmapped address. */
static int no_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
    (void)ctx, (void)addr, (void)buf, (void)len;
    return -1;
}

static void dump(struct hmp *m, const struct hmp_args *a, bool physical)
{
    static struct window w; /* 4 KiB: not on the stack */
    w = (struct window){.m = m, .physical = physical};
    bool can = m->be && m->be->read_mem;
    hmp_memory_dump(m->out, hmp_args_num(a, "count", 1), (int)hmp_args_num(a, "format", 'x'),
                    (int)hmp_args_num(a, "size", 4), (uint64_t)hmp_args_num(a, "addr", 0),
                    can ? window_read : no_read, &w);
}

HMP_HANDLER(hmp_do_x)
{
    dump(m, a, false);
}

HMP_HANDLER(hmp_do_xp)
{
    dump(m, a, true);
}

HMP_HANDLER(hmp_do_print)
{
    hmp_print_value(m->out, (int)hmp_args_num(a, "format", 'x'),
                    (uint64_t)hmp_args_num(a, "val", 0));
}

/*
 * memsave and pmemsave: `size` bytes from `val` into a new file, with
 * QEMU's messages.  Unlike QEMU, a failed save removes the file it began,
 * so that a failed command leaves nothing behind.
 */
static void save(struct hmp *m, const struct hmp_args *a, bool physical)
{
    const char *name = hmp_args_str(a, "filename");
    uint64_t addr = (uint64_t)hmp_args_num(a, "val", 0);
    int64_t size = hmp_args_num(a, "size", 0);
    FILE *f = fopen(name, "wb");
    if (!f) {
        fprintf(m->out, "Error: Could not open '%s': %s\n", name, strerror(errno));
        return;
    }
    static struct window w;
    w = (struct window){.m = m, .physical = physical};
    bool ok = true;
    uint8_t buf[256];
    for (int64_t done = 0; ok && done < size; done += (int64_t)sizeof(buf)) {
        size_t n = size - done < (int64_t)sizeof(buf) ? (size_t)(size - done) : sizeof(buf);
        if (!m->be || !m->be->read_mem || window_read(&w, addr + (uint64_t)done, buf, n) < 0) {
            fprintf(m->out, "Error: Invalid addr 0x%016" PRIx64 "/size %" PRId64 " specified\n",
                    addr, size);
            ok = false;
        } else if (fwrite(buf, 1, n, f) != n) {
            fprintf(m->out, "Error: An IO error has occurred\n");
            ok = false;
        }
    }
    if (fclose(f) != 0 && ok) {
        fprintf(m->out, "Error: An IO error has occurred\n");
        ok = false;
    }
    if (!ok)
        unlink(name);
}

HMP_HANDLER(hmp_do_memsave)
{
    save(m, a, false);
}

HMP_HANDLER(hmp_do_pmemsave)
{
    save(m, a, true);
}
