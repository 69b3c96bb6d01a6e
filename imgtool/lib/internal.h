/*
 * internal.h: state and helpers shared by the library's source files.
 *
 * Nothing here is public: the CLI and hv only see img.h.  The layout of a
 * qcow2 image is described in QEMU's docs/interop/qcow2.txt ("the qcow2
 * spec"); section names below refer to that document.
 */
#ifndef IMGTOOL_INTERNAL_H
#define IMGTOOL_INTERNAL_H

#include "img.h"
#include "qcow2_format.h"
#include <klib.h>

/* Number of L2 tables and refcount blocks kept in memory.  The caches are
 * write-through: every metadata change is written to the file at once, in
 * the order the caller chooses, which is what makes crash ordering simple. */
#define QC_CACHE_SLOTS 16

struct qc_cache_slot {
    uint64_t off;  /* host offset of the cached table, 0 = empty slot */
    uint64_t used; /* LRU stamp */
    uint8_t *data; /* one cluster */
};

struct qc_ext {
    uint32_t type;
    uint32_t len;
    uint8_t *data;
};

struct qc_snapshot {
    uint64_t l1_offset;
    uint32_t l1_size;
    char *id;
    char *name;
    uint32_t date_sec, date_nsec;
    uint64_t vm_clock_nsec;
    uint64_t vm_state_size;
    uint64_t disk_size;
    uint64_t icount;
    uint32_t extra_size; /* extra data size as read (kept on rewrite) */
    uint8_t *extra;      /* extra data bytes as read (unknown fields kept) */
};

/* A persistent dirty bitmap (qcow2.txt "Bitmap directory"), as in the
 * directory, plus its bits once loaded. */
struct qc_bitmap {
    char *name;
    uint32_t flags; /* QBM_FLAG_* as on disk */
    uint8_t type;
    uint8_t gran_bits;
    uint32_t extra_size;
    uint8_t *extra;      /* extra data, kept as read */
    uint64_t table_off;  /* bitmap table on disk (0: not stored yet) */
    uint32_t table_size; /* its entries */
    uint8_t *bits;       /* loaded bits: bit n is byte n / 8, bit n % 8 */
    bool bits_changed;   /* bits differ from the stored table */
};

struct qcow2 {
    struct img_qcow2_header h;
    uint32_t cluster_size;
    int cluster_bits;
    uint64_t l2_entries; /* entries per L2 table */
    int l2_bits;
    int l2_esize; /* 8, or 16 with extended L2 entries */
    bool ext_l2;
    uint32_t sc_size; /* subcluster size (== cluster size without ext L2) */
    int csize_shift;  /* compressed-cluster descriptor layout */
    uint64_t csize_mask;
    uint64_t *l1;      /* active L1 table, host byte order */
    uint64_t l1_alloc; /* entries allocated in memory (>= h.l1_size) */
    uint64_t *rt;      /* refcount table, host byte order */
    uint64_t rt_entries;
    bool rt_damaged; /* an entry has reserved bits or points past the file */
    int rc_bits;
    uint64_t rb_entries; /* refcounts per refcount block */
    uint64_t rc_max;
    struct qc_cache_slot l2c[QC_CACHE_SLOTS];
    struct qc_cache_slot rbc[QC_CACHE_SLOTS];
    uint64_t lru;
    uint64_t free_hint; /* no free cluster below this index */
    uint64_t alloc_end; /* clusters at or above this index are unused */
    uint64_t comp_next; /* byte offset for packing compressed clusters */
    struct qc_ext *exts;
    int nb_exts;
    char backing_file[1024];
    char backing_fmt[32];
    struct qc_snapshot *snaps;
    int nb_snaps;
    bool dirty_marked;   /* we set the dirty bit in this session */
    uint8_t *tmp;        /* scratch cluster */
    uint8_t *ctmp;       /* scratch for compressed data (2 clusters) */
    int meta_prealloc;   /* block status looks at file holes: -1 = not known yet */
    uint64_t dcache_off; /* L2 descriptor of the cached decompressed cluster */
    uint8_t *dcache;
    /* Persistent bitmaps, valid only with the autoclear bitmaps bit. */
    struct qc_bitmap *bms;
    int nb_bms;
    bool bm_valid;       /* the directory was read and is maintained */
    uint64_t bm_dir_off; /* bitmap directory on disk */
    uint64_t bm_dir_size;
    bool bm_tracking; /* this session marked enabled bitmaps in use */
    uint64_t bm_size; /* the disk size the bitmaps are sized for */
    bool bm_stale;    /* a bitmaps extension without autoclear bit 0 */
};

