/*
 * snapshot-* commands for defined (shut-off) domains, done as libvirt's
 * qemu driver does them: an internal snapshot is taken in every qcow2 disk
 * of the domain (what `qemu-img snapshot -c` does, here through imgtool's
 * library), and libvirt's own record of the snapshot, its <domainsnapshot>
 * XML with a copy of the domain's definition, is kept beside the domain in
 * the state directory (snapshots/DOMAIN/NAME.xml, and snapshots/DOMAIN/
 * .current naming the current snapshot).  `qemu-img snapshot -l DISK`
 * lists what these commands made.  Output lines and errors are virsh 9.0's.
 */
#include "domain.h"
#include "live.h"

#include "../common/text.h"
#include "../common/vtable.h"
#include "../common/xmlread.h"

#include "img.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libxml/parser.h>

/* libvirt's record of one snapshot. */
struct snap {
    char name[256];
    char description[1024];
    char parent[256];      /* "" for a root */
    long long created;     /* seconds since the epoch */
    char state[16];        /* the domain's: shutoff, running or paused */
    struct domain_def dom; /* the definition when it was taken */
};

/* Does this disk take part in internal snapshots?  libvirt leaves out
 * read-only disks and CD-ROMs (snapshot='no'). */
static bool snapshotted(const struct disk_def *k)
{
    return !k->readonly && !strcmp(k->device, "disk");
}

/* ---- the records ---- */

static bool snap_file(const char *dom, const char *name, char *out, size_t len)
{
    return store_path(out, len, "snapshots/%s/%s.xml", dom, name);
}

static void print_snap(const void *obj, FILE *out)
{
    const struct snap *s = obj;
    fputs("<domainsnapshot>\n  <name>", out);
    xml_put(out, s->name);
    fputs("</name>\n", out);
    if (s->description[0]) {
        fputs("  <description>", out);
        xml_put(out, s->description);
        fputs("</description>\n", out);
    }
    fprintf(out, "  <state>%s</state>\n", s->state[0] ? s->state : "shutoff");
    if (s->parent[0]) {
        fputs("  <parent>\n    <name>", out);
        xml_put(out, s->parent);
        fputs("</name>\n  </parent>\n", out);
    }
    /* A snapshot of a running domain holds its state (hv's savevm). */
    fprintf(out, "  <creationTime>%lld</creationTime>\n  <memory snapshot='%s'/>\n  <disks>\n",
            s->created, strcmp(s->state, "shutoff") && s->state[0] ? "internal" : "no");
    for (int i = 0; i < s->dom.ndisks; i++)
        fprintf(out, "    <disk name='%s' snapshot='%s'/>\n", s->dom.disks[i].target,
                snapshotted(&s->dom.disks[i]) ? "internal" : "no");
    fputs("  </disks>\n", out);
    domxml_print_indented(&s->dom, out, "  ");
    fputs("</domainsnapshot>\n", out);
}

static bool load_snap(const char *dom, const char *name, struct snap *s)
{
    char path[PATH_MAX + 600], why[512], when[32] = "0";
    memset(s, 0, sizeof(*s));
    if (!snap_file(dom, name, path, sizeof(path)) || access(path, F_OK))
        return false;
    xmlDoc *doc = xml_read(path, "domainsnapshot", why, sizeof(why));
    if (!doc)
        return false;
    xmlNode *root = xmlDocGetRootElement(doc);
    bool ok = xml_child_text(root, "name", s->name, sizeof(s->name)) &&
              domxml_parse_node(xml_child(root, "domain"), &s->dom, why, sizeof(why));
    xml_child_text(root, "description", s->description, sizeof(s->description));
    xml_child_text(xml_child(root, "parent"), "name", s->parent, sizeof(s->parent));
    xml_child_text(root, "creationTime", when, sizeof(when));
    if (!xml_child_text(root, "state", s->state, sizeof(s->state)))
        snprintf(s->state, sizeof(s->state), "shutoff");
    s->created = atoll(when);
    xmlFreeDoc(doc);
    return ok;
}

