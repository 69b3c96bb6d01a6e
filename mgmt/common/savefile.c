/*
 * savefile.c: a domain's saved state from the front-ends' side
 * (savefile.h).
 */
#include "savefile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- Reading a file with hv's reader -------------------------------------------------- */

/* vms_source.read over a file descriptor. */
static int fd_read(void *ctx, uint64_t pos, void *buf, size_t len, char *err)
{
    ssize_t n = pread(*(int *)ctx, buf, len, (off_t)pos);
    if (n == (ssize_t)len)
        return 0;
    snprintf(err, VMS_ERR_LEN, "reading the file failed: %s", n < 0 ? strerror(errno) : "short");
    return -1;
}

static void *image_alloc(uint64_t len)
{
    return malloc(len);
}

int savefile_read(const char *file, struct savefile *sf, char *why, size_t whylen)
{
    static struct vms v;
    struct stat st;
    memset(sf, 0, sizeof(*sf));
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0) {
        snprintf(why, whylen, "%s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    struct vms_source src = {.read = fd_read, .ctx = &fd, .size = (uint64_t)st.st_size};
    /* The whole file first, so that a cut or changed one is refused
     * before a machine is started for it; then what to start. */
    int r = vms_check_stream(&v, &src) == 0 &&
                    vms_read_config(&v, &src, &sf->shape, &sf->cfg, image_alloc) == 0
                ? 0
                : -1;
    if (r < 0) {
        snprintf(why, whylen, "%s", v.err);
        savefile_free(sf);
    }
    close(fd);
    return r;
}

void savefile_free(struct savefile *sf)
{
    free((void *)sf->cfg.image);
    sf->cfg.image = NULL;
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

int savefile_save(const struct rundom *r, const char *file, const char *after, int paused,
                  uint64_t *size, char *why, size_t whylen)
{
    static struct ctlc c;
    int ret;
    if (file_call(&c, r, CTL_CMD_DOMAIN_SAVE, file, after, paused, &ret, why, whylen) < 0)
        return -1;
    json_u64(&c.doc, json_get(&c.doc, ret, CTL_ARG_SIZE), size);
    ctlc_close(&c);
    return 0;
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

int savefile_restore(const char *file, const struct savefile *sf, struct rundom *r, int paused,
                     char *why, size_t whylen)
{
    char kernel[PATH_MAX];
    why[0] = '\0';
    if (sf->shape.virtio) {
        snprintf(why, whylen,
                 "the state is of a domain with %u virtio devices (disks, a virtio console), "
                 "which a restored domain cannot have in this version",
                 sf->shape.virtio);
        return -1;
    }
    if (write_kernel(r, sf, kernel, sizeof(kernel), why, whylen) < 0)
        return -1;
    /* hv's command line of the domain is its kernel's name, a space and
     * its arguments (QEMU's -kernel and -append): the arguments again, for
     * a reset or restart that builds it anew. */
    const char *space = strchr(sf->cfg.cmdline, ' ');
    const struct rundom_spec s = {.kernel = kernel,
                                  .cmdline = space ? space + 1 : "",
                                  .memory_mib = (long)(sf->shape.ram >> 20),
                                  .vcpus = (int)sf->shape.vcpus,
                                  .on_poweroff = savefile_action(sf->cfg.on_poweroff),
                                  .on_reboot = savefile_action(sf->cfg.on_reboot),
                                  .on_crash = savefile_action(sf->cfg.on_crash),
                                  .start_paused = true};
    int rc = rundom_start(&s, r);
    if (rc < 0)
        snprintf(why, whylen, "%s", rc == -1 ? strerror(errno) : "the machine ended before it ran");
    else if (restore_into(r, file, paused, why, whylen) < 0)
        rundom_end(r);
    unlink(kernel);
    return rc == 0 && why[0] == '\0' ? 0 : -1;
}
