/*
 * dump-guest-memory: the guest's RAM and every vCPU's registers into an
 * ELF core (elfcore.h) that gdb and crash read.  The RAM comes by the
 * machine's bulk path (bulk.h) a chunk at a time, and the domain is
 * paused meanwhile if it ran, as QEMU pauses it for a dump.
 */
#include "cmds.h"

#include "bulk.h"
#include "elfcore.h"

/* Reads for the core: guest-physical, through the machine. */
static int core_read(void *ctx, uint64_t addr, void *buf, size_t len, struct hmp_err *err)
{
    struct hmp *m = ctx;
    return m->be->read_mem(m->ctx, m->dom, m->cpu, addr, buf, len, true, err);
}

/* Refuse what hvkit's dump does not do, with QEMU's words where QEMU has
 * them.  Returns false after printing why. */
static bool options_ok(struct hmp *m, const struct hmp_args *a)
{
    if (hmp_args_has(a, "zlib") || hmp_args_has(a, "lzo") || hmp_args_has(a, "snappy") ||
        hmp_args_has(a, "windmp")) {
        fprintf(m->out, "Error: hvkit writes ELF dumps only (no -z, -l, -s or -w)\n");
        return false;
    }
    if (hmp_args_has(a, "paging")) {
        fprintf(m->out, "Error: hvkit's dump has no -p: its PT_LOAD segments carry the "
                        "guest-physical addresses\n");
        return false;
    }
    if (hmp_args_has(a, "begin") != hmp_args_has(a, "length")) {
        fprintf(m->out, "Error: Parameter '%s' is missing\n",
                hmp_args_has(a, "begin") ? "length" : "begin");
        return false;
    }
    if (!m->be || !m->be->read_mem || !m->be->regs || !m->be->cpus || !m->be->domain) {
        fprintf(m->out, "Error: %s\n", HMP_UNSUPPORTED);
        return false;
    }
    return true;
}

/* The guest RAM to dump: [0, memory) or its part in [begin, begin+length).
 * hv backs the whole range below the guest's RAM size with RAM. */
static int range_of(struct hmp *m, const struct hmp_args *a, struct hmp_core_range *r)
{
    struct hmp_domain d;
    struct hmp_err err;
    if (m->be->domain(m->ctx, m->dom, &d, &err) < 0) {
        hmp_print_err(m, &err);
        return -1;
    }
    uint64_t start = 0, end = d.memory;
    if (hmp_args_has(a, "begin")) {
        uint64_t b = (uint64_t)hmp_args_num(a, "begin", 0);
        uint64_t l = (uint64_t)hmp_args_num(a, "length", 0);
        start = b < end ? b : end;
        end = l <= end - start ? start + l : end;
    }
    if (end <= start) {
        fprintf(m->out, "Error: the range asked for holds no guest RAM\n");
        return -1;
    }
    *r = (struct hmp_core_range){.start = start, .size = end - start};
    return 0;
}

/* Every vCPU's registers, in index order; the count, or -1. */
static int all_regs(struct hmp *m, struct hmp_regs *regs)
{
    struct hmp_cpu c[HMP_MAX_CPUS];
    struct hmp_err err;
    int n = m->be->cpus(m->ctx, m->dom, c, HMP_MAX_CPUS, &err);
    for (int i = 0; i < n; i++)
        if (m->be->regs(m->ctx, m->dom, c[i].index, &regs[i], &err) < 0)
            n = -1;
    if (n < 0)
        hmp_print_err(m, &err);
    return n;
}

/* Pause a running domain for the dump, as QEMU's dump does (a STOP
 * event, then RESUME): true when it was running and is now paused.  The
 * output's guard is told before the stop goes out, so a monitor killed
 * while the stop is on its way still has the domain resumed (a cont to a
 * domain the stop never reached does nothing). */
static bool pause_for_dump(struct hmp *m, struct hmp_out *out)
{
    struct hmp_status st;
    struct hmp_err err;
    if (!m->be->status || !m->be->simple || m->be->status(m->ctx, m->dom, &st, &err) < 0 ||
        !st.running)
        return false;
    guard_step(&out->guard, HMP_OUT_PAUSING);
    if (m->be->simple(m->ctx, m->dom, "stop", &err) == 0)
        return true;
    guard_step(&out->guard, HMP_OUT_RESUMED);
    return false;
}

/* The domain pause_for_dump paused runs again. */
static void resume_after_dump(struct hmp *m, struct hmp_out *out)
{
    struct hmp_err err;
    m->be->simple(m->ctx, m->dom, "cont", &err);
    guard_step(&out->guard, HMP_OUT_RESUMED);
}

HMP_HANDLER(hmp_do_dump_guest_memory)
{
    static struct hmp_regs regs[HMP_MAX_CPUS];
    static struct hmp_bulk bulk;
    struct hmp_core_range range;
    struct hmp_out out;
    if (!options_ok(m, a) || range_of(m, a, &range) < 0 ||
        hmp_out_open(&out, m, hmp_args_str(a, "filename")) < 0)
        return;
    bool paused = pause_for_dump(m, &out);
    int ncpus = all_regs(m, regs);
    struct hmp_err err;
    int rc = -1;
    if (ncpus >= 0) {
        /* RAM by the bulk path when the machine has one (a chunk at a
         * time, through files beside the core), else page by page. */
        hmp_bulk_init(&bulk, m, true, out.chunks, range.start + range.size);
        bool fast = m->be->save_mem != NULL;
        rc = hmp_write_core(out.f, regs, ncpus, &range, 1, fast ? hmp_bulk_read : core_read,
                            fast ? (void *)&bulk : m, &err);
        hmp_bulk_close(&bulk);
        if (rc < 0)
            hmp_print_err(m, &err);
    }
    if (paused)
        resume_after_dump(m, &out);
    /* A dump that failed half way is no dump: nothing is left. */
    hmp_out_finish(&out, rc == 0);
}
