/*
 * img.c: image handles, format probing, the raw format and the dispatch of
 * every public call to the format driver.
 *
 * A raw image is the virtual disk byte for byte, so its "driver" is just
 * bounds checking around the block backend.  qcow2 lives in qcow2_*.c.
 */
#include "internal.h"

/* Record an error message on the handle and return the negative code. */
int img_fail(struct img *img, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    /* Keep the first, most specific message if a caller adds another. */
    kvsnprintf(img->err, sizeof(img->err), fmt, ap);
    va_end(ap);
    return -code;
}

/* The same for functions without a handle. */
int err_set(struct img_err *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        kvsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
        err->code = -code;
    }
    return -code;
}

void *img_alloc(const struct img_env *env, size_t n)
{
    /* Zero-sized requests still get a distinct block so NULL means failure. */
    return env->alloc(env->ctx, n ? n : 1);
}

void img_free(const struct img_env *env, void *p)
{
    if (p)
        env->free(env->ctx, p);
}

char *img_strdup(const struct img_env *env, const char *s)
{
    size_t n = strlen(s);
    char *d = img_alloc(env, n + 1);
    if (d)
        memcpy(d, s, n + 1);
    return d;
}

/* Backend wrappers: turn a backend failure into a message naming the file. */
int io_read(struct img *img, uint64_t off, void *buf, size_t len)
{
    int r = img->io.read(img->io.ctx, off, buf, len);
    if (r < 0)
        return img_fail(img, -r, "Could not read %zu bytes at offset %llu of '%s'", len,
                        (unsigned long long)off, img->name);
    return 0;
}

int io_write(struct img *img, uint64_t off, const void *buf, size_t len)
{
    int r;
    /* The read-only check is repeated here so no path can write by mistake. */
    if (!img->rw)
        return img_fail(img, IMG_EROFS, "Image '%s' is opened read-only", img->name);
    r = img->io.write(img->io.ctx, off, buf, len);
    if (r < 0)
        return img_fail(img, -r, "Could not write %zu bytes at offset %llu of '%s'", len,
                        (unsigned long long)off, img->name);
    return 0;
}

int io_size(struct img *img, uint64_t *size)
{
    int r = img->io.size(img->io.ctx, size);
    if (r < 0)
        return img_fail(img, -r, "Could not get the size of '%s'", img->name);
    return 0;
}

const char *img_strerror(const struct img *img)
{
    return img->err;
}

const char *img_name(const struct img *img)
{
    return img->name;
}

uint64_t img_size(const struct img *img)
{
    return img->size;
}

struct img *img_backing(struct img *img)
{
    return img->backing;
}

int img_probe(const void *buf, size_t len)
{
    /* qcow2 is recognised by its magic and a version we know (qcow2.txt
     * "Header"); everything else is raw, as qemu-img's probing does. */
    if (len >= 8 && be32(buf) == QCOW2_MAGIC)
        return IMG_FMT_QCOW2;
    return IMG_FMT_RAW;
}

/* Free a handle whose open failed or that is being closed. */
static void img_destroy(struct img *img, bool close_io)
{
    const struct img_env *env = img->env;
    if (img->q)
        qc_close(img);
    if (img->backing)
        img_close(img->backing);
    if (close_io && img->io.close)
        img->io.close(img->io.ctx);
    img_free(env, img->name);
    img_free(env, img);
}

/*
 * Open the backing chain of img.  `depth` counts the images above; the
 * chain is refused when it is too deep (which also catches loops through
 * different names) or when a name repeats along the chain.
 */
static int open_chain(struct img *img, const char *bname, const char *bfmt, int depth,
                      const char *const *names, struct img_err *err);

static int img_open_depth(const struct img_env *env, struct img_io *io, const char *name,
                          const char *fmt, unsigned flags, int depth, const char *const *names,
                          struct img **out, struct img_err *err)
{
    struct img *img;
    uint8_t magic[8];
    int r;

