/*
 * File name helpers shared by the verbs.
 *
 * A relative backing file name in a qcow2 header is relative to the
 * directory of the image that names it, not to the current directory
 * (QEMU's bdrv_get_full_backing_filename_from_filename()).
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

char *path_combine(const char *base, const char *name)
{
    if (name[0] == '/' || !strchr(base, '/')) {
        return strdup(name);
    }
    size_t dirlen = (size_t)(strrchr(base, '/') - base) + 1;
    char *r = malloc(dirlen + strlen(name) + 1);
    if (r) {
        memcpy(r, base, dirlen);
        strcpy(r + dirlen, name);
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
