/*
 * img.c: image handles, format probing, the raw format and the dispatch of
 * every public call to the format driver.
 *
 * A raw image is the virtual disk byte for byte, so its "driver" is just
 * bounds checking around the block backend.  qcow2 lives in qcow2_*.c.
 *
 * Reading order: img_open() (through img_open_depth(), which probes the
 * format and opens the backing chain with open_chain()), then the request
 * path img_read(), img_write() and img_write_zeroes(), which check the
 * range once here so that no driver has to, and img_close().
 *
 * The library never calls malloc, stdio or a file system directly: all of
 * that comes in through struct img_env and struct img_io (img.h), so the
 * same code runs hosted under the CLI and freestanding inside hv.  The
 * helpers at the top of this file are the only place that talks to those
 * two interfaces, and they turn every failure into a message that names
 * the file, so that no caller further down has to.
 */
#include "internal.h"

/*
 * ---- Errors, memory and the backend ----
 *
 * Every error a user or a guest can cause ends as a message on the handle
 * (or in struct img_err before there is one) and a negative IMG_E* code.
 * The CLI prints the message as qemu-img would, hv passes the code to the
 * guest; neither has to know where in the library it came from.
 */

/*
 * Record an error message on the handle and return the negative code, so
 * that a failing function can write `return img_fail(img, IMG_EIO, ...)`.
 * The message replaces any earlier one.  The convention that keeps the
 * most specific message is on the callers' side: a function whose callee
 * failed returns the callee's code (`return -IMG_EIO`) without a message of
 * its own, so the words the user sees come from where the failure was
 * found ("Could not read 65536 bytes at offset ..." rather than "Read
 * failed").
 */
int img_fail(struct img *img, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(img->err, sizeof(img->err), fmt, ap);
    va_end(ap);
    return -code;
}

/* The same for functions without a handle (opening, creating): the
 * message goes into the caller's struct img_err, which may be NULL when
 * the caller only wants the code. */
int err_set(struct img_err *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        kvsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
        err->code = -code;
    }
    return -code;
}

/*
 * All memory comes from the environment's allocator, which returns zeroed
 * memory like calloc() (struct img_env in img.h): code that builds a
 * header or a table in a fresh buffer relies on every byte it does not set
 * being zero.
 */
void *img_alloc(const struct img_env *env, size_t n)
{
    /* Zero-sized requests still get a distinct block so NULL means failure. */
    return env->alloc(env->ctx, n ? n : 1);
}

/* Like free(), NULL is accepted, which keeps the cleanup paths of
 * half-opened handles short. */
void img_free(const struct img_env *env, void *p)
{
    if (p)
        env->free(env->ctx, p);
}

/* strdup() through the environment's allocator (klib has none). */
char *img_strdup(const struct img_env *env, const char *s)
{
    size_t n = strlen(s);
    char *d = img_alloc(env, n + 1);
    if (d)
        memcpy(d, s, n + 1);
    return d;
}

/*
 * Backend wrappers: turn a backend failure into a message naming the file.
 * Every access of the library to the image file goes through these three,
 * so the message always says which file, where and how much, and the
 * callers only pass the code on.  A backend reads past the end of the
 * file as zeros (struct img_io in img.h), as QEMU's file protocol does,
 * so a short read is not an error here.
 */
int io_read(struct img *img, uint64_t off, void *buf, size_t len)
{
    int r = img->io.read(img->io.ctx, off, buf, len);
    if (r < 0)
        return img_fail(img, -r, "Could not read %zu bytes at offset %llu of '%s'", len,
                        (unsigned long long)off, img->name);
    return 0;
}

/* Writes are ordered by the caller and reach the backend at once: the
 * library keeps no dirty metadata in memory (see QC_CACHE_SLOTS in
 * internal.h), which is what its crash-consistency rests on. */
