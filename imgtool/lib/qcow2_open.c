/*
 * qcow2_open.c: reading and validating a qcow2 header, its extensions and
 * the tables every access needs (active L1 table, refcount table).
 *
 * Every number in the header is checked before it is used: against the
 * spec's limits, against QEMU 7.2's limits and against the file's size, so a
 * hostile or truncated image produces a clear error instead of a huge
 * allocation, a read far past the end or an out-of-bounds access.  Nothing
 * is written to the image until all checks passed.
 */
#include "internal.h"

int qc_snap_load(struct img *img);
void qc_snap_free(struct img *img);
int qc_repair_dirty(struct img *img);

/*
 * Is [off, off+len) a sane, cluster-aligned place inside the file?  The
 * first two checks and their wording are QEMU's qcow2_validate_table
 * ("<what> offset invalid"); the overlap and end-of-file checks are ours
 * (QEMU would read zeros there).
 */
static int check_table(struct img *img, uint64_t file_size, uint64_t off, uint64_t len,
                       const char *what)
{
    struct qcow2 *q = img->q;
    /* Tables start on a cluster boundary (qcow2.txt "Header": "Must be aligned
     * to a cluster boundary"), and their end must be representable. */
    if ((off & (q->cluster_size - 1)) || off >= QCOW_MAX_OFFSET || len > QCOW_MAX_OFFSET - off)
        return img_fail(img, IMG_ECORRUPT, "%s offset invalid", what);
    /* The header occupies cluster 0; a table there would overlap it. */
    if (len && off < q->cluster_size)
        return img_fail(img, IMG_ECORRUPT, "%s offset invalid: overlaps the header", what);
    if (off + len > file_size)
        return img_fail(img, IMG_ECORRUPT,
                        "%s: %llu bytes at offset %#llx lie beyond the end of the file "
                        "(%llu bytes)",
                        what, (unsigned long long)len, (unsigned long long)off,
                        (unsigned long long)file_size);
    return 0;
}

/* Parse the header extensions that follow the header in cluster 0 (qcow2.txt
 * "Header extensions").  Unknown ones are kept so a rewrite preserves them. */
static int parse_extensions(struct img *img, const uint8_t *c0, uint32_t start, uint32_t end)
{
    struct qcow2 *q = img->q;
    uint32_t pos = start;
    int n = 0;

    /* First pass: count them, checking every length against the cluster. */
    for (;;) {
        uint32_t type, len;
        if (end - pos < 8)
            break; /* no room for another extension header: treat as end */
        type = be32(c0 + pos);
        len = be32(c0 + pos + 4);
        if (type == QEXT_END)
            break;
        if (len > end - pos - 8)
            return img_fail(img, IMG_ECORRUPT,
                            "Header extension %#x at offset %u is too long (%u bytes)", type, pos,
                            len);
        n++;
        pos += 8 + ((len + 7) & ~7u);
        if (pos > end)
            break;
    }
    q->exts = img_alloc(img->env, sizeof(*q->exts) * (size_t)(n ? n : 1));
    if (!q->exts)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    pos = start;
    for (int i = 0; i < n; i++) {
        struct qc_ext *e = &q->exts[i];
        e->type = be32(c0 + pos);
        e->len = be32(c0 + pos + 4);
        e->data = img_alloc(img->env, e->len);
        if (!e->data)
            return img_fail(img, IMG_ENOMEM, "Out of memory");
        memcpy(e->data, c0 + pos + 8, e->len);
        q->nb_exts = i + 1;
        if (e->type == QEXT_BACKING_FMT) {
            if (e->len >= sizeof(q->backing_fmt))
                return img_fail(img, IMG_ECORRUPT, "Backing format name too long (%u bytes)",
                                e->len);
            memcpy(q->backing_fmt, e->data, e->len);
            q->backing_fmt[e->len] = 0;
        } else if (e->type == QEXT_DATA_FILE || e->type == QEXT_CRYPTO) {
            return img_fail(img, IMG_ENOTSUP, "Image '%s' uses %s, which is not supported",
                            img->name,
                            e->type == QEXT_CRYPTO ? "encryption" : "an external data file");
        }
        pos += 8 + ((e->len + 7) & ~7u);
    }
    return 0;
}

