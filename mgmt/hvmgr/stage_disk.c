/*
 * stage_disk.c - the manager's half of x-blockdev-attach and
 * x-blockdev-detach: a disk attached to a running domain lives in a disk
 * slot of the staging disk while it is attached, and goes back over the
 * user's file when it is detached or its domain ends
 * (docs/control-protocol.md "Disks attached at run time").
 *
 * Why a copy.  hv reaches host files only as the outer machine's disks,
 * and those are fixed when the emulator starts (QEMU's IDE cannot
 * hot-plug; Bochs has no hot-plug at all).  The staging disk is one of
 * them; CTL_STAGE_DISK_SLOTS slots of it (include/hvkit/ctl.h) take one
 * image each:
 *
 *   attach  the file is copied sparsely (SEEK_DATA/SEEK_HOLE) into a free
 *           slot, a trailer (hv/disk/diskio.h: length, limit, read-only
 *           flag, name) goes into the slot's last sector, and the request
 *           gets hv's form, "disk" and "offset"; hv opens the slot as a file
 *           of its own and keeps the trailer's length current as a qcow2
 *           image grows.  A refusal of hv's frees the slot again.
 *   back    on detach (hv's reply), on the domain's end (SHUTDOWN,
 *           CRASHED), when another domain takes its number (CREATED) and
 *           when hv ends or the manager is stopped: the slot's first
 *           `length` bytes (the trailer's) are copied sparsely into a
 *           temporary file beside the user's file, synced and renamed over
 *           it, so the file is always either as it was or wholly the
 *           disk's new state.  A detached disk's slot is then emptied (its
 *           blocks given back: a hole).
 *
 * Between attach and write-back the user's file is not updated: the
 * guest's writes land in the slot, as QEMU's cache=unsafe keeps them from
 * the file until it flushes.  A read-only disk is never written back.
 */
#define _GNU_SOURCE /* SEEK_DATA, SEEK_HOLE, FALLOC_FL_* */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json.h>

#include "../../hv/disk/diskio.h"
#include "hvmgr.h"

/* One slot: free, or the disk in it. */
struct slot {
    bool used;
    /* hv has not answered the attach yet. */
    bool attaching;
    /* Written back since its domain last ran: nothing new to copy. */
    bool written;
    unsigned domain;
    char device[32];
    char path[4096];
    bool readonly;
};

static struct slot slots[CTL_STAGE_DISK_SLOTS];
/* The slot of the attach in flight, or of the detach in flight (-1: none). */
static int attaching = -1, detaching = -1;

/* Where slot s starts in the staging disk. */
static unsigned long long slot_offset(int s)
{
    return CTL_STAGE_DISK_OFFSET + (unsigned long long)s * CTL_STAGE_DISK_SLOT;
}

/* The bytes an image may have in a slot: all but the trailer's sector. */
#define SLOT_ROOM (CTL_STAGE_DISK_SLOT - DISKIO_SECTOR)

/* A big-endian field of a qcow2 header. */
static unsigned long long be(const unsigned char *p, int n)
{
    unsigned long long v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* Copy [in_off, in_off + len) of `in` to `out` at out_off, data only:
 * holes stay holes (SEEK_DATA/SEEK_HOLE, lseek(2)); `out` must read as
 * zeros there already.  0, or -1 with errno. */
static int copy_sparse(int in, off_t in_off, int out, off_t out_off, unsigned long long len)
{
    off_t end = in_off + (off_t)len;
    for (off_t pos = in_off; pos < end;) {
        off_t data = lseek(in, pos, SEEK_DATA);
        if (data < 0 && errno == ENXIO)
            return 0;
        if (data < 0)
            return -1;
        if (data >= end)
            return 0;
        off_t hole = lseek(in, data, SEEK_HOLE);
        if (hole < 0)
            return -1;
        if (hole > end)
            hole = end;
        if (stage_copy_range(in, data, out, out_off + (data - in_off),
                             (unsigned long long)(hole - data)) < 0)
            return -1;
        pos = hole;
    }
    return 0;
}

/* Empty slot s: its blocks go back to the host (a hole), so it reads as
 * zeros for the next image and takes no room. */
static void punch(int s)
{
    unsigned disk;
    const char *stage_path = stage_disk(&disk);
    int fd = stage_path ? open(stage_path, O_WRONLY | O_CLOEXEC) : -1;
    if (fd < 0)
        return;
    if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)slot_offset(s),
                  (off_t)CTL_STAGE_DISK_SLOT) < 0) {
        /* A file system without holes: zeros, the same to the next reader. */
        static const char zeros[1 << 16];
        for (unsigned long long o = 0; o < CTL_STAGE_DISK_SLOT; o += sizeof(zeros))
            if (pwrite(fd, zeros, sizeof(zeros), (off_t)(slot_offset(s) + o)) < 0)
                break;
    }
    close(fd);
}

