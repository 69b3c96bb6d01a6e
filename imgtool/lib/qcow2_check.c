/*
 * qcow2_check.c: consistency check and repair (qemu-img check [-r]).
 *
 * The check recomputes every host cluster's reference count from scratch by
 * walking everything that can point at a cluster (qcow2.txt "Host cluster
 * management"): the header cluster, the active L1 table and its L2 tables
 * and data clusters, each snapshot's L1 table with its tree, the snapshot
 * table, the refcount table and its blocks.  The recomputed counts are then
 * compared with the stored ones, with QEMU 7.2's wording for each finding:
 * a stored count too high is a leak (harmless, wastes space), too low is a
 * corruption (a later free would release a cluster still in use).
 *
 * Repairs come in QEMU's two strengths.  -r leaks lowers counts that are
 * too high, which can only ever free clusters nothing uses.  -r all also
 * raises counts that are too low and fixes the few metadata errors that
 * have a safe repair; when the refcount structure itself cannot be
 * trusted (a count of 0 for a cluster in use, a damaged table entry, a
 * refcount block counted wrongly), it is rebuilt whole from the recount
 * rather than patched entry by entry.  Anything else (a bad L2 offset, a
 * reserved bit) is reported and left alone: no repair could know which
 * of its bits is the wrong one.
 *
 * The messages, their order and the counts in the result are QEMU 7.2's,
 * so that `check` prints what `qemu-img check` prints for the same image
 * (the interop tests compare the two).
 *
 * Reading order: check_impl() at the end runs the steps.  The recount is
 * calculate(), which walks the trees (walk_l1(), walk_l2()), the snapshot
 * table, the refcount table, the bitmaps and last the refcount blocks
 * (check_refblocks()), counting each reference with inc_range().
 * compare() sets the recount against the stored counts and repairs them
 * one by one; rebuild_and_recount() instead writes a whole new structure
 * (plan_structure(), write_rebuilt_blocks(), switch_to_rebuilt_table())
 * and recounts to free the old one.  check_copied() then sets the COPIED
 * flags from the repaired counts.  qc_repair_dirty() is the same check
 * run at open for a dirty lazy-refcounts image.
 */
#include "internal.h"

/* The state of one check: the result being filled in, and the recount. */
struct chk {
    struct img *img;
    struct img_check_result *res;
    /* Recomputed reference count per host cluster.  32 bits are enough:
     * a count past the image's refcount width, or past 2^32 - 1 (which
     * would take billions of L2 entries), is reported as an overflow
     * instead of stored (see inc_range()). */
    uint32_t *ref;
    /* The length of `ref`: the clusters in the file, or more once a range
     * ran into the partial last cluster or a rebuild claimed clusters
     * past the end. */
    uint64_t nb;
    uint64_t flen; /* bytes in the file */
    bool stats;    /* collect the allocation statistics (first pass only) */
    unsigned fix;  /* repairs allowed while counting (first pass only) */
    bool rebuild;  /* the refcount structure must be rebuilt */
};

/*
 * One line of the check's report, through the environment's callback: the
 * library prints nothing itself (it also runs inside hv, without stdio),
 * and the CLI prints each line as qemu-img would.  Without a callback the
 * check runs silently, which qc_repair_dirty()'s dry run relies on.
 */

