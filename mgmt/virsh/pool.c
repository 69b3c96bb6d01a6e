/*
 * pool-* commands for "dir" pools: a storage pool is a directory, and its
 * volumes are the image files in it (libvirt's storage_backend_fs.c does the
 * same for its dir pools).  Output lines and errors are virsh 9.0's.
 */
#include "pool.h"
#include "virsh.h"

#include "../common/size.h"
#include "../common/text.h"
#include "../common/vtable.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

bool pool_lookup(const char *name, struct pool *out)
{
    if (store_find(name, out))
        return true;
    verror("failed to get pool '%s'", name);
    verror("Storage pool not found: no storage pool with matching name '%s'", name);
    return false;
}

void pool_measure(struct pool *p)
{
    struct statvfs fs;
    struct stat st;
    if (!p->active || statvfs(p->target, &fs))
        return;
    /* libvirt reports the whole file system the directory lives on: its
     * size, what is used, and what an unprivileged writer may still use. */
    p->capacity = (uint64_t)fs.f_frsize * fs.f_blocks;
    p->allocation = (uint64_t)fs.f_frsize * (fs.f_blocks - fs.f_bfree);
    p->available = (uint64_t)fs.f_frsize * fs.f_bavail;
    if (!stat(p->target, &st)) {
        p->have_perms = true;
        p->mode = st.st_mode & 07777;
        p->uid = st.st_uid;
        p->gid = st.st_gid;
    }
}

/* A "bare word" option of pool-define-as may be "-", which the old
 * positional syntax ("pool-define-as p dir - - - - /dir") uses for "unset". */
static const char *unless_dash(const char *s)
{
    return s && strcmp(s, "-") ? s : NULL;
}

/* The checks libvirt makes before it accepts a definition: a pool of the
 * same name must have the same UUID (a definition without <uuid> gets a new
 * one, so defining an existing name again is refused, as libvirt does), and
 * no other pool may use the same directory.  A
 * refusal prints `failed` (virsh's line naming the command) and the reason. */
static bool definable(const struct pool *p, const char *failed)
{
    int count;
    struct pool *list = store_list(&count);
    bool ok = true;
    for (int i = 0; i < count && ok; i++) {
        if (!strcmp(list[i].name, p->name) && strcmp(list[i].uuid, p->uuid)) {
            verror("%s", failed);
            verror("operation failed: pool '%s' already exists with uuid %s", p->name,
                   list[i].uuid);
            ok = false;
        } else if (strcmp(list[i].name, p->name) && !strcmp(list[i].target, p->target)) {
            verror("%s", failed);
            verror("operation failed: Storage source conflict with pool: '%s'", list[i].name);
            ok = false;
        }
    }
    free(list);
    return ok;
}

/* Make a relative target absolute: virsh hands the path to a daemon whose
 * working directory is not the user's, so a relative one would be useless. */
static bool absolute_target(struct pool *p, const char *target)
{
    char cwd[PATH_MAX];
    int len;
    if (target[0] == '/' || !getcwd(cwd, sizeof(cwd)))
        len = snprintf(p->target, sizeof(p->target), "%s", target);
    else
        len = snprintf(p->target, sizeof(p->target), "%s/%s", cwd, target);
    if (len < (int)sizeof(p->target))
        return true;
    verror("Failed to define pool %s", p->name);
    verror("XML error: storage pool target path is too long");
    return false;
}

static bool define_as(const struct cmd_call *call)
{
    struct pool p = {0};
    const char *name = opt_str(call, "name"), *type = opt_str(call, "type");
    const char *target = unless_dash(opt_str(call, "target"));
    snprintf(p.name, sizeof(p.name), "%s", name);
    if (!opt_bool(call, "print-xml"))
        uuid_new(p.uuid);
    if (strcmp(type, "dir")) {
        verror("Failed to define pool %s", name);
        verror("unsupported configuration: hvkit implements only 'dir' storage pools, not '%s'",
               type);
        return false;
    }
    if (!target) {
        verror("Failed to define pool %s", name);
        verror("XML error: missing storage pool target path");
        return false;
    }
    if (!absolute_target(&p, target))
        return false;
    if (opt_bool(call, "print-xml")) {
        /* libvirt prints the XML it would send, which has no UUID yet. */
        printf("<pool type='dir'>\n  <name>%s</name>\n  <target>\n    <path>%s</path>\n"
               "  </target>\n</pool>\n",
               p.name, p.target);
        return true;
    }
    char failed[300];
    snprintf(failed, sizeof(failed), "Failed to define pool %s", name);
    if (!definable(&p, failed) || !store_save(&p))
        return false;
    vinfo("Pool %s defined", name);
    return true;
}

