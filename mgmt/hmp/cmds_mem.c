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
 * A window on the guest memory a command reads, [start, end): requests go
 * to the machine a page (or what is left of the range in it) at a time, so
 * that `x /64xg` costs one request and not one per line, `x /4xb` asks for
 * 4 bytes and not a page, and a read that fails fails as the page it
 * covers (pages are mapped or not as a whole).
 */
struct window {
    struct hmp *m;
    bool physical;
    bool valid, failed;
    uint64_t start, end; /* the command's range */
    uint64_t base, len;  /* what buf holds */
    uint8_t buf[CHUNK];
};

/* Make the window hold `addr`: from there (or the range's start, if
 * later) to the end of its page or of the range. */
static int window_load(struct window *w, uint64_t addr)
{
    if (w->valid && addr >= w->base && addr - w->base < w->len)
        return w->failed ? -1 : 0;
    uint64_t page = addr & ~(uint64_t)(CHUNK - 1);
    uint64_t from = addr > w->start ? addr : w->start;
    uint64_t to = page + CHUNK;
    if (w->end > from && w->end - from < to - from)
        to = w->end;
    struct hmp_err err;
    w->base = from;
    w->len = to - from;
    w->valid = true;
    w->failed = w->m->be->read_mem(w->m->ctx, w->m->dom, w->m->cpu, from, w->buf, (size_t)w->len,
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
    long count = hmp_args_num(a, "count", 1);
    int size = (int)hmp_args_num(a, "size", 4);
    uint64_t addr = (uint64_t)hmp_args_num(a, "addr", 0);
    /* The range the dump reads: count units of the size asked for (with
     * format 'i' the size is -1: the range is then not known). */
    uint64_t len = size > 0 && count > 0 ? (uint64_t)size * (uint64_t)count : 0;
    w = (struct window){.m = m, .physical = physical, .start = addr, .end = addr + len};
    bool can = m->be && m->be->read_mem;
    hmp_memory_dump(m->out, count, (int)hmp_args_num(a, "format", 'x'), size, addr,
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
    w = (struct window){.m = m, .physical = physical, .start = addr, .end = addr + (uint64_t)size};
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
