/*
 * img.h: the public interface of the imgtool disk-image library.
 *
 * The library reads and writes raw and qcow2 (version 2 and 3) images.  Its
 * core (the .c files directly in imgtool/lib) is written so that it also compiles freestanding,
 * without a libc: hv's virtio-blk device model links the same code.  For that
 * reason the core never calls malloc, stdio, threads or a compression library
 * itself.  Everything it needs from the outside world comes through two small
 * tables of callbacks:
 *
 *   - struct img_io: one open file (or memory buffer) with byte-offset read,
 *     write, flush and size, and optional truncate, allocate, discard...;
 *   - struct img_env: memory allocation, compression codecs, opening backing
 *     files by name and reporting messages.
 *
 * The hosted glue in imgtool/lib/hosted/ fills both tables for Linux (POSIX
 * files, an xz read-only backend, deflate and zstd codecs) and offers the
 * convenience functions declared at the end of this file (img_open_file, ...).
 *
 * Error convention: every function that can fail returns an int that is 0 on
 * success and a negative IMG_E* code on failure.  The handle then keeps a
 * human-readable message (img_strerror(img)); functions without a handle take
 * a struct img_err to fill in.  Messages are complete sentences without a
 * program-name prefix and without a trailing newline, so the CLI can print
 * them the way qemu-img does ("qemu-img: <file>: <message>").
 *
 * All sizes and offsets are bytes, in uint64_t.  The CLI accepts sizes up to
 * 2^63 - 1, as qemu-img does; a qcow2 image's virtual size is further bounded
 * by its L1 table (at most 2^61 bytes, with 2 MiB clusters), and offsets
 * inside a qcow2 file by the 56 bits of an L2 entry's offset field.
 */
#ifndef IMGTOOL_IMG_H
#define IMGTOOL_IMG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Error codes (negated) ----------------------------------------------- */

enum {
    IMG_OK = 0,
    IMG_EIO = 1,      /* the block backend reported an error */
    IMG_EINVAL = 2,   /* a bad argument from the caller (bad size, option) */
    IMG_ENOMEM = 3,   /* the allocator returned NULL */
    IMG_ECORRUPT = 4, /* the image's metadata is inconsistent or hostile */
    IMG_ENOTSUP = 5,  /* a valid image feature this library does not handle */
    IMG_ERANGE = 6,   /* an access outside the virtual disk */
    IMG_EROFS = 7,    /* a write to an image opened read-only */
    IMG_ENOENT = 8,   /* a named snapshot or backing file does not exist */
    IMG_ELOOP = 9,    /* the backing chain refers back to itself or is too deep */
    IMG_EEXIST = 10,  /* a snapshot with that name already exists */
    IMG_ENOSPC = 11,  /* the image cannot grow any further (56-bit offsets) */
};

/* A caller-provided buffer for errors of functions that have no handle. */
struct img_err {
    int code;      /* the negative IMG_E* code of the failure, 0 if none */
    char msg[512]; /* the message, "" if none */
};

/* ---- Block backend ------------------------------------------------------- */

/*
 * One file as the library sees it.  read() beyond the end of the file must
 * return zeros for the missing part (like reading a sparse hole); write()
 * beyond the end extends the file.  Each callback returns 0 or a negative
 * IMG_E* code (normally -IMG_EIO).  size() reports the current length.
 * truncate(), allocate() and close() may be NULL: without truncate() an image
 * cannot shrink; without allocate() preallocation=falloc falls back to
 * writing zeros.
 */
struct img_io {
    void *ctx;
    int (*read)(void *ctx, uint64_t off, void *buf, size_t len);
    int (*write)(void *ctx, uint64_t off, const void *buf, size_t len);
    int (*flush)(void *ctx);
    int (*size)(void *ctx, uint64_t *size);
    int (*truncate)(void *ctx, uint64_t size);
    int (*allocate)(void *ctx, uint64_t off, uint64_t len);
    void (*close)(void *ctx);
    /* Bytes the file really occupies on disk (for "disk size"); may be NULL. */
    int (*allocated_size)(void *ctx, uint64_t *size);
    /*
     * Optional (may be NULL): is [off, ...) a hole or data, and for how many
     * bytes (at most max)?  Sparse files answer with SEEK_HOLE/SEEK_DATA;
     * raw images use it so map and convert see holes as zeros, as qemu-img
     * does.  Without it everything counts as data.
     */
    int (*extent)(void *ctx, uint64_t off, uint64_t max, uint64_t *len, bool *hole);
    /* Optional (may be NULL): give [off, off+len) back to the host file
     * system (punch a hole); the range then reads as zeros. */
    int (*discard)(void *ctx, uint64_t off, uint64_t len);
};