static bool define(const struct cmd_call *call)
{
    const char *file = opt_str(call, "file");
    struct pool p;
    char failed[PATH_MAX + 64];
    snprintf(failed, sizeof(failed), "Failed to define pool from %s", file);
    if (access(file, R_OK)) {
        verror("Failed to open file '%s': %s", file, strerror(errno));
        return false;
    }
    char why[512];
    if (!store_parse_xml(file, &p, why, sizeof(why))) {
        verror("%s", failed);
        verror("%s", why);
        return false;
    }
    if (!definable(&p, failed) || !store_save(&p))
        return false;
    vinfo("Pool %s defined from %s", p.name, file);
    return true;
}

/* Refuse with virsh's two lines when a pool is (or is not) started. */
static bool need_state(const struct pool *p, bool active, const char *what)
{
    if (p->active == active)
        return true;
    verror("Failed to %s pool %s", what, p->name);
    verror("Requested operation is not valid: storage pool '%s' is %s", p->name,
           p->active ? "active" : "not active");
    return false;
}

/* libvirt's dir backend builds a pool by creating its directory, with the
 * parents it needs; an existing directory is fine. */
static bool make_target(const struct pool *p)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s", p->target);
    for (char *s = path + 1;; s++) {
        bool last = !*s;
        if (*s != '/' && !last)
            continue;
        *s = '\0';
        if (mkdir(path, 0755) && errno != EEXIST) {
            verror("Failed to build pool %s", p->name);
            verror("cannot create path '%s': %s", path, strerror(errno));
            return false;
        }
        if (last)
            break;
        *s = '/';
    }
    return true;
}

static bool build(const struct cmd_call *call)
{
    struct pool p;
    if (!pool_lookup(opt_str(call, "pool"), &p) || !need_state(&p, false, "build") ||
        !make_target(&p))
        return false;
    vinfo("Pool %s built", p.name);
    return true;
}

static bool start(const struct cmd_call *call)
{
    struct pool p;
    struct stat st;
    if (!pool_lookup(opt_str(call, "pool"), &p) || !need_state(&p, false, "start"))
        return false;
    if (opt_bool(call, "build") && !make_target(&p))
        return false;
    /* A dir pool is started by opening its directory, which must exist. */
    int why = stat(p.target, &st) ? errno : S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
    if (why) {
        verror("Failed to start pool %s", p.name);
        verror("cannot open directory '%s': %s", p.target, strerror(why));
        return false;
    }
    if (!store_set_active(&p, true))
        return false;
    vinfo("Pool %s started", p.name);
    return true;
}

static bool destroy(const struct cmd_call *call)
{
    struct pool p;
    if (!pool_lookup(opt_str(call, "pool"), &p) || !need_state(&p, true, "destroy"))
        return false;
    if (!store_set_active(&p, false))
        return false;
    vinfo("Pool %s destroyed", p.name);
    return true;
}

static bool undefine(const struct cmd_call *call)
{
    struct pool p;
    if (!pool_lookup(opt_str(call, "pool"), &p) || !need_state(&p, false, "undefine"))
        return false;
    if (!store_undefine(&p))
        return false;
    vinfo("Pool %s has been undefined", p.name);
    return true;
}

static bool refresh(const struct cmd_call *call)
{
    struct pool p;
    /* Volumes are read from the directory on every command, so a refresh
     * has nothing to re-read; it still refuses a pool that is not started. */
    if (!pool_lookup(opt_str(call, "pool"), &p) || !need_state(&p, true, "refresh"))
        return false;
    vinfo("Pool %s refreshed", p.name);
    return true;
}