int io_write(struct img *img, uint64_t off, const void *buf, size_t len)
{
    int r;
    /* The read-only check is repeated here so no path can write by mistake. */
    if (!img->rw)
        return img_fail(img, IMG_EROFS, "Image '%s' is opened read-only", img->name);
    r = img->io.write(img->io.ctx, off, buf, len);
    if (r < 0)
        return img_fail(img, -r, "Could not write %zu bytes at offset %llu of '%s'", len,
                        (unsigned long long)off, img->name);
    return 0;
}

/* The file's current length: a qcow2 image allocates new clusters at its
 * end, and a raw image's virtual size follows from it. */
int io_size(struct img *img, uint64_t *size)
{
    int r = img->io.size(img->io.ctx, size);
    if (r < 0)
        return img_fail(img, -r, "Could not get the size of '%s'", img->name);
    return 0;
}

/* The accessors below are for the CLI and hv, which see struct img only
 * as an opaque handle (img.h). */
const char *img_strerror(const struct img *img)
{
    return img->err;
}

const char *img_name(const struct img *img)
{
    return img->name;
}

uint64_t img_size(const struct img *img)
{
    return img->size;
}

struct img *img_backing(struct img *img)
{
    return img->backing;
}

/*
 * ---- Opening ----
 *
 * Opening reads and checks everything before it writes anything, down the
 * whole backing chain, so that an image refused for any reason (a bad
 * header, a missing backing file, a loop) is left exactly as it was.
 */

/*
 * Guess the format from the first bytes of a file, as qemu-img does when
 * no -f is given.  Probing is a known hazard (a raw guest disk that starts
 * with the qcow2 magic would be opened as qcow2, and its "backing file"
 * read from the host), which is why QEMU 7.2 insists on an explicit format
 * for backing files; the CLI warns about a probed raw image as QEMU does.
 */
int img_probe(const void *buf, size_t len)
{
    /* qcow2 is recognised by its magic alone (qcow2.txt "Header": the
     * first four bytes are "QFI\xfb"); qc_open() then refuses a version
     * it does not know with a clear message rather than calling the file
     * raw.  Everything else is raw, as in qemu-img's probing. */
    /* Eight bytes: the magic and the version, the smallest prefix that
     * can be a qcow2 header at all. */
    if (len >= 8 && be32(buf) == QCOW2_MAGIC)
        return IMG_FMT_QCOW2;
    return IMG_FMT_RAW;
}

/*
 * Free a handle whose open failed or that is being closed, with its whole
 * backing chain.  A failed open does not close the caller's io (the caller
 * still owns it and reports the error), a close does; hence close_io.
 */
static void img_destroy(struct img *img, bool close_io)
{
    const struct img_env *env = img->env;
    /* The driver's state first, then the chain below: each backing image
     * was opened read-only, so closing it writes nothing. */
    if (img->q)
        qc_close(img);
    if (img->backing)
        img_close(img->backing);
    if (close_io && img->io.close)
        img->io.close(img->io.ctx);
    img_free(env, img->name);
    img_free(env, img);
}

/*
 * Open the backing chain of img.  `depth` counts the images above; the
 * chain is refused when it is too deep (which also catches loops through
 * different names) or when a name repeats along the chain.
 */
static int open_chain(struct img *img, const char *backing_name, const char *backing_fmt, int depth,
                      const char *const *names, bool writable, struct img_err *err);

/*
 * Open one image of a chain: probe or check its format, open it with its
 * driver, open its backing chain below it, and only then make the first
 * writes of a read-write open.  `names` are the images above this one (for
 * loop detection in open_chain()), `depth` how many there are.
 */
static int img_open_depth(const struct img_env *env, struct img_io *io, const char *name,
                          const char *fmt, unsigned flags, const struct img_open_opts *opts,
                          int depth, const char *const *names, struct img **out,
                          struct img_err *err)
{
    struct img *img;
    uint8_t magic[8];
    int r;

