/*
 * qcow2_bitmap.c: persistent dirty bitmaps (qemu-img bitmap, and the
 * bookkeeping every write does for them).
 *
 * A version 3 image may hold bitmaps that record which parts of the disk
 * were written since some moment (incremental backups use them).  The
 * "Bitmaps extension" of the header points at the "Bitmap directory": one
 * entry per bitmap with its name, flags, granularity and the offset of its
 * "Bitmap table".  Each table entry stands for one cluster of bitmap data:
 * an offset, or 0 for a cluster of all zeros (or all ones with bit 0 set).
 * Bit n of the data is byte n / 8, bit n % 8, and covers the guest bytes
 * [n * granularity, (n + 1) * granularity) (qcow2.txt "Bitmap table").
 * For scale: a 1 GiB disk at the usual 64 KiB granularity has 16384 bits,
 * 2 KiB of data, which fits one cluster and a table of one entry; at 512
 * bytes granularity the same disk needs 256 KiB of data.
 *
 * The extension counts only while autoclear bit 0 is set (qcow2.txt
 * "Header", autoclear_features): a program that does not know bitmaps clears it
 * when it writes, which tells everyone that the bitmaps are stale.
 *
 * As QEMU does (block/qcow2-bitmap.c), an enabled ("auto") bitmap is
 * marked "in use" on disk before this session's first write, its bits are
 * kept in memory and set by every write, and at close it is stored anew
 * with the flag cleared.  A crash leaves it "in use", i.e. inconsistent,
 * which is the truth.  Storing follows the library's crash order: new data
 * clusters, new tables and a new directory are written first, the header
 * switches to them in one write, and the old clusters are freed last.
 *
 * The life of a bitmap in one session, then:
 *   open       qc_bitmaps_load() reads and checks the directory and tables;
 *   rw open    qc_bitmaps_open_rw() marks the enabled ones in use on disk
 *              and loads their bits;
 *   each write qc_bitmaps_dirty() sets the bits the write covers, in memory;
 *   close      qc_bitmaps_close() stores every changed bitmap and clears
 *              the in-use flags (commit()).
 * The qemu-img bitmap verbs change bitmaps in memory the same way and leave
 * the storing to close, except remove, which rewrites the directory at once.
 *
 * The limits checked below (granularity, name length, table and directory
 * sizes, number of bitmaps) are QEMU's, so that an image imgtool accepts or
 * writes is one QEMU accepts too, and a damaged or hostile directory
 * cannot make the library allocate or read without bound.
 */
#include "internal.h"

/* ---- sizes ---------------------------------------------------------------- */

/* Bytes of bitmap data at a granularity of 2^gran_bits for a disk of the
 * size the bitmaps follow (q->bm_size: the disk's, except in the middle of
 * a resize).  One bit per granule, rounded up to whole granules and whole
 * bytes. */
static uint64_t bits_bytes(const struct img *img, int gran_bits)
{
    return div_up(div_up(img->q->bm_size, (uint64_t)1 << gran_bits), 8);
}

/* Directory entry size: fixed part, extra data, name, padded to 8 bytes
 * (qcow2.txt "Bitmap directory").  A bitmap named "b0" without extra
 * data takes 24 + 2 = 26 bytes, padded to 32. */
static uint64_t entry_size(uint64_t name_len, uint64_t extra)
{
    return (QBM_ENTRY_FIXED + extra + name_len + 7) & ~7ull;
}

/* The bitmap called `name`, or NULL.  Names are unique in a directory
 * ("Must be unique among all bitmap names", qcow2.txt "Bitmap
 * directory"), which qc_bitmaps_load() checks. */
static struct qc_bitmap *find(struct img *img, const char *name)
{
    struct qcow2 *q = img->q;
    for (int i = 0; q && i < q->nb_bms; i++)
        if (!strcmp(q->bms[i].name, name))
            return &q->bms[i];
    return NULL;
}

/* ---- loading -------------------------------------------------------------- */

/*
 * Loading is in two stages.  At open the directory is read whole and every
 * consistent bitmap's table is read and checked, as QEMU does, so an image
 * QEMU would refuse to open is refused here too; the bits themselves are
 * read only when a bitmap is tracked or changed (load_bits()).  Every
 * check below refuses with QEMU's message, and nothing read from the file
 * is used as a size or offset before it has been checked.
 */

/*
 * Is the fixed part of a directory entry one QEMU accepts (its
 * check_dir_entry)?  Each rule is the spec's (qcow2.txt "Bitmap
 * directory") or QEMU's stricter limit; any failure is the same
 * "corrupted" error, as in QEMU.
 */
static bool entry_fields_ok(const struct qcow2 *q, const struct qc_bitmap *bitmap,
                            uint32_t name_len, uint64_t size, uint64_t len)
{
    /* The entry must fit in what is left of the directory (else its name
     * would be read from past the buffer), and have a name ("Must be
     * non-zero"; QEMU takes at most 1023 bytes). */
    if (size > len || name_len == 0 || name_len > QBM_MAX_NAME)
        return false;
    /* Type 1 is the only one defined ("Dirty tracking bitmap"); QEMU
     * supports granularities of 2^9 to 2^31 bytes. */
    if (bitmap->type != QBM_TYPE_DIRTY || bitmap->gran_bits < QBM_MIN_GRAN_BITS ||
        bitmap->gran_bits > QBM_MAX_GRAN_BITS)
        return false;
    /* "Bits 3 - 31 are reserved and must be 0." */
    if (bitmap->flags & ~(QBM_FLAG_IN_USE | QBM_FLAG_AUTO | QBM_FLAG_EXTRA_COMP))
        return false;
    /* A stored bitmap has a table: non-zero, cluster aligned ("Must be
     * aligned to a cluster boundary"), not empty, and within QEMU's limits
     * on its entries and on the data they can address. */
    if (!bitmap->table_off || (bitmap->table_off & (q->cluster_size - 1)) ||
        bitmap->table_size == 0 || bitmap->table_size > QBM_MAX_TABLE_SIZE ||
        (uint64_t)bitmap->table_size * q->cluster_size > QBM_MAX_PHYS_SIZE)
        return false;
    return true;
}

/*
 * One directory entry at `p` (`len` bytes left) into `bitmap`; *used gets
 * the entry's size with its padding.  The layout is qcow2.txt "Bitmap
 * directory": bytes 0-7 bitmap_table_offset, 8-11 bitmap_table_size, 12-15
 * flags, 16 type, 17 granularity_bits, 18-19 name_size, 20-23
 * extra_data_size, then the extra data and the name.
 */