static bool autostart(const struct cmd_call *call)
{
    struct pool p;
    bool off = opt_bool(call, "disable");
    if (!pool_lookup(opt_str(call, "pool"), &p))
        return false;
    if (!p.persistent) {
        verror("failed to %smark pool %s as autostarted", off ? "un" : "", p.name);
        verror("Requested operation is not valid: cannot set autostart for transient pool");
        return false;
    }
    if (!store_set_autostart(&p, !off))
        return false;
    vinfo("Pool %s %s as autostarted", p.name, off ? "unmarked" : "marked");
    return true;
}

static bool dumpxml(const struct cmd_call *call)
{
    struct pool p;
    if (!pool_lookup(opt_str(call, "pool"), &p))
        return false;
    if (!opt_bool(call, "inactive"))
        pool_measure(&p);
    store_print_def(&p, stdout);
    return true;
}

/* One "Label:   value" line of pool-info or vol-info. */
static void info_line(const char *label, const char *value)
{
    printf("%-15s %s\n", label, value);
}

/* A size as pool-info prints it: pretty, or in bytes with --bytes. */
static void size_line(const char *label, uint64_t bytes, bool raw)
{
    char buf[64];
    if (raw)
        snprintf(buf, sizeof(buf), "%llu", (unsigned long long)bytes);
    else
        size_pretty(bytes, buf, sizeof(buf));
    info_line(label, buf);
}

static bool info(const struct cmd_call *call)
{
    struct pool p;
    if (!pool_lookup(opt_str(call, "pool"), &p))
        return false;
    pool_measure(&p);
    info_line("Name:", p.name);
    info_line("UUID:", p.uuid);
    info_line("State:", p.active ? "running" : "inactive");
    info_line("Persistent:", p.persistent ? "yes" : "no");
    info_line("Autostart:", p.autostart ? "yes" : "no");
    if (p.active) {
        bool raw = opt_bool(call, "bytes");
        size_line("Capacity:", p.capacity, raw);
        size_line("Allocation:", p.allocation, raw);
        size_line("Available:", p.available, raw);
    }
    return true;
}

/* Does pool-list's filter keep this pool? */
static bool listed(const struct cmd_call *call, const struct pool *p)
{
    bool all = opt_bool(call, "all"), inactive = opt_bool(call, "inactive");
    if (!all && !inactive && !p->active)
        return false; /* the default lists started pools only */
    if (inactive && !all && p->active)
        return false;
    if ((opt_bool(call, "persistent") && !p->persistent) ||
        (opt_bool(call, "transient") && p->persistent) ||
        (opt_bool(call, "autostart") && !p->autostart) ||
        (opt_bool(call, "no-autostart") && p->autostart))
        return false;
    return true;
}

/* One row of pool-list --details. */
static void details_row(struct vtable *t, struct pool *p)
{
    char cap[32] = "-", alloc[32] = "-", avail[32] = "-";
    pool_measure(p);
    if (p->active) {
        size_pretty(p->capacity, cap, sizeof(cap));
        size_pretty(p->allocation, alloc, sizeof(alloc));
        size_pretty(p->available, avail, sizeof(avail));
    }
    const char *row[] = {p->name,
                         p->active ? "running" : "inactive",
                         p->autostart ? "yes" : "no",
                         p->persistent ? "yes" : "no",
                         cap,
                         alloc,
                         avail};
    vtable_add(t, row);
}

static bool list(const struct cmd_call *call)
{
    int count;
    struct pool *pools = store_list(&count);
    bool details = opt_bool(call, "details");
    static const char *const brief[] = {"Name", "State", "Autostart"};
    static const char *const full[] = {"Name",     "State",      "Autostart", "Persistent",
                                       "Capacity", "Allocation", "Available"};
    struct vtable *t = details ? vtable_new(7, full) : vtable_new(3, brief);
    for (int i = 0; i < count; i++) {
        struct pool *p = &pools[i];
        if (!listed(call, p))
            continue;
        /* --name and --uuid print one bare word per line ("%-20s" for the
         * name, as virsh does), instead of the table. */
        if (opt_bool(call, "name")) {
            printf("%-20s\n", p->name);
        } else if (opt_bool(call, "uuid")) {
            printf("%s\n", p->uuid);
        } else if (details) {
            details_row(t, p);
        } else {
            const char *row[] = {p->name, p->active ? "active" : "inactive",
                                 p->autostart ? "yes" : "no"};
            vtable_add(t, row);
        }
    }
    if (!opt_bool(call, "name") && !opt_bool(call, "uuid"))
        vtable_print(t, stdout, !virsh.quiet);
    vtable_free(t);
    free(pools);
    return true;
}

