/*
 * xz.c: a read-only block backend for xz-compressed images (hosted only).
 *
 * An .xz file is a sequence of streams made of independently compressed
 * blocks, followed by an index of the blocks' compressed and uncompressed
 * offsets (xz file format 1.0.4, sections 2 and 4).  liblzma's
 * lzma_file_info_decoder reads that index; lzma_index_iter_locate then
 * finds the block holding any uncompressed offset, so a multi-block file
 * (xz -T0, or xz --block-size) is seekable.  Inside a block we decode
 * forward; decoded data is kept in 64 KiB chunks in a small LRU cache, so a
 * single-block file still reads sequentially at full speed and random
 * metadata reads restart the block only when the cache misses.
 */
#define _GNU_SOURCE
#include "img.h"

#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK     65536
#define NB_CHUNKS 256

struct xz {
    int fd;
    lzma_index *idx;
    uint64_t usize;
    /* The block decoder currently open, and where it stands. */
    lzma_stream strm;
    bool active;
    uint64_t blk_ustart, blk_usize, upos, cpos;
    lzma_filter filters[LZMA_FILTERS_MAX + 1];
    /* liblzma's block decoder keeps a pointer to this lzma_block and
     * writes the sizes and check into it as the block ends (liblzma
     * block_decoder.c), so it must live as long as the decoder does, not
     * on start_block()'s stack. */
    lzma_block blk;
    struct {
        uint64_t k;
        uint64_t used;
        uint8_t *data;
        bool valid;
    } cache[NB_CHUNKS];
    uint64_t lru;
    uint8_t inbuf[CHUNK];
    /* Where the part of a chunk before the current block is decoded. */
    uint8_t scratch[CHUNK];
};

static uint8_t *cache_find(struct xz *x, uint64_t k)
{
    for (int i = 0; i < NB_CHUNKS; i++)
        if (x->cache[i].valid && x->cache[i].k == k) {
            x->cache[i].used = ++x->lru;
            return x->cache[i].data;
        }
    return NULL;
}

static uint8_t *cache_slot(struct xz *x, uint64_t k)
{
    int v = 0;
    for (int i = 0; i < NB_CHUNKS; i++) {
        if (!x->cache[i].valid) {
            v = i;
            break;
        }
        if (x->cache[i].used < x->cache[v].used)
            v = i;
    }
    if (!x->cache[v].data && !(x->cache[v].data = malloc(CHUNK)))
        return NULL;
    x->cache[v].valid = true;
    x->cache[v].k = k;
    x->cache[v].used = ++x->lru;
    return x->cache[v].data;
}

static void end_block(struct xz *x)
{
    if (x->active) {
        lzma_end(&x->strm);
        for (int i = 0; x->filters[i].id != LZMA_VLI_UNKNOWN && i < LZMA_FILTERS_MAX; i++)
            free(x->filters[i].options);
        x->filters[0].id = LZMA_VLI_UNKNOWN;
        x->active = false;
    }
}

