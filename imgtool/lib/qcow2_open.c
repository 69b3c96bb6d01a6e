/*
 * qcow2_open.c: reading and validating a qcow2 header, its extensions and
 * the tables every access needs (active L1 table, refcount table).
 *
 * Every number in the header is checked before it is used: against the
 * spec's limits, against QEMU 7.2's limits and against the file's size, so a
 * hostile or truncated image produces a clear error instead of a huge
 * allocation, a read far past the end or an out-of-bounds access.  Nothing
 * is written to the image until all checks passed.
 *
 * Reading order: qc_open() (read_header(), read_cluster0_tail(),
 * load_core_tables()), then qc_open_rw() for the first writes of a
 * read-write open, qc_update_header() which rewrites cluster 0, and the
 * dirty bit's life: qc_mark_dirty() before the first write of a session,
 * qc_flush() clearing it once the data is stable.
 *
 * The layout read here is QEMU's docs/interop/qcow2.txt: the fixed header
 * fields (qcow2.txt "Header", "Additional fields (version 3 and higher)"),
 * then header extensions up to cluster 0's end or the backing file name
 * (qcow2.txt "Header extensions"), then the tables the header points at.
 */
#include "internal.h"

/* Loaded and freed with the image, defined with their feature. */
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
    /* The checks are written so that off + len cannot overflow: a hostile
     * offset near 2^64 fails the first test, not a wrapped sum. */
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

/*
 * Parse the header extensions that follow the header in cluster 0 (qcow2.txt
 * "Header extensions").  Unknown ones are kept so a rewrite preserves them:
 * the spec lets a writer drop extensions it does not know, but QEMU keeps
 * none either and a reader that knows them would lose data.  Each
 * extension is a 4-byte type, a 4-byte length and the data padded to a
 * multiple of 8 bytes; type 0 ends the list.
 */