    if (err) {
        err->code = 0;
        err->msg[0] = 0;
    }
    img = img_alloc(env, sizeof(*img));
    if (!img)
        return err_set(err, IMG_ENOMEM, "Out of memory");
    img->env = env;
    img->io = *io;
    img->flags = flags;
    img->rw = (flags & IMG_OPEN_RW) != 0;
    img->name = img_strdup(env, name ? name : "");
    if (!img->name) {
        img_free(env, img);
        return err_set(err, IMG_ENOMEM, "Out of memory");
    }

    r = io->read(io->ctx, 0, magic, sizeof(magic));
    if (r < 0) {
        err_set(err, -r, "Could not read image '%s'", img->name);
        goto fail;
    }
    if (!fmt) {
        img->format = img_probe(magic, sizeof(magic));
    } else if (!strcmp(fmt, "raw")) {
        img->format = IMG_FMT_RAW;
    } else if (!strcmp(fmt, "qcow2")) {
        img->format = IMG_FMT_QCOW2;
    } else {
        r = err_set(err, IMG_EINVAL, "Unknown driver '%s'", fmt);
        goto fail;
    }

    if (img->format == IMG_FMT_RAW) {
        /* QEMU's block layer counts whole sectors (block.c
         * bdrv_refresh_total_sectors), so a 6-byte raw file is a 512-byte
         * disk whose tail reads as zeros. */
        r = io_size(img, &img->file_size);
        img->size = (img->file_size + 511) & ~(uint64_t)511;
    } else {
        r = qc_open(img);
        if (r == 0 && img->q->backing_file[0] && !(flags & IMG_OPEN_NO_BACKING))
            r = open_chain(img, img->q->backing_file,
                           img->q->backing_fmt[0] ? img->q->backing_fmt : NULL, depth, names, err);
        else if (r < 0)
            err_set(err, -r, "%s", img->err);
    }
    /* Writes only once the whole chain opened (a refused image is never
     * modified). */
    if (r == 0 && img->q && img->rw) {
        r = qc_open_rw(img);
        if (r < 0)
            err_set(err, -r, "%s", img->err);
    }
    if (r < 0) {
        if (err && !err->msg[0])
            err_set(err, -r, "%s", img->err);
        goto fail;
    }
    *out = img;
    return 0;
fail:
    img_destroy(img, false);
    return r;
}

bool img_backing_path(const char *referrer, const char *name, char *out, size_t len)
{
    size_t dir = 0, n = strlen(name);
    /* The referrer's directory, up to and including its last slash, goes
     * in front of a relative name; "/" starts an absolute one.  (klib has
     * no strrchr: the core stays freestanding.) */
    if (name[0] != '/')
        for (size_t i = 0; referrer[i]; i++)
            if (referrer[i] == '/')
                dir = i + 1;
    if (dir + n + 1 > len)
        return false;
    memcpy(out, referrer, dir);
    memcpy(out + dir, name, n + 1);
    return true;
}

/* Put "Could not open backing file: " in front of err's message, as QEMU
 * does for every level of the chain that fails to open below it. */
static void err_prefix_backing(struct img_err *err)
{
    char inner[sizeof(err->msg)];
    if (!err)
        return;
    ksnprintf(inner, sizeof(inner), "%s", err->msg);
    ksnprintf(err->msg, sizeof(err->msg), "Could not open backing file: %s", inner);
}

