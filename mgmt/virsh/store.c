/*
 * Definitions on disk (the layout is described in store.h).
 */
#include "store.h"
#include "virsh.h"

#include "../common/statedir.h"
#include "../common/text.h"
#include "../common/xmlread.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* Room for a file name under the state directory: store_open() refuses a
 * directory so long that its files would not fit. */
#define STORE_PATH (PATH_MAX + 512)

/* The state directory, set by store_open(). */
static char state[PATH_MAX - 512];

bool store_open(void)
{
    static const char *const subs[] = {"storage/run",       "storage/autostart",
                                       "domains/autostart", "domains/transient",
                                       "domains/reason",    "domains/save"};
    char path[STORE_PATH];
    if (!statedir_find(state, sizeof(state))) {
        verror("the state directory's path is too long (HVKIT_STATE_DIR)");
        return false;
    }
    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", state, subs[i]);
        if (!make_dirs(path)) {
            verror("cannot create state directory '%s': %s", path, strerror(errno));
            return false;
        }
    }
    /* The lock is held until the process ends: one command at a time. */
    snprintf(path, sizeof(path), "%s/lock", state);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 || flock(fd, LOCK_EX)) {
        verror("cannot lock '%s': %s", path, strerror(errno));
        return false;
    }
    return true;
}

/* The file of object `name` of a kind ("storage" or "domains"), in the
 * kind's folder or its subfolder `sub` ("", "run" or "autostart"). */
static void obj_path(char *out, size_t len, const char *kind, const char *sub, const char *name)
{
    snprintf(out, len, "%s/%s%s%s/%s.xml", state, kind, *sub ? "/" : "", sub, name);
}

static bool exists(const char *path)
{
    struct stat st;
    return !stat(path, &st);
}

/* Write a file through a temporary one and a rename, so a reader sees the
 * old file or the new one, never half of one. */
static bool write_file(const char *path, void (*print)(const void *obj, FILE *out), const void *obj)
{
    char tmp[STORE_PATH + 8];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        verror("cannot write '%s': %s", tmp, strerror(errno));
        return false;
    }
    print(obj, f);
    if (fclose(f) || rename(tmp, path)) {
        verror("cannot write '%s': %s", path, strerror(errno));
        unlink(tmp);
        return false;
    }
    return true;
}

/* Remove a file that may already be gone. */
static bool remove_file(const char *path)
{
    if (unlink(path) && errno != ENOENT) {
        verror("cannot remove '%s': %s", path, strerror(errno));
        return false;
    }
    return true;
}

bool store_path(char *out, size_t len, const char *rel, ...)
{
    char tail[PATH_MAX];
    va_list ap;
    va_start(ap, rel);
    int n = vsnprintf(tail, sizeof(tail), rel, ap);
    va_end(ap);
    if (n < (int)sizeof(tail) && snprintf(out, len, "%s/%s", state, tail) < (int)len)
        return true;
    verror("path too long under the state directory: %s", tail);
    return false;
}

bool store_mkdirs(const char *path)
{
    if (make_dirs(path))
        return true;
    verror("cannot create directory '%s': %s", path, strerror(errno));
    return false;
}

bool store_write(const char *path, void (*print)(const void *obj, FILE *out), const void *obj)
{
    return write_file(path, print, obj);
}

/* ---- Pools ---- */

/* Check and copy the fields of a <pool> element. */
static bool pool_from_xml(xmlNode *root, struct pool *out, char *why, size_t len)
{
    char type[16] = "", uuid[64] = "";
    if (!xml_attr(root, "type", type, sizeof(type)) || strcmp(type, "dir")) {
        snprintf(why, len,
                 "unsupported configuration: hvkit implements only 'dir' storage pools, not '%s'",
                 type);
        return false;
    }
    if (!xml_child_text(root, "name", out->name, sizeof(out->name)) || !out->name[0]) {
        snprintf(why, len, "XML error: missing pool source name element");
        return false;
    }
    if (!xml_child_text(xml_child(root, "target"), "path", out->target, sizeof(out->target)) ||
        !out->target[0]) {
        snprintf(why, len, "XML error: missing storage pool target path");
        return false;
    }
    if (strchr(out->name, '/')) {
        snprintf(why, len, "XML error: name %s cannot contain '/'", out->name);
        return false;
    }
    /* A definition without a UUID gets a new one, as in libvirt. */
    if (xml_child_text(root, "uuid", uuid, sizeof(uuid)) && uuid_valid(uuid))
        memcpy(out->uuid, uuid, sizeof(out->uuid));
    else
        uuid_new(out->uuid);
    return true;
}

