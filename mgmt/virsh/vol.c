/*
 * vol-* commands: the volumes of a dir pool are the regular files in its
 * directory, and everything that reads or writes an image goes through
 * imgtool's library (imgtool/lib/img.h), the code behind bin/imgtool, where
 * libvirt would run qemu-img.  Output lines and errors are virsh 9.0's.
 */
#include "pool.h"
#include "virsh.h"

#include "../common/size.h"
#include "../common/vtable.h"

#include "img.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* A volume found: its pool, its name in the pool and its file. */
struct vol {
    struct pool pool;
    char name[256];
    char path[PATH_MAX + 300];
};

/* What vol-info and vol-dumpxml show of a volume. */
struct vol_facts {
    const char *format;  /* "raw" or "qcow2" */
    uint64_t capacity;   /* the guest-visible size */
    uint64_t allocation; /* bytes the file occupies on disk */
    uint64_t physical;   /* the file's length */
    struct img_info img; /* qcow2 details (compat, cluster size, backing) */
    struct stat st;
};

static void vol_in(struct vol *v, const struct pool *p, const char *name)
{
    v->pool = *p;
    snprintf(v->name, sizeof(v->name), "%s", name);
    snprintf(v->path, sizeof(v->path), "%s/%s", p->target, name);
}

static bool is_file(const char *path)
{
    struct stat st;
    return !stat(path, &st) && S_ISREG(st.st_mode);
}

/* A volume given by path (or key, which is the path for dir pools): the
 * started pool whose directory holds it. */
static bool lookup_path(const char *path, struct vol *v)
{
    const char *slash = strrchr(path, '/');
    int count;
    struct pool *pools = store_list(&count);
    bool found = false;
    for (int i = 0; i < count && !found && slash; i++) {
        size_t len = strlen(pools[i].target);
        if (pools[i].active && (size_t)(slash - path) == len &&
            !strncmp(path, pools[i].target, len) && is_file(path)) {
            vol_in(v, &pools[i], slash + 1);
            found = true;
        }
    }
    free(pools);
    return found;
}

/* Find the volume a command names (its "vol" option, with "pool" if
 * given), printing virsh's lines when there is none. */
static bool vol_lookup(const struct cmd_call *call, const char *opt, struct vol *v)
{
    const char *name = opt_str(call, opt), *pool = opt_str(call, "pool");
    struct pool p;
    if (pool) {
        if (!pool_lookup(pool, &p))
            return false;
        if (p.active && !strchr(name, '/')) {
            vol_in(v, &p, name);
            if (is_file(v->path))
                return true;
        } else if (p.active && lookup_path(name, v)) {
            return true;
        }
        /* virsh tries the word as a name in the pool, then as a key, then as
         * a path, so the error it shows is the last lookup's. */
        verror("failed to get vol '%s'", name);
        if (!p.active)
            verror("Requested operation is not valid: storage pool '%s' is not active", p.name);
        else
            verror("Storage volume not found: no storage vol with matching path '%s'", name);
        return false;
    }
    if (lookup_path(name, v))
        return true;
    verror("failed to get vol '%s', specifying --pool might help", name);
    verror("Storage volume not found: no storage vol with matching path '%s'", name);
    return false;
}

/* Measure a volume: its format and sizes, read with imgtool's library. */
static void vol_facts(const struct vol *v, struct vol_facts *f)
{
    struct img *img;
    struct img_err err;
    memset(f, 0, sizeof(*f));
    stat(v->path, &f->st);
    f->format = "raw";
    f->capacity = (uint64_t)f->st.st_size;
    /* The backing chain is not needed to read the header. */
    if (!img_open_file(v->path, NULL, IMG_OPEN_NO_BACKING, &img, &err)) {
        img_get_info(img, &f->img);
        f->capacity = f->img.virtual_size;
        f->format = f->img.format == IMG_FMT_QCOW2 ? "qcow2" : "raw";
        img_close(img);
    }
    /* libvirt's "allocation" of a file is what it occupies on disk. */
    f->allocation = (uint64_t)f->st.st_blocks * 512;
    f->physical = (uint64_t)f->st.st_size;
}

