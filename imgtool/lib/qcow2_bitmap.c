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
 */
#include "internal.h"

/* ---- sizes ---------------------------------------------------------------- */

/* Bytes of bitmap data at a granularity of 2^gran_bits for a disk of the
 * size the bitmaps follow (q->bm_size: the disk's, except in the middle of
 * a resize). */
static uint64_t bits_bytes(const struct img *img, int gran_bits)
{
    return div_up(div_up(img->q->bm_size, (uint64_t)1 << gran_bits), 8);
}

/* Directory entry size: fixed part, extra data, name, padded to 8 bytes
 * (qcow2.txt "Bitmap directory"). */
static uint64_t entry_size(uint64_t name_len, uint64_t extra)
{
    return (QBM_ENTRY_FIXED + extra + name_len + 7) & ~7ull;
}

static struct qc_bitmap *find(struct img *img, const char *name)
{
    struct qcow2 *q = img->q;
    for (int i = 0; q && i < q->nb_bms; i++)
        if (!strcmp(q->bms[i].name, name))
            return &q->bms[i];
    return NULL;
}

/* ---- loading -------------------------------------------------------------- */

/* One directory entry at p (len bytes left); QEMU's check_dir_entry. */
static int parse_entry(struct img *img, const uint8_t *p, uint64_t len, struct qc_bitmap *b,
                       uint64_t *used)
{
    struct qcow2 *q = img->q;
    if (len < QBM_ENTRY_FIXED)
        return img_fail(img, IMG_ECORRUPT, "Bitmap directory is corrupted");
    b->table_off = be64(p);
    b->table_size = be32(p + 8);
    b->flags = be32(p + 12);
    b->type = p[16];
    b->gran_bits = p[17];
    uint32_t name_len = be16(p + 18);
    b->extra_size = be32(p + 20);
    uint64_t sz = entry_size(name_len, b->extra_size);
    if (sz > len || name_len == 0 || name_len > QBM_MAX_NAME || b->type != QBM_TYPE_DIRTY ||
        b->gran_bits < QBM_MIN_GRAN_BITS || b->gran_bits > QBM_MAX_GRAN_BITS ||
        (b->flags & ~(QBM_FLAG_IN_USE | QBM_FLAG_AUTO | QBM_FLAG_EXTRA_COMP)) || !b->table_off ||
        (b->table_off & (q->cluster_size - 1)) || b->table_size == 0 ||
        b->table_size > QBM_MAX_TABLE_SIZE ||
        (uint64_t)b->table_size * q->cluster_size > QBM_MAX_PHYS_SIZE)
        return img_fail(img, IMG_ECORRUPT, "Bitmap directory is corrupted");
    /* The table must cover the disk; a larger one is fine (a resize that
     * grew the tables first and then was interrupted leaves one).  Only
     * an inconsistent bitmap may fall short: it is never read. */
    if ((uint64_t)b->table_size * q->cluster_size < bits_bytes(img, b->gran_bits) &&
        !(b->flags & QBM_FLAG_IN_USE))
        return img_fail(img, IMG_ECORRUPT, "Bitmap directory is corrupted");
    /* Extra data we do not understand makes the bitmap read-only, unless
     * the entry says it may be ignored (qcow2.txt "Bitmap directory", flag extra_data_compatible);
     * we keep it as read either way and refuse only changes. */
    b->extra = img_alloc(img->env, b->extra_size ? b->extra_size : 1);
    b->name = img_alloc(img->env, name_len + 1);
    if (!b->extra || !b->name)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    memcpy(b->extra, p + QBM_ENTRY_FIXED, b->extra_size);
    memcpy(b->name, p + QBM_ENTRY_FIXED + b->extra_size, name_len);
    *used = sz;
    return 0;
}

