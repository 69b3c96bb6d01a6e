/*
 * Pool definitions on disk (the layout is described in store.h).
 */
#include "store.h"
#include "virsh.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

/* Room for a file name under the state directory: store_open() refuses a
 * directory so long that its files would not fit. */
#define STORE_PATH (PATH_MAX + 512)

/* The state directory's storage/ folder, set by store_open(). */
static char storage_dir[PATH_MAX];

/* mkdir -p for the few levels the store needs. */
static bool make_dirs(const char *path)
{
    char buf[STORE_PATH];
    if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
        return false;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) && errno != EEXIST)
            return false;
        *p = '/';
    }
    return !mkdir(buf, 0755) || errno == EEXIST;
}

/* The state directory, from the environment as store.h describes; false
 * when its name does not fit in `len`. */
static bool state_dir(char *out, size_t len)
{
    const char *dir = getenv("HVKIT_STATE_DIR");
    const char *xdg = getenv("XDG_STATE_HOME");
    const char *home = getenv("HOME");
    int n;
    if (dir && *dir) {
        n = snprintf(out, len, "%s", dir);
    } else if (xdg && *xdg) {
        n = snprintf(out, len, "%s/hvkit", xdg);
    } else {
        n = snprintf(out, len, "%s/.local/state/hvkit", home ? home : "");
    }
    return n < (int)len;
}

bool store_open(void)
{
    char dir[PATH_MAX - 512], sub[STORE_PATH];
    if (!state_dir(dir, sizeof(dir))) {
        verror("the state directory's path is too long (HVKIT_STATE_DIR)");
        return false;
    }
    snprintf(storage_dir, sizeof(storage_dir), "%s/storage", dir);
    const char *const subs[] = {"run", "autostart"};
    for (int i = 0; i < 2; i++) {
        snprintf(sub, sizeof(sub), "%s/%s", storage_dir, subs[i]);
        if (!make_dirs(sub)) {
            verror("cannot create state directory '%s': %s", sub, strerror(errno));
            return false;
        }
    }
    /* The lock is held until the process ends: one command at a time. */
    snprintf(sub, sizeof(sub), "%s/lock", dir);
    int fd = open(sub, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 || flock(fd, LOCK_EX)) {
        verror("cannot lock '%s': %s", sub, strerror(errno));
        return false;
    }
    return true;
}

/* The path of a pool's file in the storage folder or one of its subfolders. */
static void pool_path(char *out, size_t len, const char *sub, const char *name)
{
    snprintf(out, len, "%s%s%s/%s.xml", storage_dir, *sub ? "/" : "", sub, name);
}

static bool exists(const char *path)
{
    struct stat st;
    return !stat(path, &st);
}

/* The text of the first child element `name` of `node`, or NULL. */
static xmlChar *child_text(xmlNode *node, const char *name)
{
    for (xmlNode *c = node ? node->children : NULL; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE && !xmlStrcmp(c->name, BAD_CAST name))
            return xmlNodeGetContent(c);
    }
    return NULL;
}

static xmlNode *child(xmlNode *node, const char *name)
{
    for (xmlNode *c = node ? node->children : NULL; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE && !xmlStrcmp(c->name, BAD_CAST name))
            return c;
    }
    return NULL;
}

/* Check and copy the fields of a <pool> element; false after an error. */
static bool pool_from_xml(xmlNode *root, struct pool *out)
{
    xmlChar *type = xmlGetProp(root, BAD_CAST "type");
    bool dir = type && !xmlStrcmp(type, BAD_CAST "dir");
    if (!dir) {
        verror("unsupported configuration: hvkit implements only 'dir' storage pools, not '%s'",
               type ? (const char *)type : "");
        xmlFree(type);
        return false;
    }
    xmlFree(type);
    xmlChar *name = child_text(root, "name");
    xmlChar *uuid = child_text(root, "uuid");
    xmlChar *path = child_text(child(root, "target"), "path");
    bool ok = false;
    if (!name || !*name) {
        verror("XML error: missing pool source name element");
    } else if (!path || !*path) {
        verror("XML error: missing storage pool target path");
    } else if (strchr((const char *)name, '/')) {
        verror("XML error: name %s cannot contain '/'", name);
    } else {
        snprintf(out->name, sizeof(out->name), "%s", name);
        snprintf(out->target, sizeof(out->target), "%s", path);
        if (uuid && strlen((const char *)uuid) == 36)
            snprintf(out->uuid, sizeof(out->uuid), "%s", uuid);
        else
            store_new_uuid(out->uuid);
        ok = true;
    }
    xmlFree(name);
    xmlFree(uuid);
    xmlFree(path);
    return ok;
}

bool store_parse_xml(const char *path, struct pool *out)
{
    memset(out, 0, sizeof(*out));
    xmlDoc *doc =
        xmlReadFile(path, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc) {
        const xmlError *e = xmlGetLastError();
        verror("XML error: %s: %s", path, e && e->message ? e->message : "not well-formed");
        return false;
    }
    xmlNode *root = xmlDocGetRootElement(doc);
    bool ok;
    if (!root || xmlStrcmp(root->name, BAD_CAST "pool")) {
        verror("XML error: unexpected root element <%s>, expecting <pool>",
               root ? (const char *)root->name : "");
        ok = false;
    } else {
        ok = pool_from_xml(root, out);
    }
    xmlFreeDoc(doc);
    return ok;
}

