/*
 * domcfg.c: the keys of xl.cfg(5) hvkit acts on (domcfg.h).  The defaults
 * and the messages are xl's (Xen 4.17, tools/xl/xl_parse.c): a missing
 * name is "Domain name must be specified.", a wrong value type gets
 * libxlu's "FILE:LINE: warning: parameter `KEY' ..." line.
 */
#include "domcfg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../common/text.h"

/* Keys of xl.cfg(5) that hvkit takes but cannot act on, and why. */
static const struct {
    const char *key, *why;
} inert[] = {
    {"vif", "hvkit has no virtual network"},
    {"pci", "hvkit has no PCI passthrough"},
    {"vfb", "hvkit has no graphics"},
    {"vga", "hvkit has no graphics"},
    {"vnc", "hvkit has no graphics"},
    {"sdl", "hvkit has no graphics"},
    {"usb", "hvkit has no USB"},
    {"usbctrl", "hvkit has no USB"},
    {"usbdev", "hvkit has no USB"},
    {"vtpm", "hvkit has no TPM"},
    {"p9", "hvkit has no 9pfs"},
    {"channel", "hvkit has no channels"},
    {"soundhw", "hvkit has no sound"},
    {"bootloader", "hvkit boots the kernel= directly"},
    {"device_model_version", "hvkit has no device model process"},
    {"cpu_weight", "hvkit's scheduler has no weights"},
    {"cpu_cap", "hvkit's scheduler has no caps"},
    {"viridian", "hvkit has no Hyper-V enlightenments"},
    {"nestedhvm", "hvkit does not nest"},
    {NULL, NULL},
};

static int warn_type(const struct xlcfg *cfg, const struct xlcfg_setting *s, const char *what)
{
    fprintf(cfg->report, "%s:%d: warning: parameter `%s' %s\n", cfg->source, s->lineno, s->name,
            what);
    return -1;
}

/* A single string value into `out` (size `size`); 1 when the key is
 * absent, -1 on a mistake. */
static int get_string(const struct xlcfg *cfg, const char *key, char *out, size_t size)
{
    const struct xlcfg_setting *s = xlcfg_find(cfg, key);
    if (!s)
        return 1;
    if (s->is_list)
        return warn_type(cfg, s, "is a list but should be a single value");
    if (strlen(s->atom[0].text) >= size)
        return warn_type(cfg, s, "is too long for hvkit");
    strcpy(out, s->atom[0].text);
    return 0;
}

/* A number, as libxlu's xlu_cfg_get_long reads it (strtol, base 0). */
static int get_long(const struct xlcfg *cfg, const char *key, long *out)
{
    const struct xlcfg_setting *s = xlcfg_find(cfg, key);
    if (!s)
        return 1;
    if (s->is_list)
        return warn_type(cfg, s, "is a list but should be a single value");
    char *end;
    errno = 0;
    long v = strtol(s->atom[0].text, &end, 0);
    if (errno || end == s->atom[0].text || *end)
        return warn_type(cfg, s, "is not a valid number");
    *out = v;
    return 0;
}

/* on_poweroff= and friends: one of xl's actions. */
static int get_action(const struct xlcfg *cfg, const char *event, char *out, size_t size,
                      const char *dflt)
{
    static const char *const actions[] = {
        "destroy",          "restart",          "rename-restart", "preserve",
        "coredump-destroy", "coredump-restart", "soft-reset",     NULL};
    char key[32];
    snprintf(key, sizeof(key), "on_%s", event);
    int rc = get_string(cfg, key, out, size);
    if (rc < 0)
        return -1;
    if (rc == 1) {
        snprintf(out, size, "%s", dflt);
        return 0;
    }
    for (int i = 0; actions[i]; i++)
        if (strcmp(out, actions[i]) == 0)
            return 0;
    fprintf(cfg->report, "Unknown on_%s action \"%s\" specified\n", event, out);
    return -1;
}

/* The kernel's command line as xl builds it: cmdline= wins; otherwise
 * "root=ROOT EXTRA" from root= and extra=. */
