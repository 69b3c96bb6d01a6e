/*
 * lifecycle.c: starting and stopping domains, each a machine of the shared
 * registry (mgmt/common/rundom.h) and each change one request of the
 * control protocol to its manager (docs/control-protocol.md):
 *
 *   start DOMAIN, create FILE    bin/hvrun --control: the domain XML's
 *                                kernel, memory, disks and on_* actions
 *   suspend / resume             stop / cont
 *   shutdown                     system_powerdown (the guest decides)
 *   reboot, reset                system_reset (hv has no guest-driven
 *                                reboot: both rebuild the domain)
 *   destroy                      quit, and the machine ends
 *   inject-nmi                   inject-nmi (QMP's: every vCPU, through LINT1)
 *   console                      the domain's console (mgmt/common/conclient.c)
 *
 * Messages are virsh 9.0's; where libvirt's drivers differ, those of its
 * test driver, which tests/integration/virsh-live.sh compares with.
 */
#include "live.h"

#include "../common/conclient.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* bin/hvrun takes destroy, restart or preserve for each on_* action; of
 * libvirt's other words the nearest is taken. */
static const char *action(const char *libvirt)
{
    if (!strcmp(libvirt, "restart") || !strcmp(libvirt, "rename-restart") ||
        !strcmp(libvirt, "coredump-restart"))
        return "restart";
    if (!strcmp(libvirt, "preserve"))
        return "preserve";
    return "destroy";
}

/* The machine for a definition: hv boots the kernel with its command line
 * in the domain's memory, each file disk a virtio disk (hv has no SATA or
 * IDE: the guest sees every disk on virtio, in the order of the XML). */
static bool spec_of(const struct domain_def *d, struct rundom_spec *s, const char *failed)
{
    memset(s, 0, sizeof(*s));
    if (!d->kernel[0]) {
        verror("%s", failed);
        verror("unsupported configuration: hvkit boots a Multiboot kernel: the domain XML needs "
               "<os><kernel>");
        return false;
    }
    if (d->ndisks > 3) {
        verror("%s", failed);
        verror("unsupported configuration: hv gives a domain at most 3 disks, not %d", d->ndisks);
        return false;
    }
    if (d->vcpus > 8) {
        verror("%s", failed);
        verror("unsupported configuration: hv runs at most 8 vCPUs in a domain, not %u", d->vcpus);
        return false;
    }
    /* The domain is built with its <vcpu> maximum, its current ones
     * available at the start (bin/hvrun -smp N,maxcpus=M), so `setvcpus
     * --live` can move between (include/hvkit/pv.h "vCPU hot-plug"). */
    s->vcpus = (int)d->vcpus_current;
    s->maxvcpus = (int)d->vcpus;
    s->kernel = d->kernel;
    s->cmdline = d->cmdline;
    /* <memory> is the most it may have and <currentMemory> what it has:
     * hv builds it with the first and starts its balloon's target at the
     * second (bin/hvrun --balloon), so `setmem --live` may move between. */
    uint64_t cur =
        d->current_kib && d->current_kib < d->memory_kib ? d->current_kib : d->memory_kib;
    s->memory_mib = (long)((cur + 1023) / 1024);
    s->maxmem_mib = (long)((d->memory_kib + 1023) / 1024);
    s->on_poweroff = action(d->on_poweroff);
    s->on_reboot = action(d->on_reboot);
    s->on_crash = action(d->on_crash);
    machine_disks(d, s->disk);
    s->ndisks = d->ndisks;
    return true;
}

void machine_disks(const struct domain_def *d, struct rundom_disk *out)
{
    for (int i = 0; i < d->ndisks && i < 3; i++) {
        const struct disk_def *k = &d->disks[i];
        bool cdrom = !strcmp(k->device, "cdrom");
        out[i] = (struct rundom_disk){k->source, k->driver, k->readonly || cdrom, cdrom};
    }
}

/* The registry record for a new machine of `d`. */
static struct rundom record_of(const struct domain_def *d, const char *config)
{
    struct rundom r = {.domid = rundom_next_domid()};
    snprintf(r.name, sizeof(r.name), "%.63s", d->name);
    snprintf(r.uuid, sizeof(r.uuid), "%s", d->uuid);
    snprintf(r.tool, sizeof(r.tool), "virsh");
    snprintf(r.config, sizeof(r.config), "%s", config);
    return r;
}

