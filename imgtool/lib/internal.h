/*
 * internal.h: state and helpers shared by the library's source files.
 *
 * Nothing here is public: the CLI and hv only see img.h.  The layout of a
 * qcow2 image is described in QEMU's docs/interop/qcow2.txt ("the qcow2
 * spec"); section names below refer to that document.
 *
 * The data structures, in the order a request meets them: struct img is
 * the handle (img.c), struct qcow2 the driver's state for a qcow2 image
 * (header, geometry, the L1 and refcount tables in memory, the caches),
 * struct qc_cache_slot one cached L2 table or refcount block.  Snapshots
 * (struct qc_snapshot) and persistent bitmaps (struct qc_bitmap) are kept
 * in memory as their tables describe them and written back whole.
 *
 * The rule that makes the library's crash behaviour easy to reason about:
 * nothing in memory is ever newer than the file.  Every metadata change is
 * written at once, and the caller orders its writes (data before the
 * entry that points at it, a refcount raised before the cluster is used,
 * lowered only after nothing points at it any more).
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

/* One cached table: a clean copy of one cluster of metadata, found by its
 * host offset.  The least recently used slot is reused. */
struct qc_cache_slot {
    uint64_t off;  /* host offset of the cached table, 0 = empty slot */
    uint64_t used; /* LRU stamp */
    uint8_t *data; /* one cluster */
};

/* A header extension as read from cluster 0 (qcow2.txt "Header
 * extensions"): type, length and data without the padding.  Unknown types
 * are kept and written back unchanged by qc_update_header(). */
struct qc_ext {
    uint32_t type;
    uint32_t len;
    uint8_t *data;
};

/*
 * An internal snapshot as its entry in the snapshot table describes it
 * (qcow2.txt "Snapshot table entry"): its own L1 table, the names the user
 * gave it, the times QEMU records, and the disk size at the time it was
 * taken.  Every cluster its L1 table reaches carries one reference for it
 * (qcow2.txt "Snapshots"), which is why writes to the active image copy
 * shared clusters first (qcow2_io.c).
 */
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
 * directory, plus its bits once loaded.  One bit covers 2^gran_bits bytes
 * of the guest disk; a set bit means "changed since the bitmap was
 * created", which is what an incremental backup copies. */
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

/*
 * The driver's state for one open qcow2 image.  The first group is the
 * header as read and the geometry validate_header() derived from it, kept
 * here so that no other file recomputes a shift or a mask; then the tables
 * every access needs (L1 and refcount table, in host byte order), the
 * caches, the allocator's state, the extensions, snapshots and bitmaps,
 * and scratch buffers sized by the cluster size.
 */
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
    /* L2 tables and refcount blocks, each in its own cache so that a
     * long run of L2 lookups cannot push out the refcount block an
     * allocation is about to need. */
    struct qc_cache_slot l2c[QC_CACHE_SLOTS];
    struct qc_cache_slot rbc[QC_CACHE_SLOTS];
    uint64_t lru;
    /* The allocator's state (qcow2_refcount.c): where to start looking
     * for free clusters, and where the used part of the file ends. */
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
    /* The bitmaps' size follows the disk's; a resize changes both. */
    uint64_t bm_size; /* the disk size the bitmaps are sized for */
    bool bm_stale;    /* a bitmaps extension without autoclear bit 0 */
    /* External data file (qcow2.txt "Header", incompatible bit 2 "External
     * data file bit" and autoclear bit 1 "Raw external data bit";
     * qcow2_data.c). */
    bool data_file;       /* guest clusters live in dio, at their guest offset */
    bool data_raw;        /* dio must stay a valid raw image of the disk */
    struct img_io dio;    /* the data file; dio.read == NULL: not opened */
    char data_name[1024]; /* its name, from the "External data file name"
                             header extension ("" if there is none) */
    /* The file dio really is: data_name, or the file the opener named
     * instead (QEMU's "data-file" option, img_open_opts); messages about
     * guest data and qemu-img map name this one. */
    char data_path[1024];
};

