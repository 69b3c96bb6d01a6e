/*
 * Building and printing ImageInfo the way QEMU 7.2 does.
 *
 * The JSON form is the QAPI ImageInfo struct turned into a QDict (so its
 * members print in hash order, see json.h).  The human form is
 * bdrv_image_info_dump() in block/qapi.c: fixed lines for the common
 * fields, then the format-specific dictionary dumped generically with
 * dashes in key names turned into spaces.
 */
#include "info_build.h"
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

const struct jv *jv_get(const struct jv *obj, const char *key)
{
    for (const struct jv *c = obj->first; c; c = c->next) {
        if (!strcmp(c->key, key)) {
            return c;
        }
    }
    return NULL;
}

struct jv *image_info_build(struct img *img, const char *filename, char **backing,
                            char **backing_fmt)
{
    struct img_info info;
    struct jv *o = jv_obj();
    *backing = NULL;
    *backing_fmt = NULL;
    if (img_get_info(img, &info) < 0) {
        jv_free(o);
        return NULL;
    }
    /* Members are set in the QAPI schema's order (ImageInfo in
     * qapi/block-core.json); the printer reorders them like a QDict. */
    jv_set(o, "filename", jv_str(filename));
    jv_set(o, "format", jv_str(info.format == IMG_FMT_QCOW2 ? "qcow2" : "raw"));
    jv_set(o, "dirty-flag", jv_bool(info.dirty));
    jv_set(o, "actual-size", jv_uint(info.disk_size));
    jv_set(o, "virtual-size", jv_uint(info.virtual_size));
    if (info.format == IMG_FMT_QCOW2) {
        jv_set(o, "cluster-size", jv_uint(info.cluster_size));
    }
    if (info.has_backing) {
        char *full = path_combine(filename, info.backing_file);
        jv_set(o, "backing-filename", jv_str(info.backing_file));
        jv_set(o, "full-backing-filename", jv_str(full));
        if (info.backing_fmt[0]) {
            jv_set(o, "backing-filename-format", jv_str(info.backing_fmt));
            *backing_fmt = strdup(info.backing_fmt);
        }
        *backing = full;
    }
    int nsn = info.format == IMG_FMT_QCOW2 ? img_snapshot_count(img) : 0;
    if (nsn > 0) {
        /* SnapshotInfo members, schema order. */
        struct jv *list = jv_set(o, "snapshots", jv_list());
        for (int i = 0; i < nsn; i++) {
            struct img_snapshot_info sn;
            if (img_snapshot_get(img, i, &sn) < 0) {
                continue;
            }
            struct jv *s = jv_append(list, jv_obj());
            jv_set(s, "id", jv_str(sn.id));
            jv_set(s, "name", jv_str(sn.name));
            jv_set(s, "vm-state-size", jv_uint(sn.vm_state_size));
            jv_set(s, "date-sec", jv_uint(sn.date_sec));
            jv_set(s, "date-nsec", jv_uint(sn.date_nsec));
            jv_set(s, "vm-clock-sec", jv_uint(sn.vm_clock_nsec / 1000000000ULL));
            jv_set(s, "vm-clock-nsec", jv_uint(sn.vm_clock_nsec % 1000000000ULL));
            if (sn.icount != UINT64_MAX) {
                jv_set(s, "icount", jv_uint(sn.icount));
            }
        }
    }
    if (info.format == IMG_FMT_QCOW2) {
        /* ImageInfoSpecificQCow2 (block/qcow2.c qcow2_get_specific_info):
         * version 2 images report only compat, compression type and
         * refcount bits. */
        struct jv *fs = jv_set(o, "format-specific", jv_obj());
        jv_set(fs, "type", jv_str("qcow2"));
        struct jv *d = jv_set(fs, "data", jv_obj());
        jv_set(d, "compat", jv_str(info.qcow2_version == 2 ? "0.10" : "1.1"));
        /* data-file only when the header names the file, data-file-raw
         * whenever the image has one (qcow2_get_specific_info). */
        if (info.has_data_file && info.data_file[0]) {
            jv_set(d, "data-file", jv_str(info.data_file));
        }
        if (info.has_data_file) {
            jv_set(d, "data-file-raw", jv_bool(info.data_file_raw));
        }
        if (info.qcow2_version >= 3) {
            jv_set(d, "extended-l2", jv_bool(info.extended_l2));
            jv_set(d, "lazy-refcounts", jv_bool(info.lazy_refcounts));
            jv_set(d, "corrupt", jv_bool(info.corrupt));
        }
        jv_set(d, "refcount-bits", jv_int(info.refcount_bits));
        jv_set(d, "compression-type",
               jv_str(info.compression_type == IMG_COMP_ZSTD ? "zstd" : "zlib"));
        /* Qcow2BitmapInfo, in directory order (qcow2_get_bitmap_info_list),
         * only when there are bitmaps; flags "in-use" before "auto". */
        int nbm = img_bitmap_count(img);
        struct jv *bl = nbm > 0 ? jv_set(d, "bitmaps", jv_list()) : NULL;
        for (int i = 0; i < nbm; i++) {
            struct img_bitmap_info bi;
            if (img_bitmap_get(img, i, &bi) < 0) {
                continue;
            }
            struct jv *b = jv_append(bl, jv_obj());
            struct jv *fl = jv_set(b, "flags", jv_list());
            if (bi.in_use) {
                jv_append(fl, jv_str("in-use"));
            }
            if (bi.enabled) {
                jv_append(fl, jv_str("auto"));
            }
            jv_set(b, "name", jv_str(bi.name));
            jv_set(b, "granularity", jv_uint(bi.granularity));
        }
    }
    return o;
}