    /* A caller may test err->msg[0] after a success too. */
    if (err) {
        err->code = 0;
        err->msg[0] = 0;
    }
    img = img_alloc(env, sizeof(*img));
    if (!img)
        return err_set(err, IMG_ENOMEM, "Out of memory");
    /* The handle keeps its own copy of the backend; the caller's struct
     * may live on its stack.  From here on, failures go through `fail`,
     * which frees the handle but leaves the backend open. */
    img->env = env;
    img->io = *io;
    img->flags = flags;
    img->rw = (flags & IMG_OPEN_RW) != 0;
    img->name = img_strdup(env, name ? name : "");
    if (!img->name) {
        img_free(env, img);
        return err_set(err, IMG_ENOMEM, "Out of memory");
    }

    /* The first bytes decide the format when none is given; they are read
     * even with a format, so that an unreadable file fails here, with a
     * message naming it, whatever the format. */
    r = io->read(io->ctx, 0, magic, sizeof(magic));
    if (r < 0) {
        err_set(err, -r, "Could not read image '%s'", img->name);
        goto fail;
    }
    /* An explicit format always wins over the magic: "-f raw" on a qcow2
     * file shows the file's bytes, as qemu-img does. */
    if (!fmt) {
        img->format = img_probe(magic, sizeof(magic));
    } else if (!strcmp(fmt, "raw")) {
        img->format = IMG_FMT_RAW;
    } else if (!strcmp(fmt, "qcow2")) {
        img->format = IMG_FMT_QCOW2;
    } else {
        /* QEMU's words for a format it has no driver for. */
        r = err_set(err, IMG_EINVAL, "Unknown driver '%s'", fmt);
        goto fail;
    }

    if (img->format == IMG_FMT_RAW) {
        /* QEMU's block layer counts whole sectors (block.c
         * bdrv_refresh_total_sectors), so a 6-byte raw file is a 512-byte
         * disk whose tail reads as zeros. */
        r = io_size(img, &img->file_size);
        img->size = (img->file_size + 511) & ~(uint64_t)511;
        /* A data file is a qcow2 option; QEMU's raw driver refuses it,
         * even for info, by the name the user gave it. */
        if (r == 0 && opts && opts->data_file_key)
            r = err_set(err, IMG_EINVAL, "Block format 'raw' does not support the option '%s'",
                        opts->data_file_key);
    } else {
        /* qc_open() only reads; a backing file is opened next, unless the
         * caller looks at this image alone (info, check, rebase -u). */
        r = qc_open(img, opts);
        if (r == 0 && img->q->backing_file[0] && !(flags & IMG_OPEN_NO_BACKING))
            r = open_chain(img, img->q->backing_file,
                           img->q->backing_fmt[0] ? img->q->backing_fmt : NULL, depth, names, false,
                           err);
        else if (r < 0)
            err_set(err, -r, "%s", img->err);
    }
    /* Writes only once the whole chain opened (a refused image is never
     * modified): qc_open_rw() may repair a dirty image and clears unknown
     * autoclear bits, and neither must happen to an image whose backing
     * file then turns out to be missing. */
    if (r == 0 && img->q && img->rw) {
        r = qc_open_rw(img);
        if (r < 0)
            err_set(err, -r, "%s", img->err);
    }
    /* The handle's message becomes the caller's unless a deeper level
     * (the backing chain) already wrote a better one into err. */
    if (r < 0) {
        if (err && !err->msg[0])
            err_set(err, -r, "%s", img->err);
        goto fail;
    }
    *out = img;
    return 0;
fail:
    img_destroy(img, false);
    return r;
}

/*
 * Where a backing file named `name` in the image `referrer` lives: relative
 * names are relative to the referring image's directory, not to the
 * current one, as in QEMU (block.c bdrv_get_full_backing_filename()), so a
 * chain keeps working when the whole directory is moved.
 */
bool img_backing_path(const char *referrer, const char *name, char *out, size_t len)
{
    size_t dir = 0, n = strlen(name);
    /* The referrer's directory, up to and including its last slash, goes
     * in front of a relative name; "/" starts an absolute one.  (klib has
     * no strrchr: the core stays freestanding.) */
    if (name[0] != '/')
        for (size_t i = 0; referrer[i]; i++)
            if (referrer[i] == '/')
                dir = i + 1;
    /* Refuse rather than truncate: a cut name could open another file. */
    if (dir + n + 1 > len)
        return false;
    memcpy(out, referrer, dir);
    memcpy(out + dir, name, n + 1);
    return true;
}