/* ---- Environment ----------------------------------------------------------- */

/* Compression types, numbered as the qcow2 header's compression_type field. */
enum img_compression {
    IMG_COMP_ZLIB = 0,
    IMG_COMP_ZSTD = 1,
};

struct img_env {
    void *ctx;
    /* Zero-filled allocation (like calloc(1, size)); NULL on failure. */
    void *(*alloc)(void *ctx, size_t size);
    void (*free)(void *ctx, void *p);
    /*
     * Compress src into dst.  Returns the compressed length, 0 if the result
     * would not fit in dst_len (the caller then stores the cluster
     * uncompressed, as QEMU does), or a negative IMG_E* code.  zlib output is
     * a raw deflate stream, as QEMU writes it; the hosted codec makes it with
     * libdeflate, whose matches may reach further back than the 4 KiB window
     * QEMU's zlib uses, which readers that inflate the whole cluster in one
     * call (QEMU's among them) accept (hosted/codec.c).
     */
    long (*compress)(void *ctx, int type, void *dst, size_t dst_len, const void *src,
                     size_t src_len);
    /*
     * Decompress src into exactly dst_len bytes of dst.  src may contain
     * trailing garbage (qcow2 rounds compressed sizes up to sectors).
     * Returns 0 or a negative IMG_E* code.
     */
    int (*decompress)(void *ctx, int type, void *dst, size_t dst_len, const void *src,
                      size_t src_len);
    /*
     * Open the backing file called `name` as written in the image header of
     * the image called `referrer` (relative names are relative to the
     * referrer's directory).  `writable` is true only for commit.  Fills
     * *io; returns 0, -IMG_ENOENT or another negative code (and may write a
     * message to err).  NULL means backing files cannot be opened.
     */
    int (*open_backing)(void *ctx, const char *referrer, const char *name, bool writable,
                        struct img_io *io, struct img_err *err);
    /* Diagnostic messages (check's per-problem lines); may be NULL. */
    void (*report)(void *ctx, const char *line);
    /* The program name that advice in messages names ("Use imgtool amend
     * ..."): the CLI's own name, which is "qemu-img" when it runs under that
     * name.  NULL means "imgtool". */
    const char *tool_name;
};

/* ---- Images ---------------------------------------------------------------- */

/*
 * An open image.  A handle is not thread-safe: one thread at a time calls
 * into it.  The exception is img_compress_cluster, which touches no image
 * state and may run on many threads while another writes.
 */
struct img; /* opaque handle */

enum img_format {
    IMG_FMT_RAW = 0,
    IMG_FMT_QCOW2 = 1,
};

/* Open flags. */
enum {
    IMG_OPEN_RW = 1 << 0,         /* open for writing */
    IMG_OPEN_NO_BACKING = 1 << 1, /* do not open the backing file (reads of
                                     unallocated clusters then return zeros) */
    IMG_OPEN_NO_REPAIR = 1 << 2,  /* do not replay a dirty lazy-refcount image
                                     on a read-write open (check does that) */
    IMG_OPEN_FORCE = 1 << 3,      /* open read-write even if the corrupt bit
                                     is set or the refcount table is damaged
                                     (used by check -r) */
    IMG_OPEN_NO_FLUSH = 1 << 4,   /* cache=unsafe, qemu-img convert's default:
                                     img_flush/img_close never ask the backend
                                     to sync (io->flush).  Metadata stays
                                     ordered, so killing the process is still
                                     safe; a power loss is not. */
    /* Do not open an external data file: the metadata only (info, dump),
     * as qemu-img info works without it; guest data cannot be read or
     * written then. */
    IMG_OPEN_NO_DATA_FILE = 1 << 5,
};

/*
 * Open an image on an already-open backend.  `name` is the file name used in
 * messages and for resolving a relative backing file name.  `fmt` is
 * "raw", "qcow2" or NULL to probe (qcow2 magic, else raw).  On success the
 * handle owns io (and calls io->close on img_close).  On failure io is not
 * closed.  A backing chain is opened recursively through env->open_backing
 * with loop detection (at most IMG_MAX_CHAIN images).
 */
