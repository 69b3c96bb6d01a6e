/*
 * help and the info sub-commands.
 */
#include "cmds.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cmdtab.h"
#include "hosted/qemu_text.h"
#include "pagewalk.h"
#include "parse.h"
#include "regs.h"
#include "status.h"

HMP_HANDLER(hmp_do_help)
{
    hmp_help(m->out, hmp_cmds, hmp_args_str(a, "name"));
}

/* `info` alone lists the info sub-commands, as `help info` does. */
HMP_HANDLER(hmp_do_info)
{
    (void)a;
    hmp_help(m->out, hmp_cmds, "info");
}

HMP_HANDLER(hmp_info_status)
{
    (void)a;
    struct hmp_status st;
    struct hmp_err err;
    if (!m->be || !m->be->status) {
        fprintf(m->out, "Error: %s\n", HMP_UNSUPPORTED);
        return;
    }
    if (m->be->status(m->ctx, m->dom, &st, &err) < 0)
        hmp_print_err(m, &err);
    else
        hmp_print_status(m->out, &st);
}

/* The domain's description, or -1 after printing why there is none. */
static int domain(struct hmp *m, struct hmp_domain *d)
{
    struct hmp_err err;
    if (!m->be || !m->be->domain) {
        fprintf(m->out, "Error: %s\n", HMP_UNSUPPORTED);
        return -1;
    }
    if (m->be->domain(m->ctx, m->dom, d, &err) < 0) {
        hmp_print_err(m, &err);
        return -1;
    }
    return 0;
}

/* QEMU prints the name only when the machine has one (-name). */
HMP_HANDLER(hmp_info_name)
{
    (void)a;
    struct hmp_domain d;
    if (domain(m, &d) == 0 && d.name[0])
        fprintf(m->out, "%s\n", d.name);
}

HMP_HANDLER(hmp_info_uuid)
{
    (void)a;
    struct hmp_domain d;
    if (domain(m, &d) == 0)
        fprintf(m->out, "%s\n", d.uuid[0] ? d.uuid : "00000000-0000-0000-0000-000000000000");
}

/* QEMU prints MAJOR.MINOR.MICRO followed by its package string; hv's
 * version has no micro part and its package goes in brackets. */
HMP_HANDLER(hmp_info_version)
{
    (void)a;
    int v[3];
    char package[64];
    struct hmp_err err;
    if (!m->be || !m->be->version) {
        fprintf(m->out, "Error: %s\n", HMP_UNSUPPORTED);
        return;
    }
    if (m->be->version(m->ctx, v, package, sizeof(package), &err) < 0)
        hmp_print_err(m, &err);
    else
        fprintf(m->out, "%d.%d.%d (%s)\n", v[0], v[1], v[2], package);
}

/* The vCPUs, or -1 after printing why there are none. */
static int cpus(struct hmp *m, struct hmp_cpu *c)
{
    struct hmp_err err;
    if (!m->be || !m->be->cpus) {
        fprintf(m->out, "Error: %s\n", HMP_UNSUPPORTED);
        return -1;
    }
    int n = m->be->cpus(m->ctx, m->dom, c, HMP_MAX_CPUS, &err);
    if (n < 0)
        hmp_print_err(m, &err);
    return n;
}

/* One vCPU's registers; false after printing why not. */
static bool regs_of(struct hmp *m, int cpu, struct hmp_regs *r)
{
    struct hmp_err err;
    if (!m->be || !m->be->regs) {
        fprintf(m->out, "No CPU available\n");
        return false;
    }
    if (m->be->regs(m->ctx, m->dom, cpu, r, &err) < 0) {
        hmp_print_err(m, &err);
        return false;
    }
    return true;
}