/*
 * "Unsupported qcow2 feature(s): ..." for the incompatible feature bits
 * this library does not know (qcow2.txt "Header": a reader must refuse an
 * image with an unknown incompatible bit).  As QEMU's
 * report_unsupported_feature(): the image's own feature name table (qcow2.txt
 * "Feature name table"; the last such extension if there are several)
 * names the bits it lists, in table order, each bit once and up to the
 * first entry with an empty name; whatever is left is reported as ONE
 * hexadecimal mask, "Unknown incompatible feature: 60".
 */
static void unknown_features_msg(struct img *img, uint64_t mask)
{
    struct qcow2 *q = img->q;
    const struct qc_ext *table = NULL;
    char list[512] = "";
    size_t used = 0;
    for (int i = 0; i < q->nb_exts; i++)
        if (q->exts[i].type == QEXT_FEATURE_NAME)
            table = &q->exts[i];
    /* Entries are 48 bytes: type, bit number, 46 bytes of name; a partial
     * last entry reads zero-padded, as QEMU copies the table into a zeroed
     * buffer. */
    for (uint32_t o = 0; table && o < table->len && used < sizeof(list); o += 48) {
        uint8_t f[48] = {0};
        uint32_t n = table->len - o < 48 ? table->len - o : 48;
        memcpy(f, table->data + o, n);
        if (f[2] == 0)
            break;
        if (f[0] != 0 || f[1] >= 64 || !(mask & (1ull << f[1])))
            continue;
        used += (size_t)ksnprintf(list + used, sizeof(list) - used, "%s%.46s", used ? ", " : "",
                                  (const char *)f + 2);
        mask &= ~(1ull << f[1]);
    }
    if (mask && used < sizeof(list))
        ksnprintf(list + used, sizeof(list) - used, "%sUnknown incompatible feature: %llx",
                  used ? ", " : "", (unsigned long long)mask);
    img_fail(img, IMG_ENOTSUP, "Unsupported qcow2 feature(s): %s", list);
}

static void decode_header(struct img_qcow2_header *h, const uint8_t *b)
{
    h->magic = be32(b + QH_MAGIC);
    h->version = be32(b + QH_VERSION);
    h->backing_file_offset = be64(b + QH_BACKING_OFFSET);
    h->backing_file_size = be32(b + QH_BACKING_SIZE);
    h->cluster_bits = be32(b + QH_CLUSTER_BITS);
    h->size = be64(b + QH_SIZE);
    h->crypt_method = be32(b + QH_CRYPT_METHOD);
    h->l1_size = be32(b + QH_L1_SIZE);
    h->l1_table_offset = be64(b + QH_L1_OFFSET);
    h->refcount_table_offset = be64(b + QH_RT_OFFSET);
    h->refcount_table_clusters = be32(b + QH_RT_CLUSTERS);
    h->nb_snapshots = be32(b + QH_NB_SNAPSHOTS);
    h->snapshots_offset = be64(b + QH_SNAPSHOTS_OFFSET);
    if (h->version >= 3) {
        h->incompatible_features = be64(b + QH_INCOMPAT);
        h->compatible_features = be64(b + QH_COMPAT);
        h->autoclear_features = be64(b + QH_AUTOCLEAR);
        h->refcount_order = be32(b + QH_REFCOUNT_ORDER);
        h->header_length = be32(b + QH_HEADER_LENGTH);
    } else {
        /* Version 2 has none of these fields; the spec fixes their values. */
        h->refcount_order = 4;
        h->header_length = QH_V2_LENGTH;
    }
    /* compression_type exists only if the header is long enough for it. */
    if (h->version >= 3 && h->header_length > QH_COMPRESSION_TYPE)
        h->compression_type = b[QH_COMPRESSION_TYPE];
}