#define IMG_MAX_CHAIN 64
int img_open(const struct img_env *env, struct img_io *io, const char *name, const char *fmt,
             unsigned flags, struct img **out, struct img_err *err);

/*
 * What an opener can say about the top image beyond the flags: QEMU's
 * per-node options that change what is read.  Today that is the qcow2
 * driver's "data-file" option (--image-opts data-file.filename=F): the
 * external data file to use instead of the one the header names, which is
 * the only way to open an image whose header names none.  As in QEMU, the
 * option is looked at only when the data file is opened, so qemu-img info
 * (IMG_OPEN_NO_DATA_FILE) ignores it.
 */
struct img_open_opts {
    /* The option as the user wrote it ("data-file.filename"), or NULL when
     * no data-file option was given; a raw image refuses it by this name. */
    const char *data_file_key;
    /* The data file to open (relative names are relative to the current
     * directory, as QEMU opens a "filename" option), or NULL. */
    const char *data_file;
    /* Why the option cannot be used (QEMU's words, e.g. "Cannot find
     * device='x' nor node-name='x'"), reported when the data file would be
     * opened; NULL if it is fine. */
    const char *data_file_error;
};
/* img_open with options (opts may be NULL); they apply to this image, not
 * to its backing files. */
int img_open_with(const struct img_env *env, struct img_io *io, const char *name, const char *fmt,
                  unsigned flags, const struct img_open_opts *opts, struct img **out,
                  struct img_err *err);

/*
 * The file name of backing file `name` as named in the header of the image
 * file `referrer`: a relative name is relative to the directory of the
 * referrer, not to the current directory (QEMU's
 * bdrv_get_full_backing_filename_from_filename); an absolute one, or any
 * name when the referrer has no directory part, stays as it is.  Writes at
 * most `len` bytes including the NUL; returns false if it did not fit.
 * Backing images are opened (and named in img_name and messages) under
 * this name, so a chain of any depth resolves level by level.
 */
bool img_backing_path(const char *referrer, const char *name, char *out, size_t len);

/*
 * Open img's backing file again, writable (for a commit into it) or
 * read-only again afterwards, as QEMU's bdrv_commit reopens it.  The chain
 * below it stays read-only.  0, or a negative IMG_E* code with err filled
 * (the old handle then stays); -IMG_ENOTSUP without a backing file.
 */
int img_reopen_backing(struct img *img, bool writable, struct img_err *err);

/* Flush and close; also closes the backing chain.  Returns the flush status. */
int img_close(struct img *img);

/* The last error message recorded on the handle ("" if none). */
const char *img_strerror(const struct img *img);

/* Probe: returns IMG_FMT_QCOW2 or IMG_FMT_RAW for the given first bytes. */
int img_probe(const void *buf, size_t len);

/* ---- Creation ---------------------------------------------------------- */

enum img_prealloc {
    IMG_PREALLOC_OFF = 0,
    IMG_PREALLOC_METADATA = 1,
    IMG_PREALLOC_FALLOC = 2,
    IMG_PREALLOC_FULL = 3,
};

/* Parse "off"/"metadata"/"falloc"/"full"; returns -1 if unknown. */
int img_prealloc_parse(const char *s);

struct img_create_opts {
    int format;    /* IMG_FMT_RAW or IMG_FMT_QCOW2 */
    uint64_t size; /* virtual size in bytes (0 with a backing file
                      means "take the backing file's size": the
                      caller must resolve it before calling) */
    /* qcow2 only; 0 / NULL selects qemu-img 7.2's default. */
    uint32_t cluster_size; /* 512 .. 2 MiB, power of two (default 65536) */
    int compat;            /* 2 for "0.10", 3 for "1.1" (default 3) */
    bool lazy_refcounts;   /* needs compat 3 */
    const char *backing_file;
    const char *backing_fmt; /* written as the backing-format extension */
    int prealloc;            /* enum img_prealloc */
    int compression_type;    /* enum img_compression; zstd needs compat 3 */
    bool extended_l2;        /* needs compat 3, cluster_size >= 16 KiB */
    int refcount_bits;       /* 1,2,4,...,64 (default 16); != 16 needs compat 3 */
    /* For the hosted file backend only (QEMU's file-posix creation
     * options), ignored by img_create(): */
    bool has_extent_size_hint; /* extent_size_hint given (else 1 MiB) */
    uint64_t extent_size_hint; /* XFS extent size hint, 0 to disable */
    bool nocow;                /* btrfs: no copy-on-write for the file */
    /* External data file (qcow2 v3): guest data goes to this file, at
     * the guest offset; the image file keeps only metadata.  data_file is
     * the name written into the header; img_create() writes to data_io
     * (created empty by the caller), img_create_file() creates the file
     * data_file itself.  data_file_raw keeps it a valid raw image (and
     * implies preallocation=metadata, as in QEMU). */
    const char *data_file;
    bool data_file_raw;
    struct img_io *data_io;
};

