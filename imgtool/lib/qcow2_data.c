/*
 * qcow2_data.c: external data files.
 *
 * A qcow2 v3 image may keep its guest data in a second file (qcow2.txt
 * "Header", incompatible feature bit 2, "External data file bit"): "Guest
 * clusters are then stored in the external data file.  For such images,
 * clusters in the external data file are not refcounted.  The offset field
 * in the Standard Cluster Descriptor must match the guest offset and
 * neither compressed clusters nor internal snapshots are supported."  The
 * image file keeps the header, the L1/L2 tables and the refcounts of that
 * metadata; the L2 entries still say which clusters are allocated, zero or
 * unallocated, only their offsets point into the data file.
 *
 * Autoclear bit 1, "Raw external data bit", promises more: the data file
 * can be read as a raw image of the disk on its own.  Every zero write then
 * writes zeros into the data file too, and the image starts with every
 * cluster mapped (QEMU creates it with preallocation=metadata).
 *
 * The file's name comes from the "External data file name" header
 * extension (qcow2.txt "Header extensions", type 0x44415441).  QEMU 7.2
 * opens that name as it stands, relative to the current directory and not
 * to the image's directory (unlike a backing file name), and qemu-img
 * creates it the same way; imgtool does the same, so that both tools find
 * the same file.
 */
#include "internal.h"

/* The "External data file name" extension, or NULL. */
static struct qc_ext *name_ext(struct qcow2 *q)
{
    for (int i = 0; i < q->nb_exts; i++)
        if (q->exts[i].type == QEXT_DATA_FILE)
            return &q->exts[i];
    return NULL;
}

/* The name from the "External data file name" extension into
 * q->data_name ("" without one). */
static int read_name(struct img *img)
{
    struct qcow2 *q = img->q;
    struct qc_ext *e = name_ext(q);
    if (!e)
        return 0;
    /* The name is not NUL-terminated on disk (qcow2.txt "Header
     * extensions": "This is not null-terminated"). */
    if (e->len >= sizeof(q->data_name))
        return img_fail(img, IMG_ECORRUPT, "Invalid external data file name");
    memcpy(q->data_name, e->data, e->len);
    q->data_name[e->len] = 0;
    if (strlen(q->data_name) != e->len)
        return img_fail(img, IMG_ECORRUPT, "Invalid external data file name");
    return 0;
}

/* Open the data file at q->data_path through env->open_backing with an
 * empty referrer, so the name is used as it stands (see the file
 * comment). */
static int open_dio(struct img *img)
{
    struct qcow2 *q = img->q;
    struct img_err err;
    int r;
    if (!img->env->open_backing)
        return img_fail(img, IMG_ENOTSUP, "Could not open '%s': no file access", q->data_path);
    memset(&err, 0, sizeof(err));
    memset(&q->dio, 0, sizeof(q->dio));
    r = img->env->open_backing(img->env->ctx, "", q->data_path, img->rw, &q->dio, &err);
    if (r < 0) {
        memset(&q->dio, 0, sizeof(q->dio));
        if (err.msg[0])
            return img_fail(img, -r, "%s", err.msg);
        return img_fail(img, -r, "Could not open '%s'", q->data_path);
    }
    return 0;
}

/* Put a name into q->data_path, refusing one that does not fit. */
static int set_path(struct img *img, const char *path)
{
    struct qcow2 *q = img->q;
    if (strlen(path) >= sizeof(q->data_path))
        return img_fail(img, IMG_EINVAL, "External data file name too long");
    memcpy(q->data_path, path, strlen(path) + 1);
    return 0;
}

/*
 * The opener named the data file (QEMU's "data-file" option of the qcow2
 * driver): it wins over the header's name and is the only way to open an
 * image whose header has none.  QEMU opens that file before it looks at
 * the image's feature bits, so a missing file is reported first, and then
 * refuses the option for an image without a data file.
 */
static int open_given(struct img *img, const struct img_open_opts *opts)
{
    struct qcow2 *q = img->q;
    int r;
    /* An option QEMU could not turn into a block node fails first. */
    if (opts->data_file_error)
        return img_fail(img, IMG_EINVAL, "%s", opts->data_file_error);
    if ((r = set_path(img, opts->data_file ? opts->data_file : "")) < 0 || (r = open_dio(img)) < 0)
        return r;
    if (!q->data_file) {
        qc_data_close(img);
        q->data_path[0] = 0;
        return img_fail(img, IMG_EINVAL,
                        "'data-file' can only be set for images with an external data file");
    }
    return 0;
}