static int parse_entry(struct img *img, const uint8_t *p, uint64_t len, struct qc_bitmap *bitmap,
                       uint64_t *used)
{
    struct qcow2 *q = img->q;
    if (len < QBM_ENTRY_FIXED)
        return img_fail(img, IMG_ECORRUPT, "Bitmap directory is corrupted");
    bitmap->table_off = be64(p);
    bitmap->table_size = be32(p + 8);
    /* Bit 0 in_use ("may be inconsistent"), bit 1 auto (the bitmap is
     * enabled and follows every write), bit 2 extra_data_compatible. */
    bitmap->flags = be32(p + 12);
    bitmap->type = p[16];
    bitmap->gran_bits = p[17];
    uint32_t name_len = be16(p + 18);
    bitmap->extra_size = be32(p + 20);
    uint64_t size = entry_size(name_len, bitmap->extra_size);
    if (!entry_fields_ok(q, bitmap, name_len, size, len))
        return img_fail(img, IMG_ECORRUPT, "Bitmap directory is corrupted");
    /* The table must cover the disk; a larger one is fine (a resize that
     * grew the tables first and then was interrupted leaves one).  Only
     * an inconsistent bitmap may fall short: it is never read. */
    if ((uint64_t)bitmap->table_size * q->cluster_size < bits_bytes(img, bitmap->gran_bits) &&
        !(bitmap->flags & QBM_FLAG_IN_USE))
        return img_fail(img, IMG_ECORRUPT, "Bitmap directory is corrupted");
    /* Extra data we do not understand makes the bitmap read-only, unless
     * the entry says it may be ignored (qcow2.txt "Bitmap directory", flag
     * extra_data_compatible); we keep it as read either way and refuse
     * only changes.  Both buffers are zeroed, so the name ends in 0. */
    bitmap->extra = img_alloc(img->env, bitmap->extra_size ? bitmap->extra_size : 1);
    bitmap->name = img_alloc(img->env, name_len + 1);
    if (!bitmap->extra || !bitmap->name)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    /* Extra data first, then the name, as laid out on disk. */
    memcpy(bitmap->extra, p + QBM_ENTRY_FIXED, bitmap->extra_size);
    memcpy(bitmap->name, p + QBM_ENTRY_FIXED + bitmap->extra_size, name_len);
    *used = size;
    return 0;
}

/*
 * The extension's fields (qcow2.txt "Bitmaps extension": bytes 0-3
 * nb_bitmaps, 4-7 reserved, 8-15 bitmap_directory_size, 16-23
 * bitmap_directory_offset), checked as qcow2_read_extensions checks them
 * and refused with its words.
 */
static int parse_ext(struct img *img, const struct qc_ext *ext, uint32_t *count)
{
    struct qcow2 *q = img->q;
    if (ext->len != QBM_EXT_LEN)
        return img_fail(img, IMG_ECORRUPT, "bitmaps_ext: Invalid extension length");
    *count = be32(ext->data);
    q->bm_dir_size = be64(ext->data + 8);
    q->bm_dir_off = be64(ext->data + 16);
    if (be32(ext->data + 4))
        return img_fail(img, IMG_ECORRUPT, "bitmaps_ext: Reserved field is not zero");
    if (*count > QBM_MAX_BITMAPS)
        return img_fail(img, IMG_ECORRUPT,
                        "bitmaps_ext: Image has %u bitmaps, exceeding the QEMU supported "
                        "maximum of %d",
                        *count, QBM_MAX_BITMAPS);
    /* "Must be greater than or equal to 1": without bitmaps the extension
     * is simply absent. */
    if (*count == 0)
        return img_fail(img, IMG_ECORRUPT, "found bitmaps extension with zero bitmaps");
    /* "Must be aligned to a cluster boundary".  An offset of 0 passes
     * here and is refused by read_directory() (the header's cluster). */
    if (q->bm_dir_off & (q->cluster_size - 1))
        return img_fail(img, IMG_ECORRUPT, "bitmaps_ext: invalid bitmap directory offset");
    if (q->bm_dir_size > QBM_MAX_DIR_SIZE)
        return img_fail(img, IMG_ECORRUPT,
                        "bitmaps_ext: bitmap directory size (%llu) exceeds the maximum "
                        "supported size (%llu)",
                        (unsigned long long)q->bm_dir_size, (unsigned long long)QBM_MAX_DIR_SIZE);
    return 0;
}

/*
 * A bitmap table entry QEMU accepts (qcow2-bitmap.c, check_table_entry):
 * no reserved bits; with an offset, a cluster-aligned one without the
 * all-ones bit (qcow2.txt "Bitmap table").  The reserved bits are 1-8 and
 * 56-63; bit 0 "must be zero if bits 9 - 55 are non-zero", since it only
 * means something for a cluster that is not stored.
 */
static bool table_entry_ok(const struct qcow2 *q, uint64_t entry)
{
    uint64_t off = entry & QBM_TE_OFFSET;
    return !(entry & QBM_TE_RESERVED) &&
           !(off && ((entry & QBM_TE_ALL_ONES) || (off & (q->cluster_size - 1))));
}

/*
 * A bitmap's table, read and checked; *out is freed by the caller.  The
 * entries stay big-endian: the callers decode the few they need.  Every
 * entry is checked, also those past the data the disk needs, because QEMU
 * checks them all when it loads the bitmap, and an image it refuses must
 * be refused here too.
 */
static int read_table(struct img *img, const struct qc_bitmap *bitmap, uint8_t **out)
{
    uint8_t *table = img_alloc(img->env, (size_t)bitmap->table_size * 8);
    if (!table)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    int r =
        io_read(img, bitmap->table_off, table, (size_t)bitmap->table_size * 8) < 0 ? -IMG_EIO : 0;
    /* The message is QEMU's, its errno text ("Invalid argument")
     * included, so the two tools fail with the same line. */
    for (uint32_t i = 0; r == 0 && i < bitmap->table_size; i++)
        if (!table_entry_ok(img->q, be64(table + 8 * i)))
            r = img_fail(img, IMG_ECORRUPT,
                         "Could not read bitmap_table table from image for bitmap '%s': "
                         "Invalid argument",
                         bitmap->name);
    if (r < 0) {
        img_free(img->env, table);
        return r;
    }
    *out = table;
    return 0;
}

/*
 * Read the directory at q->bm_dir_off into `count` bitmaps.  The entries
 * must fill the directory exactly (bitmap_directory_size is "the
 * cumulative size of all (nb_bitmaps) bitmap directory entries") and have
 * distinct names; QEMU refuses anything else with one message.
 */
static int read_directory(struct img *img, uint32_t count)
{
    struct qcow2 *q = img->q;
    uint64_t pos = 0;
    uint8_t *dir;
    int r = 0;
    r = qc_check_meta_offset(img, q->bm_dir_off, q->bm_dir_size, "bitmap directory");
    if (r < 0)
        return r;
    dir = img_alloc(img->env, q->bm_dir_size ? q->bm_dir_size : 1);
    q->bms = img_alloc(img->env, sizeof(*q->bms) * count);
    if (!dir || !q->bms) {
        img_free(img->env, dir);
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    }
    if (io_read(img, q->bm_dir_off, dir, q->bm_dir_size) < 0) {
        img_free(img->env, dir);
        return -IMG_EIO;
    }
    /* pos: where the next entry starts; each entry's size includes its
     * padding, so pos stays a multiple of 8. */
    for (uint32_t i = 0; i < count && r == 0; i++) {
        uint64_t used = 0;
        r = parse_entry(img, dir + pos, q->bm_dir_size - pos, &q->bms[i], &used);
        /* Counted even when it failed: qc_bitmaps_free() then releases
         * what the entry got before the failure (a zeroed entry's NULL
         * pointers are freed harmlessly). */
        q->nb_bms = (int)i + 1;
        pos += used;
        for (uint32_t j = 0; r == 0 && j < i; j++)
            if (!strcmp(q->bms[j].name, q->bms[i].name))
                r = img_fail(img, IMG_ECORRUPT, "Bitmap directory is corrupted");
    }
    img_free(img->env, dir);
    if (r == 0 && pos != q->bm_dir_size)
        r = img_fail(img, IMG_ECORRUPT, "Bitmap directory is corrupted");
    return r;
}