static int by_name(const void *a, const void *b)
{
    return strcasecmp(((const struct snap *)a)->name, ((const struct snap *)b)->name);
}

/* All snapshots of a domain, sorted by name as virsh sorts them. */
static struct snap *list_snaps(const char *dom, int *count)
{
    char dir[PATH_MAX + 600], name[256];
    struct snap *list = NULL;
    *count = 0;
    if (!store_path(dir, sizeof(dir), "snapshots/%s", dom))
        return NULL;
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        size_t n = strlen(e->d_name);
        if (e->d_name[0] == '.' || n < 5 || n - 4 >= sizeof(name) ||
            strcmp(e->d_name + n - 4, ".xml"))
            continue;
        snprintf(name, sizeof(name), "%.*s", (int)(n - 4), e->d_name);
        list = realloc(list, sizeof(*list) * (size_t)(*count + 1));
        if (!list)
            abort();
        if (load_snap(dom, name, &list[*count]))
            (*count)++;
    }
    if (d)
        closedir(d);
    if (*count)
        qsort(list, (size_t)*count, sizeof(*list), by_name);
    return list;
}

/* The current snapshot's name, or "" when there is none. */
static void current_name(const char *dom, char *out, size_t len)
{
    char path[PATH_MAX + 600];
    out[0] = '\0';
    if (!store_path(path, sizeof(path), "snapshots/%s/.current", dom))
        return;
    FILE *f = fopen(path, "r");
    if (f) {
        if (fgets(out, (int)len, f))
            out[strcspn(out, "\n")] = '\0';
        fclose(f);
    }
}

static void print_name(const void *obj, FILE *out)
{
    fprintf(out, "%s\n", (const char *)obj);
}

static bool set_current(const char *dom, const char *name)
{
    char path[PATH_MAX + 600];
    if (!store_path(path, sizeof(path), "snapshots/%s/.current", dom))
        return false;
    if (!name[0])
        return !unlink(path) || errno == ENOENT;
    return store_write(path, print_name, name);
}

/* ---- the disks ---- */

/* Apply one image operation to every snapshotted disk of a definition:
 * create, apply or delete the internal snapshot `name`.  On a failure
 * part-way, the disks already changed are put back where that is possible
 * (a new snapshot deleted again), so no disk is left half done. */
enum disk_op { DISK_CREATE, DISK_APPLY, DISK_DELETE };

static int disk_op1(const char *file, enum disk_op op, const char *name, long long when, char *why,
                    size_t len)
{
    struct img *img;
    struct img_err err;
    if (img_open_file(file, "qcow2", IMG_OPEN_RW, &img, &err) < 0) {
        snprintf(why, len, "%s", err.msg);
        return -1;
    }
    int rc = op == DISK_CREATE  ? img_snapshot_create(img, name, (uint32_t)when, 0)
             : op == DISK_APPLY ? img_snapshot_apply(img, name)
                                : img_snapshot_delete(img, name);
    if (rc < 0)
        snprintf(why, len, "%s", img_strerror(img));
    if (img_close(img) < 0 && rc >= 0) {
        snprintf(why, len, "%s: flush failed", file);
        rc = -1;
    }
    return rc < 0 ? -1 : 0;
}

static bool disks_do(const struct domain_def *d, enum disk_op op, const char *name, long long when)
{
    char why[600];
    for (int i = 0; i < d->ndisks; i++) {
        const struct disk_def *k = &d->disks[i];
        if (!snapshotted(k))
            continue;
        if (strcmp(k->driver, "qcow2")) {
            verror("unsupported configuration: internal snapshot for disk %s unsupported for "
                   "storage type raw",
                   k->target);
        } else if (disk_op1(k->source, op, name, when, why, sizeof(why)) == 0) {
            continue;
        } else {
            verror("internal error: disk %s (%s): %s", k->target, k->source, why);
        }
        /* Undo a half-taken snapshot on the disks before this one. */
        for (int j = 0; op == DISK_CREATE && j < i; j++) {
            if (snapshotted(&d->disks[j]))
                disk_op1(d->disks[j].source, DISK_DELETE, name, 0, why, sizeof(why));
        }
        return false;
    }
    return true;
}

