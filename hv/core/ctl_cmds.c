/*
 * ctl_cmds.c - the control protocol's command table, and the commands
 * that query hv's domains or change their state
 * (docs/control-protocol.md "Commands").
 *
 * The state changes are domain.h's lifecycle operations (stop is
 * domain_pause(), cont domain_unpause(), ...): they only record what is
 * asked and the run loop carries it out before it next enters the domain,
 * so a command never pulls a domain out from under a running vCPU.  A
 * command a domain's state does not allow is refused with that state
 * named, and changes nothing.
 */
#include "klib.h"

#include "ctl.h"
#include "dev/ide_cd.h"
#include "hv.h"
#include "nmi.h"
#include "smp.h"
#include "vdev.h"
#include "vdev_hot.h"

/* The arguments of each kind of command (ctl.h: any other is refused). */
static const char *const domain_args[] = {CTL_ARG_DOMAIN, NULL};

/* ---- Queries ----------------------------------------------------------------- */

static int query_version(struct ctl_req *r)
{
    struct json_out *o = r->out;
    json_obj_begin(o);
    json_key(o, "hvkit");
    json_obj_begin(o);
    json_key(o, "major");
    json_put_u64(o, CTL_VERSION_MAJOR);
    json_key(o, "minor");
    json_put_u64(o, CTL_VERSION_MINOR);
    json_obj_end(o);
    json_key(o, "package");
    json_put_str(o, CTL_PACKAGE);
    json_key(o, "protocol");
    json_put_u64(o, CTL_PROTOCOL);
    json_obj_end(o);
    return 0;
}

/* A domain's UUID until domains get their own: "hvki" "t" in ASCII, the
 * version-4 and variant bits where RFC 4122 puts them, and the domain's
 * number at the end, so that it is stable from run to run. */
static void put_uuid(struct json_out *o, const struct domain *d)
{
    char uuid[40];
    ksnprintf(uuid, sizeof(uuid), "68766b69-7400-4000-8000-%012x", d->id);
    json_put_str(o, uuid);
}

/* Exits and guest-mode time of all the domain's vCPUs. */
static void put_domain(struct json_out *o, const struct domain *d)
{
    uint64_t exits = 0, tsc = 0;
    for (unsigned i = 0; i < d->nr_vcpus; i++) {
        exits += d->vcpu[i]->exit_count;
        tsc += d->vcpu[i]->run_tsc;
    }
    char name[16];
    json_obj_begin(o);
    json_key(o, "domain");
    json_put_u64(o, d->id);
    json_key(o, "name");
    json_put_str(o, domain_name(d, name, sizeof(name)));
    json_key(o, "uuid");
    put_uuid(o, d);
    json_key(o, "state");
    json_put_str(o, domain_xen_state(d));
    json_key(o, "status");
    json_put_str(o, domain_qmp_status(d));
    json_key(o, "vcpus");
    json_put_u64(o, d->nr_vcpus);
    json_key(o, "memory");
    json_put_u64(o, d->mem.size);
    json_key(o, "exits");
    json_put_u64(o, exits);
    json_key(o, "cpu-tsc");
    json_put_u64(o, tsc);
    /* The same in nanoseconds at the TSC rate hv measured against the
     * outer machine's PIT (irq.c), the clock its guests' time runs on:
     * right on every outer machine, where the host's TSC rate is right
     * only when the outer TSC is the host's (QEMU's TCG, not Bochs). */
    json_key(o, "cpu-time-ns");
    json_put_u64(o, domain_cpu_time_ns(d));
    /* The balloon's target as the host asked for it (xl list -l's
     * target_memkb), in bytes: the whole RAM when nothing was asked; it
     * may be above the RAM (domain.h). */
    uint64_t asked = domain_balloon_asked_kib(d);
    json_key(o, "balloon-target");
    json_put_u64(o, asked ? asked << 10 : d->mem.size);
    /* vCPU hot-plug (include/hvkit/pv.h): "vcpus" above is how many it
     * was built with, Xen's maxvcpus; how many the host lets the guest
     * run (x-vcpu-set), and how many run now: the BSP and the APs the
     * guest started and has not taken down, Xen's online vCPUs. */
    unsigned online = 0, available = 0;
    for (unsigned i = 0; i < d->nr_vcpus; i++) {
        online += smp_vcpu_online(d->vcpu[i]);
        available += domain_vcpu_available(d, i);
    }
    json_key(o, "vcpus-available");
    json_put_u64(o, available);
    json_key(o, "vcpus-online");
    json_put_u64(o, online);
    json_obj_end(o);
}