/* Open the block that contains uncompressed offset off. */
static int start_block(struct xz *x, uint64_t off)
{
    lzma_index_iter it;
    lzma_block *blk = &x->blk;
    uint8_t hdr[LZMA_BLOCK_HEADER_SIZE_MAX];
    end_block(x);
    lzma_index_iter_init(&it, x->idx);
    if (lzma_index_iter_locate(&it, off))
        return -IMG_EIO;
    memset(blk, 0, sizeof(*blk));
    if (pread(x->fd, hdr, 1, (off_t)it.block.compressed_file_offset) != 1)
        return -IMG_EIO;
    blk->version = 1;
    blk->header_size = lzma_block_header_size_decode(hdr[0]);
    blk->check = it.stream.flags->check;
    blk->filters = x->filters;
    if (pread(x->fd, hdr, blk->header_size, (off_t)it.block.compressed_file_offset) !=
        (ssize_t)blk->header_size)
        return -IMG_EIO;
    if (lzma_block_header_decode(blk, NULL, hdr) != LZMA_OK)
        return -IMG_EIO;
    /* A hostile file could ask for a huge LZMA2 dictionary; xz itself
     * never uses more than 64 MiB (preset 9), so refuse beyond 256 MiB. */
    for (int i = 0; x->filters[i].id != LZMA_VLI_UNKNOWN && i < LZMA_FILTERS_MAX; i++)
        if ((x->filters[i].id == LZMA_FILTER_LZMA2 || x->filters[i].id == LZMA_FILTER_LZMA1) &&
            x->filters[i].options &&
            ((lzma_options_lzma *)x->filters[i].options)->dict_size > (256u << 20))
            return -IMG_EIO;
    memset(&x->strm, 0, sizeof(x->strm));
    if (lzma_block_decoder(&x->strm, blk) != LZMA_OK)
        return -IMG_EIO;
    x->active = true;
    x->blk_ustart = it.block.uncompressed_file_offset;
    x->blk_usize = it.block.uncompressed_size;
    x->upos = x->blk_ustart;
    x->cpos = it.block.compressed_file_offset + blk->header_size;
    x->strm.avail_in = 0;
    return 0;
}

/* Decode `len` bytes at the decoder's position into out. */
static int decode(struct xz *x, uint8_t *out, size_t len)
{
    x->strm.next_out = out;
    x->strm.avail_out = len;
    while (x->strm.avail_out) {
        if (!x->strm.avail_in) {
            ssize_t n = pread(x->fd, x->inbuf, sizeof(x->inbuf), (off_t)x->cpos);
            if (n <= 0)
                return -IMG_EIO;
            x->cpos += (uint64_t)n;
            x->strm.next_in = x->inbuf;
            x->strm.avail_in = (size_t)n;
        }
        lzma_ret r = lzma_code(&x->strm, LZMA_RUN);
        if (r != LZMA_OK && !(r == LZMA_STREAM_END && !x->strm.avail_out))
            return -IMG_EIO;
    }
    x->upos += len;
    return 0;
}

/* Make chunk k available in the cache. */
static uint8_t *get_chunk(struct xz *x, uint64_t k)
{
    uint8_t *c = cache_find(x, k), *d;
    uint64_t start = k * CHUNK;
    if (c)
        return c;
    if (!x->active || start < x->upos || start >= x->blk_ustart + x->blk_usize) {
        if (start_block(x, start) < 0)
            return NULL;
    }
    /* Decode forward chunk by chunk until chunk k is done.  A chunk is
     * cached only when it was decoded from its first byte: a block need not
     * start on a 64 KiB boundary (xz --block-size=100000, or the last
     * block of each stream of a concatenated file), and the part of a
     * chunk that lies before the block we started in was never decoded,
     * so such a leading piece goes to a scratch buffer and is thrown
     * away.  A chunk that runs past its block's end continues in the next
     * block, whose start is located through the index again (xz file
     * format 1.0.4, section 4: blocks follow each other in uncompressed
     * order). */
    for (;;) {
        uint64_t ck = x->upos / CHUNK, cs = ck * CHUNK;
        uint64_t end = cs + CHUNK < x->usize ? cs + CHUNK : x->usize;
        bool whole = x->upos == cs;
        if (!whole && ck == k)
            return NULL; /* cannot happen: start_block() located k's start */
        d = whole ? cache_find(x, ck) : x->scratch;
        if (!d) {
            d = cache_slot(x, ck);
            if (!d)
                return NULL;
        }
        while (x->upos < end) {
            uint64_t bend = x->blk_ustart + x->blk_usize;
            uint64_t n = (end < bend ? end : bend) - x->upos;
            if (decode(x, d + (x->upos - cs), (size_t)n) < 0) {
                /* Forget the half-filled chunk so no garbage is served. */
                for (int i = 0; i < NB_CHUNKS; i++)
                    if (x->cache[i].data == d)
                        x->cache[i].valid = false;
                end_block(x);
                return NULL;
            }
            if (x->upos == bend && x->upos < x->usize && start_block(x, x->upos) < 0) {
                for (int i = 0; i < NB_CHUNKS; i++)
                    if (x->cache[i].data == d)
                        x->cache[i].valid = false;
                return NULL;
            }
        }
        if (ck == k)
            return d;
    }
}