/* Put "Could not open backing file: " in front of err's message, as QEMU
 * does for every level of the chain that fails to open below it. */
static void err_prefix_backing(struct img_err *err)
{
    char inner[sizeof(err->msg)];
    if (!err)
        return;
    ksnprintf(inner, sizeof(inner), "%s", err->msg);
    ksnprintf(err->msg, sizeof(err->msg), "Could not open backing file: %s", inner);
}

static int open_chain(struct img *img, const char *backing_name, const char *backing_fmt, int depth,
                      const char *const *names, bool writable, struct img_err *err)
{
    /* The names above the backing image: ours and those above us. */
    const char *chain[IMG_MAX_CHAIN + 1];
    char path[1024 + 4096];
    struct img_io backing_io;
    int i, r;

    /* QEMU limits a chain too; a limit keeps a hostile chain from using
     * unbounded memory and file descriptors. */
    if (depth + 1 >= IMG_MAX_CHAIN)
        return err_set(err, IMG_ELOOP, "Backing chain of '%s' is too deep (more than %d images)",
                       img->name, IMG_MAX_CHAIN);
    /* The backing image is known by its name relative to this image's
     * directory: the next level resolves against that, and map, commit
     * and messages show the file actually used, as QEMU's do. */
    if (!img_backing_path(img->name, backing_name, path, sizeof(path)))
        return err_set(err, IMG_EINVAL, "Backing file name '%s' is too long", backing_name);
    /* A name that already appears above us is a loop (a.qcow2 -> b -> a). */
    for (i = 0; i < depth; i++)
        if (!strcmp(names[i], path))
            return err_set(err, IMG_ELOOP, "Backing file '%s' of '%s' forms a loop", backing_name,
                           img->name);
    /* The image itself is not in names[]; check it on its own. */
    if (!strcmp(path, img->name))
        return err_set(err, IMG_ELOOP, "Image '%s' uses itself as backing file", img->name);
    /* The environment decides how a name becomes a file: the hosted one
     * opens it relative to the image, hv has its own disks. */
    if (!img->env->open_backing)
        return err_set(err, IMG_ENOTSUP, "Cannot open backing file '%s'", backing_name);
    memset(&backing_io, 0, sizeof(backing_io));
    r = img->env->open_backing(img->env->ctx, img->name, backing_name, writable, &backing_io, err);
    /* The environment may have written its own message (e.g. the
     * hosted one's "No such file or directory"); give one otherwise. */
    if (r < 0) {
        if (err && !err->msg[0])
            err_set(err, -r, "Could not open '%s'", path);
        err_prefix_backing(err);
        return r;
    }
    for (i = 0; i < depth; i++)
        chain[i] = names[i];
    chain[depth] = img->name;
    /* Backing files are only read: writes always go to the top image.
     * The exception is a commit, which writes into the backing file
     * (img_reopen_backing(), or the CLI's handle of its own); its own
     * backing files stay read-only even then. */
    unsigned flags = (img->flags & ~IMG_OPEN_RW) | (writable ? IMG_OPEN_RW : 0);
    r = img_open_depth(img->env, &backing_io, path, backing_fmt, flags, NULL, depth + 1, chain,
                       &img->backing, err);
    if (r < 0) {
        if (backing_io.close)
            backing_io.close(backing_io.ctx);
        /* A loop is reported once, by the level that found it, without a
         * "Could not open backing file: " for every level above. */
        if (r != -IMG_ELOOP)
            err_prefix_backing(err);
        return r;
    }
    return 0;
}

/* The top of a chain: nothing above it. */
int img_open(const struct img_env *env, struct img_io *io, const char *name, const char *fmt,
             unsigned flags, struct img **out, struct img_err *err)
{
    return img_open_depth(env, io, name, fmt, flags, NULL, 0, NULL, out, err);
}