/*
 * Called at the end of qc_open, with the opener's options or NULL: take
 * the name from its extension and open the data file, the opener's or the
 * header's.  The checks and words are QEMU's (block/qcow2.c
 * qcow2_do_open).
 */
int qc_data_open(struct img *img, const struct img_open_opts *opts)
{
    struct qcow2 *q = img->q;
    int r;
    if ((r = read_name(img)) < 0)
        return r;
    q->data_raw = (q->h.autoclear_features & QF_AUTOCLEAR_DATA_RAW) != 0;
    /* "This bit may only be set if the External Data File bit (incompatible
     * feature bit 1) is also set" (qcow2.txt, autoclear bit 1; the spec's
     * "bit 1" means bit 2). */
    if (q->data_raw && !(q->h.incompatible_features & QF_INCOMPAT_DATA_FILE))
        return img_fail(img, IMG_EINVAL, "data-file-raw requires a data file");
    q->data_file = (q->h.incompatible_features & QF_INCOMPAT_DATA_FILE) != 0;
    /* qemu-img info works without the data file: it shows metadata only,
     * and QEMU does not even look at a "data-file" option then. */
    if (img->flags & IMG_OPEN_NO_DATA_FILE)
        return 0;
    if (opts && opts->data_file_key)
        return open_given(img, opts);
    if (!q->data_file)
        return 0;
    if (!q->data_name[0])
        return img_fail(img, IMG_EINVAL, "'data-file' is required for this image");
    if ((r = set_path(img, q->data_name)) < 0)
        return r;
    return open_dio(img);
}

void qc_data_close(struct img *img)
{
    struct qcow2 *q = img->q;
    if (q->dio.read && q->dio.close)
        q->dio.close(q->dio.ctx);
    memset(&q->dio, 0, sizeof(q->dio));
}

/* Guest data of a data-file image is only reachable through the file. */
static int need_dio(struct img *img)
{
    if (!img->q->dio.read)
        return img_fail(img, IMG_ENOTSUP, "The external data file of '%s' is not open", img->name);
    return 0;
}

/* Read guest data at host offset off: from the data file if there is one,
 * else from the image file. */
int qc_data_read(struct img *img, uint64_t off, void *buf, size_t len)
{
    struct qcow2 *q = img->q;
    int r;
    if (!q->data_file)
        return io_read(img, off, buf, len);
    if ((r = need_dio(img)) < 0)
        return r;
    r = q->dio.read(q->dio.ctx, off, buf, len);
    if (r < 0)
        return img_fail(img, -r, "Could not read %zu bytes at offset %llu of '%s'", len,
                        (unsigned long long)off, q->data_path);
    return 0;
}

/* Write guest data at host offset off (the data file, or the image file). */
int qc_data_write(struct img *img, uint64_t off, const void *buf, size_t len)
{
    struct qcow2 *q = img->q;
    int r;
    if (!q->data_file)
        return io_write(img, off, buf, len);
    if ((r = need_dio(img)) < 0)
        return r;
    if (!img->rw)
        return img_fail(img, IMG_EROFS, "Image '%s' is opened read-only", img->name);
    r = q->dio.write(q->dio.ctx, off, buf, len);
    if (r < 0)
        return img_fail(img, -r, "Could not write %zu bytes at offset %llu of '%s'", len,
                        (unsigned long long)off, q->data_path);
    return 0;
}

/*
 * "The offset field in the Standard Cluster Descriptor must match the
 * guest offset" (qcow2.txt "Header", incompatible bit 2): anything else is
 * a damaged entry, refused before it is followed, as QEMU refuses it
 * (qcow2_get_host_offset marks the image corrupt).
 */
int qc_data_check_host(struct img *img, uint64_t guest_cluster, uint64_t host)
{
    struct qcow2 *q = img->q;
    if (q->data_file && host != guest_cluster << q->cluster_bits)
        return img_fail(img, IMG_ECORRUPT,
                        "External data file host cluster offset %#llx does not match guest "
                        "cluster offset: %#llx",
                        (unsigned long long)host,
                        (unsigned long long)(guest_cluster << q->cluster_bits));
    return 0;
}

