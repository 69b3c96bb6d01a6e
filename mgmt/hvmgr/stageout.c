/*
 * stageout.c - a host file written from the staging disk's save region,
 * whole or not at all: the manager's last step of domain-save
 * (stagesave.c) and of pmemsave and memsave (stagemem.c); and, filled by
 * its caller, of a disk attached at run time going back into its file
 * (stage_disk.c).
 *
 * A temporary file is made beside the front-end's file before the request
 * goes to hv, so that a directory the manager cannot write is refused
 * before anything happens.  Once hv has answered, the region is copied
 * into it and it is renamed over the file: the file appears whole or not
 * at all, and an existing one is replaced only by a complete copy.  A
 * saved state is also synced, file and directory, before the manager
 * destroys the domain it came from; guest memory is not (QEMU's pmemsave
 * does not sync either), which spares a dump the disk's flushes.
 */
#define _GNU_SOURCE /* mkostemp */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hvmgr.h"

int stage_out_open(struct stage_out *o, const char *path)
{
    struct stat st;
    o->fd = -1;
    snprintf(o->path, sizeof(o->path), "%s", path);
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        errno = S_ISDIR(st.st_mode) ? EISDIR : 0;
        return -1;
    }
    char dir[4096], base[4096];
    snprintf(dir, sizeof(dir), "%s", path);
    snprintf(base, sizeof(base), "%s", path);
    snprintf(o->tmp, sizeof(o->tmp), "%s/.%s.XXXXXX", dirname(dir), basename(base));
    o->fd = mkostemp(o->tmp, O_CLOEXEC);
    if (o->fd < 0)
        return -1;
    /* mkstemp's 0600; the file is the user's like any file they make. */
    mode_t mask = umask(0);
    umask(mask);
    fchmod(o->fd, 0666 & ~mask);
    return 0;
}

void stage_out_drop(struct stage_out *o)
{
    if (o->fd >= 0) {
        close(o->fd);
        unlink(o->tmp);
    }
    o->fd = -1;
}

int stage_out_commit(struct stage_out *o, unsigned long long size, bool sync)
{
    unsigned disk;
    const char *stage_path = stage_disk(&disk);
    int in = stage_path ? open(stage_path, O_RDONLY | O_CLOEXEC) : -1;
    int rc = in < 0 ? -1 : stage_copy_range(in, (off_t)CTL_STAGE_SAVE_OFFSET, o->fd, 0, size);
    int err = errno;
    if (in >= 0)
        close(in);
    if (rc < 0) {
        stage_out_drop(o);
        errno = err;
        return -1;
    }
    return stage_out_close(o, sync);
}

int stage_out_close(struct stage_out *o, bool sync)
{
    int rc = 0, err = 0;
    if (sync && fsync(o->fd) < 0)
        rc = -1, err = errno;
    if (rc == 0 && rename(o->tmp, o->path) < 0)
        rc = -1, err = errno;
    if (rc < 0) {
        stage_out_drop(o);
        errno = err;
        return -1;
    }
    /* The rename itself durable too: the directory's entry. */
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s", o->path);
    int d = sync ? open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    if (d >= 0) {
        fsync(d);
        close(d);
    }
    close(o->fd);
    o->fd = -1;
    return 0;
}