void snapshot_dump(const struct img_snapshot_info *sn)
{
    char line[512];
    img_snapshot_line(line, sizeof(line), sn);
    fputs(line, stdout);
}

void snapshot_table(struct img *img)
{
    /* The header, then one line per snapshot, each ended by a newline of
     * its own: bdrv_snapshot_dump() prints no newline, its callers do. */
    int n = img_snapshot_count(img);
    snapshot_dump(NULL);
    printf("\n");
    for (int i = 0; i < n; i++) {
        struct img_snapshot_info sn;
        if (img_snapshot_get(img, i, &sn) == 0) {
            snapshot_dump(&sn);
            printf("\n");
        }
    }
}

/* dump_qobject()/dump_qdict() of block/qapi.c. */
static void dump_value(int indent, const struct jv *v);

static void dump_dict(int indent, const struct jv *d)
{
    const struct jv *m[JV_MAX_MEMBERS];
    size_t n = jv_members_sorted(d, m, JV_MAX_MEMBERS);
    for (size_t i = 0; i < n; i++) {
        char key[128];
        snprintf(key, sizeof(key), "%s", m[i]->key);
        for (char *p = key; *p; p++) {
            if (*p == '-') {
                *p = ' ';
            }
        }
        bool composite = m[i]->type == JV_OBJ || m[i]->type == JV_LIST;
        printf("%*s%s:%s", indent * 4, "", key, composite ? "\n" : " ");
        dump_value(indent + 1, m[i]);
    }
}

static void dump_value(int indent, const struct jv *v)
{
    switch (v->type) {
    case JV_OBJ:
        dump_dict(indent, v);
        break;
    case JV_LIST: {
        int i = 0;
        for (const struct jv *c = v->first; c; c = c->next, i++) {
            bool composite = c->type == JV_OBJ || c->type == JV_LIST;
            printf("%*s[%i]:%s", indent * 4, "", i, composite ? "\n" : " ");
            dump_value(indent + 1, c);
        }
        break;
    }
    case JV_INT:
        printf("%lld\n", (long long)v->i);
        break;
    case JV_UINT:
        printf("%llu\n", (unsigned long long)v->u);
        break;
    case JV_BOOL:
        printf("%s\n", v->b ? "true" : "false");
        break;
    case JV_STR:
        printf("%s\n", v->s);
        break;
    }
}

void image_info_dump_human(const struct jv *info)
{
    char buf[64];
    const struct jv *v;
    uint64_t vsize = jv_get(info, "virtual-size")->u;
    img_size_to_str(buf, sizeof(buf), vsize);
    printf("image: %s\nfile format: %s\nvirtual size: %s (%llu bytes)\n",
           jv_get(info, "filename")->s, jv_get(info, "format")->s, buf, (unsigned long long)vsize);
    img_size_to_str(buf, sizeof(buf), jv_get(info, "actual-size")->u);
    printf("disk size: %s\n", buf);
    if ((v = jv_get(info, "cluster-size"))) {
        printf("cluster_size: %llu\n", (unsigned long long)v->u);
    }
    if (jv_get(info, "dirty-flag")->b) {
        printf("cleanly shut down: no\n");
    }
    if ((v = jv_get(info, "backing-filename"))) {
        const struct jv *full = jv_get(info, "full-backing-filename");
        printf("backing file: %s", v->s);
        if (strcmp(v->s, full->s)) {
            printf(" (actual path: %s)", full->s);
        }
        printf("\n");
        if ((v = jv_get(info, "backing-filename-format"))) {
            printf("backing file format: %s\n", v->s);
        }
    }
    if ((v = jv_get(info, "snapshots"))) {
        printf("Snapshot list:\n");
        snapshot_dump(NULL);
        printf("\n");
        for (const struct jv *s = v->first; s; s = s->next) {
            struct img_snapshot_info sn;
            const struct jv *ic = jv_get(s, "icount");
            snprintf(sn.id, sizeof(sn.id), "%s", jv_get(s, "id")->s);
            snprintf(sn.name, sizeof(sn.name), "%s", jv_get(s, "name")->s);
            sn.vm_state_size = jv_get(s, "vm-state-size")->u;
            sn.date_sec = (uint32_t)jv_get(s, "date-sec")->u;
            sn.vm_clock_nsec =
                jv_get(s, "vm-clock-sec")->u * 1000000000ULL + jv_get(s, "vm-clock-nsec")->u;
            sn.icount = ic ? ic->u : UINT64_MAX;
            snapshot_dump(&sn);
            printf("\n");
        }
    }
    if ((v = jv_get(info, "format-specific"))) {
        printf("Format specific information:\n");
        dump_value(1, jv_get(v, "data"));
    }
}
