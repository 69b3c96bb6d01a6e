/*
 * dump-guest-memory: the guest's RAM and every vCPU's registers into an
 * ELF core (elfcore.h) that gdb and crash read.
 */
#include "cmds.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

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

HMP_HANDLER(hmp_do_dump_guest_memory)
{
    static struct hmp_regs regs[HMP_MAX_CPUS];
    struct hmp_core_range range;
    if (!options_ok(m, a) || range_of(m, a, &range) < 0)
        return;
    int ncpus = all_regs(m, regs);
    if (ncpus < 0)
        return;
    const char *name = hmp_args_str(a, "filename");
    FILE *f = fopen(name, "wb");
    if (!f) {
        fprintf(m->out, "Error: Could not open '%s': %s\n", name, strerror(errno));
        return;
    }
    struct hmp_err err;
    int rc = hmp_write_core(f, regs, ncpus, &range, 1, core_read, m, &err);
    if (fclose(f) != 0 && rc == 0) {
        snprintf(err.desc, sizeof(err.desc), "An IO error has occurred");
        rc = -1;
    }
    /* A dump that failed half way is no dump: remove it. */
    if (rc < 0) {
        unlink(name);
        hmp_print_err(m, &err);
    }
}