HMP_HANDLER(hmp_info_registers)
{
    struct hmp_cpu c[HMP_MAX_CPUS];
    struct hmp_regs r;
    int n = cpus(m, c);
    if (n < 0)
        return;
    if (hmp_args_has(a, "cpustate_all")) {
        for (int i = 0; i < n; i++)
            if (regs_of(m, c[i].index, &r))
                hmp_print_regs(m->out, c[i].index, &r);
        return;
    }
    int want = (int)hmp_args_num(a, "vcpu", m->cpu);
    for (int i = 0; i < n; i++)
        if (c[i].index == want) {
            if (regs_of(m, want, &r))
                hmp_print_regs(m->out, want, &r);
            return;
        }
    if (hmp_args_has(a, "vcpu"))
        fprintf(m->out, "CPU#%d not available\n", want);
    else
        fprintf(m->out, "No CPU available\n");
}

/* QEMU 7.2 prints each vCPU's host thread; hv's vCPUs are not host
 * threads, so hvkit says whether the vCPU is halted instead. */
HMP_HANDLER(hmp_info_cpus)
{
    (void)a;
    struct hmp_cpu c[HMP_MAX_CPUS];
    int n = cpus(m, c);
    for (int i = 0; i < n; i++)
        fprintf(m->out, "%c CPU #%d:%s\n", c[i].index == m->cpu ? '*' : ' ', c[i].index,
                c[i].halted ? " (halted)" : "");
}

/* Page tables are read through the machine, a table (one page) a time. */
static int read_table(void *ctx, uint64_t addr, uint64_t entries[512])
{
    struct hmp *m = ctx;
    struct hmp_err err;
    return m->be->read_mem(m->ctx, m->dom, m->cpu, addr, entries, 4096, true, &err);
}

/* CR0.PG and EFER.LMA (SDM vol 3A 2.5 "Control Registers", 2.2.1
 * "Extended Feature Enable Register"). */
#define CR0_PG   (1ull << 31)
#define EFER_LMA (1ull << 10)

/* info tlb and info mem: the current vCPU's page tables, if it pages. */
static void walk(struct hmp *m, void (*fn)(FILE *, uint64_t, hmp_table_fn, void *))
{
    struct hmp_regs r;
    if (!regs_of(m, m->cpu, &r))
        return;
    if (!(r.cr0 & CR0_PG)) {
        fprintf(m->out, "PG disabled\n");
        return;
    }
    if (!(r.efer & EFER_LMA) || !m->be->read_mem) {
        fprintf(m->out, "hvkit's monitor walks 4-level (IA-32e) page tables only\n");
        return;
    }
    fn(m->out, r.cr3, read_table, m);
}

HMP_HANDLER(hmp_info_tlb)
{
    (void)a;
    walk(m, hmp_tlb_info);
}

HMP_HANDLER(hmp_info_mem)
{
    (void)a;
    walk(m, hmp_mem_info);
}

/* info block: one line per disk in the shape of QEMU's first line,
 * "virtio0 (#block0): FILE (FORMAT)", with QEMU's ", read-only" mark; a
 * removable drive without a medium is "ide1-cd0: [not inserted]", and a
 * removable drive has QEMU's line on its lock and tray below. */
HMP_HANDLER(hmp_info_block)
{
    struct hmp_block b[HMP_MAX_BLOCKS];
    struct hmp_err err;
    const char *only = hmp_args_str(a, "device");
    if (!m->be || !m->be->block)
        return;
    int n = m->be->block(m->ctx, m->dom, b, HMP_MAX_BLOCKS, &err);
    if (n < 0) {
        hmp_print_err(m, &err);
        return;
    }
    for (int i = 0; i < n; i++) {
        if (only && strcmp(only, b[i].device))
            continue;
        if (b[i].inserted)
            fprintf(m->out, "%s (#block%d): %s (%s%s)\n", b[i].device, i, b[i].file, b[i].format,
                    b[i].ro ? ", read-only" : "");
        else
            fprintf(m->out, "%s: [not inserted]\n", b[i].device);
        if (b[i].removable)
            fprintf(m->out, "    Removable device: %slocked, tray %s\n", b[i].locked ? "" : "not ",
                    b[i].tray_open ? "open" : "closed");
    }
}

