/*
 * kept.c: the configuration xl keeps for a running domain (running/NAME.cfg
 * beside its record, rundom.h): the text of the file it was created from,
 * or of the save file it was restored from, and the KEY=VALUE lines given
 * with it.  `xl list -l`, block-list, the disk commands and `xl save` read
 * it again with xl's own rules.  cd-insert and cd-eject bring its CD-ROM
 * drive up to date, as libxl records a new medium in the domain's stored
 * configuration: a save records the configuration with the medium its
 * state was saved with, and so the file restores.
 *
 * It is written whole under a temporary name and renamed into place, while
 * the registry's lock is held (xl_state_open()), as the records are: a
 * reader never sees half of it, and an xl killed while writing it leaves
 * the old one.
 */
#include "xl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg.h"
#include "domcfg.h"

/* The file's text and then the command line's KEY=VALUE lines, as xl
 * keeps them for the domain's life (`xl list -l`, `xl config-update`). */
void xl_keep_config(const struct rundom *r, const char *file, char **over, int nover)
{
    size_t len = 0;
    char *text = xlcfg_slurp(file, &len, stderr);
    xl_keep_config_text(r, text ? text : "", len, over, nover);
    free(text);
}

bool xl_keep_config_text(const struct rundom *r, const char *text, size_t len, char **over,
                         int nover)
{
    char path[PATH_MAX], tmp[PATH_MAX + 8];
    rundom_path(path, sizeof(path), r->name, ".cfg");
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *out = fopen(tmp, "w");
    if (out)
        fwrite(text, 1, len, out);
    for (int i = 0; out && i < nover; i++)
        fprintf(out, "\n%s\n", over[i]);
    if (!out || fclose(out) || rename(tmp, path)) {
        fprintf(stderr, "xl: warning: cannot keep the configuration in '%s': %s\n", path,
                strerror(errno));
        unlink(tmp);
        return false;
    }
    return true;
}

/* The kept configuration's text (malloc'd, *len bytes), and what it says
 * in d; NULL when there is none to read.  It was read once already, at
 * create or restore, and its warnings are not repeated. */
static char *read_kept(const struct rundom *r, size_t *len, struct xldom *d)
{
    char path[PATH_MAX];
    struct xlcfg cfg;
    rundom_path(path, sizeof(path), r->name, ".cfg");
    FILE *quiet = fopen("/dev/null", "w");
    char *text = quiet ? xlcfg_slurp(path, len, quiet) : NULL;
    bool ok = text && xlcfg_parse(&cfg, path, quiet, text, *len) == 0;
    if (ok) {
        ok = xldom_from_cfg(d, &cfg) == 0;
        xlcfg_free(&cfg);
    }
    if (quiet)
        fclose(quiet);
    if (ok)
        return text;
    free(text);
    return NULL;
}

bool xl_kept_config(const struct rundom *r, struct xldom *d)
{
    size_t len;
    char *text = read_kept(r, &len, d);
    bool ok = text != NULL;
    free(text);
    return ok;
}

/* Keep the text with the line that gives CD-ROM drive `vdev` the medium
 * `file` ("": none), in place of a last line that sets the disk list
 * alone (the one the change before added). */
static bool keep_medium(const struct rundom *r, const char *text, size_t len, const struct xldom *d,
                        const char *vdev, const char *file)
{
    char *line = xldom_cd_setting(d, vdev, file);
    bool ok = line && xl_keep_config_text(r, text, xlcfg_before_last(text, len, "disk"), &line, 1);
    free(line);
    return ok;
}

bool xl_keep_cd_medium(const struct rundom *r, const char *vdev, const char *file)
{
    static struct xldom d;
    size_t len;
    char *text = read_kept(r, &len, &d);
    bool ok = text && keep_medium(r, text, len, &d, vdev, file);
    free(text);
    return ok;
}

/* Do the names `a` and `b` lead to the same file (by the same text when
 * either cannot be looked at)? */
static bool same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    if (stat(a, &sa) || stat(b, &sb))
        return !strcmp(a, b);
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

bool xl_sync_cd_medium(const struct rundom *r)
{
    static struct xldom d;
    char file[PATH_MAX];
    size_t len;
    const struct xldisk *cd = NULL;
    char *text = read_kept(r, &len, &d);
    for (int i = 0; text && i < d.ndisks; i++)
        if (d.disk[i].cdrom)
            cd = &d.disk[i];
    int in = cd ? rundom_cd_medium(r, file, sizeof(file)) : -1;
    /* Nothing to do when hv does not say (a save then finds out itself),
     * or when the kept medium is the one the drive holds. */
    bool same = in < 0 || (in ? cd->target[0] && same_file(cd->target, file) : !cd->target[0]);
    bool ok = same || keep_medium(r, text, len, &d, cd->vdev, in ? file : "");
    free(text);
    return ok;
}