static int parse_extensions(struct img *img, const uint8_t *cluster0, uint32_t start, uint32_t end)
{
    struct qcow2 *q = img->q;
    uint32_t pos = start;
    int count = 0;

    /* First pass: count them, checking every length against the cluster,
     * so that the second pass can allocate the array once and trust every
     * length it reads. */
    for (;;) {
        uint32_t type, len;
        if (end - pos < 8)
            break; /* no room for another extension header: treat as end */
        type = be32(cluster0 + pos);
        len = be32(cluster0 + pos + 4);
        if (type == QEXT_END)
            break;
        /* An extension may not run into the backing file name or past
         * cluster 0; QEMU refuses such an image with this message too. */
        if (len > end - pos - 8)
            return img_fail(img, IMG_ECORRUPT,
                            "Header extension %#x at offset %u is too long (%u bytes)", type, pos,
                            len);
        count++;
        pos += 8 + ((len + 7) & ~7u);
        /* The padding of the last extension may reach past the end. */
        if (pos > end)
            break;
    }
    q->exts = img_alloc(img->env, sizeof(*q->exts) * (size_t)(count ? count : 1));
    if (!q->exts)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    /* Second pass: copy each extension out of the scratch cluster, which
     * is reused as soon as open is done. */
    pos = start;
    for (int i = 0; i < count; i++) {
        struct qc_ext *ext = &q->exts[i];
        ext->type = be32(cluster0 + pos);
        ext->len = be32(cluster0 + pos + 4);
        ext->data = img_alloc(img->env, ext->len);
        if (!ext->data)
            return img_fail(img, IMG_ENOMEM, "Out of memory");
        memcpy(ext->data, cluster0 + pos + 8, ext->len);
        /* Counted as it is filled, so qc_close() frees exactly these. */
        q->nb_exts = i + 1;
        /* The backing format is the one extension open itself needs: it
         * says how to open the backing file (qcow2.txt "Header
         * extensions", type 0xe2792aca, not NUL-terminated). */
        if (ext->type == QEXT_BACKING_FMT) {
            if (ext->len >= sizeof(q->backing_fmt))
                return img_fail(img, IMG_ECORRUPT, "Backing format name too long (%u bytes)",
                                ext->len);
            memcpy(q->backing_fmt, ext->data, ext->len);
            q->backing_fmt[ext->len] = 0;
        } else if (ext->type == QEXT_CRYPTO) {
            /* Reading an encrypted image as if it were plain would return
             * garbage, so it is refused with a clear message. */
            return img_fail(img, IMG_ENOTSUP, "Image '%s' uses encryption, which is not supported",
                            img->name);
        }
        /* The data file name (QEXT_DATA_FILE) is read by qc_data_open(). */
        pos += 8 + ((ext->len + 7) & ~7u);
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
    /* Room for every name a table can give 64 bits of 46 bytes each is
     * not needed: the message is for a human, and stops where it is full. */
    char list[512] = "";
    size_t used = 0;
    /* The last feature name table wins, as in QEMU, which reads each in
     * turn into the same buffer. */
    for (int i = 0; i < q->nb_exts; i++)
        if (q->exts[i].type == QEXT_FEATURE_NAME)
            table = &q->exts[i];
    /* Entries are 48 bytes: type, bit number, 46 bytes of name; a partial
     * last entry reads zero-padded, as QEMU copies the table into a zeroed
     * buffer. */
    for (uint32_t entry_off = 0; table && entry_off < table->len && used < sizeof(list);
         entry_off += 48) {
        uint8_t entry[48] = {0};
        uint32_t have = table->len - entry_off < 48 ? table->len - entry_off : 48;
        memcpy(entry, table->data + entry_off, have);
        /* An empty name ends the table, as in QEMU. */
        if (entry[2] == 0)
            break;
        /* Only incompatible bits (type 0) that are set and still unnamed. */
        if (entry[0] != 0 || entry[1] >= 64 || !(mask & (1ull << entry[1])))
            continue;
        used += (size_t)ksnprintf(list + used, sizeof(list) - used, "%s%.46s", used ? ", " : "",
                                  (const char *)entry + 2);
        mask &= ~(1ull << entry[1]);
    }
    /* Bits the table did not name are reported together, in hex, as one
     * mask: QEMU's wording, which tests compare. */
    if (mask && used < sizeof(list))
        ksnprintf(list + used, sizeof(list) - used, "%sUnknown incompatible feature: %llx",
                  used ? ", " : "", (unsigned long long)mask);
    img_fail(img, IMG_ENOTSUP, "Unsupported qcow2 feature(s): %s", list);
}

/*
 * The fixed header fields into host byte order (qcow2.txt "Header"; all
 * numbers are big-endian, qcow2.txt "General").  Nothing is checked here:
 * validate_header() does that on the decoded values, so that every check
 * reads as a rule about a named field rather than about byte offsets.
 */
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
        /* Version 2 has none of these fields; the spec fixes their values
         * (qcow2.txt "Header": for version 2 the refcount order is
         * assumed to be 4, i.e. 16-bit refcounts, and the header is 72
         * bytes).  The feature bits stay 0: version 2 has none. */
        h->refcount_order = 4;
        h->header_length = QH_V2_LENGTH;
    }
    /* compression_type exists only if the header is long enough for it. */
    if (h->version >= 3 && h->header_length > QH_COMPRESSION_TYPE)
        h->compression_type = b[QH_COMPRESSION_TYPE];
}

/*
 * The header's own fields, each against the spec's limits and QEMU 7.2's,
 * in QEMU's order and with QEMU's words (block/qcow2.c qcow2_do_open()),
 * without the file name, which the CLI puts in front.
 */
