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

/* Four 2 MiB chunks per reader: enough to keep the threads busy, little
 * memory. */
#define NSLOTS 4

/*
 * One reader thread with its own handle of the source.  With n readers,
 * reader k takes the items whose place in the sequence is k, k+n, k+2n...:
 * every reader walks the same runs (block status is cheap and the same
 * for every handle), but reads the data only for its own items into its
 * own ring, so n readers inflate compressed clusters on n cores.
 */
struct reader {
    struct prefetch *pf;
    struct img *src;
    unsigned k;
    struct pf_item slot[NSLOTS];
    unsigned filled, taken; /* counters; slot index is counter % NSLOTS */
    pthread_t thread;
};

struct prefetch {
    struct pf_params p;
    unsigned n; /* readers */
    struct reader r[PREFETCH_MAX_READERS];
    uint64_t next; /* the place of the item the writer takes next */
    bool stop;
    pthread_mutex_t lock;
    pthread_cond_t can_fill, can_take;
};

/* Wait for a free slot in rd's ring; NULL when the writer asked the
 * readers to stop. */
static struct pf_item *free_slot(struct reader *rd)
{
    struct prefetch *pf = rd->pf;
    struct pf_item *it = NULL;
    pthread_mutex_lock(&pf->lock);
    while (!pf->stop && rd->filled - rd->taken == NSLOTS)
        pthread_cond_wait(&pf->can_fill, &pf->lock);
    if (!pf->stop)
        it = &rd->slot[rd->filled % NSLOTS];
    pthread_mutex_unlock(&pf->lock);
    return it;
}

/* Hand the slot just filled to the writer.  Several readers may wait on
 * can_take's twin can_fill, so the writer broadcasts; one writer waits
 * here, so a signal is enough. */
static void publish(struct reader *rd)
{
    struct prefetch *pf = rd->pf;
    pthread_mutex_lock(&pf->lock);
    rd->filled++;
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

/* Publish an error item with message msg at rd's next place in the
 * sequence: whichever reader meets a failure first, the writer stops at
 * the first error item it takes. */
static void publish_error(struct reader *rd, const char *msg)
{
    struct pf_item *it = free_slot(rd);
    if (!it)
        return;
    it->kind = PF_ERROR;
    snprintf(it->msg, sizeof(it->msg), "%s", msg);
    publish(rd);
}

static void *reader(void *arg)
{
    struct reader *rd = arg;
    struct prefetch *pf = rd->pf;
    const struct pf_params *p = &pf->p;
    uint64_t size = img_size(rd->src), off = 0, n = 0, place = 0;
    char msg[sizeof(((struct pf_item *)0)->msg)];
    struct pf_item *it;
    for (; off < size; off += n, place++) {
        enum pf_kind kind;
        int r = next_run(rd->src, p, off, size, &kind, &n);
        if (r < 0) {
            snprintf(msg, sizeof(msg), "error while reading block status at offset %llu: %s",
                     (unsigned long long)off, img_msg(rd->src, r));
            publish_error(rd, msg);
            return NULL;
        }
        /* Another reader's item: only the walk goes on. */
        if (place % pf->n != rd->k)
            continue;
        if (!(it = free_slot(rd)))
            return NULL;
        it->kind = kind;
        it->off = off;
        it->n = n;
        if (kind == PF_DATA && (r = img_read(rd->src, off, it->buf, n)) < 0) {
            snprintf(msg, sizeof(msg), "error while reading at byte %llu: %s",
                     (unsigned long long)off, img_msg(rd->src, r));
            /* The slot is not published: the error item takes it. */
            publish_error(rd, msg);
            return NULL;
        }
        publish(rd);
    }
    /* The end mark is the item after the last run: its reader sends it. */
    if (place % pf->n == rd->k && (it = free_slot(rd))) {
        it->kind = PF_END;
        it->off = size;
        it->n = 0;
        publish(rd);
    }
    return NULL;
}

/* Free what prefetch_start allocated (threads already joined). */
static void free_prefetch(struct prefetch *pf)
{
    for (unsigned i = 0; i < PREFETCH_MAX_READERS; i++)
        for (int j = 0; j < NSLOTS; j++)
            free(pf->r[i].slot[j].buf);
    free(pf);
}

/* Ask every reader to stop and wait for the first `started` of them. */
static void stop_readers(struct prefetch *pf, unsigned started)
{
    /* A reader may be waiting for a slot or in the middle of a read; it
     * sees stop at its next wait and ends. */
    pthread_mutex_lock(&pf->lock);
    pf->stop = true;
    pthread_cond_broadcast(&pf->can_fill);
    pthread_mutex_unlock(&pf->lock);
    for (unsigned i = 0; i < started; i++)
        pthread_join(pf->r[i].thread, NULL);
}

struct prefetch *prefetch_start(struct img *const *srcs, unsigned n, const struct pf_params *p)
{
    struct prefetch *pf = calloc(1, sizeof(*pf));
    unsigned started = 0;
    if (!pf)
        return NULL;
    pf->p = *p;
    pf->n = n < 1 ? 1 : n > PREFETCH_MAX_READERS ? PREFETCH_MAX_READERS : n;
    for (unsigned i = 0; i < pf->n; i++) {
        pf->r[i] = (struct reader){.pf = pf, .src = srcs[i], .k = i};
        for (int j = 0; j < NSLOTS; j++)
            if (!(pf->r[i].slot[j].buf = malloc(p->chunk))) {
                free_prefetch(pf);
                return NULL;
            }
    }
    pthread_mutex_init(&pf->lock, NULL);
    pthread_cond_init(&pf->can_fill, NULL);
    pthread_cond_init(&pf->can_take, NULL);
    while (started < pf->n &&
           pthread_create(&pf->r[started].thread, NULL, reader, &pf->r[started]) == 0)
        started++;
    if (started < pf->n) {
        stop_readers(pf, started);
        pthread_mutex_destroy(&pf->lock);
        pthread_cond_destroy(&pf->can_fill);
        pthread_cond_destroy(&pf->can_take);
        free_prefetch(pf);
        return NULL;
    }
    return pf;
}

/* The reader whose turn it is. */
static struct reader *current(struct prefetch *pf)
{
    return &pf->r[pf->next % pf->n];
}

struct pf_item *prefetch_next(struct prefetch *pf)
{
    struct reader *rd = current(pf);
    pthread_mutex_lock(&pf->lock);
    while (rd->filled == rd->taken)
        pthread_cond_wait(&pf->can_take, &pf->lock);
    struct pf_item *it = &rd->slot[rd->taken % NSLOTS];
    pthread_mutex_unlock(&pf->lock);
    return it;
}

void prefetch_release(struct prefetch *pf)
{
    pthread_mutex_lock(&pf->lock);
    current(pf)->taken++;
    pf->next++;
    /* Several readers may wait for room, each for its own ring. */
    pthread_cond_broadcast(&pf->can_fill);
    pthread_mutex_unlock(&pf->lock);
}

void prefetch_stop(struct prefetch *pf)
{
    if (!pf)
        return;
    stop_readers(pf, pf->n);
    pthread_mutex_destroy(&pf->lock);
    pthread_cond_destroy(&pf->can_fill);
    pthread_cond_destroy(&pf->can_take);
    free_prefetch(pf);
}