/* The length of the image in slot s, from its trailer (hv keeps it
 * current); -1 when the trailer cannot be read or is damaged. */
static long long slot_length(int s, int fd)
{
    unsigned char sector[DISKIO_SECTOR];
    struct diskio_trailer t;
    const char *why;
    if (pread(fd, sector, sizeof(sector), (off_t)(slot_offset(s) + SLOT_ROOM)) !=
            (ssize_t)sizeof(sector) ||
        diskio_trailer_decode(sector, CTL_STAGE_DISK_SLOT / DISKIO_SECTOR, &t, &why) < 0)
        return -1;
    return (long long)t.length;
}

/* Slot s's image over the user's file, whole or not at all.  0, or -1
 * with the reason in why. */
static int write_back(int s, char *why, size_t why_len)
{
    struct slot *sl = &slots[s];
    if (sl->readonly || sl->written)
        return 0;
    unsigned disk;
    const char *stage_path = stage_disk(&disk);
    int in = stage_path ? open(stage_path, O_RDONLY | O_CLOEXEC) : -1;
    long long len = in >= 0 ? slot_length(s, in) : -1;
    struct stage_out o;
    struct stat st;
    int rc = -1, err = 0;
    /* SIGTERM (bin/hvrun's end) waits for the copy: a guest's writes are
     * not given up half copied. */
    sigset_t term, old;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigaddset(&term, SIGINT);
    sigprocmask(SIG_BLOCK, &term, &old);
    if (len < 0) {
        snprintf(why, why_len, "the disk slot's trailer cannot be read");
    } else if (stage_out_open(&o, sl->path) < 0) {
        snprintf(why, why_len, "'%s': %s", sl->path, strerror(errno ? errno : EINVAL));
    } else {
        /* The user's file keeps its mode. */
        if (stat(sl->path, &st) == 0)
            fchmod(o.fd, st.st_mode & 07777);
        if (copy_sparse(in, (off_t)slot_offset(s), o.fd, 0, (unsigned long long)len) < 0 ||
            ftruncate(o.fd, (off_t)len) < 0)
            err = errno;
        if (err) {
            stage_out_drop(&o);
        } else if (stage_out_close(&o, true) < 0) {
            err = errno;
        }
        if (err)
            snprintf(why, why_len, "'%s': %s", sl->path, strerror(err));
        else
            rc = 0;
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (in >= 0)
        close(in);
    if (rc == 0)
        sl->written = true;
    else
        fprintf(stderr, "hvmgr: writing disk %s of domain %u back failed: %s\n", sl->device,
                sl->domain, why);
    return rc;
}

/* The image file: fit for a slot, its format ("qcow2" or "raw": probed
 * when the request names none).  0, or -1 with the reason. */
static int check_image(int fd, const char *path, char *format, size_t format_len,
                       unsigned long long *size, char *why, size_t why_len)
{
    struct stat st;
    unsigned char h[32] = {0};
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(why, why_len, "'%s' is not a regular file", path);
        return -1;
    }
    bool qcow2 = pread(fd, h, sizeof(h), 0) >= 4 && !memcmp(h, "QFI\xfb", 4);
    if (!format[0])
        snprintf(format, format_len, "%s", qcow2 ? "qcow2" : "raw");
    if (!strcmp(format, "qcow2") && !qcow2) {
        snprintf(why, why_len, "Image is not in qcow2 format");
        return -1;
    }
    if (strcmp(format, "qcow2") && strcmp(format, "raw")) {
        snprintf(why, why_len, "'%s': hvkit attaches raw and qcow2 images, not %s", path, format);
        return -1;
    }
    /* qcow2.txt "Header": backing_file_offset at byte 8, size at 24. */
    if (!strcmp(format, "qcow2") && be(h + 8, 8) != 0) {
        snprintf(why, why_len,
                 "'%s' has a backing file: a disk attached at run time must stand alone (hv "
                 "reads backing files only from the outer machine's disks, fixed at start); "
                 "convert it with qemu-img convert, or give the domain the chain at start",
                 path);
        return -1;
    }
    /* What it may grow to: a qcow2 image by its virtual size and tables
     * (as bin/hvrun.d/outerdisk.sh reckons), a raw one not at all. */
    unsigned long long len = (unsigned long long)st.st_size, room = len;
    if (!strcmp(format, "qcow2"))
        room = len + be(h + 24, 8) + be(h + 24, 8) / 64 + (8ull << 20);
    if (len == 0 || room > SLOT_ROOM) {
        snprintf(why, why_len,
                 "'%s' (%llu bytes, growing to %llu) does not fit a disk slot of the staging "
                 "disk (%llu bytes)",
                 path, len, room, SLOT_ROOM);
        return -1;
    }
    *size = len;
    return 0;
}

