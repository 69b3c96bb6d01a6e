/*
 * The convert -c compression pipeline (see cpipe.h for the design).
 *
 * A fixed ring of 4 slots per worker.  Slot states go FREE -> FILLED (main
 * thread read the data) -> BUSY (a worker compresses it) -> DONE, and the
 * main thread writes DONE slots from the head of the ring only, so the
 * write order is the submission order.  One mutex guards the states; the
 * data of a slot belongs to whoever moved it into its current state, so
 * compression and writing run without the lock.
 */
#define _GNU_SOURCE
#include "cpipe.h"
#include "img.h"

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

enum slot_state { S_FREE, S_FILLED, S_BUSY, S_DONE };

struct slot {
    enum slot_state state;
    uint64_t off;
    size_t len;
    long comp_len; /* compressed size, 0 = store plain, < 0 = error */
    unsigned char *in, *out;
};

struct cpipe {
    struct img *target;
    size_t cluster_size;
    int nthreads, nslots;
    pthread_t *threads;
    struct slot *slots;
    int head, tail, count; /* ring of submitted slots; tail = next to fill */
    bool stop;
    int error;
    uint64_t error_off;
    pthread_mutex_t lock;
    pthread_cond_t work; /* a slot became FILLED, or stop */
    pthread_cond_t done; /* a slot became DONE */
};

int cpipe_default_threads(void)
{
    /* The cores this process may run on (taskset, cgroup cpusets), which
     * can be fewer than the machine has. */
    cpu_set_t set;
    long n = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set)
                                                          : sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 64 ? 64 : (int)n;
}

static void *worker(void *arg)
{
    struct cpipe *p = arg;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        /* The oldest FILLED slot, so the head finishes first. */
        struct slot *s = NULL;
        for (int i = 0, k = p->head; i < p->count; i++, k = (k + 1) % p->nslots) {
            if (p->slots[k].state == S_FILLED) {
                s = &p->slots[k];
                break;
            }
        }
        if (!s) {
            if (p->stop) {
                break;
            }
            pthread_cond_wait(&p->work, &p->lock);
            continue;
        }
        s->state = S_BUSY;
        pthread_mutex_unlock(&p->lock);
        s->comp_len = img_compress_cluster(p->target, s->in, s->len, s->out, p->cluster_size);
        pthread_mutex_lock(&p->lock);
        s->state = S_DONE;
        pthread_cond_broadcast(&p->done);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

struct cpipe *cpipe_start(struct img *target, int nthreads, size_t cluster_size)
{
    struct cpipe *p = calloc(1, sizeof(*p));
    if (!p) {
        return NULL;
    }
    p->target = target;
    p->cluster_size = cluster_size;
    p->nthreads = nthreads;
    p->nslots = 4 * nthreads;
    p->slots = calloc(p->nslots, sizeof(*p->slots));
    p->threads = calloc(nthreads, sizeof(*p->threads));
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->done, NULL);
    for (int i = 0; i < p->nslots; i++) {
        p->slots[i].in = malloc(cluster_size);
        p->slots[i].out = malloc(cluster_size);
    }
    for (int i = 0; i < nthreads; i++) {
        pthread_create(&p->threads[i], NULL, worker, p);
    }
    return p;
}

/* Write DONE slots at the head, in order; called with the lock held and
 * returns with it held.  With wait_all, waits until the ring is empty. */
static void drain(struct cpipe *p, bool wait_all)
{
    while (p->count > 0) {
        struct slot *s = &p->slots[p->head];
        if (s->state != S_DONE) {
            if (!wait_all && p->count < p->nslots) {
                return;
            }
            pthread_cond_wait(&p->done, &p->lock);
            continue;
        }
        pthread_mutex_unlock(&p->lock);
        int r = 0;
        if (!p->error) {
            if (s->comp_len < 0) {
                r = (int)s->comp_len;
            } else {
                r = img_write_compressed_raw(p->target, s->off, s->out, (size_t)s->comp_len, s->in,
                                             s->len);
            }
        }
        pthread_mutex_lock(&p->lock);
        if (r < 0 && !p->error) {
            p->error = r;
            p->error_off = s->off;
        }
        s->state = S_FREE;
        p->head = (p->head + 1) % p->nslots;
        p->count--;
    }
}

void *cpipe_acquire(struct cpipe *p, uint64_t off, size_t len)
{
    pthread_mutex_lock(&p->lock);
    drain(p, false);
    struct slot *s = &p->slots[p->tail];
    s->off = off;
    s->len = len;
    bool failed = p->error != 0;
    pthread_mutex_unlock(&p->lock);
    return failed ? NULL : s->in;
}

void cpipe_submit(struct cpipe *p)
{
    pthread_mutex_lock(&p->lock);
    p->slots[p->tail].state = S_FILLED;
    p->tail = (p->tail + 1) % p->nslots;
    p->count++;
    pthread_cond_signal(&p->work);
    pthread_mutex_unlock(&p->lock);
}

int cpipe_finish(struct cpipe *p, uint64_t *err_off)
{
    pthread_mutex_lock(&p->lock);
    drain(p, true);
    p->stop = true;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->nthreads; i++) {
        pthread_join(p->threads[i], NULL);
    }
    int err = p->error;
    if (err_off) {
        *err_off = p->error_off;
    }
    for (int i = 0; i < p->nslots; i++) {
        free(p->slots[i].in);
        free(p->slots[i].out);
    }
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->done);
    free(p->slots);
    free(p->threads);
    free(p);
    return err;
}
