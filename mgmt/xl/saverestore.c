/*
 * saverestore.c: xl save and xl restore (Xen 4.17 xl_saverestore.c), on
 * mgmt/common/savefile.h:
 *
 *   xl save [-c] [-p] DOMAIN FILE [CFG]   the domain's configuration (CFG,
 *                                         or the one it was started from)
 *                                         and its state into FILE; the
 *                                         domain destroyed unless -c or -p
 *   xl restore [-p] [-c] [CFG] FILE       a new domain from FILE, with the
 *                                         disks of the configuration FILE
 *                                         holds, or of CFG when given
 *
 * As xl's save file holds the domain's configuration and a restore reads
 * it from there, hvkit's save image (mgmt/common/saveimage.h) holds the
 * xl.cfg text xl keeps for the domain (running/NAME.cfg, kept.c: the file
 * and the KEY=VALUE lines it was created with, and the CD-ROM drive's
 * medium as cd-insert, cd-eject or the monitor left it).  The disks
 * themselves are not in the file: the restored domain runs on the same
 * disk files.
 */
#include "xl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/savefile.h"
#include "../common/text.h"
#include "cfg.h"
#include "domcfg.h"

/* Parse the configuration `text` (named `source` in messages) into d;
 * false after xl's words. */
static bool parse_text(const char *source, const char *text, size_t len, struct xldom *d)
{
    struct xlcfg cfg;
    bool ok = xlcfg_parse(&cfg, source, stderr, text, len) == 0;
    if (ok) {
        ok = xldom_from_cfg(d, &cfg) == 0;
        xlcfg_free(&cfg);
    }
    if (!ok)
        fprintf(stderr, "Failed to parse config: %s\n", strerror(EINVAL));
    return ok;
}

/* The configuration xl save records for r: CFG when given (xl's manual
 * choice of "the VM config file used to create the domain"), else the one
 * xl keeps for it.  Checked as xl create checks it.  Malloc'd text, or
 * NULL after a message. */
static char *save_config(const struct rundom *r, const char *cfg, size_t *len, unsigned *disks)
{
    char kept[PATH_MAX];
    static struct xldom d;
    struct rundom_disk disk[XLDOM_DISKS_MAX];
    if (!cfg && strcmp(r->tool, "xl") != 0) {
        fprintf(stderr,
                "hvkit: domain %d was started by %s, and xl keeps no configuration of it: give "
                "one (xl save DOMAIN FILE CFG), or save it with %s\n",
                r->domid, r->tool, r->tool);
        return NULL;
    }
    /* The state holds the medium the drive has now, which the monitor
     * may have changed behind xl's back: the configuration must have the
     * same, or its file would not restore (and the domain is gone). */
    if (!cfg && !xl_sync_cd_medium(r)) {
        fprintf(stderr,
                "libxl: error: domain %d: the configuration xl keeps does not have the medium "
                "of the CD-ROM drive, and could not be brought up to date\n",
                r->domid);
        return NULL;
    }
    rundom_path(kept, sizeof(kept), r->name, ".cfg");
    char *text = xlcfg_slurp(cfg ? cfg : kept, len, stderr);
    if (text && !parse_text(cfg ? cfg : kept, text, *len, &d)) {
        free(text);
        return NULL;
    }
    xl_disks(&d, disk);
    *disks = savefile_virtio_disks(disk, d.ndisks);
    return text;
}

/* xl save [-c] [-p] DOMAIN FILE [CFG]: domain-save into FILE
 * (mgmt/common/savefile.h); the domain is destroyed afterwards, unless -c
 * (it runs on) or -p (it stays paused), as xl does. */