static int validate_header(struct img *img, uint64_t file_size)
{
    struct qcow2 *q = img->q;
    struct img_qcow2_header *h = &q->h;
    uint64_t l1_needed;

    /* QEMU's words (block/qcow2.c qcow2_do_open), without the file name. */
    if (h->magic != QCOW2_MAGIC)
        return img_fail(img, IMG_ECORRUPT, "Image is not in qcow2 format");
    if (h->version != 2 && h->version != 3)
        return img_fail(img, IMG_ENOTSUP, "Unsupported qcow2 version %u", h->version);
    if (h->cluster_bits < QCOW_MIN_CLUSTER_BITS || h->cluster_bits > QCOW_MAX_CLUSTER_BITS)
        return img_fail(img, IMG_ECORRUPT, "Unsupported cluster size: 2^%u", h->cluster_bits);
    q->cluster_bits = (int)h->cluster_bits;
    q->cluster_size = 1u << h->cluster_bits;
    if (h->version >= 3) {
        if (h->header_length < QH_V3_MIN_LENGTH)
            return img_fail(img, IMG_ECORRUPT, "qcow2 header too short");
        if (h->header_length > q->cluster_size)
            return img_fail(img, IMG_ECORRUPT, "qcow2 header exceeds cluster size");
    }
    if (h->refcount_order > 6)
        return img_fail(img, IMG_ECORRUPT,
                        "Reference count entry width too large; may not exceed 64 bits");
    if (h->crypt_method != 0)
        return img_fail(img, IMG_ENOTSUP, "Encrypted images are not supported");
    if (h->incompatible_features & QF_INCOMPAT_DATA_FILE)
        return img_fail(img, IMG_ENOTSUP, "External data files are not supported");
    /* compression_type must agree with its feature bit (qcow2.txt "Header",
     * byte 104): non-zero types need the bit, zlib must not set it. */
    if (h->compression_type > IMG_COMP_ZSTD)
        return img_fail(img, IMG_ENOTSUP, "qcow2: unknown compression type: %u",
                        h->compression_type);
    if (h->compression_type != 0 && !(h->incompatible_features & QF_INCOMPAT_COMPRESSION))
        return img_fail(img, IMG_ECORRUPT,
                        "qcow2: Compression type incompatible feature bit must be set");
    if (h->compression_type == 0 && (h->incompatible_features & QF_INCOMPAT_COMPRESSION))
        return img_fail(img, IMG_ECORRUPT,
                        "qcow2: Compression type incompatible feature bit must not be set");
    if (h->backing_file_offset) {
        if (h->backing_file_size > 1023)
            return img_fail(img, IMG_ECORRUPT, "Backing file name too long");
        if (h->backing_file_offset > q->cluster_size ||
            h->backing_file_size > q->cluster_size - h->backing_file_offset)
            return img_fail(img, IMG_ECORRUPT, "Invalid backing file offset");
    }
    if (h->nb_snapshots > QCOW_MAX_SNAPSHOTS)
        return img_fail(img, IMG_ECORRUPT, "Snapshot table too large");

    /* Geometry derived from the header (qcow2.txt "Cluster mapping"). */
    q->ext_l2 = (h->incompatible_features & QF_INCOMPAT_EXTL2) != 0;
    q->l2_esize = q->ext_l2 ? 16 : 8;
    q->l2_entries = q->cluster_size / (uint64_t)q->l2_esize;
    q->l2_bits = q->cluster_bits - (q->ext_l2 ? 4 : 3);
    q->sc_size = q->ext_l2 ? q->cluster_size / QSC_COUNT : q->cluster_size;
    if (q->ext_l2 && q->cluster_bits < 14)
        return img_fail(img, IMG_ECORRUPT, "Extended L2 entries need clusters of 16 KiB or more");
    q->csize_shift = 62 - (q->cluster_bits - 8);
    q->csize_mask = (1ull << (q->cluster_bits - 8)) - 1;
    q->rc_bits = 1 << h->refcount_order;
    q->rb_entries = (uint64_t)q->cluster_size * 8 / (uint64_t)q->rc_bits;
    q->rc_max = q->rc_bits == 64 ? UINT64_MAX : (1ull << q->rc_bits) - 1;

    /* Virtual size: QEMU's qcow2_do_open() refuses a size whose L1 index
     * does not fit in an int; a larger size than the L1 table covers is
     * refused below.  The virtual size may exceed the 56 bits of host
     * offsets: with 2 MiB clusters an L1 table of the maximum size maps
     * 2^61 bytes. */
    if (div_up(h->size, (uint64_t)q->cluster_size << q->l2_bits) > 0x7fffffffull)
        return img_fail(img, IMG_ECORRUPT, "Image is too big");
    if ((uint64_t)h->refcount_table_clusters * q->cluster_size > QCOW_MAX_REFTABLE_SIZE)
        return img_fail(img, IMG_ECORRUPT, "Reference count table too large");
    if (h->refcount_table_clusters == 0)
        return img_fail(img, IMG_ECORRUPT, "Image does not contain a reference count table");
    if (check_table(img, file_size, h->refcount_table_offset,
                    (uint64_t)h->refcount_table_clusters * q->cluster_size,
                    "Reference count table") < 0)
        return -IMG_ECORRUPT;
    /* QEMU validates the snapshot table's offset even without snapshots,
     * but not against the file's length (qcow2_validate_table): entries
     * past the end read as zeros, so that check can report them as
     * incomplete and -r all can rewrite the table. */
    if (check_table(img, QCOW_MAX_OFFSET, h->snapshots_offset,
                    (uint64_t)h->nb_snapshots * QS_FIXED_LEN, "Snapshot table") < 0)
        return -IMG_ECORRUPT;
    /* The active L1 table comes last, as in qcow2_do_open(): a header cut
     * short (read zero-padded) then fails on the refcount table first. */
    l1_needed = div_up(h->size, (uint64_t)q->cluster_size << q->l2_bits);
    if ((uint64_t)h->l1_size * 8 > QCOW_MAX_L1_SIZE)
        return img_fail(img, IMG_ECORRUPT, "Active L1 table too large");
    if (h->l1_size < l1_needed)
        return img_fail(img, IMG_ECORRUPT, "L1 table is too small");
    if (check_table(img, file_size, h->l1_table_offset, (uint64_t)h->l1_size * 8,
                    "Active L1 table") < 0)
        return -IMG_ECORRUPT;
    return 0;
}

