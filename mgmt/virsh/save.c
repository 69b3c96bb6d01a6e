/*
 * save.c: a running domain's state into a file and back, with virsh 9.0's
 * syntax and messages (mgmt/common/savefile.h does the work):
 *
 *   save DOMAIN FILE [--running|--paused]   domain-save, then the machine
 *                                           ends ("shut off (saved)")
 *   restore FILE [--running|--paused]       a new machine from the file
 *   managedsave DOMAIN [--running|--paused] save into domains/save/NAME.save,
 *                                           which `start` restores (and
 *                                           removes, as libvirt does)
 *   managedsave-remove DOMAIN               remove that file
 *
 * --running and --paused say how a restore leaves the domain; without
 * either, as it was when saved (libvirt's rule).  --bypass-cache and
 * --verbose are accepted and change nothing; --xml (an edited definition
 * for the restored domain) is refused in libvirt's words: the file holds
 * the domain hv saved.
 */
#include "live.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* --running / --paused: 1 paused, 0 running, -1 neither; -2 after the
 * error when both are given. */
static int flag_paused(const struct cmd_call *call, const char *failed, const char *prefix)
{
    bool run = opt_bool(call, "running"), pause = opt_bool(call, "paused");
    if (run && pause) {
        verror("%s", failed);
        verror("Flags '%s_RUNNING' and '%s_PAUSED' are mutually exclusive", prefix, prefix);
        return -2;
    }
    return pause ? 1 : run ? 0 : -1;
}

/* --xml (a definition to replace the saved one): virsh reads the file,
 * then the driver refuses it in the words of libvirt's drivers that cannot
 * change a saved domain (the test driver's among them): hv restores the
 * machine the file holds, its memory, vCPUs and kernel. */
static bool refuse_xml(const struct cmd_call *call, const char *failed)
{
    const char *xml = opt_str(call, "xml");
    if (!xml)
        return true;
    if (access(xml, R_OK)) {
        verror("Failed to open file '%s': %s", xml, strerror(errno));
        return false;
    }
    verror("%s", failed);
    verror("argument unsupported: xml modification unsupported");
    return false;
}

/* Save running domain v into FILE (absolute) and end its machine. */
static bool save_to(const struct vdom *v, const char *file, int paused, const char *failed)
{
    char why[1024];
    uint64_t size;
    if (savefile_save(&v->run, file, "destroy", paused, &size, why, sizeof(why)) < 0) {
        verror("%s", failed);
        verror("operation failed: %s", why);
        return false;
    }
    return live_end(v, "saved");
}

bool virsh_save(const struct cmd_call *call)
{
    struct vdom v;
    char failed[PATH_MAX + 400], file[PATH_MAX];
    if (!live_lookup(call, &v))
        return false;
    snprintf(failed, sizeof(failed), "Failed to save domain '%s' to %s", v.dom.def.name,
             opt_str(call, "file"));
    int paused = flag_paused(call, failed, "VIR_DOMAIN_SAVE");
    if (paused == -2 || !refuse_xml(call, failed))
        return false;
    if (!v.active)
        return live_not_running(failed);
    savefile_absolute(opt_str(call, "file"), file, sizeof(file));
    if (!save_to(&v, file, paused, failed))
        return false;
    vinfo("\nDomain '%s' saved to %s", v.dom.def.name, opt_str(call, "file"));
    return true;
}

bool virsh_restore(const struct cmd_call *call)
{
    static struct savefile sf;
    const char *arg = opt_str(call, "file");
    char failed[PATH_MAX + 64], file[PATH_MAX], why[1024];
    struct vdom v;
    snprintf(failed, sizeof(failed), "Failed to restore domain from %s", arg);
    int paused = flag_paused(call, failed, "VIR_DOMAIN_SAVE");
    if (paused == -2 || !refuse_xml(call, failed))
        return false;
    savefile_absolute(arg, file, sizeof(file));
    if (access(file, R_OK)) {
        verror("%s", failed);
        verror("cannot read domain image '%s': %s", arg, strerror(errno));
        return false;
    }
    if (savefile_read(file, &sf, why, sizeof(why)) < 0) {
        verror("%s", failed);
        verror("operation failed: %s", why);
        return false;
    }
    /* The domain the file holds must not run already (libvirt's check). */
    bool taken = !sf.cfg.name[0] || (live_find(sf.cfg.name, &v) && v.active);
    if (taken) {
        verror("%s", failed);
        if (sf.cfg.name[0])
            verror("operation failed: domain '%s' is already active", sf.cfg.name);
        else
            verror("operation failed: the saved state names no domain");
        savefile_free(&sf);
        return false;
    }
    struct rundom r = {.domid = rundom_next_domid()};
    snprintf(r.name, sizeof(r.name), "%s", sf.cfg.name);
    snprintf(r.tool, sizeof(r.tool), "virsh");
    char config[PATH_MAX + 600] = "";
    /* A defined domain of that name keeps its UUID and definition. */
    if (live_find(sf.cfg.name, &v) && v.persistent) {
        snprintf(r.uuid, sizeof(r.uuid), "%s", v.dom.def.uuid);
        store_path(config, sizeof(config), "domains/%s.xml", sf.cfg.name);
    }
    snprintf(r.config, sizeof(r.config), "%s", config);
    bool ok = savefile_restore(file, &sf, &r, paused, why, sizeof(why)) == 0;
    savefile_free(&sf);
    if (!ok) {
        verror("%s", failed);
        verror("operation failed: %s", why);
        return false;
    }
    live_set_reason(r.name, "restored");
    vinfo("Domain restored from %s", arg);
    return true;
}

/* The managed save file of `name`, into out. */
static bool managed_path(const char *name, char *out, size_t len)
{
    return store_path(out, len, "domains/save/%s.save", name);
}

bool virsh_managedsave(const struct cmd_call *call)
{
    struct vdom v;
    char failed[400], file[PATH_MAX + 600];
    if (!live_lookup(call, &v))
        return false;
    snprintf(failed, sizeof(failed), "Failed to save domain '%s' state", v.dom.def.name);
    int paused = flag_paused(call, failed, "VIR_DOMAIN_SAVE");
    if (paused == -2)
        return false;
    if (!v.active)
        return live_not_running(failed);
    /* libvirt keeps a managed save only for a domain it can start again. */
    if (!v.persistent) {
        verror("%s", failed);
        verror("Requested operation is not valid: cannot do managed save for transient domain");
        return false;
    }
    if (!managed_path(v.dom.def.name, file, sizeof(file)) || !save_to(&v, file, paused, failed))
        return false;
    vinfo("\nDomain '%s' state saved by libvirt", v.dom.def.name);
    return true;
}

bool virsh_managedsave_remove(const struct cmd_call *call)
{
    struct vdom v;
    char file[PATH_MAX + 600];
    if (!live_lookup(call, &v))
        return false;
    /* libvirt prints both of this command's lines without their newline:
     * the empty line virsh prints after every command (main.c) ends them,
     * so no empty line follows. */
    if (!has_managed_save(v.dom.def.name)) {
        if (!virsh.quiet)
            printf("Domain '%s' has no manage save image; removal skipped", v.dom.def.name);
        return true;
    }
    if (!managed_path(v.dom.def.name, file, sizeof(file)) || unlink(file)) {
        verror("Failed to remove managed save image for domain '%s'", v.dom.def.name);
        verror("%s", strerror(errno));
        return false;
    }
    if (!virsh.quiet)
        printf("Removed managedsave image for domain '%s'", v.dom.def.name);
    return true;
}
