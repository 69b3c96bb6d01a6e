/*
 * qcow2_create.c: writing new raw and qcow2 images (qemu-img create).
 *
 * A new qcow2 image starts as QEMU 7.2 lays it out: the header in cluster
 * 0, a one-cluster refcount table in cluster 1 and the first refcount block
 * in cluster 2, describing clusters 0-2.  The image is then opened through
 * the normal code and grown to its size, which allocates the L1 table with
 * the ordinary allocator (so huge L1 tables with tiny clusters, which need
 * more refcount blocks, take the same tested path as any other growth).
 *
 * Creation checks every option before it writes a byte (validate()), with
 * qemu-img's messages, so a refused create leaves the file as it was; the
 * hosted img_create_file() also removes a file it made for a create that
 * then failed.  A new image is byte-identical to what qemu-img 7.2 writes
 * for the same options, which the interop tests compare.
 */
#include "internal.h"

int qc_resize(struct img *img, uint64_t new_size, int prealloc, bool allow_shrink);

/* qemu-img's defaults: qcow2 version 3 (compat=1.1), 64 KiB clusters,
 * 16-bit refcounts, zlib compression, no preallocation. */
void img_create_opts_init(struct img_create_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->format = IMG_FMT_QCOW2;
    o->cluster_size = 65536;
    o->compat = 3;
    o->refcount_bits = 16;
}

/*
 * QEMU 7.2's feature name table (qcow2.txt "Feature name table"): type 0
 * names incompatible bits, 1 compatible bits, 2 autoclear bits.  The table
 * lets an older reader name a bit it does not know when it refuses an
 * image ("Unsupported qcow2 feature(s): ..."); QEMU writes every bit it
 * knows, in this order, whether the image uses it or not.
 */
static const struct {
    uint8_t type, bit;
    const char *name;
} feature_names[] = {
    {0, 0, "dirty bit"},        {0, 1, "corrupt bit"},         {0, 2, "external data file"},
    {0, 3, "compression type"}, {0, 4, "extended L2 entries"}, {1, 0, "lazy refcounts"},
    {2, 0, "bitmaps"},          {2, 1, "raw external data"},
};

/*
 * Check the options of a qcow2 create, in the order QEMU checks them
 * (qcow2_co_create_opts() and qcow2_co_create()), so that an image with
 * several problems gets the same first message as from qemu-img.  Zero
 * means "the default" for the numbers, as in img_create_opts_init().
 */
