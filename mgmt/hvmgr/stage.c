/*
 * stage.c - the manager's half of domain-create: a kernel named by its
 * host path goes to hv on the block path, not on COM2
 * (docs/control-protocol.md "Loading a new domain at run time").
 *
 * bin/hvrun --control gives the outer machine one more disk, the staging
 * disk: a scratch file of the run (hvrun's temporary directory) that hv
 * sees as an outer disk (hv/disk/) and that the manager writes.  When a
 * domain-create request with a "kernel" path is about to go to hv, the
 * manager copies that file to the start of the staging disk and adds
 * where it lies ("disk", "offset", "length") to the request's arguments;
 * hv reads the bytes from there and builds the domain from its copy.
 * Requests go to hv one at a time (relay.c), so one kernel at a time is
 * all the staging disk ever holds, and it is free again once hv has
 * answered.  A request that already names a disk is passed on as it is
 * (an image on an --outer-disk file, say).
 *
 * The manager judges only what hv cannot see: the host file (there, a
 * regular file, not empty, small enough for the staging disk) and that
 * the path is absolute (the manager does not know the front-end's
 * directory).  Everything else -- a bad Multiboot image, too much memory,
 * a sixth domain -- is hv's to refuse.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json.h>

#include "hvmgr.h"

/* Bytes moved per read and write between two files. */
#define COPY_CHUNK (1u << 20)

/* The staging disk: its host file, its number among the outer disks, and
 * how many of its bytes hv reads as they are (the rest of an outer disk
 * reads as zeros: hv/disk/diskio.h). */
static struct {
    bool on;
    char path[4096];
    unsigned disk;
    unsigned long long bytes;
} stage;

int stage_option(const char *arg)
{
    /* FILE:DISK:BYTES; the file name may itself hold a ':'. */
    const char *b = strrchr(arg, ':');
    if (!b || b == arg)
        return -1;
    const char *d = b - 1;
    while (d > arg && *d != ':')
        d--;
    if (*d != ':' || d == arg || (size_t)(d - arg) >= sizeof(stage.path))
        return -1;
    char *end;
    unsigned long disk = strtoul(d + 1, &end, 10);
    if (end != b || disk > 3)
        return -1;
    stage.bytes = strtoull(b + 1, &end, 10);
    if (*end || stage.bytes == 0)
        return -1;
    memcpy(stage.path, arg, (size_t)(d - arg));
    stage.path[d - arg] = '\0';
    stage.disk = (unsigned)disk;
    stage.on = true;
    return 0;
}

/* The bytes of a kernel the staging disk takes: its first region
 * (include/hvkit/ctl.h), or the whole of a smaller disk. */
static unsigned long long kernel_room(void)
{
    return stage.bytes < CTL_KERNEL_MAX ? stage.bytes : CTL_KERNEL_MAX;
}

int stage_copy_range(int in, off_t in_off, int out, off_t out_off, unsigned long long len)
{
    char *buf = malloc(COPY_CHUNK);
    if (!buf)
        return -1;
    while (len) {
        size_t n = len < COPY_CHUNK ? (size_t)len : COPY_CHUNK;
        ssize_t r = pread(in, buf, n, in_off);
        if (r <= 0 || pwrite(out, buf, (size_t)r, out_off) != r) {
            if (r == 0)
                errno = EIO;
            free(buf);
            return -1;
        }
        in_off += r;
        out_off += r;
        len -= (unsigned long long)r;
    }
    free(buf);
    return 0;
}

int stage_copy_in(const char *what, const char *path, off_t at, unsigned long long max,
                  unsigned long long *len, char *why, size_t why_len)
{
    int in = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (in < 0 || fstat(in, &st) < 0) {
        snprintf(why, why_len, "%s '%s': %s", what, path, strerror(errno));
        if (in >= 0)
            close(in);
        return -1;
    }
    int rc = -1;
    if (!S_ISREG(st.st_mode))
        snprintf(why, why_len, "%s '%s' is not a regular file", what, path);
    else if (st.st_size == 0)
        snprintf(why, why_len, "%s '%s' is empty", what, path);
    else if ((unsigned long long)st.st_size > max)
        snprintf(why, why_len, "%s '%s' has %lld bytes; the staging disk holds %llu", what, path,
                 (long long)st.st_size, max);
    else
        rc = 0;
    int out = rc == 0 ? open(stage.path, O_WRONLY | O_CLOEXEC) : -1;
    if (rc == 0 &&
        (out < 0 || stage_copy_range(in, 0, out, at, (unsigned long long)st.st_size) < 0)) {
        snprintf(why, why_len, "the staging disk '%s': %s", stage.path, strerror(errno));
        rc = -1;
    }
    if (out >= 0)
        close(out);
    close(in);
    *len = (unsigned long long)st.st_size;
    return rc;
}

/* A string member `key` of object `obj` into buf ("" when absent or not a
 * string that fits). */
void stage_str_arg(const struct json_doc *doc, int obj, const char *key, char *buf, size_t size)
{
    int k = json_get(doc, obj, key);
    buf[0] = '\0';
    if (k >= 0 && (doc->tok[k].type != JSON_STRING || json_str_copy(doc, k, buf, size) < 0))
        buf[0] = '\0';
}

/* Is key token k one of the NULL-ended names? */
static bool listed(const struct json_doc *doc, int k, const char *const *names)
{
    for (; names && *names; names++)
        if (json_str_eq(doc, k, *names))
            return true;
    return false;
}

