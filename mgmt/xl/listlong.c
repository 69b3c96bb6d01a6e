/*
 * listlong.c: `xl list -l`, each domain's configuration as the JSON xl
 * prints (libxl_domain_config: "c_info", "b_info", "disks" and the on_*
 * actions), for the part of it hvkit has.  The configuration is the one
 * xl create kept beside the record (running/NAME.cfg: the file and its
 * KEY=VALUE lines, with the medium cd-insert put in: kept.c), read again
 * with xl's own rules; a domain virsh started has none, and shows what
 * its manager says.  As in Xen, Domain-0 has no
 * stored configuration and is left out.
 */
#include "xl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "domcfg.h"
#include "jsonout.h"

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

/* b_info: the kept configuration's, with what changed while the domain
 * ran, as libxl_retrieve_domain_configuration() brings the stored one up
 * to date: the memory target and static maximum (xl mem-set, xl mem-max),
 * the vCPUs the guest may run (xl vcpu-set). */
static void b_info(struct jout *j, const struct rundom *r, const struct xldom *d,
                   const struct xlinfo *i)
{
    long vcpus = i->ok ? (long)i->vcpus : d ? (d->maxvcpus ? d->maxvcpus : d->vcpus) : 1;
    long avail = i->ok ? (long)i->available : d ? d->vcpus : 1;
    /* The balloon's target as asked, which may be above the RAM after a
     * mem-max past it; without an answer, the configuration's. */
    long long target = i->ok ? (long long)(i->target >> 10) : d ? d->memory * 1024 : 0;
    /* The static maximum: mem-max's, else the RAM the domain was built
     * with (maxmem, or memory). */
    long long max = r->maxmem_kib    ? r->maxmem_kib
                    : i->ok          ? (long long)(i->ram >> 10)
                    : d && d->maxmem ? d->maxmem * 1024
                                     : target;
    jout_key(j, "b_info");
    jout_open(j, '{');
    jout_kint(j, "max_vcpus", vcpus > 0 ? vcpus : 1);
    jout_key(j, "avail_vcpus");
    jout_open(j, '[');
    for (long v = 0; v < avail && v < 64; v++)
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

/* One disk in libxl_device_disk's JSON. */
static void disk(struct jout *j, const char *file, const char *vdev, const char *format, bool ro,
                 bool cdrom)
{
    jout_open(j, '{');
    jout_kstr(j, "pdev_path", file);
    jout_kstr(j, "vdev", vdev);
    jout_kstr(j, "format", format);
    jout_kint(j, "readwrite", !ro);
    if (cdrom)
        jout_kint(j, "is_cdrom", 1);
    jout_close(j, '{');
}

/* The configuration's disks, then those block-attach added (libxl keeps
 * a disk plugged in at run time in the domain's configuration, and drops
 * it again at block-detach). */
static void disks(struct jout *j, const struct rundom *r, const struct xldom *d)
{
    static struct xlhotdisk hot[8];
    int nhot = xl_hot_disk_info(r, hot, 8), ncfg = d ? d->ndisks : 0;
    if (!ncfg && !nhot)
        return;
    jout_key(j, "disks");
    jout_open(j, '[');
    for (int k = 0; k < ncfg; k++)
        disk(j, d->disk[k].target, d->disk[k].vdev, d->disk[k].format, d->disk[k].readonly,
             d->disk[k].cdrom);
    for (int k = 0; k < nhot; k++)
        disk(j, hot[k].file, hot[k].vdev, hot[k].format, hot[k].readonly, false);
    jout_close(j, '[');
}

static void one(struct jout *j, const struct rundom *r)
{
    static struct xldom d;
    struct xlinfo i;
    xl_query(r, &i);
    bool have = xl_kept_config(r, &d);
    jout_open(j, '{');
    jout_kint(j, "domid", r->domid);
    jout_key(j, "config");
    jout_open(j, '{');
    c_info(j, r, have ? &d : NULL);
    b_info(j, r, have ? &d : NULL, &i);
    disks(j, r, have ? &d : NULL);
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