struct img {
    const struct img_env *env;
    struct img_io io;
    char *name;
    int format;
    unsigned flags;
    bool rw;
    uint64_t size;
    /* Raw only: the file's own length.  The virtual size is this rounded up
     * to a 512-byte sector, as QEMU's raw driver reports it; the bytes in
     * between read as zeros (the file protocol pads reads past EOF). */
    uint64_t file_size;
    struct img *backing;
    struct qcow2 *q;
    char err[2560]; /* room for a 1023-byte bitmap name and more */
};

/* ---- helpers (img.c) ---- */
int img_fail(struct img *img, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int err_set(struct img_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void *img_alloc(const struct img_env *env, size_t n);
void img_free(const struct img_env *env, void *p);
char *img_strdup(const struct img_env *env, const char *s);
int io_read(struct img *img, uint64_t off, void *buf, size_t len);
int io_write(struct img *img, uint64_t off, const void *buf, size_t len);
int io_size(struct img *img, uint64_t *size);
/* Read from the backing chain (or zeros past its end / without one). */
int img_read_backing(struct img *img, uint64_t off, void *buf, size_t len);

/* ---- byte order: qcow2 is big-endian throughout (qcow2.txt "General") ---- */
static inline uint16_t be16(const void *p)
{
    const uint8_t *b = p;
    return (uint16_t)(b[0] << 8 | b[1]);
}
static inline uint32_t be32(const void *p)
{
    const uint8_t *b = p;
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}
static inline uint64_t be64(const void *p)
{
    return (uint64_t)be32(p) << 32 | be32((const uint8_t *)p + 4);
}
static inline void put16(void *p, uint16_t v)
{
    uint8_t *b = p;
    b[0] = (uint8_t)(v >> 8);
    b[1] = (uint8_t)v;
}
static inline void put32(void *p, uint32_t v)
{
    uint8_t *b = p;
    b[0] = (uint8_t)(v >> 24);
    b[1] = (uint8_t)(v >> 16);
    b[2] = (uint8_t)(v >> 8);
    b[3] = (uint8_t)v;
}
static inline void put64(void *p, uint64_t v)
{
    put32(p, (uint32_t)(v >> 32));
    put32((uint8_t *)p + 4, (uint32_t)v);
}

static inline uint64_t div_up(uint64_t a, uint64_t b)
{
    return a / b + (a % b != 0);
}

/* ---- qcow2 (qcow2_*.c) ---- */
int qc_open(struct img *img);
int qc_open_rw(struct img *img);
void qc_close(struct img *img);
int qc_read(struct img *img, uint64_t off, void *buf, size_t len);
int qc_write(struct img *img, uint64_t off, const void *buf, size_t len);
int qc_write_zeroes(struct img *img, uint64_t off, uint64_t len, unsigned flags);
int qc_flush(struct img *img);
int qc_update_header(struct img *img);
int qc_mark_dirty(struct img *img);

/* L2 access (qcow2_l2.c) */
int qc_l2_load(struct img *img, uint64_t l2_off, uint8_t **table);
void qc_l2_entry(struct img *img, const uint8_t *table, uint64_t idx, uint64_t *entry,
                 uint64_t *subcluster_bitmap);
int qc_l2_set(struct img *img, uint64_t l2_off, uint64_t idx, uint64_t entry,
              uint64_t subcluster_bitmap);
/* Make the L2 table of L1 index l1i writable (COPIED), allocating it. */
int qc_l2_load_for_write(struct img *img, uint64_t l1_index, uint64_t *l2_table_off);
int qc_rb_load(struct img *img, uint64_t rb_off, uint8_t **block);
int qc_snap_load(struct img *img);
/* QEMU's qcow2_validate_table for a snapshot's L1 table: 0, or a
 * refusal with QEMU's words ("Snapshot L1 table offset invalid"). */
int qc_snap_l1_usable(struct img *img, const struct qc_snapshot *s);
void qc_snap_free(struct img *img);
int qc_snap_upgrade(struct img *img);
int qc_repair_dirty(struct img *img);
int qc_resize(struct img *img, uint64_t new_size, int prealloc, bool allow_shrink);
/* amend -o compat=0.10 (qcow2_downgrade.c). */
int qc_downgrade(struct img *img);
/* Rewrite the refcount structure with entries new_bits wide (amend
 * refcount_bits; qcow2_reorder.c). */
int qc_change_refcount_order(struct img *img, int new_bits);
void qc_cache_drop(struct img *img, struct qc_cache_slot *slots, uint64_t table_offset);
int qc_check_meta_offset(struct img *img, uint64_t off, uint64_t len, const char *what);

/* persistent bitmaps (qcow2_bitmap.c) */
int qc_bitmaps_load(struct img *img);
void qc_bitmaps_free(struct img *img);
int qc_bitmaps_open_rw(struct img *img);
int qc_bitmaps_dirty(struct img *img, uint64_t off, uint64_t len);
int qc_bitmaps_close(struct img *img);
/* Around a resize: load every consistent bitmap, then fit it to the new
 * size: before the resize when growing (the larger tables are stored at
 * once), after it when shrinking (stored at close). */
int qc_bitmaps_load_all(struct img *img);
int qc_bitmaps_resize(struct img *img, uint64_t new_size);
/* Call inc(ctx, off, len) for every cluster range the bitmaps use; a
 * damaged bitmap table is an error (-IMG_EINVAL). */
int qc_bitmaps_refs(struct img *img, void (*inc)(void *ctx, uint64_t off, uint64_t len), void *ctx);
/* refcounts (qcow2_refcount.c) */
int qc_rc_get(struct img *img, uint64_t cluster, uint64_t *rc);
int qc_rc_set(struct img *img, uint64_t cluster, uint64_t rc);
int qc_rc_update(struct img *img, uint64_t cluster, int64_t delta);
int qc_rc_update_range(struct img *img, uint64_t off, uint64_t len, int64_t delta);
int qc_alloc_clusters(struct img *img, uint64_t n, uint64_t *off);
int qc_alloc_clusters_at(struct img *img, uint64_t c, uint64_t n);
int qc_refcount_area(struct img *img, uint64_t start, uint64_t additional, bool exact,
                     uint64_t new_idx, uint64_t new_off, uint64_t *end_out);
/* Refcount metadata needed for `clusters` clusters (QEMU's formula). */
uint64_t qc_refcount_metadata_size(uint64_t clusters, uint64_t cs, int order, bool generous,
                                   uint64_t *blocks_out);
/* Does host cluster c hold the header, the L1 table or the refcount table? */
bool qc_is_core_metadata(struct qcow2 *q, uint64_t c);
/* Store a refcount as entry `index` of an in-memory refcount block;
 * *touched_off and *touched_len say which bytes changed. */
void qc_rb_put_entry(const struct qcow2 *q, uint8_t *block, uint64_t index, uint64_t value,
                     uint64_t *touched_off, size_t *touched_len);
int qc_alloc_bytes(struct img *img, uint64_t size, uint64_t *off);
/* Free the clusters a (non-zero) L2 entry points at. */
int qc_free_l2_entry_clusters(struct img *img, uint64_t e);

/* Compressed descriptor helpers. */
static inline uint64_t qc_comp_off(const struct qcow2 *q, uint64_t e)
{
    return e & (((uint64_t)1 << q->csize_shift) - 1);
}
static inline uint64_t qc_comp_len(const struct qcow2 *q, uint64_t e)
{
    uint64_t nsec = ((e >> q->csize_shift) & q->csize_mask) + 1;
    return nsec * 512 - (qc_comp_off(q, e) & 511);
}

#endif