/* Load a table of big-endian 64-bit entries into host order. */
static int load_table(struct img *img, uint64_t off, uint64_t n, uint64_t alloc, uint64_t **out)
{
    uint64_t *t = img_alloc(img->env, (size_t)(alloc ? alloc : 1) * 8);
    if (!t)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    if (n && io_read(img, off, t, (size_t)n * 8) < 0) {
        img_free(img->env, t);
        return -IMG_EIO;
    }
    for (uint64_t i = 0; i < n; i++)
        t[i] = be64(&t[i]);
    *out = t;
    return 0;
}

/*
 * Read the fixed part of the header and check it (decode_header(),
 * validate_header()).  The header and its extensions live in cluster 0, but
 * the cluster size is not known before the header is decoded, so this reads
 * the largest header this library understands.  A file shorter than that is
 * read zero-padded, as QEMU's file protocol reads past the end of a file,
 * and the header is then validated as it stands: a 6-byte text file fails
 * the magic check, a qcow2 file cut inside its header fails on whichever
 * field came out zero.
 */
static int read_header(struct img *img, uint64_t file_size)
{
    uint8_t header_bytes[QH_V3_LENGTH];
    size_t have = file_size < sizeof(header_bytes) ? (size_t)file_size : sizeof(header_bytes);

    memset(header_bytes, 0, sizeof(header_bytes));
    if (have && io_read(img, 0, header_bytes, have) < 0)
        return -IMG_EIO;
    decode_header(&img->q->h, header_bytes);
    return validate_header(img, file_size);
}