static int open_chain(struct img *img, const char *bname, const char *bfmt, int depth,
                      const char *const *names, struct img_err *err)
{
    const char *chain[IMG_MAX_CHAIN + 1];
    char path[1024 + 4096];
    struct img_io bio;
    int i, r;

    if (depth + 1 >= IMG_MAX_CHAIN)
        return err_set(err, IMG_ELOOP, "Backing chain of '%s' is too deep (more than %d images)",
                       img->name, IMG_MAX_CHAIN);
    /* The backing image is known by its name relative to this image's
     * directory: the next level resolves against that, and map, commit
     * and messages show the file actually used, as QEMU's do. */
    if (!img_backing_path(img->name, bname, path, sizeof(path)))
        return err_set(err, IMG_EINVAL, "Backing file name '%s' is too long", bname);
    /* A name that already appears above us is a loop (a.qcow2 -> b -> a). */
    for (i = 0; i < depth; i++)
        if (!strcmp(names[i], path))
            return err_set(err, IMG_ELOOP, "Backing file '%s' of '%s' forms a loop", bname,
                           img->name);
    if (!strcmp(path, img->name))
        return err_set(err, IMG_ELOOP, "Image '%s' uses itself as backing file", img->name);
    if (!img->env->open_backing)
        return err_set(err, IMG_ENOTSUP, "Cannot open backing file '%s'", bname);
    memset(&bio, 0, sizeof(bio));
    r = img->env->open_backing(img->env->ctx, img->name, bname, false, &bio, err);
    if (r < 0) {
        if (err && !err->msg[0])
            err_set(err, -r, "Could not open '%s'", path);
        err_prefix_backing(err);
        return r;
    }
    for (i = 0; i < depth; i++)
        chain[i] = names[i];
    chain[depth] = img->name;
    r = img_open_depth(img->env, &bio, path, bfmt, img->flags & ~IMG_OPEN_RW, depth + 1, chain,
                       &img->backing, err);
    if (r < 0) {
        if (bio.close)
            bio.close(bio.ctx);
        if (r != -IMG_ELOOP)
            err_prefix_backing(err);
        return r;
    }
    return 0;
}

int img_open(const struct img_env *env, struct img_io *io, const char *name, const char *fmt,
             unsigned flags, struct img **out, struct img_err *err)
{
    return img_open_depth(env, io, name, fmt, flags, 0, NULL, out, err);
}

int img_close(struct img *img)
{
    int r = 0;
    if (!img)
        return 0;
    /* Bitmaps that recorded this session's writes are stored first. */
    if (img->rw && img->q)
        r = qc_bitmaps_close(img);
    if (img->rw) {
        int f = img_flush(img);
        r = r < 0 ? r : f;
    }
    img_destroy(img, true);
    return r;
}

/* Validate a guest access against the virtual disk. */
static int check_range(struct img *img, uint64_t off, uint64_t len)
{
    if (off > img->size || len > img->size - off)
        return img_fail(img, IMG_ERANGE,
                        "Access at offset %llu, length %llu is beyond the end of the %llu-byte "
                        "image '%s'",
                        (unsigned long long)off, (unsigned long long)len,
                        (unsigned long long)img->size, img->name);
    return 0;
}

int img_read_backing(struct img *img, uint64_t off, void *buf, size_t len)
{
    struct img *b = img->backing;
    size_t n = 0;
    /* The part the backing file covers comes from it; the rest (a backing
     * file shorter than the overlay, or none) reads as zeros. */
    if (b && off < b->size) {
        n = len;
        if (n > b->size - off)
            n = (size_t)(b->size - off);
        if (img_read(b, off, buf, n) < 0)
            return img_fail(img, IMG_EIO, "%s", b->err);
    }
    memset((uint8_t *)buf + n, 0, len - n);
    return 0;
}

int img_read(struct img *img, uint64_t off, void *buf, size_t len)
{
    int r = check_range(img, off, len);
    if (r < 0 || len == 0)
        return r;
    if (img->format == IMG_FMT_RAW)
        return io_read(img, off, buf, len);
    return qc_read(img, off, buf, len);
}

int img_write(struct img *img, uint64_t off, const void *buf, size_t len)
{
    int r = check_range(img, off, len);
    if (r < 0 || len == 0)
        return r;
    if (!img->rw)
        return img_fail(img, IMG_EROFS, "Image '%s' is opened read-only", img->name);
    if (img->format == IMG_FMT_RAW) {
        r = io_write(img, off, buf, len);
        /* A write into the zero-padded tail makes the file longer. */
        if (r == 0 && off + len > img->file_size)
            img->file_size = off + len;
        return r;
    }
    r = qc_bitmaps_dirty(img, off, len);
    return r < 0 ? r : qc_write(img, off, buf, len);
}

