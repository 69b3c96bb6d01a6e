/*
 * The state directory (statedir.h).
 */
#include "statedir.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

bool make_dirs(const char *path)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
        return false;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) && errno != EEXIST)
            return false;
        *p = '/';
    }
    return !mkdir(buf, 0755) || errno == EEXIST;
}

bool statedir_find(char *out, size_t len)
{
    const char *dir = getenv("HVKIT_STATE_DIR");
    const char *xdg = getenv("XDG_STATE_HOME");
    const char *home = getenv("HOME");
    int n;
    if (dir && *dir)
        n = snprintf(out, len, "%s", dir);
    else if (xdg && *xdg)
        n = snprintf(out, len, "%s/hvkit", xdg);
    else
        n = snprintf(out, len, "%s/.local/state/hvkit", home ? home : "");
    return n < (int)len;
}