static int query_domains(struct ctl_req *r)
{
    json_arr_begin(r->out);
    for (const struct domain *d = r->host->domains; d; d = d->next)
        put_domain(r->out, d);
    json_arr_end(r->out);
    return 0;
}

/* QMP's query-status: RunState name, "running", "singlestep"; and Xen's
 * state, which a QMP client ignores. */
static int query_status(struct ctl_req *r)
{
    struct domain *d;
    if (ctl_arg_domain(r, &d) < 0)
        return -1;
    json_obj_begin(r->out);
    json_key(r->out, "status");
    json_put_str(r->out, domain_qmp_status(d));
    json_key(r->out, "running");
    json_put_bool(r->out, domain_running(d));
    json_key(r->out, "singlestep");
    json_put_bool(r->out, false);
    json_key(r->out, "state");
    json_put_str(r->out, domain_xen_state(d));
    json_obj_end(r->out);
    return 0;
}

static int query_cpus_fast(struct ctl_req *r)
{
    struct domain *d;
    if (ctl_arg_domain(r, &d) < 0)
        return -1;
    json_arr_begin(r->out);
    for (unsigned i = 0; i < d->nr_vcpus; i++) {
        json_obj_begin(r->out);
        json_key(r->out, "cpu-index");
        json_put_u64(r->out, i);
        json_key(r->out, "target");
        json_put_str(r->out, "x86_64");
        /* Halted as QEMU says it: waiting in HLT, or an application
         * processor waiting for its STARTUP IPI or stopped (core/smp.c). */
        json_key(r->out, "halted");
        json_put_bool(r->out, d->vcpu[i]->blocked || d->vcpu[i]->mp_state != VCPU_MP_RUNNING);
        json_key(r->out, "state");
        json_put_str(r->out, vcpu_state_name(d->vcpu[i]));
        json_key(r->out, "exits");
        json_put_u64(r->out, d->vcpu[i]->exit_count);
        /* Its own time in guest mode, in host TSC ticks, as query-domains'
         * cpu-tsc (their sum) counts it: xl vcpu-list's Time(s). */
        json_key(r->out, "cpu-tsc");
        json_put_u64(r->out, d->vcpu[i]->run_tsc);
        json_key(r->out, "cpu-time-ns");
        json_put_u64(r->out, vcpu_cpu_time_ns(d->vcpu[i]));
        /* vCPU hot-plug: may the guest run it, and does it. */
        json_key(r->out, "available");
        json_put_bool(r->out, domain_vcpu_available(d, i));
        json_key(r->out, "online");
        json_put_bool(r->out, smp_vcpu_online(d->vcpu[i]));
        json_obj_end(r->out);
    }
    json_arr_end(r->out);
    return 0;
}

/* The CD-ROM drive's entry (core/cdrom.c): removable, with QMP's "locked"
 * and "tray_open", and "inserted" with the medium's name when there is
 * one (QMP's BlockInfo has an "inserted" object then). */