/* The extension's fields, checked as qcow2_read_extensions checks them. */
static int parse_ext(struct img *img, const struct qc_ext *e, uint32_t *nb)
{
    struct qcow2 *q = img->q;
    if (e->len != QBM_EXT_LEN)
        return img_fail(img, IMG_ECORRUPT, "bitmaps_ext: Invalid extension length");
    *nb = be32(e->data);
    q->bm_dir_size = be64(e->data + 8);
    q->bm_dir_off = be64(e->data + 16);
    if (be32(e->data + 4))
        return img_fail(img, IMG_ECORRUPT, "bitmaps_ext: Reserved field is not zero");
    if (*nb > QBM_MAX_BITMAPS)
        return img_fail(img, IMG_ECORRUPT,
                        "bitmaps_ext: Image has %u bitmaps, exceeding the QEMU supported "
                        "maximum of %d",
                        *nb, QBM_MAX_BITMAPS);
    if (*nb == 0)
        return img_fail(img, IMG_ECORRUPT, "found bitmaps extension with zero bitmaps");
    if (q->bm_dir_off & (q->cluster_size - 1))
        return img_fail(img, IMG_ECORRUPT, "bitmaps_ext: invalid bitmap directory offset");
    if (q->bm_dir_size > QBM_MAX_DIR_SIZE)
        return img_fail(img, IMG_ECORRUPT,
                        "bitmaps_ext: bitmap directory size (%llu) exceeds the maximum "
                        "supported size (%llu)",
                        (unsigned long long)q->bm_dir_size, (unsigned long long)QBM_MAX_DIR_SIZE);
    return 0;
}

/* A bitmap table entry QEMU accepts (qcow2-bitmap.c, check_table_entry):
 * no reserved bits; with an offset, a cluster-aligned one without the
 * all-ones bit (qcow2.txt "Bitmap table"). */
static bool table_entry_ok(const struct qcow2 *q, uint64_t e)
{
    uint64_t off = e & QBM_TE_OFFSET;
    return !(e & QBM_TE_RESERVED) &&
           !(off && ((e & QBM_TE_ALL_ONES) || (off & (q->cluster_size - 1))));
}

/* A bitmap's table, read and checked; *out is freed by the caller. */
static int read_table(struct img *img, const struct qc_bitmap *b, uint8_t **out)
{
    uint8_t *tb = img_alloc(img->env, (size_t)b->table_size * 8);
    if (!tb)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    int r = io_read(img, b->table_off, tb, (size_t)b->table_size * 8) < 0 ? -IMG_EIO : 0;
    for (uint32_t i = 0; r == 0 && i < b->table_size; i++)
        if (!table_entry_ok(img->q, be64(tb + 8 * i)))
            r = img_fail(img, IMG_ECORRUPT,
                         "Could not read bitmap_table table from image for bitmap '%s': "
                         "Invalid argument",
                         b->name);
    if (r < 0) {
        img_free(img->env, tb);
        return r;
    }
    *out = tb;
    return 0;
}

int qc_bitmaps_load(struct img *img)
{
    struct qcow2 *q = img->q;
    const struct qc_ext *e = NULL;
    uint32_t nb = 0;
    uint64_t pos = 0;
    uint8_t *dir;
    int r = 0;
    for (int i = 0; i < q->nb_exts; i++)
        if (q->exts[i].type == QEXT_BITMAPS)
            e = &q->exts[i];
    /* Without the autoclear bit the extension is stale: QEMU ignores it
     * (and the clusters it points at are leaks for check to find). */
    q->bm_size = img->size;
    if (!e)
        return 0;
    if (q->h.version < 3 || !(q->h.autoclear_features & QF_AUTOCLEAR_BITMAPS)) {
        q->bm_stale = true;
        return 0;
    }
    r = parse_ext(img, e, &nb);
    if (r < 0)
        return r;
    r = qc_check_meta_offset(img, q->bm_dir_off, q->bm_dir_size, "bitmap directory");
    if (r < 0)
        return r;
    dir = img_alloc(img->env, q->bm_dir_size ? q->bm_dir_size : 1);
    q->bms = img_alloc(img->env, sizeof(*q->bms) * nb);
    if (!dir || !q->bms) {
        img_free(img->env, dir);
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    }
    if (io_read(img, q->bm_dir_off, dir, q->bm_dir_size) < 0) {
        img_free(img->env, dir);
        return -IMG_EIO;
    }
    for (uint32_t i = 0; i < nb && r == 0; i++) {
        uint64_t used = 0;
        r = parse_entry(img, dir + pos, q->bm_dir_size - pos, &q->bms[i], &used);
        q->nb_bms = (int)i + 1;
        pos += used;
        for (uint32_t j = 0; r == 0 && j < i; j++)
            if (!strcmp(q->bms[j].name, q->bms[i].name))
                r = img_fail(img, IMG_ECORRUPT, "Bitmap directory is corrupted");
    }
    img_free(img->env, dir);
    if (r == 0 && pos != q->bm_dir_size)
        r = img_fail(img, IMG_ECORRUPT, "Bitmap directory is corrupted");
    /* QEMU loads every consistent bitmap when it opens an image, so a
     * damaged table makes the open fail; an inconsistent bitmap is not
     * read (check counts its damaged entries). */
    for (int i = 0; r == 0 && i < q->nb_bms; i++) {
        uint8_t *tb;
        if (q->bms[i].flags & QBM_FLAG_IN_USE)
            continue;
        r = read_table(img, &q->bms[i], &tb);
        if (r == 0)
            img_free(img->env, tb);
    }
    if (r == 0)
        q->bm_valid = true;
    return r;
}

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

