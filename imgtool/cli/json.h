/*
 * JSON values printed byte for byte as QEMU 7.2 prints QObjects.
 *
 * qemu-img builds a QDict (qobject/qdict.c) and prints it with the pretty
 * JSONWriter (qobject/json-writer.c).  Two details decide the exact bytes:
 *  - a QDict is a 512-bucket hash table of tdb_hash(key), iterated bucket
 *    by bucket with the newest entry of a bucket first, so members come out
 *    in hash order, not in insertion order;
 *  - the writer indents by four spaces per level, ends lines with commas,
 *    and escapes strings to printable ASCII with \uXXXX.
 * This module keeps a small tree and reproduces both.
 */
#ifndef IMGTOOL_JSON_H
#define IMGTOOL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum jv_type { JV_OBJ, JV_LIST, JV_INT, JV_UINT, JV_BOOL, JV_STR };

struct jv {
    enum jv_type type;
    char *key;        /* member name when inside an object */
    struct jv *next;  /* next sibling */
    struct jv *first; /* children of an object or list */
    struct jv *last;
    int64_t i;
    uint64_t u;
    bool b;
    char *s;
};

struct jv *jv_obj(void);
struct jv *jv_list(void);
/* Add a member to an object (returns val) or an element to a list. */
struct jv *jv_set(struct jv *obj, const char *key, struct jv *val);
struct jv *jv_append(struct jv *list, struct jv *val);
struct jv *jv_int(int64_t v);
struct jv *jv_uint(uint64_t v);
struct jv *jv_bool(bool v);
struct jv *jv_str(const char *s);
void jv_free(struct jv *v);
/* Print as qobject_to_json_pretty() (pretty) or qobject_to_json(). */
void jv_print(FILE *out, const struct jv *v, bool pretty);
/* An object's members in QEMU's QDict iteration order (at most max);
 * returns how many.  Human output (info's format-specific part) also
 * walks dictionaries in this order. */
#define JV_MAX_MEMBERS 64
size_t jv_members_sorted(const struct jv *obj, const struct jv **m, size_t max);
/* Write a string with QEMU's escaping (also used by map's JSON lines). */
void json_quoted(FILE *out, const char *s);

#endif
