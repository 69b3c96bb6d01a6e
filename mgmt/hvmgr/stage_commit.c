/*
 * stage_commit.c - the manager's half of x-commit, the monitor's commit of
 * a disk's changes into its backing file (docs/control-protocol.md
 * "Devices: the balloon, commit"; hv's half is hv/core/ctl_dev.c).
 *
 * The backing file hv commits into is not the user's file but a private
 * sparse copy that bin/hvrun attached for it (bin/hvrun.d/outerdisk.sh),
 * named to the manager with --commit-copy DISK:COPY:FILE.  hv copies the
 * disk's changes into the copy, holds the domain and answers with the
 * copy's outer disk and its image's new length; the manager then writes
 * the copy back over the user's file and tells hv to empty the disk
 * (x-commit with "written", the bytes written), or, when the file cannot
 * be written, to let go without emptying it ("written": 0).
 *
 * The write-back is a new file beside the user's, synced and renamed over
 * it (stageout.c), sparse where the copy is: the file is the old one or
 * the new one, never a mix, whenever the host stops; and another machine
 * that shares the file as its base keeps reading the old one it opened.
 * The new file gets the old one's permissions.  It is the manager's work,
 * not the launcher's at exit, because QEMU's commit is done when it
 * answers: the user's file holds the changes as soon as the monitor's
 * prompt returns, and hv empties the disk only once they are there.
 */
#define _GNU_SOURCE /* SEEK_DATA, SEEK_HOLE */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json.h>

#include "hvmgr.h"

/* The copies bin/hvrun attached, by outer disk number (at most four). */
#define COMMIT_COPIES 4
static struct {
    bool on;
    char copy[4096];
    char file[4096];
} copies[COMMIT_COPIES];

/* The front-end's x-commit in flight (its line), for hv's second half. */
static struct {
    bool on;
    char *request;
    size_t len;
} pending;

int commit_option(const char *arg)
{
    char *end;
    unsigned long disk = strtoul(arg, &end, 10);
    const char *copy = end + 1, *file = *end == ':' ? strchr(copy, ':') : NULL;
    if (end == arg || *end != ':' || disk >= COMMIT_COPIES || !file || file == copy ||
        (size_t)(file - copy) >= sizeof(copies[0].copy) || !file[1] ||
        strlen(file + 1) >= sizeof(copies[0].file))
        return -1;
    copies[disk].on = true;
    snprintf(copies[disk].copy, sizeof(copies[disk].copy), "%.*s", (int)(file - copy), copy);
    snprintf(copies[disk].file, sizeof(copies[disk].file), "%s", file + 1);
    return 0;
}

int stage_commit_request(const struct json_doc *doc, int args, const char *line, size_t len,
                         bool *watch, char *why, size_t why_len)
{
    pending.on = false;
    /* Anything hv would refuse anyway (no domain, no device) goes to hv
     * as it is, for its message. */
    if (args < 0 || doc->tok[args].type != JSON_OBJECT || json_get(doc, args, CTL_ARG_DOMAIN) < 0 ||
        json_get(doc, args, CTL_ARG_DEVICE) < 0)
        return 0;
    if (json_get(doc, args, CTL_ARG_WRITTEN) >= 0) {
        snprintf(why, why_len,
                 "'%s' is the manager's own argument: hv empties a disk only after the manager "
                 "has written its backing file back",
                 CTL_ARG_WRITTEN);
        return -1;
    }
    free(pending.request);
    pending.request = malloc(len + 1);
    if (!pending.request) {
        snprintf(why, why_len, "out of memory");
        return -1;
    }
    memcpy(pending.request, line, len);
    pending.request[len] = '\0';
    pending.len = len;
    pending.on = true;
    *watch = true;
    return 0;
}

/* Copy [0, size) of `in` into `out` where `in` has data, leaving holes
 * where it has them: 0, or -1 with errno. */