/*
 * An open image: its environment and backend, its name for messages, its
 * format and the handle of its backing file.  q is NULL for raw images.
 * err holds the message of the last failure (img_fail()), which the CLI
 * prints and hv logs.
 */
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

/*
 * ---- helpers (img.c) ----
 *
 * img_fail() and err_set() record a message and return the negative
 * code; io_*() wrap the backend and word its failures, naming the file.
 */
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

/*
 * ---- byte order: qcow2 is big-endian throughout (qcow2.txt "General") ----
 *
 * Byte by byte, so that the same code is right on any host and needs no
 * aligned access: a header field or a table entry in a buffer may lie at
 * any offset.
 */
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

/* Clusters (or tables, or sectors) needed for a bytes in units of b,
 * without the a + b - 1 that overflows for sizes near 2^64. */
static inline uint64_t div_up(uint64_t a, uint64_t b)
{
    return a / b + (a % b != 0);
}

/*
 * ---- qcow2 (qcow2_*.c) ----
 *
 * The driver's entry points, called by img.c for qcow2 images: open and
 * close (qcow2_open.c), reads and writes (qcow2_io.c).
 */
/* opts: the opener's img_open_opts (the data file to use instead of the
 * header's), or NULL. */
int qc_open(struct img *img, const struct img_open_opts *opts);
int qc_open_rw(struct img *img);
void qc_close(struct img *img);
int qc_read(struct img *img, uint64_t off, void *buf, size_t len);
int qc_write(struct img *img, uint64_t off, const void *buf, size_t len);
int qc_write_zeroes(struct img *img, uint64_t off, uint64_t len, unsigned flags);
int qc_flush(struct img *img);
int qc_update_header(struct img *img);
int qc_mark_dirty(struct img *img);

/*
 * L2 access (qcow2_l2.c).  An L2 entry is 8 bytes, or 16 with extended L2
 * entries, where the second half is the subcluster bitmap (qcow2.txt "L2
 * table entry", "Extended L2 Entries"); these calls hide the difference.
 */
int qc_l2_load(struct img *img, uint64_t l2_off, uint8_t **table);
void qc_l2_entry(struct img *img, const uint8_t *table, uint64_t idx, uint64_t *entry,
                 uint64_t *subcluster_bitmap);
int qc_l2_set(struct img *img, uint64_t l2_off, uint64_t idx, uint64_t entry,
              uint64_t subcluster_bitmap);
/* Change entry idx of the L2 table at l2_off (ours to change) to entry and
 * subcluster_bitmap, with the entry it held before in *old_entry: the
 * caller frees what that pointed at once nothing points there. */
int qc_l2_replace(struct img *img, uint64_t l2_off, uint64_t idx, uint64_t entry,
                  uint64_t subcluster_bitmap, uint64_t *old_entry);
/* Make the L2 table of L1 index l1i writable (COPIED), allocating it. */
int qc_l2_load_for_write(struct img *img, uint64_t l1_index, uint64_t *l2_table_off);
int qc_rb_load(struct img *img, uint64_t rb_off, uint8_t **block);
int qc_snap_load(struct img *img);
/* QEMU's qcow2_validate_table for a snapshot's L1 table: 0, or a
 * refusal with QEMU's words ("Snapshot L1 table offset invalid"). */
int qc_snap_l1_usable(struct img *img, const struct qc_snapshot *s);
void qc_snap_free(struct img *img);
/* The index of snapshot `key`, by id first, then by name (QEMU's order),
 * or -1. */
int qc_snap_find(struct qcow2 *q, const char *key);
/* A snapshot's L1 table in a new buffer, host byte order, every L2
 * offset checked (qcow2_snapshot.c). */
int qc_snap_read_l1(struct img *img, uint64_t off, uint32_t entries, uint64_t **out);
/* Where the VM state of a disk of `disk_size` bytes starts: the first L1
 * entry past the disk (qcow2_vmstate.c). */
