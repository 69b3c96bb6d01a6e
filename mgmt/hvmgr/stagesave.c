/*
 * stagesave.c - the manager's half of domain-save and domain-restore
 * (docs/control-protocol.md "Saving a domain to a file").
 *
 * hv writes a saved state into the staging disk's save region
 * (CTL_STAGE_SAVE_OFFSET, include/hvkit/ctl.h) and reads a state to
 * restore from there; the front-end names a host file.  The manager moves
 * the bytes between the two, as it moves domain-create's kernel (stage.c):
 *
 * - domain-save FILE: before the request goes to hv, a temporary file is
 *   made beside FILE (stageout.c; so that a directory the manager cannot
 *   write is refused before anything happens) and the request names the save
 *   region instead.  Once hv has answered with the state's size, the
 *   region is copied into the temporary file, which is synced and renamed
 *   over FILE: FILE appears whole or not at all, and an existing FILE is
 *   replaced only by a complete save.  A save that should end the domain
 *   (after "destroy", xl save's default) goes to hv as "pause": the
 *   manager destroys the domain only once the file is safely there, and
 *   lets it run again if the copy failed, so that no failure loses both
 *   the domain and its state.
 * - domain-restore FILE: FILE is copied into the save region and the
 *   request names it; hv checks the whole state before it makes anything.
 *
 * Requests go to hv one at a time (relay.c), so one state at a time is all
 * the save region holds (it serves pmemsave and memsave too, stagemem.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "hvmgr.h"

/* The save hv is carrying out: the front-end's file and its temporary
 * twin (stageout.c), what the front-end asked to become of the domain. */
static struct {
    bool on;
    struct stage_out out;
    unsigned long long domain;
    bool destroy;   /* after "destroy": the manager destroys it */
    bool continue_; /* after "continue": it runs on whatever happens */
} save = {.out.fd = -1};

/* ---- domain-save ---------------------------------------------------------------------- */

/* The temporary file beside `path`; 0, or -1 with why. */
static int make_temp(const char *path, char *why, size_t why_len)
{
    if (stage_out_open(&save.out, path) == 0)
        return 0;
    if (errno == 0 || errno == EISDIR)
        snprintf(why, why_len, "file '%s' exists and is not a regular file", path);
    else
        snprintf(why, why_len, "file '%s': %s", path, strerror(errno));
    return -1;
}

static void drop_temp(void)
{
    stage_out_drop(&save.out);
    save.on = false;
}

/* The region's first `size` bytes into the front-end's file.  0, or -1
 * with why (the temporary file gone). */
static int write_out(unsigned long long size, char *why, size_t why_len)
{
    int rc = stage_out_commit(&save.out, size, true);
    if (rc < 0)
        snprintf(why, why_len, "file '%s': %s (nothing was written)", save.out.path,
                 strerror(errno));
    save.on = false;
    return rc;
}

/* The string argument `key` into buf: 1 when there, 0 when absent, -1
 * when not a string (why says so). */
static int str_arg(const struct json_doc *doc, int args, const char *key, char *buf, size_t size,
                   char *why, size_t why_len)
{
    int k = args < 0 ? -1 : json_get(doc, args, key);
    if (k < 0)
        return 0;
    if (doc->tok[k].type != JSON_STRING || json_str_copy(doc, k, buf, size) < 0 || !buf[0]) {
        snprintf(why, why_len, "argument '%s' must be a string of 1 to %zu bytes", key, size - 1);
        return -1;
    }
    return 1;
}

/* The absolute path of "file", or -1 with why. */
static int file_arg(const struct json_doc *doc, int args, char *path, size_t size, char *why,
                    size_t why_len)
{
    int r = str_arg(doc, args, CTL_ARG_FILE, path, size, why, why_len);
    if (r == 0)
        snprintf(why, why_len, "argument '%s' is missing", CTL_ARG_FILE);
    if (r <= 0)
        return -1;
    if (path[0] != '/') {
        snprintf(why, why_len,
                 "file '%s': give an absolute path (the manager does not know the front-end's "
                 "directory)",
                 path);
        return -1;
    }
    if (!stage_disk(&(unsigned){0})) {
        snprintf(why, why_len,
                 "this manager has no staging disk for saved states (bin/hvrun --control "
                 "attaches one when the outer machine has a free disk position)");
        return -1;
    }
    return 0;
}

