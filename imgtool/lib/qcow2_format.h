/*
 * qcow2_format.h: on-disk constants of the qcow2 format.
 *
 * Source: QEMU docs/interop/qcow2.txt (the qcow2 spec), as implemented by
 * QEMU 7.2.  All multi-byte fields are big-endian.
 *
 * Only numbers the spec or QEMU fixes live here; the geometry that follows
 * from one image's header (entries per table, masks for the compressed
 * descriptor) is computed at open (qcow2_open.c derive_geometry()) and kept
 * in struct qcow2.  Names: QH_ header fields, QF_ feature bits, QEXT_
 * header extension types, QE_ table entry bits, QBM_ bitmaps, QS_ snapshot
 * table entries, QCOW_ QEMU's limits.
 */
#ifndef IMGTOOL_QCOW2_FORMAT_H
#define IMGTOOL_QCOW2_FORMAT_H

#define QCOW2_MAGIC 0x514649fbu /* "QFI\xfb" */

/*
 * Header field offsets (qcow2.txt "Header").  Version 2 headers end at 72
 * bytes; version 3 adds the feature bits, refcount_order and header_length
 * (qcow2.txt "Additional fields (version 3 and higher)"), 104 bytes in
 * all, and QEMU 7.2 writes compression_type too, padded to 112 bytes.
 */
#define QH_MAGIC            0
#define QH_VERSION          4
#define QH_BACKING_OFFSET   8
#define QH_BACKING_SIZE     16
#define QH_CLUSTER_BITS     20
#define QH_SIZE             24
#define QH_CRYPT_METHOD     32
#define QH_L1_SIZE          36
#define QH_L1_OFFSET        40
#define QH_RT_OFFSET        48
#define QH_RT_CLUSTERS      56
#define QH_NB_SNAPSHOTS     60
#define QH_SNAPSHOTS_OFFSET 64
#define QH_INCOMPAT         72
#define QH_COMPAT           80
#define QH_AUTOCLEAR        88
#define QH_REFCOUNT_ORDER   96
#define QH_HEADER_LENGTH    100
#define QH_COMPRESSION_TYPE 104
#define QH_V2_LENGTH        72
#define QH_V3_MIN_LENGTH    104
#define QH_V3_LENGTH        112 /* with compression_type and padding */

/*
 * Feature bits (qcow2.txt "Header", bytes 72-95).  An incompatible bit a
 * reader does not know makes it refuse the image; a compatible bit may be
 * ignored; an autoclear bit a writer does not know must be cleared before
 * the first write (qc_open_rw()).  Incompatible bits: */
#define QF_INCOMPAT_DIRTY       (1ull << 0)
#define QF_INCOMPAT_CORRUPT     (1ull << 1)
#define QF_INCOMPAT_DATA_FILE   (1ull << 2)
#define QF_INCOMPAT_COMPRESSION (1ull << 3)
#define QF_INCOMPAT_EXTL2       (1ull << 4)
#define QF_INCOMPAT_KNOWN       0x1full
/* Compatible feature bits. */
#define QF_COMPAT_LAZY_REFCOUNTS (1ull << 0)
/* Autoclear feature bits. */
#define QF_AUTOCLEAR_BITMAPS  (1ull << 0)
#define QF_AUTOCLEAR_DATA_RAW (1ull << 1)

/* Header extension types (qcow2.txt "Header extensions"): the magic
 * numbers QEMU assigned; 0 ends the list. */
#define QEXT_END          0x00000000u
#define QEXT_BACKING_FMT  0xe2792acau
#define QEXT_FEATURE_NAME 0x6803f857u
#define QEXT_BITMAPS      0x23852875u
#define QEXT_CRYPTO       0x0537be77u
#define QEXT_DATA_FILE    0x44415441u

/*
 * L1 and L2 entries (qcow2.txt "Cluster mapping", "L1 table entry", "L2
 * table entry").  COPIED (bit 63) says the refcount of the cluster is
 * exactly 1, so it may be written in place; COMPRESSED (bit 62) turns the
 * rest of the entry into a compressed descriptor; ZERO (bit 0, version 3)
 * makes the cluster read as zeros.  Offsets are bits 9-55 and
 * cluster-aligned; the reserved masks are what check and open refuse.
 */
#define QE_COPIED     (1ull << 63)
#define QE_COMPRESSED (1ull << 62)
#define QE_ZERO       (1ull << 0)
#define QE_OFFSET     0x00fffffffffffe00ull /* bits 9-55 */
#define QL1_RESERVED  0x7f000000000001ffull
#define QL2_RESERVED  0x3f000000000001feull

/* Extended L2 bitmap: bit n = subcluster n allocated, bit 32+n = reads zero
 * (qcow2.txt "Subcluster Allocation Bitmap"); a cluster has 32 of them. */
#define QSC_COUNT 32

/*
 * Limits applied by QEMU 7.2 (block/qcow2.h).  They are not all in the
 * spec, but an image beyond them does not open in QEMU, and they bound
 * what a hostile header can make this library allocate.
 */
#define QCOW_MAX_CRYPT_CLUSTERS 32
#define QCOW_MAX_SNAPSHOTS      65536
#define QCOW_MAX_REFTABLE_SIZE  (8ull << 20)
#define QCOW_MAX_L1_SIZE        (32ull << 20)
#define QCOW_MAX_SNAPSHOT_EXTRA 1024
#define QCOW_MIN_CLUSTER_BITS   9
#define QCOW_MAX_CLUSTER_BITS   21
#define QCOW_MAX_OFFSET         (1ull << 56)

/* Bitmaps (qcow2.txt "Bitmaps extension", "Bitmap directory", "Bitmap table"),
 * with QEMU 7.2's limits (block/qcow2.h, block/qcow2-bitmap.c).  A bitmap
 * table entry points at one cluster of bitmap data, or is 0 (all zeros)
 * or 1 (all ones) without a cluster. */
#define QBM_EXT_LEN         24 /* nb_bitmaps, reserved, directory size, offset */
#define QBM_MAX_BITMAPS     65535
#define QBM_MAX_DIR_SIZE    (1024ull * QBM_MAX_BITMAPS)
#define QBM_ENTRY_FIXED     24 /* directory entry before extra data and name */
#define QBM_MAX_NAME        1023
#define QBM_MAX_TABLE_SIZE  0x8000000ull
#define QBM_MAX_PHYS_SIZE   0x20000000ull
#define QBM_MIN_GRAN_BITS   9
#define QBM_MAX_GRAN_BITS   31
#define QBM_FLAG_IN_USE     (1u << 0)
#define QBM_FLAG_AUTO       (1u << 1)
#define QBM_FLAG_EXTRA_COMP (1u << 2)
#define QBM_TYPE_DIRTY      1
#define QBM_TE_OFFSET       0x00fffffffffffe00ull /* bits 9-55 */
#define QBM_TE_RESERVED     0xff000000000001feull /* bits 1-8 and 56-63 */
#define QBM_TE_ALL_ONES     1ull                  /* bit 0, with offset 0 */

/* Snapshot table entry (qcow2.txt "Snapshot table entry"): the fixed
 * part's field offsets; the extra data, the ID and the name follow it,
 * and each entry is padded to a multiple of 8 bytes. */
#define QS_L1_OFFSET  0
#define QS_L1_SIZE    8
#define QS_ID_SIZE    12
#define QS_NAME_SIZE  14
#define QS_DATE_SEC   16
#define QS_DATE_NSEC  20
#define QS_VM_CLOCK   24
#define QS_VM_STATE   32
#define QS_EXTRA_SIZE 36
#define QS_FIXED_LEN  40

#endif