/* Start `d` from the state its managed save holds (savefile.h), `paused`
 * (-1: as saved). */
static bool boot_saved(const struct domain_def *d, const char *config, const char *save, int paused,
                       const char *failed)
{
    static struct savefile sf;
    static struct domain_def saved;
    char why[1024];
    struct rundom r = record_of(d, config);
    /* The definition the image holds, as libvirt starts a managed save
     * with the XML in it (the defined one for a bare state). */
    bool ok = savefile_read(save, &sf, why, sizeof(why)) == 0 &&
              live_restore(save, &sf, d, &r, paused, &saved, why, sizeof(why));
    savefile_free(&sf);
    if (!ok) {
        verror("%s", failed);
        verror("operation failed: %s", why);
    }
    return ok;
}

/* Boot `d` as a new running domain. */
static bool boot(const struct domain_def *d, const char *config, const char *failed)
{
    struct rundom_spec s;
    if (!spec_of(d, &s, failed))
        return false;
    if (access(d->kernel, R_OK)) {
        verror("%s", failed);
        verror("Cannot access kernel '%s': %s", d->kernel, strerror(errno));
        return false;
    }
    if (strlen(d->name) >= sizeof(((struct rundom *)0)->name)) {
        verror("%s", failed);
        verror("unsupported configuration: hvkit runs domains whose names have at most 63 "
               "characters");
        return false;
    }
    struct rundom r = record_of(d, config);
    int rc = rundom_start(&s, &r);
    if (rc == 0)
        return true;
    verror("%s", failed);
    verror("internal error: %s", rc == -1 ? strerror(errno) : "the machine ended before it ran");
    return false;
}

static bool attach_console(const char *name, bool force);

/* What hvkit cannot do of the options a start takes: autodestroy (the
 * machine would end as this virsh does, at once). */
static bool refuse_autodestroy(const struct cmd_call *call)
{
    if (!opt_bool(call, "autodestroy"))
        return true;
    verror("unsupported configuration: hvkit has no autodestroy: a domain runs until it is "
           "destroyed");
    return false;
}

/* A simple request to a running domain; false after virsh's messages. */
static bool request(const struct vdom *v, const char *execute, const char *failed)
{
    static struct ctlc c;
    int ret;
    if (live_call(v, &c, execute, "", 60000, &ret, failed) < 0)
        return false;
    ctlc_close(&c);
    return true;
}

static bool pause_now(const struct vdom *v, const char *failed)
{
    if (!request(v, CTL_CMD_STOP, failed))
        return false;
    live_set_reason(v->dom.def.name, "user");
    return true;
}

/* The saved state `virsh managedsave` left for `name`, if any. */
static bool managed_file(const char *name, char *out, size_t len)
{
    return store_path(out, len, "domains/save/%s.save", name) && !access(out, R_OK);
}

static bool start(const struct cmd_call *call)
{
    struct vdom v;
    char failed[400], config[PATH_MAX + 600], save[PATH_MAX + 600];
    if (!live_lookup(call, &v))
        return false;
    if (v.active) {
        verror("Domain is already active");
        return false;
    }
    if (!refuse_autodestroy(call))
        return false;
    snprintf(failed, sizeof(failed), "Failed to start domain '%s'", v.dom.def.name);
    bool restore =
        !opt_bool(call, "force-boot") && managed_file(v.dom.def.name, save, sizeof(save));
    if (!store_path(config, sizeof(config), "domains/%s.xml", v.dom.def.name))
        return false;
    if (restore ? !boot_saved(&v.dom.def, config, save, opt_bool(call, "paused") ? 1 : -1, failed)
                : !boot(&v.dom.def, config, failed))
        return false;
    /* A managed save is used once, as libvirt removes it after a start. */
    if (restore || opt_bool(call, "force-boot"))
        unlink(save);
    live_set_reason(v.dom.def.name, restore ? "restored" : "booted");
    if (opt_bool(call, "paused") && (!live_find(v.dom.def.name, &v) || !pause_now(&v, failed)))
        return false;
    vinfo("Domain '%s' started", v.dom.def.name);
    /* As virsh 9.0: the domain started, whatever the console then says. */
    if (opt_bool(call, "console"))
        attach_console(v.dom.def.name, false);
    return true;
}

