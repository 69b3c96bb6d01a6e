/*
 * .xz output for convert (see xzout.h).
 *
 * The multi-threaded liblzma encoder already cuts its input into blocks of
 * block_size bytes and records each block's position in the index at the
 * end of the stream (xz file format, "Index"); a reader decompresses only
 * the block holding the bytes it wants.  The output bytes depend only on
 * the input, the preset and the block size, not on the thread count, so
 * the result is deterministic.
 */
#include "xzout.h"
#include "cli.h"

#include <errno.h>
#include <lzma.h>
#include <stdio.h>
#include <string.h>

#define XZ_BLOCK (1u << 20)

bool xz_wanted(const char *filename)
{
    size_t n = strlen(filename);
    return n > 3 && !strcmp(filename + n - 3, ".xz");
}

int xz_compress_file(const char *src, const char *dst, int threads)
{
    FILE *in = fopen(src, "rb"), *out = NULL;
    static unsigned char ibuf[1 << 16], obuf[1 << 16];
    lzma_stream s = LZMA_STREAM_INIT;
    int ret = -1;
    if (!in) {
        error_report("Could not open '%s': %s", src, strerror(errno));
        return -1;
    }
    out = fopen(dst, "wb");
    if (!out) {
        error_report("Could not create '%s': %s", dst, strerror(errno));
        fclose(in);
        return -1;
    }
    lzma_mt mt = {
        .flags = 0,
        .threads = (uint32_t)(threads > 0 ? threads : 1),
        .block_size = XZ_BLOCK,
        .timeout = 0,
        .preset = LZMA_PRESET_DEFAULT,
        .filters = NULL,
        .check = LZMA_CHECK_CRC64,
    };
    if (lzma_stream_encoder_mt(&s, &mt) != LZMA_OK) {
        error_report("%s: could not start the xz encoder", dst);
        goto out;
    }
    lzma_action action = LZMA_RUN;
    s.next_out = obuf;
    s.avail_out = sizeof(obuf);
    for (;;) {
        if (s.avail_in == 0 && action == LZMA_RUN) {
            s.next_in = ibuf;
            s.avail_in = fread(ibuf, 1, sizeof(ibuf), in);
            if (ferror(in)) {
                error_report("error while reading '%s': %s", src, strerror(errno));
                goto out;
            }
            if (feof(in)) {
                action = LZMA_FINISH;
            }
        }
        lzma_ret r = lzma_code(&s, action);
        if (s.avail_out == 0 || r == LZMA_STREAM_END) {
            size_t n = sizeof(obuf) - s.avail_out;
            if (fwrite(obuf, 1, n, out) != n) {
                error_report("error while writing '%s': %s", dst, strerror(errno));
                goto out;
            }
            s.next_out = obuf;
            s.avail_out = sizeof(obuf);
        }
        if (r == LZMA_STREAM_END) {
            break;
        }
        if (r != LZMA_OK) {
            error_report("%s: xz compression failed (liblzma error %d)", dst, (int)r);
            goto out;
        }
    }
    if (fflush(out) != 0) {
        error_report("error while writing '%s': %s", dst, strerror(errno));
        goto out;
    }
    ret = 0;
out:
    lzma_end(&s);
    fclose(in);
    if (fclose(out) != 0 && ret == 0) {
        error_report("error while writing '%s': %s", dst, strerror(errno));
        ret = -1;
    }
    if (ret < 0) {
        remove(dst);
    }
    return ret;
}
