/*
 * Writing .xz-compressed images (convert to a name ending in ".xz").
 */
#ifndef IMGTOOL_XZOUT_H
#define IMGTOOL_XZOUT_H

#include <stdbool.h>

/* Does the name end in ".xz"? */
bool xz_wanted(const char *filename);
/*
 * Compress the file src into dst as an .xz stream cut into independent
 * 1 MiB blocks, so that readers can seek through the stream's index (the
 * library's xz backend does).  Uses `threads` encoder threads.  Returns 0,
 * or -1 after printing a message.
 */
int xz_compress_file(const char *src, const char *dst, int threads);

#endif