/* Defaults as qemu-img 7.2: 64 KiB clusters, compat 1.1, 16-bit refcounts. */
void img_create_opts_init(struct img_create_opts *o);

/*
 * Write a new image onto io (which must be empty and writable).  Validates
 * the options with qemu-img's rules and messages.  Does not close io.
 */
int img_create(const struct img_env *env, struct img_io *io, const struct img_create_opts *o,
               struct img_err *err);
/* Only the option checks of img_create (nothing is written): lets a caller
 * refuse bad options before it creates or truncates a file. */
int img_create_validate(const struct img_create_opts *o, struct img_err *err);

/*
 * Space a qcow2 image with these options needs (qemu-img measure):
 * `required` for `allocated` bytes of data, `fully_allocated` for all of it.
 */
int img_measure(const struct img_create_opts *o, uint64_t allocated, uint64_t *required,
                uint64_t *fully_allocated, struct img_err *err);

/* ---- Information ------------------------------------------------------- */

struct img_info {
    int format; /* enum img_format */
    uint64_t virtual_size;
    uint64_t file_size; /* length of the image file */
    uint64_t disk_size; /* bytes allocated on disk (io->allocated_size),
                           or file_size if unknown */
    /* qcow2 only: */
    int qcow2_version; /* 2 or 3 */
    uint32_t cluster_size;
    int refcount_bits;
    bool lazy_refcounts;
    bool corrupt;
    bool dirty; /* incompatible bit 0 */
    bool extended_l2;
    int compression_type;
    bool has_backing;
    char backing_file[1024];
    char backing_fmt[32]; /* "" if no backing-format extension */
    int nb_snapshots;
    uint64_t incompatible_features;
    uint64_t compatible_features;
    uint64_t autoclear_features;
    /* The image had a bitmaps extension without autoclear bit 0 when it
     * was opened: the bitmaps are stale (a read-write open drops it). */
    bool bitmaps_stale;
    /* External data file: its name as stored in the header ("" if the
     * image names none) and the raw-data autoclear bit. */
    bool has_data_file;
    bool data_file_raw;
    char data_file[1024];
};

int img_get_info(struct img *img, struct img_info *info);

/* The opened backing image, or NULL (no backing file, or NO_BACKING). */
struct img *img_backing(struct img *img);

/* The name given to img_open. */
const char *img_name(const struct img *img);

/* The external data file's name as the image stores it (the file holding
 * the guest data that img_block_status offsets point into), or NULL if
 * the image has no data file. */
const char *img_data_file(const struct img *img);

/* ---- Data -------------------------------------------------------------- */

uint64_t img_size(const struct img *img);

/* Read len bytes at off; unallocated areas read from the backing chain or as
 * zeros.  The range must lie inside the virtual disk. */
int img_read(struct img *img, uint64_t off, void *buf, size_t len);

/* Write len bytes at off (allocating clusters, copy-on-write from backing
 * files and snapshots).  The range must lie inside the virtual disk. */
int img_write(struct img *img, uint64_t off, const void *buf, size_t len);

/*
 * Make [off, off+len) read as zeros.  With IMG_ZERO_MAY_UNMAP whole clusters
 * may be deallocated (qcow2 v3 zero flag, or unallocated if there is no
 * backing file); otherwise allocation is kept.  Partial clusters are
 * written.  On raw images zeros are written (or a hole punched if
 * MAY_UNMAP and the backend can).
 */
