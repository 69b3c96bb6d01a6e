/*
 * savefile.c: a domain's saved state from the front-ends' side
 * (savefile.h).
 */
#define _GNU_SOURCE /* mkostemp */
#include "savefile.h"
#include "saveguard.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- Reading a file with hv's reader -------------------------------------------------- */

/* vms_source.read over the state inside an open file. */
struct state_in {
    int fd;
    uint64_t at; /* where the state starts in the file */
};

static int fd_read(void *ctx, uint64_t pos, void *buf, size_t len, char *err)
{
    const struct state_in *in = ctx;
    ssize_t n = pread(in->fd, buf, len, (off_t)(in->at + pos));
    if (n == (ssize_t)len)
        return 0;
    snprintf(err, VMS_ERR_LEN, "reading the file failed: %s", n < 0 ? strerror(errno) : "short");
    return -1;
}

static void *image_alloc(uint64_t len)
{
    return malloc(len);
}

/* The state of the open save image: every section checked, then the shape
 * and CONFIG.  0, or -1 with hv's words. */
static int read_state(int fd, struct savefile *sf, char *why, size_t whylen)
{
    static struct vms v;
    struct state_in in = {fd, sf->img.state_at};
    struct vms_source src = {.read = fd_read, .ctx = &in, .size = sf->img.state_len};
    /* The whole state first, so that a cut or changed one is refused
     * before a machine is started for it; then what to start. */
    if (vms_check_stream(&v, &src) == 0 &&
        vms_read_config(&v, &src, &sf->shape, &sf->cfg, image_alloc) == 0)
        return 0;
    snprintf(why, whylen, "%s", v.err);
    return -1;
}