/* The same on a running domain, whose disks hv holds open: one request to
 * its manager, QEMU's savevm, loadvm or delvm on the domain's first
 * writable qcow2 disk, with the domain's state (docs/vmstate.md). */
static bool live_do(const struct vdom *v, enum disk_op op, const char *name)
{
    static const char *const cmds[] = {CTL_CMD_SAVEVM, CTL_CMD_LOADVM, CTL_CMD_DELVM};
    static struct ctlc c;
    char args[400];
    int ret;
    snprintf(args, sizeof(args), "\"name\": \"%s\"", name);
    if (live_call(v, &c, cmds[op], args, 600000, &ret, NULL) < 0)
        return false;
    ctlc_close(&c);
    return true;
}

/* Snapshot operations go through hv while the domain runs, to the image
 * files with imgtool's library while it does not. */
static bool snap_do(const struct vdom *v, const struct domain_def *d, enum disk_op op,
                    const char *name, long long when)
{
    return v->active ? live_do(v, op, name) : disks_do(d, op, name, when);
}

/* ---- commands ---- */

/* The snapshot a command names: its argument, or the current one with
 * --current (virsh asks for one of the two). */
static bool find_snap(const struct cmd_call *call, const struct dom *dom, struct snap *s)
{
    const char *name = opt_str(call, "snapshotname");
    char cur[256];
    if (!name && opt_bool(call, "current")) {
        current_name(dom->def.name, cur, sizeof(cur));
        if (!cur[0]) {
            verror("domain '%s' has no current snapshot", dom->def.name);
            return false;
        }
        name = cur;
    } else if (!name) {
        verror("--snapshotname or --current is required");
        return false;
    }
    if (load_snap(dom->def.name, name, s))
        return true;
    verror("Domain snapshot not found: no domain snapshot with matching name '%s'", name);
    return false;
}

static bool create_as(const struct cmd_call *call)
{
    struct vdom v;
    struct dom dom;
    struct snap s = {0};
    const char *name = opt_str(call, "name"), *desc = opt_str(call, "description");
    char path[PATH_MAX + 600];
    if (opt_bool(call, "print-xml")) {
        printf("<domainsnapshot>\n");
        if (name)
            printf("  <name>%s</name>\n", name);
        if (desc)
            printf("  <description>%s</description>\n", desc);
        printf("</domainsnapshot>\n\n");
        return true;
    }
    if (!live_lookup(call, &v))
        return false;
    dom = v.dom;
    if (opt_bool(call, "disk-only") || opt_bool(call, "no-metadata")) {
        verror("unsupported configuration: hvkit takes internal snapshots with metadata only "
               "(no --disk-only, no --no-metadata)");
        return false;
    }
    s.created = (long long)time(NULL);
    if (name)
        snprintf(s.name, sizeof(s.name), "%s", name);
    else
        snprintf(s.name, sizeof(s.name), "%lld", s.created); /* libvirt's default name */
    if (desc)
        snprintf(s.description, sizeof(s.description), "%s", desc);
    current_name(dom.def.name, s.parent, sizeof(s.parent));
    s.dom = dom.def;
    snprintf(s.state, sizeof(s.state), "%s",
             v.state == VSTATE_PAUSED ? "paused"
             : v.active               ? "running"
                                      : "shutoff");
    if (!snap_file(dom.def.name, s.name, path, sizeof(path)))
        return false;
    if (strchr(s.name, '/') || !access(path, F_OK)) {
        verror(strchr(s.name, '/') ? "XML error: snapshot name '%s' cannot contain '/'"
                                   : "operation failed: domain moment %s already exists",
               s.name);
        return false;
    }
    char dir[PATH_MAX + 600];
    if (!store_path(dir, sizeof(dir), "snapshots/%s", dom.def.name) || !store_mkdirs(dir) ||
        !snap_do(&v, &dom.def, DISK_CREATE, s.name, s.created))
        return false;
    if (!store_write(path, print_snap, &s) || !set_current(dom.def.name, s.name)) {
        snap_do(&v, &dom.def, DISK_DELETE, s.name, 0);
        unlink(path);
        return false;
    }
    /* No newline: virsh's own empty line after the command ends it. */
    if (!virsh.quiet)
        printf("Domain snapshot %s created", s.name);
    return true;
}