int img_write_zeroes(struct img *img, uint64_t off, uint64_t len, unsigned flags)
{
    int r = check_range(img, off, len);
    if (r < 0 || len == 0)
        return r;
    if (!img->rw)
        return img_fail(img, IMG_EROFS, "Image '%s' is opened read-only", img->name);
    if (img->format == IMG_FMT_QCOW2) {
        r = qc_bitmaps_dirty(img, off, len);
        return r < 0 ? r : qc_write_zeroes(img, off, len, flags);
    }
    /* Raw: write zeros in bounded chunks from a zeroed buffer. */
    {
        static const uint8_t zero[4096];
        while (len) {
            size_t n = len > sizeof(zero) ? sizeof(zero) : (size_t)len;
            r = io_write(img, off, zero, n);
            if (r < 0)
                return r;
            if (off + n > img->file_size)
                img->file_size = off + n;
            off += n;
            len -= n;
        }
    }
    return 0;
}

uint32_t img_cluster_size(const struct img *img)
{
    return img->q ? img->q->cluster_size : 512;
}

int img_flush(struct img *img)
{
    int r;
    if (!img->rw)
        return 0;
    if (img->q) {
        r = qc_flush(img);
        if (r < 0)
            return r;
    }
    if (img->io.flush && !(img->flags & IMG_OPEN_NO_FLUSH) && img->io.flush(img->io.ctx) < 0)
        return img_fail(img, IMG_EIO, "Could not flush '%s'", img->name);
    return 0;
}

int img_get_info(struct img *img, struct img_info *info)
{
    memset(info, 0, sizeof(*info));
    info->format = img->format;
    info->virtual_size = img->size;
    if (io_size(img, &info->file_size) < 0)
        return -IMG_EIO;
    info->disk_size = info->file_size;
    if (img->io.allocated_size)
        img->io.allocated_size(img->io.ctx, &info->disk_size);
    if (img->q) {
        struct qcow2 *q = img->q;
        info->qcow2_version = (int)q->h.version;
        info->cluster_size = q->cluster_size;
        info->refcount_bits = q->rc_bits;
        info->lazy_refcounts = (q->h.compatible_features & QF_COMPAT_LAZY_REFCOUNTS) != 0;
        info->corrupt = (q->h.incompatible_features & QF_INCOMPAT_CORRUPT) != 0;
        info->dirty = (q->h.incompatible_features & QF_INCOMPAT_DIRTY) != 0;
        info->extended_l2 = q->ext_l2;
        info->compression_type = q->h.compression_type;
        info->has_backing = q->backing_file[0] != 0;
        memcpy(info->backing_file, q->backing_file, sizeof(info->backing_file));
        memcpy(info->backing_fmt, q->backing_fmt, sizeof(info->backing_fmt));
        info->nb_snapshots = q->nb_snaps;
        info->incompatible_features = q->h.incompatible_features;
        info->compatible_features = q->h.compatible_features;
        info->autoclear_features = q->h.autoclear_features;
        info->bitmaps_stale = q->bm_stale;
    }
    return 0;
}

const struct img_qcow2_header *img_qcow2_get_header(const struct img *img)
{
    return img->q ? &img->q->h : NULL;
}

int img_qcow2_ext_count(const struct img *img)
{
    return img->q ? img->q->nb_exts : 0;
}

int img_qcow2_ext_get(const struct img *img, int index, uint32_t *type, uint32_t *len,
                      const void **data)
{
    if (!img->q || index < 0 || index >= img->q->nb_exts)
        return -IMG_EINVAL;
    *type = img->q->exts[index].type;
    *len = img->q->exts[index].len;
    *data = img->q->exts[index].data;
    return 0;
}

int img_prealloc_parse(const char *s)
{
    static const char *const names[] = {"off", "metadata", "falloc", "full"};
    for (unsigned i = 0; i < KARRAY_SIZE(names); i++)
        if (!strcmp(s, names[i]))
            return (int)i;
    return -1;
}
