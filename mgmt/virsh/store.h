/*
 * Where storage pools live between two virsh commands.
 *
 * libvirt keeps a persistent pool's definition as XML in a configuration
 * directory (/etc/libvirt/storage/NAME.xml for the system instance), the
 * state of a started pool under /run, and autostart as a link.  hvkit has no
 * daemon, so virsh keeps the same three things in files under one state
 * directory, $HVKIT_STATE_DIR, or $XDG_STATE_HOME/hvkit (by default
 * ~/.local/state/hvkit):
 *   storage/NAME.xml            the definition of a persistent pool;
 *   storage/run/NAME.xml        present while the pool is started (active);
 *   storage/autostart/NAME.xml  present when the pool is marked autostart.
 * Every command holds a lock on the directory from start to end, so two
 * front-ends run at once never see each other's half-done change, and files
 * are written under a temporary name and renamed into place, so one that
 * dies mid-write leaves the old file whole.
 */
#ifndef HVKIT_VIRSH_STORE_H
#define HVKIT_VIRSH_STORE_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>

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

/* Take the state directory's lock, creating the directory if needed.
 * Prints libvirt-style errors and returns false when that fails. */
bool store_open(void);

/* All pools, sorted by name as virsh sorts them; *count gets their number.
 * The array is the caller's to free. */
struct pool *store_list(int *count);

/* Find a pool by name or UUID, as virsh's lookups do. */
bool store_find(const char *name_or_uuid, struct pool *out);

/* Read a pool definition from an XML file (pool-define, and the store's
 * own files).  On failure prints why (naming `path`) and returns false. */
bool store_parse_xml(const char *path, struct pool *out);

/* Write the pool's XML in libvirt's layout, with the sizes and the target's
 * permissions the struct holds (zeros and none in a stored definition). */
void store_print_def(const struct pool *p, FILE *out);

/* Save, start, stop, mark and forget a pool; each returns false after
 * printing an error. */
bool store_save(const struct pool *p);
bool store_set_active(const struct pool *p, bool active);
bool store_set_autostart(const struct pool *p, bool on);
bool store_undefine(const struct pool *p);

/* A fresh random (version 4) UUID in its text form. */
void store_new_uuid(char out[37]);

#endif