static bool info(const struct cmd_call *call)
{
    struct vol v;
    struct vol_facts f;
    char cap[64], alloc[64];
    if (!vol_lookup(call, "vol", &v))
        return false;
    vol_facts(&v, &f);
    if (opt_bool(call, "bytes")) {
        snprintf(cap, sizeof(cap), "%llu bytes", (unsigned long long)f.capacity);
        snprintf(alloc, sizeof(alloc), "%llu bytes", (unsigned long long)f.allocation);
    } else {
        size_pretty(f.capacity, cap, sizeof(cap));
        size_pretty(f.allocation, alloc, sizeof(alloc));
    }
    printf("%-15s %s\n%-15s %s\n%-15s %s\n%-15s %s\n", "Name:", v.name, "Type:", "file",
           "Capacity:", cap, "Allocation:", alloc);
    return true;
}

/* The <permissions> and <timestamps> libvirt reports for a file. */
static void print_file_meta(const struct stat *st, const char *indent)
{
    printf("%s<permissions>\n%s  <mode>%04o</mode>\n%s  <owner>%u</owner>\n"
           "%s  <group>%u</group>\n%s</permissions>\n",
           indent, indent, (unsigned)(st->st_mode & 07777), indent, (unsigned)st->st_uid, indent,
           (unsigned)st->st_gid, indent);
    printf("%s<timestamps>\n", indent);
    printf("%s  <atime>%lld.%09ld</atime>\n", indent, (long long)st->st_atim.tv_sec,
           st->st_atim.tv_nsec);
    printf("%s  <mtime>%lld.%09ld</mtime>\n", indent, (long long)st->st_mtim.tv_sec,
           st->st_mtim.tv_nsec);
    printf("%s  <ctime>%lld.%09ld</ctime>\n", indent, (long long)st->st_ctim.tv_sec,
           st->st_ctim.tv_nsec);
    printf("%s</timestamps>\n", indent);
}

static bool dumpxml(const struct cmd_call *call)
{
    struct vol v;
    struct vol_facts f;
    if (!vol_lookup(call, "vol", &v))
        return false;
    vol_facts(&v, &f);
    printf("<volume type='file'>\n  <name>%s</name>\n  <key>%s</key>\n", v.name, v.path);
    printf("  <capacity unit='bytes'>%llu</capacity>\n", (unsigned long long)f.capacity);
    printf("  <allocation unit='bytes'>%llu</allocation>\n", (unsigned long long)f.allocation);
    printf("  <physical unit='bytes'>%llu</physical>\n", (unsigned long long)f.physical);
    printf("  <target>\n    <path>%s</path>\n    <format type='%s'/>\n", v.path, f.format);
    print_file_meta(&f.st, "    ");
    if (f.img.format == IMG_FMT_QCOW2) {
        /* qcow2 v3 is "compat 1.1" in qemu-img's words, v2 is "0.10". */
        printf("    <compat>%s</compat>\n", f.img.qcow2_version >= 3 ? "1.1" : "0.10");
        printf("    <clusterSize unit='B'>%u</clusterSize>\n", f.img.cluster_size);
        if (f.img.lazy_refcounts)
            printf("    <features>\n      <lazy_refcounts/>\n    </features>\n");
        else
            printf("    <features/>\n");
    }
    printf("  </target>\n");
    if (f.img.has_backing) {
        char path[PATH_MAX];
        img_backing_path(v.path, f.img.backing_file, path, sizeof(path));
        printf("  <backingStore>\n    <path>%s</path>\n", path);
        if (f.img.backing_fmt[0])
            printf("    <format type='%s'/>\n", f.img.backing_fmt);
        printf("  </backingStore>\n");
    }
    printf("</volume>\n");
    return true;
}

static int by_name(const void *a, const void *b)
{
    return strcasecmp(*(char *const *)a, *(char *const *)b);
}

/* The names of the regular files in a pool's directory, sorted as virsh
 * sorts volumes; *count gets their number.  Hidden files are skipped. */