static void cd_entry(struct json_out *o, const struct ide_cd *cd)
{
    bool inserted = cd->medium.read != NULL;
    json_obj_begin(o);
    json_key(o, "device");
    json_put_str(o, "ide1-cd0");
    if (inserted) {
        json_key(o, "file");
        json_put_str(o, cd->medium.name ? cd->medium.name : "");
        json_key(o, "format");
        json_put_str(o, "raw");
    }
    json_key(o, "ro");
    json_put_bool(o, true);
    json_key(o, "removable");
    json_put_bool(o, true);
    json_key(o, "inserted");
    json_put_bool(o, inserted);
    json_key(o, "locked");
    json_put_bool(o, cd->locked);
    json_key(o, "tray_open");
    json_put_bool(o, cd->tray_open);
    json_obj_end(o);
}

/* One disk attached at run time (core/vdev_hot.h), as the boot's, with
 * hvkit's "hotplugged" so that front-ends tell it from those. */
static void hot_entry(void *ctx, const struct vdev_hot_info *info)
{
    struct json_out *o = ctx;
    json_obj_begin(o);
    json_key(o, "device");
    json_put_str(o, info->device);
    json_key(o, "file");
    json_put_str(o, info->file);
    json_key(o, "format");
    json_put_str(o, info->qcow2 ? "qcow2" : "raw");
    json_key(o, "ro");
    json_put_bool(o, info->readonly);
    json_key(o, "removable");
    json_put_bool(o, false);
    json_key(o, "hotplugged");
    json_put_bool(o, true);
    json_obj_end(o);
}

/* QMP's query-block, one entry per virtio-blk disk of the domain (those of
 * the boot, then those attached at run time), then its CD-ROM drive if it
 * has one. */
static int query_block(struct ctl_req *r)
{
    struct domain *d;
    unsigned n = 0;
    if (ctl_arg_domain(r, &d) < 0)
        return -1;
    json_arr_begin(r->out);
    for (unsigned i = 0; d->vdevs && i < d->vdevs->n; i++) {
        const struct vdev_spec *s = &d->vdevs->spec[i];
        char dev[16];
        if (s->kind != VDEV_BLK)
            continue;
        ksnprintf(dev, sizeof(dev), "virtio%u", n++);
        json_obj_begin(r->out);
        json_key(r->out, "device");
        json_put_str(r->out, dev);
        json_key(r->out, "file");
        json_put_str(r->out, s->path);
        json_key(r->out, "format");
        json_put_str(r->out, s->qcow2 ? "qcow2" : "raw");
        json_key(r->out, "ro");
        json_put_bool(r->out, s->readonly);
        json_key(r->out, "removable");
        json_put_bool(r->out, false);
        json_obj_end(r->out);
    }
    if (vdev_hot_each)
        vdev_hot_each(d, hot_entry, r->out);
    if (d->cd)
        cd_entry(r->out, d->cd);
    json_arr_end(r->out);
    return 0;
}

/* ---- State changes ------------------------------------------------------------ */

/* Run lifecycle operation `op` on the named domain; `{}` or the state that
 * refused it. */
static int lifecycle(struct ctl_req *r, int (*op)(struct domain *), const char *what)
{
    struct domain *d;
    if (ctl_arg_domain(r, &d) < 0)
        return -1;
    if (op(d) < 0)
        return ctl_error(r, CTL_ERR_GENERIC, "domain %u cannot be %s: it is %s", d->id, what,
                         domain_xen_state(d));
    json_obj_begin(r->out);
    json_obj_end(r->out);
    return 0;
}

static int stop(struct ctl_req *r)
{
    return lifecycle(r, domain_pause, "stopped");
}

static int cont(struct ctl_req *r)
{
    return lifecycle(r, domain_unpause, "continued");
}

static int system_reset(struct ctl_req *r)
{
    return lifecycle(r, domain_reset, "reset");
}

static int system_powerdown(struct ctl_req *r)
{
    if (lifecycle(r, domain_request_powerdown, "powered down") < 0)
        return -1;
    /* A press of the button changes no state: announce it here. */
    r->after->event = CTL_EV_POWERDOWN;
    ctl_arg_domain(r, &r->after->event_dom);
    return 0;
}