/*
 * IMG_ZERO_RECORD: also where the image already reads as zeros only because
 * it has no backing file, record the zeros in the image (v3 zero clusters,
 * v2 zero data), as QEMU's write-zeroes does, so that a backing file
 * attached afterwards (rebase) cannot show through.
 */
enum { IMG_ZERO_MAY_UNMAP = 1, IMG_ZERO_RECORD = 2 };
int img_write_zeroes(struct img *img, uint64_t off, uint64_t len, unsigned flags);

/* qcow2: the cluster size; raw: 512. */
uint32_t img_cluster_size(const struct img *img);

/*
 * Write one whole cluster compressed (qcow2 only).  off must be cluster
 * aligned and len == cluster size (or the rest of the disk for the last
 * cluster).  If the data does not shrink, it is stored uncompressed, as QEMU
 * does.  An already allocated target cluster is replaced (its old clusters
 * are released after the new entry is written).
 */
int img_write_compressed(struct img *img, uint64_t off, const void *buf, size_t len);

/*
 * For parallel compression (convert -c): compress one cluster with the
 * image's codec into out (capacity out_len >= cluster size).  Thread-safe:
 * it touches no image state.  Returns the compressed length, or 0 if the
 * cluster does not shrink (then write it with img_write_compressed_raw with
 * len 0, which stores the plain data), or a negative code.
 */
long img_compress_cluster(struct img *img, const void *in, size_t in_len, void *out,
                          size_t out_len);
/* Store a cluster compressed by img_compress_cluster (comp_len > 0), or
 * `plain` uncompressed if comp_len == 0.  Same rules as img_write_compressed. */
int img_write_compressed_raw(struct img *img, uint64_t off, const void *comp, size_t comp_len,
                             const void *plain, size_t plain_len);
/* After the last compressed write of a convert: make the file a whole
 * number of 512-byte sectors long, as qemu-img does (its zero-length
 * compressed write "signals EOF to align"). */
int img_compressed_end(struct img *img);

int img_flush(struct img *img);

/* ---- Block status (map, convert -S / -B) -------------------------------- */

enum {
    IMG_BS_DATA = 1 << 0,         /* reads return data from some file */
    IMG_BS_ZERO = 1 << 1,         /* reads are known to return zeros */
    IMG_BS_ALLOCATED = 1 << 2,    /* allocated in the top image itself (not the
                                     backing chain); zero clusters count too */
    IMG_BS_COMPRESSED = 1 << 3,   /* a compressed cluster */
    IMG_BS_OFFSET_VALID = 1 << 4, /* `offset` is a host offset of the data */
};

struct img_extent {
    uint64_t length;   /* bytes from the queried offset with the same status */
    unsigned flags;    /* IMG_BS_* */
    int depth;         /* 0 = top image, 1 = its backing file, ... (the layer
                          that decides the status; for holes, the chain length) */
    uint64_t offset;   /* host offset in the file at `depth` (if OFFSET_VALID) */
    struct img *layer; /* the image at `depth` */
};

/*
 * Status of [off, off+maxlen) starting at off; fills *ext for the first run.
 * With follow_backing false, the backing chain is not consulted (depth 0
 * only; unallocated areas report flags 0 or ZERO if there is no backing).
 * Runs never span a status change, or a change in host-offset contiguity.
 * Host holes of the file (struct img_io.extent) split runs as in qemu-img
 * map.  An unallocated subcluster of an allocated cluster (extended L2)
 * reports the host offset reserved for it (IMG_BS_OFFSET_VALID), as QEMU
 * does.
 */
int img_block_status(struct img *img, uint64_t off, uint64_t maxlen, bool follow_backing,
                     struct img_extent *ext);

/* ---- Check and repair ------------------------------------------------- */

enum {
    IMG_CHECK_FIX_LEAKS = 1 << 0,
    IMG_CHECK_FIX_ERRORS = 1 << 1,
};

struct img_check_result {
    int corruptions;
    int leaks;
    int check_errors;
    int corruptions_fixed;
    int leaks_fixed;
    uint64_t image_end_offset;
    uint64_t total_clusters; /* of the virtual disk */
    uint64_t allocated_clusters;
    uint64_t fragmented_clusters;
    uint64_t compressed_clusters;
};