static char **vol_names(const struct pool *p, int *count)
{
    char **names = NULL;
    *count = 0;
    DIR *d = opendir(p->target);
    if (!d)
        return NULL;
    for (struct dirent *e; (e = readdir(d));) {
        char path[PATH_MAX + 300];
        snprintf(path, sizeof(path), "%s/%s", p->target, e->d_name);
        if (e->d_name[0] == '.' || !is_file(path))
            continue;
        names = realloc(names, sizeof(*names) * (size_t)(*count + 1));
        if (!names || !(names[*count] = strdup(e->d_name)))
            abort();
        (*count)++;
    }
    closedir(d);
    if (*count)
        qsort(names, (size_t)*count, sizeof(*names), by_name);
    return names;
}

static bool list(const struct cmd_call *call)
{
    struct pool p;
    if (!pool_lookup(opt_str(call, "pool"), &p))
        return false;
    if (!p.active) {
        verror("Failed to list volumes");
        verror("Requested operation is not valid: storage pool '%s' is not active", p.name);
        return false;
    }
    bool details = opt_bool(call, "details");
    static const char *const brief[] = {"Name", "Path"};
    static const char *const full[] = {"Name", "Path", "Type", "Capacity", "Allocation"};
    struct vtable *t = details ? vtable_new(5, full) : vtable_new(2, brief);
    int count;
    char **names = vol_names(&p, &count);
    for (int i = 0; i < count; i++) {
        struct vol v;
        struct vol_facts f;
        char cap[32], alloc[32];
        vol_in(&v, &p, names[i]);
        vol_facts(&v, &f);
        size_pretty(f.capacity, cap, sizeof(cap));
        size_pretty(f.allocation, alloc, sizeof(alloc));
        const char *row[] = {v.name, v.path, "file", cap, alloc};
        vtable_add(t, row);
        free(names[i]);
    }
    free(names);
    vtable_print(t, stdout, !virsh.quiet);
    vtable_free(t);
    return true;
}

/* Read a size option as virsh does, printing "Malformed size" on error. */
static bool size_opt(const char *text, uint64_t *out)
{
    char why[128];
    if (size_parse_scaled(text, 1, out, why, sizeof(why)))
        return true;
    verror("Malformed size %s", text);
    if (why[0])
        verror("%s", why);
    return false;
}

/* The options of a new volume: format, size, backing file. */
static bool create_opts(const struct cmd_call *call, const struct pool *p, uint64_t capacity,
                        struct img_create_opts *o, char *backing, size_t blen)
{
    const char *fmt = opt_str(call, "format"), *bvol = opt_str(call, "backing-vol");
    img_create_opts_init(o);
    o->size = capacity;
    if (!fmt || !strcmp(fmt, "raw")) {
        o->format = IMG_FMT_RAW;
    } else if (!strcmp(fmt, "qcow2")) {
        o->format = IMG_FMT_QCOW2;
    } else {
        verror("unsupported configuration: hvkit storage supports the formats raw and qcow2, "
               "not '%s'",
               fmt);
        return false;
    }
    if (bvol) {
        if (o->format != IMG_FMT_QCOW2) {
            verror("unsupported configuration: backing storage not supported for raw volumes");
            return false;
        }
        /* A backing volume is a name in the same pool, or a path. */
        if (bvol[0] == '/')
            snprintf(backing, blen, "%s", bvol);
        else
            snprintf(backing, blen, "%s/%s", p->target, bvol);
        if (!is_file(backing)) {
            verror("Storage volume not found: no storage vol with matching path '%s'", bvol);
            return false;
        }
        o->backing_file = backing;
        o->backing_fmt = opt_str(call, "backing-vol-format");
    }
    if (opt_bool(call, "prealloc-metadata"))
        o->prealloc = IMG_PREALLOC_METADATA;
    return true;
}

/* Give a raw volume its first `bytes` on disk, as libvirt's dir backend
 * does with the allocation virsh asks for (the whole capacity unless
 * --allocation says less), so the space is reserved up front. */
static bool allocate_raw(const char *path, uint64_t bytes)
{
    if (!bytes)
        return true;
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    int rc = fd < 0 ? errno : posix_fallocate(fd, 0, (off_t)bytes);
    if (fd >= 0)
        close(fd);
    if (rc) {
        verror("cannot allocate %llu bytes in file '%s': %s", (unsigned long long)bytes, path,
               strerror(rc));
        return false;
    }
    return true;
}