static int xz_read(void *ctx, uint64_t off, void *buf, size_t len)
{
    struct xz *x = ctx;
    uint8_t *p = buf;
    while (len) {
        if (off >= x->usize) {
            memset(p, 0, len);
            return 0;
        }
        uint64_t k = off / CHUNK, in = off % CHUNK;
        size_t n = CHUNK - in;
        if (n > len)
            n = len;
        if (off + n > x->usize)
            n = (size_t)(x->usize - off);
        uint8_t *c = get_chunk(x, k);
        if (!c)
            return -IMG_EIO;
        memcpy(p, c + in, n);
        p += n;
        off += n;
        len -= n;
    }
    return 0;
}

static int xz_write(void *ctx, uint64_t off, const void *buf, size_t len)
{
    (void)ctx, (void)off, (void)buf, (void)len;
    return -IMG_EROFS;
}

static int xz_flush(void *ctx)
{
    (void)ctx;
    return 0;
}

static int xz_size(void *ctx, uint64_t *size)
{
    *size = ((struct xz *)ctx)->usize;
    return 0;
}

static int xz_allocated(void *ctx, uint64_t *size)
{
    off_t end = lseek(((struct xz *)ctx)->fd, 0, SEEK_END);
    *size = end < 0 ? 0 : (uint64_t)end;
    return 0;
}

static void xz_close(void *ctx)
{
    struct xz *x = ctx;
    end_block(x);
    for (int i = 0; i < NB_CHUNKS; i++)
        free(x->cache[i].data);
    if (x->idx)
        lzma_index_end(x->idx, NULL);
    close(x->fd);
    free(x);
}

/* Read the index of every stream with lzma_file_info_decoder. */
static int read_index(struct xz *x)
{
    lzma_stream s = LZMA_STREAM_INIT;
    off_t fsz = lseek(x->fd, 0, SEEK_END);
    uint64_t pos = 0;
    /* The index of even a huge image is small; 256 MiB bounds a hostile one. */
    if (fsz < 0 || lzma_file_info_decoder(&s, &x->idx, 256u << 20, (uint64_t)fsz) != LZMA_OK)
        return -1;
    for (;;) {
        if (!s.avail_in) {
            ssize_t n = pread(x->fd, x->inbuf, sizeof(x->inbuf), (off_t)pos);
            if (n < 0)
                break;
            pos += (uint64_t)n;
            s.next_in = x->inbuf;
            s.avail_in = (size_t)n;
        }
        lzma_ret r = lzma_code(&s, LZMA_RUN);
        if (r == LZMA_SEEK_NEEDED) {
            pos = s.seek_pos;
            s.avail_in = 0;
            continue;
        }
        if (r == LZMA_STREAM_END) {
            lzma_end(&s);
            return 0;
        }
        if (r != LZMA_OK)
            break;
    }
    lzma_end(&s);
    return -1;
}

int img_io_open_xz(int fd, struct img_io *io, struct img_err *err)
{
    struct xz *x = calloc(1, sizeof(*x));
    if (!x) {
        close(fd);
        return -IMG_ENOMEM;
    }
    x->fd = fd;
    x->filters[0].id = LZMA_VLI_UNKNOWN;
    if (read_index(x) < 0) {
        if (err) {
            snprintf(err->msg, sizeof(err->msg),
                     "Could not read the xz index (corrupt or "
                     "truncated .xz file)");
            err->code = -IMG_ECORRUPT;
        }
        xz_close(x);
        return -IMG_ECORRUPT;
    }
    x->usize = lzma_index_uncompressed_size(x->idx);
    memset(io, 0, sizeof(*io));
    io->ctx = x;
    io->read = xz_read;
    io->write = xz_write;
    io->flush = xz_flush;
    io->size = xz_size;
    io->allocated_size = xz_allocated;
    io->close = xz_close;
    return 0;
}
