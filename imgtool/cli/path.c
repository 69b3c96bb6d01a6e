/*
 * File name helpers shared by the verbs.
 *
 * A relative backing file name in a qcow2 header is relative to the
 * directory of the image that names it, not to the current directory
 * (QEMU's bdrv_get_full_backing_filename_from_filename()).
 */
#include "cli.h"
#include "img.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

char *path_combine(const char *base, const char *name)
{
    /* The library's rule (img_backing_path), in a buffer of the right size. */
    size_t len = strlen(base) + strlen(name) + 1;
    char *r = malloc(len);
    if (r && !img_backing_path(base, name, r, len)) {
        free(r);
        r = NULL;
    }
    return r;
}

bool same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    /* Both must exist; a new output file cannot be an input. */
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

bool file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

void remove_if_new(const char *path, bool existed)
{
    /* A failed command leaves no new file behind; a file that was there
     * before (and that the command overwrote) is not removed. */
    if (!existed) {
        remove(path);
    }
}
