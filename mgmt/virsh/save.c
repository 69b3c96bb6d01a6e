/*
 * save.c: a running domain's state into a file and back, with virsh 9.0's
 * syntax and messages (mgmt/common/savefile.h does the work):
 *
 *   save DOMAIN FILE [--xml F] [--running|--paused]
 *                              domain-save, then the machine ends ("shut
 *                              off (saved)")
 *   restore FILE [--xml F] [--running|--paused]
 *                              a new machine from the file
 *   managedsave DOMAIN [--running|--paused]
 *                              save into domains/save/NAME.save, which
 *                              `start` restores (and removes, as libvirt
 *                              does)
 *   managedsave-remove DOMAIN  remove that file
 *   save-image-dumpxml FILE    the domain XML the file holds
 *   save-image-define FILE XML replace it (the disks' paths, say)
 *
 * As libvirt writes the domain XML into its save image's header, the save
 * image (mgmt/common/saveimage.h) holds the running domain's live XML
 * (its definition, with the medium its CD-ROM drive holds now), and a
 * restore starts the machine with that XML's disks (or those of --xml's
 * file).  The disks are not in the file: the restored domain
 * runs on the same disk files.  --running and --paused say how a restore
 * leaves the domain; without either, as it was when saved (libvirt's
 * rule).  --bypass-cache and --verbose are accepted and change nothing.
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

bool live_read_xml(const char *path, struct domain_def *d, const char *failed)
{
    char why[1024];
    /* virsh reads the file itself first: its failure has no `failed` line. */
    if (access(path, R_OK)) {
        verror("Failed to open file '%s': %s", path, strerror(errno));
        return false;
    }
    if (!domxml_parse_file(path, d, why, sizeof(why))) {
        verror("%s", failed);
        verror("%s", why);
        return false;
    }
    return true;
}

/* How many virtio disks definition d gives its domain. */
static unsigned virtio_disks(const struct domain_def *d)
{
    struct rundom_disk disk[3];
    int n = d->ndisks < 3 ? d->ndisks : 3;
    machine_disks(d, disk);
    return savefile_virtio_disks(disk, n);
}

/* d's domain XML as text (malloc'd, *len bytes), as the image holds it. */
static char *xml_text(const struct domain_def *d, size_t *len)
{
    char *text = NULL;
    FILE *f = open_memstream(&text, len);
    if (f) {
        domxml_print(d, f);
        fclose(f);
    }
    return text;
}

/* The domain's live XML, as libvirt writes it into a save image: its
 * definition with the medium its CD-ROM drive holds now (as hv says),
 * which change-media --live or the monitor may have changed since.  The
 * state holds that medium, and a restore checks that its drive has the
 * same. */
static const struct domain_def *live_def(const struct vdom *v)
{
    static struct domain_def d;
    d = v->dom.def;
    live_cd_media(v, &d);
    return &d;
}

/* Save running domain v, described by def (its live XML when that is its
 * definition), into FILE (absolute) and end its machine. */
static bool save_to(const struct vdom *v, const struct domain_def *def, const char *file,
                    int paused, const char *failed)
{
    char why[1024];
    uint64_t size;
    size_t len = 0;
    /* A domain xl started has no definition virsh knows the disks of. */
    if (!v->persistent && !strcmp(v->run.tool, "xl") && def == &v->dom.def) {
        verror("%s", failed);
        verror("unsupported configuration: domain '%s' was started by xl, and virsh keeps no "
               "definition of it: save it with xl save, or give one with --xml",
               v->dom.def.name);
        return false;
    }
    if (def == &v->dom.def)
        def = live_def(v);
    char *text = xml_text(def, &len);
    const struct savefile_conf conf = {"virsh", text ? text : "", text ? len : 0,
                                       virtio_disks(def)};
    int rc = savefile_save(&v->run, &conf, file, "destroy", paused, &size, why, sizeof(why));
    free(text);
    if (rc < 0) {
        verror("%s", failed);
        verror("operation failed: %s", why);
        return false;
    }
    return live_end(v, "saved");
}

