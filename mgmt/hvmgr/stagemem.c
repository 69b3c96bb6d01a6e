/*
 * stagemem.c - the manager's half of pmemsave and memsave
 * (docs/control-protocol.md "Guest memory into a file").
 *
 * The front-end names a host file ("filename", QMP's argument); hv writes
 * the guest memory into the staging disk's save region, the region a
 * domain-save uses (requests go to hv one at a time, relay.c, so the one
 * region serves both), and the manager copies the region's first "size"
 * bytes into the file, whole or not at all (stageout.c):
 *
 * - before the request goes to hv: the path must be absolute, a temporary
 *   file is made beside it (a directory the manager cannot write is
 *   refused here, in QEMU's words), and "filename" becomes "disk" and
 *   "offset";
 * - hv's reply: `{}` and the copy is made and renamed into place; an
 *   error, and the temporary file goes, hv's error passing on as it is;
 *   a request the front-end was told timed out (relay.c) gets no file
 *   when hv's reply comes late.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <json.h>

#include "hvmgr.h"

/* The request hv is carrying out: the front-end's file and the bytes. */
static struct {
    bool on;
    struct stage_out out;
    unsigned long long size;
} mem = {.out.fd = -1};

/* The absolute path of "filename" into path, or -1 with why. */
static int filename_arg(const struct json_doc *doc, int args, char *path, size_t size, char *why,
                        size_t why_len)
{
    int k = args < 0 ? -1 : json_get(doc, args, CTL_ARG_FILENAME);
    if (k < 0 || doc->tok[k].type != JSON_STRING || json_str_copy(doc, k, path, size) < 0 ||
        !path[0]) {
        snprintf(why, why_len, "argument '%s' must be a string of 1 to %zu bytes", CTL_ARG_FILENAME,
                 size - 1);
        return -1;
    }
    if (path[0] != '/') {
        snprintf(why, why_len,
                 "Could not open '%s': give an absolute path (the manager does not know the "
                 "front-end's directory)",
                 path);
        return -1;
    }
    if (!stage_disk(&(unsigned){0})) {
        snprintf(why, why_len,
                 "this manager has no staging disk for guest memory (bin/hvrun --control "
                 "attaches one when the outer machine has a free disk position)");
        return -1;
    }
    return 0;
}

int stage_mem_request(const struct json_doc *doc, int ex, int args, char **line, size_t *len,
                      bool *watch, char *why, size_t why_len)
{
    char path[4096], execute[16];
    /* A request that names the place itself goes on as it is (the range
     * into an --outer-disk file, say). */
    if (args >= 0 && (doc->tok[args].type != JSON_OBJECT || json_get(doc, args, CTL_ARG_DISK) >= 0))
        return 0;
    if (filename_arg(doc, args, path, sizeof(path), why, why_len) < 0)
        return -1;
    /* The bytes to copy once hv has written them; a size that is not one
     * hv refuses, and then nothing is copied. */
    uint64_t size = 0;
    int k = json_get(doc, args, CTL_ARG_SIZE);
    if (k >= 0)
        json_u64(doc, k, &size);
    mem.size = size;
    if (stage_out_open(&mem.out, path) < 0) {
        snprintf(why, why_len, "Could not open '%s': %s", path,
                 errno ? strerror(errno) : "not a regular file");
        return -1;
    }
    unsigned disk;
    stage_disk(&disk);
    static const char *const drop[] = {CTL_ARG_FILENAME, NULL};
    const struct stage_arg add[] = {
        {CTL_ARG_DISK, NULL, disk}, {CTL_ARG_OFFSET, NULL, CTL_STAGE_SAVE_OFFSET}, {NULL, NULL, 0}};
    json_str_copy(doc, ex, execute, sizeof(execute));
    if (stage_rewrite(doc, args, execute, drop, add, line, len) < 0) {
        stage_out_drop(&mem.out);
        snprintf(why, why_len, "the request does not fit in a line with the memory's place");
        return -1;
    }
    mem.on = true;
    *watch = true;
    return 0;
}

void stage_mem_reply(const char *reply, size_t len, struct stage_after *a)
{
    static struct json_tok tok[64];
    struct json_doc doc;
    char err[8];
    if (!mem.on)
        return;
    mem.on = false;
    /* hv refused (its error goes to the front-end as it is): no file. */
    if (json_parse(&doc, reply, len, tok, 64, CTL_DEPTH_MAX, err, sizeof(err)) < 0 ||
        json_get(&doc, 0, CTL_KEY_RETURN) < 0) {
        stage_out_drop(&mem.out);
        return;
    }
    if (stage_out_commit(&mem.out, mem.size, false) < 0) {
        a->failed = true;
        snprintf(a->why, sizeof(a->why),
                 "An IO error has occurred (file '%s': %s; nothing was "
                 "written)",
                 mem.out.path, strerror(errno));
    }
}

void stage_mem_timed_out(void)
{
    /* The temporary file goes now; hv's late reply then finds nothing to
     * finish (stage_mem_reply). */
    if (mem.on)
        stage_out_drop(&mem.out);
    mem.on = false;
}