static int validate(const struct img_create_opts *o, struct img_err *err)
{
    uint32_t cluster_size = o->cluster_size ? o->cluster_size : 65536;
    int compat = o->compat ? o->compat : 3;
    int refcount_bits = o->refcount_bits ? o->refcount_bits : 16;
    /* A raw image has no options that can be wrong. */
    if (o->format != IMG_FMT_QCOW2)
        return 0;
    /* qcow2.txt "Header", cluster_bits: at least 9 (512 bytes); QEMU's
     * implementation limit is 21 (2 MiB), and a power of two is implied
     * by storing the size as a number of bits. */
    if (cluster_size < 512 || cluster_size > (2u << 20) || (cluster_size & (cluster_size - 1)))
        return err_set(err, IMG_EINVAL,
                       "Cluster size must be a power of two between 512 and 2048k");
    /* The one limit on the virtual size is the L1 table's: it may not
     * exceed QCOW_MAX_L1_SIZE (32 MiB, QEMU's cap), and one L1 entry maps
     * one L2 table of cluster_size / entry-size clusters (qcow2.txt "Cluster
     * mapping").  QEMU fails such a create with -EFBIG, which
     * bdrv_img_create() words this way, hinting at the cluster size. */
    uint64_t l2_span = (uint64_t)cluster_size * (cluster_size / (o->extended_l2 ? 16 : 8));
    if ((o->size / l2_span + (o->size % l2_span != 0)) * 8 > QCOW_MAX_L1_SIZE)
        return err_set(err, IMG_EINVAL,
                       "The image size is too large for file format 'qcow2' (try using a "
                       "larger cluster size)");
    /* Version 2 headers have no feature bits (qcow2.txt "Additional
     * fields (version 3 and higher)"), so nothing that needs one can be
     * combined with compat=0.10. */
    if (compat < 3 && o->lazy_refcounts)
        return err_set(err, IMG_EINVAL,
                       "Lazy refcounts only supported with compatibility level 1.1 and above "
                       "(use version=v3 or greater)");
    /* qcow2.txt "Header", refcount_order: the width is 1 << order bits,
     * at most 64; version 2 fixes it at 16 bits. */
    if (refcount_bits < 1 || refcount_bits > 64 || (refcount_bits & (refcount_bits - 1)))
        return err_set(err, IMG_EINVAL,
                       "Refcount width must be a power of two and may not exceed 64 bits");
    if (compat < 3 && refcount_bits != 16)
        return err_set(err, IMG_EINVAL,
                       "Different refcount widths than 16 bits require compatibility level 1.1 "
                       "or above (use version=v3 or greater)");
    /* Extended L2 entries split a cluster into 32 subclusters (qcow2.txt
     * "Extended L2 Entries"); below 16 KiB a subcluster would be smaller
     * than 512 bytes, which QEMU refuses. */
    if (o->extended_l2) {
        if (compat < 3)
            return err_set(err, IMG_EINVAL,
                           "Extended L2 entries are only supported with compatibility level 1.1 "
                           "and above (use version=v3 or greater)");
        if (cluster_size < 16384)
            return err_set(err, IMG_EINVAL,
                           "Extended L2 entries are only supported with cluster sizes of at "
                           "least 16384 bytes");
    }
    if (o->compression_type != IMG_COMP_ZLIB && compat < 3)
        return err_set(err, IMG_EINVAL,
                       "Compression type selection is only supported with compatibility level "
                       "1.1 and above (use version=v3 or greater)");
    /* Only zlib (0) and zstd (1) exist (qcow2.txt "Header",
     * compression_type). */
    if (o->compression_type < 0 || o->compression_type > IMG_COMP_ZSTD)
        return err_set(err, IMG_EINVAL, "Unknown compression type");
    if (o->backing_fmt && !o->backing_file)
        return err_set(err, IMG_EINVAL, "Backing format cannot be used without backing file");
    /* Preallocated clusters would hide the backing file's data, since an
     * allocated cluster is read from the image; extended L2 entries can
     * allocate a cluster while marking its subclusters unallocated, so
     * only with them do the two go together (QEMU's rule). */
    if (o->backing_file && o->prealloc != IMG_PREALLOC_OFF && !o->extended_l2)
        return err_set(err, IMG_EINVAL,
                       "Backing file and preallocation can only be used at the same time if "
                       "extended_l2 is on");
    /* QEMU's limit for the name in the header (qcow2.txt "Header",
     * backing_file_size "Must not be longer than 1023 bytes"). */
    if (o->backing_file && strlen(o->backing_file) > 1023)
        return err_set(err, IMG_EINVAL, "Backing file name too long");
    if (o->prealloc < IMG_PREALLOC_OFF || o->prealloc > IMG_PREALLOC_FULL)
        return err_set(err, IMG_EINVAL, "Invalid preallocation mode");
    /* External data files need the v3 feature bits (qcow2.txt "Header",
     * incompatible bit 2); the raw flag (autoclear bit 1) needs a data
     * file and "conflicts with backing files".  QEMU's words. */
    if (o->data_file && compat < 3)
        return err_set(err, IMG_EINVAL,
                       "External data files are only supported with compatibility level 1.1 "
                       "and above (use version=v3 or greater)");
    if (o->data_file_raw && !o->data_file)
        return err_set(err, IMG_EINVAL, "data-file-raw requires data-file");
    if (o->data_file_raw && o->backing_file)
        return err_set(err, IMG_EINVAL,
                       "Backing file and data-file-raw cannot be used at the same time");
    if (o->data_file && strlen(o->data_file) > 1023)
        return err_set(err, IMG_EINVAL, "External data file name too long");
    return 0;
}