/* The table row of one snapshot, with libvirt's time format. */
static void snap_row(struct vtable *t, const struct snap *s, bool parent)
{
    char when[64];
    time_t secs = (time_t)s->created;
    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %z", localtime(&secs));
    const char *row[] = {s->name, when, s->state, s->parent};
    (void)parent;
    vtable_add(t, row);
}

/* Has snapshot `name` any child in the list? */
static bool has_children(const struct snap *list, int count, const char *name)
{
    for (int i = 0; i < count; i++) {
        if (!strcmp(list[i].parent, name))
            return true;
    }
    return false;
}

/* virsh's tree: one line per snapshot, "+- " before a child, "|" lines
 * joining siblings, and an indented empty line after the last leaf of
 * each branch (libvirt's vshTreePrint). */
static void print_tree(const struct snap *list, int count, int at, bool root, bool last,
                       char *indent)
{
    size_t base = strlen(indent);
    printf("%s%s%s\n", indent, root ? "" : "+- ", list[at].name);
    if (!root)
        strcat(indent, last ? "  " : "| ");
    int last_child = -1;
    for (int i = 0; i < count; i++) {
        if (!strcmp(list[i].parent, list[at].name))
            last_child = i;
    }
    if (last_child >= 0)
        printf("%s  |\n", indent);
    size_t here = strlen(indent);
    strcat(indent, "  ");
    for (int i = 0; i < count; i++) {
        if (!strcmp(list[i].parent, list[at].name))
            print_tree(list, count, i, false, i == last_child, indent);
    }
    indent[here] = '\0';
    if (last_child < 0 && last)
        printf("%s\n", indent);
    indent[base] = '\0';
}

static bool list(const struct cmd_call *call)
{
    struct dom dom;
    int count;
    if (!dom_lookup(call, &dom))
        return false;
    struct snap *snaps = list_snaps(dom.def.name, &count);
    bool parent = opt_bool(call, "parent");
    if (opt_bool(call, "tree")) {
        char indent[1024] = "";
        for (int i = 0; i < count; i++) {
            if (!snaps[i].parent[0])
                print_tree(snaps, count, i, true, true, indent);
        }
        free(snaps);
        return true;
    }
    static const char *const head[] = {"Name", "Creation Time", "State", "Parent"};
    struct vtable *t = vtable_new(parent ? 4 : 3, head);
    for (int i = 0; i < count; i++) {
        bool leaf = !has_children(snaps, count, snaps[i].name);
        if ((opt_bool(call, "roots") && snaps[i].parent[0]) ||
            (opt_bool(call, "leaves") && !leaf) || (opt_bool(call, "no-leaves") && leaf))
            continue;
        if (opt_bool(call, "name"))
            printf("%s\n", snaps[i].name);
        else
            snap_row(t, &snaps[i], parent);
    }
    if (!opt_bool(call, "name"))
        vtable_print(t, stdout, !virsh.quiet);
    vtable_free(t);
    free(snaps);
    return true;
}

/* The number of snapshots below `name`, direct children in *children. */
static int descendants(const struct snap *list, int count, const char *name, int *children)
{
    int n = 0;
    *children = 0;
    for (int i = 0; i < count; i++) {
        if (strcmp(list[i].parent, name))
            continue;
        int grand;
        (*children)++;
        n += 1 + descendants(list, count, list[i].name, &grand);
    }
    return n;
}