int img_open_with(const struct img_env *env, struct img_io *io, const char *name, const char *fmt,
                  unsigned flags, const struct img_open_opts *opts, struct img **out,
                  struct img_err *err)
{
    return img_open_depth(env, io, name, fmt, flags, opts, 0, NULL, out, err);
}

/*
 * A backing file opened again, writable or read-only (QEMU's
 * bdrv_reopen_set_read_only(), which bdrv_commit calls on the backing
 * file around a commit).  The new handle is opened before the old one is
 * closed, so a failure leaves the chain as it was; the old one is flushed
 * first, so the new one reads everything it wrote.  Reopening, rather than
 * a second handle beside the chain's, matters to a program that goes on
 * reading through the chain (hv): a qcow2 handle keeps its L1 table in
 * memory, and the chain's own handle must be the one that sees the clusters
 * a commit allocates.
 */
int img_reopen_backing(struct img *img, bool writable, struct img_err *err)
{
    struct img *old = img->backing;
    if (err) {
        err->code = 0;
        err->msg[0] = 0;
    }
    if (!img->q || !old)
        return err_set(err, IMG_ENOTSUP, "Image '%s' has no backing file", img->name);
    if (old->rw == writable)
        return 0;
    if (old->rw && img_flush(old) < 0)
        return err_set(err, IMG_EIO, "%s", img_strerror(old));
    img->backing = NULL;
    int r = open_chain(img, img->q->backing_file,
                       img->q->backing_fmt[0] ? img->q->backing_fmt : NULL, 0, NULL, writable, err);
    if (r < 0) {
        img->backing = old;
        return r;
    }
    /* Everything the old handle wrote is on the file already (flushed
     * above), so a failure to close it loses nothing the new one needs. */
    img_close(old);
    return 0;
}

/*
 * Close a handle.  Everything was written through already; what is left is
 * the state that is stored only at the end: the persistent bitmaps of this
 * session, then the flush that makes the data stable and clears the dirty
 * bit (qc_flush()).  The first failure is returned, but the handle is
 * freed in any case.
 */
int img_close(struct img *img)
{
    int r = 0;
    if (!img)
        return 0;
    /* Bitmaps that recorded this session's writes are stored first. */
    if (img->rw && img->q)
        r = qc_bitmaps_close(img);
    /* Flush even when storing the bitmaps failed: the data written this
     * session must still become stable. */
    if (img->rw) {
        int f = img_flush(img);
        r = r < 0 ? r : f;
    }
    img_destroy(img, true);
    return r;
}

/*
 * ---- Requests ----
 *
 * Reads and writes are checked against the virtual disk here, once, and
 * then handed to the format: raw straight to the backend, qcow2 to
 * qcow2_io.c, which maps guest offsets to host clusters.
 */

/* Validate a guest access against the virtual disk.  Written so that
 * off + len cannot overflow: a hostile length near 2^64 is refused too. */
static int check_range(struct img *img, uint64_t off, uint64_t len)
{
    /* An access that ends exactly at the end is allowed, and a zero-length
     * access at the end too (callers return early for len == 0). */
    if (off > img->size || len > img->size - off)
        return img_fail(img, IMG_ERANGE,
                        "Access at offset %llu, length %llu is beyond the end of the %llu-byte "
                        "image '%s'",
                        (unsigned long long)off, (unsigned long long)len,
                        (unsigned long long)img->size, img->name);
    return 0;
}

/* What an overlay reads where it allocates nothing itself (qcow2.txt
 * "Cluster mapping": unallocated clusters read from the backing file). */
int img_read_backing(struct img *img, uint64_t off, void *buf, size_t len)
{
    struct img *backing = img->backing;
    size_t from_backing = 0;
    /* The part the backing file covers comes from it; the rest (a backing
     * file shorter than the overlay, or none) reads as zeros. */
    if (backing && off < backing->size) {
        /* The backing image checks its own range, so ask only for what it
         * has; its message is passed up under the overlay's handle. */
        from_backing = len;
        if (from_backing > backing->size - off)
            from_backing = (size_t)(backing->size - off);
        if (img_read(backing, off, buf, from_backing) < 0)
            return img_fail(img, IMG_EIO, "%s", backing->err);
    }
    memset((uint8_t *)buf + from_backing, 0, len - from_backing);
    return 0;
}

