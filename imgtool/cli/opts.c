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

bool opts_is_help(const char *arg)
{
    /* qemu-img treats "help" or "?" anywhere in the list as a help request
     * (is_help_option() applied to each comma-separated entry). */
    const char *p = arg;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if ((n == 4 && !strncmp(p, "help", 4)) || (n == 1 && *p == '?')) {
            return true;
        }
        if (!e) {
            break;
        }
        p = e + 1;
    }
    return false;
}

char *opts_append(char *acc, const char *arg)
{
    if (!acc) {
        return strdup(arg);
    }
    size_t a = strlen(acc), b = strlen(arg);
    char *n = realloc(acc, a + b + 2);
    if (!n) {
        free(acc);
        return NULL;
    }
    n[a] = ',';
    memcpy(n + a + 1, arg, b + 1);
    return n;
}

/* Copy one token up to an unescaped comma (or, for names, '='), undoing
 * the ",," escape; returns the position after the token. */
static const char *token(const char *p, bool stop_at_eq, char **out)
{
    size_t cap = strlen(p) + 1, n = 0;
    char *buf = malloc(cap);
    while (*p) {
        if (*p == ',') {
            if (p[1] == ',') {
                buf[n++] = ',';
                p += 2;
                continue;
            }
            break;
        }
        if (stop_at_eq && *p == '=') {
            break;
        }
        buf[n++] = *p++;
    }
    buf[n] = 0;
    *out = buf;
    return p;
}

bool opts_parse(struct opts *o, const char *arg)
{
    const char *p = arg;
    while (*p) {
        char *key, *value = NULL;
        p = token(p, true, &key);
        if (*p == '=') {
            p = token(p + 1, false, &value);
        } else {
            /* A bare name means "on", like QemuOpts' implied boolean. */
            value = strdup("on");
        }
        if (*p == ',') {
            p++;
        }
        if (!*key) {
            free(key);
            free(value);
            continue;
        }
        /* A later entry overrides an earlier one of the same name. */
        int i;
        for (i = 0; i < o->n; i++) {
            if (!strcmp(o->kv[i].key, key)) {
                break;
            }
        }
        if (i < o->n) {
            free(o->kv[i].value);
            free(key);
            o->kv[i].value = value;
            continue;
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