/*
 * Check the image's metadata (qemu-img check): every cluster's refcount
 * against the references found from the header, L1/L2 tables, refcount
 * structures and snapshots.  Problems are reported through env->report with
 * qemu-img's wording ("Leaked cluster 5 refcount=1 reference=0",
 * "ERROR cluster 7 refcount=1 reference=2", ...).  With fix flags the image
 * must be open read-write; leaks are repaired by rebuilding refcounts.
 * Returns 0 if the check itself could run (even with findings), else an
 * error.  The CLI maps findings to qemu-img's exit codes (2 corruptions,
 * 3 leaks, 1 check not completed, 63 not supported for raw).
 *
 * As in QEMU, every finding is reported first ("Leaked cluster ...",
 * "ERROR cluster ..."), then, when fixing, reported again as "Repairing
 * ...".  A stored refcount of 0 for a cluster in use needs the refcount
 * structure rebuilt: with IMG_CHECK_FIX_ERRORS that happens ("Rebuilding
 * refcount structure"); with only IMG_CHECK_FIX_LEAKS the check reports
 * "ERROR need to rebuild refcount structures", counts a check error and
 * returns -IMG_EIO with the message "Input/output error" (qemu-img then
 * prints "Check failed: Input/output error" and exits with 1).
 */
int img_check(struct img *img, unsigned fix, struct img_check_result *res);

/* ---- Resize ------------------------------------------------------------ */

/*
 * Change the virtual size.  Shrinking requires allow_shrink, and for qcow2
 * fails if snapshots exist (any resize does for a version 2 image with
 * snapshots, which cannot record their own sizes); data past the new end
 * is discarded.  Growth with prealloc != OFF allocates the new area.
 */
int img_resize(struct img *img, uint64_t new_size, int prealloc, bool allow_shrink);

/* ---- Backing file ----------------------------------------------------- */

/*
 * Change the backing file name and format recorded in the header (rebase,
 * with or without -u).  NULL name removes the backing file.  Only the header changes:
 * data is not copied (rebase without -u is done by the CLI with reads and
 * writes and then this call).
 */
int img_set_backing(struct img *img, const char *name, const char *fmt);

/* ---- Internal snapshots (qcow2) --------------------------------------- */

struct img_snapshot_info {
    char id[128];
    char name[256];
    uint64_t vm_state_size;
    uint32_t date_sec;
    uint32_t date_nsec;
    uint64_t vm_clock_nsec;
    uint64_t icount;    /* UINT64_MAX if not recorded */
    uint64_t disk_size; /* the virtual size when the snapshot was taken */
};

int img_snapshot_count(struct img *img);
int img_snapshot_get(struct img *img, int index, struct img_snapshot_info *info);
/* Create a snapshot of the current state; the caller supplies the time since
 * the core has no clock. */
int img_snapshot_create(struct img *img, const char *name, uint32_t date_sec, uint32_t date_nsec);

/*
 * VM state (a running machine's savevm, QEMU's bdrv_save_vmstate and
 * bdrv_load_vmstate).  The state is stored like disk content, past the end
 * of the virtual disk, from the first L1 entry the disk does not use
 * (qcow2.txt "Snapshot table entry", bytes 32-35).  A savevm writes it into
 * the active image with img_vmstate_write() (position 0 up), then takes
 * the snapshot with img_snapshot_create_vm(), which records the length and
 * hands the clusters to the snapshot.  A loadvm reads it back from the
 * snapshot with img_snapshot_vmstate_read() (before or after applying the
 * snapshot's disk with img_snapshot_apply()).  img_vmstate_discard() drops
 * state written for a savevm that is given up.  All return 0 or a
 * negative IMG_E* code with the message in the handle; raw images and
 * images with an external data file have no internal snapshots
 * (-IMG_ENOTSUP).
 */
struct img_snapshot_vm {
    uint32_t date_sec, date_nsec; /* wall-clock time of the snapshot */
    uint64_t vm_clock_nsec;       /* the guest's run time until it */
    uint64_t vm_state_size;       /* bytes of VM state written, 0 for none */
};
int img_snapshot_create_vm(struct img *img, const char *name, const struct img_snapshot_vm *vm);
int img_vmstate_write(struct img *img, uint64_t pos, const void *buf, size_t len);
int img_vmstate_discard(struct img *img);
/* Reads [pos, pos + len) of the VM state of snapshot `id_or_name` (id
 * first, as QEMU); the range must lie inside its vm_state_size.  Works on
 * a read-only handle and changes nothing. */
