/*
 * ctl_blk.c - query-blockstats: a domain's virtio disks' I/O counters
 * (dev/blkacct.h, kept in the domain by core/vdev.c) in QMP's shape, one
 * BlockStats object a disk, {"device": "virtioN", "stats":
 * BlockDeviceStats}, so that a QMP client reads it as QEMU 7.2's
 * (docs/control-protocol.md "query-blockstats").
 *
 * What QEMU adds that hv has no use for is left out: the protocol node
 * under the disk ("parent"), node names, qdev paths, timed statistics
 * intervals (an empty "timed_stats") and the zoned-storage members.
 */
#include "klib.h"

#include "ctl.h"
#include "hv.h"
#include "vdev.h"
#include "vdev_hot.h"

/* The member names of one kind of request, as QMP's BlockDeviceStats
 * spells them (rd_, wr_, flush_, unmap_), by enum blkacct_type. */
static const char *const kind[BLKACCT_NR] = {"rd", "wr", "flush", "unmap"};

/* "KIND_WHAT": value, for every kind that has WHAT.  Flushes move no
 * bytes and are never merged, so QMP has no flush_bytes or flush_merged. */
static void per_kind(struct json_out *o, const char *what, const uint64_t *v, bool flush)
{
    for (unsigned k = 0; k < BLKACCT_NR; k++) {
        char key[40];
        if (k == BLKACCT_FLUSH && !flush)
            continue;
        ksnprintf(key, sizeof(key), "%s_%s", kind[k], what);
        json_key(o, key);
        json_put_u64(o, v ? v[k] : 0);
    }
}

/* The same with QMP's prefix first: "failed_rd_operations", ... */
static void per_kind_prefixed(struct json_out *o, const char *prefix, const uint64_t *v)
{
    for (unsigned k = 0; k < BLKACCT_NR; k++) {
        char key[48];
        ksnprintf(key, sizeof(key), "%s_%s_operations", prefix, kind[k]);
        json_key(o, key);
        json_put_u64(o, v[k]);
    }
}

/* One disk's BlockDeviceStats. */
static void device_stats(struct json_out *o, const struct blkacct *s)
{
    uint64_t idle;
    json_obj_begin(o);
    per_kind(o, "bytes", s->bytes, false);
    per_kind(o, "operations", s->ops, true);
    per_kind(o, "total_time_ns", s->time_ns, true);
    /* hv carries out each request by itself: none is ever merged with
     * its neighbour, as QEMU's virtio-blk merges queued ones. */
    per_kind(o, "merged", NULL, false);
    /* Only once the disk saw an access, as in QEMU. */
    if (blkacct_idle_ns(s, &idle)) {
        json_key(o, "idle_time_ns");
        json_put_u64(o, idle);
    }
    per_kind_prefixed(o, "failed", s->failed);
    per_kind_prefixed(o, "invalid", s->invalid);
    json_key(o, "wr_highest_offset");
    json_put_u64(o, s->wr_highest_offset);
    /* Failed and invalid requests are counted, and count as accesses. */
    json_key(o, "account_invalid");
    json_put_bool(o, true);
    json_key(o, "account_failed");
    json_put_bool(o, true);
    json_key(o, "timed_stats");
    json_arr_begin(o);
    json_arr_end(o);
    json_obj_end(o);
}

/* One disk attached at run time, under its name (core/vdev_hot.h). */
static void hot_stats(void *ctx, const struct vdev_hot_info *info)
{
    struct ctl_req *r = ctx;
    struct domain *d;
    ctl_arg_domain(r, &d);
    json_obj_begin(r->out);
    json_key(r->out, "device");
    json_put_str(r->out, info->device);
    json_key(r->out, "stats");
    device_stats(r->out, &d->disk_stats[info->counter]);
    json_obj_end(r->out);
}

int ctl_query_blockstats(struct ctl_req *r)
{
    struct domain *d;
    unsigned n = 0;
    if (ctl_arg_domain(r, &d) < 0)
        return -1;
    json_arr_begin(r->out);
    /* The disks in query-block's order and names: the drive= words'. */
    for (unsigned i = 0; d->vdevs && i < d->vdevs->n && n < DOMAIN_MAX_DISKS; i++) {
        char dev[16];
        if (d->vdevs->spec[i].kind != VDEV_BLK)
            continue;
        ksnprintf(dev, sizeof(dev), "virtio%u", n);
        json_obj_begin(r->out);
        json_key(r->out, "device");
        json_put_str(r->out, dev);
        json_key(r->out, "stats");
        device_stats(r->out, &d->disk_stats[n++]);
        json_obj_end(r->out);
    }
    if (vdev_hot_each)
        vdev_hot_each(d, hot_stats, r);
    json_arr_end(r->out);
    return 0;
}
