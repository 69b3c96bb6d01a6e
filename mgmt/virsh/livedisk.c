/*
 * Disks of a running domain that were attached while it ran (attach-disk
 * --live): the control protocol's x-blockdev-attach and x-blockdev-detach
 * on the domain's machine, and query-block's entries marked "hotplugged"
 * for what the live configuration holds beyond the definition
 * (docs/control-protocol.md "Disks attached at run time").  Messages are
 * virsh 9.0's, with libvirt's qemu driver's words where it has them.
 */
#include "live.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int live_disks(const struct vdom *v, struct disk_def *out, int max)
{
    static struct ctlc c;
    char why[256];
    int ret, n = 0;
    if (!v->active || rundom_connect(&v->run, &c, 10000, why, sizeof(why)) < 0)
        return 0;
    if (ctlc_call(&c, CTL_CMD_QUERY_BLOCK, "{\"domain\": 0}", 30000, &ret, why, sizeof(why)) == 0)
        for (int e = json_first(&c.doc, ret); e >= 0 && n < max; e = json_after(&c.doc, ret, e)) {
            int h = json_get(&c.doc, e, "hotplugged"), ro = json_get(&c.doc, e, "ro");
            if (h < 0 || c.doc.tok[h].type != JSON_TRUE)
                continue;
            struct disk_def *k = &out[n++];
            memset(k, 0, sizeof(*k));
            strcpy(k->type, "file");
            strcpy(k->device, "disk");
            strcpy(k->bus, "virtio");
            json_str_copy(&c.doc, json_get(&c.doc, e, "device"), k->target, sizeof(k->target));
            json_str_copy(&c.doc, json_get(&c.doc, e, "file"), k->source, sizeof(k->source));
            json_str_copy(&c.doc, json_get(&c.doc, e, "format"), k->driver, sizeof(k->driver));
            k->readonly = ro >= 0 && c.doc.tok[ro].type == JSON_TRUE;
        }
    ctlc_close(&c);
    return n;
}

void live_cd_media(const struct vdom *v, struct domain_def *d)
{
    char file[PATH_MAX];
    int cd = -1;
    for (int i = 0; i < d->ndisks && cd < 0; i++)
        if (!strcmp(d->disks[i].device, "cdrom"))
            cd = i;
    /* hv has one drive (ide1-cd0), the definition's one CD-ROM; a domain
     * without one asks nothing. */
    int in = cd >= 0 && v->active ? rundom_cd_medium(&v->run, file, sizeof(file)) : -1;
    if (in >= 0)
        snprintf(d->disks[cd].source, sizeof(d->disks[cd].source), "%s", in ? file : "");
}

/* One request on the domain's machine whose arguments (a JSON object's
 * members, already written) may be long; false after "error: FAILED" and
 * the reason. */
static bool call(const struct vdom *v, const char *execute, const char *json, const char *target,
                 const char *failed)
{
    static struct ctlc c;
    char why[4300];
    int ret;
    if (!live_connect(v, &c))
        return false;
    int rc = ctlc_call_hv(&c, execute, json, 60000, &ret, why, sizeof(why));
    ctlc_close(&c);
    if (rc == 0)
        return true;
    verror("%s", failed);
    /* libvirt's words for a target the domain has. */
    if (strstr(why, "Duplicate device ID"))
        verror("operation failed: target %s already exists", target);
    else
        verror("internal error: %s", why);
    return false;
}

bool live_disk_attach(const struct vdom *v, const struct disk_def *k)
{
    static const char failed[] = "Failed to attach disk";
    if (strcmp(k->device, "disk") || strcmp(k->bus, "virtio")) {
        verror("%s", failed);
        verror("unsupported configuration: hvkit attaches only virtio disks (bus 'virtio', a "
               "vdX target) to a running domain, not a %s on bus '%s'",
               k->device, k->bus);
        return false;
    }
    /* The qemu driver reads the file before QEMU sees it. */
    char *abs = realpath(k->source, NULL);
    if (!abs) {
        verror("%s", failed);
        verror("Cannot access storage file '%s' (as uid:%u, gid:%u): %s", k->source,
               (unsigned)getuid(), (unsigned)getgid(), strerror(errno));
        return false;
    }
    char json[PATH_MAX + 256];
    bool fits = ctlc_image_args(json, sizeof(json), k->target, abs, k->driver, k->readonly);
    free(abs);
    return fits && call(v, CTL_CMD_BLOCKDEV_ATTACH, json, k->target, failed);
}

bool live_disk_detach(const struct vdom *v, const char *target)
{
    char json[128];
    snprintf(json, sizeof(json), "{\"domain\": 0, \"device\": \"%s\"}", target);
    return call(v, CTL_CMD_BLOCKDEV_DETACH, json, target, "Failed to detach disk");
}