int img_snapshot_vmstate_read(struct img *img, const char *id_or_name, uint64_t pos, void *buf,
                              size_t len);
/* Revert to / delete a snapshot by id or name (id first, as QEMU). */
int img_snapshot_apply(struct img *img, const char *id_or_name);
int img_snapshot_delete(struct img *img, const char *id_or_name);
/*
 * qemu-img convert -l (QEMU's bdrv_snapshot_load_tmp): make a read-only
 * handle read the virtual disk as it was when the snapshot was taken,
 * without changing the file.  `id` and `name` may each be NULL (at least
 * one is given); when both are given both must match.  Returns 0,
 * -IMG_ENOENT if there is no such snapshot, -IMG_EINVAL on a writable
 * handle or with neither given, -IMG_ENOTSUP for raw.
 */
int img_snapshot_load_tmp(struct img *img, const char *id, const char *name);
/*
 * Commit: every range that the top image, or an image between it and the
 * base, allocates itself is read through the top (so the newest data
 * wins) and written into the base through `dst`, which must be a writable
 * handle of the image `base_depth` levels below the top (1: the top's
 * backing file; it may be the chain's own handle, img_reopen_backing(), or
 * one of the caller's).  A base shorter than the top grows to its size
 * first; the base is flushed at the end.  The top is not emptied: that is
 * img_make_empty()'s job, once the base holds the data.
 *
 * QEMU has two commits that differ in how they write a range that reads as
 * zeros: qemu-img's commit job writes zeroes that may unmap (zero clusters
 * or holes in the base); the monitor's commit (bdrv_commit) reads every
 * allocated range and writes what it read, so zeros become data
 * (`zeroes_as_data`).  Returns 0 or a negative IMG_E* code, with the
 * handle whose message says why in *failed (if not NULL).
 */
struct img_commit {
    struct img *top;
    int base_depth;
    struct img *dst;
    bool zeroes_as_data;
    /* The copy buffer: buf_len bytes (a multiple of 512). */
    void *buf;
    size_t buf_len;
    /* Called after each range with its length and the top's size; may be
     * NULL. */
    void (*progress)(void *ctx, uint64_t len, uint64_t size);
    void *ctx;
    struct img **failed;
};
int img_commit(const struct img_commit *job);

/*
 * qemu-img commit empties the top image after copying its data down
 * (QEMU's bdrv_make_empty): every cluster of the active disk is dropped,
 * so all reads fall through to the backing file again; snapshots keep
 * theirs.  Returns 0 or a negative IMG_E* code (-IMG_EROFS on a read-only
 * handle, -IMG_ENOTSUP for raw).
 */
int img_make_empty(struct img *img);

/* ---- Persistent dirty bitmaps (qcow2 version 3) ------------------------ */

/*
 * A bitmap records which parts of the disk were written since it was made
 * (one bit per `granularity` bytes).  Enabled bitmaps ("auto") follow every
 * write made through this library; an "in-use" bitmap was not stored
 * cleanly and can only be removed.  Changes are kept in memory and stored
 * when the image is closed, except remove, which is immediate (as QEMU).
 * Errors carry QEMU 7.2's messages (img_strerror), with the hint QEMU
 * prints after some of them on a second line.
 */
struct img_bitmap_info {
    const char *name; /* valid until the bitmaps change or the image closes */
    uint32_t granularity;
    bool in_use;  /* flag "in-use": inconsistent */
    bool enabled; /* flag "auto": records writes */
};

int img_bitmap_count(struct img *img);
int img_bitmap_get(struct img *img, int index, struct img_bitmap_info *info);
/* QEMU's default granularity: the cluster size, within 4 KiB .. 64 KiB. */
uint32_t img_bitmap_default_granularity(struct img *img);
int img_bitmap_add(struct img *img, const char *name, uint32_t granularity, bool enabled);
int img_bitmap_remove(struct img *img, const char *name);
int img_bitmap_clear(struct img *img, const char *name);
int img_bitmap_enable(struct img *img, const char *name, bool enabled);
/* dst's bitmap |= src's bitmap (src may be dst; sizes must match). */
int img_bitmap_merge(struct img *dst, const char *dst_name, struct img *src, const char *src_name);

/* ---- Amend ------------------------------------------------------------ */