static bool info(const struct cmd_call *call)
{
    struct dom dom;
    struct snap s;
    char cur[256];
    int count, children;
    if (!dom_lookup(call, &dom) || !find_snap(call, &dom, &s))
        return false;
    current_name(dom.def.name, cur, sizeof(cur));
    struct snap *all = list_snaps(dom.def.name, &count);
    int below = descendants(all, count, s.name, &children);
    free(all);
    printf("%-15s %s\n", "Name:", s.name);
    printf("%-15s %s\n", "Domain:", dom.def.name);
    printf("%-15s %s\n", "Current:", strcmp(cur, s.name) ? "no" : "yes");
    printf("%-15s %s\n", "State:", s.state);
    printf("%-15s %s\n", "Location:", "internal");
    printf("%-15s %s\n", "Parent:", s.parent[0] ? s.parent : "-");
    printf("%-15s %d\n", "Children:", children);
    printf("%-15s %d\n", "Descendants:", below);
    printf("%-15s %s\n", "Metadata:", "yes");
    return true;
}

static bool current(const struct cmd_call *call)
{
    struct dom dom;
    struct snap s;
    char cur[256];
    const char *set = opt_str(call, "snapshotname");
    if (!dom_lookup(call, &dom))
        return false;
    if (set) {
        if (!load_snap(dom.def.name, set, &s)) {
            verror("Domain snapshot not found: no domain snapshot with matching name '%s'", set);
            return false;
        }
        if (!set_current(dom.def.name, s.name))
            return false;
        if (!virsh.quiet)
            printf("Snapshot %s set as current", s.name);
        return true;
    }
    current_name(dom.def.name, cur, sizeof(cur));
    if (!cur[0] || !load_snap(dom.def.name, cur, &s)) {
        verror("domain '%s' has no current snapshot", dom.def.name);
        return false;
    }
    if (opt_bool(call, "name"))
        printf(virsh.quiet ? "%s\n" : "%s", s.name);
    else
        print_snap(&s, stdout);
    return true;
}

static bool dumpxml(const struct cmd_call *call)
{
    struct dom dom;
    struct snap s;
    if (!dom_lookup(call, &dom) || !find_snap(call, &dom, &s))
        return false;
    print_snap(&s, stdout);
    return true;
}

static bool parent_of(const struct cmd_call *call)
{
    struct dom dom;
    struct snap s;
    if (!dom_lookup(call, &dom) || !find_snap(call, &dom, &s))
        return false;
    if (!s.parent[0]) {
        verror("snapshot '%s' has no parent", s.name);
        return false;
    }
    printf(virsh.quiet ? "%s\n" : "%s", s.parent);
    return true;
}

/* The domain's run state after a revert: the snapshot's, unless --running
 * or --paused says otherwise (libvirt's rule). */
static const char *revert_target(const struct cmd_call *call, const struct snap *s)
{
    if (opt_bool(call, "running"))
        return "running";
    if (opt_bool(call, "paused"))
        return "paused";
    return s->state;
}

/* Revert a running domain: a snapshot with a state is loaded into it (hv's
 * loadvm); one without (taken shut off) stops the domain first. */
static bool revert_live(struct vdom *v, const struct snap *s, const char *target)
{
    if (!strcmp(s->state, "shutoff")) {
        live_end(v, "from snapshot");
        v->active = false;
        return disks_do(&s->dom, DISK_APPLY, s->name, 0);
    }
    if (!live_do(v, DISK_APPLY, s->name))
        return false;
    /* loadvm leaves the domain as it was; make it what the target says. */
    static struct ctlc c;
    int ret;
    const char *cmd = strcmp(target, "paused") ? CTL_CMD_CONT : CTL_CMD_STOP;
    if (live_call(v, &c, cmd, "", 60000, &ret, NULL) < 0)
        return false;
    ctlc_close(&c);
    live_set_reason(v->dom.def.name, "from snapshot");
    return true;
}

