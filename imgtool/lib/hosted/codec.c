/*
 * codec.c: the codecs for compressed qcow2 clusters, in a hosted build.
 *
 * A compressed cluster holds one cluster of data as a raw deflate stream
 * (compression type 0, zlib) or as one zstd frame (type 1) (qcow2 spec,
 * "Header", compression_type, and "Compressed Clusters Descriptor").  The
 * stream ends wherever the deflate data ends; the descriptor only counts
 * whole sectors, so a reader gets the stream followed by up to a sector of
 * whatever comes next, and stops once it has a full cluster.
 *
 * Deflate: libdeflate writes, zlib reads what libdeflate cannot.
 *
 * QEMU compresses with zlib (block/qcow2-threads.c: deflateInit2 with
 * windowBits -12, level 6) and decompresses each cluster with a single
 * inflate() call into a buffer of one whole cluster.  libdeflate makes
 * streams of the same format several times faster than zlib and several
 * percent smaller at its higher levels (see DEFLATE_LEVEL), which is what
 * makes convert -c fast even with only one core free (bench/imgtool/run.sh).
 *
 * One difference matters to readers: libdeflate's matches may reach back
 * up to 32 KiB, where zlib with windowBits -12 stays within 4 KiB.  A
 * reader that inflates the whole cluster in one call, as QEMU, systemd's
 * qcow2 importer and this library all do, resolves such a match from the
 * output it has already written, so the 4 KiB window never limits it; the
 * interop tests read imgtool's compressed images back with qemu-img and
 * qemu-io to keep it so.
 *
 * For reading, libdeflate is also about twice as fast as zlib, but stricter:
 * QEMU accepts a stream that fills the cluster even if it does not end
 * properly (qcow2_zlib_decompress accepts Z_BUF_ERROR with the output
 * full).  So libdeflate decodes first and zlib, with QEMU's exact rules,
 * decides whenever libdeflate refuses: the result is always QEMU's.
 */
#define _GNU_SOURCE
#include "codec.h"
#include "img.h"

#include <isa-l/igzip_lib.h>
#include <libdeflate.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

/*
 * libdeflate's level 2.  The goal (bench/imgtool/run.sh) is speed with
 * output at most 2% larger than qemu-img convert -c's (zlib level 6, 4 KiB
 * window).  Level 1 is about 30% cheaper but misses that bound on real
 * program files; level 2 is smaller than qemu-img's output on every corpus
 * measured.  Sizes of 64 MiB cut into 64 KiB clusters, each rounded up to
 * whole sectors as qcow2 stores them, against qemu-img's (zlib level 6):
 *
 *   corpus                                         level 1   level 2
 *   shared libraries (end of /usr/lib/x86_64-linux-gnu)  +3.6%     -3.3%
 *   compiler files (/usr/lib/gcc, /usr/libexec)         +1.7%     -2.0%
 *   programs and libraries (/usr/bin, then x86_64 libs) -0.2%     -4.4%
 *   manuals and documentation text                      -1.0%     -2.2%
 *
 * Either level needs several times less CPU than zlib's level 6.
 */
#define DEFLATE_LEVEL 2

/*
 * Per-thread codec state.  A libdeflate compressor or decompressor and
 * ISA-L's level buffer are allocations of a few hundred KiB that may be
 * reused but not shared between threads, so each thread keeps its own set,
 * freed when the thread ends.
 */
struct codec_state {
    struct libdeflate_compressor *comp;
    struct libdeflate_decompressor *decomp;
    uint8_t *probe_buf; /* ISA-L's level 1 working memory */
    uint8_t *probe_out; /* where the probe's output goes (thrown away) */
    size_t probe_cap;   /* its size */
};

/* The part of a cluster tried first (see worth_compressing). */
#define PROBE_HEAD 4096

static pthread_key_t state_key;
static pthread_once_t state_once = PTHREAD_ONCE_INIT;

/* The key's destructor: runs when a thread that used a codec ends. */
static void free_state(void *p)
{
    struct codec_state *st = p;
    libdeflate_free_compressor(st->comp);
    libdeflate_free_decompressor(st->decomp);
    free(st->probe_buf);
    free(st->probe_out);
    free(st);
}