/* info blockstats, as QEMU 7.2's hmp_info_blockstats() prints it: one line
 * a disk, its name and eleven counters in QEMU's order (writes' time
 * before reads'), idle_time_ns 0 for a disk that saw no request yet. */
HMP_HANDLER(hmp_info_blockstats)
{
    (void)a;
    struct hmp_blockstats s[HMP_MAX_BLOCKS];
    struct hmp_err err;
    if (!m->be || !m->be->blockstats)
        return;
    int n = m->be->blockstats(m->ctx, m->dom, s, HMP_MAX_BLOCKS, &err);
    if (n < 0) {
        hmp_print_err(m, &err);
        return;
    }
    for (int i = 0; i < n; i++)
        fprintf(m->out,
                "%s: rd_bytes=%" PRIu64 " wr_bytes=%" PRIu64 " rd_operations=%" PRIu64
                " wr_operations=%" PRIu64 " flush_operations=%" PRIu64 " wr_total_time_ns=%" PRIu64
                " rd_total_time_ns=%" PRIu64 " flush_total_time_ns=%" PRIu64 " rd_merged=%" PRIu64
                " wr_merged=%" PRIu64 " idle_time_ns=%" PRIu64 "\n",
                s[i].device, s[i].rd_bytes, s[i].wr_bytes, s[i].rd_operations, s[i].wr_operations,
                s[i].flush_operations, s[i].wr_total_time_ns, s[i].rd_total_time_ns,
                s[i].flush_total_time_ns, s[i].rd_merged, s[i].wr_merged,
                s[i].has_idle ? s[i].idle_time_ns : 0);
}

/* info snapshots, as QEMU 7.2's hmp_info_snapshots() prints it: the
 * table of qemu-img's `snapshot -l` (imgtool's img_snapshot_line, shared
 * with it) under "List of snapshots present on all disks:", each ID
 * replaced by "--" because QEMU cannot promise one ID across disks.  hv
 * keeps snapshots on one disk only, so every snapshot is on "all" disks. */
HMP_HANDLER(hmp_info_snapshots)
{
    (void)a;
    static struct img_snapshot_info sn[HMP_MAX_SNAPSHOTS];
    struct hmp_err err = {{0}, {0}};
    char line[512];
    int n = -1;
    if (m->be && m->be->snapshots)
        n = m->be->snapshots(m->ctx, m->dom, sn, HMP_MAX_SNAPSHOTS, &err);
    if (n < 0) {
        /* No machine, or an hv without query-snapshots: QEMU's words for a
         * machine with no disk that can hold snapshots. */
        bool none = !err.desc[0] || !strcmp(err.cls, "CommandNotFound");
        fprintf(m->out, "%s\n", none ? "no block device can store vmstate for snapshot" : err.desc);
        return;
    }
    if (n == 0) {
        fprintf(m->out, "There is no snapshot available.\n");
        return;
    }
    fprintf(m->out, "List of snapshots present on all disks:\n");
    img_snapshot_line(line, sizeof(line), NULL);
    fprintf(m->out, "%s\n", line);
    for (int i = 0; i < n; i++) {
        snprintf(sn[i].id, sizeof(sn[i].id), "--");
        img_snapshot_line(line, sizeof(line), &sn[i]);
        fprintf(m->out, "%s\n", line);
    }
}

/* hv is not KVM: the answer QEMU gives without it. */
HMP_HANDLER(hmp_info_kvm)
{
    (void)a;
    fprintf(m->out, "kvm support: disabled\n");
}

/* QEMU prints its migration globals (settings of QEMU itself) and, once a
 * migration ran, its status; hv has neither, so nothing is printed. */
HMP_HANDLER(hmp_info_migrate)
{
    (void)a;
    (void)m;
}
