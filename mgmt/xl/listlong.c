/*
 * listlong.c: `xl list -l`, each domain's configuration as the JSON xl
 * prints (libxl_domain_config: "c_info", "b_info", "disks" and the on_*
 * actions), for the part of it hvkit has.  The configuration is the one
 * xl create kept beside the record (running/NAME.cfg: the file and its
 * KEY=VALUE lines), read again with xl's own rules; a domain virsh started
 * has none, and shows what its manager says.  As in Xen, Domain-0 has no
 * stored configuration and is left out.
 */
#include "xl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "domcfg.h"
#include "jsonout.h"

/* The configuration kept for `r`; false when there is none to read. */
static bool kept_config(const struct rundom *r, struct xldom *d)
{
    char path[PATH_MAX];
    struct xlcfg cfg;
    rundom_path(path, sizeof(path), r->name, ".cfg");
    /* It was read once already at create: its warnings are not repeated. */
    FILE *quiet = fopen("/dev/null", "w");
    if (!quiet)
        return false;
    bool ok = xlcfg_read_file(&cfg, path, quiet) == 0;
    if (ok) {
        cfg.report = quiet;
        ok = xldom_from_cfg(d, &cfg) == 0;
        xlcfg_free(&cfg);
    }
    fclose(quiet);
    return ok;
}

static void c_info(struct jout *j, const struct rundom *r, const struct xldom *d)
{
    jout_key(j, "c_info");
    jout_open(j, '{');
    jout_kstr(j, "type", d ? d->type : "pvh");
    jout_kstr(j, "name", r->name);
    jout_kstr(j, "uuid", r->uuid);
    jout_kstr(j, "run_hotplug_scripts", "True");
    jout_close(j, '{');
}

static void b_info(struct jout *j, const struct rundom *r, const struct xldom *d,
                   const struct xlinfo *i)
{
    long vcpus = d ? (d->maxvcpus ? d->maxvcpus : d->vcpus) : (long)i->vcpus;
    long long target = d ? d->memory * 1024 : (long long)(i->ram >> 10);
    long long max = r->maxmem_kib ? r->maxmem_kib : d && d->maxmem ? d->maxmem * 1024 : target;
    jout_key(j, "b_info");
    jout_open(j, '{');
    jout_kint(j, "max_vcpus", vcpus > 0 ? vcpus : 1);
    jout_key(j, "avail_vcpus");
    jout_open(j, '[');
    /* The vCPUs the host lets it run now (xl vcpu-set), as libxl keeps
     * avail_vcpus current. */
    for (long v = 0; v < (i->ok ? (long)i->available : d ? d->vcpus : 1) && v < 64; v++)
        jout_int(j, v);
    jout_close(j, '[');
    jout_kint(j, "max_memkb", max);
    jout_kint(j, "target_memkb", target);
    if (d) {
        jout_kstr(j, "kernel", d->kernel);
        jout_kstr(j, "cmdline", d->cmdline);
        jout_kstr(j, "ramdisk", d->ramdisk);
    }
    char type[16];
    snprintf(type, sizeof(type), "type.%.8s", d ? d->type : "pvh");
    jout_key(j, type);
    jout_open(j, '{');
    jout_close(j, '{');
    jout_close(j, '{');
}

static void disks(struct jout *j, const struct xldom *d)
{
    if (!d || !d->ndisks)
        return;
    jout_key(j, "disks");
    jout_open(j, '[');
    for (int k = 0; k < d->ndisks; k++) {
        jout_open(j, '{');
        jout_kstr(j, "pdev_path", d->disk[k].target);
        jout_kstr(j, "vdev", d->disk[k].vdev);
        jout_kstr(j, "format", d->disk[k].format);
        jout_kint(j, "readwrite", !d->disk[k].readonly);
        if (d->disk[k].cdrom)
            jout_kint(j, "is_cdrom", 1);
        jout_close(j, '{');
    }
    jout_close(j, '[');
}

static void one(struct jout *j, const struct rundom *r)
{
    static struct xldom d;
    struct xlinfo i;
    xl_query(r, &i);
    bool have = kept_config(r, &d);
    jout_open(j, '{');
    jout_kint(j, "domid", r->domid);
    jout_key(j, "config");
    jout_open(j, '{');
    c_info(j, r, have ? &d : NULL);
    b_info(j, r, have ? &d : NULL, &i);
    disks(j, have ? &d : NULL);
    if (have) {
        jout_kstr(j, "on_poweroff", d.on_poweroff);
        jout_kstr(j, "on_reboot", d.on_reboot);
        jout_kstr(j, "on_crash", d.on_crash);
    }
    jout_close(j, '{');
    jout_close(j, '{');
}

int xl_list_long(const struct rundom *doms, int n)
{
    struct jout j;
    jout_init(&j, stdout);
    jout_open(&j, '[');
    for (int k = 0; k < n; k++)
        one(&j, &doms[k]);
    jout_close(&j, '[');
    printf("\n");
    return 0;
}