/*
 * Read the bitmaps of an image being opened: the extension, the directory
 * and, as a check, every consistent bitmap's table.  q->bm_valid says
 * whether the image's bitmaps are in force (the extension is there and
 * autoclear bit 0 vouches for it); q->bm_stale that an extension is there
 * without the bit.
 */
int qc_bitmaps_load(struct img *img)
{
    struct qcow2 *q = img->q;
    const struct qc_ext *ext = NULL;
    uint32_t count = 0;
    int r = 0;
    /* The extension "shall appear at most once" (qcow2.txt "Header
     * extensions"); should it appear twice, the last one counts. */
    for (int i = 0; i < q->nb_exts; i++)
        if (q->exts[i].type == QEXT_BITMAPS)
            ext = &q->exts[i];
    /* Without the autoclear bit the extension is stale: QEMU ignores it
     * (and the clusters it points at are leaks for check to find).  The
     * bitmaps follow the disk's size from the start; only a resize moves
     * the two apart for a moment. */
    q->bm_size = img->size;
    if (!ext)
        return 0;
    if (q->h.version < 3 || !(q->h.autoclear_features & QF_AUTOCLEAR_BITMAPS)) {
        q->bm_stale = true;
        return 0;
    }
    r = parse_ext(img, ext, &count);
    if (r == 0)
        r = read_directory(img, count);
    /* QEMU loads every consistent bitmap when it opens an image, so a
     * damaged table makes the open fail; an inconsistent bitmap is not
     * read (check counts its damaged entries). */
    for (int i = 0; r == 0 && i < q->nb_bms; i++) {
        uint8_t *table;
        if (q->bms[i].flags & QBM_FLAG_IN_USE)
            continue;
        r = read_table(img, &q->bms[i], &table);
        if (r == 0)
            img_free(img->env, table);
    }
    if (r == 0)
        q->bm_valid = true;
    return r;
}

/* Free the in-memory bitmaps (the file is not touched): at close, after
 * qc_bitmaps_close() stored what needed storing, or after a failed open. */
void qc_bitmaps_free(struct img *img)
{
    struct qcow2 *q = img->q;
    for (int i = 0; i < q->nb_bms; i++) {
        img_free(img->env, q->bms[i].name);
        img_free(img->env, q->bms[i].extra);
        img_free(img->env, q->bms[i].bits);
    }
    img_free(img->env, q->bms);
    q->bms = NULL;
    q->nb_bms = 0;
}

/*
 * Read a bitmap's table and data into bitmap->bits (once).  Each table
 * entry gives one cluster of the data (qcow2.txt "Bitmap data":
 * image_offset = bitmap_table[offset / cluster_size] + offset %
 * cluster_size); an entry without offset stands for a cluster of zeros,
 * or of ones with bit 0 set (qcow2.txt "Bitmap table").
 */
static int load_bits(struct img *img, struct qc_bitmap *bitmap)
{
    struct qcow2 *q = img->q;
    uint64_t data_bytes = bits_bytes(img, bitmap->gran_bits);
    uint8_t *table = NULL; /* stays NULL when read_table() fails */
    int r;
    /* Loaded once per session: later calls find the bits in memory, with
     * whatever this session changed in them. */
    if (bitmap->bits)
        return 0;
    /* Zeroed: clusters without an entry, and a bitmap never stored (a new
     * one has no table yet), read as all clear. */
    bitmap->bits = img_alloc(img->env, data_bytes ? data_bytes : 1);
    if (!bitmap->bits)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    if (!bitmap->table_off)
        return 0;
    /* The table was checked at open but not kept: most bitmaps are never
     * changed in a session, and their tables need no memory.  Read again,
     * it is checked again. */
    r = read_table(img, bitmap, &table);
    /* A table may have entries past the disk's end (QEMU checks only
     * that it covers the disk); they are ignored. */
    uint32_t used = (uint32_t)div_up(data_bytes, q->cluster_size);
    for (uint32_t i = 0; r == 0 && i < used && i < bitmap->table_size; i++) {
        uint64_t entry = be64(table + 8 * i), off = entry & QBM_TE_OFFSET;
        uint64_t at = (uint64_t)i * q->cluster_size;
        /* The last cluster may be only partly data. */
        uint64_t n = data_bytes - at < q->cluster_size ? data_bytes - at : q->cluster_size;
        if (off)
            r = io_read(img, off, bitmap->bits + at, n) < 0 ? -IMG_EIO : 0;
        else if (entry & QBM_TE_ALL_ONES)
            memset(bitmap->bits + at, 0xff, n);
    }
    /* The table is needed no longer, whether the bits came in or not. */
    img_free(img->env, table);
    if (r < 0) {
        /* Not loaded after all: a later call tries again. */
        img_free(img->env, bitmap->bits);
        bitmap->bits = NULL;
        return r;
    }
    /* Bits past the end of the disk mean nothing: keep them clear. */
    uint64_t nbits = div_up(q->bm_size, (uint64_t)1 << bitmap->gran_bits);
    if (nbits % 8)
        bitmap->bits[data_bytes - 1] &= (uint8_t)((1u << (nbits % 8)) - 1);
    return 0;
}

/* ---- storing -------------------------------------------------------------- */

/*
 * A changed bitmap is never updated in place: its data and table are
 * written anew to free clusters, a new directory names the new tables,
 * and one header write switches to that directory.  That costs a few
 * clusters for a moment, and buys the crash rule: at every point the
 * header names a complete directory whose tables and data are intact.
 */

/*
 * Free a stored table and the data clusters it points at, in that order of
 * dependence: the data first, then the table that was the record of it.
 * Called only once no directory entry points at the table any more.
 */
static int free_table(struct img *img, uint64_t table_off, uint32_t table_entries)
{
    uint8_t *table;
    int r = 0;
    if (!table_off)
        return 0;
    table = img_alloc(img->env, (size_t)table_entries * 8);
    if (!table)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    /* A table that cannot be read leaves its clusters counted: a leak,
     * never a free of clusters something may still use. */
    if (io_read(img, table_off, table, (size_t)table_entries * 8) < 0)
        r = -IMG_EIO;
    for (uint32_t i = 0; r == 0 && i < table_entries; i++) {
        uint64_t off = be64(table + 8 * i) & QBM_TE_OFFSET;
        if (off)
            r = qc_rc_update_range(img, off, img->q->cluster_size, -1);
    }
    img_free(img->env, table);
    if (r == 0)
        r = qc_rc_update_range(img, table_off, (uint64_t)table_entries * 8, -1);
    return r;
}