/* Write text with XML's five special characters escaped. */
static void put_escaped(FILE *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '&':
            fputs("&amp;", out);
            break;
        case '\'':
            fputs("&apos;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        default:
            fputc(*s, out);
        }
    }
}

void store_print_def(const struct pool *p, FILE *out)
{
    fputs("<pool type='dir'>\n  <name>", out);
    put_escaped(out, p->name);
    fprintf(out, "</name>\n  <uuid>%s</uuid>\n", p->uuid);
    fprintf(out,
            "  <capacity unit='bytes'>%llu</capacity>\n"
            "  <allocation unit='bytes'>%llu</allocation>\n"
            "  <available unit='bytes'>%llu</available>\n",
            (unsigned long long)p->capacity, (unsigned long long)p->allocation,
            (unsigned long long)p->available);
    fputs("  <source>\n  </source>\n  <target>\n    <path>", out);
    put_escaped(out, p->target);
    fputs("</path>\n", out);
    if (p->have_perms) {
        fprintf(out,
                "    <permissions>\n      <mode>%04o</mode>\n      <owner>%u</owner>\n"
                "      <group>%u</group>\n    </permissions>\n",
                p->mode, p->uid, p->gid);
    }
    fputs("  </target>\n</pool>\n", out);
}

/* Write a pool's definition to `path` through a temporary file and a rename,
 * so a reader sees the old file or the new one, never half of one. */
static bool write_def(const struct pool *p, const char *path)
{
    char tmp[STORE_PATH + 8];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        verror("cannot write '%s': %s", tmp, strerror(errno));
        return false;
    }
    /* A stored definition has no run-time sizes, as libvirt's files. */
    struct pool def = *p;
    def.capacity = def.allocation = def.available = 0;
    def.have_perms = false;
    store_print_def(&def, f);
    if (fclose(f) || rename(tmp, path)) {
        verror("cannot write '%s': %s", path, strerror(errno));
        unlink(tmp);
        return false;
    }
    return true;
}

bool store_save(const struct pool *p)
{
    char path[STORE_PATH];
    pool_path(path, sizeof(path), "", p->name);
    return write_def(p, path);
}

bool store_set_active(const struct pool *p, bool active)
{
    char path[STORE_PATH];
    pool_path(path, sizeof(path), "run", p->name);
    if (active)
        return write_def(p, path);
    if (unlink(path) && errno != ENOENT) {
        verror("cannot remove '%s': %s", path, strerror(errno));
        return false;
    }
    return true;
}

bool store_set_autostart(const struct pool *p, bool on)
{
    char path[STORE_PATH];
    pool_path(path, sizeof(path), "autostart", p->name);
    if (on)
        return write_def(p, path);
    if (unlink(path) && errno != ENOENT) {
        verror("cannot remove '%s': %s", path, strerror(errno));
        return false;
    }
    return true;
}

bool store_undefine(const struct pool *p)
{
    char path[STORE_PATH];
    if (!store_set_autostart(p, false))
        return false;
    pool_path(path, sizeof(path), "", p->name);
    if (unlink(path)) {
        verror("cannot remove '%s': %s", path, strerror(errno));
        return false;
    }
    return true;
}

/* Load the pool named by file `name` (NAME.xml) in `sub`, with its state. */
static bool load(const char *sub, const char *file, struct pool *out)
{
    char path[STORE_PATH], name[256];
    size_t len = strlen(file);
    if (len < 5 || len - 4 >= sizeof(name) || strcmp(file + len - 4, ".xml"))
        return false;
    snprintf(name, sizeof(name), "%.*s", (int)(len - 4), file);
    pool_path(path, sizeof(path), sub, name);
    if (!store_parse_xml(path, out))
        return false;
    pool_path(path, sizeof(path), "run", name);
    out->active = exists(path);
    pool_path(path, sizeof(path), "", name);
    out->persistent = exists(path);
    pool_path(path, sizeof(path), "autostart", name);
    out->autostart = exists(path);
    return true;
}

static int by_name(const void *a, const void *b)
{
    return strcasecmp(((const struct pool *)a)->name, ((const struct pool *)b)->name);
}

/* Add the pools whose files are in `sub` and not yet in the list. */
static void scan(const char *sub, struct pool **list, int *count)
{
    char dir[STORE_PATH];
    snprintf(dir, sizeof(dir), "%s%s%s", storage_dir, *sub ? "/" : "", sub);
    DIR *d = opendir(dir);
    if (!d)
        return;
    for (struct dirent *e; (e = readdir(d));) {
        struct pool p;
        if (e->d_name[0] == '.' || !load(sub, e->d_name, &p))
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
    closedir(d);
}

struct pool *store_list(int *count)
{
    struct pool *list = NULL;
    *count = 0;
    /* A started pool that was undefined lives only in run/ (a transient
     * pool, in libvirt's words), so both folders are read. */
    scan("", &list, count);
    scan("run", &list, count);
    if (*count)
        qsort(list, (size_t)*count, sizeof(*list), by_name);
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
            const char *key = pass ? list[i].uuid : list[i].name;
            if (!strcmp(key, name_or_uuid)) {
                *out = list[i];
                found = true;
            }
        }
    }
    free(list);
    return found;
}

void store_new_uuid(char out[37])
{
    unsigned char b[16] = {0};
    FILE *f = fopen("/dev/urandom", "rb");
    if (!f || fread(b, 1, sizeof(b), f) != sizeof(b))
        abort(); /* no randomness on a Linux host: nothing sensible to do */
    fclose(f);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4: random */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* the RFC 4122 variant */
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}
