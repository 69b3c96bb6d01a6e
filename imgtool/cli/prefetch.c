/*
 * prefetch.c: the reader thread of convert (see prefetch.h).
 *
 * A ring of NSLOTS chunk buffers: the reader fills slots in order and the
 * writer takes them in the same order, under one mutex with one condition
 * variable for each direction.  The cutting rules are those of qemu-img
 * convert (qemu-img.c convert_iteration_sectors): one block status call
 * per step decides whether a run is data, zeros or, with a target backing
 * file, left to that backing file.
 */
#include "prefetch.h"

#include "cli.h"
#include "img.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

/* Four 2 MiB chunks: enough to keep both threads busy, little memory. */
#define NSLOTS 4

struct prefetch {
    struct img *src;
    struct pf_params p;
    struct pf_item slot[NSLOTS];
    unsigned filled, taken; /* counters; slot index is counter % NSLOTS */
    bool stop;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t can_fill, can_take;
};

/* Wait for a free slot; NULL when the writer asked the reader to stop. */
static struct pf_item *free_slot(struct prefetch *pf)
{
    struct pf_item *it = NULL;
    pthread_mutex_lock(&pf->lock);
    while (!pf->stop && pf->filled - pf->taken == NSLOTS)
        pthread_cond_wait(&pf->can_fill, &pf->lock);
    if (!pf->stop)
        it = &pf->slot[pf->filled % NSLOTS];
    pthread_mutex_unlock(&pf->lock);
    return it;
}

/* Hand the slot just filled to the writer. */
static void publish(struct prefetch *pf)
{
    pthread_mutex_lock(&pf->lock);
    pf->filled++;
    pthread_cond_signal(&pf->can_take);
    pthread_mutex_unlock(&pf->lock);
}

/*
 * What the writer does with a run of the given status at source offset
 * off, as qemu-img.c convert_iteration_sectors() decides: zeros are
 * written as zeros, even where the source's top image merely has nothing
 * and no backing file (it reads as zeros, the target's backing file may
 * not), except past the end of the target's backing file, where the
 * target reads zeros anyway; what the source leaves to its own backing
 * file is left to the target's.
 */
static enum pf_kind kind_of(const struct pf_params *p, const struct img_extent *e, uint64_t off)
{
    /* Known zeros count as zeros even where data is allocated (a data
     * cluster over a hole of the host file): BDRV_BLOCK_ZERO wins. */
    if (e->flags & IMG_BS_ZERO)
        return p->target_has_backing && p->base + off >= p->backing_end ? PF_SKIP : PF_ZERO;
    if (p->target_has_backing && !(e->flags & IMG_BS_ALLOCATED) && !(e->flags & IMG_BS_DATA))
        return PF_SKIP;
    return PF_DATA;
}

/*
 * The run that starts at off: its kind and length (at most one chunk of
 * data; zeros and space left to the backing file as far as they go).
 * Returns 0 or the library's negative code.
 */
static int next_run(struct img *src, const struct pf_params *p, uint64_t off, uint64_t size,
                    enum pf_kind *kind, uint64_t *len)
{
    uint64_t want = size - off < p->chunk ? size - off : p->chunk;
    struct img_extent ext = {0};
    /* With a target backing file only the top layer's own data is
     * copied; otherwise the whole chain is flattened. */
    int r = img_block_status(src, off, want, !p->target_has_backing, &ext);
    uint64_t n = ext.length < want ? ext.length : want;
    if (r < 0)
        return r;
    if (n == 0)
        n = want;
    *kind = kind_of(p, &ext, off);
    /* A run of zeros or of space left to the backing file that fills
     * the whole chunk is followed to its end with one more call (for
     * exactly what the run covers, so the walk stays linear): a 4 GiB
     * hole is one item, not 2048 hand-overs between the threads.
     * Compressed output keeps chunk-sized steps. */
    while (*kind != PF_DATA && !p->compress && !(p->split_zeros && *kind == PF_ZERO) && n == want &&
           off + n < size) {
        struct img_extent more;
        r = img_block_status(src, off + n, size - off - n, !p->target_has_backing, &more);
        if (r < 0)
            return r;
        if (!more.length || kind_of(p, &more, off + n) != *kind)
            break;
        n += more.length;
    }
    /* Keep compressed writes cluster-aligned: extend to the next
     * cluster boundary and let the data read decide. */
    if (p->compress && ((p->base + off + n) % p->cluster) && off + n < size) {
        uint64_t end = (p->base + off + n + p->cluster - 1) / p->cluster * p->cluster - p->base;
        n = (end > size ? size : end) - off;
        *kind = PF_DATA;
    }
    *len = n;
    return 0;
}