/* The file into slot s with its trailer: 0, or -1 with the reason. */
static int copy_in(int s, int fd, const char *path, unsigned long long size, bool readonly,
                   char *why, size_t why_len)
{
    unsigned disk;
    const char *stage_path = stage_disk(&disk);
    int out = open(stage_path, O_WRONLY | O_CLOEXEC);
    struct diskio_trailer t = {.index = (uint32_t)s,
                               .length = size,
                               .limit = SLOT_ROOM,
                               .flags = readonly ? DISKIO_FLAG_RDONLY : 0};
    unsigned char sector[DISKIO_SECTOR];
    /* stage_attach() took paths of at most DISKIO_NAME_MAX - 1 bytes. */
    memcpy(t.name, path, strnlen(path, sizeof(t.name) - 1));
    diskio_trailer_encode(&t, sector);
    int rc = out < 0 ? -1 : 0;
    if (rc == 0)
        rc = copy_sparse(fd, 0, out, (off_t)slot_offset(s), size);
    if (rc == 0 && pwrite(out, sector, sizeof(sector), (off_t)(slot_offset(s) + SLOT_ROOM)) !=
                       (ssize_t)sizeof(sector))
        rc = -1;
    if (rc < 0)
        snprintf(why, why_len, "the staging disk '%s': %s", stage_path, strerror(errno));
    if (out >= 0)
        close(out);
    return rc;
}

/* Is the directory of `path` one the manager can write a file into (the
 * write-back's temporary file)? */
static bool dir_writable(const char *path)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s", path);
    return access(dirname(dir), W_OK) == 0;
}

/* Checks, a slot, the copy, the request in hv's form. */
static int stage_attach(const struct json_doc *doc, int args, char **line, size_t *len, char *why,
                        size_t why_len)
{
    char path[4096], device[32], format[16];
    uint64_t domain = 0;
    bool readonly = false;
    unsigned disk;
    stage_str_arg(doc, args, CTL_ARG_FILENAME, path, sizeof(path));
    stage_str_arg(doc, args, CTL_ARG_DEVICE, device, sizeof(device));
    stage_str_arg(doc, args, CTL_ARG_FORMAT, format, sizeof(format));
    json_u64(doc, json_get(doc, args, CTL_ARG_DOMAIN), &domain);
    int ro = json_get(doc, args, CTL_ARG_READ_ONLY);
    readonly = ro >= 0 && doc->tok[ro].type == JSON_TRUE;
    if (path[0] != '/') {
        snprintf(why, why_len,
                 "disk '%s': give an absolute path (the manager does not know the front-end's "
                 "directory)",
                 path);
        return -1;
    }
    if (strlen(path) >= DISKIO_NAME_MAX) {
        snprintf(why, why_len, "disk '%.60s...': hv takes a path of at most %u bytes", path,
                 DISKIO_NAME_MAX - 1);
        return -1;
    }
    if (!stage_disk(&disk) || stage_bytes() < CTL_STAGE_BYTES) {
        snprintf(why, why_len,
                 "this manager has no staging disk with disk slots (bin/hvrun --control attaches "
                 "one when the outer machine has a free disk position)");
        return -1;
    }
    int free_slot = -1;
    for (int s = CTL_STAGE_DISK_SLOTS - 1; s >= 0; s--) {
        if (!slots[s].used) {
            free_slot = s;
            continue;
        }
        if (slots[s].domain == domain && !strcmp(slots[s].device, device)) {
            snprintf(why, why_len, "Duplicate device ID '%s'", device);
            return -1;
        }
        if (!strcmp(slots[s].path, path)) {
            snprintf(why, why_len, "'%s' is attached already (as %s of domain %u)", path,
                     slots[s].device, slots[s].domain);
            return -1;
        }
    }
    int fd = open(path, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, why_len, "Could not open '%s': %s", path, strerror(errno));
        return -1;
    }
    unsigned long long size;
    int rc = check_image(fd, path, format, sizeof(format), &size, why, why_len);
    if (rc == 0 && !readonly && !dir_writable(path)) {
        snprintf(why, why_len,
                 "Could not open '%s': the directory is not writable (the disk "
                 "goes back into its file through a new file beside it)",
                 path);
        rc = -1;
    }
    if (rc == 0 && free_slot < 0) {
        snprintf(why, why_len,
                 "all %u disk slots of the staging disk are in use: detach a disk first",
                 CTL_STAGE_DISK_SLOTS);
        rc = -1;
    }
    if (rc == 0) {
        punch(free_slot);
        rc = copy_in(free_slot, fd, path, size, readonly, why, why_len);
    }
    close(fd);
    const struct stage_arg add[] = {{CTL_ARG_FORMAT, format, 0},
                                    {CTL_ARG_DISK, NULL, disk},
                                    {CTL_ARG_OFFSET, NULL, slot_offset(free_slot)},
                                    {NULL, NULL, 0}};
    if (rc == 0 && stage_rewrite(doc, args, CTL_CMD_BLOCKDEV_ATTACH, NULL, add, line, len) < 0) {
        snprintf(why, why_len, "the request does not fit in a line with the disk's place");
        rc = -1;
    }
    if (rc < 0) {
        if (free_slot >= 0)
            punch(free_slot);
        return -1;
    }
    struct slot *sl = &slots[free_slot];
    *sl = (struct slot){.used = true, .attaching = true, .domain = (unsigned)domain};
    snprintf(sl->device, sizeof(sl->device), "%s", device);
    snprintf(sl->path, sizeof(sl->path), "%s", path);
    sl->readonly = readonly;
    attaching = free_slot;
    return 0;
}