/* Read a bitmap's table and data into b->bits (once). */
static int load_bits(struct img *img, struct qc_bitmap *b)
{
    struct qcow2 *q = img->q;
    uint64_t nbytes = bits_bytes(img, b->gran_bits);
    uint8_t *tb;
    int r;
    if (b->bits)
        return 0;
    b->bits = img_alloc(img->env, nbytes ? nbytes : 1);
    if (!b->bits)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    if (!b->table_off)
        return 0;
    r = read_table(img, b, &tb);
    /* A table may have entries past the disk's end (QEMU checks only
     * that it covers the disk); they are ignored. */
    uint32_t used = (uint32_t)div_up(nbytes, q->cluster_size);
    for (uint32_t i = 0; r == 0 && i < used && i < b->table_size; i++) {
        uint64_t e = be64(tb + 8 * i), off = e & QBM_TE_OFFSET;
        uint64_t at = (uint64_t)i * q->cluster_size;
        uint64_t n = nbytes - at < q->cluster_size ? nbytes - at : q->cluster_size;
        if (off)
            r = io_read(img, off, b->bits + at, n) < 0 ? -IMG_EIO : 0;
        else if (e & QBM_TE_ALL_ONES)
            memset(b->bits + at, 0xff, n);
    }
    if (r < 0) {
        /* Not loaded after all: a later call tries again. */
        img_free(img->env, b->bits);
        b->bits = NULL;
        return r;
    }
    img_free(img->env, tb);
    /* Bits past the end of the disk mean nothing: keep them clear. */
    uint64_t nbits = div_up(q->bm_size, (uint64_t)1 << b->gran_bits);
    if (nbits % 8)
        b->bits[nbytes - 1] &= (uint8_t)((1u << (nbits % 8)) - 1);
    return 0;
}

/* ---- storing -------------------------------------------------------------- */

/* Free a stored table and the data clusters it points at. */
static int free_table(struct img *img, uint64_t toff, uint32_t tsize)
{
    uint8_t *tb;
    int r = 0;
    if (!toff)
        return 0;
    tb = img_alloc(img->env, (size_t)tsize * 8);
    if (!tb)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    if (io_read(img, toff, tb, (size_t)tsize * 8) < 0)
        r = -IMG_EIO;
    for (uint32_t i = 0; r == 0 && i < tsize; i++) {
        uint64_t off = be64(tb + 8 * i) & QBM_TE_OFFSET;
        if (off)
            r = qc_rc_update_range(img, off, img->q->cluster_size, -1);
    }
    img_free(img->env, tb);
    if (r == 0)
        r = qc_rc_update_range(img, toff, (uint64_t)tsize * 8, -1);
    return r;
}

/* Write b->bits to new clusters: the data clusters that are not all zero
 * (a zero entry stands for the others), then the table. */