/*
 * Change qcow2 options in place (qemu-img amend): compat (2/3; downgrading
 * expands zero clusters and refuses what QEMU refuses), lazy_refcounts,
 * refcount_bits (the refcount structure is rewritten at the new width),
 * backing_file/fmt.  compat, cluster_size, refcount_bits and backing_file
 * left 0/NULL keep the image's values; lazy_refcounts is always the wanted
 * state (pass the image's current one to keep it).  With an external data
 * file, data_file renames it ("" drops the name from the header) and
 * data_file_raw is the wanted state too (it can be cleared, not set).
 * size is handled via img_resize.
 */
int img_amend(struct img *img, const struct img_create_opts *o);

/* ---- Teaching views (imgtool dump) ------------------------------------ */

/* The qcow2 header as decoded (host byte order). */
struct img_qcow2_header {
    uint32_t magic;
    uint32_t version;
    uint64_t backing_file_offset;
    uint32_t backing_file_size;
    uint32_t cluster_bits;
    uint64_t size;
    uint32_t crypt_method;
    uint32_t l1_size;
    uint64_t l1_table_offset;
    uint64_t refcount_table_offset;
    uint32_t refcount_table_clusters;
    uint32_t nb_snapshots;
    uint64_t snapshots_offset;
    uint64_t incompatible_features;
    uint64_t compatible_features;
    uint64_t autoclear_features;
    uint32_t refcount_order;
    uint32_t header_length;
    uint8_t compression_type;
};

/* Returns NULL for raw images. */
const struct img_qcow2_header *img_qcow2_get_header(const struct img *img);

/* Header extensions in file order (type, length, pointer to the data). */
int img_qcow2_ext_count(const struct img *img);
int img_qcow2_ext_get(const struct img *img, int index, uint32_t *type, uint32_t *len,
                      const void **data);

/* Raw 64-bit L1 entry idx (host byte order). */
int img_qcow2_l1_entry(struct img *img, uint64_t idx, uint64_t *entry);
/* Raw L2 entry idx of the L2 table at host offset l2_offset; with extended
 * L2 also the subcluster bitmap (else *bitmap = 0). */
int img_qcow2_l2_entry(struct img *img, uint64_t l2_offset, uint64_t idx, uint64_t *entry,
                       uint64_t *bitmap);
/* Refcount of the host cluster with index cluster_index. */
int img_qcow2_refcount(struct img *img, uint64_t cluster_index, uint64_t *refcount);

/* ---- Hosted convenience (imgtool/lib/hosted/, not in freestanding) ---- */

#ifndef HVKIT_FREESTANDING
/* malloc, zlib/zstd codecs, POSIX backing-file opener, report to stderr. */
const struct img_env *img_hosted_env(void);
/* Set the hosted env's tool_name (the CLI calls it once, at start-up). */
void img_hosted_set_tool_name(const char *name);

/*
 * Open a file as a block backend.  If it starts with the xz magic it is
 * opened read-only through the xz index (writable must be false, else
 * -IMG_EROFS with a clear message).
 */
int img_io_open_file(const char *path, bool writable, struct img_io *io, struct img_err *err);
/* Create (O_CREAT|O_TRUNC) a file as a writable backend. */
int img_io_create_file(const char *path, struct img_io *io, struct img_err *err);
/* An in-memory growable backend (for tests); *io owns the buffer. */
int img_io_mem(struct img_io *io);

/* img_io_open_file + img_open with the hosted env. */
int img_open_file(const char *path, const char *fmt, unsigned flags, struct img **out,
                  struct img_err *err);
/* The same with img_open_with's options. */
int img_open_file_with(const char *path, const char *fmt, unsigned flags,
                       const struct img_open_opts *opts, struct img **out, struct img_err *err);
/* img_io_create_file + img_create with the hosted env.  The file gets
 * o's extent size hint and nocow flag first, where the file system has
 * them; a hint that was asked for and could not be set leaves a warning
 * in err->msg with err->code 0 on success. */
int img_create_file(const char *path, const struct img_create_opts *o, struct img_err *err);
/* Apply the hints (file backends from img_io_create_file only); returns 0
 * or the errno of setting an explicitly given extent size hint. */
int img_io_create_hints(struct img_io *io, const struct img_create_opts *o);

/* True if the file at path starts with the xz magic. */
bool img_file_is_xz(const char *path);
#endif

#ifdef __cplusplus
}
#endif

#endif