int prefetch_count(struct img *src, const struct pf_params *p, bool with_zeros, uint64_t *bytes)
{
    uint64_t size = img_size(src), off = 0, n;
    enum pf_kind kind;
    *bytes = 0;
    while (off < size) {
        int r = next_run(src, p, off, size, &kind, &n);
        if (r < 0)
            return r;
        if (kind == PF_DATA || (with_zeros && kind == PF_ZERO))
            *bytes += n;
        off += n;
    }
    return 0;
}

static void *reader(void *arg)
{
    struct prefetch *pf = arg;
    const struct pf_params *p = &pf->p;
    uint64_t size = img_size(pf->src), off = 0, n = 0;
    struct pf_item *it;
    while (off < size) {
        if (!(it = free_slot(pf)))
            return NULL;
        int r = next_run(pf->src, p, off, size, &it->kind, &n);
        if (r < 0) {
            it->kind = PF_ERROR;
            snprintf(it->msg, sizeof(it->msg),
                     "error while reading block status at offset %llu: %s", (unsigned long long)off,
                     img_msg(pf->src, r));
            publish(pf);
            return NULL;
        }
        it->off = off;
        it->n = n;
        if (it->kind == PF_DATA) {
            r = img_read(pf->src, off, it->buf, n);
            if (r < 0) {
                it->kind = PF_ERROR;
                snprintf(it->msg, sizeof(it->msg), "error while reading at byte %llu: %s",
                         (unsigned long long)off, img_msg(pf->src, r));
                publish(pf);
                return NULL;
            }
        }
        publish(pf);
        off += n;
    }
    if ((it = free_slot(pf))) {
        it->kind = PF_END;
        it->off = size;
        it->n = 0;
        publish(pf);
    }
    return NULL;
}

struct prefetch *prefetch_start(struct img *src, const struct pf_params *p)
{
    struct prefetch *pf = calloc(1, sizeof(*pf));
    if (!pf)
        return NULL;
    pf->src = src;
    pf->p = *p;
    for (int i = 0; i < NSLOTS; i++)
        if (!(pf->slot[i].buf = malloc(p->chunk)))
            goto fail;
    pthread_mutex_init(&pf->lock, NULL);
    pthread_cond_init(&pf->can_fill, NULL);
    pthread_cond_init(&pf->can_take, NULL);
    if (pthread_create(&pf->thread, NULL, reader, pf) != 0) {
        pthread_mutex_destroy(&pf->lock);
        pthread_cond_destroy(&pf->can_fill);
        pthread_cond_destroy(&pf->can_take);
        goto fail;
    }
    return pf;
fail:
    for (int i = 0; i < NSLOTS; i++)
        free(pf->slot[i].buf);
    free(pf);
    return NULL;
}

struct pf_item *prefetch_next(struct prefetch *pf)
{
    pthread_mutex_lock(&pf->lock);
    while (pf->filled == pf->taken)
        pthread_cond_wait(&pf->can_take, &pf->lock);
    struct pf_item *it = &pf->slot[pf->taken % NSLOTS];
    pthread_mutex_unlock(&pf->lock);
    return it;
}

void prefetch_release(struct prefetch *pf)
{
    pthread_mutex_lock(&pf->lock);
    pf->taken++;
    pthread_cond_signal(&pf->can_fill);
    pthread_mutex_unlock(&pf->lock);
}

void prefetch_stop(struct prefetch *pf)
{
    if (!pf)
        return;
    /* The reader may be waiting for a slot or in the middle of a read; it
     * sees stop at its next wait and ends. */
    pthread_mutex_lock(&pf->lock);
    pf->stop = true;
    pthread_cond_broadcast(&pf->can_fill);
    pthread_mutex_unlock(&pf->lock);
    pthread_join(pf->thread, NULL);
    pthread_mutex_destroy(&pf->lock);
    pthread_cond_destroy(&pf->can_fill);
    pthread_cond_destroy(&pf->can_take);
    for (int i = 0; i < NSLOTS; i++)
        free(pf->slot[i].buf);
    free(pf);
}
