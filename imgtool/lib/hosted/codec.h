/*
 * codec.h: the hosted compression codecs behind struct img_env's compress
 * and decompress hooks (see img.h).  Only hosted builds have them; a
 * freestanding user of the library supplies its own hooks or none.
 */
#ifndef IMG_HOSTED_CODEC_H
#define IMG_HOSTED_CODEC_H

#include <stddef.h>

/* Same contracts as img_env.compress and img_env.decompress; ctx is unused.
 * Both are safe to call from several threads at once. */
long img_codec_compress(void *ctx, int type, void *dst, size_t dst_len, const void *src,
                        size_t src_len);
int img_codec_decompress(void *ctx, int type, void *dst, size_t dst_len, const void *src,
                         size_t src_len);

#endif
