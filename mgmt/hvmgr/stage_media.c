/*
 * stage_media.c - the manager's half of blockdev-change-medium: the new
 * medium of the CD-ROM drive, named by its host path, goes to hv on the
 * block path, as domain-create's kernel does (stage.c;
 * docs/control-protocol.md "The staging disk").
 *
 * The staging disk's media region (CTL_STAGE_MEDIA_OFFSET) has two slots
 * of CTL_STAGE_MEDIA_SLOT bytes.  The drive reads its medium from one of
 * them while the guest runs, so a new medium is written into the other:
 * the guest never reads a disc that is being overwritten, and a change hv
 * refuses (the guest locked the drive) leaves the medium in use intact.
 * Which slot is in use the manager learns from hv's reply: a change hv
 * carried out makes its slot the one in use.
 *
 * The manager judges what hv cannot see, in QEMU's words where QEMU has
 * them: the host file (it can be opened: "Could not open ..."; a regular
 * file, not empty, small enough for a slot), the format asked for (a
 * qcow2 request for a file that is not one: "Image is not in qcow2
 * format"), and that the path is absolute (the manager does not know the
 * front-end's directory).  The drive and its lock are hv's to judge.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json.h>

#include "hvmgr.h"

/* The slot the drive reads (-1: none yet: the boot's medium is a file of
 * its own), and the slot of the change in flight (-1: none). */
static int active = -1, pending = -1;

/* The qcow2 magic, "QFI\xfb" (QEMU's docs/interop/qcow2.txt "Header"). */
static bool is_qcow2(int fd)
{
    unsigned char m[4];
    return pread(fd, m, 4, 0) == 4 && !memcmp(m, "QFI\xfb", 4);
}

/* Is the host file fit to be a medium (and the format asked for right)?
 * Its size in *size.  0, or -1 with the reason. */
static int check_file(int fd, const char *path, const char *format, unsigned long long *size,
                      char *why, size_t why_len)
{
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(why, why_len, "'%s' is not a regular file", path);
        return -1;
    }
    if (format[0] && !strcmp(format, "qcow2") && !is_qcow2(fd)) {
        snprintf(why, why_len, "Image is not in qcow2 format");
        return -1;
    }
    if (st.st_size == 0) {
        snprintf(why, why_len, "'%s' is empty: a medium needs at least one sector", path);
        return -1;
    }
    if ((unsigned long long)st.st_size > CTL_STAGE_MEDIA_SLOT) {
        snprintf(why, why_len,
                 "'%s' has %lld bytes: the staging disk's media region takes a medium of at most "
                 "%llu bytes (%llu MiB)",
                 path, (long long)st.st_size, CTL_STAGE_MEDIA_SLOT, CTL_STAGE_MEDIA_SLOT >> 20);
        return -1;
    }
    *size = (unsigned long long)st.st_size;
    return 0;
}

/* The file into the free slot and the request rewritten. */
static int stage_medium(const struct json_doc *doc, int args, const char *path, char **line,
                        size_t *len, char *why, size_t why_len)
{
    char format[32];
    unsigned disk;
    const char *stage_path = stage_disk(&disk);
    if (!stage_path) {
        snprintf(why, why_len,
                 "this manager has no staging disk for media (bin/hvrun --control attaches one "
                 "when the outer machine has a free disk position)");
        return -1;
    }
    stage_str_arg(doc, args, CTL_ARG_FORMAT, format, sizeof(format));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, why_len, "Could not open '%s': %s", path, strerror(errno));
        return -1;
    }
    unsigned long long size;
    int slot = active == 0 ? 1 : 0;
    unsigned long long offset =
        CTL_STAGE_MEDIA_OFFSET + (unsigned long long)slot * CTL_STAGE_MEDIA_SLOT;
    int rc = check_file(fd, path, format, &size, why, why_len);
    int out = rc == 0 ? open(stage_path, O_WRONLY | O_CLOEXEC) : -1;
    if (rc == 0 && (out < 0 || stage_copy_range(fd, 0, out, (off_t)offset, size) < 0)) {
        snprintf(why, why_len, "the staging disk '%s': %s", stage_path, strerror(errno));
        rc = -1;
    }
    if (out >= 0)
        close(out);
    close(fd);
    /* hv's form: where the bytes lie, in place of nothing (the filename
     * stays, as the medium's name). */
    const struct stage_arg add[] = {{CTL_ARG_DISK, NULL, disk},
                                    {CTL_ARG_OFFSET, NULL, offset},
                                    {CTL_ARG_LENGTH, NULL, size},
                                    {NULL, NULL, 0}};
    if (rc == 0 && stage_rewrite(doc, args, CTL_CMD_CHANGE_MEDIUM, NULL, add, line, len) < 0) {
        snprintf(why, why_len, "the request does not fit in a line with the medium's place");
        rc = -1;
    }
    if (rc == 0)
        pending = slot;
    return rc;
}

int media_request(char **line, size_t *len, char *why, size_t why_len)
{
    static struct json_tok tok[256];
    struct json_doc doc;
    char err[8], path[4096];
    pending = -1;
    /* Anything that is not a well-formed blockdev-change-medium with a
     * filename and no disk goes to hv as it is (hv answers what is wrong
     * with it). */
    if (json_parse(&doc, *line, *len, tok, 256, CTL_DEPTH_MAX, err, sizeof(err)) < 0 ||
        doc.tok[0].type != JSON_OBJECT)
        return 0;
    int ex = json_get(&doc, 0, CTL_KEY_EXECUTE);
    int args = json_get(&doc, 0, CTL_KEY_ARGUMENTS);
    if (ex < 0 || !json_str_eq(&doc, ex, CTL_CMD_CHANGE_MEDIUM) || args < 0 ||
        doc.tok[args].type != JSON_OBJECT || json_get(&doc, args, CTL_ARG_DISK) >= 0)
        return 0;
    stage_str_arg(&doc, args, CTL_ARG_FILENAME, path, sizeof(path));
    if (!path[0])
        return 0;
    if (path[0] != '/') {
        snprintf(why, why_len,
                 "medium '%s': give an absolute path (the manager does not know the front-end's "
                 "directory)",
                 path);
        return -1;
    }
    return stage_medium(&doc, args, path, line, len, why, why_len);
}

void media_reply(const char *reply, size_t len)
{
    /* hv's replies start {"return" or {"error" (ctl.c writes them so). */
    static const char ok[] = "{\"" CTL_KEY_RETURN "\"";
    if (pending >= 0 && len >= sizeof(ok) - 1 && !memcmp(reply, ok, sizeof(ok) - 1))
        active = pending;
    pending = -1;
}