/* The NMI button (nmi.c): QMP's inject-nmi on x86 reaches every CPU of
 * the machine through its LINT1, running or paused (a paused domain takes
 * it when it continues); a domain that has ended has no CPU to take it.
 * With `cpu` (hvkit's, for `xl trigger DOMAIN nmi VCPU`) the NMI goes to
 * that vCPU alone and directly, as Xen's NMI trigger sets the vCPU's
 * pending NMI whatever its LINT1 says. */
static int inject_nmi(struct ctl_req *r)
{
    struct domain *d;
    uint64_t cpu;
    if (ctl_arg_domain(r, &d) < 0 || ctl_arg_u64(r, CTL_ARG_CPU, false, UINT64_MAX, &cpu) < 0)
        return -1;
    if (cpu != UINT64_MAX && cpu >= d->nr_vcpus)
        return ctl_error(r, CTL_ERR_DEVICE_NOT_FOUND, "domain %u has no CPU %llu (it has %u)",
                         d->id, (unsigned long long)cpu, d->nr_vcpus);
    if (!nmi_supported(d))
        return ctl_error(r, CTL_ERR_GENERIC, "this hv's %s backend cannot inject an NMI",
                         r->host->be->name);
    if (domain_stopped(d))
        return ctl_error(r, CTL_ERR_GENERIC, "domain %u cannot get an NMI: it is %s", d->id,
                         domain_xen_state(d));
    if (cpu == UINT64_MAX)
        nmi_domain_button(d);
    else
        nmi_raise(d->vcpu[cpu]);
    json_obj_begin(r->out);
    json_obj_end(r->out);
    return 0;
}

/* Every domain is destroyed (the run loop gives their memory back and,
 * with none left, hv ends as when the last guest ends). */
static int quit(struct ctl_req *r)
{
    for (struct domain *d = r->host->domains; d; d = d->next)
        if (d->state != DOMAIN_DYING)
            domain_destroy(d);
    r->host->stay = false;
    r->after->quit = true;
    json_obj_begin(r->out);
    json_obj_end(r->out);
    return 0;
}

/* ---- The table ---------------------------------------------------------------- */

int ctl_query_registers(struct ctl_req *r);
int ctl_read_memory(struct ctl_req *r);
int ctl_query_blockstats(struct ctl_req *r);
static const char *const vcpu_args[] = {CTL_ARG_DOMAIN, CTL_ARG_CPU, NULL};
static const char *const read_args[] = {CTL_ARG_DOMAIN, CTL_ARG_CPU,      CTL_ARG_ADDR,
                                        CTL_ARG_SIZE,   CTL_ARG_PHYSICAL, NULL};

const struct ctl_cmd ctl_commands[] = {
    {CTL_CMD_QUERY_VERSION, NULL, query_version},
    {CTL_CMD_QUERY_DOMAINS, NULL, query_domains},
    {CTL_CMD_QUERY_STATUS, domain_args, query_status},
    {CTL_CMD_STOP, domain_args, stop},
    {CTL_CMD_CONT, domain_args, cont},
    {CTL_CMD_SYSTEM_RESET, domain_args, system_reset},
    {CTL_CMD_SYSTEM_POWERDOWN, domain_args, system_powerdown},
    {CTL_CMD_QUIT, NULL, quit},
    {CTL_CMD_QUERY_CPUS_FAST, domain_args, query_cpus_fast},
    {CTL_CMD_QUERY_REGISTERS, vcpu_args, ctl_query_registers},
    {CTL_CMD_READ_MEMORY, read_args, ctl_read_memory},
    {CTL_CMD_QUERY_BLOCK, domain_args, query_block},
    {CTL_CMD_QUERY_BLOCKSTATS, domain_args, ctl_query_blockstats},
    {CTL_CMD_INJECT_NMI, vcpu_args, inject_nmi},
    {NULL, NULL, NULL},
};