bool virsh_save(const struct cmd_call *call)
{
    static struct domain_def given;
    struct vdom v;
    char failed[PATH_MAX + 400], file[PATH_MAX];
    if (!live_lookup(call, &v))
        return false;
    snprintf(failed, sizeof(failed), "Failed to save domain '%s' to %s", v.dom.def.name,
             opt_str(call, "file"));
    int paused = flag_paused(call, failed, "VIR_DOMAIN_SAVE");
    const char *xml = opt_str(call, "xml");
    if (paused == -2 || (xml && !live_read_xml(xml, &given, failed)))
        return false;
    if (!v.active)
        return live_not_running(failed);
    savefile_absolute(opt_str(call, "file"), file, sizeof(file));
    if (!save_to(&v, xml ? &given : &v.dom.def, file, paused, failed))
        return false;
    vinfo("\nDomain '%s' saved to %s", v.dom.def.name, opt_str(call, "file"));
    return true;
}

bool live_restore(const char *file, const struct savefile *sf, const struct domain_def *given,
                  struct rundom *r, int paused, struct domain_def *def, char *why, size_t whylen)
{
    struct rundom_disk disk[3];
    memset(def, 0, sizeof(*def));
    if (given)
        *def = *given;
    else if (!sf->img.bare && strcmp(sf->img.tool, "virsh")) {
        snprintf(why, whylen,
                 "the image was saved by %s: restore it with %s, or give the domain "
                 "XML with --xml",
                 sf->img.tool, sf->img.tool);
        return false;
    } else if (!sf->img.bare &&
               !domxml_parse_text(sf->img.config, sf->img.config_len, def, why, whylen))
        return false;
    /* The same domain, as libvirt's ABI check wants: its name. */
    if (def->name[0] && strcmp(def->name, sf->cfg.name)) {
        snprintf(why, whylen, "Target domain name '%s' does not match source '%s'", def->name,
                 sf->cfg.name);
        return false;
    }
    if (def->ndisks > 3) {
        snprintf(why, whylen, "hv gives a domain at most 3 disks, not %d", def->ndisks);
        return false;
    }
    machine_disks(def, disk);
    return savefile_restore(file, sf, r, disk, def->ndisks, paused, why, whylen) == 0;
}

/* A restored domain without a definition of its own runs on as a
 * transient one, its definition the image's (domains/transient). */
static void keep_transient(const struct domain_def *d)
{
    char path[PATH_MAX + 600];
    FILE *f = store_path(path, sizeof(path), "domains/transient/%s.xml", d->name) ? fopen(path, "w")
                                                                                  : NULL;
    if (f) {
        domxml_print(d, f);
        fclose(f);
    }
}