static int save_request(const struct json_doc *doc, int args, char **line, size_t *len, bool *watch,
                        char *why, size_t why_len)
{
    char after[16] = "destroy";
    uint64_t domain = 0;
    int k = args < 0 ? -1 : json_get(doc, args, CTL_ARG_DOMAIN);
    if (k >= 0 && json_u64(doc, k, &domain) < 0)
        return 0; /* hv says what is wrong with it */
    char path[4096];
    if (file_arg(doc, args, path, sizeof(path), why, why_len) < 0 ||
        str_arg(doc, args, CTL_ARG_AFTER, after, sizeof(after), why, why_len) < 0)
        return -1;
    save.domain = domain;
    save.destroy = !strcmp(after, "destroy");
    save.continue_ = !strcmp(after, "continue");
    if (make_temp(path, why, why_len) < 0)
        return -1;
    unsigned disk;
    stage_disk(&disk);
    static const char *const drop[] = {CTL_ARG_FILE, NULL};
    const struct stage_arg add[] = {{CTL_ARG_DISK, NULL, disk},
                                    {CTL_ARG_OFFSET, NULL, CTL_STAGE_SAVE_OFFSET},
                                    {CTL_ARG_AFTER, save.destroy ? "pause" : after, 0},
                                    {NULL, NULL, 0}};
    if (stage_rewrite(doc, args, CTL_CMD_DOMAIN_SAVE, drop, add, line, len) < 0) {
        drop_temp();
        snprintf(why, why_len, "the request does not fit in a line with the state's place");
        return -1;
    }
    save.on = true;
    *watch = true;
    return 0;
}

/* ---- domain-restore ------------------------------------------------------------------- */

static int restore_request(const struct json_doc *doc, int args, char **line, size_t *len,
                           char *why, size_t why_len)
{
    char path[4096];
    unsigned long long bytes;
    unsigned disk;
    if (file_arg(doc, args, path, sizeof(path), why, why_len) < 0 ||
        stage_copy_in("file", path, (off_t)CTL_STAGE_SAVE_OFFSET, CTL_STAGE_SAVE_MAX, &bytes, why,
                      why_len) < 0)
        return -1;
    stage_disk(&disk);
    static const char *const drop[] = {CTL_ARG_FILE, NULL};
    const struct stage_arg add[] = {{CTL_ARG_DISK, NULL, disk},
                                    {CTL_ARG_OFFSET, NULL, CTL_STAGE_SAVE_OFFSET},
                                    {CTL_ARG_LENGTH, NULL, bytes},
                                    {NULL, NULL, 0}};
    if (stage_rewrite(doc, args, CTL_CMD_DOMAIN_RESTORE, drop, add, line, len) < 0) {
        snprintf(why, why_len, "the request does not fit in a line with the state's place");
        return -1;
    }
    return 0;
}

/* ---- The two requests, and hv's reply ------------------------------------------------ */

int stage_save_request(const struct json_doc *doc, int ex, int args, char **line, size_t *len,
                       bool *watch, char *why, size_t why_len)
{
    /* A request that names the place itself goes on as it is (a state on
     * an --outer-disk file, say). */
    if (args >= 0 && (doc->tok[args].type != JSON_OBJECT || json_get(doc, args, CTL_ARG_DISK) >= 0))
        return 0;
    if (json_str_eq(doc, ex, CTL_CMD_DOMAIN_SAVE))
        return save_request(doc, args, line, len, watch, why, why_len);
    return restore_request(doc, args, line, len, why, why_len);
}

/* A request of the manager's own for hv, on domain save.domain. */
static void follow_up(struct stage_after *a, const char *execute)
{
    char buf[256];
    int n = snprintf(buf, sizeof(buf), "{\"%s\": \"%s\", \"%s\": {\"%s\": %llu}}", CTL_KEY_EXECUTE,
                     execute, CTL_KEY_ARGUMENTS, CTL_ARG_DOMAIN, save.domain);
    a->follow = malloc((size_t)n + 1);
    if (a->follow) {
        memcpy(a->follow, buf, (size_t)n + 1);
        a->follow_len = (size_t)n;
    }
}

void stage_save_reply(const char *reply, size_t len, struct stage_after *a)
{
    static struct json_tok tok[256];
    struct json_doc doc;
    char err[8];
    uint64_t size = 0;
    if (!save.on)
        return;
    int ret = -1, k = -1;
    if (json_parse(&doc, reply, len, tok, 256, CTL_DEPTH_MAX, err, sizeof(err)) == 0)
        ret = json_get(&doc, 0, CTL_KEY_RETURN);
    if (ret >= 0)
        k = json_get(&doc, ret, CTL_ARG_SIZE);
    /* hv refused: nothing was saved, the domain is as it was. */
    if (k < 0 || json_u64(&doc, k, &size) < 0) {
        drop_temp();
        return;
    }
    int st = json_get(&doc, ret, "status");
    bool was_running = st >= 0 && json_str_eq(&doc, st, CTL_RUNSTATE_RUNNING);
    bool destroy = save.destroy, cont = !save.continue_ && was_running;
    if (write_out(size, a->why, sizeof(a->why)) < 0) {
        a->failed = true;
        /* The state is lost, the domain is not: it runs again if it ran. */
        if (cont)
            follow_up(a, CTL_CMD_CONT);
        return;
    }
    if (destroy)
        follow_up(a, CTL_CMD_DOMAIN_DESTROY);
}

void stage_save_abort(void)
{
    /* hv is gone before it answered: nothing was saved, no file stays. */
    if (save.on)
        drop_temp();
}
