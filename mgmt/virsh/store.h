/*
 * Where definitions live between two virsh commands.
 *
 * libvirt keeps a persistent object's definition as XML in its daemon's
 * configuration directory (/etc/libvirt/storage/NAME.xml for a pool,
 * /etc/libvirt/qemu/NAME.xml for a domain), the state of a started pool
 * under /run, and autostart as a link.  hvkit's virsh has no daemon, so it
 * keeps the same things in files under one state directory,
 * $HVKIT_STATE_DIR, or $XDG_STATE_HOME/hvkit (by default
 * ~/.local/state/hvkit):
 *   storage/NAME.xml, domains/NAME.xml    a persistent definition;
 *   storage/run/NAME.xml                  present while the pool is started;
 *   KIND/autostart/NAME.xml               present when marked autostart.
 * Every command holds a lock on the directory from start to end, so two
 * front-ends run at once never see each other's half-done change, and files
 * are written under a temporary name and renamed into place, so one that
 * dies mid-write leaves the old file whole.
 */
#ifndef HVKIT_VIRSH_STORE_H
#define HVKIT_VIRSH_STORE_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../common/domxml.h"

struct pool {
    char name[256];
    char uuid[37];         /* 8-4-4-4-12 hex digits */
    char target[PATH_MAX]; /* the directory holding the volumes */
    bool active;           /* started: its volumes can be used */
    bool persistent;       /* has a definition that survives a destroy */
    bool autostart;
    /* Filled by pool_measure() for a started pool; zero in a definition. */
    uint64_t capacity, allocation, available;
    bool have_perms; /* the target directory's owner and mode are known */
    unsigned mode, uid, gid;
};

/* A defined domain as the store knows it. */
struct dom {
    struct domain_def def;
    bool autostart;
};

/* Take the state directory's lock, creating the directories if needed.
 * Prints an error and returns false when that fails. */
bool store_open(void);

/* A path under the state directory: `rel` is formatted like printf.
 * Returns false (after an error) when it does not fit. */
bool store_path(char *out, size_t len, const char *rel, ...) __attribute__((format(printf, 3, 4)));

/* Create a directory and its parents under the state directory. */
bool store_mkdirs(const char *path);

/* Replace a file whole: written aside, then renamed over the old one. */
bool store_write(const char *path, void (*print)(const void *obj, FILE *out), const void *obj);

/* ---- Pools ---- */

/* All pools, sorted by name as virsh sorts them; *count gets their number.
 * The array is the caller's to free. */
struct pool *store_list(int *count);

/* Find a pool by name or UUID, as virsh's lookups do. */
bool store_find(const char *name_or_uuid, struct pool *out);

/* Read a pool definition from an XML file; on failure the reason is in
 * `why` (libvirt's words). */
bool store_parse_xml(const char *path, struct pool *out, char *why, size_t whylen);

/* Write the pool's XML in libvirt's layout, with the sizes and the target's
 * permissions the struct holds (zeros and none in a stored definition). */
void store_print_def(const struct pool *p, FILE *out);

/* Save, start, stop, mark and forget a pool; each returns false after
 * printing an error. */
bool store_save(const struct pool *p);
bool store_set_active(const struct pool *p, bool active);
bool store_set_autostart(const struct pool *p, bool on);
bool store_undefine(const struct pool *p);

/* ---- Domains ---- */

/* All defined domains, sorted by name; the array is the caller's. */
struct dom *store_dom_list(int *count);

/* Find a domain by name or UUID. */
bool store_dom_find(const char *name_or_uuid, struct dom *out);

/* Save a definition (new or changed), mark autostart, forget it. */
bool store_dom_save(const struct domain_def *d);
bool store_dom_set_autostart(const struct domain_def *d, bool on);
bool store_dom_undefine(const struct domain_def *d);

#endif