static int check_header_fields(struct img *img)
{
    struct qcow2 *q = img->q;
    struct img_qcow2_header *h = &q->h;

    if (h->magic != QCOW2_MAGIC)
        return img_fail(img, IMG_ECORRUPT, "Image is not in qcow2 format");
    if (h->version != 2 && h->version != 3)
        return img_fail(img, IMG_ENOTSUP, "Unsupported qcow2 version %u", h->version);
    /* qcow2.txt "Header", cluster_bits: at least 9; QEMU's implementation
     * limit is 21 (2 MiB clusters). */
    if (h->cluster_bits < QCOW_MIN_CLUSTER_BITS || h->cluster_bits > QCOW_MAX_CLUSTER_BITS)
        return img_fail(img, IMG_ECORRUPT, "Unsupported cluster size: 2^%u", h->cluster_bits);
    q->cluster_bits = (int)h->cluster_bits;
    q->cluster_size = 1u << h->cluster_bits;
    /* A version 3 header says how long it is (qcow2.txt "Additional
     * fields (version 3 and higher)"): at least the 104 bytes of the
     * mandatory fields, and inside cluster 0 with its extensions. */
    if (h->version >= 3) {
        if (h->header_length < QH_V3_MIN_LENGTH)
            return img_fail(img, IMG_ECORRUPT, "qcow2 header too short");
        if (h->header_length > q->cluster_size)
            return img_fail(img, IMG_ECORRUPT, "qcow2 header exceeds cluster size");
    }
    /* Refcounts are 1 << refcount_order bits wide, at most 64. */
    if (h->refcount_order > 6)
        return img_fail(img, IMG_ECORRUPT,
                        "Reference count entry width too large; may not exceed 64 bits");
    /* Encrypted clusters would read as garbage here: refused rather than
     * misread.  (External data files are qcow2_data.c's.) */
    if (h->crypt_method != 0)
        return img_fail(img, IMG_ENOTSUP, "Encrypted images are not supported");
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
    /* The backing file name lies in cluster 0 and is at most 1023 bytes
     * (qcow2.txt "Header", backing_file_size). */
    if (h->backing_file_offset) {
        if (h->backing_file_size > 1023)
            return img_fail(img, IMG_ECORRUPT, "Backing file name too long");
        if (h->backing_file_offset > q->cluster_size ||
            h->backing_file_size > q->cluster_size - h->backing_file_offset)
            return img_fail(img, IMG_ECORRUPT, "Invalid backing file offset");
    }
    /* QEMU's limit, which also bounds the snapshot table's size. */
    if (h->nb_snapshots > QCOW_MAX_SNAPSHOTS)
        return img_fail(img, IMG_ECORRUPT, "Snapshot table too large");
    return 0;
}

/*
 * The geometry derived from the header (qcow2.txt "Cluster mapping"), kept
 * in struct qcow2 so that no other file recomputes it: how many entries an
 * L2 table has (8-byte entries, or 16 bytes with "Extended L2 Entries"),
 * the subcluster size, where a compressed descriptor's sector count starts
 * (qcow2.txt "Compressed Clusters Descriptor": x = 62 - (cluster_bits - 8))
 * and how many refcounts fit in a refcount block.
 */
static int derive_geometry(struct img *img)
{
    struct qcow2 *q = img->q;
    struct img_qcow2_header *h = &q->h;

    q->ext_l2 = (h->incompatible_features & QF_INCOMPAT_EXTL2) != 0;
    q->l2_esize = q->ext_l2 ? 16 : 8;
    q->l2_entries = q->cluster_size / (uint64_t)q->l2_esize;
    q->l2_bits = q->cluster_bits - (q->ext_l2 ? 4 : 3);
    q->sc_size = q->ext_l2 ? q->cluster_size / QSC_COUNT : q->cluster_size;
    /* 32 subclusters of less than 512 bytes make no sense; QEMU refuses. */
    if (q->ext_l2 && q->cluster_bits < 14)
        return img_fail(img, IMG_ECORRUPT, "Extended L2 entries need clusters of 16 KiB or more");
    q->csize_shift = 62 - (q->cluster_bits - 8);
    q->csize_mask = (1ull << (q->cluster_bits - 8)) - 1;
    q->rc_bits = 1 << h->refcount_order;
    q->rb_entries = (uint64_t)q->cluster_size * 8 / (uint64_t)q->rc_bits;
    q->rc_max = q->rc_bits == 64 ? UINT64_MAX : (1ull << q->rc_bits) - 1;
    return 0;
}

/*
 * The tables the header points at: their sizes against QEMU's limits and
 * their places against the file (check_table()).  Only then are they read,
 * so a hostile size can never make open allocate or read gigabytes.
 */