int savefile_read(const char *file, struct savefile *sf, char *why, size_t whylen)
{
    struct stat st;
    memset(sf, 0, sizeof(*sf));
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0) {
        snprintf(why, whylen, "%s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int r = saveimage_read(fd, (uint64_t)st.st_size, &sf->img, why, whylen) == 0 &&
                    read_state(fd, sf, why, whylen) == 0
                ? 0
                : -1;
    if (r < 0)
        savefile_free(sf);
    close(fd);
    return r;
}

void savefile_free(struct savefile *sf)
{
    free((void *)sf->cfg.image);
    sf->cfg.image = NULL;
    saveimage_free(&sf->img);
}

const char *savefile_action(uint8_t a)
{
    static const char *const words[] = {"destroy", "restart", "preserve"};
    return a < 3 ? words[a] : "destroy";
}

/* ---- Save ------------------------------------------------------------------------------- */

/* domain-save or domain-restore on domain 0 of r's machine with FILE and,
 * when given, AFTER and PAUSED (>= 0): 0 with the reply's "return" token
 * in *ret (c open), or -1 with why.  A large domain's state crosses the
 * outer machine's ATA disk: minutes under an emulator. */
static int file_call(struct ctlc *c, const struct rundom *r, const char *execute, const char *file,
                     const char *after, int paused, int *ret, char *why, size_t whylen)
{
    char args[PATH_MAX + 128];
    struct json_out o;
    if (rundom_connect(r, c, 10000, why, whylen) < 0)
        return -1;
    json_out_init(&o, args, sizeof(args));
    json_obj_begin(&o);
    json_key(&o, CTL_ARG_DOMAIN);
    json_put_u64(&o, 0);
    json_key(&o, CTL_ARG_FILE);
    json_put_str(&o, file);
    if (after) {
        json_key(&o, CTL_ARG_AFTER);
        json_put_str(&o, after);
    }
    if (paused >= 0) {
        json_key(&o, CTL_ARG_PAUSED);
        json_put_bool(&o, paused);
    }
    json_obj_end(&o);
    if (json_out_ok(&o) && ctlc_call(c, execute, args, 600000, ret, why, whylen) == 0)
        return 0;
    if (!json_out_ok(&o))
        snprintf(why, whylen, "file '%s': the path is too long", file);
    ctlc_close(c);
    return -1;
}

/* The state's own file while a save or a restore moves it: running/
 * NAME.state in the state directory, absolute (the manager wants it so). */
static void state_path(const struct rundom *r, char *out, size_t len)
{
    char rel[PATH_MAX];
    rundom_path(rel, sizeof(rel), r->name, ".state");
    savefile_absolute(rel, out, len);
}

/* domain-save of r's domain 0 into STATE: 0 with the state's size and
 * whether the domain was running, or -1 with why (nothing saved). */
static int save_state(const struct rundom *r, const char *state, const char *after, int paused,
                      uint64_t *size, bool *ran, char *why, size_t whylen)
{
    static struct ctlc c;
    int ret;
    if (file_call(&c, r, CTL_CMD_DOMAIN_SAVE, state, after, paused, &ret, why, whylen) < 0)
        return -1;
    json_u64(&c.doc, json_get(&c.doc, ret, CTL_ARG_SIZE), size);
    int st = json_get(&c.doc, ret, "status");
    *ran = st >= 0 && json_str_eq(&c.doc, st, CTL_RUNSTATE_RUNNING);
    ctlc_close(&c);
    return 0;
}

/* An empty temporary file beside FILE, ".NAME.XXXXXX" in its directory
 * (the manager's own twins are named so too): its descriptor, or -1. */
static int twin_open(const char *file, char *tmp, size_t len)
{
    const char *slash = strrchr(file, '/');
    int dirlen = slash ? (int)(slash - file) : 0;
    snprintf(tmp, len, "%.*s/.%s.XXXXXX", dirlen, file, slash ? slash + 1 : file);
    int fd = mkostemp(tmp, O_CLOEXEC);
    /* mkstemp's 0600; a save file is the user's like any file they make. */
    mode_t mask = umask(0);
    umask(mask);
    if (fd >= 0)
        fchmod(fd, 0666 & ~mask);
    return fd;
}

/* The save image, configuration c then `len` bytes at `at` of file
 * STATE, through the temporary file `out` (named tmp), synced and renamed
 * over FILE, the directory synced too (the rename durable before a
 * destroy follows).  0, or -1 with errno. */
static int write_image(const struct savefile_conf *c, const char *state, uint64_t at, int64_t len,
                       int out, const char *tmp, const char *file)
{
    struct stat st;
    int in = open(state, O_RDONLY | O_CLOEXEC);
    int rc = in >= 0 && fstat(in, &st) == 0 &&
                     saveimage_write(out, c->tool, c->text, c->len, in, at,
                                     len < 0 ? (uint64_t)st.st_size : (uint64_t)len) == 0 &&
                     fsync(out) == 0 && rename(tmp, file) == 0
                 ? 0
                 : -1;
    int err = errno;
    if (in >= 0)
        close(in);
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%.*s", (int)(strrchr(file, '/') - file), file);
    int d = rc == 0 ? open(dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    if (d >= 0) {
        fsync(d);
        close(d);
    }
    errno = err;
    return rc;
}

int savefile_redefine(const char *file, const struct savefile *sf, const struct savefile_conf *c,
                      char *why, size_t whylen)
{
    char tmp[PATH_MAX + 16];
    int out = twin_open(file, tmp, sizeof(tmp));
    if (out < 0 ||
        write_image(c, file, sf->img.state_at, (int64_t)sf->img.state_len, out, tmp, file) < 0) {
        snprintf(why, whylen, "file '%s': %s", file, strerror(errno));
        if (out >= 0) {
            close(out);
            unlink(tmp);
        }
        return -1;
    }
    close(out);
    return 0;
}

/* Does the state in STATE have c's disks?  0, or -1 with why. */
static int check_state(const struct savefile_conf *c, const char *state, char *why, size_t whylen)
{
    static struct vms v;
    static struct vms_config cfg;
    struct vms_shape shape;
    struct stat st;
    int fd = open(state, O_RDONLY | O_CLOEXEC);
    struct state_in in = {fd, 0};
    struct vms_source src = {.read = fd_read, .ctx = &in};
    int rc = fd >= 0 && fstat(fd, &st) == 0 ? 0 : -1;
    src.size = rc == 0 ? (uint64_t)st.st_size : 0;
    if (rc == 0 && vms_read_config(&v, &src, &shape, &cfg, NULL) < 0) {
        snprintf(why, whylen, "%s", v.err);
        rc = -1;
    } else if (rc == 0 && shape.virtio != c->disks) {
        snprintf(why, whylen,
                 "the domain has %u virtio device%s, its configuration %u disk%s (one attached or "
                 "detached while it ran, or a virtio console?): a restore could not give it "
                 "them, so nothing was saved",
                 shape.virtio, shape.virtio == 1 ? "" : "s", c->disks, c->disks == 1 ? "" : "s");
        rc = -1;
    } else if (rc < 0)
        snprintf(why, whylen, "cannot read the state '%s': %s", state, strerror(errno));
    if (fd >= 0)
        close(fd);
    return rc;
}

int savefile_save(const struct rundom *r, const struct savefile_conf *c, const char *file,
                  const char *after, int paused, uint64_t *size, char *why, size_t whylen)
{
    char tmp[PATH_MAX + 16], state[PATH_MAX];
    bool ran = false;
    /* FILE's directory must take the image before the domain is touched,
     * and FILE be a file if it exists (the manager's own rules). */
    struct stat st;
    if (stat(file, &st) == 0 && !S_ISREG(st.st_mode)) {
        snprintf(why, whylen, "file '%s' exists and is not a regular file", file);
        return -1;
    }
    int out = twin_open(file, tmp, sizeof(tmp));
    if (out < 0) {
        snprintf(why, whylen, "file '%s': %s", file, strerror(errno));
        return -1;
    }
    state_path(r, state, sizeof(state));
    /* From here on a front-end that dies leaves its guard to finish
     * (saveguard.h), which needs to know whether the domain ran. */
    struct guard g;
    saveguard_start(&g, r, tmp, state, after);
    if (g.fd >= 0 && saveguard_running(r))
        guard_step(&g, SAVEGUARD_RAN);
    guard_step(&g, SAVEGUARD_SENT);
    /* "destroy" is carried out once the image is safe: until then the
     * domain only pauses, so that a failure loses neither it nor its
     * state. */
    bool destroy = !strcmp(after, "destroy");
    int rc = save_state(r, state, destroy ? "pause" : after, paused, size, &ran, why, whylen);
    bool saved = rc == 0;
    if (rc == 0)
        rc = check_state(c, state, why, whylen);
    if (rc == 0 && write_image(c, state, 0, -1, out, tmp, file) < 0) {
        snprintf(why, whylen, "file '%s': %s (nothing was written)", file, strerror(errno));
        rc = -1;
    }
    if (rc == 0)
        guard_step(&g, SAVEGUARD_WRITTEN);
    /* No image, but the domain is not lost: it runs again if it ran
     * ("continue" never stopped it), as xl's "resuming domain" says. */
    if (saved && rc < 0 && ran && strcmp(after, "continue"))
        saveguard_cont(r);
    close(out);
    if (rc < 0)
        unlink(tmp);
    unlink(state);
    guard_end(&g);
    return rc;
}

void savefile_absolute(const char *file, char *out, size_t len)
{
    char cwd[PATH_MAX];
    if (file[0] == '/' || !getcwd(cwd, sizeof(cwd)))
        cwd[0] = '\0';
    /* A path that does not fit is cut: the manager then refuses it. */
    int n = snprintf(out, len, "%s%s%s", cwd, cwd[0] ? "/" : "", file);
    (void)n;
}

/* ---- Restore ---------------------------------------------------------------------------- */

/* The file's kernel beside the record (running/NAME.kernel), for the
 * machine to boot; its path in out. */
static int write_kernel(const struct rundom *r, const struct savefile *sf, char *out, size_t len,
                        char *why, size_t whylen)
{
    rundom_path(out, len, r->name, ".kernel");
    FILE *f = fopen(out, "wb");
    if (!f || fwrite(sf->cfg.image, 1, sf->cfg.image_len, f) != sf->cfg.image_len || fclose(f)) {
        snprintf(why, whylen, "cannot write the kernel '%s': %s", out, strerror(errno));
        return -1;
    }
    return 0;
}

/* domain-restore into the new machine's domain 0; 0 or -1 with why. */
static int restore_into(const struct rundom *r, const char *file, int paused, char *why,
                        size_t whylen)
{
    static struct ctlc c;
    int ret;
    if (file_call(&c, r, CTL_CMD_DOMAIN_RESTORE, file, NULL, paused, &ret, why, whylen) < 0)
        return -1;
    ctlc_close(&c);
    return 0;
}

/* The configuration's disks against the state: as many virtio disks as
 * the state has virtio devices, each file there (and writable unless
 * read-only), so that no machine is started for a restore that must fail.
 * 0, or -1 with why. */
unsigned savefile_virtio_disks(const struct rundom_disk *disk, int ndisks)
{
    unsigned n = 0;
    for (int i = 0; i < ndisks; i++)
        n += !disk[i].cdrom;
    return n;
}

static int check_disks(const struct savefile *sf, const struct rundom_disk *disk, int ndisks,
                       char *why, size_t whylen)
{
    unsigned virtio = savefile_virtio_disks(disk, ndisks);
    for (int i = 0; i < ndisks; i++) {
        const struct rundom_disk *k = &disk[i];
        /* An empty CD-ROM drive has no file to look for. */
        if (k->cdrom && (!k->file || !k->file[0]))
            continue;
        if (access(k->file, k->readonly ? R_OK : R_OK | W_OK) < 0) {
            snprintf(why, whylen, "disk '%s': %s", k->file, strerror(errno));
            return -1;
        }
    }
    if (virtio != sf->shape.virtio) {
        snprintf(why, whylen,
                 "the state is of a domain with %u virtio device%s (disks, a virtio console); its "
                 "configuration gives %u disk%s",
                 sf->shape.virtio, sf->shape.virtio == 1 ? "" : "s", virtio,
                 virtio == 1 ? "" : "s");
        return -1;
    }
    return 0;
}

/* The state part of a save image into its own file, STATE, for the
 * manager to copy into the staging disk.  0, or -1 with why. */
static int extract_state(const char *file, const struct savefile *sf, const char *state, char *why,
                         size_t whylen)
{
    int in = open(file, O_RDONLY | O_CLOEXEC);
    int out = open(state, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int rc =
        in >= 0 && out >= 0 && saveimage_copy(in, sf->img.state_at, out, sf->img.state_len) == 0
            ? 0
            : -1;
    if (rc < 0)
        snprintf(why, whylen, "cannot copy the state to '%s': %s", state, strerror(errno));
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    return rc;
}

int savefile_restore(const char *file, const struct savefile *sf, struct rundom *r,
                     const struct rundom_disk *disk, int ndisks, int paused, char *why,
                     size_t whylen)
{
    char kernel[PATH_MAX], state[PATH_MAX];
    why[0] = '\0';
    if (ndisks > 3) {
        snprintf(why, whylen, "hv gives a domain at most 3 disks, not %d", ndisks);
        return -1;
    }
    if (check_disks(sf, disk, ndisks, why, whylen) < 0)
        return -1;
    /* From here on a front-end that dies leaves its guard to take back
     * the files and the machine (saveguard.h). */
    struct guard g;
    rundom_path(kernel, sizeof(kernel), r->name, ".kernel");
    state_path(r, state, sizeof(state));
    saveguard_restore(&g, r, kernel, sf->img.bare ? NULL : state);
    /* A bare state goes to the manager as it is; an image's state alone. */
    snprintf(state, sizeof(state), "%s", file);
    if (!sf->img.bare) {
        state_path(r, state, sizeof(state));
        if (extract_state(file, sf, state, why, whylen) < 0) {
            unlink(state);
            guard_end(&g);
            return -1;
        }
    }
    int rc = write_kernel(r, sf, kernel, sizeof(kernel), why, whylen);
    /* hv's command line of the domain is its kernel's name, a space and
     * its arguments (QEMU's -kernel and -append): the arguments again, for
     * a reset or restart that builds it anew. */
    const char *space = strchr(sf->cfg.cmdline, ' ');
    struct rundom_spec s = {.kernel = kernel,
                            .cmdline = space ? space + 1 : "",
                            .memory_mib = (long)(sf->shape.ram >> 20),
                            .vcpus = (int)sf->shape.vcpus,
                            .on_poweroff = savefile_action(sf->cfg.on_poweroff),
                            .on_reboot = savefile_action(sf->cfg.on_reboot),
                            .on_crash = savefile_action(sf->cfg.on_crash),
                            .start_paused = true,
                            .ndisks = ndisks};
    for (int i = 0; i < ndisks; i++)
        s.disk[i] = disk[i];
    if (rc == 0) {
        /* The machine's record is written as soon as it is spawned, so
         * the guard finds it to end it even while it still boots. */
        guard_step(&g, SAVEGUARD_STARTED);
        rc = rundom_start(&s, r);
        if (rc < 0)
            snprintf(why, whylen, "%s",
                     rc == -1 ? strerror(errno) : "the machine ended before it ran");
        guard_step(&g, SAVEGUARD_SENT);
        if (rc == 0 && restore_into(r, state, paused, why, whylen) < 0)
            rundom_end(r), rc = -1;
    }
    unlink(kernel);
    if (!sf->img.bare)
        unlink(state);
    guard_end(&g);
    return rc == 0 ? 0 : -1;
}
