/*
 * Whole clusters for convert -c (see cjoin.h).
 */
#include "cjoin.h"
#include "img.h"

#include <stdlib.h>
#include <string.h>

bool cjoin_init(struct cjoin *j, uint32_t cluster, cjoin_emit_fn emit, void *ctx)
{
    memset(j, 0, sizeof(*j));
    j->buf = malloc(cluster);
    j->cluster = cluster;
    j->emit = emit;
    j->ctx = ctx;
    return j->buf != NULL;
}

/* Copy into the open cluster; emit it once it is complete. */
static int fill_open(struct cjoin *j, uint64_t *off, const unsigned char **p, uint64_t *len)
{
    size_t k = j->cluster - j->fill;
    if (*off != j->start + j->fill) {
        return -IMG_EINVAL; /* a gap inside a cluster cannot be compressed */
    }
    if (k > *len) {
        k = (size_t)*len;
    }
    if (*p) {
        memcpy(j->buf + j->fill, *p, k);
        *p += k;
    } else {
        memset(j->buf + j->fill, 0, k);
    }
    j->fill += k;
    *off += k;
    *len -= k;
    if (j->fill < j->cluster) {
        return 0;
    }
    j->open = false;
    return j->emit(j->ctx, j->start, j->buf, j->cluster);
}

int cjoin_put(struct cjoin *j, uint64_t off, const unsigned char *p, uint64_t len)
{
    while (len) {
        int r;
        if (j->open) {
            r = fill_open(j, &off, &p, &len);
        } else if (off % j->cluster) {
            /* Not the start of a cluster and nothing collected: the start
             * was left out on purpose (-B), pass it on as it is. */
            r = j->emit(j->ctx, off, p, len);
            len = 0;
        } else if (len >= j->cluster) {
            /* Whole clusters go straight through, without a copy. */
            uint64_t whole = len - len % j->cluster;
            r = j->emit(j->ctx, off, p, whole);
            off += whole;
            len -= whole;
            p = p ? p + whole : NULL;
        } else {
            j->open = true;
            j->start = off;
            j->fill = 0;
            r = 0;
        }
        if (r < 0) {
            return r;
        }
    }
    return 0;
}

int cjoin_flush(struct cjoin *j)
{
    if (!j->open || !j->fill) {
        return 0;
    }
    j->open = false;
    return j->emit(j->ctx, j->start, j->buf, j->fill);
}

void cjoin_free(struct cjoin *j)
{
    free(j->buf);
    j->buf = NULL;
}