/*
 * Write zeros into [from, to) of the data file, a cluster at a time from
 * one zeroed buffer (no large static buffer: the core also runs in hv).
 */
static int write_zeros(struct img *img, uint64_t from, uint64_t to)
{
    struct qcow2 *q = img->q;
    uint8_t *zero = img_alloc(img->env, q->cluster_size); /* zero-filled */
    int r = 0;
    if (!zero)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    for (uint64_t o = from; o < to && r == 0; o += q->cluster_size)
        r = qc_data_write(img, o, zero,
                          to - o < q->cluster_size ? (size_t)(to - o) : q->cluster_size);
    img_free(img->env, zero);
    return r;
}

/*
 * A raw data file must read as the disk reads, so zeroing a range writes
 * zeros there first (qcow2.txt autoclear bit 1: "writing zeros requires
 * writing to the data file instead of only setting the zero flag in the L2
 * table entry").  A punched hole reads as zeros too and costs nothing;
 * zeros are written where the backend cannot punch.
 */
int qc_data_zero(struct img *img, uint64_t off, uint64_t len)
{
    struct qcow2 *q = img->q;
    int r;
    if (!q->data_raw || !len)
        return 0;
    if ((r = need_dio(img)) < 0)
        return r;
    if (q->dio.discard && q->dio.discard(q->dio.ctx, off, len) == 0)
        return 0;
    return write_zeros(img, off, off + len);
}

int qc_data_flush(struct img *img)
{
    struct qcow2 *q = img->q;
    if (!q->dio.read || !q->dio.flush || (img->flags & IMG_OPEN_NO_FLUSH))
        return 0;
    if (q->dio.flush(q->dio.ctx) < 0)
        return img_fail(img, IMG_EIO, "Could not flush '%s'", q->data_path);
    return 0;
}

/* The data file is as long as the disk: QEMU resizes it with the image
 * (qcow2_co_truncate), growing or shrinking. */
int qc_data_resize(struct img *img, uint64_t new_size)
{
    struct qcow2 *q = img->q;
    int r;
    if (!q->data_file)
        return 0;
    if ((r = need_dio(img)) < 0)
        return r;
    if (!q->dio.truncate || q->dio.truncate(q->dio.ctx, new_size) < 0)
        return img_fail(img, IMG_EIO, "Could not resize the data file '%s'", q->data_path);
    return 0;
}

/*
 * The data file grows to the end of the last mapped cluster, which QEMU's
 * preallocation reaches (preallocate_co extends the file "to the last
 * allocated sector", a whole cluster): metadata leaves the new part
 * sparse, falloc reserves its blocks, full writes zeros into it.  Bytes
 * the file already has are left alone, as a file truncate leaves them.
 */
static int grow_for_prealloc(struct img *img, uint64_t to, int mode)
{
    struct qcow2 *q = img->q;
    uint64_t cur, end = div_up(to, q->cluster_size) * q->cluster_size;
    if (q->dio.size(q->dio.ctx, &cur) < 0)
        return img_fail(img, IMG_EIO, "Could not get the size of '%s'", q->data_path);
    if (cur >= end)
        return 0;
    if (mode == IMG_PREALLOC_FULL || (mode == IMG_PREALLOC_FALLOC && !q->dio.allocate))
        return write_zeros(img, cur, end);
    if (!q->dio.truncate || q->dio.truncate(q->dio.ctx, end) < 0)
        return img_fail(img, IMG_EIO, "Could not resize the data file '%s'", q->data_path);
    if (mode == IMG_PREALLOC_FALLOC && q->dio.allocate(q->dio.ctx, cur, end - cur) < 0)
        return img_fail(img, IMG_EIO, "Could not preallocate space for '%s'", q->data_path);
    return 0;
}

/*
 * Preallocation of [from, to) with a data file: the data file itself is
 * prepared first (grow_for_prealloc), then every unallocated L2 entry is
 * mapped to its own guest offset, as QEMU's preallocate_co does through
 * handle_alloc.  Data
 * first, then the entries that make it visible.
 */