/*
 * The per-image scratch buffers, sized by the cluster size the header gave:
 * one cluster for metadata work, one for the last decompressed cluster, and
 * two clusters plus a sector for compressed data: a compressed descriptor's
 * sector count has cluster_bits - 8 bits, so it can cover up to two clusters
 * of 512-byte sectors, and its first byte may lie anywhere in its first
 * sector (qcow2.txt "Compressed Clusters Descriptor").
 */
static int alloc_scratch(struct img *img)
{
    struct qcow2 *q = img->q;

    q->tmp = img_alloc(img->env, q->cluster_size);
    q->dcache = img_alloc(img->env, q->cluster_size);
    q->ctmp = img_alloc(img->env, (size_t)q->cluster_size * 2 + 512);
    if (!q->tmp || !q->dcache || !q->ctmp)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    /* No cluster is decompressed yet, and whether the file has holes for
     * block status is found out on first use (qcow2_status.c). */
    q->dcache_off = UINT64_MAX;
    q->meta_prealloc = -1;
    return 0;
}

/*
 * Read all of cluster 0 and take from it what follows the fixed header:
 * the header extensions, then the backing file name.  Only then are the
 * incompatible feature bits judged, because the feature name table that
 * names the unknown ones is itself an extension.
 */
static int read_cluster0_tail(struct img *img)
{
    struct qcow2 *q = img->q;
    uint8_t *cluster0 = q->tmp;
    uint32_t ext_end;
    int r;

    if (io_read(img, 0, cluster0, q->cluster_size) < 0)
        return -IMG_EIO;
    /* Extensions end where the backing file name starts, or at the end of
     * cluster 0 (qcow2.txt "Header extensions"). */
    ext_end = q->cluster_size;
    if (q->h.backing_file_offset && q->h.backing_file_offset >= q->h.header_length)
        ext_end = (uint32_t)q->h.backing_file_offset;
    r = parse_extensions(img, cluster0, q->h.header_length, ext_end);
    if (r < 0)
        return r;
    if (q->h.incompatible_features & ~QF_INCOMPAT_KNOWN) {
        unknown_features_msg(img, q->h.incompatible_features & ~QF_INCOMPAT_KNOWN);
        return -IMG_ENOTSUP;
    }
    /* The corrupt bit (qcow2.txt "Header", incompatible bit 1) forbids
     * writes until the image is repaired; check -r opens with
     * IMG_OPEN_FORCE to do that repair, as QEMU's check does. */
    if ((q->h.incompatible_features & QF_INCOMPAT_CORRUPT) && img->rw &&
        !(img->flags & IMG_OPEN_FORCE))
        return img_fail(img, IMG_ECORRUPT, "qcow2: Image is corrupt; cannot be opened read/write");
    if (q->h.backing_file_offset) {
        /* validate_header() checked that the name lies inside cluster 0
         * and fits the buffer; it is not NUL-terminated on disk. */
        memcpy(q->backing_file, cluster0 + q->h.backing_file_offset, q->h.backing_file_size);
        q->backing_file[q->h.backing_file_size] = 0;
        if (strlen(q->backing_file) != q->h.backing_file_size)
            return img_fail(img, IMG_ECORRUPT, "Backing file name contains a NUL byte");
    }
    return 0;
}

/*
 * L1 entries must be cluster aligned, point past the header and have no
 * reserved bits set (qcow2.txt "L1 table entry"), or later lookups would
 * follow them anywhere.
 */
static int check_l1_entries(struct img *img)
{
    struct qcow2 *q = img->q;

    for (uint64_t i = 0; i < q->h.l1_size; i++) {
        uint64_t l2_table_off = q->l1[i] & QE_OFFSET;
        if ((q->l1[i] & QL1_RESERVED) || (l2_table_off && (l2_table_off < q->cluster_size ||
                                                           l2_table_off & (q->cluster_size - 1))))
            return img_fail(img, IMG_ECORRUPT, "L1 entry %llu is invalid (%#llx)",
                            (unsigned long long)i, (unsigned long long)q->l1[i]);
    }
    return 0;
}