/* The request path: one range check here, then the driver.  A raw image
 * is read straight from the file, zero-padded past its end by the backend. */
int img_read(struct img *img, uint64_t off, void *buf, size_t len)
{
    int r = check_range(img, off, len);
    if (r < 0 || len == 0)
        return r;
    if (img->format == IMG_FMT_RAW)
        return io_read(img, off, buf, len);
    return qc_read(img, off, buf, len);
}

/*
 * A write marks the range in the persistent bitmaps before the data is
 * written: if the process dies in between, a bitmap claims a change that
 * did not happen, which costs an incremental backup a little extra copying;
 * the other order could lose a change the backup must see.
 */
int img_write(struct img *img, uint64_t off, const void *buf, size_t len)
{
    int r = check_range(img, off, len);
    if (r < 0 || len == 0)
        return r;
    /* Refused before anything is marked in a bitmap or allocated. */
    if (!img->rw)
        return img_fail(img, IMG_EROFS, "Image '%s' is opened read-only", img->name);
    if (img->format == IMG_FMT_RAW) {
        r = io_write(img, off, buf, len);
        /* A write into the zero-padded tail makes the file longer.  The
         * virtual size stays a whole number of sectors; only the file's
         * own length, which info reports, changes. */
        if (r == 0 && off + len > img->file_size)
            img->file_size = off + len;
        return r;
    }
    /* qcow2: bitmaps first, see above; the write itself may allocate
     * clusters, copy a shared L2 table or write a whole cluster of an
     * image with a backing file (qcow2_io.c). */
    r = qc_bitmaps_dirty(img, off, len);
    return r < 0 ? r : qc_write(img, off, buf, len);
}

/* Make a range read as zeros.  qcow2 can do that in its metadata (zero
 * flags or unmapped clusters, qcow2_io.c); a raw file gets real zeros. */
int img_write_zeroes(struct img *img, uint64_t off, uint64_t len, unsigned flags)
{
    int r = check_range(img, off, len);
    if (r < 0 || len == 0)
        return r;
    if (!img->rw)
        return img_fail(img, IMG_EROFS, "Image '%s' is opened read-only", img->name);
    /* Zeroing is a change like any other for an incremental backup, so it
     * is marked in the bitmaps before it happens. */
    if (img->format == IMG_FMT_QCOW2) {
        r = qc_bitmaps_dirty(img, off, len);
        return r < 0 ? r : qc_write_zeroes(img, off, len, flags);
    }
    /* Raw: write zeros in bounded chunks from a zeroed buffer, so the
     * range holds real zeros on every backend (discard() is optional and
     * may be missing).  The file grows as the writes pass its end, as it
     * does for img_write(). */
    {
        static const uint8_t zero[4096];
        while (len) {
            size_t n = len > sizeof(zero) ? sizeof(zero) : (size_t)len;
            r = io_write(img, off, zero, n);
            if (r < 0)
                return r;
            if (off + n > img->file_size)
                img->file_size = off + n;
            off += n;
            len -= n;
        }
    }
    return 0;
}

/*
 * ---- Information ----
 *
 * What info, check and the tests read about an image.  These calls only
 * copy what open already decoded; only img_get_info() asks the backend
 * (for the file's current length and allocated size).
 */

/* The unit worth aligning requests to: a cluster, or a sector for raw. */
uint32_t img_cluster_size(const struct img *img)
{
    return img->q ? img->q->cluster_size : 512;
}

/*
 * Make everything written so far stable.  The format's own step comes
 * first (qc_flush() clears the dirty bit once the data is on disk), then
 * the backend's flush.  IMG_OPEN_NO_FLUSH skips the latter for images
 * nobody needs on disk yet, as qemu-img's cache=unsafe does for a new
 * convert target.
 */