static bool revert(const struct cmd_call *call)
{
    struct vdom v;
    struct snap s;
    if (!live_lookup(call, &v) || !find_snap(call, &v.dom, &s))
        return false;
    const char *target = revert_target(call, &s);
    if (!v.active && strcmp(target, "shutoff")) {
        verror("unsupported configuration: hvkit loads a snapshot's state into a running "
               "domain: start '%s' first",
               v.dom.def.name);
        return false;
    }
    /* The disks go back first, then the definition the snapshot kept. */
    if (v.active ? !revert_live(&v, &s, target) : !disks_do(&s.dom, DISK_APPLY, s.name, 0))
        return false;
    if ((v.persistent && !store_dom_save(&s.dom)) || !set_current(v.dom.def.name, s.name))
        return false;
    vinfo("Domain snapshot %s reverted", s.name);
    return true;
}

/* Forget one snapshot: its disk snapshots (unless metadata only), its
 * record, and hand its children to its parent. */
static bool delete_one(const struct vdom *v, const struct snap *s, bool metadata_only)
{
    char path[PATH_MAX + 600], cur[256];
    const char *dom = v->dom.def.name;
    int count;
    if (!metadata_only && !snap_do(v, &s->dom, DISK_DELETE, s->name, 0))
        return false;
    struct snap *all = list_snaps(dom, &count);
    for (int i = 0; i < count; i++) {
        if (strcmp(all[i].parent, s->name))
            continue;
        strcpy(all[i].parent, s->parent);
        if (snap_file(dom, all[i].name, path, sizeof(path)))
            store_write(path, print_snap, &all[i]);
    }
    free(all);
    current_name(dom, cur, sizeof(cur));
    if (!strcmp(cur, s->name))
        set_current(dom, s->parent); /* as libvirt, the parent becomes current */
    return snap_file(dom, s->name, path, sizeof(path)) && !unlink(path);
}

/* Delete the snapshots below `name`, deepest first. */
static bool delete_below(const struct vdom *v, const char *name, bool metadata_only)
{
    int count;
    bool ok = true;
    struct snap *all = list_snaps(v->dom.def.name, &count);
    for (int i = 0; i < count && ok; i++) {
        if (!strcmp(all[i].parent, name))
            ok = delete_below(v, all[i].name, metadata_only) &&
                 delete_one(v, &all[i], metadata_only);
    }
    free(all);
    return ok;
}

static bool delete (const struct cmd_call *call)
{
    struct vdom v;
    struct snap s;
    bool meta = opt_bool(call, "metadata");
    if (!live_lookup(call, &v) || !find_snap(call, &v.dom, &s))
        return false;
    if (opt_bool(call, "children-only")) {
        if (!delete_below(&v, s.name, meta))
            return false;
        vinfo("Domain snapshot %s children deleted", s.name);
        return true;
    }
    if ((opt_bool(call, "children") && !delete_below(&v, s.name, meta)) ||
        !delete_one(&v, &s, meta))
        return false;
    vinfo("Domain snapshot %s deleted", s.name);
    return true;
}

/* The number of snapshots a domain has (undefine refuses while any). */
int snapshot_count(const char *dom)
{
    int count;
    free(list_snaps(dom, &count));
    return count;
}

/* Forget every snapshot record of a domain (undefine --snapshots-metadata):
 * the internal snapshots stay in the disks, as in libvirt. */
bool snapshot_forget_all(const char *dom)
{
    int count;
    char path[PATH_MAX + 600];
    struct snap *all = list_snaps(dom, &count);
    for (int i = 0; i < count; i++) {
        if (snap_file(dom, all[i].name, path, sizeof(path)))
            unlink(path);
    }
    free(all);
    set_current(dom, "");
    return store_path(path, sizeof(path), "snapshots/%s", dom) && (!rmdir(path) || errno == ENOENT);
}

#define DOM_ARG                                                                                    \
    {                                                                                              \
        "domain", OPT_STRING, true, "domain name, id or uuid"                                      \
    }
#define SNAP_ARG                                                                                   \
    {                                                                                              \
        "snapshotname", OPT_STRING, false, "snapshot name"                                         \
    }