static int store_bits(struct img *img, struct qc_bitmap *b, uint64_t *toff_out)
{
    struct qcow2 *q = img->q;
    b->table_size = (uint32_t)div_up(bits_bytes(img, b->gran_bits), q->cluster_size);
    uint64_t nbytes = bits_bytes(img, b->gran_bits), toff = 0;
    uint8_t *tb = img_alloc(img->env, (size_t)b->table_size * 8);
    int r = 0;
    if (!tb)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    for (uint32_t i = 0; r == 0 && i < b->table_size; i++) {
        uint64_t at = (uint64_t)i * q->cluster_size, off = 0;
        uint64_t n = nbytes - at < q->cluster_size ? nbytes - at : q->cluster_size;
        bool zero = true;
        for (uint64_t k = 0; k < n && zero; k++)
            zero = b->bits[at + k] == 0;
        if (zero)
            continue;
        memset(q->tmp, 0, q->cluster_size);
        memcpy(q->tmp, b->bits + at, n);
        r = qc_alloc_clusters(img, 1, &off);
        if (r == 0)
            r = io_write(img, off, q->tmp, q->cluster_size);
        put64(tb + 8 * i, off);
    }
    if (r == 0)
        r = qc_alloc_clusters(img, div_up((uint64_t)b->table_size * 8, q->cluster_size), &toff);
    if (r == 0)
        r = io_write(img, toff, tb, (size_t)b->table_size * 8);
    img_free(img->env, tb);
    if (r == 0)
        *toff_out = toff;
    return r;
}

/* The directory as bytes; *len gets its size. */
static uint8_t *build_dir(struct img *img, uint64_t *len)
{
    struct qcow2 *q = img->q;
    uint64_t n = 0, pos = 0;
    for (int i = 0; i < q->nb_bms; i++)
        n += entry_size(strlen(q->bms[i].name), q->bms[i].extra_size);
    uint8_t *d = img_alloc(img->env, n ? n : 1);
    if (!d)
        return NULL;
    for (int i = 0; i < q->nb_bms; i++) {
        const struct qc_bitmap *b = &q->bms[i];
        uint16_t nl = (uint16_t)strlen(b->name);
        put64(d + pos, b->table_off);
        put32(d + pos + 8, b->table_size);
        put32(d + pos + 12, b->flags);
        d[pos + 16] = b->type;
        d[pos + 17] = b->gran_bits;
        put16(d + pos + 18, nl);
        put32(d + pos + 20, b->extra_size);
        memcpy(d + pos + QBM_ENTRY_FIXED, b->extra, b->extra_size);
        memcpy(d + pos + QBM_ENTRY_FIXED + b->extra_size, b->name, nl);
        pos += entry_size(nl, b->extra_size);
    }
    *len = n;
    return d;
}

/* Point the header at a directory: the extension (placed after the
 * feature name table, where QEMU writes it), or none without bitmaps. */
static int set_ext(struct img *img, uint64_t off, uint64_t size)
{
    struct qcow2 *q = img->q;
    int at = -1, after = -1;
    for (int i = 0; i < q->nb_exts; i++) {
        if (q->exts[i].type == QEXT_BITMAPS)
            at = i;
        if (q->exts[i].type == QEXT_FEATURE_NAME || q->exts[i].type == QEXT_BACKING_FMT)
            after = i;
    }
    if (!q->nb_bms) {
        if (at >= 0) {
            img_free(img->env, q->exts[at].data);
            memmove(&q->exts[at], &q->exts[at + 1], sizeof(*q->exts) * (q->nb_exts - at - 1));
            q->nb_exts--;
        }
        q->h.autoclear_features &= ~QF_AUTOCLEAR_BITMAPS;
        return qc_update_header(img);
    }
    if (at < 0) {
        struct qc_ext *nx = img_alloc(img->env, sizeof(*nx) * (q->nb_exts + 1));
        uint8_t *data = img_alloc(img->env, QBM_EXT_LEN);
        if (!nx || !data) {
            img_free(img->env, nx);
            img_free(img->env, data);
            return img_fail(img, IMG_ENOMEM, "Out of memory");
        }
        at = after + 1;
        memcpy(nx, q->exts, sizeof(*nx) * at);
        memcpy(nx + at + 1, q->exts + at, sizeof(*nx) * (q->nb_exts - at));
        nx[at].type = QEXT_BITMAPS;
        nx[at].len = QBM_EXT_LEN;
        nx[at].data = data;
        img_free(img->env, q->exts);
        q->exts = nx;
        q->nb_exts++;
    }
    put32(q->exts[at].data, (uint32_t)q->nb_bms);
    put32(q->exts[at].data + 4, 0);
    put64(q->exts[at].data + 8, size);
    put64(q->exts[at].data + 16, off);
    q->h.autoclear_features |= QF_AUTOCLEAR_BITMAPS;
    return qc_update_header(img);
}