/* Create the volume file; on any failure leave no file behind. */
static bool make_volume(const struct vol *v, const struct img_create_opts *o, uint64_t alloc)
{
    struct img_err err = {0};
    if (img_create_file(v->path, o, &err) < 0) {
        unlink(v->path);
        verror("%s", err.msg);
        return false;
    }
    if (o->format == IMG_FMT_RAW && !allocate_raw(v->path, alloc < o->size ? alloc : o->size)) {
        unlink(v->path);
        return false;
    }
    return true;
}

static bool create_as(const struct cmd_call *call)
{
    const char *name = opt_str(call, "name");
    struct pool p;
    struct vol v;
    struct img_create_opts o;
    char backing[PATH_MAX + 300];
    uint64_t capacity, alloc;
    if (!pool_lookup(opt_str(call, "pool"), &p) || !size_opt(opt_str(call, "capacity"), &capacity))
        return false;
    /* Without --allocation, virsh asks for the whole capacity. */
    alloc = capacity;
    if (opt_str(call, "allocation") && !size_opt(opt_str(call, "allocation"), &alloc))
        return false;
    vol_in(&v, &p, name);
    if (!p.active) {
        verror("Failed to create vol %s", name);
        verror("Requested operation is not valid: storage pool '%s' is not active", p.name);
        return false;
    }
    if (strchr(name, '/')) {
        verror("Failed to create vol %s", name);
        verror("XML error: volume name '%s' cannot contain '/'", name);
        return false;
    }
    if (!access(v.path, F_OK)) {
        verror("Failed to create vol %s", name);
        verror("operation failed: storage vol already exists");
        return false;
    }
    if (!create_opts(call, &p, capacity, &o, backing, sizeof(backing)) ||
        !make_volume(&v, &o, alloc)) {
        verror("Failed to create vol %s", name);
        return false;
    }
    vinfo("Vol %s created", name);
    return true;
}

static bool delete (const struct cmd_call *call)
{
    struct vol v;
    if (!vol_lookup(call, "vol", &v))
        return false;
    if (unlink(v.path)) {
        verror("Failed to delete vol %s", v.name);
        verror("cannot unlink file '%s': %s", v.path, strerror(errno));
        return false;
    }
    vinfo("Vol %s deleted", v.name);
    return true;
}

/* The size vol-resize asks for: absolute, or added with --delta. */
static bool resize_target(const struct cmd_call *call, uint64_t current, uint64_t *want)
{
    const char *text = opt_str(call, "capacity");
    bool delta = opt_bool(call, "delta");
    bool minus = text[0] == '-';
    uint64_t amount;
    if (minus && !opt_bool(call, "shrink")) {
        verror("negative size requires --shrink");
        return false;
    }
    if (!size_opt(text + minus, &amount))
        return false;
    if (minus || delta) {
        /* "-1G" shrinks by that much; --delta "+1G" or "1G" grows. */
        if (minus && amount > current) {
            verror("Failed to change size of volume '%s' to %s", opt_str(call, "vol"), text);
            verror("invalid argument: can't shrink capacity below 0 bytes");
            return false;
        }
        *want = minus ? current - amount : current + amount;
    } else {
        *want = amount;
    }
    return true;
}

static bool resize(const struct cmd_call *call)
{
    struct vol v;
    struct img *img;
    struct img_err err;
    uint64_t want;
    const char *text = opt_str(call, "capacity");
    if (!vol_lookup(call, "vol", &v))
        return false;
    if (img_open_file(v.path, NULL, IMG_OPEN_RW, &img, &err) < 0) {
        verror("Failed to change size of volume '%s' to %s", v.name, text);
        verror("%s", err.msg);
        return false;
    }
    bool ok = resize_target(call, img_size(img), &want);
    if (ok && want < img_size(img) && !opt_bool(call, "shrink")) {
        verror("Failed to change size of volume '%s' to %s", v.name, text);
        verror("invalid argument: Can't shrink capacity below current capacity unless shrink "
               "flag explicitly specified");
        ok = false;
    }
    int prealloc = opt_bool(call, "allocate") ? IMG_PREALLOC_FALLOC : IMG_PREALLOC_OFF;
    if (ok && img_resize(img, want, prealloc, true) < 0) {
        verror("Failed to change size of volume '%s' to %s", v.name, text);
        verror("%s", img_strerror(img));
        ok = false;
    }
    if (img_close(img) < 0 && ok) {
        verror("Failed to change size of volume '%s' to %s", v.name, text);
        ok = false;
    }
    if (ok)
        vinfo("Size of volume '%s' successfully %s %s", v.name,
              opt_bool(call, "delta") || text[0] == '-' ? "changed by" : "changed to", text);
    return ok;
}

