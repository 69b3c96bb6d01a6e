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
 *
 * Why a backend and not a format: an xz file is a transport wrapper around
 * a raw or qcow2 image (cloud images are often shipped as .qcow2.xz or
 * .raw.xz).  Opening it as a read-only file lets the core probe and read
 * the image inside as usual, so "imgtool convert disk.qcow2.xz out.qcow2"
 * or info on it works without unpacking the file first.  Writing is
 * refused: changing one byte would mean recompressing the rest of its
 * block and rewriting the index.
 *
 * Everything read from the file is untrusted: the index's sizes are
 * bounded (read_index()), a block's dictionary size is bounded
 * (start_block()), and liblzma checks each block's integrity check as the
 * block ends, so a damaged file fails with an I/O error instead of
 * returning wrong data.
 */
#define _GNU_SOURCE
#include "img.h"

#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The cache: 256 chunks of 64 KiB, 16 MiB in all, enough for the metadata
 * of a large qcow2 image inside the xz file and for read-ahead. */
#define CHUNK     65536
#define NB_CHUNKS 256

/*
 * One open xz file.  Offsets named u... are in the uncompressed data (the
 * image inside), c... in the compressed file.
 */
struct xz {
    int fd;
    /* The combined index of all streams, and the uncompressed size. */
    lzma_index *idx;
    uint64_t usize;
    /* The block decoder currently open, and where it stands: the block's
     * uncompressed start and size, the next uncompressed byte the decoder
     * produces (upos) and the next compressed byte it reads (cpos). */
    lzma_stream strm;
    bool active;
    uint64_t blk_ustart, blk_usize, upos, cpos;
    /* The block's filter chain (LZMA2, maybe a BCJ filter before it) as
     * its header describes it, ended by LZMA_VLI_UNKNOWN; the options are
     * allocated by liblzma and freed in end_block(). */
    lzma_filter filters[LZMA_FILTERS_MAX + 1];
    /* liblzma's block decoder keeps a pointer to this lzma_block and
     * writes the sizes and check into it as the block ends (liblzma
     * block_decoder.c), so it must live as long as the decoder does, not
     * on start_block()'s stack. */
    lzma_block blk;
    /* Decoded chunks: chunk_index is the uncompressed offset / CHUNK,
     * used the LRU stamp; data is allocated on first use and reused. */
    struct {
        uint64_t chunk_index;
        uint64_t used;
        uint8_t *data;
        bool valid;
    } cache[NB_CHUNKS];
    uint64_t lru;
    /* Compressed input for the decoder, refilled as it is consumed. */
    uint8_t inbuf[CHUNK];
    /* Where the part of a chunk before the current block is decoded: it
     * must be decoded to reach the bytes after it, but it is incomplete,
     * so it is never cached (see get_chunk()). */
    uint8_t scratch[CHUNK];
};

/* The cached chunk chunk_index, or NULL; a hit makes it the most recently
 * used.  A linear search: 256 entries cost nothing next to decoding. */
static uint8_t *cache_find(struct xz *x, uint64_t chunk_index)
{
    /* Stale slots are skipped: a slot whose decoding failed is invalid. */
    for (int i = 0; i < NB_CHUNKS; i++)
        if (x->cache[i].valid && x->cache[i].chunk_index == chunk_index) {
            x->cache[i].used = ++x->lru;
            return x->cache[i].data;
        }
    return NULL;
}

/*
 * A slot for chunk chunk_index: an empty one if there is one, else the
 * least recently used.  The caller fills it; it is marked valid at once,
 * and get_chunk() invalidates it again if decoding fails half-way.
 */
static uint8_t *cache_slot(struct xz *x, uint64_t chunk_index)
{
    int victim = 0;
    for (int i = 0; i < NB_CHUNKS; i++) {
        if (!x->cache[i].valid) {
            victim = i;
            break;
        }
        if (x->cache[i].used < x->cache[victim].used)
            victim = i;
    }
    /* Buffers are allocated on first use: a small image never needs all
     * 16 MiB. */
    if (!x->cache[victim].data && !(x->cache[victim].data = malloc(CHUNK)))
        return NULL;
    x->cache[victim].valid = true;
    x->cache[victim].chunk_index = chunk_index;
    x->cache[victim].used = ++x->lru;
    return x->cache[victim].data;
}

/* Close the current block decoder, with the filter options that
 * lzma_block_header_decode() allocated for it. */