static bool create(const struct cmd_call *call)
{
    const char *file = opt_str(call, "file");
    struct domain_def d;
    struct vdom v;
    char failed[PATH_MAX + 64], path[PATH_MAX + 600];
    snprintf(failed, sizeof(failed), "Failed to create domain from %s", file);
    if (!refuse_autodestroy(call) || !live_read_xml(file, &d, failed))
        return false;
    if (live_find(d.name, &v) && (v.active || strcmp(v.dom.def.uuid, d.uuid))) {
        verror("%s", failed);
        if (v.active)
            verror("operation failed: domain '%s' is already active", d.name);
        else
            verror("operation failed: domain '%s' already exists with uuid %s", d.name,
                   v.dom.def.uuid);
        return false;
    }
    /* A transient domain's definition lives as long as it runs. */
    if (!store_path(path, sizeof(path), "domains/transient/%s.xml", d.name))
        return false;
    FILE *f = fopen(path, "w");
    if (!f) {
        verror("cannot write '%s': %s", path, strerror(errno));
        return false;
    }
    domxml_print(&d, f);
    fclose(f);
    if (!boot(&d, path, failed)) {
        unlink(path);
        return false;
    }
    live_set_reason(d.name, "booted");
    if (opt_bool(call, "paused") && (!live_find(d.name, &v) || !pause_now(&v, failed)))
        return false;
    vinfo("Domain '%s' created from %s", d.name, file);
    if (opt_bool(call, "console"))
        attach_console(d.name, false);
    return true;
}

static bool suspend(const struct cmd_call *call)
{
    struct vdom v;
    char failed[400];
    if (!live_lookup(call, &v))
        return false;
    snprintf(failed, sizeof(failed), "Failed to suspend domain '%s'", v.dom.def.name);
    if (v.state != VSTATE_RUNNING) {
        verror("%s", failed);
        verror("internal error: domain '%s' not running", v.dom.def.name);
        return false;
    }
    if (!pause_now(&v, failed))
        return false;
    vinfo("Domain '%s' suspended", v.dom.def.name);
    return true;
}

static bool resume(const struct cmd_call *call)
{
    struct vdom v;
    char failed[400];
    if (!live_lookup(call, &v))
        return false;
    snprintf(failed, sizeof(failed), "Failed to resume domain '%s'", v.dom.def.name);
    if (v.state != VSTATE_PAUSED) {
        verror("%s", failed);
        verror("internal error: domain '%s' not paused", v.dom.def.name);
        return false;
    }
    if (!request(&v, CTL_CMD_CONT, failed))
        return false;
    live_set_reason(v.dom.def.name, "unpaused");
    vinfo("Domain '%s' resumed", v.dom.def.name);
    return true;
}

/* inject-nmi: libvirt's QEMU driver sends QMP's inject-nmi; a running or
 * paused domain takes it (paused: when it resumes), an inactive one is
 * refused, and success prints nothing, as on the test driver. */
static bool inject_nmi(const struct cmd_call *call)
{
    struct vdom v;
    if (!live_lookup(call, &v))
        return false;
    return request(&v, CTL_CMD_INJECT_NMI, NULL);
}

/* shutdown and reboot --mode: hv has the ACPI power button and the reset
 * line, no guest agent, initctl or signal. */
static bool acpi_mode(const struct cmd_call *call)
{
    const char *mode = opt_str(call, "mode");
    if (!mode || !strcmp(mode, "acpi"))
        return true;
    verror("unsupported configuration: hvkit's domains have the ACPI mode only, not '%s'", mode);
    return false;
}

static bool shutdown_dom(const struct cmd_call *call)
{
    struct vdom v;
    char failed[400];
    if (!live_lookup(call, &v) || !acpi_mode(call))
        return false;
    snprintf(failed, sizeof(failed), "Failed to shutdown domain '%s'", v.dom.def.name);
    if (!v.active) {
        verror("%s", failed);
        verror("internal error: domain '%s' not running", v.dom.def.name);
        return false;
    }
    if (!request(&v, CTL_CMD_SYSTEM_POWERDOWN, failed))
        return false;
    vinfo("Domain '%s' is being shutdown", v.dom.def.name);
    return true;
}