static bool name_of(const struct cmd_call *call)
{
    struct pool p;
    if (!pool_lookup(opt_str(call, "pool"), &p))
        return false;
    printf("%s\n", p.name);
    return true;
}

static bool uuid_of(const struct cmd_call *call)
{
    struct pool p;
    if (!pool_lookup(opt_str(call, "pool"), &p))
        return false;
    printf("%s\n", p.uuid);
    return true;
}

#define POOL_ARG                                                                                   \
    {                                                                                              \
        "pool", OPT_STRING, true, "pool name or uuid"                                              \
    }

const struct cmd_def pool_cmds[] = {
    {"pool-autostart",
     autostart,
     "autostart a pool",
     {POOL_ARG, {"disable", OPT_BOOL, false, "disable autostarting"}},
     "Configure a pool to be automatically started at boot."},
    {"pool-build", build, "build a pool", {POOL_ARG}, "Build a given pool."},
    {"pool-define",
     define,
     "define an inactive persistent storage pool or modify an existing persistent one from an XML "
     "file",
     {{"file", OPT_STRING, true, "file containing an XML pool description"}},
     "Define or modify a persistent storage pool."},
    {"pool-define-as",
     define_as,
     "define a pool from a set of args",
     {{"name", OPT_STRING, true, "name of the pool"},
      {"type", OPT_STRING, true, "type of the pool"},
      {"print-xml", OPT_BOOL, false, "print XML document, but don't define/create"},
      {"source-host", OPT_STRING, false, "source-host for underlying storage"},
      {"source-path", OPT_STRING, false, "source path for underlying storage"},
      {"source-dev", OPT_STRING, false, "source device for underlying storage"},
      {"source-name", OPT_STRING, false, "source name for underlying storage"},
      {"target", OPT_STRING, false, "target for underlying storage"},
      {"source-format", OPT_STRING, false, "format for underlying storage"}},
     "Define a pool."},
    {"pool-destroy",
     destroy,
     "destroy (stop) a pool",
     {POOL_ARG},
     "Forcefully stop a given pool. Raw data in the pool is untouched"},
    {"pool-dumpxml",
     dumpxml,
     "pool information in XML",
     {POOL_ARG, {"inactive", OPT_BOOL, false, "show inactive defined XML"}},
     "Output the pool information as an XML dump to stdout."},
    {"pool-info",
     info,
     "storage pool information",
     {POOL_ARG, {"bytes", OPT_BOOL, false, "Return pool info in bytes"}},
     "Returns basic information about the storage pool."},
    {"pool-list",
     list,
     "list pools",
     {{"inactive", OPT_BOOL, false, "list inactive pools"},
      {"all", OPT_BOOL, false, "list inactive & active pools"},
      {"transient", OPT_BOOL, false, "list transient pools"},
      {"persistent", OPT_BOOL, false, "list persistent pools"},
      {"autostart", OPT_BOOL, false, "list pools with autostart enabled"},
      {"no-autostart", OPT_BOOL, false, "list pools with autostart disabled"},
      {"type", OPT_STRING, false, "only list pool of specified type(s) (if supported)"},
      {"details", OPT_BOOL, false, "display extended details for pools"},
      {"uuid", OPT_BOOL, false, "list UUID of active pools only"},
      {"name", OPT_BOOL, false, "list name of active pools only"}},
     "Returns list of pools."},
    {"pool-name", name_of, "convert a pool UUID to pool name", {POOL_ARG}, NULL},
    {"pool-refresh", refresh, "refresh a pool", {POOL_ARG}, "Refresh a given pool."},
    {"pool-start",
     start,
     "start a (previously defined) inactive pool",
     {POOL_ARG, {"build", OPT_BOOL, false, "build the pool as normal"}},
     "Start a pool."},
    {"pool-undefine",
     undefine,
     "undefine an inactive pool",
     {POOL_ARG},
     "Undefine the configuration for an inactive pool."},
    {"pool-uuid", uuid_of, "convert a pool name to pool UUID", {POOL_ARG}, NULL},
    {NULL, NULL, NULL, {{0}}, NULL},
};