static void end_block(struct xz *x)
{
    if (x->active) {
        lzma_end(&x->strm);
        /* lzma_block_header_decode() allocated each filter's options with
         * the default allocator, i.e. malloc(). */
        for (int i = 0; x->filters[i].id != LZMA_VLI_UNKNOWN && i < LZMA_FILTERS_MAX; i++)
            free(x->filters[i].options);
        /* An empty chain again, so a second call frees nothing twice. */
        x->filters[0].id = LZMA_VLI_UNKNOWN;
        x->active = false;
    }
}

/* Open the block that contains uncompressed offset off. */
static int start_block(struct xz *x, uint64_t off)
{
    lzma_index_iter it;
    /* The lzma_block lives in struct xz (see there); hdr holds the block
     * header, at most 1024 bytes. */
    lzma_block *blk = &x->blk;
    uint8_t hdr[LZMA_BLOCK_HEADER_SIZE_MAX];
    end_block(x);
    /* The index says which block holds off, where it starts in the file
     * and in the uncompressed data, and which check its stream uses. */
    lzma_index_iter_init(&it, x->idx);
    if (lzma_index_iter_locate(&it, off))
        return -IMG_EIO;
    memset(blk, 0, sizeof(*blk));
    /* The block header's first byte encodes the header's size (xz file
     * format 1.0.4, section 3.1.1 "Block Header Size"), so it is read in
     * two steps. */
    if (pread(x->fd, hdr, 1, (off_t)it.block.compressed_file_offset) != 1)
        return -IMG_EIO;
    /* Version 1 of struct lzma_block (liblzma's block.h) has the
     * ignore_check field, left false so the check is verified.  The check
     * type is a property of the stream, which the index knows, not of the
     * block header. */
    blk->version = 1;
    blk->header_size = lzma_block_header_size_decode(hdr[0]);
    blk->check = it.stream.flags->check;
    blk->filters = x->filters;
    if (pread(x->fd, hdr, blk->header_size, (off_t)it.block.compressed_file_offset) !=
        (ssize_t)blk->header_size)
        return -IMG_EIO;
    /* Checks the header's own CRC32 and fills in the filter chain. */
    if (lzma_block_header_decode(blk, NULL, hdr) != LZMA_OK)
        return -IMG_EIO;
    /* A hostile file could ask for a huge LZMA2 dictionary; xz itself
     * never uses more than 64 MiB (preset 9), so refuse beyond 256 MiB.
     * Checked before lzma_block_decoder() sets the decoder up, this keeps
     * a small .xz file from making imgtool allocate gigabytes. */
    for (int i = 0; x->filters[i].id != LZMA_VLI_UNKNOWN && i < LZMA_FILTERS_MAX; i++)
        if ((x->filters[i].id == LZMA_FILTER_LZMA2 || x->filters[i].id == LZMA_FILTER_LZMA1) &&
            x->filters[i].options &&
            ((lzma_options_lzma *)x->filters[i].options)->dict_size > (256u << 20))
            return -IMG_EIO;
    /* A block decoder verifies the block's check (CRC32, CRC64 or
     * SHA-256) as it reaches the block's end. */
    memset(&x->strm, 0, sizeof(x->strm));
    if (lzma_block_decoder(&x->strm, blk) != LZMA_OK)
        return -IMG_EIO;
    /* The decoder starts at the block's first uncompressed byte, and its
     * compressed data starts right after the block header. */
    x->active = true;
    x->blk_ustart = it.block.uncompressed_file_offset;
    x->blk_usize = it.block.uncompressed_size;
    x->upos = x->blk_ustart;
    x->cpos = it.block.compressed_file_offset + blk->header_size;
    /* Nothing buffered for the new block yet: decode() reads from cpos. */
    x->strm.avail_in = 0;
    return 0;
}

/*
 * Decode `len` bytes at the decoder's position into out.  The caller never
 * asks past the current block's end, so LZMA_STREAM_END (the block ended)
 * is only fine when it comes with the last byte asked for; anything else
 * from liblzma means a damaged file.
 */