/* The checks alone, for callers that create the file themselves (convert
 * checks the target's options before it opens any source). */
int img_create_validate(const struct img_create_opts *o, struct img_err *err)
{
    if (err) {
        err->code = 0;
        err->msg[0] = 0;
    }
    return validate(o, err);
}

/*
 * A raw image is a file of the virtual size.  Without preallocation it is
 * sparse: truncate() sets the length, or, for a backend that cannot
 * truncate, one zero byte is written at the end.  preallocation=falloc
 * asks the file system for the blocks (allocate()), =full writes zeros
 * over the whole file, as QEMU's file driver does; a backend without
 * allocate() gets zeros for falloc too, which uses the same space.
 */
static int create_raw(struct img_io *io, const struct img_create_opts *in, struct img_err *err)
{
    int r = 0;
    static const uint8_t zero[4096];
    /* Whole sectors, as QEMU's file driver creates them
     * (raw_co_create_opts rounds the size up to 512 bytes). */
    struct img_create_opts rounded = *in, *o = &rounded;
    rounded.size = (in->size + 511) & ~(uint64_t)511;
    /* Set the length first: the file must have its size even where
     * preallocation is off or the allocation below is refused. */
    if (io->truncate)
        r = io->truncate(io->ctx, o->size);
    else if (o->size)
        r = io->write(io->ctx, o->size - 1, zero, 1);
    if (r == 0 && o->prealloc == IMG_PREALLOC_FALLOC && io->allocate)
        r = io->allocate(io->ctx, 0, o->size);
    /* Writing zeros 4 KiB at a time keeps the buffer static (the core
     * allocates nothing it does not need) and is what "full" means. */
    else if (r == 0 && o->prealloc >= IMG_PREALLOC_FALLOC)
        for (uint64_t off = 0; off < o->size && r == 0; off += sizeof(zero))
            r = io->write(io->ctx, off, zero,
                          o->size - off < sizeof(zero) ? (size_t)(o->size - off) : sizeof(zero));
    /* The backend's code (ENOSPC, EIO...) is kept; the caller removes the
     * file it created. */
    if (r < 0)
        return err_set(err, -r, "Could not create the raw image");
    return 0;
}

/*
 * Write clusters 0 to 2 of a new qcow2 image as QEMU 7.2 lays them out
 * (qcow2.txt "Header", "Host cluster management"): the header in cluster 0,
 * a refcount table of one cluster in cluster 1 whose only entry points at
 * cluster 2, and in cluster 2 the first refcount block, which counts one
 * reference for each of these three clusters.  This is the smallest image
 * the normal open path accepts; everything else is added through it.
 */
