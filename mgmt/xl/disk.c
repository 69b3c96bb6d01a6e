/*
 * disk.c: xl-disk-configuration(5) (disk.h).  libxlu splits the text with a
 * flex scanner; here the same pieces are cut by hand: the text is a list of
 * comma-separated parameters, each either KEY=VALUE or positional.
 */
#include "disk.h"

#include <string.h>

/* The image formats libxl knows (xl-disk-configuration(5), "format"). */
static const char *const formats[] = {"raw", "qcow", "qcow2", "vhd", "qed", "empty", NULL};

static bool one_of(const char *s, size_t n, const char *const *list)
{
    for (; *list; list++)
        if (strlen(*list) == n && strncmp(s, *list, n) == 0)
            return true;
    return false;
}

struct dpc {
    struct xldisk *d;
    const char *spec, *source;
    FILE *report;
    int npositional;
    bool had_prefix, access_given;
};

/* libxlu's xlu__disk_err: "SOURCE: config parsing error in disk
 * specification: MSG: near `BAD' in `SPEC'". */
static int disk_err(struct dpc *c, const char *bad, size_t n, const char *msg)
{
    fprintf(c->report, "%s: config parsing error in disk specification: %s", c->source, msg);
    if (bad)
        fprintf(c->report, ": near `%.*s'", (int)n, bad);
    fprintf(c->report, " in `%s'\n", c->spec);
    return -1;
}

static int copy(struct dpc *c, char *out, size_t size, const char *v, size_t n)
{
    if (n >= size)
        return disk_err(c, v, n, "value too long");
    memcpy(out, v, n);
    out[n] = 0;
    return 0;
}

static int set_format(struct dpc *c, const char *v, size_t n)
{
    if (!one_of(v, n, formats))
        return disk_err(c, v, n, "unknown value for format");
    return copy(c, c->d->format, sizeof(c->d->format), v, n);
}

/* access: r or ro for read-only, w or rw for read-write. */
static int set_access(struct dpc *c, const char *v, size_t n)
{
    static const char *const ro[] = {"r", "ro", NULL}, *const rw[] = {"w", "rw", NULL};
    c->access_given = true;
    if (one_of(v, n, ro))
        c->d->readonly = true;
    else if (one_of(v, n, rw))
        c->d->readonly = false;
    else
        return disk_err(c, v, n, "unknown value for access");
    return 0;
}

/* A target with one of the old prefixes: the prefix says the format
 * (tap:qcow2:, qcow2:) or means raw (phy:, file:, aio:). */
static int set_target(struct dpc *c, const char *v, size_t n)
{
    static const char *const prefixes[] = {"tapdisk:", "tap2:", "tap:",   "ioemu:", "phy:", "file:",
                                           "aio:",     "raw:",  "qcow2:", "qcow:",  "vhd:", NULL};
    for (int again = 1; again;) {
        again = 0;
        for (int i = 0; prefixes[i]; i++) {
            size_t k = strlen(prefixes[i]);
            if (n > k && strncmp(v, prefixes[i], k) == 0) {
                c->had_prefix = true;
                if (one_of(v, k - 1, formats))
                    copy(c, c->d->format, sizeof(c->d->format), v, k - 1);
                v += k, n -= k, again = 1;
                break;
            }
        }
    }
    return copy(c, c->d->target, sizeof(c->d->target), v, n);
}

static int positional(struct dpc *c, const char *v, size_t n)
{
    /* After an old-style prefix the format is not positional. */
    if (c->npositional == 1 && c->had_prefix)
        c->npositional++;
    switch (c->npositional++) {
    case 0:
        return set_target(c, v, n);
    case 1:
        return n ? set_format(c, v, n) : 0;
    case 2:
        return copy(c, c->d->vdev, sizeof(c->d->vdev), v, n);
    case 3:
        return n ? set_access(c, v, n) : 0;
    }
    return disk_err(c, v, n, "too many positional parameters");
}

/* KEY=VALUE; returns 1 when `key` was target= (the rest is its value). */
static int keyword(struct dpc *c, const char *k, size_t kn, const char *v, size_t vn)
{
#define IS(s) (kn == sizeof(s) - 1 && strncmp(k, s, kn) == 0)
    if (IS("format"))
        return set_format(c, v, vn);
    if (IS("vdev"))
        return copy(c, c->d->vdev, sizeof(c->d->vdev), v, vn);
    if (IS("access"))
        return set_access(c, v, vn);
    if (IS("devtype")) {
        if (!(vn == 5 && strncmp(v, "cdrom", 5) == 0) && !(vn == 4 && strncmp(v, "disk", 4) == 0))
            return disk_err(c, v, vn, "unknown value for type");
        c->d->cdrom = vn == 5;
        return 0;
    }
    if (IS("backendtype") || IS("script") || IS("backend"))
        return 0; /* how Xen's dom0 serves the disk: nothing to do in hvkit */
    return disk_err(c, k, kn, "bad disk syntax");
#undef IS
}

/* The checks after the last parameter: a vdev is required, and the
 * defaults are libxl's (raw; an empty drive has no format). */
static int finish(struct dpc *c)
{
    struct xldisk *d = c->d;
    /* The deprecated "hdc:cdrom" vdev means devtype=cdrom
     * (xl-disk-configuration(5): "raw:/root/image.iso,hdc:cdrom,ro"). */
    size_t vl = strlen(d->vdev);
    if (vl > 6 && !strcmp(d->vdev + vl - 6, ":cdrom")) {
        d->vdev[vl - 6] = '\0';
        d->cdrom = true;
    }
    if (!d->vdev[0])
        return disk_err(c, NULL, 0, "no vdev specified");
    if (!d->format[0])
        strcpy(d->format, d->target[0] ? "raw" : "empty");
    if (d->cdrom && !c->access_given)
        d->readonly = true; /* a CD is read-only unless access= says otherwise */
    return 0;
}

int xldisk_parse(struct xldisk *d, const char *spec, const char *source, FILE *report)
{
    struct dpc c = {.d = d, .spec = spec, .source = source, .report = report};
    *d = (struct xldisk){0};
    for (const char *p = spec; *p;) {
        while (*p == ' ' || *p == '\t')
            p++;
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        if (eq && eq - p == 6 && strncmp(p, "target", 6) == 0) {
            /* target= swallows the rest, commas and all. */
            if (set_target(&c, eq + 1, strlen(eq + 1)) < 0)
                return -1;
            break;
        }
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        int rc;
        if (eq)
            rc = keyword(&c, p, (size_t)(eq - p), eq + 1, n - (size_t)(eq + 1 - p));
        else if (n == 5 && strncmp(p, "cdrom", 5) == 0)
            c.d->cdrom = true, rc = 0;
        else
            rc = positional(&c, p, n);
        if (rc < 0)
            return -1;
        if (!end)
            break;
        p = end + 1;
    }
    return finish(&c);
}

bool xldisk_spec(const struct xldisk *d, char *out, size_t size)
{
    int n;
    const char *access = d->readonly ? "ro" : "rw", *type = d->cdrom ? "cdrom" : "disk";
    if (d->target[0])
        n = snprintf(out, size, "format=%s, vdev=%s, access=%s, devtype=%s, target=%s", d->format,
                     d->vdev, access, type, d->target);
    else
        n = snprintf(out, size, "vdev=%s, access=%s, devtype=%s", d->vdev, access, type);
    return n >= 0 && (size_t)n < size;
}