/*
 * A refcount table entry with reserved bits set (bits 0..8, qcow2.txt
 * "Refcount table entry") or pointing past the end of the file is damage
 * QEMU accepts on open: reads never consult refcounts, and check reports it
 * (qcow2-refcount.c, check_refblocks).  Such an image is opened read-only,
 * or read-write only by check -r (IMG_OPEN_FORCE), which rebuilds the
 * structure; any other write through it could allocate clusters that are in
 * use.  An entry that is not cluster aligned or is past the 56-bit offset
 * limit is refused outright.
 */
static int check_refcount_table(struct img *img, uint64_t file_size)
{
    struct qcow2 *q = img->q;

    for (uint64_t i = 0; i < q->rt_entries; i++) {
        uint64_t block_off = q->rt[i] & ~0x1ffull;
        if (q->rt[i] & 0x1ff)
            q->rt_damaged = true;
        if (block_off && ((block_off & (q->cluster_size - 1)) || block_off < q->cluster_size ||
                          block_off >= QCOW_MAX_OFFSET))
            return img_fail(img, IMG_ECORRUPT,
                            "Reference count block %llu at %#llx is outside the image",
                            (unsigned long long)i, (unsigned long long)block_off);
        if (block_off >= file_size)
            q->rt_damaged = true;
    }
    if (q->rt_damaged && img->rw && !(img->flags & IMG_OPEN_FORCE))
        return img_fail(img, IMG_ECORRUPT,
                        "The refcount table of '%s' is damaged; it can only be opened "
                        "read-only until 'check -r all' rebuilds it",
                        img->name);
    return 0;
}

/*
 * Load the two tables every access needs, the active L1 table (qcow2.txt
 * "Cluster mapping") and the refcount table (qcow2.txt "Host cluster
 * management"), and check their entries before anything follows them.
 */
static int load_core_tables(struct img *img, uint64_t file_size)
{
    struct qcow2 *q = img->q;
    int r;

    q->l1_alloc = q->h.l1_size;
    r = load_table(img, q->h.l1_table_offset, q->h.l1_size, q->l1_alloc, &q->l1);
    if (r < 0)
        return r;
    q->rt_entries = (uint64_t)q->h.refcount_table_clusters * q->cluster_size / 8;
    r = load_table(img, q->h.refcount_table_offset, q->rt_entries, q->rt_entries, &q->rt);
    if (r < 0)
        return r;
    r = check_l1_entries(img);
    if (r < 0)
        return r;
    return check_refcount_table(img, file_size);
}

/*
 * Open a qcow2 image read-only in effect: every step below only reads, so an
 * image refused at any step is left exactly as it was.  The first writes of
 * a read-write open happen later, in qc_open_rw().  On failure img->q holds
 * whatever was allocated so far, and qc_close() frees it.
 */
int qc_open(struct img *img)
{
    struct qcow2 *q;
    uint64_t file_size;
    int r;

    q = img_alloc(img->env, sizeof(*q));
    if (!q)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    img->q = q;
    if (io_size(img, &file_size) < 0)
        return -IMG_EIO;
    r = read_header(img, file_size);
    if (r < 0)
        return r;
    r = alloc_scratch(img);
    if (r < 0)
        return r;
    r = read_cluster0_tail(img);
    if (r < 0)
        return r;
    img->size = q->h.size;
    r = load_core_tables(img, file_size);
    if (r < 0)
        return r;
    r = qc_snap_load(img);
    if (r < 0)
        return r;
    r = qc_bitmaps_load(img);
    if (r < 0)
        return r;
    /* Clusters at or past the end of the file are free for allocation. */
    q->alloc_end = div_up(file_size, q->cluster_size);
    return 0;
}

/*
 * The first writes of a read-write open, done only once everything else
 * (including the backing chain) opened, so a refused image is never
 * modified: repair a dirty image, then clear autoclear bits.
 */