/*
 * Store the bitmaps: every bitmap whose bits changed gets new data and a
 * new table, then a new directory replaces the old one with one header
 * write, then the old directory and tables are freed.  `old` lists the
 * tables (offset, size pairs) that the new directory no longer uses.
 */
static int commit(struct img *img, uint64_t *old, int nold)
{
    struct qcow2 *q = img->q;
    uint64_t *prev = img_alloc(img->env, sizeof(uint64_t) * 2 * (q->nb_bms + 1));
    uint64_t dir_len = 0, dir_off = 0, old_dir = q->bm_dir_off, old_size = q->bm_dir_size;
    int nprev = 0, r = 0;
    uint8_t *d;
    if (!prev)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    for (int i = 0; r == 0 && i < q->nb_bms; i++) {
        struct qc_bitmap *b = &q->bms[i];
        uint64_t toff = 0;
        if (!b->bits_changed)
            continue;
        /* The old table, with its own size (the new one may differ after a
         * resize), is freed once the new directory is in place. */
        uint64_t old_off = b->table_off, old_size = b->table_size;
        r = store_bits(img, b, &toff);
        if (r < 0)
            break;
        prev[2 * nprev] = old_off;
        prev[2 * nprev + 1] = old_size;
        nprev++;
        b->table_off = toff;
        b->bits_changed = false;
    }
    d = r == 0 ? build_dir(img, &dir_len) : NULL;
    if (r == 0 && !d)
        r = img_fail(img, IMG_ENOMEM, "Out of memory");
    if (r == 0 && dir_len) {
        r = qc_alloc_clusters(img, div_up(dir_len, q->cluster_size), &dir_off);
        if (r == 0)
            r = io_write(img, dir_off, d, dir_len);
    }
    img_free(img->env, d);
    if (r == 0)
        r = set_ext(img, dir_off, dir_len);
    if (r == 0) {
        q->bm_dir_off = dir_off;
        q->bm_dir_size = dir_len;
        q->bm_valid = q->nb_bms > 0;
        if (old_dir)
            r = qc_rc_update_range(img, old_dir, old_size, -1);
    }
    for (int i = 0; r == 0 && i < nprev; i++)
        r = free_table(img, prev[2 * i], (uint32_t)prev[2 * i + 1]);
    for (int i = 0; r == 0 && i < nold; i++)
        r = free_table(img, old[2 * i], (uint32_t)old[2 * i + 1]);
    img_free(img->env, prev);
    return r;
}

/* ---- the session: in use, dirty tracking, store at close ------------------ */

int qc_bitmaps_open_rw(struct img *img)
{
    struct qcow2 *q = img->q;
    bool any = false;
    uint64_t len;
    uint8_t *d;
    int r;
    /* A stale extension (autoclear bit 0 clear: a program that did not
     * know bitmaps wrote the image) is dropped, as QEMU drops it; its
     * clusters are leaks for check -r. */
    if (!q->bm_valid) {
        for (int i = 0; i < q->nb_exts; i++)
            if (q->exts[i].type == QEXT_BITMAPS)
                return set_ext(img, 0, 0);
        return 0;
    }
    /* Mark every enabled, consistent bitmap in use before anything else is
     * written, rewriting the directory in place (only flags change), and
     * load its bits to record this session's writes. */
    for (int i = 0; i < q->nb_bms; i++) {
        struct qc_bitmap *b = &q->bms[i];
        if ((b->flags & QBM_FLAG_AUTO) && !(b->flags & QBM_FLAG_IN_USE)) {
            r = load_bits(img, b);
            if (r < 0)
                return r;
            b->flags |= QBM_FLAG_IN_USE;
            any = true;
        }
    }
    q->bm_tracking = true;
    if (!any)
        return 0;
    d = build_dir(img, &len);
    if (!d)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    r = len == q->bm_dir_size ? io_write(img, q->bm_dir_off, d, len) : -IMG_ECORRUPT;
    img_free(img->env, d);
    return r;
}

