/*
 * x, xp, print, memsave and pmemsave: guest memory and values, read
 * through the machine's x-read-memory (x, xp) or its bulk path (memsave,
 * pmemsave; bulk.h) and printed or saved as QEMU does.
 */
#include "cmds.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "bulk.h"
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

/* One piece of a save: `len` bytes at `addr` by the bulk path when the
 * machine has one, else through the window (x-read-memory); 0 or -1,
 * with the bulk path's error in *err (the window's has none). */
static int save_read(struct hmp_bulk *b, struct window *w, uint64_t addr, uint8_t *buf, size_t len,
                     struct hmp_err *err)
{
    if (b)
        return hmp_bulk_read(b, addr, buf, len, err);
    if (!w->m->be || !w->m->be->read_mem)
        return -1;
    return window_read(w, addr, buf, len);
}

/*
 * memsave and pmemsave: `size` bytes from `val` into a new file, with
 * QEMU's messages.  The bytes come by the bulk path (bulk.h) when the
 * machine has one.  Unlike QEMU, a failed save leaves no file: the file
 * is written under a temporary name and renamed into place at the end.
 */
static void save(struct hmp *m, const struct hmp_args *a, bool physical)
{
    static struct window w;
    static struct hmp_bulk b;
    static uint8_t buf[1u << 16];
    const char *name = hmp_args_str(a, "filename");
    uint64_t addr = (uint64_t)hmp_args_num(a, "val", 0);
    int64_t size = hmp_args_num(a, "size", 0);
    struct hmp_out out;
    if (hmp_out_open(&out, m, name) < 0)
        return;
    bool bulk = m->be && m->be->save_mem;
    hmp_bulk_init(&b, m, physical, out.chunks, addr + (uint64_t)size);
    w = (struct window){.m = m, .physical = physical, .start = addr, .end = addr + (uint64_t)size};
    struct hmp_err err = {.desc = ""};
    bool ok = true;
    for (int64_t done = 0; ok && done < size; done += (int64_t)sizeof(buf)) {
        size_t n = size - done < (int64_t)sizeof(buf) ? (size_t)(size - done) : sizeof(buf);
        if (save_read(bulk ? &b : NULL, &w, addr + (uint64_t)done, buf, n, &err) < 0) {
            /* The machine's own error, unless it is about the range,
             * which QEMU names as the command gave it. */
            if (err.desc[0] && strncmp(err.desc, "Invalid addr", 12))
                hmp_print_err(m, &err);
            else
                fprintf(m->out, "Error: Invalid addr 0x%016" PRIx64 "/size %" PRId64 " specified\n",
                        addr, size);
            ok = false;
        } else if (fwrite(buf, 1, n, out.f) != n) {
            fprintf(m->out, "Error: An IO error has occurred\n");
            ok = false;
        }
    }
    hmp_bulk_close(&b);
    hmp_out_finish(&out, ok);
}

HMP_HANDLER(hmp_do_memsave)
{
    save(m, a, false);
}

HMP_HANDLER(hmp_do_pmemsave)
{
    save(m, a, true);
}
