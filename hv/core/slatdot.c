/*
 * slatdot.c - the second-level tables as a Graphviz graph (slatdot.h).
 *
 * The tables are read the way the CPU reads them, with slat_walk(), range
 * by range of the memory map; consecutive pages that map alike are joined
 * into one run, and each run becomes an arrow.
 *
 * Reading through slat_walk() rather than through the builder's own
 * bookkeeping is the point: the figure shows what the hardware would
 * find (SDM vol 3C 29.3.2 "EPT Translation Mechanism", APM vol 2 15.25.5
 * "Nested Table Walk"), so a bug in the builder shows up in the picture
 * instead of being papered over by it.  The same file serves both vendors:
 * slat.c hides the EPT and nested-paging entry formats behind one walk.
 *
 * The output goes line by line through a callback, so the freestanding hv
 * prints it on its console (ending.c: dot_line) at the end of a run with
 * `slat-dot`, and the hosted unit tests collect it in a buffer.
 */
#include "klib.h"

#include "slatdot.h"

/* The run being joined: guest start, host start, bytes, page size, perms.
 * A run is what a reader wants to see as one arrow; 512 arrows for one
 * 2 MiB range mapped with 4 KiB pages would hide the shape of the map. */
struct run {
    uint64_t gpa, hpa, len, page;
    unsigned perms;
};

/* What a page allows, as ls(1) shows file modes: "RWX", "R-X", "--X". */
static void perm_text(unsigned perms, char out[4])
{
    /* The SLAT_* bits are vendor-neutral: slat.c maps them to EPT's R/W/X
     * bits or to nested paging's present/writable/no-execute. */
    out[0] = (perms & SLAT_R) ? 'R' : '-';
    out[1] = (perms & SLAT_W) ? 'W' : '-';
    out[2] = (perms & SLAT_X) ? 'X' : '-';
    out[3] = '\0';
}

/* A size for a label: in MiB when it is whole MiB, else in KiB. */
static void size_text(uint64_t bytes, char *buf, unsigned len)
{
    /* Every size here is a whole number of 4 KiB pages, so KiB never
     * rounds; MiB only when exact, so a label never lies about a length. */
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

/* printf one line of dot.  256 bytes holds the lines emit_run and
 * slat_dot write (two addresses, two sizes, a short range name); a longer
 * one would be cut by kvsnprintf, never overrun the buffer. */
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
    /* Past the cap the runs are only counted: slat_dot draws one "N more
     * runs" arrow for them, so the figure stays readable however badly the
     * dirty log or HC_MEM_PROTECT fragmented the tables. */
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
    /* Addresses are printed inclusive (first-last), so a run that ends at
     * a range's end shows the same last address as the range's node. */
    out(p, "  g%u -> h%u_%u [label=\"%#llx-%#llx\\n%s in %s pages, %s\"];", from, from, k,
        (unsigned long long)r->gpa, (unsigned long long)(r->gpa + r->len - 1), len, page, perms);
}

/* Walk one RAM range page by page, emitting its runs when `emit` is set;
 * returns the bytes that are mapped.  slat_dot calls it twice, first only
 * to count (the range's node carries the total and must come first in
 * the dot text), then to draw: walking twice costs less code than
 * keeping every run of a range in memory until its node is printed. */
static uint64_t ram_runs(struct printer *p, const struct slat *s, unsigned node,
                         const struct mem_range *m, bool emit)
{
    struct run r = {0};
    uint64_t mapped = 0, end = m->base + m->size;
    for (uint64_t gpa = m->base; gpa < end;) {
        struct slat_walk w;
        bool ok = slat_walk(s, gpa, &w);
        /* The step: to the end of this page, or over the whole region a
         * missing entry covers; never past the range.  An entry at level L
         * covers 4 KiB << 9 L (512 entries a table, SDM vol 3C 29.3.2 "EPT
         * Translation Mechanism"), so in a lazy domain whose tables are still
         * empty one walk steps over the whole range, not one per page.  The mask also
         * handles a range that starts inside a large page. */
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
        /* A hole ends the run above and starts nothing: unmapped pages have
         * no arrow, and the node's "mapped" total says how much is missing. */
        if (ok) {
            if (!r.len)
                r = (struct run){gpa, w.hpa, 0, w.page_size, w.perms};
            r.len += step;
            mapped += step;
        }
        gpa += step;
    }
    /* The last run has no following piece to end it. */
    if (r.len && emit)
        emit_run(p, node, &r);
    return mapped;
}

void slat_dot(const struct slat *s, const struct memmap *m,
              void (*line)(void *ctx, const char *text), void *ctx)
{
    struct printer p = {.line = line, .ctx = ctx};
    /* Left to right reads like the translation itself, guest-physical in,
     * host-physical out; the title names the format (EPT or NPT) so that a
     * figure from one backend is never mistaken for the other's. */
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
        /* How the range is shown to the guest in its Multiboot memory map:
         * RAM hv maps but does not report stays visible in the figure. */
        static const char *const report[] = {"not reported", "available", "reserved"};
        if (r->kind == MEM_RAM) {
            /* The node first, with what is mapped of it; then its runs.  The
             * cap on arrows counts per range, so one fragmented range does
             * not crowd out the others. */
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
            /* Never mapped: an access exits, to the device or to the end.
             * Dashed, because no table entry stands behind the node: the
             * NPF or EPT violation is the whole mechanism (APM vol 2
             * 15.25.6 "Nested versus Guest Page Faults, Fault Ordering",
             * SDM vol 3C 29.3.3 "EPT-Induced VM Exits"). */
            out(&p, "  g%u [label=\"%#llx-%#llx\\n%s\\n%s\", style=dashed];", i, first, last,
                r->name,
                r->kind == MEM_MMIO ? "MMIO: every access exits to its device"
                                    : "reserved: nothing there, an access ends the guest");
        }
    }
    out(&p, "}");
}