static int copy_sparse(int in, int out, off_t size)
{
    for (off_t pos = 0; pos < size;) {
        off_t data = lseek(in, pos, SEEK_DATA);
        if (data < 0 && errno == ENXIO)
            break; /* only a hole is left */
        if (data < 0)
            return -1;
        if (data >= size)
            break;
        off_t hole = lseek(in, data, SEEK_HOLE);
        if (hole < 0)
            return -1;
        if (hole > size)
            hole = size;
        if (stage_copy_range(in, data, out, data, (unsigned long long)(hole - data)) < 0)
            return -1;
        pos = hole;
    }
    return ftruncate(out, size);
}

/* The copy of outer disk `disk`, its first `size` bytes, over the user's
 * file: 0, or -1 with errno (EACCES for a file the user may not write, as
 * QEMU's reopen of it for writing fails). */
static int write_back(unsigned disk, unsigned long long size)
{
    struct stat st;
    struct stage_out o;
    const char *file = copies[disk].file;
    if (access(file, W_OK) < 0 || stat(file, &st) < 0)
        return -1;
    if (stage_out_open(&o, file) < 0)
        return -1;
    int in = open(copies[disk].copy, O_RDONLY | O_CLOEXEC);
    int rc = in < 0 || fchmod(o.fd, st.st_mode & 07777) < 0 ? -1 : 0;
    if (rc == 0)
        rc = copy_sparse(in, o.fd, (off_t)size);
    int err = errno;
    if (in >= 0)
        close(in);
    if (rc < 0) {
        stage_out_drop(&o);
        errno = err;
        return -1;
    }
    return stage_out_close(&o, true);
}

/* hv's second half, the request of the manager's own that follows: the
 * front-end's x-commit again (its domain, device and id) with "written",
 * the bytes written back (0: none). */
static void follow(struct stage_after *a, unsigned long long written)
{
    static struct json_tok tok[64];
    struct json_doc doc;
    char err[8];
    const struct stage_arg add[] = {{CTL_ARG_WRITTEN, NULL, written}, {NULL, NULL, 0}};
    if (json_parse(&doc, pending.request, pending.len, tok, 64, CTL_DEPTH_MAX, err, sizeof(err)) ==
        0)
        stage_rewrite(&doc, json_get(&doc, 0, CTL_KEY_ARGUMENTS), CTL_CMD_COMMIT, NULL, add,
                      &a->follow, &a->follow_len);
}

void stage_commit_reply(const char *reply, size_t len, struct stage_after *a)
{
    static struct json_tok tok[64];
    struct json_doc doc;
    char err[8];
    uint64_t disk, size;
    if (!pending.on)
        return;
    pending.on = false;
    int ret = -1;
    if (json_parse(&doc, reply, len, tok, 64, CTL_DEPTH_MAX, err, sizeof(err)) == 0)
        ret = json_get(&doc, 0, CTL_KEY_RETURN);
    /* hv refused (no backing file, read-only): nothing was done. */
    if (ret < 0 || json_u64(&doc, json_get(&doc, ret, CTL_ARG_DISK), &disk) < 0 ||
        json_u64(&doc, json_get(&doc, ret, CTL_ARG_LENGTH), &size) < 0)
        return;
    if (disk >= COMMIT_COPIES || !copies[disk].on) {
        a->failed = true;
        snprintf(a->why, sizeof(a->why),
                 "hv committed into outer disk %llu, which bin/hvrun did not name to the manager "
                 "as a copy of a backing file (--commit-copy); the user's file is unchanged",
                 (unsigned long long)disk);
    } else if (write_back((unsigned)disk, size) < 0) {
        /* QEMU's words: strerror() of the failure (hmp_commit). */
        a->failed = true;
        snprintf(a->why, sizeof(a->why), "%s", strerror(errno));
    }
    /* hv empties the disk only if its data reached the user's file; the
     * front-end gets hv's answer to that, or why the manager could not. */
    follow(a, a->failed ? 0 : size);
    a->follow_answers = !a->failed;
}

void stage_commit_abort(void)
{
    pending.on = false;
}
