/*
 * slatdot.c - the second-level tables as a Graphviz graph (slatdot.h).
 *
 * The tables are read the way the CPU reads them, with slat_walk(), range
 * by range of the memory map; consecutive pages that map alike are joined
 * into one run, and each run becomes an arrow.
 */
#include "klib.h"

#include "slatdot.h"

/* The run being joined: guest start, host start, bytes, page size, perms. */
struct run {
    uint64_t gpa, hpa, len, page;
    unsigned perms;
};

/* What a page allows, as ls(1) shows file modes: "RWX", "R-X", "--X". */
static void perm_text(unsigned perms, char out[4])
{
    out[0] = (perms & SLAT_R) ? 'R' : '-';
    out[1] = (perms & SLAT_W) ? 'W' : '-';
    out[2] = (perms & SLAT_X) ? 'X' : '-';
    out[3] = '\0';
}

/* A size for a label: in MiB when it is whole MiB, else in KiB. */
static void size_text(uint64_t bytes, char *buf, unsigned len)
{
    if (bytes >= (1ull << 20) && !(bytes & ((1ull << 20) - 1)))
        ksnprintf(buf, len, "%llu MiB", (unsigned long long)(bytes >> 20));
    else
        ksnprintf(buf, len, "%llu KiB", (unsigned long long)(bytes >> 10));
}

/* Everything the printer carries from range to range. */
struct printer {
    void (*line)(void *ctx, const char *text);
    void *ctx;
    unsigned arrows; /* arrows from the current range */
    unsigned more;   /* runs past SLATDOT_MAX_RUNS in the current range */
};

/* printf one line of dot. */
static void out(struct printer *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void out(struct printer *p, const char *fmt, ...)
{
    char text[256];
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    p->line(p->ctx, text);
}

/* One run from guest range node `from`: a host node and an arrow to it. */
static void emit_run(struct printer *p, unsigned from, const struct run *r)
{
    if (p->arrows == SLATDOT_MAX_RUNS) {
        p->more++;
        return;
    }
    /* The host node is named after its range and its place in it: h4_0
     * is the first run of range 4. */
    unsigned k = p->arrows++;
    char perms[4];
    perm_text(r->perms, perms);
    out(p, "  h%u_%u [label=\"host %#llx-%#llx\"];", from, k, (unsigned long long)r->hpa,
        (unsigned long long)(r->hpa + r->len - 1));
    char len[24], page[24];
    size_text(r->len, len, sizeof(len));
    size_text(r->page, page, sizeof(page));
    out(p, "  g%u -> h%u_%u [label=\"%#llx-%#llx\\n%s in %s pages, %s\"];", from, from, k,
        (unsigned long long)r->gpa, (unsigned long long)(r->gpa + r->len - 1), len, page, perms);
}

/* Walk one RAM range page by page, emitting its runs when `emit` is set;
 * returns the bytes that are mapped. */
static uint64_t ram_runs(struct printer *p, const struct slat *s, unsigned node,
                         const struct mem_range *m, bool emit)
{
    struct run r = {0};
    uint64_t mapped = 0, end = m->base + m->size;
    for (uint64_t gpa = m->base; gpa < end;) {
        struct slat_walk w;
        bool ok = slat_walk(s, gpa, &w);
        /* The step: to the end of this page, or over the whole region a
         * missing entry covers; never past the range. */
        uint64_t span = ok ? w.page_size : 1ull << (12 + 9 * w.level);
        uint64_t step = span - (gpa & (span - 1));
        if (step > end - gpa)
            step = end - gpa;
        /* Does this piece continue the run (same page size and perms, both
         * sides contiguous)?  If not, the run so far is complete. */
        bool joins = ok && r.len && r.gpa + r.len == gpa && r.hpa + r.len == w.hpa &&
                     r.page == w.page_size && r.perms == w.perms;
        if (!joins && r.len) {
            if (emit)
                emit_run(p, node, &r);
            r.len = 0;
        }
        if (ok) {
            if (!r.len)
                r = (struct run){gpa, w.hpa, 0, w.page_size, w.perms};
            r.len += step;
            mapped += step;
        }
        gpa += step;
    }
    if (r.len && emit)
        emit_run(p, node, &r);
    return mapped;
}

void slat_dot(const struct slat *s, const struct memmap *m,
              void (*line)(void *ctx, const char *text), void *ctx)
{
    struct printer p = {.line = line, .ctx = ctx};
    out(&p, "digraph slat {");
    out(&p, "  rankdir=LR; labelloc=t;");
    out(&p, "  label=\"%s: guest-physical (left) to host-physical (right)\";", s->fmt->name);
    out(&p, "  node [shape=box, fontname=\"monospace\", fontsize=10];");
    out(&p, "  edge [fontname=\"monospace\", fontsize=9];");
    /* Highest range first: with rankdir=LR, Graphviz stacks a column's
     * nodes bottom-up in the order they appear, so low addresses come out
     * on top, as in a memory map. */
    for (unsigned i = m->n; i-- > 0;) {
        const struct mem_range *r = &m->r[i];
        unsigned long long first = r->base, last = r->base + (r->size - 1);
        static const char *const report[] = {"not reported", "available", "reserved"};
        if (r->kind == MEM_RAM) {
            /* The node first, with what is mapped of it; then its runs. */
            p.arrows = p.more = 0;
            uint64_t mapped = ram_runs(&p, s, i, r, false);
            out(&p, "  g%u [label=\"%#llx-%#llx\\n%s\\nRAM, %s\\n%llu of %llu KiB mapped\"];", i,
                first, last, r->name, report[r->report], (unsigned long long)(mapped >> 10),
                (unsigned long long)(r->size >> 10));
            ram_runs(&p, s, i, r, true);
            if (p.more)
                out(&p, "  g%u -> more%u [label=\"%u more runs\"]; more%u [label=\"...\"];", i, i,
                    p.more, i);
        } else {
            /* Never mapped: an access exits, to the device or to the end. */
            out(&p, "  g%u [label=\"%#llx-%#llx\\n%s\\n%s\", style=dashed];", i, first, last,
                r->name,
                r->kind == MEM_MMIO ? "MMIO: every access exits to its device"
                                    : "reserved: nothing there, an access ends the guest");
        }
    }
    out(&p, "}");
}