/*
 * Write bitmap->bits to new clusters: the data clusters that are not all
 * zero (a zero entry stands for the others), then the table; the table's
 * offset goes to *table_off_out.  Nothing on disk points at the new
 * clusters until the directory written by commit() does, so a crash here
 * leaves leaks only.  QEMU stores the same way (store_bitmap_data), which
 * keeps the two tools' files alike.
 */
static int store_bits(struct img *img, struct qc_bitmap *bitmap, uint64_t *table_off_out)
{
    struct qcow2 *q = img->q;
    /* The table is sized for the disk as it is now: after a resize it may
     * differ from the stored one. */
    bitmap->table_size = (uint32_t)div_up(bits_bytes(img, bitmap->gran_bits), q->cluster_size);
    uint64_t data_bytes = bits_bytes(img, bitmap->gran_bits), table_off = 0;
    /* Zeroed: entries of all-zero clusters stay 0. */
    uint8_t *table = img_alloc(img->env, (size_t)bitmap->table_size * 8);
    int r = 0;
    if (!table)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    for (uint32_t i = 0; r == 0 && i < bitmap->table_size; i++) {
        uint64_t at = (uint64_t)i * q->cluster_size, off = 0;
        uint64_t n = data_bytes - at < q->cluster_size ? data_bytes - at : q->cluster_size;
        bool zero = true;
        for (uint64_t k = 0; k < n && zero; k++)
            zero = bitmap->bits[at + k] == 0;
        if (zero)
            continue;
        /* q->tmp is the handle's scratch cluster, free here: nothing
         * else runs between the copy and the write.  A whole cluster, the
         * tail past the data zeroed: "the last
         * cluster of the bitmap data contains some unused tail bits.
         * These bits must be zero" (qcow2.txt "Bitmap data"). */
        memset(q->tmp, 0, q->cluster_size);
        memcpy(q->tmp, bitmap->bits + at, n);
        /* One cluster at a time: the data may land in scattered free
         * clusters, which a table of offsets describes as well as a run. */
        r = qc_alloc_clusters(img, 1, &off);
        if (r == 0)
            r = io_write(img, off, q->tmp, q->cluster_size);
        put64(table + 8 * i, off);
    }
    /* The table after its data, so that every entry it holds points at
     * clusters already written. */
    if (r == 0)
        r = qc_alloc_clusters(img, div_up((uint64_t)bitmap->table_size * 8, q->cluster_size),
                              &table_off);
    if (r == 0)
        r = io_write(img, table_off, table, (size_t)bitmap->table_size * 8);
    img_free(img->env, table);
    if (r == 0)
        *table_off_out = table_off;
    return r;
}

/*
 * The directory as bytes (qcow2.txt "Bitmap directory", the layout
 * parse_entry() reads); *len gets its size.  The buffer is zeroed, so the
 * padding of each entry is zeros as the spec requires ("All bytes of the
 * padding must be zero").
 */
static uint8_t *build_dir(struct img *img, uint64_t *len)
{
    struct qcow2 *q = img->q;
    uint64_t dir_len = 0, pos = 0;
    for (int i = 0; i < q->nb_bms; i++)
        dir_len += entry_size(strlen(q->bms[i].name), q->bms[i].extra_size);
    uint8_t *dir = img_alloc(img->env, dir_len ? dir_len : 1);
    if (!dir)
        return NULL;
    for (int i = 0; i < q->nb_bms; i++) {
        const struct qc_bitmap *bitmap = &q->bms[i];
        uint16_t name_len = (uint16_t)strlen(bitmap->name);
        put64(dir + pos, bitmap->table_off);
        put32(dir + pos + 8, bitmap->table_size);
        put32(dir + pos + 12, bitmap->flags);
        dir[pos + 16] = bitmap->type;
        dir[pos + 17] = bitmap->gran_bits;
        put16(dir + pos + 18, name_len);
        put32(dir + pos + 20, bitmap->extra_size);
        memcpy(dir + pos + QBM_ENTRY_FIXED, bitmap->extra, bitmap->extra_size);
        memcpy(dir + pos + QBM_ENTRY_FIXED + bitmap->extra_size, bitmap->name, name_len);
        pos += entry_size(name_len, bitmap->extra_size);
    }
    *len = dir_len;
    return dir;
}

/* Take extension `at` out of the in-memory list (its data freed). */
static void drop_ext(struct img *img, int at)
{
    struct qcow2 *q = img->q;
    img_free(img->env, q->exts[at].data);
    memmove(&q->exts[at], &q->exts[at + 1], sizeof(*q->exts) * (q->nb_exts - at - 1));
    q->nb_exts--;
}

/*
 * Insert an empty bitmaps extension into the in-memory list right after
 * index `after` (-1: first); its index goes to *at.  The list is copied
 * into a new array one longer, so a failed allocation leaves it as it was.
 */
static int insert_ext(struct img *img, int after, int *at)
{
    struct qcow2 *q = img->q;
    struct qc_ext *new_exts = img_alloc(img->env, sizeof(*new_exts) * (q->nb_exts + 1));
    uint8_t *data = img_alloc(img->env, QBM_EXT_LEN);
    if (!new_exts || !data) {
        img_free(img->env, new_exts);
        img_free(img->env, data);
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    }
    *at = after + 1;
    memcpy(new_exts, q->exts, sizeof(*new_exts) * *at);
    memcpy(new_exts + *at + 1, q->exts + *at, sizeof(*new_exts) * (q->nb_exts - *at));
    new_exts[*at].type = QEXT_BITMAPS;
    new_exts[*at].len = QBM_EXT_LEN;
    new_exts[*at].data = data;
    img_free(img->env, q->exts);
    q->exts = new_exts;
    q->nb_exts++;
    return 0;
}

/*
 * Point the header at a directory: the extension (placed after the
 * feature name table, where QEMU writes it), or none without bitmaps.
 * Either way the change reaches the file through qc_update_header(), which
 * rewrites cluster 0 in one write: the extension and autoclear bit 0 change
 * together, so no reader sees one without the other.
 */
static int set_ext(struct img *img, uint64_t dir_off, uint64_t dir_size)
{
    struct qcow2 *q = img->q;
    /* at: the bitmaps extension's index, if the image has one; after: the
     * last extension QEMU writes before it (backing format, feature name
     * table), -1 if none. */
    int at = -1, after = -1, r;
    for (int i = 0; i < q->nb_exts; i++) {
        if (q->exts[i].type == QEXT_BITMAPS)
            at = i;
        if (q->exts[i].type == QEXT_FEATURE_NAME || q->exts[i].type == QEXT_BACKING_FMT)
            after = i;
    }
    /* No bitmaps left: the extension goes ("It is an error if this bit is
     * set without the bitmaps extension present", qcow2.txt "Header"). */
    if (!q->nb_bms) {
        if (at >= 0)
            drop_ext(img, at);
        q->h.autoclear_features &= ~QF_AUTOCLEAR_BITMAPS;
        return qc_update_header(img);
    }
    /* The first bitmap: a new extension right after the backing format
     * and feature name table, the order QEMU writes them in. */
    if (at < 0 && (r = insert_ext(img, after, &at)) < 0)
        return r;
    /* The extension's fields (qcow2.txt "Bitmaps extension"). */
    put32(q->exts[at].data, (uint32_t)q->nb_bms);
    put32(q->exts[at].data + 4, 0);
    put64(q->exts[at].data + 8, dir_size);
    put64(q->exts[at].data + 16, dir_off);
    q->h.autoclear_features |= QF_AUTOCLEAR_BITMAPS;
    return qc_update_header(img);
}

