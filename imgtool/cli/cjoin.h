/*
 * Whole clusters for convert -c.
 *
 * A compressed cluster is written in one piece (qcow2 spec, "Compressed
 * Clusters Descriptor": one descriptor per guest cluster), but the copy
 * hands over pieces that need not be whole clusters: a source whose size
 * is not a multiple of the target's cluster size ends in the middle of a
 * cluster, and the next source (sources are concatenated) starts there.
 * cjoin collects such pieces until their cluster is complete, the way
 * qemu-img's convert reads one cluster across source boundaries.
 */
#ifndef IMGTOOL_CJOIN_H
#define IMGTOOL_CJOIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Receives whole, aligned clusters (len a multiple of the cluster size),
 * or at the very end a last partial one; p NULL means zeros.  Returns 0 or
 * a negative IMG_E* code. */
typedef int (*cjoin_emit_fn)(void *ctx, uint64_t off, const unsigned char *p, uint64_t len);

struct cjoin {
    unsigned char *buf; /* one cluster */
    uint32_t cluster;
    bool open;      /* buf holds the start of the cluster at `start` */
    uint64_t start; /* guest offset of that cluster */
    size_t fill;    /* bytes of it collected so far */
    cjoin_emit_fn emit;
    void *ctx;
};

/* Returns false if out of memory. */
bool cjoin_init(struct cjoin *j, uint32_t cluster, cjoin_emit_fn emit, void *ctx);
/* Add len bytes at guest offset off (p NULL: zeros).  Pieces must come in
 * order without gaps while a cluster is open. */
int cjoin_put(struct cjoin *j, uint64_t off, const unsigned char *p, uint64_t len);
/* Emit the last, partial cluster (the end of the disk). */
int cjoin_flush(struct cjoin *j);
void cjoin_free(struct cjoin *j);

#endif