int cmd_save(int argc, char **argv)
{
    int opt;
    const char *after = "destroy";
    while ((opt = xl_getopt(argc, argv, "cph", NULL, "save", 2)) != -1)
        after = opt == 'c' ? "continue" : opt == 'p' ? "pause" : after;
    if (argc - optind > 3) {
        xl_usage("save");
        return 2;
    }
    struct rundom r;
    char file[PATH_MAX], why[1024];
    uint64_t size = 0;
    size_t len = 0;
    unsigned disks = 0;
    if (!xl_state_open() || !xl_find(argv[optind], &r))
        return 1;
    char *text = save_config(&r, argc - optind == 3 ? argv[optind + 2] : NULL, &len, &disks);
    if (!text)
        return 1;
    const struct savefile_conf conf = {"xl", text, len, disks};
    savefile_absolute(argv[optind + 1], file, sizeof(file));
    fprintf(stderr, "Saving to %s new hvkit format (domain %d, %s)\n", argv[optind + 1], r.domid,
            r.name);
    int rc = savefile_save(&r, &conf, file, after, -1, &size, why, sizeof(why));
    free(text);
    if (rc < 0) {
        fprintf(stderr, "libxl: error: domain %d: %s\n", r.domid, why);
        fprintf(stderr, "Failed to save domain, resuming domain\n");
        return 1;
    }
    fprintf(stderr, "Saved %llu bytes of state\n", (unsigned long long)size);
    /* hv keeps the machine up once its domain is saved: it ends here. */
    if (!strcmp(after, "destroy"))
        rundom_end(&r);
    return 0;
}

/* The configuration a restored domain keeps (running/NAME.cfg): the one it
 * was restored with, then the file's name, memory, vCPUs and actions, what
 * `xl list -l` shows of it and what a later xl save records.  A file saved
 * from a domain restored before ends with those lines already: they go
 * first, so that a domain saved and restored again and again keeps one
 * set of them. */
static void keep_saved_config(const struct rundom *r, const struct savefile *sf, const char *text,
                              size_t len)
{
    static const char *const keys[] = {"name",        "memory",    "vcpus",
                                       "on_poweroff", "on_reboot", "on_crash"};
    char name[128], mem[64], vcpus[64], act[3][64];
    char *over[] = {name, mem, vcpus, act[0], act[1], act[2]};
    len = xlcfg_before_lines(text, len, keys, 6);
    snprintf(name, sizeof(name), "name=\"%s\"", r->name);
    snprintf(mem, sizeof(mem), "memory=%llu", (unsigned long long)(sf->shape.ram >> 20));
    snprintf(vcpus, sizeof(vcpus), "vcpus=%u", sf->shape.vcpus);
    snprintf(act[0], sizeof(act[0]), "on_poweroff=\"%s\"", savefile_action(sf->cfg.on_poweroff));
    snprintf(act[1], sizeof(act[1]), "on_reboot=\"%s\"", savefile_action(sf->cfg.on_reboot));
    snprintf(act[2], sizeof(act[2]), "on_crash=\"%s\"", savefile_action(sf->cfg.on_crash));
    xl_keep_config_text(r, text, len, over, 6);
}

/* Is there a running domain called `name` already? */
static bool name_taken(const char *name)
{
    static struct rundom all[RUNDOM_MAX];
    int n = rundom_list(all, RUNDOM_MAX);
    for (int i = 0; i < n; i++)
        if (!strcmp(all[i].name, name))
            return true;
    return false;
}

/* The configuration of a restore: CFG's text when given, else the file's
 * (none in a bare state: no disks).  Parsed into d; the text (malloc'd or
 * the file's) in *text, or false after a message. */
static bool restore_config(const char *cfg, const char *arg, const struct savefile *sf,
                           struct xldom *d, char **text, size_t *len)
{
    *d = (struct xldom){0};
    if (cfg) {
        fprintf(stderr, "Parsing config from %s\n", cfg);
        *text = xlcfg_slurp(cfg, len, stderr);
        return *text && parse_text(cfg, *text, *len, d);
    }
    fprintf(stderr, "Parsing config from <saved>\n");
    *text = sf->img.config;
    *len = sf->img.config_len;
    if (sf->img.bare)
        return true;
    if (strcmp(sf->img.tool, "xl") != 0) {
        fprintf(stderr,
                "libxl: error: %s was saved by %s: restore it with %s, or give xl a "
                "configuration (xl restore CFG FILE)\n",
                arg, sf->img.tool, sf->img.tool);
        return false;
    }
    return parse_text("<saved>", *text, *len, d);
}