static int decode(struct xz *x, uint8_t *out, size_t len)
{
    x->strm.next_out = out;
    x->strm.avail_out = len;
    /* liblzma may stop before the output is full, for lack of input or at
     * its own pace; keep feeding it until len bytes came out. */
    while (x->strm.avail_out) {
        if (!x->strm.avail_in) {
            /* End of file inside a block: the file is truncated. */
            ssize_t n = pread(x->fd, x->inbuf, sizeof(x->inbuf), (off_t)x->cpos);
            if (n <= 0)
                return -IMG_EIO;
            x->cpos += (uint64_t)n;
            x->strm.next_in = x->inbuf;
            x->strm.avail_in = (size_t)n;
        }
        /* LZMA_RUN, not LZMA_FINISH: the block's end is known from the
         * index, and the decoder finds it in the data by itself. */
        lzma_ret r = lzma_code(&x->strm, LZMA_RUN);
        if (r != LZMA_OK && !(r == LZMA_STREAM_END && !x->strm.avail_out))
            return -IMG_EIO;
    }
    /* The decoder's position moves with what it produced. */
    x->upos += len;
    return 0;
}

/*
 * Make chunk chunk_index available in the cache.  The open decoder is
 * reused when the chunk lies ahead of it in its block (sequential reads);
 * otherwise the block holding the chunk's start is opened, since an xz
 * block can only be decoded from its beginning.
 */
static uint8_t *get_chunk(struct xz *x, uint64_t chunk_index)
{
    uint8_t *cached = cache_find(x, chunk_index), *dest;
    uint64_t start = chunk_index * CHUNK;
    if (cached)
        return cached;
    /* Behind the decoder, or in another block: start over at the block
     * that holds the chunk's first byte.  Ahead in the same block: decode
     * forward, which is cheaper than a restart for short distances and
     * the common case for sequential reads. */
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
        /* The chunk the decoder is in, its start and its end (the last
         * chunk of the data may be short). */
        uint64_t cur_chunk = x->upos / CHUNK, chunk_start = cur_chunk * CHUNK;
        uint64_t end = chunk_start + CHUNK < x->usize ? chunk_start + CHUNK : x->usize;
        bool whole = x->upos == chunk_start;
        if (!whole && cur_chunk == chunk_index)
            return NULL; /* cannot happen: start_block() located the chunk's start */
        /* A chunk passed on the way is cached too (unless it is already):
         * the next read probably wants it. */
        dest = whole ? cache_find(x, cur_chunk) : x->scratch;
        if (!dest) {
            dest = cache_slot(x, cur_chunk);
            if (!dest)
                return NULL;
        }
        while (x->upos < end) {
            uint64_t block_end = x->blk_ustart + x->blk_usize;
            uint64_t n = (end < block_end ? end : block_end) - x->upos;
            if (decode(x, dest + (x->upos - chunk_start), (size_t)n) < 0) {
                /* Forget the half-filled chunk so no garbage is served. */
                for (int i = 0; i < NB_CHUNKS; i++)
                    if (x->cache[i].data == dest)
                        x->cache[i].valid = false;
                end_block(x);
                return NULL;
            }
            /* The block ended inside the chunk: go on in the next one. */
            if (x->upos == block_end && x->upos < x->usize && start_block(x, x->upos) < 0) {
                for (int i = 0; i < NB_CHUNKS; i++)
                    if (x->cache[i].data == dest)
                        x->cache[i].valid = false;
                return NULL;
            }
        }
        /* Chunks before the wanted one were decoded on the way (and
         * cached); go on until the wanted one is complete. */
        if (cur_chunk == chunk_index)
            return dest;
    }
}

/*
 * struct img_io's read(): chunk by chunk through the cache.  Past the end
 * of the uncompressed data the rest reads as zeros, as every backend must
 * (img.h, struct img_io).
 */
static int xz_read(void *ctx, uint64_t off, void *buf, size_t len)
{
    struct xz *x = ctx;
    uint8_t *p = buf;
    while (len) {
        if (off >= x->usize) {
            memset(p, 0, len);
            return 0;
        }
        /* The part of the request in this chunk, cut at the data's end
         * (the rest is zeros, on the next turn). */
        uint64_t chunk_index = off / CHUNK, in_chunk = off % CHUNK;
        size_t n = CHUNK - in_chunk;
        if (n > len)
            n = len;
        if (off + n > x->usize)
            n = (size_t)(x->usize - off);
        /* A damaged block fails the read; the core words the message. */
        uint8_t *chunk = get_chunk(x, chunk_index);
        if (!chunk)
            return -IMG_EIO;
        memcpy(p, chunk + in_chunk, n);
        p += n;
        off += n;
        len -= n;
    }
    return 0;
}

/* img_io_open_file() never opens xz writable; this only guards against a
 * caller that writes to a read-only handle by mistake. */