int qc_data_preallocate(struct img *img, uint64_t from, uint64_t to, int mode)
{
    struct qcow2 *q = img->q;
    uint64_t gi, gend = div_up(to, q->cluster_size);
    /* A cluster that starts below `from` over a backing file keeps its
     * head from there once mapped: it is written whole first. */
    int r = qc_cow_head(img, from, to);
    if (r < 0)
        return r;
    if ((r = need_dio(img)) < 0)
        return r;
    if ((r = grow_for_prealloc(img, to, mode)) < 0)
        return r;
    for (gi = from >> q->cluster_bits; gi < gend; gi++) {
        uint64_t l2off, e, ebm, l2i = gi & (q->l2_entries - 1);
        uint8_t *t;
        r = qc_l2_load_for_write(img, gi >> q->l2_bits, &l2off);
        if (r == 0)
            r = qc_l2_load(img, l2off, &t);
        if (r < 0)
            return r;
        qc_l2_entry(img, t, l2i, &e, &ebm);
        if (qc_has_host(q, e) || (e & QE_COMPRESSED))
            continue;
        /* With extended L2 the subclusters stay unallocated (bitmap 0,
         * QEMU's "unallocated_alloc"), in every mode, as qemu-img leaves
         * them: they read as zeros, or from a backing file. */
        r = qc_l2_set(img, l2off, l2i, (gi << q->cluster_bits) | QE_COPIED, 0);
        if (r < 0)
            return r;
    }
    return 0;
}

/*
 * Store `name` in the "External data file name" extension: the one the
 * image has is replaced; a new one goes first, so that the header is laid
 * out as QEMU's qcow2_update_header() writes it (backing format, then the
 * data file name, then the feature name table).  An empty name removes the
 * extension, as amend -o data_file= does in QEMU (the image then opens only
 * with the name given by other means, which imgtool has none of).  The
 * caller rewrites the header.
 */
int qc_data_set_name(struct img *img, const char *name)
{
    struct qcow2 *q = img->q;
    struct qc_ext *e = name_ext(q);
    uint32_t len = (uint32_t)strlen(name);
    uint8_t *data;
    if (!len) {
        if (e) {
            int i = (int)(e - q->exts);
            img_free(img->env, e->data);
            memmove(e, e + 1, sizeof(*e) * (size_t)(q->nb_exts - i - 1));
            q->nb_exts--;
        }
        q->data_name[0] = 0;
        return 0;
    }
    if (len >= sizeof(q->data_name))
        return img_fail(img, IMG_EINVAL, "External data file name too long");
    data = img_alloc(img->env, len);
    if (!data)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    memcpy(data, name, len);
    if (!e) {
        struct qc_ext *n = img_alloc(img->env, sizeof(*n) * (size_t)(q->nb_exts + 1));
        if (!n) {
            img_free(img->env, data);
            return img_fail(img, IMG_ENOMEM, "Out of memory");
        }
        memcpy(n + 1, q->exts, sizeof(*n) * (size_t)q->nb_exts);
        img_free(img->env, q->exts);
        q->exts = n;
        q->nb_exts++;
        e = &q->exts[0];
        e->type = QEXT_DATA_FILE;
        e->data = NULL;
    }
    img_free(img->env, e->data);
    e->data = data;
    e->len = len;
    memcpy(q->data_name, name, len + 1);
    return 0;
}

/*
 * Make a new, still empty image (img_create) use dio as its data file:
 * the feature bits, the name extension, and the handle's state.  The
 * caller owns dio and closes it; the handle only uses it; the caller
 * rewrites the header.
 */
int qc_data_attach(struct img *img, const struct img_io *dio, const char *name, bool raw)
{
    struct qcow2 *q = img->q;
    int r = qc_data_set_name(img, name);
    if (r < 0)
        return r;
    q->dio = *dio;
    q->dio.close = NULL;
    /* The caller created dio under this very name. */
    ksnprintf(q->data_path, sizeof(q->data_path), "%s", name);
    q->data_file = true;
    q->data_raw = raw;
    q->h.incompatible_features |= QF_INCOMPAT_DATA_FILE;
    if (raw)
        q->h.autoclear_features |= QF_AUTOCLEAR_DATA_RAW;
    return 0;
}

const char *img_data_file(const struct img *img)
{
    return img->q && img->q->data_file ? img->q->data_path : NULL;
}