/*
 * Store every bitmap whose bits changed (new data and a new table each);
 * `replaced` gets the (offset, size) pair of each table that stops being
 * used, *count_out their number.  The bitmaps' entries already name the
 * new tables, but only in memory.
 */
static int store_changed(struct img *img, uint64_t *replaced, int *count_out)
{
    struct qcow2 *q = img->q;
    int count = 0, r = 0;
    for (int i = 0; r == 0 && i < q->nb_bms; i++) {
        struct qc_bitmap *bitmap = &q->bms[i];
        uint64_t table_off = 0;
        if (!bitmap->bits_changed)
            continue;
        /* The old table, with its own size (the new one may differ after a
         * resize), is freed once the new directory is in place. */
        uint64_t old_off = bitmap->table_off, old_size = bitmap->table_size;
        /* A new bitmap has no old table (offset 0): free_table() skips it. */
        r = store_bits(img, bitmap, &table_off);
        if (r < 0)
            break;
        replaced[2 * count] = old_off;
        replaced[2 * count + 1] = old_size;
        count++;
        bitmap->table_off = table_off;
        bitmap->bits_changed = false;
    }
    *count_out = count;
    return r;
}

/*
 * Write the directory for the in-memory list to new clusters and switch
 * the header to it (set_ext); the old directory's clusters are freed once
 * the header no longer names them.  An empty list writes no directory and
 * drops the extension.
 *
 * Never in place: the new directory may be longer or shorter, and a crash
 * in the middle of an overwrite would leave entries of both.  Written
 * whole elsewhere, the old directory stays valid until the header switch.
 */
static int write_directory(struct img *img)
{
    struct qcow2 *q = img->q;
    uint64_t dir_len = 0, dir_off = 0, old_dir = q->bm_dir_off, old_size = q->bm_dir_size;
    uint8_t *dir = build_dir(img, &dir_len);
    int r = 0;
    if (!dir)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    /* The directory's clusters are counted before it is written, and it
     * is written before the header names it. */
    if (dir_len) {
        r = qc_alloc_clusters(img, div_up(dir_len, q->cluster_size), &dir_off);
        if (r == 0)
            r = io_write(img, dir_off, dir, dir_len);
    }
    img_free(img->env, dir);
    if (r == 0)
        r = set_ext(img, dir_off, dir_len);
    if (r == 0) {
        /* The in-memory state follows the header: with no bitmaps left
         * there is no extension, and the image has no bitmaps in force. */
        q->bm_dir_off = dir_off;
        q->bm_dir_size = dir_len;
        q->bm_valid = q->nb_bms > 0;
        if (old_dir)
            r = qc_rc_update_range(img, old_dir, old_size, -1);
    }
    return r;
}

/*
 * Store the bitmaps: every bitmap whose bits changed gets new data and a
 * new table, then a new directory replaces the old one with one header
 * write, then the old directory and tables are freed.  `old` lists the
 * tables (offset, size pairs) that the new directory no longer uses.
 *
 * What a crash leaves at each point: before the header switch, the old
 * directory with its old tables (still marked in use if this session
 * marked them, so no one trusts stale bits) and the new clusters as leaks;
 * after it, the new directory and the old tables as leaks.  Never a
 * directory that points at freed clusters.
 */
static int commit(struct img *img, uint64_t *old, int nold)
{
    struct qcow2 *q = img->q;
    /* At most one replaced table per bitmap (plus one pair to spare). */
    uint64_t *replaced = img_alloc(img->env, sizeof(uint64_t) * 2 * (q->nb_bms + 1));
    int nreplaced = 0, r;
    if (!replaced)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    r = store_changed(img, replaced, &nreplaced);
    if (r == 0)
        r = write_directory(img);
    /* Only now is nothing on disk pointing at the old tables. */
    for (int i = 0; r == 0 && i < nreplaced; i++)
        r = free_table(img, replaced[2 * i], (uint32_t)replaced[2 * i + 1]);
    for (int i = 0; r == 0 && i < nold; i++)
        r = free_table(img, old[2 * i], (uint32_t)old[2 * i + 1]);
    img_free(img->env, replaced);
    return r;
}

/* ---- the session: in use, dirty tracking, store at close ------------------ */

/*
 * A read-write open: drop a stale extension, or mark the enabled bitmaps
 * in use.  This runs before the session's first write, so that a crash
 * after any write finds the bitmaps flagged as not to be trusted
 * (qcow2.txt "Dirty tracking bitmaps": "Flag 'in_use' should be set while
 * the bitmap is not synced").
 */
int qc_bitmaps_open_rw(struct img *img)
{
    struct qcow2 *q = img->q;
    bool any = false;
    uint64_t len;
    uint8_t *dir;
    int r;
    /* A stale extension (autoclear bit 0 clear: a program that did not
     * know bitmaps wrote the image) is dropped, as QEMU drops it; its
     * clusters are leaks for check -r. */
    if (!q->bm_valid) {
        /* With no bitmaps listed, set_ext() drops the extension and the
         * bit: the header a writer that knows no bitmaps would leave. */
        for (int i = 0; i < q->nb_exts; i++)
            if (q->exts[i].type == QEXT_BITMAPS)
                return set_ext(img, 0, 0);
        return 0;
    }
    /* Mark every enabled, consistent bitmap in use before anything else is
     * written, rewriting the directory in place (only flags change), and
     * load its bits to record this session's writes. */
    for (int i = 0; i < q->nb_bms; i++) {
        struct qc_bitmap *bitmap = &q->bms[i];
        if ((bitmap->flags & QBM_FLAG_AUTO) && !(bitmap->flags & QBM_FLAG_IN_USE)) {
            r = load_bits(img, bitmap);
            if (r < 0)
                return r;
            bitmap->flags |= QBM_FLAG_IN_USE;
            any = true;
        }
    }
    /* From now on every write of this handle goes through
     * qc_bitmaps_dirty(), and close stores the result. */
    q->bm_tracking = true;
    if (!any)
        return 0;
    /* As QEMU's update_ext_header_and_dir_in_place() does at this point.
     * In place is safe here: the new directory has exactly the old one's
     * size and layout, and a torn write can only leave some flags set and
     * others not, each bitmap still well formed.  A size that differs
     * would mean the directory changed under us: refused. */
    dir = build_dir(img, &len);
    if (!dir)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    r = len == q->bm_dir_size ? io_write(img, q->bm_dir_off, dir, len) : -IMG_ECORRUPT;
    img_free(img->env, dir);
    return r;
}