static int xz_write(void *ctx, uint64_t off, const void *buf, size_t len)
{
    (void)ctx, (void)off, (void)buf, (void)len;
    return -IMG_EROFS;
}

/* Nothing is ever written, so there is nothing to make stable. */
static int xz_flush(void *ctx)
{
    (void)ctx;
    return 0;
}

/* The image's size is the uncompressed size the index records. */
static int xz_size(void *ctx, uint64_t *size)
{
    /* Fixed at open: the file cannot change through this backend. */
    *size = ((struct xz *)ctx)->usize;
    return 0;
}

/* "disk size" is what the .xz file takes, its compressed length, which
 * is what a user wants to compare with the virtual size. */
static int xz_allocated(void *ctx, uint64_t *size)
{
    /* The compressed file's length; a failure reports 0 rather than
     * failing info over a number that is only informative. */
    off_t end = lseek(((struct xz *)ctx)->fd, 0, SEEK_END);
    *size = end < 0 ? 0 : (uint64_t)end;
    return 0;
}

/* Also used on a failed open, with whatever was set up by then. */
static void xz_close(void *ctx)
{
    struct xz *x = ctx;
    end_block(x);
    /* Slots that were never used have no buffer; free(NULL) is fine. */
    for (int i = 0; i < NB_CHUNKS; i++)
        free(x->cache[i].data);
    if (x->idx)
        lzma_index_end(x->idx, NULL);
    close(x->fd);
    free(x);
}

/*
 * Read the index of every stream with lzma_file_info_decoder.  The decoder
 * works from the end of the file backwards (each stream's footer points at
 * its index, xz file format 1.0.4, section 2.1.2 "Stream Footer"), and asks for the
 * position it needs next with LZMA_SEEK_NEEDED; the loop feeds it from
 * there.  Concatenated streams (cat a.xz b.xz) come out as one index.
 */
static int read_index(struct xz *x)
{
    lzma_stream dec = LZMA_STREAM_INIT;
    off_t file_size = lseek(x->fd, 0, SEEK_END);
    uint64_t pos = 0;
    /* The index of even a huge image is small; 256 MiB bounds a hostile one. */
    if (file_size < 0 ||
        lzma_file_info_decoder(&dec, &x->idx, 256u << 20, (uint64_t)file_size) != LZMA_OK)
        return -1;
    for (;;) {
        if (!dec.avail_in) {
            /* At the end of the file pread() returns 0 and the decoder,
             * given no input, reports the truncation itself. */
            ssize_t n = pread(x->fd, x->inbuf, sizeof(x->inbuf), (off_t)pos);
            if (n < 0)
                break;
            pos += (uint64_t)n;
            dec.next_in = x->inbuf;
            dec.avail_in = (size_t)n;
        }
        lzma_ret r = lzma_code(&dec, LZMA_RUN);
        /* The decoder wants input from elsewhere: drop what is buffered. */
        if (r == LZMA_SEEK_NEEDED) {
            pos = dec.seek_pos;
            dec.avail_in = 0;
            continue;
        }
        /* The whole file was understood: x->idx holds the index. */
        if (r == LZMA_STREAM_END) {
            lzma_end(&dec);
            return 0;
        }
        if (r != LZMA_OK)
            break;
    }
    lzma_end(&dec);
    return -1;
}

/*
 * Open the xz file on fd (which this takes over: it is closed on failure
 * too) as a read-only backend.  Only the index is read here; blocks are
 * decoded when first read.  A file without a valid index (truncated, or
 * not xz after all) is refused with a message that says so.
 */
int img_io_open_xz(int fd, struct img_io *io, struct img_err *err)
{
    /* calloc: every cache slot starts invalid and without a buffer.  The
     * struct holds two 64 KiB buffers, so it is not put on the stack. */
    struct xz *x = calloc(1, sizeof(*x));
    if (!x) {
        close(fd);
        return -IMG_ENOMEM;
    }
    x->fd = fd;
    /* An empty filter chain, so that end_block() has nothing to free. */
    x->filters[0].id = LZMA_VLI_UNKNOWN;
    /* The index is the only part read at open: a file whose index does not
     * decode is refused now, not on the first read. */
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
    /* The sum of all blocks of all streams: the image inside. */
    x->usize = lzma_index_uncompressed_size(x->idx);
    /* No truncate, allocate, extent or discard: the file cannot change. */
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