bool store_parse_xml(const char *path, struct pool *out, char *why, size_t whylen)
{
    memset(out, 0, sizeof(*out));
    xmlDoc *doc = xml_read(path, "pool_definition", why, whylen);
    if (!doc)
        return false;
    xmlNode *root = xmlDocGetRootElement(doc);
    bool ok;
    if (!root || xmlStrcmp(root->name, BAD_CAST "pool")) {
        snprintf(why, whylen, "XML error: expecting root element of 'pool', not '%s'",
                 root ? (const char *)root->name : "");
        ok = false;
    } else {
        ok = pool_from_xml(root, out, why, whylen);
    }
    xmlFreeDoc(doc);
    return ok;
}

void store_print_def(const struct pool *p, FILE *out)
{
    fputs("<pool type='dir'>\n  <name>", out);
    xml_put(out, p->name);
    fprintf(out, "</name>\n  <uuid>%s</uuid>\n", p->uuid);
    fprintf(out,
            "  <capacity unit='bytes'>%llu</capacity>\n"
            "  <allocation unit='bytes'>%llu</allocation>\n"
            "  <available unit='bytes'>%llu</available>\n",
            (unsigned long long)p->capacity, (unsigned long long)p->allocation,
            (unsigned long long)p->available);
    fputs("  <source>\n  </source>\n  <target>\n    <path>", out);
    xml_put(out, p->target);
    fputs("</path>\n", out);
    if (p->have_perms) {
        fprintf(out,
                "    <permissions>\n      <mode>%04o</mode>\n      <owner>%u</owner>\n"
                "      <group>%u</group>\n    </permissions>\n",
                p->mode, p->uid, p->gid);
    }
    fputs("  </target>\n</pool>\n", out);
}

/* A stored pool definition: no run-time sizes, as libvirt's files. */
static void print_pool_def(const void *obj, FILE *out)
{
    struct pool def = *(const struct pool *)obj;
    def.capacity = def.allocation = def.available = 0;
    def.have_perms = false;
    store_print_def(&def, out);
}

/* Write a pool's definition into a folder, or remove it from there. */
static bool pool_mark(const struct pool *p, const char *sub, bool on)
{
    char path[STORE_PATH];
    obj_path(path, sizeof(path), "storage", sub, p->name);
    return on ? write_file(path, print_pool_def, p) : remove_file(path);
}

bool store_save(const struct pool *p)
{
    return pool_mark(p, "", true);
}

bool store_set_active(const struct pool *p, bool active)
{
    return pool_mark(p, "run", active);
}

bool store_set_autostart(const struct pool *p, bool on)
{
    return pool_mark(p, "autostart", on);
}

bool store_undefine(const struct pool *p)
{
    return pool_mark(p, "autostart", false) && pool_mark(p, "", false);
}

/* The object name of a NAME.xml file name, or false for other files. */
static bool file_to_name(const char *file, char *name, size_t len)
{
    size_t n = strlen(file);
    if (file[0] == '.' || n < 5 || n - 4 >= len || strcmp(file + n - 4, ".xml"))
        return false;
    snprintf(name, len, "%.*s", (int)(n - 4), file);
    return true;
}

/* Load the pool of file `file` in `sub`, with its state. */
static bool load_pool(const char *sub, const char *file, struct pool *out)
{
    char path[STORE_PATH], name[256], why[512];
    if (!file_to_name(file, name, sizeof(name)))
        return false;
    obj_path(path, sizeof(path), "storage", sub, name);
    if (!store_parse_xml(path, out, why, sizeof(why)))
        return false;
    obj_path(path, sizeof(path), "storage", "run", name);
    out->active = exists(path);
    obj_path(path, sizeof(path), "storage", "", name);
    out->persistent = exists(path);
    obj_path(path, sizeof(path), "storage", "autostart", name);
    out->autostart = exists(path);
    return true;
}

