/*
 * inflate.h - a DEFLATE decoder (RFC 1951 "DEFLATE Compressed Data Format
 * Specification version 1.3") for hv, which has no zlib: imgtool's library
 * asks for it to read compressed qcow2 clusters (qcow2.txt "Compressed
 * Clusters Descriptor": QEMU writes each as a raw deflate stream, no zlib
 * header, window bits -12).
 *
 * The input is a guest's disk image, so it is treated as hostile: every
 * read of the input, every store into the output and every back-reference
 * is bounds-checked, and a malformed stream is an error, never a crash or
 * a loop.  Compiled hosted too (tests/unit/test_hv_inflate.c checks it
 * against zlib's deflate at every strategy, and against damaged streams).
 */
#ifndef HV_CORE_INFLATE_H
#define HV_CORE_INFLATE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Decode the raw deflate stream in src[0..src_len) into dst, which it must
 * fill exactly: dst_len bytes.  Decoding stops when dst is full (what
 * follows, e.g. the padding of a qcow2 compressed cluster, is not looked
 * at) or at the end of the final block.  Returns 0 when dst was filled,
 * -1 otherwise (a malformed stream, a back-reference before the start, the
 * input ending early, or the stream ending before dst is full).
 */
int inflate_raw(uint8_t *dst, size_t dst_len, const uint8_t *src, size_t src_len);

#endif