static int write_initial_clusters(const struct img_env *env, struct img_io *io,
                                  const struct img_create_opts *o, struct img_err *err)
{
    uint32_t cluster_size = o->cluster_size ? o->cluster_size : 65536;
    int compat = o->compat ? o->compat : 3;
    int refcount_bits = o->refcount_bits ? o->refcount_bits : 16;
    int cluster_bits = 0, refcount_order = 0;
    uint8_t *clusters;
    int r;

    /* validate() made both powers of two; the header stores their logs. */
    while ((1u << cluster_bits) < cluster_size)
        cluster_bits++;
    while ((1 << refcount_order) < refcount_bits)
        refcount_order++;
    /* img_alloc() returns zeroed memory (struct img_env's contract), so
     * every field and byte not set below is 0 on disk, as QEMU writes it. */
    clusters = img_alloc(env, (size_t)cluster_size * 3);
    if (!clusters)
        return err_set(err, IMG_ENOMEM, "Out of memory");
    put32(clusters + QH_MAGIC, QCOW2_MAGIC);
    put32(clusters + QH_VERSION, (uint32_t)compat);
    put32(clusters + QH_CLUSTER_BITS, (uint32_t)cluster_bits);
    put64(clusters + QH_RT_OFFSET, cluster_size);
    put32(clusters + QH_RT_CLUSTERS, 1);
    /* Version 2 headers end before the feature fields (qcow2.txt
     * "Additional fields (version 3 and higher)"). */
    if (compat >= 3) {
        put32(clusters + QH_REFCOUNT_ORDER, (uint32_t)refcount_order);
        put32(clusters + QH_HEADER_LENGTH, QH_V3_LENGTH);
        put64(clusters + QH_INCOMPAT, (o->extended_l2 ? QF_INCOMPAT_EXTL2 : 0) |
                                          (o->compression_type ? QF_INCOMPAT_COMPRESSION : 0));
        put64(clusters + QH_COMPAT, o->lazy_refcounts ? QF_COMPAT_LAZY_REFCOUNTS : 0);
        clusters[QH_COMPRESSION_TYPE] = (uint8_t)o->compression_type;
    }
    /* The extension area is all zeros: an immediate end marker.  The
     * refcount table's first entry points at the refcount block. */
    put64(clusters + cluster_size, 2ull * cluster_size);
    /* Refcounts of 1 for clusters 0, 1 and 2 at the chosen width
     * (qcow2.txt "Refcount block entry": entries narrower than a byte fill
     * it from the least significant bit, wider ones are big-endian). */
    for (int c = 0; c < 3; c++) {
        uint64_t bit = (uint64_t)c * (uint64_t)refcount_bits;
        uint8_t *entry = clusters + 2 * cluster_size + bit / 8;
        if (refcount_bits < 8)
            *entry |= (uint8_t)(1u << (bit % 8));
        else
            entry[refcount_bits / 8 - 1] = 1;
    }
    /* One write for all three clusters: a crash leaves either nothing
     * the open path accepts or the complete empty image, never a header
     * whose refcount table is missing. */
    r = io->write(io->ctx, 0, clusters, (size_t)cluster_size * 3);
    img_free(env, clusters);
    if (r < 0)
        return err_set(err, -r, "Could not write the image header");
    /* Reusing a file: anything after the three clusters is stale. */
    if (io->truncate && io->truncate(io->ctx, (uint64_t)cluster_size * 3) < 0)
        return err_set(err, IMG_EIO, "Could not truncate the image");
    return 0;
}

/*
 * QEMU 7.2 writes the feature name table (qcow2.txt "Feature name table")
 * into every version 3 image whose clusters are larger than 4 KiB (observed
 * with qemu-img create); we do the same so that new images are
 * byte-identical to qemu-img's.  Each entry is 48 bytes: type, bit number
 * and a 46-byte name padded with zeros.
 */
static int add_feature_name_table(struct img *img)
{
    const struct img_env *env = img->env;
    struct qcow2 *q = img->q;
    uint32_t len = (uint32_t)KARRAY_SIZE(feature_names) * 48;
    uint8_t *table;

    /* Opening the new image gave it an (empty) extension array of its own
     * (parse_extensions); replace it rather than leak it. */
    for (int i = 0; i < q->nb_exts; i++)
        img_free(env, q->exts[i].data);
    img_free(env, q->exts);
    q->nb_exts = 0;
    q->exts = img_alloc(env, sizeof(*q->exts));
    table = q->exts ? img_alloc(env, len) : NULL;
    if (!table)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    /* Names are shorter than 46 bytes; the rest of each entry stays zero
     * (img_alloc() zeroes), which is the padding the spec asks for. */
    for (unsigned i = 0; i < KARRAY_SIZE(feature_names); i++) {
        table[i * 48] = feature_names[i].type;
        table[i * 48 + 1] = feature_names[i].bit;
        memcpy(table + i * 48 + 2, feature_names[i].name, strlen(feature_names[i].name));
    }
    q->exts[0].type = QEXT_FEATURE_NAME;
    q->exts[0].len = len;
    q->exts[0].data = table;
    q->nb_exts = 1;
    return 0;
}