static int pool_by_name(const void *a, const void *b)
{
    return strcasecmp(((const struct pool *)a)->name, ((const struct pool *)b)->name);
}

/* Add the pools whose files are in `sub` and not yet in the list. */
static void scan_pools(const char *sub, struct pool **list, int *count)
{
    char dir[STORE_PATH];
    snprintf(dir, sizeof(dir), "%s/storage%s%s", state, *sub ? "/" : "", sub);
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        struct pool p;
        if (!load_pool(sub, e->d_name, &p))
            continue;
        bool seen = false;
        for (int i = 0; i < *count; i++)
            seen |= !strcmp((*list)[i].name, p.name);
        if (seen)
            continue;
        *list = realloc(*list, sizeof(**list) * (size_t)(*count + 1));
        if (!*list)
            abort();
        (*list)[(*count)++] = p;
    }
    if (d)
        closedir(d);
}

struct pool *store_list(int *count)
{
    struct pool *list = NULL;
    *count = 0;
    /* A started pool that was undefined lives only in run/ (a transient
     * pool, in libvirt's words), so both folders are read. */
    scan_pools("", &list, count);
    scan_pools("run", &list, count);
    if (*count)
        qsort(list, (size_t)*count, sizeof(*list), pool_by_name);
    return list;
}

bool store_find(const char *name_or_uuid, struct pool *out)
{
    int count;
    struct pool *list = store_list(&count);
    bool found = false;
    /* Names first, as virsh tries a name before a UUID. */
    for (int pass = 0; pass < 2 && !found; pass++) {
        for (int i = 0; i < count && !found; i++) {
            if (!strcmp(pass ? list[i].uuid : list[i].name, name_or_uuid)) {
                *out = list[i];
                found = true;
            }
        }
    }
    free(list);
    return found;
}

/* ---- Domains ---- */

static void print_dom_def(const void *obj, FILE *out)
{
    domxml_print(obj, out);
}

bool store_dom_save(const struct domain_def *d)
{
    char path[STORE_PATH];
    obj_path(path, sizeof(path), "domains", "", d->name);
    return write_file(path, print_dom_def, d);
}

bool store_dom_set_autostart(const struct domain_def *d, bool on)
{
    char path[STORE_PATH];
    obj_path(path, sizeof(path), "domains", "autostart", d->name);
    return on ? write_file(path, print_dom_def, d) : remove_file(path);
}

bool store_dom_undefine(const struct domain_def *d)
{
    char path[STORE_PATH];
    obj_path(path, sizeof(path), "domains", "", d->name);
    return store_dom_set_autostart(d, false) && remove_file(path);
}

static int dom_by_name(const void *a, const void *b)
{
    return strcasecmp(((const struct dom *)a)->def.name, ((const struct dom *)b)->def.name);
}

struct dom *store_dom_list(int *count)
{
    char dir[STORE_PATH], path[STORE_PATH], name[256], why[512];
    struct dom *list = NULL;
    *count = 0;
    snprintf(dir, sizeof(dir), "%s/domains", state);
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        if (!file_to_name(e->d_name, name, sizeof(name)))
            continue;
        list = realloc(list, sizeof(*list) * (size_t)(*count + 1));
        if (!list)
            abort();
        struct dom *dom = &list[*count];
        obj_path(path, sizeof(path), "domains", "", name);
        if (!domxml_parse_file(path, &dom->def, why, sizeof(why)))
            continue; /* a file someone broke by hand: skipped, as libvirtd does */
        obj_path(path, sizeof(path), "domains", "autostart", name);
        dom->autostart = exists(path);
        (*count)++;
    }
    if (d)
        closedir(d);
    if (*count)
        qsort(list, (size_t)*count, sizeof(*list), dom_by_name);
    return list;
}

bool store_dom_find(const char *name_or_uuid, struct dom *out)
{
    int count;
    struct dom *list = store_dom_list(&count);
    bool found = false;
    for (int pass = 0; pass < 2 && !found; pass++) {
        for (int i = 0; i < count && !found; i++) {
            if (!strcmp(pass ? list[i].def.uuid : list[i].def.name, name_or_uuid)) {
                *out = list[i];
                found = true;
            }
        }
    }
    free(list);
    return found;
}