static int check_header_tables(struct img *img, uint64_t file_size)
{
    struct qcow2 *q = img->q;
    struct img_qcow2_header *h = &q->h;
    uint64_t l1_needed;

    /* Virtual size: QEMU's qcow2_do_open() refuses a size whose L1 index
     * does not fit in an int; a larger size than the L1 table covers is
     * refused below.  The virtual size may exceed the 56 bits of host
     * offsets: with 2 MiB clusters an L1 table of the maximum size maps
     * 2^61 bytes. */
    if (div_up(h->size, (uint64_t)q->cluster_size << q->l2_bits) > 0x7fffffffull)
        return img_fail(img, IMG_ECORRUPT, "Image is too big");
    if ((uint64_t)h->refcount_table_clusters * q->cluster_size > QCOW_MAX_REFTABLE_SIZE)
        return img_fail(img, IMG_ECORRUPT, "Reference count table too large");
    /* Without a refcount table nothing could ever be allocated. */
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
     * short (read zero-padded) then fails on the refcount table first.
     * It must cover the whole virtual disk, one entry per L2 table. */
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

/*
 * Check every header field before anything uses it, and derive the
 * geometry that the rest of the library works with.  The order of the
 * checks is QEMU's (qcow2_do_open()), so that an image with several faults
 * gets the same first message as from qemu-img.
 */
static int validate_header(struct img *img, uint64_t file_size)
{
    int r = check_header_fields(img);
    if (r == 0)
        r = derive_geometry(img);
    if (r == 0)
        r = check_header_tables(img, file_size);
    return r;
}

/*
 * Load a table of `entries` big-endian 64-bit entries at host offset off
 * into host order, in an array of `alloc_entries` (the L1 table may be
 * given room to grow).  Tables are kept in host order in memory so that
 * lookups need no conversion; every write converts back (qcow2_l2.c,
 * qcow2_refcount.c).  validate_header() already checked the table lies in
 * the file, so its size here is bounded by the file's.
 */
static int load_table(struct img *img, uint64_t off, uint64_t entries, uint64_t alloc_entries,
                      uint64_t **out)
{
    uint64_t *table = img_alloc(img->env, (size_t)(alloc_entries ? alloc_entries : 1) * 8);
    if (!table)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    if (entries && io_read(img, off, table, (size_t)entries * 8) < 0) {
        img_free(img->env, table);
        return -IMG_EIO;
    }
    for (uint64_t i = 0; i < entries; i++)
        table[i] = be64(&table[i]);
    *out = table;
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

    /* Zero what the file does not cover, as the backend would. */
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
    /* qcow2.txt "Header", incompatible_features: a reader that finds a
     * bit it does not know must refuse the image. */
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

    /* Offset 0 means "no L2 table": the whole range reads from the
     * backing file or as zeros (qcow2.txt "L1 table entry").  Bit 63, the
     * "copied" flag, is not checked here: check compares it with the
     * refcount. */
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

    /* Bits 0-8 are reserved: the offset is the rest of the entry. */
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

    /* The L1 table has exactly its header size in memory until a resize
     * grows it (qcow2_resize.c). */
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
 * whatever was allocated so far, and qc_close() frees it.  opts, if not
 * NULL, may name the external data file to use instead of the header's.
 */
int qc_open(struct img *img, const struct img_open_opts *opts)
{
    struct qcow2 *q;
    uint64_t file_size;
    int r;

    /* Zeroed: every pointer starts NULL and every cache slot empty, so
     * qc_close() can free whatever a failed open got to. */
    q = img_alloc(img->env, sizeof(*q));
    if (!q)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    img->q = q;
    /* The file's length bounds every table offset checked below. */
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
    /* The virtual size is the header's; qcow2 keeps no other record. */
    img->size = q->h.size;
    r = load_core_tables(img, file_size);
    if (r < 0)
        return r;
    /* Snapshots and persistent bitmaps validate their own tables
     * (qcow2_snapshot.c, qcow2_bitmap.c) and are kept in memory. */
    r = qc_snap_load(img);
    if (r < 0)
        return r;
    r = qc_bitmaps_load(img);
    if (r < 0)
        return r;
    /* Last, once the metadata is known to be sane: the data file. */
    r = qc_data_open(img, opts);
    if (r < 0)
        return r;
    /* Clusters at or past the end of the file are free for allocation. */
    q->alloc_end = div_up(file_size, q->cluster_size);
    /* What is left open is done in qc_open_rw(), after the whole backing
     * chain opened, so that a refused image is never written to. */
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
    /* Nothing before this point wrote to the image; from here on, every
     * write is one the spec asks of a writer that opens the image. */
    /* A dirty image (lazy refcounts, not closed cleanly) has refcounts
     * that may be too low: rebuild them before allocating anything.  This
     * comes first: it refuses damaged images before any write. */
    /* check opens with IMG_OPEN_NO_REPAIR: it must see the damage as it
     * is, not after a silent repair, as qemu-img check does. */
    if ((q->h.incompatible_features & QF_INCOMPAT_DIRTY) && !(img->flags & IMG_OPEN_NO_REPAIR)) {
        r = qc_repair_dirty(img);
        if (r < 0)
            return r;
    }
    /* Unknown autoclear bits mean "an extension you do not know is now
     * stale"; we maintain only the bitmaps (qcow2_bitmap.c), so all other
     * bits are cleared before the first write (qcow2.txt "Header", autoclear_features). */
    uint64_t keep = q->bm_valid ? QF_AUTOCLEAR_BITMAPS : 0;
    /* The raw data file is kept raw by qcow2_io.c (qc_data_zero). */
    if (q->data_raw)
        keep |= QF_AUTOCLEAR_DATA_RAW;
    /* Only written when a bit really changes: opening a clean image
     * read-write and closing it again leaves it byte for byte the same. */
    if (q->h.autoclear_features & ~keep) {
        q->h.autoclear_features &= keep;
        r = qc_update_header(img);
        if (r < 0)
            return r;
    }
    /* Last, the bitmaps: enabled ones are marked in use (qcow2.txt
     * "Bitmap directory", flag in_use) before the first write. */
    return qc_bitmaps_open_rw(img);
}

/*
 * Free everything qc_open() and later calls allocated.  It works on a
 * half-opened image too (img->q as qc_open() left it on a failure): every
 * pointer is either NULL or owned, and img_free() accepts NULL.  Nothing is
 * written here: the caches are write-through, and the dirty bit and the
 * bitmaps were handled by img_close() before.
 */
void qc_close(struct img *img)
{
    struct qcow2 *q = img->q;
    const struct img_env *env = img->env;
    /* The cached L2 tables and refcount blocks: clean copies, since the
     * caches are write-through. */
    for (int i = 0; i < QC_CACHE_SLOTS; i++) {
        img_free(env, q->l2c[i].data);
        img_free(env, q->rbc[i].data);
    }
    for (int i = 0; i < q->nb_exts; i++)
        img_free(env, q->exts[i].data);
    img_free(env, q->exts);
    /* Each feature frees what it loaded. */
    qc_snap_free(img);
    qc_bitmaps_free(img);
    qc_data_close(img);
    img_free(env, q->l1);
    img_free(env, q->rt);
    img_free(env, q->tmp);
    img_free(env, q->ctmp);
    img_free(env, q->dcache);
    img_free(env, q);
    /* img_destroy() tests img->q: a closed driver must look closed. */
    img->q = NULL;
}

/* The fixed fields (qcow2.txt "Header") from the in-memory header, except
 * the backing file's place, which is known only once the extensions are
 * laid out. */
static void encode_header_fields(const struct img_qcow2_header *h, uint8_t *cluster0)
{
    /* crypt_method is always 0, since encrypted images are never opened. */
    put32(cluster0 + QH_MAGIC, QCOW2_MAGIC);
    put32(cluster0 + QH_VERSION, h->version);
    put32(cluster0 + QH_CLUSTER_BITS, h->cluster_bits);
    put64(cluster0 + QH_SIZE, h->size);
    put32(cluster0 + QH_CRYPT_METHOD, 0);
    put32(cluster0 + QH_L1_SIZE, h->l1_size);
    put64(cluster0 + QH_L1_OFFSET, h->l1_table_offset);
    put64(cluster0 + QH_RT_OFFSET, h->refcount_table_offset);
    put32(cluster0 + QH_RT_CLUSTERS, h->refcount_table_clusters);
    put32(cluster0 + QH_NB_SNAPSHOTS, h->nb_snapshots);
    put64(cluster0 + QH_SNAPSHOTS_OFFSET, h->snapshots_offset);
    /* Version 3 only (qcow2.txt "Additional fields (version 3 and
     * higher)"); a version 2 header ends before them. */
    if (h->version >= 3) {
        put64(cluster0 + QH_INCOMPAT, h->incompatible_features);
        put64(cluster0 + QH_COMPAT, h->compatible_features);
        put64(cluster0 + QH_AUTOCLEAR, h->autoclear_features);
        put32(cluster0 + QH_REFCOUNT_ORDER, h->refcount_order);
        put32(cluster0 + QH_HEADER_LENGTH, h->header_length);
        cluster0[QH_COMPRESSION_TYPE] = h->compression_type;
    }
}

/*
 * Lay out the header extensions from *pos on, each as type, length and
 * data padded to 8 bytes, then the end marker (qcow2.txt "Header
 * extensions").  *pos ends after the marker.  False if they do not fit in
 * cluster 0.
 */
static bool encode_extensions(struct qcow2 *q, uint8_t *cluster0, uint32_t *pos)
{
    /* The backing format extension comes first, as QEMU writes it; it is
     * written only with a backing file, since it means nothing alone. */
    if (q->backing_fmt[0] && q->backing_file[0]) {
        uint32_t fmt_len = (uint32_t)strlen(q->backing_fmt);
        put32(cluster0 + *pos, QEXT_BACKING_FMT);
        put32(cluster0 + *pos + 4, fmt_len);
        memcpy(cluster0 + *pos + 8, q->backing_fmt, fmt_len);
        *pos += 8 + ((fmt_len + 7) & ~7u);
    }
    for (int i = 0; i < q->nb_exts; i++) {
        struct qc_ext *ext = &q->exts[i];
        /* Already written above from q->backing_fmt, which may have
         * changed since the image was opened (rebase, amend). */
        if (ext->type == QEXT_BACKING_FMT)
            continue;
        /* Version 2 images have no feature bits, so no feature names. */
        if (ext->type == QEXT_FEATURE_NAME && q->h.version < 3)
            continue;
        /* Room for this extension and for the end marker after it. */
        if ((uint64_t)*pos + 8 + ext->len + 8 > q->cluster_size)
            return false;
        put32(cluster0 + *pos, ext->type);
        put32(cluster0 + *pos + 4, ext->len);
        memcpy(cluster0 + *pos + 8, ext->data, ext->len);
        *pos += 8 + ((ext->len + 7) & ~7u);
    }
    /* End-of-extensions marker: type 0, length 0. */
    if (*pos + 8 > q->cluster_size)
        return false;
    put32(cluster0 + *pos, QEXT_END);
    put32(cluster0 + *pos + 4, 0);
    *pos += 8;
    return true;
}

/*
 * Rewrite cluster 0: the header, the extensions (backing format and all
 * others we read, in their order) and the backing file name.  This is a
 * single write of one buffer, so a crash leaves either the old or the new
 * header in the page cache (qcow2.txt "Header extensions": the header,
 * its extensions and the backing file name all lie in cluster 0).
 *
 * Callers change the in-memory header (q->h, q->backing_file, q->exts)
 * and then call this; the fields that point at tables are written only
 * after the tables they point at are complete on disk, which is what keeps
 * a crash from leaving a header that points at garbage.
 */
int qc_update_header(struct img *img)
{
    struct qcow2 *q = img->q;
    struct img_qcow2_header *h = &q->h;
    uint8_t *cluster0;
    uint32_t pos;
    int r;

    cluster0 = img_alloc(img->env, q->cluster_size);
    if (!cluster0)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    /* A version 3 header is at least as long as the fields this library
     * writes (up to compression_type); a longer one keeps its length.
     * Version 2 headers have a fixed length and no header_length field. */
    h->header_length = h->version >= 3
                           ? (h->header_length < QH_V3_LENGTH ? QH_V3_LENGTH : h->header_length)
                           : QH_V2_LENGTH;
    /* Zero-padded: see the write below.  (img_alloc() zeroes already;
     * the memset says so where it matters.) */
    memset(cluster0, 0, q->cluster_size);
    if (h->version >= 3 && h->header_length > QH_V3_LENGTH) {
        /* Keep any fields of a longer future header that we do not know. */
        if (io_read(img, 0, cluster0, h->header_length) < 0) {
            img_free(img->env, cluster0);
            return -IMG_EIO;
        }
    }
    encode_header_fields(h, cluster0);
    pos = h->header_length;
    if (!encode_extensions(q, cluster0, &pos))
        goto toolong;
    /* The backing file name follows the extensions, as QEMU places it;
     * the header records where it ended up.  An image without one has
     * offset and size 0. */
    if (q->backing_file[0]) {
        uint32_t name_len = (uint32_t)strlen(q->backing_file);
        if (pos + name_len > q->cluster_size)
            goto toolong;
        memcpy(cluster0 + pos, q->backing_file, name_len);
        h->backing_file_offset = pos;
        h->backing_file_size = name_len;
    } else {
        h->backing_file_offset = 0;
        h->backing_file_size = 0;
    }
    put64(cluster0 + QH_BACKING_OFFSET, h->backing_file_offset);
    put32(cluster0 + QH_BACKING_SIZE, h->backing_file_size);
    /* The whole of cluster 0, zeros after the last byte used, as QEMU's
     * qcow2_update_header() writes it: a shorter backing file name or
     * fewer extensions leave no stale bytes of the old ones behind. */
    r = io_write(img, 0, cluster0, q->cluster_size);
    img_free(img->env, cluster0);
    return r;
    /* Too many or too long extensions and name: nothing was written, the
     * image keeps its old header. */
toolong:
    img_free(img->env, cluster0);
    return img_fail(img, IMG_ENOSPC, "The image header does not fit in one cluster");
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
    /* Once per session, and only for images that promise lazy refcounts;
     * version 2 images have no feature bits at all. */
    if (q->dirty_marked || q->h.version < 3 ||
        !(q->h.compatible_features & QF_COMPAT_LAZY_REFCOUNTS))
        return 0;
    /* Only the 8 bytes of incompatible_features are written, not all of
     * cluster 0: a write that small cannot tear the rest of the header. */
    q->h.incompatible_features |= QF_INCOMPAT_DIRTY;
    put64(b, q->h.incompatible_features);
    q->dirty_marked = true;
    return io_write(img, QH_INCOMPAT, b, 8);
}

/*
 * Make the image consistent on disk.  The order matters for crash safety:
 * the backend's flush makes every data and metadata write of the session
 * stable first, and only then is the dirty bit cleared.  Clearing it
 * first, a crash could leave a clean-looking image whose refcounts never
 * reached the disk.
 */
int qc_flush(struct img *img)
{
    struct qcow2 *q = img->q;
    uint8_t b[8];
    int r = qc_data_flush(img);
    if (r < 0)
        return r;
    /* Everything is written through already; the only deferred state is
     * the dirty bit, which is cleared once the data is stable. */
    /* A session that set no dirty bit has nothing deferred: the caller's
     * own flush (img_flush()) does the rest. */
    if (q->dirty_marked) {
        if (img->io.flush && !(img->flags & IMG_OPEN_NO_FLUSH) && img->io.flush(img->io.ctx) < 0)
            return img_fail(img, IMG_EIO, "Could not flush '%s'", img->name);
        /* The same 8-byte write as qc_mark_dirty(); the next write of the
         * session sets the bit again. */
        q->h.incompatible_features &= ~QF_INCOMPAT_DIRTY;
        put64(b, q->h.incompatible_features);
        q->dirty_marked = false;
        return io_write(img, QH_INCOMPAT, b, 8);
    }
    return 0;
}