const struct cmd_def snap_cmds[] = {
    {"snapshot-create-as",
     create_as,
     "Create a snapshot from a set of args",
     {DOM_ARG,
      {"name", OPT_STRING, false, "name of snapshot"},
      {"description", OPT_STRING, false, "description of snapshot"},
      {"print-xml", OPT_BOOL, false, "print XML document rather than create"},
      {"no-metadata", OPT_BOOL, false, "take snapshot but create no metadata"},
      {"halt", OPT_BOOL, false, "halt domain after snapshot is created"},
      {"disk-only", OPT_BOOL, false, "capture disk state but not vm state"},
      {"reuse-external", OPT_BOOL, false, "reuse any existing external files"},
      {"quiesce", OPT_BOOL, false, "quiesce guest's file systems"},
      {"atomic", OPT_BOOL, false, "require atomic operation"},
      {"live", OPT_BOOL, false, "take a live snapshot"}},
     "Create a snapshot (disk and RAM) from arguments"},
    {"snapshot-current",
     current,
     "Get or set the current snapshot",
     {DOM_ARG,
      {"name", OPT_BOOL, false, "list the name, rather than the full xml"},
      {"security-info", OPT_BOOL, false, "include security sensitive information in XML dump"},
      {"snapshotname", OPT_STRING, false, "name of existing snapshot to make current"}},
     "Get or set the current snapshot"},
    {"snapshot-delete",
     delete,
     "Delete a domain snapshot",
     {DOM_ARG,
      SNAP_ARG,
      {"current", OPT_BOOL, false, "delete current snapshot"},
      {"children", OPT_BOOL, false, "delete snapshot and all children"},
      {"children-only", OPT_BOOL, false, "delete children but not snapshot"},
      {"metadata", OPT_BOOL, false,
       "delete only libvirt metadata, leaving snapshot contents "
       "behind"}},
     "Snapshot Delete"},
    {"snapshot-dumpxml",
     dumpxml,
     "Dump XML for a domain snapshot",
     {DOM_ARG,
      {"snapshotname", OPT_STRING, true, "snapshot name"},
      {"security-info", OPT_BOOL, false, "include security sensitive information in XML dump"}},
     "Snapshot Dump XML"},
    {"snapshot-info",
     info,
     "snapshot information",
     {DOM_ARG, SNAP_ARG, {"current", OPT_BOOL, false, "info on current snapshot"}},
     "Returns basic information about a snapshot."},
    {"snapshot-list",
     list,
     "List snapshots for a domain",
     {DOM_ARG,
      {"parent", OPT_BOOL, false, "add a column showing parent snapshot"},
      {"roots", OPT_BOOL, false, "list only snapshots without parents"},
      {"leaves", OPT_BOOL, false, "list only snapshots without children"},
      {"no-leaves", OPT_BOOL, false, "list only snapshots that are not leaves (with children)"},
      {"tree", OPT_BOOL, false, "list snapshots in a tree"},
      {"name", OPT_BOOL, false, "list snapshot names only"}},
     "Snapshot List"},
    {"snapshot-parent",
     parent_of,
     "Get the name of the parent of a snapshot",
     {DOM_ARG,
      {"snapshotname", OPT_STRING, false, "find parent of snapshot name"},
      {"current", OPT_BOOL, false, "find parent of current snapshot"}},
     "Extract the snapshot's parent, if any"},
    {"snapshot-revert",
     revert,
     "Revert a domain to a snapshot",
     {DOM_ARG,
      SNAP_ARG,
      {"current", OPT_BOOL, false, "revert to current snapshot"},
      {"running", OPT_BOOL, false, "after reverting, change state to running"},
      {"paused", OPT_BOOL, false, "after reverting, change state to paused"},
      {"force", OPT_BOOL, false, "try harder on risky reverts"}},
     "Revert domain to snapshot"},
    {NULL, NULL, NULL, {{0}}, NULL},
};