/* Set bits [first, last] of b. */
static void set_bits(struct qc_bitmap *b, uint64_t first, uint64_t last)
{
    for (uint64_t n = first; n <= last; n++) {
        if ((n & 7) == 0 && n + 7 <= last) {
            b->bits[n >> 3] = 0xff;
            n += 7;
            continue;
        }
        b->bits[n >> 3] |= (uint8_t)(1u << (n & 7));
    }
}

int qc_bitmaps_dirty(struct img *img, uint64_t off, uint64_t len)
{
    struct qcow2 *q = img->q;
    if (!q->bm_tracking || !len)
        return 0;
    /* Enabled bitmaps whose bits are loaded: those this session marked in
     * use and those it added or changed.  An inconsistent bitmap is never
     * loaded and stays as it is. */
    for (int i = 0; i < q->nb_bms; i++) {
        struct qc_bitmap *b = &q->bms[i];
        if (!(b->flags & QBM_FLAG_AUTO) || !b->bits)
            continue;
        set_bits(b, off >> b->gran_bits, (off + len - 1) >> b->gran_bits);
        b->bits_changed = true;
    }
    return 0;
}

int qc_bitmaps_close(struct img *img)
{
    struct qcow2 *q = img->q;
    if (!q->bm_tracking)
        return 0;
    /* What this session marked in use is consistent again once stored. */
    for (int i = 0; i < q->nb_bms; i++)
        if (q->bms[i].bits)
            q->bms[i].flags &= ~QBM_FLAG_IN_USE;
    q->bm_tracking = false;
    return commit(img, NULL, 0);
}

int qc_bitmaps_load_all(struct img *img)
{
    struct qcow2 *q = img->q;
    for (int i = 0; q->bm_valid && i < q->nb_bms; i++) {
        struct qc_bitmap *b = &q->bms[i];
        /* An inconsistent bitmap stays as it is: it can only be removed. */
        if ((b->flags & QBM_FLAG_IN_USE) && !b->bits)
            continue;
        int r = load_bits(img, b);
        if (r < 0)
            return r;
    }
    return 0;
}