/* Set bits [first, last] of the bitmap, a whole byte at a time where the
 * range covers one (a large write sets millions of bits).  Bit n is bit
 * n % 8 of byte n / 8, the least significant bit first (qcow2.txt "Bitmap
 * data": bit_offset(byte_nr) = image_offset(byte_nr / granularity / 8) * 8
 * + (byte_nr / granularity) % 8). */
static void set_bits(struct qc_bitmap *bitmap, uint64_t first, uint64_t last)
{
    for (uint64_t n = first; n <= last; n++) {
        /* A byte-aligned n with 8 bits to go: the whole byte at once. */
        if ((n & 7) == 0 && n + 7 <= last) {
            bitmap->bits[n >> 3] = 0xff;
            n += 7;
            continue;
        }
        bitmap->bits[n >> 3] |= (uint8_t)(1u << (n & 7));
    }
}

/*
 * Record a guest write of [off, off + len) in every enabled bitmap: each
 * granule the range touches, even in part, becomes dirty (qcow2.txt
 * "Dirty tracking bitmaps": "A set bit in the bitmap means that the
 * corresponding range of the virtual disk ... was written to").  In
 * memory only; qc_bitmaps_close() stores it.  With 64 KiB granularity a
 * 4 KiB write at 60 KiB sets bit 0 only; an 8 KiB write there sets bits 0
 * and 1, since it ends in the second granule.
 */
int qc_bitmaps_dirty(struct img *img, uint64_t off, uint64_t len)
{
    struct qcow2 *q = img->q;
    if (!q->bm_tracking || !len)
        return 0;
    /* Enabled bitmaps whose bits are loaded: those this session marked in
     * use and those it added or changed.  An inconsistent bitmap is never
     * loaded and stays as it is.  Nothing is written here: a write to the
     * disk costs no bitmap write, the bits reach the file once, at close. */
    for (int i = 0; i < q->nb_bms; i++) {
        struct qc_bitmap *bitmap = &q->bms[i];
        if (!(bitmap->flags & QBM_FLAG_AUTO) || !bitmap->bits)
            continue;
        set_bits(bitmap, off >> bitmap->gran_bits, (off + len - 1) >> bitmap->gran_bits);
        bitmap->bits_changed = true;
    }
    return 0;
}

/*
 * At close: store what this session changed and clear the in-use flags it
 * set.  The flags are cleared in memory first and reach the file with the
 * new directory, in the same header switch as the new tables: a bitmap is
 * marked consistent exactly when its stored bits are.
 */
int qc_bitmaps_close(struct img *img)
{
    struct qcow2 *q = img->q;
    if (!q->bm_tracking)
        return 0;
    /* What this session marked in use is consistent again once stored.
     * Loaded bits mark the bitmaps this session tracked or changed; one
     * that was in use when the image was opened was never loaded and keeps
     * its flag. */
    for (int i = 0; i < q->nb_bms; i++)
        if (q->bms[i].bits)
            q->bms[i].flags &= ~QBM_FLAG_IN_USE;
    q->bm_tracking = false;
    /* No removed tables to free: only those the stored bitmaps replace. */
    return commit(img, NULL, 0);
}

/* Before a resize: every consistent bitmap's bits in memory, so that
 * qc_bitmaps_resize() can cut or extend them.  Loading is needed even for
 * a disabled bitmap: its table must follow the disk's size like any. */
int qc_bitmaps_load_all(struct img *img)
{
    struct qcow2 *q = img->q;
    for (int i = 0; q->bm_valid && i < q->nb_bms; i++) {
        struct qc_bitmap *bitmap = &q->bms[i];
        /* An inconsistent bitmap stays as it is: it can only be removed. */
        if ((bitmap->flags & QBM_FLAG_IN_USE) && !bitmap->bits)
            continue;
        int r = load_bits(img, bitmap);
        if (r < 0)
            return r;
    }
    return 0;
}

/*
 * Fit every loaded bitmap to a disk of `new_size` bytes ("each bitmap size
 * is equal to the virtual disk size", qcow2.txt "Bitmaps"): the bits of
 * the common part are kept, new bits are clear (the new part of the disk
 * was not written), and bits past the new end are dropped.
 */
int qc_bitmaps_resize(struct img *img, uint64_t new_size)
{
    struct qcow2 *q = img->q;
    uint64_t old_size = q->bm_size;
    q->bm_size = new_size;
    for (int i = 0; q->bm_valid && i < q->nb_bms; i++) {
        struct qc_bitmap *bitmap = &q->bms[i];
        if (!bitmap->bits)
            continue;
        uint64_t new_bytes = bits_bytes(img, bitmap->gran_bits);
        uint64_t old_bytes = div_up(div_up(old_size, (uint64_t)1 << bitmap->gran_bits), 8);
        uint8_t *new_bits = img_alloc(img->env, new_bytes ? new_bytes : 1);
        if (!new_bits)
            return img_fail(img, IMG_ENOMEM, "Out of memory");
        memcpy(new_bits, bitmap->bits, old_bytes < new_bytes ? old_bytes : new_bytes);
        img_free(img->env, bitmap->bits);
        bitmap->bits = new_bits;
        /* A shrink inside a byte: the bits past the new end go.  (A grow
         * needs nothing: the new bytes came zeroed.)  With 64 KiB
         * granularity, a disk cut from 1 GiB to 1 GiB - 64 KiB keeps
         * 16383 bits, the last byte's top bit cleared. */
        uint64_t nbits = div_up(new_size, (uint64_t)1 << bitmap->gran_bits);
        if (nbits % 8)
            bitmap->bits[new_bytes - 1] &= (uint8_t)((1u << (nbits % 8)) - 1);
        /* Changed, and stored at close even by a session that tracks
         * nothing else (bm_tracking is what makes close store). */
        bitmap->bits_changed = true;
        q->bm_tracking = true;
    }
    /* Growing: the larger tables are stored before the header says the
     * disk is larger, so a crash in between leaves tables that still
     * cover the disk.  Shrinking: stored at close (larger tables are fine). */
    if (q->bm_valid && new_size > old_size)
        return commit(img, NULL, 0);
    return 0;
}

/* ---- check ---------------------------------------------------------------- */

/*
 * Report to check every cluster range the bitmaps use: the directory, each
 * table, each data cluster.  Check adds these to the references it counts
 * from the other structures and compares the sum with the refcounts.
 * Without this, every bitmap cluster would look like a leak, and check -r
 * leaks would free clusters the bitmaps still use.  A stale extension's
 * clusters are not reported: nothing uses them any more, and they are
 * the leaks check should find.
 */
int qc_bitmaps_refs(struct img *img, void (*inc)(void *ctx, uint64_t off, uint64_t len), void *ctx)
{
    struct qcow2 *q = img->q;
    if (!q->bm_valid)
        return 0;
    /* Each range counts one reference on every cluster it touches. */
    inc(ctx, q->bm_dir_off, q->bm_dir_size);
    for (int i = 0; i < q->nb_bms; i++) {
        struct qc_bitmap *bitmap = &q->bms[i];
        uint8_t *table;
        inc(ctx, bitmap->table_off, (uint64_t)bitmap->table_size * 8);
        /* A damaged table stops the check, as bitmap_table_load's error
         * stops qcow2_check_bitmaps_refcounts: "Check failed". */
        if (read_table(img, bitmap, &table) < 0)
            return img_fail(img, IMG_EINVAL, "Invalid argument");
        for (uint32_t k = 0; k < bitmap->table_size; k++) {
            uint64_t off = be64(table + 8 * k) & QBM_TE_OFFSET;
            if (off)
                inc(ctx, off, q->cluster_size);
        }
        img_free(img->env, table);
    }
    return 0;
}