/* Copy every allocated byte of `src` to `dst`, leaving holes unwritten, as
 * a "qemu-img convert" between volumes would (the chain is followed, so a
 * clone of an overlay stands on its own). */
static bool copy_data(struct img *src, struct img *dst)
{
    enum { CHUNK = 1 << 20 };
    char *buf = malloc(CHUNK);
    uint64_t size = img_size(src), off = 0;
    bool ok = buf != NULL;
    while (ok && off < size) {
        struct img_extent ext;
        ok = img_block_status(src, off, size - off, true, &ext) >= 0 && ext.length;
        if (!ok)
            break;
        uint64_t len = ext.length > CHUNK ? CHUNK : ext.length;
        if ((ext.flags & IMG_BS_DATA) && !(ext.flags & IMG_BS_ZERO)) {
            ok = img_read(src, off, buf, len) >= 0 && img_write(dst, off, buf, len) >= 0;
        }
        off += len;
    }
    free(buf);
    return ok;
}

static bool clone_into(const struct vol *src, const struct vol *dst, bool prealloc)
{
    struct img *in, *out;
    struct img_err err;
    struct img_info info;
    struct img_create_opts o;
    if (img_open_file(src->path, NULL, 0, &in, &err) < 0) {
        verror("%s", err.msg);
        return false;
    }
    img_get_info(in, &info);
    img_create_opts_init(&o);
    o.format = info.format;
    o.size = info.virtual_size;
    if (info.format == IMG_FMT_QCOW2)
        o.cluster_size = info.cluster_size;
    if (prealloc)
        o.prealloc = IMG_PREALLOC_METADATA;
    bool ok = make_volume(dst, &o, 0);
    if (ok && img_open_file(dst->path, NULL, IMG_OPEN_RW, &out, &err) < 0) {
        verror("%s", err.msg);
        ok = false;
    } else if (ok) {
        ok = copy_data(in, out);
        if (!ok)
            verror("%s", img_strerror(out)[0] ? img_strerror(out) : img_strerror(in));
        ok = img_close(out) >= 0 && ok;
    }
    img_close(in);
    if (!ok)
        unlink(dst->path);
    return ok;
}

static bool clone(const struct cmd_call *call)
{
    struct vol src, dst;
    const char *newname = opt_str(call, "newname");
    if (!vol_lookup(call, "vol", &src))
        return false;
    vol_in(&dst, &src.pool, newname);
    if (strchr(newname, '/') || !access(dst.path, F_OK)) {
        verror("Failed to clone vol from %s", src.name);
        verror(strchr(newname, '/') ? "XML error: volume name '%s' cannot contain '/'"
                                    : "operation failed: storage vol '%s' already exists",
               newname);
        return false;
    }
    if (!clone_into(&src, &dst, opt_bool(call, "prealloc-metadata"))) {
        verror("Failed to clone vol from %s", src.name);
        return false;
    }
    vinfo("Vol %s cloned from %s", newname, src.name);
    return true;
}

static bool path_of(const struct cmd_call *call)
{
    struct vol v;
    if (!vol_lookup(call, "vol", &v))
        return false;
    printf("%s\n", v.path);
    return true;
}

static bool name_of(const struct cmd_call *call)
{
    struct vol v;
    if (!vol_lookup(call, "vol", &v))
        return false;
    printf("%s\n", v.name);
    return true;
}