bool virsh_restore(const struct cmd_call *call)
{
    static struct savefile sf;
    static struct domain_def given, def;
    const char *arg = opt_str(call, "file"), *xml = opt_str(call, "xml");
    char failed[PATH_MAX + 64], file[PATH_MAX], why[1024];
    struct vdom v;
    snprintf(failed, sizeof(failed), "Failed to restore domain from %s", arg);
    int paused = flag_paused(call, failed, "VIR_DOMAIN_SAVE");
    if (paused == -2)
        return false;
    savefile_absolute(arg, file, sizeof(file));
    if (access(file, R_OK)) {
        verror("%s", failed);
        verror("cannot read domain image '%s': %s", arg, strerror(errno));
        return false;
    }
    if (xml && !live_read_xml(xml, &given, failed))
        return false;
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
    bool persistent = live_find(sf.cfg.name, &v) && v.persistent;
    if (persistent) {
        snprintf(r.uuid, sizeof(r.uuid), "%s", v.dom.def.uuid);
        store_path(config, sizeof(config), "domains/%s.xml", sf.cfg.name);
    }
    snprintf(r.config, sizeof(r.config), "%s", config);
    bool ok = live_restore(file, &sf, xml ? &given : NULL, &r, paused, &def, why, sizeof(why));
    bool bare = sf.img.bare;
    savefile_free(&sf);
    if (!ok) {
        verror("%s", failed);
        verror("operation failed: %s", why);
        return false;
    }
    if (!persistent && (!bare || xml))
        keep_transient(&def);
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
    if (!managed_path(v.dom.def.name, file, sizeof(file)) ||
        !save_to(&v, &v.dom.def, file, paused, failed))
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

/* The save image FILE (the command's "file") read into sf, checked whole;
 * false after virsh's words (only `failed`'s line when there is one). */
static bool read_image(const struct cmd_call *call, struct savefile *sf, char *file, size_t len,
                       const char *failed)
{
    const char *arg = opt_str(call, "file");
    char why[1024];
    savefile_absolute(arg, file, len);
    if (access(file, R_OK)) {
        if (failed)
            verror("%s", failed);
        verror("cannot read domain image '%s': %s", arg, strerror(errno));
        return false;
    }
    if (savefile_read(file, sf, why, sizeof(why)) < 0) {
        if (failed)
            verror("%s", failed);
        verror("operation failed: %s", why);
        return false;
    }
    if (sf->img.bare || strcmp(sf->img.tool, "virsh")) {
        if (failed)
            verror("%s", failed);
        if (sf->img.bare)
            verror("operation failed: '%s' holds a state without a domain XML (bin/hvctl's "
                   "domain-save writes such files)",
                   arg);
        else
            verror("operation failed: '%s' was saved by %s: it holds no domain XML", arg,
                   sf->img.tool);
        savefile_free(sf);
        return false;
    }
    return true;
}

bool virsh_save_image_dumpxml(const struct cmd_call *call)
{
    static struct savefile sf;
    char file[PATH_MAX];
    if (!read_image(call, &sf, file, sizeof(file), NULL))
        return false;
    /* Printed as the image holds it, as libvirt prints its header's XML. */
    fputs(sf.img.config, stdout);
    savefile_free(&sf);
    return true;
}

bool virsh_save_image_define(const struct cmd_call *call)
{
    static struct savefile sf;
    static struct domain_def old, def;
    char file[PATH_MAX], failed[PATH_MAX + 64], why[1024];
    snprintf(failed, sizeof(failed), "Failed to update %s", opt_str(call, "file"));
    if (!read_image(call, &sf, file, sizeof(file), failed))
        return false;
    bool ok = live_read_xml(opt_str(call, "xml"), &def, failed);
    /* The image's domain stays the same domain: its name (libvirt's ABI
     * check); its disks may move, which is what the command is for. */
    if (ok && domxml_parse_text(sf.img.config, sf.img.config_len, &old, why, sizeof(why)) &&
        strcmp(old.name, def.name)) {
        verror("%s", failed);
        verror("unsupported configuration: Target domain name '%s' does not match source '%s'",
               def.name, old.name);
        ok = false;
    }
    /* And the state's disks: a restore could not give it others. */
    if (ok && virtio_disks(&def) != sf.shape.virtio) {
        verror("%s", failed);
        verror("unsupported configuration: the state is of a domain with %u virtio device%s, the "
               "XML gives %u disk%s",
               sf.shape.virtio, sf.shape.virtio == 1 ? "" : "s", virtio_disks(&def),
               virtio_disks(&def) == 1 ? "" : "s");
        ok = false;
    }
    size_t len = 0;
    char *text = ok ? xml_text(&def, &len) : NULL;
    const struct savefile_conf conf = {"virsh", text ? text : "", text ? len : 0,
                                       virtio_disks(&def)};
    if (ok && savefile_redefine(file, &sf, &conf, why, sizeof(why)) < 0) {
        verror("%s", failed);
        verror("operation failed: %s", why);
        ok = false;
    }
    free(text);
    savefile_free(&sf);
    if (ok)
        vinfo("State file %s updated.", opt_str(call, "file"));
    return ok;
}