/* One key for all threads, made once however many threads start at once. */
static void make_key(void)
{
    pthread_key_create(&state_key, free_state);
}

/* This thread's state, made on first use; NULL if out of memory. */
static struct codec_state *thread_state(void)
{
    pthread_once(&state_once, make_key);
    struct codec_state *st = pthread_getspecific(state_key);
    if (st)
        return st;
    st = calloc(1, sizeof(*st));
    if (!st)
        return NULL;
    st->comp = libdeflate_alloc_compressor(DEFLATE_LEVEL);
    st->decomp = libdeflate_alloc_decompressor();
    st->probe_buf = malloc(ISAL_DEF_LVL1_DEFAULT);
    if (!st->comp || !st->decomp || !st->probe_buf || pthread_setspecific(state_key, st) != 0) {
        free_state(st);
        return NULL;
    }
    return st;
}

/*
 * Whether ISA-L's fastest level shrinks src[0..len) below dst_len bytes.
 * Its output is thrown away; only the answer counts.
 */
static bool probe_fits(struct codec_state *st, const void *src, size_t len, size_t dst_len)
{
    struct isal_zstream z;
    /* The output buffer grows to the largest dst_len seen and is kept, so
     * a thread allocates it once. */
    if (dst_len > st->probe_cap) {
        uint8_t *p = realloc(st->probe_out, dst_len);
        if (!p)
            return true; /* no answer: let libdeflate decide */
        st->probe_out = p;
        st->probe_cap = dst_len;
    }
    /* One stateless call over the whole input: a raw deflate stream at
     * level 1, which fails with an overflow once the output would not
     * fit; that failure is the answer "does not shrink enough". */
    isal_deflate_stateless_init(&z);
    z.level = 1;
    z.level_buf = st->probe_buf;
    z.level_buf_size = ISAL_DEF_LVL1_DEFAULT;
    z.gzip_flag = IGZIP_DEFLATE;
    z.end_of_stream = 1;
    z.next_in = (uint8_t *)src;
    z.avail_in = (uint32_t)len;
    z.next_out = st->probe_out;
    z.avail_out = (uint32_t)dst_len;
    return isal_deflate_stateless(&z) == COMP_OK;
}

/*
 * Whether a cluster is worth giving to libdeflate: a cluster that does not
 * shrink is stored plainly (as QEMU does), and finding that out with
 * libdeflate costs as much as compressing it, while ISA-L's level 1 tells
 * in a twentieth of the time (random or already compressed data).  To keep
 * that test off the common path, its first 4 KiB are tried first: if they
 * shrink, the cluster goes straight to libdeflate; otherwise the whole
 * cluster is tried.  Only a cluster that ISA-L cannot shrink at all is
 * skipped; libdeflate would shrink such a cluster by a few bytes at most
 * (measured: one cluster in 2048 of system binaries, by 164 bytes).
 */
static bool worth_compressing(struct codec_state *st, const void *src, size_t len, size_t dst_len)
{
    if (len > PROBE_HEAD && probe_fits(st, src, PROBE_HEAD, PROBE_HEAD - 1))
        return true;
    return probe_fits(st, src, len, dst_len);
}

/* Raw deflate into at most dst_len bytes; 0 if it does not fit (the
 * cluster is then stored uncompressed, as QEMU does). */
static long deflate_compress(void *dst, size_t dst_len, const void *src, size_t src_len)
{
    struct codec_state *st = thread_state();
    if (!st)
        return -IMG_ENOMEM;
    /* 0 is "store it uncompressed", the same answer libdeflate gives for
     * output that does not fit. */
    if (!worth_compressing(st, src, src_len, dst_len))
        return 0;
    return (long)libdeflate_deflate_compress(st->comp, src, src_len, dst, dst_len);
}

/* zlib with QEMU's rules (qcow2_zlib_decompress): window bits -12, one
 * inflate() call, success when the output is full, whether or not the
 * stream ended there. */
