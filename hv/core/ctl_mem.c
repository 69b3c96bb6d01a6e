/*
 * ctl_mem.c - the control protocol's pmemsave and memsave
 * (docs/control-protocol.md "Guest memory into a file"): QMP's commands of
 * the same names, a range of guest memory into a host file, by
 * guest-physical address or through a vCPU's page tables.
 *
 * The bytes travel on the block path, as a saved domain's state does
 * (vmfile.c): the manager names the staging disk's save region ("disk",
 * "offset") in place of the front-end's "filename", hv writes the range
 * there (memfile.c) and the manager copies it into the file once hv has
 * answered.  x-read-memory's way, 4 KiB of hex a request on a serial
 * line, moves a few KiB a second; this one moves the range at the speed
 * of the outer machine's disk.
 *
 * While hv writes, no guest runs (hv carries out one request at a time
 * between guest runs), so the range is one moment's memory, as QEMU's
 * is while the monitor holds its lock.
 *
 * The rows are a table of their own, ctl_memory_commands (ctl.h): the
 * hosted builds of the dispatcher leave hv's disks out.
 */
#include "klib.h"

#include "ctl.h"
#include "disk/outer.h"
#include "hv.h"
#include "log.h"
#include "memfile.h"
#include "vmwork.h"

/* The vCPU memsave translates through: QMP's "cpu-index" (default 0),
 * with QMP's words for one the domain does not have. */
static int arg_cpu_index(struct ctl_req *r, struct domain *d, struct vcpu **v)
{
    uint64_t cpu;
    if (ctl_arg_u64(r, CTL_ARG_CPU_INDEX, false, 0, &cpu) < 0)
        return -1;
    if (cpu >= d->nr_vcpus)
        return ctl_error(r, CTL_ERR_INVALID_PARAMETER,
                         "Parameter 'cpu-index' expects a CPU number");
    *v = d->vcpu[cpu];
    return 0;
}

/* The range and its place: "val", "size" (at most the save region), and
 * "disk", "offset".  The range may not wrap around the address space. */
static int arg_range(struct ctl_req *r, uint64_t *addr, uint64_t *size, struct img_io *io,
                     uint64_t *at)
{
    uint64_t disk;
    const char *why = "";
    if (ctl_arg_u64(r, CTL_ARG_VAL, true, 0, addr) < 0 ||
        ctl_arg_u64(r, CTL_ARG_SIZE, true, 0, size) < 0 ||
        ctl_arg_u64(r, CTL_ARG_DISK, true, 0, &disk) < 0 ||
        ctl_arg_u64(r, CTL_ARG_OFFSET, true, 0, at) < 0)
        return -1;
    if (*size > CTL_STAGE_SAVE_MAX)
        return ctl_error(r, CTL_ERR_INVALID_PARAMETER,
                         "argument 'size' must be at most %llu bytes (the staging disk's save "
                         "region)",
                         (unsigned long long)CTL_STAGE_SAVE_MAX);
    if (*size && *addr + *size - 1 < *addr)
        return ctl_error(r, CTL_ERR_INVALID_PARAMETER,
                         "0x%llx + %llu bytes wraps around the address space",
                         (unsigned long long)*addr, (unsigned long long)*size);
    if (outer_disk_io((unsigned)(disk > 255 ? 255 : disk), true, io, &why) < 0)
        return ctl_error(r, CTL_ERR_GENERIC, "outer disk %llu: %s", (unsigned long long)disk, why);
    return 0;
}

/* pmemsave (physical) or memsave: the range into its place, flushed. */
static int mem_save(struct ctl_req *r, bool physical)
{
    struct domain *d;
    struct vcpu *v = NULL;
    struct img_io io;
    struct gva_walk why;
    uint64_t addr, size, at;
    if (ctl_arg_domain(r, &d) < 0 || (!physical && arg_cpu_index(r, d, &v) < 0) ||
        arg_range(r, &addr, &size, &io, &at) < 0)
        return -1;
    /* A domain that has ended and given its memory back has none to save. */
    if (d->torn_down)
        return ctl_error(r, CTL_ERR_GENERIC, "domain %u has ended (%s) and is gone", d->id,
                         domain_state_name(d->state));
    uint64_t t0 = vmwork_now_ns(d);
    enum memfile_rc rc;
    if (physical) {
        rc = memfile_phys(&d->mem, addr, size, &io, at);
    } else {
        /* The backend reads a vCPU's paging state only while the CPU has
         * it loaded (VT-x's current VMCS). */
        host_load_vcpu(r->host, v);
        struct gva_ctx c = gva_ctx_of(v);
        rc = memfile_virt(&c, addr, size, &io, at, &why);
    }
    if (rc == MEMFILE_OK && io.flush(io.ctx) < 0)
        rc = MEMFILE_IO;
    /* QEMU's words (system/cpus.c): memsave's for a page it cannot read,
     * QERR_IO_ERROR's for a write that failed. */
    if (rc == MEMFILE_UNMAPPED)
        return ctl_error(r, CTL_ERR_GENERIC, "Invalid addr 0x%016llx/size %llu specified",
                         (unsigned long long)addr, (unsigned long long)size);
    if (rc == MEMFILE_IO)
        return ctl_error(r, CTL_ERR_GENERIC, "An IO error has occurred");
    hv_log("%s: domain %u: %llu bytes from 0x%llx in %llu ms",
           physical ? CTL_CMD_PMEMSAVE : CTL_CMD_MEMSAVE, d->id, (unsigned long long)size,
           (unsigned long long)addr, (unsigned long long)((vmwork_now_ns(d) - t0) / 1000000));
    json_obj_begin(r->out);
    json_obj_end(r->out);
    return 0;
}

static int ctl_pmemsave(struct ctl_req *r)
{
    return mem_save(r, true);
}

static int ctl_memsave(struct ctl_req *r)
{
    return mem_save(r, false);
}

static const char *const pmemsave_args[] = {CTL_ARG_DOMAIN, CTL_ARG_VAL,    CTL_ARG_SIZE,
                                            CTL_ARG_DISK,   CTL_ARG_OFFSET, NULL};
static const char *const memsave_args[] = {
    CTL_ARG_DOMAIN, CTL_ARG_VAL,       CTL_ARG_SIZE, CTL_ARG_DISK,
    CTL_ARG_OFFSET, CTL_ARG_CPU_INDEX, NULL};

const struct ctl_cmd ctl_memory_commands[] = {
    {CTL_CMD_PMEMSAVE, pmemsave_args, ctl_pmemsave},
    {CTL_CMD_MEMSAVE, memsave_args, ctl_memsave},
    {NULL, NULL, NULL},
};