static bool pool_of(const struct cmd_call *call)
{
    struct vol v;
    if (!vol_lookup(call, "vol", &v))
        return false;
    printf("%s\n", opt_bool(call, "uuid") ? v.pool.uuid : v.pool.name);
    return true;
}

#define VOL_ARG                                                                                    \
    {                                                                                              \
        "vol", OPT_STRING, true, "vol name, key or path"                                           \
    }
#define POOL_OPT                                                                                   \
    {                                                                                              \
        "pool", OPT_STRING, false, "pool name or uuid"                                             \
    }

const struct cmd_def vol_cmds[] = {
    {"vol-clone",
     clone,
     "clone a volume.",
     {VOL_ARG,
      {"newname", OPT_STRING, true, "clone name"},
      POOL_OPT,
      {"prealloc-metadata", OPT_BOOL, false,
       "preallocate metadata (for qcow2 instead of full "
       "allocation)"}},
     "Clone an existing volume within the parent pool."},
    {"vol-create-as",
     create_as,
     "create a volume from a set of args",
     {{"pool", OPT_STRING, true, "pool name"},
      {"name", OPT_STRING, true, "name of the volume"},
      {"capacity", OPT_STRING, true, "size of the vol, as scaled integer (default bytes)"},
      {"allocation", OPT_STRING, false,
       "initial allocation size, as scaled integer (default "
       "bytes)"},
      {"format", OPT_STRING, false, "file format type raw,bochs,qcow,qcow2,qed,vmdk"},
      {"backing-vol", OPT_STRING, false, "the backing volume if taking a snapshot"},
      {"backing-vol-format", OPT_STRING, false, "format of backing volume if taking a snapshot"},
      {"prealloc-metadata", OPT_BOOL, false,
       "preallocate metadata (for qcow2 instead of full "
       "allocation)"}},
     "Create a vol."},
    {"vol-delete", delete, "delete a vol", {VOL_ARG, POOL_OPT}, "Delete a given vol."},
    {"vol-dumpxml",
     dumpxml,
     "vol information in XML",
     {VOL_ARG, POOL_OPT},
     "Output the vol information as an XML dump to stdout."},
    {"vol-info",
     info,
     "storage vol information",
     {VOL_ARG,
      POOL_OPT,
      {"bytes", OPT_BOOL, false,
       "sizes are represented in bytes rather than "
       "pretty units"}},
     "Returns basic information about the storage vol."},
    {"vol-key",
     path_of,
     "returns the volume key for a given volume name or path",
     {{"vol", OPT_STRING, true, "volume name or path"}, POOL_OPT},
     NULL},
    {"vol-list",
     list,
     "list vols",
     {{"pool", OPT_STRING, true, "pool name or uuid"},
      {"details", OPT_BOOL, false, "display extended details for volumes"}},
     "Returns list of vols by pool."},
    {"vol-name",
     name_of,
     "returns the volume name for a given volume key or path",
     {{"vol", OPT_STRING, true, "volume key or path"}},
     NULL},
    {"vol-path",
     path_of,
     "returns the volume path for a given volume name or key",
     {{"vol", OPT_STRING, true, "volume name or key"}, POOL_OPT},
     NULL},
    {"vol-pool",
     pool_of,
     "returns the storage pool for a given volume key or path",
     {{"vol", OPT_STRING, true, "volume key or path"},
      {"uuid", OPT_BOOL, false, "return the pool uuid rather than pool name"}},
     NULL},
    {"vol-resize",
     resize,
     "resize a vol",
     {VOL_ARG,
      {"capacity", OPT_STRING, true,
       "new capacity for the vol, as scaled integer (default "
       "bytes)"},
      POOL_OPT,
      {"allocate", OPT_BOOL, false, "allocate the new capacity, rather than leaving it sparse"},
      {"delta", OPT_BOOL, false,
       "use capacity as a delta to current size, rather than the new "
       "size"},
      {"shrink", OPT_BOOL, false, "allow the resize to shrink the volume"}},
     "Resizes a storage volume. This is safe only for storage volumes not in use by an active "
     "guest.\nSee blockresize for live resizing."},
    {NULL, NULL, NULL, {{0}}, NULL},
};