/* ---- the public operations (qemu-img bitmap) ------------------------------ */

/*
 * The verbs of qemu-img bitmap (--add, --remove, --clear, --enable,
 * --disable, --merge) act on the in-memory list; all but --remove leave
 * the storing to close, so one command that does several things (qemu-img
 * allows --add and --merge together, say) stores once.  --remove stores at
 * once, as the removed bitmap's clusters can only be freed after a
 * directory without it is in place.
 */

/* Bitmaps in force: none when the extension is absent or stale (a stale
 * one is reported by info as such, through img.h's bitmaps_stale). */
int img_bitmap_count(struct img *img)
{
    return img->q && img->q->bm_valid ? img->q->nb_bms : 0;
}

/* The public view of bitmap `index`, for info.  The name points into the
 * list: valid until the bitmaps change or the image closes (img.h). */
int img_bitmap_get(struct img *img, int index, struct img_bitmap_info *info)
{
    if (index < 0 || index >= img_bitmap_count(img))
        return -IMG_EINVAL;
    const struct qc_bitmap *bitmap = &img->q->bms[index];
    info->name = bitmap->name;
    info->granularity = (uint32_t)1 << bitmap->gran_bits;
    /* What the file says, as QEMU reports it: a bitmap this session marked
     * in use for tracking is not inconsistent.  (qemu-img info opens the
     * image read-only and marks nothing, so there the flag is the file's.) */
    info->in_use = (bitmap->flags & QBM_FLAG_IN_USE) && !(img->q->bm_tracking && bitmap->bits);
    info->enabled = (bitmap->flags & QBM_FLAG_AUTO) != 0;
    return 0;
}

/* qemu-img's default granularity for a new bitmap: the cluster size,
 * kept between 4 KiB and 64 KiB (QEMU's
 * bdrv_get_default_bitmap_granularity): fine enough for a backup to copy
 * little more than was written, coarse enough to keep the bitmap small. */
uint32_t img_bitmap_default_granularity(struct img *img)
{
    uint32_t granularity = img_cluster_size(img);
    return granularity < 4096 ? 4096 : granularity > 65536 ? 65536 : granularity;
}

/* A bitmap that exists and may be used (QEMU's bdrv_dirty_bitmap_check). */
static int usable(struct img *img, const char *name, bool allow_inconsistent,
                  struct qc_bitmap **out)
{
    struct qc_bitmap *bitmap = img->q && img->q->bm_valid ? find(img, name) : NULL;
    if (!bitmap)
        return img_fail(img, IMG_ENOENT, "Dirty bitmap '%s' not found", name);
    /* An inconsistent bitmap (in use on disk, not by this session) may
     * only be removed; its bits say nothing reliable. */
    /* The message names QEMU's QMP command for removing a bitmap: qemu-img
     * prints QEMU's words as they are, and so does imgtool. */
    if (!allow_inconsistent && (bitmap->flags & QBM_FLAG_IN_USE) && !bitmap->bits)
        return img_fail(img, IMG_EINVAL,
                        "Bitmap '%s' is inconsistent and cannot be used\n"
                        "Try block-dirty-bitmap-remove to delete this bitmap from disk",
                        name);
    *out = bitmap;
    return 0;
}

/* Every change of a bitmap is a write to the image (at close, if not at
 * once), so a read-only handle refuses them all up front. */
static int need_rw(struct img *img)
{
    if (!img->rw)
        return img_fail(img, IMG_EROFS, "Image '%s' is opened read-only", img->name);
    return 0;
}

/*
 * Why a new bitmap of granularity 2^gran_bits called `name` cannot be
 * stored in the image, in QEMU's words (qcow2_co_can_store_new_dirty_bitmap,
 * check_constraints_on_bitmap), or NULL if it can; `buf` holds a message
 * with a number in it.
 */
static const char *cannot_store(struct img *img, const char *name, int gran_bits, char *buf,
                                size_t buf_size)
{
    struct qcow2 *q = img->q;
    uint64_t data_bytes = bits_bytes(img, gran_bits);
    /* The bitmaps extension and its autoclear bit exist in version 3 only
     * (qcow2.txt "Header", autoclear_features). */
    if (q->h.version < 3)
        return "Cannot store dirty bitmaps in qcow2 v2 files";
    if (gran_bits > QBM_MAX_GRAN_BITS) {
        ksnprintf(buf, buf_size, "Granularity exceeds maximum (%llu bytes)",
                  1ull << QBM_MAX_GRAN_BITS);
        return buf;
    }
    /* The data and its table must stay within QEMU's limits, which a fine
     * granularity on a large disk exceeds. */
    if (data_bytes > QBM_MAX_PHYS_SIZE || data_bytes > QBM_MAX_TABLE_SIZE * q->cluster_size)
        return "Too much space will be occupied by the bitmap. Use larger granularity";
    if (strlen(name) > QBM_MAX_NAME) {
        ksnprintf(buf, buf_size, "Name length exceeds maximum (%u characters)", QBM_MAX_NAME);
        return buf;
    }
    /* The count and the directory's size limits of the extension's
     * fields as QEMU bounds them (see parse_ext()): an image that broke
     * them could not be opened again. */
    if (q->nb_bms >= QBM_MAX_BITMAPS)
        return "Maximum number of persistent bitmaps is already reached";
    if (q->bm_dir_size + entry_size(strlen(name), 0) > QBM_MAX_DIR_SIZE)
        return "Not enough space in the bitmap directory";
    return NULL;
}

/*
 * qemu-img bitmap --add: a new, empty bitmap, in memory; it is stored at
 * close with the other changes (bits_changed), so a failed command before
 * that leaves the image as it was.
 */
