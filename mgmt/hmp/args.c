/*
 * A parsed command's arguments (args.h).  A handful of entries at most, so
 * a linear search is the simplest dictionary that works.
 */
#include "args.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The entry for `key`, made empty when new; NULL when the table is full,
 * which the parser cannot cause (no command has HMP_ARGS_MAX keys). */
static struct hmp_arg *slot(struct hmp_args *a, const char *key)
{
    for (int i = 0; i < a->n; i++)
        if (!strcmp(a->v[i].key, key))
            return &a->v[i];
    if (a->n == HMP_ARGS_MAX)
        return NULL;
    struct hmp_arg *e = &a->v[a->n++];
    memset(e, 0, sizeof(*e));
    snprintf(e->key, sizeof(e->key), "%s", key);
    return e;
}

void hmp_args_put_str(struct hmp_args *a, const char *key, const char *s)
{
    struct hmp_arg *e = slot(a, key);
    if (!e)
        return;
    free(e->str);
    e->str = strdup(s);
    e->is_str = true;
}

void hmp_args_put_num(struct hmp_args *a, const char *key, int64_t n)
{
    struct hmp_arg *e = slot(a, key);
    if (!e)
        return;
    e->num = n;
}

/* The entry for `key`, or NULL. */
static const struct hmp_arg *find(const struct hmp_args *a, const char *key)
{
    for (int i = 0; i < a->n; i++)
        if (!strcmp(a->v[i].key, key))
            return &a->v[i];
    return NULL;
}

const char *hmp_args_str(const struct hmp_args *a, const char *key)
{
    const struct hmp_arg *e = find(a, key);
    return e && e->is_str ? e->str : NULL;
}

bool hmp_args_has(const struct hmp_args *a, const char *key)
{
    return find(a, key) != NULL;
}

int64_t hmp_args_num(const struct hmp_args *a, const char *key, int64_t dflt)
{
    const struct hmp_arg *e = find(a, key);
    return e ? e->num : dflt;
}

void hmp_args_clear(struct hmp_args *a)
{
    for (int i = 0; i < a->n; i++)
        free(a->v[i].str);
    a->n = 0;
}