static int get_cmdline(const struct xlcfg *cfg, struct xldom *d)
{
    char root[400] = "", extra[400] = "";
    int c = get_string(cfg, "cmdline", d->cmdline, sizeof(d->cmdline));
    int r = get_string(cfg, "root", root, sizeof(root));
    int e = get_string(cfg, "extra", extra, sizeof(extra));
    if (c < 0 || r < 0 || e < 0)
        return -1;
    if (c == 0) {
        if (r == 0 || e == 0)
            fprintf(cfg->report, "Warning: ignoring root= and extra= in favour of cmdline=\n");
        return 0;
    }
    if (r == 0)
        snprintf(d->cmdline, sizeof(d->cmdline), "root=%s%s%s", root, e == 0 ? " " : "", extra);
    else
        snprintf(d->cmdline, sizeof(d->cmdline), "%s", extra);
    return 0;
}

static int get_disks(const struct xlcfg *cfg, struct xldom *d)
{
    const struct xlcfg_setting *s = xlcfg_find(cfg, "disk");
    if (!s)
        return 0;
    if (!s->is_list)
        return warn_type(cfg, s, "is a single value but should be a list");
    if (s->n > XLDOM_DISKS_MAX) {
        fprintf(cfg->report, "%s:%d: hvkit: %d disks, but hv has room for %d\n", cfg->source,
                s->lineno, s->n, XLDOM_DISKS_MAX);
        return -1;
    }
    int cdroms = 0;
    for (int i = 0; i < s->n; i++) {
        struct xldisk *k = &d->disk[d->ndisks];
        if (xldisk_parse(k, s->atom[i].text, cfg->source, cfg->report) < 0)
            return -1;
        if (k->cdrom && (cdroms++ || strcmp(k->format, k->target[0] ? "raw" : "empty"))) {
            fprintf(cfg->report,
                    "%s:%d: hvkit: disk `%s': hv has one CD-ROM drive (ide1-cd0), its medium a "
                    "raw image\n",
                    cfg->source, s->lineno, s->atom[i].text);
            return -1;
        }
        if (!k->cdrom && strcmp(k->format, "raw") != 0 && strcmp(k->format, "qcow2") != 0) {
            fprintf(cfg->report,
                    "%s:%d: hvkit: disk `%s': format %s is not one hvkit reads (raw, qcow2)\n",
                    cfg->source, s->lineno, s->atom[i].text, k->format);
            return -1;
        }
        d->ndisks++;
    }
    return 0;
}

/* The sizes and counts, with xl's defaults: memory 128 MiB (hvkit's
 * default guest RAM), maxmem = memory, vcpus 1, maxvcpus = vcpus. */
static int get_sizes(const struct xlcfg *cfg, struct xldom *d)
{
    d->memory = 128, d->vcpus = 1;
    if (get_long(cfg, "memory", &d->memory) < 0 || get_long(cfg, "vcpus", &d->vcpus) < 0)
        return -1;
    d->maxmem = d->memory, d->maxvcpus = d->vcpus;
    if (get_long(cfg, "maxmem", &d->maxmem) < 0 || get_long(cfg, "maxvcpus", &d->maxvcpus) < 0)
        return -1;
    if (d->memory <= 0 || d->maxmem < d->memory) {
        fprintf(cfg->report, "hvkit: memory=%ld and maxmem=%ld: want 0 < memory <= maxmem (MiB)\n",
                d->memory, d->maxmem);
        return -1;
    }
    /* hv builds a domain with 1 to 8 vCPUs (bin/hvrun -smp N,maxcpus=M):
     * maxvcpus of them, vcpus available at the start, and xl vcpu-set
     * moves between (include/hvkit/pv.h "vCPU hot-plug"). */
    if (d->vcpus < 1 || d->vcpus > 8) {
        fprintf(cfg->report, "hvkit: vcpus=%ld: hv's domains have 1 to 8 vCPUs\n", d->vcpus);
        return -1;
    }
    if (d->maxvcpus < d->vcpus || d->maxvcpus > 8) {
        fprintf(cfg->report,
                "hvkit: maxvcpus=%ld and vcpus=%ld: want vcpus <= maxvcpus <= 8 (hv's domains "
                "have 1 to 8 vCPUs)\n",
                d->maxvcpus, d->vcpus);
        return -1;
    }
    return 0;
}