int qc_bitmaps_resize(struct img *img, uint64_t new_size)
{
    struct qcow2 *q = img->q;
    uint64_t old_size = q->bm_size;
    q->bm_size = new_size;
    for (int i = 0; q->bm_valid && i < q->nb_bms; i++) {
        struct qc_bitmap *b = &q->bms[i];
        if (!b->bits)
            continue;
        uint64_t nbytes = bits_bytes(img, b->gran_bits);
        uint64_t obytes = div_up(div_up(old_size, (uint64_t)1 << b->gran_bits), 8);
        uint8_t *nb = img_alloc(img->env, nbytes ? nbytes : 1);
        if (!nb)
            return img_fail(img, IMG_ENOMEM, "Out of memory");
        memcpy(nb, b->bits, obytes < nbytes ? obytes : nbytes);
        img_free(img->env, b->bits);
        b->bits = nb;
        uint64_t nbits = div_up(new_size, (uint64_t)1 << b->gran_bits);
        if (nbits % 8)
            b->bits[nbytes - 1] &= (uint8_t)((1u << (nbits % 8)) - 1);
        b->bits_changed = true;
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

int qc_bitmaps_refs(struct img *img, void (*inc)(void *ctx, uint64_t off, uint64_t len), void *ctx)
{
    struct qcow2 *q = img->q;
    if (!q->bm_valid)
        return 0;
    inc(ctx, q->bm_dir_off, q->bm_dir_size);
    for (int i = 0; i < q->nb_bms; i++) {
        struct qc_bitmap *b = &q->bms[i];
        uint8_t *tb;
        inc(ctx, b->table_off, (uint64_t)b->table_size * 8);
        /* A damaged table stops the check, as bitmap_table_load's error
         * stops qcow2_check_bitmaps_refcounts: "Check failed". */
        if (read_table(img, b, &tb) < 0)
            return img_fail(img, IMG_EINVAL, "Invalid argument");
        for (uint32_t k = 0; k < b->table_size; k++) {
            uint64_t off = be64(tb + 8 * k) & QBM_TE_OFFSET;
            if (off)
                inc(ctx, off, q->cluster_size);
        }
        img_free(img->env, tb);
    }
    return 0;
}

/* ---- the public operations (qemu-img bitmap) ------------------------------ */

int img_bitmap_count(struct img *img)
{
    return img->q && img->q->bm_valid ? img->q->nb_bms : 0;
}

int img_bitmap_get(struct img *img, int index, struct img_bitmap_info *info)
{
    if (index < 0 || index >= img_bitmap_count(img))
        return -IMG_EINVAL;
    const struct qc_bitmap *b = &img->q->bms[index];
    info->name = b->name;
    info->granularity = (uint32_t)1 << b->gran_bits;
    /* What the file says, as QEMU reports it: a bitmap this session marked
     * in use for tracking is not inconsistent. */
    info->in_use = (b->flags & QBM_FLAG_IN_USE) && !(img->q->bm_tracking && b->bits);
    info->enabled = (b->flags & QBM_FLAG_AUTO) != 0;
    return 0;
}

uint32_t img_bitmap_default_granularity(struct img *img)
{
    uint32_t g = img_cluster_size(img);
    return g < 4096 ? 4096 : g > 65536 ? 65536 : g;
}

/* A bitmap that exists and may be used (QEMU's bdrv_dirty_bitmap_check). */
static int usable(struct img *img, const char *name, bool allow_inconsistent,
                  struct qc_bitmap **out)
{
    struct qc_bitmap *b = img->q && img->q->bm_valid ? find(img, name) : NULL;
    if (!b)
        return img_fail(img, IMG_ENOENT, "Dirty bitmap '%s' not found", name);
    if (!allow_inconsistent && (b->flags & QBM_FLAG_IN_USE) && !b->bits)
        return img_fail(img, IMG_EINVAL,
                        "Bitmap '%s' is inconsistent and cannot be used\n"
                        "Try block-dirty-bitmap-remove to delete this bitmap from disk",
                        name);
    *out = b;
    return 0;
}

static int need_rw(struct img *img)
{
    if (!img->rw)
        return img_fail(img, IMG_EROFS, "Image '%s' is opened read-only", img->name);
    return 0;
}

int img_bitmap_add(struct img *img, const char *name, uint32_t granularity, bool enabled)
{
    struct qcow2 *q = img->q;
    int r = need_rw(img), gb = 0;
    if (r < 0)
        return r;
    if (!name[0])
        return img_fail(img, IMG_EINVAL, "Bitmap name cannot be empty");
    if (granularity < 512 || (granularity & (granularity - 1)))
        return img_fail(img, IMG_EINVAL, "Granularity must be power of 2 and at least 512");
    if (q && q->bm_valid && find(img, name))
        return img_fail(img, IMG_EEXIST, "Bitmap already exists: %s", name);
    while ((1ull << gb) < granularity)
        gb++;
    /* qcow2_co_can_store_new_dirty_bitmap, check_constraints_on_bitmap. */
    const char *why = NULL;
    char buf[96];
    if (!q)
        return img_fail(img, IMG_ENOTSUP,
                        "Can't store persistent bitmaps to %s: Operation not supported", img->name);
    uint64_t nbytes = bits_bytes(img, gb);
    if (q->h.version < 3)
        why = "Cannot store dirty bitmaps in qcow2 v2 files";
    else if (gb > QBM_MAX_GRAN_BITS) {
        ksnprintf(buf, sizeof(buf), "Granularity exceeds maximum (%llu bytes)",
                  1ull << QBM_MAX_GRAN_BITS);
        why = buf;
    } else if (nbytes > QBM_MAX_PHYS_SIZE || nbytes > QBM_MAX_TABLE_SIZE * q->cluster_size)
        why = "Too much space will be occupied by the bitmap. Use larger granularity";
    else if (strlen(name) > QBM_MAX_NAME) {
        ksnprintf(buf, sizeof(buf), "Name length exceeds maximum (%u characters)", QBM_MAX_NAME);
        why = buf;
    } else if (q->nb_bms >= QBM_MAX_BITMAPS)
        why = "Maximum number of persistent bitmaps is already reached";
    else if (q->bm_dir_size + entry_size(strlen(name), 0) > QBM_MAX_DIR_SIZE)
        why = "Not enough space in the bitmap directory";
    if (why)
        return img_fail(img, IMG_EINVAL, "Can't make bitmap '%s' persistent in '%s': %s", name,
                        img->name, why);
    struct qc_bitmap *nb = img_alloc(img->env, sizeof(*nb) * (q->nb_bms + 1));
    if (!nb)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    memcpy(nb, q->bms, sizeof(*nb) * q->nb_bms);
    struct qc_bitmap *b = &nb[q->nb_bms];
    b->name = img_strdup(img->env, name);
    b->extra = img_alloc(img->env, 1);
    b->bits = img_alloc(img->env, nbytes ? nbytes : 1);
    if (!b->name || !b->extra || !b->bits) {
        img_free(img->env, b->name);
        img_free(img->env, b->extra);
        img_free(img->env, b->bits);
        img_free(img->env, nb);
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    }
    b->type = QBM_TYPE_DIRTY;
    b->gran_bits = (uint8_t)gb;
    b->flags = enabled ? QBM_FLAG_AUTO : 0;
    b->table_size = (uint32_t)div_up(nbytes, q->cluster_size);
    b->bits_changed = true;
    img_free(img->env, q->bms);
    q->bms = nb;
    q->nb_bms++;
    q->bm_valid = true;
    q->bm_tracking = true;
    return 0;
}

int img_bitmap_remove(struct img *img, const char *name)
{
    struct qcow2 *q = img->q;
    struct qc_bitmap *b;
    uint64_t old[2];
    int r = need_rw(img);
    if (r == 0)
        r = usable(img, name, true, &b);
    if (r < 0)
        return r;
    /* Removed from the directory at once; its clusters freed after. */
    old[0] = b->table_off;
    old[1] = b->table_size;
    img_free(img->env, b->name);
    img_free(img->env, b->extra);
    img_free(img->env, b->bits);
    int i = (int)(b - q->bms);
    memmove(b, b + 1, sizeof(*b) * (q->nb_bms - i - 1));
    q->nb_bms--;
    /* Bitmaps not yet stored are stored with this directory. */
    return commit(img, old, 1);
}

/* A consistent bitmap of a writable image, loaded, to be changed and
 * stored at close. */
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

int img_bitmap_clear(struct img *img, const char *name)
{
    struct qc_bitmap *b;
    int r = to_change(img, name, &b);
    if (r == 0)
        memset(b->bits, 0, bits_bytes(img, b->gran_bits));
    return r;
}

int img_bitmap_enable(struct img *img, const char *name, bool enabled)
{
    struct qc_bitmap *b;
    int r = to_change(img, name, &b);
    if (r == 0)
        b->flags = enabled ? b->flags | QBM_FLAG_AUTO : b->flags & ~QBM_FLAG_AUTO;
    return r;
}

int img_bitmap_merge(struct img *dst, const char *dst_name, struct img *src, const char *src_name)
{
    struct qc_bitmap *d, *s;
    int r = to_change(dst, dst_name, &d);
    if (r < 0)
        return r;
    r = usable(src, src_name, false, &s);
    if (r == 0)
        r = load_bits(src, s);
    /* The message is the source's; the caller reads the destination's. */
    if (r < 0 && src != dst)
        img_fail(dst, -r, "%s", src->err);
    if (r < 0)
        return r;
    if (src->size != dst->size)
        return img_fail(dst, IMG_EINVAL, "Bitmaps are incompatible and can't be merged");
    /* Every source bit sets the destination bits its range touches, so
     * granularities may differ (hbitmap_merge). */
    uint64_t nbits = div_up(src->size, (uint64_t)1 << s->gran_bits);
    for (uint64_t n = 0; n < nbits; n++) {
        if (!(s->bits[n >> 3] & (1u << (n & 7)))) {
            if ((n & 7) == 0 && !s->bits[n >> 3])
                n += 7;
            continue;
        }
        uint64_t start = n << s->gran_bits;
        uint64_t end = start + ((uint64_t)1 << s->gran_bits);
        if (end > dst->size)
            end = dst->size;
        set_bits(d, start >> d->gran_bits, (end - 1) >> d->gran_bits);
    }
    return 0;
}