uint64_t qc_vmstate_offset(const struct qcow2 *q, uint64_t disk_size);
/* Bytes of the snapshot table as the in-memory list serializes. */
uint64_t qc_snap_table_size(const struct qcow2 *q);
int qc_snap_upgrade(struct img *img);
int qc_repair_dirty(struct img *img);
int qc_resize(struct img *img, uint64_t new_size, int prealloc, bool allow_shrink);
/* A new active L1 table of new_entries entries, switched in with one
 * header write (qcow2_resize.c). */
int qc_grow_l1(struct img *img, uint64_t new_entries);
/* Unmap every cluster of the active tree at or past guest offset `from`:
 * a shrink's tail, or the VM state area after a snapshot took it. */
int qc_discard_from(struct img *img, uint64_t from);
/* Before preallocating from an old end inside a cluster over a backing
 * file: write that cluster whole, its head copied up (qcow2_resize.c). */
int qc_cow_head(struct img *img, uint64_t from, uint64_t to);
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
/*
 * refcounts (qcow2_refcount.c).  Every host cluster has a refcount: how
 * many references the active image, its snapshots and the metadata hold
 * on it (qcow2.txt "Host cluster management").  0 is free, 1 is owned by
 * one user (the COPIED flag), more is shared.  Allocation raises a
 * refcount on disk before the cluster is used.
 */
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
/* Allocate size bytes for compressed data, packed after the previous
 * compressed cluster (q->comp_next) where it fits, as QEMU packs them. */
int qc_alloc_bytes(struct img *img, uint64_t size, uint64_t *off);
/* Free the clusters a (non-zero) L2 entry points at. */
int qc_free_l2_entry_clusters(struct img *img, uint64_t e);

/* External data files (qcow2_data.c). */
int qc_data_open(struct img *img, const struct img_open_opts *opts);
void qc_data_close(struct img *img);
int qc_data_read(struct img *img, uint64_t off, void *buf, size_t len);
int qc_data_write(struct img *img, uint64_t off, const void *buf, size_t len);
/* The host offset of a normal cluster must be its guest offset. */
int qc_data_check_host(struct img *img, uint64_t guest_cluster, uint64_t host);
/* Raw data file: zeros written there before the L2 entries say zero. */
int qc_data_zero(struct img *img, uint64_t off, uint64_t len);
int qc_data_flush(struct img *img);
/* Grow or shrink the data file with the disk; preallocate [from, to). */
int qc_data_resize(struct img *img, uint64_t new_size);
int qc_data_preallocate(struct img *img, uint64_t from, uint64_t to, int mode);
/* Record the data file's name in the header extension (create, amend). */
int qc_data_set_name(struct img *img, const char *name);
/* Turn a new, empty image into one with a data file (create). */
int qc_data_attach(struct img *img, const struct img_io *dio, const char *name, bool raw);

/*
 * Does a (non-compressed) L2 entry point at a host cluster?  Normally the
 * offset is non-zero then; with an external data file offset 0 is a valid
 * host offset (guest cluster 0), marked by bit 63 (qcow2.txt "Standard
 * Cluster Descriptor": "The offset may only be 0 with bit 63 set
 * (indicating a host cluster offset of 0) when an external data file is
 * used").
 */
static inline bool qc_has_host(const struct qcow2 *q, uint64_t e)
{
    if (e & QE_COMPRESSED)
        return false;
    return (e & QE_OFFSET) || (q->data_file && (e & QE_COPIED));
}

/*
 * Compressed descriptor helpers (qcow2.txt "Compressed Clusters
 * Descriptor"): bits 0 to x-1 are the host offset of the compressed data,
 * bits x to 61 the number of additional 512-byte sectors it occupies, with
 * x = 62 - (cluster_bits - 8).  The data starts anywhere within its first
 * sector; the length counts from there to the end of its last sector.
 */
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