int disk_request(char **line, size_t *len, char *why, size_t why_len)
{
    static struct json_tok tok[256];
    struct json_doc doc;
    char err[8], device[32];
    attaching = detaching = -1;
    if (json_parse(&doc, *line, *len, tok, 256, CTL_DEPTH_MAX, err, sizeof(err)) < 0 ||
        doc.tok[0].type != JSON_OBJECT)
        return 0;
    int ex = json_get(&doc, 0, CTL_KEY_EXECUTE);
    int args = json_get(&doc, 0, CTL_KEY_ARGUMENTS);
    if (ex < 0 || args < 0 || doc.tok[args].type != JSON_OBJECT)
        return 0;
    uint64_t domain = 0;
    json_u64(&doc, json_get(&doc, args, CTL_ARG_DOMAIN), &domain);
    if (json_str_eq(&doc, ex, CTL_CMD_BLOCKDEV_DETACH)) {
        /* Which slot hv's reply frees, if it is one of the manager's. */
        stage_str_arg(&doc, args, CTL_ARG_DEVICE, device, sizeof(device));
        for (int s = 0; s < (int)CTL_STAGE_DISK_SLOTS; s++)
            if (slots[s].used && slots[s].domain == domain && !strcmp(slots[s].device, device))
                detaching = s;
        return 0;
    }
    /* An attach that names its disk already goes to hv as it is. */
    if (!json_str_eq(&doc, ex, CTL_CMD_BLOCKDEV_ATTACH) || json_get(&doc, args, CTL_ARG_DISK) >= 0)
        return 0;
    return stage_attach(&doc, args, line, len, why, why_len);
}

/* The slot goes: written back (unless `back` is false), emptied, free. */
static int release(int s, bool back, char *why, size_t why_len)
{
    int rc = back ? write_back(s, why, why_len) : 0;
    /* A copy that failed keeps the slot's bytes: they are all there is of
     * the guest's writes. */
    if (rc < 0)
        return -1;
    punch(s);
    slots[s].used = false;
    return 0;
}

int disk_reply(const char *reply, size_t len, char *why, size_t why_len)
{
    static const char ok[] = "{\"" CTL_KEY_RETURN "\"";
    bool good = len >= sizeof(ok) - 1 && !memcmp(reply, ok, sizeof(ok) - 1);
    int a = attaching, d = detaching;
    attaching = detaching = -1;
    if (a >= 0 && good)
        slots[a].attaching = false;
    else if (a >= 0)
        release(a, false, why, why_len);
    if (d < 0 || !good)
        return 0;
    slots[d].written = false;
    if (release(d, true, why, why_len) == 0)
        return 0;
    char copy[3000];
    snprintf(copy, sizeof(copy),
             "%s was detached, but its image could not be written back: %s (its bytes stay in "
             "the staging disk until the manager ends)",
             slots[d].device, why);
    snprintf(why, why_len, "%s", copy);
    slots[d].domain = ~0u;
    return -1;
}

void disk_event(const char *event, unsigned domain)
{
    char why[1200];
    bool ended = !strcmp(event, CTL_EV_SHUTDOWN) || !strcmp(event, CTL_EV_CRASHED);
    bool reset = !strcmp(event, CTL_EV_RESET);
    bool reused = !strcmp(event, CTL_EV_CREATED);
    for (int s = 0; s < (int)CTL_STAGE_DISK_SLOTS; s++) {
        struct slot *sl = &slots[s];
        if (!sl->used || sl->attaching || sl->domain != domain)
            continue;
        if (ended)
            write_back(s, why, sizeof(why));
        else if (reset)
            sl->written = false;
        else if (reused)
            release(s, true, why, sizeof(why));
    }
}

void disk_end(void)
{
    char why[1200];
    for (int s = 0; s < (int)CTL_STAGE_DISK_SLOTS; s++)
        if (slots[s].used && !slots[s].attaching)
            release(s, true, why, sizeof(why));
}
