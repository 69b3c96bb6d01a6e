/*
 * Read-ahead for convert: reader threads walk one source image (block
 * status, then the data) a few chunks ahead of the thread that writes the
 * target, so reading and writing overlap on two cores, as they do in
 * qemu-img convert (whose reads and writes run in its thread pool).  With
 * two readers, each with its own handle of the source, every other chunk
 * is read by the second one: reading a compressed qcow2 is mostly
 * inflating, and qemu-img inflates in its thread pool too.
 *
 * Each handle of the library is used by one thread only: each reader owns
 * its handle of the source (and its backing chain), the main thread the
 * target; the library keeps no global state.  Items come out strictly in
 * source order, so the target is written exactly as a sequential copy
 * writes it.
 */
#ifndef IMGTOOL_PREFETCH_H
#define IMGTOOL_PREFETCH_H

#include <stdbool.h>
#include <stdint.h>

struct img;
struct prefetch;

/* What the writer must do with [off, off+n) of the source. */
enum pf_kind {
    PF_SKIP,  /* left to the target's backing file */
    PF_ZERO,  /* reads as zeros */
    PF_DATA,  /* data, in buf */
    PF_END,   /* the whole source was handed out */
    PF_ERROR, /* reading failed; msg says how (qemu-img's wording) */
};

struct pf_item {
    enum pf_kind kind;
    uint64_t off, n;
    unsigned char *buf;
    char msg[640];
};

/* How the source is cut: chunks of at most chunk bytes; with compress,
 * data runs are extended to cluster boundaries of the target (whose
 * offset for source offset 0 is base); with target_has_backing only what
 * the top image allocates is copied (the rest is PF_SKIP). */
struct pf_params {
    uint64_t chunk, base;
    uint32_t cluster;
    bool compress, target_has_backing;
    uint64_t backing_end; /* the target's backing file's size (target offsets) */
    bool split_zeros;     /* zero runs in chunks too, not as one item */
};

/* The bytes of src that will come as PF_DATA items (and PF_ZERO ones if
 * with_zeros): qemu-img convert's "allocated sectors", the 100 % of its
 * progress.  Returns 0 or the library's negative code. */
int prefetch_count(struct img *src, const struct pf_params *p, bool with_zeros, uint64_t *bytes);
/* The most reader threads one walk uses. */
#define PREFETCH_MAX_READERS 2
/* Start reading the source with n reader threads, srcs[i] being reader
 * i's own handle of the same image (1 <= n <= PREFETCH_MAX_READERS); NULL
 * if out of memory or no thread could start. */
struct prefetch *prefetch_start(struct img *const *srcs, unsigned n, const struct pf_params *p);
/* The next item, waiting for the reader if need be; valid until
 * prefetch_release.  After PF_END or PF_ERROR nothing more comes. */
struct pf_item *prefetch_next(struct prefetch *pf);
/* Give the buffer of the item from prefetch_next back to the reader. */
void prefetch_release(struct prefetch *pf);
/* Stop the reader (at any point) and free everything. */
void prefetch_stop(struct prefetch *pf);

#endif
