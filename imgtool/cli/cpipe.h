/*
 * Parallel compression for convert -c, with writes kept in order.
 *
 * The main thread reads clusters from the source into ring slots; worker
 * threads (one per core) compress filled slots with the target image's
 * codec (img_compress_cluster, which touches no image state); the main
 * thread writes finished slots strictly in ring order through
 * img_write_compressed_raw.  So the library is only ever called for I/O
 * from one thread, the output file is laid out exactly as a sequential
 * run would lay it out (deterministic), and all cores compress.
 */
#ifndef IMGTOOL_CPIPE_H
#define IMGTOOL_CPIPE_H

#include <stddef.h>
#include <stdint.h>

struct img;
struct cpipe;

/* Start nthreads workers for clusters of cluster_size bytes. */
struct cpipe *cpipe_start(struct img *target, int nthreads, size_t cluster_size);
/*
 * A buffer to fill with the cluster at guest offset off (len bytes, at
 * most the cluster size).  Blocks while the ring is full, writing
 * finished clusters meanwhile.  NULL after a write error (see
 * cpipe_finish).
 */
void *cpipe_acquire(struct cpipe *p, uint64_t off, size_t len);
/* Hand the buffer from the last cpipe_acquire to the workers. */
void cpipe_submit(struct cpipe *p);
/* Write what is left, stop the workers and free everything.  Returns 0 or
 * the first error (a negative IMG_E* code); *err_off gets its offset. */
int cpipe_finish(struct cpipe *p, uint64_t *err_off);
/* Number of worker threads to use: the cores this process may run on. */
int cpipe_default_threads(void);

#endif