int img_flush(struct img *img)
{
    int r;
    /* Nothing to make stable on a read-only handle. */
    if (!img->rw)
        return 0;
    if (img->q) {
        r = qc_flush(img);
        if (r < 0)
            return r;
    }
    if (img->io.flush && !(img->flags & IMG_OPEN_NO_FLUSH) && img->io.flush(img->io.ctx) < 0)
        return img_fail(img, IMG_EIO, "Could not flush '%s'", img->name);
    return 0;
}

/*
 * Everything qemu-img info prints about one image.  disk_size is what the
 * file occupies (allocated_size(), st_blocks in the hosted backend), which
 * is less than its length for a sparse file; file_size is the length.
 */
int img_get_info(struct img *img, struct img_info *info)
{
    /* Fields a raw image does not have stay zero (no version, no backing
     * file, no snapshots), which is what info prints for raw. */
    memset(info, 0, sizeof(*info));
    info->format = img->format;
    info->virtual_size = img->size;
    if (io_size(img, &info->file_size) < 0)
        return -IMG_EIO;
    /* A backend that cannot tell the allocated size (hv's) reports the
     * length, which is what a fully allocated file would occupy. */
    info->disk_size = info->file_size;
    if (img->io.allocated_size)
        img->io.allocated_size(img->io.ctx, &info->disk_size);
    /* The qcow2 fields, as the header has them (qcow2.txt "Header"); the
     * feature bits are passed on whole so that info can name them. */
    if (img->q) {
        struct qcow2 *q = img->q;
        info->qcow2_version = (int)q->h.version;
        info->cluster_size = q->cluster_size;
        info->refcount_bits = q->rc_bits;
        info->lazy_refcounts = (q->h.compatible_features & QF_COMPAT_LAZY_REFCOUNTS) != 0;
        info->corrupt = (q->h.incompatible_features & QF_INCOMPAT_CORRUPT) != 0;
        info->dirty = (q->h.incompatible_features & QF_INCOMPAT_DIRTY) != 0;
        info->extended_l2 = q->ext_l2;
        info->compression_type = q->h.compression_type;
        info->has_backing = q->backing_file[0] != 0;
        memcpy(info->backing_file, q->backing_file, sizeof(info->backing_file));
        memcpy(info->backing_fmt, q->backing_fmt, sizeof(info->backing_fmt));
        info->nb_snapshots = q->nb_snaps;
        info->incompatible_features = q->h.incompatible_features;
        info->compatible_features = q->h.compatible_features;
        info->autoclear_features = q->h.autoclear_features;
        info->bitmaps_stale = q->bm_stale;
        /* The external data file as the header names it (qcow2_data.c);
         * info reports it even when the file itself cannot be opened. */
        info->has_data_file = q->data_file;
        info->data_file_raw = q->data_raw;
        memcpy(info->data_file, q->data_name, sizeof(info->data_file));
    }
    return 0;
}

/* Raw access to the decoded header and its extensions, for dump and the
 * tests: the header in host byte order, extensions as read from disk. */
const struct img_qcow2_header *img_qcow2_get_header(const struct img *img)
{
    return img->q ? &img->q->h : NULL;
}

/* Extensions are kept in file order, including those this library does
 * not know, which qc_update_header() writes back unchanged. */
int img_qcow2_ext_count(const struct img *img)
{
    return img->q ? img->q->nb_exts : 0;
}

int img_qcow2_ext_get(const struct img *img, int index, uint32_t *type, uint32_t *len,
                      const void **data)
{
    /* The index comes from the caller: check it, raw images have none. */
    if (!img->q || index < 0 || index >= img->q->nb_exts)
        return -IMG_EINVAL;
    *type = img->q->exts[index].type;
    *len = img->q->exts[index].len;
    *data = img->q->exts[index].data;
    return 0;
}

/* preallocation=off|metadata|falloc|full, in the order of enum
 * img_prealloc (img.h); -1 for any other word. */
int img_prealloc_parse(const char *s)
{
    static const char *const names[] = {"off", "metadata", "falloc", "full"};
    for (unsigned i = 0; i < KARRAY_SIZE(names); i++)
        if (!strcmp(s, names[i]))
            return (int)i;
    return -1;
}