static void report(struct img *img, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(struct img *img, const char *fmt, ...)
{
    /* Long enough for every message of the check but one that names a
     * very long snapshot id or name, which is cut, never overrun. */
    char line[256];
    va_list ap;
    if (!img->env->report)
        return;
    va_start(ap, fmt);
    kvsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    img->env->report(img->env->ctx, line);
}

static int grow_ref(struct chk *c, uint64_t n);

/*
 * Count one more reference to every cluster of [off, off+len) (QEMU's
 * qcow2_inc_refcounts_imrt; "imrt" is its in-memory refcount table, which
 * c->ref is here).  The last cluster of an image may be only
 * partly written, so a range may end less than one cluster past the end
 * of the file; anything further is a corruption and counts nothing.
 */
static void inc_range(struct chk *c, uint64_t off, uint64_t len)
{
    struct qcow2 *q = c->img->q;
    if (!len)
        return;
    /* flen, not nb: after a repair that grew the file, nb may already
     * count clusters the file did not have when the range was found. */
    if (off + len > c->flen && off + len - c->flen >= q->cluster_size) {
        report(c->img,
               "ERROR: counting reference for region exceeding the end of the file by one "
               "cluster or more: offset 0x%llx size 0x%llx",
               (unsigned long long)off, (unsigned long long)len);
        c->res->corruptions++;
        return;
    }
    for (uint64_t i = off >> q->cluster_bits; i <= (off + len - 1) >> q->cluster_bits; i++) {
        /* The partial last cluster may lie one past the array's end. */
        if (i >= c->nb && grow_ref(c, i + 1) < 0) {
            c->res->check_errors++;
            return;
        }
        /* A count the image's refcount width cannot hold (1-bit
         * refcounts and a cluster referenced twice): reported per
         * cluster, with QEMU's advice, and not counted further.  The
         * advice names this program, as QEMU's names qemu-img. */
        if (c->ref[i] >= q->rc_max || c->ref[i] == UINT32_MAX) {
            report(c->img, "ERROR: overflow cluster offset=0x%llx",
                   (unsigned long long)(i << q->cluster_bits));
            const char *tool = c->img->env->tool_name ? c->img->env->tool_name : "imgtool";
            report(c->img,
                   "Use %s amend to increase the refcount entry width or %s convert to create "
                   "a clean copy if the image cannot be opened for writing",
                   tool, tool);
            c->res->corruptions++;
            continue;
        }
        c->ref[i]++;
    }
}

/*
 * A compressed entry: its stream holds one reference on every host cluster
 * its sectors touch (qcow2.txt "Compressed Clusters Descriptor": the
 * offset is rounded down to its 512-byte sector, and the data "may reside
 * in the next contiguous host cluster").
 */
static void count_compressed(struct chk *c, uint64_t l2_index, uint64_t entry, uint64_t sc_bitmap,
                             bool active)
{
    struct qcow2 *q = c->img->q;
    /* "Compressed clusters don't have subclusters" (qcow2.txt "Subcluster
     * Allocation Bitmap": for compressed clusters, all 64 bits reserved). */
    if (q->ext_l2 && sc_bitmap) {
        report(c->img, "ERROR: compressed cluster %llu has a non-zero subcluster bitmap",
               (unsigned long long)l2_index);
        c->res->corruptions++;
    }
    /* From the start of the first sector to the end of the data: the
     * range qc_free_l2_entry_clusters() releases too. */
    inc_range(c, qc_comp_off(q, entry) & ~511ull,
              qc_comp_len(q, entry) + (qc_comp_off(q, entry) & 511));
    if (active) {
        c->res->allocated_clusters++;
        c->res->compressed_clusters++;
        /* Compressed clusters count as fragmented, as in QEMU. */
        c->res->fragmented_clusters++;
    }
}

/*
 * A standard entry whose host offset is not cluster aligned: always a
 * corruption, reported in QEMU's words.  A preallocated zero cluster holds
 * no data, so with IMG_CHECK_FIX_ERRORS (the first pass only) its entry
 * loses the bad offset and stays a zero cluster; the return value says
 * whether it was repaired, in which case nothing is counted for it.
 */
static bool unaligned_entry(struct chk *c, uint64_t l2_off, uint64_t l2_index, uint64_t entry,
                            uint64_t sc_bitmap)
{
    struct qcow2 *q = c->img->q;
    uint64_t host_off = entry & QE_OFFSET;
    /* Does the entry claim data at that offset?  With extended L2 that is
     * any allocated subcluster; otherwise anything but a zero cluster. */
    bool data = q->ext_l2 ? (sc_bitmap & 0xffffffffull) != 0 : !(entry & QE_ZERO);
    c->res->corruptions++;
    if (data) {
        report(c->img,
               "ERROR offset=%llx: Data cluster is not properly aligned; L2 entry "
               "corrupted.",
               (unsigned long long)host_off);
        return false;
    }
    /* No read uses the offset of a cluster without data: dropping it
     * changes nothing the guest sees, so -r all may do it. */
    bool fix = c->fix & IMG_CHECK_FIX_ERRORS;
    report(c->img,
           "%s offset=%llx: Preallocated cluster is not properly aligned; L2 "
           "entry corrupted.",
           fix ? "Repairing" : "ERROR", (unsigned long long)host_off);
    /* Only the bad offset goes: with extended L2 the bitmap
     * stays as it is (its zero bits still say which
     * subclusters read as zeros, the others keep reading from
     * the backing file), as QEMU repairs it. */
    if (fix && qc_l2_set(c->img, l2_off, l2_index, q->ext_l2 ? 0 : QE_ZERO, sc_bitmap) == 0) {
        c->res->corruptions--;
        c->res->corruptions_fixed++;
        return true;
    }
    return false;
}

/*
 * Walk one L2 table: count the references its entries make, and report
 * what is wrong with each entry in QEMU's order and words (qcow2-refcount.c,
 * check_refcounts_l2).  `active` adds the allocation statistics (check's
 * "allocated", "fragmented" and "compressed" figures describe the active
 * disk only).
 */
static int walk_l2(struct chk *c, uint64_t l2_off, bool active)
{
    struct qcow2 *q = c->img->q;
    /* The host offset the next entry would have if the disk were laid
     * out contiguously: a different one counts as fragmented. */
    uint64_t next_host = 0;
    uint8_t *l2_table;
    for (uint64_t l2_index = 0; l2_index < q->l2_entries; l2_index++) {
        uint64_t entry, sc_bitmap;
        /* Reloaded per entry: a repair below writes through the cache. */
        if (qc_l2_load(c->img, l2_off, &l2_table) < 0) {
            c->res->check_errors++;
            return -1;
        }
        qc_l2_entry(c->img, l2_table, l2_index, &entry, &sc_bitmap);
        /* "neither compressed clusters nor internal snapshots are
         * supported" with a data file (qcow2.txt "Header", incompatible
         * bit 2): QEMU's check_refcounts_l2 reports such an entry. */
        if ((entry & QE_COMPRESSED) && q->data_file) {
            report(c->img, "ERROR compressed cluster %llu with data file, entry=0x%llx",
                   (unsigned long long)l2_index, (unsigned long long)entry);
            c->res->corruptions++;
            continue;
        }
        if (entry & QE_COMPRESSED) {
            count_compressed(c, l2_index, entry, sc_bitmap, active);
            continue;
        }
        /* Bits 1..8 and 56..61 of a standard descriptor are reserved
         * (qcow2.txt "Standard Cluster Descriptor"); QEMU reports them for
         * every entry, allocated or not, and repairs nothing. */
        if (entry & QL2_RESERVED) {
            report(c->img, "ERROR found l2 entry with reserved bits set: %llx",
                   (unsigned long long)entry);
            c->res->corruptions++;
        }
        uint64_t host_off = entry & QE_OFFSET;
        if (!qc_has_host(q, entry))
            continue;
        /* A subcluster cannot be both allocated and "reads as zeros"
         * (qcow2.txt "Extended L2 Entries": "In this case the allocation
         * status bit must be unset").  QEMU reports it and repairs nothing:
         * which of the two bits is wrong cannot be known. */
        if (q->ext_l2 && ((sc_bitmap >> 32) & sc_bitmap & 0xffffffffull)) {
            report(c->img,
                   "ERROR offset=%llx: Allocated cluster has corrupted subcluster allocation "
                   "bitmap",
                   (unsigned long long)host_off);
            c->res->corruptions++;
        }
        /* An unaligned offset is reported; QEMU still counts the
         * clusters the misplaced cluster overlaps (qcow2-refcount.c,
         * check_refcounts_l2).  A preallocated zero cluster holds no data,
         * so -r all turns it into a plain zero cluster instead (with
         * extended L2: an unallocated one whose zero bits stay). */
        if ((host_off & (q->cluster_size - 1)) &&
            unaligned_entry(c, l2_off, l2_index, entry, sc_bitmap))
            continue;
        /* "allocated" counts every mapped cluster of the active disk;
         * "fragmented" those that do not follow the previous one in the
         * file, as QEMU counts them for its statistics line. */
        if (active) {
            c->res->allocated_clusters++;
            if (next_host && host_off != next_host)
                c->res->fragmented_clusters++;
            next_host = host_off + q->cluster_size;
        }
        /* Clusters in a data file are not refcounted (qcow2.txt "Header",
         * incompatible bit 2). */
        if (!q->data_file)
            inc_range(c, host_off, q->cluster_size);
    }
    return 0;
}

/*
 * Walk one L1 table of `l1_entries` entries at `l1_off`: count the table's
 * own clusters, then each L2 table it names and everything that table
 * maps.  The active table is passed in memory (`l1_in_memory`, as loaded
 * at open); a snapshot's is read from the file entry by entry, so a
 * damaged snapshot entry costs no allocation of its claimed size.
 */
static int walk_l1(struct chk *c, uint64_t l1_off, uint64_t l1_entries,
                   const uint64_t *l1_in_memory, bool active)
{
    struct qcow2 *q = c->img->q;
    /* The table's own clusters first: one contiguous range (qcow2.txt
     * "Cluster mapping": the L1 table "must be contiguous in the image
     * file"). */
    inc_range(c, l1_off, l1_entries * 8);
    for (uint64_t l1_index = 0; l1_index < l1_entries; l1_index++) {
        uint64_t l1_entry;
        if (l1_in_memory) {
            l1_entry = l1_in_memory[l1_index];
        } else {
            uint8_t raw[8];
            if (io_read(c->img, l1_off + l1_index * 8, raw, 8) < 0) {
                c->res->check_errors++;
                return -1;
            }
            l1_entry = be64(raw);
        }
        /* Bits 9-55 (qcow2.txt "L1 table entry"); 0: no L2 table. */
        uint64_t l2_off = l1_entry & QE_OFFSET;
        if (!l2_off)
            continue;
        /* An L2 table is one whole cluster inside the file; QEMU reports
         * any other offset and does not follow it, since reading a
         * "table" there would count references from arbitrary bytes. */
        if (l2_off & (q->cluster_size - 1) || l2_off >= c->nb << q->cluster_bits) {
            report(c->img,
                   "ERROR l2_offset=%llx: Table is not cluster aligned or outside the "
                   "image; L1 entry corrupted",
                   (unsigned long long)l2_off);
            c->res->corruptions++;
            continue;
        }
        inc_range(c, l2_off, q->cluster_size);
        walk_l2(c, l2_off, active);
    }
    return 0;
}

/* How an OFLAG_COPIED finding is reported: repaired, or only found. */
static const char *copied_verb(unsigned fix)
{
    return (fix & IMG_CHECK_FIX_ERRORS) ? "Repairing" : "ERROR";
}

/*
 * The COPIED flags of one L2 table's entries (QEMU's check_oflag_copied,
 * its second half): each data entry's flag must say whether its cluster's
 * stored refcount is exactly 1.  Returns -1 if a refcount or the table
 * cannot be read.
 */
static int check_l2_copied(struct chk *c, uint64_t l2_off, unsigned fix)
{
    struct img *img = c->img;
    struct qcow2 *q = img->q;
    uint8_t *l2_table;
    uint64_t rc;
    for (uint64_t l2_index = 0; l2_index < q->l2_entries; l2_index++) {
        uint64_t entry, sc_bitmap;
        if (qc_l2_load(img, l2_off, &l2_table) < 0)
            return -1;
        qc_l2_entry(img, l2_table, l2_index, &entry, &sc_bitmap);
        /* The stored refcount decides, not the recount: by now the
         * refcounts are repaired (or reported as wrong). */
        uint64_t host_off = entry & QE_OFFSET;
        /* Every allocated entry, even one pointing past the end or
         * unaligned, as QEMU's check_oflag_copied does.  Compressed
         * entries never carry the flag (qcow2.txt "L2 table entry", bit
         * 63: "0 for clusters that are unused, compressed or require
         * COW"). */
        if (!qc_has_host(q, entry))
            continue;
        /* A data file's clusters have no refcount; QEMU takes it as 1, so
         * they must all carry the flag (check_oflag_copied). */
        if (q->data_file)
            rc = 1;
        else if (qc_rc_get(img, host_off >> q->cluster_bits, &rc) < 0)
            return -1;
        if ((rc == 1) != !!(entry & QE_COPIED)) {
            report(img, "%s OFLAG_COPIED data cluster: l2_entry=%llx refcount=%llu",
                   copied_verb(fix), (unsigned long long)entry, (unsigned long long)rc);
            /* Also in an L2 table shared with a snapshot, as QEMU's
             * check_oflag_copied: the flag describes the data
             * cluster's refcount, the same for every table. */
            if (fix & IMG_CHECK_FIX_ERRORS) {
                if (qc_l2_set(img, l2_off, l2_index,
                              rc == 1 ? entry | QE_COPIED : entry & ~QE_COPIED, sc_bitmap) < 0)
                    return -1;
                c->res->corruptions_fixed++;
            } else {
                c->res->corruptions++;
            }
        }
    }
    return 0;
}

/*
 * COPIED must be set exactly on entries whose cluster has refcount 1
 * (qcow2.txt "L1 table entry" and "L2 table entry", bit 63), in the active
 * tree, the only one where the flags are accurate.  A flag set wrongly
 * lets a write go in place into a shared cluster, changing a snapshot; a
 * flag missing only costs a needless copy.  Both are corruptions to QEMU,
 * and both are repaired with IMG_CHECK_FIX_ERRORS by setting the flag from
 * the stored refcount, which by then is right (this runs after the
 * refcount repair).
 */
static int check_copied(struct chk *c, unsigned fix)
{
    struct img *img = c->img;
    struct qcow2 *q = img->q;
    for (uint64_t l1_index = 0; l1_index < q->h.l1_size; l1_index++) {
        uint64_t l2_off = q->l1[l1_index] & QE_OFFSET, rc;
        if (!l2_off)
            continue;
        if (qc_rc_get(img, l2_off >> q->cluster_bits, &rc) < 0)
            return -1;
        if ((rc == 1) != !!(q->l1[l1_index] & QE_COPIED)) {
            report(img, "%s OFLAG_COPIED L2 cluster: l1_index=%llu l1_entry=%llx refcount=%llu",
                   copied_verb(fix), (unsigned long long)l1_index,
                   (unsigned long long)q->l1[l1_index], (unsigned long long)rc);
            if (fix & IMG_CHECK_FIX_ERRORS) {
                /* One 8-byte write of the entry, as everywhere in the
                 * library: the entry is either old or new after a crash. */
                uint8_t raw[8];
                uint64_t new_entry =
                    rc == 1 ? (q->l1[l1_index] | QE_COPIED) : (q->l1[l1_index] & ~QE_COPIED);
                put64(raw, new_entry);
                if (io_write(img, q->h.l1_table_offset + l1_index * 8, raw, 8) < 0)
                    return -1;
                q->l1[l1_index] = new_entry;
                c->res->corruptions_fixed++;
            } else {
                c->res->corruptions++;
            }
        }
        /* A table outside the file reads as zeroes in QEMU: no entries.
         * An unaligned one was reported by the walk; it is not read. */
        if ((l2_off >> q->cluster_bits) >= c->nb || (l2_off & (q->cluster_size - 1)))
            continue;
        /* The data entries of a shared table are checked too (see
         * check_l2_copied()). */
        if (check_l2_copied(c, l2_off, fix) < 0)
            return -1;
    }
    return 0;
}

/*
 * Give the recounted references room for clusters up to n (the file grew,
 * or a range ends in the partial last cluster).  The new counts start at
 * 0 (img_alloc() zeroes); the array is reallocated whole, a rare event.
 */
static int grow_ref(struct chk *c, uint64_t n)
{
    uint32_t *new_ref;
    if (n <= c->nb)
        return 0;
    new_ref = img_alloc(c->img->env, (size_t)n * sizeof(uint32_t));
    if (!new_ref)
        return img_fail(c->img, IMG_ENOMEM, "Out of memory");
    memcpy(new_ref, c->ref, (size_t)c->nb * sizeof(uint32_t));
    img_free(c->img->env, c->ref);
    c->ref = new_ref;
    c->nb = n;
    return 0;
}

/*
 * A refcount block that lies past the end of the file (table entry
 * `rt_index`, at `block_off`): a corruption, which -r all repairs by
 * growing the file to hold the block, as QEMU does.  The block then reads
 * as the zeros it read as before, so no count changes; the rebuild that
 * follows moves the counting elsewhere and frees the cluster as a leak.
 */
static void block_past_end(struct chk *c, uint64_t rt_index, uint64_t block_off)
{
    struct img *img = c->img;
    struct qcow2 *q = img->q;
    uint64_t block_cluster = block_off >> q->cluster_bits;
    bool fix = c->fix & IMG_CHECK_FIX_ERRORS;
    int r = -IMG_ENOTSUP;
    c->res->corruptions++;
    report(img, "%s refcount block %llu is outside image", fix ? "Repairing" : "ERROR",
           (unsigned long long)rt_index);
    if (!fix)
        return;
    /* Without truncate() the file cannot grow: the repair fails, and the
     * structure is rebuilt instead. */
    if (img->io.truncate)
        r = img->io.truncate(img->io.ctx, block_off + q->cluster_size);
    if (r == 0)
        r = grow_ref(c, block_cluster + 1);
    if (r < 0) {
        c->rebuild = true;
        report(img, "ERROR could not resize image: %s",
               r == -IMG_ENOMEM ? "Cannot allocate memory" : "Input/output error");
        return;
    }
    /* The file now ends after the block, and the allocator must not hand
     * out the block's cluster as free. */
    c->flen = block_off + q->cluster_size;
    if (block_cluster + 1 > q->alloc_end)
        q->alloc_end = block_cluster + 1;
    c->res->corruptions--;
    c->res->corruptions_fixed++;
    inc_range(c, block_off, q->cluster_size);
}

/*
 * Count the refcount blocks themselves, checking each table entry (QEMU's
 * check_refblocks, same order and wording).  An entry with reserved bits
 * set (qcow2.txt "Refcount table entry": bits 0..8) is not trusted and its
 * block not counted; either way the structure must be rebuilt.  A block
 * past the end of the file is, when repairing errors, made real by growing
 * the file to hold it (its refcounts then read as the zeroes they already
 * read as), so the rebuild sees one more cluster in use and frees it as
 * a leak once the new structure no longer points to it.
 */
static int check_refblocks(struct chk *c)
{
    struct img *img = c->img;
    struct qcow2 *q = img->q;
    for (uint64_t rt_index = 0; rt_index < q->rt_entries; rt_index++) {
        uint64_t block_off = q->rt[rt_index] & ~0x1ffull;
        uint64_t block_cluster = block_off >> q->cluster_bits;
        /* The structure cannot be trusted then: rebuilt under -r all. */
        if (q->rt[rt_index] & 0x1ff) {
            report(img, "ERROR refcount table entry %llu has reserved bits set",
                   (unsigned long long)rt_index);
            c->res->corruptions++;
            c->rebuild = true;
            continue;
        }
        /* The open refused unaligned entries, so only the end remains. */
        if (block_cluster >= c->nb) {
            block_past_end(c, rt_index, block_off);
            continue;
        }
        if (!block_off)
            continue;
        inc_range(c, block_off, q->cluster_size);
        /* A block is used by the table alone: any other count means it
         * is also mapped as data or as another table, and a write to
         * either would change refcounts behind the other's back. */
        if (c->ref[block_cluster] != 1) {
            report(img, "ERROR refcount block %llu refcount=%llu", (unsigned long long)rt_index,
                   (unsigned long long)c->ref[block_cluster]);
            c->res->corruptions++;
            c->rebuild = true;
        }
    }
    return 0;
}

/* inc_range for qc_bitmaps_refs. */
static void inc_cb(void *ctx, uint64_t off, uint64_t len)
{
    inc_range(ctx, off, len);
}

/*
 * Count each snapshot's tree.  A snapshot entry whose L1 table cannot be
 * followed is itself the corruption (QEMU's qcow2_check_refcounts, same
 * words); its tree is not counted, so its clusters show up as leaks.
 */
static void count_snapshots(struct chk *c)
{
    struct qcow2 *q = c->img->q;
    for (int i = 0; i < q->nb_snaps; i++) {
        const struct qc_snapshot *snap = &q->snaps[i];
        /* The two checks of qc_snap_l1_usable(), reported here instead of
         * refused, so that the rest of the image is still checked. */
        if (snap->l1_offset & (q->cluster_size - 1)) {
            report(c->img,
                   "ERROR snapshot %s (%s) l1_offset=%#llx: L1 table is not cluster aligned; "
                   "snapshot table entry corrupted",
                   snap->id, snap->name, (unsigned long long)snap->l1_offset);
            c->res->corruptions++;
            continue;
        }
        if ((uint64_t)snap->l1_size * 8 > QCOW_MAX_L1_SIZE) {
            report(c->img,
                   "ERROR snapshot %s (%s) l1_size=%#x: L1 table is too large; snapshot table "
                   "entry corrupted",
                   snap->id, snap->name, (unsigned)snap->l1_size);
            c->res->corruptions++;
            continue;
        }
        /* Not `active`: the statistics describe the active disk only. */
        walk_l1(c, snap->l1_offset, snap->l1_size, NULL, false);
    }
}

/*
 * Recount every reference into c->ref, sized for the file as it is now
 * (a repair may have grown it).  The order is QEMU's, which decides the
 * order of the messages: header, active tree, snapshots, snapshot table,
 * refcount table, bitmaps, and last the refcount blocks, whose own check
 * needs every other reference counted first.
 */
static int calculate(struct chk *c)
{
    struct img *img = c->img;
    struct qcow2 *q = img->q;
    uint64_t file_size;
    if (io_size(img, &file_size) < 0)
        return -IMG_EIO;
    img_free(img->env, c->ref);
    c->nb = div_up(file_size, q->cluster_size);
    c->flen = file_size;
    c->ref = img_alloc(img->env, (size_t)(c->nb ? c->nb : 1) * sizeof(uint32_t));
    if (!c->ref)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    /* The header cluster (qcow2.txt "Header": "The first cluster of a
     * qcow2 image contains the file header"). */
    inc_range(c, 0, q->cluster_size);
    walk_l1(c, q->h.l1_table_offset, q->h.l1_size, q->l1, c->stats);
    count_snapshots(c);
    /* The snapshot table exists only with snapshots; the refcount table
     * is whole clusters, as many as the header says. */
    if (q->nb_snaps)
        inc_range(c, q->h.snapshots_offset, qc_snap_table_size(q));
    inc_range(c, q->h.refcount_table_offset,
              (uint64_t)q->h.refcount_table_clusters << q->cluster_bits);
    /* The bitmap directory, tables and data (qcow2_check_bitmaps_refcounts). */
    int r = qc_bitmaps_refs(img, inc_cb, c);
    if (r < 0)
        return r;
    return check_refblocks(c);
}

/*
 * A cluster whose leaked refcount was just repaired to 0: QEMU frees it
 * with QCOW2_DISCARD_ALWAYS (qcow2-refcount.c, compare_refcounts), which
 * punches a hole in the file, so it reads as zeroes afterwards.  The
 * library's backends have no discard, so the same contents are produced
 * by writing zeroes (only if the cluster is not all zeroes already).  The
 * caches may hold the cluster as an old table: they forget it first.
 * Matching QEMU's contents keeps the repaired file equal to the one
 * qemu-img check -r leaves.
 */
static int zap_cluster(struct img *img, uint64_t cluster)
{
    struct qcow2 *q = img->q;
    uint64_t off = cluster << q->cluster_bits;
    bool zero = true;
    int r;
    qc_cache_drop(img, q->rbc, off);
    qc_cache_drop(img, q->l2c, off);
    /* q->tmp is the handle's scratch cluster, free during a check. */
    if ((r = io_read(img, off, q->tmp, q->cluster_size)) < 0)
        return r;
    /* A cluster that reads as zeros already (a hole, or never written)
     * needs no write, which keeps a sparse file sparse. */
    for (uint32_t i = 0; i < q->cluster_size && zero; i++)
        zero = q->tmp[i] == 0;
    if (zero)
        return 0;
    /* A hole punched in the last, partial cluster does not make the file
     * longer: zero only what the file holds. */
    uint64_t file_size, n = q->cluster_size;
    if (io_size(img, &file_size) == 0 && off < file_size && file_size - off < n)
        n = file_size - off;
    memset(q->tmp, 0, q->cluster_size);
    return io_write(img, off, q->tmp, (size_t)n);
}

/*
 * Compare stored and recounted refcounts (QEMU's compare_refcounts).  A
 * stored 0 for a cluster in use cannot be fixed by updating one entry
 * safely (its refcount block may be missing or itself be the problem):
 * that asks for a rebuild of the whole refcount structure.
 *
 * Every other difference is one line of the report: "Leaked" for a count
 * too high, "ERROR" for one too low, "Repairing" for either when `fix`
 * allows its repair (IMG_CHECK_FIX_LEAKS for the first, _ERRORS for the
 * second).  A repair sets the count to the recounted one, so a leaked
 * cluster whose count drops to 0 is free and is zeroed like a discarded
 * one.  *highest gets the last cluster that is in use or counted, for the
 * "Image end offset".
 */
static void compare(struct chk *c, unsigned fix, bool *rebuild, uint64_t *highest)
{
    struct img *img = c->img;
    struct img_check_result *res = c->res;
    for (uint64_t i = 0; i < c->nb; i++) {
        /* rc: what the image stores; ref: what the walk counted. */
        uint64_t rc, ref = c->ref[i];
        /* A count that cannot be read (a damaged block) is neither a
         * finding nor repairable here: a check error. */
        if (qc_rc_get(img, i, &rc) < 0) {
            res->check_errors++;
            continue;
        }
        /* In use by either account: the image ends after it. */
        if (rc || ref)
            *highest = i;
        if (rc == ref)
            continue;
        /* can: this difference may be repaired now.  A stored 0 for a
         * cluster in use is never repaired alone: the allocator would
         * hand the cluster out again, and the block that should count it
         * may not exist.  It calls for the rebuild, and
         * is reported and counted as a corruption here. */
        bool can = false;
        if (rc == 0)
            *rebuild = true;
        else if (rc > ref && (fix & IMG_CHECK_FIX_LEAKS))
            can = true;
        else if (rc < ref && (fix & IMG_CHECK_FIX_ERRORS))
            can = true;
        /* QEMU's words: "Repairing" whatever the kind, else "ERROR" for a
         * count too low and "Leaked" for one too high. */
        report(img, "%s cluster %llu refcount=%llu reference=%llu",
               can        ? "Repairing"
               : rc < ref ? "ERROR"
                          : "Leaked",
               (unsigned long long)i, (unsigned long long)rc, (unsigned long long)ref);
        /* A failed repair is a check error: the finding is neither fixed
         * nor left as it was reported. */
        if (can && qc_rc_set(img, i, ref) == 0 && (ref || zap_cluster(img, i) == 0)) {
            if (rc > ref)
                res->leaks_fixed++;
            else
                res->corruptions_fixed++;
            continue;
        }
        if (can)
            res->check_errors++;
        else if (rc < ref)
            res->corruptions++;
        else
            res->leaks++;
    }
}

/*
 * The first run of n clusters with no reference at or after *first
 * (growing the array past the end of the file as needed); marks them used
 * in the recount, so the next claim and the blocks' contents see them.
 * *first moves past the run when the run started there: the clusters
 * before it are known to be in use, and the next search need not look at
 * them again.  This plays the part of QEMU's alloc_clusters_imrt.
 */
static int claim(struct chk *c, uint64_t n, uint64_t *first, uint64_t *out)
{
    uint64_t i = *first, run = 0;
    for (;; i++) {
        if (i >= c->nb) {
            /* Past the end: extend the array, doubled so that claiming
             * many clusters one by one stays linear.  The new clusters are
             * free (zeroed counts). */
            uint64_t new_nb = c->nb * 2 + n + 16;
            uint32_t *new_ref = img_alloc(c->img->env, (size_t)new_nb * sizeof(uint32_t));
            if (!new_ref)
                return img_fail(c->img, IMG_ENOMEM, "Out of memory");
            memcpy(new_ref, c->ref, (size_t)c->nb * sizeof(uint32_t));
            img_free(c->img->env, c->ref);
            c->ref = new_ref;
            c->nb = new_nb;
        }
        /* run: free clusters in a row, ending at i. */
        run = c->ref[i] ? 0 : run + 1;
        if (run == n)
            break;
    }
    /* The run ends at i; each of its clusters now has the one reference
     * the new structure will make to it. */
    *out = i + 1 - n;
    for (uint64_t k = *out; k <= i; k++)
        c->ref[k] = 1;
    if (*out == *first)
        *first = i + 1;
    return 0;
}

/*
 * Where the rebuilt structure goes (the planning half of QEMU's
 * rebuild_refcount_structure): one refcount block for every range of
 * clusters with any reference in it, then the table, each in the first
 * free clusters (claim).  Placing a block or the table past the last
 * cluster in use can make the structure need one more block, so the plan
 * is redone until the blocks cover everything, the table's own clusters
 * included.  *rt receives the new table's entries (*nentries of them,
 * one per range of rb_entries clusters, 0 for a range without a block),
 * *table_off and *table_clusters the table's place and size.
 */
static int plan_structure(struct chk *c, uint64_t **rt, uint64_t *nentries, uint64_t *table_off,
                          uint64_t *table_clusters)
{
    struct img *img = c->img;
    struct qcow2 *q = img->q;
    /* first: where claim() starts looking for free clusters; each round
     * of the plan starts again from the beginning of the file. */
    uint64_t first = 0;
    int r;
    for (;;) {
        /* One table entry per range of rb_entries clusters up to the last
         * cluster in use (or claimed so far). */
        *nentries = div_up(c->nb, q->rb_entries);
        img_free(img->env, *rt);
        *rt = img_alloc(img->env, (size_t)(*nentries ? *nentries : 1) * 8);
        if (!*rt)
            return img_fail(img, IMG_ENOMEM, "Out of memory");
        first = 0;
        bool grew = false;
        /* One block per range with any reference in it. */
        for (uint64_t range_index = 0; range_index < *nentries && !grew; range_index++) {
            bool any = false;
            for (uint64_t i = range_index * q->rb_entries;
                 i < (range_index + 1) * q->rb_entries && i < c->nb; i++)
                any |= c->ref[i] != 0;
            if (!any)
                continue;
            uint64_t at, before = c->nb;
            if ((r = claim(c, 1, &first, &at)) < 0)
                return r;
            (*rt)[range_index] = at << q->cluster_bits;
            /* A block placed past the last cluster in use moves the end;
             * if the end now needs another table entry, start over. */
            if (at >= before) {
                c->nb = at + 1;
                grew = div_up(c->nb, q->rb_entries) > *nentries;
            }
        }
        if (grew)
            continue;
        /* The table: 8 bytes per entry, whole clusters, contiguous
         * (qcow2.txt "Host cluster management": the refcount table "needs
         * to be contiguous in the image file"). */
        *table_clusters = div_up(*nentries * 8, q->cluster_size);
        uint64_t at, before = c->nb;
        if ((r = claim(c, *table_clusters, &first, &at)) < 0)
            return r;
        *table_off = at << q->cluster_bits;
        if (at + *table_clusters > before)
            c->nb = at + *table_clusters;
        /* Done when the table fits the planned entries and every cluster
         * of it lies in a range that has a block. */
        if (div_up(c->nb, q->rb_entries) == *nentries) {
            bool covered = true;
            for (uint64_t k = at; k < at + *table_clusters; k++)
                covered &= (*rt)[k / q->rb_entries] != 0;
            if (covered)
                return 0;
        }
        /* The table landed where no block was planned: plan again with
         * the table's clusters counted (they stay claimed). */
    }
}

/*
 * Write the planned refcount blocks, each filled from the recounted
 * references of its range (a count the width cannot hold is refused).
 * The blocks go to clusters the recount found free: no table of the
 * image, and no block of the old structure that the check trusted, is
 * overwritten.  Until the header switch they are unused clusters, and a
 * crash here leaves the image as it was before the repair but for them.
 */
static int write_rebuilt_blocks(struct chk *c, const uint64_t *rt, uint64_t nentries)
{
    struct img *img = c->img;
    struct qcow2 *q = img->q;
    uint8_t *block = img_alloc(img->env, q->cluster_size);
    int r = 0;
    if (!block)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    for (uint64_t range_index = 0; range_index < nentries && r == 0; range_index++) {
        uint64_t touched_off;
        size_t touched_len;
        /* A range without any reference gets no block (entry 0: "All
         * refcounts managed by this refcount block are 0"). */
        if (!rt[range_index])
            continue;
        /* Counts past the last cluster in use stay 0: those clusters are
         * free. */
        memset(block, 0, q->cluster_size);
        for (uint64_t i = 0; i < q->rb_entries && range_index * q->rb_entries + i < c->nb; i++) {
            uint64_t v = c->ref[range_index * q->rb_entries + i];
            /* inc_range() stops counting at the width's maximum, so the
             * walk's counts never trip this; it keeps a block from ever
             * holding a count cut to the width. */
            if (v > q->rc_max) {
                r = img_fail(img, IMG_ERANGE, "Reference count overflow while rebuilding");
                break;
            }
            qc_rb_put_entry(q, block, i, v, &touched_off, &touched_len);
        }
        if (r == 0)
            r = io_write(img, rt[range_index], block, q->cluster_size);
    }
    img_free(img->env, block);
    return r;
}

/*
 * Write the new table, switch the header to it with one 12-byte write
 * (refcount_table_offset and refcount_table_clusters are adjacent,
 * qcow2.txt "Header" bytes 48-59), then the in-memory state.
 *
 * The header write is the commit point of the rebuild.  Before it the old
 * structure is in force; after it the new one, complete, and the old
 * structure's clusters are leaks that the recount finds and frees.
 */
static int switch_to_rebuilt_table(struct chk *c, const uint64_t *rt, uint64_t nentries,
                                   uint64_t table_off, uint64_t table_clusters)
{
    struct img *img = c->img;
    struct qcow2 *q = img->q;
    uint64_t table_bytes = table_clusters << q->cluster_bits;
    uint8_t *table = img_alloc(img->env, (size_t)table_bytes), header[12];
    int r;
    if (!table)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    /* The table is written whole: entries past the planned ones are 0
     * (the buffer is zeroed), which the spec reads as "no block". */
    for (uint64_t range_index = 0; range_index < nentries; range_index++)
        put64(table + range_index * 8, rt[range_index]);
    r = io_write(img, table_off, table, (size_t)table_bytes);
    img_free(img->env, table);
    if (r < 0)
        return r;
    put64(header, table_off);
    put32(header + 8, (uint32_t)table_clusters);
    if ((r = io_write(img, QH_RT_OFFSET, header, 12)) < 0)
        return r;
    /* Switch the in-memory state to the new structure: a table of whole
     * clusters (the entries past the planned ones are 0), and a refcount
     * block cache emptied of the old blocks. */
    img_free(img->env, q->rt);
    q->rt_entries = table_clusters * q->cluster_size / 8;
    q->rt = img_alloc(img->env, (size_t)q->rt_entries * 8);
    if (!q->rt)
        return img_fail(img, IMG_ENOMEM, "Out of memory");
    memcpy(q->rt, rt, (size_t)nentries * 8);
    q->h.refcount_table_offset = table_off;
    q->h.refcount_table_clusters = (uint32_t)table_clusters;
    for (int i = 0; i < QC_CACHE_SLOTS; i++)
        q->rbc[i].off = 0;
    /* The plan may have claimed clusters past the old end of the file:
     * the allocator must not take them for free space. */
    if (c->nb > q->alloc_end)
        q->alloc_end = c->nb;
    return 0;
}

/*
 * Write a new refcount structure from the recounted references (QEMU's
 * rebuild_refcount_structure): refcount blocks in the first free clusters,
 * then the table, then one header write switches to them.  The old
 * structure becomes leaked clusters, which the caller then frees.
 *
 * The recount is the only source of truth here: nothing of the old
 * structure is read, since the old structure is what is broken.  The new
 * blocks' own clusters and the table's are counted in the recount as the
 * plan claims them, so the new structure counts itself correctly.
 */
static int rebuild_structure(struct chk *c)
{
    uint64_t nentries = 0, *rt = NULL, table_clusters = 0, table_off = 0, used_end = 0;
    int r;
    /* The recount may have looked past the file end; only the real part
     * matters.  Find the last used cluster. */
    for (uint64_t i = 0; i < c->nb; i++)
        if (c->ref[i])
            used_end = i + 1;
    /* The plan then covers exactly the clusters in use, plus what it
     * claims for itself. */
    c->nb = used_end;
    r = plan_structure(c, &rt, &nentries, &table_off, &table_clusters);
    if (r == 0)
        r = write_rebuilt_blocks(c, rt, nentries);
    if (r == 0)
        r = switch_to_rebuilt_table(c, rt, nentries, table_off, table_clusters);
    img_free(c->img->env, rt);
    return r;
}

static int check_impl(struct img *img, unsigned fix, struct img_check_result *res, int *structural);

/*
 * Clear the dirty and corrupt bits of a repaired image (qcow2.txt
 * "Header", incompatible_features bits 0 and 1), in one 8-byte write of
 * the field.  The in-memory dirty mark goes too: the refcounts are now
 * written back, so nothing is pending.
 */
static int mark_clean(struct img *img)
{
    struct qcow2 *q = img->q;
    uint64_t bits = QF_INCOMPAT_DIRTY | QF_INCOMPAT_CORRUPT;
    uint8_t field[8];
    q->dirty_marked = false;
    if (!(q->h.incompatible_features & bits))
        return 0;
    q->h.incompatible_features &= ~bits;
    put64(field, q->h.incompatible_features);
    return io_write(img, QH_INCOMPAT, field, 8);
}

/* The library's check verb; the count of structural problems is only of
 * use to qc_repair_dirty(). */
int img_check(struct img *img, unsigned fix, struct img_check_result *res)
{
    int structural;
    return check_impl(img, fix, res, &structural);
}

/*
 * Step 0 of a check: version 3 snapshot entries need at least 16 bytes of
 * extra data (qcow2.txt "Snapshots": "Version 3 images must include extra
 * data at least up to byte 55"); QEMU's qcow2_check_read_snapshot_table
 * reports each short entry first and rewrites the table last.  Returns
 * how many entries are short.
 */
static int report_incomplete_snapshots(struct img *img, unsigned fix)
{
    /* Only version 3 requires the extra data; a version 2 entry without
     * it is complete. */
    struct qcow2 *q = img->q;
    int incomplete = 0;
    for (int i = 0; q->h.version >= 3 && i < q->nb_snaps; i++) {
        if (q->snaps[i].extra_size >= 16)
            continue;
        report(img, "%s snapshot table entry %d is incomplete",
               (fix & IMG_CHECK_FIX_ERRORS) ? "Repairing" : "ERROR", i);
        incomplete++;
    }
    return incomplete;
}

/*
 * Repair by rebuilding (check -r all on a refcount structure that cannot
 * be repaired entry by entry): write a new structure from the counted
 * references, then count again, which finds the old structure as leaked
 * clusters and, with IMG_CHECK_FIX_LEAKS, frees them.  The result reports
 * what the rebuild fixed, as QEMU's does.
 */
static int rebuild_and_recount(struct chk *c, unsigned fix, uint64_t *highest)
{
    struct img *img = c->img;
    struct img_check_result *res = c->res;
    /* old: the findings before the rebuild, to tell what it fixed. */
    struct img_check_result old = *res, saved;
    int fresh = 0, r;
    report(img, "Rebuilding refcount structure");
    r = rebuild_structure(c);
    if (r < 0) {
        res->check_errors++;
        return r;
    }
    /* The recount's own findings (the structural ones, which the walk
     * finds again) start from zero; the new table was written from the
     * recount, so no entry of it is damaged. */
    res->corruptions = 0;
    res->leaks = 0;
    img->q->rt_damaged = false;
    /* The old structure is now unreferenced: recount and free it. */
    r = calculate(c);
    if (r < 0)
        return r;
    /* Freeing the old structure is part of the rebuild, not a finding of
     * its own: that compare's tallies are scratch, but for leaks it could
     * not free.  Finding a stored 0 again would mean the rebuild itself
     * went wrong. */
    if (fix & IMG_CHECK_FIX_LEAKS) {
        bool again = false;
        saved = *res;
        memset(res, 0, sizeof(*res));
        compare(c, IMG_CHECK_FIX_LEAKS, &again, highest);
        if (again)
            report(img, "ERROR rebuilt refcount structure is still broken");
        fresh = res->leaks;
        *res = saved;
    }
    /* What the rebuild fixed: every corruption and leak of the first pass
     * that the recount no longer finds. */
    if (res->corruptions < old.corruptions)
        res->corruptions_fixed += old.corruptions - res->corruptions;
    if (res->leaks < old.leaks)
        res->leaks_fixed += old.leaks - res->leaks;
    res->leaks += fresh;
    return 0;
}

/*
 * Repair in place (check -r leaks, or -r all when no rebuild is needed):
 * compare again from the result before the first compare (`before`), this
 * time with the fix flags, so every finding is reported once and fixed.
 * A structure that needs a rebuild cannot be repaired with -r leaks alone:
 * QEMU fails with EIO then, and so do we.
 */
static int repair_in_place(struct chk *c, unsigned fix, const struct img_check_result *before,
                           bool *rebuild, uint64_t *highest)
{
    struct img_check_result *res = c->res;
    /* Only -r leaks can get here with a rebuild due (-r all rebuilds). */
    if (*rebuild) {
        report(c->img, "ERROR need to rebuild refcount structures");
        res->check_errors++;
        return img_fail(c->img, IMG_EIO, "Input/output error");
    }
    /* Nothing found: nothing to repair, and the report stays as it is.
     * Otherwise the second compare replaces the first one's tallies, its
     * findings now counted as fixed where the repair worked. */
    if (res->leaks || res->corruptions) {
        *res = *before;
        compare(c, fix, rebuild, highest);
    }
    return 0;
}

/* Step 3's fix mode for the COPIED flags of the active tree.  With only
 * leaks to fix, QEMU repairs them only if the refcounts are now
 * trustworthy: a flag set from a wrong refcount would be worse than the
 * wrong flag (a write in place into a shared cluster). */
static unsigned copied_fix_mode(unsigned fix, const struct img_check_result *res)
{
    if (fix & IMG_CHECK_FIX_ERRORS)
        return IMG_CHECK_FIX_ERRORS;
    if ((fix & IMG_CHECK_FIX_LEAKS) && !res->check_errors && !res->corruptions && !res->leaks)
        return IMG_CHECK_FIX_ERRORS;
    return 0;
}

/* The last cluster in use after a repair, from the stored refcounts and
 * the counted references ("Image end offset" in check's report).  A
 * repair may have freed clusters at the end (leaks) or grown the file, so
 * the first compare's figure is stale. */
static uint64_t last_cluster_in_use(struct chk *c)
{
    uint64_t highest = 0;
    for (uint64_t i = 0; i < c->nb; i++) {
        uint64_t rc;
        if (qc_rc_get(c->img, i, &rc) == 0 && (rc || c->ref[i]))
            highest = i;
    }
    return highest;
}

/*
 * The last steps of a check, run whether or not the refcount steps
 * succeeded (`r` is their result, returned unless a step here fails): the
 * short snapshot entries, and the image's clean state.
 */
static int finish_check(struct img *img, unsigned fix, struct img_check_result *res, int incomplete,
                        int r)
{
    /* The short snapshot entries, rewritten with full extra data once the
     * refcounts are right (qcow2_check_fix_snapshot_table). */
    if (r == 0 && incomplete && (fix & IMG_CHECK_FIX_ERRORS)) {
        r = qc_snap_upgrade(img);
        if (r < 0)
            res->check_errors++;
        else
            res->corruptions_fixed += incomplete;
    } else if (r == 0) {
        /* Not repaired: each short entry stays a corruption. */
        res->corruptions += incomplete;
    }
    /* 4. A repair that left no corruption behind makes the refcounts
     * trustworthy again: the dirty bit (lazy refcounts not yet written
     * back) and the corrupt bit go, as in QEMU's qcow2_co_check_locked()
     * (qcow2.txt "Header", incompatible_features bits 0 and 1). */
    if (r == 0 && fix && !res->check_errors && !res->corruptions)
        r = mark_clean(img);
    return r;
}

/*
 * The check, in QEMU's steps (qcow2_check_refcounts and
 * qcow2_co_check_locked): 0. short snapshot entries; 1. count every
 * reference (calculate); 2. compare counts with references, then repair
 * by rebuilding or in place; 3. the COPIED flags; 4. the rewritten
 * snapshot table and the cleared dirty and corrupt bits.
 *
 * `structural` counts the problems found while walking the metadata (bad
 * offsets, references past the end of the file): refcount repairs cannot
 * fix those, which is what qc_repair_dirty() needs to know.
 */
static int check_impl(struct img *img, unsigned fix, struct img_check_result *res, int *structural)
{
    struct qcow2 *q = img->q;
    struct img_check_result before;
    struct chk c;
    uint64_t highest = 0;
    bool rebuild = false;
    int r = 0;

    memset(res, 0, sizeof(*res));
    if (!q)
        return img_fail(img, IMG_ENOTSUP, "This image format does not support checks");
    if (fix && !img->rw)
        return img_fail(img, IMG_EROFS, "Image '%s' must be opened read-write to repair it",
                        img->name);
    /* The first pass collects the statistics and may repair what the walk
     * itself can (a misaligned preallocated cluster, a refcount block past
     * the end of the file). */
    memset(&c, 0, sizeof(c));
    c.img = img;
    c.res = res;
    c.stats = true;
    c.fix = fix;
    /* The virtual disk's clusters, the base of the statistics line. */
    res->total_clusters = div_up(img->size, q->cluster_size);
    /* Reported first, repaired last, as QEMU orders it. */
    int incomplete = report_incomplete_snapshots(img, fix);

    /* 1. Count every reference (this pass may already repair a refcount
     * block outside the image, as QEMU's does). */
    r = calculate(&c);
    /* A recount that could not finish (no memory, a read error, a damaged
     * bitmap table) reports no comparison: nothing would be reliable. */
    if (r < 0)
        goto out;
    /* Later recounts (after a rebuild) neither count the statistics again
     * nor repair while walking: the first pass did that once. */
    c.stats = false;
    c.fix = 0;
    rebuild = c.rebuild;
    /* So far only the walk has reported: every corruption is structural. */
    *structural = res->corruptions;

    /* 2. Compare without fixing first (this reports every finding); when
     * repairing, compare again from the same starting point with the fix
     * flags, as QEMU's qcow2_check_refcounts does.  New refcount blocks
     * must not land on clusters in use but recorded as free, so
     * allocation is pushed past the end of the file meanwhile. */
    /* The findings of the walk alone, for the repair's second compare. */
    before = *res;
    compare(&c, 0, &rebuild, &highest);
    if (fix)
        q->free_hint = c.nb > q->alloc_end ? c.nb : q->alloc_end;
    /* A structure that needs rebuilding is rebuilt under -r all; -r
     * leaks alone refuses it (repair_in_place()). */
    if (rebuild && (fix & IMG_CHECK_FIX_ERRORS))
        r = rebuild_and_recount(&c, fix, &highest);
    else if (fix)
        r = repair_in_place(&c, fix, &before, &rebuild, &highest);
    if (r < 0)
        goto out;
    /* 3. The COPIED flags of the active tree. */
    if (check_copied(&c, copied_fix_mode(fix, res)) < 0)
        res->check_errors++;
    /* Recompute the end from the stored refcounts after any repair. */
    if (fix)
        highest = last_cluster_in_use(&c);
    /* "Image end offset" in the report: the byte after the last cluster
     * in use, where a compacted file would end. */
    res->image_end_offset = (highest + 1) << q->cluster_bits;
out:
    /* Allocation goes back to its normal first-fit search. */
    if (fix)
        q->free_hint = 0;
    r = finish_check(img, fix, res, incomplete, r);
    img_free(img->env, c.ref);
    return r;
}

/*
 * Opening a dirty lazy-refcounts image read-write: the refcounts may be
 * stale, so they are repaired before use, then the dirty bit is
 * cleared (qcow2.txt "Header", incompatible_features bit 0).
 *
 * With lazy refcounts (qcow2.txt "Header", compatible_features bit 0) a
 * writer may skip refcount updates and set the dirty bit instead; the
 * tables are right, the refcounts may lag.  So the repair recounts from
 * the tables, which is exactly what check -r all does; refcounts written
 * from a wrong table, though, would make things worse, hence the dry run.
 */
int qc_repair_dirty(struct img *img)
{
    struct img_check_result res;
    /* The same environment without a report callback, for the dry run:
     * the user sees the findings once, from the repair. */
    struct img_env quiet = *img->env;
    const struct img_env *saved = img->env;
    uint8_t field[8];
    int r, structural = 0;
    quiet.report = NULL;
    img->env = &quiet;
    /* A dry run first: if the metadata itself is damaged, a refcount
     * repair cannot help, and the image is refused before anything is
     * written. */
    r = check_impl(img, 0, &res, &structural);
    if (r == 0 && (structural || res.check_errors)) {
        img->env = saved;
        return img_fail(img, IMG_ECORRUPT,
                        "Image '%s' was not closed cleanly and its metadata is damaged; "
                        "run 'check -r all' on it",
                        img->name);
    }
    /* The repair itself reports what it finds and mends, as QEMU's
     * automatic repair of a dirty image does on every read-write open. */
    img->env = saved;
    /* Both repair flags: what check -r all does, rebuild included. */
    if (r == 0)
        r = img_check(img, IMG_CHECK_FIX_LEAKS | IMG_CHECK_FIX_ERRORS, &res);
    if (r < 0)
        return r;
    /* Corruptions left after a full repair: the image is not usable for
     * writing, and stays dirty so the next open tries again. */
    if (res.corruptions)
        return img_fail(img, IMG_ECORRUPT, "Could not repair dirty image '%s'", img->name);
    /* The refcounts are written back: the dirty bit can go, and the image
     * opens like a clean one from now on. */
    img->q->h.incompatible_features &= ~QF_INCOMPAT_DIRTY;
    put64(field, img->q->h.incompatible_features);
    return io_write(img, QH_INCOMPAT, field, 8);
}