int qc_open_rw(struct img *img)
{
    struct qcow2 *q = img->q;
    int r;
    /* A dirty image (lazy refcounts, not closed cleanly) has refcounts
     * that may be too low: rebuild them before allocating anything.  This
     * comes first: it refuses damaged images before any write. */
    if ((q->h.incompatible_features & QF_INCOMPAT_DIRTY) && !(img->flags & IMG_OPEN_NO_REPAIR)) {
        r = qc_repair_dirty(img);
        if (r < 0)
            return r;
    }
    /* Unknown autoclear bits mean "an extension you do not know is now
     * stale"; we maintain only the bitmaps (qcow2_bitmap.c), so all other
     * bits are cleared before the first write (qcow2.txt "Header", autoclear_features). */
    uint64_t keep = q->bm_valid ? QF_AUTOCLEAR_BITMAPS : 0;
    if (q->h.autoclear_features & ~keep) {
        q->h.autoclear_features &= keep;
        r = qc_update_header(img);
        if (r < 0)
            return r;
    }
    return qc_bitmaps_open_rw(img);
}

void qc_close(struct img *img)
{
    struct qcow2 *q = img->q;
    const struct img_env *env = img->env;
    for (int i = 0; i < QC_CACHE_SLOTS; i++) {
        img_free(env, q->l2c[i].data);
        img_free(env, q->rbc[i].data);
    }
    for (int i = 0; i < q->nb_exts; i++)
        img_free(env, q->exts[i].data);
    img_free(env, q->exts);
    qc_snap_free(img);
    qc_bitmaps_free(img);
    img_free(env, q->l1);
    img_free(env, q->rt);
    img_free(env, q->tmp);
    img_free(env, q->ctmp);
    img_free(env, q->dcache);
    img_free(env, q);
    img->q = NULL;
}

/*
 * Rewrite cluster 0: the header, the extensions (backing format and all
 * others we read, in their order) and the backing file name.  This is a
 * single write of one buffer, so a crash leaves either the old or the new
 * header in the page cache (spec: the header fits in cluster 0).
 */