static int zlib_decompress(void *dst, size_t dst_len, const void *src, size_t src_len)
{
    z_stream s;
    int r;
    memset(&s, 0, sizeof(s));
    if (inflateInit2(&s, -12) != Z_OK)
        return -IMG_ENOMEM;
    s.next_in = (Bytef *)src;
    s.avail_in = (uInt)src_len;
    s.next_out = dst;
    s.avail_out = (uInt)dst_len;
    /* Z_BUF_ERROR with a full output is how zlib says "the stream goes
     * on": the sector padding after it, or a stream that lacks its end
     * block.  QEMU takes both, so this does too. */
    r = inflate(&s, Z_FINISH);
    r = ((r == Z_STREAM_END || r == Z_BUF_ERROR) && s.avail_out == 0) ? 0 : -IMG_ECORRUPT;
    inflateEnd(&s);
    return r;
}

/* libdeflate when it decodes exactly one cluster (trailing sector padding
 * is ignored), zlib otherwise. */
static int deflate_decompress(void *dst, size_t dst_len, const void *src, size_t src_len)
{
    struct codec_state *st = thread_state();
    size_t used;
    /* The _ex form reports how much input it used instead of requiring
     * the input to end with the stream, so sector padding is fine. */
    if (st && libdeflate_deflate_decompress_ex(st->decomp, src, src_len, dst, dst_len, &used,
                                               NULL) == LIBDEFLATE_SUCCESS)
        return 0;
    return zlib_decompress(dst, dst_len, src, src_len);
}

/* zstd: one frame per cluster, default level (qcow2_zstd_compress). */
static long zstd_compress(void *dst, size_t dst_len, const void *src, size_t src_len)
{
    size_t n = ZSTD_compress(dst, dst_len, src, src_len, ZSTD_CLEVEL_DEFAULT);
    if (ZSTD_isError(n))
        return ZSTD_getErrorCode(n) == ZSTD_error_dstSize_tooSmall ? 0 : -IMG_EIO;
    return (long)n;
}

/*
 * zstd: stream into exactly one cluster, as qcow2_zstd_decompress does.
 * A frame that ends early, or garbage where the frame should go on, is a
 * damaged cluster.  A context per call keeps this safe on any thread; its
 * cost is small next to decompressing a cluster.
 */
static int zstd_decompress(void *dst, size_t dst_len, const void *src, size_t src_len)
{
    ZSTD_DCtx *d = ZSTD_createDCtx();
    ZSTD_inBuffer in = {src, src_len, 0};
    ZSTD_outBuffer out = {dst, dst_len, 0};
    int r = 0;
    if (!d)
        return -IMG_ENOMEM;
    /* Stream until the cluster is full; sector padding may follow. */
    while (out.pos < out.size) {
        size_t ret = ZSTD_decompressStream(d, &out, &in);
        if (ZSTD_isError(ret)) {
            r = -IMG_ECORRUPT;
            break;
        }
        if (ret == 0 || in.pos == in.size)
            break;
    }
    if (r == 0 && out.pos != out.size)
        r = -IMG_ECORRUPT;
    ZSTD_freeDCtx(d);
    return r;
}

/*
 * The codec entry points of the hosted struct img_env (env.c), by the
 * header's compression_type (qcow2.txt "Header": 0 zlib, 1 zstd).  Both
 * may run on several threads at once: convert compresses on worker
 * threads, and all per-thread state lives in struct codec_state.
 */
long img_codec_compress(void *ctx, int type, void *dst, size_t dst_len, const void *src,
                        size_t src_len)
{
    (void)ctx;
    if (type == IMG_COMP_ZLIB)
        return deflate_compress(dst, dst_len, src, src_len);
    if (type == IMG_COMP_ZSTD)
        return zstd_compress(dst, dst_len, src, src_len);
    return -IMG_ENOTSUP;
}

/* Decompress one cluster; the type comes from the image's header, so an
 * unknown one was refused at open already. */
int img_codec_decompress(void *ctx, int type, void *dst, size_t dst_len, const void *src,
                         size_t src_len)
{
    (void)ctx;
    if (type == IMG_COMP_ZLIB)
        return deflate_decompress(dst, dst_len, src, src_len);
    if (type == IMG_COMP_ZSTD)
        return zstd_decompress(dst, dst_len, src, src_len);
    return -IMG_ENOTSUP;
}