int stage_rewrite(const struct json_doc *doc, int args, const char *execute,
                  const char *const *drop, const struct stage_arg *add, char **line,
                  size_t *line_len)
{
    char *buf = malloc(CTL_LINE_MAX);
    char key[256];
    struct json_out o;
    if (!buf)
        return -1;
    json_out_init(&o, buf, CTL_LINE_MAX);
    json_obj_begin(&o);
    json_key(&o, CTL_KEY_EXECUTE);
    json_put_str(&o, execute);
    json_key(&o, CTL_KEY_ARGUMENTS);
    json_obj_begin(&o);
    for (int k = args < 0 ? -1 : json_first(doc, args); k >= 0;
         k = json_member_next(doc, args, k)) {
        bool replaced = false;
        for (const struct stage_arg *a = add; a && a->key; a++)
            replaced |= json_str_eq(doc, k, a->key);
        if (replaced || listed(doc, k, drop))
            continue;
        if (json_str_copy(doc, k, key, sizeof(key)) < 0) {
            free(buf);
            return -1;
        }
        json_key(&o, key);
        json_put_tok(&o, doc, k + 1);
    }
    for (const struct stage_arg *a = add; a && a->key; a++) {
        json_key(&o, a->key);
        if (a->str)
            json_put_str(&o, a->str);
        else
            json_put_u64(&o, a->num);
    }
    json_obj_end(&o);
    int id = json_get(doc, 0, CTL_KEY_ID);
    if (id >= 0) {
        json_key(&o, CTL_KEY_ID);
        json_put_tok(&o, doc, id);
    }
    json_obj_end(&o);
    if (!json_out_ok(&o)) {
        free(buf);
        return -1;
    }
    free(*line);
    *line = buf;
    *line_len = o.len;
    return 0;
}

const char *stage_disk(unsigned *disk)
{
    *disk = stage.disk;
    return stage.on ? stage.path : NULL;
}

unsigned long long stage_bytes(void)
{
    return stage.on ? stage.bytes : 0;
}

int stage_request(char **line, size_t *len, bool *watch, char *why, size_t why_len)
{
    static struct json_tok tok[256];
    struct json_doc doc;
    char err[8], path[4096];
    /* Anything that is not a well-formed domain-create with a kernel path
     * and no disk goes to hv as it is (hv answers what is wrong with it). */
    if (json_parse(&doc, *line, *len, tok, 256, CTL_DEPTH_MAX, err, sizeof(err)) < 0 ||
        doc.tok[0].type != JSON_OBJECT)
        return 0;
    int ex = json_get(&doc, 0, CTL_KEY_EXECUTE);
    int args = json_get(&doc, 0, CTL_KEY_ARGUMENTS);
    *watch = false;
    if (ex >= 0 && (json_str_eq(&doc, ex, CTL_CMD_DOMAIN_SAVE) ||
                    json_str_eq(&doc, ex, CTL_CMD_DOMAIN_RESTORE)))
        return stage_save_request(&doc, ex, args, line, len, watch, why, why_len);
    if (ex >= 0 &&
        (json_str_eq(&doc, ex, CTL_CMD_PMEMSAVE) || json_str_eq(&doc, ex, CTL_CMD_MEMSAVE)))
        return stage_mem_request(&doc, ex, args, line, len, watch, why, why_len);
    if (ex >= 0 && json_str_eq(&doc, ex, CTL_CMD_COMMIT))
        return stage_commit_request(&doc, args, *line, *len, watch, why, why_len);
    if (ex < 0 || !json_str_eq(&doc, ex, CTL_CMD_DOMAIN_CREATE) || args < 0 ||
        doc.tok[args].type != JSON_OBJECT || json_get(&doc, args, CTL_ARG_DISK) >= 0)
        return 0;
    int k = json_get(&doc, args, CTL_ARG_KERNEL);
    if (k < 0 || doc.tok[k].type != JSON_STRING || json_str_copy(&doc, k, path, sizeof(path)) < 0 ||
        !path[0])
        return 0;
    if (path[0] != '/') {
        snprintf(why, why_len,
                 "kernel '%s': give an absolute path (the manager does not know the front-end's "
                 "directory)",
                 path);
        return -1;
    }
    if (!stage.on) {
        snprintf(why, why_len,
                 "this manager has no staging disk for kernels (bin/hvrun --control attaches one "
                 "when the outer machine has a free disk position)");
        return -1;
    }
    unsigned long long bytes;
    if (stage_copy_in("kernel", path, 0, kernel_room(), &bytes, why, why_len) < 0)
        return -1;
    const struct stage_arg place[] = {{CTL_ARG_DISK, NULL, stage.disk},
                                      {CTL_ARG_OFFSET, NULL, 0},
                                      {CTL_ARG_LENGTH, NULL, bytes},
                                      {NULL, NULL, 0}};
    if (stage_rewrite(&doc, args, CTL_CMD_DOMAIN_CREATE, NULL, place, line, len) < 0) {
        snprintf(why, why_len, "the request does not fit in a line with the kernel's place");
        return -1;
    }
    return 0;
}

void stage_reply(const char *reply, size_t len, struct stage_after *after)
{
    memset(after, 0, sizeof(*after));
    /* One request is with hv at a time: at most one of them watches it. */
    stage_save_reply(reply, len, after);
    stage_mem_reply(reply, len, after);
    stage_commit_reply(reply, len, after);
}

void stage_timed_out(void)
{
    stage_mem_timed_out();
}