/* Start the restored domain r from FILE with the disks of d; 0, or 1
 * after libxl's words. */
static int start(const char *file, const struct savefile *sf, const struct xldom *d,
                 struct rundom *r, bool paused)
{
    char why[1024];
    struct rundom_disk disk[XLDOM_DISKS_MAX];
    r->domid = rundom_next_domid();
    snprintf(r->name, sizeof(r->name), "%s", sf->cfg.name);
    uuid_new(r->uuid);
    snprintf(r->config, sizeof(r->config), "%s", file);
    xl_disks(d, disk);
    if (savefile_restore(file, sf, r, disk, d->ndisks, paused, why, sizeof(why)) == 0)
        return 0;
    fprintf(stderr, "libxl: error: domain %d: %s\n", r->domid, why);
    return 1;
}

/* xl restore [-p] [-c] [-e] [-d] [-V] [-A] [CFG] FILE: a new domain from
 * the saved state, its name, memory and vCPUs the file's, its disks its
 * configuration's; it runs unless -p, with its console attached after
 * -c. */
int cmd_restore(int argc, char **argv)
{
    static struct savefile sf;
    int opt;
    bool paused = false, console = false;
    while ((opt = xl_getopt(argc, argv, "pcedVAh", NULL, "restore", 1)) != -1)
        paused |= opt == 'p', console |= opt == 'c';
    if (argc - optind > 2) {
        xl_usage("restore");
        return 2;
    }
    const char *arg = argv[argc - 1];
    char file[PATH_MAX], why[1024];
    if (access(arg, R_OK) != 0) {
        fprintf(stderr, "Failed to open restore file %s: %s\n", arg, strerror(errno));
        return 1;
    }
    savefile_absolute(arg, file, sizeof(file));
    if (savefile_read(file, &sf, why, sizeof(why)) < 0) {
        /* xl's words for a file that is no save file at all. */
        if (strstr(why, "magic"))
            fprintf(stderr, "File has wrong magic number - corrupt or for a different tool?\n");
        else
            fprintf(stderr, "libxl: error: %s: %s\n", arg, why);
        return 1;
    }
    fprintf(stderr, "Loading new save file %s (new hvkit format, %u vCPU%s, %llu MiB)\n", arg,
            sf.shape.vcpus, sf.shape.vcpus == 1 ? "" : "s",
            (unsigned long long)(sf.shape.ram >> 20));
    if (!sf.img.bare)
        fprintf(stderr, " Savefile contains xl domain config\n");
    const char *cfg = argc - optind == 2 ? argv[optind] : NULL;
    int rc = 1;
    struct rundom r = {.domid = 0, .tool = "xl"};
    static struct xldom d;
    char *text = NULL;
    size_t len = 0;
    if (!restore_config(cfg, arg, &sf, &d, &text, &len) || !xl_state_open())
        rc = 1;
    else if (!sf.cfg.name[0])
        fprintf(stderr, "libxl: error: the saved state names no domain\n");
    else if (name_taken(sf.cfg.name))
        fprintf(stderr, "libxl: error: Domain with name \"%s\" already exists.\n", sf.cfg.name);
    else
        rc = start(file, &sf, &d, &r, paused);
    if (rc == 0)
        keep_saved_config(&r, &sf, text ? text : "", text ? len : 0);
    if (cfg)
        free(text);
    savefile_free(&sf);
    if (rc == 0 && console) {
        char *cargv[] = {"console", r.name, NULL};
        optind = 0;
        return cmd_console(2, cargv);
    }
    return rc;
}
