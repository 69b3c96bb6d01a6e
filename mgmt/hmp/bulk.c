/*
 * The bulk path for guest memory and the commands' output file (bulk.h).
 *
 * x-read-memory moves 4 KiB of hex a request over the outer machine's
 * serial line, a few KiB a second; the machine's save_mem moves a range
 * through the staging disk at the speed of the outer machine's disk
 * (docs/control-protocol.md "Guest memory into a file").  The manager
 * writes what it moves into a host file, so the monitor reads a chunk
 * from a file the manager made for it, in the directory of the file the
 * command writes (the user's, writable by both), and unlinks it as soon
 * as it is open.
 */
#define _GNU_SOURCE /* mkostemp */
#include "bulk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void hmp_bulk_init(struct hmp_bulk *b, struct hmp *m, bool physical, const char *dir, uint64_t end)
{
    *b = (struct hmp_bulk){.m = m, .physical = physical, .end = end, .fd = -1};
    snprintf(b->dir, sizeof(b->dir), "%s", dir);
}

void hmp_bulk_close(struct hmp_bulk *b)
{
    if (b->fd >= 0)
        close(b->fd);
    b->fd = -1;
}

static void io_err(struct hmp_err *err, const char *what)
{
    snprintf(err->cls, sizeof(err->cls), "GenericError");
    snprintf(err->desc, sizeof(err->desc), "%.160s: %s", what, strerror(errno));
}

/* The chunk that starts at `addr` (up to HMP_BULK_CHUNK bytes, not past
 * the range's end) into b->fd: 0, or -1 with err. */
static int fetch(struct hmp_bulk *b, uint64_t addr, struct hmp_err *err)
{
    hmp_bulk_close(b);
    uint64_t n = b->end - addr < HMP_BULK_CHUNK ? b->end - addr : HMP_BULK_CHUNK;
    char path[PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/.hvmon-mem.XXXXXX", b->dir);
    /* A name of the monitor's own, which the manager's file replaces. */
    int fd = mkostemp(path, O_CLOEXEC);
    if (fd < 0) {
        io_err(err, "a temporary file for guest memory");
        return -1;
    }
    close(fd);
    struct hmp *m = b->m;
    int rc = m->be->save_mem(m->ctx, m->dom, m->cpu, addr, n, b->physical, path, err);
    b->fd = rc < 0 ? -1 : open(path, O_RDONLY | O_CLOEXEC);
    if (rc == 0 && b->fd < 0)
        io_err(err, path);
    unlink(path);
    if (b->fd < 0)
        return -1;
    b->base = addr;
    b->len = n;
    return 0;
}

int hmp_bulk_read(void *ctx, uint64_t addr, void *buf, size_t len, struct hmp_err *err)
{
    struct hmp_bulk *b = ctx;
    uint8_t *out = buf;
    while (len) {
        if (b->fd < 0 || addr < b->base || addr - b->base >= b->len)
            if (fetch(b, addr, err) < 0)
                return -1;
        uint64_t in = b->len - (addr - b->base);
        size_t n = len < in ? len : (size_t)in;
        if (pread(b->fd, out, n, (off_t)(addr - b->base)) != (ssize_t)n) {
            errno = errno ? errno : EIO;
            io_err(err, "reading guest memory's temporary file");
            return -1;
        }
        out += n, addr += n, len -= n;
    }
    return 0;
}

/* Remove the chunk directory and what is in it (a chunk the manager
 * wrote, or its temporary twin), trying TRIES times a tenth of a second
 * apart: a manager still carrying out a request of a monitor that died
 * may put a file in it meanwhile, or find it gone and write nothing. */
static void remove_chunks(const struct hmp_out *o, int tries)
{
    if (!strcmp(o->chunks, o->dir))
        return;
    for (int i = 0; i < tries; i++) {
        DIR *d = opendir(o->chunks);
        for (struct dirent *e; d && (e = readdir(d));)
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
                unlinkat(dirfd(d), e->d_name, 0);
        if (d)
            closedir(d);
        if (rmdir(o->chunks) == 0 || errno == ENOENT)
            return;
        usleep(100000);
    }
}

/* The guard's finishing function: the monitor died before the file was
 * finished, so its temporary file goes, and the chunks' directory once
 * the manager is done with it (at most a minute, its time limit).  A
 * domain the command paused and did not resume runs again: the cont is
 * queued behind the dead monitor's last request, as the manager carries
 * out one request at a time (docs/control-protocol.md). */
static void unguarded(void *ctx, const char *steps)
{
    const struct hmp_out *o = ctx;
    const struct hmp *m = o->m;
    struct hmp_err err;
    unlink(o->tmp);
    if (strchr(steps, HMP_OUT_PAUSING) && !strchr(steps, HMP_OUT_RESUMED) && m->be->simple_apart)
        m->be->simple_apart(m->ctx, m->dom, "cont", &err);
    remove_chunks(o, 600);
}

int hmp_out_open(struct hmp_out *o, struct hmp *m, const char *name)
{
    struct stat st;
    char dir[PATH_MAX], base[PATH_MAX];
    o->m = m;
    snprintf(o->name, sizeof(o->name), "%s", name);
    snprintf(dir, sizeof(dir), "%s", name);
    snprintf(base, sizeof(base), "%s", name);
    /* A directory (or a device) is what fopen would refuse or write
     * through: say so now, in QEMU's words, rather than rename over it. */
    int bad = 0;
    if (stat(name, &st) == 0 && !S_ISREG(st.st_mode))
        bad = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
    char *d = dirname(dir);
    if (d[0] != '/') {
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof(cwd)))
            cwd[0] = 0;
        snprintf(o->dir, sizeof(o->dir), "%s/%s", cwd, d);
    } else {
        snprintf(o->dir, sizeof(o->dir), "%s", d);
    }
    const char *b = basename(base);
    snprintf(o->tmp, sizeof(o->tmp), "%s/.%s.XXXXXX", o->dir, b);
    int fd = bad ? -1 : mkostemp(o->tmp, O_CLOEXEC);
    o->f = fd < 0 ? NULL : fdopen(fd, "wb");
    if (!o->f) {
        errno = bad ? bad : errno;
        fprintf(m->out, "Error: Could not open '%s': %s\n", name, strerror(errno));
        if (fd >= 0)
            close(fd), unlink(o->tmp);
        return -1;
    }
    /* mkstemp's 0600; the file is the user's like any file fopen makes. */
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask);
    /* The chunks of guest memory in a directory of their own, which the
     * guard can remove whole (or, failing that, beside the file). */
    snprintf(o->chunks, sizeof(o->chunks), "%s/.%s.mem.XXXXXX", o->dir, b);
    if (!mkdtemp(o->chunks))
        snprintf(o->chunks, sizeof(o->chunks), "%s", o->dir);
    guard_start(&o->guard, unguarded, o);
    return 0;
}

int hmp_out_finish(struct hmp_out *o, bool ok)
{
    bool closed = fclose(o->f) == 0;
    if (ok && (!closed || rename(o->tmp, o->name) < 0)) {
        fprintf(o->m->out, "Error: An IO error has occurred\n");
        ok = false;
    }
    if (!ok)
        unlink(o->tmp);
    remove_chunks(o, 1);
    guard_end(&o->guard);
    return ok ? 0 : -1;
}