/* reboot and reset: hv rebuilds the domain (system_reset) for both. */
static bool reset_dom(const struct cmd_call *call)
{
    struct vdom v;
    char failed[400];
    bool reboot = !strcmp(call->def->name, "reboot");
    if (!live_lookup(call, &v) || (reboot && !acpi_mode(call)))
        return false;
    snprintf(failed, sizeof(failed), "Failed to %s domain '%s'", call->def->name, v.dom.def.name);
    if (!request(&v, CTL_CMD_SYSTEM_RESET, failed))
        return false;
    if (reboot)
        vinfo("Domain '%s' is being rebooted", v.dom.def.name);
    else
        vinfo("Domain '%s' was reset", v.dom.def.name);
    return true;
}

/* End a running domain's machine: quit, and by signal if it does not go. */
bool live_end(const struct vdom *v, const char *reason)
{
    rundom_end(&v->run);
    char path[PATH_MAX + 600];
    if (store_path(path, sizeof(path), "domains/transient/%s.xml", v->dom.def.name))
        unlink(path);
    live_set_reason(v->dom.def.name, reason);
    return true;
}

static bool destroy(const struct cmd_call *call)
{
    struct vdom v;
    char failed[400];
    if (!live_lookup(call, &v))
        return false;
    snprintf(failed, sizeof(failed), "Failed to destroy domain '%s'", v.dom.def.name);
    if (!v.active)
        return live_not_running(failed);
    live_end(&v, "destroyed");
    vinfo("Domain '%s' destroyed", v.dom.def.name);
    return true;
}

/* virsh console: the domain's console, which its manager holds
 * (docs/control-protocol.md "Consoles"), as libvirt's cmdRunConsole does
 * it: only on a terminal; one session per domain unless `force` takes it
 * over; ^] detaches.  What the guest printed before comes first (the
 * manager keeps it), then what it prints while attached. */
static bool attach_console(const char *name, bool force)
{
    struct vdom v;
    struct ctlc c;
    char why[300];
    if (!live_find(name, &v))
        return false;
    if (!v.active)
        return live_not_running(NULL);
    /* libvirt asks stdin only, and --force does not change it. */
    if (!isatty(STDIN_FILENO)) {
        verror("Cannot run interactive console without a controlling TTY");
        return false;
    }
    /* Other commands may run meanwhile. */
    rundom_unlock();
    printf("Connected to domain '%s'\nEscape character is ^] (Ctrl + ])\n", v.dom.def.name);
    fflush(stdout);
    if (!live_connect(&v, &c))
        return false;
    int rc = conclient_attach(&c, 0, force, why, sizeof(why));
    if (rc != 0) {
        /* libvirt's chrdev lock: VIR_ERR_OPERATION_FAILED. */
        if (rc == 1)
            verror("operation failed: Active console session exists for this domain");
        else
            verror("internal error: %s", why);
        ctlc_close(&c);
        return false;
    }
    conclient_run(&c);
    ctlc_close(&c);
    return true;
}

static bool console(const struct cmd_call *call)
{
    struct vdom v;
    return live_lookup(call, &v) && attach_console(v.dom.def.name, opt_bool(call, "force"));
}

#define DOM_ARG                                                                                    \
    {                                                                                              \
        "domain", OPT_STRING, true, "domain name, id or uuid"                                      \
    }

