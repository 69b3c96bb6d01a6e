/*
 * "-o name=value,..." option lists, parsed as QEMU's QemuOpts does
 * (util/qemu-option.c): entries are separated by commas, a doubled comma
 * ",," stands for a literal comma inside a value, and a bare name is
 * shorthand for name=on.  Repeated -o arguments are joined with a comma
 * before parsing (qemu-img.c, accumulate_options()).
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

/* Copy a value up to an unescaped comma, undoing the ",," escape (QEMU's
 * get_opt_value()); returns the position of that comma or of the end. */
static const char *value_token(const char *p, char **out)
{
    char *buf = malloc(strlen(p) + 1);
    size_t n = 0;
    while (*p) {
        if (*p == ',') {
            if (p[1] != ',') {
                break;
            }
            p++; /* ",," is one literal comma */
        }
        buf[n++] = *p++;
    }
    buf[n] = 0;
    *out = buf;
    return p;
}

bool opts_is_help(const char *arg)
{
    /* qemu-img's has_help_option(): any whole comma-separated entry that
     * is "help" or "?", entries split as values are (",," does not split). */
    const char *p = arg;
    while (*p) {
        char *v;
        p = value_token(p, &v);
        bool help = !strcmp(v, "help") || !strcmp(v, "?");
        free(v);
        if (help) {
            return true;
        }
        if (*p) {
            p++;
        }
    }
    return false;
}

bool opts_append(char **acc, const char *arg)
{
    /* qemu-img.c is_valid_option_list(): not empty, no leading comma, and
     * not ending in an odd number of commas (a lone trailing comma would
     * escape the comma qemu-img puts between two -o arguments). */
    size_t len = strlen(arg), i = len;
    while (i > 0 && arg[i - 1] == ',') {
        i--;
    }
    if (!arg[0] || arg[0] == ',' || (len - i) % 2) {
        error_report("Invalid option list: %s", arg);
        return false;
    }
    if (!*acc) {
        *acc = strdup(arg);
        return *acc != NULL;
    }
    /* Repeated -o arguments are joined with a comma, so later ones win. */
    size_t a = strlen(*acc);
    char *n = realloc(*acc, a + len + 2);
    if (!n) {
        return false;
    }
    n[a] = ',';
    memcpy(n + a + 1, arg, len + 1);
    *acc = n;
    return true;
}

/* Store KEY=VALUE (taking both strings); a later entry of the same name
 * replaces an earlier one, since QEMU's qemu_opt_get() finds the last. */
static bool opts_store(struct opts *o, char *key, char *value)
{
    for (int i = 0; i < o->n; i++) {
        if (!strcmp(o->kv[i].key, key)) {
            free(o->kv[i].value);
            free(key);
            o->kv[i].value = value;
            return true;
        }
    }
    if (o->n == OPTS_MAX) {
        error_report("Too many options");
        free(key);
        free(value);
        return false;
    }
    o->kv[o->n].key = key;
    o->kv[o->n].value = value;
    o->n++;
    return true;
}

bool opts_parse(struct opts *o, const char *arg)
{
    /* QEMU's get_opt_name_value(): a name runs to the first '=' or ','
     * (names are not unescaped); "name=value" takes a value with ",,"
     * escapes; a bare "name" means name=on and a bare "noname" name=off. */
    const char *p = arg;
    while (*p) {
        size_t len = strcspn(p, "=,");
        char *key = strndup(p, len), *value;
        p += len;
        if (*p == '=') {
            p = value_token(p + 1, &value);
        } else if (!strncmp(key, "no", 2)) {
            memmove(key, key + 2, strlen(key + 2) + 1);
            value = strdup("off");
        } else {
            value = strdup("on");
        }
        if (*p == ',') {
            p++;
        }
        if (!opts_store(o, key, value)) {
            return false;
        }
    }
    return true;
}

bool opts_set(struct opts *o, const char *key, const char *value)
{
    for (int i = 0; i < o->n; i++) {
        if (!strcmp(o->kv[i].key, key)) {
            char *v = strdup(value);
            if (!v) {
                return false;
            }
            free(o->kv[i].value);
            o->kv[i].value = v;
            return true;
        }
    }
    if (o->n == OPTS_MAX) {
        error_report("Too many options");
        return false;
    }
    o->kv[o->n].key = strdup(key);
    o->kv[o->n].value = strdup(value);
    if (!o->kv[o->n].key || !o->kv[o->n].value) {
        free(o->kv[o->n].key);
        free(o->kv[o->n].value);
        return false;
    }
    o->n++;
    return true;
}

const char *opts_get(struct opts *o, const char *key)
{
    for (int i = 0; i < o->n; i++) {
        if (!strcmp(o->kv[i].key, key)) {
            return o->kv[i].value;
        }
    }
    return NULL;
}

bool opts_has(const struct opts *o, const char *key)
{
    for (int i = 0; i < o->n; i++) {
        if (!strcmp(o->kv[i].key, key)) {
            return true;
        }
    }
    return false;
}

void opts_free(struct opts *o)
{
    for (int i = 0; i < o->n; i++) {
        free(o->kv[i].key);
        free(o->kv[i].value);
    }
    o->n = 0;
}

void opts_del(struct opts *o, const char *key)
{
    for (int i = 0; i < o->n; i++) {
        if (!strcmp(o->kv[i].key, key)) {
            free(o->kv[i].key);
            free(o->kv[i].value);
            o->kv[i] = o->kv[--o->n];
            return;
        }
    }
}