static void warn_inert(const struct xlcfg *cfg)
{
    for (int i = 0; inert[i].key; i++) {
        const struct xlcfg_setting *s = xlcfg_find(cfg, inert[i].key);
        if (s)
            fprintf(cfg->report, "%s:%d: hvkit: warning: `%s' is accepted but not acted on (%s)\n",
                    cfg->source, s->lineno, s->name, inert[i].why);
    }
}

int xldom_from_cfg(struct xldom *d, const struct xlcfg *cfg)
{
    *d = (struct xldom){0};
    int rc = get_string(cfg, "name", d->name, sizeof(d->name));
    if (rc != 0) {
        if (rc == 1)
            fprintf(cfg->report, "Domain name must be specified.\n");
        return -1;
    }
    strcpy(d->type, "pv");
    if (get_string(cfg, "type", d->type, sizeof(d->type)) < 0)
        return -1;
    if (strcmp(d->type, "pv") && strcmp(d->type, "pvh") && strcmp(d->type, "hvm")) {
        fprintf(cfg->report, "Invalid domain type %s.\n", d->type);
        return -1;
    }
    if (get_sizes(cfg, d) < 0 || get_string(cfg, "cpus", d->cpus, sizeof(d->cpus)) < 0 ||
        get_string(cfg, "ramdisk", d->ramdisk, sizeof(d->ramdisk)) < 0 || get_cmdline(cfg, d) < 0)
        return -1;
    rc = get_string(cfg, "kernel", d->kernel, sizeof(d->kernel));
    if (rc != 0) {
        if (rc == 1)
            fprintf(cfg->report, "hvkit: no kernel= given: hvkit boots a Multiboot kernel directly "
                                 "(it has no firmware or bootloader)\n");
        return -1;
    }
    if (get_action(cfg, "poweroff", d->on_poweroff, sizeof(d->on_poweroff), "destroy") < 0 ||
        get_action(cfg, "reboot", d->on_reboot, sizeof(d->on_reboot), "restart") < 0 ||
        get_action(cfg, "crash", d->on_crash, sizeof(d->on_crash), "destroy") < 0)
        return -1;
    const struct xlcfg_setting *s = xlcfg_find(cfg, "serial");
    if (s)
        snprintf(d->serial, sizeof(d->serial), "%s", s->n ? s->atom[0].text : "");
    if (get_string(cfg, "uuid", d->uuid, sizeof(d->uuid)) < 0)
        return -1;
    if (d->uuid[0] && !uuid_valid(d->uuid)) {
        fprintf(cfg->report, "Failed to parse UUID: %s\n", d->uuid);
        return -1;
    }
    if (get_disks(cfg, d) < 0)
        return -1;
    warn_inert(cfg);
    return 0;
}

/* The index of dom's CD-ROM drive `vdev`, or -1. */
static int cd_index(const struct xldom *dom, const char *vdev)
{
    for (int i = 0; i < dom->ndisks; i++)
        if (dom->disk[i].cdrom && !strcmp(dom->disk[i].vdev, vdev))
            return i;
    return -1;
}

char *xldom_cd_setting(const struct xldom *dom, const char *vdev, const char *file)
{
    int cd = cd_index(dom, vdev);
    if (cd < 0 || strlen(file) >= sizeof(dom->disk[cd].target))
        return NULL;
    char *line = NULL, spec[XLDISK_TEXT_MAX + 128];
    size_t len = 0;
    FILE *out = open_memstream(&line, &len);
    if (!out)
        return NULL;
    bool fits = true;
    fputs("disk = [ ", out);
    for (int i = 0; i < dom->ndisks; i++) {
        struct xldisk k = dom->disk[i];
        if (i == cd) {
            strcpy(k.target, file);
            strcpy(k.format, file[0] ? "raw" : "empty");
        }
        fits &= xldisk_spec(&k, spec, sizeof(spec));
        fputs(i ? ", " : "", out);
        xlcfg_put_string(out, spec);
    }
    fputs(" ]", out);
    if (fclose(out) || !fits) {
        free(line);
        return NULL;
    }
    return line;
}