const struct cmd_def life_cmds[] = {
    {"console",
     console,
     "connect to the guest console",
     {DOM_ARG,
      {"devname", OPT_STRING, false, "character device name"},
      {"force", OPT_BOOL, false,
       "force console connection (disconnect already connected sessions)"},
      {"safe", OPT_BOOL, false, "only connect if safe console handling is supported"}},
     "Connect the virtual serial console for the guest"},
    {"create",
     create,
     "create a domain from an XML file",
     {{"file", OPT_STRING, true, "file containing an XML domain description"},
      {"console", OPT_BOOL, false, "attach to console after creation"},
      {"paused", OPT_BOOL, false, "leave the guest paused after creation"},
      {"autodestroy", OPT_BOOL, false, "automatically destroy the guest when virsh disconnects"},
      {"validate", OPT_BOOL, false, "validate the XML against the schema"}},
     "Create a domain."},
    {"destroy",
     destroy,
     "destroy (stop) a domain",
     {DOM_ARG, {"graceful", OPT_BOOL, false, "terminate gracefully"}},
     "Forcefully stop a given domain, but leave its resources intact."},
    {"inject-nmi",
     inject_nmi,
     "Inject NMI to the guest",
     {DOM_ARG},
     "Inject NMI to the guest domain."},
    {"managedsave",
     virsh_managedsave,
     "managed save of a domain state",
     {DOM_ARG,
      {"bypass-cache", OPT_BOOL, false, "avoid file system cache when saving"},
      {"running", OPT_BOOL, false, "set domain to be running on next start"},
      {"paused", OPT_BOOL, false, "set domain to be paused on next start"},
      {"verbose", OPT_BOOL, false, "display the progress of save"}},
     "Save and destroy a running domain, so it can be restarted from\n    the same state at a "
     "later time.  When the virsh 'start'\n    command is next run for the domain, it will "
     "automatically\n    be started from this saved state."},
    {"managedsave-remove",
     virsh_managedsave_remove,
     "Remove managed save of a domain",
     {DOM_ARG},
     "Remove an existing managed save state file from a domain"},
    {"reboot",
     reset_dom,
     "reboot a domain",
     {DOM_ARG, {"mode", OPT_STRING, false, "shutdown mode: acpi|agent|initctl|signal|paravirt"}},
     "Run a reboot command in the target domain."},
    {"reset",
     reset_dom,
     "reset a domain",
     {DOM_ARG},
     "Reset the target domain as if by power button"},
    {"restore",
     virsh_restore,
     "restore a domain from a saved state in a file",
     {{"file", OPT_STRING, true, "the state to restore"},
      {"bypass-cache", OPT_BOOL, false, "avoid file system cache when restoring"},
      {"xml", OPT_STRING, false, "filename containing updated XML for the target"},
      {"running", OPT_BOOL, false, "restore domain into running state"},
      {"paused", OPT_BOOL, false, "restore domain into paused state"},
      {"reset-nvram", OPT_BOOL, false, "re-initialize NVRAM from its pristine template"}},
     "Restore a domain."},
    {"resume", resume, "resume a domain", {DOM_ARG}, "Resume a previously suspended domain."},
    {"save",
     virsh_save,
     "save a domain state to a file",
     {DOM_ARG,
      {"file", OPT_STRING, true, "where to save the data"},
      {"bypass-cache", OPT_BOOL, false, "avoid file system cache when saving"},
      {"xml", OPT_STRING, false, "filename containing updated XML for the target"},
      {"running", OPT_BOOL, false, "set domain to be running on restore"},
      {"paused", OPT_BOOL, false, "set domain to be paused on restore"},
      {"verbose", OPT_BOOL, false, "display the progress of save"}},
     "Save the RAM state of a running domain."},
    {"save-image-define",
     virsh_save_image_define,
     "redefine the XML for a domain's saved state file",
     {{"file", OPT_STRING, true, "saved state file to modify"},
      {"xml", OPT_STRING, true, "filename containing updated XML for the target"}},
     "Replace the domain XML associated with a saved state file"},
    {"save-image-dumpxml",
     virsh_save_image_dumpxml,
     "saved state domain information in XML",
     {{"file", OPT_STRING, true, "saved state file to read"},
      {"security-info", OPT_BOOL, false, "include security sensitive information in XML dump"}},
     "Dump XML of domain information for a saved state file to stdout."},
    {"shutdown",
     shutdown_dom,
     "gracefully shutdown a domain",
     {DOM_ARG, {"mode", OPT_STRING, false, "shutdown mode: acpi|agent|initctl|signal|paravirt"}},
     "Run shutdown in the target domain."},
    {"start",
     start,
     "start a (previously defined) inactive domain",
     {{"domain", OPT_STRING, true, "name of the inactive domain"},
      {"console", OPT_BOOL, false, "attach to console after creation"},
      {"paused", OPT_BOOL, false, "leave the guest paused after creation"},
      {"autodestroy", OPT_BOOL, false, "automatically destroy the guest when virsh disconnects"},
      {"bypass-cache", OPT_BOOL, false, "avoid file system cache when loading"},
      {"force-boot", OPT_BOOL, false, "force fresh boot by discarding any managed save"}},
     "Start a domain, either from the last managedsave\n    state, or via a fresh boot if no "
     "managedsave state\n    is present."},
    {"suspend", suspend, "suspend a domain", {DOM_ARG}, "Suspend a running domain."},
    {NULL, NULL, NULL, {{0}}, NULL},
};