/*
 * Create a raw or qcow2 image on io.  A qcow2 image is written in two
 * steps: the three clusters of an empty image, then through an ordinary
 * read-write open, its header extensions and backing file name and its
 * growth to the requested size.  Growing allocates the L1 table (and for a
 * large image with tiny clusters, more refcount blocks) with the same
 * allocator as any resize, so creation takes no path of its own.
 */
int img_create(const struct img_env *env, struct img_io *io, const struct img_create_opts *o,
               struct img_err *err)
{
    uint32_t cluster_size = o->cluster_size ? o->cluster_size : 65536;
    int compat = o->compat ? o->compat : 3;
    struct img_io io_kept_open;
    struct img *img;
    struct qcow2 *q;
    int r, close_r;

    /* A caller may read err->msg after a success too (the hosted layer
     * puts warnings there), so it starts empty. */
    if (err) {
        err->code = 0;
        err->msg[0] = 0;
    }
    /* Nothing is written before every option has passed. */
    r = validate(o, err);
    if (r < 0)
        return r;
    if (o->format == IMG_FMT_RAW)
        return create_raw(io, o, err);
    /* qcow2: the empty image, then the rest through a normal open. */
    r = write_initial_clusters(env, io, o, err);
    if (r < 0)
        return r;
    /* Open what we wrote and finish through the normal paths.  The handle
     * must not close the caller's io, so it gets a copy without close().
     * No sync to disk for a new image (qemu-img's convert creates its
     * target with cache=unsafe; the caller may flush). */
    io_kept_open = *io;
    io_kept_open.close = NULL;
    r = img_open(env, &io_kept_open, "", "qcow2",
                 IMG_OPEN_RW | IMG_OPEN_NO_BACKING | IMG_OPEN_NO_FLUSH, &img, err);
    if (r < 0)
        return r;
    q = img->q;
    /* The feature name table is the first extension QEMU writes; the
     * backing format extension, if any, is placed before it on write. */
    if (compat >= 3 && cluster_size > 4096)
        r = add_feature_name_table(img);
    /* The backing file's name and format go into the header through the
     * ordinary header writer, which also places the extensions. */
    if (r == 0 && o->backing_file) {
        ksnprintf(q->backing_file, sizeof(q->backing_file), "%s", o->backing_file);
        if (o->backing_fmt)
            ksnprintf(q->backing_fmt, sizeof(q->backing_fmt), "%s", o->backing_fmt);
    }
    /* An external data file: the caller created it empty; its name goes
     * into the header with the feature bits (qcow2_data.c).  A raw one
     * starts with every cluster mapped, as QEMU's qcow2_co_create turns
     * preallocation=off into metadata for it. */
    int prealloc = o->prealloc;
    if (r == 0 && o->data_file && !o->data_io)
        r = img_fail(img, IMG_EINVAL, "No data file to write to");
    else if (r == 0 && o->data_file)
        r = qc_data_attach(img, o->data_io, o->data_file, o->data_file_raw);
    if (o->data_file_raw && prealloc == IMG_PREALLOC_OFF)
        prealloc = IMG_PREALLOC_METADATA;
    if (r == 0)
        r = qc_update_header(img);
    /* The virtual size counts whole 512-byte sectors: QEMU's qcow2 driver
     * rounds the requested size up (qcow2_co_create_opts), so 1234 bytes
     * make a 1536-byte disk rather than an error. */
    if (r == 0)
        r = qc_resize(img, (o->size + 511) & ~(uint64_t)511, prealloc, false);
    /* The handle's message is the caller's: creation has no handle of
     * its own to report through. */
    if (r < 0)
        err_set(err, -r, "%s", img->err);
    /* Closing flushes nothing to disk (IMG_OPEN_NO_FLUSH) but may still
     * fail to write; a create that could not finish its image fails. */
    close_r = img_close(img);
    if (r == 0 && close_r < 0)
        r = err_set(err, -close_r, "Could not finish the new image");
    return r;
}