int qc_update_header(struct img *img)
{
    struct qcow2 *q = img->q;
    struct img_qcow2_header *h = &q->h;
    uint8_t *b;
    uint32_t pos, hlen;
    int r;

    b = img_alloc(img->env, q->cluster_size);
    if (!b)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    hlen = h->version >= 3 ? (h->header_length < QH_V3_LENGTH ? QH_V3_LENGTH : h->header_length)
                           : QH_V2_LENGTH;
    h->header_length = hlen;
    /* Zero-padded (env->alloc need not zero): see the write below. */
    memset(b, 0, q->cluster_size);
    if (h->version >= 3 && hlen > QH_V3_LENGTH) {
        /* Keep any fields of a longer future header that we do not know. */
        if (io_read(img, 0, b, hlen) < 0)
            goto fail;
    }
    put32(b + QH_MAGIC, QCOW2_MAGIC);
    put32(b + QH_VERSION, h->version);
    put32(b + QH_CLUSTER_BITS, h->cluster_bits);
    put64(b + QH_SIZE, h->size);
    put32(b + QH_CRYPT_METHOD, 0);
    put32(b + QH_L1_SIZE, h->l1_size);
    put64(b + QH_L1_OFFSET, h->l1_table_offset);
    put64(b + QH_RT_OFFSET, h->refcount_table_offset);
    put32(b + QH_RT_CLUSTERS, h->refcount_table_clusters);
    put32(b + QH_NB_SNAPSHOTS, h->nb_snapshots);
    put64(b + QH_SNAPSHOTS_OFFSET, h->snapshots_offset);
    if (h->version >= 3) {
        put64(b + QH_INCOMPAT, h->incompatible_features);
        put64(b + QH_COMPAT, h->compatible_features);
        put64(b + QH_AUTOCLEAR, h->autoclear_features);
        put32(b + QH_REFCOUNT_ORDER, h->refcount_order);
        put32(b + QH_HEADER_LENGTH, hlen);
        b[QH_COMPRESSION_TYPE] = h->compression_type;
    }
    pos = hlen;
    /* The backing format extension comes first, as QEMU writes it. */
    if (q->backing_fmt[0] && q->backing_file[0]) {
        uint32_t l = (uint32_t)strlen(q->backing_fmt);
        put32(b + pos, QEXT_BACKING_FMT);
        put32(b + pos + 4, l);
        memcpy(b + pos + 8, q->backing_fmt, l);
        pos += 8 + ((l + 7) & ~7u);
    }
    for (int i = 0; i < q->nb_exts; i++) {
        struct qc_ext *e = &q->exts[i];
        if (e->type == QEXT_BACKING_FMT)
            continue;
        /* Version 2 images have no feature bits, so no feature names. */
        if (e->type == QEXT_FEATURE_NAME && h->version < 3)
            continue;
        if ((uint64_t)pos + 8 + e->len + 8 > q->cluster_size)
            goto toolong;
        put32(b + pos, e->type);
        put32(b + pos + 4, e->len);
        memcpy(b + pos + 8, e->data, e->len);
        pos += 8 + ((e->len + 7) & ~7u);
    }
    /* End-of-extensions marker. */
    if (pos + 8 > q->cluster_size)
        goto toolong;
    put32(b + pos, QEXT_END);
    put32(b + pos + 4, 0);
    pos += 8;
    if (q->backing_file[0]) {
        uint32_t l = (uint32_t)strlen(q->backing_file);
        if (pos + l > q->cluster_size)
            goto toolong;
        memcpy(b + pos, q->backing_file, l);
        h->backing_file_offset = pos;
        h->backing_file_size = l;
        pos += l;
    } else {
        h->backing_file_offset = 0;
        h->backing_file_size = 0;
    }
    put64(b + QH_BACKING_OFFSET, h->backing_file_offset);
    put32(b + QH_BACKING_SIZE, h->backing_file_size);
    /* The whole of cluster 0, zeros after the last byte used, as QEMU's
     * qcow2_update_header() writes it: a shorter backing file name or
     * fewer extensions leave no stale bytes of the old ones behind. */
    r = io_write(img, 0, b, q->cluster_size);
    img_free(img->env, b);
    return r;
toolong:
    img_free(img->env, b);
    return img_fail(img, IMG_ENOSPC, "The image header does not fit in one cluster");
fail:
    img_free(img->env, b);
    return -IMG_EIO;
}

/*
 * With lazy refcounts (compatible bit 0) the dirty bit (incompatible bit 0)
 * must be set before the first write, so that an unclean shutdown makes
 * the next opener rebuild the refcounts (qcow2.txt "Header", incompatible_features).
 * We still keep refcounts exact; the bit only records the promise.
 */
int qc_mark_dirty(struct img *img)
{
    struct qcow2 *q = img->q;
    uint8_t b[8];
    if (q->dirty_marked || q->h.version < 3 ||
        !(q->h.compatible_features & QF_COMPAT_LAZY_REFCOUNTS))
        return 0;
    q->h.incompatible_features |= QF_INCOMPAT_DIRTY;
    put64(b, q->h.incompatible_features);
    q->dirty_marked = true;
    return io_write(img, QH_INCOMPAT, b, 8);
}

int qc_flush(struct img *img)
{
    struct qcow2 *q = img->q;
    uint8_t b[8];
    /* Everything is written through already; the only deferred state is
     * the dirty bit, which is cleared once the data is stable. */
    if (q->dirty_marked) {
        if (img->io.flush && !(img->flags & IMG_OPEN_NO_FLUSH) && img->io.flush(img->io.ctx) < 0)
            return img_fail(img, IMG_EIO, "Could not flush '%s'", img->name);
        q->h.incompatible_features &= ~QF_INCOMPAT_DIRTY;
        put64(b, q->h.incompatible_features);
        q->dirty_marked = false;
        return io_write(img, QH_INCOMPAT, b, 8);
    }
    return 0;
}