int img_bitmap_add(struct img *img, const char *name, uint32_t granularity, bool enabled)
{
    struct qcow2 *q = img->q;
    int r = need_rw(img), gran_bits = 0;
    if (r < 0)
        return r;
    /* The checks qemu-img makes before it looks at the image: a name
     * ("Must be non-zero", qcow2.txt "Bitmap directory"), a granularity
     * that is a power of two (a bit covers 2^granularity_bits bytes), and
     * a name not yet taken. */
    if (!name[0])
        return img_fail(img, IMG_EINVAL, "Bitmap name cannot be empty");
    if (granularity < 512 || (granularity & (granularity - 1)))
        return img_fail(img, IMG_EINVAL, "Granularity must be power of 2 and at least 512");
    if (q && q->bm_valid && find(img, name))
        return img_fail(img, IMG_EEXIST, "Bitmap already exists: %s", name);
    /* The directory stores log2 of the granularity (granularity_bits). */
    while ((1ull << gran_bits) < granularity)
        gran_bits++;
    char buf[96];
    /* A raw image has nowhere to keep a bitmap. */
    if (!q)
        return img_fail(img, IMG_ENOTSUP,
                        "Can't store persistent bitmaps to %s: Operation not supported", img->name);
    const char *why = cannot_store(img, name, gran_bits, buf, sizeof(buf));
    if (why)
        return img_fail(img, IMG_EINVAL, "Can't make bitmap '%s' persistent in '%s': %s", name,
                        img->name, why);
    uint64_t data_bytes = bits_bytes(img, gran_bits);
    /* The list grows by one; the new entry's bits are all clear (zeroed):
     * a new bitmap records writes from now on, none before.  It has no
     * table yet (table_off 0) until close stores it. */
    struct qc_bitmap *new_list = img_alloc(img->env, sizeof(*new_list) * (q->nb_bms + 1));
    if (!new_list)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    memcpy(new_list, q->bms, sizeof(*new_list) * q->nb_bms);
    struct qc_bitmap *bitmap = &new_list[q->nb_bms];
    bitmap->name = img_strdup(img->env, name);
    bitmap->extra = img_alloc(img->env, 1);
    bitmap->bits = img_alloc(img->env, data_bytes ? data_bytes : 1);
    if (!bitmap->name || !bitmap->extra || !bitmap->bits) {
        img_free(img->env, bitmap->name);
        img_free(img->env, bitmap->extra);
        img_free(img->env, bitmap->bits);
        img_free(img->env, new_list);
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    }
    bitmap->type = QBM_TYPE_DIRTY;
    bitmap->gran_bits = (uint8_t)gran_bits;
    /* Enabled means "auto": it follows every later write (qcow2.txt
     * "Dirty tracking bitmaps"). */
    bitmap->flags = enabled ? QBM_FLAG_AUTO : 0;
    bitmap->table_size = (uint32_t)div_up(data_bytes, q->cluster_size);
    bitmap->bits_changed = true;
    img_free(img->env, q->bms);
    q->bms = new_list;
    q->nb_bms++;
    q->bm_valid = true;
    q->bm_tracking = true;
    return 0;
}

/*
 * qemu-img bitmap --remove: at once, unlike the other verbs.  The bitmap
 * leaves the in-memory list, the new directory is written without it
 * (commit()), and only then are its table and data freed.
 */
int img_bitmap_remove(struct img *img, const char *name)
{
    struct qcow2 *q = img->q;
    struct qc_bitmap *bitmap;
    /* The removed bitmap's table (offset, entries), for commit() to free
     * after the new directory is in place. */
    uint64_t old[2];
    int r = need_rw(img);
    if (r == 0)
        r = usable(img, name, true, &bitmap);
    if (r < 0)
        return r;
    /* Removed from the directory at once; its clusters freed after.  An
     * inconsistent bitmap may be removed too (usable()'s
     * allow_inconsistent): removing is what QEMU's message advises. */
    old[0] = bitmap->table_off;
    old[1] = bitmap->table_size;
    img_free(img->env, bitmap->name);
    img_free(img->env, bitmap->extra);
    img_free(img->env, bitmap->bits);
    int i = (int)(bitmap - q->bms);
    /* The list closes the gap; the directory keeps the bitmaps' order. */
    memmove(bitmap, bitmap + 1, sizeof(*bitmap) * (q->nb_bms - i - 1));
    q->nb_bms--;
    /* Bitmaps not yet stored are stored with this directory. */
    return commit(img, old, 1);
}

/*
 * A consistent bitmap of a writable image, loaded, to be changed and
 * stored at close.  It counts as changed from here on, whatever the verb
 * then does: storing an unchanged bitmap again costs a little space for a
 * moment, missing a change would lose it.
 */
static int to_change(struct img *img, const char *name, struct qc_bitmap **out)
{
    int r = need_rw(img);
    if (r == 0)
        r = usable(img, name, false, out);
    if (r == 0)
        r = load_bits(img, *out);
    if (r == 0) {
        (*out)->bits_changed = true;
        img->q->bm_tracking = true;
    }
    return r;
}

/* qemu-img bitmap --clear: every bit clear, as if nothing was written
 * since now.  The flags stay: an enabled bitmap goes on recording. */
int img_bitmap_clear(struct img *img, const char *name)
{
    struct qc_bitmap *bitmap;
    int r = to_change(img, name, &bitmap);
    if (r == 0)
        memset(bitmap->bits, 0, bits_bytes(img, bitmap->gran_bits));
    return r;
}

/* qemu-img bitmap --enable / --disable: the "auto" flag, which decides
 * whether later writes are recorded.  The bits stay as they are: a
 * disabled bitmap keeps what it recorded until it was disabled.  The
 * change is stored at close with the rest (to_change sets bits_changed). */
int img_bitmap_enable(struct img *img, const char *name, bool enabled)
{
    struct qc_bitmap *bitmap;
    int r = to_change(img, name, &bitmap);
    if (r == 0)
        bitmap->flags = enabled ? bitmap->flags | QBM_FLAG_AUTO : bitmap->flags & ~QBM_FLAG_AUTO;
    return r;
}

/*
 * qemu-img bitmap --merge: the destination becomes the union of itself and
 * the source (which may live in another image, opened by the CLI from -b).
 * The two must describe disks of the same size; their granularities may
 * differ.
 */
int img_bitmap_merge(struct img *dst, const char *dst_name, struct img *src, const char *src_name)
{
    struct qc_bitmap *dst_bm, *src_bm;
    int r = to_change(dst, dst_name, &dst_bm);
    if (r < 0)
        return r;
    r = usable(src, src_name, false, &src_bm);
    if (r == 0)
        r = load_bits(src, src_bm);
    /* The message is the source's; the caller reads the destination's.
     * (src may be dst: a merge of two bitmaps of one image.) */
    if (r < 0 && src != dst)
        img_fail(dst, -r, "%s", src->err);
    if (r < 0)
        return r;
    /* Bitmaps of disks of different sizes describe different disks. */
    if (src->size != dst->size)
        return img_fail(dst, IMG_EINVAL, "Bitmaps are incompatible and can't be merged");
    /* Every source bit sets the destination bits its range touches, so
     * granularities may differ (hbitmap_merge).  A clear byte is skipped
     * whole. */
    uint64_t nbits = div_up(src->size, (uint64_t)1 << src_bm->gran_bits);
    for (uint64_t n = 0; n < nbits; n++) {
        /* A clear bit does nothing; at a byte boundary a clear byte moves
         * n to its last bit, and the loop's n++ to the next byte. */
        if (!(src_bm->bits[n >> 3] & (1u << (n & 7)))) {
            if ((n & 7) == 0 && !src_bm->bits[n >> 3])
                n += 7;
            continue;
        }
        /* The guest bytes this source bit covers, cut at the disk's end. */
        uint64_t start = n << src_bm->gran_bits;
        uint64_t end = start + ((uint64_t)1 << src_bm->gran_bits);
        if (end > dst->size)
            end = dst->size;
        set_bits(dst_bm, start >> dst_bm->gran_bits, (end - 1) >> dst_bm->gran_bits);
    }
    return 0;
}
